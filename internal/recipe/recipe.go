// Package recipe reads the recipes for the mingw libraries qemupack can
// build: one JSON file per library under recipes/deps/.
package recipe

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Dir is where the recipes live, relative to the checkout.
const Dir = "recipes/deps"

// Source is one place a recipe's tarball can come from.
type Source struct {
	URL    string `json:"url"`    // upstream download URL
	SHA256 string `json:"sha256"` // of the tarball
	File   string `json:"file"`   // file name in a mirror folder / cache
	// DebianPackage is the Debian source package that carries this tarball
	// (as its orig tarball), for the offline path on Debian/Ubuntu.
	DebianPackage string `json:"debian_package,omitempty"`
}

// Recipe describes how to build one library.
type Recipe struct {
	Name    string `json:"name"`
	Version string `json:"version"`
	// Provides maps each pkg-config module the library installs to its
	// version (e.g. "glib-2.0": "2.74.6", "gthread-2.0": "2.74.6").
	Provides map[string]string `json:"provides"`
	Sources  []Source          `json:"sources"`
	Build    string            `json:"build"` // meson, autotools, make, cmake
	Options  []string          `json:"options,omitempty"`
	Deps     []string          `json:"deps,omitempty"`
	// LinkTest is a tiny C program compiled and linked against the
	// installed library; LinkLibs are the pkg-config modules it uses.
	LinkTest string   `json:"link_test,omitempty"`
	LinkLibs []string `json:"link_libs,omitempty"`
	Subdir   string   `json:"subdir,omitempty"` // build only this folder of the tree
	License  string   `json:"license,omitempty"`

	Path string `json:"-"` // the file it was read from
}

// Load reads one recipe file and checks its fields.
func Load(path string) (Recipe, error) {
	var r Recipe
	data, err := os.ReadFile(path)
	if err != nil {
		return r, fmt.Errorf("recipe: %w", err)
	}
	dec := json.NewDecoder(strings.NewReader(string(data)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&r); err != nil {
		return r, fmt.Errorf("recipe %s: %w", path, err)
	}
	r.Path = path
	if err := r.Validate(); err != nil {
		return r, fmt.Errorf("recipe %s: %w", path, err)
	}
	return r, nil
}

// Validate reports the first missing or bad field.
func (r Recipe) Validate() error {
	var missing []string
	if r.Name == "" {
		missing = append(missing, "name")
	}
	if r.Version == "" {
		missing = append(missing, "version")
	}
	if len(r.Sources) == 0 {
		missing = append(missing, "sources")
	}
	if r.Build == "" {
		missing = append(missing, "build")
	}
	if len(missing) > 0 {
		return fmt.Errorf("missing field(s): %s", strings.Join(missing, ", "))
	}
	switch r.Build {
	case "meson", "autotools", "make", "cmake":
	default:
		return fmt.Errorf("unknown build system %q (use meson, autotools, make or cmake)", r.Build)
	}
	for i, s := range r.Sources {
		if s.URL == "" || s.File == "" || len(s.SHA256) != 64 {
			return fmt.Errorf("source %d: needs url, file and a 64-digit sha256", i+1)
		}
	}
	return nil
}

// LoadDir reads every *.json recipe in dir, sorted by name.
func LoadDir(dir string) ([]Recipe, error) {
	paths, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		return nil, err
	}
	var out []Recipe
	for _, p := range paths {
		r, err := Load(p)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// Provided maps every pkg-config module the recipes can build to the
// version they build.
func Provided(rs []Recipe) map[string]string {
	m := map[string]string{}
	for _, r := range rs {
		for mod, v := range r.Provides {
			m[mod] = v
		}
	}
	return m
}
