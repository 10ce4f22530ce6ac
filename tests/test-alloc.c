/* Allocation failure: every public function that allocates is run with its 1st,
 * 2nd, ... allocation failing in turn. Each failure must return TETHER_ENOMEM,
 * leave the registry exactly as it was (stats and allocated blocks) and usable,
 * and leak nothing; the loop ends when the call succeeds with no failure left. */
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>

#include "common.h"
#include "wrap.h"

typedef struct scenario {
  const char *what;
  int mode;
  void (*setup)(fixture *fx, void *state);
  int (*op)(fixture *fx, void *state); /* the call under test */
  void (*undo)(fixture *fx, void *state); /* after a success: release what op took */
} scenario;

typedef struct state {
  tctx c;
  tether_id id;
  tether_topic *topic;
  tether_ref *ref;
  tether_owner *owner;
  int visited;
} state;

static int state_equal(const tether_stats *a, const tether_stats *b) {
  return memcmp(a, b, sizeof *a) == 0;
}

/* Runs SC with the Nth allocation failing for N = 1, 2, ..., on a registry with
 * OPTS (NULL: the defaults) in SC's mode. */
static int run_scenario(const scenario *sc, const tether_options *opts, char *why, size_t n) {
  for (uint64_t nth = 1; nth < 200; nth++) {
    fixture fx;
    state st;
    memset(&st, 0, sizeof st);
    tether_options o = opts ? *opts : (tether_options){0};
    o.mode = sc->mode;
    if (fixture_open_with(&fx, &o) != 0) return snprintf(why, n, "%s: open failed", sc->what), -1;
    if (sc->setup) sc->setup(&fx, &st);
    /* Nothing retired by the setup (tables a registration grew out of) is left
     * for the background thread to free while the blocks are compared. */
    tether_barrier(fx.r);
    tether_stats before, after;
    tether_stats_get(fx.r, &before);
    uint64_t blocks = atomic_load(&fx.alloc.live_blocks);
    uint64_t failures = atomic_load(&fx.alloc.failures);
    test_alloc_fail_nth(&fx.alloc, nth);
    int rc = sc->op(&fx, &st);
    test_alloc_fail_nth(&fx.alloc, 0);
    int failed_one = atomic_load(&fx.alloc.failures) != failures;
    if (failed_one && rc != TETHER_ENOMEM) {
      snprintf(why, n, "%s: allocation %llu failed but the call returned %d", sc->what,
               (unsigned long long)nth, rc);
      fixture_close(&fx);
      return -1;
    }
    if (rc == TETHER_ENOMEM) {
      tether_stats_get(fx.r, &after);
      if (!state_equal(&before, &after) || atomic_load(&fx.alloc.live_blocks) != blocks) {
        snprintf(why, n, "%s: allocation %llu failed and the registry changed", sc->what,
                 (unsigned long long)nth);
        fixture_close(&fx);
        return -1;
      }
      /* Still usable: the same call now succeeds. */
      rc = sc->op(&fx, &st);
      if (rc < 0) {
        snprintf(why, n, "%s: retry after ENOMEM returned %d", sc->what, rc);
        fixture_close(&fx);
        return -1;
      }
    }
    if (sc->undo) sc->undo(&fx, &st);
    long left = fixture_close(&fx);
    if (st.owner) tether_owner_free(st.owner);
    if (left != 0) {
      snprintf(why, n, "%s: %ld blocks leaked (allocation %llu failing)", sc->what, left,
               (unsigned long long)nth);
      return -1;
    }
    if (!failed_one) return (int)nth; /* the call needed fewer than nth allocations */
  }
  return snprintf(why, n, "%s: never succeeded", sc->what), -1;
}

static void setup_one(fixture *fx, void *s) {
  state *st = s;
  tether_register(fx->r, "existing", tctx_fn, &st->c, NULL, NULL, &st->id);
}

/* Registers "n-0" ... "n-(N-1)". */
static void register_n(fixture *fx, state *st, int n) {
  for (int i = 0; i < n; i++) {
    char name[16];
    snprintf(name, sizeof name, "n-%d", i);
    tether_register(fx->r, name, tctx_fn, &st->c, NULL, NULL, NULL);
  }
}

static void setup_twelve(fixture *fx, void *s) { register_n(fx, s, 12); }

