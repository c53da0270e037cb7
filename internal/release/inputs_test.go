package release

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"qemupack/internal/pick"
)

func TestFromVerdicts(t *testing.T) {
	vs := []pick.Verdict{
		{Version: "10.1.0", Buildable: false, Obtainable: true, Blockers: []string{"glib-2.0 2.66 < 2.76"}},
		{Version: "10.0.90", Candidate: true, Buildable: true, Obtainable: true},
		{Version: "10.0.2", Buildable: true, Obtainable: false},
		{Version: "9.2.4", Buildable: true, Obtainable: true},
		{Version: "7.2.0", Buildable: true, Obtainable: true, Excluded: true},
	}
	got := FromVerdicts(vs)
	want := []Candidate{
		{Version: "10.1.0", Why: "glib-2.0 2.66 < 2.76"},
		{Version: "10.0.2", Why: "its source cannot be had here"},
		{Version: "9.2.4", OK: true},
		{Version: "7.2.0", Why: "outside QEMU_VERSION"},
	}
	if len(got) != len(want) {
		t.Fatalf("got %+v", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("%d: %+v, want %+v", i, got[i], want[i])
		}
	}
}

func TestQEMUComponent(t *testing.T) {
	root := t.TempDir()
	pdir := filepath.Join(root, "patches", "qemu", "9.2.4")
	os.MkdirAll(pdir, 0o755)
	os.WriteFile(filepath.Join(pdir, "0001-x.patch"), []byte("--- a\n"), 0o644)
	sum := strings.Repeat("1", 64)
	rec := QEMUSource{Version: "9.2.4", FullVersion: "9.2.4", Origin: "upstream release tarball", Patches: []string{"0001-x.patch"},
		URL: "https://download.qemu.org/qemu-9.2.4.tar.xz", SHA256: sum}
	c, err := QEMUComponent(rec, root)
	if err != nil {
		t.Fatal(err)
	}
	if c.SourceURL != rec.URL || c.SourceSHA256 != sum || len(c.Patches) != 1 || c.Patches[0].Name != "patches/qemu/9.2.4/0001-x.patch" || c.Version != "9.2.4" {
		t.Errorf("upstream: %+v", c)
	}
	rec.Patches = []string{"0002-missing.patch"}
	if _, err := QEMUComponent(rec, root); err == nil || !strings.Contains(err.Error(), "0002-missing.patch") {
		t.Errorf("missing patch: %v", err)
	}
	// A Debian tree: the source is its .dsc, as the tree recorded it.
	dsc := "https://deb.debian.org/debian/pool/main/q/qemu/qemu_10.2.2%2bds-1.dsc"
	c, err = QEMUComponent(QEMUSource{Version: "10.2.2", FullVersion: "10.2.2-debian", Origin: "Debian source package qemu 1:10.2.2+ds-1 (sid)", URL: dsc, SHA256: sum, Debian: true}, root)
	if err != nil {
		t.Fatal(err)
	}
	if c.Version != "10.2.2-debian" || c.SourceURL != dsc || !strings.Contains(c.Comment, "Debian's own patch series") {
		t.Errorf("debian: %+v", c)
	}
	// A tree that does not say what it was made from cannot be billed.
	if _, err := QEMUComponent(QEMUSource{Version: "10.2.2", FullVersion: "10.2.2"}, root); err == nil {
		t.Error("a source without URL and sha256 was accepted")
	}
}
