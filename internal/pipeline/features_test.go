package pipeline

import (
	"archive/zip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"qemupack/internal/bundle"
	"qemupack/internal/config"
	"qemupack/internal/profile"
	"qemupack/internal/xbuild"
)

func writeZip(t *testing.T, files map[string]string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "a.zip")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	zw := zip.NewWriter(f)
	for name, data := range files {
		w, err := zw.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		w.Write([]byte(data))
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	f.Close()
	return p
}

// The smoke's desk checks follow what the archive's README.txt says it
// has, mapped back to the profile's feature names; a title no feature
// has is an error, not a silently skipped check.
func TestArchiveFeatures(t *testing.T) {
	title := map[string]string{}
	for _, f := range profile.Features {
		title[f.Name] = f.Title
	}
	readme := "QEMU 10.2.2\r\n\r\nThis build has:\r\n  - " + title["sdl"] + "\r\n  - " + title["zstd"] + "\r\n\r\nNot in this build:\r\n  - " + title["curl"] + "\r\n"
	got, err := archiveFeatures(writeZip(t, map[string]string{"qemu/README.txt": readme, "qemu/x/README.txt": "This build has:\r\n  - nothing\r\n"}))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(got, ",") != "sdl,zstd" {
		t.Errorf("features %q, want sdl,zstd", got)
	}
	_, err = archiveFeatures(writeZip(t, map[string]string{"qemu/README.txt": "This build has:\r\n  - a flying car\r\n"}))
	if err == nil || !strings.Contains(err.Error(), "a flying car") {
		t.Errorf("an unknown title: %v", err)
	}
	got, err = archiveFeatures(writeZip(t, map[string]string{"qemu/README.txt": "QEMU 7.2\r\n"}))
	if err != nil || len(got) != 0 {
		t.Errorf("an archive without the list: %q, %v", got, err)
	}
}

// A headless archive is named apart from the desk one of the same build
// version, so both can sit in one dist/.
func TestArchiveVersionNamesTheProfile(t *testing.T) {
	for profileName, want := range map[string]string{"": "10.2.2-debian", "desk": "10.2.2-debian", "headless": "10.2.2-debian-headless"} {
		r := &Run{Config: config.Config{Profile: profileName}, Build: xbuild.Result{Version: "10.2.2", Flavor: "debian"}}
		if got := r.archiveVersion(); got != want {
			t.Errorf("profile %q: archive version %q, want %q", profileName, got, want)
		}
		if got := bundle.Name(r.archiveVersion()); !strings.HasPrefix(got, "qemu-"+want) {
			t.Errorf("profile %q: archive folder %q", profileName, got)
		}
	}
}
