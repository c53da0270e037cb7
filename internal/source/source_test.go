package source

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"
	"github.com/ulikunitz/xz"

	"qemupack/internal/checksum"
)

type entry struct {
	name, body, link string
	typ              byte
}

// makeTar writes a real tar archive (gz or xz compressed) and returns its path and sum.
func makeTar(t *testing.T, dir, name string, ents []entry) (string, string) {
	t.Helper()
	var raw bytes.Buffer
	tw := tar.NewWriter(&raw)
	for _, e := range ents {
		typ := e.typ
		if typ == 0 {
			typ = tar.TypeReg
		}
		h := &tar.Header{Name: e.name, Typeflag: typ, Mode: 0o644, Linkname: e.link, ModTime: time.Unix(1600000000, 0)}
		if typ == tar.TypeReg {
			h.Size = int64(len(e.body))
		}
		if typ == tar.TypeDir {
			h.Mode = 0o755
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if typ == tar.TypeReg {
			tw.Write([]byte(e.body))
		}
	}
	tw.Close()
	var out bytes.Buffer
	if strings.HasSuffix(name, ".xz") {
		w, _ := xz.NewWriter(&out)
		w.Write(raw.Bytes())
		w.Close()
	} else if strings.HasSuffix(name, ".zst") {
		w, _ := zstd.NewWriter(&out)
		w.Write(raw.Bytes())
		w.Close()
	} else {
		w := gzip.NewWriter(&out)
		w.Write(raw.Bytes())
		w.Close()
	}
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, out.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	sum, err := checksum.File(p)
	if err != nil {
		t.Fatal(err)
	}
	return p, sum
}

var goodTree = []entry{
	{name: "demo-1.0/", typ: tar.TypeDir},
	{name: "demo-1.0/a.c", body: "int a(void) { return 1; }\n"},
	{name: "demo-1.0/sub/b.txt", body: "one\ntwo\nthree\nfour\nfive\nsix\nseven\n"},
	{name: "demo-1.0/link-b", typ: tar.TypeSymlink, link: "sub/b.txt"},
}

func TestFetchFromMirrorVerifiesAndCaches(t *testing.T) {
	dir := t.TempDir()
	mirror := filepath.Join(dir, "mirror")
	os.MkdirAll(mirror, 0o755)
	_, sum := makeTar(t, mirror, "demo-1.0.tar.gz", goodTree)
	f := Fetcher{CacheDir: filepath.Join(dir, "cache"), Mirror: mirror, Offline: true, NoDebian: true}
	p, err := f.Fetch(context.Background(), Tarball{Name: "demo", File: "demo-1.0.tar.gz", SHA256: sum, URL: "https://example.invalid/demo-1.0.tar.gz"})
	if err != nil {
		t.Fatal(err)
	}
	if p != f.CachedPath(Tarball{File: "demo-1.0.tar.gz", SHA256: sum}) {
		t.Fatalf("not served from the cache path: %s", p)
	}
	// The mirror copy goes away: the cache answers alone now.
	os.RemoveAll(mirror)
	if _, err := f.Fetch(context.Background(), Tarball{Name: "demo", File: "demo-1.0.tar.gz", SHA256: sum}); err != nil {
		t.Fatalf("second fetch should come from the cache: %v", err)
	}
}

func TestFetchWrongSumNamesFileExpectedActual(t *testing.T) {
	dir := t.TempDir()
	p, sum := makeTar(t, dir, "demo-1.0.tar.gz", goodTree)
	wrong := strings.Repeat("ab", 32)
	f := Fetcher{CacheDir: filepath.Join(dir, "cache"), Mirror: dir, Offline: true, NoDebian: true}
	_, err := f.Fetch(context.Background(), Tarball{Name: "demo", File: "demo-1.0.tar.gz", SHA256: wrong})
	if err == nil {
		t.Fatal("a tarball with the wrong sum was accepted")
	}
	for _, want := range []string{p, wrong, sum} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not show %s", err, want)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "cache", wrong)); err == nil {
		t.Error("a file with the wrong sum entered the cache")
	}
	if err := Verify(p, wrong); !errors.Is(err, ErrChecksum) {
		t.Errorf("Verify: %v", err)
	}
}

