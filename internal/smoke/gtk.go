package smoke

import (
	"context"
	"errors"
	"fmt"
	"image"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// FeatureGTK is the GTK window (issue 12): QEMU's default display when
// it is built in.
const FeatureGTK = "gtk"

// GTKTools are the programs the GTK check drives the window with, beyond
// the display's (DisplayTools), with their Debian packages: xdotool
// moves the pointer, clicks and types through the XTEST extension, xprop
// reads a window's title as the X server has it.
var GTKTools = map[string]string{"xdotool": "xdotool", "xprop": "x11-utils"}

// gtkMonitorLog is where the monitor tab's chardev logs what QEMU's
// monitor writes to the tab (the chardev's logfile= option): the proof
// that what was typed into the tab reached the monitor and what it
// answered.
const gtkMonitorLog = "gtk-monitor.log"

// GTK proves QEMU's default display is GTK's window, the way a user uses
// it: QEMU starts with no -display, with the splash (so the guest's
// screen in the window is known), a monitor on a virtual console (QMP,
// which the check needs, takes the place of the default monitor, so the
// monitor tab is asked for as the default one is: a "vc" chardev called
// compatmonitor0) and the default serial console. The window must be
// titled "QEMU" (xwininfo and xprop), show the splash below a menu bar
// that is drawn (not one colour), and answer the mouse: a click on
// Machine, then on its first item, Pause, must stop the guest (QMP
// query-status says paused) and put "[Paused]" in the title. Then
// Ctrl+Alt+2 shows the monitor tab (the second console: graphic consoles
// come first, then the virtual consoles in the order they were made),
// and "info version" typed into it must come back from the monitor with
// the version. Every screen on the way is kept as a PNG in the
// artefacts.
func (d *Desk) GTK(ctx context.Context) (Step, error) { return d.gtk(ctx, nil) }

// gtk is GTK with display options before the rest (nil: the default
// display, as a user starts QEMU; the tests ask for SDL's window to see
// the check fail).
func (d *Desk) gtk(ctx context.Context, display []string) (Step, error) {
	const name = "gtk window"
	t0 := time.Now()
	if d.Display == nil {
		return Step{}, fmt.Errorf("smoke: %s: no X display to look at (start one with StartDisplay before the runner)", name)
	}
	var miss []string
	for _, tool := range []string{"xdotool", "xprop"} {
		if _, err := exec.LookPath(tool); err != nil {
			miss = append(miss, tool+" (Debian package "+GTKTools[tool]+")")
		}
	}
	if len(miss) > 0 {
		return Step{}, fmt.Errorf("smoke: %s: the GTK check needs %s", name, strings.Join(miss, " and "))
	}
	if err := d.writeSplash(); err != nil {
		return Step{}, fmt.Errorf("smoke: %s: %w", name, err)
	}
	var err error
	monLog := filepath.Join(d.Dir, gtkMonitorLog)
	os.Remove(monLog)
	// The monitor tab: a virtual console called compatmonitor0 like the
	// default one, its output logged. From QEMU 10.0 on it is one backend
	// of a hub chardev whose other backend is a loopback socket: where
	// the keyboard cannot reach the tab (see below), the command comes
	// through the socket and the answer still goes to the tab.
	hubPort := 0
	args := append([]string{}, display...)
	if atLeast10(d.Version) {
		if hubPort, err = FreePort(); err != nil {
			return Step{}, fmt.Errorf("smoke: %s: %w", name, err)
		}
		args = append(args, "-chardev", "vc,id=compatmonitor0,logfile="+gtkMonitorLog,
			"-chardev", "socket,id=monsock,host=127.0.0.1,port="+strconv.Itoa(hubPort)+",server=on,wait=off",
			"-chardev", "hub,id=monhub,chardevs.0=compatmonitor0,chardevs.1=monsock",
			"-mon", "chardev=monhub,mode=readline")
	} else {
		args = append(args, "-chardev", "vc,id=compatmonitor0,logfile="+gtkMonitorLog, "-mon", "chardev=compatmonitor0,mode=readline")
	}
	args = append(args, splashArgs()...)
	p, err := d.R.StartQEMU(ctx, name, d.Dir, d.System, args, d.timeout(), d.timeout()+splashMillis*time.Millisecond)
	if err != nil {
		return Step{}, fmt.Errorf("smoke: %s: %w", name, err)
	}
	defer p.Stop(10 * time.Second)
	sp, err := d.waitSplash(ctx, name, p)
	if err != nil {
		return Step{}, err
	}
	win := sp.Win
	fail := func(format string, args ...any) (Step, error) {
		shot := filepath.Join(d.artefacts(), "gtk-failed.png")
		if img, err := d.Display.Screenshot(); err == nil {
			WritePNG(shot, img, image.Rectangle{})
		}
		return Step{}, fmt.Errorf("smoke: %s: %s; the screen is in %s; QEMU said:\n%s", name, fmt.Sprintf(format, args...), shot, tail(p.Output(), 20))
	}

	// The title, as xwininfo lists it and as the window's WM_NAME says.
	title, err := d.xprop(ctx, win.ID, "WM_NAME")
	if err != nil {
		return fail("%v", err)
	}
	if win.Name != "QEMU" || title != "QEMU" {
		return fail("the window showing the guest is titled %q (xwininfo) and %q (xprop WM_NAME), want \"QEMU\" (GTK's caption; SDL's window has no menu bar)", win.Name, title)
	}
	// The menu bar: a strip above the guest's screen, inside the window,
	// with text drawn on it where its first items are (left, inside its
	// edges: a border line alone does not count). Wine's GDI draws the
	// labels without antialiasing, so two colours can be enough.
	barH := sp.At.Y - win.Y
	labels := image.Rect(win.X+2, win.Y+3, win.X+min(win.W, 130), sp.At.Y-3)
	barContent := Measure(sp.Shot, labels)
	if barH < 16 || barContent.Colours < 2 || barContent.Drawn < 0.03 {
		return fail("no menu bar above the guest's screen: %d pixels between the window's top and the splash, where its labels would be %s", barH, barContent)
	}

	// Machine > Pause with the pointer.
	if err := d.xdotool(ctx, "mousemove", strconv.Itoa(win.X+30), strconv.Itoa(win.Y+barH/2), "click", "1"); err != nil {
		return fail("%v", err)
	}
	menu, menuShot, err := d.waitChange(ctx, sp.Shot, image.Rect(win.X, sp.At.Y, win.X+win.W, win.Y+win.H), 60, 10*time.Second)
	if err != nil {
		return fail("a click on Machine at +%d+%d opened no menu: %v", win.X+30, win.Y+barH/2, err)
	}
	menuPNG := filepath.Join(d.artefacts(), "gtk-machine-menu.png")
	if err := WritePNG(menuPNG, menuShot, image.Rectangle{}); err != nil {
		return Step{}, err
	}
	// Pause is the menu's first item: half an item (GTK's menu items are
	// 20 to 30 pixels tall) below the menu's top edge.
	px, py := menu.Min.X+min(40, menu.Dx()/2), menu.Min.Y+14
	if err := d.xdotool(ctx, "mousemove", strconv.Itoa(px), strconv.Itoa(py), "click", "1"); err != nil {
		return fail("%v", err)
	}
	var status struct {
		Status  string `json:"status"`
		Running bool   `json:"running"`
	}
	for deadline := time.Now().Add(15 * time.Second); ; {
		if err := p.Execute("query-status", nil, &status, 30*time.Second); err != nil {
			return fail("%v", err)
		}
		if status.Status == "paused" || time.Now().After(deadline) {
			break
		}
		time.Sleep(500 * time.Millisecond)
	}
	if status.Status != "paused" || status.Running {
		return fail("after Machine > Pause (a click at +%d+%d in the menu at %v) QMP query-status says %q (running %v), want paused", px, py, menu, status.Status, status.Running)
	}
	var paused string
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(500 * time.Millisecond) {
		if paused, err = d.xprop(ctx, win.ID, "WM_NAME"); err != nil {
			return fail("%v", err)
		}
		if paused != title || time.Now().After(deadline) {
			break
		}
	}
	if paused != "QEMU [Paused]" {
		return fail("paused, the window is titled %q, want \"QEMU [Paused]\"", paused)
	}
	pausedShot, err := d.Display.Screenshot()
	if err != nil {
		return Step{}, err
	}
	pausedPNG := filepath.Join(d.artefacts(), "gtk-paused.png")
	if err := WritePNG(pausedPNG, pausedShot, win.Rect()); err != nil {
		return Step{}, err
	}

	// The monitor tab, chosen with the mouse in the View menu: its items
	// are Fullscreen, Zoom In, Zoom Out, Best Fit, Zoom To Fit, Grab On
	// Hover, Grab Input, then one per console (the guest's screen first,
	// then the virtual consoles in the order they were made:
	// compatmonitor0, serial0, parallel0), then Show Tabs, Detach Tab,
	// Show Menubar (QEMU 7.2 to 10.2's ui/gtk.c without VTE; with VTE a
	// Copy item follows Fullscreen and the consoles are terminals).
	viewX := win.X + 75
	if err := d.xdotool(ctx, "mousemove", strconv.Itoa(viewX), strconv.Itoa(win.Y+barH/2), "click", "1"); err != nil {
		return fail("%v", err)
	}
	view, viewShot, err := d.waitChange(ctx, pausedShot, image.Rect(win.X, sp.At.Y, win.X+win.W, win.Y+win.H), 60, 10*time.Second)
	if err != nil {
		return fail("a click on View at +%d+%d opened no menu: %v", viewX, win.Y+barH/2, err)
	}
	viewPNG := filepath.Join(d.artefacts(), "gtk-view-menu.png")
	if err := WritePNG(viewPNG, viewShot, image.Rectangle{}); err != nil {
		return Step{}, err
	}
	lines, left := TextLines(viewShot, view)
	first := 7 // the guest's screen
	if len(lines) == 15 {
		first = 8 // with VTE's Copy
	}
	if len(lines) < first+2+3 {
		return fail("the View menu at %v has %d lines of text (%v), want at least %d: its items and two consoles", view, len(lines), lines, first+5)
	}
	mon := lines[first+1]
	mx, my := left+40, (mon[0]+mon[1])/2
	if err := d.xdotool(ctx, "mousemove", strconv.Itoa(mx), strconv.Itoa(my), "click", "1"); err != nil {
		return fail("%v", err)
	}
	guest := image.Rectangle{Min: sp.At, Max: sp.At.Add(image.Pt(splashW, splashH))}
	_, tabShot, err := d.waitChange(ctx, pausedShot, guest, 200, 10*time.Second)
	if err != nil {
		return fail("View > compatmonitor0 (a click at +%d+%d, line %d of %d in the menu) did not change what the window shows: %v", mx, my, first+2, len(lines), err)
	}
	if m := Match(tabShot, sp.At, Splash(), 8); m > 0.5 {
		return fail("after View > compatmonitor0 the window still shows the guest's screen (%.0f%% of the splash)", 100*m)
	}
	tabPNG := filepath.Join(d.artefacts(), "gtk-monitor-tab-open.png")
	if err := WritePNG(tabPNG, tabShot, win.Rect()); err != nil {
		return Step{}, err
	}

	// "info version" typed into the tab with the keyboard.
	before := readText(monLog)
	how := "typed into the monitor tab"
	if err := d.xdotool(ctx, "mousemove", strconv.Itoa(sp.At.X+splashW/2), strconv.Itoa(sp.At.Y+splashH/2)); err != nil {
		return fail("%v", err)
	}
	if err := d.xdotool(ctx, "type", "--delay", "80", "info version"); err != nil {
		return fail("%v", err)
	}
	if err := d.xdotool(ctx, "key", "Return"); err != nil {
		return fail("%v", err)
	}
	re := regexp.MustCompile(`info version\r?\n(` + regexp.QuoteMeta(d.Version) + `[^\r\n]*)`)
	// The monitor's line editor redraws the line after every key with
	// terminal escapes: without them the log ends in the command, a line
	// break and the answer.
	answered := func() (string, string) {
		text := ansiEscape.ReplaceAllString(strings.TrimPrefix(readText(monLog), before), "")
		if m := re.FindStringSubmatch(strings.ReplaceAll(text, "\r\n", "\n")); m != nil {
			return strings.TrimSpace(m[1]), text
		}
		return "", text
	}
	answer, text := waitFor(10*time.Second, answered)
	if answer == "" && strings.Contains(p.Output(), keymapFailure) && hubPort != 0 {
		// GTK 3.24's win32 backend translates keys with the keyboard
		// layout DLL the registry names (KBDUS.DLL for 00000409); wine
		// 8 has neither the key nor the DLL, so GDK drops every key
		// ("Failed to translate keypress ... could not load the
		// layout") and no typing reaches any GTK window under wine. On
		// Windows the DLL is in System32. The nearest real thing: the
		// same line through the hub's other backend, the answer drawn
		// in the tab.
		how = fmt.Sprintf("sent through the monitor hub's socket (under wine GDK drops typed keys: %q)", keymapFailure)
		if err := sendLine(ctx, hubPort, "info version"); err != nil {
			return fail("%v", err)
		}
		answer, text = waitFor(20*time.Second, answered)
	}
	if answer == "" {
		return fail("\"info version\" %s got no answer with %s; the monitor tab shows %q", how, d.Version, tail(text, 10))
	}
	time.Sleep(time.Second) // the tab draws the answer after the monitor wrote it
	monShot, err := d.Display.Screenshot()
	if err != nil {
		return Step{}, err
	}
	monPNG := filepath.Join(d.artefacts(), "gtk-monitor-tab.png")
	if err := WritePNG(monPNG, monShot, win.Rect()); err != nil {
		return Step{}, err
	}
	if r := Changed(tabShot, monShot, guest); r.Empty() {
		return fail("the monitor answered, but the tab did not change (%s)", monPNG)
	}
	return Step{Name: name, Took: time.Since(t0), Note: fmt.Sprintf("window %q (xprop WM_NAME %q) %v %dx%d+%d+%d, a menu bar of %d pixels (labels: %s) above the splash at +%d+%d (%.1f%%, %s); Machine > Pause by mouse (menu at %v): query-status %q, title %q; View > compatmonitor0 by mouse (line %d of %d), \"info version\" %s: %q, drawn in the tab; screenshots %s, %s, %s, %s, %s, %s, %s",
		win.Name, title, win.Class, win.W, win.H, win.X, win.Y, barH, barContent, sp.At.X, sp.At.Y, 100*sp.Match, sp.Content,
		menu, status.Status, paused, first+2, len(lines), how, answer, sp.ScreenPNG, sp.WindowPNG, menuPNG, pausedPNG, viewPNG, tabPNG, monPNG)}, nil
}

// ansiEscape is a terminal control sequence (CSI): ESC [ parameters letter.
var ansiEscape = regexp.MustCompile("\x1b\\[[0-9;?]*[A-Za-z]")

func readText(path string) string {
	b, _ := os.ReadFile(path)
	return string(b)
}

// xdotool runs xdotool on the display.
func (d *Desk) xdotool(ctx context.Context, args ...string) error {
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "xdotool", args...)
	cmd.Env = append(os.Environ(), d.Display.Env())
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("xdotool %s on %s: %w\n%s", strings.Join(args, " "), d.Display.Name, err, tail(string(out), 5))
	}
	return nil
}

