package bundle

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"qemupack/internal/config"
)

// complaint is how QEMU says a firmware file is missing: "failed to find
// romfile", "could not load PowerPC bios", "Could not find LPAR
// firmware", "no palcode provided", "could not find stage1 bootloader",
// "Unable to load the RISC-V firmware", "could not load prom", "no
// firmware provided".
var complaint = regexp.MustCompile(`(?i)romfile|firmware|palcode|bootloader|bios|\bprom\b|unable to load|could not load`)

// TestFirmwareTableStartsDebianQEMU checks the table with real emulators:
// Debian's own Linux builds of QEMU 7.2 (bookworm's qemu-system-*), NOT
// our Windows build. For every target the table knows and the folder has
// a binary of, the default machine is started (-S, nothing runs) with -L
// pointing at a folder holding only the table's files for that target,
// taken from bookworm's packages the way the bundle takes them: QEMU must
// not complain about a missing file (only about one the table marks
// optional and bookworm lacks). Started again with an empty -L folder, a
// target whose entry lists files must complain.
//
// QEMUPACK_TEST_DEBIAN_QEMU names a folder holding the binaries, copied
// out of the unpacked .debs with no share/ beside them (Debian's builds
// also search ../share/qemu, ../share/seabios and ../lib/ipxe/qemu next to
// the binary; the test refuses a folder where those exist):
//
//	apt-get download qemu-system-misc qemu-system-ppc qemu-system-sparc qemu-system-arm qemu-system-mips qemu-system-x86
//	for d in *.deb; do dpkg-deb -x $d x; done; mkdir -p q/bin; cp x/usr/bin/qemu-system-* q/bin/
//	QEMUPACK_TEST_DEBIAN_QEMU=$PWD/q/bin go test ./internal/bundle -run StartsDebianQEMU -v
//
// The firmware packages come from the test mirror's firmware-debs/bookworm
// (testprep.FirmwareDebs).
func TestFirmwareTableStartsDebianQEMU(t *testing.T) {
	bin := os.Getenv("QEMUPACK_TEST_DEBIAN_QEMU")
	debs := filepath.Join(os.Getenv(config.EnvTestMirror), "firmware-debs", "bookworm")
	if bin == "" {
		t.Skip("set QEMUPACK_TEST_DEBIAN_QEMU to a folder of Debian bookworm's qemu-system-* binaries (see the comment)")
	}
	if m, _ := filepath.Glob(filepath.Join(debs, "*.deb")); len(m) == 0 {
		t.Skipf("no bookworm firmware packages in %s: run the test preparation (go run mage.go test)", debs)
	}
	for _, d := range []string{"../share/qemu", "../share/seabios", "../lib/ipxe/qemu"} {
		if _, err := os.Stat(filepath.Join(bin, d)); err == nil {
			t.Fatalf("%s exists beside the binaries: QEMU would find firmware there, not only in -L", filepath.Join(bin, d))
		}
	}
	pkgs := unpackSuite(t, debs, "bookworm")
	empty := t.TempDir()
	ran := 0
	for _, tgt := range FirmwareTargets() {
		exe := filepath.Join(bin, "qemu-system-"+strings.TrimSuffix(tgt, "-softmmu"))
		if _, err := os.Stat(exe); err != nil {
			continue
		}
		ran++
		t.Run(tgt, func(t *testing.T) {
			e := firmwareTable[tgt]
			dir := t.TempDir()
			var fws []Firmware
			for _, p := range e.Packages {
				fws = append(fws, pkgs[p]...)
			}
			// 7.2's build makes no option ROMs: its qemu-system-data has them.
			built := pkgs["qemu-system-data"]
			lacking := map[string]bool{} // optional files bookworm lacks
			for _, f := range e.Files {
				search := fws
				if f.Built {
					search = built
				}
				p, _, err := findFirmware(search, f.Name)
				if err != nil {
					t.Fatal(err)
				}
				if p == "" {
					if f.Optional == "" {
						t.Fatalf("bookworm's %s lack %s", strings.Join(e.Packages, ", "), f.Name)
					}
					lacking[f.Name] = true
					continue
				}
				b, err := os.ReadFile(p)
				if err != nil {
					t.Fatal(err)
				}
				os.WriteFile(filepath.Join(dir, f.Name), b, 0o644)
			}
			if h := hostDirs(t, exe, dir); len(h) > 0 {
				t.Skipf("%s also reads firmware from %s on this machine (a Debian wrapper into /usr/libexec): -L alone does not decide what it finds", filepath.Base(exe), strings.Join(h, ", "))
			}
			out, started := startQEMU(t, exe, dir, testMachine[tgt])
			if strings.Contains(out, "could not load module") {
				t.Skipf("this copy of %s cannot load its accelerator module (Debian builds it as one): %s", filepath.Base(exe), out)
			}
			if f := unshipped72[tgt]; f != "" && !started && strings.Contains(out, f) {
				t.Logf("QEMU 7.2's default machine needs %s, which ships nowhere (see unshipped72): %s", f, firstLine(out))
			} else if !started && complaint.MatchString(out) {
				named := false
				for n := range lacking {
					named = named || strings.Contains(out, n)
				}
				if !named {
					t.Errorf("with the table's files in -L, %s complains:\n%s", filepath.Base(exe), out)
				} else {
					t.Logf("complains as expected about what bookworm lacks: %s", firstLine(out))
				}
			}
			t.Logf("with %d files: %s", len(e.Files)-len(lacking), startedOr(started, out))
			if len(e.Files) == 0 || len(e.Files) == len(lacking) {
				return
			}
			out, started = startQEMU(t, exe, empty, testMachine[tgt])
			if started || !complaint.MatchString(out) {
				t.Errorf("with an empty -L, %s does not complain about missing firmware (the table lists %d files): %s", filepath.Base(exe), len(e.Files), startedOr(started, out))
			} else {
				t.Logf("empty -L: %s", firstLine(out))
			}
		})
	}
	if ran == 0 {
		t.Fatalf("no qemu-system-* binary of a known target in %s", bin)
	}
}

// testMachine is the machine started for a target without a default one
// whose table entry is for a particular machine.
var testMachine = map[string]string{"aarch64-softmmu": "virt", "arm-softmmu": "virt"}

// unshipped72 are files QEMU 7.2's default machine of a target loads
// that no Debian package (nor QEMU's release) ships, which the table
// leaves out because 10.x no longer has that machine: -M shix, 7.2's
// default sh4 machine, removed since (10.x has no default sh4 machine;
// -M r2d boots -kernel without firmware).
var unshipped72 = map[string]string{"sh4-softmmu": "shix_bios.bin", "sh4eb-softmmu": "shix_bios.bin"}

// hostDirs are the folders besides -L where the binary looks for firmware
// that exist on this machine (its -L help listing).
func hostDirs(t *testing.T, exe, dir string) []string {
	t.Helper()
	b, err := exec.Command(exe, "-L", dir, "-L", "help").Output()
	if err != nil {
		t.Fatalf("%s -L help: %v", exe, err)
	}
	var out []string
	for _, d := range strings.Fields(string(b)) {
		if d == dir {
			continue
		}
		if _, err := os.Stat(d); err == nil {
			out = append(out, d)
		}
	}
	return out
}

// startQEMU starts the default machine stopped (-S) with no display,
// monitor or serial port; started says it was still running after 3 s
// (killed then), else out is what it said when it stopped.
func startQEMU(t *testing.T, exe, dir, machine string) (out string, started bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	args := []string{"-L", dir, "-display", "none", "-S", "-monitor", "none", "-serial", "none"}
	if machine != "" {
		args = append(args, "-M", machine)
	}
	cmd := exec.CommandContext(ctx, exe, args...)
	cmd.Dir = dir
	b, err := cmd.CombinedOutput()
	if ctx.Err() != nil {
		return string(b), true
	}
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(b)), false
}

func firstLine(s string) string {
	l, _, _ := strings.Cut(s, "\n")
	return l
}

func startedOr(started bool, out string) string {
	if started {
		return "started (still running after 3 s)"
	}
	return "stopped: " + firstLine(out)
}
