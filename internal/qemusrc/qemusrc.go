// Package qemusrc turns the picked QEMU release into a patched source tree:
// the upstream tarball (verified by its pinned sha256 and/or QEMU's
// OpenPGP signature, from a mirror folder or download.qemu.org, and
// checked to be the release it is named after), or, when that cannot be
// had, a Debian source package from a suite of Debian's archive (the
// repack plus Debian's patch series, which for 7.2 carries the upstream
// stable releases). Our own
// patches/qemu/<version>/*.patch go on top in name order. Before the tree
// is handed on, the catalog's parser re-reads it and it must require what
// the catalog entry says (catalog.CheckTree). The tree is cached under
// <cache>/sources/qemu/<key>, keyed by every input, and made in a
// temporary folder renamed into place, so a failed run leaves nothing
// half-made behind.
package qemusrc

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"qemupack/internal/catalog"
	"qemupack/internal/debian"
	"qemupack/internal/source"
	"qemupack/internal/stepcache"
)

// Flavours of source tree.
const (
	FlavorUpstream = "upstream"
	FlavorDebian   = "debian"
)

// prepVersion changes whenever the way trees are made changes, so old
// cached trees are not reused by a newer qemupack.
const prepVersion = "qemusrc-2"

// Request says which release to prepare and where things may come from.
type Request struct {
	Release  catalog.Release // Version, URL and SHA256 of the upstream tarball
	CacheDir string          // the cache root (QEMUPACK_CACHE)
	Mirror   string          // QEMUPACK_MIRROR: a folder of tarballs
	Offline  bool            // QEMUPACK_OFFLINE: no downloads from URLs
	// PatchRoot holds our patches as <PatchRoot>/<version>/*.patch
	// (<checkout>/patches/qemu).
	PatchRoot string
	// NoDebian turns the Debian source package path off.
	NoDebian bool
	// DebianPackage is the source package to ask for (default "qemu").
	DebianPackage string
	// Debian is Debian's archive (the private apt tree pick read);
	// DebianSource the version pick chose from it. Without DebianSource,
	// the highest served version of any suite that repacks the release's
	// X.Y is taken; without Debian, only files already in the cache or
	// the mirror folder can be used.
	Debian       *debian.Tree
	DebianSource *debian.SourcePkg
	// Progress receives one line per step (nil: quiet).
	Progress func(string)
	// Cache is the step cache trees are entries of (default: one at CacheDir).
	Cache *stepcache.Cache
}

// Tree is a prepared, patched source tree.
type Tree struct {
	Dir       string   `json:"-"`       // the tree (holds configure, VERSION)
	Version   string   `json:"version"` // from the patched VERSION file, e.g. "7.2.22"
	Flavor    string   `json:"flavor"`  // FlavorUpstream or FlavorDebian
	Origin    string   `json:"origin"`  // one line saying where it came from
	Patches   []string `json:"patches"` // our patches applied, in order
	Key       string   `json:"key"`     // hash of every input
	Requested string   `json:"requested"`
	// Debian is the Debian source package a FlavorDebian tree was made
	// from: version, suite, and its files (the .dsc's URL and sha256 are
	// what a bill of materials names).
	Debian *debian.SourcePkg `json:"debian,omitempty"`
	// SourceURL and SourceSHA256 name what the tree was made from, for a
	// bill of materials: the upstream tarball, or a Debian tree's .dsc.
	SourceURL    string `json:"source_url,omitempty"`
	SourceSHA256 string `json:"source_sha256,omitempty"`

	// Entry is the step cache entry holding the tree, held until released
	// (the pipeline releases it when its run ends).
	Entry *stepcache.Entry `json:"-"`
}

// Kind is the step cache kind of prepared trees.
const Kind = "qemu-src"

