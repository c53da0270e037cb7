package pick

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"qemupack/internal/qversion"
	"strings"
	"sync"

	"qemupack/internal/config"
	"qemupack/internal/debian"
	"qemupack/internal/host"
	"qemupack/internal/source"
)

// DebianArchive is what pick asks of Debian's archive: the private apt
// tree (*debian.Tree) in real use.
type DebianArchive interface {
	SourceVersions(ctx context.Context, pkg string) ([]debian.SourcePkg, error)
	Served(ctx context.Context, sp debian.SourcePkg) error
}

// OpenDebian opens the private apt tree the settings ask for
// (QEMUPACK_CACHE, QEMUPACK_SUITES) on a Debian or Ubuntu host; on other
// hosts it returns nil and no error. Progress lines go to progress.
func OpenDebian(ctx context.Context, cfg config.Config, rep host.Report, progress func(string)) (*debian.Tree, error) {
	if rep.Family != host.Debian {
		return nil, nil
	}
	cache, err := filepath.Abs(cfg.CacheDir)
	if err != nil {
		return nil, fmt.Errorf("debian: cache folder: %w", err)
	}
	return debian.Open(ctx, cache, debian.Options{Suites: cfg.Suites, Progress: progress})
}

// FindDebianSource lists every version of Debian's qemu source package
// that a suite of the archive lists, highest first, each with its suites,
// the upstream release it repacks and, when the installed
// qemu-system-x86_64 was built from that very version, the release
// Debian's patches bring it to. A version whose files the archive does not
// serve (and the cache does not hold) carries the reason as its Problem:
// pick passes over it. The string says why there is none.
func FindDebianSource(ctx context.Context, archive DebianArchive, cacheDir string, rep host.Report, o host.Options) ([]debian.QEMUSource, string) {
	if archive == nil {
		return nil, ""
	}
	versions, err := archive.SourceVersions(ctx, "qemu")
	if err != nil {
		return nil, fmt.Sprintf("Debian's archive could not be read: %v", err)
	}
	if len(versions) == 0 {
		return nil, "no suite of Debian's archive read here lists a qemu source package"
	}
	installedLevel, installedDeb := "", ""
	if rep.Family == host.Debian {
		o = o.WithDefaults()
		if q, err := o.LookPath("qemu-system-x86_64"); err == nil {
			if out, err := o.Exec(ctx, nil, q, "--version"); err == nil {
				installedLevel, installedDeb = debian.ParseQEMUVersion(out)
			}
		}
	}
	var out []debian.QEMUSource
	var bad []string
	var wg sync.WaitGroup
	for _, sp := range versions { // highest first
		up, err := debian.UpstreamOfDebian(sp.Version)
		if err != nil {
			bad = append(bad, sp.Version)
			continue
		}
		d := debian.QEMUSource{SourcePkg: sp, Upstream: up}
		if installedDeb == sp.Version && qversion.SameSeries(installedLevel, up) {
			d.Level = installedLevel
			d.LevelFrom = "the installed qemu-system-x86_64, built from this source version, says " + installedLevel
		} else {
			d.LevelFrom = "the stable level Debian's patches reach is known once the source is unpacked"
		}
		out = append(out, d)
	}
	// Whether the archive serves each version's files: one HEAD request
	// per file, every version at once (one after the other they took
	// 1.5 s of a no-op run here).
	for i := range out {
		if inCache(cacheDir, out[i].SourcePkg) {
			continue
		}
		wg.Add(1)
		go func(d *debian.QEMUSource) {
			defer wg.Done()
			if err := archive.Served(ctx, d.SourcePkg); err != nil {
				d.Problem = strings.TrimPrefix(err.Error(), "debian: ")
			}
		}(&out[i])
	}
	wg.Wait()
	if len(out) == 0 {
		return nil, fmt.Sprintf("Debian's qemu source versions (%s) name no upstream release", strings.Join(bad, ", "))
	}
	return out, ""
}

// inCache says whether every file of the package is in the verified
// sources cache already (then it needs no archive).
func inCache(cacheDir string, sp debian.SourcePkg) bool {
	if cacheDir == "" || len(sp.Files) == 0 {
		return false
	}
	f := source.Fetcher{CacheDir: filepath.Join(cacheDir, "sources")}
	for _, file := range sp.Files {
		if _, err := os.Stat(f.CachedPath(source.Tarball{File: file.Name, SHA256: file.SHA256})); err != nil {
			return false
		}
	}
	return true
}
