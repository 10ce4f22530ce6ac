/* The guarantees at their edges: owner free racing registry free, threads that
 * leave a handler by pthread_exit or cancellation, touch racing an expiry check,
 * destructors that call back into a registry being freed, atomic replacement,
 * TTL sums that overflow, registration sites of unloaded plugins, registry free
 * from a walk, waits while refs are held, what dispatch may do, and scoped
 * owners out of memory.
 *
 * Scenarios that crash or hang when the guarantee does not hold run in a child
 * process (run_in_child), so a regression fails one test instead of the runner.
 * Windows are opened with the wrapped pthread and libc functions of wrap.c and
 * with user clocks, never with the library's internal symbols. */
#include <dlfcn.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common.h"
#include "wrap.h"

/* Waits up to MS milliseconds for *FLAG to become non-zero. */
static int wait_flag(_Atomic int *flag, int ms) {
  for (int i = 0; i < ms * 10 && !atomic_load(flag); i++) {
    struct timespec ts = {0, 100000};
    nanosleep(&ts, NULL);
  }
  return atomic_load(flag);
}

/* ---- owner free racing registry free ---- */

/* An allocator that gives every block its own mapping and unmaps it on free, so
 * that any touch of freed memory faults, in every build. */
typedef struct map_header {
  size_t len;
  size_t pad_;
} map_header;

static void *map_alloc(void *ud, size_t size) {
  (void)ud;
  size_t len = sizeof(map_header) + size;
  void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) return NULL;
  ((map_header *)p)->len = len;
  return (map_header *)p + 1;
}

static void map_free(void *ud, void *p, size_t size) {
  (void)ud;
  (void)size;
  map_header *h = (map_header *)p - 1;
  munmap(h, h->len);
}

typedef struct owner_race {
  tether_registry *r;
  tether_owner *o;
  _Atomic int in_window, registry_freed;
} owner_race;

/* Runs on the owner-freeing thread right after its first unlock (the registry's
 * mutex, once its entry is removed): holds it there until the registry is gone. */
static void owner_race_window(void *arg) {
  owner_race *x = arg;
  atomic_store(&x->in_window, 1);
  wait_flag(&x->registry_freed, 2000);
}

static void *owner_race_freer(void *arg) {
  owner_race *x = arg;
  wrap_after_next_unlock(owner_race_window, x);
  tether_owner_free(x->o);
  return NULL;
}

static int scenario_owner_free_races_registry_free(void *arg) {
  (void)arg;
  static const tether_allocator mapped = {map_alloc, map_free, NULL};
  owner_race x = {0};
  tether_options opts = {.allocator = &mapped};
  EXPECT(tether_registry_new(&x.r, &opts) == 0);
  EXPECT(tether_owner_new(&x.o) == 0);
  tether_reg_options ro = {.owner = x.o};
  EXPECT(tether_register(x.r, "owned", nop_fn, NULL, NULL, &ro, NULL) == 0);
  pthread_t t;
  EXPECT(pthread_create(&t, NULL, owner_race_freer, &x) == 0);
  EXPECT(wait_flag(&x.in_window, 2000));
  /* The owner's only entry is gone: the registry may be freed now, while the
   * other thread is still inside tether_owner_free. */
  EXPECT(tether_registry_free(x.r) == 0);
  atomic_store(&x.registry_freed, 1);
  pthread_join(t, NULL);
  return 0;
}

TEST(edges_owner_free_racing_registry_free) {
  CHECK_CHILD(scenario_owner_free_races_registry_free, NULL, 10);
}

/* ---- threads that leave a handler abnormally ---- */

typedef struct leaver {
  fixture fx;
  tctx victim;    /* the registration whose handler does not return */
  tctx bystander; /* an unrelated registration */
  _Atomic int inside;
  int how; /* LEAVE_* */
  tether_id vid;
  tether_topic *topic; /* taken by the leaving thread, released by the test */
  tether_ref *ref;
} leaver;

enum {
  LEAVE_EXIT,
  LEAVE_CANCEL,
  LEAVE_EXIT_NESTED,
  LEAVE_EXIT_ONCE,
  LEAVE_EXIT_REF,
  LEAVE_EXIT_TOPIC
};

/* tctx_fn counts the call as running until it returns; this one never does. */
static void call_ends(void *arg) {
  atomic_fetch_sub(&((tctx *)arg)->in_call, 1);
}

static int leaving_hook(tctx *c, void *arg) {
  leaver *l = c->user;
  (void)arg;
  if (l->how == LEAVE_EXIT_NESTED && atomic_load(&c->calls) == 1) {
    pthread_cleanup_push(call_ends, c);
    tether_emit(l->fx.r, "victim", NULL); /* the second call leaves, two sections deep */
    pthread_cleanup_pop(0);
    return 0;
  }
  atomic_store(&l->inside, 1);
  pthread_cleanup_push(call_ends, c);
  if (l->how == LEAVE_CANCEL)
    for (;;) pause(); /* a cancellation point */
  pthread_exit(NULL);
  pthread_cleanup_pop(0);
  return 0;
}

static void *leaving_thread(void *arg) {
  leaver *l = arg;
  switch (l->how) {
    case LEAVE_EXIT_REF:
      if (tether_acquire(l->fx.r, l->vid, &l->ref) != 0) return NULL;
      tether_ref_call(l->ref, NULL, NULL);
      break;
    case LEAVE_EXIT_TOPIC:
      if (tether_topic_get(l->fx.r, "victim", &l->topic) != 0) return NULL;
      tether_topic_emit(l->topic, NULL);
      break;
    default:
      tether_emit(l->fx.r, "victim", NULL);
      break;
  }
  return NULL; /* not reached */
}

