package pick

import (
	"context"
	"fmt"
	"net"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

	"qemupack/internal/catalog"
	"qemupack/internal/checksum"
	"qemupack/internal/config"
	"qemupack/internal/host"
	"qemupack/internal/recipe"
	"qemupack/internal/source"
)

// Options are Run's ways into the machine and the network; the zero value
// uses the real ones. Tests fill them so nothing touches the network.
type Options struct {
	Host host.Options
	// Releases replaces the catalog file when non-nil.
	Releases []catalog.Release
	// Recipes replaces what recipes/deps provides when non-nil.
	Recipes map[string]string
	// Reachable says whether upstream downloads can work (nil error = yes).
	// Default: a TCP connection to download.qemu.org:443 within 3 s.
	Reachable func(ctx context.Context) error
}

// UpstreamHost is where QEMU's release tarballs are downloaded from.
const UpstreamHost = "download.qemu.org:443"

// Run is what the build step calls: probe the host, read the catalog and
// the recipes, decide whether we are offline, look in the mirror folder and
// at the host's source packages, and pick.
func Run(ctx context.Context, cfg config.Config) (Result, error) {
	return RunWith(ctx, cfg, Options{})
}

// RunWith is Run with the machine and network access given.
func RunWith(ctx context.Context, cfg config.Config, o Options) (Result, error) {
	releases := o.Releases
	if releases == nil {
		rs, err := catalog.LoadFrom(cfg.Root)
		if err != nil {
			return Result{}, fmt.Errorf("pick: %w", err)
		}
		releases = rs
	}
	// The constraint is checked first: it needs nothing from the host and
	// its error is the one the user must fix.
	if err := CheckConstraint(releases, cfg.Constraint); err != nil {
		return Result{}, fmt.Errorf("pick: %w", err)
	}
	rep, err := host.Probe(ctx, cfg, o.Host)
	if err != nil {
		return Result{Host: rep}, fmt.Errorf("pick: %w", err)
	}
	return gather(ctx, cfg, o, releases, rep)
}

// FromReport is RunWith for a host already probed (the check target probes
// once and shows both the toolchain report and the pick).
func FromReport(ctx context.Context, cfg config.Config, o Options, rep host.Report) (Result, error) {
	releases := o.Releases
	if releases == nil {
		rs, err := catalog.LoadFrom(cfg.Root)
		if err != nil {
			return Result{Host: rep}, fmt.Errorf("pick: %w", err)
		}
		releases = rs
	}
	if err := CheckConstraint(releases, cfg.Constraint); err != nil {
		return Result{Host: rep}, fmt.Errorf("pick: %w", err)
	}
	return gather(ctx, cfg, o, releases, rep)
}

func gather(ctx context.Context, cfg config.Config, o Options, releases []catalog.Release, rep host.Report) (Result, error) {
	recipes := o.Recipes
	if recipes == nil {
		rs, err := recipe.LoadDir(filepath.Join(cfg.Root, recipe.Dir))
		if err != nil {
			return Result{Host: rep}, fmt.Errorf("pick: dependency recipes: %w", err)
		}
		recipes = recipe.Provided(rs)
	}
	offline, why := decideOffline(ctx, cfg, o.Reachable)
	hits, err := ScanMirror(cfg.Mirror, releases)
	if err != nil {
		return Result{Host: rep}, fmt.Errorf("pick: %w", err)
	}
	deb, debWhy := FindDebianSource(ctx, rep, o.Host)
	res, err := Decide(Inputs{
		Releases: releases, Host: rep, Deps: cfg.Deps, Constraint: cfg.Constraint, Recipes: recipes,
		Offline: offline, OfflineWhy: why, Mirror: cfg.Mirror, MirrorHits: hits, Debian: deb, DebianWhy: debWhy,
	})
	if err != nil {
		return res, err
	}
	return res, nil
}

// decideOffline: QEMUPACK_OFFLINE=1 says so outright; otherwise one short
// connection attempt to the download host decides, so a machine without
// network is not made to wait for a download to time out later.
func decideOffline(ctx context.Context, cfg config.Config, reach func(context.Context) error) (bool, string) {
	if cfg.Offline {
		return true, config.EnvOffline + "=1"
	}
	if reach == nil {
		reach = dialUpstream
	}
	if err := reach(ctx); err != nil {
		return true, fmt.Sprintf("%s not reachable (%v); set %s=1 to skip this check", strings.TrimSuffix(UpstreamHost, ":443"), err, config.EnvOffline)
	}
	return false, ""
}

func dialUpstream(ctx context.Context) error {
	d := net.Dialer{Timeout: 3 * time.Second}
	c, err := d.DialContext(ctx, "tcp", UpstreamHost)
	if err != nil {
		return err
	}
	return c.Close()
}

