// Package sbom writes the bill of materials of a QEMU bundle as an SPDX 2.3
// JSON document: the bundle itself with every file it holds (SHA-1 and
// SHA-256), and one package per component the files were built from (QEMU,
// each library built from a recipe, each host package a DLL was copied from)
// with its version, licence, source URL, source SHA-256 and the patches
// applied. Each shipped file is tied to its component by a GENERATED_FROM
// relationship, and each patch to its component by PATCH_APPLIED, so a
// reader can answer "where did this DLL come from, built from what".
package sbom

import (
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"time"

	"qemupack/internal/atomicfile"
)

// FileName is the SBOM's name inside the archive and in dist/ (prefixed
// there with the archive's base name).
const FileName = "sbom.spdx.json"

// Patch is one patch applied to a component's source before building.
type Patch struct {
	Name   string // as recorded, e.g. "patches/qemu/9.2.4/0001-fix.patch"
	SHA1   string
	SHA256 string
}

// Component is something the shipped files were built from.
type Component struct {
	Name    string // "qemu", "glib", or a Debian binary package name
	Version string
	// License is an SPDX licence expression ("" when unknown: NOASSERTION).
	License      string
	SourceURL    string // where the source can be downloaded ("" when unknown)
	SourceSHA256 string // of the file at SourceURL
	Patches      []Patch
	Supplier     string // e.g. "Organization: Debian" ("" for NOASSERTION)
	PURL         string // package URL, optional
	Comment      string // how the component was identified, optional
}

// File is one file of the bundle.
type File struct {
	Path      string // inside the archive, slash-separated
	SHA1      string
	SHA256    string
	Component string // Name of the Component it came from
	Origin    string // where it was copied from on the build machine (not written out)
}

// Doc is the bill of materials of one bundle.
type Doc struct {
	Name       string // the bundle, e.g. "qemu-9.2.4-win64"
	Version    string // QEMU's version
	Created    time.Time
	Components []Component
	Files      []File
}

// HashFile returns the SHA-1 and SHA-256 of a file, as hex.
func HashFile(path string) (sha1hex, sha256hex string, err error) {
	f, err := os.Open(path)
	if err != nil {
		return "", "", err
	}
	defer f.Close()
	h1, h2 := sha1.New(), sha256.New()
	if _, err := io.Copy(io.MultiWriter(h1, h2), f); err != nil {
		return "", "", fmt.Errorf("read %s: %w", path, err)
	}
	return hex.EncodeToString(h1.Sum(nil)), hex.EncodeToString(h2.Sum(nil)), nil
}

