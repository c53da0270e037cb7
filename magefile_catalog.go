//go:build mage

package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/magefile/mage/mg"

	"qemupack/internal/catalog"
)

// Catalog prints the QEMU release catalog: what each release requires of the toolchain, and what verifies its upstream tarball. Reads QEMUPACK_FORMAT (text or json).
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
		if err := catalog.WriteJSON(os.Stdout, rs); err != nil {
			return err
		}
		fmt.Fprintf(os.Stderr, "%s (%s)\n", summary, time.Since(start).Round(100*time.Millisecond))
		return nil
	}
	if err := catalog.WriteTable(os.Stdout, rs); err != nil {
		return err
	}
	done(summary, start)
	return nil
}

// CATALOG holds catalog maintenance. (Its Go name differs from the Catalog
// target only in case: mage lowercases both, so `catalog` is the table and
// `catalog:refresh` the refresh.)
type CATALOG mg.Namespace

// Refresh rewrites recipes/qemu-releases.json from QEMU release trees or tarballs (downloads verified by QEMU's OpenPGP signature). Reads QEMUPACK_CATALOG_SRC (a folder; unset: download from download.qemu.org), QEMUPACK_OFFLINE, QEMUPACK_CACHE.
func (CATALOG) Refresh(ctx context.Context) error {
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
		Src:       os.Getenv("QEMUPACK_CATALOG_SRC"),
		Offline:   cfg.Offline,
		Downloads: filepath.Join(cfg.CacheDir, "sources"),
		Log:       os.Stdout,
	})
	if err != nil {
		return err
	}
	for _, s := range res.Skipped {
		fmt.Println("skipped", s)
	}
	done(fmt.Sprintf("catalog:refresh: parsed %d releases, %d in %s", len(res.Parsed), res.Total, path), start)
	return nil
}
