package smoke

import (
	"bufio"
	"context"
	"crypto/des"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"time"
)

// The RFB (VNC) client the VNC check speaks with, RFC 6143: protocol 3.8,
// security type 2 ("VNC Authentication"), one framebuffer update in raw
// encoding at 32 bits per pixel. Only what a smoke test needs: no other
// security types, no encodings but raw, no input events.

// ErrVNCAuth is wrapped by DialVNC's error when the server refused the
// password (security result "failed").
var ErrVNCAuth = errors.New("the VNC server refused the password")

// VNCAuthResponse is the answer to a VNC Authentication challenge: the
// 16-byte challenge encrypted with DES in ECB mode, the key being the
// password's first 8 bytes (padded with zeros) with the bits of each byte
// in reverse order (RFB's historical quirk: the original d3des code took
// the low bit as the first key bit).
func VNCAuthResponse(password string, challenge []byte) ([]byte, error) {
	if len(challenge) != 16 {
		return nil, fmt.Errorf("vnc: challenge of %d bytes, want 16", len(challenge))
	}
	var key [8]byte
	copy(key[:], password)
	for i, b := range key {
		key[i] = reverseBits(b)
	}
	c, err := des.NewCipher(key[:])
	if err != nil {
		return nil, fmt.Errorf("vnc: %w", err)
	}
	out := make([]byte, 16)
	c.Encrypt(out[:8], challenge[:8])
	c.Encrypt(out[8:], challenge[8:])
	return out, nil
}

func reverseBits(b byte) byte {
	var r byte
	for i := 0; i < 8; i++ {
		r = r<<1 | b&1
		b >>= 1
	}
	return r
}

// PixelFormat is RFB's pixel format (the 16 bytes of ServerInit and
// SetPixelFormat).
type PixelFormat struct {
	BitsPerPixel, Depth   uint8
	BigEndian, TrueColour bool
	RedMax, GreenMax      uint16
	BlueMax               uint16
	RedShift, GreenShift  uint8
	BlueShift             uint8
}

// rgb32 is the format the client asks for: 32 bits, little-endian,
// 0x00RRGGBB.
var rgb32 = PixelFormat{BitsPerPixel: 32, Depth: 24, TrueColour: true, RedMax: 255, GreenMax: 255, BlueMax: 255, RedShift: 16, GreenShift: 8}

func (p PixelFormat) bytes() []byte {
	b := make([]byte, 16)
	b[0], b[1] = p.BitsPerPixel, p.Depth
	if p.BigEndian {
		b[2] = 1
	}
	if p.TrueColour {
		b[3] = 1
	}
	binary.BigEndian.PutUint16(b[4:], p.RedMax)
	binary.BigEndian.PutUint16(b[6:], p.GreenMax)
	binary.BigEndian.PutUint16(b[8:], p.BlueMax)
	b[10], b[11], b[12] = p.RedShift, p.GreenShift, p.BlueShift
	return b
}

func parsePixelFormat(b []byte) PixelFormat {
	return PixelFormat{BitsPerPixel: b[0], Depth: b[1], BigEndian: b[2] != 0, TrueColour: b[3] != 0,
		RedMax: binary.BigEndian.Uint16(b[4:]), GreenMax: binary.BigEndian.Uint16(b[6:]), BlueMax: binary.BigEndian.Uint16(b[8:]),
		RedShift: b[10], GreenShift: b[11], BlueShift: b[12]}
}

// VNC is an authenticated RFB connection.
type VNC struct {
	conn          net.Conn
	r             *bufio.Reader
	Width, Height int
	Name          string
	Server        PixelFormat // what ServerInit said
	// Pixels is the framebuffer as received, 0x00RRGGBB per pixel, row
	// by row (filled by Update).
	Pixels []uint32
}

// DialVNC connects to the RFB server at addr, completes the handshake
// with protocol 3.8 and VNC Authentication with password, and reads
// ServerInit. A refused password gives an error wrapping ErrVNCAuth with
// the server's reason. Every read and write is bounded by ctx's deadline
// (30 s when it has none).
func DialVNC(ctx context.Context, addr, password string) (*VNC, error) {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("vnc %s: %w", addr, err)
	}
	dl, ok := ctx.Deadline()
	if !ok {
		dl = time.Now().Add(30 * time.Second)
	}
	conn.SetDeadline(dl)
	v := &VNC{conn: conn, r: bufio.NewReader(conn)}
	if err := v.handshake(password); err != nil {
		conn.Close()
		return nil, fmt.Errorf("vnc %s: %w", addr, err)
	}
	return v, nil
}

