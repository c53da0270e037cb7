package freshroot

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"qemupack/internal/flock"
	"qemupack/internal/run"
	"qemupack/internal/stepcache"
)

// baseFile is the tarball inside the base's cache entry.
const baseFile = "base.tar.gz"

// Run runs one README command in its own fresh root and judges it. The
// error is for a root that could not be made or cleaned up; the command's
// own failure and the /etc verdict are in the Result (see Result.OK).
func Run(ctx context.Context, o Options, command string) (res Result, err error) {
	res.Command = command
	if os.Geteuid() != 0 {
		return res, errors.New("freshroot: run it as root (debootstrap, chroot and mounts need root)")
	}
	if o.Dir == "" || !filepath.IsAbs(o.Dir) {
		return res, fmt.Errorf("freshroot: the work folder %q is not an absolute path", o.Dir)
	}
	if o.GoRoot == "" {
		o.GoRoot = DefaultGoRoot
	}
	if o.CABundle == "" {
		o.CABundle = DefaultCA
	}
	if o.LocalCAs == "" {
		o.LocalCAs = LocalCAs
	}
	o.Base = o.Base.WithDefaults(debArch(runtime.GOARCH))
	// One check at a time per cache: a second would take the first one's
	// root for a leftover.
	unlock, err := flock.Lock(ctx, filepath.Join(o.Dir, ".lock"), func() {
		o.say("freshroot: another fresh-root check uses %s; waiting", o.Dir)
	})
	if err != nil {
		return res, fmt.Errorf("freshroot: %w", err)
	}
	defer unlock()
	roots := filepath.Join(o.Dir, "roots")
	if err := cleanLeftovers(o, roots); err != nil {
		return res, err
	}

	commit, err := run.Output(ctx, run.Cmd{Args: []string{"git", "-C", o.Checkout, "rev-parse", "HEAD"}})
	if err != nil {
		return res, fmt.Errorf("freshroot: %s is not a git checkout with a commit: %w", o.Checkout, err)
	}
	res.Commit = strings.TrimSpace(commit)

	base, err := o.base(ctx)
	if err != nil {
		return res, err
	}
	defer base.Release()
	if rec, err := stepcache.ReadRecord(base.Dir); err == nil {
		res.BaseMade = rec.Made
	}

	stamp := time.Now().UTC().Format("20060102T150405Z")
	res.Root = filepath.Join(roots, command+"-"+stamp)
	res.Log = filepath.Join(o.Dir, "logs", command+"-"+stamp+".log")
	if err := os.MkdirAll(filepath.Dir(res.Log), 0o755); err != nil {
		return res, fmt.Errorf("freshroot: %w", err)
	}
	logf, err := os.Create(res.Log)
	if err != nil {
		return res, fmt.Errorf("freshroot: %w", err)
	}
	defer logf.Close()
	note := func(format string, args ...any) {
		line := fmt.Sprintf(format, args...)
		fmt.Fprintln(logf, line)
		o.say("%s", line)
	}
	note("freshroot %s: checkout %s at %s; base %s (made %s by debootstrap from %s)", command, o.Checkout, res.Commit,
		o.Base.Name(), res.BaseMade.Format(time.RFC3339), o.Base.Mirror)

	if !o.Keep {
		defer func() {
			if rerr := removeRoot(res.Root); rerr != nil && err == nil {
				err = rerr
			}
		}()
	}
	prepStart := time.Now()
	if err := o.prepare(ctx, base.Dir, res.Root); err != nil {
		return res, err
	}
	res.Prepare = time.Since(prepStart)
	note("root ready in %s: %s (Go from %s, CA bundle %s and the certificates in %s, the host's resolv.conf, clone of %s)",
		res.Prepare.Round(time.Second), res.Root, o.GoRoot, o.CABundle, o.LocalCAs, res.Commit[:12])

	etcBefore, err := Snapshot(filepath.Join(res.Root, "etc"), "/etc")
	if err != nil {
		return res, fmt.Errorf("freshroot: %w", err)
	}
	statusBefore, err := readStatus(res.Root)
	if err != nil {
		return res, err
	}

	args := ChrootArgs(res.Root, command)
	note("running, with only %s in the environment: %s", strings.Join(InnerEnv(), " "), strings.Join(args, " "))
	start := time.Now()
	res.ExitErr = o.runInside(ctx, res.Root, args, func(line string) {
		// The log's lines carry the time since the command started, so
		// a slow part shows where it was.
		d := time.Since(start).Round(time.Second)
		fmt.Fprintf(logf, "%02d:%02d %s\n", int(d.Minutes()), int(d.Seconds())%60, line)
		if o.Output != nil {
			o.Output(command, line)
		}
	})
	res.Took = time.Since(start)
	res.Status = "exit status 0"
	if res.ExitErr != nil {
		var re *run.Error
		if errors.As(res.ExitErr, &re) {
			res.Status = re.Err.Error()
		} else {
			res.Status = res.ExitErr.Error()
		}
	}
	note("%s: %s after %s", command, res.Status, res.Took.Round(time.Second))
	if ctx.Err() != nil {
		return res, fmt.Errorf("freshroot %s: %w", command, ctx.Err())
	}

	etcAfter, err := Snapshot(filepath.Join(res.Root, "etc"), "/etc")
	if err != nil {
		return res, fmt.Errorf("freshroot: %w", err)
	}
	statusAfter, err := readStatus(res.Root)
	if err != nil {
		return res, err
	}
	installed := Installed(statusBefore, statusAfter)
	owned, err := ReadOwned(res.Root, installed)
	if err != nil {
		return res, fmt.Errorf("freshroot: %w", err)
	}
	res.Etc = Judge(Diff(etcBefore, etcAfter), installed, owned, ReadScripts(res.Root, installed))
	var names []string
	for _, p := range installed {
		names = append(names, p.Name)
	}
	fmt.Fprintf(logf, "installed during the run: %s\n", strings.Join(names, " "))
	for _, line := range strings.Split(strings.TrimRight(res.Etc.Report(), "\n"), "\n") {
		note("%s", line)
	}
	return res, nil
}

