package smoke

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"qemupack/internal/atomicfile"
)

// A virtual X screen for the window checks: Xvfb with its framebuffer
// mapped to a file (-fbdir), so a screenshot is a read of that file (an
// XWD image) in Go, and xwininfo (x11-utils) to list the windows. Wine
// draws a Windows program's windows as X windows on $DISPLAY.
//
// Wine binds a prefix to the display its first program saw (wineboot
// starts the prefix's desktop process, explorer.exe, with it): a runner
// whose prefix was started without DISPLAY shows no window anywhere. So
// the display is started first and the runner made with its DISPLAY
// (NewRunnerOn).

// Display is a running Xvfb.
type Display struct {
	Name          string // ":N"
	Width, Height int
	fbdir         string
	cmd           *exec.Cmd
	exited        chan struct{}
	log           string
}

// DisplayTools are the programs the window checks need: what to install
// where one is missing.
var DisplayTools = map[string]string{"Xvfb": "xvfb", "xwininfo": "x11-utils"}

// MissingDisplayTools lists the window checks' programs not on PATH, each
// with the Debian package that has it.
func MissingDisplayTools() []string {
	var out []string
	for _, p := range []string{"Xvfb", "xwininfo"} {
		if _, err := exec.LookPath(p); err != nil {
			out = append(out, p+" (Debian package "+DisplayTools[p]+")")
		}
	}
	return out
}

// StartDisplay starts Xvfb on a free display number (Xvfb picks it:
// -displayfd) with one screen of width x height at 24 bits, listening on
// its Unix socket only, its framebuffer file and log in dir. It waits at
// most 30 s for the server to be ready.
func StartDisplay(ctx context.Context, dir string, width, height int) (*Display, error) {
	if miss := MissingDisplayTools(); len(miss) > 0 {
		return nil, fmt.Errorf("smoke: the window checks need %s", strings.Join(miss, " and "))
	}
	fbdir := filepath.Join(dir, "xvfb")
	if err := os.MkdirAll(fbdir, 0o755); err != nil {
		return nil, fmt.Errorf("smoke: %w", err)
	}
	pr, pw, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("smoke: %w", err)
	}
	defer pr.Close()
	logPath := filepath.Join(dir, "xvfb.log")
	logf, err := os.Create(logPath)
	if err != nil {
		pw.Close()
		return nil, fmt.Errorf("smoke: %w", err)
	}
	defer logf.Close()
	cmd := exec.Command("Xvfb", "-displayfd", "3", "-nolisten", "tcp", "-noreset",
		"-screen", "0", fmt.Sprintf("%dx%dx24", width, height), "-fbdir", fbdir)
	cmd.ExtraFiles = []*os.File{pw}
	cmd.Stdout, cmd.Stderr = logf, logf
	setDisplayProcAttr(cmd)
	if err := cmd.Start(); err != nil {
		pw.Close()
		return nil, fmt.Errorf("smoke: starting Xvfb: %w", err)
	}
	pw.Close()
	d := &Display{Width: width, Height: height, fbdir: fbdir, cmd: cmd, exited: make(chan struct{}), log: logPath}
	go func() { cmd.Wait(); close(d.exited) }()
	num := make(chan string, 1)
	go func() {
		l, _ := bufio.NewReader(pr).ReadString('\n')
		num <- strings.TrimSpace(l)
	}()
	select {
	case n := <-num:
		if _, err := strconv.Atoi(n); err != nil {
			d.Close()
			b, _ := os.ReadFile(logPath)
			return nil, fmt.Errorf("smoke: Xvfb did not start (it gave display %q); its log:\n%s", n, tail(string(b), 10))
		}
		d.Name = ":" + n
	case <-time.After(30 * time.Second):
		d.Close()
		return nil, errors.New("smoke: Xvfb did not say its display number within 30 s")
	case <-ctx.Done():
		d.Close()
		return nil, ctx.Err()
	}
	return d, nil
}

// Env is the DISPLAY setting for programs that draw on it.
func (d *Display) Env() string { return "DISPLAY=" + d.Name }

// Close stops the X server.
func (d *Display) Close() {
	if d.cmd.Process != nil {
		d.cmd.Process.Kill()
	}
	<-d.exited
}

// Window is one X window as xwininfo lists it, with its position on the
// screen.
type Window struct {
	ID       string   // "0x400001"
	Name     string   // the title ("" when it has none)
	Class    []string // the WM_CLASS strings (wine: the program's file name twice)
	W, H     int
	X, Y     int // absolute position on the screen
	Children int
}

// Rect is the window's area on the screen.
func (w Window) Rect() image.Rectangle { return image.Rect(w.X, w.Y, w.X+w.W, w.Y+w.H) }

// xwininfoLine: `0x400001 "title": ("res" "class")  312x213+44+53  +44+53`;
// a window without a title says (has no name).
var xwininfoLine = regexp.MustCompile(`^\s*(0x[0-9a-f]+) (?:"(.*)"|\(has no name\)): \((.*)\)\s+(\d+)x(\d+)[+-]-?\d+[+-]-?\d+\s+\+(-?\d+)\+(-?\d+)`)

// ParseWindowTree reads `xwininfo -root -tree` output: every window below
// the root, at any depth.
func ParseWindowTree(out string) []Window {
	var ws []Window
	for _, l := range strings.Split(out, "\n") {
		m := xwininfoLine.FindStringSubmatch(l)
		if m == nil {
			continue
		}
		w := Window{ID: m[1], Name: m[2]}
		for _, c := range regexp.MustCompile(`"([^"]*)"`).FindAllStringSubmatch(m[3], -1) {
			w.Class = append(w.Class, c[1])
		}
		w.W, _ = strconv.Atoi(m[4])
		w.H, _ = strconv.Atoi(m[5])
		w.X, _ = strconv.Atoi(m[6])
		w.Y, _ = strconv.Atoi(m[7])
		ws = append(ws, w)
	}
	return ws
}

