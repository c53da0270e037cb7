package deps

// GTKModules are the pkg-config modules QEMU's GTK display asks for
// (QEMU's meson.build: dependency('gtk+-3.0', version: '>=3.22.0'); it
// also asks for gtk+-x11-3.0, which Windows has not, and vte-2.91, which
// is optional). Want them beside QEMUModules when a profile offers the
// GTK window; through the recipes' deps they bring the whole Windows GTK 3
// stack: gtk3, atk, gdk-pixbuf (PNG and JPEG built in) with libpng and
// libjpeg-turbo, pango (win32 backend) with harfbuzz and fribidi, cairo
// (win32 surface and fonts), libepoxy, and GLib with GIO. No fontconfig,
// freetype or X11.
var GTKModules = []string{"gtk+-3.0"}

// GTKFeature is the GTK display as a desk Feature, for a profile that
// lists it beside DeskFeatures (the desk profile does; it is not in that
// list, which every desk build of the library features shares: building
// it takes longer than all of them together).
var GTKFeature = Feature{Option: "gtk", Modules: GTKModules, Min: "3.22.0",
	How: "dependency('gtk+-3.0') through pkg-config; at run time GTK needs no loader cache, input-method cache or icon theme (PNG/JPEG and IMEs are built in, its icons are resources), only GLib's compiled schemas for its file, colour and emoji choosers (internal/bundle's runtime-data table); checked under wine by the smoke's GTK check, which saw one warning: Adwaita's bullet-symbolic.svg needs an SVG loader"}
