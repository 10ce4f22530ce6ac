/* A ref that outlives its registration's grace period: the entry waits as a
 * zombie for the last release, and keeps why it was removed, so that on_remove
 * is told the real reason. The API fuzzer (fuzz/fuzz-api.c) found on_remove told
 * TETHER_REMOVED_UNREGISTER for an expired registration whose ref was released
 * after the background thread had made it a zombie. */
#include "common.h"
#include "internal.h" /* the entry behind a ref, and an inline reclaim */

/* The ref's entry, once its grace period is over (no reader is inside, so two
 * epoch advances suffice), is a zombie. */
static int make_zombie(tether_registry *r, tether_ref *ref) {
  for (int i = 0; i < 4 && tether__state(ref->entry) != TETHER__ZOMBIE; i++) tether__reclaim_now(r);
  return tether__state(ref->entry) == TETHER__ZOMBIE;
}

/* Removes a registration held by a ref in each way but unregister (whose reason
 * is 0, what a lost reason reads as), lets it become a zombie, releases the ref
 * and checks the reason on_remove was told. */
TEST(zombie_keeps_the_reason_of_its_removal) {
  const tether_removal reasons[4] = {TETHER_REMOVED_EXPIRED, TETHER_REMOVED_OWNER,
                                     TETHER_REMOVED_REPLACED, TETHER_REMOVED_ONCE};
  for (int k = 0; k < 4; k++) {
    fixture fx;
    CHECK_EQ(fixture_open(&fx, TETHER_MAP), 0);
    tether_owner *o = NULL;
    CHECK_EQ(tether_owner_new(&o), 0);
    why_seen w = {0};
    tether_reg_options ro = {.on_remove = why_seen_fn,
                             .ttl_ms = reasons[k] == TETHER_REMOVED_EXPIRED ? 10 : 0,
                             .owner = o,
                             .flags = reasons[k] == TETHER_REMOVED_ONCE ? TETHER_ONCE : 0};
    tether_id id = 0;
    CHECK_EQ(tether_register(fx.r, "held", nop_fn, &w, NULL, &ro, &id), 0);
    tether_ref *ref = NULL;
    CHECK_EQ(tether_acquire(fx.r, id, &ref), 0);
    tether_reg_options rep = {.flags = TETHER_REPLACE};
    switch (reasons[k]) {
      case TETHER_REMOVED_EXPIRED:
        atomic_store(&fx.now, 1010);
        CHECK_EQ(tether_ref_call(ref, NULL, NULL), TETHER_ENOENT);
        break;
      case TETHER_REMOVED_OWNER:
        tether_owner_free(o);
        o = NULL;
        break;
      case TETHER_REMOVED_REPLACED:
        CHECK_EQ(tether_register(fx.r, "held", nop_fn, NULL, NULL, &rep, NULL), 0);
        break;
      default:
        CHECK_EQ(tether_ref_call(ref, NULL, NULL), 0);
        break;
    }
    tether_stats st;
    CHECK_EQ(tether_stats_get(fx.r, &st), 0); /* finishes a removal a dispatch handed off */
    CHECK_EQ(st.destructors_pending, 1);
    CHECK(make_zombie(fx.r, ref));
    CHECK_EQ(atomic_load(&w.n), 0);
    tether_ref_release(ref);
    CHECK_EQ(tether_barrier(fx.r), 0);
    CHECK_EQ(atomic_load(&w.n), 1);
    CHECK_EQ(atomic_load(&w.why), reasons[k]);
    tether_owner_free(o);
    CHECK_EQ(fixture_close(&fx), 0);
  }
}
