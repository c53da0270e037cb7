package guest

import (
	"strings"
	"testing"
	"time"
)

func TestParseVMEnv(t *testing.T) {
	env := map[string]string{"QEMUPACK_VM_CPUS": "2", "QEMUPACK_VM_MEM": "2048", "QEMUPACK_VM_RESTRICT": "1", "QEMUPACK_VM_SEED": "ISO", "QEMUPACK_VM_TIMEOUT": "20m"}
	var o Options
	if err := ParseVMEnv(&o, func(k string) string { return env[k] }); err != nil {
		t.Fatal(err)
	}
	if o.CPUs != 2 || o.MemMiB != 2048 || !o.Restrict || o.SeedMode != "iso" || o.BootTimeout != 20*time.Minute {
		t.Errorf("%+v", o)
	}
	bad := map[string]string{"QEMUPACK_VM_CPUS": "two", "QEMUPACK_VM_MEM": "10", "QEMUPACK_VM_RESTRICT": "maybe", "QEMUPACK_VM_SEED": "floppy", "QEMUPACK_VM_ACCEL": "xen", "QEMUPACK_VM_TIMEOUT": "soon"}
	err := ParseVMEnv(&Options{}, func(k string) string { return bad[k] })
	if err == nil {
		t.Fatal("bad values accepted")
	}
	for k := range bad {
		if !strings.Contains(err.Error(), k) {
			t.Errorf("error does not name %s: %v", k, err)
		}
	}
}

func TestParseVMEnvTakesPathsAndQEMU(t *testing.T) {
	env := map[string]string{
		"QEMUPACK_VM_IMAGE": "/img/disk.qcow2", "QEMUPACK_VM_QEMU": "/opt/q/qemu-system-x86_64.exe",
		KeyEnv: "/home/u/.ssh/id_ed25519.pub", "QEMUPACK_VM_SEED": "iso",
	}
	var o Options
	if err := ParseVMEnv(&o, func(k string) string { return env[k] }); err != nil {
		t.Fatal(err)
	}
	if o.Image != "/img/disk.qcow2" || len(o.QEMU) != 1 || o.QEMU[0] != "/opt/q/qemu-system-x86_64.exe" ||
		o.PublicKeyFile != "/home/u/.ssh/id_ed25519.pub" || o.SeedMode != "iso" || o.Kernel != "" {
		t.Errorf("options: %+v", o)
	}
}
