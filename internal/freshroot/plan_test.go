package freshroot

import (
	"reflect"
	"strings"
	"testing"
)

func TestDebootstrapArgs(t *testing.T) {
	b := Base{}.WithDefaults("amd64")
	if b.Name() != "debian-bookworm-minbase-amd64" {
		t.Errorf("name %q", b.Name())
	}
	got := b.DebootstrapArgs("/c/root")
	want := []string{"debootstrap", "--variant=minbase", "--arch=amd64", "--keyring=/usr/share/keyrings/debian-archive-keyring.gpg",
		"bookworm", "/c/root", "http://deb.debian.org/debian"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("debootstrap\n got %q\nwant %q", got, want)
	}
	// debootstrap's default variant takes no --variant at all.
	d := Base{Variant: "default"}.WithDefaults("arm64")
	if got := d.DebootstrapArgs("/r"); strings.Contains(strings.Join(got, " "), "--variant") || d.Name() != "debian-bookworm-default-arm64" {
		t.Errorf("default variant: %q, %s", got, d.Name())
	}
}

func TestTarKeepsOwnersXattrsAndDevices(t *testing.T) {
	pack := strings.Join(PackArgs("/r", "/c/base.tar.gz"), " ")
	unpack := strings.Join(UnpackArgs("/c/base.tar.gz", "/x"), " ")
	for _, s := range []string{pack, unpack} {
		for _, f := range []string{"--numeric-owner", "--xattrs", "--xattrs-include=*", "--acls"} {
			if !strings.Contains(s, f) {
				t.Errorf("%s lacks %s", s, f)
			}
		}
	}
	if !strings.HasSuffix(pack, "-czpf /c/base.tar.gz -C /r .") || !strings.HasSuffix(unpack, "-xzpf /c/base.tar.gz -C /x") {
		t.Errorf("pack %q unpack %q", pack, unpack)
	}
}

// The command runs in the checkout, with env -i: nothing of the caller's
// environment gets in, and Go is first on PATH.
func TestChrootArgs(t *testing.T) {
	got := ChrootArgs("/c/roots/test-1", "test")
	if got[0] != "chroot" || got[1] != "/c/roots/test-1" || got[2] != "/usr/bin/env" || got[3] != "-i" || got[4] != "--chdir=/root/qemupack" {
		t.Fatalf("prefix %q", got[:5])
	}
	if tail := strings.Join(got[len(got)-4:], " "); tail != "go run mage.go test" {
		t.Errorf("command %q", tail)
	}
	env := got[5 : len(got)-4]
	if !reflect.DeepEqual(env, InnerEnv()) {
		t.Errorf("env %q", env)
	}
	var path string
	for _, kv := range env {
		if !strings.Contains(kv, "=") {
			t.Errorf("%q is not KEY=VALUE", kv)
		}
		if strings.HasPrefix(kv, "PATH=") {
			path = kv
		}
		if strings.HasPrefix(kv, "QEMUPACK_") || strings.HasPrefix(kv, "GO") {
			t.Errorf("setting %q leaks in: the check runs the README command with no settings", kv)
		}
	}
	if !strings.HasPrefix(path, "PATH=/usr/local/go/bin:") || !strings.Contains(path, ":/usr/sbin:") {
		t.Errorf("PATH %q: Go first, then root's usual PATH", path)
	}
	if c := CloneArgs("/w/setup", "/c/r/root/qemupack"); strings.Join(c, " ") != "git clone --quiet --no-hardlinks /w/setup /c/r/root/qemupack" {
		t.Errorf("clone %q", c)
	}
}

