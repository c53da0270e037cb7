package catalog

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"qemupack/internal/qversion"
	"regexp"
	"strings"

	"github.com/hashicorp/go-version"

	"qemupack/internal/checksum"
)

// KeysFile pins the OpenPGP keys that sign QEMU's release tarballs,
// relative to the checkout. The public key files it names sit beside it.
const KeysFile = "recipes/qemu-signing-keys.json"

// SigningKey is one key QEMU signs release tarballs with, and where each
// fact about it was read.
type SigningKey struct {
	// Fingerprint is the primary key's v4 fingerprint, 40 hex digits.
	Fingerprint string `json:"fingerprint"`
	Owner       string `json:"owner"`
	// File is the armored public key, relative to the pin file's folder;
	// FileSHA256 pins its bytes.
	File       string `json:"file"`
	FileSHA256 string `json:"file_sha256"`
	// KeyFrom says where the public key material was copied from.
	KeyFrom string `json:"key_from"`
	// PinnedBy names the public packaging files that give this fingerprint.
	PinnedBy []string `json:"pinned_by"`
	// Releases is a version constraint: the releases this key signs.
	Releases string `json:"releases"`
	// Evidence says which releases it is known to have signed, and how.
	Evidence []string `json:"evidence"`

	path     string // File, resolved
	releases version.Constraints
}

// Path is the public key file on disk.
func (k SigningKey) Path() string { return k.path }

// Signs says whether this key signs release v.
func (k SigningKey) Signs(v string) bool {
	pv, err := qversion.Normalize(v)
	if err != nil || pv.Prerelease() != "" {
		return false
	}
	return k.releases.Check(pv)
}

// Keys are the pinned signing keys.
type Keys struct {
	File string // the pin file they were read from
	Keys []SigningKey
}

// For lists the keys that sign release v.
func (ks Keys) For(v string) []SigningKey {
	var out []SigningKey
	for _, k := range ks.Keys {
		if k.Signs(v) {
			out = append(out, k)
		}
	}
	return out
}

var reFingerprint = regexp.MustCompile(`^[0-9A-F]{40}$`)

// LoadKeys reads a pin file and checks every entry: a well-formed
// fingerprint, a key file that exists with the pinned sha256, a releases
// constraint, and the packaging files that pin it. Whether the key file
// holds that key is checked where the key is used (source.LoadKeyring).
func LoadKeys(path string) (Keys, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Keys{}, fmt.Errorf("signing keys: %w (it pins the keys QEMU's release tarballs are signed with)", err)
	}
	var doc struct {
		Keys []SigningKey `json:"keys"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		return Keys{}, fmt.Errorf("signing keys %s: not valid JSON: %w", path, err)
	}
	var problems []string
	seen := map[string]bool{}
	for i := range doc.Keys {
		k := &doc.Keys[i]
		bad := func(format string, args ...any) {
			problems = append(problems, fmt.Sprintf("key %d (%s): %s", i, k.Fingerprint, fmt.Sprintf(format, args...)))
		}
		k.Fingerprint = strings.ToUpper(strings.ReplaceAll(k.Fingerprint, " ", ""))
		if !reFingerprint.MatchString(k.Fingerprint) {
			bad("fingerprint is not 40 hex digits")
		}
		if seen[k.Fingerprint] {
			bad("pinned twice")
		}
		seen[k.Fingerprint] = true
		if len(k.PinnedBy) == 0 {
			bad("pinned_by is empty: name the public packaging file the fingerprint was read from")
		}
		if k.KeyFrom == "" {
			bad("key_from is empty: say where the public key file was copied from")
		}
		c, err := version.NewConstraint(k.Releases)
		if err != nil {
			bad("releases %q is not a version constraint: %v", k.Releases, err)
		}
		k.releases = c
		if k.File == "" || strings.ContainsAny(k.File, `/\`) {
			bad("file %q: want the name of a key file beside %s", k.File, filepath.Base(path))
			continue
		}
		k.path = filepath.Join(filepath.Dir(path), k.File)
		sum, err := checksum.File(k.path)
		switch {
		case err != nil:
			bad("%v", err)
		case !reSHA256.MatchString(k.FileSHA256):
			bad("file_sha256 %q is not 64 lowercase hex digits", k.FileSHA256)
		case sum != k.FileSHA256:
			bad("%s has sha256 %s, the pin says %s: the key file changed", k.File, sum, k.FileSHA256)
		}
	}
	if len(problems) > 0 {
		return Keys{}, fmt.Errorf("signing keys %s: %s", path, strings.Join(problems, "; "))
	}
	return Keys{File: path, Keys: doc.Keys}, nil
}

// LoadKeysFrom reads the pin file of the checkout at root.
func LoadKeysFrom(root string) (Keys, error) {
	return LoadKeys(filepath.Join(root, KeysFile))
}

// Upstream says where a release's upstream tarball comes from and what
// verifies it: a pinned sha256, a detached OpenPGP signature by a pinned
// key, or both (then both must pass).
type Upstream struct {
	URL       string `json:"url"`
	SHA256    string `json:"sha256,omitempty"`
	Signature string `json:"signature,omitempty"` // the .sig's URL
	// Keys are the fingerprints allowed to sign it; KeyFiles their public keys.
	Keys     []string `json:"keys,omitempty"`
	KeyFiles []string `json:"-"`
	// VerifiedBy is "sha256+signature", "sha256" or "signature".
	VerifiedBy string `json:"verified_by"`
}

// Signed says whether a pinned key signs the tarball.
func (u *Upstream) Signed() bool { return u != nil && len(u.Keys) > 0 }

// SignatureURL is where QEMU publishes a tarball's detached signature.
func SignatureURL(tarballURL string) string { return tarballURL + ".sig" }

// UpstreamOf says how release r's upstream tarball is verified, or nil
// when nothing would verify it (no pinned sha256 and no key signs it).
func UpstreamOf(r Release, keys Keys) *Upstream {
	u := &Upstream{URL: r.URL, SHA256: r.SHA256}
	if u.URL == "" {
		u.URL = TarballURL(r.Version)
	}
	for _, k := range keys.For(r.Version) {
		u.Keys = append(u.Keys, k.Fingerprint)
		u.KeyFiles = append(u.KeyFiles, k.Path())
	}
	switch {
	case u.SHA256 != "" && len(u.Keys) > 0:
		u.VerifiedBy = "sha256+signature"
	case u.SHA256 != "":
		u.VerifiedBy = "sha256"
	case len(u.Keys) > 0:
		u.VerifiedBy = "signature"
	default:
		return nil
	}
	if len(u.Keys) > 0 {
		u.Signature = SignatureURL(u.URL)
	}
	return u
}

// AttachUpstream sets each release's Upstream from its sum and the keys.
func AttachUpstream(rs []Release, keys Keys) {
	for i := range rs {
		rs[i].Upstream = UpstreamOf(rs[i], keys)
	}
}
