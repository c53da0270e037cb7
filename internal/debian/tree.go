package debian

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"qemupack/internal/atomicfile"
	"qemupack/internal/flock"
	"qemupack/internal/run"
)

// DefaultMaxAge is how old the tree's package lists may be before Open
// updates them. Debian's archive is published four times a day (every six
// hours, security updates in between), so lists younger than that are at
// most one publication behind; Ubuntu publishes more often but a day-old
// list of its releases rarely misses a source package. A listed file that
// has since left the archive shows up as a *MissingFileError, never as a
// wrong file.
const DefaultMaxAge = 6 * time.Hour

// pruneAfter: another configuration's tree unused for this long is removed
// when a tree is opened.
const pruneAfter = 30 * 24 * time.Hour

// Options configure Open. The zero value reads the host's distribution,
// its suites plus the default further ones, for amd64.
type Options struct {
	// Suites are read beyond the host's own: nil means the default (see
	// Distro.HostSuites and the package doc), an empty non-nil list none.
	// Each is a suite of the distribution's archive ("trixie",
	// "sid", "noble-updates"); names ending in -security are read from
	// the security archive.
	Suites []string
	// Architectures of binary packages besides "all": nil means amd64.
	// The first is apt's native architecture.
	Architectures []string
	// MaxAge: older package lists are updated by Open (0: DefaultMaxAge).
	MaxAge time.Duration
	// Distro replaces the host's distribution (tests point it at a
	// loopback archive); nil reads <Root>/etc/os-release.
	Distro *Distro
	// Root is prefixed to /etc/os-release, /etc/apt and
	// /usr/share/distro-info ("" = the real root).
	Root string
	// NoHostSources leaves out the host's own apt sources; NoHostConfig
	// leaves out the host's apt network settings (proxies, Valid-Until).
	NoHostSources, NoHostConfig bool
	// Now is the clock (nil: time.Now).
	Now func() time.Time
	// Progress receives one line per step a user should see (nil: quiet).
	Progress func(string)
}

// Suite is one suite of an archive the tree reads.
type Suite struct {
	Name       string   `json:"name"` // "bookworm-security"
	URI        string   `json:"uri"`
	Keyring    string   `json:"keyring"`
	Components []string `json:"components"`
	// FromHost: the line comes from the host's own apt sources.
	FromHost bool `json:"from_host,omitempty"`
}

// Tree is a private apt tree: made once per run by Open and handed to
// every step that reads Debian's archive. Its methods may be called from
// several goroutines and processes at once.
type Tree struct {
	Dir    string
	Distro Distro
	Suites []Suite
	// Architectures of binary packages besides "all".
	Architectures []string
	// Updated is when the package lists were last fetched; Problems what
	// apt reported then (a suite it could not fetch, a bad signature):
	// the versions those suites list are missing or older.
	Updated  time.Time
	Problems []string
	// DidUpdate: this Open fetched the lists (another run had not, or
	// they were too old).
	DidUpdate bool

	conf     string
	proxies  map[string]string // scheme → the host apt's proxy (Acquire::<scheme>::Proxy)
	progress func(string)
	mu       sync.Mutex
	notes    map[string]bool
}

// ErrNoApt is wrapped by Open's error on a host without apt-get.
var ErrNoApt = errors.New("apt-get not found")

// stamp is the record of the last update, <tree>/updated.json.
type stamp struct {
	Time     time.Time `json:"time"`
	Key      string    `json:"key"`
	Problems []string  `json:"problems,omitempty"`
}

