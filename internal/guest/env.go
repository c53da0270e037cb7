package guest

import (
	"qemupack/internal/config"
)

// FromSettings fills o from the VM settings (config reads and checks the
// QEMUPACK_VM_* variables); unset settings keep o's values.
func FromSettings(o *Options, vm config.VM) {
	if vm.CPUs > 0 {
		o.CPUs = vm.CPUs
	}
	if vm.MemMiB > 0 {
		o.MemMiB = vm.MemMiB
	}
	o.Restrict = o.Restrict || vm.Restrict
	if vm.Seed != "" {
		o.SeedMode = vm.Seed
	}
	if vm.Accel != "" {
		o.Accel = vm.Accel
	}
	if vm.Timeout > 0 {
		o.BootTimeout = vm.Timeout
	}
	for dst, v := range map[*string]string{
		&o.Image: vm.Image, &o.Kernel: vm.Kernel, &o.Initrd: vm.Initrd, &o.Append: vm.Append,
		&o.QEMUImg: vm.QEMUImg, &o.PublicKeyFile: vm.PubKey, &o.Makestep: vm.Makestep,
	} {
		if v != "" {
			*dst = v
		}
	}
	if vm.QEMU != "" {
		o.QEMU = []string{vm.QEMU}
	}
}
