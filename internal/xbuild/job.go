package xbuild

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"time"

	"qemupack/internal/catalog"
	"qemupack/internal/config"
	"qemupack/internal/debian"
	"qemupack/internal/qemusrc"
)

// Job is one `mage build`: the picked release and the mingw libraries.
type Job struct {
	Release catalog.Release
	// DepsPrefixes are the prefixes the deps step built (glib, pixman,
	// libslirp, libfdt, ...), in lookup order.
	DepsPrefixes []string
	// NoDebian forbids the Debian source package path.
	NoDebian bool
	// Debian is Debian's archive (the private apt tree pick read) and
	// DebianSource the version of Debian's qemu source package pick chose.
	Debian       *debian.Tree
	DebianSource *debian.SourcePkg
}

// Run prepares the source of job.Release and builds it into a staging
// folder, with the settings of cfg (cache, mirror, offline, targets, jobs,
// cross prefix, sysroots, Python).
func Run(ctx context.Context, cfg config.Config, job Job, out io.Writer) (Result, error) {
	say := func(s string) {
		if out != nil {
			fmt.Fprintln(out, s)
		}
	}
	t0 := time.Now()
	tree, err := qemusrc.Prepare(ctx, qemusrc.Request{
		Release:      job.Release,
		CacheDir:     cfg.CacheDir,
		Mirror:       cfg.Mirror,
		Offline:      cfg.Offline,
		PatchRoot:    filepath.Join(cfg.Root, "patches", "qemu"),
		NoDebian:     job.NoDebian,
		Debian:       job.Debian,
		DebianSource: job.DebianSource,
		Progress:     say,
	})
	if err != nil {
		return Result{}, err
	}
	hs, err := DetectHost(ctx)
	if err != nil {
		return Result{}, err
	}
	say(fmt.Sprintf("source: qemu %s ready in %.1f s (%s)", tree.Version, time.Since(t0).Seconds(), tree.Origin))
	return Build(ctx, Options{
		Tree:         tree,
		CacheDir:     cfg.CacheDir,
		CrossPrefix:  cfg.CrossPrefix,
		Targets:      cfg.Targets,
		DepsPrefixes: job.DepsPrefixes,
		Sysroots:     cfg.Sysroots,
		Jobs:         cfg.Jobs,
		Python:       cfg.Python,
		Host:         hs.Kind,
		Bash:         hs.Bash,
		ToPosix:      hs.ToPosix,
		FromPosix:    hs.FromPosix,
		Out:          out,
	})
}
