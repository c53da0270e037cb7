// Package source gets source tarballs and turns them into patched trees:
// Fetch finds a tarball (the cache, a mirror folder, the upstream URL, or
// a Debian source package from the archive's suites) and verifies it, by its pinned sha256,
// by its detached OpenPGP signature from a pinned key (openpgp.go), or by
// both; Extract unpacks it refusing entries that would land outside the
// target folder, and ApplyPatches applies patches in name order.
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

// Tarball names one file to fetch and what verifies it: a pinned sha256,
// a detached OpenPGP signature by a pinned key, or both (then both must
// pass wherever the signature can be had; without a pinned sum it must).
type Tarball struct {
	Name   string // what it is the source of, for messages ("glib 2.74.6")
	File   string // file name (in the cache, a mirror folder, the URL's last part)
	SHA256 string // pinned sum, 64 hex digits ("" = the signature alone verifies it)
	URL    string // upstream download URL ("" = none)
	// Signature, when set, is the tarball's detached OpenPGP signature.
	Signature *Signature
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

// CachedPath is where a verified tarball lives in the cache: under its
// pinned sum, or under signed/ when its signature alone verifies it. Its
// signature, when it has one, is kept beside it.
func (f *Fetcher) CachedPath(t Tarball) string {
	if t.SHA256 == "" {
		return filepath.Join(f.CacheDir, "signed", t.File)
	}
	return filepath.Join(f.CacheDir, strings.ToLower(t.SHA256), t.File)
}

// Fetched is a verified tarball and what verified it.
type Fetched struct {
	Path     string
	SHA256   string // the pinned sum it matched ("" when none was pinned)
	SignedBy string // fingerprint of the key whose signature checked out ("" = none checked)
	SigPath  string // that signature, beside Path

	sig []byte // the signature's bytes, while they are in hand
}

// How says what verified the tarball, for logs.
func (r Fetched) How() string {
	switch {
	case r.SHA256 != "" && r.SignedBy != "":
		return fmt.Sprintf("sha256 %s and OpenPGP signature by %s", r.SHA256, r.SignedBy)
	case r.SignedBy != "":
		return "OpenPGP signature by " + r.SignedBy
	}
	return "sha256 " + r.SHA256
}

// Fetch returns the path of a verified copy of t (see Get).
func (f *Fetcher) Fetch(ctx context.Context, t Tarball) (string, error) {
	r, err := f.Get(ctx, t)
	return r.Path, err
}

// Get returns a verified copy of t. It tries, in order: the cache, the
// mirror folder, the URL (unless Offline), and the Debian source package
// (the Debian field: the private apt tree). Every candidate is verified (its
// pinned sha256, its signature) before it is returned; a candidate that
// fails is reported and never used, and nothing unverified is left in the
// cache.
func (f *Fetcher) Get(ctx context.Context, t Tarball) (Fetched, error) {
	if t.File == "" || (t.SHA256 != "" && len(t.SHA256) != 64) || (t.SHA256 == "" && t.Signature == nil) {
		return Fetched{}, fmt.Errorf("fetch %s: needs a file name and a 64-digit sha256 or an OpenPGP signature", t.Name)
	}
	if strings.ContainsAny(t.File, `/\`) || strings.ContainsAny(t.DebianFile, `/\`) || strings.ContainsAny(sigName(t), `/\`) {
		return Fetched{}, fmt.Errorf("fetch %s: file name %q must not contain a folder", t.Name, t.File)
	}
	var kr *Keyring
	if t.Signature != nil {
		var err error
		if kr, err = LoadKeyring(t.Signature.KeyFiles, t.Signature.Fingerprints); err != nil {
			return Fetched{}, fmt.Errorf("fetch %s: %w", t.Name, err)
		}
	}
	var tried []string
	var errs []error // the failures, for errors.Is (ErrChecksum, ErrSignature)
	if f.CacheDir != "" {
		p := f.CachedPath(t)
		if _, err := os.Stat(p); err == nil {
			r, err := f.check(ctx, t, kr, p, true)
			if err == nil {
				return r, nil
			}
			errs = append(errs, err)
			tried = append(tried, fmt.Sprintf("cache: %v", err))
			os.Remove(p)
			os.Remove(filepath.Join(filepath.Dir(p), sigName(t)))
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
			if n != t.File && kr != nil && t.SHA256 == "" {
				continue // only the upstream name has an upstream signature
			}
			r, err := f.check(ctx, t, kr, p, false)
			if err != nil {
				errs = append(errs, err)
				tried = append(tried, fmt.Sprintf("mirror: %v", err))
				continue
			}
			f.say("%s: %s from %s (%s)", t.Name, n, d, r.How())
			if kr == nil {
				p, err := f.keep(p, t, false)
				return Fetched{Path: p, SHA256: t.SHA256}, err
			}
			return f.keepVerified(t, kr, r)
		}
	}
	if t.URL != "" && !f.Offline {
		f.say("%s: downloading %s", t.Name, t.URL)
		r, err := f.download(ctx, t, kr)
		if err == nil {
			return r, nil
		}
		f.say("%s: download failed: %v", t.Name, err)
		errs = append(errs, err)
		tried = append(tried, fmt.Sprintf("url: %v", err))
	} else if t.URL != "" {
		tried = append(tried, "url: skipped (offline)")
	}
	if t.DebianPackage != "" && !f.NoDebian && t.SHA256 != "" {
		f.say("%s: from Debian's source package %s", t.Name, t.DebianPackage)
		p, err := f.fromDebian(ctx, t)
		if err == nil {
			return Fetched{Path: p, SHA256: t.SHA256}, nil
		}
		f.say("%s: no %s from Debian's source package %s", t.Name, t.File, t.DebianPackage)
		errs = append(errs, err)
		tried = append(tried, fmt.Sprintf("debian: %v", err))
	}
	if len(tried) == 0 {
		tried = append(tried, "no mirror folder, URL or Debian package given")
	}
	what := "sha256 " + t.SHA256
	hint := "put the file into a folder and set QEMUPACK_MIRROR to it"
	if t.SHA256 == "" {
		what = "verified by its OpenPGP signature"
		hint = fmt.Sprintf("put %s and %s into a folder and set QEMUPACK_MIRROR to it", t.File, sigName(t))
	}
	return Fetched{}, &fetchError{
		msg: fmt.Sprintf("fetch %s (%s, %s): no verified copy found:\n  %s\n(%s)",
			t.Name, t.File, what, strings.Join(tried, "\n  "), hint),
		errs: errs,
	}
}

// fetchError lists every candidate that failed; errors.Is finds a
// checksum or signature failure among them.
type fetchError struct {
	msg  string
	errs []error
}

func (e *fetchError) Error() string   { return e.msg }
func (e *fetchError) Unwrap() []error { return e.errs }

// check verifies a candidate file: its pinned sha256, then its signature
// (kept beside it, or downloaded when mayDownload and online). Without a
// pinned sum the signature must be had and must verify; with one, a
// signature that cannot be had is noted and the sum suffices.
func (f *Fetcher) check(ctx context.Context, t Tarball, kr *Keyring, p string, mayDownload bool) (Fetched, error) {
	r := Fetched{Path: p}
	if t.SHA256 != "" {
		if err := Verify(p, t.SHA256); err != nil {
			return r, err
		}
		r.SHA256 = strings.ToLower(t.SHA256)
	}
	if kr == nil {
		return r, nil
	}
	sigPath := filepath.Join(filepath.Dir(p), sigName(t))
	sig, err := readSmall(sigPath)
	var why error
	switch {
	case err == nil:
		r.SigPath = sigPath
	case !os.IsNotExist(err):
		why = err
	case mayDownload && !f.Offline && t.Signature.URL != "":
		if sig, why = f.getSmall(ctx, t.Signature.URL); why == nil {
			if err := atomicfile.WriteFile(sigPath, sig, 0o644); err == nil {
				r.SigPath = sigPath
			}
		}
	default:
		why = fmt.Errorf("no %s beside it", sigName(t))
	}
	if sig == nil {
		if t.SHA256 != "" {
			f.say("%s: %s verified by its sha256 only (no signature at hand: %v)", t.Name, filepath.Base(p), why)
			return r, nil
		}
		return r, fmt.Errorf("%w: %s: no signature (%v), and no sha256 is pinned: an unverified tarball is refused", ErrSignature, p, why)
	}
	if r.SignedBy, err = kr.Verify(p, sig); err != nil {
		return r, err
	}
	r.sig = sig
	return r, nil
}

// readSmall reads a signature file.
func readSmall(p string) ([]byte, error) {
	fh, err := os.Open(p)
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	return io.ReadAll(io.LimitReader(fh, maxSignature))
}

// getSmall downloads a signature.
func (f *Fetcher) getSmall(ctx context.Context, url string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := f.client().Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s: %s", url, resp.Status)
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxSignature+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", url, err)
	}
	if len(b) > maxSignature {
		return nil, fmt.Errorf("%s: more than %d bytes: not a detached signature", url, maxSignature)
	}
	return b, nil
}

// keepVerified copies a verified mirror file into the cache, checking the
// copy again (sum and signature) before it takes its place; the signature
// goes beside it first.
func (f *Fetcher) keepVerified(t Tarball, kr *Keyring, r Fetched) (Fetched, error) {
	if f.CacheDir == "" {
		return r, nil
	}
	dst := f.CachedPath(t)
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return Fetched{}, fmt.Errorf("fetch %s: %w", t.Name, err)
	}
	in, err := os.Open(r.Path)
	if err != nil {
		return Fetched{}, fmt.Errorf("fetch %s: %w", t.Name, err)
	}
	defer in.Close()
	out := r
	out.Path, out.SigPath = dst, ""
	err = atomicfile.WriteChecked(dst, 0o644, func(tmp *os.File) error {
		if _, err := io.Copy(tmp, in); err != nil {
			return fmt.Errorf("fetch %s: copy into cache: %w", t.Name, err)
		}
		return nil
	}, func(tmp string) error {
		got, err := f.verifyFile(t, kr, tmp, r.sig)
		if err != nil {
			return fmt.Errorf("fetch %s: %w", t.Name, err)
		}
		if r.sig != nil {
			out.SigPath = filepath.Join(filepath.Dir(dst), sigName(t))
			if err := atomicfile.WriteFile(out.SigPath, r.sig, 0o644); err != nil {
				return fmt.Errorf("fetch %s: %w", t.Name, err)
			}
		}
		out.SignedBy = got
		return nil
	})
	if err != nil {
		return Fetched{}, err
	}
	return out, nil
}

// verifyFile checks a file against the pinned sum and a signature already
// in hand, returning the signer ("" when sig is nil).
func (f *Fetcher) verifyFile(t Tarball, kr *Keyring, p string, sig []byte) (string, error) {
	if t.SHA256 != "" {
		if err := Verify(p, t.SHA256); err != nil {
			return "", err
		}
	}
	if sig == nil {
		if t.SHA256 == "" {
			return "", fmt.Errorf("%w: no signature and no sha256 pinned", ErrSignature)
		}
		return "", nil
	}
	return kr.verify(p, t.File, sig)
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

// download fetches t.URL into the cache (or a temporary file with no
// cache). A signed tarball's signature is fetched first: without a pinned
// sum, a missing signature stops here, before the tarball is downloaded.
// The file takes its place only once its sum and signature checked out.
func (f *Fetcher) download(ctx context.Context, t Tarball, kr *Keyring) (Fetched, error) {
	var sig []byte
	if kr != nil {
		var err error
		switch {
		case t.Signature.URL == "":
			err = errors.New("no signature URL")
		default:
			sig, err = f.getSmall(ctx, t.Signature.URL)
		}
		if err != nil {
			if t.SHA256 == "" {
				return Fetched{}, fmt.Errorf("%w: %s: no signature (%v), and no sha256 is pinned: an unsigned download is refused", ErrSignature, t.URL, err)
			}
			f.say("%s: no signature to check (%v); the pinned sha256 verifies it", t.Name, err)
			sig = nil
		}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, t.URL, nil)
	if err != nil {
		return Fetched{}, err
	}
	resp, err := f.client().Do(req)
	if err != nil {
		return Fetched{}, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return Fetched{}, fmt.Errorf("%s: %s", t.URL, resp.Status)
	}
	// Into the cache, or with no cache a file that outlives this call.
	dst := f.CachedPath(t)
	if f.CacheDir == "" {
		tag := "signed"
		if t.SHA256 != "" {
			tag = t.SHA256[:12]
		}
		dst = filepath.Join(os.TempDir(), fmt.Sprintf("qemupack-%s-%s", tag, t.File))
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return Fetched{}, err
	}
	r := Fetched{Path: dst, SHA256: strings.ToLower(t.SHA256)}
	err = atomicfile.WriteChecked(dst, 0o644, func(tmp *os.File) error {
		if _, err := io.Copy(tmp, resp.Body); err != nil {
			return fmt.Errorf("%s: %w", t.URL, err)
		}
		return nil
	}, func(tmp string) error {
		signer, err := f.verifyFile(t, kr, tmp, sig)
		if err != nil {
			return fmt.Errorf("%s: %w", t.URL, err)
		}
		if sig != nil {
			r.SignedBy, r.SigPath = signer, filepath.Join(filepath.Dir(dst), sigName(t))
			if err := atomicfile.WriteFile(r.SigPath, sig, 0o644); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return Fetched{}, err
	}
	return r, nil
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
