/* What the registry exports: call tracking (counts exact on one thread and
 * summed over threads, "last called" to the background thread's tick, the leak
 * report's never-called section), tether_metrics_write (the exact exposition
 * text, escaping, label checks, the top sites and "other"), failed writes
 * (TETHER_EIO), streams that call back into the registry, registering stacks'
 * bounds, and the exports the environment turns on (TETHER_PROFILE's files,
 * TETHER_DEBUG=trace's lines), which run in a child process since they are read
 * at tether_registry_new. The profile's contents are decoded by the CLI's
 * decoder in tests/cli and by go tool pprof in the export tier. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common.h"
#include "wrap.h"

/* ---- looking a registration up by name ---- */

typedef struct lookup {
  const char *name;
  tether_info in;
  int found;
} lookup;

static int lookup_visit(const tether_info *in, void *arg) {
  lookup *l = arg;
  if (strcmp(in->name, l->name) == 0) {
    l->in = *in;
    l->in.name = NULL; /* valid during the visit only */
    l->found++;
  }
  return 0;
}

/* The walk's info of the one registration named NAME; 0 when there is not exactly one. */
static int info_named(tether_registry *r, const char *name, tether_info *out) {
  lookup l = {name, {0}, 0};
  if (tether_walk(r, lookup_visit, &l) < 0 || l.found != 1) return 0;
  *out = l.in;
  return 1;
}

static uint64_t calls_of(tether_registry *r, const char *name) {
  tether_info in;
  return info_named(r, name, &in) ? in.calls : UINT64_MAX;
}

/* ---- call tracking ---- */

TEST(export_calls_exact_on_one_thread) {
  static const char *const longname = "a-name-longer-than-sixteen-bytes";
  for (int mode = TETHER_MAP; mode <= TETHER_BUS; mode++) {
    fixture fx;
    tether_options o = {.mode = mode, .track_calls = 1};
    CHECK_EQ(fixture_open_with(&fx, &o), 0);
    tctx c = {0};
    tether_id idl = 0;
    tether_reg_options ttl = {.ttl_ms = 100000}, once = {.flags = TETHER_ONCE};
    CHECK_EQ(tether_register(fx.r, "short", tctx_fn, &c, NULL, NULL, NULL), 0);
    CHECK_EQ(tether_register(fx.r, longname, tctx_fn, &c, NULL, NULL, &idl), 0);
    CHECK_EQ(tether_register(fx.r, "with-ttl", tctx_fn, &c, NULL, &ttl, NULL), 0);
    CHECK_EQ(tether_register(fx.r, "once", tctx_fn, &c, NULL, &once, NULL), 0);
    CHECK_EQ(tether_register(fx.r, "never", tctx_fn, &c, NULL, NULL, NULL), 0);
    /* Every way in: emit (short and long names), call, a topic, a ref. */
    for (int i = 0; i < 7; i++) CHECK_EQ(tether_emit(fx.r, "short", NULL), 1);
    for (int i = 0; i < 5; i++) CHECK_EQ(tether_call(fx.r, longname, NULL, NULL), 0);
    for (int i = 0; i < 3; i++) CHECK_EQ(tether_emit(fx.r, "with-ttl", NULL), 1);
    tether_topic *t;
    CHECK_EQ(tether_topic_get(fx.r, "short", &t), 0);
    for (int i = 0; i < 4; i++) CHECK_EQ(tether_topic_emit(t, NULL), 1);
    tether_topic_release(t);
    tether_ref *ref;
    CHECK_EQ(tether_acquire(fx.r, idl, &ref), 0);
    for (int i = 0; i < 2; i++) CHECK_EQ(tether_ref_call(ref, NULL, NULL), 0);
    tether_ref_release(ref);
    CHECK_EQ(tether_emit(fx.r, "once", NULL), 1);
    CHECK_EQ(tether_emit(fx.r, "once", NULL), 0);
    CHECK_EQ(tether_emit(fx.r, "no-such-name", NULL), 0);

    CHECK_EQ(calls_of(fx.r, "short"), 11);
    CHECK_EQ(calls_of(fx.r, longname), 7);
    CHECK_EQ(calls_of(fx.r, "with-ttl"), 3);
    tether_info in;
    CHECK(info_named(fx.r, "short", &in));
    CHECK(in.idle_ms != UINT64_MAX);
    CHECK(info_named(fx.r, "never", &in));
    CHECK_EQ(in.calls, 0);
    CHECK(in.idle_ms == UINT64_MAX);
    CHECK(!info_named(fx.r, "once", &in)); /* gone after its one call */
    CHECK_EQ(atomic_load(&c.calls), 7 + 5 + 3 + 4 + 2 + 1);
    CHECK_EQ(fixture_close(&fx), 0);
  }
}

TEST(export_calls_not_tracked_report_nothing) {
  fixture fx;
  CHECK_EQ(fixture_open(&fx, TETHER_MAP), 0);
  tctx c = {0};
  CHECK_EQ(tether_register(fx.r, "a", tctx_fn, &c, NULL, NULL, NULL), 0);
  for (int i = 0; i < 3; i++) CHECK_EQ(tether_emit(fx.r, "a", NULL), 1);
  tether_info in;
  CHECK(info_named(fx.r, "a", &in));
  CHECK_EQ(in.calls, 0);
  CHECK(in.idle_ms == UINT64_MAX);
  CHECK_EQ(fixture_close(&fx), 0);
}

typedef struct emitter {
  tether_registry *r;
  pthread_barrier_t *phase; /* NULL: one phase */
  int n;
} emitter;

static const char *const k_far = "far-beyond-the-first-chunk";

static void *emit_phases(void *arg) {
  emitter *e = arg;
  for (int i = 0; i < e->n; i++) tether_emit(e->r, "early", NULL);
  for (int i = 0; i < e->n / 2; i++) tether_emit(e->r, "early-with-a-long-name", NULL);
  if (e->phase == NULL) return NULL;
  pthread_barrier_wait(e->phase); /* every thread has its record now */
  pthread_barrier_wait(e->phase); /* the main thread registered "late" and k_far */
  for (int i = 0; i < e->n; i++) tether_emit(e->r, "late", NULL);
  for (int i = 0; i < e->n; i++) tether_emit(e->r, k_far, NULL);
  return NULL;
}

/* Registered before the threads start, and after they all have their records
 * (the counts are then reserved in every record, one index far into a second
 * chunk of 256): each total is every thread's calls, exactly. */
TEST(export_calls_summed_across_threads) {
  enum { THREADS = 4 };
  fixture fx;
  tether_options o = {.mode = TETHER_BUS, .track_calls = 1};
  CHECK_EQ(fixture_open_with(&fx, &o), 0);
  tctx c = {0};
  CHECK_EQ(tether_register(fx.r, "early", tctx_fn, &c, NULL, NULL, NULL), 0);
  CHECK_EQ(tether_register(fx.r, "early-with-a-long-name", tctx_fn, &c, NULL, NULL, NULL), 0);
  pthread_barrier_t phase;
  pthread_barrier_init(&phase, NULL, THREADS + 1);
  emitter e = {fx.r, &phase, 20000 / test_scale_div()};
  pthread_t t[THREADS];
  for (int i = 0; i < THREADS; i++) CHECK_EQ(pthread_create(&t[i], NULL, emit_phases, &e), 0);
  pthread_barrier_wait(&phase);
  CHECK_EQ(tether_register(fx.r, "late", tctx_fn, &c, NULL, NULL, NULL), 0);
  for (int i = 0; i < 300; i++) {
    char name[32];
    snprintf(name, sizeof name, "filler-%d", i);
    CHECK_EQ(tether_register(fx.r, name, tctx_fn, &c, NULL, NULL, NULL), 0);
  }
  CHECK_EQ(tether_register(fx.r, k_far, tctx_fn, &c, NULL, NULL, NULL), 0);
  pthread_barrier_wait(&phase);
  for (int i = 0; i < THREADS; i++) pthread_join(t[i], NULL);
  pthread_barrier_destroy(&phase);
  uint64_t n = (uint64_t)e.n;
  CHECK_EQ(calls_of(fx.r, "early"), THREADS * n);
  CHECK_EQ(calls_of(fx.r, "early-with-a-long-name"), THREADS * (n / 2));
  CHECK_EQ(calls_of(fx.r, "late"), THREADS * n);
  CHECK_EQ(calls_of(fx.r, k_far), THREADS * n);
  CHECK_EQ(calls_of(fx.r, "filler-7"), 0);
  CHECK_EQ(atomic_load(&c.calls), (long long)(THREADS * (3 * n + n / 2)));
  CHECK_EQ(fixture_close(&fx), 0);
}

