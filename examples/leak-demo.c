/* make demo: the article's leak, in C, and the same workload on libtether.
 *
 * Part 1: a naive name -> {fn, ctx} table. Every session registers a handler
 * whose context is a 4 KiB buffer, and nothing ever removes it: the memory stays
 * reachable from the table forever (Go's map[string]func() closure leak).
 *
 * Part 2: the same sessions on tether. Each session's handlers are bound to an
 * owner that dies with the session (TETHER_SCOPED_OWNER); retry timers carry a
 * TTL; small contexts are copied into the registration (TETHER_COPY_CTX, the
 * article's "copy the field, not the pointer"); a background job pins a handler
 * with tether_acquire while its session goes away. One debug hook is forgotten
 * on purpose: the leak report at the end names the line that registered it.
 * Memory is measured, not estimated: part 1 with mallinfo2() (heap bytes in use);
 * part 2 counts the contexts still alive and the registry's own bytes through a
 * counting allocator (mallinfo2 would also count chunks glibc keeps cached per
 * thread after the background thread frees them).
 *
 * The registry tracks calls, so the leak report also names the hook that was
 * never called; with an argument, the registry's profile is written to that
 * file before the registry is freed, for `tether top FILE` (what make demo
 * shows last), `tether diff` or `go tool pprof`. */
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdatomic.h>
#include <time.h>

#include <tether/tether.h>

#define SESSIONS 2000
#define CTX_BYTES 4096

static _Atomic long g_ctx_alive;       /* session contexts not yet destroyed */
static _Atomic long g_registry_bytes;  /* bytes the registry has allocated */

static void *count_alloc(void *ud, size_t size) {
  (void)ud;
  atomic_fetch_add(&g_registry_bytes, (long)size);
  return malloc(size);
}

static void count_free(void *ud, void *p, size_t size) {
  (void)ud;
  atomic_fetch_sub(&g_registry_bytes, (long)size);
  free(p);
}

static void *ctx_new(void) {
  atomic_fetch_add(&g_ctx_alive, 1);
  return calloc(1, CTX_BYTES);
}

static void ctx_free(void *ctx) {
  atomic_fetch_sub(&g_ctx_alive, 1);
  free(ctx);
}

static size_t heap_in_use(void) { return mallinfo2().uordblks; }

typedef struct session_ctx {
  int id;
  char buffer[CTX_BYTES - sizeof(int)]; /* what a handler's closure would capture */
} session_ctx;

static int on_message(void *ctx, void *arg) {
  session_ctx *s = ctx;
  (void)arg;
  return s->id >= 0 ? 0 : 1;
}

/* ---- part 1: the naive table ---- */

typedef struct naive_entry {
  char name[32];
  tether_fn fn;
  void *ctx;
} naive_entry;

static naive_entry *g_naive;
static size_t g_naive_n;

static void naive_register(const char *name, tether_fn fn, void *ctx) {
  naive_entry *grown = realloc(g_naive, (g_naive_n + 1) * sizeof *grown);
  if (grown == NULL) abort();
  g_naive = grown;
  snprintf(g_naive[g_naive_n].name, sizeof g_naive[g_naive_n].name, "%s", name);
  g_naive[g_naive_n].fn = fn;
  g_naive[g_naive_n].ctx = ctx;
  g_naive_n++;
}

static void naive_session(int id) {
  session_ctx *ctx = calloc(1, sizeof *ctx);
  if (ctx == NULL) abort();
  ctx->id = id;
  char name[32];
  snprintf(name, sizeof name, "session-%d/message", id);
  naive_register(name, on_message, ctx);
  /* The session ends here. Nobody removes the handler: ctx is kept forever. */
}

/* ---- part 2: tether ---- */

typedef struct retry {
  int session, attempt;
} retry;

static int on_retry(void *ctx, void *arg) {
  const retry *r = ctx; /* points at tether's private copy */
  (void)arg;
  return r->attempt > 3;
}

static void forgotten_debug_hook(tether_registry *reg) {
  /* Registered with no owner, no TTL and no kept id: only the leak report will
   * ever mention it. */
  session_ctx *ctx = ctx_new();
  if (ctx == NULL) abort();
  tether_reg_options ro = {.ctx_size = sizeof *ctx};
  tether_register(reg, "debug/dump", on_message, ctx, ctx_free, &ro, NULL);
}

