/* The API's semantics on one thread: registration, MAP and BUS dispatch, names,
 * bad input, copies, ONCE, topics, refs, TTL, stats, walk and the leak report. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common.h"
#include "wrap.h"
#include "internal.h" /* tether__hash and the table's layout, for the probing test */

/* Records the order handlers run in. */
typedef struct order_log {
  int seq[16];
  int n;
} order_log;

static int log_fn(void *ctx, void *arg) {
  order_log *log = arg;
  tctx *c = ctx;
  atomic_fetch_add(&c->calls, 1);
  if (log->n < 16) log->seq[log->n++] = c->tag;
  return c->ret;
}

TEST(api_register_call_unregister) {
  fixture fx;
  CHECK_EQ(fixture_open(&fx, TETHER_MAP), 0);
  tctx c = {.ret = 42};
  tether_id id = 0;
  CHECK_EQ(tether_register(fx.r, "greet", tctx_fn, &c, tctx_free, NULL, &id), 0);
  CHECK(id != 0);
  int result = 0;
  CHECK_EQ(tether_call(fx.r, "greet", NULL, &result), 0);
  CHECK_EQ(result, 42);
  CHECK_EQ(tether_emit(fx.r, "greet", NULL), 1);
  CHECK_EQ(atomic_load(&c.calls), 2);
  CHECK_EQ(tether_call(fx.r, "nobody", NULL, &result), TETHER_ENOENT);
  CHECK_EQ(tether_emit(fx.r, "nobody", NULL), 0);
  CHECK_EQ(tether_unregister_sync(fx.r, id), 0);
  CHECK_EQ(atomic_load(&c.freed), 1);
  CHECK_EQ(tether_call(fx.r, "greet", NULL, &result), TETHER_ENOENT);
  CHECK_EQ(tether_unregister(fx.r, id), TETHER_ENOENT); /* double unregister */
  CHECK_EQ(fixture_close(&fx), 0);
  CHECK_EQ(atomic_load(&c.freed), 1);
}

static int id_cmp(const void *a, const void *b) {
  tether_id x = *(const tether_id *)a, y = *(const tether_id *)b;
  return x < y ? -1 : x > y;
}

/* The id index reuses a freed index with a new generation: churn on one name and
 * a growing set of live registrations must still never repeat an id, and every
 * old id must stay unknown. */
TEST(api_ids_are_unique_and_never_reused) {
  enum { N = 3000 };
  static tether_id ids[N];
  fixture fx;
  CHECK_EQ(fixture_open(&fx, TETHER_BUS), 0);
  tctx c = {0};
  tether_id keep = 0;
  for (int i = 0; i < N; i++) {
    tether_id id = 0;
    CHECK_EQ(tether_register(fx.r, "x", tctx_fn, &c, NULL, NULL, &id), 0);
    CHECK(id != 0);
    ids[i] = id;
    if (i % 3 == 0) continue; /* every third stays live: indexes are both reused and added */
    CHECK_EQ(tether_unregister(fx.r, id), 0);
    CHECK_EQ(tether_unregister(fx.r, id), TETHER_ENOENT);
    keep = id;
  }
  CHECK_EQ(tether_unregister(fx.r, keep), TETHER_ENOENT);
  qsort(ids, N, sizeof ids[0], id_cmp);
  for (int i = 1; i < N; i++) CHECK(ids[i] != ids[i - 1]);
  tether_stats st;
  CHECK_EQ(tether_stats_get(fx.r, &st), 0);
  CHECK_EQ(st.live, N / 3);
  CHECK_EQ(fixture_close(&fx), 0);
}

TEST(api_map_refuses_silent_overwrite) {
  fixture fx;
  CHECK_EQ(fixture_open(&fx, TETHER_MAP), 0);
  tctx a = {.ret = 1}, b = {.ret = 2};
  tether_id ia = 0, ib = 0;
  CHECK_EQ(tether_register(fx.r, "h", tctx_fn, &a, tctx_free, NULL, &ia), 0);
  CHECK_EQ(tether_register(fx.r, "h", tctx_fn, &b, tctx_free, NULL, &ib), TETHER_EEXIST);
  CHECK_EQ(ib, 0);
  CHECK_EQ(atomic_load(&b.freed), 0); /* a failed registration does not own ctx */
  tether_reg_options ro = {.flags = TETHER_REPLACE};
  CHECK_EQ(tether_register(fx.r, "h", tctx_fn, &b, tctx_free, &ro, &ib), 0);
  int result = 0;
  CHECK_EQ(tether_call(fx.r, "h", NULL, &result), 0);
  CHECK_EQ(result, 2);
  CHECK_EQ(tether_barrier(fx.r), 0);
  CHECK_EQ(atomic_load(&a.freed), 1); /* the replaced one is destroyed */
  CHECK_EQ(tether_unregister(fx.r, ia), TETHER_ENOENT);
  tether_stats st;
  CHECK_EQ(tether_stats_get(fx.r, &st), 0);
  CHECK_EQ(st.replaced_total, 1);
  CHECK_EQ(st.live, 1);
  CHECK_EQ(fixture_close(&fx), 0);
  CHECK_EQ(atomic_load(&b.freed), 1);
}

