package qemusrc

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"qemupack/internal/qversion"
	"regexp"
	"strings"

	"qemupack/internal/debian"
	"qemupack/internal/source"
)

// debianPackage is a Debian source package, fetched and verified.
type debianPackage struct {
	src          debian.SourcePkg
	dsc          debian.Dsc
	orig, debian string // verified paths
	origSHA      string
	debianSHA    string
}

// chooseDebian is the source package version to prepare: the one pick
// chose (req.DebianSource), else the highest version of any suite that
// repacks the release's X.Y and whose files the archive serves.
func chooseDebian(ctx context.Context, req Request, pkg string) (debian.SourcePkg, error) {
	if req.DebianSource != nil {
		return *req.DebianSource, nil
	}
	if req.Debian == nil {
		return debian.SourcePkg{}, fmt.Errorf("no Debian archive to ask (the private apt tree was not opened)")
	}
	vs, err := req.Debian.SourceVersions(ctx, pkg)
	if err != nil {
		return debian.SourcePkg{}, err
	}
	var tried []string
	for _, v := range vs {
		up, err := debian.UpstreamOfDebian(v.Version)
		if err != nil || qversion.Series(up) != qversion.Series(req.Release.Version) {
			continue
		}
		if err := req.Debian.Served(ctx, v); err != nil {
			tried = append(tried, fmt.Sprintf("%s (%s): %v", v.Version, v.Suite, err))
			continue
		}
		return v, nil
	}
	var have []string
	for _, v := range vs {
		have = append(have, v.Version+" ("+v.Suite+")")
	}
	msg := fmt.Sprintf("no suite lists a source package %s of QEMU %s.x (they list %s)", pkg, qversion.Series(req.Release.Version), strings.Join(have, ", "))
	if len(tried) > 0 {
		msg += "; passed over: " + strings.Join(tried, "; ")
	}
	return debian.SourcePkg{}, errors.New(msg)
}

// fetchDebian fetches the .dsc, orig and debian tarballs of the chosen
// version through the source fetcher (cache, mirror, the apt tree),
// each verified against the sum the archive's signed index gives, and
// checks the tarballs against the .dsc as well.
func fetchDebian(ctx context.Context, req Request, pkg string) (debianPackage, error) {
	var dp debianPackage
	sp, err := chooseDebian(ctx, req, pkg)
	if err != nil {
		return dp, err
	}
	dp.src = sp
	if up, err := debian.UpstreamOfDebian(sp.Version); err != nil {
		return dp, err
	} else if qversion.Series(up) != qversion.Series(req.Release.Version) {
		return dp, fmt.Errorf("Debian's source package %s %s (%s) is QEMU %s, not a %s release as asked (pick a %s.x release, or give the upstream tarball through QEMUPACK_MIRROR)",
			pkg, sp.Version, sp.Suite, up, qversion.Series(req.Release.Version), qversion.Series(up))
	}
	pick := func(re *regexp.Regexp, what string) (debian.File, error) {
		if f, ok := sp.Find(re); ok {
			return f, nil
		}
		return debian.File{}, fmt.Errorf("source package %s %s has no %s (the index lists %d files); only 3.0 (quilt) packages are understood", pkg, sp.Version, what, len(sp.Files))
	}
	dscF, err := pick(debian.ReDsc, ".dsc file")
	if err != nil {
		return dp, err
	}
	origF, err := pick(debian.ReOrigTarball, "orig tarball")
	if err != nil {
		return dp, err
	}
	debF, err := pick(debian.ReDebianTar, "debian tarball")
	if err != nil {
		return dp, err
	}
	f := source.Fetcher{
		CacheDir: filepath.Join(req.CacheDir, "sources"),
		Mirror:   req.Mirror,
		Offline:  req.Offline,
		Progress: req.Progress,
	}
	if req.Debian != nil {
		f.Debian = req.Debian.DownloadSourceFile
	}
	get := func(a debian.File) (string, error) {
		return f.Fetch(ctx, source.Tarball{Name: "Debian source " + pkg + " " + sp.Version, File: a.Name, SHA256: a.SHA256, DebianPackage: pkg})
	}
	dscPath, err := get(dscF)
	if err != nil {
		return dp, err
	}
	text, err := os.ReadFile(dscPath)
	if err != nil {
		return dp, fmt.Errorf("debian source %s: %w", pkg, err)
	}
	if dp.dsc, err = debian.ParseDsc(string(text)); err != nil {
		return dp, fmt.Errorf("%s: %w", dscPath, err)
	}
	for _, a := range []debian.File{origF, debF} {
		df, ok := dp.dsc.Find(regexp.MustCompile("^" + regexp.QuoteMeta(a.Name) + "$"))
		if !ok || df.SHA256 != a.SHA256 {
			return dp, fmt.Errorf("debian source %s: %s has sha256 %s in the archive's index but the .dsc says %q", pkg, a.Name, a.SHA256, df.SHA256)
		}
	}
	if dp.orig, err = get(origF); err != nil {
		return dp, err
	}
	if dp.debian, err = get(debF); err != nil {
		return dp, err
	}
	dp.origSHA, dp.debianSHA = origF.SHA256, debF.SHA256
	return dp, nil
}

