package pick_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"qemupack/internal/catalog"
	"qemupack/internal/config"
	"qemupack/internal/debian"
	"qemupack/internal/host/hosttest"
	"qemupack/internal/pick"
)

// The tests run the real probe and the real pick on fake hosts (hosttest:
// fake sysroots with .pc files of chosen versions, fake tools and python)
// and never touch the network: Reachable is always injected.

func testCatalog(t *testing.T) []catalog.Release {
	t.Helper()
	rs, err := catalog.Load(filepath.Join("..", "..", "testdata", "pick", "catalog.json"))
	if err != nil {
		t.Fatal(err)
	}
	return rs
}

// candidate is QEMU 10.0.0-rc0 as its tarball numbers itself.
var candidate = catalog.Release{Version: "9.2.90", GlibMin: "2.66.0", MesonMin: "1.5.0", MesonBundled: true, PythonMin: "3.8", NinjaRequired: true, PixmanMin: "0.21.8", Slirp: "system", Fdt: "system"}

var errNoNet = errors.New("no network in tests")

func offline(context.Context) error { return errNoNet }

// mirror writes a small stand-in tarball for each version into a mirror
// folder and records its sha256 in the releases, as the catalog would.
func mirror(t *testing.T, h *hosttest.Host, rs []catalog.Release, versions ...string) string {
	t.Helper()
	dir := filepath.Join(h.Root, "mirror")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, v := range versions {
		data := []byte("stand-in tarball of qemu " + v)
		if err := os.WriteFile(filepath.Join(dir, "qemu-"+v+".tar.xz"), data, 0o644); err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(data)
		for i := range rs {
			if rs[i].Version == v {
				rs[i].SHA256 = hex.EncodeToString(sum[:])
			}
		}
	}
	h.Env[config.EnvMirror] = dir
	return dir
}

var allLibs = map[string]string{"glib-2.0": "2.74.6", "gthread-2.0": "2.74.6", "pixman-1": "0.42.2", "zlib": "1.2.13", "slirp": "4.7.0"}

func run(t *testing.T, h *hosttest.Host, o pick.Options) (pick.Result, error) {
	t.Helper()
	cfg, err := config.FromEnv(h.Root, h.Getenv)
	if err != nil {
		t.Fatal(err)
	}
	o.Host = h.Options()
	if o.Reachable == nil {
		o.Reachable = offline
	}
	if o.Debian == nil {
		o.Debian = fakeArchive{} // never the real archive in tests
	}
	return pick.RunWith(context.Background(), cfg, o)
}

func verdict(t *testing.T, res pick.Result, v string) pick.Verdict {
	t.Helper()
	for _, x := range res.Releases {
		if x.Version == v {
			return x
		}
	}
	t.Fatalf("no verdict for %s", v)
	return pick.Verdict{}
}

func hasReason(v pick.Verdict, want string) bool {
	for _, r := range v.Reasons {
		if strings.Contains(r, want) {
			return true
		}
	}
	return false
}

func wantReason(t *testing.T, res pick.Result, version, want string) {
	t.Helper()
	v := verdict(t, res, version)
	if !hasReason(v, want) {
		t.Errorf("%s: reasons lack %q: %q", version, want, v.Reasons)
	}
}