/* Threads that end leave their records to later threads, counts and all; a
 * freed id index taken by a new registration counts from zero again, on every
 * thread whose slot still holds the old registration's calls. */
TEST(export_calls_survive_thread_exit_and_restart_on_a_reused_index) {
  fixture fx;
  tether_options o = {.track_calls = 1};
  CHECK_EQ(fixture_open_with(&fx, &o), 0);
  tctx c = {0};
  tether_id old_id, new_id;
  CHECK_EQ(tether_register(fx.r, "early", tctx_fn, &c, NULL, NULL, &old_id), 0);
  CHECK_EQ(tether_register(fx.r, "early-with-a-long-name", tctx_fn, &c, NULL, NULL, NULL), 0);
  emitter e = {fx.r, NULL, 300};
  for (int k = 0; k < 3; k++) {
    pthread_t t;
    CHECK_EQ(pthread_create(&t, NULL, emit_phases, &e), 0);
    pthread_join(t, NULL);
  }
  for (int i = 0; i < 5; i++) tether_emit(fx.r, "early", NULL);
  CHECK_EQ(calls_of(fx.r, "early"), 3 * 300 + 5);
  CHECK_EQ(calls_of(fx.r, "early-with-a-long-name"), 3 * 150);
  /* "early" goes; its index is the next registration's (ids carry it in their
   * low 32 bits), and every slot of it holds "early"'s calls. */
  CHECK_EQ(tether_unregister(fx.r, old_id), 0);
  CHECK_EQ(tether_register(fx.r, "early", tctx_fn, &c, NULL, NULL, &new_id), 0);
  CHECK((old_id & 0xffffffffu) == (new_id & 0xffffffffu));
  CHECK_EQ(calls_of(fx.r, "early"), 0);
  e.n = 4;
  pthread_t t;
  CHECK_EQ(pthread_create(&t, NULL, emit_phases, &e), 0);
  pthread_join(t, NULL);
  tether_emit(fx.r, "early", NULL);
  CHECK_EQ(calls_of(fx.r, "early"), 5);
  CHECK_EQ(fixture_close(&fx), 0);
}

/* "Last called" is the background thread's tick (TETHER_TICK_MS) at the call,
 * read on the registry's clock: with a user clock the idle times are exact. */
TEST(export_idle_ms_follows_the_tick) {
  fixture fx;
  tether_options o = {.track_calls = 1};
  CHECK_EQ(fixture_open_with(&fx, &o), 0);
  tctx c = {0};
  CHECK_EQ(tether_register(fx.r, "a", tctx_fn, &c, NULL, NULL, NULL), 0);
  CHECK_EQ(tether_register(fx.r, "probe", tctx_fn, &c, NULL, NULL, NULL), 0);
  CHECK_EQ(tether_register(fx.r, "idle", tctx_fn, &c, NULL, NULL, NULL), 0);
  CHECK_EQ(tether_emit(fx.r, "a", NULL), 1); /* at the creation's tick: 1000 */
  atomic_store(&fx.now, 5000);
  /* Wait for a tick at 5000: the probe, called then, is idle 0. */
  tether_info in;
  int ticked = 0;
  for (int i = 0; i < 3000 && !ticked; i++) {
    CHECK_EQ(tether_emit(fx.r, "probe", NULL), 1);
    CHECK(info_named(fx.r, "probe", &in));
    if (in.idle_ms == 0)
      ticked = 1;
    else
      sleep_ms(10);
  }
  CHECK(ticked);
  CHECK(info_named(fx.r, "a", &in));
  CHECK_EQ(in.calls, 1);
  CHECK_EQ(in.idle_ms, 4000);
  CHECK_EQ(tether_emit(fx.r, "a", NULL), 1); /* the tick is 5000 now, and stays */
  CHECK(info_named(fx.r, "a", &in));
  CHECK_EQ(in.idle_ms, 0);
  atomic_store(&fx.now, 7000);
  CHECK(info_named(fx.r, "a", &in));
  CHECK_EQ(in.calls, 2);
  CHECK_EQ(in.idle_ms, 2000);
  CHECK(info_named(fx.r, "idle", &in));
  CHECK_EQ(in.calls, 0);
  CHECK(in.idle_ms == UINT64_MAX);
  CHECK_EQ(in.age_ms, 6000);
  CHECK_EQ(fixture_close(&fx), 0);
}

/* ---- the leak report's never-called section ---- */

/* The leak report of FX as a string (malloc'd). */
static char *report_of(tether_registry *r) {
  char *text = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&text, &len);
  if (f == NULL) return NULL;
  tether_leak_report(r, f);
  fclose(f);
  return text;
}

static const char *k_never_header = " and never called:\n";

TEST(export_leak_report_lists_old_handlers_never_called) {
  fixture fx;
  tether_options o = {.track_calls = 1, .never_called_ms = 500};
  CHECK_EQ(fixture_open_with(&fx, &o), 0);
  tctx c = {0};
  const tether_site forgotten = {"plugins/old.c", 7, "forgotten"},
                    used = {"plugins/used.c", 9, "used"};
  tether_id id1;
  CHECK_EQ(tether_register_at(fx.r, forgotten, "old-1", tctx_fn, &c, NULL, NULL, &id1), 0);
  atomic_store(&fx.now, 1001);
  CHECK_EQ(tether_register_at(fx.r, forgotten, "old-2", tctx_fn, &c, NULL, NULL, NULL), 0);
  CHECK_EQ(tether_register_at(fx.r, used, "used-1", tctx_fn, &c, NULL, NULL, NULL), 0);
  CHECK_EQ(tether_emit(fx.r, "used-1", NULL), 1);
  atomic_store(&fx.now, 1501); /* old-1 is 501 ms old, old-2 exactly 500 */
  CHECK_EQ(tether_register_at(fx.r, forgotten, "young", tctx_fn, &c, NULL, NULL, NULL), 0);
  char *text = report_of(fx.r);
  CHECK(text != NULL);
  const char *sec = strstr(text, k_never_header);
  char want[512];
  snprintf(want, sizeof want,
           "tether: 2 of them registered 500 ms ago or more and never called:\n"
           "     count  registered at\n"
           "         2  plugins/old.c:7 in forgotten()\n"
           "            e.g. \"old-1\" (id %" PRIu64 "), age 501 ms, 0 calls\n",
           id1);
  const char *start = strstr(text, "tether: 2 of them registered");
  int ok = sec != NULL && start != NULL && strcmp(start, want) == 0;
  if (!ok) fprintf(stderr, "report:\n%s\nwanted the report to end with:\n%s", text, want);
  /* The survivors' part still lists every registration. */
  int all = strstr(text, "tether: 4 registrations still live") != NULL;
  free(text);
  CHECK(ok);
  CHECK(all);
  CHECK_EQ(fixture_close(&fx), 0);
}

