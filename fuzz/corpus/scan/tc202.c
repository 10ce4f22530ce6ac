/* TC202: a GLib-style signal connection that nothing disconnects, and a hook
 * from a user-defined pair (--pair bus_subscribe:bus_unsubscribe). */
typedef void *gpointer;
typedef unsigned long gulong;
gulong g_signal_connect(gpointer instance, const char *signal, void (*cb)(void), gpointer data);
gulong g_signal_connect_object(gpointer instance, const char *signal, void (*cb)(void), gpointer obj);
int bus_subscribe(const char *topic, void (*cb)(void *), void *ctx);

static void on_clicked(void) {}
static void on_msg(void *ctx) { (void)ctx; }

void build(gpointer button, gpointer owner) {
  g_signal_connect(button, "clicked", on_clicked, 0);
  g_signal_connect_object(button, "clicked", on_clicked, owner);
  bus_subscribe("news", on_msg, 0);
}
