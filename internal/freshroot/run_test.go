package freshroot

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Go's tree comes over whole: folders, files with their modes, links as
// links.
func TestCopyTree(t *testing.T) {
	src, dst := t.TempDir(), filepath.Join(t.TempDir(), "go")
	write(t, filepath.Join(src, "bin", "go"), "#!/bin/sh\n", 0o755)
	write(t, filepath.Join(src, "src", "a.go"), "package a\n", 0o644)
	if err := os.Symlink("../src/a.go", filepath.Join(src, "bin", "link")); err != nil {
		t.Fatal(err)
	}
	if err := copyTree(src, dst); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(filepath.Join(dst, "bin", "go"))
	if err != nil || fi.Mode().Perm() != 0o755 {
		t.Errorf("bin/go: %v %v", fi, err)
	}
	if l, err := os.Readlink(filepath.Join(dst, "bin", "link")); err != nil || l != "../src/a.go" {
		t.Errorf("link %q %v", l, err)
	}
	if b, _ := os.ReadFile(filepath.Join(dst, "src", "a.go")); string(b) != "package a\n" {
		t.Errorf("a.go %q", b)
	}
}

// A root's resolv.conf is often a link (to systemd-resolved's file):
// copying over it replaces the link, never writes through it.
func TestCopyFileReplacesALink(t *testing.T) {
	dir := t.TempDir()
	outside := filepath.Join(dir, "outside")
	write(t, outside, "keep me\n", 0o644)
	link := filepath.Join(dir, "root", "etc", "resolv.conf")
	os.MkdirAll(filepath.Dir(link), 0o755)
	if err := os.Symlink(outside, link); err != nil {
		t.Fatal(err)
	}
	src := filepath.Join(dir, "host-resolv.conf")
	write(t, src, "nameserver 10.0.0.1\n", 0o644)
	if err := copyFile(src, link, 0o644); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(outside); string(b) != "keep me\n" {
		t.Errorf("wrote through the link: %q", b)
	}
	if fi, err := os.Lstat(link); err != nil || !fi.Mode().IsRegular() {
		t.Errorf("resolv.conf is not a plain file: %v %v", fi, err)
	}
}

func TestSummary(t *testing.T) {
	r := Result{Command: "test", Took: 421 * time.Second, Prepare: 15 * time.Second, Log: "/c/l.log", Status: "exit status 0"}
	if s := r.Summary(); !strings.Contains(s, "freshroot test: passed in 7m1s (root prepared in 15s)") || !strings.Contains(s, "/c/l.log") || !r.OK() {
		t.Errorf("summary %q", s)
	}
	r.ExitErr, r.Status = errors.New("x"), "exit status 1"
	r.Etc.Bad = []Change{{"/etc/hostname", "content"}}
	if s := r.Summary(); !strings.Contains(s, "FAILED (exit status 1)") || !strings.Contains(s, "1 unexplained change") || r.OK() {
		t.Errorf("summary %q", s)
	}
}
