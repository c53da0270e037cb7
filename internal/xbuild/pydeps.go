package xbuild

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"github.com/hashicorp/go-version"

	"qemupack/internal/run"
)

// QEMU 8.1 and later configure through a Python virtual environment
// (python/scripts/mkvenv.py): configure makes build/pyvenv with the
// system's site packages visible, then ensures the [meson] group of the
// tree's pythondeps.toml: a package the system python already has in an
// accepted version is used as it is, anything else is installed from
// python/wheels (or PyPI, which we never allow: --disable-download). The
// release tarball carries meson's and pycotap's wheels there; Debian's +ds
// repack carries none, and the host's meson (Debian 12: 1.0.1) is older
// than 10.2's minimum (1.5.0). The missing packages come as PythonPackages:
// pure-python Debian binary packages (architecture all) unpacked as they
// are, their dist-packages folder put on PYTHONPATH for every step, so the
// venv's python finds them as system packages and mkvenv writes
// pyvenv/bin/meson from their entry points. This needs no pip and no wheel
// (a wheel would need pip inside the venv, i.e. ensurepip, and a writable
// copy of python/wheels), and the package's own files are used unchanged.

// PythonPackage is a pure-python package unpacked from a Debian binary
// package (dpkg-deb -x, or the pipeline's .deb extraction into the cache).
type PythonPackage struct {
	// Root is the unpacked package: it holds usr/lib/python3/dist-packages.
	Root string
	// Origin names the package for logs and the build record, e.g.
	// "meson 1.7.0-1 (Debian trixie, meson_1.7.0-1_all.deb)".
	Origin string
}

// PythonDist is one python distribution found in a PythonPackage.
type PythonDist struct {
	Name    string // as its metadata spells it: "meson"
	Version string // "1.7.0"
	SiteDir string // the folder that goes on PYTHONPATH
	Origin  string // the PythonPackage's Origin
}

// distPackages is where Debian's python3 packages put their modules.
const distPackages = "usr/lib/python3/dist-packages"

// metaDir matches a distribution's metadata folder: meson-1.7.0.egg-info,
// meson-1.7.0.dist-info.
var metaDir = regexp.MustCompile(`^(.+?)-([0-9][^-]*?)(?:\.egg-info|\.dist-info)$`)

