// Package hosttest builds fake hosts for tests: a folder standing for the
// filesystem root (etc/os-release, a mingw sysroot with .pc files of chosen
// versions) and a bin folder of small shell scripts standing in for the
// build tools and python, which the probe really runs. Only the tools'
// answers are fake; the probe's code paths are the real ones.
package hosttest

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"qemupack/internal/host"
)

// Host is a fake machine under a temporary folder.
type Host struct {
	t    *testing.T
	Root string // stands for "/"
	Bin  string // the only folder on PATH
	Env  map[string]string
}

// DebianOSRelease is Debian 12's /etc/os-release (as shipped).
const DebianOSRelease = `PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"
NAME="Debian GNU/Linux"
VERSION_ID="12"
VERSION="12 (bookworm)"
VERSION_CODENAME=bookworm
ID=debian
HOME_URL="https://www.debian.org/"
SUPPORT_URL="https://www.debian.org/support"
BUG_REPORT_URL="https://bugs.debian.org/"
`

// New makes an empty fake Debian host: os-release, an empty PATH folder.
func New(t *testing.T) *Host {
	t.Helper()
	root := t.TempDir()
	h := &Host{t: t, Root: root, Bin: filepath.Join(root, "fakebin"), Env: map[string]string{}}
	h.Env["PATH"] = h.Bin
	h.mkdir(h.Bin)
	h.File("etc/os-release", DebianOSRelease)
	return h
}

func (h *Host) mkdir(p string) {
	if err := os.MkdirAll(p, 0o755); err != nil {
		h.t.Fatal(err)
	}
}

// File writes a file under Root (path relative to Root).
func (h *Host) File(rel, content string) string {
	p := filepath.Join(h.Root, filepath.FromSlash(rel))
	h.mkdir(filepath.Dir(p))
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		h.t.Fatal(err)
	}
	return p
}

// Script puts an executable shell script named name on PATH.
func (h *Host) Script(name, body string) string {
	p := filepath.Join(h.Bin, name)
	if err := os.WriteFile(p, []byte("#!/bin/sh\n"+body+"\n"), 0o755); err != nil {
		h.t.Fatal(err)
	}
	return p
}

// Tool puts a program on PATH that prints versionLine for any arguments.
func (h *Host) Tool(name, versionLine string) string {
	return h.Script(name, fmt.Sprintf("echo '%s'", versionLine))
}

// Python puts a fake python interpreter named name on PATH: it answers
// --version with "Python ver", -c with what the probe asks (its
// executable, and whether mesonbuild, venv, ensurepip and tomllib are there), and
// runs any other first argument as a shell script (so a meson script with
// it on the #! line works).
func (h *Host) Python(name, ver string, meson bool) string {
	b := map[bool]string{true: "1", false: "0"}
	exe := filepath.Join(h.Bin, name)
	return h.Script(name, fmt.Sprintf(`case "$1" in
--version) echo "Python %s" ;;
-c) echo "executable=%s"; echo "mesonbuild=%s"; echo "venv=1"; echo "ensurepip=1"; echo "tomllib=1" ;;
*) s="$1"; shift; exec /bin/sh "$s" "$@" ;;
esac`, ver, exe, b[meson]))
}

// Meson puts a meson script on PATH whose #! line names the python at
// interpreter (a path) and which answers --version with ver.
func (h *Host) Meson(ver, interpreter string) string {
	p := filepath.Join(h.Bin, "meson")
	body := fmt.Sprintf("#!%s\necho '%s'\n", interpreter, ver)
	if err := os.WriteFile(p, []byte(body), 0o755); err != nil {
		h.t.Fatal(err)
	}
	return p
}

// Toolchain puts a complete toolchain on PATH: the cross gcc, ninja, a
// meson running under a python that can import mesonbuild (also the
// python3 on PATH), pkg-config, bison, flex, make, patch.
func (h *Host) Toolchain(mesonVer, pythonVer string) {
	h.Tool("x86_64-w64-mingw32-gcc", "x86_64-w64-mingw32-gcc (GCC) 12-win32")
	h.Tool("x86_64-w64-mingw32-g++", "x86_64-w64-mingw32-g++ (GCC) 12-win32")
	h.Tool("ninja", "1.11.1")
	py := h.Python("python3", pythonVer, true)
	h.Meson(mesonVer, py)
	h.Tool("pkg-config", "1.8.1")
	h.Tool("bison", "bison (GNU Bison) 3.8.2")
	h.Tool("flex", "flex 2.6.4")
	h.Tool("make", "GNU Make 4.3")
	h.Tool("patch", "GNU patch 2.7.6")
	h.Tool("cmake", "cmake version 3.25.1")
	h.Tool("msgfmt", "msgfmt (GNU gettext-tools) 0.21")
	h.Tool("glib-mkenums", "glib-mkenums version 2.74.6")
	h.Tool("glib-compile-schemas", "2.74.6")
	h.Tool("gdk-pixbuf-pixdata", "gdk-pixbuf-pixdata-3.0 version 2.42.10")
	h.Tool("cc", "cc (Debian 12.2.0-14) 12.2.0")
}

// Sysroot is the fake host's own Debian mingw sysroot, /usr/x86_64-w64-mingw32.
const Sysroot = "usr/x86_64-w64-mingw32"

// PC writes a minimal .pc file for module at version into the sysroot
// folder (relative to Root) and returns its path. An empty version writes
// a file without a Version field.
func (h *Host) PC(sysroot, module, ver string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "prefix=/%s\nlibdir=${prefix}/lib\nincludedir=${prefix}/include\n\n", sysroot)
	fmt.Fprintf(&b, "Name: %s\nDescription: fake %s for tests\n", module, module)
	if ver != "" {
		fmt.Fprintf(&b, "Version: %s\n", ver)
	}
	fmt.Fprintf(&b, "Libs: -L${libdir} -l%s\nCflags: -I${includedir}\n", module)
	return h.File(sysroot+"/lib/pkgconfig/"+module+".pc", b.String())
}

// Libs writes .pc files of the given versions into the host's sysroot.
func (h *Host) Libs(versions map[string]string) {
	for m, v := range versions {
		h.PC(Sysroot, m, v)
	}
}

// Getenv reads the fake environment.
func (h *Host) Getenv(k string) string { return h.Env[k] }

// Options are probe options that see only this fake host.
func (h *Host) Options() host.Options {
	return host.Options{GOOS: "linux", Root: h.Root, Getenv: h.Getenv, IsRoot: func() bool { return false }}
}
