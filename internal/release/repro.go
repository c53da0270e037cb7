package release

import (
	"archive/zip"
	"bytes"
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"qemupack/internal/checksum"
	"qemupack/internal/run"
)

// Difference describes where two outputs first differ.
type Difference struct {
	File   string // the dist/ file, e.g. qemu-9.2.4-win64.zip
	Entry  string // the archive entry, "" for a plain file or the file list
	What   string // what differs
	Offset int64  // first differing byte of the content, -1 when not content
	// Leaks are the build folders (of either run) found in the differing
	// content: the usual cause (a path baked into a binary).
	Leaks []string
}

func (d *Difference) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "not reproducible: %s", d.File)
	if d.Entry != "" {
		fmt.Fprintf(&b, ", entry %s", d.Entry)
	}
	fmt.Fprintf(&b, ": %s", d.What)
	if d.Offset >= 0 {
		fmt.Fprintf(&b, " (first difference at byte %d)", d.Offset)
	}
	if len(d.Leaks) > 0 {
		fmt.Fprintf(&b, "; it contains the build folder %s: a path leaks into the output (build with -ffile-prefix-map=<folder>=. and strip debug information)", strings.Join(d.Leaks, " and "))
	}
	return b.String()
}

// CompareFiles compares two outputs of the same name; zip archives entry by
// entry (name, order, time, mode, content), others byte by byte. leaks are
// build folders to look for in differing content. It returns nil when they
// are identical.
func CompareFiles(a, b string, leaks []string) (*Difference, error) {
	da, err := os.ReadFile(a)
	if err != nil {
		return nil, err
	}
	db, err := os.ReadFile(b)
	if err != nil {
		return nil, err
	}
	name := filepath.Base(a)
	if bytes.Equal(da, db) {
		return nil, nil
	}
	if strings.HasSuffix(strings.ToLower(name), ".zip") {
		d, err := compareZips(da, db, leaks)
		if err != nil {
			return nil, fmt.Errorf("compare %s: %w", name, err)
		}
		if d != nil {
			d.File = name
			return d, nil
		}
		// Entries equal: the difference is in the zip structure itself.
	}
	return &Difference{File: name, What: fmt.Sprintf("%d and %d bytes differ", len(da), len(db)), Offset: firstDiff(da, db), Leaks: findLeaks(da, db, leaks)}, nil
}

func compareZips(a, b []byte, leaks []string) (*Difference, error) {
	za, err := zip.NewReader(bytes.NewReader(a), int64(len(a)))
	if err != nil {
		return nil, err
	}
	zb, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		return nil, err
	}
	for i := 0; i < len(za.File) || i < len(zb.File); i++ {
		if i >= len(za.File) || i >= len(zb.File) {
			var extra string
			if i < len(za.File) {
				extra = "first run has an extra entry " + za.File[i].Name
			} else {
				extra = "second run has an extra entry " + zb.File[i].Name
			}
			return &Difference{What: extra, Offset: -1}, nil
		}
		fa, fb := za.File[i], zb.File[i]
		if fa.Name != fb.Name {
			return &Difference{Entry: fa.Name, What: fmt.Sprintf("entry %d is %s in the first run, %s in the second", i+1, fa.Name, fb.Name), Offset: -1}, nil
		}
		ca, err := readZip(fa)
		if err != nil {
			return nil, err
		}
		cb, err := readZip(fb)
		if err != nil {
			return nil, err
		}
		if !bytes.Equal(ca, cb) {
			return &Difference{Entry: fa.Name, What: fmt.Sprintf("content differs (%d and %d bytes)", len(ca), len(cb)), Offset: firstDiff(ca, cb), Leaks: findLeaks(ca, cb, leaks)}, nil
		}
		switch {
		case !fa.Modified.Equal(fb.Modified):
			return &Difference{Entry: fa.Name, What: fmt.Sprintf("time %s and %s", fa.Modified, fb.Modified), Offset: -1}, nil
		case fa.Mode() != fb.Mode():
			return &Difference{Entry: fa.Name, What: fmt.Sprintf("mode %v and %v", fa.Mode(), fb.Mode()), Offset: -1}, nil
		case fa.Method != fb.Method:
			return &Difference{Entry: fa.Name, What: fmt.Sprintf("compression method %d and %d", fa.Method, fb.Method), Offset: -1}, nil
		case !bytes.Equal(fa.Extra, fb.Extra) || fa.Comment != fb.Comment:
			return &Difference{Entry: fa.Name, What: "extra fields or comment differ", Offset: -1}, nil
		}
	}
	return nil, nil
}

