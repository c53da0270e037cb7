package qemusrc

import (
	"bufio"
	"fmt"
	"regexp"
	"strings"
)

// Dsc is what we read from a Debian source control (.dsc) file.
type Dsc struct {
	Source  string    // source package name, e.g. "qemu"
	Version string    // full Debian version, e.g. "1:7.2+dfsg-7+deb12u18"
	Files   []DscFile // from Checksums-Sha256
}

// DscFile is one file the .dsc lists with its sha256.
type DscFile struct {
	Name   string
	SHA256 string
	Size   int64
}

// Upstream returns the upstream part of the Debian version: the epoch and
// the Debian revision removed, e.g. "7.2+dfsg" from "1:7.2+dfsg-7+deb12u18".
func (d Dsc) Upstream() string {
	v := d.Version
	if i := strings.Index(v, ":"); i >= 0 {
		v = v[i+1:]
	}
	if i := strings.LastIndex(v, "-"); i >= 0 {
		v = v[:i]
	}
	return v
}

// BaseVersion is the upstream release the repack was made from, as QEMU
// numbers it: "7.2+dfsg" -> "7.2.0", "8.0.4+dfsg" -> "8.0.4".
func (d Dsc) BaseVersion() (string, error) {
	up := d.Upstream()
	m := regexp.MustCompile(`^(\d+)\.(\d+)(?:\.(\d+))?`).FindStringSubmatch(up)
	if m == nil {
		return "", fmt.Errorf("debian source %s %s: upstream version %q does not start with a QEMU version", d.Source, d.Version, up)
	}
	micro := m[3]
	if micro == "" {
		micro = "0"
	}
	return m[1] + "." + m[2] + "." + micro, nil
}

// Find returns the file of the .dsc whose name matches the pattern.
func (d Dsc) Find(re *regexp.Regexp) (DscFile, bool) {
	for _, f := range d.Files {
		if re.MatchString(f.Name) {
			return f, true
		}
	}
	return DscFile{}, false
}

// ParseDsc reads a .dsc (signed or not). It needs Source, Version and a
// Checksums-Sha256 field.
func ParseDsc(text string) (Dsc, error) {
	var d Dsc
	sc := bufio.NewScanner(strings.NewReader(text))
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	field := ""
	for sc.Scan() {
		line := sc.Text()
		if line == "-----BEGIN PGP SIGNATURE-----" {
			break
		}
		if strings.HasPrefix(line, " ") || strings.HasPrefix(line, "\t") {
			if field == "checksums-sha256" {
				parts := strings.Fields(line)
				if len(parts) != 3 {
					return d, fmt.Errorf("dsc: bad Checksums-Sha256 line %q", strings.TrimSpace(line))
				}
				var size int64
				if _, err := fmt.Sscan(parts[1], &size); err != nil {
					return d, fmt.Errorf("dsc: bad size in %q", strings.TrimSpace(line))
				}
				d.Files = append(d.Files, DscFile{Name: parts[2], SHA256: strings.ToLower(parts[0]), Size: size})
			}
			continue
		}
		name, value, ok := strings.Cut(line, ":")
		if !ok {
			field = ""
			continue
		}
		field = strings.ToLower(strings.TrimSpace(name))
		switch field {
		case "source":
			d.Source = strings.TrimSpace(value)
		case "version":
			d.Version = strings.TrimSpace(value)
		}
	}
	if d.Source == "" || d.Version == "" || len(d.Files) == 0 {
		return d, fmt.Errorf("dsc: missing Source, Version or Checksums-Sha256 (is this a Debian .dsc file?)")
	}
	return d, nil
}

// SeriesEntry is one patch of a quilt series file.
type SeriesEntry struct {
	Name  string // file name under debian/patches
	Strip int    // the -pN level (default 1)
}

// ParseSeries reads a quilt series file: one patch per line, optionally
// followed by -pN; blank lines and # comments are skipped.
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
		if strings.Contains(e.Name, "..") || strings.HasPrefix(e.Name, "/") {
			return nil, fmt.Errorf("series line %d: patch name %q leaves debian/patches", n+1, e.Name)
		}
		out = append(out, e)
	}
	return out, nil
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

// NamedPatch is a patch's name and text.
type NamedPatch struct {
	Name  string
	Text  string
	Strip int
}

// DeriveVersion follows the VERSION file from base through the patches in
// order and returns the version the patched tree will call itself. A patch
// whose VERSION hunk expects another version than the tree has by then is
// an error (the series would not apply).
func DeriveVersion(base string, patches []NamedPatch) (string, error) {
	cur := base
	for _, p := range patches {
		strip := p.Strip
		if strip == 0 {
			strip = 1
		}
		ch, ok, err := VersionChangeIn(p.Text, strip)
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

// AptFile is one file `apt-get source --print-uris` lists.
type AptFile struct {
	URL    string
	Name   string
	Size   int64
	SHA256 string
}

// ParsePrintURIs reads the output of `apt-get source --print-uris PKG`:
// lines of 'URL' NAME SIZE SHA256:HEX (other lines are ignored).
func ParsePrintURIs(out string) []AptFile {
	var files []AptFile
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) != 4 || !strings.HasPrefix(f[0], "'") || !strings.HasPrefix(strings.ToUpper(f[3]), "SHA256:") {
			continue
		}
		var size int64
		fmt.Sscan(f[2], &size)
		files = append(files, AptFile{
			URL:    strings.Trim(f[0], "'"),
			Name:   f[1],
			Size:   size,
			SHA256: strings.ToLower(f[3][len("SHA256:"):]),
		})
	}
	return files
}
