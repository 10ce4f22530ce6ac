/* Hooks into libc and pthread functions for the tests that need a window or a
 * count: the `run` binary is linked with -Wl,--wrap for pthread_mutex_lock,
 * pthread_mutex_unlock, malloc and realloc, so every call the library (and the tests)
 * make goes through wrap.c first. All controls are per thread and off by default.
 * Nothing here knows the library's internals: a test only says "after this
 * thread's next unlock, wait" or "fail this thread's next malloc". */
#ifndef TETHER_TESTS_WRAP_H
#define TETHER_TESTS_WRAP_H

#include <stdint.h>
#include <sys/types.h>

/* Mutex locks this thread has taken since the last reset. */
uint64_t wrap_locks_taken(void);
void wrap_locks_reset(void);

/* Calls HOOK(ARG) right after this thread's next pthread_mutex_unlock returns
 * (once; the hook is disarmed before it runs, so it may unlock too). */
void wrap_after_next_unlock(void (*hook)(void *arg), void *arg);

/* Fails this thread's next N calls of malloc (0 disarms). */
void wrap_fail_malloc(int n);
/* Fails this thread's next N calls of realloc (0 disarms). */
void wrap_fail_realloc(int n);

/* Runs FN(ARG) in a child process with an alarm of TIMEOUT_S seconds and returns
 * its wait status: the child exits with FN's return value, so 0 is success. A
 * crash, an abort or a hang shows as a signal. Output of the child goes where the
 * parent's does. */
int run_in_child(int (*fn)(void *arg), void *arg, unsigned timeout_s);
/* In a child just forked from PARENT: it is killed when the parent dies (and
 * exits at once if the parent is already gone). */
void child_dies_with(pid_t parent);

/* In a test (runner.h and sys/wait.h included): runs FN(ARG) with run_in_child
 * and fails the test unless the child exited with 0. */
#define CHECK_CHILD(fn, arg, timeout_s)                              \
  do {                                                               \
    int st_ = run_in_child((fn), (arg), (timeout_s));                \
    if (!(WIFEXITED(st_) && WEXITSTATUS(st_) == 0)) {                \
      tt_fail(__FILE__, __LINE__, "child %s: %s %d", #fn,            \
              WIFSIGNALED(st_) ? "killed by signal" : "exit status", \
              WIFSIGNALED(st_) ? WTERMSIG(st_) : WEXITSTATUS(st_));  \
      return;                                                        \
    }                                                                \
  } while (0)

/* In a child scenario: returns the line number (non-zero) when COND fails. */
#define EXPECT(cond)                                                         \
  do {                                                                       \
    if (!(cond)) {                                                           \
      fprintf(stderr, "    %s:%d: EXPECT(%s)\n", __FILE__, __LINE__, #cond); \
      return __LINE__;                                                       \
    }                                                                        \
  } while (0)

#endif