// PatchesIn lists the *.patch / *.diff files in dir in the order they are
// applied (by name), recorded under the name rel/<file>. A missing folder
// means no patches.
func PatchesIn(dir, rel string) ([]Patch, error) {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("sbom: patches: %w", err)
	}
	var out []Patch
	for _, e := range entries {
		n := e.Name()
		if e.IsDir() || !(strings.HasSuffix(n, ".patch") || strings.HasSuffix(n, ".diff")) {
			continue
		}
		s1, s2, err := HashFile(filepath.Join(dir, n))
		if err != nil {
			return nil, fmt.Errorf("sbom: patch: %w", err)
		}
		out = append(out, Patch{Name: rel + "/" + n, SHA1: s1, SHA256: s2})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// --- SPDX 2.3 JSON model (only the fields we write) ---

type spdxChecksum struct {
	Algorithm string `json:"algorithm"`
	Value     string `json:"checksumValue"`
}

type spdxExtRef struct {
	Category string `json:"referenceCategory"`
	Type     string `json:"referenceType"`
	Locator  string `json:"referenceLocator"`
}

type spdxPackage struct {
	SPDXID           string         `json:"SPDXID"`
	Name             string         `json:"name"`
	VersionInfo      string         `json:"versionInfo,omitempty"`
	Supplier         string         `json:"supplier,omitempty"`
	DownloadLocation string         `json:"downloadLocation"`
	FilesAnalyzed    bool           `json:"filesAnalyzed"`
	VerificationCode *spdxVerifCode `json:"packageVerificationCode,omitempty"`
	Checksums        []spdxChecksum `json:"checksums,omitempty"`
	SourceInfo       string         `json:"sourceInfo,omitempty"`
	LicenseConcluded string         `json:"licenseConcluded"`
	LicenseDeclared  string         `json:"licenseDeclared"`
	CopyrightText    string         `json:"copyrightText"`
	Comment          string         `json:"comment,omitempty"`
	ExternalRefs     []spdxExtRef   `json:"externalRefs,omitempty"`
	HasFiles         []string       `json:"hasFiles,omitempty"`
	PrimaryPurpose   string         `json:"primaryPackagePurpose,omitempty"`
}

type spdxVerifCode struct {
	Value    string   `json:"packageVerificationCodeValue"`
	Excluded []string `json:"packageVerificationCodeExcludedFiles,omitempty"`
}

type spdxFile struct {
	SPDXID           string         `json:"SPDXID"`
	FileName         string         `json:"fileName"`
	Checksums        []spdxChecksum `json:"checksums"`
	LicenseConcluded string         `json:"licenseConcluded"`
	CopyrightText    string         `json:"copyrightText"`
	FileTypes        []string       `json:"fileTypes,omitempty"`
}

type spdxRel struct {
	Element string `json:"spdxElementId"`
	Type    string `json:"relationshipType"`
	Related string `json:"relatedSpdxElement"`
}

type spdxDoc struct {
	SPDXVersion       string `json:"spdxVersion"`
	DataLicense       string `json:"dataLicense"`
	SPDXID            string `json:"SPDXID"`
	Name              string `json:"name"`
	DocumentNamespace string `json:"documentNamespace"`
	CreationInfo      struct {
		Created  string   `json:"created"`
		Creators []string `json:"creators"`
	} `json:"creationInfo"`
	DocumentDescribes []string      `json:"documentDescribes,omitempty"`
	Packages          []spdxPackage `json:"packages"`
	Files             []spdxFile    `json:"files"`
	Relationships     []spdxRel     `json:"relationships"`
}

var idUnsafe = regexp.MustCompile(`[^A-Za-z0-9.-]+`)

func pkgID(name string) string  { return "SPDXRef-Package-" + idUnsafe.ReplaceAllString(name, "-") }
func fileID(path string) string { return "SPDXRef-File-" + idUnsafe.ReplaceAllString(path, "-") }
func orNo(s string) string {
	if s == "" {
		return "NOASSERTION"
	}
	return s
}

const bundleID = "SPDXRef-Package-bundle"

// verificationCode is SPDX's package verification code: the SHA-1 of the
// sorted SHA-1s of the package's files.
func verificationCode(files []File) string {
	var sums []string
	for _, f := range files {
		sums = append(sums, f.SHA1)
	}
	sort.Strings(sums)
	h := sha1.Sum([]byte(strings.Join(sums, "")))
	return hex.EncodeToString(h[:])
}

// Validate checks the document is complete: every file names a component
// the document has, every component has a version, no file is listed twice.
func (d Doc) Validate() error {
	if d.Name == "" || d.Version == "" {
		return errors.New("sbom: the bundle's name and version are required")
	}
	comps := map[string]bool{}
	for _, c := range d.Components {
		if c.Name == "" || c.Version == "" {
			return fmt.Errorf("sbom: component %q has no name or version", c.Name)
		}
		if comps[c.Name] {
			return fmt.Errorf("sbom: component %q listed twice", c.Name)
		}
		comps[c.Name] = true
		if c.SourceSHA256 != "" && len(c.SourceSHA256) != 64 {
			return fmt.Errorf("sbom: component %s: source sha256 %q is not 64 hex digits", c.Name, c.SourceSHA256)
		}
	}
	seen := map[string]bool{}
	for _, f := range d.Files {
		if seen[f.Path] {
			return fmt.Errorf("sbom: file %s listed twice", f.Path)
		}
		seen[f.Path] = true
		if !comps[f.Component] {
			return fmt.Errorf("sbom: file %s comes from component %q, which the document does not list", f.Path, f.Component)
		}
		if len(f.SHA1) != 40 || len(f.SHA256) != 64 {
			return fmt.Errorf("sbom: file %s lacks its checksums", f.Path)
		}
	}
	return nil
}

// SPDX returns the document as SPDX 2.3 JSON. The same Doc always gives
// the same bytes (sorted lists; the namespace is derived from the content).
func (d Doc) SPDX() ([]byte, error) {
	if err := d.Validate(); err != nil {
		return nil, err
	}
	comps := append([]Component(nil), d.Components...)
	sort.Slice(comps, func(i, j int) bool { return comps[i].Name < comps[j].Name })
	files := append([]File(nil), d.Files...)
	sort.Slice(files, func(i, j int) bool { return files[i].Path < files[j].Path })

	var doc spdxDoc
	doc.SPDXVersion = "SPDX-2.3"
	doc.DataLicense = "CC0-1.0"
	doc.SPDXID = "SPDXRef-DOCUMENT"
	doc.Name = d.Name
	doc.CreationInfo.Created = d.Created.UTC().Format("2006-01-02T15:04:05Z")
	doc.CreationInfo.Creators = []string{"Tool: qemupack"}
	doc.DocumentDescribes = []string{bundleID}

	bundle := spdxPackage{
		SPDXID:           bundleID,
		Name:             d.Name,
		VersionInfo:      d.Version,
		DownloadLocation: "NOASSERTION",
		FilesAnalyzed:    true,
		VerificationCode: &spdxVerifCode{Value: verificationCode(files), Excluded: []string{"./" + FileName}},
		LicenseConcluded: "NOASSERTION",
		LicenseDeclared:  "NOASSERTION",
		CopyrightText:    "NOASSERTION",
		Comment:          "QEMU for Windows built and bundled by qemupack; each file is GENERATED_FROM the component it was built from.",
		PrimaryPurpose:   "APPLICATION",
	}
	for _, f := range files {
		bundle.HasFiles = append(bundle.HasFiles, fileID(f.Path))
	}
	doc.Packages = append(doc.Packages, bundle)
	doc.Relationships = append(doc.Relationships, spdxRel{"SPDXRef-DOCUMENT", "DESCRIBES", bundleID})

	var patchFiles []spdxFile
	for _, c := range comps {
		p := spdxPackage{
			SPDXID:           pkgID(c.Name),
			Name:             c.Name,
			VersionInfo:      c.Version,
			Supplier:         c.Supplier,
			DownloadLocation: orNo(c.SourceURL),
			FilesAnalyzed:    false,
			LicenseConcluded: "NOASSERTION",
			LicenseDeclared:  orNo(c.License),
			CopyrightText:    "NOASSERTION",
			Comment:          c.Comment,
			PrimaryPurpose:   "SOURCE",
		}
		if c.SourceSHA256 != "" {
			p.Checksums = []spdxChecksum{{"SHA256", c.SourceSHA256}}
		}
		var info []string
		if c.SourceURL != "" {
			info = append(info, "built from "+c.SourceURL)
		}
		if len(c.Patches) > 0 {
			var names []string
			for _, pt := range c.Patches {
				names = append(names, pt.Name)
			}
			info = append(info, "patches applied in order: "+strings.Join(names, ", "))
		} else {
			info = append(info, "no patches applied")
		}
		p.SourceInfo = strings.Join(info, "; ")
		if c.PURL != "" {
			p.ExternalRefs = []spdxExtRef{{"PACKAGE-MANAGER", "purl", c.PURL}}
		}
		doc.Packages = append(doc.Packages, p)
		doc.Relationships = append(doc.Relationships, spdxRel{bundleID, "DEPENDS_ON", pkgID(c.Name)})
		for _, pt := range c.Patches {
			id := fileID("patch-" + c.Name + "-" + pt.Name)
			patchFiles = append(patchFiles, spdxFile{
				SPDXID:           id,
				FileName:         "./" + pt.Name,
				Checksums:        []spdxChecksum{{"SHA1", pt.SHA1}, {"SHA256", pt.SHA256}},
				LicenseConcluded: "NOASSERTION",
				CopyrightText:    "NOASSERTION",
				FileTypes:        []string{"SOURCE"},
			})
			doc.Relationships = append(doc.Relationships, spdxRel{id, "PATCH_APPLIED", pkgID(c.Name)})
		}
	}
	for _, f := range files {
		doc.Files = append(doc.Files, spdxFile{
			SPDXID:           fileID(f.Path),
			FileName:         "./" + f.Path,
			Checksums:        []spdxChecksum{{"SHA1", f.SHA1}, {"SHA256", f.SHA256}},
			LicenseConcluded: "NOASSERTION",
			CopyrightText:    "NOASSERTION",
			FileTypes:        []string{fileType(f.Path)},
		})
		doc.Relationships = append(doc.Relationships, spdxRel{fileID(f.Path), "GENERATED_FROM", pkgID(f.Component)})
	}
	doc.Files = append(doc.Files, patchFiles...)

	// The namespace must be unique per document: derive it from everything else.
	doc.DocumentNamespace = "https://spdx.invalid/qemupack/" + d.Name + "-PENDING"
	body, err := json.Marshal(doc)
	if err != nil {
		return nil, fmt.Errorf("sbom: %w", err)
	}
	sum := sha256.Sum256(body)
	doc.DocumentNamespace = "https://spdx.invalid/qemupack/" + d.Name + "-" + hex.EncodeToString(sum[:8])
	out, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("sbom: %w", err)
	}
	return append(out, '\n'), nil
}

func fileType(p string) string {
	switch strings.ToLower(filepath.Ext(p)) {
	case ".exe", ".dll":
		return "BINARY"
	case ".txt", ".md", "":
		if strings.Contains(strings.ToUpper(p), "COPYING") || strings.Contains(strings.ToUpper(p), "LICENSE") {
			return "TEXT"
		}
	}
	return "OTHER"
}

// WriteFile writes the SPDX JSON to path atomically (temp file + rename).
func (d Doc) WriteFile(path string) error {
	data, err := d.SPDX()
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("sbom: %w", err)
	}
	if err := atomicfile.WriteFile(path, data, 0o644); err != nil {
		return fmt.Errorf("sbom: %w", err)
	}
	return nil
}
