package deps

import "sort"

// Feature is one library feature of QEMU's desk build: the meson option
// of QEMU's that turns it on, the pkg-config modules QEMU's meson.build
// looks for, and the lowest version it accepts.
type Feature struct {
	Option  string   // QEMU's meson option (./configure --enable-<option with - for _>)
	Modules []string // pkg-config modules, as QEMU's meson.build names them
	Min     string   // the lowest version QEMU 10.2's meson.build accepts ("" = any)
	// How says how QEMU's configure finds it, where that needs care.
	How string
}

// DeskFeatures are the library features of the desk build (issue 11),
// checked against QEMU 10.2.2's meson.build. Profiles choose among them;
// every module here has a recipe (a test checks), so Options.Want can
// name them.
var DeskFeatures = []Feature{
	{Option: "sdl", Modules: []string{"sdl2"},
		How: "dependency('sdl2'): pkg-config first; QEMU's main.c includes <SDL.h>, so sdl2.pc's -lmingw32 -lSDL2main -lSDL2 -mwindows links SDL's main wrapper"},
	{Option: "zstd", Modules: []string{"libzstd"}, Min: "1.4.0"},
	{Option: "libusb", Modules: []string{"libusb-1.0"}, Min: "1.0.13"},
	{Option: "usb_redir", Modules: []string{"libusbredirparser-0.5"}, Min: "0.6"},
	{Option: "curl", Modules: []string{"libcurl"}, Min: "7.29.0"},
	{Option: "libssh", Modules: []string{"libssh"}, Min: "0.8.7"},
	{Option: "capstone", Modules: []string{"capstone"}, Min: "3.0.5",
		How: "pkg-config, then QEMU compiles #include <capstone.h>: capstone.pc's Cflags point into include/capstone"},
	{Option: "gcrypt", Modules: []string{"libgcrypt"}, Min: "1.9.4",
		How: "QEMU >= 9.1: dependency('libgcrypt') tries pkg-config first (Debian's libgcrypt-mingw-w64-dev ships libgcrypt.pc); QEMU 7.2 asks with method: 'config-tool' only, which a cross build finds only when the cross file names libgcrypt-config"},
}

// DeskModules are the pkg-config modules of the desk build: QEMU's own
// (QEMUModules) and every DeskFeatures module, sorted, without repeats.
func DeskModules() []string {
	seen := map[string]bool{}
	var out []string
	add := func(m string) {
		if !seen[m] {
			seen[m] = true
			out = append(out, m)
		}
	}
	for _, m := range QEMUModules {
		add(m)
	}
	for _, f := range DeskFeatures {
		for _, m := range f.Modules {
			add(m)
		}
	}
	sort.Strings(out)
	return out
}

// FeatureModules are the pkg-config modules of the named features (QEMU
// meson option names, e.g. "sdl", "zstd", "gtk": DeskFeatures and
// GTKFeature), for a profile that offers some of them; an unknown name is
// returned in unknown.
func FeatureModules(options ...string) (modules, unknown []string) {
	all := append(append([]Feature{}, DeskFeatures...), GTKFeature)
	for _, o := range options {
		found := false
		for _, f := range all {
			if f.Option == o {
				modules = append(modules, f.Modules...)
				found = true
			}
		}
		if !found {
			unknown = append(unknown, o)
		}
	}
	return modules, unknown
}
