// Package catalog holds what every QEMU release (5.0.0 onwards) requires of
// the build toolchain, as its own configure / meson.build / pythondeps.toml
// declare it. The data lives in recipes/qemu-releases.json; the parser in
// this package produces it from real release trees.
package catalog

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"qemupack/internal/qversion"
	"regexp"
	"sort"
	"strings"

	"github.com/hashicorp/go-version"
)

// File is where the catalog lives, relative to the checkout.
const File = "recipes/qemu-releases.json"

// Release is one QEMU release and what it requires.
type Release struct {
	Version        string `json:"version"`
	GlibMin        string `json:"glib_min"`
	GthreadChecked bool   `json:"gthread_checked"`
	MesonMin       string `json:"meson_min"` // "" when the release does not use meson
	MesonBundled   bool   `json:"meson_bundled"`
	PythonMin      string `json:"python_min"`
	NinjaRequired  bool   `json:"ninja_required"`
	PixmanMin      string `json:"pixman_min"`
	Slirp          string `json:"slirp"` // "bundled", "system" or "none"
	Fdt            string `json:"fdt"`   // libfdt: "bundled" (dtc in the tarball), "system" or "none"
	// Source says where the files this entry was parsed from came from
	// (a tarball's name, or a note in the tree such as a Debian repack
	// plus upstream stable diffs).
	Source string `json:"source,omitempty"`
	// Source of the release tarball, when known.
	URL    string `json:"url,omitempty"`
	SHA256 string `json:"sha256,omitempty"`

	// Inherits names the release of the same series whose requirements
	// this one takes, when this release's own files were not read: the
	// file stores no requirement values for it, Load copies them from
	// that release, and the build re-reads the tree (CheckTree) before
	// configure. Source then says where the release is known from.
	Inherits string `json:"inherits,omitempty"`
	// Unknown says why this release's requirements are not known (no tree
	// of its series was read); such a release is never buildable.
	Unknown string `json:"requirements_unknown,omitempty"`
	// Upstream says how its upstream tarball is verified (pinned sha256,
	// OpenPGP signature, both). LoadFrom fills it from the signing keys
	// pinned beside the catalog; it is never stored in the catalog file.
	Upstream *Upstream `json:"upstream,omitempty"`
}

// Read says whether the entry's requirements come from its own files.
func (r Release) Read() bool { return r.Inherits == "" && r.Unknown == "" }

// Series is "X.Y" of "X.Y.Z".
func Series(v string) string {
	parts := strings.SplitN(v, ".", 3)
	if len(parts) < 2 {
		return v
	}
	return parts[0] + "." + parts[1]
}

// requirements copies what a release requires from src into r.
func (r *Release) requirements(src Release) {
	r.GlibMin, r.GthreadChecked = src.GlibMin, src.GthreadChecked
	r.MesonMin, r.MesonBundled = src.MesonMin, src.MesonBundled
	r.PythonMin, r.NinjaRequired, r.PixmanMin = src.PythonMin, src.NinjaRequired, src.PixmanMin
	r.Slirp, r.Fdt = src.Slirp, src.Fdt
}

// Requires says whether the entry carries requirement values (its own or
// inherited): a bare Release{Version: ...} made by hand does not.
func (r Release) Requires() bool { return r.hasRequirements() }

// hasRequirements says whether any requirement value is set.
func (r Release) hasRequirements() bool {
	var zero Release
	zero.requirements(r)
	return zero != (Release{})
}

// Load reads the catalog file and returns the releases, newest first.
func Load(path string) ([]Release, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("catalog: %w (run `go run mage.go catalog:refresh` to make it)", err)
	}
	var rs []Release
	if err := json.Unmarshal(data, &rs); err != nil {
		return nil, fmt.Errorf("catalog %s: not valid JSON: %w", path, err)
	}
	for i := range rs {
		rs[i].Upstream = nil // derived, never read from the file
	}
	if err := resolve(path, rs); err != nil {
		return nil, err
	}
	if err := validate(path, rs); err != nil {
		return nil, err
	}
	SortNewestFirst(rs)
	return rs, nil
}

// LoadFrom reads the catalog of the checkout at root, with each release's
// upstream verification from the signing keys pinned beside it.
func LoadFrom(root string) ([]Release, error) {
	rs, err := Load(filepath.Join(root, File))
	if err != nil {
		return nil, err
	}
	keys, err := LoadKeysFrom(root)
	if err != nil {
		return nil, err
	}
	AttachUpstream(rs, keys)
	return rs, nil
}

