package catalog

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/armor"
	"github.com/ProtonMail/go-crypto/openpgp/packet"

	"qemupack/internal/checksum"
)

// base101 is the 10.1.0 entry as the excerpt folder qemu-10.1.0 parses.
func base101(t *testing.T) Release {
	t.Helper()
	r := parseDir(t, filepath.Join(excerpts, "qemu-10.1.0"))
	r.Source = "qemu.git v10.1.0"
	return r
}

func TestInheritingEntriesTakeTheirSeriesRequirements(t *testing.T) {
	base := base101(t)
	file := writeJSONFile(t, []any{
		map[string]any{"version": "10.1.3", "inherits": "10.1.0", "source": "listed by qemu-web"},
		base,
		map[string]any{"version": "11.1.0", "requirements_unknown": "no 11.1 tree read", "source": "qemu-web"},
	})
	rs, err := Load(file)
	if err != nil {
		t.Fatal(err)
	}
	if rs[0].Version != "11.1.0" || rs[0].Read() || rs[0].GlibMin != "" {
		t.Errorf("unknown entry: %+v", rs[0])
	}
	got := rs[1]
	want := base
	want.Version, want.Inherits, want.Source = "10.1.3", "10.1.0", "listed by qemu-web"
	if got != want {
		t.Errorf("10.1.3 resolved to\n %+v\nwant\n %+v", got, want)
	}
	// Saved back, an inheriting entry stores no requirement values and an
	// unknown one none either; loading again gives the same releases.
	out := filepath.Join(t.TempDir(), "qemu-releases.json")
	if err := Save(out, rs); err != nil {
		t.Fatal(err)
	}
	var raw []map[string]any
	b, _ := os.ReadFile(out)
	json.Unmarshal(b, &raw)
	for _, o := range raw {
		if o["version"] == "10.1.3" || o["version"] == "11.1.0" {
			for _, k := range []string{"glib_min", "meson_min", "python_min", "slirp", "fdt", "gthread_checked", "upstream"} {
				if _, ok := o[k]; ok {
					t.Errorf("%v stored %s: %s", o["version"], k, b)
				}
			}
		}
	}
	again, err := Load(out)
	if err != nil || len(again) != 3 || again[1] != rs[1] {
		t.Errorf("round trip: %+v, %v", again, err)
	}
}

func TestBadInheritance(t *testing.T) {
	base := base101(t)
	old, newer := base, base
	old.Version, newer.Version = "10.0.2", "10.1.3"
	cases := map[string][]any{
		"which the catalog does not list": {base, map[string]any{"version": "10.1.3", "inherits": "10.1.1"}},
		"own files were not read either": {base, map[string]any{"version": "10.1.2", "inherits": "10.1.0"},
			map[string]any{"version": "10.1.3", "inherits": "10.1.2"}},
		"of another series":      {old, base, map[string]any{"version": "10.1.3", "inherits": "10.0.2"}},
		"which is not older":     {newer, map[string]any{"version": "10.1.1", "inherits": "10.1.3"}},
		"and states its own":     {base, map[string]any{"version": "10.1.3", "inherits": "10.1.0", "glib_min": "2.66"}},
		"yet states some":        {map[string]any{"version": "11.1.0", "requirements_unknown": "x", "python_min": "3.9"}},
		"keep one":               {base, map[string]any{"version": "10.1.3", "inherits": "10.1.0", "requirements_unknown": "x"}},
		"glib_min \"\" is not a": {map[string]any{"version": "10.1.3", "source": "an entry with nothing"}},
	}
	for want, entries := range cases {
		_, err := Load(writeJSONFile(t, entries))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: got %v", want, err)
		}
	}
}

