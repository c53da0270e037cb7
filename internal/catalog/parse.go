package catalog

import (
	"fmt"
	"path"
	"regexp"
	"strings"

	"github.com/hashicorp/go-version"
)

// Slirp and fdt values: where the library comes from for a build of the
// release tarball.
const (
	Bundled = "bundled" // the release tarball carries the source
	System  = "system"  // only a library installed on the build host will do
	None    = "none"    // the release does not use it
)

// The patterns below match what QEMU's own build files say. Each one names
// the release series it was seen in (read from the real files, see
// testdata/catalog/).
var (
	// configure up to 7.2: glib_req_ver=2.48
	reGlibConfigure = regexp.MustCompile(`(?m)^\s*glib_req_ver=["']?([0-9][0-9.]*)`)
	// meson.build from 8.x: glib_req_ver = '>=2.66.0'
	reGlibMeson = regexp.MustCompile(`(?m)^\s*glib_req_ver\s*=\s*'>=\s*([0-9][0-9.]*)'`)
	// configure up to 7.2: glib_modules=gthread-2.0 (or "$glib_modules gthread-2.0")
	reGthreadConfigure = regexp.MustCompile(`(?m)^\s*glib_modules=.*\bgthread-2\.0\b`)
	// meson.build: dependency('gthread-2.0', ...)
	reGthreadMeson = regexp.MustCompile(`dependency\(\s*'gthread-2\.0'`)
	// configure: $python -c 'import sys; sys.exit(sys.version_info < (3,6))'
	rePython = regexp.MustCompile(`sys\.version_info\s*<\s*\(\s*(\d+)\s*,\s*(\d+)\s*\)`)
	// meson.build: project('qemu', ['c'], meson_version: '>=0.55.0', ...)
	reMesonVersion = regexp.MustCompile(`meson_version\s*:\s*'>=\s*([0-9][0-9.]*)'`)
	// configure 5.2-8.0: a meson on PATH is used only from this version up:
	//   if test "$explicit_python" = no && has meson && version_ge "$(meson --version)" 0.55.3
	//   ... && has_meson && version_ge "$(meson --version)" 0.61.5   (8.0)
	reMesonSystem = regexp.MustCompile(`has[ _]meson && version_ge "\$\(meson --version\)" ([0-9][0-9.]*)`)
	// configure 8.0: $mkvenv ensure ... "meson>=0.63.0"
	reMesonMkvenv = regexp.MustCompile(`"meson>=([0-9][0-9.]*)"`)
	// configure 8.0 and later: mkvenv installs from the vendored wheels
	reWheelsDir = regexp.MustCompile(`mkvenv\S* ensure(?:group)?\s+[^\n]*--dir\s+"\$\{source_path\}/python/wheels"|--dir\s+"\$\{source_path\}/python/wheels"`)
	// configure: error_exit "Cannot find Ninja"
	reNinja = regexp.MustCompile(`error_exit\s+"Cannot find Ninja"`)
	// meson.build: dependency('pixman-1', required: ..., version:'>=0.21.8'
	rePixmanMeson = regexp.MustCompile(`(?s)dependency\(\s*'pixman-1'.{0,200}?version\s*:\s*'>=\s*([0-9][0-9.]*)'`)
	// configure before meson: $pkg_config --atleast-version=0.21.8 pixman-1
	rePixmanConfigure = regexp.MustCompile(`(?:--atleast-version=([0-9][0-9.]*)\s+pixman-1|pixman-1\s*>=\s*([0-9][0-9.]*))`)
	// .gitmodules: path = slirp
	reSubmodulePath = regexp.MustCompile(`(?m)^\s*path\s*=\s*(\S+)\s*$`)
	// meson.build / configure: the system libslirp
	reSlirpSystem = regexp.MustCompile(`dependency\(\s*'slirp'|\$pkg_config\s+(?:--\S+\s+)*slirp\b`)
	// meson.build / configure: libfdt
	reFdtUse = regexp.MustCompile(`find_library\(\s*'fdt'|-lfdt\b|dependency\(\s*'fdt'|\blibfdt\b`)
	// configure up to 7.2 offers a copy of a library from its git submodule:
	//   --enable-slirp=git) slirp="internal"   (5.2)   slirp=git   (5.0)
	//   --enable-fdt=git) fdt="internal"       (5.2-7.2) fdt=git   (5.0)
	//   meson=git                              (5.2-7.2)
	reSlirpGit = regexp.MustCompile(`--enable-slirp=git|\bslirp="?git\b`)
	reFdtGit   = regexp.MustCompile(`--enable-fdt=git|\bfdt="?git\b`)
	reMesonGit = regexp.MustCompile(`\bmeson="?git\b`)
	// scripts/make-release: the tarball is a checkout with every submodule
	reSubmoduleUpdate = regexp.MustCompile(`git submodule update --init`)
	// scripts/make-release: SUBPROJECTS="dtc keycodemapdb ..." (may span lines)
	reMakeReleaseList = regexp.MustCompile(`(?s)\bSUBPROJECTS="([^"]*)"`)
	reMakeReleaseCmd  = regexp.MustCompile(`(?m)meson subprojects download ([^\n$]+)$`)
	// pythondeps.toml: meson = { accepted = ">=1.5.0", installed = "1.9.0", ... }
	rePyDepsMeson = regexp.MustCompile(`(?m)^\s*meson\s*=\s*\{([^}]*)\}`)
	rePyDepsKey   = regexp.MustCompile(`(\w+)\s*=\s*"([^"]*)"`)
)

