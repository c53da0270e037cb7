package deps

import (
	"os"
	"path/filepath"
	"strings"
)

// InstallPrefix is the prefix every library is configured with. The real
// prefix (<cache>/deps/<name>-<version>-<key>) differs from one checkout
// or cache to the next, and libraries compile their prefix into the DLL
// (libintl's LOCALEDIR, glib's locale folder), so configuring with it made
// two checkouts give different DLLs. The build installs with DESTDIR into
// its temporary folder, and the .pc files are rewritten to the real prefix
// afterwards (rewritePC). On Windows these compiled-in folders are unused:
// glib and libintl find their data next to the DLL.
const InstallPrefix = "/qemupack-deps"

// LinkPath is how a folder of ours is written on compiler and linker
// command lines and in .pc files: an absolute POSIX path gets "/.." in
// front ("/../x" is "/x": the parent of the root is the root). GNU ld lays
// out a PE's import tables in the order of the paths of the import
// libraries (its PE linker script sorts .idata$2 by file name), so a
// library from the cache came before or after the mingw sysroot's
// (/usr/...) depending on where the checkout sat: a checkout under /tmp
// and one under /work gave different glib DLLs and QEMU programs. "/../"
// sorts before every other absolute path, wherever the folder is. It
// survives pkg-config and meson, which hands library paths through
// Python's pathlib ("/./" and "//" do not: pathlib or pkg-config fold
// them away). Go's filepath.Clean folds it too, so it is applied where a
// path is written out, nowhere else.
func LinkPath(dir string) string {
	if strings.HasPrefix(dir, "/") && !strings.HasPrefix(dir, "/../") {
		return "/.." + dir
	}
	return dir
}

// reproCflags keep the build machine's folders out of the objects:
// __FILE__ and any debug information name /qemupack-build/<lib> instead of
// the temporary work folder, and /qemupack-deps/... instead of the cache
// for headers of other prefixes. GCC applies the last matching map, so
// the work folder (inside the cache) comes last.
func (b *builder) reproCflags(j *job, work string) []string {
	cache := filepath.ToSlash(filepath.Join(b.cache, "deps"))
	return []string{
		"-ffile-prefix-map=" + cache + "=" + InstallPrefix,
		"-ffile-prefix-map=" + LinkPath(cache) + "=" + InstallPrefix,
		"-ffile-prefix-map=" + filepath.ToSlash(work) + "=/qemupack-build/" + j.r.Name + "-" + j.r.Version,
	}
}

// reproLdflags: GNU ld writes the link time into every PE header unless
// told not to.
var reproLdflags = []string{"-Wl,--no-insert-timestamp"}

// relativeToPrefix writes the fixed prefix as ${prefix} in every line of a
// .pc file but the one that defines prefix=: CMake writes full paths
// (libssh's includedir=/qemupack-deps/include), which pkg-config's
// --define-prefix (the link test, run before the prefix moves into place)
// cannot move. A file that does not define prefix= as the fixed prefix is
// left as it is.
func relativeToPrefix(text string) string {
	lines := strings.SplitAfter(text, "\n")
	defines := false
	for _, l := range lines {
		if strings.TrimRight(l, "\r\n") == "prefix="+InstallPrefix {
			defines = true
		}
	}
	if !defines {
		return text
	}
	for i, l := range lines {
		if !strings.HasPrefix(l, "prefix=") {
			lines[i] = strings.ReplaceAll(l, InstallPrefix, "${prefix}")
		}
	}
	return strings.Join(lines, "")
}

// rewritePC points the staged .pc files at the real prefix (as LinkPath
// writes it).
func rewritePC(stage, prefix string) error {
	for _, dir := range []string{filepath.Join(stage, "lib", "pkgconfig"), filepath.Join(stage, "share", "pkgconfig")} {
		pcs, _ := filepath.Glob(filepath.Join(dir, "*.pc"))
		for _, pc := range pcs {
			data, err := os.ReadFile(pc)
			if err != nil {
				return err
			}
			text := relativeToPrefix(string(data))
			text = strings.ReplaceAll(text, InstallPrefix, LinkPath(filepath.ToSlash(prefix)))
			if text == string(data) {
				continue
			}
			if err := os.WriteFile(pc, []byte(text), 0o644); err != nil {
				return err
			}
		}
	}
	return nil
}
