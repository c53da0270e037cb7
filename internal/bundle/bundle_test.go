package bundle

import (
	stdzip "archive/zip"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"qemupack/internal/atomicfile"
	"qemupack/internal/checksum"
	"qemupack/internal/pe/petest"
	"qemupack/internal/stepcache"
)

// world is a staged folder plus search folders built from the real
// mingw fixture: main.exe staged; liba/b/c3/d in a deps prefix (an
// override folder, with its licence); zlib1 and winpthread from the host
// sysroot; libgcc_s_seh-1 from the gcc runtime folder.
type world struct {
	fx     petest.Fixture
	stage  string
	deps   string
	search []SearchDir
}

func copyFile(t testing.TB, src, dst string) {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, b, 0o755); err != nil {
		t.Fatal(err)
	}
}

func newWorld(t testing.TB) world {
	fx := petest.Build(t)
	root := t.TempDir()
	w := world{fx: fx, stage: filepath.Join(root, "stage"), deps: filepath.Join(root, "deps")}
	copyFile(t, fx.Main, filepath.Join(w.stage, "main.exe"))
	for _, p := range []string{fx.LibA, fx.LibB, fx.LibC3, fx.LibD} {
		copyFile(t, p, filepath.Join(w.deps, "bin", filepath.Base(p)))
	}
	copyFile(t, filepath.Join(fx.Sources, "README"), filepath.Join(w.deps, "share", "licenses", "testlibs", "README"))
	w.search = petest.Search(t, fx.Cross, w.deps)
	return w
}

func TestClosureOfRealGraph(t *testing.T) {
	w := newWorld(t)
	cl, err := Resolve([]string{filepath.Join(w.stage, "main.exe")}, w.search)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"liba.dll", "libb.dll", "libc3.dll", "libd.dll", "libgcc_s_seh-1.dll", "libwinpthread-1.dll", "zlib1.dll"}
	if !slices.Equal(cl.Names(), want) {
		t.Errorf("closure %v, want %v", cl.Names(), want)
	}
	if !slices.Equal(cl.System, []string{"kernel32.dll", "msvcrt.dll"}) {
		t.Errorf("system DLLs %v", cl.System)
	}
	by := map[string][]string{}
	for _, d := range cl.DLLs {
		by[d.Name] = d.ImportedBy
		if len(d.SHA256) != 64 || d.Size == 0 {
			t.Errorf("%s: sum %q size %d", d.Name, d.SHA256, d.Size)
		}
	}
	if !slices.Equal(by["libb.dll"], []string{"liba.dll"}) || !slices.Equal(by["libgcc_s_seh-1.dll"], []string{"liba.dll"}) ||
		!slices.Equal(by["libc3.dll"], []string{"main.exe"}) || !slices.Equal(by["libwinpthread-1.dll"], []string{"libb.dll"}) {
		t.Errorf("importers: %v", by)
	}
	for _, d := range cl.DLLs {
		if d.Name == "zlib1.dll" && d.Path != "/usr/x86_64-w64-mingw32/lib/zlib1.dll" {
			t.Errorf("zlib1.dll from %s", d.Path)
		}
	}
}

func TestMissingDLLFailsNamingImporter(t *testing.T) {
	w := newWorld(t)
	os.Remove(filepath.Join(w.deps, "bin", "libb.dll"))
	os.Remove(filepath.Join(w.deps, "bin", "libc3.dll"))
	_, err := Resolve([]string{filepath.Join(w.stage, "main.exe")}, w.search)
	var me *MissingError
	if !errors.As(err, &me) {
		t.Fatalf("want a MissingError, got %v", err)
	}
	if !slices.Equal(me.Missing["libb.dll"], []string{"liba.dll"}) || !slices.Equal(me.Missing["libc3.dll"], []string{"main.exe"}) || len(me.Missing) != 2 {
		t.Errorf("missing %v", me.Missing)
	}
	for _, s := range []string{"libb.dll (imported by liba.dll)", "libc3.dll (imported by main.exe)", w.deps} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error lacks %q:\n%v", s, err)
		}
	}
}