// debArch is Debian's name for a Go architecture.
func debArch(goarch string) string {
	if a, ok := map[string]string{"386": "i386", "arm": "armhf"}[goarch]; ok {
		return a
	}
	return goarch
}

// base returns the cache entry holding the base tarball, making it with
// debootstrap when there is none. The month is an input, so a base is
// made again once a month and a "fresh machine" has current packages;
// old bases go the way of every cache entry (QEMUPACK_CACHE_KEEP).
func (o Options) base(ctx context.Context) (*stepcache.Entry, error) {
	var in stepcache.Inputs
	in.Add("suite", o.Base.Suite).Add("mirror", o.Base.Mirror).Add("variant", o.Base.Variant).Add("arch", o.Base.Arch)
	if err := in.AddFile("keyring", o.Base.Keyring); err != nil {
		return nil, fmt.Errorf("freshroot: the archive keyring: %w (install debian-archive-keyring)", err)
	}
	in.Add("month", time.Now().UTC().Format("2006-01"))
	scratch := filepath.Join(o.Dir, "debootstrap")
	check := func(dir string) error {
		_, err := os.Stat(filepath.Join(dir, baseFile))
		return err
	}
	return o.Cache.Do(ctx, "freshroot-base", o.Base.Name(), in, stepcache.Options{Check: check},
		func(ctx context.Context, tmp, final, work string) error {
			if err := removeRoot(scratch); err != nil {
				return err
			}
			defer removeRoot(scratch)
			if err := os.MkdirAll(scratch, 0o755); err != nil {
				return err
			}
			log := filepath.Join(o.Dir, "logs", "debootstrap-"+time.Now().UTC().Format("20060102T150405Z")+".log")
			o.say("freshroot: making the base root %s with debootstrap (a few minutes, once a month); log %s", o.Base.Name(), log)
			start := time.Now()
			if err := run.Run(ctx, run.Cmd{Args: o.Base.DebootstrapArgs(scratch), Log: log, Env: run.Environ("LC_ALL=C")}); err != nil {
				return fmt.Errorf("freshroot: debootstrap: %w", err)
			}
			if err := run.Run(ctx, run.Cmd{Args: PackArgs(scratch, filepath.Join(tmp, baseFile))}); err != nil {
				return fmt.Errorf("freshroot: packing the base: %w", err)
			}
			o.say("freshroot: base root made in %s", time.Since(start).Round(time.Second))
			return nil
		})
}

