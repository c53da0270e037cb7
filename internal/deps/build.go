package deps

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"time"

	"qemupack/internal/recipe"
	"qemupack/internal/run"
	"qemupack/internal/source"
)

// ManifestName is the file every complete prefix holds; a folder under
// deps/ without it is not a prefix.
const ManifestName = ".qemupack-dep.json"

// Manifest records what went into a prefix.
type Manifest struct {
	Name    string   `json:"name"`
	Version string   `json:"version"`
	Key     string   `json:"key"`
	Source  string   `json:"source"` // the tarball used
	SHA256  string   `json:"sha256"`
	Patches []string `json:"patches,omitempty"`
	// DebianPatches is the Debian packaging tarball whose series was
	// applied first, DebianApplied the names applied from it.
	DebianPatches string   `json:"debian_patches,omitempty"`
	DebianApplied []string `json:"debian_applied,omitempty"`
	Toolchain     string   `json:"toolchain"`
	Seconds       float64  `json:"seconds"`
	BuiltAt       string   `json:"built_at"`
}

// ReadManifest reads the manifest of the library prefix at dir (the one
// reader of .qemupack-dep.json every other package uses).
func ReadManifest(dir string) (Manifest, error) {
	var m Manifest
	data, err := os.ReadFile(filepath.Join(dir, ManifestName))
	if err != nil {
		return m, fmt.Errorf("deps: %s is not a library prefix: %w", dir, err)
	}
	if err := json.Unmarshal(data, &m); err != nil {
		return m, fmt.Errorf("deps: %s: %w", filepath.Join(dir, ManifestName), err)
	}
	return m, nil
}

// StepError is a failed build step of one library.
type StepError struct {
	Lib  string // "glib 2.74.6"
	Step string // "meson setup"
	Err  error  // a *run.Error carries the log path and its tail
}

func (e *StepError) Error() string {
	return fmt.Sprintf("deps: %s: %s failed: %v", e.Lib, e.Step, e.Err)
}

func (e *StepError) Unwrap() error { return e.Err }

// job is one library to build.
type job struct {
	r       recipe.Recipe
	key     string
	prefix  string   // final prefix
	patches []string // patch files in order
	deps    []*Lib   // every dependency, transitively, built or host
	jobs    int      // -j for this build
	say     func(step string)
}

func (j *job) label() string { return j.r.Name + " " + j.r.Version }

// builder carries what every build shares.
type builder struct {
	tc      Toolchain
	cache   string // the cache root (QEMUPACK_CACHE)
	fetcher *source.Fetcher
}

// LogDir is where the logs of a library's last build are kept.
func LogDir(cacheDir string, r recipe.Recipe) string {
	return filepath.Join(cacheDir, "logs", "deps", r.Name+"-"+r.Version)
}

