package qemusrc

import (
	"archive/tar"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"qemupack/internal/catalog"
)

func writeTarGz(t *testing.T, path string, files map[string]string) string {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	gz := gzip.NewWriter(f)
	tw := tar.NewWriter(gz)
	for name, body := range files {
		tw.WriteHeader(&tar.Header{Name: name, Mode: 0o755, Size: int64(len(body)), Typeflag: tar.TypeReg})
		tw.Write([]byte(body))
	}
	tw.Close()
	gz.Close()
	f.Close()
	b, _ := os.ReadFile(path)
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// TestLocalDebianSource prepares a tree from a .dsc and its tarballs on
// disk (no apt): the series is applied and the tree calls itself by the
// version the series gives.
func TestLocalDebianSource(t *testing.T) {
	dir := t.TempDir()
	origSum := writeTarGz(t, filepath.Join(dir, "qemu_10.2.0+ds.orig.tar.gz"), map[string]string{
		"qemu-10.2.0/VERSION": "10.2.0\n", "qemu-10.2.0/configure": "#!/bin/sh\n",
	})
	patch := "--- a/VERSION\n+++ b/VERSION\n@@ -1 +1 @@\n-10.2.0\n+10.2.2\n"
	debSum := writeTarGz(t, filepath.Join(dir, "qemu_10.2.0+ds-1.debian.tar.gz"), map[string]string{
		"debian/patches/series": "v10.2.2.diff\n", "debian/patches/v10.2.2.diff": patch,
	})
	dsc := filepath.Join(dir, "qemu_10.2.0+ds-1.dsc")
	os.WriteFile(dsc, []byte(fmt.Sprintf("Format: 3.0 (quilt)\nSource: qemu\nVersion: 1:10.2.0+ds-1\nChecksums-Sha256:\n %s 1 qemu_10.2.0+ds.orig.tar.gz\n %s 1 qemu_10.2.0+ds-1.debian.tar.gz\n", origSum, debSum)), 0o644)
	req := Request{Release: catalog.Release{Version: "10.2.2"}, CacheDir: t.TempDir(), Offline: true, DebianDsc: dsc}
	tr, err := Prepare(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	if tr.Version != "10.2.2" || tr.Flavor != FlavorDebian || !strings.Contains(tr.Origin, "1:10.2.0+ds-1") {
		t.Errorf("tree %+v", tr)
	}
	// A tarball that is not what the .dsc says is refused.
	os.WriteFile(filepath.Join(dir, "qemu_10.2.0+ds-1.debian.tar.gz"), []byte("changed"), 0o644)
	req.CacheDir = t.TempDir()
	if _, err := Prepare(context.Background(), req); err == nil || !strings.Contains(err.Error(), "the .dsc says") {
		t.Errorf("a changed tarball: %v", err)
	}
}
