package release

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"qemupack/internal/atomicfile"
	"qemupack/internal/bundle"
	"qemupack/internal/checksum"
	"qemupack/internal/installer"
	"qemupack/internal/sbom"
	"qemupack/internal/sign"
)

// Inputs are what the release files are made from: the archive as the
// bundle step lays it out, and what the bill of materials needs to trace
// every file.
type Inputs struct {
	Spec    bundle.Spec // bundle.Layout's result
	Version string      // QEMU's version, e.g. 9.2.4 (or 7.2.22-debian)
	// QEMU is the component the programs and their data are built from;
	// QEMUDirs are where its files come from (the build's staging folder
	// and the source tree's licence files).
	QEMU      sbom.Component
	QEMUDirs  []string
	QEMUFiles []string
	// Owners are the other components with their folders (DepsOwners).
	Owners []sbom.Owner
	// SearchDirs are the DLL and firmware folders files may come from.
	SearchDirs []string
	// Host traces a file no owner claims (sbom.Debian.Owner); nil: error.
	Host func(string) (sbom.Component, error)
	// Tool is the component for files qemupack writes itself (README.txt).
	Tool sbom.Component

	Signer    *sign.Signer // nil: unsigned
	Zip       bool         // write the zip (with the SBOM inside)
	Installer bool         // write the NSIS installer
	Makensis  string       // "" = makensis on PATH
	DistDir   string
	Work      string // a folder for the release staging copy
	Log       func(string)
}

// Outputs are the files written to DistDir.
type Outputs struct {
	Stage     string // the staging copy the zip and installer were made from
	Zip       string
	Installer string
	SBOM      string
	Signed    int // programs and DLLs signed (0 when unsigned)
	Files     int // files in the bundle
}

func (in Inputs) log(format string, args ...any) {
	if in.Log != nil {
		in.Log(fmt.Sprintf(format, args...))
	}
}

