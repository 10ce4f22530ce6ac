/* The background thread runs a removal's destructor about a millisecond after
 * the removal, with no further call from anyone (guarantee 5), whatever periodic
 * work the registry has scheduled for it: a sweep interval, call tracking. The
 * API fuzzer (fuzz/fuzz-api.c) found tether_owner_free_sync taking 100 ms on a
 * registry that tracks calls: the arm that schedules a new registry's periodic
 * work left it "armed" with that work's due time, and every arm of a writer
 * until then returned early, so destructors waited for the first tick (or the
 * first sweep, however far off). */
#include <time.h>

#include "common.h"

static void sleep_5ms(void) {
  struct timespec ts = {0, 5000000};
  nanosleep(&ts, NULL);
}

/* Registers and unregisters in a registry made with O, then waits up to 10 s for
 * the destructor, calling nothing. Returns whether it ran. */
static int destructor_runs_unprompted(tether_options *o) {
  test_alloc al;
  test_alloc_init(&al);
  o->allocator = &al.iface;
  tether_registry *r = NULL;
  if (tether_registry_new(&r, o) != 0) return 0;
  tctx c = {0};
  tether_id id = 0;
  if (tether_register(r, "gone", tctx_fn, &c, tctx_free, NULL, &id) != 0) return 0;
  if (tether_unregister(r, id) != 0) return 0;
  for (int waited = 0; atomic_load(&c.freed) == 0 && waited < 10000; waited += 5) sleep_5ms();
  int ran = atomic_load(&c.freed) == 1;
  tether_registry_free(r);
  return ran && atomic_load(&al.live_blocks) == 0;
}

TEST(background_reclaims_soon_with_a_far_sweep_interval) {
  tether_options o = {.sweep_interval_ms = 3600 * 1000}; /* the first sweep in an hour */
  CHECK(destructor_runs_unprompted(&o));
}

TEST(background_reclaims_soon_while_tracking_calls) {
  tether_options o = {.track_calls = 1};
  CHECK(destructor_runs_unprompted(&o));
}
