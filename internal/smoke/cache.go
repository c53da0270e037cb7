package smoke

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"time"

	"qemupack/internal/atomicfile"
	"qemupack/internal/checksum"
	"qemupack/internal/stepcache"
)

// Kind is the step cache kind of passed smoke tests.
const Kind = "smoke"

// ChecksVersion names the checks Smoke runs and how: part of every cached
// result's key, so a change to the checks (or to what they accept) runs
// them again on archives that passed the old ones. Change it with them.
const ChecksVersion = "smoke-checks-2: unpack (names, links), build-machine paths and PE link times, -version, -machine help, -L help, qemu-img --version, qemu-ga --version, TCG kernel boot to \"Linux version\", aarch64 -M virt -cpu max kernel boot"

// reportName is the passed smoke's record inside its entry.
const reportName = "smoke-report.json"

// Passed is a smoke test's result as the step cache keeps it.
type Passed struct {
	Archive string    `json:"archive"` // its file name when it passed
	SHA256  string    `json:"sha256"`
	When    time.Time `json:"when"`
	Report  *Report   `json:"report"`
}

// ReadPassed reads the record of a passed smoke test in the entry at dir.
func ReadPassed(dir string) (Passed, error) {
	var p Passed
	b, err := os.ReadFile(filepath.Join(dir, reportName))
	if err != nil {
		return p, fmt.Errorf("smoke: %s holds no passed smoke test: %w", dir, err)
	}
	if err := json.Unmarshal(b, &p); err != nil || p.Report == nil {
		return p, fmt.Errorf("smoke: %s: unreadable record (%v)", filepath.Join(dir, reportName), err)
	}
	return p, nil
}

// Runtime names what runs the programs: wine's version on Linux, the
// Windows version on Windows. A new wine smoke-tests every archive again.
func Runtime(ctx context.Context) (string, error) {
	if runtime.GOOS == "windows" {
		out, err := exec.CommandContext(ctx, "cmd", "/c", "ver").Output()
		if err != nil {
			return "", fmt.Errorf("smoke: the Windows version (cmd /c ver): %w", err)
		}
		return "windows " + strings.TrimSpace(string(out)), nil
	}
	w, err := exec.LookPath("wine")
	if err != nil {
		return "", fmt.Errorf("smoke: wine is not installed: install the Debian package wine (with wine64), or run the smoke on Windows")
	}
	out, err := exec.CommandContext(ctx, w, "--version").Output()
	if err != nil {
		return "", fmt.Errorf("smoke: %s --version: %w", w, err)
	}
	return strings.TrimSpace(string(out)), nil
}

// Once runs Smoke on an archive unless the same archive (by sha256;
// archiveSHA256 when the caller knows it, else hashed here) passed the
// same checks before with the same kernel and the same wine (Windows):
// a passed smoke test is a step cache entry keyed by those. Only a pass
// is kept; a failure runs again next time. hit says the checks did not
// run now; the entry is held until released.
func Once(ctx context.Context, cache *stepcache.Cache, o Options, archiveSHA256 string) (rep *Report, hit bool, e *stepcache.Entry, err error) {
	if archiveSHA256 == "" {
		if archiveSHA256, err = checksum.File(o.Archive); err != nil {
			return nil, false, nil, fmt.Errorf("smoke: %w", err)
		}
	}
	rt, err := Runtime(ctx)
	if err != nil {
		return nil, false, nil, err
	}
	var in stepcache.Inputs
	in.Add("archive", "sha256:"+archiveSHA256)
	in.Add("checks", ChecksVersion)
	in.Add("runtime", rt)
	in.Add("version", o.Version)
	in.AddList("build-folders", o.BuildFolders)
	// The features choose the desk checks: a desk archive smoked as
	// headless has not passed the desk checks.
	feats := append([]string{}, o.Features...)
	sort.Strings(feats)
	in.AddList("features", feats)
	in.Add("desk-checks", DeskChecksVersion)
	if o.Kernel != "" {
		if err := in.AddFile("kernel", o.Kernel); err != nil {
			return nil, false, nil, fmt.Errorf("smoke: %w", err)
		}
	} else {
		in.Add("kernel", "none")
	}
	if o.AArch64Kernel != "" {
		if err := in.AddFile("aarch64-kernel", o.AArch64Kernel); err != nil {
			return nil, false, nil, fmt.Errorf("smoke: %w", err)
		}
	}
	name := strings.TrimSuffix(filepath.Base(o.Archive), ".zip")
	e, err = cache.Do(ctx, Kind, name, in, stepcache.Options{Check: func(dir string) error {
		_, err := ReadPassed(dir)
		return err
	}}, func(ctx context.Context, tmp, final, work string) error {
		o.Work = work
		// The desk checks' screenshots stay in the entry beside the
		// record, as the proof of what was seen.
		tmpArt := ""
		if o.Artefacts == "" && wantsDesk(o.Features) {
			tmpArt = filepath.Join(tmp, "artefacts")
			o.Artefacts = tmpArt
		}
		r, err := Smoke(ctx, o)
		if err != nil {
			return err
		}
		if tmpArt != "" {
			for i := range r.Steps {
				r.Steps[i].Note = strings.ReplaceAll(r.Steps[i].Note, tmpArt, filepath.Join(final, "artefacts"))
			}
		}
		data, err := json.MarshalIndent(Passed{Archive: filepath.Base(o.Archive), SHA256: archiveSHA256, When: time.Now().UTC(), Report: r}, "", "  ")
		if err != nil {
			return err
		}
		// The unpacked archive and the wine prefix are scratch: only
		// the record stays.
		return atomicfile.WriteFile(filepath.Join(tmp, reportName), append(data, '\n'), 0o644)
	})
	if err != nil {
		return nil, false, nil, err
	}
	p, err := ReadPassed(e.Dir)
	if err != nil {
		e.Release()
		return nil, false, nil, err
	}
	if e.Hit {
		o.logf("smoke: passed earlier for this archive (%s, %d checks, under %s); nothing to run again", p.When.Local().Format("2006-01-02 15:04"), len(p.Report.Steps), rt)
	}
	return p.Report, e.Hit, e, nil
}
