package xbuild

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"qemupack/internal/qemusrc"
)

func readTestdata(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "testdata", "xbuild", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestParsePythonDeps(t *testing.T) {
	up, err := ParsePythonDeps(readTestdata(t, "qemu-10.2.2-pythondeps.toml"), "meson")
	if err != nil {
		t.Fatal(err)
	}
	want := []PythonDep{{"meson", ">=1.5.0"}, {"pycotap", ">=1.1.0"}}
	if !reflect.DeepEqual(up, want) {
		t.Errorf("upstream [meson] = %+v", up)
	}
	// Debian's disable-pycotap.patch comments pycotap out.
	ds, err := ParsePythonDeps(readTestdata(t, "qemu-10.2.2+ds-1-pythondeps.toml"), "meson")
	if err != nil || !reflect.DeepEqual(ds, want[:1]) {
		t.Errorf("+ds [meson] = %+v, %v", ds, err)
	}
	if _, err := ParsePythonDeps(readTestdata(t, "qemu-10.2.2-pythondeps.toml"), "nosuch"); err == nil {
		t.Error("a missing group was accepted")
	}
	if _, err := ParsePythonDeps("[meson]\nmeson >= 1.5\n", "meson"); err == nil {
		t.Error("a line that is no entry was accepted")
	}
	for v, ok := range map[string]bool{"1.7.0": true, "1.5.0": true, "1.0.1": false, "junk": false} {
		if got, err := want[0].Accepts(v); err != nil || got != ok {
			t.Errorf("meson>=1.5.0 accepts %s: %v, %v", v, got, err)
		}
	}
}

func TestChoosePythonDeps(t *testing.T) {
	meson := PythonDep{"meson", ">=1.5.0"}
	pycotap := PythonDep{"pycotap", ">=1.1.0"}
	trixie := PythonDist{Name: "meson", Version: "1.7.0", SiteDir: "/t/meson/dist-packages", Origin: "trixie"}
	old := PythonDist{Name: "meson", Version: "1.0.1", SiteDir: "/t/old/dist-packages", Origin: "bookworm"}

	// Upstream's tarball: both come from its wheels; a given meson is not used.
	cs, err := ChoosePythonDeps([]PythonDep{meson, pycotap}, map[string]string{"meson": "1.9.0", "pycotap": "1.3.1"}, []PythonDist{trixie})
	if err != nil || cs[0].Wheel != "1.9.0" || cs[1].Wheel != "1.3.1" || len(PythonPath(cs)) != 0 {
		t.Errorf("wheels: %+v, %v", cs, err)
	}
	// Debian's +ds: meson from the given package, on PYTHONPATH.
	cs, err = ChoosePythonDeps([]PythonDep{meson}, nil, []PythonDist{old, trixie})
	if err != nil || cs[0].Dist == nil || cs[0].Dist.Version != "1.7.0" || !reflect.DeepEqual(PythonPath(cs), []string{"/t/meson/dist-packages"}) {
		t.Errorf("+ds: %+v, %v", cs, err)
	}
	// Nothing given: the host's python has to have it.
	cs, err = ChoosePythonDeps([]PythonDep{meson, pycotap}, nil, nil)
	if err != nil || !cs[0].Host || !cs[1].Host {
		t.Errorf("nothing given: %+v, %v", cs, err)
	}
	// A given package that is too old is named with its version.
	if _, err := ChoosePythonDeps([]PythonDep{meson}, nil, []PythonDist{old}); err == nil || !strings.Contains(err.Error(), "meson 1.0.1 from bookworm") {
		t.Errorf("too old: %v", err)
	}
}

func TestVenvProblems(t *testing.T) {
	all := "module venv 1\nmodule ensurepip 1\nmodule pip 0\nmodule setuptools 0\nmodule tomllib 1\nmodule tomli 0\ndist meson 1.0.1\ndist pycotap -\n"
	f := ParsePythonFacts(all)
	if f.Dists["meson"] != "1.0.1" || f.Dists["pycotap"] != "" || !f.Modules["venv"] {
		t.Fatalf("facts %+v", f)
	}
	given := PythonChoice{Dep: PythonDep{"meson", ">=1.5.0"}, Dist: &PythonDist{Name: "meson", Version: "1.7.0"}}
	if p, err := VenvProblems(f, []PythonChoice{given}); err != nil || len(p) != 0 {
		t.Errorf("everything there: %q, %v", p, err)
	}
	p, _ := VenvProblems(f, []PythonChoice{{Dep: PythonDep{"meson", ">=1.5.0"}, Host: true}, {Dep: PythonDep{"pycotap", ">=1.1.0"}, Host: true}})
	if len(p) != 2 || !strings.Contains(p[0], "meson>=1.5.0") || !strings.Contains(p[0], "has 1.0.1") || !strings.Contains(p[1], "has none") {
		t.Errorf("host lacks both: %q", p)
	}
	// A python 3.10 without python3-venv and tomli (Ubuntu 22.04 bare).
	bare := ParsePythonFacts("module venv 1\nmodule ensurepip 0\nmodule pip 0\nmodule setuptools 1\nmodule tomllib 0\nmodule tomli 0\n")
	p, _ = VenvProblems(bare, nil)
	if len(p) != 2 || !strings.Contains(p[0], "python3-venv") || !strings.Contains(p[1], "python3-tomli") {
		t.Errorf("bare python: %q", p)
	}
	// pip and setuptools spare ensurepip (mkvenv then does not call it).
	pip := ParsePythonFacts("module venv 1\nmodule ensurepip 0\nmodule pip 1\nmodule setuptools 1\nmodule tomllib 1\n")
	if p, _ := VenvProblems(pip, nil); len(p) != 0 {
		t.Errorf("pip and setuptools: %q", p)
	}
}

// debFromTestdata builds a real Debian package with dpkg-deb from the
// meson 1.7.0 package's own control and metadata files (the modules are
// left out), and unpacks it the way the pipeline does.
func debFromTestdata(t *testing.T) string {
	t.Helper()
	if _, err := exec.LookPath("dpkg-deb"); err != nil {
		t.Skip("dpkg-deb is needed to make and unpack a .deb")
	}
	src := filepath.Join("..", "..", "testdata", "xbuild", "meson-1.7.0-deb")
	tree := t.TempDir()
	egg := filepath.Join(tree, "usr", "lib", "python3", "dist-packages", "meson-1.7.0.egg-info")
	os.MkdirAll(filepath.Join(tree, "DEBIAN"), 0o755)
	os.MkdirAll(egg, 0o755)
	os.MkdirAll(filepath.Join(filepath.Dir(egg), "mesonbuild"), 0o755)
	for from, to := range map[string]string{"control": filepath.Join(tree, "DEBIAN", "control"),
		"PKG-INFO": filepath.Join(egg, "PKG-INFO"), "entry_points.txt": filepath.Join(egg, "entry_points.txt")} {
		b, err := os.ReadFile(filepath.Join(src, from))
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(to, b, 0o644)
	}
	os.WriteFile(filepath.Join(filepath.Dir(egg), "mesonbuild", "__init__.py"), nil, 0o644)
	deb := filepath.Join(t.TempDir(), "meson_1.7.0-1_all.deb")
	if out, err := exec.Command("dpkg-deb", "--root-owner-group", "--build", tree, deb).CombinedOutput(); err != nil {
		t.Fatalf("dpkg-deb --build: %v\n%s", err, out)
	}
	return unpackDeb(t, deb)
}

func unpackDeb(t *testing.T, deb string) string {
	t.Helper()
	root := t.TempDir()
	if out, err := exec.Command("dpkg-deb", "-x", deb, root).CombinedOutput(); err != nil {
		t.Fatalf("dpkg-deb -x %s: %v\n%s", deb, err, out)
	}
	return root
}

func TestReadPythonPackageFromADeb(t *testing.T) {
	root := debFromTestdata(t)
	ds, err := ReadPythonPackage(PythonPackage{Root: root, Origin: "meson 1.7.0-1 (test)"})
	if err != nil {
		t.Fatal(err)
	}
	if len(ds) != 1 || ds[0].Name != "meson" || ds[0].Version != "1.7.0" || ds[0].SiteDir != filepath.Join(root, "usr", "lib", "python3", "dist-packages") {
		t.Errorf("dists = %+v", ds)
	}
	if _, err := ReadPythonPackage(PythonPackage{Root: t.TempDir(), Origin: "empty"}); err == nil {
		t.Error("a folder that is no python package was accepted")
	}
}

// venvTree is a tree that configures through a venv: what preparePython
// reads of it (pythondeps.toml, python/scripts/mkvenv.py, python/wheels).
func venvTree(t *testing.T, toml string) qemusrc.Tree {
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "python", "scripts"), 0o755)
	os.WriteFile(filepath.Join(dir, "python", "scripts", "mkvenv.py"), []byte("# marker\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "pythondeps.toml"), []byte(readTestdata(t, toml)), 0o644)
	return qemusrc.Tree{Dir: dir, Version: "10.2.2"}
}

// TestPreparePythonWithARealMeson unpacks Debian's real meson package and
// has the real python import it through the PYTHONPATH the plan gets. It
// needs the .deb (apt-get download meson/trixie) in the folder
// QEMUPACK_TEST_DEBS names.
func TestPreparePythonWithARealMeson(t *testing.T) {
	debs := os.Getenv("QEMUPACK_TEST_DEBS")
	ms, _ := filepath.Glob(filepath.Join(debs, "meson_1.*_all.deb"))
	if debs == "" || len(ms) == 0 {
		t.Skip("set QEMUPACK_TEST_DEBS to a folder holding Debian's meson_1.*_all.deb (apt-get download meson/trixie)")
	}
	if _, err := os.Stat("/usr/bin/python3"); err != nil {
		t.Skip("no /usr/bin/python3")
	}
	root := unpackDeb(t, ms[len(ms)-1])
	o := Options{Tree: venvTree(t, "qemu-10.2.2+ds-1-pythondeps.toml"), Python: "/usr/bin/python3",
		PythonPackages: []PythonPackage{{Root: root, Origin: filepath.Base(ms[len(ms)-1])}}}
	var p Plan
	lines, err := preparePython(context.Background(), o, &p)
	if err != nil {
		t.Fatal(err)
	}
	if p.Python != "/usr/bin/python3" || len(p.PythonPath) != 1 || len(lines) != 1 || !strings.Contains(lines[0], "on PYTHONPATH") {
		t.Fatalf("plan python %q path %q lines %q", p.Python, p.PythonPath, lines)
	}
	c, _ := ToolCommand(p, "/usr/bin/python3", "-c", "import mesonbuild.coredata as c, importlib.metadata as m; print(c.version, m.version('meson'))")
	cmd := exec.Command(c.Args[0], c.Args[1:]...)
	cmd.Env = c.Environ(os.Environ())
	out, err := cmd.CombinedOutput()
	f := strings.Fields(string(out))
	if err != nil || len(f) != 2 || f[0] != f[1] {
		t.Fatalf("meson through PYTHONPATH: %v %q", err, out)
	}
	if ok, _ := (PythonDep{"meson", ">=1.5.0"}).Accepts(f[0]); !ok {
		t.Errorf("meson through PYTHONPATH: %v %q", err, out)
	}
	// Upstream's pythondeps asks for pycotap as well, which neither the
	// package nor (normally) the python has: named before configure runs.
	o.Tree = venvTree(t, "qemu-10.2.2-pythondeps.toml")
	if _, err := preparePython(context.Background(), o, &p); err != nil && !strings.Contains(err.Error(), "pycotap>=1.1.0") {
		t.Errorf("pycotap missing: %v", err)
	}
}

// TestPreparePythonNamesAMissingMeson: without a package, a host python
// whose meson is too old (Debian 12's 1.0.1) or absent is refused before
// configure, naming the tree's own minimum.
func TestPreparePythonNamesAMissingMeson(t *testing.T) {
	if _, err := os.Stat("/usr/bin/python3"); err != nil {
		t.Skip("no /usr/bin/python3")
	}
	probe := exec.Command("/usr/bin/python3", "-c", "import importlib.metadata as m; print(m.version('meson'))")
	if out, err := probe.Output(); err == nil {
		if ok, _ := (PythonDep{"meson", ">=1.5.0"}).Accepts(strings.TrimSpace(string(out))); ok {
			t.Skipf("this python has meson %s, new enough", strings.TrimSpace(string(out)))
		}
	}
	o := Options{Tree: venvTree(t, "qemu-10.2.2+ds-1-pythondeps.toml"), Python: "/usr/bin/python3"}
	var p Plan
	_, err := preparePython(context.Background(), o, &p)
	if err == nil || !strings.Contains(err.Error(), "meson>=1.5.0") || !strings.Contains(err.Error(), "/usr/bin/python3 lacks") {
		t.Errorf("no meson given: %v", err)
	}
	// A given package from the test's own .deb meets it.
	o.PythonPackages = []PythonPackage{{Root: debFromTestdata(t), Origin: "test deb"}}
	if _, err := preparePython(context.Background(), o, &p); err != nil {
		t.Errorf("with the package: %v", err)
	}
}

// TestMissingPython names what the pipeline has to fetch: nothing for a
// tree with its wheels or without a venv, meson for Debian's +ds tree on a
// python whose meson is older than 1.5.
func TestMissingPython(t *testing.T) {
	if _, err := os.Stat("/usr/bin/python3"); err != nil {
		t.Skip("no /usr/bin/python3")
	}
	ctx := context.Background()
	up := venvTree(t, "qemu-10.2.2-pythondeps.toml")
	os.MkdirAll(filepath.Join(up.Dir, "python", "wheels"), 0o755)
	for _, w := range []string{"meson-1.9.0-py3-none-any.whl", "pycotap-1.3.1-py3-none-any.whl"} {
		os.WriteFile(filepath.Join(up.Dir, "python", "wheels", w), nil, 0o644)
	}
	if m, err := MissingPython(ctx, up.Dir, "/usr/bin/python3"); err != nil || len(m) != 0 {
		t.Errorf("upstream tree with its wheels: %v, %v", m, err)
	}
	if m, err := MissingPython(ctx, t.TempDir(), "/usr/bin/python3"); err != nil || m != nil {
		t.Errorf("a tree without a venv: %v, %v", m, err)
	}
	out, _ := exec.Command("/usr/bin/python3", "-c", "import importlib.metadata as m; print(m.version('meson'))").Output()
	if ok, _ := (PythonDep{"meson", ">=1.5.0"}).Accepts(strings.TrimSpace(string(out))); ok {
		t.Skipf("this python has meson %s", out)
	}
	m, err := MissingPython(ctx, venvTree(t, "qemu-10.2.2+ds-1-pythondeps.toml").Dir, "/usr/bin/python3")
	if err != nil || len(m) != 1 || m[0].String() != "meson>=1.5.0" || DebianPython(m[0].Name) != "meson" {
		t.Errorf("+ds tree: %v, %v", m, err)
	}
	if DebianPython("pycotap") != "python3-pycotap" {
		t.Error("Debian's python3-<name> packages")
	}
}
