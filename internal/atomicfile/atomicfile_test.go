package atomicfile

import (
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// names lists the folder, dot-files included.
func names(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range ents {
		out = append(out, e.Name())
	}
	return out
}

func TestWriteFileContentAndMode(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "SHA256SUMS")
	for _, mode := range []os.FileMode{0o644, 0o600, 0o755} {
		data := []byte("content " + mode.String())
		if err := WriteFile(p, data, mode); err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(p)
		if err != nil || string(b) != string(data) {
			t.Fatalf("read back %q, %v; want %q", b, err, data)
		}
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if runtime.GOOS != "windows" && fi.Mode().Perm() != mode {
			t.Errorf("mode %v, want %v", fi.Mode().Perm(), mode)
		}
	}
	if got := names(t, dir); len(got) != 1 || got[0] != "SHA256SUMS" {
		t.Errorf("folder holds %v, want only SHA256SUMS", got)
	}
}

func TestFailingFillLeavesNothing(t *testing.T) {
	dir := t.TempDir()
	boom := errors.New("disk on fire")
	err := Write(filepath.Join(dir, "new.zip"), 0o644, func(f *os.File) error {
		f.WriteString("half")
		return boom
	})
	if err != boom {
		t.Fatalf("want fill's own error back unchanged, got %v", err)
	}
	if got := names(t, dir); len(got) != 0 {
		t.Errorf("a failed first write left %v", got)
	}

	// Over an existing file: the old content stays.
	old := filepath.Join(dir, "old.zip")
	os.WriteFile(old, []byte("previous"), 0o644)
	if err := Write(old, 0o644, func(f *os.File) error { f.WriteString("new"); return boom }); err != boom {
		t.Fatalf("got %v", err)
	}
	if b, _ := os.ReadFile(old); string(b) != "previous" {
		t.Errorf("the old file now holds %q", b)
	}
	if got := names(t, dir); len(got) != 1 {
		t.Errorf("folder holds %v, want only old.zip", got)
	}
}

func TestPanicInFillLeavesNoTemp(t *testing.T) {
	dir := t.TempDir()
	func() {
		defer func() {
			if recover() == nil {
				t.Fatal("the panic did not come through")
			}
		}()
		Write(filepath.Join(dir, "x"), 0o644, func(f *os.File) error {
			f.WriteString("part")
			panic("fill broke")
		})
	}()
	if got := names(t, dir); len(got) != 0 {
		t.Errorf("a panic left %v", got)
	}
}

func TestFailingCheckKeepsOldFile(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "a.zip")
	os.WriteFile(p, []byte("previous"), 0o644)
	var seen string
	bad := errors.New("read-back differs")
	err := WriteChecked(p, 0o644, func(f *os.File) error {
		_, err := f.WriteString("fresh")
		return err
	}, func(tmp string) error {
		b, err := os.ReadFile(tmp)
		if err != nil {
			return err
		}
		seen = string(b)
		return bad
	})
	if err != bad {
		t.Fatalf("want check's error, got %v", err)
	}
	if seen != "fresh" {
		t.Errorf("check saw %q, want the whole new content", seen)
	}
	if b, _ := os.ReadFile(p); string(b) != "previous" {
		t.Errorf("a failed check replaced the file: %q", b)
	}
	if got := names(t, dir); len(got) != 1 {
		t.Errorf("folder holds %v", got)
	}
}

func TestWriteNamed(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "setup.exe")
	// A program that replaces the file rather than writing into it.
	err := WriteNamed(p, 0o755, func(tmp string) error {
		if !strings.HasPrefix(filepath.Base(tmp), TempPrefix(p)) || filepath.Dir(tmp) != dir {
			t.Errorf("temp %s is not beside %s", tmp, p)
		}
		other := tmp + ".out"
		if err := os.WriteFile(other, []byte("MZ"), 0o600); err != nil {
			return err
		}
		return os.Rename(other, tmp)
	})
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	if runtime.GOOS != "windows" && fi.Mode().Perm() != 0o755 {
		t.Errorf("mode %v, want 0755", fi.Mode().Perm())
	}
	boom := errors.New("makensis failed")
	if err := WriteNamed(filepath.Join(dir, "other.exe"), 0o755, func(string) error { return boom }); err != boom {
		t.Fatalf("got %v", err)
	}
	if got := names(t, dir); len(got) != 1 || got[0] != "setup.exe" {
		t.Errorf("folder holds %v, want only setup.exe", got)
	}
}

func TestMissingFolderIsAnErrorNamingThePath(t *testing.T) {
	p := filepath.Join(t.TempDir(), "no", "such", "file")
	err := WriteFile(p, []byte("x"), 0o644)
	if err == nil || !strings.Contains(err.Error(), p) {
		t.Fatalf("want an error naming %s, got %v", p, err)
	}
}

func TestCleanStale(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "q[1].zip")
	keep := []string{"q[1].zip", ".other.zip.tmp-1", "q[1].zip.tmp-2"}
	for _, n := range append([]string{TempPrefix(p) + "123", TempPrefix(p) + "abc"}, keep...) {
		os.WriteFile(filepath.Join(dir, n), []byte("x"), 0o644)
	}
	if err := CleanStale(p); err != nil {
		t.Fatal(err)
	}
	got := names(t, dir)
	if len(got) != len(keep) {
		t.Fatalf("after CleanStale the folder holds %v, want %v", got, keep)
	}
	for _, n := range got {
		if strings.HasPrefix(n, TempPrefix(p)) {
			t.Errorf("stale temp %s left", n)
		}
	}
	if err := CleanStale(filepath.Join(dir, "gone", "x")); err != nil {
		t.Errorf("a missing folder has nothing stale: %v", err)
	}
}

func TestCopyKeepsContentAndMode(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "src")
	if err := os.WriteFile(src, []byte("payload"), 0o755); err != nil {
		t.Fatal(err)
	}
	dst := filepath.Join(dir, "dst")
	if err := Copy(src, dst); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(dst)
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(dst); string(b) != "payload" || fi.Mode().Perm() != 0o755 {
		t.Errorf("copy: %q mode %v", b, fi.Mode().Perm())
	}
	if err := Copy(filepath.Join(dir, "missing"), filepath.Join(dir, "x")); err == nil {
		t.Error("copying a missing file succeeded")
	}
	if _, err := os.Stat(filepath.Join(dir, "x")); !os.IsNotExist(err) {
		t.Error("a failed copy left a file")
	}
}
