package debian

import (
	"context"
	"errors"
	"fmt"
	"path"
	"slices"
	"strings"

	"qemupack/internal/flock"
	"qemupack/internal/run"
)

// SourcePkg is one version of a source package as the tree's suites list
// it.
type SourcePkg struct {
	Package string `json:"package"` // "qemu"
	Version string `json:"version"` // "1:10.2.2+ds-1"
	// Suite is the first of the tree's suites that lists this version
	// (the host's before the further ones); Suites all of them.
	Suite  string   `json:"suite"`
	Suites []string `json:"suites,omitempty"`
	// Files are the .dsc, orig and debian tarballs with the sums the
	// signed index gives and where the archive serves them.
	Files []File `json:"files"`
}

// Find returns the package's file whose name matches, e.g. ReOrigTarball.
func (s SourcePkg) Find(re interface{ MatchString(string) bool }) (File, bool) {
	for _, f := range s.Files {
		if re.MatchString(f.Name) {
			return f, true
		}
	}
	return File{}, false
}

// BinaryPkg is one version of a binary package as the tree's suites list it.
type BinaryPkg struct {
	Package      string   `json:"package"`
	Version      string   `json:"version"`
	Architecture string   `json:"architecture"` // "all", "amd64", ...
	Source       string   `json:"source,omitempty"`
	Suite        string   `json:"suite"`
	Suites       []string `json:"suites,omitempty"`
	File         File     `json:"file"` // the .deb
	// Depends is the package's Depends field as the index gives it
	// (linux-image-arm64: "linux-image-6.1.0-28-arm64 (= 6.1.119-1)").
	Depends string `json:"depends,omitempty"`
}

// shared holds the tree's lock shared while fn reads it: an update waits
// until no reader is left, and no reader starts while it runs.
func (t *Tree) shared(ctx context.Context, fn func() error) error {
	unlock, err := flock.LockShared(ctx, t.lockPath(), func() {
		t.say("debian: another qemupack process is updating %s; waiting", t.Dir)
	})
	if err != nil {
		return fmt.Errorf("debian: %w", err)
	}
	defer unlock()
	return fn()
}

// aptCache runs apt-cache on the tree and returns its standard output.
// "No such package" is not an error: the output is empty.
func (t *Tree) aptCache(ctx context.Context, args ...string) (string, error) {
	out, err := run.Output(ctx, run.Cmd{Args: append([]string{"apt-cache"}, args...), Dir: t.Dir, Env: t.env()})
	if err != nil {
		var re *run.Error
		if errors.As(err, &re) && (strings.Contains(re.Tail, "Unable to locate") || strings.Contains(re.Tail, "No packages found") ||
			strings.Contains(re.Tail, "Unable to find a source package")) {
			return "", nil
		}
		return out, fmt.Errorf("debian: apt-cache %s: %w", strings.Join(args, " "), err)
	}
	return out, nil
}

// suiteOrder sorts suite names by their place in the tree.
func (t *Tree) suiteOrder(names []string) []string {
	idx := func(n string) int {
		for i, s := range t.Suites {
			if s.Name == n {
				return i
			}
		}
		return len(t.Suites)
	}
	out := slices.Clone(names)
	slices.SortStableFunc(out, func(a, b string) int { return idx(a) - idx(b) })
	return slices.Compact(out)
}

// SourceVersions lists every version of source package pkg that any suite
// of the tree lists, highest first, each with its suites and files. A
// package no suite lists gives an empty list.
func (t *Tree) SourceVersions(ctx context.Context, pkg string) ([]SourcePkg, error) {
	var showsrc, madison string
	err := t.shared(ctx, func() error {
		var err error
		if showsrc, err = t.aptCache(ctx, "showsrc", "--only-source", pkg); err != nil {
			return err
		}
		madison, err = t.aptCache(ctx, "madison", pkg)
		return err
	})
	if err != nil {
		return nil, err
	}
	return t.joinSources(pkg, showsrc, madison)
}

