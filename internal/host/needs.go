package host

import (
	"context"
	"path/filepath"
	"strings"

	"qemupack/internal/config"
)

// Job is a piece of work whose needs go beyond the build toolchain every
// probe checks. The probe looks for every job's needs (so the toolchain
// report can show them all), but only the jobs named in Options.Jobs count
// as missing, and so only those are installed by Setup.
type Job string

const (
	// JobSmoke runs the archive: bundle's last step (wine on Linux; on
	// Windows the archive runs natively and needs nothing).
	JobSmoke Job = "smoke"
	// JobRelease makes the release files (the NSIS installer).
	JobRelease Job = "release"
	// JobSign signs them (release with a certificate).
	JobSign Job = "sign"
	// JobTest is the test suite, `go run mage.go test`.
	JobTest Job = "test"
	// JobFreshRoot makes fresh Debian roots, `go run mage.go freshroot`.
	JobFreshRoot Job = "freshroot"
)

// Jobs lists every job, in the order reports show them.
var Jobs = []Job{JobSmoke, JobRelease, JobSign, JobTest, JobFreshRoot}

// Title is how reports name a job.
func (j Job) Title() string {
	return map[Job]string{
		JobSmoke:     "the smoke test (bundle's last step)",
		JobRelease:   "the release files (release, installer)",
		JobSign:      "signing (release with a certificate)",
		JobTest:      "the test suite (go run mage.go test)",
		JobFreshRoot: "the fresh-root check (go run mage.go freshroot)",
	}[j]
}

// Need is one program or file a job needs, with what installs it.
type Need struct {
	Job Job
	// Program is looked up on PATH; File, when Program is empty, is a
	// pattern (filepath.Glob) at least one file must match.
	Program string
	File    string
	// Package names what installs it per host family; several packages
	// are separated by spaces. A family missing here has none we know.
	Package map[Family]string
	Why     string
	// Unix: only where the archive cannot run natively (not on Windows).
	Unix bool
}

// What is the program or file pattern.
func (n Need) What() string {
	if n.Program != "" {
		return n.Program
	}
	return n.File
}

