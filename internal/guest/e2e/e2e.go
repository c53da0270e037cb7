// Package e2e is the end-to-end proof of the guest runner: it builds (or
// takes from the cache) a small Debian image with real cloud-init, boots it
// with QEMU under -netdev user,restrict=on, and checks that the seed was
// read, our key was injected, the host keys came back, and ssh against the
// pinned known_hosts runs a command in the guest. Used by `mage vm:e2e` and
// by the opt-in test (QEMUPACK_E2E=1).
package e2e

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/crypto/ssh"

	"qemupack/internal/guest"
	"qemupack/internal/guest/debimage"
)

// Result is what one boot proved and how long each part took.
type Result struct {
	Mode        string
	Accel       string
	Boot        time.Duration // QEMU start to pinned host keys
	SSH         time.Duration // the ssh command
	Down        time.Duration
	Fetched     []string
	User        string
	HostKeys    []string
	SerialCheck string
	Datasource  string // cloud-init's own line naming the seed it used
	Output      string // what the command printed in the guest
}

// Options for a run.
type Options struct {
	CacheDir string // where the image is cached
	WorkDir  string // state, keys and logs of this run
	Mode     string // http or iso
	QEMU     []string
	Accel    string // "" = auto
	Timeout  time.Duration
	Progress func(string)
}

// Image builds or finds the test image.
func Image(ctx context.Context, cacheDir string, progress func(string)) (debimage.Image, error) {
	return debimage.Build(ctx, cacheDir, debimage.DefaultRecipe(), progress)
}

// Run boots the image once in the given seed mode and checks everything.
func Run(ctx context.Context, img debimage.Image, o Options) (Result, error) {
	say := o.Progress
	if say == nil {
		say = func(string) {}
	}
	res := Result{Mode: o.Mode}
	keyDir := filepath.Join(o.WorkDir, "ssh-"+o.Mode)
	pubFile, err := makeKey(keyDir)
	if err != nil {
		return res, err
	}
	name := "e2e-" + o.Mode
	timeout := o.Timeout
	if timeout == 0 {
		timeout = 20 * time.Minute
	}
	opts := guest.Options{
		Name:          name,
		StateRoot:     filepath.Join(o.WorkDir, "vm"),
		Image:         img.Disk,
		Kernel:        img.Kernel,
		Initrd:        img.Initrd,
		Append:        img.Append,
		QEMU:          o.QEMU,
		Accel:         o.Accel,
		Restrict:      true,
		SeedMode:      o.Mode,
		PublicKeyFile: pubFile,
		BootTimeout:   timeout,
		Progress:      say,
	}
	before, err := os.Stat(img.Disk)
	if err != nil {
		return res, err
	}
	t0 := time.Now()
	st, err := guest.Up(ctx, opts)
	if err != nil {
		return res, err
	}
	res.Boot = time.Since(t0)
	res.Accel = st.Accel
	res.Fetched = st.Fetched
	res.User = st.User
	res.HostKeys = st.HostKeys
	res.SerialCheck = st.SerialCheck
	defer func() {
		if st.Running() {
			guest.Down(context.Background(), opts.StateRoot, name, 30*time.Second, nil)
		}
	}()

	// The seed: over HTTP the server saw both files; from the ISO it saw
	// none, and cloud-init names the CD-ROM as its seed.
	serial, _ := os.ReadFile(st.SerialLog)
	res.Datasource = datasourceLine(serial)
	switch o.Mode {
	case "http":
		if !strings.Contains(strings.Join(st.Fetched, " "), "meta-data") || !strings.Contains(strings.Join(st.Fetched, " "), "user-data") {
			return res, fmt.Errorf("e2e %s: the seed server did not serve meta-data and user-data (served: %v)", o.Mode, st.Fetched)
		}
	case "iso":
		if strings.Contains(strings.Join(st.Fetched, " "), "user-data") {
			return res, fmt.Errorf("e2e iso: the guest fetched user-data over HTTP, so the ISO was not what it used (served: %v)", st.Fetched)
		}
	}
	if st.User == "" || st.User == "root" {
		return res, fmt.Errorf("e2e %s: the guest did not find our key in a user's authorized_keys (user %q)", o.Mode, st.User)
	}
	if !strings.Contains(st.SerialCheck, "match") {
		return res, fmt.Errorf("e2e %s: host keys not cross-checked with the serial console: %s", o.Mode, st.SerialCheck)
	}

	// ssh with the pinned known_hosts, strict, in batch mode.
	t1 := time.Now()
	sctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	args := st.SSH(true, "sh", "-c", "'echo guest=$(hostname) user=$(id -un); cloud-init status; grep ^makestep /etc/chrony/chrony.conf; cat /var/lib/cloud/data/instance-id'")
	cmd := exec.CommandContext(sctx, args[0], args[1:]...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return res, fmt.Errorf("e2e %s: %s: %v\n%s", o.Mode, strings.Join(args, " "), err, errb.String())
	}
	res.SSH = time.Since(t1)
	res.Output = strings.TrimSpace(out.String())
	if !strings.Contains(res.Output, "guest=e2e-"+o.Mode) || !strings.Contains(res.Output, "user="+st.User) || !strings.Contains(res.Output, "status: done") ||
		!strings.Contains(res.Output, "makestep 1 -1 # qemupack") {
		return res, fmt.Errorf("e2e %s: unexpected output from the guest: %q", o.Mode, res.Output)
	}
	say(fmt.Sprintf("e2e %s: ssh ran in the guest: %s", o.Mode, strings.ReplaceAll(res.Output, "\n", " | ")))

	// The same client must refuse a host key that is not pinned: run it
	// against a known_hosts with a different key.
	if err := refusesOtherKey(sctx, st); err != nil {
		return res, fmt.Errorf("e2e %s: %w", o.Mode, err)
	}

	t2 := time.Now()
	down, err := guest.Down(ctx, opts.StateRoot, name, 90*time.Second, say)
	if err != nil {
		return res, err
	}
	res.Down = time.Since(t2)
	if !strings.HasPrefix(down.Stopped, "powered off") {
		return res, fmt.Errorf("e2e %s: the guest did not power off on QMP system_powerdown: %s", o.Mode, down.Stopped)
	}
	after, err := os.Stat(img.Disk)
	if err != nil {
		return res, err
	}
	if !after.ModTime().Equal(before.ModTime()) || after.Size() != before.Size() {
		return res, fmt.Errorf("e2e %s: the base image %s changed during the run", o.Mode, img.Disk)
	}
	return res, nil
}

