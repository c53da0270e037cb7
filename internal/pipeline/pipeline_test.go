package pipeline

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"qemupack/internal/config"
)

// The main job's order: every step comes after the steps it needs, and
// each target's last step pulls in exactly what the user expects.
func TestStepsOrder(t *testing.T) {
	seen := map[string]bool{}
	for _, s := range Steps {
		for _, n := range s.Needs {
			if !seen[n] {
				t.Errorf("step %s needs %s, which does not come before it", s.Name, n)
			}
		}
		if seen[s.Name] {
			t.Errorf("step %s twice", s.Name)
		}
		seen[s.Name] = true
		if s.Run == nil || s.Doc == "" {
			t.Errorf("step %s has no Run or no Doc", s.Name)
		}
	}
	names := func(ss []Step) string {
		var out []string
		for _, s := range ss {
			out = append(out, s.Name)
		}
		return strings.Join(out, " ")
	}
	for last, want := range map[string]string{
		"smoke":   "probe setup pick sources deps build bundle smoke",
		"deps":    "probe setup pick deps",
		"pick":    "probe setup pick",
		"release": "probe setup pick sources deps build bundle smoke release",
	} {
		got, err := plan(Steps, last)
		if err != nil {
			t.Fatal(err)
		}
		if names(got) != want {
			t.Errorf("up to %s: %s, want %s", last, names(got), want)
		}
	}
	if _, err := plan(Steps, "nosuch"); err == nil || !strings.Contains(err.Error(), "probe") {
		t.Errorf("an unknown step: %v", err)
	}
}

type trace struct {
	mu     sync.Mutex
	events []string
}

func (tr *trace) add(s string) {
	tr.mu.Lock()
	tr.events = append(tr.events, s)
	tr.mu.Unlock()
}

func fakeSteps(tr *trace, fail string, gate chan struct{}) []Step {
	mk := func(name string, needs ...string) Step {
		return Step{Name: name, Needs: needs, Doc: name, Run: func(ctx context.Context, r *Run) error {
			tr.add("start " + name)
			defer tr.add("end " + name)
			if name == "sources" || name == "deps" {
				// Each waits until the other has started: they must run side by side.
				gate <- struct{}{}
				select {
				case <-gate:
				case <-time.After(2 * time.Second):
					return errors.New(name + " ran alone: sources and deps did not overlap")
				case <-ctx.Done():
					return ctx.Err()
				}
			}
			if name == fail {
				return errors.New("it broke")
			}
			if name == "build" {
				<-ctx.Done() // only ends when cancelled
				return ctx.Err()
			}
			return nil
		}}
	}
	return []Step{mk("probe"), mk("setup", "probe"), mk("pick", "setup"), mk("sources", "pick"), mk("deps", "pick"), mk("build", "sources", "deps")}
}

func TestRunnerOverlapsAndStopsAtFirstError(t *testing.T) {
	tr := &trace{}
	r := New(config.Config{}, nil)
	r.Skip["setup"] = true
	err := r.runSteps(context.Background(), fakeSteps(tr, "deps", make(chan struct{}, 1)), "build")
	if err == nil || err.Error() != "deps: it broke" {
		t.Fatalf("error %v, want the failing step named", err)
	}
	joined := strings.Join(tr.events, ", ")
	if strings.Contains(joined, "start setup") {
		t.Errorf("a skipped step ran: %s", joined)
	}
	if strings.Contains(joined, "start build") {
		t.Errorf("build started although deps failed: %s", joined)
	}
	if !strings.Contains(joined, "start sources") || !strings.Contains(joined, "start deps") {
		t.Errorf("sources and deps did not both run: %s", joined)
	}
}

func TestRunnerCancelsRunningStepsOnFailure(t *testing.T) {
	tr := &trace{}
	steps := fakeSteps(tr, "", make(chan struct{}, 1))
	steps = append(steps, Step{Name: "late", Needs: []string{"pick"}, Doc: "x", Run: func(ctx context.Context, r *Run) error {
		time.Sleep(300 * time.Millisecond)
		return errors.New("late failure")
	}})
	steps = append(steps, Step{Name: "all", Needs: []string{"build", "late"}, Doc: "x", Run: func(ctx context.Context, r *Run) error { return nil }})
	r := New(config.Config{}, nil)
	done := make(chan error)
	go func() { done <- r.runSteps(context.Background(), steps, "all") }()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "late failure") {
			t.Fatalf("error %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("a failing step did not stop a running one (build waits for cancellation)")
	}
	if strings.Join(r.Done, " ") != "probe setup pick sources deps" && strings.Join(r.Done, " ") != "probe setup pick deps sources" {
		t.Errorf("done: %v", r.Done)
	}
}

// The setup step installs the smoke's needs only when the run will
// smoke-test (not when bundle skips it), the release's when it makes
// release files, and the signing tool only when it signs.
func TestHostJobsFollowThePlan(t *testing.T) {
	jobsFor := func(last string, cfg config.Config, skip ...string) string {
		r := New(cfg, nil)
		for _, s := range skip {
			r.Skip[s] = true
		}
		var seen string
		steps := []Step{
			{Name: "probe", Doc: "x", Run: func(ctx context.Context, r *Run) error {
				for _, j := range r.hostJobs() {
					seen += string(j) + " "
				}
				return nil
			}},
		}
		for _, s := range Steps[1:] {
			s.Run = func(ctx context.Context, r *Run) error { return nil }
			steps = append(steps, s)
		}
		if err := r.runSteps(context.Background(), steps, last); err != nil {
			t.Fatal(err)
		}
		return strings.TrimSpace(seen)
	}
	signed := config.Config{Sign: config.Sign{PFX: "/k.pfx"}}
	for _, c := range []struct {
		got, want string
	}{
		{jobsFor("build", config.Config{}), ""},
		{jobsFor("smoke", config.Config{}), "smoke"},
		{jobsFor("smoke", config.Config{}, "smoke"), ""},
		{jobsFor("release", config.Config{}), "smoke release"},
		{jobsFor("release", signed), "smoke release sign"},
	} {
		if c.got != c.want {
			t.Errorf("jobs %q, want %q", c.got, c.want)
		}
	}
}
