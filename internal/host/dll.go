package host

import (
	"context"
	"path/filepath"
	"strings"
)

// probeGCCRuntime asks the cross compiler where its own runtime DLLs live:
// the folder of its libgcc. On Debian that is /usr/lib/gcc/<triplet>/12-win32
// or 12-posix, whichever flavour the compiler alternative picks, so the
// DLLs match the compiler that built the programs.
func (r *Report) probeGCCRuntime(ctx context.Context) string {
	gcc := r.Tool(ToolGCC)
	if !gcc.Found() {
		return ""
	}
	out, err := r.opts.Exec(ctx, nil, gcc.Path, "-print-libgcc-file-name")
	if err != nil {
		return ""
	}
	p := strings.TrimSpace(firstLine(out))
	if r.Layout != nil && strings.HasPrefix(p, "/") {
		p = r.Layout.ToWindows(p)
	}
	if !filepath.IsAbs(p) && !IsWindowsPath(p) {
		return ""
	}
	return filepath.Dir(p)
}

// DLLDir is one folder the bundle resolves DLL imports in.
type DLLDir struct {
	Path string
	// Override marks qemupack's own library prefixes: their DLLs
	// deliberately replace a differing copy of the same name in later
	// folders (built because the host's copy was too old).
	Override bool
}

// DLLSearch is the one order in which a program's DLLs are looked for:
// qemupack's own library prefixes (their bin folders) first, then each
// mingw sysroot in the probe's order (the user's QEMUPACK_SYSROOT first,
// then the host's own; the folders where the family keeps DLLs), and last
// the cross compiler's runtime folder.
func (r Report) DLLSearch(ours []string) []DLLDir {
	var out []DLLDir
	seen := map[string]bool{}
	add := func(p string, mine bool) {
		p = filepath.Clean(p)
		if !seen[p] {
			seen[p] = true
			out = append(out, DLLDir{Path: p, Override: mine})
		}
	}
	for _, p := range ours {
		add(filepath.Join(p, "bin"), true)
	}
	for _, s := range r.ExistingSysroots() {
		for _, d := range DLLDirs(r.Family, s) {
			add(d, false)
		}
	}
	if r.GCCRuntime != "" {
		add(r.GCCRuntime, false)
	}
	return out
}

// Bash is the shell a Cygwin or MSYS2 build runs configure through, as a
// Windows path ("" on other hosts).
func (r Report) Bash() string {
	if r.Layout == nil {
		return ""
	}
	return r.Layout.ToWindows("/bin/bash") + ".exe"
}
