package release

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"qemupack/internal/catalog"
	"qemupack/internal/pick"
	"qemupack/internal/sbom"
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
	rels := []catalog.Release{{Version: "9.2.4", URL: "https://download.qemu.org/qemu-9.2.4.tar.xz", SHA256: strings.Repeat("1", 64)}}
	ctx := context.Background()
	rec := QEMUSource{Version: "9.2.4", FullVersion: "9.2.4", Origin: "upstream release tarball", Patches: []string{"0001-x.patch"}}
	c, err := QEMUComponent(ctx, rec, rels, root, nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.SourceURL != rels[0].URL || c.SourceSHA256 != rels[0].SHA256 || len(c.Patches) != 1 || c.Patches[0].Name != "patches/qemu/9.2.4/0001-x.patch" || c.Version != "9.2.4" {
		t.Errorf("upstream: %+v", c)
	}
	rec.Patches = []string{"0002-missing.patch"}
	if _, err := QEMUComponent(ctx, rec, rels, root, nil); err == nil || !strings.Contains(err.Error(), "0002-missing.patch") {
		t.Errorf("missing patch: %v", err)
	}
	// A Debian-flavoured build: the source is the .dsc in the apt lists.
	if _, err := exec.LookPath("apt-cache"); err != nil {
		t.Fatal("apt-cache not found: this test reads Debian's package lists")
	}
	out, _ := exec.Command("apt-cache", "showsrc", "qemu").Output()
	var ver string
	for _, l := range strings.Split(string(out), "\n") {
		if strings.HasPrefix(l, "Version: ") {
			ver = strings.TrimPrefix(l, "Version: ")
			break
		}
	}
	if ver == "" {
		t.Fatal("apt-cache showsrc qemu lists nothing: enable deb-src (scripts/setup-debian.sh does) and apt-get update")
	}
	rec = QEMUSource{Version: "7.2.22", FullVersion: "7.2.22-debian", Origin: "Debian source package qemu " + ver + ": the dfsg repack of QEMU 7.2 plus Debian's patches"}
	c, err = QEMUComponent(ctx, rec, rels, root, &sbom.Debian{})
	if err != nil {
		t.Fatal(err)
	}
	if c.Version != "7.2.22-debian" || !strings.HasSuffix(c.SourceURL, ".dsc") || len(c.SourceSHA256) != 64 {
		t.Errorf("debian: %+v", c)
	}
}
