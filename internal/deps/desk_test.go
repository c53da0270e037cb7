package deps

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"qemupack/internal/config"
	"qemupack/internal/qversion"
	"qemupack/internal/recipe"
	"qemupack/internal/run"
	"qemupack/internal/source"
)

// Every module of the desk build has a recipe, at a version QEMU accepts,
// and the set resolves with its dependencies (libssh needs libgcrypt and
// zlib, usbredir libusb, libgcrypt libgpg-error).
func TestDeskModulesHaveRecipes(t *testing.T) {
	all, err := recipe.LoadDir(filepath.Join("..", "..", recipe.Dir))
	if err != nil {
		t.Fatal(err)
	}
	provided := recipe.Provided(all)
	for _, f := range DeskFeatures {
		for _, m := range f.Modules {
			v, ok := provided[m]
			if !ok {
				t.Errorf("feature %s: no recipe provides %s", f.Option, m)
				continue
			}
			if !qversion.AtLeast(v, f.Min) {
				t.Errorf("feature %s: recipes build %s %s, QEMU wants %s or newer", f.Option, m, v, f.Min)
			}
		}
	}
	rs, err := Select(all, DeskModules())
	if err != nil {
		t.Fatal(err)
	}
	order := map[string]int{}
	for i, r := range rs {
		order[r.Name] = i
	}
	for _, pair := range [][2]string{{"libgpg-error", "libgcrypt"}, {"libgcrypt", "libssh"}, {"zlib", "libssh"}, {"zlib", "curl"}, {"libusb", "usbredir"}, {"glib", "libslirp"}} {
		a, okA := order[pair[0]]
		b, okB := order[pair[1]]
		if !okA || !okB || a > b {
			t.Errorf("build order %v: want %s before %s", names(rs), pair[0], pair[1])
		}
	}
	mods, unknown := FeatureModules("sdl", "gcrypt", "opengl")
	if strings.Join(mods, " ") != "sdl2 libgcrypt" || strings.Join(unknown, " ") != "opengl" {
		t.Errorf("FeatureModules(sdl, gcrypt, opengl) = %v, unknown %v", mods, unknown)
	}
	if !sort.StringsAreSorted(DeskModules()) {
		t.Errorf("DeskModules not sorted: %v", DeskModules())
	}
}

func names(rs []recipe.Recipe) []string {
	var out []string
	for _, r := range rs {
		out = append(out, r.Name)
	}
	return out
}

// deskEnv turns on TestDeskStackReal: it builds every desk library from
// its real Debian tarball (about 10 minutes on 2 cores), so it runs only
// when asked, with the tarballs in QEMUPACK_MIRROR (the files `apt-get
// source --download-only` gives for libsdl2 libzstd libusb-1.0 curl
// libssh capstone, usbredir 0.15.0, and the current deps stack).
const deskEnv = "QEMUPACK_DESK_BUILD"

