/* make bench: libtether's dispatch against its peers, same workload, same run.
 *
 * Workload: 1000 names "handler-N", a trivial callback (adds its argument into
 * the context), names visited in a fixed shuffled order. Each row is the best of
 * several timed runs (ns per lookup + call). Peers: GHashTable without a lock
 * (unsafe, the floor), GHashTable + GRWLock, liburcu's rculfhash (memb flavour,
 * read lock + lookup + call, hashed with the same string hash tether uses), and a
 * direct call through a function pointer. Then: two-thread scaling, readers with
 * a churning writer (rculfhash under the same churn as the reference), and memory
 * per registration from a counting allocator.
 * Benchmarks print; they never pass or fail. */
#define _GNU_SOURCE 1
#define _LGPL_SOURCE 1
#include <glib.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench-common.h"

#define RUNS 5
#define MAX_THREADS 32
static counter g_sums[MAX_THREADS];

/* ---- the workloads: each runs OPS lookups+calls and returns ns/op ---- */

typedef double (*workload)(void *state, unsigned thread);

static double run_tether(void *state, unsigned thread) {
  tether_registry *r = state;
  double t0 = now_ns();
  counter *sum = &g_sums[thread];
  for (unsigned i = 0, k = thread * 37; i < OPS; i++, k++) tether_emit(r, g_names[g_order[k % NAMES]], sum);
  return (now_ns() - t0) / OPS;
}

static double run_topic(void *state, unsigned thread) {
  tether_topic *t = state;
  counter *sum = &g_sums[thread];
  double t0 = now_ns();
  for (unsigned i = 0; i < OPS; i++) tether_topic_emit(t, sum);
  return (now_ns() - t0) / OPS;
}

typedef struct direct {
  tether_fn fn;
  counter *ctx;
} direct;

static double run_direct(void *state, unsigned thread) {
  direct *d = state;
  counter *sum = &g_sums[thread];
  tether_fn volatile fn = d->fn; /* keep it an indirect call */
  double t0 = now_ns();
  for (unsigned i = 0; i < OPS; i++) fn(d->ctx, sum);
  return (now_ns() - t0) / OPS;
}

typedef struct ghash {
  GHashTable *h;
  GRWLock lock;
  int locked;
} ghash;

static double run_ghash(void *state, unsigned thread) {
  ghash *g = state;
  counter *sum = &g_sums[thread];
  double t0 = now_ns();
  for (unsigned i = 0, k = thread * 37; i < OPS; i++, k++) {
    const char *name = g_names[g_order[k % NAMES]];
    if (g->locked) g_rw_lock_reader_lock(&g->lock);
    handler *h = g_hash_table_lookup(g->h, name);
    if (h) h->fn(h->ctx, sum);
    if (g->locked) g_rw_lock_reader_unlock(&g->lock);
  }
  return (now_ns() - t0) / OPS;
}

static double run_urcu(void *state, unsigned thread) {
  struct cds_lfht *ht = state;
  counter *sum = &g_sums[thread];
  urcu_memb_register_thread();
  double t0 = now_ns();
  for (unsigned i = 0, k = thread * 37; i < OPS; i++, k++)
    lf_call(ht, g_names[g_order[k % NAMES]], sum);
  double ns = (now_ns() - t0) / OPS;
  urcu_memb_unregister_thread();
  return ns;
}

/* ---- running a workload on N threads, best of RUNS ---- */

typedef struct job {
  workload fn;
  void *state;
  unsigned thread;
  double ns;
  pthread_barrier_t *start;
} job;

/* TETHER_BENCH_PIN=1: thread i runs on the i-th CPU of a list that takes one CPU
 * per physical core first, then their SMT siblings (from sysfs topology). */
static int g_pin_n;
static int g_pin_cpu[256];

static int read_int(const char *path) {
  FILE *f = fopen(path, "r");
  int v = -1;
  if (f != NULL) {
    if (fscanf(f, "%d", &v) != 1) v = -1;
    fclose(f);
  }
  return v;
}

