// Package deps builds the mingw libraries QEMU needs from recipes
// (recipes/deps/*.json) into a cache of prefixes, one per library, each
// keyed by a hash of everything that went into it, and joins them into one
// stack prefix for QEMU's build.
package deps

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"qemupack/internal/recipe"
	"qemupack/internal/stepcache"
)

// BuilderVersion is part of every key: bump it when the way a library is
// built changes, so old prefixes are not reused.
const BuilderVersion = "deps-4"

// QEMUModules are the pkg-config modules QEMU's Windows build needs.
var QEMUModules = []string{"glib-2.0", "gthread-2.0", "pixman-1", "slirp", "zlib", "libfdt"}

// Select returns the recipes needed for the wanted pkg-config modules (or
// recipe names), with every dependency, in a build order (dependencies
// first; ties by name). A module no recipe provides, a dependency with no
// recipe, or a cycle is an error.
func Select(all []recipe.Recipe, want []string) ([]recipe.Recipe, error) {
	byName := map[string]recipe.Recipe{}
	byModule := map[string]string{}
	for _, r := range all {
		if _, dup := byName[r.Name]; dup {
			return nil, fmt.Errorf("two recipes named %s", r.Name)
		}
		byName[r.Name] = r
		for m := range r.Provides {
			byModule[m] = r.Name
		}
	}
	need := map[string]bool{}
	var add func(name string, from []string) error
	add = func(name string, from []string) error {
		for i, f := range from {
			if f == name {
				cycle := append(append([]string{}, from[i:]...), name)
				return fmt.Errorf("dependency cycle: %s", strings.Join(cycle, " -> "))
			}
		}
		r, ok := byName[name]
		if !ok {
			if len(from) > 0 {
				return fmt.Errorf("recipe %s depends on %s, which has no recipe", from[len(from)-1], name)
			}
			return fmt.Errorf("no recipe for %s", name)
		}
		path := append(append([]string{}, from...), name)
		for _, d := range r.Deps {
			if err := add(d, path); err != nil {
				return err
			}
		}
		need[name] = true
		return nil
	}
	for _, w := range want {
		name := w
		if n, ok := byModule[w]; ok {
			name = n
		} else if _, ok := byName[w]; !ok {
			return nil, fmt.Errorf("no recipe provides %s (recipes provide: %s)", w, strings.Join(sortedKeys(byModule), ", "))
		}
		if err := add(name, nil); err != nil {
			return nil, err
		}
	}
	// Topological order, ties by name, so the order is stable.
	var order []recipe.Recipe
	done := map[string]bool{}
	for len(done) < len(need) {
		var ready []string
		for n := range need {
			if done[n] {
				continue
			}
			ok := true
			for _, d := range byName[n].Deps {
				if !done[d] {
					ok = false
				}
			}
			if ok {
				ready = append(ready, n)
			}
		}
		sort.Strings(ready)
		if len(ready) == 0 {
			return nil, fmt.Errorf("dependency cycle among %v", need)
		}
		done[ready[0]] = true
		order = append(order, byName[ready[0]])
	}
	return order, nil
}

// Inputs are what one library's prefix is made from, its step cache key:
// the builder version, its recipe, its patches (names and contents), the
// toolchain and the keys of its dependencies.
func Inputs(r recipe.Recipe, patches []string, toolchain string, depKeys []string) (stepcache.Inputs, error) {
	var in stepcache.Inputs
	rc := r
	rc.Path = ""
	data, err := json.Marshal(rc)
	if err != nil {
		return in, err
	}
	in.Add("builder", BuilderVersion)
	in.Add("recipe", string(data))
	if err := in.AddFiles("patches", patches); err != nil {
		return in, fmt.Errorf("deps: %s: %w", r.Name, err)
	}
	in.Add("toolchain", toolchain)
	ks := append([]string{}, depKeys...)
	sort.Strings(ks)
	in.AddList("dependencies", ks)
	return in, nil
}

// Key is the step cache key of one library (Inputs' key).
func Key(r recipe.Recipe, patches []string, toolchain string, depKeys []string) (string, error) {
	in, err := Inputs(r, patches, toolchain, depKeys)
	if err != nil {
		return "", err
	}
	return in.Key()
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
