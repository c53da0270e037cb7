//go:build mage

package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"qemupack/internal/deps"
	"qemupack/internal/pick"
)

// Deps builds (or finds cached) the mingw libraries QEMU needs, from recipes/deps; with QEMUPACK_DEPS=auto a host library is used when it is new enough for the QEMU release pick chooses. Reads QEMUPACK_CACHE, QEMUPACK_DEPS, QEMUPACK_MIRROR, QEMUPACK_OFFLINE, QEMUPACK_SYSROOT, QEMU_VERSION, CROSS_PREFIX, PYTHON, JOBS.
func Deps(ctx context.Context) error {
	start := time.Now()
	c, err := settings()
	if err != nil {
		return err
	}
	// The same choice as the build's: pick decides which host libraries
	// are enough for the release it picks.
	picked, err := pick.Run(ctx, c)
	var none *pick.NothingFits
	switch {
	case errors.As(err, &none):
		fmt.Printf("deps: %v; host libraries are used only at the recipes' host_min versions\n", err)
	case err != nil:
		return fmt.Errorf("deps: %w", err)
	}
	o, err := deps.OptionsFor(c, picked.Host, os.Stdout)
	if err != nil {
		return err
	}
	o.HostMin = picked.HostMin()
	if tree := picked.DebianTree(); tree != nil {
		o.Fetcher.Debian = tree.DownloadSourceFile // recipes' debian_package tarballs
	}
	st, err := deps.Build(ctx, o)
	if err != nil {
		return err
	}
	fmt.Printf("PKG_CONFIG_LIBDIR=%s\n", strings.Join(st.PkgConfigLibdir, string(os.PathListSeparator)))
	done(fmt.Sprintf("deps: stack of %d libraries in %s (%d built, %d reused from the cache, %d from the host)",
		len(st.Libs), st.Dir, st.Built, st.Cached, st.Host), start)
	return nil
}
