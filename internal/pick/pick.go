// Package pick decides which QEMU release qemupack builds: for every release
// in the catalog, whether this host's toolchain and libraries (or our
// recipes) can build it, and whether its source can be had (upstream when
// online, verified by a pinned sha256 or QEMU's OpenPGP signature; else a
// mirror folder or the host's source packages). The pick is
// the newest release that is both, within QEMU_VERSION, never a release
// candidate.
package pick

import (
	"fmt"
	"qemupack/internal/qversion"
	"sort"
	"strings"

	"github.com/hashicorp/go-version"

	"qemupack/internal/catalog"
	"qemupack/internal/config"
	"qemupack/internal/debian"
	"qemupack/internal/host"
)

// Sources of a release tarball.
const (
	SourceUpstream = "upstream" // download.qemu.org, verified by the catalog's sha256 and/or QEMU's OpenPGP signature
	SourceMirror   = "mirror"   // QEMUPACK_MIRROR/qemu-X.Y.Z.tar.xz
	SourceDebian   = "debian"   // a Debian source package from a suite of the archive (the private apt tree)
)

// RecipeCovered are the pkg-config modules our dependency recipes are meant
// to build. Until a recipe for one exists, auto/recipes mode takes it on
// trust (and says so).
var RecipeCovered = []string{"glib-2.0", "gthread-2.0", "pixman-1", "slirp", "zlib", "libfdt"}

// Dep says where one library of a release comes from.
type Dep struct {
	Module  string `json:"module"`
	Min     string `json:"min,omitempty"`
	From    string `json:"from"`              // "host" or "recipe"
	Version string `json:"version,omitempty"` // "" for a recipe not written yet
	PCFile  string `json:"pc_file,omitempty"` // host only
	Assumed bool   `json:"assumed,omitempty"` // recipe not written yet
}

// Verdict is the decision about one release.
type Verdict struct {
	Version    string   `json:"version"`
	Buildable  bool     `json:"buildable"`
	Obtainable bool     `json:"obtainable"`
	Reasons    []string `json:"reasons"`               // blockers first, then what the verdict takes on trust or works around
	Blockers   []string `json:"-"`                     // why it cannot be picked
	Notes      []string `json:"-"`                     // assumptions and workarounds
	Source     string   `json:"source,omitempty"`      // where its tarball would come from
	Candidate  bool     `json:"candidate,omitempty"`   // a release candidate: never picked
	Excluded   bool     `json:"excluded,omitempty"`    // outside QEMU_VERSION
	SourceFile string   `json:"source_file,omitempty"` // mirror file
	// Debian is the Debian source package it would come from.
	Debian *debian.QEMUSource `json:"debian,omitempty"`
	// VerifiedBy says what verifies the tarball from Source: "sha256",
	// "signature" (QEMU's OpenPGP signature by a pinned key) or both.
	VerifiedBy string `json:"verified_by,omitempty"`
	// Upstream is the upstream tarball's URL, signature and keys, when the
	// source is upstream.
	Upstream *catalog.Upstream `json:"upstream,omitempty"`
	// Inherits names the release whose requirements this one takes (its
	// own files were not read; the build re-reads its tree before configure).
	Inherits string `json:"inherits,omitempty"`
	Deps     []Dep  `json:"deps,omitempty"`

	release catalog.Release
}

// Eligible says whether the pick may choose this release at all.
func (v Verdict) Eligible() bool { return !v.Candidate && !v.Excluded }

// Inputs are everything Decide looks at. Run gathers them from the host.
type Inputs struct {
	Releases   []catalog.Release
	Host       host.Report
	Deps       config.DepsMode
	Constraint version.Constraints
	// Recipes maps each module our recipes build to its version; modules in
	// RecipeCovered without an entry are taken on trust.
	Recipes map[string]string
	Offline bool
	// OfflineWhy says how "offline" was decided (shown once, atop the table).
	OfflineWhy string
	Mirror     string                // QEMUPACK_MIRROR ("" = none)
	MirrorHits map[string]MirrorFile // release version → its file in the mirror
	// Debian lists every version of Debian's qemu source package the
	// archive's suites list, highest first; a version with a Problem (its
	// files are not served) is passed over with that reason.
	Debian    []debian.QEMUSource
	DebianWhy string // why Debian is empty, on a Debian host
}

