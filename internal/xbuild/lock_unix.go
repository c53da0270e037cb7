//go:build !windows

package xbuild

import (
	"context"
	"fmt"
	"os"
	"syscall"
	"time"
)

// lockDir takes an exclusive lock on dir/.lock, waiting (and saying so
// once) while another qemupack process holds it: two builds of the same
// configuration in one build folder delete each other's objects (seen:
// "ld: cannot find libcommon.fa.p/hw_audio_fmopl.c.obj"). The lock goes
// with the process, so a killed build never leaves it behind.
func lockDir(ctx context.Context, dir string, waiting func()) (unlock func(), err error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("lock %s: %w", dir, err)
	}
	f, err := os.OpenFile(dir+"/.lock", os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", dir, err)
	}
	said := false
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			return func() { syscall.Flock(int(f.Fd()), syscall.LOCK_UN); f.Close() }, nil
		}
		if err != syscall.EWOULDBLOCK {
			f.Close()
			return nil, fmt.Errorf("lock %s: %w", dir, err)
		}
		if !said && waiting != nil {
			waiting()
			said = true
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, ctx.Err()
		case <-time.After(500 * time.Millisecond):
		}
	}
}