// xprop reads a window's text property (WM_NAME = "QEMU" -> QEMU).
func (d *Desk) xprop(ctx context.Context, id, prop string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "xprop", "-id", id, prop)
	cmd.Env = append(os.Environ(), d.Display.Env())
	out, err := cmd.CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("xprop -id %s %s on %s: %w\n%s", id, prop, d.Display.Name, err, tail(string(out), 5))
	}
	return ParseXprop(string(out))
}

// ParseXprop reads `xprop -id ID WM_NAME` output: `WM_NAME(STRING) =
// "QEMU"` (or UTF8_STRING, COMPOUND_TEXT) gives QEMU.
func ParseXprop(out string) (string, error) {
	m := regexp.MustCompile(`^\S+\([A-Z0-9_]+\) = "(.*)"\s*$`).FindStringSubmatch(strings.TrimSpace(out))
	if m == nil {
		return "", fmt.Errorf("xprop said %q, not a text property", strings.TrimSpace(out))
	}
	s, err := strconv.Unquote(`"` + m[1] + `"`)
	if err != nil {
		return m[1], nil
	}
	return s, nil
}

// waitChange waits until the screen differs from before somewhere in
// area and returns the bounding box of the change (clipped to area) and
// the screen.
// A change smaller than minSize in both directions (the mouse pointer)
// does not count.
func (d *Desk) waitChange(ctx context.Context, before *image.RGBA, area image.Rectangle, minSize int, wait time.Duration) (image.Rectangle, *image.RGBA, error) {
	deadline := time.Now().Add(wait)
	for {
		shot, err := d.Display.Screenshot()
		if err != nil {
			return image.Rectangle{}, nil, err
		}
		if r := Changed(before, shot, area); !r.Empty() && (r.Dx() >= minSize || r.Dy() >= minSize) {
			return r, shot, nil
		}
		if time.Now().After(deadline) {
			return image.Rectangle{}, shot, errors.New("the screen did not change within " + wait.String())
		}
		select {
		case <-time.After(300 * time.Millisecond):
		case <-ctx.Done():
			return image.Rectangle{}, shot, ctx.Err()
		}
	}
}

