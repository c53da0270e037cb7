package testprep

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"qemupack/internal/atomicfile"
	"qemupack/internal/bundle"
	"qemupack/internal/config"
	"qemupack/internal/debian"
	"qemupack/internal/source"
)

// FirmwareDebsDir is where, under the test mirror, FirmwareDebs puts the
// firmware packages: one folder per suite (bookworm/, trixie/, sid/...)
// holding <pkg>_<version>_all.deb. internal/bundle's table test reads it.
const FirmwareDebsDir = "firmware-debs"

// FirmwareUnavailable is the file in FirmwareDebsDir that names the
// releases the apt tree reads but got no firmware package from (one per
// line: the release, a tab, what apt reported), so the table test knows
// which suites it could not check against; absent when every release
// gave its packages.
const FirmwareUnavailable = "unavailable.txt"

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
	got := map[string]bool{}
	for _, pkg := range bundle.FirmwarePackageNames() {
		vs, err := tree.BinaryVersions(ctx, pkg)
		if err != nil {
			return fmt.Errorf("test inputs: %w", err)
		}
		for suite, p := range highestPerRelease(vs) {
			got[suite] = true
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
	return recordUnavailable(filepath.Join(mirror, FirmwareDebsDir), tree, got, say)
}

// recordUnavailable writes FirmwareUnavailable for the releases of the
// tree that gave no firmware package (apt refused their index: expired,
// unreachable), or removes it when there are none.
func recordUnavailable(dir string, tree *debian.Tree, got map[string]bool, say func(string)) error {
	var lines []string
	seen := map[string]bool{}
	for _, s := range tree.Suites {
		rel, _, _ := strings.Cut(s.Name, "-")
		if got[rel] || seen[rel] {
			continue
		}
		seen[rel] = true
		why := "apt listed none of the firmware packages there"
		var ps []string
		for _, p := range tree.Problems {
			if strings.Contains(p, rel) {
				ps = append(ps, p)
			}
		}
		if len(ps) > 0 {
			why = strings.Join(ps, "; ")
		}
		why = strings.NewReplacer("\n", " ", "\t", " ").Replace(why)
		lines = append(lines, rel+"\t"+why)
		say(fmt.Sprintf("no firmware packages from Debian %s (%s): the firmware table test checks the other releases and says so", rel, why))
	}
	file := filepath.Join(dir, FirmwareUnavailable)
	if len(lines) == 0 {
		if err := os.Remove(file); err != nil && !os.IsNotExist(err) {
			return fmt.Errorf("test inputs: %w", err)
		}
		return nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("test inputs: %w", err)
	}
	if err := atomicfile.WriteFile(file, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		return fmt.Errorf("test inputs: %w", err)
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
