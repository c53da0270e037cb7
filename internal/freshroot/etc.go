package freshroot

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
)

// FileState is what the /etc comparison looks at for one path: its type,
// permissions, owner, and content (a regular file's sha256, a link's
// target). Times are left out: touching a file changes nothing.
type FileState struct {
	Mode fs.FileMode // type and permission bits
	UID  int
	GID  int
	Hash string // sha256 of a regular file's content
	Link string // a symbolic link's target
}

// Snapshot records every path under dir, keyed by its path inside the root
// ("/etc/passwd" for <root>/etc/passwd when dir is <root>/etc and inside
// is "/etc").
func Snapshot(dir, inside string) (map[string]FileState, error) {
	out := map[string]FileState{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		key := path.Join(inside, filepath.ToSlash(rel))
		info, err := d.Info()
		if err != nil {
			return err
		}
		st := FileState{Mode: info.Mode().Type() | info.Mode().Perm() | info.Mode()&(fs.ModeSetuid|fs.ModeSetgid|fs.ModeSticky)}
		st.UID, st.GID = owner(info)
		switch {
		case info.Mode().IsRegular():
			h, err := hashFile(p)
			if err != nil {
				return err
			}
			st.Hash = h
		case info.Mode()&fs.ModeSymlink != 0:
			if st.Link, err = os.Readlink(p); err != nil {
				return err
			}
		}
		out[key] = st
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("snapshot of %s: %w", dir, err)
	}
	return out, nil
}

