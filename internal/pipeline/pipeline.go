// Package pipeline is qemupack's main job as one ordered list of steps that
// share one context (Run): probe the host, set it up, pick the release,
// prepare its sources and build the libraries (side by side), cross-build
// QEMU, bundle the archive, smoke-test it, make the release files. Each
// step reads what earlier steps put into Run and writes its own result
// there; no step looks for another step's output on disk. A target runs
// the pipeline up to its step (Targets).
package pipeline

import (
	"context"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"qemupack/internal/bundle"
	"qemupack/internal/config"
	"qemupack/internal/deps"
	"qemupack/internal/host"
	"qemupack/internal/pick"
	"qemupack/internal/qemusrc"
	"qemupack/internal/release"
	"qemupack/internal/smoke"
	"qemupack/internal/stepcache"
	"qemupack/internal/xbuild"
)

// Step is one step of the main job.
type Step struct {
	Name  string
	Needs []string // steps whose results this one reads
	Doc   string   // one line for `go run mage.go -l` and the README
	Run   func(ctx context.Context, r *Run) error
}

// Steps is the main job, in order. A step starts when the steps it needs
// are done, so sources and deps run side by side.
var Steps = []Step{
	{Name: "probe", Doc: "the host: tools, python, mingw sysroots and their libraries", Run: probe},
	{Name: "setup", Needs: []string{"probe"}, Doc: "installs what the probe found missing (as root on Debian/Ubuntu)", Run: setup},
	{Name: "pick", Needs: []string{"setup"}, Doc: "the newest QEMU release this host can build and obtain", Run: pickRelease},
	{Name: "sources", Needs: []string{"pick"}, Doc: "QEMU's source tree, verified and patched", Run: sources},
	{Name: "deps", Needs: []string{"pick"}, Doc: "the mingw libraries the host lacks, from recipes", Run: buildDeps},
	{Name: "build", Needs: []string{"sources", "deps"}, Doc: "QEMU cross-built and staged", Run: build},
	{Name: "bundle", Needs: []string{"build"}, Doc: "the archive: programs, DLL closure, firmware, licences", Run: bundleArchive},
	{Name: "smoke", Needs: []string{"bundle"}, Doc: "the archive unpacked and run under wine (or Windows)", Run: smokeTest},
	{Name: "release", Needs: []string{"smoke"}, Doc: "installer, SBOM, signatures, SHA256SUMS", Run: releaseFiles},
}

// Run is the context every step reads and writes.
type Run struct {
	Config config.Config
	Cache  *stepcache.Cache
	// Skip names steps to leave out (their dependents run as if they were done).
	Skip map[string]bool
	// Release says what the release step makes.
	Release ReleaseOptions
	// Want are the pkg-config modules (or recipe names) the libraries
	// must provide (nil: what QEMU's Windows build and the profile's
	// features need, see want).
	Want []string

	out     io.Writer
	mu      sync.Mutex
	held    []*stepcache.Entry
	planned map[string]bool // the steps this run will run (skipped ones left out)

	// Results, in step order.
	Host      host.Report
	Installed []string
	Pick      pick.Result
	PickErr   error // kept when a target shows the pick's table even though nothing fits
	Source    qemusrc.Tree
	Deps      *deps.Stack
	Build     xbuild.Result
	Bundle    *bundle.Result
	Smoke     *smoke.Report
	SmokeHit  bool // the archive passed the same smoke test before; nothing ran now
	Outputs   release.Outputs
	Done      []string // steps finished, in the order they finished

	// Targets are QEMU_TARGETS checked against the prepared tree ("all"
	// resolved): what the build, the firmware and the archive are for.
	Targets []string

	// FirmwarePackages are where the firmware the stage lacks comes from:
	// Debian binary packages of the QEMU source's own suite (seabios,
	// ipxe-qemu; bundle.FirmwarePackagesFor), unpacked in the cache
	// (bundle.FirmwareFromDeb).
	FirmwarePackages []bundle.Firmware
	// PythonPackages are what the build's configure needs beyond the host
	// and the tree's wheels (xbuild.MissingPython: meson for a +ds tree of
	// QEMU 8.1+), Debian binary packages unpacked in the cache.
	PythonPackages []xbuild.PythonPackage
}

// New makes the context for one run with the settings cfg, printing
// progress to out.
func New(cfg config.Config, out io.Writer) *Run {
	if out == nil {
		out = io.Discard
	}
	return &Run{
		Config: cfg,
		Cache:  &stepcache.Cache{Root: cfg.CacheDir, Keep: cfg.CacheKeep},
		Skip:   map[string]bool{},
		out:    out,
	}
}

