//go:build !windows

package bundle

import (
	stdzip "archive/zip"
	"bufio"
	"context"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"qemupack/internal/checksum"
	"qemupack/internal/pe/petest"
	"qemupack/internal/stepcache"
)

const helperEnv = "BUNDLE_KILL_HELPER" // <stage>,<deps>,<cache>,<dist>

// killInput is the input both the killed run and the rerun bundle: the
// tiny programs plus a large incompressible data file, so writing the zip
// takes long enough to be killed in the middle.
func killInput(t *testing.T, stage, deps, cache, dist string) Input {
	fx := petest.Build(t)
	w := world{stage: stage, deps: deps, fx: fx, search: petest.Search(t, fx.Cross, deps)}
	in := w.input(t, dist)
	in.Targets = nil
	in.Cache = &stepcache.Cache{Root: cache}
	in.Log = func(s string) { os.Stdout.WriteString(s + "\n") }
	return in
}

func TestHelperBundle(t *testing.T) {
	spec := os.Getenv(helperEnv)
	if spec == "" {
		t.Skip("helper for TestKilledBundleIsNotReused")
	}
	p := strings.Split(spec, ",")
	if _, err := Bundle(context.Background(), killInput(t, p[0], p[1], p[2], p[3])); err != nil {
		t.Fatal(err)
	}
}

// A bundle killed with SIGKILL while it writes the zip leaves neither a
// half archive in dist/ nor a cache entry a rerun would take; the rerun
// writes a whole archive and its line in SHA256SUMS.
func TestKilledBundleIsNotReused(t *testing.T) {
	w := newWorld(t)
	blob := make([]byte, 96<<20)
	rand.New(rand.NewSource(7)).Read(blob)
	os.MkdirAll(filepath.Join(w.stage, "share"), 0o755)
	if err := os.WriteFile(filepath.Join(w.stage, "share", "big.bin"), blob, 0o644); err != nil {
		t.Fatal(err)
	}
	cache, dist := t.TempDir(), t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperBundle$", "-test.v")
	cmd.Env = append(os.Environ(), helperEnv+"="+strings.Join([]string{w.stage, w.deps, cache, dist}, ","))
	out, _ := cmd.StdoutPipe()
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(out)
	killed := false
	for sc.Scan() {
		if strings.Contains(sc.Text(), "bundle: writing") {
			// Kill it once the zip is being written (a file of over 1 MB
			// in the cache), not after a guessed pause: a fast machine
			// finished the 96 MB archive within 500 ms.
			for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline) && !bigFileIn(cache, 1<<20); {
				time.Sleep(2 * time.Millisecond)
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
		t.Fatal("the bundle ended before it could be killed")
	}
	if got := distFiles(t, dist); len(got) != 0 {
		t.Fatalf("a killed bundle left %v in dist/", got)
	}
	if es, _ := filepath.Glob(filepath.Join(cache, ArchiveKind, "qemu-*")); len(es) != 0 {
		t.Fatalf("a killed bundle left a cache entry: %v", es)
	}
	res, err := Bundle(context.Background(), killInput(t, w.stage, w.deps, cache, dist))
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		for _, e := range res.Entries {
			e.Release()
		}
	}()
	if res.Skipped {
		t.Fatal("the rerun took the killed run's work for finished")
	}
	zr, err := stdzip.OpenReader(res.Archive.Path)
	if err != nil {
		t.Fatalf("the rerun's archive does not open: %v", err)
	}
	zr.Close()
	sums, _ := os.ReadFile(filepath.Join(dist, checksum.SumsFile))
	if got := checksum.Parse(sums)[filepath.Base(res.Archive.Path)]; got != res.Archive.SHA256 {
		t.Fatalf("SHA256SUMS says %q for the archive, it is %s", got, res.Archive.SHA256)
	}
	if got := distFiles(t, dist); len(got) != 2 {
		t.Errorf("dist holds %v", got)
	}
	if left, _ := filepath.Glob(filepath.Join(cache, ArchiveKind, ".tmp", "*")); len(left) != 0 {
		t.Errorf("the killed run's temp folder survived the rerun: %v", left)
	}
}

// bigFileIn says whether a regular file of more than n bytes is below dir.
func bigFileIn(dir string, n int64) bool {
	found := false
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			if fi, err := d.Info(); err == nil && fi.Size() > n {
				found = true
				return filepath.SkipAll
			}
		}
		return nil
	})
	return found
}
