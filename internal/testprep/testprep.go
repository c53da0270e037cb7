// Package testprep readies a machine for the test suite, the way the
// setup step readies it for the main job: it makes sure every tool the
// tests run is there (on Debian/Ubuntu as root it installs what is
// missing, from the one list internal/host keeps; elsewhere it stops
// before any test runs and gives the exact command), then gathers the real
// inputs some tests need but may not download themselves (tests make no
// network traffic): the source tarballs of the libraries the deps tests
// build for real, and the Debian firmware packages internal/bundle's
// table test looks into. It is what `go run mage.go test` does first.
package testprep

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"qemupack/internal/atomicfile"
	"qemupack/internal/config"
	"qemupack/internal/debian"
	"qemupack/internal/host"
	"qemupack/internal/recipe"
	"qemupack/internal/source"
)

// Jobs are the host jobs the test suite needs beyond the build toolchain:
// its own tools, and wine, which the smoke tests run.
var Jobs = []host.Job{host.JobSmoke, host.JobTest}

// Recipes are the library recipes whose tarballs the deps tests build.
var Recipes = []string{"libffi", "pcre2"}

// MirrorEnv is the variable the deps tests read the folder from.
const MirrorEnv = config.EnvTestMirror

// Options are Prepare's ways into the machine (tests fake them).
type Options struct {
	Host    host.Options    // the probe's
	Fetcher *source.Fetcher // nil: the cache's sources folder, the mirror, upstream, Debian
}

// Prepare sets the host up for the tests and gathers their inputs. It
// returns the environment the tests need (KEY=VALUE pairs).
func Prepare(ctx context.Context, cfg config.Config, o Options, out io.Writer) ([]string, error) {
	if err := SetupHost(ctx, cfg, o.Host, out); err != nil {
		return nil, err
	}
	env, err := Inputs(ctx, cfg, o.Fetcher, out)
	if err != nil || cfg.TestMirror != "" {
		return env, err // a folder the user names is used as it is
	}
	return env, FirmwareDebs(ctx, cfg, filepath.Join(cfg.CacheDir, "test-mirror"), out)
}

// SetupHost probes the toolchain and the test suite's needs and installs
// what is missing (see host.Setup); the error carries the install command
// when it may not or cannot install.
func SetupHost(ctx context.Context, cfg config.Config, ho host.Options, out io.Writer) error {
	ho.Jobs = Jobs
	if ho.Log == nil {
		ho.Log = func(s string) { fmt.Fprintln(out, s) }
	}
	probe := func() (host.Report, error) { return host.Probe(ctx, cfg, ho) }
	rep, err := probe()
	if err != nil {
		return fmt.Errorf("test: %w", err)
	}
	_, installed, err := host.Complete(ctx, rep, probe)
	if len(installed) > 0 {
		fmt.Fprintf(out, "test: installed %s\n", strings.Join(installed, " "))
	}
	if err != nil {
		return fmt.Errorf("test: this machine lacks what the tests need, so no test ran: %w", err)
	}
	return nil
}

// Inputs fills <cache>/test-mirror (or QEMUPACK_TEST_MIRROR's folder, when
// set, which is used as it is) with the tarballs of Recipes, under the
// names Debian gives them (<pkg>_<version>.orig.tar.*), each verified
// against its recipe's sha256. They come the way the deps step gets them:
// the cache, QEMUPACK_MIRROR, upstream, or Debian's source package through
// the private apt tree.
func Inputs(ctx context.Context, cfg config.Config, f *source.Fetcher, out io.Writer) ([]string, error) {
	if cfg.TestMirror != "" {
		return []string{MirrorEnv + "=" + cfg.TestMirror}, nil
	}
	dir := filepath.Join(cfg.CacheDir, "test-mirror")
	want, err := Tarballs(cfg.Root)
	if err != nil {
		return nil, err
	}
	if f == nil {
		say := func(s string) { fmt.Fprintln(out, "test inputs: "+s) }
		f = &source.Fetcher{
			CacheDir: filepath.Join(cfg.CacheDir, "sources"),
			Mirror:   cfg.Mirror,
			Offline:  cfg.Offline,
			Debian:   debianArchive(cfg, say),
			Progress: say,
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("test inputs: %w", err)
	}
	for _, t := range want {
		dst := filepath.Join(dir, MirrorName(t))
		if source.Verify(dst, t.SHA256) == nil {
			continue
		}
		p, err := f.Fetch(ctx, t)
		if err != nil {
			return nil, fmt.Errorf("test inputs: %w", err)
		}
		if err := atomicfile.Copy(p, dst); err != nil {
			return nil, fmt.Errorf("test inputs: %w", err)
		}
		fmt.Fprintf(out, "test inputs: %s in %s\n", MirrorName(t), dir)
	}
	return []string{MirrorEnv + "=" + dir}, nil
}

// debianArchive gets Debian source packages through the private apt tree
// under the cache (verified by apt against the archive's keyring; no
// deb-src on the system needed), opened only when a tarball is wanted.
func debianArchive(cfg config.Config, say func(string)) source.DebianFunc {
	var tree *debian.Tree
	return func(ctx context.Context, pkg, sha256, dir string) (map[string]string, error) {
		if tree == nil {
			t, err := debian.Open(ctx, cfg.CacheDir, debian.Options{Suites: cfg.Suites, Progress: say})
			if err != nil {
				return nil, err
			}
			tree = t
		}
		return tree.DownloadSourceFile(ctx, pkg, sha256, dir)
	}
}

// Tarballs are the tarballs of Recipes, read from the checkout's recipes.
func Tarballs(root string) ([]source.Tarball, error) {
	all, err := recipe.LoadDir(filepath.Join(root, recipe.Dir))
	if err != nil {
		return nil, fmt.Errorf("test inputs: %w", err)
	}
	var out []source.Tarball
	for _, name := range Recipes {
		var r *recipe.Recipe
		for i := range all {
			if all[i].Name == name {
				r = &all[i]
			}
		}
		if r == nil || len(r.Sources) == 0 {
			return nil, fmt.Errorf("test inputs: no recipe %s with a source in %s", name, filepath.Join(root, recipe.Dir))
		}
		s := r.Sources[0]
		out = append(out, source.Tarball{Name: r.Name + " " + r.Version, File: s.File, SHA256: s.SHA256, URL: s.URL,
			DebianPackage: s.DebianPackage, DebianFile: s.DebianFile})
	}
	return out, nil
}

// MirrorName is the tarball's name in the test mirror: Debian's when the
// recipe gives one (the deps tests look for those), else its own.
func MirrorName(t source.Tarball) string {
	if t.DebianFile != "" {
		return t.DebianFile
	}
	return t.File
}
