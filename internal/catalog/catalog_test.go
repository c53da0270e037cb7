package catalog

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"qemupack/internal/qversion"
	"strings"
	"testing"

	"github.com/hashicorp/go-version"
)

func TestNormalizeAndIsPrerelease(t *testing.T) {
	cases := []struct {
		in, want string
		pre      bool
	}{
		{"9.0.90", "9.1.0-rc0", true},
		{"9.0.93", "9.1.0-rc3", true},
		{"6.0.90", "6.1.0-rc0", true},
		{"9.2.90", "10.0.0-rc0", true}, // after x.2 comes (x+1).0
		{"9.1.0-rc1", "9.1.0-rc1", true},
		{"9.1.0", "9.1.0", false},
		{"7.2.22", "7.2.22", false},
		{"v10.0.2", "10.0.2", false},
		{"9.0.89", "9.0.89", false},
	}
	for _, c := range cases {
		v, err := qversion.Normalize(c.in)
		if err != nil {
			t.Fatalf("%s: %v", c.in, err)
		}
		if v.String() != c.want {
			t.Errorf("qversion.Normalize(%s) = %s, want %s", c.in, v, c.want)
		}
		if qversion.IsPrerelease(c.in) != c.pre {
			t.Errorf("qversion.IsPrerelease(%s) = %v, want %v", c.in, !c.pre, c.pre)
		}
	}
	if !qversion.IsPrerelease("not-a-version") {
		t.Error("a number that does not parse must not pass for a release")
	}
	// The point of it: a plain constraint must not pick a candidate.
	c, _ := version.NewConstraint(">= 9.0")
	rc, _ := qversion.Normalize("9.0.91")
	if c.Check(rc) {
		t.Error(`">= 9.0" accepted 9.0.91 after normalisation`)
	}
	final, _ := qversion.Normalize("9.0.0")
	if !c.Check(final) {
		t.Error(`">= 9.0" rejected 9.0.0`)
	}
	// Order: 9.0.90 sorts after every 9.0.z and before 9.1.0.
	if a, b := rc, version.Must(version.NewVersion("9.0.4")); !a.GreaterThan(b) {
		t.Errorf("%s should sort after %s", a, b)
	}
	if a, b := rc, version.Must(version.NewVersion("9.1.0")); !a.LessThan(b) {
		t.Errorf("%s should sort before %s", a, b)
	}
}

func sample() []Release {
	return []Release{
		{Version: "7.2.0", GlibMin: "2.56", GthreadChecked: true, MesonMin: "0.61.5", MesonBundled: true,
			PythonMin: "3.6", NinjaRequired: true, PixmanMin: "0.21.8", Slirp: System, Fdt: Bundled, Source: "x"},
		{Version: "5.0.0", GlibMin: "2.48", GthreadChecked: true, MesonMin: "", PythonMin: "3.5",
			PixmanMin: "0.21.8", Slirp: Bundled, Fdt: Bundled, Source: "y",
			URL: TarballURL("5.0.0"), SHA256: strings.Repeat("ab", 32)},
	}
}

func TestWriteJSON(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteJSON(&buf, sample()); err != nil {
		t.Fatal(err)
	}
	var got []map[string]any
	if err := json.Unmarshal(buf.Bytes(), &got); err != nil {
		t.Fatalf("not a JSON array: %v\n%s", err, buf.String())
	}
	if len(got) != 2 {
		t.Fatalf("%d objects, want 2", len(got))
	}
	types := map[string]string{
		"version": "string", "glib_min": "string", "gthread_checked": "bool", "meson_min": "string",
		"meson_bundled": "bool", "python_min": "string", "ninja_required": "bool", "pixman_min": "string",
		"slirp": "string", "fdt": "string",
	}
	for _, o := range got {
		for k, typ := range types {
			v, ok := o[k]
			if !ok {
				t.Errorf("%v: no %q", o["version"], k)
				continue
			}
			if gotType := fmt.Sprintf("%T", v); (typ == "bool" && gotType != "bool") || (typ == "string" && gotType != "string") {
				t.Errorf("%v: %s is %s, want %s", o["version"], k, gotType, typ)
			}
		}
	}
	if got[1]["meson_min"] != "" || got[1]["slirp"] != "bundled" || got[0]["gthread_checked"] != true {
		t.Errorf("values lost: %v", got)
	}
	// An empty catalog is an empty array, not null.
	buf.Reset()
	WriteJSON(&buf, nil)
	if strings.TrimSpace(buf.String()) != "[]" {
		t.Errorf("empty: %q", buf.String())
	}
}

