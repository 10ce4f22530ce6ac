/* Shared internals of libtether (tether__ prefix). docs/design.md explains the
 * design; this header holds the data structures and the small inline pieces that
 * the dispatch fast path needs.
 *
 * Objects and who may touch them:
 * - tether_registry: read-mostly fields (table, epoch, mode, clock) are read by
 *   readers without locks; everything else is guarded by `mu`.
 * - table, slot, handler array: published with release stores, read lock-free by
 *   readers, replaced copy-on-write by writers under `mu`, retired to the limbo
 *   list, freed two epochs later.
 * - entry: fn, ctx, flags are immutable once published; `state` moves
 *   LIVE -> CLAIMED (exactly one remover wins a CAS) -> RETIRED (in limbo) ->
 *   ZOMBIE (grace period over, refs still held) -> freed.
 * - rec: a thread's record for one registry; `epoch` and `depth` are written only
 *   by the owning thread, `help` by writers whose epoch advance it blocked.
 *
 * Lock order: owner->mu before registry->mu. tether__g_mu (records, background
 * thread) is never held together with either. No lock is held while a handler or
 * a destructor runs. */
#ifndef TETHER_INTERNAL_H
#define TETHER_INTERNAL_H

#include <assert.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "tether/tether.h"

#define TETHER__CACHELINE 64
/* Thread-locals use the initial-exec model: one %fs-relative load instead of a
 * __tls_get_addr call in -fPIC code (the library is not meant for dlopen after
 * start-up in processes that exhaust the static TLS surplus). */
#define TETHER__TLS _Thread_local __attribute__((tls_model("initial-exec")))
#define TETHER__LIKELY(x) __builtin_expect(!!(x), 1)
#define TETHER__UNLIKELY(x) __builtin_expect(!!(x), 0)

typedef struct tether__entry tether__entry;
typedef struct tether__slot tether__slot;
typedef struct tether__table tether__table;
typedef struct tether__array tether__array;
typedef struct tether__rec tether__rec;

/* Entry states. */
enum { TETHER__LIVE = 0, TETHER__CLAIMED = 1, TETHER__RETIRED = 2, TETHER__ZOMBIE = 3 };

/* Why a registration was removed (for the stats). */
typedef enum tether__why {
  TETHER__BY_UNREGISTER,
  TETHER__BY_EXPIRY,
  TETHER__BY_OWNER,
  TETHER__BY_REPLACE,
  TETHER__BY_ONCE,
  TETHER__BY_FREE
} tether__why;

/* Entry flags (immutable). */
#define TETHER__F_ONCE (1u << 0)
#define TETHER__F_COPY (1u << 1)

/* Kinds of retired objects in the limbo list. */
enum { TETHER__K_ENTRY = 0, TETHER__K_SLOT = 1, TETHER__K_ARRAY = 2, TETHER__K_TABLE = 3 };

/* The link every retired object carries: the limbo list is intrusive, so a
 * removal never allocates. */
typedef struct tether__retire {
  struct tether__retire *next;
  uint64_t epoch_kind; /* epoch << 2 | kind */
} tether__retire;

struct tether__entry {
  /* Read by dispatch. */
  tether_fn fn;
  void *ctx;
  _Atomic uint32_t state;
  uint32_t flags;
  _Atomic uint64_t expires_at; /* ms on the registry's clock; 0 = never */
  /* Writer side. */
  tether_free_fn ctx_free;
  tether_id id;
  tether__slot *slot;
  uint32_t site;   /* index into the registry's site table */
  uint32_t refs;   /* tether_ref holders; guarded by the registry mutex */
  uint64_t created_ms; /* once retired: the registry's retire sequence number */
  size_t ctx_size;
  tether_owner *owner;
  /* While bound to an owner: the owner's list. After removal: the limbo link. */
  union {
    struct {
      tether__entry *prev, *next;
    } owned;
    tether__retire retire;
  } u;
  /* TETHER_COPY_CTX data follows, aligned. */
  _Alignas(16) unsigned char copy[];
};

/* A handler array (BUS mode, two or more handlers): elements are set to NULL in
 * place when their entry is removed, so a removal needs no allocation. */
struct tether__array {
  tether__retire retire;
  uint32_t n;
  uint32_t live; /* non-NULL elements; guarded by the registry mutex */
  _Atomic(tether__entry *) e[];
};

/* A name. handlers is 0, an entry pointer, or an array pointer | 1. */
struct tether__slot {
  _Atomic uintptr_t handlers;
  uint64_t hash;
  uint32_t len;
  uint32_t topic_refs; /* guarded by the registry mutex */
  tether_registry *reg;
  tether__retire retire;
  char name[]; /* len bytes and a NUL */
};

