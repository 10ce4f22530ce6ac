/* make bench-article: the C and C++ half of the article's comparison table.
 *
 * One run measures one peer on the article's set-up: register NAMES (100000)
 * names "handler-N", then --ops lookups + calls (default 10000000) visiting the
 * names in bench-common.h's shuffled order, on --threads reader threads, and
 * with --churn a writer thread registering and removing other names meanwhile
 * in a tight loop (the readers then stop after --churn-seconds, default 2, if
 * the ops take longer: a locked peer's readers can starve behind the writer).
 * It prints one raw result line (tab-separated key=value fields, the same as
 * bench/go's articlebench) for scripts/bench-article.sh to gather.
 *
 * Bytes: peers that take an allocator (tether's tether_allocator, uthash's
 * uthash_malloc, the C++ containers' allocator) get a counting one, which gives
 * every byte asked for and what stays live; the others (GLib, rculfhash, Boost)
 * are measured by mallinfo2 deltas of the bytes malloc has in use. Only the
 * public API of libtether is used for its rows. Benchmarks print; they never
 * pass or fail on timings. */
#define _GNU_SOURCE 1
#define _LGPL_SOURCE 1
#define NAMES 100000
#include <errno.h>
#include <glib.h>
#include <malloc.h>
#include <pthread.h>
#include <stdatomic.h>
#include <unistd.h>

#include "bench-common.h"
#include "bench-article.h"

/* Under valgrind --tool=callgrind --instr-atstart=no --collect-atstart=no, only
 * the readers' loops are instrumented and counted: the set-up runs at
 * valgrind's uninstrumented speed, and other threads are not counted. Outside
 * valgrind these are a few no-op instructions per run. */
#if __has_include(<valgrind/callgrind.h>)
#include <valgrind/callgrind.h>
#else
#define CALLGRIND_START_INSTRUMENTATION
#define CALLGRIND_STOP_INSTRUMENTATION
#define CALLGRIND_TOGGLE_COLLECT
#endif

static count_alloc g_ca;

void *article_alloc(size_t size) { return ca_alloc(&g_ca, size); }
void article_free(void *ptr, size_t size) { ca_free(&g_ca, ptr, size); }

/* uthash's table memory goes through the counting allocator too. */
#define uthash_malloc(sz) article_alloc(sz)
#define uthash_free(ptr, sz) article_free((ptr), (sz))
#include <uthash.h>

/* ---- tether: tether_emit, a topic per name, one topic ---- */

typedef struct tether_state {
  tether_registry *r;
  const char *const *names;
  tether_topic **topics; /* a topic per name, or the one topic */
} tether_state;

static void *tether_setup_names(const char *const *names, unsigned n, tether_fn fn, void *ctx) {
  static const tether_allocator counting = {ca_alloc, ca_free, &g_ca};
  tether_options o = {.allocator = &counting};
  tether_state *s = article_alloc(sizeof *s);
  if (s == NULL || tether_registry_new(&s->r, &o) != 0) return NULL;
  s->names = names;
  s->topics = NULL;
  for (unsigned i = 0; i < n; i++) //tether:ignore TC201 live until the process exits
    if (tether_register(s->r, names[i], fn, ctx, NULL, NULL, NULL) != 0) return NULL;
  return s;
}

static void *tether_setup_topics(const char *const *names, unsigned n, tether_fn fn, void *ctx) {
  tether_state *s = tether_setup_names(names, n, fn, ctx);
  if (s == NULL) return NULL;
  s->topics = article_alloc(n * sizeof *s->topics);
  if (s->topics == NULL) return NULL;
  for (unsigned i = 0; i < n; i++)
    if (tether_topic_get(s->r, names[i], &s->topics[i]) != 0) return NULL;
  return s;
}

static void *tether_setup_one_topic(const char *const *names, unsigned n, tether_fn fn, void *ctx) {
  (void)n;
  return tether_setup_topics(names, 1, fn, ctx);
}

