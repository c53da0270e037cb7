// Package config reads every setting qemupack has from the environment,
// checks them, and gives them defaults. It is the one place that knows the
// names of the environment variables a user can set: Settings lists them
// all (the README's settings table and the targets' "Reads" lines are
// checked against it), and FromEnv reports every bad value at once.
package config

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/go-version"
)

// DepsMode says where the mingw libraries QEMU needs may come from.
type DepsMode string

const (
	// DepsAuto uses a host library where it is new enough and a recipe for the rest.
	DepsAuto DepsMode = "auto"
	// DepsHost uses only what the host sysroots have.
	DepsHost DepsMode = "host"
	// DepsRecipes builds every library from our recipes.
	DepsRecipes DepsMode = "recipes"
)

// Config holds every setting. Build it with FromEnv or FromOS.
type Config struct {
	Root        string   // the checkout: recipes/, patches/ live here
	CacheDir    string   // QEMUPACK_CACHE, default <root>/.cache (always absolute)
	DistDir     string   // QEMUPACK_DIST, default <root>/dist (always absolute)
	CacheKeep   int      // QEMUPACK_CACHE_KEEP: entries kept per step and name
	CrossPrefix string   // CROSS_PREFIX, default x86_64-w64-mingw32-
	Python      string   // PYTHON, default python3
	Jobs        int      // JOBS, default the number of cores
	Offline     bool     // QEMUPACK_OFFLINE=1
	Mirror      string   // QEMUPACK_MIRROR: a folder of source tarballs (absolute)
	Deps        DepsMode // QEMUPACK_DEPS: auto, host or recipes
	Sysroots    []string // QEMUPACK_SYSROOT: extra mingw sysroots, a path list (absolute)
	Targets     []string // QEMU_TARGETS, default the profile's; "all" is kept as given (xbuild.CheckTargets resolves it)
	// Profile is QEMUPACK_PROFILE: what the archive offers (internal/profile).
	Profile string
	JSON    bool // QEMUPACK_FORMAT=json
	// Suites is QEMUPACK_SUITES: the Debian/Ubuntu suites the private apt
	// tree reads beyond the host's own. nil (unset or "") means the
	// default (newer stable releases, testing, unstable); an empty
	// non-nil list ("none") means only the host's own suites.
	Suites []string

	// QEMUVersion is QEMU_VERSION as given ("" when unset); Constraint is it parsed.
	QEMUVersion string
	Constraint  version.Constraints

	// SourceDateEpoch is SOURCE_DATE_EPOCH (seconds), or -1 when unset.
	SourceDateEpoch int64

	CatalogSrc string // QEMUPACK_CATALOG_SRC: release trees or tarballs for catalog:refresh
	TestMirror string // QEMUPACK_TEST_MIRROR: the tests' source tarballs
	// Bench are the parts `bench` measures (QEMUPACK_BENCH): closure,
	// noop, size, cold.
	Bench []string

	Tag          string // QEMUPACK_TAG: a CI tag naming a release (v9.2.4)
	MatrixSeries int    // QEMUPACK_MATRIX_SERIES, default 2

	// NoSetup is QEMUPACK_SETUP=no: install nothing, stop with the
	// command instead (the default installs as root on Debian/Ubuntu).
	NoSetup bool
	// SkipSmoke is QEMUPACK_SMOKE=skip: bundle without the smoke test.
	SkipSmoke bool

	Fresh Fresh

	Repro Repro
	Sign  Sign
	VM    VM
}

// Repro are reprocheck's settings.
type Repro struct {
	Target    string // QEMUPACK_REPRO_TARGET, default bundle
	Second    string // QEMUPACK_REPRO_SECOND: folder for the second copy (absolute)
	ShareDeps bool   // QEMUPACK_REPRO_SHARE_DEPS=1
}

// Fresh are the fresh-root check's settings.
type Fresh struct {
	Commands []string // QEMUPACK_FRESH_COMMAND: test, bundle, or both (the default)
	Keep     bool     // QEMUPACK_FRESH_KEEP=1: leave each root in place afterwards
}

// Sign are the code-signing settings (all empty: unsigned).
type Sign struct {
	Cert, Key, PFX, Password, TimestampURL string
}

// VM are the guest runner's settings.
type VM struct {
	Name        string        // QEMUPACK_VM_NAME, default "default"
	Image       string        // QEMUPACK_VM_IMAGE
	Kernel      string        // QEMUPACK_VM_KERNEL
	Initrd      string        // QEMUPACK_VM_INITRD
	Append      string        // QEMUPACK_VM_APPEND
	QEMU        string        // QEMUPACK_VM_QEMU
	QEMUImg     string        // QEMUPACK_VM_QEMU_IMG
	Accel       string        // QEMUPACK_VM_ACCEL: auto, kvm, tcg, whpx, hvf
	CPUs        int           // QEMUPACK_VM_CPUS (0: the runner's default)
	MemMiB      int           // QEMUPACK_VM_MEM (0: the runner's default)
	Seed        string        // QEMUPACK_VM_SEED: http or iso
	Restrict    bool          // QEMUPACK_VM_RESTRICT=1
	PubKey      string        // QEMUPACK_VM_PUBKEY
	Makestep    string        // QEMUPACK_VM_MAKESTEP
	Timeout     time.Duration // QEMUPACK_VM_TIMEOUT (0: the runner's default)
	Cmd         string        // QEMUPACK_VM_CMD
	DownTimeout time.Duration // QEMUPACK_VM_DOWN_TIMEOUT, default 60s
}

