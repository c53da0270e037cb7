// Package host probes the machine qemupack runs on: which kind of host it
// is (Debian/Ubuntu, Fedora, Cygwin, MSYS2), which build tools it has and in
// which versions, which python the build should use, where its mingw
// sysroots are and which versions of the libraries QEMU needs they hold.
// Everything it finds is a value (Report) that the pick and the build read;
// every missing piece comes with the exact command that installs it.
//
// The probe reaches the machine only through Options (the program runner,
// PATH lookup, the filesystem root, GOOS), so tests drive it with fake
// sysroots and fake programs.
package host

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"time"

	"qemupack/internal/config"
	"qemupack/internal/run"
)

// Exec runs a program (args[0] is a path found by LookPath) with env (nil =
// the process environment) and returns its standard output and standard
// error together.
type Exec func(ctx context.Context, env []string, args ...string) (string, error)

// Options are the probe's ways into the machine. The zero value probes the
// real machine.
type Options struct {
	GOOS string // default runtime.GOOS
	// Root is prefixed to /etc/os-release and the host's own sysroot paths
	// on Linux ("" = the real root). Tests point it at a fake tree.
	Root   string
	Getenv func(string) string // default os.Getenv; PATH and PYTHON are read through it
	// LookPath finds a program; default: search Getenv("PATH").
	LookPath func(name string) (string, error)
	Exec     Exec        // default: internal/run with a timeout
	IsRoot   func() bool // default: effective uid 0
	// Timeout bounds each probe command (default 20 s).
	Timeout time.Duration
	// Log, when set, hears what Setup is about to install.
	Log func(string)
	// Jobs are the jobs beyond the build whose needs count as missing
	// (and so are installed by Setup): JobSmoke for bundle, JobTest too
	// for the test suite. The probe reports every job's needs regardless.
	Jobs []Job
}

// WithDefaults fills every unset field with the real machine's.
func (o Options) WithDefaults() Options {
	if o.GOOS == "" {
		o.GOOS = runtime.GOOS
	}
	if o.Getenv == nil {
		o.Getenv = os.Getenv
	}
	if o.LookPath == nil {
		getenv, goos := o.Getenv, o.GOOS
		o.LookPath = func(name string) (string, error) { return lookPath(name, getenv("PATH"), goos) }
	}
	if o.Timeout <= 0 {
		o.Timeout = 20 * time.Second
	}
	if o.Exec == nil {
		timeout := o.Timeout
		o.Exec = func(ctx context.Context, env []string, args ...string) (string, error) {
			ctx, cancel := context.WithTimeout(ctx, timeout)
			defer cancel()
			var b strings.Builder
			err := run.Run(ctx, run.Cmd{Args: args, Env: env, Line: func(s string) { b.WriteString(s + "\n") }, TailLines: 5})
			return b.String(), err
		}
	}
	if o.IsRoot == nil {
		o.IsRoot = func() bool { return os.Geteuid() == 0 }
	}
	return o
}

// Tool is one build tool as found (or not) on the host.
type Tool struct {
	Key      string `json:"key"`               // ToolGCC, ToolNinja, ...
	Command  string `json:"command"`           // the program looked for
	Path     string `json:"path,omitempty"`    // where it was found
	Version  string `json:"version,omitempty"` // e.g. 1.11.1; "" when missing
	Raw      string `json:"raw,omitempty"`     // the first line of its version output
	Required bool   `json:"required"`          // every QEMU build needs it
	Purpose  string `json:"purpose"`
	Package  string `json:"package,omitempty"` // what installs it on this host
	Problem  string `json:"problem,omitempty"` // why it is unusable, "" when fine
}

// Found says whether the tool is there and answered with a version.
func (t Tool) Found() bool { return t.Path != "" && t.Version != "" && t.Problem == "" }

// Library is a pkg-config module found (or not) in the sysroots.
type Library struct {
	Module  string `json:"module"`
	Present bool   `json:"present"`
	Version string `json:"version,omitempty"` // "" when present without a .pc file (libfdt)
	PCFile  string `json:"pc_file,omitempty"` // the .pc file, or the library file when there is none
	Sysroot string `json:"sysroot,omitempty"`
	Package string `json:"package,omitempty"` // what installs it on this host ("" = none we know)
}

