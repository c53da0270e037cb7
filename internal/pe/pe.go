// Package pe reads what a Windows program or DLL needs from other DLLs: the
// import directory and the delay-load import directory of PE32 and PE32+
// files. The standard library's debug/pe parses the headers and sections
// (which this package uses) but its ImportedLibraries returns nothing and
// its ImportedSymbols drops imports by ordinal and ignores delay-load
// imports, so both directories are walked here by hand.
package pe

import (
	"bytes"
	"debug/pe"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
)

// Symbol is one imported function or variable.
type Symbol struct {
	Name      string // "" when imported by ordinal
	Ordinal   uint16 // the ordinal when ByOrdinal
	Hint      uint16 // the export-table hint when imported by name
	ByOrdinal bool
}

func (s Symbol) String() string {
	if s.ByOrdinal {
		return fmt.Sprintf("#%d", s.Ordinal)
	}
	return s.Name
}

// Import is one DLL a file needs, with the symbols it takes from it.
type Import struct {
	DLL     string // as written in the file (case kept)
	Delay   bool   // from the delay-load directory: loaded on first call
	Symbols []Symbol
}

// File is what this package knows about one PE file.
type File struct {
	Path    string
	Machine uint16 // pe.IMAGE_FILE_MACHINE_*
	PE32    bool   // true for PE32 (32-bit), false for PE32+
	DLL     bool   // the IMAGE_FILE_DLL characteristic
	Imports []Import
	// DelayFromSymbols is true when the delay-load descriptors were found
	// through the COFF symbol table, not the data directory (see Read).
	DelayFromSymbols bool
}

// DLLs returns the names of every DLL the file imports, normal and
// delay-loaded, once each (first spelling kept), in file order.
func (f *File) DLLs() []string {
	seen := map[string]bool{}
	var out []string
	for _, im := range f.Imports {
		k := strings.ToLower(im.DLL)
		if !seen[k] {
			seen[k] = true
			out = append(out, im.DLL)
		}
	}
	return out
}

// MachineName gives a readable name for a machine code.
func MachineName(m uint16) string {
	switch m {
	case pe.IMAGE_FILE_MACHINE_AMD64:
		return "x86-64"
	case pe.IMAGE_FILE_MACHINE_I386:
		return "x86 (32-bit)"
	case pe.IMAGE_FILE_MACHINE_ARM64:
		return "arm64"
	case pe.IMAGE_FILE_MACHINE_ARMNT:
		return "arm (32-bit)"
	}
	return fmt.Sprintf("machine 0x%04x", m)
}

// Limits that keep a corrupt file from making the reader loop for ever.
const (
	maxDescriptors = 4096
	maxThunks      = 1 << 20
	maxName        = 4096
)

// Open reads the file at path.
func Open(path string) (*File, error) {
	// One read of the whole file: debug/pe reads the COFF symbol table
	// entry by entry, which costs a system call each on an *os.File.
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("pe: %w", err)
	}
	f, err := Read(bytes.NewReader(data), path)
	if err != nil {
		return nil, err
	}
	return f, nil
}

