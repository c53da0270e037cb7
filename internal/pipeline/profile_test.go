package pipeline

import (
	"strings"
	"testing"

	"qemupack/internal/config"
)

// The deps step builds what the profile's features need, and no more.
func TestProfileChoosesTheLibraries(t *testing.T) {
	for _, tc := range []struct {
		profile string
		want    []string
	}{
		{"headless", []string{"glib-2.0", "gthread-2.0", "pixman-1", "slirp", "zlib", "libfdt"}},
		{"desk", []string{"glib-2.0", "gthread-2.0", "pixman-1", "slirp", "zlib", "libfdt",
			"gtk+-3.0", "sdl2", "libgcrypt", "libzstd", "libusb-1.0", "libusbredirparser-0.5", "libcurl", "libssh", "capstone"}},
	} {
		r := &Run{Config: config.Config{Profile: tc.profile}}
		got, err := r.want()
		if err != nil || strings.Join(got, " ") != strings.Join(tc.want, " ") {
			t.Errorf("%s: %q, %v", tc.profile, got, err)
		}
	}
	r := &Run{Config: config.Config{Profile: "gui"}}
	if _, err := r.want(); err == nil || !strings.Contains(err.Error(), "QEMUPACK_PROFILE") {
		t.Errorf("unknown profile: %v", err)
	}
	r = &Run{Config: config.Config{Profile: "desk"}, Want: []string{"zlib"}}
	if got, _ := r.want(); strings.Join(got, " ") != "zlib" {
		t.Errorf("Run.Want not kept: %q", got)
	}
}