// Found says whether the library is in a sysroot.
func (l Library) Found() bool { return l.Present }

// Sysroot is one mingw sysroot folder.
type Sysroot struct {
	Path          string   `json:"path"`            // as this program opens it
	Posix         string   `json:"posix,omitempty"` // as the Cygwin/MSYS2 shell spells it
	Origin        string   `json:"origin"`          // "host" or "QEMUPACK_SYSROOT"
	Exists        bool     `json:"exists"`
	PkgConfigDirs []string `json:"pkgconfig_dirs,omitempty"`
}

// Python is one python interpreter as probed.
type Python struct {
	Command    string `json:"command"`              // as named: python3, /usr/bin/python3
	Path       string `json:"path,omitempty"`       // where the name resolved on PATH
	Executable string `json:"executable,omitempty"` // sys.executable: the real interpreter behind a shim
	Version    string `json:"version,omitempty"`
	Meson      bool   `json:"imports_meson"` // can import mesonbuild (the system meson's modules)
	Venv       bool   `json:"has_venv"`      // has venv and ensurepip
	// VenvReady: QEMU 8.1+'s configure can make its venv: the venv module
	// and ensurepip, or pip and setuptools (then mkvenv skips ensurepip).
	VenvReady bool `json:"venv_ready"`
	// TOML: tomllib (Python 3.11+) or tomli, to read pythondeps.toml.
	TOML    bool   `json:"has_toml"`
	Problem string `json:"problem,omitempty"`
}

// OK says whether the interpreter ran and told its version.
func (p Python) OK() bool { return p.Version != "" && p.Problem == "" }

// Missing is one thing to install, with the package that provides it.
type Missing struct {
	What    string `json:"what"`
	Package string `json:"package,omitempty"` // several are separated by spaces
	Why     string `json:"why"`
	Job     Job    `json:"job,omitempty"` // "" for the build toolchain
}

// Report is everything the probe found.
type Report struct {
	GOOS           string       `json:"goos"`
	Family         Family       `json:"family"`
	Distro         string       `json:"distro"`
	PackageManager string       `json:"package_manager"`
	Root           bool         `json:"root"` // running as root
	Layout         *PosixLayout `json:"layout,omitempty"`
	CrossPrefix    string       `json:"cross_prefix"`
	Triplet        string       `json:"triplet"`
	Tools          []Tool       `json:"tools"`
	// ConfigurePython is what QEMU's configure would run (PYTHON, else
	// python3 on PATH); MesonPython is what the host's meson runs under;
	// BuildPython is what qemupack gives the build, and BuildPythonWhy says why.
	ConfigurePython Python    `json:"configure_python"`
	MesonPython     *Python   `json:"meson_python,omitempty"`
	BuildPython     Python    `json:"build_python"`
	BuildPythonWhy  string    `json:"build_python_why"`
	Sysroots        []Sysroot `json:"sysroots"`
	// GCCRuntime is the cross compiler's runtime folder (libgcc_s_seh-1.dll,
	// libssp-0.dll, libstdc++-6.dll), as this program opens it; "" when
	// the compiler is missing.
	GCCRuntime string    `json:"gcc_runtime,omitempty"`
	Libraries  []Library `json:"libraries"`
	// Needs are what the smoke, the release, the test suite and the
	// fresh-root check need beyond the toolchain, each found or not (see Needs).
	Needs   []NeedState `json:"needs"`
	Missing []Missing   `json:"missing"`
	Notes   []string    `json:"notes,omitempty"`

	opts      Options
	noInstall bool // QEMUPACK_SETUP=no: Setup installs nothing
}

// Tool returns the tool with the given key.
func (r Report) Tool(key string) Tool {
	for _, t := range r.Tools {
		if t.Key == key {
			return t
		}
	}
	return Tool{Key: key}
}

// Library returns what was found for a pkg-config module.
func (r Report) Library(module string) Library {
	for _, l := range r.Libraries {
		if l.Module == module {
			return l
		}
	}
	return Library{Module: module}
}

// MissingPackages lists the packages that would install what is missing.
func (r Report) MissingPackages() []string {
	var pkgs []string
	for _, m := range r.Missing {
		pkgs = append(pkgs, strings.Fields(m.Package)...)
	}
	return uniq(pkgs)
}

