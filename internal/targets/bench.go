package targets

import (
	"context"
	"fmt"
	"strings"
	"time"

	"qemupack/internal/bench"
)

// Bench measures the parts QEMUPACK_BENCH names and prints each figure as
// a ratio of two things measured in this run.
func Bench(ctx context.Context) error {
	start := time.Now()
	cfg, err := settings()
	if err != nil {
		return err
	}
	figs, err := bench.Run(ctx, bench.Options{Config: cfg, Out: Stdout})
	if err != nil {
		return err
	}
	var parts []string
	for _, f := range figs {
		parts = append(parts, fmt.Sprintf("%s %.2f", f.Part, f.Ratio))
	}
	done(fmt.Sprintf("bench: %s (%s)", strings.Join(parts, ", "), time.Now().Format("2006-01-02")), start)
	return nil
}
