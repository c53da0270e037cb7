package pe

import (
	"bytes"
	stdpe "debug/pe"
	"encoding/binary"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"qemupack/internal/pe/petest"
)

func importOf(t *testing.T, f *File, dll string) Import {
	t.Helper()
	for _, im := range f.Imports {
		if strings.EqualFold(im.DLL, dll) {
			return im
		}
	}
	t.Fatalf("%s: no import of %s; imports: %v", f.Path, dll, f.DLLs())
	return Import{}
}

func TestRealMingwGraph(t *testing.T) {
	fx := petest.Build(t)

	main, err := Open(fx.Main)
	if err != nil {
		t.Fatal(err)
	}
	if main.Machine != stdpe.IMAGE_FILE_MACHINE_AMD64 || main.PE32 || main.DLL {
		t.Errorf("main.exe: machine %s pe32=%v dll=%v", MachineName(main.Machine), main.PE32, main.DLL)
	}
	if got, want := SortedLower(main.DLLs()), []string{"kernel32.dll", "liba.dll", "libc3.dll", "libd.dll", "msvcrt.dll", "zlib1.dll"}; !slices.Equal(got, want) {
		t.Errorf("main.exe DLLs = %v, want %v", got, want)
	}
	// Import by ordinal: libd.def exports d_func only as @7 NONAME.
	d := importOf(t, main, "libd.dll")
	if len(d.Symbols) != 1 || !d.Symbols[0].ByOrdinal || d.Symbols[0].Ordinal != 7 || d.Delay {
		t.Errorf("libd.dll import = %+v, want one symbol by ordinal 7", d)
	}
	// Delay load through dlltool -y: GNU ld 2.40 leaves the directory empty,
	// the reader finds the descriptor through its symbol.
	c3 := importOf(t, main, "libc3.dll")
	if !c3.Delay || len(c3.Symbols) != 1 || c3.Symbols[0].Name != "c_func" {
		t.Errorf("libc3.dll import = %+v, want delay-loaded c_func", c3)
	}
	a := importOf(t, main, "liba.dll")
	if a.Delay || len(a.Symbols) != 1 || a.Symbols[0].Name != "a_func" {
		t.Errorf("liba.dll import = %+v", a)
	}

	liba, err := Open(fx.LibA)
	if err != nil {
		t.Fatal(err)
	}
	if !liba.DLL {
		t.Error("liba.dll not marked as a DLL")
	}
	if got, want := SortedLower(liba.DLLs()), []string{"kernel32.dll", "libb.dll", "libgcc_s_seh-1.dll", "msvcrt.dll"}; !slices.Equal(got, want) {
		t.Errorf("liba.dll DLLs = %v, want %v", got, want)
	}
	if b := importOf(t, liba, "libb.dll"); len(b.Symbols) != 1 || b.Symbols[0].Name != "b_func" {
		t.Errorf("libb.dll import = %+v", b)
	}

	// The standard library's reader loses the ordinal import: the reason
	// this package exists.
	sf, err := stdpe.Open(fx.Main)
	if err != nil {
		t.Fatal(err)
	}
	defer sf.Close()
	syms, _ := sf.ImportedSymbols()
	for _, s := range syms {
		if strings.HasSuffix(strings.ToLower(s), ":libd.dll") {
			t.Errorf("debug/pe now reports %q; revisit the package comment", s)
		}
	}
}

// delayDescriptorRVA finds dlltool's descriptor through the symbol table.
func delayDescriptorRVA(t *testing.T, path string) uint32 {
	sf, err := stdpe.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer sf.Close()
	for _, s := range sf.Symbols {
		if strings.HasPrefix(s.Name, "__DELAY_IMPORT_DESCRIPTOR_") {
			return sf.Sections[s.SectionNumber-1].VirtualAddress + s.Value
		}
	}
	t.Fatal("no delay descriptor symbol")
	return 0
}

// dataDirOffset is where data directory entry i sits in a PE32+ file.
func dataDirOffset(b []byte, i int) int {
	lfanew := int(binary.LittleEndian.Uint32(b[0x3c:]))
	return lfanew + 4 + 20 + 112 + 8*i
}

func TestDelayDirectoryFilled(t *testing.T) {
	// What a linker that fills the delay-import directory (lld, newer GNU
	// ld) produces: the same file with entry 13 pointing at the descriptor.
	fx := petest.Build(t)
	b, err := os.ReadFile(fx.Main)
	if err != nil {
		t.Fatal(err)
	}
	off := dataDirOffset(b, stdpe.IMAGE_DIRECTORY_ENTRY_DELAY_IMPORT)
	if binary.LittleEndian.Uint64(b[off:]) != 0 {
		t.Fatalf("the linker now fills the delay-import directory; adjust this test")
	}
	binary.LittleEndian.PutUint32(b[off:], delayDescriptorRVA(t, fx.Main))
	binary.LittleEndian.PutUint32(b[off+4:], 32)
	f, err := Parse(b, "patched main.exe")
	if err != nil {
		t.Fatal(err)
	}
	if f.DelayFromSymbols {
		t.Error("descriptor taken from symbols although the directory is filled")
	}
	if c3 := importOf(t, f, "libc3.dll"); !c3.Delay || len(c3.Symbols) != 1 || c3.Symbols[0].Name != "c_func" {
		t.Errorf("libc3.dll import = %+v", c3)
	}
}