TEST(export_leak_report_never_called_default_and_untracked) {
  fixture fx;
  tether_options o = {.track_calls = 1};
  CHECK_EQ(fixture_open_with(&fx, &o), 0);
  tctx c = {0};
  CHECK_EQ(tether_register(fx.r, "quiet", tctx_fn, &c, NULL, NULL, NULL), 0);
  atomic_store(&fx.now, 1000 + 59999);
  char *text = report_of(fx.r);
  CHECK(text != NULL);
  int listed_early = strstr(text, k_never_header) != NULL;
  free(text);
  CHECK(!listed_early);
  atomic_store(&fx.now, 1000 + 60000); /* the default: a minute */
  text = report_of(fx.r);
  CHECK(text != NULL);
  int listed =
      strstr(text, "tether: 1 of them registered 60000 ms ago or more and never called:\n") != NULL;
  free(text);
  CHECK(listed);
  CHECK_EQ(fixture_close(&fx), 0);

  CHECK_EQ(fixture_open(&fx, TETHER_MAP), 0); /* not tracking: no such section */
  CHECK_EQ(tether_register(fx.r, "quiet", tctx_fn, &c, NULL, NULL, NULL), 0);
  atomic_store(&fx.now, 1000000);
  text = report_of(fx.r);
  CHECK(text != NULL);
  int untracked =
      strstr(text, "never called") == NULL && strstr(text, "1 registration still live") != NULL;
  free(text);
  CHECK(untracked);
  CHECK_EQ(fixture_close(&fx), 0);
}

/* ---- metrics ---- */

/* tether_metrics_write into a string; *RC gets its result. */
static char *metrics_of(tether_registry *r, const char *labels, int *rc) {
  char *text = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&text, &len);
  if (f == NULL) return NULL;
  *rc = tether_metrics_write(r, f, labels);
  fclose(f);
  return text;
}

static int check_text(const char *what, const char *got, const char *want) {
  if (got != NULL && strcmp(got, want) == 0) return 1;
  fprintf(stderr, "%s: got\n%s\nwanted\n%s\n", what, got ? got : "(null)", want);
  return 0;
}

/* Four sites (one with a backslash, a quote and a newline in its file and a
 * quote in its function, one unknown), every kind of removal, two sites kept. */
static int metrics_scene(fixture *fx, tctx *c) {
  static const tether_site a = {"src/a.c", 10, "load_a"},
                           b = {"dir\\with\"quote\nnl.c", 20, "fn\"q"}, cs = {"c.c", 30, "c_fn"},
                           d = {NULL, 0, NULL};
  tether_options o = {.metrics_top_sites = 2};
  if (fixture_open_with(fx, &o) != 0) return -1;
  tether_reg_options sz = {0};
  int rc = 0;
#define ADD(site, name, bytes, opts_flags, ttl, own)                                  \
  do {                                                                                \
    sz = (tether_reg_options){                                                        \
        .ctx_size = (bytes), .flags = (opts_flags), .ttl_ms = (ttl), .owner = (own)}; \
    rc |= tether_register_at(fx->r, (site), (name), tctx_fn, c, NULL, &sz, NULL);     \
  } while (0)
  ADD(a, "a1", 100, 0, 0, NULL);
  ADD(a, "a2", 50, 0, 0, NULL);
  ADD(a, "a2", 200, TETHER_REPLACE, 0, NULL); /* replaced: 1 */
  ADD(b, "b1", 1000, 0, 0, NULL);
  ADD(cs, "c1", 10, 0, 0, NULL);
  ADD(cs, "c2", 10, 0, 0, NULL);
  ADD(cs, "c3", 10, 0, 0, NULL);
  ADD(d, "d1", 0, 0, 0, NULL);
  ADD(cs, "gone", 5, 0, 0, NULL);
  ADD(cs, "tmp", 3, 0, 10, NULL);
  tether_owner *own;
  if (tether_owner_new(&own) != 0) return -1;
  ADD(d, "owned", 9, 0, 0, own);
#undef ADD
  if (rc != 0 || tether_unregister_name(fx->r, "gone") != 1) return -1;
  atomic_store(&fx->now, 2000);
  if (tether_sweep(fx->r) != 1) return -1;
  tether_owner_free(own);
  return tether_barrier(fx->r);
}

TEST(export_metrics_exact_text) {
  fixture fx;
  tctx c = {0};
  CHECK_EQ(metrics_scene(&fx, &c), 0);
  int rc = 0;
  char *text = metrics_of(fx.r, "registry=\"plugins\",shard=\"2\"", &rc);
  /* clang-format off */
#define L "{registry=\"plugins\",shard=\"2\""
  static const char want[] =
      "# HELP tether_registrations Live registrations.\n"
      "# TYPE tether_registrations gauge\n"
      "tether_registrations" L "} 7\n"
      "# HELP tether_retained_bytes Bytes of context (ctx_size) retained by live registrations.\n"
      "# TYPE tether_retained_bytes gauge\n"
      "tether_retained_bytes" L "} 1330\n"
      "# HELP tether_destructors_pending Removed registrations whose destructor has not run yet.\n"
      "# TYPE tether_destructors_pending gauge\n"
      "tether_destructors_pending" L "} 0\n"
      "# HELP tether_registered_total Registrations made.\n"
      "# TYPE tether_registered_total counter\n"
      "tether_registered_total" L "} 11\n"
      "# HELP tether_unregistered_total Registrations removed by unregister or their one call.\n"
      "# TYPE tether_unregistered_total counter\n"
      "tether_unregistered_total" L "} 1\n"
      "# HELP tether_expired_total Registrations removed when their TTL ran out.\n"
      "# TYPE tether_expired_total counter\n"
      "tether_expired_total" L "} 1\n"
      "# HELP tether_owner_removed_total Registrations removed when their owner was freed.\n"
      "# TYPE tether_owner_removed_total counter\n"
      "tether_owner_removed_total" L "} 1\n"
      "# HELP tether_replaced_total Registrations replaced by TETHER_REPLACE.\n"
      "# TYPE tether_replaced_total counter\n"
      "tether_replaced_total" L "} 1\n"
      "# HELP tether_destructors_run_total Removed registrations whose destructor has run.\n"
      "# TYPE tether_destructors_run_total counter\n"
      "tether_destructors_run_total" L "} 4\n"
      "# HELP tether_site_registrations Live registrations, by registration site.\n"
      "# TYPE tether_site_registrations gauge\n"
      "tether_site_registrations" L ",file=\"dir\\\\with\\\"quote\\nnl.c\",line=\"20\",func=\"fn\\\"q\"} 1\n"
      "tether_site_registrations" L ",file=\"src/a.c\",line=\"10\",func=\"load_a\"} 2\n"
      "tether_site_registrations" L ",site=\"other\"} 4\n"
      "# HELP tether_site_retained_bytes Bytes of context retained by live registrations, by registration site.\n"
      "# TYPE tether_site_retained_bytes gauge\n"
      "tether_site_retained_bytes" L ",file=\"dir\\\\with\\\"quote\\nnl.c\",line=\"20\",func=\"fn\\\"q\"} 1000\n"
      "tether_site_retained_bytes" L ",file=\"src/a.c\",line=\"10\",func=\"load_a\"} 300\n"
      "tether_site_retained_bytes" L ",site=\"other\"} 30\n";
#undef L
  /* clang-format on */
  int same = check_text("metrics", text, want);
  free(text);
  CHECK(same);
  CHECK_EQ(rc, 15);
  /* The same numbers as tether_stats_get. */
  tether_stats st;
  CHECK_EQ(tether_stats_get(fx.r, &st), 0);
  CHECK_EQ(st.live, 7);
  CHECK_EQ(st.live_bytes, 1330);
  CHECK_EQ(st.registered_total, 11);
  CHECK_EQ(st.destructors_run_total, 4);
  /* No labels: bare names, and the site labels alone. */
  text = metrics_of(fx.r, NULL, &rc);
  CHECK(text != NULL);
  int bare =
      strstr(text, "\ntether_registrations 7\n") != NULL &&
      strstr(text,
             "\ntether_site_retained_bytes{file=\"src/a.c\",line=\"10\",func=\"load_a\"} 300\n") !=
          NULL &&
      strstr(text, "\ntether_site_registrations{site=\"other\"} 4\n") != NULL;
  free(text);
  CHECK(bare);
  CHECK_EQ(rc, 15);
  text = metrics_of(fx.r, "", &rc); /* an empty list is no labels */
  CHECK(text != NULL);
  bare = strstr(text, "\ntether_registrations 7\n") != NULL;
  free(text);
  CHECK(bare);
  CHECK_EQ(fixture_close(&fx), 0);
}

