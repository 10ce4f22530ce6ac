/* Call tracking: how often each registration was called and when last.
 *
 * Guarantees kept here:
 * - Dispatch writes no shared memory per call: each thread's record has its own
 *   count slots, indexed by the entry's id index, written only by that thread.
 *   A slot holds the id it counts, so an index reused by a later registration
 *   starts again from zero, and the registry's tick (refreshed by the background
 *   thread every TETHER_TICK_MS) at the thread's last call: "last called" is the
 *   latest of them.
 * - Registration reserves, under the registry mutex and before anything is
 *   published, the chunk of slots its index needs in every record: a failure is
 *   TETHER_ENOMEM with nothing changed. A directory that must grow is replaced
 *   and the old one retired, since its owner may be reading it.
 * - A record created meanwhile, or short of memory, counts in the entry's
 *   overflow counter (an atomic add): slower, never wrong.
 * - Readers (snapshots, under the mutex) sum the entry's overflow and the slots
 *   of every record that hold its id. */
#include <string.h>

#include "internal.h"

/* One record's part of a reservation: the chunk it lacks, and a bigger
 * directory when its own is too small. */
typedef struct tether__calls_grow {
  tether__rec *rec;
  tether__count_dir *dir; /* new, or NULL: the chunk goes into the current one */
  tether__count_slot *chunk;
} tether__calls_grow;

static size_t dir_size(uint32_t nchunks) {
  return sizeof(tether__count_dir) + (size_t)nchunks * sizeof(_Atomic(tether__count_slot *));
}

static size_t chunk_size(void) { return TETHER__COUNT_CHUNK * sizeof(tether__count_slot); }

static tether__count_slot *chunk_new(tether_registry *r) {
  tether__count_slot *ch = tether__alloc(r, chunk_size());
  if (ch == NULL) return NULL;
  for (size_t i = 0; i < TETHER__COUNT_CHUNK; i++) {
    atomic_init(&ch[i].id, 0);
    atomic_init(&ch[i].n, 0);
    atomic_init(&ch[i].tick, 0);
  }
  return ch;
}

/* A directory of NCHUNKS chunks holding OLD's chunks (OLD may be NULL). */
static tether__count_dir *dir_new(tether_registry *r, uint32_t nchunks, const tether__count_dir *old) {
  tether__count_dir *d = tether__alloc(r, dir_size(nchunks));
  if (d == NULL) return NULL;
  d->nchunks = nchunks;
  for (uint32_t i = 0; i < nchunks; i++) {
    tether__count_slot *ch =
        old != NULL && i < old->nchunks ? atomic_load_explicit(&old->chunk[i], memory_order_relaxed) : NULL;
    atomic_init(&d->chunk[i], ch);
  }
  return d;
}

static int has_chunk(const tether__count_dir *d, uint32_t k) {
  return d != NULL && k < d->nchunks && atomic_load_explicit(&d->chunk[k], memory_order_relaxed) != NULL;
}

void tether__calls_undo(tether_registry *r, tether__calls_plan *p) {
  for (size_t i = 0; i < p->n; i++) {
    if (p->grow[i].dir) tether__free(r, p->grow[i].dir, dir_size(p->grow[i].dir->nchunks));
    if (p->grow[i].chunk) tether__free(r, p->grow[i].chunk, chunk_size());
  }
  if (p->grow) tether__free(r, p->grow, p->n * sizeof *p->grow);
  p->grow = NULL;
  p->n = 0;
}

int tether__calls_reserve(tether_registry *r, tether__calls_plan *p, uint32_t idx) {
  uint32_t k = idx / TETHER__COUNT_CHUNK;
  p->grow = NULL;
  p->n = 0;
  /* Records are only ever prepended: the list from this head is fixed. */
  tether__rec *head = atomic_load_explicit(&r->recs, memory_order_acquire);
  size_t lacking = 0;
  for (tether__rec *c = head; c != NULL; c = c->next)
    if (!has_chunk(atomic_load_explicit(&c->counts, memory_order_relaxed), k)) lacking++;
  if (lacking == 0) return 0;
  p->grow = tether__alloc(r, lacking * sizeof *p->grow);
  if (p->grow == NULL) return TETHER_ENOMEM;
  for (tether__rec *c = head; c != NULL; c = c->next) {
    tether__count_dir *d = atomic_load_explicit(&c->counts, memory_order_relaxed);
    if (has_chunk(d, k)) continue;
    tether__calls_grow *g = &p->grow[p->n++];
    g->rec = c;
    g->dir = NULL;
    g->chunk = chunk_new(r);
    if (g->chunk == NULL) goto nomem;
    if (d == NULL || k >= d->nchunks) {
      uint32_t n = d ? d->nchunks : 0;
      uint32_t cap = n * 2 > k + 1 ? n * 2 : k + 1;
      g->dir = dir_new(r, cap, d);
      if (g->dir == NULL) goto nomem;
    }
  }
  return 0;
nomem:
  tether__calls_undo(r, p);
  return TETHER_ENOMEM;
}

