//go:build mage

package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"time"

	"qemupack/internal/bundle"
	"qemupack/internal/config"
	"qemupack/internal/smoke"
)

func say(s string) { fmt.Fprintln(os.Stdout, s) }

// bundleStaged writes dist/qemu-<version>-win64.zip and dist/SHA256SUMS from
// a staged build (stage is the build's StageDir; its result.json sits one
// folder up). An unchanged rerun is skipped. The lead's Bundle calls it.
func bundleStaged(ctx context.Context, cfg config.Config, stage string) (*bundle.Result, error) {
	rec, err := bundle.ReadBuild(filepath.Join(filepath.Dir(stage), "result.json"))
	if err != nil {
		return nil, err
	}
	in, err := bundle.InputFromBuild(ctx, cfg, rec)
	if err != nil {
		return nil, err
	}
	in.Log = say
	return bundle.Bundle(ctx, in)
}

// smokeArchive runs the smoke checks on an archive (under wine on Linux).
func smokeArchive(ctx context.Context, cfg config.Config, archive string) (*smoke.Report, error) {
	kernel, err := smoke.Kernel(ctx, filepath.Join(cfg.CacheDir, "kernel"), cfg.Offline, say)
	if err != nil {
		return nil, err
	}
	rep, err := smoke.Smoke(ctx, smoke.Options{Archive: archive, Kernel: kernel, Log: say, BuildFolders: []string{cfg.Root, cfg.CacheDir}})
	if err != nil {
		return rep, fmt.Errorf("smoke %s: %w", filepath.Base(archive), err)
	}
	return rep, nil
}

// smokeAvailable says whether this host can run the smoke checks: Windows
// itself, or wine on PATH.
func smokeAvailable() bool {
	if runtime.GOOS == "windows" {
		return true
	}
	_, err := exec.LookPath("wine")
	return err == nil
}

// Archive bundles the newest finished build into dist/qemu-<version>-win64.zip (DLL closure, firmware, licences, README) with dist/SHA256SUMS. Reads QEMUPACK_CACHE, QEMUPACK_DIST, QEMUPACK_SYSROOT, CROSS_PREFIX, SOURCE_DATE_EPOCH.
func Archive(ctx context.Context) error {
	start := time.Now()
	cfg, err := settings()
	if err != nil {
		return err
	}
	rec, err := bundle.NewestBuild(cfg.CacheDir)
	if err != nil {
		return err
	}
	b, err := bundle.ReadBuild(rec)
	if err != nil {
		return err
	}
	res, err := bundleStaged(ctx, cfg, b.StageDir)
	if err != nil {
		return err
	}
	what := "wrote"
	if res.Skipped {
		what = "kept (unchanged)"
	}
	done(fmt.Sprintf("archive: %s %s, %.1f MB, %d DLLs", what, res.Archive.Path, float64(res.Archive.Size)/1e6, len(res.Closure.DLLs)), start)
	return nil
}

// Smoke unpacks the newest dist/qemu-*-win64.zip into an empty folder and runs it with nothing else (wine with a fresh prefix on Linux): -version, -machine help, -L help, qemu-img --version, a TCG kernel boot. Reads QEMUPACK_DIST, QEMUPACK_CACHE (kernel/), QEMUPACK_OFFLINE.
func Smoke(ctx context.Context) error {
	cfg, err := settings()
	if err != nil {
		return err
	}
	zips, _ := filepath.Glob(filepath.Join(cfg.DistDir, "qemu-*-win64.zip"))
	if len(zips) == 0 {
		return fmt.Errorf("smoke: no qemu-*-win64.zip in %s: run `go run mage.go bundle` first", cfg.DistDir)
	}
	sort.Slice(zips, func(i, j int) bool {
		a, _ := os.Stat(zips[i])
		b, _ := os.Stat(zips[j])
		return a.ModTime().After(b.ModTime())
	})
	return SmokeFile(ctx, zips[0])
}

// SmokeFile runs the smoke checks on the given archive. Reads QEMUPACK_CACHE (kernel/), QEMUPACK_OFFLINE.
func SmokeFile(ctx context.Context, archive string) error {
	start := time.Now()
	cfg, err := settings()
	if err != nil {
		return err
	}
	rep, err := smokeArchive(ctx, cfg, archive)
	if err != nil {
		return err
	}
	done(fmt.Sprintf("smoke: %s passed %d checks", filepath.Base(archive), len(rep.Steps)), start)
	return nil
}