static void tether_emit_op(void *state, unsigned index, void *arg) {
  tether_state *s = state;
  tether_emit(s->r, s->names[index], arg);
}

static void tether_topic_op(void *state, unsigned index, void *arg) {
  tether_topic_emit(((tether_state *)state)->topics[index], arg);
}

static void tether_one_topic_op(void *state, unsigned index, void *arg) {
  (void)index;
  tether_topic_emit(((tether_state *)state)->topics[0], arg);
}

static int tether_add(void *state, const char *name, tether_fn fn, void *ctx) {
  //tether:ignore TC201 removed by tether_remove right after
  return tether_register(((tether_state *)state)->r, name, fn, ctx, NULL, NULL, NULL);
}

static void tether_remove(void *state, const char *name) {
  tether_unregister_name(((tether_state *)state)->r, name);
}

/* ---- GHashTable + GRWLock: the value is a handler, freed by the table ---- */

typedef struct ghash_state {
  GHashTable *h;
  const char *const *names;
  GRWLock lock;
} ghash_state;

static int ghash_insert(ghash_state *s, const char *name, tether_fn fn, void *ctx) {
  handler *h = g_new(handler, 1);
  *h = (handler){fn, ctx};
  g_rw_lock_writer_lock(&s->lock);
  g_hash_table_replace(s->h, (gpointer)(uintptr_t)name, h); /* GLib keys are not const */
  g_rw_lock_writer_unlock(&s->lock);
  return 0;
}

static void *ghash_setup(const char *const *names, unsigned n, tether_fn fn, void *ctx) {
  ghash_state *s = g_new(ghash_state, 1);
  s->h = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, g_free);
  s->names = names;
  g_rw_lock_init(&s->lock);
  for (unsigned i = 0; i < n; i++) ghash_insert(s, names[i], fn, ctx);
  return s;
}

static void ghash_op(void *state, unsigned index, void *arg) {
  ghash_state *s = state;
  g_rw_lock_reader_lock(&s->lock);
  const handler *h = g_hash_table_lookup(s->h, s->names[index]);
  if (h != NULL) h->fn(h->ctx, arg);
  g_rw_lock_reader_unlock(&s->lock);
}

static int ghash_add(void *state, const char *name, tether_fn fn, void *ctx) {
  return ghash_insert(state, name, fn, ctx);
}

static void ghash_remove(void *state, const char *name) {
  ghash_state *s = state;
  g_rw_lock_writer_lock(&s->lock);
  g_hash_table_remove(s->h, name);
  g_rw_lock_writer_unlock(&s->lock);
}

/* ---- rculfhash (memb): bench-common.h's table; churn nodes freed after a
 * grace period by call_rcu ---- */

typedef struct lf_state {
  struct cds_lfht *ht;
  const char *const *names;
} lf_state;

typedef struct lf_churn {
  lf_node n;
  struct rcu_head rcu;
} lf_churn;

static void *lf_setup(const char *const *names, unsigned n, tether_fn fn, void *ctx) {
  (void)fn; /* lf_table_new files every name, each calling trivial on ctx */
  lf_state *s = malloc(sizeof *s);
  lf_node *nodes = malloc(NAMES * sizeof *nodes);
  if (s == NULL || nodes == NULL || n != NAMES) return NULL;
  s->ht = lf_table_new(nodes, ctx);
  s->names = names;
  return s;
}

/* A resize the additions started runs in the table's worker thread: it has no
 * completion to wait for, so give it time before memory and instructions are
 * counted. */
static void lf_settle(void *state) {
  (void)state;
  usleep(200 * 1000);
}

static void lf_op(void *state, unsigned index, void *arg) {
  lf_state *s = state;
  lf_call(s->ht, s->names[index], arg);
}

