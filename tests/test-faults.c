/* Faults and rare paths, each made to happen on purpose instead of by chance:
 * failing realloc, pthread keys or profile files; a registration replaced while a
 * reader is between its lookup and its call (from inside the registry's clock,
 * which readers call at exactly that point); refs and zombies released out of
 * order; threads that outlive their registries; a background thread ended by a
 * destructor; the fence fallback for kernels without membarrier. Scenarios that
 * change the environment or end threads run in a child process (run_in_child) or
 * in a fresh copy of the runner. */
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/membarrier.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common.h"
#include "internal.h"
#include "wrap.h"

/* ---- a reader finds its entry replaced between lookup and call ---- */

/* A clock that, read once on the test's thread while armed, replaces NAME with
 * a handler of FRESH and jumps past the old handler's deadline. Readers read the
 * clock only for an entry with a TTL, after they found it and before they call
 * it: the replacement lands in exactly that window. */
typedef struct swap_clock {
  _Atomic uint64_t now;
  _Atomic int armed;
  pthread_t thread;
  tether_registry *r;
  const char *name;
  tctx fresh;
  int rc_replace;
} swap_clock;

static uint64_t swapping_clock(void *ud) {
  swap_clock *k = ud;
  if (pthread_equal(pthread_self(), k->thread) && atomic_exchange(&k->armed, 0)) {
    tether_reg_options o = {.flags = TETHER_REPLACE};
    k->rc_replace = tether_register(k->r, k->name, tctx_fn, &k->fresh, tctx_free, &o, NULL);
    atomic_fetch_add(&k->now, 1000);
  }
  return atomic_load(&k->now);
}

enum { OP_COUNT, OP_EMIT, OP_CALL };

/* OP on NAME (MAP; PINNED: a topic holds the name) while the clock replaces its
 * handler: the reader must find the successor, call it once, and never the old. */
static int replaced_mid_lookup(int op, const char *name, int pinned) {
  test_alloc a;
  test_alloc_init(&a);
  swap_clock k = {0};
  atomic_init(&k.now, 1000);
  k.thread = pthread_self();
  k.name = name;
  k.fresh.ret = 7;
  tether_options o = {.mode = TETHER_MAP, .allocator = &a.iface, .clock_ms = swapping_clock, .clock_ud = &k};
  EXPECT(tether_registry_new(&k.r, &o) == 0);
  tctx old = {0};
  old.ret = 3;
  tether_reg_options ttl = {.ttl_ms = 500};
  EXPECT(tether_register(k.r, name, tctx_fn, &old, tctx_free, &ttl, NULL) == 0);
  tether_topic *t = NULL;
  if (pinned) EXPECT(tether_topic_get(k.r, name, &t) == 0);
  atomic_store(&k.armed, 1);
  int ret = 0, rc;
  if (op == OP_COUNT)
    rc = tether_count(k.r, name);
  else if (op == OP_EMIT)
    rc = tether_emit(k.r, name, NULL);
  else
    rc = tether_call(k.r, name, NULL, &ret);
  EXPECT(atomic_load(&k.armed) == 0 && k.rc_replace == 0); /* the window was hit */
  EXPECT(rc == (op == OP_CALL ? 0 : 1));
  EXPECT(atomic_load(&old.calls) == 0);
  EXPECT(atomic_load(&k.fresh.calls) == (op == OP_COUNT ? 0 : 1));
  if (op == OP_CALL) EXPECT(ret == 7);
  tether_topic_release(t);
  EXPECT(tether_barrier(k.r) == 0);
  EXPECT(atomic_load(&old.freed) == 1 && atomic_load(&k.fresh.freed) == 0);
  tether_stats st;
  EXPECT(tether_stats_get(k.r, &st) == 0);
  EXPECT(st.live == 1 && st.replaced_total == 1 && st.expired_total == 0);
  EXPECT(tether_registry_free(k.r) == 1);
  EXPECT(atomic_load(&k.fresh.freed) == 1);
  EXPECT(atomic_load(&a.live_blocks) == 0);
  return 0;
}

TEST(faults_count_follows_a_replacement_seen_mid_lookup) {
  CHECK_EQ(replaced_mid_lookup(OP_COUNT, "job", 0), 0);
  CHECK_EQ(replaced_mid_lookup(OP_COUNT, "job", 1), 0);
}

TEST(faults_emit_and_call_follow_a_replacement_seen_mid_call) {
  /* Names past 16 bytes take the general path, shorter ones the fast path. */
  CHECK_EQ(replaced_mid_lookup(OP_EMIT, "a-name-longer-than-sixteen-bytes", 0), 0);
  CHECK_EQ(replaced_mid_lookup(OP_CALL, "a-name-longer-than-sixteen-bytes", 0), 0);
  CHECK_EQ(replaced_mid_lookup(OP_EMIT, "job", 0), 0);
  CHECK_EQ(replaced_mid_lookup(OP_CALL, "job", 1), 0);
}

/* ---- TETHER_ONCE replaced from inside its one call ---- */

typedef struct once_swap {
  tether_registry *r;
  tctx fresh;
  int rc_replace;
  _Atomic int calls;
  _Atomic int why;
} once_swap;

static int once_replaces_itself(void *ctx, void *arg) {
  (void)arg;
  once_swap *s = ctx;
  atomic_fetch_add(&s->calls, 1);
  tether_reg_options o = {.flags = TETHER_REPLACE};
  s->rc_replace = tether_register(s->r, "job", tctx_fn, &s->fresh, tctx_free, &o, NULL);
  return 0;
}

static void once_removed(void *ctx, tether_removal why) {
  once_swap *s = ctx;
  atomic_store(&s->why, (int)why + 1);
}

