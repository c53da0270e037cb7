package guest

import (
	"testing"
	"time"

	"qemupack/internal/config"
)

func settings(t *testing.T, env map[string]string) config.VM {
	t.Helper()
	c, err := config.FromEnv(t.TempDir(), func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	return c.VM
}

func TestFromSettings(t *testing.T) {
	vm := settings(t, map[string]string{"QEMUPACK_VM_CPUS": "2", "QEMUPACK_VM_MEM": "2048", "QEMUPACK_VM_RESTRICT": "1", "QEMUPACK_VM_SEED": "ISO", "QEMUPACK_VM_TIMEOUT": "20m"})
	var o Options
	FromSettings(&o, vm)
	if o.CPUs != 2 || o.MemMiB != 2048 || !o.Restrict || o.SeedMode != "iso" || o.BootTimeout != 20*time.Minute {
		t.Errorf("%+v", o)
	}
}

func TestFromSettingsTakesPathsAndQEMU(t *testing.T) {
	vm := settings(t, map[string]string{
		"QEMUPACK_VM_IMAGE": "/img/disk.qcow2", "QEMUPACK_VM_QEMU": "/opt/q/qemu-system-x86_64.exe",
		KeyEnv: "/home/u/.ssh/id_ed25519.pub", "QEMUPACK_VM_SEED": "iso",
	})
	o := Options{CPUs: 3}
	FromSettings(&o, vm)
	if o.Image != "/img/disk.qcow2" || len(o.QEMU) != 1 || o.QEMU[0] != "/opt/q/qemu-system-x86_64.exe" ||
		o.PublicKeyFile != "/home/u/.ssh/id_ed25519.pub" || o.SeedMode != "iso" || o.Kernel != "" || o.CPUs != 3 {
		t.Errorf("options: %+v", o)
	}
}
