// Package release holds what the CI release job needs beyond the build: the
// list of QEMU releases to build (the job matrix), the check that a pushed
// tag names a known QEMU release, checks of the workflow file itself, the
// SHA256SUMS of a release, and the comparison of two archives for the
// reproducibility check.
package release

import (
	"encoding/json"
	"fmt"
	"qemupack/internal/qversion"
	"regexp"
	"sort"
	"strings"

	"github.com/hashicorp/go-version"
)

// Candidate is one QEMU release as the pick judged it on this host.
type Candidate struct {
	Version string
	// OK says the release can be built with this toolchain and its source
	// can be had.
	OK bool
	// Why says why not (empty when OK).
	Why string
}

// Entry is one job of the matrix.
type Entry struct {
	QEMU   string `json:"qemu"`
	Series string `json:"series"`
}

// Matrix is what `fromJSON` turns into a job matrix.
type Matrix struct {
	Include []Entry `json:"include"`
}

// JSON is the matrix on one line, as GITHUB_OUTPUT needs it.
func (m Matrix) JSON() string {
	b, _ := json.Marshal(m)
	return string(b)
}

// ErrEmptyMatrix is returned (wrapped, with the reasons) when no release
// fits.
type ErrEmptyMatrix struct{ Reasons []string }

func (e *ErrEmptyMatrix) Error() string {
	return "release matrix: no QEMU release can be built here:\n  " + strings.Join(e.Reasons, "\n  ")
}

// NewestSeries returns, for the n newest series (major.minor) that have a
// buildable release, the newest buildable patch release of each, newest
// first. Release candidates are left out. An empty result is an
// *ErrEmptyMatrix listing why each series' newest release was passed over.
func NewestSeries(cands []Candidate, n int) (Matrix, error) {
	if n < 1 {
		return Matrix{}, fmt.Errorf("release matrix: the number of series must be at least 1 (got %d)", n)
	}
	type rel struct {
		v *version.Version
		c Candidate
	}
	var rs []rel
	for _, c := range cands {
		if qversion.IsPrerelease(c.Version) {
			continue
		}
		v, err := version.NewVersion(c.Version)
		if err != nil {
			return Matrix{}, fmt.Errorf("release matrix: version %q: %w", c.Version, err)
		}
		rs = append(rs, rel{v, c})
	}
	sort.SliceStable(rs, func(i, j int) bool { return rs[i].v.GreaterThan(rs[j].v) })
	var m Matrix
	done := map[string]bool{}
	passed := map[string]bool{}
	var reasons []string
	for _, r := range rs {
		s := qversion.Series(r.c.Version)
		if done[s] {
			continue
		}
		if !r.c.OK {
			if !passed[s] && len(reasons) < 8 {
				why := r.c.Why
				if why == "" {
					why = "not buildable here"
				}
				reasons = append(reasons, r.c.Version+": "+why)
			}
			passed[s] = true
			continue
		}
		done[s] = true
		m.Include = append(m.Include, Entry{QEMU: r.c.Version, Series: s})
		if len(m.Include) == n {
			break
		}
	}
	if len(m.Include) == 0 {
		if len(rs) == 0 {
			reasons = append(reasons, "the catalog lists no QEMU release (run `go run mage.go catalog:refresh`)")
		}
		return m, &ErrEmptyMatrix{Reasons: reasons}
	}
	return m, nil
}

// tagForm is what a release tag may look like: v9.2.4, qemu-9.2.4, qemu-v9.2.4.
var tagForm = regexp.MustCompile(`^(?:qemu-v?|v)(\d+\.\d+\.\d+(?:-rc\d+)?)$`)

// VersionFromTag returns the QEMU version a release tag names, checked
// against the versions the catalog knows.
func VersionFromTag(tag string, known []string) (string, error) {
	tag = strings.TrimPrefix(tag, "refs/tags/")
	m := tagForm.FindStringSubmatch(tag)
	if m == nil {
		return "", fmt.Errorf("tag %q does not name a QEMU release: name release tags v<QEMU version> or qemu-<QEMU version>, e.g. v9.2.4 or qemu-9.2.4", tag)
	}
	v := m[1]
	for _, k := range known {
		if k == v {
			return v, nil
		}
	}
	// Suggest the releases of the same series, or the newest ones.
	var same []string
	for _, k := range known {
		if qversion.Series(k) == qversion.Series(v) {
			same = append(same, k)
		}
	}
	hint := same
	if len(hint) == 0 {
		hint = known
		if len(hint) > 6 {
			hint = hint[:6]
		}
	}
	return "", fmt.Errorf("tag %q names QEMU %s, which is not a release the catalog knows (recipes/qemu-releases.json; refresh it with `go run mage.go catalog:refresh`); known: %s",
		tag, v, strings.Join(hint, ", "))
}

// ForTag returns the one-entry matrix for a release tag: the release must
// be known and buildable here.
func ForTag(tag string, cands []Candidate) (Matrix, error) {
	var known []string
	for _, c := range cands {
		known = append(known, c.Version)
	}
	v, err := VersionFromTag(tag, known)
	if err != nil {
		return Matrix{}, err
	}
	for _, c := range cands {
		if c.Version == v && !c.OK {
			return Matrix{}, &ErrEmptyMatrix{Reasons: []string{fmt.Sprintf("tag %s asks for QEMU %s, which this runner cannot build: %s", tag, v, c.Why)}}
		}
	}
	return Matrix{Include: []Entry{{QEMU: v, Series: qversion.Series(v)}}}, nil
}
