package bundle

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"qemupack/internal/checksum"
	"qemupack/internal/pe"
	"qemupack/internal/run"
	"qemupack/internal/stepcache"
)

// StripKind is the step cache kind of stripped programs and DLLs.
const StripKind = "strip"

// stripRecipe names how a binary is stripped; change it when the commands
// below change, so no entry made the old way is taken for a new one.
const stripRecipe = "strip-4: objcopy --only-keep-debug; objcopy --strip-all --add-gnu-debuglink; SOURCE_DATE_EPOCH=0"

// DebugName is the name of the debug archive beside the archive of a
// version: qemu-<version>-win64-debug.zip. Its top folder is the
// archive's, so both unpack into one folder, where a debugger finds each
// <name>.debug through the program's .gnu_debuglink.
func DebugName(version string) string { return Name(version) + "-debug" }

// Stripper makes the stripped copy of a program or DLL and its debug file.
type Stripper struct {
	// Objcopy is the cross objcopy (x86_64-w64-mingw32-objcopy).
	Objcopy string
	version string
	once    sync.Once
	err     error
}

// Version is the first line of `objcopy --version`: part of every entry's
// key, so a new binutils strips everything again.
func (s *Stripper) Version(ctx context.Context) (string, error) {
	s.once.Do(func() {
		out, err := run.Output(ctx, run.Cmd{Args: []string{s.Objcopy, "--version"}})
		if err != nil {
			s.err = fmt.Errorf("bundle: %s --version: %w (install the mingw binutils: Debian's binutils-mingw-w64-x86-64)", s.Objcopy, err)
			return
		}
		s.version, _, _ = strings.Cut(strings.TrimSpace(out), "\n")
	})
	return s.version, s.err
}

// Stripped is one binary as the archive ships it.
type Stripped struct {
	Name   string // the file name in the archive
	Path   string // the stripped file ("" when the original ships as it is)
	Debug  string // <name>.debug beside it ("" when there was nothing to keep)
	SHA256 string // of the file shipped
	// DebugSHA256 is the debug file's.
	DebugSHA256 string
	Entry       *stepcache.Entry
}

// strippedName is the record of a stripped file in its entry: the sums of
// the two files, so a rerun does not read them again.
const strippedName = "stripped.json"

type strippedRecord struct {
	SHA256      string `json:"sha256"`
	DebugSHA256 string `json:"debug_sha256"`
}

func readStripped(dir string) (strippedRecord, error) {
	var r strippedRecord
	b, err := os.ReadFile(filepath.Join(dir, strippedName))
	if err == nil {
		err = json.Unmarshal(b, &r)
	}
	if err == nil && (len(r.SHA256) != 64 || len(r.DebugSHA256) != 64) {
		err = fmt.Errorf("sums missing")
	}
	if err != nil {
		return r, fmt.Errorf("bundle: %s: %w", filepath.Join(dir, strippedName), err)
	}
	return r, nil
}

// Strip returns the stripped copy of the program or DLL at src (whose
// sha256 is sum) and its debug file, from the step cache: made once per
// content and binutils version. A file with neither symbols nor DWARF
// (a host DLL its package stripped) ships as it is.
func (s *Stripper) Strip(ctx context.Context, cache *stepcache.Cache, src, sum string) (Stripped, error) {
	name := filepath.Base(src)
	f, err := pe.Open(src)
	if err != nil {
		return Stripped{}, fmt.Errorf("bundle: %w", err)
	}
	if !f.HasDebug() {
		return Stripped{Name: name, SHA256: sum}, nil
	}
	ver, err := s.Version(ctx)
	if err != nil {
		return Stripped{}, err
	}
	var in stepcache.Inputs
	in.Add("file", "sha256:"+sum)
	in.Add("tool", ver)
	in.Add("recipe", stripRecipe)
	lname := strings.ToLower(name)
	e, err := cache.Do(ctx, StripKind, lname, in, stepcache.Options{Check: func(dir string) error {
		_, err := readStripped(dir)
		return err
	}}, func(ctx context.Context, tmp, final, work string) error {
		return s.make(ctx, src, tmp, work, name)
	})
	if err != nil {
		return Stripped{}, err
	}
	rec, err := readStripped(e.Dir)
	if err != nil {
		e.Release()
		return Stripped{}, err
	}
	return Stripped{Name: name, Path: filepath.Join(e.Dir, name), Debug: filepath.Join(e.Dir, name+".debug"),
		SHA256: rec.SHA256, DebugSHA256: rec.DebugSHA256, Entry: e}, nil
}

// make writes <name>.debug (everything a debugger reads: DWARF and the
// symbol table) and <name> (without them, with a .gnu_debuglink naming
// the debug file and its CRC) into tmp. objcopy stamps the current time
// into every PE file it writes unless SOURCE_DATE_EPOCH is set; 0 writes
// "no link time", as a --no-insert-timestamp link does (checked).
func (s *Stripper) make(ctx context.Context, src, tmp, work, name string) error {
	env := run.Environ("SOURCE_DATE_EPOCH=0")
	debug := filepath.Join(tmp, name+".debug")
	stripped := filepath.Join(tmp, name)
	for i, args := range [][]string{
		{s.Objcopy, "--only-keep-debug", src, debug},
		// Run where the debug file is: the link names it by base name.
		// --strip-all: a linked PE file needs none of its COFF symbols
		// (--strip-unneeded keeps the import symbols of a DLL).
		{s.Objcopy, "--strip-all", "--add-gnu-debuglink=" + name + ".debug", src, stripped},
	} {
		if err := run.Run(ctx, run.Cmd{Args: args, Dir: tmp, Env: env, Log: filepath.Join(work, fmt.Sprintf("objcopy-%d.log", i+1))}); err != nil {
			return fmt.Errorf("bundle: stripping %s: %w", name, err)
		}
	}
	for _, p := range []string{stripped, debug} {
		f, err := pe.Open(p)
		if err != nil {
			return fmt.Errorf("bundle: stripping %s gave an unreadable file: %w", name, err)
		}
		if f.TimeDateStamp != 0 {
			return fmt.Errorf("bundle: %s put a link time (%d) into %s: this objcopy ignores SOURCE_DATE_EPOCH=0, so the archive would differ on every run; use a newer binutils",
				s.Objcopy, f.TimeDateStamp, filepath.Base(p))
		}
		if p == stripped && f.HasDebug() {
			return fmt.Errorf("bundle: %s still has symbols or DWARF after %s --strip-all", name, s.Objcopy)
		}
	}
	var rec strippedRecord
	var err error
	if rec.SHA256, err = checksum.File(stripped); err != nil {
		return err
	}
	if rec.DebugSHA256, err = checksum.File(debug); err != nil {
		return err
	}
	data, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(tmp, strippedName), append(data, '\n'), 0o644)
}
