package host

import (
	"strings"
)

// Keys of the tools and libraries the probe looks for.
const (
	ToolGCC        = "gcc"        // the cross C compiler, <prefix>gcc
	ToolNinja      = "ninja"      // meson's backend
	ToolMeson      = "meson"      // QEMU 5.2+ configures with meson
	ToolPython     = "python"     // PYTHON
	ToolPkgConfig  = "pkg-config" // the build machine's pkg-config
	ToolCrossPkgCf = "cross-pkg-config"
	ToolBison      = "bison"
	ToolFlex       = "flex"
	ToolMake       = "make"
)

// Libraries QEMU needs from the mingw sysroot, by pkg-config module
// (QEMU finds libfdt with the compiler, not pkg-config, so for it
// lib/libfdt.a or lib/libfdt.dll.a count when there is no libfdt.pc).
var Libraries = []string{"glib-2.0", "gthread-2.0", "pixman-1", "zlib", "slirp", "libfdt"}

// crossArch returns the architecture part of the triplet, as package names
// spell it: x86_64 or i686.
func crossArch(triplet string) string {
	arch, _, _ := strings.Cut(triplet, "-")
	return arch
}

// ToolPackage is the package that provides a tool on a host family ("" when
// we know of none). The cross tools depend on the triplet.
func ToolPackage(f Family, tool, triplet string) string {
	arch := crossArch(triplet)
	switch f {
	case Debian:
		switch tool {
		case ToolGCC:
			return map[string]string{"x86_64": "gcc-mingw-w64-x86-64", "i686": "gcc-mingw-w64-i686"}[arch]
		case ToolNinja:
			return "ninja-build"
		case ToolMeson:
			return "meson"
		case ToolPython:
			return "python3"
		case ToolPkgConfig:
			return "pkg-config"
		case ToolBison, ToolFlex, ToolMake:
			return tool
		}
	case Fedora:
		mingw := mingwPackagePrefix[Fedora][arch]
		switch tool {
		case ToolGCC:
			return pre(mingw, "-gcc")
		case ToolCrossPkgCf:
			return pre(mingw, "-pkg-config")
		case ToolNinja:
			return "ninja-build"
		case ToolMeson:
			return "meson"
		case ToolPython:
			return "python3"
		case ToolPkgConfig:
			return "pkgconf-pkg-config"
		case ToolBison, ToolFlex, ToolMake:
			return tool
		}
	case Cygwin:
		mingw := mingwPackagePrefix[Cygwin][arch]
		switch tool {
		case ToolGCC:
			return pre(mingw, "-gcc-core")
		case ToolCrossPkgCf:
			return pre(mingw, "-pkg-config")
		case ToolNinja, ToolMeson, ToolBison, ToolFlex, ToolMake:
			return tool
		case ToolPython:
			return "python3"
		case ToolPkgConfig:
			return "pkg-config"
		}
	case MSYS2:
		mingw := mingwPackagePrefix[MSYS2][arch]
		switch tool {
		case ToolGCC:
			return pre(mingw, "-gcc")
		case ToolNinja:
			return pre(mingw, "-ninja")
		case ToolMeson:
			return pre(mingw, "-meson")
		case ToolPython:
			return pre(mingw, "-python")
		case ToolPkgConfig, ToolCrossPkgCf:
			return pre(mingw, "-pkgconf")
		case ToolBison, ToolFlex, ToolMake:
			return tool
		}
	}
	return ""
}

// LibraryPackage is the package that puts a library's .pc file into the
// host's own mingw sysroot ("" when the family ships none: Debian has only
// zlib, so glib, pixman and slirp come from our recipes there).
func LibraryPackage(f Family, module, triplet string) string {
	if f == Debian {
		if module == "zlib" {
			return "libz-mingw-w64-dev" // both x86_64 and i686
		}
		return ""
	}
	return pre(mingwPackagePrefix[f][crossArch(triplet)], mingwLibrarySuffix[f][module])
}

// mingwPackagePrefix is how each family names its mingw packages per
// architecture; mingwLibrarySuffix what follows for each pkg-config module.
var mingwPackagePrefix = map[Family]map[string]string{
	Fedora: {"x86_64": "mingw64", "i686": "mingw32"},
	Cygwin: {"x86_64": "mingw64-x86_64", "i686": "mingw64-i686"},
	MSYS2:  {"x86_64": "mingw-w64-x86_64", "i686": "mingw-w64-i686"},
}

var mingwLibrarySuffix = map[Family]map[string]string{
	Fedora: {"glib-2.0": "-glib2", "gthread-2.0": "-glib2", "pixman-1": "-pixman", "zlib": "-zlib"},
	Cygwin: {"glib-2.0": "-glib2.0", "gthread-2.0": "-glib2.0", "pixman-1": "-pixman", "zlib": "-zlib"},
	MSYS2: {"glib-2.0": "-glib2", "gthread-2.0": "-glib2", "pixman-1": "-pixman", "zlib": "-zlib",
		"slirp": "-libslirp", "libfdt": "-dtc"},
}

func pre(prefix, name string) string {
	if prefix == "" || name == "" {
		return ""
	}
	return prefix + name
}

// InstallCommand is the exact command that installs pkgs on a host family
// ("" when pkgs is empty or the family has no package manager we know).
// Duplicates are dropped; the order is kept.
func InstallCommand(f Family, pkgs []string) string {
	pkgs = uniq(pkgs)
	if len(pkgs) == 0 {
		return ""
	}
	switch f {
	case Debian:
		return "apt-get install -y " + strings.Join(pkgs, " ")
	case Fedora:
		return "dnf install -y " + strings.Join(pkgs, " ")
	case Cygwin:
		return "setup-x86_64.exe -q -P " + strings.Join(pkgs, ",")
	case MSYS2:
		return "pacman -S --needed --noconfirm " + strings.Join(pkgs, " ")
	}
	return ""
}

func uniq(in []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range in {
		if s != "" && !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}
