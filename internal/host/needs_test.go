package host_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"qemupack/internal/config"
	"qemupack/internal/host"
	"qemupack/internal/host/hosttest"
)

// completeHost is a fake Debian host with the whole toolchain and zlib,
// so only the jobs' needs can be missing; apt-get records its arguments.
func completeHost(t *testing.T) (*hosttest.Host, string) {
	h := hosttest.New(t)
	h.Toolchain("1.0.1", "3.11.2")
	h.PC(hosttest.Sysroot, "zlib", "1.2.13")
	log := filepath.Join(h.Root, "apt.log")
	h.Script("apt-get", `echo "$*" >> `+log)
	return h, log
}

// Every job's needs are probed and shown, but only the jobs asked for
// count as missing and get installed.
func TestNeedsOnlyAskedJobsCount(t *testing.T) {
	h, log := completeHost(t)
	h.Tool("makensis", "v3.08")
	h.File("usr/share/nsis/Plugins/x86-unicode/Dialer.dll", "MZ")
	opts := h.Options()
	opts.IsRoot = func() bool { return true }

	r, err := host.Probe(context.Background(), cfgFor(t, h), opts)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Missing) != 0 {
		t.Fatalf("no job asked for, yet missing: %v", r.Missing)
	}
	if len(r.Needs) == 0 {
		t.Fatal("the report lists no needs")
	}
	var buf strings.Builder
	r.WriteText(&buf)
	for _, re := range []string{
		`needed by the smoke test \(bundle's last step\):\n +MISSING +wine `,
		`needed by the test suite \(go run mage.go test\):`,
		`ok +makensis +` + regexp.QuoteMeta(filepath.Join(h.Bin, "makensis")),
		`ok +/usr/share/nsis/Plugins/x86-unicode/\*\.dll`,
		`MISSING +shellcheck +checks the workflow`,
		`install: apt-get install -y wine wine64 fonts-wine osslsigncode shellcheck genisoimage`,
	} {
		if !regexp.MustCompile(re).MatchString(buf.String()) {
			t.Errorf("report lacks %s:\n%s", re, buf.String())
		}
	}

	opts.Jobs = []host.Job{host.JobSmoke}
	r, err = host.Probe(context.Background(), cfgFor(t, h), opts)
	if err != nil {
		t.Fatal(err)
	}
	var what []string
	for _, m := range r.Missing {
		if m.Job != host.JobSmoke {
			t.Errorf("bundle's missing %s is for %s, not the smoke", m.What, m.Job)
		}
		what = append(what, m.What)
	}
	if strings.Join(what, " ") != "wine /usr/share/wine/fonts/tahoma.ttf Xvfb xwininfo xprop xdotool" {
		t.Fatalf("bundle's missing: %+v", r.Missing)
	}
	pkgs, err := host.Setup(context.Background(), r)
	if err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(log)
	// Two packages for one need: separate arguments to apt-get.
	if strings.Join(pkgs, ",") != "wine,wine64,fonts-wine,xvfb,x11-utils,xdotool" || strings.TrimSpace(string(data)) != "install -y -q --no-install-recommends wine wine64 fonts-wine xvfb x11-utils xdotool" {
		t.Errorf("installed %q; apt-get saw %q", pkgs, data)
	}
}

// The test suite's setup installs its tools and the smoke's in one go.
func TestSetupForTests(t *testing.T) {
	h, log := completeHost(t)
	opts := h.Options()
	opts.IsRoot = func() bool { return true }
	opts.Jobs = []host.Job{host.JobSmoke, host.JobTest}
	r, err := host.Probe(context.Background(), cfgFor(t, h), opts)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := host.Setup(context.Background(), r); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(log)
	got := strings.Fields(string(data))
	for _, p := range []string{"wine", "wine64", "fonts-wine", "nsis", "nsis-common", "osslsigncode", "shellcheck", "genisoimage", "qemu-utils", "git", "binutils-mingw-w64-x86-64"} {
		if !contains(got, p) {
			t.Errorf("apt-get install lacks %s: %q", p, data)
		}
	}
	if strings.Count(string(data), "wine64") != 1 {
		t.Errorf("a package named twice: %q", data)
	}
}

