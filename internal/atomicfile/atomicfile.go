// Package atomicfile writes a file so that readers see either the old
// content or the whole new content, never a part: the data goes into a
// temp file in the same folder, which is synced, closed, given its final
// mode and renamed over the path. On any error, or a panic, the temp file
// is removed and the path is left as it was.
package atomicfile

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
)

// TempPrefix is how the names of the temp files made for path begin
// (".<name>.tmp-"); a dot-file, so listings and globs of the folder skip it.
func TempPrefix(path string) string { return "." + filepath.Base(path) + ".tmp-" }

// Write writes path through fill, which receives the open temp file.
// Errors fill returns come back unchanged; errors of the temp file itself
// (create, sync, close, chmod, rename) are wrapped with path.
func Write(path string, mode os.FileMode, fill func(*os.File) error) error {
	return WriteChecked(path, mode, fill, nil)
}

// WriteFile is Write with data as the content.
func WriteFile(path string, data []byte, mode os.FileMode) error {
	return Write(path, mode, func(f *os.File) error {
		_, err := f.Write(data)
		if err != nil {
			return fmt.Errorf("write %s: %w", path, err)
		}
		return nil
	})
}

// WriteChecked is Write with check run on the finished temp file (synced
// and closed, named by its path) before the rename; an error from check
// keeps path as it was and comes back unchanged. A nil check is skipped.
func WriteChecked(path string, mode os.FileMode, fill func(*os.File) error, check func(tmp string) error) (err error) {
	f, err := os.CreateTemp(filepath.Dir(path), TempPrefix(path)+"*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	closed, done := false, false
	defer func() {
		if !done {
			if !closed {
				f.Close()
			}
			os.Remove(f.Name())
		}
	}()
	if err := fill(f); err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	closed = true
	if err := f.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if check != nil {
		if err := check(f.Name()); err != nil {
			return err
		}
	}
	if err := commit(f.Name(), path, mode); err != nil {
		return err
	}
	done = true
	return nil
}

// WriteNamed is for content another program writes by file name (a
// compiler's output, a signer working in place): make receives the path of
// an empty temp file in path's folder, which it may replace or rewrite;
// what is there when make returns nil is renamed over path with mode.
func WriteNamed(path string, mode os.FileMode, make func(tmp string) error) error {
	f, err := os.CreateTemp(filepath.Dir(path), TempPrefix(path)+"*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	tmp := f.Name()
	done := false
	defer func() {
		if !done {
			os.Remove(tmp)
		}
	}()
	if err := f.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := make(tmp); err != nil {
		return err
	}
	if err := syncFile(tmp); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := commit(tmp, path, mode); err != nil {
		return err
	}
	done = true
	return nil
}

// Copy writes a copy of src to dst the same way, with src's permissions.
func Copy(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	fi, err := in.Stat()
	if err != nil {
		return err
	}
	return Write(dst, fi.Mode().Perm(), func(f *os.File) error {
		_, err := io.Copy(f, in)
		return err
	})
}

// CleanStale removes the temp files that writes of path killed before
// they could clean up (kill -9, power loss) left in its folder. Call it
// only where no other process writes path at the same time.
func CleanStale(path string) error {
	dir := filepath.Dir(path)
	ents, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	prefix := TempPrefix(path)
	for _, e := range ents {
		if !e.Type().IsRegular() || !strings.HasPrefix(e.Name(), prefix) {
			continue
		}
		if err := os.Remove(filepath.Join(dir, e.Name())); err != nil {
			return fmt.Errorf("write %s: removing a stale temp file: %w", path, err)
		}
	}
	return nil
}

func commit(tmp, path string, mode os.FileMode) error {
	if err := os.Chmod(tmp, mode); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := SyncDir(filepath.Dir(path)); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// SyncDir flushes a folder's entries (a rename into it) to disk, so a
// power loss after the rename cannot bring back the old name. Windows has
// no such call for folders; there it does nothing.
func SyncDir(dir string) error {
	if runtime.GOOS == "windows" {
		return nil
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}

func syncFile(name string) error {
	f, err := os.OpenFile(name, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	err = f.Sync()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}
