package smoke

import (
	"bytes"
	"debug/pe"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
)

// minMachinePath is the shortest folder CheckBuildMachine looks for: a
// shorter one ("/q/") could match by chance inside unrelated bytes.
const minMachinePath = 8

// CheckBuildMachine fails when a file under dir names one of the build
// machine's folders (the checkout, the cache) or a QEMU program carries a
// link time. Either makes the archive depend on where and when it was
// built, so two checkouts of the same inputs would not give the same
// bytes. Link times are looked for in qemu-*.exe only: the DLLs copied
// from the host's packages (libgcc_s, libwinpthread, zlib1) carry the
// time their package was built, which is the same on every checkout.
func CheckBuildMachine(dir string, folders []string) error {
	var needles []string
	for _, f := range folders {
		f = strings.TrimRight(filepath.ToSlash(filepath.Clean(f)), "/") + "/"
		if len(f) >= minMachinePath {
			needles = append(needles, f)
		}
	}
	sort.Strings(needles)
	var problems []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		rel = filepath.ToSlash(rel)
		for _, n := range needles {
			if i := bytes.Index(data, []byte(n)); i >= 0 {
				problems = append(problems, fmt.Sprintf("%s names the build folder %s (byte %d)", rel, n, i))
			}
		}
		lower := strings.ToLower(rel)
		if base := path.Base(lower); strings.HasPrefix(base, "qemu") && strings.HasSuffix(base, ".exe") {
			f, err := pe.NewFile(bytes.NewReader(data))
			if err != nil {
				return fmt.Errorf("%s: %w", rel, err)
			}
			if ts := f.FileHeader.TimeDateStamp; ts != 0 {
				problems = append(problems, fmt.Sprintf("%s carries a link time (%d) in its PE header", rel, ts))
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("smoke: build machine check: %w", err)
	}
	if len(problems) > 0 {
		if len(problems) > 10 {
			problems = append(problems[:10], fmt.Sprintf("and %d more", len(problems)-10))
		}
		return fmt.Errorf("smoke: the archive depends on the machine that built it, so two checkouts would not give the same bytes:\n  %s\n(paths: build with -ffile-prefix-map=<folder>=. and no debug information; link time: link with -Wl,--no-insert-timestamp; `go run mage.go reprocheck` shows the first difference)", strings.Join(problems, "\n  "))
	}
	return nil
}
