// Package guest runs cloud images under QEMU the way a cloud would start
// them: a NoCloud seed (meta-data and user-data with the user's SSH public
// key) served over HTTP on the host's loopback or written to a cidata ISO,
// a qcow2 overlay so the image itself is never written, the guest's SSH host
// keys collected by a POST back to the host and pinned in a known_hosts
// file, and QMP to shut the guest down.
package guest

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"golang.org/x/crypto/ssh"

	"qemupack/internal/config"
)

// SeedConfig is what goes into a NoCloud seed.
type SeedConfig struct {
	InstanceID string // meta-data instance-id; a new one makes cloud-init run again
	Hostname   string // meta-data local-hostname
	PublicKey  string // one authorized_keys line for the image's default user
	// ReportURL is where the guest POSTs its SSH host public keys (carrying
	// the per-boot token). Empty: no report.
	ReportURL string
	// Makestep, when not empty, is chrony's makestep setting ("1 -1": step
	// whenever the clock is off by more than a second, at any time), so a
	// guest whose host slept catches up at once instead of slewing for hours.
	Makestep string
	// KeyTypes limits the host key types cloud-init generates (ed25519 and
	// ecdsa take well under a second; rsa can take many seconds under TCG).
	// Empty: the image's default.
	KeyTypes []string
}

// Seed is the two files of a NoCloud seed.
type Seed struct {
	MetaData []byte
	UserData []byte
}

var (
	hostnameRe   = regexp.MustCompile(`^[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?$`)
	instanceRe   = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)
	makestepRe   = regexp.MustCompile(`^[0-9]+(\.[0-9]+)? -?[0-9]+$`)
	keyTypeNames = map[string]bool{"rsa": true, "ecdsa": true, "ed25519": true, "dsa": true}
)

// MakeSeed renders the seed. Every value is checked, because it ends up in
// YAML that root runs on the guest.
func MakeSeed(c SeedConfig) (Seed, error) {
	if !instanceRe.MatchString(c.InstanceID) {
		return Seed{}, fmt.Errorf("seed: instance-id %q: use 1-64 letters, digits, '.', '_' or '-'", c.InstanceID)
	}
	if !hostnameRe.MatchString(c.Hostname) {
		return Seed{}, fmt.Errorf("seed: hostname %q is not a valid host name (letters, digits, '-', at most 63)", c.Hostname)
	}
	pub, err := CheckPublicKey([]byte(c.PublicKey))
	if err != nil {
		return Seed{}, fmt.Errorf("seed: %w", err)
	}
	if c.Makestep != "" && !makestepRe.MatchString(c.Makestep) {
		return Seed{}, fmt.Errorf("seed: chrony makestep %q: give a threshold in seconds and a limit, e.g. \"1 -1\"", c.Makestep)
	}
	for _, t := range c.KeyTypes {
		if !keyTypeNames[t] {
			return Seed{}, fmt.Errorf("seed: SSH host key type %q: use rsa, ecdsa or ed25519", t)
		}
	}
	if strings.ContainsAny(c.ReportURL, "'\"\\ \n$`") {
		return Seed{}, fmt.Errorf("seed: report URL %q has characters a shell would read", c.ReportURL)
	}

	meta := fmt.Sprintf("instance-id: %s\nlocal-hostname: %s\n", c.InstanceID, c.Hostname)

	var b strings.Builder
	b.WriteString("#cloud-config\n")
	b.WriteString("# written by qemupack\n")
	// Top-level ssh_authorized_keys go to the image's default user
	// (debian, ubuntu, ec2-user, ...).
	fmt.Fprintf(&b, "ssh_authorized_keys:\n  - %s\n", yamlQuote(pub))
	if len(c.KeyTypes) > 0 {
		fmt.Fprintf(&b, "ssh_genkeytypes: [%s]\n", strings.Join(c.KeyTypes, ", "))
	}
	var run []string
	if c.Makestep != "" {
		run = append(run, makestepScript(c.Makestep))
	}
	if c.ReportURL != "" {
		run = append(run, reportScript(c.ReportURL, pub))
	}
	if len(run) > 0 {
		b.WriteString("runcmd:\n")
		for _, r := range run {
			fmt.Fprintf(&b, "  - [ sh, -c, %s ]\n", yamlQuote(r))
		}
	}
	return Seed{MetaData: []byte(meta), UserData: []byte(b.String())}, nil
}

// makestepScript sets chrony's makestep in whichever main configuration
// file the image has (Debian/Ubuntu: /etc/chrony/chrony.conf; Amazon
// Linux, Fedora: /etc/chrony.conf), replacing the image's own line, and
// restarts chrony if it runs. Images without chrony are left alone.
func makestepScript(makestep string) string {
	return `for f in /etc/chrony/chrony.conf /etc/chrony.conf; do [ -f "$f" ] || continue; ` +
		`sed -i '/^makestep /d' "$f"; echo 'makestep ` + makestep + ` # qemupack' >> "$f"; ` +
		`(systemctl try-restart chrony chronyd 2>/dev/null || true); echo qemupack: chrony makestep ` + makestep + ` in $f; done`
}

