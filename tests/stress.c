/* The randomized concurrent stress test. Worker threads pick operations at random
 * (register with random owner/TTL/ONCE (MAP: and REPLACE), unregister,
 * unregister_sync, unregister_name, emit, call, topic emit on held topics, topic
 * get/emit/release, acquire/ref_call/release, owner free, clock advance, sweep,
 * touch, count) on a BUS or MAP registry of a few dozen names, and some handlers
 * remove registrations re-entrantly. Half the owners are freed with
 * tether_owner_free_sync, which must return only once every registration bound to
 * that owner is destroyed; half the registrations have an on_remove callback,
 * which must run exactly once, before the destructor. Topics are held on even names only: in MAP
 * mode the odd names are entries in the table, turned into slots and back as topics come and go.
 * Every context is checked with counters: its destructor ran exactly once (by the end), never while
 * a call of it was running, and no call started after its destructor. Contexts are never freed
 * during the run, so a late call reads valid memory and is reported, not crashed. */
#include "stress.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "alloc.h"
#include "tether/tether.h"

#define NAMES 24
#define IDS 512
#define OWNERS 8

/* One owner as the stress test knows it: how many of its registrations are not
 * destroyed yet (kept for the whole run). */
typedef struct owner_gen {
  tether_owner *o;
  _Atomic int alive;
  struct owner_gen *next;
} owner_gen;

typedef struct sctx {
  _Atomic int freed;
  _Atomic int in_call;
  /* 1: destroyed during a call, 2: called after destroyed, 3: destroyed twice,
   * 4: owner_free_sync returned before its destructor, 5: on_remove twice,
   * 6: destroyed without (or before) on_remove */
  _Atomic int bad;
  _Atomic uint64_t calls;
  _Atomic int told;
  int wants_told;
  owner_gen *gen;
  int registered;
} sctx;

typedef struct shared {
  tether_registry *r;
  test_alloc alloc;
  _Atomic uint64_t now;
  _Atomic(tether_id) ids[IDS];
  owner_gen *owners[OWNERS];
  owner_gen *all_gens; /* every owner_gen, freed at the end */
  pthread_mutex_t gens_mu;
  _Atomic int sync_violations;
  pthread_rwlock_t owner_lock[OWNERS]; /* registration (read) vs owner replacement (write) */
  sctx *ctxs;
  uint64_t nctx;
  _Atomic uint64_t next_ctx;
  _Atomic uint64_t ops_done;
  _Atomic int stop;
  const stress_config *cfg;
  _Atomic uint64_t by_op[16];
  uint64_t deadline_ms;
} shared;

static shared *g_sh; /* for the handler */

static uint64_t rng(uint64_t *s) {
  *s ^= *s << 13;
  *s ^= *s >> 7;
  *s ^= *s << 17;
  return *s;
}

static uint64_t clock_of(void *ud) {
  return atomic_load((_Atomic uint64_t *)ud);
}

static uint64_t wall_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void sctx_free(void *p) {
  sctx *c = p;
  if (atomic_load(&c->in_call) != 0) atomic_store(&c->bad, 1);
  if (c->wants_told && atomic_load(&c->told) != 1) atomic_store(&c->bad, 6);
  if (c->gen != NULL) atomic_fetch_sub(&c->gen->alive, 1);
  if (atomic_fetch_add(&c->freed, 1) != 0) atomic_store(&c->bad, 3);
}

static void sctx_told(void *p, tether_removal why) {
  sctx *c = p;
  (void)why;
  if (atomic_fetch_add(&c->told, 1) != 0) atomic_store(&c->bad, 5);
}

static owner_gen *gen_new(shared *sh) {
  owner_gen *g = calloc(1, sizeof *g);
  if (g == NULL) return NULL;
  if (tether_owner_new(&g->o) != 0) {
    free(g);
    return NULL;
  }
  pthread_mutex_lock(&sh->gens_mu);
  g->next = sh->all_gens;
  sh->all_gens = g;
  pthread_mutex_unlock(&sh->gens_mu);
  return g;
}