// QEMUPACK_DEPS=host on a sysroot with Cygwin's old glib 2.54.3: every
// release that checks gthread-2.0 >= 2.56 is passed over with the reason,
// a host meson older than a release's minimum blocks it unless the release
// bundles one, and the pick is the newest release the sysroot can build.
func TestPickHostDepsOldGlib(t *testing.T) {
	h := hosttest.New(t)
	h.Toolchain("0.55.3", "3.11.2")
	h.Libs(map[string]string{"glib-2.0": "2.54.3", "gthread-2.0": "2.54.3", "pixman-1": "0.42.2", "zlib": "1.2.13"})
	h.Env[config.EnvDeps] = "host"
	rs := testCatalog(t)
	mirror(t, h, rs, "9.2.0", "8.0.0", "7.2.0", "6.1.0", "6.0.1", "6.0.0", "5.0.0")
	res, err := run(t, h, pick.Options{Releases: rs, Recipes: map[string]string{}})
	if err != nil {
		t.Fatal(err)
	}
	wantReason(t, res, "9.2.0", "glib-2.0 2.54.3 < 2.66.0 required (QEMUPACK_DEPS=host)")
	wantReason(t, res, "9.2.0", "slirp missing from the mingw sysroots (QEMUPACK_DEPS=host)")
	wantReason(t, res, "8.0.0", "meson 0.55.3 < 0.61.5 required and the release bundles none")
	wantReason(t, res, "7.2.0", "gthread-2.0 2.54.3 < 2.56 required")
	wantReason(t, res, "7.2.0", "uses its bundled meson (host meson 0.55.3 < 0.61.5)")
	wantReason(t, res, "6.1.0", "gthread-2.0 2.54.3 < 2.56 required")
	if v := verdict(t, res, "6.1.0"); v.Buildable || !v.Obtainable || v.Source != pick.SourceMirror {
		t.Errorf("6.1.0: %+v", v)
	}
	if res.Picked.Version != "6.0.1" || res.Source != pick.SourceMirror || !strings.HasSuffix(res.SourceFile, "qemu-6.0.1.tar.xz") {
		t.Errorf("picked %s from %s %s, want 6.0.1 from the mirror", res.Picked.Version, res.Source, res.SourceFile)
	}
	if len(res.Recipes) != 0 {
		t.Errorf("host mode must build no recipes, got %v", res.Recipes)
	}
	var table strings.Builder
	res.WriteTable(&table)
	for _, s := range []string{"6.1.0    no         mirror", "gthread-2.0 2.54.3 < 2.56 required", "source of 6.0.1: mirror file"} {
		if !strings.Contains(table.String(), s) {
			t.Errorf("table lacks %q:\n%s", s, table.String())
		}
	}
}

// A fake PYTHON of 3.6: releases that need a newer python say so.
func TestPickPythonTooOld(t *testing.T) {
	h := hosttest.New(t)
	h.Toolchain("1.0.1", "3.11.2")
	h.Libs(allLibs)
	h.Env[config.EnvPython] = h.Python("python3.6", "3.6.15", true)
	rs := testCatalog(t)
	mirror(t, h, rs, "9.2.0", "8.0.0", "7.2.0")
	res, err := run(t, h, pick.Options{Releases: rs, Recipes: map[string]string{}})
	if err != nil {
		t.Fatal(err)
	}
	wantReason(t, res, "9.2.0", "python 3.6 < 3.8 required")
	wantReason(t, res, "8.0.0", "python 3.6 < 3.7 required")
	if res.Picked.Version != "7.2.0" {
		t.Errorf("picked %s, want 7.2.0", res.Picked.Version)
	}
	if res.Host.BuildPython.Version != "3.6.15" {
		t.Errorf("build python %+v", res.Host.BuildPython)
	}
}

// Default auto mode with an empty sysroot and no recipes written yet: the
// libraries a recipe will cover are taken on trust, and the reasons say
// so; the release candidate is never picked although it is in the mirror.
func TestPickAutoAssumesRecipesNeverCandidates(t *testing.T) {
	h := hosttest.New(t)
	h.Toolchain("1.0.1", "3.11.2")
	h.PC(hosttest.Sysroot, "zlib", "1.2.13")
	rs := append(testCatalog(t), candidate)
	mirror(t, h, rs, "9.2.90", "9.2.0")
	res, err := run(t, h, pick.Options{Releases: rs}) // recipes read from the (empty) checkout
	if err != nil {
		t.Fatal(err)
	}
	cand := verdict(t, res, "9.2.90")
	if !cand.Candidate || !cand.Buildable || !cand.Obtainable || !hasReason(cand, "release candidate of 10.0.0") {
		t.Errorf("9.2.90: %+v", cand)
	}
	if res.Picked.Version != "9.2.0" {
		t.Fatalf("picked %s, want 9.2.0", res.Picked.Version)
	}
	wantReason(t, res, "9.2.0", "glib-2.0 2.66.0 from a recipe not written yet: assumed buildable (host has none)")
	wantReason(t, res, "9.2.0", "libfdt from a recipe not written yet: assumed buildable")
	if strings.Join(res.Recipes, " ") != "glib-2.0 pixman-1 slirp libfdt" {
		t.Errorf("recipes %v", res.Recipes)
	}
	for _, d := range res.Deps {
		if d.Module == "zlib" && (d.From != "host" || d.Version != "1.2.13") {
			t.Errorf("zlib must come from the host: %+v", d)
		}
	}
}

