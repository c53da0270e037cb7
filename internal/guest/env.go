package guest

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// ParseVMEnv fills o from the QEMUPACK_VM_* variables (getenv is os.Getenv
// in real use): paths and strings as given, numbers and switches checked.
// Every bad value is reported at once.
func ParseVMEnv(o *Options, getenv func(string) string) error {
	var problems []string
	num := func(key string, min, max int, dst *int) {
		v := strings.TrimSpace(getenv(key))
		if v == "" {
			return
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < min || n > max {
			problems = append(problems, fmt.Sprintf("%s=%q: give a whole number from %d to %d", key, v, min, max))
			return
		}
		*dst = n
	}
	num("QEMUPACK_VM_CPUS", 1, 64, &o.CPUs)
	num("QEMUPACK_VM_MEM", 256, 1<<20, &o.MemMiB)
	switch v := strings.ToLower(strings.TrimSpace(getenv("QEMUPACK_VM_RESTRICT"))); v {
	case "", "0", "no", "false":
	case "1", "yes", "true":
		o.Restrict = true
	default:
		problems = append(problems, fmt.Sprintf("QEMUPACK_VM_RESTRICT=%q: use 1 (the guest reaches only the seed server and is reached only by ssh) or 0", v))
	}
	switch v := strings.ToLower(strings.TrimSpace(getenv("QEMUPACK_VM_SEED"))); v {
	case "", "http", "iso":
		o.SeedMode = v
	default:
		problems = append(problems, fmt.Sprintf("QEMUPACK_VM_SEED=%q: use http (seed server, SMBIOS) or iso (cidata CD-ROM)", v))
	}
	switch v := strings.ToLower(strings.TrimSpace(getenv("QEMUPACK_VM_ACCEL"))); v {
	case "", "auto", "kvm", "tcg", "whpx", "hvf":
		o.Accel = v
	default:
		problems = append(problems, fmt.Sprintf("QEMUPACK_VM_ACCEL=%q: use auto, kvm, tcg, whpx or hvf", v))
	}
	if v := strings.TrimSpace(getenv("QEMUPACK_VM_TIMEOUT")); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			problems = append(problems, fmt.Sprintf("QEMUPACK_VM_TIMEOUT=%q: give a duration such as 15m", v))
		} else {
			o.BootTimeout = d
		}
	}
	for key, dst := range map[string]*string{
		"QEMUPACK_VM_IMAGE": &o.Image, "QEMUPACK_VM_KERNEL": &o.Kernel, "QEMUPACK_VM_INITRD": &o.Initrd,
		"QEMUPACK_VM_APPEND": &o.Append, "QEMUPACK_VM_QEMU_IMG": &o.QEMUImg, KeyEnv: &o.PublicKeyFile,
		"QEMUPACK_VM_MAKESTEP": &o.Makestep,
	} {
		if v := getenv(key); v != "" {
			*dst = v
		}
	}
	if q := getenv("QEMUPACK_VM_QEMU"); q != "" {
		o.QEMU = []string{q}
	}
	if len(problems) > 0 {
		return fmt.Errorf("VM settings from the environment:\n  %s", strings.Join(problems, "\n  "))
	}
	return nil
}
