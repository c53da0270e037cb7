package bundle

import (
	stdzip "archive/zip"
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// makeDeb builds a real Debian package with dpkg-deb from files (path ->
// content; a content starting with "->" makes a link) and unpacks it as
// the pipeline does, returning the unpacked root.
func makeDeb(t *testing.T, pkg, version string, files map[string]string) string {
	t.Helper()
	if _, err := exec.LookPath("dpkg-deb"); err != nil {
		t.Skip("dpkg-deb is needed to make and unpack a .deb")
	}
	tree := t.TempDir()
	files["DEBIAN/control"] = "Package: " + pkg + "\nVersion: " + version + "\nArchitecture: all\nMaintainer: t <t@example.org>\nDescription: test\n"
	files["usr/share/doc/"+pkg+"/copyright"] = "Files: *\nLicense: LGPL-3\n"
	for name, body := range files {
		p := filepath.Join(tree, filepath.FromSlash(name))
		os.MkdirAll(filepath.Dir(p), 0o755)
		if target, ok := strings.CutPrefix(body, "->"); ok {
			if err := os.Symlink(target, p); err != nil {
				t.Fatal(err)
			}
			continue
		}
		os.WriteFile(p, []byte(body), 0o644)
	}
	deb := filepath.Join(t.TempDir(), pkg+"_"+version+"_all.deb")
	if out, err := exec.Command("dpkg-deb", "--root-owner-group", "--build", tree, deb).CombinedOutput(); err != nil {
		t.Fatalf("dpkg-deb --build: %v\n%s", err, out)
	}
	root := t.TempDir()
	if out, err := exec.Command("dpkg-deb", "-x", deb, root).CombinedOutput(); err != nil {
		t.Fatalf("dpkg-deb -x: %v\n%s", err, out)
	}
	return root
}

// testFirmware gives SeaBIOS and iPXE as Debian packages: the real ones
// when QEMUPACK_TEST_DEBS holds them (apt-get download seabios/sid
// ipxe-qemu/sid), else packages made here with the same layout.
func testFirmware(t *testing.T) []Firmware {
	var out []Firmware
	debs := os.Getenv("QEMUPACK_TEST_DEBS")
	for _, pkg := range []string{"seabios", "ipxe-qemu"} {
		ms, _ := filepath.Glob(filepath.Join(debs, pkg+"_*_all.deb"))
		var root, version, deb string
		if debs != "" && len(ms) > 0 {
			deb = ms[len(ms)-1]
			root = t.TempDir()
			if out, err := exec.Command("dpkg-deb", "-x", deb, root).CombinedOutput(); err != nil {
				t.Fatalf("dpkg-deb -x %s: %v\n%s", deb, err, out)
			}
			v, err := exec.Command("dpkg-deb", "-f", deb, "Version").Output()
			if err != nil {
				t.Fatal(err)
			}
			version, deb = strings.TrimSpace(string(v)), filepath.Base(deb)
		} else {
			files := map[string]string{}
			version = "1.0-test"
			for _, f := range x86Firmware {
				switch {
				case pkg == "seabios" && strings.HasSuffix(f, ".bin") && (strings.HasPrefix(f, "bios") || strings.HasPrefix(f, "vgabios")):
					files["usr/share/seabios/"+f] = pkg + " " + f
				case pkg == "ipxe-qemu" && strings.HasPrefix(f, "efi-"):
					files["usr/share/qemu/"+f] = pkg + " " + f
				}
			}
			if pkg == "seabios" { // as Debian's: a link inside the package
				files["usr/share/seabios/vgabios-isavga.bin"] = "isa vga"
				files["usr/share/seabios/vgabios.bin"] = "->vgabios-isavga.bin"
			}
			root = makeDeb(t, pkg, version, files)
		}
		fw, err := FirmwareFromDeb(root, pkg, version, "sid", deb)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, fw...)
	}
	return out
}