func prepareDebian(ctx context.Context, req Request) (Tree, error) {
	pkg := req.DebianPackage
	if pkg == "" {
		pkg = "qemu"
	}
	dp, err := fetchDebian(ctx, req, pkg)
	if err != nil {
		return Tree{}, err
	}
	base, err := debian.UpstreamOfDebian(dp.dsc.Version)
	if err != nil {
		return Tree{}, err
	}
	where := dp.src.Version
	if dp.src.Suite != "" {
		where += " (" + dp.src.Suite + ")"
	}
	if dp.dsc.Version != dp.src.Version {
		return Tree{}, fmt.Errorf("Debian's source package %s %s: its .dsc says version %s", pkg, where, dp.dsc.Version)
	}
	// Read the series first: the version it yields names our patch folder
	// and is part of the key.
	scratchBase := filepath.Join(req.CacheDir, "tmp")
	if err := os.MkdirAll(scratchBase, 0o755); err != nil {
		return Tree{}, fmt.Errorf("qemu source: %w", err)
	}
	scratch, err := os.MkdirTemp(scratchBase, ".debian-read-*")
	if err != nil {
		return Tree{}, fmt.Errorf("qemu source: %w", err)
	}
	defer os.RemoveAll(scratch)
	debDir, err := source.Extract(dp.debian, filepath.Join(scratch, "d"))
	if err != nil {
		return Tree{}, err
	}
	entries, texts, err := debian.ReadPatches(debDir)
	if err != nil {
		return Tree{}, err
	}
	version, err := debian.DeriveVersion(base, texts)
	if err != nil {
		return Tree{}, fmt.Errorf("debian source %s %s: %w", pkg, dp.dsc.Version, err)
	}
	ours, err := OurPatches(req.PatchRoot, version)
	if err != nil {
		return Tree{}, err
	}
	req.say("qemu: Debian's %s %s is QEMU %s with %d Debian patches, which bring it to %s", pkg, where, base, len(entries), version)
	in := treeInputs(FlavorDebian, []string{dp.origSHA, dp.debianSHA}, ours)
	return build(ctx, req, "qemu-"+version, in, func(tmp string) (Tree, error) {
		src := filepath.Join(tmp, "src")
		req.say("qemu %s: unpacking %s", version, filepath.Base(dp.orig))
		if err := extractTo(dp.orig, filepath.Join(tmp, "x"), src); err != nil {
			return Tree{}, err
		}
		logs := filepath.Join(tmp, "logs")
		req.say("qemu %s: applying %d Debian patches", version, len(entries))
		for _, e := range entries {
			p := filepath.Join(debDir, "patches", e.Name)
			if err := source.ApplyPatch(ctx, src, p, e.Strip, "debian", filepath.Join(logs, "debian-"+e.Name+".log")); err != nil {
				return Tree{}, err
			}
		}
		if len(ours) > 0 {
			req.say("qemu %s: applying %s from patches/qemu/%s", version, count(len(ours), "patch", "patches"), version)
		}
		if err := applyOurs(ctx, src, ours, logs); err != nil {
			return Tree{}, err
		}
		got, err := readVersion(src)
		if err != nil {
			return Tree{}, err
		}
		if got != version {
			return Tree{}, fmt.Errorf("debian source %s: the patched VERSION says %s, the series said %s", pkg, got, version)
		}
		chosen := dp.src
		dsc, _ := chosen.Find(debian.ReDsc)
		return Tree{
			Version: version, Flavor: FlavorDebian, Patches: patchNames(ours), Debian: &chosen,
			SourceURL: dsc.URL, SourceSHA256: dsc.SHA256,
			Origin: fmt.Sprintf("Debian source package %s %s: the repack of QEMU %s plus Debian's %d patches (bringing it to %s)",
				pkg, where, base, len(entries), version),
		}, nil
	})
}
