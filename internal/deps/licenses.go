package deps

import (
	"fmt"
	"os"
	"path/filepath"

	"qemupack/internal/atomicfile"
	"qemupack/internal/recipe"
)

// LicenseDir is where a prefix keeps the licence texts its recipe names
// (license_files), below the prefix: share/licenses/<recipe name>/. The
// bundle's licence finder takes a library's licence from there before it
// looks into the source tarball.
func LicenseDir(r recipe.Recipe) string {
	return filepath.Join("share", "licenses", r.Name)
}

// installLicenses copies the recipe's license_files from the source tree
// (its top folder, after patches) into the staged prefix. A file the
// recipe names that the tree lacks is an error: the recipe is out of date.
func installLicenses(root, stage string, r recipe.Recipe) error {
	if len(r.LicenseFiles) == 0 {
		return nil
	}
	dir := filepath.Join(stage, LicenseDir(r))
	for _, f := range r.LicenseFiles {
		src := filepath.Join(root, filepath.FromSlash(f))
		fi, err := os.Stat(src)
		if err != nil || !fi.Mode().IsRegular() {
			return fmt.Errorf("license_files: the source tree has no file %s (fix recipes/deps/%s.json)", f, r.Name)
		}
		dst := filepath.Join(dir, filepath.FromSlash(f))
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return err
		}
		if err := atomicfile.Copy(src, dst); err != nil {
			return fmt.Errorf("license_files: %w", err)
		}
	}
	return nil
}