// InstallCommand is the one command that installs everything missing that
// this host has a package for ("" when nothing is missing).
func (r Report) InstallCommand() string {
	return InstallCommand(r.Family, r.MissingPackages())
}

// ExistingSysroots gives the sysroot folders that exist, in search order.
func (r Report) ExistingSysroots() []string {
	var out []string
	for _, s := range r.Sysroots {
		if s.Exists {
			out = append(out, s.Path)
		}
	}
	return out
}

type toolSpec struct {
	key, command string
	args         []string
	required     bool
	purpose      string
}

// Probe looks at the host. Bad settings (a QEMUPACK_SYSROOT folder that does
// not exist, a PYTHON that is not a python, a .pc file without a version)
// are returned together as one error, with the report as far as it got.
func Probe(ctx context.Context, cfg config.Config, opts Options) (Report, error) {
	o := opts.WithDefaults()
	r := Report{GOOS: o.GOOS, CrossPrefix: cfg.CrossPrefix, Triplet: strings.TrimSuffix(cfg.CrossPrefix, "-"), Root: o.IsRoot(), opts: o, noInstall: cfg.NoSetup}
	var problems []string
	bad := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }

	r.detectFamily(ctx)

	specs := []toolSpec{
		{ToolGCC, cfg.CrossPrefix + "gcc", []string{"--version"}, true, "the mingw cross C compiler"},
		{ToolGXX, cfg.CrossPrefix + "g++", []string{"--version"}, false, "the mingw cross C++ compiler: the zstd recipe's meson project (and GTK's harfbuzz) asks for it"},
		{ToolNinja, "ninja", []string{"--version"}, false, "runs the build meson writes (QEMU 5.2 and later)"},
		{ToolMeson, "meson", []string{"--version"}, false, "configures QEMU 5.2 and later (unless the release bundles its own)"},
		{ToolPkgConfig, "pkg-config", []string{"--version"}, true, "finds the mingw libraries (pointed at the sysroots with PKG_CONFIG_LIBDIR)"},
		{ToolCrossPkgCf, cfg.CrossPrefix + "pkg-config", []string{"--version"}, false, "not needed: qemupack points pkg-config at the sysroots itself"},
		{ToolBison, "bison", []string{"--version"}, false, "builds the device-tree compiler QEMU may bundle"},
		{ToolFlex, "flex", []string{"--version"}, false, "builds the device-tree compiler QEMU may bundle"},
		{ToolMake, "make", []string{"--version"}, true, "drives QEMU's build and the autotools recipes"},
		{ToolPatch, "patch", []string{"--version"}, true, "applies Debian's and our patches to QEMU and the libraries"},
		{ToolCMake, "cmake", []string{"--version"}, false, "builds the recipes that use CMake (the desk profile's capstone and libssh)"},
		{ToolMsgfmt, "msgfmt", []string{"--version"}, false, "libgpg-error's install runs it (even with --disable-nls) where the host has no mingw libgcrypt"},
		{ToolGlibMkenums, "glib-mkenums", []string{"--version"}, false, "GLib's code generators of the build machine (with glib-genmarshal, glib-compile-resources, gdbus-codegen): the GTK stack's recipes run them"},
		{ToolGlibSchemas, "glib-compile-schemas", []string{"--version"}, false, "compiles GTK's GSettings schemas, in its recipe and into the desk archive"},
		{ToolPixdata, "gdk-pixbuf-pixdata", []string{"--version"}, false, "turns GTK's theme images into the pixel data its resources embed (glib-compile-resources runs it while GTK builds)"},
		{ToolCC, "cc", []string{"--version"}, false, "the build machine's C compiler: QEMU 8+'s meson asks for it; it also makes the x86 option ROMs of Debian's repacks"},
	}
	for _, s := range specs {
		t := r.probeTool(ctx, s)
		r.Tools = append(r.Tools, t)
		if !t.Found() && s.key != ToolCrossPkgCf {
			r.Missing = append(r.Missing, Missing{What: t.Command, Package: t.Package, Why: t.Purpose})
		}
	}

	r.GCCRuntime = r.probeGCCRuntime(ctx)

	// Python: what configure would use, what meson runs under, and which
	// one the build gets.
	userPython := strings.TrimSpace(o.Getenv(config.EnvPython)) != ""
	r.ConfigurePython = r.probePython(ctx, cfg.Python)
	if !r.ConfigurePython.OK() {
		if userPython {
			bad("%s=%s: %s", config.EnvPython, cfg.Python, r.ConfigurePython.Problem)
		}
	}
	if m := r.Tool(ToolMeson); m.Found() {
		if interp := scriptInterpreter(m.Path); interp != "" {
			p := r.probePython(ctx, interp)
			r.MesonPython = &p
		} else {
			r.Notes = append(r.Notes, fmt.Sprintf("meson at %s is not a python script: cannot tell which python it runs under", m.Path))
		}
	}
	r.BuildPython, r.BuildPythonWhy = ChoosePython(userPython, r.ConfigurePython, r.MesonPython)
	pyTool := Tool{Key: ToolPython, Command: cfg.Python, Path: r.BuildPython.Path, Version: r.BuildPython.Version,
		Raw: "Python " + r.BuildPython.Version, Required: true, Purpose: "runs QEMU's configure and meson",
		Package: ToolPackage(r.Family, ToolPython, r.Triplet), Problem: r.BuildPython.Problem}
	if r.BuildPython.Command != cfg.Python {
		pyTool.Command = r.BuildPython.Command
	}
	if !r.BuildPython.OK() {
		pyTool.Raw = ""
		if !userPython {
			r.Missing = append(r.Missing, Missing{What: cfg.Python, Package: pyTool.Package, Why: pyTool.Purpose})
		}
	}
	r.Tools = slices.Insert(r.Tools, 3, pyTool) // after meson, as users read them
	if r.BuildPython.OK() {
		// QEMU 8.1 and later configure through a venv (python/scripts/mkvenv.py).
		if !r.BuildPython.VenvReady {
			r.Missing = append(r.Missing, Missing{What: "venv/ensurepip for " + r.BuildPython.Command,
				Package: ToolPackage(r.Family, ToolPyVenv, r.Triplet), Why: "QEMU 8.1 and later configure through a python venv"})
		}
		if !r.BuildPython.TOML {
			r.Missing = append(r.Missing, Missing{What: "tomli for " + r.BuildPython.Command,
				Package: ToolPackage(r.Family, ToolPyTOML, r.Triplet), Why: "QEMU 8.1 and later read pythondeps.toml (Python before 3.11 has no tomllib)"})
		}
	} else if !userPython {
		// No python at all (a fresh machine): the system's python3 is what
		// gets installed, and its venv package goes with it, or the probe
		// after the install would find the venv missing with nothing left
		// to install it.
		if pkg := ToolPackage(r.Family, ToolPyVenv, r.Triplet); pkg != "" {
			r.Missing = append(r.Missing, Missing{What: "venv/ensurepip for " + r.BuildPython.Command, Package: pkg,
				Why: "QEMU 8.1 and later configure through a python venv"})
		}
	}

	// Sysroots: the user's first (they were named on purpose), then the host's own.
	for _, dir := range cfg.Sysroots {
		s := Sysroot{Path: dir, Origin: config.EnvSysroot}
		if r.Layout != nil && !IsWindowsPath(dir) && strings.HasPrefix(dir, "/") {
			s.Posix, s.Path = dir, r.Layout.ToWindows(dir)
		}
		fi, err := os.Stat(s.Path)
		switch {
		case err != nil:
			bad("%s: sysroot folder %s does not exist (name existing mingw sysroot folders, separated by %q)", config.EnvSysroot, dir, string(os.PathListSeparator))
		case !fi.IsDir():
			bad("%s: %s is a file, not a sysroot folder", config.EnvSysroot, dir)
		default:
			s.Exists = true
		}
		r.Sysroots = append(r.Sysroots, s)
	}
	for _, p := range DefaultSysroots(r.Family, r.Triplet) {
		s := Sysroot{Origin: "host"}
		if r.Layout != nil {
			s.Posix, s.Path = p, r.Layout.ToWindows(p)
		} else {
			s.Path = filepath.Join(o.Root+"/", p)
		}
		if fi, err := os.Stat(s.Path); err == nil && fi.IsDir() {
			s.Exists = true
		}
		r.Sysroots = append(r.Sysroots, s)
	}
	for i, s := range r.Sysroots {
		if !s.Exists {
			continue
		}
		for _, d := range []string{"lib/pkgconfig", "share/pkgconfig"} {
			dir := filepath.Join(s.Path, filepath.FromSlash(d))
			if fi, err := os.Stat(dir); err == nil && fi.IsDir() {
				r.Sysroots[i].PkgConfigDirs = append(r.Sysroots[i].PkgConfigDirs, dir)
			}
		}
	}
	if len(r.ExistingSysroots()) == 0 {
		r.Notes = append(r.Notes, "no mingw sysroot found: install the cross compiler or name one in "+config.EnvSysroot)
	}

	// Libraries: the first sysroot that has the .pc file wins, as with
	// PKG_CONFIG_LIBDIR listing them in the same order. QEMU finds libfdt
	// with the compiler, not pkg-config, so for it the library file counts.
	for _, mod := range Libraries {
		lib := Library{Module: mod, Package: LibraryPackage(r.Family, mod, r.Triplet)}
	search:
		for _, s := range r.Sysroots {
			for _, dir := range s.PkgConfigDirs {
				path := filepath.Join(dir, mod+".pc")
				if _, err := os.Stat(path); err != nil {
					continue
				}
				pc, err := ReadPC(path)
				if err != nil {
					bad("%v", err)
					break search
				}
				lib.Present, lib.Version, lib.PCFile, lib.Sysroot = true, pc.Version, path, s.Path
				break search
			}
			if mod == "libfdt" && s.Exists {
				for _, f := range []string{"lib/libfdt.dll.a", "lib/libfdt.a"} {
					if _, err := os.Stat(filepath.Join(s.Path, filepath.FromSlash(f))); err == nil {
						lib.Present, lib.PCFile, lib.Sysroot = true, filepath.Join(s.Path, filepath.FromSlash(f)), s.Path
						break search
					}
				}
			}
		}
		if !lib.Found() && lib.Package != "" {
			r.Missing = append(r.Missing, Missing{What: mod + " (mingw)", Package: lib.Package, Why: "library QEMU links"})
		}
		r.Libraries = append(r.Libraries, lib)
	}

	r.probeNeeds(o.Jobs)

	if len(problems) > 0 {
		return r, errors.New("host probe:\n  " + strings.Join(problems, "\n  "))
	}
	return r, nil
}

