package debian

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"
	"github.com/ulikunitz/xz"
)

// A small apt repository made in the test and signed with a throwaway key,
// for the real apt-get to read over the loopback.

type tarEntry struct {
	name, body, link string
	typ              byte
	mode             int64
}

func makeTarball(t *testing.T, ents []tarEntry) []byte {
	t.Helper()
	var b bytes.Buffer
	tw := tar.NewWriter(&b)
	for _, e := range ents {
		typ := e.typ
		if typ == 0 {
			typ = tar.TypeReg
		}
		mode := e.mode
		if mode == 0 {
			mode = 0o644
		}
		h := &tar.Header{Name: e.name, Typeflag: typ, Mode: mode, Linkname: e.link, ModTime: time.Unix(1700000000, 0)}
		if typ == tar.TypeReg {
			h.Size = int64(len(e.body))
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if typ == tar.TypeReg {
			tw.Write([]byte(e.body))
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func compress(t *testing.T, data []byte, kind string) []byte {
	t.Helper()
	var b bytes.Buffer
	switch kind {
	case "gz":
		w := gzip.NewWriter(&b)
		w.Write(data)
		w.Close()
	case "xz":
		w, err := xz.NewWriter(&b)
		if err != nil {
			t.Fatal(err)
		}
		w.Write(data)
		w.Close()
	case "zst":
		w, err := zstd.NewWriter(&b)
		if err != nil {
			t.Fatal(err)
		}
		w.Write(data)
		w.Close()
	case "":
		return data
	default:
		t.Fatalf("compression %s", kind)
	}
	return b.Bytes()
}

// makeDeb writes a Debian binary package: an ar archive of
// debian-binary, control.tar.gz and data.tar.<kind>.
func makeDeb(t *testing.T, pkg, version string, data []tarEntry, kind string) []byte {
	t.Helper()
	control := makeTarball(t, []tarEntry{{name: "./control", body: fmt.Sprintf("Package: %s\nVersion: %s\nArchitecture: all\nMaintainer: t <t@example.invalid>\nDescription: test\n", pkg, version)}})
	members := []struct {
		name string
		data []byte
	}{
		{"debian-binary", []byte("2.0\n")},
		{"control.tar.gz", compress(t, control, "gz")},
		{"data.tar" + ext(kind), compress(t, makeTarball(t, data), kind)},
	}
	var b bytes.Buffer
	b.WriteString("!<arch>\n")
	for _, m := range members {
		fmt.Fprintf(&b, "%-16s%-12d%-6d%-6d%-8s%-10d`\n", m.name+"/", 1700000000, 0, 0, "100644", len(m.data))
		b.Write(m.data)
		if len(m.data)%2 == 1 {
			b.WriteByte('\n')
		}
	}
	return b.Bytes()
}

func ext(kind string) string {
	if kind == "" {
		return ""
	}
	return "." + kind
}

func sums(data []byte) (sha, md string) {
	s := sha256.Sum256(data)
	m := md5.Sum(data)
	return hex.EncodeToString(s[:]), hex.EncodeToString(m[:])
}

// gpgKey makes a throwaway signing key in its own GNUPGHOME and returns
// that home and the exported public key file.
func gpgKey(t *testing.T, dir, name string) (home, keyring string) {
	t.Helper()
	if _, err := exec.LookPath("gpg"); err != nil {
		t.Skip("gpg not installed (apt-get install gnupg)")
	}
	home = filepath.Join(dir, "gnupg-"+name)
	if err := os.MkdirAll(home, 0o700); err != nil {
		t.Fatal(err)
	}
	gpg := func(args ...string) []byte {
		cmd := exec.Command("gpg", append([]string{"--batch", "--homedir", home}, args...)...)
		out, err := cmd.Output()
		if err != nil {
			stderr := ""
			if ee, ok := err.(*exec.ExitError); ok {
				stderr = string(ee.Stderr)
			}
			t.Fatalf("gpg %v: %v\n%s", args, err, stderr)
		}
		return out
	}
	gpg("--passphrase", "", "--quick-gen-key", name+" <"+name+"@example.invalid>", "ed25519", "sign", "never")
	keyring = filepath.Join(dir, name+".gpg")
	if err := os.WriteFile(keyring, gpg("--export"), 0o644); err != nil {
		t.Fatal(err)
	}
	return home, keyring
}

func clearsign(t *testing.T, home string, text []byte) []byte {
	t.Helper()
	cmd := exec.Command("gpg", "--batch", "--homedir", home, "--clearsign", "--digest-algo", "SHA512")
	cmd.Stdin = bytes.NewReader(text)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("gpg --clearsign: %v", err)
	}
	return out
}

// srcVersion is one version of a source package in the test archive.
type srcVersion struct {
	pkg, version string
	files        map[string][]byte // name → content served
	listed       map[string][]byte // name → content the index claims (default: served)
	missing      []string          // listed but not written (404)
}

type binVersion struct {
	pkg, version string
	deb          []byte
}

type testSuite struct {
	name    string
	sources []srcVersion
	bins    []binVersion
	signer  string // home of the signing key
}

// writeRepo lays out dists/<suite>/{InRelease,main/source/Sources,
// main/binary-amd64/Packages} and pool/ under root.
func writeRepo(t *testing.T, root string, suites []testSuite) {
	t.Helper()
	for _, s := range suites {
		var srcIdx, binIdx bytes.Buffer
		for _, v := range s.sources {
			dir := "pool/main/" + v.pkg[:1] + "/" + v.pkg
			if err := os.MkdirAll(filepath.Join(root, dir), 0o755); err != nil {
				t.Fatal(err)
			}
			names := []string{}
			for n := range v.files {
				names = append(names, n)
			}
			sort.Strings(names)
			var shaLines, md5Lines strings.Builder
			for _, n := range names {
				claim := v.files[n]
				if c, ok := v.listed[n]; ok {
					claim = c
				}
				sha, md := sums(claim)
				fmt.Fprintf(&shaLines, " %s %d %s\n", sha, len(claim), n)
				fmt.Fprintf(&md5Lines, " %s %d %s\n", md, len(claim), n)
				missing := false
				for _, m := range v.missing {
					missing = missing || m == n
				}
				if !missing {
					if err := os.WriteFile(filepath.Join(root, dir, n), v.files[n], 0o644); err != nil {
						t.Fatal(err)
					}
				}
			}
			fmt.Fprintf(&srcIdx, "Package: %s\nBinary: %s-data\nVersion: %s\nMaintainer: t <t@example.invalid>\nArchitecture: all\nFormat: 3.0 (quilt)\nDirectory: %s\nFiles:\n%sChecksums-Sha256:\n%s\n",
				v.pkg, v.pkg, v.version, dir, md5Lines.String(), shaLines.String())
		}
		for _, b := range s.bins {
			dir := "pool/main/" + b.pkg[:1] + "/" + b.pkg
			name := fmt.Sprintf("%s_%s_all.deb", b.pkg, b.version)
			if err := os.MkdirAll(filepath.Join(root, dir), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(root, dir, name), b.deb, 0o644); err != nil {
				t.Fatal(err)
			}
			sha, md := sums(b.deb)
			fmt.Fprintf(&binIdx, "Package: %s\nVersion: %s\nArchitecture: all\nMaintainer: t <t@example.invalid>\nFilename: %s/%s\nSize: %d\nMD5sum: %s\nSHA256: %s\nDescription: test\n\n",
				b.pkg, b.version, dir, name, len(b.deb), md, sha)
		}
		dists := filepath.Join(root, "dists", s.name)
		idx := map[string][]byte{"main/source/Sources": srcIdx.Bytes(), "main/binary-amd64/Packages": binIdx.Bytes()}
		var rel strings.Builder
		fmt.Fprintf(&rel, "Origin: qemupack-test\nLabel: qemupack-test\nSuite: %s\nCodename: %s\nDate: %s\nArchitectures: amd64\nComponents: main\nNo-Support-for-Architecture-all: Packages\nSHA256:\n",
			s.name, s.name, time.Now().Add(-time.Hour).UTC().Format(time.RFC1123))
		keys := []string{"main/binary-amd64/Packages", "main/source/Sources"}
		for _, k := range keys {
			p := filepath.Join(dists, filepath.FromSlash(k))
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, idx[k], 0o644); err != nil {
				t.Fatal(err)
			}
			sha, _ := sums(idx[k])
			fmt.Fprintf(&rel, " %s %d %s\n", sha, len(idx[k]), k)
		}
		if err := os.WriteFile(filepath.Join(dists, "InRelease"), clearsign(t, s.signer, []byte(rel.String())), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
