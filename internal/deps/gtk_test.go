package deps

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"qemupack/internal/host"
	"qemupack/internal/qversion"
	"qemupack/internal/recipe"
)

// TestGTKModulesBringTheWindowsStack: wanting GTKModules selects the
// Windows GTK 3 stack from the real recipes, every library after what it
// links, each pinned to a Debian source with a licence and a link test,
// and nothing of the X11/fontconfig world.
func TestGTKModulesBringTheWindowsStack(t *testing.T) {
	all, err := recipe.LoadDir(filepath.Join("..", "..", recipe.Dir))
	if err != nil {
		t.Fatal(err)
	}
	if v := recipe.Provided(all)["gtk+-3.0"]; !qversion.AtLeast(v, GTKFeature.Min) || !reflect.DeepEqual(GTKFeature.Modules, GTKModules) {
		t.Errorf("recipes build gtk+-3.0 %q; GTKFeature wants %s of %v", v, GTKFeature.Min, GTKFeature.Modules)
	}
	order, err := Select(all, GTKModules)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	pos := map[string]int{}
	for i, r := range order {
		names = append(names, r.Name)
		pos[r.Name] = i
	}
	got := append([]string{}, names...)
	sort.Strings(got)
	want := []string{"atk", "cairo", "fribidi", "gdk-pixbuf", "glib", "gtk3", "harfbuzz", "libepoxy", "libffi",
		"libintl", "libjpeg-turbo", "libpng", "pango", "pcre2", "pixman", "zlib"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("GTK stack %v, want %v", got, want)
	}
	if names[len(names)-1] != "gtk3" {
		t.Errorf("gtk3 is not built last: %v", names)
	}
	for _, r := range order {
		for _, d := range r.Deps {
			if pos[d] > pos[r.Name] {
				t.Errorf("%s comes before its dependency %s: %v", r.Name, d, names)
			}
		}
		for m := range r.Provides {
			for _, bad := range []string{"fontconfig", "freetype2", "x11", "xcb", "dbus-1", "libxml-2.0"} {
				if m == bad {
					t.Errorf("%s provides %s: the Windows stack needs none of it", r.Name, m)
				}
			}
		}
		if r.License == "" || len(r.LinkLibs) == 0 {
			t.Errorf("%s: needs a licence and a link test against its modules", r.Name)
		}
		debian := false
		for _, s := range r.Sources {
			debian = debian || s.DebianPackage != ""
		}
		if !debian {
			t.Errorf("%s: no source names the Debian package it comes from", r.Name)
		}
	}
	for _, opt := range []string{"-Dwin32_backend=true", "-Dx11_backend=false", "-Dintrospection=false", "-Ddemos=false", "-Dtests=false"} {
		found := false
		for _, r := range order {
			if r.Name == "gtk3" {
				for _, o := range r.Options {
					found = found || o == opt
				}
			}
		}
		if !found {
			t.Errorf("gtk3 is not configured with %s", opt)
		}
	}
}

// fakeTool writes an executable script named name into dir.
func fakeTool(t *testing.T, dir, name, body string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte("#!/bin/sh\n"+body+"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestBuildToolsFoundKeyedAndNamedInTheCrossFile(t *testing.T) {
	dir := t.TempDir()
	mkenums := fakeTool(t, dir, "glib-mkenums", "echo 2.74.6")
	fakeTool(t, dir, "x86_64-w64-mingw32-g++", "exit 0")
	t.Setenv("PATH", dir)
	tc := Toolchain{CrossPrefix: "x86_64-w64-mingw32-", Triplet: "x86_64-w64-mingw32"}
	r := recipe.Recipe{Name: "demo", BuildTools: []string{"{cross}g++", "glib-mkenums"}}
	tools, err := tc.findBuildTools(r)
	if err != nil {
		t.Fatal(err)
	}
	if len(tools) != 2 || tools[0].Name != "glib-mkenums" || tools[0].Path != mkenums || !tools[0].Meson ||
		tools[1].Name != "x86_64-w64-mingw32-g++" || tools[1].Meson {
		t.Fatalf("tools %+v", tools)
	}
	key := toolsKey(tools)
	if toolsKey(nil) != "" {
		t.Errorf("a recipe without build tools must keep its key")
	}
	fakeTool(t, dir, "glib-mkenums", "echo 2.80.0")
	again, err := tc.findBuildTools(r)
	if err != nil {
		t.Fatal(err)
	}
	if toolsKey(again) == key {
		t.Errorf("a changed glib-mkenums must change the key")
	}

	cross := tc.CrossFile(nil, nil, []string{"/pc"}, nil, nil)
	text := withBinaries(cross, tools)
	if !strings.Contains(text, "[binaries]\nglib-mkenums = ['"+mkenums+"']\nc = 'x86_64-w64-mingw32-gcc'") {
		t.Errorf("glib-mkenums is not in [binaries]:\n%s", text)
	}
	if strings.Count(text, "[binaries]") != 1 || strings.Contains(text, "x86_64-w64-mingw32-g++ =") {
		t.Errorf("the cross file names the compiler as a program, or has two [binaries]:\n%s", text)
	}
	if withBinaries(cross, nil) != cross {
		t.Errorf("no tools must leave the cross file as it is")
	}
}

func TestMissingBuildToolNamesRecipeAndPackage(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	tc := Toolchain{CrossPrefix: "x86_64-w64-mingw32-", Triplet: "x86_64-w64-mingw32", Family: host.Debian}
	r := recipe.Recipe{Name: "gtk3", Version: "3.24.38", Provides: map[string]string{"gtk+-3.0": "3.24.38"}, Build: "meson",
		BuildTools: []string{"glib-compile-resources", "glib-compile-schemas", "gdk-pixbuf-pixdata", "{cross}g++", "cc"}}
	_, err := Plan(context.Background(), Options{CacheDir: t.TempDir(), Recipes: []recipe.Recipe{r}, Tool: tc, Mode: "recipes", Want: []string{"gtk+-3.0"}})
	if err == nil {
		t.Fatal("a plan with missing build tools must fail before anything builds")
	}
	// The package names are host's, the ones setup installs.
	for _, want := range []string{"recipes/deps/gtk3.json", "glib-compile-resources (libglib2.0-dev-bin)",
		"glib-compile-schemas (libglib2.0-bin)", "gdk-pixbuf-pixdata (libgdk-pixbuf2.0-bin)", "x86_64-w64-mingw32-g++ (g++-mingw-w64-x86-64)", "cc (gcc libc6-dev)",
		"apt-get install -y libglib2.0-dev-bin libglib2.0-bin libgdk-pixbuf2.0-bin g++-mingw-w64-x86-64 gcc libc6-dev"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q: %v", want, err)
		}
	}
}
