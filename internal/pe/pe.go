// Package pe reads what a Windows program or DLL needs from other DLLs: the
// import directory and the delay-load import directory of PE32 and PE32+
// files. The standard library's debug/pe is not used for this: its
// ImportedLibraries returns nothing, its ImportedSymbols drops imports by
// ordinal and ignores delay-load imports, and its NewFile decodes the whole
// COFF symbol table, which in an unstripped QEMU is most of the work. The
// headers and both directories are read here straight from the bytes,
// every offset checked against the file's length.
package pe

import (
	"bytes"
	"debug/pe"
	"encoding/binary"
	"errors"
	"fmt"
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
	// TimeDateStamp is the COFF header's link time (0 when linked with
	// --no-insert-timestamp, as reproducible builds are).
	TimeDateStamp uint32
	// Symbols is the number of COFF symbol table records (0 once stripped).
	Symbols int
	// Sections are the section names, long names (/4 in the header)
	// resolved through the string table: .debug_* sections are DWARF.
	Sections []string
}

// HasDebug says whether the file carries anything a strip removes: a COFF
// symbol table or DWARF sections.
func (f *File) HasDebug() bool {
	if f.Symbols > 0 {
		return true
	}
	for _, s := range f.Sections {
		if strings.HasPrefix(s, ".debug_") || strings.HasPrefix(s, ".zdebug_") {
			return true
		}
	}
	return false
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
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("pe: %w", err)
	}
	return Parse(data, path)
}

// section is one section header.
type section struct {
	name            string
	va, vsize       uint32
	rawPtr, rawSize uint32
}

