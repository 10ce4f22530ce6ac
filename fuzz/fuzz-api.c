/* libFuzzer target: differential fuzzing of libtether's API. The bytes become a
 * sequence of calls on one registry (MAP or BUS), on a clock the bytes move and
 * with the tests' counting allocator refusing the allocations the bytes pick;
 * every result is checked against the reference model of fuzz/api/model.c:
 * return codes, which handlers are called and in what order, TETHER_STOP,
 * destructor and on_remove runs (each exactly once, never during a call of its
 * handler nor while a ref is held, with the right reason), the stats, tether_count
 * and the walk. Handlers, and walk visitors, make calls of their own as the bytes
 * say (register, unregister themselves or others, emit nested names, take and
 * release refs, wait, ...), so re-entrancy is fuzzed like the rest.
 *
 * With the bytes' say-so a second thread runs a sequence of its own on the same
 * registry, on names, owners and ids of its own, against a model of its own; the
 * clock is per thread (each model's time is its own). Destructors may run late,
 * on any thread: they are compared only after a wait that guarantees them
 * (tether_barrier, tether_unregister_sync, tether_owner_free_sync) and at
 * tether_registry_free. At the end every allocation must have come back.
 *
 * A mismatch prints the reason and the calls made so far, then traps. The input
 * format is the fuzzer's own business (docs/testing.md describes it); the
 * committed corpus is replayed by make check under ASan+UBSan. */
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "api/model.h"
#include "tether/tether.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_OPS 160  /* top-level calls per thread */
#define MAX_INSIDE 3 /* callbacks nested on one thread's stack */
#define MAX_FRAMES (MAX_INSIDE + 2)
#define LOG_MAX 4096
#define CTX_MAGIC 0x7e7e1234u
#define CTX_DEAD 0xdeadbeefu

/* The head of every context the fuzzer registers (and of every copy the
 * library makes of one with TETHER_COPY_CTX): whose registration it is. */
typedef struct fz_ctx {
  uint32_t magic;
  uint16_t idx;
  uint8_t thread;
  uint8_t pad;
} fz_ctx;

/* What the library did to one registration, as its callbacks saw it (they may
 * run on any thread). COPY and NOTIFY are set before the registration is made. */
typedef struct obs {
  _Atomic int calls, in_call, dtors, notifies, notify_why, refs;
  int copy, notify;
  void *ctx; /* the fuzzer's context (not a copy), or NULL */
  int keep;  /* the fuzzer frees ctx at the end (no destructor, or refused) */
} obs;

enum {
  OP_REGISTER,
  OP_UNREGISTER,
  OP_UNREGISTER_SYNC,
  OP_UNREGISTER_NAME,
  OP_EMIT,
  OP_CALL,
  OP_TOPIC_GET,
  OP_TOPIC_EMIT,
  OP_TOPIC_RELEASE,
  OP_ACQUIRE,
  OP_REF_CALL,
  OP_REF_RELEASE,
  OP_TOUCH,
  OP_SWEEP,
  OP_OWNER_NEW,
  OP_OWNER_FREE,
  OP_OWNER_FREE_SYNC,
  OP_COUNT,
  OP_WALK,
  OP_STATS,
  OP_BARRIER,
  OP_CLOCK,
  OP_FAIL,
  OP_LEAK_REPORT,
  OP_TRY_FREE,
  OP_PROFILE,
  OP_NOPS,
  /* log entries that are not calls of the fuzzer's own */
  LOG_HANDLER = 64,
  LOG_HANDLER_RET,
  LOG_NEW,
  LOG_END
};

/* clang-format off */
static const char *const op_names[OP_NOPS] = {
  "register", "unregister", "unregister_sync", "unregister_name", "emit", "call",
  "topic_get", "topic_emit", "topic_release", "acquire", "ref_call", "ref_release",
  "touch", "sweep", "owner_new", "owner_free", "owner_free_sync", "count", "walk",
  "stats", "barrier", "clock", "fail", "leak_report", "try_free", "profile_write"};

/* What the log's three numbers are, per call (record: the model's index of a
 * registration, -1 for an id it does not know; name: -1 NULL, -2 "", -3 too long). */
static const char *const op_args[OP_NOPS][3] = {
  {"record", "name", "flags"}, {"record", "id0", ""}, {"record", "id0", ""}, {"name", "", ""},
  {"name", "", ""}, {"name", "", ""}, {"name", "topic", ""}, {"name", "topic", ""},
  {"topic", "", ""}, {"record", "id0", "ref"}, {"ref", "record", ""}, {"ref", "record", ""},
  {"record", "ttl", "id0"}, {"", "", ""}, {"owner", "", ""}, {"owner", "", ""}, {"owner", "", ""},
  {"name", "", ""}, {"stop_at", "nested", ""}, {"", "", ""}, {"", "", ""}, {"by", "", ""},
  {"nth", "every_after", "enabled"}, {"", "", ""}, {"inside", "", ""}, {"", "", ""}};
/* clang-format on */

typedef struct logent {
  uint8_t op, depth;
  int rc;
  int64_t a, b, c;
} logent;

typedef struct fz_thread {
  int no;
  const uint8_t *p;
  size_t n, i;
  model m;
  obs ob[M_MAX_REGS];
  tether_owner *owners[M_MAX_OWNERS];
  tether_ref *refs[M_MAX_REFS];
  tether_topic *topics[M_MAX_TOPICS];
  m_frame frames[MAX_FRAMES];
  int nframes;
  uint64_t fail_pending; /* FAIL: the next call's NTH allocation is refused */
  int fail_after;
  logent log[LOG_MAX];
  int nlog;
  const char *names[M_NAMES];
} fz_thread;

/* The run of one input. */
static struct {
  tether_registry *r;
  test_alloc alloc;
  int mode, threads, faults, track;
  fz_thread t[2];
} G;

static _Thread_local uint64_t *t_clock;
static FILE *g_sink; /* /dev/null: the leak report's stream */

/* ---- names ----
 * Each thread has M_NAMES names, of lengths chosen to take every path of the
 * lookup (1..16 bytes: dispatch's fast path; 17 and 40: the general one;
 * TETHER_NAME_MAX), made of one letter per thread so that no name is shared. */
static const size_t name_len[M_NAMES] = {1, 2, 5, 8, 16, 17, 40, TETHER_NAME_MAX};
static char name_buf[2][M_NAMES][TETHER_NAME_MAX + 1];
static char too_long[TETHER_NAME_MAX + 2];

static void names_init(void) {
  static int done;
  if (done) return;
  done = 1;
  for (int t = 0; t < 2; t++)
    for (int k = 0; k < M_NAMES; k++) {
      for (size_t i = 0; i < name_len[k]; i++)
        name_buf[t][k][i] = i == 0 ? (t ? 'q' : 'p') : "0123456789abcdef"[(i + (size_t)k) % 16];
      name_buf[t][k][name_len[k]] = 0;
    }
  memset(too_long, 'z', TETHER_NAME_MAX + 1);
  too_long[TETHER_NAME_MAX + 1] = 0;
  g_sink = fopen("/dev/null", "w");
}

