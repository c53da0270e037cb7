// Package xbuild cross-builds QEMU for Windows: configure with the mingw
// cross prefix, ninja building only what gets installed, and `meson
// install` into a staging folder under the cache. Every command line is
// computed by pure functions from a Plan (tested without running anything);
// Build runs them, on Linux directly or under Cygwin through its bash.
package xbuild

import (
	"fmt"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"qemupack/internal/deps"
)

// HostKind is the kind of machine the build runs on.
type HostKind string

const (
	HostLinux  HostKind = "linux"
	HostCygwin HostKind = "cygwin"
)

// Plan is everything the build's commands depend on. Paths are native to
// the program running the build (Windows paths when it runs under Cygwin).
type Plan struct {
	Host        HostKind
	SourceDir   string
	BuildDir    string
	CrossPrefix string   // e.g. x86_64-w64-mingw32-
	Targets     []string // checked, sorted, e.g. [x86_64-softmmu]
	// PkgConfigLibDirs are the folders holding .pc files, in lookup order:
	// the deps prefixes' lib/pkgconfig, then the host sysroots'.
	PkgConfigLibDirs []string
	// DepsPrefixes get -I<p>/include and -L<p>/lib: libraries QEMU finds
	// without pkg-config (libfdt in 7.2: cc.find_library and its header).
	DepsPrefixes []string
	// PathPrepend goes before the inherited PATH: the folder of the Python
	// that runs meson, so QEMU's configure and meson agree on one Python.
	PathPrepend []string
	// Python, when set, is passed as --python= (trees that configure
	// through a venv, QEMU 8.1+: the distribution's interpreter, never a
	// pyenv shim). Older trees take the Python from PATH (PathPrepend):
	// QEMU 7.2's configure refuses --python= next to a system meson.
	Python string
	// PythonPath is PYTHONPATH for every step: the unpacked packages that
	// give configure's venv what the tree asks for and the host lacks
	// (meson). Ninja needs it too: the venv's meson script imports them.
	PythonPath []string
	// NoBlobs adds --disable-install-blobs: the tree is a repack without
	// the firmware pc-bios/meson.build would install (MissingBlobs).
	NoBlobs bool
	// ROMDir is the folder the x86 option ROMs are built in and HostCC the
	// build machine's C compiler that builds them (see OptionROMCommand).
	ROMDir string
	HostCC string
	// Known is the set of configure options the tree understands (see
	// KnownOptions); options it lacks are left out, not passed.
	Known map[string]bool
	// Enable are the options the profile's features turn on
	// (profile.Configure); none gives the lean headless line.
	Enable []string
	Jobs   int
	// NinjaTargets are the build files to make (see ShippedTargets).
	NinjaTargets []string
	DestDir      string // meson install --destdir
	// Cygwin only: Bash is Cygwin's bash.exe and ToPosix converts a
	// native path to a Cygwin one (cygpath -u).
	Bash    string
	ToPosix func(string) string
}

// Command is one program run: Args, the environment variables to set on top
// of the inherited environment (sorted KEY=VALUE), and the folder.
type Command struct {
	Args []string
	Env  []string
	Dir  string
}

// Feature choices. headlessOff lists what a headless Windows build leaves
// out: display front ends, guest agent and docs, and optional libraries we
// do not build or bundle (so a sysroot that happens to have them — Cygwin's,
// Fedora's — gives the same binaries as one that does not).
var headlessOff = []string{
	"brlapi", "bzip2", "canokey", "capstone", "curl", "curses", "dbus-display",
	"debug-info", "docs", "gcrypt", "gettext", "gio", "glusterfs", "gnutls",
	"gtk", "guest-agent", "guest-agent-msi", "jack", "libiscsi", "libnfs",
	"libssh", "libusb", "lzfse", "lzo", "nettle", "opengl", "pa", "plugins",
	"png", "qga-vss", "rbd", "sdl", "sdl-image", "smartcard", "snappy", "sndio",
	"spice", "spice-protocol", "u2f", "usb-redir", "virglrenderer", "vnc-jpeg",
	"vnc-sasl", "vte", "werror", "xkbcommon", "zstd",
	// QEMU 10: the Rust devices want meson 1.9 and a rustc; and
	// "download" is not a feature but the switch that keeps configure
	// from fetching anything (PyPI for its venv, subproject wraps).
	"rust", "download",
}

