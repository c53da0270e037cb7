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

func TestStageCheckNeedsEveryProgram(t *testing.T) {
	top := t.TempDir()
	stage := filepath.Join(top, "stage")
	os.MkdirAll(stage, 0o755)
	os.WriteFile(filepath.Join(stage, "qemu-img.exe"), []byte("MZ"), 0o755)
	r := Result{StageDir: stage, Version: "7.2.22", Exes: []string{"qemu-img.exe"}, Targets: []string{"x86_64-softmmu"}}
	if err := saveResult(top, r); err != nil {
		t.Fatal(err)
	}
	got, err := ReadResult(top)
	if err != nil || got.Version != "7.2.22" || got.StageDir != stage {
		t.Fatalf("ReadResult = %+v, %v", got, err)
	}
	if err := checkStage(top); err != nil {
		t.Fatalf("a complete stage fails its check: %v", err)
	}
	os.Remove(filepath.Join(stage, "qemu-img.exe"))
	if checkStage(top) == nil {
		t.Error("a stage whose program is gone passed its check (it would be reused)")
	}
	if checkStage(t.TempDir()) == nil {
		t.Error("a folder without result.json passed the check")
	}
}
