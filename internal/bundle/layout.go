package bundle

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"time"

	"qemupack/internal/atomicfile"
	"qemupack/internal/checksum"
	"qemupack/internal/flock"
	"qemupack/internal/stepcache"
)

// Input is everything one bundle is made from.
type Input struct {
	Stage   string   // the staged install: qemu-*.exe at the top, share/ beside them
	Version string   // as the archive names it, flavour included, e.g. "7.2.22-debian"
	Origin  string   // one line on where the source came from, for README.txt
	Targets []string // e.g. x86_64-softmmu: decides the firmware shipped
	Search  []SearchDir
	// Firmware are the firmware packages (see Firmware) searched, in order,
	// for each firmware file a target needs that the stage's share/ lacks.
	Firmware []Firmware
	// FirmwareDirs are host folders searched the same way when Firmware is
	// empty (Debian: /usr/share/seabios, /usr/lib/ipxe/qemu,
	// /usr/share/qemu): what the host happens to have, the older way.
	FirmwareDirs []string
	// Licenses maps a component ("QEMU", or a DLL's lower-case name) to its
	// licence files. Other components are found as licenseFinder describes.
	Licenses   map[string][]string
	BuildNotes []string // lines for README.txt's "how it was built"
	// Features and Lacks are what this build offers and what it does not,
	// one line each, for README.txt (none: the lists are left out).
	Features, Lacks []string
	Time            time.Time // entry time stamps (EpochTime)
	DistDir         string
	// Cache keeps the archives made and the licence texts taken from
	// tarballs (nil: every run writes the archive, and licences come only
	// from installed files).
	Cache *stepcache.Cache
	Log   func(string) // progress for the user (nil: silent)
	// Strip, when set (with a Cache), ships every program and DLL that
	// has symbols or DWARF stripped, and their debug files in the debug
	// archive (DebugName). The closure is read from the unstripped files:
	// a stripped file loses the symbols that name delay-load imports GNU
	// ld leaves out of the data directory (see internal/pe).
	Strip *Stripper
}

// Result says what Bundle made.
type Result struct {
	Archive Written
	Closure *Closure
	Top     string
	Skipped bool // dist/ already held this archive; nothing rewritten
	Spec    Spec
	// Debug is the debug archive (Path "" when nothing was stripped).
	Debug Written
	// Entries are the step cache entries the archive and its licence texts
	// are in, held until the caller releases them.
	Entries []*stepcache.Entry
}

// Name returns the archive's top folder for a version: qemu-<version>-win64.
func Name(version string) string { return "qemu-" + version + "-win64" }

func (in Input) logf(format string, args ...any) {
	if in.Log != nil {
		in.Log(fmt.Sprintf(format, args...))
	}
}

// Roots lists the staged programs and DLLs the closure starts from.
func Roots(stage string) ([]string, error) {
	ents, err := os.ReadDir(stage)
	if err != nil {
		return nil, fmt.Errorf("bundle: staged folder: %w", err)
	}
	var roots []string
	for _, e := range ents {
		n := strings.ToLower(e.Name())
		if !e.IsDir() && (strings.HasSuffix(n, ".exe") || strings.HasSuffix(n, ".dll")) {
			roots = append(roots, filepath.Join(stage, e.Name()))
		}
	}
	if len(roots) == 0 {
		return nil, fmt.Errorf("bundle: no .exe in the staged folder %s: run the build first (mage build)", stage)
	}
	return roots, nil
}

// Layout computes the closure and every archive entry.
func Layout(in Input) (Spec, *Closure, error) { return layout(context.Background(), in) }