static int lf_add(void *state, const char *name, tether_fn fn, void *ctx) {
  lf_churn *c = malloc(sizeof *c);
  if (c == NULL) return -ENOMEM;
  c->n.name = name;
  c->n.len = strlen(name);
  c->n.h = (handler){fn, ctx};
  cds_lfht_node_init(&c->n.node);
  urcu_memb_read_lock();
  cds_lfht_add(((lf_state *)state)->ht, lf_hash(name, c->n.len), &c->n.node);
  urcu_memb_read_unlock();
  return 0;
}

static void lf_churn_free(struct rcu_head *head) {
  free(caa_container_of(head, lf_churn, rcu));
}

static void lf_remove(void *state, const char *name) {
  struct cds_lfht_iter it;
  lf_churn *c = NULL;
  urcu_memb_read_lock();
  cds_lfht_lookup(((lf_state *)state)->ht, lf_hash(name, strlen(name)), lf_match, name, &it);
  struct cds_lfht_node *node = cds_lfht_iter_get_node(&it);
  if (node != NULL && cds_lfht_del(((lf_state *)state)->ht, node) == 0)
    c = caa_container_of(node, lf_churn, n.node);
  urcu_memb_read_unlock();
  if (c != NULL) urcu_memb_call_rcu(&c->rcu, lf_churn_free);
}

static void lf_enter(void *state) {
  (void)state;
  urcu_memb_register_thread();
}

static void lf_leave(void *state) {
  (void)state;
  urcu_memb_unregister_thread();
}

/* ---- uthash + pthread_rwlock ---- */

typedef struct ut_item {
  const char *name;
  handler h;
  UT_hash_handle hh;
} ut_item;

typedef struct ut_state {
  ut_item *head;
  const char *const *names;
  pthread_rwlock_t lock;
} ut_state;

static int ut_add(void *state, const char *name, tether_fn fn, void *ctx) {
  ut_state *s = state;
  ut_item *it = article_alloc(sizeof *it);
  if (it == NULL) return -ENOMEM;
  it->name = name;
  it->h = (handler){fn, ctx};
  pthread_rwlock_wrlock(&s->lock);
  HASH_ADD_KEYPTR(hh, s->head, it->name, strlen(it->name), it);
  pthread_rwlock_unlock(&s->lock);
  return 0;
}

static void *ut_setup(const char *const *names, unsigned n, tether_fn fn, void *ctx) {
  ut_state *s = article_alloc(sizeof *s);
  if (s == NULL) return NULL;
  s->head = NULL;
  s->names = names;
  pthread_rwlock_init(&s->lock, NULL);
  for (unsigned i = 0; i < n; i++)
    if (ut_add(s, names[i], fn, ctx) != 0) return NULL;
  return s;
}

static void ut_op(void *state, unsigned index, void *arg) {
  ut_state *s = state;
  ut_item *it = NULL;
  pthread_rwlock_rdlock(&s->lock);
  HASH_FIND_STR(s->head, s->names[index], it);
  if (it != NULL) it->h.fn(it->h.ctx, arg);
  pthread_rwlock_unlock(&s->lock);
}

static void ut_remove(void *state, const char *name) {
  ut_state *s = state;
  ut_item *it = NULL;
  pthread_rwlock_wrlock(&s->lock);
  HASH_FIND_STR(s->head, name, it);
  if (it != NULL) HASH_DEL(s->head, it);
  pthread_rwlock_unlock(&s->lock);
  if (it != NULL) article_free(it, sizeof *it);
}

/* ---- the floor: the handler called through its pointer, no lookup ---- */

static void *direct_setup(const char *const *names, unsigned n, tether_fn fn, void *ctx) {
  (void)names;
  (void)n;
  handler *h = malloc(sizeof *h);
  if (h != NULL) *h = (handler){fn, ctx};
  return h;
}

static void direct_op(void *state, unsigned index, void *arg) {
  (void)index;
  const handler *h = state;
  h->fn(h->ctx, arg);
}

/* ---- the C peers, in row order ---- */

