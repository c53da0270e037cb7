package qemusrc

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"qemupack/internal/catalog"
	"qemupack/internal/debian"
)

// TestDebianSourceEndToEnd fetches Debian's real qemu source package through
// the private apt tree and prepares the patched tree. Opt-in
// (QEMUPACK_E2E=1): it reads Debian's archive (about 100 MB of package
// lists, then 24 MB of source for 7.2 or 40 MB for 10.x).
// QEMUPACK_E2E_QEMU names the release (default 7.2.0).
func TestDebianSourceEndToEnd(t *testing.T) {
	if os.Getenv("QEMUPACK_E2E") != "1" {
		t.Skip("set QEMUPACK_E2E=1 to fetch and patch Debian's qemu source package")
	}
	cache := os.Getenv("QEMUPACK_E2E_CACHE")
	if cache == "" {
		cache = t.TempDir()
	}
	cache, _ = filepath.Abs(cache)
	rel := os.Getenv("QEMUPACK_E2E_QEMU")
	if rel == "" {
		rel = "7.2.0"
	}
	ctx := context.Background()
	tree, err := debian.Open(ctx, cache, debian.Options{Progress: func(s string) { t.Log(s) }})
	if err != nil {
		t.Fatal(err)
	}
	tr, err := Prepare(ctx, Request{
		Release:  catalog.Release{Version: rel},
		CacheDir: cache,
		Offline:  true,
		Debian:   tree,
		Progress: func(s string) { t.Log(s) },
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("tree %s: %s %s (%s)", tr.Dir, tr.Flavor, tr.Version, tr.Origin)
	if tr.Flavor != FlavorDebian {
		t.Errorf("flavor %s", tr.Flavor)
	}
	if v, err := readVersion(tr.Dir); err != nil || v != tr.Version {
		t.Errorf("VERSION file says %q (%v), tree says %s", v, err, tr.Version)
	}
}
