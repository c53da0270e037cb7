package deps

import (
	"context"
	"fmt"
	"io"
	"path/filepath"

	"qemupack/internal/config"
	"qemupack/internal/host"
	"qemupack/internal/recipe"
	"qemupack/internal/source"
)

// OptionsFrom probes the host and fills Options from it and the shared
// settings (OptionsFor), for a deps build run on its own.
func OptionsFrom(ctx context.Context, c config.Config, out io.Writer) (Options, error) {
	rep, err := host.Probe(ctx, c, host.Options{})
	if err != nil {
		return Options{}, fmt.Errorf("deps: %w", err)
	}
	return OptionsFor(c, rep, out)
}

// OptionsFor fills Options from the shared settings and the host probe:
// recipes from <root>/recipes/deps, patches from <root>/patches, the
// cache, the mirror, offline mode, QEMUPACK_DEPS, JOBS; the toolchain and
// sysroots (CROSS_PREFIX, QEMUPACK_SYSROOT) from rep.
func OptionsFor(c config.Config, rep host.Report, out io.Writer) (Options, error) {
	rs, err := recipe.LoadDir(filepath.Join(c.Root, recipe.Dir))
	if err != nil {
		return Options{}, fmt.Errorf("deps: %w", err)
	}
	if len(rs) == 0 {
		return Options{}, fmt.Errorf("deps: no recipes in %s", filepath.Join(c.Root, recipe.Dir))
	}
	tc, err := ToolchainFrom(rep)
	if err != nil {
		return Options{}, err
	}
	f := &source.Fetcher{
		CacheDir: filepath.Join(c.CacheDir, "sources"),
		Mirror:   c.Mirror,
		Offline:  c.Offline,
		Progress: func(s string) { fmt.Fprintln(out, "  "+s) },
	}
	return Options{
		CacheDir: c.CacheDir,
		Recipes:  rs,
		PatchDir: filepath.Join(c.Root, "patches"),
		Mode:     c.Deps,
		Jobs:     c.Jobs,
		Tool:     tc,
		Fetcher:  f,
		Out:      out,
	}, nil
}
