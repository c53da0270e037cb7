package sbom

import (
	"fmt"
	"path/filepath"

	"qemupack/internal/deps"
	"qemupack/internal/recipe"
)

// DepsOwners returns one Owner per library prefix given (the prefixes of
// the stack the build used, never whatever else the cache holds): the
// library's name and version from the prefix's manifest, its licence and
// source URL from its recipe in recipesDir, the SHA-256 of the tarball it
// was built from, and its patches (hashed from patchesDir/<name>/<version>/).
func DepsOwners(prefixes []string, recipesDir, patchesDir string) ([]Owner, error) {
	rs, err := recipe.LoadDir(recipesDir)
	if err != nil {
		return nil, fmt.Errorf("sbom: %w", err)
	}
	recipes := map[string]recipe.Recipe{}
	for _, r := range rs {
		recipes[r.Name] = r
	}
	var out []Owner
	for _, prefix := range prefixes {
		man, err := deps.ReadManifest(prefix)
		if err != nil {
			return nil, fmt.Errorf("sbom: %w", err)
		}
		c := Component{Name: man.Name, Version: man.Version, SourceSHA256: man.SHA256,
			// The prefix's name, not its path: where the build machine kept
			// its cache is no part of the bill (two checkouts must give the
			// same bytes).
			Comment: "built by qemupack from recipes/deps/" + man.Name + ".json into the cache's deps/" + filepath.Base(prefix)}
		r, ok := recipes[man.Name]
		if !ok {
			return nil, fmt.Errorf("sbom: the deps prefix %s was built from a recipe named %q, which %s lacks: the bill of materials needs its licence and source URL", prefix, man.Name, recipesDir)
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
				return nil, fmt.Errorf("sbom: %s lists patch %s, which is not in %s: %w", prefix, p, pdir, err)
			}
			c.Patches = append(c.Patches, Patch{Name: "patches/" + man.Name + "/" + man.Version + "/" + filepath.Base(p), SHA1: s1, SHA256: s2})
		}
		out = append(out, Owner{Component: c, Dirs: []string{prefix}})
	}
	return out, nil
}
