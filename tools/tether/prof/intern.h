/* An interning table of byte strings: each distinct key gets a small dense id
 * (0, 1, 2, ...) in the order first seen, and the table keeps a copy of it.
 * tether diff/top use it for names, frames, merged-sample stacks and call edges. */
#ifndef TETHER_PROF_INTERN_H
#define TETHER_PROF_INTERN_H

#include <stddef.h>
#include <stdint.h>

typedef struct prof_intern {
  unsigned char *arena;
  size_t arena_len, arena_cap;
  size_t *off;     /* per id: where its key starts in the arena */
  uint64_t *hash;  /* per id: the key's hash */
  size_t *len;     /* per id: the key's length */
  size_t n, cap;   /* ids used and allocated */
  uint32_t *slots; /* open addressing: id + 1, or 0 when free */
  size_t nslots;   /* a power of two */
} prof_intern;

/* The table starts zeroed: prof_intern t = {0}. */

/* The id of KEY (LEN bytes), added when new. -1 when out of memory. */
long prof_intern_add(prof_intern *t, const void *key, size_t len);

/* The id of KEY, or -1 when it was never added. */
long prof_intern_find(const prof_intern *t, const void *key, size_t len);

/* The stored copy of id's key (valid until the next add; 8-aligned,
 * NUL-terminated) and its length. */
const unsigned char *prof_intern_key(const prof_intern *t, size_t id, size_t *len);

void prof_intern_free(prof_intern *t);

#endif