func layout(ctx context.Context, in Input) (spec Spec, cl *Closure, err error) {
	roots, err := Roots(in.Stage)
	if err != nil {
		return Spec{}, nil, err
	}
	cl, err = Resolve(roots, in.Search)
	if err != nil {
		return Spec{}, nil, err
	}
	var held []*stepcache.Entry
	defer func() {
		if err != nil {
			for _, e := range held {
				e.Release()
			}
		}
	}()
	bins := append([]string(nil), roots...)
	for _, d := range cl.DLLs {
		bins = append(bins, d.Path)
	}
	ship, debug, err := in.strip(ctx, bins, cl, &held)
	if err != nil {
		return Spec{}, nil, err
	}
	dllSums := map[string]string{}
	for _, d := range cl.DLLs {
		dllSums[d.Path] = d.SHA256
	}
	var entries []Entry
	for _, b := range bins {
		e := Entry{Name: filepath.Base(b), Source: b, Exec: strings.HasSuffix(strings.ToLower(b), ".exe"), SHA256: ship[b].SHA256}
		if e.SHA256 == "" {
			e.SHA256 = dllSums[b] // hashed by the closure
		}
		if s := ship[b]; s.Path != "" {
			e.Source, e.Origin = s.Path, b
		}
		entries = append(entries, e)
	}

	// share/: the stage's own files, then firmware the targets need from
	// the firmware folders; links are followed (real files only).
	share := map[string]bool{}
	stageShare := filepath.Join(in.Stage, "share")
	if _, err := os.Stat(stageShare); err == nil {
		err := filepath.WalkDir(stageShare, func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			rel, _ := filepath.Rel(stageShare, p)
			rel = filepath.ToSlash(rel)
			st, err := os.Stat(p)
			if err != nil {
				return fmt.Errorf("bundle: staged %s: %w (a broken link?)", p, err)
			}
			if st.IsDir() {
				return nil // a link to a folder: not followed
			}
			if d.Type()&fs.ModeSymlink != 0 {
				inside := append([]string{in.Stage}, in.FirmwareDirs...)
				for _, f := range in.Firmware {
					inside = append(inside, f.Dir)
				}
				if err := linkInside(p, inside); err != nil {
					return err
				}
			}
			share[strings.ToLower(rel)] = true
			entries = append(entries, Entry{Name: "share/" + rel, Source: p})
			return nil
		})
		if err != nil {
			return Spec{}, nil, err
		}
	}
	fwSources := map[string]string{} // archive name -> source, for licences
	fwPkgs := map[string]*Firmware{} // archive name -> its package, when packaged
	find := func(name string) (string, error) {
		if len(in.Firmware) == 0 {
			return findIn(in.FirmwareDirs, name), nil
		}
		p, f, err := findFirmware(in.Firmware, name)
		if f != nil {
			fwPkgs["share/"+name] = f
		}
		return p, err
	}
	var missing []string
	need, optional, err := neededFirmware(in.Targets, len(in.FirmwareDirs) > 0 || len(in.Firmware) > 0)
	if err != nil {
		return Spec{}, nil, err
	}
	var absent []string // optional files none of the packages has: README.txt says so
	if len(in.Targets) > 0 && !share["keymaps/en-us"] {
		need["keymaps/"] = true // the VNC server's keymaps
	}
	for _, f := range sortedKeys(need) {
		if share[strings.ToLower(f)] {
			continue
		}
		if f == "keymaps/" {
			src, err := find("keymaps")
			if err != nil {
				return Spec{}, nil, err
			}
			if src == "" {
				missing = append(missing, "keymaps/")
				continue
			}
			ks, err := os.ReadDir(src)
			if err != nil {
				return Spec{}, nil, fmt.Errorf("bundle: %w", err)
			}
			for _, k := range ks {
				n := "keymaps/" + k.Name()
				if k.IsDir() || share[strings.ToLower(n)] {
					continue
				}
				p := filepath.Join(src, k.Name())
				entries = append(entries, Entry{Name: "share/" + n, Source: p})
				fwSources["share/"+n] = p
				if pkg := fwPkgs["share/keymaps"]; pkg != nil {
					fwPkgs["share/"+n] = pkg
				}
			}
			delete(fwPkgs, "share/keymaps")
			continue
		}
		src, err := find(f)
		if err != nil {
			return Spec{}, nil, err
		}
		if src == "" {
			if why, ok := optional[f]; ok {
				absent = append(absent, fmt.Sprintf("share\\%s: %s", f, why))
				continue
			}
			missing = append(missing, f)
			continue
		}
		entries = append(entries, Entry{Name: "share/" + f, Source: src})
		fwSources["share/"+f] = src
	}
	if len(missing) > 0 && len(in.Firmware) > 0 {
		var pkgs []string
		for _, f := range in.Firmware {
			pkgs = append(pkgs, f.Describe())
		}
		return Spec{}, nil, fmt.Errorf("bundle: firmware for %s not found in the stage's share/ nor in the firmware packages (%s): %s\nfix: add the Debian package that has them to the firmware list (internal/bundle/layout.go says what each target needs)",
			strings.Join(in.Targets, ", "), strings.Join(uniqStrings(pkgs), "; "), strings.Join(missing, ", "))
	}
	if len(missing) > 0 {
		return Spec{}, nil, fmt.Errorf("bundle: firmware for %s not found in the stage's share/ nor in %s: %s\nfix: on Debian/Ubuntu install seabios ipxe-qemu qemu-system-data",
			strings.Join(in.Targets, ", "), strings.Join(in.FirmwareDirs, ", "), strings.Join(missing, ", "))
	}

	// Data files DLLs read at run time (runtimeData), covered by the
	// DLL's licence.
	rt, rtOwners, err := runtimeEntries(ctx, cl)
	if err != nil {
		return Spec{}, nil, err
	}
	for _, e := range rt {
		if share[strings.ToLower(strings.TrimPrefix(e.Name, "share/"))] {
			return Spec{}, nil, fmt.Errorf("bundle: %s is both in the stage's share/ and runtime data of a DLL", e.Name)
		}
		entries = append(entries, e)
	}

	// LICENSES/: QEMU's own, then one folder per component of every DLL
	// and firmware file that did not come from QEMU's own build.
	lic, comps, err := licenses(in, cl, fwSources, fwPkgs, rtOwners, &held)
	if err != nil {
		return Spec{}, nil, err
	}
	entries = append(entries, lic...)
	entries = append(entries, Entry{Name: "README.txt", Data: readme(in, cl, comps, firmwareNotes(fwPkgs), absent, ship, len(debug) > 0)})
	sort.Slice(entries, func(i, j int) bool { return entries[i].Name < entries[j].Name })
	return Spec{Top: Name(in.Version), Entries: entries, Debug: debug, Time: in.Time, Held: held}, cl, nil
}