/* The string of name index K (-1 NULL, -2 "", -3 too long). */
static const char *name_str(const fz_thread *t, int k) {
  if (k == -1) return NULL;
  if (k == -2) return "";
  if (k == -3) return too_long;
  return t->names[k];
}

/* The index of NAME in T's table, or -1. */
static int name_index(const fz_thread *t, const char *name) {
  size_t len = strnlen(name, TETHER_NAME_MAX + 1);
  for (int k = 0; k < M_NAMES; k++)
    if (len == name_len[k] && memcmp(name, t->names[k], len) == 0) return k;
  return -1;
}

/* The codes a call with name K may fail with before anything else. */
static int name_error(int k) {
  return k == -3 ? TETHER_ENAMETOOLONG : k < 0 ? TETHER_EINVAL : 0;
}

/* ---- the bytes ---- */

static unsigned byte(fz_thread *t) {
  return t->i < t->n ? t->p[t->i++] : 0;
}

static int pick_name(fz_thread *t) {
  unsigned b = byte(t);
  if (b % 16 < 14) return (int)(b % 16 % M_NAMES);
  return -1 - (int)(b / 16 % 3);
}

/* An id to pass: 0, an id the library never gave (the bit flipped is a
 * generation bit no id has), or one of the registrations made so far. *J is the
 * record, or -1. */
static tether_id pick_id(fz_thread *t, int *j) {
  unsigned b = byte(t);
  int made = 0;
  for (int k = 0; k < t->m.nreg; k++) made += t->m.reg[k].state != M_FAILED;
  *j = -1;
  if (b == 0) return 0;
  if (b == 1 || made == 0) {
    for (int k = 0; k < t->m.nreg; k++)
      if (t->m.reg[k].state != M_FAILED) return t->m.reg[k].id ^ (1ull << 63);
    return 0x8000000000000001ull;
  }
  int want = (int)((b - 2) % (unsigned)made);
  for (int k = 0; k < t->m.nreg; k++) {
    if (t->m.reg[k].state == M_FAILED) continue;
    if (want-- == 0) {
      *j = k;
      return t->m.reg[k].id;
    }
  }
  return 0;
}

/* One of the N slots whose LIVE flag is set, or -1 when none is. */
static int pick_live(fz_thread *t, const int *live, int n) {
  unsigned b = byte(t);
  int count = 0;
  for (int k = 0; k < n; k++) count += live[k] != 0;
  if (count == 0) return -1;
  int want = (int)(b % (unsigned)count);
  for (int k = 0; k < n; k++)
    if (live[k] && want-- == 0) return k;
  return -1;
}

static int pick_owner(fz_thread *t) {
  int live[M_MAX_OWNERS];
  for (int k = 0; k < t->m.nowner; k++) live[k] = t->m.owner[k].live;
  return pick_live(t, live, t->m.nowner);
}

static int pick_ref(fz_thread *t) {
  int live[M_MAX_REFS];
  for (int k = 0; k < t->m.nref; k++) live[k] = t->m.ref[k].live;
  return pick_live(t, live, t->m.nref);
}

static int pick_topic(fz_thread *t) {
  int live[M_MAX_TOPICS];
  for (int k = 0; k < t->m.ntopic; k++) live[k] = t->m.topic[k].live;
  return pick_live(t, live, t->m.ntopic);
}

/* Where a registration was made: a few sites, one of them unknown and one with
 * the same strings as another at other addresses (the registry interns sites by
 * their strings), so that the leak report has groups to sort. */
static tether_site pick_site(unsigned b) {
  static char file_copy[] = "fuzz/a.c", func_copy[] = "handler_a";
  static const tether_site sites[5] = {{"fuzz/a.c", 10, "handler_a"}, {"fuzz/a.c", 20, "handler_a"},
                                       {"fuzz/b.c", 10, "handler_b"}, {NULL, 0, NULL},
                                       {file_copy, 10, func_copy}};
  return sites[b % 5];
}

static uint64_t pick_ttl(fz_thread *t) {
  static const uint64_t v[8] = {0, 1, 2, 5, 50, 1000, UINT64_MAX, UINT64_MAX - 1000};
  return v[byte(t) % 8];
}

/* ---- the log and mismatches ---- */

static int log_begin(fz_thread *t, int op, int64_t a, int64_t b, int64_t c) {
  if (t->nlog >= LOG_MAX) return -1;
  logent *e = &t->log[t->nlog];
  e->op = (uint8_t)op;
  e->depth = (uint8_t)t->m.inside;
  e->rc = INT_MIN;
  e->a = a;
  e->b = b;
  e->c = c;
  return t->nlog++;
}

static void log_end(fz_thread *t, int at, int rc) {
  if (at >= 0) t->log[at].rc = rc;
}

static void print_log(const fz_thread *t) {
  fprintf(stderr,
          "  calls of thread %d (a, b, c: name/record/owner/ref/topic index or value; = result):\n",
          t->no);
  for (int k = 0; k < t->nlog; k++) {
    const logent *e = &t->log[k];
    fprintf(stderr, "  %4d %*s", k, 2 * e->depth, "");
    if (e->op < OP_NOPS) {
      fprintf(stderr, "%s(", op_names[e->op]);
      const int64_t v[3] = {e->a, e->b, e->c};
      const char *sep = "";
      for (int i = 0; i < 3; i++) {
        if (op_args[e->op][i][0] == 0) continue;
        fprintf(stderr, "%s%s %lld", sep, op_args[e->op][i], (long long)v[i]);
        sep = ", ";
      }
      fputc(')', stderr);
    } else if (e->op == LOG_HANDLER)
      fprintf(stderr, "-> handler of record %lld called", (long long)e->a);
    else if (e->op == LOG_HANDLER_RET)
      fprintf(stderr, "<- handler of record %lld returns %lld", (long long)e->a, (long long)e->b);
    else if (e->op == LOG_NEW)
      fprintf(stderr, "registry_new(mode %s, threads %lld, faults %lld)", e->a ? "BUS" : "MAP",
              (long long)e->b, (long long)e->c);
    else
      fprintf(stderr, "end of sequence");
    if (e->rc != INT_MIN) fprintf(stderr, " = %d", e->rc);
    fputc('\n', stderr);
  }
}

static void dump_records(const fz_thread *t) {
  for (int j = 0; j < t->m.nreg; j++) {
    const m_reg *g = &t->m.reg[j];
    const obs *o = &t->ob[j];
    fprintf(
        stderr,
        "  record %d: state %d name %d flags %u ctx_size %llu owner %d deadline %llu created %llu "
        "why %d | calls %d dtors %d notifies %d (why %d)\n",
        j, g->state, g->name, g->flags, (unsigned long long)g->ctx_size, g->owner,
        (unsigned long long)g->deadline, (unsigned long long)g->created, g->why,
        atomic_load(&o->calls), atomic_load(&o->dtors), atomic_load(&o->notifies),
        atomic_load(&o->notify_why));
  }
}

