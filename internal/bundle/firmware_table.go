package bundle

import "sort"

// The firmware table: for every system emulator QEMU offers (10.2.2's
// configs/targets/*-softmmu.mak, and 7.2's cris and nios2, since
// removed), the files under share/ its default machine loads when it
// starts and those its common -kernel path needs (the default NIC's and
// display's option ROMs), and the Debian binary packages (architecture
// all) that carry them. A target that is not here is refused before
// anything is built (CheckTargets): an archive without the files would
// start nothing.
//
// Where each name comes from (QEMU 10.2.2's hw/): the machine's default
// -bios (PROM_FILENAME, FW_FILE_NAME, machine->firmware ?: ...), the
// romfile of the PCI NIC it makes by default (pci_add_option_rom stops
// the start when that file is missing: "failed to find romfile") and of
// its default display. Checked with Debian's own Linux builds of QEMU 7.2
// (TestFirmwareTableStartsDebianQEMU): with only a target's files in -L
// its default machine starts; with none it names a missing one.

// fwFile is one file of a target. Optional files are shipped when the
// suite's packages have them and otherwise left out with a line in
// README.txt saying what is missing (Optional says why QEMU starts
// without it); every other file must be found, or the bundle fails.
type fwFile struct {
	Name     string // under share/, as QEMU looks it up
	Optional string // non-empty: why the archive may go without it
	// Unshipped marks an optional file no Debian suite has in any
	// package (QEMU's own release tarball ships it prebuilt).
	Unshipped bool
	// Built marks a file the build makes from the QEMU tree into the
	// stage's share/ (xbuild.OptionROMs); for a tree whose build does not
	// (Debian's 7.2), qemu-system-data of that very release has it, which
	// the pipeline then fetches. No firmware package of another project
	// carries it.
	Built bool
}

// targetFirmware is one target's entry: its files and the packages to
// search for them, in order.
type targetFirmware struct {
	Files    []fwFile
	Packages []string
}

func files(names ...string) []fwFile {
	out := make([]fwFile, len(names))
	for i, n := range names {
		out[i] = fwFile{Name: n}
	}
	return out
}

// x86Firmware is what -M pc/q35 and microvm load: SeaBIOS and its VGA
// BIOSes (seabios), iPXE's ROMs for each NIC model (ipxe-qemu), and the
// option ROMs for -kernel and multiboot, which the build makes from the
// tree (xbuild.OptionROMs) or qemu-system-data of the same release has.
var x86Firmware = []string{
	"bios.bin", "bios-256k.bin", "bios-microvm.bin", "kvmvapic.bin",
	"linuxboot.bin", "linuxboot_dma.bin", "multiboot.bin", "multiboot_dma.bin", "pvh.bin",
	"vgabios.bin", "vgabios-ati.bin", "vgabios-bochs-display.bin", "vgabios-cirrus.bin",
	"vgabios-qxl.bin", "vgabios-ramfb.bin", "vgabios-stdvga.bin", "vgabios-virtio.bin", "vgabios-vmware.bin",
	"efi-e1000.rom", "efi-e1000e.rom", "efi-eepro100.rom", "efi-ne2k_pci.rom", "efi-pcnet.rom",
	"efi-rtl8139.rom", "efi-virtio.rom", "efi-vmxnet3.rom",
}

var x86 = targetFirmware{Files: x86Files(), Packages: []string{"seabios", "ipxe-qemu"}}

// x86Built are x86Firmware's option ROMs, which the build makes.
var x86Built = []string{"kvmvapic.bin", "linuxboot.bin", "linuxboot_dma.bin", "multiboot.bin", "multiboot_dma.bin", "pvh.bin"}

func x86Files() []fwFile {
	out := files(x86Firmware...)
	for i := range out {
		for _, b := range x86Built {
			out[i].Built = out[i].Built || out[i].Name == b
		}
	}
	return out
}

// virtNIC is -M virt's (arm, aarch64, loongarch64): no default machine
// file; -kernel boots without firmware, and the default NIC,
// virtio-net-pci, loads iPXE's efi-virtio.rom. UEFI (-bios with edk2) is
// not shipped: Debian's qemu-efi-* packages give it under other names
// and sizes than QEMU's edk2-*-code.fd.
var virtNIC = targetFirmware{Files: files("efi-virtio.rom"), Packages: []string{"ipxe-qemu"}}

