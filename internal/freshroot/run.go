package freshroot

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"qemupack/internal/stepcache"
)

// Options say where the check keeps its things and what goes into a root.
type Options struct {
	// Cache holds the base tarball (kind "freshroot-base").
	Cache *stepcache.Cache
	// Dir holds the roots while they are used, debootstrap's scratch root
	// and the logs: <QEMUPACK_CACHE>/freshroot.
	Dir string
	// Checkout is the git checkout whose HEAD is cloned into the root.
	Checkout string
	Base     Base
	GoRoot   string // copied to /usr/local/go (default DefaultGoRoot)
	CABundle string // copied to /etc/ssl/certs/ca-certificates.crt (default DefaultCA)
	// LocalCAs is the machine's folder of locally added certificates,
	// copied to the same place in the root (default LocalCAs; skipped
	// when missing) so that the bundle keeps them when a package install
	// rebuilds it.
	LocalCAs string
	// Keep leaves each root in Dir after its run, for a look inside.
	Keep bool
	// Log receives progress lines; Output each line the command prints.
	Log    func(string)
	Output func(command, line string)
}

// Result is one command's run in its fresh root.
type Result struct {
	Command  string
	Commit   string        // the checkout's HEAD that was cloned
	BaseMade time.Time     // when the base root was made by debootstrap
	Root     string        // where the root was (removed afterwards unless Keep)
	Log      string        // the whole log: setup, the command's output, the /etc verdict
	Prepare  time.Duration // unpacking the base, copying Go, cloning
	Took     time.Duration // the command alone
	ExitErr  error         // the command's failure, nil when it passed
	Status   string        // how it ended: "exit status 0", "exit status 1", "signal: killed"
	Etc      Verdict
}

// OK says whether the command passed and /etc changed only as installing
// packages changes it.
func (r Result) OK() bool { return r.ExitErr == nil && r.Etc.OK() }

// Summary is one line for the user.
func (r Result) Summary() string {
	status := "passed"
	if r.ExitErr != nil {
		status = fmt.Sprintf("FAILED (%s)", r.Status)
	}
	etc := "/etc as installing packages leaves it"
	if !r.Etc.OK() {
		etc = fmt.Sprintf("/etc: %d unexplained change(s)", len(r.Etc.Bad))
	}
	return fmt.Sprintf("freshroot %s: %s in %s (root prepared in %s), %d package(s) installed, %s; log %s",
		r.Command, status, r.Took.Round(time.Second), r.Prepare.Round(time.Second), len(r.Etc.Installed), etc, r.Log)
}

func (o Options) say(format string, args ...any) {
	if o.Log != nil {
		o.Log(fmt.Sprintf(format, args...))
	}
}

// copyTree copies the tree at src to dst: folders, regular files and
// symbolic links, with their permission bits (Go's own tree has nothing
// else).
func copyTree(src, dst string) error {
	return filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		to := filepath.Join(dst, rel)
		info, err := d.Info()
		if err != nil {
			return err
		}
		switch {
		case d.IsDir():
			return os.MkdirAll(to, info.Mode().Perm()|0o700)
		case info.Mode()&fs.ModeSymlink != 0:
			target, err := os.Readlink(p)
			if err != nil {
				return err
			}
			return os.Symlink(target, to)
		case info.Mode().IsRegular():
			return copyFile(p, to, info.Mode().Perm())
		default:
			return fmt.Errorf("copy %s: %s is neither a file, a folder nor a link", src, p)
		}
	})
}

func copyFile(src, dst string, perm fs.FileMode) error {
	data, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	os.Remove(dst) // a link (resolv.conf often is one) is replaced, not followed
	return os.WriteFile(dst, data, perm)
}
