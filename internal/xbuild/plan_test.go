package xbuild

import (
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
)

// known72 is the set of configure options of QEMU 7.2 (Debian's tree),
// listed from its configure and scripts/meson-buildoptions.sh.
func known72(t *testing.T) map[string]bool {
	t.Helper()
	b, err := os.ReadFile("../../testdata/xbuild/qemu-7.2-options.txt")
	if err != nil {
		t.Fatal(err)
	}
	known := map[string]bool{}
	for _, l := range strings.Fields(string(b)) {
		known[l] = true
	}
	return known
}

func linuxPlan(t *testing.T) Plan {
	return Plan{
		Host:             HostLinux,
		SourceDir:        "/cache/sources/qemu/abc/src",
		BuildDir:         "/cache/build/7.2.22-k/build",
		CrossPrefix:      "x86_64-w64-mingw32-",
		Targets:          []string{"x86_64-softmmu", "aarch64-softmmu"},
		PkgConfigLibDirs: []string{"/cache/deps/glib-1/lib/pkgconfig", "/usr/x86_64-w64-mingw32/lib/pkgconfig"},
		PathPrepend:      []string{"/usr/bin"},
		DepsPrefixes:     []string{"/cache/deps/stack-1"},
		Known:            known72(t),
		Jobs:             2,
	}
}

func TestConfigureCommandLinux(t *testing.T) {
	c, err := ConfigureCommand(linuxPlan(t))
	if err != nil {
		t.Fatal(err)
	}
	if c.Args[0] != "/cache/sources/qemu/abc/src/configure" || c.Dir != "/cache/build/7.2.22-k/build" {
		t.Errorf("program %s in %s", c.Args[0], c.Dir)
	}
	if c.Args[1] != "--cross-prefix=x86_64-w64-mingw32-" || c.Args[2] != "--target-list=aarch64-softmmu,x86_64-softmmu" {
		t.Errorf("head of argv: %q", c.Args[:3])
	}
	// The prefix maps and the timestamp switch keep the cache's path and
	// the link time out of the binaries (see reproFlags).
	if c.Args[3] != "--extra-cflags=-ffile-prefix-map=../../../sources/qemu/abc/src=. -ffile-prefix-map=/cache/sources/qemu/abc/src=. -I/../cache/deps/stack-1/include" ||
		c.Args[4] != "--extra-ldflags=-Wl,--no-insert-timestamp -L/../cache/deps/stack-1/lib" {
		t.Errorf("extra flags: %q", c.Args[3:5])
	}
	opts := c.Args[5:]
	if !sort.StringsAreSorted(opts) {
		t.Errorf("options not sorted: %q", opts)
	}
	has := map[string]bool{}
	for _, o := range opts {
		has[o] = true
	}
	for _, want := range []string{"--enable-slirp", "--enable-vnc", "--enable-tools", "--enable-fdt=system",
		"--disable-gtk", "--disable-sdl", "--disable-spice", "--disable-docs", "--disable-guest-agent", "--disable-werror"} {
		if !has[want] {
			t.Errorf("argv lacks %s", want)
		}
	}
	for _, o := range opts {
		if o == "--disable-slirp" || o == "--disable-vnc" || o == "--disable-tools" {
			t.Errorf("argv turns off %s", o)
		}
	}
	wantEnv := []string{
		"PATH=/usr/bin:$PATH",
		"PKG_CONFIG=pkg-config",
		"PKG_CONFIG_LIBDIR=/cache/deps/glib-1/lib/pkgconfig:/usr/x86_64-w64-mingw32/lib/pkgconfig",
		"PKG_CONFIG_PATH=",
		"PKG_CONFIG_SYSROOT_DIR=",
	}
	if !reflect.DeepEqual(c.Env, wantEnv) {
		t.Errorf("env = %q\nwant %q", c.Env, wantEnv)
	}
	got := c.Environ([]string{"HOME=/root", "PATH=/root/.pyenv/shims:/usr/bin"})
	if got[0] != "PATH=/usr/bin:/root/.pyenv/shims:/usr/bin" {
		t.Errorf("resolved PATH = %q", got[0])
	}
	// The same plan always gives the same command.
	c2, _ := ConfigureCommand(linuxPlan(t))
	if !reflect.DeepEqual(c, c2) {
		t.Error("two runs gave different commands")
	}
}

func TestConfigureLeavesOutOptionsTheTreeLacks(t *testing.T) {
	p := linuxPlan(t)
	delete(p.Known, "--disable-canokey") // as in QEMU before 7.1
	c, err := ConfigureCommand(p)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range c.Args {
		if a == "--disable-canokey" {
			t.Error("passed an option the tree does not know")
		}
	}
	_, skipped, _ := ConfigureOptions(p.Known)
	if !reflect.DeepEqual(skipped, []string{"--disable-canokey"}) {
		t.Errorf("skipped = %q", skipped)
	}
	p.DepsPrefixes = []string{"/home/a b/deps"}
	if _, err := ConfigureCommand(p); err == nil || !strings.Contains(err.Error(), "space") {
		t.Errorf("a prefix with a space: %v", err)
	}
	p.DepsPrefixes = nil
	delete(p.Known, "--enable-slirp")
	if _, err := ConfigureCommand(p); err == nil || !strings.Contains(err.Error(), "--enable-slirp") {
		t.Errorf("a tree without --enable-slirp: %v", err)
	}
}

