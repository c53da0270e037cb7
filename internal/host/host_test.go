package host_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"

	"qemupack/internal/config"
	"qemupack/internal/host"
	"qemupack/internal/host/hosttest"
)

func testdata(name string) string { return filepath.Join("..", "..", "testdata", "host", name) }

func cfgFor(t *testing.T, h *hosttest.Host) config.Config {
	t.Helper()
	c, err := config.FromEnv(h.Root, h.Getenv)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestOSReleaseFamilies(t *testing.T) {
	for file, want := range map[string]host.Family{
		"os-release-debian12":   host.Debian,
		"os-release-ubuntu2204": host.Debian,
		"os-release-fedora40":   host.Fedora,
		"os-release-rocky9":     host.Fedora,
		"os-release-arch":       host.Unknown,
	} {
		data, err := os.ReadFile(testdata(file))
		if err != nil {
			t.Fatal(err)
		}
		if got := host.ParseOSRelease(string(data)).Family(); got != want {
			t.Errorf("%s: family %s, want %s", file, got, want)
		}
	}
	o := host.ParseOSRelease(`PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"` + "\nID=debian\n")
	if o.PrettyName != "Debian GNU/Linux 12 (bookworm)" || o.ID != "debian" {
		t.Errorf("parsed %+v", o)
	}
}

func TestReadPC(t *testing.T) {
	pc, err := host.ReadPC(testdata("zlib-debian12.pc"))
	if err != nil || pc.Version != "1.2.13" || pc.Name != "zlib" {
		t.Errorf("zlib.pc: %+v %v", pc, err)
	}
	pc, err = host.ReadPC(testdata("glib-2.0-cygwin.pc"))
	if err != nil || pc.Version != "2.54.3" || pc.Vars["glib_genmarshal"] != "/usr/x86_64-w64-mingw32/sys-root/mingw/bin/glib-genmarshal" {
		t.Errorf("glib-2.0.pc: %+v %v", pc, err)
	}
	pc, err = host.ReadPC(testdata("varversion.pc"))
	if err != nil || pc.Version != "0.42.2" {
		t.Errorf("Version: ${version}: %+v %v", pc, err)
	}
	_, err = host.ReadPC(testdata("noversion.pc"))
	if err == nil || !strings.Contains(err.Error(), "noversion.pc") || !strings.Contains(err.Error(), "no Version field") {
		t.Errorf("a .pc without Version must be an error naming the file, got %v", err)
	}
	if _, err := host.ParsePC("Name: x\nVersion: banana\n"); err == nil || !strings.Contains(err.Error(), `"banana"`) {
		t.Errorf("a non-version Version must be an error, got %v", err)
	}
}

func TestParseVersionLine(t *testing.T) {
	for out, want := range map[string]string{
		"x86_64-w64-mingw32-gcc (GCC) 12-win32\nCopyright (C) 2022":                 "12",
		"x86_64-w64-mingw32-gcc (GCC) 13.2.1 20230728 (Fedora MinGW 13.2.1-1.fc39)": "13.2.1",
		"bison (GNU Bison) 3.8.2\nWritten by":                                       "3.8.2",
		"flex 2.6.4":                                                                "2.6.4",
		"GNU Make 4.3\nBuilt for x86_64-pc-linux-gnu":                               "4.3",
		"\n1.11.1\n":     "1.11.1",
		"no digits here": "",
	} {
		if got, _ := host.ParseVersionLine(out); got != want {
			t.Errorf("%q: got %q, want %q", out, got, want)
		}
	}
}

// A complete fake Debian host: every tool found with its version, the
// sysroot's libraries read from their .pc files, nothing missing.
func TestProbeFakeDebianHost(t *testing.T) {
	h := hosttest.New(t)
	h.Toolchain("1.0.1", "3.11.2")
	h.Libs(map[string]string{"glib-2.0": "2.74.6", "gthread-2.0": "2.74.6", "pixman-1": "0.42.2", "zlib": "1.2.13", "slirp": "4.7.0"})
	r, err := host.Probe(context.Background(), cfgFor(t, h), h.Options())
	if err != nil {
		t.Fatal(err)
	}
	if r.Family != host.Debian || r.PackageManager != "apt-get" || r.Distro != "Debian GNU/Linux 12 (bookworm)" {
		t.Errorf("host: %s %s %q", r.Family, r.PackageManager, r.Distro)
	}
	want := map[string]string{host.ToolGCC: "12", host.ToolNinja: "1.11.1", host.ToolMeson: "1.0.1", host.ToolPython: "3.11.2",
		host.ToolPkgConfig: "1.8.1", host.ToolBison: "3.8.2", host.ToolFlex: "2.6.4", host.ToolMake: "4.3"}
	for k, v := range want {
		if got := r.Tool(k); got.Version != v || !got.Found() {
			t.Errorf("tool %s: %+v, want version %s", k, got, v)
		}
	}
	if len(r.Missing) != 0 {
		t.Errorf("missing %+v, want nothing", r.Missing)
	}
	if g := r.Library("gthread-2.0"); g.Version != "2.74.6" || !strings.HasSuffix(g.PCFile, "lib/pkgconfig/gthread-2.0.pc") {
		t.Errorf("gthread-2.0: %+v", g)
	}
	if len(r.ExistingSysroots()) != 1 || !strings.HasSuffix(r.ExistingSysroots()[0], "usr/x86_64-w64-mingw32") {
		t.Errorf("sysroots %+v", r.Sysroots)
	}
}

// Missing tools and libraries are all gathered, each with its package, and
// one apt-get command installs them all.
func TestProbeMissingGatheredWithInstallCommand(t *testing.T) {
	h := hosttest.New(t)
	h.Python("python3", "3.11.2", false)
	h.Tool("make", "GNU Make 4.3")
	h.File(hosttest.Sysroot+"/include/.keep", "")
	r, err := host.Probe(context.Background(), cfgFor(t, h), h.Options())
	if err != nil {
		t.Fatal(err)
	}
	got := r.InstallCommand()
	want := "apt-get install -y gcc-mingw-w64-x86-64 g++-mingw-w64-x86-64 ninja-build meson pkg-config bison flex patch cmake gettext libglib2.0-dev-bin libglib2.0-bin libgdk-pixbuf2.0-bin gcc libc6-dev libz-mingw-w64-dev"
	if got != want {
		t.Errorf("install command\n got %s\nwant %s", got, want)
	}
	var buf strings.Builder
	r.WriteText(&buf)
	for _, re := range []string{`MISSING +x86_64-w64-mingw32-gcc .*install: apt-get install -y gcc-mingw-w64-x86-64`, `MISSING +ninja .*install: apt-get install -y ninja-build`, `ok +make +4\.3`} {
		if !regexp.MustCompile(re).MatchString(buf.String()) {
			t.Errorf("report lacks %s:\n%s", re, buf.String())
		}
	}
}

func TestProbeBadInputs(t *testing.T) {
	t.Run("sysroot folder that does not exist", func(t *testing.T) {
		h := hosttest.New(t)
		h.Toolchain("1.0.1", "3.11.2")
		h.Env[config.EnvSysroot] = filepath.Join(h.Root, "no", "such", "sysroot")
		// config checks the folder before anything is probed.
		_, err := config.FromEnv(t.TempDir(), h.Getenv)
		if err == nil || !strings.Contains(err.Error(), "QEMUPACK_SYSROOT") || !strings.Contains(err.Error(), "no/such/sysroot") || !strings.Contains(err.Error(), "does not exist") {
			t.Errorf("want a clear error naming the folder, got %v", err)
		}
	})
	t.Run("pc file without version", func(t *testing.T) {
		h := hosttest.New(t)
		h.Toolchain("1.0.1", "3.11.2")
		bad := h.PC(hosttest.Sysroot, "pixman-1", "")
		_, err := host.Probe(context.Background(), cfgFor(t, h), h.Options())
		if err == nil || !strings.Contains(err.Error(), bad) || !strings.Contains(err.Error(), "no Version field") {
			t.Errorf("want an error naming %s, got %v", bad, err)
		}
	})
	t.Run("PYTHON that is not a python", func(t *testing.T) {
		h := hosttest.New(t)
		h.Toolchain("1.0.1", "3.11.2")
		h.Env[config.EnvPython] = h.Tool("notpython", "Perl 5.36.0")
		_, err := host.Probe(context.Background(), cfgFor(t, h), h.Options())
		if err == nil || !strings.Contains(err.Error(), "PYTHON=") || !strings.Contains(err.Error(), "is not a python") || !strings.Contains(err.Error(), "Perl 5.36.0") {
			t.Errorf("want a clear error, got %v", err)
		}
	})
	t.Run("PYTHON that does not exist", func(t *testing.T) {
		h := hosttest.New(t)
		h.Toolchain("1.0.1", "3.11.2")
		h.Env[config.EnvPython] = "python3.99"
		_, err := host.Probe(context.Background(), cfgFor(t, h), h.Options())
		if err == nil || !strings.Contains(err.Error(), "PYTHON=python3.99: not found on PATH") {
			t.Errorf("want a clear error, got %v", err)
		}
	})
	t.Run("all at once", func(t *testing.T) {
		h := hosttest.New(t)
		h.Toolchain("1.0.1", "3.11.2")
		h.Env[config.EnvPython] = h.Tool("notpython", "hello")
		h.PC(hosttest.Sysroot, "zlib", "")
		h.PC(hosttest.Sysroot, "pixman-1", "")
		_, err := host.Probe(context.Background(), cfgFor(t, h), h.Options())
		if err == nil || strings.Count(err.Error(), "\n") < 3 {
			t.Errorf("want three problems reported together, got %v", err)
		}
	})
}

// The user's sysroots are searched before the host's own, as
// PKG_CONFIG_LIBDIR would list them.
func TestUserSysrootFirst(t *testing.T) {
	h := hosttest.New(t)
	h.Toolchain("1.0.1", "3.11.2")
	h.PC(hosttest.Sysroot, "glib-2.0", "2.54.3")
	h.PC("opt/mystack", "glib-2.0", "2.74.6")
	h.Env[config.EnvSysroot] = filepath.Join(h.Root, "opt/mystack")
	r, err := host.Probe(context.Background(), cfgFor(t, h), h.Options())
	if err != nil {
		t.Fatal(err)
	}
	if g := r.Library("glib-2.0"); g.Version != "2.74.6" {
		t.Errorf("glib-2.0 %+v, want the one from QEMUPACK_SYSROOT", g)
	}
}

// The machine's python3 on PATH is a pyenv shim that cannot import
// mesonbuild while Debian's meson runs under /usr/bin/python3: with PYTHON
// unset the build takes meson's python, and says why.
func TestPythonChoiceShimVersusDebianMeson(t *testing.T) {
	h := hosttest.New(t)
	h.Toolchain("1.0.1", "3.11.2")
	sys := h.Python("debian-python3", "3.11.2", true)
	h.Meson("1.0.1", sys)
	h.Python("python3", "3.11.7", false) // the shim
	r, err := host.Probe(context.Background(), cfgFor(t, h), h.Options())
	if err != nil {
		t.Fatal(err)
	}
	if r.ConfigurePython.Version != "3.11.7" || r.ConfigurePython.Meson {
		t.Errorf("configure's python %+v", r.ConfigurePython)
	}
	if r.MesonPython == nil || r.MesonPython.Path != sys {
		t.Errorf("meson's python %+v, want %s", r.MesonPython, sys)
	}
	if r.BuildPython.Path != sys || !strings.Contains(r.BuildPythonWhy, "cannot import mesonbuild") {
		t.Errorf("build python %s (%s)", r.BuildPython.Path, r.BuildPythonWhy)
	}
	// PYTHON set: it wins, whatever meson runs under.
	h.Env[config.EnvPython] = filepath.Join(h.Bin, "python3")
	r, err = host.Probe(context.Background(), cfgFor(t, h), h.Options())
	if err != nil {
		t.Fatal(err)
	}
	if r.BuildPython.Version != "3.11.7" || !strings.HasPrefix(r.BuildPythonWhy, "PYTHON is set") {
		t.Errorf("with PYTHON set: %+v (%s)", r.BuildPython, r.BuildPythonWhy)
	}
}

func TestChoosePythonWithoutMeson(t *testing.T) {
	c := host.Python{Command: "python3", Path: "/usr/bin/python3", Version: "3.11.2"}
	p, why := host.ChoosePython(false, c, nil)
	if p.Path != "/usr/bin/python3" || !strings.Contains(why, "no host meson") {
		t.Errorf("%+v %s", p, why)
	}
	_, why = host.ChoosePython(false, host.Python{Command: "python3", Problem: "not found on PATH"}, nil)
	if !strings.Contains(why, "no usable python") {
		t.Errorf("%s", why)
	}
}

func TestInstallCommands(t *testing.T) {
	tr := "x86_64-w64-mingw32"
	pk := func(f host.Family, keys ...string) []string {
		var out []string
		for _, k := range keys {
			out = append(out, host.ToolPackage(f, k, tr))
		}
		return out
	}
	cases := []struct {
		f    host.Family
		want string
	}{
		{host.Debian, "apt-get install -y gcc-mingw-w64-x86-64 ninja-build meson"},
		{host.Fedora, "dnf install -y mingw64-gcc ninja-build meson"},
		{host.Cygwin, "setup-x86_64.exe -q -P mingw64-x86_64-gcc-core,ninja,meson"},
		{host.MSYS2, "pacman -S --needed --noconfirm mingw-w64-x86_64-gcc mingw-w64-x86_64-ninja mingw-w64-x86_64-meson"},
	}
	for _, c := range cases {
		if got := host.InstallCommand(c.f, pk(c.f, host.ToolGCC, host.ToolNinja, host.ToolMeson)); got != c.want {
			t.Errorf("%s: %q, want %q", c.f, got, c.want)
		}
	}
	// The cross binutils and GLib's generators are not probed, but deps
	// names their packages from here when a recipe's build misses them.
	binutils := map[host.Family]string{host.Debian: "binutils-mingw-w64-x86-64", host.Fedora: "mingw64-binutils",
		host.Cygwin: "mingw64-x86_64-binutils", host.MSYS2: "mingw-w64-x86_64-binutils"}
	for f, want := range binutils {
		if got := host.ToolPackage(f, host.ToolBinutils, tr); got != want {
			t.Errorf("%s binutils: %q, want %q", f, got, want)
		}
	}
	if got := host.ToolPackage(host.Debian, host.ToolBinutils, "i686-w64-mingw32"); got != "binutils-mingw-w64-i686" {
		t.Errorf("i686 binutils: %q", got)
	}
	for _, k := range []string{host.ToolGlibMkenums, host.ToolGlibGenmarshal, host.ToolGlibResources, host.ToolGdbusCodegen} {
		if got := host.ToolPackage(host.Debian, k, tr); got != "libglib2.0-dev-bin" {
			t.Errorf("Debian %s: %q", k, got)
		}
	}
	if host.InstallCommand(host.Unknown, []string{"x"}) != "" || host.InstallCommand(host.Debian, nil) != "" {
		t.Error("unknown family or nothing to install must give no command")
	}
	if got := host.LibraryPackage(host.Cygwin, "gthread-2.0", tr); got != "mingw64-x86_64-glib2.0" {
		t.Errorf("cygwin gthread package %q", got)
	}
	if got := host.LibraryPackage(host.Debian, "glib-2.0", tr); got != "" {
		t.Errorf("Debian ships no mingw glib, got %q", got)
	}
}

// Setup on a Debian host as root runs apt-get install -y with exactly the
// missing packages (a fake apt-get records its arguments); not as root it
// installs nothing and hands back the command.
func TestSetup(t *testing.T) {
	h := hosttest.New(t)
	h.Python("python3", "3.11.2", true)
	h.Tool("make", "GNU Make 4.3")
	h.Tool("pkg-config", "1.8.1")
	h.Tool("bison", "bison (GNU Bison) 3.8.2")
	h.Tool("flex", "flex 2.6.4")
	h.Tool("x86_64-w64-mingw32-gcc", "x86_64-w64-mingw32-gcc (GCC) 12-win32")
	h.Tool("x86_64-w64-mingw32-g++", "x86_64-w64-mingw32-g++ (GCC) 12-win32")
	h.Tool("patch", "GNU patch 2.7.6")
	h.Tool("cmake", "cmake version 3.25.1")
	h.Tool("msgfmt", "msgfmt (GNU gettext-tools) 0.21")
	h.Tool("glib-mkenums", "glib-mkenums version 2.74.6")
	h.Tool("glib-compile-schemas", "2.74.6")
	h.Tool("gdk-pixbuf-pixdata", "gdk-pixbuf-pixdata-3.0 version 2.42.10")
	h.Tool("cc", "cc (Debian 12.2.0-14) 12.2.0")
	h.PC(hosttest.Sysroot, "zlib", "1.2.13")
	log := filepath.Join(h.Root, "apt.log")
	h.Script("apt-get", `echo "$DEBIAN_FRONTEND $*" >> `+log)

	opts := h.Options()
	r, err := host.Probe(context.Background(), cfgFor(t, h), opts)
	if err != nil {
		t.Fatal(err)
	}
	_, err = host.Setup(context.Background(), r)
	var need *host.NeedInstall
	if !errors.As(err, &need) || need.Command != "sudo apt-get install -y ninja-build meson" || !strings.Contains(err.Error(), "not running as root") {
		t.Fatalf("not root: want the command back, got %v", err)
	}
	if _, err := os.Stat(log); err == nil {
		t.Fatal("apt-get ran although not root")
	}

	opts.IsRoot = func() bool { return true }
	r, err = host.Probe(context.Background(), cfgFor(t, h), opts)
	if err != nil {
		t.Fatal(err)
	}
	pkgs, err := host.Setup(context.Background(), r)
	if err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(log)
	if strings.Join(pkgs, " ") != "ninja-build meson" || strings.TrimSpace(string(data)) != "noninteractive install -y -q --no-install-recommends ninja-build meson" {
		t.Errorf("installed %v; apt-get saw %q", pkgs, data)
	}
}

func TestSetupElsewhereGivesCommand(t *testing.T) {
	h := hosttest.New(t)
	h.File("etc/os-release", "ID=fedora\nPRETTY_NAME=\"Fedora Linux 40\"\n")
	h.Python("python3", "3.12.1", true)
	r, err := host.Probe(context.Background(), cfgFor(t, h), h.Options())
	if err != nil {
		t.Fatal(err)
	}
	_, err = host.Setup(context.Background(), r)
	if err == nil || !strings.Contains(err.Error(), "dnf install -y mingw64-gcc mingw64-gcc-c++ ninja-build meson pkgconf-pkg-config bison flex make patch cmake gettext glib2-devel glib2 gdk-pixbuf2-devel gcc mingw64-glib2") {
		t.Errorf("want the dnf command, got %v", err)
	}
}

// The real probe on this machine (and in CI, which installs the toolchain
// with scripts/setup-debian.sh) finds the mingw cross compiler.
func TestRealProbeFindsMingwGCC(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the real probe test runs on the Linux build host")
	}
	cfg, err := config.FromEnv(t.TempDir(), func(k string) string {
		if k == config.EnvPython || k == config.EnvSysroot {
			return ""
		}
		return os.Getenv(k)
	})
	if err != nil {
		t.Fatal(err)
	}
	r, err := host.Probe(context.Background(), cfg, host.Options{Getenv: func(k string) string {
		if k == config.EnvPython {
			return ""
		}
		return os.Getenv(k)
	}})
	if err != nil {
		t.Fatal(err)
	}
	gcc := r.Tool(host.ToolGCC)
	if !gcc.Found() {
		t.Fatalf("x86_64-w64-mingw32-gcc not found (%s): install gcc-mingw-w64-x86-64 (scripts/setup-debian.sh)", gcc.Problem)
	}
	if !strings.HasPrefix(gcc.Raw, "x86_64-w64-mingw32-gcc") || gcc.Version == "" {
		t.Errorf("gcc: %+v", gcc)
	}
	if r.Library("zlib").Version == "" {
		t.Errorf("zlib.pc not found in %v: install libz-mingw-w64-dev", r.ExistingSysroots())
	}
	if !r.BuildPython.OK() {
		t.Errorf("no python for the build: %s", r.BuildPythonWhy)
	}
}

