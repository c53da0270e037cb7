package xbuild

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

func TestInstallRootAndExes(t *testing.T) {
	dest := t.TempDir()
	// meson install --destdir D with QEMU's Windows prefix /qemu.
	root := filepath.Join(dest, "qemu")
	os.MkdirAll(filepath.Join(root, "share", "keymaps"), 0o755)
	os.MkdirAll(filepath.Join(root, "storage-daemon"), 0o755)
	for _, f := range []string{"qemu-img.exe", "qemu-system-x86_64.exe", "storage-daemon/qemu-storage-daemon.EXE", "share/trace-events-all"} {
		os.WriteFile(filepath.Join(root, f), []byte("x"), 0o644)
	}
	got, err := installRoot(dest)
	if err != nil || got != root {
		t.Fatalf("installRoot = %q, %v", got, err)
	}
	exes, err := stagedExes(root)
	want := []string{"qemu-img.exe", "qemu-system-x86_64.exe", "storage-daemon/qemu-storage-daemon.EXE"}
	if err != nil || !reflect.DeepEqual(exes, want) {
		t.Errorf("exes = %q, %v", exes, err)
	}
	// A prefix holding only share/ is the tree itself, not share/.
	only := t.TempDir()
	os.MkdirAll(filepath.Join(only, "share", "x"), 0o755)
	if got, _ := installRoot(only); got != only {
		t.Errorf("descended into share/: %s", got)
	}
}

func TestSavedResultIsReusedOnlyWhileTheStageIsThere(t *testing.T) {
	top := t.TempDir()
	stage := filepath.Join(top, "stage")
	os.MkdirAll(stage, 0o755)
	os.WriteFile(filepath.Join(stage, "qemu-img.exe"), []byte("MZ"), 0o755)
	r := Result{StageDir: stage, Version: "7.2.22", Exes: []string{"qemu-img.exe"}, Targets: []string{"x86_64-softmmu"}}
	if err := saveResult(top, r); err != nil {
		t.Fatal(err)
	}
	got, ok := loadResult(top)
	if !ok || got.Version != "7.2.22" || got.StageDir != stage {
		t.Fatalf("loadResult = %+v, %v", got, ok)
	}
	os.Remove(filepath.Join(stage, "qemu-img.exe"))
	if _, ok := loadResult(top); ok {
		t.Error("a result whose exe is gone was reused")
	}
	if _, ok := loadResult(t.TempDir()); ok {
		t.Error("a folder without result.json gave a result")
	}
}

func TestBuildKeyChangesWithEveryInput(t *testing.T) {
	base := []string{"tree", "gcc 12", "configure --x", "PKG_CONFIG_LIBDIR=/a", "/usr/bin"}
	k := buildKey(base...)
	for i := range base {
		changed := append([]string(nil), base...)
		changed[i] += "!"
		if buildKey(changed...) == k {
			t.Errorf("changing input %d kept the key", i)
		}
	}
	if buildKey(base...) != k {
		t.Error("the key is not stable")
	}
}
