package debian

import (
	"bufio"
	"encoding/csv"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Distro is the distribution whose archive the tree reads: the host's.
type Distro struct {
	ID       string // "debian" or "ubuntu"
	Codename string // the host's release: "bookworm", "noble"
	// Archive serves the releases and their -updates; Security their
	// -security suites; Ports (Ubuntu) the architectures other than
	// amd64 and i386.
	Archive, Security, Ports string
	Keyring                  string // signed-by for every line of the tree
	Components               []string
}

// Known archives. The keyrings are the distributions' own packages
// (debian-archive-keyring, ubuntu-keyring), installed on every host of
// that distribution.
var (
	debianDistro = Distro{
		ID: "debian", Archive: "http://deb.debian.org/debian", Security: "http://deb.debian.org/debian-security",
		Keyring: "/usr/share/keyrings/debian-archive-keyring.gpg", Components: []string{"main"},
	}
	ubuntuDistro = Distro{
		ID: "ubuntu", Archive: "http://archive.ubuntu.com/ubuntu", Security: "http://security.ubuntu.com/ubuntu",
		Ports: "http://ports.ubuntu.com/ubuntu-ports", Keyring: "/usr/share/keyrings/ubuntu-archive-keyring.gpg",
		Components: []string{"main"},
	}
)

// DistroFromOSRelease reads an /etc/os-release: Debian by ID=debian and
// VERSION_CODENAME; Ubuntu, and derivatives that name their Ubuntu base
// (Linux Mint, Pop!_OS: UBUNTU_CODENAME), by that codename; other Debian
// derivatives by VERSION_CODENAME when it names a Debian release.
func DistroFromOSRelease(text string) (Distro, error) {
	kv := map[string]string{}
	sc := bufio.NewScanner(strings.NewReader(text))
	for sc.Scan() {
		k, v, ok := strings.Cut(strings.TrimSpace(sc.Text()), "=")
		if !ok || strings.HasPrefix(k, "#") {
			continue
		}
		v = strings.TrimSpace(v)
		if len(v) >= 2 && (v[0] == '"' || v[0] == '\'') && v[len(v)-1] == v[0] {
			v = v[1 : len(v)-1]
		}
		kv[strings.TrimSpace(k)] = v
	}
	id := strings.ToLower(kv["ID"])
	like := " " + strings.ToLower(kv["ID_LIKE"]) + " "
	name := kv["PRETTY_NAME"]
	if name == "" {
		name = id
	}
	switch {
	case id == "ubuntu" || (kv["UBUNTU_CODENAME"] != "" && strings.Contains(like, " ubuntu ")):
		d := ubuntuDistro
		d.Codename = kv["UBUNTU_CODENAME"]
		if d.Codename == "" {
			d.Codename = kv["VERSION_CODENAME"]
		}
		if d.Codename == "" {
			return Distro{}, fmt.Errorf("%s: /etc/os-release names no Ubuntu codename (UBUNTU_CODENAME or VERSION_CODENAME)", name)
		}
		return d, nil
	case id == "debian" || strings.Contains(like, " debian "):
		d := debianDistro
		d.Codename = kv["VERSION_CODENAME"]
		if d.Codename == "" {
			return Distro{}, fmt.Errorf("%s: /etc/os-release names no VERSION_CODENAME, so the Debian release is not known", name)
		}
		if id != "debian" && !isDebianRelease(d.Codename) {
			return Distro{}, fmt.Errorf("%s: its release %q is not one of Debian's, so Debian's archive cannot be read for it", name, d.Codename)
		}
		return d, nil
	}
	return Distro{}, fmt.Errorf("%s is neither Debian nor Ubuntu: Debian's archive is read through apt on those only", name)
}

// HostDistro reads <root>/etc/os-release ("" = the real root).
func HostDistro(root string) (Distro, error) {
	b, err := os.ReadFile(filepath.Join(root+"/", "etc", "os-release"))
	if err != nil {
		return Distro{}, fmt.Errorf("which distribution: %w", err)
	}
	return DistroFromOSRelease(string(b))
}

// release is one row of distro-info-data's CSV files
// (/usr/share/distro-info/{debian,ubuntu}.csv).
type release struct {
	Codename                 string
	Version                  string
	Created, Release, EOL    time.Time // zero when the row leaves it empty
	HasRelease, HasEOL, Devl bool
}

// Built-in copies of distro-info-data's rows for the releases qemupack
// may meet, used when the host has no distro-info-data (a minimal
// debootstrap root). Rows are appended as distributions release; the
// host's own copy, kept current by its updates, is preferred.
const (
	builtinDebianCSV = `version,codename,series,created,release,eol,eol-lts,eol-elts
10,Buster,buster,2017-06-17,2019-07-06,2022-09-10,2024-06-30,2029-06-30
11,Bullseye,bullseye,2019-07-06,2021-08-14,2024-08-14,2026-08-31,2031-06-30
12,Bookworm,bookworm,2021-08-14,2023-06-10,2026-06-10,2028-06-30,2033-06-30
13,Trixie,trixie,2023-06-10,2025-08-09,2028-08-09,2030-06-30,2035-06-30
14,Forky,forky,2025-08-09
,Sid,sid,1993-08-16
,Experimental,experimental,1993-08-16
`
	builtinUbuntuCSV = `version,codename,series,created,release,eol,eol-server,eol-esm
22.04 LTS,Jammy Jellyfish,jammy,2021-10-14,2022-04-21,2027-06-01,2027-06-01,2032-04-21
24.04 LTS,Noble Numbat,noble,2023-10-12,2024-04-25,2029-05-31,2029-05-31,2034-04-25
25.10,Questing Quokka,questing,2025-04-17,2025-10-09,2026-07-09
26.04 LTS,Resolute Raccoon,resolute,2025-10-09,2026-04-23,2031-05-29,2031-05-29,2036-04-23
`
)

func isDebianRelease(codename string) bool {
	rs, _ := parseReleases(strings.NewReader(builtinDebianCSV))
	for _, r := range rs {
		if r.Codename == codename {
			return true
		}
	}
	return false
}

// parseReleases reads a distro-info-data CSV file.
func parseReleases(r io.Reader) ([]release, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	rows, err := cr.ReadAll()
	if err != nil {
		return nil, err
	}
	var out []release
	for i, row := range rows {
		if i == 0 || len(row) < 4 {
			continue // the header
		}
		rel := release{Version: row[0], Codename: strings.TrimSpace(row[2])}
		date := func(j int) (time.Time, bool) {
			if j >= len(row) || strings.TrimSpace(row[j]) == "" {
				return time.Time{}, false
			}
			t, err := time.Parse("2006-01-02", strings.TrimSpace(row[j]))
			return t, err == nil
		}
		rel.Created, _ = date(3)
		rel.Release, rel.HasRelease = date(4)
		rel.EOL, rel.HasEOL = date(5)
		if rel.Codename != "" {
			out = append(out, rel)
		}
	}
	return out, nil
}

// releasesOf reads distro-info-data for the distribution from
// <root>/usr/share/distro-info, else the built-in rows.
func releasesOf(root, id string) []release {
	builtin := builtinDebianCSV
	if id == "ubuntu" {
		builtin = builtinUbuntuCSV
	}
	if f, err := os.Open(filepath.Join(root+"/", "usr", "share", "distro-info", id+".csv")); err == nil {
		defer f.Close()
		if rs, err := parseReleases(f); err == nil && len(rs) > 0 {
			return rs
		}
	}
	rs, _ := parseReleases(strings.NewReader(builtin))
	return rs
}

// HostSuites are the suites of the host's own release: the release, its
// -updates and -security (unstable has neither).
func (d Distro) HostSuites() []string {
	if d.ID == "debian" && (d.Codename == "sid" || d.Codename == "unstable") {
		return []string{d.Codename}
	}
	return []string{d.Codename, d.Codename + "-updates", d.Codename + "-security"}
}

// defaultFurther are the suites read beyond the host's by default:
//
//   - Debian: every stable release newer than the host's (with its
//     -updates and -security), then testing, then unstable (sid). On
//     bookworm: trixie, trixie-updates, trixie-security, forky, sid.
//   - Ubuntu: every newer series still supported (with -updates and
//     -security), then the series in development, if any.
//
// Releases come from distro-info-data rows dated against today.
func defaultFurther(d Distro, rs []release, today time.Time) []string {
	released := func(r release) bool { return r.HasRelease && !r.Release.After(today) }
	host := -1
	for i, r := range rs {
		if r.Codename == d.Codename {
			host = i
		}
	}
	var out []string
	stable := func(name string) { out = append(out, name, name+"-updates", name+"-security") }
	if d.ID == "ubuntu" {
		if host < 0 {
			return nil // a series newer than what we know of: nothing newer to read
		}
		for i, r := range rs {
			if i <= host || r.Created.After(today) || (r.HasEOL && !r.EOL.After(today)) {
				continue
			}
			if released(r) {
				stable(r.Codename)
			} else {
				out = append(out, r.Codename)
			}
		}
		return out
	}
	testing := ""
	for _, r := range rs {
		if r.Version != "" && !r.Created.After(today) && !released(r) {
			testing = r.Codename
			break
		}
	}
	if d.Codename == "sid" || d.Codename == "unstable" {
		return nil
	}
	if d.Codename != testing {
		for i, r := range rs {
			if host >= 0 && i > host && r.Version != "" && released(r) {
				stable(r.Codename)
			}
		}
		if testing != "" {
			out = append(out, testing)
		}
	}
	return append(out, "sid")
}
