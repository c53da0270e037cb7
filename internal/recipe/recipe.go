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
	// DebianFile is the tarball's name in the Debian source package when it
	// differs from File (orig tarballs are named <pkg>_<version>.orig.tar.*).
	DebianFile string `json:"debian_file,omitempty"`
	// Subdir, when set, replaces the recipe's Subdir for this source (a
	// second source may carry the same code at another place in its tree).
	Subdir string `json:"subdir,omitempty"`
	// Note says how the sum was checked or why this source exists.
	Note string `json:"note,omitempty"`
	// DebianPatches, when set, is the Debian packaging tarball that goes
	// with this orig tarball: its debian/patches/series is applied after
	// extracting and before our own patches (Debian's security fixes).
	DebianPatches *DebianPatches `json:"debian_patches,omitempty"`
}

// DebianPatches is a Debian packaging tarball (<package>_<version>.debian.tar.xz)
// whose patch series a build applies.
type DebianPatches struct {
	File   string `json:"file"`
	SHA256 string `json:"sha256"`
	URL    string `json:"url,omitempty"`
	// Skip are series entries not applied: Debian's packaging changes
	// (library names, build-system files a build without autoreconf must
	// not touch); the recipe's notes say why.
	Skip []string `json:"skip,omitempty"`
}

// PkgConfig describes a .pc file to write for a library that installs none.
type PkgConfig struct {
	Module      string `json:"module"`
	Description string `json:"description,omitempty"`
	Libs        string `json:"libs"`
	Cflags      string `json:"cflags,omitempty"`
	LibsPrivate string `json:"libs_private,omitempty"`
}

// CC describes the "cc" build: compile C files of the tree straight with
// the cross compiler into a static library (for libraries whose own build
// cannot cross-compile or is missing from the tarball we have).
type CC struct {
	Sources []string `json:"sources"`          // globs relative to the build folder
	Headers []string `json:"headers"`          // files installed into include/
	Lib     string   `json:"lib"`              // installs lib<Lib>.a
	Cflags  []string `json:"cflags,omitempty"` // extra compiler flags
}

// Recipe describes how to build one library.
type Recipe struct {
	Name    string `json:"name"`
	Version string `json:"version"`
	// Provides maps each pkg-config module the library installs to its
	// version (e.g. "glib-2.0": "2.74.6", "gthread-2.0": "2.74.6").
	Provides map[string]string `json:"provides"`
	Sources  []Source          `json:"sources"`
	Build    string            `json:"build"` // meson, autotools, cmake, make, cc
	Options  []string          `json:"options,omitempty"`
	Deps     []string          `json:"deps,omitempty"`
	// LinkTest is a tiny C program compiled and linked against the
	// installed library; LinkLibs are the pkg-config modules it uses.
	LinkTest string   `json:"link_test,omitempty"`
	LinkLibs []string `json:"link_libs,omitempty"`
	Subdir   string   `json:"subdir,omitempty"` // build only this folder of the tree
	License  string   `json:"license,omitempty"`

	// MakeDirs (autotools) limits make and make install to these folders
	// of the build tree (gettext: only gettext-runtime's intl/).
	MakeDirs []string `json:"make_dirs,omitempty"`
	// MakeArgs (make) are the arguments of make and make install; {prefix},
	// {cross} and {jobs} are replaced.
	MakeArgs []string `json:"make_args,omitempty"`
	// PkgConfig, when set, is written as lib/pkgconfig/<module>.pc.
	PkgConfig *PkgConfig `json:"pkg_config,omitempty"`
	CC        *CC        `json:"cc,omitempty"`
	// LicenseFiles are licence texts of the source tree (paths relative
	// to its top folder) that the build copies into
	// share/licenses/<name>/, for trees whose licence files the bundle's
	// finder would miss by name (libssh's BSD, capstone's
	// LICENSE_LLVM.TXT). When set, the bundle uses exactly these.
	LicenseFiles []string `json:"license_files,omitempty"`
	// HostMin is the lowest version of a host copy (QEMUPACK_DEPS=auto)
	// that is used instead of building; default Version.
	HostMin string `json:"host_min,omitempty"`
	// BuildTools are programs of the build machine the build runs besides
	// the compilers and the build system: GLib's glib-mkenums,
	// glib-compile-resources, ... which meson's gnome module runs for the
	// GTK stack, or "cc" for a tree that compiles generators for the build
	// machine (fribidi). "{cross}" in a name stands for the cross prefix
	// ("{cross}g++"). deps finds each on PATH before anything builds and
	// names the package to install when one is missing.
	BuildTools []string `json:"build_tools,omitempty"`
	// Notes: why options or patches are there, what to check on an update.
	Notes []string `json:"notes,omitempty"`

	Path string `json:"-"` // the file it was read from
}

// BuildSystems are the values "build" may take.
var BuildSystems = []string{"meson", "autotools", "cmake", "make", "cc"}

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
	if len(r.Provides) == 0 {
		missing = append(missing, "provides")
	}
	if r.LinkTest == "" {
		missing = append(missing, "link_test")
	}
	if len(missing) > 0 {
		return fmt.Errorf("missing field(s): %s", strings.Join(missing, ", "))
	}
	switch r.Build {
	case "meson", "autotools", "cmake", "make":
	case "cc":
		if r.CC == nil || len(r.CC.Sources) == 0 || r.CC.Lib == "" {
			return fmt.Errorf("build \"cc\" needs a cc block with sources and lib")
		}
	default:
		return fmt.Errorf("unknown build system %q (use %s)", r.Build, strings.Join(BuildSystems, ", "))
	}
	for _, d := range r.Deps {
		if d == r.Name {
			return fmt.Errorf("depends on itself")
		}
	}
	for _, f := range r.LicenseFiles {
		if f == "" || strings.HasPrefix(f, "/") || strings.Contains(f, `\`) || strings.Contains("/"+f+"/", "/../") {
			return fmt.Errorf("license_files: %q is not a relative path inside the source tree", f)
		}
	}
	if r.PkgConfig != nil && (r.PkgConfig.Module == "" || r.PkgConfig.Libs == "") {
		return fmt.Errorf("pkg_config needs module and libs")
	}
	for _, t := range r.BuildTools {
		if t == "" || strings.ContainsAny(t, `/\ `) {
			return fmt.Errorf("build_tools: %q is not a program name (no folders: deps looks it up on PATH)", t)
		}
	}
	for i, s := range r.Sources {
		if (s.URL == "" && s.DebianPackage == "") || s.File == "" || len(s.SHA256) != 64 {
			return fmt.Errorf("source %d: needs a url (or debian_package), a file and a 64-digit sha256", i+1)
		}
		if strings.Trim(strings.ToLower(s.SHA256), "0123456789abcdef") != "" {
			return fmt.Errorf("source %d: sha256 %q is not hexadecimal", i+1, s.SHA256)
		}
		if d := s.DebianPatches; d != nil {
			if d.File == "" || strings.ContainsAny(d.File, `/\`) || len(d.SHA256) != 64 || strings.Trim(strings.ToLower(d.SHA256), "0123456789abcdef") != "" {
				return fmt.Errorf("source %d: debian_patches needs a file name and a 64-digit sha256", i+1)
			}
			if d.URL == "" && s.DebianPackage == "" {
				return fmt.Errorf("source %d: debian_patches needs a url (or the source's debian_package)", i+1)
			}
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
