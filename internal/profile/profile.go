// Package profile says what an archive offers: a profile is a named set of
// QEMU features and a default target list. Each feature says which
// configure options turn it on, which library of the deps stack it needs
// (by QEMU's meson option name, resolved through deps.DeskFeatures), and
// how the configured build shows that it is really on (a macro in
// config-host.h or a target's config-target.h, a dependency meson found, a
// program the build makes). The build refuses a promised feature that
// configure left off; README.txt lists what the build has.
//
// The profiles are Go data, not a file under recipes/: the checks name
// QEMU's own macros and options, which move with QEMU's code, and a table
// test here reads them against a real QEMU tree; a typo is a compile or
// test failure, not a surprise in a 40-minute build. A new feature (GTK,
// issue 12) is one Feature entry (with its library in deps.DeskFeatures)
// and its name in a profile's list.
package profile

import (
	"fmt"
	"sort"
	"strings"
)

// Where says where a check looks in the configured build folder.
type Where string

const (
	// HostMacro: a #define in config-host.h, what every C file of the
	// build sees (CONFIG_SDL).
	HostMacro Where = "config-host.h"
	// TargetMacro: a #define in <target>-config-target.h of every built
	// target the feature applies to (CONFIG_WHPX: accelerators are per
	// target).
	TargetMacro Where = "config-target.h"
	// Dependency: a dependency meson found, by its pkg-config name
	// (meson-info/intro-dependencies.json): for features QEMU gives no
	// macro (usb-redir is a source set added when the library is found).
	Dependency Where = "intro-dependencies.json"
	// Program: a program the build makes and installs (meson's target
	// list, as the build step reads it for ninja).
	Program Where = "intro-targets.json"
)

// Check is one piece of evidence that a feature is on.
type Check struct {
	Where Where
	Name  string // macro, pkg-config name or program file name
}

func (c Check) String() string { return fmt.Sprintf("%s in %s", c.Name, c.Where) }

// Feature is one thing an archive offers.
type Feature struct {
	Name  string // short, for settings and messages: "sdl"
	Title string // for README.txt and the README table
	// Configure are the options that turn it on (headless has them off or
	// leaves them to configure's own choice).
	Configure []string
	// Library is the QEMU meson option whose pkg-config modules
	// deps.DeskFeatures lists ("" = none: DirectSound and WHPX come with
	// the mingw headers).
	Library string
	// Targets: the feature applies only when one of these is built (WHPX
	// accelerates x86 guests only); nil = every build.
	Targets []string
	// Checks must all hold in the configured build.
	Checks []Check
	// Programs are the programs it adds to the archive.
	Programs []string
}

// Applies says whether the feature means anything for these targets.
func (f Feature) Applies(targets []string) bool {
	if len(f.Targets) == 0 {
		return true
	}
	for _, t := range targets {
		for _, a := range f.Targets {
			if t == a {
				return true
			}
		}
	}
	return false
}

var x86 = []string{"i386-softmmu", "x86_64-softmmu"}

