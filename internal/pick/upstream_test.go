package pick_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/armor"
	"github.com/ProtonMail/go-crypto/openpgp/packet"

	"qemupack/internal/catalog"
	"qemupack/internal/config"
	"qemupack/internal/host/hosttest"
	"qemupack/internal/pick"
	"qemupack/internal/source"
)

const qemuKey = "CEACC9E15534EBABB82D3FA03353C9CEF108B584"

// signedCatalog is the test catalog with a 9.2.4 that inherits 9.2.0's
// requirements and an 11.1.0 whose requirements are unknown, each
// release's upstream verification taken from the shipped signing keys.
func signedCatalog(t *testing.T) []catalog.Release {
	t.Helper()
	rs := testCatalog(t)
	inh := rs[0]
	if inh.Version != "9.2.0" {
		t.Fatalf("test catalog starts with %s", inh.Version)
	}
	inh.Version, inh.Inherits, inh.Source = "9.2.4", "9.2.0", "listed by qemu-web"
	rs = append([]catalog.Release{{Version: "11.1.0", Unknown: "no 11.1 tree has been read", Source: "qemu-web"}, inh}, rs...)
	keys, err := catalog.LoadKeysFrom(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	catalog.AttachUpstream(rs, keys)
	return rs
}

// Online, every release a pinned key signs is obtainable upstream; the
// pick is the newest buildable one, its requirements inherited, and the
// outputs say how its tarball is verified. A release of unknown
// requirements is never buildable.
func TestPickSignedUpstreamAndInheritance(t *testing.T) {
	h := hosttest.New(t)
	h.Toolchain("1.0.1", "3.11.2")
	h.Libs(allLibs)
	rs := signedCatalog(t)
	online := func(context.Context) error { return nil }
	res, err := run(t, h, pick.Options{Releases: rs, Recipes: map[string]string{}, Reachable: online})
	if err != nil {
		t.Fatal(err)
	}
	unknown := verdict(t, res, "11.1.0")
	if unknown.Buildable || !unknown.Obtainable || !hasReason(unknown, "its requirements are unknown: no 11.1 tree has been read") {
		t.Errorf("11.1.0: %+v", unknown)
	}
	if res.Picked.Version != "9.2.4" || res.Source != pick.SourceUpstream || res.VerifiedBy != "signature" || res.SHA256 != "" ||
		res.URL != "https://download.qemu.org/qemu-9.2.4.tar.xz" || res.Signature != "https://download.qemu.org/qemu-9.2.4.tar.xz.sig" ||
		strings.Join(res.SigningKeys, " ") != qemuKey {
		t.Errorf("picked %s from %s: %+v", res.Picked.Version, res.Source, res)
	}
	v := verdict(t, res, "9.2.4")
	if v.Inherits != "9.2.0" || v.Upstream == nil || v.Upstream.VerifiedBy != "signature" || !hasReason(v, "requirements taken from 9.2.0") {
		t.Errorf("9.2.4: %+v", v)
	}
	for _, ver := range []string{"8.0.0", "5.0.0"} {
		if v := verdict(t, res, ver); !v.Obtainable || v.Source != pick.SourceUpstream {
			t.Errorf("%s is signed by the pinned key, yet %+v", ver, v)
		}
	}
	if got := res.SourceText(); got != "https://download.qemu.org/qemu-9.2.4.tar.xz (OpenPGP signature https://download.qemu.org/qemu-9.2.4.tar.xz.sig by "+qemuKey+")" {
		t.Errorf("source text %q", got)
	}
	var table strings.Builder
	res.WriteTable(&table)
	for _, want := range []string{"9.2.4    yes        upstream (signature)  assumes recipes for libfdt; requirements inherited from 9.2.0", "11.1.0   no         upstream (signature)  its requirements are unknown",
		"requirements of 9.2.4: taken from 9.2.0 (its own files were not read)"} {
		if !strings.Contains(table.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, table.String())
		}
	}
	data, err := res.JSON()
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Picked      string   `json:"picked"`
		Inherits    string   `json:"inherits"`
		VerifiedBy  string   `json:"verified_by"`
		Signature   string   `json:"signature"`
		SigningKeys []string `json:"signing_keys"`
		Releases    []struct {
			Version  string            `json:"version"`
			Inherits string            `json:"inherits"`
			Upstream *catalog.Upstream `json:"upstream"`
		} `json:"releases"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Picked != "9.2.4" || doc.Inherits != "9.2.0" || doc.VerifiedBy != "signature" || doc.Signature == "" || len(doc.SigningKeys) != 1 ||
		doc.Releases[1].Inherits != "9.2.0" || doc.Releases[1].Upstream == nil || doc.Releases[1].Upstream.Keys[0] != qemuKey {
		t.Errorf("JSON: %s", data)
	}
	// With the sum pinned too, both verify it.
	rs[1].URL, rs[1].SHA256 = catalog.TarballURL("9.2.4"), strings.Repeat("ab", 32)
	rs[1].Upstream = catalog.UpstreamOf(rs[1], mustKeys(t))
	res, err = run(t, h, pick.Options{Releases: rs, Recipes: map[string]string{}, Reachable: online})
	if err != nil || res.VerifiedBy != "sha256+signature" || !strings.Contains(res.SourceText(), "sha256 "+strings.Repeat("ab", 32)+"; OpenPGP signature") {
		t.Errorf("sum and signature: %+v, %v", res, err)
	}
}

func mustKeys(t *testing.T) catalog.Keys {
	t.Helper()
	ks, err := catalog.LoadKeysFrom(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	return ks
}

// Offline, a mirror file of a release without a pinned sum is usable only
// with a good signature by a pinned key beside it.
func TestMirrorFilesVerifiedBySignature(t *testing.T) {
	h := hosttest.New(t)
	h.Toolchain("1.0.1", "3.11.2")
	h.Libs(allLibs)
	h.Env[config.EnvOffline] = "1"
	e, err := openpgp.NewEntity("release manager", "test", "rm@example.invalid", &packet.Config{Algorithm: packet.PubKeyAlgoEdDSA})
	if err != nil {
		t.Fatal(err)
	}
	var pub bytes.Buffer
	w, _ := armor.Encode(&pub, openpgp.PublicKeyType, nil)
	e.Serialize(w)
	w.Close()
	keyFile := filepath.Join(h.Root, "rm.asc")
	os.WriteFile(keyFile, pub.Bytes(), 0o644)
	fp := source.Fingerprint(e.PrimaryKey.Fingerprint)
	rs := testCatalog(t)
	for i := range rs {
		u := catalog.TarballURL(rs[i].Version)
		rs[i].Upstream = &catalog.Upstream{URL: u, Signature: u + ".sig", Keys: []string{fp}, KeyFiles: []string{keyFile}, VerifiedBy: "signature"}
	}
	dir := filepath.Join(h.Root, "mirror")
	os.MkdirAll(dir, 0o755)
	h.Env[config.EnvMirror] = dir
	put := func(v string, sigOver []byte) {
		data := []byte("stand-in tarball of qemu " + v)
		os.WriteFile(filepath.Join(dir, "qemu-"+v+".tar.xz"), data, 0o644)
		if sigOver == nil {
			return
		}
		if sigOver[0] == 0 {
			sigOver = data
		}
		var sig bytes.Buffer
		if err := openpgp.DetachSign(&sig, e, bytes.NewReader(sigOver), nil); err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(dir, "qemu-"+v+".tar.xz.sig"), sig.Bytes(), 0o644)
	}
	put("9.2.0", nil)                   // no signature, no sum
	put("8.0.0", []byte("other bytes")) // a signature that does not match
	put("7.2.0", []byte{0})             // signed
	res, err := run(t, h, pick.Options{Releases: rs, Recipes: map[string]string{}})
	if err != nil {
		t.Fatal(err)
	}
	wantReason(t, res, "9.2.0", "cannot be verified: the catalog pins no sha256 for it and no qemu-9.2.0.tar.xz.sig by a pinned key lies beside it")
	wantReason(t, res, "8.0.0", "does not match its signature by key "+fp)
	if res.Picked.Version != "7.2.0" || res.Source != pick.SourceMirror || res.VerifiedBy != "signature" ||
		!strings.Contains(res.SourceText(), "(verified by signature)") {
		t.Errorf("picked %s from %s (%s)", res.Picked.Version, res.Source, res.VerifiedBy)
	}
}