TEST(faults_once_handler_replacing_its_own_name) {
  fixture fx;
  CHECK_EQ(fixture_open(&fx, TETHER_MAP), 0);
  once_swap s = {0};
  s.r = fx.r;
  tether_reg_options once = {.flags = TETHER_ONCE, .on_remove = once_removed};
  CHECK_EQ(tether_register(fx.r, "job", once_replaces_itself, &s, NULL, &once, NULL), 0);
  CHECK_EQ(tether_emit(fx.r, "job", NULL), 1);
  CHECK_EQ(s.rc_replace, 0); /* the name's entry was already claimed by its call */
  CHECK_EQ(tether_emit(fx.r, "job", NULL), 1);
  CHECK_EQ(tether_emit(fx.r, "job", NULL), 1);
  CHECK_EQ(atomic_load(&s.calls), 1);
  CHECK_EQ(atomic_load(&s.fresh.calls), 2);
  CHECK_EQ(tether_barrier(fx.r), 0);
  /* Removed by its one call, not by the replacement, which found it claimed. */
  CHECK_EQ(atomic_load(&s.why), TETHER_REMOVED_ONCE + 1);
  tether_stats st;
  CHECK_EQ(tether_stats_get(fx.r, &st), 0);
  CHECK_EQ(st.live, 1);
  CHECK_EQ(st.replaced_total, 0);
  CHECK_EQ(st.destructors_run_total, 1);
  CHECK_EQ(fixture_close(&fx), 0);
  CHECK_EQ(atomic_load(&s.fresh.freed), 1);
}

/* ---- a sweep of more than one batch ---- */

TEST(faults_sweep_removes_more_than_one_batch) {
  enum { N = 300 }; /* the sweep claims 128 at a time */
  fixture fx;
  CHECK_EQ(fixture_open(&fx, TETHER_BUS), 0);
  tctx c = {0}, keep = {0};
  tether_reg_options ttl = {.ttl_ms = 10};
  for (int i = 0; i < N; i++) CHECK_EQ(tether_register(fx.r, "ev", tctx_fn, &c, tctx_free, &ttl, NULL), 0);
  CHECK_EQ(tether_register(fx.r, "ev", tctx_fn, &keep, tctx_free, NULL, NULL), 0);
  atomic_fetch_add(&fx.now, 20);
  CHECK_EQ(tether_sweep(fx.r), N);
  CHECK_EQ(tether_barrier(fx.r), 0);
  CHECK_EQ(atomic_load(&c.freed), N);
  tether_stats st;
  CHECK_EQ(tether_stats_get(fx.r, &st), 0);
  CHECK_EQ(st.live, 1);
  CHECK_EQ(st.expired_total, N);
  CHECK_EQ(tether_emit(fx.r, "ev", NULL), 1);
  CHECK_EQ(atomic_load(&c.calls), 0);
  CHECK_EQ(fixture_close(&fx), 0);
}

/* ---- refs and zombies released out of order ---- */

TEST(faults_refs_released_in_any_order) {
  fixture fx;
  CHECK_EQ(fixture_open(&fx, TETHER_MAP), 0);
  tctx c[3] = {{0}};
  tether_id id[3];
  tether_ref *ref[3];
  const char *names[3] = {"a", "b", "c"};
  for (int i = 0; i < 3; i++) {
    CHECK_EQ(tether_register(fx.r, names[i], tctx_fn, &c[i], tctx_free, NULL, &id[i]), 0);
    CHECK_EQ(tether_acquire(fx.r, id[i], &ref[i]), 0);
  }
  /* The middle one of the registry's list of refs first. */
  tether_ref_release(ref[1]);
  CHECK_EQ(tether_ref_call(ref[0], NULL, NULL), 0);
  CHECK_EQ(tether_ref_call(ref[2], NULL, NULL), 0);
  CHECK_EQ(atomic_load(&c[0].calls) + atomic_load(&c[2].calls), 2);
  /* Zombies: removed, grace period over, still pinned. */
  for (int i = 0; i < 3; i++) CHECK_EQ(tether_unregister(fx.r, id[i]), 0);
  tether__reclaim_now(fx.r); /* c[1] is destroyed; c[0] and c[2] become zombies */
  CHECK_EQ(atomic_load(&c[1].freed), 1);
  pthread_mutex_lock(&fx.r->mu);
  int zombies = 0;
  for (tether__entry *z = fx.r->zombies; z != NULL; z = tether__zombie_next(z)) zombies++;
  pthread_mutex_unlock(&fx.r->mu);
  CHECK_EQ(zombies, 2);
  /* The older zombie is not the head of the list: released first, it is
   * unlinked from the middle and destroyed by this release. */
  tether_ref_release(ref[0]);
  CHECK_EQ(atomic_load(&c[0].freed), 1);
  CHECK_EQ(atomic_load(&c[2].freed), 0);
  tether_ref_release(ref[2]);
  CHECK_EQ(atomic_load(&c[2].freed), 1);
  tether_stats st;
  CHECK_EQ(tether_stats_get(fx.r, &st), 0);
  CHECK_EQ(st.destructors_pending, 0);
  CHECK_EQ(st.destructors_run_total, 3);
  CHECK_EQ(fixture_close(&fx), 0);
}

/* ---- what the leak reports say ---- */

/* A report stream in memory. */
typedef struct memout {
  char *text;
  size_t len;
  FILE *f;
} memout;

static int memout_open(memout *m) {
  m->text = NULL;
  m->len = 0;
  m->f = open_memstream(&m->text, &m->len);
  return m->f != NULL ? 0 : -1;
}

static void memout_close(memout *m) {
  if (m->f) fclose(m->f);
  free(m->text);
}

/* Whether the stream holds WHAT so far. */
static int holds(memout *m, const char *what) {
  fflush(m->f);
  return m->text != NULL && strstr(m->text, what) != NULL;
}

TEST(faults_held_report_names_refs_and_topics_of_unknown_site) {
  memout report;
  CHECK_EQ(memout_open(&report), 0);
  fixture fx;
  tether_options o = {.mode = TETHER_MAP, .leak_report = report.f};
  CHECK_EQ(fixture_open_with(&fx, &o), 0);
  tether_id id = 0;
  CHECK_EQ(tether_register(fx.r, "a", nop_fn, NULL, NULL, NULL, &id), 0);
  tether_ref *ref = NULL;
  tether_topic *t = NULL;
  /* The functions, not the macros: no call site is known. */
  CHECK_EQ((tether_acquire)(fx.r, id, &ref), 0);
  CHECK_EQ((tether_topic_get)(fx.r, "t", &t), 0);
  CHECK_EQ(tether_registry_free(fx.r), TETHER_EBUSY);
  char want[128];
  snprintf(want, sizeof want, "  ref of \"a\" (id %llu), taken at an unknown site (use the _at function or its macro)\n",
           (unsigned long long)id);
  CHECK(holds(&report, "tether: registry busy: 1 ref and 1 topic still held:\n"));
  CHECK(holds(&report, want));
  CHECK(holds(&report, "  topic \"t\", taken at an unknown site (use the _at function or its macro)\n"));
  tether_ref_release(ref);
  tether_topic_release(t);
  CHECK_EQ(fixture_close(&fx), 0);
  memout_close(&report);
}

