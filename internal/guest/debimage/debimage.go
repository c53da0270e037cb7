// Package debimage builds a small Debian cloud-style disk image from
// Debian's archive alone: debootstrap (minbase), then cloud-init, an SSH
// server and a kernel installed with apt inside the tree, then an ext4 file
// system made straight from the tree (mkfs.ext4 -d) and converted to a
// compressed qcow2. The kernel and initrd are copied out beside the disk, so
// the guest boots with -kernel/-initrd and root=/dev/vda (the disk has no
// partition table and no boot loader).
//
// It is what the end-to-end guest test boots: a real cloud-init that reads a
// real NoCloud seed. It needs root (debootstrap, chroot) and the network to
// the Debian mirror; the result is cached under a key made from the recipe,
// so a second build costs nothing.
package debimage

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"time"

	"qemupack/internal/atomicfile"
	"qemupack/internal/run"
)

// Recipe says what goes into the image. Its hash names the cache folder.
type Recipe struct {
	Suite    string   // Debian release, e.g. bookworm
	Mirror   string   // archive URL
	Packages []string // installed with apt after debootstrap
	SizeMiB  int      // size of the ext4 file system (sparse; the qcow2 holds only what is used)
}

// DefaultRecipe is the image the end-to-end test boots: what the trials
// showed to work (ifupdown + isc-dhcp-client so cloud-init's network
// config has a renderer; curl for the host-key POST), plus chrony (so the
// test sees the seed's makestep applied) and dbus, without
// which systemd-logind does not run and the ACPI power button (QMP
// system_powerdown) is ignored.
func DefaultRecipe() Recipe {
	return Recipe{
		Suite:  "bookworm",
		Mirror: "http://deb.debian.org/debian",
		Packages: []string{
			"systemd-sysv", "udev", "dbus", "cloud-init", "openssh-server", "curl", "chrony",
			"linux-image-cloud-amd64", "ifupdown", "isc-dhcp-client",
		},
		SizeMiB: 2048,
	}
}

// recipeVersion changes whenever the steps below change what they make.
const recipeVersion = "3"

// Key is the hash that names the image's cache folder.
func (r Recipe) Key() string {
	pk := append([]string(nil), r.Packages...)
	sort.Strings(pk)
	h := sha256.Sum256([]byte(strings.Join([]string{recipeVersion, r.Suite, r.Mirror, strings.Join(pk, " "), fmt.Sprint(r.SizeMiB)}, "\n")))
	return hex.EncodeToString(h[:])[:16]
}

// Image is a built image: the disk and what boots it.
type Image struct {
	Dir    string // the cache folder
	Disk   string // qcow2, root file system directly on the device (no partitions)
	Kernel string
	Initrd string
	Append string // kernel command line that mounts Disk as root
}

func imageAt(dir string) Image {
	return Image{
		Dir:    dir,
		Disk:   filepath.Join(dir, "disk.qcow2"),
		Kernel: filepath.Join(dir, "vmlinuz"),
		Initrd: filepath.Join(dir, "initrd.img"),
		Append: "root=/dev/vda rw console=ttyS0,115200n8",
	}
}

// Cached returns the image for r under cacheDir if a complete one is there.
func Cached(cacheDir string, r Recipe) (Image, bool) {
	img := imageAt(filepath.Join(cacheDir, "guest-images", "debian-"+r.Suite+"-"+r.Key()))
	for _, p := range []string{img.Disk, img.Kernel, img.Initrd} {
		if _, err := os.Stat(p); err != nil {
			return img, false
		}
	}
	return img, true
}

