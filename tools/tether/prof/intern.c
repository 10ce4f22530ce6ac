/* The interning table of intern.h: keys live back to back in one growing arena,
 * ids index one array of entries (offset and length), and an
 * open-addressing table (kept at most half full) finds a key by its 64-bit hash.
 * Each slot holds the high half of the key's hash beside its id, so a probe that
 * meets another key is told apart without touching that key's entry or bytes.
 * Every key is stored NUL-terminated (string keys are C strings) and starts at
 * an 8-aligned offset of the arena (whose malloc'd start is aligned for any
 * type), so keys made of integers can be read in place. */
#include "prof/intern.h"

#include <stdlib.h>
#include <string.h>

static uint64_t hash_bytes(const unsigned char *p, size_t n) {
  uint64_t h = 0x9e3779b97f4a7c15u ^ n;
  while (n >= 8) {
    uint64_t w;
    memcpy(&w, p, 8);
    h = (h ^ w) * 0xff51afd7ed558ccdu;
    h ^= h >> 32;
    p += 8;
    n -= 8;
  }
  uint64_t tail = 0;
  memcpy(&tail, p, n);
  h = (h ^ tail) * 0xc4ceb9fe1a85ec53u;
  return h ^ (h >> 29);
}

static uint64_t slot_of(uint64_t h, size_t id) { return (h & 0xffffffff00000000u) | (uint64_t)(id + 1); }

static long lookup(const prof_intern *t, const void *key, size_t len, uint64_t h, size_t *slot) {
  if (t->nslots == 0) return -1;
  size_t mask = t->nslots - 1, i = (size_t)h & mask;
  uint32_t tag = (uint32_t)(h >> 32);
  for (;; i = (i + 1) & mask) {
    uint64_t s = t->slots[i];
    if (s == 0) {
      *slot = i;
      return -1;
    }
    if ((uint32_t)(s >> 32) != tag) continue;
    size_t id = (size_t)(uint32_t)s - 1;
    const prof_intern_entry *e = &t->ent[id];
    if (e->len == len && memcmp(t->arena + e->off, key, len) == 0) return (long)id;
  }
}

/* Grows the slot table to at least NS slots (a power of two). */
static int rehash(prof_intern *t, size_t ns) {
  uint64_t *slots = calloc(ns, sizeof *slots);
  if (slots == NULL) return -1;
  for (size_t i = 0; i < t->nslots; i++) {
    uint64_t s = t->slots[i];
    if (s == 0) continue;
    size_t id = (size_t)(uint32_t)s - 1;
    /* The low half of the hash picks the slot: hash again from the key. */
    uint64_t h = hash_bytes(t->arena + t->ent[id].off, t->ent[id].len);
    size_t j = (size_t)h & (ns - 1);
    while (slots[j] != 0) j = (j + 1) & (ns - 1);
    slots[j] = s;
  }
  free(t->slots);
  t->slots = slots;
  t->nslots = ns;
  return 0;
}

static int reserve_ids(prof_intern *t, size_t need) {
  if (need <= t->cap) return 0;
  size_t nc = t->cap ? t->cap : 64;
  while (nc < need) nc *= 2;
  prof_intern_entry *ent = realloc(t->ent, nc * sizeof *ent);
  if (ent == NULL) return -1;
  t->ent = ent;
  t->cap = nc;
  return 0;
}

static int reserve_arena(prof_intern *t, size_t need) {
  if (t->arena_cap - t->arena_len >= need) return 0;
  size_t nc = t->arena_cap ? t->arena_cap : 4096;
  while (nc - t->arena_len < need) nc *= 2;
  unsigned char *a = realloc(t->arena, nc);
  if (a == NULL) return -1;
  t->arena = a;
  t->arena_cap = nc;
  return 0;
}

static int reserve_slots(prof_intern *t, size_t n) {
  size_t ns = t->nslots ? t->nslots : 64;
  while (n * 2 > ns) ns *= 2;
  return ns == t->nslots ? 0 : rehash(t, ns);
}

int prof_intern_reserve(prof_intern *t, size_t n, size_t key_bytes) {
  if (n >= UINT32_MAX - 1 - t->n) return -1;
  if (reserve_ids(t, t->n + n) != 0 || reserve_slots(t, t->n + n) != 0) return -1;
  return reserve_arena(t, key_bytes + 8 * n + 8);
}

uint64_t prof_intern_hash(const void *key, size_t len) { return hash_bytes(key, len); }

long prof_intern_add(prof_intern *t, const void *key, size_t len) {
  return prof_intern_add_hashed(t, key, len, hash_bytes(key, len));
}

long prof_intern_add_hashed(prof_intern *t, const void *key, size_t len, uint64_t h) {
  size_t slot = 0;
  if (len >= UINT32_MAX || t->n >= UINT32_MAX - 1) return -1;
  long id = lookup(t, key, len, h, &slot);
  if (id >= 0) return id;
  if ((t->n + 1) * 2 > t->nslots) {
    if (reserve_slots(t, t->n + 1) != 0) return -1;
    lookup(t, key, len, h, &slot);
  }
  if (reserve_ids(t, t->n + 1) != 0 || reserve_arena(t, len + 8) != 0) return -1;
  prof_intern_entry *e = &t->ent[t->n];
  e->off = t->arena_len;
  e->len = len;
  memcpy(t->arena + t->arena_len, key, len);
  t->arena[t->arena_len + len] = 0;
  /* The next key starts 8-aligned, so keys of integers can be read in place. */
  t->arena_len = (t->arena_len + len + 1 + 7) & ~(size_t)7;
  t->slots[slot] = slot_of(h, t->n);
  return (long)t->n++;
}

long prof_intern_find(const prof_intern *t, const void *key, size_t len) {
  size_t slot;
  return lookup(t, key, len, hash_bytes(key, len), &slot);
}

void prof_intern_free(prof_intern *t) {
  free(t->arena);
  free(t->ent);
  free(t->slots);
  memset(t, 0, sizeof *t);
}