// Recipe versions count in recipes mode: a recipe too old for a release
// blocks it.
func TestPickRecipeVersions(t *testing.T) {
	h := hosttest.New(t)
	h.Toolchain("1.0.1", "3.11.2")
	h.Env[config.EnvDeps] = "recipes"
	rs := testCatalog(t)
	mirror(t, h, rs, "9.2.0", "8.0.0")
	recipes := map[string]string{"glib-2.0": "2.64.6", "gthread-2.0": "2.64.6", "pixman-1": "0.42.2", "zlib": "1.3.1", "slirp": "4.7.0", "libfdt": "1.7.0"}
	res, err := run(t, h, pick.Options{Releases: rs, Recipes: recipes})
	if err != nil {
		t.Fatal(err)
	}
	wantReason(t, res, "9.2.0", "glib-2.0: our recipe builds 2.64.6 < 2.66.0 required")
	if res.Picked.Version != "8.0.0" {
		t.Errorf("picked %s, want 8.0.0", res.Picked.Version)
	}
	for _, d := range res.Deps {
		if d.From != "recipe" || d.Assumed {
			t.Errorf("recipes mode: %+v", d)
		}
	}
}

func TestPickConstraints(t *testing.T) {
	for _, c := range []struct{ cons, want string }{
		{">= 6.0, < 7", "6.1.0"},
		{"~> 7.2", "7.2.0"},
		{"6.0.1", "6.0.1"},
		{"< 6", "5.0.0"},
	} {
		h := hosttest.New(t)
		h.Toolchain("1.0.1", "3.11.2")
		h.Libs(allLibs)
		h.Env[config.EnvVersion] = c.cons
		rs := testCatalog(t)
		mirror(t, h, rs, "9.2.0", "8.0.0", "7.2.0", "6.1.0", "6.0.1", "6.0.0", "5.0.0")
		res, err := run(t, h, pick.Options{Releases: rs, Recipes: map[string]string{}})
		if err != nil {
			t.Fatalf("%s: %v", c.cons, err)
		}
		if res.Picked.Version != c.want {
			t.Errorf("QEMU_VERSION=%q picked %s, want %s", c.cons, res.Picked.Version, c.want)
		}
		if !hasReason(verdict(t, res, "9.2.0"), "outside QEMU_VERSION") {
			t.Errorf("%s: 9.2.0 must be marked outside the constraint", c.cons)
		}
	}
}

func TestPickBadConstraint(t *testing.T) {
	t.Run("unsatisfiable", func(t *testing.T) {
		for _, cons := range []string{">= 20", ">= 9.2.90"} {
			h := hosttest.New(t)
			h.Env[config.EnvVersion] = cons
			_, err := run(t, h, pick.Options{Releases: append(testCatalog(t), candidate)})
			if err == nil {
				t.Fatalf("%s: want an error", cons)
			}
			msg := err.Error()
			for _, s := range []string{"QEMU_VERSION=", "matches no QEMU release", "9.2 (9.2.0)", "6.0 (6.0.0 6.0.1)", "5.0 (5.0.0)"} {
				if !strings.Contains(msg, s) {
					t.Errorf("%s: error lacks %q: %s", cons, s, msg)
				}
			}
			if strings.Contains(msg, "9.2.90") && cons != ">= 9.2.90" {
				t.Errorf("a release candidate must not be listed as a release: %s", msg)
			}
		}
	})
	t.Run("malformed", func(t *testing.T) {
		_, err := config.FromEnv(t.TempDir(), func(k string) string {
			if k == config.EnvVersion {
				return ">= six"
			}
			return ""
		})
		if err == nil || !strings.Contains(err.Error(), `QEMU_VERSION=">= six" is not a version constraint`) {
			t.Errorf("want a clear error, got %v", err)
		}
	})
}