// reportScript is the shell the guest runs once cloud-init has made its
// host keys: it finds which user got our key (the image's default user) and
// POSTs the public host keys, with curl, wget or python, whichever the image
// has. Every attempt is bounded: the host may be gone.
func reportScript(url, pub string) string {
	fields := strings.Fields(pub)
	blob := fields[1]
	return strings.Join([]string{
		`u=root; for f in /home/*/.ssh/authorized_keys; do if grep -qF ` + blob + ` "$f" 2>/dev/null; then u=$(basename "$(dirname "$(dirname "$f")")"); break; fi; done`,
		`cat /etc/ssh/ssh_host_*_key.pub > /run/qemupack-hostkeys`,
		`url="` + url + `?user=$u"`,
		`for i in 1 2 3 4 5; do ` +
			`if command -v curl >/dev/null; then curl -fsS -m 30 --data-binary @/run/qemupack-hostkeys "$url" && break; ` +
			`elif command -v wget >/dev/null; then wget -q -T 30 -O /dev/null --post-file=/run/qemupack-hostkeys "$url" && break; ` +
			`else for py in python3 python; do command -v $py >/dev/null && $py -c 'import sys;from urllib.request import urlopen;urlopen(sys.argv[1],open(sys.argv[2],"rb").read(),30)' "$url" /run/qemupack-hostkeys && break 2; done; fi; ` +
			`sleep 3; done`,
		`echo qemupack: host keys reported for user $u`,
	}, "; ")
}

// yamlQuote writes s as a double-quoted YAML scalar.
func yamlQuote(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch r {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '\n':
			b.WriteString(`\n`)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// CheckPublicKey returns the single authorized_keys line in data, or an
// error saying why it is not one.
func CheckPublicKey(data []byte) (string, error) {
	line := strings.TrimSpace(string(data))
	if line == "" {
		return "", errors.New("SSH public key is empty")
	}
	if strings.Contains(line, "PRIVATE KEY") {
		return "", errors.New("this is an SSH private key; give the .pub file")
	}
	if strings.Contains(line, "\n") {
		return "", errors.New("SSH public key file has more than one line; give one key")
	}
	k, comment, options, rest, err := ssh.ParseAuthorizedKey([]byte(line))
	if err != nil {
		return "", fmt.Errorf("not an SSH public key (expected \"ssh-ed25519 AAAA... comment\"): %w", err)
	}
	if len(options) > 0 || len(rest) > 0 {
		return "", errors.New("SSH public key: give a bare key, without authorized_keys options")
	}
	out := strings.TrimSpace(string(ssh.MarshalAuthorizedKey(k)))
	if comment = strings.TrimSpace(comment); comment != "" && !strings.ContainsAny(comment, "\"\\'`$") {
		out += " " + comment
	}
	return out, nil
}

// KeyEnv is the variable that names the public key file to inject.
const KeyEnv = config.EnvVMPubKey

// FindPublicKey returns the path and content of the SSH public key to put
// in the guest: the file named by explicit when not empty, else the first
// of id_ed25519.pub, id_ecdsa.pub, id_rsa.pub, then any *.pub in sshDir.
func FindPublicKey(explicit, sshDir string) (path, key string, err error) {
	if explicit != "" {
		data, err := os.ReadFile(explicit)
		if err != nil {
			return "", "", fmt.Errorf("SSH public key %s (from %s): %w", explicit, KeyEnv, err)
		}
		k, err := CheckPublicKey(data)
		if err != nil {
			return "", "", fmt.Errorf("%s (from %s): %w", explicit, KeyEnv, err)
		}
		return explicit, k, nil
	}
	candidates := []string{"id_ed25519.pub", "id_ecdsa.pub", "id_rsa.pub"}
	others, _ := filepath.Glob(filepath.Join(sshDir, "*.pub"))
	sort.Strings(others)
	for _, o := range others {
		candidates = append(candidates, filepath.Base(o))
	}
	var tried []string
	for _, c := range candidates {
		p := filepath.Join(sshDir, c)
		data, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		k, err := CheckPublicKey(data)
		if err != nil {
			tried = append(tried, fmt.Sprintf("%s: %v", p, err))
			continue
		}
		return p, k, nil
	}
	msg := fmt.Sprintf("no SSH public key found in %s: make one with `ssh-keygen -t ed25519` or set %s to a .pub file", sshDir, KeyEnv)
	if len(tried) > 0 {
		msg += " (unusable: " + strings.Join(tried, "; ") + ")"
	}
	return "", "", errors.New(msg)
}