static int scenario_leave_handler(void *arg) {
  leaver *l = arg;
  EXPECT(fixture_open(&l->fx, TETHER_MAP) == 0);
  l->victim.hook = leaving_hook;
  l->victim.user = l;
  tether_reg_options once = {.flags = TETHER_ONCE};
  tether_id bid = 0;
  EXPECT(tether_register(l->fx.r, "victim", tctx_fn, &l->victim, tctx_free,
                         l->how == LEAVE_EXIT_ONCE ? &once : NULL, &l->vid) == 0);
  tether_id vid = l->vid;
  EXPECT(tether_register(l->fx.r, "bystander", tctx_fn, &l->bystander, tctx_free, NULL, &bid) == 0);
  pthread_t t;
  EXPECT(pthread_create(&t, NULL, leaving_thread, l) == 0);
  EXPECT(wait_flag(&l->inside, 5000));
  if (l->how == LEAVE_CANCEL) EXPECT(pthread_cancel(t) == 0);
  void *res = NULL;
  EXPECT(pthread_join(t, &res) == 0);
  EXPECT(res == (l->how == LEAVE_CANCEL ? PTHREAD_CANCELED : NULL));
  tether_topic_release(l->topic); /* what the dead thread held is released by another */
  tether_ref_release(l->ref);
  /* The registry goes on as if the handler had returned: a barrier (from a new
   * thread, which may reuse the dead thread's record, and from this one) works,
   * removals complete and the registry frees clean. */
  EXPECT(tether_barrier(l->fx.r) == 0);
  EXPECT(tether_emit(l->fx.r, "bystander", NULL) == 1);
  EXPECT(tether_unregister_sync(l->fx.r, bid) == 0);
  EXPECT(atomic_load(&l->bystander.freed) == 1);
  if (l->how == LEAVE_EXIT_ONCE) {
    /* The one call happened: the registration is consumed. */
    EXPECT(tether_emit(l->fx.r, "victim", NULL) == 0);
    EXPECT(tether_barrier(l->fx.r) == 0);
    EXPECT(atomic_load(&l->victim.freed) == 1);
  } else {
    EXPECT(tether_unregister_sync(l->fx.r, vid) == 0);
    EXPECT(atomic_load(&l->victim.freed) == 1);
  }
  tether_stats st;
  EXPECT(tether_stats_get(l->fx.r, &st) == 0);
  EXPECT(st.live == 0 && st.destructors_pending == 0);
  EXPECT(tether_registry_free(l->fx.r) == 0);
  l->fx.r = NULL;
  EXPECT(atomic_load(&l->fx.alloc.live_blocks) == 0);
  EXPECT(atomic_load(&l->victim.freed_during_call) == 0);
  return 0;
}

static void *barrier_thread(void *arg) {
  leaver *l = arg;
  return (void *)(intptr_t)tether_barrier(l->fx.r);
}

/* As scenario_leave_handler, then a fresh thread (reusing the dead one's record)
 * must be able to wait too. */
static int scenario_leave_then_new_thread(void *arg) {
  leaver *l = arg;
  EXPECT(fixture_open(&l->fx, TETHER_MAP) == 0);
  l->victim.hook = leaving_hook;
  l->victim.user = l;
  tether_id vid = 0;
  EXPECT(tether_register(l->fx.r, "victim", tctx_fn, &l->victim, tctx_free, NULL, &vid) == 0);
  pthread_t t;
  EXPECT(pthread_create(&t, NULL, leaving_thread, l) == 0);
  EXPECT(pthread_join(t, NULL) == 0);
  EXPECT(tether_unregister(l->fx.r, vid) == 0);
  void *res = NULL;
  EXPECT(pthread_create(&t, NULL, barrier_thread, l) == 0);
  EXPECT(pthread_join(t, &res) == 0);
  EXPECT((intptr_t)res == 0);
  EXPECT(atomic_load(&l->victim.freed) == 1);
  EXPECT(tether_registry_free(l->fx.r) == 0);
  l->fx.r = NULL;
  EXPECT(atomic_load(&l->fx.alloc.live_blocks) == 0);
  return 0;
}

TEST(edges_pthread_exit_in_handler) {
  leaver l = {.how = LEAVE_EXIT};
  CHECK_CHILD(scenario_leave_handler, &l, 20);
  leaver l2 = {.how = LEAVE_EXIT};
  CHECK_CHILD(scenario_leave_then_new_thread, &l2, 20);
}

TEST(edges_pthread_cancel_in_handler) {
  leaver l = {.how = LEAVE_CANCEL};
  CHECK_CHILD(scenario_leave_handler, &l, 20);
}

TEST(edges_pthread_exit_in_nested_handler) {
  leaver l = {.how = LEAVE_EXIT_NESTED};
  CHECK_CHILD(scenario_leave_handler, &l, 20);
}

TEST(edges_pthread_exit_in_once_handler) {
  leaver l = {.how = LEAVE_EXIT_ONCE};
  CHECK_CHILD(scenario_leave_handler, &l, 20);
}

TEST(edges_pthread_exit_in_ref_call) {
  leaver l = {.how = LEAVE_EXIT_REF};
  CHECK_CHILD(scenario_leave_handler, &l, 20);
}

