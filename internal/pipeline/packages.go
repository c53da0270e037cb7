package pipeline

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	"qemupack/internal/bundle"
	"qemupack/internal/debian"
	"qemupack/internal/qemusrc"
	"qemupack/internal/stepcache"
	"qemupack/internal/xbuild"
)

// DebKind is the step cache kind of Debian binary packages unpacked for the
// build (meson) or the archive (firmware).
const DebKind = "debs"

// unpackedDeb is one binary package from the private apt tree, verified by
// apt against the signed index and unpacked in a step cache entry.
type unpackedDeb struct {
	Pkg  debian.BinaryPkg
	Root string // the unpacked package (holds usr/...)
}

func (u unpackedDeb) describe() string {
	return fmt.Sprintf("%s %s (Debian %s, %s)", u.Pkg.Package, u.Pkg.Version, u.Pkg.Suite, u.Pkg.File.Name)
}

// fetchDeb downloads and unpacks one binary package as a cache entry keyed
// by the .deb's sha256 from the signed index.
func (r *Run) fetchDeb(ctx context.Context, t *debian.Tree, p debian.BinaryPkg) (unpackedDeb, error) {
	var in stepcache.Inputs
	in.Add("deb", p.File.Name)
	in.Add("sha256", p.File.SHA256)
	name := p.Package + "-" + debian.UpstreamPart(p.Version)
	e, err := r.Cache.Do(ctx, DebKind, name, in, stepcache.Options{}, func(ctx context.Context, tmp, final, work string) error {
		deb, err := t.DownloadBinary(ctx, p.Package, p.Version, p.Architecture, work)
		if err != nil {
			return err
		}
		return debian.ExtractDeb(deb, filepath.Join(tmp, "root"))
	})
	if err != nil {
		return unpackedDeb{}, fmt.Errorf("Debian package %s %s: %w", p.Package, p.Version, err)
	}
	r.hold(e)
	return unpackedDeb{Pkg: p, Root: filepath.Join(e.Dir, "root")}, nil
}

// pythonPackages gives a tree that configures through a venv (QEMU 8.1+)
// what its pythondeps.toml asks for and neither its wheels nor the build
// python have: the oldest version any suite carries that meets the tree's
// own minimum (Debian's +ds repack ships no wheels, so meson comes this
// way), verified and unpacked.
func (r *Run) pythonPackages(ctx context.Context, tree qemusrc.Tree, python string) ([]xbuild.PythonPackage, error) {
	missing, err := xbuild.MissingPython(ctx, tree.Dir, python)
	if err != nil || len(missing) == 0 {
		return nil, err
	}
	t := r.Pick.DebianTree()
	var out []xbuild.PythonPackage
	for _, dep := range missing {
		pkg := xbuild.DebianPython(dep.Name)
		if t == nil {
			return nil, fmt.Errorf("qemu %s needs the python package %s %s, which the build python lacks and the tree does not bring, and this host has no Debian archive to take %s from: install it for %s", tree.Version, dep.Name, dep.Accepted, pkg, python)
		}
		vs, err := t.BinaryVersions(ctx, pkg)
		if err != nil {
			return nil, err
		}
		var chosen *debian.BinaryPkg
		for i := len(vs) - 1; i >= 0; i-- { // oldest first
			ok, err := dep.Accepts(debian.UpstreamPart(vs[i].Version))
			if err != nil {
				return nil, err
			}
			if ok {
				chosen = &vs[i]
				break
			}
		}
		if chosen == nil {
			var have []string
			for _, v := range vs {
				have = append(have, v.Version+" ("+v.Suite+")")
			}
			return nil, fmt.Errorf("qemu %s needs %s %s; Debian's archive has %s: %s", tree.Version, dep.Name, dep.Accepted, pkg, orNone(have))
		}
		u, err := r.fetchDeb(ctx, t, *chosen)
		if err != nil {
			return nil, err
		}
		r.Say("sources: %s for qemu %s's configure: %s", dep.Name, tree.Version, u.describe())
		out = append(out, xbuild.PythonPackage{Root: u.Root, Origin: u.describe()})
	}
	return out, nil
}

// firmwarePackages are the firmware a Debian tree's build does not make
// (the repack ships no blobs): the packages bundle.FirmwarePackagesFor
// names for the targets, from the QEMU source's own suite, and
// qemu-system-data when that suite carries it for this very source
// version (its keymaps and option ROMs match only then). When the table
// names qemu-system-data for a target (ppc's OpenBIOS, s390x's loader,
// ...) the suite's one is taken whatever its version (sid's is 11.1.3
// for a 10.2.2 source): those files are firmware projects of their own
// that QEMU only loads, and README.txt names the version; the stage's
// own keymaps and option ROMs still come first.
func (r *Run) firmwarePackages(ctx context.Context, tree qemusrc.Tree, targets []string) ([]bundle.Firmware, error) {
	if tree.Flavor != qemusrc.FlavorDebian || tree.Debian == nil {
		return nil, nil
	}
	t := r.Pick.DebianTree()
	if t == nil {
		return nil, fmt.Errorf("the firmware of a Debian tree comes from Debian's archive, which this run did not open")
	}
	suite := tree.Debian.Suite
	names, err := bundle.FirmwarePackagesFor(targets)
	if err != nil {
		return nil, err
	}
	var out []bundle.Firmware
	add := func(p debian.BinaryPkg) error {
		u, err := r.fetchDeb(ctx, t, p)
		if err != nil {
			return err
		}
		fw, err := bundle.FirmwareFromDeb(u.Root, p.Package, p.Version, suite, p.File.Name)
		if err != nil {
			return err
		}
		out = append(out, fw...)
		return nil
	}
	for _, name := range names {
		vs, err := t.BinaryVersions(ctx, name)
		if err != nil {
			return nil, err
		}
		p, ok := inSuite(vs, suite)
		if !ok {
			return nil, fmt.Errorf("firmware: Debian %s carries no %s for qemu %s (its source's suite)", suite, name, tree.Version)
		}
		if err := add(p); err != nil {
			return nil, err
		}
	}
	if slices.Contains(names, "qemu-system-data") {
		// The table wants it for a target's own firmware (OpenBIOS,
		// SLOF, PALcode, ...), in the suite's version: added above.
		return out, nil
	}
	if vs, err := t.BinaryVersions(ctx, "qemu-system-data"); err == nil {
		if p, ok := inSuite(vs, suite); ok && p.Version == tree.Debian.Version {
			if err := add(p); err != nil {
				return nil, err
			}
		}
	}
	return out, nil
}

// inSuite is the highest version of a binary package the suite lists.
func inSuite(vs []debian.BinaryPkg, suite string) (debian.BinaryPkg, bool) {
	for _, v := range vs { // highest first
		if v.Suite == suite {
			return v, true
		}
		for _, s := range v.Suites {
			if s == suite {
				return v, true
			}
		}
	}
	return debian.BinaryPkg{}, false
}

func orNone(s []string) string {
	if len(s) == 0 {
		return "none"
	}
	return strings.Join(s, ", ")
}
