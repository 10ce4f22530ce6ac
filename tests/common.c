/* Helpers shared by the library tests (see common.h). */
#include "common.h"

#include <string.h>
#include <time.h>

int tctx_fn(void *ctx, void *arg) {
  tctx *c = ctx;
  atomic_fetch_add(&c->in_call, 1);
  atomic_fetch_add(&c->calls, 1);
  int ret = c->hook ? c->hook(c, arg) : c->ret;
  atomic_fetch_sub(&c->in_call, 1);
  return ret;
}

void tctx_free(void *ctx) {
  tctx *c = ctx;
  if (atomic_load(&c->in_call) != 0) atomic_fetch_add(&c->freed_during_call, 1);
  atomic_fetch_add(&c->freed, 1);
}

void why_seen_fn(void *ctx, tether_removal why) {
  why_seen *w = ctx;
  atomic_store(&w->why, (int)why);
  atomic_fetch_add(&w->n, 1);
}

int nop_fn(void *ctx, void *arg) {
  (void)ctx;
  (void)arg;
  return 0;
}

void sleep_ms(int ms) {
  struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}

uint64_t fixture_clock(void *ud) { return atomic_load((_Atomic uint64_t *)ud); }

int fixture_open(fixture *fx, int mode) {
  tether_options o = {0};
  o.mode = mode;
  return fixture_open_with(fx, &o);
}

int fixture_open_with(fixture *fx, const tether_options *opts) {
  memset(fx, 0, sizeof *fx);
  test_alloc_init(&fx->alloc);
  atomic_init(&fx->now, 1000);
  tether_options o = *opts;
  o.allocator = &fx->alloc.iface;
  o.clock_ms = fixture_clock;
  o.clock_ud = &fx->now;
  return tether_registry_new(&fx->r, &o);
}

long fixture_close(fixture *fx) {
  if (fx->r != NULL) tether_registry_free(fx->r);
  fx->r = NULL;
  return (long)atomic_load(&fx->alloc.live_blocks);
}

int test_scale_div(void) {
  const char *s = getenv("TETHER_TEST_SCALE");
  if (s == NULL) return 1;
  if (strcmp(s, "valgrind") == 0) return 50;
  if (strcmp(s, "tsan") == 0) return 4;
  return 1;
}

int test_plugin_path(char *out, size_t n) {
  snprintf(out, n, "%s", tt_argv0());
  char *slash = strrchr(out, '/');
  if (slash == NULL) return -1;
  snprintf(slash + 1, n - (size_t)(slash + 1 - out), "libtether-test-plugin.so");
  return 0;
}