func TestWindowsRule(t *testing.T) {
	for _, n := range []string{"KERNEL32.dll", "ws2_32.DLL", "winspool.drv", "api-ms-win-core-path-l1-1-0.dll", "API-MS-WIN-CRT-RUNTIME-L1-1-0.DLL", "ext-ms-win-ntuser-window-l1-1-0.dll"} {
		if !IsWindowsDLL(n) {
			t.Errorf("%s should be Windows' own", n)
		}
	}
	for _, n := range []string{"zlib1.dll", "libglib-2.0-0.dll", "libgcc_s_seh-1.dll", "msvcr120.dll", "d3dx9_43.dll", "api-ms.dll", "kernel32.dll.bak"} {
		if IsWindowsDLL(n) {
			t.Errorf("%s should not be Windows' own", n)
		}
	}
}

// Every listed name must be a DLL mingw-w64 ships an import library for.
func TestWindowsListBackedByMingwImportLibs(t *testing.T) {
	dlltool := petest.Need(t, "x86_64-w64-mingw32-dlltool", "binutils-mingw-w64-x86-64")
	lib := "/usr/x86_64-w64-mingw32/lib"
	for _, n := range WindowsDLLs() {
		base := strings.TrimSuffix(strings.TrimSuffix(n, ".dll"), ".drv")
		a := filepath.Join(lib, "lib"+base+".a")
		if _, err := os.Stat(a); err != nil {
			t.Errorf("%s: no import library %s (install mingw-w64-x86-64-dev)", n, a)
			continue
		}
		out, err := exec.Command(dlltool, "--identify", a).Output()
		if err != nil {
			t.Errorf("dlltool --identify %s: %v", a, err)
			continue
		}
		if got := strings.ToLower(strings.TrimSpace(string(out))); !slices.Contains(strings.Fields(got), n) {
			t.Errorf("%s names %q, not %s", a, got, n)
		}
	}
}

func TestConflicts(t *testing.T) {
	w := newWorld(t)
	main := []string{filepath.Join(w.stage, "main.exe")}
	other := t.TempDir()
	// A differing libwinpthread-1.dll ahead of the host's, in a folder that
	// is not an override: refuse.
	copyFile(t, w.fx.LibC3, filepath.Join(other, "LIBWINPTHREAD-1.DLL"))
	search := append([]SearchDir{{Path: other}}, w.search[1:]...)
	search = append([]SearchDir{w.search[0]}, search...)
	_, err := Resolve(main, search)
	var ce *ConflictError
	if !errors.As(err, &ce) || ce.Name != "libwinpthread-1.dll" || len(ce.Copies) != 2 ||
		!strings.Contains(err.Error(), other) || !strings.Contains(err.Error(), "/usr/x86_64-w64-mingw32/lib/libwinpthread-1.dll") {
		t.Fatalf("want a conflict naming both copies, got %v", err)
	}
	// The same bytes twice are one DLL, not a conflict.
	copyFile(t, "/usr/x86_64-w64-mingw32/lib/libwinpthread-1.dll", filepath.Join(other, "LIBWINPTHREAD-1.DLL"))
	if cl, err := Resolve(main, search); err != nil || len(cl.Conflicts) != 0 {
		t.Fatalf("identical copies: %v %v", err, cl)
	}
	// A differing copy in our deps prefix (an override) wins, and says so.
	copyFile(t, "/usr/x86_64-w64-mingw32/lib/zlib1.dll", filepath.Join(w.deps, "bin", "zlib1.dll"))
	f, _ := os.OpenFile(filepath.Join(w.deps, "bin", "zlib1.dll"), os.O_APPEND|os.O_WRONLY, 0)
	f.Write([]byte("different"))
	f.Close()
	cl, err := Resolve(main, w.search)
	if err != nil {
		t.Fatal(err)
	}
	if len(cl.Conflicts) != 1 || cl.Conflicts[0].Name != "zlib1.dll" || cl.Conflicts[0].Chosen != filepath.Join(w.deps, "bin", "zlib1.dll") ||
		!slices.Equal(cl.Conflicts[0].Others, []string{"/usr/x86_64-w64-mingw32/lib/zlib1.dll"}) {
		t.Errorf("conflicts %+v", cl.Conflicts)
	}
}

func TestMixedArchitecturesRefused(t *testing.T) {
	w := newWorld(t)
	// A real 32-bit DLL under the name main.exe imports.
	copyFile(t, "/usr/share/nsis/Plugins/x86-unicode/Dialer.dll", filepath.Join(w.deps, "bin", "libd.dll"))
	_, err := Resolve([]string{filepath.Join(w.stage, "main.exe")}, w.search)
	if err == nil || !strings.Contains(err.Error(), "libd.dll is x86 (32-bit)") {
		t.Fatalf("want a refusal naming libd.dll, got %v", err)
	}
}

