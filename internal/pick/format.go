package pick

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"qemupack/internal/config"
	"qemupack/internal/debian"
	"qemupack/internal/host"
)

// WriteTable writes every release with its verdicts, newest first, then
// where the picked release's source and libraries come from. The caller
// ends with "picked: qemu X.Y.Z" (or the error when nothing fits).
func (r Result) WriteTable(w io.Writer) {
	cons := "any"
	if r.Constraint != "" {
		cons = fmt.Sprintf("%q", r.Constraint)
	}
	net := "online"
	if r.Offline {
		net = "offline (" + r.OfflineWhy + ")"
	}
	fmt.Fprintf(w, "QEMU releases, newest first (%s=%s, %s=%s, %s)\n", config.EnvVersion, cons, config.EnvDeps, r.DepsMode, net)
	for _, d := range r.DebianSources {
		if d.Problem != "" {
			fmt.Fprintf(w, "Debian source package %s %s: passed over: %s\n", d.Package, d.Where(), d.Problem)
			continue
		}
		fmt.Fprintf(w, "%s\n", d.Describe())
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "VERSION\tBUILDABLE\tSOURCE\tWHY")
	for _, v := range r.Releases {
		b := "yes"
		if !v.Buildable {
			b = "no"
		}
		src := v.Source
		if v.Debian != nil {
			src += " " + v.Debian.Suite
		}
		if !v.Obtainable {
			src = "none"
		} else if v.VerifiedBy != "" {
			src += " (" + v.VerifiedBy + ")"
		}
		why := strings.Join(append(append([]string(nil), v.Blockers...), debianNotes(v.Notes)...), "; ")
		if assumed := assumedModules(v.Deps); len(assumed) > 0 && v.Buildable {
			if why != "" {
				why += "; "
			}
			why += "assumes recipes for " + strings.Join(assumed, ", ")
		}
		if v.Inherits != "" {
			if why != "" {
				why += "; "
			}
			why += "requirements inherited from " + v.Inherits
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", v.Version, b, src, orDash(why))
	}
	tw.Flush()
	if r.Picked.Version == "" {
		return
	}
	fmt.Fprintf(w, "source of %s: %s\n", r.Picked.Version, r.SourceText())
	if r.Picked.Inherits != "" {
		fmt.Fprintf(w, "requirements of %s: taken from %s (its own files were not read); its tree is checked against them before configure\n", r.Picked.Version, r.Picked.Inherits)
	}
	if r.TreeVersion != "" && r.TreeVersion != r.Picked.Version {
		fmt.Fprintf(w, "the source tree will be %s (the catalog has no entry for it; %s's requirements apply)\n", r.TreeVersion, r.Picked.Version)
	}
	fmt.Fprintf(w, "libraries of %s:\n", r.Picked.Version)
	for _, d := range r.Deps {
		fmt.Fprintf(w, "  %s\n", d.Text())
	}
}

// SourceText says where the picked release's tarball comes from.
func (r Result) SourceText() string {
	switch r.Source {
	case SourceMirror:
		if r.VerifiedBy != "" {
			return "mirror file " + r.SourceFile + " (verified by " + r.VerifiedBy + ")"
		}
		return "mirror file " + r.SourceFile
	case SourceUpstream:
		var how []string
		if r.SHA256 != "" {
			how = append(how, "sha256 "+r.SHA256)
		}
		if r.Signature != "" {
			how = append(how, "OpenPGP signature "+r.Signature+" by "+strings.Join(r.SigningKeys, " or "))
		}
		return r.URL + " (" + strings.Join(how, "; ") + ")"
	case SourceDebian:
		if r.Debian != nil {
			return r.Debian.Describe()
		}
		return "Debian's source package qemu " + r.DebianVersion
	}
	return "-"
}

// Text says where one library comes from.
func (d Dep) Text() string {
	need := "any version"
	if d.Min != "" {
		need = ">= " + d.Min
	}
	switch {
	case d.From == "host" && d.PCFile != "" && d.Version == "":
		return fmt.Sprintf("%-12s %s needed: host (%s)", d.Module, need, d.PCFile)
	case d.From == "host" && d.PCFile != "":
		return fmt.Sprintf("%-12s %s needed: host %s (%s)", d.Module, need, d.Version, d.PCFile)
	case d.From == "host":
		return fmt.Sprintf("%-12s %s needed: not usable from the host", d.Module, need)
	case d.Assumed:
		return fmt.Sprintf("%-12s %s needed: built from a recipe (not written yet: assumed)", d.Module, need)
	}
	return fmt.Sprintf("%-12s %s needed: built from our recipe (%s)", d.Module, need, d.Version)
}

// debianNotes are the notes that name a Debian version passed over: the
// table shows them beside the blockers.
func debianNotes(notes []string) []string {
	var out []string
	for _, n := range notes {
		if strings.HasPrefix(n, "Debian's qemu ") {
			out = append(out, n)
		}
	}
	return out
}

func assumedModules(ds []Dep) []string {
	var out []string
	for _, d := range ds {
		if d.Assumed {
			out = append(out, d.Module)
		}
	}
	return out
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// jsonResult is the documented JSON form of the pick.
type jsonResult struct {
	Picked        string             `json:"picked"`
	Source        string             `json:"source,omitempty"`
	SourceFile    string             `json:"source_file,omitempty"`
	URL           string             `json:"url,omitempty"`
	SHA256        string             `json:"sha256,omitempty"`
	Signature     string             `json:"signature,omitempty"`
	SigningKeys   []string           `json:"signing_keys,omitempty"`
	VerifiedBy    string             `json:"verified_by,omitempty"`
	Inherits      string             `json:"inherits,omitempty"`
	DebianVersion string             `json:"debian_version,omitempty"`
	Debian        *debian.QEMUSource `json:"debian,omitempty"`
	// DebianSources is every version of Debian's qemu source package the
	// archive lists, with why it was passed over where it was.
	DebianSources []debian.QEMUSource `json:"debian_sources,omitempty"`
	TreeVersion   string              `json:"tree_version,omitempty"`
	Deps          []Dep               `json:"deps,omitempty"`
	Recipes       []string            `json:"recipes,omitempty"`
	Offline       bool                `json:"offline"`
	OfflineWhy    string              `json:"offline_why,omitempty"`
	Constraint    string              `json:"constraint,omitempty"`
	DepsMode      string              `json:"deps_mode"`
	Error         string              `json:"error,omitempty"`
	Releases      []Verdict           `json:"releases"`
}

// JSON is the pick as {"picked": "X.Y.Z", "releases": [{"version",
// "buildable", "obtainable", "reasons": [...]}, ...], ...}; "picked" is ""
// and "error" says why when nothing fits. An upstream source carries
// "url", "sha256", "signature", "signing_keys" and "verified_by"; each
// release its "source", "verified_by", "upstream" and "inherits".
func (r Result) JSON() ([]byte, error) {
	j := jsonResult{
		Picked: r.Picked.Version, Source: r.Source, SourceFile: r.SourceFile, URL: r.URL, SHA256: r.SHA256,
		Signature: r.Signature, SigningKeys: r.SigningKeys, VerifiedBy: r.VerifiedBy, Inherits: r.Picked.Inherits,
		DebianVersion: r.DebianVersion, Debian: r.Debian, DebianSources: r.DebianSources, TreeVersion: r.TreeVersion, Deps: r.Deps, Recipes: r.Recipes,
		Offline: r.Offline, OfflineWhy: r.OfflineWhy, Constraint: r.Constraint, DepsMode: string(r.DepsMode),
		Error: r.Reason, Releases: r.Releases,
	}
	if j.Releases == nil {
		j.Releases = []Verdict{}
	}
	return json.MarshalIndent(j, "", "  ")
}

// WriteCheck writes the toolchain report: the host part, then every
// library against what the release it judges needs (the picked one, else
// the newest eligible), then one command that installs everything
// missing, then the pick in one line.
func WriteCheck(w io.Writer, rep host.Report, res Result, pickErr error) {
	rep.WriteText(w)
	target := res.judged()
	if target != nil {
		fmt.Fprintf(w, "libraries in the sysroots, against what qemu %s needs (%s=%s):\n", target.Version, config.EnvDeps, res.DepsMode)
	} else {
		fmt.Fprintln(w, "libraries in the sysroots:")
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, lib := range rep.Libraries {
		have := "none"
		where := ""
		if lib.Found() {
			have, where = lib.Version, lib.PCFile
			if have == "" {
				have = "present"
			}
		}
		verdict := ""
		if target != nil {
			verdict = "not needed"
			for _, d := range target.Deps {
				if d.Module == lib.Module {
					verdict = strings.TrimSpace(strings.TrimPrefix(d.Text(), d.Module))
				}
			}
		}
		if !lib.Found() && lib.Package != "" {
			verdict += "; install: " + host.InstallCommand(rep.Family, []string{lib.Package})
		}
		if where != "" && !strings.Contains(verdict, where) {
			verdict += " (" + where + ")"
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\n", lib.Module, have, orDash(verdict))
	}
	tw.Flush()
	if target != nil {
		for _, v := range res.Releases {
			if v.Version == target.Version {
				break
			}
			if v.Eligible() && len(v.Blockers) > 0 {
				fmt.Fprintf(w, "passed over: %s: %s\n", v.Version, strings.Join(v.Blockers, "; "))
			}
		}
	}
	if target != nil && (!target.Buildable || !target.Obtainable) {
		fmt.Fprintf(w, "qemu %s is passed over: %s\n", target.Version, strings.Join(target.Blockers, "; "))
	}
	if cmd := rep.InstallCommand(); cmd != "" {
		if !rep.Root && rep.Family == host.Debian {
			cmd = "sudo " + cmd
		}
		fmt.Fprintf(w, "missing: %d item(s); to install them all at once:\n  %s\n", len(rep.Missing), cmd)
	} else if len(rep.Missing) > 0 {
		fmt.Fprintf(w, "missing: %d item(s), no package known on this host\n", len(rep.Missing))
	} else {
		fmt.Fprintln(w, "missing: nothing")
	}
	switch {
	case pickErr != nil:
		fmt.Fprintf(w, "%v\n", pickErr)
	case res.Picked.Version != "":
		fmt.Fprintf(w, "pick: qemu %s, source: %s\n", res.Picked.Version, res.SourceText())
	}
}

// judged is the release the check measures the libraries against: the
// pick, else the newest eligible release.
func (r Result) judged() *Verdict {
	for i := range r.Releases {
		if r.Releases[i].Version == r.Picked.Version && r.Picked.Version != "" {
			return &r.Releases[i]
		}
	}
	for i := range r.Releases {
		if r.Releases[i].Eligible() {
			return &r.Releases[i]
		}
	}
	return nil
}

// CheckJSON is the check target's JSON form: {"host": {...}, "pick": {...}}.
func CheckJSON(rep host.Report, res Result) ([]byte, error) {
	p, err := res.JSON()
	if err != nil {
		return nil, err
	}
	return json.MarshalIndent(struct {
		Host host.Report     `json:"host"`
		Pick json.RawMessage `json:"pick"`
	}{rep, p}, "", "  ")
}
