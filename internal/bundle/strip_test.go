package bundle

import (
	stdzip "archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"qemupack/internal/pe"
	"qemupack/internal/pe/petest"
	"qemupack/internal/stepcache"
	"qemupack/internal/testbin"
)

// readZip returns every file of a zip by its name below the top folder.
func readZip(t *testing.T, path string) map[string][]byte {
	t.Helper()
	zr, err := stdzip.OpenReader(path)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	out := map[string][]byte{}
	for _, f := range zr.File {
		if f.FileInfo().IsDir() {
			continue
		}
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		_, rel, _ := strings.Cut(f.Name, "/")
		out[rel] = b
	}
	return out
}

func stripInput(w world, dist, cache string) Input {
	in := w.input(nil, dist)
	in.Cache = &stepcache.Cache{Root: cache}
	in.Strip = &Stripper{Objcopy: w.fx.Cross + "objcopy"}
	return in
}

// The archive ships stripped programs and DLLs, the debug archive holds
// one .debug per stripped file, the closure still finds the delay-loaded
// DLL only the unstripped program's symbols name, both archives are the
// same bytes on a second cache, and a rerun strips nothing again.
func TestStrippedArchiveWithDebugArchive(t *testing.T) {
	petest.Need(t, "x86_64-w64-mingw32-objcopy", "binutils-mingw-w64-x86-64")
	w := newWorld(t)
	plain, err := Bundle(context.Background(), w.input(t, t.TempDir()))
	if err != nil {
		t.Fatal(err)
	}
	dist, cache := t.TempDir(), t.TempDir()
	res, err := Bundle(context.Background(), stripInput(w, dist, cache))
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		for _, e := range res.Entries {
			e.Release()
		}
	}()
	if res.Archive.Size >= plain.Archive.Size {
		t.Errorf("stripped archive %d bytes, unstripped %d", res.Archive.Size, plain.Archive.Size)
	}
	files := readZip(t, res.Archive.Path)
	for _, n := range []string{"main.exe", "liba.dll", "libb.dll", "libc3.dll", "libd.dll"} {
		f, err := pe.Parse(files[n], n)
		if err != nil {
			t.Fatalf("%s: %v", n, err)
		}
		if f.HasDebug() {
			t.Errorf("%s still has symbols (%d) or DWARF: %v", n, f.Symbols, f.Sections)
		}
		if !slices.Contains(f.Sections, ".gnu_debuglink") {
			t.Errorf("%s has no .gnu_debuglink: %v", n, f.Sections)
		}
	}
	// Why the closure reads the unstripped files: in the stripped main.exe
	// nothing names libc3.dll any more, yet it is bundled.
	stripped, _ := pe.Parse(files["main.exe"], "main.exe")
	if slices.Contains(pe.SortedLower(stripped.DLLs()), "libc3.dll") {
		t.Error("the stripped main.exe still shows its delay import: the test no longer shows why the closure reads unstripped files")
	}
	if files["libc3.dll"] == nil {
		t.Error("libc3.dll (delay-loaded, named only by main.exe's symbols) is missing from the stripped archive")
	}
	// README.txt lists each DLL with the sum of the file shipped.
	readme := string(files["README.txt"])
	sum := sha256.Sum256(files["liba.dll"])
	if !strings.Contains(readme, hex.EncodeToString(sum[:])) || !strings.Contains(readme, "qemu-0.1.0-test-win64-debug.zip") {
		t.Errorf("README.txt lacks the shipped liba.dll's sum or the debug archive:\n%s", readme)
	}

	if filepath.Base(res.Debug.Path) != "qemu-0.1.0-test-win64-debug.zip" {
		t.Fatalf("debug archive %q", res.Debug.Path)
	}
	dbg := readZip(t, res.Debug.Path)
	var names []string
	for n := range dbg {
		names = append(names, n)
	}
	slices.Sort(names)
	// A host DLL that comes stripped from its package (zlib1 on Debian)
	// ships as it is, with no .debug.
	want := []string{"liba.dll.debug", "libb.dll.debug", "libc3.dll.debug", "libd.dll.debug", "main.exe.debug"}
	for _, d := range res.Closure.DLLs {
		if !strings.HasPrefix(d.Path, w.deps) {
			f, err := pe.Open(d.Path)
			if err != nil {
				t.Fatal(err)
			}
			if f.HasDebug() {
				want = append(want, d.Name+".debug")
			}
		}
	}
	slices.Sort(want)
	if !slices.Equal(names, want) {
		t.Errorf("debug archive holds %v, want %v", names, want)
	}
	sums, _ := os.ReadFile(filepath.Join(dist, "SHA256SUMS"))
	for _, wr := range []Written{res.Archive, res.Debug} {
		if !strings.Contains(string(sums), wr.SHA256+"  "+filepath.Base(wr.Path)+"\n") {
			t.Errorf("SHA256SUMS lacks %s:\n%s", filepath.Base(wr.Path), sums)
		}
	}

	// Another cache and dist: byte-identical archives (objcopy stamps no time).
	dist2 := t.TempDir()
	again, err := Bundle(context.Background(), stripInput(w, dist2, t.TempDir()))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range again.Entries {
		e.Release()
	}
	if again.Archive.SHA256 != res.Archive.SHA256 || again.Debug.SHA256 != res.Debug.SHA256 {
		t.Errorf("a second cache gave other bytes: archive %v, debug archive %v",
			again.Archive.SHA256 == res.Archive.SHA256, again.Debug.SHA256 == res.Debug.SHA256)
	}

	// A rerun on the first cache: every stripped file is a cache hit.
	var logs []string
	in := stripInput(w, dist, cache)
	in.Log = func(s string) { logs = append(logs, s) }
	rerun, err := Bundle(context.Background(), in)
	if err != nil {
		t.Fatalf("rerun: %v\n%s", err, strings.Join(logs, "\n"))
	}
	strips := 0
	for _, e := range rerun.Entries {
		if e.Kind == StripKind {
			strips++
			if !e.Hit {
				t.Errorf("rerun stripped %s again", e.Name)
			}
		}
		e.Release()
	}
	if strips != len(want) {
		t.Errorf("rerun held %d strip entries, want %d", strips, len(want))
	}
	if !rerun.Skipped || rerun.Debug.SHA256 != res.Debug.SHA256 {
		t.Errorf("rerun: skipped=%v\n%s", rerun.Skipped, strings.Join(logs, "\n"))
	}
}