static void tether_session(tether_registry *reg, int id, tether_ref **pinned) {
  TETHER_SCOPED_OWNER(session); /* freed, with its handlers, at the closing brace */
  if (session == NULL) abort();
  session_ctx *ctx = ctx_new();
  if (ctx == NULL) abort();
  ctx->id = id;
  char name[32];
  snprintf(name, sizeof name, "session-%d/message", id);
  tether_reg_options ro = {.owner = session, .ctx_size = sizeof *ctx};
  tether_id msg_id = 0;
  if (tether_register(reg, name, on_message, ctx, ctx_free, &ro, &msg_id) != 0) abort();
  /* A retry timer: a copied 8-byte context and a TTL of 50 ms. */
  retry r = {id, 1};
  snprintf(name, sizeof name, "session-%d/retry", id);
  tether_reg_options timer = {.ttl_ms = 50, .ctx_size = sizeof r, .flags = TETHER_COPY_CTX};
  tether_register(reg, name, on_retry, &r, NULL, &timer, NULL);
  tether_emit(reg, "session-0/message", NULL);
  /* A background job keeps the first session's handler pinned past its end. */
  if (id == 0) tether_acquire(reg, msg_id, pinned);
}

static void print_stats(const char *when, tether_registry *reg) {
  tether_stats st;
  tether_stats_get(reg, &st);
  printf("  %s\n    live %llu (%llu bytes of context), registered %llu, removed by owner %llu, "
         "expired %llu, destructors run %llu, pending %llu; contexts alive %ld\n",
         when, (unsigned long long)st.live, (unsigned long long)st.live_bytes,
         (unsigned long long)st.registered_total, (unsigned long long)st.owner_removed_total,
         (unsigned long long)st.expired_total, (unsigned long long)st.destructors_run_total,
         (unsigned long long)st.destructors_pending, atomic_load(&g_ctx_alive));
}

/* The registry as a pprof profile in PATH. */
static void write_profile(tether_registry *reg, const char *path) {
  FILE *f = fopen(path, "wb");
  int n = f != NULL ? tether_profile_write(reg, f, 0) : TETHER_EIO;
  if (f != NULL && fclose(f) != 0 && n >= 0) n = TETHER_EIO;
  if (n < 0)
    fprintf(stderr, "leak-demo: %s: %s\n", path, tether_strerror(n));
  else
    printf("\n  the registry's profile (%d registration%s) written to %s\n", n, n == 1 ? "" : "s", path);
}

int main(int argc, char **argv) {
  const char *profile = argc > 1 ? argv[1] : NULL;
  printf("tether leak demo: %d sessions, each registering a handler that keeps a %d-byte context\n\n",
         SESSIONS, CTX_BYTES);

  size_t base = heap_in_use();
  for (int i = 0; i < SESSIONS; i++) naive_session(i);
  size_t naive_kept = heap_in_use() - base;
  printf("1. naive name -> {fn, ctx} table, handlers never removed:\n");
  printf("   %zu handlers still registered after every session ended, keeping %zu bytes (%.1f MiB)\n\n",
         g_naive_n, naive_kept, (double)naive_kept / (1024.0 * 1024.0));
  for (size_t i = 0; i < g_naive_n; i++) free(g_naive[i].ctx);
  free(g_naive);

  printf("2. the same sessions on tether (owners, TTL, TETHER_COPY_CTX, acquire/release):\n");
  tether_allocator counting = {count_alloc, count_free, NULL};
  /* Tracking calls: the leak report lists what was registered 50 ms ago or
   * more and never called. */
  tether_options opts = {.allocator = &counting, .track_calls = 1, .never_called_ms = 50};
  tether_registry *reg = NULL;
  if (tether_registry_new(&reg, &opts) != 0) return 1;
  tether_ref *pinned = NULL;
  forgotten_debug_hook(reg);
  for (int i = 0; i < SESSIONS; i++) tether_session(reg, i, &pinned);
  print_stats("after every session ended (owners freed at scope exit):", reg);
  printf("    %d retry timers wait for their 50 ms TTL; session-0's handler is pinned by a ref\n",
         SESSIONS);
  struct timespec wait = {0, 60 * 1000000L};
  nanosleep(&wait, NULL);
  int swept = tether_sweep(reg);
  tether_ref_release(pinned);
  tether_barrier(reg);
  printf("  60 ms later: swept %d expired timers, released the ref, waited for destructors\n", swept);
  print_stats("now:", reg);
  printf("\n  leak report (what is still registered, by registration site):\n");
  tether_leak_report(reg, stdout);
  if (profile != NULL) write_profile(reg, profile);
  long before_free = atomic_load(&g_registry_bytes);
  int survivors = tether_registry_free(reg);
  printf("\n  tether_registry_free: %d survivor%s destroyed; contexts alive %ld; registry bytes %ld "
         "before, %ld after\n",
         survivors, survivors == 1 ? "" : "s", atomic_load(&g_ctx_alive), before_free,
         atomic_load(&g_registry_bytes));
  printf("  naive table: %zu bytes kept for handlers nobody could call again.\n", naive_kept);
  return 0;
}