// mustOn is what the build is for: slirp user networking, VNC for a
// display, the tools (qemu-img), and libfdt from the deps stack (needed by
// x86_64's microvm; the dfsg tree carries no dtc copy).
var mustOn = []string{"--enable-fdt=system", "--enable-slirp", "--enable-system", "--enable-tools", "--enable-vnc"}

// optionRE matches the --enable-x / --disable-x / --enable-x= options a
// configure script or QEMU's meson-buildoptions.sh accepts.
var optionRE = regexp.MustCompile(`--(?:enable|disable)-[a-z0-9][a-z0-9-]*[a-z0-9]=?`)

// KnownOptions reads the options the tree's configure understands from
// configure and scripts/meson-buildoptions.sh (QEMU 7.0 and later).
func KnownOptions(srcDir string) (map[string]bool, error) {
	known := map[string]bool{}
	found := false
	for _, f := range []string{"configure", filepath.Join("scripts", "meson-buildoptions.sh")} {
		b, err := os.ReadFile(filepath.Join(srcDir, f))
		if os.IsNotExist(err) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("configure options: %w", err)
		}
		found = true
		for _, m := range optionRE.FindAllString(string(b), -1) {
			known[m] = true
		}
	}
	if !found {
		return nil, fmt.Errorf("configure options: no configure script in %s", srcDir)
	}
	return known, nil
}

// ConfigureOptions returns the feature options for the tree (sorted), and
// the headless choices it had to leave out because the tree lacks them.
// enable are the options a profile's features turn on (profile.Configure):
// each replaces headlessOff's --disable- of the same name, and the tree
// must know it. With none, the line is the lean headless build's. A
// required option the tree lacks is an error.
func ConfigureOptions(known map[string]bool, enable ...string) (opts, skipped []string, err error) {
	seen := map[string]bool{}
	on := map[string]bool{}
	add := func(o string) {
		if !seen[o] {
			seen[o] = true
			opts = append(opts, o)
		}
	}
	for _, o := range mustOn {
		name := optionName(o)
		if !known[name] {
			return nil, nil, fmt.Errorf("this QEMU's configure has no %s option, which a headless build with slirp and VNC needs", name)
		}
		add(o)
	}
	var lacking []string
	for _, o := range enable {
		name := optionName(o)
		if !strings.HasPrefix(name, "--enable-") {
			return nil, nil, fmt.Errorf("configure: %q is not an --enable- option", o)
		}
		if !known[name] {
			lacking = append(lacking, name)
			continue
		}
		on[strings.TrimSuffix(strings.TrimPrefix(name, "--enable-"), "=")] = true
		add(o)
	}
	if len(lacking) > 0 {
		return nil, nil, fmt.Errorf("this QEMU's configure has no %s: the profile's features need them (use a newer QEMU, or QEMUPACK_PROFILE=headless)", strings.Join(lacking, ", "))
	}
	for _, f := range headlessOff {
		if on[f] {
			continue
		}
		o := "--disable-" + f
		if known[o] {
			add(o)
		} else {
			skipped = append(skipped, o)
		}
	}
	sort.Strings(opts)
	return opts, skipped, nil
}

// optionName is the option without its value: --enable-fdt= for
// --enable-fdt=system (as KnownOptions lists it).
func optionName(o string) string {
	if i := strings.Index(o, "="); i >= 0 {
		return o[:i+1]
	}
	return o
}

func (p Plan) posix(native string) string {
	if p.Host == HostCygwin && p.ToPosix != nil {
		return p.ToPosix(native)
	}
	if p.Host == HostCygwin {
		return filepath.ToSlash(native)
	}
	return native
}

func (p Plan) join(elem ...string) string {
	if p.Host == HostCygwin {
		return path.Join(elem...)
	}
	return filepath.Join(elem...)
}

