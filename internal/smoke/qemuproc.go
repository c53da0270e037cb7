package smoke

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	"qemupack/internal/guest"
	"qemupack/internal/run"
)

// WithEnv returns a runner like r (the same prefix and wineserver) whose
// programs also get the KEY=VALUE pairs in kv.
func (r *Runner) WithEnv(kv ...string) *Runner {
	c := *r
	c.Env = run.Merge(r.Env, kv...)
	return &c
}

// Proc is a program started in the background by Runner.Start.
type Proc struct {
	Name   string
	cancel context.CancelFunc
	done   chan struct{}
	mu     sync.Mutex
	out    strings.Builder
	err    error
	// QMP is the machine protocol connection of a QEMU started with
	// StartQEMU (nil otherwise).
	QMP     *guest.QMP
	QMPAddr string
}

// Start runs exe with args in dir in the background. The program is
// killed when ctx ends, when timeout has passed, or by Stop.
func (r *Runner) Start(ctx context.Context, name, dir, exe string, args []string, timeout time.Duration) *Proc {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	p := &Proc{Name: name, cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(p.done)
		_, err := r.Command(ctx, name, dir, exe, args, timeout, func(l string) bool {
			p.mu.Lock()
			p.out.WriteString(l + "\n")
			p.mu.Unlock()
			return false
		})
		p.mu.Lock()
		p.err = err
		p.mu.Unlock()
	}()
	return p
}

// Output is what the program printed so far.
func (p *Proc) Output() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.out.String()
}

// Exited says whether the program has ended, and how.
func (p *Proc) Exited() (bool, error) {
	select {
	case <-p.done:
		p.mu.Lock()
		defer p.mu.Unlock()
		return true, p.err
	default:
		return false, nil
	}
}

// Stop ends the program: QMP "quit" for a QEMU (so it closes its window
// and sockets itself), then, after grace, a kill. It returns once the
// program is gone.
func (p *Proc) Stop(grace time.Duration) {
	if p.QMP != nil {
		p.QMP.Execute("quit", nil)
		p.QMP.Close()
		select {
		case <-p.done:
		case <-time.After(grace):
		}
	}
	p.cancel()
	<-p.done
}

// StartQEMU starts a QEMU program with a QMP socket on the loopback added
// to args and returns once QMP answers (the machine is then created and,
// without -S, running). A QEMU that exits first, or does not answer within
// wait, is an error carrying its output.
func (r *Runner) StartQEMU(ctx context.Context, name, dir, exe string, args []string, wait, timeout time.Duration) (*Proc, error) {
	port, err := FreePort()
	if err != nil {
		return nil, err
	}
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	args = append(append([]string{}, args...), "-qmp", "tcp:"+addr+",server=on,wait=off")
	p := r.Start(ctx, name, dir, exe, args, timeout)
	p.QMPAddr = addr
	deadline := time.Now().Add(wait)
	for {
		if done, err := p.Exited(); done {
			if err == nil {
				err = errors.New("it exited")
			}
			return nil, fmt.Errorf("%s: QEMU ended before its QMP socket answered (%v); output:\n%s", name, err, tail(p.Output(), 20))
		}
		dctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		q, err := guest.DialQMP(dctx, addr)
		cancel()
		if err == nil {
			p.QMP = q
			return p, nil
		}
		if ctx.Err() != nil || time.Now().After(deadline) {
			p.Stop(0)
			return nil, fmt.Errorf("%s: QMP on %s did not answer within %s (%v); output:\n%s", name, addr, wait, err, tail(p.Output(), 20))
		}
		select {
		case <-time.After(200 * time.Millisecond):
		case <-ctx.Done():
		}
	}
}

// Execute runs a QMP command on the QEMU and returns its "return" value
// decoded into out (nil: not decoded). Each command is bounded by
// timeout.
func (p *Proc) Execute(cmd string, args, out any, timeout time.Duration) error {
	if p.QMP == nil {
		return fmt.Errorf("%s: not started with QMP", p.Name)
	}
	p.QMP.SetDeadline(time.Now().Add(timeout))
	raw, err := p.QMP.Execute(cmd, args)
	if err != nil {
		return fmt.Errorf("%s: %w", p.Name, err)
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			return fmt.Errorf("%s: qmp %s: %w", p.Name, cmd, err)
		}
	}
	return nil
}

// HMP runs a human monitor command through QMP and returns its text.
func (p *Proc) HMP(line string, timeout time.Duration) (string, error) {
	var s string
	err := p.Execute("human-monitor-command", map[string]string{"command-line": line}, &s, timeout)
	return s, err
}

// FreePort is a TCP port on the loopback nobody listens on now.
func FreePort() (int, error) {
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("a free loopback port: %w", err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// FreeVNCDisplay is a VNC display number N (port 5900+N, 1 <= N < 100)
// whose port nobody listens on now, tried in random order so two smoke
// tests at once rarely pick the same.
func FreeVNCDisplay() (int, error) {
	for _, n := range rand.Perm(99) {
		ln, err := net.Listen("tcp4", "127.0.0.1:"+strconv.Itoa(5901+n))
		if err == nil {
			ln.Close()
			return n + 1, nil
		}
	}
	return 0, errors.New("no free VNC port between 5901 and 5999 on the loopback")
}
