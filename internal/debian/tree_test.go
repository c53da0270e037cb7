package debian

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// The tests below run the real apt-get and apt-cache against an archive
// made in the test, served on the loopback and signed with a throwaway
// key: listing across suites, downloads, a file the archive does not
// serve, a file whose checksum is wrong, a suite with a bad signature,
// concurrent opens, and an unprivileged user.

type archive struct {
	url, keyring string
	shared       string // a folder every user may read and write
	orig10       []byte
}

func needApt(t *testing.T) {
	t.Helper()
	for _, p := range []string{"apt-get", "apt-cache", "gpg", "gpgv"} {
		if _, err := exec.LookPath(p); err != nil {
			t.Skipf("%s not installed: these tests run the real apt against a loopback archive", p)
		}
	}
}

// sharedDir is a folder every user may use (t.TempDir is the owner's only).
func sharedDir(t *testing.T) string {
	t.Helper()
	d, err := os.MkdirTemp("", "qemupack-debian-test-")
	if err != nil {
		t.Fatal(err)
	}
	os.Chmod(d, 0o777)
	t.Cleanup(func() { os.RemoveAll(d) })
	return d
}

func newArchive(t *testing.T) archive {
	t.Helper()
	needApt(t)
	shared := sharedDir(t)
	home, keyring := gpgKey(t, shared, "archive")
	otherHome, _ := gpgKey(t, shared, "intruder")
	os.Chmod(keyring, 0o644)
	dsc := func(v string) []byte { return []byte("Format: 3.0 (quilt)\nSource: hello\nVersion: " + v + "\n") }
	orig10 := compress(t, makeTarball(t, []tarEntry{{name: "hello-1.0/VERSION", body: "1.0.0\n"}}), "gz")
	deb10 := compress(t, makeTarball(t, []tarEntry{{name: "debian/patches/series", body: "\n"}}), "xz")
	orig20 := compress(t, makeTarball(t, []tarEntry{{name: "hello-2.0/VERSION", body: "2.0.0\n"}}), "gz")
	orig15 := compress(t, makeTarball(t, []tarEntry{{name: "hello-1.5/VERSION", body: "1.5.0\n"}}), "gz")
	data := makeDeb(t, "hello-data", "1.0-1", []tarEntry{
		{name: "./usr/share/hello/", typ: '5'},
		{name: "./usr/share/hello/bios.bin", body: "firmware"},
		{name: "./usr/share/qemu/", typ: '5'},
		{name: "./usr/share/qemu/bios.bin", typ: '2', link: "/usr/share/hello/bios.bin"},
	}, "xz")
	root := filepath.Join(shared, "repo")
	writeRepo(t, root, []testSuite{
		{name: "stable", signer: home,
			sources: []srcVersion{{pkg: "hello", version: "1.0-1", files: map[string][]byte{
				"hello_1.0-1.dsc": dsc("1.0-1"), "hello_1.0.orig.tar.gz": orig10, "hello_1.0-1.debian.tar.xz": deb10}}},
			bins: []binVersion{{pkg: "hello-data", version: "1.0-1", deb: data}}},
		{name: "unstable", signer: home, sources: []srcVersion{
			{pkg: "hello", version: "1.0-1", files: map[string][]byte{
				"hello_1.0-1.dsc": dsc("1.0-1"), "hello_1.0.orig.tar.gz": orig10, "hello_1.0-1.debian.tar.xz": deb10}},
			// Listed, but the archive does not serve its orig tarball.
			{pkg: "hello", version: "2.0-1", files: map[string][]byte{
				"hello_2.0-1.dsc": dsc("2.0-1"), "hello_2.0.orig.tar.gz": orig20, "hello_2.0-1.debian.tar.xz": deb10},
				missing: []string{"hello_2.0.orig.tar.gz"}},
			// The archive serves another orig tarball than its index lists.
			{pkg: "hello", version: "1.5-1", files: map[string][]byte{
				"hello_1.5-1.dsc": dsc("1.5-1"), "hello_1.5.orig.tar.gz": orig15, "hello_1.5-1.debian.tar.xz": deb10},
				listed: map[string][]byte{"hello_1.5.orig.tar.gz": flipped(orig15)}},
		}},
		// Signed by a key the tree does not trust.
		{name: "broken", signer: otherHome, sources: []srcVersion{{pkg: "hello", version: "9.0-1", files: map[string][]byte{
			"hello_9.0-1.dsc": dsc("9.0-1"), "hello_9.0.orig.tar.gz": orig10, "hello_9.0-1.debian.tar.xz": deb10}}}},
	})
	srv := httptest.NewServer(http.FileServer(http.Dir(root)))
	t.Cleanup(srv.Close)
	return archive{url: srv.URL, keyring: keyring, shared: shared, orig10: orig10}
}

