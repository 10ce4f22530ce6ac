/* scripts/ab.sh: tether_emit of several builds of libtether in one process.
 *
 * Each argument is a libtether.so; all are dlopen'ed side by side (RTLD_LOCAL:
 * each keeps its own symbols and thread-local state) and measured in
 * interleaved rounds with liburcu's rculfhash (memb) doing the same lookup + call,
 * the workload of bench-registry's first table (1000 names "handler-N", a
 * trivial callback). Per build it prints the best ns/op and the median of the
 * rounds' tether/rculfhash ratios: a change worth a few percent shows up here,
 * where separate runs on a shared machine would drown it in noise. */
#define _GNU_SOURCE 1
#define _LGPL_SOURCE 1
#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <urcu/urcu-memb.h>
#include <urcu/rculfhash.h>

#include "internal.h" /* tether__hash, given to rculfhash as in bench-registry */
#include "tether/tether.h"

#define NAMES 1000
#define OPS 2000000
#define MAX_LIBS 8
#define MAX_ROUNDS 64

static char g_names[NAMES][16];
static unsigned g_order[NAMES];

typedef struct counter {
  uint64_t sum;
  char pad[120];
} counter;
static counter g_sum, g_ctx;

static int trivial(void *ctx, void *arg) {
  ((counter *)arg)->sum += ((counter *)ctx)->pad[0] + 1u;
  return 0;
}

static double now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

typedef int (*emit_fn)(tether_registry *, const char *, void *);

static double run_lib(emit_fn emit, tether_registry *r) {
  double t0 = now_ns();
  for (unsigned i = 0; i < OPS; i++) emit(r, g_names[g_order[i % NAMES]], &g_sum);
  return (now_ns() - t0) / OPS;
}

typedef struct lf_node {
  struct cds_lfht_node node;
  const char *name;
  tether_fn fn; /* called through the pointer, as tether calls its handlers */
  void *ctx;
} lf_node;

static int lf_match(struct cds_lfht_node *node, const void *key) {
  return strcmp(caa_container_of(node, lf_node, node)->name, key) == 0;
}

static double run_urcu(struct cds_lfht *ht) {
  double t0 = now_ns();
  for (unsigned i = 0; i < OPS; i++) {
    const char *name = g_names[g_order[i % NAMES]];
    struct cds_lfht_iter it;
    urcu_memb_read_lock();
    cds_lfht_lookup(ht, (unsigned long)tether__hash(name, strlen(name)), lf_match, name, &it);
    struct cds_lfht_node *node = cds_lfht_iter_get_node(&it);
    if (node != NULL) {
      lf_node *n = caa_container_of(node, lf_node, node);
      n->fn(n->ctx, &g_sum);
    }
    urcu_memb_read_unlock();
  }
  return (now_ns() - t0) / OPS;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

int main(int argc, char **argv) {
  int libs = argc - 1, rounds = getenv("AB_ROUNDS") ? atoi(getenv("AB_ROUNDS")) : 15;
  if (libs < 1 || libs > MAX_LIBS || rounds < 1 || rounds > MAX_ROUNDS) {
    fprintf(stderr, "usage: ab-dispatch LIBTETHER.so... (1 to %d; AB_ROUNDS 1 to %d)\n", MAX_LIBS,
            MAX_ROUNDS);
    return 2;
  }
  for (unsigned i = 0; i < NAMES; i++) {
    snprintf(g_names[i], sizeof g_names[i], "handler-%u", i);
    g_order[i] = i;
  }
  srand(12345);
  for (unsigned i = NAMES - 1; i > 0; i--) {
    unsigned j = (unsigned)rand() % (i + 1), t = g_order[i];
    g_order[i] = g_order[j];
    g_order[j] = t;
  }
  emit_fn emit[MAX_LIBS];
  tether_registry *reg[MAX_LIBS];
  for (int l = 0; l < libs; l++) {
    void *h = dlopen(argv[l + 1], RTLD_NOW | RTLD_LOCAL);
    if (h == NULL) {
      fprintf(stderr, "ab-dispatch: %s\n", dlerror());
      return 1;
    }
    emit[l] = (emit_fn)dlsym(h, "tether_emit");
    int (*reg_new)(tether_registry **, const tether_options *) = dlsym(h, "tether_registry_new");
    int (*reg_at)(tether_registry *, tether_site, const char *, tether_fn, void *, tether_free_fn,
                  const tether_reg_options *, tether_id *) = dlsym(h, "tether_register_at");
    if (emit[l] == NULL || reg_new == NULL || reg_at == NULL || reg_new(&reg[l], NULL) != 0) {
      fprintf(stderr, "ab-dispatch: %s: not a usable libtether\n", argv[l + 1]);
      return 1;
    }
    for (unsigned i = 0; i < NAMES; i++)
      reg_at(reg[l], TETHER_HERE, g_names[i], trivial, &g_ctx, NULL, NULL, NULL);
  }
  urcu_memb_register_thread();
  struct cds_lfht *ht =
      cds_lfht_new_flavor(1024, 1024, 0, CDS_LFHT_AUTO_RESIZE, &urcu_memb_flavor, NULL);
  static lf_node nodes[NAMES];
  for (unsigned i = 0; i < NAMES; i++) {
    nodes[i].name = g_names[i];
    nodes[i].fn = trivial;
    nodes[i].ctx = &g_ctx;
    cds_lfht_node_init(&nodes[i].node);
    urcu_memb_read_lock();
    cds_lfht_add(ht, (unsigned long)tether__hash(g_names[i], strlen(g_names[i])), &nodes[i].node);
    urcu_memb_read_unlock();
  }
  double best[MAX_LIBS], ratio[MAX_LIBS][MAX_ROUNDS], best_urcu = 1e30;
  for (int l = 0; l < libs; l++) {
    best[l] = 1e30;
    run_lib(emit[l], reg[l]); /* warm up */
  }
  run_urcu(ht);
  for (int k = 0; k < rounds; k++) {
    double u = run_urcu(ht);
    if (u < best_urcu) best_urcu = u;
    for (int l = 0; l < libs; l++) {
      double a = run_lib(emit[l], reg[l]);
      if (a < best[l]) best[l] = a;
      ratio[l][k] = a / u;
    }
  }
  printf("%d interleaved rounds, %d ops each; rculfhash (memb) best %.2f ns/op\n", rounds, OPS,
         best_urcu);
  printf("%-48s %10s %14s\n", "libtether", "best ns/op", "vs rculfhash");
  for (int l = 0; l < libs; l++) {
    qsort(ratio[l], (size_t)rounds, sizeof(double), cmp_double);
    printf("%-48s %10.2f %14.3f\n", argv[l + 1], best[l], ratio[l][rounds / 2]);
  }
  urcu_memb_unregister_thread();
  return 0;
}
