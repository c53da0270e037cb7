package release

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"
)

func cands(spec ...string) []Candidate {
	var out []Candidate
	for _, s := range spec {
		v, why, _ := strings.Cut(s, ":")
		out = append(out, Candidate{Version: v, OK: why == "", Why: why})
	}
	return out
}

func TestNewestSeries(t *testing.T) {
	all := cands("10.1.0", "10.0.3", "10.0.2", "9.2.4", "9.2.3", "9.1.3", "10.1.90", "9.0.2")
	m, err := NewestSeries(all, 3)
	if err != nil {
		t.Fatal(err)
	}
	if got := m.JSON(); got != `{"include":[{"qemu":"10.1.0","series":"10.1"},{"qemu":"10.0.3","series":"10.0"},{"qemu":"9.2.4","series":"9.2"}]}` {
		t.Errorf("matrix: %s", got)
	}
	// The newest series cannot be built: the next ones are taken; a series
	// whose newest patch is not buildable falls back to its newest that is.
	m, err = NewestSeries(cands("10.1.0:glib 2.66 < 2.76", "10.0.3:pixman too old", "10.0.2", "9.2.4"), 2)
	if err != nil {
		t.Fatal(err)
	}
	if got := m.JSON(); got != `{"include":[{"qemu":"10.0.2","series":"10.0"},{"qemu":"9.2.4","series":"9.2"}]}` {
		t.Errorf("matrix: %s", got)
	}
	// Nothing buildable: an error with the reasons.
	_, err = NewestSeries(cands("10.1.0:glib 2.66 < 2.76", "10.0.3:meson 0.63 < 1.1", "10.1.91"), 2)
	var empty *ErrEmptyMatrix
	if !errors.As(err, &empty) || !strings.Contains(err.Error(), "10.1.0: glib 2.66 < 2.76") || !strings.Contains(err.Error(), "10.0.3: meson") {
		t.Errorf("want an empty-matrix error with reasons, got %v", err)
	}
	if strings.Contains(err.Error(), "10.1.91") {
		t.Errorf("a release candidate was considered: %v", err)
	}
	if _, err := NewestSeries(nil, 2); err == nil || !strings.Contains(err.Error(), "catalog") {
		t.Errorf("empty catalog: %v", err)
	}
	if _, err := NewestSeries(all, 0); err == nil {
		t.Error("zero series accepted")
	}
}

func TestTags(t *testing.T) {
	known := []string{"10.1.0", "9.2.4", "9.2.3"}
	for tag, want := range map[string]string{"v9.2.4": "9.2.4", "qemu-9.2.3": "9.2.3", "refs/tags/qemu-v10.1.0": "10.1.0"} {
		if got, err := VersionFromTag(tag, known); err != nil || got != want {
			t.Errorf("%s: %q, %v; want %s", tag, got, err, want)
		}
	}
	_, err := VersionFromTag("v9.2.9", known)
	if err == nil || !strings.Contains(err.Error(), "9.2.9") || !strings.Contains(err.Error(), "9.2.4, 9.2.3") {
		t.Errorf("unknown release: %v", err)
	}
	for _, bad := range []string{"release-1", "v9.2", "9.2.4", "qemu-latest"} {
		if _, err := VersionFromTag(bad, known); err == nil || !strings.Contains(err.Error(), "does not name a QEMU release") {
			t.Errorf("%s: %v", bad, err)
		}
	}
	m, err := ForTag("v9.2.4", cands("10.1.0", "9.2.4"))
	if err != nil || m.JSON() != `{"include":[{"qemu":"9.2.4","series":"9.2"}]}` {
		t.Errorf("ForTag: %s, %v", m.JSON(), err)
	}
	if _, err := ForTag("v9.2.4", cands("10.1.0", "9.2.4:glib too old")); err == nil || !strings.Contains(err.Error(), "glib too old") {
		t.Errorf("unbuildable tagged release: %v", err)
	}
}

// repoRoot is the checkout this test runs in.
func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// TestWorkflowsPassActionlint runs actionlint (and shellcheck on the run
// scripts) over every workflow of the checkout.
func TestWorkflowsPassActionlint(t *testing.T) {
	sc, err := exec.LookPath("shellcheck")
	if err != nil {
		t.Fatal("shellcheck not found: apt-get install shellcheck (actionlint checks the workflow's scripts with it)")
	}
	files, err := Workflows(repoRoot(t))
	if err != nil || len(files) == 0 {
		t.Fatalf("no workflow files: %v", err)
	}
	out, err := Lint(files, sc)
	if err != nil {
		t.Fatal(err)
	}
	if out != "" {
		t.Errorf("actionlint:\n%s", out)
	}
}