// ScanMirror finds the release tarballs in the mirror folder (the name of
// the catalog URL's file, else qemu-X.Y.Z.tar.xz) and checks each as the
// build will: against the catalog's sha256 when it has one, and against
// QEMU's OpenPGP signature when a .sig lies beside it and a pinned key
// signs the release. A file that neither verifies is not usable. A mirror
// folder that does not exist is an error.
func ScanMirror(dir string, releases []catalog.Release) (map[string]MirrorFile, error) {
	hits := map[string]MirrorFile{}
	if dir == "" {
		return hits, nil
	}
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		return nil, fmt.Errorf("%s: mirror folder %s does not exist (name a folder holding qemu-X.Y.Z.tar.xz files)", config.EnvMirror, dir)
	}
	for _, r := range releases {
		names := []string{"qemu-" + r.Version + ".tar.xz"}
		if r.URL != "" {
			names = append([]string{path.Base(r.URL)}, names...)
		}
		for _, n := range names {
			p := filepath.Join(dir, n)
			if fi, err := os.Stat(p); err != nil || fi.IsDir() {
				continue
			}
			hits[r.Version] = checkMirrorFile(r, p)
			break
		}
	}
	return hits, nil
}

// checkMirrorFile verifies one mirror file: its pinned sum, then the
// signature beside it; both must pass where both exist, and one must.
func checkMirrorFile(r catalog.Release, p string) MirrorFile {
	mf := MirrorFile{Path: p}
	var by []string
	if r.SHA256 != "" {
		sum, err := checksum.File(p)
		switch {
		case err != nil:
			mf.Problem = fmt.Sprintf("mirror file %s unreadable: %v", p, err)
		case !strings.EqualFold(sum, r.SHA256):
			mf.Problem = fmt.Sprintf("mirror file %s has sha256 %s, the catalog says %s", p, sum, r.SHA256)
		default:
			by = append(by, "sha256")
		}
		if mf.Problem != "" {
			return mf
		}
	}
	sig, err := os.ReadFile(p + ".sig")
	if u := r.Upstream; u.Signed() && err == nil {
		kr, err := source.LoadKeyring(u.KeyFiles, u.Keys)
		if err == nil {
			_, err = kr.Verify(p, sig)
		}
		if err != nil {
			mf.Problem = fmt.Sprintf("mirror file %s: %v", p, err)
			return mf
		}
		by = append(by, "signature")
	}
	if len(by) == 0 {
		mf.Problem = fmt.Sprintf("mirror file %s cannot be verified: the catalog pins no sha256 for it and no %s.sig by a pinned key lies beside it", p, filepath.Base(p))
		return mf
	}
	mf.VerifiedBy = strings.Join(by, "+")
	return mf
}

// FindDebianSource asks apt which qemu source packages the host can fetch
// (`apt-cache showsrc qemu`), keeps the highest Debian version of each
// upstream release, maps each to the upstream release, and learns the
// release Debian's patches bring it to from the installed
// qemu-system-x86_64 when that was built from the same source version.
// The string says why there is none, on a Debian host.
func FindDebianSource(ctx context.Context, rep host.Report, o host.Options) ([]DebianSource, string) {
	if rep.Family != host.Debian {
		return nil, ""
	}
	o = o.WithDefaults()
	aptCache, err := o.LookPath("apt-cache")
	if err != nil {
		return nil, "no apt-cache on PATH to ask for Debian's qemu source"
	}
	out, err := o.Exec(ctx, nil, aptCache, "showsrc", "qemu")
	versions := ParseShowsrc(out, "qemu")
	if err != nil || len(versions) == 0 {
		return nil, "no Debian source package for qemu (deb-src not enabled: see scripts/setup-debian.sh, then apt-get update)"
	}
	installedLevel, installedDeb := "", ""
	if q, err := o.LookPath("qemu-system-x86_64"); err == nil {
		if out, err := o.Exec(ctx, nil, q, "--version"); err == nil {
			installedLevel, installedDeb = ParseQEMUVersion(out)
		}
	}
	var out2 []DebianSource
	seen := map[string]bool{}
	for _, v := range versions { // highest first
		up, err := UpstreamOfDebian(v)
		if err != nil || seen[up] {
			continue
		}
		seen[up] = true
		d := DebianSource{Package: "qemu", Version: v, Upstream: up}
		if installedDeb == v && sameSeries(installedLevel, up) {
			d.Level = installedLevel
			d.LevelFrom = "the installed qemu-system-x86_64, built from this source version, says " + installedLevel
		} else {
			d.LevelFrom = "the stable level Debian's patches reach is known once the source is unpacked"
		}
		out2 = append(out2, d)
	}
	if len(out2) == 0 {
		return nil, fmt.Sprintf("Debian's qemu source versions (%s) name no upstream release", strings.Join(versions, ", "))
	}
	return out2, ""
}

func sameSeries(a, b string) bool {
	pa, pb := strings.SplitN(a, ".", 3), strings.SplitN(b, ".", 3)
	return len(pa) >= 2 && len(pb) >= 2 && pa[0] == pb[0] && pa[1] == pb[1]
}