TEST(api_bus_calls_in_registration_order_and_stops) {
  fixture fx;
  CHECK_EQ(fixture_open(&fx, TETHER_BUS), 0);
  tctx h[4] = {{.tag = 0}, {.tag = 1}, {.tag = 2}, {.tag = 3}};
  tether_id ids[4];
  for (int i = 0; i < 4; i++)
    CHECK_EQ(tether_register(fx.r, "ev", log_fn, &h[i], NULL, NULL, &ids[i]), 0);
  order_log log = {{0}, 0};
  CHECK_EQ(tether_emit(fx.r, "ev", &log), 4);
  CHECK_EQ(log.n, 4);
  for (int i = 0; i < 4; i++) CHECK_EQ(log.seq[i], i);
  /* Remove the second; the order of the rest is kept. */
  CHECK_EQ(tether_unregister(fx.r, ids[1]), 0);
  log.n = 0;
  CHECK_EQ(tether_emit(fx.r, "ev", &log), 3);
  CHECK_EQ(log.seq[0], 0);
  CHECK_EQ(log.seq[1], 2);
  CHECK_EQ(log.seq[2], 3);
  /* TETHER_STOP from the third ends the emit there (and it is counted). */
  h[2].ret = TETHER_STOP;
  log.n = 0;
  CHECK_EQ(tether_emit(fx.r, "ev", &log), 2);
  CHECK_EQ(log.n, 2);
  /* tether_call calls the first live one. */
  int result = -1;
  log.n = 0;
  CHECK_EQ(tether_call(fx.r, "ev", &log, &result), 0);
  CHECK_EQ(log.n, 1);
  CHECK_EQ(log.seq[0], 0);
  CHECK_EQ(tether_unregister_name(fx.r, "ev"), 3);
  CHECK_EQ(tether_emit(fx.r, "ev", &log), 0);
  CHECK_EQ(tether_unregister_name(fx.r, "ev"), 0);
  CHECK_EQ(fixture_close(&fx), 0);
}

TEST(api_bad_input_changes_nothing) {
  fixture fx;
  CHECK_EQ(fixture_open(&fx, TETHER_MAP), 0);
  tctx c = {0};
  tether_id id = 0;
  char longname[TETHER_NAME_MAX + 2];
  memset(longname, 'a', sizeof longname - 1);
  longname[sizeof longname - 1] = '\0';
  CHECK_EQ(tether_register(NULL, "x", tctx_fn, &c, NULL, NULL, &id), TETHER_EINVAL);
  CHECK_EQ(tether_register(fx.r, NULL, tctx_fn, &c, NULL, NULL, &id), TETHER_EINVAL);
  CHECK_EQ(tether_register(fx.r, "", tctx_fn, &c, NULL, NULL, &id), TETHER_EINVAL);
  CHECK_EQ(tether_register(fx.r, "x", NULL, &c, NULL, NULL, &id), TETHER_EINVAL);
  CHECK_EQ(tether_register(fx.r, longname, tctx_fn, &c, NULL, NULL, &id), TETHER_ENAMETOOLONG);
  tether_reg_options bad = {.flags = 1u << 9};
  CHECK_EQ(tether_register(fx.r, "x", tctx_fn, &c, NULL, &bad, &id), TETHER_EINVAL);
  tether_reg_options copy0 = {.flags = TETHER_COPY_CTX};
  CHECK_EQ(tether_register(fx.r, "x", tctx_fn, &c, NULL, &copy0, &id), TETHER_EINVAL);
  /* A name of exactly TETHER_NAME_MAX bytes is fine. */
  longname[TETHER_NAME_MAX] = '\0';
  CHECK_EQ(tether_register(fx.r, longname, tctx_fn, &c, NULL, NULL, &id), 0);
  CHECK_EQ(tether_emit(fx.r, longname, NULL), 1);
  longname[TETHER_NAME_MAX] = 'a';
  CHECK_EQ(tether_emit(fx.r, longname, NULL), TETHER_ENAMETOOLONG);
  CHECK_EQ(tether_emit(fx.r, NULL, NULL), TETHER_EINVAL);
  CHECK_EQ(tether_emit(fx.r, "", NULL), TETHER_EINVAL);
  CHECK_EQ(tether_emit(NULL, "x", NULL), TETHER_EINVAL);
  CHECK_EQ(tether_call(fx.r, "", NULL, NULL), TETHER_EINVAL);
  CHECK_EQ(tether_unregister(fx.r, 0), TETHER_EINVAL);
  CHECK_EQ(tether_unregister(fx.r, 999999), TETHER_ENOENT);
  CHECK_EQ(tether_unregister(NULL, id), TETHER_EINVAL);
  CHECK_EQ(tether_unregister_name(fx.r, NULL), TETHER_EINVAL);
  CHECK_EQ(tether_unregister_name(fx.r, longname), TETHER_ENAMETOOLONG);
  CHECK_EQ(tether_touch(fx.r, 0, 5), TETHER_EINVAL);
  CHECK_EQ(tether_touch(fx.r, 424242, 5), TETHER_ENOENT);
  tether_ref *ref = (tether_ref *)&c;
  CHECK_EQ(tether_acquire(fx.r, 0, &ref), TETHER_EINVAL);
  CHECK_EQ(tether_acquire(fx.r, 77777, &ref), TETHER_ENOENT);
  CHECK(ref == NULL);
  CHECK_EQ(tether_acquire(fx.r, id, NULL), TETHER_EINVAL);
  CHECK_EQ(tether_topic_get(fx.r, NULL, NULL), TETHER_EINVAL);
  CHECK_EQ(tether_topic_emit(NULL, NULL), TETHER_EINVAL);
  CHECK_EQ(tether_ref_call(NULL, NULL, NULL), TETHER_EINVAL);
  CHECK(tether_ref_ctx(NULL) == NULL);
  tether_ref_release(NULL);
  tether_topic_release(NULL);
  tether_owner_free(NULL);
  CHECK_EQ(tether_stats_get(NULL, NULL), TETHER_EINVAL);
  CHECK_EQ(tether_walk(fx.r, NULL, NULL), TETHER_EINVAL);
  CHECK_EQ(tether_leak_report(fx.r, NULL), TETHER_EINVAL);
  CHECK_EQ(tether_registry_free(NULL), TETHER_EINVAL);
  CHECK_EQ(tether_registry_new(NULL, NULL), TETHER_EINVAL);
  tether_registry *r2 = NULL;
  tether_options bad_mode = {.mode = 7};
  CHECK_EQ(tether_registry_new(&r2, &bad_mode), TETHER_EINVAL);
  tether_allocator half = {0};
  tether_options bad_alloc = {.allocator = &half};
  CHECK_EQ(tether_registry_new(&r2, &bad_alloc), TETHER_EINVAL);
  CHECK_EQ(tether_barrier(NULL), TETHER_EINVAL);
  CHECK_EQ(tether_sweep(NULL), TETHER_EINVAL);
  /* After all that, the one registration is intact. */
  tether_stats st;
  CHECK_EQ(tether_stats_get(fx.r, &st), 0);
  CHECK_EQ(st.live, 1);
  CHECK_EQ(st.registered_total, 1);
  CHECK_EQ(fixture_close(&fx), 0);
}