// input is a bundle input over the world, with Debian's firmware.
func (w world) input(t testing.TB, dist string) Input {
	return Input{
		Stage: w.stage, Version: "0.1.0-test", Origin: "tiny test programs", Targets: []string{"x86_64-softmmu"},
		Search:       w.search,
		FirmwareDirs: []string{"/usr/share/seabios", "/usr/lib/ipxe/qemu", "/usr/share/qemu"},
		Licenses:     map[string][]string{"QEMU": {filepath.Join(w.fx.Sources, "README")}},
		Time:         EpochTime(-1), DistDir: dist,
		Features: []string{"VNC server (-vnc)"}, Lacks: []string{"GTK3 window (-display gtk)"},
	}
}

func TestArchiveLayout(t *testing.T) {
	for _, p := range []string{"/usr/share/seabios/bios-256k.bin", "/usr/lib/ipxe/qemu/efi-e1000.rom", "/usr/share/qemu/keymaps/en-us"} {
		if _, err := os.Stat(p); err != nil {
			t.Fatalf("%s missing: install the Debian packages seabios ipxe-qemu qemu-system-data", p)
		}
	}
	w := newWorld(t)
	// The stage's own share/ holds a keymap (as QEMU's install makes): it is
	// taken from there, the rest from Debian's packages.
	copyFile(t, "/usr/share/qemu/keymaps/de", filepath.Join(w.stage, "share", "keymaps", "de"))
	// A link in the stage ends up as a real file.
	if err := os.Symlink("/usr/share/qemu/qboot.rom", filepath.Join(w.stage, "share", "linked.rom")); err != nil {
		t.Fatal(err)
	}
	dist := t.TempDir()
	res, err := Bundle(context.Background(), w.input(t, dist))
	if err != nil {
		t.Fatal(err)
	}
	if filepath.Base(res.Archive.Path) != "qemu-0.1.0-test-win64.zip" {
		t.Errorf("archive %s", res.Archive.Path)
	}
	zr, err := stdzip.OpenReader(res.Archive.Path)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	names := map[string]*stdzip.File{}
	var order []string
	for _, f := range zr.File {
		names[f.Name] = f
		order = append(order, f.Name)
		if !strings.HasPrefix(f.Name, "qemu-0.1.0-test-win64/") {
			t.Errorf("entry %s outside the top folder", f.Name)
		}
		if f.Mode()&os.ModeSymlink != 0 {
			t.Errorf("%s is a link", f.Name)
		}
		if !f.FileInfo().IsDir() && f.Method != stdzip.Deflate {
			t.Errorf("%s stored with method %d", f.Name, f.Method)
		}
		if !f.Modified.Equal(DefaultEpoch) {
			t.Errorf("%s time %v", f.Name, f.Modified)
		}
	}
	if !slices.IsSorted(order) {
		t.Error("entries not sorted")
	}
	top := "qemu-0.1.0-test-win64/"
	for _, n := range []string{"main.exe", "liba.dll", "libb.dll", "libc3.dll", "libd.dll", "zlib1.dll", "libwinpthread-1.dll", "libgcc_s_seh-1.dll",
		"share/bios-256k.bin", "share/bios-microvm.bin", "share/efi-e1000.rom", "share/vgabios-stdvga.bin", "share/kvmvapic.bin",
		"share/keymaps/de", "share/keymaps/en-us", "README.txt", "LICENSES/QEMU/README", "LICENSES/testlibs/README",
		"LICENSES/libz-mingw-w64/copyright", "LICENSES/seabios/copyright", "LICENSES/ipxe-qemu/copyright", "LICENSES/qemu-system-data/copyright",
		"LICENSES/mingw-w64-x86-64-dev/copyright", "LICENSES/gcc-mingw-w64-x86-64-win32-runtime/copyright"} {
		if names[top+n] == nil {
			t.Errorf("archive lacks %s", n)
		}
	}
	for _, n := range []string{"kernel32.dll", "KERNEL32.dll", "msvcrt.dll"} {
		if names[top+n] != nil {
			t.Errorf("archive carries Windows' own %s", n)
		}
	}
	qboot, _ := os.Stat("/usr/share/qemu/qboot.rom")
	if f := names[top+"share/linked.rom"]; f == nil || qboot == nil || int64(f.UncompressedSize64) != qboot.Size() || f.Mode()&os.ModeSymlink != 0 {
		t.Errorf("share/linked.rom is not the content of qboot.rom")
	}
	rc, _ := names[top+"README.txt"].Open()
	readmeText, _ := io.ReadAll(rc)
	rc.Close()
	for _, s := range []string{"QEMU 0.1.0-test for Windows", "tiny test programs", "zlib1.dll", "LICENSES\\testlibs\\ covers liba.dll, libb.dll, libc3.dll, libd.dll", "\r\n",
		"This build has:\r\n  - VNC server (-vnc)\r\n", "Not in this build:\r\n  - GTK3 window (-display gtk)\r\n"} {
		if !bytes.Contains(readmeText, []byte(s)) {
			t.Errorf("README.txt lacks %q:\n%s", s, readmeText)
		}
	}
	sums, err := os.ReadFile(filepath.Join(dist, "SHA256SUMS"))
	if err != nil || string(sums) != res.Archive.SHA256+"  qemu-0.1.0-test-win64.zip\n" {
		t.Errorf("SHA256SUMS = %q (%v)", sums, err)
	}
}

