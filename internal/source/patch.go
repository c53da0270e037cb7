package source

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"qemupack/internal/run"
)

// PatchFiles lists the *.patch and *.diff files in dir in name order
// (none when dir does not exist).
func PatchFiles(dir string) ([]string, error) {
	ents, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("patches: %w", err)
	}
	var out []string
	for _, e := range ents {
		n := e.Name()
		if e.Type().IsRegular() && (strings.HasSuffix(n, ".patch") || strings.HasSuffix(n, ".diff")) {
			out = append(out, filepath.Join(dir, n))
		}
	}
	sort.Strings(out)
	return out, nil
}

// PatchError says which patch failed where.
type PatchError struct {
	Patch  string // path of the patch file
	Origin string // whose patch: "" (ours) or "debian" (a Debian series')
	File   string // file in the tree the failing hunk is for ("" if unknown)
	Hunk   int    // 1-based number of the failing hunk within File (0 if unknown)
	Head   string // the hunk's "@@ ... @@" line, when found
	Out    string // what patch printed
}

func (e *PatchError) Error() string {
	var b strings.Builder
	what := "patch"
	if e.Origin == "debian" {
		what = "Debian patch"
	}
	fmt.Fprintf(&b, "%s %s does not apply", what, filepath.Base(e.Patch))
	if e.Hunk > 0 {
		fmt.Fprintf(&b, ": hunk #%d", e.Hunk)
		if e.Head != "" {
			fmt.Fprintf(&b, " (%s)", e.Head)
		}
		fmt.Fprintf(&b, " of %s fails", e.File)
	} else if e.File != "" {
		fmt.Fprintf(&b, " to %s", e.File)
	}
	fmt.Fprintf(&b, " (refresh it against this version, or remove it; %s)\n--- patch said ---\n%s", e.Patch, strings.TrimSpace(e.Out))
	return b.String()
}

var (
	reFile = regexp.MustCompile(`^(?:checking|patching) file '?([^']+?)'?$`)
	reHunk = regexp.MustCompile(`^Hunk #(\d+) FAILED`)
)

// ApplyPatches applies each patch (with -p1, in the order given) to the tree
// at dir using GNU patch (see ApplyPatch). log, when set, collects patch's
// output.
func ApplyPatches(ctx context.Context, dir string, patches []string, log string) error {
	for _, p := range patches {
		if err := ApplyPatch(ctx, dir, p, 1, "", logFor(log, p)); err != nil {
			return err
		}
	}
	return nil
}

// ApplyPatch applies one patch with -p<strip> to the tree at dir using GNU
// patch. The patch is first tried with --dry-run, so one that does not
// apply changes nothing; the error is a *PatchError naming the patch (and
// origin: "debian" for a Debian series' patch), the file and the hunk.
// log, when set, is the file patch's output goes to.
func ApplyPatch(ctx context.Context, dir, patch string, strip int, origin, log string) error {
	abs, err := filepath.Abs(patch)
	if err != nil {
		return err
	}
	base := []string{"patch", "-p" + strconv.Itoa(strip), "--batch", "--forward", "--no-backup-if-mismatch", "-i", abs}
	out, err := run.Output(ctx, run.Cmd{Args: append(base, "--dry-run"), Dir: dir, Env: run.Environ("LC_ALL=C")})
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		var re *run.Error
		if errors.As(err, &re) && strings.Contains(re.Err.Error(), "executable file not found") {
			return fmt.Errorf("apply %s: the patch program is missing (Debian: apt-get install patch; Cygwin: the patch package): %w", filepath.Base(patch), err)
		}
		pe := &PatchError{Patch: abs, Origin: origin, Out: out}
		if errors.As(err, &re) && re.Tail != "" {
			pe.Out += "\n" + re.Tail
		}
		pe.File, pe.Hunk = firstFailure(out)
		if pe.Hunk > 0 {
			pe.Head = hunkHeader(abs, pe.File, pe.Hunk)
		}
		return pe
	}
	if err := run.Run(ctx, run.Cmd{Args: base, Dir: dir, Env: run.Environ("LC_ALL=C"), Log: log}); err != nil {
		return fmt.Errorf("apply %s: %w", filepath.Base(patch), err)
	}
	return nil
}

func logFor(log, p string) string {
	if log == "" {
		return ""
	}
	return log + "." + filepath.Base(p) + ".log"
}

// firstFailure finds the first failed hunk in patch's output.
func firstFailure(out string) (file string, hunk int) {
	sc := bufio.NewScanner(strings.NewReader(out))
	cur := ""
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if m := reFile.FindStringSubmatch(line); m != nil {
			cur = m[1]
			continue
		}
		if m := reHunk.FindStringSubmatch(line); m != nil {
			n, _ := strconv.Atoi(m[1])
			return cur, n
		}
		if strings.Contains(line, "can't find file to patch") || strings.Contains(line, "No file to patch") {
			return cur, 0
		}
	}
	return cur, 0
}

// hunkHeader returns the @@ line of the n-th hunk for file in the patch.
func hunkHeader(patchFile, file string, n int) string {
	data, err := os.ReadFile(patchFile)
	if err != nil {
		return ""
	}
	in := false
	count := 0
	for _, line := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(line, "+++ ") {
			name := strings.Fields(strings.TrimPrefix(line, "+++ "))
			in = false
			if len(name) > 0 {
				p := name[0]
				if i := strings.Index(p, "/"); i >= 0 {
					p = p[i+1:] // -p1
				}
				in = p == file
			}
			count = 0
			continue
		}
		if in && strings.HasPrefix(line, "@@ ") {
			count++
			if count == n {
				if j := strings.Index(line[3:], " @@"); j >= 0 {
					return line[:3+j+3]
				}
				return line
			}
		}
	}
	return ""
}
