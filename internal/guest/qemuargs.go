package guest

import (
	"errors"
	"fmt"
	"strings"
)

// The address a restricted guest uses to reach the seed server: QEMU's
// guestfwd turns a connection to it into one to the server on the host.
const (
	guestFwdIP   = "10.0.2.100"
	guestFwdPort = 80
	// hostIP is the host's loopback as the guest sees it (user-mode net).
	hostIP = "10.0.2.2"
)

// BootSpec is everything the QEMU command line is made from.
type BootSpec struct {
	QEMU      []string // the program, after any wrapper (e.g. wine qemu-system-x86_64.exe)
	Name      string
	Accel     string // kvm, tcg, whpx, hvf
	CPUs      int
	MemMiB    int
	Disk      string // the overlay (qcow2)
	Kernel    string // optional: boot this kernel directly
	Initrd    string
	Append    string
	SerialLog string
	PidFile   string
	QMPPort   int  // QMP on 127.0.0.1
	SSHPort   int  // host loopback port forwarded to the guest's port 22
	Restrict  bool // no guest traffic leaves the machine; the seed comes through guestfwd
	SeedPort  int  // the seed server on the host's loopback (also collects the host keys)
	// SeedISO, when set, is a cidata ISO attached as a CD-ROM instead of the
	// SMBIOS pointer to the HTTP seed (the server still collects the keys).
	SeedISO string
}

// SeedBaseURL is the seed server's address as the guest sees it; it ends
// in '/', which cloud-init needs.
func SeedBaseURL(restrict bool, seedPort int) string {
	if restrict {
		return fmt.Sprintf("http://%s/", guestFwdIP)
	}
	return fmt.Sprintf("http://%s:%d/", hostIP, seedPort)
}

// Args returns QEMU's argument list (program first). It runs nothing, so
// the same spec always gives the same command line.
func (s BootSpec) Args() ([]string, error) {
	var problems []string
	if len(s.QEMU) == 0 {
		problems = append(problems, "no QEMU program")
	}
	if s.Disk == "" {
		problems = append(problems, "no disk")
	}
	if s.SerialLog == "" {
		problems = append(problems, "no serial log file")
	}
	for _, p := range []struct {
		name string
		v    int
	}{{"QMP port", s.QMPPort}, {"SSH port", s.SSHPort}, {"seed port", s.SeedPort}} {
		if p.v <= 0 || p.v > 65535 {
			problems = append(problems, fmt.Sprintf("%s %d is not a TCP port", p.name, p.v))
		}
	}
	switch s.Accel {
	case "kvm", "tcg", "whpx", "hvf":
	default:
		problems = append(problems, fmt.Sprintf("accelerator %q: use kvm, tcg, whpx or hvf", s.Accel))
	}
	if s.CPUs < 1 {
		problems = append(problems, fmt.Sprintf("%d CPUs", s.CPUs))
	}
	if s.MemMiB < 128 {
		problems = append(problems, fmt.Sprintf("%d MiB of memory is too little for a cloud image (give at least 512)", s.MemMiB))
	}
	if s.Kernel == "" && (s.Initrd != "" || s.Append != "") {
		problems = append(problems, "an initrd or kernel command line without a kernel")
	}
	if len(problems) > 0 {
		return nil, errors.New("qemu command line: " + strings.Join(problems, "; "))
	}

	cpu := cpuFor(s.Accel)
	a := append([]string(nil), s.QEMU...)
	if s.Name != "" {
		a = append(a, "-name", esc(s.Name))
	}
	a = append(a,
		// i440fx: its PIIX IDE has a driver in every x86 kernel, so the
		// cidata CD-ROM is seen (Debian's cloud kernel has no AHCI driver,
		// so on q35 the CD-ROM stays invisible and cloud-init falls back).
		"-machine", "pc",
		"-accel", s.Accel,
		"-cpu", cpu,
		"-smp", fmt.Sprint(s.CPUs),
		"-m", fmt.Sprint(s.MemMiB),
		"-nodefaults",
		// -nographic, but with the serial console in a file and no monitor
		// on stdio (the process runs detached).
		"-display", "none",
		"-chardev", "file,id=serial0,path="+esc(s.SerialLog),
		"-serial", "chardev:serial0",
		"-qmp", fmt.Sprintf("tcp:127.0.0.1:%d,server=on,wait=off", s.QMPPort),
		"-drive", "file="+esc(s.Disk)+",format=qcow2,if=virtio,discard=unmap",
		// Entropy for the guest's key generation, which otherwise can stall under TCG.
		"-device", "virtio-rng-pci",
	)
	if s.PidFile != "" {
		a = append(a, "-pidfile", s.PidFile)
	}
	if s.Kernel != "" {
		a = append(a, "-kernel", s.Kernel)
		if s.Initrd != "" {
			a = append(a, "-initrd", s.Initrd)
		}
		if s.Append != "" {
			a = append(a, "-append", s.Append)
		}
	}
	netdev := "user,id=net0"
	if s.Restrict {
		netdev += ",restrict=on"
	}
	netdev += fmt.Sprintf(",hostfwd=tcp:127.0.0.1:%d-:22", s.SSHPort)
	if s.Restrict {
		netdev += fmt.Sprintf(",guestfwd=tcp:%s:%d-tcp:127.0.0.1:%d", guestFwdIP, guestFwdPort, s.SeedPort)
	}
	// No option ROM on the NIC: nothing boots from the network, and a QEMU
	// without the iPXE ROMs (a bare Windows bundle) then still starts.
	a = append(a, "-netdev", netdev, "-device", "virtio-net-pci,netdev=net0,romfile=")
	if s.SeedISO != "" {
		a = append(a, "-drive", "file="+esc(s.SeedISO)+",format=raw,if=ide,media=cdrom,readonly=on")
	} else {
		// The value has ';' and '=', which QEMU's option parser passes on;
		// only ',' would need doubling, and a URL here has none.
		a = append(a, "-smbios", "type=1,serial=ds=nocloud-net;s="+SeedBaseURL(s.Restrict, s.SeedPort))
	}
	return a, nil
}

// esc doubles commas, QEMU's escape inside an option value.
func esc(s string) string { return strings.ReplaceAll(s, ",", ",,") }
