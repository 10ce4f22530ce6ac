/* Reclamation: per-registry epochs, per-thread records, the limbo list and the
 * background thread.
 *
 * Guarantees kept here (docs/design.md has the argument):
 * - An object retired at epoch E is destroyed only once the registry's epoch has
 *   reached E + 2. The epoch advances from E to E + 1 only when every record that
 *   is inside a read section shows E. A reader that could still hold a pointer to
 *   the object entered before it was unlinked, so it shows an epoch <= E and holds
 *   the epoch below E + 2 for as long as it stays inside.
 * - Readers write only their own record. Writers issue membarrier(PRIVATE_EXPEDITED)
 *   (or, where that is unavailable, readers use a full fence) so that a writer's
 *   scan of the records cannot miss a reader that loaded an unlinked pointer.
 * - A writer whose advance is blocked by a reader sets that reader's `help` flag;
 *   the reader sees it on its outermost exit and hands the registry to the
 *   background thread. Writers also arm the background thread after retiring, so
 *   nothing stays in limbo once every thread has left (guarantee 5).
 * - Arming is lock-free (an atomic due time and a futex doorbell), so readers
 *   can arm from dispatch and writers can arm while they still hold the registry
 *   mutex, before anyone may free the registry.
 * - Entries that readers claim (TETHER_ONCE, expiry) are handed to the
 *   background thread through a lock-free stack; it, or the next writer-side
 *   call, finishes their removal with the locks in order.
 * - Destructors run outside every lock, on the background thread, a writer, a
 *   barrier, or the thread that releases the last ref.
 * - Records are per (thread, registry), reused after their thread exits; a
 *   pthread key destructor releases them, so short-lived threads leave nothing. */
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <limits.h>
#include <linux/futex.h>
#include <linux/membarrier.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"

pthread_mutex_t tether__g_mu = PTHREAD_MUTEX_INITIALIZER;
TETHER__TLS tether__tls_cache tether__tls_last;
int tether__use_membarrier;
#if defined(TETHER_SANITIZE_THREAD)
TETHER__TLS _Atomic int tether__fence_word;
#endif

/* The background thread sleeps on g_bell (a futex word) and every arm bumps it;
 * g_bg_sleeping spares the wake-up system call while it is awake. */
static _Atomic uint32_t g_bell;
static _Atomic int g_bg_sleeping;
static pthread_cond_t g_idle_cv = PTHREAD_COND_INITIALIZER; /* a registry stopped being busy */
static tether_registry *g_registries;                       /* every live registry */
static uint64_t g_next_serial = 1;
static pthread_t g_bg;
static pthread_once_t g_once = PTHREAD_ONCE_INIT;
static pthread_key_t g_key;
static int g_key_made, g_atfork_made; /* guarded by tether__g_mu: retried until they succeed */
static TETHER__TLS tether__frame
    *t_frames; /* user code tether runs on this thread, innermost first */

/* Each thread's map from registry serial to record. */
typedef struct thr_map_ent {
  uint64_t serial;
  tether__rec *rec;
} thr_map_ent;
typedef struct thr_state {
  thr_map_ent *map;
  size_t n, cap;
} thr_state;
static TETHER__TLS thr_state t_thr;

/* ---- memory and clock ---- */

void *tether__alloc(tether_registry *r, size_t size) {
  return r->alloc.alloc(r->alloc.ud, size);
}

void tether__free(tether_registry *r, void *p, size_t size) {
  if (p != NULL) r->alloc.free(r->alloc.ud, p, size);
}

