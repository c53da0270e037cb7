package profile_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"qemupack/internal/deps"
	"qemupack/internal/profile"
)

const configured = "../../testdata/xbuild/qemu-10.2.2-configured"

// macrosOf lists every CONFIG_ macro a meson-written header names, defined
// or not: the macros QEMU 10.2.2 knows.
func macrosOf(t *testing.T, files ...string) map[string]bool {
	t.Helper()
	re := regexp.MustCompile(`(?m)^#(?:define|undef) (CONFIG_[A-Z0-9_]+)`)
	out := map[string]bool{}
	for _, f := range files {
		b, err := os.ReadFile(filepath.Join(configured, f))
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range re.FindAllStringSubmatch(string(b), -1) {
			out[m[1]] = true
		}
	}
	return out
}

// The feature table against QEMU 10.2.2 itself: every option is one its
// configure takes, every macro one its build writes, every library one
// the deps stack has a recipe for. A typo here would otherwise surface as
// a refused build after configure.
func TestFeaturesMatchQEMU10(t *testing.T) {
	b, err := os.ReadFile("../../testdata/xbuild/qemu-10.2.2-options.txt")
	if err != nil {
		t.Fatal(err)
	}
	known := map[string]bool{}
	for _, o := range strings.Fields(string(b)) {
		known[o] = true
	}
	host := macrosOf(t, "desk/config-host.h")
	target := macrosOf(t, "desk/x86_64-softmmu-config-target.h")
	for _, f := range profile.Features {
		if f.Title == "" || len(f.Checks) == 0 || len(f.Configure) == 0 {
			t.Errorf("%s: a feature needs a title, configure options and checks", f.Name)
		}
		for _, o := range f.Configure {
			name := o
			if i := strings.Index(o, "="); i >= 0 {
				name = o[:i+1]
			}
			if !known[name] {
				t.Errorf("%s: QEMU 10.2.2's configure has no %s", f.Name, name)
			}
		}
		for _, c := range f.Checks {
			switch c.Where {
			case profile.HostMacro:
				if !host[c.Name] {
					t.Errorf("%s: QEMU 10.2.2's config-host.h never names %s", f.Name, c.Name)
				}
			case profile.TargetMacro:
				if !target[c.Name] {
					t.Errorf("%s: QEMU 10.2.2's config-target.h never names %s", f.Name, c.Name)
				}
			case profile.Dependency, profile.Program:
			default:
				t.Errorf("%s: check %v looks nowhere", f.Name, c)
			}
		}
		if f.Library != "" {
			if _, unknown := deps.FeatureModules(f.Library); len(unknown) > 0 {
				t.Errorf("%s: library %s is not in deps.DeskFeatures", f.Name, f.Library)
			}
		}
	}
}

func TestProfiles(t *testing.T) {
	for _, name := range profile.Names() {
		p, err := profile.Lookup(name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := p.All(); err != nil {
			t.Error(err)
		}
		if len(p.Targets) == 0 {
			t.Errorf("%s: no default targets", name)
		}
	}
	desk, _ := profile.Lookup(profile.Desk)
	libs, err := desk.Libraries()
	if err != nil {
		t.Fatal(err)
	}
	// Every library feature of the deps stack is in the desk build.
	for _, f := range deps.DeskFeatures {
		found := false
		for _, l := range libs {
			found = found || l == f.Option
		}
		if !found {
			t.Errorf("desk profile lacks deps.DeskFeatures' %s", f.Option)
		}
	}
	// WHPX is for x86 guests: an aarch64-only desk build does not promise it.
	arm, err := desk.For([]string{"aarch64-softmmu"})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range arm {
		if f.Name == "whpx" {
			t.Error("whpx promised for aarch64-softmmu alone")
		}
	}
	x86, _ := desk.For([]string{"x86_64-softmmu", "aarch64-softmmu"})
	if got := strings.Join(profile.FeatureNames(x86), " "); !strings.Contains(got, "whpx") || !strings.Contains(got, "dsound") || !strings.Contains(got, "guest-agent") {
		t.Errorf("desk for x86_64+aarch64 = %s", got)
	}
	headless, _ := profile.Lookup(profile.Headless)
	if libs, _ := headless.Libraries(); len(libs) != 0 {
		t.Errorf("headless needs libraries %v", libs)
	}
	if _, err := profile.Lookup("gui"); err == nil || !strings.Contains(err.Error(), "desk, headless") {
		t.Errorf("unknown profile: %v", err)
	}
}

func TestConfigureOptionsAreSortedAndUnique(t *testing.T) {
	fs := []profile.Feature{{Configure: []string{"--enable-vnc", "--enable-sdl"}}, {Configure: []string{"--enable-vnc", "--enable-gcrypt"}}}
	if got := strings.Join(profile.Configure(fs), " "); got != "--enable-gcrypt --enable-sdl --enable-vnc" {
		t.Errorf("Configure = %s", got)
	}
}

func TestOffers(t *testing.T) {
	has, lacks := profile.Offers([]string{"slirp", "vnc", "fdt", "tools"}, []string{"x86_64-softmmu"})
	if len(has) != 4 || !strings.HasPrefix(has[0], "user-mode networking") {
		t.Errorf("headless has %q", has)
	}
	joined := strings.Join(lacks, "\n")
	for _, s := range []string{"SDL2 window", "Windows Hypervisor Platform", "qemu-ga.exe", "GTK3", "SPICE", "OpenGL"} {
		if !strings.Contains(joined, s) {
			t.Errorf("headless lacks list misses %s:\n%s", s, joined)
		}
	}
	// WHPX is not missing from an aarch64-only build: it never applies.
	_, lacks = profile.Offers([]string{"slirp"}, []string{"aarch64-softmmu"})
	if strings.Contains(strings.Join(lacks, "\n"), "Hypervisor") {
		t.Errorf("aarch64 build lacks WHPX: %q", lacks)
	}
	if has, lacks := profile.Offers(nil, nil); has != nil || lacks != nil {
		t.Errorf("no record: %q %q", has, lacks)
	}
}
