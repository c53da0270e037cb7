package guest

import (
	"reflect"
	"strings"
	"testing"
)

func baseSpec() BootSpec {
	return BootSpec{
		QEMU: []string{"qemu-system-x86_64"}, Name: "qemupack-t", Accel: "tcg", CPUs: 1, MemMiB: 1024,
		Disk: "/vm/overlay.qcow2", SerialLog: "/vm/serial.log", PidFile: "/vm/qemu.pid",
		QMPPort: 4444, SSHPort: 2222, SeedPort: 8080,
	}
}

func TestArgsRestrictedHTTP(t *testing.T) {
	s := baseSpec()
	s.Restrict = true
	s.Kernel, s.Initrd, s.Append = "/k/vmlinuz", "/k/initrd.img", "root=/dev/vda console=ttyS0"
	got, err := s.Args()
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"qemu-system-x86_64", "-name", "qemupack-t",
		"-machine", "pc", "-accel", "tcg", "-cpu", "max", "-smp", "1", "-m", "1024",
		"-nodefaults", "-display", "none",
		"-chardev", "file,id=serial0,path=/vm/serial.log", "-serial", "chardev:serial0",
		"-qmp", "tcp:127.0.0.1:4444,server=on,wait=off",
		"-drive", "file=/vm/overlay.qcow2,format=qcow2,if=virtio,discard=unmap",
		"-device", "virtio-rng-pci",
		"-pidfile", "/vm/qemu.pid",
		"-kernel", "/k/vmlinuz", "-initrd", "/k/initrd.img", "-append", "root=/dev/vda console=ttyS0",
		"-netdev", "user,id=net0,restrict=on,hostfwd=tcp:127.0.0.1:2222-:22,guestfwd=tcp:10.0.2.100:80-tcp:127.0.0.1:8080",
		"-device", "virtio-net-pci,netdev=net0,romfile=",
		"-smbios", "type=1,serial=ds=nocloud-net;s=http://10.0.2.100/",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("argv:\n got %q\nwant %q", got, want)
	}
}

func TestArgsOpenNetISOAndKVM(t *testing.T) {
	s := baseSpec()
	s.Accel = "kvm"
	s.QEMU = []string{"wine", "C:/q/qemu-system-x86_64.exe"}
	s.Disk = "/a,b/overlay.qcow2"
	s.SeedISO = "/vm/seed.iso"
	got, err := s.Args()
	if err != nil {
		t.Fatal(err)
	}
	j := strings.Join(got, " ")
	for _, want := range []string{
		"wine C:/q/qemu-system-x86_64.exe -name",
		"-accel kvm -cpu host",
		"file=/a,,b/overlay.qcow2,format=qcow2", // comma doubled
		"-netdev user,id=net0,hostfwd=tcp:127.0.0.1:2222-:22 ",
		"-drive file=/vm/seed.iso,format=raw,if=ide,media=cdrom,readonly=on",
	} {
		if !strings.Contains(j, want) {
			t.Errorf("argv lacks %q:\n%s", want, j)
		}
	}
	for _, bad := range []string{"restrict", "guestfwd", "-smbios", "-kernel"} {
		if strings.Contains(j, bad) {
			t.Errorf("argv has %q:\n%s", bad, j)
		}
	}
	// Unrestricted without ISO: the guest reaches the host loopback directly.
	s.SeedISO = ""
	got, _ = s.Args()
	if j := strings.Join(got, " "); !strings.Contains(j, "-smbios type=1,serial=ds=nocloud-net;s=http://10.0.2.2:8080/") {
		t.Errorf("open net seed URL:\n%s", j)
	}
}

func TestArgsRejects(t *testing.T) {
	for name, mutate := range map[string]func(*BootSpec){
		"no qemu":           func(s *BootSpec) { s.QEMU = nil },
		"no disk":           func(s *BootSpec) { s.Disk = "" },
		"bad port":          func(s *BootSpec) { s.SSHPort = 70000 },
		"bad accel":         func(s *BootSpec) { s.Accel = "xen" },
		"tiny memory":       func(s *BootSpec) { s.MemMiB = 64 },
		"initrd, no kernel": func(s *BootSpec) { s.Initrd = "/x" },
		"no serial log":     func(s *BootSpec) { s.SerialLog = "" },
	} {
		s := baseSpec()
		mutate(&s)
		if _, err := s.Args(); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestSeedBaseURLEndsInSlash(t *testing.T) {
	for _, r := range []bool{true, false} {
		if u := SeedBaseURL(r, 1234); !strings.HasSuffix(u, "/") {
			t.Errorf("%s lacks the trailing / cloud-init needs", u)
		}
	}
}

func TestSSHArgsPinExactlyOneFile(t *testing.T) {
	got := SSHSpec{SSH: "ssh", User: "debian", Port: 2222, KnownHosts: "/vm/known_hosts", Identity: "/k/id", Batch: true}.SSHArgs("uname", "-a")
	want := []string{"ssh", "-p", "2222",
		"-o", "StrictHostKeyChecking=yes", "-o", "UserKnownHostsFile=/vm/known_hosts", "-o", "GlobalKnownHostsFile=none",
		"-o", "UpdateHostKeys=no", "-o", "CheckHostIP=no", "-o", "ConnectTimeout=20", "-o", "LogLevel=ERROR",
		"-i", "/k/id", "-o", "IdentitiesOnly=yes", "-o", "BatchMode=yes", "debian@127.0.0.1", "--", "uname", "-a"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("ssh argv:\n got %q\nwant %q", got, want)
	}
}
