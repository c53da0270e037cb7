package qemusrc

import (
	"context"
	"os"
	"testing"

	"qemupack/internal/catalog"
)

// TestDebianSourceEndToEnd fetches the host's real qemu source package with
// apt and prepares the patched tree. Opt-in (QEMUPACK_E2E=1): it downloads
// about 24 MB from the Debian archive.
func TestDebianSourceEndToEnd(t *testing.T) {
	if os.Getenv("QEMUPACK_E2E") != "1" {
		t.Skip("set QEMUPACK_E2E=1 to fetch and patch the host's qemu source package")
	}
	cache := os.Getenv("QEMUPACK_E2E_CACHE")
	if cache == "" {
		cache = t.TempDir()
	}
	tr, err := Prepare(context.Background(), Request{
		Release:  catalog.Release{Version: "7.2.0"},
		CacheDir: cache,
		Offline:  true,
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
