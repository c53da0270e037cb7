// Package stepcache is the one cache every qemupack step keeps its results
// in: the mingw library prefixes, the joined library stack, the prepared
// QEMU source tree, the build tools and firmware unpacked from Debian
// packages, the staged QEMU build, a passed smoke test.
//
// An entry is found by a key made from the step's declared inputs
// (Inputs), so a result never outlives what it was made from: change an
// input and a new entry is made. An entry is made in a temporary folder
// and renamed into place with a record of its inputs, so a killed run
// leaves nothing half-made where a later run would take it for finished.
// Each entry has a lock: two runs that need the same entry wait for one
// another (the second gets the first one's result), and an entry in use
// is never pruned.
//
// On disk, under Root:
//
//	<kind>/<name>-<key16>/                 a finished entry (its files)
//	<kind>/<name>-<key16>/.qemupack-entry.json   the record: kind, name, key, inputs, time
//	<kind>/.locks/<name>-<key16>.lock      the entry's lock file
//	<kind>/.tmp/<name>-<key16>-*/          an entry being made (or left by a killed run)
//	<kind>/.work/<name>-<key16>/           scratch kept across attempts (Options.Resumable)
//
// What an entry holds is its owning package's business: that package
// writes its own record file inside the entry and exports the function
// every other package reads it with.
package stepcache

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"qemupack/internal/atomicfile"
	"qemupack/internal/flock"
)

// RecordName is the file in every finished entry that records what it was
// made from. A folder without it is not an entry.
const RecordName = ".qemupack-entry.json"

// usedName is touched each time an entry is used; pruning keeps the most
// recently used entries.
const usedName = ".qemupack-used"

// staleWork is how long the scratch folder of an entry nobody finished is
// kept for a resume before pruning removes it.
const staleWork = 7 * 24 * time.Hour

// DefaultKeep is how many entries of one kind and name pruning keeps.
const DefaultKeep = 2

// Cache is the step cache under one root folder (QEMUPACK_CACHE).
type Cache struct {
	Root string
	// Keep is how many entries of each kind and name Prune keeps (the
	// ones used last); 0 means DefaultKeep.
	Keep int
	// Log receives a line when a run has to wait for another (nil: quiet).
	Log func(string)
}

// Record is what stepcache writes into every finished entry.
type Record struct {
	Kind    string    `json:"kind"`
	Name    string    `json:"name"`
	Key     string    `json:"key"`
	Inputs  []Input   `json:"inputs"`
	Made    time.Time `json:"made"`
	Seconds float64   `json:"seconds"`
}

// Entry is a finished entry, held (shared) until Release: no run prunes
// or replaces it meanwhile.
type Entry struct {
	Kind string
	Name string
	Key  string
	Dir  string // the entry's files
	Hit  bool   // found finished; false when this call made it
	// Inputs are the inputs it was made from.
	Inputs []Input

	release func()
}

// Release gives up the hold on the entry (a pipeline releases every entry
// it used when it ends). Calling it twice is harmless.
func (e *Entry) Release() {
	if e != nil && e.release != nil {
		e.release()
		e.release = nil
	}
}

// Options tune one Do call.
type Options struct {
	// Check, when set, is run on a finished entry before it is used; an
	// error means the entry is damaged (a file removed by hand): it is
	// made again.
	Check func(dir string) error
	// Resumable keeps the scratch folder (Make's work) across failed or
	// killed attempts, for tools that resume safely (ninja). Without it
	// the scratch folder is emptied before each attempt. It is removed
	// once the entry is finished.
	Resumable bool
}

// Make fills tmp with the entry's files. final is where they will be once
// tmp is renamed (for files that must name their own location, such as
// pkg-config files); work is an empty (or, when resumable, a resumed)
// scratch folder that is not part of the entry.
type Make func(ctx context.Context, tmp, final, work string) error

// ID is the folder name of an entry: its name and the key's first 16 hex
// digits.
func ID(name, key string) string { return name + "-" + key[:16] }