#define TETHER__TOMB ((tether__slot *)(uintptr_t)1)



/* A bucket keeps the slot's hash beside the pointer, so probing past other
 * names needs no dereference. Readers trust the hash only as a filter: the slot's
 * own hash, length and name decide. */
typedef struct tether__bucket {
  _Atomic uint64_t hash;
  _Atomic(tether__slot *) slot;
} tether__bucket;

/* The name table: open addressing, linear probing, published whole; buckets
 * change in place (insert, tombstone) and the table is replaced to grow. */
struct tether__table {
  tether__retire retire;
  size_t used; /* live + tombstones; guarded by the mutex */
  size_t live;
  char pad_[TETHER__CACHELINE]; /* writers' counters stay off the line readers load */
  size_t mask;
  tether__bucket b[];
};

/* A thread's record for one registry. Records are placed on a cache line of
 * their own (over-allocated and aligned by hand: allocators only promise
 * malloc's alignment), so readers never share a line. */
struct tether__rec {
  _Atomic uint64_t epoch;     /* 0: outside; else the epoch seen on entry */
  _Atomic uint32_t help;      /* a writer's advance waited on this record */
  uint32_t depth;             /* nesting depth; owning thread only */
  _Atomic(void *) thread;     /* owning thread state; NULL = free for reuse */
  tether__rec *next;          /* registry's list; immutable once linked */
  tether_registry *reg;
  void *raw;                  /* the allocation this record lies in */
};
#define TETHER__REC_ALLOC (2 * TETHER__CACHELINE)
_Static_assert(sizeof(tether__rec) <= TETHER__CACHELINE, "a record fits one cache line");

typedef struct tether__site_rec {
  tether_site site;
} tether__site_rec;

struct tether_owner {
  pthread_mutex_t mu;
  tether__entry *head; /* bound registrations, across registries; guarded by mu
                          (an entry's owner field changes only with both the
                          owner's and its registry's mutex held) */
  size_t count;
  _Atomic int pins;    /* removals in progress that will lock mu */
};

struct tether_topic {
  tether_registry *reg;
  tether__slot *slot;
};

struct tether_ref {
  tether_registry *reg;
  tether__entry *entry;
};

/* A batch of objects whose grace period is over, to be destroyed outside the lock.
 * While in flight it is linked into the registry so barriers can wait for it. */
typedef struct tether__batch {
  tether__retire *head, *tail;
  uint64_t min_seq; /* smallest retire sequence of an entry inside (UINT64_MAX: none) */
  struct tether__batch *next_inflight;
} tether__batch;

struct tether_registry {
  /* Read-mostly: dispatch reads these without locks. */
  _Atomic(tether__table *) table;
  _Atomic uint64_t epoch;
  _Atomic(tether__rec *) recs;
  uint64_t serial; /* unique per registry, never reused: keys thread-local caches */
  int mode;
  uint64_t (*clock_ms)(void *ud);
  void *clock_ud;
  tether_allocator alloc;
  uint64_t created_ms;

  char pad_[TETHER__CACHELINE]; /* keeps writers' lines off the readers' */
  /* Writer side, guarded by mu. */
  pthread_mutex_t mu;
  uint64_t next_id;
  tether__entry **ids; /* id index: open addressing by id */
  size_t ids_mask, ids_count;
  tether__site_rec *sites;
  uint32_t nsites, capsites;
  uint32_t *site_idx; /* open addressing over sites, UINT32_MAX = empty */
  uint32_t site_mask;
  tether__retire *limbo_head, *limbo_tail;
  size_t limbo_count;
  uint64_t retire_seq; /* entries retired so far */
  tether__entry *zombies; /* grace period over, refs held; linked through u.retire */
  tether__batch *inflight;
  uint32_t topics_held, refs_held;
  size_t ttl_live; /* live entries with an expiry: sweeping skips the walk at 0 */
  tether_stats st; /* counters; destructors_* are kept below */
  _Atomic uint64_t destructors_run;
  pthread_cond_t done_cv; /* broadcast when a batch finishes (with mu) */
  FILE *leak_report;

  /* Background thread bookkeeping, guarded by tether__g_mu. */
  tether_registry *g_next;
  _Atomic int bg_armed;
  uint64_t bg_due_ms;
  int bg_busy;
  unsigned sweep_interval_ms;
  uint64_t next_sweep_ms;
};