// Read reads a PE file from r; name is used in errors.
func Read(r io.ReaderAt, name string) (f *File, err error) {
	// debug/pe can panic on some malformed inputs; turn that into an error.
	defer func() {
		if p := recover(); p != nil {
			f, err = nil, fmt.Errorf("pe: %s: corrupt file (%v)", name, p)
		}
	}()
	pf, err := pe.NewFile(r)
	if err != nil {
		return nil, fmt.Errorf("pe: %s: not a readable PE file: %w", name, err)
	}
	defer pf.Close()
	out := &File{Path: name, Machine: pf.Machine, DLL: pf.Characteristics&pe.IMAGE_FILE_DLL != 0}
	var imageBase uint64
	var dirs []pe.DataDirectory
	switch oh := pf.OptionalHeader.(type) {
	case *pe.OptionalHeader32:
		out.PE32 = true
		imageBase = uint64(oh.ImageBase)
		dirs = oh.DataDirectory[:min(int(oh.NumberOfRvaAndSizes), len(oh.DataDirectory))]
	case *pe.OptionalHeader64:
		imageBase = oh.ImageBase
		dirs = oh.DataDirectory[:min(int(oh.NumberOfRvaAndSizes), len(oh.DataDirectory))]
	default:
		return nil, fmt.Errorf("pe: %s: no optional header (an object file, not a program or DLL)", name)
	}
	img := &image{name: name, file: pf, pe32: out.PE32, base: imageBase}
	if len(dirs) > pe.IMAGE_DIRECTORY_ENTRY_IMPORT && dirs[pe.IMAGE_DIRECTORY_ENTRY_IMPORT].VirtualAddress != 0 {
		ims, err := img.imports(dirs[pe.IMAGE_DIRECTORY_ENTRY_IMPORT].VirtualAddress)
		if err != nil {
			return nil, err
		}
		out.Imports = append(out.Imports, ims...)
	}
	if len(dirs) > pe.IMAGE_DIRECTORY_ENTRY_DELAY_IMPORT && dirs[pe.IMAGE_DIRECTORY_ENTRY_DELAY_IMPORT].VirtualAddress != 0 {
		// The table ends with a zero descriptor; its Size, when set, also
		// bounds it (a table that fills it needs no terminator).
		dd := dirs[pe.IMAGE_DIRECTORY_ENTRY_DELAY_IMPORT]
		limit := maxDescriptors
		if n := int(dd.Size / 32); n > 0 && n < limit {
			limit = n
		}
		ims, err := img.delayImports(dd.VirtualAddress, limit)
		if err != nil {
			return nil, err
		}
		out.Imports = append(out.Imports, ims...)
	} else {
		// GNU ld (binutils 2.40, Debian 12) links dlltool's delay-load
		// libraries (dlltool -y) without filling the delay-import data
		// directory: the program works, because the delay helper is handed
		// its descriptor directly, but the directory is zero. Unless the
		// file was stripped, each descriptor is still named in the COFF
		// symbol table as __DELAY_IMPORT_DESCRIPTOR_<lib>; read those.
		for _, sym := range pf.Symbols {
			if !strings.HasPrefix(sym.Name, "__DELAY_IMPORT_DESCRIPTOR_") || sym.SectionNumber <= 0 || int(sym.SectionNumber) > len(pf.Sections) {
				continue
			}
			rva := pf.Sections[sym.SectionNumber-1].VirtualAddress + sym.Value
			ims, err := img.delayImports(rva, 1)
			if err != nil {
				return nil, fmt.Errorf("%w (descriptor named by symbol %s)", err, sym.Name)
			}
			out.Imports = append(out.Imports, ims...)
			out.DelayFromSymbols = true
		}
	}
	return out, nil
}

// image maps relative virtual addresses to bytes of the sections.
type image struct {
	name  string
	file  *pe.File
	pe32  bool
	base  uint64
	cache map[*pe.Section][]byte
}

var errOutside = errors.New("outside every section")

// at returns the bytes of the section holding rva, from rva to the end of
// that section's data in the file.
func (m *image) at(rva uint32) ([]byte, error) {
	for _, s := range m.file.Sections {
		size := max(s.VirtualSize, s.Size)
		if rva < s.VirtualAddress || rva-s.VirtualAddress >= size {
			continue
		}
		if m.cache == nil {
			m.cache = map[*pe.Section][]byte{}
		}
		data, ok := m.cache[s]
		if !ok {
			var err error
			data, err = s.Data()
			if err != nil {
				return nil, fmt.Errorf("section %s is cut short in the file (%v)", strings.TrimRight(s.Name, "\x00"), err)
			}
			m.cache[s] = data
		}
		off := rva - s.VirtualAddress
		if off >= uint32(len(data)) {
			// Inside the section's memory image but past its data in the
			// file: that memory is zero-filled when loaded.
			return nil, nil
		}
		return data[off:], nil
	}
	return nil, errOutside
}

func (m *image) read(rva uint32, n int, what string) ([]byte, error) {
	b, err := m.at(rva)
	if err != nil {
		return nil, fmt.Errorf("pe: %s: %s at RVA 0x%x: %w", m.name, what, rva, err)
	}
	if len(b) < n {
		// Zero-filled tail of a section: pad, as the loader would.
		p := make([]byte, n)
		copy(p, b)
		return p, nil
	}
	return b[:n], nil
}

func (m *image) str(rva uint32, what string) (string, error) {
	b, err := m.at(rva)
	if err != nil {
		return "", fmt.Errorf("pe: %s: %s at RVA 0x%x: %w", m.name, what, rva, err)
	}
	if len(b) > maxName {
		b = b[:maxName]
	}
	i := bytes.IndexByte(b, 0)
	if i < 0 {
		return "", fmt.Errorf("pe: %s: %s at RVA 0x%x has no end (file truncated or corrupt)", m.name, what, rva)
	}
	return string(b[:i]), nil
}

