package bundle

import (
	"qemupack/internal/stepcache"

	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"qemupack/internal/pe"
)

func median(f func() error, n int) (time.Duration, error) {
	var ds []time.Duration
	for i := 0; i < n; i++ {
		t := time.Now()
		if err := f(); err != nil {
			return 0, err
		}
		ds = append(ds, time.Since(t))
	}
	slices.Sort(ds)
	return ds[len(ds)/2], nil
}

// BenchmarkBundle prints, from one run: the DLL closure time of our reader
// against one objdump -p per file (same resulting set asserted), the
// archive size, and a no-op rerun's time against the full bundle, on the
// tiny mingw graph (the bench target measures a real QEMU build).
func BenchmarkBundle(b *testing.B) {
	what := "tiny mingw graph"
	w := newWorld(b)
	in := w.input(b, "")
	in.DistDir = b.TempDir()
	in.Cache = &stepcache.Cache{Root: b.TempDir()}
	roots, err := Roots(in.Stage)
	if err != nil {
		b.Fatal(err)
	}
	var ours, base, noDelay *Closure
	tOurs, err := median(func() (err error) { ours, err = Resolve(roots, in.Search); return }, 5)
	if err != nil {
		b.Fatal(err)
	}
	tBase, err := median(func() (err error) {
		base, err = resolveWith(roots, in.Search, func(p string) (*pe.File, error) {
			return pe.ObjdumpImports(context.Background(), "x86_64-w64-mingw32-objdump", p)
		})
		return
	}, 1)
	if err != nil {
		b.Fatal(err)
	}
	if noDelay, err = resolveWith(roots, in.Search, pe.OpenNoDelay); err != nil {
		b.Fatal(err)
	}
	if !slices.Equal(base.Names(), noDelay.Names()) {
		b.Fatalf("objdump closure %v differs from ours %v", base.Names(), noDelay.Names())
	}
	var delayOnly []string
	for _, n := range ours.Names() {
		if !slices.Contains(base.Names(), n) {
			delayOnly = append(delayOnly, n)
		}
	}
	files := len(roots) + len(ours.DLLs)

	t0 := time.Now()
	full, err := Bundle(context.Background(), in)
	if err != nil {
		b.Fatal(err)
	}
	tFull := time.Since(t0)
	var inBytes int64
	for _, e := range full.Spec.Entries {
		if e.Source != "" {
			if st, err := os.Stat(e.Source); err == nil {
				inBytes += st.Size()
			}
		} else {
			inBytes += int64(len(e.Data))
		}
	}
	t1 := time.Now()
	again, err := Bundle(context.Background(), in)
	if err != nil || !again.Skipped {
		b.Fatalf("no-op rerun: skipped=%v err=%v", again != nil && again.Skipped, err)
	}
	tNoop := time.Since(t1)

	b.ReportMetric(float64(tOurs.Microseconds()), "reader-µs")
	b.ReportMetric(float64(tBase.Microseconds()), "objdump-µs")
	b.ReportMetric(float64(full.Archive.Size), "archive-bytes")
	fmt.Printf("bundle benchmark on %s (%d files walked, %d DLLs bundled: %s)\n", what, files, len(ours.DLLs), strings.Join(ours.Names(), " "))
	fmt.Printf("  DLL closure: our reader %v, objdump -p per file %v: objdump takes %.0f× as long; same set (%d DLLs without delay imports)\n",
		tOurs.Round(time.Microsecond), tBase.Round(time.Millisecond), float64(tBase)/float64(tOurs), len(base.DLLs))
	if len(delayOnly) > 0 {
		fmt.Printf("  delay-loaded DLLs objdump does not show: %s\n", strings.Join(delayOnly, " "))
	}
	fmt.Printf("  archive: %s, %.2f MB from %.2f MB of files (%.0f%%), %d entries\n", filepath.Base(full.Archive.Path),
		float64(full.Archive.Size)/1e6, float64(inBytes)/1e6, 100*float64(full.Archive.Size)/float64(inBytes), full.Archive.Entries)
	fmt.Printf("  bundle: complete %v, no-op rerun %v (%.1f%% of complete)\n", tFull.Round(time.Millisecond), tNoop.Round(time.Millisecond), 100*float64(tNoop)/float64(tFull))
}
