package targets

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"qemupack/internal/checksum"
	"qemupack/internal/config"
	"qemupack/internal/pick"
	"qemupack/internal/pipeline"
)

// Bundle runs the main job end to end, up to the smoke test.
func Bundle(ctx context.Context) error {
	start := time.Now()
	cfg, err := settings()
	if err != nil {
		return err
	}
	// A rerun with nothing changed: the last run's record says what it
	// read and wrote; when all of it is as it was, there is nothing to do.
	if line, ok, changed := pipeline.Unchanged(cfg, "bundle"); ok {
		say("bundle: nothing changed since the last run (qemupack, settings, checkout, host tools and packages, Debian's package lists, dist files)")
		done(line, start)
		return nil
	} else if changed != "" {
		say("bundle: %s since the last run; running the steps", changed)
	}
	r, err := pipelineTo(ctx, "smoke", func(r *pipeline.Run) { r.Skip["smoke"] = r.Config.SkipSmoke })
	if err != nil {
		return err
	}
	b := r.Bundle
	smoked := "smoke passed"
	if r.Config.SkipSmoke {
		smoked = fmt.Sprintf("smoke SKIPPED (%s=skip): the archive is untested", config.EnvSmoke)
	} else if r.SmokeHit {
		smoked = "smoke passed earlier for this archive"
	}
	line := func(smoked string) string {
		return fmt.Sprintf("bundle: %s (%.1f MB, %d DLLs), %s", b.Archive.Path, float64(b.Archive.Size)/1e6, len(b.Closure.DLLs), smoked)
	}
	rerun := "smoke passed earlier for this archive"
	if r.Config.SkipSmoke {
		rerun = smoked
	}
	outputs := []string{b.Archive.Path, filepath.Join(r.Config.DistDir, checksum.SumsFile)}
	if b.Debug.Path != "" {
		outputs = append(outputs, b.Debug.Path)
	}
	if err := r.Remember("bundle", line(rerun), outputs); err != nil {
		// Not a failure of this run: the next one runs its steps.
		say("bundle: %v (the next run will check every step again)", err)
	}
	done(line(smoked), start)
	return nil
}

// Build runs the main job up to the staged QEMU build.
func Build(ctx context.Context) error {
	start := time.Now()
	r, err := pipelineTo(ctx, "build", nil)
	if err != nil {
		return err
	}
	res := r.Build
	done(fmt.Sprintf("build: qemu %s (%s, %s) staged in %s: %s", res.Version, res.Flavor,
		strings.Join(res.Targets, ","), res.StageDir, strings.Join(res.Exes, " ")), start)
	return nil
}

// Deps runs the main job up to the mingw library stack.
func Deps(ctx context.Context) error {
	start := time.Now()
	r, err := pipelineTo(ctx, "deps", nil)
	if err != nil {
		return err
	}
	st := r.Deps
	say("PKG_CONFIG_LIBDIR=%s", strings.Join(st.PkgConfigLibdir, string(os.PathListSeparator)))
	done(fmt.Sprintf("deps: stack of %d libraries in %s (%d built, %d reused from the cache, %d from the host)",
		len(st.Libs), st.Dir, st.Built, st.Cached, st.Host), start)
	return nil
}

// Archive runs the main job up to the archive (no smoke test).
func Archive(ctx context.Context) error {
	start := time.Now()
	r, err := pipelineTo(ctx, "bundle", nil)
	if err != nil {
		return err
	}
	res := r.Bundle
	what := "wrote"
	if res.Skipped {
		what = "kept (unchanged)"
	}
	done(fmt.Sprintf("archive: %s %s, %.1f MB, %d DLLs", what, res.Archive.Path, float64(res.Archive.Size)/1e6, len(res.Closure.DLLs)), start)
	return nil
}

// Smoke runs the main job up to the smoke test of the archive it made.
func Smoke(ctx context.Context) error {
	start := time.Now()
	r, err := pipelineTo(ctx, "smoke", nil)
	if err != nil {
		return err
	}
	earlier := ""
	if r.SmokeHit {
		earlier = " earlier"
	}
	done(fmt.Sprintf("smoke: %s passed %d checks%s", r.Bundle.Archive.Path, len(r.Smoke.Steps), earlier), start)
	return nil
}

