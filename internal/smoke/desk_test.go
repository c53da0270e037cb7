package smoke

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"image"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"qemupack/internal/pe/petest"
)

// artefactDir is where a test keeps its screenshots:
// QEMUPACK_TEST_ARTEFACTS/<test>, else .cache/test-artefacts/<test> in
// the checkout (ignored by git), so they outlive the test.
func artefactDir(t *testing.T) string {
	root := os.Getenv("QEMUPACK_TEST_ARTEFACTS")
	if root == "" {
		root = filepath.Join("..", "..", ".cache", "test-artefacts")
	}
	dir, err := filepath.Abs(filepath.Join(root, strings.ReplaceAll(t.Name(), "/", "_")))
	if err != nil {
		t.Fatal(err)
	}
	os.RemoveAll(dir)
	return dir
}

func TestSplashBMPAndMatch(t *testing.T) {
	img := Splash()
	b := EncodeBMP(img)
	if string(b[:2]) != "BM" || binary.LittleEndian.Uint32(b[2:]) != uint32(len(b)) || len(b) != 54+640*3*480 {
		t.Fatalf("BMP header: %x, %d bytes", b[:54], len(b))
	}
	// Bottom-up: the file's first pixel is the image's bottom-left one,
	// blue, green, red.
	if c := img.RGBAAt(0, 479); !bytes.Equal(b[54:57], []byte{c.B, c.G, c.R}) {
		t.Errorf("first pixel %x, want %v", b[54:57], c)
	}
	if c := Measure(img, img.Bounds()); c.Colours < 1000 {
		t.Errorf("splash: %s", c)
	}
	canvas := image.NewRGBA(image.Rect(0, 0, 800, 600))
	if m := Match(canvas, image.Pt(10, 20), img, 8); m > 0.05 {
		t.Errorf("a black screen matches %.2f", m)
	}
	for y := 0; y < 480; y++ {
		for x := 0; x < 640; x++ {
			c := img.RGBAAt(x, y)
			c.R &^= 7 // a 16-bit mode's loss
			canvas.SetRGBA(10+x, 20+y, c)
		}
	}
	if m := Match(canvas, image.Pt(10, 20), img, 8); m != 1 {
		t.Errorf("the splash on a canvas matches %.3f", m)
	}
	if m := Match(canvas, image.Pt(42, 20), img, 8); m > 0.6 {
		t.Errorf("a shifted splash matches %.3f", m)
	}
	if m := Match(canvas, image.Pt(500, 20), img, 8); m != 0 {
		t.Errorf("an offset outside the canvas matches %.3f", m)
	}
	t0 := time.Now()
	if off, m := FindImage(canvas, img, 8); off != image.Pt(10, 20) || m != 1 {
		t.Errorf("FindImage: %v %.3f, want (10,20) 1", off, m)
	}
	t.Logf("FindImage over 800x600: %s", time.Since(t0))
	if _, m := FindImage(image.NewRGBA(image.Rect(0, 0, 800, 600)), img, 8); m > 0.05 {
		t.Errorf("FindImage on a black screen: %.3f", m)
	}
}

// hostDesk is a Desk on the host's own QEMU (Debian's packages), no wine:
// the checks' code against a QEMU that has every feature, so they are
// known to pass before an archive is there to try.
func hostDesk(t *testing.T, withDisplay bool) *Desk {
	sys := petest.Need(t, "qemu-system-x86_64", "qemu-system-x86 (with qemu-system-gui for SDL)")
	img := petest.Need(t, "qemu-img", "qemu-utils (with qemu-block-extra for curl)")
	dir := t.TempDir()
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "DISPLAY=") && !strings.HasPrefix(kv, "WAYLAND_DISPLAY=") {
			env = append(env, kv)
		}
	}
	d := &Desk{R: &Runner{Env: env, LogDir: filepath.Join(dir, "logs")}, Dir: dir, System: sys, Img: img,
		Artefacts: artefactDir(t), Timeout: 90 * time.Second, Log: func(s string) { t.Log(s) }}
	if withDisplay {
		petest.Need(t, "Xvfb", "xvfb")
		petest.Need(t, "xwininfo", "x11-utils")
		disp, err := StartDisplay(context.Background(), dir, 1024, 768)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(disp.Close)
		d.Display = disp
		d.R.Env = append(d.R.Env, disp.Env())
	}
	return d
}

