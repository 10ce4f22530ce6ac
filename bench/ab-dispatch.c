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

#include "bench-common.h"

#define MAX_LIBS 8
#define MAX_ROUNDS 64

static counter g_sum, g_ctx;

typedef int (*emit_fn)(tether_registry *, const char *, void *);

static double run_lib(emit_fn emit, tether_registry *r) {
  double t0 = now_ns();
  for (unsigned i = 0; i < OPS; i++) emit(r, g_names[g_order[i % NAMES]], &g_sum);
  return (now_ns() - t0) / OPS;
}

static double run_urcu(struct cds_lfht *ht) {
  double t0 = now_ns();
  for (unsigned i = 0; i < OPS; i++) lf_call(ht, g_names[g_order[i % NAMES]], &g_sum);
  return (now_ns() - t0) / OPS;
}

int main(int argc, char **argv) {
  int libs = argc - 1, rounds = getenv("AB_ROUNDS") ? atoi(getenv("AB_ROUNDS")) : 15;
  if (libs < 1 || libs > MAX_LIBS || rounds < 1 || rounds > MAX_ROUNDS) {
    fprintf(stderr, "usage: ab-dispatch LIBTETHER.so... (1 to %d; AB_ROUNDS 1 to %d)\n", MAX_LIBS,
            MAX_ROUNDS);
    return 2;
  }
  bench_names_init();
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
  static lf_node nodes[NAMES];
  struct cds_lfht *ht = lf_table_new(nodes, &g_ctx);
  urcu_memb_register_thread(); /* this thread runs the peer's rounds */
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
    printf("%-48s %10.2f %14.3f\n", argv[l + 1], best[l], median(ratio[l], rounds));
  }
  urcu_memb_unregister_thread();
  return 0;
}