TEST(export_metrics_malformed_labels_write_nothing) {
  static const char *const bad[] = {
      "registry=plugins",
      "registry=\"plugins",
      "registry=\"a\",",
      ",registry=\"a\"",
      "registry=\"a\"x=\"b\"",
      "1x=\"a\"",
      "a-b=\"c\"",
      "__name__=\"x\"",
      "file=\"x\"",
      "line=\"1\"",
      "func=\"f\"",
      "site=\"s\"",
      "a=\"b\\q\"",
      "a=\"new\nline\"",
      "a =\"b\"",
      "a=\"b\" ",
      "=\"b\"",
      "a",
      "a=",
      "a=\"b\\\"",
  };
  static const char *const good[] = {"a=\"\"", "_x=\"y\"", "a=\"x\\\"y\\\\z\\n\",B_2=\"w\"",
                                     "filex=\"1\""};
  fixture fx;
  tctx c = {0};
  CHECK_EQ(fixture_open(&fx, TETHER_MAP), 0);
  CHECK_EQ(tether_register(fx.r, "a", tctx_fn, &c, NULL, NULL, NULL), 0);
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    int rc = 0;
    char *text = metrics_of(fx.r, bad[i], &rc);
    size_t len = text ? strlen(text) : 1;
    free(text);
    if (rc != TETHER_EINVAL || len != 0) {
      tt_fail(__FILE__, __LINE__, "labels [%s]: rc %d, %zu bytes written", bad[i], rc, len);
      return;
    }
  }
  for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
    int rc = 0;
    char *text = metrics_of(fx.r, good[i], &rc);
    char want[256];
    snprintf(want, sizeof want, "\ntether_registrations{%s} 1\n", good[i]);
    int ok = text != NULL && strstr(text, want) != NULL;
    free(text);
    if (rc != 11 || !ok) {
      tt_fail(__FILE__, __LINE__, "labels [%s]: rc %d, or its series are missing", good[i], rc);
      return;
    }
  }
  CHECK_EQ(fixture_close(&fx), 0);
}

/* Site strings are whatever the program passed: bytes that are not UTF-8
 * become U+FFFD (Prometheus refuses a whole scrape for one such byte), UTF-8
 * passes as it is; labels that are not UTF-8 are malformed. */
TEST(export_metrics_utf8) {
  static const struct {
    const char *file, *want;
  } cases[] = {
      {"caf\xc3\xa9.c", "caf\xc3\xa9.c"},                                 /* 2 bytes */
      {"\xe6\x97\xa5\xe6\x9c\xac.c", "\xe6\x97\xa5\xe6\x9c\xac.c"},       /* 3 bytes */
      {"\xf0\x9f\x94\x8c.c", "\xf0\x9f\x94\x8c.c"},                       /* 4 bytes */
      {"latin1-caf\xe9.c", "latin1-caf\xef\xbf\xbd.c"},                   /* a latin-1 byte */
      {"over\xc0\xaf.c", "over\xef\xbf\xbd\xef\xbf\xbd.c"},               /* overlong */
      {"sur\xed\xa0\x80.c", "sur\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd.c"}, /* a surrogate */
      {"big\xf4\x90\x80\x80.c", "big\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd.c"},
      {"cut\xe2\x82", "cut\xef\xbf\xbd\xef\xbf\xbd"}, /* cut short at the end */
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    fixture fx;
    CHECK_EQ(fixture_open(&fx, TETHER_MAP), 0);
    tether_site site = {cases[i].file, 1, "f"};
    tether_reg_options ro = {.ctx_size = 3};
    CHECK_EQ(tether_register_at(fx.r, site, "a", nop_fn, NULL, NULL, &ro, NULL), 0);
    int rc = 0;
    char *text = metrics_of(fx.r, NULL, &rc);
    char want[256];
    snprintf(want, sizeof want,
             "\ntether_site_retained_bytes{file=\"%s\",line=\"1\",func=\"f\"} 3\n", cases[i].want);
    int ok = text != NULL && strstr(text, want) != NULL;
    if (!ok) fprintf(stderr, "    case %zu:\n%s", i, text ? text : "(null)");
    free(text);
    CHECK(ok);
    CHECK_EQ(rc, 11);
    CHECK_EQ(fixture_close(&fx), 0);
  }
  fixture fx;
  CHECK_EQ(fixture_open(&fx, TETHER_MAP), 0);
  static const char *const bad[] = {"a=\"caf\xe9\"", "a=\"\xc0\xaf\"", "a=\"\xed\xa0\x80\"",
                                    "a=\"x\xe2\x82\""};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    int rc = 0;
    char *text = metrics_of(fx.r, bad[i], &rc);
    size_t len = text ? strlen(text) : 1;
    free(text);
    CHECK_EQ(rc, TETHER_EINVAL);
    CHECK_EQ(len, 0);
  }
  int rc = 0;
  char *text = metrics_of(fx.r, "a=\"caf\xc3\xa9 \xf0\x9f\x94\x8c\"", &rc);
  int ok = text != NULL &&
           strstr(text, "tether_registrations{a=\"caf\xc3\xa9 \xf0\x9f\x94\x8c\"} 0\n") != NULL;
  free(text);
  CHECK(ok);
  CHECK_EQ(rc, 9);
  CHECK_EQ(fixture_close(&fx), 0);
}

/* 51 sites with distinct bytes: the default lists 50 and sums the smallest as
 * "other"; with 50 sites there is no "other" series. */
