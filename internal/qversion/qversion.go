// Package qversion is qemupack's one way to read and compare version
// numbers: tool and library versions ("is meson 1.0.1 at least 1.5?") and
// QEMU's own release numbers, whose release candidates hide in the third
// field (9.0.90 is 9.1.0-rc0).
package qversion

import (
	"fmt"
	"strings"

	"github.com/hashicorp/go-version"
)

// AtLeast says whether have >= min. An empty min is met by any version;
// equal strings meet each other; a version that does not parse meets no
// other minimum, so an unreadable version never passes a check.
func AtLeast(have, min string) bool {
	if min == "" || have == min {
		return true
	}
	h, err1 := version.NewVersion(have)
	m, err2 := version.NewVersion(min)
	if err1 != nil || err2 != nil {
		return false
	}
	return h.GreaterThanOrEqual(m)
}

// Less orders versions; two that do not both parse are ordered as text.
func Less(a, b string) bool {
	va, ea := version.NewVersion(a)
	vb, eb := version.NewVersion(b)
	if ea != nil || eb != nil {
		return a < b
	}
	return va.LessThan(vb)
}

// Series is the X.Y of X.Y.Z ("7.2" of "7.2.22").
func Series(v string) string {
	p := strings.SplitN(v, ".", 3)
	if len(p) < 2 {
		return v
	}
	return p[0] + "." + p[1]
}

// SameSeries says whether two versions share X.Y.
func SameSeries(a, b string) bool {
	return strings.Count(a, ".") >= 1 && strings.Count(b, ".") >= 1 && Series(a) == Series(b)
}

// QEMU numbers its release candidates x.y.9N: the tarball of 9.1.0-rc0
// calls itself 9.0.90, rc1 is 9.0.91, and so on. hashicorp/go-version
// takes 9.0.90 for a final release, so a constraint like ">= 9.0" would
// accept a candidate. Normalize turns such a number into the prerelease
// it stands for.

// rcBase is where QEMU's candidate numbering starts in the third field.
const rcBase = 90

// Normalize parses a QEMU version and gives a release candidate
// (x.y.9N, or an explicit "-rcN") as a prerelease: 9.0.90 becomes
// 9.1.0-rc0, 9.2.90 10.0.0-rc0 (since 5.0 QEMU makes three releases a
// year, X.0 to X.2, so the candidates of (X+1).0 are numbered X.2.9N).
func Normalize(v string) (*version.Version, error) {
	s := strings.TrimPrefix(strings.TrimSpace(v), "v")
	pv, err := version.NewVersion(s)
	if err != nil {
		return nil, fmt.Errorf("qemu version %q: %w", v, err)
	}
	seg := pv.Segments()
	if pv.Prerelease() == "" && len(seg) >= 3 && seg[2] >= rcBase && seg[2] < 100 {
		if of := CandidateOf(s); of != "" {
			return version.NewVersion(fmt.Sprintf("%s-rc%d", of, seg[2]-rcBase))
		}
	}
	return pv, nil
}

// IsPrerelease says whether v is a release candidate or other prerelease
// (x.y.9N, x.y.z-rcN). A number that does not parse is not a release
// either, so it counts as one.
func IsPrerelease(v string) bool {
	pv, err := Normalize(v)
	return err != nil || pv.Prerelease() != ""
}

// CandidateOf names the release a candidate number leads to: 9.0.90 →
// 9.1.0, 9.2.91 → 10.0.0; "" when v is no candidate number.
func CandidateOf(v string) string {
	ver, err := version.NewVersion(v)
	if err != nil {
		return ""
	}
	seg := ver.Segments()
	if len(seg) < 3 || seg[2] < rcBase || seg[2] >= 100 {
		return ""
	}
	if seg[1] >= 2 {
		return fmt.Sprintf("%d.0.0", seg[0]+1)
	}
	return fmt.Sprintf("%d.%d.0", seg[0], seg[1]+1)
}
