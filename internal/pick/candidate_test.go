package pick

import "testing"

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
