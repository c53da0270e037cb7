package qemusrc

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/armor"
	"github.com/ProtonMail/go-crypto/openpgp/packet"
	"github.com/ulikunitz/xz"

	"qemupack/internal/catalog"
	"qemupack/internal/source"
)

// excerpt1010 is the real 10.1.0 build-file excerpt1010 the catalog tests read.
var excerpt1010 = filepath.Join("..", "..", "testdata", "catalog", "qemu-10.1.0")

// releaseTarball packs the excerpt1010 as qemu-<version>/ with VERSION set
// to version, xz-compressed like QEMU's tarballs.
func releaseTarball(t *testing.T, version string) []byte {
	t.Helper()
	var raw bytes.Buffer
	tw := tar.NewWriter(&raw)
	err := filepath.WalkDir(excerpt1010, func(p string, d fs.DirEntry, err error) error {
		if err != nil || p == excerpt1010 {
			return err
		}
		rel, _ := filepath.Rel(excerpt1010, p)
		name := "qemu-" + version + "/" + filepath.ToSlash(rel)
		if d.IsDir() {
			return tw.WriteHeader(&tar.Header{Name: name + "/", Typeflag: tar.TypeDir, Mode: 0o755})
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if rel == "VERSION" {
			b = []byte(version + "\n")
		}
		if err := tw.WriteHeader(&tar.Header{Name: name, Typeflag: tar.TypeReg, Mode: 0o755, Size: int64(len(b))}); err != nil {
			return err
		}
		_, err = tw.Write(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	tw.Close()
	var out bytes.Buffer
	w, _ := xz.NewWriter(&out)
	w.Write(raw.Bytes())
	w.Close()
	return out.Bytes()
}

type signer struct {
	e           *openpgp.Entity
	fingerprint string
	file        string
}

func newSigner(t *testing.T, name string) signer {
	t.Helper()
	e, err := openpgp.NewEntity(name, "test", name+"@example.invalid", &packet.Config{Algorithm: packet.PubKeyAlgoEdDSA})
	if err != nil {
		t.Fatal(err)
	}
	var pub bytes.Buffer
	w, _ := armor.Encode(&pub, openpgp.PublicKeyType, nil)
	e.Serialize(w)
	w.Close()
	file := filepath.Join(t.TempDir(), name+".asc")
	os.WriteFile(file, pub.Bytes(), 0o644)
	return signer{e, source.Fingerprint(e.PrimaryKey.Fingerprint), file}
}

func (s signer) sign(t *testing.T, data []byte) []byte {
	var sig bytes.Buffer
	if err := openpgp.DetachSign(&sig, s.e, bytes.NewReader(data), nil); err != nil {
		t.Fatal(err)
	}
	return sig.Bytes()
}

// signedRelease is 10.1.3 as the catalog gives it: requirements inherited
// from 10.1.0, no pinned sum, its tarball signed by the pinned key, here
// served from base.
func signedRelease(t *testing.T, base string, key signer) catalog.Release {
	t.Helper()
	tr, err := catalog.ReadTree(context.Background(), excerpt1010)
	if err != nil {
		t.Fatal(err)
	}
	r, err := catalog.Parse(tr)
	if err != nil {
		t.Fatal(err)
	}
	r.Version, r.Inherits, r.Source = "10.1.3", "10.1.0", "listed by qemu-web"
	url := base + "/qemu-10.1.3.tar.xz"
	r.Upstream = &catalog.Upstream{URL: url, Signature: url + ".sig", Keys: []string{key.fingerprint}, KeyFiles: []string{key.file}, VerifiedBy: "signature"}
	return r
}

func serve(t *testing.T, tarball, sig []byte) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/qemu-10.1.3.tar.xz":
			w.Write(tarball)
		case r.URL.Path == "/qemu-10.1.3.tar.xz.sig" && sig != nil:
			w.Write(sig)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

// cachedFiles lists the regular files the cache holds, but for the step
// cache's lock files.
func cachedFiles(cache string) []string {
	var out []string
	filepath.WalkDir(cache, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.IsDir() && d.Name() == ".locks" {
			return filepath.SkipDir
		}
		if err == nil && d.Type().IsRegular() {
			rel, _ := filepath.Rel(cache, p)
			out = append(out, filepath.ToSlash(rel))
		}
		return nil
	})
	return out
}

func TestSignedUpstreamTarballIsVerifiedThenCheckedAgainstTheCatalog(t *testing.T) {
	key := newSigner(t, "release-manager")
	data := releaseTarball(t, "10.1.3")
	srv := serve(t, data, key.sign(t, data))
	cache := t.TempDir()
	var said []string
	tr, err := Prepare(context.Background(), Request{Release: signedRelease(t, srv.URL, key), CacheDir: cache, NoDebian: true,
		Progress: func(s string) { said = append(said, s) }})
	if err != nil {
		t.Fatal(err)
	}
	if tr.Version != "10.1.3" || tr.Flavor != FlavorUpstream || !strings.Contains(tr.Origin, "OpenPGP signature by "+key.fingerprint+" checked") {
		t.Errorf("tree %+v", tr)
	}
	log := strings.Join(said, "\n")
	for _, want := range []string{"verified: OpenPGP signature by " + key.fingerprint, "its tree requires what the catalog took from 10.1.0"} {
		if !strings.Contains(log, want) {
			t.Errorf("progress lacks %q:\n%s", want, log)
		}
	}
	// Offline, the cached tarball and tree are reused.
	srv.Close()
	tr2, err := Prepare(context.Background(), Request{Release: signedRelease(t, srv.URL, key), CacheDir: cache, NoDebian: true, Offline: true})
	if err != nil || tr2.Dir != tr.Dir {
		t.Fatalf("second run: %+v, %v", tr2, err)
	}
}

func TestRefusedSignaturesExtractNothing(t *testing.T) {
	key, other := newSigner(t, "release-manager"), newSigner(t, "someone-else")
	data := releaseTarball(t, "10.1.3")
	tampered := append([]byte(nil), data...)
	tampered[len(tampered)/2] ^= 0x01
	for _, c := range []struct {
		name        string
		served, sig []byte
		want        string
	}{
		{"bad signature", data, key.sign(t, []byte("something else")), "does not match its signature"},
		{"missing signature", data, nil, "no signature"},
		{"key not pinned", data, other.sign(t, data), "signed by key " + other.fingerprint + ", which is not pinned"},
		{"tampered tarball", tampered, key.sign(t, data), "does not match its signature"},
	} {
		t.Run(c.name, func(t *testing.T) {
			srv := serve(t, c.served, c.sig)
			cache := t.TempDir()
			_, err := Prepare(context.Background(), Request{Release: signedRelease(t, srv.URL, key), CacheDir: cache, NoDebian: true})
			if !errors.Is(err, source.ErrSignature) || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want a signature failure saying %q", err, c.want)
			}
			if got := cachedFiles(cache); len(got) != 0 {
				t.Errorf("a refused tarball left %q", got)
			}
			if got := sourceTrees(t, cache); len(got) != 0 {
				t.Errorf("something was extracted: %v", got)
			}
		})
	}
}

func TestTreeThatDisagreesWithItsInheritedEntryIsRefused(t *testing.T) {
	key := newSigner(t, "release-manager")
	data := releaseTarball(t, "10.1.3")
	srv := serve(t, data, key.sign(t, data))
	rel := signedRelease(t, srv.URL, key)
	rel.PythonMin = "3.8" // what 10.1.0's series is said to need; the tree says 3.9
	_, err := Prepare(context.Background(), Request{Release: rel, CacheDir: t.TempDir(), NoDebian: true})
	var tm *catalog.TreeMismatch
	if !errors.As(err, &tm) || !strings.Contains(err.Error(), "python_min: the tree says 3.9, the catalog 3.8") ||
		!strings.Contains(err.Error(), "from 10.1.0") {
		t.Fatalf("got %v", err)
	}
}

func TestSignedTarballOfAnotherReleaseIsRefused(t *testing.T) {
	key := newSigner(t, "release-manager")
	// A genuine, validly signed 10.1.0 served as qemu-10.1.3.tar.xz.
	data := releaseTarball(t, "10.1.0")
	srv := serve(t, data, key.sign(t, data))
	cache := t.TempDir()
	_, err := Prepare(context.Background(), Request{Release: signedRelease(t, srv.URL, key), CacheDir: cache, NoDebian: true})
	var wr *WrongRelease
	if !errors.As(err, &wr) || !strings.Contains(err.Error(), "its VERSION says 10.1.0") {
		t.Fatalf("got %v", err)
	}
	if got := cachedFiles(cache); len(got) != 0 {
		t.Errorf("the wrong release stayed in the cache: %q", got)
	}
}
