package flock

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// TestMain lets the test binary stand in for a second qemupack process:
// with FLOCK_HOLD set it takes the lock named there, says "held" and
// sleeps until it is killed.
func TestMain(m *testing.M) {
	if p := os.Getenv("FLOCK_HOLD"); p != "" {
		lockf := Lock
		if os.Getenv("FLOCK_SHARED") == "1" {
			lockf = LockShared
		}
		if _, err := lockf(context.Background(), p, nil); err != nil {
			os.Stderr.WriteString(err.Error() + "\n")
			os.Exit(3)
		}
		os.Stdout.WriteString("held\n")
		time.Sleep(time.Hour)
	}
	os.Exit(m.Run())
}

// holder starts another process that holds the lock on path.
func holder(t *testing.T, path string, shared bool) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "FLOCK_HOLD="+path)
	if shared {
		cmd.Env = append(cmd.Env, "FLOCK_SHARED=1")
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil || line != "held\n" {
		t.Fatalf("holder process did not take the lock: %q %v", line, err)
	}
	return cmd
}

func TestExclusiveAcrossProcesses(t *testing.T) {
	p := filepath.Join(t.TempDir(), "sub", "x.lock")
	h := holder(t, p, false)
	if _, ok, err := TryLock(p); err != nil || ok {
		t.Fatalf("TryLock while another process holds it: ok=%v err=%v", ok, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 600*time.Millisecond)
	defer cancel()
	waited := false
	if _, err := Lock(ctx, p, func() { waited = true }); err == nil {
		t.Fatal("Lock returned while another process holds the lock")
	}
	if !waited {
		t.Error("waiting was not reported")
	}
	// A killed holder leaves nothing behind: the lock is free at once.
	h.Process.Kill()
	h.Wait()
	unlock, err := Lock(context.Background(), p, nil)
	if err != nil {
		t.Fatalf("lock after the holder was killed: %v", err)
	}
	unlock()
	unlock() // twice is harmless
}

func TestSharedAllowsSharedNotExclusive(t *testing.T) {
	p := filepath.Join(t.TempDir(), "s.lock")
	holder(t, p, true)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	un, err := LockShared(ctx, p, nil)
	if err != nil {
		t.Fatalf("a second shared lock: %v", err)
	}
	defer un()
	if _, ok, err := TryLock(p); err != nil || ok {
		t.Fatalf("exclusive lock granted while shared locks are held: ok=%v err=%v", ok, err)
	}
}

func TestWaitsThenGets(t *testing.T) {
	p := filepath.Join(t.TempDir(), "w.lock")
	h := holder(t, p, false)
	go func() { time.Sleep(500 * time.Millisecond); h.Process.Kill() }()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	start := time.Now()
	un, err := Lock(ctx, p, nil)
	if err != nil {
		t.Fatal(err)
	}
	un()
	if time.Since(start) < 300*time.Millisecond {
		t.Error("Lock did not wait for the holder")
	}
}
