package xbuild

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"qemupack/internal/profile"
)

// The real configured builds the tests read: the desk build (GTK, SDL and
// the rest, x86_64 and aarch64) of QEMU 10.0.13 from a fresh root, and
// the headless build of 10.2.2.
const (
	deskConfigured     = "../../testdata/xbuild/qemu-10.0.13-configured/desk"
	headlessConfigured = "../../testdata/xbuild/qemu-10.2.2-configured/headless"
)

// configuredCopy puts the real configured files of one build into a
// folder laid out as meson's build folder is.
func configuredCopy(t *testing.T, from string) string {
	t.Helper()
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "meson-info"), 0o755)
	ents, err := os.ReadDir(from)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join(from, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		dest := filepath.Join(dir, e.Name())
		if e.Name() == "intro-dependencies.json" {
			dest = filepath.Join(dir, "meson-info", e.Name())
		}
		os.WriteFile(dest, b, 0o644)
	}
	return dir
}

func deskPromise(t *testing.T, targets []string) []profile.Feature {
	t.Helper()
	p, _ := profile.Lookup(profile.Desk)
	fs, err := p.For(targets)
	if err != nil {
		t.Fatal(err)
	}
	return fs
}

var deskShipped = []string{"qemu-img.exe", "qemu-io.exe", "qemu-nbd.exe", "qemu-system-aarch64.exe", "qemu-system-x86_64.exe", "qga/qemu-ga.exe"}

func TestDeskBuildHasEveryPromisedFeature(t *testing.T) {
	targets := []string{"aarch64-softmmu", "x86_64-softmmu"}
	c, err := ReadConfigured(configuredCopy(t, deskConfigured), targets, deskShipped)
	if err != nil {
		t.Fatal(err)
	}
	promised := deskPromise(t, targets)
	if err := c.CheckPromised(promised, targets, "configure.log"); err != nil {
		t.Fatalf("the real desk build is refused: %v", err)
	}
	on, off := c.Has(profile.Features, targets)
	if len(off) != 0 || !reflect.DeepEqual(on, profile.FeatureNames(promised)) {
		t.Errorf("has %v, lacks %v", on, off)
	}
	if !c.TargetMacros["x86_64-softmmu"]["CONFIG_WHPX"] || c.TargetMacros["aarch64-softmmu"]["CONFIG_WHPX"] {
		t.Errorf("WHPX per target: %v", c.TargetMacros)
	}
}

// The real headless build against the desk promise: every library feature
// is named, with the macro that says so; DirectSound and WHPX, which come
// with the mingw headers, are on in both.
func TestHeadlessBuildFailsTheDeskPromise(t *testing.T) {
	targets := []string{"x86_64-softmmu"}
	c, err := ReadConfigured(configuredCopy(t, headlessConfigured), targets, []string{"qemu-img.exe", "qemu-system-x86_64.exe"})
	if err != nil {
		t.Fatal(err)
	}
	err = c.CheckPromised(deskPromise(t, targets), targets, "/cache/logs/configure.log")
	var fe *FeatureError
	if !errors.As(err, &fe) {
		t.Fatalf("want a FeatureError, got %v", err)
	}
	var missing []string
	for _, m := range fe.Missing {
		missing = append(missing, m.Feature.Name)
	}
	want := []string{"gtk", "sdl", "vnc-password", "zstd", "libusb", "usb-redir", "curl", "libssh", "capstone", "guest-agent"}
	if !reflect.DeepEqual(missing, want) {
		t.Errorf("missing %v, want %v", missing, want)
	}
	for _, s := range []string{"sdl (", "CONFIG_SDL in config-host.h", "--enable-sdl", "libusbredirparser-0.5 in intro-dependencies.json",
		"qemu-ga.exe", "QEMUPACK_PROFILE=headless", "/cache/logs/configure.log"} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error lacks %q:\n%v", s, err)
		}
	}
	hl, _ := profile.Lookup(profile.Headless)
	fs, _ := hl.For(targets)
	if err := c.CheckPromised(fs, targets, ""); err != nil {
		t.Errorf("the headless build fails its own profile: %v", err)
	}
}

// WHPX dropped by configure (its header not found) on the one x86 target.
func TestWHPXLeftOffIsRefused(t *testing.T) {
	dir := configuredCopy(t, deskConfigured)
	f := filepath.Join(dir, "x86_64-softmmu-config-target.h")
	b, _ := os.ReadFile(f)
	os.WriteFile(f, []byte(strings.Replace(string(b), "#define CONFIG_WHPX 1", "#undef CONFIG_WHPX", 1)), 0o644)
	targets := []string{"aarch64-softmmu", "x86_64-softmmu"}
	c, err := ReadConfigured(dir, targets, deskShipped)
	if err != nil {
		t.Fatal(err)
	}
	err = c.CheckPromised(deskPromise(t, targets), targets, "")
	if err == nil || !strings.Contains(err.Error(), "whpx") || strings.Contains(err.Error(), "sdl") {
		t.Errorf("WHPX off: %v", err)
	}
	// An aarch64-only build promises no WHPX.
	arm := []string{"aarch64-softmmu"}
	if err := c.CheckPromised(deskPromise(t, arm), arm, ""); err != nil {
		t.Errorf("aarch64 alone: %v", err)
	}
}

func TestReadConfiguredNeedsAFinishedConfigure(t *testing.T) {
	dir := configuredCopy(t, deskConfigured)
	os.Remove(filepath.Join(dir, "aarch64-softmmu-config-target.h"))
	if _, err := ReadConfigured(dir, []string{"aarch64-softmmu"}, nil); err == nil || !strings.Contains(err.Error(), "aarch64-softmmu-config-target.h") {
		t.Errorf("missing config-target.h: %v", err)
	}
}

func TestProfileOptionsReplaceTheHeadlessOnes(t *testing.T) {
	known := knownFrom(t, "qemu-10.2.2-options.txt")
	p, _ := profile.Lookup(profile.Desk)
	fs, _ := p.All()
	opts, _, err := ConfigureOptions(known, profile.Configure(fs)...)
	if err != nil {
		t.Fatal(err)
	}
	line := " " + strings.Join(opts, " ") + " "
	for _, s := range []string{"--enable-sdl", "--enable-guest-agent", "--enable-gcrypt", "--enable-dsound", "--enable-whpx", "--disable-qga-vss", "--enable-gtk", "--disable-vte"} {
		if !strings.Contains(line, " "+s+" ") {
			t.Errorf("desk line lacks %s: %s", s, line)
		}
	}
	for _, s := range []string{"--disable-sdl ", "--disable-guest-agent ", "--disable-zstd ", "--disable-gtk "} {
		if strings.Contains(line, " "+s) {
			t.Errorf("desk line still has %s", s)
		}
	}
	if _, _, err := ConfigureOptions(known72(t), "--enable-no-such-thing"); err == nil || !strings.Contains(err.Error(), "--enable-no-such-thing") {
		t.Errorf("unknown option: %v", err)
	}
}
