package release

import (
	"archive/zip"
	"context"
	"debug/pe"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"qemupack/internal/bundle"
	"qemupack/internal/deps"
	"qemupack/internal/pe/petest"
	"qemupack/internal/sbom"
	"qemupack/internal/sign"
	"qemupack/internal/stepcache"
	"qemupack/internal/testbin"
)

// fakeBuild makes what the build and deps steps leave behind, with real
// mingw binaries: a staged "QEMU" program that needs greet.dll (from a
// deps prefix with its manifest and licence) and zlib1.dll (from the
// host's libz-mingw-w64), a data file, and the source tree's licence.
func fakeBuild(t *testing.T) (bundle.Input, Inputs) {
	t.Helper()
	dir := t.TempDir()
	prog := testbin.Build(t, filepath.Join(dir, "greet-build"))
	prefix := filepath.Join(dir, "cache", "deps", "greet-0.1-0123abcd")
	stage := filepath.Join(dir, "cache", "build", "1.0.0-x", "stage")
	src := filepath.Join(dir, "src")
	root := filepath.Join(dir, "checkout")
	for _, d := range []string{filepath.Join(prefix, "bin"), filepath.Join(prefix, "share", "licenses", "greet"), filepath.Join(prefix, "lib"),
		filepath.Join(stage, "share", "keymaps"), src, filepath.Join(root, "recipes", "deps")} {
		os.MkdirAll(d, 0o755)
	}
	data, _ := os.ReadFile(prog.DLL)
	os.WriteFile(filepath.Join(prefix, "bin", "greet.dll"), data, 0o644)
	os.WriteFile(filepath.Join(prefix, "share", "licenses", "greet", "COPYING"), []byte("MIT licence text\n"), 0o644)
	sum := strings.Repeat("5e", 32)
	man, _ := json.Marshal(map[string]any{"name": "greet", "version": "0.1", "source": "greet-0.1.tar.gz", "sha256": sum})
	os.WriteFile(filepath.Join(prefix, deps.ManifestName), man, 0o644)
	rec, _ := json.Marshal(map[string]any{"name": "greet", "version": "0.1", "license": "MIT", "build": "meson",
		"provides": map[string]string{"greet": "0.1"}, "link_test": "int main(void){return 0;}",
		"sources": []map[string]string{{"url": "https://example.org/greet-0.1.tar.gz", "file": "greet-0.1.tar.gz", "sha256": sum}}})
	os.WriteFile(filepath.Join(root, "recipes", "deps", "greet.json"), rec, 0o644)

	// The "QEMU" program imports greet.dll and zlib1.dll.
	c := filepath.Join(dir, "q.c")
	os.WriteFile(c, []byte("#include <stdio.h>\n#include <zlib.h>\n__declspec(dllimport) int greet(void);\nint main(void){ printf(\"%s %d\\n\", zlibVersion(), greet()); return 0; }\n"), 0o644)
	cmd := exec.Command(testbin.CC, "-O2", "-o", filepath.Join(stage, "qemu-system-x86_64.exe"), c, filepath.Join(prefix, "bin", "greet.dll"), "-lz")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("compile: %v\n%s (needs libz-mingw-w64-dev)", err, out)
	}
	os.WriteFile(filepath.Join(stage, "share", "keymaps", "en-us"), []byte("include common\n"), 0o644)
	os.WriteFile(filepath.Join(src, "COPYING"), []byte("GPL-2.0 text\n"), 0o644)

	bin := bundle.Input{
		Stage: stage, Version: "1.0.0", Origin: "test",
		Search:   petest.Search(t, "x86_64-w64-mingw32-", prefix),
		Licenses: map[string][]string{"QEMU": {filepath.Join(src, "COPYING")}},
		Time:     time.Unix(1700000000, 0), DistDir: filepath.Join(dir, "dist"),
	}
	owners, err := sbom.DepsOwners([]string{prefix}, filepath.Join(root, "recipes", "deps"), filepath.Join(root, "patches"))
	if err != nil || len(owners) != 1 {
		t.Fatalf("deps owners: %v, %v", owners, err)
	}
	var search []string
	for _, s := range bin.Search {
		search = append(search, s.Path)
	}
	return bin, Inputs{
		Version:   "1.0.0",
		QEMU:      sbom.Component{Name: "qemu", Version: "1.0.0", License: "GPL-2.0-only", SourceURL: "https://download.qemu.org/qemu-1.0.0.tar.xz", SourceSHA256: strings.Repeat("ab", 32)},
		QEMUDirs:  []string{stage},
		QEMUFiles: []string{filepath.Join(src, "COPYING")},
		Owners:    owners, SearchDirs: search,
		Host: (&sbom.Debian{}).Owner,
		Tool: sbom.Component{Name: "qemupack", Version: "test"},
		Zip:  true, Installer: true,
		DistDir: bin.DistDir, Work: filepath.Join(dir, "work"),
	}
}

func peSigned(t *testing.T, data []byte) bool {
	t.Helper()
	f, err := pe.NewFile(strings.NewReader(string(data)))
	if err != nil {
		t.Fatal(err)
	}
	return f.OptionalHeader.(*pe.OptionalHeader64).DataDirectory[pe.IMAGE_DIRECTORY_ENTRY_SECURITY].Size > 0
}

