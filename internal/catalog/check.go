package catalog

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/hashicorp/go-version"
)

// Difference is one requirement on which a release tree and its catalog
// entry disagree.
type Difference struct {
	Field   string // the catalog field, e.g. "glib_min"
	Tree    string // what the tree's own files say
	Catalog string // what the catalog says
}

func (d Difference) String() string {
	return fmt.Sprintf("%s: the tree says %s, the catalog %s", d.Field, orNone(d.Tree), orNone(d.Catalog))
}

func orNone(s string) string {
	if s == "" {
		return `""`
	}
	return s
}

// Differences lists the requirements on which got (parsed from a tree)
// and want (a catalog entry) disagree. Versions compare by value, so
// "2.66" and "2.66.0" agree.
func Differences(got, want Release) []Difference {
	var out []Difference
	ver := func(field, g, w string) {
		if g == w {
			return
		}
		gv, e1 := version.NewVersion(g)
		wv, e2 := version.NewVersion(w)
		if e1 == nil && e2 == nil && gv.Equal(wv) {
			return
		}
		out = append(out, Difference{field, g, w})
	}
	flag := func(field string, g, w bool) {
		if g != w {
			out = append(out, Difference{field, strconv.FormatBool(g), strconv.FormatBool(w)})
		}
	}
	text := func(field, g, w string) {
		if g != w {
			out = append(out, Difference{field, g, w})
		}
	}
	ver("glib_min", got.GlibMin, want.GlibMin)
	flag("gthread_checked", got.GthreadChecked, want.GthreadChecked)
	ver("meson_min", got.MesonMin, want.MesonMin)
	flag("meson_bundled", got.MesonBundled, want.MesonBundled)
	ver("python_min", got.PythonMin, want.PythonMin)
	flag("ninja_required", got.NinjaRequired, want.NinjaRequired)
	ver("pixman_min", got.PixmanMin, want.PixmanMin)
	text("slirp", got.Slirp, want.Slirp)
	text("fdt", got.Fdt, want.Fdt)
	return out
}

// TreeMismatch is CheckTree's error: the tree requires other than its
// catalog entry says.
type TreeMismatch struct {
	Release     Release
	TreeVersion string
	Diffs       []Difference
}

func (e *TreeMismatch) Error() string {
	r := e.Release
	var b strings.Builder
	fmt.Fprintf(&b, "qemu %s: its source tree requires other than the catalog says", r.Version)
	if r.Inherits != "" {
		fmt.Fprintf(&b, " (the catalog takes %s's requirements from %s, as %s's own files had not been read)", r.Version, r.Inherits, r.Version)
	} else if r.Source != "" {
		fmt.Fprintf(&b, " (its entry was read from %s)", r.Source)
	}
	b.WriteString(":")
	for _, d := range e.Diffs {
		b.WriteString("\n  " + d.String())
	}
	fmt.Fprintf(&b, "\nnothing was configured; record what this tree requires with `QEMUPACK_CATALOG_SRC=<a folder holding qemu-%s.tar.xz or this tree> go run mage.go catalog:refresh`, or choose another release with QEMU_VERSION", r.Version)
	return b.String()
}

// CheckTree re-reads the prepared release tree at dir with the parser the
// catalog is made with, and returns a *TreeMismatch naming every field on
// which it and r disagree. The tree's VERSION is not compared: a Debian
// tree may be patched to a later stable level than the release it counts
// as. A release whose requirements are unknown is refused.
func CheckTree(r Release, dir string) error {
	if r.Unknown != "" {
		return fmt.Errorf("qemu %s: the catalog does not know what it requires (%s); record it from this tree first: QEMUPACK_CATALOG_SRC=<a folder holding it> go run mage.go catalog:refresh", r.Version, r.Unknown)
	}
	t, err := readDir(dir)
	if err != nil {
		return fmt.Errorf("qemu %s: checking the tree against the catalog: %w", r.Version, err)
	}
	got, err := Parse(t)
	if err != nil {
		return fmt.Errorf("qemu %s: checking the tree against the catalog: %w", r.Version, err)
	}
	if ds := Differences(got, r); len(ds) > 0 {
		return &TreeMismatch{Release: r, TreeVersion: got.Version, Diffs: ds}
	}
	return nil
}