func (a archive) options(t *testing.T) Options {
	return Options{
		Distro: &Distro{ID: "debian", Codename: "stable", Archive: a.url, Security: a.url, Keyring: a.keyring, Components: []string{"main"}},
		Suites: []string{"unstable", "broken"}, Root: t.TempDir(), NoHostSources: true, NoHostConfig: true,
		Progress: func(s string) { t.Log(s) },
	}
}

func TestTreeReadsTheArchive(t *testing.T) {
	a := newArchive(t)
	ctx := context.Background()
	cache := t.TempDir()
	tree, err := Open(ctx, cache, a.options(t))
	if err != nil {
		t.Fatal(err)
	}
	if !tree.DidUpdate {
		t.Error("a fresh tree was not updated")
	}
	// The host's -updates and -security do not exist here, and "broken"
	// is signed by a key the tree does not trust: problems, not failures.
	probs := strings.Join(tree.Problems, "\n")
	for _, want := range []string{"stable-updates", "stable-security", "broken"} {
		if !strings.Contains(probs, want) {
			t.Errorf("problems do not mention %s:\n%s", want, probs)
		}
	}
	if !strings.Contains(probs, "NO_PUBKEY") && !strings.Contains(probs, "not signed") && !strings.Contains(probs, "signature") {
		t.Errorf("the bad signature is not reported:\n%s", probs)
	}

	vs, err := tree.SourceVersions(ctx, "hello")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, v := range vs {
		got = append(got, fmt.Sprintf("%s %s %v", v.Version, v.Suite, v.Suites))
	}
	want := []string{"2.0-1 unstable [unstable]", "1.5-1 unstable [unstable]", "1.0-1 stable [stable unstable]"}
	if strings.Join(got, "; ") != strings.Join(want, "; ") {
		t.Errorf("versions:\n got %q\nwant %q (9.0-1 of the badly signed suite must not be there)", got, want)
	}
	if len(vs) != 3 || len(vs[2].Files) != 3 || !strings.HasPrefix(vs[2].Files[0].URL, a.url+"/pool/main/h/hello/") {
		t.Fatalf("files of 1.0-1: %+v", vs)
	}
	if none, err := tree.SourceVersions(ctx, "no-such-package"); err != nil || len(none) != 0 {
		t.Errorf("an unknown package: %v, %v", none, err)
	}

	// A served version downloads, each file checked by apt.
	dir := filepath.Join(t.TempDir(), "hello-1.0")
	if err := tree.DownloadSource(ctx, "hello", "1.0-1", dir); err != nil {
		t.Fatal(err)
	}
	for _, f := range vs[2].Files {
		b, err := os.ReadFile(filepath.Join(dir, f.Name))
		if err != nil {
			t.Fatal(err)
		}
		if sha, _ := sums(b); sha != f.SHA256 {
			t.Errorf("%s: sha256 %s, index %s", f.Name, sha, f.SHA256)
		}
	}
	if err := tree.Served(ctx, vs[2]); err != nil {
		t.Errorf("1.0-1 is served: %v", err)
	}

	// A listed version whose orig tarball is not served: a typed error
	// naming the file, from a HEAD check and from the download alike.
	var miss *MissingFileError
	err = tree.Served(ctx, vs[0])
	if !errors.As(err, &miss) || len(miss.Files) != 1 || miss.Files[0].Name != "hello_2.0.orig.tar.gz" {
		t.Errorf("Served(2.0-1) = %v", err)
	}
	err = tree.DownloadSource(ctx, "hello", "2.0-1", filepath.Join(t.TempDir(), "hello-2.0"))
	if !errors.As(err, &miss) || len(miss.Files) != 1 || miss.Files[0].Name != "hello_2.0.orig.tar.gz" || !strings.Contains(err.Error(), "404") {
		t.Errorf("DownloadSource(2.0-1) = %v", err)
	}

	// A file whose content does not match the index is refused by apt and
	// not handed over.
	bad := filepath.Join(t.TempDir(), "hello-1.5")
	err = tree.DownloadSource(ctx, "hello", "1.5-1", bad)
	if err == nil || errors.As(err, &miss) || !strings.Contains(err.Error(), "Hash Sum mismatch") {
		t.Errorf("DownloadSource(1.5-1) with a wrong checksum = %v", err)
	}
	if _, err := os.Stat(filepath.Join(bad, "hello_1.5.orig.tar.gz")); err == nil {
		t.Error("the orig tarball with the wrong checksum was handed over")
	}

	// By a file's sha256, as the recipes name their tarballs.
	sha, _ := sums(a.orig10)
	files, err := tree.DownloadSourceFile(ctx, "hello", sha, filepath.Join(t.TempDir(), "by-sum"))
	if err != nil || files["hello_1.0.orig.tar.gz"] != sha {
		t.Errorf("DownloadSourceFile: %v %v", files, err)
	}
	if _, err := tree.DownloadSourceFile(ctx, "hello", strings.Repeat("0", 64), t.TempDir()); err == nil || !strings.Contains(err.Error(), "no version of source package hello has a file with sha256") {
		t.Errorf("an unknown sum: %v", err)
	}

	// Binary packages: listed, downloaded, unpacked with the absolute link
	// made relative inside the package root.
	bs, err := tree.BinaryVersions(ctx, "hello-data")
	if err != nil || len(bs) != 1 || bs[0].Version != "1.0-1" || bs[0].Architecture != "all" || bs[0].Suite != "stable" {
		t.Fatalf("binary versions: %+v %v", bs, err)
	}
	deb, err := tree.DownloadBinary(ctx, "hello-data", "1.0-1", "", filepath.Join(t.TempDir(), "debs"))
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(deb); len(b) != int(bs[0].File.Size) {
		t.Errorf("%s: %d bytes, index %d", deb, len(b), bs[0].File.Size)
	}
	x := filepath.Join(t.TempDir(), "x")
	if err := ExtractDeb(deb, x); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(filepath.Join(x, "usr", "share", "qemu", "bios.bin")); err != nil || string(b) != "firmware" {
		t.Errorf("through the link: %q %v", b, err)
	}
	if _, err := tree.DownloadBinary(ctx, "hello-data", "7.7-7", "", t.TempDir()); err == nil {
		t.Error("a version nobody lists was downloaded")
	}

	// A second Open within MaxAge reuses the lists; one after it updates.
	again, err := Open(ctx, cache, a.options(t))
	if err != nil || again.DidUpdate || again.Dir != tree.Dir {
		t.Errorf("second open: updated=%v dir %s vs %s, %v", again != nil && again.DidUpdate, again.Dir, tree.Dir, err)
	}
	o := a.options(t)
	o.Now = func() time.Time { return time.Now().Add(DefaultMaxAge + time.Minute) }
	later, err := Open(ctx, cache, o)
	if err != nil || !later.DidUpdate {
		t.Errorf("open after MaxAge did not update: %v", err)
	}
	// Other suites are another tree.
	o = a.options(t)
	o.Suites = []string{}
	only, err := Open(ctx, cache, o)
	if err != nil || only.Dir == tree.Dir || len(only.Suites) != 3 {
		t.Errorf("host suites only: %+v %v", only, err)
	}
}

