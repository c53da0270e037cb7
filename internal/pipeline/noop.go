package pipeline

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"qemupack/internal/atomicfile"
	"qemupack/internal/checksum"
	"qemupack/internal/config"
	"qemupack/internal/debian"
)

// A no-op rerun: when a run of the main job finished, Remember writes what
// it depended on (a fingerprint of every input the steps read: this
// program, the settings and environment, the checkout's recipes and
// patches, the host's tools, packages and mingw libraries, the Debian
// package lists) and what it wrote (the dist files, by hash). Unchanged
// recomputes those fingerprints, which takes a few dozen stat calls and
// hashes, and only when every one is the same, and the package lists are
// still young enough that the pick would not read newer ones, the run is
// known to make what dist/ already holds and nothing needs to run.
//
// The record is this file's: <cache>/runs/<step>-<key>.json, key the
// settings and environment, so desk and headless runs (or two QEMU
// versions) on one cache each keep their own.

// noopVersion changes when what a record covers changes.
const noopVersion = "qemupack-noop-1"

type noopRecord struct {
	Version string    `json:"version"`
	Step    string    `json:"step"`
	Time    time.Time `json:"time"`
	// Inputs: name → fingerprint; the name says how to recompute it.
	Inputs map[string]string `json:"inputs"`
	// Outputs: dist file → sha256.
	Outputs map[string]string `json:"outputs"`
	// Line is the summary the target printed, for a rerun to print again.
	Line string `json:"line"`
}

// volatileEnv are environment variables that change between two runs in
// one shell without changing what a run does (and Mage's own, MAGEFILE_*).
var volatileEnv = map[string]bool{"PWD": true, "OLDPWD": true, "SHLVL": true, "_": true, "COLUMNS": true, "LINES": true}

// noopPath is the record's file for step with the settings c and the
// environment env.
func noopPath(c config.Config, step string, env []string) (string, error) {
	cc := c
	cc.Constraint = nil // QEMUVersion holds it as given
	b, err := json.Marshal(cc)
	if err != nil {
		return "", fmt.Errorf("no-op check: %w", err)
	}
	h := sha256.New()
	h.Write(b)
	var keep []string
	for _, kv := range env {
		if k, _, _ := strings.Cut(kv, "="); !volatileEnv[k] && !strings.HasPrefix(k, "MAGEFILE_") {
			keep = append(keep, kv)
		}
	}
	sort.Strings(keep)
	for _, kv := range keep {
		fmt.Fprintf(h, "\x00%s", kv)
	}
	return filepath.Join(c.CacheDir, "runs", step+"-"+hex.EncodeToString(h.Sum(nil))[:16]+".json"), nil
}

// Unchanged says whether the last finished run of step with these
// settings (and this environment) would make what dist/ holds now: it
// returns that run's summary line and true, or, when something changed,
// what did ("" when no run was recorded) and false.
func Unchanged(c config.Config, step string) (line string, ok bool, changed string) {
	p, err := noopPath(c, step, os.Environ())
	if err != nil {
		return "", false, err.Error()
	}
	b, err := os.ReadFile(p)
	if err != nil {
		return "", false, ""
	}
	var rec noopRecord
	if err := json.Unmarshal(b, &rec); err != nil || rec.Version != noopVersion || rec.Step != step || len(rec.Inputs) == 0 {
		return "", false, "the record of the last run is from another version of qemupack"
	}
	names := make([]string, 0, len(rec.Inputs))
	for n := range rec.Inputs {
		names = append(names, n)
	}
	sort.Strings(names)
	now := time.Now()
	for _, n := range names {
		v, err := inputPrint(c, n, now)
		if err != nil {
			return "", false, fmt.Sprintf("%s: %v", n, err)
		}
		if v != rec.Inputs[n] {
			return "", false, describeInput(n)
		}
	}
	for _, f := range sortedKeys(rec.Outputs) {
		sum, err := checksum.File(f)
		if err != nil {
			return "", false, fmt.Sprintf("%s is gone", f)
		}
		if sum != rec.Outputs[f] {
			return "", false, fmt.Sprintf("%s was rewritten", f)
		}
	}
	return rec.Line, true, ""
}

