package deps

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"qemupack/internal/qversion"
	"sort"
	"strings"
	"sync"
	"time"

	"qemupack/internal/atomicfile"
	"qemupack/internal/config"
	"qemupack/internal/recipe"
	"qemupack/internal/source"
	"qemupack/internal/stepcache"
)

// From says where a library in the stack comes from.
type From string

const (
	FromBuilt  From = "built"  // built by this run
	FromCached From = "cached" // a complete prefix from an earlier run
	FromHost   From = "host"   // the host's mingw sysroot has it
)

// Lib is one library of the stack.
type Lib struct {
	Name    string            `json:"name"`
	Version string            `json:"version"`
	Key     string            `json:"key"`
	Prefix  string            `json:"prefix"`
	From    From              `json:"from"`
	Modules map[string]string `json:"modules"`
	Deps    []string          `json:"deps,omitempty"`
	Seconds float64           `json:"seconds,omitempty"`
}

// Options say what to build and where.
type Options struct {
	CacheDir string // the cache root (QEMUPACK_CACHE); prefixes go to <CacheDir>/deps
	// Cache is the step cache the prefixes and the stack are entries of
	// (default: one at CacheDir).
	Cache    *stepcache.Cache
	Recipes  []recipe.Recipe // every recipe there is
	PatchDir string          // patches/<name>/<version>/*.patch live here
	Want     []string        // pkg-config modules or recipe names (default QEMUModules)
	Mode     config.DepsMode // auto (default), host or recipes
	Jobs     int             // parallel compile jobs in all (default 1)
	Tool     Toolchain       // from ToolchainFrom
	Fetcher  *source.Fetcher // default: sources under <CacheDir>/sources, online
	Out      io.Writer       // progress (default: discarded)
	// HostMin, when not nil, is pick's rule for QEMUPACK_DEPS=auto and
	// host: pkg-config module -> the lowest version the picked QEMU
	// release accepts ("" = any), as pick.Result.HostMin gives it. A
	// recipe with a module named here uses the host's copy when it is at
	// least the highest minimum named for its modules, exactly when pick
	// said the host's is enough; recipes it does not name (libraries'
	// own dependencies, pcre2, libffi) keep their host_min. Nil: every
	// recipe's host_min (default: its own version).
	HostMin map[string]string
}

// Item is one library of a plan, before anything is built.
type Item struct {
	Lib
	Recipe     recipe.Recipe
	Patches    []string
	NeedsBuild bool

	inputs stepcache.Inputs
}

// Kind is the step cache kind of the library prefixes; StackKind that of
// the joined stack.
const (
	Kind      = "deps"
	StackKind = "stack"
)

func (o Options) cache() *stepcache.Cache {
	if o.Cache != nil {
		return o.Cache
	}
	return &stepcache.Cache{Root: o.CacheDir}
}

// Plan decides, without building, where every library comes from and what
// its key is. Items are in build order.
func Plan(ctx context.Context, o Options) ([]*Item, error) {
	want := o.Want
	if len(want) == 0 {
		want = QEMUModules
	}
	mode := o.Mode
	if mode == "" {
		mode = config.DepsAuto
	}
	rs, err := Select(o.Recipes, want)
	if err != nil {
		return nil, fmt.Errorf("deps: %w", err)
	}
	byName := map[string]*Item{}
	var items []*Item
	for _, r := range rs {
		it := &Item{Recipe: r, Lib: Lib{Name: r.Name, Version: r.Version, Modules: r.Provides, Deps: r.Deps}}
		if mode != config.DepsRecipes {
			if host, ok := hostHas(ctx, o.Tool, r, o.HostMin); ok {
				it.From = FromHost
				it.Prefix = host.sysroot
				it.Modules = host.modules
				it.Key = "host:" + r.Name + ":" + host.version
				byName[r.Name] = it
				items = append(items, it)
				continue
			}
			if mode == config.DepsHost {
				return nil, fmt.Errorf("deps: QEMUPACK_DEPS=host, but the host's mingw sysroots (%s) lack %s %s or newer; install it, or use QEMUPACK_DEPS=auto to build it from recipes/deps/%s.json",
					strings.Join(o.Tool.Sysroots, ", "), strings.Join(sortedKeys(r.Provides), "/"), orAny(hostMinOf(r, o.HostMin)), r.Name)
			}
		}
		patches, err := source.PatchFiles(filepath.Join(o.PatchDir, r.Name, r.Version))
		if err != nil {
			return nil, err
		}
		var depKeys []string
		for _, d := range r.Deps {
			depKeys = append(depKeys, byName[d].Key)
		}
		if r.Build == "cmake" && o.Tool.CMake == "" {
			return nil, o.Tool.needCMake(r.Name)
		}
		tools, err := o.Tool.findBuildTools(r)
		if err != nil {
			return nil, err
		}
		in, err := Inputs(r, patches, o.Tool.keyID(r.Build)+toolsKey(tools), depKeys)
		if err != nil {
			return nil, err
		}
		key, err := in.Key()
		if err != nil {
			return nil, err
		}
		it.Key = key
		it.Patches = patches
		it.inputs = in
		if it.Prefix, err = o.cache().Path(Kind, r.Name+"-"+r.Version, in); err != nil {
			return nil, err
		}
		if _, err := stepcache.ReadRecord(it.Prefix); err == nil {
			it.From = FromCached
		} else {
			it.NeedsBuild = true
		}
		byName[r.Name] = it
		items = append(items, it)
	}
	return items, nil
}

