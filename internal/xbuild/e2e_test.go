package xbuild

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"qemupack/internal/catalog"
	"qemupack/internal/config"
	"qemupack/internal/deps"
)

// TestBuildEndToEnd runs the whole build step for real: the host's QEMU
// source, configure, ninja, install into the stage, then the staged
// qemu-system-x86_64.exe -version under wine with the DLL folders on
// WINEPATH. Opt-in: QEMUPACK_E2E=1, with QEMUPACK_CACHE a cache to build
// in (the mingw stack is built there first when it is not cached).
func TestBuildEndToEnd(t *testing.T) {
	if os.Getenv("QEMUPACK_E2E") != "1" {
		t.Skip("set QEMUPACK_E2E=1 (and QEMUPACK_CACHE) to build QEMU for real")
	}
	root, _ := filepath.Abs("../..")
	cfg, err := config.FromEnv(root, os.Getenv)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Minute)
	defer cancel()
	o, err := deps.OptionsFrom(ctx, cfg, testWriter{t})
	if err != nil {
		t.Fatal(err)
	}
	st, err := deps.Build(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	res, err := Run(ctx, cfg, Job{Release: catalog.Release{Version: "7.2.0"}, DepsPrefixes: []string{st.Dir}}, testWriter{t})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"qemu-system-x86_64.exe", "qemu-img.exe"} {
		if _, err := os.Stat(filepath.Join(res.StageDir, want)); err != nil {
			t.Errorf("stage lacks %s: %v", want, err)
		}
	}
	wine, err := exec.LookPath("wine")
	if err != nil {
		t.Fatal("wine is needed to run the staged exe (Debian package wine)")
	}
	cmd := exec.CommandContext(ctx, wine, filepath.Join(res.StageDir, "qemu-system-x86_64.exe"), "-version")
	cmd.Env = append(os.Environ(), "WINEPATH="+strings.Join(res.DLLSearchDirs, ";"), "WINEDEBUG=-all")
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "QEMU emulator version "+res.Version) {
		t.Fatalf("wine qemu-system-x86_64.exe -version: %v\n%s", err, out)
	}
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}
