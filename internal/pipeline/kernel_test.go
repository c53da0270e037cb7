package pipeline

import (
	"archive/zip"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"qemupack/internal/config"
)

func TestKernelDependency(t *testing.T) {
	for depends, want := range map[string]string{
		// bookworm's linux-image-arm64 6.1.192-3, as apt-cache show gives it
		"linux-image-6.1.0-57-arm64 (= 6.1.192-3)":                        "linux-image-6.1.0-57-arm64",
		"linux-image-6.1.0-57-arm64:arm64 (= 6.1.192-3), initramfs-tools": "linux-image-6.1.0-57-arm64",
		"firmware-linux-free | linux-image-6.12.9-arm64":                  "linux-image-6.12.9-arm64",
		"initramfs-tools": "",
		"":                "",
	} {
		if got := KernelDependency(depends); got != want {
			t.Errorf("KernelDependency(%q) = %q, want %q", depends, got, want)
		}
	}
}

// A kernel in the cache is used as it is; offline without one is an error
// that says where to put it (no apt tree is opened).
func TestAArch64KernelFromTheCache(t *testing.T) {
	cache := t.TempDir()
	c := config.Config{CacheDir: cache, Offline: true}
	if _, err := aarch64Kernel(context.Background(), c, nil); err == nil || !strings.Contains(err.Error(), filepath.Join(cache, "kernel", "arm64")) {
		t.Errorf("offline, no kernel: %v", err)
	}
	dir := filepath.Join(cache, "kernel", "arm64")
	os.MkdirAll(dir, 0o755)
	os.WriteFile(filepath.Join(dir, "vmlinuz-6.1.0-57-arm64"), []byte("Image"), 0o644)
	if k, err := aarch64Kernel(context.Background(), c, nil); err != nil || filepath.Base(k) != "vmlinuz-6.1.0-57-arm64" {
		t.Errorf("cached kernel: %q, %v", k, err)
	}
}

func TestArchiveHas(t *testing.T) {
	dir := t.TempDir()
	a := filepath.Join(dir, "a.zip")
	f, _ := os.Create(a)
	zw := zip.NewWriter(f)
	for _, n := range []string{"qemu-10.2.2-win64/qemu-system-x86_64.exe", "qemu-10.2.2-win64/share/qemu-system-aarch64.exe"} {
		w, _ := zw.Create(n)
		w.Write([]byte("MZ"))
	}
	zw.Close()
	f.Close()
	if has, err := archiveHas(a, "qemu-system-x86_64.exe"); !has || err != nil {
		t.Errorf("x86_64: %v %v", has, err)
	}
	if has, err := archiveHas(a, "qemu-system-aarch64.exe"); has || err != nil {
		t.Errorf("aarch64 below share/ counted: %v %v", has, err)
	}
	if _, err := archiveHas(filepath.Join(dir, "none.zip"), "x"); err == nil {
		t.Error("a missing archive is no error")
	}
}
