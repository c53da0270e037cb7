package testprep

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"qemupack/internal/debian"
)

// A release whose index apt refused (the expired sid and forky of a
// snapshot mirror in a fresh root) is named with apt's words, once per
// release; the record goes away when every release gave its packages.
func TestUnavailableReleasesAreRecorded(t *testing.T) {
	dir := filepath.Join(t.TempDir(), FirmwareDebsDir)
	tree := &debian.Tree{
		Suites: []debian.Suite{{Name: "bookworm"}, {Name: "bookworm-security"}, {Name: "trixie"}, {Name: "forky"}, {Name: "sid"}},
		Problems: []string{
			"E: Release file for http://deb.debian.org/debian/dists/sid/InRelease is expired (invalid since 27d 3h). Updates for this repository will not be applied.",
			"E: Release file for http://deb.debian.org/debian/dists/forky/InRelease is expired",
		},
	}
	var said []string
	say := func(s string) { said = append(said, s) }
	if err := recordUnavailable(dir, tree, map[string]bool{"bookworm": true, "trixie": true}, say); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dir, FirmwareUnavailable))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) != 2 || !strings.HasPrefix(lines[0], "forky\tE: Release file") || !strings.HasPrefix(lines[1], "sid\tE: Release file") || !strings.Contains(lines[1], "expired") {
		t.Errorf("record:\n%s", b)
	}
	if len(said) != 2 || !strings.Contains(said[1], "Debian sid") {
		t.Errorf("said %q", said)
	}
	// Every release gave its packages: no record.
	if err := recordUnavailable(dir, tree, map[string]bool{"bookworm": true, "trixie": true, "forky": true, "sid": true}, say); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, FirmwareUnavailable)); !os.IsNotExist(err) {
		t.Errorf("the record outlived the problem: %v", err)
	}
}