// Say prints one progress line (whole, even when steps run side by side).
func (r *Run) Say(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	fmt.Fprintf(r.out, format+"\n", args...)
}

// Line is Say for a line already made.
func (r *Run) Line(s string) { r.Say("%s", s) }

// hold keeps a cache entry from being pruned until the run ends.
func (r *Run) hold(e *stepcache.Entry) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.held = append(r.held, e)
}

// Close releases the cache entries the run used and prunes old entries.
func (r *Run) Close() {
	r.mu.Lock()
	held := r.held
	r.held = nil
	r.mu.Unlock()
	for _, e := range held {
		e.Release()
	}
	if r.Config.CacheDir == "" {
		return
	}
	r.Cache.Log = r.Line
	pruned, err := r.Cache.Prune()
	if err != nil {
		r.Say("cache: pruning: %v", err)
	}
	if len(pruned) > 0 {
		var names []string
		for _, p := range pruned {
			names = append(names, p.Kind+"/"+p.Name)
		}
		r.Say("cache: removed %d old entries (%s); %s keeps %d of each", len(pruned), strings.Join(names, ", "), config.EnvCacheKeep, r.Cache.Keep)
	}
}

// Lookup returns the step called name.
func Lookup(name string) (Step, bool) {
	for _, s := range Steps {
		if s.Name == name {
			return s, true
		}
	}
	return Step{}, false
}

// plan returns the steps `last` needs, itself included, in list order.
func plan(steps []Step, last string) ([]Step, error) {
	byName := map[string]Step{}
	for _, s := range steps {
		byName[s.Name] = s
	}
	if _, ok := byName[last]; !ok {
		var names []string
		for _, s := range steps {
			names = append(names, s.Name)
		}
		return nil, fmt.Errorf("pipeline: no step %q (steps: %s)", last, strings.Join(names, ", "))
	}
	want := map[string]bool{}
	var mark func(n string)
	mark = func(n string) {
		if want[n] {
			return
		}
		want[n] = true
		for _, d := range byName[n].Needs {
			mark(d)
		}
	}
	mark(last)
	var out []Step
	for _, s := range steps {
		if want[s.Name] {
			out = append(out, s)
		}
	}
	return out, nil
}

// To runs every step `last` needs, and `last` itself. Steps whose needs
// are met run side by side; the first failure stops the others.
func (r *Run) To(ctx context.Context, last string) error {
	return r.runSteps(ctx, Steps, last)
}

func (r *Run) runSteps(ctx context.Context, steps []Step, last string) error {
	todo, err := plan(steps, last)
	if err != nil {
		return err
	}
	r.planned = map[string]bool{}
	for _, s := range todo {
		r.planned[s.Name] = !r.Skip[s.Name]
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	type result struct {
		name string
		err  error
	}
	results := make(chan result)
	done := map[string]bool{}
	started := map[string]bool{}
	running := 0
	var firstErr error
	for {
		// Start every step whose needs are met; a skipped step counts as
		// done at once, which may make others ready: scan again.
		for again := firstErr == nil; again; {
			again = false
			for _, s := range todo {
				if started[s.Name] || !allDone(s.Needs, done) {
					continue
				}
				started[s.Name] = true
				if r.Skip[s.Name] {
					done[s.Name] = true
					again = true
					continue
				}
				running++
				go func(s Step) {
					err := s.Run(ctx, r)
					if err != nil && !strings.HasPrefix(err.Error(), s.Name+":") {
						err = fmt.Errorf("%s: %w", s.Name, err)
					}
					results <- result{s.Name, err}
				}(s)
			}
		}
		if running == 0 {
			break
		}
		res := <-results
		running--
		if res.err != nil {
			if firstErr == nil {
				firstErr = res.err
				cancel()
			}
			continue
		}
		done[res.name] = true
		r.mu.Lock()
		r.Done = append(r.Done, res.name)
		r.mu.Unlock()
	}
	if firstErr != nil {
		return firstErr
	}
	if !done[last] {
		return fmt.Errorf("pipeline: %s did not run", last)
	}
	return nil
}

func allDone(names []string, done map[string]bool) bool {
	for _, n := range names {
		if !done[n] {
			return false
		}
	}
	return true
}

// since is a duration for a summary line.
func since(t time.Time) time.Duration { return time.Since(t).Round(100 * time.Millisecond) }
