package release

import (
	"qemupack/internal/bundle"
	"qemupack/internal/sbom"
)

// FirmwareOwners gives each firmware package the bundle took files from
// its component, claiming its unpacked folders, so the bill names the
// package, version and suite of every firmware file (the packages are
// unpacked, not installed: dpkg knows nothing of them).
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
