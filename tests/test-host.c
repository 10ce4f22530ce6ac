/* What a plugin host needs: waiting for one owner's destructors, per-name
 * queries, who holds the refs and topics that keep a registry from being freed,
 * and why a registration went away. */
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common.h"
#include "wrap.h"

/* ---- tether_owner_free_sync ---- */

typedef struct parked {
  tether_registry *r;
  const char *name;
  _Atomic int inside, open;
} parked;

static int parked_hook(tctx *c, void *arg) {
  (void)arg;
  parked *p = c->user;
  atomic_store(&p->inside, 1);
  while (!atomic_load(&p->open)) sleep_ms(1);
  return 0;
}

static void *parked_emitter(void *arg) {
  parked *p = arg;
  tether_emit(p->r, p->name, NULL);
  return NULL;
}

static void *open_later(void *arg) {
  parked *p = arg;
  sleep_ms(100);
  atomic_store(&p->open, 1);
  return NULL;
}

/* The owner's handler is running on another thread, and one of its
 * registrations was unregistered earlier and is pinned by a ref: free_sync
 * returns only once both destructors ran, and does not wait for an unrelated
 * registration pinned the same way. */
TEST(host_owner_free_sync_waits_for_its_own_destructors) {
  fixture a, b;
  CHECK_EQ(fixture_open(&a, TETHER_MAP), 0);
  CHECK_EQ(fixture_open(&b, TETHER_BUS), 0);
  tether_owner *plugin = NULL;
  CHECK_EQ(tether_owner_new(&plugin), 0);
  parked p = {.r = a.r, .name = "plugin/busy"};
  tctx busy = {.hook = parked_hook, .user = &p}, early = {0}, other = {0}, unrelated = {0};
  tether_reg_options ro = {.owner = plugin};
  tether_id early_id = 0, unrelated_id = 0;
  CHECK_EQ(tether_register(a.r, "plugin/busy", tctx_fn, &busy, tctx_free, &ro, NULL), 0);
  CHECK_EQ(tether_register(b.r, "plugin/early", tctx_fn, &early, tctx_free, &ro, &early_id), 0);
  CHECK_EQ(tether_register(b.r, "plugin/other", tctx_fn, &other, tctx_free, &ro, NULL), 0);
  CHECK_EQ(
      tether_register(a.r, "host/unrelated", tctx_fn, &unrelated, tctx_free, NULL, &unrelated_id),
      0);
  /* An unrelated removal held back by a ref on another thread would stall a
   * barrier; free_sync does not wait for it. */
  tether_ref *pin = NULL;
  CHECK_EQ(tether_acquire(a.r, unrelated_id, &pin), 0);
  CHECK_EQ(tether_unregister(a.r, unrelated_id), 0);
  CHECK_EQ(tether_unregister(b.r, early_id), 0);
  pthread_t t, opener;
  CHECK_EQ(pthread_create(&t, NULL, parked_emitter, &p), 0);
  while (!atomic_load(&p.inside)) sched_yield();
  CHECK_EQ(pthread_create(&opener, NULL, open_later, &p), 0);
  CHECK_EQ(tether_owner_free_sync(plugin), 0);
  /* Everything the plugin registered is destroyed; its handler has returned. */
  CHECK_EQ(atomic_load(&p.open), 1);
  CHECK_EQ(atomic_load(&busy.freed), 1);
  CHECK_EQ(atomic_load(&busy.freed_during_call), 0);
  CHECK_EQ(atomic_load(&early.freed), 1);
  CHECK_EQ(atomic_load(&other.freed), 1);
  CHECK_EQ(atomic_load(&unrelated.freed), 0); /* still pinned */
  pthread_join(t, NULL);
  pthread_join(opener, NULL);
  tether_ref_release(pin);
  CHECK_EQ(tether_barrier(a.r), 0);
  CHECK_EQ(atomic_load(&unrelated.freed), 1);
  CHECK_EQ(fixture_close(&a), 0);
  CHECK_EQ(fixture_close(&b), 0);
}

typedef struct sync_from_cb {
  tether_owner *o;
  int rc;
} sync_from_cb;

static int sync_hook(tctx *c, void *arg) {
  (void)arg;
  sync_from_cb *s = c->user;
  s->rc = tether_owner_free_sync(s->o);
  return 0;
}