TEST(export_metrics_top_sites_then_other) {
  fixture fx;
  tctx c = {0};
  CHECK_EQ(fixture_open(&fx, TETHER_MAP), 0);
  tether_id smallest = 0;
  for (int i = 0; i < 51; i++) {
    char file[16], name[16];
    snprintf(file, sizeof file, "s%02d.c", i);
    snprintf(name, sizeof name, "n%02d", i);
    tether_site site = {file, i + 1, "f"};
    tether_reg_options ro = {.ctx_size = (size_t)(i + 1) * 10};
    CHECK_EQ(
        tether_register_at(fx.r, site, name, tctx_fn, &c, NULL, &ro, i == 0 ? &smallest : NULL), 0);
  }
  int rc = 0;
  char *text = metrics_of(fx.r, NULL, &rc);
  CHECK(text != NULL);
  const char *first = strstr(text, "tether_site_retained_bytes{file=");
  static const char top_line[] =
      "tether_site_retained_bytes{file=\"s50.c\",line=\"51\",func=\"f\"} 510\n";
  int ordered = first != NULL && strncmp(first, top_line, strlen(top_line)) == 0;
  int other = strstr(text, "\ntether_site_retained_bytes{site=\"other\"} 10\n") != NULL &&
              strstr(text, "\ntether_site_registrations{site=\"other\"} 1\n") != NULL &&
              strstr(text, "\"s00.c\"") == NULL && strstr(text, "\"s01.c\"") != NULL;
  free(text);
  CHECK(ordered);
  CHECK(other);
  CHECK_EQ(rc, 9 + 2 * 51);
  CHECK_EQ(tether_unregister(fx.r, smallest), 0);
  text = metrics_of(fx.r, NULL, &rc);
  CHECK(text != NULL);
  other = strstr(text, "site=\"other\"") != NULL;
  free(text);
  CHECK(!other);
  CHECK_EQ(rc, 9 + 2 * 50);
  CHECK_EQ(fixture_close(&fx), 0);
}

/* ---- streams that fail, and streams that call back ---- */

typedef struct sink {
  size_t accept; /* bytes taken before writes fail */
  size_t got;
  tether_registry *r; /* when not NULL: each write calls back into it */
  int callbacks;
} sink;

static ssize_t sink_write(void *cookie, const char *buf, size_t n) {
  (void)buf;
  sink *s = cookie;
  if (s->r != NULL) {
    /* A program's own stream that uses the registry: no registry lock may be held. */
    tether_id id;
    tether_stats st;
    if (tether_register(s->r, "from-the-stream", nop_fn, NULL, NULL, NULL, &id) == 0 &&
        tether_emit(s->r, "from-the-stream", NULL) == 1 && tether_unregister(s->r, id) == 0 &&
        tether_stats_get(s->r, &st) == 0)
      s->callbacks++;
  }
  if (s->got >= s->accept) {
    errno = EIO;
    return -1;
  }
  size_t k = n < s->accept - s->got ? n : s->accept - s->got;
  s->got += k;
  return (ssize_t)k;
}

static FILE *sink_open(sink *s) {
  cookie_io_functions_t io = {.write = sink_write};
  return fopencookie(s, "w", io);
}

/* Fills FX with registrations FROM to TO-1, from a few sites. */
static int fill(fixture *fx, tctx *c, int from, int to) {
  for (int i = from; i < to; i++) {
    char name[32];
    snprintf(name, sizeof name, "handler-%d", i);
    tether_reg_options ro = {.ctx_size = (size_t)i};
    tether_site site = {"fill.c", i % 7, "fill"};
    int rc = tether_register_at(fx->r, site, name, tctx_fn, c, NULL, &ro, NULL);
    if (rc != 0) return rc;
  }
  return 0;
}

/* Writes the profile (WHICH 0) or the metrics (1) of R to a stream failing
 * after ACCEPT bytes; returns the result. */
static int write_failing(tether_registry *r, int which, size_t accept) {
  sink s = {accept, 0, NULL, 0};
  FILE *f = sink_open(&s);
  if (f == NULL) return 1;
  int rc = which == 0 ? tether_profile_write(r, f, 0) : tether_metrics_write(r, f, NULL);
  fclose(f);
  return rc;
}

/* A stream whose writes fail at once, after a byte, in the middle (a closed
 * socket); a full disk (/dev/full), for a profile bigger than a stream buffer
 * too; a stream opened for reading. The program's stream streams fail through
 * fopencookie only below glibc's buffer size: at 8192 bytes and more, glibc's
 * fwrite reads past its arguments after a failed cookie write (valgrind sees
 * it), so bigger profiles fail on /dev/full instead. */
TEST(export_failed_writes_are_eio) {
  fixture fx;
  tctx c = {0};
  tether_options o = {.track_calls = 1};
  CHECK_EQ(fixture_open_with(&fx, &o), 0);
  CHECK_EQ(fill(&fx, &c, 0, 100), 0);
  sink whole = {SIZE_MAX, 0, NULL, 0};
  FILE *f = sink_open(&whole);
  CHECK(f != NULL);
  CHECK_EQ(tether_profile_write(fx.r, f, 0), 100);
  fclose(f);
  CHECK(whole.got > 1000 && whole.got < 8192);
  tether_stats before, after;
  CHECK_EQ(tether_barrier(fx.r), 0); /* the tables fill grew out of are freed before the count */
  CHECK_EQ(tether_stats_get(fx.r, &before), 0);
  uint64_t blocks = atomic_load(&fx.alloc.live_blocks);
  static const size_t accept[] = {0, 1, 100, 1000};
  for (size_t i = 0; i < sizeof accept / sizeof accept[0]; i++) {
    for (int which = 0; which < 2; which++) {
      int rc = write_failing(fx.r, which, accept[i]);
      if (rc != TETHER_EIO) {
        tt_fail(__FILE__, __LINE__, "%s to a stream failing after %zu bytes: %d",
                which ? "metrics" : "profile", accept[i], rc);
        return;
      }
    }
  }
  FILE *full = fopen("/dev/full", "w");
  CHECK(full != NULL);
  int rc_full = tether_profile_write(fx.r, full, 0);
  clearerr(full);
  int rc_full_m = tether_metrics_write(fx.r, full, NULL);
  fclose(full);
  CHECK_EQ(rc_full, TETHER_EIO);
  CHECK_EQ(rc_full_m, TETHER_EIO);
  FILE *ro = fopen("/dev/null", "r");
  CHECK(ro != NULL);
  int rc_p = tether_profile_write(fx.r, ro, 0), rc_m = tether_metrics_write(fx.r, ro, NULL);
  fclose(ro);
  CHECK_EQ(rc_p, TETHER_EIO);
  CHECK_EQ(rc_m, TETHER_EIO);
  CHECK(strstr(tether_strerror(TETHER_EIO), "TETHER_EIO") != NULL);
  /* Nothing changed, nothing leaked, and a good stream still gets everything. */
  CHECK_EQ(tether_stats_get(fx.r, &after), 0);
  CHECK(memcmp(&before, &after, sizeof before) == 0);
  CHECK_EQ(atomic_load(&fx.alloc.live_blocks), blocks);
  char *text = NULL;
  size_t len = 0;
  f = open_memstream(&text, &len);
  CHECK(f != NULL);
  int rc = tether_profile_write(fx.r, f, 0);
  fclose(f);
  free(text);
  CHECK_EQ(rc, 100);
  CHECK_EQ(len, whole.got);
  /* A full disk under a profile of several buffers. */
  CHECK_EQ(fill(&fx, &c, 100, 400), 0);
  full = fopen("/dev/full", "w");
  CHECK(full != NULL);
  rc_full = tether_profile_write(fx.r, full, 0);
  fclose(full);
  CHECK_EQ(rc_full, TETHER_EIO);
  f = open_memstream(&text, &len);
  CHECK(f != NULL);
  rc = tether_profile_write(fx.r, f, 0);
  fclose(f);
  free(text);
  CHECK_EQ(rc, 400);
  CHECK(len > 8192);
  CHECK_EQ(fixture_close(&fx), 0);
}

/* A stream whose writes register, emit and unregister in the same registry:
 * deadlocks if a registry lock were held while writing (a child, so a hang
 * fails one test). */
