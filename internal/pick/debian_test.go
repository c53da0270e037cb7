package pick

import (
	"os"
	"path/filepath"
	"testing"
)

func TestCompareDebian(t *testing.T) {
	for _, c := range []struct {
		a, b string
		want int
	}{
		{"1:7.2+dfsg-7+deb12u18", "1:7.2+dfsg-7+deb12u15", 1},
		{"1:7.2+dfsg-7+deb12u9", "1:7.2+dfsg-7+deb12u10", -1},
		{"1:7.2+dfsg-7", "1:7.2+dfsg-7+deb12u1", -1},
		{"1:6.2+dfsg-2ubuntu6.24", "1:7.2+dfsg-7", -1},
		{"2:1.0-1", "1:9.9-1", 1},
		{"1.0~rc1-1", "1.0-1", -1},
		{"1:8.2.2+ds-0ubuntu1.4", "1:8.2.2+ds-0ubuntu1.10", -1},
		{"1:10.0.2+ds-1", "1:10.0.2+ds-1", 0},
		{"1.0a-1", "1.0-1", 1},
	} {
		if got := CompareDebian(c.a, c.b); got != c.want {
			t.Errorf("CompareDebian(%q, %q) = %d, want %d", c.a, c.b, got, c.want)
		}
		if got := CompareDebian(c.b, c.a); got != -c.want {
			t.Errorf("CompareDebian(%q, %q) = %d, want %d", c.b, c.a, got, -c.want)
		}
	}
}

func TestUpstreamOfDebian(t *testing.T) {
	for in, want := range map[string]string{
		"1:7.2+dfsg-7+deb12u18":  "7.2.0",
		"1:8.2.2+ds-0ubuntu1.4":  "8.2.2",
		"1:6.2+dfsg-2ubuntu6.24": "6.2.0",
		"1:10.0.2+ds-1":          "10.0.2",
		"1:5.2+dfsg-11+deb11u3":  "5.2.0",
	} {
		if got, err := UpstreamOfDebian(in); err != nil || got != want {
			t.Errorf("%s: %q %v, want %s", in, got, err, want)
		}
	}
	if _, err := UpstreamOfDebian("1:git20240101-1"); err == nil {
		t.Error("a version without X.Y must be an error")
	}
}

// The real `apt-cache showsrc qemu` of Debian 12 (two versions: the point
// release and the security archive), in reversed order too.
func TestParseShowsrc(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "..", "testdata", "pick", "showsrc-qemu.txt"))
	if err != nil {
		t.Fatal(err)
	}
	vs := ParseShowsrc(string(data), "qemu")
	if len(vs) != 2 || vs[0] != "1:7.2+dfsg-7+deb12u18" || vs[1] != "1:7.2+dfsg-7+deb12u15" {
		t.Errorf("versions %v", vs)
	}
	rev := "Package: qemu\nVersion: 1:7.2+dfsg-7+deb12u9\n\nPackage: qemu-other\nVersion: 9:9.9-9\n\nPackage: qemu\nVersion: 1:7.2+dfsg-7+deb12u12\n"
	if vs := ParseShowsrc(rev, "qemu"); len(vs) != 2 || vs[0] != "1:7.2+dfsg-7+deb12u12" {
		t.Errorf("versions %v", vs)
	}
	if vs := ParseShowsrc("", "qemu"); len(vs) != 0 {
		t.Errorf("empty: %v", vs)
	}
}

func TestParseQEMUVersion(t *testing.T) {
	up, deb := ParseQEMUVersion("QEMU emulator version 7.2.22 (Debian 1:7.2+dfsg-7+deb12u18+b3)\nCopyright (c) 2003-2022 Fabrice Bellard and the QEMU Project developers\n")
	if up != "7.2.22" || deb != "1:7.2+dfsg-7+deb12u18" {
		t.Errorf("%q %q", up, deb)
	}
	up, deb = ParseQEMUVersion("QEMU emulator version 9.2.0\n")
	if up != "9.2.0" || deb != "" {
		t.Errorf("upstream build: %q %q", up, deb)
	}
	if up, _ := ParseQEMUVersion("bash: qemu: not found"); up != "" {
		t.Errorf("garbage: %q", up)
	}
}

func TestCandidates(t *testing.T) {
	for v, want := range map[string]string{"9.0.90": "9.1.0", "9.2.91": "10.0.0", "7.1.93": "7.2.0", "9.2.0": "", "9.2.4": ""} {
		if got := candidateOf(v); got != want {
			t.Errorf("candidateOf(%s) = %q, want %q", v, got, want)
		}
		if IsCandidate(v) != (want != "") {
			t.Errorf("IsCandidate(%s) = %v", v, IsCandidate(v))
		}
	}
	if !IsCandidate("9.1.0-rc1") {
		t.Error("9.1.0-rc1 is a candidate")
	}
}