// Open returns the private apt tree under <cacheDir>/apt for the host's
// distribution and the options, making it on first use and updating its
// package lists when they are older than MaxAge (under a lock: two
// processes opening one tree update it once, and readers never see a
// half-updated tree).
func Open(ctx context.Context, cacheDir string, o Options) (*Tree, error) {
	if cacheDir == "" || !filepath.IsAbs(cacheDir) {
		return nil, fmt.Errorf("debian: the cache folder %q must be an absolute path", cacheDir)
	}
	for _, p := range []string{"apt-get", "apt-cache"} {
		if _, err := exec.LookPath(p); err != nil {
			return nil, fmt.Errorf("debian: %w: Debian's archive is read through apt, which only Debian and Ubuntu hosts have", ErrNoApt)
		}
	}
	var d Distro
	if o.Distro != nil {
		d = *o.Distro
	} else {
		var err error
		if d, err = HostDistro(o.Root); err != nil {
			return nil, fmt.Errorf("debian: %w", err)
		}
	}
	if _, err := os.Stat(d.Keyring); err != nil {
		pkg := "debian-archive-keyring"
		if d.ID == "ubuntu" {
			pkg = "ubuntu-keyring"
		}
		return nil, fmt.Errorf("debian: the archive keyring %s is missing (apt-get install %s): without it nothing from the archive can be verified", d.Keyring, pkg)
	}
	now := time.Now
	if o.Now != nil {
		now = o.Now
	}
	archs := o.Architectures
	if len(archs) == 0 {
		archs = []string{"amd64"}
	}
	t := &Tree{Distro: d, Architectures: archs, progress: o.Progress, notes: map[string]bool{}}
	further := o.Suites
	if further == nil {
		further = defaultFurther(d, releasesOf(o.Root, d.ID), now())
	}
	var skipped []string
	t.Suites, skipped = suitesFor(d, further, o)
	for _, s := range skipped {
		t.say("debian: leaving out the host's apt source %s", s)
	}
	var carried []string
	if !o.NoHostConfig {
		carried = hostAptSettings(ctx)
	}
	t.proxies = proxiesOf(carried)
	sources := t.sourcesList()
	key := keyOf(d.ID, d.Codename, strings.Join(archs, ","), sources, strings.Join(carried, "\n"))
	t.Dir = filepath.Join(cacheDir, "apt", d.Codename+"-"+key[:12])
	t.conf = filepath.Join(t.Dir, "qemupack-apt.conf")

	unlock, err := flock.Lock(ctx, t.lockPath(), func() {
		t.say("debian: another qemupack process is updating the package lists of %s; waiting", t.Dir)
	})
	if err != nil {
		return nil, fmt.Errorf("debian: %w", err)
	}
	defer unlock()
	if err := t.layout(sources, carried); err != nil {
		return nil, err
	}
	st, _ := readStamp(t.Dir)
	maxAge := o.MaxAge
	if maxAge <= 0 {
		maxAge = DefaultMaxAge
	}
	if st.Key == key && !st.Time.IsZero() && now().Sub(st.Time) < maxAge && now().After(st.Time.Add(-time.Minute)) {
		t.Updated, t.Problems = st.Time, st.Problems
	} else if err := t.update(ctx, key, now); err != nil {
		return nil, err
	}
	pruneTrees(filepath.Dir(t.Dir), t.Dir, now())
	return t, nil
}

func (t *Tree) say(format string, args ...any) {
	if t.progress != nil {
		t.progress(fmt.Sprintf(format, args...))
	}
}

// note says something once per tree.
func (t *Tree) note(s string) {
	t.mu.Lock()
	first := !t.notes[s]
	t.notes[s] = true
	t.mu.Unlock()
	if first {
		t.say("%s", s)
	}
}

func (t *Tree) lockPath() string { return filepath.Join(t.Dir, ".lock") }

func keyOf(parts ...string) string {
	h := sha256.New()
	h.Write([]byte("qemupack-apt-tree-1"))
	for _, p := range parts {
		h.Write([]byte{0})
		h.Write([]byte(p))
	}
	return hex.EncodeToString(h.Sum(nil))
}

// suitesFor lists the host's suites, the further ones, then the host's own
// apt sources for its release where they name another archive (a local
// mirror), each once.
func suitesFor(d Distro, further []string, o Options) (out []Suite, skipped []string) {
	seen := map[string]bool{}
	add := func(s Suite) {
		k := strings.TrimRight(s.URI, "/") + " " + s.Name
		if !seen[k] {
			seen[k] = true
			out = append(out, s)
		}
	}
	for _, name := range append(d.HostSuites(), further...) {
		uri := d.Archive
		if strings.HasSuffix(name, "-security") && d.Security != "" {
			uri = d.Security
		}
		add(Suite{Name: name, URI: uri, Keyring: d.Keyring, Components: d.Components})
	}
	if o.NoHostSources {
		return out, nil
	}
	for _, e := range ReadHostSources(filepath.Join(o.Root+"/", "etc", "apt")) {
		if e.Suite != d.Codename && !strings.HasPrefix(e.Suite, d.Codename+"-") {
			continue // another distribution's or a third party's repository
		}
		if !slices.Contains(e.Components, d.Components[0]) {
			continue
		}
		desc := fmt.Sprintf("%s %s %s", e.Type, e.URI, e.Suite)
		if e.Unusable != "" {
			skipped = append(skipped, desc+": "+e.Unusable)
			continue
		}
		if strings.HasPrefix(e.URI, "cdrom:") {
			continue
		}
		kr := e.SignedBy
		if kr == "" {
			kr = d.Keyring
		}
		add(Suite{Name: e.Suite, URI: strings.TrimRight(e.URI, "/"), Keyring: kr, Components: d.Components, FromHost: true})
	}
	return out, skipped
}

