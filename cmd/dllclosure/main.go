// Command dllclosure prints the DLLs a Windows program needs beyond
// Windows' own, and the folder each was found in: the same closure the
// bundle step computes, for a program built by hand (e.g. under Cygwin,
// before copying it to another machine).
//
//	go run ./cmd/dllclosure -dir /usr/x86_64-w64-mingw32/lib -dir /usr/lib/gcc/x86_64-w64-mingw32/12-win32 prog.exe
//
// It exits 1 naming each DLL that no folder has, and the file importing it.
package main

import (
	"flag"
	"fmt"
	"os"
	"strings"

	"qemupack/internal/bundle"
)

type dirList []string

func (d *dirList) String() string     { return strings.Join(*d, ",") }
func (d *dirList) Set(s string) error { *d = append(*d, s); return nil }

func main() {
	var dirs dirList
	flag.Var(&dirs, "dir", "a folder to look DLLs up in, in order (repeat the flag)")
	flag.Usage = func() {
		fmt.Fprintln(os.Stderr, "usage: dllclosure [-dir FOLDER]... FILE.exe|FILE.dll...")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() == 0 {
		flag.Usage()
		os.Exit(2)
	}
	var search []bundle.SearchDir
	for _, d := range dirs {
		search = append(search, bundle.SearchDir{Path: d})
	}
	c, err := bundle.Resolve(flag.Args(), search)
	if err != nil {
		fmt.Fprintln(os.Stderr, "dllclosure:", err)
		os.Exit(1)
	}
	for _, d := range c.DLLs {
		fmt.Printf("%-28s %s (imported by %s)\n", d.Name, d.Path, strings.Join(d.ImportedBy, ", "))
	}
	fmt.Printf("%d DLLs to ship; Windows' own left out: %s\n", len(c.DLLs), strings.Join(c.System, " "))
}