TEST(host_owner_free_sync_refuses_to_wait_on_itself) {
  fixture fx, other;
  CHECK_EQ(fixture_open(&fx, TETHER_MAP), 0);
  CHECK_EQ(fixture_open(&other, TETHER_MAP), 0);
  tether_owner *o = NULL;
  CHECK_EQ(tether_owner_new(&o), 0);
  sync_from_cb s = {.o = o, .rc = 1};
  tctx owned = {0}, caller = {.hook = sync_hook, .user = &s};
  tether_reg_options ro = {.owner = o};
  tether_id id = 0;
  CHECK_EQ(tether_register(fx.r, "owned", tctx_fn, &owned, tctx_free, &ro, &id), 0);
  CHECK_EQ(tether_register(fx.r, "caller", tctx_fn, &caller, tctx_free, NULL, NULL), 0);
  /* From a callback of a registry that holds one of its registrations. */
  CHECK_EQ(tether_emit(fx.r, "caller", NULL), 1);
  CHECK_EQ(s.rc, TETHER_EDEADLK);
  CHECK_EQ(tether_emit(fx.r, "owned", NULL), 1); /* changed nothing */
  /* While this thread holds a ref of one of them. */
  tether_ref *ref = NULL;
  CHECK_EQ(tether_acquire(fx.r, id, &ref), 0);
  CHECK_EQ(tether_owner_free_sync(o), TETHER_EDEADLK);
  tether_ref_release(ref);
  /* From a callback of an unrelated registry, it may wait. */
  s.rc = 1;
  CHECK_EQ(tether_register(other.r, "caller", tctx_fn, &caller, NULL, NULL, NULL), 0);
  CHECK_EQ(tether_emit(other.r, "caller", NULL), 1);
  CHECK_EQ(s.rc, 0);
  CHECK_EQ(atomic_load(&owned.freed), 1);
  CHECK_EQ(tether_owner_free_sync(NULL), 0);
  CHECK_EQ(fixture_close(&fx), 0);
  CHECK_EQ(fixture_close(&other), 0);
}

/* ---- per-name queries ---- */

TEST(host_count_live_handlers_of_a_name) {
  fixture fx;
  CHECK_EQ(fixture_open(&fx, TETHER_BUS), 0);
  CHECK_EQ(tether_count(fx.r, "ev"), 0);
  CHECK_EQ(tether_count(NULL, "ev"), TETHER_EINVAL);
  CHECK_EQ(tether_count(fx.r, NULL), TETHER_EINVAL);
  CHECK_EQ(tether_count(fx.r, ""), TETHER_EINVAL);
  char *longname = malloc(TETHER_NAME_MAX + 2);
  CHECK(longname != NULL);
  memset(longname, 'a', TETHER_NAME_MAX + 1);
  longname[TETHER_NAME_MAX + 1] = '\0';
  int rc = tether_count(fx.r, longname);
  free(longname);
  CHECK_EQ(rc, TETHER_ENAMETOOLONG);
  tether_id ids[3];
  tether_reg_options ttl = {.ttl_ms = 100};
  for (int i = 0; i < 3; i++)
    CHECK_EQ(tether_register(fx.r, "ev", nop_fn, NULL, NULL, i == 2 ? &ttl : NULL, &ids[i]), 0);
  CHECK_EQ(tether_count(fx.r, "ev"), 3);
  CHECK_EQ(tether_unregister(fx.r, ids[0]), 0);
  CHECK_EQ(tether_count(fx.r, "ev"), 2);
  atomic_store(&fx.now, 5000); /* the third has expired: not counted, though not swept */
  CHECK_EQ(tether_count(fx.r, "ev"), 1);
  tether_topic *t = NULL;
  CHECK_EQ(tether_topic_get(fx.r, "pinned", &t), 0);
  CHECK_EQ(tether_count(fx.r, "pinned"), 0); /* a name with no handler */
  tether_topic_release(t);
  CHECK_EQ(fixture_close(&fx), 0);
  /* MAP: 0 or 1, through replacement and a topic. */
  CHECK_EQ(fixture_open(&fx, TETHER_MAP), 0);
  tether_reg_options rep = {.flags = TETHER_REPLACE};
  CHECK_EQ(tether_register(fx.r, "one", nop_fn, NULL, NULL, NULL, NULL), 0);
  CHECK_EQ(tether_count(fx.r, "one"), 1);
  CHECK_EQ(tether_register(fx.r, "one", nop_fn, NULL, NULL, &rep, NULL), 0);
  CHECK_EQ(tether_count(fx.r, "one"), 1);
  CHECK_EQ(tether_topic_get(fx.r, "one", &t), 0);
  CHECK_EQ(tether_count(fx.r, "one"), 1);
  CHECK_EQ(tether_unregister_name(fx.r, "one"), 1);
  CHECK_EQ(tether_count(fx.r, "one"), 0);
  tether_topic_release(t);
  CHECK_EQ(fixture_close(&fx), 0);
}