// sourcesList is the tree's sources.list: for every suite a deb-src line
// and deb lines for the architectures (Ubuntu serves architectures other
// than amd64 and i386 from its ports archive). Architecture-all packages
// come with them: Debian's and Ubuntu's indexes of each architecture list
// them too (their Release files say No-Support-for-Architecture-all), so
// "all" is not asked for separately. Asking for it fetched binary-all
// indexes that one mirror served out of step with its Release file, and
// apt then drops the whole suite's update.
func (t *Tree) sourcesList() string {
	var b strings.Builder
	b.WriteString("# Written by qemupack: the private apt tree's sources (see internal/debian).\n")
	for _, s := range t.Suites {
		comps := strings.Join(s.Components, " ")
		fmt.Fprintf(&b, "deb-src [signed-by=%s] %s %s %s\n", s.Keyring, s.URI, s.Name, comps)
		main, ports := []string{}, []string{}
		for _, a := range t.Architectures {
			if t.Distro.Ports != "" && a != "amd64" && a != "i386" && !s.FromHost {
				ports = append(ports, a)
			} else {
				main = append(main, a)
			}
		}
		if len(main) > 0 {
			fmt.Fprintf(&b, "deb [signed-by=%s arch=%s] %s %s %s\n", s.Keyring, strings.Join(main, ","), s.URI, s.Name, comps)
		}
		if len(ports) > 0 {
			fmt.Fprintf(&b, "deb [signed-by=%s arch=%s] %s %s %s\n", s.Keyring, strings.Join(ports, ","), t.Distro.Ports, s.Name, comps)
		}
	}
	return b.String()
}

// aptConf is the tree's whole apt configuration. Given through
// APT_CONFIG, it is read before anything else and moves every folder apt
// uses (Dir) into the tree, so the host's apt.conf.d, sources, lists and
// trusted keys are never read: the host's hooks do not run, and only the
// signed-by keyrings are trusted. What is carried over from the host's
// configuration is its network settings (carried).
func (t *Tree) aptConf(carried []string) string {
	var b strings.Builder
	q := func(s string) string { return `"` + strings.ReplaceAll(s, `"`, ``) + `"` }
	b.WriteString("// Written by qemupack: the private apt tree's configuration (see internal/debian).\n")
	fmt.Fprintf(&b, "Dir %s;\n", q(filepath.ToSlash(t.Dir)+"/"))
	fmt.Fprintf(&b, "Dir::State::status %s;\n", q(filepath.ToSlash(filepath.Join(t.Dir, "var", "lib", "dpkg", "status"))))
	// No pkgcache.bin: the source cache (srcpkgcache.bin) is enough for
	// an empty dpkg status, and it saves ~100 MB.
	b.WriteString("Dir::Cache::pkgcache \"\";\n")
	fmt.Fprintf(&b, "APT::Architecture %s;\n", q(t.Architectures[0]))
	b.WriteString("APT::Architectures {")
	for _, a := range t.Architectures {
		fmt.Fprintf(&b, " %s;", q(a))
	}
	b.WriteString(" };\n")
	b.WriteString("Acquire::Languages \"none\";\n")
	b.WriteString("Acquire::GzipIndexes \"true\";\n")
	b.WriteString("APT::Get::List-Cleanup \"true\";\n")
	if len(carried) > 0 {
		b.WriteString("// Carried over from the host's apt configuration:\n")
		for _, c := range carried {
			b.WriteString(c + "\n")
		}
	}
	return b.String()
}

