package sbom

import (
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Owner says which component a set of build-machine files belongs to.
type Owner struct {
	Component Component
	Dirs      []string // every file under these folders (a deps prefix, QEMU's install folder)
	Files     []string // or exactly these files (absolute paths)
}

// Attributor finds, for every file of a staging folder, the component it
// came from.
type Attributor struct {
	Owners []Owner
	// SearchDirs are further folders where a staged file may have been
	// copied from (the mingw sysroot's bin and lib, the compiler's runtime
	// folder); a file found only there is given to Host.
	SearchDirs []string
	// Host names the component of a build-machine file no Owner claims
	// (e.g. DebianOwner: the Debian package that installed it). nil: such a
	// file is an error.
	Host func(path string) (Component, error)
	// LicenseDir, when set (the bundle uses "LICENSES"), gives every file
	// under <LicenseDir>/<name>/ to the owner whose component is named
	// <name> (compared ignoring case): the licence texts of that component,
	// wherever the bundle extracted them from.
	LicenseDir string
}

// Attribute walks stageDir and returns the components used and one File
// per staged file. origins maps a staged path (slash-separated, relative)
// to the build-machine file it was copied from, where the bundle step knows
// it; other files are looked up by path, then by name, in the owners'
// folders and the search folders (a copy with the same content preferred,
// since the staged copy may have been stripped or signed). skip lists
// staged paths to leave out (the SBOM itself). Every file must be
// accounted for: the error lists each one that is not.
func (a Attributor) Attribute(stageDir string, origins map[string]string, skip ...string) ([]Component, []File, error) {
	skipped := map[string]bool{}
	for _, s := range skip {
		skipped[s] = true
	}
	var staged []string
	err := filepath.WalkDir(stageDir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			return nil
		}
		rel, _ := filepath.Rel(stageDir, p)
		rel = filepath.ToSlash(rel)
		if !skipped[rel] {
			staged = append(staged, rel)
		}
		return nil
	})
	if err != nil {
		return nil, nil, fmt.Errorf("sbom: list %s: %w", stageDir, err)
	}
	sort.Strings(staged)

	names := map[string]bool{}
	for _, s := range staged {
		names[strings.ToLower(filepath.Base(s))] = true
	}
	var roots []string
	for _, o := range a.Owners {
		roots = append(roots, o.Dirs...)
	}
	roots = append(roots, a.SearchDirs...)
	byName := map[string][]string{} // lower-case base name -> candidate paths, in root order
	for _, r := range roots {
		filepath.WalkDir(r, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return nil // a missing search folder is not an error
			}
			if !d.IsDir() && names[strings.ToLower(d.Name())] {
				byName[strings.ToLower(d.Name())] = append(byName[strings.ToLower(d.Name())], p)
			}
			return nil
		})
	}

	hostComps := map[string]Component{}
	used := map[string]Component{}
	var files []File
	var problems []string
	for _, rel := range staged {
		full := filepath.Join(stageDir, filepath.FromSlash(rel))
		s1, s2, err := HashFile(full)
		if err != nil {
			return nil, nil, fmt.Errorf("sbom: %w", err)
		}
		if c, ok := a.licenseOwner(rel); ok {
			used[c.Name] = c
			files = append(files, File{Path: rel, SHA1: s1, SHA256: s2, Component: c.Name, Origin: origins[rel]})
			continue
		}
		origin := origins[rel]
		if origin == "" {
			origin = a.find(rel, full, byName)
		}
		if origin == "" {
			problems = append(problems, fmt.Sprintf("%s: not found in any component's folder (%s)", rel, strings.Join(roots, ", ")))
			continue
		}
		comp, ok := a.owner(origin)
		if !ok {
			// A hard link or copy of a file an owner has (e.g. the deps
			// step's merged stack prefix links each library's files).
			comp, ok = a.ownerOfSame(origin, byName[strings.ToLower(filepath.Base(origin))])
		}
		if !ok {
			if a.Host == nil {
				problems = append(problems, fmt.Sprintf("%s: copied from %s, which no component claims", rel, origin))
				continue
			}
			c, err := a.Host(origin)
			if err != nil {
				problems = append(problems, fmt.Sprintf("%s: copied from %s: %v", rel, origin, err))
				continue
			}
			if prev, ok := hostComps[c.Name]; ok {
				c = prev
			}
			hostComps[c.Name] = c
			comp = c
		}
		used[comp.Name] = comp
		files = append(files, File{Path: rel, SHA1: s1, SHA256: s2, Component: comp.Name, Origin: origin})
	}
	if len(problems) > 0 {
		return nil, nil, fmt.Errorf("sbom: %d staged file(s) cannot be traced to a component:\n  %s", len(problems), strings.Join(problems, "\n  "))
	}
	var comps []Component
	for _, c := range used {
		comps = append(comps, c)
	}
	sort.Slice(comps, func(i, j int) bool { return comps[i].Name < comps[j].Name })
	return comps, files, nil
}

