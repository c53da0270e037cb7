// Package flock is qemupack's one file lock: an advisory lock on a file,
// exclusive or shared, that the operating system drops when the process
// dies (flock(2) on Unix, LockFileEx on Windows). A lock held by a killed
// run never has to be cleaned up by hand.
//
// Every place where two qemupack processes could meet on disk takes one:
// a step cache entry while it is made or used, the private apt tree while
// it is updated, dist/SHA256SUMS while it is rewritten.
package flock

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// poll is how often a waiting Lock tries again.
const poll = 50 * time.Millisecond

// Lock takes an exclusive lock on the file at path (made, with its folder,
// when missing), waiting while another process holds it. waiting, when not
// nil, is called once if Lock has to wait. The returned unlock releases it.
func Lock(ctx context.Context, path string, waiting func()) (unlock func(), err error) {
	return lock(ctx, path, false, waiting)
}

// LockShared takes a shared lock: any number of shared holders, but none
// while an exclusive lock is held (and no exclusive lock while they hold).
func LockShared(ctx context.Context, path string, waiting func()) (unlock func(), err error) {
	return lock(ctx, path, true, waiting)
}

// TryLock takes an exclusive lock if it is free now; ok is false when
// another holder has it.
func TryLock(path string) (unlock func(), ok bool, err error) {
	f, err := open(path)
	if err != nil {
		return nil, false, err
	}
	err = try(f, false)
	if errors.Is(err, errBusy) {
		f.Close()
		return nil, false, nil
	}
	if err != nil {
		f.Close()
		return nil, false, fmt.Errorf("lock %s: %w", path, err)
	}
	return release(f), true, nil
}

func lock(ctx context.Context, path string, shared bool, waiting func()) (func(), error) {
	f, err := open(path)
	if err != nil {
		return nil, err
	}
	said := false
	for {
		err := try(f, shared)
		if err == nil {
			return release(f), nil
		}
		if !errors.Is(err, errBusy) {
			f.Close()
			return nil, fmt.Errorf("lock %s: %w", path, err)
		}
		if !said && waiting != nil {
			waiting()
			said = true
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, fmt.Errorf("waiting for the lock on %s: %w", path, ctx.Err())
		case <-time.After(poll):
		}
	}
}

func open(path string) (*os.File, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	return f, nil
}

func release(f *os.File) func() {
	done := false
	return func() {
		if done {
			return
		}
		done = true
		unlockFile(f)
		f.Close()
	}
}

// errBusy is what try returns when another holder has the lock.
var errBusy = errors.New("held by another process")