// Features is every feature a profile may promise, in the order README.txt
// lists them.
var Features = []Feature{
	{Name: "slirp", Title: "user-mode networking (slirp: -nic user, host forwarding)",
		Configure: []string{"--enable-slirp"}, Checks: []Check{{HostMacro, "CONFIG_SLIRP"}}},
	{Name: "vnc", Title: "VNC server (-vnc)",
		Configure: []string{"--enable-vnc"}, Checks: []Check{{HostMacro, "CONFIG_VNC"}}},
	{Name: "fdt", Title: "device trees (libfdt: microvm, -M virt)",
		Configure: []string{"--enable-fdt=system"}, Checks: []Check{{HostMacro, "CONFIG_FDT"}}},
	{Name: "tools", Title: "qemu-img, qemu-io, qemu-nbd",
		Configure: []string{"--enable-tools"}, Checks: []Check{{Program, "qemu-img.exe"}}, Programs: []string{"qemu-img.exe", "qemu-io.exe", "qemu-nbd.exe"}},
	{Name: "gtk", Title: "GTK3 window (the default display; -display gtk): menus (pause, reset, power down, zoom, grab), the QEMU monitor and serial consoles in tabs",
		Configure: []string{"--enable-gtk"}, Library: "gtk", Checks: []Check{{HostMacro, "CONFIG_GTK"}}},
	{Name: "sdl", Title: "SDL2 window (-display sdl; the default display where GTK is not built) and SDL audio",
		Configure: []string{"--enable-sdl"}, Library: "sdl", Checks: []Check{{HostMacro, "CONFIG_SDL"}, {HostMacro, "CONFIG_AUDIO_SDL"}}},
	{Name: "dsound", Title: "DirectSound audio (-audiodev dsound, the default audio driver)",
		Configure: []string{"--enable-dsound"}, Checks: []Check{{HostMacro, "CONFIG_AUDIO_DSOUND"}}},
	{Name: "whpx", Title: "Windows Hypervisor Platform acceleration (-accel whpx)",
		Configure: []string{"--enable-whpx"}, Targets: x86, Checks: []Check{{TargetMacro, "CONFIG_WHPX"}}},
	{Name: "vnc-password", Title: "VNC passwords and TLS-less crypto (DES, LUKS) through libgcrypt",
		Configure: []string{"--enable-gcrypt"}, Library: "gcrypt", Checks: []Check{{HostMacro, "CONFIG_VNC"}, {HostMacro, "CONFIG_GCRYPT"}}},
	{Name: "zstd", Title: "zstd compression (qcow2 compression_type=zstd, migration)",
		Configure: []string{"--enable-zstd"}, Library: "zstd", Checks: []Check{{HostMacro, "CONFIG_ZSTD"}}},
	{Name: "libusb", Title: "USB host pass-through (-device usb-host; needs a WinUSB driver on the device)",
		Configure: []string{"--enable-libusb"}, Library: "libusb", Checks: []Check{{HostMacro, "CONFIG_USB_LIBUSB"}}},
	{Name: "usb-redir", Title: "USB redirection (-chardev spicevmc/socket with usb-redir)",
		Configure: []string{"--enable-usb-redir"}, Library: "usb_redir", Checks: []Check{{Dependency, "libusbredirparser-0.5"}}},
	{Name: "curl", Title: "disk images over HTTP(S) and FTP(S) (curl with Windows' Schannel TLS; QEMU's curl driver patched so Windows' event loop can watch curl's sockets)",
		Configure: []string{"--enable-curl"}, Library: "curl", Checks: []Check{{HostMacro, "CONFIG_CURL"}}},
	{Name: "libssh", Title: "disk images over SSH (ssh://)",
		Configure: []string{"--enable-libssh"}, Library: "libssh", Checks: []Check{{HostMacro, "CONFIG_LIBSSH"}}},
	{Name: "capstone", Title: "disassembler for -d in_asm and the monitor (capstone)",
		Configure: []string{"--enable-capstone"}, Library: "capstone", Checks: []Check{{HostMacro, "CONFIG_CAPSTONE"}}},
	{Name: "guest-agent", Title: "guest agent for Windows guests (qemu-ga.exe; without VSS)",
		Configure: []string{"--enable-guest-agent"}, Checks: []Check{{Program, GuestAgent}}, Programs: []string{GuestAgent}},
}

// GuestAgent is the guest agent's program in the archive (desk profile).
const GuestAgent = "qemu-ga.exe"

// Profile is a named set of features with default targets.
type Profile struct {
	Name     string
	Doc      string   // one line for the settings table
	Features []string // names in Features
	Targets  []string // QEMU_TARGETS when unset
}

// Names of the profiles.
const (
	Desk     = "desk"
	Headless = "headless"
	// Default is the profile QEMUPACK_PROFILE names when unset: the desk
	// build (its full bundle, smoke included, passed on the build machine).
	Default = Desk
)

var base = []string{"slirp", "vnc", "fdt", "tools"}

// Profiles lists every profile.
var Profiles = []Profile{
	{Name: Desk, Doc: "a window (GTK3 with menus and the monitor and serial consoles in tabs; SDL with -display sdl), sound, VNC with passwords, zstd, USB, curl and ssh disks, capstone, WHPX, the guest agent; x86_64 and aarch64",
		Features: append(append([]string{}, base...), "gtk", "sdl", "dsound", "whpx", "vnc-password", "zstd", "libusb", "usb-redir", "curl", "libssh", "capstone", "guest-agent"),
		Targets:  []string{"x86_64-softmmu", "aarch64-softmmu"}},
	{Name: Headless, Doc: "the lean server build: VNC, user networking and the tools; x86_64",
		Features: base,
		Targets:  []string{"x86_64-softmmu"}},
}

