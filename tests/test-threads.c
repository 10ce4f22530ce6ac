/* Guarantees that need several threads: the last thread out runs pending
 * destructors (5), removal while others call (1, 2), owners freed while others
 * emit (8), expiry racing removal (7), per-thread state reclaimed at thread exit,
 * and the randomized stress test. */
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "common.h"
#include "stress.h"

/* ---- guarantee 5 ---- */

typedef struct slow {
  tether_registry *r;
  _Atomic int started, finished;
  _Atomic int freed_before_finish;
  tctx *ctx;
} slow;

static int slow_hook(tctx *c, void *arg) {
  (void)arg;
  slow *s = c->user;
  atomic_store(&s->started, 1);
  sleep_ms(150);
  atomic_store(&s->finished, 1);
  return 0;
}

static void *slow_emitter(void *arg) {
  slow *s = arg;
  tether_emit(s->r, "slow", NULL);
  /* This thread now makes no further call into tether and stays alive. */
  sleep_ms(600);
  return NULL;
}

TEST(threads_last_thread_out_runs_pending_destructor) {
  fixture fx;
  CHECK_EQ(fixture_open(&fx, TETHER_MAP), 0);
  slow s = {.r = fx.r};
  tctx c = {.hook = slow_hook, .user = &s};
  tether_id id = 0;
  CHECK_EQ(tether_register(fx.r, "slow", tctx_fn, &c, tctx_free, NULL, &id), 0);
  pthread_t t;
  CHECK_EQ(pthread_create(&t, NULL, slow_emitter, &s), 0);
  while (!atomic_load(&s.started)) sched_yield();
  CHECK_EQ(tether_unregister(fx.r, id), 0); /* returns at once: no waiting for readers */
  CHECK_EQ(atomic_load(&s.finished), 0);
  CHECK_EQ(atomic_load(&c.freed), 0);
  /* From here on no thread calls into tether: the destructor must still run. */
  int waited = 0;
  while (atomic_load(&c.freed) == 0 && waited < 5000) {
    sleep_ms(5);
    waited += 5;
  }
  CHECK_EQ(atomic_load(&c.freed), 1);
  CHECK_EQ(atomic_load(&s.finished), 1);
  CHECK_EQ(atomic_load(&c.freed_during_call), 0);
  pthread_join(t, NULL);
  CHECK_EQ(fixture_close(&fx), 0);
}

/* ---- guarantees 1 and 2: removal while other threads call ---- */

typedef struct hammer {
  tether_registry *r;
  const char *name;
  _Atomic int stop;
  _Atomic long emits;
} hammer;

static void *emit_loop(void *arg) {
  hammer *h = arg;
  while (!atomic_load(&h->stop)) {
    tether_emit(h->r, h->name, NULL);
    atomic_fetch_add(&h->emits, 1);
  }
  return NULL;
}

static int spin_hook(tctx *c, void *arg) {
  (void)arg;
  if (atomic_load(&c->freed) != 0) c->tag = -1; /* called after its destructor */
  for (volatile int i = 0; i < 200; i++) {
  }
  return 0;
}