// Bad host inputs come back through the pick as clear errors; a folder
// setting that names nothing is refused by the settings already.
func TestPickBadHostInputs(t *testing.T) {
	for name, setup := range map[string]func(h *hosttest.Host) string{
		"pc without version": func(h *hosttest.Host) string {
			return h.PC(hosttest.Sysroot, "glib-2.0", "") + ": no Version field"
		},
		"PYTHON not a python": func(h *hosttest.Host) string {
			h.Env[config.EnvPython] = h.Tool("ruby", "ruby 3.1.2p20")
			return "is not a python"
		},
	} {
		t.Run(name, func(t *testing.T) {
			h := hosttest.New(t)
			h.Toolchain("1.0.1", "3.11.2")
			want := setup(h)
			_, err := run(t, h, pick.Options{Releases: testCatalog(t), Recipes: map[string]string{}})
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Errorf("want an error containing %q, got %v", want, err)
			}
		})
	}
	for name, env := range map[string]string{"missing sysroot": config.EnvSysroot, "mirror folder missing": config.EnvMirror} {
		t.Run(name, func(t *testing.T) {
			h := hosttest.New(t)
			h.Env[env] = filepath.Join(h.Root, "gone")
			_, err := config.FromEnv(h.Root, h.Getenv)
			if want := env + "=\"" + filepath.Join(h.Root, "gone") + "\" does not exist"; err == nil || !strings.Contains(err.Error(), want) {
				t.Errorf("want an error containing %q, got %v", want, err)
			}
		})
	}
}

// fakeArchive stands in for the private apt tree: the versions its suites
// list (from the real excerpt of the tree's showsrc and madison output,
// or made up) and the versions whose files are not served.
type fakeArchive struct {
	versions []debian.SourcePkg
	missing  map[string]bool
}

func (a fakeArchive) SourceVersions(ctx context.Context, pkg string) ([]debian.SourcePkg, error) {
	return a.versions, nil
}

func (a fakeArchive) Served(ctx context.Context, sp debian.SourcePkg) error {
	if a.missing[sp.Version] {
		return &debian.MissingFileError{Package: sp.Package, Version: sp.Version,
			Files: []debian.MissingFile{{Name: "qemu_" + sp.Version[2:] + ".dsc", Status: "404  Not Found"}}}
	}
	return nil
}

func archiveOf(suiteVersions ...string) fakeArchive {
	var a fakeArchive
	for _, sv := range suiteVersions {
		suite, v, _ := strings.Cut(sv, " ")
		a.versions = append(a.versions, debian.SourcePkg{Package: "qemu", Version: v, Suite: suite, Suites: []string{suite},
			Files: []debian.File{{Name: "qemu_" + v[2:] + ".dsc", SHA256: strings.Repeat("a", 64)}}})
	}
	return a
}

