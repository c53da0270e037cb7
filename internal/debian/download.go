package debian

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/user"
	"path"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"qemupack/internal/run"
)

// MissingFile is a file the archive lists but does not serve.
type MissingFile struct {
	Name   string `json:"name"`
	URL    string `json:"url"`
	Status string `json:"status"` // "404  Not Found"
}

// MissingFileError says which files of a listed version the archive does
// not serve (an index entry is not a promise that the files are there:
// a mirror may lag behind its index). A caller passes over that version.
type MissingFileError struct {
	Package, Version string
	Files            []MissingFile
}

func (e *MissingFileError) Error() string {
	var parts []string
	for _, f := range e.Files {
		parts = append(parts, fmt.Sprintf("%s (%s)", f.Name, strings.Join(strings.Fields(f.Status), " ")))
	}
	return fmt.Sprintf("%s %s is listed, but the archive does not serve %s", e.Package, e.Version, strings.Join(parts, ", "))
}

// "E: Failed to fetch http://.../qemu_11.1.3%2bds-1.dsc  404  Not Found [IP: ...]"
var failedFetch = regexp.MustCompile(`^E: Failed to fetch (\S+)\s+(\d{3}\s+[^\[]*)`)

// missingFiles picks the files apt could not fetch because the archive
// answered 404 or 410.
func missingFiles(lines []string) []MissingFile {
	var out []MissingFile
	for _, l := range lines {
		m := failedFetch.FindStringSubmatch(strings.TrimSpace(l))
		if m == nil || !(strings.HasPrefix(m[2], "404") || strings.HasPrefix(m[2], "410")) {
			continue
		}
		name := path.Base(m[1])
		if u, err := url.Parse(m[1]); err == nil {
			name = path.Base(u.Path)
		}
		out = append(out, MissingFile{Name: name, URL: m[1], Status: strings.TrimSpace(m[2])})
	}
	return out
}

// staging makes an empty folder in the tree for one download. As root,
// apt downloads as its unprivileged _apt user when that user can write
// the folder, so the folder is given to _apt (and the files back to root
// afterwards).
func (t *Tree) staging() (string, func(), error) {
	dir, err := os.MkdirTemp(filepath.Join(t.Dir, "tmp"), "dl-*")
	if err != nil {
		return "", nil, fmt.Errorf("debian: %w", err)
	}
	if os.Geteuid() == 0 {
		if u, err := user.Lookup("_apt"); err == nil {
			if uid, err := strconv.Atoi(u.Uid); err == nil {
				os.Chown(dir, uid, -1)
			}
		}
	}
	return dir, func() { os.RemoveAll(dir) }, nil
}

// aptGet runs apt-get in dir and returns its output lines.
func (t *Tree) aptGet(ctx context.Context, dir, logName string, args ...string) ([]string, error) {
	var lines []string
	err := run.Run(ctx, run.Cmd{
		Args: append([]string{"apt-get"}, args...),
		Dir:  dir,
		Env:  t.env(),
		Log:  filepath.Join(t.Dir, "logs", logName+".log"),
		Line: func(s string) { lines = append(lines, s) },
	})
	t.aptProblems(lines) // for the _apt note
	return lines, err
}

// moveOut moves the regular files of the staging folder into dir (made
// if missing), owned by us, and returns their names.
func moveOut(staging, dir string) ([]string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("debian: %w", err)
	}
	ents, err := os.ReadDir(staging)
	if err != nil {
		return nil, fmt.Errorf("debian: %w", err)
	}
	var names []string
	for _, e := range ents {
		if !e.Type().IsRegular() || strings.HasSuffix(e.Name(), ".FAILED") {
			continue
		}
		src := filepath.Join(staging, e.Name())
		if os.Geteuid() == 0 {
			os.Chown(src, 0, 0)
		}
		if err := os.Rename(src, filepath.Join(dir, e.Name())); err != nil {
			return names, fmt.Errorf("debian: %w", err)
		}
		names = append(names, e.Name())
	}
	return names, nil
}

