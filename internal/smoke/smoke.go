// Package smoke proves an archive works on its own: it unpacks it into an
// empty folder and runs the programs from there, under wine with a fresh,
// empty prefix on Linux (natively on Windows), with no path to the mingw
// sysroot anywhere: -version, -machine help, -L help, qemu-img --version,
// and a headless boot of a Linux kernel under TCG up to "Linux version".
package smoke

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"time"

	"qemupack/internal/bundle"
	"qemupack/internal/run"
	"qemupack/internal/source"
)

// Unpack extracts a zip archive into dir, which must be empty or absent,
// and returns the archive's single top folder. Entries that would land
// outside dir or that Windows could not hold, links, and more than one top
// folder are refused.
func Unpack(ctx context.Context, archive, dir string) (string, error) {
	if ents, err := os.ReadDir(dir); err == nil && len(ents) > 0 {
		return "", fmt.Errorf("smoke: %s is not empty", dir)
	}
	if err := os.RemoveAll(dir); err != nil {
		return "", fmt.Errorf("smoke: %w", err)
	}
	tops := map[string]bool{}
	check := func(name string, isDir bool) (string, bool, error) {
		if err := bundle.CheckName(name); err != nil {
			return "", false, err
		}
		top, _, _ := strings.Cut(name, "/")
		tops[top] = true
		return name, true, nil
	}
	if _, err := source.ExtractWith(ctx, archive, dir, source.Options{Select: check, NoLinks: true}); err != nil {
		return "", fmt.Errorf("smoke: unpacking %s: %w", archive, err)
	}
	if len(tops) != 1 {
		return "", fmt.Errorf("smoke: %s has %d top folders, want exactly one", archive, len(tops))
	}
	for t := range tops {
		return filepath.Join(dir, t), nil
	}
	return "", nil
}

// Runner runs Windows programs: through wine with its own fresh prefix on
// Linux, directly on Windows.
type Runner struct {
	Wine   string   // wine program ("" on Windows)
	Prefix string   // the WINEPREFIX made for this runner
	Env    []string // the environment every program gets
	LogDir string
}

// NewRunner prepares a runner whose wine prefix lives in work/prefix. The
// environment is the caller's minus everything that could lead a program
// to DLLs outside its own folder: WINEPATH and WINEDLLPATH are dropped, the
// prefix is new and empty, and on Windows PATH is cut to the system folders.
func NewRunner(work string) (*Runner, error) {
	r := &Runner{LogDir: filepath.Join(work, "logs")}
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch strings.ToUpper(k) {
		case "WINEPATH", "WINEDLLPATH", "WINEPREFIX", "WINEDEBUG", "WINEDLLOVERRIDES", "WINEARCH", "DISPLAY", "WAYLAND_DISPLAY":
			continue
		case "PATH":
			if runtime.GOOS == "windows" {
				sr := os.Getenv("SystemRoot")
				kv = k + "=" + filepath.Join(sr, "System32") + ";" + sr
			}
		}
		env = append(env, kv)
	}
	if runtime.GOOS != "windows" {
		w, err := exec.LookPath("wine")
		if err != nil {
			return nil, errors.New("smoke: wine is not installed: install the Debian package wine (with wine64), or run the smoke on Windows")
		}
		r.Wine = w
		r.Prefix = filepath.Join(work, "wineprefix")
		if err := os.MkdirAll(r.Prefix, 0o755); err != nil {
			return nil, fmt.Errorf("smoke: %w", err)
		}
		// No Mono/Gecko installers, no debug chatter, 64-bit prefix.
		env = append(env, "WINEPREFIX="+r.Prefix, "WINEDEBUG=-all", "WINEDLLOVERRIDES=mscoree,mshtml=", "WINEARCH=win64")
		env = withCharset(env)
	}
	r.Env = env
	return r, nil
}

// withCharset gives wine's programs a LANG that names a character set
// (C.UTF-8) when the caller's has none (unset, C, POSIX), as a minimal
// root or a CI job has. GLib's console charset lookup reads $LANG's
// charset first; without one it asks GetConsoleOutputCP, which under
// wine, for a program whose output is a pipe, fails with
// ERROR_INVALID_ACCESS where Windows says ERROR_INVALID_HANDLE (no
// console), the one error GLib accepts silently. GLib then warns,
// printing the warning asks again, and the recursion aborts the program:
// qemu-ga.exe --version exited 3 that way in a fresh Debian root (and
// with an X display, wine's crash dialog kept it running until the
// smoke's limit). Windows never takes that path; wine needs the charset.
func withCharset(env []string) []string {
	for i, kv := range env {
		if v, ok := strings.CutPrefix(kv, "LANG="); ok {
			if strings.Contains(v, ".") {
				return env
			}
			env[i] = "LANG=C.UTF-8"
			return env
		}
	}
	return append(env, "LANG=C.UTF-8")
}

