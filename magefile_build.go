//go:build mage

package main

import (
	"context"
	"fmt"
	"os"
	"strings"
	"time"

	"qemupack/internal/config"
	"qemupack/internal/deps"
	"qemupack/internal/pick"
	"qemupack/internal/xbuild"
)

// Build cross-builds QEMU for Windows into a staging folder under the cache. Reads QEMU_VERSION, QEMU_TARGETS, JOBS, CROSS_PREFIX, PYTHON, QEMUPACK_CACHE, QEMUPACK_MIRROR, QEMUPACK_OFFLINE, QEMUPACK_SYSROOT, QEMUPACK_DEPS.
func Build(ctx context.Context) error {
	start := time.Now()
	cfg, err := settings()
	if err != nil {
		return err
	}
	picked, err := pick.Run(ctx, cfg)
	if err != nil {
		return err
	}
	res, err := buildStage(ctx, cfg, picked)
	if err != nil {
		return err
	}
	done(fmt.Sprintf("build: qemu %s (%s, %s) staged in %s: %s", res.Version, res.Flavor,
		strings.Join(res.Targets, ","), res.StageDir, strings.Join(res.Exes, " ")), start)
	return nil
}

// buildStage builds the picked release: the mingw stack it needs (deps),
// then QEMU into a staging folder. Bundle reuses it.
func buildStage(ctx context.Context, cfg config.Config, picked pick.Result) (xbuild.Result, error) {
	fmt.Printf("build: qemu %s from %s\n", picked.Picked.Version, picked.Source)
	o, err := deps.OptionsFor(cfg, picked.Host, os.Stdout)
	if err != nil {
		return xbuild.Result{}, err
	}
	o.HostMin = picked.HostMin() // a host library when pick found it enough for this release
	if tree := picked.DebianTree(); tree != nil {
		o.Fetcher.Debian = tree.DownloadSourceFile // recipes' debian_package tarballs
	}
	st, err := deps.Build(ctx, o)
	if err != nil {
		return xbuild.Result{}, err
	}
	job := xbuild.Job{Release: picked.Picked, DepsPrefixes: []string{st.Dir}, NoDebian: picked.Source != pick.SourceDebian,
		Debian: picked.DebianTree(), DebianSource: picked.DebianChosen()}
	return xbuild.Run(ctx, cfg, job, os.Stdout)
}