// DownloadSource downloads the files of source package pkg at version
// (from whichever suite lists it) into dir, made if missing: apt checks
// each against the signed index. Files not served make a
// *MissingFileError; the files that did come are in dir either way.
func (t *Tree) DownloadSource(ctx context.Context, pkg, version, dir string) error {
	_, err := t.downloadSource(ctx, pkg, version, dir)
	return err
}

func (t *Tree) downloadSource(ctx context.Context, pkg, version, dir string) ([]string, error) {
	var got []string
	err := t.shared(ctx, func() error {
		stage, done, err := t.staging()
		if err != nil {
			return err
		}
		defer done()
		t0 := time.Now()
		lines, runErr := t.aptGet(ctx, stage, "source-"+pkg, "source", "--download-only", "--only-source", pkg+"="+version)
		got, err = moveOut(stage, dir)
		if err != nil {
			return err
		}
		if runErr == nil {
			t.say("debian: downloaded %s %s (%d files) in %.1f s", pkg, version, len(got), time.Since(t0).Seconds())
			return nil
		}
		if ctx.Err() != nil {
			return fmt.Errorf("debian: apt-get source %s=%s: %w", pkg, version, ctx.Err())
		}
		if miss := missingFiles(lines); len(miss) > 0 {
			return &MissingFileError{Package: pkg, Version: version, Files: miss}
		}
		return fmt.Errorf("debian: apt-get source %s=%s: %s", pkg, version, aptFailure(lines, runErr))
	})
	return got, err
}

// aptFailure is apt's own account of a failure: its E: lines, else the
// error.
func aptFailure(lines []string, err error) string {
	var es []string
	for _, l := range lines {
		if strings.HasPrefix(strings.TrimSpace(l), "E: ") {
			es = append(es, strings.TrimSpace(l)[3:])
		}
	}
	if len(es) == 0 {
		var re *run.Error
		if errors.As(err, &re) && re.Tail != "" {
			return re.Tail
		}
		return err.Error()
	}
	return strings.Join(es, "; ")
}

// DownloadSourceFile downloads, into dir, the version of source package
// pkg whose files include one with the given sha256 (the newest such
// version, from any suite), and returns the name and sha256 (from the
// signed index) of every file of it that came. That the wanted file came
// is the caller's check: another file of the version missing from the
// archive is no error then.
func (t *Tree) DownloadSourceFile(ctx context.Context, pkg, sha256, dir string) (map[string]string, error) {
	vs, err := t.SourceVersions(ctx, pkg)
	if err != nil {
		return nil, err
	}
	var tried []string
	for _, v := range vs {
		want := false
		sums := map[string]string{}
		for _, f := range v.Files {
			sums[f.Name] = f.SHA256
			want = want || strings.EqualFold(f.SHA256, sha256)
		}
		if !want {
			continue
		}
		got, err := t.downloadSource(ctx, pkg, v.Version, dir)
		out := map[string]string{}
		for _, n := range got {
			if s, ok := sums[n]; ok {
				out[n] = s
			}
		}
		for _, s := range out {
			if strings.EqualFold(s, sha256) {
				return out, nil
			}
		}
		if err == nil {
			err = fmt.Errorf("the file was not among those apt downloaded")
		}
		tried = append(tried, fmt.Sprintf("%s (%s): %v", v.Version, v.Suite, err))
	}
	if len(tried) == 0 {
		var have []string
		for _, v := range vs {
			have = append(have, v.Version+" ("+v.Suite+")")
		}
		if len(have) == 0 {
			return nil, fmt.Errorf("debian: no suite of %s lists a source package %s", t.suiteNames(), pkg)
		}
		return nil, fmt.Errorf("debian: no version of source package %s has a file with sha256 %s (the suites list %s)", pkg, sha256, strings.Join(have, ", "))
	}
	return nil, fmt.Errorf("debian: source package %s: %s", pkg, strings.Join(tried, "; "))
}

