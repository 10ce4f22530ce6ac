/* Names and indexes: the string hash, the lock-free name table, the id index and
 * the registration-site table.
 *
 * The name table is read without locks. Writers (holding the registry mutex)
 * store a node (entry or slot) into an empty or tombstone bucket with a release
 * store, a node of the same name over one they replace, or a tombstone over one
 * they remove; they grow the table by building a new one
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
  return sizeof(tether__table) + (mask + 1) * sizeof(uint64_t);
}

tether__table *tether__table_new(tether_registry *r, size_t nbuckets) {
  tether__table *t = tether__alloc(r, tether__table_size(nbuckets - 1));
  if (t == NULL) return NULL;
  t->mask = nbuckets - 1;
  t->home_mask = t->mask & ~(size_t)1;
  t->used = 0;
  t->live = 0;
  for (size_t i = 0; i < nbuckets; i++) atomic_init(&t->b[i], 0);
  return t;
}

/* A node's hash, recomputed from its name (growing the table needs it; nodes do
 * not spend 8 bytes keeping it). */
uint64_t tether__node_hash(const void *node) {
  const tether__node *n = node;
  return tether__hash(tether__node_name(n), n->len);
}

static void table_put(tether__table *t, void *node, uint64_t h) {
  size_t i = tether__home(t, h);
  for (;;) {
    uint64_t cur = atomic_load_explicit(&t->b[i], memory_order_relaxed);
    if (cur == 0 || cur == TETHER__TOMB) {
      if (cur == 0) t->used++;
      t->live++;
      atomic_store_explicit(&t->b[i], tether__bucket_word(node, h), memory_order_release);
      return;
    }
    i = (i + 1) & t->mask;
  }
}

/* Makes room for one more node: when the table would pass 4/5 full (counting
 * tombstones), builds a bigger (or same-size, cleaned) copy in *grown for the
 * caller to publish with tether__table_insert. Returns 0 or TETHER_ENOMEM. The
 * tag in each bucket word keeps long probe sequences cheap, so the table runs
 * fuller than an untagged one would. */
int tether__table_reserve(tether_registry *r, tether__table **grown) {
  tether__table *t = atomic_load_explicit(&r->table, memory_order_relaxed);
  *grown = NULL;
  if ((t->used + 1) * 5 <= (t->mask + 1) * 4) return 0;
  size_t n = t->mask + 1;
  while ((t->live + 1) * 5 > n * 3) n *= 2; /* at most 3/5 full after a rebuild */
  tether__table *nt = tether__table_new(r, n);
  if (nt == NULL) return TETHER_ENOMEM;
  for (size_t i = 0; i <= t->mask; i++) {
    uint64_t w = atomic_load_explicit(&t->b[i], memory_order_relaxed);
    if (w == 0 || w == TETHER__TOMB) continue;
    void *node = tether__bucket_node(w);
    table_put(nt, node, tether__node_hash(node));
  }
  *grown = nt;
  return 0;
}

/* Publishes NODE (hash H; its handlers already set). GROWN, from
 * tether__table_reserve (may be NULL), first replaces the table; the old one is
 * retired. */
void tether__table_insert(tether_registry *r, void *node, uint64_t h, tether__table *grown) {
  if (grown != NULL) {
    tether__table *old = atomic_load_explicit(&r->table, memory_order_relaxed);
    atomic_store_explicit(&r->table, grown, memory_order_release);
    tether__retire_obj(r, &old->retire, TETHER__K_TABLE);
  }
  table_put(atomic_load_explicit(&r->table, memory_order_relaxed), node, h);
}

/* Replaces the node in bucket AT (found by tether__lookup_at under the mutex)
 * with NODE, which has the same name: a reader sees one or the other. */
void tether__table_set(tether_registry *r, size_t at, void *node, uint64_t h) {
  tether__table *t = atomic_load_explicit(&r->table, memory_order_relaxed);
  atomic_store_explicit(&t->b[at], tether__bucket_word(node, h), memory_order_release);
}

void tether__table_remove(tether_registry *r, size_t at) {
  tether__table *t = atomic_load_explicit(&r->table, memory_order_relaxed);
  atomic_store_explicit(&t->b[at], TETHER__TOMB, memory_order_release);
  t->live--;
}

/* ---- the id index: a slot map ----
 * An index is reused with its generation bumped, so (generation, index) pairs,
 * and the ids made of them, never repeat; an index whose generation would wrap
 * is retired for good. The salt makes another registry's ids miss. Lookups are
 * one array access and a compare; memory is one word per index, and indexes are
 * reused, so it stays proportional to the peak number of live registrations. */

