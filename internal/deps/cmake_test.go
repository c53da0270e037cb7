package deps

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"qemupack/internal/recipe"
)

var testTC = Toolchain{CrossPrefix: "x86_64-w64-mingw32-", Triplet: "x86_64-w64-mingw32", GCC: "gcc 12", Meson: "1.0.1", Ninja: "1.11.1",
	Sysroots: []string{"/usr/x86_64-w64-mingw32"}, CMake: "cmake version 3.25.1"}

func TestCMakeToolchainFile(t *testing.T) {
	text := testTC.CMakeToolchainFile([]string{"/../cache/deps/zlib-1", `C:\msys64\mingw64`, "/usr/x86_64-w64-mingw32"})
	for _, want := range []string{
		"set(CMAKE_SYSTEM_NAME Windows)\n",
		"set(CMAKE_SYSTEM_PROCESSOR x86_64)\n",
		`set(CMAKE_C_COMPILER "x86_64-w64-mingw32-gcc")`,
		`set(CMAKE_RC_COMPILER "x86_64-w64-mingw32-windres")`,
		// Windows paths with forward slashes (CMake reads \ as an escape).
		`set(CMAKE_FIND_ROOT_PATH "/../cache/deps/zlib-1" "C:/msys64/mingw64" "/usr/x86_64-w64-mingw32")`,
		"set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)\n",
		"set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)\n",
		"set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)\n",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("toolchain file lacks %q:\n%s", want, text)
		}
	}
	i686 := Toolchain{CrossPrefix: "i686-w64-mingw32-", Triplet: "i686-w64-mingw32"}
	if text := i686.CMakeToolchainFile(nil); !strings.Contains(text, "CMAKE_SYSTEM_PROCESSOR i686)") || !strings.Contains(text, `"i686-w64-mingw32-gcc"`) {
		t.Errorf("i686 toolchain file:\n%s", text)
	}
}

// The configure line: fixed prefix, shared release build, the same
// reproducibility flags as the other builds, dependency folders, and the
// recipe's options last (with {dep:NAME} expanded), so they can override.
func TestCMakeArgs(t *testing.T) {
	b := &builder{tc: testTC, cache: "/c"} // the cache root; prefixes under /c/deps
	zlib := &Lib{Name: "zlib", Prefix: "/c/deps/zlib-1.2.13-aa", From: FromBuilt}
	gcrypt := &Lib{Name: "libgcrypt", Prefix: "/usr/x86_64-w64-mingw32", From: FromHost}
	j := &job{r: recipe.Recipe{Name: "libssh", Version: "0.10.6", Build: "cmake",
		Options: []string{"-DWITH_GCRYPT=ON", "-DGCRYPT_ROOT_DIR={dep:libgcrypt}", "-DX={dep:nosuch}", "-DBUILD_SHARED_LIBS=OFF"}},
		deps: []*Lib{zlib, gcrypt}}
	args := b.cmakeArgs(j, "/w/toolchain.cmake", "/w/src/libssh-0.10.6", "/w/build", "/w")
	line := strings.Join(args, "\n")
	for _, want := range []string{
		"cmake\n-G\nNinja\n-S\n/w/src/libssh-0.10.6\n-B\n/w/build\n",
		"-DCMAKE_TOOLCHAIN_FILE=/w/toolchain.cmake\n",
		"-DCMAKE_INSTALL_PREFIX=" + InstallPrefix + "\n",
		"-DCMAKE_INSTALL_LIBDIR=lib\n",
		"-DCMAKE_BUILD_TYPE=Release\n",
		"-ffile-prefix-map=/w=/qemupack-build/libssh-0.10.6",
		"-ffile-prefix-map=/c/deps=" + InstallPrefix,
		"-I/../c/deps/zlib-1.2.13-aa/include",
		"-DCMAKE_SHARED_LINKER_FLAGS=-Wl,--no-insert-timestamp -L/../c/deps/zlib-1.2.13-aa/lib\n",
		"-DWITH_GCRYPT=ON\n-DGCRYPT_ROOT_DIR=/../usr/x86_64-w64-mingw32\n-DX={dep:nosuch}\n-DBUILD_SHARED_LIBS=OFF",
	} {
		if !strings.Contains(line+"\n", want) {
			t.Errorf("cmake line lacks %q:\n%s", want, line)
		}
	}
	// Host libraries are found through the sysroot, not named by path.
	if strings.Contains(line, "-I/usr/x86_64-w64-mingw32") {
		t.Errorf("cmake line names the host sysroot's include folder:\n%s", line)
	}
	if roots := b.cmakeFindRoots(j); strings.Join(roots, " ") != "/../c/deps/zlib-1.2.13-aa /usr/x86_64-w64-mingw32" {
		t.Errorf("find roots %v", roots)
	}
}

