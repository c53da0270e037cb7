// Package testbin builds tiny real Windows programs with the mingw cross
// compiler for tests: hello.exe, which imports greet.dll and prints a line
// naming both. Tests of the installer, signing and the bill of materials use
// them as a stand-in for a QEMU staging folder, so those steps are tested on
// real PE files without a QEMU build.
package testbin

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// CC is the mingw C compiler the tests use.
const CC = "x86_64-w64-mingw32-gcc"

// Greeting is what hello.exe prints (followed by a newline).
const Greeting = "hello from qemupack, greet.dll says 42"

const helloC = `#include <stdio.h>
#include <string.h>
__declspec(dllimport) int greet(void);
int main(int argc, char **argv) {
    if (argc > 1 && strcmp(argv[1], "-version") == 0) {
        printf("hello version 1.0.0\n");
        return 0;
    }
    printf("hello from qemupack, greet.dll says %d\n", greet());
    return 0;
}
`

const greetC = `__declspec(dllexport) int greet(void) { return 42; }
`

// Program is what Build made.
type Program struct {
	Dir string // the folder holding both files
	Exe string // hello.exe
	DLL string // greet.dll
}

// Build compiles hello.exe and greet.dll into dir (made if missing), with
// extra compiler flags, and fails the test naming the Debian package when the
// compiler is missing.
func Build(t testing.TB, dir string, flags ...string) Program {
	t.Helper()
	if _, err := exec.LookPath(CC); err != nil {
		t.Fatalf("%s not found: install the mingw cross compiler (apt-get install gcc-mingw-w64-x86-64)", CC)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	hello := write("hello.c", helloC)
	greet := write("greet.c", greetC)
	cc := func(args ...string) {
		t.Helper()
		cmd := exec.Command(CC, append(append([]string{}, flags...), args...)...)
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%s %s: %v\n%s", CC, strings.Join(args, " "), err, out)
		}
	}
	cc("-O2", "-shared", "-o", "greet.dll", greet, "-Wl,--out-implib,libgreet.dll.a")
	cc("-O2", "-o", "hello.exe", hello, "-L.", "-lgreet")
	for _, f := range []string{"hello.c", "greet.c", "libgreet.dll.a"} {
		os.Remove(filepath.Join(dir, f))
	}
	return Program{Dir: dir, Exe: filepath.Join(dir, "hello.exe"), DLL: filepath.Join(dir, "greet.dll")}
}

// Wine returns the environment to run wine in a fresh prefix under dir
// (WINEPREFIX), with its chatter silenced, and fails the test naming the
// package when wine is missing. prefix is the WINEPREFIX folder (C: is its
// drive_c).
func Wine(t testing.TB, dir string) (env []string, prefix string) {
	t.Helper()
	if _, err := exec.LookPath("wine"); err != nil {
		t.Fatalf("wine not found: install it (apt-get install wine wine64)")
	}
	prefix = filepath.Join(dir, "wineprefix")
	return append(os.Environ(),
		"WINEPREFIX="+prefix,
		"WINEDEBUG=-all",
		"WINEDLLOVERRIDES=mscoree,mshtml=", // no Mono/Gecko install dialogs
		"DISPLAY=",
	), prefix
}
