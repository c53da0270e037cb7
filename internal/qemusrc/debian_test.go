package qemusrc

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const excerpt = "../../testdata/qemusrc/debian-7.2"

// readExcerpt loads the series and patches of the real excerpt of
// Debian 12's qemu source package (the VERSION parts of its upstream
// stable patches, two packaging patches whole).
func readExcerpt(t *testing.T) ([]SeriesEntry, []NamedPatch) {
	t.Helper()
	series, err := os.ReadFile(filepath.Join(excerpt, "patches", "series"))
	if err != nil {
		t.Fatal(err)
	}
	entries, err := ParseSeries(string(series))
	if err != nil {
		t.Fatal(err)
	}
	var ps []NamedPatch
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(excerpt, "patches", e.Name))
		if os.IsNotExist(err) {
			continue // the excerpt leaves out patches that do not touch VERSION
		}
		if err != nil {
			t.Fatal(err)
		}
		ps = append(ps, NamedPatch{Name: e.Name, Text: string(b), Strip: e.Strip})
	}
	return entries, ps
}

func TestDebianSeriesYieldsItsStableVersion(t *testing.T) {
	entries, ps := readExcerpt(t)
	if len(entries) != 38 {
		t.Errorf("series has %d entries, want 38 (comment lines must be skipped)", len(entries))
	}
	if entries[0].Name != "v7.2.1.diff" || entries[len(entries)-1].Name != "mark-internal-codegen-functions-hidden.patch" {
		t.Errorf("series order: first %s, last %s", entries[0].Name, entries[len(entries)-1].Name)
	}
	v, err := DeriveVersion("7.2.0", ps)
	if err != nil {
		t.Fatal(err)
	}
	if v != "7.2.22" {
		t.Errorf("version = %s, want 7.2.22", v)
	}
}

func TestDebianSeriesWithAGapIsAnError(t *testing.T) {
	_, ps := readExcerpt(t)
	var holed []NamedPatch
	for _, p := range ps {
		if p.Name != "v7.2.5.diff" {
			holed = append(holed, p)
		}
	}
	_, err := DeriveVersion("7.2.0", holed)
	if err == nil || !strings.Contains(err.Error(), "v7.2.6.diff") || !strings.Contains(err.Error(), "7.2.4") {
		t.Fatalf("want an error naming v7.2.6.diff and the tree's 7.2.4, got %v", err)
	}
}

func TestPatchesThatLeaveVersionAloneChangeNothing(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(excerpt, "patches", "skip-meson-pc-bios.diff"))
	if err != nil {
		t.Fatal(err)
	}
	if _, ok, err := VersionChangeIn(string(b), 1); ok || err != nil {
		t.Errorf("skip-meson-pc-bios.diff seen as a VERSION change (ok=%v err=%v)", ok, err)
	}
	// A file merely ending in VERSION is not the top-level VERSION.
	diff := "--- a/roms/x/VERSION\n+++ b/roms/x/VERSION\n@@ -1 +1 @@\n-1.0\n+2.0\n"
	if _, ok, _ := VersionChangeIn(diff, 1); ok {
		t.Error("roms/x/VERSION taken for VERSION")
	}
	// -p0 patches name the file without the a/ b/ folder.
	diff = "--- VERSION\n+++ VERSION\n@@ -1 +1 @@\n-8.0.0\n+8.0.1\n"
	ch, ok, err := VersionChangeIn(diff, 0)
	if !ok || err != nil || ch.From != "8.0.0" || ch.To != "8.0.1" {
		t.Errorf("-p0 change = %+v ok=%v err=%v", ch, ok, err)
	}
}

func TestParseSeries(t *testing.T) {
	got, err := ParseSeries("# comment\n\na.patch\nb.diff -p0 # why\n  c.patch -p1\n")
	if err != nil {
		t.Fatal(err)
	}
	want := []SeriesEntry{{"a.patch", 1}, {"b.diff", 0}, {"c.patch", 1}}
	if len(got) != len(want) {
		t.Fatalf("got %v", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("entry %d = %v, want %v", i, got[i], want[i])
		}
	}
	if _, err := ParseSeries("x.patch --fuzz=3\n"); err == nil {
		t.Error("unknown option accepted")
	}
	if _, err := ParseSeries("../../etc/passwd\n"); err == nil {
		t.Error("a name leaving debian/patches accepted")
	}
}

func TestParseRealDsc(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(excerpt, "qemu_7.2+dfsg-7+deb12u18.dsc"))
	if err != nil {
		t.Fatal(err)
	}
	d, err := ParseDsc(string(b))
	if err != nil {
		t.Fatal(err)
	}
	if d.Source != "qemu" || d.Version != "1:7.2+dfsg-7+deb12u18" || d.Upstream() != "7.2+dfsg" {
		t.Errorf("dsc = %s %s (upstream %s)", d.Source, d.Version, d.Upstream())
	}
	if base, err := d.BaseVersion(); err != nil || base != "7.2.0" {
		t.Errorf("base version = %q, %v", base, err)
	}
	orig, ok := d.Find(reOrig)
	if !ok || orig.Name != "qemu_7.2+dfsg.orig.tar.xz" || orig.Size != 23523172 ||
		orig.SHA256 != "91aca71520040edc40b8d437aa3004dae614f58e286cf653ee8996c07af2962f" {
		t.Errorf("orig = %+v", orig)
	}
	if _, err := ParseDsc("Source: x\n"); err == nil {
		t.Error("a .dsc without files accepted")
	}
}

func TestParsePrintURIs(t *testing.T) {
	out := `Reading package lists...
NOTICE: 'qemu' packaging is maintained in the 'Git' version control system at:
Need to get 23.9 MB of source archives.
'http://deb.debian.org/debian/pool/main/q/qemu/qemu_7.2%2bdfsg-7%2bdeb12u18.dsc' qemu_7.2+dfsg-7+deb12u18.dsc 6909 SHA256:6b6bd27b947ec89e40a1d6b26d9c9f3c698ca691da13163e0483f6061bbb20b3
'http://deb.debian.org/debian/pool/main/q/qemu/qemu_7.2%2bdfsg.orig.tar.xz' qemu_7.2+dfsg.orig.tar.xz 23523172 SHA256:91aca71520040edc40b8d437aa3004dae614f58e286cf653ee8996c07af2962f
'http://deb.debian.org/debian/pool/main/q/qemu/qemu_7.2%2bdfsg-7%2bdeb12u18.debian.tar.xz' qemu_7.2+dfsg-7+deb12u18.debian.tar.xz 405636 SHA256:28a1c86310ee53b6bf1854cffe6f6be6ed29a08db7d05759f8ac57b8d6a6cb2f
`
	fs := ParsePrintURIs(out)
	if len(fs) != 3 {
		t.Fatalf("got %d files: %+v", len(fs), fs)
	}
	if fs[1].Name != "qemu_7.2+dfsg.orig.tar.xz" || fs[1].Size != 23523172 || !strings.HasPrefix(fs[1].SHA256, "91aca715") || !strings.HasPrefix(fs[1].URL, "http://deb.debian.org/") {
		t.Errorf("orig = %+v", fs[1])
	}
}