// ReadTree reads the record of the prepared tree in the entry at dir.
func ReadTree(dir string) (Tree, error) {
	b, err := os.ReadFile(filepath.Join(dir, stampName))
	if err != nil {
		return Tree{}, fmt.Errorf("qemu source: %s is not a prepared tree: %w", dir, err)
	}
	var t Tree
	if err := json.Unmarshal(b, &t); err != nil {
		return Tree{}, fmt.Errorf("qemu source: %s: %w", filepath.Join(dir, stampName), err)
	}
	t.Dir = filepath.Join(dir, "src")
	return t, nil
}

// stampName is the file in a finished tree that records what it is.
const stampName = ".qemupack-source.json"

func (r Request) say(format string, args ...any) {
	if r.Progress != nil {
		r.Progress(fmt.Sprintf(format, args...))
	}
}

// UpstreamFile is the tarball's file name: the URL's last part, or
// qemu-<version>.tar.xz.
func UpstreamFile(rel catalog.Release) string {
	if rel.URL != "" {
		if b := path.Base(rel.URL); b != "" && b != "/" && b != "." {
			return b
		}
	}
	return "qemu-" + rel.Version + ".tar.xz"
}

// Prepare returns the patched tree for req.Release, making it if needed.
func Prepare(ctx context.Context, req Request) (Tree, error) {
	if req.Release.Version == "" {
		return Tree{}, errors.New("qemu source: no release given")
	}
	if req.CacheDir == "" {
		return Tree{}, errors.New("qemu source: no cache folder given")
	}
	ours, err := OurPatches(req.PatchRoot, req.Release.Version)
	if err != nil {
		return Tree{}, err
	}
	var tried []string
	var errs []error // for errors.Is: a checksum or signature failure among them
	if req.Release.SHA256 != "" || req.Release.Upstream.Signed() {
		t, err := prepareUpstream(ctx, req, ours)
		if err == nil {
			return checked(req, t)
		}
		if isPatchError(err) || isWrongRelease(err) {
			return Tree{}, err // the tarball was verified; a patch or its content is the problem
		}
		tried = append(tried, err.Error())
		errs = append(errs, err)
		req.say("qemu %s: upstream tarball not available: %s", req.Release.Version, firstLine(err.Error()))
	} else {
		tried = append(tried, fmt.Sprintf("upstream: the catalog pins no sha256 for qemu %s and no pinned OpenPGP key signs it, so an upstream tarball cannot be verified", req.Release.Version))
		req.say("qemu %s: %s", req.Release.Version, tried[0])
	}
	if !req.NoDebian {
		req.say("qemu %s: trying Debian's source package", req.Release.Version)
		t, err := prepareDebian(ctx, req)
		if err == nil {
			return checked(req, t)
		}
		if isPatchError(err) {
			return Tree{}, err
		}
		tried = append(tried, "debian: "+err.Error())
		errs = append(errs, err)
	}
	msg := strings.Join(tried, "\n  ")
	if !strings.Contains(msg, "QEMUPACK_MIRROR") {
		msg += fmt.Sprintf("\n(put %s into a folder and set QEMUPACK_MIRROR to it)", UpstreamFile(req.Release))
	}
	return Tree{}, &NoSource{msg: fmt.Sprintf("qemu %s: no source:\n  %s", req.Release.Version, msg), errs: errs}
}

// NoSource is Prepare's error when no source could be had: every way
// tried, and why each failed (errors.Is finds source.ErrSignature or
// source.ErrChecksum among them).
type NoSource struct {
	msg  string
	errs []error
}

func (e *NoSource) Error() string   { return e.msg }
func (e *NoSource) Unwrap() []error { return e.errs }

// checked re-reads the prepared tree with the catalog's parser before
// anything configures it: what the tree requires must be what the catalog
// entry says (its own values, or those it inherits from its series). A
// release given without catalog data (a bare version) is not checked.
func checked(req Request, t Tree) (Tree, error) {
	rel := req.Release
	if !rel.Requires() && rel.Unknown == "" {
		return t, nil
	}
	if err := catalog.CheckTree(rel, t.Dir); err != nil {
		if t.Entry != nil {
			t.Entry.Release()
		}
		return Tree{}, err
	}
	if rel.Inherits != "" {
		req.say("qemu %s: its tree requires what the catalog took from %s", t.Version, rel.Inherits)
	}
	return t, nil
}

