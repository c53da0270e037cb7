// Package sign Authenticode-signs Windows programs and libraries with
// osslsigncode. Signing is opt-in: it happens when a code-signing
// certificate is given through the environment, either as a PEM certificate
// plus key or as a PKCS#12 file plus its password. A set of files is signed
// all or nothing: every file is signed into a temporary file beside it, and
// only when every one succeeded are they renamed over the originals.
package sign

import (
	"context"
	"crypto"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"

	"software.sslmate.com/src/go-pkcs12"

	"qemupack/internal/config"
	"qemupack/internal/run"
)

// The settings that configure signing (read by internal/config), for messages.
const (
	EnvCert      = "QEMUPACK_SIGN_CERT"          // PEM certificate (chain) file
	EnvKey       = "QEMUPACK_SIGN_KEY"           // PEM private key file (may be encrypted)
	EnvPFX       = "QEMUPACK_SIGN_PFX"           // PKCS#12 file instead of CERT+KEY
	EnvPassword  = "QEMUPACK_SIGN_PASSWORD"      // password of the PFX or of the key
	EnvTimestamp = "QEMUPACK_SIGN_TIMESTAMP_URL" // RFC 3161 time-stamping server, optional
)

// Signer holds the key material and how to sign.
type Signer struct {
	Cert, Key    string // PEM files (when PFX is "")
	PFX          string // PKCS#12 file
	Password     string
	TimestampURL string // "" for no time stamp
	// Description and URL go into the signature (shown by Windows).
	Description string
	URL         string
	// Tool is the osslsigncode program ("osslsigncode" when empty).
	Tool string
}

// FromSettings returns the Signer the signing settings describe, nil when
// signing is not asked for, or an error naming the setting that is wrong.
func FromSettings(c config.Sign) (*Signer, error) {
	s := &Signer{Cert: c.Cert, Key: c.Key, PFX: c.PFX, Password: c.Password, TimestampURL: c.TimestampURL}
	switch {
	case s.Cert == "" && s.Key == "" && s.PFX == "":
		if s.Password != "" || s.TimestampURL != "" {
			return nil, fmt.Errorf("signing: %s or %s is set but no certificate is: set %s (PKCS#12) or %s and %s (PEM)",
				EnvPassword, EnvTimestamp, EnvPFX, EnvCert, EnvKey)
		}
		return nil, nil
	case s.PFX != "" && (s.Cert != "" || s.Key != ""):
		return nil, fmt.Errorf("signing: set either %s or %s+%s, not both", EnvPFX, EnvCert, EnvKey)
	case s.PFX == "" && (s.Cert == "" || s.Key == ""):
		return nil, fmt.Errorf("signing: %s and %s go together (got %s=%q, %s=%q)", EnvCert, EnvKey, EnvCert, s.Cert, EnvKey, s.Key)
	}
	if s.TimestampURL != "" && !strings.HasPrefix(s.TimestampURL, "http://") && !strings.HasPrefix(s.TimestampURL, "https://") {
		return nil, fmt.Errorf("signing: %s=%q is not an http(s) URL", EnvTimestamp, s.TimestampURL)
	}
	return s, nil
}

// Check opens the key material the way signing will, so a wrong password or
// a certificate that does not match its key is reported before any file is
// touched. Encrypted PEM keys are checked by osslsigncode itself when the
// first file is signed (signing is all or nothing, so that is safe too).
func (s *Signer) Check() error {
	if s.PFX != "" {
		data, err := os.ReadFile(s.PFX)
		if err != nil {
			return fmt.Errorf("signing: %s: %w", EnvPFX, err)
		}
		key, cert, _, err := pkcs12.DecodeChain(data, s.Password)
		if err != nil {
			if errors.Is(err, pkcs12.ErrIncorrectPassword) {
				if s.Password == "" {
					return fmt.Errorf("signing: %s %s needs a password: set %s", EnvPFX, s.PFX, EnvPassword)
				}
				return fmt.Errorf("signing: %s does not open %s %s (wrong password?)", EnvPassword, EnvPFX, s.PFX)
			}
			return fmt.Errorf("signing: %s %s is not a usable PKCS#12 file: %w", EnvPFX, s.PFX, err)
		}
		return matches(cert, key, s.PFX)
	}
	certPEM, err := os.ReadFile(s.Cert)
	if err != nil {
		return fmt.Errorf("signing: %s: %w", EnvCert, err)
	}
	blk, _ := pem.Decode(certPEM)
	if blk == nil || blk.Type != "CERTIFICATE" {
		return fmt.Errorf("signing: %s %s holds no PEM certificate", EnvCert, s.Cert)
	}
	cert, err := x509.ParseCertificate(blk.Bytes)
	if err != nil {
		return fmt.Errorf("signing: %s %s: %w", EnvCert, s.Cert, err)
	}
	keyPEM, err := os.ReadFile(s.Key)
	if err != nil {
		return fmt.Errorf("signing: %s: %w", EnvKey, err)
	}
	kb, _ := pem.Decode(keyPEM)
	if kb == nil {
		return fmt.Errorf("signing: %s %s holds no PEM key", EnvKey, s.Key)
	}
	if kb.Type == "ENCRYPTED PRIVATE KEY" || strings.Contains(string(keyPEM), "Proc-Type: 4,ENCRYPTED") {
		if s.Password == "" {
			return fmt.Errorf("signing: %s %s is encrypted: set %s", EnvKey, s.Key, EnvPassword)
		}
		return nil
	}
	var key any
	switch kb.Type {
	case "PRIVATE KEY":
		key, err = x509.ParsePKCS8PrivateKey(kb.Bytes)
	case "RSA PRIVATE KEY":
		key, err = x509.ParsePKCS1PrivateKey(kb.Bytes)
	case "EC PRIVATE KEY":
		key, err = x509.ParseECPrivateKey(kb.Bytes)
	default:
		err = fmt.Errorf("unknown PEM block %q", kb.Type)
	}
	if err != nil {
		return fmt.Errorf("signing: %s %s: %w", EnvKey, s.Key, err)
	}
	return matches(cert, key, s.Key)
}