static void mismatch(const fz_thread *t, const char *fmt, ...)
    __attribute__((noreturn, format(printf, 2, 3)));

static void mismatch(const fz_thread *t, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fprintf(stderr, "\nfuzz-api: MISMATCH on thread %d: ", t->no);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
  fprintf(stderr, "  mode %s, %d thread(s), clock %llu\n", G.mode ? "BUS" : "MAP", G.threads,
          (unsigned long long)t->m.now);
  print_log(t);
  dump_records(t);
  __builtin_trap();
}

#define EXPECT_RC(t, what, rc, want)                                               \
  do {                                                                             \
    if ((rc) != (want))                                                            \
      mismatch((t), "%s returned %d, the model expects %d", (what), (rc), (want)); \
  } while (0)

/* ---- allocation failures ---- */

/* Arms the failure a FAIL call asked for (for the call that follows it). */
static int fail_arm(fz_thread *t) {
  if (t->fail_pending == 0) return 0;
  test_alloc_fail_here(&G.alloc, t->fail_pending, t->fail_after);
  t->fail_pending = 0;
  return 1;
}

static void fail_disarm(int armed) {
  if (armed) test_alloc_fail_here(&G.alloc, 0, 0);
}

/* Whether an ENOMEM is allowed: an allocation of this thread was refused since
 * REFUSED0. */
static int refused_since(uint64_t refused0) {
  return test_alloc_refused_here() > refused0;
}

/* ---- callbacks ---- */

static fz_thread *thread_of(const fz_ctx *c) {
  if (c == NULL || c->magic != CTX_MAGIC || c->thread >= G.threads || c->idx >= M_MAX_REGS)
    return NULL;
  return &G.t[c->thread];
}

static void exec_op(fz_thread *t);

/* Calls made from inside a callback, as the bytes say. */
static void nested(fz_thread *t, int j) {
  unsigned b = byte(t) % 8;
  if (b == 3 || b == 6) { /* unregister itself */
    int at = log_begin(t, OP_UNREGISTER, j, -1, 0);
    int rc = tether_unregister(G.r, t->m.reg[j].id);
    log_end(t, at, rc);
    EXPECT_RC(t, "tether_unregister of the handler itself", rc, m_unregister(&t->m, j));
  }
  if (b == 4 || b == 5 || b == 6) exec_op(t);
  if (b == 5) exec_op(t);
}

static int fz_handler(void *ctx, void *arg) {
  fz_thread *t = arg;
  fz_thread *owner = thread_of(ctx);
  if (owner != t) mismatch(t, "a handler got a context that is not this thread's (%p)", ctx);
  int j = ((fz_ctx *)ctx)->idx;
  obs *o = &t->ob[j];
  int at = log_begin(t, LOG_HANDLER, j, 0, 0);
  (void)at;
  if (t->nframes == 0) mismatch(t, "handler of record %d called outside any dispatch", j);
  m_frame *f = &t->frames[t->nframes - 1];
  const char *why = m_frame_call(&t->m, f, j);
  if (why) mismatch(t, "handler of record %d called: %s", j, why);
  if (atomic_load(&o->dtors) != 0 || atomic_load(&o->notifies) != 0)
    mismatch(t, "handler of record %d called after its destructor or on_remove", j);
  atomic_fetch_add(&o->in_call, 1);
  atomic_fetch_add(&o->calls, 1);
  t->m.inside++;
  if (t->m.inside <= MAX_INSIDE) nested(t, j);
  static const int rets[4] = {0, TETHER_STOP, 7, -1};
  int ret = t->m.inside <= MAX_INSIDE ? rets[byte(t) % 4] : 0;
  t->m.inside--;
  atomic_fetch_sub(&o->in_call, 1);
  log_begin(t, LOG_HANDLER_RET, j, ret, 0);
  m_frame_return(&t->m, f, j, ret);
  return ret;
}

/* A broken promise seen by a destructor or on_remove, on whichever thread runs
 * it: there is no model to consult there, so it stops the run at once. */
static void callback_fault(const fz_thread *t, int j, const char *what) {
  mismatch(t, "record %d: %s", j, what);
}

static void fz_on_remove(void *ctx, tether_removal why) {
  fz_thread *t = thread_of(ctx);
  if (t == NULL) {
    fprintf(stderr, "fuzz-api: MISMATCH: on_remove got a context that is not ours (%p)\n", ctx);
    __builtin_trap();
  }
  int j = ((fz_ctx *)ctx)->idx;
  obs *o = &t->ob[j];
  if (!o->notify) callback_fault(t, j, "on_remove called for a registration without one");
  if (atomic_load(&o->in_call) != 0)
    callback_fault(t, j, "on_remove ran during a call of its handler");
  if (atomic_load(&o->refs) != 0) callback_fault(t, j, "on_remove ran while a ref is held");
  if (atomic_load(&o->dtors) != 0) callback_fault(t, j, "on_remove ran after the destructor");
  atomic_store(&o->notify_why, (int)why);
  if (atomic_fetch_add(&o->notifies, 1) != 0) callback_fault(t, j, "on_remove ran twice");
}

static void fz_dtor(void *ctx) {
  fz_thread *t = thread_of(ctx);
  if (t == NULL) {
    fprintf(stderr, "fuzz-api: MISMATCH: a destructor got a context that is not ours (%p)\n", ctx);
    __builtin_trap();
  }
  fz_ctx *c = ctx;
  int j = c->idx;
  obs *o = &t->ob[j];
  if (o->copy) callback_fault(t, j, "ctx_free called for a TETHER_COPY_CTX registration");
  if (o->ctx != ctx)
    callback_fault(t, j, "the destructor got another pointer than the context registered");
  if (o->keep) callback_fault(t, j, "the destructor ran for a registration that was refused");
  if (atomic_load(&o->in_call) != 0)
    callback_fault(t, j, "the destructor ran during a call of its handler");
  if (atomic_load(&o->refs) != 0) callback_fault(t, j, "the destructor ran while a ref is held");
  if (o->notify && atomic_load(&o->notifies) != 1)
    callback_fault(t, j, "the destructor ran without on_remove right before it");
  if (atomic_fetch_add(&o->dtors, 1) != 0) callback_fault(t, j, "the destructor ran twice");
  c->magic = CTX_DEAD;
  free(c);
}

/* ---- checks ---- */

/* What may be checked at any time: no callback ran for a registration the model
 * still has, none ran twice. */
