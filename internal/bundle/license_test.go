package bundle

import (
	"qemupack/internal/stepcache"

	"archive/tar"
	stdzip "archive/zip"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// The deps step's layout: per-library prefixes with .qemupack-dep.json,
// merged by hard links into a stack prefix with stack.json; the source
// tarball in <cache>/sources/<sha256>/. With no share/licenses installed,
// the licence comes out of the tarball.
func TestLicenceFromDepsStackTarball(t *testing.T) {
	w := newWorld(t)
	cache := t.TempDir()
	// The source tarball.
	tb := filepath.Join(t.TempDir(), "testlibs-1.tar.gz")
	f, _ := os.Create(tb)
	gz := gzip.NewWriter(f)
	tw := tar.NewWriter(gz)
	for name, body := range map[string]string{
		"testlibs-1/COPYING":          "top licence",
		"testlibs-1/src/LICENSE.txt":  "src licence",
		"testlibs-1/tests/COPYING":    "test fixture, not a licence of the library",
		"testlibs-1/LICENSES/MIT.txt": "reuse licence",
		"testlibs-1/main.c":           "int main;",
		"testlibs-1/a/b/c/d/COPYING":  "too deep",
	} {
		tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(body)), Typeflag: tar.TypeReg})
		tw.Write([]byte(body))
	}
	tw.Close()
	gz.Close()
	f.Close()
	b, _ := os.ReadFile(tb)
	sum := sha256.Sum256(b)
	sha := hex.EncodeToString(sum[:])
	copyFile(t, tb, filepath.Join(cache, "sources", sha, "testlibs-1.tar.gz"))

	lib := filepath.Join(cache, "deps", "testlibs-1-abc")
	stack := filepath.Join(cache, "deps", "stack-def")
	for _, n := range []string{"liba.dll", "libb.dll", "libc3.dll", "libd.dll"} {
		copyFile(t, filepath.Join(w.deps, "bin", n), filepath.Join(lib, "bin", n))
		os.MkdirAll(filepath.Join(stack, "bin"), 0o755)
		if err := os.Link(filepath.Join(lib, "bin", n), filepath.Join(stack, "bin", n)); err != nil {
			t.Fatal(err)
		}
	}
	// (A tarball with an escaping entry is refused whole: the one extractor
	// is tested for that in internal/source.)
	dep, _ := json.Marshal(map[string]string{"name": "testlibs", "version": "1", "source": "testlibs-1.tar.gz", "sha256": sha})
	os.WriteFile(filepath.Join(lib, ".qemupack-dep.json"), dep, 0o644)
	st, _ := json.Marshal(map[string]any{"libs": []map[string]string{{"name": "testlibs", "prefix": lib}}})
	os.WriteFile(filepath.Join(stack, "stack.json"), st, 0o644)

	in := w.input(t, t.TempDir())
	in.Search = append([]SearchDir{{Path: filepath.Join(stack, "bin"), Override: true}}, in.Search[1:]...)
	in.Cache = &stepcache.Cache{Root: t.TempDir()}
	res, err := Bundle(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	zr, err := stdzip.OpenReader(res.Archive.Path)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	got := map[string]bool{}
	for _, f := range zr.File {
		got[f.Name] = true
	}
	top := "qemu-0.1.0-test-win64/LICENSES/testlibs/"
	for _, n := range []string{"COPYING", "src/LICENSE.txt", "LICENSES/MIT.txt"} {
		if !got[top+n] {
			t.Errorf("archive lacks %s", top+n)
		}
	}
	rc, _ := zr.Open(top + "COPYING")
	body := make([]byte, 100)
	n, _ := rc.Read(body)
	rc.Close()
	if string(body[:n]) != "top licence" {
		t.Errorf("COPYING holds %q", body[:n])
	}
	for _, n := range []string{"tests/COPYING", "a/b/c/d/COPYING", "main.c"} {
		if got[top+n] {
			t.Errorf("archive carries %s", top+n)
		}
	}
	// Without the tarball (and no share/licenses), the bundle fails closed.
	os.RemoveAll(filepath.Join(cache, "sources"))
	in.Cache = &stepcache.Cache{Root: t.TempDir()}
	if _, err := Bundle(context.Background(), in); err == nil {
		t.Error("bundled DLLs with no licence")
	}
}