static int scenario_stream_calls_back(void *arg) {
  (void)arg;
  tether_registry *r;
  tether_options o = {.track_calls = 1, .capture_stack = 4};
  EXPECT(tether_registry_new(&r, &o) == 0);
  for (int i = 0; i < 200; i++) {
    char name[32];
    snprintf(name, sizeof name, "h-%d", i);
    tether_reg_options ro = {.ctx_size = 64};
    EXPECT(tether_register(r, name, nop_fn, NULL, NULL, &ro, NULL) == 0);
  }
  for (int which = 0; which < 3; which++) {
    sink s = {SIZE_MAX, 0, r, 0};
    FILE *f = sink_open(&s);
    EXPECT(f != NULL);
    setvbuf(f, NULL, _IOFBF, 256); /* many writes, so many calls back */
    int rc = which == 0   ? tether_profile_write(r, f, 0)
             : which == 1 ? tether_metrics_write(r, f, NULL)
                          : tether_leak_report(r, f);
    fclose(f);
    EXPECT(rc == (which == 1 ? 9 + 2 : 200)); /* series, or registrations */
    EXPECT(s.callbacks >= 1 && s.got > 256);
  }
  EXPECT(tether_registry_free(r) == 200);
  return 0;
}

TEST(export_writes_hold_no_lock) {
  CHECK_CHILD(scenario_stream_calls_back, NULL, 60);
}

/* ---- arguments and registering stacks ---- */

TEST(export_bad_arguments_and_stack_bounds) {
  fixture fx;
  CHECK_EQ(fixture_open(&fx, TETHER_MAP), 0);
  FILE *null = fopen("/dev/null", "w");
  CHECK(null != NULL);
  CHECK_EQ(tether_profile_write(NULL, null, 0), TETHER_EINVAL);
  CHECK_EQ(tether_profile_write(fx.r, NULL, 0), TETHER_EINVAL);
  CHECK_EQ(tether_profile_write(fx.r, null, 1), TETHER_EINVAL);
  CHECK_EQ(tether_metrics_write(NULL, null, NULL), TETHER_EINVAL);
  CHECK_EQ(tether_metrics_write(fx.r, NULL, NULL), TETHER_EINVAL);
  CHECK_EQ(tether_profile_write(fx.r, null, 0), 0); /* an empty registry: an empty profile */
  CHECK_EQ(tether_metrics_write(fx.r, null, NULL), 9);
  CHECK_EQ(fixture_close(&fx), 0);
  /* capture_stack: at most TETHER_STACK_MAX; above, nothing is allocated. */
  test_alloc al;
  test_alloc_init(&al);
  tether_options o = {.allocator = &al.iface, .capture_stack = TETHER_STACK_MAX + 1};
  tether_registry *r = (tether_registry *)&al;
  CHECK_EQ(tether_registry_new(&r, &o), TETHER_EINVAL);
  CHECK(r == NULL);
  CHECK_EQ(atomic_load(&al.calls), 0);
  o.capture_stack = UINT32_MAX;
  CHECK_EQ(tether_registry_new(&r, &o), TETHER_EINVAL);
  for (unsigned depth = 1; depth <= TETHER_STACK_MAX; depth += TETHER_STACK_MAX - 1) {
    o.capture_stack = depth;
    CHECK_EQ(tether_registry_new(&r, &o), 0);
    CHECK_EQ(tether_register(r, "a", nop_fn, NULL, NULL, NULL, NULL), 0);
    CHECK_EQ(tether_profile_write(r, null, 0), 1);
    CHECK_EQ(tether_registry_free(r), 1);
    CHECK_EQ(atomic_load(&al.live_blocks), 0);
  }
  fclose(null);
}

/* Profiles with registering stacks written from several threads at once, and
 * by the background thread (TETHER_PROFILE), as the first ones of a process:
 * the test runs itself alone in a new process for that, so that under TSan the
 * first reading of the loaded objects is raced too. */
typedef struct stack_writer {
  tether_registry *r;
  int bad;
} stack_writer;

static void *write_stack_profiles(void *arg) {
  stack_writer *w = arg;
  FILE *f = fopen("/dev/null", "w");
  if (f == NULL) {
    w->bad++;
    return NULL;
  }
  for (int i = 0; i < 5; i++)
    if (tether_profile_write(w->r, f, 0) != 3) w->bad++;
  fclose(f);
  return NULL;
}

static int make_temp_dir(char *out, size_t n);
static void remove_dir(const char *dir);

TEST(export_stack_profiles_from_threads_at_first_use) {
  static const char *const self = "export_stack_profiles_from_threads_at_first_use";
  if (getenv("TETHER_TEST_FRESH_PROCESS") == NULL) {
    char dir[400], cmd[5000];
    CHECK_EQ(make_temp_dir(dir, sizeof dir), 0);
    snprintf(cmd, sizeof cmd,
             "TETHER_TEST_FRESH_PROCESS=1 TETHER_PROFILE='%s' TETHER_PROFILE_INTERVAL_MS=1 '%s' %s "
             ">/dev/null",
             dir, tt_argv0(), self);
    int st = system(cmd);
    remove_dir(dir);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    return;
  }
  enum { THREADS = 4 };
  tether_registry *r;
  tether_options o = {.capture_stack = 8};
  CHECK_EQ(tether_registry_new(&r, &o), 0);
  for (int i = 0; i < 3; i++) {
    char name[16];
    snprintf(name, sizeof name, "h-%d", i);
    CHECK_EQ(tether_register(r, name, nop_fn, NULL, NULL, NULL, NULL), 0);
  }
  stack_writer w[THREADS];
  pthread_t t[THREADS];
  for (int i = 0; i < THREADS; i++) {
    w[i] = (stack_writer){r, 0};
    CHECK_EQ(pthread_create(&t[i], NULL, write_stack_profiles, &w[i]), 0);
  }
  int bad = 0;
  for (int i = 0; i < THREADS; i++) {
    pthread_join(t[i], NULL);
    bad += w[i].bad;
  }
  CHECK_EQ(bad, 0);
  CHECK_EQ(tether_registry_free(r), 3);
}

/* ---- TETHER_PROFILE and TETHER_DEBUG=trace (child processes) ---- */

/* Whether BUF (N bytes) is whole top-level protobuf fields (varints and
 * length-delimited ones, as tether writes them) that end exactly at its end. */
static int whole_message(const unsigned char *p, size_t n) {
  size_t i = 0;
  while (i < n) {
    uint64_t key = 0, v = 0;
    for (int s = 0; i < n; s += 7) {
      key |= (uint64_t)(p[i] & 0x7f) << s;
      if (!(p[i++] & 0x80)) break;
      if (s > 56) return 0;
    }
    if ((key & 7) != 0 && (key & 7) != 2) return 0;
    for (int s = 0;; s += 7) {
      if (i >= n || s > 63) return 0;
      v |= (uint64_t)(p[i] & 0x7f) << s;
      if (!(p[i++] & 0x80)) break;
    }
    if ((key & 7) == 2) {
      if (v > n - i) return 0;
      i += v;
    }
  }
  return i == n;
}

static int has_bytes(const unsigned char *p, size_t n, const char *s) {
  return memmem(p, n, s, strlen(s)) != NULL;
}

typedef struct dirscan {
  int pb, tmp, other; /* files seen */
  int complete;       /* .pb files that are whole profiles naming the survivors */
  uint64_t max_seq;
  int last_names_survivors; /* the file numbered max_seq names both registrations */
  int serial_mismatch;      /* files of more than one registry, or another pid */
} dirscan;

