package smoke

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"

	"github.com/klauspost/compress/zstd"
	"github.com/ulikunitz/xz"

	"qemupack/internal/atomicfile"
)

// KernelPackage is the Debian metapackage whose kernel the boot check uses.
const KernelPackage = "linux-image-amd64"

// Kernel returns a Linux kernel (vmlinuz) for the boot check, from dir (the
// cache's kernel/ folder): an extracted vmlinuz-* if there is one, else one
// taken out of a linux-image-*.deb already there, else (when online) the
// package apt-get download fetches for linux-image-amd64 on a Debian/Ubuntu
// host. The setup script may pre-download it with:
//
//	cd <cache>/kernel && apt-get download $(apt-cache depends linux-image-amd64 | sed -n 's/.*Depends: //p' | head -1)
func Kernel(ctx context.Context, dir string, offline bool, log func(string)) (string, error) {
	if ks, _ := filepath.Glob(filepath.Join(dir, "vmlinuz-*")); len(ks) > 0 {
		sort.Strings(ks)
		return ks[len(ks)-1], nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("smoke: kernel folder: %w", err)
	}
	debs, _ := filepath.Glob(filepath.Join(dir, "linux-image-*.deb"))
	if len(debs) == 0 {
		if offline {
			return "", fmt.Errorf("smoke: no kernel in %s and QEMUPACK_OFFLINE=1: put a linux-image-*-amd64 .deb or a vmlinuz-* there", dir)
		}
		if _, err := exec.LookPath("apt-get"); err != nil {
			return "", fmt.Errorf("smoke: no kernel in %s and no apt-get to fetch one: put a Linux x86-64 vmlinuz-* there", dir)
		}
		out, err := exec.CommandContext(ctx, "apt-cache", "depends", KernelPackage).Output()
		if err != nil {
			return "", fmt.Errorf("smoke: apt-cache depends %s: %w", KernelPackage, err)
		}
		pkg := ""
		for _, l := range strings.Split(string(out), "\n") {
			if _, p, ok := strings.Cut(l, "Depends: "); ok && strings.HasPrefix(p, "linux-image-") {
				pkg = strings.TrimSpace(p)
				break
			}
		}
		if pkg == "" {
			return "", fmt.Errorf("smoke: apt-cache found no kernel package behind %s", KernelPackage)
		}
		if log != nil {
			log("smoke: downloading " + pkg + " (apt-get download) for the boot check")
		}
		cmd := exec.CommandContext(ctx, "apt-get", "download", "-q", pkg)
		cmd.Dir = dir
		if b, err := cmd.CombinedOutput(); err != nil {
			return "", fmt.Errorf("smoke: apt-get download %s: %w\n%s", pkg, err, b)
		}
		if debs, _ = filepath.Glob(filepath.Join(dir, "linux-image-*.deb")); len(debs) == 0 {
			return "", fmt.Errorf("smoke: apt-get download %s left no .deb in %s", pkg, dir)
		}
	}
	sort.Strings(debs)
	return ExtractKernel(debs[len(debs)-1], dir)
}

// ExtractKernel takes boot/vmlinuz-* out of a kernel .deb (an ar archive
// holding data.tar.xz or .zst) into dir, atomically, and returns its path.
func ExtractKernel(deb, dir string) (string, error) {
	f, err := os.Open(deb)
	if err != nil {
		return "", fmt.Errorf("smoke: %w", err)
	}
	defer f.Close()
	data, name, err := arMember(f, "data.tar.")
	if err != nil {
		return "", fmt.Errorf("smoke: %s: %w", deb, err)
	}
	var r io.Reader
	switch {
	case strings.HasSuffix(name, ".xz"):
		if r, err = xz.NewReader(data); err != nil {
			return "", fmt.Errorf("smoke: %s: %s: %w", deb, name, err)
		}
	case strings.HasSuffix(name, ".zst"):
		zr, err := zstd.NewReader(data)
		if err != nil {
			return "", fmt.Errorf("smoke: %s: %s: %w", deb, name, err)
		}
		defer zr.Close()
		r = zr
	default:
		return "", fmt.Errorf("smoke: %s: %s: unexpected compression", deb, name)
	}
	tr := tar.NewReader(r)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return "", fmt.Errorf("smoke: %s holds no boot/vmlinuz-*", deb)
		}
		if err != nil {
			return "", fmt.Errorf("smoke: %s: %w", deb, err)
		}
		base := filepath.Base(h.Name)
		if h.Typeflag != tar.TypeReg || !strings.HasPrefix(strings.TrimPrefix(h.Name, "./"), "boot/vmlinuz-") || strings.ContainsAny(base, "/\\") {
			continue
		}
		dest := filepath.Join(dir, base)
		err = atomicfile.Write(dest, 0o644, func(tmp *os.File) error {
			_, err := io.Copy(tmp, tr)
			return err
		})
		if err != nil {
			return "", fmt.Errorf("smoke: extracting %s from %s: %w", base, deb, err)
		}
		return dest, nil
	}
}

// arMember finds the first member of a Unix ar archive whose name starts
// with prefix and returns a reader over it.
func arMember(r io.ReaderAt, prefix string) (io.Reader, string, error) {
	magic := make([]byte, 8)
	if _, err := r.ReadAt(magic, 0); err != nil || string(magic) != "!<arch>\n" {
		return nil, "", errors.New("not a .deb (no ar header)")
	}
	off := int64(8)
	hdr := make([]byte, 60)
	for {
		if _, err := r.ReadAt(hdr, off); err != nil {
			return nil, "", fmt.Errorf("no %s* member", prefix)
		}
		name := strings.TrimSuffix(strings.TrimSpace(string(hdr[0:16])), "/")
		var size int64
		if _, err := fmt.Sscanf(string(bytes.TrimSpace(hdr[48:58])), "%d", &size); err != nil || size < 0 {
			return nil, "", fmt.Errorf("corrupt ar header at %d", off)
		}
		off += 60
		if strings.HasPrefix(name, prefix) {
			return io.NewSectionReader(r, off, size), name, nil
		}
		off += size + size%2
	}
}
