/* make stress: the randomized stress test as a soak. Usage: stress [SECONDS]
 * [THREADS]. Runs 3-second rounds of the test (fresh registry each) until SECONDS have
 * passed; prints each round's counts and exits 1 on the first violation. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "stress.h"
#include "tether/tether.h"

int main(int argc, char **argv) {
  unsigned seconds = argc > 1 ? (unsigned)strtoul(argv[1], NULL, 10) : 120;
  unsigned threads = argc > 2 ? (unsigned)strtoul(argv[2], NULL, 10) : 4;
  time_t end = time(NULL) + (time_t)seconds;
  int rounds = 0;
  do {
    stress_config cfg = stress_default_config();
    cfg.threads = threads < 4 ? 4 : threads;
    cfg.seconds = seconds < 3 ? seconds : 3; /* short rounds: each has a fixed arena of contexts */
    cfg.seed = (uint64_t)time(NULL) + (uint64_t)rounds;
    cfg.mode = rounds % 2 ? TETHER_MAP : TETHER_BUS; /* alternate the two modes */
    stress_result res;
    char err[256];
    if (stress_run(&cfg, &res, err, sizeof err) != 0) {
      printf("round %d (seed %llu): FAILED: %s\n", rounds, (unsigned long long)cfg.seed, err);
      printf("0 passed, 1 failed\n");
      return 1;
    }
    printf("round %d (%s, seed %llu): %llu ops, %llu registrations, %llu destructors, %llu calls\n",
           rounds, cfg.mode == TETHER_MAP ? "MAP" : "BUS", (unsigned long long)cfg.seed, (unsigned long long)res.ops,
           (unsigned long long)res.registrations, (unsigned long long)res.destructors,
           (unsigned long long)res.calls);
    fflush(stdout);
    rounds++;
  } while (time(NULL) < end);
  printf("%d passed, 0 failed\n", rounds);
  return 0;
}
