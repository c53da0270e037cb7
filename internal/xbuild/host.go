package xbuild

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"

	"qemupack/internal/run"
)

// HostSetup is how the build reaches its tools on this machine.
type HostSetup struct {
	Kind      HostKind
	Bash      string              // Cygwin: bash.exe
	ToPosix   func(string) string // Cygwin: cygpath -u
	FromPosix func(string) string // Cygwin: cygpath -w
}

// DetectHost returns HostLinux on Linux (and other Unix systems); on
// Windows it finds Cygwin through cygpath.exe on PATH or C:\cygwin64, since
// the tool then runs as a Windows program and configure, meson and ninja
// are Cygwin programs reached through Cygwin's bash.
func DetectHost(ctx context.Context) (HostSetup, error) {
	if runtime.GOOS != "windows" {
		return HostSetup{Kind: HostLinux}, nil
	}
	var bin string
	if p, err := exec.LookPath("cygpath"); err == nil {
		bin = filepath.Dir(p)
	} else if _, err := os.Stat(`C:\cygwin64\bin\cygpath.exe`); err == nil {
		bin = `C:\cygwin64\bin`
	} else {
		return HostSetup{}, fmt.Errorf("build on Windows needs Cygwin (cygpath.exe not on PATH nor in C:\\cygwin64\\bin): install it with setup-x86_64.exe and the mingw64-x86_64-gcc-core, meson, ninja, pkg-config, bison, flex, patch packages")
	}
	bash := filepath.Join(bin, "bash.exe")
	if _, err := os.Stat(bash); err != nil {
		return HostSetup{}, fmt.Errorf("cygwin: %s not found", bash)
	}
	cygpath := filepath.Join(bin, "cygpath.exe")
	return HostSetup{Kind: HostCygwin, Bash: bash,
		ToPosix:   pathConverter(ctx, cygpath, "-u"),
		FromPosix: pathConverter(ctx, cygpath, "-w"),
	}, nil
}

// pathConverter runs cygpath once per distinct path. A failure gives the
// path back unconverted (the step using it then fails naming it).
func pathConverter(ctx context.Context, cygpath, flag string) func(string) string {
	var mu sync.Mutex
	seen := map[string]string{}
	return func(p string) string {
		mu.Lock()
		defer mu.Unlock()
		if c, ok := seen[p]; ok {
			return c
		}
		out, err := run.Output(ctx, run.Cmd{Args: []string{cygpath, flag, p}})
		c := strings.TrimSpace(out)
		if err != nil || c == "" {
			c = p
		}
		seen[p] = c
		return c
	}
}
