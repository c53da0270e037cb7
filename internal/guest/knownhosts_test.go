package guest

import (
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

func TestKnownHostsFormat(t *testing.T) {
	k1, l1 := testKey(t)
	k2, l2 := testKey(t)
	kh, err := KnownHosts(2222, []ssh.PublicKey{k1, k2})
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(kh)), "\n")
	if len(lines) != 2 {
		t.Fatalf("lines %q", lines)
	}
	for _, l := range []string{l1, l2} {
		if !strings.Contains(string(kh), "[127.0.0.1]:2222 "+l+"\n") {
			t.Errorf("no line for %s in\n%s", l, kh)
		}
	}
	// x/crypto's own reader accepts k1 for the forward and nothing else.
	p := filepath.Join(t.TempDir(), "known_hosts")
	os.WriteFile(p, kh, 0o600)
	cb, err := knownhosts.New(p)
	if err != nil {
		t.Fatal(err)
	}
	addr := &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 2222}
	if err := cb("127.0.0.1:2222", addr, k1); err != nil {
		t.Errorf("pinned key refused: %v", err)
	}
	k3, _ := testKey(t)
	if err := cb("127.0.0.1:2222", addr, k3); err == nil {
		t.Error("an unpinned key was accepted")
	}
	if err := cb("127.0.0.1:2223", &net.TCPAddr{IP: addr.IP, Port: 2223}, k1); err == nil {
		t.Error("the pin also matched another port")
	}
	if _, err := KnownHosts(22, nil); err == nil {
		t.Error("no keys accepted")
	}
}

func TestSerialHostKeys(t *testing.T) {
	k1, l1 := testKey(t)
	k2, l2 := testKey(t)
	log := "[  12.3] random kernel line\r\n" +
		"<14>Nov 26 02:16:42 cloud-init: #############################################################\r\n" +
		"-----BEGIN SSH HOST KEY KEYS-----\r\n" + l1 + " root@box\r\n" +
		"[   80.1] a kernel message in between\r\n" + l2 + " root@box\r\n" +
		"-----END SSH HOST KEY KEYS-----\r\n"
	keys, complete := SerialHostKeys([]byte(log))
	if !complete || len(keys) != 2 {
		t.Fatalf("complete %v, keys %d", complete, len(keys))
	}
	if err := CrossCheck([]ssh.PublicKey{k2, k1}, keys); err != nil {
		t.Errorf("matching keys: %v", err)
	}
	k3, _ := testKey(t)
	if err := CrossCheck([]ssh.PublicKey{k1, k3}, keys); err == nil || !strings.Contains(err.Error(), "cannot be trusted") {
		t.Errorf("mismatch: %v", err)
	}
	// The report may hold more types than the console shows.
	if err := CrossCheck([]ssh.PublicKey{k1, k2, k3}, keys); err != nil {
		t.Errorf("superset report: %v", err)
	}
	if err := CrossCheck([]ssh.PublicKey{k1}, nil); err == nil {
		t.Error("nothing to compare with, yet no error")
	}
	// Half-printed block: not complete yet.
	if _, complete := SerialHostKeys([]byte("-----BEGIN SSH HOST KEY KEYS-----\r\n" + l1 + "\r\n")); complete {
		t.Error("an unfinished block counted as complete")
	}
	if keys, _ := SerialHostKeys([]byte("no markers here")); keys != nil {
		t.Error("keys found without markers")
	}
}

// A real serial console (Debian bookworm, cloud-init 22.4, captured by
// `mage vm:up`): the keys between the markers must have the fingerprints
// cloud-init printed in its FINGERPRINTS block just above.
func TestSerialHostKeysRealLog(t *testing.T) {
	log, err := os.ReadFile(filepath.Join("..", "..", "testdata", "guest", "serial-bookworm-cloudinit22.log"))
	if err != nil {
		t.Fatal(err)
	}
	keys, complete := SerialHostKeys(log)
	if !complete || len(keys) != 2 {
		t.Fatalf("complete %v, %d keys", complete, len(keys))
	}
	for _, k := range keys {
		if !strings.Contains(string(log), "256 "+ssh.FingerprintSHA256(k)+" root@default") {
			t.Errorf("%s %s is not among the printed fingerprints", k.Type(), ssh.FingerprintSHA256(k))
		}
	}
	if keys[0].Type() != "ecdsa-sha2-nistp256" || keys[1].Type() != "ssh-ed25519" {
		t.Errorf("types %s %s", keys[0].Type(), keys[1].Type())
	}
}