/* "existing" plus eleven more: the next registration grows the id index, and
 * one from a new site grows the site table. */
static void setup_twelve_with_existing(fixture *fx, void *s) {
  state *st = s;
  tether_register(fx->r, "existing", tctx_fn, &st->c, NULL, NULL, &st->id);
  for (int i = 0; i < 11; i++) {
    char name[16];
    snprintf(name, sizeof name, "n-%d", i);
    tether_register(fx->r, name, tctx_fn, &st->c, NULL, NULL, NULL);
  }
}

static int op_register_new(fixture *fx, void *s) {
  state *st = s;
  return tether_register(fx->r, "fresh", tctx_fn, &st->c, tctx_free, NULL, &st->id);
}

static int op_register_existing(fixture *fx, void *s) {
  state *st = s;
  return tether_register(fx->r, "existing", tctx_fn, &st->c, tctx_free, NULL, NULL);
}

static int op_register_copy(fixture *fx, void *s) {
  (void)s;
  static char data[100] = "copied";
  tether_reg_options ro = {.flags = TETHER_COPY_CTX, .ctx_size = sizeof data};
  return tether_register(fx->r, "copy", tctx_fn, data, NULL, &ro, NULL);
}

static int op_register_owned(fixture *fx, void *s) {
  state *st = s;
  if (st->owner == NULL && tether_owner_new(&st->owner) != 0) return TETHER_ENOMEM;
  tether_reg_options ro = {.owner = st->owner, .ttl_ms = 100};
  return tether_register(fx->r, "owned", tctx_fn, &st->c, tctx_free, &ro, NULL);
}

static int op_replace(fixture *fx, void *s) {
  state *st = s;
  tether_reg_options ro = {.flags = TETHER_REPLACE};
  return tether_register(fx->r, "existing", tctx_fn, &st->c, NULL, &ro, NULL);
}

static int op_topic(fixture *fx, void *s) {
  state *st = s;
  return tether_topic_get(fx->r, "topic-name", &st->topic);
}

static void undo_topic(fixture *fx, void *s) {
  (void)fx;
  state *st = s;
  tether_topic_release(st->topic);
}

static int op_topic_existing(fixture *fx, void *s) {
  state *st = s;
  return tether_topic_get(fx->r, "existing", &st->topic);
}

static int op_acquire(fixture *fx, void *s) {
  state *st = s;
  return tether_acquire(fx->r, st->id, &st->ref);
}

static void undo_acquire(fixture *fx, void *s) {
  (void)fx;
  state *st = s;
  tether_ref_release(st->ref);
}

static int count_visit(const tether_info *in, void *arg) {
  (void)in;
  ((state *)arg)->visited++;
  return 0;
}

static int op_walk(fixture *fx, void *s) { return tether_walk(fx->r, count_visit, s); }

static int op_leak_report(fixture *fx, void *s) {
  (void)s;
  FILE *devnull = fopen("/dev/null", "w");
  int rc = tether_leak_report(fx->r, devnull);
  fclose(devnull);
  return rc;
}

static int op_emit_first_time(fixture *fx, void *s) {
  (void)s;
  /* This thread has never entered this registry: its record is allocated now. */
  return tether_emit(fx->r, "existing", NULL);
}

static const scenario k_scenarios[] = {
  {"register (new name, empty registry)", TETHER_MAP, NULL, op_register_new, NULL},
  {"register (new name, table grows)", TETHER_MAP, setup_twelve, op_register_new, NULL},
  {"register (BUS, second handler)", TETHER_BUS, setup_one, op_register_existing, NULL},
  {"register (BUS, second handler, indexes grow)", TETHER_BUS, setup_twelve_with_existing,
   op_register_existing, NULL},
  {"register (COPY_CTX)", TETHER_MAP, setup_one, op_register_copy, NULL},
  {"register (owner and TTL)", TETHER_MAP, setup_one, op_register_owned, NULL},
  {"register (MAP replace)", TETHER_MAP, setup_one, op_replace, NULL},
  {"topic_get (new name)", TETHER_BUS, setup_one, op_topic, undo_topic},
  {"topic_get (existing name)", TETHER_BUS, setup_one, op_topic_existing, undo_topic},
  {"topic_get (MAP, new name)", TETHER_MAP, setup_one, op_topic, undo_topic},
  {"topic_get (MAP, a name that is an entry becomes a slot)", TETHER_MAP, setup_one, op_topic_existing,
   undo_topic},
  {"acquire", TETHER_MAP, setup_one, op_acquire, undo_acquire},
  {"walk", TETHER_MAP, setup_twelve, op_walk, NULL},
  {"leak_report", TETHER_MAP, setup_twelve, op_leak_report, NULL},
  {"emit (first call on a thread)", TETHER_MAP, setup_one, op_emit_first_time, NULL},
};

