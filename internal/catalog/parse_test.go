package catalog

import (
	"archive/tar"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"path/filepath"
	"qemupack/internal/qversion"
	"strings"
	"testing"

	"github.com/ulikunitz/xz"
)

// excerpts is the folder of real release excerpts (see its README).
var excerpts = filepath.Join("..", "..", "testdata", "catalog")

// One entry per threshold change, as the release's own files declare it
// (see testdata/catalog/README.md for where each excerpt comes from).
var wantExcerpt = map[string]Release{
	// before meson: configure and make only
	"qemu-5.0.0": {Version: "5.0.0", GlibMin: "2.48", GthreadChecked: true, MesonMin: "", MesonBundled: false,
		PythonMin: "3.5", NinjaRequired: false, PixmanMin: "0.21.8", Slirp: Bundled, Fdt: Bundled},
	// meson as a submodule; python 3.6
	"qemu-5.2.0": {Version: "5.2.0", GlibMin: "2.48", GthreadChecked: true, MesonMin: "0.55.3", MesonBundled: true,
		PythonMin: "3.6", NinjaRequired: true, PixmanMin: "0.21.8", Slirp: Bundled, Fdt: Bundled},
	// glib 2.56
	"qemu-6.1.0": {Version: "6.1.0", GlibMin: "2.56", GthreadChecked: true, MesonMin: "0.55.3", MesonBundled: true,
		PythonMin: "3.6", NinjaRequired: true, PixmanMin: "0.21.8", Slirp: Bundled, Fdt: Bundled},
	// meson 0.59.3
	"qemu-6.2.0": {Version: "6.2.0", GlibMin: "2.56", GthreadChecked: true, MesonMin: "0.59.3", MesonBundled: true,
		PythonMin: "3.6", NinjaRequired: true, PixmanMin: "0.21.8", Slirp: Bundled, Fdt: Bundled},
	// meson 0.61.5; the slirp submodule is gone
	"qemu-7.2.0": {Version: "7.2.0", GlibMin: "2.56", GthreadChecked: true, MesonMin: "0.61.5", MesonBundled: true,
		PythonMin: "3.6", NinjaRequired: true, PixmanMin: "0.21.8", Slirp: System, Fdt: Bundled},
	// the last 7.2 point release: nothing moved
	"qemu-7.2.22": {Version: "7.2.22", GlibMin: "2.56", GthreadChecked: true, MesonMin: "0.61.5", MesonBundled: true,
		PythonMin: "3.6", NinjaRequired: true, PixmanMin: "0.21.8", Slirp: System, Fdt: Bundled},
	// configure spells it has_meson
	"qemu-8.0.0": {Version: "8.0.0", GlibMin: "2.56", GthreadChecked: true, MesonMin: "0.61.5", MesonBundled: true,
		PythonMin: "3.6", NinjaRequired: true, PixmanMin: "0.21.8", Slirp: System, Fdt: Bundled},
	// python 3.7; meson from a vendored wheel via mkvenv; glib moves to meson.build; gthread no longer checked; dtc a packed subproject
	"qemu-8.1.0": {Version: "8.1.0", GlibMin: "2.56.0", GthreadChecked: false, MesonMin: "0.63.0", MesonBundled: true,
		PythonMin: "3.7", NinjaRequired: true, PixmanMin: "0.21.8", Slirp: System, Fdt: Bundled},
	// python 3.8; pythondeps.toml; dtc no longer packed
	"qemu-8.2.0": {Version: "8.2.0", GlibMin: "2.56.0", GthreadChecked: false, MesonMin: "0.63.0", MesonBundled: true,
		PythonMin: "3.8", NinjaRequired: true, PixmanMin: "0.21.8", Slirp: System, Fdt: System},
	// glib 2.66, meson 1.1.0
	"qemu-9.1.0": {Version: "9.1.0", GlibMin: "2.66.0", GthreadChecked: false, MesonMin: "1.1.0", MesonBundled: true,
		PythonMin: "3.8", NinjaRequired: true, PixmanMin: "0.21.8", Slirp: System, Fdt: System},
	// meson 1.5.0
	"qemu-9.2.0": {Version: "9.2.0", GlibMin: "2.66.0", GthreadChecked: false, MesonMin: "1.5.0", MesonBundled: true,
		PythonMin: "3.8", NinjaRequired: true, PixmanMin: "0.21.8", Slirp: System, Fdt: System},
	// a Debian repack without the wheel: bundling read from configure and pythondeps.toml
	"qemu-10.0.2": {Version: "10.0.2", GlibMin: "2.66.0", GthreadChecked: false, MesonMin: "1.5.0", MesonBundled: true,
		PythonMin: "3.8", NinjaRequired: true, PixmanMin: "0.21.8", Slirp: System, Fdt: System},
	// python 3.9
	"qemu-10.1.0": {Version: "10.1.0", GlibMin: "2.66.0", GthreadChecked: false, MesonMin: "1.5.0", MesonBundled: true,
		PythonMin: "3.9", NinjaRequired: true, PixmanMin: "0.21.8", Slirp: System, Fdt: System},
	"qemu-10.2.2": {Version: "10.2.2", GlibMin: "2.66.0", GthreadChecked: false, MesonMin: "1.5.0", MesonBundled: true,
		PythonMin: "3.9", NinjaRequired: true, PixmanMin: "0.21.8", Slirp: System, Fdt: System},
}