// SmokeFile smoke-tests the given archive.
func SmokeFile(ctx context.Context, archive string) error {
	start := time.Now()
	cfg, err := settings()
	if err != nil {
		return err
	}
	if !pipeline.SmokeAvailable() {
		return fmt.Errorf("smokeFile: wine is not installed: install the Debian package wine, or run on Windows")
	}
	rep, err := pipeline.SmokeArchive(ctx, cfg, archive, func(s string) { say("%s", s) })
	if err != nil {
		return err
	}
	done(fmt.Sprintf("smoke: %s passed %d checks", archive, len(rep.Steps)), start)
	return nil
}

// Release runs the main job through the release files; Installer makes
// the installer (and SBOM) without rewriting the zip.
func Release(ctx context.Context) error   { return releaseTo(ctx, "release", true) }
func Installer(ctx context.Context) error { return releaseTo(ctx, "installer", false) }

func releaseTo(ctx context.Context, what string, zip bool) error {
	start := time.Now()
	r, err := pipelineTo(ctx, "release", func(r *pipeline.Run) { r.Release.Zip = zip })
	if err != nil {
		return err
	}
	out := r.Outputs
	signed := "unsigned"
	if out.Signed > 0 {
		signed = fmt.Sprintf("%d files signed", out.Signed+1)
	}
	made := []string{baseName(out.Installer), baseName(out.SBOM)}
	if out.Zip != "" {
		made = append([]string{baseName(out.Zip)}, made...)
	}
	if d := r.Bundle.Debug.Path; d != "" {
		made = append(made, baseName(d))
	}
	done(fmt.Sprintf("%s: %s in %s (%d files, %s)", what, strings.Join(made, ", "), r.Config.DistDir, out.Files, signed), start)
	return nil
}

// Check reports the toolchain and what it can build, installing nothing.
func Check(ctx context.Context) error {
	start := time.Now()
	r, err := pipelineTo(ctx, "pick", func(r *pipeline.Run) { r.Skip["setup"] = true })
	if r == nil {
		return err
	}
	if r.Host.Family == "" { // the probe itself failed
		return err
	}
	if r.Config.JSON {
		out, jerr := pick.CheckJSON(r.Host, r.Pick)
		if jerr != nil {
			return jerr
		}
		fmt.Fprintln(Stdout, string(out))
	} else {
		pick.WriteCheck(Stdout, r.Host, r.Pick, r.PickErr)
	}
	if r.PickErr != nil {
		return fmt.Errorf("check: this toolchain can build no QEMU release that fits: %w", r.PickErr)
	}
	if err != nil {
		return err
	}
	summary := fmt.Sprintf("check: %s host, %d missing, qemu %s buildable", r.Host.Family, len(r.Host.Missing), r.Pick.Picked.Version)
	if r.Config.JSON {
		fmt.Fprintf(os.Stderr, "%s (%s)\n", summary, time.Since(start).Round(100*time.Millisecond))
		return nil
	}
	done(summary, start)
	return nil
}

// Pick shows every release with whether it can be built and obtained here.
func Pick(ctx context.Context) error {
	start := time.Now()
	r, err := pipelineTo(ctx, "pick", func(r *pipeline.Run) { r.Skip["setup"] = true })
	if r == nil {
		return err
	}
	res := r.Pick
	if r.Config.JSON {
		if res.Releases != nil || err == nil {
			out, jerr := res.JSON()
			if jerr != nil {
				return jerr
			}
			fmt.Fprintln(Stdout, string(out))
		}
		fmt.Fprintf(os.Stderr, "pick: %d releases judged (%s)\n", len(res.Releases), time.Since(start).Round(100*time.Millisecond))
		return err
	}
	if res.Releases != nil {
		res.WriteTable(Stdout)
	}
	if err != nil {
		return err
	}
	say("pick: %d releases judged, source %s (%s)", len(res.Releases), res.Source, time.Since(start).Round(100*time.Millisecond))
	say("picked: qemu %s", res.Picked.Version)
	return nil
}

func baseName(p string) string {
	if i := strings.LastIndexAny(p, `/\`); i >= 0 {
		return p[i+1:]
	}
	return p
}
