// Package source gets source tarballs and turns them into patched trees:
// Fetch finds a tarball (the cache, a mirror folder, the upstream URL, or
// a Debian source package from the archive's suites), Verify checks its sha256, Extract
// unpacks it refusing entries that would land outside the target folder,
// and ApplyPatches applies patches in name order.
//
// Typical use:
//
//	f := source.Fetcher{CacheDir: filepath.Join(cache, "sources"), Mirror: cfg.Mirror, Offline: cfg.Offline, Debian: tree.DownloadSourceFile}
//	tgz, err := f.Fetch(ctx, source.Tarball{Name: "qemu", File: "...", SHA256: "...", URL: "...", DebianPackage: "qemu"})
//	tree, err := source.Extract(tgz, filepath.Join(work, "src"))
//	err = source.ApplyPatches(ctx, tree, source.PatchFiles(patchDir), logFile)
package source

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"qemupack/internal/atomicfile"
	"qemupack/internal/checksum"
)

// Tarball names one file to fetch and the sum it must have.
type Tarball struct {
	Name   string // what it is the source of, for messages ("glib 2.74.6")
	File   string // file name (in the cache, a mirror folder, the URL's last part)
	SHA256 string // pinned sum, 64 hex digits
	URL    string // upstream download URL ("" = none)
	// DebianPackage is a Debian source package whose files include this
	// tarball; DebianFile is the tarball's name there when it differs from
	// File (Debian names orig tarballs <pkg>_<version>.orig.tar.*).
	DebianPackage string
	DebianFile    string
}

// Fetcher gets tarballs. The zero value works online with no cache; set
// CacheDir to keep what was fetched.
type Fetcher struct {
	// CacheDir keeps verified tarballs as <CacheDir>/<sha256>/<file>.
	CacheDir string
	// Mirror is a folder of tarballs looked up by File and DebianFile (QEMUPACK_MIRROR).
	Mirror string
	// Offline forbids downloads from URLs (Debian source packages are
	// still tried: they come from Debian's archive through apt).
	Offline bool
	// Debian fetches Debian source packages (debian.Tree's
	// DownloadSourceFile): nil, or NoDebian, turns that path off.
	Debian   DebianFunc
	NoDebian bool
	// Client is used for URLs (default: 30 s to connect, 20 min in all).
	Client *http.Client
	// Progress, when set, receives one line per step taken.
	Progress func(string)
}

// DebianFunc downloads into dir the version of Debian source package pkg
// whose files include one with the given sha256, and returns the name and
// sha256 (as the archive's signed index gives them) of every file of it
// that came.
type DebianFunc func(ctx context.Context, pkg, sha256, dir string) (map[string]string, error)

// ErrChecksum is wrapped by the error Verify returns on a sum mismatch.
var ErrChecksum = errors.New("sha256 mismatch")

// Verify checks that the file at path has the given sha256. The error names
// the file, the expected and the actual sum.
func Verify(path, want string) error {
	got, err := checksum.File(path)
	if err != nil {
		return err
	}
	if !strings.EqualFold(got, want) {
		return fmt.Errorf("%w: %s: expected %s, got %s (the file is damaged, or a different release than the recipe pins)", ErrChecksum, path, strings.ToLower(want), got)
	}
	return nil
}

// SHA256File is checksum.File, kept for qemusrc, which calls it; new code
// calls checksum.File.
func SHA256File(path string) (string, error) { return checksum.File(path) }

func (f *Fetcher) say(format string, args ...any) {
	if f.Progress != nil {
		f.Progress(fmt.Sprintf(format, args...))
	}
}

// CachedPath is where a verified tarball lives in the cache.
func (f *Fetcher) CachedPath(t Tarball) string {
	return filepath.Join(f.CacheDir, strings.ToLower(t.SHA256), t.File)
}