static void pin_init(void) {
  const char *e = getenv("TETHER_BENCH_PIN");
  if (e == NULL || strcmp(e, "1") != 0) return;
  int core[256], pkg[256], n = 0;
  for (int cpu = 0; cpu < 256; cpu++) {
    char p[128];
    snprintf(p, sizeof p, "/sys/devices/system/cpu/cpu%d/topology/core_id", cpu);
    core[cpu] = read_int(p);
    snprintf(p, sizeof p, "/sys/devices/system/cpu/cpu%d/topology/physical_package_id", cpu);
    pkg[cpu] = read_int(p);
    if (core[cpu] >= 0) n = cpu + 1;
  }
  int used[256] = {0};
  for (int pass = 0; pass < 2; pass++)
    for (int cpu = 0; cpu < n; cpu++) {
      if (core[cpu] < 0 || used[cpu]) continue;
      int first = 1;
      for (int k = 0; k < g_pin_n; k++)
        if (core[g_pin_cpu[k]] == core[cpu] && pkg[g_pin_cpu[k]] == pkg[cpu]) first = 0;
      if (pass == 0 && !first) continue;
      used[cpu] = 1;
      g_pin_cpu[g_pin_n++] = cpu;
    }
  printf("  (threads pinned: one per physical core first, %d CPUs)\n", g_pin_n);
}

static void *job_main(void *arg) {
  job *j = arg;
  if (g_pin_n > 0) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(g_pin_cpu[j->thread % (unsigned)g_pin_n], &set);
    pthread_setaffinity_np(pthread_self(), sizeof set, &set);
  }
  pthread_barrier_wait(j->start);
  j->ns = j->fn(j->state, j->thread);
  return NULL;
}

/* Aggregate ns/op over all threads (total time / total ops), best of RUNS. */
static double measure_runs(workload fn, void *state, unsigned threads, int runs) {
  double best = 1e30;
  for (int run = 0; run < runs; run++) {
    pthread_t t[MAX_THREADS];
    job j[MAX_THREADS];
    pthread_barrier_t start;
    pthread_barrier_init(&start, NULL, threads);
    for (unsigned i = 0; i < threads; i++) {
      j[i] = (job){fn, state, i, 0, &start};
      pthread_create(&t[i], NULL, job_main, &j[i]);
    }
    double worst = 0;
    for (unsigned i = 0; i < threads; i++) {
      pthread_join(t[i], NULL);
      if (j[i].ns > worst) worst = j[i].ns;
    }
    pthread_barrier_destroy(&start);
    double aggregate = worst / threads;
    if (aggregate < best) best = aggregate;
  }
  return best;
}

static double measure(workload fn, void *state, unsigned threads) {
  return measure_runs(fn, state, threads, RUNS);
}

static void keep_min(double *best, double v) {
  if (v < *best) *best = v;
}

/* ---- churn: readers while a writer registers and unregisters other names ---- */

typedef struct churn {
  tether_registry *r;  /* tether's writer */
  struct cds_lfht *ht; /* or rculfhash's */
  _Atomic int stop;
  _Atomic uint64_t writes;
} churn;

static void *churn_writer(void *arg) {
  churn *c = arg;
  counter ctx = {0};
  char name[32];
  uint64_t n = 0;
  while (!atomic_load_explicit(&c->stop, memory_order_relaxed)) {
    tether_id id = 0;
    snprintf(name, sizeof name, "churn-%u", (unsigned)(n % 64));
    if (tether_register(c->r, name, trivial, &ctx, NULL, NULL, &id) == 0) tether_unregister(c->r, id);
    n++;
  }
  atomic_store(&c->writes, n);
  return NULL;
}

/* The same churn on rculfhash, done the way its users do it: add and delete
 * under the read lock, free after a grace period with call_rcu (its own
 * worker thread, as tether's deferred work has the background thread). */
typedef struct lf_churn_node {
  lf_node n;
  struct rcu_head rcu;
  char name[32];
} lf_churn_node;

static void lf_churn_free(struct rcu_head *head) {
  free(caa_container_of(head, lf_churn_node, rcu));
}

static void *churn_writer_urcu(void *arg) {
  churn *c = arg;
  static counter ctx;
  uint64_t n = 0;
  urcu_memb_register_thread();
  while (!atomic_load_explicit(&c->stop, memory_order_relaxed)) {
    lf_churn_node *x = malloc(sizeof *x);
    if (x == NULL) break;
    x->n.len = (size_t)snprintf(x->name, sizeof x->name, "churn-%u", (unsigned)(n % 64));
    x->n.name = x->name;
    x->n.h = (handler){trivial, &ctx};
    cds_lfht_node_init(&x->n.node);
    unsigned long h = (unsigned long)tether__hash(x->name, x->n.len);
    urcu_memb_read_lock();
    cds_lfht_add(c->ht, h, &x->n.node);
    urcu_memb_read_unlock();
    urcu_memb_read_lock();
    cds_lfht_del(c->ht, &x->n.node);
    urcu_memb_read_unlock();
    urcu_memb_call_rcu(&x->rcu, lf_churn_free);
    n++;
  }
  urcu_memb_unregister_thread();
  atomic_store(&c->writes, n);
  return NULL;
}

