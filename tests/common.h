/* Helpers shared by the library tests: a registry on the counting allocator with a
 * settable clock, and handler contexts that count calls and destructor runs. */
#ifndef TETHER_TESTS_COMMON_H
#define TETHER_TESTS_COMMON_H

#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>

#include "alloc.h"
#include "runner.h"
#include "tether/tether.h"

/* A context that knows how often it was called and destroyed, and asserts the
 * destructor never runs during a call of it. */
typedef struct tctx {
  _Atomic int calls;
  _Atomic int in_call;
  _Atomic int freed;
  _Atomic int freed_during_call;
  int ret;          /* what the handler returns */
  int tag;          /* free for the test */
  void *user;       /* free for the test */
  int (*hook)(struct tctx *self, void *arg); /* optional extra behaviour */
} tctx;

/* What an on_remove callback saw: how often it ran, and the last reason. */
typedef struct why_seen {
  _Atomic int n;
  _Atomic int why;
} why_seen;
/* The on_remove callback for why_seen contexts. */
void why_seen_fn(void *ctx, tether_removal why);
/* A handler that does nothing and returns 0 (any context, NULL too). */
int nop_fn(void *ctx, void *arg);

/* The handler for tctx contexts. */
int tctx_fn(void *ctx, void *arg);
/* The destructor for tctx contexts (does not free: contexts live in the test). */
void tctx_free(void *ctx);
/* Sleeps MS milliseconds. */
void sleep_ms(int ms);

typedef struct fixture {
  test_alloc alloc;
  _Atomic uint64_t now;
  tether_registry *r;
} fixture;

uint64_t fixture_clock(void *ud);
/* Creates fx->r in MODE with the counting allocator and the fixture's clock
 * (starting at 1000 ms). Returns 0 or the error. */
int fixture_open(fixture *fx, int mode);
/* As fixture_open with the other options of OPTS (its allocator and clock are
 * replaced by the fixture's). */
int fixture_open_with(fixture *fx, const tether_options *opts);
/* Frees the registry; returns how many blocks of the allocator are still live
 * (0 when all came back). */
long fixture_close(fixture *fx);

/* The test plugin (libtether-test-plugin.so, beside the runner) in OUT: 0, or -1. */
int test_plugin_path(char *out, size_t n);

/* How much to scale loop counts: 1 normally, smaller under valgrind/TSan
 * (TETHER_TEST_SCALE=valgrind or tsan). */
int test_scale_div(void);

#endif
