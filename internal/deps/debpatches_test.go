package deps

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"qemupack/internal/recipe"
)

const debianHeaderPatch = `Description: security fix (a test's stand-in)
--- a/src/demo.h
+++ b/src/demo.h
@@ -1 +1,2 @@
 int demo_answer(void);
+/* fixed by Debian */
`

const debianPackagingPatch = `Description: Debian's own packaging change, which the recipe skips
--- a/src/demo.h
+++ b/src/demo.h
@@ -1 +1,2 @@
 int demo_answer(void);
+#define DEMO_DEBIAN_NAME 1
`

// A recipe's debian_patches: the series of Debian's packaging tarball is
// applied before building (verified like every download), the skipped
// entry is not, the manifest records what was applied, and a skip list
// naming a patch the series lacks stops the build.
func TestDebianPatchesApplied(t *testing.T) {
	tc := probe(t)
	dir := t.TempDir()
	mirror := filepath.Join(dir, "mirror")
	r := demoRecipe(t, mirror, demoFiles)
	sum := writeTarGz(t, filepath.Join(mirror, "demo_1.0-1.debian.tar.gz"), []file{
		{name: "debian/patches/series", body: "# security\nsecurity/fix-1.patch\n10_packaging.patch\n"},
		{name: "debian/patches/security/fix-1.patch", body: debianHeaderPatch},
		{name: "debian/patches/10_packaging.patch", body: debianPackagingPatch},
	})
	r.Sources[0].DebianPatches = &recipe.DebianPatches{File: "demo_1.0-1.debian.tar.gz", SHA256: sum, URL: "https://example.invalid/d.tar.gz", Skip: []string{"10_packaging.patch"}}
	if err := r.Validate(); err != nil {
		t.Fatal(err)
	}
	o := options(t, filepath.Join(dir, "cache"), mirror, filepath.Join(dir, "patches"), tc, []recipe.Recipe{r}, "demo")
	st, err := Build(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	prefix := st.Libs[0].Prefix
	h, err := os.ReadFile(filepath.Join(prefix, "include", "demo.h"))
	if err != nil || !strings.Contains(string(h), "fixed by Debian") || strings.Contains(string(h), "DEMO_DEBIAN_NAME") {
		t.Errorf("installed demo.h: %q %v; want Debian's fix and not the skipped patch", h, err)
	}
	m, err := ReadManifest(prefix)
	if err != nil || m.DebianPatches != "demo_1.0-1.debian.tar.gz" || strings.Join(m.DebianApplied, " ") != "security/fix-1.patch" {
		t.Errorf("manifest %+v %v", m, err)
	}

	r.Sources[0].DebianPatches.Skip = []string{"10_packaging.patch", "99_gone.patch"}
	o = options(t, filepath.Join(dir, "cache2"), mirror, filepath.Join(dir, "patches"), tc, []recipe.Recipe{r}, "demo")
	if _, err := Build(context.Background(), o); err == nil || !strings.Contains(err.Error(), "99_gone.patch") || !strings.Contains(err.Error(), "recipes/deps/demo.json") {
		t.Errorf("a stale skip list: %v", err)
	}
}