func TestFetchOverHTTP(t *testing.T) {
	dir := t.TempDir()
	p, sum := makeTar(t, dir, "demo-1.0.tar.gz", goodTree)
	data, _ := os.ReadFile(p)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/demo-1.0.tar.gz" {
			w.Write(data)
			return
		}
		http.NotFound(w, r)
	}))
	defer srv.Close()
	f := Fetcher{CacheDir: filepath.Join(dir, "cache"), NoDebian: true}
	got, err := f.Fetch(context.Background(), Tarball{Name: "demo", File: "demo-1.0.tar.gz", SHA256: sum, URL: srv.URL + "/demo-1.0.tar.gz"})
	if err != nil {
		t.Fatal(err)
	}
	if err := Verify(got, sum); err != nil {
		t.Fatal(err)
	}
	_, err = f.Fetch(context.Background(), Tarball{Name: "gone", File: "gone.tar.gz", SHA256: sum, URL: srv.URL + "/gone.tar.gz"})
	if err == nil || !strings.Contains(err.Error(), "404") {
		t.Fatalf("a 404 should be reported: %v", err)
	}
	f.Offline = true
	_, err = f.Fetch(context.Background(), Tarball{Name: "off", File: "off.tar.gz", SHA256: strings.Repeat("0", 64), URL: srv.URL + "/demo-1.0.tar.gz"})
	if err == nil || !strings.Contains(err.Error(), "offline") || !strings.Contains(err.Error(), "QEMUPACK_MIRROR") {
		t.Fatalf("offline fetch should say why and what to do: %v", err)
	}
}

func TestExtractGoodTree(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"demo.tar.gz", "demo.tar.xz", "demo.tar.zst"} {
		p, _ := makeTar(t, dir, name, goodTree)
		dest := filepath.Join(dir, "out-"+name)
		root, err := Extract(p, dest)
		if err != nil {
			t.Fatal(err)
		}
		if root != filepath.Join(dest, "demo-1.0") {
			t.Errorf("root = %s", root)
		}
		b, err := os.ReadFile(filepath.Join(root, "link-b"))
		if err != nil || !strings.HasPrefix(string(b), "one") {
			t.Errorf("link-b: %q %v", b, err)
		}
		fi, _ := os.Stat(filepath.Join(root, "a.c"))
		if fi == nil || !fi.ModTime().Equal(time.Unix(1600000000, 0)) {
			t.Errorf("a.c lost its archive time: %v", fi)
		}
		if _, err := Extract(p, dest); err == nil {
			t.Error("extracting over an existing folder should fail")
		}
	}
}

func TestExtractRefusesEscapes(t *testing.T) {
	cases := map[string][]entry{
		"dotdot":      {{name: "demo/ok.txt", body: "x"}, {name: "demo/../../x", body: "evil"}},
		"absolute":    {{name: "/tmp/qemupack-evil", body: "evil"}},
		"symlink-out": {{name: "demo/l", typ: tar.TypeSymlink, link: "../../etc"}},
		"symlink-abs": {{name: "demo/l", typ: tar.TypeSymlink, link: "/etc/passwd"}},
		"through-link": {
			{name: "demo/l", typ: tar.TypeSymlink, link: "."},
			{name: "demo/l/x", body: "through"},
		},
		"hardlink-out": {{name: "demo/h", typ: tar.TypeLink, link: "../../etc/passwd"}},
		// Each target reads as inside, but s2 -> . makes s2/s2/../.. climb
		// two folders above the tree.
		"symlink-chain": {
			{name: "demo/s2", typ: tar.TypeSymlink, link: "."},
			{name: "demo/evil", typ: tar.TypeSymlink, link: "s2/s2/../../etc/passwd"},
		},
		"symlink-chain-later": {
			{name: "demo/evil", typ: tar.TypeSymlink, link: "up/x/../../../etc/passwd"},
			{name: "demo/up", typ: tar.TypeSymlink, link: "."},
		},
	}
	for name, ents := range cases {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			p, _ := makeTar(t, dir, "evil.tar.gz", ents)
			dest := filepath.Join(dir, "out", "tree")
			_, err := Extract(p, dest)
			if !errors.Is(err, ErrUnsafeEntry) {
				t.Fatalf("want an unsafe-entry error, got %v", err)
			}
			if !strings.Contains(err.Error(), p) {
				t.Errorf("error does not name the archive: %v", err)
			}
			left, _ := os.ReadDir(filepath.Join(dir, "out"))
			if len(left) != 0 {
				t.Errorf("something was left behind: %v", left)
			}
			if _, err := os.Stat(filepath.Join(dir, "x")); err == nil {
				t.Error("the escaping entry was written")
			}
		})
	}
}