TEST(alloc_every_allocation_can_fail) {
  char why[256];
  for (size_t i = 0; i < sizeof k_scenarios / sizeof k_scenarios[0]; i++) {
    int n = run_scenario(&k_scenarios[i], NULL, why, sizeof why);
    if (n < 0) {
      tt_fail(__FILE__, __LINE__, "%s", why);
      return;
    }
    CHECK(n > 1); /* at least one allocation was failed and survived */
  }
}

TEST(alloc_registry_new_fails_cleanly) {
  for (uint64_t nth = 1; nth < 8; nth++) {
    test_alloc al;
    test_alloc_init(&al);
    tether_options o = {.allocator = &al.iface};
    tether_registry *r = (tether_registry *)&al;
    test_alloc_fail_nth(&al, nth);
    int rc = tether_registry_new(&r, &o);
    test_alloc_fail_nth(&al, 0);
    if (rc == 0) {
      CHECK(nth > 2); /* registry and table were both failed before */
      CHECK_EQ(tether_registry_free(r), 0);
      CHECK_EQ(atomic_load(&al.live_blocks), 0);
      return;
    }
    CHECK_EQ(rc, TETHER_ENOMEM);
    CHECK(r == NULL);
    CHECK_EQ(atomic_load(&al.live_blocks), 0);
  }
  tt_fail(__FILE__, __LINE__, "registry_new never succeeded");
}

/* ---- the exports, and registrations that track calls or keep their stack ---- */

/* Twelve registrations from three sites, some called. */
static void setup_sites(fixture *fx, void *s) {
  state *st = s;
  for (int i = 0; i < 12; i++) {
    char name[16];
    snprintf(name, sizeof name, "n-%d", i);
    tether_site site = {i % 3 ? "a.c" : "b.c", i % 3, "setup"};
    tether_reg_options ro = {.ctx_size = (size_t)(10 * i)};
    tether_register_at(fx->r, site, name, tctx_fn, &st->c, NULL, &ro, NULL);
  }
  for (int i = 0; i < 12; i += 2) {
    char name[16];
    snprintf(name, sizeof name, "n-%d", i);
    tether_emit(fx->r, name, NULL);
  }
}

/* This thread's record exists, with no counts yet: the next registration
 * reserves its first chunk in it. */
static void setup_record(fixture *fx, void *s) {
  (void)s;
  tether_emit(fx->r, "nothing", NULL);
  tether_barrier(fx->r);
}

/* A first chunk full (256 indexes), and this thread's record holding it: the
 * next registration needs a second chunk and a bigger directory. */
static void setup_full_chunk(fixture *fx, void *s) {
  register_n(fx, s, 256);
  tether_emit(fx->r, "n-0", NULL);
}

/* The profile or the metrics into memory; out of memory, nothing may have been
 * written (reported as TETHER_EIO, which the runner names). */
static int write_export(fixture *fx, int metrics) {
  char *text = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&text, &len);
  if (f == NULL) return TETHER_EINVAL;
  int rc = metrics ? tether_metrics_write(fx->r, f, "registry=\"a\"") : tether_profile_write(fx->r, f, 0);
  fclose(f);
  free(text);
  if (rc == TETHER_ENOMEM && len != 0) return TETHER_EIO;
  return rc;
}

static int op_profile(fixture *fx, void *s) {
  (void)s;
  return write_export(fx, 0);
}

static int op_metrics(fixture *fx, void *s) {
  (void)s;
  return write_export(fx, 1);
}

static const tether_options k_tracked = {.track_calls = 1};
static const tether_options k_stacks = {.capture_stack = 8};
static const tether_options k_top_one = {.metrics_top_sites = 1};

typedef struct export_scenario {
  scenario sc;
  const tether_options *opts;
} export_scenario;

