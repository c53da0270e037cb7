package xbuild

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"time"

	"qemupack/internal/config"
	"qemupack/internal/profile"
	"qemupack/internal/qemusrc"
	"qemupack/internal/run"
	"qemupack/internal/stepcache"
)

// buildRecipe changes whenever the way QEMU is built changes, so a newer
// qemupack does not reuse an older staging folder.
const buildRecipe = "xbuild-1"

// Options is what Build needs besides the prepared source tree.
type Options struct {
	Tree        qemusrc.Tree
	CacheDir    string
	CrossPrefix string   // default x86_64-w64-mingw32-
	Targets     []string // QEMU_TARGETS (checked against the tree)
	// DepsPrefixes are the prefixes of the mingw libraries built from
	// recipes (glib, pixman, slirp, libfdt, ...), in lookup order.
	DepsPrefixes []string
	// Sysroots are the host's mingw sysroots that exist, in search order
	// (the host probe's: QEMUPACK_SYSROOT first, then the host's own).
	Sysroots []string
	Jobs     int
	Python   string // PYTHON as given; "" or "python3" means the one that runs meson
	Host     HostKind
	Bash     string              // Cygwin: bash.exe
	ToPosix  func(string) string // Cygwin: cygpath -u
	// FromPosix converts a Cygwin path to a native one (cygpath -w).
	FromPosix func(string) string
	Out       io.Writer // progress for the user (nil: quiet)
	// Cache is the step cache the staged build is an entry of (default:
	// one at CacheDir).
	Cache *stepcache.Cache

	// PythonPackages are pure-python packages (unpacked Debian binary
	// packages) for configure's venv where the tree asks for more than the
	// host has: meson >= 1.5 for QEMU 10 from a +ds tree (see pydeps.go).
	// The pipeline fills it; a tree that needs nothing from it ignores it.
	PythonPackages []PythonPackage

	// Promised are the features the profile promises (profile.Profile.For
	// the targets): their configure options go on the line, and a build
	// whose configure left one off stops before ninja runs, naming it.
	// None: the lean headless line, nothing checked.
	Promised []profile.Feature
}

// Result is the staged build, for the bundle step.
type Result struct {
	StageDir     string   `json:"stage_dir"`
	Version      string   `json:"version"` // real version, e.g. 7.2.22
	Flavor       string   `json:"flavor"`  // "upstream" or "debian"
	SourceOrigin string   `json:"source_origin"`
	Patches      []string `json:"patches"` // ours, from patches/qemu/<version>
	Targets      []string `json:"targets"`
	Exes         []string `json:"exes"` // staged .exe files, relative to StageDir, sorted
	// NinjaTargets are the build files ninja made (ShippedTargets,
	// relative to the build folder: storage-daemon/qemu-storage-daemon.exe
	// in QEMU 10), so a benchmark's plain script builds the same ones.
	// Empty in records made before it was kept.
	NinjaTargets []string `json:"ninja_targets,omitempty"`
	// BuildTools says what the build brought beyond the host's toolchain:
	// python packages on PYTHONPATH, option ROMs made with the host's gcc.
	BuildTools []string `json:"build_tools,omitempty"`
	// LicenseFiles maps a name to a licence file of the source tree.
	LicenseFiles  map[string]string `json:"license_files"`
	ConfigureArgs []string          `json:"configure_args"`
	// Configured is what configure really turned on, read from the build
	// folder (see Configured); nil in records made before qemupack read
	// it. Features are the names of every profile.Features entry it has,
	// promised or not; Promised those the profile promised.
	Configured *Configured        `json:"configured,omitempty"`
	Features   []string           `json:"features,omitempty"`
	Promised   []string           `json:"promised,omitempty"`
	Key        string             `json:"key"`
	Steps      int                `json:"ninja_steps"`
	Times      map[string]float64 `json:"seconds"` // configure, ninja, install
	Log        string             `json:"log_dir"`

	// Entry is the step cache entry holding the stage, held until released
	// (the pipeline releases it when its run ends).
	Entry *stepcache.Entry `json:"-"`
}

