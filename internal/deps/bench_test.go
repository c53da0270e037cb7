package deps

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"qemupack/internal/recipe"
)

// BenchmarkStack measures a cold build of a stack, a warm run (all
// cached) and the run after touching one library's patch, and prints them
// as ratios of the cold build. By default the stack is libffi + pcre2 + a
// small library depending on libffi (QEMUPACK_TEST_MIRROR as for the
// tests); with QEMUPACK_BENCH_FULL=1 it is every recipe QEMU needs, from a
// mirror holding all their tarballs. Run with -benchtime=1x:
//
//	QEMUPACK_TEST_MIRROR=DIR go test ./internal/deps -run '^$' -bench Stack -benchtime=1x
func BenchmarkStack(b *testing.B) {
	mirror := testMirror(b)
	tc := probe(b)
	for i := 0; i < b.N; i++ {
		dir := b.TempDir()
		cache := filepath.Join(dir, "cache")
		patches := filepath.Join(dir, "patches")
		var rs []recipe.Recipe
		var want []string
		touch := "libffi"
		if os.Getenv("QEMUPACK_BENCH_FULL") == "1" {
			all, err := recipe.LoadDir(filepath.Join("..", "..", recipe.Dir))
			if err != nil {
				b.Fatal(err)
			}
			rs, want = all, QEMUModules
		} else {
			own := filepath.Join(dir, "own")
			rs = append(realRecipes(b, "libffi", "pcre2"), demoRecipe(b, own, demoFiles, "libffi"))
			both := filepath.Join(dir, "both")
			os.MkdirAll(both, 0o755)
			for _, src := range []string{filepath.Join(mirror, "libffi_3.4.4.orig.tar.gz"), filepath.Join(mirror, "pcre2_10.42.orig.tar.gz"), filepath.Join(own, "demo-1.0.tar.gz")} {
				os.Symlink(src, filepath.Join(both, filepath.Base(src)))
			}
			mirror = both
			want = []string{"libffi", "libpcre2-8", "demo"}
		}
		o := options(b, cache, mirror, patches, tc, rs, want...)
		o.Fetcher.Mirror = mirror
		o.Fetcher.NoDebian = false
		o.Mode = "auto"
		o.Out = nopWriter{}
		timed := func() (time.Duration, *Stack) {
			t0 := time.Now()
			st, err := Build(context.Background(), o)
			if err != nil {
				b.Fatal(err)
			}
			return time.Since(t0), st
		}
		cold, st := timed()
		warm, _ := timed()
		var touched recipe.Recipe
		for _, r := range rs {
			if r.Name == touch {
				touched = r
			}
		}
		// A patch that changes no code: only the key changes.
		pd := filepath.Join(patches, touched.Name, touched.Version)
		os.MkdirAll(pd, 0o755)
		os.WriteFile(filepath.Join(pd, "0001-empty.patch"), []byte("a patch file with no hunks is refused by patch, so this one adds a file\n--- /dev/null\n+++ b/QEMUPACK-BENCH\n@@ -0,0 +1 @@\n+touched\n"), 0o644)
		set := rebuildSet(b, o)
		rebuild, st2 := timed()
		fmt.Printf("stack of %d libraries (%d from the host)\n", len(st.Libs), st.Host)
		fmt.Printf("cold build:          %8.1f s  (1.000)\n", cold.Seconds())
		fmt.Printf("warm (all cached):   %8.2f s  (%.4f of cold)\n", warm.Seconds(), warm.Seconds()/cold.Seconds())
		fmt.Printf("after touching %s's patch: rebuilt %s (%d of %d) in %.1f s (%.3f of cold)\n",
			touch, strings.Join(set, ", "), st2.Built, len(st2.Libs), rebuild.Seconds(), rebuild.Seconds()/cold.Seconds())
		b.ReportMetric(cold.Seconds(), "cold-s")
		b.ReportMetric(warm.Seconds()/cold.Seconds(), "warm/cold")
		b.ReportMetric(rebuild.Seconds()/cold.Seconds(), "rebuild/cold")
	}
}

type nopWriter struct{}

func (nopWriter) Write(p []byte) (int, error) { return len(p), nil }