func (c *Cache) say(format string, args ...any) {
	if c.Log != nil {
		c.Log(fmt.Sprintf(format, args...))
	}
}

// Path is where the entry for (kind, name, inputs) is or will be.
func (c *Cache) Path(kind, name string, in Inputs) (string, error) {
	if err := checkName(kind, name); err != nil {
		return "", err
	}
	key, err := in.Key()
	if err != nil {
		return "", err
	}
	return filepath.Join(c.Root, kind, ID(name, key)), nil
}

// Do returns the finished entry for (kind, name, inputs), making it with
// make when there is none. The entry is held until Release.
func (c *Cache) Do(ctx context.Context, kind, name string, in Inputs, o Options, make Make) (*Entry, error) {
	if c.Root == "" || !filepath.IsAbs(c.Root) {
		return nil, fmt.Errorf("step cache: the cache folder %q is not an absolute path", c.Root)
	}
	if err := checkName(kind, name); err != nil {
		return nil, err
	}
	key, err := in.Key()
	if err != nil {
		return nil, err
	}
	id := ID(name, key)
	base := filepath.Join(c.Root, kind)
	dir := filepath.Join(base, id)
	lockPath := filepath.Join(base, ".locks", id+".lock")
	waiting := func() {
		c.say("%s %s: another qemupack process is making or using it; waiting", kind, name)
	}
	e := &Entry{Kind: kind, Name: name, Key: key, Dir: dir, Inputs: in.List()}

	for attempt := 0; attempt < 3; attempt++ {
		// The common case: the entry is finished. A shared hold is enough.
		unlock, err := flock.LockShared(ctx, lockPath, waiting)
		if err != nil {
			return nil, err
		}
		if finished(dir, key, o.Check) {
			touch(dir)
			e.Hit, e.release = true, unlock
			return e, nil
		}
		unlock()

		// Make it, alone.
		unlock, err = flock.Lock(ctx, lockPath, waiting)
		if err != nil {
			return nil, err
		}
		e.Hit = true // made by another run while this one waited
		if !finished(dir, key, o.Check) {
			if err := c.make(ctx, kind, name, key, in, o, make); err != nil {
				unlock()
				return nil, err
			}
			e.Hit = false
		}
		unlock()
		// Hold it shared, as every user does. Between the two locks a
		// pruner may have taken it (it was just made: very unlikely);
		// then make it again.
		unlock, err = flock.LockShared(ctx, lockPath, waiting)
		if err != nil {
			return nil, err
		}
		if finished(dir, key, nil) {
			touch(dir)
			e.release = unlock
			return e, nil
		}
		unlock()
	}
	return nil, fmt.Errorf("step cache: %s %s (%s) vanished three times right after it was made; is another program removing %s?", kind, name, id, base)
}

// ErrNotCached is Do's error when there is no finished entry and no Make
// was given (a caller that only wants to hold an entry it saw).
var ErrNotCached = errors.New("step cache: no finished entry")