func TestWriteTable(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteTable(&buf, sample()); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 3 || !strings.HasPrefix(lines[0], "VERSION") {
		t.Fatalf("table:\n%s", buf.String())
	}
	if f := strings.Fields(lines[2]); strings.Join(f, " ") != "5.0.0 2.48 yes - no 3.5 no 0.21.8 bundled bundled - sha256" {
		t.Errorf("row for 5.0.0: %q", f)
	}
}

func writeJSONFile(t *testing.T, rs any) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "qemu-releases.json")
	b, _ := json.Marshal(rs)
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestLoadBadFiles(t *testing.T) {
	if _, err := Load(filepath.Join(t.TempDir(), "none.json")); err == nil || !strings.Contains(err.Error(), "catalog:refresh") {
		t.Errorf("missing file: %v, want a hint to run catalog:refresh", err)
	}
	p := filepath.Join(t.TempDir(), "cut.json")
	os.WriteFile(p, []byte(`[{"version": "7.2.0", "glib_min": `), 0o644)
	if _, err := Load(p); err == nil || !strings.Contains(err.Error(), "not valid JSON") {
		t.Errorf("truncated file: %v", err)
	}
	breakers := map[string]func(*Release){
		"version is not a version number": func(r *Release) { r.Version = "seven" },
		"release candidate":               func(r *Release) { r.Version = "9.0.90" },
		"glib_min":                        func(r *Release) { r.GlibMin = "" },
		"python_min":                      func(r *Release) { r.PythonMin = "three" },
		`slirp "internal"`:                func(r *Release) { r.Slirp = "internal" },
		"fdt":                             func(r *Release) { r.Fdt = "" },
		"sha256":                          func(r *Release) { r.SHA256 = "abc" },
		"url and sha256 go together":      func(r *Release) { r.URL = "" },
		"meson_min":                       func(r *Release) { r.MesonMin = "new" },
	}
	for want, breakIt := range breakers {
		rs := sample()
		breakIt(&rs[1])
		_, err := Load(writeJSONFile(t, rs))
		if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "entry 1") {
			t.Errorf("%s: got %v", want, err)
		}
	}
	dup := append(sample(), sample()[0])
	if _, err := Load(writeJSONFile(t, dup)); err == nil || !strings.Contains(err.Error(), "twice") {
		t.Errorf("duplicate: %v", err)
	}
	rs, err := Load(writeJSONFile(t, []Release{sample()[1], sample()[0]}))
	if err != nil || rs[0].Version != "7.2.0" {
		t.Errorf("a good file: %v %v, want newest first", rs, err)
	}
}

