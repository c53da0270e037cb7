package sbom

import (
	"archive/zip"
	"bytes"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	spdxjson "github.com/spdx/tools-golang/json"
	"github.com/spdx/tools-golang/spdxlib"

	"qemupack/internal/deps"
	"qemupack/internal/testbin"
)

// Host DLLs a QEMU bundle copies from Debian's mingw packages.
var hostDLLs = []string{
	"/usr/x86_64-w64-mingw32/lib/zlib1.dll",
	"/usr/x86_64-w64-mingw32/lib/libwinpthread-1.dll",
	"/usr/lib/gcc/x86_64-w64-mingw32/12-win32/libgcc_s_seh-1.dll",
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	data, err := os.ReadFile(from)
	if err != nil {
		t.Fatalf("%v (is the mingw toolchain installed? apt-get install gcc-mingw-w64-x86-64 libz-mingw-w64-dev)", err)
	}
	if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// fixture stages a bundle like the real one: hello.exe from a "QEMU
// install" folder, greet.dll from a "deps prefix", a keymap data file, and
// three DLLs copied from the host's Debian packages.
type fixture struct {
	stage, qemuDir, prefix string
	attr                   Attributor
}

func newFixture(t *testing.T) fixture {
	t.Helper()
	dir := t.TempDir()
	f := fixture{stage: filepath.Join(dir, "stage"), qemuDir: filepath.Join(dir, "qemu-install"), prefix: filepath.Join(dir, "deps", "0123abcd")}
	prog := testbin.Build(t, filepath.Join(dir, "build"))
	copyFile(t, prog.Exe, filepath.Join(f.qemuDir, "hello.exe"))
	copyFile(t, prog.DLL, filepath.Join(f.prefix, "bin", "greet.dll"))
	if err := os.MkdirAll(filepath.Join(f.qemuDir, "share", "keymaps"), 0o755); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(f.qemuDir, "share", "keymaps", "en-us"), []byte("include common\n"), 0o644)
	copyFile(t, filepath.Join(f.qemuDir, "hello.exe"), filepath.Join(f.stage, "hello.exe"))
	copyFile(t, filepath.Join(f.qemuDir, "share", "keymaps", "en-us"), filepath.Join(f.stage, "share", "keymaps", "en-us"))
	copyFile(t, filepath.Join(f.prefix, "bin", "greet.dll"), filepath.Join(f.stage, "greet.dll"))
	for _, d := range hostDLLs {
		copyFile(t, d, filepath.Join(f.stage, filepath.Base(d)))
	}
	patches := filepath.Join(dir, "patches", "qemu", "1.0.0")
	os.MkdirAll(patches, 0o755)
	os.WriteFile(filepath.Join(patches, "0002-second.patch"), []byte("--- a\n+++ b\n"), 0o644)
	os.WriteFile(filepath.Join(patches, "0001-first.patch"), []byte("--- a\n+++ b\n@@\n"), 0o644)
	os.WriteFile(filepath.Join(patches, "README"), []byte("not a patch"), 0o644)
	ps, err := PatchesIn(patches, "patches/qemu/1.0.0")
	if err != nil || len(ps) != 2 || !strings.HasSuffix(ps[0].Name, "0001-first.patch") {
		t.Fatalf("patches: %v, %v", ps, err)
	}
	f.attr = Attributor{
		Owners: []Owner{
			{Component: Component{Name: "qemu", Version: "1.0.0", License: "GPL-2.0-only",
				SourceURL: "https://download.qemu.org/qemu-1.0.0.tar.xz", SourceSHA256: strings.Repeat("ab", 32), Patches: ps},
				Dirs: []string{f.qemuDir}},
			{Component: Component{Name: "greet", Version: "0.1", License: "MIT",
				SourceURL: "https://example.org/greet-0.1.tar.gz", SourceSHA256: strings.Repeat("cd", 32)},
				Dirs: []string{f.prefix}},
		},
		SearchDirs: []string{"/usr/x86_64-w64-mingw32/lib", "/usr/lib/gcc/x86_64-w64-mingw32/12-win32"},
		Host:       (&Debian{}).Owner,
	}
	return f
}

