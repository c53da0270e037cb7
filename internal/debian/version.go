package debian

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
)

// CompareDebian orders two Debian package versions the way dpkg does:
// epoch, then upstream version, then revision, each compared by
// alternating non-digit parts (with ~ before everything, letters before
// other characters) and numeric parts.
func CompareDebian(a, b string) int {
	ea, ua, ra := splitVersion(a)
	eb, ub, rb := splitVersion(b)
	if c := compareNum(ea, eb); c != 0 {
		return c
	}
	if c := compareFragment(ua, ub); c != 0 {
		return c
	}
	return compareFragment(ra, rb)
}

// SortVersionsDesc sorts Debian versions highest first.
func SortVersionsDesc(vs []string) {
	sort.SliceStable(vs, func(i, j int) bool { return CompareDebian(vs[i], vs[j]) > 0 })
}

// splitVersion splits [epoch:]upstream[-revision].
func splitVersion(v string) (epoch, upstream, revision string) {
	epoch = "0"
	if i := strings.IndexByte(v, ':'); i >= 0 {
		epoch, v = v[:i], v[i+1:]
	}
	if i := strings.LastIndexByte(v, '-'); i >= 0 {
		return epoch, v[:i], v[i+1:]
	}
	return epoch, v, ""
}

// UpstreamPart is a Debian version without its epoch and revision:
// "7.2+dfsg" of "1:7.2+dfsg-7+deb12u18".
func UpstreamPart(v string) string {
	_, up, _ := splitVersion(v)
	return up
}

var upstreamNumber = regexp.MustCompile(`^(\d+)\.(\d+)(?:\.(\d+))?`)

// UpstreamOfDebian maps a Debian version of QEMU to the upstream release
// its orig tarball holds, as QEMU numbers it (X.Y means X.Y.0):
// 1:7.2+dfsg-7+deb12u18 → 7.2.0, 1:8.2.2+ds-0ubuntu1.4 → 8.2.2,
// 1:10.2.2+ds-1 → 10.2.2.
func UpstreamOfDebian(v string) (string, error) {
	m := upstreamNumber.FindStringSubmatch(UpstreamPart(v))
	if m == nil {
		return "", fmt.Errorf("Debian version %q: no upstream X.Y[.Z] at the start of %q", v, UpstreamPart(v))
	}
	patch := m[3]
	if patch == "" {
		patch = "0"
	}
	return m[1] + "." + m[2] + "." + patch, nil
}

var (
	qemuVersionLine = regexp.MustCompile(`QEMU emulator version (\d+\.\d+\.\d+)(?:\s*\(([^)]*)\))?`)
	binNMU          = regexp.MustCompile(`\+b\d+$`)
)

// ParseQEMUVersion reads `qemu-system-x86_64 --version`: "QEMU emulator
// version 7.2.22 (Debian 1:7.2+dfsg-7+deb12u18+b3)" → 7.2.22 and the
// Debian version with any binary-rebuild suffix (+bN) removed.
func ParseQEMUVersion(out string) (upstream, debianVersion string) {
	m := qemuVersionLine.FindStringSubmatch(out)
	if m == nil {
		return "", ""
	}
	upstream = m[1]
	if rest, ok := strings.CutPrefix(strings.TrimSpace(m[2]), "Debian "); ok {
		debianVersion = binNMU.ReplaceAllString(strings.TrimSpace(rest), "")
	}
	return upstream, debianVersion
}

func compareNum(a, b string) int {
	a, b = strings.TrimLeft(a, "0"), strings.TrimLeft(b, "0")
	if len(a) != len(b) {
		if len(a) < len(b) {
			return -1
		}
		return 1
	}
	return strings.Compare(a, b)
}

// order is dpkg's weight of a non-digit character.
func order(c byte) int {
	switch {
	case c == '~':
		return -1
	case c >= '0' && c <= '9':
		return 0
	case c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z':
		return int(c)
	}
	return int(c) + 256
}

func compareFragment(a, b string) int {
	for a != "" || b != "" {
		// Non-digit prefix.
		for (a != "" && !isDigit(a[0])) || (b != "" && !isDigit(b[0])) {
			var ca, cb int
			if a != "" && !isDigit(a[0]) {
				ca = order(a[0])
			}
			if b != "" && !isDigit(b[0]) {
				cb = order(b[0])
			}
			if ca != cb {
				if ca < cb {
					return -1
				}
				return 1
			}
			if a != "" && !isDigit(a[0]) {
				a = a[1:]
			}
			if b != "" && !isDigit(b[0]) {
				b = b[1:]
			}
		}
		// Digit run.
		i, j := 0, 0
		for i < len(a) && isDigit(a[i]) {
			i++
		}
		for j < len(b) && isDigit(b[j]) {
			j++
		}
		if c := compareNum(a[:i], b[:j]); c != 0 {
			return c
		}
		a, b = a[i:], b[j:]
	}
	return 0
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }
