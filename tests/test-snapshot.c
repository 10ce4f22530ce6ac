/* A snapshot (tether_walk, the leak report, the profile) counts the live
 * registrations, allocates, then copies them, all under the registry mutex; a
 * dispatch on another thread claims a TETHER_ONCE or expired registration
 * without that mutex, so it may do so in between. The copy then finds fewer:
 * the snapshot must list those it copied, not the count. The API fuzzer
 * (fuzz/fuzz-api.c, two threads) found tether_walk failing the assertion that
 * the two passes agree; without assertions the walk visited uninitialised
 * entries. Here the allocator of the snapshot opens the window: it lets another
 * thread claim a TETHER_ONCE registration before it returns. */
#include <pthread.h>
#include <sys/wait.h>

#include "common.h"
#include "wrap.h"

typedef struct window {
  test_alloc counting;
  tether_allocator iface;
  _Atomic int armed;    /* the next allocation opens the window */
  _Atomic int go, done; /* the other thread's emit: asked for, finished */
  tether_registry *r;
} window;

static void *window_alloc(void *ud, size_t size) {
  window *w = ud;
  if (atomic_exchange(&w->armed, 0)) {
    atomic_store(&w->go, 1);
    while (!atomic_load(&w->done)) sched_yield();
  }
  return w->counting.iface.alloc(w->counting.iface.ud, size);
}

static void window_free(void *ud, void *p, size_t size) {
  window *w = ud;
  w->counting.iface.free(w->counting.iface.ud, p, size);
}

static void *emit_once(void *arg) {
  window *w = arg;
  tether_count(w->r, "once"); /* this thread's record, before the window */
  while (!atomic_load(&w->go)) sched_yield();
  int n = tether_emit(w->r, "once", NULL);
  atomic_store(&w->done, n == 1 ? 1 : 2);
  return NULL;
}

typedef struct seen {
  int n;
  int other;
} seen;

static int visit(const tether_info *in, void *arg) {
  seen *s = arg;
  s->n++;
  if (in->name != NULL && strcmp(in->name, "other") == 0 && in->ctx_size == 7) s->other++;
  return 0;
}

static int walk_during_a_claim(void *arg) {
  (void)arg;
  window w;
  memset(&w, 0, sizeof w);
  test_alloc_init(&w.counting);
  w.iface = (tether_allocator){window_alloc, window_free, &w};
  tether_options o = {.allocator = &w.iface};
  EXPECT(tether_registry_new(&w.r, &o) == 0);
  tether_reg_options once = {.flags = TETHER_ONCE}, sized = {.ctx_size = 7};
  EXPECT(tether_register(w.r, "once", nop_fn, NULL, NULL, &once, NULL) == 0);
  EXPECT(tether_register(w.r, "other", nop_fn, NULL, NULL, &sized, NULL) == 0);
  pthread_t t;
  EXPECT(pthread_create(&t, NULL, emit_once, &w) == 0);
  atomic_store(&w.armed, 1);
  seen s = {0, 0};
  int rc = tether_walk(w.r, visit, &s);
  pthread_join(t, NULL);
  EXPECT(atomic_load(&w.done) == 1); /* the ONCE call happened inside the window */
  EXPECT(rc == 1);
  EXPECT(s.n == 1 && s.other == 1);
  EXPECT(tether_registry_free(w.r) == 1);
  EXPECT(atomic_load(&w.counting.live_blocks) == 0);
  return 0;
}

TEST(snapshot_lists_what_it_copied_when_a_claim_comes_between) {
  int st = run_in_child(walk_during_a_claim, NULL, 30);
  CHECK(WIFEXITED(st));
  CHECK_EQ(WEXITSTATUS(st), 0);
}

/* A dispatch that claims a TETHER_ONCE registration hands it to the background
 * thread on a stack linked through the entry's creation time; a walk reading
 * that time meanwhile took the link for it (a data race: ThreadSanitizer
 * reported it on two-thread inputs of fuzz/fuzz-api.c's corpus). With the clock
 * far from any pointer's value, every age a walk reports must be 0 here. */
typedef struct claimer {
  tether_registry *r;
  _Atomic int stop;
} claimer;

static void *claim_onces(void *arg) {
  claimer *c = arg;
  char name[16];
  while (!atomic_load(&c->stop))
    for (int i = 0; i < 64; i++) {
      snprintf(name, sizeof name, "once-%d", i);
      tether_emit(c->r, name, NULL);
    }
  return NULL;
}

static uint64_t far_clock(void *ud) {
  (void)ud;
  return 1ull << 62;
}

static int age_is_zero(const tether_info *in, void *arg) {
  if (in->age_ms != 0) atomic_fetch_add((_Atomic int *)arg, 1);
  return 0;
}

TEST(snapshot_never_reads_a_hand_off_link_as_a_creation_time) {
  test_alloc al;
  test_alloc_init(&al);
  tether_options o = {.allocator = &al.iface, .clock_ms = far_clock};
  claimer c = {0};
  CHECK_EQ(tether_registry_new(&c.r, &o), 0);
  pthread_t t;
  CHECK_EQ(pthread_create(&t, NULL, claim_onces, &c), 0);
  _Atomic int wrong = 0;
  tether_reg_options once = {.flags = TETHER_ONCE};
  char name[16];
  for (int round = 0; round < 2000 / test_scale_div(); round++) {
    for (int i = 0; i < 64; i++) {
      snprintf(name, sizeof name, "once-%d", i);
      tether_register(c.r, name, nop_fn, NULL, NULL, &once, NULL);
    }
    for (int k = 0; k < 4; k++) CHECK(tether_walk(c.r, age_is_zero, &wrong) >= 0);
  }
  atomic_store(&c.stop, 1);
  pthread_join(t, NULL);
  CHECK_EQ(atomic_load(&wrong), 0);
  CHECK(tether_registry_free(c.r) >= 0);
  CHECK_EQ(atomic_load(&al.live_blocks), 0);
}
