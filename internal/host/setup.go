package host

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"qemupack/internal/config"
	"qemupack/internal/run"
)

// NeedInstall is returned by Setup when something is missing that qemupack
// will not (or cannot) install itself: it carries the exact command.
type NeedInstall struct {
	Family  Family
	Command string // "" when the host has no package manager we know
	What    []string
	Reason  string
	// Instead are the other ways out (a setting that leaves a job out).
	Instead []string
}

func (e *NeedInstall) Error() string {
	msg := "missing: " + strings.Join(e.What, ", ")
	if e.Command == "" {
		msg += " (" + e.Reason + ")"
	} else {
		msg = fmt.Sprintf("%s; %s; run:\n  %s", msg, e.Reason, e.Command)
	}
	for _, s := range e.Instead {
		msg += "\n" + s
	}
	return msg
}

// insteadOf is the way to do without a job's needs, when there is one.
var insteadOf = map[Job]string{
	JobSmoke: "or, to bundle without testing the archive, set " + config.EnvSmoke + "=skip",
	JobTest:  "(or run `go test ./...` yourself: each test that needs a missing tool fails naming it)",
}

// Setup installs what the probe found missing (the toolchain, and the
// needs of the jobs the probe was asked about), on Debian/Ubuntu when
// running as root and not told otherwise (QEMUPACK_SETUP=no) (apt-get install -y, after apt-get update when the
// package lists do not know a package yet). Anywhere else it installs
// nothing and returns a *NeedInstall with the exact command to run. It
// returns the packages it installed; nil, nil when nothing is missing.
func Setup(ctx context.Context, r Report) ([]string, error) {
	pkgs := r.MissingPackages()
	var what []string
	jobs := map[Job]bool{}
	for _, m := range r.Missing {
		what = append(what, m.What)
		jobs[m.Job] = true
	}
	if len(what) == 0 {
		return nil, nil
	}
	need := &NeedInstall{Family: r.Family, Command: r.InstallCommand(), What: what}
	for _, j := range Jobs {
		if jobs[j] && insteadOf[j] != "" {
			need.Instead = append(need.Instead, insteadOf[j])
		}
	}
	switch {
	case r.noInstall:
		need.Reason = config.EnvSetup + "=no: qemupack installs nothing itself"
		if r.Family == Debian && !r.Root && need.Command != "" {
			need.Command = "sudo " + need.Command
		}
		return nil, need
	case len(pkgs) == 0:
		need.Reason = "no package for it is known on this host"
		return nil, need
	case r.Family != Debian:
		need.Reason = "qemupack installs packages itself only on Debian/Ubuntu"
		return nil, need
	case !r.Root:
		need.Reason = "not running as root"
		need.Command = "sudo " + need.Command
		return nil, need
	}
	o := r.opts.WithDefaults()
	aptGet, err := o.LookPath("apt-get")
	if err != nil {
		need.Reason = "apt-get is not on PATH"
		return nil, need
	}
	env := append(environ(o), "DEBIAN_FRONTEND=noninteractive")
	install := append([]string{aptGet, "install", "-y", "-q", "--no-install-recommends"}, pkgs...)
	if o.Log != nil {
		o.Log(fmt.Sprintf("setup: installing %s with apt-get (running as root; %s=no installs nothing)", strings.Join(pkgs, " "), config.EnvSetup))
	}
	// No time limit here, unlike the probe's commands: an install of a
	// few hundred megabytes takes minutes, and apt killed halfway leaves
	// dpkg interrupted.
	if out, err := apt(ctx, env, install); err != nil {
		if strings.Contains(out, "dpkg --configure -a") {
			// An earlier install was stopped halfway: finish it, as apt asks.
			if dpkg, derr := o.LookPath("dpkg"); derr == nil {
				apt(ctx, env, []string{dpkg, "--configure", "-a"})
			}
		}
		// A fresh machine may not have package lists yet: update once, retry.
		if uout, uerr := apt(ctx, env, []string{aptGet, "update", "-q"}); uerr != nil {
			return nil, fmt.Errorf("setup: apt-get update: %w\n%s", uerr, lastN(uout, 10))
		}
		if out2, err2 := apt(ctx, env, install); err2 != nil {
			return nil, fmt.Errorf("setup: %s: %w\n%s\n%s", strings.Join(install, " "), err2, lastN(out, 5), lastN(out2, 10))
		}
	}
	return pkgs, nil
}

// apt runs an apt-get or dpkg command to its end (only ctx stops it) and
// returns its output.
func apt(ctx context.Context, env, args []string) (string, error) {
	var b strings.Builder
	err := run.Run(ctx, run.Cmd{Args: args, Env: env, Line: func(s string) { b.WriteString(s + "\n") }, TailLines: 5})
	var re *run.Error
	if errors.As(err, &re) {
		err = re.Err // the output is returned whole; the tail would repeat it
	}
	return b.String(), err
}

func environ(o Options) []string {
	// Exec's env replaces the environment: keep PATH and HOME from Getenv.
	var env []string
	for _, k := range []string{"PATH", "HOME", "LANG"} {
		if v := o.Getenv(k); v != "" {
			env = append(env, k+"="+v)
		}
	}
	return env
}

func lastN(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// Complete is Setup until nothing is missing: after an install it probes
// again (reprobe) and installs what only then shows (a second round at
// most). It returns the final report and every package installed; the
// error is Setup's, or a probe's.
func Complete(ctx context.Context, r Report, reprobe func() (Report, error)) (Report, []string, error) {
	var all []string
	for round := 0; round < 2; round++ {
		installed, err := Setup(ctx, r)
		if err != nil {
			return r, all, err
		}
		if len(installed) == 0 {
			return r, all, nil
		}
		all = append(all, installed...)
		if r, err = reprobe(); err != nil {
			return r, all, err
		}
	}
	if len(r.Missing) > 0 {
		_, err := Setup(ctx, r) // installs nothing new: gives the command
		if err == nil {
			err = fmt.Errorf("setup: installed %s, yet %s is still missing", strings.Join(all, " "), r.Missing[0].What)
		}
		return r, all, err
	}
	return r, all, nil
}
