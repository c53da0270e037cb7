package host

import (
	"bufio"
	"strings"
)

// Family is the kind of host: it decides the package manager, the package
// names in install commands, and where the host's own mingw sysroot lives.
type Family string

const (
	Debian  Family = "debian"  // Debian, Ubuntu and their derivatives: apt-get
	Fedora  Family = "fedora"  // Fedora, RHEL and their rebuilds: dnf
	Cygwin  Family = "cygwin"  // Cygwin on Windows: setup-x86_64.exe
	MSYS2   Family = "msys2"   // MSYS2 on Windows: pacman
	Unknown Family = "unknown" // anything else: no install commands we can vouch for
)

// OSRelease is what /etc/os-release says about a Linux host.
type OSRelease struct {
	ID         string
	IDLike     []string
	PrettyName string
	VersionID  string
}

// ParseOSRelease reads the KEY=value lines of an os-release file
// (values may be quoted; comments and blank lines are ignored).
func ParseOSRelease(text string) OSRelease {
	var o OSRelease
	sc := bufio.NewScanner(strings.NewReader(text))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			continue
		}
		v = strings.TrimSpace(v)
		if len(v) >= 2 && (v[0] == '"' || v[0] == '\'') && v[len(v)-1] == v[0] {
			v = v[1 : len(v)-1]
		}
		switch strings.TrimSpace(k) {
		case "ID":
			o.ID = strings.ToLower(v)
		case "ID_LIKE":
			o.IDLike = strings.Fields(strings.ToLower(v))
		case "PRETTY_NAME":
			o.PrettyName = v
		case "VERSION_ID":
			o.VersionID = v
		}
	}
	return o
}

// Family maps the distribution to a family by its ID first, then by ID_LIKE.
func (o OSRelease) Family() Family {
	for _, id := range append([]string{o.ID}, o.IDLike...) {
		switch id {
		case "debian", "ubuntu", "linuxmint", "pop", "raspbian", "kali":
			return Debian
		case "fedora", "rhel", "centos", "rocky", "almalinux", "ol":
			return Fedora
		}
	}
	return Unknown
}

// FamilyFromUname tells Cygwin from MSYS2 by `uname -s` (CYGWIN_NT-10.0-19045,
// MSYS_NT-10.0-19045, MINGW64_NT-10.0-19045).
func FamilyFromUname(s string) Family {
	s = strings.ToUpper(strings.TrimSpace(s))
	switch {
	case strings.HasPrefix(s, "CYGWIN"):
		return Cygwin
	case strings.HasPrefix(s, "MSYS"), strings.HasPrefix(s, "MINGW"):
		return MSYS2
	}
	return Unknown
}