#define ID_FREE(gen, next1) ((uint64_t)(gen) << 33 | (uint64_t)(next1) << 1 | 1)
#define ID_FREE_GEN(v) ((uint32_t)((v) >> 33))
#define ID_FREE_NEXT(v) ((uint32_t)((v) >> 1))
#define ID_DEAD UINT64_MAX /* generation exhausted: never reused */
#define ID_GEN_MAX 0x7fffffffu

int tether__ids_reserve(tether_registry *r, uint64_t **grown, uint32_t *grown_cap) {
  *grown = NULL;
  if (r->ids_free != 0 || r->ids_used < r->ids_cap) return 0;
  if (r->ids_cap >= 0x80000000u) return TETHER_ENOMEM; /* 2^31 live registrations */
  uint32_t cap = r->ids_cap ? r->ids_cap * 2 : 16;
  uint64_t *b = tether__alloc(r, (size_t)cap * sizeof *b);
  if (b == NULL) return TETHER_ENOMEM;
  if (r->ids_used) memcpy(b, r->ids, (size_t)r->ids_used * sizeof *b);
  *grown = b;
  *grown_cap = cap;
  return 0;
}

void tether__ids_adopt(tether_registry *r, uint64_t *grown, uint32_t grown_cap) {
  if (grown == NULL) return;
  if (r->ids != NULL) tether__free(r, r->ids, (size_t)r->ids_cap * sizeof *r->ids);
  r->ids = grown;
  r->ids_cap = grown_cap;
}

/* Gives E an index (reserved by tether__ids_reserve) and its id. A BUS
 * entry's index holds its slot (tagged with 2) instead: the entry is found in the
 * slot's handlers by id, and the entry needs no pointer back to its slot. */
void tether__ids_insert(tether_registry *r, tether__entry *e, tether__slot *s) {
  uint32_t i, gen = 0;
  if (r->ids_free != 0) {
    i = r->ids_free - 1;
    gen = ID_FREE_GEN(r->ids[i]);
    r->ids_free = ID_FREE_NEXT(r->ids[i]);
  } else {
    assert(r->ids_used < r->ids_cap);
    i = r->ids_used++;
  }
  r->ids[i] = s != NULL ? (uint64_t)(uintptr_t)s | 2 : (uint64_t)(uintptr_t)e;
  e->u.live.id = ((uint64_t)gen << 32 | ((uint64_t)i + 1)) ^ r->id_salt;
}

uint32_t tether__ids_next_index(const tether_registry *r) {
  return r->ids_free != 0 ? r->ids_free - 1 : r->ids_used;
}

static tether__slot *ids_slot(uint64_t v) {
  return (tether__slot *)(uintptr_t)(v & ~(uint64_t)3);
}

tether__entry *tether__slot_find(const tether__slot *s, int (*match)(tether__entry *e, void *arg),
                                 void *arg) {
  uintptr_t h = atomic_load_explicit(&s->handlers, memory_order_relaxed);
  if (h == 0) return NULL;
  if (!(h & 1)) return match((tether__entry *)h, arg) ? (tether__entry *)h : NULL;
  const tether__array *a = (const tether__array *)(h & ~(uintptr_t)1);
  for (uint32_t k = 0; k < a->n; k++) {
    tether__entry *e = atomic_load_explicit(&a->e[k], memory_order_relaxed);
    if (e != NULL && match(e, arg)) return e;
  }
  return NULL;
}

static int has_id(tether__entry *e, void *arg) {
  return e->u.live.id == *(const tether_id *)arg;
}

tether__entry *tether__ids_find(const tether_registry *r, tether_id id) {
  uint64_t raw = id ^ r->id_salt;
  uint64_t i = (raw & 0xffffffffu) - 1;
  if ((raw & 0xffffffffu) == 0 || i >= r->ids_used) return NULL;
  uint64_t v = r->ids[i];
  if (v & 1) return NULL;
  if (v & 2) return tether__slot_find(ids_slot(v), has_id, &id);
  tether__entry *e = (tether__entry *)(uintptr_t)v;
  return e->u.live.id == id ? e : NULL;
}

tether__slot *tether__slot_of(const tether_registry *r, const tether__entry *e) {
  uint64_t raw = e->u.live.id ^ r->id_salt;
  uint64_t v = r->ids[(uint32_t)(raw & 0xffffffffu) - 1];
  assert((v & 3) == 2);
  return ids_slot(v);
}

void tether__ids_remove(tether_registry *r, tether__entry *e) {
  uint64_t raw = e->u.live.id ^ r->id_salt;
  uint32_t i = (uint32_t)(raw & 0xffffffffu) - 1, gen = (uint32_t)(raw >> 32);
  assert(tether__ids_find(r, e->u.live.id) == e);
  if (gen >= ID_GEN_MAX) {
    r->ids[i] = ID_DEAD;
    return;
  }
  r->ids[i] = ID_FREE(gen + 1, r->ids_free);
  r->ids_free = i + 1;
}

