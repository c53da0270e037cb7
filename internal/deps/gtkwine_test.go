package deps_test

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"qemupack/internal/atomicfile"
	"qemupack/internal/bundle"
	"qemupack/internal/config"
	"qemupack/internal/deps"
	"qemupack/internal/host"
	"qemupack/internal/run"
)

// gtkProofEnv turns on TestGTKWindowUnderWine. It builds (or reuses) the
// GTK stack from the recipes, which takes 30 to 60 minutes on 2 busy
// cores the first time, so it runs only when asked:
//
//	QEMUPACK_GTK_PROOF=1 QEMUPACK_CACHE=... QEMUPACK_MIRROR=/work/mirror QEMUPACK_OFFLINE=1 JOBS=2 \
//	  go test ./internal/deps/ -run TestGTKWindowUnderWine -timeout 2h -v
//
// QEMUPACK_GTK_PROOF_OUT keeps the program, its DLLs, its output and the
// screenshots in that folder (default: a temporary one).
const gtkProofEnv = "QEMUPACK_GTK_PROOF"

// proofTools are the programs the proof runs, with their Debian packages.
var proofTools = [][2]string{
	{"Xvfb", "xvfb"}, {"wine", "wine"}, {"wineserver", "wine"}, {"xwininfo", "x11-utils"},
	{"xdotool", "xdotool"}, {"import", "imagemagick"}, {"identify", "imagemagick"},
	{"glib-compile-schemas", "libglib2.0-bin"},
}

type logWriter struct{ t *testing.T }