// ParseError says which release and which file lacked what the parser
// needs: a release whose files do not say something is an error, never a
// silent default.
type ParseError struct {
	Release string // the version, or the tree's name when VERSION is missing
	File    string
	What    string
}

func (e *ParseError) Error() string {
	return fmt.Sprintf("qemu %s: %s: %s", e.Release, e.File, e.What)
}

// Parse reads what one release tree declares. The tree's VERSION names
// the release; a release candidate (x.y.9N) is parsed like any other, and
// callers that build the catalog leave it out (see IsPrerelease).
func Parse(t *Tree) (Release, error) {
	verText, ok := t.file("VERSION")
	if !ok {
		return Release{}, &ParseError{t.Name, "VERSION", "missing: is this the top of a QEMU source tree?"}
	}
	ver := strings.TrimSpace(verText)
	if _, err := version.NewVersion(ver); err != nil || ver == "" {
		return Release{}, &ParseError{t.Name, "VERSION", fmt.Sprintf("%q is not a version number", ver)}
	}
	fail := func(file, what string) (Release, error) {
		return Release{}, &ParseError{ver, file, what}
	}
	configure, hasConfigure := t.file("configure")
	if !hasConfigure {
		return fail("configure", "missing from the tree")
	}
	mesonBuild, hasMeson := t.file("meson.build")
	pyDeps, hasPyDeps := t.file("pythondeps.toml")
	submodules := map[string]bool{}
	if gm, ok := t.file(".gitmodules"); ok {
		for _, m := range reSubmodulePath.FindAllStringSubmatch(gm, -1) {
			submodules[m[1]] = true
		}
	}
	released := releaseSubprojects(t)
	// A release script that checks out every submodule before packing
	// means each submodule configure can use is in the tarball, even when
	// a copy of the tree lost .gitmodules.
	script, _ := t.file("scripts/make-release")
	packsSubmodules := reSubmoduleUpdate.MatchString(script)

	r := Release{Version: ver}

	// glib: meson.build from 8.x, configure before.
	if m := reGlibMeson.FindStringSubmatch(mesonBuild); m != nil {
		r.GlibMin = m[1]
	} else if m := reGlibConfigure.FindStringSubmatch(configure); m != nil {
		r.GlibMin = m[1]
	} else {
		return fail("configure", "no glib requirement (glib_req_ver=) here nor in meson.build")
	}
	r.GthreadChecked = reGthreadConfigure.MatchString(configure) || reGthreadMeson.MatchString(mesonBuild)

	// python: the version check in configure.
	if m := rePython.FindStringSubmatch(configure); m != nil {
		r.PythonMin = m[1] + "." + m[2]
	} else {
		return fail("configure", "no python version check (sys.version_info < (X,Y))")
	}

	// meson: the highest minimum any file declares.
	if hasMeson {
		var mins []string
		i := strings.Index(mesonBuild, "project('qemu'")
		if i < 0 {
			return fail("meson.build", "no project('qemu', ...) call")
		}
		proj := mesonBuild[i:min(len(mesonBuild), i+800)]
		if m := reMesonVersion.FindStringSubmatch(proj); m != nil {
			mins = append(mins, m[1])
		} else {
			return fail("meson.build", "project('qemu', ...) declares no meson_version")
		}
		if m := reMesonSystem.FindStringSubmatch(configure); m != nil {
			mins = append(mins, m[1])
		}
		if m := reMesonMkvenv.FindStringSubmatch(configure); m != nil {
			mins = append(mins, m[1])
		}
		pyMeson := map[string]string{}
		if hasPyDeps {
			pyMeson = pyDepsMeson(pyDeps)
			if acc, ok := strings.CutPrefix(pyMeson["accepted"], ">="); ok {
				mins = append(mins, strings.TrimSpace(acc))
			} else {
				return fail("pythondeps.toml", "no meson entry with accepted = \">=X\"")
			}
		}
		r.MesonMin = highest(mins)
		wheel := false
		for _, w := range t.under("python/wheels") {
			if strings.HasPrefix(w, "meson-") && strings.HasSuffix(w, ".whl") {
				wheel = true
			}
		}
		// Debian's repacks drop the wheel; configure still installs from
		// python/wheels the version pythondeps.toml names as installed.
		vendored := reWheelsDir.MatchString(configure) && pyMeson["installed"] != ""
		r.MesonBundled = submodules["meson"] || t.has("meson/meson.py") || wheel || vendored ||
			(packsSubmodules && reMesonGit.MatchString(configure))
		r.NinjaRequired = true // meson's only backend QEMU uses is ninja
	} else if hasPyDeps {
		return fail("meson.build", "missing, yet pythondeps.toml is there: not a whole tree")
	}
	if reNinja.MatchString(configure) {
		r.NinjaRequired = true
	}

	// pixman
	if m := rePixmanMeson.FindStringSubmatch(mesonBuild); m != nil {
		r.PixmanMin = m[1]
	} else if m := rePixmanConfigure.FindStringSubmatch(configure); m != nil {
		r.PixmanMin = m[1] + m[2]
	} else {
		return fail("meson.build", "no pixman-1 version requirement here nor in configure")
	}

	// slirp and fdt: a submodule or a subproject the release script packs
	// in is bundled; a library looked up on the host is system.
	r.Slirp = libSource(submodules["slirp"] || released["slirp"] || released["libslirp"] || t.has("slirp/src") ||
		(packsSubmodules && reSlirpGit.MatchString(configure)),
		reSlirpSystem.MatchString(mesonBuild) || reSlirpSystem.MatchString(configure))
	r.Fdt = libSource(submodules["dtc"] || released["dtc"] || t.has("dtc/libfdt") ||
		(packsSubmodules && reFdtGit.MatchString(configure)),
		reFdtUse.MatchString(mesonBuild) || reFdtUse.MatchString(configure))

	if note, ok := t.file(SourceNoteFile); ok {
		r.Source = strings.TrimSpace(strings.SplitN(note, "\n", 2)[0])
	}
	return r, nil
}