static void scan_dir(const char *dir, dirscan *d) {
  memset(d, 0, sizeof *d);
  DIR *dp = opendir(dir);
  if (dp == NULL) return;
  long long serial = -1;
  for (struct dirent *de; (de = readdir(dp)) != NULL;) {
    if (de->d_name[0] == '.') continue;
    long pid;
    unsigned long long reg, seq;
    int end = 0;
    size_t len = strlen(de->d_name);
    if (len > 4 && strcmp(de->d_name + len - 4, ".tmp") == 0) {
      d->tmp++;
      continue;
    }
    if (sscanf(de->d_name, "tether-%ld-%llu-%llu.pb%n", &pid, &reg, &seq, &end) != 3 ||
        (size_t)end != len || strlen(strrchr(de->d_name, '-')) != strlen("-000000.pb")) {
      d->other++;
      continue;
    }
    d->pb++;
    if (pid != (long)getpid() || (serial >= 0 && (long long)reg != serial)) d->serial_mismatch++;
    serial = (long long)reg;
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
    FILE *f = fopen(path, "rb");
    if (f == NULL) continue;
    static unsigned char buf[1 << 16];
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    if (n > 0 && n < sizeof buf && whole_message(buf, n) && has_bytes(buf, n, "retained") &&
        has_bytes(buf, n, "libtether registry"))
      d->complete++;
    if (seq >= d->max_seq) {
      d->max_seq = seq;
      d->last_names_survivors =
          has_bytes(buf, n, "survivor-one") && has_bytes(buf, n, "survivor-two");
    }
  }
  closedir(dp);
}

/* Reads the inotify events of FD so far: *WRONG counts a final name (one that
 * does not end in .tmp) created, written or closed after writing in place,
 * instead of arriving by a rename; *RENAMED counts those that arrived so. */
static void read_events(int fd, int *renamed, int *wrong) {
  _Alignas(struct inotify_event) char buf[8192];
  for (;;) {
    ssize_t n = read(fd, buf, sizeof buf);
    if (n <= 0) return;
    for (char *p = buf; p < buf + n;) {
      const struct inotify_event *ev = (const struct inotify_event *)(void *)p;
      size_t len = ev->len ? strlen(ev->name) : 0;
      int tmp = len > 4 && strcmp(ev->name + len - 4, ".tmp") == 0;
      if (len > 0 && !tmp) {
        if (ev->mask & IN_MOVED_TO)
          (*renamed)++;
        else if (ev->mask & (IN_CREATE | IN_MODIFY | IN_CLOSE_WRITE))
          (*wrong)++;
      }
      p += sizeof *ev + ev->len;
    }
  }
}

static int scenario_profile_dir(void *arg) {
  const char *dir = arg;
  int in = inotify_init1(IN_NONBLOCK);
  EXPECT(in >= 0);
  EXPECT(inotify_add_watch(in, dir, IN_CREATE | IN_MODIFY | IN_CLOSE_WRITE | IN_MOVED_TO) >= 0);
  int renamed = 0, wrong = 0;
  setenv("TETHER_PROFILE", dir, 1);
  setenv("TETHER_PROFILE_INTERVAL_MS", "20", 1);
  tether_registry *r;
  EXPECT(tether_registry_new(&r, NULL) == 0);
  tether_reg_options ro = {.ctx_size = 100};
  EXPECT(tether_register(r, "survivor-one", nop_fn, NULL, NULL, &ro, NULL) == 0);
  EXPECT(tether_register(r, "survivor-two", nop_fn, NULL, NULL, &ro, NULL) == 0);
  /* Whenever a profile is there, it is whole: written aside, then renamed (the
   * directory's events say so below). */
  dirscan d;
  for (int i = 0; i < 3000; i++) {
    scan_dir(dir, &d);
    EXPECT(d.complete == d.pb);
    EXPECT(d.other == 0 && d.serial_mismatch == 0);
    if (d.pb >= 4) break;
    sleep_ms(2);
  }
  EXPECT(d.pb >= 4);
  EXPECT(tether_registry_free(r) == 2);
  /* One more at tether_registry_free; numbered 0, 1, 2 ... with no gap; nothing
   * left aside. */
  dirscan end;
  scan_dir(dir, &end);
  EXPECT(end.pb > d.pb);
  EXPECT(end.complete == end.pb);
  EXPECT(end.max_seq + 1 == (uint64_t)end.pb);
  EXPECT(end.last_names_survivors);
  EXPECT(end.tmp == 0 && end.other == 0 && end.serial_mismatch == 0);
  /* Every profile arrived whole, by a rename, never written in place. */
  read_events(in, &renamed, &wrong);
  close(in);
  EXPECT(wrong == 0);
  EXPECT(renamed == end.pb);
  return 0;
}

static void remove_dir(const char *dir) {
  DIR *dp = opendir(dir);
  if (dp == NULL) return;
  for (struct dirent *de; (de = readdir(dp)) != NULL;) {
    if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0) continue;
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
    unlink(path);
  }
  closedir(dp);
  rmdir(dir);
}

static int make_temp_dir(char *out, size_t n) {
  const char *tmp = getenv("TMPDIR");
  snprintf(out, n, "%s/tether-export-XXXXXX", tmp && tmp[0] ? tmp : "/tmp");
  return mkdtemp(out) != NULL ? 0 : -1;
}