// Make copies the laid-out archive into a staging folder, signs its
// programs and DLLs when a certificate is given, writes the SBOM into it,
// and makes the zip and/or the installer from that one folder, then puts
// the SBOM beside them in DistDir and updates SHA256SUMS. Nothing reaches
// DistDir before every file in it is signed.
func Make(ctx context.Context, in Inputs) (Outputs, error) {
	var out Outputs
	if in.Spec.Top == "" || len(in.Spec.Entries) == 0 {
		return out, fmt.Errorf("release: nothing laid out to release (run the bundle step first)")
	}
	stage := filepath.Join(in.Work, in.Spec.Top)
	out.Stage = stage
	if err := os.RemoveAll(stage); err != nil {
		return out, fmt.Errorf("release: %w", err)
	}
	origins := map[string]string{}
	var generated []string
	for _, e := range in.Spec.Entries {
		if err := bundle.CheckName(e.Name); err != nil {
			return out, fmt.Errorf("release: entry %q: %w", e.Name, err)
		}
		if e.Name == sbom.FileName {
			return out, fmt.Errorf("release: the bundle already has a %s", sbom.FileName)
		}
		dst := filepath.Join(stage, filepath.FromSlash(e.Name))
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return out, fmt.Errorf("release: %w", err)
		}
		data := e.Data
		if e.Source != "" {
			b, err := os.ReadFile(e.Source)
			if err != nil {
				return out, fmt.Errorf("release: %w", err)
			}
			data = b
			origins[e.Name] = e.Source
			if e.Origin != "" {
				origins[e.Name] = e.Origin // the unstripped file it was made from
			}
		} else if e.Origin != "" {
			origins[e.Name] = e.Origin // made from that component's files
		} else {
			origins[e.Name] = dst
			generated = append(generated, dst)
		}
		mode := os.FileMode(0o644)
		if e.Exec {
			mode = 0o755
		}
		if err := os.WriteFile(dst, data, mode); err != nil {
			return out, fmt.Errorf("release: %w", err)
		}
	}
	out.Files = len(in.Spec.Entries)
	in.log("release: staged %d files in %s", out.Files, stage)

	if in.Signer != nil {
		files, err := sign.Signable(stage)
		if err != nil {
			return out, err
		}
		in.log("release: signing %d programs and DLLs", len(files))
		if err := in.Signer.Files(ctx, files); err != nil {
			return out, err
		}
		out.Signed = len(files)
	}

	owners := append([]sbom.Owner{{Component: in.QEMU, Dirs: in.QEMUDirs, Files: in.QEMUFiles}}, in.Owners...)
	if len(generated) > 0 {
		tool := in.Tool
		if tool.Name == "" {
			tool = sbom.Component{Name: "qemupack", Version: "unknown", Comment: "files qemupack writes itself (README.txt)"}
		}
		owners = append(owners, sbom.Owner{Component: tool, Files: generated})
	}
	attr := sbom.Attributor{Owners: owners, SearchDirs: in.SearchDirs, Host: in.Host, LicenseDir: "LICENSES"}
	comps, files, err := attr.Attribute(stage, origins)
	if err != nil {
		return out, fmt.Errorf("release: %w", err)
	}
	doc := sbom.Doc{Name: in.Spec.Top, Version: in.Version, Created: in.Spec.Time, Components: comps, Files: files}
	if err := doc.WriteFile(filepath.Join(stage, sbom.FileName)); err != nil {
		return out, err
	}
	in.log("release: bill of materials: %d files from %d components", len(files), len(comps))

	var written []string
	if in.Zip {
		spec := bundle.Spec{Top: in.Spec.Top, Time: in.Spec.Time}
		for _, e := range in.Spec.Entries {
			spec.Entries = append(spec.Entries, bundle.Entry{Name: e.Name, Source: filepath.Join(stage, filepath.FromSlash(e.Name)), Exec: e.Exec})
		}
		spec.Entries = append(spec.Entries, bundle.Entry{Name: sbom.FileName, Source: filepath.Join(stage, sbom.FileName)})
		dest := filepath.Join(in.DistDir, in.Spec.Top+".zip")
		w, err := bundle.WriteZip(ctx, spec, dest)
		if err != nil {
			return out, err
		}
		if err := sbom.CheckArchive(dest); err != nil {
			os.Remove(dest)
			return out, fmt.Errorf("release: the archive's SBOM does not cover it (archive removed): %w", err)
		}
		out.Zip = dest
		written = append(written, dest)
		in.log("release: %s (%.1f MB), every file traced in its SBOM", dest, float64(w.Size)/1e6)
	}
	if in.Installer {
		dest := filepath.Join(in.DistDir, in.Spec.Top+"-setup.exe")
		var shortcuts []installer.Shortcut
		for _, e := range in.Spec.Entries {
			n := strings.ToLower(e.Name)
			if !strings.Contains(n, "/") && strings.HasPrefix(n, "qemu-system-") && strings.HasSuffix(n, ".exe") {
				title := strings.TrimSuffix(e.Name, ".exe")
				shortcuts = append(shortcuts, installer.Shortcut{Name: title + " (help)", Target: e.Name, Args: "-help"})
			}
		}
		if _, err := os.Stat(filepath.Join(stage, "README.txt")); err == nil {
			shortcuts = append(shortcuts, installer.Shortcut{Name: "README", Target: "README.txt"})
		}
		opts := installer.Options{
			StageDir: stage, OutFile: dest, Name: "QEMU", Version: in.Version,
			InstallDirName: "QEMU " + in.Version, Shortcuts: shortcuts, Makensis: in.Makensis,
			Work: filepath.Join(in.Work, "nsis"),
		}
		if in.Signer != nil {
			cmd, cleanup, err := in.Signer.Command()
			if err != nil {
				return out, err
			}
			defer cleanup()
			opts.SignUninstaller = cmd
			opts.Finalize = func(ctx context.Context, p string) error { return in.Signer.Files(ctx, []string{p}) }
		}
		in.log("release: making the installer with makensis")
		if err := installer.Build(ctx, opts); err != nil {
			return out, err
		}
		out.Installer = dest
		written = append(written, dest)
		in.log("release: %s", dest)
	}
	sb := filepath.Join(in.DistDir, in.Spec.Top+".spdx.json")
	data, err := os.ReadFile(filepath.Join(stage, sbom.FileName))
	if err != nil {
		return out, fmt.Errorf("release: %w", err)
	}
	if err := writeFileAtomic(sb, data); err != nil {
		return out, err
	}
	out.SBOM = sb
	written = append(written, sb)
	for _, w := range written {
		sum, err := checksum.File(w)
		if err != nil {
			return out, fmt.Errorf("release: %w", err)
		}
		if err := checksum.Record(in.DistDir, filepath.Base(w), sum); err != nil {
			return out, fmt.Errorf("release: SHA256SUMS: %w", err)
		}
	}
	return out, nil
}

func writeFileAtomic(path string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("release: %w", err)
	}
	if err := atomicfile.WriteFile(path, data, 0o644); err != nil {
		return fmt.Errorf("release: %w", err)
	}
	return nil
}

// Epoch is the time the release files carry: SOURCE_DATE_EPOCH when set
// (sde >= 0), else the bundle's fixed default, so that the same inputs
// give the same bytes.
func Epoch(sde int64) time.Time { return bundle.EpochTime(sde) }
