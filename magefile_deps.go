//go:build mage

package main

import (
	"context"
	"fmt"
	"os"
	"strings"
	"time"

	"qemupack/internal/deps"
)

// Deps builds (or finds cached) the mingw libraries QEMU needs, from recipes/deps. Reads QEMUPACK_CACHE, QEMUPACK_DEPS, QEMUPACK_MIRROR, QEMUPACK_OFFLINE, QEMUPACK_SYSROOT, CROSS_PREFIX, JOBS.
func Deps(ctx context.Context) error {
	start := time.Now()
	c, err := settings()
	if err != nil {
		return err
	}
	o, err := deps.OptionsFrom(ctx, c, os.Stdout)
	if err != nil {
		return err
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
