package pipeline

import (
	"context"
	"fmt"
	"path/filepath"

	"qemupack/internal/config"
	"qemupack/internal/smoke"
)

// smokeOptions are the smoke checks of an archive with this run's
// settings: the kernel from the cache's kernel/ folder, the checkout and
// the cache as the folders no file may name.
func smokeOptions(ctx context.Context, c config.Config, archive string, log func(string)) (smoke.Options, error) {
	kernel, err := smoke.Kernel(ctx, filepath.Join(c.CacheDir, "kernel"), c.Offline, log)
	if err != nil {
		return smoke.Options{}, err
	}
	o := smoke.Options{Archive: archive, Kernel: kernel, Log: log, BuildFolders: []string{c.Root, c.CacheDir}}
	// The desk checks of what the archive says it has (README.txt).
	if o.Features, err = archiveFeatures(archive); err != nil {
		return o, err
	}
	// The aarch64 boot needs an arm64 kernel, fetched only for an archive
	// with the aarch64 emulator.
	if has, err := archiveHas(archive, "qemu-system-aarch64.exe"); err != nil {
		return o, err
	} else if has {
		if o.AArch64Kernel, err = aarch64Kernel(ctx, c, log); err != nil {
			return o, err
		}
	}
	return o, nil
}

// smokeOnce smoke-tests the archive this run made, unless the same
// archive passed the same checks before (smoke.Once): a rerun with
// nothing changed runs nothing under wine.
func (r *Run) smokeOnce(ctx context.Context) error {
	a := r.Bundle.Archive
	o, err := smokeOptions(ctx, r.Config, a.Path, r.Line)
	if err != nil {
		return err
	}
	rep, hit, e, err := smoke.Once(ctx, r.Cache, o, a.SHA256)
	if err != nil {
		return fmt.Errorf("smoke %s: %w", filepath.Base(a.Path), err)
	}
	r.hold(e)
	r.Smoke, r.SmokeHit = rep, hit
	return nil
}