// Fetch returns the path of a verified copy of t. It tries, in order: the
// cache, the mirror folder, the URL (unless Offline), and the Debian source
// package (apt-get source --download-only). Every candidate is verified;
// a candidate with the wrong sum is reported and never used.
func (f *Fetcher) Fetch(ctx context.Context, t Tarball) (string, error) {
	if t.File == "" || len(t.SHA256) != 64 {
		return "", fmt.Errorf("fetch %s: needs a file name and a 64-digit sha256", t.Name)
	}
	if strings.ContainsAny(t.File, `/\`) || strings.ContainsAny(t.DebianFile, `/\`) {
		return "", fmt.Errorf("fetch %s: file name %q must not contain a folder", t.Name, t.File)
	}
	var tried []string
	if f.CacheDir != "" {
		p := f.CachedPath(t)
		if _, err := os.Stat(p); err == nil {
			if err := Verify(p, t.SHA256); err == nil {
				return p, nil
			} else {
				tried = append(tried, fmt.Sprintf("cache: %v", err))
				os.Remove(p)
			}
		}
	}
	names := []string{t.File}
	if t.DebianFile != "" && t.DebianFile != t.File {
		names = append(names, t.DebianFile)
	}
	dirs := []string{}
	if f.Mirror != "" {
		dirs = append(dirs, f.Mirror)
	}
	for _, d := range dirs {
		for _, n := range names {
			p := filepath.Join(d, n)
			if _, err := os.Stat(p); err != nil {
				continue
			}
			if err := Verify(p, t.SHA256); err != nil {
				tried = append(tried, fmt.Sprintf("mirror: %v", err))
				continue
			}
			f.say("%s: %s from %s", t.Name, n, d)
			return f.keep(p, t, false)
		}
	}
	if t.URL != "" && !f.Offline {
		f.say("%s: downloading %s", t.Name, t.URL)
		p, err := f.download(ctx, t)
		if err == nil {
			return p, nil
		}
		f.say("%s: download failed: %v", t.Name, err)
		tried = append(tried, fmt.Sprintf("url: %v", err))
	} else if t.URL != "" {
		tried = append(tried, "url: skipped (offline)")
	}
	if t.DebianPackage != "" && !f.NoDebian {
		f.say("%s: from Debian's source package %s", t.Name, t.DebianPackage)
		p, err := f.fromDebian(ctx, t)
		if err == nil {
			return p, nil
		}
		f.say("%s: no %s from Debian's source package %s", t.Name, t.File, t.DebianPackage)
		tried = append(tried, fmt.Sprintf("debian: %v", err))
	}
	if len(tried) == 0 {
		tried = append(tried, "no mirror folder, URL or Debian package given")
	}
	return "", fmt.Errorf("fetch %s (%s, sha256 %s): no verified copy found:\n  %s\n(put the file into a folder and set QEMUPACK_MIRROR to it)",
		t.Name, t.File, t.SHA256, strings.Join(tried, "\n  "))
}

// keep copies (or moves) a verified file into the cache and returns the
// cached path; with no cache it returns src itself.
func (f *Fetcher) keep(src string, t Tarball, move bool) (string, error) {
	if f.CacheDir == "" {
		return src, nil
	}
	dst := f.CachedPath(t)
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return "", fmt.Errorf("fetch %s: %w", t.Name, err)
	}
	if move {
		if err := os.Rename(src, dst); err == nil {
			return dst, nil
		}
	}
	in, err := os.Open(src)
	if err != nil {
		return "", fmt.Errorf("fetch %s: %w", t.Name, err)
	}
	defer in.Close()
	err = atomicfile.WriteChecked(dst, 0o644, func(tmp *os.File) error {
		if _, err := io.Copy(tmp, in); err != nil {
			return fmt.Errorf("fetch %s: copy into cache: %w", t.Name, err)
		}
		return nil
	}, func(tmp string) error {
		if err := Verify(tmp, t.SHA256); err != nil {
			return fmt.Errorf("fetch %s: %w", t.Name, err)
		}
		return nil
	})
	if err != nil {
		return "", err
	}
	return dst, nil
}

func (f *Fetcher) client() *http.Client {
	if f.Client != nil {
		return f.Client
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.DialContext = (&net.Dialer{Timeout: 30 * time.Second}).DialContext
	tr.ResponseHeaderTimeout = 60 * time.Second
	return &http.Client{Transport: tr, Timeout: 20 * time.Minute}
}

func (f *Fetcher) download(ctx context.Context, t Tarball) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, t.URL, nil)
	if err != nil {
		return "", err
	}
	resp, err := f.client().Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("%s: %s", t.URL, resp.Status)
	}
	// Into the cache, or with no cache a file that outlives this call.
	dst := filepath.Join(os.TempDir(), fmt.Sprintf("qemupack-%s-%s", t.SHA256[:12], t.File))
	if f.CacheDir != "" {
		dst = f.CachedPath(t)
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return "", err
	}
	err = atomicfile.WriteChecked(dst, 0o644, func(tmp *os.File) error {
		if _, err := io.Copy(tmp, resp.Body); err != nil {
			return fmt.Errorf("%s: %w", t.URL, err)
		}
		return nil
	}, func(tmp string) error {
		if err := Verify(tmp, t.SHA256); err != nil {
			return fmt.Errorf("%s: %w", t.URL, err)
		}
		return nil
	})
	if err != nil {
		return "", err
	}
	return dst, nil
}

// fromDebian has the Debian archive download the version of the source
// package that holds the file (by its sha256), checks the file, and keeps
// every other file of that version in the cache by its sum too (the
// QEMU source path asks for the .dsc, orig and debian tarballs in turn).
func (f *Fetcher) fromDebian(ctx context.Context, t Tarball) (string, error) {
	if f.Debian == nil {
		return "", fmt.Errorf("no Debian archive to ask (the private apt tree was not opened)")
	}
	base := f.CacheDir
	if base == "" {
		base = os.TempDir()
	}
	if err := os.MkdirAll(base, 0o755); err != nil {
		return "", err
	}
	tmp, err := os.MkdirTemp(base, ".debian-*")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(tmp)
	files, err := f.Debian(ctx, t.DebianPackage, strings.ToLower(t.SHA256), tmp)
	if err != nil {
		return "", err
	}
	found := ""
	for name, sum := range files {
		if strings.EqualFold(sum, t.SHA256) {
			found = name
		}
	}
	if found == "" {
		return "", fmt.Errorf("Debian's source package %s came without the file with sha256 %s", t.DebianPackage, t.SHA256)
	}
	p := filepath.Join(tmp, found)
	if err := Verify(p, t.SHA256); err != nil {
		return "", err
	}
	if f.CacheDir != "" {
		for name, sum := range files {
			if name == found || len(sum) != 64 {
				continue
			}
			other := Tarball{Name: t.Name, File: name, SHA256: sum}
			if _, err := os.Stat(f.CachedPath(other)); err == nil {
				continue
			}
			if Verify(filepath.Join(tmp, name), sum) == nil {
				f.keep(filepath.Join(tmp, name), other, true)
			}
		}
	}
	return f.keep(p, Tarball{Name: t.Name, File: t.File, SHA256: t.SHA256}, true)
}