func TestExtractTruncatedAndNonArchive(t *testing.T) {
	dir := t.TempDir()
	big := make([]byte, 300000)
	for i := range big {
		big[i] = byte(i*7 + i/13)
	}
	p, _ := makeTar(t, dir, "full.tar.gz", []entry{{name: "d/big.bin", body: string(big)}, {name: "d/after", body: "x"}})
	data, _ := os.ReadFile(p)
	trunc := filepath.Join(dir, "trunc.tar.gz")
	os.WriteFile(trunc, data[:len(data)/2], 0o644)
	_, err := Extract(trunc, filepath.Join(dir, "o1"))
	if err == nil || !strings.Contains(err.Error(), "truncated") {
		t.Errorf("truncated archive: %v", err)
	}
	html := filepath.Join(dir, "page.tar.gz")
	os.WriteFile(html, []byte("<html><body>404 Not Found</body></html>\n"), 0o644)
	_, err = Extract(html, filepath.Join(dir, "o2"))
	if !errors.Is(err, ErrNotArchive) {
		t.Errorf("non-archive: %v", err)
	}
	for _, o := range []string{"o1", "o2"} {
		if _, err := os.Stat(filepath.Join(dir, o)); err == nil {
			t.Errorf("%s exists after a failed extract", o)
		}
	}
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if strings.Contains(e.Name(), ".part-") {
			t.Errorf("temp folder left: %s", e.Name())
		}
	}
}

func TestApplyPatchesInOrderAndNamesFailingHunk(t *testing.T) {
	if _, err := exec.LookPath("patch"); err != nil {
		t.Fatal("GNU patch is needed (Debian package: patch)")
	}
	dir := t.TempDir()
	p, _ := makeTar(t, dir, "demo.tar.gz", goodTree)
	root, err := Extract(p, filepath.Join(dir, "src"))
	if err != nil {
		t.Fatal(err)
	}
	pd := filepath.Join(dir, "patches")
	os.MkdirAll(pd, 0o755)
	// 0001 changes "two"; 0002 builds on 0001's result, so order matters.
	os.WriteFile(filepath.Join(pd, "0001-two.patch"), []byte(`--- a/sub/b.txt
+++ b/sub/b.txt
@@ -1,4 +1,4 @@
 one
-two
+TWO
 three
 four
`), 0o644)
	os.WriteFile(filepath.Join(pd, "0002-after-two.patch"), []byte(`--- a/sub/b.txt
+++ b/sub/b.txt
@@ -1,3 +1,4 @@
 one
 TWO
+two and a half
 three
`), 0o644)
	list, err := PatchFiles(pd)
	if err != nil || len(list) != 2 || !strings.HasSuffix(list[0], "0001-two.patch") {
		t.Fatalf("PatchFiles: %v %v", list, err)
	}
	if err := ApplyPatches(context.Background(), root, list, filepath.Join(dir, "patch")); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(filepath.Join(root, "sub/b.txt"))
	if !strings.HasPrefix(string(b), "one\nTWO\ntwo and a half\nthree\n") {
		t.Fatalf("patched file: %q", b)
	}
	// A patch whose second hunk does not match.
	bad := filepath.Join(pd, "0003-bad.patch")
	os.WriteFile(bad, []byte(`--- a/sub/b.txt
+++ b/sub/b.txt
@@ -1,2 +1,2 @@
-one
+ONE
 TWO
@@ -6,3 +6,3 @@
 five
-no such line
+x
 seven
`), 0o644)
	before, _ := os.ReadFile(filepath.Join(root, "sub/b.txt"))
	err = ApplyPatches(context.Background(), root, []string{bad}, "")
	var pe *PatchError
	if !errors.As(err, &pe) {
		t.Fatalf("want a PatchError, got %v", err)
	}
	if pe.Hunk != 2 || pe.File != "sub/b.txt" || pe.Head != "@@ -6,3 +6,3 @@" {
		t.Errorf("PatchError = %+v", pe)
	}
	for _, want := range []string{"0003-bad.patch", "hunk #2", "sub/b.txt"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("message %q lacks %q", err, want)
		}
	}
	after, _ := os.ReadFile(filepath.Join(root, "sub/b.txt"))
	if !bytes.Equal(before, after) {
		t.Error("a failing patch changed the tree (its first hunk was applied)")
	}
}