func parseDir(t *testing.T, dir string) Release {
	t.Helper()
	tr, err := ReadTree(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	r, err := Parse(tr)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestParseRealExcerpts(t *testing.T) {
	for name, want := range wantExcerpt {
		t.Run(name, func(t *testing.T) {
			got := parseDir(t, filepath.Join(excerpts, name))
			if got != want {
				t.Errorf("parsed\n %+v\nwant\n %+v", got, want)
			}
		})
	}
}

// The shipped catalog must say what the parser reads from the excerpts of
// the same releases: the data is the parser's output, not typed by hand.
func TestCatalogAgreesWithExcerpts(t *testing.T) {
	rs, err := LoadFrom(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	byVersion := map[string]Release{}
	for _, r := range rs {
		byVersion[r.Version] = r
	}
	for name, want := range wantExcerpt {
		got, ok := byVersion[want.Version]
		if !ok {
			t.Errorf("%s: the catalog has no entry for %s", name, want.Version)
			continue
		}
		got.Source, got.URL, got.SHA256, got.Upstream = "", "", "", nil
		if got != want {
			t.Errorf("catalog entry %s\n %+v\nexcerpt says\n %+v", want.Version, got, want)
		}
	}
}

func TestShippedCatalog(t *testing.T) {
	rs, err := LoadFrom(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) < 20 {
		t.Fatalf("catalog has %d releases, want the 27 parsed so far or more", len(rs))
	}
	for i, r := range rs {
		if qversion.IsPrerelease(r.Version) {
			t.Errorf("%s is a release candidate", r.Version)
		}
		if i > 0 {
			prev, _ := qversion.Normalize(rs[i-1].Version)
			cur, _ := qversion.Normalize(r.Version)
			if !prev.GreaterThan(cur) {
				t.Errorf("not newest first: %s before %s", rs[i-1].Version, r.Version)
			}
		}
		if r.Source == "" {
			t.Errorf("%s: no source: every entry says which files it was parsed from", r.Version)
		}
	}
}

// writeTarball packs dir under top/ into a tarball, compressed by ext.
func writeTarball(t *testing.T, dir, top, dest string) string {
	t.Helper()
	f, err := os.Create(dest)
	if err != nil {
		t.Fatal(err)
	}
	var w io.WriteCloser
	switch {
	case strings.HasSuffix(dest, ".gz"):
		w = gzip.NewWriter(f)
	case strings.HasSuffix(dest, ".xz"):
		if w, err = xz.NewWriter(f); err != nil {
			t.Fatal(err)
		}
	default:
		t.Fatalf("no writer for %s", dest)
	}
	tw := tar.NewWriter(w)
	if err := tw.WriteHeader(&tar.Header{Name: top + "/", Typeflag: tar.TypeDir, Mode: 0o755}); err != nil {
		t.Fatal(err)
	}
	err = filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || p == dir {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		name := top + "/" + filepath.ToSlash(rel)
		if d.IsDir() {
			return tw.WriteHeader(&tar.Header{Name: name + "/", Typeflag: tar.TypeDir, Mode: 0o755})
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if err := tw.WriteHeader(&tar.Header{Name: name, Typeflag: tar.TypeReg, Mode: 0o644, Size: int64(len(b))}); err != nil {
			return err
		}
		_, err = tw.Write(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []io.Closer{tw, w, f} {
		if err := c.Close(); err != nil {
			t.Fatal(err)
		}
	}
	b, _ := os.ReadFile(dest)
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

func TestParseTarballs(t *testing.T) {
	for _, ext := range []string{"tar.gz", "tar.xz"} {
		t.Run(ext, func(t *testing.T) {
			dest := filepath.Join(t.TempDir(), "qemu-7.2.0."+ext)
			sum := writeTarball(t, filepath.Join(excerpts, "qemu-7.2.0"), "qemu-7.2.0", dest)
			tr, err := ReadTree(context.Background(), dest)
			if err != nil {
				t.Fatal(err)
			}
			if tr.SHA256 != sum {
				t.Errorf("sha256 %s, want %s", tr.SHA256, sum)
			}
			got, err := Parse(tr)
			if err != nil {
				t.Fatal(err)
			}
			if got != wantExcerpt["qemu-7.2.0"] {
				t.Errorf("from the tarball %+v, want %+v", got, wantExcerpt["qemu-7.2.0"])
			}
		})
	}
}

func TestReadTreeBadInputs(t *testing.T) {
	dir := t.TempDir()
	notTar := filepath.Join(dir, "qemu-9.9.9.tar.xz")
	os.WriteFile(notTar, []byte("this is not an archive\n"), 0o644)
	if _, err := ReadTree(context.Background(), notTar); err == nil || !strings.Contains(err.Error(), notTar) {
		t.Errorf("a text file named .tar.xz: got %v, want an error naming it", err)
	}
	if _, err := ReadTree(context.Background(), filepath.Join(dir, "absent")); err == nil {
		t.Error("a missing path gave no error")
	}
}

// excerptFiles reads one excerpt into a map so a test can break one file.
func excerptFiles(t *testing.T, name string) map[string]string {
	t.Helper()
	out := map[string]string{}
	root := filepath.Join(excerpts, name)
	filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		rel, _ := filepath.Rel(root, p)
		out[filepath.ToSlash(rel)] = string(b)
		return nil
	})
	return out
}

func dropLines(text, containing string) string {
	var keep []string
	for _, l := range strings.Split(text, "\n") {
		if !strings.Contains(l, containing) {
			keep = append(keep, l)
		}
	}
	return strings.Join(keep, "\n")
}

func TestParseMalformed(t *testing.T) {
	cases := []struct {
		name, excerpt string
		breakIt       func(map[string]string)
		wantFile      string
		wantWords     []string
	}{
		{"configure without glib requirement", "qemu-7.2.0",
			func(f map[string]string) { f["configure"] = dropLines(f["configure"], "glib_req_ver") },
			"configure", []string{"qemu 7.2.0", "glib"}},
		{"meson.build without glib requirement either", "qemu-10.0.2",
			func(f map[string]string) { f["meson.build"] = dropLines(f["meson.build"], "glib_req_ver") },
			"configure", []string{"qemu 10.0.2", "glib_req_ver", "meson.build"}},
		{"no python check", "qemu-5.2.0",
			func(f map[string]string) { f["configure"] = dropLines(f["configure"], "version_info") },
			"configure", []string{"qemu 5.2.0", "python"}},
		{"project() without meson_version", "qemu-7.2.0",
			func(f map[string]string) {
				f["meson.build"] = strings.Replace(f["meson.build"], "meson_version: '>=0.61.3',", "", 1)
			},
			"meson.build", []string{"qemu 7.2.0", "meson_version"}},
		{"pythondeps.toml without meson", "qemu-10.2.2",
			func(f map[string]string) { f["pythondeps.toml"] = "[docs]\n" },
			"pythondeps.toml", []string{"qemu 10.2.2", "meson"}},
		{"no pixman requirement", "qemu-10.2.2",
			func(f map[string]string) { f["meson.build"] = dropLines(f["meson.build"], "pixman") },
			"meson.build", []string{"qemu 10.2.2", "pixman"}},
		{"no VERSION", "qemu-7.2.0",
			func(f map[string]string) { delete(f, "VERSION") },
			"VERSION", []string{"missing"}},
		{"VERSION is not a number", "qemu-7.2.0",
			func(f map[string]string) { f["VERSION"] = "seven\n" },
			"VERSION", []string{`"seven"`}},
		{"no configure", "qemu-7.2.0",
			func(f map[string]string) { delete(f, "configure") },
			"configure", []string{"qemu 7.2.0", "missing"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			files := excerptFiles(t, c.excerpt)
			c.breakIt(files)
			_, err := Parse(NewTree(c.excerpt, files))
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("got %v, want a ParseError", err)
			}
			if pe.File != c.wantFile {
				t.Errorf("error names file %q, want %q (%v)", pe.File, c.wantFile, err)
			}
			for _, w := range c.wantWords {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}

// A tree read from Debian's repack has no meson wheel; the catalog must
// still say the upstream tarball vendors meson, from configure and
// pythondeps.toml. Without those lines it must not.
func TestMesonBundledFromText(t *testing.T) {
	files := excerptFiles(t, "qemu-10.2.2")
	if r, err := Parse(NewTree("x", files)); err != nil || !r.MesonBundled {
		t.Fatalf("with configure's python/wheels: bundled=%v err=%v, want true", r.MesonBundled, err)
	}
	files["configure"] = dropLines(files["configure"], "python/wheels")
	if r, err := Parse(NewTree("x", files)); err != nil || r.MesonBundled {
		t.Fatalf("without it: bundled=%v err=%v, want false", r.MesonBundled, err)
	}
	if r, err := Parse(NewTree("x", files, "python/wheels/meson-1.9.0-py3-none-any.whl")); err != nil || !r.MesonBundled {
		t.Fatalf("with the wheel itself: bundled=%v err=%v, want true", r.MesonBundled, err)
	}
}

func TestSlirpAndFdtSources(t *testing.T) {
	files := excerptFiles(t, "qemu-10.2.2")
	files["meson.build"] = dropLines(dropLines(files["meson.build"], "slirp"), "fdt")
	r, err := Parse(NewTree("x", files))
	if err != nil {
		t.Fatal(err)
	}
	if r.Slirp != None || r.Fdt != None {
		t.Errorf("no mention of slirp/fdt: got slirp=%s fdt=%s, want none", r.Slirp, r.Fdt)
	}
	// A wrap that make-release downloads into the tarball is bundled.
	files["scripts/make-release"] = strings.Replace(files["scripts/make-release"], `SUBPROJECTS="`, `SUBPROJECTS="dtc `, 1)
	r, err = Parse(NewTree("x", files, "subprojects/dtc.wrap"))
	if err != nil {
		t.Fatal(err)
	}
	if r.Fdt != Bundled {
		t.Errorf("dtc in make-release's SUBPROJECTS: fdt=%s, want bundled", r.Fdt)
	}
}