TEST(faults_leak_report_out_of_memory_says_so) {
  memout report;
  CHECK_EQ(memout_open(&report), 0);
  fixture fx;
  tether_options o = {.mode = TETHER_BUS, .leak_report = report.f};
  CHECK_EQ(fixture_open_with(&fx, &o), 0);
  tctx c = {0};
  CHECK_EQ(tether_register(fx.r, "ev", tctx_fn, &c, tctx_free, NULL, NULL), 0);
  /* Every allocation from here on fails: the report cannot take its snapshot,
   * yet the registry is freed whole and the survivor destroyed. */
  fx.alloc.fail_after = 1;
  test_alloc_fail_nth(&fx.alloc, 1);
  CHECK_EQ(tether_registry_free(fx.r), 1);
  fx.r = NULL;
  CHECK(holds(&report, "tether: leak report failed: out of memory\n"));
  CHECK(atomic_load(&fx.alloc.failures) > 0);
  CHECK_EQ(atomic_load(&c.freed), 1);
  CHECK_EQ(atomic_load(&fx.alloc.live_blocks), 0);
  memout_close(&report);
}

TEST(faults_leak_report_sites_on_the_same_line_of_two_files) {
  memout report;
  CHECK_EQ(memout_open(&report), 0);
  fixture fx;
  CHECK_EQ(fixture_open(&fx, TETHER_BUS), 0);
  /* Same line, same function, other files: two sites. Equal in count and bytes,
   * they are listed in the order of their first registration. */
  tether_site two = {"two.c", 7, "f"}, one = {"one.c", 7, "f"};
  tether_reg_options sized = {.ctx_size = 16};
  CHECK_EQ(tether_register_at(fx.r, two, "ev", nop_fn, NULL, NULL, &sized, NULL), 0);
  CHECK_EQ(tether_register_at(fx.r, one, "ev", nop_fn, NULL, NULL, &sized, NULL), 0);
  CHECK_EQ(tether_register_at(fx.r, two, "ev", nop_fn, NULL, NULL, &sized, NULL), 0);
  CHECK_EQ(tether_register_at(fx.r, one, "ev", nop_fn, NULL, NULL, &sized, NULL), 0);
  CHECK_EQ(tether_leak_report(fx.r, report.f), 4);
  CHECK(holds(&report, "4 registrations still live, 64 bytes of context retained, from 2 sites:"));
  const char *at_two = strstr(report.text, "       2           32  two.c:7 in f()");
  const char *at_one = strstr(report.text, "       2           32  one.c:7 in f()");
  CHECK(at_two != NULL && at_one != NULL);
  CHECK(at_two < at_one);
  CHECK_EQ(fixture_close(&fx), 0);
  memout_close(&report);
}

/* ---- realloc failing ---- */

TEST(faults_owner_that_cannot_note_the_registry) {
  fixture fx;
  CHECK_EQ(fixture_open(&fx, TETHER_MAP), 0);
  tether_owner *o = NULL;
  CHECK_EQ(tether_owner_new(&o), 0);
  tether_reg_options ro = {.owner = o};
  tctx c = {0};
  CHECK_EQ(tether_emit(fx.r, "x", NULL), 0); /* this thread's record exists */
  tether_stats before, after;
  CHECK_EQ(tether_stats_get(fx.r, &before), 0);
  uint64_t blocks = atomic_load(&fx.alloc.live_blocks);
  /* The owner's list of registries is the one thing grown with realloc. */
  wrap_fail_realloc(1);
  int rc = tether_register(fx.r, "x", tctx_fn, &c, tctx_free, &ro, NULL);
  wrap_fail_realloc(0);
  CHECK_EQ(rc, TETHER_ENOMEM);
  CHECK_EQ(tether_stats_get(fx.r, &after), 0);
  CHECK(memcmp(&before, &after, sizeof before) == 0);
  CHECK_EQ(atomic_load(&fx.alloc.live_blocks), blocks);
  CHECK_EQ(tether_emit(fx.r, "x", NULL), 0);
  CHECK_EQ(atomic_load(&c.freed), 0); /* on failure ctx still belongs to the caller */
  CHECK_EQ(tether_register(fx.r, "x", tctx_fn, &c, tctx_free, &ro, NULL), 0);
  tether_owner_free(o); /* removes its registration */
  CHECK_EQ(tether_barrier(fx.r), 0);
  CHECK_EQ(atomic_load(&c.freed), 1);
  CHECK_EQ(fixture_close(&fx), 0);
}

typedef struct fresh_thread {
  tether_registry *r;
  int rc_failed, rc_again;
} fresh_thread;

static void *emit_with_realloc_failing(void *arg) {
  fresh_thread *f = arg;
  /* A new thread's map of registries to records is grown with realloc. */
  wrap_fail_realloc(1);
  f->rc_failed = tether_emit(f->r, "ev", NULL);
  wrap_fail_realloc(0);
  f->rc_again = tether_emit(f->r, "ev", NULL);
  return NULL;
}

TEST(faults_thread_whose_map_cannot_grow) {
  fixture fx;
  CHECK_EQ(fixture_open(&fx, TETHER_BUS), 0);
  tctx c = {0};
  CHECK_EQ(tether_register(fx.r, "ev", tctx_fn, &c, tctx_free, NULL, NULL), 0);
  fresh_thread f = {fx.r, 0, 0};
  pthread_t t;
  CHECK_EQ(pthread_create(&t, NULL, emit_with_realloc_failing, &f), 0);
  CHECK_EQ(pthread_join(t, NULL), 0);
  CHECK_EQ(f.rc_failed, TETHER_ENOMEM);
  CHECK_EQ(f.rc_again, 1);
  CHECK_EQ(atomic_load(&c.calls), 1);
  CHECK_EQ(fixture_close(&fx), 0);
}

/* A new thread whose first record cannot be allocated, and that exits without
 * another call: its map of registries (grown before the record was asked for)
 * was never freed, since only a thread with a record has the thread-exit key
 * that frees it (found by fuzz-api's corpus under LeakSanitizer; this test
 * fails there and under valgrind). */
static void *emit_with_record_failing(void *arg) {
  fixture *fx = arg;
  test_alloc_fail_nth(&fx->alloc, 1);
  intptr_t rc = tether_emit(fx->r, "ev", NULL);
  test_alloc_fail_nth(&fx->alloc, 0);
  return (void *)rc;
}

