package bench

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"qemupack/internal/config"
	"qemupack/internal/deps"
	"qemupack/internal/recipe"
)

func loadRecipe(t *testing.T, name string) recipe.Recipe {
	t.Helper()
	r, err := recipe.Load(filepath.Join("..", "..", recipe.Dir, name+".json"))
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// The script is valid shell, builds every library with its recipe's own
// options into one prefix, and runs the main job's configure line with
// the cache's folders replaced by the script's own.
func TestScriptFromRecipes(t *testing.T) {
	tc := deps.Toolchain{CrossPrefix: "x86_64-w64-mingw32-", Triplet: "x86_64-w64-mingw32", Sysroots: []string{"/usr/x86_64-w64-mingw32"}}
	in := ScriptInput{
		Tool: tc, Jobs: 2,
		Libs: []ScriptLib{
			{Recipe: loadRecipe(t, "libffi"), Tarball: "/c/sources/ab/libffi-3.4.4.tar.gz"},
			{Recipe: loadRecipe(t, "libintl"), Tarball: "/c/sources/cd/gettext-0.21.tar.xz", Subdir: "gettext-runtime"},
			{Recipe: loadRecipe(t, "glib"), Tarball: "/c/sources/ef/glib-2.74.6.tar.xz", Patches: []string{"/repo/patches/glib/2.74.6/0001-x.patch"}},
			{Recipe: loadRecipe(t, "libfdt"), Tarball: "/c/sources/01/dtc-1.6.1.tar.xz", Subdir: "libfdt"},
		},
		QEMUTree:     "/c/qemu-src/qemu-7.2.22-abc/src",
		StackDir:     "/c/stack/stack-123",
		Configure:    []string{"/c/qemu-src/qemu-7.2.22-abc/src/configure", "--cross-prefix=x86_64-w64-mingw32-", "--extra-cflags=-I/../c/stack/stack-123/include -ffile-prefix-map=/c/qemu-src/qemu-7.2.22-abc/src=."},
		ConfigureEnv: []string{"PATH=/usr/bin:$PATH", "PKG_CONFIG_LIBDIR=/c/stack/stack-123/lib/pkgconfig:/usr/x86_64-w64-mingw32/lib/pkgconfig"},
		Targets:      []string{"qemu-system-x86_64.exe", "storage-daemon/qemu-storage-daemon.exe"},
	}
	s, err := Script(in)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "plain.sh")
	os.WriteFile(p, []byte(s), 0o755)
	if out, err := exec.Command("bash", "-n", p).CombinedOutput(); err != nil {
		t.Fatalf("bash -n: %v\n%s\n%s", err, out, s)
	}
	for _, want := range []string{
		"tar xf '/c/sources/ab/libffi-3.4.4.tar.gz'",
		`../configure --host=x86_64-w64-mingw32 --prefix="$P"`,
		"cd 'gettext-runtime'",
		"make -C 'intl' -j$JOBS && make -C 'intl' install",
		"patch -p1 -s < '/repo/patches/glib/2.74.6/0001-x.patch'",
		`meson setup --cross-file cross.ini --prefix "$P"`,
		`"-Dtests=false"`,
		"x86_64-w64-mingw32-ar rcs \"$P/lib/libfdt.a\"",
		"Libs: -L${libdir} -lfdt",
		`cp -a '/c/qemu-src/qemu-7.2.22-abc/src' "$W/qemu-src"`,
		`"$W/qemu-src/configure"`,
		`"--extra-cflags=-I/..$P/include`, // /../ + an absolute $P
		`PKG_CONFIG_LIBDIR="$P/lib/pkgconfig:/usr/x86_64-w64-mingw32/lib/pkgconfig"`,
		"ninja -j$JOBS 'qemu-system-x86_64.exe' 'storage-daemon/qemu-storage-daemon.exe'",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("script lacks %q", want)
		}
	}
	if strings.Contains(s, "/c/stack/") {
		t.Error("the script still names the cache's stack folder")
	}
	// A recipe with a Debian patch series needs the series in the input.
	curl := loadRecipe(t, "curl")
	in.Libs = []ScriptLib{{Recipe: curl, Tarball: "/x"}}
	if _, err := Script(in); err == nil || !strings.Contains(err.Error(), "Debian patch series for curl") {
		t.Errorf("a recipe with a Debian patch series and none given: %v", err)
	}
}

// tarDir packs dir's contents into a .tar.gz with tar itself.
func tarDir(t *testing.T, dir, out string) {
	t.Helper()
	if b, err := exec.Command("tar", "czf", out, "-C", dir, ".").CombinedOutput(); err != nil {
		t.Fatalf("tar: %v %s", err, b)
	}
}

