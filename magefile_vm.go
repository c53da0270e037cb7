//go:build mage

package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/magefile/mage/mg"

	"qemupack/internal/guest"
	"qemupack/internal/guest/debimage"
	"qemupack/internal/guest/e2e"
)

// Vm runs cloud images: a NoCloud seed with your SSH key, host keys pinned.
type Vm mg.Namespace

// vmEnv reads the QEMUPACK_VM_* variables shared by the vm targets.
func vmEnv() (root, name string, err error) {
	cfg, err := settings()
	if err != nil {
		return "", "", err
	}
	name = os.Getenv("QEMUPACK_VM_NAME")
	if name == "" {
		name = "default"
	}
	return filepath.Join(cfg.CacheDir, "vm"), name, nil
}

func vmProgress(s string) { fmt.Println(s) }

// Up boots a cloud image with your SSH key injected and its host keys pinned. Reads QEMUPACK_VM_IMAGE (required), QEMUPACK_VM_KERNEL, QEMUPACK_VM_INITRD, QEMUPACK_VM_APPEND, QEMUPACK_VM_QEMU, QEMUPACK_VM_QEMU_IMG, QEMUPACK_VM_ACCEL (auto|kvm|tcg|whpx), QEMUPACK_VM_CPUS, QEMUPACK_VM_MEM (MiB), QEMUPACK_VM_SEED (http|iso), QEMUPACK_VM_RESTRICT (1: no guest traffic leaves the machine), QEMUPACK_VM_PUBKEY, QEMUPACK_VM_MAKESTEP ("1 -1", or off), QEMUPACK_VM_TIMEOUT (default 15m), QEMUPACK_VM_NAME, QEMUPACK_CACHE.
func (Vm) Up(ctx context.Context) error {
	start := time.Now()
	root, name, err := vmEnv()
	if err != nil {
		return err
	}
	o := guest.Options{Name: name, StateRoot: root, Progress: vmProgress}
	if err := guest.ParseVMEnv(&o, os.Getenv); err != nil {
		return err
	}
	st, err := guest.Up(ctx, o)
	if err != nil {
		return err
	}
	done(fmt.Sprintf("vm %s is up: `mage vm:ssh` or %s", st.Name, strings.Join(st.SSH(false), " ")), start)
	return nil
}

// Ssh opens a shell in the VM (or runs QEMUPACK_VM_CMD), trusting only the host keys pinned at vm:up. Reads QEMUPACK_VM_CMD, QEMUPACK_VM_NAME, QEMUPACK_CACHE.
func (Vm) Ssh() error {
	root, name, err := vmEnv()
	if err != nil {
		return err
	}
	st, err := guest.Load(root, name)
	if err != nil {
		return err
	}
	if !st.Running() {
		return fmt.Errorf("VM %s is not running (pid %d gone): start it with `mage vm:up`", name, st.PID)
	}
	var command []string
	if c := os.Getenv("QEMUPACK_VM_CMD"); c != "" {
		command = []string{c}
	}
	args := st.SSH(false, command...)
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("vm:ssh: %s: %w", strings.Join(args, " "), err)
	}
	return nil
}

// Down shuts the VM down (ACPI power button via QMP; killed after QEMUPACK_VM_DOWN_TIMEOUT, default 60s) and removes its overlay. Reads QEMUPACK_VM_NAME, QEMUPACK_VM_DOWN_TIMEOUT, QEMUPACK_CACHE.
func (Vm) Down(ctx context.Context) error {
	start := time.Now()
	root, name, err := vmEnv()
	if err != nil {
		return err
	}
	timeout := 60 * time.Second
	if v := os.Getenv("QEMUPACK_VM_DOWN_TIMEOUT"); v != "" {
		if timeout, err = time.ParseDuration(v); err != nil {
			return fmt.Errorf("QEMUPACK_VM_DOWN_TIMEOUT=%q: give a duration such as 60s", v)
		}
	}
	st, err := guest.Down(ctx, root, name, timeout, vmProgress)
	if err != nil {
		return err
	}
	done(fmt.Sprintf("vm %s is down; logs kept in %s", name, st.Dir), start)
	return nil
}

// Status shows whether the VM runs, its ports, pinned host keys and logs. Reads QEMUPACK_VM_NAME, QEMUPACK_CACHE.
func (Vm) Status(ctx context.Context) error {
	root, name, err := vmEnv()
	if err != nil {
		return err
	}
	s, err := guest.Status(ctx, root, name)
	if err != nil {
		return err
	}
	fmt.Print(s)
	return nil
}

// Image builds the small Debian test image (debootstrap + cloud-init + openssh + kernel) into the cache; needs root and Debian's archive. Reads QEMUPACK_CACHE.
func (Vm) Image(ctx context.Context) error {
	start := time.Now()
	cfg, err := settings()
	if err != nil {
		return err
	}
	img, err := debimage.Build(ctx, cfg.CacheDir, debimage.DefaultRecipe(), vmProgress)
	if err != nil {
		return err
	}
	st, _ := os.Stat(img.Disk)
	fmt.Printf("boot it: QEMUPACK_VM_IMAGE=%s QEMUPACK_VM_KERNEL=%s QEMUPACK_VM_INITRD=%s QEMUPACK_VM_APPEND=%q mage vm:up\n", img.Disk, img.Kernel, img.Initrd, img.Append)
	done(fmt.Sprintf("debian image %s (%.0f MiB)", img.Disk, float64(st.Size())/(1<<20)), start)
	return nil
}

// E2e proves the guest runner end to end: builds the Debian image, boots it under restrict=on with the seed over HTTP and then from a cidata ISO, checks key injection, host-key pinning and ssh. Reads QEMUPACK_VM_QEMU, QEMUPACK_VM_ACCEL, QEMUPACK_CACHE.
func (Vm) E2e(ctx context.Context) error {
	start := time.Now()
	cfg, err := settings()
	if err != nil {
		return err
	}
	img, err := e2e.Image(ctx, cfg.CacheDir, vmProgress)
	if err != nil {
		return err
	}
	imageTime := time.Since(start)
	work, err := os.MkdirTemp("", "qemupack-e2e-")
	if err != nil {
		return err
	}
	var qemu []string
	if q := os.Getenv("QEMUPACK_VM_QEMU"); q != "" {
		qemu = []string{q}
	}
	var lines []string
	for _, mode := range []string{"http", "iso"} {
		t0 := time.Now()
		res, err := e2e.Run(ctx, img, e2e.Options{CacheDir: cfg.CacheDir, WorkDir: work, Mode: mode, QEMU: qemu,
			Accel: os.Getenv("QEMUPACK_VM_ACCEL"), Progress: vmProgress})
		if err != nil {
			return fmt.Errorf("vm:e2e %s (logs kept in %s): %w", mode, work, err)
		}
		lines = append(lines, fmt.Sprintf("  %-4s %s: host keys after %s, ssh %s, shutdown %s, total %s; user %s; served %v; %s; %s",
			mode, res.Accel, res.Boot.Round(time.Second), res.SSH.Round(100*time.Millisecond), res.Down.Round(100*time.Millisecond),
			time.Since(t0).Round(time.Second), res.User, res.Fetched, res.SerialCheck, res.Datasource))
	}
	os.RemoveAll(work)
	fmt.Printf("image: %s (%s)\n%s\n", img.Disk, imageTime.Round(time.Second), strings.Join(lines, "\n"))
	done("vm:e2e passed: both seeds booted a real cloud-init guest under restrict=on and ssh ran with pinned host keys", start)
	return nil
}