TEST(edges_pthread_exit_in_topic_handler) {
  leaver l = {.how = LEAVE_EXIT_TOPIC};
  CHECK_CHILD(scenario_leave_handler, &l, 20);
}

/* ---- touch racing an expiry check ---- */

/* A clock that, the first time it is read after being armed, runs tether_touch
 * first (at the current time) and then moves time past the old deadline: exactly
 * the window between a reader's load of the deadline and its reading of the
 * clock. */
typedef struct touch_clock {
  _Atomic uint64_t now;
  tether_registry *r;
  tether_id id;
  _Atomic int armed;
  int touch_rc;
  uint64_t after;
} touch_clock;

static _Thread_local int t_in_clock;

static uint64_t touch_clock_read(void *ud) {
  touch_clock *c = ud;
  if (!t_in_clock && atomic_exchange(&c->armed, 0)) {
    t_in_clock = 1;
    c->touch_rc = tether_touch(c->r, c->id, 10000);
    t_in_clock = 0;
    atomic_store(&c->now, c->after);
  }
  return atomic_load(&c->now);
}

TEST(edges_touch_wins_against_an_expiry_check_with_the_old_deadline) {
  test_alloc a;
  test_alloc_init(&a);
  touch_clock clk = {.now = 1000, .after = 1150};
  tether_options o = {.allocator = &a.iface, .clock_ms = touch_clock_read, .clock_ud = &clk};
  CHECK_EQ(tether_registry_new(&clk.r, &o), 0);
  tctx c = {0};
  tether_reg_options ro = {.ttl_ms = 100}; /* expires at 1100 */
  CHECK_EQ(tether_register(clk.r, "lease", tctx_fn, &c, tctx_free, &ro, &clk.id), 0);
  atomic_store(&clk.armed, 1);
  /* The emit reads the deadline (1100), then the clock: the touch lands in
   * between (at 1000, new deadline 11000), and the clock says 1150. */
  int n = tether_emit(clk.r, "lease", NULL);
  CHECK_EQ(clk.touch_rc, 0);
  CHECK_EQ(n, 1); /* a touch that returned 0 keeps it alive until 11000 */
  CHECK_EQ(tether_emit(clk.r, "lease", NULL), 1);
  CHECK_EQ(tether_sweep(clk.r), 0);
  tether_stats st;
  CHECK_EQ(tether_stats_get(clk.r, &st), 0);
  CHECK_EQ(st.live, 1);
  CHECK_EQ(st.expired_total, 0);
  atomic_store(&clk.now, 11000);
  CHECK_EQ(tether_emit(clk.r, "lease", NULL), 0); /* the new deadline holds, too */
  CHECK_EQ(tether_registry_free(clk.r), 0);
  CHECK_EQ(atomic_load(&c.freed), 1);
  CHECK_EQ(atomic_load(&a.live_blocks), 0);
}

/* The same race through tether_call and a ref. */
TEST(edges_touch_wins_against_call_and_ref_call) {
  for (int how = 0; how < 2; how++) {
    test_alloc a;
    test_alloc_init(&a);
    touch_clock clk = {.now = 1000, .after = 1150};
    tether_options o = {.allocator = &a.iface, .clock_ms = touch_clock_read, .clock_ud = &clk};
    CHECK_EQ(tether_registry_new(&clk.r, &o), 0);
    tctx c = {.ret = 7};
    tether_reg_options ro = {.ttl_ms = 100};
    CHECK_EQ(tether_register(clk.r, "lease", tctx_fn, &c, tctx_free, &ro, &clk.id), 0);
    tether_ref *ref = NULL;
    if (how == 1) CHECK_EQ(tether_acquire(clk.r, clk.id, &ref), 0);
    atomic_store(&clk.armed, 1);
    int result = 0;
    int rc =
        how == 0 ? tether_call(clk.r, "lease", NULL, &result) : tether_ref_call(ref, NULL, &result);
    CHECK_EQ(clk.touch_rc, 0);
    CHECK_EQ(rc, 0);
    CHECK_EQ(result, 7);
    tether_ref_release(ref);
    CHECK_EQ(tether_registry_free(clk.r), 1); /* still registered: a survivor */
    CHECK_EQ(atomic_load(&c.freed), 1);
    CHECK_EQ(atomic_load(&a.live_blocks), 0);
  }
}

/* ---- a destructor that calls into the registry being freed ---- */

typedef struct late {
  fixture fx;
  int rc_register, rc_topic;
  _Atomic int ran;
} late;

static late *g_late;

static void late_destructor(void *ctx) {
  (void)ctx;
  late *l = g_late;
  atomic_fetch_add(&l->ran, 1);
  l->rc_register = tether_register(l->fx.r, "late", nop_fn, NULL, NULL, NULL, NULL);
  tether_topic *t = NULL;
  l->rc_topic = tether_topic_get(l->fx.r, "late-topic", &t);
  tether_topic_release(t);
}

static int scenario_destructor_registers_during_free(void *arg) {
  late *l = arg;
  g_late = l;
  EXPECT(fixture_open(&l->fx, TETHER_BUS) == 0);
  EXPECT(tether_register(l->fx.r, "x", nop_fn, l, late_destructor, NULL, NULL) == 0);
  EXPECT(tether_registry_free(l->fx.r) == 1); /* one survivor, destroyed */
  EXPECT(atomic_load(&l->ran) == 1);
  EXPECT(l->rc_register == TETHER_EBUSY);
  EXPECT(l->rc_topic == TETHER_EBUSY);
  EXPECT(atomic_load(&l->fx.alloc.live_blocks) == 0);
  return 0;
}