func TestLintFindsProblems(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yml")
	os.WriteFile(bad, []byte("on: push\njobs:\n  a:\n    runs-on: ubuntu-24.04\n    steps:\n      - run: echo ${{ matrix.nope }}\n      - uses: actions/checkout@v4\n        with:\n          nonsense: 1\n"), 0o644)
	out, err := Lint([]string{bad}, "")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, `"nope" is not defined`) || !strings.Contains(out, `input "nonsense" is not defined`) {
		t.Errorf("actionlint did not report the bad workflow:\n%s", out)
	}
}

// TestWorkflowMageTargetsExist checks every target a workflow runs is one
// the magefiles define.
func TestWorkflowMageTargetsExist(t *testing.T) {
	root := repoRoot(t)
	targets, err := MageTargets(root)
	if err != nil {
		t.Fatal(err)
	}
	files, _ := Workflows(root)
	named := 0
	for _, f := range files {
		used, err := WorkflowMageTargets(f)
		if err != nil {
			t.Fatal(err)
		}
		for name, line := range used {
			named++
			if _, ok := targets[name]; !ok {
				var have []string
				for k := range targets {
					have = append(have, k)
				}
				sort.Strings(have)
				t.Errorf("%s:%d runs mage target %q, which no magefile defines (have: %s)", f, line, name, strings.Join(have, ", "))
			}
		}
	}
	if named == 0 {
		t.Error("the workflows name no mage target: the parser found nothing")
	}
}

func TestMageTargetParsing(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "magefile.go"), []byte(`//go:build mage

package main

import "github.com/magefile/mage/mg"

type Catalog mg.Namespace

var Aliases = map[string]interface{}{"b": Bundle}

// Bundle makes the archive.
func Bundle() error { return nil }
func helper() {}
// Refresh rewrites the catalog.
func (Catalog) Refresh() error { return nil }
`), 0o644)
	os.WriteFile(filepath.Join(dir, "magefile_x.go"), []byte("package main\n\nfunc NotATarget() {}\n"), 0o644)
	got, err := MageTargets(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for k := range got {
		names = append(names, k)
	}
	sort.Strings(names)
	if strings.Join(names, " ") != "b bundle catalog:refresh" {
		t.Errorf("targets: %v", names)
	}
	if got["bundle"] != "Bundle makes the archive.\n" || got["catalog:refresh"] != "Refresh rewrites the catalog.\n" {
		t.Errorf("docs: %q", got)
	}
	wf := filepath.Join(dir, "w.yml")
	os.WriteFile(wf, []byte("on: push\njobs:\n  a:\n    runs-on: x\n    steps:\n      - run: |\n          m=$(go run mage.go -v matrix)\n          mage catalog:refresh bundle && echo done\n"), 0o644)
	used, err := WorkflowMageTargets(wf)
	if err != nil {
		t.Fatal(err)
	}
	if len(used) != 3 || used["matrix"] == 0 || used["catalog:refresh"] == 0 || used["bundle"] == 0 {
		t.Errorf("targets used: %v", used)
	}
}

func writeZip(t *testing.T, path string, entries map[string][]byte, mtime time.Time) {
	t.Helper()
	var names []string
	for n := range entries {
		names = append(names, n)
	}
	sort.Strings(names)
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, n := range names {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: n, Method: zip.Deflate, Modified: mtime})
		if err != nil {
			t.Fatal(err)
		}
		w.Write(entries[n])
	}
	zw.Close()
	os.MkdirAll(filepath.Dir(path), 0o755)
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestCompareFiles(t *testing.T) {
	dir := t.TempDir()
	ts := time.Date(2024, 1, 2, 3, 4, 6, 0, time.UTC)
	a, b := filepath.Join(dir, "a", "q.zip"), filepath.Join(dir, "b", "q.zip")
	writeZip(t, a, map[string][]byte{"q/x.exe": []byte("MZ built in /build/a/src"), "q/y.dll": []byte("same")}, ts)
	writeZip(t, b, map[string][]byte{"q/x.exe": []byte("MZ built in /build/bb/src"), "q/y.dll": []byte("same")}, ts)
	d, err := CompareFiles(a, b, []string{"/build/a", "/build/bb"})
	if err != nil || d == nil {
		t.Fatalf("difference not found: %v %v", d, err)
	}
	if d.Entry != "q/x.exe" || d.Offset != 19 || len(d.Leaks) != 2 || !strings.Contains(d.Error(), "-ffile-prefix-map") {
		t.Errorf("difference: %+v\n%s", d, d.Error())
	}
	// Same content, different time stamp.
	writeZip(t, b, map[string][]byte{"q/x.exe": []byte("MZ built in /build/a/src"), "q/y.dll": []byte("same")}, ts.Add(2*time.Second))
	d, _ = CompareFiles(a, b, nil)
	if d == nil || d.Entry != "q/x.exe" || !strings.Contains(d.What, "time") {
		t.Errorf("time difference: %+v", d)
	}
	// An extra entry.
	writeZip(t, b, map[string][]byte{"q/x.exe": []byte("MZ built in /build/a/src"), "q/y.dll": []byte("same"), "q/z": nil}, ts)
	d, _ = CompareFiles(a, b, nil)
	if d == nil || !strings.Contains(d.What, "extra entry q/z") {
		t.Errorf("extra entry: %+v", d)
	}
	// Identical.
	writeZip(t, b, map[string][]byte{"q/x.exe": []byte("MZ built in /build/a/src"), "q/y.dll": []byte("same")}, ts)
	if d, err := CompareFiles(a, b, nil); d != nil || err != nil {
		t.Errorf("identical archives: %+v %v", d, err)
	}
}