static const export_scenario k_export_scenarios[] = {
  {{"profile_write", TETHER_MAP, setup_sites, op_profile, NULL}, NULL},
  {{"profile_write (tracking calls)", TETHER_MAP, setup_sites, op_profile, NULL}, &k_tracked},
  {{"profile_write (registering stacks)", TETHER_BUS, setup_sites, op_profile, NULL}, &k_stacks},
  {{"profile_write (a table that grows)", TETHER_MAP, setup_full_chunk, op_profile, NULL}, &k_tracked},
  {{"metrics_write", TETHER_MAP, setup_sites, op_metrics, NULL}, NULL},
  {{"metrics_write (top site and other)", TETHER_MAP, setup_sites, op_metrics, NULL}, &k_top_one},
  {{"leak_report (tracking calls)", TETHER_MAP, setup_sites, op_leak_report, NULL}, &k_tracked},
  {{"register (tracking calls, first chunk)", TETHER_MAP, setup_record, op_register_new, NULL}, &k_tracked},
  {{"register (tracking calls, second chunk)", TETHER_MAP, setup_full_chunk, op_register_new, NULL}, &k_tracked},
  {{"register (tracking calls, BUS)", TETHER_BUS, setup_record, op_register_existing, NULL}, &k_tracked},
  {{"register (registering stack)", TETHER_MAP, setup_one, op_register_new, NULL}, &k_stacks},
  {{"register (registering stack, owner and TTL)", TETHER_MAP, setup_one, op_register_owned, NULL}, &k_stacks},
  {{"emit (first call on a thread, tracking calls)", TETHER_MAP, setup_one, op_emit_first_time, NULL}, &k_tracked},
};

TEST(alloc_exports_and_tracking_can_fail) {
  char why[256];
  for (size_t i = 0; i < sizeof k_export_scenarios / sizeof k_export_scenarios[0]; i++) {
    const export_scenario *x = &k_export_scenarios[i];
    int n = run_scenario(&x->sc, x->opts, why, sizeof why);
    if (n < 0) {
      tt_fail(__FILE__, __LINE__, "%s", why);
      return;
    }
    if (n <= 1) {
      tt_fail(__FILE__, __LINE__, "%s: allocated nothing", x->sc.what);
      return;
    }
  }
}

/* Call tracking: a registration whose index no record's count array reaches
 * allocates a bigger array for each record. With two records (two threads have
 * called into the registry) and one of those arrays failing, the list of them
 * was freed with the size of the part filled so far (found by fuzz-api, two
 * threads, call tracking). */
static void *enter_and_leave(void *arg) {
  tether_count(arg, "x"); /* this thread's record stays in the registry's list */
  return NULL;
}

static int tracked_growth_fails_cleanly(void *arg) {
  (void)arg;
  for (uint64_t nth = 1; nth < 16; nth++) {
    test_alloc al;
    test_alloc_init(&al);
    tether_options o = {.allocator = &al.iface, .track_calls = 1};
    tether_registry *r = NULL;
    EXPECT(tether_registry_new(&r, &o) == 0);
    EXPECT(tether_count(r, "x") == 0);
    pthread_t t;
    EXPECT(pthread_create(&t, NULL, enter_and_leave, r) == 0);
    pthread_join(t, NULL);
    uint64_t failures = atomic_load(&al.failures);
    test_alloc_fail_nth(&al, nth);
    int rc = tether_register(r, "tracked", tctx_fn, NULL, NULL, NULL, NULL);
    test_alloc_fail_nth(&al, 0);
    int failed = atomic_load(&al.failures) != failures;
    EXPECT(failed ? rc == TETHER_ENOMEM : rc == 0);
    tether_stats st;
    EXPECT(tether_stats_get(r, &st) == 0 && st.live == (failed ? 0u : 1u));
    EXPECT(tether_registry_free(r) == (failed ? 0 : 1));
    EXPECT(atomic_load(&al.live_blocks) == 0);
    if (!failed) return 0;
  }
  return 1;
}

TEST(alloc_call_tracking_growth_can_fail) {
  int st = run_in_child(tracked_growth_fails_cleanly, NULL, 60);
  CHECK(WIFEXITED(st));
  CHECK_EQ(WEXITSTATUS(st), 0);
}