TEST(threads_unregister_sync_while_emitting) {
  fixture fx;
  CHECK_EQ(fixture_open(&fx, TETHER_BUS), 0);
  hammer h = {.r = fx.r, .name = "hot"};
  pthread_t t[3];
  for (int i = 0; i < 3; i++) CHECK_EQ(pthread_create(&t[i], NULL, emit_loop, &h), 0);
  int rounds = 400 / test_scale_div();
  for (int i = 0; i < rounds; i++) {
    tctx *c = calloc(1, sizeof *c);
    CHECK(c != NULL);
    c->hook = spin_hook;
    tether_id id = 0;
    CHECK_EQ(tether_register(fx.r, "hot", tctx_fn, c, tctx_free, NULL, &id), 0);
    long before = atomic_load(&h.emits);
    while (atomic_load(&h.emits) < before + 3) sched_yield();
    CHECK_EQ(tether_unregister_sync(fx.r, id), 0);
    /* The destructor has run, no call is running, and none starts now. */
    CHECK_EQ(atomic_load(&c->freed), 1);
    CHECK_EQ(atomic_load(&c->in_call), 0);
    int calls = atomic_load(&c->calls);
    before = atomic_load(&h.emits);
    while (atomic_load(&h.emits) < before + 3) sched_yield();
    CHECK_EQ(atomic_load(&c->calls), calls);
    CHECK_EQ(atomic_load(&c->freed_during_call), 0);
    CHECK(c->tag != -1);
    free(c);
  }
  atomic_store(&h.stop, 1);
  for (int i = 0; i < 3; i++) pthread_join(t[i], NULL);
  CHECK_EQ(fixture_close(&fx), 0);
}

/* ---- guarantee 8: owners freed while others emit ---- */

TEST(threads_owner_free_while_emitting) {
  fixture fx;
  CHECK_EQ(fixture_open(&fx, TETHER_BUS), 0);
  hammer h = {.r = fx.r, .name = "owned"};
  pthread_t t[2];
  for (int i = 0; i < 2; i++) CHECK_EQ(pthread_create(&t[i], NULL, emit_loop, &h), 0);
  int rounds = 200 / test_scale_div();
  for (int i = 0; i < rounds; i++) {
    tether_owner *o = NULL;
    CHECK_EQ(tether_owner_new(&o), 0);
    tctx *c = calloc(4, sizeof *c);
    CHECK(c != NULL);
    tether_reg_options ro = {.owner = o};
    for (int k = 0; k < 4; k++) {
      c[k].hook = spin_hook;
      CHECK_EQ(tether_register(fx.r, "owned", tctx_fn, &c[k], tctx_free, &ro, NULL), 0);
    }
    sched_yield();
    tether_owner_free(o);
    CHECK_EQ(tether_barrier(fx.r), 0);
    for (int k = 0; k < 4; k++) {
      CHECK_EQ(atomic_load(&c[k].freed), 1);
      CHECK_EQ(atomic_load(&c[k].freed_during_call), 0);
      CHECK(c[k].tag != -1);
    }
    free(c);
  }
  atomic_store(&h.stop, 1);
  for (int i = 0; i < 2; i++) pthread_join(t[i], NULL);
  tether_stats st;
  CHECK_EQ(tether_stats_get(fx.r, &st), 0);
  CHECK_EQ(st.owner_removed_total, (uint64_t)rounds * 4);
  CHECK_EQ(st.live, 0);
  CHECK_EQ(fixture_close(&fx), 0);
}

/* ---- guarantee 7: expiry racing unregister, owner free and calls ---- */

typedef struct race {
  fixture *fx;
  tether_id ids[64];
  tether_owner *owner;
  _Atomic int go;
} race;

static void *race_unregister(void *arg) {
  race *ra = arg;
  while (!atomic_load(&ra->go)) sched_yield();
  for (int i = 0; i < 64; i += 2) tether_unregister(ra->fx->r, ra->ids[i]);
  return NULL;
}

static void *race_clock(void *arg) {
  race *ra = arg;
  while (!atomic_load(&ra->go)) sched_yield();
  atomic_fetch_add(&ra->fx->now, 1000);
  tether_sweep(ra->fx->r);
  return NULL;
}

static void *race_owner(void *arg) {
  race *ra = arg;
  while (!atomic_load(&ra->go)) sched_yield();
  tether_owner_free(ra->owner);
  return NULL;
}

static void *race_emit(void *arg) {
  race *ra = arg;
  while (!atomic_load(&ra->go)) sched_yield();
  for (int k = 0; k < 20; k++) tether_emit(ra->fx->r, "ttl", NULL);
  return NULL;
}