TEST(api_id_from_another_registry_is_unknown) {
  fixture a, b;
  CHECK_EQ(fixture_open(&a, TETHER_MAP), 0);
  CHECK_EQ(fixture_open(&b, TETHER_MAP), 0);
  tctx c = {0};
  tether_id ida = 0, idb = 0;
  CHECK_EQ(tether_register(a.r, "only-in-a", tctx_fn, &c, tctx_free, NULL, &ida), 0);
  CHECK_EQ(tether_register(b.r, "b-first", tctx_fn, &c, NULL, NULL, &idb), 0);
  CHECK_EQ(tether_unregister(b.r, idb), 0);
  /* Both registries start their ids at 1: an id of a is not b's unless b has it. */
  CHECK_EQ(tether_unregister(b.r, ida + 1000), TETHER_ENOENT);
  CHECK_EQ(tether_unregister(b.r, ida), TETHER_ENOENT);
  CHECK_EQ(tether_emit(a.r, "only-in-a", NULL), 1);
  CHECK_EQ(fixture_close(&b), 0);
  CHECK_EQ(fixture_close(&a), 0);
  CHECK_EQ(atomic_load(&c.freed), 1);
}

static int copy_fn(void *ctx, void *arg) {
  int *seen = arg;
  const int *p = ctx;
  *seen = p[0] + p[1];
  return 0;
}

TEST(api_copy_ctx_keeps_a_private_copy) {
  fixture fx;
  CHECK_EQ(fixture_open(&fx, TETHER_MAP), 0);
  int data[2] = {40, 2};
  tether_reg_options ro = {.flags = TETHER_COPY_CTX, .ctx_size = sizeof data};
  tether_id id = 0;
  CHECK_EQ(tether_register(fx.r, "sum", copy_fn, data, tctx_free /* not called */, &ro, &id), 0);
  data[0] = 1000; /* the caller's memory no longer matters */
  int seen = 0;
  CHECK_EQ(tether_emit(fx.r, "sum", &seen), 1);
  CHECK_EQ(seen, 42);
  tether_ref *ref = NULL;
  CHECK_EQ(tether_acquire(fx.r, id, &ref), 0);
  CHECK(tether_ref_ctx(ref) != data);
  CHECK_EQ(((int *)tether_ref_ctx(ref))[1], 2);
  tether_ref_release(ref);
  tether_stats st;
  CHECK_EQ(tether_stats_get(fx.r, &st), 0);
  CHECK_EQ(st.live_bytes, sizeof data);
  CHECK_EQ(fixture_close(&fx), 0);
}

TEST(api_once_is_called_once_then_removed) {
  fixture fx;
  CHECK_EQ(fixture_open(&fx, TETHER_BUS), 0);
  tctx once = {0}, always = {0};
  tether_reg_options ro = {.flags = TETHER_ONCE};
  tether_id id = 0;
  CHECK_EQ(tether_register(fx.r, "boot", tctx_fn, &once, tctx_free, &ro, &id), 0);
  CHECK_EQ(tether_register(fx.r, "boot", tctx_fn, &always, tctx_free, NULL, NULL), 0);
  CHECK_EQ(tether_emit(fx.r, "boot", NULL), 2);
  CHECK_EQ(tether_emit(fx.r, "boot", NULL), 1);
  CHECK_EQ(atomic_load(&once.calls), 1);
  CHECK_EQ(atomic_load(&always.calls), 2);
  CHECK_EQ(tether_unregister(fx.r, id), TETHER_ENOENT);
  CHECK_EQ(tether_barrier(fx.r), 0);
  CHECK_EQ(atomic_load(&once.freed), 1);
  CHECK_EQ(fixture_close(&fx), 0);
  CHECK_EQ(atomic_load(&always.freed), 1);
}

TEST(api_topic_sees_later_registrations) {
  fixture fx;
  CHECK_EQ(fixture_open(&fx, TETHER_BUS), 0);
  tether_topic *t = NULL;
  CHECK_EQ(tether_topic_get(fx.r, "tick", &t), 0);
  CHECK_EQ(tether_topic_emit(t, NULL), 0);
  tctx a = {0}, b = {0};
  tether_id ia = 0;
  CHECK_EQ(tether_register(fx.r, "tick", tctx_fn, &a, tctx_free, NULL, &ia), 0);
  CHECK_EQ(tether_topic_emit(t, NULL), 1);
  CHECK_EQ(tether_register(fx.r, "tick", tctx_fn, &b, tctx_free, NULL, NULL), 0);
  CHECK_EQ(tether_topic_emit(t, NULL), 2);
  CHECK_EQ(tether_unregister_name(fx.r, "tick"), 2);
  CHECK_EQ(tether_topic_emit(t, NULL), 0);
  /* The pinned name still works after everything under it went away. */
  CHECK_EQ(tether_register(fx.r, "tick", tctx_fn, &a, NULL, NULL, NULL), 0);
  CHECK_EQ(tether_topic_emit(t, NULL), 1);
  /* A held topic makes registry_free refuse. */
  CHECK_EQ(tether_registry_free(fx.r), TETHER_EBUSY);
  tether_topic_release(t);
  CHECK_EQ(atomic_load(&a.calls), 3);
  CHECK_EQ(fixture_close(&fx), 0);
}

