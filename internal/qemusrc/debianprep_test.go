package qemusrc

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ulikunitz/xz"

	"qemupack/internal/catalog"
	"qemupack/internal/debian"
)

func xzTar(t *testing.T, files map[string]string, order []string) []byte {
	t.Helper()
	var raw bytes.Buffer
	tw := tar.NewWriter(&raw)
	for _, name := range order {
		body := files[name]
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o755, Size: int64(len(body)), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		tw.Write([]byte(body))
	}
	tw.Close()
	var out bytes.Buffer
	w, _ := xz.NewWriter(&out)
	w.Write(raw.Bytes())
	w.Close()
	return out.Bytes()
}

func sumOf(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// The version pick chose (a debian.SourcePkg with the sums of the signed
// index) is what gets prepared: its files come from the mirror folder
// here (no archive given), are checked against those sums and the .dsc,
// and Debian's series is applied, which brings the repack of 10.2.0 to
// 10.2.1.
func TestPrepareTheChosenDebianSource(t *testing.T) {
	needPatch(t)
	mirror, cache := t.TempDir(), t.TempDir()
	orig := xzTar(t, map[string]string{
		"qemu-10.2.0/VERSION": "10.2.0\n", "qemu-10.2.0/configure": "#!/bin/sh\n", "qemu-10.2.0/util/osdep.c": "int qemu_answer(void)\n{\n    return 41;\n}\n",
	}, []string{"qemu-10.2.0/VERSION", "qemu-10.2.0/configure", "qemu-10.2.0/util/osdep.c"})
	bump := "--- a/VERSION\n+++ b/VERSION\n@@ -1 +1 @@\n-10.2.0\n+10.2.1\n"
	deb := xzTar(t, map[string]string{
		"debian/patches/series": "v10.2.1.diff\nanswer.patch\n", "debian/patches/v10.2.1.diff": bump, "debian/patches/answer.patch": goodPatch,
	}, []string{"debian/patches/series", "debian/patches/v10.2.1.diff", "debian/patches/answer.patch"})
	files := map[string][]byte{"qemu_10.2.0+ds.orig.tar.xz": orig, "qemu_10.2.0+ds-1.debian.tar.xz": deb}
	var dsc strings.Builder
	dsc.WriteString("Format: 3.0 (quilt)\nSource: qemu\nVersion: 1:10.2.0+ds-1\nChecksums-Sha256:\n")
	for _, n := range []string{"qemu_10.2.0+ds.orig.tar.xz", "qemu_10.2.0+ds-1.debian.tar.xz"} {
		fmt.Fprintf(&dsc, " %s %d %s\n", sumOf(files[n]), len(files[n]), n)
	}
	files["qemu_10.2.0+ds-1.dsc"] = []byte(dsc.String())
	chosen := &debian.SourcePkg{Package: "qemu", Version: "1:10.2.0+ds-1", Suite: "sid", Suites: []string{"sid"}}
	for n, b := range files {
		os.WriteFile(filepath.Join(mirror, n), b, 0o644)
		chosen.Files = append(chosen.Files, debian.File{Name: n, SHA256: sumOf(b), Size: int64(len(b))})
	}
	var said []string
	req := Request{Release: catalog.Release{Version: "10.2.0"}, CacheDir: cache, Mirror: mirror, Offline: true,
		DebianSource: chosen, Progress: func(s string) { said = append(said, s) }}
	tr, err := Prepare(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	if tr.Flavor != FlavorDebian || tr.Version != "10.2.1" || !strings.Contains(tr.Origin, "qemu 1:10.2.0+ds-1 (sid)") {
		t.Errorf("tree %+v", tr)
	}
	if tr.Debian == nil || tr.Debian.Version != "1:10.2.0+ds-1" || tr.Debian.Suite != "sid" {
		t.Errorf("the tree does not record its Debian source: %+v", tr.Debian)
	}
	if b, _ := os.ReadFile(filepath.Join(tr.Dir, "util", "osdep.c")); !strings.Contains(string(b), "return 42") {
		t.Errorf("Debian's patches not applied:\n%s", b)
	}

	// A mirror copy that is not what the index says is refused.
	cache2 := t.TempDir()
	os.WriteFile(filepath.Join(mirror, "qemu_10.2.0+ds-1.debian.tar.xz"), []byte("not it"), 0o644)
	req.CacheDir = cache2
	if _, err := Prepare(context.Background(), req); err == nil || !strings.Contains(err.Error(), "sha256 mismatch") {
		t.Errorf("a wrong debian tarball: %v", err)
	}

	// A chosen version of another series than the release is an error.
	req.CacheDir = t.TempDir()
	req.Release.Version = "9.2.0"
	if _, err := Prepare(context.Background(), req); err == nil || !strings.Contains(err.Error(), "not a 9.2 release") {
		t.Errorf("another series: %v", err)
	}
}
