package debian

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestLiveArchive reads the real archive of the host's distribution
// through a fresh private tree: opt in with QEMUPACK_DEBIAN_LIVE=1 (it
// downloads about 100 MB of lists and 40 MB of QEMU source). A folder
// in QEMUPACK_DEBIAN_LIVE_CACHE is reused instead of a fresh one.
func TestLiveArchive(t *testing.T) {
	if os.Getenv("QEMUPACK_DEBIAN_LIVE") != "1" {
		t.Skip("set QEMUPACK_DEBIAN_LIVE=1 to read the real archive")
	}
	ctx := context.Background()
	cache := os.Getenv("QEMUPACK_DEBIAN_LIVE_CACHE")
	if cache == "" {
		cache = t.TempDir()
	}
	t0 := time.Now()
	tree, err := Open(ctx, cache, Options{Progress: func(s string) { t.Log(s) }})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("open: %.1f s, suites %s, problems %q", time.Since(t0).Seconds(), tree.suiteNames(), tree.Problems)
	t0 = time.Now()
	vs, err := tree.SourceVersions(ctx, "qemu")
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("qemu source versions (%.1f s):", time.Since(t0).Seconds())
	for _, v := range vs {
		served := "served"
		if err := tree.Served(ctx, v); err != nil {
			served = err.Error()
		}
		t.Logf("  %s in %v: %d files; %s", v.Version, v.Suites, len(v.Files), served)
	}
	for _, v := range vs {
		if v.Version != "1:11.1.3+ds-1" {
			continue
		}
		err := tree.DownloadSource(ctx, "qemu", v.Version, filepath.Join(cache, "dl-11.1.3"))
		var miss *MissingFileError
		if !errors.As(err, &miss) {
			t.Errorf("11.1.3: want a MissingFileError, got %v", err)
		}
		t.Logf("11.1.3: %v", err)
	}
	t0 = time.Now()
	if err := tree.DownloadSource(ctx, "qemu", "1:10.2.2+ds-1", filepath.Join(cache, "dl-10.2.2")); err != nil {
		t.Fatal(err)
	}
	t.Logf("10.2.2 source downloaded in %.1f s", time.Since(t0).Seconds())
	for _, c := range []struct{ pkg, suite string }{{"meson", "trixie"}, {"seabios", "sid"}, {"ipxe-qemu", "sid"}, {"qemu-system-data", "sid"}} {
		bs, err := tree.BinaryVersions(ctx, c.pkg)
		if err != nil {
			t.Fatal(err)
		}
		for _, b := range bs {
			t.Logf("  %s %s %s in %v (%d bytes)", b.Package, b.Version, b.Architecture, b.Suites, b.File.Size)
		}
		for _, b := range bs {
			if b.Suite != c.suite && !contains(b.Suites, c.suite) {
				continue
			}
			t0 = time.Now()
			deb, err := tree.DownloadBinary(ctx, c.pkg, b.Version, "", filepath.Join(cache, "debs"))
			if err != nil {
				t.Fatal(err)
			}
			dst := filepath.Join(cache, "x", c.pkg+"-"+b.Version)
			os.RemoveAll(dst)
			if err := ExtractDeb(deb, dst); err != nil {
				t.Fatal(err)
			}
			t.Logf("%s %s (%s): downloaded and extracted in %.1f s to %s", c.pkg, b.Version, c.suite, time.Since(t0).Seconds(), dst)
			break
		}
	}
}

func contains(xs []string, s string) bool {
	for _, x := range xs {
		if x == s {
			return true
		}
	}
	return false
}
