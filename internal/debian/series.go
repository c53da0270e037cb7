package debian

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// SeriesEntry is one patch of a quilt series file.
type SeriesEntry struct {
	Name  string // file name under debian/patches
	Strip int    // the -pN level (default 1)
}

// ParseSeries reads a quilt series file: one patch per line, optionally
// followed by -pN; blank lines and # comments are skipped. A name that
// would leave debian/patches is an error.
func ParseSeries(text string) ([]SeriesEntry, error) {
	var out []SeriesEntry
	for n, line := range strings.Split(text, "\n") {
		if i := strings.Index(line, "#"); i >= 0 {
			line = line[:i]
		}
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		e := SeriesEntry{Name: f[0], Strip: 1}
		for _, opt := range f[1:] {
			var p int
			if _, err := fmt.Sscanf(opt, "-p%d", &p); err != nil {
				return nil, fmt.Errorf("series line %d: option %q not understood (only -pN)", n+1, opt)
			}
			e.Strip = p
		}
		if strings.Contains(e.Name, "..") || strings.HasPrefix(e.Name, "/") || strings.Contains(e.Name, `\`) {
			return nil, fmt.Errorf("series line %d: patch name %q leaves debian/patches", n+1, e.Name)
		}
		out = append(out, e)
	}
	return out, nil
}

// NamedPatch is a patch's name, text and -pN level (as the series gives
// it: 1 unless the series says otherwise, and 0 is a real level).
type NamedPatch struct {
	Name  string
	Text  string
	Strip int
}

// ReadPatches reads the series and the patch texts of an unpacked debian/
// folder; a package without debian/patches/series has none.
func ReadPatches(debianDir string) ([]SeriesEntry, []NamedPatch, error) {
	series, err := os.ReadFile(filepath.Join(debianDir, "patches", "series"))
	if os.IsNotExist(err) {
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, fmt.Errorf("debian patches: %w", err)
	}
	entries, err := ParseSeries(string(series))
	if err != nil {
		return nil, nil, fmt.Errorf("debian/patches/series: %w", err)
	}
	var texts []NamedPatch
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(debianDir, "patches", filepath.FromSlash(e.Name)))
		if err != nil {
			return nil, nil, fmt.Errorf("debian/patches/series names %s: %w", e.Name, err)
		}
		texts = append(texts, NamedPatch{Name: e.Name, Text: string(b), Strip: e.Strip})
	}
	return entries, texts, nil
}

// VersionChange is a change of the VERSION file found in a patch.
type VersionChange struct{ From, To string }

// VersionChangeIn returns how the unified diff text changes the top-level
// VERSION file (with strip level strip), or ok=false when it leaves it alone.
func VersionChangeIn(diff string, strip int) (VersionChange, bool, error) {
	lines := strings.Split(diff, "\n")
	for i := 0; i < len(lines); i++ {
		if !strings.HasPrefix(lines[i], "+++ ") || i == 0 || !strings.HasPrefix(lines[i-1], "--- ") {
			continue
		}
		if stripPath(lines[i][4:], strip) != "VERSION" {
			continue
		}
		var ch VersionChange
		for j := i + 1; j < len(lines); j++ {
			l := lines[j]
			if strings.HasPrefix(l, "diff ") || (strings.HasPrefix(l, "--- ") && j+1 < len(lines) && strings.HasPrefix(lines[j+1], "+++ ")) {
				break
			}
			switch {
			case strings.HasPrefix(l, "-"):
				ch.From = strings.TrimSpace(l[1:])
			case strings.HasPrefix(l, "+"):
				ch.To = strings.TrimSpace(l[1:])
			}
		}
		if ch.To == "" {
			return ch, false, fmt.Errorf("a hunk on VERSION without a new version line")
		}
		return ch, true, nil
	}
	return VersionChange{}, false, nil
}

func stripPath(p string, strip int) string {
	if i := strings.IndexAny(p, "\t"); i >= 0 {
		p = p[:i]
	}
	p = strings.TrimSpace(p)
	for ; strip > 0; strip-- {
		i := strings.Index(p, "/")
		if i < 0 {
			return p
		}
		p = p[i+1:]
	}
	return p
}

// DeriveVersion follows the VERSION file from base through the patches in
// order and returns the version the patched tree will call itself. A patch
// whose VERSION hunk expects another version than the tree has by then is
// an error (the series would not apply).
func DeriveVersion(base string, patches []NamedPatch) (string, error) {
	cur := base
	for _, p := range patches {
		ch, ok, err := VersionChangeIn(p.Text, p.Strip)
		if err != nil {
			return "", fmt.Errorf("patch %s: %w", p.Name, err)
		}
		if !ok {
			continue
		}
		if ch.From != "" && ch.From != cur {
			return "", fmt.Errorf("patch %s changes VERSION from %s, but the tree is at %s by then", p.Name, ch.From, cur)
		}
		cur = ch.To
	}
	return cur, nil
}