func readZip(f *zip.File) ([]byte, error) {
	rc, err := f.Open()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", f.Name, err)
	}
	defer rc.Close()
	return io.ReadAll(rc)
}

func firstDiff(a, b []byte) int64 {
	n := min(len(a), len(b))
	for i := 0; i < n; i++ {
		if a[i] != b[i] {
			return int64(i)
		}
	}
	return int64(n)
}

func findLeaks(a, b []byte, leaks []string) []string {
	var out []string
	for _, l := range leaks {
		if l == "" {
			continue
		}
		if bytes.Contains(a, []byte(l)) || bytes.Contains(b, []byte(l)) {
			out = append(out, l)
		}
	}
	return out
}

// CompareDirs compares every file of two dist/ folders (same names, same
// content) and returns the first difference, nil when identical.
func CompareDirs(a, b string, leaks []string) (*Difference, error) {
	la, err := listDist(a)
	if err != nil {
		return nil, err
	}
	lb, err := listDist(b)
	if err != nil {
		return nil, err
	}
	if strings.Join(la, "\n") != strings.Join(lb, "\n") {
		return &Difference{File: "dist/", What: fmt.Sprintf("the runs made different files: %v and %v", la, lb), Offset: -1}, nil
	}
	if len(la) == 0 {
		return nil, fmt.Errorf("reprocheck: the build made nothing in %s", a)
	}
	// A checksum list differs whenever what it lists does: compare it
	// last, so the report names the file that differs.
	sort.SliceStable(la, func(i, j int) bool {
		return path.Base(la[i]) != checksum.SumsFile && path.Base(la[j]) == checksum.SumsFile
	})
	for _, n := range la {
		d, err := CompareFiles(filepath.Join(a, n), filepath.Join(b, n), leaks)
		if err != nil || d != nil {
			return d, err
		}
	}
	return nil, nil
}

func listDist(dir string) ([]string, error) {
	var out []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && !strings.HasPrefix(d.Name(), ".") {
			rel, _ := filepath.Rel(dir, p)
			out = append(out, filepath.ToSlash(rel))
		}
		return nil
	})
	sort.Strings(out)
	return out, err
}

// ReproOptions say how to run the reproducibility check.
type ReproOptions struct {
	Root string // the checkout to copy
	Work string // where the two copies go (their paths differ in length and name)
	// SecondWork, when set, is where the second copy goes instead: a
	// folder whose path starts differently (one before /usr, one after)
	// also catches what depends on how paths sort.
	SecondWork string
	// Command builds the outputs in a copy (run in its folder), e.g.
	// go run mage.go bundle.
	Command []string
	// Env is added to both runs (e.g. QEMU_VERSION, JOBS, SOURCE_DATE_EPOCH).
	Env []string
	// Share maps cache subfolders both runs may use from the user's cache
	// (e.g. "sources/<sha256>" → <cache>/sources/<sha256>): verified
	// downloads carry no path. Never share what a build's paths point
	// into (extracted trees, prefixes): both runs would then build from
	// the same folder and a leaked path would go unseen.
	Share map[string]string
	// Progress receives the build's output lines.
	Progress func(run, line string)
}

// ReproResult says what the check found.
type ReproResult struct {
	Dirs  [2]string // the two copies
	Dists [2]string
	Files []string    // the outputs compared
	Diff  *Difference // nil when identical
}

