package testprep

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"qemupack/internal/bundle"
	"qemupack/internal/config"
	"qemupack/internal/debian"
	"qemupack/internal/source"
)

// FirmwareDebsDir is where, under the test mirror, FirmwareDebs puts the
// firmware packages: one folder per suite (bookworm/, trixie/, sid/...)
// holding <pkg>_<version>_all.deb. internal/bundle's table test reads it.
const FirmwareDebsDir = "firmware-debs"

// FirmwareDebs downloads, through the private apt tree, every Debian
// package the firmware table names (bundle.FirmwarePackageNames) in the
// highest version each of the tree's suites lists (security and updates
// suites count as their release's), into <mirror>/firmware-debs/<suite>/,
// each checked against the signed index's sha256; a file already there
// with that sum is kept. It does nothing offline (the table test then
// says it was skipped).
func FirmwareDebs(ctx context.Context, cfg config.Config, mirror string, out io.Writer) error {
	if cfg.Offline {
		fmt.Fprintf(out, "test inputs: offline: the firmware packages are not fetched (internal/bundle's table test is skipped)\n")
		return nil
	}
	say := func(s string) { fmt.Fprintln(out, "test inputs: "+s) }
	tree, err := debian.Open(ctx, cfg.CacheDir, debian.Options{Suites: cfg.Suites, Progress: say})
	if err != nil {
		return fmt.Errorf("test inputs: firmware packages: %w", err)
	}
	for _, pkg := range bundle.FirmwarePackageNames() {
		vs, err := tree.BinaryVersions(ctx, pkg)
		if err != nil {
			return fmt.Errorf("test inputs: %w", err)
		}
		for suite, p := range highestPerRelease(vs) {
			dir := filepath.Join(mirror, FirmwareDebsDir, suite)
			dst := filepath.Join(dir, p.File.Name)
			if source.Verify(dst, p.File.SHA256) == nil {
				continue
			}
			if err := os.MkdirAll(dir, 0o755); err != nil {
				return fmt.Errorf("test inputs: %w", err)
			}
			got, err := tree.DownloadBinary(ctx, p.Package, p.Version, p.Architecture, dir)
			if err != nil {
				return fmt.Errorf("test inputs: %w", err)
			}
			if err := source.Verify(got, p.File.SHA256); err != nil {
				os.Remove(got)
				return fmt.Errorf("test inputs: %w", err)
			}
			fmt.Fprintf(out, "test inputs: %s (Debian %s) in %s\n", filepath.Base(got), suite, dir)
		}
	}
	return nil
}

// highestPerRelease is, for each release (bookworm for bookworm-security
// too), the highest version of the package any of its suites lists; vs
// is highest first.
func highestPerRelease(vs []debian.BinaryPkg) map[string]debian.BinaryPkg {
	out := map[string]debian.BinaryPkg{}
	for _, v := range vs {
		for _, s := range append([]string{v.Suite}, v.Suites...) {
			if s == "" {
				continue
			}
			rel, _, _ := strings.Cut(s, "-")
			if _, ok := out[rel]; !ok {
				out[rel] = v
			}
		}
	}
	return out
}