// flipped is data with its last byte changed: same size, other sums.
func flipped(data []byte) []byte {
	out := append([]byte(nil), data...)
	out[len(out)-1] ^= 0xff
	return out
}

// childResult is what a child process reports.
type childResult struct {
	Updated  bool     `json:"updated"`
	Versions []string `json:"versions"`
	Files    []string `json:"files"`
	Err      string   `json:"err"`
}

// TestMain lets the test binary stand in for another qemupack process
// (or another user): with QEMUPACK_DEBIAN_CHILD set it opens the tree
// that the other variables describe, lists hello's versions, downloads
// 1.0-1 when asked, prints a childResult and exits.
func TestMain(m *testing.M) {
	if os.Getenv("QEMUPACK_DEBIAN_CHILD") != "" {
		os.Exit(child())
	}
	os.Exit(m.Run())
}

func child() int {
	var r childResult
	err := func() error {
		ctx := context.Background()
		o := Options{
			Distro: &Distro{ID: "debian", Codename: "stable", Archive: os.Getenv("QD_URL"), Security: os.Getenv("QD_URL"),
				Keyring: os.Getenv("QD_KEYRING"), Components: []string{"main"}},
			Suites: []string{"unstable"}, Root: os.Getenv("QD_ROOT"), NoHostSources: true, NoHostConfig: true,
		}
		tree, err := Open(ctx, os.Getenv("QD_CACHE"), o)
		if err != nil {
			return err
		}
		r.Updated = tree.DidUpdate
		vs, err := tree.SourceVersions(ctx, "hello")
		if err != nil {
			return err
		}
		for _, v := range vs {
			r.Versions = append(r.Versions, v.Version)
		}
		if d := os.Getenv("QD_DOWNLOAD"); d != "" {
			if err := tree.DownloadSource(ctx, "hello", "1.0-1", d); err != nil {
				return err
			}
			ents, _ := os.ReadDir(d)
			for _, e := range ents {
				r.Files = append(r.Files, e.Name())
			}
		}
		return nil
	}()
	if err != nil {
		r.Err = err.Error()
	}
	json.NewEncoder(os.Stdout).Encode(r)
	return 0
}

