package config

import (
	"fmt"
	"os"
	"regexp"
	"sort"
	"strings"

	"github.com/hashicorp/go-version"

	"qemupack/internal/profile"
)

// Target groups: which targets read a setting. A target's doc line names
// exactly the settings of its groups (a test checks it).
const (
	GroupBuild   = "build"   // everything that picks and builds: check, pick, deps, build, archive, bundle, smoke, release, installer, matrix
	GroupDist    = "dist"    // targets that write dist/
	GroupSign    = "sign"    // release, installer
	GroupCatalog = "catalog" // catalog:refresh
	GroupTest    = "test"    // test
	GroupMatrix  = "matrix"  // matrix
	GroupRepro   = "repro"   // reprocheck
	GroupFormat  = "format"  // targets that can print JSON
	GroupSums    = "sums"    // releaseSums
	GroupSmoke   = "smoke"   // smokeFile (an archive given by path)
	GroupSetup   = "setup"   // targets that install what the host lacks: bundle, build, deps, archive, smoke, release, installer, test, freshroot
	GroupBundle  = "bundle"  // bundle alone
	GroupFresh   = "freshroot"
	GroupBench   = "bench" // bench
	// The vm targets each read their own few settings: their groups are
	// the target names.
	GroupVMUp     = "vm:up"
	GroupVMSsh    = "vm:ssh"
	GroupVMDown   = "vm:down"
	GroupVMStatus = "vm:status"
	GroupVMImage  = "vm:image"
	GroupVME2e    = "vm:e2e"
)

var vmAll = []string{GroupVMUp, GroupVMSsh, GroupVMDown, GroupVMStatus, GroupVMImage, GroupVME2e}

// Setting is one environment variable qemupack reads.
type Setting struct {
	Name    string
	Default string // as the README shows it ("" = none)
	Meaning string
	Groups  []string
	parse   func(p *parser, c *Config)
}