func TestDeskChecksOnHostQEMU(t *testing.T) {
	ctx := context.Background()
	d := hostDesk(t, true)
	steps, err := d.Run(ctx, []string{"slirp", FeatureSDL, FeatureVNCPassword, FeatureZstd, FeatureCurl, FeatureUSB})
	if err != nil {
		t.Fatal(err)
	}
	if len(steps) != 6 {
		t.Errorf("%d steps, want 6 (two windows, vnc, zstd, curl, usb)", len(steps))
	}
	for _, f := range []string{"window_default_display-window.png", "window_-display_sdl-window.png", "vnc-framebuffer.png"} {
		if _, err := os.Stat(filepath.Join(d.Artefacts, f)); err != nil {
			t.Errorf("artefact: %v", err)
		}
	}
	// No desk feature: nothing runs.
	if steps, err := d.Run(ctx, []string{"slirp", "vnc", "tools"}); err != nil || len(steps) != 0 {
		t.Errorf("headless features ran %v, %v", steps, err)
	}
}

// The checks fail where the feature is missing: a window check with QEMU
// asked for no display sees no splash, a VNC check against a server whose
// password was never set is refused.
func TestDeskChecksFail(t *testing.T) {
	ctx := context.Background()
	d := hostDesk(t, true)
	d.Timeout = 20 * time.Second
	if _, err := d.Window(ctx, "no window", []string{"-display", "none"}); err == nil || !strings.Contains(err.Error(), "no window showed the splash") {
		t.Errorf("-display none: %v", err)
	}
	if _, err := os.Stat(filepath.Join(d.Artefacts, "no_window-failed.png")); err != nil {
		t.Errorf("failure screenshot: %v", err)
	}
	d.Img = "false" // a qemu-img that fails
	if _, err := d.Zstd(ctx); err == nil {
		t.Error("zstd with a failing qemu-img passed")
	}
}

// wineDesk unpacks archive and makes a Desk on its programs under wine
// with a fresh prefix bound to a new X display.
func wineDesk(t *testing.T, archive string) *Desk {
	petest.Need(t, "wine", "wine (and wine64)")
	petest.Need(t, "Xvfb", "xvfb")
	petest.Need(t, "xwininfo", "x11-utils")
	ctx := context.Background()
	work := t.TempDir()
	top, err := Unpack(ctx, archive, filepath.Join(work, "unpacked"))
	if err != nil {
		t.Fatal(err)
	}
	r, err := NewRunner(work)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(r.Close)
	disp, err := startDeskDisplay(ctx, []string{FeatureSDL}, work, r)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(disp.Close)
	ws := exec.Command(r.wineserver(), "-p")
	ws.Env = r.Env
	if err := ws.Run(); err != nil {
		t.Fatal(err)
	}
	if err := r.boot(ctx, 3*time.Minute); err != nil {
		t.Fatal(err)
	}
	return &Desk{R: r, Dir: work, System: filepath.Join(top, "qemu-system-x86_64.exe"), Img: filepath.Join(top, "qemu-img.exe"),
		Display: disp, Artefacts: artefactDir(t), Timeout: 90 * time.Second, Log: func(s string) { t.Log(s) }}
}

// A headless archive (QEMUPACK_TEST_HEADLESS_ARCHIVE: a zip the default
// pipeline made with QEMUPACK_PROFILE=headless) fails every desk check
// under wine, each for its own reason: the checks see the features, not
// just the programs starting.
func TestDeskChecksFailOnHeadlessArchive(t *testing.T) {
	archive := os.Getenv("QEMUPACK_TEST_HEADLESS_ARCHIVE")
	if archive == "" {
		t.Skip("set QEMUPACK_TEST_HEADLESS_ARCHIVE to a headless qemu-*-win64.zip")
	}
	d := wineDesk(t, archive)
	d.Timeout = 30 * time.Second
	ctx := context.Background()
	for name, check := range map[string]func() (Step, error){
		"window": func() (Step, error) { return d.Window(ctx, "headless window", nil) },
		"vnc":    func() (Step, error) { return d.VNCPassword(ctx) },
		"zstd":   func() (Step, error) { return d.Zstd(ctx) },
		"curl":   func() (Step, error) { return d.Curl(ctx) },
		"usb":    func() (Step, error) { return d.USB(ctx) },
	} {
		s, err := check()
		if err == nil {
			t.Errorf("%s passed on a headless archive: %s", name, s.Note)
			continue
		}
		t.Logf("%s refused, as it should be: %s", name, tail(err.Error(), 3))
	}
}

