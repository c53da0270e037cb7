package catalog

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"qemupack/internal/qversion"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/hashicorp/go-version"

	"qemupack/internal/atomicfile"
	"qemupack/internal/source"
)

// DownloadBase is where QEMU publishes its release tarballs.
const DownloadBase = "https://download.qemu.org/"

// oldest is the first release the catalog covers.
var oldest = version.Must(version.NewVersion("5.0.0"))

// TarballURL is the upstream address of a release tarball.
func TarballURL(v string) string { return DownloadBase + "qemu-" + v + ".tar.xz" }

// RefreshOptions says where refresh takes release trees from and where the
// catalog goes.
type RefreshOptions struct {
	// Catalog is the file to rewrite (recipes/qemu-releases.json).
	Catalog string
	// Sums is a file of known upstream tarball sums (SumsFile); optional.
	Sums string
	// Src is a folder of release trees (folders with a VERSION file) and
	// tarballs (qemu-X.Y.Z.tar.xz, .tar.bz2, .tar.gz). Empty: download.
	Src string
	// Offline forbids downloads.
	Offline bool
	// Downloads is where fetched tarballs are kept (cache/sources).
	Downloads string
	// Base is the download site (DownloadBase when empty).
	Base string
	// Client does the HTTP requests (a client with a timeout when nil).
	Client *http.Client
	// Log gets one line per step a user should see (io.Discard when nil).
	Log io.Writer
	// Keys are the pinned signing keys: a downloaded tarball they sign is
	// used only once its signature checked out, and a tarball in Src with
	// its .sig beside it is checked too.
	Keys Keys
}

// RefreshResult says what a refresh did.
type RefreshResult struct {
	Parsed  []string // versions parsed from trees
	Skipped []string // trees left out (release candidates), with why
	Total   int      // releases in the catalog written
}

// Refresh parses release trees and rewrites the catalog: each parsed
// release replaces the entry of the same version, other entries stay
// (so a folder with a few trees refreshes just those). The file is
// written whole or not at all. Every tree is parsed before anything is
// written; any tree that does not parse fails the refresh.
func Refresh(ctx context.Context, o RefreshOptions) (RefreshResult, error) {
	var res RefreshResult
	logw := o.Log
	if logw == nil {
		logw = io.Discard
	}
	var existing []Release
	if _, err := os.Stat(o.Catalog); err == nil {
		existing, err = Load(o.Catalog)
		if err != nil {
			return res, fmt.Errorf("catalog:refresh: the current catalog is unreadable, fix or remove it first: %w", err)
		}
	}
	byVersion := map[string]Release{}
	for _, r := range existing {
		byVersion[r.Version] = r
	}
	sums := map[string]string{}
	if o.Sums != "" {
		var err error
		if sums, err = LoadSums(o.Sums); err != nil {
			return res, fmt.Errorf("catalog:refresh: %w", err)
		}
	}

	var paths []string
	var err error
	if o.Src != "" {
		paths, err = listSources(o.Src)
	} else {
		paths, err = download(ctx, o, byVersion, logw)
	}
	if err != nil {
		return res, err
	}

	parsed := map[string]string{} // version -> tree it came from
	var problems []string
	for _, p := range paths {
		fmt.Fprintf(logw, "reading %s\n", p)
		if err := checkBesideSignature(p, o.Keys, logw); err != nil {
			problems = append(problems, err.Error())
			continue
		}
		t, err := ReadTree(ctx, p)
		if err != nil {
			problems = append(problems, err.Error())
			continue
		}
		r, err := Parse(t)
		if err != nil {
			problems = append(problems, fmt.Sprintf("%s: %v", p, err))
			continue
		}
		if qversion.IsPrerelease(r.Version) {
			res.Skipped = append(res.Skipped, fmt.Sprintf("%s: %s is a release candidate", p, r.Version))
			continue
		}
		if v, _ := version.NewVersion(r.Version); v.LessThan(oldest) {
			res.Skipped = append(res.Skipped, fmt.Sprintf("%s: %s is older than %s", p, r.Version, oldest))
			continue
		}
		if prev, dup := parsed[r.Version]; dup {
			problems = append(problems, fmt.Sprintf("%s and %s both hold qemu %s: keep one", prev, p, r.Version))
			continue
		}
		if err := fillSource(&r, t, p); err != nil {
			problems = append(problems, err.Error())
			continue
		}
		known := sums[r.Version]
		if old, ok := byVersion[r.Version]; ok && known == "" {
			known = old.SHA256
		}
		switch {
		case r.SHA256 == "" && known != "":
			r.URL, r.SHA256 = TarballURL(r.Version), known
		case r.SHA256 != "" && known != "" && r.SHA256 != known:
			problems = append(problems, fmt.Sprintf("%s: sha256 %s, but %s is known for qemu-%s.tar.xz: not the released tarball", p, r.SHA256, known, r.Version))
			continue
		}
		parsed[r.Version] = p
		byVersion[r.Version] = r
		res.Parsed = append(res.Parsed, r.Version)
	}
	if len(problems) > 0 {
		return res, fmt.Errorf("catalog:refresh: %d of %d trees failed, catalog left as it was:\n  %s",
			len(problems), len(paths), strings.Join(problems, "\n  "))
	}
	if len(res.Parsed) == 0 {
		return res, fmt.Errorf("catalog:refresh: no QEMU release %s or newer found in %s (folders with a VERSION file, or qemu-X.Y.Z.tar.xz tarballs)", oldest, sourceName(o))
	}
	out := make([]Release, 0, len(byVersion))
	for _, r := range byVersion {
		out = append(out, r)
	}
	SortNewestFirst(out)
	if err := Save(o.Catalog, out); err != nil {
		return res, err
	}
	res.Total = len(out)
	return res, nil
}