TEST(edges_destructor_registering_into_registry_being_freed) {
  late l = {0};
  CHECK_CHILD(scenario_destructor_registers_during_free, &l, 10);
}

/* ---- MAP + TETHER_REPLACE is atomic for readers ---- */

typedef struct replacer {
  tether_registry *r;
  int rounds;
  _Atomic int done;
  tctx *ctx;
} replacer;

static void *replace_loop(void *arg) {
  replacer *p = arg;
  tether_reg_options ro = {.flags = TETHER_REPLACE};
  for (int i = 0; i < p->rounds; i++)
    if (tether_register(p->r, "hot", tctx_fn, &p->ctx[i & 1], NULL, &ro, NULL) != 0) break;
  atomic_store(&p->done, 1);
  return NULL;
}

static void replace_while_reading(int use_topic, long *misses, long *reads) {
  fixture fx;
  *misses = -1;
  if (fixture_open(&fx, TETHER_MAP) != 0) return;
  tctx c[2] = {{0}, {0}};
  tether_register(fx.r, "hot", tctx_fn, &c[0], NULL, NULL, NULL);
  tether_topic *t = NULL;
  if (use_topic) tether_topic_get(fx.r, "hot", &t);
  replacer p = {.r = fx.r, .rounds = 200000 / test_scale_div(), .ctx = c};
  pthread_t th;
  pthread_create(&th, NULL, replace_loop, &p);
  long miss = 0, n = 0;
  while (!atomic_load(&p.done)) {
    int result = -1;
    int k = use_topic ? tether_topic_emit(t, NULL)
            : (n & 1) ? tether_emit(fx.r, "hot", NULL)
                      : (tether_call(fx.r, "hot", NULL, &result) == 0);
    if (k != 1) miss++;
    n++;
  }
  pthread_join(th, NULL);
  tether_topic_release(t);
  *misses = miss;
  *reads = n;
  fixture_close(&fx);
}

TEST(edges_replace_is_atomic_for_readers) {
  long misses, reads;
  replace_while_reading(0, &misses, &reads);
  printf("    %ld reads during the replaces, %ld found no handler\n", reads, misses);
  CHECK_EQ(misses, 0);
  replace_while_reading(1, &misses, &reads);
  printf("    topic: %ld reads during the replaces, %ld found no handler\n", reads, misses);
  CHECK_EQ(misses, 0);
}

/* ---- TTL sums that overflow ---- */

TEST(edges_ttl_sums_saturate) {
  fixture fx;
  CHECK_EQ(fixture_open(&fx, TETHER_MAP), 0);
  tctx forever = {0}, wraps = {0};
  tether_reg_options ro = {.ttl_ms = UINT64_MAX}; /* "forever" */
  tether_id id1 = 0, id2 = 0;
  CHECK_EQ(tether_register(fx.r, "forever", tctx_fn, &forever, tctx_free, &ro, &id1), 0);
  CHECK_EQ(tether_emit(fx.r, "forever", NULL), 1);
  /* now (1000) + ttl wraps to exactly 0 without saturation. */
  ro.ttl_ms = UINT64_MAX - 999;
  CHECK_EQ(tether_register(fx.r, "wraps", tctx_fn, &wraps, tctx_free, &ro, &id2), 0);
  CHECK_EQ(tether_emit(fx.r, "wraps", NULL), 1);
  CHECK_EQ(tether_touch(fx.r, id1, UINT64_MAX), 0);
  CHECK_EQ(tether_touch(fx.r, id2, UINT64_MAX - 999), 0);
  atomic_store(&fx.now, UINT64_MAX / 2);
  CHECK_EQ(tether_sweep(fx.r), 0);
  CHECK_EQ(tether_emit(fx.r, "forever", NULL), 1);
  CHECK_EQ(tether_emit(fx.r, "wraps", NULL), 1);
  CHECK_EQ(tether_unregister(fx.r, id2), 0);
  CHECK_EQ(fixture_close(&fx), 0); /* ttl accounting balanced (asserted at free) */
  CHECK_EQ(atomic_load(&forever.freed), 1);
  CHECK_EQ(atomic_load(&wraps.freed), 1);
}

/* ---- the leak report after a plugin that registered was unloaded ---- */

typedef int (*plugin_load_fn)(tether_registry *r,
                              int (*reg)(tether_registry *, tether_site, const char *, tether_fn,
                                         void *, tether_free_fn, const tether_reg_options *,
                                         tether_id *));

static int walk_site(const tether_info *in, void *arg) {
  char *out = arg;
  snprintf(out, 512, "%s:%d %s", in->site.file, in->site.line, in->site.func);
  return 0;
}

static int scenario_plugin_unloaded(void *arg) {
  const char *path = arg;
  fixture fx;
  EXPECT(fixture_open(&fx, TETHER_MAP) == 0);
  void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
  if (h == NULL) fprintf(stderr, "    dlopen: %s\n", dlerror());
  EXPECT(h != NULL);
  plugin_load_fn load = (plugin_load_fn)(uintptr_t)dlsym(h, "plugin_load");
  EXPECT(load != NULL);
  EXPECT(load(fx.r, tether_register_at) == 0);
  EXPECT(dlclose(h) == 0); /* its strings are unmapped now */
  char site[512] = "";
  EXPECT(tether_walk(fx.r, walk_site, site) == 1);
  EXPECT(strstr(site, "tests/plugin.c:") != NULL && strstr(site, " plugin_load") != NULL);
  char *buf = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&buf, &len);
  EXPECT(f != NULL);
  EXPECT(tether_leak_report(fx.r, f) == 1);
  fclose(f);
  int ok = strstr(buf, "tests/plugin.c:") != NULL && strstr(buf, "in plugin_load()") != NULL;
  free(buf);
  EXPECT(ok);
  EXPECT(fixture_close(&fx) == 0);
  return 0;
}

