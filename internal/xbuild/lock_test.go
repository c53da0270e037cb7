//go:build !windows

package xbuild

import (
	"context"
	"testing"
	"time"
)

func TestLockMakesASecondBuildWait(t *testing.T) {
	dir := t.TempDir()
	unlock, err := lockDir(context.Background(), dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	waited := make(chan bool, 1)
	got := make(chan error, 1)
	go func() {
		u, err := lockDir(context.Background(), dir, func() { waited <- true })
		if err == nil {
			u()
		}
		got <- err
	}()
	select {
	case <-waited:
	case <-time.After(5 * time.Second):
		t.Fatal("the second locker did not report waiting")
	}
	select {
	case err := <-got:
		t.Fatalf("the second locker got the lock while it was held (%v)", err)
	case <-time.After(700 * time.Millisecond):
	}
	unlock()
	select {
	case err := <-got:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the second locker never got the lock")
	}
	// A cancelled wait gives up.
	unlock, _ = lockDir(context.Background(), dir, nil)
	defer unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 600*time.Millisecond)
	defer cancel()
	if _, err := lockDir(ctx, dir, nil); err == nil {
		t.Error("a cancelled wait took the lock")
	}
}