// Kind is the step cache kind of staged builds.
const Kind = "build"

// ReadResult reads the record of the staged build in the entry at dir
// (the one reader of result.json every other package uses).
func ReadResult(dir string) (Result, error) {
	b, err := os.ReadFile(filepath.Join(dir, resultName))
	if err != nil {
		return Result{}, fmt.Errorf("build: %s is not a staged build: %w", dir, err)
	}
	var r Result
	if err := json.Unmarshal(b, &r); err != nil {
		return Result{}, fmt.Errorf("build: %s: %w", filepath.Join(dir, resultName), err)
	}
	return r, nil
}

// checkStage is the step cache's check of a staged build: its record is
// readable and every program it lists is there.
func checkStage(dir string) error {
	r, err := ReadResult(dir)
	if err != nil {
		return err
	}
	for _, e := range r.Exes {
		if _, err := os.Stat(filepath.Join(r.StageDir, e)); err != nil {
			return err
		}
	}
	return nil
}

const resultName = "result.json"

// FullVersion is the version the archive is named by: the real version,
// with the flavour when the source is not the upstream tarball
// ("7.2.22-debian").
func (r Result) FullVersion() string {
	if r.Flavor == "" || r.Flavor == qemusrc.FlavorUpstream {
		return r.Version
	}
	return r.Version + "-" + r.Flavor
}

func (o Options) say(format string, args ...any) {
	if o.Out != nil {
		fmt.Fprintf(o.Out, format+"\n", args...)
	}
}

