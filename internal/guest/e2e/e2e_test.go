package e2e

import (
	"context"
	"os"
	"testing"
	"time"

	"qemupack/internal/config"
)

// TestBootDebianGuest boots a real Debian guest with real cloud-init, once
// with the seed over HTTP (through guestfwd) and once from a cidata ISO,
// both under -netdev user,restrict=on. Opt-in: QEMUPACK_E2E=1. The image is
// built from Debian's archive on first use (needs root and the network to
// the mirror) and cached under QEMUPACK_CACHE; a boot under TCG takes a few
// minutes. QEMUPACK_VM_QEMU picks the QEMU (a .exe runs under wine).
func TestBootDebianGuest(t *testing.T) {
	if os.Getenv("QEMUPACK_E2E") != "1" {
		t.Skip("end-to-end guest boot: set QEMUPACK_E2E=1 to run it (builds a Debian image, boots it twice under TCG)")
	}
	cfg, err := config.FromOS()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Minute)
	defer cancel()
	t0 := time.Now()
	img, err := Image(ctx, cfg.CacheDir, func(s string) { t.Log(s) })
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("image ready in %s: %s", time.Since(t0).Round(time.Second), img.Disk)
	var qemu []string // QEMUPACK_VM_QEMU: e.g. our Windows build, run under wine
	if q := os.Getenv("QEMUPACK_VM_QEMU"); q != "" {
		qemu = []string{q}
	}
	for _, mode := range []string{"http", "iso"} {
		t.Run(mode, func(t *testing.T) {
			res, err := Run(ctx, img, Options{
				CacheDir: cfg.CacheDir,
				WorkDir:  t.TempDir(),
				Mode:     mode,
				QEMU:     qemu,
				Accel:    os.Getenv("QEMUPACK_VM_ACCEL"),
				Progress: func(s string) { t.Log(s) },
			})
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%s: accel %s, keys reported after %s, ssh %s, shutdown %s; user %s; seed fetched %v; %s; %s",
				mode, res.Accel, res.Boot.Round(time.Second), res.SSH.Round(100*time.Millisecond), res.Down.Round(100*time.Millisecond),
				res.User, res.Fetched, res.SerialCheck, res.Datasource)
		})
	}
}
