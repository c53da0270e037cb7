package deps

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/hashicorp/go-version"

	"qemupack/internal/run"
)

// Toolchain is what the builds run with.
type Toolchain struct {
	CrossPrefix string // x86_64-w64-mingw32-
	Triplet     string // x86_64-w64-mingw32
	GCC         string // first line of <cross>gcc --version
	Meson       string // meson --version
	Ninja       string
	// Sysroots are the host's mingw sysroots (for host libraries and zlib).
	Sysroots []string
}

// ID is the part of every cache key that names the toolchain.
func (t Toolchain) ID() string {
	return fmt.Sprintf("gcc=%s meson=%s ninja=%s", t.GCC, t.Meson, t.Ninja)
}

// ProbeToolchain asks the cross compiler, meson and ninja for their
// versions; a missing tool is an error that names its Debian package.
func ProbeToolchain(ctx context.Context, crossPrefix string, sysroots []string) (Toolchain, error) {
	t := Toolchain{CrossPrefix: crossPrefix, Triplet: strings.TrimSuffix(crossPrefix, "-")}
	var missing []string
	first := func(args ...string) string {
		out, err := run.Output(ctx, run.Cmd{Args: args})
		if err != nil {
			return ""
		}
		return strings.TrimSpace(strings.SplitN(out, "\n", 2)[0])
	}
	if t.GCC = first(crossPrefix+"gcc", "--version"); t.GCC == "" {
		missing = append(missing, crossPrefix+"gcc (Debian: gcc-mingw-w64-x86-64)")
	}
	if t.Meson = first("meson", "--version"); t.Meson == "" {
		missing = append(missing, "meson (Debian: meson)")
	}
	if t.Ninja = first("ninja", "--version"); t.Ninja == "" {
		missing = append(missing, "ninja (Debian: ninja-build)")
	}
	for _, tool := range []struct{ bin, pkg string }{{"pkg-config", "pkg-config"}, {"make", "make"}, {"patch", "patch"}, {crossPrefix + "ar", "binutils-mingw-w64-x86-64"}} {
		if _, err := exec.LookPath(tool.bin); err != nil {
			missing = append(missing, fmt.Sprintf("%s (Debian: %s)", tool.bin, tool.pkg))
		}
	}
	if len(missing) > 0 {
		return t, fmt.Errorf("deps: missing build tools: %s", strings.Join(missing, ", "))
	}
	seen := map[string]bool{}
	for _, d := range append(append([]string{}, sysroots...), "/usr/"+t.Triplet, "/usr/"+t.Triplet+"/sys-root/mingw") {
		if seen[d] {
			continue
		}
		seen[d] = true
		if fi, err := os.Stat(d); err == nil && fi.IsDir() {
			t.Sysroots = append(t.Sysroots, d)
		}
	}
	return t, nil
}

// SysrootPkgConfigDirs lists the pkg-config folders of the host sysroots.
func (t Toolchain) SysrootPkgConfigDirs() []string {
	var out []string
	for _, s := range t.Sysroots {
		for _, d := range []string{"lib/pkgconfig", "share/pkgconfig"} {
			p := filepath.Join(s, d)
			if fi, err := os.Stat(p); err == nil && fi.IsDir() {
				out = append(out, p)
			}
		}
	}
	return out
}

// HostModule reports the version of a pkg-config module in the host
// sysroots ("" when absent).
func (t Toolchain) HostModule(ctx context.Context, module string) string {
	dirs := t.SysrootPkgConfigDirs()
	if len(dirs) == 0 {
		return ""
	}
	out, err := run.Output(ctx, run.Cmd{
		Args: []string{"pkg-config", "--modversion", module},
		Env:  run.Environ("PKG_CONFIG_LIBDIR="+strings.Join(dirs, string(os.PathListSeparator)), "PKG_CONFIG_PATH=", "PKG_CONFIG_SYSROOT_DIR="),
	})
	if err != nil {
		return ""
	}
	return strings.TrimSpace(out)
}

// atLeast compares versions loosely ("1.2.13" >= "1.2.11").
func atLeast(have, min string) bool {
	h, err1 := version.NewVersion(have)
	m, err2 := version.NewVersion(min)
	if err1 != nil || err2 != nil {
		return have == min
	}
	return h.GreaterThanOrEqual(m)
}