// strip makes the stripped copies of bins (Input.Strip) and returns, by
// original path, what ships, and the debug archive's entries.
func (in Input) strip(ctx context.Context, bins []string, cl *Closure, held *[]*stepcache.Entry) (map[string]Stripped, []Entry, error) {
	ship := map[string]Stripped{}
	if in.Strip == nil || in.Cache == nil {
		return ship, nil, nil
	}
	sums := map[string]string{}
	for _, d := range cl.DLLs {
		sums[d.Path] = d.SHA256 // hashed by the closure already
	}
	// objcopy runs twice per file, on as many files at once as there are
	// cores: the 14 files of a QEMU 10.2.2 build took 4.1 s two at a time
	// against 5.1 s one at a time (medians of 5 on a busy 2-core machine;
	// objcopy waits on the disk about two thirds of the time).
	results := make([]Stripped, len(bins))
	errs := make([]error, len(bins))
	next := make(chan int)
	var wg sync.WaitGroup
	for w := 0; w < min(runtime.NumCPU(), len(bins)); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				b := bins[i]
				sum := sums[b]
				if sum == "" {
					var err error
					if sum, err = checksum.File(b); err != nil {
						errs[i] = fmt.Errorf("bundle: %w", err)
						continue
					}
				}
				results[i], errs[i] = in.Strip.Strip(ctx, in.Cache, b, sum)
			}
		}()
	}
	for i := range bins {
		next <- i
	}
	close(next)
	wg.Wait()
	var debug []Entry
	var firstErr error
	for i, b := range bins {
		s := results[i]
		if s.Entry != nil {
			*held = append(*held, s.Entry) // released by the caller, also on an error
		}
		if errs[i] != nil {
			if firstErr == nil {
				firstErr = errs[i]
			}
			continue
		}
		ship[b] = s
		if s.Debug != "" {
			debug = append(debug, Entry{Name: s.Name + ".debug", Source: s.Debug, SHA256: s.DebugSHA256})
		}
	}
	if firstErr != nil {
		return nil, nil, firstErr
	}
	sort.Slice(debug, func(i, j int) bool { return debug[i].Name < debug[j].Name })
	return ship, debug, nil
}

