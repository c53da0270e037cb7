// Package freshroot proves the README's two commands on a fresh Debian 12
// machine: it makes a root filesystem with debootstrap (bookworm, from
// deb.debian.org, cached as a tarball so a second check costs little),
// unpacks a pristine copy for each command, copies in only Go, the
// machine's CA bundle and DNS settings, and a clean clone of the checkout's
// HEAD, mounts what a chroot needs, and runs one command (`go run mage.go
// test` or `bundle`) inside as root with nothing but Go beside the base
// system. It times the command, keeps the whole log, and fails when the
// command fails or when anything under the root's /etc changed that
// installing Debian packages does not explain.
//
// The pure parts (command lines, the mount list, the /etc comparison) are
// in this file and etc.go, tested without root; the run itself is Linux
// only (run_linux.go) and is done by hand: `go run mage.go freshroot`.
package freshroot

import (
	"fmt"
	"path"
	"sort"
	"strings"
)

// Commands are the README commands the check can run, in the order it
// runs them when asked for all.
var Commands = []string{"test", "bundle"}

// Defaults for a "fresh Debian 12 machine".
const (
	DefaultSuite   = "bookworm"
	DefaultMirror  = "http://deb.debian.org/debian"
	DefaultVariant = "minbase"
	DefaultKeyring = "/usr/share/keyrings/debian-archive-keyring.gpg"
	DefaultGoRoot  = "/usr/local/go"
	DefaultCA      = "/etc/ssl/certs/ca-certificates.crt"
	// LocalCAs is where a Debian machine keeps the certificates it trusts
	// beyond Mozilla's (a company's TLS proxy): update-ca-certificates,
	// run when a package installs ca-certificates, rebuilds the bundle
	// from Mozilla's list and these.
	LocalCAs = "/usr/local/share/ca-certificates"
	// Checkout is where the clone sits inside the root.
	Checkout = "/root/qemupack"
	// InnerPATH is PATH inside the root: Go, then what a root login shell
	// on Debian gets from /etc/profile.
	InnerPATH = "/usr/local/go/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
)

// Base describes the debootstrap root every run starts from.
type Base struct {
	Suite   string // bookworm
	Mirror  string // http://deb.debian.org/debian
	Variant string // minbase (required packages and apt) or "" for debootstrap's default
	Arch    string // amd64
	Keyring string // the archive keyring debootstrap checks Release against
}

// WithDefaults fills the unset fields.
func (b Base) WithDefaults(arch string) Base {
	if b.Suite == "" {
		b.Suite = DefaultSuite
	}
	if b.Mirror == "" {
		b.Mirror = DefaultMirror
	}
	if b.Variant == "" {
		b.Variant = DefaultVariant
	}
	if b.Arch == "" {
		b.Arch = arch
	}
	if b.Keyring == "" {
		b.Keyring = DefaultKeyring
	}
	return b
}

// Name names the base in the cache and in logs: debian-bookworm-minbase-amd64.
func (b Base) Name() string {
	v := b.Variant
	if v == "" || v == "-" {
		v = "default"
	}
	return fmt.Sprintf("debian-%s-%s-%s", b.Suite, v, b.Arch)
}

// DebootstrapArgs is the command that makes the base in dir.
func (b Base) DebootstrapArgs(dir string) []string {
	args := []string{"debootstrap"}
	if b.Variant != "" && b.Variant != "default" && b.Variant != "-" {
		args = append(args, "--variant="+b.Variant)
	}
	return append(args, "--arch="+b.Arch, "--keyring="+b.Keyring, b.Suite, dir, b.Mirror)
}

// The base is kept as a tarball made with GNU tar rather than Go's
// archive/tar: a root filesystem holds device nodes, hard links and
// file capabilities (security.capability xattrs) that must come back
// exactly, owned by the numeric ids of the root's own /etc/passwd, and
// GNU tar is part of every Debian base system.
var tarFlags = []string{"--numeric-owner", "--xattrs", "--xattrs-include=*", "--acls"}

// PackArgs makes tarball from the tree in dir.
func PackArgs(dir, tarball string) []string {
	return append(append([]string{"tar"}, tarFlags...), "-czpf", tarball, "-C", dir, ".")
}

// UnpackArgs unpacks tarball into dir (which exists and is empty).
func UnpackArgs(tarball, dir string) []string {
	return append(append([]string{"tar"}, tarFlags...), "-xzpf", tarball, "-C", dir)
}

// CloneArgs clones the checkout's HEAD (its committed state only: the
// work tree's uncommitted changes and ignored files stay out) into dest.
func CloneArgs(checkout, dest string) []string {
	return []string{"git", "clone", "--quiet", "--no-hardlinks", checkout, dest}
}

// InnerEnv is the whole environment the command gets inside the root: what
// a root login on a fresh machine has, plus Go on PATH. Nothing of the
// caller's environment leaks in.
func InnerEnv() []string {
	return []string{"HOME=/root", "PATH=" + InnerPATH, "USER=root", "LOGNAME=root", "SHELL=/bin/sh", "TERM=dumb"}
}

