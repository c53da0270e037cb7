package bundle

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"qemupack/internal/config"
)

// BuildRecord is the part of the build step's result.json
// (<cache>/build/<version>-<key>/result.json) the bundle reads.
type BuildRecord struct {
	StageDir      string            `json:"stage_dir"`
	Version       string            `json:"version"`
	Flavor        string            `json:"flavor"`
	SourceOrigin  string            `json:"source_origin"`
	Patches       []string          `json:"patches"`
	Targets       []string          `json:"targets"`
	DLLSearchDirs []string          `json:"dll_search_dirs"`
	FirmwareDirs  []string          `json:"firmware_dirs"`
	LicenseFiles  map[string]string `json:"license_files"`
	ConfigureArgs []string          `json:"configure_args"`
	BuildTools    []string          `json:"build_tools"`
}

// FullVersion is the version the archive is named by: the real version,
// with the flavour when the source is not the upstream tarball
// ("7.2.22-debian").
func (b BuildRecord) FullVersion() string {
	if b.Flavor == "" || b.Flavor == "upstream" {
		return b.Version
	}
	return b.Version + "-" + b.Flavor
}

// NewestBuild returns the result.json of the most recent complete build
// under <cache>/build.
func NewestBuild(cacheDir string) (string, error) {
	ms, _ := filepath.Glob(filepath.Join(cacheDir, "build", "*", "result.json"))
	if len(ms) == 0 {
		return "", fmt.Errorf("bundle: no finished build under %s: run `go run mage.go build` first", filepath.Join(cacheDir, "build"))
	}
	sort.Slice(ms, func(i, j int) bool {
		a, _ := os.Stat(ms[i])
		b, _ := os.Stat(ms[j])
		return a.ModTime().After(b.ModTime())
	})
	return ms[0], nil
}

// ReadBuild reads a result.json.
func ReadBuild(path string) (BuildRecord, error) {
	var b BuildRecord
	data, err := os.ReadFile(path)
	if err != nil {
		return b, fmt.Errorf("bundle: build record: %w", err)
	}
	if err := json.Unmarshal(data, &b); err != nil {
		return b, fmt.Errorf("bundle: build record %s: %w", path, err)
	}
	if b.StageDir == "" || b.Version == "" {
		return b, fmt.Errorf("bundle: build record %s lacks StageDir or Version", path)
	}
	return b, nil
}

// InputFromBuild turns a build record and the settings into a bundle
// Input: the record's DLL search folders in its order (those inside the
// cache, i.e. our own deps prefixes, are overrides), then the user's
// QEMUPACK_SYSROOT folders and the host defaults not already listed.
func InputFromBuild(ctx context.Context, cfg config.Config, b BuildRecord) (Input, error) {
	var search []SearchDir
	seen := map[string]bool{}
	add := func(d SearchDir) {
		d.Path = filepath.Clean(d.Path)
		if !seen[d.Path] {
			seen[d.Path] = true
			search = append(search, d)
		}
	}
	cache := filepath.Clean(cfg.CacheDir) + string(filepath.Separator)
	for _, d := range b.DLLSearchDirs {
		add(SearchDir{Path: d, Override: strings.HasPrefix(filepath.Clean(d)+string(filepath.Separator), cache)})
	}
	rt, err := GCCRuntimeDir(ctx, cfg.CrossPrefix)
	if err != nil {
		return Input{}, err
	}
	for _, d := range DefaultSearch(nil, cfg.Sysroots, Triplet(cfg.CrossPrefix), rt) {
		add(d)
	}
	lic := map[string][]string{}
	keys := make([]string, 0, len(b.LicenseFiles))
	for k := range b.LicenseFiles {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		lic["QEMU"] = append(lic["QEMU"], b.LicenseFiles[k])
	}
	notes := []string{}
	if len(b.Patches) > 0 {
		notes = append(notes, "Patches applied on top: "+strings.Join(b.Patches, ", "))
	}
	if len(b.ConfigureArgs) > 0 {
		notes = append(notes, "configure "+hideCache(strings.Join(b.ConfigureArgs, " "), cfg.CacheDir))
	}
	for _, t := range b.BuildTools {
		notes = append(notes, "with "+hideCache(t, cfg.CacheDir))
	}
	return Input{
		Stage: b.StageDir, Version: b.FullVersion(), Origin: b.SourceOrigin, Targets: b.Targets,
		Search: search, FirmwareDirs: b.FirmwareDirs, Licenses: lic, BuildNotes: notes,
		Time: EpochTime(cfg.SourceDateEpoch), DistDir: cfg.DistDir,
		StampDir: filepath.Join(cfg.CacheDir, "bundle"),
	}, nil
}

// hideCache writes the cache folder in s as $QEMUPACK_CACHE: where the
// build machine kept its cache is no part of the archive (two checkouts
// must give the same bytes), while the layout under it still tells a
// reader which source tree and deps stack were used.
func hideCache(s, cache string) string {
	if cache == "" {
		return s
	}
	c := filepath.Clean(cache)
	s = strings.ReplaceAll(s, c, "$QEMUPACK_CACHE")
	if slash := filepath.ToSlash(c); slash != c {
		s = strings.ReplaceAll(s, slash, "$QEMUPACK_CACHE")
	}
	return s
}
