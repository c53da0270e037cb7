package host

import (
	"bufio"
	"fmt"
	"os"
	"strings"

	"github.com/hashicorp/go-version"
)

// PCFile is what qemupack needs from a pkg-config .pc file.
type PCFile struct {
	Path    string
	Name    string
	Version string
	Vars    map[string]string
}

// ReadPC reads a .pc file the way pkg-config does: variable lines
// (name=value), field lines (Name: value), ${var} expanded, # comments.
// A file with no Version field, or a version that is not a version, is an
// error naming the file: pkg-config itself would refuse it.
func ReadPC(path string) (PCFile, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return PCFile{}, fmt.Errorf("pkg-config file: %w", err)
	}
	pc, err := ParsePC(string(data))
	pc.Path = path
	if err != nil {
		return pc, fmt.Errorf("pkg-config file %s: %w", path, err)
	}
	return pc, nil
}

// ParsePC parses the text of a .pc file.
func ParsePC(text string) (PCFile, error) {
	pc := PCFile{Vars: map[string]string{}}
	fields := map[string]string{}
	sc := bufio.NewScanner(strings.NewReader(text))
	for sc.Scan() {
		line := sc.Text()
		if i := strings.IndexByte(line, '#'); i >= 0 {
			line = line[:i]
		}
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		// Whichever of '=' and ':' comes first decides what the line is.
		eq, colon := strings.IndexByte(line, '='), strings.IndexByte(line, ':')
		switch {
		case eq > 0 && (colon < 0 || eq < colon):
			k := strings.TrimSpace(line[:eq])
			pc.Vars[k] = expandPC(strings.TrimSpace(line[eq+1:]), pc.Vars)
		case colon > 0:
			k := strings.ToLower(strings.TrimSpace(line[:colon]))
			if _, dup := fields[k]; !dup {
				fields[k] = expandPC(strings.TrimSpace(line[colon+1:]), pc.Vars)
			}
		}
	}
	pc.Name = fields["name"]
	v, ok := fields["version"]
	if !ok || v == "" {
		return pc, fmt.Errorf("no Version field (pkg-config cannot use it; reinstall the library or fix the file)")
	}
	if _, err := version.NewVersion(v); err != nil {
		return pc, fmt.Errorf("Version %q is not a version number", v)
	}
	pc.Version = v
	return pc, nil
}

func expandPC(s string, vars map[string]string) string {
	var b strings.Builder
	for {
		i := strings.Index(s, "${")
		if i < 0 {
			b.WriteString(s)
			return b.String()
		}
		j := strings.IndexByte(s[i:], '}')
		if j < 0 {
			b.WriteString(s)
			return b.String()
		}
		b.WriteString(s[:i])
		b.WriteString(vars[s[i+2:i+j]])
		s = s[i+j+1:]
	}
}
