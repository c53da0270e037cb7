// Package targets holds what each `go run mage.go <target>` does; the
// magefiles only name the targets and call these functions. Nothing here
// imports Mage, so every target is an ordinary, testable Go function.
package targets

import (
	"context"
	"fmt"
	"io"
	"os"
	"time"

	"qemupack/internal/config"
	"qemupack/internal/pipeline"
)

// Stdout is where targets print (a test may replace it).
var Stdout io.Writer = os.Stdout

// Groups says which settings each target reads (config.Settings' groups);
// every target's doc line lists exactly those (a test checks it).
var Groups = map[string][]string{
	"bundle":          {config.GroupBuild, config.GroupDist, config.GroupSetup, config.GroupBundle},
	"build":           {config.GroupBuild, config.GroupSetup},
	"deps":            {config.GroupBuild, config.GroupSetup},
	"archive":         {config.GroupBuild, config.GroupDist, config.GroupSetup},
	"smoke":           {config.GroupBuild, config.GroupDist, config.GroupSetup},
	"smokefile":       {config.GroupSmoke},
	"release":         {config.GroupBuild, config.GroupDist, config.GroupSign, config.GroupSetup},
	"installer":       {config.GroupBuild, config.GroupDist, config.GroupSign, config.GroupSetup},
	"check":           {config.GroupBuild, config.GroupFormat},
	"pick":            {config.GroupBuild, config.GroupFormat},
	"catalog":         {config.GroupFormat},
	"catalog:refresh": {config.GroupCatalog},
	"test":            {config.GroupTest, config.GroupSetup},
	"freshroot":       {config.GroupFresh, config.GroupSetup},
	"matrix":          {config.GroupBuild, config.GroupMatrix},
	"releasesums":     {config.GroupSums},
	"reprocheck":      {config.GroupRepro},
	"bench":           {config.GroupBuild, config.GroupDist, config.GroupBench},
	"vm:up":           {config.GroupVMUp},
	"vm:ssh":          {config.GroupVMSsh},
	"vm:down":         {config.GroupVMDown},
	"vm:status":       {config.GroupVMStatus},
	"vm:image":        {config.GroupVMImage},
	"vm:e2e":          {config.GroupVME2e},
}

func settings() (config.Config, error) { return config.FromOS() }

func say(format string, args ...any) { fmt.Fprintf(Stdout, format+"\n", args...) }

// done prints the one summary line every target ends with.
func done(what string, start time.Time) {
	say("%s (%s)", what, time.Since(start).Round(100*time.Millisecond))
}

// pipelineTo runs the main job up to step with the user's settings.
func pipelineTo(ctx context.Context, step string, prep func(r *pipeline.Run)) (*pipeline.Run, error) {
	cfg, err := settings()
	if err != nil {
		return nil, err
	}
	r := pipeline.New(cfg, Stdout)
	if prep != nil {
		prep(r)
	}
	err = r.To(ctx, step)
	r.Close()
	return r, err
}
