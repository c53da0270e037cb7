package smoke

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"qemupack/internal/bundle"
	"qemupack/internal/pe/petest"
	"qemupack/internal/stepcache"
)

// fakeQEMU answers the smoke's questions the way QEMU does (a real
// Windows program, run under wine); with fail set, -machine help fails.
const fakeQEMU = `#include <stdio.h>
#include <string.h>
#include <windows.h>
int main(int argc, char **argv) {
    char dir[MAX_PATH];
    GetModuleFileNameA(NULL, dir, MAX_PATH);
    *strrchr(dir, '\\') = 0;
    if (argc > 1 && strcmp(argv[1], "--version") == 0) { printf("qemu-img version 0.1.0\n"); return 0; }
    if (argc > 1 && strcmp(argv[1], "-version") == 0) { printf("QEMU emulator version 0.1.0\n"); return 0; }
    if (argc > 2 && strcmp(argv[1], "-machine") == 0) { if (FAIL) return 1; printf("Supported machines are:\npc\n"); return 0; }
    if (argc > 2 && strcmp(argv[1], "-L") == 0) { printf("%s\\share\n", dir); return 0; }
    return 2;
}
`

// fakeArchive builds the fake programs and bundles them.
func fakeArchive(t *testing.T, fail bool) string {
	t.Helper()
	gcc := petest.Need(t, "x86_64-w64-mingw32-gcc", "gcc-mingw-w64-x86-64")
	root := t.TempDir()
	stage := filepath.Join(root, "stage")
	os.MkdirAll(stage, 0o755)
	src := filepath.Join(root, "fake.c")
	f := "0"
	if fail {
		f = "1"
	}
	os.WriteFile(src, []byte(strings.Replace(fakeQEMU, "FAIL", f, 1)), 0o644)
	for _, exe := range []string{"qemu-system-x86_64.exe", "qemu-img.exe"} {
		if out, err := exec.Command(gcc, "-O2", "-Wl,--no-insert-timestamp", "-o", filepath.Join(stage, exe), src).CombinedOutput(); err != nil {
			t.Fatalf("%s: %v\n%s", gcc, err, out)
		}
	}
	res, err := bundle.Bundle(context.Background(), bundle.Input{
		Stage: stage, Version: "0.1.0", Search: petest.Search(t, "x86_64-w64-mingw32-"),
		Licenses: map[string][]string{"QEMU": {filepath.Join(petest.Sources(), "README")}}, Time: bundle.DefaultEpoch, DistDir: filepath.Join(root, "dist"),
	})
	if err != nil {
		t.Fatal(err)
	}
	return res.Archive.Path
}

// A passed smoke test is kept per archive content: the second call runs
// nothing and says so; another archive runs again; a failure is not kept.
func TestSmokeOnce(t *testing.T) {
	petest.Need(t, "wine", "wine (and wine64)")
	ctx := context.Background()
	cache := &stepcache.Cache{Root: t.TempDir()}
	archive := fakeArchive(t, false)
	var logs []string
	o := Options{Archive: archive, Log: func(s string) { logs = append(logs, s) }}

	rep, hit, e, err := Once(ctx, cache, o, "")
	if err != nil {
		t.Fatalf("first smoke: %v\n%s", err, strings.Join(logs, "\n"))
	}
	e.Release()
	if hit || len(rep.Steps) < 4 {
		t.Fatalf("first smoke: hit=%v, %d checks", hit, len(rep.Steps))
	}
	logs = nil
	rep2, hit, e, err := Once(ctx, cache, o, "")
	if err != nil || !hit || len(rep2.Steps) != len(rep.Steps) {
		t.Fatalf("second smoke: hit=%v err=%v", hit, err)
	}
	e.Release()
	if len(logs) != 1 || !strings.Contains(logs[0], "smoke: passed earlier for this archive") {
		t.Errorf("a cached smoke logs %q", logs)
	}
	// Another expected version is another set of checks.
	o.Version = "0.1"
	if _, hit, e, err = Once(ctx, cache, o, ""); err != nil || hit {
		t.Fatalf("other checks: hit=%v err=%v", hit, err)
	}
	e.Release()
	// Another feature list is another set of checks (the desk checks
	// follow it), in any order the same.
	o.Features = []string{"vnc", "slirp"}
	if _, hit, e, err = Once(ctx, cache, o, ""); err != nil || hit {
		t.Fatalf("other features: hit=%v err=%v", hit, err)
	}
	e.Release()
	o.Features = []string{"slirp", "vnc"}
	if _, hit, e, err = Once(ctx, cache, o, ""); err != nil || !hit {
		t.Fatalf("the same features in another order: hit=%v err=%v", hit, err)
	}
	e.Release()

	// A failing archive fails every time: nothing is kept for it.
	bad := Options{Archive: fakeArchive(t, true)}
	for i := 0; i < 2; i++ {
		if _, _, _, err := Once(ctx, cache, bad, ""); err == nil || !strings.Contains(err.Error(), "-machine help") {
			t.Fatalf("failing archive, run %d: %v", i+1, err)
		}
	}
}
