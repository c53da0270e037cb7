package debian

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"qemupack/internal/source"
)

func writeDeb(t *testing.T, data []tarEntry, kind string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "p_1_all.deb")
	if err := os.WriteFile(p, makeDeb(t, "p", "1", data, kind), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// Packages compressed every way Debian and Ubuntu do (xz, zstd since
// Ubuntu 21.10, gzip, none) unpack the same; absolute links become links
// inside the package root.
func TestExtractDeb(t *testing.T) {
	files := []tarEntry{
		{name: "./", typ: '5'},
		{name: "./usr/", typ: '5'},
		{name: "./usr/share/seabios/", typ: '5'},
		{name: "./usr/share/seabios/bios-256k.bin", body: "seabios"},
		{name: "./usr/share/qemu/", typ: '5'},
		{name: "./usr/share/qemu/bios-256k.bin", typ: '2', link: "../seabios/bios-256k.bin"},
		{name: "./usr/share/qemu/abs.bin", typ: '2', link: "/usr/share/seabios/bios-256k.bin"},
		{name: "./usr/bin/", typ: '5'},
		{name: "./usr/bin/tool", body: "#!/bin/sh\n", mode: 0o755},
	}
	for _, kind := range []string{"xz", "zst", "gz", ""} {
		dir := filepath.Join(t.TempDir(), "x")
		if err := ExtractDeb(writeDeb(t, files, kind), dir); err != nil {
			t.Fatalf("%q: %v", kind, err)
		}
		for _, p := range []string{"usr/share/qemu/bios-256k.bin", "usr/share/qemu/abs.bin"} {
			if b, err := os.ReadFile(filepath.Join(dir, p)); err != nil || string(b) != "seabios" {
				t.Errorf("%q: %s: %q %v", kind, p, b, err)
			}
		}
		if l, err := os.Readlink(filepath.Join(dir, "usr/share/qemu/abs.bin")); err != nil || l != "../seabios/bios-256k.bin" {
			t.Errorf("%q: absolute link made %q %v", kind, l, err)
		}
		if fi, err := os.Stat(filepath.Join(dir, "usr/bin/tool")); err != nil || fi.Mode().Perm()&0o100 == 0 {
			t.Errorf("%q: tool not executable: %v", kind, err)
		}
	}
}

func TestExtractDebRefusesEscapes(t *testing.T) {
	for name, ents := range map[string][]tarEntry{
		"dot-dot name":      {{name: "./usr/../../etc/passwd", body: "x"}},
		"through a link":    {{name: "./usr/", typ: '5'}, {name: "./usr/l", typ: '2', link: "../.."}, {name: "./usr/l/evil", body: "x"}},
		"relative link out": {{name: "./usr/", typ: '5'}, {name: "./usr/l", typ: '2', link: "../../etc/passwd"}},
	} {
		dir := filepath.Join(t.TempDir(), "x")
		err := ExtractDeb(writeDeb(t, ents, "xz"), dir)
		if !errors.Is(err, source.ErrUnsafeEntry) {
			t.Errorf("%s: %v", name, err)
		}
		if _, err := os.Stat(dir); err == nil {
			t.Errorf("%s: a refused package left %s behind", name, dir)
		}
	}
	// An absolute link to a path above / stays inside the root.
	dir := filepath.Join(t.TempDir(), "x")
	if err := ExtractDeb(writeDeb(t, []tarEntry{{name: "./a/", typ: '5'}, {name: "./a/l", typ: '2', link: "/../../etc/passwd"}}, "xz"), dir); err != nil {
		t.Fatal(err)
	}
	if l, _ := os.Readlink(filepath.Join(dir, "a", "l")); l != "../etc/passwd" {
		t.Errorf("link %q", l)
	}
}

func TestExtractDebRefusesWhatIsNoPackage(t *testing.T) {
	p := filepath.Join(t.TempDir(), "x.deb")
	os.WriteFile(p, []byte("<html>404</html>"), 0o644)
	if err := ExtractDeb(p, filepath.Join(t.TempDir(), "x")); err == nil || !strings.Contains(err.Error(), "not a Debian binary package") {
		t.Errorf("%v", err)
	}
	full := makeDeb(t, "p", "1", []tarEntry{{name: "./a", body: strings.Repeat("x", 5000)}}, "xz")
	os.WriteFile(p, full[:len(full)-100], 0o644)
	if err := ExtractDeb(p, filepath.Join(t.TempDir(), "x")); err == nil {
		t.Error("a truncated package unpacked")
	}
}
