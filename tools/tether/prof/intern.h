/* An interning table of byte strings: each distinct key gets a small dense id
 * (0, 1, 2, ...) in the order first seen, and the table keeps a copy of it.
 * tether diff/top use it for names, frames, merged-sample stacks and call edges. */
#ifndef TETHER_PROF_INTERN_H
#define TETHER_PROF_INTERN_H

#include <stddef.h>
#include <stdint.h>

typedef struct prof_intern_entry {
  size_t off;   /* where its key starts in the arena */
  size_t len;   /* the key's length */
} prof_intern_entry;

typedef struct prof_intern {
  unsigned char *arena;
  size_t arena_len, arena_cap;
  prof_intern_entry *ent; /* per id */
  size_t n, cap;          /* ids used and allocated */
  uint64_t *slots;        /* open addressing: (hash high half << 32) | (id + 1), or 0 when free */
  size_t nslots;          /* a power of two */
} prof_intern;

/* The table starts zeroed: prof_intern t = {0}. */

/* Makes room for N keys of KEY_BYTES bytes in all, so that adding them needs no
 * further allocation. Returns 0, or -1 when out of memory. */
int prof_intern_reserve(prof_intern *t, size_t n, size_t key_bytes);

/* The id of KEY (LEN bytes), added when new. -1 when out of memory. */
long prof_intern_add(prof_intern *t, const void *key, size_t len);

/* The hash a key has in the table, for the two calls below. */
uint64_t prof_intern_hash(const void *key, size_t len);

/* Asks the processor to fetch the slot a key of hash H starts its search at. */
static inline void prof_intern_prefetch(const prof_intern *t, uint64_t h) {
  if (t->nslots) __builtin_prefetch(&t->slots[(size_t)h & (t->nslots - 1)]);
}

/* prof_intern_add, with the key's hash H (from prof_intern_hash) given. */
long prof_intern_add_hashed(prof_intern *t, const void *key, size_t len, uint64_t h);

/* The id of KEY, or -1 when it was never added. */
long prof_intern_find(const prof_intern *t, const void *key, size_t len);

/* The stored copy of id's key (valid until the next add; 8-aligned,
 * NUL-terminated) and its length. */
static inline const unsigned char *prof_intern_key(const prof_intern *t, size_t id, size_t *len) {
  if (len) *len = t->ent[id].len;
  return t->arena + t->ent[id].off;
}

void prof_intern_free(prof_intern *t);

#endif
