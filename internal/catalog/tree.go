package catalog

import (
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
	"sort"
	"strings"

	"github.com/mholt/archives"
)

// The files of a release tree the parser reads. Everything else is only
// looked at by name (does meson/meson.py exist, which wheels are vendored).
var treeFiles = []string{
	"VERSION",
	"configure",
	"meson.build",
	"pythondeps.toml",
	".gitmodules",
	"scripts/make-release",
	// A tree may say where it came from (e.g. a Debian repack plus stable
	// diffs); refresh copies the first line into Release.Source.
	SourceNoteFile,
}

// SourceNoteFile is an optional one-line note inside a release tree saying
// where its files came from. It is ours, not QEMU's.
const SourceNoteFile = ".qemupack-source"

// maxTreeFile bounds what is read of any one file (configure is ~250 KB).
const maxTreeFile = 8 << 20

// Tree is what the parser needs of one QEMU release: the text of a few
// files and the names of every path, from a folder or a release tarball.
type Tree struct {
	// Name says where the tree came from, for messages.
	Name string
	// SHA256 is the checksum of the tarball it was read from ("" for a folder).
	SHA256 string

	files map[string][]byte
	paths map[string]bool
}

// file returns the text of one of treeFiles, and whether the tree has it.
func (t *Tree) file(name string) (string, bool) {
	b, ok := t.files[name]
	return string(b), ok
}

// has says whether the tree holds this path (a file or a folder).
func (t *Tree) has(name string) bool { return t.paths[name] }

// under lists the names directly inside folder dir, sorted.
func (t *Tree) under(dir string) []string {
	var out []string
	prefix := dir + "/"
	for p := range t.paths {
		if rest, ok := strings.CutPrefix(p, prefix); ok && rest != "" && !strings.Contains(rest, "/") {
			out = append(out, rest)
		}
	}
	sort.Strings(out)
	return out
}

// NewTree builds a tree from file texts and path names; for tests and for
// callers that already hold the files. Every file is also a path.
func NewTree(name string, files map[string]string, paths ...string) *Tree {
	t := &Tree{Name: name, files: map[string][]byte{}, paths: map[string]bool{}}
	for k, v := range files {
		t.files[k] = []byte(v)
		t.addPath(k)
	}
	for _, p := range paths {
		t.addPath(strings.TrimSuffix(p, "/"))
	}
	return t
}

// addPath records a path and every folder above it.
func (t *Tree) addPath(p string) {
	p = path.Clean(p)
	for p != "." && p != "/" && p != "" {
		t.paths[p] = true
		p = path.Dir(p)
	}
}

// ReadTree reads a release from a folder or from a tarball (.tar.xz,
// .tar.bz2, .tar.gz or plain .tar).
func ReadTree(ctx context.Context, p string) (*Tree, error) {
	st, err := os.Stat(p)
	if err != nil {
		return nil, fmt.Errorf("release tree %s: %w", p, err)
	}
	if st.IsDir() {
		return readDir(p)
	}
	return readTarball(ctx, p)
}

// readDir reads a release tree laid out in a folder. It walks the whole
// folder for names (a QEMU tree has ~10,000 files: cheap) and reads only
// treeFiles.
func readDir(dir string) (*Tree, error) {
	t := &Tree{Name: dir, files: map[string][]byte{}, paths: map[string]bool{}}
	// WalkDir does not follow a symlinked root: resolve it first.
	root, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return nil, fmt.Errorf("release tree %s: %w", dir, err)
	}
	err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(root, p)
		if err != nil || rel == "." {
			return err
		}
		rel = filepath.ToSlash(rel)
		if d.IsDir() && (rel == ".git" || rel == "build") { // VCS data, an in-tree build
			return filepath.SkipDir
		}
		t.addPath(rel)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("release tree %s: %w", dir, err)
	}
	for _, name := range treeFiles {
		f, err := os.Open(filepath.Join(dir, filepath.FromSlash(name)))
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("release tree %s: %w", dir, err)
		}
		b, err := io.ReadAll(io.LimitReader(f, maxTreeFile))
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("release tree %s: read %s: %w", dir, name, err)
		}
		t.files[name] = b
	}
	return t, nil
}

// readTarball streams a release tarball once: it keeps treeFiles, notes
// every path, and hashes the whole file on the way.
func readTarball(ctx context.Context, p string) (*Tree, error) {
	f, err := os.Open(p)
	if err != nil {
		return nil, fmt.Errorf("release tarball %s: %w", p, err)
	}
	defer f.Close()
	h := sha256.New()
	in := io.TeeReader(f, h)

	format, stream, err := archives.Identify(ctx, filepath.Base(p), in)
	if err != nil {
		return nil, fmt.Errorf("release tarball %s: not a tar archive this tool can read (.tar.xz, .tar.bz2, .tar.gz): %w", p, err)
	}
	ex, ok := format.(archives.Extractor)
	if !ok {
		return nil, fmt.Errorf("release tarball %s: %s is not an archive format", p, format.Extension())
	}
	t := &Tree{Name: p, files: map[string][]byte{}, paths: map[string]bool{}}
	wanted := map[string]bool{}
	for _, n := range treeFiles {
		wanted[n] = true
	}
	entries := 0
	err = ex.Extract(ctx, stream, func(ctx context.Context, fi archives.FileInfo) error {
		entries++
		name := stripTop(fi.NameInArchive)
		if name == "" {
			return nil
		}
		t.addPath(name)
		if !wanted[name] || fi.IsDir() {
			return nil
		}
		rc, err := fi.Open()
		if err != nil {
			return fmt.Errorf("open %s: %w", fi.NameInArchive, err)
		}
		defer rc.Close()
		b, err := io.ReadAll(io.LimitReader(rc, maxTreeFile))
		if err != nil {
			return fmt.Errorf("read %s: %w", fi.NameInArchive, err)
		}
		t.files[name] = b
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("release tarball %s: %w", p, err)
	}
	if entries == 0 {
		return nil, fmt.Errorf("release tarball %s: the archive is empty", p)
	}
	// Hash what the extractor did not need to read (tar padding, trailers).
	if _, err := io.Copy(io.Discard, stream); err != nil {
		return nil, fmt.Errorf("release tarball %s: %w", p, err)
	}
	t.SHA256 = hex.EncodeToString(h.Sum(nil))
	return t, nil
}

// stripTop drops the one top folder every release tarball has (qemu-X.Y.Z/).
func stripTop(name string) string {
	name = strings.TrimPrefix(path.Clean("/"+name), "/")
	if i := strings.IndexByte(name, '/'); i >= 0 {
		return name[i+1:]
	}
	return "" // the top folder itself, or a stray top-level file
}
