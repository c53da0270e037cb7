package deps

import (
	"archive/tar"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"qemupack/internal/checksum"
	"qemupack/internal/recipe"
	"qemupack/internal/source"
)

// badSetup gives a cache, a mirror and options for the demo recipe.
func badSetup(t *testing.T, files []file) (Options, recipe.Recipe, string) {
	t.Helper()
	tc := probe(t)
	dir := t.TempDir()
	mirror := filepath.Join(dir, "mirror")
	r := demoRecipe(t, mirror, files)
	o := options(t, filepath.Join(dir, "cache"), mirror, filepath.Join(dir, "patches"), tc, []recipe.Recipe{r}, "demo")
	return o, r, dir
}

func noPrefix(t *testing.T, o Options) {
	t.Helper()
	ms, _ := filepath.Glob(filepath.Join(o.CacheDir, "deps", "demo-*", ManifestName))
	dirs, _ := filepath.Glob(filepath.Join(o.CacheDir, "deps", "demo-*"))
	if len(ms) != 0 || len(dirs) != 0 {
		t.Errorf("a failed build left a prefix: %v %v", dirs, ms)
	}
}

func TestDemoBuilds(t *testing.T) {
	o, _, _ := badSetup(t, demoFiles)
	st, err := Build(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if st.Built != 1 || len(st.Libs) != 1 {
		t.Fatalf("%+v", st)
	}
	if _, err := os.Stat(filepath.Join(st.Dir, "lib", "libdemo.a")); err != nil {
		t.Error(err)
	}
}

// TestPlainMakeBuild builds the demo library with its own Makefile (the
// "make" build system) and the cross compiler.
func TestPlainMakeBuild(t *testing.T) {
	files := append(append([]file{}, demoFiles...), file{name: "demo-1.0/src/Makefile", body: "" +
		"libdemo.a: demo.o\n\t$(CROSS)ar rcs $@ $^\n" +
		"demo.o: demo.c demo.h\n\t$(CROSS)gcc -O2 -c demo.c -o $@\n" +
		"install: libdemo.a\n\tmkdir -p $(DEST)/lib $(DEST)/include\n\tcp libdemo.a $(DEST)/lib/\n\tcp demo.h $(DEST)/include/\n"})
	o, r, _ := badSetup(t, files)
	r.Build = "make"
	r.CC = nil
	r.MakeArgs = []string{"CROSS={cross}", "DEST={prefix}"}
	o.Recipes = []recipe.Recipe{r}
	st, err := Build(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(st.Libs[0].Prefix, "lib", "libdemo.a")); err != nil {
		t.Fatal(err)
	}
}

// TestSecondSourceWhenFirstIsMissing: a recipe's first source (the
// upstream tarball) is nowhere to be had offline; the second one is used
// and recorded in the prefix's manifest (libfdt: dtc, then u-boot's copy).
func TestSecondSourceWhenFirstIsMissing(t *testing.T) {
	o, r, _ := badSetup(t, demoFiles)
	second := r.Sources[0]
	r.Sources = []recipe.Source{{URL: "https://example.invalid/gone.tar.gz", File: "gone.tar.gz", SHA256: strings.Repeat("ab", 32)}, second}
	o.Recipes = []recipe.Recipe{r}
	st, err := Build(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	m, err := os.ReadFile(filepath.Join(st.Libs[0].Prefix, ManifestName))
	if err != nil || !strings.Contains(string(m), `"source": "demo-1.0.tar.gz"`) {
		t.Fatalf("manifest does not name the source used: %s %v", m, err)
	}
}

func TestWrongSHA256(t *testing.T) {
	o, r, _ := badSetup(t, demoFiles)
	good := r.Sources[0].SHA256
	wrong := strings.Repeat("0", 63) + "1"
	r.Sources[0].SHA256 = wrong
	o.Recipes = []recipe.Recipe{r}
	_, err := Build(context.Background(), o)
	if err == nil {
		t.Fatal("a tarball with the wrong sum was built")
	}
	t.Log(err)
	for _, want := range []string{"demo 1.0", "fetch", "demo-1.0.tar.gz", wrong, good} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
	if ents, _ := os.ReadDir(filepath.Join(o.CacheDir, "deps", ".work")); len(ents) != 0 {
		t.Errorf("something was extracted: %v", ents)
	}
	noPrefix(t, o)
}

func TestTruncatedAndNonArchiveTarball(t *testing.T) {
	for _, c := range []struct {
		name string
		cut  func([]byte) []byte
		want string
	}{
		{"truncated", func(b []byte) []byte { return b[:len(b)-40] }, "truncated"},
		{"not-an-archive", func([]byte) []byte { return []byte("<html>404 Not Found</html>\n") }, "not a tar or zip archive"},
	} {
		t.Run(c.name, func(t *testing.T) {
			big := make([]byte, 200000)
			for i := range big {
				big[i] = byte(i * 31 / 7)
			}
			files := append([]file{{name: "demo-1.0/src/blob.bin", body: string(big)}}, demoFiles...)
			o, r, _ := badSetup(t, files)
			p := filepath.Join(o.Fetcher.Mirror, "demo-1.0.tar.gz")
			data, _ := os.ReadFile(p)
			os.WriteFile(p, c.cut(data), 0o644)
			// The recipe pins the damaged file's own sum: verification passes,
			// extraction must still catch it.
			sum, _ := checksum.File(p)
			r.Sources[0].SHA256 = sum
			o.Recipes = []recipe.Recipe{r}
			_, err := Build(context.Background(), o)
			var se *StepError
			if !errors.As(err, &se) || se.Step != "extract" || se.Lib != "demo 1.0" {
				t.Fatalf("want an extract StepError for demo 1.0, got %v", err)
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Errorf("error lacks %q: %v", c.want, err)
			}
			noPrefix(t, o)
		})
	}
}

func TestEscapingEntries(t *testing.T) {
	for name, evil := range map[string]file{
		"dotdot":      {name: "demo-1.0/../../escaped", body: "x"},
		"absolute":    {name: "/tmp/qemupack-escaped", body: "x"},
		"symlink-out": {name: "demo-1.0/src/out", typ: tar.TypeSymlink, link: "../../../../etc"},
	} {
		t.Run(name, func(t *testing.T) {
			o, _, dir := badSetup(t, append(append([]file{}, demoFiles...), evil))
			_, err := Build(context.Background(), o)
			if !errors.Is(err, source.ErrUnsafeEntry) {
				t.Fatalf("want an unsafe-entry error, got %v", err)
			}
			if !strings.Contains(err.Error(), "demo 1.0: extract failed") {
				t.Errorf("error does not name library and step: %v", err)
			}
			if _, err := os.Stat(filepath.Join(dir, "escaped")); err == nil {
				t.Error("the entry escaped")
			}
			noPrefix(t, o)
		})
	}
}

func TestPatchThatDoesNotApply(t *testing.T) {
	o, _, _ := badSetup(t, demoFiles)
	writePatch(t, filepath.Join(o.PatchDir, "demo", "1.0"), "0001-ok.patch", demoPatch)
	writePatch(t, filepath.Join(o.PatchDir, "demo", "1.0"), "0002-stale.patch", `--- a/src/demo.c
+++ b/src/demo.c
@@ -3,3 +3,3 @@
 {
-  return 41;
+  return 43;
 }
`)
	_, err := Build(context.Background(), o)
	var pe *source.PatchError
	if !errors.As(err, &pe) {
		t.Fatalf("want a PatchError, got %v", err)
	}
	t.Log(err)
	for _, want := range []string{"demo 1.0: patch failed", "0002-stale.patch", "hunk #1", "src/demo.c", "@@ -3,3 +3,3 @@"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
	noPrefix(t, o)
}

func TestCompileErrorShowsStepAndLogTail(t *testing.T) {
	files := []file{
		{name: "demo-1.0/src/demo.c", body: "#include \"demo.h\"\nint demo_answer(void) { return undeclared_thing; }\n"},
		{name: "demo-1.0/src/demo.h", body: "int demo_answer(void);\n"},
	}
	o, _, _ := badSetup(t, files)
	_, err := Build(context.Background(), o)
	var se *StepError
	if !errors.As(err, &se) || se.Step != "compile" {
		t.Fatalf("want a compile StepError, got %v", err)
	}
	t.Log(err)
	for _, want := range []string{"demo 1.0: compile failed", "undeclared_thing", "last lines of output", "full log"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
	noPrefix(t, o)
}

func TestLinkTestFailureKeepsPrefixOut(t *testing.T) {
	o, r, _ := badSetup(t, demoFiles)
	r.LinkTest = "#include <demo.h>\nint demo_missing(void);\nint main(void) { return demo_missing(); }\n"
	o.Recipes = []recipe.Recipe{r}
	_, err := Build(context.Background(), o)
	if err == nil || !strings.Contains(err.Error(), "demo 1.0: link test failed") || !strings.Contains(err.Error(), "demo_missing") {
		t.Fatalf("want a link test failure naming the symbol, got %v", err)
	}
	noPrefix(t, o)
}

func TestDependencyCycleAndMissingDep(t *testing.T) {
	mk := func(name string, deps ...string) recipe.Recipe {
		return recipe.Recipe{Name: name, Version: "1", Deps: deps, Provides: map[string]string{name: "1"}}
	}
	_, err := Select([]recipe.Recipe{mk("a", "b"), mk("b", "c"), mk("c", "a")}, []string{"a"})
	if err == nil || !strings.Contains(err.Error(), "dependency cycle: a -> b -> c -> a") {
		t.Errorf("cycle: %v", err)
	}
	_, err = Select([]recipe.Recipe{mk("a", "nothere")}, []string{"a"})
	if err == nil || !strings.Contains(err.Error(), "a depends on nothere, which has no recipe") {
		t.Errorf("missing dep: %v", err)
	}
	_, err = Select([]recipe.Recipe{mk("a")}, []string{"glib-2.0"})
	if err == nil || !strings.Contains(err.Error(), "no recipe provides glib-2.0") {
		t.Errorf("missing module: %v", err)
	}
	order, err := Select([]recipe.Recipe{mk("z", "y"), mk("y"), mk("x", "y")}, []string{"z", "x"})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, r := range order {
		names = append(names, r.Name)
	}
	if strings.Join(names, " ") != "y x z" {
		t.Errorf("order %v, want y x z", names)
	}
}

func TestRealRecipesPlan(t *testing.T) {
	tc := probe(t)
	all, err := recipe.LoadDir(filepath.Join("..", "..", recipe.Dir))
	if err != nil {
		t.Fatal(err)
	}
	o := Options{CacheDir: t.TempDir(), Recipes: all, Tool: tc}
	items, err := Plan(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, it := range items {
		names = append(names, it.Name+":"+string(it.From))
	}
	t.Log(names)
	// Debian ships a mingw zlib: under auto it is used, not built.
	for _, it := range items {
		if it.Name == "zlib" && it.From != FromHost {
			t.Errorf("zlib should come from the host sysroot (libz-mingw-w64-dev), plan says %q", it.From)
		}
		if it.Name == "glib" && !it.NeedsBuild {
			t.Errorf("glib needs a build on this host")
		}
	}
	if len(items) != 8 {
		t.Errorf("plan has %d libraries, want 8: %v", len(items), names)
	}
}

func TestHostOnlyModeNamesWhatIsMissing(t *testing.T) {
	tc := probe(t)
	all, err := recipe.LoadDir(filepath.Join("..", "..", recipe.Dir))
	if err != nil {
		t.Fatal(err)
	}
	_, err = Plan(context.Background(), Options{CacheDir: t.TempDir(), Recipes: all, Tool: tc, Mode: "host"})
	if err == nil || !strings.Contains(err.Error(), "QEMUPACK_DEPS=host") || !strings.Contains(err.Error(), "QEMUPACK_DEPS=auto") {
		t.Fatalf("want an error naming the missing library and the way out, got %v", err)
	}
	t.Log(err)
	// Only zlib, which Debian ships for mingw: fine under host.
	items, err := Plan(context.Background(), Options{CacheDir: t.TempDir(), Recipes: all, Tool: tc, Mode: "host", Want: []string{"zlib"}})
	if err != nil || len(items) != 1 || items[0].From != FromHost {
		t.Fatalf("zlib under host mode: %v %v", items, err)
	}
}