// Settings lists every environment variable qemupack reads, in the order
// the README's table shows them.
var Settings = []Setting{
	{Name: EnvVersion, Meaning: "a version constraint: `'>= 6.0, < 7'`, `'~> 7.2'`, `6.0.1`", Default: "the newest buildable",
		Groups: []string{GroupBuild}, parse: func(p *parser, c *Config) {
			c.QEMUVersion = p.get(EnvVersion)
			if c.QEMUVersion == "" {
				return
			}
			cons, err := version.NewConstraint(c.QEMUVersion)
			if err != nil {
				p.bad("%s=%q is not a version constraint (examples: '>= 6.0, < 7', '~> 7.2', '6.0.1'): %v", EnvVersion, c.QEMUVersion, err)
				return
			}
			c.Constraint = cons
		}},
	{Name: EnvProfile, Meaning: "what the archive offers: " + profile.Describe(), Default: "`" + profile.Default + "`",
		Groups: []string{GroupBuild}, parse: func(p *parser, c *Config) {
			c.Profile = p.oneOf(EnvProfile, profile.Default, profile.Names(), "the profile")
		}},
	{Name: EnvTargets, Meaning: "QEMU's target list, comma-separated, or `all` (every system emulator the release offers: 29 for 10.x, 31 for 7.2; firmware per target from `internal/bundle/firmware_table.go`, see \"Targets and firmware\")", Default: "the profile's: " + profile.DescribeTargets(),
		Groups: []string{GroupBuild}, parse: func(p *parser, c *Config) {
			c.Targets = splitList(p.get(EnvTargets), ",")
			if len(c.Targets) == 0 {
				if pr, err := profile.Lookup(c.Profile); err == nil {
					c.Targets = append([]string(nil), pr.Targets...)
				}
			}
			for _, t := range c.Targets {
				if t == "all" && len(c.Targets) > 1 {
					p.bad("%s=%q: `all` stands alone", EnvTargets, p.get(EnvTargets))
				}
				if strings.ContainsAny(t, " /\\") {
					p.bad("%s: %q is not a QEMU target name (e.g. x86_64-softmmu)", EnvTargets, t)
				}
			}
		}},
	{Name: EnvDeps, Meaning: "where libraries come from: `auto` (host where new enough, recipes for the rest), `host`, `recipes`", Default: "`auto`",
		Groups: []string{GroupBuild}, parse: func(p *parser, c *Config) {
			c.Deps = DepsMode(p.oneOf(EnvDeps, string(DepsAuto), []string{"auto", "host", "recipes"}, "host libraries where new enough, recipes for the rest; host; or recipes"))
		}},
	{Name: EnvOffline, Meaning: "`1`: no downloads; sources come from the mirror folder or Debian's archive", Default: "probed",
		Groups: []string{GroupBuild, GroupTest, GroupCatalog, GroupSmoke}, parse: func(p *parser, c *Config) {
			c.Offline = p.flag(EnvOffline, "work offline")
		}},
	{Name: EnvMirror, Meaning: "a folder of source tarballs (`qemu-X.Y.Z.tar.xz`, the recipes' files)", Default: "none",
		Groups: []string{GroupBuild, GroupTest}, parse: func(p *parser, c *Config) {
			c.Mirror = p.path(EnvMirror, p.get(EnvMirror), true)
		}},
	{Name: EnvSuites, Meaning: "Debian/Ubuntu suites read beyond the host's own, e.g. `trixie sid`; `none` for the host's only", Default: "newer stable releases, testing, unstable",
		Groups: []string{GroupBuild, GroupTest}, parse: func(p *parser, c *Config) {
			c.Suites = p.suites(EnvSuites)
		}},
	{Name: EnvSysroot, Meaning: "extra mingw sysroots, a path list", Default: "the host's own",
		Groups: []string{GroupBuild, GroupTest}, parse: func(p *parser, c *Config) {
			for _, d := range splitList(p.get(EnvSysroot), string(os.PathListSeparator)) {
				c.Sysroots = append(c.Sysroots, p.path(EnvSysroot, d, true))
			}
		}},
	{Name: EnvCache, Meaning: "the cache folder", Default: "`.cache/`",
		Groups: append([]string{GroupBuild, GroupTest, GroupCatalog, GroupRepro, GroupSmoke, GroupFresh}, vmAll...), parse: func(p *parser, c *Config) {
			c.CacheDir = p.path(EnvCache, p.or(EnvCache, ".cache"), false)
		}},
	{Name: EnvDist, Meaning: "the output folder", Default: "`dist/`",
		Groups: []string{GroupDist, GroupSums}, parse: func(p *parser, c *Config) {
			c.DistDir = p.path(EnvDist, p.or(EnvDist, "dist"), false)
			if c.DistDir != "" && c.DistDir == c.CacheDir {
				p.bad("%s and %s name the same folder %s: give them different folders", EnvDist, EnvCache, c.DistDir)
			}
		}},
	{Name: EnvCacheKeep, Meaning: "how many results of each step (per library, per QEMU version) the cache keeps", Default: "2",
		Groups: []string{GroupBuild}, parse: func(p *parser, c *Config) {
			c.CacheKeep = p.count(EnvCacheKeep, 1, 1000, 2)
		}},
	{Name: EnvCrossPrefix, Meaning: "the cross tools' prefix", Default: "`x86_64-w64-mingw32-`",
		Groups: []string{GroupBuild, GroupTest}, parse: func(p *parser, c *Config) {
			c.CrossPrefix = p.or(EnvCrossPrefix, "x86_64-w64-mingw32-")
		}},
	{Name: EnvPython, Meaning: "the python for QEMU's build", Default: "the one meson runs with",
		Groups: []string{GroupBuild, GroupTest}, parse: func(p *parser, c *Config) {
			c.Python = p.or(EnvPython, "python3")
		}},
	{Name: EnvJobs, Meaning: "parallel compile jobs", Default: "the number of cores",
		Groups: []string{GroupBuild, GroupRepro}, parse: func(p *parser, c *Config) {
			c.Jobs = p.count(EnvJobs, 1, 4096, defaultJobs())
		}},
	{Name: EnvEpoch, Meaning: "the time stamped on archive entries (seconds since 1970)", Default: "fixed",
		Groups: []string{GroupDist, GroupRepro}, parse: func(p *parser, c *Config) {
			c.SourceDateEpoch = -1
			if v := p.get(EnvEpoch); v != "" {
				n, err := parseEpoch(v)
				if err != nil {
					p.bad("%s=%q is not a count of seconds since 1970", EnvEpoch, v)
					return
				}
				c.SourceDateEpoch = n
			}
		}},
	{Name: EnvFormat, Meaning: "`json`: `check`, `catalog` and `pick` print JSON", Default: "`text`",
		Groups: []string{GroupFormat}, parse: func(p *parser, c *Config) {
			c.JSON = p.oneOf(EnvFormat, "text", []string{"text", "json"}, "plain text or JSON") == "json"
		}},
	{Name: "QEMUPACK_CATALOG_SRC", Meaning: "QEMU release trees or tarballs `catalog:refresh` parses", Default: "download.qemu.org",
		Groups: []string{GroupCatalog}, parse: func(p *parser, c *Config) {
			c.CatalogSrc = p.path("QEMUPACK_CATALOG_SRC", p.get("QEMUPACK_CATALOG_SRC"), true)
		}},
	{Name: EnvTestMirror, Meaning: "a folder of the source tarballs the tests build", Default: "`.cache/test-mirror`",
		Groups: []string{GroupTest}, parse: func(p *parser, c *Config) {
			c.TestMirror = p.path(EnvTestMirror, p.get(EnvTestMirror), false)
		}},
	{Name: EnvSetup, Meaning: "`no`: install nothing, stop with the install command instead", Default: "`auto` (as root on Debian/Ubuntu, install what is missing)",
		Groups: []string{GroupSetup}, parse: func(p *parser, c *Config) {
			c.NoSetup = p.oneOf(EnvSetup, "auto", []string{"auto", "no"}, "auto installs what is missing as root on Debian/Ubuntu; no installs nothing") == "no"
		}},
	{Name: EnvSmoke, Meaning: "`skip`: `bundle` leaves out the smoke test (the archive is then untested)", Default: "`run`",
		Groups: []string{GroupBundle}, parse: func(p *parser, c *Config) {
			c.SkipSmoke = p.oneOf(EnvSmoke, "run", []string{"run", "skip"}, "run the smoke test, or skip it") == "skip"
		}},
	{Name: "QEMUPACK_FRESH_COMMAND", Meaning: "what `freshroot` runs in a fresh Debian 12 root: `test`, `bundle`, or `both` (each in its own root)", Default: "`both`",
		Groups: []string{GroupFresh}, parse: func(p *parser, c *Config) {
			switch v := p.oneOf("QEMUPACK_FRESH_COMMAND", "both", []string{"test", "bundle", "both"}, "the README command to prove"); v {
			case "both":
				c.Fresh.Commands = []string{"test", "bundle"}
			default:
				c.Fresh.Commands = []string{v}
			}
		}},
	{Name: "QEMUPACK_FRESH_KEEP", Meaning: "`1`: `freshroot` leaves each root in the cache for a look inside", Default: "`0`",
		Groups: []string{GroupFresh}, parse: func(p *parser, c *Config) {
			c.Fresh.Keep = p.flag("QEMUPACK_FRESH_KEEP", "keep the roots")
		}},
	{Name: EnvBench, Meaning: "what `bench` measures, comma-separated: `closure` (our PE reader against an `objdump -p` walk), `noop` (a no-op `bundle` against `mage -l`), `size` (the archive stripped against unstripped), `cold` (the main job in an empty cache against a generated shell script; about an hour on 2 cores)", Default: "`closure,noop,size`",
		Groups: []string{GroupBench}, parse: func(p *parser, c *Config) {
			c.Bench = nil
			for _, part := range splitList(p.or(EnvBench, "closure,noop,size"), ",") {
				switch part {
				case "closure", "noop", "size", "cold":
					c.Bench = append(c.Bench, part)
				default:
					p.bad("%s: %q is not a part of the benchmark (closure, noop, size, cold)", EnvBench, part)
				}
			}
		}},
	{Name: "QEMUPACK_TAG", Meaning: "a tag naming a QEMU release (`v9.2.4`, `qemu-9.2.4`): the matrix builds just it", Default: "none",
		Groups: []string{GroupMatrix}, parse: func(p *parser, c *Config) {
			c.Tag = p.get("QEMUPACK_TAG")
		}},
	{Name: "QEMUPACK_MATRIX_SERIES", Meaning: "how many of the newest QEMU series the matrix builds", Default: "2",
		Groups: []string{GroupMatrix}, parse: func(p *parser, c *Config) {
			c.MatrixSeries = p.count("QEMUPACK_MATRIX_SERIES", 1, 100, 2)
		}},
	{Name: "QEMUPACK_REPRO_TARGET", Meaning: "the target `reprocheck` runs in both copies", Default: "`bundle`",
		Groups: []string{GroupRepro}, parse: func(p *parser, c *Config) {
			c.Repro.Target = p.oneOf("QEMUPACK_REPRO_TARGET", "bundle", []string{"bundle", "release", "archive", "build"}, "the target to build in both copies")
		}},
	{Name: "QEMUPACK_REPRO_SECOND", Meaning: "a folder for `reprocheck`'s second copy (e.g. `/var/tmp`)", Default: "the cache",
		Groups: []string{GroupRepro}, parse: func(p *parser, c *Config) {
			c.Repro.Second = p.path("QEMUPACK_REPRO_SECOND", p.get("QEMUPACK_REPRO_SECOND"), false)
		}},
	{Name: "QEMUPACK_REPRO_SHARE_DEPS", Meaning: "`1`: `reprocheck` builds the libraries once for both copies", Default: "`0`",
		Groups: []string{GroupRepro}, parse: func(p *parser, c *Config) {
			c.Repro.ShareDeps = p.flag("QEMUPACK_REPRO_SHARE_DEPS", "share the library builds")
		}},
	{Name: "QEMUPACK_SIGN_PFX", Meaning: "a PKCS#12 code-signing certificate", Default: "unsigned",
		Groups: []string{GroupSign}, parse: func(p *parser, c *Config) { c.Sign.PFX = p.get("QEMUPACK_SIGN_PFX") }},
	{Name: "QEMUPACK_SIGN_CERT", Meaning: "a PEM certificate (chain), with `QEMUPACK_SIGN_KEY`", Default: "unsigned",
		Groups: []string{GroupSign}, parse: func(p *parser, c *Config) { c.Sign.Cert = p.get("QEMUPACK_SIGN_CERT") }},
	{Name: "QEMUPACK_SIGN_KEY", Meaning: "the PEM private key of `QEMUPACK_SIGN_CERT`", Default: "none",
		Groups: []string{GroupSign}, parse: func(p *parser, c *Config) { c.Sign.Key = p.get("QEMUPACK_SIGN_KEY") }},
	{Name: "QEMUPACK_SIGN_PASSWORD", Meaning: "the password of the PFX or the key", Default: "none",
		Groups: []string{GroupSign}, parse: func(p *parser, c *Config) { c.Sign.Password = p.getenv("QEMUPACK_SIGN_PASSWORD") }},
	{Name: "QEMUPACK_SIGN_TIMESTAMP_URL", Meaning: "an RFC 3161 time-stamping server", Default: "none",
		Groups: []string{GroupSign}, parse: func(p *parser, c *Config) { c.Sign.TimestampURL = p.get("QEMUPACK_SIGN_TIMESTAMP_URL") }},
	{Name: "QEMUPACK_VM_NAME", Meaning: "which VM the `vm:*` targets mean", Default: "`default`",
		Groups: []string{GroupVMUp, GroupVMSsh, GroupVMDown, GroupVMStatus}, parse: func(p *parser, c *Config) { c.VM.Name = p.or("QEMUPACK_VM_NAME", "default") }},
	{Name: "QEMUPACK_VM_IMAGE", Meaning: "the cloud image `vm:up` boots (qcow2 or raw; never written)", Default: "none",
		Groups: []string{GroupVMUp}, parse: func(p *parser, c *Config) { c.VM.Image = p.get("QEMUPACK_VM_IMAGE") }},
	{Name: "QEMUPACK_VM_KERNEL", Meaning: "a kernel for direct boot", Default: "none",
		Groups: []string{GroupVMUp}, parse: func(p *parser, c *Config) { c.VM.Kernel = p.get("QEMUPACK_VM_KERNEL") }},
	{Name: "QEMUPACK_VM_INITRD", Meaning: "its initrd", Default: "none",
		Groups: []string{GroupVMUp}, parse: func(p *parser, c *Config) { c.VM.Initrd = p.get("QEMUPACK_VM_INITRD") }},
	{Name: "QEMUPACK_VM_APPEND", Meaning: "its command line", Default: "none",
		Groups: []string{GroupVMUp}, parse: func(p *parser, c *Config) { c.VM.Append = p.get("QEMUPACK_VM_APPEND") }},
	{Name: "QEMUPACK_VM_QEMU", Meaning: "the QEMU to run (ours under wine works)", Default: "`qemu-system-x86_64`",
		Groups: []string{GroupVMUp, GroupVME2e}, parse: func(p *parser, c *Config) { c.VM.QEMU = p.get("QEMUPACK_VM_QEMU") }},
	{Name: "QEMUPACK_VM_QEMU_IMG", Meaning: "the qemu-img to make the overlay with", Default: "on PATH, else beside the QEMU",
		Groups: []string{GroupVMUp}, parse: func(p *parser, c *Config) { c.VM.QEMUImg = p.get("QEMUPACK_VM_QEMU_IMG") }},
	{Name: "QEMUPACK_VM_ACCEL", Meaning: "`auto`, `kvm`, `tcg`, `whpx` or `hvf`", Default: "`auto`",
		Groups: []string{GroupVMUp, GroupVME2e}, parse: func(p *parser, c *Config) {
			c.VM.Accel = p.oneOf("QEMUPACK_VM_ACCEL", "", []string{"auto", "kvm", "tcg", "whpx", "hvf"}, "the accelerator")
		}},
	{Name: "QEMUPACK_VM_CPUS", Meaning: "guest CPUs", Default: "1",
		Groups: []string{GroupVMUp}, parse: func(p *parser, c *Config) { c.VM.CPUs = p.count("QEMUPACK_VM_CPUS", 1, 64, 0) }},
	{Name: "QEMUPACK_VM_MEM", Meaning: "guest memory in MiB", Default: "1024",
		Groups: []string{GroupVMUp}, parse: func(p *parser, c *Config) { c.VM.MemMiB = p.count("QEMUPACK_VM_MEM", 256, 1<<20, 0) }},
	{Name: "QEMUPACK_VM_SEED", Meaning: "`http` (seed server, SMBIOS) or `iso` (cidata CD-ROM)", Default: "`http`",
		Groups: []string{GroupVMUp}, parse: func(p *parser, c *Config) {
			c.VM.Seed = p.oneOf("QEMUPACK_VM_SEED", "", []string{"http", "iso"}, "how the guest gets its seed")
		}},
	{Name: "QEMUPACK_VM_RESTRICT", Meaning: "`1`: no guest traffic leaves the machine", Default: "`0`",
		Groups: []string{GroupVMUp}, parse: func(p *parser, c *Config) {
			c.VM.Restrict = p.flag("QEMUPACK_VM_RESTRICT", "the guest reaches only the seed server and is reached only by ssh")
		}},
	{Name: EnvVMPubKey, Meaning: "the SSH public key to inject", Default: "`~/.ssh/*.pub`",
		Groups: []string{GroupVMUp}, parse: func(p *parser, c *Config) { c.VM.PubKey = p.get(EnvVMPubKey) }},
	{Name: "QEMUPACK_VM_MAKESTEP", Meaning: "chrony's makestep in the guest, or `off`", Default: "`1 -1`",
		Groups: []string{GroupVMUp}, parse: func(p *parser, c *Config) { c.VM.Makestep = p.get("QEMUPACK_VM_MAKESTEP") }},
	{Name: "QEMUPACK_VM_TIMEOUT", Meaning: "how long `vm:up` waits for the guest's host keys", Default: "15m",
		Groups: []string{GroupVMUp}, parse: func(p *parser, c *Config) { c.VM.Timeout = p.duration("QEMUPACK_VM_TIMEOUT") }},
	{Name: "QEMUPACK_VM_CMD", Meaning: "the command `vm:ssh` runs", Default: "a shell",
		Groups: []string{GroupVMSsh}, parse: func(p *parser, c *Config) { c.VM.Cmd = p.get("QEMUPACK_VM_CMD") }},
	{Name: "QEMUPACK_VM_DOWN_TIMEOUT", Meaning: "how long `vm:down` waits for the power-off before it kills QEMU", Default: "60s",
		Groups: []string{GroupVMDown}, parse: func(p *parser, c *Config) {
			c.VM.DownTimeout = p.duration("QEMUPACK_VM_DOWN_TIMEOUT")
		}},
}

