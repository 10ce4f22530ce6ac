/* Names and indexes: the string hash, the lock-free name table, the id index and
 * the registration-site table.
 *
 * The name table is read without locks. Writers (holding the registry mutex)
 * store a slot pointer into an empty or tombstone bucket with a release store, or
 * a tombstone over a slot they remove; they grow the table by building a new one
 * and publishing it, retiring the old one. A reader probing concurrently sees
 * either the old or the new bucket value, both of which point to memory that
 * stays valid until the reader leaves its read section.
 *
 * The id index and the site table are touched only under the registry mutex.
 * Every function that needs memory to change a structure has a _reserve step that
 * allocates before anything is published, so ENOMEM leaves the registry as it was. */
#include "internal.h"

#include <stdlib.h>

size_t tether__table_size(size_t mask) {
  return sizeof(tether__table) + (mask + 1) * sizeof(tether__bucket);
}

tether__table *tether__table_new(tether_registry *r, size_t nbuckets) {
  tether__table *t = tether__alloc(r, tether__table_size(nbuckets - 1));
  if (t == NULL) return NULL;
  t->mask = nbuckets - 1;
  t->used = 0;
  t->live = 0;
  for (size_t i = 0; i < nbuckets; i++) {
    atomic_init(&t->b[i].hash, 0);
    atomic_init(&t->b[i].slot, NULL);
  }
  return t;
}

static void table_put(tether__table *t, tether__slot *s) {
  size_t i = (size_t)s->hash & t->mask;
  for (;;) {
    tether__slot *cur = atomic_load_explicit(&t->b[i].slot, memory_order_relaxed);
    if (cur == NULL || cur == TETHER__TOMB) {
      if (cur == NULL) t->used++;
      t->live++;
      atomic_store_explicit(&t->b[i].hash, s->hash, memory_order_relaxed);
      atomic_store_explicit(&t->b[i].slot, s, memory_order_release);
      return;
    }
    i = (i + 1) & t->mask;
  }
}

/* Makes room for one more slot: when the table would pass 3/4 full (counting
 * tombstones), builds a bigger (or same-size, cleaned) copy in *grown for the
 * caller to publish with tether__table_insert. Returns 0 or TETHER_ENOMEM. */
int tether__table_reserve(tether_registry *r, tether__table **grown) {
  tether__table *t = atomic_load_explicit(&r->table, memory_order_relaxed);
  *grown = NULL;
  if ((t->used + 1) * 4 <= (t->mask + 1) * 3) return 0;
  size_t n = t->mask + 1;
  while ((t->live + 1) * 2 > n) n *= 2;
  tether__table *nt = tether__table_new(r, n);
  if (nt == NULL) return TETHER_ENOMEM;
  for (size_t i = 0; i <= t->mask; i++) {
    tether__slot *s = atomic_load_explicit(&t->b[i].slot, memory_order_relaxed);
    if (s != NULL && s != TETHER__TOMB) table_put(nt, s);
  }
  *grown = nt;
  return 0;
}

/* Publishes S (its handlers already set). GROWN, from tether__table_reserve (may be
 * NULL), first replaces the table; the old one is retired. */
void tether__table_insert(tether_registry *r, tether__slot *s, tether__table *grown) {
  if (grown != NULL) {
    tether__table *old = atomic_load_explicit(&r->table, memory_order_relaxed);
    atomic_store_explicit(&r->table, grown, memory_order_release);
    tether__retire_obj(r, &old->retire, TETHER__K_TABLE);
  }
  table_put(atomic_load_explicit(&r->table, memory_order_relaxed), s);
}

void tether__table_remove(tether_registry *r, tether__slot *s) {
  tether__table *t = atomic_load_explicit(&r->table, memory_order_relaxed);
  size_t i = (size_t)s->hash & t->mask;
  for (;;) {
    tether__slot *cur = atomic_load_explicit(&t->b[i].slot, memory_order_relaxed);
    assert(cur != NULL);
    if (cur == s) {
      atomic_store_explicit(&t->b[i].slot, TETHER__TOMB, memory_order_release);
      t->live--;
      return;
    }
    i = (i + 1) & t->mask;
  }
}

/* ---- the id index: open addressing by id, backward-shift deletion ---- */

static size_t id_home(tether_id id, size_t mask) {
  return (size_t)((id * 0x9e3779b97f4a7c15ull) >> 20) & mask;
}

static void ids_put(tether__entry **b, size_t mask, tether__entry *e) {
  size_t i = id_home(e->id, mask);
  while (b[i] != NULL) i = (i + 1) & mask;
  b[i] = e;
}

int tether__ids_reserve(tether_registry *r, tether__entry ***grown, size_t *grown_mask) {
  *grown = NULL;
  if (r->ids != NULL && (r->ids_count + 1) * 4 <= (r->ids_mask + 1) * 3) return 0;
  size_t n = r->ids ? (r->ids_mask + 1) * 2 : 16;
  tether__entry **b = tether__alloc(r, n * sizeof *b);
  if (b == NULL) return TETHER_ENOMEM;
  memset(b, 0, n * sizeof *b);
  for (size_t i = 0; r->ids != NULL && i <= r->ids_mask; i++)
    if (r->ids[i] != NULL) ids_put(b, n - 1, r->ids[i]);
  *grown = b;
  *grown_mask = n - 1;
  return 0;
}