/* ---- who holds what keeps a registry from being freed ---- */

TEST(host_registry_free_ebusy_names_refs_and_topics) {
  fixture fx;
  CHECK_EQ(fixture_open(&fx, TETHER_MAP), 0);
  char *buf = NULL;
  size_t len = 0;
  FILE *report = open_memstream(&buf, &len);
  CHECK(report != NULL);
  /* Reopen with the report stream. */
  fixture_close(&fx);
  test_alloc a;
  test_alloc_init(&a);
  tether_options o = {.allocator = &a.iface, .leak_report = report};
  tether_registry *r = NULL;
  CHECK_EQ(tether_registry_new(&r, &o), 0);
  tether_id id = 0;
  CHECK_EQ(tether_register(r, "plugin/render", nop_fn, NULL, NULL, NULL, &id), 0);
  tether_ref *ref = NULL;
  tether_topic *topic = NULL;
  int ref_line = __LINE__ + 1;
  CHECK_EQ(tether_acquire(r, id, &ref), 0);
  int topic_line = __LINE__ + 1;
  CHECK_EQ(tether_topic_get(r, "plugin/tick", &topic), 0);
  CHECK_EQ(tether_registry_free(r), TETHER_EBUSY);
  fflush(report);
  char want_ref[256], want_topic[256];
  snprintf(want_ref, sizeof want_ref,
           "ref of \"plugin/render\" (id %llu), taken at tests/test-host.c:%d in %s()",
           (unsigned long long)id, ref_line,
           "tt_test_host_registry_free_ebusy_names_refs_and_topics");
  snprintf(want_topic, sizeof want_topic,
           "topic \"plugin/tick\", taken at tests/test-host.c:%d in %s()", topic_line,
           "tt_test_host_registry_free_ebusy_names_refs_and_topics");
  int ok = strstr(buf, "registry busy: 1 ref and 1 topic still held") != NULL &&
           strstr(buf, want_ref) != NULL && strstr(buf, want_topic) != NULL;
  if (!ok) printf("    report was:\n%s", buf);
  CHECK(ok);
  /* A ref of a removed registration is named as such. */
  CHECK_EQ(tether_unregister(r, id), 0);
  CHECK_EQ(tether_registry_free(r), TETHER_EBUSY);
  fflush(report);
  CHECK(strstr(buf, "ref of a removed registration \"plugin/render\"") != NULL);
  tether_ref_release(ref);
  tether_topic_release(topic);
  CHECK_EQ(tether_registry_free(r), 0);
  fclose(report);
  free(buf);
  CHECK_EQ(atomic_load(&a.live_blocks), 0);
}

/* ---- why a registration is gone ---- */

typedef struct why_log {
  tether_removal why[8];
  _Atomic int n;
  _Atomic int freed_before_told;
  _Atomic int told;
} why_log;

static void note_why(void *ctx, tether_removal why) {
  why_log *w = ctx;
  int k = atomic_fetch_add(&w->n, 1);
  if (k < 8) w->why[k] = why;
  atomic_store(&w->told, 1);
}

static void note_free(void *ctx) {
  why_log *w = ctx;
  if (!atomic_load(&w->told)) atomic_fetch_add(&w->freed_before_told, 1);
  atomic_store(&w->told, 0);
}