TEST(faults_thread_whose_record_cannot_be_allocated) {
  fixture fx;
  CHECK_EQ(fixture_open(&fx, TETHER_BUS), 0);
  tctx c = {0};
  CHECK_EQ(tether_register(fx.r, "ev", tctx_fn, &c, tctx_free, NULL, NULL), 0);
  for (int i = 0; i < 3; i++) {
    pthread_t t;
    void *rc = NULL;
    CHECK_EQ(pthread_create(&t, NULL, emit_with_record_failing, &fx), 0);
    CHECK_EQ(pthread_join(t, &rc), 0);
    CHECK_EQ((intptr_t)rc, TETHER_ENOMEM);
  }
  CHECK_EQ(atomic_load(&c.calls), 0);
  CHECK_EQ(tether_emit(fx.r, "ev", NULL), 1);
  CHECK_EQ(fixture_close(&fx), 0);
}

/* ---- threads that outlive their registries ---- */

enum { OUTLIVE_REGS = 5 };

typedef struct outliver {
  fixture fx[OUTLIVE_REGS];
  tctx c[OUTLIVE_REGS];
  _Atomic int step; /* 1: attached to the first four; 2: two of them freed; 3: on the fifth; 4: exit */
  int rc_fifth;
} outliver;

static void wait_step(_Atomic int *step, int want) {
  while (atomic_load(step) < want) sleep_ms(1);
}

static void *outliving_thread(void *arg) {
  outliver *o = arg;
  for (int i = 0; i < 4; i++) tether_emit(o->fx[i].r, "ev", NULL); /* its map is full (4) */
  atomic_store(&o->step, 1);
  wait_step(&o->step, 2);
  /* Two of its registries are gone: attaching to a fifth prunes them. */
  o->rc_fifth = tether_emit(o->fx[4].r, "ev", NULL);
  atomic_store(&o->step, 3);
  wait_step(&o->step, 4);
  return NULL; /* exits with a freed registry in its map too */
}

static size_t records_of(tether_registry *r) {
  size_t n = 0;
  for (tether__rec *c = atomic_load(&r->recs); c != NULL; c = c->next) n++;
  return n;
}

static void *emit_once(void *arg) {
  tether_emit(arg, "ev", NULL);
  return NULL;
}

TEST(faults_threads_outliving_their_registries) {
  static outliver o;
  memset(&o, 0, sizeof o);
  for (int i = 0; i < OUTLIVE_REGS; i++) {
    CHECK_EQ(fixture_open(&o.fx[i], TETHER_BUS), 0);
    CHECK_EQ(tether_register(o.fx[i].r, "ev", tctx_fn, &o.c[i], tctx_free, NULL, NULL), 0);
  }
  pthread_t t;
  CHECK_EQ(pthread_create(&t, NULL, outliving_thread, &o), 0);
  wait_step(&o.step, 1);
  CHECK_EQ(fixture_close(&o.fx[0]), 0);
  CHECK_EQ(fixture_close(&o.fx[1]), 0);
  atomic_store(&o.step, 2);
  wait_step(&o.step, 3);
  CHECK_EQ(o.rc_fifth, 1);
  CHECK_EQ(atomic_load(&o.c[4].calls), 1);
  CHECK_EQ(fixture_close(&o.fx[2]), 0);
  size_t recs = records_of(o.fx[3].r);
  atomic_store(&o.step, 4);
  CHECK_EQ(pthread_join(t, NULL), 0);
  /* Its record of a live registry was released at exit: a new thread reuses it. */
  CHECK_EQ(pthread_create(&t, NULL, emit_once, o.fx[3].r), 0);
  CHECK_EQ(pthread_join(t, NULL), 0);
  CHECK_EQ(records_of(o.fx[3].r), recs);
  CHECK_EQ(atomic_load(&o.c[3].calls), 2);
  CHECK_EQ(fixture_close(&o.fx[3]), 0);
  CHECK_EQ(fixture_close(&o.fx[4]), 0);
}

/* ---- a destructor that ends the background thread ---- */

static _Atomic int g_bg_exits;

static void destructor_ends_bg(void *ctx) {
  (void)ctx;
  atomic_fetch_add(&g_bg_exits, 1);
  pthread_exit(NULL);
}

/* Nobody waits: the background thread runs the destructor, which ends it, and a
 * new background thread takes over the registry and the rest of its work. */
static int scenario_bg_thread_ended(void *arg) {
  (void)arg;
  static fixture fx;
  EXPECT(fixture_open(&fx, TETHER_BUS) == 0);
  tctx good = {0}, later = {0};
  tether_id bad = 0, gid = 0, lid = 0;
  EXPECT(tether_register(fx.r, "ev", nop_fn, NULL, destructor_ends_bg, NULL, &bad) == 0);
  EXPECT(tether_register(fx.r, "ev", tctx_fn, &good, tctx_free, NULL, &gid) == 0);
  EXPECT(tether_unregister(fx.r, bad) == 0);
  EXPECT(tether_unregister(fx.r, gid) == 0);
  for (int i = 0; i < 5000 && atomic_load(&good.freed) == 0; i++) sleep_ms(1);
  EXPECT(atomic_load(&g_bg_exits) == 1);
  EXPECT(atomic_load(&good.freed) == 1);
  EXPECT(tether_register(fx.r, "ev", tctx_fn, &later, tctx_free, NULL, &lid) == 0);
  EXPECT(tether_unregister(fx.r, lid) == 0);
  for (int i = 0; i < 5000 && atomic_load(&later.freed) == 0; i++) sleep_ms(1);
  EXPECT(atomic_load(&later.freed) == 1);
  tether_stats st;
  EXPECT(tether_stats_get(fx.r, &st) == 0);
  EXPECT(st.destructors_pending == 0 && st.destructors_run_total == 3);
  EXPECT(fixture_close(&fx) == 0);
  return 0;
}

TEST(faults_background_thread_ended_by_a_destructor) {
  CHECK_CHILD(scenario_bg_thread_ended, NULL, 20);
}

/* ---- a fresh copy of the runner ---- */

/* Runs the runner on TESTS with ENV ("NAME=VALUE ...") in a new process; its
 * output goes to OUT (size N). Returns its wait status. */
