package smoke

import (
	stdzip "archive/zip"
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"qemupack/internal/bundle"
	"qemupack/internal/pe/petest"
)

func writeZip(t *testing.T, names ...string) string {
	p := filepath.Join(t.TempDir(), "x.zip")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	zw := stdzip.NewWriter(f)
	for _, n := range names {
		w, _ := zw.Create(n)
		w.Write([]byte("content of " + n))
	}
	zw.Close()
	f.Close()
	return p
}

func TestUnpackRefusesBadArchives(t *testing.T) {
	ctx := context.Background()
	for name, entries := range map[string][]string{
		"escapes":  {"top/a.txt", "top/../../evil.txt"},
		"absolute": {"/tmp/evil.txt"},
		"two tops": {"a/x.txt", "b/y.txt"},
	} {
		t.Run(name, func(t *testing.T) {
			root := t.TempDir()
			dir := filepath.Join(root, "out")
			if _, err := Unpack(ctx, writeZip(t, entries...), dir); err == nil {
				t.Fatal("accepted")
			}
			if _, err := os.Stat(filepath.Join(root, "evil.txt")); err == nil {
				t.Fatal("a file escaped the folder")
			}
		})
	}
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "old"), nil, 0o644)
	if _, err := Unpack(ctx, writeZip(t, "top/a.txt"), dir); err == nil || !strings.Contains(err.Error(), "not empty") {
		t.Errorf("non-empty folder: %v", err)
	}
	top, err := Unpack(ctx, writeZip(t, "top/a.txt", "top/d/b.txt"), filepath.Join(t.TempDir(), "new"))
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(filepath.Join(top, "d", "b.txt")); string(b) != "content of top/d/b.txt" {
		t.Errorf("unpacked content %q", b)
	}
}

// The portability claim, for real: a mingw program bundled by our code runs
// from the unpacked archive under wine with a fresh prefix and no WINEPATH,
// while the same program from its build folder (DLLs from the sysroot not
// beside it) does not start in that prefix.
func TestBundledProgramRunsUnderFreshWine(t *testing.T) {
	petest.Need(t, "wine", "wine (and wine64)")
	fx := petest.Build(t)
	root := t.TempDir()
	stage := filepath.Join(root, "stage")
	os.MkdirAll(stage, 0o755)
	b, _ := os.ReadFile(fx.Main)
	os.WriteFile(filepath.Join(stage, "main.exe"), b, 0o755)
	deps := filepath.Join(root, "deps")
	os.MkdirAll(filepath.Join(deps, "bin"), 0o755)
	os.MkdirAll(filepath.Join(deps, "share", "licenses", "testlibs"), 0o755)
	for _, p := range []string{fx.LibA, fx.LibB, fx.LibC3, fx.LibD} {
		b, _ := os.ReadFile(p)
		os.WriteFile(filepath.Join(deps, "bin", filepath.Base(p)), b, 0o755)
	}
	readme := filepath.Join(fx.Sources, "README")
	rb, _ := os.ReadFile(readme)
	os.WriteFile(filepath.Join(deps, "share", "licenses", "testlibs", "README"), rb, 0o644)
	t.Setenv("WINEPATH", "/usr/x86_64-w64-mingw32/lib") // must be ignored
	ctx := context.Background()
	res, err := bundle.Bundle(ctx, bundle.Input{
		Stage: stage, Version: "0-test", Search: petest.Search(t, fx.Cross, deps),
		Licenses: map[string][]string{"QEMU": {readme}}, Time: bundle.DefaultEpoch, DistDir: filepath.Join(root, "dist"),
	})
	if err != nil {
		t.Fatal(err)
	}
	work := filepath.Join(root, "work")
	top, err := Unpack(ctx, res.Archive.Path, filepath.Join(work, "unpacked"))
	if err != nil {
		t.Fatal(err)
	}
	r, err := NewRunner(work)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	for _, kv := range r.Env {
		if strings.HasPrefix(kv, "WINEPATH=") {
			t.Fatalf("runner passes %s", kv)
		}
	}
	out, err := r.Command(ctx, "main", work, filepath.Join(top, "main.exe"), nil, 3*time.Minute, nil)
	if err != nil {
		t.Fatalf("bundled main.exe: %v", err)
	}
	if !strings.Contains(out, "hello from main: a=") || !strings.Contains(out, "zlib=1.") {
		t.Errorf("bundled main.exe printed %q", out)
	}
	// Control: from the build folder, which lacks zlib1, winpthread and
	// libgcc, the same program cannot start in this prefix.
	out, err = r.Command(ctx, "control", work, fx.Main, nil, 3*time.Minute, nil)
	if err == nil || strings.Contains(out, "hello from main") {
		t.Errorf("the unbundled program ran (%v): %q — the prefix can reach the sysroot, so the check above proves nothing", err, out)
	}
}

func TestExtractKernel(t *testing.T) {
	dpkgDeb := petest.Need(t, "dpkg-deb", "dpkg")
	for _, comp := range []string{"xz", "zstd"} {
		t.Run(comp, func(t *testing.T) {
			tree := t.TempDir()
			os.MkdirAll(filepath.Join(tree, "DEBIAN"), 0o755)
			os.MkdirAll(filepath.Join(tree, "boot"), 0o755)
			os.WriteFile(filepath.Join(tree, "DEBIAN", "control"), []byte("Package: linux-image-test\nVersion: 1\nArchitecture: amd64\nMaintainer: t <t@t>\nDescription: test\n"), 0o644)
			os.WriteFile(filepath.Join(tree, "boot", "config-1"), []byte("CONFIG=y\n"), 0o644)
			kernel := bytes.Repeat([]byte("not really a kernel "), 5000)
			os.WriteFile(filepath.Join(tree, "boot", "vmlinuz-1-test"), kernel, 0o644)
			deb := filepath.Join(t.TempDir(), "linux-image-test.deb")
			if out, err := exec.Command(dpkgDeb, "--root-owner-group", "-Z"+comp, "--build", tree, deb).CombinedOutput(); err != nil {
				t.Fatalf("dpkg-deb: %v\n%s", err, out)
			}
			dir := t.TempDir()
			k, err := ExtractKernel(deb, dir)
			if err != nil {
				t.Fatal(err)
			}
			if b, _ := os.ReadFile(k); filepath.Base(k) != "vmlinuz-1-test" || !bytes.Equal(b, kernel) {
				t.Errorf("extracted %s, %d bytes", k, len(b))
			}
			// Kernel() finds it in the folder next time, offline.
			if k2, err := Kernel(context.Background(), dir, true, nil); err != nil || k2 != k {
				t.Errorf("Kernel() = %s, %v", k2, err)
			}
		})
	}
	bad := filepath.Join(t.TempDir(), "linux-image-bad.deb")
	os.WriteFile(bad, []byte("!<arch>\ndebian-binary   0           0     0     100644  4         `\n2.0\n"), 0o644)
	if _, err := ExtractKernel(bad, t.TempDir()); err == nil || !strings.Contains(err.Error(), "linux-image-bad.deb") {
		t.Errorf("bad deb: %v", err)
	}
	if _, err := Kernel(context.Background(), t.TempDir(), true, nil); err == nil || !strings.Contains(err.Error(), "QEMUPACK_OFFLINE") {
		t.Errorf("offline with no kernel: %v", err)
	}
}