TEST(export_profile_dir_gets_whole_numbered_files) {
  char dir[512];
  CHECK_EQ(make_temp_dir(dir, sizeof dir), 0);
  int st = run_in_child(scenario_profile_dir, dir, 60);
  remove_dir(dir);
  CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

/* Runs FN with the child's stderr going to PATH. */
static int redirect_stderr(const char *path) {
  fflush(stderr);
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
  if (fd < 0) return -1;
  int rc = dup2(fd, 2);
  close(fd);
  return rc < 0 ? -1 : 0;
}

static size_t file_size(const char *path) {
  struct stat sb;
  return stat(path, &sb) == 0 ? (size_t)sb.st_size : 0;
}

static int count_lines(const char *path, char *first, size_t n) {
  FILE *f = fopen(path, "r");
  if (f == NULL) return -1;
  int lines = 0;
  char buf[4096];
  first[0] = '\0';
  while (fgets(buf, sizeof buf, f) != NULL) {
    if (lines == 0) snprintf(first, n, "%s", buf);
    lines++;
  }
  fclose(f);
  return lines;
}

typedef struct unwritable {
  char dir[600]; /* TETHER_PROFILE */
  char err[600]; /* the child's stderr */
  const char *interval;
} unwritable;

static int scenario_profile_unwritable(void *arg) {
  unwritable *u = arg;
  EXPECT(redirect_stderr(u->err) == 0);
  setenv("TETHER_PROFILE", u->dir, 1);
  setenv("TETHER_PROFILE_INTERVAL_MS", "10", 1);
  tether_registry *r;
  EXPECT(tether_registry_new(&r, NULL) == 0);
  EXPECT(tether_register(r, "a", nop_fn, NULL, NULL, NULL, NULL) == 0);
  for (int i = 0; i < 3000 && file_size(u->err) == 0; i++) sleep_ms(5);
  sleep_ms(200); /* twenty more intervals: none may try again */
  EXPECT(tether_registry_free(r) == 1);
  char first[4096];
  EXPECT(count_lines(u->err, first, sizeof first) == 1);
  char want[1400];
  snprintf(want, sizeof want, "tether: TETHER_PROFILE=%s: cannot write %s/tether-", u->dir, u->dir);
  EXPECT(strncmp(first, want, strlen(want)) == 0);
  EXPECT(strstr(first, ".pb.tmp: Not a directory; no more profiles of registry ") != NULL);
  return 0;
}

static int scenario_interval_invalid(void *arg) {
  unwritable *u = arg;
  EXPECT(redirect_stderr(u->err) == 0);
  setenv("TETHER_PROFILE", u->dir, 1);
  setenv("TETHER_PROFILE_INTERVAL_MS", u->interval, 1);
  tether_registry *r;
  EXPECT(tether_registry_new(&r, NULL) == 0);
  EXPECT(tether_registry_free(r) == 0); /* its one profile, at the free */
  char first[4096], want[256];
  EXPECT(count_lines(u->err, first, sizeof first) == 1);
  snprintf(want, sizeof want,
           "tether: TETHER_PROFILE_INTERVAL_MS=%s: not a number of ms; using 1000\n", u->interval);
  EXPECT(strcmp(first, want) == 0);
  return 0;
}

TEST(export_profile_dir_unwritable_says_so_once) {
  char tmp[400];
  CHECK_EQ(make_temp_dir(tmp, sizeof tmp), 0);
  unwritable u;
  snprintf(u.err, sizeof u.err, "%s/stderr", tmp);
  /* A path through a regular file: not writable, even by root. */
  snprintf(u.dir, sizeof u.dir, "%s/stderr/profiles", tmp);
  int st = run_in_child(scenario_profile_unwritable, &u, 60);
  int ok = WIFEXITED(st) && WEXITSTATUS(st) == 0;
  static const char *const intervals[] = {"0", "abc", "10x", "-5", "86400001", ""};
  snprintf(u.dir, sizeof u.dir, "%s", tmp);
  for (size_t i = 0; ok && i < sizeof intervals / sizeof intervals[0]; i++) {
    u.interval = intervals[i];
    st = run_in_child(scenario_interval_invalid, &u, 60);
    ok = WIFEXITED(st) && WEXITSTATUS(st) == 0;
    if (!ok) fprintf(stderr, "    TETHER_PROFILE_INTERVAL_MS=\"%s\"\n", intervals[i]);
  }
  remove_dir(tmp);
  CHECK(ok);
}

typedef struct trace_line {
  unsigned long long pass, live, bytes, pending, destructors, registry;
  double t, ms;
  size_t scanned, expired;
} trace_line;

/* Parses one TETHER_DEBUG=trace line; 1 when the whole line has the format. */
static int parse_trace(const char *s, trace_line *t) {
  int end = -1;
  int k = sscanf(s,
                 "tether: sweep %llu @%lf s: %zu scanned, %zu expired, %llu destructors, live %llu "
                 "(%llu bytes), "
                 "pending %llu, %lf ms [registry %llu]%n",
                 &t->pass, &t->t, &t->scanned, &t->expired, &t->destructors, &t->live, &t->bytes,
                 &t->pending, &t->ms, &t->registry, &end);
  return k == 10 && end > 0 && strcmp(s + end, "\n") == 0 && strstr(s, " @") != NULL &&
         strchr(strstr(s, " @"), '.') != NULL;
}

typedef struct trace_sum {
  int lines;
  unsigned long long expired, destructors, last_pending;
} trace_sum;

/* Reads the trace lines in PATH so far, checking each: the format, the pass
 * numbers (1, 2, ...), one registry, the time on the registry's clock (0 s,
 * then 2.5 s), and live / bytes before and after the one pass that expires the
 * three timers. Returns 0, or the line of the check that failed. */
static int read_trace(const char *path, trace_sum *sum) {
  memset(sum, 0, sizeof *sum);
  FILE *f = fopen(path, "r");
  if (f == NULL) return __LINE__;
  char line[512];
  unsigned long long pass = 0, serial = 0;
  int rc = 0;
  while (rc == 0 && fgets(line, sizeof line, f) != NULL) {
    if (strchr(line, '\n') == NULL) break; /* being written: read it next time */
    trace_line t;
    if (!parse_trace(line, &t)) {
      fprintf(stderr, "    not a trace line: %s", line);
      rc = __LINE__;
      break;
    }
    if (sum->lines++ == 0) serial = t.registry;
    int before = sum->expired == 0 && t.expired == 0;
    if (t.registry != serial || t.pass != ++pass || !(t.t == 0.0 || t.t == 2.5) ||
        t.scanned < t.expired || t.ms < 0)
      rc = __LINE__;
    else if (t.expired != 0 &&
             (t.expired != 3 || sum->expired != 0 || t.t != 2.5 || t.live != 1 || t.bytes != 7))
      rc = __LINE__;
    else if (before &&
             !(t.live <= 4 && t.bytes == 10 * (t.live < 3 ? t.live : 3) + (t.live == 4 ? 7 : 0)))
      rc = __LINE__;
    else if (!before && (t.live != 1 || t.bytes != 7))
      rc = __LINE__;
    if (rc != 0) fprintf(stderr, "    unexpected trace line: %s", line);
    sum->expired += t.expired;
    sum->destructors += t.destructors;
    sum->last_pending = t.pending;
  }
  fclose(f);
  return rc;
}

static _Atomic uint64_t g_trace_now;
static uint64_t trace_clock(void *ud) {
  (void)ud;
  return atomic_load(&g_trace_now);
}

static int scenario_trace(void *arg) {
  const char *err = arg;
  EXPECT(redirect_stderr(err) == 0);
  setenv("TETHER_DEBUG", "trace", 1);
  atomic_store(&g_trace_now, 1000);
  tether_options o = {.sweep_interval_ms = 10, .clock_ms = trace_clock};
  tether_registry *r;
  EXPECT(tether_registry_new(&r, &o) == 0);
  tether_reg_options ttl = {.ttl_ms = 100, .ctx_size = 10}, stay = {.ctx_size = 7};
  tctx c = {0};
  for (int i = 0; i < 3; i++) {
    char name[16];
    snprintf(name, sizeof name, "timer-%d", i);
    EXPECT(tether_register(r, name, tctx_fn, &c, tctx_free, &ttl, NULL) == 0);
  }
  EXPECT(tether_register(r, "stays", tctx_fn, &c, tctx_free, &stay, NULL) == 0);
  atomic_store(&g_trace_now, 3500); /* the timers' deadline has passed; 2.5 s since creation */
  /* Read the lines until the pass that expired the timers and the ones that
   * ran their destructors are there. */
  trace_sum sum;
  for (int i = 0; i < 6000; i++) {
    int bad = read_trace(err, &sum);
    if (bad != 0) return bad;
    if (sum.expired >= 3 && sum.destructors >= 3 && sum.last_pending == 0 && sum.lines >= 3) break;
    sleep_ms(5);
  }
  EXPECT(sum.lines >= 3);       /* passes go on, one line each */
  EXPECT(sum.expired == 3);     /* in one pass (read_trace checks) */
  EXPECT(sum.destructors == 3); /* the timers', all on the background thread */
  EXPECT(atomic_load(&c.freed) == 3);
  EXPECT(sum.last_pending == 0);
  EXPECT(tether_registry_free(r) == 1);
  return 0;
}

TEST(export_trace_prints_a_line_per_pass) {
  char tmp[512], err[600];
  CHECK_EQ(make_temp_dir(tmp, sizeof tmp), 0);
  snprintf(err, sizeof err, "%s/stderr", tmp);
  int st = run_in_child(scenario_trace, err, 60);
  if (!(WIFEXITED(st) && WEXITSTATUS(st) == 0)) {
    FILE *f = fopen(err, "r");
    char line[512];
    for (int i = 0; f != NULL && i < 20 && fgets(line, sizeof line, f) != NULL; i++)
      fprintf(stderr, "    %s", line);
    if (f) fclose(f);
  }
  remove_dir(tmp);
  CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}
