package targets

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"qemupack/internal/config"
	"qemupack/internal/guest"
	"qemupack/internal/guest/debimage"
	"qemupack/internal/guest/e2e"
)

func vmProgress(s string) { say("%s", s) }

// vmSettings reads the settings the vm targets share: the state folder
// under the cache, and the VM settings.
func vmSettings() (root string, vm config.VM, cacheDir string, err error) {
	cfg, err := settings()
	if err != nil {
		return "", vm, "", err
	}
	return filepath.Join(cfg.CacheDir, "vm"), cfg.VM, cfg.CacheDir, nil
}

// VMUp boots a cloud image with the user's SSH key and pins its host keys.
func VMUp(ctx context.Context) error {
	start := time.Now()
	root, vm, _, err := vmSettings()
	if err != nil {
		return err
	}
	o := guest.Options{Name: vm.Name, StateRoot: root, Progress: vmProgress}
	guest.FromSettings(&o, vm)
	st, err := guest.Up(ctx, o)
	if err != nil {
		return err
	}
	done(fmt.Sprintf("vm %s is up: `go run mage.go vm:ssh` or %s", st.Name, strings.Join(st.SSH(false), " ")), start)
	return nil
}

// VMSsh opens a shell in the VM (or runs QEMUPACK_VM_CMD).
func VMSsh() error {
	root, vm, _, err := vmSettings()
	if err != nil {
		return err
	}
	st, err := guest.Load(root, vm.Name)
	if err != nil {
		return err
	}
	if !st.Running() {
		return fmt.Errorf("VM %s is not running (pid %d gone): start it with `go run mage.go vm:up`", vm.Name, st.PID)
	}
	var command []string
	if vm.Cmd != "" {
		command = []string{vm.Cmd}
	}
	args := st.SSH(false, command...)
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("vm:ssh: %s: %w", strings.Join(args, " "), err)
	}
	return nil
}

// VMDown powers the VM off (ACPI, then kill after a timeout).
func VMDown(ctx context.Context) error {
	start := time.Now()
	root, vm, _, err := vmSettings()
	if err != nil {
		return err
	}
	timeout := vm.DownTimeout
	if timeout == 0 {
		timeout = 60 * time.Second
	}
	st, err := guest.Down(ctx, root, vm.Name, timeout, vmProgress)
	if err != nil {
		return err
	}
	done(fmt.Sprintf("vm %s is down; logs kept in %s", vm.Name, st.Dir), start)
	return nil
}

// VMStatus shows whether the VM runs, its ports, host keys and logs.
func VMStatus(ctx context.Context) error {
	root, vm, _, err := vmSettings()
	if err != nil {
		return err
	}
	s, err := guest.Status(ctx, root, vm.Name)
	if err != nil {
		return err
	}
	fmt.Fprint(Stdout, s)
	return nil
}

// VMImage builds the small Debian test image into the cache.
func VMImage(ctx context.Context) error {
	start := time.Now()
	_, _, cache, err := vmSettings()
	if err != nil {
		return err
	}
	img, err := debimage.Build(ctx, cache, debimage.DefaultRecipe(), vmProgress)
	if err != nil {
		return err
	}
	st, _ := os.Stat(img.Disk)
	say("boot it: QEMUPACK_VM_IMAGE=%s QEMUPACK_VM_KERNEL=%s QEMUPACK_VM_INITRD=%s QEMUPACK_VM_APPEND=%q go run mage.go vm:up", img.Disk, img.Kernel, img.Initrd, img.Append)
	done(fmt.Sprintf("debian image %s (%.0f MiB)", img.Disk, float64(st.Size())/(1<<20)), start)
	return nil
}

// VME2e proves the guest runner end to end on a real Debian guest.
func VME2e(ctx context.Context) error {
	start := time.Now()
	_, vm, cache, err := vmSettings()
	if err != nil {
		return err
	}
	img, err := e2e.Image(ctx, cache, vmProgress)
	if err != nil {
		return err
	}
	imageTime := time.Since(start)
	work, err := os.MkdirTemp("", "qemupack-e2e-")
	if err != nil {
		return err
	}
	var qemu []string
	if vm.QEMU != "" {
		qemu = []string{vm.QEMU}
	}
	var lines []string
	for _, mode := range []string{"http", "iso"} {
		t0 := time.Now()
		res, err := e2e.Run(ctx, img, e2e.Options{CacheDir: cache, WorkDir: work, Mode: mode, QEMU: qemu,
			Accel: vm.Accel, Progress: vmProgress})
		if err != nil {
			return fmt.Errorf("vm:e2e %s (logs kept in %s): %w", mode, work, err)
		}
		lines = append(lines, fmt.Sprintf("  %-4s %s: host keys after %s, ssh %s, shutdown %s, total %s; user %s; served %v; %s; %s",
			mode, res.Accel, res.Boot.Round(time.Second), res.SSH.Round(100*time.Millisecond), res.Down.Round(100*time.Millisecond),
			time.Since(t0).Round(time.Second), res.User, res.Fetched, res.SerialCheck, res.Datasource))
	}
	os.RemoveAll(work)
	say("image: %s (%s)\n%s", img.Disk, imageTime.Round(time.Second), strings.Join(lines, "\n"))
	done("vm:e2e passed: both seeds booted a real cloud-init guest under restrict=on and ssh ran with pinned host keys", start)
	return nil
}
