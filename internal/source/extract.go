package source

import (
	"archive/tar"
	"archive/zip"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/mholt/archives"
)

// ErrUnsafeEntry is wrapped by Extract's error for an entry that would land
// outside the target folder.
var ErrUnsafeEntry = errors.New("entry escapes the target folder")

// ErrNotArchive is wrapped when the file is no archive Extract reads.
var ErrNotArchive = errors.New("not a tar or zip archive")

// Options tune an extraction.
type Options struct {
	// Select, when set, sees every entry's clean name and says what to do
	// with it: ok=false skips the entry, rel renames it (a clean relative
	// path), an error stops the extraction.
	Select func(name string, isDir bool) (rel string, ok bool, err error)
	// NoLinks refuses symbolic and hard links (an archive about to be run).
	NoLinks bool
}

// Extract unpacks the archive at archive (tar, plain or compressed with
// gzip, bzip2, xz or zstd, or zip; recognised by content, not name) into
// dest, which must not exist yet. The tree is built in a temporary sibling
// folder and renamed to dest only when every entry was written, so a
// failed or refused archive leaves nothing at dest. Entries with absolute
// names, ".." parts, links that point outside dest (also through a chain
// of links), and writing through a link are refused.
//
// It returns the root of the tree: dest/<top> when the archive holds one
// top folder and nothing else (as release tarballs do), else dest.
func Extract(archive, dest string) (string, error) {
	return ExtractWith(context.Background(), archive, dest, Options{})
}

// ExtractWith is Extract with options.
func ExtractWith(ctx context.Context, archive, dest string, o Options) (string, error) {
	if _, err := os.Lstat(dest); err == nil {
		return "", fmt.Errorf("extract %s: %s already exists", archive, dest)
	}
	parent := filepath.Dir(dest)
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return "", fmt.Errorf("extract %s: %w", archive, err)
	}
	tmp, err := os.MkdirTemp(parent, "."+filepath.Base(dest)+".part-*")
	if err != nil {
		return "", fmt.Errorf("extract %s: %w", archive, err)
	}
	f, err := os.Open(archive)
	if err == nil {
		err = ExtractReader(ctx, f, tmp, o)
		f.Close()
	}
	if err != nil {
		os.RemoveAll(tmp)
		return "", fmt.Errorf("extract %s: %w", archive, err)
	}
	if err := os.Rename(tmp, dest); err != nil {
		os.RemoveAll(tmp)
		return "", fmt.Errorf("extract %s: %w", archive, err)
	}
	ents, err := os.ReadDir(dest)
	if err == nil && len(ents) == 1 && ents[0].IsDir() {
		return filepath.Join(dest, ents[0].Name()), nil
	}
	return dest, nil
}

// ExtractReader unpacks the archive r reads into the existing folder dir
// with the same checks as Extract (a .deb's data member, an archive in
// memory). A zip needs r to be an io.ReaderAt and io.Seeker (an *os.File).
func ExtractReader(ctx context.Context, r io.Reader, dir string, o Options) error {
	format, stream, err := archives.Identify(ctx, "", r)
	if err != nil {
		if errors.Is(err, archives.NoMatch) {
			return fmt.Errorf("%w (plain, gzip, bzip2, xz or zstd tar, or zip); the file may be an error page or damaged", ErrNotArchive)
		}
		return err
	}
	ex, ok := format.(archives.Extractor)
	if !ok {
		return fmt.Errorf("%w: a lone %s stream (plain, gzip, bzip2, xz or zstd tar, or zip expected)", ErrNotArchive, format.Extension())
	}
	kind := strings.TrimPrefix(format.Extension(), ".")
	if _, isZip := format.(archives.Zip); isZip {
		// zip reads its directory at the end: it needs the file itself.
		if s, ok := r.(io.Seeker); ok {
			if _, err := s.Seek(0, io.SeekStart); err != nil {
				return err
			}
			stream = r
		}
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return err
	}
	defer root.Close()
	w := &writer{root: root, o: o, made: map[string]bool{}, buf: make([]byte, 256*1024)}
	err = ex.Extract(ctx, stream, func(ctx context.Context, fi archives.FileInfo) error {
		w.n++
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := w.entry(fi); err != nil {
			if errors.Is(err, io.ErrUnexpectedEOF) {
				return fmt.Errorf("%s archive is truncated inside %s (download it again)", kind, fi.NameInArchive)
			}
			return err
		}
		return nil
	})
	if err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) && !strings.Contains(err.Error(), "truncated") {
			return fmt.Errorf("%s archive is truncated after %d entries (download it again)", kind, w.n)
		}
		if errors.Is(err, ErrUnsafeEntry) || strings.Contains(err.Error(), "truncated") {
			return err
		}
		return fmt.Errorf("%s archive is damaged after %d entries: %w", kind, w.n, err)
	}
	if w.n == 0 {
		return fmt.Errorf("%s archive holds no entries", kind)
	}
	return w.finish()
}

