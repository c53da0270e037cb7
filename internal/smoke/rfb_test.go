package smoke

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"io"
	"net"
	"strings"
	"testing"
	"time"
)

// VNC Authentication's DES with the bit-reversed key, checked against the
// values every VNC implementation agrees on: the "obfuscated" passwords
// VNC servers store (TightVNC's registry, ~/.vnc/passwd) are the same DES
// with the fixed key {23,82,107,6,35,78,88,7} as the password and the
// plain password, zero-padded, as the challenge; "password" gives
// dbd83cfd727a1458, the well-known value.
func TestVNCAuthResponseKnownValues(t *testing.T) {
	fixed := string([]byte{23, 82, 107, 6, 35, 78, 88, 7})
	for plain, want := range map[string]string{
		"password": "dbd83cfd727a1458",
		"Secure!":  "d7a514d8c556aade",
		"bar":      "9ca3f3686574f277",
		"12345678": "f0e43164f6c2e373",
		"P@ssw0rd": "317c13ddb544c6c7",
		"abc":      "9c0a172d3482e122",
	} {
		block := make([]byte, 8)
		copy(block, plain)
		got, err := VNCAuthResponse(fixed, append(block, block...))
		if err != nil {
			t.Fatal(err)
		}
		if h := hex.EncodeToString(got[:8]); h != want || !bytes.Equal(got[:8], got[8:]) {
			t.Errorf("%q: %x, want %s twice", plain, got, want)
		}
	}
	// Only the first 8 bytes of a password count, as in every VNC server.
	ch := []byte("0123456789abcdef")
	a, _ := VNCAuthResponse("password", ch)
	b, _ := VNCAuthResponse("password-and-more", ch)
	c, _ := VNCAuthResponse("passwore", ch)
	if !bytes.Equal(a, b) || bytes.Equal(a, c) {
		t.Errorf("8-byte truncation: %x %x %x", a, b, c)
	}
	if _, err := VNCAuthResponse("x", ch[:8]); err == nil {
		t.Error("a short challenge was accepted")
	}
	if reverseBits(0x17) != 0xe8 || reverseBits(0x01) != 0x80 || reverseBits(0xff) != 0xff {
		t.Error("reverseBits")
	}
}

// fakeRFB is a minimal RFB 3.8 server with VNC Authentication: a 4x2
// framebuffer of eight colours, sent raw.
func fakeRFB(t *testing.T, password string) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go serveRFB(c, password)
		}
	}()
	return ln.Addr().String()
}

func serveRFB(c net.Conn, password string) {
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	c.Write([]byte("RFB 003.008\n"))
	ver := make([]byte, 12)
	if _, err := io.ReadFull(c, ver); err != nil || string(ver) != "RFB 003.008\n" {
		return
	}
	c.Write([]byte{1, 2})
	sel := make([]byte, 1)
	if _, err := io.ReadFull(c, sel); err != nil || sel[0] != 2 {
		return
	}
	challenge := []byte("fedcba9876543210")
	c.Write(challenge)
	resp := make([]byte, 16)
	if _, err := io.ReadFull(c, resp); err != nil {
		return
	}
	want, _ := VNCAuthResponse(password, challenge)
	if !bytes.Equal(resp, want) {
		reason := "Authentication failed"
		b := []byte{0, 0, 0, 1, 0, 0, 0, byte(len(reason))}
		c.Write(append(b, reason...))
		return
	}
	c.Write([]byte{0, 0, 0, 0})
	io.ReadFull(c, sel)        // ClientInit
	init := []byte{0, 2, 0, 2} // 2x2 first, then resized to 4x2
	init = append(init, rgb32.bytes()...)
	init = append(init, 0, 0, 0, 4)
	c.Write(append(init, "fake"...))
	msg := make([]byte, 20+12) // SetPixelFormat, SetEncodings with two
	if _, err := io.ReadFull(c, msg); err != nil {
		return
	}
	req := make([]byte, 10)
	if _, err := io.ReadFull(c, req); err != nil || req[0] != 3 {
		return
	}
	c.Write([]byte{2}) // a bell first: skipped by the client
	if want := []byte{2, 0, 0, 2, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0x21}; !bytes.Equal(msg[20:], want) {
		return // SetEncodings: raw and DesktopSize
	}
	upd := []byte{0, 0, 0, 2, 0, 0, 0, 0, 0, 4, 0, 2, 0xff, 0xff, 0xff, 0x21} // DesktopSize 4x2
	upd = append(upd, 0, 0, 0, 0, 0, 4, 0, 2, 0, 0, 0, 0)
	for i := 0; i < 8; i++ {
		var px [4]byte
		binary.LittleEndian.PutUint32(px[:], uint32(i*0x203040))
		upd = append(upd, px[:]...)
	}
	c.Write(upd)
}

func TestVNCClientAgainstFakeServer(t *testing.T) {
	addr := fakeRFB(t, "s3cret!")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	v, err := DialVNC(ctx, addr, "s3cret!")
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	if v.Width != 2 || v.Height != 2 || v.Name != "fake" {
		t.Errorf("ServerInit: %dx%d %q", v.Width, v.Height, v.Name)
	}
	n, err := v.Update(false)
	if err != nil {
		t.Fatal(err)
	}
	if n != 8 || v.Width != 4 || v.Colours() != 8 || v.Pixels[7] != 7*0x203040 {
		t.Errorf("update: %d pixels, %dx%d, %d colours, last %06x", n, v.Width, v.Height, v.Colours(), v.Pixels[7])
	}
	if c := v.Image().RGBAAt(3, 1); c.R != 0xe1 || c.G != 0x51 || c.B != 0xc0 {
		t.Errorf("Image: pixel (3,1) %v, want e1 51 c0", c)
	}
	_, err = DialVNC(ctx, addr, "wrong")
	if !errors.Is(err, ErrVNCAuth) || !strings.Contains(err.Error(), "Authentication failed") {
		t.Errorf("wrong password: %v", err)
	}
}
