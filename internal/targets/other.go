package targets

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"qemupack/internal/catalog"
	"qemupack/internal/checksum"
	"qemupack/internal/pick"
	"qemupack/internal/release"
	"qemupack/internal/run"
	"qemupack/internal/testprep"
)

// Catalog prints what each QEMU release requires of the toolchain, where
// its requirements come from (its own files, or inherited), and what
// verifies its upstream tarball.
func Catalog() error {
	start := time.Now()
	cfg, err := settings()
	if err != nil {
		return err
	}
	rs, err := catalog.LoadFrom(cfg.Root)
	if err != nil {
		return err
	}
	summary := fmt.Sprintf("catalog: %d releases from %s", len(rs), catalog.File)
	if cfg.JSON {
		// stdout carries only the JSON array; the summary goes to stderr.
		if err := catalog.WriteJSON(Stdout, rs); err != nil {
			return err
		}
		fmt.Fprintf(os.Stderr, "%s (%s)\n", summary, time.Since(start).Round(100*time.Millisecond))
		return nil
	}
	if err := catalog.WriteTable(Stdout, rs); err != nil {
		return err
	}
	done(summary, start)
	return nil
}

// CatalogRefresh rewrites the catalog from release trees or tarballs;
// downloads are used only once QEMU's signature checked out.
func CatalogRefresh(ctx context.Context) error {
	start := time.Now()
	cfg, err := settings()
	if err != nil {
		return err
	}
	path := filepath.Join(cfg.Root, catalog.File)
	keys, err := catalog.LoadKeysFrom(cfg.Root)
	if err != nil {
		return err
	}
	res, err := catalog.Refresh(ctx, catalog.RefreshOptions{
		Keys:      keys,
		Catalog:   path,
		Sums:      filepath.Join(cfg.Root, catalog.SumsFile),
		Src:       cfg.CatalogSrc,
		Offline:   cfg.Offline,
		Downloads: filepath.Join(cfg.CacheDir, "sources"),
		Log:       Stdout,
	})
	if err != nil {
		return err
	}
	for _, s := range res.Skipped {
		say("skipped %s", s)
	}
	done(fmt.Sprintf("catalog:refresh: parsed %d releases, %d in %s", len(res.Parsed), res.Total, path), start)
	return nil
}

// Test sets the machine up for the tests (installing what they need as
// root on Debian/Ubuntu, else stopping with the command), gathers their
// real inputs, then runs go vet and go test ./... .
func Test(ctx context.Context) error {
	start := time.Now()
	cfg, err := settings()
	if err != nil {
		return err
	}
	env, err := testprep.Prepare(ctx, cfg, testprep.Options{}, Stdout)
	if err != nil {
		return err
	}
	for _, args := range [][]string{{"go", "vet", "./..."}, {"go", "test", "-timeout", "30m", "./..."}} {
		say("test: %s", strings.Join(args, " "))
		err := run.Run(ctx, run.Cmd{Args: args, Dir: cfg.Root, Env: run.Environ(env...), Line: func(s string) { say("%s", s) }, TailLines: 1})
		if err != nil {
			return fmt.Errorf("test: %s failed (output above)", args[1])
		}
	}
	done("test: all packages passed", start)
	return nil
}

// Matrix prints the releases a CI job should build, as one line of JSON.
func Matrix(ctx context.Context) error {
	start := time.Now()
	cfg, err := settings()
	if err != nil {
		return err
	}
	res, perr := pick.Run(ctx, cfg)
	var nothing *pick.NothingFits
	if len(res.Releases) == 0 || (perr != nil && !errors.As(perr, &nothing)) {
		return fmt.Errorf("matrix: %w", perr)
	}
	cands := release.FromVerdicts(res.Releases)
	var m release.Matrix
	if cfg.Tag != "" {
		m, err = release.ForTag(cfg.Tag, cands)
	} else {
		m, err = release.NewestSeries(cands, cfg.MatrixSeries)
	}
	if err != nil {
		return err
	}
	fmt.Fprintln(Stdout, m.JSON())
	var vs []string
	for _, e := range m.Include {
		vs = append(vs, e.QEMU)
	}
	// stdout carries only the JSON: the summary goes to stderr.
	fmt.Fprintf(os.Stderr, "matrix: %s (%s)\n", strings.Join(vs, ", "), time.Since(start).Round(100*time.Millisecond))
	return nil
}

// ReleaseSums writes SHA256SUMS over every file in the dist folder.
func ReleaseSums() error {
	start := time.Now()
	cfg, err := settings()
	if err != nil {
		return err
	}
	names, err := checksum.WriteAll(cfg.DistDir)
	if err != nil {
		return err
	}
	done(fmt.Sprintf("releasesums: %s lists %d files", filepath.Join(cfg.DistDir, checksum.SumsFile), len(names)), start)
	return nil
}

// Reprocheck builds the same inputs in two checkout copies and compares
// their dist/ files byte for byte.
func Reprocheck(ctx context.Context) error {
	start := time.Now()
	cfg, err := settings()
	if err != nil {
		return err
	}
	share, err := release.ShareDownloads(filepath.Join(cfg.CacheDir, "sources"))
	if err != nil {
		return err
	}
	if cfg.Repro.ShareDeps {
		share["deps"] = filepath.Join(cfg.CacheDir, "deps")
	}
	var env []string
	if cfg.SourceDateEpoch >= 0 {
		env = append(env, fmt.Sprintf("SOURCE_DATE_EPOCH=%d", cfg.SourceDateEpoch))
	}
	res, err := release.Repro(ctx, release.ReproOptions{
		Root: cfg.Root, Work: filepath.Join(cfg.CacheDir, "repro"), SecondWork: cfg.Repro.Second,
		Command: []string{"go", "run", "mage.go", cfg.Repro.Target}, Env: env, Share: share,
		Progress: func(r, line string) { say("[%s] %s", r, line) },
	})
	if err != nil {
		return err
	}
	done(fmt.Sprintf("reprocheck: %s identical when built in %s and %s", strings.Join(res.Files, ", "), res.Dirs[0], res.Dirs[1]), start)
	return nil
}