TEST(edges_leak_report_after_dlclose_of_the_registering_plugin) {
  char path[4096];
  CHECK_EQ(test_plugin_path(path, sizeof path), 0);
  CHECK_CHILD(scenario_plugin_unloaded, path, 10);
}

/* Sites whose strings are freed (and scribbled over) after registering. */
TEST(edges_sites_are_copied_once_per_site) {
  fixture fx;
  CHECK_EQ(fixture_open(&fx, TETHER_MAP), 0);
  char *file = strdup("lib/plugin-a.c"), *func = strdup("plugin_a_init");
  tether_site site = {file, 42, func};
  uint64_t before = atomic_load(&fx.alloc.live_blocks);
  for (int i = 0; i < 100; i++) {
    char name[16];
    snprintf(name, sizeof name, "ev%d", i);
    CHECK_EQ(tether_register_at(fx.r, site, name, nop_fn, NULL, NULL, NULL, NULL), 0);
  }
  CHECK_EQ(tether_barrier(fx.r), 0); /* the tables the growth retired are freed */
  uint64_t per_100 = atomic_load(&fx.alloc.live_blocks) - before;
  memset(file, 'X', strlen(file));
  memset(func, 'Y', strlen(func));
  free(file);
  free(func);
  char *buf = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&buf, &len);
  CHECK(f != NULL);
  CHECK_EQ(tether_leak_report(fx.r, f), 100);
  fclose(f);
  int ok = strstr(buf, "lib/plugin-a.c:42 in plugin_a_init()") != NULL;
  free(buf);
  CHECK(ok);
  /* One copy per site: 100 registrations cost 100 entries plus a few blocks
   * (name table, id index, site table), not 100 string copies. */
  printf("    100 registrations from one site: %llu blocks\n", (unsigned long long)per_100);
  CHECK(per_100 <= 100 + 8);
  CHECK_EQ(fixture_close(&fx), 0);
}

/* ---- registry free from a walk visitor ---- */

typedef struct walk_free {
  tether_registry *r;
  int rc;
} walk_free;

static int visitor_frees(const tether_info *in, void *arg) {
  (void)in;
  walk_free *w = arg;
  w->rc = tether_registry_free(w->r);
  return 0;
}

static int scenario_free_from_walk(void *arg) {
  (void)arg;
  fixture fx;
  EXPECT(fixture_open(&fx, TETHER_MAP) == 0);
  EXPECT(tether_register(fx.r, "a", nop_fn, NULL, NULL, NULL, NULL) == 0);
  EXPECT(tether_register(fx.r, "b", nop_fn, NULL, NULL, NULL, NULL) == 0);
  walk_free w = {fx.r, 1};
  EXPECT(tether_walk(fx.r, visitor_frees, &w) == 2);
  EXPECT(w.rc == TETHER_EBUSY);
  EXPECT(fixture_close(&fx) == 0);
  return 0;
}

TEST(edges_registry_free_from_walk_visitor_is_ebusy) {
  CHECK_CHILD(scenario_free_from_walk, NULL, 10);
}

/* ---- waits while this thread holds a ref ---- */

static int scenario_wait_holding_a_ref(void *arg) {
  (void)arg;
  fixture fx;
  EXPECT(fixture_open(&fx, TETHER_MAP) == 0);
  tctx a = {0}, b = {0};
  tether_id ida = 0, idb = 0;
  EXPECT(tether_register(fx.r, "a", tctx_fn, &a, tctx_free, NULL, &ida) == 0);
  EXPECT(tether_register(fx.r, "b", tctx_fn, &b, tctx_free, NULL, &idb) == 0);
  tether_ref *ref = NULL;
  EXPECT(tether_acquire(fx.r, ida, &ref) == 0);
  /* Its own ref: refused before anything changes. */
  EXPECT(tether_unregister_sync(fx.r, ida) == TETHER_EDEADLK);
  EXPECT(tether_emit(fx.r, "a", NULL) == 1);
  EXPECT(tether_unregister(fx.r, ida) == 0);
  /* A ref of a removed registration: both waits would wait for this thread. */
  EXPECT(tether_barrier(fx.r) == TETHER_EDEADLK);
  EXPECT(tether_unregister_sync(fx.r, idb) == TETHER_EDEADLK);
  EXPECT(tether_emit(fx.r, "b", NULL) == 1); /* changed nothing */
  tether_ref_release(ref);
  EXPECT(tether_barrier(fx.r) == 0);
  EXPECT(atomic_load(&a.freed) == 1);
  EXPECT(tether_unregister_sync(fx.r, idb) == 0);
  EXPECT(atomic_load(&b.freed) == 1);
  EXPECT(fixture_close(&fx) == 0);
  return 0;
}

TEST(edges_waits_while_holding_a_ref_are_edeadlk) {
  CHECK_CHILD(scenario_wait_holding_a_ref, NULL, 10);
}

