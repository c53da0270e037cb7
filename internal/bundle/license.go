package bundle

import (
	"bufio"
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"qemupack/internal/deps"
	"qemupack/internal/source"
	"qemupack/internal/stepcache"
)

// component is one licensed part of the bundle.
type component struct {
	Name  string        // folder under LICENSES/
	Files []licenseFile // its licence files
	Parts []string      // what in the bundle it covers
}

type licenseFile struct {
	Rel  string // path below LICENSES/<name>/
	Path string // on disk
}

func plainFiles(paths []string) []licenseFile {
	var out []licenseFile
	for _, p := range paths {
		out = append(out, licenseFile{Rel: filepath.Base(p), Path: p})
	}
	return out
}

// licenses finds the licence files of QEMU and of every component.
func licenses(in Input, cl *Closure, fw map[string]string, fwPkgs map[string]*Firmware, runtime map[string]string, held *[]*stepcache.Entry) ([]Entry, []component, error) {
	comps := map[string]*component{}
	add := func(name string, files []licenseFile, part string) {
		c := comps[name]
		if c == nil {
			c = &component{Name: name, Files: files}
			comps[name] = c
		}
		c.Parts = append(c.Parts, part)
	}
	q := in.Licenses["QEMU"]
	if len(q) == 0 {
		return nil, nil, fmt.Errorf("bundle: no licence file for QEMU itself (Input.Licenses[\"QEMU\"]: COPYING and COPYING.LIB of the source tree)")
	}
	add("QEMU", plainFiles(q), "qemu-*.exe")
	var paths []string
	for _, d := range cl.DLLs {
		paths = append(paths, d.Path)
	}
	for _, p := range fw {
		paths = append(paths, p)
	}
	lf := &licenseFinder{owners: newDpkgOwners(paths), cache: in.Cache, held: held}
	var missing []string
	need := func(part, path string) error {
		if files, ok := in.Licenses[strings.ToLower(filepath.Base(path))]; ok {
			add(strings.ToLower(filepath.Base(path)), plainFiles(files), part)
			return nil
		}
		name, files, err := lf.find(path)
		if err != nil {
			return err
		}
		if name == "" {
			missing = append(missing, fmt.Sprintf("%s (%s)", part, path))
			return nil
		}
		add(name, files, part)
		return nil
	}
	for _, d := range cl.DLLs {
		if err := need(d.Name, d.Path); err != nil {
			return nil, nil, err
		}
	}
	// Runtime data is covered by the licence of the DLL it is for.
	rtNames := make([]string, 0, len(runtime))
	for n := range runtime {
		rtNames = append(rtNames, n)
	}
	sort.Strings(rtNames)
	for _, n := range rtNames {
		if err := need(n, runtime[n]); err != nil {
			return nil, nil, err
		}
	}
	fwNames := make([]string, 0, len(fw))
	for n := range fw {
		fwNames = append(fwNames, n)
	}
	sort.Strings(fwNames)
	for _, n := range fwNames {
		if f := fwPkgs[n]; f != nil { // a packaged file: its package's copyright
			add(f.Package, plainFiles([]string{f.Copyright}), n)
			continue
		}
		if err := need(n, fw[n]); err != nil {
			return nil, nil, err
		}
	}
	if len(missing) > 0 {
		return nil, nil, fmt.Errorf("bundle: no licence found for:\n  %s\nfix: a library built by qemupack must install its licence files under <prefix>/share/licenses/<name>/ (or keep its source tarball in the cache); a host file must belong to a Debian package (its /usr/share/doc/<package>/copyright is used)",
			strings.Join(missing, "\n  "))
	}
	var out []Entry
	var list []component
	names := make([]string, 0, len(comps))
	for k := range comps {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, name := range names {
		c := comps[name]
		sort.Strings(c.Parts)
		list = append(list, *c)
		for _, f := range c.Files {
			out = append(out, Entry{Name: "LICENSES/" + name + "/" + f.Rel, Source: f.Path})
		}
	}
	return out, list, nil
}

// licenseFinder finds the licence of a file that goes into the bundle,
// in this order:
//   - a DLL in the bin folder of one of qemupack's deps prefixes: for a
//     merged stack prefix (stack.json) the library's own prefix is found
//     first; then <prefix>/share/licenses/<name>/, or, when the library did
//     not install its licence, the licence files (COPYING*, LICENSE*, ...)
//     of the source tarball the prefix was built from
//     (<cache>/sources/<sha256>/<file>, named in its deps.Manifest),
//     extracted once into a step cache entry;
//   - a prefix with share/licenses/<one folder>/;
//   - a file a Debian package installed: /usr/share/doc/<package>/copyright.
type licenseFinder struct {
	owners *dpkgOwners
	cache  *stepcache.Cache    // nil: licence texts are not taken from tarballs
	held   *[]*stepcache.Entry // the entries whose files the archive will read
	memo   map[string]licenseResult
}

type licenseResult struct {
	name  string
	files []licenseFile
}

func (lf *licenseFinder) find(file string) (string, []licenseFile, error) {
	prefix := filepath.Dir(filepath.Dir(file))
	if _, err := os.Stat(filepath.Join(prefix, deps.StackRecordName)); err == nil {
		st, err := deps.ReadStack(prefix)
		if err != nil {
			return "", nil, fmt.Errorf("bundle: %w", err)
		}
		for _, l := range st.Libs {
			if _, err := os.Stat(filepath.Join(l.Prefix, "bin", filepath.Base(file))); err == nil {
				prefix = l.Prefix
				break
			}
		}
	}
	if r, ok := lf.memo[prefix]; ok {
		return r.name, r.files, nil
	}
	name, files, err := lf.findInPrefix(prefix)
	if err != nil {
		return "", nil, err
	}
	if name == "" {
		if pkg := lf.owners.owner(file); pkg != "" {
			c := filepath.Join("/usr/share/doc", pkg, "copyright")
			if _, err := os.Stat(c); err == nil {
				return pkg, plainFiles([]string{c}), nil
			}
		}
		return "", nil, nil
	}
	if lf.memo == nil {
		lf.memo = map[string]licenseResult{}
	}
	lf.memo[prefix] = licenseResult{name, files}
	return name, files, nil
}

func (lf *licenseFinder) findInPrefix(prefix string) (string, []licenseFile, error) {
	dep, err := deps.ReadManifest(prefix)
	hasDep := err == nil && dep.Name != ""
	licDir := filepath.Join(prefix, "share", "licenses")
	if hasDep {
		if files := licenseFilesUnder(filepath.Join(licDir, dep.Name)); len(files) > 0 {
			return dep.Name, files, nil
		}
		if dep.Source != "" && dep.SHA256 != "" && lf.cache != nil {
			tarball := filepath.Join(filepath.Dir(filepath.Dir(prefix)), "sources", dep.SHA256, dep.Source)
			if _, err := os.Stat(tarball); err == nil {
				e, files, err := extractLicenses(lf.cache, tarball, dep.SHA256)
				if err != nil {
					return "", nil, err
				}
				*lf.held = append(*lf.held, e)
				if len(files) > 0 {
					return dep.Name, files, nil
				}
			}
		}
		return "", nil, nil
	}
	if ds, err := os.ReadDir(licDir); err == nil && len(ds) == 1 && ds[0].IsDir() {
		if files := licenseFilesUnder(filepath.Join(licDir, ds[0].Name())); len(files) > 0 {
			return ds[0].Name(), files, nil
		}
	}
	return "", nil, nil
}

func licenseFilesUnder(dir string) []licenseFile {
	var out []licenseFile
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			rel, _ := filepath.Rel(dir, p)
			out = append(out, licenseFile{Rel: filepath.ToSlash(rel), Path: p})
		}
		return nil
	})
	return out
}