// The debug archive does what it is for: gdb, given the stripped program
// and the .debug beside it, names functions and their source lines; the
// stripped program alone cannot; the stripped program still runs.
func TestDebugArchiveGivesGDBFunctionNames(t *testing.T) {
	gdb := petest.Need(t, "x86_64-w64-mingw32-gdb", "gdb-mingw-w64")
	objdump := petest.Need(t, "x86_64-w64-mingw32-objdump", "binutils-mingw-w64-x86-64")
	root := t.TempDir()
	stage := filepath.Join(root, "stage")
	testbin.Build(t, stage, "-g", "-Wl,--no-insert-timestamp")
	in := Input{Stage: stage, Version: "0.1.0-gdb", Time: EpochTime(-1), DistDir: filepath.Join(root, "dist"),
		Cache: &stepcache.Cache{Root: filepath.Join(root, "cache")}, Strip: &Stripper{Objcopy: "x86_64-w64-mingw32-objcopy"},
		Search:   petest.Search(t, "x86_64-w64-mingw32-"),
		Licenses: map[string][]string{"QEMU": {filepath.Join(petest.Sources(), "README")}}}
	res, err := Bundle(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range res.Entries {
		e.Release()
	}
	// Unpack both archives into one folder, as the README says.
	dir := filepath.Join(root, "unpacked")
	for _, z := range []string{res.Archive.Path, res.Debug.Path} {
		for n, b := range readZip(t, z) {
			p := filepath.Join(dir, filepath.FromSlash(n))
			os.MkdirAll(filepath.Dir(p), 0o755)
			if err := os.WriteFile(p, b, 0o755); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, n := range []string{"hello.exe", "greet.dll"} {
		f, err := pe.Open(filepath.Join(dir, n))
		if err != nil {
			t.Fatal(err)
		}
		if f.HasDebug() || f.TimeDateStamp != 0 {
			t.Errorf("%s as shipped: symbols or DWARF %v, link time %d", n, f.HasDebug(), f.TimeDateStamp)
		}
	}
	gdbRun := func(file string, cmds ...string) string {
		args := []string{"-batch", "-nx"}
		for _, c := range cmds {
			args = append(args, "-ex", c)
		}
		out, err := exec.Command(gdb, append(args, file)...).CombinedOutput()
		if err != nil {
			t.Fatalf("gdb %s: %v\n%s", file, err, out)
		}
		return string(out)
	}
	out := gdbRun(filepath.Join(dir, "greet.dll"), "info line greet", "info symbol greet")
	if !strings.Contains(out, `greet.c" starts at address`) || !strings.Contains(out, "<greet>") || !strings.Contains(out, "greet in section .text") {
		t.Errorf("gdb with greet.dll.debug beside it does not resolve greet:\n%s", out)
	}
	out = gdbRun(filepath.Join(dir, "hello.exe"), "info line main")
	if !strings.Contains(out, `hello.c" starts at address`) || !strings.Contains(out, "<main>") {
		t.Errorf("gdb with hello.exe.debug beside it does not resolve main:\n%s", out)
	}
	dw, err := exec.Command(objdump, "--dwarf=info", filepath.Join(dir, "greet.dll.debug")).Output()
	if err != nil || !namesGreet(dw) {
		t.Errorf("objdump --dwarf=info on greet.dll.debug does not name greet (%v)", err)
	}
	// Without the debug files the names are gone: the test can fail.
	os.Remove(filepath.Join(dir, "greet.dll.debug"))
	out = gdbRun(filepath.Join(dir, "greet.dll"), "info line greet")
	if strings.Contains(out, `greet.c"`) {
		t.Errorf("gdb resolves greet without the .debug file: is greet.dll stripped?\n%s", out)
	}

	// The stripped program still runs.
	env, _ := testbin.Wine(t, root)
	cmd := exec.Command("wine", filepath.Join(dir, "hello.exe"))
	cmd.Env = env
	run, err := cmd.Output()
	if err != nil || !strings.Contains(string(run), testbin.Greeting) {
		t.Errorf("stripped hello.exe under wine: %v: %q", err, run)
	}
}

// namesGreet says whether objdump --dwarf=info output has a DW_AT_name
// greet (the function).
func namesGreet(b []byte) bool {
	for _, l := range bytes.Split(b, []byte("\n")) {
		l := string(l)
		if strings.Contains(l, "DW_AT_name") && strings.HasSuffix(strings.TrimSpace(l), ": greet") {
			return true
		}
	}
	return false
}

// A known sum an entry carries stands in for reading the file in the
// fingerprint, but the written archive is still checked against the
// file's content: a wrong sum fails the write.
func TestKnownSumIsCheckedOnWrite(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "a.txt")
	os.WriteFile(src, []byte("content"), 0o644)
	sum := sha256.Sum256([]byte("content"))
	good := Spec{Top: "top", Time: DefaultEpoch, Entries: []Entry{{Name: "a.txt", Source: src, SHA256: hex.EncodeToString(sum[:])}}}
	if _, err := WriteZip(context.Background(), good, filepath.Join(dir, "good.zip")); err != nil {
		t.Fatal(err)
	}
	bad := good
	bad.Entries = []Entry{{Name: "a.txt", Source: src, SHA256: strings.Repeat("0", 64)}}
	if _, err := WriteZip(context.Background(), bad, filepath.Join(dir, "bad.zip")); err == nil || !strings.Contains(err.Error(), "read-back check failed") {
		t.Errorf("a wrong known sum: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "bad.zip")); err == nil {
		t.Error("the archive with a wrong sum was written")
	}
}
