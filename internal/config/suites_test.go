package config

import (
	"strings"
	"testing"
)

func TestSuites(t *testing.T) {
	for v, want := range map[string][]string{
		"":                  nil,
		"none":              {},
		"trixie sid":        {"trixie", "sid"},
		"trixie,sid":        {"trixie", "sid"},
		" noble-updates , ": {"noble-updates"},
	} {
		c, err := FromEnv("/tmp", env(map[string]string{EnvSuites: v}))
		if err != nil {
			t.Fatalf("%q: %v", v, err)
		}
		if (c.Suites == nil) != (want == nil) || strings.Join(c.Suites, " ") != strings.Join(want, " ") {
			t.Errorf("%q: %#v, want %#v", v, c.Suites, want)
		}
	}
	_, err := FromEnv("/tmp", env(map[string]string{EnvSuites: "trixie ../etc", EnvJobs: "x"}))
	if err == nil || !strings.Contains(err.Error(), `"../etc" is not a suite name`) || !strings.Contains(err.Error(), "JOBS") {
		t.Errorf("a bad suite among other bad settings: %v", err)
	}
}
