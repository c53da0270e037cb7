package testprep

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"qemupack/internal/config"
	"qemupack/internal/recipe"
	"qemupack/internal/source"
)

// checkout makes a checkout whose libffi and pcre2 recipes (the real
// ones, their sums pointed at small stand-in tarballs) are served by a
// mirror folder under their upstream names.
func checkout(t *testing.T) (root, mirror string, body map[string]string) {
	t.Helper()
	root, mirror = t.TempDir(), t.TempDir()
	body = map[string]string{}
	real, err := recipe.LoadDir(filepath.Join("..", "..", recipe.Dir))
	if err != nil {
		t.Fatal(err)
	}
	os.MkdirAll(filepath.Join(root, recipe.Dir), 0o755)
	for _, r := range real {
		if r.Name != "libffi" && r.Name != "pcre2" {
			continue
		}
		data, _ := os.ReadFile(filepath.Join("..", "..", recipe.Dir, r.Name+".json"))
		content := "tarball of " + r.Name
		sum := sha256.Sum256([]byte(content))
		text := strings.Replace(string(data), r.Sources[0].SHA256, hex.EncodeToString(sum[:]), 1)
		if err := os.WriteFile(filepath.Join(root, recipe.Dir, r.Name+".json"), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(mirror, r.Sources[0].File), []byte(content), 0o644)
		body[r.Sources[0].DebianFile] = content
	}
	if len(body) != 2 {
		t.Fatalf("recipes libffi and pcre2 not found: %v", body)
	}
	return root, mirror, body
}

func cfg(t *testing.T, root string, env map[string]string) config.Config {
	t.Helper()
	c, err := config.FromEnv(root, func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// The test mirror gets each tarball under Debian's name (what the deps
// tests look for), verified, from wherever the fetcher finds it; a second
// run finds them there.
func TestInputsFillTheTestMirror(t *testing.T) {
	root, mirror, body := checkout(t)
	c := cfg(t, root, map[string]string{config.EnvCache: filepath.Join(root, ".cache")})
	f := &source.Fetcher{CacheDir: filepath.Join(c.CacheDir, "sources"), Mirror: mirror, Offline: true, NoDebian: true}
	var out strings.Builder
	env, err := Inputs(context.Background(), c, f, &out)
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(c.CacheDir, "test-mirror")
	if len(env) != 1 || env[0] != "QEMUPACK_TEST_MIRROR="+dir {
		t.Errorf("env %v", env)
	}
	for name, want := range body {
		got, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil || string(got) != want {
			t.Errorf("%s: %q, %v", name, got, err)
		}
	}
	if !strings.Contains(out.String(), "libffi_3.4.4.orig.tar.gz") {
		t.Errorf("progress: %s", out.String())
	}

	// Second run: nothing to fetch (the mirror may be gone).
	os.RemoveAll(mirror)
	out.Reset()
	if _, err := Inputs(context.Background(), c, f, &out); err != nil || out.Len() != 0 {
		t.Errorf("second run fetched again: %v\n%s", err, out.String())
	}
}

// A damaged tarball is never used: the error names the file and the sums.
func TestInputsRefuseWrongSum(t *testing.T) {
	root, mirror, _ := checkout(t)
	os.WriteFile(filepath.Join(mirror, "libffi-3.4.4.tar.gz"), []byte("something else"), 0o644)
	c := cfg(t, root, map[string]string{config.EnvCache: filepath.Join(root, ".cache")})
	f := &source.Fetcher{Mirror: mirror, Offline: true, NoDebian: true}
	_, err := Inputs(context.Background(), c, f, &strings.Builder{})
	if err == nil || !strings.Contains(err.Error(), "libffi-3.4.4.tar.gz") || !strings.Contains(err.Error(), "sha256 mismatch") {
		t.Errorf("want a sum error naming the file, got %v", err)
	}
	if _, err := os.Stat(filepath.Join(c.CacheDir, "test-mirror", "libffi_3.4.4.orig.tar.gz")); err == nil {
		t.Error("the damaged tarball reached the test mirror")
	}
}

// A folder the user names is used as it is.
func TestInputsUserMirror(t *testing.T) {
	root, _, _ := checkout(t)
	mine := t.TempDir()
	c := cfg(t, root, map[string]string{config.EnvTestMirror: mine})
	env, err := Inputs(context.Background(), c, nil, &strings.Builder{})
	if err != nil || env[0] != "QEMUPACK_TEST_MIRROR="+mine {
		t.Errorf("env %v, %v", env, err)
	}
}

func TestTarballsFromRealRecipes(t *testing.T) {
	ts, err := Tarballs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, tb := range ts {
		names = append(names, MirrorName(tb))
		if len(tb.SHA256) != 64 || tb.DebianPackage == "" {
			t.Errorf("%+v", tb)
		}
	}
	b, _ := json.Marshal(names)
	if string(b) != `["libffi_3.4.4.orig.tar.gz","pcre2_10.42.orig.tar.gz"]` {
		t.Errorf("names %s: the deps tests look for these", b)
	}
}
