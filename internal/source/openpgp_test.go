package source

import (
	"bytes"
	"context"
	"crypto"
	"errors"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/armor"
	"github.com/ProtonMail/go-crypto/openpgp/packet"
)

// testKey is a throwaway signing key made for one test.
type testKey struct {
	entity      *openpgp.Entity
	fingerprint string
	file        string // its public key, armored
}

func newKey(t *testing.T, dir, name string) testKey {
	t.Helper()
	e, err := openpgp.NewEntity(name, "qemupack test key", name+"@example.invalid", &packet.Config{Algorithm: packet.PubKeyAlgoEdDSA})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	w, err := armor.Encode(&buf, openpgp.PublicKeyType, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Serialize(w); err != nil {
		t.Fatal(err)
	}
	w.Close()
	file := filepath.Join(dir, name+".asc")
	if err := os.WriteFile(file, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return testKey{entity: e, fingerprint: Fingerprint(e.PrimaryKey.Fingerprint), file: file}
}

// sign makes a binary detached signature over data, as QEMU publishes them.
func (k testKey) sign(t *testing.T, data []byte, h crypto.Hash) []byte {
	t.Helper()
	var sig bytes.Buffer
	if err := openpgp.DetachSign(&sig, k.entity, bytes.NewReader(data), &packet.Config{DefaultHash: h}); err != nil {
		t.Fatal(err)
	}
	return sig.Bytes()
}

// withHash rewrites the hash algorithm a binary v4 signature declares
// (go-crypto will not make SHA-1 signatures; this one says it is one).
func withHash(sig []byte, id byte) []byte {
	out := append([]byte(nil), sig...)
	hdr := 2 // new-format packet tag, one length octet
	if out[1] >= 192 && out[1] < 224 {
		hdr = 3
	}
	out[hdr+3] = id // version, type, key algorithm, then the hash algorithm
	return out
}

func (k testKey) signature(url string) *Signature {
	return &Signature{URL: url, KeyFiles: []string{k.file}, Fingerprints: []string{k.fingerprint}}
}

// release is a small real tarball and its bytes.
func release(t *testing.T, dir string) (string, []byte) {
	t.Helper()
	p, _ := makeTar(t, dir, "qemu-9.9.1.tar.xz", []entry{
		{name: "qemu-9.9.1/VERSION", body: "9.9.1\n"},
		{name: "qemu-9.9.1/configure", body: "#!/bin/sh\n"},
	})
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return p, b
}

// upstreamServer serves a tarball and, when sig is not nil, its signature,
// counting the tarball requests.
func upstreamServer(t *testing.T, tarball, sig []byte) (*httptest.Server, *atomic.Int32) {
	var gets atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/qemu-9.9.1.tar.xz":
			gets.Add(1)
			w.Write(tarball)
		case "/qemu-9.9.1.tar.xz.sig":
			if sig == nil {
				http.NotFound(w, r)
				return
			}
			w.Write(sig)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	return srv, &gets
}

// cacheFiles lists the regular files under a cache folder.
func cacheFiles(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			rel, _ := filepath.Rel(dir, p)
			out = append(out, rel)
		}
		return nil
	})
	return out
}

func TestSignedDownloadIsVerifiedAndCachedWithItsSignature(t *testing.T) {
	work, cache := t.TempDir(), t.TempDir()
	k := newKey(t, work, "release-manager")
	_, data := release(t, work)
	srv, gets := upstreamServer(t, data, k.sign(t, data, crypto.SHA512))
	f := Fetcher{CacheDir: cache}
	tb := Tarball{Name: "qemu 9.9.1", File: "qemu-9.9.1.tar.xz", URL: srv.URL + "/qemu-9.9.1.tar.xz",
		Signature: k.signature(srv.URL + "/qemu-9.9.1.tar.xz.sig")}
	r, err := f.Get(context.Background(), tb)
	if err != nil {
		t.Fatal(err)
	}
	if r.SignedBy != k.fingerprint || r.SHA256 != "" || r.Path != filepath.Join(cache, "signed", "qemu-9.9.1.tar.xz") {
		t.Errorf("fetched %+v", r)
	}
	if got := cacheFiles(t, cache); strings.Join(got, " ") != "signed/qemu-9.9.1.tar.xz signed/qemu-9.9.1.tar.xz.sig" {
		t.Errorf("cache holds %q", got)
	}
	// Offline, the cached copy is verified again from its kept signature.
	srv.Close()
	f.Offline = true
	r2, err := f.Get(context.Background(), tb)
	if err != nil || r2.Path != r.Path || r2.SignedBy != k.fingerprint || gets.Load() != 1 {
		t.Fatalf("cache hit: %+v, %v (%d downloads)", r2, err, gets.Load())
	}
	if !strings.Contains(r2.How(), "OpenPGP signature by "+k.fingerprint) {
		t.Errorf("How() = %q", r2.How())
	}
	// A cached file altered after the fact is refused and dropped.
	os.WriteFile(r.Path, append(data, 0), 0o644)
	if _, err := f.Get(context.Background(), tb); !errors.Is(err, ErrSignature) {
		t.Fatalf("altered cache copy: %v", err)
	}
	if got := cacheFiles(t, cache); len(got) != 0 {
		t.Errorf("the refused copy stayed in the cache: %q", got)
	}
}

