package xbuild

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// ValidTargets lists the system-emulator targets the source tree offers
// (configs/targets/*-softmmu.mak), sorted. Only those build for Windows:
// linux-user and bsd-user emulators need a Linux or BSD host.
func ValidTargets(srcDir string) ([]string, error) {
	ents, err := os.ReadDir(filepath.Join(srcDir, "configs", "targets"))
	if err != nil {
		return nil, fmt.Errorf("targets: %w (is %s a QEMU source tree?)", err, srcDir)
	}
	var out []string
	for _, e := range ents {
		if n := e.Name(); strings.HasSuffix(n, "-softmmu.mak") {
			out = append(out, strings.TrimSuffix(n, ".mak"))
		}
	}
	sort.Strings(out)
	return out, nil
}

// AllTargets is the QEMU_TARGETS word for every system emulator the tree
// offers.
const AllTargets = "all"

// CheckTargets checks every wanted target against the tree's list and
// returns them sorted and without duplicates; "all" alone is every
// system emulator the tree offers (ValidTargets). An unknown target is an
// error listing the valid ones.
func CheckTargets(srcDir string, wanted []string) ([]string, error) {
	valid, err := ValidTargets(srcDir)
	if err != nil {
		return nil, err
	}
	if len(wanted) == 1 && wanted[0] == AllTargets {
		return valid, nil
	}
	return checkAgainst(valid, wanted)
}

func checkAgainst(valid, wanted []string) ([]string, error) {
	ok := map[string]bool{}
	for _, v := range valid {
		ok[v] = true
	}
	if len(wanted) == 0 {
		return nil, fmt.Errorf("QEMU_TARGETS is empty: name at least one target, e.g. x86_64-softmmu")
	}
	seen := map[string]bool{}
	var out, bad []string
	for _, w := range wanted {
		if seen[w] {
			continue
		}
		seen[w] = true
		if ok[w] {
			out = append(out, w)
		} else {
			bad = append(bad, w)
		}
	}
	if len(bad) > 0 {
		hint := ""
		for _, b := range bad {
			if strings.HasSuffix(b, "-linux-user") || strings.HasSuffix(b, "-bsd-user") {
				hint = " (user-mode emulators do not build for Windows)"
			} else if !strings.Contains(b, "-") && ok[b+"-softmmu"] {
				hint = fmt.Sprintf(" (did you mean %s-softmmu?)", b)
			}
		}
		return nil, fmt.Errorf("QEMU_TARGETS: unknown target %s%s; this QEMU offers: %s",
			strings.Join(bad, ", "), hint, strings.Join(valid, ", "))
	}
	sort.Strings(out)
	return out, nil
}
