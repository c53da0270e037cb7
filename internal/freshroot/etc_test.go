package freshroot

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func write(t *testing.T, p, text string, mode os.FileMode) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(text), mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(p, mode); err != nil {
		t.Fatal(err)
	}
}

// Snapshots of a real folder before and after changes: every kind of
// change is seen, a touched but unchanged file is not.
func TestSnapshotDiff(t *testing.T) {
	root := t.TempDir()
	etc := filepath.Join(root, "etc")
	write(t, filepath.Join(etc, "hostname"), "fresh\n", 0o644)
	write(t, filepath.Join(etc, "passwd"), "root:x:0:0::/root:/bin/sh\n", 0o644)
	write(t, filepath.Join(etc, "gone"), "x", 0o644)
	write(t, filepath.Join(etc, "mode"), "x", 0o644)
	write(t, filepath.Join(etc, "touched"), "same", 0o644)
	if err := os.Symlink("/usr/share/zoneinfo/UTC", filepath.Join(etc, "localtime")); err != nil {
		t.Fatal(err)
	}
	before, err := Snapshot(etc, "/etc")
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := before["/etc/passwd"]; !ok {
		t.Fatalf("snapshot keys are paths inside the root: %v", before)
	}

	write(t, filepath.Join(etc, "passwd"), "root:x:0:0::/root:/bin/sh\nwine:x:100:100::/:/bin/false\n", 0o644)
	os.Remove(filepath.Join(etc, "gone"))
	os.Chmod(filepath.Join(etc, "mode"), 0o600)
	write(t, filepath.Join(etc, "touched"), "same", 0o644) // rewritten, same bytes
	write(t, filepath.Join(etc, "wine", "wine.conf"), "new", 0o644)
	os.Remove(filepath.Join(etc, "localtime"))
	os.Symlink("/usr/share/zoneinfo/Europe/Paris", filepath.Join(etc, "localtime"))

	after, err := Snapshot(etc, "/etc")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, c := range Diff(before, after) {
		got = append(got, c.String())
	}
	want := "content /etc/passwd|link /etc/localtime|mode /etc/mode|added /etc/wine|added /etc/wine/wine.conf|removed /etc/gone"
	sortLike := func(s []string) string { return strings.Join(s, "|") }
	if g := sortLike(got); !sameSet(g, want) {
		t.Errorf("diff\n got %s\nwant %s", g, want)
	}
	if len(Diff(after, after)) != 0 {
		t.Error("a snapshot differs from itself")
	}
}

func sameSet(a, b string) bool {
	as, bs := strings.Split(a, "|"), strings.Split(b, "|")
	if len(as) != len(bs) {
		return false
	}
	m := map[string]int{}
	for _, x := range as {
		m[x]++
	}
	for _, x := range bs {
		m[x]--
	}
	for _, n := range m {
		if n != 0 {
			return false
		}
	}
	return true
}

const statusBefore = `Package: base-files
Status: install ok installed
Priority: required
Architecture: amd64
Version: 12.4+deb12u5
Description: Debian base system miscellaneous files
 This package contains the basic filesystem hierarchy.

Package: libc6
Status: install ok installed
Architecture: amd64
Multi-Arch: same
Version: 2.36-9+deb12u4

Package: tzdata
Status: install ok installed
Architecture: all
Version: 2024a-0+deb12u1
`

const statusAfter = statusBefore + `
Package: wine64
Status: install ok installed
Architecture: amd64
Version: 8.0~repack-4

Package: libc6
Status: install ok installed
Architecture: i386
Multi-Arch: same
Version: 2.36-9+deb12u4

Package: half
Status: install ok unpacked
Architecture: amd64
Version: 1
`