/* ---- unregister_sync on an id another thread is removing ---- */

typedef struct remover {
  tether_registry *r;
  tether_id id;
  _Atomic int in_window, waited;
} remover;

/* After the remover's first unlock (it has claimed the registration, not yet
 * unlinked it): stay there a while, as a preempted thread would. */
static void remover_window(void *arg) {
  remover *m = arg;
  atomic_store(&m->in_window, 1);
  sleep_ms(200);
  atomic_store(&m->waited, 1);
}

static void *remover_thread(void *arg) {
  remover *m = arg;
  wrap_after_next_unlock(remover_window, m);
  tether_unregister(m->r, m->id);
  return NULL;
}

TEST(edges_unregister_sync_waits_for_a_removal_in_progress) {
  fixture fx;
  CHECK_EQ(fixture_open(&fx, TETHER_MAP), 0);
  tctx c = {0};
  remover m = {.r = fx.r};
  CHECK_EQ(tether_register(fx.r, "plugin/hook", tctx_fn, &c, tctx_free, NULL, &m.id), 0);
  pthread_t t;
  CHECK_EQ(pthread_create(&t, NULL, remover_thread, &m), 0);
  CHECK(wait_flag(&m.in_window, 2000));
  int rc = tether_unregister_sync(fx.r, m.id);
  int freed = atomic_load(&c.freed);
  pthread_join(t, NULL);
  CHECK_EQ(rc, TETHER_ENOENT); /* this call did not remove it... */
  CHECK_EQ(freed, 1);          /* ...but returned only after its destructor ran */
  CHECK_EQ(fixture_close(&fx), 0);
}

/* ---- what dispatch may do: no lock, no destructor ---- */

typedef struct emit_probe {
  _Atomic int in_emit_thread_set;
  pthread_t emitter;
  _Atomic int in_emit;
  _Atomic int destructors_in_emit;
} emit_probe;

static emit_probe g_probe;

static void probe_destructor(void *ctx) {
  (void)ctx;
  if (atomic_load(&g_probe.in_emit) && pthread_equal(pthread_self(), g_probe.emitter))
    atomic_fetch_add(&g_probe.destructors_in_emit, 1);
}

typedef struct held {
  tether_registry *r;
  _Atomic int inside, open;
  uint64_t locks; /* mutex locks the reader's emit of "held" took */
} held;

static int held_fn(void *ctx, void *arg) {
  (void)arg;
  held *h = ctx;
  atomic_store(&h->inside, 1);
  while (!atomic_load(&h->open)) sleep_ms(1);
  return 0;
}

static void *held_reader(void *arg) {
  held *h = arg;
  tether_emit(h->r, "warm-up", NULL); /* the thread's first call allocates its record */
  wrap_locks_reset();
  tether_emit(h->r, "held", NULL);
  h->locks = wrap_locks_taken();
  return NULL;
}

TEST(edges_dispatch_takes_no_lock_for_once_and_expiry) {
  fixture fx;
  CHECK_EQ(fixture_open(&fx, TETHER_MAP), 0);
  memset(&g_probe, 0, sizeof g_probe);
  g_probe.emitter = pthread_self();
  tether_reg_options once = {.flags = TETHER_ONCE}, ttl = {.ttl_ms = 50};
  CHECK_EQ(tether_register(fx.r, "once", nop_fn, NULL, probe_destructor, &once, NULL), 0);
  CHECK_EQ(tether_register(fx.r, "lease", nop_fn, NULL, probe_destructor, &ttl, NULL), 0);
  /* 2 x TETHER's inline-reclaim threshold of unrelated removals, held in limbo by
   * a reader parked in a handler, then released: an emit must not run them. */
  held h = {.r = fx.r};
  CHECK_EQ(tether_register(fx.r, "held", held_fn, &h, NULL, NULL, NULL), 0);
  pthread_t t;
  CHECK_EQ(pthread_create(&t, NULL, held_reader, &h), 0);
  CHECK(wait_flag(&h.inside, 2000));
  for (int i = 0; i < 2048; i++) {
    tether_id id = 0;
    CHECK_EQ(tether_register(fx.r, "churn", nop_fn, NULL, probe_destructor, NULL, &id), 0);
    CHECK_EQ(tether_unregister(fx.r, id), 0);
  }
  atomic_store(&h.open, 1);
  pthread_join(t, NULL);
  CHECK_EQ(tether_emit(fx.r, "warm-up", NULL), 0); /* this thread's record exists now */
  atomic_store(&fx.now, 2000);                     /* "lease" has expired */
  wrap_locks_reset();
  atomic_store(&g_probe.in_emit, 1);
  int n_once = tether_emit(fx.r, "once", NULL);
  int n_lease = tether_emit(fx.r, "lease", NULL);
  atomic_store(&g_probe.in_emit, 0);
  uint64_t locks = wrap_locks_taken();
  CHECK_EQ(n_once, 1);
  CHECK_EQ(n_lease, 0);
  CHECK_EQ(locks, 0);
  CHECK_EQ(atomic_load(&g_probe.destructors_in_emit), 0);
  CHECK_EQ(tether_emit(fx.r, "once", NULL), 0);
  CHECK_EQ(tether_barrier(fx.r), 0);
  tether_stats st;
  CHECK_EQ(tether_stats_get(fx.r, &st), 0);
  CHECK_EQ(st.live, 1); /* "held" */
  CHECK_EQ(st.expired_total, 1);
  CHECK_EQ(st.destructors_pending, 0);
  CHECK_EQ(fixture_close(&fx), 0);
}