func hashFile(p string) (string, error) {
	f, err := os.Open(p)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// Change is one path that differs between two snapshots.
type Change struct {
	Path string
	What string // added, removed, content, mode, owner, link, type
}

func (c Change) String() string { return c.What + " " + c.Path }

// Diff lists what differs from before to after, sorted by path.
func Diff(before, after map[string]FileState) []Change {
	var out []Change
	for p, a := range after {
		b, ok := before[p]
		switch {
		case !ok:
			out = append(out, Change{p, "added"})
		case b.Mode.Type() != a.Mode.Type():
			out = append(out, Change{p, "type"})
		case b.Hash != a.Hash:
			out = append(out, Change{p, "content"})
		case b.Link != a.Link:
			out = append(out, Change{p, "link"})
		case b.Mode != a.Mode:
			out = append(out, Change{p, "mode"})
		case b.UID != a.UID || b.GID != a.GID:
			out = append(out, Change{p, "owner"})
		}
	}
	for p := range before {
		if _, ok := after[p]; !ok {
			out = append(out, Change{p, "removed"})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out
}

// Package is one entry of dpkg's status file.
type Package struct {
	Name, Arch, Version, Status string
}

// Installed says whether dpkg has the package fully installed.
func (p Package) Installed() bool { return strings.HasSuffix(p.Status, " installed") }

// ParseStatus reads /var/lib/dpkg/status: the packages by name (a
// Multi-Arch: same package installed for two architectures is keyed
// name:arch for the second).
func ParseStatus(r io.Reader) (map[string]Package, error) {
	out := map[string]Package{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	var cur Package
	flush := func() {
		if cur.Name != "" {
			key := cur.Name
			if _, dup := out[key]; dup {
				key = cur.Name + ":" + cur.Arch
			}
			out[key] = cur
		}
		cur = Package{}
	}
	for sc.Scan() {
		line := sc.Text()
		if line == "" {
			flush()
			continue
		}
		if line[0] == ' ' || line[0] == '\t' {
			continue
		}
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		v = strings.TrimSpace(v)
		switch k {
		case "Package":
			cur.Name = v
		case "Architecture":
			cur.Arch = v
		case "Version":
			cur.Version = v
		case "Status":
			cur.Status = v
		}
	}
	flush()
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("dpkg status: %w", err)
	}
	return out, nil
}

// Installed lists the packages installed after that were not installed
// before or had another version, sorted: what the run's apt-get install
// did.
func Installed(before, after map[string]Package) []Package {
	var out []Package
	for k, a := range after {
		if !a.Installed() {
			continue
		}
		if b, ok := before[k]; ok && b.Installed() && b.Version == a.Version {
			continue
		}
		out = append(out, a)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// ListFiles are the names dpkg may keep a package's file list under, in
// /var/lib/dpkg/info.
func ListFiles(p Package) []string {
	return []string{p.Name + ".list", p.Name + ":" + p.Arch + ".list"}
}

// ScriptWritten are the paths under /etc that the general tools of
// Debian's package scripts write while apt-get installs packages, outside
// any package's file list and without naming the path in the package's
// own scripts. A change there counts as installing's only when the run did
// install packages. Each entry is a path, or a folder ending in "/" that
// covers everything below it.
var ScriptWritten = []struct{ Path, Why string }{
	{"/etc/ld.so.cache", "ldconfig, run by libc-bin's trigger after a library is installed"},
	{"/etc/alternatives/", "update-alternatives, called by postinst scripts (wine, the mingw compilers, yacc)"},
	{"/etc/ssl/certs/", "update-ca-certificates, run by ca-certificates' postinst and trigger"},
	{"/etc/passwd", "adduser/useradd making a package's system user"},
	{"/etc/passwd-", "the backup useradd keeps"},
	{"/etc/group", "addgroup/groupadd making a package's system group"},
	{"/etc/group-", "the backup groupadd keeps"},
	{"/etc/shadow", "useradd"},
	{"/etc/shadow-", "the backup useradd keeps"},
	{"/etc/gshadow", "groupadd"},
	{"/etc/gshadow-", "the backup groupadd keeps"},
	{"/etc/subuid", "useradd"},
	{"/etc/subgid", "useradd"},
	{"/etc/.pwd.lock", "the lock file shadow's tools take"},
	{"/etc/systemd/system/", "deb-systemd-helper enabling a package's units"},
	{"/etc/rc0.d/", "update-rc.d"}, {"/etc/rc1.d/", "update-rc.d"}, {"/etc/rc2.d/", "update-rc.d"},
	{"/etc/rc3.d/", "update-rc.d"}, {"/etc/rc4.d/", "update-rc.d"}, {"/etc/rc5.d/", "update-rc.d"},
	{"/etc/rc6.d/", "update-rc.d"}, {"/etc/rcS.d/", "update-rc.d"},
}

// Protected are paths no run may change, whatever it installs: the
// system's apt sources. qemupack must find Debian's sources through its
// own apt tree, never by editing the machine's.
var Protected = []string{"/etc/apt/sources.list", "/etc/apt/sources.list.d/"}

// Verdict is the judgement of an /etc comparison.
type Verdict struct {
	Installed []Package // what the run installed
	Owned     []Change  // changes to files of installed packages (their conffiles and folders)
	Scripted  []Change  // changes maintainer scripts and triggers made (ScriptWritten)
	Bad       []Change  // everything else: the check fails on these
}

// OK says whether /etc changed only the way installing packages changes it.
func (v Verdict) OK() bool { return len(v.Bad) == 0 }

// Judge sorts each change: a protected path is always bad; a path in the
// file list of a package the run installed is the package's own; a path
// the general package tools write (ScriptWritten), or one that the
// installed packages' maintainer scripts name (the path itself, or its
// folder below /etc), is what installing did; the rest is bad. owned holds
// the installed packages' file lists (paths as dpkg records them,
// "/etc/wine/..." style), scripts their maintainer scripts' text.
func Judge(changes []Change, installed []Package, owned map[string]bool, scripts string) Verdict {
	v := Verdict{Installed: installed}
	for _, c := range changes {
		switch {
		case matches(c.Path, Protected):
			v.Bad = append(v.Bad, c)
		case owned[c.Path]:
			v.Owned = append(v.Owned, c)
		case len(installed) > 0 && (matchesScript(c.Path) || namedIn(scripts, c.Path)):
			v.Scripted = append(v.Scripted, c)
		default:
			v.Bad = append(v.Bad, c)
		}
	}
	return v
}

func matches(p string, list []string) bool {
	for _, l := range list {
		if p == l || (strings.HasSuffix(l, "/") && (strings.HasPrefix(p, l) || p == strings.TrimSuffix(l, "/"))) {
			return true
		}
	}
	return false
}

// namedIn says whether a maintainer script names p, or p's folder when
// that is below /etc ("/etc/fonts/conf.d" for a link fontconfig's
// postinst makes there from a debconf answer).
func namedIn(scripts, p string) bool {
	if scripts == "" {
		return false
	}
	if containsPath(scripts, p) {
		return true
	}
	dir := path.Dir(p)
	return dir != "/etc" && strings.HasPrefix(dir, "/etc/") && containsPath(scripts, dir)
}

// containsPath finds p in text as a whole path: not followed by more of
// a file name ("/etc/python3" is not named by "/etc/python3.11").
func containsPath(text, p string) bool {
	for i := 0; ; {
		j := strings.Index(text[i:], p)
		if j < 0 {
			return false
		}
		end := i + j + len(p)
		if end == len(text) || !isNameByte(text[end]) {
			return true
		}
		i = end
	}
}

func isNameByte(b byte) bool {
	return b == '.' || b == '-' || b == '_' || b >= '0' && b <= '9' || b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z'
}

func matchesScript(p string) bool {
	for _, s := range ScriptWritten {
		if matches(p, []string{s.Path}) {
			return true
		}
	}
	return false
}

// ReadOwned reads the file lists of pkgs from a root's dpkg database and
// returns every path they name.
func ReadOwned(root string, pkgs []Package) (map[string]bool, error) {
	out := map[string]bool{}
	info := filepath.Join(root, "var", "lib", "dpkg", "info")
	for _, p := range pkgs {
		found := false
		for _, name := range ListFiles(p) {
			data, err := os.ReadFile(filepath.Join(info, name))
			if err != nil {
				continue
			}
			found = true
			for _, line := range strings.Split(string(data), "\n") {
				if line = strings.TrimSpace(line); line != "" && line != "/." {
					out[line] = true
				}
			}
		}
		if !found {
			return nil, fmt.Errorf("dpkg has no file list for %s (%s) in %s", p.Name, p.Arch, info)
		}
	}
	return out, nil
}

// maintainerScripts are the scripts dpkg runs while installing.
var maintainerScripts = []string{"preinst", "postinst", "config", "triggers"}

// ReadScripts returns the text of the maintainer scripts of pkgs in a
// root's dpkg database, and of the tmpfiles.d configurations they apply.
func ReadScripts(root string, pkgs []Package) string {
	var b strings.Builder
	info := filepath.Join(root, "var", "lib", "dpkg", "info")
	for _, p := range pkgs {
		for _, base := range []string{p.Name, p.Name + ":" + p.Arch} {
			for _, s := range maintainerScripts {
				if data, err := os.ReadFile(filepath.Join(info, base+"."+s)); err == nil {
					b.Write(data)
					b.WriteByte('\n')
				}
			}
			// The tmpfiles.d configurations a package ships are applied
			// by its postinst (systemd-tmpfiles --create): systemd's
			// debian.conf makes /etc/mtab that way, without naming it in
			// the script itself.
			list, err := os.ReadFile(filepath.Join(info, base+".list"))
			if err != nil {
				continue
			}
			for _, f := range strings.Split(string(list), "\n") {
				if strings.HasPrefix(f, "/usr/lib/tmpfiles.d/") && strings.HasSuffix(f, ".conf") {
					if data, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(f))); err == nil {
						b.Write(data)
						b.WriteByte('\n')
					}
				}
			}
		}
	}
	return b.String()
}

// Report writes the verdict for a user: every bad change, then counts.
func (v Verdict) Report() string {
	var b strings.Builder
	fmt.Fprintf(&b, "/etc: %d package(s) installed; %d change(s) to their own files, %d by their maintainer scripts, %d unexplained\n",
		len(v.Installed), len(v.Owned), len(v.Scripted), len(v.Bad))
	for _, c := range v.Bad {
		why := "not done by installing a package"
		if matches(c.Path, Protected) {
			why = "the system's apt sources must never change"
		}
		fmt.Fprintf(&b, "  BAD %s: %s\n", c, why)
	}
	for _, c := range v.Scripted {
		fmt.Fprintf(&b, "  ok  %s (maintainer script)\n", c)
	}
	return b.String()
}