static const article_peer c_peers[] = {
    {"tether_emit", "c", "counting allocator", 0, tether_setup_names, NULL, tether_emit_op, tether_add,
     tether_remove, NULL, NULL},
    {"tether_topic_emit (a topic per name)", "c", "counting allocator", 0, tether_setup_topics, NULL,
     tether_topic_op, tether_add, tether_remove, NULL, NULL},
    {"GHashTable + GRWLock", "c", "mallinfo2", 0, ghash_setup, NULL, ghash_op, ghash_add, ghash_remove, NULL,
     NULL},
    {"rculfhash (memb)", "c", "mallinfo2", 0, lf_setup, lf_settle, lf_op, lf_add, lf_remove, lf_enter, lf_leave},
    {"uthash + pthread_rwlock", "c", "counting allocator", 0, ut_setup, NULL, ut_op, ut_add, ut_remove, NULL,
     NULL},
    {"tether_topic_emit (one topic)", "c", "counting allocator", 1, tether_setup_one_topic, NULL,
     tether_one_topic_op, NULL, NULL, NULL, NULL},
    {"direct call of the handler (no lookup)", "c", "mallinfo2", 1, direct_setup, NULL, direct_op, NULL, NULL,
     NULL, NULL},
};

#define C_PEERS (sizeof c_peers / sizeof c_peers[0])

static const article_peer *peer_at(unsigned i) {
  return i < C_PEERS ? &c_peers[i] : i - C_PEERS < article_cxx_peer_count ? &article_cxx_peers[i - C_PEERS] : NULL;
}

static const article_peer *peer_named(const char *name) {
  for (unsigned i = 0; peer_at(i) != NULL; i++)
    if (strcmp(peer_at(i)->name, name) == 0) return peer_at(i);
  return NULL;
}

/* ---- the harness ---- */

#define MAX_READERS 8
#define CHURN_NAMES 64

static counter g_sums[MAX_READERS + 1]; /* one per reader; the last one is the writer's ctx */
static char g_churn_names[CHURN_NAMES][16];

typedef struct run {
  const article_peer *peer;
  void *state;
  unsigned names;     /* how many names the lookups visit */
  double max_ns;      /* a reader stops after this long (churn rows); 0: never */
  pthread_barrier_t go;
  _Atomic int stop;
  uint64_t writes;
} run;

typedef struct reader {
  run *run;
  unsigned thread, start;
  uint64_t ops, done;  /* asked for, carried out */
  double begin, end;   /* its own clock readings: the main thread may be off the CPU */
} reader;

static void *reader_main(void *arg) {
  reader *rd = arg;
  const article_peer *p = rd->run->peer;
  void *state = rd->run->state;
  counter *sum = &g_sums[rd->thread];
  if (p->thread_enter != NULL) p->thread_enter(state);
  pthread_barrier_wait(&rd->run->go);
  rd->begin = now_ns();
  double deadline = rd->run->max_ns > 0 ? rd->begin + rd->run->max_ns : 1e300;
  unsigned k = rd->start, n = rd->run->names;
  uint64_t i = 0;
  CALLGRIND_START_INSTRUMENTATION;
  CALLGRIND_TOGGLE_COLLECT;
  while (i < rd->ops) {
    p->call(state, n == 1 ? 0 : g_order[k], sum);
    if (++k == n) k = 0;
    if ((++i & 4095) == 0 && now_ns() > deadline) break;
  }
  CALLGRIND_TOGGLE_COLLECT;
  CALLGRIND_STOP_INSTRUMENTATION;
  rd->end = now_ns();
  rd->done = i;
  if (p->thread_leave != NULL) p->thread_leave(state);
  return NULL;
}

static void *writer_main(void *arg) {
  run *r = arg;
  const article_peer *p = r->peer;
  uint64_t n = 0;
  if (p->thread_enter != NULL) p->thread_enter(r->state);
  pthread_barrier_wait(&r->go);
  while (!atomic_load_explicit(&r->stop, memory_order_relaxed)) {
    const char *name = g_churn_names[n % CHURN_NAMES];
    if (p->add(r->state, name, trivial, &g_sums[MAX_READERS]) == 0) p->remove(r->state, name);
    n++;
  }
  if (p->thread_leave != NULL) p->thread_leave(r->state);
  r->writes = n;
  return NULL;
}