// resolve fills the requirements of entries that inherit them. An entry
// that inherits names a release of its own series that is older and was
// read itself, and states no requirement values of its own.
func resolve(path string, rs []Release) error {
	byVersion := map[string]Release{}
	for _, r := range rs {
		byVersion[r.Version] = r
	}
	var problems []string
	for i := range rs {
		r := &rs[i]
		bad := func(format string, args ...any) {
			problems = append(problems, fmt.Sprintf("entry %d (%q): %s", i, r.Version, fmt.Sprintf(format, args...)))
		}
		switch {
		case r.Inherits != "" && r.Unknown != "":
			bad("inherits %s and says its requirements are unknown: keep one", r.Inherits)
		case r.Inherits != "":
			base, ok := byVersion[r.Inherits]
			switch {
			case r.hasRequirements():
				bad("inherits %s's requirements and states its own: keep one (refresh from its tree to record its own)", r.Inherits)
			case !ok:
				bad("inherits %s, which the catalog does not list", r.Inherits)
			case !base.Read():
				bad("inherits %s, whose own files were not read either: name a release that was", r.Inherits)
			case Series(base.Version) != Series(r.Version):
				bad("inherits %s of another series: only a release of its own series (%s) will do", r.Inherits, Series(r.Version))
			case !qversion.Less(base.Version, r.Version):
				bad("inherits %s, which is not older", r.Inherits)
			default:
				r.requirements(base)
			}
		case r.Unknown != "":
			if r.hasRequirements() {
				bad("says its requirements are unknown yet states some: keep one")
			}
		}
	}
	if len(problems) > 0 {
		return fmt.Errorf("catalog %s: %s", path, strings.Join(problems, "; "))
	}
	return nil
}

// SortNewestFirst orders releases by version, newest first.
func SortNewestFirst(rs []Release) {
	sort.SliceStable(rs, func(i, j int) bool {
		a, _ := version.NewVersion(rs[i].Version)
		b, _ := version.NewVersion(rs[j].Version)
		if a == nil || b == nil {
			return rs[i].Version > rs[j].Version
		}
		return a.GreaterThan(b)
	})
}

var reSHA256 = regexp.MustCompile(`^[0-9a-f]{64}$`)

// validate checks every entry, so a hand-edited or truncated catalog is
// reported with the entry and field at fault.
func validate(path string, rs []Release) error {
	var problems []string
	seen := map[string]bool{}
	for i, r := range rs {
		bad := func(format string, args ...any) {
			problems = append(problems, fmt.Sprintf("entry %d (%q): %s", i, r.Version, fmt.Sprintf(format, args...)))
		}
		if _, err := version.NewVersion(r.Version); err != nil {
			bad("version is not a version number")
			continue
		}
		if qversion.IsPrerelease(r.Version) {
			bad("is a release candidate; the catalog holds releases only")
		}
		if seen[r.Version] {
			bad("appears twice")
		}
		seen[r.Version] = true
		if r.Unknown == "" { // an entry of unknown requirements states none
			problems = append(problems, requirementProblems(i, r)...)
		}
		if r.SHA256 != "" && !reSHA256.MatchString(r.SHA256) {
			bad("sha256 %q is not 64 lowercase hex digits", r.SHA256)
		}
		if (r.SHA256 == "") != (r.URL == "") {
			bad("url and sha256 go together: give both or neither")
		}
	}
	if len(problems) > 0 {
		return fmt.Errorf("catalog %s: %s", path, strings.Join(problems, "; "))
	}
	return nil
}

// requirementProblems checks the requirement values of entry i.
func requirementProblems(i int, r Release) []string {
	var problems []string
	bad := func(format string, args ...any) {
		problems = append(problems, fmt.Sprintf("entry %d (%q): %s", i, r.Version, fmt.Sprintf(format, args...)))
	}
	for _, f := range []struct{ name, val string }{{"glib_min", r.GlibMin}, {"python_min", r.PythonMin}, {"pixman_min", r.PixmanMin}} {
		if _, err := version.NewVersion(f.val); err != nil {
			bad("%s %q is not a version number", f.name, f.val)
		}
	}
	if r.MesonMin != "" {
		if _, err := version.NewVersion(r.MesonMin); err != nil {
			bad("meson_min %q is not a version number", r.MesonMin)
		}
	}
	switch r.Slirp {
	case Bundled, System, None:
	default:
		bad("slirp %q: want bundled, system or none", r.Slirp)
	}
	switch r.Fdt {
	case Bundled, System, None:
	default:
		bad("fdt %q: want bundled, system or none", r.Fdt)
	}
	return problems
}