static void check_callbacks(const fz_thread *t) {
  for (int j = 0; j < t->m.nreg; j++) {
    const obs *o = &t->ob[j];
    int d = atomic_load(&o->dtors), nt = atomic_load(&o->notifies);
    if (d > 1 || nt > 1) mismatch(t, "record %d destroyed %d times, on_remove %d times", j, d, nt);
    if ((d || nt) && t->m.reg[j].state != M_REMOVED)
      mismatch(t, "record %d destroyed (or told on_remove) while the model still has it (state %d)",
               j, t->m.reg[j].state);
  }
}

/* After a wait that guarantees it: every removed registration of owner O (or
 * every one, O -1) has had its destructor and on_remove, with the right reason. */
static void check_destroyed(const fz_thread *t, int o, const char *after) {
  check_callbacks(t);
  for (int j = 0; j < t->m.nreg; j++) {
    const m_reg *g = &t->m.reg[j];
    const obs *ob = &t->ob[j];
    if (g->state != M_REMOVED || (o >= 0 && g->owner != o)) continue;
    if (g->has_free && atomic_load(&ob->dtors) != 1)
      mismatch(t, "record %d removed (why %d) but not destroyed after %s", j, g->why, after);
    if (g->has_notify && atomic_load(&ob->notifies) != 1)
      mismatch(t, "record %d removed (why %d) but on_remove not called after %s", j, g->why, after);
    if (g->has_notify && atomic_load(&ob->notify_why) != g->why)
      mismatch(t, "record %d: on_remove said %d, the model says %d", j,
               atomic_load(&ob->notify_why), g->why);
  }
}

/* The stats against the sum of the models (all threads idle but T). WAITED:
 * right after a barrier, when nothing may be pending. */
static void check_stats(fz_thread *t, int waited) {
  tether_stats st;
  int rc = tether_stats_get(G.r, &st);
  EXPECT_RC(t, "tether_stats_get", rc, 0);
  uint64_t live = 0, bytes = 0, removed = 0;
  m_totals tot = {0, 0, 0, 0, 0};
  for (int k = 0; k < G.threads; k++) {
    const model *m = &G.t[k].m;
    live += m_live(m);
    bytes += m_live_bytes(m);
    removed += m_removed(m);
    tot.registered += m->tot.registered;
    tot.unregistered += m->tot.unregistered;
    tot.expired += m->tot.expired;
    tot.owner_removed += m->tot.owner_removed;
    tot.replaced += m->tot.replaced;
  }
#define STAT(field, want)                                                                     \
  if (st.field != (want))                                                                     \
  mismatch(t, "stats: " #field " is %llu, the model says %llu", (unsigned long long)st.field, \
           (unsigned long long)(want))
  STAT(live, live);
  STAT(live_bytes, bytes);
  STAT(registered_total, tot.registered);
  STAT(unregistered_total, tot.unregistered);
  STAT(expired_total, tot.expired);
  STAT(owner_removed_total, tot.owner_removed);
  STAT(replaced_total, tot.replaced);
  if (st.destructors_run_total + st.destructors_pending != removed)
    mismatch(t, "stats: %llu destructors run and %llu pending, the model has %llu removals",
             (unsigned long long)st.destructors_run_total,
             (unsigned long long)st.destructors_pending, (unsigned long long)removed);
  if (waited) {
    STAT(destructors_pending, 0);
    STAT(destructors_run_total, removed);
  }
#undef STAT
}

/* ---- the walk ---- */

typedef struct walk_state {
  fz_thread *t;
  uint64_t now;           /* the clock when the walk started */
  int expect[M_MAX_REGS]; /* what the walk must list */
  int seen[M_MAX_REGS];
  uint64_t age[M_MAX_REGS], left[M_MAX_REGS], calls[M_MAX_REGS]; /* as they are when it starts */
  int visited, own, stop_at, nest;
  uint64_t last_age, min_age;
} walk_state;

static int fz_visit(const tether_info *in, void *arg) {
  walk_state *w = arg;
  fz_thread *t = w->t;
  w->visited++;
  int k = in->name ? name_index(t, in->name) : -1;
  if (k < 0) {
    if (G.threads == 1) mismatch(t, "the walk lists a name this thread never registered");
  } else {
    int j = m_find_id(&t->m, in->id);
    if (j < 0 || !w->expect[j])
      mismatch(t, "the walk lists id %llu (record %d), which the model does not have",
               (unsigned long long)in->id, j);
    if (w->seen[j]++) mismatch(t, "the walk lists record %d twice", j);
    const m_reg *g = &t->m.reg[j];
    uint64_t age = w->age[j], left = w->left[j];
    if (g->name != k) mismatch(t, "the walk gives record %d the name %d, not %d", j, k, g->name);
    if (in->ctx_size != g->ctx_size)
      mismatch(t, "the walk gives record %d ctx_size %zu", j, in->ctx_size);
    if (in->age_ms != age)
      mismatch(t, "the walk gives record %d age %llu, not %llu", j, (unsigned long long)in->age_ms,
               (unsigned long long)age);
    if (in->ttl_left_ms != left)
      mismatch(t, "the walk gives record %d ttl_left %llu, not %llu", j,
               (unsigned long long)in->ttl_left_ms, (unsigned long long)left);
    const tether_owner *ow = g->owner >= 0 ? t->owners[g->owner] : NULL;
    if (in->owner != ow) mismatch(t, "the walk gives record %d another owner", j);
    /* Call tracking counts each call of the handler (only this thread calls it). */
    uint64_t calls = G.track ? w->calls[j] : 0;
    if (in->calls != calls)
      mismatch(t, "the walk gives record %d %llu calls, not %llu", j, (unsigned long long)in->calls,
               (unsigned long long)calls);
    if ((in->idle_ms == UINT64_MAX) != (calls == 0))
      mismatch(t, "the walk gives record %d idle_ms %llu with %llu calls", j,
               (unsigned long long)in->idle_ms, (unsigned long long)calls);
    if (w->own > 0 && in->age_ms > w->last_age)
      mismatch(t, "the walk is not oldest first (record %d)", j);
    w->last_age = in->age_ms;
    if (in->age_ms < w->min_age) w->min_age = in->age_ms;
    w->own++;
  }
  if (w->nest && t->m.inside < MAX_INSIDE && (byte(t) & 1)) {
    t->m.inside++;
    exec_op(t);
    t->m.inside--;
  }
  return w->stop_at != 0 && w->visited == w->stop_at;
}

/* Walks and compares. STOP_AT: the visit that ends the walk (0: none); NEST: a
 * visitor may make calls. Returns the walk's code. */