static int run_fresh(const char *env, const char *tests, char *out, size_t n) {
  char path[] = "/tmp/tether-faults-XXXXXX";
  int fd = mkstemp(path);
  if (fd < 0) return -1;
  close(fd);
  char cmd[2048];
  snprintf(cmd, sizeof cmd, "%s TETHER_TEST_FRESH_PROCESS=1 '%s' %s >'%s' 2>&1", env, tt_argv0(), tests, path);
  int st = system(cmd);
  FILE *f = fopen(path, "r");
  size_t got = f ? fread(out, 1, n - 1, f) : 0;
  out[got] = '\0';
  if (f) fclose(f);
  unlink(path);
  return st;
}

#if !defined(TETHER_SANITIZE_THREAD)
/* Whether this kernel lets a process use membarrier(PRIVATE_EXPEDITED), asked the
 * way the library asks. */
static int kernel_has_membarrier(void) {
  long q = syscall(__NR_membarrier, MEMBARRIER_CMD_QUERY, 0, 0);
  return q > 0 && (q & MEMBARRIER_CMD_PRIVATE_EXPEDITED) &&
         syscall(__NR_membarrier, MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED, 0, 0) == 0;
}
#endif

TEST(faults_membarrier_use_follows_the_environment) {
  tether_registry *r;
  CHECK_EQ(tether_registry_new(&r, NULL), 0);
  const char *off = getenv("TETHER_NO_MEMBARRIER");
#if defined(TETHER_SANITIZE_THREAD)
  CHECK_EQ(tether__use_membarrier, 0); /* TSan builds always fence */
  (void)off;
#else
  if (off != NULL && off[0] != '\0')
    CHECK_EQ(tether__use_membarrier, 0);
  else
    CHECK_EQ(tether__use_membarrier, kernel_has_membarrier());
#endif
  CHECK_EQ(tether_registry_free(r), 0);
}

/* The fence fallback: readers fence on entry and exit, writers fence instead of
 * membarrier. The dispatch, reclamation and thread tests pass on it too. */
TEST(faults_fence_fallback_passes_the_concurrent_tests) {
  if (getenv("TETHER_TEST_FRESH_PROCESS") != NULL) return; /* the copy runs the list below */
  static const char tests[] =
      "faults_membarrier_use_follows_the_environment threads_stress_randomized "
      "threads_last_thread_out_runs_pending_destructor edges_last_thread_out_reclaims_removals_of_two_epochs "
      "edges_replace_is_atomic_for_readers reentry_";
  char out[16384];
  int st = run_fresh("TETHER_NO_MEMBARRIER=1", tests, out, sizeof out);
  if (!(WIFEXITED(st) && WEXITSTATUS(st) == 0)) printf("%s", out);
  CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
  CHECK(strstr(out, "ok   faults_membarrier_use_follows_the_environment") != NULL);
  CHECK(strstr(out, "ok   threads_stress_randomized") != NULL);
  CHECK(strstr(out, " passed, 0 failed\n") != NULL);
}

/* pthread_key_create failing at the first registry of a process (all keys
 * taken): tether_registry_new says TETHER_ENOMEM, nothing crashes, and once a
 * key is free again registries can be made (the set-up is retried). */
TEST(faults_first_registry_without_a_pthread_key) {
  static const char *const self = "faults_first_registry_without_a_pthread_key";
  if (getenv("TETHER_TEST_FRESH_PROCESS") == NULL) {
    char out[4096];
    int st = run_fresh("", self, out, sizeof out);
    if (!(WIFEXITED(st) && WEXITSTATUS(st) == 0)) printf("%s", out);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    CHECK(strstr(out, "1 passed, 0 failed") != NULL);
    return;
  }
  pthread_key_t key, last = 0;
  int taken = 0;
  while (pthread_key_create(&key, NULL) == 0) {
    taken++;
    last = key;
  }
  CHECK(taken > 0);
  tether_registry *r = NULL;
  CHECK_EQ(tether_registry_new(&r, NULL), TETHER_ENOMEM);
  CHECK(r == NULL);
  CHECK_EQ(pthread_key_delete(last), 0);
  CHECK_EQ(tether_registry_new(&r, NULL), 0);
  CHECK_EQ(tether_register(r, "x", nop_fn, NULL, NULL, NULL, NULL), 0);
  CHECK_EQ(tether_emit(r, "x", NULL), 1);
  CHECK_EQ(tether_registry_free(r), 1);
}

/* ---- TETHER_PROFILE that cannot be written ---- */

typedef struct bad_dir {
  char dir[300];      /* TETHER_PROFILE */
  int mode;           /* what goes wrong */
  char stderr_text[20000];
} bad_dir;

enum { BAD_LONG_PATH, BAD_TARGET_IS_DIR, BAD_FILE_TOO_LARGE, BAD_OUT_OF_MEMORY };

static int dir_entries(const char *dir, const char *suffix) {
  DIR *d = opendir(dir);
  if (d == NULL) return -1;
  int n = 0;
  for (struct dirent *e; (e = readdir(d)) != NULL;) {
    size_t l = strlen(e->d_name), s = strlen(suffix);
    if (e->d_name[0] != '.' && l >= s && strcmp(e->d_name + l - s, suffix) == 0) n++;
  }
  closedir(d);
  return n;
}

/* Reads what is in the pipe so far (non-blocking) and appends it to OUT. */
static void drain_pipe(int fd, char *out, size_t n) {
  size_t have = strlen(out);
  ssize_t got;
  while (have + 1 < n && (got = read(fd, out + have, n - 1 - have)) > 0) have += (size_t)got;
  out[have] = '\0';
}

static int bad_profile_dir(bad_dir *b, int pipe_out);

static int occurrences(const char *s, const char *what) {
  int n = 0;
  for (const char *at = s; (at = strstr(at, what)) != NULL; at++) n++;
  return n;
}

/* The library's stderr goes to a pipe while the registry lives; then what it
 * wrote is checked. */
