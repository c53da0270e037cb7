package catalog

import (
	"fmt"
	"strings"

	"github.com/hashicorp/go-version"
)

// QEMU numbers its release candidates x.y.9N: the tarball of 9.1.0-rc0
// calls itself 9.0.90, rc1 is 9.0.91, and so on. hashicorp/go-version
// takes 9.0.90 for a final release, so a constraint like ">= 9.0" would
// accept a candidate. Normalize turns such a number into the prerelease
// it stands for.

// rcBase is where QEMU's candidate numbering starts in the third field.
const rcBase = 90

// Normalize parses a QEMU version and gives a release candidate
// (x.y.9N, or an explicit "-rcN") as a prerelease: 9.0.90 becomes
// 9.1.0-rc0. After the last minor of a major series the next release is
// (x+1).0 (9.2.90 was 10.0.0-rc0); the number alone cannot tell, so the
// result is 9.3.0-rc0, which still sorts after every 9.2.z and before
// 10.0.0 and is still a prerelease.
func Normalize(v string) (*version.Version, error) {
	s := strings.TrimPrefix(strings.TrimSpace(v), "v")
	pv, err := version.NewVersion(s)
	if err != nil {
		return nil, fmt.Errorf("qemu version %q: %w", v, err)
	}
	seg := pv.Segments()
	if pv.Prerelease() == "" && len(seg) >= 3 && seg[2] >= rcBase && seg[2] < 100 {
		return version.NewVersion(fmt.Sprintf("%d.%d.0-rc%d", seg[0], seg[1]+1, seg[2]-rcBase))
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
