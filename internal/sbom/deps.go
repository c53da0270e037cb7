package sbom

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
)

// depManifest is the part of a deps prefix's .qemupack-dep.json we read
// (written by internal/deps when a prefix is complete).
type depManifest struct {
	Name    string   `json:"name"`
	Version string   `json:"version"`
	Source  string   `json:"source"`
	SHA256  string   `json:"sha256"`
	Patches []string `json:"patches"`
}

// recipeInfo is the part of a recipes/deps/<name>.json we read.
type recipeInfo struct {
	Name    string `json:"name"`
	Version string `json:"version"`
	License string `json:"license"`
	Sources []struct {
		URL    string `json:"url"`
		File   string `json:"file"`
		SHA256 string `json:"sha256"`
	} `json:"sources"`
}

// DepManifestName is the file every complete deps prefix holds.
const DepManifestName = ".qemupack-dep.json"

// DepsOwners returns one Owner per complete prefix under depsDir (the
// cache's deps/ folder): the library's name and version from the prefix's
// manifest, its licence and source URL from its recipe in recipesDir, the
// SHA-256 of the tarball it was built from, and its patches (hashed from
// patchesDir/<name>/<version>/ where they are found there).
func DepsOwners(depsDir, recipesDir, patchesDir string) ([]Owner, error) {
	recipes := map[string]recipeInfo{}
	paths, _ := filepath.Glob(filepath.Join(recipesDir, "*.json"))
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			return nil, fmt.Errorf("sbom: recipe: %w", err)
		}
		var r recipeInfo
		if err := json.Unmarshal(data, &r); err != nil {
			return nil, fmt.Errorf("sbom: recipe %s: %w", p, err)
		}
		recipes[r.Name] = r
	}
	manifests, _ := filepath.Glob(filepath.Join(depsDir, "*", DepManifestName))
	sort.Strings(manifests)
	var out []Owner
	for _, m := range manifests {
		data, err := os.ReadFile(m)
		if err != nil {
			return nil, fmt.Errorf("sbom: %w", err)
		}
		var man depManifest
		if err := json.Unmarshal(data, &man); err != nil {
			return nil, fmt.Errorf("sbom: %s: %w", m, err)
		}
		c := Component{Name: man.Name, Version: man.Version, SourceSHA256: man.SHA256,
			// The prefix's name, not its path: where the build machine kept
			// its cache is no part of the bill (two checkouts must give the
			// same bytes).
			Comment: "built by qemupack from recipes/deps/" + man.Name + ".json into the cache's deps/" + filepath.Base(filepath.Dir(m))}
		r, ok := recipes[man.Name]
		if !ok {
			return nil, fmt.Errorf("sbom: the deps prefix %s was built from a recipe named %q, which %s lacks: the bill of materials needs its licence and source URL", filepath.Dir(m), man.Name, recipesDir)
		}
		c.License = r.License
		c.SourceURL = man.Source
		for _, s := range r.Sources {
			if s.SHA256 == man.SHA256 {
				c.SourceURL = s.URL
			}
		}
		pdir := filepath.Join(patchesDir, man.Name, man.Version)
		for _, p := range man.Patches {
			full := filepath.Join(pdir, filepath.Base(p))
			s1, s2, err := HashFile(full)
			if err != nil {
				return nil, fmt.Errorf("sbom: %s lists patch %s, which is not in %s: %w", m, p, pdir, err)
			}
			c.Patches = append(c.Patches, Patch{Name: "patches/" + man.Name + "/" + man.Version + "/" + filepath.Base(p), SHA1: s1, SHA256: s2})
		}
		out = append(out, Owner{Component: c, Dirs: []string{filepath.Dir(m)}})
	}
	return out, nil
}