TEST(api_ref_keeps_ctx_until_release) {
  fixture fx;
  CHECK_EQ(fixture_open(&fx, TETHER_MAP), 0);
  tctx c = {.ret = 7};
  tether_id id = 0;
  CHECK_EQ(tether_register(fx.r, "r", tctx_fn, &c, tctx_free, NULL, &id), 0);
  tether_ref *ref = NULL;
  CHECK_EQ(tether_acquire(fx.r, id, &ref), 0);
  CHECK(tether_ref_ctx(ref) == &c);
  int result = 0;
  CHECK_EQ(tether_ref_call(ref, NULL, &result), 0);
  CHECK_EQ(result, 7);
  CHECK_EQ(tether_registry_free(fx.r), TETHER_EBUSY);
  CHECK_EQ(tether_unregister(fx.r, id), 0);
  CHECK_EQ(tether_ref_call(ref, NULL, &result), TETHER_ENOENT);
  /* Removed, but pinned: the destructor waits for the release. */
  for (int i = 0; i < 5; i++) {
    tether_registry *r = fx.r;
    tether_stats st;
    tether_stats_get(r, &st);
    CHECK_EQ(atomic_load(&c.freed), 0);
    struct timespec ts = {0, 2000000};
    nanosleep(&ts, NULL);
  }
  CHECK(tether_ref_ctx(ref) == &c);
  tether_ref_release(ref);
  CHECK_EQ(atomic_load(&c.freed), 1);
  CHECK_EQ(tether_acquire(fx.r, id, &ref), TETHER_ENOENT);
  CHECK_EQ(fixture_close(&fx), 0);
}

TEST(api_ttl_expires_lazily_and_by_sweep) {
  fixture fx;
  CHECK_EQ(fixture_open(&fx, TETHER_MAP), 0);
  tctx a = {0}, b = {0}, c = {0};
  tether_reg_options ttl = {.ttl_ms = 100};
  tether_id ia = 0, ib = 0, ic = 0;
  CHECK_EQ(tether_register(fx.r, "a", tctx_fn, &a, tctx_free, &ttl, &ia), 0);
  CHECK_EQ(tether_register(fx.r, "b", tctx_fn, &b, tctx_free, &ttl, &ib), 0);
  CHECK_EQ(tether_register(fx.r, "c", tctx_fn, &c, tctx_free, NULL, &ic), 0);
  atomic_store(&fx.now, 1099); /* one ms before expiry: still callable */
  CHECK_EQ(tether_emit(fx.r, "a", NULL), 1);
  CHECK_EQ(tether_touch(fx.r, ib, 500), 0); /* b now expires at 1599 */
  atomic_store(&fx.now, 1100);              /* a's expiry time: never called at it */
  CHECK_EQ(tether_emit(fx.r, "a", NULL), 0);
  CHECK_EQ(tether_unregister(fx.r, ia), TETHER_ENOENT);
  CHECK_EQ(tether_emit(fx.r, "b", NULL), 1);
  tether_ref *ref = NULL;
  CHECK_EQ(tether_acquire(fx.r, ib, &ref), 0);
  atomic_store(&fx.now, 1600);
  CHECK_EQ(tether_ref_call(ref, NULL, NULL), TETHER_ENOENT);
  tether_ref_release(ref);
  CHECK_EQ(tether_touch(fx.r, ib, 10), TETHER_ENOENT); /* expired: not revived */
  CHECK_EQ(tether_touch(fx.r, ic, 50), 0);            /* c gets a TTL */
  atomic_store(&fx.now, 1650);
  CHECK_EQ(tether_sweep(fx.r), 1);
  CHECK_EQ(tether_sweep(fx.r), 0);
  CHECK_EQ(tether_barrier(fx.r), 0);
  CHECK_EQ(atomic_load(&a.freed), 1);
  CHECK_EQ(atomic_load(&b.freed), 1);
  CHECK_EQ(atomic_load(&c.freed), 1);
  tether_stats st;
  CHECK_EQ(tether_stats_get(fx.r, &st), 0);
  CHECK_EQ(st.expired_total, 3);
  CHECK_EQ(st.live, 0);
  CHECK_EQ(st.destructors_run_total, 3);
  CHECK_EQ(st.destructors_pending, 0);
  CHECK_EQ(fixture_close(&fx), 0);
}

TEST(api_touch_zero_removes_ttl) {
  fixture fx;
  CHECK_EQ(fixture_open(&fx, TETHER_MAP), 0);
  tctx c = {0};
  tether_reg_options ttl = {.ttl_ms = 10};
  tether_id id = 0;
  CHECK_EQ(tether_register(fx.r, "t", tctx_fn, &c, tctx_free, &ttl, &id), 0);
  CHECK_EQ(tether_touch(fx.r, id, 0), 0);
  atomic_store(&fx.now, 1000000);
  CHECK_EQ(tether_emit(fx.r, "t", NULL), 1);
  CHECK_EQ(tether_sweep(fx.r), 0);
  CHECK_EQ(fixture_close(&fx), 0);
  CHECK_EQ(atomic_load(&c.freed), 1);
}

TEST(api_sweeper_thread_expires_without_calls) {
  test_alloc al;
  test_alloc_init(&al);
  tether_options o = {.allocator = &al.iface, .sweep_interval_ms = 5};
  tether_registry *r = NULL;
  CHECK_EQ(tether_registry_new(&r, &o), 0);
  tctx c = {0};
  tether_reg_options ttl = {.ttl_ms = 20};
  CHECK_EQ(tether_register(r, "soon", tctx_fn, &c, tctx_free, &ttl, NULL), 0);
  for (int i = 0; i < 400 && atomic_load(&c.freed) == 0; i++) {
    struct timespec ts = {0, 5000000};
    nanosleep(&ts, NULL);
  }
  CHECK_EQ(atomic_load(&c.freed), 1);
  tether_stats st;
  CHECK_EQ(tether_stats_get(r, &st), 0);
  CHECK_EQ(st.expired_total, 1);
  CHECK_EQ(tether_registry_free(r), 0);
  CHECK_EQ(atomic_load(&al.live_blocks), 0);
}

