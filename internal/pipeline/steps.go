package pipeline

import (
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"

	"qemupack/internal/bundle"
	"qemupack/internal/config"
	"qemupack/internal/debian"
	"qemupack/internal/deps"
	"qemupack/internal/host"
	"qemupack/internal/pick"
	"qemupack/internal/profile"
	"qemupack/internal/qemusrc"
	"qemupack/internal/release"
	"qemupack/internal/sbom"
	"qemupack/internal/sign"
	"qemupack/internal/smoke"
	"qemupack/internal/xbuild"
)

// hostJobs are the jobs beyond the build whose needs the setup step
// installs: the smoke's (wine) when this run will smoke-test the archive,
// the release's (makensis, and osslsigncode when it signs).
func (r *Run) hostJobs() []host.Job {
	var jobs []host.Job
	if r.planned["smoke"] {
		jobs = append(jobs, host.JobSmoke)
	}
	if r.planned["release"] {
		jobs = append(jobs, host.JobRelease)
		if s := r.Config.Sign; s.PFX != "" || s.Cert != "" {
			jobs = append(jobs, host.JobSign)
		}
	}
	return jobs
}

func probe(ctx context.Context, r *Run) error {
	rep, err := host.Probe(ctx, r.Config, host.Options{Jobs: r.hostJobs(), Log: r.Line})
	if err != nil {
		return err
	}
	r.Host = rep
	return nil
}

func setup(ctx context.Context, r *Run) error {
	rep, installed, err := host.Complete(ctx, r.Host, func() (host.Report, error) {
		return host.Probe(ctx, r.Config, host.Options{Jobs: r.hostJobs(), Log: r.Line})
	})
	r.Host, r.Installed = rep, installed
	if len(installed) > 0 {
		r.Say("setup: installed %s", strings.Join(installed, " "))
	}
	if err != nil {
		return fmt.Errorf("the toolchain is not complete: %w", err)
	}
	return nil
}

func pickRelease(ctx context.Context, r *Run) error {
	res, err := pick.FromReport(ctx, r.Config, pick.Options{}, r.Host)
	r.Pick, r.PickErr = res, err
	return err
}

func sources(ctx context.Context, r *Run) error {
	p := r.Pick
	r.Say("sources: qemu %s from %s", p.Picked.Version, p.Source)
	tree, err := qemusrc.Prepare(ctx, qemusrc.Request{
		Release:   p.Picked,
		CacheDir:  r.Config.CacheDir,
		Mirror:    r.Config.Mirror,
		Offline:   r.Config.Offline,
		PatchRoot: filepath.Join(r.Config.Root, "patches", "qemu"),
		NoDebian:  p.Source != pick.SourceDebian,
		// The archive pick read, and the Debian version it chose.
		Debian:       p.DebianTree(),
		DebianSource: p.DebianChosen(),
		Progress:     r.Line,
	})
	if err != nil {
		return err
	}
	r.Source = tree
	r.hold(tree.Entry)
	r.Say("sources: qemu %s ready (%s)", tree.Version, tree.Origin)
	// The targets, checked against the tree ("all": every system
	// emulator it offers), before anything is built for them.
	if r.Targets, err = xbuild.CheckTargets(tree.Dir, r.Config.Targets); err != nil {
		return err
	}
	if err := bundle.CheckTargets(r.Targets); err != nil {
		return fmt.Errorf("%s=%s: %w", config.EnvTargets, strings.Join(r.Config.Targets, ","), err)
	}
	// What the tree's build needs from Debian's archive besides the tree:
	// python packages its configure asks for, firmware its repack lacks.
	if r.PythonPackages, err = r.pythonPackages(ctx, tree, r.buildPython()); err != nil {
		return err
	}
	if r.FirmwarePackages, err = r.firmwarePackages(ctx, tree, r.Targets); err != nil {
		return err
	}
	return nil
}