// Build makes the image for r under cacheDir (or returns the cached one).
// progress receives one line per step; the full output of every tool goes
// to build.log in the cache folder's work area.
func Build(ctx context.Context, cacheDir string, r Recipe, progress func(string)) (Image, error) {
	if progress == nil {
		progress = func(string) {}
	}
	if img, ok := Cached(cacheDir, r); ok {
		progress("debian image: cached at " + img.Dir)
		return img, nil
	}
	if runtime.GOOS != "linux" {
		return Image{}, errors.New("debian image: building needs Linux (debootstrap and chroot)")
	}
	if os.Geteuid() != 0 {
		return Image{}, errors.New("debian image: building needs root (debootstrap and chroot); run as root or use an image built elsewhere")
	}
	for _, tool := range []string{"debootstrap", "mkfs.ext4", "qemu-img", "chroot"} {
		if _, err := exec.LookPath(tool); err != nil {
			pkg := map[string]string{"debootstrap": "debootstrap", "mkfs.ext4": "e2fsprogs", "qemu-img": "qemu-utils", "chroot": "coreutils"}[tool]
			return Image{}, fmt.Errorf("debian image: %s not found on PATH: install the Debian package %s", tool, pkg)
		}
	}
	final, _ := Cached(cacheDir, r)
	parent := filepath.Dir(final.Dir)
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return Image{}, fmt.Errorf("debian image: %w", err)
	}
	work, err := os.MkdirTemp(parent, ".build-")
	if err != nil {
		return Image{}, fmt.Errorf("debian image: %w", err)
	}
	defer os.RemoveAll(work)
	root := filepath.Join(work, "root")
	out := filepath.Join(work, "out")
	if err := os.MkdirAll(out, 0o755); err != nil {
		return Image{}, fmt.Errorf("debian image: %w", err)
	}
	logDir := filepath.Join(parent, "logs")
	step := func(name string, args ...string) error {
		t0 := time.Now()
		progress(fmt.Sprintf("debian image: %s ...", name))
		logFile := filepath.Join(logDir, strings.ReplaceAll(name, " ", "-")+".log")
		err := run.Run(ctx, run.Cmd{
			Args: args,
			Env:  run.Environ("DEBIAN_FRONTEND=noninteractive", "LC_ALL=C.UTF-8", "PATH=/usr/sbin:/usr/bin:/sbin:/bin"),
			Log:  logFile,
		})
		if err != nil {
			return fmt.Errorf("debian image: %s: %w", name, err)
		}
		progress(fmt.Sprintf("debian image: %s done (%s)", name, time.Since(t0).Round(time.Second)))
		return nil
	}

	if err := step("debootstrap", "debootstrap", "--variant=minbase", r.Suite, root, r.Mirror); err != nil {
		return Image{}, err
	}
	// No service may start inside the build tree.
	if err := writeFile(filepath.Join(root, "usr/sbin/policy-rc.d"), "#!/bin/sh\nexit 101\n", 0o755); err != nil {
		return Image{}, err
	}
	install := append([]string{"chroot", root, "apt-get", "install", "-y", "-q", "--no-install-recommends"}, r.Packages...)
	if err := step("apt-get update", "chroot", root, "apt-get", "update", "-q"); err != nil {
		return Image{}, err
	}
	if err := step("apt-get install", install...); err != nil {
		return Image{}, err
	}
	if err := step("apt-get clean", "chroot", root, "apt-get", "clean"); err != nil {
		return Image{}, err
	}
	if err := configure(root, r); err != nil {
		return Image{}, err
	}
	// The kernel and initrd go beside the disk: the disk has no boot loader.
	for _, k := range []struct{ link, dst string }{{"vmlinuz", "vmlinuz"}, {"initrd.img", "initrd.img"}} {
		src, err := resolveInRoot(root, k.link)
		if err != nil {
			return Image{}, err
		}
		if err := atomicfile.Copy(src, filepath.Join(out, k.dst)); err != nil {
			return Image{}, fmt.Errorf("debian image: copy %s out: %w", k.link, err)
		}
	}
	raw := filepath.Join(work, "root.ext4")
	if err := step("mkfs.ext4", "mkfs.ext4", "-q", "-F", "-L", "root", "-d", root, raw, fmt.Sprintf("%dM", r.SizeMiB)); err != nil {
		return Image{}, err
	}
	if err := step("qemu-img convert", "qemu-img", "convert", "-c", "-f", "raw", "-O", "qcow2", raw, filepath.Join(out, "disk.qcow2")); err != nil {
		return Image{}, err
	}
	if err := writeFile(filepath.Join(out, "recipe.txt"), fmt.Sprintf("suite %s\nmirror %s\npackages %s\nsize %d MiB\nbuilt %s\n",
		r.Suite, r.Mirror, strings.Join(r.Packages, " "), r.SizeMiB, time.Now().UTC().Format(time.RFC3339)), 0o644); err != nil {
		return Image{}, err
	}
	os.RemoveAll(final.Dir) // an incomplete earlier attempt
	if err := os.Rename(out, final.Dir); err != nil {
		return Image{}, fmt.Errorf("debian image: %w", err)
	}
	return final, nil
}