// Offline on a Debian host: the only source is Debian's package; the pick
// says which Debian version and suite, that it is Debian's repack, and
// the release its patch series reaches (from the installed binary of the
// same source version).
func TestPickOfflineDebianSource(t *testing.T) {
	setup := func(installed string) *hosttest.Host {
		h := hosttest.New(t)
		h.Toolchain("1.0.1", "3.11.2")
		h.Libs(allLibs)
		h.Tool("qemu-system-x86_64", installed)
		return h
	}
	archive := archiveOf("bookworm 1:7.2+dfsg-7+deb12u18", "bookworm-security 1:7.2+dfsg-7+deb12u15")
	h := setup("QEMU emulator version 7.2.22 (Debian 1:7.2+dfsg-7+deb12u18+b3)")
	res, err := run(t, h, pick.Options{Releases: testCatalog(t), Recipes: map[string]string{}, Debian: archive})
	if err != nil {
		t.Fatal(err)
	}
	if res.Picked.Version != "7.2.0" || res.Source != pick.SourceDebian || res.DebianVersion != "1:7.2+dfsg-7+deb12u18" || res.TreeVersion != "7.2.22" || res.Debian.Suite != "bookworm" {
		t.Errorf("picked %s from %s (%s, tree %s)", res.Picked.Version, res.Source, res.DebianVersion, res.TreeVersion)
	}
	if !res.Offline || !strings.Contains(res.OfflineWhy, "no network in tests") {
		t.Errorf("offline %v %q", res.Offline, res.OfflineWhy)
	}
	wantReason(t, res, "9.2.0", "not obtainable: offline: no mirror folder (QEMUPACK_MIRROR unset), Debian's source packages give 7.2.0")
	if d := res.Debian.Describe(); !strings.Contains(d, "1:7.2+dfsg-7+deb12u18 (bookworm): QEMU 7.2.0 as Debian repacks it (parts of upstream's tarball removed), with Debian's patches, which bring it to 7.2.22") {
		t.Errorf("description: %s", d)
	}
	// Debian's dfsg repack drops the bundled dtc: libfdt must come from elsewhere.
	found := false
	for _, d := range res.Deps {
		found = found || d.Module == "libfdt"
	}
	if !found {
		t.Errorf("Debian's source needs libfdt from a recipe: deps %+v", res.Deps)
	}

	// With 7.2.22 in the catalog, that is what Debian's package gives.
	rs := append(testCatalog(t), catalog.Release{Version: "7.2.22", GlibMin: "2.56", GthreadChecked: true, MesonMin: "0.61.5", MesonBundled: true, PythonMin: "3.6", NinjaRequired: true, PixmanMin: "0.21.8", Slirp: "system", Fdt: "bundled"})
	res, err = run(t, h, pick.Options{Releases: rs, Recipes: map[string]string{}, Debian: archive})
	if err != nil || res.Picked.Version != "7.2.22" || res.Source != pick.SourceDebian {
		t.Errorf("with 7.2.22 catalogued: picked %s from %s, %v", res.Picked.Version, res.Source, err)
	}

	// An installed binary from another source version says nothing about
	// this one's patch level.
	h = setup("QEMU emulator version 7.2.15 (Debian 1:7.2+dfsg-7+deb12u12)")
	res, err = run(t, h, pick.Options{Releases: rs, Recipes: map[string]string{}, Debian: archive})
	if err != nil || res.Picked.Version != "7.2.0" || res.Debian.Level != "" {
		t.Errorf("unknown level: picked %s (level %q), %v", res.Picked.Version, res.Debian.Level, err)
	}
}

