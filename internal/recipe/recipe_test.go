package recipe

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRealRecipesLoad(t *testing.T) {
	rs, err := LoadDir(filepath.Join("..", "..", Dir))
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, r := range rs {
		names[r.Name] = true
	}
	for _, n := range []string{"libffi", "pcre2", "libintl", "glib", "pixman", "libslirp", "libfdt", "zlib"} {
		if !names[n] {
			t.Errorf("no recipe for %s", n)
		}
	}
	p := Provided(rs)
	for _, m := range []string{"glib-2.0", "gthread-2.0", "pixman-1", "slirp", "libfdt", "zlib"} {
		if p[m] == "" {
			t.Errorf("no recipe provides %s", m)
		}
	}
}

const good = `{
  "name": "demo", "version": "1.0", "provides": {"demo": "1.0"},
  "sources": [{"url": "https://example.invalid/demo-1.0.tar.gz", "file": "demo-1.0.tar.gz",
               "sha256": "58f52bd8c7d320d353551780dc1a6d0cd7e016fb3c3fb889dc0e7f45de511b1e"}],
  "build": "meson", "link_test": "int main(void){return 0;}"
}`

func TestBadRecipes(t *testing.T) {
	cases := map[string]struct{ text, want string }{
		"good":           {good, ""},
		"missing name":   {strings.Replace(good, `"name": "demo",`, "", 1), "missing field(s): name"},
		"missing many":   {`{"name": "x", "provides": {"x": "1"}, "link_test": "int main(void){return 0;}"}`, "missing field(s): version, sources, build"},
		"unknown build":  {strings.Replace(good, `"meson"`, `"scons"`, 1), `unknown build system "scons" (use meson, autotools, cmake, make, cc)`},
		"cmake":          {strings.Replace(good, `"meson"`, `"cmake"`, 1), ""},
		"licence escape": {strings.Replace(good, `"build"`, `"license_files": ["../COPYING"], "build"`, 1), "not a relative path"},
		"licence abs":    {strings.Replace(good, `"build"`, `"license_files": ["/etc/passwd"], "build"`, 1), "not a relative path"},
		"unknown field":  {strings.Replace(good, `"build"`, `"biuld": "x", "build"`, 1), `unknown field "biuld"`},
		"short sha":      {strings.Replace(good, "58f52bd8", "58f5", 1), "64-digit sha256"},
		"no link test":   {strings.Replace(good, `, "link_test": "int main(void){return 0;}"`, "", 1), "missing field(s): link_test"},
		"cc without lib": {strings.Replace(good, `"meson"`, `"cc"`, 1), `build "cc" needs a cc block`},
		"self dep":       {strings.Replace(good, `"build"`, `"deps": ["demo"], "build"`, 1), "depends on itself"},
		"not json":       {"name = demo\n", "invalid character"},
		"debian patches": {strings.Replace(good, `"sha256": "58f52bd8`, `"debian_patches": {"file": "demo_1.0-1.debian.tar.xz", "url": "https://example.invalid/d", "sha256": "58f52bd8c7d320d353551780dc1a6d0cd7e016fb3c3fb889dc0e7f45de511b1e", "skip": ["01-x.patch"]}, "sha256": "58f52bd8`, 1), ""},
		"debian bad sum": {strings.Replace(good, `"sha256": "58f52bd8`, `"debian_patches": {"file": "demo_1.0-1.debian.tar.xz", "url": "https://example.invalid/d", "sha256": "abc"}, "sha256": "58f52bd8`, 1), "debian_patches needs"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "demo.json")
			os.WriteFile(p, []byte(c.text), 0o644)
			_, err := Load(p)
			if c.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), p) {
				t.Fatalf("want an error naming %s and saying %q, got %v", p, c.want, err)
			}
		})
	}
}
