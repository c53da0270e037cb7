package source

import (
	"archive/tar"
	"bufio"
	"bytes"
	"compress/bzip2"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/ulikunitz/xz"
)

// ErrUnsafeEntry is wrapped by Extract's error for an entry that would land
// outside the target folder.
var ErrUnsafeEntry = errors.New("entry escapes the target folder")

// Extract unpacks the tar archive at archive (plain, gzip, bzip2 or xz,
// recognised by content, not name) into dest, which must not exist yet.
// The tree is built in a temporary sibling folder and renamed to dest only
// when every entry was written, so a failed or refused archive leaves
// nothing at dest. Entries with absolute names, ".." parts, or links that
// point outside dest are refused, and so is writing through a symlink.
//
// It returns the root of the tree: dest/<top> when the archive holds one
// top folder and nothing else (as release tarballs do), else dest.
func Extract(archive, dest string) (string, error) {
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
	if err := extractInto(archive, tmp); err != nil {
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

// decompressor recognises the compression by its magic bytes.
func decompressor(r *bufio.Reader) (io.Reader, string, error) {
	head, _ := r.Peek(6)
	switch {
	case bytes.HasPrefix(head, []byte{0x1f, 0x8b}):
		z, err := gzip.NewReader(r)
		if err != nil {
			return nil, "gzip", err
		}
		return z, "gzip", nil
	case bytes.HasPrefix(head, []byte("BZh")):
		return bzip2.NewReader(r), "bzip2", nil
	case bytes.HasPrefix(head, []byte{0xfd, '7', 'z', 'X', 'Z', 0x00}):
		z, err := xz.NewReader(r)
		if err != nil {
			return nil, "xz", err
		}
		return z, "xz", nil
	}
	// A plain tar has "ustar" at offset 257.
	block, _ := r.Peek(263)
	if len(block) >= 262 && bytes.Equal(block[257:262], []byte("ustar")) {
		return r, "tar", nil
	}
	return nil, "", fmt.Errorf("not a tar archive (plain, gzip, bzip2 or xz); the file may be an error page or damaged")
}

type link struct{ name, target string }

func extractInto(archive, dir string) error {
	f, err := os.Open(archive)
	if err != nil {
		return err
	}
	defer f.Close()
	br := bufio.NewReaderSize(f, 1<<20)
	r, kind, err := decompressor(br)
	if err != nil {
		return err
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return err
	}
	defer root.Close()
	tr := tar.NewReader(r)
	var deferred []link // symlinks Windows would not create, copied at the end
	made := map[string]bool{}
	var buf = make([]byte, 256*1024)
	n := 0
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			if errors.Is(err, io.ErrUnexpectedEOF) {
				return fmt.Errorf("%s archive is truncated after %d entries (download it again)", kind, n)
			}
			return fmt.Errorf("%s archive is damaged after %d entries: %w", kind, n, err)
		}
		n++
		name, err := cleanName(h.Name)
		if err != nil {
			return err
		}
		if name == "" { // "./"
			continue
		}
		if err := noSymlinkParent(root, name); err != nil {
			return err
		}
		switch h.Typeflag {
		case tar.TypeDir:
			if err := root.MkdirAll(name, 0o755); err != nil {
				return err
			}
			made[name] = true
		case tar.TypeReg, tar.TypeRegA:
			if err := mkParents(root, name, made); err != nil {
				return err
			}
			mode := os.FileMode(0o644)
			if h.Mode&0o111 != 0 {
				mode = 0o755
			}
			root.Remove(name)
			out, err := root.OpenFile(name, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, mode)
			if err != nil {
				return err
			}
			_, err = io.CopyBuffer(out, tr, buf)
			if cerr := out.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				if errors.Is(err, io.ErrUnexpectedEOF) {
					return fmt.Errorf("%s archive is truncated inside %s (download it again)", kind, h.Name)
				}
				return fmt.Errorf("%s: %w", h.Name, err)
			}
			// Keep the archive's times: autotools trees rerun autoconf
			// when configure looks older than configure.ac.
			if err := root.Chtimes(name, h.ModTime, h.ModTime); err != nil {
				return err
			}
		case tar.TypeSymlink:
			target := h.Linkname
			if path.IsAbs(target) || filepath.IsAbs(target) || strings.HasPrefix(target, `\`) || filepath.VolumeName(target) != "" {
				return fmt.Errorf("%w: %s is a link to the absolute path %s", ErrUnsafeEntry, h.Name, target)
			}
			resolved := path.Join(path.Dir(name), target)
			if resolved == ".." || strings.HasPrefix(resolved, "../") {
				return fmt.Errorf("%w: %s is a link to %s, outside the archive's folder", ErrUnsafeEntry, h.Name, target)
			}
			if err := mkParents(root, name, made); err != nil {
				return err
			}
			root.Remove(name)
			if err := root.Symlink(target, name); err != nil {
				if runtime.GOOS == "windows" {
					deferred = append(deferred, link{name, resolved})
					continue
				}
				return err
			}
		case tar.TypeLink:
			target, err := cleanName(h.Linkname)
			if err != nil {
				return fmt.Errorf("%w: hard link %s -> %s", ErrUnsafeEntry, h.Name, h.Linkname)
			}
			if err := mkParents(root, name, made); err != nil {
				return err
			}
			root.Remove(name)
			if err := root.Link(target, name); err != nil {
				deferred = append(deferred, link{name, target})
			}
		case tar.TypeXGlobalHeader, tar.TypeXHeader, tar.TypeGNULongName, tar.TypeGNULongLink:
			// metadata only
		default:
			// Devices, fifos: never in a source tarball; refuse rather than guess.
			return fmt.Errorf("%s: unsupported entry type %q", h.Name, h.Typeflag)
		}
	}
	if n == 0 {
		return fmt.Errorf("%s archive holds no entries", kind)
	}
	for _, l := range deferred {
		if err := copyWithin(root, l.target, l.name); err != nil {
			return fmt.Errorf("link %s -> %s: %w", l.name, l.target, err)
		}
	}
	return nil
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