// prepare unpacks a pristine root and puts into it what a user brings to
// a fresh machine: Go, the CA bundle (Go's downloads verify TLS with it),
// DNS settings, and the checkout.
func (o Options) prepare(ctx context.Context, baseDir, root string) error {
	if err := os.MkdirAll(root, 0o755); err != nil {
		return fmt.Errorf("freshroot: %w", err)
	}
	if err := run.Run(ctx, run.Cmd{Args: UnpackArgs(filepath.Join(baseDir, baseFile), root)}); err != nil {
		return fmt.Errorf("freshroot: unpacking the base: %w", err)
	}
	if err := copyTree(o.GoRoot, HostPath(root, DefaultGoRoot)); err != nil {
		return fmt.Errorf("freshroot: copying Go from %s: %w", o.GoRoot, err)
	}
	if err := copyFile(o.CABundle, HostPath(root, DefaultCA), 0o644); err != nil {
		return fmt.Errorf("freshroot: copying the CA bundle: %w", err)
	}
	// Without these, the first package that pulls in ca-certificates
	// rebuilds the bundle from Mozilla's list alone, and behind a TLS
	// proxy every download after it fails.
	if fi, err := os.Stat(o.LocalCAs); err == nil && fi.IsDir() {
		if err := copyTree(o.LocalCAs, HostPath(root, LocalCAs)); err != nil {
			return fmt.Errorf("freshroot: copying the machine's local certificates: %w", err)
		}
	}
	if err := copyFile("/etc/resolv.conf", HostPath(root, "/etc/resolv.conf"), 0o644); err != nil {
		return fmt.Errorf("freshroot: copying resolv.conf: %w", err)
	}
	if err := run.Run(ctx, run.Cmd{Args: CloneArgs(o.Checkout, HostPath(root, Checkout))}); err != nil {
		return fmt.Errorf("freshroot: cloning the checkout: %w", err)
	}
	return nil
}