// Remember records this finished run of step (its summary line and the
// dist files it wrote) for Unchanged. A run whose inputs cannot all be
// fingerprinted is not recorded: the next run then runs its steps.
func (r *Run) Remember(step, line string, outputs []string) error {
	p, err := noopPath(r.Config, step, os.Environ())
	if err != nil {
		return err
	}
	now := time.Now()
	rec := noopRecord{Version: noopVersion, Step: step, Time: now, Inputs: map[string]string{}, Outputs: map[string]string{}, Line: line}
	for _, n := range r.inputNames(now) {
		v, err := inputPrint(r.Config, n, now)
		if err != nil {
			return fmt.Errorf("no-op record: %s: %w", n, err)
		}
		rec.Inputs[n] = v
	}
	for _, f := range outputs {
		sum, err := checksum.File(f)
		if err != nil {
			return fmt.Errorf("no-op record: %w", err)
		}
		rec.Outputs[f] = sum
	}
	b, err := json.MarshalIndent(rec, "", "  ")
	if err != nil {
		return fmt.Errorf("no-op record: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return fmt.Errorf("no-op record: %w", err)
	}
	return atomicfile.WriteFile(p, append(b, '\n'), 0o644)
}

// inputNames are the inputs of this run: the fixed ones, and what the
// probe found (every tool and need by the name it was looked up by, the
// interpreters, the sysroots' pkg-config folders, the compiler's runtime
// folder) and the Debian package lists this run read.
func (r *Run) inputNames(now time.Time) []string {
	names := []string{"program", "checkout:recipes", "checkout:patches", "host:packages", "host:apt-sources"}
	if r.Config.Mirror != "" {
		names = append(names, "mirror")
	}
	for _, t := range r.Host.Tools {
		if t.Path != "" {
			names = append(names, "tool:"+t.Command)
		}
	}
	for _, n := range r.Host.Needs {
		if n.Path != "" {
			names = append(names, "file:"+n.Path)
		}
	}
	for _, py := range []string{r.Host.ConfigurePython.Path, r.Host.ConfigurePython.Executable, r.Host.BuildPython.Path, r.Host.BuildPython.Executable} {
		if py != "" {
			names = append(names, "file:"+py)
		}
	}
	for _, s := range r.Host.Sysroots {
		for _, d := range s.PkgConfigDirs {
			names = append(names, "dir:"+d)
		}
	}
	if r.Host.GCCRuntime != "" {
		names = append(names, "dir:"+r.Host.GCCRuntime)
	}
	// The package lists this run read are the ones updated within the
	// last six hours (Open updates older ones before reading them).
	trees, _ := filepath.Glob(filepath.Join(r.Config.CacheDir, "apt", "*"))
	for _, t := range trees {
		if _, fresh, err := debian.Updated(t, now); err == nil && fresh {
			names = append(names, "apt:"+t)
		}
	}
	sort.Strings(names)
	out := names[:0]
	for i, n := range names {
		if i == 0 || n != names[i-1] {
			out = append(out, n)
		}
	}
	return out
}

// describeInput says in a user's words what a changed input is.
func describeInput(name string) string {
	kind, what, _ := strings.Cut(name, ":")
	switch kind {
	case "program":
		return "qemupack itself changed"
	case "checkout":
		return "the checkout's " + what + " changed"
	case "host":
		if what == "packages" {
			return "the host's installed packages changed"
		}
		return "the host's apt sources changed"
	case "mirror":
		return "the mirror folder changed"
	case "tool":
		return "the tool " + what + " changed"
	case "apt":
		return "Debian's package lists are due for an update"
	}
	return what + " changed"
}

// inputPrint is the fingerprint of the input called name, as of now.
func inputPrint(c config.Config, name string, now time.Time) (string, error) {
	kind, what, _ := strings.Cut(name, ":")
	switch kind {
	case "program":
		// By content: `go run mage.go` rebuilds (rewrites) the program on
		// every run, the same bytes when the code is the same.
		exe, err := os.Executable()
		if err != nil {
			return "", err
		}
		return checksum.File(exe)
	case "checkout":
		return treePrint(filepath.Join(c.Root, what), true)
	case "mirror":
		return treePrint(c.Mirror, false)
	case "host":
		if what == "packages" {
			// dpkg's database changes with every package installed,
			// removed or upgraded: the tools, the mingw libraries, wine.
			return statPrint("/var/lib/dpkg/status")
		}
		a, err := treePrint("/etc/apt", false)
		if err != nil {
			return "", err
		}
		b, err := statPrint("/etc/os-release")
		return a + " " + b, err
	case "tool":
		p, err := exec.LookPath(what)
		if err != nil {
			return "missing", nil
		}
		return statPrint(p)
	case "file":
		return statPrint(what)
	case "dir":
		return dirPrint(what)
	case "apt":
		t, fresh, err := debian.Updated(what, now)
		if err != nil {
			return "", err
		}
		if !fresh {
			return "stale", nil
		}
		return t.UTC().Format(time.RFC3339Nano), nil
	}
	return "", fmt.Errorf("unknown input %q", name)
}

// statPrint is a file's path (symbolic links followed), size and
// modification time, or "absent".
func statPrint(p string) (string, error) {
	real, err := filepath.EvalSymlinks(p)
	if errors.Is(err, fs.ErrNotExist) {
		return "absent", nil
	}
	if err != nil {
		return "", err
	}
	st, err := os.Stat(real)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("%s %d %d", real, st.Size(), st.ModTime().UnixNano()), nil
}

// dirPrint is a folder's entries: names, sizes and times (not recursive).
func dirPrint(dir string) (string, error) {
	ents, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return "absent", nil
	}
	if err != nil {
		return "", err
	}
	h := sha256.New()
	for _, e := range ents {
		info, err := e.Info()
		if err != nil {
			return "", err
		}
		fmt.Fprintf(h, "%s %d %d\x00", e.Name(), info.Size(), info.ModTime().UnixNano())
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// treePrint is a folder tree's files: with content, their bytes (the
// checkout's recipes and patches are small), else their sizes and times.
func treePrint(root string, content bool) (string, error) {
	h := sha256.New()
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		info, err := d.Info()
		if err != nil {
			return err
		}
		fmt.Fprintf(h, "%s %v %d", filepath.ToSlash(rel), info.Mode().Type(), info.Size())
		if !info.Mode().IsRegular() {
			h.Write([]byte{0})
			return nil
		}
		if !content {
			fmt.Fprintf(h, " %d\x00", info.ModTime().UnixNano())
			return nil
		}
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		defer f.Close()
		_, err = io.Copy(h, f)
		h.Write([]byte{0})
		return err
	})
	if errors.Is(err, fs.ErrNotExist) {
		return "absent", nil
	}
	if err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