func (t *Tree) joinSources(pkg, showsrc, madison string) ([]SourcePkg, error) {
	stanzas, err := parseSourceStanzas(showsrc, pkg)
	if err != nil {
		return nil, fmt.Errorf("debian: %w", err)
	}
	type where struct{ suites, uris []string }
	at := map[string]*where{}
	for _, m := range parseMadison(madison) {
		if !m.Source || m.Package != pkg {
			continue
		}
		w := at[m.Version]
		if w == nil {
			w = &where{}
			at[m.Version] = w
		}
		w.suites = append(w.suites, m.Suite)
		w.uris = append(w.uris, m.URI)
	}
	var out []SourcePkg
	seen := map[string]bool{}
	for _, s := range stanzas {
		if seen[s.Version] {
			continue
		}
		seen[s.Version] = true
		sp := SourcePkg{Package: pkg, Version: s.Version, Files: s.Files}
		if w := at[s.Version]; w != nil {
			sp.Suites = t.suiteOrder(w.suites)
			sp.Suite = sp.Suites[0]
			uri := w.uris[slices.Index(w.suites, sp.Suite)]
			for i := range sp.Files {
				sp.Files[i].URL = uri + "/" + path.Join(s.Directory, sp.Files[i].Name)
			}
		}
		out = append(out, sp)
	}
	slices.SortStableFunc(out, func(a, b SourcePkg) int { return CompareDebian(b.Version, a.Version) })
	return out, nil
}

// BinaryVersions lists every version of binary package pkg (of
// architecture all or one of the tree's) that any suite lists, highest
// first.
func (t *Tree) BinaryVersions(ctx context.Context, pkg string) ([]BinaryPkg, error) {
	var show, madison string
	err := t.shared(ctx, func() error {
		args := []string{"show"}
		for i, a := range t.Architectures {
			if i == 0 {
				args = append(args, pkg)
			} else {
				args = append(args, pkg+":"+a)
			}
		}
		var err error
		if show, err = t.aptCache(ctx, args...); err != nil {
			return err
		}
		madison, err = t.aptCache(ctx, "madison", pkg)
		return err
	})
	if err != nil {
		return nil, err
	}
	return t.joinBinaries(pkg, show, madison), nil
}

func (t *Tree) joinBinaries(pkg, show, madison string) []BinaryPkg {
	type where struct{ suites, uris []string }
	at := map[string]*where{} // version + " " + arch as madison says it
	for _, m := range parseMadison(madison) {
		if m.Source || m.Package != pkg {
			continue
		}
		k := m.Version + " " + m.Arch
		w := at[k]
		if w == nil {
			w = &where{}
			at[k] = w
		}
		w.suites = append(w.suites, m.Suite)
		w.uris = append(w.uris, m.URI)
	}
	var out []BinaryPkg
	seen := map[string]bool{}
	for _, s := range parseBinaryStanzas(show, pkg) {
		k := s.Version + " " + s.Architecture
		if seen[k] {
			continue
		}
		seen[k] = true
		b := BinaryPkg{Package: pkg, Version: s.Version, Architecture: s.Architecture, Source: s.Source, Depends: s.Depends,
			File: File{Name: path.Base(s.Filename), SHA256: s.SHA256, Size: s.Size}}
		w := at[k]
		if w == nil && s.Architecture == "all" {
			// apt lists architecture-all packages under the native one.
			w = at[s.Version+" "+t.Architectures[0]]
		}
		if w != nil {
			b.Suites = t.suiteOrder(w.suites)
			b.Suite = b.Suites[0]
			b.File.URL = w.uris[slices.Index(w.suites, b.Suite)] + "/" + s.Filename
		}
		out = append(out, b)
	}
	slices.SortStableFunc(out, func(a, b BinaryPkg) int { return CompareDebian(b.Version, a.Version) })
	return out
}
