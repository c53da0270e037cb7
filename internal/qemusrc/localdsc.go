package qemusrc

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"

	"qemupack/internal/source"
)

// localDebian takes the Debian source package from files already on disk:
// req.DebianDsc and the orig and debian tarballs it lists, in the same
// folder (as `apt-get source --download-only` leaves them, e.g. a
// QEMUPACK_MIRROR-style folder of hand downloads). Each tarball must have
// the sha256 the .dsc gives; the .dsc itself is trusted as given (apt's
// signed index is what vouches for it when apt fetched it).
func localDebian(ctx context.Context, req Request, pkg string) (debianPackage, error) {
	var dp debianPackage
	text, err := os.ReadFile(req.DebianDsc)
	if err != nil {
		return dp, fmt.Errorf("debian source: %w", err)
	}
	if dp.dsc, err = ParseDsc(string(text)); err != nil {
		return dp, fmt.Errorf("%s: %w", req.DebianDsc, err)
	}
	if dp.dsc.Source != pkg {
		return dp, fmt.Errorf("%s is the source package %s, not %s", req.DebianDsc, dp.dsc.Source, pkg)
	}
	dir := filepath.Dir(req.DebianDsc)
	get := func(re *regexp.Regexp, what string) (string, string, error) {
		f, ok := dp.dsc.Find(re)
		if !ok {
			return "", "", fmt.Errorf("%s lists no %s; only 3.0 (quilt) packages are understood", req.DebianDsc, what)
		}
		p := filepath.Join(dir, f.Name)
		sum, err := source.SHA256File(p)
		if err != nil {
			return "", "", fmt.Errorf("debian source %s: %w (the .dsc's files belong beside it)", pkg, err)
		}
		if sum != f.SHA256 {
			return "", "", fmt.Errorf("debian source %s: %s has sha256 %s, the .dsc says %s", pkg, p, sum, f.SHA256)
		}
		return p, sum, nil
	}
	if dp.orig, dp.origSHA, err = get(reOrig, "orig tarball"); err != nil {
		return dp, err
	}
	if dp.debian, dp.debianSHA, err = get(reDebian, "debian tarball"); err != nil {
		return dp, err
	}
	req.say("qemu: Debian source package %s %s from %s", pkg, dp.dsc.Version, dir)
	return dp, ctx.Err()
}