// Needs is the one list of what the smoke, the test suite and the
// fresh-root check need beyond the toolchain. `bundle`, `test` and
// `freshroot` install from it; `check` shows it.
var Needs = []Need{
	{Job: JobSmoke, Program: "wine", Unix: true, Package: map[Family]string{Debian: "wine wine64", Fedora: "wine"},
		Why: "runs the archive's programs with nothing else installed"},
	{Job: JobSmoke, File: "/usr/share/wine/fonts/tahoma.ttf", Unix: true, Package: map[Family]string{Debian: "fonts-wine", Fedora: "wine-fonts"},
		Why: "wine's Tahoma, registered in the smoke's prefix so GTK's text renders (only a Recommends of wine, so setup names it)"},
	{Job: JobSmoke, Program: "Xvfb", Unix: true, Package: map[Family]string{Debian: "xvfb", Fedora: "xorg-x11-server-Xvfb"},
		Why: "the screen the desk archive's window checks look at (SDL window, VNC framebuffer)"},
	{Job: JobSmoke, Program: "xwininfo", Unix: true, Package: map[Family]string{Debian: "x11-utils", Fedora: "xwininfo"},
		Why: "lists the windows the desk archive's QEMU opens"},
	{Job: JobSmoke, Program: "xprop", Unix: true, Package: map[Family]string{Debian: "x11-utils", Fedora: "xprop"},
		Why: "reads the GTK window's title (QEMU, QEMU [Paused])"},
	{Job: JobSmoke, Program: "xdotool", Unix: true, Package: map[Family]string{Debian: "xdotool", Fedora: "xdotool"},
		Why: "clicks the GTK window's Machine > Pause and types into its monitor tab"},

	{Job: JobRelease, Program: "makensis", Package: map[Family]string{Debian: "nsis", Fedora: "mingw32-nsis"},
		Why: "builds the Windows installer"},
	{Job: JobSign, Program: "osslsigncode", Package: map[Family]string{Debian: "osslsigncode", Fedora: "osslsigncode"},
		Why: "Authenticode-signs the programs and the installer"},

	// The test suite: every tool a test runs, found by reading the tests
	// (and proved by the fresh-root check, where only these are added).
	{Job: JobTest, Program: "wine", Unix: true, Package: map[Family]string{Debian: "wine wine64", Fedora: "wine"},
		Why: "runs the Windows programs the smoke, signing and installer tests build"},
	{Job: JobTest, File: "/usr/share/wine/fonts/tahoma.ttf", Unix: true, Package: map[Family]string{Debian: "fonts-wine", Fedora: "wine-fonts"},
		Why: "wine's Tahoma for the GTK window tests (internal/smoke, the GTK proof in internal/deps)"},
	{Job: JobTest, Program: "makensis", Package: map[Family]string{Debian: "nsis", Fedora: "mingw32-nsis"},
		Why: "builds the installer (internal/installer, internal/release tests)"},
	{Job: JobTest, File: "/usr/share/nsis/Plugins/x86-unicode/*.dll", Package: map[Family]string{Debian: "nsis-common"},
		Why: "real 32-bit DLLs the PE reader is checked against (internal/pe, internal/bundle tests)"},
	{Job: JobTest, Program: "osslsigncode", Package: map[Family]string{Debian: "osslsigncode", Fedora: "osslsigncode"},
		Why: "signs the test programs (internal/sign, internal/release tests)"},
	{Job: JobTest, Program: "shellcheck", Package: map[Family]string{Debian: "shellcheck", Fedora: "ShellCheck"},
		Why: "checks the workflow's shell steps (internal/release tests)"},
	{Job: JobTest, Program: "isoinfo", Package: map[Family]string{Debian: "genisoimage", Fedora: "genisoimage"},
		Why: "reads back the cidata ISO the guest tests write"},
	{Job: JobTest, Program: "blkid", Package: map[Family]string{Debian: "util-linux", Fedora: "util-linux"},
		Why: "reads the ISO's volume label (internal/guest tests)"},
	{Job: JobTest, Program: "qemu-img", Package: map[Family]string{Debian: "qemu-utils", Fedora: "qemu-img"},
		Why: "makes and inspects the qcow2 overlays of the guest tests"},
	{Job: JobTest, Program: "git", Package: map[Family]string{Debian: "git", Fedora: "git"},
		Why: "the release tests list a checkout's files and copy checkouts"},
	{Job: JobTest, Program: "cmake", Package: map[Family]string{Debian: "cmake", Fedora: "cmake"},
		Why: "builds the CMake demo library of the deps tests"},
	{Job: JobTest, File: "/usr/share/seabios/bios-256k.bin", Package: map[Family]string{Debian: "seabios", Fedora: "seabios-bin"},
		Why: "real firmware the archive tests bundle (internal/bundle; the main job takes its own from the apt tree)"},
	{Job: JobTest, File: "/usr/lib/ipxe/qemu/efi-e1000.rom", Package: map[Family]string{Debian: "ipxe-qemu", Fedora: "ipxe-roms-qemu"},
		Why: "real option ROMs the archive tests bundle (internal/bundle)"},
	{Job: JobTest, File: "/usr/share/qemu/keymaps/en-us", Package: map[Family]string{Debian: "qemu-system-data", Fedora: "qemu-common"},
		Why: "real keymaps and qboot.rom the archive tests bundle (internal/bundle)"},
	{Job: JobTest, Program: "Xvfb", Unix: true, Package: map[Family]string{Debian: "xvfb", Fedora: "xorg-x11-server-Xvfb"},
		Why: "the screen the smoke's window checks look at (internal/smoke desk tests)"},
	{Job: JobTest, Program: "xwininfo", Unix: true, Package: map[Family]string{Debian: "x11-utils", Fedora: "xwininfo"},
		Why: "lists the windows on that screen"},
	{Job: JobTest, Program: "xprop", Unix: true, Package: map[Family]string{Debian: "x11-utils", Fedora: "xprop"},
		Why: "reads window titles (the GTK check's tests in internal/smoke)"},
	{Job: JobTest, Program: "xdotool", Unix: true, Package: map[Family]string{Debian: "xdotool", Fedora: "xdotool"},
		Why: "drives the GTK window's menu and monitor tab (internal/smoke tests, the GTK proof in internal/deps)"},
	{Job: JobTest, Program: "qemu-system-x86_64", Package: map[Family]string{Debian: "qemu-system-x86", Fedora: "qemu-system-x86-core"},
		Why: "the host QEMU the desk checks (window, VNC password, USB) are proved on before an archive is there"},
	{Job: JobTest, File: "/usr/lib/*/qemu/ui-sdl.so", Package: map[Family]string{Debian: "qemu-system-gui", Fedora: "qemu-ui-sdl"},
		Why: "the host QEMU's SDL and GTK windows (internal/smoke desk tests)"},
	{Job: JobTest, File: "/usr/lib/*/qemu/block-curl.so", Package: map[Family]string{Debian: "qemu-block-extra", Fedora: "qemu-block-curl"},
		Why: "the host qemu-img's http:// disks (internal/smoke desk tests)"},
	{Job: JobTest, Program: "dpkg-deb", Package: map[Family]string{Debian: "dpkg", Fedora: "dpkg"},
		Why: "builds the .deb files the smoke's kernel unpacking is tested on"},
	{Job: JobTest, Program: "x86_64-w64-mingw32-dlltool", Package: map[Family]string{Debian: "binutils-mingw-w64-x86-64", Fedora: "mingw64-binutils"},
		Why: "makes import libraries for the PE test programs"},
	{Job: JobTest, Program: "x86_64-w64-mingw32-gdb", Package: map[Family]string{Debian: "gdb-mingw-w64", Fedora: "mingw64-gdb"},
		Why: "resolves a stripped program's addresses through its debug file (internal/bundle strip tests)"},
	{Job: JobTest, Program: "x86_64-w64-mingw32-objdump", Package: map[Family]string{Debian: "binutils-mingw-w64-x86-64", Fedora: "mingw64-binutils"},
		Why: "the baseline the PE reader is compared with"},

	{Job: JobFreshRoot, Program: "debootstrap", Package: map[Family]string{Debian: "debootstrap", Fedora: "debootstrap"},
		Why: "makes the fresh Debian 12 root"},
	{Job: JobFreshRoot, File: "/usr/share/keyrings/debian-archive-keyring.gpg", Package: map[Family]string{Debian: "debian-archive-keyring"},
		Why: "verifies the Debian archive debootstrap downloads from"},
	{Job: JobFreshRoot, Program: "git", Package: map[Family]string{Debian: "git", Fedora: "git"},
		Why: "clones the checkout's HEAD into the root"},
	{Job: JobFreshRoot, Program: "tar", Package: map[Family]string{Debian: "tar", Fedora: "tar"},
		Why: "keeps the root as a tarball"},
	{Job: JobFreshRoot, Program: "chroot", Package: map[Family]string{Debian: "coreutils", Fedora: "coreutils"},
		Why: "runs the command inside the root"},
}