func libSource(bundled, used bool) string {
	switch {
	case bundled:
		return Bundled
	case used:
		return System
	}
	return None
}

// releaseSubprojects lists the meson subprojects scripts/make-release
// downloads into the tarball (and so are bundled), when the tree also
// holds their wrap files.
func releaseSubprojects(t *Tree) map[string]bool {
	out := map[string]bool{}
	script, ok := t.file("scripts/make-release")
	if !ok {
		return out
	}
	var words []string
	if m := reMakeReleaseList.FindStringSubmatch(script); m != nil {
		words = strings.Fields(m[1])
	}
	for _, m := range reMakeReleaseCmd.FindAllStringSubmatch(script, -1) {
		words = append(words, strings.Fields(m[1])...)
	}
	for _, w := range words {
		if strings.HasPrefix(w, "$") || strings.HasPrefix(w, "-") {
			continue
		}
		if t.has(path.Join("subprojects", w+".wrap")) || t.has(path.Join("subprojects", w)) {
			out[w] = true
		}
	}
	return out
}

// pyDepsMeson returns the keys of the meson entry in pythondeps.toml's
// [meson] section.
func pyDepsMeson(toml string) map[string]string {
	out := map[string]string{}
	section := ""
	for _, line := range strings.Split(toml, "\n") {
		s := strings.TrimSpace(line)
		if strings.HasPrefix(s, "[") && strings.HasSuffix(s, "]") {
			section = strings.Trim(s, "[] ")
			continue
		}
		if section != "meson" {
			continue
		}
		if m := rePyDepsMeson.FindStringSubmatch(line); m != nil {
			for _, kv := range rePyDepsKey.FindAllStringSubmatch(m[1], -1) {
				out[kv[1]] = kv[2]
			}
		}
	}
	return out
}

// highest returns the greatest of some version strings, as written.
func highest(vs []string) string {
	best, bestText := (*version.Version)(nil), ""
	for _, s := range vs {
		v, err := version.NewVersion(s)
		if err != nil {
			continue
		}
		if best == nil || v.GreaterThan(best) {
			best, bestText = v, s
		}
	}
	return bestText
}
