package pipeline

import (
	"archive/zip"
	"bufio"
	"fmt"
	"path"
	"strings"

	"qemupack/internal/profile"
)

// archiveFeatures are the features an archive's README.txt says it has
// (its "This build has:" list, one profile.Feature title a line), by the
// profile's names: the smoke runs the desk checks of those. An archive
// without the list (made before profiles) has none.
func archiveFeatures(archive string) ([]string, error) {
	zr, err := zip.OpenReader(archive)
	if err != nil {
		return nil, fmt.Errorf("smoke: %w", err)
	}
	defer zr.Close()
	byTitle := map[string]string{}
	for _, f := range profile.Features {
		byTitle[f.Title] = f.Name
	}
	for _, f := range zr.File {
		dir, name := path.Split(f.Name)
		if name != "README.txt" || strings.Count(dir, "/") != 1 {
			continue
		}
		rc, err := f.Open()
		if err != nil {
			return nil, fmt.Errorf("smoke: %s: %w", f.Name, err)
		}
		defer rc.Close()
		var out []string
		in := false
		sc := bufio.NewScanner(rc)
		for sc.Scan() {
			l := strings.TrimRight(sc.Text(), "\r")
			switch {
			case l == "This build has:":
				in = true
			case in && strings.HasPrefix(l, "  - "):
				t := strings.TrimPrefix(l, "  - ")
				n, ok := byTitle[t]
				if !ok {
					return nil, fmt.Errorf("smoke: %s lists %q, which no feature of internal/profile is called", f.Name, t)
				}
				out = append(out, n)
			case in:
				return out, sc.Err()
			}
		}
		return out, sc.Err()
	}
	return nil, nil
}