// WrongRelease is a verified tarball whose VERSION names another release:
// a signature covers a file's bytes, not its name, so a validly signed
// tarball of one release served under another's name is refused here.
type WrongRelease struct {
	File, Want, Got string
}

func (e *WrongRelease) Error() string {
	return fmt.Sprintf("qemu %s: %s is a signed QEMU tarball, but its VERSION says %s: another release under this name, refused (it was removed from the cache)", e.Want, e.File, e.Got)
}

func isWrongRelease(err error) bool {
	var w *WrongRelease
	return errors.As(err, &w)
}

func count(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	return s
}

// ourPatch is one of our patch files.
type ourPatch struct{ Name, Path, SHA256 string }

// OurPatches lists <root>/<version>/*.patch in name order (nil when the
// folder does not exist).
func OurPatches(root, version string) ([]ourPatch, error) {
	if root == "" {
		return nil, nil
	}
	dir := filepath.Join(root, version)
	ents, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("qemu patches: %w", err)
	}
	var out []ourPatch
	for _, e := range ents {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".patch") {
			continue
		}
		p := filepath.Join(dir, e.Name())
		sum, err := source.SHA256File(p)
		if err != nil {
			return nil, fmt.Errorf("qemu patches: %w", err)
		}
		out = append(out, ourPatch{Name: e.Name(), Path: p, SHA256: sum})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// readVersion reads the VERSION file of a tree.
func readVersion(tree string) (string, error) {
	b, err := os.ReadFile(filepath.Join(tree, "VERSION"))
	if err != nil {
		return "", fmt.Errorf("qemu source: %w (is this a QEMU tree?)", err)
	}
	v := strings.TrimSpace(string(b))
	if !regexp.MustCompile(`^\d+\.\d+\.\d+$`).MatchString(v) {
		return "", fmt.Errorf("qemu source: VERSION holds %q, not a QEMU version", v)
	}
	return v, nil
}

// treeInputs are the parts that decide a tree's content: how trees are
// made, the flavour, the sums of the tarballs, our patches.
func treeInputs(flavor string, sums []string, ours []ourPatch) stepcache.Inputs {
	var in stepcache.Inputs
	in.Add("prep", prepVersion)
	in.Add("flavor", flavor)
	in.AddList("tarballs", sums)
	in.AddList("patches", patchKeys(ours))
	return in
}

func patchKeys(ps []ourPatch) []string {
	var out []string
	for _, p := range ps {
		out = append(out, p.Name+"="+p.SHA256)
	}
	return out
}

func patchNames(ps []ourPatch) []string {
	var out []string
	for _, p := range ps {
		out = append(out, p.Name)
	}
	return out
}

func (r Request) cache() *stepcache.Cache {
	if r.Cache != nil {
		return r.Cache
	}
	return &stepcache.Cache{Root: r.CacheDir}
}

// build returns the tree for in from the step cache, making it with fill
// in a temporary folder (fill must leave the tree at <tmp>/src) when there
// is none. Two runs preparing the same tree wait for one another; the
// entry is held until the tree's Entry is released.
func build(ctx context.Context, req Request, name string, in stepcache.Inputs, fill func(tmp string) (Tree, error)) (Tree, error) {
	hasConfigure := func(dir string) error {
		_, err := os.Stat(filepath.Join(dir, "src", "configure"))
		return err
	}
	e, err := req.cache().Do(ctx, Kind, name, in, stepcache.Options{Check: hasConfigure}, func(ctx context.Context, tmp, final, work string) error {
		t, err := fill(tmp)
		if err != nil {
			return err
		}
		t.Requested = req.Release.Version
		stamp, _ := json.MarshalIndent(t, "", "  ")
		return os.WriteFile(filepath.Join(tmp, stampName), append(stamp, '\n'), 0o644)
	})
	if err != nil {
		return Tree{}, err
	}
	t, err := ReadTree(e.Dir)
	if err != nil {
		e.Release()
		return Tree{}, err
	}
	t.Key, t.Entry = e.Key, e
	if e.Hit {
		req.say("qemu %s source: reusing %s", t.Version, t.Dir)
	}
	return t, nil
}

