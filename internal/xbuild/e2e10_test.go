package xbuild

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"qemupack/internal/bundle"
	"qemupack/internal/catalog"
	"qemupack/internal/config"
	"qemupack/internal/deps"
	"qemupack/internal/smoke"
)

// e2e10 holds what TestBuildDebian10EndToEnd made, for the bundle test
// that follows it in the same run.
var e2e10 struct {
	res Result
	cfg config.Config
}

// TestBuildDebian10EndToEnd builds QEMU 10.2.2 from Debian's +ds source
// package for real: the Debian series applied, configure through the venv
// with meson from Debian's trixie package on PYTHONPATH, ninja, install,
// the option ROMs from the tree, then the staged program under wine.
// Opt-in, QEMUPACK_E2E=1 with:
//
//	QEMUPACK_E2E_DSC     qemu_10.2.2+ds-1.dsc, its tarballs beside it
//	QEMUPACK_TEST_DEBS   a folder holding meson_1.*_all.deb (trixie)
//	QEMUPACK_E2E_DEPS    a built deps stack prefix (else built into QEMUPACK_CACHE)
//	QEMUPACK_E2E_RELEASE the release to ask for (default 10.2.2; 7.2.0 with
//	                     Debian 12's qemu .dsc builds 7.2.22, no meson needed)
func TestBuildDebian10EndToEnd(t *testing.T) {
	dsc, debs := os.Getenv("QEMUPACK_E2E_DSC"), os.Getenv("QEMUPACK_TEST_DEBS")
	if os.Getenv("QEMUPACK_E2E") != "1" || dsc == "" {
		t.Skip("set QEMUPACK_E2E=1, QEMUPACK_E2E_DSC and QEMUPACK_TEST_DEBS (and QEMUPACK_CACHE) to build QEMU 10 for real")
	}
	release := os.Getenv("QEMUPACK_E2E_RELEASE")
	if release == "" {
		release = "10.2.2"
	}
	var pkgs []PythonPackage
	ms, _ := filepath.Glob(filepath.Join(debs, "meson_1.*_all.deb"))
	if debs != "" && len(ms) > 0 {
		pkgs = []PythonPackage{{Origin: filepath.Base(ms[len(ms)-1]) + " (Debian trixie)"}}
	} else if release == "10.2.2" {
		t.Fatalf("no meson_1.*_all.deb in QEMUPACK_TEST_DEBS=%q (apt-get download meson/trixie)", debs)
	}
	root, _ := filepath.Abs("../..")
	cfg, err := config.FromEnv(root, os.Getenv)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Minute)
	defer cancel()
	stack := os.Getenv("QEMUPACK_E2E_DEPS")
	if stack == "" {
		o, err := deps.OptionsFrom(ctx, cfg, testWriter{t})
		if err != nil {
			t.Fatal(err)
		}
		st, err := deps.Build(ctx, o)
		if err != nil {
			t.Fatal(err)
		}
		stack = st.Dir
	}
	// The package unpacked into the cache, where the pipeline's .deb
	// extraction will put it.
	if len(pkgs) > 0 {
		mesonRoot := filepath.Join(cfg.CacheDir, "e2e-tools", strings.TrimSuffix(filepath.Base(ms[len(ms)-1]), ".deb"))
		if _, err := os.Stat(filepath.Join(mesonRoot, distPackages)); err != nil {
			os.RemoveAll(mesonRoot)
			os.MkdirAll(mesonRoot, 0o755)
			if out, err := exec.Command("dpkg-deb", "-x", ms[len(ms)-1], mesonRoot).CombinedOutput(); err != nil {
				t.Fatalf("dpkg-deb -x: %v\n%s", err, out)
			}
		}
		pkgs[0].Root = mesonRoot
	}
	t0 := time.Now()
	res, err := Run(ctx, cfg, Job{
		Release:        catalog.Release{Version: release},
		DepsPrefixes:   []string{stack},
		DebianDsc:      dsc,
		PythonPackages: pkgs,
	}, testWriter{t})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("build: %.0f s here; times %v, %d ninja steps; tools: %q", time.Since(t0).Seconds(), res.Times, res.Steps, res.BuildTools)
	t.Logf("configure: %s", strings.Join(res.ConfigureArgs, " "))
	if res.Flavor != "debian" || (release == "10.2.2" && res.Version != "10.2.2") {
		t.Errorf("built %s (%s)", res.Version, res.Flavor)
	}
	want := append([]string{"qemu-system-x86_64.exe", "qemu-img.exe"}, prefixed("share/", OptionROMs)...)
	if UsesVenv(filepath.Dir(res.LicenseFiles["QEMU"])) { // 7.2 (Debian series) keeps meson out of pc-bios/
		want = append(want, "share/keymaps/en-us")
	}
	for _, want := range want {
		if _, err := os.Stat(filepath.Join(res.StageDir, want)); err != nil {
			t.Errorf("stage lacks %s: %v", want, err)
		}
	}
	e2e10.res, e2e10.cfg = res, cfg
	wine, err := exec.LookPath("wine")
	if err != nil {
		t.Fatal("wine is needed to run the staged exe (Debian package wine)")
	}
	for _, args := range [][]string{{"-version"}, {"-accel", "help"}} {
		t1 := time.Now()
		cmd := exec.CommandContext(ctx, wine, append([]string{filepath.Join(res.StageDir, "qemu-system-x86_64.exe")}, args...)...)
		cmd.Env = append(os.Environ(), "WINEPATH="+strings.Join(res.DLLSearchDirs, ";"), "WINEDEBUG=-all")
		out, err := cmd.CombinedOutput()
		t.Logf("wine qemu-system-x86_64.exe %s (%.1f s):\n%s", strings.Join(args, " "), time.Since(t1).Seconds(), out)
		if err != nil {
			t.Errorf("wine qemu-system-x86_64.exe %s: %v", strings.Join(args, " "), err)
		}
		if args[0] == "-version" && !strings.Contains(string(out), "QEMU emulator version "+res.Version) {
			t.Errorf("-version says %q", out)
		}
		if args[0] == "-accel" && (!strings.Contains(string(out), "tcg") || (release == "10.2.2" && !strings.Contains(string(out), "whpx"))) {
			t.Errorf("-accel help lacks tcg or whpx: %q", out)
		}
	}
}