static int handler(void *ctx, void *arg) {
  sctx *c = ctx;
  uint64_t *seed = arg;
  atomic_fetch_add(&c->in_call, 1);
  if (atomic_load(&c->freed) != 0) atomic_store(&c->bad, 2);
  atomic_fetch_add(&c->calls, 1);
  /* Now and then remove something from inside the call (maybe ourselves). */
  if (seed != NULL && rng(seed) % 64 == 0) {
    tether_id id = atomic_exchange(&g_sh->ids[rng(seed) % IDS], 0);
    if (id != 0) tether_unregister(g_sh->r, id);
  }
  if (atomic_load(&c->freed) != 0) atomic_store(&c->bad, 2);
  atomic_fetch_sub(&c->in_call, 1);
  return seed != NULL && rng(seed) % 50 == 0 ? 1 /* TETHER_STOP */ : 0;
}

static void name_of(uint64_t k, char *buf, size_t n) {
  snprintf(buf, n, "ev-%u", (unsigned)(k % NAMES));
}

static void op_register(shared *sh, uint64_t *seed) {
  uint64_t k = atomic_fetch_add(&sh->next_ctx, 1);
  if (k >= sh->nctx) return;
  sctx *c = &sh->ctxs[k];
  char name[32];
  name_of(rng(seed), name, sizeof name);
  tether_reg_options ro = {0};
  uint64_t x = rng(seed);
  int oi = -1;
  if (x % 4 == 0) oi = (int)((x >> 8) % OWNERS);
  if (x % 5 == 0) ro.ttl_ms = 1 + (x >> 16) % 50;
  if (x % 11 == 0) ro.flags |= TETHER_ONCE;
  if (sh->cfg->mode == TETHER_MAP && (x >> 24) % 2 == 0) ro.flags |= TETHER_REPLACE;
  if ((x >> 28) % 2 == 0) {
    ro.on_remove = sctx_told;
    c->wants_told = 1;
  }
  ro.ctx_size = 32;
  if (oi >= 0) {
    pthread_rwlock_rdlock(&sh->owner_lock[oi]);
    c->gen = sh->owners[oi];
    ro.owner = c->gen->o;
    atomic_fetch_add(&c->gen->alive, 1); /* before: the destructor may run at once */
  }
  tether_id id = 0;
  int rc = tether_register(sh->r, name, handler, c, sctx_free, &ro, &id);
  if (rc != 0 && c->gen != NULL) {
    atomic_fetch_sub(&c->gen->alive, 1);
    c->gen = NULL;
  }
  if (oi >= 0) pthread_rwlock_unlock(&sh->owner_lock[oi]);
  if (rc == 0) {
    c->registered = 1;
    tether_id old = atomic_exchange(&sh->ids[rng(seed) % IDS], id);
    (void)old; /* a forgotten id is cleaned up by owner free, expiry or registry free */
  }
}

static void op_owner_free(shared *sh, uint64_t *seed) {
  uint64_t x = rng(seed);
  int oi = (int)(x % OWNERS);
  owner_gen *fresh = gen_new(sh);
  if (fresh == NULL) return;
  pthread_rwlock_wrlock(&sh->owner_lock[oi]);
  owner_gen *old = sh->owners[oi];
  sh->owners[oi] = fresh;
  pthread_rwlock_unlock(&sh->owner_lock[oi]);
  if ((x >> 8) % 2 == 0) {
    tether_owner_free(old->o);
    return;
  }
  /* No registration with OLD can start now: once free_sync returns, all of its
   * registrations are destroyed. */
  if (tether_owner_free_sync(old->o) != 0 || atomic_load(&old->alive) != 0)
    atomic_fetch_add(&sh->sync_violations, 1);
}

static void op_ref(shared *sh, uint64_t *seed) {
  tether_id id = atomic_load(&sh->ids[rng(seed) % IDS]);
  tether_ref *ref = NULL;
  if (id == 0 || tether_acquire(sh->r, id, &ref) != 0) return;
  sctx *c = tether_ref_ctx(ref);
  if (atomic_load(&c->freed) != 0) atomic_store(&c->bad, 2);
  int result = 0;
  tether_ref_call(ref, NULL, &result);
  if (rng(seed) % 4 == 0) tether_unregister(sh->r, id); /* removed while pinned */
  if (atomic_load(&c->freed) != 0) atomic_store(&c->bad, 2);
  tether_ref_release(ref);
}