func TestMissingLicenceFails(t *testing.T) {
	w := newWorld(t)
	os.RemoveAll(filepath.Join(w.deps, "share"))
	_, err := Bundle(context.Background(), w.input(t, t.TempDir()))
	if err == nil || !strings.Contains(err.Error(), "no licence found") || !strings.Contains(err.Error(), "liba.dll") {
		t.Fatalf("want a licence error naming liba.dll, got %v", err)
	}
}

func TestDeterministicAndSkipsWhenUnchanged(t *testing.T) {
	w := newWorld(t)
	a, b := t.TempDir(), t.TempDir()
	ra, err := Bundle(context.Background(), w.input(t, a))
	if err != nil {
		t.Fatal(err)
	}
	// What lands in dist/ is readable by all (a temp file alone is 0600).
	for _, p := range []string{ra.Archive.Path, filepath.Join(filepath.Dir(ra.Archive.Path), "SHA256SUMS")} {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o644 {
			t.Errorf("%s: mode %v, want 0644", p, fi.Mode().Perm())
		}
	}
	// Different file times on the sources must not matter.
	later := time.Now().Add(time.Hour)
	os.Chtimes(filepath.Join(w.stage, "main.exe"), later, later)
	os.Chtimes(filepath.Join(w.deps, "bin", "liba.dll"), later, later)
	rb, err := Bundle(context.Background(), w.input(t, b))
	if err != nil {
		t.Fatal(err)
	}
	ba, _ := os.ReadFile(ra.Archive.Path)
	bb, _ := os.ReadFile(rb.Archive.Path)
	if !bytes.Equal(ba, bb) || len(ba) == 0 {
		t.Fatalf("two runs differ: %d vs %d bytes", len(ba), len(bb))
	}
	// SOURCE_DATE_EPOCH is honoured (so the bytes really carry the time).
	in := w.input(t, t.TempDir())
	in.Time = EpochTime(1700000000)
	rc, err := Bundle(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	if rc.Archive.SHA256 == ra.Archive.SHA256 {
		t.Error("another SOURCE_DATE_EPOCH gave the same archive")
	}

	// With a cache, the archive is made once per content, and a rerun on
	// unchanged inputs leaves dist/ alone.
	cached := t.TempDir()
	in = w.input(t, cached)
	in.Cache = &stepcache.Cache{Root: t.TempDir()}
	r1, err := Bundle(context.Background(), in)
	if err != nil || r1.Skipped || r1.Archive.SHA256 != ra.Archive.SHA256 {
		t.Fatalf("first cached run: skipped=%v err=%v (the cache must not change the bytes)", r1 != nil && r1.Skipped, err)
	}
	st1, _ := os.Stat(r1.Archive.Path)
	r, err := Bundle(context.Background(), in)
	if err != nil || !r.Skipped || r.Archive.SHA256 != ra.Archive.SHA256 {
		t.Fatalf("unchanged rerun: skipped=%v err=%v", r != nil && r.Skipped, err)
	}
	ra = r1
	st2, _ := os.Stat(ra.Archive.Path)
	if !st1.ModTime().Equal(st2.ModTime()) {
		t.Error("the skipped run rewrote the archive")
	}
	// A changed input is noticed.
	f, _ := os.OpenFile(filepath.Join(w.stage, "share", "note.txt"), os.O_CREATE|os.O_WRONLY, 0o644)
	if f == nil {
		os.MkdirAll(filepath.Join(w.stage, "share"), 0o755)
		f, _ = os.Create(filepath.Join(w.stage, "share", "note.txt"))
	}
	f.WriteString("new")
	f.Close()
	if r, err := Bundle(context.Background(), in); err != nil || r.Skipped {
		t.Fatalf("changed input: skipped=%v err=%v", r != nil && r.Skipped, err)
	}
	// An archive damaged after the fact is rewritten, not trusted.
	os.WriteFile(ra.Archive.Path, []byte("damaged"), 0o644)
	if r, err := Bundle(context.Background(), in); err != nil || r.Skipped {
		t.Fatalf("damaged archive: skipped=%v err=%v", r != nil && r.Skipped, err)
	}
}

// failingWriter fails (or cancels) once n bytes went through.
type failingWriter struct {
	w      io.Writer
	n      int
	err    error
	cancel context.CancelFunc
}

func (f *failingWriter) Write(p []byte) (int, error) {
	if f.n -= len(p); f.n < 0 {
		if f.cancel != nil {
			f.cancel()
			return f.w.Write(p)
		}
		return 0, f.err
	}
	return f.w.Write(p)
}

// distFiles lists dir but for the writers' lock files (temp files count).
func distFiles(t *testing.T, dir string) []string {
	ents, _ := os.ReadDir(dir)
	var out []string
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), ".") && strings.HasSuffix(e.Name(), ".lock") {
			continue
		}
		out = append(out, e.Name())
	}
	return out
}

