package debian

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const excerpt = "../../testdata/debian/qemu-7.2"

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
	// -p0 patches name the file without the a/ b/ folder, and a -p0
	// entry of the series is read as -p0 (not as the -p1 default).
	diff = "--- VERSION\n+++ VERSION\n@@ -1 +1 @@\n-8.0.0\n+8.0.1\n"
	ch, ok, err := VersionChangeIn(diff, 0)
	if !ok || err != nil || ch.From != "8.0.0" || ch.To != "8.0.1" {
		t.Errorf("-p0 change = %+v ok=%v err=%v", ch, ok, err)
	}
	if v, err := DeriveVersion("8.0.0", []NamedPatch{{Name: "p0.diff", Text: diff, Strip: 0}}); err != nil || v != "8.0.1" {
		t.Errorf("a -p0 patch: %q %v", v, err)
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

func TestReadPatches(t *testing.T) {
	dir := t.TempDir()
	if es, ps, err := ReadPatches(dir); err != nil || es != nil || ps != nil {
		t.Errorf("no series: %v %v %v", es, ps, err)
	}
	os.MkdirAll(filepath.Join(dir, "patches"), 0o755)
	os.WriteFile(filepath.Join(dir, "patches", "series"), []byte("a.patch -p0\nmissing.patch\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "patches", "a.patch"), []byte("x"), 0o644)
	if _, _, err := ReadPatches(dir); err == nil || !strings.Contains(err.Error(), "missing.patch") {
		t.Errorf("a series naming a missing patch: %v", err)
	}
}
