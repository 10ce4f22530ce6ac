/* Guarantees 3, 4 and 6 on one thread: removal from inside callbacks, waits that
 * report instead of deadlocking, and what an emit sees of changes made during it. */
#include <string.h>

#include "common.h"

typedef struct reentry {
  tether_registry *r;
  tether_id self, other;
  int rc;           /* what the re-entrant call returned */
  int rc2;
  tctx *extra;      /* a context to register from inside */
  tether_owner *owner;
} reentry;

static int unregister_self(tctx *c, void *arg) {
  (void)arg;
  reentry *re = c->user;
  re->rc = tether_unregister(re->r, re->self);
  /* The destructor must not run while we are still inside. */
  re->rc2 = atomic_load(&c->freed);
  return 0;
}

TEST(reentry_handler_removes_itself) {
  fixture fx;
  CHECK_EQ(fixture_open(&fx, TETHER_MAP), 0);
  reentry re = {.r = fx.r};
  tctx c = {.hook = unregister_self, .user = &re};
  CHECK_EQ(tether_register(fx.r, "self", tctx_fn, &c, tctx_free, NULL, &re.self), 0);
  CHECK_EQ(tether_emit(fx.r, "self", NULL), 1);
  CHECK_EQ(re.rc, 0);
  CHECK_EQ(re.rc2, 0);
  CHECK_EQ(tether_emit(fx.r, "self", NULL), 0);
  CHECK_EQ(tether_barrier(fx.r), 0);
  CHECK_EQ(atomic_load(&c.freed), 1);
  CHECK_EQ(atomic_load(&c.freed_during_call), 0);
  CHECK_EQ(fixture_close(&fx), 0);
}

static int unregister_other(tctx *c, void *arg) {
  (void)arg;
  reentry *re = c->user;
  re->rc = tether_unregister(re->r, re->other);
  return 0;
}

TEST(reentry_removed_during_emit_is_not_called) {
  fixture fx;
  CHECK_EQ(fixture_open(&fx, TETHER_BUS), 0);
  reentry re = {.r = fx.r};
  tctx first = {.hook = unregister_other, .user = &re}, second = {0};
  CHECK_EQ(tether_register(fx.r, "ev", tctx_fn, &first, tctx_free, NULL, NULL), 0);
  CHECK_EQ(tether_register(fx.r, "ev", tctx_fn, &second, tctx_free, NULL, &re.other), 0);
  CHECK_EQ(tether_emit(fx.r, "ev", NULL), 1);
  CHECK_EQ(re.rc, 0);
  CHECK_EQ(atomic_load(&second.calls), 0);
  CHECK_EQ(fixture_close(&fx), 0);
  CHECK_EQ(atomic_load(&second.freed), 1);
}

static int register_more(tctx *c, void *arg) {
  (void)arg;
  reentry *re = c->user;
  if (re->extra != NULL) {
    re->rc = tether_register(re->r, "ev", tctx_fn, re->extra, tctx_free, NULL, NULL);
    re->extra = NULL;
  }
  return 0;
}

TEST(reentry_registered_during_emit_is_not_called) {
  fixture fx;
  CHECK_EQ(fixture_open(&fx, TETHER_BUS), 0);
  tctx late = {0};
  reentry re = {.r = fx.r, .extra = &late};
  tctx first = {.hook = register_more, .user = &re};
  CHECK_EQ(tether_register(fx.r, "ev", tctx_fn, &first, tctx_free, NULL, NULL), 0);
  CHECK_EQ(tether_emit(fx.r, "ev", NULL), 1);
  CHECK_EQ(re.rc, 0);
  CHECK_EQ(atomic_load(&late.calls), 0);
  CHECK_EQ(tether_emit(fx.r, "ev", NULL), 2);
  CHECK_EQ(atomic_load(&late.calls), 1);
  CHECK_EQ(fixture_close(&fx), 0);
}