// extractTo unpacks archive and moves its single top folder to dst.
func extractTo(archive, scratch, dst string) error {
	root, err := source.Extract(archive, scratch)
	if err != nil {
		return err
	}
	if err := os.Rename(root, dst); err != nil {
		return fmt.Errorf("qemu source: %w", err)
	}
	return os.RemoveAll(scratch)
}

// applyOurs applies our patches in name order; one that does not apply
// stops with a *source.PatchError naming it (and the failing hunk).
func applyOurs(ctx context.Context, tree string, ours []ourPatch, logDir string) error {
	var paths []string
	for _, p := range ours {
		paths = append(paths, p.Path)
	}
	return source.ApplyPatches(ctx, tree, paths, filepath.Join(logDir, "patch"))
}

// isPatchError tells a patch that does not apply (the source itself was
// fine, so no other source should be tried) from other failures.
func isPatchError(err error) bool {
	var pe *source.PatchError
	return errors.As(err, &pe)
}

func prepareUpstream(ctx context.Context, req Request, ours []ourPatch) (Tree, error) {
	rel := req.Release
	f := source.Fetcher{
		CacheDir: filepath.Join(req.CacheDir, "sources"),
		Mirror:   req.Mirror,
		Offline:  req.Offline,
		NoDebian: true,
		Progress: req.Progress,
	}
	tb := source.Tarball{
		Name:   "qemu " + rel.Version,
		File:   UpstreamFile(rel),
		SHA256: rel.SHA256,
		URL:    rel.URL,
	}
	if u := rel.Upstream; u != nil {
		if tb.URL == "" {
			tb.URL = u.URL
		}
		if u.Signed() {
			tb.Signature = &source.Signature{URL: u.Signature, KeyFiles: u.KeyFiles, Fingerprints: u.Keys}
		}
	}
	if tb.URL == "" {
		tb.URL = catalog.TarballURL(rel.Version)
	}
	got, err := f.Get(ctx, tb)
	if err != nil {
		return Tree{}, err
	}
	sum := got.SHA256
	if sum == "" {
		if sum, err = source.SHA256File(got.Path); err != nil {
			return Tree{}, err
		}
	}
	origin := fmt.Sprintf("upstream release tarball %s (sha256 %s)", tb.File, sum)
	if got.SignedBy != "" {
		origin = fmt.Sprintf("upstream release tarball %s (sha256 %s; OpenPGP signature by %s checked)", tb.File, sum, got.SignedBy)
	}
	in := treeInputs(FlavorUpstream, []string{sum}, ours)
	t, err := build(ctx, req, "qemu-"+rel.Version, in, func(tmp string) (Tree, error) {
		req.say("qemu %s: unpacking %s (verified: %s)", rel.Version, filepath.Base(got.Path), got.How())
		src := filepath.Join(tmp, "src")
		if err := extractTo(got.Path, filepath.Join(tmp, "x"), src); err != nil {
			return Tree{}, err
		}
		v, err := readVersion(src)
		if err != nil {
			return Tree{}, err
		}
		if v != rel.Version {
			return Tree{}, &WrongRelease{File: tb.File, Want: rel.Version, Got: v}
		}
		if err := applyOurs(ctx, src, ours, filepath.Join(tmp, "logs")); err != nil {
			return Tree{}, err
		}
		return Tree{Version: v, Flavor: FlavorUpstream, Patches: patchNames(ours), Origin: origin, SourceURL: tb.URL, SourceSHA256: sum}, nil
	})
	if isWrongRelease(err) && strings.HasPrefix(got.Path, f.CacheDir+string(filepath.Separator)) {
		os.Remove(got.Path)
		if got.SigPath != "" {
			os.Remove(got.SigPath)
		}
	}
	return t, err
}
