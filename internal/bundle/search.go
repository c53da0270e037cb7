package bundle

import (
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
)

// GCCRuntimeDir asks the cross compiler where its own runtime DLLs
// (libgcc_s_seh-1.dll, libssp-0.dll, libstdc++-6.dll) live: the folder of
// its libgcc. On Debian that is /usr/lib/gcc/x86_64-w64-mingw32/12-win32 or
// 12-posix, whichever flavour the x86_64-w64-mingw32-gcc alternative picks,
// so the DLLs match the compiler that built the programs.
func GCCRuntimeDir(ctx context.Context, crossPrefix string) (string, error) {
	out, err := exec.CommandContext(ctx, crossPrefix+"gcc", "-print-libgcc-file-name").Output()
	if err != nil {
		return "", fmt.Errorf("bundle: asking %sgcc for its runtime folder: %w", crossPrefix, err)
	}
	p := strings.TrimSpace(string(out))
	if !filepath.IsAbs(p) {
		return "", fmt.Errorf("bundle: %sgcc -print-libgcc-file-name gave %q, not a path", crossPrefix, p)
	}
	return filepath.Dir(p), nil
}

// Triplet is the cross prefix without its trailing dash.
func Triplet(crossPrefix string) string {
	return strings.TrimSuffix(filepath.Base(crossPrefix), "-")
}

// DefaultSearch is the ordered DLL search list: our deps prefixes' bin
// folders first (overrides), then each extra sysroot given by the user, the
// host's mingw sysroot (Debian/Ubuntu: /usr/<triplet>/bin and lib; Fedora
// and Cygwin: /usr/<triplet>/sys-root/mingw/bin), and last the cross gcc's
// runtime folder.
func DefaultSearch(depsPrefixes, sysroots []string, triplet, gccRuntime string) []SearchDir {
	var out []SearchDir
	for _, p := range depsPrefixes {
		out = append(out, SearchDir{Path: filepath.Join(p, "bin"), Override: true})
	}
	for _, s := range sysroots {
		out = append(out, SearchDir{Path: filepath.Join(s, "bin")}, SearchDir{Path: filepath.Join(s, "lib")})
	}
	root := filepath.Join("/usr", triplet)
	out = append(out,
		SearchDir{Path: filepath.Join(root, "bin")},
		SearchDir{Path: filepath.Join(root, "lib")},
		SearchDir{Path: filepath.Join(root, "sys-root", "mingw", "bin")},
	)
	if gccRuntime != "" {
		out = append(out, SearchDir{Path: gccRuntime})
	}
	return out
}
