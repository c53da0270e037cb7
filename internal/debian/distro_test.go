package debian

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestDistroFromOSRelease(t *testing.T) {
	deb12, err := os.ReadFile(filepath.Join("..", "..", "testdata", "host", "os-release-debian12"))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ name, text, id, codename, err string }{
		{"debian 12", string(deb12), "debian", "bookworm", ""},
		{"ubuntu 24.04", "PRETTY_NAME=\"Ubuntu 24.04.1 LTS\"\nID=ubuntu\nID_LIKE=debian\nVERSION_CODENAME=noble\nUBUNTU_CODENAME=noble\n", "ubuntu", "noble", ""},
		{"linux mint", "NAME=\"Linux Mint\"\nID=linuxmint\nID_LIKE=\"ubuntu debian\"\nVERSION_CODENAME=wilma\nUBUNTU_CODENAME=noble\n", "ubuntu", "noble", ""},
		{"raspbian", "ID=raspbian\nID_LIKE=debian\nVERSION_CODENAME=bookworm\n", "debian", "bookworm", ""},
		{"kali", "PRETTY_NAME=\"Kali GNU/Linux Rolling\"\nID=kali\nID_LIKE=debian\nVERSION_CODENAME=kali-rolling\n", "", "", "not one of Debian's"},
		{"fedora", "PRETTY_NAME=\"Fedora Linux 40\"\nID=fedora\n", "", "", "neither Debian nor Ubuntu"},
		{"debian without codename", "ID=debian\nPRETTY_NAME=\"Debian\"\n", "", "", "VERSION_CODENAME"},
	} {
		d, err := DistroFromOSRelease(c.text)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%s: want an error with %q, got %v", c.name, c.err, err)
			}
			continue
		}
		if err != nil || d.ID != c.id || d.Codename != c.codename {
			t.Errorf("%s: %+v %v", c.name, d, err)
		}
	}
}

func day(s string) time.Time {
	t, err := time.Parse("2006-01-02", s)
	if err != nil {
		panic(err)
	}
	return t
}

// The default further suites from distro-info-data's real tables (and
// the built-in copy), on the day of this writing and on others.
func TestDefaultFurther(t *testing.T) {
	read := func(name string) []release {
		f, err := os.Open(filepath.Join("..", "..", "testdata", "debian", name))
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		rs, err := parseReleases(f)
		if err != nil {
			t.Fatal(err)
		}
		return rs
	}
	debRows, ubuRows := read("distro-info-debian.csv"), read("distro-info-ubuntu.csv")
	builtinDeb, _ := parseReleases(strings.NewReader(builtinDebianCSV))
	builtinUbu, _ := parseReleases(strings.NewReader(builtinUbuntuCSV))
	deb := func(c string) Distro { d := debianDistro; d.Codename = c; return d }
	ubu := func(c string) Distro { d := ubuntuDistro; d.Codename = c; return d }
	for _, c := range []struct {
		name  string
		d     Distro
		rows  []release
		today string
		want  string
	}{
		{"bookworm", deb("bookworm"), debRows, "2026-12-03", "trixie trixie-updates trixie-security forky sid"},
		{"bookworm built-in", deb("bookworm"), builtinDeb, "2026-12-03", "trixie trixie-updates trixie-security forky sid"},
		{"bookworm before trixie", deb("bookworm"), debRows, "2025-01-01", "trixie sid"},
		{"bullseye", deb("bullseye"), debRows, "2026-12-03", "bookworm bookworm-updates bookworm-security trixie trixie-updates trixie-security forky sid"},
		{"trixie", deb("trixie"), debRows, "2026-12-03", "forky sid"},
		{"testing host", deb("forky"), debRows, "2026-12-03", "sid"},
		{"sid host", deb("sid"), debRows, "2026-12-03", ""},
		{"unknown release", deb("zzz"), debRows, "2026-12-03", "forky sid"},
		{"jammy", ubu("jammy"), ubuRows, "2026-12-03", "noble noble-updates noble-security resolute resolute-updates resolute-security"},
		{"jammy built-in", ubu("jammy"), builtinUbu, "2026-12-03", "noble noble-updates noble-security resolute resolute-updates resolute-security"},
		{"noble mid-2025", ubu("noble"), ubuRows, "2025-06-01", "oracular oracular-updates oracular-security plucky plucky-updates plucky-security questing"},
		{"unknown series", ubu("zzz"), ubuRows, "2026-12-03", ""},
	} {
		got := strings.Join(defaultFurther(c.d, c.rows, day(c.today)), " ")
		if got != c.want {
			t.Errorf("%s on %s: %q, want %q", c.name, c.today, got, c.want)
		}
	}
	if s := deb("bookworm").HostSuites(); strings.Join(s, " ") != "bookworm bookworm-updates bookworm-security" {
		t.Errorf("host suites %v", s)
	}
	if s := deb("sid").HostSuites(); strings.Join(s, " ") != "sid" {
		t.Errorf("sid's suites %v", s)
	}
}

