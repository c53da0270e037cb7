package sbom

import (
	"bufio"
	"context"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// knownLicenses gives the licence of DLLs whose Debian copyright file is
// not machine-readable or covers far more than the one DLL we ship.
var knownLicenses = map[string]string{
	"zlib1.dll": "Zlib",
	// libgcrypt-mingw-w64-dev's copyright file is free-form; the library
	// is LGPL (its tools, which we do not ship, are GPL).
	"libgcrypt-20.dll":    "LGPL-2.1-or-later",
	"libwinpthread-1.dll": "MIT AND BSD-3-Clause",
	"libgcc_s_seh-1.dll":  "GPL-3.0-or-later WITH GCC-exception-3.1",
	"libssp-0.dll":        "GPL-3.0-or-later WITH GCC-exception-3.1",
	"libstdc++-6.dll":     "GPL-3.0-or-later WITH GCC-exception-3.1",
	"libatomic-1.dll":     "GPL-3.0-or-later WITH GCC-exception-3.1",
	"libgomp-1.dll":       "GPL-3.0-or-later WITH GCC-exception-3.1",
}

// knownPackageLicenses gives the licence of Debian packages whose
// copyright file has no machine-readable licence for the whole package.
var knownPackageLicenses = map[string]string{
	"seabios":            "LGPL-3.0-only",
	"qemu-system-data":   "GPL-2.0-only",
	"gcc-mingw-w64-base": "GPL-3.0-or-later WITH GCC-exception-3.1",
}

// dep5ToSPDX maps the licence short names Debian copyright files use to
// SPDX identifiers.
var dep5ToSPDX = map[string]string{
	"zlib": "Zlib", "expat": "MIT", "mit": "MIT", "isc": "ISC",
	"bsd-2-clause": "BSD-2-Clause", "bsd-3-clause": "BSD-3-Clause",
	"lgpl-2+": "LGPL-2.0-or-later", "lgpl-2.1": "LGPL-2.1-only", "lgpl-2.1+": "LGPL-2.1-or-later",
	"lgpl-3": "LGPL-3.0-only", "lgpl-3+": "LGPL-3.0-or-later",
	"gpl-2": "GPL-2.0-only", "gpl-2+": "GPL-2.0-or-later", "gpl-3": "GPL-3.0-only", "gpl-3+": "GPL-3.0-or-later",
	"zpl-2.1": "ZPL-2.1", "apache-2.0": "Apache-2.0", "public-domain": "LicenseRef-public-domain",
	"lgpl-2.1-or-later": "LGPL-2.1-or-later", "gpl-2.0-or-later": "GPL-2.0-or-later",
}

// Debian finds the Debian package that installed a file (dpkg-query -S),
// its version and source package, the licence, and the source package's
// .dsc in the archive with its SHA-256 (through Sources).
type Debian struct {
	mu    sync.Mutex
	cache map[string]Component
	// Sources finds a source package's .dsc in the archive: its URL and
	// sha256 ("" when unknown). The pipeline asks its private apt tree.
	Sources func(ctx context.Context, pkg, version string) (url, sha256 string)
}

func dpkg(ctx context.Context, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, args[0], args[1:]...)
	cmd.Env = append(os.Environ(), "LC_ALL=C")
	out, err := cmd.Output()
	if err != nil {
		if ee, ok := err.(*exec.ExitError); ok {
			return "", fmt.Errorf("%s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(string(ee.Stderr)))
		}
		return "", fmt.Errorf("%s: %w", strings.Join(args, " "), err)
	}
	return string(out), nil
}

// Owner is an Attributor.Host function.
func (d *Debian) Owner(path string) (Component, error) {
	if _, err := exec.LookPath("dpkg-query"); err != nil {
		return Component{}, fmt.Errorf("no component claims it and dpkg-query is missing (not a Debian/Ubuntu host): add its folder to the bill of materials' owners")
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	candidates := []string{path}
	if real, err := filepath.EvalSymlinks(path); err == nil && real != path {
		candidates = append(candidates, real)
	}
	// merged /usr: dpkg may know /lib/x as /usr/lib/x or the other way.
	for _, c := range append([]string(nil), candidates...) {
		for _, d := range []string{"/lib/", "/lib64/", "/bin/", "/sbin/"} {
			if strings.HasPrefix(c, "/usr"+d) {
				candidates = append(candidates, strings.TrimPrefix(c, "/usr"))
			} else if strings.HasPrefix(c, d) {
				candidates = append(candidates, "/usr"+c)
			}
		}
	}
	var pkg string
	var lastErr error
	for _, c := range candidates {
		out, err := dpkg(ctx, "dpkg-query", "-S", c)
		if err != nil {
			lastErr = err
			continue
		}
		for _, line := range strings.Split(out, "\n") {
			if strings.HasPrefix(line, "diversion by") {
				continue
			}
			if i := strings.LastIndex(line, ": "); i > 0 {
				pkg = strings.TrimSpace(strings.Split(line[:i], ",")[0])
				break
			}
		}
		if pkg != "" {
			break
		}
	}
	if pkg == "" {
		return Component{}, fmt.Errorf("no component claims it and no Debian package owns it (%v)", lastErr)
	}
	d.mu.Lock()
	if d.cache == nil {
		d.cache = map[string]Component{}
	}
	c, ok := d.cache[pkg]
	d.mu.Unlock()
	if ok {
		return c, nil
	}
	c, err := d.describe(ctx, pkg, filepath.Base(path))
	if err != nil {
		return Component{}, err
	}
	d.mu.Lock()
	d.cache[pkg] = c
	d.mu.Unlock()
	return c, nil
}

func (d *Debian) describe(ctx context.Context, pkg, dll string) (Component, error) {
	out, err := dpkg(ctx, "dpkg-query", "-W", "-f", "${Package}\t${Version}\t${source:Package}\t${source:Version}\t${Architecture}", pkg)
	if err != nil {
		return Component{}, fmt.Errorf("Debian package %s: %w", pkg, err)
	}
	f := strings.Split(strings.TrimSpace(out), "\t")
	if len(f) != 5 {
		return Component{}, fmt.Errorf("Debian package %s: unexpected dpkg-query output %q", pkg, out)
	}
	name, ver, src, srcVer, arch := f[0], f[1], f[2], f[3], f[4]
	distro := osID()
	c := Component{
		Name:     name,
		Version:  ver,
		Supplier: "Organization: " + strings.ToUpper(distro[:1]) + distro[1:],
		PURL:     fmt.Sprintf("pkg:deb/%s/%s@%s?arch=%s", distro, name, url.PathEscape(ver), arch),
		Comment:  fmt.Sprintf("%s package %s %s, built from source package %s %s; the source is that package's .dsc", distro, name, ver, src, srcVer),
	}
	if lic, ok := knownLicenses[strings.ToLower(dll)]; ok {
		c.License = lic
	} else if lic, ok := knownPackageLicenses[name]; ok {
		c.License = lic
	} else {
		c.License = dep5License(filepath.Join("/usr/share/doc", name, "copyright"))
	}
	c.SourceURL, c.SourceSHA256 = d.dsc(ctx, src, srcVer)
	return c, nil
}

// dep5License returns the SPDX form of the licence of the "Files: *"
// paragraph of a machine-readable copyright file, or "".
func dep5License(path string) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	inStar := false
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "Files:"):
			inStar = strings.TrimSpace(strings.TrimPrefix(line, "Files:")) == "*"
		case inStar && strings.HasPrefix(line, "License:"):
			name := strings.ToLower(strings.TrimSpace(strings.TrimPrefix(line, "License:")))
			if s, ok := dep5ToSPDX[name]; ok {
				return s
			}
			return ""
		case line == "":
			// a paragraph ends; Files: * may only start a new one
		}
	}
	return ""
}

// dsc finds the source package's .dsc URL and SHA-256 through Sources.
func (d *Debian) dsc(ctx context.Context, src, ver string) (string, string) {
	if d.Sources == nil {
		return "", ""
	}
	return d.Sources(ctx, src, ver)
}

func osID() string {
	data, err := os.ReadFile("/etc/os-release")
	if err == nil {
		for _, line := range strings.Split(string(data), "\n") {
			if strings.HasPrefix(line, "ID=") {
				if id := strings.Trim(strings.TrimPrefix(line, "ID="), `"`); id != "" {
					return id
				}
			}
		}
	}
	return "debian"
}