// build makes one prefix (the step cache calls it with the lock held):
// fetch, extract, patch, configure and compile in work, install into
// tmp, link test; tmp becomes the prefix j.prefix once build returns.
func (b *builder) build(ctx context.Context, j *job, tmp, work string) (err error) {
	start := time.Now()
	logs := LogDir(b.cache, j.r)
	os.RemoveAll(logs)
	if err := os.MkdirAll(logs, 0o755); err != nil {
		return err
	}
	stepN := 0
	step := func(name string, f func(log string) error) error {
		stepN++
		j.say(name)
		log := filepath.Join(logs, fmt.Sprintf("%02d-%s.log", stepN, strings.ReplaceAll(name, " ", "-")))
		if err := f(log); err != nil {
			return &StepError{Lib: j.label(), Step: name, Err: err}
		}
		return nil
	}

	// Fetch: the first source that gives a verified tarball.
	var tarball string
	var src recipe.Source
	if err := step("fetch", func(string) error {
		var errs []string
		for _, s := range j.r.Sources {
			p, err := b.fetcher.Fetch(ctx, source.Tarball{
				Name: j.label(), File: s.File, SHA256: s.SHA256, URL: s.URL,
				DebianPackage: s.DebianPackage, DebianFile: s.DebianFile,
			})
			if err == nil {
				tarball, src = p, s
				j.say("fetch: using " + s.File)
				return nil
			}
			errs = append(errs, err.Error())
		}
		return errors.New(strings.Join(errs, "\n"))
	}); err != nil {
		return err
	}

	var root string
	if err := step("extract", func(string) error {
		r, err := source.Extract(tarball, filepath.Join(work, "src"))
		root = r
		return err
	}); err != nil {
		return err
	}
	var debianApplied []string
	if src.DebianPatches != nil {
		if err := step("debian patches", func(log string) error {
			var err error
			debianApplied, err = b.applyDebianPatches(ctx, j, src, root, work, log)
			return err
		}); err != nil {
			return err
		}
		j.say(fmt.Sprintf("debian patches: %d of %s applied", len(debianApplied), src.DebianPatches.File))
	}
	if len(j.patches) > 0 {
		if err := step("patch", func(log string) error {
			return source.ApplyPatches(ctx, root, j.patches, strings.TrimSuffix(log, ".log"))
		}); err != nil {
			return err
		}
	}
	sub := j.r.Subdir
	if src.Subdir != "" {
		sub = src.Subdir
	}
	tree := filepath.Join(root, filepath.FromSlash(sub))
	if fi, err := os.Stat(tree); err != nil || !fi.IsDir() {
		return &StepError{Lib: j.label(), Step: "extract", Err: fmt.Errorf("%s has no folder %s", src.File, sub)}
	}
	buildDir := filepath.Join(work, "build")
	os.MkdirAll(buildDir, 0o755)
	destDir := filepath.Join(work, "dest")

	env := b.env(j)
	var stage string
	switch j.r.Build {
	case "meson":
		stage = stagePath(destDir, InstallPrefix)
		err = b.meson(ctx, j, step, env, tree, buildDir, destDir)
	case "autotools":
		stage = stagePath(destDir, InstallPrefix)
		err = b.autotools(ctx, j, step, env, tree, buildDir, destDir)
	case "cmake":
		stage = stagePath(destDir, InstallPrefix)
		err = b.cmake(ctx, j, step, env, tree, buildDir, destDir)
	case "make":
		stage = filepath.Join(work, "stage")
		err = b.makeBuild(ctx, j, step, env, tree, stage)
	case "cc":
		stage = filepath.Join(work, "stage")
		err = b.ccBuild(ctx, j, step, env, tree, buildDir, stage, work)
	default:
		err = fmt.Errorf("deps: %s: unknown build system %q", j.label(), j.r.Build)
	}
	if err != nil {
		return err
	}
	if fi, err := os.Stat(stage); err != nil || !fi.IsDir() {
		return &StepError{Lib: j.label(), Step: "install", Err: fmt.Errorf("nothing was installed under %s", stage)}
	}
	if err := installLicenses(root, stage, j.r); err != nil {
		return &StepError{Lib: j.label(), Step: "install", Err: err}
	}
	if err := rewritePC(stage, j.prefix); err != nil {
		return &StepError{Lib: j.label(), Step: "install", Err: err}
	}
	if err := tidyPrefix(stage, j); err != nil {
		return &StepError{Lib: j.label(), Step: "install", Err: err}
	}
	if err := step("link test", func(log string) error {
		return b.linkTest(ctx, j, stage, filepath.Join(work, "linktest"), env, log)
	}); err != nil {
		return err
	}
	var pnames []string
	for _, p := range j.patches {
		pnames = append(pnames, filepath.Base(p))
	}
	m := Manifest{Name: j.r.Name, Version: j.r.Version, Key: j.key, Source: src.File, SHA256: src.SHA256,
		Patches: pnames, DebianPatches: debianFile(src), DebianApplied: debianApplied, Toolchain: b.tc.ID(), Seconds: time.Since(start).Seconds(), BuiltAt: time.Now().UTC().Format(time.RFC3339)}
	data, _ := json.MarshalIndent(m, "", "  ")
	if err := os.WriteFile(filepath.Join(stage, ManifestName), append(data, '\n'), 0o644); err != nil {
		return err
	}
	// The step cache renames tmp into place once the whole tree is there.
	return moveInto(stage, tmp)
}

// moveInto moves every entry of dir into dst (an empty folder on the same
// file system).
func moveInto(dir, dst string) error {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range ents {
		if err := os.Rename(filepath.Join(dir, e.Name()), filepath.Join(dst, e.Name())); err != nil {
			return err
		}
	}
	return nil
}

// stagePath is where DESTDIR=dest puts files for prefix.
func stagePath(dest, prefix string) string {
	p := prefix
	if v := filepath.VolumeName(p); v != "" {
		p = p[len(v):]
	}
	return filepath.Join(dest, p)
}

func (b *builder) depDirs(j *job, sub string) []string {
	var out []string
	for _, d := range j.deps {
		if d.From == FromHost {
			continue
		}
		out = append(out, LinkPath(filepath.Join(d.Prefix, sub)))
	}
	return out
}

