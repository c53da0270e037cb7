package qemusrc

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"

	"qemupack/internal/run"
	"qemupack/internal/source"
)

var (
	reDsc    = regexp.MustCompile(`\.dsc$`)
	reOrig   = regexp.MustCompile(`\.orig\.tar\.(xz|gz|bz2)$`)
	reDebian = regexp.MustCompile(`\.debian\.tar\.(xz|gz|bz2)$`)
)

// majorMinor returns "7.2" of "7.2.22".
func majorMinor(v string) string {
	parts := strings.SplitN(v, ".", 3)
	if len(parts) < 2 {
		return v
	}
	return parts[0] + "." + parts[1]
}

// debianPackage is the host's Debian source package, fetched and verified.
type debianPackage struct {
	dsc          Dsc
	orig, debian string // verified paths
	origSHA      string
	debianSHA    string
}

// fetchDebian asks apt which files make up the source package, then
// fetches each through the source fetcher (cache, mirror, apt-get source),
// verified against the sums apt's signed index gives, and checks the
// tarballs against the .dsc as well.
func fetchDebian(ctx context.Context, req Request, pkg string) (debianPackage, error) {
	var dp debianPackage
	if _, err := exec.LookPath("apt-get"); err != nil {
		return dp, fmt.Errorf("apt-get not found: the Debian source package path needs a Debian or Ubuntu host")
	}
	out, err := run.Output(ctx, run.Cmd{
		Args: []string{"apt-get", "source", "--print-uris", pkg},
		Env:  run.Environ("LC_ALL=C"),
	})
	files := ParsePrintURIs(out)
	if err != nil || len(files) == 0 {
		msg := "no files listed"
		if err != nil {
			msg = err.Error()
		}
		return dp, fmt.Errorf("apt-get source --print-uris %s: %s (enable deb-src lines in /etc/apt/sources.list and run apt-get update)", pkg, firstLine(msg))
	}
	pick := func(re *regexp.Regexp, what string) (AptFile, error) {
		for _, f := range files {
			if re.MatchString(f.Name) {
				return f, nil
			}
		}
		return AptFile{}, fmt.Errorf("source package %s has no %s (apt listed %d files); only 3.0 (quilt) packages are understood", pkg, what, len(files))
	}
	dscF, err := pick(reDsc, ".dsc file")
	if err != nil {
		return dp, err
	}
	origF, err := pick(reOrig, "orig tarball")
	if err != nil {
		return dp, err
	}
	debF, err := pick(reDebian, "debian tarball")
	if err != nil {
		return dp, err
	}
	f := source.Fetcher{
		CacheDir: filepath.Join(req.CacheDir, "sources"),
		Mirror:   req.Mirror,
		Offline:  req.Offline,
		Progress: req.Progress,
	}
	get := func(a AptFile) (string, error) {
		return f.Fetch(ctx, source.Tarball{Name: "Debian source " + pkg, File: a.Name, SHA256: a.SHA256, DebianPackage: pkg})
	}
	dscPath, err := get(dscF)
	if err != nil {
		return dp, err
	}
	text, err := os.ReadFile(dscPath)
	if err != nil {
		return dp, fmt.Errorf("debian source %s: %w", pkg, err)
	}
	if dp.dsc, err = ParseDsc(string(text)); err != nil {
		return dp, fmt.Errorf("%s: %w", dscPath, err)
	}
	for _, a := range []AptFile{origF, debF} {
		df, ok := dp.dsc.Find(regexp.MustCompile("^" + regexp.QuoteMeta(a.Name) + "$"))
		if !ok || df.SHA256 != a.SHA256 {
			return dp, fmt.Errorf("debian source %s: %s has sha256 %s in apt's index but the .dsc says %q", pkg, a.Name, a.SHA256, df.SHA256)
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

// debianPatches reads the series and patch texts from an unpacked debian/
// folder.
func debianPatches(debianDir string) ([]SeriesEntry, []NamedPatch, error) {
	series, err := os.ReadFile(filepath.Join(debianDir, "patches", "series"))
	if os.IsNotExist(err) {
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, fmt.Errorf("debian patches: %w", err)
	}
	entries, err := ParseSeries(string(series))
	if err != nil {
		return nil, nil, fmt.Errorf("debian/patches/series: %w", err)
	}
	var texts []NamedPatch
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(debianDir, "patches", e.Name))
		if err != nil {
			return nil, nil, fmt.Errorf("debian/patches/series names %s: %w", e.Name, err)
		}
		texts = append(texts, NamedPatch{Name: e.Name, Text: string(b), Strip: e.Strip})
	}
	return entries, texts, nil
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
	base, err := dp.dsc.BaseVersion()
	if err != nil {
		return Tree{}, err
	}
	if majorMinor(base) != majorMinor(req.Release.Version) {
		return Tree{}, fmt.Errorf("the host's source package %s is %s (QEMU %s), not a %s release as asked (pick a %s.x release, or give the upstream tarball through QEMUPACK_MIRROR)",
			pkg, dp.dsc.Version, base, majorMinor(req.Release.Version), majorMinor(base))
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
	entries, texts, err := debianPatches(debDir)
	if err != nil {
		return Tree{}, err
	}
	version, err := DeriveVersion(base, texts)
	if err != nil {
		return Tree{}, fmt.Errorf("debian source %s %s: %w", pkg, dp.dsc.Version, err)
	}
	ours, err := OurPatches(req.PatchRoot, version)
	if err != nil {
		return Tree{}, err
	}
	req.say("qemu: Debian's %s %s is QEMU %s with %d Debian patches, which bring it to %s", pkg, dp.dsc.Version, base, len(entries), version)
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
			if err := applyPatch(ctx, src, p, e.Strip, "debian", filepath.Join(logs, "debian-"+e.Name+".log")); err != nil {
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
		return Tree{
			Version: version, Flavor: FlavorDebian, Patches: patchNames(ours),
			Origin: fmt.Sprintf("Debian source package %s %s: the dfsg repack of QEMU %s plus Debian's %d patches (upstream stable releases up to %s and packaging fixes)",
				pkg, dp.dsc.Version, base, len(entries), version),
		}, nil
	})
}
