/* A window with a menu bar and tabs like QEMU's GTK display, for the proof
 * that the mingw GTK 3 stack runs on Windows (under Xvfb and wine in
 * internal/deps' TestGTKWindowUnderWine). It prints the backend and the
 * image formats gdk-pixbuf knows, and quits by itself after the seconds
 * given as its first argument (default 20). */
#include <gtk/gtk.h>
#include <gdk/gdkwin32.h>
#include <stdlib.h>

static gboolean quit(gpointer data) {
  (void)data;
  gtk_main_quit();
  return G_SOURCE_REMOVE;
}

static GtkWidget *menu(GtkWidget *bar, const char *label, const char *const *items) {
  GtkWidget *top = gtk_menu_item_new_with_mnemonic(label);
  GtkWidget *m = gtk_menu_new();
  for (; *items; items++) {
    GtkWidget *it;
    if (**items == '-')
      it = gtk_separator_menu_item_new();
    else if (**items == '*')
      it = gtk_check_menu_item_new_with_mnemonic(*items + 1);
    else
      it = gtk_menu_item_new_with_mnemonic(*items);
    gtk_menu_shell_append(GTK_MENU_SHELL(m), it);
  }
  gtk_menu_item_set_submenu(GTK_MENU_ITEM(top), m);
  gtk_menu_shell_append(GTK_MENU_SHELL(bar), top);
  return top;
}

int main(int argc, char **argv) {
  int seconds = argc > 1 ? atoi(argv[1]) : 20;
  if (!gtk_init_check(&argc, &argv)) {
    g_printerr("gtk_init_check failed: no display\n");
    return 2;
  }
  GtkWidget *win = gtk_window_new(GTK_WINDOW_TOPLEVEL);
  gtk_window_set_title(GTK_WINDOW(win), "qemupack GTK proof");
  gtk_window_set_default_size(GTK_WINDOW(win), 480, 300);
  g_signal_connect(win, "destroy", G_CALLBACK(gtk_main_quit), NULL);

  GtkWidget *box = gtk_box_new(GTK_ORIENTATION_VERTICAL, 0);
  GtkWidget *bar = gtk_menu_bar_new();
  static const char *const machine[] = {"_Pause", "_Reset", "Power _Down", "-", "_Quit", NULL};
  static const char *const view[] = {"*_Fullscreen", "*Zoom To _Fit", "-", "*_Grab Input", "-", "_Show Tabs", NULL};
  menu(bar, "_Machine", machine);
  menu(bar, "_View", view);
  gtk_box_pack_start(GTK_BOX(box), bar, FALSE, FALSE, 0);

  GtkWidget *nb = gtk_notebook_new();
  GtkWidget *page = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 12);
  gtk_container_set_border_width(GTK_CONTAINER(page), 24);
  gtk_box_pack_start(GTK_BOX(page), gtk_image_new_from_icon_name("dialog-information", GTK_ICON_SIZE_DIALOG), FALSE, FALSE, 0);
  char *text = g_strdup_printf("GTK %u.%u.%u on the win32 backend\nHello from qemupack's mingw stack",
                               gtk_get_major_version(), gtk_get_minor_version(), gtk_get_micro_version());
  gtk_box_pack_start(GTK_BOX(page), gtk_label_new(text), FALSE, FALSE, 0);
  gtk_notebook_append_page(GTK_NOTEBOOK(nb), page, gtk_label_new("VGA"));
  gtk_notebook_append_page(GTK_NOTEBOOK(nb), gtk_label_new("(serial console)"), gtk_label_new("serial0"));
  gtk_notebook_append_page(GTK_NOTEBOOK(nb), gtk_label_new("(monitor)"), gtk_label_new("compatmonitor0"));
  gtk_box_pack_start(GTK_BOX(box), nb, TRUE, TRUE, 0);
  gtk_container_add(GTK_CONTAINER(win), box);
  gtk_widget_show_all(win);

  GdkDisplay *d = gtk_widget_get_display(win);
  g_print("gtk %u.%u.%u display %s backend-win32 %d\n", gtk_get_major_version(), gtk_get_minor_version(),
          gtk_get_micro_version(), gdk_display_get_name(d), GDK_IS_WIN32_DISPLAY(d));
  GSList *fs = gdk_pixbuf_get_formats();
  g_print("pixbuf formats:");
  for (GSList *l = fs; l; l = l->next) {
    gchar *n = gdk_pixbuf_format_get_name(l->data);
    g_print(" %s", n);
    g_free(n);
  }
  g_print("\n");
  g_slist_free(fs);
  /* GTK's choosers need GLib's compiled schemas (share/glib-2.0/schemas
   * beside the DLLs); starting needs none. Say whether they were found. */
  GSettingsSchemaSource *src = g_settings_schema_source_get_default();
  GSettingsSchema *schema = src ? g_settings_schema_source_lookup(src, "org.gtk.Settings.FileChooser", TRUE) : NULL;
  g_print("schema org.gtk.Settings.FileChooser: %s\n", schema ? "found" : "missing");
  if (schema) g_settings_schema_unref(schema);
  g_free(text);
  g_timeout_add_seconds(seconds, quit, NULL);
  gtk_main();
  g_print("gtk main loop ended\n");
  return 0;
}
