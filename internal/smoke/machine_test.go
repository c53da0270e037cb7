package smoke

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"qemupack/internal/pe/petest"
)

// TestCheckBuildMachine compiles the same program twice with the real
// cross compiler: as a plain build would (absolute source path in
// __FILE__, link time in the header) and as ours does. Only the first is
// refused, with the file and the folder named.
func TestCheckBuildMachine(t *testing.T) {
	gcc := petest.Need(t, "x86_64-w64-mingw32-gcc", "gcc-mingw-w64-x86-64")
	src := filepath.Join(t.TempDir(), "checkout-folder", "src")
	os.MkdirAll(src, 0o755)
	c := filepath.Join(src, "hello.c")
	os.WriteFile(c, []byte("#include <assert.h>\nint main(int c, char **v) { assert(c > 0); return v[0][0] == 0; }\n"), 0o644)
	build := func(dir string, args ...string) string {
		os.MkdirAll(dir, 0o755)
		out := filepath.Join(dir, "qemu-hello.exe")
		cmd := exec.Command(gcc, append(args, "-O2", "-o", out, c)...)
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%v: %v\n%s", cmd.Args, err, b)
		}
		os.WriteFile(filepath.Join(dir, "README.txt"), []byte("built from the sources\n"), 0o644)
		return dir
	}
	folders := []string{filepath.Dir(src), "/q"} // "/q" is too short to look for

	plain := build(filepath.Join(t.TempDir(), "plain"))
	err := CheckBuildMachine(plain, folders)
	if err == nil {
		t.Fatal("a build naming its checkout and carrying a link time passed")
	}
	for _, want := range []string{"qemu-hello.exe names the build folder " + filepath.Dir(src) + "/", "qemu-hello.exe carries a link time", "reprocheck"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}

	ours := build(filepath.Join(t.TempDir(), "ours"), "-ffile-prefix-map="+src+"=.", "-Wl,--no-insert-timestamp")
	// A DLL from the host's packages keeps its link time: it is the same
	// file on every checkout.
	hostDLL := build(filepath.Join(t.TempDir(), "host"), "-ffile-prefix-map="+src+"=.")
	if err := os.Rename(filepath.Join(hostDLL, "qemu-hello.exe"), filepath.Join(ours, "libhost-1.dll")); err != nil {
		t.Fatal(err)
	}
	if err := CheckBuildMachine(ours, folders); err != nil {
		t.Errorf("a mapped build without link time: %v", err)
	}

	// A text file naming the cache is caught too.
	os.WriteFile(filepath.Join(ours, "README.txt"), []byte("configure "+src+"/configure\n"), 0o644)
	if err := CheckBuildMachine(ours, folders); err == nil || !strings.Contains(err.Error(), "README.txt names the build folder") {
		t.Errorf("README naming the checkout: %v", err)
	}
}
