package bundle

import (
	stdzip "archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/klauspost/compress/zip"
	"github.com/mholt/archives"

	"qemupack/internal/atomicfile"
	"qemupack/internal/checksum"
	"qemupack/internal/flock"
	"qemupack/internal/stepcache"
)

// Entry is one file of the archive, below its top folder.
type Entry struct {
	Name   string // slash-separated path below the top folder
	Source string // a file on disk (links followed: the archive holds real files)
	Data   []byte // or the content itself, when Source is ""
	Exec   bool   // mode 0755 instead of 0644 (for unzip on Unix; Windows ignores it)
	// Origin is the build-machine file Source was made from when Source
	// is a derived copy (a stripped program in the step cache), or, for
	// Data made from a component's files (GTK's compiled schemas), a file
	// of that component (its DLL): what a bill of materials traces the
	// entry to.
	Origin string
	// SHA256 is Source's content sum when it is known already (hashed by
	// the closure, or recorded in a step cache entry): the archive's
	// fingerprint uses it instead of reading the file again, and a written
	// archive is checked against it.
	SHA256 string
}

// Spec is a whole archive.
type Spec struct {
	Top     string // the single top folder, e.g. qemu-7.2.22-debian-win64
	Entries []Entry
	// Debug are the entries of the debug archive (DebugName): one
	// <name>.debug per stripped program or DLL; none when nothing was
	// stripped.
	Debug []Entry
	// Time stamps every entry. Zip cannot hold times before 1980; earlier
	// values are raised to 1980-01-01.
	Time time.Time
	// Held are the step cache entries some entries' files are in (licence
	// texts), held until the archive is written; Bundle's Result carries
	// them on.
	Held []*stepcache.Entry
}

// DefaultEpoch is the entry time when SOURCE_DATE_EPOCH is not set: fixed,
// so that archives from the same inputs are byte-identical.
var DefaultEpoch = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

// EpochTime turns a SOURCE_DATE_EPOCH value (-1: unset) into the entry time.
func EpochTime(sde int64) time.Time {
	if sde < 0 {
		return DefaultEpoch
	}
	return time.Unix(sde, 0).UTC()
}

var zipFloor = time.Date(1980, 1, 1, 0, 0, 0, 0, time.UTC)

// Written describes an archive in place.
type Written struct {
	Path    string
	Size    int64
	SHA256  string
	Entries int // files and folders
}

// CheckName rejects an entry name that is not a plain relative path that
// stays inside its folder, or that a Windows machine could not hold: the
// archive is unpacked there.
func CheckName(name string) error {
	switch {
	case name == "":
		return errors.New("empty entry name")
	case !utf8.ValidString(name):
		return fmt.Errorf("entry %q: not UTF-8 (Windows tools would show or unpack another name)", name)
	case strings.Contains(name, "\\"):
		return fmt.Errorf("entry %q: backslash in a zip name (Windows would read it as a folder separator)", name)
	case strings.HasPrefix(name, "/"), len(name) >= 2 && name[1] == ':':
		return fmt.Errorf("entry %q: absolute path", name)
	case strings.ContainsRune(name, 0):
		return fmt.Errorf("entry %q: NUL in name", name)
	}
	for _, part := range strings.Split(name, "/") {
		if part == ".." {
			return fmt.Errorf("entry %q: escapes its folder", name)
		}
		if part == "" || part == "." {
			return fmt.Errorf("entry %q: empty or '.' path element", name)
		}
		if err := windowsName(part); err != nil {
			return fmt.Errorf("entry %q: %w", name, err)
		}
	}
	return nil
}

// windowsName rejects a path element Windows cannot create as named:
// reserved characters (":" would open an alternate data stream), control
// characters, a trailing dot or space (Windows drops it, so two names
// become one), and the device names (CON, NUL.txt, COM1 ...).
func windowsName(part string) error {
	if i := strings.IndexAny(part, `<>:"|?*`); i >= 0 {
		return fmt.Errorf("%q is not allowed in a Windows file name", part[i:i+1])
	}
	for _, r := range part {
		if r < 0x20 || r == 0x7f {
			return fmt.Errorf("a control character (%#x) in a file name", r)
		}
	}
	if strings.HasSuffix(part, ".") || strings.HasSuffix(part, " ") {
		return fmt.Errorf("%q ends in a dot or space, which Windows drops", part)
	}
	if deviceName.MatchString(strings.SplitN(part, ".", 2)[0]) {
		return fmt.Errorf("%q is a Windows device name", part)
	}
	return nil
}

// deviceName matches the part before the first dot of a name Windows
// opens as a device, whatever the extension (nul.txt is NUL).
var deviceName = regexp.MustCompile(`(?i)^(CON|PRN|AUX|NUL|CONIN\$|CONOUT\$|COM[1-9¹²³]|LPT[1-9¹²³]) *$`)

