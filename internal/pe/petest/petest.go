// Package petest builds, for tests, a small real import graph of Windows
// binaries with the mingw cross compiler, from the C sources in
// testdata/bundle/mingw. It is used by the tests of internal/pe,
// internal/bundle and internal/smoke; nothing else imports it.
package petest

import (
	"qemupack/internal/host"

	"context"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// Fixture is the built graph.
type Fixture struct {
	Dir     string // where everything was built
	Main    string // main.exe
	LibA    string // liba.dll: imports libb.dll, libgcc_s_seh-1.dll
	LibB    string // libb.dll: imports libwinpthread-1.dll
	LibC3   string // libc3.dll: delay-loaded by main.exe
	LibD    string // libd.dll: exports d_func only as ordinal 7
	Cross   string // the cross prefix used
	Sources string // testdata/bundle/mingw
}

// Sources returns the absolute path of testdata/bundle/mingw.
func Sources() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "..", "testdata", "bundle", "mingw")
}

// Need fails the test with the Debian package to install when tool is missing.
func Need(t testing.TB, tool, pkg string) string {
	t.Helper()
	p, err := exec.LookPath(tool)
	if err != nil {
		t.Fatalf("%s is not on PATH: install the Debian package %s (`go run mage.go test` installs it as root)", tool, pkg)
	}
	return p
}

// Build compiles the graph into a fresh temporary folder.
func Build(t testing.TB) Fixture {
	t.Helper()
	cross := "x86_64-w64-mingw32-"
	Need(t, cross+"gcc", "gcc-mingw-w64-x86-64")
	Need(t, cross+"dlltool", "binutils-mingw-w64-x86-64")
	if _, err := os.Stat("/usr/x86_64-w64-mingw32/include/zlib.h"); err != nil && runtime.GOOS == "linux" {
		t.Fatalf("zlib for mingw is missing: install the Debian package libz-mingw-w64-dev")
	}
	src := Sources()
	dir := t.TempDir()
	for _, f := range []string{"a.c", "b.c", "c3.c", "d.c", "main.c", "c3.def", "d.def"} {
		b, err := os.ReadFile(filepath.Join(src, f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, f), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	gcc, dlltool := cross+"gcc", cross+"dlltool"
	steps := [][]string{
		{gcc, "-shared", "-o", "libb.dll", "b.c", "-Wl,--out-implib,libb.a", "-lpthread"},
		{gcc, "-shared", "-shared-libgcc", "-o", "liba.dll", "a.c", "libb.a", "-Wl,--out-implib,liba.a"},
		{gcc, "-shared", "-o", "libc3.dll", "c3.c"},
		{dlltool, "-d", "c3.def", "-y", "libc3_delay.a", "-D", "libc3.dll"},
		{gcc, "-shared", "-o", "libd.dll", "d.c", "d.def"},
		{dlltool, "-d", "d.def", "-l", "libd.a", "-D", "libd.dll"},
		{gcc, "-o", "main.exe", "main.c", "liba.a", "libc3_delay.a", "libd.a", "-lz"},
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	for _, s := range steps {
		cmd := exec.CommandContext(ctx, s[0], s[1:]...)
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%s: %v\n%s", strings.Join(s, " "), err, out)
		}
	}
	j := func(n string) string { return filepath.Join(dir, n) }
	return Fixture{Dir: dir, Main: j("main.exe"), LibA: j("liba.dll"), LibB: j("libb.dll"),
		LibC3: j("libc3.dll"), LibD: j("libd.dll"), Cross: cross, Sources: src}
}

// GCCRuntimeDir asks the cross compiler where its runtime DLLs live
// (Debian: /usr/lib/gcc/x86_64-w64-mingw32/12-win32).
func GCCRuntimeDir(t testing.TB, cross string) string {
	t.Helper()
	out, err := exec.Command(cross+"gcc", "-print-libgcc-file-name").Output()
	if err != nil {
		t.Fatalf("%sgcc -print-libgcc-file-name: %v", cross, err)
	}
	return filepath.Dir(strings.TrimSpace(string(out)))
}

// Search is the DLL search order of a Debian host (its mingw sysroot, the
// cross compiler's runtime folder) with the given prefixes of ours first.
func Search(t testing.TB, cross string, ours ...string) []host.DLLDir {
	t.Helper()
	r := host.Report{Family: host.Debian, Sysroots: []host.Sysroot{{Path: "/usr/x86_64-w64-mingw32", Exists: true}}, GCCRuntime: GCCRuntimeDir(t, cross)}
	return r.DLLSearch(ours)
}

// Sysroot is the host mingw sysroot's lib folder, where Debian puts
// zlib1.dll and libwinpthread-1.dll.
func Sysroot() string { return "/usr/x86_64-w64-mingw32/lib" }

// ObjdumpDLLs lists the DLLs `<cross>objdump -p` names for a file (the
// "DLL Name:" lines of its import and delay-import tables): the method
// QEMU's own nsis.py uses, kept as the baseline our reader is checked and
// timed against.
func ObjdumpDLLs(cross, path string) ([]string, error) {
	out, err := exec.Command(cross+"objdump", "-p", path).Output()
	if err != nil {
		return nil, err
	}
	var dlls []string
	for _, line := range strings.Split(string(out), "\n") {
		if _, name, ok := strings.Cut(line, "DLL Name:"); ok {
			dlls = append(dlls, strings.TrimSpace(name))
		}
	}
	return dlls, nil
}
