package deps

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestLinkPathKeepsImportOrder links the same program against the same
// import library kept in two folders, one whose path sorts before the
// mingw sysroot's /usr/... (the test's temporary folder) and one after it
// (/var/tmp), with the real cross linker. Written as they are, the two
// programs differ (GNU ld orders import tables by library path); written
// through LinkPath they are the same bytes.
func TestLinkPathKeepsImportOrder(t *testing.T) {
	gcc, err := exec.LookPath("x86_64-w64-mingw32-gcc")
	if err != nil {
		t.Fatal("x86_64-w64-mingw32-gcc not found: apt-get install gcc-mingw-w64-x86-64")
	}
	src := t.TempDir()
	os.WriteFile(filepath.Join(src, "foo.c"), []byte("int foo(void) { return 1; }\n"), 0o644)
	os.WriteFile(filepath.Join(src, "main.c"), []byte("#include <windows.h>\nint foo(void);\nint main(void) { Sleep(0); return foo(); }\n"), 0o644)
	cc := func(dir string, args ...string) {
		t.Helper()
		cmd := exec.Command(gcc, args...)
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%v: %v\n%s", cmd.Args, err, out)
		}
	}
	cc(src, "-shared", "-o", "libfoo-1.dll", "foo.c", "-Wl,--out-implib,libfoo.dll.a")
	implib, _ := os.ReadFile(filepath.Join(src, "libfoo.dll.a"))

	late, err := os.MkdirTemp("/var/tmp", "qemupack-linkpath-")
	if err != nil {
		t.Skipf("no folder that sorts after /usr to test with: %v", err)
	}
	t.Cleanup(func() { os.RemoveAll(late) })
	dirs := []string{filepath.Join(t.TempDir(), "lib"), filepath.Join(late, "lib")}
	for _, d := range dirs {
		os.MkdirAll(d, 0o755)
		os.WriteFile(filepath.Join(d, "libfoo.dll.a"), implib, 0o644)
	}
	link := func(through func(string) string) [2][]byte {
		var out [2][]byte
		for i, d := range dirs {
			exe := filepath.Join(src, "main.exe")
			cc(src, "-o", exe, "main.c", "-L"+through(d), "-lfoo", "-Wl,--no-insert-timestamp")
			out[i], _ = os.ReadFile(exe)
		}
		return out
	}
	plain := link(func(d string) string { return d })
	if bytes.Equal(plain[0], plain[1]) {
		t.Fatal("the linker gave the same program from both folders even written plainly; this test no longer shows the problem LinkPath solves")
	}
	ours := link(LinkPath)
	if !bytes.Equal(ours[0], ours[1]) {
		t.Errorf("through LinkPath the programs still differ (%s and %s)", LinkPath(dirs[0]), LinkPath(dirs[1]))
	}
	// meson takes library paths from pkg-config and hands them through
	// Python's pathlib before they reach the link line: the spelling must
	// come out of both as it went in.
	pcDir := t.TempDir()
	lp := LinkPath(dirs[1])
	os.WriteFile(filepath.Join(pcDir, "foo.pc"), []byte("prefix="+lp+"\nName: foo\nDescription: test\nVersion: 1\nLibs: -L${prefix} -lfoo\n"), 0o644)
	cmd := exec.Command("pkg-config", "--libs", "foo")
	cmd.Env = append(os.Environ(), "PKG_CONFIG_LIBDIR="+pcDir, "PKG_CONFIG_PATH=")
	if out, err := cmd.Output(); err != nil || !strings.Contains(string(out), "-L"+lp+" ") {
		t.Errorf("pkg-config --libs gave %q (%v), want -L%s", out, err, lp)
	}
	if py, err := exec.LookPath("/usr/bin/python3"); err == nil {
		out, err := exec.Command(py, "-c", "import pathlib, sys; print(pathlib.Path(sys.argv[1]))", lp).Output()
		if err != nil || strings.TrimSpace(string(out)) != lp {
			t.Errorf("pathlib turned %s into %q (%v)", lp, out, err)
		}
	}
	if got := LinkPath("/a/b"); got != "/../a/b" || LinkPath(got) != got || LinkPath(`C:\a`) != `C:\a` {
		t.Errorf("LinkPath: %q", got)
	}
}