// Command runs exe with args in dir with a time bound; line gets each
// output line (may be nil). It returns the output.
func (r *Runner) Command(ctx context.Context, name, dir, exe string, args []string, timeout time.Duration, line func(string) bool) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	argv := append([]string{exe}, args...)
	if r.Wine != "" {
		argv = append([]string{r.Wine}, argv...)
	}
	var mu sync.Mutex
	var out strings.Builder
	err := run.Run(ctx, run.Cmd{Args: argv, Dir: dir, Env: r.Env, Log: filepath.Join(r.LogDir, logName(name)),
		Line: func(l string) {
			mu.Lock()
			out.WriteString(l + "\n")
			mu.Unlock()
			if line != nil && line(l) {
				cancel() // the caller saw what it waited for
			}
		}})
	mu.Lock()
	defer mu.Unlock()
	return out.String(), err
}

// boot creates the prefix with wineboot --init.
func (r *Runner) boot(ctx context.Context, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if err := os.MkdirAll(r.LogDir, 0o755); err != nil {
		return fmt.Errorf("smoke: %w", err)
	}
	logPath := filepath.Join(r.LogDir, "wineboot.log")
	log, err := os.Create(logPath)
	if err != nil {
		return fmt.Errorf("smoke: %w", err)
	}
	defer log.Close()
	cmd := exec.CommandContext(ctx, r.Wine, "wineboot", "--init")
	cmd.Env, cmd.Stdout, cmd.Stderr = r.Env, log, log
	if err := cmd.Run(); err != nil {
		b, _ := os.ReadFile(logPath)
		return fmt.Errorf("smoke: creating a fresh wine prefix (wine wineboot --init): %w\n%s", err, tail(string(b), 20))
	}
	return nil
}

// wineserver is the server program of the wine in use.
func (r *Runner) wineserver() string {
	ws := filepath.Join(filepath.Dir(r.Wine), "wineserver")
	if _, err := os.Stat(ws); err != nil {
		return "wineserver"
	}
	return ws
}

// Close stops the prefix's wineserver.
func (r *Runner) Close() {
	if r.Wine == "" {
		return
	}
	cmd := exec.Command(r.wineserver(), "-k")
	cmd.Env = r.Env
	cmd.Run()
}

// Options for Smoke.
type Options struct {
	Archive string
	Work    string // an empty folder to work in ("" = a temp folder, removed after)
	Kernel  string // vmlinuz for the boot check ("" = skip the boot: the report says so)
	Version string // expected in -version output ("" = not checked)
	Timeout time.Duration
	// Features are what the archive offers, by the profile's names
	// (internal/profile): the desk checks run for those they know
	// (DeskFeatures: a window, VNC with a password, zstd, curl, USB).
	// None of them (a headless archive, nil): the checks above only.
	Features []string
	// Artefacts is where the desk checks keep their screenshots ("" =
	// Work/artefacts, gone with a temporary Work).
	Artefacts string
	Log       func(string)
	// BuildFolders are the build machine's folders (checkout, cache) no
	// file of the archive may name (see CheckBuildMachine); nil skips it.
	BuildFolders []string
	// AArch64Kernel is an arm64 vmlinuz for the aarch64 boot check, run
	// when the archive has qemu-system-aarch64.exe ("" = skip that boot:
	// the report says so).
	AArch64Kernel string
}

// Step is one check that passed.
type Step struct {
	Name string
	Took time.Duration
	Note string
}

// Report lists the checks run.
type Report struct {
	Top   string
	Steps []Step
}

func (o Options) logf(format string, args ...any) {
	if o.Log != nil {
		o.Log(fmt.Sprintf(format, args...))
	}
}