void tether__ids_adopt(tether_registry *r, tether__entry **grown, size_t grown_mask) {
  if (grown == NULL) return;
  if (r->ids != NULL) tether__free(r, r->ids, (r->ids_mask + 1) * sizeof *r->ids);
  r->ids = grown;
  r->ids_mask = grown_mask;
}

void tether__ids_insert(tether_registry *r, tether__entry *e) {
  ids_put(r->ids, r->ids_mask, e);
  r->ids_count++;
}

tether__entry *tether__ids_find(const tether_registry *r, tether_id id) {
  if (r->ids == NULL || id == 0) return NULL;
  size_t i = id_home(id, r->ids_mask);
  for (tether__entry *e; (e = r->ids[i]) != NULL; i = (i + 1) & r->ids_mask)
    if (e->id == id) return e;
  return NULL;
}

void tether__ids_remove(tether_registry *r, tether__entry *e) {
  size_t mask = r->ids_mask, i = id_home(e->id, mask);
  while (r->ids[i] != e) i = (i + 1) & mask;
  /* Backward shift: pull later members of the cluster into the hole when their
   * home position does not lie cyclically in (hole, j]. */
  size_t hole = i, j = i;
  for (;;) {
    j = (j + 1) & mask;
    tether__entry *x = r->ids[j];
    if (x == NULL) break;
    size_t home = id_home(x->id, mask);
    int between = hole <= j ? (home > hole && home <= j) : (home > hole || home <= j);
    if (!between) {
      r->ids[hole] = x;
      hole = j;
    }
  }
  r->ids[hole] = NULL;
  r->ids_count--;
}

/* ---- registration sites: interned, so an entry keeps a 4-byte index ---- */

static uint32_t site_hash(tether_site s) {
  uint64_t h = ((uint64_t)(uintptr_t)s.file * 0x9e3779b97f4a7c15ull) ^
               ((uint64_t)(uintptr_t)s.func * 0xc2b2ae3d27d4eb4full) ^ (uint64_t)(uint32_t)s.line;
  h ^= h >> 29;
  h *= 0xbf58476d1ce4e5b9ull;
  return (uint32_t)(h >> 32);
}

static int site_eq(tether_site a, tether_site b) {
  return a.file == b.file && a.func == b.func && a.line == b.line;
}

static int sites_grow(tether_registry *r) {
  uint32_t cap = r->capsites ? r->capsites * 2 : 8;
  uint32_t nmask = cap * 2 - 1;
  tether__site_rec *ns = tether__alloc(r, cap * sizeof *ns);
  uint32_t *ni = tether__alloc(r, (nmask + 1) * sizeof *ni);
  if (ns == NULL || ni == NULL) {
    if (ns) tether__free(r, ns, cap * sizeof *ns);
    if (ni) tether__free(r, ni, (nmask + 1) * sizeof *ni);
    return TETHER_ENOMEM;
  }
  if (r->nsites) memcpy(ns, r->sites, r->nsites * sizeof *ns);
  memset(ni, 0xff, (nmask + 1) * sizeof *ni);
  for (uint32_t k = 0; k < r->nsites; k++) {
    uint32_t i = site_hash(ns[k].site) & nmask;
    while (ni[i] != UINT32_MAX) i = (i + 1) & nmask;
    ni[i] = k;
  }
  if (r->sites) tether__free(r, r->sites, r->capsites * sizeof *r->sites);
  if (r->site_idx) tether__free(r, r->site_idx, (r->site_mask + 1) * sizeof *r->site_idx);
  r->sites = ns;
  r->site_idx = ni;
  r->capsites = cap;
  r->site_mask = nmask;
  return 0;
}

/* Finds or adds SITE. Growing the site table is the only change made, and it is
 * invisible, so a later failure of the same operation needs no undo. */
int tether__site_intern(tether_registry *r, tether_site site, uint32_t *out) {
  if (r->site_idx != NULL) {
    uint32_t i = site_hash(site) & r->site_mask;
    for (uint32_t k; (k = r->site_idx[i]) != UINT32_MAX; i = (i + 1) & r->site_mask) {
      if (site_eq(r->sites[k].site, site)) {
        *out = k;
        return 0;
      }
    }
  }
  if (r->nsites == r->capsites && sites_grow(r) != 0) return TETHER_ENOMEM;
  uint32_t k = r->nsites++;
  r->sites[k].site = site;
  uint32_t i = site_hash(site) & r->site_mask;
  while (r->site_idx[i] != UINT32_MAX) i = (i + 1) & r->site_mask;
  r->site_idx[i] = k;
  *out = k;
  return 0;
}