// runInside mounts what the chroot needs, runs args, stops whatever the
// command left running inside, and unmounts, however the command ends.
func (o Options) runInside(ctx context.Context, root string, args []string, line func(string)) (err error) {
	defer func() {
		killInside(root)
		if uerr := unmountAll(root); uerr != nil {
			err = errors.Join(err, uerr)
		}
	}()
	for _, m := range Mounts() {
		if err := mount(root, m); err != nil {
			return err
		}
	}
	return run.Run(ctx, run.Cmd{Args: args, Env: []string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin"}, Line: line, TailLines: 20})
}

var mountFlags = map[string]uintptr{"nosuid": syscall.MS_NOSUID, "nodev": syscall.MS_NODEV, "noexec": syscall.MS_NOEXEC, "ro": syscall.MS_RDONLY}

func mount(root string, m Mount) error {
	target := HostPath(root, m.Target)
	var flags uintptr
	for _, f := range m.Flags {
		flags |= mountFlags[f]
	}
	if m.Bind {
		src := m.Source
		if src == "" {
			src = root
		}
		if err := syscall.Mount(src, target, "", syscall.MS_BIND, ""); err != nil {
			return fmt.Errorf("freshroot: mount %s: %w", m, err)
		}
		// Private at once: nothing mounted below it reaches the host's
		// own mounts, and nothing of the host's reaches in.
		if err := syscall.Mount("", target, "", syscall.MS_PRIVATE, ""); err != nil {
			return fmt.Errorf("freshroot: make %s private: %w", target, err)
		}
		return nil
	}
	if err := os.MkdirAll(target, 0o755); err != nil {
		return fmt.Errorf("freshroot: mount point %s: %w", target, err)
	}
	if err := syscall.Mount(m.Source, target, m.Type, flags, m.Data); err != nil {
		return fmt.Errorf("freshroot: mount %s: %w", m, err)
	}
	return nil
}

func mountInfo() ([]MountInfo, error) {
	data, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return nil, fmt.Errorf("freshroot: %w", err)
	}
	return ParseMountInfo(string(data))
}

// unmountAll unmounts everything at or below dir, leaves first; a mount
// still busy after that is detached (it goes once its last user exits).
func unmountAll(dir string) error {
	for round := 0; round < 64; round++ {
		ms, err := mountInfo()
		if err != nil {
			return err
		}
		leaves := Leaves(ms, dir)
		if len(leaves) == 0 {
			return nil
		}
		for _, m := range leaves {
			if err := syscall.Unmount(m.Target, 0); err != nil {
				killInside(dir)
				if err := syscall.Unmount(m.Target, syscall.MNT_DETACH); err != nil {
					return fmt.Errorf("freshroot: unmount %s: %w (unmount it by hand: umount -R %s)", m.Target, err, dir)
				}
			}
		}
	}
	return fmt.Errorf("freshroot: mounts under %s would not go (unmount them by hand: umount -R %s)", dir, dir)
}

// killInside stops every process whose root is dir or below it: what the
// command started and left running (wineserver, an agent).
func killInside(dir string) {
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		r, err := os.Readlink(filepath.Join("/proc", e.Name(), "root"))
		if err != nil {
			continue
		}
		if r == dir || strings.HasPrefix(r, dir+"/") {
			syscall.Kill(pid, syscall.SIGKILL)
		}
	}
	time.Sleep(200 * time.Millisecond)
}

// removeRoot removes a root folder, but only once nothing is mounted
// below it: removing through a bind mount of /dev would delete the host's
// device nodes.
func removeRoot(dir string) error {
	if _, err := os.Lstat(dir); errors.Is(err, os.ErrNotExist) {
		return nil
	}
	killInside(dir)
	if err := unmountAll(dir); err != nil {
		return err
	}
	ms, err := mountInfo()
	if err != nil {
		return err
	}
	if left := Under(ms, dir); len(left) > 0 {
		return fmt.Errorf("freshroot: %s still has %s mounted: not removing it (unmount by hand: umount -R %s)", dir, left[0].Target, dir)
	}
	if err := os.RemoveAll(dir); err != nil {
		return fmt.Errorf("freshroot: removing %s: %w", dir, err)
	}
	return nil
}

// cleanLeftovers removes the roots of runs that were killed before they
// could clean up (their mounts first).
func cleanLeftovers(o Options, roots string) error {
	ents, err := os.ReadDir(roots)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("freshroot: %w", err)
	}
	for _, e := range ents {
		dir := filepath.Join(roots, e.Name())
		if o.Keep {
			// Kept for a look inside, but never with the host's /dev
			// mounted in it, where a plain rm -rf would reach.
			killInside(dir)
			if err := unmountAll(dir); err != nil {
				return err
			}
			o.say("freshroot: an earlier root is still in %s (QEMUPACK_FRESH_KEEP=1 leaves them; nothing is mounted in it, remove it when done)", dir)
			continue
		}
		o.say("freshroot: removing the earlier root %s", dir)
		if err := removeRoot(dir); err != nil {
			return err
		}
	}
	return nil
}

func readStatus(root string) (map[string]Package, error) {
	f, err := os.Open(filepath.Join(root, "var", "lib", "dpkg", "status"))
	if err != nil {
		return nil, fmt.Errorf("freshroot: %w", err)
	}
	defer f.Close()
	return ParseStatus(f)
}