func (b *builder) pkgConfigDirs(j *job, extra ...string) []string {
	dirs := append([]string{}, extra...)
	for _, d := range j.deps {
		if d.From != FromHost {
			dirs = append(dirs, filepath.Join(d.Prefix, "lib", "pkgconfig"), filepath.Join(d.Prefix, "share", "pkgconfig"))
		}
	}
	return append(dirs, b.tc.SysrootPkgConfigDirs()...)
}

func (b *builder) env(j *job) []string {
	path := os.Getenv("PATH")
	if runtime.GOOS == "linux" {
		// python3 on PATH may be a pyenv shim without meson's modules:
		// the distribution's python (which runs meson) comes first.
		if _, err := os.Stat("/usr/bin/python3"); err == nil {
			path = "/usr/bin" + string(os.PathListSeparator) + path
		}
	}
	return run.Environ(
		"PATH="+path,
		"PKG_CONFIG_LIBDIR="+strings.Join(b.pkgConfigDirs(j), string(os.PathListSeparator)),
		"PKG_CONFIG_PATH=",
		"LC_ALL=C",
		"CONFIG_SITE=",
	)
}

type stepFunc func(name string, f func(log string) error) error

func quoteList(items []string) string {
	q := make([]string, len(items))
	for i, s := range items {
		q[i] = "'" + strings.ReplaceAll(s, "'", `\'`) + "'"
	}
	return "[" + strings.Join(q, ", ") + "]"
}

// CrossFile is the meson cross file for a build against the given
// include/lib folders and pkg-config folders, with extra compiler and
// linker flags. No sys_root: with it, meson prefixes the sysroot to paths
// the .pc files already give in full.
func (t Toolchain) CrossFile(incDirs, libDirs, pcDirs, cflags, ldflags []string) string {
	cargs := append([]string{}, cflags...)
	largs := append([]string{}, ldflags...)
	for _, d := range incDirs {
		cargs = append(cargs, "-I"+d)
	}
	for _, d := range libDirs {
		largs = append(largs, "-L"+d)
	}
	p := t.CrossPrefix
	return fmt.Sprintf(`[binaries]
c = '%sgcc'
cpp = '%sg++'
ar = '%sar'
strip = '%sstrip'
windres = '%swindres'
pkgconfig = 'pkg-config'

[properties]
pkg_config_libdir = %s

[built-in options]
c_args = %s
c_link_args = %s
cpp_args = %s
cpp_link_args = %s

[host_machine]
system = 'windows'
cpu_family = 'x86_64'
cpu = 'x86_64'
endian = 'little'
`, p, p, p, p, p, quoteList(pcDirs), quoteList(cargs), quoteList(largs), quoteList(cargs), quoteList(largs))
}

func (b *builder) meson(ctx context.Context, j *job, step stepFunc, env []string, tree, buildDir, destDir string) error {
	cross := filepath.Join(filepath.Dir(buildDir), "cross.ini")
	work := filepath.Dir(buildDir)
	text := b.tc.CrossFile(b.depDirs(j, "include"), b.depDirs(j, "lib"), b.pkgConfigDirs(j), b.reproCflags(j, work), reproLdflags)
	tools, err := b.tc.findBuildTools(j.r)
	if err != nil {
		return &StepError{Lib: j.label(), Step: "meson setup", Err: err}
	}
	text = withBinaries(text, tools)
	if err := os.WriteFile(cross, []byte(text), 0o644); err != nil {
		return err
	}
	args := []string{"meson", "setup", "--cross-file", cross, "--prefix", InstallPrefix, "--libdir", "lib",
		"--buildtype", "release", "-Ddefault_library=shared", "--wrap-mode=nodownload"}
	args = append(args, j.r.Options...)
	args = append(args, buildDir, tree)
	if err := step("meson setup", func(log string) error {
		return run.Run(ctx, run.Cmd{Args: args, Dir: filepath.Dir(buildDir), Env: env, Log: log})
	}); err != nil {
		return err
	}
	if err := step("meson compile", func(log string) error {
		return run.Run(ctx, run.Cmd{Args: []string{"ninja", "-C", buildDir, "-j", strconv.Itoa(j.jobs)}, Env: env, Log: log, Line: progressLine(j)})
	}); err != nil {
		return err
	}
	return step("install", func(log string) error {
		return run.Run(ctx, run.Cmd{Args: []string{"meson", "install", "-C", buildDir, "--destdir", destDir, "--no-rebuild"}, Env: env, Log: log})
	})
}