func TestInterruptedWriteLeavesNoPartialFile(t *testing.T) {
	w := newWorld(t)
	spec, _, err := Layout(w.input(t, ""))
	if err != nil {
		t.Fatal(err)
	}
	dist := t.TempDir()
	dest := filepath.Join(dist, "q.zip")

	// Disk full half-way: error, nothing in dist.
	_, err = writeZip(context.Background(), spec, dest, writeOptions{wrap: func(w io.Writer) io.Writer {
		return &failingWriter{w: w, n: 100000, err: syscall.ENOSPC}
	}})
	if err == nil || !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("want ENOSPC, got %v", err)
	}
	if got := distFiles(t, dist); len(got) != 0 {
		t.Fatalf("dist holds %v after a failed write", got)
	}

	// Cancelled (Ctrl-C, mage -t) half-way, over an existing archive: the
	// old one stays as it was.
	os.WriteFile(dest, []byte("previous archive"), 0o644)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	_, err = writeZip(ctx, spec, dest, writeOptions{wrap: func(w io.Writer) io.Writer {
		return &failingWriter{w: w, n: 100000, cancel: cancel}
	}})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("want a cancel error, got %v", err)
	}
	if got := distFiles(t, dist); !slices.Equal(got, []string{"q.zip"}) {
		t.Fatalf("dist holds %v after a cancelled write", got)
	}
	if b, _ := os.ReadFile(dest); string(b) != "previous archive" {
		t.Fatal("the previous archive was touched")
	}

	// A kill -9 leaves a temp file; the next run removes it and completes.
	stale := filepath.Join(dist, atomicfile.TempPrefix(dest)+"12345")
	os.WriteFile(stale, []byte("half an archive"), 0o644)
	if _, err := WriteZip(context.Background(), spec, dest); err != nil {
		t.Fatal(err)
	}
	if got := distFiles(t, dist); !slices.Equal(got, []string{"q.zip"}) {
		t.Fatalf("dist holds %v after a rerun", got)
	}
}

func TestEscapingNamesRejected(t *testing.T) {
	for _, n := range []string{"../evil.dll", "share/../../evil", "/etc/passwd", "C:/Windows/x.dll", "share\\..\\x", "a//b", "./a", ""} {
		if CheckName(n) == nil {
			t.Errorf("%q accepted", n)
		}
		_, err := WriteZip(context.Background(), Spec{Top: "q", Entries: []Entry{{Name: n, Data: []byte("x")}}}, filepath.Join(t.TempDir(), "q.zip"))
		if err == nil {
			t.Errorf("archive with %q written", n)
		}
	}
	for _, top := range []string{"..", "a/b", "/abs"} {
		if _, err := WriteZip(context.Background(), Spec{Top: top, Entries: []Entry{{Name: "x", Data: []byte("x")}}}, filepath.Join(t.TempDir(), "q.zip")); err == nil {
			t.Errorf("top %q accepted", top)
		}
	}
	// Names that collide on Windows.
	_, err := WriteZip(context.Background(), Spec{Top: "q", Entries: []Entry{{Name: "A.dll", Data: []byte("1")}, {Name: "a.DLL", Data: []byte("2")}}}, filepath.Join(t.TempDir(), "q.zip"))
	if err == nil || !strings.Contains(err.Error(), "same file on Windows") {
		t.Errorf("case collision: %v", err)
	}
}

