//go:build mage

package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/magefile/mage/mg"

	"qemupack/internal/checksum"
	"qemupack/internal/pick"
	"qemupack/internal/release"
	"qemupack/internal/sign"
)

// Release builds QEMU and writes the release files to dist/: the zip with its SBOM inside, the NSIS installer, <name>.spdx.json and SHA256SUMS; programs, DLLs and installer are Authenticode-signed when a certificate is given. Reads what bundle reads plus QEMUPACK_SIGN_PFX + QEMUPACK_SIGN_PASSWORD (or QEMUPACK_SIGN_CERT + QEMUPACK_SIGN_KEY), QEMUPACK_SIGN_TIMESTAMP_URL.
func Release(ctx context.Context) error {
	// A wrong or missing password is reported before the long build.
	if s, err := sign.FromEnv(os.Getenv); err != nil {
		return err
	} else if s != nil {
		if err := s.Check(); err != nil {
			return err
		}
	}
	mg.CtxDeps(ctx, Bundle)
	return releaseFiles(ctx, "release", true)
}

// Installer writes dist/qemu-<version>-win64-setup.exe (NSIS) from the newest finished build, with its SBOM, signed when a certificate is given. Reads QEMUPACK_CACHE, QEMUPACK_DIST, QEMUPACK_SIGN_* (see release).
func Installer(ctx context.Context) error {
	return releaseFiles(ctx, "installer", false)
}

func releaseFiles(ctx context.Context, what string, zip bool) error {
	start := time.Now()
	cfg, err := settings()
	if err != nil {
		return err
	}
	signer, err := sign.FromEnv(os.Getenv)
	if err != nil {
		return err
	}
	out, err := release.FromNewestBuild(ctx, cfg, signer, zip, func(s string) { fmt.Println(s) })
	if err != nil {
		return err
	}
	signed := "unsigned"
	if out.Signed > 0 {
		signed = fmt.Sprintf("%d files signed", out.Signed+1)
	}
	made := []string{filepath.Base(out.Installer), filepath.Base(out.SBOM)}
	if out.Zip != "" {
		made = append([]string{filepath.Base(out.Zip)}, made...)
	}
	done(fmt.Sprintf("%s: %s in %s (%d files, %s)", what, strings.Join(made, ", "), cfg.DistDir, out.Files, signed), start)
	return nil
}

// Matrix prints, as one line of JSON for a CI job's fromJSON, the QEMU releases to build: the release a tag names (QEMUPACK_TAG like v9.2.4 or qemu-9.2.4), else the newest patch release of each of the QEMUPACK_MATRIX_SERIES (default 2) newest series this toolchain can build; fails with the reasons when none fits. Reads QEMUPACK_TAG, QEMUPACK_MATRIX_SERIES, QEMU_VERSION, QEMUPACK_OFFLINE, QEMUPACK_MIRROR, QEMUPACK_DEPS.
func Matrix(ctx context.Context) error {
	start := time.Now()
	cfg, err := settings()
	if err != nil {
		return err
	}
	n := 2
	if s := strings.TrimSpace(os.Getenv("QEMUPACK_MATRIX_SERIES")); s != "" {
		if n, err = strconv.Atoi(s); err != nil || n < 1 {
			return fmt.Errorf("matrix: QEMUPACK_MATRIX_SERIES=%q is not a positive whole number (how many QEMU series to build, e.g. 2)", s)
		}
	}
	res, perr := pick.Run(ctx, cfg)
	var nothing *pick.NothingFits
	if len(res.Releases) == 0 || (perr != nil && !errors.As(perr, &nothing)) {
		return fmt.Errorf("matrix: %w", perr)
	}
	cands := release.FromVerdicts(res.Releases)
	var m release.Matrix
	if tag := strings.TrimSpace(os.Getenv("QEMUPACK_TAG")); tag != "" {
		m, err = release.ForTag(tag, cands)
	} else {
		m, err = release.NewestSeries(cands, n)
	}
	if err != nil {
		return err
	}
	fmt.Println(m.JSON())
	var vs []string
	for _, e := range m.Include {
		vs = append(vs, e.QEMU)
	}
	// stdout carries only the JSON: the summary goes to stderr.
	fmt.Fprintf(os.Stderr, "matrix: %s (%s)\n", strings.Join(vs, ", "), time.Since(start).Round(100*time.Millisecond))
	return nil
}

// ReleaseSums writes SHA256SUMS over every file in the dist folder (the release job runs it over the files all its matrix jobs made). Reads QEMUPACK_DIST.
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

// Reprocheck builds the same inputs in two checkout copies with different paths and compares their dist/ files byte for byte, printing the first differing archive entry and any build path leaked into it. Reads QEMUPACK_REPRO_TARGET (default bundle), QEMUPACK_REPRO_SECOND (a folder for the second copy, e.g. /var/tmp when the cache sorts before /usr), QEMUPACK_REPRO_SHARE_DEPS=1 (reuse the deps prefixes: faster, but cannot see paths leaked by them), SOURCE_DATE_EPOCH, and what the target reads.
func Reprocheck(ctx context.Context) error {
	start := time.Now()
	cfg, err := settings()
	if err != nil {
		return err
	}
	target := strings.TrimSpace(os.Getenv("QEMUPACK_REPRO_TARGET"))
	if target == "" {
		target = "bundle"
	}
	second := os.Getenv("QEMUPACK_REPRO_SECOND")
	if second != "" {
		if second, err = filepath.Abs(second); err != nil {
			return err
		}
	}
	share, err := release.ShareDownloads(filepath.Join(cfg.CacheDir, "sources"))
	if err != nil {
		return err
	}
	if os.Getenv("QEMUPACK_REPRO_SHARE_DEPS") == "1" {
		share["deps"] = filepath.Join(cfg.CacheDir, "deps")
	}
	var env []string
	if cfg.SourceDateEpoch >= 0 {
		env = append(env, fmt.Sprintf("SOURCE_DATE_EPOCH=%d", cfg.SourceDateEpoch))
	}
	res, err := release.Repro(ctx, release.ReproOptions{
		Root: cfg.Root, Work: filepath.Join(cfg.CacheDir, "repro"), SecondWork: second,
		Command: []string{"go", "run", "mage.go", target}, Env: env, Share: share,
		Progress: func(r, line string) { fmt.Printf("[%s] %s\n", r, line) },
	})
	if err != nil {
		return err
	}
	done(fmt.Sprintf("reprocheck: %s identical when built in %s and %s", strings.Join(res.Files, ", "), res.Dirs[0], res.Dirs[1]), start)
	return nil
}