func (v *VNC) handshake(password string) error {
	ver := make([]byte, 12)
	if _, err := io.ReadFull(v.r, ver); err != nil {
		return fmt.Errorf("no protocol version from the server: %w", err)
	}
	var major, minor int
	if _, err := fmt.Sscanf(string(ver), "RFB %03d.%03d\n", &major, &minor); err != nil {
		return fmt.Errorf("not an RFB server (it said %q)", ver)
	}
	if major != 3 || minor < 8 {
		return fmt.Errorf("the server speaks RFB %d.%d; this client needs 3.8", major, minor)
	}
	if _, err := v.conn.Write([]byte("RFB 003.008\n")); err != nil {
		return err
	}
	n, err := v.r.ReadByte()
	if err != nil {
		return fmt.Errorf("no security types: %w", err)
	}
	if n == 0 {
		return fmt.Errorf("the server refused the connection: %s", v.reason())
	}
	types := make([]byte, n)
	if _, err := io.ReadFull(v.r, types); err != nil {
		return fmt.Errorf("security types: %w", err)
	}
	if !strings.Contains(string(types), "\x02") {
		return fmt.Errorf("the server does not offer VNC Authentication (security type 2), only %v: was the password option given?", types)
	}
	if _, err := v.conn.Write([]byte{2}); err != nil {
		return err
	}
	challenge := make([]byte, 16)
	if _, err := io.ReadFull(v.r, challenge); err != nil {
		return fmt.Errorf("no challenge: %w", err)
	}
	resp, err := VNCAuthResponse(password, challenge)
	if err != nil {
		return err
	}
	if _, err := v.conn.Write(resp); err != nil {
		return err
	}
	var result [4]byte
	if _, err := io.ReadFull(v.r, result[:]); err != nil {
		return fmt.Errorf("no security result: %w", err)
	}
	if r := binary.BigEndian.Uint32(result[:]); r != 0 {
		return fmt.Errorf("%w (%s)", ErrVNCAuth, v.reason())
	}
	// ClientInit: shared, so a second viewer does not end this one.
	if _, err := v.conn.Write([]byte{1}); err != nil {
		return err
	}
	init := make([]byte, 24)
	if _, err := io.ReadFull(v.r, init); err != nil {
		return fmt.Errorf("no ServerInit: %w", err)
	}
	v.Width, v.Height = int(binary.BigEndian.Uint16(init[0:])), int(binary.BigEndian.Uint16(init[2:]))
	v.Server = parsePixelFormat(init[4:20])
	nameLen := binary.BigEndian.Uint32(init[20:])
	if nameLen > 1<<16 {
		return fmt.Errorf("ServerInit: a name of %d bytes", nameLen)
	}
	name := make([]byte, nameLen)
	if _, err := io.ReadFull(v.r, name); err != nil {
		return fmt.Errorf("ServerInit name: %w", err)
	}
	v.Name = string(name)
	if v.Width == 0 || v.Height == 0 || v.Width > 16384 || v.Height > 16384 {
		return fmt.Errorf("ServerInit: a framebuffer of %dx%d", v.Width, v.Height)
	}
	// Ask for 0x00RRGGBB in raw encoding, and for size changes (the
	// guest switching from text mode to graphics) as DesktopSize
	// rectangles: without it a server keeps sending the old size.
	msg := append([]byte{0, 0, 0, 0}, rgb32.bytes()...)
	msg = append(msg, 2, 0, 0, 2, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0x21) // SetEncodings: raw, DesktopSize (-223)
	_, err = v.conn.Write(msg)
	v.Pixels = make([]uint32, v.Width*v.Height)
	return err
}

// reason reads the length-prefixed reason string RFB 3.8 sends after a
// failure.
func (v *VNC) reason() string {
	var l [4]byte
	if _, err := io.ReadFull(v.r, l[:]); err != nil {
		return "no reason given"
	}
	n := binary.BigEndian.Uint32(l[:])
	if n > 4096 {
		n = 4096
	}
	b := make([]byte, n)
	io.ReadFull(v.r, b)
	return strings.TrimSpace(string(b))
}