// The root is bound onto itself first (then made private, so nothing
// below propagates to the host), /dev comes before /dev/pts and
// /dev/shm, and /sys is read-only.
func TestMounts(t *testing.T) {
	ms := Mounts()
	var targets []string
	for _, m := range ms {
		targets = append(targets, m.Target)
	}
	if strings.Join(targets, " ") != "/ /proc /sys /dev /dev/pts /dev/shm" {
		t.Errorf("mount order %q", targets)
	}
	if !ms[0].Bind || ms[0].Source != "" {
		t.Errorf("first mount %v: want the root bound onto itself", ms[0])
	}
	got := map[string]string{}
	for _, m := range ms {
		got[m.Target] = m.String()
	}
	for target, want := range map[string]string{
		"/proc":    "proc on /proc (nosuid,nodev,noexec)",
		"/sys":     "sysfs on /sys (nosuid,nodev,noexec,ro)",
		"/dev":     "bind /dev on /dev",
		"/dev/pts": "bind /dev/pts on /dev/pts",
		"/dev/shm": "tmpfs on /dev/shm (nosuid,nodev,mode=1777)",
	} {
		if got[target] != want {
			t.Errorf("%s: %q, want %q", target, got[target], want)
		}
	}
	if HostPath("/c/r", "/dev/pts") != "/c/r/dev/pts" || HostPath("/c/r", "/") != "/c/r" {
		t.Error("HostPath")
	}
}

// A real mountinfo excerpt: our root with its mounts (one stacked, one
// with a space in its path), beside the host's own.
const mountinfo = `22 27 0:21 / /proc rw,relatime - proc proc rw
24 27 0:6 / /dev rw,relatime - devtmpfs devtmpfs rw,size=12335048k,mode=755
27 1 254:0 / / rw,relatime - ext4 /dev/vda rw,discard
100 27 254:0 /c/roots/t /c/roots/t rw,relatime - ext4 /dev/vda rw
101 100 0:50 / /c/roots/t/proc rw,nosuid,nodev,noexec,relatime - proc proc rw
102 100 0:6 / /c/roots/t/dev rw,relatime - devtmpfs devtmpfs rw,mode=755
103 102 0:24 / /c/roots/t/dev/pts rw,relatime - devpts devpts rw,mode=600
104 102 0:51 / /c/roots/t/dev/shm rw,nosuid,nodev shared:7 - tmpfs tmpfs rw
105 104 0:52 / /c/roots/t/dev/shm rw - tmpfs tmpfs rw
106 100 0:53 / /c/roots/t/tmp/with\040space rw - tmpfs tmpfs rw
107 27 254:0 / /c/roots/t2 rw - ext4 /dev/vda rw
`

func TestParseMountInfoAndLeaves(t *testing.T) {
	ms, err := ParseMountInfo(mountinfo)
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) != 11 || ms[3].Target != "/c/roots/t" || ms[3].FSType != "ext4" || ms[7].FSType != "tmpfs" || ms[9].Target != "/c/roots/t/tmp/with space" {
		t.Fatalf("parsed %+v", ms)
	}
	if got := len(Under(ms, "/c/roots/t/")); got != 7 {
		t.Errorf("under /c/roots/t: %d mounts, want 7 (not /c/roots/t2)", got)
	}
	// Take the tree apart the way unmountAll does: leaves first, over
	// and over, until nothing is left; a parent never goes before a child.
	gone := map[int]bool{}
	var order []int
	for round := 0; round < 10; round++ {
		var left []MountInfo
		for _, m := range ms {
			if !gone[m.ID] {
				left = append(left, m)
			}
		}
		leaves := Leaves(left, "/c/roots/t")
		if len(leaves) == 0 {
			break
		}
		for _, m := range leaves {
			for _, o := range left {
				if o.Parent == m.ID {
					t.Fatalf("%s (%d) offered while %s is mounted on it", m.Target, m.ID, o.Target)
				}
			}
			gone[m.ID] = true
			order = append(order, m.ID)
		}
	}
	if len(order) != 7 || order[len(order)-1] != 100 {
		t.Errorf("unmount order %v: want all 7, the root's own bind last", order)
	}
	if gone[107] || gone[27] {
		t.Error("a mount outside the root was taken")
	}
	if _, err := ParseMountInfo("garbage line\n"); err == nil {
		t.Error("a line not in the kernel's format must be an error")
	}
}