static int scenario_bad_profile_dir(void *arg) {
  bad_dir *b = arg;
  int p[2];
  EXPECT(pipe(p) == 0);
  EXPECT(fcntl(p[0], F_SETFL, O_NONBLOCK) == 0);
  int saved = dup(2);
  EXPECT(saved >= 0 && dup2(p[1], 2) == 2);
  int rc = bad_profile_dir(b, p[0]);
  dup2(saved, 2);
  size_t n = strlen(b->stderr_text);
  if (rc != 0) return rc;
  EXPECT(b->mode == BAD_LONG_PATH || dir_entries(b->dir, ".tmp") == 0);
  const char *why[] = {": path too long; no more profiles of registry ", ": Is a directory; no more profiles of registry ",
                       ": File too large; no more profiles of registry ", NULL};
  if (why[b->mode] == NULL) {
    /* Out of memory is not the directory's fault: no message, and it went on. */
    EXPECT(n == 0);
    return 0;
  }
  if (strstr(b->stderr_text, why[b->mode]) == NULL)
    fprintf(stderr, "    stderr of the library: ...%s\n", b->stderr_text + (n > 300 ? n - 300 : 0));
  EXPECT(strstr(b->stderr_text, why[b->mode]) != NULL);
  EXPECT(strncmp(b->stderr_text, "tether: TETHER_PROFILE=", 23) == 0);
  EXPECT(occurrences(b->stderr_text, "no more profiles") == 1); /* gave up at once */
  return 0;
}

static int bad_profile_dir(bad_dir *b, int pipe_out) {
  int p[2] = {pipe_out, -1};
  char long_dir[4200];
  if (b->mode == BAD_LONG_PATH) {
    memset(long_dir, 'x', sizeof long_dir - 1);
    long_dir[0] = '/';
    long_dir[sizeof long_dir - 1] = '\0';
    setenv("TETHER_PROFILE", long_dir, 1);
  } else {
    setenv("TETHER_PROFILE", b->dir, 1);
  }
  setenv("TETHER_PROFILE_INTERVAL_MS", b->mode == BAD_TARGET_IS_DIR ? "300" : "5", 1);
  struct rlimit fsize;
  EXPECT(getrlimit(RLIMIT_FSIZE, &fsize) == 0);
  if (b->mode == BAD_FILE_TOO_LARGE) {
    /* Files of at most 16 bytes: the profile's write fails (EFBIG). */
    signal(SIGXFSZ, SIG_IGN);
    struct rlimit small = {16, fsize.rlim_max};
    EXPECT(setrlimit(RLIMIT_FSIZE, &small) == 0);
  }
  fixture fx;
  EXPECT(fixture_open(&fx, TETHER_BUS) == 0);
  EXPECT(tether_register(fx.r, "ev", nop_fn, NULL, NULL, NULL, NULL) == 0);
  if (b->mode == BAD_TARGET_IS_DIR) {
    /* Where the first profile goes, a directory: the rename fails. */
    char target[600];
    snprintf(target, sizeof target, "%s/tether-%ld-%llu-000000.pb", b->dir, (long)getpid(),
             (unsigned long long)fx.r->serial);
    EXPECT(mkdir(target, 0700) == 0);
  }
  if (b->mode == BAD_OUT_OF_MEMORY) {
    /* Every allocation fails for a while: no profile, no message, no file left;
     * the next tries, once memory is back, write one. */
    fx.alloc.fail_after = 1;
    test_alloc_fail_nth(&fx.alloc, 1);
    for (int i = 0; i < 5000 && atomic_load(&fx.alloc.failures) < 3; i++) sleep_ms(1);
    EXPECT(atomic_load(&fx.alloc.failures) >= 3);
    test_alloc_fail_nth(&fx.alloc, 0); /* disarmed: fail_after is read only while armed */
    for (int i = 0; i < 5000 && dir_entries(b->dir, ".pb") < 1; i++) sleep_ms(1);
    EXPECT(dir_entries(b->dir, ".pb") >= 1);
  } else {
    for (int i = 0; i < 5000 && strstr(b->stderr_text, "no more profiles") == NULL; i++) {
      sleep_ms(1);
      drain_pipe(p[0], b->stderr_text, sizeof b->stderr_text);
    }
    sleep_ms(30); /* several more intervals: no second try, no second line */
  }
  EXPECT(fixture_close(&fx) == 0);
  EXPECT(setrlimit(RLIMIT_FSIZE, &fsize) == 0);
  drain_pipe(p[0], b->stderr_text, sizeof b->stderr_text);
  return 0;
}

static void remove_tree(const char *dir) {
  char cmd[400];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", dir);
}

TEST(faults_profile_dir_that_cannot_be_written) {
  for (int mode = BAD_LONG_PATH; mode <= BAD_OUT_OF_MEMORY; mode++) {
    static bad_dir b;
    memset(&b, 0, sizeof b);
    b.mode = mode;
    snprintf(b.dir, sizeof b.dir, "/tmp/tether-faults-XXXXXX");
    CHECK(mkdtemp(b.dir) != NULL);
    int st = run_in_child(scenario_bad_profile_dir, &b, 30);
    remove_tree(b.dir);
    if (!(WIFEXITED(st) && WEXITSTATUS(st) == 0)) tt_fail(__FILE__, __LINE__, "bad profile dir, case %d", mode);
    if (tt_failed()) return;
  }
}

/* ---- call counts of a thread that never entered the registry ---- */

typedef struct ref_caller {
  tether_ref *ref;
  int rc;
} ref_caller;

static void *call_through_ref(void *arg) {
  ref_caller *c = arg;
  c->rc = tether_ref_call(c->ref, NULL, NULL);
  return NULL;
}

static int calls_of(const tether_info *in, void *arg) {
  *(uint64_t *)arg = in->calls;
  return 0;
}

TEST(faults_calls_through_a_ref_on_a_thread_without_a_record) {
  fixture fx;
  tether_options o = {.mode = TETHER_MAP, .track_calls = 1};
  CHECK_EQ(fixture_open_with(&fx, &o), 0);
  tctx c = {0};
  tether_id id = 0;
  CHECK_EQ(tether_register(fx.r, "x", tctx_fn, &c, tctx_free, NULL, &id), 0);
  ref_caller rc = {NULL, -1};
  CHECK_EQ(tether_acquire(fx.r, id, &rc.ref), 0);
  /* A ref call needs no read section, so the new threads have no record to
   * count in: their calls go to the registration's shared overflow count. */
  for (int i = 0; i < 2; i++) {
    pthread_t t;
    CHECK_EQ(pthread_create(&t, NULL, call_through_ref, &rc), 0);
    CHECK_EQ(pthread_join(t, NULL), 0);
    CHECK_EQ(rc.rc, 0);
  }
  CHECK_EQ(tether_emit(fx.r, "x", NULL), 1);
  uint64_t calls = 0;
  CHECK_EQ(tether_walk(fx.r, calls_of, &calls), 1);
  CHECK_EQ(calls, 3);
  CHECK_EQ(atomic_load(&c.calls), 3);
  tether_ref_release(rc.ref);
  CHECK_EQ(fixture_close(&fx), 0);
}