// TestArchiveWithPackagedFirmware: a 10.2-style stage (option ROMs and
// keymaps built from the tree) plus SeaBIOS and iPXE from Debian packages:
// no host folder is read, each package's copyright goes into LICENSES/,
// and README.txt names each package, its version and suite, and its files.
func TestArchiveWithPackagedFirmware(t *testing.T) {
	w := newWorld(t)
	for _, f := range []string{"kvmvapic.bin", "linuxboot.bin", "linuxboot_dma.bin", "multiboot.bin", "multiboot_dma.bin", "pvh.bin", "keymaps/en-us", "keymaps/de"} {
		os.MkdirAll(filepath.Dir(filepath.Join(w.stage, "share", f)), 0o755)
		os.WriteFile(filepath.Join(w.stage, "share", filepath.FromSlash(f)), []byte("from the tree: "+f), 0o644)
	}
	in := w.input(t, t.TempDir())
	in.FirmwareDirs = []string{"/nonexistent-host-folder"} // never read when packages are given
	in.Firmware = testFirmware(t)
	res, err := Bundle(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	zr, err := stdzip.OpenReader(res.Archive.Path)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	files := map[string]string{}
	for _, f := range zr.File {
		rc, _ := f.Open()
		b, _ := io.ReadAll(rc)
		rc.Close()
		files[strings.TrimPrefix(f.Name, res.Top+"/")] = string(b)
	}
	for _, n := range append(append([]string{}, x86Firmware...), "keymaps/en-us") {
		if _, ok := files["share/"+n]; !ok {
			t.Errorf("archive lacks share/%s", n)
		}
	}
	if !strings.HasPrefix(files["share/linuxboot_dma.bin"], "from the tree") {
		t.Error("the stage's own option ROM was not the one taken")
	}
	for _, n := range []string{"LICENSES/seabios/copyright", "LICENSES/ipxe-qemu/copyright"} {
		if files[n] == "" {
			t.Errorf("archive lacks %s", n)
		}
	}
	readme := files["README.txt"]
	for _, f := range in.Firmware {
		if !strings.Contains(readme, f.Package+" "+f.Version+" from Debian sid") {
			t.Errorf("README.txt does not name %s %s:\n%s", f.Package, f.Version, readme)
		}
	}
	for _, s := range []string{"share\\bios-256k.bin", "share\\efi-e1000.rom", "LICENSES\\seabios\\ covers share\\bios-256k.bin"} {
		if !strings.Contains(readme, s) {
			t.Errorf("README.txt lacks %q:\n%s", s, readme)
		}
	}
	t.Logf("README.txt:\n%s", readme)
}

// TestPackagedFirmwareMustStayInItsPackage: an absolute link in a package
// would read the host's file of that name; it is refused, naming it.
func TestPackagedFirmwareMustStayInItsPackage(t *testing.T) {
	root := makeDeb(t, "seabios", "1.0-test", map[string]string{"usr/share/seabios/bios-256k.bin": "->/etc/hostname"})
	fw, err := FirmwareFromDeb(root, "seabios", "1.0-test", "sid", "")
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := findFirmware(fw, "bios-256k.bin"); err == nil || !strings.Contains(err.Error(), "outside package seabios") {
		t.Errorf("a link out of the package: %v", err)
	}
	// A link into another package (qemu-system-data's into seabios') is
	// passed over for the next package that has the file.
	data := makeDeb(t, "qemu-system-data", "1.0-test", map[string]string{"usr/share/qemu/bios.bin": "->../seabios/bios.bin"})
	bios := makeDeb(t, "seabios", "1.0-test", map[string]string{"usr/share/seabios/bios.bin": "seabios"})
	fd, _ := FirmwareFromDeb(data, "qemu-system-data", "1.0-test", "sid", "")
	fb, _ := FirmwareFromDeb(bios, "seabios", "1.0-test", "sid", "")
	if p, f, err := findFirmware(append(fd, fb...), "bios.bin"); err != nil || f == nil || f.Package != "seabios" || !strings.HasPrefix(p, bios) {
		t.Errorf("bios.bin from %v (%s): %v", f, p, err)
	}
	if _, err := FirmwareFromDeb(t.TempDir(), "seabios", "1", "sid", ""); err == nil {
		t.Error("a folder without the package's copyright was accepted")
	}
}

func TestFirmwarePackagesFor(t *testing.T) {
	got, err := FirmwarePackagesFor([]string{"x86_64-softmmu", "i386-softmmu"})
	if err != nil || strings.Join(got, " ") != "seabios ipxe-qemu" {
		t.Errorf("x86: %q, %v", got, err)
	}
	// hexagon-softmmu is QEMU 11's: the table does not know it yet.
	if _, err := FirmwarePackagesFor([]string{"x86_64-softmmu", "hexagon-softmmu"}); err == nil || !strings.Contains(err.Error(), "hexagon-softmmu") {
		t.Errorf("an unknown target: %v", err)
	}
	// The desk build's aarch64: iPXE's efi-virtio.rom for -M virt's NIC.
	got, err = FirmwarePackagesFor([]string{"x86_64-softmmu", "aarch64-softmmu"})
	if err != nil || strings.Join(got, " ") != "seabios ipxe-qemu" {
		t.Errorf("x86_64 + aarch64: %q, %v", got, err)
	}
	got, err = FirmwarePackagesFor([]string{"riscv64-softmmu", "ppc-softmmu", "m68k-softmmu"})
	if err != nil || strings.Join(got, " ") != "seabios ipxe-qemu opensbi qemu-system-data" {
		t.Errorf("riscv64 + ppc + m68k: %q, %v", got, err)
	}
}

// Every target of the table has packages for its files, and a target
// without files names none; an unknown one fails before the build,
// naming the known ones.
func TestCheckTargetsFailsClosed(t *testing.T) {
	if err := CheckTargets([]string{"x86_64-softmmu", "aarch64-softmmu", "i386-softmmu", "sh4-softmmu"}); err != nil {
		t.Error(err)
	}
	for tgt, e := range firmwareTable {
		if (len(e.Files) == 0) != (len(e.Packages) == 0) {
			t.Errorf("%s: files %v, packages %v", tgt, e.Files, e.Packages)
		}
		for _, f := range e.Files {
			if f.Unshipped && f.Optional == "" {
				t.Errorf("%s: %s ships nowhere but is not optional", tgt, f.Name)
			}
		}
	}
	err := CheckTargets([]string{"x86_64-softmmu", "hexagon-softmmu", "riscv64-linux-user"})
	if err == nil || !strings.Contains(err.Error(), "hexagon-softmmu, riscv64-linux-user") || !strings.Contains(err.Error(), "aarch64-softmmu, alpha-softmmu, arm-softmmu") {
		t.Errorf("unknown targets: %v", err)
	}
}

// neededFirmware: a file one target needs stays required when another
// lists it as optional; an optional file carries its reason.
func TestNeededFirmware(t *testing.T) {
	need, opt, err := neededFirmware([]string{"ppc-softmmu", "riscv32-softmmu", "hppa-softmmu"}, true)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"openbios-ppc", "qemu_vga.ndrv", "opensbi-riscv32-generic-fw_dynamic.bin", "hppa-firmware.img", "hppa-firmware64.img"} {
		if !need[n] {
			t.Errorf("%s not needed: %v", n, need)
		}
	}
	if opt["qemu_vga.ndrv"] == "" || opt["hppa-firmware64.img"] == "" || opt["hppa-firmware.img"] != "" {
		t.Errorf("optional: %v", opt)
	}
	if _, _, err := neededFirmware([]string{"hexagon-softmmu"}, true); err == nil {
		t.Error("an unknown target was accepted")
	}
}