/* ---- memory per registration ---- */

static void nop_free(void *ctx) { (void)ctx; }

/* FULL: every registration also has a destructor, a ctx_size, an owner and a TTL. */
static void memory_row(int mode, unsigned per_name, unsigned n, int full, const char *what) {
  count_alloc ca = {0};
  tether_allocator a = {ca_alloc, ca_free, &ca};
  tether_options o = {.mode = mode, .allocator = &a};
  tether_registry *r = NULL;
  tether_registry_new(&r, &o);
  counter ctx = {0};
  tether_owner *owner = NULL;
  tether_owner_new(&owner); /* malloc'd, not counted: owners are not per registration */
  tether_reg_options full_opts = {.owner = owner, .ttl_ms = 3600000, .ctx_size = sizeof ctx};
  uint64_t base = atomic_load(&ca.bytes), names = 0;
  for (unsigned i = 0; i < n; i++) {
    char name[32];
    int len = snprintf(name, sizeof name, "handler-%u", i / per_name);
    if (i % per_name == 0) names += (uint64_t)len + 1;
    //tether:ignore TC201 freed with the registry
    tether_register(r, name, trivial, &ctx, full ? nop_free : NULL, full ? &full_opts : NULL, NULL);
  }
  tether_barrier(r); /* tables outgrown while registering are freed after their grace period */
  uint64_t used = atomic_load(&ca.bytes) - base;
  printf("  %-44s %8u %10.1f %10.1f\n", what, n, (double)used / n, (double)(used - names) / n);
  tether_registry_free(r);
  tether_owner_free(owner);
}

/* Readers with and without a churning writer, measured back to back in each of
 * ROUNDS rounds: kept is the median of the rounds' undisturbed/with-writer ratios,
 * the times are the best rounds. */
typedef struct kept_row {
  double undisturbed, with_writer, kept, writer_ops;
} kept_row;

/* Readers run READER on STATE; the writer runs WRITER on C (stop and writes reset
 * each round). */
static kept_row churn_rounds(workload reader, void *state, void *(*writer)(void *), churn *c,
                             unsigned readers, int rounds) {
  kept_row row = {1e30, 1e30, 0, 0};
  double ratio[16];
  if (rounds > 16) rounds = 16;
  for (int k = 0; k < rounds; k++) {
    double u = measure_runs(reader, state, readers, 1);
    atomic_store(&c->stop, 0);
    atomic_store(&c->writes, 0);
    pthread_t w;
    pthread_create(&w, NULL, writer, c);
    double t0 = now_ns();
    double d = measure_runs(reader, state, readers, 1);
    double secs = (now_ns() - t0) / 1e9;
    atomic_store(&c->stop, 1);
    pthread_join(w, NULL);
    ratio[k] = u / d;
    keep_min(&row.undisturbed, u);
    keep_min(&row.with_writer, d);
    double ops = (double)atomic_load(&c->writes) / secs;
    row.writer_ops = ops > row.writer_ops ? ops : row.writer_ops;
  }
  row.kept = median(ratio, rounds);
  return row;
}