// The desk checks under wine on a desk archive
// (QEMUPACK_TEST_DESK_ARCHIVE: a zip the pipeline made with the desk
// profile), through Smoke as the pipeline runs it. The screenshots stay
// in .cache/test-artefacts (or QEMUPACK_TEST_ARTEFACTS).
func TestDeskSmokeUnderWine(t *testing.T) {
	archive := os.Getenv("QEMUPACK_TEST_DESK_ARCHIVE")
	if archive == "" {
		t.Skip("set QEMUPACK_TEST_DESK_ARCHIVE to a desk qemu-*-win64.zip")
	}
	petest.Need(t, "wine", "wine (and wine64)")
	rep, err := Smoke(context.Background(), Options{Archive: archive, Work: t.TempDir(), Artefacts: artefactDir(t),
		Features: []string{"slirp", "vnc", FeatureSDL, FeatureVNCPassword, FeatureZstd, FeatureCurl, FeatureUSB},
		Log:      func(s string) { t.Log(s) }})
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, s := range rep.Steps {
		names[s.Name] = true
	}
	for _, n := range []string{"window (default display)", "window (-display sdl)", "vnc with a password", "zstd qcow2", "curl http disk", "usb devices"} {
		if !names[n] {
			t.Errorf("no step %q in the report", n)
		}
	}
}