// Build configures, builds and stages QEMU from o.Tree. An unchanged
// configuration returns the staged result at once.
func Build(ctx context.Context, o Options) (Result, error) {
	if o.Tree.Dir == "" || o.Tree.Version == "" {
		return Result{}, fmt.Errorf("build: no prepared source tree")
	}
	if o.CacheDir == "" {
		return Result{}, fmt.Errorf("build: no cache folder")
	}
	if o.CrossPrefix == "" {
		o.CrossPrefix = "x86_64-w64-mingw32-"
	}
	if o.Host == "" {
		o.Host = HostLinux
	}
	if o.Jobs < 1 {
		o.Jobs = runtime.NumCPU()
	}
	venv := UsesVenv(o.Tree.Dir)
	targets, err := CheckTargets(o.Tree.Dir, o.Targets)
	if err != nil {
		return Result{}, err
	}
	var promised []profile.Feature
	for _, f := range o.Promised {
		if f.Applies(targets) {
			promised = append(promised, f)
		}
	}
	roms := o.Host != HostCygwin && NeedsOptionROMs(o.Tree.Dir, targets)
	if err := checkTools(o, venv, roms); err != nil {
		return Result{}, err
	}
	known, err := KnownOptions(o.Tree.Dir)
	if err != nil {
		return Result{}, err
	}
	for _, f := range promised {
		for _, opt := range f.Configure {
			if !known[optionName(opt)] {
				return Result{}, fmt.Errorf("build: qemu %s's configure has no %s, which the profile's feature %s (%s) needs; use a newer QEMU (QEMU_VERSION) or %s=%s",
					o.Tree.Version, optionName(opt), f.Name, f.Title, config.EnvProfile, profile.Headless)
			}
		}
	}
	sysroots := o.Sysroots
	if len(sysroots) == 0 {
		return Result{}, fmt.Errorf("build: no mingw sysroot given (the host probe finds them)")
	}
	var pcDirs []string
	for _, p := range o.DepsPrefixes {
		pcDirs = append(pcDirs, filepath.Join(p, "lib", "pkgconfig"), filepath.Join(p, "share", "pkgconfig"))
	}
	for _, s := range sysroots {
		pcDirs = append(pcDirs, filepath.Join(s, "lib", "pkgconfig"), filepath.Join(s, "share", "pkgconfig"))
	}
	plan := Plan{
		Host: o.Host, SourceDir: o.Tree.Dir, CrossPrefix: o.CrossPrefix, Targets: targets,
		PkgConfigLibDirs: existing(pcDirs), DepsPrefixes: o.DepsPrefixes, Known: known, Jobs: o.Jobs,
		PathPrepend: pythonDirs(o), Bash: o.Bash, ToPosix: o.ToPosix,
		NoBlobs: len(MissingBlobs(o.Tree.Dir)) > 0,
		Enable:  profile.Configure(promised),
	}
	var tools []string // what the build brings beyond the host, for the record and the key
	if venv && o.Host != HostCygwin {
		if tools, err = preparePython(ctx, o, &plan); err != nil {
			return Result{}, err
		}
	}
	if roms {
		plan.HostCC = "gcc"
		v, _ := tool(ctx, plan, plan.HostCC, "--version")
		tools = append(tools, fmt.Sprintf("option ROMs (%s) made from the tree's pc-bios/optionrom with the build machine's %s", strings.Join(OptionROMs, ", "), v))
	}
	// The key covers the command line but not the build folder (named
	// after the key), so compute it with a stand-in folder.
	plan.BuildDir = "build"
	conf, err := ConfigureCommand(plan)
	if err != nil {
		return Result{}, err
	}
	var in stepcache.Inputs
	in.Add("recipe", buildRecipe)
	in.Add("tree", o.Tree.Key)
	in.Add("toolchain", toolchainID(ctx, plan))
	in.AddList("configure", conf.Args)
	in.AddList("environment", conf.Env)
	in.AddList("path", plan.PathPrepend)
	if len(tools) > 0 { // only then, so a build that needs none keeps its key
		in.AddList("tools", tools)
	}
	cache := o.Cache
	if cache == nil {
		cache = &stepcache.Cache{Root: o.CacheDir}
	}
	name := "qemu-" + o.Tree.Version
	logs := filepath.Join(o.CacheDir, "logs", Kind, name)
	var r Result
	e, err := cache.Do(ctx, Kind, name, in, stepcache.Options{Check: checkStage, Resumable: true}, func(ctx context.Context, tmp, final, work string) error {
		var err error
		r, err = o.make(ctx, plan, known, targets, roms, tools, promised, tmp, final, work, logs)
		return err
	})
	if err != nil {
		return Result{}, err
	}
	if r, err = ReadResult(e.Dir); err != nil {
		e.Release()
		return Result{}, err
	}
	if e.Hit {
		o.say("qemu %s (%s): up to date in %s", r.Version, strings.Join(r.Targets, ","), r.StageDir)
	}
	// The record's configure result, judged by the current feature table
	// (a cached build too).
	if r.Configured != nil {
		r.Features, _ = r.Configured.Has(profile.Features, r.Targets)
		if err := r.Configured.CheckPromised(promised, r.Targets, filepath.Join(r.Log, "configure.log")); err != nil {
			e.Release()
			return Result{}, fmt.Errorf("build qemu %s: %w", r.Version, err)
		}
	} else if len(promised) > 0 {
		o.say("build: the cached build of qemu %s was made before qemupack recorded what configure turned on; its features are not listed", r.Version)
	}
	r.Promised = profile.FeatureNames(promised)
	r.Key, r.Entry = e.Key, e
	return r, nil
}

