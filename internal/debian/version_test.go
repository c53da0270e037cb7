package debian

import "testing"

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
		{"1:11.1.3+ds-1", "1:11.1.2+ds-3", 1},
		{"1:10.0.13+ds-0+deb13u1", "1:10.0.2+ds-2+deb13u1", 1},
	} {
		if got := CompareDebian(c.a, c.b); got != c.want {
			t.Errorf("CompareDebian(%q, %q) = %d, want %d", c.a, c.b, got, c.want)
		}
		if got := CompareDebian(c.b, c.a); got != -c.want {
			t.Errorf("CompareDebian(%q, %q) = %d, want %d", c.b, c.a, got, -c.want)
		}
	}
	vs := []string{"1:7.2+dfsg-7+deb12u15", "1:10.2.2+ds-1", "1:7.2+dfsg-7+deb12u18", "1:10.0.13+ds-0+deb13u1"}
	SortVersionsDesc(vs)
	if vs[0] != "1:10.2.2+ds-1" || vs[3] != "1:7.2+dfsg-7+deb12u15" {
		t.Errorf("sorted: %v", vs)
	}
}

func TestUpstreamOfDebian(t *testing.T) {
	for in, want := range map[string]string{
		"1:7.2+dfsg-7+deb12u18":  "7.2.0",
		"1:8.2.2+ds-0ubuntu1.4":  "8.2.2",
		"1:6.2+dfsg-2ubuntu6.24": "6.2.0",
		"1:10.0.2+ds-1":          "10.0.2",
		"1:5.2+dfsg-11+deb11u3":  "5.2.0",
		"1:10.2.2+ds-1":          "10.2.2",
		"7.2+dfsg":               "7.2.0", // no revision: a native-looking version
	} {
		if got, err := UpstreamOfDebian(in); err != nil || got != want {
			t.Errorf("%s: %q %v, want %s", in, got, err, want)
		}
	}
	if _, err := UpstreamOfDebian("1:git20240101-1"); err == nil {
		t.Error("a version without X.Y must be an error")
	}
	if UpstreamPart("1:7.2+dfsg-7+deb12u18") != "7.2+dfsg" {
		t.Error(UpstreamPart("1:7.2+dfsg-7+deb12u18"))
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