func requireDpkg(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("dpkg-query"); err != nil {
		t.Fatal("dpkg-query not found: these tests trace host DLLs to Debian packages (run on Debian/Ubuntu; apt-get install dpkg)")
	}
}

func TestAttributeTracesEveryFile(t *testing.T) {
	requireDpkg(t)
	f := newFixture(t)
	comps, files, err := f.attr.Attribute(f.stage, nil)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, fl := range files {
		got[fl.Path] = fl.Component
	}
	want := map[string]string{
		"hello.exe":           "qemu",
		"share/keymaps/en-us": "qemu",
		"greet.dll":           "greet",
		"zlib1.dll":           "libz-mingw-w64",
		"libwinpthread-1.dll": "mingw-w64-x86-64-dev",
		"libgcc_s_seh-1.dll":  "gcc-mingw-w64-x86-64-win32-runtime",
	}
	for p, c := range want {
		if got[p] != c {
			t.Errorf("%s: component %q, want %q", p, got[p], c)
		}
	}
	if len(files) != len(want) {
		t.Errorf("files: %v", got)
	}
	byName := map[string]Component{}
	for _, c := range comps {
		byName[c.Name] = c
	}
	z := byName["libz-mingw-w64"]
	ver, _ := exec.Command("dpkg-query", "-W", "-f", "${Version}", "libz-mingw-w64").Output()
	if z.Version != string(ver) || z.License != "Zlib" || !strings.Contains(z.PURL, "pkg:deb/") {
		t.Errorf("zlib component: %+v (want version %s, licence Zlib)", z, ver)
	}
	t.Logf("zlib: %+v", z)
	// With deb-src enabled (setup-debian.sh does it) the source is the .dsc.
	if z.SourceURL != "" && (!strings.HasSuffix(z.SourceURL, ".dsc") || len(z.SourceSHA256) != 64) {
		t.Errorf("zlib source: %q %q", z.SourceURL, z.SourceSHA256)
	}
	if byName["gcc-mingw-w64-x86-64-win32-runtime"].License != "GPL-3.0-or-later WITH GCC-exception-3.1" {
		t.Errorf("gcc runtime licence: %+v", byName["gcc-mingw-w64-x86-64-win32-runtime"])
	}
}

func TestAttributeRefusesUntracedFiles(t *testing.T) {
	requireDpkg(t)
	f := newFixture(t)
	// A DLL nobody can account for: made here, in no owner's folder.
	os.WriteFile(filepath.Join(f.stage, "mystery.dll"), []byte("MZ?"), 0o644)
	// A DLL copied from a folder no component owns and dpkg does not know.
	stray := filepath.Join(t.TempDir(), "lib")
	copyFile(t, filepath.Join(f.prefix, "bin", "greet.dll"), filepath.Join(stray, "stray.dll"))
	copyFile(t, filepath.Join(stray, "stray.dll"), filepath.Join(f.stage, "stray.dll"))
	_, _, err := f.attr.Attribute(f.stage, map[string]string{"stray.dll": filepath.Join(stray, "stray.dll")})
	if err == nil || !strings.Contains(err.Error(), "mystery.dll") || !strings.Contains(err.Error(), "stray.dll") {
		t.Fatalf("want an error naming mystery.dll and stray.dll, got %v", err)
	}
}