func sourceName(o RefreshOptions) string {
	if o.Src != "" {
		return o.Src
	}
	return baseURL(o)
}

// fillSource sets where the entry's files came from, and the upstream URL
// and checksum when the tree is an upstream tarball.
func fillSource(r *Release, t *Tree, p string) error {
	base := filepath.Base(p)
	if r.Source == "" {
		r.Source = base
	}
	m := reUpstreamTarball.FindStringSubmatch(base)
	if m == nil || t.SHA256 == "" {
		return nil
	}
	if m[1] != r.Version {
		return fmt.Errorf("%s: the name says %s but its VERSION file says %s", p, m[1], r.Version)
	}
	if m[2] == "xz" {
		r.URL, r.SHA256 = TarballURL(r.Version), t.SHA256
	}
	return nil
}

var reUpstreamTarball = regexp.MustCompile(`^qemu-(\d+\.\d+\.\d+)\.tar\.(xz|bz2|gz)$`)

// listSources lists the trees and tarballs in a folder, by name.
func listSources(dir string) ([]string, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("catalog:refresh: release folder %s: %w (QEMUPACK_CATALOG_SRC names a folder of QEMU release trees or tarballs)", dir, err)
	}
	var out []string
	for _, e := range ents {
		p := filepath.Join(dir, e.Name())
		st, err := os.Stat(p) // follows symlinks: a folder of links to trees works
		if err != nil {
			return nil, fmt.Errorf("catalog:refresh: %s: %w", p, err)
		}
		if st.IsDir() {
			if _, err := os.Stat(filepath.Join(p, "VERSION")); err == nil {
				out = append(out, p)
			}
			continue
		}
		n := e.Name()
		for _, ext := range []string{".tar.xz", ".tar.bz2", ".tar.gz", ".tgz", ".tar"} {
			if strings.HasSuffix(n, ext) {
				out = append(out, p)
				break
			}
		}
	}
	sort.Strings(out)
	return out, nil
}

func baseURL(o RefreshOptions) string {
	if o.Base != "" {
		return strings.TrimSuffix(o.Base, "/") + "/"
	}
	return DownloadBase
}

var reIndexTarball = regexp.MustCompile(`qemu-(\d+\.\d+\.\d+)\.tar\.xz"`)

// download lists the releases on the download site and fetches the
// tarballs of those the catalog lacks into o.Downloads.
func download(ctx context.Context, o RefreshOptions, have map[string]Release, logw io.Writer) ([]string, error) {
	base := baseURL(o)
	if o.Offline {
		return nil, fmt.Errorf("catalog:refresh: offline (QEMUPACK_OFFLINE=1) and no QEMUPACK_CATALOG_SRC: set QEMUPACK_CATALOG_SRC to a folder of QEMU release trees or tarballs")
	}
	client := o.Client
	if client == nil {
		client = &http.Client{Timeout: 30 * time.Minute}
	}
	fmt.Fprintf(logw, "listing releases at %s\n", base)
	index, err := get(ctx, client, base)
	if err != nil {
		return nil, fmt.Errorf("catalog:refresh: cannot list QEMU releases: %w\n  without network, set QEMUPACK_CATALOG_SRC to a folder of QEMU release trees or tarballs", err)
	}
	seen := map[string]bool{}
	var want []string
	for _, m := range reIndexTarball.FindAllStringSubmatch(string(index), -1) {
		v := m[1]
		pv, err := version.NewVersion(v)
		if err != nil || seen[v] || qversion.IsPrerelease(v) || pv.LessThan(oldest) {
			continue
		}
		seen[v] = true
		if h, ok := have[v]; !ok || !h.Read() { // missing, or its own files not read yet
			want = append(want, v)
		}
	}
	if len(seen) == 0 {
		return nil, fmt.Errorf("catalog:refresh: %s lists no qemu-X.Y.Z.tar.xz tarballs", base)
	}
	if err := os.MkdirAll(o.Downloads, 0o755); err != nil {
		return nil, fmt.Errorf("catalog:refresh: %w", err)
	}
	var paths []string
	for _, v := range want {
		url := base + "qemu-" + v + ".tar.xz"
		if ks := o.Keys.For(v); len(ks) > 0 {
			f := source.Fetcher{CacheDir: o.Downloads, Client: client, Progress: func(s string) { fmt.Fprintln(logw, s) }}
			sig := &source.Signature{URL: SignatureURL(url)}
			for _, k := range ks {
				sig.KeyFiles = append(sig.KeyFiles, k.Path())
				sig.Fingerprints = append(sig.Fingerprints, k.Fingerprint)
			}
			p, err := f.Fetch(ctx, source.Tarball{Name: "qemu " + v, File: "qemu-" + v + ".tar.xz", URL: url, SHA256: have[v].SHA256, Signature: sig})
			if err != nil {
				return nil, fmt.Errorf("catalog:refresh: %w", err)
			}
			paths = append(paths, p)
			continue
		}
		dest := filepath.Join(o.Downloads, "qemu-"+v+".tar.xz")
		if _, err := os.Stat(dest); err == nil {
			paths = append(paths, dest)
			continue
		}
		fmt.Fprintf(logw, "downloading %s\n", url)
		if err := fetchFile(ctx, client, url, dest, have[v].SHA256); err != nil {
			return nil, fmt.Errorf("catalog:refresh: %w\n  without network, set QEMUPACK_CATALOG_SRC to a folder of QEMU release trees or tarballs", err)
		}
		paths = append(paths, dest)
	}
	return paths, nil
}

