// Package run starts external programs the way every qemupack step needs:
// in a given folder, with a given environment, with the full output kept in
// a log file on disk, each line offered to a progress callback, the tail of
// the log in the error when the program fails, and the whole process group
// stopped when the context is cancelled (Ctrl-C, mage -t).
package run

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"
)

// Cmd describes one program run. Only Args is required.
type Cmd struct {
	Args []string // program and its arguments
	Dir  string   // working folder ("" = current)
	// Env replaces the environment when non-nil. Use Environ to start from
	// the process environment with some variables overridden.
	Env []string
	// Log, when set, receives the full output (stdout and stderr interleaved);
	// the file is created (truncated) and its folder made.
	Log string
	// Line, when set, is called with each output line as it arrives.
	Line func(string)
	// Stdin, when set, is the program's standard input.
	Stdin io.Reader
	// TailLines is how many log lines a failure shows (default 30).
	TailLines int
}

// Error is returned when the program ran and failed (or could not start).
type Error struct {
	Args []string
	Dir  string
	Log  string // path of the full log, "" if none
	Tail string // the last lines of output
	Err  error
}

func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %v", strings.Join(e.Args, " "), e.Err)
	if e.Dir != "" {
		fmt.Fprintf(&b, " (in %s)", e.Dir)
	}
	if e.Log != "" {
		fmt.Fprintf(&b, "; full log: %s", e.Log)
	}
	if e.Tail != "" {
		fmt.Fprintf(&b, "\n--- last lines of output ---\n%s", e.Tail)
	}
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

// Environ returns the process environment with the given KEY=VALUE pairs
// replacing any existing ones of the same key.
func Environ(overrides ...string) []string {
	return Merge(os.Environ(), overrides...)
}

// Merge returns base with the KEY=VALUE pairs in overrides replacing any of
// the same key (keys compared exactly). base is not modified.
func Merge(base []string, overrides ...string) []string {
	keys := map[string]bool{}
	for _, kv := range overrides {
		k, _, _ := strings.Cut(kv, "=")
		keys[k] = true
	}
	out := make([]string, 0, len(base)+len(overrides))
	for _, kv := range base {
		k, _, _ := strings.Cut(kv, "=")
		if !keys[k] {
			out = append(out, kv)
		}
	}
	return append(out, overrides...)
}

// Run runs c and waits for it. The error is an *Error when the program
// failed or could not be started.
func Run(ctx context.Context, c Cmd) error {
	if len(c.Args) == 0 {
		return errors.New("run: no program given")
	}
	tailN := c.TailLines
	if tailN <= 0 {
		tailN = 30
	}
	cmd := exec.CommandContext(ctx, c.Args[0], c.Args[1:]...)
	cmd.Dir = c.Dir
	cmd.Env = c.Env
	if c.Env != nil && c.Dir != "" {
		cmd.Env = Merge(c.Env, "PWD="+c.Dir)
	}
	cmd.Stdin = c.Stdin
	setProcessGroup(cmd)
	cmd.WaitDelay = 10 * time.Second

	var logFile *os.File
	if c.Log != "" {
		if err := os.MkdirAll(filepath.Dir(c.Log), 0o755); err != nil {
			return fmt.Errorf("run %s: log folder: %w", c.Args[0], err)
		}
		f, err := os.Create(c.Log)
		if err != nil {
			return fmt.Errorf("run %s: log: %w", c.Args[0], err)
		}
		defer f.Close()
		logFile = f
	}
	tail := newTail(tailN)
	pr, pw := io.Pipe()
	cmd.Stdout = pw
	cmd.Stderr = pw
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		sc := bufio.NewScanner(pr)
		sc.Buffer(make([]byte, 64*1024), 4*1024*1024)
		for sc.Scan() {
			line := sc.Text()
			if logFile != nil {
				logFile.WriteString(line + "\n")
			}
			tail.add(line)
			if c.Line != nil {
				c.Line(line)
			}
		}
		io.Copy(io.Discard, pr)
	}()
	// The parent-death signal (see dieWithParent) follows the OS thread
	// that started the program, not the process: keep this goroutine on
	// that thread until the program has ended, so a Go runtime thread
	// exit can never stop a long build.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	err := cmd.Start()
	if err != nil {
		pw.Close()
		wg.Wait()
		return &Error{Args: c.Args, Dir: c.Dir, Log: c.Log, Err: fmt.Errorf("cannot start: %w", err)}
	}
	err = cmd.Wait()
	pw.Close()
	wg.Wait()
	if err != nil {
		if ctx.Err() != nil {
			err = fmt.Errorf("stopped: %w (%v)", ctx.Err(), err)
		}
		return &Error{Args: c.Args, Dir: c.Dir, Log: c.Log, Tail: tail.String(), Err: err}
	}
	return nil
}

// Output runs c and returns its standard output (standard error goes to the
// log and the error's tail only).
func Output(ctx context.Context, c Cmd) (string, error) {
	if len(c.Args) == 0 {
		return "", errors.New("run: no program given")
	}
	cmd := exec.CommandContext(ctx, c.Args[0], c.Args[1:]...)
	cmd.Dir = c.Dir
	cmd.Env = c.Env
	cmd.Stdin = c.Stdin
	setProcessGroup(cmd)
	cmd.WaitDelay = 10 * time.Second
	var stderr strings.Builder
	cmd.Stderr = &stderr
	runtime.LockOSThread() // as in Run
	defer runtime.UnlockOSThread()
	out, err := cmd.Output()
	if err != nil {
		return string(out), &Error{Args: c.Args, Dir: c.Dir, Tail: lastLines(stderr.String(), 30), Err: err}
	}
	return string(out), nil
}

type tailBuf struct {
	mu    sync.Mutex
	n     int
	lines []string
}

func newTail(n int) *tailBuf { return &tailBuf{n: n} }

func (t *tailBuf) add(s string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.lines = append(t.lines, s)
	if len(t.lines) > t.n {
		t.lines = t.lines[len(t.lines)-t.n:]
	}
}

func (t *tailBuf) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return strings.Join(t.lines, "\n")
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
