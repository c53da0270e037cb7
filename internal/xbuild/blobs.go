package xbuild

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
)

// Debian's repacks (+dfsg, +ds) drop the prebuilt firmware QEMU's release
// tarball carries in pc-bios/. Two things follow for a build from them:
//
//   - When meson still enters pc-bios/ (Debian's 7.2 series stops it with
//     skip-meson-pc-bios.diff; 10.x's does not), install_blobs would make
//     `meson install` copy files that are not there, and configure stops on
//     the first one (ast27x0_bootrom.bin): so --disable-install-blobs.
//   - The x86 option ROMs (linuxboot_dma.bin, kvmvapic.bin, pvh.bin, ...)
//     are small programs whose source is in the tree
//     (pc-bios/optionrom/); QEMU's configure builds them only with an
//     i386-capable compiler it finds itself, which a mingw cross build
//     never has. The build machine's gcc makes them (-m16, no libraries) in
//     about a second, exactly from the release being built, so the build
//     does that and installs them into the stage's share/ where the release
//     tarball's build would have put the blobs (see OptionROMCommand).

var (
	blobsList  = regexp.MustCompile(`(?s)\bblobs\s*=\s*\[(.*?)\]`)
	quoted     = regexp.MustCompile(`'([^']+)'`)
	pcBiosLine = regexp.MustCompile(`(?m)^\s*subdir\('pc-bios'\)`)
)

// MissingBlobs lists the firmware files pc-bios/meson.build would install
// that the tree lacks, when meson enters pc-bios/ at all (nil otherwise,
// and for a tree that has them all).
func MissingBlobs(srcDir string) []string {
	top, err := os.ReadFile(filepath.Join(srcDir, "meson.build"))
	if err != nil || !pcBiosLine.Match(top) {
		return nil
	}
	b, err := os.ReadFile(filepath.Join(srcDir, "pc-bios", "meson.build"))
	if err != nil {
		return nil
	}
	m := blobsList.FindSubmatch(b)
	if m == nil {
		return nil
	}
	var missing []string
	for _, q := range quoted.FindAllSubmatch(m[1], -1) {
		name := string(q[1])
		if _, err := os.Stat(filepath.Join(srcDir, "pc-bios", name)); err != nil {
			missing = append(missing, name)
		}
	}
	return missing
}

// OptionROMs are what pc-bios/optionrom/Makefile's `all` makes.
var OptionROMs = []string{"kvmvapic.bin", "linuxboot.bin", "linuxboot_dma.bin", "multiboot.bin", "multiboot_dma.bin", "pvh.bin"}

// NeedsOptionROMs says whether the build should make the x86 option ROMs
// itself: an x86 system target, a tree without the prebuilt ROMs, and the
// option ROM Makefile of QEMU 8 and later, which reads everything from a
// config.mak beside it (older trees include config-host.mak instead).
func NeedsOptionROMs(srcDir string, targets []string) bool {
	x86 := false
	for _, t := range targets {
		x86 = x86 || t == "x86_64-softmmu" || t == "i386-softmmu"
	}
	if !x86 {
		return false
	}
	if _, err := os.Stat(filepath.Join(srcDir, "pc-bios", "linuxboot_dma.bin")); err == nil {
		return false
	}
	mk, err := os.ReadFile(filepath.Join(srcDir, "pc-bios", "optionrom", "Makefile"))
	if err != nil {
		return false
	}
	s := string(mk)
	return strings.Contains(s, "include config.mak") && strings.Contains(s, "TOPSRC_DIR")
}
