//go:build !linux

package freshroot

import (
	"context"
	"errors"
)

// Run needs Linux: debootstrap, chroot and Linux mounts.
func Run(ctx context.Context, o Options, command string) (Result, error) {
	return Result{Command: command}, errors.New("freshroot: the fresh-root check runs on Linux only (it makes a Debian root with debootstrap)")
}