static int walk_check(fz_thread *t, int stop_at, int nest, uint64_t refused0) {
  walk_state *w = calloc(1, sizeof *w);
  if (w == NULL) abort();
  w->t = t;
  w->now = t->m.now;
  w->stop_at = G.threads == 1 ? stop_at : 0;
  w->nest = nest;
  w->min_age = UINT64_MAX;
  int want = 0;
  for (int j = 0; j < t->m.nreg; j++) {
    const m_reg *g = &t->m.reg[j];
    if (!(w->expect[j] = g->state == M_PRESENT)) continue;
    want++;
    w->age[j] = w->now - g->created;
    w->left[j] = g->deadline == 0 ? UINT64_MAX : g->deadline > w->now ? g->deadline - w->now : 0;
    w->calls[j] = (uint64_t)atomic_load(&t->ob[j].calls);
  }
  int rc = tether_walk(G.r, fz_visit, w);
  if (rc == TETHER_ENOMEM && refused_since(refused0) && w->visited == 0) {
    free(w);
    return rc;
  }
  if (rc < 0) mismatch(t, "tether_walk returned %d", rc);
  if (rc != w->visited) mismatch(t, "tether_walk returned %d after %d visits", rc, w->visited);
  if (w->stop_at == 0 || w->visited < w->stop_at) {
    if (w->own != want)
      mismatch(t, "the walk listed %d of this thread's registrations, the model has %d", w->own,
               want);
  } else {
    /* Stopped early: what it listed are the oldest. */
    for (int j = 0; j < t->m.nreg; j++)
      if (w->expect[j] && !w->seen[j] && w->age[j] > w->min_age)
        mismatch(t, "the walk stopped early but skipped the older record %d", j);
  }
  free(w);
  return rc;
}

/* The full comparison: the walk of T's registrations, and the stats when T is
 * the only thread. */
static void check_all(fz_thread *t) {
  check_callbacks(t);
  walk_check(t, 0, 0, test_alloc_refused_here());
  if (G.threads == 1) check_stats(t, 0);
}

/* ---- the calls ---- */

static void do_register(fz_thread *t) {
  if (t->m.nreg >= M_MAX_REGS) return;
  m_regargs a;
  memset(&a, 0, sizeof a);
  a.name = pick_name(t);
  unsigned fb = byte(t), ob = byte(t), sb = byte(t);
  a.ttl = pick_ttl(t);
  a.flags = fb & 7;
  if ((fb >> 3) == 31) a.flags |= 1u << 3; /* an unknown flag */
  a.fn_null = fb == 0xf7;
  static const uint64_t sizes[8] = {0, 1, 8, 24, 100, 4096, 1u << 20, 1ull << 40};
  a.ctx_size = sizes[sb % 8];
  int copy = (a.flags & TETHER_COPY_CTX) != 0;
  if (copy && a.ctx_size > 4096) a.ctx_size = 4096;
  if (copy && a.ctx_size != 0 && a.ctx_size < sizeof(fz_ctx)) a.ctx_size = sizeof(fz_ctx);
  a.ctx_null = copy && (ob & 0xc0) == 0xc0;
  a.has_notify = (ob & 16) != 0;
  a.has_free = (ob & 32) == 0;
  a.owner = -1;
  if (ob & 8) a.owner = pick_owner(t);
  int k = t->m.nreg;
  obs *o = &t->ob[k];
  memset(o, 0, sizeof *o);
  o->copy = copy;
  o->notify = a.has_notify;
  /* The context: the fuzzer's (freed by the destructor, or by the fuzzer), or
   * a buffer the library copies. */
  size_t csize =
      copy ? (size_t)(a.ctx_size < sizeof(fz_ctx) ? sizeof(fz_ctx) : a.ctx_size) : sizeof(fz_ctx);
  fz_ctx *c = a.ctx_null ? NULL : malloc(csize);
  if (c != NULL) {
    memset(c, 0xa5, csize);
    c->magic = CTX_MAGIC;
    c->idx = (uint16_t)k;
    c->thread = (uint8_t)t->no;
  }
  o->ctx = copy ? NULL : c;
  tether_reg_options ro = {0};
  ro.owner = a.owner >= 0 ? t->owners[a.owner] : NULL;
  ro.ttl_ms = a.ttl;
  ro.ctx_size = (size_t)a.ctx_size;
  ro.flags = a.flags;
  ro.on_remove = a.has_notify ? fz_on_remove : NULL;
  int at = log_begin(t, OP_REGISTER, k, a.name, a.flags);
  int armed = fail_arm(t);
  uint64_t refused0 = test_alloc_refused_here();
  tether_id id = 0;
  int rc = tether_register_at(G.r, pick_site(sb >> 3), name_str(t, a.name),
                              a.fn_null ? NULL : fz_handler, c, a.has_free ? fz_dtor : NULL, &ro, &id);
  fail_disarm(armed);
  log_end(t, at, rc);
  unsigned allowed = m_register_expect(&t->m, &a);
  if (rc == TETHER_ENOMEM && refused_since(refused0)) allowed |= 1u << -TETHER_ENOMEM;
  if (rc > 0 || !(allowed & (1u << -rc)))
    mismatch(t, "tether_register returned %d, the model allows the mask 0x%x", rc, allowed);
  if (rc != 0) {
    m_register_failed(&t->m, &a, rc);
    if (copy) {
      free(c);
    } else {
      o->keep = 1;
    }
    if (rc == TETHER_ENOMEM) check_all(t);
    return;
  }
  if (id == 0) mismatch(t, "tether_register gave id 0");
  if (m_find_id(&t->m, id) >= 0) mismatch(t, "tether_register gave an id it gave before");
  m_register_apply(&t->m, &a, id);
  if (copy) {
    free(c); /* the registration has its copy */
  } else if (!a.has_free) {
    o->keep = 1;
  }
}

static void do_unregister(fz_thread *t, int sync) {
  int j;
  tether_id id = pick_id(t, &j);
  int at = log_begin(t, sync ? OP_UNREGISTER_SYNC : OP_UNREGISTER, j, id == 0, 0);
  int rc = sync ? tether_unregister_sync(G.r, id) : tether_unregister(G.r, id);
  log_end(t, at, rc);
  int want;
  if (id == 0)
    want = TETHER_EINVAL;
  else if (sync && m_wait_refused(&t->m, j))
    want = TETHER_EDEADLK;
  else
    want = m_unregister(&t->m, j);
  EXPECT_RC(t, sync ? "tether_unregister_sync" : "tether_unregister", rc, want);
  if (sync && want != TETHER_EDEADLK && want != TETHER_EINVAL) {
    check_destroyed(t, -1, "tether_unregister_sync");
    if (G.threads == 1) check_stats(t, 1);
  }
}

static void do_unregister_name(fz_thread *t) {
  int k = pick_name(t);
  int at = log_begin(t, OP_UNREGISTER_NAME, k, 0, 0);
  int rc = tether_unregister_name(G.r, name_str(t, k));
  log_end(t, at, rc);
  EXPECT_RC(t, "tether_unregister_name", rc,
            name_error(k) ? name_error(k) : m_unregister_name(&t->m, k));
}

