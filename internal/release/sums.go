package release

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"qemupack/internal/atomicfile"
)

// SumsFile is the checksum list's name (the `sha256sum -c` format).
const SumsFile = "SHA256SUMS"

// WriteAllSums writes dir/SHA256SUMS listing every regular file at the top
// of dir (itself and dot-files left out), sorted by name, atomically, and
// returns the names listed. A release job runs it once over the files all
// matrix jobs produced.
func WriteAllSums(dir string) ([]string, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("sums: %w", err)
	}
	var names []string
	for _, e := range ents {
		if e.Type().IsRegular() && e.Name() != SumsFile && !strings.HasPrefix(e.Name(), ".") {
			names = append(names, e.Name())
		}
	}
	if len(names) == 0 {
		return nil, fmt.Errorf("sums: %s holds no files to list", dir)
	}
	sort.Strings(names)
	var b strings.Builder
	for _, n := range names {
		sum, err := fileSHA256(filepath.Join(dir, n))
		if err != nil {
			return nil, fmt.Errorf("sums: %w", err)
		}
		fmt.Fprintf(&b, "%s  %s\n", sum, n)
	}
	if err := atomicfile.WriteFile(filepath.Join(dir, SumsFile), []byte(b.String()), 0o644); err != nil {
		return nil, fmt.Errorf("sums: %w", err)
	}
	return names, nil
}

func fileSHA256(p string) (string, error) {
	f, err := os.Open(p)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("read %s: %w", p, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