func TestRefusedDownloadsLeaveNothing(t *testing.T) {
	work := t.TempDir()
	k := newKey(t, work, "release-manager")
	other := newKey(t, work, "someone-else")
	_, data := release(t, work)
	tampered := append(append([]byte(nil), data[:len(data)/2]...), data[len(data)/2:]...)
	tampered[len(tampered)/2] ^= 0x20
	cases := []struct {
		name    string
		serve   []byte // the tarball the server gives
		sig     []byte // its signature (nil: 404)
		want    string
		fetched int32 // tarball downloads expected
	}{
		{"bad signature", data, k.sign(t, []byte("another file"), crypto.SHA512), "does not match its signature by key " + k.fingerprint, 1},
		{"missing signature", data, nil, "no signature", 0},
		{"key not pinned", data, other.sign(t, data, crypto.SHA512), "is signed by key " + other.fingerprint + ", which is not pinned", 1},
		{"tampered tarball", tampered, k.sign(t, data, crypto.SHA512), "does not match its signature", 1},
		{"not a signature", data, []byte("<html>404 page</html>"), "not an OpenPGP signature", 1},
		{"SHA-1 signature", data, withHash(k.sign(t, data, crypto.SHA512), 2), "uses SHA-1; only SHA-2 signatures are accepted", 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cache := t.TempDir()
			srv, gets := upstreamServer(t, c.serve, c.sig)
			f := Fetcher{CacheDir: cache}
			_, err := f.Get(context.Background(), Tarball{Name: "qemu 9.9.1", File: "qemu-9.9.1.tar.xz",
				URL: srv.URL + "/qemu-9.9.1.tar.xz", Signature: k.signature(srv.URL + "/qemu-9.9.1.tar.xz.sig")})
			if !errors.Is(err, ErrSignature) || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want ErrSignature saying %q", err, c.want)
			}
			if got := cacheFiles(t, cache); len(got) != 0 {
				t.Errorf("the cache holds %q after a refusal", got)
			}
			if gets.Load() != c.fetched {
				t.Errorf("tarball downloaded %d times, want %d", gets.Load(), c.fetched)
			}
		})
	}
}

func TestPinnedSumAndSignatureMustBothPass(t *testing.T) {
	work := t.TempDir()
	k := newKey(t, work, "release-manager")
	p, data := release(t, work)
	sum, _ := SHA256File(p)
	good, bad := k.sign(t, data, crypto.SHA256), k.sign(t, []byte("x"), crypto.SHA256)
	for _, c := range []struct {
		name, sha string
		sig       []byte
		want      error
	}{
		{"both good", sum, good, nil},
		{"good sum, bad signature", sum, bad, ErrSignature},
		{"bad sum, good signature", strings.Repeat("0", 64), good, ErrChecksum},
	} {
		t.Run(c.name, func(t *testing.T) {
			cache := t.TempDir()
			srv, _ := upstreamServer(t, data, c.sig)
			f := Fetcher{CacheDir: cache}
			r, err := f.Get(context.Background(), Tarball{Name: "qemu 9.9.1", File: "qemu-9.9.1.tar.xz", SHA256: c.sha,
				URL: srv.URL + "/qemu-9.9.1.tar.xz", Signature: k.signature(srv.URL + "/qemu-9.9.1.tar.xz.sig")})
			if c.want != nil {
				if !errors.Is(err, c.want) {
					t.Fatalf("error %v, want %v", err, c.want)
				}
				if got := cacheFiles(t, cache); len(got) != 0 {
					t.Errorf("cache holds %q", got)
				}
				return
			}
			if err != nil || r.SHA256 != sum || r.SignedBy != k.fingerprint || !strings.Contains(r.How(), "sha256 "+sum+" and OpenPGP signature") {
				t.Fatalf("%+v, %v", r, err)
			}
		})
	}
	// A pinned sum still verifies a tarball whose signature is not to be had.
	srv, _ := upstreamServer(t, data, nil)
	var said []string
	f := Fetcher{CacheDir: t.TempDir(), Progress: func(s string) { said = append(said, s) }}
	r, err := f.Get(context.Background(), Tarball{Name: "qemu 9.9.1", File: "qemu-9.9.1.tar.xz", SHA256: sum,
		URL: srv.URL + "/qemu-9.9.1.tar.xz", Signature: k.signature(srv.URL + "/qemu-9.9.1.tar.xz.sig")})
	if err != nil || r.SignedBy != "" || !strings.Contains(strings.Join(said, "\n"), "the pinned sha256 verifies it") {
		t.Fatalf("%+v, %v, %q", r, err, said)
	}
}

