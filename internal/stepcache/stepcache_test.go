package stepcache

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestMain lets the test binary act as a second qemupack process: with
// STEPCACHE_ROOT set it makes one entry (kind "k", name "n", input
// STEPCACHE_INPUT), writing its pid into it; with STEPCACHE_HANG=1 its make
// says "making" and hangs, to be killed with -9 halfway.
func TestMain(m *testing.M) {
	if root := os.Getenv("STEPCACHE_ROOT"); root != "" {
		c := &Cache{Root: root}
		var in Inputs
		in.Add("x", os.Getenv("STEPCACHE_INPUT"))
		e, err := c.Do(context.Background(), "k", "n", in, Options{}, func(ctx context.Context, tmp, final, work string) error {
			if err := os.WriteFile(filepath.Join(tmp, "half"), []byte("partial"), 0o644); err != nil {
				return err
			}
			if os.Getenv("STEPCACHE_HANG") == "1" {
				fmt.Println("making")
				time.Sleep(time.Hour)
			}
			time.Sleep(200 * time.Millisecond) // long enough for others to queue up
			return os.WriteFile(filepath.Join(tmp, "who"), []byte(fmt.Sprint(os.Getpid())), 0o644)
		})
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(3)
		}
		who, err := os.ReadFile(filepath.Join(e.Dir, "who"))
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(4)
		}
		fmt.Printf("hit=%v who=%s\n", e.Hit, who)
		e.Release()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func inputs(pairs ...string) Inputs {
	var in Inputs
	for i := 0; i+1 < len(pairs); i += 2 {
		in.Add(pairs[i], pairs[i+1])
	}
	return in
}

func TestKeyIgnoresOrderAndSeesEveryInput(t *testing.T) {
	a, _ := inputs("a", "1", "b", "2").Key()
	b, _ := inputs("b", "2", "a", "1").Key()
	c, _ := inputs("a", "1", "b", "3").Key()
	d, _ := inputs("a", "1=b", "b", "2").Key()
	if a != b {
		t.Error("the key depends on the order inputs were declared in")
	}
	if a == c || a == d {
		t.Error("a changed input kept the key")
	}
	// Values that would run together must not give one key.
	e, _ := inputs("ab", "c").Key()
	f, _ := inputs("a", "bc").Key()
	if e == f {
		t.Error("name/value boundaries are ambiguous in the key")
	}
	var dup Inputs
	dup.Add("a", "1").Add("a", "2")
	if _, err := dup.Key(); err == nil || !strings.Contains(err.Error(), "twice") {
		t.Errorf("an input declared twice: %v", err)
	}
}

func TestAddFilesFollowsContent(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "0001-fix.patch")
	os.WriteFile(p, []byte("one"), 0o644)
	var in1 Inputs
	if err := in1.AddFiles("patches", []string{p}); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(p, []byte("two"), 0o644)
	var in2 Inputs
	in2.AddFiles("patches", []string{p})
	k1, _ := in1.Key()
	k2, _ := in2.Key()
	if k1 == k2 {
		t.Error("a patch's new content kept the key")
	}
	var in3 Inputs
	if err := in3.AddFile("gone", filepath.Join(dir, "missing")); err == nil {
		t.Error("a missing input file was accepted")
	}
}

func TestMakeOnceThenHit(t *testing.T) {
	c := &Cache{Root: t.TempDir()}
	made := 0
	mk := func(ctx context.Context, tmp, final, work string) error {
		made++
		if filepath.Dir(tmp) == filepath.Dir(final) {
			t.Errorf("temp folder %s beside the final one", tmp)
		}
		return os.WriteFile(filepath.Join(tmp, "f"), []byte(final), 0o644)
	}
	e1, err := c.Do(context.Background(), "deps", "glib-2.74.6", inputs("v", "1"), Options{}, mk)
	if err != nil {
		t.Fatal(err)
	}
	e1.Release()
	e2, err := c.Do(context.Background(), "deps", "glib-2.74.6", inputs("v", "1"), Options{}, mk)
	if err != nil {
		t.Fatal(err)
	}
	defer e2.Release()
	if made != 1 || e1.Hit || !e2.Hit || e1.Dir != e2.Dir {
		t.Fatalf("made %d times; hits %v %v; dirs %s %s", made, e1.Hit, e2.Hit, e1.Dir, e2.Dir)
	}
	if b, _ := os.ReadFile(filepath.Join(e2.Dir, "f")); string(b) != e2.Dir {
		t.Errorf("make was told the final folder %q, the entry is at %q", b, e2.Dir)
	}
	rec, err := ReadRecord(e2.Dir)
	if err != nil || rec.Kind != "deps" || len(rec.Inputs) != 1 || rec.Inputs[0] != (Input{"v", "1"}) {
		t.Fatalf("record %+v %v", rec, err)
	}
	// A changed input: a new entry, the old one untouched.
	e3, err := c.Do(context.Background(), "deps", "glib-2.74.6", inputs("v", "2"), Options{}, mk)
	if err != nil {
		t.Fatal(err)
	}
	defer e3.Release()
	if e3.Hit || e3.Dir == e2.Dir || made != 2 {
		t.Fatalf("changed input: hit=%v dir=%s made=%d", e3.Hit, e3.Dir, made)
	}
}

