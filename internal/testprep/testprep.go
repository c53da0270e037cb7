// Package testprep gathers, before the test suite runs, the real inputs some
// tests need but may not download themselves (tests make no network
// traffic): Debian's source tarballs of the libraries the deps tests build
// for real. It is what `go run mage.go test` does first.
package testprep

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"qemupack/internal/run"
)

// DebianSources are the source packages the deps tests build from, with the
// files of each the tests need.
var DebianSources = map[string][]string{
	"libffi": {"libffi_3.4.4.orig.tar.gz"},
	"pcre2":  {"pcre2_10.42.orig.tar.gz"},
}

// MirrorEnv is the variable the deps tests read the folder from.
const MirrorEnv = "QEMUPACK_TEST_MIRROR"

// Prepare fills <cacheDir>/test-mirror with the files in DebianSources that
// are missing there (apt-get source --download-only, so deb-src must be
// enabled) and returns the environment the tests need (KEY=VALUE pairs).
// A folder already given in QEMUPACK_TEST_MIRROR is used as it is.
func Prepare(ctx context.Context, cacheDir string, getenv func(string) string, out io.Writer) ([]string, error) {
	if dir := getenv(MirrorEnv); dir != "" {
		return []string{MirrorEnv + "=" + dir}, nil
	}
	dir := filepath.Join(cacheDir, "test-mirror")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("test inputs: %w", err)
	}
	for pkg, files := range DebianSources {
		if allPresent(dir, files) {
			continue
		}
		fmt.Fprintf(out, "test inputs: fetching Debian's source package %s into %s\n", pkg, dir)
		// apt-get exits non-zero when one file of a package is missing from
		// the archive; what matters is whether the files we need came.
		err := run.Run(ctx, run.Cmd{
			Args: []string{"apt-get", "source", "--download-only", pkg},
			Dir:  dir,
			Env:  run.Environ("LC_ALL=C"),
		})
		if !allPresent(dir, files) {
			return nil, fmt.Errorf("test inputs: apt-get source %s did not give %v (is deb-src enabled? run scripts/setup-debian.sh as root): %v", pkg, files, err)
		}
	}
	return []string{MirrorEnv + "=" + dir}, nil
}

func allPresent(dir string, files []string) bool {
	for _, f := range files {
		if st, err := os.Stat(filepath.Join(dir, f)); err != nil || st.Size() == 0 {
			return false
		}
	}
	return true
}
