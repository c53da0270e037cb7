package qversion

import "testing"

func TestAtLeast(t *testing.T) {
	for _, c := range []struct {
		have, min string
		want      bool
	}{
		{"1.0.1", "1.5.0", false}, {"1.7.0", "1.5", true}, {"2.74.6", "2.66.0", true},
		{"1.2.13", "", true}, {"", "", true}, {"weird", "weird", true},
		// An unreadable version passes no minimum (pick and deps used to
		// disagree here).
		{"weird", "1.0", false}, {"1.0", "weird", false}, {"", "1.0", false},
	} {
		if got := AtLeast(c.have, c.min); got != c.want {
			t.Errorf("AtLeast(%q, %q) = %v", c.have, c.min, got)
		}
	}
}

func TestCandidates(t *testing.T) {
	for v, want := range map[string]bool{"9.0.90": true, "9.2.91": true, "10.0.0-rc1": true, "10.0.0": false, "7.2.22": false, "x.y": true} {
		if IsPrerelease(v) != want {
			t.Errorf("IsPrerelease(%s) = %v", v, !want)
		}
	}
	for v, want := range map[string]string{"9.0.90": "9.1.0", "9.2.91": "10.0.0", "10.1.92": "10.2.0", "9.0.9": "", "10.0.0": ""} {
		if got := CandidateOf(v); got != want {
			t.Errorf("CandidateOf(%s) = %q, want %q", v, got, want)
		}
	}
	n, err := Normalize("9.2.90")
	if err != nil || n.String() != "10.0.0-rc0" {
		t.Errorf("Normalize(9.2.90) = %v, %v", n, err)
	}
	if !Less("9.2.4", "10.0.0") || Less("10.0.0", "9.2.4") || Series("7.2.22") != "7.2" || !SameSeries("7.2.0", "7.2.22") || SameSeries("7", "7") {
		t.Error("Less/Series")
	}
}
