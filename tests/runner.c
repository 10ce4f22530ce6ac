/* The in-house test runner. `run` runs every registered test; `run NAME...` runs
 * the tests whose name equals or starts with one of the arguments; `run --list`
 * lists them. Tests run in registration order, one after another, in this
 * process; the last line is "N passed, N failed" and the exit status is 1 when
 * anything failed (or nothing matched). */
#include "runner.h"

#include <stdarg.h>
#include <stdlib.h>
#include <time.h>

typedef struct tt_case {
  const char *name;
  tt_test_fn fn;
  const char *file;
} tt_case;

static tt_case *g_cases;
static size_t g_ncases, g_capcases;
static int g_current_failed;
static const char *g_argv0 = "";

void tt_register(const char *name, tt_test_fn fn, const char *file) {
  if (g_ncases == g_capcases) {
    size_t cap = g_capcases ? g_capcases * 2 : 64;
    tt_case *grown = realloc(g_cases, cap * sizeof *grown);
    if (grown == NULL) {
      fprintf(stderr, "runner: out of memory registering %s\n", name);
      exit(2);
    }
    g_cases = grown;
    g_capcases = cap;
  }
  g_cases[g_ncases++] = (tt_case){name, fn, file};
}

void tt_fail(const char *file, int line, const char *fmt, ...) {
  va_list ap;
  g_current_failed = 1;
  fprintf(stdout, "    %s:%d: ", file, line);
  va_start(ap, fmt);
  vfprintf(stdout, fmt, ap);
  va_end(ap);
  fputc('\n', stdout);
  fflush(stdout);
}

int tt_failed(void) { return g_current_failed; }
const char *tt_argv0(void) { return g_argv0; }

static int matches(const char *name, int argc, char **argv) {
  if (argc <= 1) return 1;
  for (int i = 1; i < argc; i++) {
    if (strncmp(name, argv[i], strlen(argv[i])) == 0) return 1;
  }
  return 0;
}

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
  int passed = 0, failed = 0;
  g_argv0 = argv[0];
  if (argc == 2 && strcmp(argv[1], "--list") == 0) {
    for (size_t i = 0; i < g_ncases; i++) printf("%s\n", g_cases[i].name);
    free(g_cases);
    return 0;
  }
  setvbuf(stdout, NULL, _IOLBF, 0);
  for (size_t i = 0; i < g_ncases; i++) {
    tt_case *c = &g_cases[i];
    if (!matches(c->name, argc, argv)) continue;
    double t0 = now_s();
    g_current_failed = 0;
    c->fn();
    double dt = now_s() - t0;
    if (g_current_failed) {
      failed++;
      printf("FAIL %s (%s, %.2fs)\n", c->name, c->file, dt);
    } else {
      passed++;
      printf("ok   %s (%.2fs)\n", c->name, dt);
    }
  }
  free(g_cases);
  printf("%d passed, %d failed\n", passed, failed);
  if (passed + failed == 0) {
    fprintf(stderr, "runner: no test matched\n");
    return 1;
  }
  return failed ? 1 : 0;
}
