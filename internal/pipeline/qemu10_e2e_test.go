//go:build !windows

package pipeline

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
	"qemupack/internal/debian"
	"qemupack/internal/qemusrc"
	"qemupack/internal/source"
	"qemupack/internal/xbuild"
)

// TestDebianQEMU10EndToEnd runs the real sources, build, bundle and smoke
// steps on QEMU 10.2.2 from Debian's +ds source package, with the inputs
// the pipeline is to fill from the apt tree given by hand: meson from
// trixie's package for configure's venv, SeaBIOS and iPXE from the
// source's own suite. It checks the staged program under wine (-version,
// -accel help), the archive's firmware provenance, and the smoke (a fresh
// wine prefix, a kernel boot to "Linux version"). Opt-in, QEMUPACK_E2E=1:
//
//	QEMUPACK_E2E_DSC      qemu_10.2.2+ds-1.dsc, its tarballs beside it
//	QEMUPACK_E2E_SUITE    the suite that lists it (default sid)
//	QEMUPACK_E2E_MESON    meson_1.7.0-1_all.deb (apt-get download meson/trixie)
//	QEMUPACK_E2E_FIRMWARE a folder of exactly the firmware .debs
//	                      (apt-get download seabios/sid ipxe-qemu/sid)
//	QEMUPACK_E2E_RELEASE  the release asked for (default 10.2.2; 7.2.0 with
//	                      Debian 12's .dsc, no meson and bookworm's firmware)
//
// plus QEMUPACK_CACHE, JOBS. The mingw libraries are built from the
// recipes (the deps step) into the cache first.
func TestDebianQEMU10EndToEnd(t *testing.T) {
	dsc := os.Getenv("QEMUPACK_E2E_DSC")
	if os.Getenv("QEMUPACK_E2E") != "1" || dsc == "" {
		t.Skip("set QEMUPACK_E2E=1 and QEMUPACK_E2E_DSC (see the comment) to build QEMU from a Debian .dsc for real")
	}
	release := orDefault(os.Getenv("QEMUPACK_E2E_RELEASE"), "10.2.2")
	suite := orDefault(os.Getenv("QEMUPACK_E2E_SUITE"), "sid")
	root, _ := filepath.Abs("../..")
	cfg, err := config.FromEnv(root, os.Getenv)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Offline = true
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Hour)
	defer cancel()
	r := New(cfg, testLog{t})
	defer r.Close()
	if err := probe(ctx, r); err != nil {
		t.Fatal(err)
	}

	// The source package as pick would have chosen it from the apt tree:
	// its files with their sums (the .dsc's own sum computed here).
	text, err := os.ReadFile(dsc)
	if err != nil {
		t.Fatal(err)
	}
	d, err := debian.ParseDsc(string(text))
	if err != nil {
		t.Fatal(err)
	}
	dscSum, err := source.SHA256File(dsc)
	if err != nil {
		t.Fatal(err)
	}
	// Where the archive serves the .dsc (Debian's pool layout), for the
	// bill of materials, as the apt tree would give it.
	pool := "https://deb.debian.org/debian/pool/main/" + d.Source[:1] + "/" + d.Source + "/"
	sp := debian.SourcePkg{Package: d.Source, Version: d.Version, Suite: suite,
		Files: append([]debian.File{{Name: filepath.Base(dsc), SHA256: dscSum, URL: pool + filepath.Base(dsc)}}, d.Files...)}
	tree, err := qemusrc.Prepare(ctx, qemusrc.Request{
		Release: catalog.Release{Version: release}, CacheDir: cfg.CacheDir, Mirror: filepath.Dir(dsc), Offline: true,
		PatchRoot: filepath.Join(cfg.Root, "patches", "qemu"), DebianSource: &sp, Cache: r.Cache, Progress: r.Line,
	})
	if err != nil {
		t.Fatal(err)
	}
	r.Source = tree
	r.hold(tree.Entry)

	if err := buildDeps(ctx, r); err != nil {
		t.Fatal(err)
	}
	if deb := os.Getenv("QEMUPACK_E2E_MESON"); deb != "" {
		dir := unpack(t, cfg, deb)
		r.PythonPackages = []xbuild.PythonPackage{{Root: dir, Origin: filepath.Base(deb) + " (Debian trixie)"}}
	}
	if fw := os.Getenv("QEMUPACK_E2E_FIRMWARE"); fw != "" {
		debs, _ := filepath.Glob(filepath.Join(fw, "*.deb"))
		for _, deb := range debs {
			pkg, ver := debFields(t, deb)
			f, err := bundle.FirmwareFromDeb(unpack(t, cfg, deb), pkg, ver, suite, filepath.Base(deb))
			if err != nil {
				t.Fatal(err)
			}
			r.FirmwarePackages = append(r.FirmwarePackages, f...)
		}
	}

	t0 := time.Now()
	if err := build(ctx, r); err != nil {
		t.Fatal(err)
	}
	b := r.Build
	t.Logf("build: %.0f s here; %d ninja steps, times %v", time.Since(t0).Seconds(), b.Steps, b.Times)
	t.Logf("configure: %s", strings.Join(b.ConfigureArgs, " "))
	for _, l := range b.BuildTools {
		t.Logf("with %s", l)
	}
	want := []string{"qemu-system-x86_64.exe", "qemu-img.exe"}
	for _, rom := range xbuild.OptionROMs {
		want = append(want, "share/"+rom)
	}
	if xbuild.UsesVenv(tree.Dir) { // 7.2's Debian series keeps meson out of pc-bios/, so no keymaps
		want = append(want, "share/keymaps/en-us")
	}
	for _, f := range want {
		if _, err := os.Stat(filepath.Join(b.StageDir, f)); err != nil {
			t.Errorf("stage lacks %s: %v", f, err)
		}
	}
	if wine, err := exec.LookPath("wine"); err == nil {
		var dirs []string
		for _, s := range r.Host.DLLSearch([]string{r.Deps.Dir}) {
			dirs = append(dirs, s.Path)
		}
		for _, args := range [][]string{{"-version"}, {"-accel", "help"}} {
			t1 := time.Now()
			cmd := exec.CommandContext(ctx, wine, append([]string{filepath.Join(b.StageDir, "qemu-system-x86_64.exe")}, args...)...)
			cmd.Env = append(os.Environ(), "WINEPATH="+strings.Join(dirs, ";"), "WINEDEBUG=-all")
			out, err := cmd.CombinedOutput()
			t.Logf("wine qemu-system-x86_64.exe %s (%.1f s):\n%s", strings.Join(args, " "), time.Since(t1).Seconds(), out)
			switch {
			case err != nil:
				t.Errorf("wine qemu-system-x86_64.exe %s: %v", strings.Join(args, " "), err)
			case args[0] == "-version" && !strings.Contains(string(out), "QEMU emulator version "+b.Version):
				t.Errorf("-version: %q", out)
			case args[0] == "-accel" && (!strings.Contains(string(out), "tcg") || !strings.Contains(string(out), "whpx")):
				t.Errorf("-accel help lacks tcg or whpx: %q", out)
			}
		}
	}

	if err := bundleArchive(ctx, r); err != nil {
		t.Fatal(err)
	}
	a := r.Bundle
	t.Logf("archive: %s, %.1f MB, %d DLLs: %s", a.Archive.Path, float64(a.Archive.Size)/1e6, len(a.Closure.DLLs), strings.Join(a.Closure.Names(), " "))
	for _, e := range a.Spec.Entries {
		if e.Name == "README.txt" {
			t.Logf("README.txt:\n%s", e.Data)
			for _, f := range r.FirmwarePackages {
				if !strings.Contains(string(e.Data), f.Describe()) {
					t.Errorf("README.txt does not name %s", f.Describe())
				}
			}
		}
	}
	if err := smokeTest(ctx, r); err != nil {
		t.Fatal(err)
	}
	for _, s := range r.Smoke.Steps {
		t.Logf("smoke: %-36s %5.1f s  %s", s.Name, s.Took.Seconds(), s.Note)
	}
	if os.Getenv("QEMUPACK_E2E_RELEASE_FILES") == "1" {
		r.Release = ReleaseOptions{Zip: true}
		if err := releaseFiles(ctx, r); err != nil {
			t.Fatal(err)
		}
		t.Logf("release files: %+v", r.Outputs)
	}
}

func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}

// unpack extracts a .deb into the cache with the Debian module's
// extractor, once.
func unpack(t *testing.T, cfg config.Config, deb string) string {
	dir := filepath.Join(cfg.CacheDir, "e2e-debs", strings.TrimSuffix(filepath.Base(deb), ".deb"))
	if _, err := os.Stat(filepath.Join(dir, "usr")); err == nil {
		return dir
	}
	os.RemoveAll(dir)
	if err := debian.ExtractDeb(deb, dir); err != nil {
		t.Fatal(err)
	}
	return dir
}

func debFields(t *testing.T, deb string) (pkg, version string) {
	out, err := exec.Command("dpkg-deb", "-f", deb, "Package", "Version").Output()
	if err != nil {
		t.Fatalf("dpkg-deb -f %s: %v", deb, err)
	}
	for _, l := range strings.Split(string(out), "\n") {
		if v, ok := strings.CutPrefix(l, "Package: "); ok {
			pkg = v
		}
		if v, ok := strings.CutPrefix(l, "Version: "); ok {
			version = v
		}
	}
	return pkg, version
}

type testLog struct{ t *testing.T }

func (w testLog) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}