/* An emit (first_only 0), a call (1), a topic emit (TOPIC) or a ref call (REF). */
static void do_dispatch(fz_thread *t, int op, int k, tether_topic *topic, int refk) {
  if (t->nframes >= MAX_FRAMES) return;
  m_frame *f = &t->frames[t->nframes++];
  if (op == OP_REF_CALL)
    m_frame_begin_ref(&t->m, f, t->m.ref[refk].reg);
  else
    m_frame_begin(&t->m, f, k, op == OP_CALL);
  int at =
      log_begin(t, op, op == OP_REF_CALL ? refk : k, op == OP_REF_CALL ? t->m.ref[refk].reg : 0, 0);
  int armed = fail_arm(t);
  uint64_t refused0 = test_alloc_refused_here();
  int result = INT_MIN, rc;
  if (op == OP_EMIT)
    rc = tether_emit(G.r, name_str(t, k), t);
  else if (op == OP_CALL)
    rc = tether_call(G.r, name_str(t, k), t, &result);
  else if (op == OP_TOPIC_EMIT)
    rc = tether_topic_emit(topic, t);
  else
    rc = tether_ref_call(t->refs[refk], t, &result);
  fail_disarm(armed);
  t->nframes--;
  log_end(t, at, rc);
  const char *what = op_names[op];
  if (op != OP_TOPIC_EMIT && op != OP_REF_CALL && name_error(k)) {
    EXPECT_RC(t, what, rc, name_error(k));
    return;
  }
  if (rc == TETHER_ENOMEM) {
    /* Only a thread's first entry allocates (its record), and then nothing ran. */
    if (t->m.entered || !refused_since(refused0) || f->called != 0)
      mismatch(t, "%s returned TETHER_ENOMEM (entered %d, %d calls)", what, t->m.entered,
               f->called);
    return;
  }
  t->m.entered = 1;
  const char *why = m_frame_end(&t->m, f);
  if (why) mismatch(t, "%s returned %d: %s", what, rc, why);
  if (op == OP_EMIT || op == OP_TOPIC_EMIT) {
    EXPECT_RC(t, what, rc, f->called);
  } else {
    EXPECT_RC(t, what, rc, f->called ? 0 : TETHER_ENOENT);
    if (rc == 0 && result != f->first_ret)
      mismatch(t, "%s stored %d, the handler returned %d", what, result, f->first_ret);
  }
}

static void do_topic_get(fz_thread *t) {
  if (t->m.ntopic >= M_MAX_TOPICS) return;
  int k = pick_name(t);
  int at = log_begin(t, OP_TOPIC_GET, k, t->m.ntopic, 0);
  int armed = fail_arm(t);
  uint64_t refused0 = test_alloc_refused_here();
  tether_topic *tp = (tether_topic *)1;
  int rc = tether_topic_get(G.r, name_str(t, k), &tp);
  fail_disarm(armed);
  log_end(t, at, rc);
  if (rc == TETHER_ENOMEM && refused_since(refused0) && !name_error(k)) {
    if (tp != NULL) mismatch(t, "tether_topic_get failed but left *out set");
    check_all(t);
    return;
  }
  EXPECT_RC(t, "tether_topic_get", rc, name_error(k));
  if (rc != 0) return;
  int q = t->m.ntopic++;
  t->topics[q] = tp;
  t->m.topic[q].live = 1;
  t->m.topic[q].name = k;
}

static void do_topic(fz_thread *t, int release) {
  int q = pick_topic(t);
  if (q < 0) {
    if (release) {
      tether_topic_release(NULL);
    } else {
      int rc = tether_topic_emit(NULL, t);
      EXPECT_RC(t, "tether_topic_emit(NULL)", rc, TETHER_EINVAL);
    }
    return;
  }
  if (!release) {
    do_dispatch(t, OP_TOPIC_EMIT, t->m.topic[q].name, t->topics[q], -1);
    return;
  }
  log_begin(t, OP_TOPIC_RELEASE, q, 0, 0);
  t->m.topic[q].live = 0;
  tether_topic_release(t->topics[q]);
  t->topics[q] = NULL;
}

static void do_acquire(fz_thread *t) {
  if (t->m.nref >= M_MAX_REFS) return;
  int j;
  tether_id id = pick_id(t, &j);
  int at = log_begin(t, OP_ACQUIRE, j, id == 0, t->m.nref);
  int armed = fail_arm(t);
  uint64_t refused0 = test_alloc_refused_here();
  tether_ref *ref = (tether_ref *)1;
  int rc = tether_acquire(G.r, id, &ref);
  fail_disarm(armed);
  log_end(t, at, rc);
  if (id == 0) {
    EXPECT_RC(t, "tether_acquire(id 0)", rc, TETHER_EINVAL);
    return;
  }
  if (rc == TETHER_ENOMEM && refused_since(refused0)) {
    if (ref != NULL) mismatch(t, "tether_acquire failed but left *out set");
    check_all(t);
    return;
  }
  EXPECT_RC(t, "tether_acquire", rc, m_acquire(&t->m, j));
  if (rc != 0) {
    if (ref != NULL) mismatch(t, "tether_acquire failed but left *out set");
    return;
  }
  int q = t->m.nref++;
  t->refs[q] = ref;
  t->m.ref[q].live = 1;
  t->m.ref[q].reg = j;
  t->m.reg[j].refs++;
  atomic_fetch_add(&t->ob[j].refs, 1);
  const fz_ctx *c = tether_ref_ctx(ref);
  if (t->ob[j].copy ? thread_of(c) != t || c->idx != j : (const void *)c != t->ob[j].ctx)
    mismatch(t, "tether_ref_ctx of record %d is not its context", j);
}

static void do_ref(fz_thread *t, int release) {
  int q = pick_ref(t);
  if (q < 0) {
    if (release) {
      tether_ref_release(NULL);
    } else {
      int rc = tether_ref_call(NULL, t, NULL);
      EXPECT_RC(t, "tether_ref_call(NULL)", rc, TETHER_EINVAL);
    }
    return;
  }
  if (!release) {
    do_dispatch(t, OP_REF_CALL, -1, NULL, q);
    return;
  }
  int j = t->m.ref[q].reg;
  log_begin(t, OP_REF_RELEASE, q, j, 0);
  t->m.ref[q].live = 0;
  t->m.reg[j].refs--;
  atomic_fetch_sub(&t->ob[j].refs, 1);
  tether_ref_release(t->refs[q]);
  t->refs[q] = NULL;
}

static void do_touch(fz_thread *t) {
  int j;
  tether_id id = pick_id(t, &j);
  uint64_t ttl = pick_ttl(t);
  int at = log_begin(t, OP_TOUCH, j, (int64_t)ttl, id == 0);
  int rc = tether_touch(G.r, id, ttl);
  log_end(t, at, rc);
  EXPECT_RC(t, "tether_touch", rc, id == 0 ? TETHER_EINVAL : m_touch(&t->m, j, ttl));
}