// env is the environment every step sets, sorted.
func (p Plan) env() []string {
	var libdirs []string
	for _, d := range p.PkgConfigLibDirs {
		libdirs = append(libdirs, p.posix(d))
	}
	// PKG_CONFIG names the build machine's pkg-config: QEMU's configure
	// writes it into meson's cross file (else it would ask for
	// <cross-prefix>pkg-config, which Debian does not ship), and
	// PKG_CONFIG_LIBDIR points it at the mingw .pc files only.
	env := []string{
		"PKG_CONFIG=pkg-config",
		"PKG_CONFIG_LIBDIR=" + strings.Join(libdirs, ":"),
		"PKG_CONFIG_PATH=",
		"PKG_CONFIG_SYSROOT_DIR=",
	}
	if len(p.PythonPath) > 0 {
		var dirs []string
		for _, d := range p.PythonPath {
			dirs = append(dirs, p.posix(d))
		}
		env = append(env, "PYTHONPATH="+strings.Join(dirs, ":"))
	}
	sort.Strings(env)
	return env
}

// ConfigureCommand is the configure run: pure, from the plan alone.
func ConfigureCommand(p Plan) (Command, error) {
	if p.SourceDir == "" || p.BuildDir == "" || p.CrossPrefix == "" {
		return Command{}, fmt.Errorf("configure: the plan needs a source folder, a build folder and a cross prefix")
	}
	if len(p.Targets) == 0 {
		return Command{}, fmt.Errorf("configure: no targets")
	}
	opts, _, err := ConfigureOptions(p.Known, p.Enable...)
	if err != nil {
		return Command{}, err
	}
	if p.NoBlobs {
		if !p.Known["--disable-install-blobs"] {
			return Command{}, fmt.Errorf("configure: the tree lacks the firmware pc-bios/meson.build installs, and its configure has no --disable-install-blobs")
		}
		opts = append(opts, "--disable-install-blobs")
		sort.Strings(opts)
	}
	targets := append([]string(nil), p.Targets...)
	sort.Strings(targets)
	args := []string{
		p.join(p.posix(p.SourceDir), "configure"),
		"--cross-prefix=" + p.CrossPrefix,
		"--target-list=" + strings.Join(targets, ","),
	}
	if p.Python != "" {
		args = append(args, "--python="+p.posix(p.Python))
	}
	cflags, ldflags, err := p.reproFlags()
	if err != nil {
		return Command{}, err
	}
	for _, d := range p.DepsPrefixes {
		d = p.posix(d)
		if strings.ContainsAny(d, " \t") {
			return Command{}, fmt.Errorf("configure: the deps prefix %q has a space in it, which QEMU's --extra-cflags cannot carry; use a cache folder without spaces (QEMUPACK_CACHE)", d)
		}
		// As the deps .pc files write them (deps.LinkPath): GNU ld orders
		// import tables by library path, and this keeps that order the
		// same wherever the cache is.
		cflags = append(cflags, "-I"+deps.LinkPath(p.join(d, "include")))
		ldflags = append(ldflags, "-L"+deps.LinkPath(p.join(d, "lib")))
	}
	args = append(args, "--extra-cflags="+strings.Join(cflags, " "), "--extra-ldflags="+strings.Join(ldflags, " "))
	args = append(args, opts...)
	return p.wrap(args)
}

// OptionROMConfig is the config.mak pc-bios/optionrom/Makefile reads, as
// QEMU's configure writes it when it finds an i386 compiler (its
// write_target_makefile): the build machine's gcc, which makes 16-bit code
// with -m16 and links with its own ld (elf_i386) and no libraries.
func OptionROMConfig(p Plan) (string, error) {
	if p.HostCC == "" || p.SourceDir == "" {
		return "", fmt.Errorf("option ROMs: the plan needs the build machine's C compiler and the source folder")
	}
	py := p.Python
	if py == "" {
		py = "python3"
	}
	var b strings.Builder
	b.WriteString("# Written by qemupack: a mingw cross build has no i386 compiler of its own\n")
	for _, kv := range [][2]string{
		{"TOPSRC_DIR", p.posix(p.SourceDir)}, {"EXTRA_CFLAGS", "-m32"},
		{"CC", p.HostCC}, {"CCAS", p.HostCC}, {"AR", "ar"}, {"AS", "as"}, {"LD", "ld"}, {"NM", "nm"},
		{"OBJCOPY", "objcopy"}, {"RANLIB", "ranlib"}, {"STRIP", "strip"}, {"PYTHON", py},
	} {
		b.WriteString(kv[0] + "=" + kv[1] + "\n")
	}
	return b.String(), nil
}

