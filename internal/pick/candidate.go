package pick

import (
	"fmt"

	"github.com/hashicorp/go-version"
)

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