// A tarball named by a recipe's debian_package comes from the Debian
// archive (here a stand-in for debian.Tree.DownloadSourceFile): it is
// checked against the pinned sum, and the version's other files are kept
// in the cache by their sums.
func TestFetchFromDebian(t *testing.T) {
	dir := t.TempDir()
	orig, dsc := []byte("orig tarball"), []byte("Source: p\n")
	origSum, dscSum := sum256(orig), sum256(dsc)
	asked := ""
	archive := func(ctx context.Context, pkg, sha, into string) (map[string]string, error) {
		asked = pkg + " " + sha
		os.WriteFile(filepath.Join(into, "p_1.0.orig.tar.gz"), orig, 0o644)
		os.WriteFile(filepath.Join(into, "p_1.0-1.dsc"), dsc, 0o644)
		return map[string]string{"p_1.0.orig.tar.gz": origSum, "p_1.0-1.dsc": dscSum}, nil
	}
	f := Fetcher{CacheDir: filepath.Join(dir, "cache"), Offline: true, Debian: archive}
	p, err := f.Fetch(context.Background(), Tarball{Name: "p", File: "p-1.0.tar.gz", SHA256: origSum, DebianPackage: "p"})
	if err != nil {
		t.Fatal(err)
	}
	if asked != "p "+origSum || filepath.Base(p) != "p-1.0.tar.gz" {
		t.Errorf("asked %q, got %s", asked, p)
	}
	if _, err := os.Stat(f.CachedPath(Tarball{File: "p_1.0-1.dsc", SHA256: dscSum})); err != nil {
		t.Errorf("the .dsc was not kept: %v", err)
	}
	// Files that do not match what the archive's index says are refused.
	bad := func(ctx context.Context, pkg, sha, into string) (map[string]string, error) {
		os.WriteFile(filepath.Join(into, "q.tar.gz"), []byte("something else"), 0o644)
		return map[string]string{"q.tar.gz": sha}, nil
	}
	f = Fetcher{CacheDir: filepath.Join(dir, "cache2"), Offline: true, Debian: bad}
	if _, err := f.Fetch(context.Background(), Tarball{Name: "q", File: "q.tar.gz", SHA256: strings.Repeat("1", 64), DebianPackage: "q"}); err == nil || !strings.Contains(err.Error(), "debian: sha256 mismatch") {
		t.Errorf("a wrong file from the archive: %v", err)
	}
	// No archive given: the reason is said.
	f = Fetcher{CacheDir: filepath.Join(dir, "cache3"), Offline: true}
	if _, err := f.Fetch(context.Background(), Tarball{Name: "q", File: "q.tar.gz", SHA256: strings.Repeat("1", 64), DebianPackage: "q"}); err == nil || !strings.Contains(err.Error(), "no Debian archive") {
		t.Errorf("no archive: %v", err)
	}
}

func sum256(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// A zip (what the smoke unpacks) goes through the same extractor, and
// Select picks and renames entries (what the licence step takes).
func TestExtractZipAndSelect(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "a.zip")
	f, _ := os.Create(p)
	zw := zip.NewWriter(f)
	for name, body := range map[string]string{"q/qemu.exe": "MZ", "q/share/keymaps/en-us": "include common", "q/COPYING": "GPL"} {
		w, _ := zw.Create(name)
		w.Write([]byte(body))
	}
	zw.Close()
	f.Close()
	root, err := ExtractWith(context.Background(), p, filepath.Join(dir, "out"), Options{NoLinks: true})
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(filepath.Join(root, "share", "keymaps", "en-us")); string(b) != "include common" {
		t.Errorf("zip member: %q", b)
	}
	only := func(name string, isDir bool) (string, bool, error) {
		if path.Base(name) != "COPYING" {
			return "", false, nil
		}
		return "licence/" + path.Base(name), true, nil
	}
	root, err = ExtractWith(context.Background(), p, filepath.Join(dir, "lic"), Options{Select: only})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	filepath.WalkDir(filepath.Join(dir, "lic"), func(p string, d fs.DirEntry, err error) error {
		if !d.IsDir() {
			rel, _ := filepath.Rel(filepath.Join(dir, "lic"), p)
			got = append(got, filepath.ToSlash(rel))
		}
		return nil
	})
	if strings.Join(got, " ") != "licence/COPYING" {
		t.Errorf("selected %v", got)
	}
	// A link where none may be: refused.
	lp, _ := makeTar(t, dir, "links.tar.gz", []entry{{name: "d/l", typ: tar.TypeSymlink, link: "x"}})
	if _, err := ExtractWith(context.Background(), lp, filepath.Join(dir, "nolinks"), Options{NoLinks: true}); !errors.Is(err, ErrUnsafeEntry) {
		t.Errorf("a link with NoLinks: %v", err)
	}
}
