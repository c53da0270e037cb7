// Package bundle gathers everything a staged QEMU for Windows needs to run
// on a machine with nothing else installed (the DLL closure, firmware,
// keymaps, licences, a README) and writes it as one deterministic zip.
package bundle

import (
	_ "embed"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"qemupack/internal/checksum"
	"qemupack/internal/host"
	"qemupack/internal/pe"
)

//go:embed windows-dlls.txt
var windowsList string

var windowsDLLs = func() map[string]bool {
	m := map[string]bool{}
	for _, line := range strings.Split(windowsList, "\n") {
		line = strings.TrimSpace(line)
		if line != "" && !strings.HasPrefix(line, "#") {
			m[strings.ToLower(line)] = true
		}
	}
	return m
}()

// WindowsDLLs returns the explicit list of Windows' own DLLs, sorted.
func WindowsDLLs() []string {
	out := make([]string, 0, len(windowsDLLs))
	for n := range windowsDLLs {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// IsWindowsDLL says whether Windows itself provides name: the explicit list
// (windows-dlls.txt) or an API set (api-ms-win-*, ext-ms-*), which the
// loader maps to a system DLL and which never exists as a file to bundle.
func IsWindowsDLL(name string) bool {
	n := strings.ToLower(name)
	return windowsDLLs[n] || strings.HasPrefix(n, "api-ms-win-") || strings.HasPrefix(n, "ext-ms-")
}

// SearchDir is one folder DLLs are looked up in; the host model gives the
// one search order (host.Report.DLLSearch). See Closure for Override.
type SearchDir = host.DLLDir

// DLL is one DLL the bundle carries.
type DLL struct {
	Name       string   // lower-case file name
	Path       string   // where it was found
	SHA256     string   // of its content
	Size       int64    //
	ImportedBy []string // base names of the files that import it, sorted
}

// Conflict is one DLL name with differing copies in the search folders.
type Conflict struct {
	Name   string
	Chosen string   // the copy taken (from an Override folder)
	Others []string // differing copies passed over
}

// Closure is the result of Resolve.
type Closure struct {
	Roots     []string // the staged files the walk started from
	DLLs      []DLL    // every DLL to bundle, sorted by name
	System    []string // Windows' own DLLs the files import (left out), sorted
	Conflicts []Conflict
}

// Names returns the bundled DLL names.
func (c *Closure) Names() []string {
	out := make([]string, len(c.DLLs))
	for i, d := range c.DLLs {
		out[i] = d.Name
	}
	return out
}

// MissingError lists every DLL that is neither found nor Windows' own.
type MissingError struct {
	Missing  map[string][]string // DLL -> importing files (base names)
	Searched []string
}

func (e *MissingError) Error() string {
	var b strings.Builder
	names := make([]string, 0, len(e.Missing))
	for n := range e.Missing {
		names = append(names, n)
	}
	sort.Strings(names)
	fmt.Fprintf(&b, "bundle: %d DLL(s) needed but found in no search folder and not part of Windows:", len(names))
	for _, n := range names {
		fmt.Fprintf(&b, "\n  %s (imported by %s)", n, strings.Join(e.Missing[n], ", "))
	}
	fmt.Fprintf(&b, "\nsearched, in order: %s", strings.Join(e.Searched, ", "))
	b.WriteString("\nfix: build or install the library that provides it (for a host library, its mingw package; QEMUPACK_SYSROOT adds a sysroot), or, if Windows ships it, add it to internal/bundle/windows-dlls.txt")
	return b.String()
}

// ConflictError reports two different copies of one DLL where neither
// folder is an override: which one the program was linked and tested
// against cannot be known, so the bundle refuses to guess.
type ConflictError struct {
	Name   string
	Copies []string // "path (sha256 prefix, size)"
}

func (e *ConflictError) Error() string {
	return fmt.Sprintf("bundle: two different copies of %s in the DLL search folders:\n  %s\nfix: remove or rename the copy that does not belong (a copy built by our deps step would take precedence on its own)",
		e.Name, strings.Join(e.Copies, "\n  "))
}

// index maps lower-case DLL names to their copies, in search order.
type index struct {
	dirs    []SearchDir
	entries map[string][]copyOf
}

type copyOf struct {
	path     string
	override bool
}

func newIndex(dirs []SearchDir) (*index, error) {
	ix := &index{dirs: dirs, entries: map[string][]copyOf{}}
	for _, d := range dirs {
		ents, err := os.ReadDir(d.Path)
		if os.IsNotExist(err) {
			continue // an optional folder (e.g. a sysroot bin that does not exist)
		}
		if err != nil {
			return nil, fmt.Errorf("bundle: DLL search folder: %w", err)
		}
		for _, e := range ents {
			n := strings.ToLower(e.Name())
			if !strings.HasSuffix(n, ".dll") && !strings.HasSuffix(n, ".drv") {
				continue
			}
			ix.entries[n] = append(ix.entries[n], copyOf{filepath.Join(d.Path, e.Name()), d.Override})
		}
	}
	return ix, nil
}

// Resolve walks the imports of roots (the staged .exe and .dll files) and
// of every DLL they lead to. A DLL is taken from the roots themselves
// first (the application folder, which Windows searches first), then from
// dirs in order. Copies of the same name with identical content are one
// DLL. Differing copies: when the first one sits in an Override folder it
// wins and the difference is recorded in Closure.Conflicts; otherwise
// Resolve fails with a *ConflictError. Every DLL found nowhere and not
// Windows' own is reported at once in a *MissingError.
func Resolve(roots []string, dirs []SearchDir) (*Closure, error) {
	return resolveWith(roots, dirs, pe.Open)
}

// ResolveWith is Resolve with another import reader (the benchmark's
// objdump baseline).
func ResolveWith(roots []string, dirs []SearchDir, open func(string) (*pe.File, error)) (*Closure, error) {
	return resolveWith(roots, dirs, open)
}

func resolveWith(roots []string, dirs []SearchDir, open func(string) (*pe.File, error)) (*Closure, error) {
	ix, err := newIndex(dirs)
	if err != nil {
		return nil, err
	}
	machine := uint16(0)
	var machineFrom string
	rootByName := map[string]string{}
	for _, r := range roots {
		rootByName[strings.ToLower(filepath.Base(r))] = r
	}
	c := &Closure{Roots: append([]string(nil), roots...)}
	chosen := map[string]*DLL{}
	system := map[string]bool{}
	missing := map[string][]string{}
	importers := map[string]map[string]bool{}

	queue := append([]string(nil), roots...)
	seenFile := map[string]bool{}
	for len(queue) > 0 {
		path := queue[0]
		queue = queue[1:]
		if seenFile[path] {
			continue
		}
		seenFile[path] = true
		f, err := open(path)
		if err != nil {
			return nil, fmt.Errorf("bundle: %w", err)
		}
		if machine == 0 {
			machine, machineFrom = f.Machine, path
		} else if f.Machine != machine {
			return nil, fmt.Errorf("bundle: %s is %s but %s is %s: one bundle holds one architecture",
				path, pe.MachineName(f.Machine), machineFrom, pe.MachineName(machine))
		}
		me := filepath.Base(path)
		for _, name := range f.DLLs() {
			n := strings.ToLower(name)
			if importers[n] == nil {
				importers[n] = map[string]bool{}
			}
			importers[n][me] = true
			if r, ok := rootByName[n]; ok {
				queue = append(queue, r)
				continue
			}
			if IsWindowsDLL(n) {
				system[n] = true
				continue
			}
			if _, ok := chosen[n]; ok {
				continue
			}
			copies := ix.entries[n]
			if len(copies) == 0 {
				continue // reported below with every importer
			}
			d, conflict, err := pick(n, copies)
			if err != nil {
				return nil, err
			}
			if conflict != nil {
				c.Conflicts = append(c.Conflicts, *conflict)
			}
			chosen[n] = d
			queue = append(queue, d.Path)
		}
	}
	for n, by := range importers {
		if _, ok := rootByName[n]; ok || system[n] || chosen[n] != nil {
			continue
		}
		missing[n] = sortedKeys(by)
	}
	if len(missing) > 0 {
		e := &MissingError{Missing: missing}
		for _, d := range dirs {
			e.Searched = append(e.Searched, d.Path)
		}
		return nil, e
	}
	for n, d := range chosen {
		d.ImportedBy = sortedKeys(importers[n])
		c.DLLs = append(c.DLLs, *d)
	}
	sort.Slice(c.DLLs, func(i, j int) bool { return c.DLLs[i].Name < c.DLLs[j].Name })
	c.System = sortedKeys(system)
	sort.Slice(c.Conflicts, func(i, j int) bool { return c.Conflicts[i].Name < c.Conflicts[j].Name })
	return c, nil
}

// pick chooses among the copies of one DLL (see Resolve).
func pick(name string, copies []copyOf) (*DLL, *Conflict, error) {
	type seen struct {
		copyOf
		sum  string
		size int64
	}
	var all []seen
	for _, cp := range copies {
		sum, size, err := checksum.FileSize(cp.path)
		if err != nil {
			return nil, nil, fmt.Errorf("bundle: %w", err)
		}
		all = append(all, seen{cp, sum, size})
	}
	first := all[0]
	var differ []seen
	for _, s := range all[1:] {
		if s.sum != first.sum {
			differ = append(differ, s)
		}
	}
	d := &DLL{Name: name, Path: first.path, SHA256: first.sum, Size: first.size}
	if len(differ) == 0 {
		return d, nil, nil
	}
	if first.override {
		cf := &Conflict{Name: name, Chosen: first.path}
		for _, s := range differ {
			cf.Others = append(cf.Others, s.path)
		}
		return d, cf, nil
	}
	e := &ConflictError{Name: name}
	for _, s := range append([]seen{first}, differ...) {
		e.Copies = append(e.Copies, fmt.Sprintf("%s (sha256 %s…, %d bytes)", s.path, s.sum[:12], s.size))
	}
	return nil, nil, e
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
