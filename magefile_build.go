//go:build mage

package main

import (
	"context"
	"fmt"
	"os"
	"strings"
	"time"

	"qemupack/internal/catalog"
	"qemupack/internal/config"
	"qemupack/internal/deps"
	"qemupack/internal/xbuild"
)

// Build cross-builds QEMU for Windows into a staging folder under the cache. Reads QEMU_VERSION, QEMU_TARGETS, JOBS, CROSS_PREFIX, PYTHON, QEMUPACK_CACHE, QEMUPACK_MIRROR, QEMUPACK_OFFLINE, QEMUPACK_SYSROOT, QEMUPACK_DEPS.
func Build(ctx context.Context) error {
	start := time.Now()
	cfg, err := settings()
	if err != nil {
		return err
	}
	res, err := buildStage(ctx, cfg)
	if err != nil {
		return err
	}
	done(fmt.Sprintf("build: qemu %s (%s, %s) staged in %s: %s", res.Version, res.Flavor,
		strings.Join(res.Targets, ","), res.StageDir, strings.Join(res.Exes, " ")), start)
	return nil
}

// buildStage is the build step for other targets (bundle) to reuse.
func buildStage(ctx context.Context, cfg config.Config) (xbuild.Result, error) {
	rel, err := buildRelease(cfg)
	if err != nil {
		return xbuild.Result{}, err
	}
	o, err := deps.OptionsFrom(ctx, cfg, os.Stdout)
	if err != nil {
		return xbuild.Result{}, err
	}
	st, err := deps.Build(ctx, o)
	if err != nil {
		return xbuild.Result{}, err
	}
	return xbuild.Run(ctx, cfg, xbuild.Job{Release: rel, DepsPrefixes: []string{st.Dir}}, os.Stdout)
}

// buildRelease is the release to build: QEMU_VERSION as an exact version
// (default 7.2.0, what Debian 12's source package carries), with the
// catalog's URL and sha256 when it lists it. The pick step replaces this
// once wired.
func buildRelease(cfg config.Config) (catalog.Release, error) {
	v := strings.TrimSpace(strings.TrimLeft(cfg.QEMUVersion, "=v "))
	if v == "" {
		v = "7.2.0"
	}
	rel := catalog.Release{Version: v, URL: "https://download.qemu.org/qemu-" + v + ".tar.xz"}
	if rs, err := catalog.LoadFrom(cfg.Root); err == nil {
		for _, r := range rs {
			if r.Version == v {
				rel = r
			}
		}
	}
	return rel, nil
}
