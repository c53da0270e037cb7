package xbuild

import (
	"os"
	"path/filepath"
	"testing"
)

// pcBiosTree is a tree with 10.2.2's real pc-bios/meson.build (as Debian's
// series leaves it) and the given top-level line for pc-bios.
func pcBiosTree(t *testing.T, topLine string, blobs ...string) string {
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "pc-bios", "optionrom"), 0o755)
	os.WriteFile(filepath.Join(dir, "meson.build"), []byte("subdir('tools')\n"+topLine+"\nsubdir('scripts')\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "pc-bios", "meson.build"), []byte(readTestdata(t, "qemu-10.2.2-pc-bios-meson.build")), 0o644)
	os.WriteFile(filepath.Join(dir, "pc-bios", "optionrom", "Makefile"), []byte(readTestdata(t, "qemu-10.2.2-optionrom-Makefile")), 0o644)
	for _, b := range blobs {
		os.WriteFile(filepath.Join(dir, "pc-bios", b), []byte("rom"), 0o644)
	}
	return dir
}

func TestMissingBlobs(t *testing.T) {
	// 10.2.2+ds: meson enters pc-bios/, whose blobs the repack dropped.
	ds := pcBiosTree(t, "subdir('pc-bios')")
	m := MissingBlobs(ds)
	if len(m) < 50 || m[0] != "ast27x0_bootrom.bin" {
		t.Errorf("+ds tree: %d missing, first %q", len(m), m)
	}
	// Debian's 7.2 series comments the subdir out (skip-meson-pc-bios.diff).
	if m := MissingBlobs(pcBiosTree(t, "#subdir('pc-bios')")); m != nil {
		t.Errorf("pc-bios not entered, yet missing: %q", m)
	}
	// A release tarball has them all.
	all := pcBiosTree(t, "subdir('pc-bios')")
	for _, b := range MissingBlobs(all) {
		os.WriteFile(filepath.Join(all, "pc-bios", b), []byte("rom"), 0o644)
	}
	if m := MissingBlobs(all); len(m) != 0 {
		t.Errorf("complete tree: %q", m)
	}
}

func TestNeedsOptionROMs(t *testing.T) {
	ds := pcBiosTree(t, "subdir('pc-bios')")
	if !NeedsOptionROMs(ds, []string{"x86_64-softmmu"}) || !NeedsOptionROMs(ds, []string{"aarch64-softmmu", "i386-softmmu"}) {
		t.Error("a +ds tree building x86 does not make the option ROMs")
	}
	if NeedsOptionROMs(ds, []string{"aarch64-softmmu"}) {
		t.Error("option ROMs for a target that does not use them")
	}
	if NeedsOptionROMs(pcBiosTree(t, "subdir('pc-bios')", "linuxboot_dma.bin"), []string{"x86_64-softmmu"}) {
		t.Error("a tree with its prebuilt ROMs rebuilds them")
	}
	old := pcBiosTree(t, "subdir('pc-bios')")
	os.WriteFile(filepath.Join(old, "pc-bios", "optionrom", "Makefile"), []byte("include ../../config-host.mak\ninclude $(SRC_PATH)/rules.mak\n"), 0o644)
	if NeedsOptionROMs(old, []string{"x86_64-softmmu"}) {
		t.Error("an old-style option ROM Makefile (config-host.mak) was taken")
	}
}
