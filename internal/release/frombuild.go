package release

import (
	"context"
	"path/filepath"
	"strings"

	"qemupack/internal/bundle"
	"qemupack/internal/catalog"
	"qemupack/internal/config"
	"qemupack/internal/run"
	"qemupack/internal/sbom"
	"qemupack/internal/sign"
)

// FromNewestBuild makes the release files (zip when withZip, installer,
// SBOM, SHA256SUMS) from the newest finished build in cfg's cache: the
// same layout the bundle step writes, every file traced to its component,
// signed when signer is non-nil.
func FromNewestBuild(ctx context.Context, cfg config.Config, signer *sign.Signer, withZip bool, log func(string)) (Outputs, error) {
	recPath, err := bundle.NewestBuild(cfg.CacheDir)
	if err != nil {
		return Outputs{}, err
	}
	rec, err := bundle.ReadBuild(recPath)
	if err != nil {
		return Outputs{}, err
	}
	in, err := bundle.InputFromBuild(ctx, cfg, rec)
	if err != nil {
		return Outputs{}, err
	}
	spec, _, err := bundle.Layout(in)
	if err != nil {
		return Outputs{}, err
	}
	releases, _ := catalog.LoadFrom(cfg.Root)
	deb := &sbom.Debian{}
	qemu, err := QEMUComponent(ctx, rec, releases, cfg.Root, deb)
	if err != nil {
		return Outputs{}, err
	}
	owners, err := sbom.DepsOwners(filepath.Join(cfg.CacheDir, "deps"), filepath.Join(cfg.Root, "recipes", "deps"), filepath.Join(cfg.Root, "patches"))
	if err != nil {
		return Outputs{}, err
	}
	owners = append(owners, FirmwareOwners(in.Firmware)...)
	var search, qemuFiles []string
	for _, s := range in.Search {
		search = append(search, s.Path)
	}
	search = append(search, in.FirmwareDirs...)
	for _, f := range rec.LicenseFiles {
		qemuFiles = append(qemuFiles, f)
	}
	if signer != nil {
		signer.Description = "QEMU " + rec.FullVersion()
		signer.URL = "https://www.qemu.org/"
	}
	return Make(ctx, Inputs{
		Spec: spec, Version: rec.FullVersion(),
		QEMU: qemu, QEMUDirs: []string{rec.StageDir}, QEMUFiles: qemuFiles,
		Owners: owners, SearchDirs: search, Host: deb.Owner,
		Tool:   sbom.Component{Name: "qemupack", Version: toolVersion(ctx, cfg.Root), Comment: "files qemupack writes itself (README.txt)"},
		Signer: signer, Zip: withZip, Installer: true,
		DistDir: cfg.DistDir, Work: filepath.Join(cfg.CacheDir, "release"),
		Log: log,
	})
}

// toolVersion is `git describe` of the checkout, or "unknown" when the
// checkout is not a git work tree of its own. git must not look above it:
// reprocheck's copies sit inside the user's cache, and one inside the
// user's clone found that clone's commit while the other found nothing.
func toolVersion(ctx context.Context, root string) string {
	env := run.Environ("GIT_CEILING_DIRECTORIES=" + filepath.Dir(filepath.Clean(root)))
	v, err := run.Output(ctx, run.Cmd{Args: []string{"git", "-C", root, "describe", "--always", "--dirty"}, Env: env})
	if err != nil || strings.TrimSpace(v) == "" {
		return "unknown"
	}
	return strings.TrimSpace(v)
}

// FirmwareOwners gives each firmware package the bundle took files from
// its component, claiming its unpacked folders, so the bill names the
// package, version and suite of every firmware file.
func FirmwareOwners(fw []bundle.Firmware) []sbom.Owner {
	var out []sbom.Owner
	index := map[string]int{}
	for _, f := range fw {
		k := f.Package + " " + f.Version
		if i, ok := index[k]; ok {
			out[i].Dirs = append(out[i].Dirs, f.Dir)
			continue
		}
		index[k] = len(out)
		out = append(out, sbom.Owner{Component: sbom.DebianBinary(f.Package, f.Version, "all", f.Suite, f.Copyright), Dirs: []string{f.Dir}})
	}
	return out
}
