/* A GTK-style application window: signal handlers, main-loop sources and a
 * table of plugin callbacks kept in a file-scope struct. Each construct appears
 * once leaking and once released, written the way GTK code writes it. */
#include <gtk/gtk.h>

typedef void (*plugin_cb)(gpointer data);

typedef struct {
  GtkWidget *window, *button, *entry, *label;
  gulong clicked_id;
  gulong changed_id;
  guint tick_id;
  guint blink_id;
  gboolean dirty;
} AppWindow;

/* Plugin callbacks and their data, in member arrays of a file-scope struct. */
static struct {
  plugin_cb callbacks[32];
  gpointer data[32];
  int n;
} plugins;

static struct {
  plugin_cb hooks[8];
  gpointer ctx[8];
  int n;
} shutdown_hooks;

void plugin_add(plugin_cb cb, gpointer data) {
  plugins.callbacks[plugins.n] = cb;
  plugins.data[plugins.n] = data;
  plugins.n++;
}

void shutdown_hook_add(plugin_cb cb, gpointer ctx) {
  shutdown_hooks.hooks[shutdown_hooks.n] = cb;
  shutdown_hooks.ctx[shutdown_hooks.n++] = ctx;
}

void shutdown_hook_remove(int i) {
  shutdown_hooks.n--;
  shutdown_hooks.hooks[i] = shutdown_hooks.hooks[shutdown_hooks.n];
  shutdown_hooks.ctx[i] = shutdown_hooks.ctx[shutdown_hooks.n];
}

static void on_clicked(GtkButton *button, gpointer user_data) { (void)button, (void)user_data; }
static void on_changed(GtkEditable *editable, gpointer user_data) { (void)editable, (void)user_data; }
static void on_destroy(GtkWidget *widget, gpointer user_data) { (void)widget, (void)user_data; }
static void on_settings_changed(GSettings *s, const char *key, gpointer user_data) { (void)s, (void)key, (void)user_data; }
static void on_theme_changed(GSettings *s, const char *key, gpointer label) { (void)s, (void)key, (void)label; }
static void on_label_notify(GObject *o, GParamSpec *p, gpointer user_data) { (void)o, (void)p, (void)user_data; }

static gboolean on_tick(gpointer user_data) {
  AppWindow *self = user_data;
  gtk_label_set_text(GTK_LABEL(self->label), "tick");
  return G_SOURCE_CONTINUE;
}

static gboolean on_blink(gpointer user_data) {
  AppWindow *self = user_data;
  gtk_widget_set_visible(self->label, !gtk_widget_get_visible(self->label));
  return G_SOURCE_CONTINUE;
}

static gboolean on_first_idle(gpointer user_data) {
  gtk_widget_grab_focus(((AppWindow *)user_data)->entry);
  return G_SOURCE_REMOVE;
}

static gboolean on_autosave(gpointer user_data) {
  AppWindow *self = user_data;
  if (self->dirty) return G_SOURCE_CONTINUE;
  return FALSE;
}

static gboolean on_socket_ready(GIOChannel *channel, GIOCondition cond, gpointer user_data) {
  (void)channel, (void)cond, (void)user_data;
  return TRUE;
}

void app_window_init(AppWindow *self, GSettings *settings, GIOChannel *channel) {
  self->clicked_id = g_signal_connect(self->button, "clicked", G_CALLBACK(on_clicked), self);
  self->changed_id = g_signal_connect(self->entry, "changed", G_CALLBACK(on_changed), self);
  g_signal_connect(self->window, "destroy", G_CALLBACK(on_destroy), self);
  g_signal_connect(settings, "changed::theme", G_CALLBACK(on_theme_changed), self->label);
  g_signal_connect(settings, "changed", G_CALLBACK(on_settings_changed), self);
  g_signal_connect_object(self->label, "notify", G_CALLBACK(on_label_notify), self, 0);
  self->tick_id = g_timeout_add(1000, on_tick, self);
  self->blink_id = g_timeout_add(500, on_blink, self);
  g_idle_add(on_first_idle, self);
  g_timeout_add_seconds(30, on_autosave, self);
  g_io_add_watch(channel, G_IO_IN, on_socket_ready, self);
}

void app_window_dispose(AppWindow *self, GSettings *settings) {
  g_clear_signal_handler(&self->clicked_id, self->button);
  g_signal_handlers_disconnect_by_func(self->window, G_CALLBACK(on_destroy), self);
  g_signal_handlers_disconnect_by_data(settings, self);
  g_clear_handle_id(&self->tick_id, g_source_remove);
}

/* A named struct type holding a callback table, two instances at file scope:
 * one is reset with memset, the other never is. */
struct listener_table {
  plugin_cb fns[16];
  gpointer ctx[16];
};
static struct listener_table listeners;
static struct listener_table spare_listeners;

void listener_set(int i, plugin_cb fn, gpointer ctx) {
  listeners.fns[i] = fn;
  listeners.ctx[i] = ctx;
  spare_listeners.fns[i] = fn;
  spare_listeners.ctx[i] = ctx;
}

void listeners_reset(void) { memset(&spare_listeners, 0, sizeof spare_listeners); }
