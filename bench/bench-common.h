/* What the benchmarks share: the workload (NAMES names "handler-N", 1000
 * unless the program defines more, in one fixed shuffled order, the trivial
 * callback), the clock, a counting allocator, rculfhash as the peer, and the
 * median. Each program includes it once (with _GNU_SOURCE and _LGPL_SOURCE
 * defined first, so urcu's read side is inline). */
#ifndef TETHER_BENCH_COMMON_H
#define TETHER_BENCH_COMMON_H

#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <urcu/urcu-memb.h>
#include <urcu/rculfhash.h>

#include "internal.h" /* tether__hash: the library's string hash, given to rculfhash too */
#include "tether/tether.h"

/* A program may define NAMES (and OPS) before including this header. */
#ifndef NAMES
#define NAMES 1000
#endif
#ifndef OPS
#define OPS 2000000
#endif

/* The names and the order every workload visits them in. */
static char g_names[NAMES][16];
static unsigned g_order[NAMES];

static inline void bench_names_init(void) {
  for (unsigned i = 0; i < NAMES; i++) {
    snprintf(g_names[i], sizeof g_names[i], "handler-%u", i);
    g_order[i] = i;
  }
  srand(42);
  for (unsigned i = NAMES - 1; i > 0; i--) {
    unsigned j = (unsigned)rand() % (i + 1), t = g_order[i];
    g_order[i] = g_order[j];
    g_order[j] = t;
  }
}

/* The callback adds the handler's context value into a per-thread counter passed
 * as the argument: no callback writes memory another thread touches. Counters
 * are 128 bytes apart: adjacent-line prefetching moves 64-byte lines in pairs. */
typedef struct counter {
  uint64_t sum;
  char pad[120];
} counter;

static inline int trivial(void *ctx, void *arg) {
  ((counter *)arg)->sum += ((counter *)ctx)->pad[0] + 1u;
  return 0;
}

typedef struct handler {
  tether_fn fn;
  counter *ctx;
} handler;

/* A counting tether_allocator (ud is a count_alloc): bytes holds what is live,
 * total every byte ever asked for. */
typedef struct count_alloc {
  _Atomic uint64_t bytes, total;
} count_alloc;

static inline void *ca_alloc(void *ud, size_t size) {
  atomic_fetch_add(&((count_alloc *)ud)->bytes, size);
  atomic_fetch_add(&((count_alloc *)ud)->total, size);
  return malloc(size);
}

static inline void ca_free(void *ud, void *p, size_t size) {
  atomic_fetch_sub(&((count_alloc *)ud)->bytes, size);
  free(p);
}

static inline double now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/* rculfhash (memb flavour): a node per name, hashed with tether's hash, its
 * handler called through the node's pointer as tether calls its handlers. */
typedef struct lf_node {
  struct cds_lfht_node node;
  const char *name;
  size_t len;
  handler h;
} lf_node;

/* The hash rculfhash's nodes are filed under: tether's string hash. */
static inline unsigned long lf_hash(const char *name, size_t len) {
  return (unsigned long)tether__hash(name, len);
}

static inline int lf_match(struct cds_lfht_node *node, const void *key) {
  const lf_node *n = caa_container_of(node, lf_node, node);
  return strcmp(n->name, key) == 0;
}

/* A table of NODES[NAMES], one per name, each calling trivial on CTX. The
 * calling thread must not be registered with urcu. */
static inline struct cds_lfht *lf_table_new(lf_node *nodes, counter *ctx) {
  urcu_memb_register_thread();
  struct cds_lfht *ht =
      cds_lfht_new_flavor(1024, 1024, 0, CDS_LFHT_AUTO_RESIZE, &urcu_memb_flavor, NULL);
  for (unsigned i = 0; i < NAMES; i++) {
    nodes[i].name = g_names[i];
    nodes[i].len = strlen(g_names[i]);
    nodes[i].h = (handler){trivial, ctx};
    cds_lfht_node_init(&nodes[i].node);
    urcu_memb_read_lock();
    cds_lfht_add(ht, lf_hash(g_names[i], nodes[i].len), &nodes[i].node);
    urcu_memb_read_unlock();
  }
  urcu_memb_unregister_thread();
  return ht;
}

/* One lookup + call, the peer's unit of work (the thread is registered). */
static inline void lf_call(struct cds_lfht *ht, const char *name, void *arg) {
  struct cds_lfht_iter it;
  urcu_memb_read_lock();
  cds_lfht_lookup(ht, lf_hash(name, strlen(name)), lf_match, name, &it);
  struct cds_lfht_node *node = cds_lfht_iter_get_node(&it);
  if (node) {
    lf_node *n = caa_container_of(node, lf_node, node);
    n->h.fn(n->h.ctx, arg);
  }
  urcu_memb_read_unlock();
}

static inline int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static inline double median(double *v, int n) {
  qsort(v, (size_t)n, sizeof *v, cmp_double);
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

#endif /* TETHER_BENCH_COMMON_H */
