/* The randomized concurrent stress test, shared by the quick suite (a bounded run)
 * and `make stress` (a soak for minutes). */
#ifndef TETHER_TESTS_STRESS_H
#define TETHER_TESTS_STRESS_H

#include <stddef.h>
#include <stdint.h>

typedef struct stress_config {
  unsigned threads;  /* worker threads (at least 4) */
  uint64_t ops;      /* total operations across threads; 0 with seconds > 0: run by time */
  unsigned seconds;  /* run at least this long (0: by ops only) */
  uint64_t seed;
  int verbose;
  int mode;          /* TETHER_BUS (the default) or TETHER_MAP */
} stress_config;

typedef struct stress_result {
  uint64_t ops, registrations, destructors, calls;
  uint64_t by_op[16];
} stress_result;

stress_config stress_default_config(void);
/* Runs the test; returns 0, or -1 with a description of the first violation in ERR. */
int stress_run(const stress_config *cfg, stress_result *res, char *err, size_t errlen);

#endif