// TestReproTwoFolders runs the real check on a small checkout whose build
// compiles a Windows program with the mingw compiler from its own folder
// and zips it: without -ffile-prefix-map the checkout's path leaks into
// the program (assert's __FILE__) and the check must say so; with it the
// two folders give identical archives.
func TestReproTwoFolders(t *testing.T) {
	if _, err := exec.LookPath("x86_64-w64-mingw32-gcc"); err != nil {
		t.Fatal("x86_64-w64-mingw32-gcc not found: apt-get install gcc-mingw-w64-x86-64")
	}
	py, err := exec.LookPath("/usr/bin/python3")
	if err != nil {
		t.Fatal("/usr/bin/python3 not found: apt-get install python3")
	}
	for _, mapped := range []bool{false, true} {
		root := t.TempDir()
		os.WriteFile(filepath.Join(root, "hello.c"), []byte("#include <assert.h>\n#include <stdio.h>\nint main(int c, char **v) { assert(c > 0); puts(v[0]); return 0; }\n"), 0o644)
		flags := ""
		if mapped {
			flags = `-ffile-prefix-map="$PWD"=.`
		}
		script := `set -e
mkdir -p "$QEMUPACK_DIST" out
x86_64-w64-mingw32-gcc -O2 -g ` + flags + ` -o out/hello.exe "$PWD/hello.c"
touch -d "@$SOURCE_DATE_EPOCH" out/hello.exe
cd out && ` + py + ` -c 'import zipfile,sys,os,time
with zipfile.ZipFile(sys.argv[1], "w") as z:
    i = zipfile.ZipInfo("hello.exe", time.gmtime(int(os.environ["SOURCE_DATE_EPOCH"]))[:6]); z.writestr(i, open("hello.exe","rb").read())' "$QEMUPACK_DIST/hello.zip"
`
		os.WriteFile(filepath.Join(root, "build.sh"), []byte(script), 0o755)
		res, err := Repro(context.Background(), ReproOptions{
			Root:    root,
			Work:    filepath.Join(t.TempDir(), "repro"),
			Command: []string{"bash", "build.sh"},
			Env:     []string{"SOURCE_DATE_EPOCH=1700000000"},
			Share:   map[string]string{"sources": filepath.Join(t.TempDir(), "sources")},
		})
		var d *Difference
		switch {
		case mapped && err != nil:
			t.Errorf("with -ffile-prefix-map: %v", err)
		case mapped && (len(res.Files) != 1 || res.Files[0] != "hello.zip"):
			t.Errorf("compared %v, want hello.zip", res.Files)
		case !mapped && !errors.As(err, &d):
			t.Errorf("without -ffile-prefix-map: want a difference, got %v", err)
		case !mapped && (d.Entry != "hello.exe" || len(d.Leaks) == 0):
			t.Errorf("difference: %v (want entry hello.exe and the leaked build folder)", d)
		}
	}
}