func get(ctx context.Context, c *http.Client, url string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := c.Do(req)
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w", url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	return io.ReadAll(io.LimitReader(resp.Body, 16<<20))
}

// fetchFile downloads url to dest through a temporary file, so dest is
// either whole or absent, and checks its sha256 when one is known.
func fetchFile(ctx context.Context, c *http.Client, url, dest, wantSHA string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := c.Do(req)
	if err != nil {
		return fmt.Errorf("GET %s: %w", url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	return atomicfile.Write(dest, 0o644, func(tmp *os.File) error {
		h := sha256.New()
		if _, err := io.Copy(io.MultiWriter(tmp, h), resp.Body); err != nil {
			return fmt.Errorf("GET %s: %w", url, err)
		}
		if got := hex.EncodeToString(h.Sum(nil)); wantSHA != "" && got != wantSHA {
			return fmt.Errorf("GET %s: sha256 %s, want %s", url, got, wantSHA)
		}
		return nil
	})
}

// Save writes the catalog atomically: a temporary file in the same folder,
// then a rename over the old one.
func Save(path string, rs []Release) error {
	// Entries that inherit are checked as Load will read them back: their
	// requirements taken afresh from the release they name.
	check := make([]Release, len(rs))
	for i, r := range rs {
		if r.Inherits != "" {
			r.requirements(Release{})
		}
		check[i] = r
	}
	if err := resolve(path, check); err != nil {
		return err
	}
	if err := validate(path, check); err != nil {
		return err
	}
	b, err := json.MarshalIndent(stored(rs), "", "  ")
	if err != nil {
		return fmt.Errorf("catalog %s: %w", path, err)
	}
	b = append(b, '\n')
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("catalog %s: %w", path, err)
	}
	if err := atomicfile.WriteFile(path, b, 0o644); err != nil {
		return fmt.Errorf("catalog %s: %w", path, err)
	}
	return nil
}

// storedEntry is how the catalog file keeps a release whose own files were
// not read: what it is known from, where it inherits from or why its
// requirements are unknown, and its tarball when known, but no requirement
// values (those come from the release it inherits from).
type storedEntry struct {
	Version  string `json:"version"`
	Inherits string `json:"inherits,omitempty"`
	Unknown  string `json:"requirements_unknown,omitempty"`
	Source   string `json:"source,omitempty"`
	URL      string `json:"url,omitempty"`
	SHA256   string `json:"sha256,omitempty"`
}

// stored is what Save writes for each release: never the derived
// Upstream, and no requirement values for a release that was not read.
func stored(rs []Release) []any {
	out := make([]any, 0, len(rs))
	for _, r := range rs {
		if r.Read() {
			r.Upstream = nil
			out = append(out, r)
			continue
		}
		out = append(out, storedEntry{Version: r.Version, Inherits: r.Inherits, Unknown: r.Unknown, Source: r.Source, URL: r.URL, SHA256: r.SHA256})
	}
	return out
}

// checkBesideSignature checks the .sig lying beside an upstream-named
// tarball in the refresh folder against the keys pinned for its release.
// A tarball without one is read as before.
func checkBesideSignature(p string, keys Keys, logw io.Writer) error {
	m := reUpstreamTarball.FindStringSubmatch(filepath.Base(p))
	if m == nil {
		return nil
	}
	sig, err := os.ReadFile(p + ".sig")
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		return err
	}
	ks := keys.For(m[1])
	if len(ks) == 0 {
		return fmt.Errorf("%s: a signature lies beside it, but no pinned key signs qemu %s (%s)", p, m[1], keys.File)
	}
	var files, pins []string
	for _, k := range ks {
		files, pins = append(files, k.Path()), append(pins, k.Fingerprint)
	}
	kr, err := source.LoadKeyring(files, pins)
	if err != nil {
		return err
	}
	signer, err := kr.Verify(p, sig)
	if err != nil {
		return err
	}
	fmt.Fprintf(logw, "%s: signature by %s checked\n", filepath.Base(p), signer)
	return nil
}
