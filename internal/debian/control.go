package debian

import (
	"bufio"
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// Paragraph is one stanza of a Debian control file (a .dsc, an entry of a
// Sources or Packages index, apt-cache's output): field names as written,
// looked up without regard to case; a multi-line field keeps its lines
// joined by "\n" (the first line being what follows the colon).
type Paragraph map[string]string

// Get returns the field's value, trimmed ("" when absent).
func (p Paragraph) Get(name string) string {
	if v, ok := p[strings.ToLower(name)]; ok {
		return strings.TrimSpace(v)
	}
	return ""
}

// ParseParagraphs reads the stanzas of a control file. An OpenPGP
// clear-signed file (a signed .dsc) is read between its armour lines;
// the signature itself is not checked here (apt checks the archive's).
func ParseParagraphs(text string) []Paragraph {
	var out []Paragraph
	cur := Paragraph{}
	field := ""
	sc := bufio.NewScanner(strings.NewReader(text))
	sc.Buffer(make([]byte, 64*1024), 16*1024*1024)
	flush := func() {
		if len(cur) > 0 {
			out = append(out, cur)
		}
		cur, field = Paragraph{}, ""
	}
	for sc.Scan() {
		line := strings.TrimRight(sc.Text(), "\r")
		switch {
		case line == "-----BEGIN PGP SIGNED MESSAGE-----":
			// Skip the armour header lines up to the first blank line.
			for sc.Scan() && strings.TrimSpace(sc.Text()) != "" {
			}
			continue
		case line == "-----BEGIN PGP SIGNATURE-----":
			flush()
			for sc.Scan() && sc.Text() != "-----END PGP SIGNATURE-----" {
			}
			continue
		case strings.TrimSpace(line) == "":
			flush()
			continue
		case strings.HasPrefix(line, "#"):
			continue
		case line[0] == ' ' || line[0] == '\t':
			if field != "" {
				cur[field] += "\n" + strings.TrimSpace(line)
			}
			continue
		}
		name, value, ok := strings.Cut(line, ":")
		if !ok {
			field = ""
			continue
		}
		field = strings.ToLower(strings.TrimSpace(name))
		cur[field] = strings.TrimSpace(value)
	}
	flush()
	return out
}

// File is one file of a source package (from the .dsc's or the index's
// Checksums-Sha256) or a binary package's .deb.
type File struct {
	Name   string `json:"name"`
	SHA256 string `json:"sha256"`
	Size   int64  `json:"size"`
	// URL is where the archive serves it ("" when not known: a .dsc read
	// on its own).
	URL string `json:"url,omitempty"`
}

// checksumFiles reads a Checksums-Sha256 field: lines of "SUM SIZE NAME".
func checksumFiles(field string) ([]File, error) {
	var out []File
	for _, line := range strings.Split(field, "\n") {
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		if len(f) != 3 || len(f[0]) != 64 {
			return nil, fmt.Errorf("bad Checksums-Sha256 line %q", strings.TrimSpace(line))
		}
		size, err := strconv.ParseInt(f[1], 10, 64)
		if err != nil {
			return nil, fmt.Errorf("bad size in Checksums-Sha256 line %q", strings.TrimSpace(line))
		}
		if strings.ContainsAny(f[2], `/\`) || f[2] == ".." || f[2] == "." {
			return nil, fmt.Errorf("Checksums-Sha256 names %q, not a plain file name", f[2])
		}
		out = append(out, File{Name: f[2], SHA256: strings.ToLower(f[0]), Size: size})
	}
	return out, nil
}

// Dsc is what qemupack reads from a Debian source control (.dsc) file.
type Dsc struct {
	Source  string // source package name, e.g. "qemu"
	Version string // full Debian version, e.g. "1:7.2+dfsg-7+deb12u18"
	Format  string // e.g. "3.0 (quilt)"
	Files   []File // from Checksums-Sha256
}

// ParseDsc reads a .dsc (signed or not). It needs Source, Version and a
// Checksums-Sha256 field.
func ParseDsc(text string) (Dsc, error) {
	ps := ParseParagraphs(text)
	if len(ps) == 0 {
		return Dsc{}, fmt.Errorf("dsc: empty (is this a Debian .dsc file?)")
	}
	p := ps[0]
	d := Dsc{Source: p.Get("Source"), Version: p.Get("Version"), Format: p.Get("Format")}
	files, err := checksumFiles(p.Get("Checksums-Sha256"))
	if err != nil {
		return d, fmt.Errorf("dsc %s %s: %w", d.Source, d.Version, err)
	}
	d.Files = files
	if d.Source == "" || d.Version == "" || len(d.Files) == 0 {
		return d, fmt.Errorf("dsc: missing Source, Version or Checksums-Sha256 (is this a Debian .dsc file?)")
	}
	return d, nil
}

// Upstream is the upstream part of the version: "7.2+dfsg" of
// "1:7.2+dfsg-7+deb12u18".
func (d Dsc) Upstream() string { return UpstreamPart(d.Version) }

// Find returns the file of the .dsc whose name matches the pattern.
func (d Dsc) Find(re *regexp.Regexp) (File, bool) {
	return findFile(d.Files, re)
}

func findFile(fs []File, re *regexp.Regexp) (File, bool) {
	for _, f := range fs {
		if re.MatchString(f.Name) {
			return f, true
		}
	}
	return File{}, false
}

// The files of a "3.0 (quilt)" source package.
var (
	ReDsc         = regexp.MustCompile(`\.dsc$`)
	ReOrigTarball = regexp.MustCompile(`\.orig\.tar\.(xz|gz|bz2)$`)
	ReDebianTar   = regexp.MustCompile(`\.debian\.tar\.(xz|gz|bz2)$`)
)

// sourceStanza is one entry of a Sources index as `apt-cache showsrc`
// prints it.
type sourceStanza struct {
	Package, Version, Directory string
	Files                       []File
}

// parseSourceStanzas reads `apt-cache showsrc` output (Sources index
// entries): the entries of source package pkg, each with its files.
func parseSourceStanzas(text, pkg string) ([]sourceStanza, error) {
	var out []sourceStanza
	for _, p := range ParseParagraphs(text) {
		if p.Get("Package") != pkg || p.Get("Version") == "" {
			continue
		}
		files, err := checksumFiles(p.Get("Checksums-Sha256"))
		if err != nil {
			return nil, fmt.Errorf("source package %s %s: %w", pkg, p.Get("Version"), err)
		}
		out = append(out, sourceStanza{Package: pkg, Version: p.Get("Version"), Directory: p.Get("Directory"), Files: files})
	}
	return out, nil
}

// binaryStanza is one entry of a Packages index as `apt-cache show` prints it.
type binaryStanza struct {
	Package, Version, Architecture, Filename, Source, Depends string
	Size                                                      int64
	SHA256                                                    string
}

func parseBinaryStanzas(text, pkg string) []binaryStanza {
	var out []binaryStanza
	for _, p := range ParseParagraphs(text) {
		if p.Get("Package") != pkg || p.Get("Version") == "" || p.Get("Filename") == "" {
			continue
		}
		size, _ := strconv.ParseInt(p.Get("Size"), 10, 64)
		out = append(out, binaryStanza{
			Package: pkg, Version: p.Get("Version"), Architecture: p.Get("Architecture"),
			Filename: p.Get("Filename"), Source: p.Get("Source"), Depends: p.Get("Depends"), Size: size, SHA256: strings.ToLower(p.Get("SHA256")),
		})
	}
	return out
}

// madisonLine is one line of `apt-cache madison`:
// "qemu | 1:10.2.2+ds-1 | http://deb.debian.org/debian sid/main Sources" or
// "seabios | 1.17.0-1 | http://deb.debian.org/debian sid/main amd64 Packages".
type madisonLine struct {
	Package, Version, URI, Suite, Component string
	Arch                                    string // "" for Sources
	Source                                  bool
}

func parseMadison(text string) []madisonLine {
	var out []madisonLine
	for _, line := range strings.Split(text, "\n") {
		parts := strings.Split(line, "|")
		if len(parts) != 3 {
			continue
		}
		where := strings.Fields(parts[2])
		if len(where) < 3 {
			continue
		}
		m := madisonLine{Package: strings.TrimSpace(parts[0]), Version: strings.TrimSpace(parts[1]), URI: strings.TrimRight(where[0], "/")}
		dist := where[1]
		if i := strings.LastIndexByte(dist, '/'); i > 0 {
			m.Suite, m.Component = dist[:i], dist[i+1:]
		} else {
			m.Suite = dist
		}
		switch {
		case where[len(where)-1] == "Sources":
			m.Source = true
		case where[len(where)-1] == "Packages" && len(where) >= 4:
			m.Arch = where[2]
		default:
			continue
		}
		out = append(out, m)
	}
	return out
}