uint64_t tether__default_clock_ms(void *ud) {
  (void)ud;
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

uint64_t tether__now(const tether_registry *r) {
  return r->clock_ms(r->clock_ud);
}

static uint64_t mono_ms(void) {
  return tether__default_clock_ms(NULL);
}

/* ---- frames ---- */

void tether__frame_push(tether__frame *f, const tether_registry *r, int kind) {
  f->reg = r;
  f->kind = kind;
  f->up = t_frames;
  t_frames = f;
}

void tether__frame_pop(tether__frame *f) {
  assert(t_frames == f);
  t_frames = f->up;
}

int tether__busy_with(const tether_registry *r, int kinds) {
  for (const tether__frame *f = t_frames; f != NULL; f = f->up)
    if (f->reg == r && (f->kind & kinds)) return 1;
  return 0;
}

/* ---- the doorbell ---- */

static void bell_wait(uint32_t seen, const struct timespec *timeout) {
  syscall(SYS_futex, &g_bell, FUTEX_WAIT_PRIVATE, seen, timeout, NULL, 0);
}

static void bell_ring(void) {
  atomic_fetch_add_explicit(&g_bell, 1, memory_order_seq_cst);
  if (atomic_load_explicit(&g_bg_sleeping, memory_order_seq_cst))
    syscall(SYS_futex, &g_bell, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
}

/* ---- fences ---- */

static void writer_fence(void) {
  if (tether__use_membarrier) {
    if (syscall(__NR_membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0, 0) == 0) return;
    /* Cannot happen once registration succeeded; never continue unfenced. */
    abort();
  }
  TETHER__FULL_FENCE();
}

/* ---- thread records ---- */

static void thread_exit(void *arg);
static void *bg_main(void *arg);

/* fork(): the child is single-threaded, so it rebuilds the global state it
 * cannot trust: the mutex (prepare took it so no other thread was inside), the
 * condition variables (the parent's background thread may have been waiting on
 * one, and a signal would then wait for that phantom waiter), the list of
 * registries (those created before the fork must not be used in the child; new
 * ones work), and the background thread, which did not survive. It registers for
 * membarrier again, or falls back to fences while it is still single-threaded. */
static int g_bg_started; /* guarded by tether__g_mu */

static void atfork_prepare(void) {
  pthread_mutex_lock(&tether__g_mu);
}
static void atfork_parent(void) {
  pthread_mutex_unlock(&tether__g_mu);
}

static void atfork_child(void) {
  g_bg_started = 0;
  g_registries = NULL;
  atomic_store(&g_bell, 0);
  atomic_store(&g_bg_sleeping, 0);
  t_frames = NULL;
  if (tether__use_membarrier &&
      syscall(__NR_membarrier, MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED, 0, 0) != 0)
    tether__use_membarrier = 0;
  pthread_cond_init(&g_idle_cv, NULL);
  pthread_mutex_init(&tether__g_mu, NULL);
}

static void global_init_once(void) {
#if !defined(TETHER_SANITIZE_THREAD)
  /* TSan does not model membarrier: sanitizer builds use the fence fallback. */
  const char *env = getenv("TETHER_NO_MEMBARRIER");
  if (env == NULL || env[0] == '\0') {
    long q = syscall(__NR_membarrier, MEMBARRIER_CMD_QUERY, 0, 0);
    if (q > 0 && (q & MEMBARRIER_CMD_PRIVATE_EXPEDITED) &&
        syscall(__NR_membarrier, MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED, 0, 0) == 0)
      tether__use_membarrier = 1;
  }
#endif
}

/* Starts the background thread unless it runs (g_mu held). Its signals are
 * blocked, so that process-directed signals go to the program's own threads. */
static int start_bg_locked(void) {
  if (g_bg_started) return 0;
  pthread_attr_t attr;
  sigset_t all, old;
  pthread_attr_init(&attr);
  pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  int rc = pthread_create(&g_bg, &attr, bg_main, NULL);
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  pthread_attr_destroy(&attr);
  if (rc != 0) return TETHER_ENOMEM;
  g_bg_started = 1;
  return 0;
}

/* Process-wide set-up: membarrier once; the thread-exit key, the fork handlers
 * and the background thread (again after a fork) until each has succeeded, so
 * that a process that ran out of pthread keys once can still make registries
 * once it has freed some. */
int tether__global_init(void) {
  pthread_once(&g_once, global_init_once);
  pthread_mutex_lock(&tether__g_mu);
  int rc = 0;
  if (!g_key_made && pthread_key_create(&g_key, thread_exit) == 0) g_key_made = 1;
  if (g_key_made && !g_atfork_made && pthread_atfork(atfork_prepare, atfork_parent, atfork_child) == 0)
    g_atfork_made = 1;
  if (!g_key_made || !g_atfork_made)
    rc = TETHER_ENOMEM;
  else
    rc = start_bg_locked();
  pthread_mutex_unlock(&tether__g_mu);
  return rc;
}

static tether_registry *find_registry_locked(uint64_t serial) {
  for (tether_registry *r = g_registries; r != NULL; r = r->g_next)
    if (r->serial == serial) return r;
  return NULL;
}

/* Releases this thread's records of live registries and forgets the rest. */
static void thread_exit(void *arg) {
  (void)arg;
  pthread_mutex_lock(&tether__g_mu);
  for (size_t i = 0; i < t_thr.n; i++) {
    if (find_registry_locked(t_thr.map[i].serial) != NULL) {
      assert(atomic_load_explicit(&t_thr.map[i].rec->epoch, memory_order_relaxed) == 0);
      atomic_store_explicit(&t_thr.map[i].rec->thread, NULL, memory_order_release);
    }
  }
  pthread_mutex_unlock(&tether__g_mu);
  free(t_thr.map);
  t_thr.map = NULL;
  t_thr.n = t_thr.cap = 0;
  tether__tls_last.serial = 0;
  tether__tls_last.rec = NULL;
}

/* Drops map entries of registries that no longer exist (g_mu held). */
static void prune_locked(void) {
  size_t k = 0;
  for (size_t i = 0; i < t_thr.n; i++)
    if (find_registry_locked(t_thr.map[i].serial) != NULL) t_thr.map[k++] = t_thr.map[i];
  t_thr.n = k;
}

/* Frees this thread's map once it holds no entry. */
static void map_free_if_empty(void) {
  if (t_thr.n != 0) return;
  free(t_thr.map);
  t_thr.map = NULL;
  t_thr.cap = 0;
}

static tether__rec *attach_locked(tether_registry *r) {
  tether__rec *c;
  for (c = atomic_load_explicit(&r->recs, memory_order_acquire); c != NULL; c = c->next) {
    void *expected = NULL;
    if (atomic_compare_exchange_strong(&c->thread, &expected, (void *)&t_thr)) return c;
  }
  void *raw = tether__alloc(r, TETHER__REC_ALLOC);
  if (raw == NULL) return NULL;
  uintptr_t at = ((uintptr_t)raw + TETHER__REC_ALIGN - 1) & ~(uintptr_t)(TETHER__REC_ALIGN - 1);
  c = (tether__rec *)at;
  memset((void *)c, 0, sizeof *c);
  if (r->track_calls && tether__calls_attach(r, c) != 0) {
    tether__free(r, raw, TETHER__REC_ALLOC);
    return NULL;
  }
  c->raw = raw;
  atomic_init(&c->epoch, 0);
  atomic_init(&c->help, 0);
  atomic_init(&c->thread, (void *)&t_thr);
  c->reg = r;
  c->next = atomic_load_explicit(&r->recs, memory_order_relaxed);
  atomic_store_explicit(&r->recs, c, memory_order_release);
  return c;
}

tether__rec *tether__rec_peek(const tether_registry *r) {
  if ((tether__tls_last.serial & ~TETHER__TLS_FENCED) == r->serial) return tether__tls_last.rec;
  for (size_t i = 0; i < t_thr.n; i++)
    if (t_thr.map[i].serial == r->serial) return t_thr.map[i].rec;
  return NULL;
}

tether__rec *tether__rec_slow(tether_registry *r) {
  tether__rec *c = tether__rec_peek(r);
  if (c == NULL) {
    pthread_mutex_lock(&tether__g_mu);
    if (t_thr.n == t_thr.cap) prune_locked();
    if (t_thr.n == t_thr.cap) {
      size_t cap = t_thr.cap ? t_thr.cap * 2 : 4;
      thr_map_ent *grown = realloc(t_thr.map, cap * sizeof *grown);
      if (grown == NULL) {
        pthread_mutex_unlock(&tether__g_mu);
        return NULL;
      }
      t_thr.map = grown;
      t_thr.cap = cap;
    }
    c = attach_locked(r);
    if (c != NULL)
      t_thr.map[t_thr.n++] = (thr_map_ent){r->serial, c};
    else
      map_free_if_empty(); /* no record yet, so no thread-exit key to free the map */
    pthread_mutex_unlock(&tether__g_mu);
    if (c == NULL) return NULL;
    pthread_setspecific(g_key, &t_thr);
  }
  tether__tls_last.serial = r->serial | (tether__use_membarrier ? 0 : TETHER__TLS_FENCED);
  tether__tls_last.rec = c;
  return c;
}

void tether__register_registry(tether_registry *r) {
  pthread_mutex_lock(&tether__g_mu);
  r->serial = g_next_serial++;
  r->g_next = g_registries;
  g_registries = r;
  pthread_mutex_unlock(&tether__g_mu);
}

/* Takes R off the global list once the background thread is done with it. */
void tether__stop_profiles(tether_registry *r) {
  pthread_mutex_lock(&tether__g_mu);
  r->next_profile_ms = 0; /* never due again: bg_pick_locked skips it */
  while (r->bg_busy) pthread_cond_wait(&g_idle_cv, &tether__g_mu);
  pthread_mutex_unlock(&tether__g_mu);
}

void tether__unregister_registry(tether_registry *r) {
  pthread_mutex_lock(&tether__g_mu);
  while (r->bg_busy) pthread_cond_wait(&g_idle_cv, &tether__g_mu);
  for (tether_registry **p = &g_registries; *p != NULL; p = &(*p)->g_next) {
    if (*p == r) {
      *p = r->g_next;
      break;
    }
  }
  /* This thread's own map entry goes now; other threads' entries are keyed by the
   * serial, which is never reused, and are pruned lazily. */
  for (size_t i = 0; i < t_thr.n; i++) {
    if (t_thr.map[i].serial == r->serial) {
      t_thr.map[i] = t_thr.map[--t_thr.n];
      break;
    }
  }
  map_free_if_empty();
  if ((tether__tls_last.serial & ~TETHER__TLS_FENCED) == r->serial) tether__tls_last.serial = 0;
  pthread_mutex_unlock(&tether__g_mu);
}

void tether__free_recs(tether_registry *r) {
  tether__rec *c = atomic_load_explicit(&r->recs, memory_order_relaxed);
  while (c != NULL) {
    tether__rec *next = c->next;
    tether__calls_free(r, c);
    tether__free(r, c->raw, TETHER__REC_ALLOC);
    c = next;
  }
  atomic_store_explicit(&r->recs, NULL, memory_order_relaxed);
}

int tether__in_destructor_of(const tether_registry *r) {
  return tether__busy_with(r, TETHER__FR_DESTRUCTOR | TETHER__FR_BG);
}

const void *tether__self(void) {
  return &t_thr;
}

int tether__thread_busy_in(uint64_t serial) {
  for (const tether__frame *f = t_frames; f != NULL; f = f->up)
    if (f->reg->serial == serial) return 1;
  for (size_t i = 0; i < t_thr.n; i++)
    if (t_thr.map[i].serial == serial)
      return atomic_load_explicit(&t_thr.map[i].rec->epoch, memory_order_relaxed) != 0;
  return 0;
}

/* g_mu, then the registry's mutex: the one place that order is taken (nothing
 * takes g_mu with a registry mutex held). */
int tether__with_registry(uint64_t serial, int (*visit)(tether_registry *r, void *arg), void *arg) {
  int rc = 0;
  pthread_mutex_lock(&tether__g_mu);
  tether_registry *r = find_registry_locked(serial);
  if (r != NULL) {
    pthread_mutex_lock(&r->mu);
    rc = visit(r, arg);
    pthread_mutex_unlock(&r->mu);
  }
  pthread_mutex_unlock(&tether__g_mu);
  return rc;
}

/* ---- epochs and limbo ---- */

void tether__retire_obj(tether_registry *r, tether__retire *obj, int kind) {
  uint64_t e = atomic_load_explicit(&r->epoch, memory_order_relaxed);
  obj->next = NULL;
  obj->epoch_kind = e << TETHER__KIND_BITS | (uint64_t)kind;
  if (r->limbo_tail != NULL)
    r->limbo_tail->next = obj;
  else
    r->limbo_head = obj;
  r->limbo_tail = obj;
  r->limbo_count++;
  if (kind == TETHER__K_ENTRY) r->retire_seq++;
}

/* One attempt to move the epoch forward (mutex held). Returns 1 when it moved. */
static int try_advance(tether_registry *r) {
  uint64_t e = atomic_load_explicit(&r->epoch, memory_order_relaxed);
  /* Each round: a fence, then a scan. A record inside at an older epoch blocks
   * the advance. Returning "blocked" is safe only when every blocker had its help
   * flag set before the fence of the scan that saw it: then, by the
   * store-buffering handshake, either that scan saw it gone or it sees the flag
   * on its way out and re-arms the background thread. A blocker first seen in a
   * later scan (a reader that loaded an old epoch before this call and published
   * it only now) gets its flag and one more round. Each record can be new only
   * once per call (the epoch does not move meanwhile: a reader entering now
   * stores E and blocks nothing), so the rounds end. */
  for (;;) {
    int blocked = 0, flagged = 0;
    writer_fence();
    for (tether__rec *c = atomic_load_explicit(&r->recs, memory_order_acquire); c; c = c->next) {
      uint64_t v = atomic_load_explicit(&c->epoch, memory_order_acquire);
      if (v == 0 || v == e) continue;
      blocked = 1;
      if (!atomic_load_explicit(&c->help, memory_order_relaxed)) {
        atomic_store_explicit(&c->help, 1, memory_order_relaxed);
        flagged = 1;
      }
    }
    if (!blocked) break;
    if (!flagged) return 0;
  }
  atomic_store_explicit(&r->epoch, e + 1, memory_order_release);
  return 1;
}

/* Moves every object whose grace period is over into B (mutex held). Entries
 * still pinned by refs become zombies; their last ref release destroys them. B
 * is linked into the registry's in-flight list until tether__destroy_batch. */
void tether__collect(tether_registry *r, tether__batch *b) {
  b->head = b->tail = NULL;
  b->min_epoch = UINT64_MAX;
  b->next_inflight = NULL;
  if (r->limbo_head == NULL) return;
  /* Advance until the newest object is old enough (at most twice: it was retired
   * at an epoch no later than the current one), or a reader blocks: that reader
   * then has its help flag set and re-arms the background thread as it leaves.
   * Stopping once the oldest was old enough would leave newer objects with no one
   * to come back for them when their writer's arm found the thread already armed. */
  for (int i = 0; i < 2; i++) {
    uint64_t newest = tether__retire_epoch(r->limbo_tail);
    if (newest + 2 <= atomic_load_explicit(&r->epoch, memory_order_relaxed)) break;
    if (!try_advance(r)) break;
  }
  uint64_t now = atomic_load_explicit(&r->epoch, memory_order_relaxed);
  while (r->limbo_head != NULL && tether__retire_epoch(r->limbo_head) + 2 <= now) {
    tether__retire *o = r->limbo_head;
    r->limbo_head = o->next;
    if (r->limbo_head == NULL) r->limbo_tail = NULL;
    r->limbo_count--;
    o->next = NULL;
    if (tether__retire_kind(o) == TETHER__K_ENTRY) {
      tether__entry *en = tether__entry_of(o);
      if (en->refs > 0) {
        /* Why it was removed and the replaced mark stay (on_remove reads the one). */
        uint32_t st = atomic_load_explicit(&en->state, memory_order_relaxed);
        atomic_store_explicit(&en->state, (st & ~TETHER__STATE_MASK) | TETHER__ZOMBIE,
                              memory_order_relaxed);
        o->next = r->zombies ? &r->zombies->u.retire : NULL;
        r->zombies = en;
        continue;
      }
      if (tether__retire_epoch(o) < b->min_epoch) b->min_epoch = tether__retire_epoch(o);
    }
    if (b->tail)
      b->tail->next = o;
    else
      b->head = o;
    b->tail = o;
  }
  if (b->head != NULL) {
    b->next_inflight = r->inflight;
    r->inflight = b;
  }
}

/* What is left to do once an entry's destructor has returned (or, had it thrown
 * or ended its thread, is unwinding): free the entry, count it, tell its owner. */
typedef struct destroying {
  tether_registry *r;
  tether__entry *e;
  tether_owner *notify;
} destroying;

static void destroy_entry_end(destroying *d) {
  tether__free(d->r, d->e, tether__entry_size(d->e));
  atomic_fetch_add_explicit(&d->r->destructors_run, 1, memory_order_release);
  if (d->notify != NULL) tether__owner_unref(d->notify);
}

void tether__destroy_entry(tether_registry *r, tether__entry *e) {
  const tether__owned *w = tether__owned_of(e);
  destroying d __attribute__((cleanup(destroy_entry_end), unused)) = {
      r, e, w != NULL && w->owner == NULL ? w->u.notify : NULL};
  TETHER__FRAME(frame, r, TETHER__FR_DESTRUCTOR);
  tether__notify_fn *on_remove = tether__notify_of(e);
  if (on_remove != NULL) {
    uint32_t s = atomic_load_explicit(&e->state, memory_order_relaxed);
    (*on_remove)(e->ctx, (tether_removal)((s & TETHER__S_WHY_MASK) >> TETHER__S_WHY_SHIFT));
  }
  if (e->ctx_free != NULL && !(e->flags & TETHER__F_COPY)) e->ctx_free(e->ctx);
}

static void destroy_object(tether_registry *r, tether__retire *o) {
  switch ((int)tether__retire_kind(o)) {
    case TETHER__K_ENTRY:
      tether__destroy_entry(r, tether__entry_of(o));
      break;
    case TETHER__K_SLOT: {
      tether__slot *s = (tether__slot *)((char *)o - offsetof(tether__slot, retire));
      tether__free(r, s, tether__slot_size(s->len));
      break;
    }
    case TETHER__K_ARRAY: {
      tether__array *a = (tether__array *)o;
      tether__free(r, a, tether__array_size(a->n));
      break;
    }
    default: {
      tether__table *t = (tether__table *)o;
      tether__free(r, t, tether__table_size(t->mask));
      break;
    }
  }
}

/* A batch being destroyed: where it stands, so that a destructor that throws or
 * ends its thread leaves the registry whole. The objects not yet destroyed go
 * back to the head of limbo (their grace period is over; limbo stays in epoch
 * order), and the batch leaves the in-flight list either way. */
typedef struct batch_run {
  tether_registry *r;
  tether__batch *b;
  tether__retire *rest; /* objects not yet destroyed */
  int cancel_state;
} batch_run;

static void batch_run_end(batch_run *x) {
  tether_registry *r = x->r;
  pthread_mutex_lock(&r->mu);
  if (x->rest != NULL) {
    tether__retire *tail = x->rest;
    size_t n = 1;
    for (; tail->next != NULL; tail = tail->next) n++;
    tail->next = r->limbo_head;
    if (r->limbo_head == NULL) r->limbo_tail = tail;
    r->limbo_head = x->rest;
    r->limbo_count += n;
  }
  for (tether__batch **p = &r->inflight; *p != NULL; p = &(*p)->next_inflight) {
    if (*p == x->b) {
      *p = x->b->next_inflight;
      break;
    }
  }
  pthread_cond_broadcast(&r->done_cv);
  if (x->rest != NULL) tether__arm(r, 0);
  pthread_mutex_unlock(&r->mu);
  pthread_setcancelstate(x->cancel_state, NULL);
}

/* Destroys B's objects (no lock held), then unlinks B and wakes barrier waiters.
 * Cancellation is held off meanwhile: a destructor is not a cancellation point
 * of the caller's. */
void tether__destroy_batch(tether_registry *r, tether__batch *b) {
  if (b->head == NULL) return;
  batch_run x __attribute__((cleanup(batch_run_end))) = {r, b, b->head, 0};
  pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &x.cancel_state);
  while (x.rest != NULL) {
    tether__retire *o = x.rest;
    x.rest = o->next;
    destroy_object(r, o);
  }
}

/* Arms the background thread when limbo is not empty, then releases the mutex:
 * arming touches R, which another thread may free as soon as the mutex is free
 * (tether_owner_free racing tether_registry_free).
 * Returns 1 when limbo has grown past TETHER__LIMBO_INLINE objects since the
 * last inline attempt: the caller should then reclaim on its own thread
 * (tether__reclaim_if) once it holds no lock, which bounds limbo under a writer
 * that churns faster than the background thread runs. Once per
 * TETHER__LIMBO_INLINE retirements, not once per call past it: while readers
 * hold an epoch back, each attempt fails, and every attempt is a membarrier
 * (an interrupt on every CPU running a reader). */
int tether__unlock(tether_registry *r) {
  int pending = r->limbo_head != NULL;
  int many = r->limbo_count >= TETHER__LIMBO_INLINE && r->limbo_count >= r->limbo_mark;
  if (pending) tether__arm(r, 1);
  pthread_mutex_unlock(&r->mu);
  return many;
}

void tether__reclaim_if(tether_registry *r, int many) {
  if (many && !tether__in_destructor_of(r)) {
    atomic_fetch_add_explicit(&r->inline_reclaims, 1, memory_order_relaxed);
    tether__reclaim_now(r);
  }
}

/* Reclaims what it can right now, on this thread. What stays in limbo is held
 * back by readers still inside: try_advance has set their help flags, and each
 * re-arms the background thread on its way out. Writers try again inline only
 * TETHER__LIMBO_INLINE retirements after this attempt. */
void tether__reclaim_now(tether_registry *r) {
  tether__batch b;
  pthread_mutex_lock(&r->mu);
  tether__collect(r, &b);
  r->limbo_mark = r->limbo_count + TETHER__LIMBO_INLINE;
  pthread_mutex_unlock(&r->mu);
  tether__destroy_batch(r, &b);
}

/* A reader that blocked an epoch advance has left: hand the work to the
 * background thread (readers never take the registry mutex on this path). */
void tether__help(tether_registry *r, tether__rec *c) {
  atomic_store_explicit(&c->help, 0, memory_order_relaxed);
  /* Already armed: the background thread clears the flag before it collects, so
   * that run will see this thread gone. Only an unarmed registry needs the global
   * mutex (readers under a churning writer pass here on most exits). */
  if (atomic_load_explicit(&r->bg_armed, memory_order_acquire)) return;
  tether__arm(r, 0);
}

/* ---- the background thread: deferred reclamation and sweeping ---- */

/* Lock-free: an atomic due time and the doorbell. Callable from dispatch and with
 * the registry mutex held. An already armed registry is left alone unless the
 * work is due now (DELAY_MS 0: a reader answering a blocked advance). */
void tether__arm(tether_registry *r, unsigned delay_ms) {
  if (atomic_exchange_explicit(&r->bg_armed, 1, memory_order_acq_rel) != 0 && delay_ms > 0) return;
  uint64_t due = mono_ms() + delay_ms;
  uint64_t cur = atomic_load_explicit(&r->bg_due_ms, memory_order_relaxed);
  while ((cur == 0 || due < cur) &&
         !atomic_compare_exchange_weak_explicit(&r->bg_due_ms, &cur, due, memory_order_seq_cst,
                                                memory_order_relaxed)) {
  }
  bell_ring();
}

/* ---- hand-off of reader-claimed entries ---- */

#define HANDOFF_EXPIRY ((uintptr_t)1)

void tether__handoff(tether_registry *r, tether__entry *e, tether__why why) {
  assert(why == TETHER__BY_ONCE || why == TETHER__BY_EXPIRY);
  uintptr_t node = (uintptr_t)e | (why == TETHER__BY_EXPIRY ? HANDOFF_EXPIRY : 0);
  uintptr_t head = atomic_load_explicit(&r->handoff, memory_order_relaxed);
  do {
    atomic_store_explicit(&e->u.live.created_ms, head, memory_order_release);
  } while (!atomic_compare_exchange_weak_explicit(&r->handoff, &head, node, memory_order_release,
                                                  memory_order_relaxed));
  tether__arm(r, 0);
}

/* Finishes what readers handed off, and waits for other threads finishing some
 * (unless this thread is one of them, further up its stack): once it returns,
 * every removal a dispatch call made before it is complete. */
void tether__handoff_finish(tether_registry *r) {
  if (atomic_load_explicit(&r->handoff, memory_order_acquire) != 0) {
    atomic_fetch_add_explicit(&r->handoff_busy, 1, memory_order_acq_rel);
    TETHER__FRAME(frame, r, TETHER__FR_HANDOFF);
    uintptr_t node = atomic_exchange_explicit(&r->handoff, 0, memory_order_acquire);
    while (node != 0) {
      tether__entry *e = (tether__entry *)(node & ~HANDOFF_EXPIRY);
      tether__why why = (node & HANDOFF_EXPIRY) ? TETHER__BY_EXPIRY : TETHER__BY_ONCE;
      node = (uintptr_t)atomic_load_explicit(&e->u.live.created_ms, memory_order_relaxed);
      tether__finish_removal(r, e, why);
    }
    atomic_fetch_sub_explicit(&r->handoff_busy, 1, memory_order_acq_rel);
  }
  if (atomic_load_explicit(&r->handoff_busy, memory_order_acquire) != 0 &&
      !tether__busy_with(r, TETHER__FR_HANDOFF))
    while (atomic_load_explicit(&r->handoff_busy, memory_order_acquire) != 0) sched_yield();
}

/* Work the background thread does for a registry. */
enum { BG_RECLAIM = 1, BG_SWEEP = 2, BG_TICK = 4, BG_PROFILE = 8 };

/* Picks a registry with work due (g_mu held) and says which work in *WORK; sets
 * *WAIT_MS until the earliest work when none is due. */
static tether_registry *bg_pick_locked(uint64_t now, uint64_t *wait_ms, int *work) {
  uint64_t soonest = UINT64_MAX;
  for (tether_registry *r = g_registries; r != NULL; r = r->g_next) {
    uint64_t due = atomic_load_explicit(&r->bg_due_ms, memory_order_acquire);
    uint64_t at[4] = {due, r->sweep_interval_ms ? r->next_sweep_ms : 0, r->track_calls ? r->next_tick_ms : 0,
                      r->profile_dir && r->next_profile_ms && !r->profile_failed ? r->next_profile_ms : 0};
    int w = 0;
    for (int k = 0; k < 4; k++) {
      if (at[k] == 0) continue;
      if (at[k] <= now) w |= 1 << k;
      if (at[k] < soonest) soonest = at[k];
    }
    if (w != 0) {
      *work = w;
      return r;
    }
  }
  *wait_ms = soonest == UINT64_MAX ? UINT64_MAX : soonest - now;
  return NULL;
}

/* One pass of the background thread's work on R (no lock held). */
static void bg_work(tether_registry *r, int work) {
  TETHER__FRAME(frame, r, TETHER__FR_BG);
  if (work & BG_TICK) atomic_store_explicit(&r->tick_ms, tether__now(r), memory_order_relaxed);
  if (work & (BG_RECLAIM | BG_SWEEP)) {
    uint64_t t0 = tether__mono_ns();
    uint64_t run0 = atomic_load_explicit(&r->destructors_run, memory_order_relaxed);
    size_t scanned = 0, expired = 0;
    tether__handoff_finish(r);
    if (work & BG_SWEEP) expired = tether__sweep(r, &scanned);
    tether__reclaim_now(r);
    if (r->trace)
      tether__export_trace(r, t0, scanned, expired,
                           atomic_load_explicit(&r->destructors_run, memory_order_relaxed) - run0);
  }
  if (work & BG_PROFILE) tether__export_profile(r);
}

/* Sleeps until the doorbell rings or WAIT_MS pass (UINT64_MAX: no limit), with
 * g_mu released. A ring after SEEN was read makes the wait return at once. */
static void bg_sleep(uint32_t seen, uint64_t wait_ms) {
  pthread_mutex_unlock(&tether__g_mu);
  atomic_store_explicit(&g_bg_sleeping, 1, memory_order_seq_cst);
  struct timespec ts = {(time_t)(wait_ms / 1000), (long)(wait_ms % 1000) * 1000000L};
  bell_wait(seen, wait_ms == UINT64_MAX ? NULL : &ts);
  atomic_store_explicit(&g_bg_sleeping, 0, memory_order_relaxed);
  pthread_mutex_lock(&tether__g_mu);
}

static int start_bg_locked(void);

/* Runs only if a destructor (or a sweep's removal) that the background thread
 * ran ended the thread (pthread_exit): the registry it served is released and a
 * new background thread takes over. */
static void bg_ended(tether_registry **serving) {
  pthread_mutex_lock(&tether__g_mu);
  if (*serving != NULL) {
    (*serving)->bg_busy = 0;
    pthread_cond_broadcast(&g_idle_cv);
  }
  g_bg_started = 0;
  start_bg_locked();
  pthread_mutex_unlock(&tether__g_mu);
}

static void *bg_main(void *arg) {
  (void)arg;
  tether_registry *serving __attribute__((cleanup(bg_ended), unused)) = NULL;
  pthread_mutex_lock(&tether__g_mu);
  for (;;) {
    uint32_t seen = atomic_load_explicit(&g_bell, memory_order_seq_cst);
    uint64_t now = mono_ms(), wait_ms = 0;
    int work = 0;
    tether_registry *r = bg_pick_locked(now, &wait_ms, &work);
    if (r == NULL) {
      bg_sleep(seen, wait_ms);
      continue;
    }
    r->bg_busy = 1;
    if (work & BG_SWEEP) r->next_sweep_ms = now + r->sweep_interval_ms;
    if (work & BG_TICK) r->next_tick_ms = now + TETHER_TICK_MS;
    if (work & BG_PROFILE) r->next_profile_ms = now + r->profile_interval_ms;
    if (work & BG_RECLAIM) {
      /* Due time first, then the armed flag: an arm in between still finds the
       * flag set and this run, which collects after it, does its work. */
      atomic_store_explicit(&r->bg_due_ms, 0, memory_order_seq_cst);
      atomic_store_explicit(&r->bg_armed, 0, memory_order_seq_cst);
    }
    serving = r;
    pthread_mutex_unlock(&tether__g_mu);
    bg_work(r, work);
    pthread_mutex_lock(&tether__g_mu);
    serving = NULL;
    r->bg_busy = 0;
    pthread_cond_broadcast(&g_idle_cv);
  }
  return NULL;
}

/* Whether anything that tether__drain waits for is still pending (mutex held):
 * entries retired at or before TARGET (in limbo, zombies, or batches in flight),
 * or, with WAIT_ALL, anything at all. */
static int drain_pending(const tether_registry *r, uint64_t target, int wait_all) {
  for (const tether__retire *o = r->limbo_head; o != NULL; o = o->next) {
    if (wait_all) return 1;
    if (tether__retire_kind(o) == TETHER__K_ENTRY && tether__retire_epoch(o) <= target) return 1;
  }
  for (const tether__entry *z = r->zombies; z != NULL; z = tether__zombie_next(z))
    if (wait_all || tether__retire_epoch(&z->u.retire) <= target) return 1;
  for (const tether__batch *f = r->inflight; f != NULL; f = f->next_inflight)
    if (wait_all || f->min_epoch <= target) return 1;
  return 0;
}

/* See internal.h. The caller must not be inside a read section of R nor in one of
 * its destructors. */
int tether__drain(tether_registry *r, int mode) {
  TETHER__NO_CANCEL(nocancel);
  int wait_all = mode == TETHER__DRAIN_ALL;
  tether__handoff_finish(r);
  pthread_mutex_lock(&r->mu);
  /* Everything retired before this call carries an epoch up to the current one. */
  uint64_t target = atomic_load_explicit(&r->epoch, memory_order_relaxed);
  int rc = 0;
  for (unsigned spin = 0;; spin++) {
    /* A ref this thread holds would keep what it waits for pending forever: at
     * the call, or once another thread removed its registration meanwhile. */
    if (!wait_all && tether__self_blocked_locked(r, 0)) {
      rc = TETHER_EDEADLK;
      break;
    }
    tether__batch b;
    tether__collect(r, &b);
    pthread_mutex_unlock(&r->mu);
    tether__destroy_batch(r, &b);
    pthread_mutex_lock(&r->mu);
    if (!drain_pending(r, target, wait_all)) break;
    if (r->inflight != NULL) {
      pthread_cond_wait(&r->done_cv, &r->mu);
    } else {
      /* Readers are still inside (or refs held): wait a little for them. */
      pthread_mutex_unlock(&r->mu);
      struct timespec ts = {0, spin < 20 ? 50000 : 1000000};
      nanosleep(&ts, NULL);
      pthread_mutex_lock(&r->mu);
    }
  }
  pthread_mutex_unlock(&r->mu);
  return rc;
}