// Parse reads a PE file held in data; name is used in errors. The headers
// are read here directly (debug/pe would also decode the whole COFF symbol
// table, which in an unstripped QEMU is most of the work).
func Parse(data []byte, name string) (*File, error) {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("pe: %s: not a readable PE file: %s", name, fmt.Sprintf(format, args...))
	}
	if len(data) < 0x40 || data[0] != 'M' || data[1] != 'Z' {
		return nil, bad("no MZ header")
	}
	nt := int64(binary.LittleEndian.Uint32(data[0x3c:]))
	if nt+24 > int64(len(data)) || string(data[nt:nt+4]) != "PE\x00\x00" {
		return nil, bad("no PE signature")
	}
	coff := data[nt+4 : nt+24]
	out := &File{Path: name, Machine: binary.LittleEndian.Uint16(coff[0:]), TimeDateStamp: binary.LittleEndian.Uint32(coff[4:])}
	nsec := int64(binary.LittleEndian.Uint16(coff[2:]))
	symPtr := int64(binary.LittleEndian.Uint32(coff[8:]))
	nsym := int64(binary.LittleEndian.Uint32(coff[12:]))
	optSize := int64(binary.LittleEndian.Uint16(coff[16:]))
	out.DLL = binary.LittleEndian.Uint16(coff[18:])&pe.IMAGE_FILE_DLL != 0
	optOff := nt + 24
	if optSize == 0 {
		return nil, fmt.Errorf("pe: %s: no optional header (an object file, not a program or DLL)", name)
	}
	if optOff+optSize > int64(len(data)) || optSize < 2 {
		return nil, bad("optional header cut short")
	}
	opt := data[optOff : optOff+optSize]
	var imageBase uint64
	var dirOff, countOff int
	switch binary.LittleEndian.Uint16(opt) {
	case 0x10b:
		out.PE32 = true
		dirOff, countOff = 96, 92
		if len(opt) >= 32 {
			imageBase = uint64(binary.LittleEndian.Uint32(opt[28:]))
		}
	case 0x20b:
		dirOff, countOff = 112, 108
		if len(opt) >= 32 {
			imageBase = binary.LittleEndian.Uint64(opt[24:])
		}
	default:
		return nil, bad("unknown optional header magic 0x%x", binary.LittleEndian.Uint16(opt))
	}
	dirs := map[int]pe.DataDirectory{}
	if len(opt) >= countOff+4 {
		n := int(binary.LittleEndian.Uint32(opt[countOff:]))
		for i := 0; i < n && i < 16 && dirOff+8*i+8 <= len(opt); i++ {
			dirs[i] = pe.DataDirectory{
				VirtualAddress: binary.LittleEndian.Uint32(opt[dirOff+8*i:]),
				Size:           binary.LittleEndian.Uint32(opt[dirOff+8*i+4:]),
			}
		}
	}
	secOff := optOff + optSize
	if secOff+40*nsec > int64(len(data)) {
		return nil, bad("section table cut short")
	}
	img := &image{name: name, data: data, pe32: out.PE32, base: imageBase}
	var strtab []byte // the COFF string table, after the symbols
	if symPtr > 0 && symPtr+18*nsym <= int64(len(data)) {
		// A stripped file may keep the string table (for long section
		// names such as .gnu_debuglink) with no symbols before it.
		out.Symbols = int(nsym)
		strtab = data[symPtr+18*nsym:]
	}
	for i := int64(0); i < nsec; i++ {
		h := data[secOff+40*i : secOff+40*i+40]
		secName := strings.TrimRight(string(h[:8]), "\x00")
		if long, ok := longName(secName, strtab); ok {
			secName = long
		}
		out.Sections = append(out.Sections, secName)
		img.sections = append(img.sections, section{
			name:    secName,
			vsize:   binary.LittleEndian.Uint32(h[8:]),
			va:      binary.LittleEndian.Uint32(h[12:]),
			rawSize: binary.LittleEndian.Uint32(h[16:]),
			rawPtr:  binary.LittleEndian.Uint32(h[20:]),
		})
	}

	if d := dirs[pe.IMAGE_DIRECTORY_ENTRY_IMPORT]; d.VirtualAddress != 0 {
		ims, err := img.imports(d.VirtualAddress)
		if err != nil {
			return nil, err
		}
		out.Imports = append(out.Imports, ims...)
	}
	if dd := dirs[pe.IMAGE_DIRECTORY_ENTRY_DELAY_IMPORT]; dd.VirtualAddress != 0 {
		// The table ends with a zero descriptor; its Size, when set, also
		// bounds it (a table that fills it needs no terminator).
		limit := maxDescriptors
		if n := int(dd.Size / 32); n > 0 && n < limit {
			limit = n
		}
		ims, err := img.delayImports(dd.VirtualAddress, limit)
		if err != nil {
			return nil, err
		}
		out.Imports = append(out.Imports, ims...)
	} else if nsym > 0 && strtab != nil {
		// GNU ld (binutils 2.40, Debian 12) links dlltool's delay-load
		// libraries (dlltool -y) without filling the delay-import data
		// directory: the program works, because the delay helper is handed
		// its descriptor directly, but the directory is zero. Unless the
		// file was stripped, each descriptor is still named in the COFF
		// symbol table as __DELAY_IMPORT_DESCRIPTOR_<lib>; read those. The
		// name is longer than 8 bytes, so it lives in the string table
		// after the symbols: when it is not there, skip the walk.
		const marker = "__DELAY_IMPORT_DESCRIPTOR_"
		if bytes.Contains(strtab, []byte(marker)) {
			for i := int64(0); i < nsym; i++ {
				sym := data[symPtr+18*i : symPtr+18*i+18]
				aux := int64(sym[17])
				if binary.LittleEndian.Uint32(sym[0:]) == 0 {
					off := int(binary.LittleEndian.Uint32(sym[4:]))
					if off < len(strtab) && bytes.HasPrefix(strtab[off:], []byte(marker)) {
						symName := string(strtab[off : off+max(bytes.IndexByte(strtab[off:], 0), 0)])
						secNum := int16(binary.LittleEndian.Uint16(sym[12:]))
						if secNum > 0 && int(secNum) <= len(img.sections) {
							rva := img.sections[secNum-1].va + binary.LittleEndian.Uint32(sym[8:])
							ims, err := img.delayImports(rva, 1)
							if err != nil {
								return nil, fmt.Errorf("%w (descriptor named by symbol %s)", err, symName)
							}
							out.Imports = append(out.Imports, ims...)
							out.DelayFromSymbols = true
						}
					}
				}
				i += aux
			}
		}
	}
	return out, nil
}

// longName resolves a section name of the form /<offset> (a name longer
// than 8 bytes, kept in the string table, as GNU ld writes .debug_info).
func longName(name string, strtab []byte) (string, bool) {
	if !strings.HasPrefix(name, "/") || strtab == nil {
		return "", false
	}
	var off int
	if _, err := fmt.Sscanf(name[1:], "%d", &off); err != nil || off < 4 || off >= len(strtab) {
		return "", false
	}
	end := bytes.IndexByte(strtab[off:], 0)
	if end < 0 || end > maxName {
		return "", false
	}
	return string(strtab[off : off+end]), true
}

// image maps relative virtual addresses to bytes of the sections.
type image struct {
	name     string
	data     []byte
	sections []section
	pe32     bool
	base     uint64
}

var errOutside = errors.New("outside every section")

// at returns the bytes of the section holding rva, from rva to the end of
// that section's data in the file.
func (m *image) at(rva uint32) ([]byte, error) {
	for _, s := range m.sections {
		size := max(s.vsize, s.rawSize)
		if rva < s.va || rva-s.va >= size {
			continue
		}
		end := int64(s.rawPtr) + int64(s.rawSize)
		if end > int64(len(m.data)) {
			return nil, fmt.Errorf("section %s is cut short in the file (%d of %d bytes)", s.name, max(int64(len(m.data))-int64(s.rawPtr), 0), s.rawSize)
		}
		data := m.data[s.rawPtr:end]
		off := rva - s.va
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