func prefixed(p string, names []string) []string {
	var out []string
	for _, n := range names {
		out = append(out, p+n)
	}
	return out
}

// TestBundleDebian10EndToEnd bundles what TestBuildDebian10EndToEnd
// staged (run it first, in the same go test run) with SeaBIOS and iPXE
// from Debian binary packages of the QEMU source's own suite, and runs the
// smoke on the archive: unpacked into an empty folder, under wine with a
// fresh prefix, -version, -machine help, and a Linux kernel boot to
// "Linux version". QEMUPACK_E2E_FIRMWARE names a folder holding exactly
// the firmware .debs (apt-get download seabios/sid ipxe-qemu/sid);
// QEMUPACK_E2E_SUITE their suite (default sid).
func TestBundleDebian10EndToEnd(t *testing.T) {
	fwDir := os.Getenv("QEMUPACK_E2E_FIRMWARE")
	if e2e10.res.StageDir == "" || fwDir == "" {
		t.Skip("runs after TestBuildDebian10EndToEnd, with QEMUPACK_E2E_FIRMWARE set")
	}
	suite := os.Getenv("QEMUPACK_E2E_SUITE")
	if suite == "" {
		suite = "sid"
	}
	cfg := e2e10.cfg
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	debs, _ := filepath.Glob(filepath.Join(fwDir, "*.deb"))
	if len(debs) == 0 {
		t.Fatalf("no .deb in %s", fwDir)
	}
	var fw []bundle.Firmware
	for _, deb := range debs {
		fields, err := exec.Command("dpkg-deb", "-f", deb, "Package", "Version").Output()
		if err != nil {
			t.Fatal(err)
		}
		var pkg, ver string
		for _, l := range strings.Split(string(fields), "\n") {
			if v, ok := strings.CutPrefix(l, "Package: "); ok {
				pkg = v
			}
			if v, ok := strings.CutPrefix(l, "Version: "); ok {
				ver = v
			}
		}
		root := filepath.Join(cfg.CacheDir, "e2e-firmware", strings.TrimSuffix(filepath.Base(deb), ".deb"))
		if _, err := os.Stat(filepath.Join(root, "usr")); err != nil {
			os.MkdirAll(root, 0o755)
			if out, err := exec.Command("dpkg-deb", "-x", deb, root).CombinedOutput(); err != nil {
				t.Fatalf("dpkg-deb -x %s: %v\n%s", deb, err, out)
			}
		}
		f, err := bundle.FirmwareFromDeb(root, pkg, ver, suite, filepath.Base(deb))
		if err != nil {
			t.Fatal(err)
		}
		fw = append(fw, f...)
	}
	rec, err := bundle.ReadBuild(filepath.Join(filepath.Dir(e2e10.res.StageDir), "result.json"))
	if err != nil {
		t.Fatal(err)
	}
	in, err := bundle.InputFromBuild(ctx, cfg, rec)
	if err != nil {
		t.Fatal(err)
	}
	in.Firmware, in.FirmwareDirs = fw, nil
	in.DistDir = filepath.Join(cfg.CacheDir, "e2e-dist")
	in.Log = func(s string) { t.Log(s) }
	t0 := time.Now()
	res, err := bundle.Bundle(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("bundle: %s, %.1f MB, %d DLLs (%s) in %.1f s", res.Archive.Path, float64(res.Archive.Size)/1e6, len(res.Closure.DLLs), strings.Join(res.Closure.Names(), " "), time.Since(t0).Seconds())
	// The closure is complete or Bundle fails; these are what QEMU itself
	// imports. (libgmodule-2.0-0.dll is linked but imported only with TCG
	// plugins or modules, both off in this build.)
	for _, dll := range []string{"libglib-2.0-0.dll", "libpixman-1-0.dll", "libslirp-0.dll"} {
		if !strings.Contains(strings.Join(res.Closure.Names(), " "), dll) {
			t.Errorf("the closure lacks %s", dll)
		}
	}
	for _, e := range res.Spec.Entries {
		if e.Name == "README.txt" {
			t.Logf("README.txt:\n%s", e.Data)
		}
	}
	kernel, err := smoke.Kernel(ctx, filepath.Join(cfg.CacheDir, "kernel"), cfg.Offline, func(s string) { t.Log(s) })
	if err != nil {
		t.Fatal(err)
	}
	rep, err := smoke.Smoke(ctx, smoke.Options{Archive: res.Archive.Path, Kernel: kernel, Version: e2e10.res.Version,
		Log: func(s string) { t.Log(s) }, BuildFolders: []string{cfg.Root, cfg.CacheDir}})
	if rep != nil {
		for _, s := range rep.Steps {
			t.Logf("smoke step %-40s %6.1f s  %s", s.Name, s.Took.Seconds(), s.Note)
		}
	}
	if err != nil {
		t.Fatal(err)
	}
}