// cmake's version goes into the keys of cmake recipes only; a missing
// cmake stops the plan with the command that installs it.
func TestCMakeInKeyAndPlan(t *testing.T) {
	if testTC.keyID("meson") != testTC.ID() || testTC.keyID("cmake") != testTC.ID()+" cmake=cmake version 3.25.1" {
		t.Errorf("keyID: meson %q, cmake %q", testTC.keyID("meson"), testTC.keyID("cmake"))
	}
	mirror := t.TempDir()
	r := demoRecipe(t, mirror, demoFiles)
	r.Build, r.CC = "cmake", nil
	noCMake := testTC
	noCMake.CMake, noCMake.cmakeInstall = "", "apt-get install -y cmake"
	o := options(t, t.TempDir(), mirror, t.TempDir(), noCMake, []recipe.Recipe{r}, "demo")
	_, err := Plan(context.Background(), o)
	if err == nil || !strings.Contains(err.Error(), "recipes/deps/demo.json builds with cmake") || !strings.Contains(err.Error(), "apt-get install -y cmake") {
		t.Fatalf("plan without cmake: %v", err)
	}
	o.Tool = testTC
	items, err := Plan(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	newer := testTC
	newer.CMake = "cmake version 3.31.6"
	o.Tool = newer
	items2, err := Plan(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if items[0].Key == items2[0].Key {
		t.Error("a new cmake kept the key of a cmake recipe")
	}
}

func TestInstallLicenses(t *testing.T) {
	root, stage := t.TempDir(), t.TempDir()
	os.MkdirAll(filepath.Join(root, "docs"), 0o755)
	os.WriteFile(filepath.Join(root, "BSD"), []byte("bsd text\n"), 0o644)
	os.WriteFile(filepath.Join(root, "docs", "LICENSE_LLVM.TXT"), []byte("llvm text\n"), 0o644)
	r := recipe.Recipe{Name: "demo", LicenseFiles: []string{"BSD", "docs/LICENSE_LLVM.TXT"}}
	if err := installLicenses(root, stage, r); err != nil {
		t.Fatal(err)
	}
	for f, want := range map[string]string{"BSD": "bsd text\n", "docs/LICENSE_LLVM.TXT": "llvm text\n"} {
		got, err := os.ReadFile(filepath.Join(stage, "share", "licenses", "demo", filepath.FromSlash(f)))
		if err != nil || string(got) != want {
			t.Errorf("%s: %q %v", f, got, err)
		}
	}
	r.LicenseFiles = []string{"COPYING"}
	if err := installLicenses(root, stage, r); err == nil || !strings.Contains(err.Error(), "no file COPYING") || !strings.Contains(err.Error(), "recipes/deps/demo.json") {
		t.Errorf("a missing licence file: %v", err)
	}
}

// cmakeDemoFiles: a small real CMake project, a shared library that uses
// the demo library (built by the "cc" build) through a header and a link,
// and installs its own .pc file.
var cmakeDemoFiles = []file{
	{name: "cdemo-1.0/CMakeLists.txt", body: `cmake_minimum_required(VERSION 3.13)
project(cdemo VERSION 1.0 LANGUAGES C)
find_library(DEMO_LIBRARY NAMES demo)
find_path(DEMO_INCLUDE_DIR demo.h)
if(NOT DEMO_LIBRARY OR NOT DEMO_INCLUDE_DIR)
  message(FATAL_ERROR "demo not found")
endif()
add_library(cdemo cdemo.c)
target_include_directories(cdemo PRIVATE ${DEMO_INCLUDE_DIR})
target_link_libraries(cdemo PRIVATE ${DEMO_LIBRARY})
set_target_properties(cdemo PROPERTIES PREFIX "lib" OUTPUT_NAME "cdemo-1")
configure_file(cdemo.pc.in cdemo.pc @ONLY)
install(TARGETS cdemo RUNTIME DESTINATION bin LIBRARY DESTINATION lib ARCHIVE DESTINATION lib)
install(FILES cdemo.h DESTINATION include)
install(FILES ${CMAKE_BINARY_DIR}/cdemo.pc DESTINATION lib/pkgconfig)
`},
	{name: "cdemo-1.0/cdemo.c", body: "#include <demo.h>\n#include \"cdemo.h\"\nint cdemo_twice(void) { return 2 * demo_answer(); }\n"},
	{name: "cdemo-1.0/cdemo.h", body: "int cdemo_twice(void);\n"},
	{name: "cdemo-1.0/cdemo.pc.in", body: "prefix=@CMAKE_INSTALL_PREFIX@\nlibdir=${prefix}/lib\nincludedir=${prefix}/include\n\nName: cdemo\nDescription: demo\nVersion: @PROJECT_VERSION@\nLibs: -L${libdir} -lcdemo-1\nCflags: -I${includedir}\n"},
	{name: "cdemo-1.0/NOTICE.BSD", body: "cdemo licence\n"},
}

// TestCMakeBuildReal builds the CMake project above with the real cmake
// and cross compiler through Build: a DLL that names no build folder and
// has no link time, its .pc pointing at the real prefix, the licence file
// the recipe names installed, and the link test through the .pc passing.
func TestCMakeBuildReal(t *testing.T) {
	tc := probe(t)
	if tc.CMake == "" {
		t.Fatal("cmake is not installed: apt-get install -y cmake")
	}
	if _, err := exec.LookPath("ninja"); err != nil {
		t.Fatal("ninja is not installed: apt-get install -y ninja-build")
	}
	dir := t.TempDir()
	mirror := filepath.Join(dir, "mirror")
	demo := demoRecipe(t, mirror, demoFiles)
	sum := writeTarGz(t, filepath.Join(mirror, "cdemo-1.0.tar.gz"), cmakeDemoFiles)
	cdemo := recipe.Recipe{
		Name: "cdemo", Version: "1.0", Provides: map[string]string{"cdemo": "1.0"},
		Sources:      []recipe.Source{{URL: "https://example.invalid/cdemo-1.0.tar.gz", File: "cdemo-1.0.tar.gz", SHA256: sum}},
		Build:        "cmake",
		Deps:         []string{"demo"},
		LicenseFiles: []string{"NOTICE.BSD"},
		LinkTest:     "#include <cdemo.h>\nint main(void) { return cdemo_twice() == 84 ? 0 : 1; }\n",
		LinkLibs:     []string{"cdemo"},
	}
	if err := cdemo.Validate(); err != nil {
		t.Fatal(err)
	}
	cache := filepath.Join(dir, "cache")
	o := options(t, cache, mirror, filepath.Join(dir, "patches"), tc, []recipe.Recipe{demo, cdemo}, "cdemo")
	st, err := Build(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	var prefix string
	for _, l := range st.Libs {
		if l.Name == "cdemo" {
			prefix = l.Prefix
		}
	}
	dll := filepath.Join(prefix, "bin", "libcdemo-1.dll")
	if _, err := os.Stat(dll); err != nil {
		t.Fatalf("no DLL: %v", err)
	}
	checkNoBuildMachine(t, dll, dir)
	pc, err := os.ReadFile(filepath.Join(prefix, "lib", "pkgconfig", "cdemo.pc"))
	if err != nil || !strings.Contains(string(pc), "prefix="+LinkPath(filepath.ToSlash(prefix))+"\n") {
		t.Errorf("cdemo.pc does not point at %s: %s %v", prefix, pc, err)
	}
	if lic, err := os.ReadFile(filepath.Join(prefix, "share", "licenses", "cdemo", "NOTICE.BSD")); err != nil || string(lic) != "cdemo licence\n" {
		t.Errorf("licence file: %q %v", lic, err)
	}
	if _, err := os.Stat(filepath.Join(st.Dir, "bin", "libcdemo-1.dll")); err != nil {
		t.Errorf("the joined stack lacks the DLL: %v", err)
	}
}

// A .pc file CMake wrote with full paths is made relative to its prefix=
// line, so pkg-config --define-prefix (the link test, before the prefix
// moves into place) can move it; the prefix line itself names the real
// prefix.
func TestRewritePCRelativeToPrefix(t *testing.T) {
	stage := t.TempDir()
	dir := filepath.Join(stage, "lib", "pkgconfig")
	os.MkdirAll(dir, 0o755)
	cmakeStyle := "prefix=/qemupack-deps\nexec_prefix=${prefix}\nlibdir=/qemupack-deps/lib\nincludedir=/qemupack-deps/include\n\nName: libssh\nVersion: 0.10.6\nLibs: -L${libdir} -lssh\nCflags: -I${includedir}\n"
	noPrefix := "libdir=/qemupack-deps/lib\nName: odd\nVersion: 1\nLibs: -L${libdir} -lodd\n"
	os.WriteFile(filepath.Join(dir, "libssh.pc"), []byte(cmakeStyle), 0o644)
	os.WriteFile(filepath.Join(dir, "odd.pc"), []byte(noPrefix), 0o644)
	if err := rewritePC(stage, "/cache/deps/libssh-1"); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(filepath.Join(dir, "libssh.pc"))
	want := "prefix=/../cache/deps/libssh-1\nexec_prefix=${prefix}\nlibdir=${prefix}/lib\nincludedir=${prefix}/include\n\nName: libssh\nVersion: 0.10.6\nLibs: -L${libdir} -lssh\nCflags: -I${includedir}\n"
	if string(got) != want {
		t.Errorf("libssh.pc:\n%s\nwant:\n%s", got, want)
	}
	got, _ = os.ReadFile(filepath.Join(dir, "odd.pc"))
	if string(got) != strings.ReplaceAll(noPrefix, "/qemupack-deps", "/../cache/deps/libssh-1") {
		t.Errorf("odd.pc:\n%s", got)
	}
}