func TestStatusAndInstalled(t *testing.T) {
	before, err := ParseStatus(strings.NewReader(statusBefore))
	if err != nil {
		t.Fatal(err)
	}
	if len(before) != 3 || before["libc6"].Version != "2.36-9+deb12u4" || !before["tzdata"].Installed() {
		t.Fatalf("parsed %+v", before)
	}
	after, err := ParseStatus(strings.NewReader(strings.Replace(statusAfter, "Version: 2024a-0+deb12u1", "Version: 2025a-0+deb12u1", 1)))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range Installed(before, after) {
		got = append(got, p.Name+":"+p.Arch)
	}
	// New packages, a second architecture of one, an upgrade; not one
	// dpkg left unpacked.
	if strings.Join(got, " ") != "libc6:i386 tzdata:all wine64:amd64" {
		t.Errorf("installed %v", got)
	}
	if l := ListFiles(Package{Name: "libc6", Arch: "i386"}); l[0] != "libc6.list" || l[1] != "libc6:i386.list" {
		t.Errorf("list files %v", l)
	}
}

// The verdict: a new package's own files are fine, what maintainer
// scripts write is fine when packages were installed, the apt sources
// are never fine, and anything else is reported.
func TestJudge(t *testing.T) {
	pkgs := []Package{{Name: "wine64", Arch: "amd64", Version: "8.0", Status: "install ok installed"}}
	owned := map[string]bool{"/etc/wine": true, "/etc/wine/wine.inf": true}
	changes := []Change{
		{"/etc/wine", "added"}, {"/etc/wine/wine.inf", "added"},
		{"/etc/ld.so.cache", "content"}, {"/etc/alternatives/wine", "added"}, {"/etc/passwd", "content"},
		{"/etc/apt/sources.list.d/deb-src.sources", "added"}, {"/etc/apt/sources.list", "content"},
		{"/etc/hostname", "content"}, {"/etc/apt/sources.list.d", "mode"},
	}
	v := Judge(changes, pkgs, owned, "")
	if len(v.Owned) != 2 || len(v.Scripted) != 3 {
		t.Errorf("owned %v, scripted %v", v.Owned, v.Scripted)
	}
	var bad []string
	for _, c := range v.Bad {
		bad = append(bad, c.Path)
	}
	if strings.Join(bad, " ") != "/etc/apt/sources.list.d/deb-src.sources /etc/apt/sources.list /etc/hostname /etc/apt/sources.list.d" || v.OK() {
		t.Errorf("bad %v", bad)
	}
	rep := v.Report()
	if !strings.Contains(rep, "BAD added /etc/apt/sources.list.d/deb-src.sources: the system's apt sources must never change") ||
		!strings.Contains(rep, "BAD content /etc/hostname: not done by installing a package") {
		t.Errorf("report:\n%s", rep)
	}

	// A package owning a sources file does not make changing it fine.
	v = Judge([]Change{{"/etc/apt/sources.list.d/x.sources", "added"}}, pkgs, map[string]bool{"/etc/apt/sources.list.d/x.sources": true}, "echo deb-src >> /etc/apt/sources.list.d/x.sources")
	if v.OK() {
		t.Error("a sources file was accepted because a package owns it")
	}
	// With nothing installed, even ld.so.cache must not change.
	v = Judge([]Change{{"/etc/ld.so.cache", "content"}}, nil, nil, "")
	if v.OK() {
		t.Error("a maintainer-script path changed with nothing installed was accepted")
	}
	if !Judge(nil, nil, nil, "").OK() {
		t.Error("no change must be OK")
	}
}

func TestReadOwned(t *testing.T) {
	root := t.TempDir()
	info := filepath.Join(root, "var", "lib", "dpkg", "info")
	write(t, filepath.Join(info, "wine64.list"), "/.\n/etc\n/etc/wine\n/usr/lib/wine/wine64\n", 0o644)
	write(t, filepath.Join(info, "libc6:i386.list"), "/lib/i386-linux-gnu/libc.so.6\n", 0o644)
	owned, err := ReadOwned(root, []Package{{Name: "wine64", Arch: "amd64"}, {Name: "libc6", Arch: "i386"}})
	if err != nil {
		t.Fatal(err)
	}
	if !owned["/etc/wine"] || !owned["/lib/i386-linux-gnu/libc.so.6"] || owned["/."] {
		t.Errorf("owned %v", owned)
	}
	if _, err := ReadOwned(root, []Package{{Name: "nolist", Arch: "amd64"}}); err == nil || !strings.Contains(err.Error(), "nolist") {
		t.Errorf("a package without a file list: %v", err)
	}
}

