package debian

import (
	"fmt"
	"strings"
)

// QEMUSource is a version of Debian's qemu source package as a candidate
// source of a QEMU release: where it is listed, the upstream release it
// repacks and, when known, the release Debian's patch series brings it
// to.
type QEMUSource struct {
	SourcePkg
	// Upstream is the upstream release its orig tarball repacks (7.2.0
	// for "7.2+dfsg"); Level is the release Debian's patch series brings
	// it to (7.2.22: the series carries upstream's stable diffs), "" when
	// unknown.
	Upstream  string `json:"upstream"`
	Level     string `json:"level,omitempty"`
	LevelFrom string `json:"level_from,omitempty"` // how Level was learned
	// Problem says why this version cannot be used ("" when it can): its
	// files are not served, the archive cannot be reached.
	Problem string `json:"problem,omitempty"`
}

// Release is the QEMU release this source package gives: Level when
// known, else Upstream.
func (d QEMUSource) Release() string {
	if d.Level != "" {
		return d.Level
	}
	return d.Upstream
}

// Where names the version and the suite that lists it: "1:10.2.2+ds-1
// (sid)".
func (d QEMUSource) Where() string {
	if d.Suite == "" {
		return d.Version
	}
	return d.Version + " (" + d.Suite + ")"
}

// Describe says what the package is, in a user's words.
func (d QEMUSource) Describe() string {
	s := fmt.Sprintf("Debian's source package %s %s: QEMU %s as Debian repacks it", d.Package, d.Where(), d.Upstream)
	if strings.Contains(d.Version, "dfsg") || strings.Contains(d.Version, "+ds") {
		s += " (parts of upstream's tarball removed)"
	}
	s += ", with Debian's patches"
	if d.Level != "" && d.Level != d.Upstream {
		s += fmt.Sprintf(", which bring it to %s (%s)", d.Level, d.LevelFrom)
	}
	return s
}