// make configures, builds and installs QEMU (the step cache calls it with
// the entry's lock held): the build folder is work/build, kept when the
// build is interrupted so ninja resumes it; the installed tree goes to
// tmp/stage (final/stage once renamed) with result.json beside it.
func (o Options) make(ctx context.Context, plan Plan, known map[string]bool, targets []string, roms bool, tools []string, promised []profile.Feature, tmp, final, work, logs string) (Result, error) {
	plan.BuildDir = filepath.Join(work, "build")
	conf, err := ConfigureCommand(plan)
	if err != nil {
		return Result{}, err
	}
	times := map[string]float64{}

	if _, skipped, _ := ConfigureOptions(known, plan.Enable...); len(skipped) > 0 {
		o.say("configure: this QEMU has no %s; left out", strings.Join(skipped, " "))
	}
	stamp := configuredStamp(plan.BuildDir)
	if _, err := os.Stat(stamp); err != nil {
		// A build folder without the stamp is from an interrupted configure.
		if err := os.RemoveAll(plan.BuildDir); err != nil {
			return Result{}, fmt.Errorf("build: %w", err)
		}
		if err := os.MkdirAll(plan.BuildDir, 0o755); err != nil {
			return Result{}, fmt.Errorf("build: %w", err)
		}
		o.say("configure: qemu %s for %s (log: %s)", o.Tree.Version, strings.Join(targets, ","), filepath.Join(logs, "configure.log"))
		t0 := time.Now()
		if err := runCmd(ctx, conf, filepath.Join(logs, "configure.log"), nil, 40); err != nil {
			return Result{}, fmt.Errorf("configure qemu %s: %w", o.Tree.Version, err)
		}
		times["configure"] = time.Since(t0).Seconds()
		o.say("configure: done in %.1f s", times["configure"])
		if err := os.WriteFile(stamp, []byte(strings.Join(conf.Args, "\n")+"\n"), 0o644); err != nil {
			return Result{}, fmt.Errorf("build: %w", err)
		}
	} else {
		o.say("configure: resuming the interrupted build in %s", plan.BuildDir)
	}

	intro, err := IntrospectCommand(plan)
	if err != nil {
		return Result{}, err
	}
	js, err := run.Output(ctx, run.Cmd{Args: intro.Args, Dir: intro.Dir, Env: run.Environ(intro.Environ(os.Environ())...)})
	if err != nil {
		return Result{}, fmt.Errorf("list the build's targets: %w", err)
	}
	plan.NinjaTargets, err = ShippedTargets([]byte(js), plan.posix(plan.BuildDir))
	if err != nil {
		return Result{}, err
	}
	// What configure really turned on, before ninja spends its time: a
	// promised feature it left off stops the build here.
	configured, err := ReadConfigured(plan.BuildDir, targets, plan.NinjaTargets)
	if err != nil {
		return Result{}, err
	}
	if err := configured.CheckPromised(promised, targets, filepath.Join(logs, "configure.log")); err != nil {
		// Configure again next time (the options or the libraries
		// will have changed), not resume this build.
		os.Remove(configuredStamp(plan.BuildDir))
		return Result{}, fmt.Errorf("configure qemu %s: %w", o.Tree.Version, err)
	}
	if len(promised) > 0 {
		o.say("configure: the build has every promised feature: %s", strings.Join(profile.FeatureNames(promised), ", "))
	}
	nj, err := NinjaCommand(plan)
	if err != nil {
		return Result{}, err
	}
	o.say("build: %d shipped targets with ninja -j%d (log: %s)", len(plan.NinjaTargets), o.Jobs, filepath.Join(logs, "ninja.log"))
	prog := &Progress{Every: 5 * time.Second, Print: func(s string) { o.say("  %s", s) }}
	t0 := time.Now()
	if err := runCmd(ctx, nj, filepath.Join(logs, "ninja.log"), prog.Line, 40); err != nil {
		return Result{}, fmt.Errorf("build qemu %s: %w", o.Tree.Version, err)
	}
	times["ninja"] = time.Since(t0).Seconds()
	o.say("build: %d steps in %.0f s", prog.Tot, times["ninja"])

	// Install with DESTDIR into the scratch folder, then move the
	// installed tree into the entry.
	dest := filepath.Join(work, "dest")
	if err := os.RemoveAll(dest); err != nil {
		return Result{}, fmt.Errorf("stage: %w", err)
	}
	plan.DestDir = dest
	inst, err := InstallCommand(plan)
	if err != nil {
		return Result{}, err
	}
	t0 = time.Now()
	if err := runCmd(ctx, inst, filepath.Join(logs, "install.log"), nil, 30); err != nil {
		return Result{}, fmt.Errorf("install qemu %s: %w", o.Tree.Version, err)
	}
	times["install"] = time.Since(t0).Seconds()
	root, err := installRoot(dest)
	if err != nil {
		return Result{}, err
	}
	if roms {
		plan.ROMDir = filepath.Join(work, "optionrom")
		t0 = time.Now()
		if err := buildOptionROMs(ctx, plan, filepath.Join(root, "share"), filepath.Join(logs, "optionrom.log")); err != nil {
			return Result{}, err
		}
		times["optionrom"] = time.Since(t0).Seconds()
		o.say("option ROMs: %s made from the tree in %.1f s", strings.Join(OptionROMs, " "), times["optionrom"])
	}
	exes, err := stagedExes(root)
	if err != nil {
		return Result{}, err
	}
	if len(exes) == 0 {
		return Result{}, fmt.Errorf("install qemu %s: no .exe in %s (see %s)", o.Tree.Version, root, filepath.Join(logs, "install.log"))
	}
	if err := os.Rename(root, filepath.Join(tmp, "stage")); err != nil {
		return Result{}, fmt.Errorf("stage: %w", err)
	}
	r := Result{
		StageDir: filepath.Join(final, "stage"), Version: o.Tree.Version, Flavor: o.Tree.Flavor, SourceOrigin: o.Tree.Origin,
		Patches: o.Tree.Patches, Targets: targets, Exes: exes, NinjaTargets: plan.NinjaTargets,
		LicenseFiles:  licenseFiles(o.Tree.Dir),
		ConfigureArgs: conf.Args, Steps: prog.Tot, Times: times, Log: logs,
		BuildTools: tools, Configured: &configured,
	}
	if err := saveResult(tmp, r); err != nil {
		return Result{}, err
	}
	return r, nil
}

