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
	if err := validate(path, rs); err != nil {
		return nil, err
	}
	SortNewestFirst(rs)
	return rs, nil
}

// LoadFrom reads the catalog of the checkout at root.
func LoadFrom(root string) ([]Release, error) {
	return Load(filepath.Join(root, File))
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
		if IsPrerelease(r.Version) {
			bad("is a release candidate; the catalog holds releases only")
		}
		if seen[r.Version] {
			bad("appears twice")
		}
		seen[r.Version] = true
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