// Update asks for the whole framebuffer (incremental: only what changed
// since the last update) and reads one FramebufferUpdate into Pixels. It
// returns how many pixels the update carried. Messages other than a
// framebuffer update (bell, colour map, cut text) are read and skipped.
func (v *VNC) Update(incremental bool) (int, error) {
	req := []byte{3, 0, 0, 0, 0, 0, 0, 0, 0, 0}
	if incremental {
		req[1] = 1
	}
	binary.BigEndian.PutUint16(req[6:], uint16(v.Width))
	binary.BigEndian.PutUint16(req[8:], uint16(v.Height))
	if _, err := v.conn.Write(req); err != nil {
		return 0, fmt.Errorf("vnc: update request: %w", err)
	}
	for {
		t, err := v.r.ReadByte()
		if err != nil {
			return 0, fmt.Errorf("vnc: reading the update: %w", err)
		}
		switch t {
		case 0: // FramebufferUpdate
			return v.readRects()
		case 1: // SetColourMapEntries
			var h [5]byte
			if _, err := io.ReadFull(v.r, h[:]); err != nil {
				return 0, err
			}
			if _, err := v.r.Discard(6 * int(binary.BigEndian.Uint16(h[3:]))); err != nil {
				return 0, err
			}
		case 2: // Bell
		case 3: // ServerCutText
			var h [7]byte
			if _, err := io.ReadFull(v.r, h[:]); err != nil {
				return 0, err
			}
			if _, err := v.r.Discard(int(binary.BigEndian.Uint32(h[3:]))); err != nil {
				return 0, err
			}
		default:
			return 0, fmt.Errorf("vnc: unexpected server message type %d", t)
		}
	}
}

// Pseudo-encodings a server may send even unasked.
const (
	encRaw         = 0
	encDesktopSize = -223
)

func (v *VNC) readRects() (int, error) {
	var h [3]byte
	if _, err := io.ReadFull(v.r, h[:]); err != nil {
		return 0, fmt.Errorf("vnc: update header: %w", err)
	}
	n := int(binary.BigEndian.Uint16(h[1:]))
	got := 0
	for i := 0; i < n; i++ {
		var rh [12]byte
		if _, err := io.ReadFull(v.r, rh[:]); err != nil {
			return got, fmt.Errorf("vnc: rectangle %d of %d: %w", i+1, n, err)
		}
		x, y := int(binary.BigEndian.Uint16(rh[0:])), int(binary.BigEndian.Uint16(rh[2:]))
		w, hh := int(binary.BigEndian.Uint16(rh[4:])), int(binary.BigEndian.Uint16(rh[6:]))
		enc := int32(binary.BigEndian.Uint32(rh[8:]))
		switch enc {
		case encDesktopSize:
			v.Width, v.Height = w, hh
			v.Pixels = make([]uint32, w*hh)
			continue
		case encRaw:
		default:
			return got, fmt.Errorf("vnc: rectangle in encoding %d, which was not asked for", enc)
		}
		if x+w > v.Width || y+hh > v.Height {
			return got, fmt.Errorf("vnc: rectangle %dx%d+%d+%d outside the %dx%d framebuffer", w, hh, x, y, v.Width, v.Height)
		}
		row := make([]byte, 4*w)
		for yy := y; yy < y+hh; yy++ {
			if _, err := io.ReadFull(v.r, row); err != nil {
				return got, fmt.Errorf("vnc: pixel data: %w", err)
			}
			for xx := 0; xx < w; xx++ {
				v.Pixels[yy*v.Width+x+xx] = binary.LittleEndian.Uint32(row[4*xx:]) & 0xffffff
			}
		}
		got += w * hh
	}
	return got, nil
}

// Colours counts the distinct colours in Pixels.
func (v *VNC) Colours() int {
	seen := map[uint32]bool{}
	for _, p := range v.Pixels {
		seen[p] = true
	}
	return len(seen)
}

// Close ends the connection.
func (v *VNC) Close() error { return v.conn.Close() }