// configuredStamp marks a build folder whose configure finished.
func configuredStamp(buildDir string) string {
	return filepath.Join(buildDir, ".qemupack-configured")
}

func runCmd(ctx context.Context, c Command, log string, line func(string), tail int) error {
	return run.Run(ctx, run.Cmd{
		Args: c.Args, Dir: c.Dir, Env: run.Environ(c.Environ(os.Environ())...),
		Log: log, Line: line, TailLines: tail,
	})
}

// checkTools finds the programs the build runs. A tree that configures
// through a venv brings its own meson (the host's is not used), but its
// meson asks for the build machine's C compiler, which also makes the x86
// option ROMs (with make).
func checkTools(o Options, venv, roms bool) error {
	if o.Host == HostCygwin {
		if o.Bash == "" {
			return fmt.Errorf("build under Cygwin: Cygwin's bash.exe was not given")
		}
		return nil
	}
	need := map[string]string{
		o.CrossPrefix + "gcc": "gcc-mingw-w64-x86-64", "ninja": "ninja-build",
		"pkg-config": "pkg-config", "bison": "bison", "flex": "flex",
	}
	if venv {
		need["cc"] = "gcc"
	} else {
		need["meson"] = "meson"
	}
	if roms {
		need["gcc"], need["make"], need["objcopy"] = "gcc", "make", "binutils"
	}
	var missing []string
	for tool, pkg := range need {
		if _, err := exec.LookPath(tool); err != nil {
			missing = append(missing, fmt.Sprintf("%s (Debian package %s)", tool, pkg))
		}
	}
	if len(missing) > 0 {
		sort.Strings(missing)
		return fmt.Errorf("build: missing tools: %s", strings.Join(missing, ", "))
	}
	return nil
}