// TestDeskStackReal builds the desk build's stack the way the deps step
// does (QEMUPACK_DEPS=auto: zlib, libgcrypt and libgpg-error from the
// host's mingw packages where it has them) and checks each module the way
// QEMU's meson will ask for it: pkg-config finds it at a version QEMU
// accepts, its DLLs are in the stack, and they name no build folder and
// carry no link time. It logs each library's build time and DLL sizes.
// QEMUPACK_CACHE keeps the prefixes between runs (default: a temporary
// folder); QEMUPACK_DESK_WANT limits it to some modules and
// QEMUPACK_DEPS=recipes builds what the host has too (libgcrypt).
func TestDeskStackReal(t *testing.T) {
	if os.Getenv(deskEnv) != "1" {
		t.Skipf("set %s=1 (and QEMUPACK_MIRROR) to build the desk libraries from their real tarballs", deskEnv)
	}
	mirror := os.Getenv("QEMUPACK_MIRROR")
	if mirror == "" {
		t.Fatal("QEMUPACK_MIRROR must name the folder of source tarballs")
	}
	tc := probe(t)
	cache := os.Getenv("QEMUPACK_CACHE")
	if cache == "" {
		cache = t.TempDir()
	}
	jobs := 2
	if j, err := strconv.Atoi(os.Getenv("JOBS")); err == nil && j > 0 {
		jobs = j
	}
	all, err := recipe.LoadDir(filepath.Join("..", "..", recipe.Dir))
	if err != nil {
		t.Fatal(err)
	}
	mode := config.DepsAuto
	if os.Getenv("QEMUPACK_DEPS") == string(config.DepsRecipes) {
		mode = config.DepsRecipes
	}
	want := DeskModules()
	if w := os.Getenv("QEMUPACK_DESK_WANT"); w != "" {
		want = strings.Fields(w) // e.g. "libgcrypt" with QEMUPACK_DEPS=recipes
	}
	wanted := map[string]bool{}
	for _, m := range want {
		wanted[m] = true
	}
	o := Options{
		CacheDir: cache, Recipes: all, PatchDir: filepath.Join("..", "..", "patches"),
		Want: want, Mode: mode, Jobs: jobs, Tool: tc,
		Fetcher: &source.Fetcher{CacheDir: filepath.Join(cache, "sources"), Mirror: mirror, Offline: true, NoDebian: true},
		Out:     testWriter{t},
	}
	start := time.Now()
	st, err := Build(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("stack %s: %d built, %d cached, %d host in %s", st.Dir, st.Built, st.Cached, st.Host, time.Since(start).Round(time.Second))
	env := run.Environ("PKG_CONFIG_LIBDIR="+strings.Join(st.PkgConfigLibdir, string(os.PathListSeparator)), "PKG_CONFIG_PATH=", "PKG_CONFIG_SYSROOT_DIR=")
	ctx := context.Background()
	for _, f := range DeskFeatures {
		for _, m := range f.Modules {
			if !wanted[m] {
				continue
			}
			out, err := run.Output(ctx, run.Cmd{Args: []string{"pkg-config", "--modversion", m}, Env: env})
			v := strings.TrimSpace(out)
			if err != nil || !qversion.AtLeast(v, f.Min) {
				t.Errorf("feature %s: pkg-config %s gives %q (%v); QEMU wants %s or newer", f.Option, m, v, err, f.Min)
				continue
			}
			t.Logf("feature %-9s pkg-config %s %s", f.Option, m, v)
		}
	}
	// Schannel is in: libcurl.pc lists the SSL feature and HTTPS.
	if wanted["libcurl"] {
		curlVar := func(v string) string {
			out, err := run.Output(ctx, run.Cmd{Args: []string{"pkg-config", "--variable=" + v, "libcurl"}, Env: env})
			if err != nil {
				t.Errorf("pkg-config --variable=%s libcurl: %v", v, err)
			}
			return out
		}
		if f := curlVar("supported_features"); !strings.Contains(f, "SSL") {
			t.Errorf("libcurl has no SSL feature: %q", f)
		}
		if p := curlVar("supported_protocols"); !strings.Contains(p, "HTTPS") || strings.Contains(p, "LDAP") {
			t.Errorf("libcurl protocols %q: want HTTPS and no LDAP", p)
		}
	}
	wantDLLs := map[string][]string{
		"sdl2": {"SDL2.dll"}, "zstd": {"libzstd-1.dll"}, "libusb": {"libusb-1.0.dll"},
		"usbredir": {"libusbredirparser-1.dll", "libusbredirhost-1.dll"}, "curl": {"libcurl-4.dll"},
		"libssh": {"libssh.dll"}, "capstone": {"libcapstone.dll"},
		// Debian's libgpg-error is libgpg-error-0.dll, upstream's build
		// on x86_64 libgpg-error6-0.dll.
		"libgcrypt": {"libgcrypt-20.dll"}, "libgpg-error": {"libgpg-error*-0.dll"},
	}
	for _, l := range st.Libs {
		dlls, ok := wantDLLs[l.Name]
		if !ok {
			continue
		}
		dir := filepath.Join(st.Dir, "bin")
		if l.From == FromHost {
			dir = filepath.Join(l.Prefix, "bin")
		}
		var sizes []string
		for _, d := range dlls {
			m, _ := filepath.Glob(filepath.Join(dir, d))
			if len(m) != 1 {
				t.Errorf("%s: want one %s in %s, found %v", l.Name, d, dir, m)
				continue
			}
			p := m[0]
			fi, err := os.Stat(p)
			if err != nil {
				t.Error(err)
				continue
			}
			sizes = append(sizes, fmt.Sprintf("%s %.0f KiB", filepath.Base(p), float64(fi.Size())/1024))
			if l.From != FromHost {
				checkNoBuildMachine(t, p, cache)
			}
		}
		secs := l.Seconds
		if secs == 0 && l.From != FromHost {
			secs = manifestSeconds(l.Prefix)
		}
		t.Logf("%-12s %-8s %-6s %5.0f s  %s", l.Name, l.Version, l.From, secs, strings.Join(sizes, ", "))
	}
	if runtime.GOOS == "linux" {
		for _, n := range []string{"libssh", "capstone"} {
			for _, l := range st.Libs {
				if l.Name == n && l.From != FromHost {
					if _, err := os.Stat(filepath.Join(l.Prefix, "share", "licenses", n)); err != nil {
						t.Errorf("%s: no share/licenses/%s: %v", n, n, err)
					}
				}
			}
		}
	}
}

func manifestSeconds(prefix string) float64 {
	m, err := ReadManifest(prefix)
	if err != nil {
		return 0
	}
	return m.Seconds
}