// OptionROMCommand makes the x86 option ROMs (OptionROMs) in ROMDir from
// the tree's pc-bios/optionrom with OptionROMConfig's config.mak there.
func OptionROMCommand(p Plan) (Command, error) {
	if p.ROMDir == "" {
		return Command{}, fmt.Errorf("option ROMs: no build folder for them")
	}
	if p.Host == HostCygwin {
		return Command{}, fmt.Errorf("option ROMs: Cygwin's gcc makes PE objects, not the ELF the ROM link needs")
	}
	q := p
	q.BuildDir = p.ROMDir
	return q.wrap([]string{"make", "-f", p.join(p.SourceDir, "pc-bios", "optionrom", "Makefile"), "all"})
}

// ToolCommand runs a tool of the toolchain (e.g. the cross gcc) with the
// plan's host wrapping but in no particular folder.
func ToolCommand(p Plan, args ...string) (Command, error) {
	p.BuildDir = ""
	return p.wrap(args)
}

// IntrospectCommand lists the build's targets as JSON (meson introspect).
func IntrospectCommand(p Plan) (Command, error) {
	return p.wrap([]string{"meson", "introspect", "--targets", "."})
}

// NinjaCommand builds the shipped targets only.
func NinjaCommand(p Plan) (Command, error) {
	if len(p.NinjaTargets) == 0 {
		return Command{}, fmt.Errorf("ninja: no targets to build (did meson introspect list none installed?)")
	}
	jobs := p.Jobs
	if jobs < 1 {
		jobs = 1
	}
	args := []string{"ninja", fmt.Sprintf("-j%d", jobs)}
	args = append(args, p.NinjaTargets...)
	return p.wrap(args)
}

// InstallCommand installs what was built into DestDir without building
// anything more.
func InstallCommand(p Plan) (Command, error) {
	if p.DestDir == "" {
		return Command{}, fmt.Errorf("install: no destination folder")
	}
	return p.wrap([]string{"meson", "install", "--no-rebuild", "--destdir", p.posix(p.DestDir)})
}

// wrap makes the host's command for args run in the build folder with the
// plan's environment. On Linux that is args itself; under Cygwin a
// bash -lc script, since configure, meson and ninja are Cygwin programs.
func (p Plan) wrap(args []string) (Command, error) {
	env := p.env()
	switch p.Host {
	case HostLinux, "":
		if len(p.PathPrepend) > 0 {
			env = append(env, "PATH="+strings.Join(p.PathPrepend, string(os.PathListSeparator))+string(os.PathListSeparator)+"$PATH")
			sort.Strings(env)
		}
		return Command{Args: args, Env: env, Dir: p.BuildDir}, nil
	case HostCygwin:
		if p.Bash == "" {
			return Command{}, fmt.Errorf("cygwin: no bash.exe given")
		}
		var b strings.Builder
		b.WriteString("set -e")
		if p.BuildDir != "" {
			b.WriteString("; cd " + shQuote(p.posix(p.BuildDir)))
		}
		if len(p.PathPrepend) > 0 {
			var dirs []string
			for _, d := range p.PathPrepend {
				dirs = append(dirs, shQuote(p.posix(d)))
			}
			b.WriteString("; export PATH=" + strings.Join(dirs, ":") + `:"$PATH"`)
		}
		b.WriteString("; exec env")
		for _, kv := range env {
			b.WriteString(" " + shQuote(kv))
		}
		for _, a := range args {
			b.WriteString(" " + shQuote(a))
		}
		return Command{
			Args: []string{p.Bash, "-lc", b.String()},
			// A login shell starts in $HOME unless told to stay.
			Env: []string{"CHERE_INVOKING=1"},
			Dir: p.BuildDir,
		}, nil
	}
	return Command{}, fmt.Errorf("unknown host kind %q", p.Host)
}

// shQuote quotes s for a POSIX shell.
func shQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_=/.,:+@%") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// Environ resolves a Command's Env against a base environment (os.Environ
// in real use): "$PATH" in a PATH value is replaced by the base's PATH.
func (c Command) Environ(base []string) []string {
	basePath := ""
	for _, kv := range base {
		if strings.HasPrefix(kv, "PATH=") {
			basePath = kv[len("PATH="):]
		}
	}
	out := make([]string, 0, len(c.Env))
	for _, kv := range c.Env {
		if strings.HasPrefix(kv, "PATH=") {
			kv = strings.Replace(kv, "$PATH", basePath, 1)
		}
		out = append(out, kv)
	}
	return out
}