// noFiles is a target whose machines load nothing from share/ by
// themselves: they start with -kernel (or a -bios the user brings).
var noFiles = targetFirmware{}

// OpenSBI: Debian's opensbi package keeps fw_dynamic.bin per
// architecture; QEMU looks for it under its own name (Debian's
// qemu-system-misc links one to the other). Bookworm's qemu-system-data
// (7.2) carries its own riscv64 build under QEMU's name.
var firmwareAliases = map[string][]string{
	"opensbi-riscv64-generic-fw_dynamic.bin": {"usr/lib/riscv64-linux-gnu/opensbi/generic/fw_dynamic.bin"},
	"opensbi-riscv32-generic-fw_dynamic.bin": {"usr/lib/riscv32-linux-gnu/opensbi/generic/fw_dynamic.bin"},
}

var microblaze = targetFirmware{
	// petalogix-s3adsp1800 (the default) and petalogix-ml605 read their
	// device tree when it is there and start without it (the kernel must
	// then bring its own). Only sid's qemu-system-data (11.1) carries
	// them in a package of architecture all; bookworm's and trixie's are
	// in qemu-system-misc (amd64 only).
	Files: []fwFile{
		{Name: "petalogix-s3adsp1800.dtb", Optional: "device tree of -M petalogix-s3adsp1800; without it the kernel must carry one"},
		{Name: "petalogix-ml605.dtb", Optional: "device tree of -M petalogix-ml605; without it the kernel must carry one"},
	},
	Packages: []string{"qemu-system-data"},
}

var mips = targetFirmware{
	// -M malta: the default NIC pcnet loads efi-pcnet.rom, the default
	// display cirrus-vga vgabios-cirrus.bin. Its own firmware
	// (mips_bios.bin, YAMON) ships nowhere, upstream neither: malta boots
	// with -kernel.
	Files:    files("efi-pcnet.rom", "vgabios-cirrus.bin"),
	Packages: []string{"ipxe-qemu", "seabios"},
}

var riscv = func(bits string) targetFirmware {
	name := "opensbi-riscv" + bits + "-generic-fw_dynamic.bin"
	f := fwFile{Name: name}
	if bits == "32" {
		// Bookworm has no 32-bit OpenSBI (opensbi 1.1 builds riscv64 only).
		f.Optional = "OpenSBI, the default -bios of every riscv32 machine; without it start with -bios <file> or -bios none -kernel <image>"
	}
	// -M spike (the default), virt and sifive_u load OpenSBI's fw_dynamic
	// as their -bios unless told otherwise.
	return targetFirmware{Files: []fwFile{f}, Packages: []string{"opensbi", "qemu-system-data"}}
}

var ppc64 = targetFirmware{
	// -M pseries: SLOF (slof.bin), and the default display's
	// vgabios-stdvga.bin; vof.bin for x-vof=on; mac99 and g3beige as
	// for ppc-softmmu; -M powernv: skiboot.lid.
	Files: append(files("slof.bin", "vof.bin", "skiboot.lid", "openbios-ppc", "vgabios-stdvga.bin", "efi-ne2k_pci.rom"),
		fwFile{Name: "qemu_vga.ndrv", Optional: "the Mac OS VGA driver -M mac99/g3beige offer Mac OS guests; other guests do not use it", Unshipped: true}),
	Packages: []string{"qemu-system-data", "seabios", "ipxe-qemu"},
}