void tether__calls_commit(tether_registry *r, tether__calls_plan *p, tether__entry *e) {
  tether__track *t = tether__track_of(e);
  uint64_t raw = e->u.live.id ^ r->id_salt;
  t->id = e->u.live.id;
  t->idx = (uint32_t)(raw & 0xffffffffu) - 1;
  atomic_init(&t->last_tick, 0);
  atomic_init(&t->overflow, 0);
  uint32_t k = t->idx / TETHER__COUNT_CHUNK;
  for (size_t i = 0; i < p->n; i++) {
    tether__calls_grow *g = &p->grow[i];
    tether__count_dir *old = atomic_load_explicit(&g->rec->counts, memory_order_relaxed);
    if (g->dir != NULL) {
      atomic_store_explicit(&g->dir->chunk[k], g->chunk, memory_order_relaxed);
      atomic_store_explicit(&g->rec->counts, g->dir, memory_order_release);
      if (old != NULL) tether__retire_obj(r, &old->retire, TETHER__K_COUNTS);
    } else {
      atomic_store_explicit(&old->chunk[k], g->chunk, memory_order_release);
    }
  }
  if (p->grow) tether__free(r, p->grow, p->n * sizeof *p->grow);
  p->grow = NULL;
  p->n = 0;
  if (atomic_load_explicit(&r->calls_nchunks, memory_order_relaxed) < k + 1)
    atomic_store_explicit(&r->calls_nchunks, k + 1, memory_order_relaxed);
}

int tether__calls_attach(tether_registry *r, tether__rec *c) {
  uint32_t n = atomic_load_explicit(&r->calls_nchunks, memory_order_relaxed);
  atomic_init(&c->counts, NULL);
  if (n == 0) return 0;
  tether__count_dir *d = dir_new(r, n, NULL);
  if (d == NULL) return TETHER_ENOMEM;
  for (uint32_t i = 0; i < n; i++) {
    tether__count_slot *ch = chunk_new(r);
    if (ch == NULL) {
      for (uint32_t j = 0; j < i; j++) tether__free(r, atomic_load(&d->chunk[j]), chunk_size());
      tether__free(r, d, dir_size(n));
      return TETHER_ENOMEM;
    }
    atomic_init(&d->chunk[i], ch);
  }
  atomic_store_explicit(&c->counts, d, memory_order_release);
  return 0;
}

void tether__calls_free_dir(tether_registry *r, tether__count_dir *d) { tether__free(r, d, dir_size(d->nchunks)); }

void tether__calls_free(tether_registry *r, tether__rec *c) {
  tether__count_dir *d = atomic_load_explicit(&c->counts, memory_order_relaxed);
  if (d == NULL) return;
  for (uint32_t i = 0; i < d->nchunks; i++) tether__free(r, atomic_load(&d->chunk[i]), chunk_size());
  tether__calls_free_dir(r, d);
}

/* What tether__count_call leaves out of line: a slot that counts another
 * (older) registration of the same index, or no slot at all. */
void tether__count_call_slow(tether__rec *c, tether__track *t, uint64_t tick) {
  uint32_t k = t->idx / TETHER__COUNT_CHUNK;
  const tether__count_dir *d = c ? atomic_load_explicit(&c->counts, memory_order_acquire) : NULL;
  tether__count_slot *ch = d != NULL && k < d->nchunks ? atomic_load_explicit(&d->chunk[k], memory_order_acquire) : NULL;
  if (ch == NULL) {
    atomic_fetch_add_explicit(&t->overflow, 1, memory_order_relaxed);
    if (atomic_load_explicit(&t->last_tick, memory_order_relaxed) != tick)
      atomic_store_explicit(&t->last_tick, tick, memory_order_relaxed);
    return;
  }
  tether__count_slot *s = &ch[t->idx % TETHER__COUNT_CHUNK];
  atomic_store_explicit(&s->n, 1, memory_order_relaxed);
  atomic_store_explicit(&s->tick, tick, memory_order_relaxed);
  atomic_store_explicit(&s->id, t->id, memory_order_release);
}

uint64_t tether__calls_of(const tether_registry *r, const tether__entry *e, uint64_t *last_tick) {
  const tether__track *t = tether__track_of(e);
  *last_tick = 0;
  if (t == NULL) return 0;
  uint64_t n = atomic_load_explicit(&t->overflow, memory_order_relaxed);
  *last_tick = atomic_load_explicit(&t->last_tick, memory_order_relaxed);
  uint32_t k = t->idx / TETHER__COUNT_CHUNK;
  for (const tether__rec *c = atomic_load_explicit(&r->recs, memory_order_acquire); c != NULL; c = c->next) {
    const tether__count_dir *d = atomic_load_explicit(&c->counts, memory_order_acquire);
    const tether__count_slot *ch =
        d != NULL && k < d->nchunks ? atomic_load_explicit(&d->chunk[k], memory_order_acquire) : NULL;
    if (ch == NULL) continue;
    const tether__count_slot *s = &ch[t->idx % TETHER__COUNT_CHUNK];
    if (atomic_load_explicit(&s->id, memory_order_acquire) == t->id) {
      n += atomic_load_explicit(&s->n, memory_order_relaxed);
      uint64_t tick = atomic_load_explicit(&s->tick, memory_order_relaxed);
      if (tick > *last_tick) *last_tick = tick;
    }
  }
  return n;
}
