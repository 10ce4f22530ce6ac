/* TC201: registrations whose id is thrown away and that have no owner or TTL. */
#include <stddef.h>
#include <stdint.h>

typedef struct tether_registry tether_registry;
typedef struct tether_owner tether_owner;
typedef uint64_t tether_id;
typedef struct tether_reg_options {
  tether_owner *owner;
  uint64_t ttl_ms;
} tether_reg_options;
int tether_register(tether_registry *r, const char *name, void (*fn)(void *), void *ctx,
                    void (*ctx_free)(void *), const tether_reg_options *opts, tether_id *out_id);
int tether_unregister(tether_registry *r, tether_id id);

static void on_event(void *ctx) { (void)ctx; }

void setup(tether_registry *r, void *ctx, tether_owner *owner) {
  tether_register(r, "forever", on_event, ctx, NULL, NULL, NULL);
  tether_id id;
  tether_register(r, "kept", on_event, ctx, NULL, NULL, &id);
  tether_unregister(r, id);
  tether_register(r, "owned", on_event, ctx, NULL, &(tether_reg_options){.owner = owner}, NULL);
  tether_register(r, "expires", on_event, ctx, NULL, &(tether_reg_options){.ttl_ms = 5000}, NULL);
  tether_register(r, "nothing", on_event, ctx, NULL, &(tether_reg_options){0}, NULL);
}
