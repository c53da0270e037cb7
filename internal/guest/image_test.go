package guest

import (
	"context"
	"encoding/binary"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func TestDetectFormat(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, head []byte, size int) string {
		p := filepath.Join(dir, name)
		b := make([]byte, size)
		copy(b, head)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	mbr := make([]byte, 512)
	mbr[510], mbr[511] = 0x55, 0xaa
	ext := make([]byte, 2048)
	binary.LittleEndian.PutUint16(ext[1080:], 0xef53)

	good := map[string]struct {
		path, want string
	}{
		"qcow2":      {write("a.qcow2", []byte("QFI\xfb\x00\x00\x00\x03"), 4096), "qcow2"},
		"mbr disk":   {write("disk.img", mbr, 1<<20), "raw"},
		"ext4 whole": {write("root.ext4", ext, 1<<20), "raw"},
		"blank raw":  {write("blank.raw", nil, 1<<20), "raw"},
	}
	for name, c := range good {
		got, err := DetectFormat(c.path)
		if err != nil || got != c.want {
			t.Errorf("%s: %q %v, want %q", name, got, err, c.want)
		}
	}
	bad := map[string]struct {
		path, says string
	}{
		"vmdk":        {write("a.vmdk", []byte("KDMV"), 4096), "VMDK"},
		"vhdx":        {write("a.vhdx", []byte("vhdxfile"), 4096), "VHDX"},
		"xz":          {write("a.qcow2.xz", []byte("\xfd7zXZ\x00"), 4096), "xz-compressed"},
		"gzip":        {write("a.img.gz", []byte("\x1f\x8b\x08"), 4096), "gzip"},
		"text file":   {write("notes.txt", []byte("hello, this is not a disk\n"), 200), "neither qcow2 nor a raw disk"},
		"empty file":  {write("empty.img", nil, 0), "empty"},
		"missing":     {filepath.Join(dir, "nope.qcow2"), "cannot read"},
		"a directory": {dir, "folder"},
	}
	for name, c := range bad {
		_, err := DetectFormat(c.path)
		if err == nil || !strings.Contains(err.Error(), c.says) {
			t.Errorf("%s: error %v, want one saying %q", name, err, c.says)
		}
	}
}

func TestDetectFormatUnreadable(t *testing.T) {
	if os.Geteuid() == 0 {
		// root reads a mode-000 file; a folder entry that is a dangling
		// symlink is unreadable for everyone.
		p := filepath.Join(t.TempDir(), "link.qcow2")
		os.Symlink("/nonexistent/image.qcow2", p)
		if _, err := DetectFormat(p); err == nil || !strings.Contains(err.Error(), "cannot read") {
			t.Errorf("dangling link: %v", err)
		}
		return
	}
	p := filepath.Join(t.TempDir(), "locked.qcow2")
	os.WriteFile(p, []byte("QFI\xfb"), 0o000)
	if _, err := DetectFormat(p); err == nil || !strings.Contains(err.Error(), "cannot read") {
		t.Errorf("mode 000: %v", err)
	}
}

// The overlay records the guest's writes; the base image is never written.
func TestOverlayLeavesBaseAlone(t *testing.T) {
	if _, err := exec.LookPath("qemu-img"); err != nil {
		t.Fatal("qemu-img not found: install the Debian package qemu-utils")
	}
	dir := t.TempDir()
	base := filepath.Join(dir, "base.raw")
	mbr := make([]byte, 1<<20)
	mbr[510], mbr[511] = 0x55, 0xaa
	os.WriteFile(base, mbr, 0o444)
	st0, _ := os.Stat(base)
	format, err := DetectFormat(base)
	if err != nil {
		t.Fatal(err)
	}
	ov := filepath.Join(dir, "vm", "overlay.qcow2")
	if err := CreateOverlay(context.Background(), []string{"qemu-img"}, base, format, ov, filepath.Join(dir, "qemu-img.log")); err != nil {
		t.Fatal(err)
	}
	// Write into the overlay through qemu-io's sibling, qemu-img: resize.
	if out, err := exec.Command("qemu-img", "resize", "-f", "qcow2", ov, "2M").CombinedOutput(); err != nil {
		t.Fatalf("resize overlay: %v\n%s", err, out)
	}
	out, err := exec.Command("qemu-img", "info", "--output=json", ov).Output()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(out), `"backing-filename-format": "raw"`) || !strings.Contains(string(out), base) {
		t.Errorf("overlay info:\n%s", out)
	}
	st1, _ := os.Stat(base)
	if st1.Size() != st0.Size() || !st1.ModTime().Equal(st0.ModTime()) {
		t.Error("base image changed")
	}
	if fmtOv, err := DetectFormat(ov); err != nil || fmtOv != "qcow2" {
		t.Errorf("overlay detected as %q %v", fmtOv, err)
	}
}
