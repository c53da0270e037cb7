package pipeline

import (
	"archive/zip"
	"context"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"qemupack/internal/config"
	"qemupack/internal/debian"
	"qemupack/internal/smoke"
)

// AArch64KernelPackage is the Debian metapackage whose kernel the aarch64
// boot check uses.
const AArch64KernelPackage = "linux-image-arm64"

// aarch64Kernel returns an arm64 Linux kernel (vmlinuz) for the aarch64
// boot check, from <cache>/kernel/arm64: a vmlinuz-* already there, else
// the kernel package linux-image-arm64 depends on in the host's own
// Debian release, fetched through a private apt tree for arm64 (the
// host's apt knows amd64 only; no dpkg --add-architecture) and checked by
// apt against the signed index. Put a vmlinuz-* there by hand to test
// offline.
func aarch64Kernel(ctx context.Context, c config.Config, log func(string)) (string, error) {
	dir := filepath.Join(c.CacheDir, "kernel", "arm64")
	if ks, _ := filepath.Glob(filepath.Join(dir, "vmlinuz-*")); len(ks) > 0 {
		sort.Strings(ks)
		return ks[len(ks)-1], nil
	}
	if c.Offline {
		return "", fmt.Errorf("smoke: no arm64 kernel in %s and %s=1: put a vmlinuz-*-arm64 (from Debian's %s) there", dir, config.EnvOffline, AArch64KernelPackage)
	}
	t, err := debian.Open(ctx, c.CacheDir, debian.Options{Suites: []string{}, Architectures: []string{"arm64"}, Progress: log})
	if err != nil {
		return "", fmt.Errorf("smoke: the arm64 kernel for the aarch64 boot comes from Debian's archive: %w", err)
	}
	meta, err := t.BinaryVersions(ctx, AArch64KernelPackage)
	if err != nil {
		return "", fmt.Errorf("smoke: %w", err)
	}
	if len(meta) == 0 {
		return "", fmt.Errorf("smoke: Debian %s lists no %s", t.Distro.Codename, AArch64KernelPackage)
	}
	pkg := KernelDependency(meta[0].Depends)
	if pkg == "" {
		return "", fmt.Errorf("smoke: %s %s depends on no linux-image-* package (Depends: %q)", AArch64KernelPackage, meta[0].Version, meta[0].Depends)
	}
	vs, err := t.BinaryVersions(ctx, pkg)
	if err != nil {
		return "", fmt.Errorf("smoke: %w", err)
	}
	if len(vs) == 0 {
		return "", fmt.Errorf("smoke: Debian %s lists no %s (what %s depends on)", t.Distro.Codename, pkg, AArch64KernelPackage)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("smoke: %w", err)
	}
	if log != nil {
		log(fmt.Sprintf("smoke: downloading %s %s (arm64) for the aarch64 boot check", pkg, vs[0].Version))
	}
	deb, err := t.DownloadBinary(ctx, pkg, vs[0].Version, "arm64", dir)
	if err != nil {
		return "", fmt.Errorf("smoke: %w", err)
	}
	k, err := smoke.ExtractKernel(deb, dir)
	if err != nil {
		return "", err
	}
	os.Remove(deb) // 60 MB of modules; the vmlinuz is what is kept
	return k, nil
}

// KernelDependency is the linux-image-* package a kernel metapackage's
// Depends field names first ("linux-image-6.1.0-28-arm64 (= 6.1.119-1)").
func KernelDependency(depends string) string {
	for _, d := range strings.Split(depends, ",") {
		for _, alt := range strings.Split(d, "|") {
			name, _, _ := strings.Cut(strings.TrimSpace(alt), " ")
			name, _, _ = strings.Cut(name, ":")
			if strings.HasPrefix(name, "linux-image-") {
				return name
			}
		}
	}
	return ""
}

// archiveHas says whether the zip holds a program of that name in its top
// folder.
func archiveHas(archive, program string) (bool, error) {
	zr, err := zip.OpenReader(archive)
	if err != nil {
		return false, fmt.Errorf("smoke: %w", err)
	}
	defer zr.Close()
	for _, f := range zr.File {
		dir, name := path.Split(f.Name)
		if strings.EqualFold(name, program) && strings.Count(dir, "/") == 1 {
			return true, nil
		}
	}
	return false, nil
}
