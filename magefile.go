//go:build mage

// qemupack builds a current QEMU for Windows and bundles it into a portable
// archive. Each target is a few lines over the packages in internal/.
package main

import (
	"context"
	"fmt"
	"os"
	"strings"
	"time"

	"qemupack/internal/host"
	"qemupack/internal/pick"

	"qemupack/internal/config"
)

// Default target when `mage` runs with none.
var Default = Bundle

// settings reads the environment once per target.
func settings() (config.Config, error) {
	return config.FromOS()
}

// done prints the one summary line every target ends with.
func done(what string, start time.Time) {
	fmt.Fprintf(os.Stdout, "%s (%s)\n", what, time.Since(start).Round(100*time.Millisecond))
}

// Bundle runs the main job end to end: sets up the toolchain (as root on Debian/Ubuntu), picks the newest QEMU it can build, builds the mingw libraries and QEMU, writes dist/qemu-<version>-win64.zip with dist/SHA256SUMS, and smoke-tests the archive under wine. Reads QEMU_VERSION, QEMU_TARGETS, QEMUPACK_DEPS, QEMUPACK_OFFLINE, QEMUPACK_MIRROR, QEMUPACK_CACHE, QEMUPACK_DIST, JOBS, CROSS_PREFIX, PYTHON, SOURCE_DATE_EPOCH.
func Bundle(ctx context.Context) error {
	start := time.Now()
	cfg, err := settings()
	if err != nil {
		return err
	}
	rep, err := host.Probe(ctx, cfg, host.Options{})
	if err != nil {
		return fmt.Errorf("bundle: %w", err)
	}
	installed, err := host.Setup(ctx, rep)
	if err != nil {
		return fmt.Errorf("bundle: the toolchain is not complete: %w", err)
	}
	if len(installed) > 0 {
		fmt.Printf("bundle: installed %s\n", strings.Join(installed, " "))
		if rep, err = host.Probe(ctx, cfg, host.Options{}); err != nil {
			return fmt.Errorf("bundle: %w", err)
		}
	}
	picked, err := pick.FromReport(ctx, cfg, pick.Options{}, rep)
	if err != nil {
		return fmt.Errorf("bundle: %w", err)
	}
	staged, err := buildStage(ctx, cfg, picked)
	if err != nil {
		return err
	}
	b, err := bundleStaged(ctx, cfg, staged.StageDir)
	if err != nil {
		return err
	}
	smoked := "smoke skipped: no wine here (install wine, or run on Windows)"
	if smokeAvailable() {
		if _, err := smokeArchive(ctx, cfg, b.Archive.Path); err != nil {
			return err
		}
		smoked = "smoke passed"
	}
	done(fmt.Sprintf("bundle: %s (%.1f MB, %d DLLs), %s", b.Archive.Path, float64(b.Archive.Size)/1e6, len(b.Closure.DLLs), smoked), start)
	return nil
}