// Describe is the profiles for the settings table: "`desk` (...) or
// `headless` (...)".
func Describe() string {
	var parts []string
	for _, p := range Profiles {
		parts = append(parts, fmt.Sprintf("`%s` (%s)", p.Name, p.Doc))
	}
	return strings.Join(parts, " or ")
}

// DescribeTargets is each profile's default targets for the settings
// table: "desk `x86_64-softmmu,aarch64-softmmu`, headless ...".
func DescribeTargets() string {
	var parts []string
	for _, p := range Profiles {
		parts = append(parts, fmt.Sprintf("%s `%s`", p.Name, strings.Join(p.Targets, ",")))
	}
	return strings.Join(parts, ", ")
}

// Names are the profiles' names, in table order.
func Names() []string {
	var out []string
	for _, p := range Profiles {
		out = append(out, p.Name)
	}
	return out
}

// Lookup returns the profile called name.
func Lookup(name string) (Profile, error) {
	for _, p := range Profiles {
		if p.Name == name {
			return p, nil
		}
	}
	return Profile{}, fmt.Errorf("no profile %q (profiles: %s)", name, strings.Join(Names(), ", "))
}

// FeatureByName returns the feature called name.
func FeatureByName(name string) (Feature, bool) {
	for _, f := range Features {
		if f.Name == name {
			return f, true
		}
	}
	return Feature{}, false
}

// All returns the profile's features in Features order. A name the table
// lacks is an error (a test keeps the table whole).
func (p Profile) All() ([]Feature, error) {
	want := map[string]bool{}
	for _, n := range p.Features {
		if _, ok := FeatureByName(n); !ok {
			return nil, fmt.Errorf("profile %s: no feature %q", p.Name, n)
		}
		want[n] = true
	}
	var out []Feature
	for _, f := range Features {
		if want[f.Name] {
			out = append(out, f)
		}
	}
	return out, nil
}

// For returns the features the profile promises for these targets: its
// features that apply to them.
func (p Profile) For(targets []string) ([]Feature, error) {
	all, err := p.All()
	if err != nil {
		return nil, err
	}
	var out []Feature
	for _, f := range all {
		if f.Applies(targets) {
			out = append(out, f)
		}
	}
	return out, nil
}

// Libraries are the QEMU meson options of the profile's features that need
// a library (deps.FeatureModules turns them into pkg-config modules). They
// do not depend on the targets: no library feature is target-specific.
func (p Profile) Libraries() ([]string, error) {
	all, err := p.All()
	if err != nil {
		return nil, err
	}
	var out []string
	for _, f := range all {
		if f.Library != "" {
			out = append(out, f.Library)
		}
	}
	return out, nil
}

// Configure are the configure options of the features, sorted, without
// repeats.
func Configure(fs []Feature) []string {
	seen := map[string]bool{}
	var out []string
	for _, f := range fs {
		for _, o := range f.Configure {
			if !seen[o] {
				seen[o] = true
				out = append(out, o)
			}
		}
	}
	sort.Strings(out)
	return out
}

// Names returns the features' names.
func FeatureNames(fs []Feature) []string {
	var out []string
	for _, f := range fs {
		out = append(out, f.Name)
	}
	return out
}

// Behind are what the builds Windows users know (Stefan Weil's installer,
// MSYS2's mingw-w64-qemu) have and no profile offers yet.
var Behind = []string{
	"SPICE (remote display, usb-redir over SPICE)",
	"OpenGL / virglrenderer (3D in the guest)",
}

// Offers turns a build's feature names (xbuild's record: what configure
// turned on) into README.txt's lists: the titles of those it has, in table
// order, and of those it lacks (the table's features that apply to its
// targets, then Behind). No names (a build recorded before features
// were) gives nothing.
func Offers(names, targets []string) (has, lacks []string) {
	if len(names) == 0 {
		return nil, nil
	}
	on := map[string]bool{}
	for _, n := range names {
		on[n] = true
	}
	for _, f := range Features {
		switch {
		case on[f.Name]:
			has = append(has, f.Title)
		case f.Applies(targets):
			lacks = append(lacks, f.Title)
		}
	}
	return has, append(lacks, Behind...)
}
