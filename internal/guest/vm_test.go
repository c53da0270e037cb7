package guest

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Up checks its inputs before it starts anything: a bad image or a missing
// key is a clear error, and no VM folder is left behind.
func TestUpRejectsBadInputs(t *testing.T) {
	dir := t.TempDir()
	_, line := testKey(t)
	keyDir := filepath.Join(dir, "ssh")
	os.MkdirAll(keyDir, 0o700)
	noKeys := filepath.Join(dir, "no-keys")
	os.MkdirAll(noKeys, 0o700)
	os.WriteFile(filepath.Join(keyDir, "id_ed25519.pub"), []byte(line+"\n"), 0o644)
	good := filepath.Join(dir, "good.qcow2")
	os.WriteFile(good, []byte("QFI\xfb\x00\x00\x00\x03"), 0o644)
	text := filepath.Join(dir, "notes.img")
	os.WriteFile(text, []byte("just some text, not a disk image at all\n"), 0o644)
	root := filepath.Join(dir, "vm")

	cases := map[string]struct {
		o    Options
		says string
	}{
		"no image":         {Options{SSHDir: keyDir}, "QEMUPACK_VM_IMAGE"},
		"missing image":    {Options{Image: filepath.Join(dir, "nope.qcow2"), SSHDir: keyDir}, "cannot read"},
		"not qcow2 or raw": {Options{Image: text, SSHDir: keyDir}, "neither qcow2 nor a raw disk"},
		"no public key":    {Options{Image: good, SSHDir: noKeys}, "no SSH public key found"},
		"missing kernel":   {Options{Image: good, SSHDir: keyDir, Kernel: filepath.Join(dir, "vmlinuz")}, "guest kernel"},
		"bad seed mode":    {Options{Image: good, SSHDir: keyDir, SeedMode: "floppy"}, "seed mode"},
		"bad name":         {Options{Name: "../x", Image: good, SSHDir: keyDir}, "VM name"},
		"missing qemu":     {Options{Image: good, SSHDir: keyDir, QEMU: []string{"/nonexistent/qemu-system-x86_64"}}, "install qemu-system-x86"},
	}
	for name, c := range cases {
		c.o.StateRoot = root
		_, err := Up(context.Background(), c.o)
		if err == nil || !strings.Contains(err.Error(), c.says) {
			t.Errorf("%s: error %v, want one saying %q", name, err, c.says)
		}
	}
	if _, err := os.Stat(root); !os.IsNotExist(err) {
		t.Errorf("a VM folder was made for bad input: %v", err)
	}
}
