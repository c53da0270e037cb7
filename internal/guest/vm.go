package guest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"

	"qemupack/internal/atomicfile"
)

// Options describe one VM to start.
type Options struct {
	Name      string // names the state folder; default "default"
	StateRoot string // folder holding one sub-folder per VM (under the cache)

	Image          string // the user's cloud image (qcow2 or raw); never written
	Kernel, Initrd string // optional direct kernel boot
	Append         string

	QEMU    []string // QEMU program (with wrapper); default qemu-system-x86_64
	QEMUImg string   // default: qemu-img on PATH, else the one beside QEMU
	Accel   string   // auto (default), kvm, tcg, whpx, hvf
	CPUs    int      // default 1
	MemMiB  int      // default 1024

	Restrict bool   // restrict=on: the guest reaches nothing but our forwards
	SeedMode string // "http" (default: SMBIOS pointer to the seed server) or "iso" (cidata CD-ROM)

	PublicKeyFile string // "" = search SSHDir
	SSHDir        string // default ~/.ssh
	Makestep      string // chrony makestep; default "1 -1"; "off" leaves chrony alone
	KeyTypes      []string

	BootTimeout time.Duration // until the host keys are reported; default 15 min
	SerialWait  time.Duration // after the report, for the keys on the serial console; default 2 min

	Progress func(string) // one line per step
}

// State is what a running VM leaves in its folder (state.json), so the
// other vm:* targets find it.
type State struct {
	Name        string    `json:"name"`
	PID         int       `json:"pid"`
	Tag         string    `json:"tag"` // -name given to QEMU; checked against the pid
	Started     time.Time `json:"started"`
	Accel       string    `json:"accel"`
	Restrict    bool      `json:"restrict"`
	SeedMode    string    `json:"seed_mode"`
	SSHPort     int       `json:"ssh_port"`
	QMPPort     int       `json:"qmp_port"`
	SeedPort    int       `json:"seed_port"`
	Token       string    `json:"token"`
	Image       string    `json:"image"`
	ImageFormat string    `json:"image_format"`
	Dir         string    `json:"dir"`
	Overlay     string    `json:"overlay"`
	SeedISO     string    `json:"seed_iso,omitempty"`
	SerialLog   string    `json:"serial_log"`
	ServerLog   string    `json:"server_log"`
	QEMULog     string    `json:"qemu_log"`
	KnownHosts  string    `json:"known_hosts"`
	User        string    `json:"user"`
	PublicKey   string    `json:"public_key_file"`
	Identity    string    `json:"identity,omitempty"`
	HostKeys    []string  `json:"host_keys"` // type and SHA256 fingerprint
	SerialCheck string    `json:"serial_check"`
	Args        []string  `json:"qemu_args"`
	Fetched     []string  `json:"seed_fetched"`

	// Stopped says how Down ended the VM (not saved).
	Stopped string `json:"-"`
}