// DownloadBinary downloads binary package pkg at version into dir (made
// if missing) and returns the .deb's path; apt checks it against the
// signed index. arch "" or "all" takes the package as apt lists it for the
// native architecture (architecture-all packages are listed so).
func (t *Tree) DownloadBinary(ctx context.Context, pkg, version, arch, dir string) (string, error) {
	var out string
	err := t.shared(ctx, func() error {
		stage, done, err := t.staging()
		if err != nil {
			return err
		}
		defer done()
		spec := pkg
		if arch != "" && arch != "all" {
			spec += ":" + arch
		}
		spec += "=" + version
		t0 := time.Now()
		lines, runErr := t.aptGet(ctx, stage, "download-"+pkg, "download", spec)
		got, err := moveOut(stage, dir)
		if err != nil {
			return err
		}
		if runErr != nil {
			if ctx.Err() != nil {
				return fmt.Errorf("debian: apt-get download %s: %w", spec, ctx.Err())
			}
			if miss := missingFiles(lines); len(miss) > 0 {
				return &MissingFileError{Package: pkg, Version: version, Files: miss}
			}
			return fmt.Errorf("debian: apt-get download %s: %s", spec, aptFailure(lines, runErr))
		}
		for _, n := range got {
			if strings.HasSuffix(n, ".deb") {
				out = filepath.Join(dir, n)
			}
		}
		if out == "" {
			return fmt.Errorf("debian: apt-get download %s gave no .deb file", spec)
		}
		t.say("debian: downloaded %s in %.1f s", filepath.Base(out), time.Since(t0).Seconds())
		return nil
	})
	return out, err
}

// Served checks, without downloading them, that the archive serves every
// file of the source package (an HTTP HEAD each; a file: URL is looked
// up on disk). A file answered 404 or 410 makes a *MissingFileError;
// an archive that cannot be reached is an error too.
func (t *Tree) Served(ctx context.Context, sp SourcePkg) error {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.Proxy = func(r *http.Request) (*url.URL, error) {
		if p, ok := t.proxies[r.URL.Scheme]; ok {
			if p == "DIRECT" || p == "" {
				return nil, nil
			}
			return url.Parse(p)
		}
		return http.ProxyFromEnvironment(r)
	}
	client := &http.Client{Timeout: 20 * time.Second, Transport: tr}
	var miss []MissingFile
	for _, f := range sp.Files {
		if f.URL == "" {
			return fmt.Errorf("debian: %s %s: no URL known for %s", sp.Package, sp.Version, f.Name)
		}
		u, err := url.Parse(f.URL)
		if err != nil {
			return fmt.Errorf("debian: %s: %w", f.URL, err)
		}
		if u.Scheme == "file" {
			if _, err := os.Stat(u.Path); err != nil {
				miss = append(miss, MissingFile{Name: f.Name, URL: f.URL, Status: "not on disk"})
			}
			continue
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodHead, f.URL, nil)
		if err != nil {
			return fmt.Errorf("debian: %s: %w", f.URL, err)
		}
		resp, err := client.Do(req)
		if err != nil {
			return fmt.Errorf("debian: %s %s: cannot reach the archive: %w", sp.Package, sp.Version, err)
		}
		resp.Body.Close()
		switch {
		case resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusGone:
			miss = append(miss, MissingFile{Name: f.Name, URL: f.URL, Status: resp.Status})
		case resp.StatusCode >= 400:
			return fmt.Errorf("debian: %s %s: %s answered %s", sp.Package, sp.Version, f.URL, resp.Status)
		}
	}
	if len(miss) > 0 {
		return &MissingFileError{Package: sp.Package, Version: sp.Version, Files: miss}
	}
	return nil
}