// profile is the profile the settings name (the default when a Config
// was made by hand without one).
func (r *Run) profile() (profile.Profile, error) {
	name := r.Config.Profile
	if name == "" {
		name = profile.Default
	}
	p, err := profile.Lookup(name)
	if err != nil {
		return p, fmt.Errorf("%s: %w", config.EnvProfile, err)
	}
	return p, nil
}

// want is what the deps step builds: Run.Want when set, else QEMU's own
// modules and those of the profile's library features
// (deps.DeskFeatures).
func (r *Run) want() ([]string, error) {
	if r.Want != nil {
		return r.Want, nil
	}
	p, err := r.profile()
	if err != nil {
		return nil, err
	}
	libs, err := p.Libraries()
	if err != nil {
		return nil, err
	}
	mods, unknown := deps.FeatureModules(libs...)
	if len(unknown) > 0 {
		return nil, fmt.Errorf("profile %s: no library of deps.DeskFeatures is QEMU's %s option", p.Name, strings.Join(unknown, ", "))
	}
	return append(append([]string{}, deps.QEMUModules...), mods...), nil
}

// targets are the checked targets (Run.Targets), or the settings' own
// when the sources step did not run (xbuild checks them itself).
func (r *Run) targets() []string {
	if len(r.Targets) > 0 {
		return r.Targets
	}
	return r.Config.Targets
}

// archiveVersion is what the archive, its debug archive and the release
// are named by: the build's version ("10.2.2-debian"), and "-headless"
// for a build of the lean profile, so a desk and a headless archive of
// one release can sit side by side in dist/ (the desk build, the default,
// keeps the plain name).
func (r *Run) archiveVersion() string {
	v := r.Build.FullVersion()
	if p, err := r.profile(); err == nil && p.Name == profile.Headless {
		v += "-" + profile.Headless
	}
	return v
}

// buildPython is the interpreter the build runs QEMU's configure with: the
// host model's choice (PYTHON, else the python the host's meson runs under,
// never a shim that lacks the distribution's packages).
func (r *Run) buildPython() string {
	p := r.Host.BuildPython
	if p.Executable != "" {
		return p.Executable
	}
	if p.Path != "" {
		return p.Path
	}
	return r.Config.Python
}

func buildDeps(ctx context.Context, r *Run) error {
	o, err := deps.OptionsFor(r.Config, r.Host, lineWriter{r})
	if err != nil {
		return err
	}
	o.HostMin = r.Pick.HostMin() // a host library where pick found it enough
	if o.Want, err = r.want(); err != nil {
		return err
	}
	o.Cache = r.Cache
	if t := r.Pick.DebianTree(); t != nil {
		o.Fetcher.Debian = t.DownloadSourceFile // recipes' debian_package tarballs
	}
	st, err := deps.Build(ctx, o)
	if err != nil {
		return err
	}
	r.Deps = st
	for _, e := range st.Entries {
		r.hold(e)
	}
	r.Say("deps: stack of %d libraries in %s (%d built, %d reused from the cache, %d from the host)",
		len(st.Libs), st.Dir, st.Built, st.Cached, st.Host)
	return nil
}

func build(ctx context.Context, r *Run) error {
	c := r.Config
	prof, err := r.profile()
	if err != nil {
		return err
	}
	promised, err := prof.All() // xbuild keeps those that apply to the targets
	if err != nil {
		return err
	}
	o := xbuild.Options{
		Tree:         r.Source,
		CacheDir:     c.CacheDir,
		Cache:        r.Cache,
		CrossPrefix:  c.CrossPrefix,
		Targets:      r.targets(),
		Promised:     promised,
		DepsPrefixes: []string{r.Deps.Dir},
		Sysroots:     r.Host.ExistingSysroots(),
		Jobs:         c.Jobs,
		Python:       r.buildPython(),
		Host:         xbuild.HostLinux,
		Out:          lineWriter{r},
	}
	o.PythonPackages = r.PythonPackages
	if l := r.Host.Layout; l != nil {
		// Under Cygwin or MSYS2: configure runs through the shell, with the
		// host model's one path conversion.
		o.Host, o.Bash, o.ToPosix, o.FromPosix = xbuild.HostCygwin, r.Host.Bash(), l.ToPosix, l.ToWindows
	}
	res, err := xbuild.Build(ctx, o)
	if err != nil {
		return err
	}
	r.Build = res
	r.hold(res.Entry)
	return nil
}