func matches(cert *x509.Certificate, key any, where string) error {
	pub, ok := key.(interface{ Public() crypto.PublicKey })
	if !ok {
		return fmt.Errorf("signing: %s: unsupported key type %T", where, key)
	}
	eq, ok := pub.Public().(interface{ Equal(crypto.PublicKey) bool })
	if !ok || !eq.Equal(cert.PublicKey) {
		return fmt.Errorf("signing: the key in %s does not belong to the certificate (%s)", where, cert.Subject)
	}
	return nil
}

func (s *Signer) tool() (string, error) {
	t := s.Tool
	if t == "" {
		t = "osslsigncode"
	}
	p, err := exec.LookPath(t)
	if err != nil {
		return "", fmt.Errorf("signing: %s not found: install it (apt-get install osslsigncode; Fedora: dnf install osslsigncode)", t)
	}
	return p, nil
}

// tmpSuffix marks a signed copy that is not yet renamed over its original.
const tmpSuffix = ".qemupack-signing"

// Files signs every file in files, all or nothing: on any error every
// original is left as it was and no temporary file remains.
func (s *Signer) Files(ctx context.Context, files []string) error {
	if len(files) == 0 {
		return nil
	}
	base, cleanup, err := s.Command()
	if err != nil {
		return err
	}
	defer cleanup()
	var made []string
	defer func() {
		for _, m := range made {
			os.Remove(m)
		}
	}()
	for i, f := range files {
		out := f + tmpSuffix
		os.Remove(out)
		args := make([]string, len(base))
		for j, a := range base {
			switch a {
			case In:
				args[j] = f
			case Out:
				args[j] = out
			default:
				args[j] = a
			}
		}
		made = append(made, out)
		if err := run.Run(ctx, run.Cmd{Args: args, TailLines: 10}); err != nil {
			return fmt.Errorf("signing %s (file %d of %d; nothing was changed): %w", f, i+1, len(files), err)
		}
	}
	for i, f := range files {
		if err := os.Rename(made[i], f); err != nil {
			return fmt.Errorf("signing: replace %s with its signed copy: %w", f, err)
		}
	}
	made = nil
	return nil
}

// Placeholders in the argument list Command returns.
const (
	In  = "{in}"  // the file to sign
	Out = "{out}" // where its signed copy goes (must differ from In)
)

// Command checks the key material and returns the osslsigncode command
// line that signs In into Out, for tools that run the signing themselves
// (makensis signs the uninstaller it generates this way). cleanup removes
// the password file the command reads; call it when done.
func (s *Signer) Command() (args []string, cleanup func(), err error) {
	cleanup = func() {}
	if err := s.Check(); err != nil {
		return nil, cleanup, err
	}
	tool, err := s.tool()
	if err != nil {
		return nil, cleanup, err
	}
	args = []string{tool, "sign", "-h", "sha256"}
	if s.PFX != "" {
		args = append(args, "-pkcs12", s.PFX)
	} else {
		args = append(args, "-certs", s.Cert, "-key", s.Key)
	}
	if s.Password != "" {
		f, err := os.CreateTemp("", "qemupack-pass-")
		if err != nil {
			return nil, cleanup, fmt.Errorf("signing: %w", err)
		}
		pass := f.Name()
		cleanup = func() { os.Remove(pass) }
		_, werr := f.WriteString(s.Password)
		if cerr := f.Close(); werr == nil {
			werr = cerr
		}
		if werr != nil {
			cleanup()
			return nil, func() {}, fmt.Errorf("signing: %w", werr)
		}
		args = append(args, "-readpass", pass)
	}
	if s.Description != "" {
		args = append(args, "-n", s.Description)
	}
	if s.URL != "" {
		args = append(args, "-i", s.URL)
	}
	if s.TimestampURL != "" {
		args = append(args, "-ts", s.TimestampURL)
	}
	return append(args, "-in", In, "-out", Out), cleanup, nil
}

// Verify checks the Authenticode signature of file with osslsigncode,
// trusting the certificates in caFile ("" for the system's).
func Verify(ctx context.Context, file, caFile string) error {
	args := []string{"osslsigncode", "verify"}
	if caFile != "" {
		args = append(args, "-CAfile", caFile)
	}
	args = append(args, "-in", file)
	if err := run.Run(ctx, run.Cmd{Args: args, TailLines: 15}); err != nil {
		return fmt.Errorf("verify signature of %s: %w", file, err)
	}
	return nil
}

// Signable lists the .exe and .dll files under dir, sorted.
func Signable(dir string) ([]string, error) {
	var out []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type().IsRegular() {
			switch strings.ToLower(filepath.Ext(p)) {
			case ".exe", ".dll":
				out = append(out, p)
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("signing: list %s: %w", dir, err)
	}
	sort.Strings(out)
	return out, nil
}
