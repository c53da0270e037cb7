package checksum

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

func sha256sumCheck(t *testing.T, dir string) {
	t.Helper()
	if _, err := exec.LookPath("sha256sum"); err != nil {
		t.Fatal("sha256sum is needed (Debian package: coreutils)")
	}
	c := exec.Command("sha256sum", "-c", SumsFile)
	c.Dir = dir
	if out, err := c.CombinedOutput(); err != nil {
		t.Errorf("sha256sum -c: %v\n%s", err, out)
	}
}

func TestFile(t *testing.T) {
	p := filepath.Join(t.TempDir(), "a")
	os.WriteFile(p, []byte("aaa"), 0o644)
	sum, n, err := FileSize(p)
	if err != nil || n != 3 || sum != "9834876dcfb05cb167a5c24953eba58c4ac89b1adf57f28f2f9d09af107ee8f0" {
		t.Fatalf("FileSize = %s %d %v", sum, n, err)
	}
	if s, err := File(p); err != nil || s != sum {
		t.Fatalf("File = %s %v", s, err)
	}
	missing := filepath.Join(t.TempDir(), "gone")
	if _, err := File(missing); err == nil || !strings.Contains(err.Error(), missing) {
		t.Errorf("a missing file: %v", err)
	}
}

func TestWriteAll(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "b.zip"), []byte("bbb"), 0o644)
	os.WriteFile(filepath.Join(dir, "a-setup.exe"), []byte("aaa"), 0o644)
	os.WriteFile(filepath.Join(dir, SumsFile), []byte("stale\n"), 0o644)
	os.WriteFile(filepath.Join(dir, ".partial"), []byte("x"), 0o644)
	names, err := WriteAll(dir)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(filepath.Join(dir, SumsFile))
	want := "9834876dcfb05cb167a5c24953eba58c4ac89b1adf57f28f2f9d09af107ee8f0  a-setup.exe\n" +
		"3e744b9dc39389baf0c5a0660589b8402f3dbb49b89b3e75f2c9355852a3c677  b.zip\n"
	if string(got) != want || len(names) != 2 {
		t.Errorf("SHA256SUMS:\n%s\nwant:\n%s", got, want)
	}
	sha256sumCheck(t, dir)
	if fi, err := os.Stat(filepath.Join(dir, SumsFile)); err != nil || fi.Mode().Perm() != 0o644 {
		t.Errorf("SHA256SUMS mode: %v %v, want 0644", fi, err)
	}
	if _, err := WriteAll(t.TempDir()); err == nil {
		t.Error("an empty folder gave a SHA256SUMS")
	}
}

func TestRecordKeepsOthersDropsVanished(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644)
		s, err := File(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	a := write("a.zip", "aaa")
	if err := Record(dir, "a.zip", a); err != nil {
		t.Fatal(err)
	}
	b := write("b.exe", "bbb")
	if err := Record(dir, "b.exe", b); err != nil {
		t.Fatal(err)
	}
	// a.zip rewritten: its line is replaced, not doubled.
	a = write("a.zip", "aaa2")
	if err := Record(dir, "a.zip", a); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(filepath.Join(dir, SumsFile))
	if want := a + "  a.zip\n" + b + "  b.exe\n"; string(got) != want {
		t.Fatalf("SHA256SUMS:\n%s\nwant:\n%s", got, want)
	}
	sha256sumCheck(t, dir)

	// A file gone from dir loses its line; a line naming a path outside
	// dir is not carried over.
	os.Remove(filepath.Join(dir, "b.exe"))
	os.WriteFile(filepath.Join(dir, SumsFile), append(got, []byte(b+"  ../b.exe\n")...), 0o644)
	c := write("c.json", "ccc")
	if err := Record(dir, "c.json", c); err != nil {
		t.Fatal(err)
	}
	got, _ = os.ReadFile(filepath.Join(dir, SumsFile))
	if want := a + "  a.zip\n" + c + "  c.json\n"; string(got) != want {
		t.Fatalf("SHA256SUMS:\n%s\nwant:\n%s", got, want)
	}
	sha256sumCheck(t, dir)
}

func TestParse(t *testing.T) {
	m := Parse([]byte("aa  x.zip\nbb *y.exe\r\ncc  sub/z\nnot a line\n\ndd  \n"))
	if len(m) != 2 || m["x.zip"] != "aa" || m["y.exe"] != "bb" {
		t.Errorf("Parse = %v", m)
	}
}

// Runs recording different files into one SHA256SUMS at once lose none of
// each other's lines.
func TestConcurrentRecordsKeepEveryLine(t *testing.T) {
	dir := t.TempDir()
	var wg sync.WaitGroup
	for i := 0; i < 12; i++ {
		name := fmt.Sprintf("f%02d.zip", i)
		os.WriteFile(filepath.Join(dir, name), []byte(name), 0o644)
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := Record(dir, name, strings.Repeat("a", 64)); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	data, err := os.ReadFile(filepath.Join(dir, SumsFile))
	if err != nil {
		t.Fatal(err)
	}
	if n := len(Parse(data)); n != 12 {
		t.Fatalf("SHA256SUMS lists %d of 12 files:\n%s", n, data)
	}
}