// Smoke unpacks the archive and runs the checks.
func Smoke(ctx context.Context, o Options) (*Report, error) {
	if o.Timeout == 0 {
		o.Timeout = 3 * time.Minute
	}
	work := o.Work
	if work == "" {
		tmp, err := os.MkdirTemp("", "qemupack-smoke-")
		if err != nil {
			return nil, fmt.Errorf("smoke: %w", err)
		}
		defer os.RemoveAll(tmp)
		work = tmp
	}
	rep := &Report{}
	t0 := time.Now()
	top, err := Unpack(ctx, o.Archive, filepath.Join(work, "unpacked"))
	if err != nil {
		return nil, err
	}
	rep.Top = top
	if o.Version == "" {
		// qemu-7.2.22-debian-win64 -> 7.2.22, what -version prints.
		v := strings.TrimSuffix(strings.TrimPrefix(filepath.Base(top), "qemu-"), "-win64")
		o.Version, _, _ = strings.Cut(v, "-")
	}
	rep.Steps = append(rep.Steps, Step{Name: "unpack", Took: time.Since(t0)})
	o.logf("smoke: unpacked into %s", top)
	if o.BuildFolders != nil {
		t := time.Now()
		if err := CheckBuildMachine(top, o.BuildFolders); err != nil {
			return nil, err
		}
		rep.Steps = append(rep.Steps, Step{Name: "no build-machine paths or link times", Took: time.Since(t)})
		o.logf("smoke: no file names %s, no PE link time", strings.Join(o.BuildFolders, " or "))
	}

	exes, _ := filepath.Glob(filepath.Join(top, "qemu-system-*.exe"))
	sort.Strings(exes)
	img := filepath.Join(top, "qemu-img.exe")
	if len(exes) == 0 {
		return nil, fmt.Errorf("smoke: no qemu-system-*.exe in %s", top)
	}
	if _, err := os.Stat(img); err != nil {
		return nil, fmt.Errorf("smoke: no qemu-img.exe in %s", top)
	}
	r, err := NewRunner(work)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	// The window checks' X display, before the prefix is made (wine
	// binds a prefix to the display its first program saw).
	disp, err := startDeskDisplay(ctx, o.Features, work, r)
	if err != nil {
		return nil, err
	}
	if disp != nil {
		defer disp.Close()
	}
	// Programs run from the work folder, not their own, so only the
	// application-folder rule can find their DLLs.
	cwd := work

	if r.Wine != "" {
		t := time.Now()
		// A persistent wineserver for this prefix (stopped by Close): each
		// program then starts in well under a second instead of paying for
		// a new server.
		// Its output goes to /dev/null, not a pipe: the server lives on
		// after the starting process exits and would hold a pipe open.
		ws := exec.CommandContext(ctx, r.wineserver(), "-p")
		ws.Env = r.Env
		if err := ws.Run(); err != nil {
			return nil, fmt.Errorf("smoke: starting wineserver -p: %w", err)
		}
		// wineboot leaves wine's services running on the persistent server,
		// holding its output open: write it to a file, not a pipe.
		if err := r.boot(ctx, o.Timeout); err != nil {
			return nil, err
		}
		if wantsDesk(o.Features, FeatureGTK) {
			if err := r.registerWineFonts(ctx, o.Timeout); err != nil {
				return nil, err
			}
		}
		rep.Steps = append(rep.Steps, Step{Name: "fresh wine prefix", Took: time.Since(t)})
		o.logf("smoke: fresh wine prefix %s (%s)", r.Prefix, time.Since(t).Round(100*time.Millisecond))
	}
	check := func(name, exe string, args []string, want func(string) string) error {
		t := time.Now()
		out, err := r.Command(ctx, name, cwd, exe, args, o.Timeout, nil)
		if err != nil {
			return fmt.Errorf("smoke: %s: %w", name, err)
		}
		if msg := want(out); msg != "" {
			return fmt.Errorf("smoke: %s: %s; output:\n%s", name, msg, tail(out, 20))
		}
		rep.Steps = append(rep.Steps, Step{Name: name, Took: time.Since(t)})
		o.logf("smoke: %s ok (%s)", name, time.Since(t).Round(100*time.Millisecond))
		return nil
	}
	contains := func(s string) func(string) string {
		return func(out string) string {
			if !strings.Contains(out, s) {
				return fmt.Sprintf("output lacks %q", s)
			}
			return ""
		}
	}
	var consoleExes []string
	for _, exe := range exes {
		base := strings.TrimSuffix(filepath.Base(exe), ".exe")
		if strings.HasSuffix(base, "w") {
			// The GUI-subsystem twin (qemu-system-x86_64w.exe) has no
			// console to print to: it must start and exit cleanly.
			if err := check(base+" -version", exe, []string{"-version"}, func(string) string { return "" }); err != nil {
				return rep, err
			}
			continue
		}
		consoleExes = append(consoleExes, exe)
		want := "QEMU emulator version"
		if o.Version != "" {
			want += " " + o.Version
		}
		if err := check(base+" -version", exe, []string{"-version"}, contains(want)); err != nil {
			return rep, err
		}
		if err := check(base+" -machine help", exe, []string{"-machine", "help"}, contains("Supported machines are:")); err != nil {
			return rep, err
		}
		// -L help lists the data folders: the share/ beside the exe must
		// be among them.
		if err := check(base+" -L help", exe, []string{"-L", "help"}, func(out string) string {
			for _, l := range strings.Split(out, "\n") {
				l = strings.ToLower(strings.ReplaceAll(strings.TrimSpace(l), "\\", "/"))
				if strings.Contains(l, strings.ToLower(filepath.Base(top))) && strings.HasSuffix(strings.TrimSuffix(l, "/"), "/share") {
					return ""
				}
			}
			return "the share folder beside the exe is not among the data folders"
		}); err != nil {
			return rep, err
		}
	}
	if err := runDesk(ctx, o, r, disp, rep, cwd, top, img); err != nil {
		return rep, err
	}
	if err := check("qemu-img --version", img, []string{"--version"}, contains("qemu-img version")); err != nil {
		return rep, err
	}
	// The guest agent (desk builds): it must start and know its version.
	if ga := filepath.Join(top, "qemu-ga.exe"); fileExists(ga) {
		if err := check("qemu-ga --version", ga, []string{"--version"}, contains("QEMU Guest Agent "+o.Version)); err != nil {
			return rep, err
		}
	}
	sys := ""
	for _, e := range consoleExes {
		if strings.HasSuffix(e, "qemu-system-x86_64.exe") || strings.HasSuffix(e, "qemu-system-i386.exe") {
			sys = e
			break
		}
	}
	switch {
	case o.Kernel == "":
		rep.Steps = append(rep.Steps, Step{Name: "boot", Note: "skipped: no kernel given"})
	case sys == "":
		rep.Steps = append(rep.Steps, Step{Name: "boot", Note: "skipped: no x86 system emulator in the archive"})
	default:
		if err := bootCheck(ctx, r, rep, o, cwd, "boot", sys, o.Kernel, BootArgs); err != nil {
			return rep, err
		}
	}
	if arm := filepath.Join(top, "qemu-system-aarch64.exe"); fileExists(arm) {
		if o.AArch64Kernel == "" {
			rep.Steps = append(rep.Steps, Step{Name: "aarch64 boot", Note: "skipped: no arm64 kernel given"})
			return rep, nil
		}
		if err := bootCheck(ctx, r, rep, o, cwd, "aarch64 boot", arm, o.AArch64Kernel, AArch64BootArgs); err != nil {
			return rep, err
		}
	}
	return rep, nil
}

