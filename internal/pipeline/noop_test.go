package pipeline

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"qemupack/internal/config"
	"qemupack/internal/host"
)

// noopFixture is a finished run's world: a checkout with a recipe and a
// patch, a tool on PATH, one young Debian package list and two dist files.
type noopFixture struct {
	cfg             config.Config
	run             *Run
	recipe, tool    string
	archive, sums   string
	aptDir, binDir2 string
}

func newNoopFixture(t *testing.T) *noopFixture {
	t.Helper()
	d := t.TempDir()
	f := &noopFixture{}
	root, cache, dist := filepath.Join(d, "checkout"), filepath.Join(d, "cache"), filepath.Join(d, "dist")
	f.recipe = filepath.Join(root, "recipes", "deps", "zlib.json")
	write(t, f.recipe, `{"name":"zlib"}`)
	write(t, filepath.Join(root, "patches", "qemu", "1.0", "0001-x.patch"), "--- a\n+++ b\n")
	bin := filepath.Join(d, "bin")
	f.binDir2 = filepath.Join(d, "bin2")
	f.tool = filepath.Join(bin, "ninja")
	write(t, f.tool, "#!/bin/sh\necho 1.11.1\n")
	if err := os.Chmod(f.tool, 0o755); err != nil {
		t.Fatal(err)
	}
	os.MkdirAll(f.binDir2, 0o755)
	t.Setenv("PATH", f.binDir2+string(os.PathListSeparator)+bin)
	f.aptDir = filepath.Join(cache, "apt", "bookworm-0123456789ab")
	f.setAptTime(t, time.Now().Add(-time.Hour))
	f.archive = filepath.Join(dist, "qemu-1.0-win64.zip")
	f.sums = filepath.Join(dist, "SHA256SUMS")
	write(t, f.archive, "PK archive bytes")
	write(t, f.sums, "abc  qemu-1.0-win64.zip\n")
	f.cfg = config.Config{Root: root, CacheDir: cache, DistDir: dist, Profile: "desk", Jobs: 2}
	f.run = New(f.cfg, nil)
	f.run.Host = host.Report{Tools: []host.Tool{{Key: "ninja", Command: "ninja", Path: f.tool, Version: "1.11.1"}, {Key: "absent", Command: "not-here"}}}
	return f
}

func (f *noopFixture) setAptTime(t *testing.T, at time.Time) {
	t.Helper()
	b, _ := json.Marshal(map[string]any{"time": at, "key": "k"})
	write(t, filepath.Join(f.aptDir, "updated.json"), string(b))
}

func write(t *testing.T, p, s string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
}

func (f *noopFixture) remember(t *testing.T) {
	t.Helper()
	if err := f.run.Remember("bundle", "bundle: "+f.archive+" (0.0 MB, 0 DLLs), smoke passed earlier for this archive", []string{f.archive, f.sums}); err != nil {
		t.Fatal(err)
	}
}

func wantUnchanged(t *testing.T, c config.Config) {
	t.Helper()
	line, ok, changed := Unchanged(c, "bundle")
	if !ok || !strings.Contains(line, "smoke passed earlier") {
		t.Fatalf("Unchanged = %q, %v, %q; want the recorded line", line, ok, changed)
	}
}

func wantChanged(t *testing.T, c config.Config, why string) {
	t.Helper()
	line, ok, changed := Unchanged(c, "bundle")
	if ok || !strings.Contains(changed, why) {
		t.Fatalf("Unchanged = %q, %v, %q; want a change naming %q", line, ok, changed, why)
	}
}

func TestNoopRecordHitsOnlyWhenNothingChanged(t *testing.T) {
	f := newNoopFixture(t)
	if _, ok, changed := Unchanged(f.cfg, "bundle"); ok || changed != "" {
		t.Fatalf("before any run: ok=%v changed=%q; want a silent miss", ok, changed)
	}
	f.remember(t)
	wantUnchanged(t, f.cfg)

	// The checkout is read by content: an edit is seen, undoing it is too.
	orig, _ := os.ReadFile(f.recipe)
	write(t, f.recipe, `{"name":"zlib","version":"1.3"}`)
	wantChanged(t, f.cfg, "the checkout's recipes changed")
	write(t, f.recipe, string(orig))
	wantUnchanged(t, f.cfg)

	// Another setting or environment is another record.
	other := f.cfg
	other.Profile = "headless"
	if _, ok, _ := Unchanged(other, "bundle"); ok {
		t.Fatal("a run with another profile found the desk run's record")
	}
	t.Setenv("QEMU_TARGETS", "x86_64-softmmu")
	if _, ok, _ := Unchanged(f.cfg, "bundle"); ok {
		t.Fatal("a run with another environment found the record")
	}
}

func TestNoopRecordSeesTools(t *testing.T) {
	f := newNoopFixture(t)
	f.remember(t)
	// A new ninja earlier on PATH shadows the recorded one.
	shadow := filepath.Join(f.binDir2, "ninja")
	write(t, shadow, "#!/bin/sh\necho 1.12\n")
	os.Chmod(shadow, 0o755)
	wantChanged(t, f.cfg, "the tool ninja changed")
	os.Remove(shadow)
	wantUnchanged(t, f.cfg)
	// The recorded one upgraded in place.
	write(t, f.tool, "#!/bin/sh\necho 1.12.0 upgraded\n")
	wantChanged(t, f.cfg, "the tool ninja changed")
}

func TestNoopRecordSeesDistAndPackageLists(t *testing.T) {
	f := newNoopFixture(t)
	f.remember(t)
	write(t, f.archive, "PK other bytes!!")
	wantChanged(t, f.cfg, "was rewritten")

	f = newNoopFixture(t)
	f.remember(t)
	os.Remove(f.sums)
	wantChanged(t, f.cfg, "is gone")

	// Package lists older than the tree's six hours would be updated by
	// the pick, which might then find a newer QEMU: not a no-op.
	f = newNoopFixture(t)
	f.remember(t)
	f.setAptTime(t, time.Now().Add(-7*time.Hour))
	wantChanged(t, f.cfg, "Debian's package lists are due for an update")
}

func TestNoopRecordFromAnotherVersionIsIgnored(t *testing.T) {
	f := newNoopFixture(t)
	f.remember(t)
	p, err := noopPath(f.cfg, "bundle", os.Environ())
	if err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(p)
	write(t, p, strings.Replace(string(b), noopVersion, "qemupack-noop-0", 1))
	wantChanged(t, f.cfg, "another version of qemupack")
	write(t, p, "{half a record")
	wantChanged(t, f.cfg, "another version of qemupack")
}
