package targets

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"qemupack/internal/freshroot"
	"qemupack/internal/host"
	"qemupack/internal/stepcache"
)

// Freshroot runs the README's commands, each in its own fresh Debian 12
// root, and fails when one fails or changes /etc beyond installing
// packages.
func Freshroot(ctx context.Context) error {
	start := time.Now()
	cfg, err := settings()
	if err != nil {
		return err
	}
	probe := func() (host.Report, error) {
		return host.ProbeJobs(ctx, cfg, host.Options{Log: func(s string) { say("%s", s) }}, host.JobFreshRoot), nil
	}
	rep, _ := probe()
	_, installed, err := host.Complete(ctx, rep, probe)
	if len(installed) > 0 {
		say("freshroot: installed %s", strings.Join(installed, " "))
	}
	if err != nil {
		return fmt.Errorf("freshroot: this machine cannot make fresh roots: %w", err)
	}
	o := freshroot.Options{
		Cache:    &stepcache.Cache{Root: cfg.CacheDir, Log: func(s string) { say("%s", s) }},
		Dir:      filepath.Join(cfg.CacheDir, "freshroot"),
		Checkout: cfg.Root,
		Keep:     cfg.Fresh.Keep,
		Log:      func(s string) { say("%s", s) },
		Output:   func(cmd, line string) { say("[%s] %s", cmd, line) },
	}
	var results []freshroot.Result
	var errs []error
	for _, c := range cfg.Fresh.Commands {
		res, err := freshroot.Run(ctx, o, c)
		if err != nil {
			return errors.Join(append(errs, err)...)
		}
		results = append(results, res)
		if !res.OK() {
			errs = append(errs, errors.New(res.Summary()))
		}
		if ctx.Err() != nil {
			break
		}
	}
	for _, r := range results {
		say("%s", r.Summary())
	}
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	done(fmt.Sprintf("freshroot: %d command(s) passed on a fresh Debian 12 root", len(results)), start)
	return nil
}