func fileExists(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.Mode().IsRegular()
}

// bootCheck boots kernel with exe and args(kernel) until the serial
// console prints "Linux version".
func bootCheck(ctx context.Context, r *Runner, rep *Report, o Options, cwd, name, exe, kernel string, args func(string) []string) error {
	// The kernel is copied beside the work folder and named relatively, so
	// no host path has to be understood by the Windows program.
	kb, err := os.ReadFile(kernel)
	if err != nil {
		return fmt.Errorf("smoke: %s: kernel: %w", name, err)
	}
	local := "vmlinuz-" + strings.ReplaceAll(name, " ", "-")
	if err := os.WriteFile(filepath.Join(cwd, local), kb, 0o644); err != nil {
		return fmt.Errorf("smoke: %w", err)
	}
	t := time.Now()
	seen := ""
	out, err := r.Command(ctx, name, cwd, exe, args(local), o.Timeout, func(l string) bool {
		if i := strings.Index(l, "Linux version"); i >= 0 && seen == "" {
			seen = strings.TrimSpace(l[i:])
			return true
		}
		return false
	})
	if seen == "" {
		if err == nil {
			err = errors.New("QEMU ended")
		}
		return fmt.Errorf("smoke: %s: no \"Linux version\" on the serial console within %s (%v); output:\n%s", name, o.Timeout, err, tail(out, 30))
	}
	if len(seen) > 80 {
		seen = seen[:80] + "…"
	}
	rep.Steps = append(rep.Steps, Step{Name: name + " to \"Linux version\"", Took: time.Since(t), Note: seen})
	o.logf("smoke: %s ok (%s): %s", name, time.Since(t).Round(100*time.Millisecond), seen)
	return nil
}

// AArch64BootArgs is the aarch64 boot: -M virt with the CPU that has
// every feature TCG emulates, the PL011 serial console on stdio, the
// default NIC (virtio-net-pci) on a user network that reaches nothing, and
// the kernel's panic ending QEMU.
func AArch64BootArgs(kernel string) []string {
	return []string{"-M", "virt", "-cpu", "max", "-accel", "tcg", "-m", "256", "-nographic", "-no-reboot",
		"-nic", "user,restrict=on",
		"-kernel", kernel, "-append", "console=ttyAMA0 panic=-1"}
}

// BootArgs is the headless boot: TCG, the serial console on stdio, the
// default NIC (its option ROM comes from share/) on a user network that
// reaches nothing, and a kernel that panics for want of a root file system
// and then exits QEMU.
func BootArgs(kernel string) []string {
	return []string{"-accel", "tcg", "-m", "256", "-nographic", "-no-reboot",
		"-nic", "user,restrict=on,model=e1000",
		"-kernel", kernel, "-append", "console=ttyS0 panic=-1"}
}

func logName(step string) string {
	return strings.NewReplacer(" ", "_", "\"", "", "/", "_").Replace(step) + ".log"
}

func tail(s string, n int) string {
	ls := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(ls) > n {
		ls = ls[len(ls)-n:]
	}
	return strings.Join(ls, "\n")
}