static int count_visit(const tether_info *in, void *arg) {
  int *n = arg;
  if (strncmp(in->name, "w-", 2) != 0 || in->ctx_size != 64) return -1;
  (*n)++;
  return 0;
}

TEST(api_walk_stats_and_leak_report) {
  fixture fx;
  CHECK_EQ(fixture_open(&fx, TETHER_MAP), 0);
  tctx c = {0};
  tether_reg_options ro = {.ctx_size = 64};
  for (int i = 0; i < 10; i++) {
    char name[32];
    snprintf(name, sizeof name, "w-%d", i);
    CHECK_EQ(tether_register(fx.r, name, tctx_fn, &c, NULL, &ro, NULL), 0);
  }
  tether_reg_options ttl = {.ctx_size = 64, .ttl_ms = 30};
  CHECK_EQ(tether_register(fx.r, "w-ttl", tctx_fn, &c, NULL, &ttl, NULL), 0);
  int n = 0;
  CHECK_EQ(tether_walk(fx.r, count_visit, &n), 11);
  CHECK_EQ(n, 11);
  tether_stats st;
  CHECK_EQ(tether_stats_get(fx.r, &st), 0);
  CHECK_EQ(st.live, 11);
  CHECK_EQ(st.live_bytes, 11 * 64);
  char buf[4096] = {0};
  FILE *f = fmemopen(buf, sizeof buf - 1, "w");
  CHECK(f != NULL);
  CHECK_EQ(tether_leak_report(fx.r, f), 11);
  fclose(f);
  CHECK(strstr(buf, "11 registrations still live, 704 bytes") != NULL);
  CHECK(strstr(buf, "test-api.c:") != NULL);
  CHECK(strstr(buf, "api_walk_stats_and_leak_report") != NULL);
  /* Two sites: 10 from the loop, 1 with a TTL. */
  CHECK(strstr(buf, "from 2 sites") != NULL);
  CHECK_EQ(fixture_close(&fx), 0);
}

TEST(api_registry_free_reports_survivors_and_destroys_them) {
  test_alloc al;
  test_alloc_init(&al);
  char buf[4096] = {0};
  FILE *f = fmemopen(buf, sizeof buf - 1, "w");
  CHECK(f != NULL);
  tether_options o = {.allocator = &al.iface, .leak_report = f};
  tether_registry *r = NULL;
  CHECK_EQ(tether_registry_new(&r, &o), 0);
  tctx c[3] = {{0}};
  tether_reg_options ro = {.ctx_size = 4096};
  for (int i = 0; i < 3; i++) {
    char name[16];
    snprintf(name, sizeof name, "leak-%d", i);
    CHECK_EQ(tether_register(r, name, tctx_fn, &c[i], tctx_free, &ro, NULL), 0);
  }
  CHECK_EQ(tether_registry_free(r), 3);
  fclose(f);
  for (int i = 0; i < 3; i++) CHECK_EQ(atomic_load(&c[i].freed), 1);
  CHECK(strstr(buf, "3 registrations still live, 12288 bytes") != NULL);
  CHECK(strstr(buf, "\"leak-0\"") != NULL);
  CHECK_EQ(atomic_load(&al.live_blocks), 0);
}

TEST(api_strerror_names_every_code) {
  CHECK(strstr(tether_strerror(TETHER_EINVAL), "EINVAL") != NULL);
  CHECK(strstr(tether_strerror(TETHER_ENOMEM), "ENOMEM") != NULL);
  CHECK(strstr(tether_strerror(TETHER_EEXIST), "EEXIST") != NULL);
  CHECK(strstr(tether_strerror(TETHER_ENOENT), "ENOENT") != NULL);
  CHECK(strstr(tether_strerror(TETHER_EBUSY), "EBUSY") != NULL);
  CHECK(strstr(tether_strerror(TETHER_EDEADLK), "EDEADLK") != NULL);
  CHECK(strstr(tether_strerror(TETHER_ENAMETOOLONG), "ENAMETOOLONG") != NULL);
  CHECK_STREQ(tether_strerror(-1000), "unknown error");
  CHECK_STREQ(tether_strerror(0), "success");
}

TEST(api_many_names_grow_the_table) {
  fixture fx;
  CHECK_EQ(fixture_open(&fx, TETHER_MAP), 0);
  tctx c = {0};
  int n = 5000 / test_scale_div();
  for (int i = 0; i < n; i++) {
    char name[32];
    snprintf(name, sizeof name, "handler-%d", i);
    CHECK_EQ(tether_register(fx.r, name, tctx_fn, &c, NULL, NULL, NULL), 0);
  }
  for (int i = 0; i < n; i++) {
    char name[32];
    snprintf(name, sizeof name, "handler-%d", i);
    CHECK_EQ(tether_emit(fx.r, name, NULL), 1);
  }
  /* Remove every other name, then re-add: tombstones get reused. */
  for (int i = 0; i < n; i += 2) {
    char name[32];
    snprintf(name, sizeof name, "handler-%d", i);
    CHECK_EQ(tether_unregister_name(fx.r, name), 1);
  }
  for (int i = 0; i < n; i++) {
    char name[32];
    snprintf(name, sizeof name, "handler-%d", i);
    CHECK_EQ(tether_emit(fx.r, name, NULL), i % 2);
  }
  for (int i = 0; i < n; i += 2) {
    char name[32];
    snprintf(name, sizeof name, "handler-%d", i);
    CHECK_EQ(tether_register(fx.r, name, tctx_fn, &c, NULL, NULL, NULL), 0);
  }
  CHECK_EQ(atomic_load(&c.calls), n + n / 2);
  tether_stats st;
  CHECK_EQ(tether_stats_get(fx.r, &st), 0);
  CHECK_EQ(st.live, (uint64_t)n);
  CHECK_EQ(fixture_close(&fx), 0);
}

/* Fills NAME with the next "probe-N" (from *K on) whose hash has the home pair
 * of CLASS in a new registry's table, and CLASS's bucket tag (top 16 bits) if
 * SAME_TAG, else another tag. */