static void do_owner(fz_thread *t, int op) {
  if (op == OP_OWNER_NEW) {
    if (t->m.nowner >= M_MAX_OWNERS) return;
    int q = t->m.nowner;
    int at = log_begin(t, op, q, 0, 0);
    int rc = tether_owner_new(&t->owners[q]);
    log_end(t, at, rc);
    EXPECT_RC(t, "tether_owner_new", rc, 0);
    t->m.nowner++;
    t->m.owner[q].live = 1;
    t->m.owner[q].noted = 0;
    return;
  }
  int q = pick_owner(t);
  int at = log_begin(t, op, q, 0, 0);
  if (op == OP_OWNER_FREE) {
    if (q >= 0) m_owner_free(&t->m, q);
    tether_owner_free(q >= 0 ? t->owners[q] : NULL);
    return;
  }
  int refused = q >= 0 ? m_owner_sync_refused(&t->m, q) : 0;
  int rc = tether_owner_free_sync(q >= 0 ? t->owners[q] : NULL);
  log_end(t, at, rc);
  if (refused == -1 && (rc == 0 || rc == TETHER_EDEADLK)) refused = rc != 0;
  EXPECT_RC(t, "tether_owner_free_sync", rc, refused ? TETHER_EDEADLK : 0);
  if (q >= 0 && rc == 0) {
    m_owner_free(&t->m, q);
    check_destroyed(t, q, "tether_owner_free_sync");
  }
}

static void do_count(fz_thread *t) {
  int k = pick_name(t);
  int at = log_begin(t, OP_COUNT, k, 0, 0);
  int armed = fail_arm(t);
  uint64_t refused0 = test_alloc_refused_here();
  int rc = tether_count(G.r, name_str(t, k));
  fail_disarm(armed);
  log_end(t, at, rc);
  if (name_error(k)) {
    EXPECT_RC(t, "tether_count", rc, name_error(k));
    return;
  }
  if (rc == TETHER_ENOMEM && !t->m.entered && refused_since(refused0)) return;
  t->m.entered = 1;
  EXPECT_RC(t, "tether_count", rc, m_count(&t->m, k));
}

static void do_walk(fz_thread *t) {
  unsigned b = byte(t);
  int at = log_begin(t, OP_WALK, b % 8, b >> 7, 0);
  int armed = fail_arm(t);
  uint64_t refused0 = test_alloc_refused_here();
  int rc = walk_check(t, (int)(b % 8), (int)(b >> 7), refused0);
  fail_disarm(armed);
  log_end(t, at, rc);
}

/* The leak report and the profile: each reports every registration present. */
static void do_report(fz_thread *t, int op) {
  int at = log_begin(t, op, 0, 0, 0);
  int armed = fail_arm(t);
  uint64_t refused0 = test_alloc_refused_here();
  int rc =
      op == OP_LEAK_REPORT ? tether_leak_report(G.r, g_sink) : tether_profile_write(G.r, g_sink, 0);
  fail_disarm(armed);
  log_end(t, at, rc);
  if (rc == TETHER_ENOMEM && refused_since(refused0)) return;
  int want = 0;
  for (int j = 0; j < t->m.nreg; j++) want += t->m.reg[j].state == M_PRESENT;
  if (G.threads == 1)
    EXPECT_RC(t, op_names[op], rc, want);
  else if (rc < want)
    mismatch(t, "%s reported %d, this thread alone has %d", op_names[op], rc, want);
}

static void do_barrier(fz_thread *t) {
  int at = log_begin(t, OP_BARRIER, 0, 0, 0);
  int rc = tether_barrier(G.r);
  log_end(t, at, rc);
  EXPECT_RC(t, "tether_barrier", rc, m_wait_refused(&t->m, -1) ? TETHER_EDEADLK : 0);
  if (rc == 0) {
    check_destroyed(t, -1, "tether_barrier");
    if (G.threads == 1) check_stats(t, 1);
  }
}

/* tether_registry_free where it must refuse: from a callback, or (one thread)
 * while refs or topics are held. It would free the registry anywhere else. */
static void do_try_free(fz_thread *t) {
  if (!t->m.inside && (G.threads > 1 || !m_holds(&t->m))) return;
  int at = log_begin(t, OP_TRY_FREE, t->m.inside, 0, 0);
  int rc = tether_registry_free(G.r);
  log_end(t, at, rc);
  EXPECT_RC(t, "tether_registry_free", rc, TETHER_EBUSY);
}

static void exec_op(fz_thread *t) {
  /* Registering is the call most others need: it has more of the byte's values. */
  /* clang-format off */
  static const uint8_t table[32] = {
    OP_REGISTER, OP_REGISTER, OP_REGISTER, OP_REGISTER, OP_UNREGISTER, OP_UNREGISTER_SYNC,
    OP_UNREGISTER_NAME, OP_EMIT, OP_EMIT, OP_CALL, OP_TOPIC_GET, OP_TOPIC_EMIT, OP_TOPIC_RELEASE,
    OP_ACQUIRE, OP_REF_CALL, OP_REF_RELEASE, OP_TOUCH, OP_SWEEP, OP_OWNER_NEW, OP_OWNER_FREE,
    OP_OWNER_FREE_SYNC, OP_COUNT, OP_WALK, OP_STATS, OP_BARRIER, OP_CLOCK, OP_CLOCK, OP_FAIL,
    OP_LEAK_REPORT, OP_TRY_FREE, OP_PROFILE, OP_UNREGISTER};
  /* clang-format on */
  int op = table[byte(t) % 32];
  switch (op) {
    case OP_REGISTER:
      do_register(t);
      break;
    case OP_UNREGISTER:
      do_unregister(t, 0);
      break;
    case OP_UNREGISTER_SYNC:
      do_unregister(t, 1);
      break;
    case OP_UNREGISTER_NAME:
      do_unregister_name(t);
      break;
    case OP_EMIT:
    case OP_CALL:
      do_dispatch(t, op, pick_name(t), NULL, -1);
      break;
    case OP_TOPIC_GET:
      do_topic_get(t);
      break;
    case OP_TOPIC_EMIT:
      do_topic(t, 0);
      break;
    case OP_TOPIC_RELEASE:
      do_topic(t, 1);
      break;
    case OP_ACQUIRE:
      do_acquire(t);
      break;
    case OP_REF_CALL:
      do_ref(t, 0);
      break;
    case OP_REF_RELEASE:
      do_ref(t, 1);
      break;
    case OP_TOUCH:
      do_touch(t);
      break;
    case OP_SWEEP:
      /* It removes by the caller's clock, which is per thread: one thread only. */
      if (G.threads == 1) {
        int at = log_begin(t, OP_SWEEP, 0, 0, 0);
        int rc = tether_sweep(G.r);
        log_end(t, at, rc);
        EXPECT_RC(t, "tether_sweep", rc, m_sweep(&t->m));
      }
      break;
    case OP_OWNER_NEW:
    case OP_OWNER_FREE:
    case OP_OWNER_FREE_SYNC:
      do_owner(t, op);
      break;
    case OP_COUNT:
      do_count(t);
      break;
    case OP_WALK:
      do_walk(t);
      break;
    case OP_STATS:
      log_begin(t, OP_STATS, 0, 0, 0);
      if (G.threads == 1) {
        check_stats(t, 0);
      } else {
        tether_stats st;
        EXPECT_RC(t, "tether_stats_get", tether_stats_get(G.r, &st), 0);
      }
      break;
    case OP_BARRIER:
      do_barrier(t);
      break;
    case OP_CLOCK: {
      static const uint64_t steps[8] = {0, 1, 1, 2, 5, 49, 50, 1000};
      uint64_t d = steps[byte(t) % 8];
      log_begin(t, OP_CLOCK, (int64_t)d, 0, 0);
      t->m.now += d;
      break;
    }
    case OP_FAIL: {
      unsigned b = byte(t);
      log_begin(t, OP_FAIL, 1 + b % 4, b >> 7, G.faults);
      if (G.faults) {
        t->fail_pending = 1 + b % 4;
        t->fail_after = (int)(b >> 7);
      }
      break;
    }
    case OP_LEAK_REPORT:
    case OP_PROFILE:
      do_report(t, op);
      break;
    case OP_TRY_FREE:
      do_try_free(t);
      break;
  }
}

