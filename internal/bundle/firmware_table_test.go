package bundle

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"qemupack/internal/config"
	"qemupack/internal/debian"
	"qemupack/internal/xbuild"
)

// softmmuTargets reads a real configs/targets listing (ls of the QEMU
// tree's folder, kept in testdata) and returns its system emulators.
func softmmuTargets(t *testing.T, file string) []string {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, n := range strings.Fields(string(b)) {
		if strings.HasSuffix(n, "-softmmu.mak") {
			out = append(out, strings.TrimSuffix(n, ".mak"))
		}
	}
	if len(out) < 20 {
		t.Fatalf("%s lists only %d system emulators", file, len(out))
	}
	return out
}

// The table knows every system emulator of QEMU 10.2.2, 10.0.13 and 7.2
// (their trees' configs/targets, as listed in testdata): QEMU_TARGETS=all
// passes CheckTargets for each. A release that adds a target fails here
// once its listing is added, not in a build.
func TestFirmwareTableCoversEveryTarget(t *testing.T) {
	for _, f := range []string{
		"../../testdata/bundle/qemu-10.2.2-configs-targets.txt",
		"../../testdata/bundle/qemu-10.0.13-configs-targets.txt",
		"../../testdata/xbuild/qemu-7.2-configs-targets.txt",
	} {
		all := softmmuTargets(t, f)
		if err := CheckTargets(all); err != nil {
			t.Errorf("%s: %v", filepath.Base(f), err)
		}
		if _, err := FirmwarePackagesFor(all); err != nil {
			t.Errorf("%s: %v", filepath.Base(f), err)
		}
	}
}

// unpackSuite unpacks every .deb of one suite's folder (testprep's
// firmware-debs/<suite>) the way the pipeline does and describes each
// package's firmware folders, by package name.
func unpackSuite(t *testing.T, dir, suite string) map[string][]Firmware {
	t.Helper()
	debs, _ := filepath.Glob(filepath.Join(dir, "*_all.deb"))
	out := map[string][]Firmware{}
	for _, deb := range debs {
		pkg, rest, _ := strings.Cut(filepath.Base(deb), "_")
		version, _, _ := strings.Cut(rest, "_")
		version = strings.ReplaceAll(version, "%3a", ":")
		root := filepath.Join(t.TempDir(), "root")
		if err := debian.ExtractDeb(deb, root); err != nil {
			t.Fatalf("%s: %v", deb, err)
		}
		fw, err := FirmwareFromDeb(root, pkg, version, suite, filepath.Base(deb))
		if err != nil {
			t.Fatal(err)
		}
		out[pkg] = fw
	}
	return out
}

// Every file of the table is in the real Debian packages the table names
// for its target, searched the way the bundle searches them: a required
// file in every release's packages (bookworm, trixie, forky, sid as the
// test inputs hold them), an optional one in at least one of them, an
// unshipped one in none (were it shipped, the table should say where).
// The packages are downloaded by the test preparation (mage test:
// internal/testprep.FirmwareDebs), not here.
func TestFirmwareTableInDebianPackages(t *testing.T) {
	mirror := os.Getenv(config.EnvTestMirror)
	base := filepath.Join(mirror, "firmware-debs")
	ents, _ := os.ReadDir(base)
	var suites []os.DirEntry
	for _, e := range ents {
		if e.IsDir() {
			suites = append(suites, e)
		}
	}
	// Releases the preparation could not get packages from (apt refused
	// their index) are named in unavailable.txt (testprep.FirmwareUnavailable).
	var unavailable []string
	if b, err := os.ReadFile(filepath.Join(base, "unavailable.txt")); err == nil {
		for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
			rel, why, _ := strings.Cut(l, "\t")
			if _, err := os.Stat(filepath.Join(base, rel)); err == nil {
				continue // an earlier preparation got it: checked below
			}
			unavailable = append(unavailable, rel)
			t.Logf("Debian %s: no packages to check against (%s)", rel, why)
		}
	}
	if mirror == "" || len(suites) == 0 {
		t.Skipf("no firmware packages in %s/firmware-debs: run `go run mage.go test` (its preparation downloads them) or set %s", mirror, config.EnvTestMirror)
	}
	found := map[string][]string{} // file -> suites that have it for its target
	var names []string
	for _, s := range suites {
		suite := s.Name()
		names = append(names, suite)
		pkgs := unpackSuite(t, filepath.Join(base, suite), suite)
		for _, tgt := range FirmwareTargets() {
			e := firmwareTable[tgt]
			var fws []Firmware
			for _, p := range e.Packages {
				if len(pkgs[p]) == 0 {
					t.Fatalf("%s: the test inputs lack package %s", suite, p)
				}
				fws = append(fws, pkgs[p]...)
			}
			for _, f := range e.Files {
				if f.Built {
					continue // the stage's (TestBuiltFirmwareIsWhatTheBuildMakes)
				}
				p, from, err := findFirmware(fws, f.Name)
				if err != nil {
					t.Errorf("%s %s %s: %v", suite, tgt, f.Name, err)
					continue
				}
				key := tgt + " " + f.Name
				if p == "" {
					if f.Optional == "" {
						t.Errorf("Debian %s: %s needs %s, which none of %s has", suite, tgt, f.Name, strings.Join(e.Packages, ", "))
					}
					continue
				}
				if st, err := os.Stat(p); err != nil || st.IsDir() || st.Size() == 0 {
					t.Errorf("Debian %s: %s's %s at %s is not a file with content (%v)", suite, tgt, f.Name, p, err)
				}
				found[key] = append(found[key], suite+":"+from.Package)
			}
		}
	}
	for _, tgt := range FirmwareTargets() {
		for _, f := range firmwareTable[tgt].Files {
			key := tgt + " " + f.Name
			switch {
			case f.Built:
			case f.Unshipped && len(found[key]) > 0:
				t.Errorf("%s: %s is marked unshipped but %v have it", tgt, f.Name, found[key])
			case f.Optional != "" && !f.Unshipped && len(found[key]) == 0 && len(unavailable) > 0:
				// Optional files may come only with newer releases.
				t.Logf("%s: optional %s is in none of %v; not checked against %v, which the preparation could not get", tgt, f.Name, names, unavailable)
			case f.Optional != "" && !f.Unshipped && len(found[key]) == 0:
				t.Errorf("%s: optional %s is in none of %v", tgt, f.Name, names)
			case f.Optional != "" && len(found[key]) < len(names):
				t.Logf("%s: optional %s only in %v", tgt, f.Name, found[key])
			}
		}
	}
	sort.Strings(names)
	t.Logf("checked %d targets against the packages of %s", len(firmwareTable), strings.Join(names, ", "))
}

// The files the table expects from the build are exactly the option ROMs
// xbuild makes from the tree.
func TestBuiltFirmwareIsWhatTheBuildMakes(t *testing.T) {
	var built []string
	for _, f := range firmwareTable["x86_64-softmmu"].Files {
		if f.Built {
			built = append(built, f.Name)
		}
	}
	for tgt, e := range firmwareTable {
		for _, f := range e.Files {
			if f.Built && tgt != "x86_64-softmmu" && tgt != "i386-softmmu" {
				t.Errorf("%s: %s is marked built, but the build makes option ROMs only for x86", tgt, f.Name)
			}
		}
	}
	want := append([]string(nil), xbuild.OptionROMs...)
	sort.Strings(built)
	sort.Strings(want)
	if strings.Join(built, " ") != strings.Join(want, " ") {
		t.Errorf("built %v, xbuild makes %v", built, want)
	}
}