// linkInside checks that the link at p ends in one of the folders: a
// link in the stage may point at another staged file or at firmware, not
// at whatever the build machine can read (/etc/passwd).
func linkInside(p string, dirs []string) error {
	target, err := filepath.EvalSymlinks(p)
	if err != nil {
		return fmt.Errorf("bundle: staged %s: %w", p, err)
	}
	for _, d := range dirs {
		real, err := filepath.EvalSymlinks(d)
		if err != nil {
			continue
		}
		if rel, err := filepath.Rel(real, target); err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
			return nil
		}
	}
	return fmt.Errorf("bundle: staged %s links to %s, outside the stage and the firmware folders (%s): refusing to ship it", p, target, strings.Join(dirs, ", "))
}

func findIn(dirs []string, name string) string {
	for _, d := range dirs {
		p := filepath.Join(d, filepath.FromSlash(name))
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	return ""
}

// readme is README.txt: what the archive is, how it was built, how to start it.
func readme(in Input, cl *Closure, comps []component, fwNotes, fwAbsent []string, ship map[string]Stripped, debug bool) []byte {
	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format+"\r\n", args...) }
	w("QEMU %s for Windows (x64), portable", in.Version)
	w("")
	w("This folder is a complete QEMU: unpack it anywhere and run the programs")
	w("from it. Nothing needs to be installed and no PATH needs to be set: every")
	w("DLL the programs use that Windows does not ship is beside them, and the")
	w("firmware and keymaps are in share\\. Needs 64-bit Windows 10 or later.")
	w("")
	w("How to start it (in a Command Prompt or PowerShell in this folder):")
	w("")
	exes := []string{}
	for _, r := range cl.Roots {
		if strings.HasSuffix(strings.ToLower(r), ".exe") {
			exes = append(exes, filepath.Base(r))
		}
	}
	sort.Strings(exes)
	// The example is the PC emulator where there is one (the -cdrom,
	// -boot d and WHPX lines are about it), else the first.
	sys := ""
	for _, e := range exes {
		if strings.HasPrefix(e, "qemu-system-") && (sys == "" || e == "qemu-system-x86_64.exe") {
			sys = e
		}
	}
	if sys != "" {
		w("  .\\%s -version", sys)
		w("  .\\qemu-img.exe create -f qcow2 disk.qcow2 20G")
		w("  .\\%s -m 2G -drive file=disk.qcow2 -cdrom installer.iso -boot d", sys)
		w("")
		w("  Add -accel whpx to use the Windows Hypervisor Platform where it is enabled;")
		w("  without it QEMU emulates the CPU (TCG), which works everywhere but is slower.")
		w("  -nographic puts the guest's serial console in the terminal.")
	}
	w("")
	w("Programs: %s", strings.Join(exes, ", "))
	w("Targets:  %s", strings.Join(in.Targets, ", "))
	w("")
	if len(in.Features) > 0 {
		w("This build has:")
		for _, f := range in.Features {
			w("  - %s", f)
		}
		w("")
	}
	if len(in.Lacks) > 0 {
		w("Not in this build:")
		for _, f := range in.Lacks {
			w("  - %s", f)
		}
		w("")
	}
	for _, e := range exes {
		if strings.EqualFold(e, "qemu-ga.exe") {
			w("qemu-ga.exe is the guest agent for Windows guests: copy it into the guest")
			w("and run it there (qemu-ga.exe --service install; the host talks to it over")
			w("a virtio-serial port, -device virtio-serial -chardev socket,... -device")
			w("virtserialport,name=org.qemu.guest_agent.0). It is built without VSS")
			w("support (no Volume Shadow Copy provider): guest-fsfreeze-* commands and")
			w("consistent live snapshots of the guest's disks are not available.")
			w("")
		}
	}
	w("How it was built:")
	w("")
	if in.Origin != "" {
		w("  Source: %s", in.Origin)
	}
	for _, n := range in.BuildNotes {
		w("  %s", n)
	}
	w("  Cross-compiled with mingw-w64 and bundled by qemupack, which reads the")
	w("  import tables of every program and DLL to find exactly the DLLs needed.")
	if debug {
		w("  Programs and DLLs are stripped; their debug information is in")
		w("  %s.zip (one <name>.debug per file): unpack it into this", DebugName(in.Version))
		w("  folder and gdb finds it through each file's .gnu_debuglink.")
	}
	w("")
	if len(fwNotes) > 0 {
		w("Firmware from Debian's binary packages (the rest of share\\ is built from")
		w("this QEMU's own source):")
		for _, n := range fwNotes {
			w("  %s", n)
		}
		w("")
	}
	if len(fwAbsent) > 0 {
		w("Firmware not in this archive (no Debian package of the source's suite has")
		w("it; QEMU starts without it, but not the machines or guests named):")
		for _, n := range fwAbsent {
			w("  %s", n)
		}
		w("")
	}
	w("Bundled DLLs:")
	for _, d := range cl.DLLs {
		sum := d.SHA256
		if s, ok := ship[d.Path]; ok && s.SHA256 != "" {
			sum = s.SHA256 // the file as shipped (stripped)
		}
		w("  %-28s sha256 %s", filepath.Base(d.Path), sum)
	}
	w("")
	w("Licences: LICENSES\\ holds the licence of QEMU (GPL-2.0, some parts other")
	w("compatible licences) and of every bundled component:")
	for _, c := range comps {
		w("  LICENSES\\%s\\ covers %s", c.Name, strings.Join(summarize(c.Parts), ", "))
	}
	return []byte(b.String())
}