/* ---- a thread's sequence ---- */

static void thread_end(fz_thread *t) {
  /* What it holds goes back: the registry cannot be freed otherwise. */
  for (int q = 0; q < t->m.nref; q++)
    if (t->m.ref[q].live) {
      t->m.ref[q].live = 0;
      t->m.reg[t->m.ref[q].reg].refs--;
      atomic_fetch_sub(&t->ob[t->m.ref[q].reg].refs, 1);
      tether_ref_release(t->refs[q]);
    }
  for (int q = 0; q < t->m.ntopic; q++)
    if (t->m.topic[q].live) {
      t->m.topic[q].live = 0;
      tether_topic_release(t->topics[q]);
    }
  log_begin(t, LOG_END, 0, 0, 0);
}

static void run_sequence(fz_thread *t) {
  t_clock = &t->m.now;
  for (int k = 0; k < MAX_OPS && t->i < t->n; k++) {
    exec_op(t);
    check_callbacks(t);
  }
  thread_end(t);
}

static void *thread_main(void *arg) {
  run_sequence(arg);
  return NULL;
}

static uint64_t fz_clock(void *ud) {
  (void)ud;
  return t_clock ? *t_clock : 0;
}

static void thread_init(fz_thread *t, int no, const uint8_t *p, size_t n, uint64_t now) {
  t->no = no;
  t->p = p;
  t->n = n;
  t->i = 0;
  m_init(&t->m, G.mode, now);
  t->nframes = 0;
  t->fail_pending = 0;
  t->nlog = 0;
  for (int k = 0; k < M_NAMES; k++) t->names[k] = name_buf[no][k];
}

/* Frees what the fuzzer kept: contexts without a destructor or refused, owners. */
static void thread_release(fz_thread *t) {
  for (int j = 0; j < t->m.nreg; j++)
    if (t->ob[j].keep) free(t->ob[j].ctx);
  for (int q = 0; q < t->m.nowner; q++)
    if (t->m.owner[q].live) tether_owner_free(t->owners[q]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 3) return 0;
  names_init();
  memset(&G.alloc, 0, sizeof G.alloc);
  test_alloc_init(&G.alloc);
  G.mode = data[0] & 1 ? TETHER_BUS : TETHER_MAP;
  G.threads = data[0] & 2 ? 2 : 1;
  G.faults = (data[0] & 4) != 0;
  G.track = (data[0] & 16) != 0;
  /* The second thread's bytes: the tail, from the point the second byte says. */
  size_t body = size - 3, split = G.threads == 2 ? body * data[1] / 256 : body;
  thread_init(&G.t[0], 0, data + 3, split, 1000 + data[2]);
  if (G.threads == 2) thread_init(&G.t[1], 1, data + 3 + split, body - split, 5000);
  fz_thread *t = &G.t[0];
  t_clock = &t->m.now;
  log_begin(t, LOG_NEW, G.mode, G.threads, G.faults);

  tether_options o = {0};
  o.mode = G.mode;
  o.allocator = &G.alloc.iface;
  o.clock_ms = fz_clock;
  o.leak_report = g_sink;
  o.track_calls = G.track;
  o.never_called_ms = 10; /* the leak report's "never called" list, on the fuzzer's clock */
  o.capture_stack = data[2] & 0x80 ? 4 : 0;
  if (G.faults && (data[0] & 8)) {
    /* A registry that cannot be made leaves nothing behind. */
    test_alloc_fail_here(&G.alloc, 1 + (data[0] >> 5) % 3, 0);
    tether_registry *r = (tether_registry *)1;
    int rc = tether_registry_new(&r, &o);
    test_alloc_fail_here(&G.alloc, 0, 0);
    if (rc == 0) {
      tether_registry_free(r);
    } else if (rc != TETHER_ENOMEM || r != NULL || atomic_load(&G.alloc.live_blocks) != 0) {
      mismatch(t, "tether_registry_new out of memory returned %d, left %llu blocks", rc,
               (unsigned long long)atomic_load(&G.alloc.live_blocks));
    }
  }
  EXPECT_RC(t, "tether_registry_new", tether_registry_new(&G.r, &o), 0);

  pthread_t second;
  if (G.threads == 2 && pthread_create(&second, NULL, thread_main, &G.t[1]) != 0) G.threads = 1;
  run_sequence(t);
  if (G.threads == 2) pthread_join(second, NULL);

  /* Everything is idle now: a barrier makes every destructor due run, then the
   * stats and each thread's walk are compared (a walk computes ages with the
   * walker's clock: each thread's with its own). */
  EXPECT_RC(t, "tether_barrier at the end", tether_barrier(G.r), 0);
  for (int k = 0; k < G.threads; k++) {
    t_clock = &G.t[k].m.now;
    check_destroyed(&G.t[k], -1, "the last barrier");
    walk_check(&G.t[k], 0, 0, test_alloc_refused_here());
  }
  t_clock = &t->m.now;
  check_stats(t, 1);
  int want = 0;
  for (int k = 0; k < G.threads; k++) want += m_registry_free(&G.t[k].m);
  int rc = tether_registry_free(G.r);
  EXPECT_RC(t, "tether_registry_free", rc, want);
  G.r = NULL;
  for (int k = 0; k < G.threads; k++) check_destroyed(&G.t[k], -1, "tether_registry_free");
  for (int k = 0; k < G.threads; k++) thread_release(&G.t[k]);
  if (atomic_load(&G.alloc.live_blocks) != 0 || atomic_load(&G.alloc.live_bytes) != 0)
    mismatch(t, "%llu blocks (%llu bytes) of the registry's allocator never came back",
             (unsigned long long)atomic_load(&G.alloc.live_blocks),
             (unsigned long long)atomic_load(&G.alloc.live_bytes));
  t_clock = NULL;
  return 0;
}