static inline tether__entry *tether__entry_of(tether__retire *o) {
  return (tether__entry *)(void *)((char *)o - offsetof(tether__entry, u.retire));
}
static inline const tether__entry *tether__entry_of_c(const tether__retire *o) {
  return (const tether__entry *)(const void *)((const char *)o - offsetof(tether__entry, u.retire));
}
static inline tether__entry *tether__zombie_next(const tether__entry *z) {
  return z->u.retire.next ? tether__entry_of(z->u.retire.next) : NULL;
}

/* ---- memory ---- */
void *tether__alloc(tether_registry *r, size_t size);
void tether__free(tether_registry *r, void *p, size_t size);
size_t tether__entry_size(const tether__entry *e);
size_t tether__slot_size(uint32_t len);
size_t tether__array_size(uint32_t n);
size_t tether__table_size(size_t mask);
uint64_t tether__now(const tether_registry *r);
uint64_t tether__default_clock_ms(void *ud);

/* ---- names and tables (inline: the dispatch path; the rest in table.c) ---- */

static inline uint64_t tether__load64(const char *p) {
  uint64_t w;
  memcpy(&w, p, 8);
  return w;
}

static inline uint64_t tether__load32(const char *p) {
  uint32_t w;
  memcpy(&w, p, 4);
  return w;
}

/* Multiplies two words to 128 bits and folds the halves: one multiplication
 * mixes every input bit into every output bit. */
static inline uint64_t tether__mum(uint64_t a, uint64_t b) {
  unsigned __int128 r = (unsigned __int128)a * b;
  return (uint64_t)r ^ (uint64_t)(r >> 64);
}

/* The string hash: names up to 16 bytes (the common case) cost one 128-bit
 * multiplication of two overlapping loads; longer names take one per 16 bytes.
 * It beats byte-at-a-time hashes such as g_str_hash and needs no strlen of its own. */
static inline uint64_t tether__hash(const char *s, size_t n) {
  const uint64_t k0 = 0xa0761d6478bd642full, k1 = 0xe7037ed1a0b428dbull;
  uint64_t a, b, seed = k0 ^ (uint64_t)n;
  const char *end = s + n;
  if (n > 16) {
    for (; end - s > 16; s += 16) seed = tether__mum(tether__load64(s) ^ k1, tether__load64(s + 8) ^ seed);
    a = tether__load64(end - 16);
    b = tether__load64(end - 8);
  } else if (n >= 8) {
    a = tether__load64(s);
    b = tether__load64(end - 8);
  } else if (n >= 4) {
    a = tether__load32(s);
    b = tether__load32(end - 4);
  } else {
    a = n ? (uint64_t)(unsigned char)s[0] << 16 | (uint64_t)(unsigned char)s[n >> 1] << 8 |
                (unsigned char)s[n - 1]
          : 0;
    b = 0;
  }
  return tether__mum(a ^ k1, b ^ seed);
}

/* Checks a name (non-NULL, 1..TETHER_NAME_MAX bytes) and stores its length. */
static inline int tether__check_name(const char *name, size_t *len) {
  if (name == NULL) return TETHER_EINVAL;
  size_t n = strnlen(name, TETHER_NAME_MAX + 1);
  if (TETHER__UNLIKELY(n == 0)) return TETHER_EINVAL;
  if (TETHER__UNLIKELY(n > TETHER_NAME_MAX)) return TETHER_ENAMETOOLONG;
  *len = n;
  return 0;
}

/* Compares N bytes; short names (the common case) without a call. */
static inline int tether__name_eq(const char *a, const char *b, size_t n) {
  if (n >= 8 && n <= 16)
    return tether__load64(a) == tether__load64(b) &&
           tether__load64(a + n - 8) == tether__load64(b + n - 8);
  if (n >= 4 && n < 8)
    return tether__load32(a) == tether__load32(b) &&
           tether__load32(a + n - 4) == tether__load32(b + n - 4);
  return memcmp(a, b, n) == 0;
}

/* Finds NAME in T; lock-free (inside a read section) or under the mutex. */
static inline tether__slot *tether__lookup(const tether__table *t, const char *name, size_t len,
                                           uint64_t h) {
  size_t i = (size_t)h & t->mask;
  for (;;) {
    const tether__bucket *b = &t->b[i];
    tether__slot *s = atomic_load_explicit(&b->slot, memory_order_acquire);
    if (s == NULL) return NULL;
    if (atomic_load_explicit(&b->hash, memory_order_relaxed) == h && s != TETHER__TOMB &&
        s->hash == h && s->len == len && tether__name_eq(s->name, name, len))
      return s;
    i = (i + 1) & t->mask;
  }
}