// pythonDirs returns the folder of the Python QEMU's configure should find
// first: PYTHON's when the user chose one, else the interpreter named on
// meson's #! line (configure refuses --python= next to a system meson, and
// a pyenv shim first on PATH would give another Python than meson's).
func pythonDirs(o Options) []string {
	if o.Host == HostCygwin {
		return nil
	}
	if o.Python != "" && o.Python != "python3" {
		if p, err := exec.LookPath(o.Python); err == nil {
			return []string{filepath.Dir(p)}
		}
	}
	if interp := mesonInterpreter(); interp != "" {
		return []string{filepath.Dir(interp)}
	}
	return nil
}

func existing(dirs []string) []string {
	var out []string
	for _, d := range dirs {
		if st, err := os.Stat(d); err == nil && st.IsDir() {
			out = append(out, d)
		}
	}
	return out
}

// tool runs a toolchain program and returns its output's first line.
func tool(ctx context.Context, p Plan, args ...string) (string, error) {
	c, err := ToolCommand(p, args...)
	if err != nil {
		return "", err
	}
	out, err := run.Output(ctx, run.Cmd{Args: c.Args, Env: run.Environ(c.Environ(os.Environ())...)})
	first, _, _ := strings.Cut(strings.TrimSpace(out), "\n")
	return strings.TrimSpace(first), err
}

// toolchainID identifies the cross compiler (its version line), so a new
// compiler means a new build.
func toolchainID(ctx context.Context, p Plan) string {
	v, err := tool(ctx, p, p.CrossPrefix+"gcc", "--version")
	if err != nil {
		return p.CrossPrefix
	}
	return v
}

// runtimeDir is the cross gcc's runtime folder (libgcc_s_seh-1.dll,
// libssp-0.dll), as a native path.
func runtimeDir(ctx context.Context, p Plan, fromPosix func(string) string) string {
	f, err := tool(ctx, p, p.CrossPrefix+"gcc", "-print-libgcc-file-name")
	if err != nil || f == "" {
		return ""
	}
	if fromPosix != nil {
		f = fromPosix(f)
	}
	return filepath.Dir(f)
}

// installRoot finds the installed tree under destdir: meson puts it at
// destdir/<prefix> (QEMU's Windows prefix is /qemu).
func installRoot(destdir string) (string, error) {
	dir := destdir
	for i := 0; i < 8; i++ {
		ents, err := os.ReadDir(dir)
		if err != nil {
			return "", fmt.Errorf("stage: %w", err)
		}
		if len(ents) == 1 && ents[0].IsDir() && ents[0].Name() != "share" {
			dir = filepath.Join(dir, ents[0].Name())
			continue
		}
		return dir, nil
	}
	return "", fmt.Errorf("stage: no installed files under %s", destdir)
}

func stagedExes(root string) ([]string, error) {
	var exes []string
	err := filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && strings.EqualFold(filepath.Ext(p), ".exe") {
			rel, _ := filepath.Rel(root, p)
			exes = append(exes, filepath.ToSlash(rel))
		}
		return nil
	})
	sort.Strings(exes)
	return exes, err
}

func licenseFiles(src string) map[string]string {
	out := map[string]string{}
	for name, f := range map[string]string{"QEMU": "LICENSE", "GPL-2.0": "COPYING", "LGPL-2.1": "COPYING.LIB"} {
		p := filepath.Join(src, f)
		if _, err := os.Stat(p); err == nil {
			out[name] = p
		}
	}
	return out
}

func saveResult(top string, r Result) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	tmp := filepath.Join(top, "."+resultName+".tmp")
	if err := os.WriteFile(tmp, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("stage: %w", err)
	}
	if err := os.Rename(tmp, filepath.Join(top, resultName)); err != nil {
		return fmt.Errorf("stage: %w", err)
	}
	return nil
}