func TestReadBackCatchesDifferences(t *testing.T) {
	dir := t.TempDir()
	spec := Spec{Top: "q", Time: DefaultEpoch, Entries: []Entry{{Name: "a.txt", Data: []byte("hello")}, {Name: "d/b.txt", Data: []byte("world")}}}
	w, err := WriteZip(context.Background(), spec, filepath.Join(dir, "q.zip"))
	if err != nil {
		t.Fatal(err)
	}
	items, _ := plan(spec)
	if err := verify(w.Path, items); err != nil {
		t.Fatalf("a good archive fails: %v", err)
	}
	// The check compares against the sources: other content is caught.
	bad, _ := plan(Spec{Top: "q", Entries: []Entry{{Name: "a.txt", Data: []byte("HELLO")}, {Name: "d/b.txt", Data: []byte("world")}}})
	if err := verify(w.Path, bad); err == nil || !strings.Contains(err.Error(), "q/a.txt: sha256") {
		t.Errorf("changed content: %v", err)
	}
	// An archive with an entry escaping its folder is refused.
	evil := filepath.Join(dir, "evil.zip")
	f, _ := os.Create(evil)
	zw := stdzip.NewWriter(f)
	e, _ := zw.CreateHeader(&stdzip.FileHeader{Name: "q/../../evil.txt", Method: stdzip.Deflate})
	e.Write([]byte("hello"))
	zw.Close()
	f.Close()
	one, _ := plan(Spec{Top: "q", Entries: []Entry{{Name: "a.txt", Data: []byte("hello")}}})
	one = one[1:] // only the file
	one[0].name = "q/../../evil.txt"
	if err := verify(evil, one); err == nil || !strings.Contains(err.Error(), "escapes") {
		t.Errorf("escaping entry: %v", err)
	}
}

// A real kill -9 in the middle of writing: a child process (this test
// binary again) writes an archive slowly and is killed; dist then holds no
// zip, only the temp file, and the next run removes that and completes.
func TestKilledMidArchive(t *testing.T) {
	if dest := os.Getenv("QEMUPACK_TEST_SLOW_ARCHIVE"); dest != "" {
		spec := Spec{Top: "q", Time: DefaultEpoch}
		for i := 0; i < 200; i++ {
			spec.Entries = append(spec.Entries, Entry{Name: fmt.Sprintf("f%03d.bin", i), Data: bytes.Repeat([]byte{byte(i)}, 64<<10)})
		}
		_, err := writeZip(context.Background(), spec, dest, writeOptions{wrap: func(w io.Writer) io.Writer { return &slowWriter{w: w, marker: dest + ".started"} }})
		t.Fatalf("the slow archive was not killed: %v", err)
	}
	dist := t.TempDir()
	dest := filepath.Join(dist, "q.zip")
	cmd := exec.Command(os.Args[0], "-test.run=^TestKilledMidArchive$")
	cmd.Env = append(os.Environ(), "QEMUPACK_TEST_SLOW_ARCHIVE="+dest)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(time.Minute)
	for {
		if _, err := os.Stat(dest + ".started"); err == nil {
			break
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatal("the child never started writing")
		}
		time.Sleep(20 * time.Millisecond)
	}
	cmd.Process.Kill() // SIGKILL: no deferred clean-up runs
	cmd.Wait()
	os.Remove(dest + ".started")
	got := distFiles(t, dist)
	if len(got) != 1 || !strings.HasPrefix(got[0], atomicfile.TempPrefix(dest)) {
		t.Fatalf("after kill -9 dist holds %v, want only the temp file", got)
	}
	if _, err := WriteZip(context.Background(), Spec{Top: "q", Entries: []Entry{{Name: "a", Data: []byte("a")}}}, dest); err != nil {
		t.Fatal(err)
	}
	if got := distFiles(t, dist); !slices.Equal(got, []string{"q.zip"}) {
		t.Fatalf("after the rerun dist holds %v", got)
	}
}

