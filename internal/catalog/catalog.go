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
	"sort"

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
	for i, r := range rs {
		if _, err := version.NewVersion(r.Version); err != nil {
			return nil, fmt.Errorf("catalog %s: entry %d: version %q: %w", path, i, r.Version, err)
		}
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
