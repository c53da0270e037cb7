package run

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestRunKeepsLogAndShowsTailOnFailure(t *testing.T) {
	dir := t.TempDir()
	log := filepath.Join(dir, "logs", "step.log")
	var seen []string
	err := Run(context.Background(), Cmd{
		Args:      []string{"sh", "-c", "for i in 1 2 3 4 5; do echo line$i; done; echo oops >&2; exit 3"},
		Dir:       dir,
		Log:       log,
		Line:      func(s string) { seen = append(seen, s) },
		TailLines: 2,
	})
	var re *Error
	if !errors.As(err, &re) {
		t.Fatalf("want *Error, got %v", err)
	}
	if re.Tail != "line5\noops" {
		t.Errorf("tail = %q", re.Tail)
	}
	if !strings.Contains(err.Error(), log) {
		t.Errorf("error does not name the log: %v", err)
	}
	data, _ := os.ReadFile(log)
	if strings.Count(string(data), "\n") != 6 {
		t.Errorf("log has %q", data)
	}
	if len(seen) != 6 {
		t.Errorf("progress saw %d lines", len(seen))
	}
}

func TestRunUsesDir(t *testing.T) {
	dir := t.TempDir()
	var got string
	if err := Run(context.Background(), Cmd{Args: []string{"pwd"}, Dir: dir, Line: func(s string) { got = s }}); err != nil {
		t.Fatal(err)
	}
	real, _ := filepath.EvalSymlinks(dir)
	if got != dir && got != real {
		t.Errorf("pwd = %q, want %q", got, dir)
	}
}

func TestCancelStopsChildren(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	// The shell starts a child sleep; killing only the shell would leave it
	// holding the pipe open until it ends.
	err := Run(ctx, Cmd{Args: []string{"sh", "-c", "sleep 30; echo done"}})
	if err == nil || !strings.Contains(err.Error(), "stopped") {
		t.Fatalf("want a stopped error, got %v", err)
	}
	if time.Since(start) > 8*time.Second {
		t.Errorf("cancel took %v: children were not stopped", time.Since(start))
	}
}

func TestMissingProgram(t *testing.T) {
	err := Run(context.Background(), Cmd{Args: []string{"no-such-program-qemupack"}})
	if err == nil || !strings.Contains(err.Error(), "cannot start") {
		t.Fatalf("got %v", err)
	}
}

func TestMerge(t *testing.T) {
	got := Merge([]string{"A=1", "B=2"}, "B=3", "C=4")
	if strings.Join(got, ",") != "A=1,B=3,C=4" {
		t.Errorf("got %v", got)
	}
}
