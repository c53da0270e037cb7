package bundle

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"qemupack/internal/atomicfile"
	"qemupack/internal/pe/petest"
)

// gtkPrefix lays out a prefix like the deps stack's: bin/libgtk-3-0.dll
// and GTK 3.24.38's own schemas (testdata/gtk3/schemas) but skip.
func gtkPrefix(t *testing.T, skip string) string {
	dir := t.TempDir()
	schemas := filepath.Join(dir, "share", "glib-2.0", "schemas")
	if err := os.MkdirAll(schemas, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, f := range gtkSchemaFiles {
		if f == skip {
			continue
		}
		if err := atomicfile.Copy(filepath.Join("..", "..", "testdata", "gtk3", "schemas", f), filepath.Join(schemas, f)); err != nil {
			t.Fatal(err)
		}
	}
	dll := filepath.Join(dir, "bin", "libgtk-3-0.dll")
	if err := os.MkdirAll(filepath.Dir(dll), 0o755); err != nil {
		t.Fatal(err)
	}
	return dll
}

func TestGTKSchemasCompiled(t *testing.T) {
	petest.Need(t, "glib-compile-schemas", "libglib2.0-bin")
	ctx := context.Background()
	es, err := gtkSchemas(ctx, gtkPrefix(t, ""), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if len(es) != 1 || es[0].Name != SchemasEntry || len(es[0].Data) < 1000 {
		t.Fatalf("entries %+v", es)
	}
	// GVDB, GLib's compiled schema format, starts with "GVariant".
	if !bytes.HasPrefix(es[0].Data, []byte("GVariant")) {
		t.Errorf("not a compiled schema file: %q", es[0].Data[:16])
	}
	again, err := gtkSchemas(ctx, gtkPrefix(t, ""), t.TempDir())
	if err != nil || !bytes.Equal(again[0].Data, es[0].Data) {
		t.Errorf("two compilations differ (%v): the archive would not be reproducible", err)
	}
	// A schema missing from the prefix fails the bundle, naming it.
	_, err = gtkSchemas(ctx, gtkPrefix(t, "org.gtk.Settings.FileChooser.gschema.xml"), t.TempDir())
	if err == nil || !strings.Contains(err.Error(), "org.gtk.Settings.FileChooser.gschema.xml") {
		t.Errorf("a missing schema: %v", err)
	}
}

func TestBuiltinLoadersChecked(t *testing.T) {
	dir := t.TempDir()
	ok := filepath.Join(dir, "ok.dll")
	os.WriteFile(ok, []byte("MZ..._gdk_pixbuf__png_fill_vtable..._gdk_pixbuf__jpeg_fill_vtable..."), 0o644)
	if es, err := builtinLoaders(context.Background(), ok, dir); err != nil || len(es) != 0 {
		t.Errorf("built-in loaders: %v %v", es, err)
	}
	modules := filepath.Join(dir, "modules.dll")
	os.WriteFile(modules, []byte("MZ...loaders.cache..._gdk_pixbuf__png_fill_vtable"), 0o644)
	_, err := builtinLoaders(context.Background(), modules, dir)
	if err == nil || !strings.Contains(err.Error(), "jpeg") || !strings.Contains(err.Error(), "builtin_loaders") {
		t.Errorf("a gdk-pixbuf with loader modules: %v", err)
	}
}

// Only DLLs in the closure bring their runtime data: a closure without
// GTK gets nothing, one with it gets the schemas, owned by the DLL.
func TestRuntimeEntriesFollowTheClosure(t *testing.T) {
	petest.Need(t, "glib-compile-schemas", "libglib2.0-bin")
	ctx := context.Background()
	es, owners, err := runtimeEntries(ctx, &Closure{DLLs: []DLL{{Name: "sdl2.dll", Path: "/x/SDL2.dll"}}})
	if err != nil || len(es) != 0 || len(owners) != 0 {
		t.Errorf("no GTK: %v %v %v", es, owners, err)
	}
	dll := gtkPrefix(t, "")
	es, owners, err = runtimeEntries(ctx, &Closure{DLLs: []DLL{{Name: "libgtk-3-0.dll", Path: dll}}})
	if err != nil || len(es) != 1 || owners[SchemasEntry] != dll || es[0].Origin != dll {
		t.Errorf("GTK: %v %v %v", es, owners, err)
	}
}
