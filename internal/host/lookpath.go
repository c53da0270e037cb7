package host

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// lookPath finds name in the PATH value given (not the process's own, so
// tests can hand a fake PATH). A name with a separator is taken as a path.
// On Windows the .exe form is tried first (Cygwin's tools are .exe files).
func lookPath(name, pathEnv, goos string) (string, error) {
	candidates := []string{name}
	if goos == "windows" && !strings.HasSuffix(strings.ToLower(name), ".exe") {
		candidates = []string{name + ".exe", name}
	}
	if strings.ContainsAny(name, `/\`) {
		for _, c := range candidates {
			if isExecutable(c, goos) {
				return c, nil
			}
		}
		return "", fmt.Errorf("%s: no such program", name)
	}
	for _, dir := range filepath.SplitList(pathEnv) {
		if dir == "" {
			dir = "."
		}
		for _, c := range candidates {
			p := filepath.Join(dir, c)
			if isExecutable(p, goos) {
				return p, nil
			}
		}
	}
	return "", errors.New(name + ": not found on PATH")
}

func isExecutable(p, goos string) bool {
	fi, err := os.Stat(p)
	if err != nil || fi.IsDir() {
		return false
	}
	return goos == "windows" || fi.Mode()&0o111 != 0
}
