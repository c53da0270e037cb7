package xbuild

import (
	"encoding/json"
	"fmt"
	"path"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
)

// introTarget is the part of `meson introspect --targets` we read.
type introTarget struct {
	Name      string   `json:"name"`
	Type      string   `json:"type"`
	Filename  []string `json:"filename"`
	Installed bool     `json:"installed"`
}

// ShippedTargets returns the ninja targets (build files relative to the
// build folder, sorted) of everything meson would install: the emulators,
// the tools and generated data, and none of the unit tests. buildDir is
// the build folder as meson saw it (a Cygwin path under Cygwin).
func ShippedTargets(introspectJSON []byte, buildDir string) ([]string, error) {
	var ts []introTarget
	if err := json.Unmarshal(introspectJSON, &ts); err != nil {
		return nil, fmt.Errorf("meson introspect: %w", err)
	}
	root := strings.TrimSuffix(toSlash(buildDir), "/") + "/"
	seen := map[string]bool{}
	var out []string
	for _, t := range ts {
		if !t.Installed {
			continue
		}
		for _, f := range t.Filename {
			f = toSlash(f)
			rel := strings.TrimPrefix(f, root)
			if rel == f || rel == "" {
				return nil, fmt.Errorf("meson introspect: target %s builds %s, outside the build folder %s", t.Name, f, buildDir)
			}
			rel = path.Clean(rel)
			if !seen[rel] {
				seen[rel] = true
				out = append(out, rel)
			}
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("meson introspect: no installed targets")
	}
	sort.Strings(out)
	return out, nil
}

func toSlash(p string) string { return strings.ReplaceAll(p, `\`, "/") }

var ninjaStep = regexp.MustCompile(`^\[(\d+)/(\d+)\] (.*)$`)

// Progress turns ninja's "[N/M] description" lines into throttled progress
// lines for the user: at most one per Every, plus the last step.
type Progress struct {
	Every time.Duration
	Print func(string)
	Now   func() time.Time // default time.Now

	last       time.Time
	Done, Tot  int
	LastAction string
}

// Line takes one line of ninja output.
func (p *Progress) Line(line string) {
	m := ninjaStep.FindStringSubmatch(line)
	if m == nil {
		return
	}
	n, _ := strconv.Atoi(m[1])
	tot, _ := strconv.Atoi(m[2])
	p.Done, p.Tot, p.LastAction = n, tot, m[3]
	now := time.Now
	if p.Now != nil {
		now = p.Now
	}
	t := now()
	if n == tot || p.last.IsZero() || t.Sub(p.last) >= p.Every {
		p.last = t
		if p.Print != nil {
			p.Print(fmt.Sprintf("[%d/%d] %s", n, tot, shorten(m[3], 100)))
		}
	}
}

func shorten(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n-3] + "..."
}