func TestCheckoutFilesFollowsGit(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Fatal("git not found: apt-get install git")
	}
	root := t.TempDir()
	for p, text := range map[string]string{".gitignore": "/.cache/\n/dist/*\n", "a.go": "package a\n", "sub/b.txt": "b", ".cache/big": "x", "dist/old.zip": "z", "new.txt": "untracked"} {
		os.MkdirAll(filepath.Join(root, filepath.Dir(p)), 0o755)
		os.WriteFile(filepath.Join(root, p), []byte(text), 0o644)
	}
	for _, args := range [][]string{{"init", "-q"}, {"add", ".gitignore", "a.go", "sub/b.txt"}} {
		cmd := exec.Command("git", args...)
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	files, err := checkoutFiles(context.Background(), root)
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(files)
	if got := strings.Join(files, " "); got != ".gitignore a.go new.txt sub/b.txt" {
		t.Errorf("files copied: %s", got)
	}
}

// TestReproCopiesBeforeBuilding edits the checkout while the first build
// runs: the second build must still see the files as they were when the
// check started, so both build the same inputs.
func TestReproCopiesBeforeBuilding(t *testing.T) {
	root := t.TempDir()
	os.WriteFile(filepath.Join(root, "input.txt"), []byte("as checked out\n"), 0o644)
	os.WriteFile(filepath.Join(root, "build.sh"), []byte(`set -e
mkdir -p "$QEMUPACK_DIST"
cp input.txt "$QEMUPACK_DIST/out.txt"
echo "edited during the check" > "$ORIGINAL/input.txt"
`), 0o755)
	second := t.TempDir()
	res, err := Repro(context.Background(), ReproOptions{
		Root: root, Work: filepath.Join(t.TempDir(), "repro"), SecondWork: second,
		Command: []string{"bash", "build.sh"}, Env: []string{"ORIGINAL=" + root},
	})
	if err != nil {
		t.Fatalf("the second build saw the edit: %v", err)
	}
	if !strings.HasPrefix(res.Dirs[1], second+string(filepath.Separator)) {
		t.Errorf("second copy in %s, not under %s", res.Dirs[1], second)
	}
	got, _ := os.ReadFile(filepath.Join(res.Dists[1], "out.txt"))
	if string(got) != "as checked out\n" {
		t.Errorf("second build used %q", got)
	}
}

func TestShareDownloadsLeavesQEMUTreesOut(t *testing.T) {
	src := t.TempDir()
	for _, d := range []string{"0123abcd", "debian", "qemu/k/src"} {
		os.MkdirAll(filepath.Join(src, d), 0o755)
	}
	share, err := ShareDownloads(src)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"sources/0123abcd": filepath.Join(src, "0123abcd"), "sources/debian": filepath.Join(src, "debian")}
	if !reflect.DeepEqual(share, want) {
		t.Errorf("share %v, want %v", share, want)
	}
	if share, err := ShareDownloads(filepath.Join(src, "absent")); err != nil || len(share) != 0 {
		t.Errorf("absent folder: %v %v", share, err)
	}
}

// TestToolVersionStaysInItsCheckout: a copy of the checkout inside another
// git work tree (reprocheck's copies sit in the user's cache, inside the
// clone) has no version of its own, as a copy elsewhere has none.
func TestToolVersionStaysInItsCheckout(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Fatal("git not found: apt-get install git")
	}
	outer := t.TempDir()
	for _, args := range [][]string{{"init", "-q"}, {"-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "--allow-empty", "-m", "x"}} {
		if out, err := exec.Command("git", append([]string{"-C", outer}, args...)...).CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	if v := ToolVersion(context.Background(), outer); v == "unknown" {
		t.Errorf("the clone itself has no version")
	}
	inner := filepath.Join(outer, ".cache", "repro", "a", "qemupack")
	os.MkdirAll(inner, 0o755)
	if v := ToolVersion(context.Background(), inner); v != "unknown" {
		t.Errorf("a copy inside the clone took its version %q", v)
	}
}

// TestCompareDirsNamesTheArtifactNotTheSums: when an archive differs, its
// checksum list does too; the report names the archive.
func TestCompareDirsNamesTheArtifactNotTheSums(t *testing.T) {
	a, b := t.TempDir(), t.TempDir()
	for i, d := range []string{a, b} {
		os.WriteFile(filepath.Join(d, "qemu-setup.exe"), []byte(fmt.Sprintf("installer %d", i)), 0o644)
		os.WriteFile(filepath.Join(d, "SHA256SUMS"), []byte(fmt.Sprintf("%d  qemu-setup.exe\n", i)), 0o644)
	}
	d, err := CompareDirs(a, b, nil)
	if err != nil || d == nil || d.File != "qemu-setup.exe" {
		t.Errorf("difference %v (%v), want one in qemu-setup.exe", d, err)
	}
}