func (w logWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// TestGTKWindowUnderWine is the proof that the GTK stack runs on Windows:
// testdata/gtk3/window.c, cross-compiled against the stack, with exactly
// the DLLs the bundle's closure finds copied beside it and nothing else
// (no schemas, loaders or icons), opens its window under Xvfb and wine.
// The test checks the window's title and size, that a screenshot is not
// blank, that a click on the View menu opens it (the second screenshot
// differs), that GDK runs on its win32 backend and that gdk-pixbuf lists
// its built-in PNG and JPEG loaders once each; then that GLib finds GTK's
// schemas once they are compiled into share/glib-2.0/schemas beside it.
func TestGTKWindowUnderWine(t *testing.T) {
	if os.Getenv(gtkProofEnv) != "1" {
		t.Skipf("set %s=1 (with QEMUPACK_CACHE, QEMUPACK_MIRROR) to build the GTK stack and run a GTK window under wine", gtkProofEnv)
	}
	var missing []string
	for _, tool := range proofTools {
		if _, err := exec.LookPath(tool[0]); err != nil {
			missing = append(missing, tool[0]+" (Debian: "+tool[1]+")")
		}
	}
	if len(missing) > 0 {
		t.Fatalf("the proof needs %s", strings.Join(missing, ", "))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Hour)
	defer cancel()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	c, err := config.FromEnv(root, os.Getenv)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := host.Probe(ctx, c, host.Options{})
	if err != nil {
		t.Fatal(err)
	}
	o, err := deps.OptionsFor(c, rep, logWriter{t})
	if err != nil {
		t.Fatal(err)
	}
	o.Want = deps.GTKModules
	start := time.Now()
	st, err := deps.Build(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("GTK stack %s: %d built, %d cached, %d from the host in %s", st.Dir, st.Built, st.Cached, st.Host, time.Since(start).Round(time.Second))

	out := os.Getenv("QEMUPACK_GTK_PROOF_OUT")
	if out == "" {
		out = t.TempDir()
	}
	app := filepath.Join(out, "app")
	if err := os.RemoveAll(app); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(app, 0o755); err != nil {
		t.Fatal(err)
	}
	exe := filepath.Join(app, "window.exe")
	env := run.Environ("PKG_CONFIG_LIBDIR="+strings.Join(st.PkgConfigLibdir, string(os.PathListSeparator)), "PKG_CONFIG_PATH=", "PKG_CONFIG_SYSROOT_DIR=")
	flags, err := run.Output(ctx, run.Cmd{Args: []string{"pkg-config", "--define-prefix", "--cflags", "--libs", "gtk+-3.0"}, Env: env})
	if err != nil {
		t.Fatal(err)
	}
	args := append([]string{rep.CrossPrefix + "gcc", "-O2", "-Wall", "-o", exe, filepath.Join(root, "testdata", "gtk3", "window.c")}, strings.Fields(flags)...)
	if err := run.Run(ctx, run.Cmd{Args: append(args, "-Wl,--no-insert-timestamp"), Env: env, Log: filepath.Join(out, "compile.log")}); err != nil {
		t.Fatal(err)
	}
	cl, err := bundle.Resolve([]string{exe}, rep.DLLSearch([]string{st.Dir}))
	if err != nil {
		t.Fatal(err)
	}
	var total int64
	for _, d := range cl.DLLs {
		if err := atomicfile.Copy(d.Path, filepath.Join(app, filepath.Base(d.Path))); err != nil {
			t.Fatal(err)
		}
		fi, err := os.Stat(d.Path)
		if err != nil {
			t.Fatal(err)
		}
		total += fi.Size()
		t.Logf("%-26s %6d KiB  %s", d.Name, fi.Size()/1024, d.Path)
	}
	t.Logf("%d DLLs beside window.exe, %.1f MiB", len(cl.DLLs), float64(total)/(1<<20))

	w := newWineX(t, ctx, filepath.Join(out, "wineprefix"))
	stdout, err := os.Create(filepath.Join(out, "window.stdout"))
	if err != nil {
		t.Fatal(err)
	}
	defer stdout.Close()
	stderr, err := os.Create(filepath.Join(out, "window.stderr"))
	if err != nil {
		t.Fatal(err)
	}
	defer stderr.Close()
	win := w.command(ctx, "wine", "./window.exe", "60")
	win.Dir, win.Stdout, win.Stderr = app, stdout, stderr
	if err := win.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		win.Process.Kill()
		win.Wait()
	}()
	const title = "qemupack GTK proof"
	var line string
	for deadline := time.Now().Add(3 * time.Minute); line == "" && time.Now().Before(deadline); time.Sleep(time.Second) {
		tree := w.output(ctx, "xwininfo", "-root", "-tree")
		for _, l := range strings.Split(tree, "\n") {
			if strings.Contains(l, `"`+title+`"`) {
				line = strings.TrimSpace(l)
			}
		}
	}
	if line == "" {
		t.Fatalf("no window titled %q appeared within 3 minutes; see %s", title, stderr.Name())
	}
	t.Logf("xwininfo: %s", line)
	// The program asks for 480x300. Under wine a broken system font
	// once gave a window 45000 pixels tall; a wrong size is a failure.
	if !strings.Contains(line, "480x300+") {
		t.Errorf("the window is not 480x300: %s", line)
	}
	time.Sleep(3 * time.Second)
	shot := filepath.Join(out, "shot-window.png")
	w.output(ctx, "import", "-window", "root", shot)
	if n := colours(t, w, ctx, shot); n < 16 {
		t.Errorf("%s has %d colours: the window was not drawn", shot, n)
	}
	geo := w.output(ctx, "xdotool", "search", "--name", title, "getwindowgeometry", "--shell")
	x, y := shellInt(geo, "X"), shellInt(geo, "Y")
	// "View" is the second item of the menu bar, about 75 pixels in.
	w.output(ctx, "xdotool", "mousemove", strconv.Itoa(x+75), strconv.Itoa(y+12), "click", "1")
	time.Sleep(3 * time.Second)
	menuShot := filepath.Join(out, "shot-menu.png")
	w.output(ctx, "import", "-window", "root", menuShot)
	if a, b := readFile(t, shot), readFile(t, menuShot); a == b {
		t.Errorf("a click on View changed nothing on the screen (%s, %s)", shot, menuShot)
	}
	t.Logf("screenshots: %s %s", shot, menuShot)
	win.Process.Kill()
	win.Wait()

	text := readFile(t, stdout.Name())
	if !strings.Contains(text, "backend-win32 1") {
		t.Errorf("GDK did not run on its win32 backend: %q", text)
	}
	for _, format := range []string{"png", "jpeg"} {
		if n := countFormat(text, format); n != 1 {
			t.Errorf("gdk-pixbuf lists %s %d times, want once (built in, registered once): %q", format, n, text)
		}
	}
	if !strings.Contains(text, "schema org.gtk.Settings.FileChooser: missing") {
		t.Errorf("the window should have started with no GSettings schemas beside it: %q", text)
	}

	// GTK's choosers need its schemas, compiled: by the build machine's
	// glib-compile-schemas (the same file the Windows one writes), put
	// where GLib on Windows looks, share/glib-2.0/schemas beside the DLLs.
	schemas := filepath.Join(app, "share", "glib-2.0", "schemas")
	if err := os.MkdirAll(schemas, 0o755); err != nil {
		t.Fatal(err)
	}
	xmls, _ := filepath.Glob(filepath.Join(st.Dir, "share", "glib-2.0", "schemas", "org.gtk.Settings.*.gschema.xml"))
	if len(xmls) != 4 {
		t.Errorf("GTK installed %d schemas, want 4 (FileChooser, ColorChooser, EmojiChooser, Debug): %v", len(xmls), xmls)
	}
	args = []string{"glib-compile-schemas", "--strict", "--targetdir", schemas}
	if err := run.Run(ctx, run.Cmd{Args: append(args, filepath.Dir(xmls[0]))}); err != nil {
		t.Fatal(err)
	}
	again := w.command(ctx, "wine", "./window.exe", "1")
	again.Dir = app
	b, err := again.Output()
	if err != nil || !strings.Contains(string(b), "schema org.gtk.Settings.FileChooser: found") {
		t.Errorf("with %s, GLib did not find GTK's schemas (%v): %q", filepath.Join(schemas, "gschemas.compiled"), err, b)
	}
}

// wineX is an Xvfb display and a wine prefix on it.
type wineX struct {
	t       *testing.T
	display string
	prefix  string
}

// newWineX starts Xvfb (stopped at the end of the test), makes a wine
// prefix and registers wine's own Tahoma in it. wine's GDI reports Tahoma
// as the system's message font, but wine 8's DirectWrite, through which
// pango 1.50 looks fonts up, lists only fonts registered in the prefix:
// without this GDK's system font comes out as "(null) 9", every text is
// drawn as boxes and windows get absurd sizes. Windows has its fonts
// registered; nothing of this goes into the bundle.
func newWineX(t *testing.T, ctx context.Context, prefix string) *wineX {
	r, wr, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	xvfb := exec.CommandContext(ctx, "Xvfb", "-displayfd", "3", "-screen", "0", "1024x768x24", "-nolisten", "tcp")
	xvfb.ExtraFiles = []*os.File{wr}
	if err := xvfb.Start(); err != nil {
		t.Fatal(err)
	}
	wr.Close()
	t.Cleanup(func() {
		xvfb.Process.Kill()
		xvfb.Wait()
	})
	num, err := bufio.NewReader(r).ReadString('\n')
	r.Close()
	if err != nil {
		t.Fatalf("Xvfb gave no display number: %v", err)
	}
	w := &wineX{t: t, display: ":" + strings.TrimSpace(num), prefix: prefix}
	if err := os.RemoveAll(prefix); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.command(context.Background(), "wineserver", "-k").Run() })
	w.output(ctx, "wineboot", "-i")
	w.output(ctx, "wineserver", "-w")
	fonts := filepath.Join(prefix, "drive_c", "windows", "Fonts")
	for _, f := range []struct{ file, name string }{{"tahoma.ttf", "Tahoma (TrueType)"}, {"tahomabd.ttf", "Tahoma Bold (TrueType)"}} {
		src := wineFont(t, f.file)
		if err := atomicfile.Copy(src, filepath.Join(fonts, f.file)); err != nil {
			t.Fatal(err)
		}
		w.output(ctx, "wine", "reg", "add", `HKLM\Software\Microsoft\Windows NT\CurrentVersion\Fonts`, "/v", f.name, "/t", "REG_SZ", "/d", f.file, "/f")
	}
	w.output(ctx, "wineserver", "-w")
	return w
}

