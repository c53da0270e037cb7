package sign

import (
	"bytes"
	"context"
	"debug/pe"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"qemupack/internal/config"
	"qemupack/internal/testbin"
)

// env reads the signing settings the way the user gives them.
func env(m map[string]string) config.Sign {
	c, err := config.FromEnv(os.TempDir(), func(k string) string { return m[k] })
	if err != nil {
		panic(err)
	}
	return c.Sign
}

func TestFromSettings(t *testing.T) {
	s, err := FromSettings(env(nil))
	if s != nil || err != nil {
		t.Fatalf("no variables: want signing off, got %v, %v", s, err)
	}
	for _, bad := range []map[string]string{
		{EnvCert: "c.pem"},                          // key missing
		{EnvKey: "k.pem"},                           // cert missing
		{EnvPFX: "a.pfx", EnvCert: "c.pem"},         // both kinds
		{EnvPassword: "secret"},                     // password alone
		{EnvPFX: "a.pfx", EnvTimestamp: "ftp://x/"}, // not http
	} {
		if s, err := FromSettings(env(bad)); err == nil {
			t.Errorf("%v: accepted (%+v)", bad, s)
		}
	}
	s, err = FromSettings(env(map[string]string{EnvPFX: "a.pfx", EnvPassword: "pw", EnvTimestamp: "http://ts.example/"}))
	if err != nil || s.PFX != "a.pfx" || s.Password != "pw" || s.TimestampURL != "http://ts.example/" {
		t.Fatalf("got %+v, %v", s, err)
	}
}

func requireTool(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("osslsigncode"); err != nil {
		t.Fatal("osslsigncode not found: apt-get install osslsigncode")
	}
}

func signed(t *testing.T, path string) bool {
	t.Helper()
	f, err := pe.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	oh := f.OptionalHeader.(*pe.OptionalHeader64)
	return oh.DataDirectory[pe.IMAGE_DIRECTORY_ENTRY_SECURITY].Size > 0
}

func TestSignAndVerifyBothKeyForms(t *testing.T) {
	requireTool(t)
	dir := t.TempDir()
	cert := testbin.CodeSigningCert(t, dir, "correct horse")
	ctx := context.Background()
	for name, s := range map[string]*Signer{
		"pfx": {PFX: cert.PFX, Password: cert.Password, Description: "hello", URL: "https://example.invalid/"},
		"pem": {Cert: cert.CertPEM, Key: cert.KeyPEM},
	} {
		t.Run(name, func(t *testing.T) {
			prog := testbin.Build(t, filepath.Join(dir, name))
			files, err := Signable(prog.Dir)
			if err != nil || len(files) != 2 {
				t.Fatalf("signable files: %v, %v", files, err)
			}
			if err := s.Files(ctx, files); err != nil {
				t.Fatal(err)
			}
			for _, f := range files {
				if !signed(t, f) {
					t.Errorf("%s has no signature after signing", f)
				}
				if err := Verify(ctx, f, cert.CertPEM); err != nil {
					t.Error(err)
				}
			}
			if left, _ := filepath.Glob(filepath.Join(prog.Dir, "*"+tmpSuffix)); len(left) > 0 {
				t.Errorf("temporary files left: %v", left)
			}
			// The signature must not change what the program does.
			wenv, _ := testbin.Wine(t, dir)
			cmd := exec.Command("wine", prog.Exe)
			cmd.Env = wenv
			out, err := cmd.Output()
			if err != nil || !strings.Contains(string(out), testbin.Greeting) {
				t.Errorf("signed hello.exe under wine: %q, %v", out, err)
			}
		})
	}
	// An unsigned file fails verification: Verify can fail.
	plain := testbin.Build(t, filepath.Join(dir, "plain"))
	if err := Verify(ctx, plain.Exe, cert.CertPEM); err == nil {
		t.Error("an unsigned exe passed verification")
	}
}

func TestWrongOrMissingPasswordChangesNothing(t *testing.T) {
	requireTool(t)
	dir := t.TempDir()
	cert := testbin.CodeSigningCert(t, dir, "right")
	prog := testbin.Build(t, filepath.Join(dir, "p"))
	before, _ := os.ReadFile(prog.Exe)
	for pw, want := range map[string]string{"wrong": "wrong password", "": "needs a password"} {
		s := &Signer{PFX: cert.PFX, Password: pw}
		err := s.Files(context.Background(), []string{prog.Exe, prog.DLL})
		if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), EnvPassword) {
			t.Errorf("password %q: want an error saying %q and naming %s, got %v", pw, want, EnvPassword, err)
		}
	}
	after, _ := os.ReadFile(prog.Exe)
	if !bytes.Equal(before, after) {
		t.Error("hello.exe changed although signing failed")
	}
	// A key that is not the certificate's.
	other := testbin.CodeSigningCert(t, t.TempDir(), "x")
	s := &Signer{Cert: cert.CertPEM, Key: other.KeyPEM}
	if err := s.Files(context.Background(), []string{prog.Exe}); err == nil || !strings.Contains(err.Error(), "does not belong") {
		t.Errorf("mismatched key: got %v", err)
	}
}

// TestAllOrNothing: when the second file cannot be signed, the first one,
// which osslsigncode did sign, is left unsigned too.
func TestAllOrNothing(t *testing.T) {
	requireTool(t)
	dir := t.TempDir()
	cert := testbin.CodeSigningCert(t, dir, "pw")
	prog := testbin.Build(t, filepath.Join(dir, "p"))
	bogus := filepath.Join(prog.Dir, "bogus.dll")
	if err := os.WriteFile(bogus, []byte("not a PE file"), 0o644); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(prog.Exe)
	s := &Signer{PFX: cert.PFX, Password: "pw"}
	err := s.Files(context.Background(), []string{prog.Exe, bogus, prog.DLL})
	if err == nil || !strings.Contains(err.Error(), "bogus.dll") || !strings.Contains(err.Error(), "nothing was changed") {
		t.Fatalf("want an error naming bogus.dll, got %v", err)
	}
	after, _ := os.ReadFile(prog.Exe)
	if !bytes.Equal(before, after) || signed(t, prog.Exe) {
		t.Error("hello.exe was replaced although signing the set failed")
	}
	if left, _ := filepath.Glob(filepath.Join(prog.Dir, "*"+tmpSuffix)); len(left) > 0 {
		t.Errorf("temporary files left: %v", left)
	}
}