// item is an archive member with everything verification needs.
type item struct {
	name   string // full name in the archive ("top/..."; folders end in "/")
	dir    bool
	entry  Entry
	size   int64
	sha256 string
}

// plan checks the spec and returns every member, folders included, sorted.
func plan(s Spec) ([]item, error) {
	if err := CheckName(s.Top); err != nil || strings.Contains(s.Top, "/") {
		return nil, fmt.Errorf("archive top folder %q: must be one plain folder name", s.Top)
	}
	var items []item
	seen := map[string]string{}
	dirs := map[string]bool{}
	for _, e := range s.Entries {
		if err := CheckName(e.Name); err != nil {
			return nil, fmt.Errorf("archive: %w", err)
		}
		// Windows file names ignore case: two names differing only in
		// case would overwrite each other when unpacked there.
		k := strings.ToLower(e.Name)
		if prev, ok := seen[k]; ok {
			return nil, fmt.Errorf("archive: %q and %q name the same file on Windows", prev, e.Name)
		}
		seen[k] = e.Name
		it := item{name: s.Top + "/" + e.Name, entry: e}
		if e.Source != "" {
			st, err := os.Stat(e.Source)
			if err != nil {
				return nil, fmt.Errorf("archive: %s: %w", e.Name, err)
			}
			if !st.Mode().IsRegular() {
				return nil, fmt.Errorf("archive: %s: %s is not a regular file", e.Name, e.Source)
			}
			if e.SHA256 != "" {
				it.size, it.sha256 = st.Size(), e.SHA256
			} else {
				sum, n, err := checksum.FileSize(e.Source)
				if err != nil {
					return nil, fmt.Errorf("archive: %w", err)
				}
				it.size, it.sha256 = n, sum
			}
		} else {
			h := sha256.Sum256(e.Data)
			it.size, it.sha256 = int64(len(e.Data)), hex.EncodeToString(h[:])
		}
		items = append(items, it)
		for d := path.Dir(e.Name); d != "."; d = path.Dir(d) {
			dirs[d] = true
		}
	}
	for d := range dirs {
		if _, clash := seen[strings.ToLower(d)]; clash {
			return nil, fmt.Errorf("archive: %q is both a file and a folder", d)
		}
		items = append(items, item{name: s.Top + "/" + d + "/", dir: true})
	}
	items = append(items, item{name: s.Top + "/", dir: true})
	sort.Slice(items, func(i, j int) bool { return items[i].name < items[j].name })
	return items, nil
}

// fixedInfo is the fs.FileInfo each member is written with: fixed time and
// mode, so nothing of the build machine leaks into the bytes.
type fixedInfo struct {
	name string
	size int64
	mode fs.FileMode
	t    time.Time
}

func (f fixedInfo) Name() string       { return f.name }
func (f fixedInfo) Size() int64        { return f.size }
func (f fixedInfo) Mode() fs.FileMode  { return f.mode }
func (f fixedInfo) ModTime() time.Time { return f.t }
func (f fixedInfo) IsDir() bool        { return f.mode.IsDir() }
func (f fixedInfo) Sys() any           { return nil }

// memFile lets generated content be archived like a file.
type memFile struct {
	*bytes.Reader
	info fs.FileInfo
}

func (m memFile) Stat() (fs.FileInfo, error) { return m.info, nil }
func (m memFile) Close() error               { return nil }

// errWriter remembers the first write error: the archive library's Archive
// closes the zip writer in a defer and drops that error.
type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) Write(p []byte) (int, error) {
	if e.err != nil {
		return 0, e.err
	}
	n, err := e.w.Write(p)
	if err != nil {
		e.err = err
	}
	return n, err
}

// writeOptions holds test hooks.
type writeOptions struct {
	wrap func(io.Writer) io.Writer // wraps the temp file (to make writes fail)
	// unlocked: dest is in a folder only this writer uses (a step cache
	// entry being made), so no other writer needs to be kept out.
	unlocked bool
}

// WriteZip writes the archive to dest: into a temp file beside it, read
// back and checked entry by entry (names, sizes, sha256 against the
// sources), then renamed over dest with mode 0644. On any failure, or when
// ctx is cancelled, the temp file is removed and dest is left as it was.
// Temp files a killed earlier run left behind are removed first.
func WriteZip(ctx context.Context, s Spec, dest string) (Written, error) {
	return writeZip(ctx, s, dest, writeOptions{})
}