TEST(host_on_remove_tells_the_reason) {
  fixture fx;
  CHECK_EQ(fixture_open(&fx, TETHER_MAP), 0);
  tether_owner *o = NULL;
  CHECK_EQ(tether_owner_new(&o), 0);
  why_log w[6];
  memset(w, 0, sizeof w);
  tether_reg_options ro = {.on_remove = note_why};
  tether_id id = 0, ttl_id = 0;
  CHECK_EQ(tether_register(fx.r, "unreg", nop_fn, &w[0], note_free, &ro, &id), 0);
  ro.ttl_ms = 10;
  CHECK_EQ(tether_register(fx.r, "ttl", nop_fn, &w[1], note_free, &ro, &ttl_id), 0);
  ro.ttl_ms = 0;
  ro.owner = o;
  CHECK_EQ(tether_register(fx.r, "owned", nop_fn, &w[2], note_free, &ro, NULL), 0);
  ro.owner = NULL;
  CHECK_EQ(tether_register(fx.r, "replaced", nop_fn, &w[3], note_free, &ro, NULL), 0);
  ro.flags = TETHER_REPLACE;
  CHECK_EQ(tether_register(fx.r, "replaced", nop_fn, NULL, NULL, NULL, NULL), TETHER_EEXIST);
  tether_reg_options rep = {.flags = TETHER_REPLACE};
  CHECK_EQ(tether_register(fx.r, "replaced", nop_fn, NULL, NULL, &rep, NULL), 0);
  ro.flags = TETHER_ONCE;
  CHECK_EQ(tether_register(fx.r, "once", nop_fn, &w[4], note_free, &ro, NULL), 0);
  ro.flags = TETHER_COPY_CTX;
  ro.ctx_size = sizeof w[5];
  CHECK_EQ(tether_register(fx.r, "survivor", nop_fn, &w[5], NULL, &ro, NULL), 0);
  CHECK_EQ(tether_unregister(fx.r, id), 0);
  atomic_store(&fx.now, 2000);
  CHECK_EQ(tether_emit(fx.r, "ttl", NULL), 0);
  CHECK_EQ(tether_touch(fx.r, ttl_id, 1000), TETHER_ENOENT);
  tether_owner_free(o);
  CHECK_EQ(tether_emit(fx.r, "once", NULL), 1);
  CHECK_EQ(tether_barrier(fx.r), 0);
  const tether_removal want[5] = {TETHER_REMOVED_UNREGISTER, TETHER_REMOVED_EXPIRED,
                                  TETHER_REMOVED_OWNER, TETHER_REMOVED_REPLACED,
                                  TETHER_REMOVED_ONCE};
  for (int i = 0; i < 5; i++) {
    CHECK_EQ(atomic_load(&w[i].n), 1);
    CHECK_EQ(w[i].why[0], want[i]);
    CHECK_EQ(atomic_load(&w[i].freed_before_told), 0); /* told first, then destroyed */
  }
  CHECK_EQ(atomic_load(&w[5].n), 0);
  CHECK_EQ(fixture_close(&fx), 0);
  /* The survivor was copied: its copy was told, not w[5] itself. */
  CHECK_EQ(atomic_load(&w[5].n), 0);
}

static _Atomic int g_free_told;
static void count_why(void *ctx, tether_removal why) {
  (void)ctx;
  if (why == TETHER_REMOVED_REGISTRY_FREE) atomic_fetch_add(&g_free_told, 1);
}

TEST(host_on_remove_at_registry_free) {
  fixture fx;
  CHECK_EQ(fixture_open(&fx, TETHER_BUS), 0);
  atomic_store(&g_free_told, 0);
  tether_reg_options ro = {.on_remove = count_why};
  for (int i = 0; i < 10; i++)
    CHECK_EQ(tether_register(fx.r, "ev", nop_fn, NULL, NULL, &ro, NULL), 0);
  CHECK_EQ(fixture_close(&fx), 0);
  CHECK_EQ(atomic_load(&g_free_told), 10);
}

/* From a destructor of one of its own registrations, free_sync would wait on
 * itself: refused, and the owner is still usable. */
static tether_owner *g_dtor_owner;
static _Atomic int g_dtor_rc;

static void dtor_syncs(void *ctx) {
  (void)ctx;
  atomic_store(&g_dtor_rc, tether_owner_free_sync(g_dtor_owner));
}

TEST(host_owner_free_sync_from_a_destructor_is_edeadlk) {
  fixture fx;
  CHECK_EQ(fixture_open(&fx, TETHER_MAP), 0);
  CHECK_EQ(tether_owner_new(&g_dtor_owner), 0);
  atomic_store(&g_dtor_rc, 1);
  tether_reg_options ro = {.owner = g_dtor_owner};
  tether_id id = 0;
  tctx keep = {0};
  CHECK_EQ(tether_register(fx.r, "first", nop_fn, NULL, dtor_syncs, &ro, &id), 0);
  CHECK_EQ(tether_register(fx.r, "second", tctx_fn, &keep, tctx_free, &ro, NULL), 0);
  CHECK_EQ(tether_unregister_sync(fx.r, id), 0);
  CHECK_EQ(atomic_load(&g_dtor_rc), TETHER_EDEADLK);
  CHECK_EQ(tether_emit(fx.r, "second", NULL), 1);
  CHECK_EQ(tether_owner_free_sync(g_dtor_owner), 0);
  CHECK_EQ(atomic_load(&keep.freed), 1);
  CHECK_EQ(fixture_close(&fx), 0);
}