// The suites of the archive as read on a bookworm host this December:
// sid lists 11.1.3 and 11.1.2 (also in forky) but the archive does not
// serve their files, so pick passes over them with that reason and takes
// sid's 10.2.2; an interpreter too old for 10.x falls back to bookworm's
// 7.2, and QEMU_VERSION='~> 10.0' gives trixie's 10.0.13.
func TestPickDebianSuitesPassesOverUnservedVersions(t *testing.T) {
	archive := archiveOf("sid 1:11.1.3+ds-1", "forky 1:11.1.2+ds-3", "sid 1:10.2.2+ds-1", "trixie 1:10.0.13+ds-0+deb13u1",
		"trixie-security 1:10.0.2+ds-2+deb13u1", "bookworm 1:7.2+dfsg-7+deb12u18", "bookworm-security 1:7.2+dfsg-7+deb12u15")
	archive.missing = map[string]bool{"1:11.1.3+ds-1": true, "1:11.1.2+ds-3": true, "1:10.0.2+ds-2+deb13u1": true}
	rel := func(v string) catalog.Release {
		return catalog.Release{Version: v, GlibMin: "2.66.0", MesonMin: "1.5.0", MesonBundled: true, PythonMin: "3.9", NinjaRequired: true, PixmanMin: "0.21.8", Slirp: "system", Fdt: "system"}
	}
	rs := append(testCatalog(t), rel("11.1.3"), rel("11.1.2"), rel("10.2.2"), rel("10.0.13"), rel("10.0.2"))
	for _, c := range []struct{ python, constraint, want, debVer, suite string }{
		{"3.11.2", "", "10.2.2", "1:10.2.2+ds-1", "sid"},
		{"3.8.10", "", "7.2.0", "1:7.2+dfsg-7+deb12u18", "bookworm"},
		{"3.11.2", "~> 10.0.0", "10.0.13", "1:10.0.13+ds-0+deb13u1", "trixie"},
	} {
		h := hosttest.New(t)
		h.Toolchain("1.0.1", c.python)
		h.Libs(allLibs)
		if c.constraint != "" {
			h.Env[config.EnvVersion] = c.constraint
		}
		res, err := run(t, h, pick.Options{Releases: rs, Recipes: map[string]string{}, Debian: archive})
		if err != nil {
			t.Fatalf("python %s: %v", c.python, err)
		}
		if res.Picked.Version != c.want || res.Source != pick.SourceDebian || res.DebianVersion != c.debVer || res.Debian.Suite != c.suite {
			t.Errorf("python %s %s: picked %s from %s %s, want %s from Debian %s (%s)", c.python, c.constraint, res.Picked.Version, res.Source, res.DebianVersion, c.want, c.debVer, c.suite)
		}
		if len(res.DebianSources) != 7 {
			t.Errorf("every listed version is a candidate: %d", len(res.DebianSources))
		}
		if c.constraint != "" {
			continue
		}
		wantReason(t, res, "11.1.3", "Debian's qemu 1:11.1.3+ds-1 (sid) passed over: qemu 1:11.1.3+ds-1 is listed, but the archive does not serve qemu_11.1.3+ds-1.dsc (404 Not Found)")
		wantReason(t, res, "11.1.2", "Debian's qemu 1:11.1.2+ds-3 (forky) passed over")
		if v := verdict(t, res, "11.1.3"); v.Obtainable {
			t.Errorf("11.1.3 is obtainable: %+v", v)
		}
		var table strings.Builder
		res.WriteTable(&table)
		for _, want := range []string{
			"Debian source package qemu 1:11.1.3+ds-1 (sid): passed over: qemu 1:11.1.3+ds-1 is listed, but the archive does not serve",
			"\nDebian's source package qemu 1:10.2.2+ds-1 (sid): QEMU 10.2.2 as Debian repacks it",
			"debian sid",
		} {
			if !strings.Contains(table.String(), want) {
				t.Errorf("table lacks %q:\n%s", want, table.String())
			}
		}
		j, err := res.JSON()
		if err != nil || !strings.Contains(string(j), `"problem": "qemu 1:11.1.3+ds-1 is listed, but the archive does not serve`) || !strings.Contains(string(j), `"suite": "sid"`) {
			t.Errorf("JSON lacks the suites and problems: %v\n%s", err, j)
		}
	}
}