TEST(threads_expiry_races_removal_exactly_once) {
  int rounds = 60 / test_scale_div() + 1;
  for (int round = 0; round < rounds; round++) {
    fixture fx;
    CHECK_EQ(fixture_open(&fx, TETHER_BUS), 0);
    race ra = {.fx = &fx};
    CHECK_EQ(tether_owner_new(&ra.owner), 0);
    tctx c[64];
    memset(c, 0, sizeof c);
    for (int i = 0; i < 64; i++) {
      c[i].hook = spin_hook;
      tether_reg_options ro = {.ttl_ms = 500, .owner = (i % 3 == 0) ? ra.owner : NULL,
                               .flags = (i % 5 == 0) ? TETHER_ONCE : 0};
      CHECK_EQ(tether_register(fx.r, "ttl", tctx_fn, &c[i], tctx_free, &ro, &ra.ids[i]), 0);
    }
    pthread_t t[4];
    void *(*fns[4])(void *) = {race_unregister, race_clock, race_owner, race_emit};
    for (int i = 0; i < 4; i++) CHECK_EQ(pthread_create(&t[i], NULL, fns[i], &ra), 0);
    atomic_store(&ra.go, 1);
    for (int i = 0; i < 4; i++) pthread_join(t[i], NULL);
    tether_stats st;
    CHECK_EQ(tether_stats_get(fx.r, &st), 0);
    CHECK_EQ(st.live, 0); /* everything expired by now, one way or another */
    CHECK_EQ(st.unregistered_total + st.expired_total + st.owner_removed_total, 64);
    CHECK_EQ(fixture_close(&fx), 0);
    for (int i = 0; i < 64; i++) {
      CHECK_EQ(atomic_load(&c[i].freed), 1);
      CHECK_EQ(atomic_load(&c[i].freed_during_call), 0);
      CHECK(c[i].tag != -1);
      if (i % 5 == 0) CHECK(atomic_load(&c[i].calls) <= 1);
    }
  }
}

/* ---- TETHER_ONCE: exactly one caller among many ---- */

static void *once_caller(void *arg) {
  race *ra = arg;
  while (!atomic_load(&ra->go)) sched_yield();
  tether_emit(ra->fx->r, "once", NULL);
  return NULL;
}

TEST(threads_once_has_exactly_one_caller) {
  int rounds = 200 / test_scale_div();
  for (int round = 0; round < rounds; round++) {
    fixture fx;
    CHECK_EQ(fixture_open(&fx, TETHER_MAP), 0);
    race ra = {.fx = &fx};
    tctx c = {0};
    tether_reg_options ro = {.flags = TETHER_ONCE};
    CHECK_EQ(tether_register(fx.r, "once", tctx_fn, &c, tctx_free, &ro, NULL), 0);
    pthread_t t[3];
    for (int i = 0; i < 3; i++) CHECK_EQ(pthread_create(&t[i], NULL, once_caller, &ra), 0);
    atomic_store(&ra.go, 1);
    for (int i = 0; i < 3; i++) pthread_join(t[i], NULL);
    CHECK_EQ(atomic_load(&c.calls), 1);
    CHECK_EQ(fixture_close(&fx), 0);
    CHECK_EQ(atomic_load(&c.freed), 1);
  }
}

/* ---- per-thread state is reclaimed ---- */

static void *emit_once(void *arg) {
  fixture *fx = arg;
  tether_emit(fx->r, "t", NULL);
  return NULL;
}

