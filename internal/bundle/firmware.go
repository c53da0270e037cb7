package bundle

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Firmware is one folder of firmware files from a Debian binary package
// (seabios, ipxe-qemu, qemu-system-data: all architecture all), unpacked
// into the cache, with where it came from. The pipeline fills
// Input.Firmware with these from the same Debian suite as the QEMU source;
// then the host's own firmware folders (Input.FirmwareDirs) are not used.
type Firmware struct {
	Dir       string `json:"dir"`       // e.g. <unpacked>/usr/share/seabios
	Package   string `json:"package"`   // seabios
	Version   string `json:"version"`   // 1.17.0-1
	Suite     string `json:"suite"`     // sid
	Deb       string `json:"deb"`       // seabios_1.17.0-1_all.deb
	Copyright string `json:"copyright"` // <unpacked>/usr/share/doc/seabios/copyright
	root      string // the unpacked package: no file may resolve outside it
}

// Describe is the one line README.txt gives the package.
func (f Firmware) Describe() string {
	s := fmt.Sprintf("%s %s from Debian %s", f.Package, f.Version, f.Suite)
	if f.Deb != "" {
		s += " (" + f.Deb + ")"
	}
	return s
}

// firmwareFolders are where Debian's firmware packages put what QEMU
// loads: SeaBIOS, iPXE's ROMs (older ipxe-qemu: lib/ipxe/qemu, linked from
// share/qemu), and qemu-system-data's share/qemu.
var firmwareFolders = []string{"usr/share/seabios", "usr/lib/ipxe/qemu", "usr/share/qemu"}

// FirmwareFromDeb describes the firmware folders of a package unpacked at
// root (dpkg-deb -x, or the pipeline's extraction): one Firmware per
// folder it has, all naming its copyright file, which must be there.
func FirmwareFromDeb(root, pkg, version, suite, deb string) ([]Firmware, error) {
	copyright := filepath.Join(root, "usr", "share", "doc", pkg, "copyright")
	if _, err := os.Stat(copyright); err != nil {
		return nil, fmt.Errorf("bundle: firmware package %s %s: no copyright file (%w); is %s the unpacked package?", pkg, version, err, root)
	}
	var out []Firmware
	for _, d := range firmwareFolders {
		dir := filepath.Join(root, filepath.FromSlash(d))
		if st, err := os.Stat(dir); err == nil && st.IsDir() {
			out = append(out, Firmware{Dir: dir, Package: pkg, Version: version, Suite: suite, Deb: deb, Copyright: copyright, root: root})
		}
	}
	if len(out) == 0 && hasAlias(root) {
		// opensbi: only files QEMU knows under another name.
		out = append(out, Firmware{Dir: root, Package: pkg, Version: version, Suite: suite, Deb: deb, Copyright: copyright, root: root})
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("bundle: firmware package %s %s has none of %s", pkg, version, strings.Join(firmwareFolders, ", "))
	}
	return out, nil
}

// hasAlias says whether the unpacked package at root has a file of
// firmwareAliases.
func hasAlias(root string) bool {
	for _, paths := range firmwareAliases {
		for _, a := range paths {
			if _, err := os.Lstat(filepath.Join(root, filepath.FromSlash(a))); err == nil {
				return true
			}
		}
	}
	return false
}

// findFirmware finds name in the packages' folders in order. A file that
// is a link must resolve inside its own unpacked package (an absolute link
// would otherwise pick up whatever the host has at that path); one that
// resolves to nothing there is passed over.
func findFirmware(fws []Firmware, name string) (string, *Firmware, error) {
	for i := range fws {
		f := &fws[i]
		p := filepath.Join(f.Dir, filepath.FromSlash(name))
		if _, err := os.Lstat(p); err != nil {
			// The same file under the package's own name (firmwareAliases).
			p = ""
			for _, a := range firmwareAliases[name] {
				if f.root == "" {
					break
				}
				if q := filepath.Join(f.root, filepath.FromSlash(a)); fileExists(q) {
					p = q
					break
				}
			}
			if p == "" {
				continue
			}
		}
		real, err := filepath.EvalSymlinks(p)
		if errors.Is(err, fs.ErrNotExist) {
			// A link to a file of another package (qemu-system-data links
			// into seabios'): that package, later in the list, has it.
			continue
		}
		if err != nil {
			return "", nil, fmt.Errorf("bundle: firmware %s in %s: %w", name, f.Dir, err)
		}
		root := f.root
		if root == "" {
			root = f.Dir
		}
		if r, err := filepath.EvalSymlinks(root); err == nil {
			root = r
		}
		if rel, err := filepath.Rel(root, real); err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
			return "", nil, fmt.Errorf("bundle: firmware %s in %s is a link to %s, outside package %s", name, f.Dir, real, f.Package)
		}
		return p, f, nil
	}
	return "", nil, nil
}