// find returns the build-machine file a staged file was copied from: the
// same relative path under an owner's folder, else a file of the same name
// with the same content, else the first file of that name.
func (a Attributor) find(rel, full string, byName map[string][]string) string {
	for _, o := range a.Owners {
		for _, d := range o.Dirs {
			p := filepath.Join(d, filepath.FromSlash(rel))
			if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() {
				return p
			}
		}
	}
	cands := byName[strings.ToLower(filepath.Base(rel))]
	if len(cands) == 0 {
		return ""
	}
	want, err := os.ReadFile(full)
	if err == nil {
		for _, c := range cands {
			if got, err := os.ReadFile(c); err == nil && bytes.Equal(got, want) {
				return c
			}
		}
	}
	return cands[0]
}

// licenseOwner returns the owner a licence file under LicenseDir/<name>/
// belongs to.
func (a Attributor) licenseOwner(rel string) (Component, bool) {
	if a.LicenseDir == "" || !strings.HasPrefix(rel, a.LicenseDir+"/") {
		return Component{}, false
	}
	name, _, ok := strings.Cut(strings.TrimPrefix(rel, a.LicenseDir+"/"), "/")
	if !ok {
		return Component{}, false
	}
	for _, o := range a.Owners {
		if strings.EqualFold(o.Component.Name, name) {
			return o.Component, true
		}
	}
	return Component{}, false
}

// ownerOfSame returns the owner of a candidate that is the same file as
// path (a hard link) or has the same content.
func (a Attributor) ownerOfSame(path string, cands []string) (Component, bool) {
	fi, err := os.Stat(path)
	if err != nil {
		return Component{}, false
	}
	var data []byte
	for _, c := range cands {
		comp, ok := a.owner(c)
		if !ok {
			continue
		}
		ci, err := os.Stat(c)
		if err != nil {
			continue
		}
		if os.SameFile(fi, ci) {
			return comp, true
		}
		if ci.Size() != fi.Size() {
			continue
		}
		if data == nil {
			if data, err = os.ReadFile(path); err != nil {
				return Component{}, false
			}
		}
		if other, err := os.ReadFile(c); err == nil && bytes.Equal(data, other) {
			return comp, true
		}
	}
	return Component{}, false
}

// owner returns the component whose folder or file list holds path.
func (a Attributor) owner(path string) (Component, bool) {
	best, bestLen := -1, -1
	for i, o := range a.Owners {
		for _, f := range o.Files {
			if filepath.Clean(f) == filepath.Clean(path) {
				return o.Component, true
			}
		}
		for _, d := range o.Dirs {
			d = filepath.Clean(d)
			if strings.HasPrefix(filepath.Clean(path), d+string(filepath.Separator)) && len(d) > bestLen {
				best, bestLen = i, len(d)
			}
		}
	}
	if best < 0 {
		return Component{}, false
	}
	return a.Owners[best].Component, true
}