// hostAptSettings are the host's apt settings about reaching the archive
// and judging its freshness: proxies and HTTP settings, Valid-Until and
// date checks (a host that reads a snapshot mirror turns them off), IPv4/6
// and retries. They are read with `apt-config dump` as the host's apt
// sees them.
func hostAptSettings(ctx context.Context) []string {
	out, err := run.Output(ctx, run.Cmd{Args: []string{"apt-config", "dump"}, Env: withoutAptConfig(run.Environ("LC_ALL=C"))})
	if err != nil {
		return nil
	}
	return carriedSettings(out)
}

func withoutAptConfig(env []string) []string {
	out := env[:0:0]
	for _, kv := range env {
		if !strings.HasPrefix(kv, "APT_CONFIG=") {
			out = append(out, kv)
		}
	}
	return out
}

// carriedSettings picks the network and freshness settings out of
// `apt-config dump` output.
func carriedSettings(dump string) []string {
	prefixes := []string{"Acquire::http::", "Acquire::https::", "Acquire::ftp::Proxy"}
	exact := []string{"Acquire::Check-Valid-Until", "Acquire::Check-Date", "Acquire::Max-ValidTime",
		"Acquire::Min-ValidTime", "Acquire::ForceIPv4", "Acquire::ForceIPv6", "Acquire::Retries"}
	var out []string
	for _, line := range strings.Split(dump, "\n") {
		k, v, ok := strings.Cut(strings.TrimSpace(line), " ")
		if !ok || !strings.HasSuffix(v, ";") || v == `"";` {
			continue
		}
		keep := slices.Contains(exact, k)
		for _, p := range prefixes {
			keep = keep || strings.HasPrefix(k, p)
		}
		if keep {
			out = append(out, k+" "+v)
		}
	}
	return out
}

// proxiesOf reads the plain Acquire::http::Proxy and
// Acquire::https::Proxy settings (not per-host ones) for the HEAD checks
// in Served, so they go the way apt's downloads go.
func proxiesOf(carried []string) map[string]string {
	out := map[string]string{}
	for _, c := range carried {
		k, v, _ := strings.Cut(c, " ")
		v = strings.Trim(strings.TrimSuffix(v, ";"), `"`)
		switch k {
		case "Acquire::http::Proxy":
			out["http"] = v
		case "Acquire::https::Proxy":
			out["https"] = v
		}
	}
	return out
}

// layout makes the tree's folders and files (the caller holds the lock).
func (t *Tree) layout(sources string, carried []string) error {
	for _, d := range []string{
		"etc/apt/apt.conf.d", "etc/apt/preferences.d", "etc/apt/sources.list.d", "etc/apt/trusted.gpg.d",
		"var/lib/apt/lists/partial", "var/cache/apt/archives/partial", "var/lib/dpkg", "var/log/apt", "tmp", "logs",
	} {
		if err := os.MkdirAll(filepath.Join(t.Dir, filepath.FromSlash(d)), 0o755); err != nil {
			return fmt.Errorf("debian: apt tree: %w", err)
		}
	}
	files := map[string]string{
		filepath.Join(t.Dir, "etc", "apt", "sources.list"): sources,
		t.conf: t.aptConf(carried),
		filepath.Join(t.Dir, "var", "lib", "dpkg", "status"): "",
	}
	for p, content := range files {
		if b, err := os.ReadFile(p); err == nil && string(b) == content {
			continue
		}
		if err := atomicfile.WriteFile(p, []byte(content), 0o644); err != nil {
			return fmt.Errorf("debian: apt tree: %w", err)
		}
	}
	return nil
}

func readStamp(dir string) (stamp, error) {
	var st stamp
	b, err := os.ReadFile(filepath.Join(dir, "updated.json"))
	if err != nil {
		return st, err
	}
	err = json.Unmarshal(b, &st)
	return st, err
}