// Names returns the settings of the given groups, sorted by name.
func Names(groups ...string) []string {
	want := map[string]bool{}
	for _, g := range groups {
		want[g] = true
	}
	var out []string
	for _, s := range Settings {
		for _, g := range s.Groups {
			if want[g] {
				out = append(out, s.Name)
				break
			}
		}
	}
	sort.Strings(out)
	return out
}

// Lookup returns the setting called name.
func Lookup(name string) (Setting, bool) {
	for _, s := range Settings {
		if s.Name == name {
			return s, true
		}
	}
	return Setting{}, false
}

// MarkdownTable is the README's settings table.
func MarkdownTable() string {
	var b strings.Builder
	b.WriteString("| variable | meaning | default |\n| --- | --- | --- |\n")
	for _, s := range Settings {
		def := s.Default
		if def == "" {
			def = "none"
		}
		fmt.Fprintf(&b, "| `%s` | %s | %s |\n", s.Name, s.Meaning, def)
	}
	return b.String()
}

func parseEpoch(v string) (int64, error) {
	var n int64
	_, err := fmt.Sscan(v, &n)
	if err != nil || n < 0 || fmt.Sprint(n) != v {
		return 0, fmt.Errorf("not seconds")
	}
	return n, nil
}

// suites reads a list of Debian/Ubuntu suite names: "" = the default
// (nil), "none" = none (an empty list), else names separated by spaces or
// commas.
func (p *parser) suites(name string) []string {
	v := p.get(name)
	switch v {
	case "":
		return nil
	case "none":
		return []string{}
	}
	out := []string{}
	for _, s := range strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' }) {
		if !suiteName.MatchString(s) {
			p.bad("%s=%q: %q is not a suite name (examples: trixie, sid, noble-updates; \"none\" for only the host's suites)", name, v, s)
			return nil
		}
		out = append(out, s)
	}
	return out
}

var suiteName = regexp.MustCompile(`^[a-z0-9][a-z0-9.+-]*$`)