// MirrorFile is a release tarball found in the mirror folder.
type MirrorFile struct {
	Path       string
	Problem    string // e.g. a sha256 mismatch; "" when usable
	VerifiedBy string // "sha256", "signature" or "sha256+signature" when usable
}

// Result is the pick.
type Result struct {
	// Picked is the release to build; Version() is "" when nothing fits.
	Picked catalog.Release `json:"-"`
	// Source is where its tarball comes from (SourceUpstream, SourceMirror,
	// SourceDebian); SourceFile the mirror file, URL/SHA256 the upstream
	// download; Debian the Debian source package (version, suite, files)
	// to fetch, whose patches must be applied.
	Source     string `json:"source,omitempty"`
	SourceFile string `json:"source_file,omitempty"`
	URL        string `json:"url,omitempty"`
	SHA256     string `json:"sha256,omitempty"`
	// Signature is the upstream tarball's detached OpenPGP signature and
	// SigningKeys the pinned keys that may have made it; VerifiedBy says
	// what verifies the tarball ("sha256", "signature", "sha256+signature").
	Signature     string              `json:"signature,omitempty"`
	SigningKeys   []string            `json:"signing_keys,omitempty"`
	VerifiedBy    string              `json:"verified_by,omitempty"`
	DebianVersion string              `json:"debian_version,omitempty"`
	Debian        *debian.QEMUSource  `json:"debian,omitempty"`
	DebianSources []debian.QEMUSource `json:"debian_sources,omitempty"` // every version the archive lists
	// Archive is the Debian archive pick read (nil when none): the same
	// tree fetches what pick chose.
	Archive DebianArchive `json:"-"`
	// TreeVersion is the version the source tree will call itself: the
	// picked release, or for Debian's source the stable release its
	// patches reach (7.2.22 for Debian 12's 7.2).
	TreeVersion string `json:"tree_version,omitempty"`
	// Deps says for each library of the picked release whether the host or
	// a recipe provides it; Recipes lists the modules to build from recipes.
	Deps    []Dep    `json:"deps,omitempty"`
	Recipes []string `json:"recipes,omitempty"`

	Offline    bool            `json:"offline"`
	OfflineWhy string          `json:"offline_why,omitempty"`
	Constraint string          `json:"constraint,omitempty"`
	DepsMode   config.DepsMode `json:"deps_mode"`
	Releases   []Verdict       `json:"releases"`
	Host       host.Report     `json:"-"`
	Reason     string          `json:"error,omitempty"` // why nothing was picked
}

// DebianTree is the private apt tree pick read, for the steps that fetch
// what pick chose (nil when pick read none, or a stand-in).
func (r Result) DebianTree() *debian.Tree {
	t, _ := r.Archive.(*debian.Tree)
	return t
}

// DebianChosen is the Debian source package version pick chose, nil when
// the source is not Debian's.
func (r Result) DebianChosen() *debian.SourcePkg {
	if r.Source != SourceDebian || r.Debian == nil {
		return nil
	}
	return &r.Debian.SourcePkg
}

// PickedVersion is the picked release's version, "" when none.
func (r Result) PickedVersion() string { return r.Picked.Version }

// NothingFits is returned when no release is both buildable and obtainable.
type NothingFits struct{ Reason string }

func (e *NothingFits) Error() string { return "pick: " + e.Reason }

// UpstreamURL is where QEMU publishes a release tarball.
func UpstreamURL(v string) string { return "https://download.qemu.org/qemu-" + v + ".tar.xz" }