// imports walks IMAGE_IMPORT_DESCRIPTORs (20 bytes each, ended by zeros).
func (m *image) imports(rva uint32) ([]Import, error) {
	var out []Import
	for i := 0; ; i++ {
		if i >= maxDescriptors {
			return nil, fmt.Errorf("pe: %s: import directory has no end after %d entries (corrupt file)", m.name, i)
		}
		d, err := m.read(rva+uint32(20*i), 20, "import directory")
		if err != nil {
			return nil, err
		}
		lookup := binary.LittleEndian.Uint32(d[0:])
		nameRVA := binary.LittleEndian.Uint32(d[12:])
		iat := binary.LittleEndian.Uint32(d[16:])
		if lookup == 0 && nameRVA == 0 && iat == 0 {
			return out, nil
		}
		if nameRVA == 0 {
			return nil, fmt.Errorf("pe: %s: import entry %d has no DLL name (corrupt file)", m.name, i)
		}
		dll, err := m.str(nameRVA, "imported DLL name")
		if err != nil {
			return nil, err
		}
		if lookup == 0 { // some linkers leave the lookup table out; the IAT holds the same before binding
			lookup = iat
		}
		syms, err := m.thunks(lookup, dll)
		if err != nil {
			return nil, err
		}
		out = append(out, Import{DLL: dll, Symbols: syms})
	}
}

// delayImports walks the delay-load descriptors (32 bytes each, ended by
// zeros). Attributes bit 0 set means the fields are RVAs; old (Visual C++
// 6) files leave it clear and store virtual addresses instead.
func (m *image) delayImports(rva uint32, limit int) ([]Import, error) {
	var out []Import
	for i := 0; ; i++ {
		if i >= limit {
			if limit < maxDescriptors { // bounded by the directory size or a single descriptor
				return out, nil
			}
			return nil, fmt.Errorf("pe: %s: delay-import directory has no end after %d entries (corrupt file)", m.name, i)
		}
		d, err := m.read(rva+uint32(32*i), 32, "delay-import directory")
		if err != nil {
			return nil, err
		}
		if bytes.Equal(d, make([]byte, 32)) {
			return out, nil
		}
		attrs := binary.LittleEndian.Uint32(d[0:])
		nameRVA := binary.LittleEndian.Uint32(d[4:])
		names := binary.LittleEndian.Uint32(d[16:])
		if nameRVA == 0 {
			return out, nil // some linkers end the table with just a zero name
		}
		fix := func(v uint32) (uint32, error) {
			if attrs&1 != 0 || v == 0 {
				return v, nil
			}
			if uint64(v) < m.base {
				return 0, fmt.Errorf("pe: %s: delay-import entry %d: address 0x%x below the image base 0x%x (corrupt file)", m.name, i, v, m.base)
			}
			return uint32(uint64(v) - m.base), nil
		}
		if nameRVA, err = fix(nameRVA); err != nil {
			return nil, err
		}
		if names, err = fix(names); err != nil {
			return nil, err
		}
		dll, err := m.str(nameRVA, "delay-loaded DLL name")
		if err != nil {
			return nil, err
		}
		var syms []Symbol
		if names != 0 {
			if syms, err = m.thunks(names, dll); err != nil {
				return nil, err
			}
		}
		out = append(out, Import{DLL: dll, Delay: true, Symbols: syms})
	}
}

// thunks reads an import lookup table: 4-byte entries in PE32, 8-byte in
// PE32+, the top bit marking an import by ordinal, else the RVA of a
// hint/name pair; a zero entry ends the table.
func (m *image) thunks(rva uint32, dll string) ([]Symbol, error) {
	size := 8
	if m.pe32 {
		size = 4
	}
	var out []Symbol
	for i := 0; ; i++ {
		if i >= maxThunks {
			return nil, fmt.Errorf("pe: %s: symbol table for %s has no end (corrupt file)", m.name, dll)
		}
		b, err := m.read(rva+uint32(size*i), size, "symbols imported from "+dll)
		if err != nil {
			return nil, err
		}
		var v uint64
		var byOrd bool
		if m.pe32 {
			x := binary.LittleEndian.Uint32(b)
			v, byOrd = uint64(x), x&0x80000000 != 0
		} else {
			v = binary.LittleEndian.Uint64(b)
			byOrd = v&(1<<63) != 0
		}
		if v == 0 {
			return out, nil
		}
		if byOrd {
			out = append(out, Symbol{Ordinal: uint16(v), ByOrdinal: true})
			continue
		}
		hn := uint32(v & 0x7fffffff)
		h, err := m.read(hn, 2, "import hint of "+dll)
		if err != nil {
			return nil, err
		}
		name, err := m.str(hn+2, "imported symbol name from "+dll)
		if err != nil {
			return nil, err
		}
		out = append(out, Symbol{Name: name, Hint: binary.LittleEndian.Uint16(h)})
	}
}

// SortedLower returns names lower-cased, sorted and without repeats.
func SortedLower(names []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, n := range names {
		n = strings.ToLower(n)
		if !seen[n] {
			seen[n] = true
			out = append(out, n)
		}
	}
	sort.Strings(out)
	return out
}