func TestPythonFirstPATHAndPkgConfigDirs(t *testing.T) {
	h := hosttest.New(t)
	h.Toolchain("1.0.1", "3.11.2")
	sysDir := filepath.Join(h.Root, "debian-bin")
	if err := os.MkdirAll(sysDir, 0o755); err != nil {
		t.Fatal(err)
	}
	// Debian's python in its own folder, the meson script pointing at it,
	// and a shim-like python3 on PATH that cannot import mesonbuild.
	sys := h.Python("debian-python3", "3.11.2", true)
	moved := filepath.Join(sysDir, "python3")
	if err := os.Rename(sys, moved); err != nil {
		t.Fatal(err)
	}
	h.Meson("1.0.1", moved)
	h.Python("python3", "3.11.7", false)
	h.PC(hosttest.Sysroot, "zlib", "1.2.13")
	r, err := host.Probe(context.Background(), cfgFor(t, h), h.Options())
	if err != nil {
		t.Fatal(err)
	}
	if got := r.PythonFirstPATH(h.Bin); got != sysDir+string(os.PathListSeparator)+h.Bin {
		t.Errorf("PATH %q", got)
	}
	if d := r.PkgConfigDirs(); len(d) != 1 || d[0] != filepath.Join(h.Root, hosttest.Sysroot, "lib", "pkgconfig") {
		t.Errorf("pkgconfig dirs %v", d)
	}
	// When python3 on PATH is the one to use, PATH stays as it is.
	h.Python("python3", "3.11.2", true)
	r, err = host.Probe(context.Background(), cfgFor(t, h), h.Options())
	if err != nil {
		t.Fatal(err)
	}
	if got := r.PythonFirstPATH(h.Bin); got != h.Bin {
		t.Errorf("PATH changed to %q", got)
	}
}