// licenseName matches the usual names of licence files.
var licenseName = regexp.MustCompile(`(?i)^(copying|licen[cs]e|copyright|notice)([.-].*)?$`)

// licenseRules names the way extractLicenses picks files; change it when
// the rules change, so older extractions are not reused.
const licenseRules = "licenses-2"

// LicenseKind is the step cache kind of licence texts taken from tarballs.
const LicenseKind = "licenses"

// extractLicenses copies the licence files of a source tarball (those
// named like COPYING or LICENSE, at most three folders deep, not in test
// folders, and everything in a top-level LICENSES/ folder) into a step
// cache entry, once per tarball, and lists them.
func extractLicenses(cache *stepcache.Cache, tarball, sum string) (*stepcache.Entry, []licenseFile, error) {
	var in stepcache.Inputs
	in.Add("rules", licenseRules)
	in.Add("tarball", "sha256:"+sum)
	e, err := cache.Do(context.Background(), LicenseKind, "src-"+sum[:16], in, stepcache.Options{}, func(ctx context.Context, tmp, final, work string) error {
		_, err := source.ExtractWith(ctx, tarball, filepath.Join(tmp, "files"), source.Options{Select: licenseSelect})
		return err
	})
	if err != nil {
		return nil, nil, fmt.Errorf("bundle: licence files from %s: %w", tarball, err)
	}
	return e, licenseFilesUnder(filepath.Join(e.Dir, "files")), nil
}

// licenseSelect keeps the licence files of a tarball, named below its top
// folder.
func licenseSelect(name string, isDir bool) (string, bool, error) {
	if isDir {
		return "", false, nil
	}
	parts := strings.Split(name, "/")
	// REUSE-style trees (glib) keep the texts in LICENSES/<SPDX id>.txt.
	inLicenses := len(parts) == 3 && strings.EqualFold(parts[1], "licenses")
	if len(parts) < 2 || len(parts) > 4 || CheckName(name) != nil || (!inLicenses && !licenseName.MatchString(parts[len(parts)-1])) {
		return "", false, nil
	}
	for _, p := range parts[1 : len(parts)-1] {
		if strings.Contains(strings.ToLower(p), "test") {
			return "", false, nil
		}
	}
	return strings.Join(parts[1:], "/"), true, nil
}

// dpkgOwners answers "which Debian package installed this file" for a
// known set of paths, from dpkg's file lists (read once, keeping only the
// lines asked about).
type dpkgOwners struct {
	byPath map[string]string
}

func newDpkgOwners(paths []string) *dpkgOwners {
	o := &dpkgOwners{byPath: map[string]string{}}
	want := map[string]bool{}
	for _, p := range paths {
		want[p] = true
		// A file reached through a link (e.g. /usr/share/qemu/bios-microvm.bin
		// -> qboot.rom) belongs to the package of either name.
		if real, err := filepath.EvalSymlinks(p); err == nil {
			want[real] = true
		}
	}
	lists, _ := filepath.Glob("/var/lib/dpkg/info/*.list")
	for _, l := range lists {
		pkg := strings.TrimSuffix(filepath.Base(l), ".list")
		pkg, _, _ = strings.Cut(pkg, ":")
		f, err := os.Open(l)
		if err != nil {
			continue
		}
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if want[sc.Text()] {
				o.byPath[sc.Text()] = pkg
			}
		}
		f.Close()
	}
	return o
}

func (o *dpkgOwners) owner(path string) string {
	if p, ok := o.byPath[path]; ok {
		return p
	}
	if real, err := filepath.EvalSymlinks(path); err == nil {
		return o.byPath[real]
	}
	return ""
}
