/* A registration whose TTL has run out is gone for every call that names it,
 * even before a sweep or a dispatch has removed it: unregistering it (by id, with
 * or without waiting) answers TETHER_ENOENT and removes it as expired, and its
 * MAP name is free for a new registration. The API fuzzer (fuzz/fuzz-api.c)
 * found each of these answering as if the registration were still there. */
#include <string.h>

#include "common.h"

/* Registers NAME in FX with a TTL of 10 ms and moves the clock past it. */
static int register_expired(fixture *fx, const char *name, why_seen *w, tether_id *id) {
  tether_reg_options ro = {.ttl_ms = 10, .on_remove = why_seen_fn};
  int rc = tether_register(fx->r, name, nop_fn, w, NULL, &ro, id);
  atomic_store(&fx->now, 1010); /* its deadline: never called at it */
  return rc;
}

/* Once its destructor is due: W's registration was removed once, as expired,
 * and counted so (not as unregistered, nor replaced). */
static void check_removed_as_expired(fixture *fx, why_seen *w) {
  CHECK_EQ(tether_barrier(fx->r), 0);
  CHECK_EQ(atomic_load(&w->n), 1);
  CHECK_EQ(atomic_load(&w->why), TETHER_REMOVED_EXPIRED);
  tether_stats st;
  CHECK_EQ(tether_stats_get(fx->r, &st), 0);
  CHECK_EQ(st.expired_total, 1);
  CHECK_EQ(st.unregistered_total, 0);
  CHECK_EQ(st.replaced_total, 0);
}

TEST(expired_unregister_is_enoent_and_removes_it_as_expired) {
  fixture fx;
  CHECK_EQ(fixture_open(&fx, TETHER_BUS), 0);
  why_seen w = {0};
  tether_id id = 0;
  CHECK_EQ(register_expired(&fx, "lease", &w, &id), 0);
  CHECK_EQ(tether_count(fx.r, "lease"), 0);
  CHECK_EQ(tether_unregister(fx.r, id), TETHER_ENOENT);
  CHECK_EQ(tether_unregister(fx.r, id), TETHER_ENOENT);
  check_removed_as_expired(&fx, &w);
  CHECK_EQ(fixture_close(&fx), 0);
}

TEST(expired_unregister_sync_is_enoent_and_waits_for_it) {
  fixture fx;
  CHECK_EQ(fixture_open(&fx, TETHER_MAP), 0);
  why_seen w = {0};
  tether_id id = 0;
  CHECK_EQ(register_expired(&fx, "lease", &w, &id), 0);
  CHECK_EQ(tether_unregister_sync(fx.r, id), TETHER_ENOENT);
  CHECK_EQ(atomic_load(&w.n), 1); /* it waited for the removal all the same */
  check_removed_as_expired(&fx, &w);
  CHECK_EQ(fixture_close(&fx), 0);
}

TEST(expired_map_name_is_free_to_register_again) {
  fixture fx;
  CHECK_EQ(fixture_open(&fx, TETHER_MAP), 0);
  why_seen w = {0};
  tether_id old = 0, id = 0;
  CHECK_EQ(register_expired(&fx, "leader", &w, &old), 0);
  /* Without TETHER_REPLACE: the expired lease is no collision. */
  tctx c = {0};
  CHECK_EQ(tether_register(fx.r, "leader", tctx_fn, &c, tctx_free, NULL, &id), 0);
  CHECK_EQ(tether_emit(fx.r, "leader", NULL), 1);
  CHECK_EQ(atomic_load(&c.calls), 1);
  CHECK_EQ(tether_unregister(fx.r, old), TETHER_ENOENT);
  check_removed_as_expired(&fx, &w);
  CHECK_EQ(fixture_close(&fx), 0);
  CHECK_EQ(atomic_load(&c.freed), 1);
}

TEST(expired_map_registration_is_not_counted_as_replaced) {
  fixture fx;
  CHECK_EQ(fixture_open(&fx, TETHER_MAP), 0);
  why_seen w = {0};
  tether_id old = 0;
  CHECK_EQ(register_expired(&fx, "leader", &w, &old), 0);
  tether_reg_options rep = {.flags = TETHER_REPLACE};
  CHECK_EQ(tether_register(fx.r, "leader", nop_fn, NULL, NULL, &rep, NULL), 0);
  check_removed_as_expired(&fx, &w);
  CHECK_EQ(tether_count(fx.r, "leader"), 1);
  CHECK_EQ(fixture_close(&fx), 0);
}

TEST(expired_map_name_under_a_topic_is_free_too) {
  fixture fx;
  CHECK_EQ(fixture_open(&fx, TETHER_MAP), 0);
  tether_topic *tp = NULL;
  CHECK_EQ(tether_topic_get(fx.r, "leader", &tp), 0);
  why_seen w = {0};
  tether_id old = 0;
  CHECK_EQ(register_expired(&fx, "leader", &w, &old), 0);
  tctx c = {0};
  CHECK_EQ(tether_register(fx.r, "leader", tctx_fn, &c, tctx_free, NULL, NULL), 0);
  CHECK_EQ(tether_topic_emit(tp, NULL), 1);
  CHECK_EQ(atomic_load(&c.calls), 1);
  tether_topic_release(tp);
  check_removed_as_expired(&fx, &w);
  CHECK_EQ(fixture_close(&fx), 0);
}