func TestSignedTarballFromTheMirror(t *testing.T) {
	mirror, cache := t.TempDir(), t.TempDir()
	k := newKey(t, t.TempDir(), "release-manager")
	_, data := release(t, mirror)
	tb := Tarball{Name: "qemu 9.9.1", File: "qemu-9.9.1.tar.xz", Signature: k.signature("")}
	f := Fetcher{CacheDir: cache, Mirror: mirror, Offline: true}
	// No signature beside it, no sum pinned: refused.
	_, err := f.Get(context.Background(), tb)
	if !errors.Is(err, ErrSignature) || !strings.Contains(err.Error(), "no qemu-9.9.1.tar.xz.sig beside it") ||
		!strings.Contains(err.Error(), "put qemu-9.9.1.tar.xz and qemu-9.9.1.tar.xz.sig into a folder") {
		t.Fatalf("unsigned mirror file: %v", err)
	}
	if got := cacheFiles(t, cache); len(got) != 0 {
		t.Errorf("cache holds %q", got)
	}
	// With its signature beside it (armored, as some mirrors keep them).
	var arm bytes.Buffer
	if err := openpgp.ArmoredDetachSign(&arm, k.entity, bytes.NewReader(data), nil); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(mirror, "qemu-9.9.1.tar.xz.sig"), arm.Bytes(), 0o644)
	r, err := f.Get(context.Background(), tb)
	if err != nil || r.SignedBy != k.fingerprint || r.Path != filepath.Join(cache, "signed", "qemu-9.9.1.tar.xz") {
		t.Fatalf("%+v, %v", r, err)
	}
	if got := cacheFiles(t, cache); len(got) != 2 {
		t.Errorf("cache holds %q, want the tarball and its signature", got)
	}
}

func TestKeyringPinsAndTheRealQEMUSignature(t *testing.T) {
	dir := t.TempDir()
	k := newKey(t, dir, "release-manager")
	if _, err := LoadKeyring([]string{k.file}, []string{"CEACC9E15534EBABB82D3FA03353C9CEF108B584"}); err == nil ||
		!strings.Contains(err.Error(), "key CEACC9E15534EBABB82D3FA03353C9CEF108B584 is pinned") || !strings.Contains(err.Error(), k.fingerprint) {
		t.Errorf("a pin the file does not hold: %v", err)
	}
	if _, err := LoadKeyring([]string{filepath.Join(dir, "absent.asc")}, []string{k.fingerprint}); err == nil {
		t.Error("a missing key file was accepted")
	}
	// QEMU's pinned key, as recipes/ ships it, and the real signature of
	// qemu-10.2.3.tar.xz: our keyring finds its issuer and runs the RSA
	// check, which fails on data that is not that tarball.
	qemu, err := LoadKeyring([]string{filepath.Join("..", "..", "recipes", "qemu-signing-key-mdroth.asc")}, []string{"CEAC C9E1 5534 EBAB B82D  3FA0 3353 C9CE F108 B584"})
	if err != nil {
		t.Fatal(err)
	}
	sig, err := os.ReadFile(filepath.Join("..", "..", "testdata", "source", "qemu-10.2.3.tar.xz.sig"))
	if err != nil {
		t.Fatal(err)
	}
	notIt := filepath.Join(dir, "qemu-10.2.3.tar.xz")
	os.WriteFile(notIt, []byte("not the release tarball\n"), 0o644)
	_, err = qemu.Verify(notIt, sig)
	if !errors.Is(err, ErrSignature) || !strings.Contains(err.Error(), "does not match its signature by key CEACC9E15534EBABB82D3FA03353C9CEF108B584") {
		t.Errorf("real signature over other data: %v", err)
	}
	// The same signature against a keyring without QEMU's key names it.
	own, _ := LoadKeyring([]string{k.file}, []string{k.fingerprint})
	if _, err := own.Verify(notIt, sig); !errors.Is(err, ErrSignature) ||
		!strings.Contains(err.Error(), "signed by key CEACC9E15534EBABB82D3FA03353C9CEF108B584, which is not pinned") {
		t.Errorf("unpinned issuer: %v", err)
	}
}
