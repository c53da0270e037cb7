package xbuild

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"

	"qemupack/internal/config"
	"qemupack/internal/profile"
)

// Configured is what a configured QEMU build folder really has, read from
// the files meson wrote (not from the options asked for: configure turns
// an `auto` feature off without a word when a header or library is
// missing, as WHPX did when its header was not found):
//
//   - config-host.h: the CONFIG_* macros every C file is compiled with. A
//     feature's code is in the binaries exactly when its macro is defined
//     here, so this is the source to trust over meson-info's
//     intro-buildoptions.json, which holds the options' requested values
//     (`auto` stays `auto` whether the feature came out on or off).
//   - <target>-config-target.h: the per-target macros; accelerators are
//     chosen per target (CONFIG_WHPX only for x86 targets).
//   - meson-info/intro-dependencies.json: the dependencies meson found,
//     by name; for a feature QEMU gives no macro (usb-redir only adds a
//     source set when libusbredirparser is found).
//   - the installed targets meson lists (the build reads them for ninja):
//     the programs it will make (qemu-ga.exe).
//
// The build keeps it in its record (result.json), so a cached build is
// checked again with the current profile table.
type Configured struct {
	HostMacros   map[string]bool            `json:"host_macros"`   // CONFIG_* defined in config-host.h
	TargetMacros map[string]map[string]bool `json:"target_macros"` // target -> CONFIG_* defined in its config-target.h
	Dependencies map[string]bool            `json:"dependencies"`  // external dependencies meson found
	Programs     map[string]bool            `json:"programs"`      // base names of installed targets
}

// ReadConfigured reads the configured build folder for the targets;
// shipped are the installed targets' paths (ShippedTargets).
func ReadConfigured(buildDir string, targets, shipped []string) (Configured, error) {
	c := Configured{TargetMacros: map[string]map[string]bool{}, Dependencies: map[string]bool{}, Programs: map[string]bool{}}
	var err error
	if c.HostMacros, err = definedMacros(filepath.Join(buildDir, "config-host.h")); err != nil {
		return c, err
	}
	for _, t := range targets {
		if c.TargetMacros[t], err = definedMacros(filepath.Join(buildDir, t+"-config-target.h")); err != nil {
			return c, err
		}
	}
	depsFile := filepath.Join(buildDir, "meson-info", "intro-dependencies.json")
	b, err := os.ReadFile(depsFile)
	if err != nil {
		return c, fmt.Errorf("configured build: %w (did configure finish?)", err)
	}
	var deps []struct {
		Name string `json:"name"`
		Type string `json:"type"`
	}
	if err := json.Unmarshal(b, &deps); err != nil {
		return c, fmt.Errorf("configured build: %s: %w", depsFile, err)
	}
	for _, d := range deps {
		if d.Type != "internal" { // QEMU's own declare_dependency()s, named dep<hash>
			c.Dependencies[d.Name] = true
		}
	}
	for _, s := range shipped {
		c.Programs[path.Base(toSlash(s))] = true
	}
	return c, nil
}

// definedMacros lists the CONFIG_* macros a meson-written header defines
// (`#define NAME` or `#define NAME value`; `#undef NAME` is off).
func definedMacros(file string) (map[string]bool, error) {
	f, err := os.Open(file)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("configured build: no %s (did configure finish?)", file)
	}
	if err != nil {
		return nil, fmt.Errorf("configured build: %w", err)
	}
	defer f.Close()
	out := map[string]bool{}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) >= 2 && fields[0] == "#define" && strings.HasPrefix(fields[1], "CONFIG_") {
			out[fields[1]] = true
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("configured build: %s: %w", file, err)
	}
	return out, nil
}

// Holds says whether one check holds for the built targets.
func (c Configured) Holds(ch profile.Check, f profile.Feature, targets []string) bool {
	switch ch.Where {
	case profile.HostMacro:
		return c.HostMacros[ch.Name]
	case profile.TargetMacro:
		// Every built target the feature applies to must have it.
		any := false
		for _, t := range targets {
			if !(profile.Feature{Targets: f.Targets}).Applies([]string{t}) {
				continue
			}
			any = true
			if !c.TargetMacros[t][ch.Name] {
				return false
			}
		}
		return any
	case profile.Dependency:
		return c.Dependencies[ch.Name]
	case profile.Program:
		return c.Programs[ch.Name]
	}
	return false
}

// Has returns the features of fs that the build has (every check holds),
// and for the others the checks that failed.
func (c Configured) Has(fs []profile.Feature, targets []string) (on []string, off map[string][]profile.Check) {
	off = map[string][]profile.Check{}
	for _, f := range fs {
		if !f.Applies(targets) {
			continue
		}
		var failed []profile.Check
		for _, ch := range f.Checks {
			if !c.Holds(ch, f, targets) {
				failed = append(failed, ch)
			}
		}
		if len(failed) == 0 {
			on = append(on, f.Name)
		} else {
			off[f.Name] = failed
		}
	}
	return on, off
}

// FeatureError is a promised feature configure left off.
type FeatureError struct {
	Missing []MissingFeature
	Log     string // configure's log
}

// MissingFeature is one promised feature that came out off.
type MissingFeature struct {
	Feature profile.Feature
	Failed  []profile.Check
}

func (e *FeatureError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "configure left off %d feature(s) this profile promises (set %s=%s for a build without them):", len(e.Missing), config.EnvProfile, profile.Headless)
	for _, m := range e.Missing {
		var checks []string
		for _, c := range m.Failed {
			checks = append(checks, c.String())
		}
		fmt.Fprintf(&b, "\n  %s (%s): configure option %s, but no %s", m.Feature.Name, m.Feature.Title,
			strings.Join(m.Feature.Configure, " "), strings.Join(checks, ", no "))
	}
	if e.Log != "" {
		fmt.Fprintf(&b, "\nconfigure's log says why: %s (search it for the feature's name)", e.Log)
	}
	return b.String()
}

// CheckPromised fails naming every promised feature the configured build
// lacks.
func (c Configured) CheckPromised(promised []profile.Feature, targets []string, log string) error {
	_, off := c.Has(promised, targets)
	if len(off) == 0 {
		return nil
	}
	e := &FeatureError{Log: log}
	for _, f := range promised {
		if failed, ok := off[f.Name]; ok {
			e.Missing = append(e.Missing, MissingFeature{Feature: f, Failed: failed})
		}
	}
	return e
}