var firmwareTable = map[string]targetFirmware{
	"x86_64-softmmu":  x86,
	"i386-softmmu":    x86,
	"aarch64-softmmu": virtNIC,
	"arm-softmmu":     virtNIC,
	// -M clipper: the PALcode (palcode-clipper), the default cirrus-vga's
	// VGA BIOS and the default e1000's iPXE ROM.
	"alpha-softmmu": {Files: files("palcode-clipper", "vgabios-cirrus.bin", "efi-e1000.rom"), Packages: []string{"qemu-system-data", "seabios", "ipxe-qemu"}},
	// No default machine; the Arduino boards run the program given with
	// -bios.
	"avr-softmmu": noFiles,
	// QEMU 7.2 only: -M axis-dev88 needs -kernel.
	"cris-softmmu": noFiles,
	// -M B160L: SeaBIOS-hppa (hppa-firmware.img); the 64-bit machines
	// (C3700, A400; QEMU 9.0 and later) hppa-firmware64.img, which
	// bookworm lacks.
	"hppa-softmmu": {Files: []fwFile{{Name: "hppa-firmware.img"},
		{Name: "hppa-firmware64.img", Optional: "SeaBIOS-hppa for the 64-bit machines -M C3700/A400; the default B160L uses hppa-firmware.img"}},
		Packages: []string{"qemu-system-data"}},
	"loongarch64-softmmu": virtNIC,
	// -M mcf5208evb (and q800, virt) need -kernel; no firmware file.
	"m68k-softmmu":         noFiles,
	"microblaze-softmmu":   microblaze,
	"microblazeel-softmmu": microblaze,
	"mips-softmmu":         mips,
	"mipsel-softmmu":       mips,
	"mips64-softmmu":       mips,
	"mips64el-softmmu":     mips,
	// QEMU 7.2 only: -M 10m50-ghrd needs -kernel.
	"nios2-softmmu": noFiles,
	// -M or1k-sim needs -kernel.
	"or1k-softmmu": noFiles,
	// -M g3beige: OpenBIOS, the default std VGA's BIOS, the default
	// ne2k_pci's iPXE ROM; mac99 the same; -M bamboo/sam460ex/ppce500:
	// their dtb and U-Boot, carried by qemu-system-data too but not
	// needed for the default machine.
	"ppc-softmmu": {Files: append(files("openbios-ppc", "vgabios-stdvga.bin", "efi-ne2k_pci.rom"),
		fwFile{Name: "qemu_vga.ndrv", Optional: "the Mac OS VGA driver -M mac99/g3beige offer Mac OS guests; other guests do not use it", Unshipped: true}),
		Packages: []string{"qemu-system-data", "seabios", "ipxe-qemu"}},
	"ppc64-softmmu":   ppc64,
	"riscv32-softmmu": riscv("32"),
	"riscv64-softmmu": riscv("64"),
	// No default machine; -M gdbsim-* need -kernel or -bios.
	"rx-softmmu": noFiles,
	// -M s390-ccw-virtio: the IPL loader s390-ccw.img (QEMU 9.2 and later
	// also net-boot with it; 7.2's s390-netboot.img is only for -boot n).
	"s390x-softmmu": {Files: files("s390-ccw.img"), Packages: []string{"qemu-system-data"}},
	// 10.x: no default machine; -M r2d boots -kernel. (7.2's default
	// shix needs shix_bios.bin, which ships nowhere, upstream neither.)
	"sh4-softmmu":   noFiles,
	"sh4eb-softmmu": noFiles,
	// -M SS-5: OpenBIOS; the tcx display's FCode ROM (QEMU,tcx.bin; a
	// warning without it) and cg3's for -vga cg3.
	"sparc-softmmu": {Files: files("openbios-sparc32", "QEMU,tcx.bin", "QEMU,cgthree.bin"), Packages: []string{"qemu-system-data"}},
	// -M sun4u: OpenBIOS and the default std VGA's BIOS.
	"sparc64-softmmu": {Files: files("openbios-sparc64", "vgabios-stdvga.bin"), Packages: []string{"qemu-system-data", "seabios"}},
	// No default machine; -M tricore_testboard/KIT_AURIX_TC277_TRB need
	// -kernel.
	"tricore-softmmu": noFiles,
	// -M sim needs -kernel.
	"xtensa-softmmu":   noFiles,
	"xtensaeb-softmmu": noFiles,
}

// firmwareFilesFor is the table's files of one target (false: the table
// does not know it).
func firmwareFilesFor(target string) ([]fwFile, bool) {
	t, ok := firmwareTable[target]
	return t.Files, ok
}

// FirmwareTargets lists the targets the table knows, sorted.
func FirmwareTargets() []string {
	out := make([]string, 0, len(firmwareTable))
	for t := range firmwareTable {
		out = append(out, t)
	}
	sort.Strings(out)
	return out
}

// FirmwarePackageNames lists every Debian package the table names,
// sorted (what the tests download for each suite).
func FirmwarePackageNames() []string {
	seen := map[string]bool{}
	var out []string
	for _, t := range firmwareTable {
		for _, p := range t.Packages {
			if !seen[p] {
				seen[p] = true
				out = append(out, p)
			}
		}
	}
	sort.Strings(out)
	return out
}
