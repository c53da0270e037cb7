package host_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"qemupack/internal/config"
	"qemupack/internal/host"
)

// These tests stand in for a Cygwin (and MSYS2) host, which cannot run
// here: the path conversion and sysroot layout are pure functions, and the
// probe is driven with canned answers for what a Cygwin machine's uname,
// cygpath and tools print.

func TestCygwinToWindows(t *testing.T) {
	cyg := host.PosixLayout{Family: host.Cygwin, Root: `C:\cygwin64`}
	for in, want := range map[string]string{
		"/usr/x86_64-w64-mingw32/sys-root/mingw":  `C:\cygwin64\usr\x86_64-w64-mingw32\sys-root\mingw`,
		"/usr/x86_64-w64-mingw32/sys-root/mingw/": `C:\cygwin64\usr\x86_64-w64-mingw32\sys-root\mingw`,
		"/cygdrive/d/qemu/src":                    `D:\qemu\src`,
		"/cygdrive/c":                             `C:\`,
		"/":                                       `C:\cygwin64`,
		`C:\already\windows`:                      `C:\already\windows`,
		"E:/mixed/slashes":                        `E:\mixed\slashes`,
		"relative/dir":                            `relative\dir`,
		"/cygdriveX/not/a/drive":                  `C:\cygwin64\cygdriveX\not\a\drive`,
	} {
		if got := cyg.ToWindows(in); got != want {
			t.Errorf("cygwin ToWindows(%q) = %q, want %q", in, got, want)
		}
	}
	msys := host.PosixLayout{Family: host.MSYS2, Root: `C:/msys64/`}
	for in, want := range map[string]string{
		"/mingw64":      `C:\msys64\mingw64`,
		"/c/Users/me":   `C:\Users\me`,
		"/usr/bin/bash": `C:\msys64\usr\bin\bash`,
		"/cygdrive/c/x": `C:\msys64\cygdrive\c\x`,
	} {
		if got := msys.ToWindows(in); got != want {
			t.Errorf("msys2 ToWindows(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestCygwinToPosix(t *testing.T) {
	cyg := host.PosixLayout{Family: host.Cygwin, Root: `C:\cygwin64`}
	for in, want := range map[string]string{
		`C:\cygwin64\usr\x86_64-w64-mingw32\sys-root\mingw\bin`: "/usr/x86_64-w64-mingw32/sys-root/mingw/bin",
		`c:\CYGWIN64\home\me`: "/home/me",
		`C:\cygwin64`:         "/",
		`D:\work\qemu`:        "/cygdrive/d/work/qemu",
		`C:\cygwin64x\other`:  "/cygdrive/c/cygwin64x/other",
		"/already/posix":      "/already/posix",
		`\\server\share\x`:    "//server/share/x",
	} {
		if got := cyg.ToPosix(in); got != want {
			t.Errorf("ToPosix(%q) = %q, want %q", in, got, want)
		}
	}
	msys := host.PosixLayout{Family: host.MSYS2, Root: `C:\msys64`}
	if got := msys.ToPosix(`D:\x\y`); got != "/d/x/y" {
		t.Errorf("msys2 ToPosix = %q", got)
	}
	// Round trip for paths under the root and on other drives.
	for _, p := range []string{"/usr/x86_64-w64-mingw32/sys-root/mingw", "/cygdrive/d/src/qemu-9.2.0"} {
		if back := cyg.ToPosix(cyg.ToWindows(p)); back != p {
			t.Errorf("round trip %q → %q", p, back)
		}
	}
}

func TestSysrootLayouts(t *testing.T) {
	tr := "x86_64-w64-mingw32"
	for f, want := range map[host.Family]string{
		host.Debian: "/usr/x86_64-w64-mingw32",
		host.Fedora: "/usr/x86_64-w64-mingw32/sys-root/mingw",
		host.Cygwin: "/usr/x86_64-w64-mingw32/sys-root/mingw",
		host.MSYS2:  "/mingw64",
	} {
		if got := host.DefaultSysroots(f, tr); len(got) != 1 || got[0] != want {
			t.Errorf("%s: %v, want %s", f, got, want)
		}
	}
	if got := host.DefaultSysroots(host.MSYS2, "i686-w64-mingw32"); got[0] != "/mingw32" {
		t.Errorf("msys2 i686: %v", got)
	}
	if got := host.DLLDirs(host.Cygwin, "/usr/x86_64-w64-mingw32/sys-root/mingw"); got[0] != "/usr/x86_64-w64-mingw32/sys-root/mingw/bin" {
		t.Errorf("cygwin DLL dir %v", got)
	}
}

func TestFamilyFromUname(t *testing.T) {
	for in, want := range map[string]host.Family{
		"CYGWIN_NT-10.0-19045\n": host.Cygwin,
		"MSYS_NT-10.0-22631":     host.MSYS2,
		"MINGW64_NT-10.0-22631":  host.MSYS2,
		"Linux":                  host.Unknown,
	} {
		if got := host.FamilyFromUname(in); got != want {
			t.Errorf("%q: %s, want %s", in, got, want)
		}
	}
}

// A probe as it runs on Cygwin (GOOS=windows, tools as .exe, paths
// converted through the root cygpath reports). Only the answers are canned.
func TestProbeStandsInForCygwin(t *testing.T) {
	answers := map[string]string{
		`C:\cygwin64\bin\uname.exe -s`:                         "CYGWIN_NT-10.0-19045\n",
		`C:\cygwin64\bin\cygpath.exe -w /`:                     "C:\\cygwin64\n",
		`C:\cygwin64\bin\x86_64-w64-mingw32-gcc.exe --version`: "x86_64-w64-mingw32-gcc (GCC) 12.4.0\n",
		`C:\cygwin64\bin\make.exe --version`:                   "GNU Make 4.4.1\n",
		`C:\cygwin64\bin\python3.exe --version`:                "Python 3.9.18\n",
		`C:\cygwin64\bin\python3.exe -c ` + "\x00":             "executable=/usr/bin/python3.9\nmesonbuild=0\nvenv=1\nensurepip=1\n",
		`C:\cygwin64\bin\pkg-config.exe --version`:             "1.9.5\n",
	}
	have := map[string]bool{"uname": true, "cygpath": true, "x86_64-w64-mingw32-gcc": true, "make": true, "python3": true, "pkg-config": true}
	// Cygwin's meson is a python script (no .exe): Windows cannot start it,
	// so the probe runs it through the python on its #! line.
	meson := filepath.Join(t.TempDir(), "meson")
	if err := os.WriteFile(meson, []byte("#!/usr/bin/python3.9\nfrom mesonbuild import mesonmain\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	answers[`C:\cygwin64\usr\bin\python3.9 `+meson+` --version`] = "1.3.2\n"
	answers[`C:\cygwin64\usr\bin\python3.9 --version`] = "Python 3.9.18\n"
	answers[`C:\cygwin64\usr\bin\python3.9 -c `+"\x00"] = "executable=/usr/bin/python3.9\nmesonbuild=1\nvenv=1\nensurepip=1\n"
	opts := host.Options{
		GOOS:   "windows",
		Getenv: func(string) string { return "" },
		IsRoot: func() bool { return false },
		LookPath: func(name string) (string, error) {
			switch {
			case have[name]:
				return `C:\cygwin64\bin\` + name + ".exe", nil
			case name == "meson":
				return meson, nil
			case name == `C:\cygwin64\usr\bin\python3.9`:
				return name, nil
			}
			return "", fmt.Errorf("%s: not found", name)
		},
		Exec: func(_ context.Context, _ []string, args ...string) (string, error) {
			key := strings.Join(args, " ")
			if len(args) == 3 && args[1] == "-c" {
				key = args[0] + " -c \x00"
			}
			if out, ok := answers[key]; ok {
				return out, nil
			}
			return "", fmt.Errorf("unexpected command %q", key)
		},
	}
	cfg, err := config.FromEnv(t.TempDir(), func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	r, err := host.Probe(context.Background(), cfg, opts)
	if err != nil {
		t.Fatal(err)
	}
	if r.Family != host.Cygwin || r.Layout == nil || r.Layout.Root != `C:\cygwin64` || r.PackageManager != "setup-x86_64.exe" {
		t.Fatalf("family %s layout %+v", r.Family, r.Layout)
	}
	if len(r.Sysroots) != 1 || r.Sysroots[0].Path != `C:\cygwin64\usr\x86_64-w64-mingw32\sys-root\mingw` || r.Sysroots[0].Posix != "/usr/x86_64-w64-mingw32/sys-root/mingw" {
		t.Errorf("sysroots %+v", r.Sysroots)
	}
	if v := r.Tool(host.ToolGCC).Version; v != "12.4.0" {
		t.Errorf("gcc %q", v)
	}
	if m := r.Tool(host.ToolMeson); m.Version != "1.3.2" {
		t.Errorf("meson through its python: %+v", m)
	}
	if r.MesonPython == nil || !r.MesonPython.Meson || r.BuildPython.Path != `C:\cygwin64\usr\bin\python3.9` {
		t.Errorf("meson's python %+v, build python %+v (%s)", r.MesonPython, r.BuildPython, r.BuildPythonWhy)
	}
	want := "setup-x86_64.exe -q -P mingw64-x86_64-gcc-g++,ninja,bison,flex,patch,cmake,gettext,gcc-core,mingw64-x86_64-glib2.0,mingw64-x86_64-pixman,mingw64-x86_64-zlib"
	if got := r.InstallCommand(); got != want {
		t.Errorf("install command\n got %s\nwant %s", got, want)
	}
}

// Windows without Cygwin or MSYS2: no uname, so no family and a note that
// says where to run it.
func TestProbeBareWindows(t *testing.T) {
	opts := host.Options{
		GOOS: "windows", Getenv: func(string) string { return "" }, IsRoot: func() bool { return false },
		LookPath: func(name string) (string, error) { return "", fmt.Errorf("not found") },
		Exec:     func(context.Context, []string, ...string) (string, error) { return "", fmt.Errorf("no") },
	}
	cfg, _ := config.FromEnv(t.TempDir(), func(string) string { return "" })
	r, _ := host.Probe(context.Background(), cfg, opts)
	if r.Family != host.Unknown || !strings.Contains(strings.Join(r.Notes, "\n"), "Cygwin terminal") {
		t.Errorf("family %s notes %v", r.Family, r.Notes)
	}
}