// QEMUPACK_SETUP=no installs nothing, even as root on Debian, and stops
// with the command; a missing wine names the way to bundle without it.
func TestSetupDeclined(t *testing.T) {
	h, log := completeHost(t)
	h.Env[config.EnvSetup] = "no"
	opts := h.Options()
	opts.IsRoot = func() bool { return true }
	opts.Jobs = []host.Job{host.JobSmoke}
	r, err := host.Probe(context.Background(), cfgFor(t, h), opts)
	if err != nil {
		t.Fatal(err)
	}
	_, err = host.Setup(context.Background(), r)
	var need *host.NeedInstall
	if !errors.As(err, &need) || need.Command != "apt-get install -y wine wine64 fonts-wine xvfb x11-utils xdotool" {
		t.Fatalf("want the command back, got %v", err)
	}
	for _, s := range []string{"QEMUPACK_SETUP=no", "apt-get install -y wine wine64 fonts-wine xvfb x11-utils xdotool", "QEMUPACK_SMOKE=skip"} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error lacks %q: %v", s, err)
		}
	}
	if _, err := os.Stat(log); err == nil {
		t.Error("apt-get ran although the user declined")
	}
	// Not root: the same, with sudo.
	opts.IsRoot = func() bool { return false }
	r, _ = host.Probe(context.Background(), cfgFor(t, h), opts)
	if _, err := host.Setup(context.Background(), r); !errors.As(err, &need) || need.Command != "sudo apt-get install -y wine wine64 fonts-wine xvfb x11-utils xdotool" {
		t.Errorf("not root: %v", err)
	}
}

// Windows runs the archive itself: wine is no need there.
func TestNoWineNeededOnWindows(t *testing.T) {
	for _, n := range host.Needs {
		if n.Program == "wine" && !n.Unix {
			t.Errorf("%s's wine need would apply on Windows", n.Job)
		}
	}
}

// ProbeJobs looks at a job's needs alone: the fresh-root check needs no
// mingw toolchain on the host.
func TestProbeJobsWithoutToolchain(t *testing.T) {
	h := hosttest.New(t)
	h.Tool("git", "git version 2.39.5")
	h.Tool("tar", "tar (GNU tar) 1.34")
	h.Tool("chroot", "chroot (GNU coreutils) 9.1")
	h.File("usr/share/keyrings/debian-archive-keyring.gpg", "keys")
	r := host.ProbeJobs(context.Background(), cfgFor(t, h), h.Options(), host.JobFreshRoot)
	if len(r.Missing) != 1 || r.Missing[0].What != "debootstrap" || r.Family != host.Debian {
		t.Errorf("missing %+v (family %s)", r.Missing, r.Family)
	}
	if r.InstallCommand() != "apt-get install -y debootstrap" {
		t.Errorf("command %q", r.InstallCommand())
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// On a fresh machine there is no python at all: python3 and its venv
// package are installed together (a second probe after the install would
// find ensurepip missing, with nothing left to install it).
func TestNoPythonInstallsVenvToo(t *testing.T) {
	h := hosttest.New(t)
	h.Tool("x86_64-w64-mingw32-gcc", "x86_64-w64-mingw32-gcc (GCC) 12-win32")
	r, err := host.Probe(context.Background(), cfgFor(t, h), h.Options())
	if err != nil {
		t.Fatal(err)
	}
	cmd := r.InstallCommand()
	if !strings.Contains(cmd, " python3 ") || !strings.Contains(cmd, " python3-venv") {
		t.Errorf("install command %q lacks python3 and python3-venv", cmd)
	}
}

// Complete installs in rounds: what only shows after the first install
// is installed in the second; what an install does not bring is an error
// naming it.
func TestCompleteInRounds(t *testing.T) {
	h, log := completeHost(t)
	os.Remove(filepath.Join(h.Bin, "ninja"))
	ninja := filepath.Join(h.Bin, "ninja")
	flex := filepath.Join(h.Bin, "flex")
	// The fake apt-get makes the programs of the packages it is given;
	// installing ninja-build takes flex away (as if it had replaced it).
	h.Script("apt-get", `echo "$*" >> `+log+`
for p in "$@"; do case "$p" in
ninja-build) printf '#!/bin/sh\necho 1.11.1\n' > `+ninja+`; /bin/chmod +x `+ninja+`; /bin/rm -f `+flex+` ;;
flex) printf '#!/bin/sh\necho flex 2.6.4\n' > `+flex+`; /bin/chmod +x `+flex+` ;;
esac; done`)
	opts := h.Options()
	opts.IsRoot = func() bool { return true }
	probe := func() (host.Report, error) { return host.Probe(context.Background(), cfgFor(t, h), opts) }
	r, _ := probe()
	final, installed, err := host.Complete(context.Background(), r, probe)
	if err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(log)
	if strings.Join(installed, " ") != "ninja-build flex" || len(final.Missing) != 0 ||
		strings.TrimSpace(string(data)) != "install -y -q --no-install-recommends ninja-build\ninstall -y -q --no-install-recommends flex" {
		t.Errorf("installed %v, missing %v; apt-get saw:\n%s", installed, final.Missing, data)
	}

	// An install that brings nothing: the error names what is missing.
	os.Remove(flex)
	h.Script("apt-get", "true")
	r, _ = probe()
	if _, _, err := host.Complete(context.Background(), r, probe); err == nil || !strings.Contains(err.Error(), "flex") {
		t.Errorf("want an error naming flex, got %v", err)
	}
}
