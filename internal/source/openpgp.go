package source

import (
	"bytes"
	"crypto"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/armor"
	pgperrors "github.com/ProtonMail/go-crypto/openpgp/errors"
	"github.com/ProtonMail/go-crypto/openpgp/packet"
)

// Signature says where a tarball's detached OpenPGP signature is found and
// which keys may have made it. A tarball with a Signature is extracted only
// after the signature checked out (and its sha256, when one is pinned too).
type Signature struct {
	// URL is where the signature is downloaded from ("" = it must lie
	// beside the tarball, in the mirror folder or the cache).
	URL string
	// File is its name beside the tarball (default: the tarball's name
	// plus ".sig", as download.qemu.org names them).
	File string
	// KeyFiles are public keys (armored or binary); Fingerprints the
	// primary keys among them allowed to sign. A key in the files that is
	// not pinned here is ignored.
	KeyFiles     []string
	Fingerprints []string
}

// ErrSignature is wrapped by every error of a signature check: a signature
// that is missing, malformed, made by a key not pinned, or does not match.
var ErrSignature = errors.New("OpenPGP signature check failed")

// maxSignature bounds a signature file (a QEMU .sig is 310 bytes).
const maxSignature = 64 << 10

// sigName is the signature's file name beside tarball t.
func sigName(t Tarball) string {
	if t.Signature != nil && t.Signature.File != "" {
		return t.Signature.File
	}
	return t.File + ".sig"
}

// Keyring holds exactly the pinned keys.
type Keyring struct {
	entities openpgp.EntityList
	pins     []string
}

// LoadKeyring reads public key files and keeps the keys whose primary
// fingerprint is pinned. A pin that no file holds is an error naming both.
func LoadKeyring(files, fingerprints []string) (*Keyring, error) {
	if len(fingerprints) == 0 {
		return nil, errors.New("OpenPGP keyring: no fingerprint pinned")
	}
	var all openpgp.EntityList
	var held []string
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("OpenPGP keyring: %w", err)
		}
		var es openpgp.EntityList
		if bytes.Contains(b, []byte("-----BEGIN PGP PUBLIC KEY BLOCK-----")) {
			es, err = openpgp.ReadArmoredKeyRing(bytes.NewReader(b))
		} else {
			es, err = openpgp.ReadKeyRing(bytes.NewReader(b))
		}
		if err != nil {
			return nil, fmt.Errorf("OpenPGP keyring: %s: not a public key file: %w", f, err)
		}
		for _, e := range es {
			held = append(held, Fingerprint(e.PrimaryKey.Fingerprint))
		}
		all = append(all, es...)
	}
	k := &Keyring{}
	for _, pin := range fingerprints {
		pin = normFingerprint(pin)
		found := false
		for _, e := range all {
			if Fingerprint(e.PrimaryKey.Fingerprint) == pin {
				k.entities = append(k.entities, e)
				found = true
				break
			}
		}
		if !found {
			return nil, fmt.Errorf("OpenPGP keyring: key %s is pinned, but %s hold only %s",
				pin, strings.Join(files, ", "), orNone(held))
		}
		k.pins = append(k.pins, pin)
	}
	return k, nil
}

// Fingerprints are the pinned keys.
func (k *Keyring) Fingerprints() []string { return append([]string(nil), k.pins...) }

// Fingerprint writes a key fingerprint as 40 upper-case hex digits.
func Fingerprint(b []byte) string { return strings.ToUpper(hex.EncodeToString(b)) }

func normFingerprint(s string) string { return strings.ToUpper(strings.ReplaceAll(s, " ", "")) }

func orNone(s []string) string {
	if len(s) == 0 {
		return "no key"
	}
	return strings.Join(s, ", ")
}

// acceptedHashes are the digests a signature may use: SHA-2 only (QEMU
// signs with SHA-512). SHA-1 and older are refused.
var acceptedHashes = []crypto.Hash{crypto.SHA256, crypto.SHA384, crypto.SHA512, crypto.SHA224}

// Verify checks that sig (a detached signature, armored or binary) was
// made over the file at path by one of the pinned keys, and returns that
// key's fingerprint. Every failure wraps ErrSignature and says why.
func (k *Keyring) Verify(path string, sig []byte) (string, error) {
	return k.verify(path, filepath.Base(path), sig)
}

// verify is Verify with the name messages give the file (a temporary
// file is named after what it will become).
func (k *Keyring) verify(path, name string, sig []byte) (string, error) {
	raw := sig
	if bytes.HasPrefix(bytes.TrimSpace(sig), []byte("-----BEGIN PGP SIGNATURE-----")) {
		block, err := armor.Decode(bytes.NewReader(sig))
		if err != nil {
			return "", fmt.Errorf("%w: the signature of %s is not readable armor: %v", ErrSignature, name, err)
		}
		if raw, err = io.ReadAll(io.LimitReader(block.Body, maxSignature)); err != nil {
			return "", fmt.Errorf("%w: the signature of %s: %v", ErrSignature, name, err)
		}
	}
	p, err := packet.Read(bytes.NewReader(raw))
	if err != nil {
		return "", fmt.Errorf("%w: the signature of %s is not an OpenPGP signature: %v", ErrSignature, name, err)
	}
	s, ok := p.(*packet.Signature)
	if !ok {
		return "", fmt.Errorf("%w: the signature of %s holds a %T, not a signature", ErrSignature, name, p)
	}
	issuer := issuerOf(s)
	sha2 := false
	for _, h := range acceptedHashes {
		sha2 = sha2 || s.Hash == h
	}
	if !sha2 {
		return "", fmt.Errorf("%w: the signature of %s (by %s) uses %s; only SHA-2 signatures are accepted", ErrSignature, name, issuer, s.Hash)
	}
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	signer, err := openpgp.CheckDetachedSignatureAndHash(k.entities, f, bytes.NewReader(raw), acceptedHashes, nil)
	switch {
	case errors.Is(err, pgperrors.ErrUnknownIssuer):
		return "", fmt.Errorf("%w: %s is signed by %s, which is not pinned for it (pinned: %s)", ErrSignature, name, issuer, strings.Join(k.pins, ", "))
	case errors.Is(err, pgperrors.ErrKeyExpired), errors.Is(err, pgperrors.ErrKeyRevoked), errors.Is(err, pgperrors.ErrSignatureExpired):
		return "", fmt.Errorf("%w: %s: the signature by %s is not valid now: %v", ErrSignature, name, issuer, err)
	case err != nil:
		return "", fmt.Errorf("%w: %s does not match its signature by %s (the file was altered, or the signature belongs to another file): %v", ErrSignature, name, issuer, err)
	}
	return Fingerprint(signer.PrimaryKey.Fingerprint), nil
}

// issuerOf names the key a signature says made it.
func issuerOf(s *packet.Signature) string {
	switch {
	case len(s.IssuerFingerprint) > 0:
		return "key " + Fingerprint(s.IssuerFingerprint)
	case s.IssuerKeyId != nil:
		return fmt.Sprintf("the key with ID %016X", *s.IssuerKeyId)
	}
	return "a key it does not name"
}