// ChrootArgs runs `go run mage.go <command>` in the checkout inside root,
// as root, with exactly InnerEnv (env -i clears the rest; --chdir enters
// the checkout after the chroot).
func ChrootArgs(root, command string) []string {
	args := []string{"chroot", root, "/usr/bin/env", "-i", "--chdir=" + Checkout}
	args = append(args, InnerEnv()...)
	return append(args, "go", "run", "mage.go", command)
}

// Mount is one mount a chroot needs. Source "" with Bind false means a new
// filesystem of type Type.
type Mount struct {
	Source string // host path for a bind mount, else the filesystem's name
	Target string // inside the root, absolute ("/proc")
	Type   string // proc, sysfs, tmpfs; "" for a bind mount
	Bind   bool
	Flags  []string // nosuid, nodev, noexec, ro
	Data   string   // filesystem options (tmpfs mode)
}

func (m Mount) String() string {
	what := m.Type
	if m.Bind {
		what = "bind " + m.Source
	}
	s := fmt.Sprintf("%s on %s", what, m.Target)
	if len(m.Flags) > 0 || m.Data != "" {
		opts := append([]string{}, m.Flags...)
		if m.Data != "" {
			opts = append(opts, m.Data)
		}
		s += " (" + strings.Join(opts, ",") + ")"
	}
	return s
}

// Mounts lists, in mounting order, what the command needs inside the root:
// the root bound onto itself (then made private, so nothing mounted below
// it ever propagates to the host's mount table), /proc, /sys (read-only),
// the host's /dev and /dev/pts (device nodes and terminals; not
// recursive, so the host's /dev/shm stays out) and a fresh tmpfs on
// /dev/shm. Unmounting goes in the reverse order.
func Mounts() []Mount {
	return []Mount{
		{Source: "", Target: "/", Bind: true},
		{Source: "proc", Target: "/proc", Type: "proc", Flags: []string{"nosuid", "nodev", "noexec"}},
		{Source: "sysfs", Target: "/sys", Type: "sysfs", Flags: []string{"nosuid", "nodev", "noexec", "ro"}},
		{Source: "/dev", Target: "/dev", Bind: true},
		{Source: "/dev/pts", Target: "/dev/pts", Bind: true},
		{Source: "tmpfs", Target: "/dev/shm", Type: "tmpfs", Flags: []string{"nosuid", "nodev"}, Data: "mode=1777"},
	}
}

// HostPath is where a path inside the root lies on the host.
func HostPath(root, inside string) string {
	return path.Join(root, inside)
}

// MountInfo is one line of /proc/self/mountinfo.
type MountInfo struct {
	ID, Parent int
	Target     string // the mount point, as this process sees it
	FSType     string
	Source     string
}

// ParseMountInfo reads /proc/self/mountinfo's text.
func ParseMountInfo(text string) ([]MountInfo, error) {
	var out []MountInfo
	for n, line := range strings.Split(text, "\n") {
		if strings.TrimSpace(line) == "" {
			continue
		}
		f := strings.Fields(line)
		// ID parent major:minor root target options [optional...] - type source superopts
		sep := -1
		for i, x := range f {
			if x == "-" && i >= 6 {
				sep = i
				break
			}
		}
		if len(f) < 7 || sep < 0 || len(f) < sep+3 {
			return nil, fmt.Errorf("mountinfo line %d: %q is not in the kernel's format", n+1, line)
		}
		var m MountInfo
		if _, err := fmt.Sscan(f[0], &m.ID); err != nil {
			return nil, fmt.Errorf("mountinfo line %d: mount id %q: %w", n+1, f[0], err)
		}
		if _, err := fmt.Sscan(f[1], &m.Parent); err != nil {
			return nil, fmt.Errorf("mountinfo line %d: parent id %q: %w", n+1, f[1], err)
		}
		m.Target = unescapeMount(f[4])
		m.FSType = f[sep+1]
		m.Source = unescapeMount(f[sep+2])
		out = append(out, m)
	}
	return out, nil
}

// unescapeMount undoes the kernel's octal escapes (\040 for a space).
func unescapeMount(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+4 <= len(s) {
			var v int
			if _, err := fmt.Sscanf(s[i+1:i+4], "%3o", &v); err == nil {
				b.WriteByte(byte(v))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// Under gives the mounts at or below dir.
func Under(ms []MountInfo, dir string) []MountInfo {
	dir = strings.TrimRight(path.Clean(dir), "/")
	var out []MountInfo
	for _, m := range ms {
		if t := path.Clean(m.Target); t == dir || strings.HasPrefix(t, dir+"/") {
			out = append(out, m)
		}
	}
	return out
}

// Leaves gives the mounts at or below dir that nothing is mounted on: the
// ones that can be unmounted now. Unmounting the leaves over and over
// takes a tree of mounts (stacked ones included) apart in a safe order.
func Leaves(ms []MountInfo, dir string) []MountInfo {
	under := Under(ms, dir)
	parent := map[int]bool{}
	for _, m := range ms {
		parent[m.Parent] = true
	}
	var out []MountInfo
	for _, m := range under {
		if !parent[m.ID] {
			out = append(out, m)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID > out[j].ID })
	return out
}
