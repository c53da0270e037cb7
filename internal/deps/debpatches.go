package deps

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"qemupack/internal/debian"
	"qemupack/internal/recipe"
	"qemupack/internal/source"
)

// applyDebianPatches fetches (verified) the Debian packaging tarball the
// source names and applies its debian/patches/series to the tree at root,
// in order, leaving out the entries the recipe skips. A skipped name the
// series does not have is an error: the recipe no longer matches the
// tarball. It returns the names applied.
func (b *builder) applyDebianPatches(ctx context.Context, j *job, src recipe.Source, root, work, log string) ([]string, error) {
	dp := src.DebianPatches
	tarball, err := b.fetcher.Fetch(ctx, source.Tarball{Name: j.label() + " (Debian patches)", File: dp.File, SHA256: dp.SHA256, URL: dp.URL, DebianPackage: src.DebianPackage})
	if err != nil {
		return nil, err
	}
	top, err := source.Extract(tarball, filepath.Join(work, "debian-src"))
	if err != nil {
		return nil, err
	}
	debDir := top
	if filepath.Base(top) != "debian" {
		debDir = filepath.Join(top, "debian")
	}
	entries, texts, err := debian.ReadPatches(debDir)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", dp.File, err)
	}
	skip := map[string]bool{}
	for _, s := range dp.Skip {
		skip[s] = true
	}
	for _, e := range entries {
		delete(skip, e.Name)
	}
	if len(skip) > 0 {
		var stale []string
		for s := range skip {
			stale = append(stale, s)
		}
		return nil, fmt.Errorf("recipes/deps/%s.json skips %s, which %s's series does not have: update the skip list", j.r.Name, strings.Join(stale, ", "), dp.File)
	}
	for _, s := range dp.Skip {
		skip[s] = true
	}
	dir := filepath.Join(work, "debian-patches")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	var applied []string
	for i, p := range texts {
		if skip[p.Name] {
			continue
		}
		file := filepath.Join(dir, fmt.Sprintf("%03d-%s", i+1, strings.ReplaceAll(p.Name, "/", "_")))
		if err := os.WriteFile(file, []byte(p.Text), 0o644); err != nil {
			return nil, err
		}
		if err := source.ApplyPatch(ctx, root, file, p.Strip, "debian", strings.TrimSuffix(log, ".log")+"-"+filepath.Base(file)+".log"); err != nil {
			return nil, err
		}
		applied = append(applied, p.Name)
	}
	return applied, nil
}

func debianFile(src recipe.Source) string {
	if src.DebianPatches == nil {
		return ""
	}
	return src.DebianPatches.File
}
