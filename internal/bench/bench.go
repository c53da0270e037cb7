// Package bench measures what issue 14 promises, each figure a ratio of two
// things measured in the same run: the DLL closure with our PE reader
// against an `objdump -p` walk (the same DLLs asserted), a no-op `bundle`
// against `mage -l`, the archive stripped against unstripped, and the cold
// main job in an empty cache against a plain shell script generated from
// the same recipes and QEMU configure line (Script). QEMUPACK_BENCH picks
// the parts; the cold one takes about an hour on 2 cores.
package bench

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"qemupack/internal/bundle"
	"qemupack/internal/config"
	"qemupack/internal/pe"
	"qemupack/internal/pipeline"
	"qemupack/internal/stepcache"
)

// Options say what to measure and where to print.
type Options struct {
	Config config.Config
	Out    io.Writer
	// Mage is the command that runs a target in Config.Root (default
	// go run mage.go).
	Mage []string
	// Runs is how many timed runs the no-op part makes of each command
	// (default 3; the median counts).
	Runs int
}

// Figure is one measured ratio.
type Figure struct {
	Part  string
	Ratio float64
	Line  string // the line printed
}

func (o Options) say(format string, args ...any) { fmt.Fprintf(o.Out, format+"\n", args...) }

// Run measures the parts Config.Bench names and prints one line per
// figure, each a ratio of two measurements taken in this run.
func Run(ctx context.Context, o Options) ([]Figure, error) {
	if o.Out == nil {
		o.Out = io.Discard
	}
	if len(o.Mage) == 0 {
		o.Mage = []string{"go", "run", "mage.go"}
	}
	if o.Runs <= 0 {
		o.Runs = 3
	}
	parts := o.Config.Bench
	var figs []Figure
	var r *pipeline.Run
	if slices.Contains(parts, "closure") || slices.Contains(parts, "size") || slices.Contains(parts, "cold") {
		// The main job up to the archive in the user's cache: a cache hit
		// when it was built before.
		o.say("bench: the main job up to the archive (built now unless the cache has it)")
		r = pipeline.New(o.Config, prefixed{o.Out, "  "})
		err := r.To(ctx, "bundle")
		defer r.Close()
		if err != nil {
			return nil, err
		}
	}
	for _, p := range parts {
		var f []Figure
		var err error
		switch p {
		case "closure":
			f, err = closure(ctx, o, r)
		case "size":
			f, err = size(ctx, o, r)
		case "noop":
			f, err = noop(ctx, o)
		case "cold":
			f, err = cold(ctx, o, r)
		}
		if err != nil {
			return figs, fmt.Errorf("bench %s: %w", p, err)
		}
		figs = append(figs, f...)
	}
	return figs, nil
}

// closure times the DLL closure of the staged build with our reader and
// with one `objdump -p` per file, and checks both find the same DLLs
// (objdump shows no delay-load imports of PE32+ files: those are compared
// without them, and named).
func closure(ctx context.Context, o Options, r *pipeline.Run) ([]Figure, error) {
	roots, err := bundle.Roots(r.Build.StageDir)
	if err != nil {
		return nil, err
	}
	f, err := ClosureFigure(ctx, o.Config.CrossPrefix+"objdump", roots, r.Host.DLLSearch([]string{r.Deps.Dir}))
	if err != nil {
		return nil, err
	}
	o.say("%s", f.Line)
	return []Figure{f}, nil
}

// ClosureFigure times the closure of roots with our reader (median of 5)
// and with objdump (median of 3), and fails unless both find the same DLLs.
func ClosureFigure(ctx context.Context, objdump string, roots []string, search []bundle.SearchDir) (Figure, error) {
	var ours, base, noDelay *bundle.Closure
	tOurs, err := median(5, func() (err error) { ours, err = bundle.Resolve(roots, search); return })
	if err != nil {
		return Figure{}, err
	}
	tBase, err := median(3, func() (err error) {
		base, err = bundle.ResolveWith(roots, search, func(p string) (*pe.File, error) { return pe.ObjdumpImports(ctx, objdump, p) })
		return
	})
	if err != nil {
		return Figure{}, err
	}
	if noDelay, err = bundle.ResolveWith(roots, search, pe.OpenNoDelay); err != nil {
		return Figure{}, err
	}
	if !slices.Equal(base.Names(), noDelay.Names()) {
		return Figure{}, fmt.Errorf("the objdump walk found %v, our reader (without delay imports) %v", base.Names(), noDelay.Names())
	}
	var delayOnly []string
	for _, n := range ours.Names() {
		if !slices.Contains(base.Names(), n) {
			delayOnly = append(delayOnly, n)
		}
	}
	ratio := float64(tBase) / float64(tOurs)
	line := fmt.Sprintf("closure: our PE reader %v, objdump -p per file %v for %d files: %.1fx faster; the same %d DLLs",
		tOurs.Round(time.Millisecond), tBase.Round(time.Millisecond), len(roots)+len(ours.DLLs), ratio, len(base.DLLs))
	if len(delayOnly) > 0 {
		line += fmt.Sprintf(" (and %s, delay-loaded, which objdump does not show)", strings.Join(delayOnly, " "))
	}
	return Figure{Part: "closure", Ratio: ratio, Line: line}, nil
}