// summarize shortens a list of archive paths for README.txt: the keymaps
// become one item, and paths are written the Windows way.
func summarize(parts []string) []string {
	var out []string
	seen := map[string]bool{}
	for _, p := range parts {
		if strings.HasPrefix(p, "share/keymaps/") {
			p = "share/keymaps/*"
		}
		p = strings.ReplaceAll(p, "/", "\\")
		if !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	return out
}

// ArchiveKind is the step cache kind of finished archives.
const ArchiveKind = "archive"

// Bundle lays out the archive and puts it into DistDir with its line in
// SHA256SUMS. With a Cache the archive is made once per content (a step
// cache entry keyed by every entry's name and sha256) and copied to
// DistDir, which is left alone when it already holds those bytes.
func Bundle(ctx context.Context, in Input) (*Result, error) {
	start := time.Now()
	spec, cl, err := layout(ctx, in)
	if err != nil {
		return nil, err
	}
	res := &Result{Closure: cl, Top: spec.Top, Spec: spec, Entries: spec.Held}
	ok := false
	defer func() {
		if !ok {
			for _, e := range res.Entries {
				e.Release()
			}
		}
	}()
	in.logf("bundle: %d DLLs needed (%s); %d of Windows' own left out", len(cl.DLLs), strings.Join(cl.Names(), ", "), len(cl.System))
	for _, c := range cl.Conflicts {
		in.logf("bundle: note: %s from %s replaces differing copies in %s", c.Name, c.Chosen, strings.Join(c.Others, ", "))
	}
	dest := filepath.Join(in.DistDir, spec.Top+".zip")
	if in.Cache == nil {
		in.logf("bundle: writing %s (%d files)", dest, len(spec.Entries))
		w, err := WriteZip(ctx, spec, dest)
		if err != nil {
			return nil, err
		}
		if err := checksum.Record(in.DistDir, filepath.Base(dest), w.SHA256); err != nil {
			return nil, err
		}
		res.Archive = w
		ok = true
		return res, nil
	}
	w, copied, err := in.cachedZip(ctx, spec, dest, res)
	if err != nil {
		return nil, err
	}
	res.Archive, res.Skipped = w, !copied
	if copied {
		in.logf("bundle: %s: %.1f MB, checked (%s)", dest, float64(w.Size)/1e6, time.Since(start).Round(time.Millisecond))
	} else {
		in.logf("bundle: %s is up to date (the same content as the archive made earlier)", dest)
	}
	if len(spec.Debug) > 0 {
		dspec := Spec{Top: spec.Top, Entries: spec.Debug, Time: spec.Time}
		ddest := filepath.Join(in.DistDir, DebugName(in.Version)+".zip")
		dw, dcopied, err := in.cachedZip(ctx, dspec, ddest, res)
		if err != nil {
			return nil, err
		}
		res.Debug = dw
		if dcopied {
			in.logf("bundle: %s: %.1f MB, debug information of %d stripped programs and DLLs", ddest, float64(dw.Size)/1e6, len(spec.Debug))
		}
	}
	ok = true
	return res, nil
}

// cachedZip makes the zip of spec once per content (a step cache entry
// keyed by every entry's name and sha256), copies it to dest unless dest
// already holds those bytes, and records its line in SHA256SUMS. The
// entry joins res.Entries.
func (in Input) cachedZip(ctx context.Context, spec Spec, dest string, res *Result) (Written, bool, error) {
	key, err := fingerprint(spec)
	if err != nil {
		return Written{}, false, err
	}
	var inputs stepcache.Inputs
	inputs.Add("content", key)
	name := filepath.Base(dest)
	var made Written
	e, err := in.Cache.Do(ctx, ArchiveKind, strings.TrimSuffix(name, ".zip"), inputs, stepcache.Options{}, func(ctx context.Context, tmp, final, work string) error {
		in.logf("bundle: writing %s (%d files)", name, len(spec.Entries))
		w, err := writeZip(ctx, spec, filepath.Join(tmp, name), writeOptions{unlocked: true})
		made = w
		return err
	})
	if err != nil {
		return Written{}, false, err
	}
	res.Entries = append(res.Entries, e)
	w, copied, err := publish(ctx, filepath.Join(e.Dir, name), dest)
	if err != nil {
		return Written{}, false, err
	}
	if made.Entries > 0 {
		w.Entries = made.Entries
	}
	if err := checksum.Record(in.DistDir, name, w.SHA256); err != nil {
		return Written{}, false, err
	}
	return w, copied, nil
}

// publish puts a copy of the finished archive src at dest (temp file and
// rename, under dest's lock) unless dest already holds the same bytes.
func publish(ctx context.Context, src, dest string) (Written, bool, error) {
	sum, size, err := checksum.FileSize(src)
	if err != nil {
		return Written{}, false, fmt.Errorf("bundle: %w", err)
	}
	w := Written{Path: dest, Size: size, SHA256: sum, Entries: -1}
	if err := os.MkdirAll(filepath.Dir(dest), 0o755); err != nil {
		return w, false, fmt.Errorf("bundle: %w", err)
	}
	unlock, err := flock.Lock(ctx, filepath.Join(filepath.Dir(dest), "."+filepath.Base(dest)+".lock"), nil)
	if err != nil {
		return w, false, fmt.Errorf("bundle: %w", err)
	}
	defer unlock()
	if have, err := checksum.File(dest); err == nil && have == sum {
		return w, false, nil
	}
	if err := CleanStale(dest); err != nil {
		return w, false, err
	}
	in, err := os.Open(src)
	if err != nil {
		return w, false, fmt.Errorf("bundle: %w", err)
	}
	defer in.Close()
	err = atomicfile.WriteChecked(dest, 0o644, func(f *os.File) error {
		_, err := io.Copy(f, in)
		return err
	}, func(tmp string) error {
		if got, err := checksum.File(tmp); err != nil || got != sum {
			return fmt.Errorf("bundle: the copy of %s into %s came out different (%v)", src, dest, err)
		}
		return nil
	})
	if err != nil {
		return w, false, err
	}
	return w, true, nil
}

// fingerprint identifies the archive's content: every name with its
// content's sha256, the time and the archive format version.
func fingerprint(s Spec) (string, error) {
	items, err := plan(s)
	if err != nil {
		return "", err
	}
	h := sha256.New()
	fmt.Fprintf(h, "qemupack-zip-v1\n%d\n", s.Time.Unix())
	for _, it := range items {
		fmt.Fprintf(h, "%s %v %v %s\n", it.name, it.dir, it.entry.Exec, it.sha256)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

func uniqStrings(in []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range in {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}