// CheckConstraint fails when the constraint matches no release (release
// candidates do not count), listing what the catalog has.
func CheckConstraint(rs []catalog.Release, c version.Constraints) error {
	if c == nil {
		return nil
	}
	var all []string
	for _, r := range rs {
		if qversion.IsPrerelease(r.Version) || qversion.IsPrerelease(r.Version) {
			continue
		}
		all = append(all, r.Version)
		if v, err := version.NewVersion(r.Version); err == nil && c.Check(v) {
			return nil
		}
	}
	return fmt.Errorf("%s=%q matches no QEMU release in the catalog; it has: %s", config.EnvVersion, c.String(), listBySeries(all))
}

// listBySeries writes versions as "10.1 (10.1.0 10.1.1), 10.0 (10.0.0), ...".
func listBySeries(vs []string) string {
	type series struct {
		name string
		vs   []string
	}
	var out []series
	idx := map[string]int{}
	for _, v := range vs {
		parts := strings.SplitN(v, ".", 3)
		name := v
		if len(parts) >= 2 {
			name = parts[0] + "." + parts[1]
		}
		i, ok := idx[name]
		if !ok {
			i = len(out)
			idx[name] = i
			out = append(out, series{name: name})
		}
		out[i].vs = append(out[i].vs, v)
	}
	var b []string
	for _, s := range out {
		sort.Slice(s.vs, func(i, j int) bool { return qversion.Less(s.vs[i], s.vs[j]) })
		b = append(b, fmt.Sprintf("%s (%s)", s.name, strings.Join(s.vs, " ")))
	}
	if len(b) == 0 {
		return "no releases"
	}
	return strings.Join(b, ", ")
}

// Decide judges every release and picks one. It touches nothing outside
// its inputs. The error is a *NothingFits when no release fits, or the
// constraint error when QEMU_VERSION matches no release.
func Decide(in Inputs) (Result, error) {
	rs := append([]catalog.Release(nil), in.Releases...)
	catalog.SortNewestFirst(rs)
	res := Result{Offline: in.Offline, OfflineWhy: in.OfflineWhy, DepsMode: in.Deps, Host: in.Host, DebianSources: in.Debian}
	if in.Constraint != nil {
		res.Constraint = in.Constraint.String()
	}
	if err := CheckConstraint(rs, in.Constraint); err != nil {
		return res, err
	}
	if res.DepsMode == "" {
		res.DepsMode = config.DepsAuto
	}
	for _, r := range rs {
		res.Releases = append(res.Releases, judge(in, res.DepsMode, r))
	}
	for _, v := range res.Releases {
		if v.Eligible() && v.Buildable && v.Obtainable {
			res.Picked = v.release
			res.Source = v.Source
			res.TreeVersion = v.release.Version
			res.Deps = v.Deps
			for _, d := range v.Deps {
				if d.From == "recipe" {
					res.Recipes = append(res.Recipes, d.Module)
				}
			}
			res.VerifiedBy = v.VerifiedBy
			switch v.Source {
			case SourceMirror:
				res.SourceFile = v.SourceFile
				res.SHA256 = v.release.SHA256
			case SourceUpstream:
				res.URL, res.SHA256 = upstreamOf(v.release), v.release.SHA256
				if u := v.Upstream; u.Signed() {
					res.Signature, res.SigningKeys = u.Signature, u.Keys
				}
			case SourceDebian:
				d := v.Debian
				res.Debian, res.DebianVersion = d, d.Version
				if d.Level != "" {
					res.TreeVersion = d.Level
				}
			}
			return res, nil
		}
	}
	res.Reason = whyNothing(res.Releases, res.Constraint)
	return res, &NothingFits{Reason: res.Reason}
}

// HostMin gives, for each library the picked release needs, the lowest
// version of the host's copy that will do ("" = any version): the rule by
// which pick chose between the host's copy and a recipe. deps.Options takes
// it so the deps step makes the same choice. Nil when nothing was picked.
func (r Result) HostMin() map[string]string {
	if len(r.Deps) == 0 {
		return nil
	}
	out := make(map[string]string, len(r.Deps))
	for _, d := range r.Deps {
		out[d.Module] = d.Min
	}
	return out
}

