package xbuild

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// tree72 makes a folder with QEMU 7.2's real configs/targets listing.
func tree72(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("../../testdata/xbuild/qemu-7.2-configs-targets.txt")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "configs", "targets"), 0o755)
	for _, n := range strings.Fields(string(b)) {
		os.WriteFile(filepath.Join(dir, "configs", "targets", n), nil, 0o644)
	}
	return dir
}

func TestTargetsFromTheTree(t *testing.T) {
	dir := tree72(t)
	valid, err := ValidTargets(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(valid) != 31 || valid[0] != "aarch64-softmmu" || valid[len(valid)-1] != "xtensaeb-softmmu" {
		t.Errorf("valid = %d targets: %q", len(valid), valid)
	}
	got, err := CheckTargets(dir, []string{"x86_64-softmmu", "aarch64-softmmu", "x86_64-softmmu"})
	if err != nil || !reflect.DeepEqual(got, []string{"aarch64-softmmu", "x86_64-softmmu"}) {
		t.Errorf("got %q, %v", got, err)
	}
}

func TestUnknownTargetListsTheValidOnes(t *testing.T) {
	dir := tree72(t)
	for bad, hint := range map[string]string{
		"x86-64-softmmu":    "",
		"x86_64":            "did you mean x86_64-softmmu?",
		"x86_64-linux-user": "user-mode emulators do not build for Windows",
	} {
		_, err := CheckTargets(dir, []string{"x86_64-softmmu", bad})
		if err == nil {
			t.Errorf("%s accepted", bad)
			continue
		}
		msg := err.Error()
		if !strings.Contains(msg, "unknown target "+bad) || !strings.Contains(msg, "QEMU_TARGETS") ||
			!strings.Contains(msg, "riscv64-softmmu") || !strings.Contains(msg, hint) {
			t.Errorf("%s: %v", bad, err)
		}
	}
	if _, err := CheckTargets(dir, nil); err == nil {
		t.Error("no targets accepted")
	}
	if _, err := CheckTargets(t.TempDir(), []string{"x86_64-softmmu"}); err == nil {
		t.Error("a folder without configs/targets accepted")
	}
}