// copyTree copies an excerpt folder into dest.
func copyTree(t *testing.T, src, dest string) {
	t.Helper()
	err := filepath.WalkDir(src, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		target := filepath.Join(dest, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(target, b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestRefreshFromFolder(t *testing.T) {
	src := t.TempDir()
	copyTree(t, filepath.Join(excerpts, "qemu-5.2.0"), filepath.Join(src, "a"))
	copyTree(t, filepath.Join(excerpts, "qemu-7.2.22"), filepath.Join(src, "b"))
	// A tree reached through a symlink is read whole, names included: the
	// meson wheel below is only seen by name.
	elsewhere := filepath.Join(t.TempDir(), "qemu-10.2.2")
	copyTree(t, filepath.Join(excerpts, "qemu-10.2.2"), elsewhere)
	os.WriteFile(filepath.Join(elsewhere, "configure"), []byte(dropLines(mustRead(t, filepath.Join(elsewhere, "configure")), "python/wheels")), 0o644)
	os.MkdirAll(filepath.Join(elsewhere, "python", "wheels"), 0o755)
	os.WriteFile(filepath.Join(elsewhere, "python", "wheels", "meson-1.9.0-py3-none-any.whl"), nil, 0o644)
	if err := os.Symlink(elsewhere, filepath.Join(src, "linked")); err != nil {
		t.Fatal(err)
	}
	// A release candidate tree is left out, with a note.
	copyTree(t, filepath.Join(excerpts, "qemu-10.2.2"), filepath.Join(src, "rc"))
	os.WriteFile(filepath.Join(src, "rc", "VERSION"), []byte("10.2.90\n"), 0o644)
	// An upstream-named tarball: its own sha256 goes into the entry.
	sum := writeTarball(t, filepath.Join(excerpts, "qemu-10.0.2"), "qemu-10.0.2", filepath.Join(src, "qemu-10.0.2.tar.xz"))
	os.WriteFile(filepath.Join(src, "notes.txt"), []byte("not a tree\n"), 0o644)

	out := filepath.Join(t.TempDir(), "recipes", "qemu-releases.json")
	// A kept entry the folder does not hold stays.
	keep := sample()[1]
	if err := Save(out, []Release{keep}); err != nil {
		t.Fatal(err)
	}
	sums := filepath.Join(t.TempDir(), "sums.txt")
	os.WriteFile(sums, []byte("# from a packaging file\n"+strings.Repeat("cd", 32)+"  qemu-5.2.0.tar.xz\n"), 0o644)

	res, err := Refresh(context.Background(), RefreshOptions{Catalog: out, Src: src, Sums: sums})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Parsed) != 4 || len(res.Skipped) != 1 || !strings.Contains(res.Skipped[0], "release candidate") {
		t.Errorf("result %+v", res)
	}
	rs, err := Load(out)
	if err != nil {
		t.Fatal(err)
	}
	var versions []string
	for _, r := range rs {
		versions = append(versions, r.Version)
	}
	if strings.Join(versions, " ") != "10.2.2 10.0.2 7.2.22 5.2.0 5.0.0" {
		t.Fatalf("versions %v, want newest first with the kept 5.0.0", versions)
	}
	if !rs[0].MesonBundled || rs[0].Source != "linked" {
		t.Errorf("the symlinked tree's wheel was not seen: %+v", rs[0])
	}
	rs = rs[1:]
	if rs[0].SHA256 != sum || rs[0].URL != "https://download.qemu.org/qemu-10.0.2.tar.xz" {
		t.Errorf("tarball entry: url %q sha256 %q, want its own sum %s", rs[0].URL, rs[0].SHA256, sum)
	}
	if rs[2].SHA256 != strings.Repeat("cd", 32) || rs[2].URL != TarballURL("5.2.0") {
		t.Errorf("5.2.0 did not take its sum from the sums file: %+v", rs[2])
	}
	if rs[1].SHA256 != "" || rs[1].Source != "b" {
		t.Errorf("a folder tree gets no sum and names its folder: %+v", rs[1])
	}

	// A tarball whose sum differs from the known one fails, and the
	// catalog is left as it was.
	before, _ := os.ReadFile(out)
	os.WriteFile(sums, []byte(strings.Repeat("ef", 32)+"  qemu-10.0.2.tar.xz\n"), 0o644)
	_, err = Refresh(context.Background(), RefreshOptions{Catalog: out, Src: src, Sums: sums})
	if err == nil || !strings.Contains(err.Error(), "not the released tarball") {
		t.Errorf("sum mismatch: %v", err)
	}
	after, _ := os.ReadFile(out)
	if !bytes.Equal(before, after) {
		t.Error("a failed refresh changed the catalog")
	}
	entries, _ := os.ReadDir(filepath.Dir(out))
	if len(entries) != 1 {
		t.Errorf("left files beside the catalog: %v", entries)
	}
}

func TestRefreshBadInputs(t *testing.T) {
	out := filepath.Join(t.TempDir(), "qemu-releases.json")
	src := t.TempDir()
	copyTree(t, filepath.Join(excerpts, "qemu-7.2.0"), filepath.Join(src, "broken"))
	os.WriteFile(filepath.Join(src, "broken", "configure"), []byte("#!/bin/sh\necho hello\n"), 0o644)
	_, err := Refresh(context.Background(), RefreshOptions{Catalog: out, Src: src})
	if err == nil || !strings.Contains(err.Error(), "qemu 7.2.0: configure") {
		t.Errorf("broken tree: %v", err)
	}
	if _, statErr := os.Stat(out); statErr == nil {
		t.Error("a failed refresh wrote a catalog")
	}

	_, err = Refresh(context.Background(), RefreshOptions{Catalog: out, Src: filepath.Join(src, "nothere")})
	if err == nil || !strings.Contains(err.Error(), "QEMUPACK_CATALOG_SRC") {
		t.Errorf("missing folder: %v", err)
	}
	_, err = Refresh(context.Background(), RefreshOptions{Catalog: out, Src: t.TempDir()})
	if err == nil || !strings.Contains(err.Error(), "no QEMU release") {
		t.Errorf("empty folder: %v", err)
	}
	_, err = Refresh(context.Background(), RefreshOptions{Catalog: out, Offline: true})
	if err == nil || !strings.Contains(err.Error(), "offline") {
		t.Errorf("offline without a folder: %v", err)
	}
	bad := filepath.Join(t.TempDir(), "qemu-releases.json")
	os.WriteFile(bad, []byte("{"), 0o644)
	_, err = Refresh(context.Background(), RefreshOptions{Catalog: bad, Src: src})
	if err == nil || !strings.Contains(err.Error(), "unreadable") {
		t.Errorf("a broken catalog: %v", err)
	}
}

// The download path, against a server on loopback standing in for
// download.qemu.org.
func TestRefreshDownload(t *testing.T) {
	tarballs := t.TempDir()
	writeTarball(t, filepath.Join(excerpts, "qemu-10.2.2"), "qemu-10.2.2", filepath.Join(tarballs, "qemu-10.2.2.tar.xz"))
	writeTarball(t, filepath.Join(excerpts, "qemu-10.2.2"), "qemu-10.2.2", filepath.Join(tarballs, "qemu-10.2.90.tar.xz"))
	index := `<a href="qemu-10.2.2.tar.xz">qemu-10.2.2.tar.xz</a> <a href="qemu-10.2.2.tar.xz.sig">sig</a>
<a href="qemu-10.2.90.tar.xz">rc</a> <a href="qemu-4.2.0.tar.xz">old</a>`
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/" {
			fmt.Fprint(w, index)
			return
		}
		http.ServeFile(w, r, filepath.Join(tarballs, filepath.Base(r.URL.Path)))
	}))
	defer srv.Close()
	out := filepath.Join(t.TempDir(), "qemu-releases.json")
	dl := filepath.Join(t.TempDir(), "sources")
	res, err := Refresh(context.Background(), RefreshOptions{Catalog: out, Base: srv.URL, Downloads: dl, Client: srv.Client()})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(res.Parsed, " ") != "10.2.2" {
		t.Errorf("parsed %v, want only 10.2.2 (no candidate, nothing before 5.0)", res.Parsed)
	}
	if _, err := os.Stat(filepath.Join(dl, "qemu-10.2.2.tar.xz")); err != nil {
		t.Errorf("download not kept: %v", err)
	}

	// Nothing listening: a clear message with the offline way out.
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := l.Addr().String()
	l.Close()
	_, err = Refresh(context.Background(), RefreshOptions{Catalog: filepath.Join(t.TempDir(), "c.json"), Base: "http://" + addr + "/", Downloads: dl})
	if err == nil || !strings.Contains(err.Error(), "cannot list QEMU releases") || !strings.Contains(err.Error(), "QEMUPACK_CATALOG_SRC") {
		t.Errorf("unreachable site: %v", err)
	}
}

func TestLoadSumsBad(t *testing.T) {
	p := filepath.Join(t.TempDir(), "sums.txt")
	os.WriteFile(p, []byte("# c\nnothex  qemu-1.0.0.tar.xz\n"), 0o644)
	if _, err := LoadSums(p); err == nil || !strings.Contains(err.Error(), ":2:") {
		t.Errorf("bad hash: %v", err)
	}
	os.WriteFile(p, []byte(strings.Repeat("a", 64)+"  qemu.zip\n"), 0o644)
	if _, err := LoadSums(p); err == nil {
		t.Error("bad name accepted")
	}
	os.WriteFile(p, []byte(strings.Repeat("a", 64)+"  qemu-1.0.0.tar.xz\n"+strings.Repeat("b", 64)+"  qemu-1.0.0.tar.xz\n"), 0o644)
	if _, err := LoadSums(p); err == nil || !strings.Contains(err.Error(), "two different") {
		t.Errorf("conflicting sums: %v", err)
	}
	m, err := LoadSums(filepath.Join("..", "..", SumsFile))
	if err != nil || len(m) == 0 {
		t.Errorf("shipped sums: %v %v", m, err)
	}
}

func mustRead(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
