package bundle

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"qemupack/internal/atomicfile"
	"qemupack/internal/host"
	"qemupack/internal/run"
)

// RuntimeData is what a DLL of the closure reads at run time that no
// import table names: data files beside the programs. Each row says for
// one DLL what it needs and makes exactly that, or says why it needs
// nothing and checks that this still holds. A row whose check fails
// fails the bundle: a DLL that would look for files the archive lacks
// does not ship (fail closed), and no folder is copied whole.
type RuntimeData struct {
	DLL string // lower-case file name, as the closure names it
	// Needs says in a line what ships, or why nothing does.
	Needs string
	// Make returns the archive entries for the DLL found at dll (in the
	// deps stack's bin/, its prefix one folder up), made in the scratch
	// folder tmp; an error names what is missing and the fix.
	Make func(ctx context.Context, dll, tmp string) ([]Entry, error)
}

// runtimeData is the table: GTK 3.24.38 and gdk-pixbuf 2.42.10 as the
// recipes build them, checked under wine by the GTK smoke check and by
// internal/deps' GTK proof.
var runtimeData = []RuntimeData{
	{DLL: "libgtk-3-0.dll",
		Needs: "GTK's GSettings schemas (its file, colour and emoji choosers and the inspector read them; GLib aborts on a missing schema), compiled into share/glib-2.0/schemas/gschemas.compiled, where GLib on Windows looks beside the DLLs. No icon theme: the icons GTK draws itself (menus, check and radio marks, arrows) are in its resources; no input-method or print-backend modules (built in or off on Windows)",
		Make:  gtkSchemas},
	{DLL: "libgdk_pixbuf-2.0-0.dll",
		Needs: "nothing: the PNG and JPEG loaders are built into the DLL (the recipe's -Dbuiltin_loaders=png,jpeg), so no loader modules and no loaders.cache ship; GTK's own icons are PNG. Under wine GTK warns once that Adwaita's assets/bullet-symbolic.svg (the dot of a checked radio item) cannot be loaded, as no SVG loader is built; the View menu's radio items still show their state",
		Make:  builtinLoaders},
}

// RuntimeDataTable is the table, for the README and tests.
func RuntimeDataTable() []RuntimeData { return append([]RuntimeData(nil), runtimeData...) }

// gtkSchemaFiles are the schemas GTK 3.24 installs.
var gtkSchemaFiles = []string{
	"org.gtk.Settings.ColorChooser.gschema.xml",
	"org.gtk.Settings.Debug.gschema.xml",
	"org.gtk.Settings.EmojiChooser.gschema.xml",
	"org.gtk.Settings.FileChooser.gschema.xml",
}

// SchemasEntry is where GLib on Windows looks for compiled schemas: the
// share folder beside the DLL's folder (for a program in the archive's
// top folder, its own share/).
const SchemasEntry = "share/glib-2.0/schemas/gschemas.compiled"

// gtkSchemas compiles GTK's schemas from its prefix with the build
// machine's glib-compile-schemas (the compiled file does not depend on
// the platform that wrote it).
func gtkSchemas(ctx context.Context, dll, tmp string) ([]Entry, error) {
	src := filepath.Join(filepath.Dir(filepath.Dir(dll)), "share", "glib-2.0", "schemas")
	in := filepath.Join(tmp, "xml")
	if err := os.MkdirAll(in, 0o755); err != nil {
		return nil, fmt.Errorf("bundle: %w", err)
	}
	var missing []string
	for _, f := range gtkSchemaFiles {
		if err := atomicfile.Copy(filepath.Join(src, f), filepath.Join(in, f)); err != nil {
			missing = append(missing, f)
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("bundle: %s needs GTK's schemas, but %s lacks %s: GTK's recipe must install them (meson installs them by default)", filepath.Base(dll), src, strings.Join(missing, ", "))
	}
	if _, err := exec.LookPath("glib-compile-schemas"); err != nil {
		return nil, fmt.Errorf("bundle: %s needs its schemas compiled, and glib-compile-schemas is not installed (Debian: %s; setup installs it)", filepath.Base(dll), host.ToolPackage(host.Debian, host.ToolGlibSchemas, ""))
	}
	out := filepath.Join(tmp, "compiled")
	if err := os.MkdirAll(out, 0o755); err != nil {
		return nil, fmt.Errorf("bundle: %w", err)
	}
	if err := run.Run(ctx, run.Cmd{Args: []string{"glib-compile-schemas", "--strict", "--targetdir", out, in}}); err != nil {
		return nil, fmt.Errorf("bundle: compiling GTK's schemas: %w", err)
	}
	b, err := os.ReadFile(filepath.Join(out, "gschemas.compiled"))
	if err != nil {
		return nil, fmt.Errorf("bundle: %w", err)
	}
	// The compiled file names each schema: a check that all of them are
	// in it.
	for _, f := range gtkSchemaFiles {
		id := strings.TrimSuffix(f, ".gschema.xml")
		if !bytes.Contains(b, []byte(id)) {
			return nil, fmt.Errorf("bundle: the compiled schemas lack %s", id)
		}
	}
	return []Entry{{Name: SchemasEntry, Data: b}}, nil
}

// builtinLoaders checks that gdk-pixbuf has its PNG and JPEG loaders
// built in: the symbols of the built-in loaders are in the unstripped
// DLL's symbol table.
func builtinLoaders(ctx context.Context, dll, tmp string) ([]Entry, error) {
	b, err := os.ReadFile(dll)
	if err != nil {
		return nil, fmt.Errorf("bundle: %w", err)
	}
	var missing []string
	for _, f := range []string{"png", "jpeg"} {
		if !bytes.Contains(b, []byte("_gdk_pixbuf__"+f+"_fill_vtable")) {
			missing = append(missing, f)
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("bundle: %s has no built-in %s loader: it would look for loader modules and a loaders.cache, which the archive does not carry; build gdk-pixbuf with -Dbuiltin_loaders=png,jpeg (recipes/deps/gdk-pixbuf.json)", dll, strings.Join(missing, ", "))
	}
	return nil, nil
}

// runtimeEntries makes the runtime data of every DLL in the closure that
// has a row, in table order, and says which DLL each entry is for (its
// licence covers it); a row's failure fails the bundle.
func runtimeEntries(ctx context.Context, cl *Closure) ([]Entry, map[string]string, error) {
	byName := map[string]string{}
	for _, d := range cl.DLLs {
		byName[strings.ToLower(d.Name)] = d.Path
	}
	var out []Entry
	owners := map[string]string{}
	for _, r := range runtimeData {
		dll, ok := byName[r.DLL]
		if !ok {
			continue
		}
		tmp, err := os.MkdirTemp("", "qemupack-runtime-")
		if err != nil {
			return nil, nil, fmt.Errorf("bundle: %w", err)
		}
		es, err := r.Make(ctx, dll, tmp)
		os.RemoveAll(tmp)
		if err != nil {
			return nil, nil, err
		}
		for i := range es {
			es[i].Origin = dll // the bill of materials gives it to the DLL's component
			owners[es[i].Name] = dll
		}
		out = append(out, es...)
	}
	return out, owners, nil
}
