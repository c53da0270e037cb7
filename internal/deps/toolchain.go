package deps

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"qemupack/internal/host"
	"qemupack/internal/run"
)

// Toolchain is what the builds run with.
type Toolchain struct {
	CrossPrefix string      // x86_64-w64-mingw32-
	Triplet     string      // x86_64-w64-mingw32
	Family      host.Family // names the packages of missing tools
	GCC         string      // first line of <cross>gcc --version
	Meson       string      // meson --version
	Ninja       string
	// Sysroots are the host's mingw sysroots (for host libraries and zlib).
	Sysroots []string
	// CMake is the first line of cmake --version ("" when it is missing;
	// only recipes built with cmake need it).
	CMake        string
	cmakeInstall string // the command that installs cmake on this host
}

// ID is the part of every cache key that names the toolchain.
func (t Toolchain) ID() string {
	return fmt.Sprintf("gcc=%s meson=%s ninja=%s", t.GCC, t.Meson, t.Ninja)
}

// ToolchainFrom takes what the builds run with from the host probe (one
// probe for the whole run): the first lines of the cross compiler's,
// meson's and ninja's --version (they go into every cache key, so a new
// compiler rebuilds the stack) and the sysroots that exist, the user's
// QEMUPACK_SYSROOT folders first. A tool the recipes need that is missing
// is an error naming the command that installs it on this host; patch and
// the cross ar, which the host probe does not look for, are looked up on
// PATH here.
func ToolchainFrom(rep host.Report) (Toolchain, error) {
	t := Toolchain{CrossPrefix: rep.CrossPrefix, Triplet: rep.Triplet, Family: rep.Family, Sysroots: rep.ExistingSysroots()}
	var missing []string
	for _, key := range []string{host.ToolGCC, host.ToolMeson, host.ToolNinja, host.ToolPkgConfig, host.ToolMake} {
		tool := rep.Tool(key)
		if tool.Found() {
			continue
		}
		why := tool.Problem
		if why == "" {
			why = "not probed"
		}
		if tool.Package != "" {
			why += "; install: " + host.InstallCommand(rep.Family, []string{tool.Package})
		}
		cmd := tool.Command
		if cmd == "" {
			cmd = key
		}
		missing = append(missing, fmt.Sprintf("%s (%s)", cmd, why))
	}
	for _, tool := range []struct{ bin, key string }{{"patch", host.ToolPatch}, {rep.CrossPrefix + "ar", host.ToolBinutils}} {
		if _, err := exec.LookPath(tool.bin); err != nil {
			why := "not on PATH"
			if cmd := host.InstallCommand(rep.Family, []string{host.ToolPackage(rep.Family, tool.key, rep.Triplet)}); cmd != "" {
				why += "; install: " + cmd
			}
			missing = append(missing, fmt.Sprintf("%s (%s)", tool.bin, why))
		}
	}
	if len(missing) > 0 {
		return t, fmt.Errorf("deps: missing build tools: %s", strings.Join(missing, ", "))
	}
	t.CMake, t.cmakeInstall = cmakeProbe(), host.InstallCommand(rep.Family, []string{"cmake"})
	t.GCC = rep.Tool(host.ToolGCC).Raw
	t.Meson = rep.Tool(host.ToolMeson).Raw
	t.Ninja = rep.Tool(host.ToolNinja).Raw
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