/* ---- tether_acquire from a destructor while the registry is freed ---- */

typedef struct late_acquire {
  fixture fx;
  tether_id other;
  _Atomic int ran;
  int rc;
} late_acquire;

static late_acquire *g_late_acquire;

static void destructor_acquires(void *ctx) {
  (void)ctx;
  late_acquire *l = g_late_acquire;
  if (atomic_fetch_add(&l->ran, 1) != 0) return;
  tether_ref *ref = NULL;
  l->rc = tether_acquire(l->fx.r, l->other, &ref);
  if (ref != NULL) tether_ref_release(ref);
}

TEST(faults_acquire_while_the_registry_is_freed) {
  static late_acquire l;
  memset(&l, 0, sizeof l);
  g_late_acquire = &l;
  CHECK_EQ(fixture_open(&l.fx, TETHER_BUS), 0);
  tether_id first = 0;
  CHECK_EQ(tether_register(l.fx.r, "ev", nop_fn, NULL, destructor_acquires, NULL, &first), 0);
  CHECK_EQ(tether_register(l.fx.r, "ev", nop_fn, NULL, destructor_acquires, NULL, &l.other), 0);
  l.rc = 1;
  CHECK_EQ(tether_registry_free(l.fx.r), 2);
  CHECK_EQ(atomic_load(&l.ran), 2);
  CHECK_EQ(l.rc, TETHER_EBUSY);
  CHECK_EQ(atomic_load(&l.fx.alloc.live_blocks), 0);
}

/* ---- unregister_sync finishes a hand-off itself ---- */

/* The background thread is kept busy in a destructor of another registry, so a
 * TETHER_ONCE call's hand-off waits for whoever comes first: the thread in
 * tether_unregister_sync, which must finish it rather than wait for it. */
typedef struct stuck_bg {
  fixture busy, fx;
  _Atomic int entered, release, in_call;
  tctx job;
} stuck_bg;

static stuck_bg *g_stuck;

static void destructor_holds_bg(void *ctx) {
  (void)ctx;
  atomic_store(&g_stuck->entered, 1);
  while (!atomic_load(&g_stuck->release)) sleep_ms(1);
}

/* The one call returns once the other thread waits in tether_unregister_sync. */
static int once_waits_for_sync(tctx *self, void *arg) {
  (void)self;
  (void)arg;
  stuck_bg *s = g_stuck;
  atomic_store(&s->in_call, 1);
  for (;;) {
    pthread_mutex_lock(&s->fx.r->mu);
    int waiting = s->fx.r->sync_waiters > 0;
    pthread_mutex_unlock(&s->fx.r->mu);
    if (waiting) return 0;
    sleep_ms(1);
  }
}

static void *emit_job(void *arg) {
  stuck_bg *s = arg;
  tether_emit(s->fx.r, "job", NULL);
  return NULL;
}

static int scenario_sync_finishes_the_hand_off(void *arg) {
  (void)arg;
  static stuck_bg s;
  g_stuck = &s;
  EXPECT(fixture_open(&s.busy, TETHER_BUS) == 0);
  EXPECT(fixture_open(&s.fx, TETHER_MAP) == 0);
  tether_id hold = 0, job = 0;
  EXPECT(tether_register(s.busy.r, "hold", nop_fn, NULL, destructor_holds_bg, NULL, &hold) == 0);
  EXPECT(tether_unregister(s.busy.r, hold) == 0);
  for (int i = 0; i < 5000 && !atomic_load(&s.entered); i++) sleep_ms(1);
  EXPECT(atomic_load(&s.entered));
  s.job.hook = once_waits_for_sync;
  tether_reg_options once = {.flags = TETHER_ONCE};
  EXPECT(tether_register(s.fx.r, "job", tctx_fn, &s.job, tctx_free, &once, &job) == 0);
  pthread_t t;
  EXPECT(pthread_create(&t, NULL, emit_job, &s) == 0);
  while (!atomic_load(&s.in_call)) sleep_ms(1);
  int rc = tether_unregister_sync(s.fx.r, job);
  int freed = atomic_load(&s.job.freed);
  atomic_store(&s.release, 1);
  EXPECT(pthread_join(t, NULL) == 0);
  EXPECT(rc == TETHER_ENOENT); /* its one call removed it, not this call */
  EXPECT(freed == 1);           /* and it is gone once the call returned */
  EXPECT(atomic_load(&s.job.calls) == 1);
  EXPECT(fixture_close(&s.fx) == 0);
  EXPECT(fixture_close(&s.busy) == 0);
  return 0;
}

TEST(faults_unregister_sync_finishes_a_hand_off_itself) {
  CHECK_CHILD(scenario_sync_finishes_the_hand_off, NULL, 20);
}

/* ---- a profile whose registering stack was in an unloaded plugin ---- */

typedef int (*plugin_load_fn)(tether_registry *r,
                              int (*reg)(tether_registry *, tether_site, const char *, tether_fn, void *,
                                         tether_free_fn, const tether_reg_options *, tether_id *));

static int scenario_profile_after_dlclose(void *arg) {
  fixture fx;
  tether_options o = {.mode = TETHER_MAP, .capture_stack = 8};
  EXPECT(fixture_open_with(&fx, &o) == 0);
  void *h = dlopen(arg, RTLD_NOW | RTLD_LOCAL);
  if (h == NULL) fprintf(stderr, "    dlopen: %s\n", dlerror());
  EXPECT(h != NULL);
  plugin_load_fn load = (plugin_load_fn)(uintptr_t)dlsym(h, "plugin_load_deep");
  EXPECT(load != NULL && load(fx.r, tether_register_at) == 0);
  EXPECT(dlclose(h) == 0); /* the return address into plugin_load_deep is in no mapping now */
  char *buf = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&buf, &len);
  EXPECT(f != NULL);
  int rc = tether_profile_write(fx.r, f, 0);
  fclose(f);
  free(buf);
  EXPECT(rc == 1);
  EXPECT(len > 0);
  EXPECT(fixture_close(&fx) == 0);
  return 0;
}

TEST(faults_profile_of_stacks_into_an_unloaded_plugin) {
  char path[4096];
  CHECK_EQ(test_plugin_path(path, sizeof path), 0);
  CHECK_CHILD(scenario_profile_after_dlclose, path, 10);
}