static void name_in_class(uint64_t class, int same_tag, unsigned *k, char name[32]) {
  const uint64_t home = (TETHER__TABLE_INIT - 1) & ~1ull; /* a new table's home_mask */
  for (;; (*k)++) {
    snprintf(name, 32, "probe-%u", *k);
    uint64_t h = tether__hash(name, strlen(name));
    if ((h & home) == (class & home) && (tether__tag(h) == tether__tag(class)) == same_tag) {
      (*k)++;
      return;
    }
  }
}

/* Names with one home pair of buckets: dispatch must tell names with the same
 * tag apart by name, probe past the home pair for a name whose tag is not there,
 * step over a tombstone, and find nothing for absent names of either kind. */
TEST(api_names_sharing_a_home_pair_and_a_tag) {
  fixture fx;
  CHECK_EQ(fixture_open(&fx, TETHER_MAP), 0);
  /* 0 and 1 share a tag (buckets home, home+1); 2 has another (home+2); 3 and
   * 4 are absent at first, 3 with the shared tag, 4 with another. */
  char names[5][32] = {"probe-0"};
  unsigned k = 1;
  uint64_t class = tether__hash(names[0], strlen(names[0]));
  name_in_class(class, 1, &k, names[1]);
  name_in_class(class, 0, &k, names[2]);
  name_in_class(class, 1, &k, names[3]);
  name_in_class(class, 0, &k, names[4]);
  tctx c[5];
  memset(c, 0, sizeof c);
  tether_id id[3];
  for (int i = 0; i < 5; i++) c[i].ret = 10 + i;
  for (int i = 0; i < 3; i++)
    CHECK_EQ(tether_register(fx.r, names[i], tctx_fn, &c[i], NULL, NULL, &id[i]), 0);
  for (int round = 0; round < 2; round++) {
    for (int i = 0; i < 3; i++) {
      int result = 0;
      CHECK_EQ(tether_call(fx.r, names[i], NULL, &result), 0);
      CHECK_EQ(result, 10 + i);
      CHECK_EQ(tether_emit(fx.r, names[i], NULL), 1);
      CHECK_EQ(atomic_load(&c[i].calls), 2 * (round + 1));
    }
    for (int i = 3; i < 5; i++) {
      CHECK_EQ(tether_emit(fx.r, names[i], NULL), 0);
      CHECK_EQ(tether_call(fx.r, names[i], NULL, NULL), TETHER_ENOENT);
    }
  }
  /* 1 leaves a tombstone in the home pair; 3 (the shared tag) then takes it. */
  CHECK_EQ(tether_unregister(fx.r, id[1]), 0);
  CHECK_EQ(tether_emit(fx.r, names[1], NULL), 0);
  CHECK_EQ(tether_emit(fx.r, names[2], NULL), 1);
  CHECK_EQ(tether_register(fx.r, names[3], tctx_fn, &c[3], NULL, NULL, NULL),
           0);  // tether:ignore TC201 freed with the registry
  int result = 0;
  CHECK_EQ(tether_call(fx.r, names[3], NULL, &result), 0);
  CHECK_EQ(result, 13);
  CHECK_EQ(tether_call(fx.r, names[0], NULL, &result), 0);
  CHECK_EQ(result, 10);
  CHECK_EQ(tether_call(fx.r, names[2], NULL, &result), 0);
  CHECK_EQ(result, 12);
  CHECK_EQ(tether_emit(fx.r, names[4], NULL), 0);
  CHECK_EQ(atomic_load(&c[1].calls), 4);
  CHECK_EQ(atomic_load(&c[4].calls), 0);
  CHECK_EQ(fixture_close(&fx), 0);
}

TEST(api_scoped_owner_unbinds_at_scope_exit) {
  fixture fx;
  CHECK_EQ(fixture_open(&fx, TETHER_BUS), 0);
  tctx a = {0}, b = {0}, keep = {0};
  CHECK_EQ(tether_register(fx.r, "ev", tctx_fn, &keep, tctx_free, NULL, NULL), 0);
  {
    TETHER_SCOPED_OWNER(scope);
    CHECK(scope != NULL);
    tether_reg_options ro = {.owner = scope};
    CHECK_EQ(tether_register(fx.r, "ev", tctx_fn, &a, tctx_free, &ro, NULL), 0);
    CHECK_EQ(tether_register(fx.r, "other", tctx_fn, &b, tctx_free, &ro, NULL), 0);
    CHECK_EQ(tether_emit(fx.r, "ev", NULL), 2);
  }
  CHECK_EQ(tether_emit(fx.r, "ev", NULL), 1);
  CHECK_EQ(tether_emit(fx.r, "other", NULL), 0);
  CHECK_EQ(tether_barrier(fx.r), 0);
  CHECK_EQ(atomic_load(&a.freed), 1);
  CHECK_EQ(atomic_load(&b.freed), 1);
  tether_stats st;
  CHECK_EQ(tether_stats_get(fx.r, &st), 0);
  CHECK_EQ(st.owner_removed_total, 2);
  CHECK_EQ(fixture_close(&fx), 0);
  CHECK_EQ(atomic_load(&keep.freed), 1);
}

TEST(api_owner_spans_registries) {
  fixture a, b;
  CHECK_EQ(fixture_open(&a, TETHER_MAP), 0);
  CHECK_EQ(fixture_open(&b, TETHER_BUS), 0);
  tether_owner *o = NULL;
  CHECK_EQ(tether_owner_new(&o), 0);
  tctx c = {0};
  tether_reg_options ro = {.owner = o};
  CHECK_EQ(tether_register(a.r, "x", tctx_fn, &c, tctx_free, &ro, NULL), 0);
  CHECK_EQ(tether_register(b.r, "x", tctx_fn, &c, tctx_free, &ro, NULL), 0);
  CHECK_EQ(tether_register(b.r, "y", tctx_fn, &c, tctx_free, &ro, NULL), 0);
  /* Freeing a registry unlinks its entries from the owner... */
  CHECK_EQ(fixture_close(&a), 0);
  CHECK_EQ(atomic_load(&c.freed), 1);
  /* ...and freeing the owner removes the rest. */
  tether_owner_free(o);
  CHECK_EQ(tether_emit(b.r, "x", NULL), 0);
  CHECK_EQ(tether_barrier(b.r), 0);
  CHECK_EQ(atomic_load(&c.freed), 3);
  CHECK_EQ(fixture_close(&b), 0);
}