static int waits_inside(tctx *c, void *arg) {
  (void)arg;
  reentry *re = c->user;
  re->rc = tether_barrier(re->r);
  re->rc2 = tether_unregister_sync(re->r, re->self);
  return 0;
}

TEST(reentry_sync_and_barrier_report_edeadlk) {
  fixture fx;
  CHECK_EQ(fixture_open(&fx, TETHER_MAP), 0);
  reentry re = {.r = fx.r};
  tctx c = {.hook = waits_inside, .user = &re};
  CHECK_EQ(tether_register(fx.r, "w", tctx_fn, &c, tctx_free, NULL, &re.self), 0);
  CHECK_EQ(tether_emit(fx.r, "w", NULL), 1);
  CHECK_EQ(re.rc, TETHER_EDEADLK);
  CHECK_EQ(re.rc2, TETHER_EDEADLK);
  /* Nothing changed: the registration is still there. */
  CHECK_EQ(tether_emit(fx.r, "w", NULL), 1);
  CHECK_EQ(atomic_load(&c.freed), 0);
  /* Outside a callback the same calls work. */
  CHECK_EQ(tether_unregister_sync(fx.r, re.self), 0);
  CHECK_EQ(atomic_load(&c.freed), 1);
  CHECK_EQ(fixture_close(&fx), 0);
}

static int frees_registry(tctx *c, void *arg) {
  (void)arg;
  reentry *re = c->user;
  re->rc = tether_registry_free(re->r);
  return 0;
}

TEST(reentry_registry_free_inside_is_ebusy) {
  fixture fx;
  CHECK_EQ(fixture_open(&fx, TETHER_MAP), 0);
  reentry re = {.r = fx.r};
  tctx c = {.hook = frees_registry, .user = &re};
  CHECK_EQ(tether_register(fx.r, "f", tctx_fn, &c, tctx_free, NULL, NULL), 0);
  CHECK_EQ(tether_emit(fx.r, "f", NULL), 1);
  CHECK_EQ(re.rc, TETHER_EBUSY);
  CHECK_EQ(fixture_close(&fx), 0);
}

static int frees_owner(tctx *c, void *arg) {
  (void)arg;
  reentry *re = c->user;
  tether_owner_free(re->owner);
  re->owner = NULL;
  re->rc2 = atomic_load(&c->freed);
  return 0;
}

TEST(reentry_owner_freed_from_its_own_handler) {
  fixture fx;
  CHECK_EQ(fixture_open(&fx, TETHER_BUS), 0);
  reentry re = {.r = fx.r};
  CHECK_EQ(tether_owner_new(&re.owner), 0);
  tctx c = {.hook = frees_owner, .user = &re}, sibling = {0};
  tether_reg_options ro = {.owner = re.owner};
  CHECK_EQ(tether_register(fx.r, "o", tctx_fn, &c, tctx_free, &ro, NULL), 0);
  CHECK_EQ(tether_register(fx.r, "o", tctx_fn, &sibling, tctx_free, &ro, NULL), 0);
  CHECK_EQ(tether_emit(fx.r, "o", NULL), 1); /* the sibling was removed before its turn */
  CHECK_EQ(re.rc2, 0);
  CHECK_EQ(atomic_load(&sibling.calls), 0);
  CHECK_EQ(tether_emit(fx.r, "o", NULL), 0);
  CHECK_EQ(tether_barrier(fx.r), 0);
  CHECK_EQ(atomic_load(&c.freed), 1);
  CHECK_EQ(atomic_load(&sibling.freed), 1);
  CHECK_EQ(atomic_load(&c.freed_during_call), 0);
  CHECK_EQ(fixture_close(&fx), 0);
}

