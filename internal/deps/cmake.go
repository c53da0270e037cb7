package deps

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"

	"qemupack/internal/run"
)

// The "cmake" build: a toolchain file for the cross compiler, configure
// with the fixed prefix (InstallPrefix), build with ninja, install with
// DESTDIR, the same as the meson and autotools builds. libssh has no other
// build system; capstone's Makefile cannot cross-compile a DLL.

// cmakeProbe returns the first line of `cmake --version` ("" when cmake
// is not on PATH). The host probe does not look for cmake: only recipes
// built with it need it, so a missing cmake is an error only when such a
// recipe is to be built (Plan).
func cmakeProbe() string {
	path, err := exec.LookPath("cmake")
	if err != nil {
		return ""
	}
	out, err := exec.Command(path, "--version").Output()
	if err != nil {
		return ""
	}
	line, _, _ := strings.Cut(string(out), "\n")
	return strings.TrimSpace(line)
}

// keyID is the toolchain part of a recipe's cache key: cmake's version
// counts only for recipes built with it, so the keys of every other
// library stay what they were.
func (t Toolchain) keyID(build string) string {
	if build == "cmake" {
		return t.ID() + " cmake=" + t.CMake
	}
	return t.ID()
}

// needCMake is the error for a cmake recipe on a host without cmake.
func (t Toolchain) needCMake(recipeName string) error {
	how := t.cmakeInstall
	if how == "" {
		how = "install CMake 3.13 or newer and put it on PATH"
	}
	return fmt.Errorf("deps: recipes/deps/%s.json builds with cmake, which is not on PATH; install it: %s", recipeName, how)
}

// CMakeToolchainFile is a CMake toolchain file for this cross compiler.
// findRoots are the folders CMake's find_* commands look in (the
// dependencies' prefixes, then the host sysroots), and only there for
// libraries, headers and packages: never the build machine's own /usr.
// Programs (pkg-config, perl) come from the build machine.
func (t Toolchain) CMakeToolchainFile(findRoots []string) string {
	p := t.CrossPrefix
	arch, _, _ := strings.Cut(t.Triplet, "-")
	if arch == "" {
		arch = "x86_64"
	}
	q := func(s string) string { return `"` + strings.NewReplacer(`\`, `/`, `"`, `\"`).Replace(s) + `"` }
	var roots []string
	for _, r := range findRoots {
		roots = append(roots, q(r))
	}
	return fmt.Sprintf(`set(CMAKE_SYSTEM_NAME Windows)
set(CMAKE_SYSTEM_PROCESSOR %s)
set(CMAKE_C_COMPILER %s)
set(CMAKE_CXX_COMPILER %s)
set(CMAKE_RC_COMPILER %s)
set(CMAKE_AR %s CACHE FILEPATH "")
set(CMAKE_RANLIB %s CACHE FILEPATH "")
set(CMAKE_FIND_ROOT_PATH %s)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
`, arch, q(p+"gcc"), q(p+"g++"), q(p+"windres"), q(p+"ar"), q(p+"ranlib"), strings.Join(roots, " "))
}

// cmakeArgs is the configure command line: the toolchain file, the fixed
// prefix, a release build of shared libraries, the reproducibility flags
// (and the dependencies' include and library folders, which code that
// includes a header without a find_package needs, as autotools' CPPFLAGS
// gives them), then the recipe's options, which may override any of it.
func (b *builder) cmakeArgs(j *job, toolchainFile, tree, buildDir, work string) []string {
	cflags := b.reproCflags(j, work)
	for _, d := range b.depDirs(j, "include") {
		cflags = append(cflags, "-I"+d)
	}
	ldflags := append([]string{}, reproLdflags...)
	for _, d := range b.depDirs(j, "lib") {
		ldflags = append(ldflags, "-L"+d)
	}
	c, l := strings.Join(cflags, " "), strings.Join(ldflags, " ")
	args := []string{"cmake", "-G", "Ninja", "-S", tree, "-B", buildDir,
		"-DCMAKE_TOOLCHAIN_FILE=" + toolchainFile,
		"-DCMAKE_BUILD_TYPE=Release",
		"-DCMAKE_INSTALL_PREFIX=" + InstallPrefix,
		"-DCMAKE_INSTALL_LIBDIR=lib",
		"-DBUILD_SHARED_LIBS=ON",
		"-DCMAKE_C_FLAGS=" + c,
		"-DCMAKE_CXX_FLAGS=" + c,
		"-DCMAKE_SHARED_LINKER_FLAGS=" + l,
		"-DCMAKE_MODULE_LINKER_FLAGS=" + l,
		"-DCMAKE_EXE_LINKER_FLAGS=" + l,
	}
	args = append(args, expandOptions(j, j.r.Options)...)
	return args
}

// cmakeFindRoots: the built dependencies' prefixes (as LinkPath writes
// them, so that full library paths CMake puts on link lines sort the same
// wherever the cache is), then the host sysroots.
func (b *builder) cmakeFindRoots(j *job) []string {
	var roots []string
	for _, d := range j.deps {
		if d.From != FromHost {
			roots = append(roots, LinkPath(filepath.ToSlash(d.Prefix)))
		}
	}
	return append(roots, b.tc.Sysroots...)
}

func (b *builder) cmake(ctx context.Context, j *job, step stepFunc, env []string, tree, buildDir, destDir string) error {
	if b.tc.CMake == "" {
		return &StepError{Lib: j.label(), Step: "cmake configure", Err: b.tc.needCMake(j.r.Name)}
	}
	work := filepath.Dir(buildDir)
	tcFile := filepath.Join(work, "toolchain.cmake")
	if err := os.WriteFile(tcFile, []byte(b.tc.CMakeToolchainFile(b.cmakeFindRoots(j))), 0o644); err != nil {
		return err
	}
	if err := step("cmake configure", func(log string) error {
		return run.Run(ctx, run.Cmd{Args: b.cmakeArgs(j, tcFile, tree, buildDir, work), Dir: work, Env: env, Log: log})
	}); err != nil {
		return err
	}
	if err := step("cmake build", func(log string) error {
		return run.Run(ctx, run.Cmd{Args: []string{"cmake", "--build", buildDir, "--parallel", strconv.Itoa(j.jobs)}, Env: env, Log: log, Line: progressLine(j)})
	}); err != nil {
		return err
	}
	return step("install", func(log string) error {
		return run.Run(ctx, run.Cmd{Args: []string{"cmake", "--install", buildDir}, Env: run.Merge(env, "DESTDIR="+destDir), Log: log})
	})
}