// QEMU finds libfdt with the compiler: a sysroot with lib/libfdt.a and no
// libfdt.pc has it (version unknown); a libfdt.pc gives the version.
func TestLibfdtWithoutPC(t *testing.T) {
	h := hosttest.New(t)
	h.Toolchain("1.0.1", "3.11.2")
	h.File(hosttest.Sysroot+"/lib/libfdt.a", "!<arch>\n")
	h.File(hosttest.Sysroot+"/lib/pkgconfig/.keep", "")
	r, err := host.Probe(context.Background(), cfgFor(t, h), h.Options())
	if err != nil {
		t.Fatal(err)
	}
	if l := r.Library("libfdt"); !l.Found() || l.Version != "" || !strings.HasSuffix(l.PCFile, "lib/libfdt.a") {
		t.Errorf("libfdt from the library file: %+v", l)
	}
	h.PC(hosttest.Sysroot, "libfdt", "1.6.1")
	r, err = host.Probe(context.Background(), cfgFor(t, h), h.Options())
	if err != nil {
		t.Fatal(err)
	}
	if l := r.Library("libfdt"); l.Version != "1.6.1" {
		t.Errorf("libfdt from libfdt.pc: %+v", l)
	}
}

func TestLibraryPackagePerFamily(t *testing.T) {
	tr := "x86_64-w64-mingw32"
	for _, c := range []struct {
		f      host.Family
		module string
		want   string
	}{
		{host.Fedora, "pixman-1", "mingw64-pixman"},
		{host.MSYS2, "libfdt", "mingw-w64-x86_64-dtc"},
		{host.MSYS2, "slirp", "mingw-w64-x86_64-libslirp"},
		{host.Cygwin, "slirp", ""}, // Cygwin ships no mingw libslirp: a recipe builds it
		{host.Debian, "zlib", "libz-mingw-w64-dev"},
	} {
		if got := host.LibraryPackage(c.f, c.module, tr); got != c.want {
			t.Errorf("LibraryPackage(%s, %s) = %q, want %q", c.f, c.module, got, c.want)
		}
	}
	if got := host.LibraryPackage(host.Fedora, "zlib", "i686-w64-mingw32"); got != "mingw32-zlib" {
		t.Errorf("i686 Fedora zlib = %q", got)
	}
}