func TestCheckTree(t *testing.T) {
	dir := filepath.Join(excerpts, "qemu-10.1.0")
	base := base101(t)
	inherited := base
	inherited.Version, inherited.Inherits = "10.1.3", "10.1.0"
	if err := CheckTree(inherited, dir); err != nil {
		t.Errorf("a tree that agrees: %v", err)
	}
	// The series moved on in a point release: named field by field.
	wrong := inherited
	wrong.GlibMin, wrong.MesonBundled, wrong.Fdt = "2.56", false, Bundled
	err := CheckTree(wrong, dir)
	var tm *TreeMismatch
	if !errors.As(err, &tm) || len(tm.Diffs) != 3 {
		t.Fatalf("mismatch: %v", err)
	}
	for _, want := range []string{
		"qemu 10.1.3: its source tree requires other than the catalog says",
		"takes 10.1.3's requirements from 10.1.0",
		"glib_min: the tree says 2.66.0, the catalog 2.56",
		"meson_bundled: the tree says true, the catalog false",
		"fdt: the tree says system, the catalog bundled",
		"nothing was configured", "catalog:refresh",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("message lacks %q:\n%v", want, err)
		}
	}
	// Versions compare by value.
	same := base
	same.GlibMin = "2.66"
	if err := CheckTree(same, dir); err != nil {
		t.Errorf("2.66 vs 2.66.0: %v", err)
	}
	if err := CheckTree(Release{Version: "11.1.0", Unknown: "no 11.1 tree read"}, dir); err == nil || !strings.Contains(err.Error(), "does not know what it requires") {
		t.Errorf("unknown requirements: %v", err)
	}
	if err := CheckTree(base, t.TempDir()); err == nil || !strings.Contains(err.Error(), "VERSION") {
		t.Errorf("not a tree: %v", err)
	}
}

// writeKeys writes a pin file for the key file keyFile beside it.
func writeKeys(t *testing.T, dir string, entry map[string]any) string {
	t.Helper()
	b, _ := json.Marshal(map[string]any{"keys": []any{entry}})
	p := filepath.Join(dir, "qemu-signing-keys.json")
	os.WriteFile(p, b, 0o644)
	return p
}

func TestLoadKeys(t *testing.T) {
	ks, err := LoadKeysFrom(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	if len(ks.For("10.2.2")) != 1 || ks.For("10.2.2")[0].Fingerprint != "CEACC9E15534EBABB82D3FA03353C9CEF108B584" {
		t.Errorf("the shipped pin: %+v", ks)
	}
	if len(ks.For("4.2.0")) != 0 || len(ks.For("10.2.90")) != 0 {
		t.Error("a key covers a release before 5.0.0 or a release candidate")
	}
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "k.asc"), []byte("key\n"), 0o644)
	sum, err := checksum.File(filepath.Join(dir, "k.asc"))
	if err != nil {
		t.Fatal(err)
	}
	good := func() map[string]any {
		return map[string]any{"fingerprint": "ceac c9e1 5534 ebab b82d  3fa0 3353 c9ce f108 b584", "file": "k.asc",
			"file_sha256": sum, "key_from": "x", "pinned_by": []string{"y"}, "releases": ">= 5.0.0"}
	}
	own, err := LoadKeys(writeKeys(t, dir, good()))
	if err != nil || len(own.For("9.2.0")) != 1 || own.Keys[0].Fingerprint != "CEACC9E15534EBABB82D3FA03353C9CEF108B584" ||
		own.Keys[0].Path() != filepath.Join(dir, "k.asc") {
		t.Fatalf("a good pin file: %+v, %v", own, err)
	}
	breakers := map[string]func(map[string]any){
		"the key file changed":        func(m map[string]any) { m["file_sha256"] = strings.Repeat("0", 64) },
		"not 40 hex digits":           func(m map[string]any) { m["fingerprint"] = "CEAC" },
		"pinned_by is empty":          func(m map[string]any) { m["pinned_by"] = nil },
		"key_from is empty":           func(m map[string]any) { m["key_from"] = "" },
		"not a version constraint":    func(m map[string]any) { m["releases"] = "soon" },
		"want the name of a key file": func(m map[string]any) { m["file"] = "../k.asc" },
		"no such file":                func(m map[string]any) { m["file"] = "none.asc" },
		"is not 64 lowercase hex":     func(m map[string]any) { m["file_sha256"] = "x" },
	}
	for want, breakIt := range breakers {
		e := good()
		breakIt(e)
		if _, err := LoadKeys(writeKeys(t, dir, e)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: got %v", want, err)
		}
	}
}

