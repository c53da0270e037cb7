package deps

import (
	"strings"
	"testing"

	"qemupack/internal/host"
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
