/* The in-house test runner: tests register themselves with TEST(name) and check
 * with CHECK(...). A failed check prints file:line and the expression, then ends
 * that test; the runner goes on with the next and ends with "N passed, N failed". */
#ifndef TETHER_TESTS_RUNNER_H
#define TETHER_TESTS_RUNNER_H

#include <stdint.h>
#include <stdio.h>
#include <string.h>

typedef void (*tt_test_fn)(void);

void tt_register(const char *name, tt_test_fn fn, const char *file);
void tt_fail(const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int tt_failed(void);         /* whether the running test has failed */
const char *tt_argv0(void);  /* the runner's own path (to find sibling binaries) */

#define TEST(name)                                                        \
  static void tt_test_##name(void);                                       \
  __attribute__((constructor)) static void tt_reg_##name(void) {          \
    tt_register(#name, tt_test_##name, __FILE__);                         \
  }                                                                       \
  static void tt_test_##name(void)

#define CHECK(cond)                                                       \
  do {                                                                    \
    if (!(cond)) {                                                        \
      tt_fail(__FILE__, __LINE__, "CHECK(%s)", #cond);                   \
      return;                                                             \
    }                                                                     \
  } while (0)

#define CHECK_EQ(a, b)                                                    \
  do {                                                                    \
    long long tt_a_ = (long long)(a), tt_b_ = (long long)(b);             \
    if (tt_a_ != tt_b_) {                                                 \
      tt_fail(__FILE__, __LINE__, "CHECK_EQ(%s, %s): %lld != %lld", #a, #b, \
              tt_a_, tt_b_);                                              \
      return;                                                             \
    }                                                                     \
  } while (0)

#define CHECK_STREQ(a, b)                                                 \
  do {                                                                    \
    const char *tt_a_ = (a), *tt_b_ = (b);                                \
    if (tt_a_ == NULL || tt_b_ == NULL || strcmp(tt_a_, tt_b_) != 0) {    \
      tt_fail(__FILE__, __LINE__, "CHECK_STREQ(%s, %s): \"%s\" != \"%s\"", \
              #a, #b, tt_a_ ? tt_a_ : "(null)", tt_b_ ? tt_b_ : "(null)"); \
      return;                                                             \
    }                                                                     \
  } while (0)

#endif