func (r *Report) detectFamily(ctx context.Context) {
	o := r.opts
	if o.GOOS == "windows" {
		r.Family, r.Distro = Unknown, "Windows"
		uname, err := o.LookPath("uname")
		if err != nil {
			r.Notes = append(r.Notes, "on Windows without Cygwin or MSYS2 (no uname on PATH): run qemupack from a Cygwin terminal")
			return
		}
		out, err := o.Exec(ctx, nil, uname, "-s")
		if err != nil {
			r.Notes = append(r.Notes, fmt.Sprintf("uname -s failed: %v", err))
			return
		}
		r.Family = FamilyFromUname(out)
		r.Distro = strings.TrimSpace(firstLine(out))
		layout := &PosixLayout{Family: r.Family}
		if cygpath, err := o.LookPath("cygpath"); err == nil {
			if out, err := o.Exec(ctx, nil, cygpath, "-w", "/"); err == nil {
				layout.Root = strings.TrimSpace(firstLine(out))
			}
		}
		if layout.Root == "" {
			r.Notes = append(r.Notes, "cygpath -w / gave no answer: the Cygwin root is unknown, so the host sysroot cannot be located")
		}
		if r.Family == Cygwin || r.Family == MSYS2 {
			r.Layout = layout
		}
	} else {
		data, err := os.ReadFile(filepath.Join(o.Root+"/", "etc/os-release"))
		if err != nil {
			r.Family, r.Distro = Unknown, o.GOOS
			r.Notes = append(r.Notes, fmt.Sprintf("cannot read /etc/os-release (%v): install commands are not known for this host", err))
		} else {
			osr := ParseOSRelease(string(data))
			r.Family, r.Distro = osr.Family(), osr.PrettyName
		}
	}
	r.PackageManager = map[Family]string{Debian: "apt-get", Fedora: "dnf", Cygwin: "setup-x86_64.exe", MSYS2: "pacman"}[r.Family]
}