func write(t *testing.T, p, text string) {
	t.Helper()
	os.MkdirAll(filepath.Dir(p), 0o755)
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

// The script applies the Debian series the main job applied, each entry
// at its own strip level and a skipped one left out, before our patches;
// run for real on a small make-built library and a QEMU stand-in whose
// configure writes a build.ninja (ninja runs it).
func TestScriptAppliesDebianSeries(t *testing.T) {
	for _, tool := range []string{"bash", "tar", "patch", "make", "ninja"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s is needed by this test (go run mage.go test installs it): %v", tool, err)
		}
	}
	tmp := t.TempDir()
	cache := filepath.Join(tmp, "cache")
	// The library: a Makefile that installs greeting.txt.
	src := filepath.Join(tmp, "src", "demo-1.0")
	write(t, filepath.Join(src, "greeting.txt"), "hello\n")
	write(t, filepath.Join(src, "Makefile"), "all:\n\tcat greeting.txt > out.txt\ninstall:\n\tmkdir -p $(PREFIX)/share && cp out.txt $(PREFIX)/share/demo.txt\n")
	tarball := filepath.Join(tmp, "demo-1.0.tar.gz")
	tarDir(t, filepath.Join(tmp, "src"), tarball)
	// Debian's packaging: three patches, the middle one skipped by the recipe.
	deb := filepath.Join(tmp, "deb")
	write(t, filepath.Join(deb, "debian", "patches", "series"), "# Debian's fixes\n01-p0.patch -p0\n02-skipped.patch\n03-p1.patch\n")
	write(t, filepath.Join(deb, "debian", "patches", "01-p0.patch"), "--- greeting.txt\n+++ greeting.txt\n@@ -1 +1,2 @@\n hello\n+from debian p0\n")
	write(t, filepath.Join(deb, "debian", "patches", "02-skipped.patch"), "--- a/greeting.txt\n+++ b/greeting.txt\n@@ -1 +1 @@\n-nothing here\n+never\n")
	write(t, filepath.Join(deb, "debian", "patches", "03-p1.patch"), "--- a/greeting.txt\n+++ b/greeting.txt\n@@ -1,2 +1,3 @@\n hello\n from debian p0\n+from debian p1\n")
	debTarName := "demo_1.0-1.debian.tar.gz"
	sum := "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	os.MkdirAll(filepath.Join(cache, "sources", sum), 0o755)
	tarDir(t, deb, filepath.Join(cache, "sources", sum, debTarName))
	ours := filepath.Join(tmp, "0001-ours.patch")
	write(t, ours, "--- a/greeting.txt\n+++ b/greeting.txt\n@@ -1,3 +1,4 @@\n hello\n from debian p0\n from debian p1\n+from qemupack\n")

	rec := recipe.Recipe{Name: "demo", Version: "1.0", Build: "make", MakeArgs: []string{"PREFIX={prefix}"},
		Sources: []recipe.Source{{File: "demo-1.0.tar.gz", DebianPatches: &recipe.DebianPatches{File: debTarName, SHA256: strings.ToUpper(sum), Skip: []string{"02-skipped.patch"}}}}}
	m := deps.Manifest{Name: "demo", Version: "1.0", DebianPatches: debTarName, DebianApplied: []string{"01-p0.patch", "03-p1.patch"}}
	d, err := scriptDebian(config.Config{CacheDir: cache}, rec, m)
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Patches) != 2 || d.Patches[0].Strip != 0 || d.Patches[1].Strip != 1 {
		t.Fatalf("series read as %+v", d.Patches)
	}
	// A manifest naming an entry the series lacks is refused.
	bad := m
	bad.DebianApplied = []string{"04-gone.patch"}
	if _, err := scriptDebian(config.Config{CacheDir: cache}, rec, bad); err == nil || !strings.Contains(err.Error(), "04-gone.patch") {
		t.Errorf("an applied entry missing from the series: %v", err)
	}

	// QEMU's stand-in: configure writes a build.ninja that copies the
	// library's installed file into the "program".
	qtree := filepath.Join(tmp, "qemu")
	write(t, filepath.Join(qtree, "configure"), "#!/bin/sh\nprintf 'rule cp\\n  command = cp $in $out\\nbuild qemu-img.exe: cp %s/share/demo.txt\\n' \"$STACK\" > build.ninja\n")
	os.Chmod(filepath.Join(qtree, "configure"), 0o755)
	stack := filepath.Join(tmp, "stack")
	tc := deps.Toolchain{CrossPrefix: "x86_64-w64-mingw32-", Triplet: "x86_64-w64-mingw32"}
	s, err := Script(ScriptInput{
		Tool: tc, Jobs: 2,
		Libs:         []ScriptLib{{Recipe: rec, Tarball: tarball, Patches: []string{ours}, Debian: d}},
		QEMUTree:     qtree,
		StackDir:     stack,
		Configure:    []string{filepath.Join(qtree, "configure")},
		ConfigureEnv: []string{"STACK=" + stack},
		Targets:      []string{"qemu-img.exe"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(s, "02-skipped") {
		t.Error("the script applies the skipped entry")
	}
	sp := filepath.Join(tmp, "plain.sh")
	write(t, sp, s)
	work := filepath.Join(tmp, "work")
	os.MkdirAll(work, 0o755)
	if out, err := exec.Command("bash", sp, work).CombinedOutput(); err != nil {
		t.Fatalf("the script failed: %v\n%s\n%s", err, out, s)
	}
	got, err := os.ReadFile(filepath.Join(work, "qemu-build", "qemu-img.exe"))
	if err != nil {
		t.Fatal(err)
	}
	if want := "hello\nfrom debian p0\nfrom debian p1\nfrom qemupack\n"; string(got) != want {
		t.Errorf("the built file is %q, want %q (Debian's series in order, then ours)", got, want)
	}
}