func TestMakeSignedRelease(t *testing.T) {
	for _, tool := range []string{"makensis", "osslsigncode", "dpkg-query"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s not found (apt-get install nsis osslsigncode)", tool)
		}
	}
	bin, in := fakeBuild(t)
	spec, _, err := bundle.Layout(bin)
	if err != nil {
		t.Fatal(err)
	}
	in.Spec = spec
	cert := testbin.CodeSigningCert(t, t.TempDir(), "pw")
	in.Signer = &sign.Signer{PFX: cert.PFX, Password: cert.Password}
	ctx := context.Background()
	out, err := Make(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	if out.Signed != 3 {
		t.Errorf("signed %d files, want 3 (the exe, greet.dll, zlib1.dll): %+v", out.Signed, out)
	}
	// dist/ holds exactly the release files and their sums (and the
	// writers' lock files, which are dot-files).
	ents, _ := os.ReadDir(in.DistDir)
	var names []string
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), ".") && strings.HasSuffix(e.Name(), ".lock") {
			continue
		}
		names = append(names, e.Name())
	}
	sort.Strings(names)
	want := "SHA256SUMS qemu-1.0.0-win64-setup.exe qemu-1.0.0-win64.spdx.json qemu-1.0.0-win64.zip"
	if strings.Join(names, " ") != want {
		t.Errorf("dist: %v, want %s", names, want)
	}
	sums := exec.Command("sha256sum", "-c", "SHA256SUMS")
	sums.Dir = in.DistDir
	if o, err := sums.CombinedOutput(); err != nil {
		t.Errorf("sha256sum -c: %v\n%s", err, o)
	}
	if err := sbom.CheckArchive(out.Zip); err != nil {
		t.Error(err)
	}
	// Every exe and DLL in the zip is signed, and the installer too.
	zr, err := zip.OpenReader(out.Zip)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	pes := 0
	for _, f := range zr.File {
		n := strings.ToLower(f.Name)
		if strings.HasSuffix(n, ".exe") || strings.HasSuffix(n, ".dll") {
			rc, _ := f.Open()
			b, _ := io.ReadAll(rc)
			rc.Close()
			pes++
			if !peSigned(t, b) {
				t.Errorf("%s in the zip is not signed", f.Name)
			}
		}
	}
	if pes != out.Signed || pes < 3 {
		t.Errorf("%d PE files in the zip, %d signed", pes, out.Signed)
	}
	if err := sign.Verify(ctx, out.Installer, cert.CertPEM); err != nil {
		t.Error(err)
	}
	p, err := sbom.Parse(mustRead(t, out.SBOM))
	if err != nil {
		t.Fatal(err)
	}
	for file, comp := range map[string]string{
		"qemu-system-x86_64.exe": "qemu", "greet.dll": "greet", "zlib1.dll": "libz-mingw-w64",
		"LICENSES/QEMU/COPYING": "qemu", "README.txt": "qemupack", "share/keymaps/en-us": "qemu",
	} {
		if p.Files[file].Component != comp {
			t.Errorf("SBOM: %s from %q, want %q", file, p.Files[file].Component, comp)
		}
	}
	if g := p.Components["greet"]; g.License != "MIT" || g.SourceURL != "https://example.org/greet-0.1.tar.gz" {
		t.Errorf("greet component: %+v", g)
	}
}

func TestMakeWrongPasswordWritesNothing(t *testing.T) {
	bin, in := fakeBuild(t)
	spec, _, err := bundle.Layout(bin)
	if err != nil {
		t.Fatal(err)
	}
	in.Spec = spec
	cert := testbin.CodeSigningCert(t, t.TempDir(), "right")
	in.Signer = &sign.Signer{PFX: cert.PFX, Password: "wrong"}
	_, err = Make(context.Background(), in)
	if err == nil || !strings.Contains(err.Error(), sign.EnvPassword) {
		t.Fatalf("want a wrong-password error naming %s, got %v", sign.EnvPassword, err)
	}
	if ents, _ := os.ReadDir(in.DistDir); len(ents) != 0 {
		t.Errorf("dist/ holds %v after a failed signing", ents)
	}
}

func mustRead(t *testing.T, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// A stripped bundle (its programs and DLLs in the step cache) is traced in
// the bill of materials to the files it was stripped from.
func TestReleaseOfStrippedBundle(t *testing.T) {
	bin, in := fakeBuild(t)
	bin.Cache = &stepcache.Cache{Root: t.TempDir()}
	bin.Strip = &bundle.Stripper{Objcopy: "x86_64-w64-mingw32-objcopy"}
	spec, _, err := bundle.Layout(bin)
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		for _, e := range spec.Held {
			e.Release()
		}
	}()
	stripped := 0
	var greet string
	for _, e := range spec.Entries {
		if e.Origin != "" {
			stripped++
		}
		if e.Name == "greet.dll" {
			greet = e.Origin
		}
	}
	if stripped < 2 || len(spec.Debug) < 2 {
		t.Fatalf("%d entries stripped, %d debug files: the test needs the exe and greet.dll stripped", stripped, len(spec.Debug))
	}
	// Data the bundle makes from a DLL's component (as GTK's compiled
	// schemas are) is that component's, not qemupack's.
	spec.Entries = append(spec.Entries, bundle.Entry{Name: "share/greet/greet.dat", Data: []byte("made from greet\n"), Origin: greet})
	in.Spec, in.Installer = spec, false
	out, err := Make(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	p, err := sbom.Parse(mustRead(t, out.SBOM))
	if err != nil {
		t.Fatal(err)
	}
	for file, comp := range map[string]string{"qemu-system-x86_64.exe": "qemu", "greet.dll": "greet", "share/greet/greet.dat": "greet", "README.txt": "qemupack"} {
		if f := p.Files[file]; f.Component != comp {
			t.Errorf("SBOM: %s from %q, want %q (traced to the unstripped file)", file, f.Component, comp)
		}
	}
}