// Online, a release is obtainable upstream only when the catalog pins its
// sha256; QEMUPACK_OFFLINE=1 skips the reachability probe altogether.
func TestPickOnlineAndOfflineSwitch(t *testing.T) {
	h := hosttest.New(t)
	h.Toolchain("1.0.1", "3.11.2")
	h.Libs(allLibs)
	rs := testCatalog(t)
	if rs[0].Version != "9.2.0" {
		t.Fatalf("test catalog starts with %s", rs[0].Version)
	}
	rs[0].SHA256 = strings.Repeat("ab", 32)
	online := func(context.Context) error { return nil }
	res, err := run(t, h, pick.Options{Releases: rs, Recipes: map[string]string{}, Reachable: online})
	if err != nil {
		t.Fatal(err)
	}
	if res.Offline || res.Picked.Version != "9.2.0" || res.Source != pick.SourceUpstream || res.URL != "https://download.qemu.org/qemu-9.2.0.tar.xz" || res.SHA256 != rs[0].SHA256 {
		t.Errorf("online: offline=%v picked %s from %s %s %s", res.Offline, res.Picked.Version, res.Source, res.URL, res.SHA256)
	}
	wantReason(t, res, "8.0.0", "the catalog has no sha256 for its upstream tarball")

	h.Env[config.EnvOffline] = "1"
	probed := false
	_, err = run(t, h, pick.Options{Releases: rs, Recipes: map[string]string{}, Reachable: func(context.Context) error { probed = true; return nil }})
	var nf *pick.NothingFits
	if !errors.As(err, &nf) || probed {
		t.Errorf("QEMUPACK_OFFLINE=1 with nothing local: want NothingFits without a network probe, got %v (probed %v)", err, probed)
	}
	if nf != nil && !strings.Contains(nf.Reason, "newest buildable: 9.2.0, but not obtainable: offline: no mirror folder") {
		t.Errorf("reason: %s", nf.Reason)
	}
}

func TestMirrorChecksumMismatch(t *testing.T) {
	h := hosttest.New(t)
	h.Toolchain("1.0.1", "3.11.2")
	h.Libs(allLibs)
	rs := testCatalog(t)
	dir := mirror(t, h, rs, "9.2.0", "8.0.0")
	if err := os.WriteFile(filepath.Join(dir, "qemu-9.2.0.tar.xz"), []byte("tampered"), 0o644); err != nil {
		t.Fatal(err)
	}
	res, err := run(t, h, pick.Options{Releases: rs, Recipes: map[string]string{}})
	if err != nil {
		t.Fatal(err)
	}
	wantReason(t, res, "9.2.0", "qemu-9.2.0.tar.xz has sha256 "+sha("tampered")+", the catalog says")
	if res.Picked.Version != "8.0.0" {
		t.Errorf("picked %s, want 8.0.0", res.Picked.Version)
	}
}

