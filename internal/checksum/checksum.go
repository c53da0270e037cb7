// Package checksum holds the sha256 of a file and the SHA256SUMS list
// beside the files of dist/ (the `sha256sum -c` format: "<hex>  <name>").
package checksum

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"qemupack/internal/atomicfile"
	"qemupack/internal/flock"
)

// SumsFile is the checksum list's name.
const SumsFile = "SHA256SUMS"

// File returns the hex sha256 of a file.
func File(path string) (string, error) {
	sum, _, err := FileSize(path)
	return sum, err
}

// FileSize returns the hex sha256 of a file and the number of bytes hashed.
func FileSize(path string) (string, int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", 0, fmt.Errorf("sha256: %w", err)
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return "", 0, fmt.Errorf("sha256 %s: %w", path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), n, nil
}

// Record sets name's line in dir/SHA256SUMS to sum, keeping the lines of
// the other files that still exist in dir, sorted by name, and replaces
// the file atomically. Each job that writes a file into dist/ records it.
func Record(dir, name, sum string) error {
	path := filepath.Join(dir, SumsFile)
	// Two runs recording into one dist/ take turns: each reads the lines
	// the other wrote.
	unlock, err := flock.Lock(context.Background(), filepath.Join(dir, "."+SumsFile+".lock"), nil)
	if err != nil {
		return fmt.Errorf("sums: %w", err)
	}
	defer unlock()
	lines := map[string]string{name: sum}
	if old, err := os.ReadFile(path); err == nil {
		for n, s := range Parse(old) {
			if n == name {
				continue
			}
			if _, err := os.Stat(filepath.Join(dir, n)); err == nil {
				lines[n] = s
			}
		}
	}
	return write(path, lines)
}

// WriteAll writes dir/SHA256SUMS listing every regular file at the top of
// dir (itself and dot-files left out), sorted by name, atomically, and
// returns the names listed. A release job runs it once over the files all
// matrix jobs produced.
func WriteAll(dir string) ([]string, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("sums: %w", err)
	}
	lines := map[string]string{}
	var names []string
	for _, e := range ents {
		if !e.Type().IsRegular() || e.Name() == SumsFile || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		sum, err := File(filepath.Join(dir, e.Name()))
		if err != nil {
			return nil, fmt.Errorf("sums: %w", err)
		}
		lines[e.Name()] = sum
		names = append(names, e.Name())
	}
	if len(names) == 0 {
		return nil, fmt.Errorf("sums: %s holds no files to list", dir)
	}
	sort.Strings(names)
	return names, write(filepath.Join(dir, SumsFile), lines)
}

// Parse reads a SHA256SUMS file's lines into name -> sum: "<sum>  <name>"
// (text mode) or "<sum> *<name>" (binary mode). Other lines, and names
// with a folder in them, are skipped.
func Parse(data []byte) map[string]string {
	out := map[string]string{}
	for _, l := range strings.Split(string(data), "\n") {
		s, n, ok := strings.Cut(strings.TrimSuffix(l, "\r"), " ")
		if !ok || (n == "" || n[0] != ' ' && n[0] != '*') {
			continue
		}
		n = n[1:]
		if s == "" || n == "" || strings.ContainsAny(n, "/\\") {
			continue
		}
		out[n] = s
	}
	return out
}

// write replaces path with lines, sorted by name. Temp files an
// interrupted earlier write left are removed first (dist/ has one writer).
func write(path string, lines map[string]string) error {
	if err := atomicfile.CleanStale(path); err != nil {
		return fmt.Errorf("sums: %w", err)
	}
	names := make([]string, 0, len(lines))
	for n := range lines {
		names = append(names, n)
	}
	sort.Strings(names)
	var b strings.Builder
	for _, n := range names {
		fmt.Fprintf(&b, "%s  %s\n", lines[n], n)
	}
	if err := atomicfile.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		return fmt.Errorf("sums: %w", err)
	}
	return nil
}