// firmwareNotes are README.txt's lines on the packaged firmware: each
// package with the archive files it gave.
func firmwareNotes(given map[string]*Firmware) []string {
	byPkg := map[string][]string{}
	desc := map[string]string{}
	for name, f := range given {
		k := f.Package + " " + f.Version
		byPkg[k] = append(byPkg[k], name)
		desc[k] = f.Describe()
	}
	keys := make([]string, 0, len(byPkg))
	for k := range byPkg {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var out []string
	for _, k := range keys {
		files := byPkg[k]
		sort.Strings(files)
		out = append(out, fmt.Sprintf("%s: %s", desc[k], strings.Join(summarize(files), ", ")))
	}
	return out
}

// FirmwarePackagesFor lists the Debian packages the pipeline fetches (from
// the QEMU source's own suite) for the targets, in the order their files
// are searched; a target the table does not know is an error, not an
// archive that cannot boot.
func FirmwarePackagesFor(targets []string) ([]string, error) {
	if err := CheckTargets(targets); err != nil {
		return nil, err
	}
	var out []string
	seen := map[string]bool{}
	for _, t := range targets {
		for _, p := range firmwareTable[t].Packages {
			if !seen[p] {
				seen[p] = true
				out = append(out, p)
			}
		}
	}
	// One order whatever the targets, so a file two packages have comes
	// from the same one in every archive: the firmware projects' own
	// packages before qemu-system-data, which also carries copies
	// (bookworm's bios-microvm.bin is qboot there, SeaBIOS in seabios).
	sort.SliceStable(out, func(i, j int) bool { return packageRank(out[i]) < packageRank(out[j]) })
	return out, nil
}

var packageOrder = []string{"seabios", "ipxe-qemu", "opensbi"}

func packageRank(p string) int {
	for i, q := range packageOrder {
		if p == q {
			return i
		}
	}
	return len(packageOrder) // qemu-system-data and any other: last, in the table's order
}

// CheckTargets fails, before anything is built, for a target the firmware
// table (firmware_table.go) does not know: an archive for it would be
// bundled without what its machines need to start. It names the targets
// it knows.
func CheckTargets(targets []string) error {
	var unknown []string
	for _, t := range targets {
		if _, ok := firmwareTable[t]; !ok {
			unknown = append(unknown, t)
		}
	}
	if len(unknown) == 0 {
		return nil
	}
	return fmt.Errorf("bundle: no firmware list for %s (the archive would lack what its machines need to start); targets with one: %s; add the others' files and Debian packages to internal/bundle/firmware_table.go",
		strings.Join(unknown, ", "), strings.Join(FirmwareTargets(), ", "))
}

func fileExists(p string) bool {
	_, err := os.Lstat(p)
	return err == nil
}

// neededFirmware is every file the targets' table entries list, and of
// those the optional ones with why they may be absent (a file one target
// needs is not optional for another's sake). known: a target the table
// does not know is an error (false: the caller bundles no firmware).
func neededFirmware(targets []string, known bool) (need map[string]bool, optional map[string]string, err error) {
	need, optional = map[string]bool{}, map[string]string{}
	required := map[string]bool{}
	for _, t := range targets {
		list, ok := firmwareFilesFor(t)
		if !ok && known {
			return nil, nil, fmt.Errorf("bundle: no firmware list for target %s: add one to internal/bundle/firmware_table.go", t)
		}
		for _, f := range list {
			need[f.Name] = true
			if f.Optional == "" {
				required[f.Name] = true
			} else if _, ok := optional[f.Name]; !ok {
				optional[f.Name] = f.Optional
			}
		}
	}
	for n := range required {
		delete(optional, n)
	}
	return need, optional, nil
}
