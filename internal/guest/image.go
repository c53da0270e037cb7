package guest

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"qemupack/internal/run"
)

// DetectFormat tells whether the image at path is qcow2 or raw, from its
// first bytes. A raw image must show something bootable or mountable (an
// MBR or GPT, an ext2/3/4 or ISO 9660 file system); known other formats and
// compressed downloads get an error that says what to do.
func DetectFormat(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("guest image %s: cannot read it: %w", path, err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return "", fmt.Errorf("guest image %s: %w", path, err)
	}
	if st.IsDir() {
		return "", fmt.Errorf("guest image %s is a folder; give the disk image file (.qcow2 or .raw)", path)
	}
	head := make([]byte, 64<<10)
	n, err := io.ReadFull(f, head)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("guest image %s: cannot read it: %w", path, err)
	}
	head = head[:n]
	has := func(off int, magic string) bool {
		return len(head) >= off+len(magic) && string(head[off:off+len(magic)]) == magic
	}
	switch {
	case has(0, "QFI\xfb"):
		return "qcow2", nil
	case has(0, "\x1f\x8b"):
		return "", fmt.Errorf("guest image %s is gzip-compressed: unpack it first (gunzip)", path)
	case has(0, "\xfd7zXZ\x00"):
		return "", fmt.Errorf("guest image %s is xz-compressed: unpack it first (unxz)", path)
	case has(0, "BZh"):
		return "", fmt.Errorf("guest image %s is bzip2-compressed: unpack it first (bunzip2)", path)
	case has(0, "\x28\xb5\x2f\xfd"):
		return "", fmt.Errorf("guest image %s is zstd-compressed: unpack it first (unzstd)", path)
	case has(257, "ustar"):
		return "", fmt.Errorf("guest image %s is a tar archive: extract the disk image from it first", path)
	case has(0, "KDMV"), has(0, "# Disk DescriptorFile"):
		return "", fmt.Errorf("guest image %s is VMDK: convert it with `qemu-img convert -O qcow2 %s out.qcow2`", path, path)
	case has(64, "\x7f\x10\xda\xbe"):
		return "", fmt.Errorf("guest image %s is VDI: convert it with `qemu-img convert -O qcow2 %s out.qcow2`", path, path)
	case has(0, "vhdxfile"):
		return "", fmt.Errorf("guest image %s is VHDX: convert it with `qemu-img convert -O qcow2 %s out.qcow2`", path, path)
	case has(0, "conectix"):
		return "", fmt.Errorf("guest image %s is VHD: convert it with `qemu-img convert -O qcow2 %s out.qcow2`", path, path)
	case has(0, "QED\x00"):
		return "", fmt.Errorf("guest image %s is QED: convert it with `qemu-img convert -O qcow2 %s out.qcow2`", path, path)
	}
	// Raw: the signs of a disk or a file system.
	if len(head) >= 512 && head[510] == 0x55 && head[511] == 0xaa {
		return "raw", nil // MBR (or a protective MBR before a GPT)
	}
	if has(512, "EFI PART") {
		return "raw", nil
	}
	if len(head) >= 1082 && binary.LittleEndian.Uint16(head[1080:]) == 0xef53 {
		return "raw", nil // ext2/3/4 on the whole device
	}
	if has(0x8001, "CD001") {
		return "raw", nil
	}
	if len(head) == 0 {
		return "", fmt.Errorf("guest image %s is empty", path)
	}
	if bytes.Count(head, []byte{0}) == len(head) && st.Size() > int64(len(head)) {
		// A blank raw disk (e.g. made by truncate) is a valid target too.
		return "raw", nil
	}
	return "", fmt.Errorf("guest image %s is neither qcow2 nor a raw disk (no qcow2 header, partition table or file system found): give a cloud image in qcow2 or raw format", path)
}

// CreateOverlay makes overlay, a qcow2 file that records every write of the
// guest while base stays untouched.
func CreateOverlay(ctx context.Context, qemuImg []string, base, baseFormat, overlay, logFile string) error {
	abs, err := filepath.Abs(base)
	if err != nil {
		return fmt.Errorf("overlay: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(overlay), 0o755); err != nil {
		return fmt.Errorf("overlay: %w", err)
	}
	os.Remove(overlay)
	err = run.Run(ctx, run.Cmd{
		Args: append(append([]string(nil), qemuImg...), "create", "-q", "-f", "qcow2", "-b", abs, "-F", baseFormat, overlay),
		Log:  logFile,
	})
	if err != nil {
		return fmt.Errorf("overlay on %s: %w", base, err)
	}
	return nil
}