func TestSuitesForAddsTheHostsMirror(t *testing.T) {
	root := t.TempDir()
	os.MkdirAll(filepath.Join(root, "etc", "apt", "sources.list.d"), 0o755)
	real, err := os.ReadFile(filepath.Join("..", "..", "testdata", "debian", "host-debian.sources"))
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(root, "etc", "apt", "sources.list.d", "debian.sources"), real, 0o644)
	os.WriteFile(filepath.Join(root, "etc", "apt", "sources.list"), []byte(
		"deb [ arch=amd64 signed-by=/etc/apt/keyrings/mirror.gpg ] http://mirror.example/debian/ bookworm main contrib\n"+
			"deb-src http://mirror.example/debian bookworm-updates main # no signed-by: the archive keyring\n"+
			"deb [trusted=yes] http://unsigned.example/debian bookworm main\n"+
			"deb https://packages.cloud.google.com/apt cloud-sdk-bookworm main\n"+
			"deb http://mirror.example/debian bookworm contrib\n"), 0o644)
	os.WriteFile(filepath.Join(root, "etc", "apt", "sources.list.d", "off.sources"), []byte(
		"Enabled: no\nTypes: deb\nURIs: http://off.example/debian\nSuites: bookworm\nComponents: main\n"), 0o644)
	os.WriteFile(filepath.Join(root, "etc", "apt", "sources.list.d", "node.sources.disabled"), []byte(
		"Types: deb\nURIs: http://node.example/\nSuites: bookworm\nComponents: main\n"), 0o644)
	d := deb12()
	suites, skipped := suitesFor(d, []string{"sid"}, Options{Root: root})
	var got []string
	for _, s := range suites {
		got = append(got, s.URI+" "+s.Name+" "+s.Keyring)
	}
	want := []string{
		"http://deb.debian.org/debian bookworm /usr/share/keyrings/debian-archive-keyring.gpg",
		"http://deb.debian.org/debian bookworm-updates /usr/share/keyrings/debian-archive-keyring.gpg",
		"http://deb.debian.org/debian-security bookworm-security /usr/share/keyrings/debian-archive-keyring.gpg",
		"http://deb.debian.org/debian sid /usr/share/keyrings/debian-archive-keyring.gpg",
		"http://mirror.example/debian bookworm /etc/apt/keyrings/mirror.gpg",
		"http://mirror.example/debian bookworm-updates /usr/share/keyrings/debian-archive-keyring.gpg",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if len(skipped) != 1 || !strings.Contains(skipped[0], "trusted=yes") {
		t.Errorf("skipped %q", skipped)
	}
	tree := &Tree{Distro: d, Suites: suites[:1], Architectures: []string{"amd64", "arm64"}}
	if s := tree.sourcesList(); !strings.Contains(s, "deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian bookworm main\n") ||
		!strings.Contains(s, "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg arch=amd64,arm64] http://deb.debian.org/debian bookworm main\n") {
		t.Errorf("sources.list:\n%s", s)
	}
	u := ubuntuDistro
	u.Codename = "noble"
	tree = &Tree{Distro: u, Suites: []Suite{{Name: "noble", URI: u.Archive, Keyring: u.Keyring, Components: u.Components}}, Architectures: []string{"amd64", "arm64"}}
	if s := tree.sourcesList(); !strings.Contains(s, "arch=amd64] http://archive.ubuntu.com/ubuntu noble main\n") ||
		!strings.Contains(s, "arch=arm64] http://ports.ubuntu.com/ubuntu-ports noble main\n") {
		t.Errorf("Ubuntu's arm64 comes from ports:\n%s", s)
	}
}

func deb12() Distro { d := debianDistro; d.Codename = "bookworm"; return d }

func TestParseSourcesListOptions(t *testing.T) {
	es := ParseSourcesList("deb [signed-by=/k.gpg arch=amd64] http://x/debian trixie main contrib\n#deb http://y sid main\ndeb-src http://z sid main\n")
	if len(es) != 2 || es[0].SignedBy != "/k.gpg" || es[0].Suite != "trixie" || len(es[0].Components) != 2 || es[1].Type != "deb-src" {
		t.Errorf("%+v", es)
	}
	inline := "Types: deb deb-src\nURIs: http://a http://b\nSuites: noble noble-updates\nComponents: main\nSigned-By:\n -----BEGIN PGP PUBLIC KEY BLOCK-----\n .\n xyz\n -----END PGP PUBLIC KEY BLOCK-----\n"
	es = ParseDeb822Sources(inline)
	if len(es) != 8 || es[0].Unusable == "" {
		t.Errorf("%d entries, first %+v", len(es), es[0])
	}
}