// upstreamVerified is how r's upstream tarball is verified, or nil when
// nothing would verify it: the catalog's Upstream (LoadFrom fills it from
// the pinned keys), else its pinned sha256 alone.
func upstreamVerified(r catalog.Release) *catalog.Upstream {
	if r.Upstream != nil {
		return r.Upstream
	}
	if r.SHA256 == "" {
		return nil
	}
	return &catalog.Upstream{URL: upstreamOf(r), SHA256: r.SHA256, VerifiedBy: "sha256"}
}

func upstreamOf(r catalog.Release) string {
	if r.URL != "" {
		return r.URL
	}
	return UpstreamURL(r.Version)
}

func whyNothing(vs []Verdict, cons string) string {
	scope := "no QEMU release"
	if cons != "" {
		scope = fmt.Sprintf("no QEMU release within %s=%q", config.EnvVersion, cons)
	}
	var newestBuildable, newestObtainable, newest *Verdict
	for i := range vs {
		v := &vs[i]
		if !v.Eligible() {
			continue
		}
		if newest == nil {
			newest = v
		}
		if v.Buildable && newestBuildable == nil {
			newestBuildable = v
		}
		if v.Obtainable && newestObtainable == nil {
			newestObtainable = v
		}
	}
	msg := scope + " can be both built here and obtained"
	if newestBuildable != nil {
		msg += fmt.Sprintf("; newest buildable: %s, but %s", newestBuildable.Version, strings.Join(newestBuildable.Blockers, "; "))
	}
	if newestObtainable != nil {
		msg += fmt.Sprintf("; newest obtainable: %s, but not buildable: %s", newestObtainable.Version, strings.Join(newestObtainable.Blockers, "; "))
	}
	if newestBuildable == nil && newestObtainable == nil && newest != nil {
		msg += fmt.Sprintf("; none is buildable or obtainable, e.g. %s: %s", newest.Version, strings.Join(newest.Blockers, "; "))
	}
	return msg
}

func judge(in Inputs, mode config.DepsMode, r catalog.Release) Verdict {
	v := Verdict{Version: r.Version, release: r, Reasons: []string{}}
	if qversion.IsPrerelease(r.Version) || qversion.IsPrerelease(r.Version) {
		v.Candidate = true
		if of := qversion.CandidateOf(r.Version); of != "" {
			v.Reasons = append(v.Reasons, fmt.Sprintf("release candidate of %s (QEMU numbers candidates X.Y.9N): never picked", of))
		} else {
			v.Reasons = append(v.Reasons, "release candidate: never picked")
		}
	}
	if in.Constraint != nil {
		if ver, err := version.NewVersion(r.Version); err == nil && !in.Constraint.Check(ver) {
			v.Excluded = true
			v.Reasons = append(v.Reasons, fmt.Sprintf("outside %s=%q", config.EnvVersion, in.Constraint.String()))
		}
	}
	src, file, why, debNotes := obtainable(in, r)
	v.Obtainable = src != ""
	v.Source, v.SourceFile = src, file
	switch src {
	case SourceUpstream:
		v.Upstream = upstreamVerified(r)
		v.VerifiedBy = v.Upstream.VerifiedBy
	case SourceMirror:
		v.VerifiedBy = in.MirrorHits[r.Version].VerifiedBy
	case SourceDebian:
		v.Debian = debianFor(in, r.Version)
	}
	v.Inherits = r.Inherits
	var blockers, notes []string
	var deps []Dep
	if r.Unknown != "" {
		blockers = []string{"its requirements are unknown: " + r.Unknown}
	} else {
		blockers, notes, deps = buildable(in, mode, r, src)
	}
	notes = append(notes, debNotes...)
	if r.Inherits != "" {
		notes = append(notes, fmt.Sprintf("requirements taken from %s (its own files were not read; the tree is checked against them before configure)", r.Inherits))
	}
	v.Buildable = len(blockers) == 0
	v.Deps = deps
	v.Reasons = append(v.Reasons, blockers...)
	if why != "" {
		v.Reasons = append(v.Reasons, why)
	}
	v.Blockers = append([]string(nil), v.Reasons...)
	v.Notes = notes
	v.Reasons = append(v.Reasons, notes...)
	return v
}

