package guest

import (
	"bytes"
	"fmt"
	"net"
	"sort"
	"strings"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// KnownHosts renders a known_hosts file that pins keys for the guest's SSH
// forward at 127.0.0.1:port (written "[127.0.0.1]:port", as ssh looks it
// up for a port other than 22). Lines are sorted so the same keys give the
// same file.
func KnownHosts(port int, keys []ssh.PublicKey) ([]byte, error) {
	if len(keys) == 0 {
		return nil, fmt.Errorf("known_hosts: no host keys to pin")
	}
	if port <= 0 || port > 65535 {
		return nil, fmt.Errorf("known_hosts: %d is not a TCP port", port)
	}
	addr := knownhosts.Normalize(net.JoinHostPort("127.0.0.1", fmt.Sprint(port)))
	var lines []string
	for _, k := range keys {
		lines = append(lines, knownhosts.Line([]string{addr}, k))
	}
	sort.Strings(lines)
	return []byte(strings.Join(lines, "\n") + "\n"), nil
}

// Serial-console markers cloud-init prints the host keys between.
const (
	beginHostKeys = "-----BEGIN SSH HOST KEY KEYS-----"
	endHostKeys   = "-----END SSH HOST KEY KEYS-----"
)

// SerialHostKeys finds the host keys cloud-init printed on the serial
// console between its BEGIN/END markers. complete is false while no END
// marker has been seen (the keys may still come). Lines of other output
// mixed in (kernel messages, CRLF endings) are skipped.
func SerialHostKeys(log []byte) (keys []ssh.PublicKey, complete bool) {
	i := bytes.LastIndex(log, []byte(beginHostKeys))
	if i < 0 {
		return nil, false
	}
	rest := log[i+len(beginHostKeys):]
	j := bytes.Index(rest, []byte(endHostKeys))
	if j >= 0 {
		rest, complete = rest[:j], true
	}
	for _, line := range strings.Split(string(rest), "\n") {
		line = strings.TrimSpace(strings.TrimRight(line, "\r"))
		// The key may follow a prefix (a time stamp, a program name).
		start := -1
		for _, t := range []string{"ssh-", "ecdsa-", "sk-"} {
			if k := strings.Index(line, t); k >= 0 && (start < 0 || k < start) {
				start = k
			}
		}
		if start < 0 {
			continue
		}
		k, _, _, _, err := ssh.ParseAuthorizedKey([]byte(line[start:]))
		if err != nil {
			continue
		}
		keys = append(keys, k)
	}
	return keys, complete
}

// CrossCheck compares the keys the guest POSTed with those on its serial
// console: every key on the console must be among the POSTed ones (the
// console list may leave some types out). An error means the two channels
// disagree, and the POSTed keys must not be trusted.
func CrossCheck(posted, serial []ssh.PublicKey) error {
	if len(serial) == 0 {
		return fmt.Errorf("no host keys on the serial console to compare with")
	}
	have := map[string]bool{}
	for _, k := range posted {
		have[string(k.Marshal())] = true
	}
	for _, k := range serial {
		if !have[string(k.Marshal())] {
			return fmt.Errorf("host key %s %s is on the serial console but was not in the POSTed report: the report cannot be trusted", k.Type(), ssh.FingerprintSHA256(k))
		}
	}
	return nil
}

// SSHSpec is what an ssh command line into the guest is made from.
type SSHSpec struct {
	SSH        string // the ssh program
	User       string
	Port       int
	KnownHosts string
	Identity   string // private key file; "" lets ssh pick
	Batch      bool   // no prompts (for scripts and tests)
}

// SSHArgs returns the ssh command line (program first) that trusts exactly
// the pinned keys: strict checking against that one file, no global file,
// no key learnt or updated.
func (s SSHSpec) SSHArgs(command ...string) []string {
	a := []string{s.SSH,
		"-p", fmt.Sprint(s.Port),
		"-o", "StrictHostKeyChecking=yes",
		"-o", "UserKnownHostsFile=" + s.KnownHosts,
		"-o", "GlobalKnownHostsFile=none",
		"-o", "UpdateHostKeys=no",
		"-o", "CheckHostIP=no",
		"-o", "ConnectTimeout=20",
		"-o", "LogLevel=ERROR",
	}
	if s.Identity != "" {
		a = append(a, "-i", s.Identity, "-o", "IdentitiesOnly=yes")
	}
	if s.Batch {
		a = append(a, "-o", "BatchMode=yes")
	}
	user := s.User
	if user == "" {
		user = "root"
	}
	a = append(a, user+"@127.0.0.1")
	if len(command) > 0 {
		a = append(a, "--")
		a = append(a, command...)
	}
	return a
}
