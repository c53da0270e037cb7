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
	ToolPatch      = "patch"  // applies Debian's and our patches to QEMU and the libraries
	ToolCMake      = "cmake"  // builds the desk profile's CMake recipes (capstone, libssh)
	ToolMsgfmt     = "msgfmt" // libgpg-error's install runs it, even with --disable-nls
	ToolGXX        = "g++"    // the cross C++ compiler, <prefix>g++: zstd's and harfbuzz's meson projects ask for it
	// ToolGlibMkenums stands for GLib's code generators of the build
	// machine (glib-mkenums, glib-genmarshal, glib-compile-resources,
	// gdbus-codegen: one package), which the GTK stack's recipes run
	// (deps' build tools); ToolGlibSchemas compiles GTK's GSettings
	// schemas, in the recipe and for the archive's runtime data.
	ToolGlibMkenums = "glib-mkenums"
	ToolGlibSchemas = "glib-compile-schemas"
	// The other generators of that package: not probed (ToolGlibMkenums
	// stands for them), keyed so that deps can name the package of any
	// build tool a recipe lists.
	ToolGlibGenmarshal = "glib-genmarshal"
	ToolGlibResources  = "glib-compile-resources"
	ToolGdbusCodegen   = "gdbus-codegen"
	// ToolBinutils is the cross binutils (<prefix>ar, strip, windres):
	// the recipes' builds run them; the probe does not look for them.
	ToolBinutils = "binutils"
	// ToolPixdata is gdk-pixbuf's converter of the build machine:
	// glib-compile-resources runs it for GTK's theme images and fails
	// without it.
	ToolPixdata = "gdk-pixbuf-pixdata"
	// ToolCC is the build machine's own C compiler: QEMU 8 and later's
	// meson asks for it in a cross build, and it makes the x86 option
	// ROMs Debian's repacks lack. On Debian it comes with libc6-dev: gcc
	// alone cannot link (meson's sanity check of the build compiler), and
	// once gcc is on PATH Go turns cgo on, which needs the C headers (the
	// fresh-root check's go vet failed on stdlib.h without them).
	ToolCC = "cc"
	// Not programs but what QEMU 8.1+'s configure needs of the build
	// python (its venv step), for the package that provides each.
	ToolPyVenv = "python-venv"
	ToolPyTOML = "python-tomli"
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
	if name, ok := debianCross[tool]; ok && f == Debian {
		a := map[string]string{"x86_64": "x86-64", "i686": "i686"}[arch]
		if a == "" {
			return ""
		}
		return name + "-mingw-w64-" + a
	}
	name := toolPackages[f][tool]
	if strings.HasPrefix(name, "-") {
		return pre(mingwPackagePrefix[f][arch], name)
	}
	return name
}

// debianCross are the cross tools Debian packages per architecture, as
// <name>-mingw-w64-<arch>.
var debianCross = map[string]string{ToolGCC: "gcc", ToolGXX: "g++", ToolBinutils: "binutils"}

// toolPackages names each tool's package per family; a name starting with
// "-" follows the family's mingw package prefix for the architecture.
var toolPackages = map[Family]map[string]string{
	Debian: {ToolNinja: "ninja-build", ToolMeson: "meson", ToolPython: "python3", ToolPkgConfig: "pkg-config",
		ToolBison: "bison", ToolFlex: "flex", ToolMake: "make", ToolPatch: "patch", ToolCMake: "cmake", ToolMsgfmt: "gettext",
		ToolCC: "gcc libc6-dev", ToolPyVenv: "python3-venv", ToolPyTOML: "python3-tomli",
		ToolGlibMkenums: "libglib2.0-dev-bin", ToolGlibSchemas: "libglib2.0-bin", ToolPixdata: "libgdk-pixbuf2.0-bin",
		ToolGlibGenmarshal: "libglib2.0-dev-bin", ToolGlibResources: "libglib2.0-dev-bin", ToolGdbusCodegen: "libglib2.0-dev-bin"},
	Fedora: {ToolGCC: "-gcc", ToolGXX: "-gcc-c++", ToolCrossPkgCf: "-pkg-config", ToolNinja: "ninja-build", ToolMeson: "meson",
		ToolPython: "python3", ToolPkgConfig: "pkgconf-pkg-config", ToolBison: "bison", ToolFlex: "flex", ToolMake: "make", ToolPatch: "patch", ToolCMake: "cmake", ToolMsgfmt: "gettext",
		ToolCC: "gcc", ToolPyTOML: "python3-tomli", ToolGlibMkenums: "glib2-devel", ToolGlibSchemas: "glib2", ToolPixdata: "gdk-pixbuf2-devel",
		ToolGlibGenmarshal: "glib2-devel", ToolGlibResources: "glib2-devel", ToolGdbusCodegen: "glib2-devel", ToolBinutils: "-binutils"},
	Cygwin: {ToolGCC: "-gcc-core", ToolGXX: "-gcc-g++", ToolCrossPkgCf: "-pkg-config", ToolNinja: "ninja", ToolMeson: "meson",
		ToolPython: "python3", ToolPkgConfig: "pkg-config", ToolBison: "bison", ToolFlex: "flex", ToolMake: "make", ToolPatch: "patch", ToolCMake: "cmake", ToolMsgfmt: "gettext",
		ToolCC: "gcc-core", ToolBinutils: "-binutils"},
	MSYS2: {ToolGCC: "-gcc", ToolNinja: "-ninja", ToolMeson: "-meson", ToolPython: "-python",
		ToolPkgConfig: "-pkgconf", ToolCrossPkgCf: "-pkgconf", ToolBison: "bison", ToolFlex: "flex", ToolMake: "make", ToolPatch: "patch", ToolCMake: "-cmake", ToolMsgfmt: "gettext",
		ToolBinutils: "-binutils"},
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
