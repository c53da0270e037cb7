package debian

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func readTestdata(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "testdata", "debian", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestParseRealDsc(t *testing.T) {
	d, err := ParseDsc(readTestdata(t, "qemu-7.2/qemu_7.2+dfsg-7+deb12u18.dsc"))
	if err != nil {
		t.Fatal(err)
	}
	if d.Source != "qemu" || d.Version != "1:7.2+dfsg-7+deb12u18" || d.Upstream() != "7.2+dfsg" || d.Format != "3.0 (quilt)" {
		t.Errorf("dsc = %+v (upstream %s)", d, d.Upstream())
	}
	orig, ok := d.Find(ReOrigTarball)
	if !ok || orig.Name != "qemu_7.2+dfsg.orig.tar.xz" || orig.Size != 23523172 ||
		orig.SHA256 != "91aca71520040edc40b8d437aa3004dae614f58e286cf653ee8996c07af2962f" {
		t.Errorf("orig = %+v", orig)
	}
	if deb, ok := d.Find(ReDebianTar); !ok || deb.Name != "qemu_7.2+dfsg-7+deb12u18.debian.tar.xz" {
		t.Errorf("debian tarball = %+v", deb)
	}
	if _, err := ParseDsc("Source: x\n"); err == nil {
		t.Error("a .dsc without files accepted")
	}
	bad := "Source: x\nVersion: 1\nChecksums-Sha256:\n " + strings.Repeat("a", 64) + " 1 ../../etc/passwd\n"
	if _, err := ParseDsc(bad); err == nil {
		t.Error("a file name with a folder accepted")
	}
}

// The real `apt-cache showsrc` and `apt-cache madison` of the tree on a
// bookworm host reading bookworm, trixie, forky and sid (with -updates
// and -security), joined: every version once, with its suites in the
// tree's order and its files' URLs.
func TestJoinRealShowsrcAndMadison(t *testing.T) {
	tree := &Tree{Suites: []Suite{{Name: "bookworm"}, {Name: "bookworm-updates"}, {Name: "bookworm-security"},
		{Name: "trixie"}, {Name: "trixie-updates"}, {Name: "trixie-security"}, {Name: "forky"}, {Name: "sid"}}}
	vs, err := tree.joinSources("qemu", readTestdata(t, "showsrc-qemu-suites.txt"), readTestdata(t, "madison-qemu.txt"))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, v := range vs {
		got = append(got, fmt.Sprintf("%s %v", v.Version, v.Suites))
	}
	want := []string{
		"1:11.1.3+ds-1 [sid]", "1:11.1.2+ds-3 [forky sid]", "1:10.2.2+ds-1 [sid]",
		"1:10.0.13+ds-0+deb13u1 [trixie]", "1:10.0.2+ds-2+deb13u1 [trixie-security]",
		"1:7.2+dfsg-7+deb12u18 [bookworm]", "1:7.2+dfsg-7+deb12u15 [bookworm-security]",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	for _, v := range vs {
		if v.Version == "1:7.2+dfsg-7+deb12u15" {
			orig, _ := v.Find(ReOrigTarball)
			if orig.URL != "http://deb.debian.org/debian-security/pool/updates/main/q/qemu/qemu_7.2+dfsg.orig.tar.xz" {
				t.Errorf("url %s", orig.URL)
			}
		}
		if len(v.Files) != 3 {
			t.Errorf("%s: %d files", v.Version, len(v.Files))
		}
	}
	// The older single-suite excerpt parses the same way.
	old, err := parseSourceStanzas(readTestdata(t, "showsrc-qemu.txt"), "qemu")
	if err != nil || len(old) != 2 || old[0].Version != "1:7.2+dfsg-7+deb12u18" || old[1].Directory != "pool/updates/main/q/qemu" {
		t.Errorf("old excerpt: %+v %v", old, err)
	}
}

func TestJoinRealBinaries(t *testing.T) {
	tree := &Tree{Architectures: []string{"amd64"}, Suites: []Suite{{Name: "bookworm"}, {Name: "trixie"}, {Name: "forky"}, {Name: "sid"}}}
	bs := tree.joinBinaries("seabios", readTestdata(t, "show-seabios.txt"), readTestdata(t, "madison-seabios.txt"))
	var got []string
	for _, b := range bs {
		got = append(got, fmt.Sprintf("%s %s %v %s", b.Version, b.Architecture, b.Suites, b.File.Name))
	}
	want := []string{"1.17.0-1 all [forky sid] seabios_1.17.0-1_all.deb", "1.16.3-2 all [trixie] seabios_1.16.3-2_all.deb",
		"1.16.2-1 all [bookworm] seabios_1.16.2-1_all.deb"}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if bs[0].File.URL != "http://deb.debian.org/debian/pool/main/s/seabios/seabios_1.17.0-1_all.deb" || bs[0].File.Size != 158720 || len(bs[0].File.SHA256) != 64 {
		t.Errorf("file %+v", bs[0].File)
	}
}

func TestParseParagraphsSigned(t *testing.T) {
	text := "-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA512\n\nSource: a\nVersion: 1\nChecksums-Sha256:\n " +
		strings.Repeat("b", 64) + " 3 a_1.dsc\n\n-----BEGIN PGP SIGNATURE-----\n\nxyz\n-----END PGP SIGNATURE-----\n"
	ps := ParseParagraphs(text)
	if len(ps) != 1 || ps[0].Get("source") != "a" || !strings.Contains(ps[0].Get("Checksums-Sha256"), "a_1.dsc") {
		t.Errorf("%+v", ps)
	}
}

// apt's own output when sid lists a version whose files the archive does
// not serve.
func TestMissingFilesFromRealOutput(t *testing.T) {
	miss := missingFiles(strings.Split(readTestdata(t, "apt-source-404.txt"), "\n"))
	if len(miss) != 3 || miss[0].Name != "qemu_11.1.3+ds-1.dsc" || miss[1].Name != "qemu_11.1.3+ds.orig.tar.xz" || !strings.HasPrefix(miss[0].Status, "404") {
		t.Errorf("%+v", miss)
	}
	e := &MissingFileError{Package: "qemu", Version: "1:11.1.3+ds-1", Files: miss[:1]}
	if e.Error() != "qemu 1:11.1.3+ds-1 is listed, but the archive does not serve qemu_11.1.3+ds-1.dsc (404 Not Found)" {
		t.Error(e.Error())
	}
}

func TestCarriedSettings(t *testing.T) {
	got := carriedSettings(readTestdata(t, "apt-config-dump.txt") + "Acquire::http::Proxy \"http://proxy:3128/\";\nAcquire::http \"\";\nAPT::Hooks \"rm -rf /\";\n")
	want := []string{`Acquire::Check-Valid-Until "false";`, `Acquire::Check-Date "false";`, `Acquire::http::Proxy "http://proxy:3128/";`}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got %q", got)
	}
}

func TestProxiesOf(t *testing.T) {
	p := proxiesOf([]string{`Acquire::http::Proxy "http://proxy:3128/";`, `Acquire::http::Proxy::deb.debian.org "DIRECT";`, `Acquire::Check-Date "false";`})
	if len(p) != 1 || p["http"] != "http://proxy:3128/" {
		t.Errorf("%v", p)
	}
}