// make builds the entry; the caller holds its exclusive lock.
func (c *Cache) make(ctx context.Context, kind, name, key string, in Inputs, o Options, make Make) (err error) {
	if make == nil {
		return fmt.Errorf("%w for %s %s", ErrNotCached, kind, name)
	}
	id := ID(name, key)
	base := filepath.Join(c.Root, kind)
	dir := filepath.Join(base, id)
	tmpBase := filepath.Join(base, ".tmp")
	// Leftovers of this entry: an old folder that failed its check, temp
	// folders of killed runs. Nobody else can be using them: we hold the
	// exclusive lock.
	if err := removeAll(dir); err != nil {
		return fmt.Errorf("step cache: %w", err)
	}
	if olds, _ := filepath.Glob(filepath.Join(tmpBase, id+"-*")); len(olds) > 0 {
		for _, old := range olds {
			if err := removeAll(old); err != nil {
				return fmt.Errorf("step cache: %w", err)
			}
		}
	}
	if err := os.MkdirAll(tmpBase, 0o755); err != nil {
		return fmt.Errorf("step cache: %w", err)
	}
	tmp, err := os.MkdirTemp(tmpBase, id+"-")
	if err != nil {
		return fmt.Errorf("step cache: %w", err)
	}
	work := filepath.Join(base, ".work", id)
	defer func() {
		if err != nil {
			os.RemoveAll(tmp)
			if !o.Resumable {
				os.RemoveAll(work)
			}
		}
	}()
	if !o.Resumable {
		if err := removeAll(work); err != nil {
			return fmt.Errorf("step cache: %w", err)
		}
	}
	if err := os.MkdirAll(work, 0o755); err != nil {
		return fmt.Errorf("step cache: %w", err)
	}
	start := time.Now()
	if err := make(ctx, tmp, dir, work); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if o.Check != nil {
		// The check runs on the files where they will be read: a finished
		// entry must pass it, else the next run would throw it away.
		defer func() {
			if err == nil {
				if cerr := o.Check(dir); cerr != nil {
					removeAll(dir)
					err = fmt.Errorf("step cache: %s %s was made but fails its own check: %w", kind, name, cerr)
				}
			}
		}()
	}
	rec := Record{Kind: kind, Name: name, Key: key, Inputs: in.List(), Made: time.Now().UTC(), Seconds: time.Since(start).Seconds()}
	data, err := json.MarshalIndent(rec, "", "  ")
	if err != nil {
		return err
	}
	if err := atomicfile.WriteFile(filepath.Join(tmp, RecordName), append(data, '\n'), 0o644); err != nil {
		return fmt.Errorf("step cache: %w", err)
	}
	if err := os.Rename(tmp, dir); err != nil {
		return fmt.Errorf("step cache: put %s %s in place: %w", kind, name, err)
	}
	if err := atomicfile.SyncDir(base); err != nil {
		return fmt.Errorf("step cache: %w", err)
	}
	os.RemoveAll(work)
	touch(dir)
	return nil
}

// ReadRecord reads the record of the finished entry at dir.
func ReadRecord(dir string) (Record, error) {
	var r Record
	data, err := os.ReadFile(filepath.Join(dir, RecordName))
	if err != nil {
		return r, fmt.Errorf("step cache: %s is not a finished entry: %w", dir, err)
	}
	if err := json.Unmarshal(data, &r); err != nil {
		return r, fmt.Errorf("step cache: record of %s: %w", dir, err)
	}
	return r, nil
}

func finished(dir, key string, check func(string) error) bool {
	r, err := ReadRecord(dir)
	if err != nil || r.Key != key {
		return false
	}
	if check != nil && check(dir) != nil {
		return false
	}
	return true
}

func touch(dir string) {
	p := filepath.Join(dir, usedName)
	now := time.Now()
	if err := os.Chtimes(p, now, now); err != nil {
		if f, err := os.Create(p); err == nil {
			f.Close()
		}
	}
}

// removeAll removes a folder by renaming it aside first, so a run killed
// halfway through never leaves a half-removed folder under the real name.
func removeAll(path string) error {
	if _, err := os.Lstat(path); errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	trash := filepath.Join(filepath.Dir(path), ".trash-"+filepath.Base(path)+fmt.Sprintf("-%d", time.Now().UnixNano()))
	if err := os.Rename(path, trash); err != nil {
		return fmt.Errorf("remove %s: %w", path, err)
	}
	return os.RemoveAll(trash)
}

func checkName(kind, name string) error {
	for what, s := range map[string]string{"kind": kind, "name": name} {
		if s == "" || strings.HasPrefix(s, ".") || strings.ContainsAny(s, `/\:*?"<>| `) {
			return fmt.Errorf("step cache: %s %q is not a plain folder name", what, s)
		}
	}
	return nil
}