func sha(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

// Missing tools block every release, with the install command.
func TestPickMissingCompiler(t *testing.T) {
	h := hosttest.New(t)
	h.Toolchain("1.0.1", "3.11.2")
	h.Libs(allLibs)
	os.Remove(filepath.Join(h.Bin, "x86_64-w64-mingw32-gcc"))
	rs := testCatalog(t)
	mirror(t, h, rs, "9.2.0")
	_, err := run(t, h, pick.Options{Releases: rs, Recipes: map[string]string{}})
	var nf *pick.NothingFits
	if !errors.As(err, &nf) || !strings.Contains(nf.Reason, "x86_64-w64-mingw32-gcc missing (apt-get install -y gcc-mingw-w64-x86-64)") {
		t.Errorf("want the missing compiler with its install command, got %v", err)
	}
}

// The JSON form has the documented shape, also when nothing fits.
func TestPickJSON(t *testing.T) {
	h := hosttest.New(t)
	h.Toolchain("1.0.1", "3.11.2")
	h.Libs(allLibs)
	rs := testCatalog(t)
	mirror(t, h, rs, "7.2.0")
	res, err := run(t, h, pick.Options{Releases: rs, Recipes: map[string]string{}})
	if err != nil {
		t.Fatal(err)
	}
	data, err := res.JSON()
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Picked   string `json:"picked"`
		Source   string `json:"source"`
		Releases []struct {
			Version    *string   `json:"version"`
			Buildable  *bool     `json:"buildable"`
			Obtainable *bool     `json:"obtainable"`
			Reasons    *[]string `json:"reasons"`
		} `json:"releases"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatalf("%v\n%s", err, data)
	}
	if doc.Picked != "7.2.0" || doc.Source != "mirror" || len(doc.Releases) != len(rs) {
		t.Errorf("picked %q source %q, %d releases", doc.Picked, doc.Source, len(doc.Releases))
	}
	for i, r := range doc.Releases {
		if r.Version == nil || r.Buildable == nil || r.Obtainable == nil || r.Reasons == nil {
			t.Errorf("release %d lacks a field: %s", i, data)
		}
	}
	if *doc.Releases[0].Version != "9.2.0" || *doc.Releases[0].Buildable != true || *doc.Releases[0].Obtainable != false {
		t.Errorf("first release %+v", doc.Releases[0])
	}

	// Nothing fits: "picked" is "" and "error" says why.
	h.Env[config.EnvMirror] = ""
	res, err = run(t, h, pick.Options{Releases: rs, Recipes: map[string]string{}})
	if err == nil {
		t.Fatal("want NothingFits")
	}
	data, _ = res.JSON()
	var bad map[string]any
	if err := json.Unmarshal(data, &bad); err != nil {
		t.Fatal(err)
	}
	if bad["picked"] != "" || !strings.Contains(bad["error"].(string), "can be both built here and obtained") {
		t.Errorf("nothing fits: %s", data)
	}

	// The check's JSON wraps the host report and the pick.
	cj, err := pick.CheckJSON(res.Host, res)
	if err != nil {
		t.Fatal(err)
	}
	var chk struct {
		Host map[string]any `json:"host"`
		Pick map[string]any `json:"pick"`
	}
	if err := json.Unmarshal(cj, &chk); err != nil || chk.Host["family"] != "debian" || chk.Pick["releases"] == nil {
		t.Errorf("check JSON: %v %s", err, cj)
	}
}

// The check report lists every missing tool and library at once with the
// one command that installs them, and the libraries against the release.
func TestWriteCheck(t *testing.T) {
	h := hosttest.New(t)
	h.Toolchain("1.0.1", "3.11.2")
	os.Remove(filepath.Join(h.Bin, "bison"))
	os.Remove(filepath.Join(h.Bin, "flex"))
	h.Libs(map[string]string{"glib-2.0": "2.54.3", "gthread-2.0": "2.54.3"})
	rs := testCatalog(t)
	mirror(t, h, rs, "9.2.0")
	res, err := run(t, h, pick.Options{Releases: rs, Recipes: map[string]string{}})
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	pick.WriteCheck(&b, res.Host, res, nil)
	out := b.String()
	for _, s := range []string{
		"libraries in the sysroots, against what qemu 9.2.0 needs (QEMUPACK_DEPS=auto)",
		"glib-2.0     2.54.3  >= 2.66.0 needed: built from a recipe (not written yet: assumed)",
		"zlib         none    any version needed: built from a recipe (not written yet: assumed); install: apt-get install -y libz-mingw-w64-dev",
		"missing: 3 item(s); to install them all at once:\n  sudo apt-get install -y bison flex libz-mingw-w64-dev",
		"pick: qemu 9.2.0, source: mirror file",
	} {
		if !strings.Contains(out, s) {
			t.Errorf("check report lacks %q:\n%s", s, out)
		}
	}
}

// HostMin hands deps the minimums pick judged the host's libraries by.
func TestResultHostMin(t *testing.T) {
	res := pick.Result{Deps: []pick.Dep{{Module: "glib-2.0", Min: "2.56", From: "recipe"}, {Module: "zlib", From: "host"}}}
	got := res.HostMin()
	if len(got) != 2 || got["glib-2.0"] != "2.56" || got["zlib"] != "" {
		t.Errorf("HostMin = %v", got)
	}
	if _, ok := got["zlib"]; !ok {
		t.Error("zlib (any version) is missing from HostMin")
	}
	if (pick.Result{}).HostMin() != nil {
		t.Error("nothing picked, yet HostMin names libraries")
	}
}
