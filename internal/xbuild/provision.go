package xbuild

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"qemupack/internal/atomicfile"
	"qemupack/internal/run"
)

// buildPython is the interpreter a venv-configured tree gets as --python=:
// PYTHON when the user set it, else the one the host's meson runs under,
// else the distribution's /usr/bin/python3, else python3 on PATH. A pyenv
// shim first on PATH is what this avoids: its python lacks the
// distribution's packages and ensurepip setup.
func buildPython(o Options) (string, error) {
	if o.Python != "" && o.Python != "python3" {
		p, err := exec.LookPath(o.Python)
		if err != nil {
			return "", fmt.Errorf("PYTHON=%s: %w", o.Python, err)
		}
		return filepath.Abs(p)
	}
	if interp := mesonInterpreter(); interp != "" {
		if _, err := os.Stat(interp); err == nil {
			return interp, nil
		}
	}
	if _, err := os.Stat("/usr/bin/python3"); err == nil {
		return "/usr/bin/python3", nil
	}
	p, err := exec.LookPath("python3")
	if err != nil {
		return "", fmt.Errorf("no python3 for QEMU's configure (Debian package python3): %w", err)
	}
	return p, nil
}

// preparePython sets plan.Python and plan.PythonPath for a tree that
// configures through a venv, and checks before configure that the venv
// step will find everything: each package of the tree's [meson] group from
// its own wheels, a given package, or the python itself. It returns one
// line per package it brought, for the record and the build key.
func preparePython(ctx context.Context, o Options, plan *Plan) ([]string, error) {
	py, err := buildPython(o)
	if err != nil {
		return nil, err
	}
	plan.Python = py
	toml, err := os.ReadFile(filepath.Join(o.Tree.Dir, "pythondeps.toml"))
	if err != nil {
		return nil, fmt.Errorf("qemu %s configures through a venv but: %w", o.Tree.Version, err)
	}
	deps, err := ParsePythonDeps(string(toml), "meson")
	if err != nil {
		return nil, fmt.Errorf("qemu %s: %w", o.Tree.Version, err)
	}
	var given []PythonDist
	for _, p := range o.PythonPackages {
		ds, err := ReadPythonPackage(p)
		if err != nil {
			return nil, err
		}
		given = append(given, ds...)
	}
	choices, err := ChoosePythonDeps(deps, Wheels(o.Tree.Dir), given)
	if err != nil {
		return nil, fmt.Errorf("qemu %s: %w", o.Tree.Version, err)
	}
	plan.PythonPath = PythonPath(choices)

	args := []string{py, "-c", pythonQuery}
	for _, c := range choices {
		args = append(args, c.Dep.Name)
	}
	c, err := ToolCommand(*plan, args...)
	if err != nil {
		return nil, err
	}
	out, err := run.Output(ctx, run.Cmd{Args: c.Args, Env: run.Environ(c.Environ(os.Environ())...)})
	if err != nil {
		return nil, fmt.Errorf("ask %s what QEMU's configure needs of it: %w", py, err)
	}
	problems, err := VenvProblems(ParsePythonFacts(out), choices)
	if err != nil {
		return nil, err
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("qemu %s configures through a python venv, and %s lacks:\n  %s\n(check lists the python modules; a package the tree asks for comes from Debian's binary package of the matching suite, e.g. meson from trixie)",
			o.Tree.Version, py, strings.Join(problems, "\n  "))
	}
	var lines []string
	for _, c := range choices {
		switch {
		case c.Dist != nil:
			lines = append(lines, fmt.Sprintf("%s %s for configure's venv (%s), on PYTHONPATH", c.Dist.Name, c.Dist.Version, c.Dist.Origin))
		case c.Wheel != "":
			lines = append(lines, fmt.Sprintf("%s %s from the tree's python/wheels", c.Dep.Name, c.Wheel))
		}
	}
	return lines, nil
}

// mesonInterpreter is the absolute interpreter on the host meson's #!
// line ("" when there is no meson script or it goes through env).
func mesonInterpreter() string {
	m, err := exec.LookPath("meson")
	if err != nil {
		return ""
	}
	f, err := os.Open(m)
	if err != nil {
		return ""
	}
	defer f.Close()
	buf := make([]byte, 256)
	n, _ := f.Read(buf)
	first, _, _ := strings.Cut(string(buf[:n]), "\n")
	if !strings.HasPrefix(first, "#!") {
		return ""
	}
	interp := strings.Fields(strings.TrimPrefix(first, "#!"))
	if len(interp) == 0 || !filepath.IsAbs(interp[0]) || filepath.Base(interp[0]) == "env" {
		return ""
	}
	return interp[0]
}

// buildOptionROMs makes the x86 option ROMs in plan.ROMDir and copies them
// into share (the stage's), leaving any the install already put there.
func buildOptionROMs(ctx context.Context, plan Plan, share, log string) error {
	if err := os.RemoveAll(plan.ROMDir); err != nil {
		return fmt.Errorf("option ROMs: %w", err)
	}
	if err := os.MkdirAll(plan.ROMDir, 0o755); err != nil {
		return fmt.Errorf("option ROMs: %w", err)
	}
	cfg, err := OptionROMConfig(plan)
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(plan.ROMDir, "config.mak"), []byte(cfg), 0o644); err != nil {
		return fmt.Errorf("option ROMs: %w", err)
	}
	c, err := OptionROMCommand(plan)
	if err != nil {
		return err
	}
	if err := runCmd(ctx, c, log, nil, 20); err != nil {
		return fmt.Errorf("option ROMs (pc-bios/optionrom with the build machine's gcc): %w", err)
	}
	if err := os.MkdirAll(share, 0o755); err != nil {
		return fmt.Errorf("option ROMs: %w", err)
	}
	for _, r := range OptionROMs {
		dst := filepath.Join(share, r)
		if _, err := os.Stat(dst); err == nil {
			continue
		}
		if err := atomicfile.Copy(filepath.Join(plan.ROMDir, r), dst); err != nil {
			return fmt.Errorf("option ROMs: %w", err)
		}
	}
	return nil
}
