package deps

import (
	"bytes"
	"context"
	"debug/pe"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"qemupack/internal/run"
)

// TestRealLibffiPcre2EndToEnd builds libffi and pcre2 from their real
// tarballs with the real cross compiler (plus a small library made here
// that depends on libffi), runs their link tests, then checks that a
// second run rebuilds nothing and that a new patch for libffi rebuilds
// libffi and its dependent only.
func TestRealLibffiPcre2EndToEnd(t *testing.T) {
	mirror := testMirror(t)
	tc := probe(t)
	dir := t.TempDir()
	cache := filepath.Join(dir, "cache")
	patches := filepath.Join(dir, "patches")
	ownMirror := filepath.Join(dir, "mirror")
	rs := append(realRecipes(t, "libffi", "pcre2"), demoRecipe(t, ownMirror, demoFiles, "libffi"))
	o := options(t, cache, mirror, patches, tc, rs, "libffi", "libpcre2-8", "demo")
	o.Fetcher.Mirror = mirror
	// The demo tarball sits in its own folder; copy it into the mirror view.
	both := filepath.Join(dir, "both")
	os.MkdirAll(both, 0o755)
	for _, src := range []string{filepath.Join(mirror, "libffi_3.4.4.orig.tar.gz"), filepath.Join(mirror, "pcre2_10.42.orig.tar.gz"), filepath.Join(ownMirror, "demo-1.0.tar.gz")} {
		if err := os.Symlink(src, filepath.Join(both, filepath.Base(src))); err != nil {
			t.Fatal(err)
		}
	}
	o.Fetcher.Mirror = both

	if got := rebuildSet(t, o); !reflect.DeepEqual(got, []string{"libffi", "demo", "pcre2"}) {
		t.Fatalf("cold plan builds %v", got)
	}
	st, err := Build(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if st.Built != 3 || st.Cached != 0 {
		t.Fatalf("cold run: built %d, cached %d", st.Built, st.Cached)
	}
	for _, l := range st.Libs {
		if _, err := os.Stat(filepath.Join(l.Prefix, ManifestName)); err != nil {
			t.Errorf("%s: no manifest in %s", l.Name, l.Prefix)
		}
	}
	for _, dll := range []string{"libffi-8.dll", "libpcre2-8-0.dll"} {
		if _, err := os.Stat(filepath.Join(st.Dir, "bin", dll)); err != nil {
			t.Errorf("the stack lacks bin/%s: %v", dll, err)
		}
	}
	// Nothing of the build machine is in the DLLs: no folder of the cache
	// or of the temporary work tree, no link time (two checkouts must give
	// the same bytes). The .pc files name the real prefix, not the one the
	// libraries were configured with.
	for _, dll := range []string{"libffi-8.dll", "libpcre2-8-0.dll"} {
		checkNoBuildMachine(t, filepath.Join(st.Dir, "bin", dll), dir)
	}
	for _, l := range st.Libs {
		pcs, _ := filepath.Glob(filepath.Join(l.Prefix, "lib", "pkgconfig", "*.pc"))
		for _, p := range pcs {
			text, _ := os.ReadFile(p)
			if strings.Contains(string(text), InstallPrefix) || !strings.Contains(string(text), filepath.ToSlash(l.Prefix)) {
				t.Errorf("%s does not point at %s:\n%s", p, l.Prefix, text)
			}
		}
	}
	// The joined stack alone is enough to link against every library.
	pc, err := os.ReadFile(filepath.Join(st.Dir, "lib", "pkgconfig", "libffi.pc"))
	if err != nil || !strings.Contains(string(pc), "prefix="+LinkPath(filepath.ToSlash(st.Dir))) {
		t.Errorf("stack libffi.pc does not point at the stack: %s %v", pc, err)
	}
	for _, r := range rs {
		ltDir := filepath.Join(dir, "lt-"+r.Name)
		os.MkdirAll(ltDir, 0o755)
		env := run.Environ("PKG_CONFIG_LIBDIR="+filepath.Join(st.Dir, "lib", "pkgconfig"), "PKG_CONFIG_PATH=")
		if err := LinkTest(context.Background(), tc, r, ltDir, env, filepath.Join(ltDir, "log"), nil); err != nil {
			t.Errorf("link test of %s against the joined stack: %v", r.Name, err)
		}
	}

	// Warm: nothing rebuilt, the same stack.
	st2, err := Build(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if st2.Built != 0 || st2.Cached != 3 || st2.Dir != st.Dir {
		t.Fatalf("warm run: built %d, cached %d, stack %s (was %s)", st2.Built, st2.Cached, st2.Dir, st.Dir)
	}

	// A patch for demo: demo alone.
	writePatch(t, filepath.Join(patches, "demo", "1.0"), "0001-comment.patch", demoPatch)
	if got := rebuildSet(t, o); !reflect.DeepEqual(got, []string{"demo"}) {
		t.Errorf("after a demo patch the rebuild set is %v, want [demo]", got)
	}
	os.RemoveAll(filepath.Join(patches, "demo"))
	// A patch for libffi: libffi and demo (which depends on it), not pcre2.
	writePatch(t, filepath.Join(patches, "libffi", "3.4.4"), "0001-readme.patch", libffiReadmePatch)
	if got := rebuildSet(t, o); !reflect.DeepEqual(got, []string{"libffi", "demo"}) {
		t.Errorf("after a libffi patch the rebuild set is %v, want [libffi demo]", got)
	}
	st3, err := Build(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if st3.Built != 2 || st3.Cached != 1 {
		t.Errorf("after a libffi patch: built %d, cached %d; want 2 and 1", st3.Built, st3.Cached)
	}
	for _, l := range st3.Libs {
		if l.Name == "libffi" {
			readme, err := os.ReadFile(filepath.Join(l.Prefix, ManifestName))
			if err != nil || !strings.Contains(string(readme), "0001-readme.patch") {
				t.Errorf("libffi's manifest does not list the patch: %s", readme)
			}
		}
	}
	// The old prefixes are still there (other stacks may use them) and the
	// logs of each library are on disk.
	if _, err := os.Stat(filepath.Join(cache, "logs", "deps", "libffi-3.4.4")); err != nil {
		t.Errorf("no build logs: %v", err)
	}
}

// checkNoBuildMachine fails when the PE file holds the folder dir (where
// the test's cache and work trees are) or a link time.
func checkNoBuildMachine(t *testing.T, file, dir string) {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Error(err)
		return
	}
	if i := bytes.Index(data, []byte(dir)); i >= 0 {
		t.Errorf("%s holds the build folder %s at byte %d", filepath.Base(file), dir, i)
	}
	if bytes.Contains(data, []byte("/.work/")) {
		t.Errorf("%s holds a path of the temporary work folder", filepath.Base(file))
	}
	f, err := pe.NewFile(bytes.NewReader(data))
	if err != nil {
		t.Error(err)
		return
	}
	if f.FileHeader.TimeDateStamp != 0 {
		t.Errorf("%s has a link time (%d) in its PE header", filepath.Base(file), f.FileHeader.TimeDateStamp)
	}
}