// Windows lists the windows on the display.
func (d *Display) Windows(ctx context.Context) ([]Window, error) {
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "xwininfo", "-root", "-tree")
	cmd.Env = append(os.Environ(), d.Env())
	out, err := cmd.CombinedOutput()
	if err != nil {
		return nil, fmt.Errorf("smoke: xwininfo -root -tree on %s: %w\n%s", d.Name, err, tail(string(out), 10))
	}
	return ParseWindowTree(string(out)), nil
}

// Screenshot is the whole screen as it is now.
func (d *Display) Screenshot() (*image.RGBA, error) {
	b, err := os.ReadFile(filepath.Join(d.fbdir, "Xvfb_screen0"))
	if err != nil {
		return nil, fmt.Errorf("smoke: screenshot of %s: %w", d.Name, err)
	}
	img, err := DecodeXWD(b)
	if err != nil {
		return nil, fmt.Errorf("smoke: screenshot of %s: %w", d.Name, err)
	}
	return img, nil
}

// DecodeXWD reads an X window dump (the format of xwd and of Xvfb's
// -fbdir files) of a 24- or 32-bit TrueColor image in Z format: a header of
// 25 big-endian 32-bit fields and the window name, the colour map, then
// the pixels, row by row.
func DecodeXWD(b []byte) (*image.RGBA, error) {
	if len(b) < 100 {
		return nil, errors.New("xwd: too short for a header")
	}
	f := func(i int) uint32 { return binary.BigEndian.Uint32(b[4*i:]) }
	headerSize, version, format := f(0), f(1), f(2)
	depth, w, h := f(3), int(f(4)), int(f(5))
	byteOrder, bpp, bpl := f(7), f(11), int(f(12))
	visual, rmask, gmask, bmask := f(13), f(14), f(15), f(16)
	ncolors := f(19)
	if version != 7 || format != 2 {
		return nil, fmt.Errorf("xwd: version %d format %d, want 7 and ZPixmap (2)", version, format)
	}
	if visual != 4 && visual != 5 || (bpp != 32 && bpp != 24) || depth < 24 {
		return nil, fmt.Errorf("xwd: a %d-bit image of visual class %d (%d bits per pixel): only 24-bit TrueColor is read", depth, visual, bpp)
	}
	if w <= 0 || h <= 0 || w > 1<<15 || h > 1<<15 || bpl < w*int(bpp)/8 {
		return nil, fmt.Errorf("xwd: %dx%d with %d bytes per line", w, h, bpl)
	}
	off := int(headerSize) + 12*int(ncolors)
	if off < 100 || len(b) < off+bpl*h {
		return nil, fmt.Errorf("xwd: %d bytes, want %d for %dx%d", len(b), off+bpl*h, w, h)
	}
	shift := func(m uint32) uint {
		s := uint(0)
		for m != 0 && m&1 == 0 {
			m >>= 1
			s++
		}
		return s
	}
	rs, gs, bs := shift(rmask), shift(gmask), shift(bmask)
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	step := int(bpp / 8)
	for y := 0; y < h; y++ {
		row := b[off+y*bpl:]
		for x := 0; x < w; x++ {
			var px uint32
			p := row[x*step:]
			if step == 4 {
				if byteOrder == 0 {
					px = binary.LittleEndian.Uint32(p)
				} else {
					px = binary.BigEndian.Uint32(p)
				}
			} else if byteOrder == 0 {
				px = uint32(p[0]) | uint32(p[1])<<8 | uint32(p[2])<<16
			} else {
				px = uint32(p[2]) | uint32(p[1])<<8 | uint32(p[0])<<16
			}
			i := img.PixOffset(x, y)
			img.Pix[i] = uint8((px & rmask) >> rs)
			img.Pix[i+1] = uint8((px & gmask) >> gs)
			img.Pix[i+2] = uint8((px & bmask) >> bs)
			img.Pix[i+3] = 0xff
		}
	}
	return img, nil
}

// Content says how much is drawn in an area of an image.
type Content struct {
	Area    image.Rectangle
	Colours int // distinct colours
	// Drawn is the share of pixels that differ from the most common
	// colour (the background), 0 to 1.
	Drawn float64
}

func (c Content) String() string {
	return fmt.Sprintf("%d colours, %.1f%% of %dx%d drawn over the background", c.Colours, 100*c.Drawn, c.Area.Dx(), c.Area.Dy())
}

// Measure counts the colours in area r of img (clipped to the image).
func Measure(img image.Image, r image.Rectangle) Content {
	r = r.Intersect(img.Bounds())
	c := Content{Area: r}
	if r.Empty() {
		return c
	}
	count := map[color.RGBA]int{}
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			cr, cg, cb, _ := img.At(x, y).RGBA()
			count[color.RGBA{uint8(cr >> 8), uint8(cg >> 8), uint8(cb >> 8), 0xff}]++
		}
	}
	most := 0
	for _, n := range count {
		most = max(most, n)
	}
	c.Colours = len(count)
	c.Drawn = 1 - float64(most)/float64(r.Dx()*r.Dy())
	return c
}

// WritePNG writes img (or its part r, when not empty) as a PNG file,
// atomically.
func WritePNG(path string, img *image.RGBA, r image.Rectangle) error {
	var out image.Image = img
	if !r.Empty() {
		out = img.SubImage(r.Intersect(img.Bounds()))
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("smoke: %w", err)
	}
	return atomicfile.Write(path, 0o644, func(f *os.File) error { return png.Encode(f, out) })
}