/* ---- another thread inside a registration's critical section ---- */

/* An allocator that runs HOOK once, on the first allocation of at least MIN_SIZE
 * bytes once armed. Registration interns a new site last, under the registry
 * mutex, after it has looked the name up and reserved its call-count slots: a
 * site with a long file name makes that allocation the one, and the hook plays
 * another thread that runs exactly then. */
typedef struct hook_alloc {
  test_alloc base;
  tether_allocator iface;
  size_t min_size;
  void (*hook)(void *arg);
  void *arg;
  _Atomic int armed;
} hook_alloc;

static void *hooked_alloc(void *ud, size_t size) {
  hook_alloc *h = ud;
  if (size >= h->min_size && atomic_exchange(&h->armed, 0)) h->hook(h->arg);
  return h->base.iface.alloc(h->base.iface.ud, size);
}

static void hooked_free(void *ud, void *p, size_t size) {
  hook_alloc *h = ud;
  h->base.iface.free(h->base.iface.ud, p, size);
}

static int hooked_open(hook_alloc *h, tether_registry **r, const tether_options *opts) {
  memset(h, 0, sizeof *h);
  test_alloc_init(&h->base);
  h->iface = (tether_allocator){hooked_alloc, hooked_free, h};
  h->min_size = 4000;
  tether_options o = *opts;
  o.allocator = &h->iface;
  return tether_registry_new(r, &o);
}

static char g_long_file[4200];

static tether_site long_site(void) {
  memset(g_long_file, 'f', sizeof g_long_file - 1);
  g_long_file[sizeof g_long_file - 1] = '\0';
  return (tether_site){g_long_file, 1, "f"};
}

typedef struct late_thread {
  tether_registry *r;
  pthread_t t;
  _Atomic int attached, go;
  int rc_before, rc_after;
} late_thread;

static void *late_emitter(void *arg) {
  late_thread *l = arg;
  l->rc_before = tether_emit(l->r, "x", NULL); /* attaches this thread's record */
  atomic_store(&l->attached, 1);
  while (!atomic_load(&l->go)) sleep_ms(1);
  l->rc_after = tether_emit(l->r, "x", NULL);
  return NULL;
}

static void start_late_thread(void *arg) {
  late_thread *l = arg;
  if (pthread_create(&l->t, NULL, late_emitter, l) != 0) abort();
  while (!atomic_load(&l->attached)) sleep_ms(1);
}

/* A thread record created after the registration reserved count slots in every
 * record (there were none) and before it published the entry: that thread's
 * calls go to the entry's overflow count, and none is lost. */
TEST(faults_calls_of_a_thread_that_attached_during_the_registration) {
  hook_alloc h;
  tether_registry *r;
  tether_options o = {.mode = TETHER_MAP, .track_calls = 1};
  CHECK_EQ(hooked_open(&h, &r, &o), 0);
  late_thread l = {0};
  l.r = r;
  h.hook = start_late_thread;
  h.arg = &l;
  atomic_store(&h.armed, 1);
  tctx c = {0};
  CHECK_EQ(tether_register_at(r, long_site(), "x", tctx_fn, &c, tctx_free, NULL, NULL), 0);
  CHECK_EQ(atomic_load(&h.armed), 0); /* the thread attached inside the window */
  atomic_store(&l.go, 1);
  CHECK_EQ(pthread_join(l.t, NULL), 0);
  CHECK_EQ(l.rc_before, 0);
  CHECK_EQ(l.rc_after, 1);
  CHECK_EQ(tether_emit(r, "x", NULL), 1);
  uint64_t calls = 0;
  CHECK_EQ(tether_walk(r, calls_of, &calls), 1);
  CHECK_EQ(calls, 2);
  CHECK_EQ(atomic_load(&c.calls), 2);
  CHECK_EQ(tether_registry_free(r), 1);
  CHECK_EQ(atomic_load(&h.base.live_blocks), 0);
}

static _Atomic int g_why; /* the last removal's reason + 1 */

static void record_why(void *ctx, tether_removal why) {
  (void)ctx;
  atomic_store(&g_why, (int)why + 1);
}

static void *emit_job_once(void *arg) {
  tether_emit(arg, "job", NULL);
  return NULL;
}

static void claim_by_call(void *arg) {
  pthread_t t;
  if (pthread_create(&t, NULL, emit_job_once, arg) != 0 || pthread_join(t, NULL) != 0) abort();
}

/* A TETHER_REPLACE that found the name's TETHER_ONCE entry live, which another
 * thread then claimed by calling it before the replacement could: the new
 * handler is published all the same, the old one was called once and is removed
 * by its call, not counted as replaced. */
TEST(faults_replace_losing_the_claim_to_a_once_call) {
  hook_alloc h;
  tether_registry *r;
  tether_options o = {.mode = TETHER_MAP};
  CHECK_EQ(hooked_open(&h, &r, &o), 0);
  tctx old = {0};
  atomic_store(&g_why, 0);
  tether_reg_options once = {.flags = TETHER_ONCE, .on_remove = record_why};
  CHECK_EQ(tether_register(r, "job", tctx_fn, &old, tctx_free, &once, NULL), 0);
  h.hook = claim_by_call;
  h.arg = r;
  atomic_store(&h.armed, 1);
  tctx fresh = {0};
  tether_reg_options rep = {.flags = TETHER_REPLACE};
  CHECK_EQ(tether_register_at(r, long_site(), "job", tctx_fn, &fresh, tctx_free, &rep, NULL), 0);
  CHECK_EQ(atomic_load(&h.armed), 0);
  CHECK_EQ(atomic_load(&old.calls), 1);
  CHECK_EQ(tether_emit(r, "job", NULL), 1);
  CHECK_EQ(atomic_load(&fresh.calls), 1);
  CHECK_EQ(atomic_load(&old.calls), 1);
  CHECK_EQ(tether_barrier(r), 0);
  CHECK_EQ(atomic_load(&old.freed), 1);
  CHECK_EQ(atomic_load(&g_why), TETHER_REMOVED_ONCE + 1);
  tether_stats st;
  CHECK_EQ(tether_stats_get(r, &st), 0);
  CHECK_EQ(st.live, 1);
  CHECK_EQ(st.replaced_total, 0);
  CHECK_EQ(tether_registry_free(r), 1);
  CHECK_EQ(atomic_load(&fresh.freed), 1);
  CHECK_EQ(atomic_load(&h.base.live_blocks), 0);
}