/* A reader whose exit answers a blocked epoch advance hands the work on
 * without a lock too. */
TEST(edges_dispatch_exit_with_help_takes_no_lock) {
  fixture fx;
  CHECK_EQ(fixture_open(&fx, TETHER_MAP), 0);
  held h = {.r = fx.r};
  tctx c = {0};
  CHECK_EQ(tether_register(fx.r, "held", held_fn, &h, NULL, NULL, NULL), 0);
  tether_id id = 0;
  CHECK_EQ(tether_register(fx.r, "gone", tctx_fn, &c, tctx_free, NULL, &id), 0);
  pthread_t t;
  CHECK_EQ(pthread_create(&t, NULL, held_reader, &h), 0);
  CHECK(wait_flag(&h.inside, 2000));
  CHECK_EQ(tether_unregister(fx.r, id), 0);
  sleep_ms(50); /* the background thread tries to reclaim, and asks the reader for help */
  CHECK_EQ(atomic_load(&c.freed), 0);
  atomic_store(&h.open, 1);
  pthread_join(t, NULL);
  CHECK_EQ(h.locks, 0);
  /* No further call from anyone: the destructor still runs. */
  for (int i = 0; i < 5000 && atomic_load(&c.freed) == 0; i++) sleep_ms(1);
  CHECK_EQ(atomic_load(&c.freed), 1);
  CHECK_EQ(fixture_close(&fx), 0);
}

/* ---- scoped owners out of memory ---- */

TEST(edges_scoped_owner_out_of_memory_cannot_be_missed) {
  fixture fx;
  CHECK_EQ(fixture_open(&fx, TETHER_MAP), 0);
  tctx c = {0};
  int rc;
  {
    wrap_fail_malloc(1);
    TETHER_SCOPED_OWNER(scope);
    wrap_fail_malloc(0);
    tether_reg_options ro = {.owner = scope};
    rc = tether_register(fx.r, "scoped", tctx_fn, &c, tctx_free, &ro, NULL);
  }
  CHECK_EQ(rc, TETHER_ENOMEM); /* refused: it would outlive its scope */
  CHECK_EQ(tether_emit(fx.r, "scoped", NULL), 0);
  CHECK_EQ(fixture_close(&fx), 0);
  CHECK_EQ(atomic_load(&c.freed), 0); /* never taken over */
}

/* ---- TETHER_LEAKCHECK=abort with a leak_report stream ---- */

static int scenario_leakcheck_abort_with_stream(void *arg) {
  (void)arg;
  setenv("TETHER_LEAKCHECK", "abort", 1);
  FILE *f = tmpfile();
  EXPECT(f != NULL);
  tether_options o = {.leak_report = f};
  tether_registry *r = NULL;
  EXPECT(tether_registry_new(&r, &o) == 0);
  EXPECT(tether_register(r, "forgotten", nop_fn, NULL, NULL, NULL, NULL) == 0);
  tether_registry_free(r);
  return 0; /* not reached: it must abort */
}

TEST(edges_leakcheck_abort_applies_with_a_leak_report_stream) {
  int st = run_in_child(scenario_leakcheck_abort_with_stream, NULL, 10);
  CHECK(WIFSIGNALED(st));
  CHECK_EQ(WTERMSIG(st), SIGABRT);
}

/* ---- a destructor that ends its thread ---- */

typedef struct exiting_dtor {
  fixture fx;
  tctx good[3];
  _Atomic int ran;
} exiting_dtor;

static exiting_dtor *g_exiting;

static void destructor_exits(void *ctx) {
  (void)ctx;
  atomic_fetch_add(&g_exiting->ran, 1);
  pthread_exit(NULL);
}

static void *barrier_waiter(void *arg) {
  exiting_dtor *x = arg;
  tether_barrier(x->fx.r); /* runs the batch here, unless the background thread is first */
  return NULL;
}

/* Whichever thread runs the batch ends inside a destructor: the rest of the
 * batch goes back to limbo, the registry stays whole, and (when it was the
 * background thread) a new background thread takes over. */
static int scenario_destructor_ends_its_thread(void *arg) {
  (void)arg;
  static exiting_dtor x;
  g_exiting = &x;
  EXPECT(fixture_open(&x.fx, TETHER_BUS) == 0);
  tether_id bad = 0, ids[3];
  EXPECT(tether_register(x.fx.r, "ev", nop_fn, NULL, destructor_exits, NULL, &bad) == 0);
  for (int i = 0; i < 3; i++)
    EXPECT(tether_register(x.fx.r, "ev", tctx_fn, &x.good[i], tctx_free, NULL, &ids[i]) == 0);
  EXPECT(tether_unregister(x.fx.r, bad) == 0);
  for (int i = 0; i < 3; i++) EXPECT(tether_unregister(x.fx.r, ids[i]) == 0);
  pthread_t t;
  EXPECT(pthread_create(&t, NULL, barrier_waiter, &x) == 0);
  EXPECT(pthread_join(t, NULL) == 0);
  EXPECT(tether_barrier(x.fx.r) == 0);
  EXPECT(atomic_load(&x.ran) == 1);
  for (int i = 0; i < 3; i++) EXPECT(atomic_load(&x.good[i].freed) == 1);
  tether_stats st;
  EXPECT(tether_stats_get(x.fx.r, &st) == 0);
  EXPECT(st.destructors_pending == 0);
  EXPECT(st.destructors_run_total == 4);
  /* The background thread still works: a removal nobody waits for is reclaimed. */
  tctx later = {0};
  tether_id lid = 0;
  EXPECT(tether_register(x.fx.r, "ev", tctx_fn, &later, tctx_free, NULL, &lid) == 0);
  EXPECT(tether_unregister(x.fx.r, lid) == 0);
  for (int i = 0; i < 5000 && atomic_load(&later.freed) == 0; i++) sleep_ms(1);
  EXPECT(atomic_load(&later.freed) == 1);
  EXPECT(fixture_close(&x.fx) == 0);
  return 0;
}

