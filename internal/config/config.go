// Package config reads the settings every qemupack step shares from the
// environment, checks them, and gives them defaults. It is the one place
// that knows the names of the environment variables a user can set.
package config

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"

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

// Config holds every setting a step may read. Build it with FromEnv.
type Config struct {
	Root        string   // the checkout: recipes/, patches/ live here
	CacheDir    string   // QEMUPACK_CACHE, default <root>/.cache
	DistDir     string   // QEMUPACK_DIST, default <root>/dist
	CrossPrefix string   // CROSS_PREFIX, default x86_64-w64-mingw32-
	Python      string   // PYTHON, default python3
	Jobs        int      // JOBS, default the number of cores
	Offline     bool     // QEMUPACK_OFFLINE=1
	Mirror      string   // QEMUPACK_MIRROR: a folder of source tarballs
	Deps        DepsMode // QEMUPACK_DEPS: auto, host or recipes
	Sysroots    []string // QEMUPACK_SYSROOT: extra mingw sysroots, a path list
	Targets     []string // QEMU_TARGETS, default x86_64-softmmu
	JSON        bool     // QEMUPACK_FORMAT=json
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
}

// Env names, for messages and docs.
const (
	EnvCache       = "QEMUPACK_CACHE"
	EnvDist        = "QEMUPACK_DIST"
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
	EnvSuites      = "QEMUPACK_SUITES"
)

// FromEnv builds a Config for the checkout at root from getenv (os.Getenv
// in real use; a map lookup in tests). Every bad value is reported at once.
func FromEnv(root string, getenv func(string) string) (Config, error) {
	abs, err := filepath.Abs(root)
	if err != nil {
		return Config{}, fmt.Errorf("config: checkout folder %q: %w", root, err)
	}
	c := Config{
		Root:            abs,
		CacheDir:        orDefault(getenv(EnvCache), filepath.Join(abs, ".cache")),
		DistDir:         orDefault(getenv(EnvDist), filepath.Join(abs, "dist")),
		CrossPrefix:     orDefault(getenv(EnvCrossPrefix), "x86_64-w64-mingw32-"),
		Python:          orDefault(getenv(EnvPython), "python3"),
		Jobs:            runtime.NumCPU(),
		Mirror:          getenv(EnvMirror),
		Deps:            DepsMode(orDefault(getenv(EnvDeps), string(DepsAuto))),
		Targets:         splitList(orDefault(getenv(EnvTargets), "x86_64-softmmu"), ","),
		QEMUVersion:     strings.TrimSpace(getenv(EnvVersion)),
		SourceDateEpoch: -1,
	}
	var problems []string
	bad := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }

	if v := getenv(EnvJobs); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			bad("%s=%q is not a positive whole number (try JOBS=%d)", EnvJobs, v, runtime.NumCPU())
		} else {
			c.Jobs = n
		}
	}
	switch v := strings.ToLower(getenv(EnvOffline)); v {
	case "", "0", "false", "no":
	case "1", "true", "yes":
		c.Offline = true
	default:
		bad("%s=%q: use 1 to work offline or 0 to allow downloads", EnvOffline, v)
	}
	switch c.Deps {
	case DepsAuto, DepsHost, DepsRecipes:
	default:
		bad("%s=%q: use auto (host libraries where new enough, recipes for the rest), host or recipes", EnvDeps, c.Deps)
	}
	switch f := strings.ToLower(getenv(EnvFormat)); f {
	case "", "text":
	case "json":
		c.JSON = true
	default:
		bad("%s=%q: use text or json", EnvFormat, f)
	}
	for _, dir := range splitList(getenv(EnvSysroot), string(os.PathListSeparator)) {
		c.Sysroots = append(c.Sysroots, dir)
	}
	if c.QEMUVersion != "" {
		cons, err := version.NewConstraint(c.QEMUVersion)
		if err != nil {
			bad("%s=%q is not a version constraint (examples: '>= 6.0, < 7', '~> 7.2', '6.0.1'): %v", EnvVersion, c.QEMUVersion, err)
		} else {
			c.Constraint = cons
		}
	}
	if v := getenv(EnvEpoch); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			bad("%s=%q is not a count of seconds since 1970", EnvEpoch, v)
		} else {
			c.SourceDateEpoch = n
		}
	}
	c.Suites = parseSuites(getenv(EnvSuites), bad)
	if len(problems) > 0 {
		return c, fmt.Errorf("settings from the environment:\n  %s", strings.Join(problems, "\n  "))
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

// parseSuites reads QEMUPACK_SUITES: "" = the default (nil), "none" =
// none (empty), else suite names separated by spaces or commas.
func parseSuites(v string, bad func(string, ...any)) []string {
	v = strings.TrimSpace(v)
	switch v {
	case "":
		return nil
	case "none":
		return []string{}
	}
	out := []string{}
	for _, s := range strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' }) {
		if !suiteName.MatchString(s) {
			bad("%s=%q: %q is not a suite name (examples: trixie, sid, noble-updates; \"none\" for only the host's suites)", EnvSuites, v, s)
			return nil
		}
		out = append(out, s)
	}
	return out
}

var suiteName = regexp.MustCompile(`^[a-z0-9][a-z0-9.+-]*$`)

func orDefault(v, def string) string {
	if strings.TrimSpace(v) == "" {
		return def
	}
	return strings.TrimSpace(v)
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