// configure makes the tree behave like a cloud image on first boot.
func configure(root string, r Recipe) error {
	files := map[string]string{
		// Only NoCloud: no waiting for cloud metadata services that are not there.
		// C.UTF-8 is built into libc; cloud-init's default (en_US.UTF-8)
		// needs the locales package and fails without it.
		"etc/cloud/cloud.cfg.d/90-qemupack.cfg": "datasource_list: [ NoCloud, None ]\nlocale: C.UTF-8\n",
		"etc/fstab":                             "/dev/vda / ext4 rw,discard,errors=remount-ro 0 1\n",
		"etc/hostname":                          "debian\n",
		"etc/hosts":                             "127.0.0.1 localhost\n::1 localhost ip6-localhost ip6-loopback\n",
		// The host's resolver settings must not leak into the image.
		"etc/resolv.conf": "",
		// Each boot of a copy gets its own machine id.
		"etc/machine-id": "",
		"etc/network/interfaces": "# cloud-init writes the network configuration to interfaces.d\n" +
			"source /etc/network/interfaces.d/*\nauto lo\niface lo inet loopback\n",
	}
	for name, body := range files {
		if err := writeFile(filepath.Join(root, name), body, 0o644); err != nil {
			return err
		}
	}
	for _, p := range []string{"usr/sbin/policy-rc.d", "var/lib/dbus/machine-id"} {
		if err := os.Remove(filepath.Join(root, p)); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("debian image: %w", err)
		}
	}
	// Host keys are made on first boot by cloud-init, never shared between copies.
	keys, _ := filepath.Glob(filepath.Join(root, "etc/ssh/ssh_host_*"))
	for _, k := range keys {
		if err := os.Remove(k); err != nil {
			return fmt.Errorf("debian image: %w", err)
		}
	}
	lists, _ := filepath.Glob(filepath.Join(root, "var/lib/apt/lists/*_*"))
	for _, l := range lists {
		os.Remove(l)
	}
	return nil
}

// resolveInRoot follows the symlink /name inside root (an absolute link
// target is taken relative to root, not to the host).
func resolveInRoot(root, name string) (string, error) {
	p := filepath.Join(root, name)
	for i := 0; i < 8; i++ {
		target, err := os.Readlink(p)
		if err != nil {
			if _, serr := os.Stat(p); serr != nil {
				return "", fmt.Errorf("debian image: /%s missing in the tree (was a kernel installed?): %w", name, serr)
			}
			return p, nil
		}
		if filepath.IsAbs(target) {
			p = filepath.Join(root, target)
		} else {
			p = filepath.Join(filepath.Dir(p), target)
		}
	}
	return "", fmt.Errorf("debian image: /%s: too many links", name)
}

func writeFile(path, body string, mode os.FileMode) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("debian image: %w", err)
	}
	os.Remove(path) // may be a symlink into the host (resolv.conf)
	if err := os.WriteFile(path, []byte(body), mode); err != nil {
		return fmt.Errorf("debian image: %w", err)
	}
	return nil
}
