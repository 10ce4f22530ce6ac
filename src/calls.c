/* Call tracking: how often each registration was called and when last.
 *
 * Guarantees kept here:
 * - Dispatch writes no shared memory per call: each thread's record has its own
 *   flat array of count slots, indexed by the entry's id index, written only by
 *   that thread. A slot holds the id it counts, so an index reused by a later
 *   registration starts again from zero, and the registry's tick (refreshed by
 *   the background thread every TETHER_TICK_MS) at the thread's last call:
 *   "last called" is the latest of them.
 * - Registration makes room for its index in every record under the registry
 *   mutex, before anything is published: a failure is TETHER_ENOMEM with nothing
 *   changed. A bigger array replaces a record's array and links the old one, in
 *   which the owning thread may still be counting a call: readers sum the chain,
 *   so no count is lost, and nothing is copied.
 * - A record created meanwhile, or short of memory, counts in the entry's
 *   overflow counter (an atomic add): slower, never wrong.
 * - Readers (snapshots, under the mutex) sum the entry's overflow and, in every
 *   record's chain, the slots that hold its id. */
#include <string.h>

#include "internal.h"

/* One record's part of a reservation: its bigger array. */
typedef struct tether__calls_grow {
  tether__rec *rec;
  tether__count_dir *dir;
} tether__calls_grow;

static size_t dir_size(uint32_t cap) { return sizeof(tether__count_dir) + (size_t)cap * sizeof(tether__count_slot); }

static tether__count_dir *dir_new(tether_registry *r, uint32_t cap, tether__count_dir *older) {
  tether__count_dir *d = tether__alloc(r, dir_size(cap));
  if (d == NULL) return NULL;
  d->cap = cap;
  d->older = older;
  for (uint32_t i = 0; i < cap; i++) {
    atomic_init(&d->slot[i].id, 0);
    atomic_init(&d->slot[i].n, 0);
    atomic_init(&d->slot[i].tick, 0);
  }
  return d;
}

/* The capacity an array needs to hold index IDX, growing from CAP. */
static uint32_t cap_for(uint32_t cap, uint32_t idx) {
  uint32_t c = cap ? cap : 16;
  while (c <= idx && c < 0x80000000u) c *= 2;
  return c;
}

void tether__calls_undo(tether_registry *r, tether__calls_plan *p) {
  for (size_t i = 0; i < p->n; i++)
    if (p->grow[i].dir) tether__free(r, p->grow[i].dir, dir_size(p->grow[i].dir->cap));
  if (p->grow) tether__free(r, p->grow, p->n * sizeof *p->grow);
  p->grow = NULL;
  p->n = 0;
}

int tether__calls_reserve(tether_registry *r, tether__calls_plan *p, uint32_t idx) {
  p->grow = NULL;
  p->n = 0;
  /* Records are only ever prepended: the list from this head is fixed. */
  tether__rec *head = atomic_load_explicit(&r->recs, memory_order_acquire);
  size_t lacking = 0;
  for (tether__rec *c = head; c != NULL; c = c->next) {
    const tether__count_dir *d = atomic_load_explicit(&c->counts, memory_order_relaxed);
    if (d == NULL || idx >= d->cap) lacking++;
  }
  if (lacking == 0) return 0;
  p->grow = tether__alloc(r, lacking * sizeof *p->grow);
  if (p->grow == NULL) return TETHER_ENOMEM;
  /* All LACKING of them from the start: an undo frees the list with its size. */
  memset(p->grow, 0, lacking * sizeof *p->grow);
  p->n = lacking;
  size_t k = 0;
  for (tether__rec *c = head; c != NULL; c = c->next) {
    tether__count_dir *d = atomic_load_explicit(&c->counts, memory_order_relaxed);
    if (d != NULL && idx < d->cap) continue;
    assert(k < lacking); /* the mutex is held: no record's array changed */
    tether__calls_grow *g = &p->grow[k++];
    g->rec = c;
    g->dir = dir_new(r, cap_for(d ? d->cap : 0, idx), d);
    if (g->dir == NULL) {
      tether__calls_undo(r, p);
      return TETHER_ENOMEM;
    }
  }
  return 0;
}

void tether__calls_commit(tether_registry *r, tether__calls_plan *p, tether__entry *e) {
  tether__track *t = tether__track_of(e);
  uint64_t raw = e->u.live.id ^ r->id_salt;
  t->id = e->u.live.id;
  t->idx = (uint32_t)(raw & 0xffffffffu) - 1;
  atomic_init(&t->last_tick, 0);
  atomic_init(&t->overflow, 0);
  for (size_t i = 0; i < p->n; i++) atomic_store_explicit(&p->grow[i].rec->counts, p->grow[i].dir, memory_order_release);
  if (p->grow) tether__free(r, p->grow, p->n * sizeof *p->grow);
  p->grow = NULL;
  p->n = 0;
  uint32_t cap = cap_for(atomic_load_explicit(&r->calls_cap, memory_order_relaxed), t->idx);
  atomic_store_explicit(&r->calls_cap, cap, memory_order_relaxed);
}

int tether__calls_attach(tether_registry *r, tether__rec *c) {
  uint32_t cap = atomic_load_explicit(&r->calls_cap, memory_order_relaxed);
  atomic_init(&c->counts, NULL);
  if (cap == 0) return 0;
  tether__count_dir *d = dir_new(r, cap, NULL);
  if (d == NULL) return TETHER_ENOMEM;
  atomic_store_explicit(&c->counts, d, memory_order_release);
  return 0;
}

void tether__calls_free(tether_registry *r, tether__rec *c) {
  tether__count_dir *d = atomic_load_explicit(&c->counts, memory_order_relaxed);
  while (d != NULL) {
    tether__count_dir *older = d->older;
    tether__free(r, d, dir_size(d->cap));
    d = older;
  }
}

/* What tether__count_call leaves out of line: a slot that counts another
 * (older) registration of the same index, or no slot at all. */
void tether__count_call_slow(tether__rec *c, tether__track *t, uint64_t tick) {
  tether__count_dir *d = c ? atomic_load_explicit(&c->counts, memory_order_acquire) : NULL;
  if (d == NULL || t->idx >= d->cap) {
    atomic_fetch_add_explicit(&t->overflow, 1, memory_order_relaxed);
    if (atomic_load_explicit(&t->last_tick, memory_order_relaxed) != tick)
      atomic_store_explicit(&t->last_tick, tick, memory_order_relaxed);
    return;
  }
  tether__count_slot *s = &d->slot[t->idx];
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
  for (const tether__rec *c = atomic_load_explicit(&r->recs, memory_order_acquire); c != NULL; c = c->next) {
    for (const tether__count_dir *d = atomic_load_explicit(&c->counts, memory_order_acquire); d != NULL;
         d = d->older) {
      if (t->idx >= d->cap) continue;
      const tether__count_slot *s = &d->slot[t->idx];
      if (atomic_load_explicit(&s->id, memory_order_acquire) != t->id) continue;
      n += atomic_load_explicit(&s->n, memory_order_relaxed);
      uint64_t tick = atomic_load_explicit(&s->tick, memory_order_relaxed);
      if (tick > *last_tick) *last_tick = tick;
    }
  }
  return n;
}