/* Writer side (mutex held). */
tether__table *tether__table_new(tether_registry *r, size_t nbuckets);
int tether__table_reserve(tether_registry *r, tether__table **grown);
void tether__table_insert(tether_registry *r, tether__slot *s, tether__table *grown);
void tether__table_remove(tether_registry *r, tether__slot *s);
int tether__ids_reserve(tether_registry *r, tether__entry ***grown, size_t *grown_mask);
void tether__ids_adopt(tether_registry *r, tether__entry **grown, size_t grown_mask);
void tether__ids_insert(tether_registry *r, tether__entry *e);
tether__entry *tether__ids_find(const tether_registry *r, tether_id id);
void tether__ids_remove(tether_registry *r, tether__entry *e);
int tether__site_intern(tether_registry *r, tether_site site, uint32_t *out);

/* ---- reclamation (reclaim.c) ---- */
extern pthread_mutex_t tether__g_mu;
int tether__global_init(void);
tether__rec *tether__rec_slow(tether_registry *r);
tether__rec *tether__rec_peek(const tether_registry *r);
void tether__help(tether_registry *r, tether__rec *c);
void tether__retire_obj(tether_registry *r, tether__retire *obj, int kind);
void tether__collect(tether_registry *r, tether__batch *b);
void tether__destroy_batch(tether_registry *r, tether__batch *b);
void tether__destroy_entry(tether_registry *r, tether__entry *e);
void tether__reclaim_now(tether_registry *r);
void tether__arm(tether_registry *r, unsigned delay_ms);
int tether__unlock(tether_registry *r);
void tether__reclaim_if(tether_registry *r, int many);
#define TETHER__LIMBO_INLINE 1024
int tether__in_destructor_of(const tether_registry *r);
void tether__register_registry(tether_registry *r);
void tether__unregister_registry(tether_registry *r);
void tether__free_recs(tether_registry *r);
int tether__drain(tether_registry *r, int wait_all);

/* ---- removal (registry.c), entry claimed by the caller ---- */
void tether__finish_removal(tether_registry *r, tether__entry *e, tether__why why);
void tether__remove_locked(tether_registry *r, tether__entry *e, tether__why why);
void tether__owner_unlink_locked(tether_owner *o, tether__entry *e);

/* ---- diagnostics (diag.c) ---- */
void tether__report_survivors(tether_registry *r);

/* A full memory fence. TSan does not model atomic_thread_fence (gcc refuses it
 * under -fsanitize=thread): sanitizer builds use a seq_cst read-modify-write on a
 * thread-private variable instead, which is a full fence on the hardware. */
#if defined(TETHER_SANITIZE_THREAD)
extern TETHER__TLS _Atomic int tether__fence_word;
#define TETHER__FULL_FENCE() \
  ((void)atomic_exchange_explicit(&tether__fence_word, 0, memory_order_seq_cst))
#else
#define TETHER__FULL_FENCE() atomic_thread_fence(memory_order_seq_cst)
#endif

/* ---- the per-thread cache: the last registry this thread entered ---- */
typedef struct tether__tls_cache {
  uint64_t serial;
  tether__rec *rec;
} tether__tls_cache;
extern TETHER__TLS tether__tls_cache tether__tls_last __attribute__((visibility("hidden")));
extern int tether__use_membarrier __attribute__((visibility("hidden")));

static inline tether__rec *tether__rec_get(tether_registry *r) {
  if (TETHER__LIKELY(tether__tls_last.serial == r->serial)) return tether__tls_last.rec;
  return tether__rec_slow(r);
}

/* Enters a read section; returns the thread's record or NULL (out of memory). */
static inline tether__rec *tether__enter(tether_registry *r) {
  tether__rec *c = tether__rec_get(r);
  if (TETHER__UNLIKELY(c == NULL)) return NULL;
  if (c->depth++ == 0) {
    atomic_store_explicit(&c->epoch, atomic_load_explicit(&r->epoch, memory_order_acquire),
                          memory_order_release);
    /* Order the record store before the loads of shared pointers. With membarrier
     * the writer supplies the full fence; otherwise the reader pays for one. */
    if (TETHER__LIKELY(tether__use_membarrier))
      atomic_signal_fence(memory_order_seq_cst);
    else
      TETHER__FULL_FENCE();
  }
  return c;
}

static inline void tether__leave(tether_registry *r, tether__rec *c) {
  assert(c->depth > 0);
  if (--c->depth == 0) {
    atomic_store_explicit(&c->epoch, 0, memory_order_release);
    if (!tether__use_membarrier) TETHER__FULL_FENCE();
    if (TETHER__UNLIKELY(atomic_load_explicit(&c->help, memory_order_relaxed))) tether__help(r, c);
  }
}

#endif /* TETHER_INTERNAL_H */
