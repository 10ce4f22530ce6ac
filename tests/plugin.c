/* A plugin for the leak-report test: a shared object that registers a handler
 * with TETHER_HERE and is then unloaded with dlclose, taking its strings with it.
 * It does not link libtether: the host passes the functions it may call. */
#include "tether/tether.h"

typedef int (*plugin_register_fn)(tether_registry *r, tether_site site, const char *name,
                                  tether_fn fn, void *ctx, tether_free_fn ctx_free,
                                  const tether_reg_options *opts, tether_id *out_id);

int plugin_load(tether_registry *r, plugin_register_fn reg);

static int plugin_handler(void *ctx, void *arg) {
  (void)ctx;
  (void)arg;
  return 0;
}

int plugin_load(tether_registry *r, plugin_register_fn reg) {
  tether_reg_options ro = {.ctx_size = 4096};
  return reg(r, TETHER_HERE, "plugin/forgotten", plugin_handler, NULL, NULL, &ro, NULL);
}

/* The same from one call deeper, so that the registering stack holds a return
 * address inside the plugin (the profile test unloads it before writing). */
int plugin_load_deep(tether_registry *r, plugin_register_fn reg);

static __attribute__((noinline)) int plugin_register_here(tether_registry *r, plugin_register_fn reg) {
  tether_reg_options ro = {.ctx_size = 64};
  return reg(r, TETHER_HERE, "plugin/deep", plugin_handler, NULL, NULL, &ro, NULL);
}

int plugin_load_deep(tether_registry *r, plugin_register_fn reg) {
  int rc = plugin_register_here(r, reg);
  __asm__ volatile("" ::: "memory"); /* not a tail call: the return address stays */
  return rc;
}