// TestCygwinCommands stands in for a Cygwin host: the tool runs there as a
// Windows program, so every step goes through Cygwin's bash with paths
// converted. cygpath -u is replaced by a table of what it answers.
func TestCygwinCommands(t *testing.T) {
	cygpath := map[string]string{
		`C:\Users\Ann\qp\.cache\sources\qemu\abc\src`:                     "/cygdrive/c/Users/Ann/qp/.cache/sources/qemu/abc/src",
		`C:\Users\Ann\qp\.cache\build\7.2.22-k\build`:                     "/cygdrive/c/Users/Ann/qp/.cache/build/7.2.22-k/build",
		`C:\cygwin64\usr\x86_64-w64-mingw32\sys-root\mingw\lib\pkgconfig`: "/usr/x86_64-w64-mingw32/sys-root/mingw/lib/pkgconfig",
		`C:\Users\Ann\qp\.cache\deps\glib 1\lib\pkgconfig`:                "/cygdrive/c/Users/Ann/qp/.cache/deps/glib 1/lib/pkgconfig",
		`C:\Users\Ann\qp\.cache\build\7.2.22-k\.stage-1\dest`:             "/cygdrive/c/Users/Ann/qp/.cache/build/7.2.22-k/.stage-1/dest",
	}
	conv := func(p string) string {
		if c, ok := cygpath[p]; ok {
			return c
		}
		t.Fatalf("cygpath asked for %q", p)
		return ""
	}
	p := Plan{
		Host:        HostCygwin,
		SourceDir:   `C:\Users\Ann\qp\.cache\sources\qemu\abc\src`,
		BuildDir:    `C:\Users\Ann\qp\.cache\build\7.2.22-k\build`,
		CrossPrefix: "x86_64-w64-mingw32-",
		Targets:     []string{"x86_64-softmmu"},
		PkgConfigLibDirs: []string{`C:\Users\Ann\qp\.cache\deps\glib 1\lib\pkgconfig`,
			`C:\cygwin64\usr\x86_64-w64-mingw32\sys-root\mingw\lib\pkgconfig`},
		Known:        known72(t),
		Jobs:         2,
		NinjaTargets: []string{"qemu-img.exe", "qemu-system-x86_64.exe"},
		DestDir:      `C:\Users\Ann\qp\.cache\build\7.2.22-k\.stage-1\dest`,
		Bash:         `C:\cygwin64\bin\bash.exe`,
		ToPosix:      conv,
	}
	c, err := ConfigureCommand(p)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Args) != 3 || c.Args[0] != `C:\cygwin64\bin\bash.exe` || c.Args[1] != "-lc" {
		t.Fatalf("argv = %q", c.Args)
	}
	if c.Dir != p.BuildDir || !reflect.DeepEqual(c.Env, []string{"CHERE_INVOKING=1"}) {
		t.Errorf("dir %q env %q", c.Dir, c.Env)
	}
	script := c.Args[2]
	for _, want := range []string{
		"set -e; cd /cygdrive/c/Users/Ann/qp/.cache/build/7.2.22-k/build; exec env ",
		" PKG_CONFIG=pkg-config ",
		` 'PKG_CONFIG_LIBDIR=/cygdrive/c/Users/Ann/qp/.cache/deps/glib 1/lib/pkgconfig:/usr/x86_64-w64-mingw32/sys-root/mingw/lib/pkgconfig' `,
		" /cygdrive/c/Users/Ann/qp/.cache/sources/qemu/abc/src/configure --cross-prefix=x86_64-w64-mingw32- --target-list=x86_64-softmmu ",
		" --enable-slirp ",
	} {
		if !strings.Contains(script, want) {
			t.Errorf("script lacks %q:\n%s", want, script)
		}
	}
	if strings.Contains(script, `\`) {
		t.Errorf("a Windows path got into the script:\n%s", script)
	}
	nj, _ := NinjaCommand(p)
	if !strings.HasSuffix(nj.Args[2], " ninja -j2 qemu-img.exe qemu-system-x86_64.exe") {
		t.Errorf("ninja script: %s", nj.Args[2])
	}
	in, _ := InstallCommand(p)
	if !strings.HasSuffix(in.Args[2], " meson install --no-rebuild --destdir /cygdrive/c/Users/Ann/qp/.cache/build/7.2.22-k/.stage-1/dest") {
		t.Errorf("install script: %s", in.Args[2])
	}
	p.Bash = ""
	if _, err := ConfigureCommand(p); err == nil {
		t.Error("a Cygwin plan without bash.exe was accepted")
	}
}

func TestShQuote(t *testing.T) {
	for in, want := range map[string]string{
		"plain":      "plain",
		"a b":        "'a b'",
		"it's":       `'it'\''s'`,
		"":           "''",
		"$HOME":      "'$HOME'",
		"--x=/a/b,c": "--x=/a/b,c",
	} {
		if got := shQuote(in); got != want {
			t.Errorf("shQuote(%q) = %s, want %s", in, got, want)
		}
	}
}

func TestKnownOptionsReadsConfigureAndMesonOptions(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "configure"), []byte("  --disable-werror) werror=no\n  --enable-plugins) plugins=yes\n"), 0o755)
	os.MkdirAll(filepath.Join(dir, "scripts"), 0o755)
	os.WriteFile(filepath.Join(dir, "scripts", "meson-buildoptions.sh"),
		[]byte("    --enable-fdt=*) quote_sh \"-Dfdt=$2\" ;;\n    --disable-gtk) printf \"%s\" -Dgtk=disabled ;;\n"), 0o644)
	known, err := KnownOptions(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"--disable-werror", "--enable-plugins", "--enable-fdt=", "--disable-gtk"} {
		if !known[k] {
			t.Errorf("%s not found", k)
		}
	}
	if _, err := KnownOptions(t.TempDir()); err == nil {
		t.Error("a folder without configure accepted")
	}
}
