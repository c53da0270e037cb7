//go:build mage

package main

import (
	"context"
	"fmt"
	"os"
	"time"

	"qemupack/internal/run"
	"qemupack/internal/testprep"
)

// Test runs the whole test suite: fetches the real Debian source tarballs some tests build (once, into the cache), then go vet and go test ./... . Reads QEMUPACK_CACHE, QEMUPACK_TEST_MIRROR, GOFLAGS.
func Test(ctx context.Context) error {
	start := time.Now()
	cfg, err := settings()
	if err != nil {
		return err
	}
	env, err := testprep.Prepare(ctx, cfg.CacheDir, os.Getenv, os.Stdout)
	if err != nil {
		return err
	}
	for _, args := range [][]string{{"go", "vet", "./..."}, {"go", "test", "-timeout", "30m", "./..."}} {
		fmt.Println("test:", args)
		err := run.Run(ctx, run.Cmd{Args: args, Dir: cfg.Root, Env: run.Environ(env...), Line: func(s string) { fmt.Println(s) }, TailLines: 1})
		if err != nil {
			return fmt.Errorf("test: %s failed (output above)", args[1])
		}
	}
	done("test: all packages passed", start)
	return nil
}
