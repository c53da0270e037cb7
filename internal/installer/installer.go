// Package installer makes a Windows installer (NSIS, through makensis) from
// the same staging folder the zip archive is made from. The installer puts
// the files into a folder the user picks (default: a per-user folder, no
// administrator rights needed), adds Start-menu entries, and writes an
// uninstaller that removes exactly the files and folders it installed (a file
// the user added to the folder stays, and so does the folder then).
package installer

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strings"

	"qemupack/internal/atomicfile"
	"qemupack/internal/run"
)

// Shortcut is one Start-menu entry.
type Shortcut struct {
	Name   string // the entry's title, e.g. "QEMU x86_64 (help)"
	Target string // the program, relative to the staging folder with / separators
	Args   string // its command line, may be ""
}

// Options say what to build.
type Options struct {
	StageDir  string // the staging folder: everything in it is installed
	OutFile   string // the installer to write, e.g. dist/qemu-9.2.4-win64-setup.exe
	Name      string // product name, e.g. "QEMU"
	Version   string // product version, e.g. "9.2.4"
	Publisher string // shown in "Apps & features"; default "qemupack"
	// InstallDirName is the folder name under the per-user programs folder
	// offered as the default ("QEMU" when empty).
	InstallDirName string
	Shortcuts      []Shortcut
	// Makensis is the makensis program ("makensis" when empty).
	Makensis string
	// Work is a folder for the generated script and the makensis log
	// (a temporary folder when empty).
	Work string
	// Finalize, when set, is called with the installer written to a
	// temporary path beside OutFile, before it is renamed to OutFile (this is
	// where it gets signed). An error leaves no OutFile behind.
	Finalize func(ctx context.Context, path string) error
	// SignUninstaller, when set, is a command that signs the file {in}
	// into {out} (sign.Signer.Command gives one): makensis runs it on the
	// uninstaller it generates, before packing it into the installer, so
	// the uninstaller is signed too. Needs a POSIX shell (Linux, Cygwin).
	SignUninstaller []string
	// uninstFinalize is the !uninstfinalize command line Build derives
	// from SignUninstaller ("%1" is the uninstaller's path).
	uninstFinalize string
}

// ErrNoMakensis is returned (wrapped) when makensis is not on PATH.
var ErrNoMakensis = errors.New("makensis not found")

// MakensisHint says how to install makensis on this kind of host.
func MakensisHint() string {
	return "install NSIS: `apt-get install nsis` (Debian/Ubuntu), `dnf install mingw32-nsis` (Fedora); " +
		"under Cygwin install NSIS for Windows (https://nsis.sourceforge.io) and put makensis.exe on PATH"
}

// Files lists every regular file under dir as a slash-separated path
// relative to it, sorted. Symbolic links and other special files are an
// error: the installer would not reproduce them.
func Files(dir string) ([]string, error) {
	var out []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			return nil
		}
		if !d.Type().IsRegular() {
			return fmt.Errorf("%s is not a regular file (a link or device cannot go into the installer)", p)
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		out = append(out, filepath.ToSlash(rel))
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("installer: list %s: %w", dir, err)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("installer: staging folder %s is empty: build and stage QEMU first", dir)
	}
	sort.Strings(out)
	return out, nil
}

// UninstallerName is the uninstaller's file name inside the install folder.
const UninstallerName = "uninstall.exe"

