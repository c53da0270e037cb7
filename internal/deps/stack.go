package deps

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"qemupack/internal/atomicfile"
	"qemupack/internal/config"
	"qemupack/internal/recipe"
	"qemupack/internal/source"
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
	CacheDir string          // the cache root (QEMUPACK_CACHE); prefixes go to <CacheDir>/deps
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
		tools, err := o.Tool.findBuildTools(r)
		if err != nil {
			return nil, err
		}
		key, err := Key(r, patches, o.Tool.ID()+toolsKey(tools), depKeys)
		if err != nil {
			return nil, err
		}
		it.Key = key
		it.Patches = patches
		it.Prefix = filepath.Join(o.CacheDir, "deps", r.Name+"-"+r.Version+"-"+key[:16])
		if _, err := os.Stat(filepath.Join(it.Prefix, ManifestName)); err == nil {
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
			if !named || !atLeast(min, v) {
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
		if v == "" || !atLeast(v, min) {
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
	b := &builder{tc: o.Tool, cache: filepath.Join(o.CacheDir, "deps"), fetcher: o.Fetcher}
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
		if !it.NeedsBuild {
			done[it.Name] = true
			if it.From == FromHost {
				pr.say(it.Name+" "+it.Version, fmt.Sprintf("host %s (%s)", it.Version, it.Prefix))
			} else {
				pr.say(it.Name+" "+it.Version, "cached "+it.Prefix)
			}
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
				err := b.build(ctx, j)
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
		res.it.From = FromBuilt
		res.it.NeedsBuild = false
		res.it.Seconds = res.took.Seconds()
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
	dir, err := joinStack(filepath.Join(o.CacheDir, "deps"), st.Libs)
	if err != nil {
		return nil, err
	}
	st.Dir = dir
	st.PkgConfigLibdir = append([]string{filepath.Join(dir, "lib", "pkgconfig")}, o.Tool.SysrootPkgConfigDirs()...)
	data, _ := json.MarshalIndent(st, "", "  ")
	if err := atomicfile.WriteFile(filepath.Join(dir, "stack.json"), append(data, '\n'), 0o644); err != nil {
		return nil, err
	}
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
// <deps>/stack-<hash of the keys>, built in a temporary folder and renamed.
func joinStack(depsDir string, libs []Lib) (string, error) {
	var keys []string
	for _, l := range libs {
		keys = append(keys, l.Name+"="+l.Key)
	}
	sort.Strings(keys)
	h := sha256.Sum256([]byte(strings.Join(keys, "\n")))
	dir := filepath.Join(depsDir, "stack-"+hex.EncodeToString(h[:])[:16])
	if _, err := os.Stat(filepath.Join(dir, "stack.json")); err == nil {
		return dir, nil
	}
	os.RemoveAll(dir) // an earlier run died before stack.json was written
	if err := os.MkdirAll(depsDir, 0o755); err != nil {
		return "", err
	}
	tmp, err := os.MkdirTemp(depsDir, ".stack-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(tmp)
	for _, l := range libs {
		if l.From == FromHost {
			continue
		}
		err := filepath.WalkDir(l.Prefix, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			rel, _ := filepath.Rel(l.Prefix, p)
			if rel == "." || rel == ManifestName {
				return nil
			}
			dst := filepath.Join(tmp, rel)
			switch {
			case d.IsDir():
				return os.MkdirAll(dst, 0o755)
			case d.Type()&fs.ModeSymlink != 0:
				t, err := os.Readlink(p)
				if err != nil {
					return err
				}
				return os.Symlink(t, dst)
			case strings.HasSuffix(p, ".pc"):
				data, err := os.ReadFile(p)
				if err != nil {
					return err
				}
				text := strings.ReplaceAll(string(data), filepath.ToSlash(l.Prefix), filepath.ToSlash(dir))
				return os.WriteFile(dst, []byte(text), 0o644)
			default:
				if _, err := os.Lstat(dst); err == nil {
					return nil // the same file from two libraries: first wins
				}
				if err := os.Link(p, dst); err == nil {
					return nil
				}
				return atomicfile.Copy(p, dst)
			}
		})
		if err != nil {
			return "", fmt.Errorf("deps: join stack (%s): %w", l.Name, err)
		}
	}
	if err := os.Rename(tmp, dir); err != nil {
		if _, serr := os.Stat(dir); serr == nil {
			return dir, nil
		}
		return "", fmt.Errorf("deps: join stack: %w", err)
	}
	return dir, nil
}