// Lock takes the exclusive lock called name (for state a step updates in
// place, such as the private apt tree's package lists).
func (c *Cache) Lock(ctx context.Context, name string) (unlock func(), err error) {
	if err := checkName("lock", name); err != nil {
		return nil, err
	}
	return flock.Lock(ctx, filepath.Join(c.Root, ".locks", name+".lock"), func() {
		c.say("%s: another qemupack process holds it; waiting", name)
	})
}

// Pruned is one entry Prune removed.
type Pruned struct {
	Kind, Name, Dir string
	Used            time.Time
}

// Prune removes, for every kind and name, all but the Keep most recently
// used entries, skipping entries another run holds. It also removes
// leftovers of killed runs (temp and trash folders) that nobody holds.
func (c *Cache) Prune() ([]Pruned, error) {
	keep := c.Keep
	if keep <= 0 {
		keep = DefaultKeep
	}
	kinds, err := os.ReadDir(c.Root)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("step cache: prune: %w", err)
	}
	var out []Pruned
	for _, k := range kinds {
		if !k.IsDir() || strings.HasPrefix(k.Name(), ".") {
			continue
		}
		base := filepath.Join(c.Root, k.Name())
		ents, err := os.ReadDir(base)
		if err != nil {
			continue
		}
		type entry struct {
			id, dir string
			rec     Record
			used    time.Time
		}
		byName := map[string][]entry{}
		for _, d := range ents {
			if !d.IsDir() || strings.HasPrefix(d.Name(), ".") {
				continue
			}
			dir := filepath.Join(base, d.Name())
			rec, err := ReadRecord(dir)
			if err != nil || rec.Kind != k.Name() || len(rec.Key) < 16 || ID(rec.Name, rec.Key) != d.Name() {
				continue // not ours: leave it alone
			}
			used := rec.Made
			if fi, err := os.Stat(filepath.Join(dir, usedName)); err == nil {
				used = fi.ModTime()
			}
			byName[rec.Name] = append(byName[rec.Name], entry{d.Name(), dir, rec, used})
		}
		for name, es := range byName {
			sort.Slice(es, func(a, b int) bool { return es[a].used.After(es[b].used) })
			for _, e := range es[min(keep, len(es)):] {
				unlock, ok, err := flock.TryLock(filepath.Join(base, ".locks", e.id+".lock"))
				if err != nil || !ok {
					continue // in use by another run
				}
				err = removeAll(e.dir)
				if err == nil {
					os.Remove(filepath.Join(base, ".locks", e.id+".lock"))
				}
				unlock()
				if err != nil {
					return out, fmt.Errorf("step cache: prune %s: %w", e.dir, err)
				}
				out = append(out, Pruned{Kind: k.Name(), Name: name, Dir: e.dir, Used: e.used})
			}
		}
		c.pruneLeftovers(base)
	}
	return out, nil
}

// pruneLeftovers removes temp and scratch folders of entries nobody is
// making now (their lock is free), and trash of killed removals.
func (c *Cache) pruneLeftovers(base string) {
	for _, sub := range []string{".tmp", ".work"} {
		ents, _ := os.ReadDir(filepath.Join(base, sub))
		for _, d := range ents {
			id := d.Name()
			if sub == ".tmp" {
				if i := strings.LastIndexByte(id, '-'); i > 0 {
					id = id[:i]
				}
			}
			if fi, err := d.Info(); sub == ".work" && err == nil {
				if _, ferr := os.Stat(filepath.Join(base, id)); ferr != nil && time.Since(fi.ModTime()) < staleWork {
					continue // scratch of an unfinished resumable entry: kept for the resume
				}
			}
			unlock, ok, err := flock.TryLock(filepath.Join(base, ".locks", id+".lock"))
			if err != nil || !ok {
				continue
			}
			os.RemoveAll(filepath.Join(base, sub, d.Name()))
			unlock()
		}
	}
	trash, _ := filepath.Glob(filepath.Join(base, ".trash-*"))
	for _, t := range trash {
		os.RemoveAll(t)
	}
}