TEST(reentry_once_handler_frees_its_owner) {
  fixture fx;
  CHECK_EQ(fixture_open(&fx, TETHER_MAP), 0);
  reentry re = {.r = fx.r};
  CHECK_EQ(tether_owner_new(&re.owner), 0);
  tctx c = {.hook = frees_owner, .user = &re};
  tether_reg_options ro = {.owner = re.owner, .flags = TETHER_ONCE};
  CHECK_EQ(tether_register(fx.r, "once", tctx_fn, &c, tctx_free, &ro, NULL), 0);
  CHECK_EQ(tether_emit(fx.r, "once", NULL), 1);
  CHECK_EQ(tether_emit(fx.r, "once", NULL), 0);
  CHECK_EQ(tether_barrier(fx.r), 0);
  CHECK_EQ(atomic_load(&c.freed), 1);
  tether_stats st;
  CHECK_EQ(tether_stats_get(fx.r, &st), 0);
  CHECK_EQ(st.live, 0);
  CHECK_EQ(fixture_close(&fx), 0);
}

static int nested_emit(tctx *c, void *arg) {
  reentry *re = c->user;
  int depth = (int)(intptr_t)arg;
  if (depth < 5) re->rc += tether_emit(re->r, "nest", (void *)(intptr_t)(depth + 1));
  return 0;
}

TEST(reentry_nested_emits) {
  fixture fx;
  CHECK_EQ(fixture_open(&fx, TETHER_MAP), 0);
  reentry re = {.r = fx.r};
  tctx c = {.hook = nested_emit, .user = &re};
  CHECK_EQ(tether_register(fx.r, "nest", tctx_fn, &c, tctx_free, NULL, NULL), 0);
  CHECK_EQ(tether_emit(fx.r, "nest", (void *)(intptr_t)0), 1);
  CHECK_EQ(re.rc, 5);
  CHECK_EQ(atomic_load(&c.calls), 6);
  CHECK_EQ(fixture_close(&fx), 0);
}

/* A destructor that calls back into the registry (allowed: no lock is held). */
typedef struct dtor_ctx {
  tether_registry *r;
  int rc;
  _Atomic int ran;
} dtor_ctx;

static void dtor_registers(void *ctx) {
  dtor_ctx *d = ctx;
  d->rc = tether_register(d->r, "from-dtor", nop_fn, NULL, NULL, NULL, NULL);
  if (d->rc == 0) d->rc = tether_barrier(d->r) == TETHER_EDEADLK ? 0 : -100;
  atomic_fetch_add(&d->ran, 1);
}

TEST(reentry_destructor_may_call_back) {
  fixture fx;
  CHECK_EQ(fixture_open(&fx, TETHER_MAP), 0);
  dtor_ctx d = {.r = fx.r};
  tether_id id = 0;
  CHECK_EQ(tether_register(fx.r, "d", nop_fn, &d, dtor_registers, NULL, &id), 0);
  CHECK_EQ(tether_unregister_sync(fx.r, id), 0);
  CHECK_EQ(atomic_load(&d.ran), 1);
  CHECK_EQ(d.rc, 0);
  CHECK_EQ(tether_emit(fx.r, "from-dtor", NULL), 1);
  CHECK_EQ(fixture_close(&fx), 0);
}

static int barrier_other(tctx *c, void *arg) {
  (void)arg;
  reentry *re = c->user;
  re->rc = tether_barrier(re->r); /* re->r is another registry here */
  return 0;
}

TEST(reentry_barrier_on_another_registry_is_allowed) {
  fixture a, b;
  CHECK_EQ(fixture_open(&a, TETHER_MAP), 0);
  CHECK_EQ(fixture_open(&b, TETHER_MAP), 0);
  reentry re = {.r = b.r, .rc = -99};
  tctx c = {.hook = barrier_other, .user = &re};
  CHECK_EQ(tether_register(a.r, "x", tctx_fn, &c, tctx_free, NULL, NULL), 0);
  CHECK_EQ(tether_emit(a.r, "x", NULL), 1);
  CHECK_EQ(re.rc, 0);
  CHECK_EQ(fixture_close(&b), 0);
  CHECK_EQ(fixture_close(&a), 0);
}
