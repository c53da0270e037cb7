package pick

import (
	"bufio"
	"fmt"
	"regexp"
	"strings"

	"github.com/hashicorp/go-version"
)

// DebianSource is the QEMU source package the host's apt knows (deb-src):
// the offline way to QEMU's source on Debian/Ubuntu.
type DebianSource struct {
	Package string `json:"package"` // qemu
	Version string `json:"version"` // 1:7.2+dfsg-7+deb12u18
	// Upstream is the upstream release its orig tarball repacks (7.2.0 for
	// "7.2+dfsg"); Level is the release Debian's patch series brings it to
	// (7.2.22: the series carries upstream's stable diffs), "" when unknown.
	Upstream  string `json:"upstream"`
	Level     string `json:"level,omitempty"`
	LevelFrom string `json:"level_from,omitempty"` // how Level was learned
}

// Release is the catalog release this source package gives: Level when
// known, else Upstream.
func (d DebianSource) Release() string {
	if d.Level != "" {
		return d.Level
	}
	return d.Upstream
}

// Describe says what the package is, in a user's words.
func (d DebianSource) Describe() string {
	s := fmt.Sprintf("Debian's source package %s %s: Debian's repack of %s", d.Package, d.Version, d.Upstream)
	if strings.Contains(d.Version, "dfsg") || strings.Contains(d.Version, "+ds") {
		s += " (non-free parts removed)"
	}
	s += " with Debian's patches"
	if d.Level != "" && d.Level != d.Upstream {
		s += fmt.Sprintf(", which bring it to %s (%s)", d.Level, d.LevelFrom)
	}
	return s
}

// ParseShowsrc returns the versions of the named source package in the
// output of `apt-cache showsrc NAME` (one stanza per version the archive
// offers), highest first by Debian's ordering.
func ParseShowsrc(out, pkg string) []string {
	var versions []string
	cur := ""
	flush := func(v string) {
		if cur == pkg && v != "" {
			versions = append(versions, v)
		}
	}
	var ver string
	sc := bufio.NewScanner(strings.NewReader(out))
	sc.Buffer(make([]byte, 64*1024), 4*1024*1024)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.TrimSpace(line) == "":
			flush(ver)
			cur, ver = "", ""
		case strings.HasPrefix(line, "Package:"):
			cur = strings.TrimSpace(strings.TrimPrefix(line, "Package:"))
		case strings.HasPrefix(line, "Version:"):
			ver = strings.TrimSpace(strings.TrimPrefix(line, "Version:"))
		}
	}
	flush(ver)
	sortDebianDesc(versions)
	return versions
}

func sortDebianDesc(vs []string) {
	for i := 1; i < len(vs); i++ {
		for j := i; j > 0 && CompareDebian(vs[j], vs[j-1]) > 0; j-- {
			vs[j], vs[j-1] = vs[j-1], vs[j]
		}
	}
}

var upstreamNumber = regexp.MustCompile(`^(\d+)\.(\d+)(?:\.(\d+))?`)

// UpstreamOfDebian maps a Debian version of QEMU to the upstream release
// its orig tarball holds: 1:7.2+dfsg-7+deb12u18 → 7.2.0,
// 1:8.2.2+ds-0ubuntu1.4 → 8.2.2. QEMU's X.Y means X.Y.0.
func UpstreamOfDebian(v string) (string, error) {
	s := v
	if i := strings.IndexByte(s, ':'); i >= 0 {
		s = s[i+1:]
	}
	if i := strings.LastIndexByte(s, '-'); i >= 0 {
		s = s[:i]
	}
	m := upstreamNumber.FindStringSubmatch(s)
	if m == nil {
		return "", fmt.Errorf("Debian version %q: no upstream X.Y[.Z] in it", v)
	}
	patch := m[3]
	if patch == "" {
		patch = "0"
	}
	return m[1] + "." + m[2] + "." + patch, nil
}

var qemuVersionLine = regexp.MustCompile(`QEMU emulator version (\d+\.\d+\.\d+)(?:\s*\(([^)]*)\))?`)

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
		debianVersion = regexp.MustCompile(`\+b\d+$`).ReplaceAllString(strings.TrimSpace(rest), "")
	}
	return upstream, debianVersion
}

// CompareDebian orders two Debian package versions the way dpkg does:
// epoch, then upstream version, then revision, each compared by
// alternating non-digit parts (with ~ before everything, letters before
// other characters) and numeric parts.
func CompareDebian(a, b string) int {
	ea, ua, ra := splitDebian(a)
	eb, ub, rb := splitDebian(b)
	if c := compareNum(ea, eb); c != 0 {
		return c
	}
	if c := compareFragment(ua, ub); c != 0 {
		return c
	}
	return compareFragment(ra, rb)
}

func splitDebian(v string) (epoch, upstream, revision string) {
	epoch = "0"
	if i := strings.IndexByte(v, ':'); i >= 0 {
		epoch, v = v[:i], v[i+1:]
	}
	if i := strings.LastIndexByte(v, '-'); i >= 0 {
		return epoch, v[:i], v[i+1:]
	}
	return epoch, v, ""
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

// IsCandidate says whether a QEMU version is a release candidate: QEMU
// numbers the candidates of X.(Y+1) as X.Y.9N (9.0.90 is 9.1.0-rc0), and a
// version with a prerelease part (-rc1) is one too.
func IsCandidate(v string) bool {
	ver, err := version.NewVersion(v)
	if err != nil {
		return false
	}
	if ver.Prerelease() != "" {
		return true
	}
	seg := ver.Segments()
	return len(seg) >= 3 && seg[2] >= 90
}

// candidateOf names the release a candidate leads to: 9.0.90 → 9.1.0.
// Since 5.0 QEMU makes three releases a year, X.0 to X.2, so the
// candidates of (X+1).0 are numbered X.2.9N.
func candidateOf(v string) string {
	ver, err := version.NewVersion(v)
	if err != nil {
		return ""
	}
	seg := ver.Segments()
	if len(seg) < 3 || seg[2] < 90 {
		return ""
	}
	if seg[1] >= 2 {
		return fmt.Sprintf("%d.0.0", seg[0]+1)
	}
	return fmt.Sprintf("%d.%d.0", seg[0], seg[1]+1)
}
