package guest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"
)

// probeBootSector is a 512-byte boot sector that writes "QPOK" to the
// first serial port and leaves QEMU through isa-debug-exit: if it shows,
// the accelerator really runs guest code (an openable /dev/kvm does not
// prove that).
func probeBootSector() []byte {
	b := make([]byte, 512)
	code := []byte{0xba, 0xf8, 0x03} // mov dx, 0x3f8
	for _, c := range []byte("QPOK") {
		code = append(code, 0xb0, c, 0xee) // mov al, c; out dx, al
	}
	code = append(code,
		0xba, 0xf4, 0x00, // mov dx, 0xf4
		0xb0, 0x00, // mov al, 0
		0xee,       // out dx, al: QEMU exits
		0xf4,       // hlt
		0xeb, 0xfd, // jmp back to hlt
	)
	copy(b, code)
	b[510], b[511] = 0x55, 0xaa
	return b
}

// ResolveAccel picks the accelerator: want when it is not "auto" or "";
// else KVM when a probe guest really runs under it, TCG otherwise. why says
// how it was chosen, for the user.
func ResolveAccel(ctx context.Context, want string, qemu []string, workDir string) (accel, why string, err error) {
	switch want {
	case "kvm", "tcg", "whpx", "hvf":
		return want, "asked for", nil
	case "", "auto":
	default:
		return "", "", fmt.Errorf("accelerator %q: use auto, kvm, tcg, whpx or hvf", want)
	}
	if runtime.GOOS != "linux" {
		return "tcg", "auto: only KVM is probed; set QEMUPACK_VM_ACCEL=whpx to try Windows' hypervisor", nil
	}
	if len(qemu) > 1 || strings.HasSuffix(strings.ToLower(qemu[0]), ".exe") {
		return "tcg", "auto: a Windows QEMU under wine cannot use KVM", nil
	}
	f, err := os.OpenFile("/dev/kvm", os.O_RDWR, 0)
	if err != nil {
		return "tcg", fmt.Sprintf("auto: /dev/kvm not usable (%v)", err), nil
	}
	f.Close()
	ok, detail := probeAccel(ctx, qemu, "kvm", workDir)
	if !ok {
		return "tcg", "auto: KVM probe guest did not run (" + detail + ")", nil
	}
	return "kvm", "auto: KVM probe guest ran", nil
}

// cpuFor is the CPU model used with an accelerator: the host's own under
// a hypervisor, everything TCG can emulate otherwise. The probe uses the
// same model as the boot: on some hosts KVM runs a plain CPU model but
// aborts on -cpu host (an MSR the hypervisor refuses).
func cpuFor(accel string) string {
	if accel == "kvm" || accel == "hvf" {
		return "host"
	}
	return "max"
}

// probeAccel boots the probe sector under accel, bounded by 20 s.
func probeAccel(ctx context.Context, qemu []string, accel, workDir string) (bool, string) {
	dir, err := os.MkdirTemp(workDir, ".accel-probe-")
	if err != nil {
		return false, err.Error()
	}
	defer os.RemoveAll(dir)
	disk := filepath.Join(dir, "probe.img")
	serial := filepath.Join(dir, "serial.log")
	if err := os.WriteFile(disk, probeBootSector(), 0o644); err != nil {
		return false, err.Error()
	}
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	args := append(append([]string(nil), qemu[1:]...),
		"-machine", "pc", "-accel", accel, "-cpu", cpuFor(accel), "-m", "16", "-nodefaults", "-display", "none",
		"-drive", "file="+esc(disk)+",format=raw,if=ide",
		"-chardev", "file,id=s0,path="+esc(serial), "-serial", "chardev:s0",
		"-device", "isa-debug-exit,iobase=0xf4,iosize=0x04", "-no-reboot")
	out, _ := exec.CommandContext(ctx, qemu[0], args...).CombinedOutput()
	got, _ := os.ReadFile(serial)
	if strings.Contains(string(got), "QPOK") {
		return true, ""
	}
	if ctx.Err() != nil {
		return false, "no output within 20 s"
	}
	return false, strings.TrimSpace(lastLine(string(out)))
}

func lastLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		return s[i+1:]
	}
	return s
}