func fix(t host.Tool, f host.Family) string {
	if cmd := host.InstallCommand(f, []string{t.Package}); cmd != "" {
		return " (" + cmd + ")"
	}
	return ""
}

// buildable lists what stops the release from being built here
// (blockers), what the verdict takes on trust or works around (notes), and
// where each library comes from.
func buildable(in Inputs, mode config.DepsMode, r catalog.Release, source string) (blockers, notes []string, deps []Dep) {
	h := in.Host
	f := h.Family
	for _, key := range []string{host.ToolGCC, host.ToolMake, host.ToolPkgConfig} {
		if t := h.Tool(key); !t.Found() {
			blockers = append(blockers, fmt.Sprintf("%s missing%s", t.Command, fix(t, f)))
		}
	}
	py := h.BuildPython
	pyTool := h.Tool(host.ToolPython)
	switch {
	case !py.OK():
		blockers = append(blockers, fmt.Sprintf("python missing%s", fix(pyTool, f)))
	case !qversion.AtLeast(py.Version, r.PythonMin):
		blockers = append(blockers, fmt.Sprintf("python %s < %s required", qversion.Series(py.Version), r.PythonMin))
	}
	if r.MesonMin != "" {
		m := h.Tool(host.ToolMeson)
		switch {
		case m.Found() && qversion.AtLeast(m.Version, r.MesonMin):
		case r.MesonBundled && m.Found():
			notes = append(notes, fmt.Sprintf("uses its bundled meson (host meson %s < %s)", m.Version, r.MesonMin))
		case r.MesonBundled:
			notes = append(notes, "uses its bundled meson (no host meson)")
		case m.Found():
			blockers = append(blockers, fmt.Sprintf("meson %s < %s required and the release bundles none", m.Version, r.MesonMin))
		default:
			blockers = append(blockers, fmt.Sprintf("meson missing, %s required and the release bundles none%s", r.MesonMin, fix(m, f)))
		}
	}
	if n := h.Tool(host.ToolNinja); (r.NinjaRequired || r.MesonMin != "") && !n.Found() {
		blockers = append(blockers, fmt.Sprintf("ninja missing%s", fix(n, f)))
	}

	type need struct{ module, min string }
	needs := []need{{"glib-2.0", r.GlibMin}}
	if r.GthreadChecked {
		needs = append(needs, need{"gthread-2.0", r.GlibMin})
	}
	needs = append(needs, need{"pixman-1", r.PixmanMin}, need{"zlib", ""})
	if r.Slirp == "system" {
		needs = append(needs, need{"slirp", ""})
	}
	// libfdt: from the sysroot when the release does not bundle dtc, and
	// also for Debian's source, whose repack drops the bundled copy.
	if r.Fdt == "system" || (r.Fdt == "bundled" && source == SourceDebian) {
		needs = append(needs, need{"libfdt", ""})
	}
	for _, n := range needs {
		d, blocker, note := library(in, mode, n.module, n.min)
		deps = append(deps, d)
		if blocker != "" {
			blockers = append(blockers, blocker)
		}
		if note != "" {
			notes = append(notes, note)
		}
	}
	return blockers, notes, deps
}

func covered(module string) bool {
	for _, m := range RecipeCovered {
		if m == module {
			return true
		}
	}
	return false
}