var versionToken = regexp.MustCompile(`^v?(\d+(?:\.\d+)*)`)

// ParseVersionLine takes the first token of the first non-empty line that
// starts with a digit: "bison (GNU Bison) 3.8.2" → 3.8.2,
// "x86_64-w64-mingw32-gcc (GCC) 12-win32" → 12, "1.11.1" → 1.11.1.
func ParseVersionLine(out string) (ver, line string) {
	line = firstLine(out)
	for _, tok := range strings.Fields(line) {
		if m := versionToken.FindStringSubmatch(tok); m != nil {
			return m[1], line
		}
	}
	return "", line
}

func firstLine(s string) string {
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			return l
		}
	}
	return ""
}

func (r *Report) probeTool(ctx context.Context, s toolSpec) Tool {
	t := Tool{Key: s.key, Command: s.command, Required: s.required, Purpose: s.purpose, Package: ToolPackage(r.Family, s.key, r.Triplet)}
	path, err := r.opts.LookPath(s.command)
	if err != nil {
		t.Problem = "not found on PATH"
		return t
	}
	t.Path = path
	out, err := r.opts.Exec(ctx, nil, append(r.commandFor(path), s.args...)...)
	if err != nil {
		t.Problem = fmt.Sprintf("`%s %s` failed: %v", s.command, strings.Join(s.args, " "), err)
		return t
	}
	t.Version, t.Raw = ParseVersionLine(out)
	if t.Version == "" {
		t.Problem = fmt.Sprintf("`%s %s` printed no version: %q", s.command, strings.Join(s.args, " "), t.Raw)
	}
	return t
}