// bundleInput is what the bundle step makes the archive from: the staged
// build, the host's one DLL search order (our library stack first), the
// firmware folders.
func bundleInput(ctx context.Context, r *Run) (bundle.Input, error) {
	c, b := r.Config, r.Build
	search := r.Host.DLLSearch([]string{r.Deps.Dir})
	keys := make([]string, 0, len(b.LicenseFiles))
	for k := range b.LicenseFiles {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	lic := map[string][]string{}
	for _, k := range keys {
		lic["QEMU"] = append(lic["QEMU"], b.LicenseFiles[k])
	}
	var notes []string
	if len(b.Patches) > 0 {
		notes = append(notes, "Patches applied on top: "+strings.Join(b.Patches, ", "))
	}
	if len(b.ConfigureArgs) > 0 {
		notes = append(notes, "configure "+hideCache(strings.Join(b.ConfigureArgs, " "), c.CacheDir))
	}
	for _, t := range b.BuildTools {
		notes = append(notes, "with "+hideCache(t, c.CacheDir))
	}
	has, lacks := profile.Offers(b.Features, b.Targets)
	// Firmware the stage lacks comes from Debian's packages of the QEMU
	// source's own suite, never from what the host happens to have.
	return bundle.Input{
		Stage: b.StageDir, Version: r.archiveVersion(), Origin: b.SourceOrigin, Targets: b.Targets,
		Search: search, Firmware: r.FirmwarePackages, Licenses: lic, BuildNotes: notes,
		Features: has, Lacks: lacks,
		Time: bundle.EpochTime(c.SourceDateEpoch), DistDir: c.DistDir,
		Cache: r.Cache, Log: r.Line, Strip: &bundle.Stripper{Objcopy: c.CrossPrefix + "objcopy"},
	}, nil
}

// hideCache writes the cache folder in s as $QEMUPACK_CACHE: where the
// build machine kept its cache is no part of the archive (two checkouts
// must give the same bytes), while the layout under it still tells a
// reader which source tree and deps stack were used.
func hideCache(s, cache string) string {
	if cache == "" {
		return s
	}
	c := filepath.Clean(cache)
	s = strings.ReplaceAll(s, c, "$"+config.EnvCache)
	if slash := filepath.ToSlash(c); slash != c {
		s = strings.ReplaceAll(s, slash, "$"+config.EnvCache)
	}
	return s
}

func bundleArchive(ctx context.Context, r *Run) error {
	in, err := bundleInput(ctx, r)
	if err != nil {
		return err
	}
	res, err := bundle.Bundle(ctx, in)
	if err != nil {
		return err
	}
	for _, e := range res.Entries {
		r.hold(e)
	}
	r.Bundle = res
	return nil
}

// SmokeAvailable says whether this host can run the smoke checks: Windows
// itself, or wine on PATH.
func SmokeAvailable() bool {
	if runtime.GOOS == "windows" {
		return true
	}
	_, err := exec.LookPath("wine")
	return err == nil
}

func smokeTest(ctx context.Context, r *Run) error {
	if !SmokeAvailable() {
		return fmt.Errorf("wine is not installed, so the archive cannot be tested: install the Debian packages wine and wine64 (as root on Debian, qemupack installs them unless %s=no), or run on Windows; or set %s=skip to bundle without the smoke test", config.EnvSetup, config.EnvSmoke)
	}
	return r.smokeOnce(ctx)
}

// SmokeArchive runs the smoke checks on an archive (under wine on Linux).
func SmokeArchive(ctx context.Context, c config.Config, archive string, log func(string)) (*smoke.Report, error) {
	o, err := smokeOptions(ctx, c, archive, log)
	if err != nil {
		return nil, err
	}
	rep, err := smoke.Smoke(ctx, o)
	if err != nil {
		return rep, fmt.Errorf("smoke %s: %w", filepath.Base(archive), err)
	}
	return rep, nil
}

// ReleaseOptions say what the release step makes.
type ReleaseOptions struct {
	Zip bool // the zip too (release); false: the installer alone (installer)
}

func releaseFiles(ctx context.Context, r *Run) error {
	c := r.Config
	signer, err := sign.FromSettings(c.Sign)
	if err != nil {
		return err
	}
	in, err := bundleInput(ctx, r)
	if err != nil {
		return err
	}
	spec := r.Bundle.Spec
	deb := &sbom.Debian{Sources: r.dscOf}
	b := r.Build
	qemu, err := release.QEMUComponent(release.QEMUSource{Version: b.Version, FullVersion: b.FullVersion(), Origin: b.SourceOrigin, Patches: b.Patches,
		URL: r.Source.SourceURL, SHA256: r.Source.SourceSHA256, Debian: r.Source.Flavor == qemusrc.FlavorDebian}, c.Root)
	if err != nil {
		return err
	}
	var prefixes []string
	for _, l := range r.Deps.Libs {
		if l.From != deps.FromHost {
			prefixes = append(prefixes, l.Prefix)
		}
	}
	owners, err := sbom.DepsOwners(prefixes, filepath.Join(c.Root, "recipes", "deps"), filepath.Join(c.Root, "patches"))
	if err != nil {
		return err
	}
	owners = append(owners, release.FirmwareOwners(in.Firmware)...)
	var search, qemuFiles []string
	for _, s := range in.Search {
		search = append(search, s.Path)
	}
	search = append(search, in.FirmwareDirs...)
	for _, f := range b.LicenseFiles {
		qemuFiles = append(qemuFiles, f)
	}
	if signer != nil {
		signer.Description = "QEMU " + b.FullVersion()
		signer.URL = "https://www.qemu.org/"
	}
	out, err := release.Make(ctx, release.Inputs{
		Spec: spec, Version: r.archiveVersion(),
		QEMU: qemu, QEMUDirs: []string{b.StageDir}, QEMUFiles: qemuFiles,
		Owners: owners, SearchDirs: search, Host: deb.Owner,
		Tool:   sbom.Component{Name: "qemupack", Version: release.ToolVersion(ctx, c.Root), Comment: "files qemupack writes itself (README.txt)"},
		Signer: signer, Zip: r.Release.Zip, Installer: true,
		DistDir: c.DistDir, Work: filepath.Join(c.CacheDir, "release"),
		Log: r.Line,
	})
	if err != nil {
		return err
	}
	r.Outputs = out
	return nil
}

// lineWriter turns writes into whole progress lines of the run.
type lineWriter struct{ r *Run }

func (w lineWriter) Write(p []byte) (int, error) {
	for _, l := range strings.Split(strings.TrimRight(string(p), "\n"), "\n") {
		w.r.Line(l)
	}
	return len(p), nil
}

// dscOf finds a Debian source package's .dsc (URL and sha256) in the
// private apt tree pick read: the SBOM's source of a host package's DLL.
func (r *Run) dscOf(ctx context.Context, pkg, version string) (string, string) {
	t := r.Pick.DebianTree()
	if t == nil {
		return "", ""
	}
	srcs, err := t.SourceVersions(ctx, pkg)
	if err != nil {
		return "", ""
	}
	for _, s := range srcs {
		if s.Version == version {
			if f, ok := s.Find(debian.ReDsc); ok {
				return f.URL, f.SHA256
			}
		}
	}
	return "", ""
}