var nameRe = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,30}$`)

// stateDir is the folder of the VM called name.
func stateDir(root, name string) (string, error) {
	if !nameRe.MatchString(name) {
		return "", fmt.Errorf("VM name %q: use up to 31 lower-case letters, digits and '-'", name)
	}
	return filepath.Join(root, name), nil
}

// Load reads the state of the VM called name.
func Load(root, name string) (*State, error) {
	dir, err := stateDir(root, name)
	if err != nil {
		return nil, err
	}
	b, err := os.ReadFile(filepath.Join(dir, "state.json"))
	if errors.Is(err, os.ErrNotExist) {
		if _, derr := os.Stat(filepath.Join(dir, "serial.log")); derr == nil {
			return nil, fmt.Errorf("VM %q is not running (the logs of its last run are in %s): start it with `mage vm:up`", name, dir)
		}
		return nil, fmt.Errorf("no VM %q (nothing in %s): start one with `mage vm:up`", name, dir)
	}
	if err != nil {
		return nil, fmt.Errorf("VM %s: %w", name, err)
	}
	var st State
	if err := json.Unmarshal(b, &st); err != nil {
		return nil, fmt.Errorf("VM %s: %s is damaged: %w", name, filepath.Join(dir, "state.json"), err)
	}
	return &st, nil
}

func (st *State) save() error {
	b, _ := json.MarshalIndent(st, "", "  ")
	return atomicfile.WriteFile(filepath.Join(st.Dir, "state.json"), append(b, '\n'), 0o600)
}

// Running tells whether the VM's QEMU is still there.
func (st *State) Running() bool { return alive(st.PID, st.Tag) }

// SSH returns the ssh command line into the VM, pinned to its known_hosts.
func (st *State) SSH(batch bool, command ...string) []string {
	return SSHSpec{SSH: "ssh", User: st.User, Port: st.SSHPort, KnownHosts: st.KnownHosts, Identity: st.Identity, Batch: batch}.SSHArgs(command...)
}

// Up starts the VM and returns once its host keys are pinned and its SSH
// server presents one of them. On failure QEMU is stopped and the error
// says what the guest was doing (the serial log's tail).
func Up(ctx context.Context, o Options) (*State, error) {
	say := o.Progress
	if say == nil {
		say = func(string) {}
	}
	o = withDefaults(o)
	dir, err := stateDir(o.StateRoot, o.Name)
	if err != nil {
		return nil, err
	}
	if old, err := Load(o.StateRoot, o.Name); err == nil && old.Running() {
		return nil, fmt.Errorf("VM %s is already running (pid %d): stop it with `mage vm:down` first", o.Name, old.PID)
	}

	// Check every input before anything starts.
	if o.Image == "" {
		return nil, errors.New("no guest image given: set QEMUPACK_VM_IMAGE to a cloud image (qcow2 or raw)")
	}
	image, err := filepath.Abs(o.Image)
	if err != nil {
		return nil, err
	}
	format, err := DetectFormat(image)
	if err != nil {
		return nil, err
	}
	for _, f := range []struct{ what, path string }{{"kernel", o.Kernel}, {"initrd", o.Initrd}} {
		if f.path == "" {
			continue
		}
		if fh, err := os.Open(f.path); err != nil {
			return nil, fmt.Errorf("guest %s: cannot read it: %w", f.what, err)
		} else {
			fh.Close()
		}
	}
	pubFile, pubKey, err := FindPublicKey(o.PublicKeyFile, o.SSHDir)
	if err != nil {
		return nil, err
	}
	if o.SeedMode != "http" && o.SeedMode != "iso" {
		return nil, fmt.Errorf("seed mode %q: use http or iso", o.SeedMode)
	}
	if _, err := exec.LookPath(o.QEMU[0]); err != nil {
		return nil, fmt.Errorf("QEMU %s not found: install qemu-system-x86 (Debian) or set QEMUPACK_VM_QEMU to a qemu-system-x86_64 program: %w", o.QEMU[0], err)
	}

	// A fresh folder: logs and overlay of an earlier run go.
	if err := os.RemoveAll(dir); err != nil {
		return nil, fmt.Errorf("VM %s: clearing %s: %w", o.Name, dir, err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("VM %s: %w", o.Name, err)
	}
	st := &State{
		Name:        o.Name,
		Tag:         "qemupack-" + o.Name,
		Restrict:    o.Restrict,
		SeedMode:    o.SeedMode,
		Image:       image,
		ImageFormat: format,
		Dir:         dir,
		Overlay:     filepath.Join(dir, "overlay.qcow2"),
		SerialLog:   filepath.Join(dir, "serial.log"),
		ServerLog:   filepath.Join(dir, "seed-server.log"),
		QEMULog:     filepath.Join(dir, "qemu.log"),
		KnownHosts:  filepath.Join(dir, "known_hosts"),
		PublicKey:   pubFile,
	}
	if priv := strings.TrimSuffix(pubFile, ".pub"); priv != pubFile {
		if _, err := os.Stat(priv); err == nil {
			st.Identity = priv
		}
	}
	say(fmt.Sprintf("vm %s: image %s (%s), key %s", o.Name, image, format, pubFile))
	if err := CreateOverlay(ctx, qemuImgCommand(o), image, format, st.Overlay, filepath.Join(dir, "qemu-img.log")); err != nil {
		return nil, err
	}

	// The seed server: everything it hears goes to its log and to the user.
	logFile, err := os.OpenFile(st.ServerLog, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("VM %s: %w", o.Name, err)
	}
	defer logFile.Close()
	var logMu sync.Mutex
	logf := func(format string, args ...any) {
		line := fmt.Sprintf(format, args...)
		logMu.Lock()
		fmt.Fprintf(logFile, "%s %s\n", time.Now().UTC().Format(time.RFC3339), line)
		logMu.Unlock()
		say("vm " + o.Name + ": " + line)
	}
	srv, err := NewServer(0, logf)
	if err != nil {
		return nil, err
	}
	defer srv.Close()
	st.SeedPort = srv.Addr().Port
	st.Token = srv.Token()
	if st.SSHPort, err = freePort(); err != nil {
		return nil, err
	}
	if st.QMPPort, err = freePort(); err != nil {
		return nil, err
	}

	host := strings.ReplaceAll(o.Name, "_", "-")
	idb := make([]byte, 6)
	rand.Read(idb)
	makestep := o.Makestep
	if makestep == "off" {
		makestep = ""
	}
	seed, err := MakeSeed(SeedConfig{
		InstanceID: "qemupack-" + o.Name + "-" + hex.EncodeToString(idb),
		Hostname:   host,
		PublicKey:  pubKey,
		ReportURL:  SeedBaseURL(o.Restrict, st.SeedPort) + strings.TrimPrefix(srv.ReportPath(), "/"),
		Makestep:   makestep,
		KeyTypes:   o.KeyTypes,
	})
	if err != nil {
		return nil, err
	}
	srv.SetSeed(seed)
	if err := os.WriteFile(filepath.Join(dir, "user-data"), seed.UserData, 0o600); err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(dir, "meta-data"), seed.MetaData, 0o600); err != nil {
		return nil, err
	}
	if o.SeedMode == "iso" {
		st.SeedISO = filepath.Join(dir, "seed.iso")
		if err := WriteSeedISO(st.SeedISO, seed, time.Now()); err != nil {
			return nil, err
		}
	}

	accel, why, err := ResolveAccel(ctx, o.Accel, o.QEMU, dir)
	if err != nil {
		return nil, err
	}
	st.Accel = accel
	say(fmt.Sprintf("vm %s: accelerator %s (%s)", o.Name, accel, why))

	spec := BootSpec{
		QEMU: o.QEMU, Name: st.Tag, Accel: accel, CPUs: o.CPUs, MemMiB: o.MemMiB,
		Disk: st.Overlay, Kernel: o.Kernel, Initrd: o.Initrd, Append: o.Append,
		SerialLog: st.SerialLog, PidFile: filepath.Join(dir, "qemu.pid"),
		QMPPort: st.QMPPort, SSHPort: st.SSHPort, Restrict: o.Restrict, SeedPort: st.SeedPort,
		SeedISO: st.SeedISO,
	}
	args, err := spec.Args()
	if err != nil {
		return nil, err
	}
	st.Args = args
	qlog, err := os.Create(st.QEMULog)
	if err != nil {
		return nil, err
	}
	defer qlog.Close()
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Stdout, cmd.Stderr = qlog, qlog
	cmd.Dir = dir
	detach(cmd)
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start QEMU %s: %w", args[0], err)
	}
	st.PID = cmd.Process.Pid
	st.Started = start
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	if err := st.save(); err != nil {
		kill(st.PID)
		return nil, err
	}
	say(fmt.Sprintf("vm %s: QEMU started (pid %d, %s, restrict=%v, seed by %s); waiting up to %s for the guest's host keys", o.Name, st.PID, accel, o.Restrict, o.SeedMode, o.BootTimeout))

	fail := func(err error) (*State, error) {
		kill(st.PID)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
		}
		return nil, fmt.Errorf("%w\n%s", err, st.tails())
	}

	// Wait for the report, bounded: cloud-init waits forever on a dead seed.
	timer := time.NewTimer(o.BootTimeout)
	defer timer.Stop()
	tick := time.NewTicker(30 * time.Second)
	defer tick.Stop()
	look := time.NewTicker(5 * time.Second)
	defer look.Stop()
	var rep Report
wait:
	for {
		select {
		case <-look.C:
			if b, _ := os.ReadFile(st.SerialLog); bytes.Contains(b, []byte("Used fallback datasource")) {
				return fail(fmt.Errorf("VM %s: cloud-init found no NoCloud seed and used its fallback datasource (seed by %s; served: %s): %s", o.Name, o.SeedMode, fetchedList(srv.Fetched()), noSeedHint(o.SeedMode)))
			}
		case rep = <-srv.Reported():
			break wait
		case err := <-exited:
			if err == nil {
				err = errors.New("exit status 0")
			}
			return fail(fmt.Errorf("VM %s: QEMU ended before the guest reported its host keys (%v); its output is in %s", o.Name, err, st.QEMULog))
		case <-timer.C:
			return fail(fmt.Errorf("VM %s: no host-key report from the guest within %s (seed fetched: %s)", o.Name, o.BootTimeout, fetchedList(srv.Fetched())))
		case <-ctx.Done():
			return fail(fmt.Errorf("VM %s: %w", o.Name, ctx.Err()))
		case <-tick.C:
			say(fmt.Sprintf("vm %s: still booting (%s; serial: %s)", o.Name, time.Since(start).Round(time.Second), lastSerialLine(st.SerialLog)))
		}
	}
	say(fmt.Sprintf("vm %s: host keys reported %s after start", o.Name, time.Since(start).Round(time.Second)))
	st.User = rep.User
	for _, k := range rep.Keys {
		st.HostKeys = append(st.HostKeys, k.Type()+" "+ssh.FingerprintSHA256(k))
	}
	st.Fetched = fetchedList(srv.Fetched())
	kh, err := KnownHosts(st.SSHPort, rep.Keys)
	if err != nil {
		return fail(err)
	}
	if err := atomicfile.WriteFile(st.KnownHosts, kh, 0o600); err != nil {
		return fail(err)
	}

	// Cross-check with the serial console, when the guest prints the keys there.
	deadline := time.Now().Add(o.SerialWait)
	for {
		log, _ := os.ReadFile(st.SerialLog)
		keys, complete := SerialHostKeys(log)
		if complete {
			if err := CrossCheck(rep.Keys, keys); err != nil {
				return fail(fmt.Errorf("VM %s: %w", o.Name, err))
			}
			st.SerialCheck = fmt.Sprintf("%d keys on the serial console match the report", len(keys))
			break
		}
		if time.Now().After(deadline) {
			st.SerialCheck = fmt.Sprintf("no host keys on the serial console within %s: pinned the POSTed keys unchecked", o.SerialWait)
			break
		}
		select {
		case <-ctx.Done():
			return fail(ctx.Err())
		case err := <-exited:
			return fail(fmt.Errorf("VM %s: QEMU ended (%v)", o.Name, err))
		case <-time.After(time.Second):
		}
	}
	say(fmt.Sprintf("vm %s: %s", o.Name, st.SerialCheck))

	// The SSH server must present a pinned key (no login needed for that).
	if err := waitHostKey(ctx, st, 2*time.Minute); err != nil {
		return fail(err)
	}
	if err := st.save(); err != nil {
		return fail(err)
	}
	say(fmt.Sprintf("vm %s: SSH on 127.0.0.1:%d presents a pinned host key; user %s", o.Name, st.SSHPort, st.User))
	return st, nil
}

func noSeedHint(mode string) string {
	if mode == "iso" {
		return "the guest did not see the cidata CD-ROM; does its kernel have drivers for an IDE CD-ROM (ata_piix, sr_mod) and ISO 9660 (isofs)? Try QEMUPACK_VM_SEED=http"
	}
	return "the guest did not fetch the seed; does the image read SMBIOS (dmidecode) and use cloud-init's NoCloud datasource? Try QEMUPACK_VM_SEED=iso"
}

// waitHostKey connects to the guest's SSH port until its server completes
// a key exchange with a host key from known_hosts. Authentication is not
// attempted: the point is the host key.
func waitHostKey(ctx context.Context, st *State, limit time.Duration) error {
	cb, err := knownhosts.New(st.KnownHosts)
	if err != nil {
		return fmt.Errorf("known_hosts %s: %w", st.KnownHosts, err)
	}
	errPinned := errors.New("pinned key matched")
	deadline := time.Now().Add(limit)
	var last error
	for time.Now().Before(deadline) {
		addr := fmt.Sprintf("127.0.0.1:%d", st.SSHPort)
		cfg := &ssh.ClientConfig{
			User: "probe",
			HostKeyCallback: func(h string, r net.Addr, k ssh.PublicKey) error {
				if err := cb(h, r, k); err != nil {
					return err
				}
				return errPinned
			},
			Timeout: 15 * time.Second,
		}
		_, err := ssh.Dial("tcp", addr, cfg)
		if err != nil && strings.Contains(err.Error(), errPinned.Error()) {
			return nil
		}
		var keyErr *knownhosts.KeyError
		if errors.As(err, &keyErr) {
			return fmt.Errorf("SSH on %s presents a host key that is not the one the guest reported: %w", addr, err)
		}
		last = err
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(2 * time.Second):
		}
	}
	return fmt.Errorf("SSH on 127.0.0.1:%d did not answer within %s: %v", st.SSHPort, limit, last)
}

// Down stops the VM: ACPI power button through QMP, then a kill when the
// guest has not powered off within timeout. The overlay goes; logs stay.
func Down(ctx context.Context, root, name string, timeout time.Duration, say func(string)) (*State, error) {
	if say == nil {
		say = func(string) {}
	}
	st, err := Load(root, name)
	if err != nil {
		return nil, err
	}
	if !st.Running() {
		st.Stopped = "was not running"
		say(fmt.Sprintf("vm %s: not running (pid %d gone)", name, st.PID))
		return st, st.cleanup()
	}
	t0 := time.Now()
	qctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	q, err := DialQMP(qctx, fmt.Sprintf("127.0.0.1:%d", st.QMPPort))
	cancel()
	if err == nil {
		_, err = q.Execute("system_powerdown", nil)
		q.Close()
	}
	if err != nil {
		say(fmt.Sprintf("vm %s: QMP powerdown failed (%v); killing pid %d", name, err, st.PID))
	} else {
		say(fmt.Sprintf("vm %s: ACPI shutdown sent; waiting up to %s", name, timeout))
		deadline := time.Now().Add(timeout)
		for st.Running() && time.Now().Before(deadline) {
			select {
			case <-ctx.Done():
				return st, ctx.Err()
			case <-time.After(200 * time.Millisecond):
			}
		}
	}
	st.Stopped = fmt.Sprintf("powered off %s after the ACPI shutdown", time.Since(t0).Round(100*time.Millisecond))
	if st.Running() {
		st.Stopped = "killed"
		if err == nil {
			st.Stopped = fmt.Sprintf("killed: still running %s after the ACPI shutdown", timeout)
			say(fmt.Sprintf("vm %s: still running after %s; killing pid %d", name, timeout, st.PID))
		}
		if err := kill(st.PID); err != nil {
			return st, fmt.Errorf("VM %s: kill pid %d: %w", name, st.PID, err)
		}
		for i := 0; i < 50 && st.Running(); i++ {
			time.Sleep(100 * time.Millisecond)
		}
	}
	return st, st.cleanup()
}

// cleanup removes what only a running VM needs.
func (st *State) cleanup() error {
	for _, p := range []string{st.Overlay, filepath.Join(st.Dir, "state.json")} {
		if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("VM %s: %w", st.Name, err)
		}
	}
	return nil
}

// Status describes the VM for a user.
func Status(ctx context.Context, root, name string) (string, error) {
	st, err := Load(root, name)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	state := "stopped (the QEMU process is gone)"
	if st.Running() {
		state = "running"
		qctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		if q, err := DialQMP(qctx, fmt.Sprintf("127.0.0.1:%d", st.QMPPort)); err == nil {
			if s, err := q.Status(); err == nil {
				state = "running (QEMU says: " + s + ")"
			}
			q.Close()
		}
		cancel()
	}
	fmt.Fprintf(&b, "VM %s: %s\n", st.Name, state)
	fmt.Fprintf(&b, "  pid %d, up %s, accelerator %s, restrict=%v, seed by %s\n", st.PID, time.Since(st.Started).Round(time.Second), st.Accel, st.Restrict, st.SeedMode)
	fmt.Fprintf(&b, "  image %s (%s), overlay %s\n", st.Image, st.ImageFormat, st.Overlay)
	fmt.Fprintf(&b, "  ssh: %s\n", strings.Join(st.SSH(false), " "))
	fmt.Fprintf(&b, "  pinned host keys (%s): %s\n", st.KnownHosts, strings.Join(st.HostKeys, ", "))
	fmt.Fprintf(&b, "  serial check: %s\n", st.SerialCheck)
	fmt.Fprintf(&b, "  logs: %s, %s, %s\n", st.SerialLog, st.ServerLog, st.QEMULog)
	return b.String(), nil
}

func withDefaults(o Options) Options {
	if o.Name == "" {
		o.Name = "default"
	}
	if len(o.QEMU) == 0 || o.QEMU[0] == "" {
		o.QEMU = []string{"qemu-system-x86_64"}
	}
	if len(o.QEMU) == 1 && runtime.GOOS != "windows" && strings.HasSuffix(strings.ToLower(o.QEMU[0]), ".exe") {
		o.QEMU = []string{"wine", o.QEMU[0]}
	}
	if o.Accel == "" {
		o.Accel = "auto"
	}
	if o.CPUs == 0 {
		o.CPUs = 1
	}
	if o.MemMiB == 0 {
		o.MemMiB = 1024
	}
	if o.SeedMode == "" {
		o.SeedMode = "http"
	}
	if o.SSHDir == "" {
		if home, err := os.UserHomeDir(); err == nil {
			o.SSHDir = filepath.Join(home, ".ssh")
		}
	}
	if o.Makestep == "" {
		o.Makestep = "1 -1"
	}
	if o.KeyTypes == nil {
		o.KeyTypes = []string{"ed25519", "ecdsa"}
	}
	if o.BootTimeout == 0 {
		o.BootTimeout = 15 * time.Minute
	}
	if o.SerialWait == 0 {
		o.SerialWait = 2 * time.Minute
	}
	return o
}

// qemuImgCommand is the qemu-img to run: the one asked for, else the
// host's on PATH, else the one beside the QEMU program (under wine when
// that is a Windows program on another system).
func qemuImgCommand(o Options) []string {
	wrap := func(p string) []string {
		if runtime.GOOS != "windows" && strings.HasSuffix(strings.ToLower(p), ".exe") {
			return []string{"wine", p}
		}
		return []string{p}
	}
	if o.QEMUImg != "" {
		return wrap(o.QEMUImg)
	}
	if _, err := exec.LookPath("qemu-img"); err == nil {
		return []string{"qemu-img"}
	}
	prog := o.QEMU[len(o.QEMU)-1]
	for _, name := range []string{"qemu-img.exe", "qemu-img"} {
		p := filepath.Join(filepath.Dir(prog), name)
		if _, err := os.Stat(p); err == nil {
			return wrap(p)
		}
	}
	return []string{"qemu-img"}
}

// freePort asks the system for a free loopback port. QEMU binds it a
// moment later; another program could take it meanwhile, in which case
// QEMU fails to start and says so.
func freePort() (int, error) {
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("free loopback port: %w", err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

func fetchedList(m map[string]int) []string {
	var out []string
	for _, n := range []string{"meta-data", "user-data", "vendor-data"} {
		if m[n] > 0 {
			out = append(out, fmt.Sprintf("%s×%d", n, m[n]))
		}
	}
	if len(out) == 0 {
		return []string{"nothing"}
	}
	return out
}

func lastSerialLine(path string) string {
	b, err := os.ReadFile(path)
	if err != nil || len(b) == 0 {
		return "(nothing yet)"
	}
	lines := strings.Split(strings.TrimRight(strings.ReplaceAll(string(b), "\r", ""), "\n"), "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		if l := strings.TrimSpace(stripANSI(lines[i])); l != "" {
			if len(l) > 120 {
				l = l[:120] + "…"
			}
			return l
		}
	}
	return "(nothing yet)"
}

var ansiRe = regexp.MustCompile(`\x1b\[[0-9;?]*[A-Za-z]`)

func stripANSI(s string) string { return ansiRe.ReplaceAllString(s, "") }

// tails is the end of the serial and QEMU logs, for an error message.
func (st *State) tails() string {
	var b strings.Builder
	for _, f := range []struct{ what, path string }{{"serial console", st.SerialLog}, {"QEMU", st.QEMULog}} {
		data, err := os.ReadFile(f.path)
		if err != nil || len(strings.TrimSpace(string(data))) == 0 {
			continue
		}
		lines := strings.Split(strings.TrimRight(strings.ReplaceAll(stripANSI(string(data)), "\r", ""), "\n"), "\n")
		if len(lines) > 15 {
			lines = lines[len(lines)-15:]
		}
		fmt.Fprintf(&b, "--- last lines of the %s (%s) ---\n%s\n", f.what, f.path, strings.Join(lines, "\n"))
	}
	return b.String()
}
