package bundle

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"qemupack/internal/config"
)

func TestInputFromBuildRecord(t *testing.T) {
	w := newWorld(t)
	cache := t.TempDir()
	deps := filepath.Join(cache, "deps", "abc")
	os.MkdirAll(deps, 0o755)
	os.Rename(filepath.Join(w.deps, "bin"), filepath.Join(deps, "bin"))
	os.MkdirAll(filepath.Join(deps, "share"), 0o755)
	os.Rename(filepath.Join(w.deps, "share", "licenses"), filepath.Join(deps, "share", "licenses"))
	rec := BuildRecord{
		StageDir: w.stage, Version: "7.2.22", Flavor: "debian", SourceOrigin: "a test", Targets: []string{"x86_64-softmmu"},
		DLLSearchDirs: []string{filepath.Join(deps, "bin"), "/usr/x86_64-w64-mingw32/lib"},
		FirmwareDirs:  []string{"/usr/share/seabios", "/usr/lib/ipxe/qemu", "/usr/share/qemu"},
		LicenseFiles:  map[string]string{"QEMU": filepath.Join(w.fx.Sources, "README")},
		ConfigureArgs: []string{filepath.Join(cache, "sources", "qemu", "k", "src", "configure"), "--extra-cflags=-I" + filepath.Join(deps, "include")},
		BuildTools:    []string{"meson 1.7.0 for configure's venv (meson_1.7.0-1_all.deb (Debian trixie)), on PYTHONPATH"},
	}
	dir := filepath.Join(cache, "build", "7.2.22-k")
	os.MkdirAll(dir, 0o755)
	b, _ := json.Marshal(rec)
	os.WriteFile(filepath.Join(dir, "result.json"), b, 0o644)

	p, err := NewestBuild(cache)
	if err != nil {
		t.Fatal(err)
	}
	got, err := ReadBuild(p)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := config.FromEnv(t.TempDir(), func(k string) string {
		return map[string]string{config.EnvCache: cache, config.EnvDist: filepath.Join(cache, "dist")}[k]
	})
	if err != nil {
		t.Fatal(err)
	}
	in, err := InputFromBuild(context.Background(), cfg, got)
	if err != nil {
		t.Fatal(err)
	}
	if in.Version != "7.2.22-debian" || Name(in.Version) != "qemu-7.2.22-debian-win64" {
		t.Errorf("version %q", in.Version)
	}
	if !in.Search[0].Override || in.Search[1].Override || in.Search[1].Path != "/usr/x86_64-w64-mingw32/lib" {
		t.Errorf("search %+v", in.Search)
	}
	last := in.Search[len(in.Search)-1].Path
	if !strings.HasPrefix(last, "/usr/lib/gcc/x86_64-w64-mingw32/") {
		t.Errorf("gcc runtime folder not last: %s", last)
	}
	// The build machine's cache folder is no part of the archive.
	wantNote := "configure $QEMUPACK_CACHE/sources/qemu/k/src/configure --extra-cflags=-I$QEMUPACK_CACHE/deps/abc/include"
	if len(in.BuildNotes) != 2 || in.BuildNotes[0] != wantNote || in.BuildNotes[1] != "with "+rec.BuildTools[0] {
		t.Errorf("build notes %q, want [%q, with %q]", in.BuildNotes, wantNote, rec.BuildTools[0])
	}
	res, err := Bundle(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	if filepath.Base(res.Archive.Path) != "qemu-7.2.22-debian-win64.zip" {
		t.Errorf("archive %s", res.Archive.Path)
	}
	if _, err := NewestBuild(t.TempDir()); err == nil || !strings.Contains(err.Error(), "mage.go build") {
		t.Errorf("no build: %v", err)
	}
}