/* Runs registry_free with one survivor in a child process (a fresh registry after
 * fork: under TSan this needs die_after_fork=0, as check.sh sets) with TETHER_LEAKCHECK
 * set to VALUE; returns the child's wait status and its stderr in BUF. */
static int leakcheck_child(const char *value, char *buf, size_t n) {
  int fds[2];
  if (pipe(fds) != 0) return -1;
  fflush(stdout);
  pid_t parent = getpid();
  pid_t pid = fork();
  if (pid == 0) {
    child_dies_with(parent);
    dup2(fds[1], 2);
    close(fds[0]);
    setenv("TETHER_LEAKCHECK", value, 1);
    tether_registry *r = NULL;
    if (tether_registry_new(&r, NULL) != 0) _exit(10);
    static tctx c;
    tether_reg_options ro = {.ctx_size = 100};
    tether_register(r, "forgotten", tctx_fn, &c, tctx_free, &ro, NULL);
    int rc = tether_registry_free(r);
    _exit(rc == 1 && atomic_load(&c.freed) == 1 ? 0 : 11);
  }
  close(fds[1]);
  size_t got = 0;
  for (ssize_t k; got + 1 < n && (k = read(fds[0], buf + got, n - 1 - got)) > 0;) got += (size_t)k;
  buf[got] = '\0';
  close(fds[0]);
  int st = 0;
  waitpid(pid, &st, 0);
  return st;
}

TEST(api_leakcheck_env_reports_and_aborts) {
  char buf[4096];
  int st = leakcheck_child("1", buf, sizeof buf);
  CHECK(WIFEXITED(st));
  CHECK_EQ(WEXITSTATUS(st), 0); /* reported, then destroyed the survivor */
  CHECK(strstr(buf, "1 registration still live, 100 bytes") != NULL);
  CHECK(strstr(buf, "\"forgotten\"") != NULL);
  st = leakcheck_child("abort", buf, sizeof buf);
  CHECK(WIFSIGNALED(st));
  CHECK_EQ(WTERMSIG(st), SIGABRT);
  CHECK(strstr(buf, "\"forgotten\"") != NULL);
}

/* A MAP name is stored as its entry; a topic turns it into a slot holding the
 * entry. Replacing, removing and re-registering under the topic, releasing it,
 * and removing by name must all keep both views (by name, by topic) right. */
TEST(api_map_topic_pins_a_name_with_a_direct_entry) {
  fixture fx;
  CHECK_EQ(fixture_open(&fx, TETHER_MAP), 0);
  tctx a = {.ret = 1}, b = {.ret = 2}, c = {.ret = 3};
  tether_id ida = 0, idb = 0, idc = 0;
  CHECK_EQ(tether_register(fx.r, "pinned", tctx_fn, &a, tctx_free, NULL, &ida), 0);
  tether_topic *t = NULL;
  CHECK_EQ(tether_topic_get(fx.r, "pinned", &t), 0);
  CHECK_EQ(tether_topic_emit(t, NULL), 1);
  CHECK_EQ(atomic_load(&a.calls), 1);
  tether_reg_options rep = {.flags = TETHER_REPLACE};
  CHECK_EQ(tether_register(fx.r, "pinned", tctx_fn, &b, tctx_free, NULL, &idb), TETHER_EEXIST);
  CHECK_EQ(tether_register(fx.r, "pinned", tctx_fn, &b, tctx_free, &rep, &idb), 0);
  CHECK_EQ(tether_barrier(fx.r), 0);
  CHECK_EQ(atomic_load(&a.freed), 1);
  CHECK_EQ(tether_topic_emit(t, NULL), 1);
  CHECK_EQ(atomic_load(&b.calls), 1);
  int result = 0;
  CHECK_EQ(tether_call(fx.r, "pinned", NULL, &result), 0);
  CHECK_EQ(result, 2);
  CHECK_EQ(tether_unregister(fx.r, ida), TETHER_ENOENT);
  CHECK_EQ(tether_unregister(fx.r, idb), 0);
  CHECK_EQ(tether_topic_emit(t, NULL), 0);
  CHECK_EQ(tether_emit(fx.r, "pinned", NULL), 0);
  CHECK_EQ(tether_register(fx.r, "pinned", tctx_fn, &c, tctx_free, NULL, &idc), 0);
  CHECK_EQ(tether_topic_emit(t, NULL), 1);
  CHECK_EQ(atomic_load(&c.calls), 1);
  tether_topic_release(t);
  /* The slot outlives the topic while it holds a handler. */
  CHECK_EQ(tether_call(fx.r, "pinned", NULL, &result), 0);
  CHECK_EQ(result, 3);
  CHECK_EQ(tether_unregister_name(fx.r, "pinned"), 1);
  CHECK_EQ(tether_emit(fx.r, "pinned", NULL), 0);
  CHECK_EQ(tether_register(fx.r, "pinned", tctx_fn, &a, NULL, NULL, NULL), 0); //tether:ignore TC201 freed with the registry
  CHECK_EQ(tether_emit(fx.r, "pinned", NULL), 1);
  CHECK_EQ(fixture_close(&fx), 0);
  CHECK_EQ(atomic_load(&b.freed), 1);
  CHECK_EQ(atomic_load(&c.freed), 1);
}

typedef struct seen_info {
  int n;
  tether_info last;
  char name[64];
} seen_info;

static int keep_info(const tether_info *in, void *arg) {
  seen_info *s = arg;
  s->n++;
  s->last = *in;
  snprintf(s->name, sizeof s->name, "%s", in->name);
  return 0;
}

