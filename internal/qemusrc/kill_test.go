//go:build !windows

package qemusrc

import (
	"archive/tar"
	"bufio"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"qemupack/internal/catalog"
)

// TestMain lets the test binary prepare a tree as another process would
// (QEMUSRC_PREPARE=<cache>,<mirror>,<sha256>), to be killed halfway.
func TestMain(m *testing.M) {
	if spec := os.Getenv("QEMUSRC_PREPARE"); spec != "" {
		p := strings.Split(spec, ",")
		_, err := Prepare(context.Background(), Request{
			Release:  catalog.Release{Version: "9.9.2", URL: "https://download.qemu.org/qemu-9.9.2.tar.gz", SHA256: p[2]},
			CacheDir: p[0], Mirror: p[1], Offline: true, NoDebian: true,
			Progress: func(s string) { fmt.Println(s) },
		})
		if err != nil {
			fmt.Println("error:", err)
			os.Exit(3)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// bigRelease is tinyRelease with a large incompressible file, so unpacking
// takes long enough to be killed in the middle.
func bigRelease(t *testing.T, dir, version string) string {
	t.Helper()
	name := filepath.Join(dir, "qemu-"+version+".tar.gz")
	f, err := os.Create(name)
	if err != nil {
		t.Fatal(err)
	}
	h := sha256.New()
	gz := gzip.NewWriter(io2(f, h))
	tw := tar.NewWriter(gz)
	add := func(n string, body []byte) {
		tw.WriteHeader(&tar.Header{Name: "qemu-" + version + "/" + n, Mode: 0o755, Size: int64(len(body)), Typeflag: tar.TypeReg})
		tw.Write(body)
	}
	add("VERSION", []byte(version+"\n"))
	add("configure", []byte("#!/bin/sh\n"))
	r := rand.New(rand.NewSource(1))
	for i := 0; i < 40; i++ {
		blob := make([]byte, 4<<20)
		r.Read(blob)
		add(fmt.Sprintf("blobs/b%02d.bin", i), blob)
	}
	tw.Close()
	gz.Close()
	f.Close()
	return hex.EncodeToString(h.Sum(nil))
}

// A run killed with SIGKILL while it unpacks leaves nothing a rerun would
// take for a finished tree; the rerun makes the tree whole.
func TestKilledPreparationIsNotReused(t *testing.T) {
	mirror, cache := t.TempDir(), t.TempDir()
	sum := bigRelease(t, mirror, "9.9.2")
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "QEMUSRC_PREPARE="+cache+","+mirror+","+sum)
	out, _ := cmd.StdoutPipe()
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(out)
	killed := false
	for sc.Scan() {
		if strings.Contains(sc.Text(), "unpacking") {
			// Kill once the first big files are out, whatever the
			// machine's speed: in the middle of the unpacking.
			deadline := time.Now().Add(time.Minute)
			for time.Now().Before(deadline) {
				// The extractor's temp folder beside its destination.
				if m, _ := filepath.Glob(filepath.Join(cache, Kind, ".tmp", "*", ".x.part-*", "qemu-9.9.2", "blobs", "b02.bin")); len(m) > 0 {
					break
				}
				time.Sleep(5 * time.Millisecond)
			}
			cmd.Process.Signal(syscall.SIGKILL)
			killed = true
			break
		}
	}
	go func() {
		for sc.Scan() {
		}
	}()
	cmd.Wait()
	if !killed {
		t.Fatal("the preparing process ended before it could be killed")
	}
	if trees, _ := filepath.Glob(filepath.Join(cache, Kind, "qemu-*")); len(trees) != 0 {
		t.Fatalf("a killed preparation left a tree: %v", trees)
	}
	tr, err := Prepare(context.Background(), Request{
		Release:  catalog.Release{Version: "9.9.2", URL: "https://download.qemu.org/qemu-9.9.2.tar.gz", SHA256: sum},
		CacheDir: cache, Mirror: mirror, Offline: true, NoDebian: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Entry.Release()
	if tr.Entry.Hit {
		t.Fatal("the rerun reused something the killed run made")
	}
	for i := 0; i < 40; i++ {
		if fi, err := os.Stat(filepath.Join(tr.Dir, "blobs", fmt.Sprintf("b%02d.bin", i))); err != nil || fi.Size() != 4<<20 {
			t.Fatalf("the rerun's tree is not whole: b%02d.bin %v", i, err)
		}
	}
	if left := sourceTrees(t, cache); len(left) != 1 {
		t.Errorf("after the rerun the cache holds %v", left)
	}
}

// io2 writes to both w and h.
func io2(w, h io.Writer) io.Writer { return io.MultiWriter(w, h) }