// size compares the archive the main job made (stripped) with the same
// layout unstripped, written to a temporary folder.
func size(ctx context.Context, o Options, r *pipeline.Run) ([]Figure, error) {
	b := r.Bundle
	tmp, err := os.MkdirTemp(o.Config.CacheDir, ".bench-size-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	in, err := r.BundleInput(ctx)
	if err != nil {
		return nil, err
	}
	// Unstripped, into a cache of its own: the licence lookups still need
	// a step cache (they unpack the libraries' source tarballs), and the
	// main cache must not gain an archive entry of the same name that its
	// pruning could prefer to the real one.
	in.Strip, in.DistDir, in.Log = nil, tmp, nil
	in.Cache = &stepcache.Cache{Root: filepath.Join(tmp, "cache")}
	plain, err := bundle.Bundle(ctx, in)
	if err != nil {
		return nil, err
	}
	unpacked := func(s bundle.Spec) int64 {
		var n int64
		for _, e := range s.Entries {
			if e.Source == "" {
				n += int64(len(e.Data))
			} else if st, err := os.Stat(e.Source); err == nil {
				n += st.Size()
			}
		}
		return n
	}
	ratio := float64(b.Archive.Size) / float64(plain.Archive.Size)
	line := fmt.Sprintf("size: archive %.1f MB stripped, %.1f MB unstripped: %.0f%% of it (%.0f%% smaller); unpacked %.1f MB against %.1f MB; debug archive %.1f MB",
		mb(b.Archive.Size), mb(plain.Archive.Size), 100*ratio, 100*(1-ratio), mb(unpacked(b.Spec)), mb(unpacked(plain.Spec)), mb(b.Debug.Size))
	o.say("%s", line)
	return []Figure{{Part: "size", Ratio: ratio, Line: line}}, nil
}

func mb(n int64) float64 { return float64(n) / 1e6 }

// noop times a no-op `bundle` (everything cached: one untimed run first
// makes sure of it) against `mage -l`, which only parses the magefile, and
// against `catalog`, a target that only prints a file: what Mage costs to
// build and start any target (it relinks the magefile's program on every
// run so that a change anywhere in internal/ is seen). The three alternate,
// so a drifting machine weighs on all of them.
func noop(ctx context.Context, o Options) ([]Figure, error) {
	o.say("noop: one untimed bundle first, so that everything is cached")
	if out, err := o.mage(ctx, "bundle"); err != nil {
		return nil, fmt.Errorf("bundle: %w\n%s", err, tail(out, 20))
	}
	var tb, tl, tc []time.Duration
	for i := 0; i < o.Runs; i++ {
		t := time.Now()
		out, err := o.mage(ctx, "bundle")
		if err != nil {
			return nil, fmt.Errorf("bundle: %w\n%s", err, tail(out, 20))
		}
		tb = append(tb, time.Since(t))
		if !strings.Contains(out, "bundle: nothing changed since the last run") {
			return nil, fmt.Errorf("the rerun of bundle was not a no-op:\n%s", tail(out, 30))
		}
		t = time.Now()
		if out, err := o.mage(ctx, "-l"); err != nil {
			return nil, fmt.Errorf("mage -l: %w\n%s", err, tail(out, 20))
		}
		tl = append(tl, time.Since(t))
		t = time.Now()
		if out, err := o.mage(ctx, "catalog"); err != nil {
			return nil, fmt.Errorf("mage catalog: %w\n%s", err, tail(out, 20))
		}
		tc = append(tc, time.Since(t))
	}
	mb, ml, mc := med(tb), med(tl), med(tc)
	ratio := float64(mb) / float64(ml)
	r := func(d time.Duration) time.Duration { return d.Round(10 * time.Millisecond) }
	line := fmt.Sprintf("noop: bundle with nothing changed %v, mage -l %v (medians of %d): %.2fx", r(mb), r(ml), o.Runs, ratio)
	o.say("%s", line)
	line2 := fmt.Sprintf("noop: bundle with nothing changed %v, mage catalog (any target: Mage relinks and starts the program) %v: %.2fx", r(mb), r(mc), float64(mb)/float64(mc))
	o.say("%s", line2)
	return []Figure{{Part: "noop", Ratio: ratio, Line: line}, {Part: "noop-target", Ratio: float64(mb) / float64(mc), Line: line2}}, nil
}

func (o Options) mage(ctx context.Context, args ...string) (string, error) {
	return o.mageEnv(ctx, nil, args...)
}

func (o Options) mageEnv(ctx context.Context, env []string, args ...string) (string, error) {
	argv := append(append([]string{}, o.Mage...), args...)
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Dir = o.Config.Root
	if env != nil {
		cmd.Env = env
	}
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func median(n int, f func() error) (time.Duration, error) {
	var ds []time.Duration
	for i := 0; i < n; i++ {
		t := time.Now()
		if err := f(); err != nil {
			return 0, err
		}
		ds = append(ds, time.Since(t))
	}
	return med(ds), nil
}

func med(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

func tail(s string, n int) string {
	ls := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(ls) > n {
		ls = ls[len(ls)-n:]
	}
	return strings.Join(ls, "\n")
}

// prefixed indents the pipeline's progress under the bench's own lines.
type prefixed struct {
	w      io.Writer
	prefix string
}

func (p prefixed) Write(b []byte) (int, error) {
	for _, l := range strings.SplitAfter(string(b), "\n") {
		if l != "" {
			fmt.Fprint(p.w, p.prefix+l)
		}
	}
	return len(b), nil
}

// where is the folder the cold part works in.
func where(c config.Config) string { return filepath.Join(c.CacheDir, "bench") }
