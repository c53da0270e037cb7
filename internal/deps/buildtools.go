package deps

import (
	"fmt"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"

	"qemupack/internal/checksum"
	"qemupack/internal/host"
	"qemupack/internal/recipe"
)

// Build tools are programs of the build machine that a recipe's build
// runs besides the compilers and the build system (recipe.BuildTools).
// The GTK stack needs GLib's code generators: meson's gnome module runs
// glib-mkenums, glib-genmarshal, glib-compile-resources, gdbus-codegen and
// glib-compile-schemas while building gdk-pixbuf, atk, pango and GTK. The
// cross-built GLib's own copies are Windows programs (or scripts whose
// .pc variables name them without .exe), so the build machine's must be
// used: Debian's libglib2.0-dev-bin and libglib2.0-bin, which give the
// same GLib release as the recipe on Debian 12. The generated code is C
// source or a GVariant database, the same whichever machine made it.
// GTK's resources also need gdk-pixbuf-pixdata, which glib-compile-resources
// runs for the images marked to-pixdata (the build machine's gdk-pixbuf;
// its output, raw pixel data, does not depend on that machine either).

// buildTool is one program found on PATH.
type buildTool struct {
	Name   string // as meson asks for it: "glib-mkenums", "x86_64-w64-mingw32-g++"
	Path   string
	SHA256 string // of the program file: part of the recipe's cache key
	// Meson says whether meson is told the path in the cross file's
	// [binaries]: GLib's programs are; compilers are not (meson takes
	// the cross compilers from their own entries and finds the build
	// machine's cc itself).
	Meson bool
}

// expandTool replaces "{cross}" with the cross prefix.
func (t Toolchain) expandTool(name string) string {
	return strings.ReplaceAll(name, "{cross}", t.CrossPrefix)
}

// toolPackage is the package that installs a build tool on this host's
// family, as setup would install it (host owns the names; "" when it
// knows none).
func (t Toolchain) toolPackage(name string) string {
	key := name
	if rest, ok := strings.CutPrefix(name, "{cross}"); ok {
		switch rest {
		case "gcc":
			key = host.ToolGCC
		case "g++":
			key = host.ToolGXX
		default:
			key = host.ToolBinutils
		}
	}
	return host.ToolPackage(t.Family, key, t.Triplet)
}

// findBuildTools looks up every build tool of r on PATH, sorted by name.
// A missing tool is an error that names the recipe, the program and the
// package to install.
func (t Toolchain) findBuildTools(r recipe.Recipe) ([]buildTool, error) {
	var out []buildTool
	var missing, pkgs []string
	for _, raw := range r.BuildTools {
		name := t.expandTool(raw)
		path, err := exec.LookPath(name)
		if err == nil {
			path, err = filepath.Abs(path)
		}
		if err != nil {
			m := name
			if pkg := t.toolPackage(raw); pkg != "" {
				m += " (" + pkg + ")"
				pkgs = append(pkgs, strings.Fields(pkg)...)
			}
			missing = append(missing, m)
			continue
		}
		sum, err := checksum.File(path)
		if err != nil {
			return nil, fmt.Errorf("deps: %s: build tool %s: %w", r.Name, path, err)
		}
		meson := raw != "cc" && !strings.HasPrefix(raw, "{cross}")
		out = append(out, buildTool{Name: name, Path: path, SHA256: sum, Meson: meson})
	}
	if len(missing) > 0 {
		how := "install them"
		if cmd := host.InstallCommand(t.Family, pkgs); cmd != "" {
			how = "install them (" + cmd + ")"
		}
		return nil, fmt.Errorf("deps: recipes/deps/%s.json runs programs of the build machine that are not on PATH: %s; %s, then run again",
			r.Name, strings.Join(missing, ", "), how)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// toolsKey is what the build tools add to a recipe's cache key: nothing
// for a recipe with none (its key stays what it was), else each program's
// name and sha256, so a new GLib on the build machine rebuilds what it
// generated code for.
func toolsKey(tools []buildTool) string {
	var b strings.Builder
	for _, bt := range tools {
		fmt.Fprintf(&b, " tool:%s=%s", bt.Name, bt.SHA256)
	}
	return b.String()
}

// withBinaries adds the build tools to the [binaries] section of a meson
// cross file, so meson runs exactly the programs the key was made from
// (without them it searches PATH, or takes a native gio-2.0's variables).
func withBinaries(crossFile string, tools []buildTool) string {
	var lines strings.Builder
	lines.WriteString("[binaries]\n")
	for _, bt := range tools {
		if !bt.Meson {
			continue
		}
		fmt.Fprintf(&lines, "%s = %s\n", bt.Name, quoteList([]string{filepath.ToSlash(bt.Path)}))
	}
	return strings.Replace(crossFile, "[binaries]\n", lines.String(), 1)
}