TEST(threads_short_lived_threads_leave_nothing) {
  fixture fx;
  CHECK_EQ(fixture_open(&fx, TETHER_MAP), 0);
  tctx c = {0};
  CHECK_EQ(tether_register(fx.r, "t", tctx_fn, &c, tctx_free, NULL, NULL), 0);
  uint64_t base = atomic_load(&fx.alloc.live_blocks);
  int n = 10000 / test_scale_div();
  for (int i = 0; i < n; i += 8) {
    pthread_t t[8];
    for (int k = 0; k < 8; k++) CHECK_EQ(pthread_create(&t[k], NULL, emit_once, &fx), 0);
    for (int k = 0; k < 8; k++) pthread_join(t[k], NULL);
  }
  CHECK(atomic_load(&c.calls) >= n);
  /* Records are reused: at most one per thread alive at once, not one per thread. */
  uint64_t grown = atomic_load(&fx.alloc.live_blocks) - base;
  CHECK(grown <= 9);
  CHECK_EQ(fixture_close(&fx), 0);
}

/* ---- the randomized stress test ---- */

static void stress_in_mode(int mode) {
  stress_config cfg = stress_default_config();
  cfg.ops = 1000000 / (uint64_t)test_scale_div();
  cfg.mode = mode;
  char err[256] = {0};
  stress_result res;
  int rc = stress_run(&cfg, &res, err, sizeof err);
  if (rc != 0) tt_fail(__FILE__, __LINE__, "stress (%s): %s", mode == TETHER_MAP ? "MAP" : "BUS", err);
  CHECK_EQ(rc, 0);
  CHECK(res.ops >= cfg.ops);
  CHECK(res.registrations > 0);
  CHECK(res.destructors == res.registrations);
}

TEST(threads_stress_randomized) { stress_in_mode(TETHER_BUS); }

/* MAP names are entries in the table itself; replacing one stores over its word,
 * and a topic turns it into a slot: the same checks under REPLACE and topics that
 * come and go. */
TEST(threads_stress_randomized_map) { stress_in_mode(TETHER_MAP); }

/* ---- guarantee 9: dispatch takes no lock and allocates nothing ---- */

#include "internal.h"

typedef struct locked_emit {
  fixture *fx;
  tether_topic *topic;
  _Atomic int done;
  int n_emit, n_call, n_topic;
} locked_emit;

static void *emit_while_locked(void *arg) {
  locked_emit *le = arg;
  int result = 0;
  le->n_emit = tether_emit(le->fx->r, "x", NULL);
  le->n_call = tether_call(le->fx->r, "x", NULL, &result);
  le->n_topic = tether_topic_emit(le->topic, NULL);
  atomic_store(&le->done, 1);
  return NULL;
}

TEST(threads_dispatch_takes_no_lock_and_allocates_nothing) {
  fixture fx;
  CHECK_EQ(fixture_open(&fx, TETHER_BUS), 0);
  tctx c = {0};
  CHECK_EQ(tether_register(fx.r, "x", tctx_fn, &c, tctx_free, NULL, NULL), 0);
  locked_emit le = {.fx = &fx};
  CHECK_EQ(tether_topic_get(fx.r, "x", &le.topic), 0);
  /* The thread's first call allocates its record; after that, with every
   * allocation failing and the registry's mutex held by this thread, dispatch
   * must still complete. */
  pthread_t t;
  CHECK_EQ(pthread_create(&t, NULL, emit_while_locked, &le), 0);
  pthread_join(t, NULL); /* warm: a thread record for that (now exited) thread */
  atomic_store(&le.done, 0);
  fx.alloc.fail_after = 1;
  pthread_mutex_lock(&fx.r->mu);
  test_alloc_fail_nth(&fx.alloc, 1);
  CHECK_EQ(pthread_create(&t, NULL, emit_while_locked, &le), 0);
  for (int i = 0; i < 2000 && !atomic_load(&le.done); i++) sleep_ms(1);
  int done = atomic_load(&le.done);
  pthread_mutex_unlock(&fx.r->mu);
  pthread_join(t, NULL);
  test_alloc_fail_nth(&fx.alloc, 0);
  fx.alloc.fail_after = 0;
  CHECK_EQ(done, 1);
  CHECK_EQ(le.n_emit, 1);
  CHECK_EQ(le.n_call, 0);
  CHECK_EQ(le.n_topic, 1);
  CHECK_EQ(atomic_load(&fx.alloc.failures), 0); /* nothing even asked for memory */
  tether_topic_release(le.topic);
  CHECK_EQ(fixture_close(&fx), 0);
}