// ReadPythonPackage lists the distributions an unpacked package holds,
// from the names of their metadata folders (and the Version: line inside,
// which wins when the two differ).
func ReadPythonPackage(p PythonPackage) ([]PythonDist, error) {
	site := filepath.Join(p.Root, filepath.FromSlash(distPackages))
	ents, err := os.ReadDir(site)
	if err != nil {
		return nil, fmt.Errorf("python package %s: %w (is %s an unpacked Debian python3 package?)", p.Origin, err, p.Root)
	}
	var out []PythonDist
	for _, e := range ents {
		m := metaDir.FindStringSubmatch(e.Name())
		if m == nil || !e.IsDir() {
			continue
		}
		d := PythonDist{Name: m[1], Version: m[2], SiteDir: site, Origin: p.Origin}
		for _, f := range []string{"PKG-INFO", "METADATA"} {
			if v := metadataVersion(filepath.Join(site, e.Name(), f)); v != "" {
				d.Version = v
				break
			}
		}
		out = append(out, d)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("python package %s: no *.egg-info or *.dist-info in %s", p.Origin, site)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

func metadataVersion(path string) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if line == "" {
			break // the headers end at the first empty line
		}
		if v, ok := strings.CutPrefix(line, "Version:"); ok {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// PythonDep is one package of a pythondeps.toml group.
type PythonDep struct {
	Name     string // "meson"
	Accepted string // a PEP 440 specifier, e.g. ">=1.5.0" ("" = any)
}

// UsesVenv says whether the tree configures through mkvenv (QEMU 8.1+).
func UsesVenv(srcDir string) bool {
	_, err := os.Stat(filepath.Join(srcDir, "python", "scripts", "mkvenv.py"))
	return err == nil
}

var (
	tomlSection  = regexp.MustCompile(`^\[([A-Za-z0-9_.-]+)\]\s*$`)
	tomlEntry    = regexp.MustCompile(`^([A-Za-z0-9_.-]+)\s*=\s*\{(.*)\}\s*$`)
	tomlAccepted = regexp.MustCompile(`\baccepted\s*=\s*"([^"]*)"`)
)

// ParsePythonDeps reads one group of a pythondeps.toml: the subset QEMU
// writes (sections of `name = { accepted = "...", ... }` lines; # starts
// a comment, so Debian's disable-pycotap.patch, which comments pycotap's
// line out, leaves it out here as it does for mkvenv).
func ParsePythonDeps(text, group string) ([]PythonDep, error) {
	var out []PythonDep
	in, found := false, false
	for n, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if m := tomlSection.FindStringSubmatch(line); m != nil {
			in = m[1] == group
			found = found || in
			continue
		}
		if !in {
			continue
		}
		m := tomlEntry.FindStringSubmatch(line)
		if m == nil {
			return nil, fmt.Errorf("pythondeps.toml line %d: %q is not a `name = { ... }` entry", n+1, line)
		}
		d := PythonDep{Name: m[1]}
		if a := tomlAccepted.FindStringSubmatch(m[2]); a != nil {
			d.Accepted = strings.TrimSpace(a[1])
		}
		out = append(out, d)
	}
	if !found {
		return nil, fmt.Errorf("pythondeps.toml has no [%s] group", group)
	}
	return out, nil
}

// Accepts says whether v meets the specifier (">=1.5.0"; "" accepts any).
func (d PythonDep) Accepts(v string) (bool, error) {
	if d.Accepted == "" {
		return true, nil
	}
	c, err := version.NewConstraint(d.Accepted)
	if err != nil {
		return false, fmt.Errorf("pythondeps.toml: %s: specifier %q not understood: %w", d.Name, d.Accepted, err)
	}
	have, err := version.NewVersion(v)
	if err != nil {
		return false, nil
	}
	return c.Check(have), nil
}

func (d PythonDep) String() string { return d.Name + d.Accepted }

// wheelName matches a wheel file: name-version(-build)?-py-abi-platform.whl.
var wheelName = regexp.MustCompile(`^([A-Za-z0-9_.]+)-([0-9][^-]*)-.*\.whl$`)

// normName is a distribution name as PEP 503 compares them.
func normName(s string) string {
	return strings.ToLower(regexp.MustCompile(`[-_.]+`).ReplaceAllString(s, "-"))
}

// Wheels lists the wheels in the tree's python/wheels (name -> version).
func Wheels(srcDir string) map[string]string {
	out := map[string]string{}
	ents, _ := os.ReadDir(filepath.Join(srcDir, "python", "wheels"))
	for _, e := range ents {
		if m := wheelName.FindStringSubmatch(e.Name()); m != nil {
			out[normName(m[1])] = m[2]
		}
	}
	return out
}

// PythonChoice says how one dependency of the [meson] group is met.
type PythonChoice struct {
	Dep  PythonDep
	Dist *PythonDist // a given package, put on PYTHONPATH
	// Wheel is the version of the tree's own wheel that mkvenv installs.
	Wheel string
	// Host: neither a given package nor a wheel; the build python must
	// have it (Build asks it before configure).
	Host bool
}

// ChoosePythonDeps decides, for each dependency, where it comes from: the
// tree's own wheel first (what the release pins), then a given package in
// an accepted version, else the host's python. A given package that is
// there but too old is an error naming both versions.
func ChoosePythonDeps(deps []PythonDep, wheels map[string]string, given []PythonDist) ([]PythonChoice, error) {
	var out []PythonChoice
	var problems []string
	for _, d := range deps {
		c := PythonChoice{Dep: d}
		if w, ok := wheels[normName(d.Name)]; ok {
			c.Wheel = w
			out = append(out, c)
			continue
		}
		var tooOld []string
		for i := range given {
			g := given[i]
			if normName(g.Name) != normName(d.Name) {
				continue
			}
			ok, err := d.Accepts(g.Version)
			if err != nil {
				return nil, err
			}
			if ok {
				c.Dist = &g
				break
			}
			tooOld = append(tooOld, fmt.Sprintf("%s %s from %s", g.Name, g.Version, g.Origin))
		}
		if c.Dist == nil && len(tooOld) > 0 {
			problems = append(problems, fmt.Sprintf("the tree wants %s, but the given %s does not meet it", d, strings.Join(tooOld, ", ")))
			continue
		}
		c.Host = c.Dist == nil
		out = append(out, c)
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("python packages for configure: %s", strings.Join(problems, "; "))
	}
	return out, nil
}

// PythonPath is the PYTHONPATH the choices need: each given package's
// folder once, in the order of the dependencies.
func PythonPath(choices []PythonChoice) []string {
	var out []string
	seen := map[string]bool{}
	for _, c := range choices {
		if c.Dist != nil && !seen[c.Dist.SiteDir] {
			seen[c.Dist.SiteDir] = true
			out = append(out, c.Dist.SiteDir)
		}
	}
	return out
}

// pythonQuery prints, for the interpreter that runs configure, the modules
// mkvenv relies on and the version of each distribution named on its
// command line ("-" when it has none). It imports nothing it asks about.
const pythonQuery = `import sys, importlib.util as u, importlib.metadata as m
for mod in ("venv", "ensurepip", "pip", "setuptools", "tomllib", "tomli"):
    print("module " + mod + " " + ("1" if u.find_spec(mod) else "0"))
for n in sys.argv[1:]:
    try:
        print("dist " + n + " " + m.version(n))
    except m.PackageNotFoundError:
        print("dist " + n + " -")
`

// PythonFacts is what pythonQuery found.
type PythonFacts struct {
	Modules map[string]bool
	Dists   map[string]string // normalized name -> version ("" when absent)
}

// ParsePythonFacts reads pythonQuery's output.
func ParsePythonFacts(out string) PythonFacts {
	f := PythonFacts{Modules: map[string]bool{}, Dists: map[string]string{}}
	for _, line := range strings.Split(out, "\n") {
		w := strings.Fields(line)
		if len(w) != 3 {
			continue
		}
		switch w[0] {
		case "module":
			f.Modules[w[1]] = w[2] == "1"
		case "dist":
			v := w[2]
			if v == "-" {
				v = ""
			}
			f.Dists[normName(w[1])] = v
		}
	}
	return f
}

// VenvProblems lists what configure's venv step will miss in this python:
// the venv module; ensurepip, unless pip and setuptools are there (mkvenv
// then skips it); tomllib (Python 3.11) or tomli to read pythondeps.toml;
// and each host-met dependency in an accepted version.
func VenvProblems(f PythonFacts, choices []PythonChoice) ([]string, error) {
	var out []string
	if !f.Modules["venv"] {
		out = append(out, "the venv module (Debian package python3-venv)")
	}
	if !f.Modules["ensurepip"] && !(f.Modules["pip"] && f.Modules["setuptools"]) {
		out = append(out, "ensurepip, or pip and setuptools (Debian package python3-venv)")
	}
	if !f.Modules["tomllib"] && !f.Modules["tomli"] {
		out = append(out, "tomllib (Python 3.11) or tomli, to read pythondeps.toml (Debian package python3-tomli)")
	}
	for _, c := range choices {
		if !c.Host {
			continue
		}
		have := f.Dists[normName(c.Dep.Name)]
		ok := false
		if have != "" {
			var err error
			if ok, err = c.Dep.Accepts(have); err != nil {
				return nil, err
			}
		}
		if !ok {
			h := "none"
			if have != "" {
				h = have
			}
			out = append(out, fmt.Sprintf("%s (python/wheels has none, no package was given for it, and this python has %s)", c.Dep, h))
		}
	}
	return out, nil
}

// MissingPython lists what the tree's [meson] group needs that neither
// its own python/wheels nor the given python has in an accepted version
// (nil for a tree that does not configure through a venv): the packages
// the pipeline fetches from Debian's archive (DebianPython names them) and
// passes on as Options.PythonPackages.
func MissingPython(ctx context.Context, srcDir, python string) ([]PythonDep, error) {
	if !UsesVenv(srcDir) {
		return nil, nil
	}
	toml, err := os.ReadFile(filepath.Join(srcDir, "pythondeps.toml"))
	if err != nil {
		return nil, fmt.Errorf("python packages: %w", err)
	}
	deps, err := ParsePythonDeps(string(toml), "meson")
	if err != nil {
		return nil, err
	}
	choices, err := ChoosePythonDeps(deps, Wheels(srcDir), nil)
	if err != nil {
		return nil, err
	}
	args := []string{python, "-c", pythonQuery}
	for _, c := range choices {
		args = append(args, c.Dep.Name)
	}
	out, err := run.Output(ctx, run.Cmd{Args: args})
	if err != nil {
		return nil, fmt.Errorf("ask %s which python packages it has: %w", python, err)
	}
	facts := ParsePythonFacts(out)
	var missing []PythonDep
	for _, c := range choices {
		if !c.Host {
			continue
		}
		ok, err := c.Dep.Accepts(facts.Dists[normName(c.Dep.Name)])
		if err != nil {
			return nil, err
		}
		if !ok {
			missing = append(missing, c.Dep)
		}
	}
	return missing, nil
}

// DebianPython is the Debian binary package that carries a python
// distribution: meson is "meson", the rest follow Debian's python3-<name>.
func DebianPython(name string) string {
	if n := normName(name); n != "meson" {
		return "python3-" + n
	}
	return "meson"
}
