package release

import (
	"os"
	"path/filepath"
	"testing"

	"qemupack/internal/bundle"
	"qemupack/internal/sbom"
)

// TestFirmwareOwnersClaimPackagedFiles: a staged firmware file copied from
// an unpacked package is given to that package, with its version and
// suite, and without asking dpkg (the package is not installed).
func TestFirmwareOwnersClaimPackagedFiles(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "usr", "share", "seabios")
	os.MkdirAll(dir, 0o755)
	os.WriteFile(filepath.Join(dir, "bios-256k.bin"), []byte("seabios"), 0o644)
	copyright := filepath.Join(root, "usr", "share", "doc", "seabios", "copyright")
	os.MkdirAll(filepath.Dir(copyright), 0o755)
	os.WriteFile(copyright, []byte("Files: *\nLicense: LGPL-3\n"), 0o644)
	fw := []bundle.Firmware{
		{Dir: dir, Package: "seabios", Version: "1.17.0-1", Suite: "sid", Copyright: copyright},
		{Dir: filepath.Join(root, "usr", "share", "qemu"), Package: "seabios", Version: "1.17.0-1", Suite: "sid", Copyright: copyright},
	}
	owners := FirmwareOwners(fw)
	if len(owners) != 1 || len(owners[0].Dirs) != 2 {
		t.Fatalf("owners = %+v", owners)
	}
	c := owners[0].Component
	if c.Name != "seabios" || c.Version != "1.17.0-1" || c.License != "LGPL-3.0-only" || c.PURL != "pkg:deb/debian/seabios@1.17.0-1?arch=all" {
		t.Errorf("component %+v", c)
	}
	stage := t.TempDir()
	os.MkdirAll(filepath.Join(stage, "share"), 0o755)
	os.WriteFile(filepath.Join(stage, "share", "bios-256k.bin"), []byte("seabios"), 0o644)
	a := sbom.Attributor{Owners: owners}
	comps, files, err := a.Attribute(stage, map[string]string{"share/bios-256k.bin": filepath.Join(dir, "bios-256k.bin")})
	if err != nil {
		t.Fatal(err)
	}
	if len(comps) != 1 || comps[0].Name != "seabios" || len(files) != 1 || files[0].Component != "seabios" {
		t.Errorf("components %+v files %+v", comps, files)
	}
}