func TestUpstreamOf(t *testing.T) {
	ks, err := LoadKeysFrom(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	sum := strings.Repeat("ab", 32)
	cases := []struct {
		r    Release
		keys Keys
		want string
	}{
		{Release{Version: "10.2.2", URL: TarballURL("10.2.2"), SHA256: sum}, ks, "sha256+signature"},
		{Release{Version: "10.1.3"}, ks, "signature"},
		{Release{Version: "10.1.3", URL: TarballURL("10.1.3"), SHA256: sum}, Keys{}, "sha256"},
		{Release{Version: "10.1.3"}, Keys{}, ""},
	}
	for _, c := range cases {
		u := UpstreamOf(c.r, c.keys)
		switch {
		case c.want == "" && u != nil:
			t.Errorf("%+v: %+v, want nil", c.r, u)
		case c.want == "":
		case u == nil || u.VerifiedBy != c.want || u.URL != TarballURL(c.r.Version):
			t.Errorf("%+v: %+v, want %s", c.r, u, c.want)
		case u.Signed() != strings.Contains(c.want, "signature"),
			u.Signed() && (u.Signature != TarballURL(c.r.Version)+".sig" || len(u.KeyFiles) != 1 || u.Keys[0] != "CEACC9E15534EBABB82D3FA03353C9CEF108B584"):
			t.Errorf("%+v: signature %+v", c.r, u)
		}
	}
}

func TestOutputsShowInheritanceAndUpstream(t *testing.T) {
	base := base101(t)
	base.URL, base.SHA256 = TarballURL("10.1.0"), strings.Repeat("ab", 32)
	rs := []Release{
		{Version: "11.1.0", Unknown: "no 11.1 tree read", Source: "qemu-web"},
		base, base,
	}
	rs[2].Version, rs[2].Inherits, rs[2].URL, rs[2].SHA256 = "10.1.3", "10.1.0", "", ""
	ks, _ := LoadKeysFrom(filepath.Join("..", ".."))
	AttachUpstream(rs, ks)
	var buf bytes.Buffer
	if err := WriteTable(&buf, rs); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if !strings.HasSuffix(strings.Join(strings.Fields(lines[0]), " "), "FDT INHERITS UPSTREAM") ||
		strings.Join(strings.Fields(lines[1]), " ") != "11.1.0 ? ? ? ? ? ? ? ? ? unknown signature" ||
		!strings.HasSuffix(strings.Join(strings.Fields(lines[2]), " "), "system - sha256+signature") ||
		!strings.HasSuffix(strings.Join(strings.Fields(lines[3]), " "), "system 10.1.0 signature") {
		t.Errorf("table:\n%s", buf.String())
	}
	buf.Reset()
	if err := WriteJSON(&buf, rs); err != nil {
		t.Fatal(err)
	}
	var got []map[string]any
	if err := json.Unmarshal(buf.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	if _, ok := got[0]["glib_min"]; ok || got[0]["requirements_unknown"] != "no 11.1 tree read" {
		t.Errorf("unknown entry in JSON: %v", got[0])
	}
	up, _ := got[2]["upstream"].(map[string]any)
	if got[2]["inherits"] != "10.1.0" || got[2]["glib_min"] != "2.66.0" || up["verified_by"] != "signature" ||
		up["signature"] != "https://download.qemu.org/qemu-10.1.3.tar.xz.sig" {
		t.Errorf("inheriting entry in JSON: %v", got[2])
	}
	if up, _ := got[1]["upstream"].(map[string]any); up["sha256"] != strings.Repeat("ab", 32) || up["verified_by"] != "sha256+signature" {
		t.Errorf("read entry in JSON: %v", got[1])
	}
}

// Every QEMU release from 5.0.0 to 11.1.3, as QEMU's website lists them
// (github:qemu/qemu-web _data/releases.yml, its whole history), plus
// 8.0.1 (tagged on the stable branch, never listed), 10.0.13 (Debian's
// trixie), 11.1.1 (QEMU's announcement) and 11.1.2, 11.1.3 (Debian's sid).
var allReleases = func() []string {
	var out []string
	add := func(series string, first, last int) {
		for i := first; i <= last; i++ {
			out = append(out, series+"."+strconv.Itoa(i))
		}
	}
	add("5.0", 0, 1)
	add("5.1", 0, 0)
	add("5.2", 0, 0)
	add("6.0", 0, 1)
	add("6.1", 0, 1)
	add("6.2", 0, 0)
	add("7.0", 0, 0)
	add("7.1", 0, 0)
	add("7.2", 0, 22)
	add("8.0", 0, 5)
	add("8.1", 0, 5)
	add("8.2", 0, 10)
	add("9.0", 0, 4)
	add("9.1", 0, 3)
	add("9.2", 0, 4)
	add("10.0", 0, 0)
	add("10.0", 2, 13)
	add("10.1", 0, 5)
	add("10.2", 0, 4)
	add("11.0", 0, 3)
	add("11.1", 0, 3)
	return out
}()

func TestShippedCatalogIsCompleteAndCanonical(t *testing.T) {
	root := filepath.Join("..", "..")
	rs, err := LoadFrom(root)
	if err != nil {
		t.Fatal(err)
	}
	have := map[string]Release{}
	read, inherit, unknown := 0, 0, 0
	for _, r := range rs {
		have[r.Version] = r
		switch {
		case r.Inherits != "":
			inherit++
		case r.Unknown != "":
			unknown++
			if Series(r.Version) != "11.1" {
				t.Errorf("%s: requirements unknown, yet its series has a release whose files were read", r.Version)
			}
		default:
			read++
		}
		if !r.Upstream.Signed() || r.Upstream.Signature != TarballURL(r.Version)+".sig" {
			t.Errorf("%s: upstream %+v, want a signature by a pinned key", r.Version, r.Upstream)
		}
	}
	for _, v := range allReleases {
		if _, ok := have[v]; !ok {
			t.Errorf("the catalog lacks qemu %s", v)
		}
	}
	if len(rs) != len(allReleases) {
		t.Errorf("%d releases, want %d", len(rs), len(allReleases))
	}
	t.Logf("%d releases: %d read from their own files, %d inherit their series' requirements, %d unknown", len(rs), read, inherit, unknown)
	// The file is exactly what Save writes for what Load read.
	out := filepath.Join(t.TempDir(), "qemu-releases.json")
	if err := Save(out, rs); err != nil {
		t.Fatal(err)
	}
	if a, b := mustRead(t, filepath.Join(root, File)), mustRead(t, out); a != b {
		t.Errorf("%s is not in Save's form (run catalog:refresh, or format it like Save does)", File)
	}
}

func TestRefreshReadsAnInheritingRelease(t *testing.T) {
	src := t.TempDir()
	copyTree(t, filepath.Join(excerpts, "qemu-10.1.0"), filepath.Join(src, "qemu-10.1.3"))
	os.WriteFile(filepath.Join(src, "qemu-10.1.3", "VERSION"), []byte("10.1.3\n"), 0o644)
	out := filepath.Join(t.TempDir(), "qemu-releases.json")
	base := base101(t)
	if err := Save(out, []Release{{Version: "10.1.3", Inherits: "10.1.0", Source: "listed"}, base}); err != nil {
		t.Fatal(err)
	}
	if _, err := Refresh(context.Background(), RefreshOptions{Catalog: out, Src: src}); err != nil {
		t.Fatal(err)
	}
	rs, err := Load(out)
	if err != nil || rs[0].Version != "10.1.3" || !rs[0].Read() || rs[0].Source != "qemu-10.1.3" || rs[0].GlibMin != base.GlibMin {
		t.Errorf("after refresh: %+v, %v", rs, err)
	}
}

// throwawayKeys makes a signing key and a pin file for it covering every
// release, and returns the keys and a signer.
func throwawayKeys(t *testing.T) (Keys, func(data []byte) []byte) {
	t.Helper()
	dir := t.TempDir()
	e, err := openpgp.NewEntity("release manager", "test", "rm@example.invalid", &packet.Config{Algorithm: packet.PubKeyAlgoEdDSA})
	if err != nil {
		t.Fatal(err)
	}
	var pub bytes.Buffer
	w, _ := armor.Encode(&pub, openpgp.PublicKeyType, nil)
	e.Serialize(w)
	w.Close()
	os.WriteFile(filepath.Join(dir, "rm.asc"), pub.Bytes(), 0o644)
	sum, _ := checksum.File(filepath.Join(dir, "rm.asc"))
	ks, err := LoadKeys(writeKeys(t, dir, map[string]any{
		"fingerprint": strings.ToUpper(hex.EncodeToString(e.PrimaryKey.Fingerprint)), "file": "rm.asc", "file_sha256": sum,
		"key_from": "made by the test", "pinned_by": []string{"the test"}, "releases": ">= 5.0.0"}))
	if err != nil {
		t.Fatal(err)
	}
	return ks, func(data []byte) []byte {
		var sig bytes.Buffer
		if err := openpgp.DetachSign(&sig, e, bytes.NewReader(data), nil); err != nil {
			t.Fatal(err)
		}
		return sig.Bytes()
	}
}

func TestRefreshDownloadChecksSignatures(t *testing.T) {
	ks, sign := throwawayKeys(t)
	tarballs := t.TempDir()
	sum := writeTarball(t, filepath.Join(excerpts, "qemu-10.1.0"), "qemu-10.1.0", filepath.Join(tarballs, "qemu-10.1.0.tar.xz"))
	data, _ := os.ReadFile(filepath.Join(tarballs, "qemu-10.1.0.tar.xz"))
	sig := sign(data)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/":
			fmt.Fprint(w, `<a href="qemu-10.1.0.tar.xz">qemu-10.1.0.tar.xz</a>`)
		case "/qemu-10.1.0.tar.xz":
			w.Write(data)
		case "/qemu-10.1.0.tar.xz.sig":
			w.Write(sig)
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	out := filepath.Join(t.TempDir(), "qemu-releases.json")
	dl := t.TempDir()
	if _, err := Refresh(context.Background(), RefreshOptions{Catalog: out, Base: srv.URL, Downloads: dl, Client: srv.Client(), Keys: ks}); err != nil {
		t.Fatal(err)
	}
	rs, err := Load(out)
	if err != nil || len(rs) != 1 || rs[0].SHA256 != sum {
		t.Fatalf("%+v, %v", rs, err)
	}
	if _, err := os.Stat(filepath.Join(dl, "signed", "qemu-10.1.0.tar.xz.sig")); err != nil {
		t.Errorf("signature not kept beside the download: %v", err)
	}
	// A signature that does not match: refused, catalog left alone, and
	// nothing of the download kept.
	sig = sign([]byte("another file"))
	out2 := filepath.Join(t.TempDir(), "qemu-releases.json")
	dl2 := t.TempDir()
	_, err = Refresh(context.Background(), RefreshOptions{Catalog: out2, Base: srv.URL, Downloads: dl2, Client: srv.Client(), Keys: ks})
	if err == nil || !strings.Contains(err.Error(), "does not match its signature") {
		t.Errorf("bad signature: %v", err)
	}
	if _, err := os.Stat(out2); err == nil {
		t.Error("a refused download wrote a catalog")
	}
	if ents, _ := os.ReadDir(filepath.Join(dl2, "signed")); len(ents) != 0 {
		t.Errorf("kept %v", ents)
	}
	// A tarball in the refresh folder with a bad .sig beside it fails too.
	src := t.TempDir()
	os.WriteFile(filepath.Join(src, "qemu-10.1.0.tar.xz"), data, 0o644)
	os.WriteFile(filepath.Join(src, "qemu-10.1.0.tar.xz.sig"), sig, 0o644)
	if _, err := Refresh(context.Background(), RefreshOptions{Catalog: out2, Src: src, Keys: ks}); err == nil || !strings.Contains(err.Error(), "does not match its signature") {
		t.Errorf("bad .sig in the folder: %v", err)
	}
}
