package host

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// WriteText writes the toolchain part of the report for a user: the host,
// every tool with its version or what installs it, the python decision and
// the sysroots. The libraries are written by the caller, which knows what
// the chosen release needs of them.
func (r Report) WriteText(w io.Writer) {
	who := "not root"
	if r.Root {
		who = "root"
	}
	pm := r.PackageManager
	if pm == "" {
		pm = "no package manager qemupack knows"
	}
	fmt.Fprintf(w, "host: %s (%s family, packages with %s), running as %s\n", r.Distro, r.Family, pm, who)
	if r.Layout != nil {
		fmt.Fprintf(w, "%s root: %s\n", r.Family, r.Layout.Root)
	}
	fmt.Fprintf(w, "cross prefix: %s\n", r.CrossPrefix)
	fmt.Fprintln(w, "tools:")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, t := range r.Tools {
		state := "ok"
		detail := t.Path
		if t.Raw != "" && t.Raw != t.Version {
			detail += "  (" + t.Raw + ")"
		}
		if !t.Found() {
			switch {
			case t.Key == ToolCrossPkgCf:
				state, detail = "optional", "not found; "+t.Purpose
			default:
				state = "MISSING"
				detail = t.Problem
				if cmd := InstallCommand(r.Family, []string{t.Package}); cmd != "" {
					detail += "; install: " + cmd
				}
				detail += " — " + t.Purpose
			}
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", state, t.Command, orDash(t.Version), detail)
	}
	tw.Flush()
	fmt.Fprintln(w, "python:")
	fmt.Fprintf(w, "  QEMU's configure would run: %s\n", describePython(r.ConfigurePython))
	if r.MesonPython != nil {
		fmt.Fprintf(w, "  the host's meson runs under: %s\n", describePython(*r.MesonPython))
	}
	fmt.Fprintf(w, "  the build uses: %s\n    because %s\n", orDash(r.BuildPython.Path), r.BuildPythonWhy)
	fmt.Fprintln(w, "mingw sysroots (searched in this order):")
	if len(r.Sysroots) == 0 {
		fmt.Fprintln(w, "  none")
	}
	for _, s := range r.Sysroots {
		origin := "the host's own"
		if s.Origin != "host" {
			origin = "from " + s.Origin
		}
		state := ""
		if !s.Exists {
			state = " — not present"
		}
		p := s.Path
		if s.Posix != "" {
			p += " (" + s.Posix + ")"
		}
		fmt.Fprintf(w, "  %s, %s%s\n", p, origin, state)
	}
	r.writeNeeds(w)
	for _, n := range r.Notes {
		fmt.Fprintf(w, "note: %s\n", n)
	}
}

// writeNeeds shows, job by job, what the smoke, the test suite and the
// fresh-root check need beyond the toolchain, and one command per job
// that installs what is missing.
func (r Report) writeNeeds(w io.Writer) {
	for _, j := range Jobs {
		var rows []NeedState
		for _, n := range r.Needs {
			if n.Job == j {
				rows = append(rows, n)
			}
		}
		if len(rows) == 0 {
			continue
		}
		fmt.Fprintf(w, "needed by %s:\n", j.Title())
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		for _, n := range rows {
			state, detail := "ok", n.Path
			if !n.Found() {
				state, detail = "MISSING", n.Why
				if n.Package == "" {
					detail += " (no package known on this host)"
				}
			}
			fmt.Fprintf(tw, "  %s\t%s\t%s\n", state, n.What, detail)
		}
		tw.Flush()
		if _, cmd := r.NeedsMissing(j); cmd != "" {
			if !r.Root && r.Family == Debian {
				cmd = "sudo " + cmd
			}
			fmt.Fprintf(w, "  install: %s\n", cmd)
		}
	}
}

func describePython(p Python) string {
	s := p.Command
	if p.Path != "" && p.Path != p.Command {
		s += " = " + p.Path
	}
	if p.Executable != "" && p.Executable != p.Path {
		s += " → " + p.Executable
	}
	if !p.OK() {
		return s + ": " + p.Problem
	}
	s += ", Python " + p.Version
	if p.Meson {
		s += ", imports mesonbuild"
	} else {
		s += ", cannot import mesonbuild"
	}
	if !p.VenvReady {
		s += ", lacks venv/ensurepip (QEMU 8.1+ configures through a venv)"
	}
	if !p.TOML {
		s += ", lacks tomllib/tomli"
	}
	return s
}

func orDash(s string) string {
	if strings.TrimSpace(s) == "" {
		return "-"
	}
	return s
}