// bundleZip writes the staging folder and its SBOM to a zip under a top
// folder, the way the bundle step does.
func bundleZip(t *testing.T, stage, sbomPath, out string, extra map[string][]byte) {
	t.Helper()
	var names []string
	filepath.WalkDir(stage, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			rel, _ := filepath.Rel(stage, p)
			names = append(names, filepath.ToSlash(rel))
		}
		return nil
	})
	sort.Strings(names)
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	add := func(name string, r io.Reader) {
		w, err := zw.Create("qemu-1.0.0/" + name)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(w, r)
	}
	for _, n := range names {
		fh, _ := os.Open(filepath.Join(stage, filepath.FromSlash(n)))
		add(n, fh)
		fh.Close()
	}
	sb, _ := os.Open(sbomPath)
	add(FileName, sb)
	sb.Close()
	for n, b := range extra {
		add(n, bytes.NewReader(b))
	}
	zw.Close()
	if err := os.WriteFile(out, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestSPDXDocumentAndArchiveCheck(t *testing.T) {
	requireDpkg(t)
	f := newFixture(t)
	comps, files, err := f.attr.Attribute(f.stage, nil)
	if err != nil {
		t.Fatal(err)
	}
	doc := Doc{Name: "qemu-1.0.0-win64", Version: "1.0.0", Created: time.Unix(1700000000, 0), Components: comps, Files: files}
	out := filepath.Join(t.TempDir(), "dist", "qemu-1.0.0-win64."+FileName)
	if err := doc.WriteFile(out); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(out)
	again, _ := doc.SPDX()
	if !bytes.Equal(data, again) {
		t.Error("the same document gave different bytes")
	}
	// The reference SPDX library reads it as SPDX 2.3 and finds every
	// relationship's elements.
	sd, err := spdxjson.Read(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("tools-golang cannot read our SPDX: %v", err)
	}
	if err := spdxlib.ValidateDocument(sd); err != nil {
		t.Fatalf("tools-golang validation: %v", err)
	}
	if sd.SPDXVersion != "SPDX-2.3" || len(sd.Files) != len(files)+2 {
		t.Errorf("version %s, %d files (want %d shipped + 2 patches)", sd.SPDXVersion, len(sd.Files), len(files))
	}
	p, err := Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	q := p.Components["qemu"]
	if q.Version != "1.0.0" || q.License != "GPL-2.0-only" || q.SourceSHA256 != strings.Repeat("ab", 32) ||
		!strings.Contains(q.SourceInfo, "0001-first.patch, patches/qemu/1.0.0/0002-second.patch") {
		t.Errorf("qemu component read back: %+v", q)
	}

	dir := t.TempDir()
	good := filepath.Join(dir, "good.zip")
	bundleZip(t, f.stage, out, good, nil)
	if err := CheckArchive(good); err != nil {
		t.Fatalf("a complete archive failed the check: %v", err)
	}
	// A DLL the SBOM does not list.
	extra := filepath.Join(dir, "extra.zip")
	bundleZip(t, f.stage, out, extra, map[string][]byte{"libextra-1.dll": []byte("MZ")})
	if err := CheckArchive(extra); err == nil || !strings.Contains(err.Error(), "libextra-1.dll: not in the SBOM") {
		t.Errorf("unlisted DLL: got %v", err)
	}
	// A DLL whose content changed after the SBOM was written.
	os.WriteFile(filepath.Join(f.stage, "zlib1.dll"), []byte("MZ changed"), 0o644)
	changed := filepath.Join(dir, "changed.zip")
	bundleZip(t, f.stage, out, changed, nil)
	if err := CheckArchive(changed); err == nil || !strings.Contains(err.Error(), "zlib1.dll: SHA-256") {
		t.Errorf("changed DLL: got %v", err)
	}
	// A file listed in the SBOM but missing from the archive.
	os.Remove(filepath.Join(f.stage, "greet.dll"))
	missing := filepath.Join(dir, "missing.zip")
	bundleZip(t, f.stage, out, missing, nil)
	if err := CheckArchive(missing); err == nil || !strings.Contains(err.Error(), "greet.dll: in the SBOM but not in the archive") {
		t.Errorf("missing DLL: got %v", err)
	}
}

func TestValidateRejectsIncompleteDocs(t *testing.T) {
	good := Doc{Name: "b", Version: "1", Components: []Component{{Name: "c", Version: "1"}},
		Files: []File{{Path: "a.dll", SHA1: strings.Repeat("0", 40), SHA256: strings.Repeat("0", 64), Component: "c"}}}
	if err := good.Validate(); err != nil {
		t.Fatal(err)
	}
	bad := good
	bad.Files = []File{{Path: "a.dll", SHA1: strings.Repeat("0", 40), SHA256: strings.Repeat("0", 64), Component: "nobody"}}
	if err := bad.Validate(); err == nil {
		t.Error("a file of an unknown component was accepted")
	}
	bad = good
	bad.Components = []Component{{Name: "c"}}
	if err := bad.Validate(); err == nil {
		t.Error("a component without a version was accepted")
	}
}

// TestAttributeThroughMergedPrefix: the deps step links every library's
// files into one merged prefix; a DLL the bundle took from there belongs
// to the library whose prefix holds the same file.
func TestAttributeThroughMergedPrefix(t *testing.T) {
	requireDpkg(t)
	f := newFixture(t)
	stack := filepath.Join(filepath.Dir(f.prefix), "stack-1234", "bin")
	os.MkdirAll(stack, 0o755)
	if err := os.Link(filepath.Join(f.prefix, "bin", "greet.dll"), filepath.Join(stack, "greet.dll")); err != nil {
		t.Fatal(err)
	}
	_, files, err := f.attr.Attribute(f.stage, map[string]string{"greet.dll": filepath.Join(stack, "greet.dll")})
	if err != nil {
		t.Fatal(err)
	}
	for _, fl := range files {
		if fl.Path == "greet.dll" && fl.Component != "greet" {
			t.Errorf("greet.dll from the merged prefix: component %q", fl.Component)
		}
	}
}

// depsManifest is the deps step's manifest file, written here by hand.
const depsManifest = deps.ManifestName

func TestLicenceFolderAndDepsOwners(t *testing.T) {
	requireDpkg(t)
	f := newFixture(t)
	// A licence text the bundle extracted somewhere no owner knows.
	lic := filepath.Join(f.stage, "LICENSES", "greet", "COPYING")
	os.MkdirAll(filepath.Dir(lic), 0o755)
	os.WriteFile(lic, []byte("MIT"), 0o644)
	f.attr.LicenseDir = "LICENSES"
	_, files, err := f.attr.Attribute(f.stage, map[string]string{"LICENSES/greet/COPYING": "/nowhere/COPYING"})
	if err != nil {
		t.Fatal(err)
	}
	for _, fl := range files {
		if fl.Path == "LICENSES/greet/COPYING" && fl.Component != "greet" {
			t.Errorf("licence text given to %q", fl.Component)
		}
	}
	f.attr.LicenseDir = ""
	if _, _, err := f.attr.Attribute(f.stage, map[string]string{"LICENSES/greet/COPYING": "/nowhere/COPYING"}); err == nil {
		t.Error("without LicenseDir an untraceable licence file was accepted")
	}

	// A deps prefix whose recipe the checkout lacks.
	deps := t.TempDir()
	os.MkdirAll(filepath.Join(deps, "glib-2.74.6-x"), 0o755)
	prefix := filepath.Join(deps, "glib-2.74.6-x")
	os.WriteFile(filepath.Join(prefix, depsManifest), []byte(`{"name":"glib","version":"2.74.6","sha256":"`+strings.Repeat("a", 64)+`"}`), 0o644)
	if _, err := DepsOwners([]string{prefix}, t.TempDir(), t.TempDir()); err == nil || !strings.Contains(err.Error(), `"glib"`) {
		t.Errorf("missing recipe: %v", err)
	}
	// With its recipe: the component names the prefix, not the folder the
	// cache is in (the bill must not depend on the build machine).
	recipes := t.TempDir()
	os.WriteFile(filepath.Join(recipes, "glib.json"), []byte(`{"name":"glib","version":"2.74.6","license":"LGPL-2.1-or-later","build":"meson","provides":{"glib-2.0":"2.74.6"},"link_test":"int main(void){return 0;}",
		"sources":[{"url":"https://example.org/glib.tar.xz","file":"glib.tar.xz","sha256":"`+strings.Repeat("a", 64)+`"}]}`), 0o644)
	owners, err := DepsOwners([]string{prefix}, recipes, t.TempDir())
	if err != nil || len(owners) != 1 {
		t.Fatalf("owners %v: %v", owners, err)
	}
	if c := owners[0].Component.Comment; strings.Contains(c, deps) || !strings.Contains(c, "deps/glib-2.74.6-x") {
		t.Errorf("comment %q names the cache folder or not the prefix", c)
	}
}
