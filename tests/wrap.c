/* The wrapped libc and pthread functions (see wrap.h), and the child-process runner. */
#include "wrap.h"

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

int __real_pthread_mutex_lock(pthread_mutex_t *m);
int __real_pthread_mutex_unlock(pthread_mutex_t *m);
void *__real_malloc(size_t size);
void *__real_realloc(void *p, size_t size);
int __wrap_pthread_mutex_lock(pthread_mutex_t *m);
int __wrap_pthread_mutex_unlock(pthread_mutex_t *m);
void *__wrap_malloc(size_t size);
void *__wrap_realloc(void *p, size_t size);
#if defined(TETHER_COVERAGE)
/* gcov's runtime (make coverage): a child's counters are written before _exit. */
void __gcov_dump(void);
#endif

static _Thread_local uint64_t t_locks;
static _Thread_local void (*t_unlock_hook)(void *arg);
static _Thread_local void *t_unlock_arg;
static _Thread_local int t_fail_malloc;
static _Thread_local int t_fail_realloc;

int __wrap_pthread_mutex_lock(pthread_mutex_t *m) {
  t_locks++;
  return __real_pthread_mutex_lock(m);
}

int __wrap_pthread_mutex_unlock(pthread_mutex_t *m) {
  int rc = __real_pthread_mutex_unlock(m);
  void (*hook)(void *) = t_unlock_hook;
  if (hook != NULL) {
    t_unlock_hook = NULL;
    hook(t_unlock_arg);
  }
  return rc;
}

void *__wrap_malloc(size_t size) {
  if (t_fail_malloc > 0) {
    t_fail_malloc--;
    return NULL;
  }
  return __real_malloc(size);
}

void *__wrap_realloc(void *p, size_t size) {
  if (t_fail_realloc > 0) {
    t_fail_realloc--;
    return NULL; /* P stays as it was, as when realloc fails */
  }
  return __real_realloc(p, size);
}

uint64_t wrap_locks_taken(void) {
  return t_locks;
}
void wrap_locks_reset(void) {
  t_locks = 0;
}

void wrap_fail_realloc(int n) {
  t_fail_realloc = n;
}

void wrap_after_next_unlock(void (*hook)(void *arg), void *arg) {
  t_unlock_arg = arg;
  t_unlock_hook = hook;
}

void wrap_fail_malloc(int n) {
  t_fail_malloc = n;
}

void child_dies_with(pid_t parent) {
  /* A child outliving a runner that crashed would keep the tier's output pipe
   * open (and one forked while a sanitizer held its locks may never finish). */
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (getppid() != parent) _exit(127);
}

int run_in_child(int (*fn)(void *arg), void *arg, unsigned timeout_s) {
  fflush(stdout);
  fflush(stderr);
  pid_t parent = getpid();
  pid_t pid = fork();
  if (pid < 0) return -1;
  if (pid == 0) {
    child_dies_with(parent);
    alarm(timeout_s);
    int rc = fn(arg);
    fflush(stdout);
    fflush(stderr);
#if defined(TETHER_COVERAGE)
    __gcov_dump();
#endif
    _exit(rc > 255 || rc < 0 ? 255 : rc);
  }
  int st = 0;
  while (waitpid(pid, &st, 0) < 0) {
  }
  return st;
}
