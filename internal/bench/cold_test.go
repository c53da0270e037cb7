package bench

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

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
		Exes:         []string{"qemu-system-x86_64.exe", "qemu-img.exe"},
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
		"ninja -j$JOBS qemu-system-x86_64.exe qemu-img.exe",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("script lacks %q", want)
		}
	}
	if strings.Contains(s, "/c/stack/") {
		t.Error("the script still names the cache's stack folder")
	}
	// Debian patch series are not something a plain script does.
	curl := loadRecipe(t, "curl")
	in.Libs = []ScriptLib{{Recipe: curl, Tarball: "/x"}}
	if _, err := Script(in); err == nil {
		t.Error("a recipe with a Debian patch series was accepted")
	}
}
