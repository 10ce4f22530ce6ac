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
