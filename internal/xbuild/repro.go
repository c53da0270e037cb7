package xbuild

import (
	"fmt"
	"path/filepath"
	"strings"
)

// reproFlags are the compiler and linker flags that keep the build
// machine out of the binaries, so the same inputs built in two checkouts
// (two caches) give the same bytes:
//
//   - QEMU adds its source folder to the include path as an absolute
//     -iquote, so __FILE__ in every header (assert, error_report's
//     locations) carried the cache's path: -ffile-prefix-map turns the
//     source folder into ".". The relative spelling meson uses for the .c
//     files themselves (../../../sources/qemu/<key>/src) is mapped too.
//   - GNU ld writes the link time into every PE header unless told not to.
//
// GCC applies the last matching map, so the longer (absolute) one goes last.
func (p Plan) reproFlags() (cflags, ldflags []string, err error) {
	src := p.posix(p.SourceDir)
	if strings.ContainsAny(src, " \t") {
		return nil, nil, fmt.Errorf("configure: the source folder %q has a space in it, which QEMU's --extra-cflags cannot carry; use a cache folder without spaces (QEMUPACK_CACHE)", src)
	}
	if rel, ok := p.relSource(); ok {
		cflags = append(cflags, "-ffile-prefix-map="+rel+"=.")
	}
	cflags = append(cflags, "-ffile-prefix-map="+src+"=.")
	ldflags = append(ldflags, "-Wl,--no-insert-timestamp")
	return cflags, ldflags, nil
}

// relSource is the source folder relative to the build folder, as meson
// writes it on compile lines; false when either is not absolute (the key
// computation uses a stand-in build folder) or they share no root.
func (p Plan) relSource() (string, bool) {
	if !filepath.IsAbs(p.SourceDir) || !filepath.IsAbs(p.BuildDir) {
		return "", false
	}
	rel, err := filepath.Rel(p.BuildDir, p.SourceDir)
	if err != nil || !strings.HasPrefix(rel, "..") {
		return "", false
	}
	rel = filepath.ToSlash(rel)
	if strings.ContainsAny(rel, " \t") {
		return "", false
	}
	return rel, true
}