TEST(edges_destructor_that_ends_its_thread) {
  CHECK_CHILD(scenario_destructor_ends_its_thread, NULL, 20);
}

/* ---- guarantee 5 with removals at two epochs ---- */

/* A reader holds the epoch back while A is removed (the background thread
 * advances once and is blocked) and then B (one epoch later). Once the reader
 * leaves, with no further call from anyone, both destructors must run: a reclaim
 * that stopped advancing once the oldest object (A) was old enough left B behind
 * with the background thread disarmed. */
TEST(edges_last_thread_out_reclaims_removals_of_two_epochs) {
  fixture fx;
  CHECK_EQ(fixture_open(&fx, TETHER_MAP), 0);
  held h = {.r = fx.r};
  tctx a = {0}, b = {0};
  tether_id ida = 0, idb = 0;
  CHECK_EQ(tether_register(fx.r, "held", held_fn, &h, NULL, NULL, NULL), 0);
  CHECK_EQ(tether_register(fx.r, "a", tctx_fn, &a, tctx_free, NULL, &ida), 0);
  CHECK_EQ(tether_register(fx.r, "b", tctx_fn, &b, tctx_free, NULL, &idb), 0);
  pthread_t t;
  CHECK_EQ(pthread_create(&t, NULL, held_reader, &h), 0);
  CHECK(wait_flag(&h.inside, 2000));
  CHECK_EQ(tether_unregister(fx.r, ida), 0);
  sleep_ms(30); /* the background thread advances once, then the reader blocks it */
  CHECK_EQ(tether_unregister(fx.r, idb), 0);
  sleep_ms(30);
  CHECK_EQ(atomic_load(&a.freed) + atomic_load(&b.freed), 0);
  atomic_store(&h.open, 1);
  pthread_join(t, NULL);
  for (int i = 0; i < 3000 && atomic_load(&a.freed) + atomic_load(&b.freed) < 2; i++) sleep_ms(1);
  CHECK_EQ(atomic_load(&a.freed), 1);
  CHECK_EQ(atomic_load(&b.freed), 1);
  CHECK_EQ(fixture_close(&fx), 0);
}

/* ---- a thread cancelled while it waits in tether ---- */

typedef struct cancel_wait {
  fixture fx;
  remover m;
  _Atomic int waiting;
  int rc;
} cancel_wait;

static void long_remover_window(void *arg) {
  remover *m = arg;
  atomic_store(&m->in_window, 1);
  sleep_ms(300);
}

static void *long_remover(void *arg) {
  remover *m = arg;
  wrap_after_next_unlock(long_remover_window, m);
  tether_unregister(m->r, m->id);
  return NULL;
}

static void *sync_waiter(void *arg) {
  cancel_wait *w = arg;
  atomic_store(&w->waiting, 1);
  w->rc = tether_unregister_sync(w->fx.r, w->m.id); /* waits for the remover */
  pthread_testcancel();                             /* the deferred cancellation lands here */
  return NULL;
}

/* Cancelled inside the wait of unregister_sync (a condition variable, the
 * registry mutex held around it), a thread unwound with the mutex held: every
 * later call on the registry hung. The waits hold cancellation off instead. */
static int scenario_cancel_during_unregister_sync(void *arg) {
  cancel_wait *w = arg;
  EXPECT(fixture_open(&w->fx, TETHER_MAP) == 0);
  tctx c = {0};
  w->m.r = w->fx.r;
  EXPECT(tether_register(w->fx.r, "x", tctx_fn, &c, tctx_free, NULL, &w->m.id) == 0);
  pthread_t rem, waiter;
  EXPECT(pthread_create(&rem, NULL, long_remover, &w->m) == 0);
  EXPECT(wait_flag(&w->m.in_window, 2000));
  EXPECT(pthread_create(&waiter, NULL, sync_waiter, w) == 0);
  EXPECT(wait_flag(&w->waiting, 2000));
  sleep_ms(50); /* it is inside the wait now */
  EXPECT(pthread_cancel(waiter) == 0);
  void *res = NULL;
  EXPECT(pthread_join(waiter, &res) == 0);
  EXPECT(res == PTHREAD_CANCELED);
  EXPECT(w->rc == TETHER_ENOENT); /* the wait completed before the cancellation */
  pthread_join(rem, NULL);
  EXPECT(atomic_load(&c.freed) == 1);
  EXPECT(tether_register(w->fx.r, "y", nop_fn, NULL, NULL, NULL, NULL) == 0);
  EXPECT(tether_barrier(w->fx.r) == 0);
  EXPECT(fixture_close(&w->fx) == 0);
  return 0;
}

TEST(edges_cancel_while_waiting_in_unregister_sync) {
  cancel_wait w;
  memset(&w, 0, sizeof w);
  CHECK_CHILD(scenario_cancel_during_unregister_sync, &w, 10);
}
