package deps

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"qemupack/internal/checksum"
	"qemupack/internal/config"
	"qemupack/internal/host"
	"qemupack/internal/recipe"
	"qemupack/internal/source"
)

// The end-to-end tests build real recipes (libffi, pcre2) from their real
// tarballs. Tests make no network traffic, so the tarballs come from a
// folder filled beforehand (CI: .ci/run) with
//
//	mkdir -p DIR && cd DIR && apt-get source --download-only libffi pcre2
//
// and named by QEMUPACK_TEST_MIRROR.
const mirrorEnv = "QEMUPACK_TEST_MIRROR"

func testMirror(t testing.TB) string {
	t.Helper()
	dir := os.Getenv(mirrorEnv)
	how := "run `go run mage.go test` once (it fills .cache/test-mirror), or fill a folder with `apt-get source --download-only libffi pcre2` (Debian 12, deb-src enabled) and set " + mirrorEnv + " to it"
	if def := filepath.Join("..", "..", ".cache", "test-mirror"); dir == "" {
		if abs, err := filepath.Abs(def); err == nil {
			if _, err := os.Stat(abs); err == nil {
				dir = abs // where `go run mage.go test` put them
			}
		}
	}
	if dir == "" {
		t.Fatalf("%s is not set: %s", mirrorEnv, how)
	}
	for _, f := range []string{"libffi_3.4.4.orig.tar.gz", "pcre2_10.42.orig.tar.gz"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Fatalf("%s=%s lacks %s: %s", mirrorEnv, dir, f, how)
		}
	}
	return dir
}

func probe(t testing.TB) Toolchain {
	t.Helper()
	cfg, err := config.FromEnv(t.TempDir(), func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	rep, err := host.Probe(context.Background(), cfg, host.Options{})
	if err != nil {
		t.Fatal(err)
	}
	tc, err := ToolchainFrom(rep)
	if err != nil {
		t.Fatalf("%v (`go run mage.go test` installs these as root)", err)
	}
	return tc
}

func realRecipes(t testing.TB, names ...string) []recipe.Recipe {
	t.Helper()
	all, err := recipe.LoadDir(filepath.Join("..", "..", recipe.Dir))
	if err != nil {
		t.Fatal(err)
	}
	var out []recipe.Recipe
	for _, n := range names {
		found := false
		for _, r := range all {
			if r.Name == n {
				out = append(out, r)
				found = true
			}
		}
		if !found {
			t.Fatalf("no recipe %s", n)
		}
	}
	return out
}

type file struct {
	name, body string
	typ        byte
	link       string
}

// writeTarGz makes a real .tar.gz and returns its sha256.
func writeTarGz(t testing.TB, path string, files []file) string {
	t.Helper()
	var raw bytes.Buffer
	tw := tar.NewWriter(&raw)
	for _, f := range files {
		typ := f.typ
		if typ == 0 {
			typ = tar.TypeReg
		}
		h := &tar.Header{Name: f.name, Typeflag: typ, Mode: 0o644, Size: int64(len(f.body)), Linkname: f.link, ModTime: time.Unix(1700000000, 0)}
		if typ != tar.TypeReg {
			h.Size = 0
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if typ == tar.TypeReg {
			tw.Write([]byte(f.body))
		}
	}
	tw.Close()
	var out bytes.Buffer
	zw := gzip.NewWriter(&out)
	zw.Write(raw.Bytes())
	zw.Close()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, out.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	sum, err := checksum.File(path)
	if err != nil {
		t.Fatal(err)
	}
	return sum
}

var demoFiles = []file{
	{name: "demo-1.0/src/demo.c", body: "#include \"demo.h\"\nint demo_answer(void)\n{\n  return 42;\n}\n"},
	{name: "demo-1.0/src/demo.h", body: "int demo_answer(void);\n"},
}

// demoRecipe is a small real library (compiled with the cross gcc by the
// "cc" build) from a tarball made by the test.
func demoRecipe(t testing.TB, mirror string, files []file, deps ...string) recipe.Recipe {
	t.Helper()
	sum := writeTarGz(t, filepath.Join(mirror, "demo-1.0.tar.gz"), files)
	r := recipe.Recipe{
		Name: "demo", Version: "1.0", Provides: map[string]string{"demo": "1.0"},
		Sources: []recipe.Source{{URL: "https://example.invalid/demo-1.0.tar.gz", File: "demo-1.0.tar.gz", SHA256: sum}},
		Build:   "cc", Subdir: "src", Deps: deps,
		CC:        &recipe.CC{Sources: []string{"*.c"}, Headers: []string{"demo.h"}, Lib: "demo", Cflags: []string{"-O2"}},
		PkgConfig: &recipe.PkgConfig{Module: "demo", Libs: "-L${libdir} -ldemo", Cflags: "-I${includedir}"},
		LinkTest:  "#include <demo.h>\nint main(void) { return demo_answer() == 42 ? 0 : 1; }\n",
		LinkLibs:  []string{"demo"},
	}
	if err := r.Validate(); err != nil {
		t.Fatal(err)
	}
	return r
}

func options(t testing.TB, cache, mirror, patches string, tc Toolchain, rs []recipe.Recipe, want ...string) Options {
	return Options{
		CacheDir: cache,
		Recipes:  rs,
		PatchDir: patches,
		Want:     want,
		Mode:     config.DepsRecipes,
		Jobs:     2,
		Tool:     tc,
		Fetcher:  &source.Fetcher{CacheDir: filepath.Join(cache, "sources"), Mirror: mirror, Offline: true, NoDebian: true},
		Out:      testWriter{t},
	}
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

func rebuildSet(t testing.TB, o Options) []string {
	t.Helper()
	items, err := Plan(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, it := range items {
		if it.NeedsBuild {
			out = append(out, it.Name)
		}
	}
	return out
}

func writePatch(t testing.TB, dir, name, body string) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
}

const libffiReadmePatch = `--- a/README.md
+++ b/README.md
@@ -1,3 +1,4 @@
 
+Built by qemupack's tests.
 libffi-3.4.4 was released on October 23, 2022.  Check the libffi web
 page for updates: <URL:http://sourceware.org/libffi/>.
`

const demoPatch = `--- a/src/demo.c
+++ b/src/demo.c
@@ -1,5 +1,6 @@
 #include "demo.h"
+/* patched */
 int demo_answer(void)
 {
   return 42;
 }
`