/* ---- a writer churning while a reader holds an epoch back ---- */

typedef struct gate {
  tether_registry *r;
  _Atomic int inside, open;
} gate;

static int gate_hook(tctx *c, void *arg) {
  (void)arg;
  gate *g = c->user;
  atomic_store(&g->inside, 1);
  while (!atomic_load(&g->open)) sleep_ms(1);
  return 0;
}

static void *gate_emitter(void *arg) {
  gate *g = arg;
  tether_emit(g->r, "gate", NULL);
  return NULL;
}

static size_t limbo_size(tether_registry *r) {
  pthread_mutex_lock(&r->mu);
  size_t n = r->limbo_count;
  pthread_mutex_unlock(&r->mu);
  return n;
}

/* While a reader sits in a callback nothing can be reclaimed, and a writer
 * that retried on every call past the limbo threshold would issue a membarrier
 * (an interrupt on every CPU running a reader) per call. It retries once per
 * TETHER__LIMBO_INLINE retirements; once the reader leaves, limbo drains and
 * stays bounded, and every destructor runs once. */
TEST(threads_blocked_reader_rate_limits_inline_reclaim) {
  fixture fx;
  CHECK_EQ(fixture_open(&fx, TETHER_MAP), 0);
  gate g = {.r = fx.r};
  tctx gc = {.hook = gate_hook, .user = &g}, c = {0};
  CHECK_EQ(tether_register(fx.r, "gate", tctx_fn, &gc, NULL, NULL, NULL),
           0);  // tether:ignore TC201 freed with the registry
  pthread_t t;
  CHECK_EQ(pthread_create(&t, NULL, gate_emitter, &g), 0);
  while (!atomic_load(&g.inside)) sched_yield();
  const int n = 8 * TETHER__LIMBO_INLINE;
  uint64_t before = atomic_load(&fx.r->inline_reclaims);
  for (int i = 0; i < n; i++) {
    tether_id id = 0;
    CHECK_EQ(tether_register(fx.r, "churn", tctx_fn, &c, tctx_free, NULL, &id), 0);
    CHECK_EQ(tether_unregister(fx.r, id), 0);
  }
  uint64_t tries = atomic_load(&fx.r->inline_reclaims) - before;
  /* At most one per TETHER__LIMBO_INLINE retirements (fewer when the background
   * thread's attempts come first: any attempt puts the next one that far away). */
  CHECK(tries <= (uint64_t)(n / TETHER__LIMBO_INLINE));
  CHECK_EQ(atomic_load(&c.freed), 0); /* the reader still holds them all back */
  CHECK(limbo_size(fx.r) >= (size_t)n);
  atomic_store(&g.open, 1);
  pthread_join(t, NULL);
  /* No reader left: within the next inline attempt (at most TETHER__LIMBO_INLINE
   * retirements away) limbo drains, and it stays bounded under more churn. */
  for (int i = 0; i < n; i++) {
    tether_id id = 0;
    CHECK_EQ(tether_register(fx.r, "churn", tctx_fn, &c, tctx_free, NULL, &id), 0);
    CHECK_EQ(tether_unregister(fx.r, id), 0);
    if (i >= 2 * TETHER__LIMBO_INLINE && i % 256 == 0)
      CHECK(limbo_size(fx.r) <= 3 * TETHER__LIMBO_INLINE);
  }
  CHECK_EQ(tether_barrier(fx.r), 0);
  CHECK_EQ(atomic_load(&c.freed), 2 * n);
  CHECK_EQ(atomic_load(&gc.freed), 0);
  CHECK_EQ(fixture_close(&fx), 0);
}