void tether__each_entry(tether_registry *r, int (*visit)(tether__entry *e, void *arg), void *arg) {
  const tether__table *t = atomic_load_explicit(&r->table, memory_order_relaxed);
  for (size_t i = 0; i <= t->mask; i++) {
    uint64_t w = atomic_load_explicit(&t->b[i], memory_order_relaxed);
    if (w == 0 || w == TETHER__TOMB) continue;
    tether__node *n = tether__bucket_node(w);
    if (!(n->flags & TETHER__F_SLOT) ? visit((tether__entry *)n, arg)
                                     : tether__slot_find((tether__slot *)n, visit, arg) != NULL)
      return;
  }
}

/* ---- registration sites: interned, so an entry keeps a 4-byte index ----
 * A site is found by the caller's pointers and line (cheap), and matched only
 * when its strings also equal the registry's copies: pointers into a plugin that
 * was unloaded may be reused by another one with other strings. What anyone
 * reads are the copies, made once per distinct site. */

static uint32_t site_hash(const char *file, const char *func, int line) {
  uint64_t h = ((uint64_t)(uintptr_t)file * 0x9e3779b97f4a7c15ull) ^
               ((uint64_t)(uintptr_t)func * 0xc2b2ae3d27d4eb4full) ^ (uint64_t)(uint32_t)line;
  h ^= h >> 29;
  h *= 0xbf58476d1ce4e5b9ull;
  return (uint32_t)(h >> 32);
}

static int same_text(const char *copy, const char *s) {
  return copy == s || (copy != NULL && s != NULL && strcmp(copy, s) == 0);
}

static int site_matches(const tether__site_rec *k, tether_site s) {
  return k->key_file == s.file && k->key_func == s.func && k->site.line == s.line &&
         same_text(k->site.file, s.file) && same_text(k->site.func, s.func);
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
    uint32_t i = site_hash(ns[k].key_file, ns[k].key_func, ns[k].site.line) & nmask;
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

/* Copies SITE's strings into one block of the registry's memory. */
static int site_copy(tether_registry *r, tether_site site, tether__site_rec *k) {
  size_t nf = site.file ? strlen(site.file) + 1 : 0, nu = site.func ? strlen(site.func) + 1 : 0;
  k->copy = NULL;
  k->copy_size = nf + nu;
  if (k->copy_size > 0) {
    k->copy = tether__alloc(r, k->copy_size);
    if (k->copy == NULL) return TETHER_ENOMEM;
    if (nf) memcpy(k->copy, site.file, nf);
    if (nu) memcpy(k->copy + nf, site.func, nu);
  }
  k->key_file = site.file;
  k->key_func = site.func;
  k->site.file = nf ? k->copy : NULL;
  k->site.func = nu ? k->copy + nf : NULL;
  k->site.line = site.line;
  return 0;
}

/* Finds or adds SITE. Growing the site table is the only change made, and it is
 * invisible, so a later failure of the same operation needs no undo; it is the
 * last allocation here, so a failure leaves every block as it was. */
int tether__site_intern(tether_registry *r, tether_site site, uint32_t *out) {
  uint32_t h = site_hash(site.file, site.func, site.line);
  if (r->site_idx != NULL) {
    uint32_t i = h & r->site_mask;
    for (uint32_t k; (k = r->site_idx[i]) != UINT32_MAX; i = (i + 1) & r->site_mask) {
      if (site_matches(&r->sites[k], site)) {
        *out = k;
        return 0;
      }
    }
  }
  if (r->nsites == UINT32_MAX / 2) return TETHER_ENOMEM;
  tether__site_rec k;
  if (site_copy(r, site, &k) != 0) return TETHER_ENOMEM;
  if (r->nsites == r->capsites && sites_grow(r) != 0) {
    tether__free(r, k.copy, k.copy_size);
    return TETHER_ENOMEM;
  }
  uint32_t n = r->nsites++;
  r->sites[n] = k;
  uint32_t i = h & r->site_mask;
  while (r->site_idx[i] != UINT32_MAX) i = (i + 1) & r->site_mask;
  r->site_idx[i] = n;
  *out = n;
  return 0;
}

void tether__sites_free(tether_registry *r) {
  for (uint32_t k = 0; k < r->nsites; k++) tether__free(r, r->sites[k].copy, r->sites[k].copy_size);
  if (r->sites) tether__free(r, r->sites, r->capsites * sizeof *r->sites);
  if (r->site_idx) tether__free(r, r->site_idx, (r->site_mask + 1) * sizeof *r->site_idx);
}