var pythonVersion = regexp.MustCompile(`^Python (\d+\.\d+(?:\.\d+)?)`)

// pythonInfo prints what the probe needs to know about an interpreter; it
// looks modules up without importing them.
const pythonInfo = `import sys, importlib.util as u
print("executable=" + sys.executable)
for m in ("mesonbuild", "venv", "ensurepip", "pip", "setuptools", "tomllib", "tomli"):
    print(m + "=" + ("1" if u.find_spec(m) else "0"))
`

// commandFor is how to start the program at path. On Cygwin and MSYS2 a
// script (meson is one) cannot be started by Windows itself: it is run
// through the interpreter on its #! line, located in the installation.
func (r *Report) commandFor(path string) []string {
	if r.GOOS != "windows" || strings.HasSuffix(strings.ToLower(path), ".exe") {
		return []string{path}
	}
	interp := scriptInterpreter(path)
	if interp == "" {
		return []string{path}
	}
	if !strings.Contains(interp, "/") {
		if p, err := r.opts.LookPath(interp); err == nil {
			return []string{p, path}
		}
		return []string{path}
	}
	return []string{r.nativePath(interp), path}
}

// nativePath turns a POSIX path of the Cygwin/MSYS2 installation into the
// Windows path this program must use (unchanged elsewhere).
func (r *Report) nativePath(p string) string {
	if r.Layout == nil || !strings.HasPrefix(p, "/") {
		return p
	}
	return r.Layout.ToWindows(p)
}

func (r *Report) probePython(ctx context.Context, command string) Python {
	p := Python{Command: command}
	path, err := r.opts.LookPath(r.nativePath(command))
	if err != nil {
		p.Problem = "not found on PATH"
		return p
	}
	p.Path = path
	out, err := r.opts.Exec(ctx, nil, path, "--version")
	if err != nil {
		p.Problem = fmt.Sprintf("is not a python: `%s --version` failed: %v", command, err)
		return p
	}
	m := pythonVersion.FindStringSubmatch(firstLine(out))
	if m == nil {
		p.Problem = fmt.Sprintf("is not a python: `%s --version` printed %q, not \"Python X.Y.Z\"", command, firstLine(out))
		return p
	}
	p.Version = m[1]
	out, err = r.opts.Exec(ctx, nil, path, "-c", pythonInfo)
	if err != nil {
		p.Problem = fmt.Sprintf("answers --version as Python %s but cannot run a python statement: %v", p.Version, err)
		return p
	}
	mods := map[string]bool{}
	for _, line := range strings.Split(out, "\n") {
		k, v, ok := strings.Cut(strings.TrimSpace(line), "=")
		if !ok {
			continue
		}
		if k == "executable" {
			p.Executable = v
		} else {
			mods[k] = v == "1"
		}
	}
	p.Meson = mods["mesonbuild"]
	p.Venv = mods["venv"] && mods["ensurepip"]
	p.VenvReady = mods["venv"] && (mods["ensurepip"] || (mods["pip"] && mods["setuptools"]))
	p.TOML = mods["tomllib"] || mods["tomli"]
	return p
}