// refusesOtherKey checks that ssh with StrictHostKeyChecking=yes fails
// when the pinned file holds some other key: the pin is what lets it in.
func refusesOtherKey(ctx context.Context, st *guest.State) error {
	pub, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return err
	}
	k, _ := ssh.NewPublicKey(pub)
	kh, _ := guest.KnownHosts(st.SSHPort, []ssh.PublicKey{k})
	wrong := filepath.Join(st.Dir, "known_hosts.wrong")
	if err := os.WriteFile(wrong, kh, 0o600); err != nil {
		return err
	}
	other := *st
	other.KnownHosts = wrong
	args := other.SSH(true, "true")
	cmd := exec.CommandContext(ctx, args[0], args[1:]...)
	var errb bytes.Buffer
	cmd.Stderr = &errb
	if err := cmd.Run(); err == nil {
		return fmt.Errorf("ssh accepted the guest with a known_hosts that pins another key")
	}
	if !strings.Contains(errb.String(), "HOST IDENTIFICATION HAS CHANGED") && !strings.Contains(errb.String(), "Host key verification failed") {
		return fmt.Errorf("ssh with a wrong pin failed, but not on the host key: %s", errb.String())
	}
	return nil
}

// datasourceLine returns cloud-init's final line naming the datasource.
func datasourceLine(serial []byte) string {
	for _, l := range strings.Split(strings.ReplaceAll(string(serial), "\r", ""), "\n") {
		if strings.Contains(l, "Datasource DataSourceNoCloud") {
			if i := strings.Index(l, "Datasource "); i >= 0 {
				return strings.TrimSpace(l[i:])
			}
		}
	}
	return ""
}

// makeKey writes a fresh ed25519 key pair (OpenSSH format) into dir and
// returns the public key's path.
func makeKey(dir string) (string, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", err
	}
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return "", err
	}
	block, err := ssh.MarshalPrivateKey(priv, "qemupack-e2e")
	if err != nil {
		return "", err
	}
	sp, err := ssh.NewPublicKey(pub)
	if err != nil {
		return "", err
	}
	privFile := filepath.Join(dir, "id_ed25519")
	if err := os.WriteFile(privFile, pem.EncodeToMemory(block), 0o600); err != nil {
		return "", err
	}
	pubFile := privFile + ".pub"
	line := strings.TrimSpace(string(ssh.MarshalAuthorizedKey(sp))) + " qemupack-e2e\n"
	if err := os.WriteFile(pubFile, []byte(line), 0o644); err != nil {
		return "", err
	}
	return pubFile, nil
}