func (b *builder) autotools(ctx context.Context, j *job, step stepFunc, env []string, tree, buildDir, destDir string) error {
	var cpp, ld []string
	for _, d := range b.depDirs(j, "include") {
		cpp = append(cpp, "-I"+d)
	}
	for _, d := range b.depDirs(j, "lib") {
		ld = append(ld, "-L"+d)
	}
	ld = append(ld, reproLdflags...)
	// CFLAGS replaces autoconf's default "-g -O2": no debug information in
	// DLLs that ship (meson's release buildtype has none either).
	cflags := append([]string{"-O2"}, b.reproCflags(j, filepath.Dir(buildDir))...)
	env = run.Merge(env, "CPPFLAGS="+strings.Join(cpp, " "), "CFLAGS="+strings.Join(cflags, " "), "LDFLAGS="+strings.Join(ld, " "))
	args := []string{filepath.Join(tree, "configure"), "--host=" + b.tc.Triplet, "--prefix=" + InstallPrefix}
	args = append(args, expandOptions(j, j.r.Options)...)
	if err := step("configure", func(log string) error {
		return run.Run(ctx, run.Cmd{Args: args, Dir: buildDir, Env: env, Log: log})
	}); err != nil {
		return err
	}
	dirs := j.r.MakeDirs
	if len(dirs) == 0 {
		dirs = []string{"."}
	}
	perDir := func(log, d string) string {
		if len(dirs) == 1 {
			return log
		}
		return strings.TrimSuffix(log, ".log") + "-" + strings.ReplaceAll(d, "/", "_") + ".log"
	}
	if err := step("make", func(log string) error {
		for _, d := range dirs {
			if err := run.Run(ctx, run.Cmd{Args: []string{"make", "-C", d, "-j", strconv.Itoa(j.jobs)}, Dir: buildDir, Env: env, Log: perDir(log, d), Line: progressLine(j)}); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		return err
	}
	return step("install", func(log string) error {
		for _, d := range dirs {
			if err := run.Run(ctx, run.Cmd{Args: []string{"make", "-C", d, "install", "DESTDIR=" + destDir}, Dir: buildDir, Env: env, Log: perDir(log, d)}); err != nil {
				return err
			}
		}
		return nil
	})
}

func (b *builder) makeBuild(ctx context.Context, j *job, step stepFunc, env []string, tree, stage string) error {
	subst := func(args []string) []string {
		out := make([]string, len(args))
		for i, a := range args {
			a = strings.ReplaceAll(a, "{prefix}", filepath.ToSlash(stage))
			a = strings.ReplaceAll(a, "{cross}", b.tc.CrossPrefix)
			a = strings.ReplaceAll(a, "{jobs}", strconv.Itoa(j.jobs))
			out[i] = a
		}
		return out
	}
	if err := step("make", func(log string) error {
		return run.Run(ctx, run.Cmd{Args: append([]string{"make", "-j", strconv.Itoa(j.jobs)}, subst(j.r.MakeArgs)...), Dir: tree, Env: env, Log: log, Line: progressLine(j)})
	}); err != nil {
		return err
	}
	return step("install", func(log string) error {
		for _, d := range []string{"bin", "lib", "include"} {
			os.MkdirAll(filepath.Join(stage, d), 0o755)
		}
		return run.Run(ctx, run.Cmd{Args: append(append([]string{"make"}, subst(j.r.MakeArgs)...), "install"), Dir: tree, Env: env, Log: log})
	})
}

func (b *builder) ccBuild(ctx context.Context, j *job, step stepFunc, env []string, tree, buildDir, stage, work string) error {
	var files []string
	for _, g := range j.r.CC.Sources {
		m, err := filepath.Glob(filepath.Join(tree, g))
		if err != nil {
			return err
		}
		files = append(files, m...)
	}
	sort.Strings(files)
	if len(files) == 0 {
		return &StepError{Lib: j.label(), Step: "compile", Err: fmt.Errorf("no files match %v in %s", j.r.CC.Sources, tree)}
	}
	var objs []string
	if err := step("compile", func(log string) error {
		f, err := os.Create(log)
		if err != nil {
			return err
		}
		f.Close()
		for _, c := range files {
			o := filepath.Join(buildDir, strings.TrimSuffix(filepath.Base(c), ".c")+".o")
			args := append([]string{b.tc.CrossPrefix + "gcc", "-c", "-I" + tree}, b.reproCflags(j, work)...)
			args = append(args, j.r.CC.Cflags...)
			args = append(args, c, "-o", o)
			if err := run.Run(ctx, run.Cmd{Args: args, Dir: buildDir, Env: env, Log: log + "." + filepath.Base(c)}); err != nil {
				return err
			}
			objs = append(objs, o)
		}
		return nil
	}); err != nil {
		return err
	}
	return step("install", func(log string) error {
		for _, d := range []string{"lib", "include"} {
			if err := os.MkdirAll(filepath.Join(stage, d), 0o755); err != nil {
				return err
			}
		}
		lib := filepath.Join(stage, "lib", "lib"+j.r.CC.Lib+".a")
		if err := run.Run(ctx, run.Cmd{Args: append([]string{b.tc.CrossPrefix + "ar", "rcs", lib}, objs...), Env: env, Log: log}); err != nil {
			return err
		}
		for _, h := range j.r.CC.Headers {
			data, err := os.ReadFile(filepath.Join(tree, h))
			if err != nil {
				return fmt.Errorf("header %s: %w", h, err)
			}
			if err := os.WriteFile(filepath.Join(stage, "include", filepath.Base(h)), data, 0o644); err != nil {
				return err
			}
		}
		return nil
	})
}

// tidyPrefix removes libtool archives (their absolute paths break moved
// prefixes) and writes the recipe's .pc file when the build made none.
func tidyPrefix(stage string, j *job) error {
	las, _ := filepath.Glob(filepath.Join(stage, "lib", "*.la"))
	for _, la := range las {
		os.Remove(la)
	}
	if pc := j.r.PkgConfig; pc != nil {
		p := filepath.Join(stage, "lib", "pkgconfig", pc.Module+".pc")
		if _, err := os.Stat(p); err == nil {
			return nil
		}
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		desc := pc.Description
		if desc == "" {
			desc = j.r.Name
		}
		text := fmt.Sprintf("prefix=%s\nexec_prefix=${prefix}\nlibdir=${prefix}/lib\nincludedir=${prefix}/include\n\nName: %s\nDescription: %s\nVersion: %s\nLibs: %s\n",
			LinkPath(filepath.ToSlash(j.prefix)), pc.Module, desc, j.r.Version, pc.Libs)
		if pc.LibsPrivate != "" {
			text += "Libs.private: " + pc.LibsPrivate + "\n"
		}
		if pc.Cflags != "" {
			text += "Cflags: " + pc.Cflags + "\n"
		}
		return os.WriteFile(p, []byte(text), 0o644)
	}
	return nil
}

// linkTest compiles and links the recipe's test program against the
// staged prefix through its .pc files (pkg-config --define-prefix reads
// them where they are now, before the prefix moves into place).
func (b *builder) linkTest(ctx context.Context, j *job, stage, dir string, env []string, log string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	pcDirs := b.pkgConfigDirs(j, filepath.Join(stage, "lib", "pkgconfig"), filepath.Join(stage, "share", "pkgconfig"))
	penv := run.Merge(env, "PKG_CONFIG_LIBDIR="+strings.Join(pcDirs, string(os.PathListSeparator)))
	return LinkTest(ctx, b.tc, j.r, dir, penv, log, b.depDirs(j, "lib"))
}

// LinkTest writes the recipe's test program into dir, asks pkg-config (with
// the environment given) for its flags, and compiles and links it with the
// cross compiler. extraLibDirs are added for libraries a .pc names without
// a -L (glib names -lintl).
func LinkTest(ctx context.Context, tc Toolchain, r recipe.Recipe, dir string, env []string, log string, extraLibDirs []string) error {
	c := filepath.Join(dir, "linktest.c")
	if err := os.WriteFile(c, []byte(r.LinkTest), 0o644); err != nil {
		return err
	}
	var flags []string
	if len(r.LinkLibs) > 0 {
		out, err := run.Output(ctx, run.Cmd{Args: append([]string{"pkg-config", "--define-prefix", "--cflags", "--libs"}, r.LinkLibs...), Env: env})
		if err != nil {
			return fmt.Errorf("pkg-config %s: %w", strings.Join(r.LinkLibs, " "), err)
		}
		flags = strings.Fields(out)
	}
	args := []string{tc.CrossPrefix + "gcc", "-o", filepath.Join(dir, "linktest.exe"), c}
	args = append(args, flags...)
	for _, d := range extraLibDirs {
		args = append(args, "-L"+d)
	}
	if err := run.Run(ctx, run.Cmd{Args: args, Dir: dir, Env: env, Log: log}); err != nil {
		return err
	}
	if _, err := os.Stat(filepath.Join(dir, "linktest.exe")); err != nil {
		return fmt.Errorf("no linktest.exe was written: %w", err)
	}
	return nil
}

// progressLine shows a build tool's progress now and then (ninja's
// "[n/m]" lines), not every line.
func progressLine(j *job) func(string) {
	var last time.Time
	return func(line string) {
		if !strings.HasPrefix(line, "[") || time.Since(last) < 20*time.Second {
			return
		}
		last = time.Now()
		if i := strings.Index(line, "]"); i > 0 {
			j.say("compile " + line[:i+1])
		}
	}
}
