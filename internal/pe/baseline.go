package pe

import (
	"context"
	stdpe "debug/pe"
	"fmt"
	"os/exec"
	"strings"
)

// ObjdumpImports reads a file's imports the way QEMU's own nsis.py does:
// the "DLL Name:" lines of `objdump -p`. It is the baseline the DLL
// closure is measured against (the bench target and the bundle
// benchmark), not a reader the build uses.
func ObjdumpImports(ctx context.Context, objdump, path string) (*File, error) {
	out, err := exec.CommandContext(ctx, objdump, "-p", path).Output()
	if err != nil {
		return nil, fmt.Errorf("%s -p %s: %w", objdump, path, err)
	}
	f := &File{Path: path}
	for _, line := range strings.Split(string(out), "\n") {
		if strings.Contains(line, "file format pei-x86-64") {
			f.Machine = stdpe.IMAGE_FILE_MACHINE_AMD64
		}
		if _, name, ok := strings.Cut(line, "DLL Name:"); ok {
			f.Imports = append(f.Imports, Import{DLL: strings.TrimSpace(name)})
		}
	}
	return f, nil
}

// OpenNoDelay is Open without the delay-load imports, which objdump
// (binutils 2.40) does not print for PE32+ files: what ObjdumpImports
// is compared with.
func OpenNoDelay(path string) (*File, error) {
	f, err := Open(path)
	if err != nil {
		return nil, err
	}
	var keep []Import
	for _, im := range f.Imports {
		if !im.Delay {
			keep = append(keep, im)
		}
	}
	f.Imports = keep
	return f, nil
}
