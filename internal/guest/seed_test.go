package guest

import (
	"crypto/ed25519"
	"crypto/rand"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"
	"gopkg.in/yaml.v3"
)

func testKey(t *testing.T) (ssh.PublicKey, string) {
	t.Helper()
	pub, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	k, err := ssh.NewPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return k, strings.TrimSpace(string(ssh.MarshalAuthorizedKey(k)))
}

func TestMakeSeed(t *testing.T) {
	_, line := testKey(t)
	s, err := MakeSeed(SeedConfig{
		InstanceID: "qemupack-x-1", Hostname: "box", PublicKey: line + " me@laptop",
		ReportURL: "http://10.0.2.100/hostkeys/abc", Makestep: "1 -1", KeyTypes: []string{"ed25519", "ecdsa"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(s.MetaData), "instance-id: qemupack-x-1\nlocal-hostname: box\n"; got != want {
		t.Errorf("meta-data %q, want %q", got, want)
	}
	ud := string(s.UserData)
	for _, want := range []string{
		"#cloud-config\n",
		"ssh_authorized_keys:\n  - \"" + line + " me@laptop\"\n",
		"ssh_genkeytypes: [ed25519, ecdsa]\n",
		"echo 'makestep 1 -1 # qemupack' >> \\\"$f\\\"",
		"runcmd:\n  - [ sh, -c, ",
		"http://10.0.2.100/hostkeys/abc?user=$u",
		"cat /etc/ssh/ssh_host_*_key.pub",
	} {
		if !strings.Contains(ud, want) {
			t.Errorf("user-data lacks %q:\n%s", want, ud)
		}
	}
}

func TestMakeSeedRejects(t *testing.T) {
	_, line := testKey(t)
	good := SeedConfig{InstanceID: "i-1", Hostname: "h", PublicKey: line}
	cases := map[string]func(c *SeedConfig){
		"instance id with a newline": func(c *SeedConfig) { c.InstanceID = "a\nb" },
		"hostname with a space":      func(c *SeedConfig) { c.Hostname = "a b" },
		"empty key":                  func(c *SeedConfig) { c.PublicKey = "" },
		"garbage key":                func(c *SeedConfig) { c.PublicKey = "ssh-ed25519 notbase64!!" },
		"private key":                func(c *SeedConfig) { c.PublicKey = "-----BEGIN OPENSSH PRIVATE KEY-----\nxx\n" },
		"key with options":           func(c *SeedConfig) { c.PublicKey = `command="sh" ` + line },
		"two keys":                   func(c *SeedConfig) { c.PublicKey = line + "\n" + line },
		"bad makestep":               func(c *SeedConfig) { c.Makestep = "1; rm -rf /" },
		"bad key type":               func(c *SeedConfig) { c.KeyTypes = []string{"dss; true"} },
		"report URL with a quote":    func(c *SeedConfig) { c.ReportURL = "http://x/'" },
	}
	for name, mutate := range cases {
		c := good
		mutate(&c)
		if _, err := MakeSeed(c); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if _, err := MakeSeed(good); err != nil {
		t.Errorf("good config refused: %v", err)
	}
}

func TestFindPublicKey(t *testing.T) {
	_, line := testKey(t)
	empty := t.TempDir()
	_, _, err := FindPublicKey("", empty)
	if err == nil || !strings.Contains(err.Error(), "no SSH public key found") || !strings.Contains(err.Error(), "ssh-keygen") || !strings.Contains(err.Error(), KeyEnv) {
		t.Errorf("empty folder: %v", err)
	}

	// A broken .pub is reported, not used.
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "id_rsa.pub"), []byte("not a key\n"), 0o644)
	_, _, err = FindPublicKey("", dir)
	if err == nil || !strings.Contains(err.Error(), "id_rsa.pub") {
		t.Errorf("broken key: %v", err)
	}
	// ed25519 is preferred over others.
	os.WriteFile(filepath.Join(dir, "other.pub"), []byte(line+" other\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "id_ed25519.pub"), []byte(line+" mine\n"), 0o644)
	p, k, err := FindPublicKey("", dir)
	if err != nil || filepath.Base(p) != "id_ed25519.pub" || k != line+" mine" {
		t.Errorf("got %s %q %v", p, k, err)
	}
	// An explicit file that is missing or bad is an error naming the variable.
	if _, _, err := FindPublicKey(filepath.Join(dir, "nope.pub"), dir); err == nil || !strings.Contains(err.Error(), KeyEnv) {
		t.Errorf("missing explicit key: %v", err)
	}
	if _, _, err := FindPublicKey(filepath.Join(dir, "id_rsa.pub"), dir); err == nil || !strings.Contains(err.Error(), "not an SSH public key") {
		t.Errorf("bad explicit key: %v", err)
	}
}

// The user-data must be YAML that decodes to exactly what we meant, and
// the shell it carries must parse.
func TestUserDataDecodes(t *testing.T) {
	_, line := testKey(t)
	url := "http://10.0.2.100/hostkeys/0123abcd"
	s, err := MakeSeed(SeedConfig{InstanceID: "i-1", Hostname: "h", PublicKey: line + " a@b", ReportURL: url, Makestep: "1.5 3", KeyTypes: []string{"ed25519"}})
	if err != nil {
		t.Fatal(err)
	}
	var ud struct {
		Keys   []string   `yaml:"ssh_authorized_keys"`
		Types  []string   `yaml:"ssh_genkeytypes"`
		Runcmd [][]string `yaml:"runcmd"`
	}
	if err := yaml.Unmarshal(s.UserData, &ud); err != nil {
		t.Fatalf("user-data is not YAML: %v\n%s", err, s.UserData)
	}
	if len(ud.Keys) != 1 || ud.Keys[0] != line+" a@b" {
		t.Errorf("keys %q", ud.Keys)
	}
	if len(ud.Types) != 1 || ud.Types[0] != "ed25519" {
		t.Errorf("key types %q", ud.Types)
	}
	if len(ud.Runcmd) != 2 {
		t.Fatalf("runcmd %q", ud.Runcmd)
	}
	want := []string{makestepScript("1.5 3"), reportScript(url, line+" a@b")}
	for i, cmd := range ud.Runcmd {
		if len(cmd) != 3 || cmd[0] != "sh" || cmd[1] != "-c" || cmd[2] != want[i] {
			t.Errorf("runcmd %d: %q", i, cmd)
			continue
		}
		if out, err := exec.Command("sh", "-n", "-c", cmd[2]).CombinedOutput(); err != nil {
			t.Errorf("runcmd %d is not valid shell: %v\n%s", i, err, out)
		}
	}
}