func minOf(r recipe.Recipe) string {
	if r.HostMin != "" {
		return r.HostMin
	}
	return r.Version
}

// hostMinOf is the lowest host version of r's library that will do: the
// highest minimum pick named for r's modules when it named any, else the
// recipe's host_min.
func hostMinOf(r recipe.Recipe, picked map[string]string) string {
	min, named := "", false
	for m := range r.Provides {
		if v, ok := picked[m]; ok {
			if !named || !qversion.AtLeast(min, v) {
				min = v
			}
			named = true
		}
	}
	if named {
		return min
	}
	return minOf(r)
}

func orAny(min string) string {
	if min == "" {
		return "(any version)"
	}
	return min
}

type hostLib struct {
	sysroot, version string
	modules          map[string]string
}

// hostHas reports whether the host sysroots have every module the recipe
// provides at hostMinOf's version or newer.
func hostHas(ctx context.Context, tc Toolchain, r recipe.Recipe, picked map[string]string) (hostLib, bool) {
	h := hostLib{modules: map[string]string{}}
	min := hostMinOf(r, picked)
	for _, m := range sortedKeys(r.Provides) {
		v := tc.HostModule(ctx, m)
		if v == "" || !qversion.AtLeast(v, min) {
			return h, false
		}
		h.modules[m] = v
		h.version = v
	}
	if len(tc.Sysroots) > 0 {
		h.sysroot = tc.Sysroots[0]
	}
	return h, len(h.modules) > 0
}

// Stack is the result of Build.
type Stack struct {
	Libs []Lib `json:"libs"`
	// Dir is one prefix holding every built library (hard links or copies,
	// .pc files rewritten to point at Dir), keyed by the set of keys.
	Dir string `json:"dir"`
	// PkgConfigLibdir is what QEMU's build should use as PKG_CONFIG_LIBDIR:
	// the stack's pkg-config folder, then the host sysroots'.
	PkgConfigLibdir []string `json:"pkg_config_libdir"`
	Built           int      `json:"built"`
	Cached          int      `json:"cached"`
	Host            int      `json:"host"`

	// Entries are the step cache entries the stack is made of, held until
	// the caller releases them (the pipeline does when its run ends).
	Entries []*stepcache.Entry `json:"-"`
}

// StackRecordName is the record the deps step writes into every stack.
const StackRecordName = "stack.json"

// ReadStack reads the record of the stack prefix at dir (the one reader
// of stack.json every other package uses).
func ReadStack(dir string) (*Stack, error) {
	data, err := os.ReadFile(filepath.Join(dir, StackRecordName))
	if err != nil {
		return nil, fmt.Errorf("deps: %s is not a library stack: %w", dir, err)
	}
	var st Stack
	if err := json.Unmarshal(data, &st); err != nil {
		return nil, fmt.Errorf("deps: %s: %w", filepath.Join(dir, StackRecordName), err)
	}
	return &st, nil
}

type progress struct {
	mu  sync.Mutex
	out io.Writer
	n   int
	idx map[string]int
	cur int
}

func (p *progress) say(name, msg string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	i, ok := p.idx[name]
	if !ok {
		p.cur++
		i = p.cur
		p.idx[name] = i
	}
	fmt.Fprintf(p.out, "[%d/%d] %s: %s\n", i, p.n, name, msg)
}