/* CPU time of the whole process: against the wall time it says how many CPUs
 * the run really had. */
static double cpu_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/* Bytes malloc has handed out and not taken back, in every arena. */
static int64_t heap_in_use(void) {
  struct mallinfo2 m = mallinfo2();
  return (int64_t)(m.uordblks + m.hblkhd);
}

typedef struct bytes {
  int64_t heap;
  uint64_t live, total;
} bytes;

static bytes bytes_now(void) {
  return (bytes){heap_in_use(), atomic_load(&g_ca.bytes), atomic_load(&g_ca.total)};
}

/* Bytes asked for between A and B (the counting allocator), or the growth of
 * malloc's bytes in use (mallinfo2). */
static int64_t allocated(const article_peer *p, bytes a, bytes b) {
  return strcmp(p->alloc_source, "mallinfo2") == 0 ? b.heap - a.heap : (int64_t)(b.total - a.total);
}

static int64_t retained(const article_peer *p, bytes a, bytes b) {
  return strcmp(p->alloc_source, "mallinfo2") == 0 ? b.heap - a.heap : (int64_t)(b.live - a.live);
}

static int measure(const article_peer *p, uint64_t ops, unsigned threads, int churn, double churn_seconds) {
  static const char *names[NAMES];
  for (unsigned i = 0; i < NAMES; i++) names[i] = g_names[i];
  for (unsigned i = 0; i < CHURN_NAMES; i++) snprintf(g_churn_names[i], sizeof g_churn_names[i], "churn-%u", i);
  run r = {.peer = p, .names = p->single ? 1 : NAMES, .max_ns = churn ? churn_seconds * 1e9 : 0};

  bytes b0 = bytes_now();
  double t0 = now_ns();
  r.state = p->setup(names, NAMES, trivial, &g_sums[MAX_READERS]);
  double t1 = now_ns();
  if (r.state == NULL) {
    fprintf(stderr, "bench-article: %s: set-up failed\n", p->name);
    return 1;
  }
  if (p->settle != NULL) p->settle(r.state);
  pthread_barrier_init(&r.go, NULL, threads + (churn ? 1u : 0u) + 1u);
  pthread_t tid[MAX_READERS], wtid;
  reader rd[MAX_READERS];
  for (unsigned t = 0; t < threads; t++) {
    rd[t] = (reader){.run = &r, .thread = t, .start = t * (r.names / threads),
                     .ops = ops / threads + (t == 0 ? ops % threads : 0)};
    pthread_create(&tid[t], NULL, reader_main, &rd[t]);
  }
  if (churn) pthread_create(&wtid, NULL, writer_main, &r);
  bytes b1 = bytes_now();
  double cpu0 = cpu_ns();
  pthread_barrier_wait(&r.go);
  for (unsigned t = 0; t < threads; t++) pthread_join(tid[t], NULL);
  double cpu1 = cpu_ns();
  atomic_store(&r.stop, 1);
  if (churn) pthread_join(wtid, NULL);
  bytes b2 = bytes_now();

  /* The lookups' wall time: first reader's start to last reader's end. */
  double t2 = rd[0].begin, t3 = rd[0].end;
  uint64_t calls = 0, done = 0;
  for (unsigned t = 0; t < threads; t++) {
    if (rd[t].begin < t2) t2 = rd[t].begin;
    if (rd[t].end > t3) t3 = rd[t].end;
    calls += g_sums[t].sum;
    done += rd[t].done;
  }
  if (calls != done) {
    fprintf(stderr, "bench-article: %s: %llu of %llu lookups called their handler\n", p->name,
            (unsigned long long)calls, (unsigned long long)done);
    return 1;
  }
  ops = done;
  char row[160];
  if (churn)
    snprintf(row, sizeof row, "%s + churn, %u thread%s", p->name, threads, threads > 1 ? "s" : "");
  else if (threads > 1)
    snprintf(row, sizeof row, "%s, %u threads", p->name, threads);
  else
    snprintf(row, sizeof row, "%s", p->name);
  printf("variant=%s\tlang=%s\tthreads=%u\tchurn=%s\tnames=%u\tops=%llu\tns_per_op=%.2f\treg_ns=%.1f"
         "\talloc_bytes=%lld\treg_alloc_bytes=%lld\tread_alloc_bytes=%lld\tretained_bytes=%lld"
         "\talloc_source=%s\tcpu_per_wall=%.2f",
         row, p->lang, threads, churn ? "true" : "false", p->single ? 1u : NAMES, (unsigned long long)ops,
         (t3 - t2) / (double)ops, (t1 - t0) / (p->single ? 1 : NAMES), (long long)allocated(p, b0, b2),
         (long long)allocated(p, b0, b1), (long long)allocated(p, b1, b2), (long long)retained(p, b0, b2),
         p->alloc_source, (cpu1 - cpu0) / (t3 - t2));
  if (churn) printf("\twriter_ops_per_s=%.0f", (double)r.writes / ((t3 - t2) / 1e9));
  printf("\n");
  return 0;
}

