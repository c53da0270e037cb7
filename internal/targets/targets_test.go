package targets_test

import (
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"qemupack/internal/config"
	"qemupack/internal/release"
	"qemupack/internal/targets"
)

func root(t *testing.T) string {
	t.Helper()
	r, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	return r
}

var readsLine = regexp.MustCompile(`Reads ([A-Z0-9_, ]+)\.\s*$`)

// Every target's doc line names exactly the settings it reads, and every
// target has its settings declared: the "Reads" lines cannot drift from
// the settings table.
func TestDocLinesNameTheSettingsTheTargetReads(t *testing.T) {
	docs, err := release.MageTargets(root(t))
	if err != nil {
		t.Fatal(err)
	}
	for name, doc := range docs {
		groups, ok := targets.Groups[name]
		if !ok {
			t.Errorf("target %s has no entry in targets.Groups (which settings does it read?)", name)
			continue
		}
		want := strings.Join(config.Names(groups...), ", ")
		m := readsLine.FindStringSubmatch(strings.TrimSpace(doc))
		if m == nil {
			t.Errorf("target %s: its doc comment does not end in \"Reads %s.\"", name, want)
			continue
		}
		if m[1] != want {
			t.Errorf("target %s reads\n  %s\nbut its doc line says\n  %s", name, want, m[1])
		}
	}
	for name := range targets.Groups {
		if _, ok := docs[name]; !ok {
			t.Errorf("targets.Groups names %s, which no magefile defines", name)
		}
	}
}

// The README's settings table is config's, row for row.
func TestREADMESettingsTable(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(root(t), "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	text := string(data)
	want := config.MarkdownTable()
	if !strings.Contains(text, want) {
		t.Errorf("README.md's settings table differs from internal/config's Settings; it should read:\n%s", want)
	}
	// No variable the README mentions is unknown to config, but for names
	// that are not qemupack's settings: a CI secret the workflow decodes
	// into QEMUPACK_SIGN_PFX, and the switches of opt-in tests (booting
	// guests, the GTK stack's wine proof and its output folder, the
	// firmware table's check against Debian's QEMU binaries).
	notSettings := map[string]bool{"QEMUPACK_SIGN_PFX_BASE64": true, "QEMUPACK_E2E": true,
		"QEMUPACK_GTK_PROOF": true, "QEMUPACK_GTK_PROOF_OUT": true, "QEMUPACK_TEST_DEBIAN_QEMU": true}
	var unknown []string
	for _, v := range regexp.MustCompile("`((?:QEMUPACK|QEMU)_[A-Z0-9_]+)").FindAllStringSubmatch(text, -1) {
		if _, ok := config.Lookup(v[1]); !ok && !notSettings[v[1]] {
			unknown = append(unknown, v[1])
		}
	}
	sort.Strings(unknown)
	if len(unknown) > 0 {
		t.Errorf("README.md names settings internal/config does not read: %v", unknown)
	}
}
