package release

import (
	"fmt"
	"path/filepath"
	"strings"

	"qemupack/internal/pick"
	"qemupack/internal/sbom"
)

// FromVerdicts turns the pick's verdicts into matrix candidates: a release
// is OK when the pick could choose it (buildable with this toolchain, its
// source obtainable, inside QEMU_VERSION); release candidates are left out.
func FromVerdicts(vs []pick.Verdict) []Candidate {
	var out []Candidate
	for _, v := range vs {
		if v.Candidate {
			continue
		}
		c := Candidate{Version: v.Version, OK: v.Eligible() && v.Buildable && v.Obtainable}
		switch {
		case c.OK:
		case v.Excluded:
			c.Why = "outside QEMU_VERSION"
		case len(v.Blockers) > 0:
			c.Why = strings.Join(v.Blockers, "; ")
		case !v.Obtainable:
			c.Why = "its source cannot be had here"
		default:
			c.Why = "not buildable with this toolchain"
		}
		out = append(out, c)
	}
	return out
}

// QEMUSource is what the SBOM says of the QEMU source a build used.
type QEMUSource struct {
	Version     string   // the real version, e.g. 7.2.22
	FullVersion string   // as the archive names it, e.g. 7.2.22-debian
	Origin      string   // one line on where the source came from
	Patches     []string // ours, from patches/qemu/<version>
	// URL and SHA256 name what the tree was made from: the upstream
	// tarball, or the Debian source package's .dsc (whose debian tarball
	// holds Debian's own patch series).
	URL, SHA256 string
	Debian      bool
}

// QEMUComponent describes the QEMU source a build used, for the SBOM: what
// the source tree was made from, and our patches from
// patches/qemu/<version>/ as the build record lists them.
func QEMUComponent(rec QEMUSource, root string) (sbom.Component, error) {
	c := sbom.Component{Name: "qemu", Version: rec.FullVersion, License: "GPL-2.0-only", Comment: rec.Origin,
		SourceURL: rec.URL, SourceSHA256: rec.SHA256}
	if rec.Debian {
		c.Comment += " (Debian's own patch series is in the debian tarball the .dsc names)"
	}
	if c.SourceURL == "" || c.SourceSHA256 == "" {
		return c, fmt.Errorf("release: the source tree of qemu %s does not say what it was made from (URL and sha256): the bill of materials needs both", rec.FullVersion)
	}
	dir := filepath.Join(root, "patches", "qemu", rec.Version)
	for _, p := range rec.Patches {
		s1, s2, err := sbom.HashFile(filepath.Join(dir, filepath.Base(p)))
		if err != nil {
			return c, fmt.Errorf("release: the build applied patch %s, which is not in %s: %w", p, dir, err)
		}
		c.Patches = append(c.Patches, sbom.Patch{Name: "patches/qemu/" + rec.Version + "/" + filepath.Base(p), SHA1: s1, SHA256: s2})
	}
	return c, nil
}