// QEMU 8.1+'s configure makes a python venv and reads pythondeps.toml: a
// build python without ensurepip (Debian's python3-venv) or, before 3.11,
// without tomli is reported with the package that gives it; pip and
// setuptools stand in for ensurepip, as they do for QEMU's mkvenv.
func TestProbeReportsWhatTheVenvNeeds(t *testing.T) {
	for _, tc := range []struct {
		name, mods string
		want       []string
	}{
		{"bare python 3.10", "venv=1 ensurepip=0 pip=0 setuptools=0 tomllib=0 tomli=0", []string{"python3-venv", "python3-tomli"}},
		{"pip and setuptools", "venv=1 ensurepip=0 pip=1 setuptools=1 tomllib=0 tomli=1", nil},
		{"Debian 12 with python3-venv", "venv=1 ensurepip=1 pip=0 setuptools=0 tomllib=1 tomli=0", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := hosttest.New(t)
			h.Toolchain("1.0.1", "3.11.2")
			h.Libs(map[string]string{"glib-2.0": "2.74.6", "gthread-2.0": "2.74.6", "pixman-1": "0.42.2", "zlib": "1.2.13", "slirp": "4.7.0"})
			py := h.Script("python3", `case "$1" in
--version) echo "Python 3.11.2" ;;
-c) echo "executable=`+filepath.Join(h.Bin, "python3")+`"; echo "mesonbuild=1"; for m in `+tc.mods+`; do echo "$m"; done ;;
*) s="$1"; shift; exec /bin/sh "$s" "$@" ;;
esac`)
			h.Meson("1.0.1", py)
			r, err := host.Probe(context.Background(), cfgFor(t, h), h.Options())
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, m := range r.Missing {
				got = append(got, m.Package)
			}
			if strings.Join(got, " ") != strings.Join(tc.want, " ") {
				t.Errorf("missing %+v, want packages %q", r.Missing, tc.want)
			}
		})
	}
}
