//go:build linux

package deps

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

const helperEnv = "QEMUPACK_DEPS_TEST_HELPER"

// TestHelperBuild is not a test on its own: TestKilledBuildIsIgnored runs
// the test binary again with it to have a real build to kill -9.
func TestHelperBuild(t *testing.T) {
	cache := os.Getenv(helperEnv)
	if cache == "" {
		t.Skip("helper process only (run by TestKilledBuildIsIgnored)")
	}
	o := options(t, cache, testMirror(t), filepath.Join(cache, "no-patches"), probe(t), realRecipes(t, "libffi"), "libffi")
	o.Out = os.Stdout
	o.Jobs = 1
	Build(context.Background(), o)
}

// TestKilledBuildIsIgnored kills a real libffi build with SIGKILL in the
// middle of make (the builder and every compiler it started), then checks
// that no prefix was left that looks usable, and that a rerun completes.
func TestKilledBuildIsIgnored(t *testing.T) {
	mirror := testMirror(t)
	tc := probe(t)
	cache := filepath.Join(t.TempDir(), "cache")
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperBuild$", "-test.v")
	cmd.Env = append(os.Environ(), helperEnv+"="+cache, mirrorEnv+"="+mirror)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(out)
	killed := false
	deadline := time.AfterFunc(5*time.Minute, func() { cmd.Process.Kill() })
	defer deadline.Stop()
	for sc.Scan() {
		line := sc.Text()
		t.Log("helper: " + line)
		if strings.Contains(line, "libffi 3.4.4: make") {
			// Kill once a compiler runs for the build, so the kill lands in
			// the middle of make whatever the machine's speed.
			waitForCompiler(filepath.Join(cache, "deps", ".work"), time.Minute)
			cmd.Process.Signal(syscall.SIGKILL)
			killAllUnder(t, filepath.Join(cache, "deps", ".work"))
			killed = true
			break
		}
	}
	go func() {
		for sc.Scan() {
		}
	}()
	cmd.Wait()
	if !killed {
		t.Fatal("the helper build ended before it could be killed")
	}
	// No prefix, only the dead build's work folder.
	dirs, _ := filepath.Glob(filepath.Join(cache, "deps", "libffi-*"))
	if len(dirs) != 0 {
		t.Fatalf("a killed build left a prefix: %v", dirs)
	}
	work, _ := filepath.Glob(filepath.Join(cache, "deps", ".work", "libffi-*"))
	if len(work) != 1 {
		t.Fatalf("expected the dead build's work folder, found %v", work)
	}
	o := options(t, cache, mirror, filepath.Join(cache, "no-patches"), tc, realRecipes(t, "libffi"), "libffi")
	if got := rebuildSet(t, o); len(got) != 1 || got[0] != "libffi" {
		t.Fatalf("after the kill the plan should rebuild libffi, says %v", got)
	}
	st, err := Build(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if st.Built != 1 {
		t.Fatalf("rerun built %d", st.Built)
	}
	if _, err := os.Stat(filepath.Join(st.Libs[0].Prefix, "bin", "libffi-8.dll")); err != nil {
		t.Fatal(err)
	}
}

// waitForCompiler waits until a C compiler (cc1) runs with its working
// folder under dir, or until the limit passes.
func waitForCompiler(dir string, limit time.Duration) {
	for end := time.Now().Add(limit); time.Now().Before(end); time.Sleep(20 * time.Millisecond) {
		ents, _ := os.ReadDir("/proc")
		for _, e := range ents {
			if _, err := strconv.Atoi(e.Name()); err != nil {
				continue
			}
			comm, _ := os.ReadFile(filepath.Join("/proc", e.Name(), "comm"))
			cwd, err := os.Readlink(filepath.Join("/proc", e.Name(), "cwd"))
			if err == nil && strings.TrimSpace(string(comm)) == "cc1" && strings.HasPrefix(cwd, dir) {
				return
			}
		}
	}
}

// killAllUnder SIGKILLs every process whose working folder is under dir:
// the configure/make/gcc processes the killed builder started run in
// their own process groups and would otherwise go on.
func killAllUnder(t *testing.T, dir string) {
	for round := 0; round < 5; round++ {
		ents, _ := os.ReadDir("/proc")
		n := 0
		for _, e := range ents {
			pid, err := strconv.Atoi(e.Name())
			if err != nil || pid == os.Getpid() {
				continue
			}
			cwd, err := os.Readlink(filepath.Join("/proc", e.Name(), "cwd"))
			if err == nil && strings.HasPrefix(cwd, dir) {
				syscall.Kill(pid, syscall.SIGKILL)
				n++
			}
		}
		if n == 0 {
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
}