/* Every optional part of an entry at once (name, ctx_size, owner links, a
 * copied context) in both modes: each must read back intact. */
static void all_options_in_mode(int mode) {
  fixture fx;
  CHECK_EQ(fixture_open(&fx, mode), 0);
  tether_owner *o = NULL;
  CHECK_EQ(tether_owner_new(&o), 0);
  int payload[2] = {40, 2};
  tether_reg_options opts = {.owner = o, .ttl_ms = 500, .ctx_size = sizeof payload, .flags = TETHER_COPY_CTX};
  tether_id id = 0;
  CHECK_EQ(tether_register(fx.r, "a-name-longer-than-sixteen-bytes", copy_fn, payload, NULL, &opts, &id), 0);
  payload[0] = 0;
  seen_info s = {0};
  CHECK_EQ(tether_walk(fx.r, keep_info, &s), 1);
  CHECK_EQ(s.last.id, id);
  CHECK(strcmp(s.name, "a-name-longer-than-sixteen-bytes") == 0);
  CHECK_EQ(s.last.ctx_size, sizeof payload);
  CHECK(s.last.owner == o);
  CHECK_EQ(s.last.ttl_left_ms, 500);
  int seen = 0;
  CHECK_EQ(tether_emit(fx.r, "a-name-longer-than-sixteen-bytes", &seen), 1);
  CHECK_EQ(seen, 42);
  tether_stats st;
  CHECK_EQ(tether_stats_get(fx.r, &st), 0);
  CHECK_EQ(st.live_bytes, sizeof payload);
  tether_owner_free(o);
  CHECK_EQ(tether_emit(fx.r, "a-name-longer-than-sixteen-bytes", &seen), 0);
  CHECK_EQ(tether_stats_get(fx.r, &st), 0);
  CHECK_EQ(st.live, 0);
  CHECK_EQ(st.live_bytes, 0);
  CHECK_EQ(fixture_close(&fx), 0);
}

TEST(api_entry_with_every_option_reads_back) {
  all_options_in_mode(TETHER_MAP);
  all_options_in_mode(TETHER_BUS);
}

/* BUS ids lead to the name's slot and the entry is found among its handlers: each
 * of many handlers on one name must still be reached by its own id. */
TEST(api_bus_ids_reach_each_handler_of_a_name) {
  enum { N = 50 };
  fixture fx;
  CHECK_EQ(fixture_open(&fx, TETHER_BUS), 0);
  static tctx c[N];
  tether_id ids[N];
  for (int i = 0; i < N; i++) {
    memset(&c[i], 0, sizeof c[i]);
    CHECK_EQ(tether_register(fx.r, "many", tctx_fn, &c[i], tctx_free, NULL, &ids[i]), 0);
  }
  for (int i = N - 1; i >= 0; i -= 2) CHECK_EQ(tether_unregister(fx.r, ids[i]), 0);
  CHECK_EQ(tether_barrier(fx.r), 0);
  for (int i = 0; i < N; i++) CHECK_EQ(atomic_load(&c[i].freed), i % 2 == 1);
  tether_ref *ref = NULL;
  CHECK_EQ(tether_acquire(fx.r, ids[1], &ref), TETHER_ENOENT);
  CHECK_EQ(tether_acquire(fx.r, ids[2], &ref), 0);
  CHECK(tether_ref_ctx(ref) == &c[2]);
  tether_ref_release(ref);
  CHECK_EQ(tether_emit(fx.r, "many", NULL), N / 2);
  CHECK_EQ(tether_unregister_name(fx.r, "many"), N / 2);
  CHECK_EQ(fixture_close(&fx), 0);
  for (int i = 0; i < N; i++) CHECK_EQ(atomic_load(&c[i].freed), 1);
}

/* Dispatch finds a name's length with aligned 16-byte loads: names of every
 * length around the 16-byte fast-path limit, at every offset in a heap block
 * sized to the name (valgrind and ASan see any read outside it), stack copies
 * with garbage after the NUL, and near-miss names must all resolve exactly. */
TEST(api_names_at_every_alignment_and_length) {
  fixture fx;
  CHECK_EQ(fixture_open(&fx, TETHER_MAP), 0);
  tctx c[40];
  char name[40];
  memset(c, 0, sizeof c);
  for (int len = 1; len < 40; len++) {
    for (int i = 0; i < len; i++) name[i] = (char)('a' + (len + i) % 26);
    name[len] = '\0';
    c[len].ret = len;
    CHECK_EQ(tether_register(fx.r, name, tctx_fn, &c[len], NULL, NULL, NULL), 0); //tether:ignore TC201 freed with the registry
  }
  for (int len = 1; len < 40; len++) {
    for (int off = 0; off < 16; off++) {
      char *b = malloc((size_t)(off + len + 1));
      CHECK(b != NULL);
      for (int i = 0; i < len; i++) b[off + i] = (char)('a' + (len + i) % 26);
      b[off + len] = '\0';
      int result = 0;
      CHECK_EQ(tether_call(fx.r, b + off, NULL, &result), 0);
      CHECK_EQ(result, len);
      b[off + len - 1] = '#'; /* same length, last byte differs */
      CHECK_EQ(tether_call(fx.r, b + off, NULL, &result), TETHER_ENOENT);
      free(b);
      char st[64];
      memset(st, 0x5a, sizeof st);
      for (int i = 0; i < len; i++) st[off + i] = (char)('a' + (len + i) % 26);
      st[off + len] = '\0';
      CHECK_EQ(tether_call(fx.r, st + off, NULL, &result), 0);
      CHECK_EQ(result, len);
      if (len > 1) {
        st[off + len - 1] = '\0'; /* a prefix: not registered (names of each length differ) */
        CHECK_EQ(tether_call(fx.r, st + off, NULL, &result), TETHER_ENOENT);
      }
    }
  }
  CHECK_EQ(fixture_close(&fx), 0);
}