func childEnv(a archive, cache, download string) []string {
	return []string{"QEMUPACK_DEBIAN_CHILD=1", "QD_URL=" + a.url, "QD_KEYRING=" + a.keyring, "QD_CACHE=" + cache,
		"QD_ROOT=" + a.shared, "QD_DOWNLOAD=" + download}
}

func runChild(t *testing.T, cmd *exec.Cmd) childResult {
	t.Helper()
	out, err := cmd.Output()
	var r childResult
	if jerr := json.Unmarshal(out, &r); jerr != nil {
		stderr := ""
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = string(ee.Stderr)
		}
		t.Fatalf("child: %v %v\n%s\n%s", err, jerr, out, stderr)
	}
	return r
}

// Two goroutines and two processes open one fresh tree at once: all of
// them read it, and the lists are fetched once.
func TestConcurrentOpen(t *testing.T) {
	a := newArchive(t)
	cache := t.TempDir()
	var wg sync.WaitGroup
	results := make([]childResult, 4)
	for i := 0; i < 2; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			cmd := exec.Command(os.Args[0], "-test.run=^$")
			cmd.Env = append(os.Environ(), childEnv(a, cache, filepath.Join(cache, fmt.Sprintf("dl-%d", i)))...)
			results[i] = runChild(t, cmd)
		}(i)
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			o := a.options(t)
			o.Suites = []string{"unstable"}
			o.Root = a.shared
			o.Progress = nil
			tree, err := Open(context.Background(), cache, o)
			if err != nil {
				results[i] = childResult{Err: err.Error()}
				return
			}
			vs, err := tree.SourceVersions(context.Background(), "hello")
			r := childResult{Updated: tree.DidUpdate}
			if err != nil {
				r.Err = err.Error()
			}
			for _, v := range vs {
				r.Versions = append(r.Versions, v.Version)
			}
			results[i] = r
		}(i + 2)
	}
	wg.Wait()
	updates := 0
	for i, r := range results {
		if r.Err != "" {
			t.Errorf("opener %d: %s", i, r.Err)
		}
		if strings.Join(r.Versions, " ") != "2.0-1 1.5-1 1.0-1" {
			t.Errorf("opener %d saw %v", i, r.Versions)
		}
		if r.Updated {
			updates++
		}
	}
	if updates != 1 {
		t.Errorf("%d of the 4 openers fetched the lists, want 1", updates)
	}
	for i := 0; i < 2; i++ {
		if len(results[i].Files) != 3 {
			t.Errorf("process %d downloaded %v", i, results[i].Files)
		}
	}
}

// An unprivileged user makes and reads a tree: no root needed. (Run as
// root, the test runs a copy of itself as nobody.)
func TestUnprivilegedUser(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("runs as a plain user already: every other test here proves it")
	}
	runuser, err := exec.LookPath("runuser")
	if err != nil {
		t.Skip("no runuser to become nobody")
	}
	a := newArchive(t)
	bin := filepath.Join(a.shared, "debian.test")
	src, err := os.Open(os.Args[0])
	if err != nil {
		t.Fatal(err)
	}
	dst, err := os.OpenFile(bin, os.O_CREATE|os.O_WRONLY, 0o755)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(dst, src)
	src.Close()
	dst.Close()
	cache := filepath.Join(a.shared, "cache")
	os.Mkdir(cache, 0o777)
	os.Chmod(cache, 0o777)
	args := append([]string{"-u", "nobody", "--", "env"}, childEnv(a, cache, filepath.Join(cache, "dl"))...)
	r := runChild(t, exec.Command(runuser, append(args, bin, "-test.run=^$")...))
	if r.Err != "" || !r.Updated || strings.Join(r.Versions, " ") != "2.0-1 1.5-1 1.0-1" || len(r.Files) != 3 {
		t.Fatalf("as nobody: %+v", r)
	}
	fi, err := os.Stat(filepath.Join(cache, "apt"))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%s was made as nobody (mode %v)", filepath.Join(cache, "apt"), fi.Mode())
}