// Script returns the NSIS script that installs files (relative, slash-
// separated, as Files returns them) from o.StageDir and writes outFile.
// It is a pure function of its inputs, so the same inputs give the same
// script (and makensis the same installer).
func Script(o Options, files []string, outFile string) (string, error) {
	if o.Name == "" || o.Version == "" {
		return "", errors.New("installer: product name and version are required")
	}
	if len(files) == 0 {
		return "", errors.New("installer: no files to install")
	}
	publisher := o.Publisher
	if publisher == "" {
		publisher = "qemupack"
	}
	dirName := o.InstallDirName
	if dirName == "" {
		dirName = o.Name
	}
	have := map[string]bool{}
	for _, f := range files {
		if f == UninstallerName {
			return "", fmt.Errorf("installer: the staging folder has a file named %s, which the uninstaller needs", UninstallerName)
		}
		if strings.Contains(f, "\\") || strings.HasPrefix(f, "/") || strings.Contains("/"+f+"/", "/../") {
			return "", fmt.Errorf("installer: bad file path %q (want a relative path with / separators)", f)
		}
		have[f] = true
	}
	for _, s := range o.Shortcuts {
		if !have[s.Target] {
			return "", fmt.Errorf("installer: Start-menu entry %q points at %s, which is not in the staging folder", s.Name, s.Target)
		}
	}
	key := `Software\Microsoft\Windows\CurrentVersion\Uninstall\` + regKeyName(o.Name)
	smDir := "$SMPROGRAMS\\" + nsisEscape(o.Name+" "+o.Version)

	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	w("; Generated by qemupack: do not edit.")
	// A 64-bit installer for a 64-bit program: no WOW64 folder or registry
	// redirection, and it runs where only 64-bit Windows code runs (wine64).
	w("Target amd64-unicode")
	w("SetCompressor /SOLID lzma")
	w("SetDateSave off") // installed files get the install time, the installer carries no build-machine times
	w("RequestExecutionLevel user")
	w("Name %s", quote(o.Name+" "+o.Version))
	w("OutFile %s", quote(outFile))
	w("InstallDir %s", quote("$LOCALAPPDATA\\Programs\\"+nsisEscape(dirName)))
	w("ShowInstDetails show")
	w("ShowUninstDetails show")
	if vi := viVersion(o.Version); vi != "" {
		w("VIProductVersion %s", quote(vi))
		w("VIAddVersionKey ProductName %s", quote(nsisEscape(o.Name)))
		w("VIAddVersionKey ProductVersion %s", quote(nsisEscape(o.Version)))
		w("VIAddVersionKey FileVersion %s", quote(nsisEscape(o.Version)))
		w("VIAddVersionKey CompanyName %s", quote(nsisEscape(publisher)))
		w("VIAddVersionKey FileDescription %s", quote(nsisEscape(o.Name+" "+o.Version+" installer")))
		w("VIAddVersionKey LegalCopyright %s", quote("see the licences in the install folder"))
	}
	if o.uninstFinalize != "" {
		w("!uninstfinalize '%s'", o.uninstFinalize)
	}
	w("Page directory")
	w("Page instfiles")
	w("UninstPage uninstConfirm")
	w("UninstPage instfiles")
	w("")
	w("Section \"Install\"")
	dirs := folders(files)
	cur := "\x00" // no folder yet
	for _, f := range files {
		d := path.Dir(f)
		if d == "." {
			d = ""
		}
		if d != cur {
			w("  SetOutPath %s", quote(instPath(d)))
			cur = d
		}
		w("  File %s", quote(filepath.Join(o.StageDir, filepath.FromSlash(f))))
	}
	w("  SetOutPath \"$INSTDIR\"")
	w("  WriteUninstaller %s", quote("$INSTDIR\\"+UninstallerName))
	if len(o.Shortcuts) > 0 {
		w("  CreateDirectory %s", quote(smDir))
		for _, s := range o.Shortcuts {
			w("  CreateShortcut %s %s %s", quote(smDir+"\\"+nsisEscape(s.Name)+".lnk"),
				quote(instPath(s.Target)), quote(nsisEscape(s.Args)))
		}
		w("  CreateShortcut %s %s", quote(smDir+"\\Uninstall "+nsisEscape(o.Name)+".lnk"), quote("$INSTDIR\\"+UninstallerName))
	}
	w("  WriteRegStr HKCU %s \"DisplayName\" %s", quote(key), quote(nsisEscape(o.Name+" "+o.Version)))
	w("  WriteRegStr HKCU %s \"DisplayVersion\" %s", quote(key), quote(nsisEscape(o.Version)))
	w("  WriteRegStr HKCU %s \"Publisher\" %s", quote(key), quote(nsisEscape(publisher)))
	w("  WriteRegStr HKCU %s \"InstallLocation\" \"$INSTDIR\"", quote(key))
	w("  WriteRegStr HKCU %s \"UninstallString\" %s", quote(key), quote(`$\"$INSTDIR\`+UninstallerName+`$\"`))
	w("  WriteRegStr HKCU %s \"QuietUninstallString\" %s", quote(key), quote(`$\"$INSTDIR\`+UninstallerName+`$\" /S`))
	w("  WriteRegDWORD HKCU %s \"NoModify\" 1", quote(key))
	w("  WriteRegDWORD HKCU %s \"NoRepair\" 1", quote(key))
	w("SectionEnd")
	w("")
	w("Section \"Uninstall\"")
	for _, f := range files {
		w("  Delete %s", quote(instPath(f)))
	}
	w("  Delete %s", quote("$INSTDIR\\"+UninstallerName))
	// Deepest folders first; RMDir without /r only removes a folder that is
	// empty, so anything the user put there stays.
	for i := len(dirs) - 1; i >= 0; i-- {
		w("  RMDir %s", quote(instPath(dirs[i])))
	}
	w("  RMDir \"$INSTDIR\"")
	if len(o.Shortcuts) > 0 {
		for _, s := range o.Shortcuts {
			w("  Delete %s", quote(smDir+"\\"+nsisEscape(s.Name)+".lnk"))
		}
		w("  Delete %s", quote(smDir+"\\Uninstall "+nsisEscape(o.Name)+".lnk"))
		w("  RMDir %s", quote(smDir))
	}
	w("  DeleteRegKey HKCU %s", quote(key))
	w("SectionEnd")
	return b.String(), nil
}

// folders returns every folder (relative, slash-separated) that holds a
// file, including the parents, sorted so a parent comes before its children.
func folders(files []string) []string {
	set := map[string]bool{}
	for _, f := range files {
		for d := path.Dir(f); d != "." && d != "/"; d = path.Dir(d) {
			set[d] = true
		}
	}
	out := make([]string, 0, len(set))
	for d := range set {
		out = append(out, d)
	}
	sort.Strings(out)
	return out
}

func instPath(rel string) string {
	if rel == "" {
		return "$INSTDIR"
	}
	return "$INSTDIR\\" + nsisEscape(strings.ReplaceAll(rel, "/", "\\"))
}

// nsisEscape makes s literal inside an NSIS double-quoted string: $ starts
// a variable and $\" is a quote.
func nsisEscape(s string) string {
	s = strings.ReplaceAll(s, "$", "$$")
	s = strings.ReplaceAll(s, `"`, `$\"`)
	return s
}

// shQuote quotes s for a POSIX shell.
func shQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// quote wraps an already-escaped value in double quotes.
func quote(s string) string { return `"` + s + `"` }

var keyUnsafe = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

func regKeyName(name string) string {
	return "qemupack-" + strings.Trim(keyUnsafe.ReplaceAllString(name, "-"), "-")
}

// viVersion turns "9.2.4" (or "9.2.4-rc1") into the four-number form NSIS
// version resources need, or "" when the version has no leading number.
func viVersion(v string) string {
	m := regexp.MustCompile(`^(\d+)(?:\.(\d+))?(?:\.(\d+))?(?:\.(\d+))?`).FindStringSubmatch(v)
	if m == nil {
		return ""
	}
	parts := make([]string, 4)
	for i := range parts {
		parts[i] = m[i+1]
		if parts[i] == "" {
			parts[i] = "0"
		}
	}
	return strings.Join(parts, ".")
}

// Build writes the installer: it lists the staging folder, writes the
// script, runs makensis into a temporary file beside o.OutFile, calls
// o.Finalize on it, and renames it to o.OutFile. On any error no new
// o.OutFile is left (an old one stays as it was).
func Build(ctx context.Context, o Options) error {
	mk := o.Makensis
	if mk == "" {
		mk = "makensis"
	}
	mkPath, err := exec.LookPath(mk)
	if err != nil {
		return fmt.Errorf("installer: %w (%q is not on PATH): %s", ErrNoMakensis, mk, MakensisHint())
	}
	stage, err := filepath.Abs(o.StageDir)
	if err != nil {
		return fmt.Errorf("installer: %w", err)
	}
	o.StageDir = stage
	files, err := Files(stage)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(o.OutFile), 0o755); err != nil {
		return fmt.Errorf("installer: %w", err)
	}
	return atomicfile.WriteNamed(o.OutFile, 0o755, func(tmpPath string) error {
		return makeInstaller(ctx, o, mkPath, files, tmpPath)
	})
}

// makeInstaller runs makensis with its output at tmpPath, then o.Finalize.
func makeInstaller(ctx context.Context, o Options, mkPath string, files []string, tmpPath string) error {
	absTmp, err := filepath.Abs(tmpPath)
	if err != nil {
		return fmt.Errorf("installer: %w", err)
	}
	work := o.Work
	if work == "" {
		work, err = os.MkdirTemp("", "qemupack-nsis-")
		if err != nil {
			return fmt.Errorf("installer: %w", err)
		}
		defer os.RemoveAll(work)
	} else if err := os.MkdirAll(work, 0o755); err != nil {
		return fmt.Errorf("installer: %w", err)
	}
	if len(o.SignUninstaller) > 0 {
		if runtime.GOOS == "windows" {
			return fmt.Errorf("installer: signing the uninstaller needs a POSIX shell for makensis to run; not supported with a native Windows makensis")
		}
		signer := filepath.Join(work, "sign-uninstaller.sh")
		var cmd []string
		for _, a := range o.SignUninstaller {
			switch a {
			case "{in}":
				cmd = append(cmd, `"$1"`)
			case "{out}":
				cmd = append(cmd, `"$1.signed"`)
			default:
				cmd = append(cmd, shQuote(a))
			}
		}
		text := "#!/bin/sh\n# makensis runs this on the uninstaller it generated.\nset -e\n" +
			strings.Join(cmd, " ") + "\nmv -f \"$1.signed\" \"$1\"\n"
		if strings.ContainsAny(signer, `'"$`) {
			return fmt.Errorf("installer: work folder %s has a quote or $ in its name", work)
		}
		if err := os.WriteFile(signer, []byte(text), 0o700); err != nil {
			return fmt.Errorf("installer: %w", err)
		}
		o.uninstFinalize = `/bin/sh "` + signer + `" "%1"`
	}
	script, err := Script(o, files, absTmp)
	if err != nil {
		return err
	}
	nsi := filepath.Join(work, "installer.nsi")
	if err := os.WriteFile(nsi, []byte(script), 0o644); err != nil {
		return fmt.Errorf("installer: %w", err)
	}
	err = run.Run(ctx, run.Cmd{
		Args: []string{mkPath, "-V2", "-INPUTCHARSET", "UTF8", "-NOCD", nsi},
		Dir:  work,
		Log:  filepath.Join(work, "makensis.log"),
		// makensis reads SOURCE_DATE_EPOCH for nothing we rely on, but a
		// fixed LANG keeps its messages in one language for the log.
		Env: run.Environ("LANG=C.UTF-8", "LC_ALL=C.UTF-8"),
	})
	if err != nil {
		return fmt.Errorf("installer: makensis failed (script %s): %w", nsi, err)
	}
	if fi, err := os.Stat(tmpPath); err != nil || fi.Size() == 0 {
		return fmt.Errorf("installer: makensis wrote no installer to %s", tmpPath)
	}
	if o.Finalize != nil {
		if err := o.Finalize(ctx, tmpPath); err != nil {
			return fmt.Errorf("installer %s: %w", o.OutFile, err)
		}
	}
	return nil
}
