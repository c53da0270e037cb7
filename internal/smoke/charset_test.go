package smoke

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"qemupack/internal/testbin"
)

// charsetC asks what GLib's console charset lookup asks (g_get_console_charset
// in GLib 2.74: $LANG's charset, else GetConsoleOutputCP) and prints both.
const charsetC = `#include <windows.h>
#include <stdio.h>
#include <stdlib.h>
int main(void) {
    const char *lang = getenv("LANG");
    UINT cp = GetConsoleOutputCP();
    DWORD err = cp ? 0 : GetLastError();
    printf("LANG=%s cp=%u err=%lu\n", lang ? lang : "(unset)", cp, err);
    return 0;
}
`

// TestRunnerGivesWineACharset runs a real Windows program through the
// smoke's runner with no LANG, and with C, and with a LANG that names a
// charset: the program must see a charset in the first two (else GLib
// programs such as qemu-ga.exe abort under wine when their output is a
// pipe, see withCharset) and the caller's own in the third.
func TestRunnerGivesWineACharset(t *testing.T) {
	if _, err := exec.LookPath("wine"); err != nil {
		t.Fatal("wine not found: install it (apt-get install wine wine64)")
	}
	if _, err := exec.LookPath(testbin.CC); err != nil {
		t.Fatalf("%s not found: install gcc-mingw-w64-x86-64", testbin.CC)
	}
	dir := t.TempDir()
	src := filepath.Join(dir, "charset.c")
	if err := os.WriteFile(src, []byte(charsetC), 0o644); err != nil {
		t.Fatal(err)
	}
	exe := filepath.Join(dir, "charset.exe")
	if out, err := exec.Command(testbin.CC, "-O2", "-o", exe, src).CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", testbin.CC, err, out)
	}
	for _, c := range []struct{ lang, want string }{
		{"", "LANG=C.UTF-8 "},
		{"C", "LANG=C.UTF-8 "},
		{"de_DE.ISO-8859-15", "LANG=de_DE.ISO-8859-15 "},
	} {
		t.Setenv("LANG", c.lang) // restored when the test ends
		if c.lang == "" {
			os.Unsetenv("LANG")
		}
		r, err := NewRunner(filepath.Join(dir, "run")) // one prefix for all three
		if err != nil {
			t.Fatal(err)
		}
		out, err := r.Command(context.Background(), "charset", dir, exe, nil, 2*time.Minute, nil)
		r.Close()
		if err != nil {
			t.Fatalf("LANG %q: %v\n%s", c.lang, err, out)
		}
		if !strings.Contains(out, c.want) {
			t.Errorf("LANG %q: the program saw %q, want %q", c.lang, strings.TrimSpace(out), c.want)
		}
		// What wine answers without a console (12, ERROR_INVALID_ACCESS,
		// on wine 8; Windows says 6, ERROR_INVALID_HANDLE).
		t.Logf("LANG %q: %s", c.lang, strings.TrimSpace(out))
	}
}