// library decides where one library comes from under the deps mode.
func library(in Inputs, mode config.DepsMode, module, min string) (d Dep, blocker, note string) {
	d = Dep{Module: module, Min: min}
	lib := in.Host.Library(module)
	req := ""
	if min != "" {
		req = " " + min
	}
	hostOK := lib.Found() && qversion.AtLeast(lib.Version, min)
	if mode == config.DepsHost || (mode == config.DepsAuto && hostOK) {
		if hostOK {
			d.From, d.Version, d.PCFile = "host", lib.Version, lib.PCFile
			return d, "", ""
		}
		d.From = "host"
		if lib.Found() {
			return d, fmt.Sprintf("%s %s < %s required (%s=host)", module, lib.Version, min, config.EnvDeps), ""
		}
		msg := fmt.Sprintf("%s missing from the mingw sysroots (%s=host)", module, config.EnvDeps)
		if lib.Package != "" {
			msg += " (" + host.InstallCommand(in.Host.Family, []string{lib.Package}) + ")"
		}
		return d, msg, ""
	}
	// recipes, or auto with the host's copy missing or too old.
	d.From = "recipe"
	why := ""
	if mode == config.DepsAuto {
		if lib.Found() {
			why = fmt.Sprintf(" (host %s %s < %s)", module, lib.Version, min)
		} else {
			why = " (host has none)"
		}
	}
	if v, ok := in.Recipes[module]; ok {
		d.Version = v
		if !qversion.AtLeast(v, min) {
			return d, fmt.Sprintf("%s: our recipe builds %s < %s required%s", module, v, min, why), ""
		}
		if mode == config.DepsAuto {
			return d, "", fmt.Sprintf("%s %s from our recipe%s", module, v, why)
		}
		return d, "", ""
	}
	if covered(module) {
		d.Assumed = true
		return d, "", fmt.Sprintf("%s%s from a recipe not written yet: assumed buildable%s", module, req, why)
	}
	return d, fmt.Sprintf("%s: no recipe builds it and the host has none", module), ""
}

// obtainable says where the release's tarball can come from, or why it
// cannot be had; notes name the Debian versions passed over for it.
func obtainable(in Inputs, r catalog.Release) (source, file, why string, notes []string) {
	var problems []string
	for _, d := range in.Debian {
		if d.Problem != "" && debianRelease(in, d) == r.Version {
			notes = append(notes, fmt.Sprintf("Debian's qemu %s passed over: %s", d.Where(), d.Problem))
		}
	}
	mf, inMirror := in.MirrorHits[r.Version]
	if inMirror {
		if mf.Problem == "" {
			return SourceMirror, mf.Path, "", notes
		}
		problems = append(problems, mf.Problem)
	}
	if !in.Offline {
		if upstreamVerified(r) != nil {
			return SourceUpstream, "", "", notes
		}
		problems = append(problems, "the catalog has no sha256 for its upstream tarball and no pinned OpenPGP key signs it, so a download could not be verified")
	}
	if debianFor(in, r.Version) != nil {
		return SourceDebian, "", "", notes
	}
	if in.Offline {
		where := "no mirror folder (" + config.EnvMirror + " unset)"
		switch {
		case inMirror:
			where = "no other copy"
		case in.Mirror != "":
			where = fmt.Sprintf("no qemu-%s.tar.xz in %s", r.Version, in.Mirror)
		}
		deb := ""
		var rels []string
		for _, d := range in.Debian {
			if d.Problem == "" && !contains(rels, debianRelease(in, d)) {
				rels = append(rels, debianRelease(in, d))
			}
		}
		switch {
		case len(rels) > 0:
			deb = fmt.Sprintf(", Debian's source packages give %s", strings.Join(rels, ", "))
		case in.DebianWhy != "":
			deb = ", " + in.DebianWhy
		}
		problems = append(problems, "offline: "+where+deb)
	}
	// The Debian versions passed over are the reason, not a side note.
	problems = append(problems, notes...)
	return "", "", "not obtainable: " + strings.Join(problems, "; "), nil
}

func contains(xs []string, s string) bool {
	for _, x := range xs {
		if x == s {
			return true
		}
	}
	return false
}

// debianRelease is the catalog release a Debian source package counts
// as: the release its patches bring it to, or the upstream release it
// repacks when the catalog does not list that one (or it is unknown).
func debianRelease(in Inputs, d debian.QEMUSource) string {
	if d.Level != "" {
		for _, r := range in.Releases {
			if r.Version == d.Level {
				return r.Version
			}
		}
	}
	return d.Upstream
}

// debianFor is the Debian source package that gives release v (the
// highest Debian version whose files are served), or nil.
func debianFor(in Inputs, v string) *debian.QEMUSource {
	for i := range in.Debian {
		if in.Debian[i].Problem == "" && debianRelease(in, in.Debian[i]) == v {
			return &in.Debian[i]
		}
	}
	return nil
}