static void usage(void) {
  fprintf(stderr, "usage: bench-article [--ops N] [--threads 1-%d] [--churn [--churn-seconds S]] PEER\n"
                  "       bench-article --list\n", MAX_READERS);
}

int main(int argc, char **argv) {
  uint64_t ops = 10000000;
  unsigned threads = 1;
  int churn = 0;
  double churn_seconds = 2;
  const char *name = NULL;
  for (int i = 1; i < argc; i++) {
    char *end = NULL;
    if (strcmp(argv[i], "--list") == 0) {
      for (unsigned k = 0; peer_at(k) != NULL; k++)
        printf("%s\t%s\t%s\n", peer_at(k)->name, peer_at(k)->lang, peer_at(k)->add ? "churn" : "-");
      return 0;
    } else if (strcmp(argv[i], "--churn") == 0) {
      churn = 1;
    } else if (strcmp(argv[i], "--ops") == 0 && i + 1 < argc) {
      errno = 0;
      unsigned long long v = strtoull(argv[++i], &end, 10);
      if (errno != 0 || *end != '\0' || v == 0 || v > (1ull << 40) || argv[i][0] == '-') {
        fprintf(stderr, "bench-article: --ops wants a positive count, not '%s'\n", argv[i]);
        return 2;
      }
      ops = v;
    } else if (strcmp(argv[i], "--churn-seconds") == 0 && i + 1 < argc) {
      double v = strtod(argv[++i], &end);
      if (*end != '\0' || !(v > 0 && v <= 3600)) {
        fprintf(stderr, "bench-article: --churn-seconds wants seconds (above 0, at most 3600), not '%s'\n", argv[i]);
        return 2;
      }
      churn_seconds = v;
    } else if (strcmp(argv[i], "--threads") == 0 && i + 1 < argc) {
      unsigned long v = strtoul(argv[++i], &end, 10);
      if (*end != '\0' || v < 1 || v > MAX_READERS) {
        fprintf(stderr, "bench-article: --threads wants 1 to %d, not '%s'\n", MAX_READERS, argv[i]);
        return 2;
      }
      threads = (unsigned)v;
    } else if (argv[i][0] == '-' || name != NULL) {
      usage();
      return 2;
    } else {
      name = argv[i];
    }
  }
  if (name == NULL) {
    usage();
    return 2;
  }
  const article_peer *p = peer_named(name);
  if (p == NULL) {
    fprintf(stderr, "bench-article: no peer named '%s' (see --list)\n", name);
    return 2;
  }
  if (churn && p->add == NULL) {
    fprintf(stderr, "bench-article: %s: not measured under churn\n", p->name);
    return 2;
  }
  bench_names_init();
  return measure(p, ops, threads, churn, churn_seconds);
}
