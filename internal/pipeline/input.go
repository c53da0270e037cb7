package pipeline

import (
	"context"

	"qemupack/internal/bundle"
)

// BundleInput is what this run's bundle step makes the archive from (the
// benchmark lays the same build out unstripped to compare).
func (r *Run) BundleInput(ctx context.Context) (bundle.Input, error) { return bundleInput(ctx, r) }