type link struct{ name, target string }

// writer puts entries into the folder through root, which confines every
// write to it.
type writer struct {
	root     *os.Root
	o        Options
	made     map[string]bool
	symlinks []string
	deferred []link // links Windows would not create, copied at the end
	buf      []byte
	n        int
}

func (w *writer) entry(fi archives.FileInfo) error {
	name, err := cleanName(fi.NameInArchive)
	if err != nil {
		return err
	}
	if name == "" { // "./"
		return nil
	}
	typ := entryType(fi)
	if w.o.Select != nil {
		rel, ok, err := w.o.Select(name, typ == tar.TypeDir)
		if err != nil {
			return err
		}
		if !ok {
			return nil
		}
		if name, err = cleanName(rel); err != nil || name == "" {
			return fmt.Errorf("%w: %s renamed to %q", ErrUnsafeEntry, fi.NameInArchive, rel)
		}
	}
	if w.o.NoLinks && (typ == tar.TypeSymlink || typ == tar.TypeLink) {
		return fmt.Errorf("%w: %s is a link (%s), and this archive may hold none", ErrUnsafeEntry, fi.NameInArchive, fi.LinkTarget)
	}
	if err := noSymlinkParent(w.root, name); err != nil {
		return err
	}
	root := w.root
	switch typ {
	case tar.TypeDir:
		if err := root.MkdirAll(name, 0o755); err != nil {
			return err
		}
		w.made[name] = true
	case tar.TypeReg:
		if err := mkParents(root, name, w.made); err != nil {
			return err
		}
		mode := os.FileMode(0o644)
		if fi.Mode()&0o111 != 0 {
			mode = 0o755
		}
		root.Remove(name)
		in, err := fi.Open()
		if err != nil {
			return fmt.Errorf("%s: %w", fi.NameInArchive, err)
		}
		defer in.Close()
		out, err := root.OpenFile(name, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, mode)
		if err != nil {
			return err
		}
		_, err = io.CopyBuffer(out, in, w.buf)
		if cerr := out.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			if errors.Is(err, io.ErrUnexpectedEOF) {
				return err
			}
			return fmt.Errorf("%s: %w", fi.NameInArchive, err)
		}
		// Keep the archive's times: autotools trees rerun autoconf when
		// configure looks older than configure.ac.
		if t := fi.ModTime(); !t.IsZero() {
			if err := root.Chtimes(name, t, t); err != nil {
				return err
			}
		}
	case tar.TypeSymlink:
		target := fi.LinkTarget
		if path.IsAbs(target) || filepath.IsAbs(target) || strings.HasPrefix(target, `\`) || filepath.VolumeName(target) != "" {
			return fmt.Errorf("%w: %s is a link to the absolute path %s", ErrUnsafeEntry, fi.NameInArchive, target)
		}
		resolved := path.Join(path.Dir(name), target)
		if resolved == ".." || strings.HasPrefix(resolved, "../") {
			return fmt.Errorf("%w: %s is a link to %s, outside the archive's folder", ErrUnsafeEntry, fi.NameInArchive, target)
		}
		if err := mkParents(root, name, w.made); err != nil {
			return err
		}
		root.Remove(name)
		if err := root.Symlink(target, name); err != nil {
			if runtime.GOOS == "windows" {
				w.deferred = append(w.deferred, link{name, resolved})
				return nil
			}
			return err
		}
		w.symlinks = append(w.symlinks, name)
	case tar.TypeLink:
		target, err := cleanName(fi.LinkTarget)
		if err != nil || target == "" {
			return fmt.Errorf("%w: hard link %s -> %s", ErrUnsafeEntry, fi.NameInArchive, fi.LinkTarget)
		}
		if st, err := root.Lstat(target); err == nil && st.Mode()&fs.ModeSymlink != 0 {
			return fmt.Errorf("%w: hard link %s -> %s, which is a symbolic link", ErrUnsafeEntry, fi.NameInArchive, fi.LinkTarget)
		}
		if err := mkParents(root, name, w.made); err != nil {
			return err
		}
		root.Remove(name)
		if err := root.Link(target, name); err != nil {
			w.deferred = append(w.deferred, link{name, target})
		}
	case tar.TypeXGlobalHeader, tar.TypeXHeader, tar.TypeGNULongName, tar.TypeGNULongLink:
		// metadata only
	default:
		// Devices, fifos: never in a source tarball; refuse rather than guess.
		return fmt.Errorf("%s: unsupported entry type %q", fi.NameInArchive, typ)
	}
	return nil
}

// finish checks that every link resolves inside the folder, following
// chains of links the way the system will (a link to "." lets "a/a/../.."
// climb out although the target reads as inside), then makes the copies
// for links this system could not create.
func (w *writer) finish() error {
	for _, name := range w.symlinks {
		if err := resolveInside(w.root, name); err != nil {
			return err
		}
	}
	for _, l := range w.deferred {
		if err := copyWithin(w.root, l.target, l.name); err != nil {
			return fmt.Errorf("link %s -> %s: %w", l.name, l.target, err)
		}
	}
	return nil
}

// resolveInside follows the link name through the tree in root, link by
// link, and fails when any step leaves the tree.
func resolveInside(root *os.Root, name string) error {
	var stack []string // the resolved components so far
	todo := strings.Split(name, "/")
	hops := 0
	for len(todo) > 0 {
		part := todo[0]
		todo = todo[1:]
		switch part {
		case "", ".":
			continue
		case "..":
			if len(stack) == 0 {
				return fmt.Errorf("%w: the link %s leads outside the archive's folder (through a chain of links)", ErrUnsafeEntry, name)
			}
			stack = stack[:len(stack)-1]
			continue
		}
		cur := strings.Join(append(append([]string{}, stack...), part), "/")
		fi, err := root.Lstat(cur)
		if err != nil || fi.Mode()&fs.ModeSymlink == 0 {
			stack = append(stack, part) // a file, a folder, or not there (a dangling link is harmless)
			continue
		}
		if hops++; hops > 40 {
			return fmt.Errorf("%w: the link %s loops", ErrUnsafeEntry, name)
		}
		target, err := root.Readlink(cur)
		if err != nil {
			return err
		}
		if path.IsAbs(target) {
			return fmt.Errorf("%w: the link %s leads to the absolute path %s", ErrUnsafeEntry, name, target)
		}
		todo = append(strings.Split(target, "/"), todo...)
	}
	return nil
}

// entryType maps an entry to the tar type flag it would have.
func entryType(fi archives.FileInfo) byte {
	switch h := fi.Header.(type) {
	case *tar.Header:
		if h.Typeflag == tar.TypeRegA {
			return tar.TypeReg
		}
		return h.Typeflag
	case tar.Header:
		if h.Typeflag == tar.TypeRegA {
			return tar.TypeReg
		}
		return h.Typeflag
	case zip.FileHeader, *zip.FileHeader:
	}
	switch m := fi.Mode(); {
	case m.IsDir():
		return tar.TypeDir
	case m&fs.ModeSymlink != 0:
		return tar.TypeSymlink
	case m.IsRegular():
		return tar.TypeReg
	}
	return tar.TypeFifo
}

// cleanName turns an archive entry name into a clean relative slash path,
// refusing absolute names and any ".." part.
func cleanName(name string) (string, error) {
	n := strings.ReplaceAll(name, `\`, "/")
	if path.IsAbs(n) || filepath.VolumeName(name) != "" || (len(n) > 1 && n[1] == ':') {
		return "", fmt.Errorf("%w: absolute name %s", ErrUnsafeEntry, name)
	}
	for _, part := range strings.Split(n, "/") {
		if part == ".." {
			return "", fmt.Errorf("%w: %s has a \"..\" part", ErrUnsafeEntry, name)
		}
	}
	c := path.Clean(n)
	if c == "." {
		return "", nil
	}
	return c, nil
}

// noSymlinkParent refuses an entry whose folder is (through) a symlink made
// by an earlier entry: writing through it could land anywhere.
func noSymlinkParent(root *os.Root, name string) error {
	parts := strings.Split(name, "/")
	for i := 1; i < len(parts); i++ {
		p := strings.Join(parts[:i], "/")
		fi, err := root.Lstat(p)
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		if fi.Mode()&fs.ModeSymlink != 0 {
			return fmt.Errorf("%w: %s would be written through the link %s", ErrUnsafeEntry, name, p)
		}
	}
	return nil
}

func mkParents(root *os.Root, name string, made map[string]bool) error {
	d := path.Dir(name)
	if d == "." || made[d] {
		return nil
	}
	if err := root.MkdirAll(d, 0o755); err != nil {
		return err
	}
	made[d] = true
	return nil
}

func copyWithin(root *os.Root, from, to string) error {
	in, err := root.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	fi, err := in.Stat()
	if err != nil {
		return err
	}
	if fi.IsDir() {
		return fmt.Errorf("links to folders need symlink support on this system")
	}
	out, err := root.OpenFile(to, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, fi.Mode().Perm())
	if err != nil {
		return err
	}
	_, err = io.Copy(out, in)
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	return err
}