static void one_op(shared *sh, uint64_t *seed, tether_topic **topics) {
  uint64_t x = rng(seed);
  unsigned op = (unsigned)(x % 100);
  char name[32];
  name_of(x >> 8, name, sizeof name);
  unsigned kind;
  if (op < 22) {
    kind = 0;
    op_register(sh, seed);
  } else if (op < 34) {
    kind = 1;
    tether_id id = atomic_exchange(&sh->ids[(x >> 8) % IDS], 0);
    if (id) tether_unregister(sh->r, id);
  } else if (op < 36) {
    kind = 2;
    tether_id id = atomic_exchange(&sh->ids[(x >> 8) % IDS], 0);
    if (id) tether_unregister_sync(sh->r, id);
  } else if (op < 37) {
    kind = 3;
    tether_unregister_name(sh->r, name);
  } else if (op < 62) {
    kind = 4;
    tether_emit(sh->r, name, seed);
  } else if (op < 70) {
    kind = 5;
    int result;
    tether_call(sh->r, name, seed, &result);
  } else if (op < 80) {
    kind = 6;
    unsigned k = (unsigned)((x >> 8) % NAMES);
    if (k % 2 == 0) {
      tether_topic_emit(topics[k], seed); /* held for the whole run */
    } else {
      tether_topic *t = NULL; /* taken and dropped: MAP names change shape */
      if (tether_topic_get(sh->r, name, &t) == 0) {
        tether_topic_emit(t, seed);
        tether_topic_release(t);
      }
    }
  } else if (op < 88) {
    kind = 7;
    op_ref(sh, seed);
  } else if (op < 90) {
    kind = 8;
    op_owner_free(sh, seed);
  } else if (op < 95) {
    kind = 9;
    atomic_fetch_add(&sh->now, 1 + (x >> 8) % 5);
  } else if (op < 97) {
    kind = 10;
    tether_sweep(sh->r);
  } else if (op < 98) {
    kind = 11;
    tether_id id = atomic_load(&sh->ids[(x >> 8) % IDS]);
    if (id) tether_touch(sh->r, id, (x >> 20) % 64 == 0 ? UINT64_MAX : (x >> 20) % 40);
  } else if (op < 99) {
    kind = 13;
    if (tether_count(sh->r, name) < 0) atomic_fetch_add(&sh->sync_violations, 1);
  } else {
    kind = 12;
    tether_barrier(sh->r);
  }
  atomic_fetch_add_explicit(&sh->by_op[kind], 1, memory_order_relaxed);
}

static void *worker(void *arg) {
  shared *sh = g_sh;
  uint64_t seed = sh->cfg->seed * 0x9e3779b97f4a7c15ull + (uint64_t)(uintptr_t)arg * 7919u + 1;
  tether_topic *topics[NAMES] = {0};
  int have_topics = 1;
  for (unsigned i = 0; i < NAMES; i += 2) {
    char name[32];
    name_of(i, name, sizeof name);
    if (tether_topic_get(sh->r, name, &topics[i]) != 0) have_topics = 0;
  }
  uint64_t per = sh->cfg->ops / sh->cfg->threads + 1;
  for (uint64_t i = 0; have_topics; i++) {
    if (i >= per) {
      if (sh->deadline_ms == 0) break;
      if ((i & 1023) == 0 && wall_ms() >= sh->deadline_ms) break;
    }
    one_op(sh, &seed, topics);
    atomic_fetch_add_explicit(&sh->ops_done, 1, memory_order_relaxed);
  }
  for (unsigned i = 0; i < NAMES; i++) tether_topic_release(topics[i]);
  return NULL;
}

stress_config stress_default_config(void) {
  stress_config c = {
      .threads = 4, .ops = 1000000, .seconds = 0, .seed = 1, .verbose = 0, .mode = TETHER_BUS};
  return c;
}