// wineFont finds one of wine's own fonts (Debian: /usr/share/wine/fonts).
func wineFont(t *testing.T, name string) string {
	for _, dir := range []string{"/usr/share/wine/fonts", "/usr/lib/wine/fonts", "/opt/wine-stable/share/wine/fonts"} {
		p := filepath.Join(dir, name)
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	t.Fatalf("wine's %s not found (Debian: fonts-wine)", name)
	return ""
}

func (w *wineX) command(ctx context.Context, name string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = run.Environ("DISPLAY="+w.display, "WINEPREFIX="+w.prefix, "WINEDEBUG=-all", "WINEDLLOVERRIDES=mscoree,mshtml=")
	return cmd
}

// output runs a program on the display and returns its output; a failure
// fails the test with the output.
func (w *wineX) output(ctx context.Context, name string, args ...string) string {
	w.t.Helper()
	cmd := w.command(ctx, name, args...)
	b, err := cmd.CombinedOutput()
	if err != nil {
		w.t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, b)
	}
	return string(b)
}

func colours(t *testing.T, w *wineX, ctx context.Context, png string) int {
	n, err := strconv.Atoi(strings.TrimSpace(w.output(ctx, "identify", "-format", "%k", png)))
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func shellInt(text, name string) int {
	for _, l := range strings.Split(text, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(l), name+"="); ok {
			n, _ := strconv.Atoi(v)
			return n
		}
	}
	return 0
}

func countFormat(text, format string) int {
	for _, l := range strings.Split(text, "\n") {
		if rest, ok := strings.CutPrefix(l, "pixbuf formats:"); ok {
			n := 0
			for _, f := range strings.Fields(rest) {
				if f == format {
					n++
				}
			}
			return n
		}
	}
	return -1
}

func readFile(t *testing.T, path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