func TestStrippedLosesGNUDelayImport(t *testing.T) {
	// Documented limit: with GNU ld 2.40's empty directory and no symbols,
	// nothing in the file says which DLL is delay-loaded.
	fx := petest.Build(t)
	petest.Need(t, fx.Cross+"strip", "binutils-mingw-w64-x86-64")
	out := filepath.Join(t.TempDir(), "main.exe")
	if b, err := exec.Command(fx.Cross+"strip", "-o", out, fx.Main).CombinedOutput(); err != nil {
		t.Fatalf("strip: %v\n%s", err, b)
	}
	f, err := Open(out)
	if err != nil {
		t.Fatal(err)
	}
	if got := SortedLower(f.DLLs()); slices.Contains(got, "libc3.dll") || !slices.Contains(got, "libd.dll") {
		t.Errorf("stripped main.exe DLLs = %v", got)
	}
	// What a strip removes, as the bundle's stripping checks it.
	orig, err := Open(fx.Main)
	if err != nil {
		t.Fatal(err)
	}
	if !orig.HasDebug() || orig.Symbols == 0 || f.HasDebug() || f.Symbols != 0 {
		t.Errorf("HasDebug/Symbols: unstripped %v/%d, stripped %v/%d", orig.HasDebug(), orig.Symbols, f.HasDebug(), f.Symbols)
	}
	// Section names longer than 8 bytes (/4 in the header) are resolved.
	std, err := stdpe.Open(fx.Main)
	if err != nil {
		t.Fatal(err)
	}
	defer std.Close()
	var want []string
	for _, s := range std.Sections {
		want = append(want, s.Name)
	}
	if !slices.Equal(orig.Sections, want) || !slices.Contains(want, ".debug_info") && !slices.Contains(want, ".debug_frame") {
		t.Errorf("sections %v, debug/pe says %v", orig.Sections, want)
	}
	if orig.TimeDateStamp != std.TimeDateStamp {
		t.Errorf("link time %d, debug/pe says %d", orig.TimeDateStamp, std.TimeDateStamp)
	}
}

func TestPE32AgainstObjdump(t *testing.T) {
	// Real 32-bit DLLs: NSIS's x86 plugins (Debian package nsis-common).
	files, _ := filepath.Glob("/usr/share/nsis/Plugins/x86-unicode/*.dll")
	if len(files) == 0 {
		t.Fatal("no PE32 files found: install the Debian package nsis (nsis-common ships /usr/share/nsis/Plugins/x86-unicode)")
	}
	petest.Need(t, "x86_64-w64-mingw32-objdump", "binutils-mingw-w64-x86-64")
	for _, p := range files {
		f, err := Open(p)
		if err != nil {
			t.Fatal(err)
		}
		if !f.PE32 || f.Machine != stdpe.IMAGE_FILE_MACHINE_I386 {
			t.Errorf("%s: pe32=%v machine=%s", p, f.PE32, MachineName(f.Machine))
		}
		want, err := petest.ObjdumpDLLs("x86_64-w64-mingw32-", p)
		if err != nil {
			t.Fatal(err)
		}
		if got := SortedLower(f.DLLs()); !slices.Equal(got, SortedLower(want)) || len(got) == 0 {
			t.Errorf("%s: reader %v, objdump %v", filepath.Base(p), got, SortedLower(want))
		}
		for _, im := range f.Imports {
			for _, s := range im.Symbols {
				if !s.ByOrdinal && s.Name == "" {
					t.Errorf("%s: empty symbol name from %s", p, im.DLL)
				}
			}
		}
	}
}

func TestBadFiles(t *testing.T) {
	fx := petest.Build(t)
	good, err := os.ReadFile(fx.Main)
	if err != nil {
		t.Fatal(err)
	}
	sf, err := stdpe.Open(fx.Main)
	if err != nil {
		t.Fatal(err)
	}
	var idata *stdpe.Section
	for _, s := range sf.Sections {
		if s.Name == ".idata" {
			idata = s
		}
	}
	sf.Close()
	if idata == nil {
		t.Fatal("main.exe has no .idata section")
	}
	impOff := dataDirOffset(good, stdpe.IMAGE_DIRECTORY_ENTRY_IMPORT)

	cases := map[string]struct {
		data []byte
		want string
	}{
		"empty":          {nil, "not a readable PE file"},
		"text":           {[]byte("#!/bin/sh\necho not a program\n"), "not a readable PE file"},
		"headers only":   {good[:0x200], ""},
		"cut in .idata":  {good[:idata.Offset+16], ""},
		"import outside": {patch32(good, impOff, 0x7fff0000), "outside every section"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := Parse(c.data, name)
			if err == nil {
				t.Fatal("no error for a bad file")
			}
			if !strings.Contains(err.Error(), name) || (c.want != "" && !strings.Contains(err.Error(), c.want)) {
				t.Errorf("error %q lacks the file name or %q", err, c.want)
			}
		})
	}
	if _, err := Open(filepath.Join(t.TempDir(), "missing.dll")); err == nil || !strings.Contains(err.Error(), "missing.dll") {
		t.Errorf("missing file: %v", err)
	}
}

func patch32(b []byte, off int, v uint32) []byte {
	c := bytes.Clone(b)
	binary.LittleEndian.PutUint32(c[off:], v)
	return c
}

// Cut and damaged copies of a real file must give an error or a result,
// never a panic or a hang.
func TestDamagedCopiesNeverPanic(t *testing.T) {
	fx := petest.Build(t)
	good, err := os.ReadFile(fx.Main)
	if err != nil {
		t.Fatal(err)
	}
	for n := 0; n < len(good); n += 97 {
		Parse(good[:n], "cut")
	}
	for i := 0; i < 0x600 && i < len(good); i++ {
		for _, v := range []byte{0x00, 0xff, 0x7f} {
			b := bytes.Clone(good)
			b[i] = v
			Parse(b, "flipped")
		}
	}
}

func FuzzParse(f *testing.F) {
	fx := petest.Build(f)
	for _, p := range []string{fx.Main, fx.LibA, fx.LibD} {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		Parse(b, "fuzz")
	})
}