static int verify(shared *sh, stress_result *res, char *err, size_t errlen) {
  uint64_t used = atomic_load(&sh->next_ctx);
  if (used > sh->nctx) used = sh->nctx;
  for (uint64_t i = 0; i < used; i++) {
    sctx *c = &sh->ctxs[i];
    res->calls += atomic_load(&c->calls);
    if (!c->registered) continue;
    res->registrations++;
    int freed = atomic_load(&c->freed), bad = atomic_load(&c->bad);
    if (freed == 1) res->destructors++;
    if (bad != 0 || freed != 1) {
      snprintf(err, errlen, "context %llu: destructor ran %d times, violation %d (%s)",
               (unsigned long long)i, freed, bad,
               bad == 1   ? "destroyed during a call"
               : bad == 2 ? "called after destruction"
               : bad == 3 ? "destroyed twice"
               : bad == 5 ? "on_remove twice"
               : bad == 6 ? "destroyed without on_remove first"
                          : "never destroyed");
      return -1;
    }
  }
  return 0;
}

int stress_run(const stress_config *cfg, stress_result *res, char *err, size_t errlen) {
  shared *sh = calloc(1, sizeof *sh);
  if (sh == NULL) return snprintf(err, errlen, "out of memory"), -1;
  memset(res, 0, sizeof *res);
  sh->cfg = cfg;
  g_sh = sh;
  test_alloc_init(&sh->alloc);
  atomic_init(&sh->now, 1000);
  sh->nctx = cfg->ops / 3 + 1000;
  if (cfg->seconds > 0) sh->nctx = 4000000;
  sh->ctxs = calloc(sh->nctx, sizeof *sh->ctxs);
  sh->deadline_ms = cfg->seconds ? wall_ms() + cfg->seconds * 1000u : 0;
  tether_options o = {
      .mode = cfg->mode, .allocator = &sh->alloc.iface, .clock_ms = clock_of, .clock_ud = &sh->now};
  pthread_mutex_init(&sh->gens_mu, NULL);
  int rc = sh->ctxs ? tether_registry_new(&sh->r, &o) : TETHER_ENOMEM;
  for (int i = 0; rc == 0 && i < OWNERS; i++) {
    pthread_rwlock_init(&sh->owner_lock[i], NULL);
    sh->owners[i] = gen_new(sh);
    if (sh->owners[i] == NULL) rc = TETHER_ENOMEM;
  }
  if (rc != 0) {
    snprintf(err, errlen, "setup: %s", tether_strerror(rc));
    free(sh->ctxs);
    free(sh);
    return -1;
  }
  pthread_t t[64];
  unsigned n = cfg->threads > 64 ? 64 : cfg->threads;
  for (unsigned i = 0; i < n; i++) pthread_create(&t[i], NULL, worker, (void *)(uintptr_t)i);
  for (unsigned i = 0; i < n; i++) pthread_join(t[i], NULL);
  for (int i = 0; i < OWNERS; i++) {
    tether_owner_free(sh->owners[i]->o);
    pthread_rwlock_destroy(&sh->owner_lock[i]);
  }
  tether_registry_free(sh->r);
  res->ops = atomic_load(&sh->ops_done);
  for (int i = 0; i < 16; i++) res->by_op[i] = atomic_load(&sh->by_op[i]);
  rc = verify(sh, res, err, errlen);
  if (rc == 0 && atomic_load(&sh->sync_violations) != 0) {
    snprintf(err, errlen,
             "%d owner_free_sync calls returned before their destructors (or count failed)",
             atomic_load(&sh->sync_violations));
    rc = -1;
  }
  for (owner_gen *g = sh->all_gens, *next; g != NULL; g = next) {
    next = g->next;
    free(g);
  }
  pthread_mutex_destroy(&sh->gens_mu);
  if (rc == 0 && atomic_load(&sh->alloc.live_blocks) != 0) {
    snprintf(err, errlen, "%llu blocks still allocated after registry free",
             (unsigned long long)atomic_load(&sh->alloc.live_blocks));
    rc = -1;
  }
  free(sh->ctxs);
  free(sh);
  g_sh = NULL;
  return rc;
}
