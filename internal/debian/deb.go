package debian

import (
	"archive/tar"
	"bufio"
	"compress/bzip2"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/klauspost/compress/zstd"
	"github.com/ulikunitz/xz"

	"qemupack/internal/source"
)

// ExtractDeb unpacks the files of a binary package (the data.tar.* member
// of the .deb's ar archive: xz, zstd, gzip, bzip2 or plain) into dir,
// which must not exist yet, as the package would install them below /.
// The unpacking is source.Extract's: entries that would land outside dir
// are refused, and so is writing through a link. A link to an absolute
// path means that path inside the package's root, so it is made relative
// to dir; one that still leaves dir is refused.
func ExtractDeb(debPath, dir string) error {
	f, err := os.Open(debPath)
	if err != nil {
		return fmt.Errorf("extract %s: %w", debPath, err)
	}
	defer f.Close()
	member, name, err := dataMember(bufio.NewReaderSize(f, 1<<20))
	if err != nil {
		return fmt.Errorf("extract %s: %w", debPath, err)
	}
	data, closeData, err := decompress(member, name)
	if err != nil {
		return fmt.Errorf("extract %s: %s: %w", debPath, name, err)
	}
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		return fmt.Errorf("extract %s: %w", debPath, err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(dir), "."+filepath.Base(dir)+".data-*.tar")
	if err != nil {
		return fmt.Errorf("extract %s: %w", debPath, err)
	}
	defer os.Remove(tmp.Name())
	err = rootLinks(data, tmp)
	closeData()
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("extract %s: %s: %w", debPath, name, err)
	}
	if _, err := source.Extract(tmp.Name(), dir); err != nil {
		return fmt.Errorf("extract %s: %w", debPath, err)
	}
	return nil
}

// dataMember finds the data.tar.* member of a .deb (an ar archive:
// "!<arch>\n", then 60-byte headers each followed by the member, padded
// to an even size).
func dataMember(r *bufio.Reader) (io.Reader, string, error) {
	magic := make([]byte, 8)
	if _, err := io.ReadFull(r, magic); err != nil || string(magic) != "!<arch>\n" {
		return nil, "", errors.New("not a Debian binary package (no ar archive header)")
	}
	hdr := make([]byte, 60)
	for {
		if _, err := io.ReadFull(r, hdr); err != nil {
			if err == io.EOF {
				return nil, "", errors.New("no data.tar member: not a Debian binary package")
			}
			return nil, "", fmt.Errorf("damaged ar archive: %w", err)
		}
		if string(hdr[58:60]) != "`\n" {
			return nil, "", errors.New("damaged ar archive: bad member header")
		}
		name := strings.TrimSuffix(strings.TrimSpace(string(hdr[0:16])), "/")
		size, err := strconv.ParseInt(strings.TrimSpace(string(hdr[48:58])), 10, 64)
		if err != nil || size < 0 {
			return nil, "", fmt.Errorf("damaged ar archive: member %q has size %q", name, strings.TrimSpace(string(hdr[48:58])))
		}
		if strings.HasPrefix(name, "data.tar") {
			return io.LimitReader(r, size), name, nil
		}
		if _, err := r.Discard(int(size + size%2)); err != nil {
			return nil, "", fmt.Errorf("damaged ar archive: member %s is truncated", name)
		}
	}
}

// decompress opens the member by its name's ending; done frees the
// decoder.
func decompress(r io.Reader, name string) (data io.Reader, done func(), err error) {
	none := func() {}
	switch path.Ext(name) {
	case ".xz":
		z, err := xz.NewReader(r)
		return z, none, err
	case ".zst":
		z, err := zstd.NewReader(r)
		if err != nil {
			return nil, none, err
		}
		return z, z.Close, nil
	case ".gz":
		z, err := gzip.NewReader(r)
		return z, none, err
	case ".bz2":
		return bzip2.NewReader(r), none, nil
	case ".tar":
		return r, none, nil
	}
	return nil, none, fmt.Errorf("unknown compression of %s", name)
}

// relPath is the slash path from folder from to target, both absolute
// slash paths.
func relPath(from, target string) string {
	f := strings.Split(strings.Trim(path.Clean(from), "/"), "/")
	t := strings.Split(strings.Trim(path.Clean(target), "/"), "/")
	if f[0] == "" {
		f = nil
	}
	if t[0] == "" {
		t = nil
	}
	i := 0
	for i < len(f) && i < len(t) && f[i] == t[i] {
		i++
	}
	var parts []string
	for range f[i:] {
		parts = append(parts, "..")
	}
	parts = append(parts, t[i:]...)
	if len(parts) == 0 {
		return "."
	}
	return strings.Join(parts, "/")
}

// rootLinks copies the tar stream, making absolute link targets relative
// to the link's own folder (the package root being the archive's root).
func rootLinks(r io.Reader, w io.Writer) error {
	tr := tar.NewReader(r)
	tw := tar.NewWriter(w)
	n := 0
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("damaged after %d entries: %w", n, err)
		}
		n++
		if h.Typeflag == tar.TypeSymlink && strings.HasPrefix(h.Linkname, "/") {
			from := path.Dir(path.Clean("/" + strings.TrimPrefix(h.Name, "./")))
			h.Linkname = relPath(from, h.Linkname)
		}
		h.Uname, h.Gname, h.Uid, h.Gid = "", "", 0, 0
		if err := tw.WriteHeader(h); err != nil {
			return err
		}
		if h.Typeflag == tar.TypeReg || h.Typeflag == tar.TypeRegA {
			if _, err := io.Copy(tw, tr); err != nil {
				return fmt.Errorf("damaged inside %s: %w", h.Name, err)
			}
		}
	}
	if n == 0 {
		return errors.New("holds no entries")
	}
	return tw.Close()
}