// update runs apt-get update (the caller holds the lock). A suite apt
// could not fetch or verify is a problem, not a failure, as long as some
// suite's lists are there: the other suites still serve.
func (t *Tree) update(ctx context.Context, key string, now func() time.Time) error {
	t0 := time.Now()
	t.say("debian: updating the package lists of %d suites (%s)", len(t.Suites), t.suiteNames())
	var lines []string
	err := run.Run(ctx, run.Cmd{
		Args: []string{"apt-get", "update"},
		Dir:  t.Dir,
		Env:  t.env(),
		Log:  filepath.Join(t.Dir, "logs", "update.log"),
		Line: func(s string) { lines = append(lines, s) },
	})
	if ctx.Err() != nil {
		return fmt.Errorf("debian: apt-get update: %w", ctx.Err())
	}
	problems := t.aptProblems(lines)
	if !t.hasLists() {
		msg := strings.Join(problems, "\n  ")
		if msg == "" && err != nil {
			msg = err.Error()
		}
		return fmt.Errorf("debian: apt-get update fetched no package lists for %s (log: %s):\n  %s", t.suiteNames(), filepath.Join(t.Dir, "logs", "update.log"), msg)
	}
	for _, p := range problems {
		t.say("debian: %s", p)
	}
	st := stamp{Time: now(), Key: key, Problems: problems}
	b, _ := json.MarshalIndent(st, "", "  ")
	if err := atomicfile.WriteFile(filepath.Join(t.Dir, "updated.json"), append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("debian: %w", err)
	}
	t.Updated, t.Problems, t.DidUpdate = st.Time, problems, true
	t.say("debian: package lists updated in %.1f s", time.Since(t0).Seconds())
	return nil
}

func (t *Tree) suiteNames() string {
	var n []string
	for _, s := range t.Suites {
		if !slices.Contains(n, s.Name) {
			n = append(n, s.Name)
		}
	}
	return strings.Join(n, ", ")
}

// hasLists says whether any suite's Release file is in the lists.
func (t *Tree) hasLists() bool {
	ents, _ := os.ReadDir(filepath.Join(t.Dir, "var", "lib", "apt", "lists"))
	for _, e := range ents {
		if strings.HasSuffix(e.Name(), "_InRelease") || strings.HasSuffix(e.Name(), "_Release") {
			return true
		}
	}
	return false
}

// aptProblems keeps apt's E: and W: lines, in a user's words where apt's
// are unclear. The warning that apt downloaded as root rather than as its
// _apt user (the tree's folder is not reachable by _apt) becomes one note.
func (t *Tree) aptProblems(lines []string) []string {
	var out []string
	for _, l := range lines {
		l = strings.TrimSpace(l)
		var msg string
		switch {
		case strings.HasPrefix(l, "E: "), strings.HasPrefix(l, "W: "):
			msg = l[3:]
		default:
			continue
		}
		if strings.Contains(msg, "unsandboxed as root") {
			t.note(fmt.Sprintf("debian: apt downloaded as root, not as its _apt user: %s is not reachable by _apt (harmless; apt still checks every file)", t.Dir))
			continue
		}
		if strings.HasPrefix(msg, "Some index files failed to download") || strings.HasPrefix(msg, "Failed to fetch some archives") {
			continue
		}
		if !slices.Contains(out, msg) {
			out = append(out, msg)
		}
	}
	return out
}

// env is the environment apt runs with: the tree's configuration, C
// messages (parsed here).
func (t *Tree) env() []string {
	return run.Environ("APT_CONFIG="+t.conf, "LC_ALL=C", "LANG=C", "LANGUAGE=")
}

// pruneTrees removes other trees under base not updated for pruneAfter
// that nobody holds.
func pruneTrees(base, keep string, now time.Time) {
	ents, err := os.ReadDir(base)
	if err != nil {
		return
	}
	for _, e := range ents {
		dir := filepath.Join(base, e.Name())
		if !e.IsDir() || dir == keep {
			continue
		}
		st, err := readStamp(dir)
		if err != nil || now.Sub(st.Time) < pruneAfter {
			continue
		}
		unlock, ok, err := flock.TryLock(filepath.Join(dir, ".lock"))
		if err != nil || !ok {
			continue
		}
		os.RemoveAll(dir)
		unlock()
	}
}

// Updated says when the package lists of the tree in dir (a Tree.Dir)
// were last updated, and whether that is within DefaultMaxAge of now, so
// that Open would use them as they are.
func Updated(dir string, now time.Time) (time.Time, bool, error) {
	st, err := readStamp(dir)
	if err != nil {
		return time.Time{}, false, fmt.Errorf("debian: the package lists of %s: %w", dir, err)
	}
	fresh := !st.Time.IsZero() && now.Sub(st.Time) < DefaultMaxAge && now.After(st.Time.Add(-time.Minute))
	return st.Time, fresh, nil
}
