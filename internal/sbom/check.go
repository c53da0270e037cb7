package sbom

import (
	"archive/zip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"path"
	"sort"
	"strings"
)

// Parsed is what CheckArchive reads back from an SPDX document.
type Parsed struct {
	Name string
	// Files maps a bundle file's path to its SHA-256 and its component's
	// package name (from the GENERATED_FROM relationship).
	Files map[string]ParsedFile
	// Components by package name.
	Components map[string]ParsedComponent
}

// ParsedFile is one file of the bundle as the SBOM records it.
type ParsedFile struct {
	SHA256    string
	Component string
}

// ParsedComponent is one component package as the SBOM records it.
type ParsedComponent struct {
	Version, License, SourceURL, SourceSHA256, SourceInfo string
}

// Parse reads an SPDX 2.3 JSON document written by Doc.SPDX.
func Parse(data []byte) (Parsed, error) {
	var doc spdxDoc
	if err := json.Unmarshal(data, &doc); err != nil {
		return Parsed{}, fmt.Errorf("sbom: not SPDX JSON: %w", err)
	}
	if doc.SPDXVersion != "SPDX-2.3" {
		return Parsed{}, fmt.Errorf("sbom: spdxVersion %q, want SPDX-2.3", doc.SPDXVersion)
	}
	p := Parsed{Name: doc.Name, Files: map[string]ParsedFile{}, Components: map[string]ParsedComponent{}}
	pkgName := map[string]string{}
	var bundle *spdxPackage
	for i, pk := range doc.Packages {
		pkgName[pk.SPDXID] = pk.Name
		if pk.SPDXID == bundleID {
			bundle = &doc.Packages[i]
			continue
		}
		c := ParsedComponent{Version: pk.VersionInfo, License: pk.LicenseDeclared, SourceURL: pk.DownloadLocation, SourceInfo: pk.SourceInfo}
		for _, cs := range pk.Checksums {
			if cs.Algorithm == "SHA256" {
				c.SourceSHA256 = cs.Value
			}
		}
		p.Components[pk.Name] = c
	}
	if bundle == nil {
		return Parsed{}, fmt.Errorf("sbom: no %s package", bundleID)
	}
	inBundle := map[string]bool{}
	for _, id := range bundle.HasFiles {
		inBundle[id] = true
	}
	from := map[string]string{}
	for _, r := range doc.Relationships {
		if r.Type == "GENERATED_FROM" {
			from[r.Element] = pkgName[r.Related]
		}
	}
	for _, f := range doc.Files {
		if !inBundle[f.SPDXID] {
			continue
		}
		var sum string
		for _, cs := range f.Checksums {
			if cs.Algorithm == "SHA256" {
				sum = cs.Value
			}
		}
		p.Files[strings.TrimPrefix(f.FileName, "./")] = ParsedFile{SHA256: sum, Component: from[f.SPDXID]}
	}
	return p, nil
}

// CheckArchive reads a zip archive and its SBOM (the entry named FileName,
// at the top or in the archive's one top folder) and checks that every
// other file in the archive is listed with its exact SHA-256 and traced to
// a component with a version, and that the SBOM lists no file the archive
// lacks. The error lists every problem.
func CheckArchive(zipPath string) error {
	zr, err := zip.OpenReader(zipPath)
	if err != nil {
		return fmt.Errorf("sbom check: %w", err)
	}
	defer zr.Close()
	var sbomEntry *zip.File
	for _, f := range zr.File {
		if path.Base(f.Name) == FileName && strings.Count(strings.TrimSuffix(f.Name, "/"), "/") <= 1 {
			sbomEntry = f
		}
	}
	if sbomEntry == nil {
		return fmt.Errorf("sbom check: %s holds no %s", zipPath, FileName)
	}
	prefix := strings.TrimSuffix(sbomEntry.Name, FileName)
	data, err := readEntry(sbomEntry)
	if err != nil {
		return fmt.Errorf("sbom check %s: %w", zipPath, err)
	}
	doc, err := Parse(data)
	if err != nil {
		return fmt.Errorf("sbom check %s: %w", zipPath, err)
	}
	var problems []string
	seen := map[string]bool{}
	for _, f := range zr.File {
		if f == sbomEntry || strings.HasSuffix(f.Name, "/") {
			continue
		}
		if !strings.HasPrefix(f.Name, prefix) {
			problems = append(problems, fmt.Sprintf("%s: outside the folder %q the SBOM describes", f.Name, prefix))
			continue
		}
		rel := strings.TrimPrefix(f.Name, prefix)
		seen[rel] = true
		pf, ok := doc.Files[rel]
		if !ok {
			problems = append(problems, fmt.Sprintf("%s: not in the SBOM", rel))
			continue
		}
		body, err := readEntry(f)
		if err != nil {
			return fmt.Errorf("sbom check %s: %w", zipPath, err)
		}
		sum := sha256.Sum256(body)
		if got := hex.EncodeToString(sum[:]); got != pf.SHA256 {
			problems = append(problems, fmt.Sprintf("%s: SHA-256 %s in the archive, %s in the SBOM", rel, got, pf.SHA256))
		}
		c, ok := doc.Components[pf.Component]
		switch {
		case pf.Component == "":
			problems = append(problems, fmt.Sprintf("%s: no component (no GENERATED_FROM relationship)", rel))
		case !ok || c.Version == "":
			problems = append(problems, fmt.Sprintf("%s: component %q has no package or no version", rel, pf.Component))
		}
	}
	for rel := range doc.Files {
		if !seen[rel] {
			problems = append(problems, fmt.Sprintf("%s: in the SBOM but not in the archive", rel))
		}
	}
	if len(problems) > 0 {
		sort.Strings(problems)
		return fmt.Errorf("sbom check %s: %d problem(s):\n  %s", zipPath, len(problems), strings.Join(problems, "\n  "))
	}
	return nil
}

func readEntry(f *zip.File) ([]byte, error) {
	rc, err := f.Open()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", f.Name, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", f.Name, err)
	}
	return b, nil
}
