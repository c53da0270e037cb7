package qemusrc

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"qemupack/internal/catalog"
)

// tinyRelease writes a small real tarball laid out like a QEMU release
// (qemu-<v>/VERSION, configure, a C file) into dir and returns its sha256.
func tinyRelease(t *testing.T, dir, version string) string {
	t.Helper()
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	files := map[string]string{
		"VERSION":      version + "\n",
		"configure":    "#!/bin/sh\necho configure\n",
		"util/osdep.c": "int qemu_answer(void)\n{\n    return 41;\n}\n",
	}
	for _, name := range []string{"VERSION", "configure", "util/osdep.c"} {
		body := files[name]
		hdr := &tar.Header{Name: "qemu-" + version + "/" + name, Mode: 0o755, Size: int64(len(body)), Typeflag: tar.TypeReg}
		if err := tw.WriteHeader(hdr); err != nil {
			t.Fatal(err)
		}
		tw.Write([]byte(body))
	}
	tw.Close()
	gz.Close()
	name := filepath.Join(dir, "qemu-"+version+".tar.gz")
	if err := os.WriteFile(name, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(buf.Bytes())
	return hex.EncodeToString(sum[:])
}

const goodPatch = `--- a/util/osdep.c
+++ b/util/osdep.c
@@ -1,4 +1,4 @@
 int qemu_answer(void)
 {
-    return 41;
+    return 42;
 }
`

const stalePatch = `--- a/util/osdep.c
+++ b/util/osdep.c
@@ -1,4 +1,4 @@
 int qemu_answer(void)
 {
-    return 40;
+    return 43;
 }
`

func needPatch(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("patch"); err != nil {
		t.Fatal("these tests need GNU patch (Debian package: patch)")
	}
}

// sourceTrees lists what is in the cache's tree folder, finished or being
// made (lock files aside).
func sourceTrees(t *testing.T, cache string) []string {
	var out []string
	for _, dir := range []string{filepath.Join(cache, Kind), filepath.Join(cache, Kind, ".tmp"), filepath.Join(cache, Kind, ".work")} {
		ents, _ := os.ReadDir(dir)
		for _, e := range ents {
			if !strings.HasPrefix(e.Name(), ".") {
				out = append(out, e.Name())
			}
		}
	}
	return out
}

// Four runs preparing the same tree at once, many rounds: every run gets
// the tree, and no tree a run holds is deleted or replaced under it.
func TestConcurrentPreparationsShareOneTree(t *testing.T) {
	needPatch(t)
	mirror, root := t.TempDir(), t.TempDir()
	sum := tinyRelease(t, mirror, "9.9.1")
	for round := 0; round < 10; round++ {
		cache := t.TempDir()
		var wg sync.WaitGroup
		errs := make(chan error, 4)
		for i := 0; i < 4; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				tr, err := Prepare(context.Background(), Request{
					Release:  catalog.Release{Version: "9.9.1", URL: "https://download.qemu.org/qemu-9.9.1.tar.gz", SHA256: sum},
					CacheDir: cache, Mirror: mirror, Offline: true, NoDebian: true, PatchRoot: root,
				})
				if err != nil {
					errs <- err
					return
				}
				defer tr.Entry.Release()
				// While held, the tree stays as it was handed over.
				before, err := os.Stat(filepath.Join(tr.Dir, "configure"))
				if err != nil {
					errs <- err
					return
				}
				time.Sleep(20 * time.Millisecond)
				after, err := os.Stat(filepath.Join(tr.Dir, "configure"))
				if err != nil || !os.SameFile(before, after) {
					errs <- fmt.Errorf("the tree handed over was replaced while held: %v", err)
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatalf("round %d: %v", round, err)
		}
		if got := sourceTrees(t, cache); len(got) != 1 {
			t.Fatalf("round %d: trees %v, want exactly one", round, got)
		}
	}
}

func TestUpstreamTarballWithOurPatches(t *testing.T) {
	needPatch(t)
	mirror, cache, root := t.TempDir(), t.TempDir(), t.TempDir()
	sum := tinyRelease(t, mirror, "9.9.1")
	os.MkdirAll(filepath.Join(root, "9.9.1"), 0o755)
	os.WriteFile(filepath.Join(root, "9.9.1", "0001-answer.patch"), []byte(goodPatch), 0o644)
	req := Request{
		Release:   catalog.Release{Version: "9.9.1", URL: "https://download.qemu.org/qemu-9.9.1.tar.gz", SHA256: sum},
		CacheDir:  cache,
		Mirror:    mirror,
		Offline:   true,
		NoDebian:  true,
		PatchRoot: root,
	}
	tr, err := Prepare(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	if tr.Version != "9.9.1" || tr.Flavor != FlavorUpstream || len(tr.Patches) != 1 || tr.Patches[0] != "0001-answer.patch" {
		t.Errorf("tree = %+v", tr)
	}
	c, _ := os.ReadFile(filepath.Join(tr.Dir, "util", "osdep.c"))
	if !strings.Contains(string(c), "return 42;") {
		t.Errorf("patch not applied:\n%s", c)
	}
	// A second run reuses the finished tree.
	var said []string
	req.Progress = func(s string) { said = append(said, s) }
	tr2, err := Prepare(context.Background(), req)
	if err != nil || tr2.Dir != tr.Dir || tr2.Key != tr.Key {
		t.Fatalf("second run: %+v, %v", tr2, err)
	}
	if !strings.Contains(strings.Join(said, "\n"), "reusing") {
		t.Errorf("second run did not reuse the tree: %q", said)
	}
}

func TestPatchThatDoesNotApplyStopsNamingIt(t *testing.T) {
	needPatch(t)
	mirror, cache, root := t.TempDir(), t.TempDir(), t.TempDir()
	sum := tinyRelease(t, mirror, "9.9.1")
	os.MkdirAll(filepath.Join(root, "9.9.1"), 0o755)
	os.WriteFile(filepath.Join(root, "9.9.1", "0001-answer.patch"), []byte(goodPatch), 0o644)
	os.WriteFile(filepath.Join(root, "9.9.1", "0002-stale.patch"), []byte(stalePatch), 0o644)
	_, err := Prepare(context.Background(), Request{
		Release:  catalog.Release{Version: "9.9.1", URL: "https://download.qemu.org/qemu-9.9.1.tar.gz", SHA256: sum},
		CacheDir: cache, Mirror: mirror, Offline: true, NoDebian: true, PatchRoot: root,
	})
	if err == nil {
		t.Fatal("a stale patch was accepted")
	}
	if !strings.Contains(err.Error(), "0002-stale.patch") || !strings.Contains(err.Error(), "does not apply") {
		t.Errorf("error does not name the patch: %v", err)
	}
	if strings.Contains(err.Error(), "0001-answer.patch") {
		t.Errorf("error blames the good patch: %v", err)
	}
	if !isPatchError(err) {
		t.Errorf("error is not a patch error: %T", err)
	}
	if got := sourceTrees(t, cache); len(got) != 0 {
		t.Errorf("a failed run left %v in the cache", got)
	}
}

func TestCorruptTarballIsRefusedAndNothingExtracted(t *testing.T) {
	mirror, cache := t.TempDir(), t.TempDir()
	sum := tinyRelease(t, mirror, "9.9.1")
	// Damage the tarball after its sum was pinned.
	p := filepath.Join(mirror, "qemu-9.9.1.tar.gz")
	b, _ := os.ReadFile(p)
	b[len(b)/2] ^= 0xff
	os.WriteFile(p, b, 0o644)
	_, err := Prepare(context.Background(), Request{
		Release:  catalog.Release{Version: "9.9.1", URL: "https://download.qemu.org/qemu-9.9.1.tar.gz", SHA256: sum},
		CacheDir: cache, Mirror: mirror, Offline: true, NoDebian: true,
	})
	if err == nil {
		t.Fatal("a damaged tarball was accepted")
	}
	for _, want := range []string{"sha256 mismatch", "qemu-9.9.1.tar.gz", sum, "QEMUPACK_MIRROR"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q: %v", want, err)
		}
	}
	if got := sourceTrees(t, cache); len(got) != 0 {
		t.Errorf("a refused tarball left %v in the cache", got)
	}
}

func TestNoPinnedSumAndNoDebianIsAClearError(t *testing.T) {
	_, err := Prepare(context.Background(), Request{
		Release:  catalog.Release{Version: "9.9.1"},
		CacheDir: t.TempDir(), Offline: true, NoDebian: true,
	})
	if err == nil || !strings.Contains(err.Error(), "pins no sha256") || !strings.Contains(err.Error(), "qemu-9.9.1.tar.xz") {
		t.Fatalf("got %v", err)
	}
}