func writeZip(ctx context.Context, s Spec, dest string, opt writeOptions) (w Written, err error) {
	items, err := plan(s)
	if err != nil {
		return w, err
	}
	dir := filepath.Dir(dest)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return w, fmt.Errorf("archive: %w", err)
	}
	// One writer of dest at a time: another run writing the same archive
	// (same inputs, same bytes) waits, and nobody removes a temp file
	// another run is still writing.
	if !opt.unlocked {
		unlock, err := flock.Lock(ctx, filepath.Join(dir, "."+filepath.Base(dest)+".lock"), nil)
		if err != nil {
			return w, fmt.Errorf("archive: %w", err)
		}
		defer unlock()
		if err := CleanStale(dest); err != nil {
			return w, err
		}
	}

	t := s.Time.UTC()
	if t.Before(zipFloor) {
		t = zipFloor
	}
	files := make([]archives.FileInfo, len(items))
	for i, it := range items {
		mode := fs.FileMode(0o644)
		if it.dir {
			mode = fs.ModeDir | 0o755
		} else if it.entry.Exec {
			mode = 0o755
		}
		info := fixedInfo{name: path.Base(it.name), size: it.size, mode: mode, t: t}
		e := it.entry
		files[i] = archives.FileInfo{FileInfo: info, NameInArchive: it.name,
			Open: func() (fs.File, error) {
				if err := ctx.Err(); err != nil {
					return nil, err
				}
				if e.Source != "" {
					return os.Open(e.Source)
				}
				return memFile{bytes.NewReader(e.Data), info}, nil
			}}
	}
	fill := func(tmp *os.File) error {
		var out io.Writer = tmp
		if opt.wrap != nil {
			out = opt.wrap(out)
		}
		ew := &errWriter{w: out}
		z := archives.Zip{Compression: zip.Deflate}
		if err := z.Archive(ctx, ew, files); err != nil {
			return fmt.Errorf("archive %s: %w", filepath.Base(dest), err)
		}
		if ew.err != nil {
			return fmt.Errorf("archive %s: writing: %w", filepath.Base(dest), ew.err)
		}
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("archive %s: %w", filepath.Base(dest), err)
		}
		return nil
	}
	var sum string
	var size int64
	check := func(tmp string) error {
		if err := verify(tmp, items); err != nil {
			return fmt.Errorf("archive %s: read-back check failed, nothing written: %w", filepath.Base(dest), err)
		}
		var serr error
		sum, size, serr = checksum.FileSize(tmp)
		if serr != nil {
			return fmt.Errorf("archive: %w", serr)
		}
		return nil
	}
	if err := atomicfile.WriteChecked(dest, 0o644, fill, check); err != nil {
		return w, err
	}
	return Written{Path: dest, Size: size, SHA256: sum, Entries: len(items)}, nil
}

// CleanStale removes temp files an interrupted earlier write of dest left.
func CleanStale(dest string) error {
	if err := atomicfile.CleanStale(dest); err != nil {
		return fmt.Errorf("archive: %w", err)
	}
	return nil
}

// verify reads the archive with the standard library's reader (not the
// writer's) and checks it holds exactly items, in order, with the right
// sizes, content and compression.
func verify(file string, items []item) error {
	zr, err := stdzip.OpenReader(file)
	if err != nil {
		return err
	}
	defer zr.Close()
	if len(zr.File) != len(items) {
		return fmt.Errorf("%d entries, want %d", len(zr.File), len(items))
	}
	for i, f := range zr.File {
		it := items[i]
		if f.Name != it.name {
			return fmt.Errorf("entry %d is %q, want %q", i, f.Name, it.name)
		}
		if err := CheckName(strings.TrimSuffix(f.Name, "/")); err != nil {
			return err
		}
		if it.dir {
			if !f.FileInfo().IsDir() || f.UncompressedSize64 != 0 {
				return fmt.Errorf("%s: not an empty folder entry", f.Name)
			}
			continue
		}
		if f.Mode()&fs.ModeSymlink != 0 {
			return fmt.Errorf("%s: stored as a link", f.Name)
		}
		if int64(f.UncompressedSize64) != it.size {
			return fmt.Errorf("%s: %d bytes, want %d", f.Name, f.UncompressedSize64, it.size)
		}
		if f.Method != stdzip.Deflate {
			return fmt.Errorf("%s: compression method %d, want deflate", f.Name, f.Method)
		}
		rc, err := f.Open()
		if err != nil {
			return fmt.Errorf("%s: %w", f.Name, err)
		}
		h := sha256.New()
		_, err = io.Copy(h, rc)
		rc.Close()
		if err != nil {
			return fmt.Errorf("%s: %w", f.Name, err)
		}
		if got := hex.EncodeToString(h.Sum(nil)); got != it.sha256 {
			return fmt.Errorf("%s: sha256 %s, source has %s", f.Name, got, it.sha256)
		}
	}
	return nil
}