func TestFailedMakeLeavesNothing(t *testing.T) {
	c := &Cache{Root: t.TempDir()}
	boom := errors.New("configure failed")
	_, err := c.Do(context.Background(), "build", "qemu-10.2.2", inputs("v", "1"), Options{}, func(ctx context.Context, tmp, final, work string) error {
		os.WriteFile(filepath.Join(tmp, "half"), nil, 0o644)
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("error %v", err)
	}
	p, _ := c.Path("build", "qemu-10.2.2", inputs("v", "1"))
	if _, err := os.Stat(p); err == nil {
		t.Fatal("a failed make left an entry")
	}
	if left, _ := filepath.Glob(filepath.Join(c.Root, "build", ".tmp", "*")); len(left) > 0 {
		t.Fatalf("a failed make left %v", left)
	}
}

func TestCheckFailureRemakes(t *testing.T) {
	c := &Cache{Root: t.TempDir()}
	made := 0
	o := Options{Check: func(dir string) error {
		_, err := os.Stat(filepath.Join(dir, "prog.exe"))
		return err
	}}
	mk := func(ctx context.Context, tmp, final, work string) error {
		made++
		return os.WriteFile(filepath.Join(tmp, "prog.exe"), []byte("MZ"), 0o644)
	}
	e, err := c.Do(context.Background(), "build", "q", inputs("v", "1"), o, mk)
	if err != nil {
		t.Fatal(err)
	}
	e.Release()
	os.Remove(filepath.Join(e.Dir, "prog.exe")) // damaged by hand
	e, err = c.Do(context.Background(), "build", "q", inputs("v", "1"), o, mk)
	if err != nil {
		t.Fatal(err)
	}
	e.Release()
	if made != 2 || e.Hit {
		t.Fatalf("a damaged entry was reused (made %d, hit %v)", made, e.Hit)
	}
	// A make whose result fails the check is an error, not an entry.
	_, err = c.Do(context.Background(), "build", "q2", inputs("v", "1"), o, func(ctx context.Context, tmp, final, work string) error { return nil })
	if err == nil || !strings.Contains(err.Error(), "fails its own check") {
		t.Fatalf("a make that fails its check: %v", err)
	}
}

func TestGoroutinesShareOneMake(t *testing.T) {
	c := &Cache{Root: t.TempDir()}
	var made atomic.Int32
	var wg sync.WaitGroup
	dirs := make([]string, 8)
	for i := range dirs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			e, err := c.Do(context.Background(), "stack", "s", inputs("v", "1"), Options{}, func(ctx context.Context, tmp, final, work string) error {
				made.Add(1)
				time.Sleep(100 * time.Millisecond)
				return os.WriteFile(filepath.Join(tmp, "x"), nil, 0o644)
			})
			if err != nil {
				t.Error(err)
				return
			}
			dirs[i] = e.Dir
			e.Release()
		}()
	}
	wg.Wait()
	if made.Load() != 1 {
		t.Fatalf("made %d times by 8 concurrent callers", made.Load())
	}
}

// run starts this test binary as another process making the entry.
func run(t *testing.T, root, input string, hang bool) (*exec.Cmd, *bufio.Reader) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "STEPCACHE_ROOT="+root, "STEPCACHE_INPUT="+input)
	if hang {
		cmd.Env = append(cmd.Env, "STEPCACHE_HANG=1")
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return cmd, bufio.NewReader(out)
}

func TestProcessesShareOneMake(t *testing.T) {
	root := t.TempDir()
	var cmds []*exec.Cmd
	var outs []*bufio.Reader
	for i := 0; i < 4; i++ {
		c, o := run(t, root, "same", false)
		cmds, outs = append(cmds, c), append(outs, o)
	}
	makers := map[string]bool{}
	misses := 0
	for i, c := range cmds {
		line, _ := outs[i].ReadString('\n')
		if err := c.Wait(); err != nil {
			t.Fatalf("process %d: %v (%q)", i, err, line)
		}
		var hit bool
		var who string
		if _, err := fmt.Sscanf(strings.TrimSpace(line), "hit=%t who=%s", &hit, &who); err != nil {
			t.Fatalf("process %d said %q", i, line)
		}
		makers[who] = true
		if !hit {
			misses++
		}
	}
	if len(makers) != 1 || misses != 1 {
		t.Fatalf("4 processes on one cache: %d makers, %d made it (want 1 and 1)", len(makers), misses)
	}
}