// A headless archive's features (the profile's base list) run no desk
// check and start no X display: the smoke is the headless one.
func TestSmokeHeadlessFeaturesRunNoDeskCheck(t *testing.T) {
	archive := os.Getenv("QEMUPACK_TEST_HEADLESS_ARCHIVE")
	if archive == "" {
		t.Skip("set QEMUPACK_TEST_HEADLESS_ARCHIVE to a headless qemu-*-win64.zip")
	}
	petest.Need(t, "wine", "wine (and wine64)")
	work := t.TempDir()
	rep, err := Smoke(context.Background(), Options{Archive: archive, Work: work, Features: []string{"slirp", "vnc", "fdt", "tools"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range rep.Steps {
		if strings.Contains(s.Name, "window") || strings.Contains(s.Name, "zstd") || strings.Contains(s.Name, "usb") {
			t.Errorf("a desk step ran: %s", s.Name)
		}
	}
	if _, err := os.Stat(filepath.Join(work, "xvfb")); err == nil {
		t.Error("an X display was started")
	}
}

// QEMU's warning that it cannot watch curl's socket fails the curl check
// even when the transfer happened to finish.
func TestCurlSocketBug(t *testing.T) {
	if err := curlSocketBug(nil, "all fine\n"); err != nil {
		t.Errorf("clean output: %v", err)
	}
	other := errors.New("exit status 1")
	if err := curlSocketBug(other, "Unknown protocol 'http'\n"); err != other {
		t.Errorf("another failure: %v", err)
	}
	out := "qemu-img.exe: fd=108 is not a socket, AIO implementation is missing\nqemu-img.exe: fd=108 is not a socket, AIO implementation is missing\n"
	if err := curlSocketBug(nil, out); err == nil || !strings.Contains(err.Error(), "2 times") || !strings.Contains(err.Error(), "_open_osfhandle") {
		t.Errorf("lucky pass: %v", err)
	}
	if err := curlSocketBug(other, out); !errors.Is(err, other) {
		t.Errorf("failure with the warning: %v", err)
	}
}

// The GTK check on the host's own QEMU (Debian's, with its GTK display):
// the window, its menu, Machine > Pause and the monitor tab, before an
// archive with GTK is there.
func TestGTKCheckOnHostQEMU(t *testing.T) {
	petest.Need(t, "xdotool", "xdotool")
	petest.Need(t, "xprop", "x11-utils")
	d := hostDesk(t, true)
	out, err := exec.Command(d.System, "-version").Output()
	if err != nil {
		t.Fatal(err)
	}
	f := strings.Fields(string(out))
	if len(f) < 4 {
		t.Fatalf("-version: %q", out)
	}
	d.Version = f[3] // "QEMU emulator version 7.2.22 (...)"
	s, err := d.GTK(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Log(s.Note)
}

// The GTK check fails on SDL's window (titled "QEMU" too, but with no
// menu bar to click), keeping the screen.
func TestGTKCheckFailsOnSDLWindow(t *testing.T) {
	petest.Need(t, "xdotool", "xdotool")
	petest.Need(t, "xprop", "x11-utils")
	d := hostDesk(t, true)
	d.Version = "7.2"
	_, err := d.gtk(context.Background(), []string{"-display", "sdl"})
	if err == nil || !strings.Contains(err.Error(), "no menu bar above the guest's screen") {
		t.Fatalf("the GTK check on an SDL window: %v", err)
	}
	if _, err := os.Stat(filepath.Join(d.Artefacts, "gtk-failed.png")); err != nil {
		t.Error(err)
	}
}

func TestParseXpropAndChanged(t *testing.T) {
	for in, want := range map[string]string{
		`WM_NAME(STRING) = "QEMU"` + "\n":        "QEMU",
		`WM_NAME(UTF8_STRING) = "QEMU [Paused]"`: "QEMU [Paused]",
		`WM_NAME(STRING) = "say \"hi\""`:         `say "hi"`,
	} {
		if got, err := ParseXprop(in); err != nil || got != want {
			t.Errorf("ParseXprop(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if _, err := ParseXprop("WM_NAME:  not found.\n"); err == nil {
		t.Error("a missing property parsed")
	}
	a, b := image.NewRGBA(image.Rect(0, 0, 100, 100)), image.NewRGBA(image.Rect(0, 0, 100, 100))
	if r := Changed(a, b, a.Bounds()); !r.Empty() {
		t.Errorf("equal screens changed at %v", r)
	}
	b.Pix[b.PixOffset(10, 20)] = 1
	b.Pix[b.PixOffset(30, 5)+2] = 1
	if r := Changed(a, b, a.Bounds()); r != image.Rect(10, 5, 31, 21) {
		t.Errorf("Changed = %v", r)
	}
	if r := Changed(a, b, image.Rect(50, 50, 100, 100)); !r.Empty() {
		t.Errorf("a change outside the area: %v", r)
	}
}

// The GTK check under wine on an archive with the GTK window
// (QEMUPACK_TEST_GTK_ARCHIVE: a zip the pipeline made with GTK in its
// profile), with its screenshots kept in .cache/test-artefacts, and what
// the GTK stack printed on the way (a missing schema, loader or icon
// would be named there).
func TestGTKSmokeUnderWine(t *testing.T) {
	archive := os.Getenv("QEMUPACK_TEST_GTK_ARCHIVE")
	if archive == "" {
		t.Skip("set QEMUPACK_TEST_GTK_ARCHIVE to a qemu-*-win64.zip built with GTK")
	}
	petest.Need(t, "xdotool", "xdotool")
	petest.Need(t, "xprop", "x11-utils")
	d := wineDesk(t, archive)
	ctx := context.Background()
	if err := d.R.registerWineFonts(ctx, time.Minute); err != nil {
		t.Fatal(err)
	}
	out, err := d.R.Command(ctx, "version", d.Dir, d.System, []string{"-version"}, time.Minute, nil)
	if err != nil {
		t.Fatal(err)
	}
	f := strings.Fields(out)
	if len(f) < 4 {
		t.Fatalf("-version: %q", out)
	}
	d.Version = f[3]
	s, err := d.GTK(ctx)
	if b, rerr := os.ReadFile(filepath.Join(d.R.LogDir, logName("gtk window"))); rerr == nil {
		t.Logf("QEMU's output:\n%s", b)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Log(s.Note)
}