// Changed is the bounding box of the pixels in area that differ between
// two screens of the same size (empty: none).
func Changed(a, b *image.RGBA, area image.Rectangle) image.Rectangle {
	area = area.Intersect(a.Bounds()).Intersect(b.Bounds())
	var r image.Rectangle
	for y := area.Min.Y; y < area.Max.Y; y++ {
		for x := area.Min.X; x < area.Max.X; x++ {
			i, j := a.PixOffset(x, y), b.PixOffset(x, y)
			if a.Pix[i] != b.Pix[j] || a.Pix[i+1] != b.Pix[j+1] || a.Pix[i+2] != b.Pix[j+2] {
				r = r.Union(image.Rect(x, y, x+1, y+1))
			}
		}
	}
	return r
}

// registerWineFonts registers wine's own Tahoma in the prefix, as a
// Windows machine has its fonts registered. wine's GDI reports Tahoma as
// the system's message font, but wine 8's DirectWrite, through which
// pango 1.50 looks fonts up, lists only fonts registered in the prefix:
// without this GTK's system font comes out as "(null) 9", every text is
// drawn as boxes and windows get absurd sizes (found by internal/deps'
// GTK proof). Nothing of this goes into the archive.
func (r *Runner) registerWineFonts(ctx context.Context, timeout time.Duration) error {
	if r.Wine == "" {
		return nil
	}
	var dir string
	for _, d := range []string{"/usr/share/wine/fonts", "/usr/lib/wine/fonts", "/opt/wine-stable/share/wine/fonts"} {
		if _, err := os.Stat(filepath.Join(d, "tahoma.ttf")); err == nil {
			dir = d
			break
		}
	}
	if dir == "" {
		return errors.New("smoke: wine's tahoma.ttf not found (Debian: fonts-wine, which wine installs)")
	}
	fonts := filepath.Join(r.Prefix, "drive_c", "windows", "Fonts")
	if err := os.MkdirAll(fonts, 0o755); err != nil {
		return fmt.Errorf("smoke: %w", err)
	}
	for _, f := range []struct{ file, name string }{{"tahoma.ttf", "Tahoma (TrueType)"}, {"tahomabd.ttf", "Tahoma Bold (TrueType)"}} {
		b, err := os.ReadFile(filepath.Join(dir, f.file))
		if err != nil {
			return fmt.Errorf("smoke: %w", err)
		}
		if err := os.WriteFile(filepath.Join(fonts, f.file), b, 0o644); err != nil {
			return fmt.Errorf("smoke: %w", err)
		}
		args := []string{"reg", "add", `HKLM\Software\Microsoft\Windows NT\CurrentVersion\Fonts`, "/v", f.name, "/t", "REG_SZ", "/d", f.file, "/f"}
		if out, err := r.Command(ctx, "register "+f.file, r.Prefix, "reg", args[1:], timeout, nil); err != nil {
			return fmt.Errorf("smoke: registering wine's %s in the prefix: %w\n%s", f.file, err, tail(out, 5))
		}
	}
	return nil
}

