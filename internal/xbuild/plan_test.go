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
	// 7.2 also has no Rust and no --disable-download (it fetches nothing).
	_, skipped, _ := ConfigureOptions(p.Known)
	if !reflect.DeepEqual(skipped, []string{"--disable-canokey", "--disable-rust", "--disable-download"}) {
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

func knownFrom(t *testing.T, file string) map[string]bool {
	t.Helper()
	b, err := os.ReadFile("../../testdata/xbuild/" + file)
	if err != nil {
		t.Fatal(err)
	}
	known := map[string]bool{}
	for _, l := range strings.Fields(string(b)) {
		known[l] = true
	}
	return known
}

// TestConfigureCommandPerRelease pins the whole configure line of the two
// releases this tool builds from Debian's trees: 7.2.22 (dfsg, the host's
// meson and python from PATH) and 10.2.2 (+ds: a venv with meson from
// Debian's package on PYTHONPATH, --python= the distribution's python, no
// blobs to install, nothing downloaded, no Rust).
func TestConfigureCommandPerRelease(t *testing.T) {
	head := []string{"--cross-prefix=x86_64-w64-mingw32-", "--target-list=x86_64-softmmu"}
	flags := []string{"--extra-cflags=-ffile-prefix-map=../../../sources/qemu/abc/src=. -ffile-prefix-map=/cache/sources/qemu/abc/src=. -I/../cache/deps/stack-1/include",
		"--extra-ldflags=-Wl,--no-insert-timestamp -L/../cache/deps/stack-1/lib"}
	off72 := "--disable-brlapi --disable-bzip2 --disable-canokey --disable-capstone --disable-curl --disable-curses --disable-dbus-display --disable-debug-info --disable-docs --disable-gcrypt --disable-gettext --disable-gio --disable-glusterfs --disable-gnutls --disable-gtk --disable-guest-agent --disable-guest-agent-msi --disable-jack --disable-libiscsi --disable-libnfs --disable-libssh --disable-libusb --disable-lzfse --disable-lzo --disable-nettle --disable-opengl --disable-pa --disable-plugins --disable-png --disable-qga-vss --disable-rbd --disable-sdl --disable-sdl-image --disable-smartcard --disable-snappy --disable-sndio --disable-spice --disable-spice-protocol --disable-u2f --disable-usb-redir --disable-virglrenderer --disable-vnc-jpeg --disable-vnc-sasl --disable-vte --disable-werror --disable-xkbcommon --disable-zstd"
	on := "--enable-fdt=system --enable-slirp --enable-system --enable-tools --enable-vnc"
	off10 := "--disable-brlapi --disable-bzip2 --disable-canokey --disable-capstone --disable-curl --disable-curses --disable-dbus-display --disable-debug-info --disable-docs --disable-download --disable-gcrypt --disable-gettext --disable-gio --disable-glusterfs --disable-gnutls --disable-gtk --disable-guest-agent --disable-guest-agent-msi --disable-install-blobs --disable-jack --disable-libiscsi --disable-libnfs --disable-libssh --disable-libusb --disable-lzfse --disable-lzo --disable-nettle --disable-opengl --disable-pa --disable-plugins --disable-png --disable-qga-vss --disable-rbd --disable-rust --disable-sdl --disable-sdl-image --disable-smartcard --disable-snappy --disable-sndio --disable-spice --disable-spice-protocol --disable-u2f --disable-usb-redir --disable-virglrenderer --disable-vnc-jpeg --disable-vnc-sasl --disable-vte --disable-werror --disable-xkbcommon --disable-zstd"
	pc := "PKG_CONFIG_LIBDIR=/cache/deps/stack-1/lib/pkgconfig:/usr/x86_64-w64-mingw32/lib/pkgconfig"
	for _, tc := range []struct {
		name    string
		known   string
		python  string
		pypath  []string
		noBlobs bool
		args    []string
		env     []string
	}{
		{name: "7.2.22 dfsg", known: "qemu-7.2-options.txt",
			args: append(append(append([]string{}, head...), flags...), strings.Fields(off72+" "+on)...),
			env:  []string{"PATH=/usr/bin:$PATH", "PKG_CONFIG=pkg-config", pc, "PKG_CONFIG_PATH=", "PKG_CONFIG_SYSROOT_DIR="}},
		{name: "10.2.2 +ds", known: "qemu-10.2.2-options.txt", python: "/usr/bin/python3",
			pypath: []string{"/cache/tools/meson-1.7.0/usr/lib/python3/dist-packages"}, noBlobs: true,
			args: append(append(append(append([]string{}, head...), "--python=/usr/bin/python3"), flags...), strings.Fields(off10+" "+on)...),
			env: []string{"PATH=/usr/bin:$PATH", "PKG_CONFIG=pkg-config", pc, "PKG_CONFIG_PATH=", "PKG_CONFIG_SYSROOT_DIR=",
				"PYTHONPATH=/cache/tools/meson-1.7.0/usr/lib/python3/dist-packages"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := Plan{
				Host: HostLinux, SourceDir: "/cache/sources/qemu/abc/src", BuildDir: "/cache/build/v-k/build",
				CrossPrefix: "x86_64-w64-mingw32-", Targets: []string{"x86_64-softmmu"},
				PkgConfigLibDirs: []string{"/cache/deps/stack-1/lib/pkgconfig", "/usr/x86_64-w64-mingw32/lib/pkgconfig"},
				DepsPrefixes:     []string{"/cache/deps/stack-1"}, PathPrepend: []string{"/usr/bin"},
				Known: knownFrom(t, tc.known), Python: tc.python, PythonPath: tc.pypath, NoBlobs: tc.noBlobs,
			}
			c, err := ConfigureCommand(p)
			if err != nil {
				t.Fatal(err)
			}
			if c.Args[0] != "/cache/sources/qemu/abc/src/configure" {
				t.Errorf("program %s", c.Args[0])
			}
			if !reflect.DeepEqual(c.Args[1:], tc.args) {
				t.Errorf("argv:\n got %q\nwant %q", c.Args[1:], tc.args)
			}
			if !reflect.DeepEqual(c.Env, tc.env) {
				t.Errorf("env:\n got %q\nwant %q", c.Env, tc.env)
			}
			// ninja and meson install run with the same environment: the
			// venv's meson script imports meson from PYTHONPATH.
			p.NinjaTargets, p.DestDir = []string{"qemu-img.exe"}, "/d"
			for _, f := range []func(Plan) (Command, error){NinjaCommand, InstallCommand, IntrospectCommand} {
				c2, err := f(p)
				if err != nil || !reflect.DeepEqual(c2.Env, tc.env) {
					t.Errorf("%q: env %q, %v", c2.Args, c2.Env, err)
				}
			}
		})
	}
}

func TestNoBlobsNeedsTheOption(t *testing.T) {
	p := linuxPlan(t)
	p.NoBlobs = true
	delete(p.Known, "--disable-install-blobs")
	if _, err := ConfigureCommand(p); err == nil || !strings.Contains(err.Error(), "--disable-install-blobs") {
		t.Errorf("a tree without the option: %v", err)
	}
}

func TestOptionROMPlan(t *testing.T) {
	p := Plan{Host: HostLinux, SourceDir: "/src/qemu", ROMDir: "/b/optionrom", HostCC: "gcc", Python: "/usr/bin/python3",
		PythonPath: []string{"/t/dist-packages"}}
	cfg, err := OptionROMConfig(p)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"\nTOPSRC_DIR=/src/qemu\n", "\nCC=gcc\n", "\nCCAS=gcc\n", "\nOBJCOPY=objcopy\n", "\nPYTHON=/usr/bin/python3\n", "\nEXTRA_CFLAGS=-m32\n"} {
		if !strings.Contains(cfg, want) {
			t.Errorf("config.mak lacks %q:\n%s", want, cfg)
		}
	}
	c, err := OptionROMCommand(p)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(c.Args, []string{"make", "-f", "/src/qemu/pc-bios/optionrom/Makefile", "all"}) || c.Dir != "/b/optionrom" {
		t.Errorf("command %q in %s", c.Args, c.Dir)
	}
	p.HostCC = ""
	if _, err := OptionROMConfig(p); err == nil {
		t.Error("no compiler accepted")
	}
	p.HostCC, p.Host, p.Bash = "gcc", HostCygwin, "bash.exe"
	if _, err := OptionROMCommand(p); err == nil {
		t.Error("Cygwin accepted")
	}
}