func TestKilledMakeIsNotReused(t *testing.T) {
	root := t.TempDir()
	cmd, out := run(t, root, "k9", true)
	if line, _ := out.ReadString('\n'); line != "making\n" {
		cmd.Process.Kill()
		t.Fatalf("maker said %q", line)
	}
	cmd.Process.Kill() // kill -9 halfway through make
	cmd.Wait()
	if left, _ := filepath.Glob(filepath.Join(root, "k", ".tmp", "*")); len(left) != 1 {
		t.Fatalf("expected the killed run's temp folder, found %v", left)
	}
	// A rerun makes it whole, and the killed run's half is gone.
	cmd2, out2 := run(t, root, "k9", false)
	line, _ := out2.ReadString('\n')
	if err := cmd2.Wait(); err != nil || !strings.HasPrefix(line, "hit=false") {
		t.Fatalf("rerun: %v %q", err, line)
	}
	if left, _ := filepath.Glob(filepath.Join(root, "k", ".tmp", "*")); len(left) != 0 {
		t.Fatalf("the killed run's temp folder survived the rerun: %v", left)
	}
}

func TestPruneKeepsNewestAndHeld(t *testing.T) {
	c := &Cache{Root: t.TempDir(), Keep: 1}
	mk := func(ctx context.Context, tmp, final, work string) error { return nil }
	var dirs []string
	var held *Entry
	for i := 0; i < 4; i++ {
		e, err := c.Do(context.Background(), "build", "qemu-10.2.2", inputs("v", fmt.Sprint(i)), Options{}, mk)
		if err != nil {
			t.Fatal(err)
		}
		dirs = append(dirs, e.Dir)
		if i == 0 {
			held = e // another run is still using the oldest
		} else {
			e.Release()
		}
		time.Sleep(20 * time.Millisecond)
	}
	other, _ := c.Do(context.Background(), "build", "qemu-7.2.22", inputs("v", "x"), Options{}, mk)
	other.Release()
	pruned, err := c.Prune()
	if err != nil {
		t.Fatal(err)
	}
	gone := map[string]bool{}
	for _, p := range pruned {
		gone[p.Dir] = true
	}
	if gone[dirs[0]] || gone[dirs[3]] || !gone[dirs[1]] || !gone[dirs[2]] || gone[other.Dir] {
		t.Fatalf("pruned %v of %v (held %s, newest %s)", pruned, dirs, dirs[0], dirs[3])
	}
	held.Release()
	if _, err := os.Stat(dirs[3]); err != nil {
		t.Fatal("the newest entry was pruned")
	}
}

func TestBadRootAndNames(t *testing.T) {
	mk := func(ctx context.Context, tmp, final, work string) error { return nil }
	if _, err := (&Cache{Root: "rel/cache"}).Do(context.Background(), "k", "n", inputs("a", "b"), Options{}, mk); err == nil {
		t.Error("a relative cache root was accepted")
	}
	c := &Cache{Root: t.TempDir()}
	for _, name := range []string{"", "../up", "a/b", ".hidden", "con:x"} {
		if _, err := c.Do(context.Background(), "k", name, inputs("a", "b"), Options{}, mk); err == nil {
			t.Errorf("name %q was accepted", name)
		}
	}
}

func TestResumableKeepsWork(t *testing.T) {
	c := &Cache{Root: t.TempDir()}
	attempt := 0
	mk := func(ctx context.Context, tmp, final, work string) error {
		attempt++
		marker := filepath.Join(work, "objects")
		if attempt == 1 {
			os.WriteFile(marker, []byte("half the build"), 0o644)
			return errors.New("interrupted")
		}
		if _, err := os.Stat(marker); err != nil {
			return fmt.Errorf("the resumed attempt lost its scratch: %v", err)
		}
		return nil
	}
	o := Options{Resumable: true}
	if _, err := c.Do(context.Background(), "build", "q", inputs("v", "1"), o, mk); err == nil {
		t.Fatal("first attempt should fail")
	}
	e, err := c.Do(context.Background(), "build", "q", inputs("v", "1"), o, mk)
	if err != nil {
		t.Fatal(err)
	}
	e.Release()
	if _, err := os.Stat(filepath.Join(c.Root, "build", ".work", ID("q", e.Key))); err == nil {
		t.Error("the scratch folder outlived the finished entry")
	}
}