// Env names, for messages.
const (
	EnvCache       = "QEMUPACK_CACHE"
	EnvDist        = "QEMUPACK_DIST"
	EnvCacheKeep   = "QEMUPACK_CACHE_KEEP"
	EnvCrossPrefix = "CROSS_PREFIX"
	EnvPython      = "PYTHON"
	EnvJobs        = "JOBS"
	EnvOffline     = "QEMUPACK_OFFLINE"
	EnvMirror      = "QEMUPACK_MIRROR"
	EnvDeps        = "QEMUPACK_DEPS"
	EnvSysroot     = "QEMUPACK_SYSROOT"
	EnvTargets     = "QEMU_TARGETS"
	EnvFormat      = "QEMUPACK_FORMAT"
	EnvVersion     = "QEMU_VERSION"
	EnvEpoch       = "SOURCE_DATE_EPOCH"
	EnvTestMirror  = "QEMUPACK_TEST_MIRROR"
	EnvSetup       = "QEMUPACK_SETUP"
	EnvSmoke       = "QEMUPACK_SMOKE"
	EnvBench       = "QEMUPACK_BENCH"
	EnvSuites      = "QEMUPACK_SUITES"
	EnvProfile     = "QEMUPACK_PROFILE"
	EnvVMPubKey    = "QEMUPACK_VM_PUBKEY"
)

// FromEnv builds a Config for the checkout at root from getenv (os.Getenv
// in real use; a map lookup in tests). Every bad value is reported at once.
func FromEnv(root string, getenv func(string) string) (Config, error) {
	abs, err := filepath.Abs(root)
	if err != nil {
		return Config{}, fmt.Errorf("config: checkout folder %q: %w", root, err)
	}
	c := Config{Root: abs}
	p := &parser{root: abs, getenv: getenv}
	for _, s := range Settings {
		s.parse(p, &c)
	}
	if len(p.problems) > 0 {
		return c, fmt.Errorf("settings from the environment:\n  %s", strings.Join(p.problems, "\n  "))
	}
	return c, nil
}

// FromOS is FromEnv with the real environment and the working directory as root.
func FromOS() (Config, error) {
	wd, err := os.Getwd()
	if err != nil {
		return Config{}, fmt.Errorf("config: %w", err)
	}
	return FromEnv(wd, os.Getenv)
}

// parser is what each setting's parse function uses.
type parser struct {
	root     string
	getenv   func(string) string
	problems []string
}

func (p *parser) bad(format string, args ...any) {
	p.problems = append(p.problems, fmt.Sprintf(format, args...))
}

// get returns the variable's value, trimmed.
func (p *parser) get(name string) string { return strings.TrimSpace(p.getenv(name)) }

// or returns the variable's value or def when it is unset or blank.
func (p *parser) or(name, def string) string {
	if v := p.get(name); v != "" {
		return v
	}
	return def
}

// flag reads a 1/0 switch.
func (p *parser) flag(name, meaning string) bool {
	switch v := strings.ToLower(p.get(name)); v {
	case "", "0", "false", "no":
		return false
	case "1", "true", "yes":
		return true
	default:
		p.bad("%s=%q: use 1 (%s) or 0", name, v, meaning)
		return false
	}
}

// count reads a whole number in [min, max]; def when unset.
func (p *parser) count(name string, min, max, def int) int {
	v := p.get(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < min || n > max {
		p.bad("%s=%q: give a whole number from %d to %d", name, v, min, max)
		return def
	}
	return n
}

// oneOf reads a word from a list ("" allowed and returned as def).
func (p *parser) oneOf(name, def string, words []string, meaning string) string {
	v := strings.ToLower(p.get(name))
	if v == "" {
		return def
	}
	for _, w := range words {
		if v == w {
			return v
		}
	}
	p.bad("%s=%q: use %s (%s)", name, v, strings.Join(words, ", "), meaning)
	return def
}

func (p *parser) duration(name string) time.Duration {
	v := p.get(name)
	if v == "" {
		return 0
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		p.bad("%s=%q: give a duration such as 90s or 15m", name, v)
		return 0
	}
	return d
}

// path makes a folder setting absolute (relative to the checkout) and
// checks what it names. mustExist: the folder must be there; otherwise it
// must be a folder or absent (it is made later), never a file.
func (p *parser) path(name, v string, mustExist bool) string {
	if v == "" {
		return ""
	}
	if !filepath.IsAbs(v) {
		v = filepath.Join(p.root, v)
	}
	v = filepath.Clean(v)
	fi, err := os.Stat(v)
	switch {
	case err == nil && !fi.IsDir():
		p.bad("%s=%q is a file, not a folder", name, v)
	case errors.Is(err, fs.ErrNotExist) && mustExist:
		p.bad("%s=%q does not exist (name an existing folder)", name, v)
	case err != nil && !errors.Is(err, fs.ErrNotExist):
		p.bad("%s=%q: %v", name, v, err)
	}
	return v
}

func splitList(s, sep string) []string {
	var out []string
	for _, p := range strings.Split(s, sep) {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// defaultJobs is the compile job count when JOBS is unset.
func defaultJobs() int { return runtime.NumCPU() }