// Build builds every library the plan needs (independent ones in
// parallel, Jobs compile jobs in all), then joins the stack. On a failure
// the libraries already running finish (their prefixes stay cached) and
// the first error is returned.
func Build(ctx context.Context, o Options) (*Stack, error) {
	if o.Out == nil {
		o.Out = io.Discard
	}
	if o.Jobs < 1 {
		o.Jobs = 1
	}
	if o.Fetcher == nil {
		o.Fetcher = &source.Fetcher{CacheDir: filepath.Join(o.CacheDir, "sources")}
	}
	items, err := Plan(ctx, o)
	if err != nil {
		return nil, err
	}
	pr := &progress{out: o.Out, n: len(items), idx: map[string]int{}}
	b := &builder{tc: o.Tool, cache: o.CacheDir, fetcher: o.Fetcher}
	cache := o.cache()
	var entries []*stepcache.Entry
	var entriesMu sync.Mutex
	keep := func(e *stepcache.Entry) {
		entriesMu.Lock()
		entries = append(entries, e)
		entriesMu.Unlock()
	}
	ok := false
	defer func() {
		if !ok {
			for _, e := range entries {
				e.Release()
			}
		}
	}()
	byName := map[string]*Item{}
	for _, it := range items {
		byName[it.Name] = it
	}
	// Dependents count: libraries many others wait for start first.
	weight := map[string]int{}
	var countDeps func(n string, seen map[string]bool)
	countDeps = func(n string, seen map[string]bool) {
		for _, d := range byName[n].Recipe.Deps {
			if !seen[d] {
				seen[d] = true
				weight[d]++
				countDeps(d, seen)
			}
		}
	}
	for _, it := range items {
		countDeps(it.Name, map[string]bool{})
	}

	done := map[string]bool{}
	failed := map[string]bool{}
	for _, it := range items {
		switch {
		case it.From == FromHost:
			done[it.Name] = true
			pr.say(it.Name+" "+it.Version, fmt.Sprintf("host %s (%s)", it.Version, it.Prefix))
		case !it.NeedsBuild:
			// Held like every entry this run uses, so no other run prunes
			// it meanwhile; a damaged or vanished prefix is built again.
			e, err := cache.Do(ctx, Kind, it.Name+"-"+it.Version, it.inputs, stepcache.Options{}, nil)
			if err != nil {
				it.NeedsBuild, it.From = true, ""
				continue
			}
			keep(e)
			done[it.Name] = true
			pr.say(it.Name+" "+it.Version, "cached "+it.Prefix)
		}
	}
	type result struct {
		it    *Item
		share int
		err   error
		took  time.Duration
	}
	results := make(chan result)
	free := o.Jobs
	running := 0
	started := map[string]bool{}
	var errs []error
	for {
		var ready []*Item
		for _, it := range items {
			if !it.NeedsBuild || started[it.Name] || done[it.Name] {
				continue
			}
			ok := true
			for _, d := range it.Recipe.Deps {
				if failed[d] {
					// A dependency failed: this one cannot build.
					failed[it.Name] = true
					started[it.Name] = true
					ok = false
					break
				}
				if !done[d] {
					ok = false
				}
			}
			if ok {
				ready = append(ready, it)
			}
		}
		sort.SliceStable(ready, func(a, c int) bool { return weight[ready[a].Name] > weight[ready[c].Name] })
		for len(ready) > 0 && free > 0 && len(errs) == 0 {
			// The last library ready waits for every job slot rather than
			// crawling at -j1 beside one that ends soon (glib after pixman).
			if len(ready) == 1 && running > 0 && free < o.Jobs {
				break
			}
			share := free / len(ready)
			if share < 1 {
				share = 1
			}
			it := ready[0]
			ready = ready[1:]
			free -= share
			running++
			started[it.Name] = true
			j := b.jobFor(it, byName, share, pr)
			go func() {
				t0 := time.Now()
				e, err := cache.Do(ctx, Kind, it.Name+"-"+it.Version, it.inputs, stepcache.Options{}, func(ctx context.Context, tmp, final, work string) error {
					return b.build(ctx, j, tmp, work)
				})
				if err == nil {
					keep(e)
					if e.Hit { // another run made it while this one waited
						it.From = FromCached
					}
				}
				results <- result{it, share, err, time.Since(t0)}
			}()
		}
		if running == 0 {
			break
		}
		res := <-results
		running--
		free += res.share
		label := res.it.Name + " " + res.it.Version
		if res.err != nil {
			failed[res.it.Name] = true
			errs = append(errs, res.err)
			pr.say(label, "FAILED")
			continue
		}
		done[res.it.Name] = true
		if res.it.From != FromCached {
			res.it.From = FromBuilt
		}
		res.it.NeedsBuild = false
		res.it.Seconds = res.took.Seconds()
		if res.it.From == FromCached {
			pr.say(label, "another qemupack run built it meanwhile; reusing "+res.it.Prefix)
			continue
		}
		pr.say(label, fmt.Sprintf("built in %s, link test passed -> %s", res.took.Round(100*time.Millisecond), res.it.Prefix))
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	st := &Stack{}
	for _, it := range items {
		st.Libs = append(st.Libs, it.Lib)
		switch it.From {
		case FromBuilt:
			st.Built++
		case FromCached:
			st.Cached++
		case FromHost:
			st.Host++
		}
	}
	e, err := joinStack(ctx, cache, st, o.Tool.SysrootPkgConfigDirs())
	if err != nil {
		return nil, err
	}
	keep(e)
	rec, err := ReadStack(e.Dir)
	if err != nil {
		return nil, err
	}
	st.Dir, st.PkgConfigLibdir = rec.Dir, rec.PkgConfigLibdir
	ok = true
	st.Entries = entries
	return st, nil
}

func (b *builder) jobFor(it *Item, byName map[string]*Item, share int, pr *progress) *job {
	var deps []*Lib
	seen := map[string]bool{}
	var walk func(n string)
	walk = func(n string) {
		for _, d := range byName[n].Recipe.Deps {
			if !seen[d] {
				seen[d] = true
				walk(d)
				deps = append(deps, &byName[d].Lib)
			}
		}
	}
	walk(it.Name)
	label := it.Name + " " + it.Version
	return &job{r: it.Recipe, key: it.Key, prefix: it.Prefix, patches: it.Patches, deps: deps, jobs: share,
		say: func(step string) { pr.say(label, step) }}
}

// joinStack makes (or finds) the stack prefix for this set of libraries:
// one step cache entry keyed by the libraries' keys, holding every built
// library's files (hard links, or copies across file systems) with the .pc
// files pointed at the stack, and stack.json. The counters (built, cached)
// are this run's news, not part of the stack: the record keeps the
// libraries and where they are.
func joinStack(ctx context.Context, cache *stepcache.Cache, st *Stack, sysrootPC []string) (*stepcache.Entry, error) {
	var in stepcache.Inputs
	in.Add("builder", BuilderVersion)
	var keys []string
	for _, l := range st.Libs {
		keys = append(keys, l.Name+"="+l.Key)
	}
	sort.Strings(keys)
	in.AddList("libraries", keys)
	in.AddList("sysroot-pkgconfig", sysrootPC)
	return cache.Do(ctx, StackKind, "stack", in, stepcache.Options{}, func(ctx context.Context, tmp, final, work string) error {
		for _, l := range st.Libs {
			if l.From == FromHost {
				continue
			}
			if err := linkTree(l.Prefix, tmp, final); err != nil {
				return fmt.Errorf("deps: join stack (%s): %w", l.Name, err)
			}
		}
		rec := Stack{Libs: st.Libs, Dir: final, PkgConfigLibdir: append([]string{filepath.Join(final, "lib", "pkgconfig")}, sysrootPC...)}
		for i := range rec.Libs {
			rec.Libs[i].Seconds = 0
			if rec.Libs[i].From != FromHost {
				rec.Libs[i].From = FromCached
			}
		}
		data, _ := json.MarshalIndent(rec, "", "  ")
		return atomicfile.WriteFile(filepath.Join(tmp, StackRecordName), append(data, '\n'), 0o644)
	})
}

// linkTree puts the files of the prefix into dst (hard links, copies where
// links fail), .pc files rewritten from the prefix to final.
func linkTree(prefix, dst, final string) error {
	return filepath.WalkDir(prefix, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(prefix, p)
		if rel == "." || rel == ManifestName || rel == stepcache.RecordName || strings.HasPrefix(rel, ".qemupack-") {
			return nil
		}
		to := filepath.Join(dst, rel)
		switch {
		case d.IsDir():
			return os.MkdirAll(to, 0o755)
		case d.Type()&fs.ModeSymlink != 0:
			t, err := os.Readlink(p)
			if err != nil {
				return err
			}
			return os.Symlink(t, to)
		case strings.HasSuffix(p, ".pc"):
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			text := strings.ReplaceAll(string(data), filepath.ToSlash(prefix), filepath.ToSlash(final))
			return os.WriteFile(to, []byte(text), 0o644)
		default:
			if _, err := os.Lstat(to); err == nil {
				return nil // the same file from two libraries: first wins
			}
			if err := os.Link(p, to); err == nil {
				return nil
			}
			return atomicfile.Copy(p, to)
		}
	})
}