// NeedState is one need as the probe found it.
type NeedState struct {
	Job     Job    `json:"job"`
	What    string `json:"what"`
	Path    string `json:"path,omitempty"` // where it was found; "" when missing
	Package string `json:"package,omitempty"`
	Why     string `json:"why"`
}

// Found says whether the need is met.
func (n NeedState) Found() bool { return n.Path != "" }

// probeNeeds looks for every need that applies to this host, and adds the
// missing ones of the jobs asked for to r.Missing.
func (r *Report) probeNeeds(jobs []Job) {
	o := r.opts
	want := map[Job]bool{}
	for _, j := range jobs {
		want[j] = true
	}
	for _, n := range Needs {
		if n.Unix && o.GOOS == "windows" {
			continue
		}
		s := NeedState{Job: n.Job, What: n.What(), Package: n.Package[r.Family], Why: n.Why}
		if n.Program != "" {
			if p, err := o.LookPath(n.Program); err == nil {
				s.Path = p
			}
		} else {
			if m, _ := filepath.Glob(filepath.Join(o.Root+"/", filepath.FromSlash(n.File))); len(m) > 0 {
				s.Path = m[0]
			}
		}
		r.Needs = append(r.Needs, s)
		if !s.Found() && want[n.Job] {
			r.Missing = append(r.Missing, Missing{What: s.What, Package: s.Package, Why: s.Why, Job: n.Job})
		}
	}
}

// ProbeJobs looks at the host for some jobs alone, without the build
// toolchain: what kind of host it is, whether we are root, and the jobs'
// needs. Setup installs what it finds missing.
func ProbeJobs(ctx context.Context, cfg config.Config, opts Options, jobs ...Job) Report {
	o := opts.WithDefaults()
	r := Report{GOOS: o.GOOS, CrossPrefix: cfg.CrossPrefix, Triplet: strings.TrimSuffix(cfg.CrossPrefix, "-"), Root: o.IsRoot(), opts: o, noInstall: cfg.NoSetup}
	r.detectFamily(ctx)
	r.probeNeeds(jobs)
	return r
}

// NeedsMissing lists the job's needs that are not met, and the command
// that installs them ("" when none is known).
func (r Report) NeedsMissing(j Job) ([]NeedState, string) {
	var out []NeedState
	var pkgs []string
	for _, n := range r.Needs {
		if n.Job == j && !n.Found() {
			out = append(out, n)
			pkgs = append(pkgs, strings.Fields(n.Package)...)
		}
	}
	return out, InstallCommand(r.Family, pkgs)
}
