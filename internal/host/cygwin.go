package host

import (
	"strings"
)

// Under Cygwin and MSYS2 qemupack is a native Windows program: the paths the
// user and the shell speak are POSIX paths (/usr/..., /cygdrive/c/... or
// /c/...), but the Go program opens files by Windows paths. These pure
// functions convert between the two given the installation root (what
// `cygpath -w /` prints, e.g. C:\cygwin64), so they can be tested anywhere.

// PosixLayout describes a Cygwin or MSYS2 installation.
type PosixLayout struct {
	Family Family // Cygwin or MSYS2
	Root   string // Windows path of "/", e.g. C:\cygwin64 or C:\msys64
}

// IsWindowsPath says whether p is already a Windows path (C:\x, C:/x, \\server\share).
func IsWindowsPath(p string) bool {
	if strings.HasPrefix(p, `\\`) {
		return true
	}
	return len(p) >= 2 && p[1] == ':' && isLetter(p[0])
}

func isLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

// ToWindows converts a POSIX path of this installation to a Windows path:
// /cygdrive/c/x (Cygwin) and /c/x (MSYS2) become C:\x, any other absolute
// path is placed under Root. Windows paths come back with backslashes only.
func (l PosixLayout) ToWindows(p string) string {
	if p == "" {
		return ""
	}
	if IsWindowsPath(p) {
		return strings.ReplaceAll(p, "/", `\`)
	}
	if !strings.HasPrefix(p, "/") {
		return strings.ReplaceAll(p, "/", `\`) // relative: only the separators change
	}
	if drive, rest, ok := l.driveOf(p); ok {
		return strings.ToUpper(drive) + `:\` + strings.ReplaceAll(rest, "/", `\`)
	}
	root := strings.TrimRight(strings.ReplaceAll(l.Root, "/", `\`), `\`)
	return root + strings.ReplaceAll(strings.TrimRight(p, "/"), "/", `\`)
}

// driveOf recognises /cygdrive/c/rest (Cygwin) or /c/rest (MSYS2).
func (l PosixLayout) driveOf(p string) (drive, rest string, ok bool) {
	prefix := "/"
	if l.Family == Cygwin {
		prefix = "/cygdrive/"
	}
	if !strings.HasPrefix(p, prefix) {
		return "", "", false
	}
	s := p[len(prefix):]
	if len(s) == 0 || !isLetter(s[0]) || (len(s) > 1 && s[1] != '/') {
		return "", "", false
	}
	return s[:1], strings.TrimPrefix(s[1:], "/"), true
}

// ToPosix converts a Windows path back to the installation's POSIX form: a
// path under Root loses the root, any other drive becomes /cygdrive/d/...
// (Cygwin) or /d/... (MSYS2).
func (l PosixLayout) ToPosix(p string) string {
	if !IsWindowsPath(p) {
		return p
	}
	win := strings.ReplaceAll(p, "/", `\`)
	root := strings.TrimRight(strings.ReplaceAll(l.Root, "/", `\`), `\`)
	if root != "" && (strings.EqualFold(win, root) || strings.HasPrefix(strings.ToLower(win), strings.ToLower(root)+`\`)) {
		rest := win[len(root):]
		if rest == "" {
			return "/"
		}
		return strings.ReplaceAll(rest, `\`, "/")
	}
	if strings.HasPrefix(win, `\\`) {
		return strings.ReplaceAll(win, `\`, "/")
	}
	drive := strings.ToLower(win[:1])
	rest := strings.ReplaceAll(strings.TrimPrefix(win[2:], `\`), `\`, "/")
	prefix := "/"
	if l.Family == Cygwin {
		prefix = "/cygdrive/"
	}
	if rest == "" {
		return prefix + drive
	}
	return prefix + drive + "/" + rest
}

// DefaultSysroots gives, as POSIX paths, where a host family keeps its own
// mingw sysroot for the target triplet (x86_64-w64-mingw32):
//
//	Debian/Ubuntu  /usr/<triplet>                  (mingw-w64 and libz-mingw-w64-dev)
//	Fedora, Cygwin /usr/<triplet>/sys-root/mingw   (mingw64-* packages)
//	MSYS2          /mingw64 or /mingw32            (the native mingw environment)
func DefaultSysroots(f Family, triplet string) []string {
	switch f {
	case Debian:
		return []string{"/usr/" + triplet}
	case Fedora, Cygwin:
		return []string{"/usr/" + triplet + "/sys-root/mingw"}
	case MSYS2:
		if strings.HasPrefix(triplet, "i686") {
			return []string{"/mingw32"}
		}
		return []string{"/mingw64"}
	}
	// Unknown Linux: try both layouts; the probe keeps those that exist.
	return []string{"/usr/" + triplet, "/usr/" + triplet + "/sys-root/mingw"}
}

// DLLDirs gives the folders under a sysroot where a family keeps the mingw
// DLLs (the bundle step resolves imports there).
func DLLDirs(f Family, sysroot string) []string {
	switch f {
	case Debian:
		return []string{sysroot + "/lib", sysroot + "/bin"}
	}
	return []string{sysroot + "/bin"}
}
