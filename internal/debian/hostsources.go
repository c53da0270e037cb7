package debian

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// SourceEntry is one repository line of an apt sources file, in either
// format (one-line .list or deb822 .sources), one entry per type, URI and
// suite.
type SourceEntry struct {
	Type       string // "deb" or "deb-src"
	URI        string
	Suite      string
	Components []string
	SignedBy   string // a keyring path ("" = none given)
	// Unusable says why the tree cannot use this entry as it is ("" when
	// it can): an inline key, trusted=yes.
	Unusable string
}

// ReadHostSources reads the host's apt sources: <etc>/sources.list and
// the *.list and *.sources files in <etc>/sources.list.d (etc is
// /etc/apt). Entries switched off (Enabled: no, other file endings) are
// left out. Missing files are no error: a host may have none.
func ReadHostSources(etc string) []SourceEntry {
	var out []SourceEntry
	if b, err := os.ReadFile(filepath.Join(etc, "sources.list")); err == nil {
		out = append(out, ParseSourcesList(string(b))...)
	}
	ents, _ := os.ReadDir(filepath.Join(etc, "sources.list.d"))
	names := []string{}
	for _, e := range ents {
		names = append(names, e.Name())
	}
	sort.Strings(names)
	for _, n := range names {
		b, err := os.ReadFile(filepath.Join(etc, "sources.list.d", n))
		if err != nil {
			continue
		}
		switch {
		case strings.HasSuffix(n, ".list"):
			out = append(out, ParseSourcesList(string(b))...)
		case strings.HasSuffix(n, ".sources"):
			out = append(out, ParseDeb822Sources(string(b))...)
		}
	}
	return out
}

// ParseSourcesList reads the one-line format:
// deb [ option=value ... ] URI SUITE [COMPONENT...].
func ParseSourcesList(text string) []SourceEntry {
	var out []SourceEntry
	for _, line := range strings.Split(text, "\n") {
		if i := strings.IndexByte(line, '#'); i >= 0 {
			line = line[:i]
		}
		f := strings.Fields(line)
		if len(f) < 3 || (f[0] != "deb" && f[0] != "deb-src") {
			continue
		}
		e := SourceEntry{Type: f[0]}
		rest := f[1:]
		if strings.HasPrefix(rest[0], "[") {
			// Options may be spaced: "[ signed-by=x arch=amd64 ]".
			var opts []string
			joined := strings.Join(rest, " ")
			end := strings.IndexByte(joined, ']')
			if end < 0 {
				continue
			}
			opts = strings.Fields(strings.Trim(joined[:end], "[ "))
			rest = strings.Fields(joined[end+1:])
			for _, o := range opts {
				k, v, _ := strings.Cut(o, "=")
				switch strings.ToLower(k) {
				case "signed-by":
					e.SignedBy = v
				case "trusted":
					if strings.EqualFold(v, "yes") {
						e.Unusable = "trusted=yes (not signed)"
					}
				}
			}
		}
		if len(rest) < 2 {
			continue
		}
		e.URI, e.Suite, e.Components = rest[0], rest[1], rest[2:]
		out = append(out, e)
	}
	return out
}

// ParseDeb822Sources reads the deb822 format (*.sources): stanzas with
// Types, URIs, Suites, Components, Signed-By, Enabled, Trusted.
func ParseDeb822Sources(text string) []SourceEntry {
	var out []SourceEntry
	for _, p := range ParseParagraphs(text) {
		if strings.EqualFold(p.Get("Enabled"), "no") {
			continue
		}
		base := SourceEntry{Components: strings.Fields(p.Get("Components"))}
		sb := p.Get("Signed-By")
		switch {
		case strings.Contains(sb, "BEGIN PGP"):
			base.Unusable = "its key is given inline in Signed-By"
		case sb != "":
			base.SignedBy = strings.Fields(sb)[0]
		}
		if strings.EqualFold(p.Get("Trusted"), "yes") {
			base.Unusable = "Trusted: yes (not signed)"
		}
		for _, t := range strings.Fields(p.Get("Types")) {
			if t != "deb" && t != "deb-src" {
				continue
			}
			for _, u := range strings.Fields(p.Get("URIs")) {
				for _, s := range strings.Fields(p.Get("Suites")) {
					e := base
					e.Type, e.URI, e.Suite = t, u, s
					out = append(out, e)
				}
			}
		}
	}
	return out
}
