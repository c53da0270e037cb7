package deps

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"qemupack/internal/config"
	"qemupack/internal/host"
	"qemupack/internal/recipe"
)

// reportWith is a host report of a Debian machine whose probe found the
// given tools (key -> first line of --version); the rest are missing.
func reportWith(found map[string]string) host.Report {
	r := host.Report{Family: host.Debian, CrossPrefix: "x86_64-w64-mingw32-", Triplet: "x86_64-w64-mingw32",
		Sysroots: []host.Sysroot{{Path: "/no/such", Exists: false}, {Path: "/usr/x86_64-w64-mingw32", Exists: true}}}
	for _, key := range []string{host.ToolGCC, host.ToolMeson, host.ToolNinja, host.ToolPkgConfig, host.ToolMake} {
		cmd := key
		if key == host.ToolGCC {
			cmd = "x86_64-w64-mingw32-gcc"
		}
		t := host.Tool{Key: key, Command: cmd, Package: host.ToolPackage(host.Debian, key, r.Triplet)}
		if raw, ok := found[key]; ok {
			t.Path, t.Raw = "/usr/bin/"+cmd, raw
			t.Version, _ = host.ParseVersionLine(raw)
		} else {
			t.Problem = "not found on PATH"
		}
		r.Tools = append(r.Tools, t)
	}
	return r
}

var allTools = map[string]string{
	host.ToolGCC:       "x86_64-w64-mingw32-gcc (GCC) 12-win32",
	host.ToolMeson:     "1.0.1",
	host.ToolNinja:     "1.11.1",
	host.ToolPkgConfig: "1.8.1",
	host.ToolMake:      "GNU Make 4.3",
}

// The cache key's toolchain part is the tools' first --version lines, as
// it was when deps ran them itself (so existing cache keys stay valid).
func TestToolchainFromReport(t *testing.T) {
	tc, err := ToolchainFrom(reportWith(allTools))
	if err != nil {
		t.Fatalf("%v (patch and binutils-mingw-w64-x86-64 must be installed: CI installs them)", err)
	}
	if want := "gcc=x86_64-w64-mingw32-gcc (GCC) 12-win32 meson=1.0.1 ninja=1.11.1"; tc.ID() != want {
		t.Errorf("ID %q, want %q", tc.ID(), want)
	}
	if len(tc.Sysroots) != 1 || tc.Sysroots[0] != "/usr/x86_64-w64-mingw32" || tc.Triplet != "x86_64-w64-mingw32" {
		t.Errorf("toolchain %+v: want only the existing sysroot", tc)
	}
}

// A missing tool fails closed, naming the package that installs it.
func TestToolchainMissingToolNamesPackage(t *testing.T) {
	found := map[string]string{}
	for k, v := range allTools {
		found[k] = v
	}
	delete(found, host.ToolMeson)
	delete(found, host.ToolNinja)
	_, err := ToolchainFrom(reportWith(found))
	if err == nil {
		t.Fatal("a toolchain without meson and ninja was accepted")
	}
	for _, want := range []string{"missing build tools", "meson (not found on PATH; install: apt-get install -y meson)", "ninja (not found on PATH; install: apt-get install -y ninja-build)"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q: %v", want, err)
		}
	}
	if strings.Contains(err.Error(), "gcc (") {
		t.Errorf("a present tool is named missing: %v", err)
	}
}

// Under auto, deps takes a host library exactly when pick said the host's
// copy is enough for the picked release (Options.HostMin); without pick's
// word, the recipe's own version is the bar.
func TestHostMinFollowsPick(t *testing.T) {
	if _, err := exec.LookPath("pkg-config"); err != nil {
		t.Fatal("pkg-config is needed (Debian package: pkg-config)")
	}
	sysroot := t.TempDir()
	pc := "prefix=" + sysroot + "\nlibdir=${prefix}/lib\nincludedir=${prefix}/include\n\nName: demo\nDescription: host copy\nVersion: 0.9\nLibs: -L${libdir} -ldemo\n"
	os.MkdirAll(filepath.Join(sysroot, "lib", "pkgconfig"), 0o755)
	if err := os.WriteFile(filepath.Join(sysroot, "lib", "pkgconfig", "demo.pc"), []byte(pc), 0o644); err != nil {
		t.Fatal(err)
	}
	r := demoRecipe(t, t.TempDir(), demoFiles) // builds demo 1.0
	from := func(mode config.DepsMode, hostMin map[string]string) (From, error) {
		items, err := Plan(context.Background(), Options{CacheDir: t.TempDir(), Recipes: []recipe.Recipe{r}, Want: []string{"demo"},
			Mode: mode, Tool: Toolchain{Sysroots: []string{sysroot}}, HostMin: hostMin})
		if err != nil {
			return "", err
		}
		if len(items) != 1 {
			t.Fatalf("plan %v", items)
		}
		if items[0].From == "" && items[0].NeedsBuild {
			return "build", nil
		}
		return items[0].From, nil
	}
	for _, c := range []struct {
		name    string
		hostMin map[string]string
		want    From
	}{
		{"no pick: the recipe's version is the bar", nil, "build"},
		{"pick: any version will do", map[string]string{"demo": ""}, FromHost},
		{"pick: the release needs 0.8", map[string]string{"demo": "0.8"}, FromHost},
		{"pick: the release needs 0.9.1", map[string]string{"demo": "0.9.1"}, "build"},
		{"pick names other libraries only", map[string]string{"zlib": ""}, "build"},
	} {
		got, err := from(config.DepsAuto, c.hostMin)
		if err != nil || got != c.want {
			t.Errorf("%s: from %q (%v), want %q", c.name, got, err, c.want)
		}
	}
	if got, err := from(config.DepsRecipes, map[string]string{"demo": ""}); err != nil || got != "build" {
		t.Errorf("QEMUPACK_DEPS=recipes still builds: %q %v", got, err)
	}
	_, err := from(config.DepsHost, map[string]string{"demo": "1.2"})
	if err == nil || !strings.Contains(err.Error(), "demo 1.2 or newer") {
		t.Errorf("QEMUPACK_DEPS=host with too old a host copy: %v", err)
	}
}