int main(void) {
  counter ctx = {0};
  pin_init();
  bench_names_init();
  /* tether */
  tether_registry *r = NULL;
  tether_registry_new(&r, NULL);
  /* Registrations below live until tether_registry_free at the end. */
  //tether:ignore TC201 benchmark registrations, freed with the registry
  for (unsigned i = 0; i < NAMES; i++) tether_register(r, g_names[i], trivial, &ctx, NULL, NULL, NULL);
  /* GHashTable */
  static handler hs[NAMES];
  ghash gl = {g_hash_table_new(g_str_hash, g_str_equal), {0}, 1}, gu = {gl.h, {0}, 0};
  g_rw_lock_init(&gl.lock);
  for (unsigned i = 0; i < NAMES; i++) {
    hs[i] = (handler){trivial, &ctx};
    g_hash_table_insert(gl.h, g_names[i], &hs[i]);
  }
  /* rculfhash, memb flavour */
  static lf_node nodes[NAMES];
  struct cds_lfht *ht = lf_table_new(nodes, &ctx);
  tether_topic *topic = NULL;
  tether_registry *r1 = NULL;
  tether_registry_new(&r1, NULL);
  tether_register(r1, "one", trivial, &ctx, NULL, NULL, NULL); //tether:ignore TC201 freed with r1
  tether_topic_get(r1, "one", &topic);
  direct d = {trivial, &ctx};

  printf("libtether dispatch: %d names \"handler-N\", trivial callback, %d ops per thread, best of %d\n",
         NAMES, OPS, RUNS);
  printf("  %-44s %7s %10s %s\n", "workload (lookup + call)", "threads", "ns/op", "vs tether_emit");
  /* One untimed pass over every workload first: the first one measured would
   * otherwise pay for cold caches and a CPU still changing its clock. */
  run_tether(r, 0);
  run_ghash(&gu, 0);
  run_ghash(&gl, 0);
  run_urcu(ht, 0);
  /* Rounds interleave the workloads, so a noisy spell of this shared machine hits
   * them alike: each row is the best of its ROUNDS, and each ratio the median of
   * the per-round ratios (the best-of ratio is shown beside it). */
  enum { ROUNDS = 11 };
  double te1 = 1e30, gu1 = 1e30, gl1 = 1e30, lf1 = 1e30, tp1 = 1e30, dc1 = 1e30;
  double r_gl[ROUNDS], r_lf[ROUNDS], r_gu[ROUNDS], r_tp[ROUNDS];
  for (int k = 0; k < ROUNDS; k++) {
    double a_te = measure_runs(run_tether, r, 1, 1), a_gu = measure_runs(run_ghash, &gu, 1, 1);
    double a_gl = measure_runs(run_ghash, &gl, 1, 1), a_lf = measure_runs(run_urcu, ht, 1, 1);
    double a_tp = measure_runs(run_topic, topic, 1, 1), a_dc = measure_runs(run_direct, &d, 1, 1);
    r_gl[k] = a_te / a_gl;
    r_lf[k] = a_te / a_lf;
    r_gu[k] = a_gu / a_te;
    r_tp[k] = a_tp / a_dc;
    keep_min(&te1, a_te);
    keep_min(&gu1, a_gu);
    keep_min(&gl1, a_gl);
    keep_min(&lf1, a_lf);
    keep_min(&tp1, a_tp);
    keep_min(&dc1, a_dc);
  }
  printf("  (best of %d interleaved rounds; ratios: median of the rounds' ratios, best-of ratio in brackets)\n", ROUNDS);
  printf("  %-44s %7d %10.2f %s\n", "tether_emit", 1, te1, "1.00");
  printf("  %-44s %7d %10.2f %.2fx  (tether/peer %.2f [%.2f], target <= 0.50)\n", "GHashTable + GRWLock", 1, gl1,
         gl1 / te1, median(r_gl, ROUNDS), te1 / gl1);
  printf("  %-44s %7d %10.2f %.2fx  (tether/peer %.2f [%.2f], target <= 0.50)\n", "liburcu rculfhash (memb)", 1, lf1,
         lf1 / te1, median(r_lf, ROUNDS), te1 / lf1);
  printf("  %-44s %7d %10.2f %.2fx  (unsafe: no synchronisation; median %.2fx)\n", "GHashTable, no lock", 1, gu1,
         gu1 / te1, median(r_gu, ROUNDS));
  printf("  %-44s %7d %10.2f %s\n", "tether_topic_emit (one handler)", 1, tp1, "");
  printf("  %-44s %7d %10.2f topic/direct %.2f [%.2f] (target <= 3.00)\n", "direct call through a function pointer", 1,
         dc1, median(r_tp, ROUNDS), tp1 / dc1);

  /* Each round measures one thread and then two, back to back, per workload: the
   * scaling shown is the median of the rounds' ratios, so a spell in which the
   * host takes a CPU away spoils a round, not the figure. */
  enum { ROUNDS2 = 5 };
  double te2 = 1e30, gl2 = 1e30, lf2 = 1e30, s_te[ROUNDS2], s_gl[ROUNDS2], s_lf[ROUNDS2];
  for (int k = 0; k < ROUNDS2; k++) {
    double a1 = measure_runs(run_tether, r, 1, 1), a2 = measure_runs(run_tether, r, 2, 1);
    double b1 = measure_runs(run_ghash, &gl, 1, 1), b2 = measure_runs(run_ghash, &gl, 2, 1);
    double c1 = measure_runs(run_urcu, ht, 1, 1), c2 = measure_runs(run_urcu, ht, 2, 1);
    s_te[k] = a1 / a2;
    s_gl[k] = b1 / b2;
    s_lf[k] = c1 / c2;
    keep_min(&te2, a2);
    keep_min(&gl2, b2);
    keep_min(&lf2, c2);
  }
  printf("\n  two threads (aggregate ns/op, best of %d rounds; scaling = 1-thread ns / 2-thread aggregate ns,\n"
         "  median of the rounds, each measuring both back to back)\n", ROUNDS2);
  printf("  %-44s %7d %10.2f scaling %.2fx (target >= 1.80)\n", "tether_emit", 2, te2, median(s_te, ROUNDS2));
  printf("  %-44s %7d %10.2f scaling %.2fx\n", "GHashTable + GRWLock", 2, gl2, median(s_gl, ROUNDS2));
  printf("  %-44s %7d %10.2f scaling %.2fx\n", "liburcu rculfhash (memb)", 2, lf2, median(s_lf, ROUNDS2));

  /* Call tracking: the same names on a registry with track_calls, against the
   * untracked one in interleaved rounds (counts are per thread, so two threads
   * should still scale); then what a registering stack costs a registration. */
  tether_registry *rt = NULL;
  tether_options to = {.track_calls = 1};
  tether_registry_new(&rt, &to);
  for (unsigned i = 0; i < NAMES; i++) tether_register(rt, g_names[i], trivial, &ctx, NULL, NULL, NULL);
  run_tether(rt, 0);
  double off1 = 1e30, on1 = 1e30, on2 = 1e30, r_on[ROUNDS], s_on[ROUNDS2];
  for (int k = 0; k < ROUNDS; k++) {
    double a_off = measure_runs(run_tether, r, 1, 1), a_on = measure_runs(run_tether, rt, 1, 1);
    r_on[k] = a_on / a_off;
    keep_min(&off1, a_off);
    keep_min(&on1, a_on);
  }
  for (int k = 0; k < ROUNDS2; k++) {
    double a1 = measure_runs(run_tether, rt, 1, 1), a2 = measure_runs(run_tether, rt, 2, 1);
    s_on[k] = a1 / a2;
    keep_min(&on2, a2);
  }
  printf("\n  call tracking (track_calls: per-thread counts, last call to a 100 ms tick)\n");
  printf("  %-44s %7d %10.2f %s\n", "tether_emit, tracking off", 1, off1, "1.00");
  printf("  %-44s %7d %10.2f %.2fx (on/off median %.2f, target <= 1.50)\n", "tether_emit, tracking on", 1, on1,
         on1 / off1, median(r_on, ROUNDS));
  printf("  %-44s %7d %10.2f scaling %.2fx (target >= 1.80)\n", "tether_emit, tracking on", 2, on2,
         median(s_on, ROUNDS2));
  tether_registry_free(rt);
  static const unsigned depths[] = {0, 8, 32};
  printf("  %-44s %7s %10s\n", "register + unregister (capture_stack depth)", "depth", "ns/op");
  for (size_t k = 0; k < sizeof depths / sizeof depths[0]; k++) {
    tether_registry *rs = NULL;
    tether_options so = {.capture_stack = depths[k]};
    tether_registry_new(&rs, &so);
    enum { REGS = 20000 };
    double best = 1e30;
    for (int round = 0; round < 5; round++) {
      double t0 = now_ns();
      for (unsigned i = 0; i < REGS; i++) {
        tether_id id = 0;
        tether_register(rs, g_names[i % NAMES], trivial, &ctx, NULL, NULL, &id);
        tether_unregister(rs, id);
      }
      keep_min(&best, (now_ns() - t0) / REGS);
    }
    tether_registry_free(rs);
    printf("  %-44s %7u %10.1f\n", k == 0 ? "register + unregister, no stack" : "register + unregister, with stack",
           depths[k], best);
  }

  /* Churn: a writer registers and unregisters other names in a tight loop. When
   * readers + writer outnumber the CPUs, the readers lose CPU time, not just
   * cache lines: a fair share caps kept at CPUs / (readers + 1), shown beside
   * the row, and rculfhash under the same churn is the reference. */
  printf("\n  readers while another thread registers/unregisters other names in a tight loop\n"
         "  (kept: median over 5 rounds of undisturbed/with-writer, both measured back to back)\n");
  long cpus = sysconf(_SC_NPROCESSORS_ONLN);
  churn tc = {.r = r}, uc = {.ht = ht};
  for (unsigned readers = 1; readers <= 2; readers++) {
    kept_row row = churn_rounds(run_tether, r, churn_writer, &tc, readers, 5);
    kept_row peer = churn_rounds(run_urcu, ht, churn_writer_urcu, &uc, readers, 5);
    char what[64], cap[64] = "";
    if (cpus > 0 && (long)readers + 1 > cpus)
      snprintf(cap, sizeof cap, " (%u threads on %ld CPUs: at most %.2f)", readers + 1, cpus,
               (double)cpus / (readers + 1));
    snprintf(what, sizeof what, "tether_emit, %u reader%s + 1 writer", readers, readers > 1 ? "s" : "");
    printf("  %-44s %7u %10.2f kept %.2f (target >= 0.70)%s; writer %.0f ops/s\n", what, readers,
           row.with_writer, row.kept, cap, row.writer_ops);
    snprintf(what, sizeof what, "liburcu rculfhash (memb), same churn");
    printf("  %-44s %7u %10.2f kept %.2f; writer %.0f ops/s\n", what, readers, peer.with_writer,
           peer.kept, peer.writer_ops);
  }

  /* TETHER_BENCH_THREADS=N (make bench on a bigger machine): scaling from 1 to N
   * threads, and readers with a churning writer when cores are not oversubscribed. */
  const char *tenv = getenv("TETHER_BENCH_THREADS");
  unsigned maxt = tenv ? (unsigned)strtoul(tenv, NULL, 10) : 0;
  if (maxt > MAX_THREADS) maxt = MAX_THREADS;
  if (maxt > 2) {
    printf("\n  scaling (TETHER_BENCH_THREADS=%u): aggregate ns/op, and throughput vs one thread\n", maxt);
    printf("  %7s %12s %8s %12s %8s %12s %8s\n", "threads", "tether_emit", "scaling", "rculfhash", "scaling",
           "GRWLock", "scaling");
    double a1 = 0, b1 = 0, c1 = 0; /* this table's own 1-thread row is the base */
    for (unsigned n = 1; n <= maxt; n *= 2) {
      double a = measure(run_tether, r, n), b = measure(run_urcu, ht, n), c = measure(run_ghash, &gl, n);
      if (n == 1) {
        a1 = a;
        b1 = b;
        c1 = c;
      }
      printf("  %7u %12.2f %7.2fx %12.2f %7.2fx %12.2f %7.2fx\n", n, a, a1 / a, b, b1 / b, c, c1 / c);
    }
    printf("\n  readers with one writer registering/unregistering other names (kept = vs the same readers undisturbed)\n");
    printf("  %7s %12s %12s %8s %14s\n", "readers", "undisturbed", "with writer", "kept", "writer ops/s");
    for (unsigned n = 1; n < maxt; n *= 2) {
      churn tc = {.r = r};
      kept_row row = churn_rounds(run_tether, r, churn_writer, &tc, n, 3);
      printf("  %7u %12.2f %12.2f %8.2f %14.0f\n", n, row.undisturbed, row.with_writer, row.kept, row.writer_ops);
    }
  }

  printf("\n  memory per registration (counting allocator; name bytes = strlen + 1 per name)\n");
  printf("  %-44s %8s %10s %10s\n", "registry", "regs", "B/reg", "B/reg-name");
  memory_row(TETHER_MAP, 1, 1000, 0, "MAP, 1000 names");
  memory_row(TETHER_MAP, 1, 100000, 0, "MAP, 100000 names");
  memory_row(TETHER_BUS, 10, 100000, 0, "BUS, 10 handlers per name");
  printf("  with a destructor, ctx_size, an owner and a TTL on every registration (the options' cost):\n");
  memory_row(TETHER_MAP, 1, 100000, 1, "MAP, 100000 names, every option");
  memory_row(TETHER_BUS, 10, 100000, 1, "BUS, 10 handlers per name, every option");

  tether_topic_release(topic);
  tether_registry_free(r1);
  tether_registry_free(r);
  g_hash_table_destroy(gl.h);
  uint64_t total = 0;
  for (int i = 0; i < MAX_THREADS; i++) total += g_sums[i].sum;
  printf("(checksum %llu)\n", (unsigned long long)total);
  return 0;
}