type slowWriter struct {
	w      io.Writer
	marker string
	once   bool
}

func (s *slowWriter) Write(p []byte) (int, error) {
	if !s.once {
		s.once = true
		os.WriteFile(s.marker, nil, 0o644)
	}
	time.Sleep(50 * time.Millisecond)
	return s.w.Write(p)
}

// Names Windows cannot hold, or would treat as another file, are refused
// before anything is written; ordinary names with dots and plus signs pass.
func TestWindowsInvalidNamesRejected(t *testing.T) {
	for _, n := range []string{"x:stream", "share/CON", "nul.txt", "share/Com1.bin", "lpt9", "aux.dll", "CONOUT$",
		"trailing.", "share/trailing ", "a<b", "a>b", "a|b", "what?", "star*", `quote"`, "tab\there", "bad\xffutf8", "com²"} {
		if err := CheckName(n); err == nil {
			t.Errorf("%q accepted", n)
		}
		if _, err := WriteZip(context.Background(), Spec{Top: "q", Entries: []Entry{{Name: n, Data: []byte("x")}}}, filepath.Join(t.TempDir(), "q.zip")); err == nil {
			t.Errorf("archive with %q written", n)
		}
	}
	for _, n := range []string{"share/keymaps/en-us", "libstdc++-6.dll", "qemu-system-x86_64.exe", "share/vgabios-qxl.bin", "console.dll", "com10.txt", "nullify.txt", "LICENSES/glib/COPYING"} {
		if err := CheckName(n); err != nil {
			t.Errorf("%q refused: %v", n, err)
		}
	}
}

// Two runs writing the same archive into one dist/ at once both succeed,
// and the result is the archive both would write (the writers take turns).
func TestConcurrentWritesOfOneArchive(t *testing.T) {
	dist := t.TempDir()
	dest := filepath.Join(dist, "q.zip")
	spec := Spec{Top: "q", Time: time.Unix(1700000000, 0), Entries: []Entry{{Name: "a.txt", Data: bytes.Repeat([]byte("qemu "), 1<<16)}, {Name: "b/c.txt", Data: []byte("c")}}}
	var wg sync.WaitGroup
	sums := make([]string, 6)
	errs := make([]error, 6)
	for i := range sums {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w, err := WriteZip(context.Background(), spec, dest)
			sums[i], errs[i] = w.SHA256, err
			if err == nil {
				errs[i] = checksum.Record(dist, "q.zip", w.SHA256)
			}
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("writer %d: %v", i, err)
		}
		if sums[i] != sums[0] {
			t.Fatalf("writers made different archives")
		}
	}
	if got, _ := checksum.File(dest); got != sums[0] {
		t.Fatalf("dist's archive is not the one written")
	}
	if got := distFiles(t, dist); !slices.Equal(got, []string{"SHA256SUMS", "q.zip"}) {
		t.Fatalf("dist holds %v", got)
	}
}

// A link in the stage's share/ is followed only to a file inside the stage
// or the firmware folders, never to whatever the build machine can read.
func TestStageLinksStayInside(t *testing.T) {
	w := newWorld(t)
	share := filepath.Join(w.stage, "share")
	os.MkdirAll(filepath.Join(share, "keymaps"), 0o755)
	os.WriteFile(filepath.Join(share, "keymaps", "en-us"), []byte("include common\n"), 0o644)
	// Inside the stage: fine.
	if err := os.Symlink("keymaps/en-us", filepath.Join(share, "default-keymap")); err != nil {
		t.Fatal(err)
	}
	if _, _, err := Layout(w.input(t, "")); err != nil {
		t.Fatalf("a link to another staged file was refused: %v", err)
	}
	// A chain that ends outside: refused, naming the link.
	outside := filepath.Join(t.TempDir(), "secret")
	os.WriteFile(outside, []byte("not QEMU's"), 0o644)
	os.Symlink(outside, filepath.Join(share, "hop"))
	os.Symlink("hop", filepath.Join(share, "evil.rom"))
	_, _, err := Layout(w.input(t, ""))
	if err == nil || !strings.Contains(err.Error(), "outside the stage") {
		t.Fatalf("a link chain out of the stage: %v", err)
	}
}