// Repro copies the checkout into two folders, builds in each with
// Command, and compares their dist/ folders. The error is a *Difference
// when the outputs differ.
func Repro(ctx context.Context, o ReproOptions) (ReproResult, error) {
	var res ReproResult
	if len(o.Command) == 0 {
		return res, fmt.Errorf("reprocheck: no build command")
	}
	files, err := checkoutFiles(ctx, o.Root)
	if err != nil {
		return res, err
	}
	names := [2]string{"a", "checkout-b-with-a-longer-name"}
	// Both copies are made before either build starts: a file edited in
	// the checkout while the first build runs must not reach only the
	// second (the two builds would then differ in their inputs).
	works := [2]string{o.Work, o.Work}
	if o.SecondWork != "" {
		works[1] = o.SecondWork
	}
	for i, n := range names {
		dir := filepath.Join(works[i], n, "qemupack")
		if err := os.RemoveAll(filepath.Join(works[i], n)); err != nil {
			return res, fmt.Errorf("reprocheck: %w", err)
		}
		if err := copyFiles(o.Root, dir, files); err != nil {
			return res, err
		}
		res.Dirs[i] = dir
	}
	for i, n := range names {
		dir := res.Dirs[i]
		cache := filepath.Join(dir, ".cache")
		for sub, from := range o.Share {
			if err := os.MkdirAll(from, 0o755); err != nil {
				return res, fmt.Errorf("reprocheck: %w", err)
			}
			link := filepath.Join(cache, filepath.FromSlash(sub))
			if err := os.MkdirAll(filepath.Dir(link), 0o755); err != nil {
				return res, fmt.Errorf("reprocheck: %w", err)
			}
			if err := os.Symlink(from, link); err != nil {
				return res, fmt.Errorf("reprocheck: share %s: %w", sub, err)
			}
		}
		res.Dists[i] = filepath.Join(dir, "dist")
		env := run.Environ(append([]string{"QEMUPACK_CACHE=" + cache, "QEMUPACK_DIST=" + res.Dists[i]}, o.Env...)...)
		label := fmt.Sprintf("run %d", i+1)
		err := run.Run(ctx, run.Cmd{
			Args: o.Command, Dir: dir, Env: env,
			Log: filepath.Join(o.Work, n+".log"),
			Line: func(l string) {
				if o.Progress != nil {
					o.Progress(label, l)
				}
			},
		})
		if err != nil {
			return res, fmt.Errorf("reprocheck: build in %s: %w", dir, err)
		}
	}
	res.Files, _ = listDist(res.Dists[0])
	leaks := []string{res.Dirs[0], res.Dirs[1], filepath.Dir(res.Dirs[0]), filepath.Dir(res.Dirs[1])}
	d, err := CompareDirs(res.Dists[0], res.Dists[1], leaks)
	if err != nil {
		return res, err
	}
	if d != nil {
		res.Diff = d
		return res, d
	}
	return res, nil
}

// checkoutFiles lists the files of the checkout a build may read: git's
// tracked and untracked-but-not-ignored files, or (no git) everything but
// .git, .cache and dist.
func checkoutFiles(ctx context.Context, root string) ([]string, error) {
	if _, err := exec.LookPath("git"); err == nil {
		out, err := run.Output(ctx, run.Cmd{Args: []string{"git", "-C", root, "ls-files", "-z", "--cached", "--others", "--exclude-standard"}})
		if err == nil {
			var files []string
			for _, f := range strings.Split(out, "\x00") {
				if f == "" {
					continue
				}
				if fi, err := os.Lstat(filepath.Join(root, f)); err == nil && fi.Mode().IsRegular() {
					files = append(files, f)
				}
			}
			return files, nil
		}
	}
	var files []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		if d.IsDir() && (rel == ".git" || rel == ".cache" || rel == "dist") {
			return filepath.SkipDir
		}
		if d.Type().IsRegular() {
			files = append(files, rel)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("reprocheck: list %s: %w", root, err)
	}
	return files, nil
}

func copyFiles(from, to string, files []string) error {
	for _, f := range files {
		src := filepath.Join(from, f)
		dst := filepath.Join(to, f)
		fi, err := os.Stat(src)
		if err != nil {
			return fmt.Errorf("reprocheck: %w", err)
		}
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return fmt.Errorf("reprocheck: %w", err)
		}
		data, err := os.ReadFile(src)
		if err != nil {
			return fmt.Errorf("reprocheck: %w", err)
		}
		if err := os.WriteFile(dst, data, fi.Mode().Perm()); err != nil {
			return fmt.Errorf("reprocheck: %w", err)
		}
	}
	return nil
}

// ShareDownloads lists the verified downloads under a cache's sources
// folder for ReproOptions.Share ("sources/<name>" → its folder), leaving
// out sources/qemu, where QEMU's trees are extracted and patched: each
// run extracts its own, so a source path that leaks into the binaries
// differs between the runs and shows. A missing folder shares nothing.
func ShareDownloads(sources string) (map[string]string, error) {
	share := map[string]string{}
	ents, err := os.ReadDir(sources)
	if os.IsNotExist(err) {
		return share, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reprocheck: %w", err)
	}
	for _, e := range ents {
		if e.IsDir() && e.Name() != "qemu" {
			share["sources/"+e.Name()] = filepath.Join(sources, e.Name())
		}
	}
	return share, nil
}