// What the installed packages' own maintainer scripts name is theirs to
// write: readline-common's postinst copies /etc/inputrc, fontconfig's
// links into /etc/fonts/conf.d a name made from a debconf answer. A path
// a script does not name stays unexplained.
func TestJudgeByMaintainerScripts(t *testing.T) {
	root := t.TempDir()
	info := filepath.Join(root, "var", "lib", "dpkg", "info")
	// Excerpts of bookworm's scripts.
	write(t, filepath.Join(info, "readline-common.postinst"), "#!/bin/sh\ninstall_from_default /usr/share/readline/inputrc /etc/inputrc\n", 0o755)
	write(t, filepath.Join(info, "fontconfig-config.postinst"), "#!/bin/sh\nCONFDIR=/etc/fonts/conf.d\nln -s $CONFAVAIL/$hintnone $CONFDIR/$hintnone\n", 0o755)
	write(t, filepath.Join(info, "python3.11-minimal.postinst"), "#!/bin/sh\nmkdir -p /etc/python3.11\n", 0o755)
	write(t, filepath.Join(info, "other.postinst"), "touch /etc/inputrc.d/x\n", 0o755)
	pkgs := []Package{{Name: "readline-common", Arch: "all"}, {Name: "fontconfig-config", Arch: "all"}, {Name: "python3.11-minimal", Arch: "amd64"}}
	scripts := ReadScripts(root, pkgs)
	if !strings.Contains(scripts, "/etc/inputrc") || strings.Contains(scripts, "inputrc.d") {
		t.Fatalf("scripts read: %q", scripts)
	}
	v := Judge([]Change{
		{"/etc/inputrc", "added"},
		{"/etc/fonts/conf.d/10-hinting-slight.conf", "added"},
		{"/etc/python3", "added"},     // named only as /etc/python3.11: not this
		{"/etc/hostname", "content"},  // in /etc itself: the folder does not count
		{"/etc/inputrc.d/x", "added"}, // named by a package not installed
	}, pkgs, nil, scripts)
	var scripted, bad []string
	for _, c := range v.Scripted {
		scripted = append(scripted, c.Path)
	}
	for _, c := range v.Bad {
		bad = append(bad, c.Path)
	}
	if strings.Join(scripted, " ") != "/etc/inputrc /etc/fonts/conf.d/10-hinting-slight.conf" {
		t.Errorf("scripted %v", scripted)
	}
	if strings.Join(bad, " ") != "/etc/python3 /etc/hostname /etc/inputrc.d/x" {
		t.Errorf("bad %v", bad)
	}
}

// A package's tmpfiles.d configuration is applied by its postinst, so
// what it names (systemd's /etc/mtab) is the package's doing too.
func TestReadScriptsIncludesTmpfiles(t *testing.T) {
	root := t.TempDir()
	info := filepath.Join(root, "var", "lib", "dpkg", "info")
	conf := filepath.Join(root, "usr", "lib", "tmpfiles.d", "debian.conf")
	for _, d := range []string{info, filepath.Dir(conf)} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(info, "systemd.list"), []byte("/usr\n/usr/lib/tmpfiles.d/debian.conf\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(conf, []byte("L+ /etc/mtab - - - - ../proc/self/mounts\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	scripts := ReadScripts(root, []Package{{Name: "systemd", Arch: "amd64"}})
	if !namedIn(scripts, "/etc/mtab") {
		t.Errorf("/etc/mtab not explained by systemd's tmpfiles.d: %q", scripts)
	}
	if ReadScripts(root, []Package{{Name: "other", Arch: "amd64"}}) != "" {
		t.Error("another package's scripts name systemd's tmpfiles")
	}
}
