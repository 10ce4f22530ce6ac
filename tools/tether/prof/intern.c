/* The interning table of intern.h: keys live back to back in one growing arena,
 * ids index per-key arrays, and an open-addressing table of ids (kept at most
 * half full) finds a key by its 64-bit hash. Every key is stored NUL-terminated
 * (string keys are C strings) and starts at an 8-aligned offset of the arena
 * (whose malloc'd start is aligned for any type), so keys made of integers can
 * be read in place. */
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

static size_t key_len(const prof_intern *t, size_t id) { return t->len[id]; }

static long lookup(const prof_intern *t, const void *key, size_t len, uint64_t h, size_t *slot) {
  size_t mask = t->nslots - 1, i = (size_t)h & mask;
  if (t->nslots == 0) return -1;
  for (;; i = (i + 1) & mask) {
    uint32_t s = t->slots[i];
    if (s == 0) {
      *slot = i;
      return -1;
    }
    size_t id = s - 1;
    if (t->hash[id] == h && key_len(t, id) == len && memcmp(t->arena + t->off[id], key, len) == 0)
      return (long)id;
  }
}

static int rehash(prof_intern *t) {
  size_t ns = t->nslots ? t->nslots * 2 : 64;
  uint32_t *slots = calloc(ns, sizeof *slots);
  if (slots == NULL) return -1;
  for (size_t id = 0; id < t->n; id++) {
    size_t i = (size_t)t->hash[id] & (ns - 1);
    while (slots[i] != 0) i = (i + 1) & (ns - 1);
    slots[i] = (uint32_t)(id + 1);
  }
  free(t->slots);
  t->slots = slots;
  t->nslots = ns;
  return 0;
}

static int reserve(prof_intern *t, size_t len) {
  if (t->n == t->cap) {
    size_t nc = t->cap ? t->cap * 2 : 64;
    size_t *off = realloc(t->off, nc * sizeof *off);
    if (off == NULL) return -1;
    t->off = off;
    uint64_t *hash = realloc(t->hash, nc * sizeof *hash);
    if (hash == NULL) return -1;
    t->hash = hash;
    size_t *len_of = realloc(t->len, nc * sizeof *len_of);
    if (len_of == NULL) return -1;
    t->len = len_of;
    t->cap = nc;
  }
  if (t->arena_cap - t->arena_len < len + 8) {
    size_t nc = t->arena_cap ? t->arena_cap : 4096;
    while (nc - t->arena_len < len + 8) nc *= 2;
    unsigned char *a = realloc(t->arena, nc);
    if (a == NULL) return -1;
    t->arena = a;
    t->arena_cap = nc;
  }
  return 0;
}

long prof_intern_add(prof_intern *t, const void *key, size_t len) {
  uint64_t h = hash_bytes(key, len);
  size_t slot = 0;
  if (len >= UINT32_MAX || t->n >= UINT32_MAX - 1) return -1;
  long id = lookup(t, key, len, h, &slot);
  if (id >= 0) return id;
  if ((t->n + 1) * 2 > t->nslots) {
    if (rehash(t) != 0) return -1;
    lookup(t, key, len, h, &slot);
  }
  if (reserve(t, len) != 0) return -1;
  t->off[t->n] = t->arena_len;
  t->hash[t->n] = h;
  memcpy(t->arena + t->arena_len, key, len);
  t->arena[t->arena_len + len] = 0;
  t->len[t->n] = len;
  /* The next key starts 8-aligned, so keys of integers can be read in place. */
  t->arena_len = (t->arena_len + len + 1 + 7) & ~(size_t)7;
  t->slots[slot] = (uint32_t)(t->n + 1);
  return (long)t->n++;
}

long prof_intern_find(const prof_intern *t, const void *key, size_t len) {
  size_t slot;
  return lookup(t, key, len, hash_bytes(key, len), &slot);
}

const unsigned char *prof_intern_key(const prof_intern *t, size_t id, size_t *len) {
  if (len) *len = key_len(t, id);
  return t->arena + t->off[id];
}

void prof_intern_free(prof_intern *t) {
  free(t->arena);
  free(t->off);
  free(t->hash);
  free(t->len);
  free(t->slots);
  memset(t, 0, sizeof *t);
}