// scriptInterpreter reads a script's #! line: "/usr/bin/python3" for
// "#!/usr/bin/python3", "python3" for "#!/usr/bin/env python3"; "" when the
// file is not a script.
func scriptInterpreter(path string) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	buf := make([]byte, 256)
	n, _ := f.Read(buf)
	line := string(buf[:n])
	if !strings.HasPrefix(line, "#!") {
		return ""
	}
	line, _, _ = strings.Cut(line[2:], "\n")
	fields := strings.Fields(line)
	if len(fields) == 0 {
		return ""
	}
	if filepath.Base(fields[0]) == "env" {
		for _, f := range fields[1:] {
			if !strings.HasPrefix(f, "-") && !strings.Contains(f, "=") {
				return f
			}
		}
		return ""
	}
	return fields[0]
}

// ChoosePython decides which interpreter the build runs (configure, and
// the meson it calls):
//
//   - PYTHON set by the user: that one, whatever else is true.
//   - Otherwise configure's own choice (python3 on PATH) when it can import
//     mesonbuild, or when there is no host meson to agree with.
//   - Otherwise the python the host's meson runs under (Debian's meson:
//     /usr/bin/python3): a python3 on PATH that cannot import mesonbuild
//     (a pyenv shim, a virtualenv) would leave QEMU's configure and the
//     system meson on different interpreters, which QEMU 7.2's configure
//     refuses.
func ChoosePython(userSet bool, configure Python, meson *Python) (Python, string) {
	switch {
	case userSet:
		why := "PYTHON is set: the build uses it"
		if configure.OK() && !configure.Meson && meson != nil && meson.OK() {
			why += fmt.Sprintf(" (it cannot import mesonbuild; releases that bundle meson use their own, others need the host meson under %s)", meson.Executable)
		}
		return configure, why
	case configure.OK() && configure.Meson:
		return configure, fmt.Sprintf("python3 on PATH (%s, Python %s) can import meson's modules: configure and meson run the same interpreter", orPath(configure), configure.Version)
	case meson != nil && meson.OK() && meson.Meson:
		why := fmt.Sprintf("the host's meson runs under %s (Python %s)", orPath(*meson), meson.Version)
		if configure.OK() {
			why = fmt.Sprintf("python3 on PATH is %s (Python %s at %s) and cannot import mesonbuild; %s, so the build uses that python, first on PATH, and configure and meson agree. Set PYTHON to override",
				configure.Path, configure.Version, configure.Executable, why)
		} else {
			why = fmt.Sprintf("python3 on PATH: %s; %s, so the build uses that one", configure.Problem, why)
		}
		return *meson, why
	case configure.OK():
		return configure, fmt.Sprintf("python3 on PATH (%s, Python %s): no host meson to match; releases that bundle meson run it with this python", orPath(configure), configure.Version)
	}
	return configure, "no usable python: " + configure.Problem
}

func orPath(p Python) string {
	if p.Executable != "" {
		return p.Executable
	}
	return p.Path
}

// PkgConfigDirs lists the pkgconfig folders of the existing sysroots in
// search order: what the build puts in PKG_CONFIG_LIBDIR.
func (r Report) PkgConfigDirs() []string {
	var out []string
	for _, s := range r.Sysroots {
		if s.Exists {
			out = append(out, s.PkgConfigDirs...)
		}
	}
	return out
}

// PythonFirstPATH returns pathEnv with the build python's folder first when
// the build python is not what python3 on PATH resolves to (Debian's
// /usr/bin/python3 ahead of a pyenv shim), so QEMU's configure, which runs
// python3 from PATH unless told otherwise, uses the same interpreter as
// the host's meson. Otherwise pathEnv comes back unchanged.
func (r Report) PythonFirstPATH(pathEnv string) string {
	if !r.BuildPython.OK() || r.BuildPython.Path == r.ConfigurePython.Path {
		return pathEnv
	}
	dir := filepath.Dir(r.BuildPython.Path)
	if pathEnv == "" {
		return dir
	}
	return dir + string(os.PathListSeparator) + pathEnv
}