// keymapFailure is what GDK's win32 backend prints when it cannot load
// the keyboard layout DLL to translate a key (gdk/win32/gdkkeys-win32.c).
const keymapFailure = "because we could not load the layout"

// atLeast10 says whether a QEMU version ("10.2.2") is 10.0 or newer: the
// hub chardev came with 10.0.
func atLeast10(v string) bool {
	major, _, _ := strings.Cut(v, ".")
	n, err := strconv.Atoi(major)
	return err == nil && n >= 10
}

// waitFor polls f every half second until it returns a non-empty first
// value or wait has passed.
func waitFor(wait time.Duration, f func() (string, string)) (string, string) {
	deadline := time.Now().Add(wait)
	for {
		a, b := f()
		if a != "" || time.Now().After(deadline) {
			return a, b
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// sendLine connects to a loopback TCP port, writes line and a newline,
// and keeps the connection a moment so the server reads it.
func sendLine(ctx context.Context, port int, line string) error {
	var dl net.Dialer
	dctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	c, err := dl.DialContext(dctx, "tcp4", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if err != nil {
		return fmt.Errorf("the monitor hub's socket: %w", err)
	}
	defer c.Close()
	time.Sleep(time.Second) // the hub marks the backend open
	if _, err := c.Write([]byte(line + "\r\n")); err != nil {
		return fmt.Errorf("the monitor hub's socket: %w", err)
	}
	time.Sleep(2 * time.Second)
	return nil
}

// TextLines finds the lines of text in area of a menu: runs of at least
// five pixel rows with ink (pixels far from the area's most common
// colour, its background) in the columns that are mostly background, as
// [top, bottom) pairs, and the leftmost such column. A separator (a
// one- or two-pixel line, light) is not text.
func TextLines(img *image.RGBA, area image.Rectangle) ([][2]int, int) {
	area = area.Intersect(img.Bounds())
	count := map[[3]uint8]int{}
	for y := area.Min.Y; y < area.Max.Y; y++ {
		for x := area.Min.X; x < area.Max.X; x++ {
			i := img.PixOffset(x, y)
			count[[3]uint8{img.Pix[i], img.Pix[i+1], img.Pix[i+2]}]++
		}
	}
	var bg [3]uint8
	most := 0
	for c, n := range count {
		if n > most {
			bg, most = c, n
		}
	}
	// The menu's own columns: those mostly of its background (the change
	// that found the menu may take in a strip of the screen beside it).
	var cols []int
	for x := area.Min.X; x < area.Max.X; x++ {
		n := 0
		for y := area.Min.Y; y < area.Max.Y; y++ {
			i := img.PixOffset(x, y)
			if [3]uint8{img.Pix[i], img.Pix[i+1], img.Pix[i+2]} == bg {
				n++
			}
		}
		if 2*n > area.Dy() {
			cols = append(cols, x)
		}
	}
	ink := func(y int) bool {
		for _, x := range cols {
			i := img.PixOffset(x, y)
			d := 0
			for k := 0; k < 3; k++ {
				v := int(img.Pix[i+k]) - int(bg[k])
				if v < 0 {
					v = -v
				}
				d = max(d, v)
			}
			if d > 96 {
				return true
			}
		}
		return false
	}
	var lines [][2]int
	if len(cols) == 0 {
		return nil, area.Min.X
	}
	top := -1
	for y := area.Min.Y + 2; y <= area.Max.Y-2; y++ {
		on := y < area.Max.Y-2 && ink(y)
		switch {
		case on && top < 0:
			top = y
		case !on && top >= 0:
			if y-top >= 5 {
				lines = append(lines, [2]int{top, y})
			}
			top = -1
		}
	}
	return lines, cols[0]
}
