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
 * - rec: a thread's record for one registry; `epoch` (non-zero while inside,
 *   nesting included) is written only by the owning thread, `help` by writers whose epoch advance
 * it blocked.
 *
 * Lock order: owner->mu before registry->mu, and tether__g_mu (the registry list,
 * thread records, the background thread) is never taken while either is held.
 * No lock is held while a handler or a destructor runs. */
#ifndef TETHER_INTERNAL_H
#define TETHER_INTERNAL_H

#include <assert.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "tether/tether.h"

/* Compiled with -fsanitize=thread: the ThreadSanitizer mode (fences, no
 * membarrier), as -DTETHER_SANITIZE=thread selects. */
#if !defined(TETHER_SANITIZE_THREAD) && defined(__SANITIZE_THREAD__)
#define TETHER_SANITIZE_THREAD 1
#endif
#if !defined(TETHER_SANITIZE_THREAD) && defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define TETHER_SANITIZE_THREAD 1
#endif
#endif

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

/* Entry states, in the low bits of the state word. */
enum { TETHER__LIVE = 0, TETHER__CLAIMED = 1, TETHER__RETIRED = 2, TETHER__ZOMBIE = 3 };
#define TETHER__STATE_MASK 3u
/* In the state word beside the state: this node needs more than a plain call
 * (an entry with a TTL or TETHER_ONCE; always set in a slot). Dispatch calls an
 * entry right away only when the whole word is 0. */
#define TETHER__S_SLOW 4u
/* Claimed by a TETHER_REPLACE whose new entry is already published: a reader that
 * finds it looks the name up again (kept through RETIRED and ZOMBIE). */
#define TETHER__S_REPLACED 8u
/* Bits 4..7: why the entry was removed (set when it is retired). */
#define TETHER__S_WHY_SHIFT 4
#define TETHER__S_WHY_MASK (15u << TETHER__S_WHY_SHIFT)
/* Bits 8..31: bumped by every tether_touch, so an expirer that read the old
 * deadline fails its claim (a compare-and-swap of the whole word). */
#define TETHER__S_VERSION (1u << 8)
#define TETHER__S_VERSION_MASK (~0u << 8)

/* Why a registration was removed (stats, on_remove): tether_removal's values. */
typedef enum tether__why {
  TETHER__BY_UNREGISTER = TETHER_REMOVED_UNREGISTER,
  TETHER__BY_EXPIRY = TETHER_REMOVED_EXPIRED,
  TETHER__BY_OWNER = TETHER_REMOVED_OWNER,
  TETHER__BY_REPLACE = TETHER_REMOVED_REPLACED,
  TETHER__BY_ONCE = TETHER_REMOVED_ONCE,
  TETHER__BY_FREE = TETHER_REMOVED_REGISTRY_FREE
} tether__why;

/* Node flags (immutable). Entries and slots are both "nodes": they keep their
 * flags and name length at offset 0 and (MAP entries and slots) their name at
 * TETHER__NAME_OFF, so a lookup compares names without knowing which it found. */
#define TETHER__F_ONCE (1u << 0) /* entry: TETHER_ONCE */
#define TETHER__F_COPY (1u << 1) /* entry: the context is copied into the tail */
#define TETHER__F_SLOT (1u << 2) /* the node is a slot (a name with a handler list) */
#define TETHER__F_BUS \
  (1u << 3) /* entry: lives in a slot (its id leads there); no name in the tail */
#define TETHER__F_SIZED (1u << 4) /* entry: ctx_size != 0, kept in the tail */
#define TETHER__F_OWNED \
  (1u << 5) /* entry: registered with an owner; the tail holds tether__owned */
#define TETHER__F_NOTIFY (1u << 6) /* entry: has an on_remove callback in the tail */
#define TETHER__F_TRACK (1u << 7)  /* entry: its calls are counted (tether__track in the tail) */
#define TETHER__F_STACK (1u << 8)  /* entry: keeps its registering call stack (tether__stack) */

/* Kinds of retired objects in the limbo list (TETHER__KIND_BITS bits). */
enum {
  TETHER__K_ENTRY = 0,
  TETHER__K_SLOT = 1,
  TETHER__K_ARRAY = 2,
  TETHER__K_TABLE = 3
};
#define TETHER__KIND_BITS 3

/* The link every retired object carries: the limbo list is intrusive, so a
 * removal never allocates. */
typedef struct tether__retire {
  struct tether__retire *next;
  uint64_t epoch_kind; /* epoch << TETHER__KIND_BITS | kind */
} tether__retire;

#define TETHER__NAME_OFF 64

/* What a lookup reads first, at offset 32 of every node: dispatch reads offsets
 * 32 up to the end of the name and nothing else, so that span is contiguous. */
typedef struct tether__node {
  char other_[32];
  uint16_t flags;
  uint16_t len; /* name length (MAP entries and slots; 0 for BUS entries) */
} tether__node;

/* A registration: 64 bytes, then a tail: the name and its NUL (MAP; a BUS
 * entry's name is its slot's); then, 8-aligned, ctx_size (F_SIZED), tether__owned
 * (F_OWNED) and the on_remove callback (F_NOTIFY); then, 16-aligned, the copied
 * context (F_COPY). Fields a registration without those options does not need
 * cost it nothing. */
struct tether__entry {
  /* While registered: id and creation time. Claimed by a reader (ONCE, expiry),
   * the creation time becomes the hand-off link to the background thread (so it
   * is atomic: a snapshot may read it meanwhile, see snap_visit). Once retired
   * (neither is read again): the limbo link. */
  union {
    struct {
      tether_id id;
      _Atomic uint64_t created_ms;
    } live;
    tether__retire retire;
  } u;
  tether_free_fn ctx_free;
  uint32_t site; /* index into the registry's site table */
  uint32_t refs; /* tether_ref holders; guarded by the registry mutex */
  /* Read by dispatch, with the name that follows. */
  uint16_t flags;
  uint16_t len;
  _Atomic uint32_t state;
  _Atomic uint64_t expires_at; /* ms on the registry's clock; 0 = never */
  tether_fn fn;
  void *ctx;
  char tail[];
};
_Static_assert(sizeof(struct tether__entry) == TETHER__NAME_OFF, "an entry's header is 64 bytes");

/* An entry's owner and its links in the owner's list (F_OWNED). Once unlinked,
 * the links are dead and `notify` names the owner to tell when the destructor has
 * run (the owner's memory is kept until then). */
typedef struct tether__owned {
  tether_registry *reg;
  tether_owner *owner; /* NULL once unlinked from the owner's list */
  union {
    struct {
      tether__entry *prev, *next;
    } link;
    tether_owner *notify;
  } u;
} tether__owned;

/* A handler array (BUS mode, two or more handlers): elements are set to NULL in
 * place when their entry is removed, so a removal needs no allocation. */
struct tether__array {
  tether__retire retire;
  uint32_t n;
  uint32_t live; /* non-NULL elements; guarded by the registry mutex */
  _Atomic(tether__entry *) e[];
};

/* A name with a handler list: every name in BUS mode, and a MAP name while a
 * topic pins it. handlers is 0, an entry pointer, or an array pointer | 1. */
struct tether__slot {
  tether__retire retire;
  _Atomic uintptr_t handlers;
  uint32_t topic_refs; /* guarded by the registry mutex */
  uint32_t unused_;
  uint16_t flags; /* TETHER__F_SLOT */
  uint16_t len;
  _Atomic uint32_t state; /* where an entry keeps its state word: TETHER__S_SLOW */
  char unused2_[24];
  char name[]; /* len bytes and a NUL */
};
_Static_assert(sizeof(struct tether__slot) == TETHER__NAME_OFF,
               "a slot's name is where an entry's is");
_Static_assert(offsetof(struct tether__slot, state) == offsetof(struct tether__entry, state),
               "a slot's state word is where an entry's is");
_Static_assert(offsetof(struct tether__slot, flags) == offsetof(tether__node, flags) &&
                   offsetof(struct tether__entry, flags) == offsetof(tether__node, flags) &&
                   offsetof(struct tether__slot, len) == offsetof(tether__node, len) &&
                   offsetof(struct tether__entry, len) == offsetof(tether__node, len),
               "nodes keep flags and length where a lookup reads them");

/* A slot's handlers word: 0, an entry, or an array | 1. */
static inline tether__array *tether__as_array(uintptr_t h) {
  return (tether__array *)(h & ~(uintptr_t)1);
}
static inline int tether__is_array(uintptr_t h) {
  return (int)(h & 1);
}
static inline int tether__is_slot(const void *node) {
  return (((const tether__node *)node)->flags & TETHER__F_SLOT) != 0;
}

static inline uint32_t tether__state(const tether__entry *e) {
  return atomic_load_explicit(&e->state, memory_order_acquire) & TETHER__STATE_MASK;
}

/* LIVE -> CLAIMED, keeping the other bits: exactly one caller wins. */
static inline int tether__claim(tether__entry *e) {
  uint32_t s = atomic_load_explicit(&e->state, memory_order_acquire);
  while ((s & TETHER__STATE_MASK) == TETHER__LIVE) {
    if (atomic_compare_exchange_weak_explicit(&e->state, &s,
                                              (s & ~TETHER__STATE_MASK) | TETHER__CLAIMED,
                                              memory_order_acq_rel, memory_order_acquire))
      return 1;
  }
  return 0;
}

static inline const char *tether__node_name(const void *node) {
  return (const char *)node + TETHER__NAME_OFF;
}

/* The bucket word: 0 (empty), TETHER__TOMB, or a node pointer. A node pointer
 * that fits in 48 bits (every user-space pointer on x86-64 and arm64 Linux
 * without tagging) is stored with bit 0 set and the top 16 bits of the name's
 * hash in bits 48..63, so probing past other names needs no dereference; any
 * other pointer is stored as it is and compared by name. */
#define TETHER__TOMB ((uint64_t)2)
#define TETHER__PTR_MASK ((uint64_t)0x0000fffffffffff8ull)
/* XORed with a hash's top 16 bits | 1, a tagged word with that tag has no bit
 * left under TETHER__TAG_BITS, and what is left is the node pointer (an empty
 * word, a tombstone and an untagged pointer keep bit 0 set). */
#define TETHER__TAG_BITS ((uint64_t)0xffff000000000001ull)

/* The tag a tagged word for hash H carries: its top 16 bits, and bit 0. */
static inline uint64_t tether__tag(uint64_t h) {
  return (h & TETHER__TAG_BITS) | 1;
}

static inline uint64_t tether__bucket_word(const void *node, uint64_t h) {
  uint64_t p = (uint64_t)(uintptr_t)node;
  if ((p >> 48) != 0 || (p & 7) != 0) return p;
  return p | tether__tag(h);
}

static inline void *tether__bucket_node(uint64_t w) {
  return (void *)(uintptr_t)((w & 1) ? (w & TETHER__PTR_MASK) : w);
}

/* The name table: open addressing, linear probing, published whole; buckets
 * change in place (insert, replace, tombstone) and the table is replaced to grow. */
struct tether__table {
  tether__retire retire;
  size_t used; /* live + tombstones; guarded by the mutex */
  size_t live;
  char pad_[TETHER__CACHELINE]; /* writers' counters stay off the line readers load */
  size_t mask;
  size_t home_mask;                  /* mask with bit 0 clear: a hash's home pair (tether__home) */
  _Alignas(16) _Atomic uint64_t b[]; /* pairs b[2k], b[2k+1] share one 16-byte block */
};

/* A new registry's table size in buckets (a power of two). */
#define TETHER__TABLE_INIT 16

/* A hash's home: the first bucket of a pair. Probing goes up from it one
 * bucket at a time (writers) or one pair at a time (dispatch's fast path), so a
 * pair is two loads from one block and never wraps. */
static inline size_t tether__home(const tether__table *t, uint64_t h) {
  return (size_t)h & t->home_mask;
}

/* A thread's record for one registry. Each record has a 128-byte block to itself
 * (over-allocated and aligned by hand: allocators only promise malloc's
 * alignment; 128 because adjacent-line prefetch moves lines in pairs), so
 * readers never share a line. */
struct tether__rec {
  _Atomic uint64_t epoch; /* 0: outside; else the epoch seen on entry */
  _Atomic uint32_t help;  /* a writer's advance waited on this record */
  _Atomic(void *) thread; /* owning thread state; NULL = free for reuse */
  tether__rec *next;      /* registry's list; immutable once linked */
  tether_registry *reg;
  void *raw; /* the allocation this record lies in */
  /* With call tracking: this record's call counts (calls.c), written only by the
   * thread that owns the record; replaced (and the old one retired) to grow. */
  _Atomic(struct tether__count_dir *) counts;
};
/* Records are written on every emit by their own thread: each gets a 128-byte
 * block to itself, since Intel's adjacent-line prefetcher moves lines in pairs. */
#define TETHER__REC_ALIGN (2 * TETHER__CACHELINE)
#define TETHER__REC_ALLOC (2 * TETHER__REC_ALIGN)
_Static_assert(sizeof(tether__rec) <= TETHER__CACHELINE, "a record fits one cache line");

/* An interned registration site: the caller's pointers (the lookup key) and
 * the registry's own copies of the strings, which are what anyone reads. */
typedef struct tether__site_rec {
  tether_site site;                /* file and func point into `copy` (or are NULL) */
  const char *key_file, *key_func; /* as the caller passed them; never dereferenced */
  char *copy;
  size_t copy_size;
} tether__site_rec;

struct tether_owner {
  pthread_mutex_t mu;
  tether__entry *head; /* bound registrations, across registries; guarded by mu
                          (an entry's owner field changes only with both the
                          owner's and its registry's mutex held) */
  size_t count;
  uint64_t *serials; /* the registries it ever had registrations in (by serial), guarded by mu */
  size_t nserials, capserials;
  /* References to the owner's memory: 1 for the handle until tether_owner_free,
   * 1 per registration unlinked from it whose destructor has not run, 1 per
   * removal in progress that will lock mu. The last one frees the owner. */
  _Atomic size_t refs;
};

/* Every held topic and ref is on its registry's list (mutex held), with where it
 * was taken: tether_registry_free's EBUSY report names them. */
struct tether_topic {
  tether_registry *reg;
  tether__slot *slot;
  uint32_t site;
  struct tether_topic *prev, *next;
};

struct tether_ref {
  tether_registry *reg;
  tether__entry *entry;
  const void *holder; /* the taking thread (tether__self) */
  uint32_t site;
  struct tether_ref *prev, *next;
};

/* A batch of objects whose grace period is over, to be destroyed outside the lock.
 * While in flight it is linked into the registry so barriers can wait for it. */
typedef struct tether__batch {
  tether__retire *head, *tail;
  uint64_t min_epoch; /* smallest retire epoch of an entry inside (UINT64_MAX: none) */
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
  /* The id index, a slot map: ids[i] is an entry pointer or, for a free index,
   * TETHER__ID_FREE(generation, next free index + 1). An id is
   * (generation << 32 | index + 1) ^ id_salt. */
  uint64_t *ids;
  uint32_t ids_cap, ids_used, ids_free; /* ids_free: first free index + 1, 0 = none */
  uint64_t id_salt;                     /* per registry: another registry's ids miss */
  tether__site_rec *sites;
  uint32_t nsites, capsites;
  uint32_t *site_idx; /* open addressing over sites, UINT32_MAX = empty */
  uint32_t site_mask;
  tether__retire *limbo_head, *limbo_tail;
  size_t limbo_count;
  size_t limbo_mark;                /* limbo size at which a writer reclaims inline next */
  _Atomic uint64_t inline_reclaims; /* writers' inline reclaim attempts (tests read it) */
  uint64_t retire_seq;              /* entries retired so far (destructors_pending) */
  tether__entry *zombies;           /* grace period over, refs held; linked through u.retire */
  tether__batch *inflight;
  uint32_t topics_held, refs_held;
  tether_topic *topics;         /* held topics */
  tether_ref *refs;             /* held refs */
  int freeing;                  /* tether_registry_free has started: refuse new registrations */
  uint32_t sync_waiters;        /* threads waiting in tether_unregister_sync for a removal */
  size_t ttl_live;              /* live entries with an expiry: sweeping skips the walk at 0 */
  tether_stats st;              /* counters; live_bytes and destructors_* are kept below */
  unsigned __int128 live_bytes; /* exact sum of live ctx_size (saturated when reported) */
  _Atomic uint64_t destructors_run;
  pthread_cond_t done_cv; /* broadcast when a batch finishes (with mu) */
  FILE *leak_report;

  /* Entries claimed by readers (TETHER_ONCE, expiry) whose removal the
   * background thread (or the next writer) finishes: a lock-free stack linked
   * through u.live.created_ms, low bits the reason. */
  _Atomic uintptr_t handoff;
  _Atomic uint32_t handoff_busy; /* threads finishing hand-offs right now */

  /* Background thread bookkeeping: the list and bg_busy are guarded by
   * tether__g_mu; arming is lock-free. */
  tether_registry *g_next;
  _Atomic int bg_armed;
  _Atomic uint64_t bg_due_ms; /* 0: nothing due */
  int bg_busy;
  unsigned sweep_interval_ms;
  uint64_t next_sweep_ms;

  /* Call tracking (calls.c) and the other diagnostics' options. */
  int track_calls;
  _Atomic uint64_t tick_ms;       /* the registry's clock, refreshed every TETHER_TICK_MS */
  uint64_t next_tick_ms;          /* guarded by tether__g_mu */
  _Atomic uint32_t calls_cap;     /* count slots every record's array should have (mutex held to grow) */
  uint64_t never_called_ms;
  unsigned capture_stack;
  unsigned metrics_top_sites;
  /* TETHER_PROFILE and TETHER_DEBUG=trace (export.c); the periodic profile's
   * schedule is guarded by tether__g_mu. */
  char *profile_dir;
  unsigned profile_interval_ms;
  uint64_t next_profile_ms;
  uint64_t profile_seq;
  int profile_failed;
  int trace;
  uint64_t trace_passes;
};

static inline tether__entry *tether__entry_of(tether__retire *o) {
  return (tether__entry *)(void *)((char *)o - offsetof(tether__entry, u.retire));
}
static inline tether__entry *tether__zombie_next(const tether__entry *z) {
  return z->u.retire.next ? tether__entry_of(z->u.retire.next) : NULL;
}
static inline uint64_t tether__retire_epoch(const tether__retire *o) {
  return o->epoch_kind >> TETHER__KIND_BITS;
}
static inline int tether__retire_kind(const tether__retire *o) {
  return (int)(o->epoch_kind & ((1u << TETHER__KIND_BITS) - 1));
}

/* ---- an entry's tail ---- */

static inline size_t tether__align(size_t n, size_t a) {
  return (n + a - 1) & ~(a - 1);
}
typedef void (*tether__notify_fn)(void *ctx, tether_removal why);

/* A tracked entry's counters (F_TRACK): its id and id index are copied here, since
 * dispatch reads them while a remover may be overwriting u.live with the limbo link. */
typedef struct tether__track {
  tether_id id;
  uint32_t idx;                /* the id's index: the slot of its per-thread counts */
  uint32_t unused_;
  _Atomic uint64_t last_tick;  /* the tick of the last call counted in overflow (0: none) */
  _Atomic uint64_t overflow;   /* calls counted here when a thread's counts had no slot */
} tether__track;

/* A registering call stack (F_STACK): return addresses, the caller of the
 * registering function first. */
typedef struct tether__stack {
  uint64_t depth;
  uintptr_t pc[];
} tether__stack;

/* The optional fields of a tail, in this order, each there only with its flag,
 * from an 8-aligned offset after the name: tether__track (first: dispatch finds
 * it with one addition), ctx_size, tether__owned, on_remove, tether__stack
 * (last: its size depends on its depth). */
static inline size_t tether__opt_base(unsigned flags, size_t len) {
  return tether__align(sizeof(tether__entry) + ((flags & TETHER__F_BUS) ? 0 : len + 1), 8);
}
static inline size_t tether__opt_offset(unsigned flags, size_t len, unsigned which) {
  size_t off = tether__opt_base(flags, len);
  if (which == TETHER__F_TRACK) return off;
  if (flags & TETHER__F_TRACK) off += sizeof(tether__track);
  if (which == TETHER__F_SIZED) return off;
  if (flags & TETHER__F_SIZED) off += sizeof(size_t);
  if (which == TETHER__F_OWNED) return off;
  if (flags & TETHER__F_OWNED) off += sizeof(tether__owned);
  if (which == TETHER__F_NOTIFY) return off;
  if (flags & TETHER__F_NOTIFY) off += sizeof(tether__notify_fn);
  return off; /* TETHER__F_STACK, or the end of the fields without a stack */
}
static inline void *tether__opt_field(const tether__entry *e, unsigned which) {
  if (!(e->flags & which)) return NULL;
  return (char *)(uintptr_t)e + tether__opt_offset(e->flags, e->len, which);
}
static inline size_t tether__ctx_size(const tether__entry *e) {
  const void *p = tether__opt_field(e, TETHER__F_SIZED);
  size_t n = 0;
  if (p != NULL) memcpy(&n, p, sizeof n);
  return n;
}
static inline tether__owned *tether__owned_of(const tether__entry *e) {
  return (tether__owned *)tether__opt_field(e, TETHER__F_OWNED);
}
static inline tether_owner *tether__owner_of(const tether__entry *e) {
  const tether__owned *w = tether__owned_of(e);
  return w ? w->owner : NULL;
}
static inline tether__notify_fn *tether__notify_of(const tether__entry *e) {
  return (tether__notify_fn *)tether__opt_field(e, TETHER__F_NOTIFY);
}
static inline tether__track *tether__track_of(const tether__entry *e) {
  return (tether__track *)tether__opt_field(e, TETHER__F_TRACK);
}
static inline tether__stack *tether__stack_of(const tether__entry *e) {
  return (tether__stack *)tether__opt_field(e, TETHER__F_STACK);
}
/* A BUS entry's slot: the id index keeps it in the entry's stead (mutex held,
 * entry still registered). */
tether__slot *tether__slot_of(const tether_registry *r, const tether__entry *e);
/* The entry's name (MAP: in its tail; BUS: its slot's) and length (mutex held). */
static inline const char *tether__entry_name(const tether_registry *r, const tether__entry *e,
                                             size_t *len) {
  if (e->flags & TETHER__F_BUS) {
    const tether__slot *s = tether__slot_of(r, e);
    *len = s->len;
    return s->name;
  }
  *len = e->len;
  return e->tail;
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

/* The two words that identify a name of 1..16 bytes, given its length: two
 * overlapping loads (8..16 bytes: 8-byte words; 4..7: 4-byte words) or the
 * first, middle and last bytes (1..3), which cover every byte. They feed the hash,
 * and comparing them (with the length) compares the names. */
static inline void tether__key16(const char *s, size_t n, uint64_t *a, uint64_t *b) {
  if (TETHER__LIKELY(n >= 8)) {
    *a = tether__load64(s);
    *b = tether__load64(s + n - 8);
  } else if (n >= 4) {
    *a = tether__load32(s);
    *b = tether__load32(s + n - 4);
  } else {
    *a = (uint64_t)(unsigned char)s[0] << 16 | (uint64_t)(unsigned char)s[n >> 1] << 8 |
         (unsigned char)s[n - 1];
    *b = 0;
  }
}

/* Whether the N-byte name at S has the key words A and B (N in 1..16). */
static inline int tether__key16_eq(const char *s, size_t n, uint64_t a, uint64_t b) {
  uint64_t x, y;
  tether__key16(s, n, &x, &y);
  return x == a && y == b;
}

#define TETHER__HK0 0xa0761d6478bd642full
#define TETHER__HK1 0xe7037ed1a0b428dbull

/* The hash of a name of 1..16 bytes from its key words (equal to tether__hash). */
static inline uint64_t tether__hash16(uint64_t a, uint64_t b, size_t n) {
  return tether__mum(a ^ TETHER__HK1, b ^ TETHER__HK0 ^ (uint64_t)n);
}

/* The string hash: names up to 16 bytes (the common case) cost one 128-bit
 * multiplication of two overlapping loads; longer names take one per 16 bytes.
 * It beats byte-at-a-time hashes such as g_str_hash and needs no strlen of its own. */
static inline uint64_t tether__hash(const char *s, size_t n) {
  uint64_t a = 0, b = 0, seed = TETHER__HK0 ^ (uint64_t)n;
  if (n > 16) {
    const char *end = s + n;
    for (; end - s > 16; s += 16)
      seed = tether__mum(tether__load64(s) ^ TETHER__HK1, tether__load64(s + 8) ^ seed);
    a = tether__load64(end - 16);
    b = tether__load64(end - 8);
  } else if (n > 0) {
    tether__key16(s, n, &a, &b);
  }
  return tether__mum(a ^ TETHER__HK1, b ^ seed);
}

/* The length of S when it is at most 16 bytes, else 17. Dispatch needs it before
 * anything else. With SSE2 it reads the one or two aligned 16-byte blocks that
 * hold the name's first bytes: an aligned block never straddles a page, and the
 * second is read only when the name runs into it, so no read can fault (glibc's
 * strlen relies on the same). Valgrind's memcheck accepts it (partial loads of
 * aligned words are its default; the result depends only on defined bytes).
 * AddressSanitizer and ThreadSanitizer would report the bytes read past the NUL,
 * so their builds, and targets without SSE2, call strnlen. */
#if defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define TETHER__NO_OVERREAD 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__) || defined(TETHER_SANITIZE_THREAD)
#define TETHER__NO_OVERREAD 1
#endif
#if defined(__SSE2__) && !defined(TETHER__NO_OVERREAD)
#include <emmintrin.h>
static inline size_t tether__len17(const char *s) {
  uintptr_t p = (uintptr_t)s;
  const __m128i *a = (const __m128i *)(p & ~(uintptr_t)15);
  unsigned off = (unsigned)(p & 15);
  const __m128i z = _mm_setzero_si128();
  unsigned m = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(_mm_load_si128(a), z)) >> off;
  if (TETHER__LIKELY(m != 0)) return (size_t)__builtin_ctz(m);
  m = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(_mm_load_si128(a + 1), z));
  if (m == 0) return 17;
  size_t n = 16 - off + (size_t)__builtin_ctz(m);
  return n > 17 ? 17 : n;
}
#else
static inline size_t tether__len17(const char *s) {
  return strnlen(s, 17);
}
#endif

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

/* Finds NAME in T and returns its node (an entry or a slot) or NULL; sets *AT to
 * the bucket index (the empty bucket that ends the probe when not found).
 * Lock-free (inside a read section) or under the mutex. */
static inline void *tether__lookup_at(const tether__table *t, const char *name, size_t len,
                                      uint64_t h, size_t *at) {
  const uint64_t tag = tether__tag(h);
  size_t i = tether__home(t, h);
  for (;; i = (i + 1) & t->mask) {
    uint64_t w = atomic_load_explicit(&t->b[i], memory_order_acquire);
    if (w == 0) break;
    const tether__node *n;
    if (TETHER__LIKELY(w & 1)) {
      if ((w & TETHER__TAG_BITS) != tag) continue;
      n = (const tether__node *)(uintptr_t)(w & TETHER__PTR_MASK);
    } else {
      if (w == TETHER__TOMB) continue;
      n = (const tether__node *)(uintptr_t)w;
    }
    if (n->len == len && tether__name_eq(tether__node_name(n), name, len)) {
      *at = i;
      return (void *)(uintptr_t)n;
    }
  }
  *at = i;
  return NULL;
}

static inline void *tether__lookup(const tether__table *t, const char *name, size_t len,
                                   uint64_t h) {
  size_t at;
  return tether__lookup_at(t, name, len, h, &at);
}

/* Writer side (mutex held). */
tether__table *tether__table_new(tether_registry *r, size_t nbuckets);
int tether__table_reserve(tether_registry *r, tether__table **grown);
void tether__table_insert(tether_registry *r, void *node, uint64_t h, tether__table *grown);
void tether__table_set(tether_registry *r, size_t at, void *node, uint64_t h);
void tether__table_remove(tether_registry *r, size_t at);
uint64_t tether__node_hash(const void *node);
int tether__ids_reserve(tether_registry *r, uint64_t **grown, uint32_t *grown_cap);
void tether__ids_adopt(tether_registry *r, uint64_t *grown, uint32_t grown_cap);
void tether__ids_insert(tether_registry *r, tether__entry *e, tether__slot *s);
tether__entry *tether__ids_find(const tether_registry *r, tether_id id);
void tether__ids_remove(tether_registry *r, tether__entry *e);
/* The first of S's handlers (in order) for which MATCH returns non-zero, or NULL
 * (mutex held). MATCH may claim the entry it is shown. */
tether__entry *tether__slot_find(const tether__slot *s, int (*match)(tether__entry *e, void *arg),
                                 void *arg);
/* Calls VISIT for every registered entry (MAP entries in the table, entries in
 * slots), live or claimed, until it returns non-zero (mutex held). */
void tether__each_entry(tether_registry *r, int (*visit)(tether__entry *e, void *arg), void *arg);
int tether__site_intern(tether_registry *r, tether_site site, uint32_t *out);
void tether__sites_free(tether_registry *r);

/* ---- reclamation (reclaim.c) ---- */
extern pthread_mutex_t tether__g_mu;
/* This thread's identity (the address of its thread state): what a ref records. */
const void *tether__self(void);
/* Frames of user code that tether runs for a registry on this thread outside a
 * read section: destructors, walk visitors, leak reports, the background thread's
 * work. tether__busy_with tells whether one of KINDS is open for R; waits and
 * registry free refuse then. A frame is pushed and popped by scope (the cleanup
 * attribute), so a frame left by an exception or a thread exit is popped too. */
enum { TETHER__FR_DESTRUCTOR = 1, TETHER__FR_WALK = 2, TETHER__FR_BG = 4, TETHER__FR_HANDOFF = 8 };
typedef struct tether__frame {
  const tether_registry *reg;
  int kind;
  struct tether__frame *up;
} tether__frame;
void tether__frame_push(tether__frame *f, const tether_registry *r, int kind);
void tether__frame_pop(tether__frame *f);
int tether__busy_with(const tether_registry *r, int kinds);
#define TETHER__FRAME(name, r, kind)                                      \
  tether__frame name __attribute__((cleanup(tether__frame_pop), unused)); \
  tether__frame_push(&name, (r), (kind))
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
/* Hand-off of reader-claimed entries: push (lock-free, from dispatch) and finish
 * them all (any thread outside a read section of R that may take its locks). */
void tether__handoff(tether_registry *r, tether__entry *e, tether__why why);
void tether__handoff_finish(tether_registry *r);
/* Drops one reference to O's memory (owner.c); the last one frees it. */
void tether__owner_unref(tether_owner *o);
/* Whether O is the owner TETHER_SCOPED_OWNER gives when out of memory. */
int tether__owner_refuses(const tether_owner *o);
/* Notes that O has a registration in R (O's mutex held). 0 or TETHER_ENOMEM. */
int tether__owner_note_registry(tether_owner *o, const tether_registry *r);
/* Whether this thread runs user code of the registry with SERIAL: inside one of
 * its read sections, or in a destructor, walk or background work of it. */
int tether__thread_busy_in(uint64_t serial);
/* Calls VISIT with the live registry of SERIAL, its mutex held (no-op when it is
 * gone); returns VISIT's result, or 0. */
int tether__with_registry(uint64_t serial, int (*visit)(tether_registry *r, void *arg), void *arg);
void tether__register_registry(tether_registry *r);
void tether__unregister_registry(tether_registry *r);
/* Ends R's periodic profiles (TETHER_PROFILE) and waits until the background
 * thread is done with R: tether_registry_free's last profile is then written
 * alone, and last. */
void tether__stop_profiles(tether_registry *r);
void tether__free_recs(tether_registry *r);
/* Waits until every entry retired before the call has been destroyed
 * (TETHER__DRAIN_BARRIER: returns TETHER_EDEADLK, at once or while waiting, when
 * this thread holds a ref of a removed registration), or until limbo, zombies and
 * batches in flight are all empty (TETHER__DRAIN_ALL, for registry free). */
enum { TETHER__DRAIN_BARRIER = 0, TETHER__DRAIN_ALL = 1 };
int tether__drain(tether_registry *r, int mode);
/* Whether this thread holds a ref (taken by it) of a removed registration of R,
 * or of registration ID when ID is not 0 (mutex held). */
int tether__self_blocked_locked(const tether_registry *r, tether_id id);

/* Holds off cancellation for the rest of the scope: tether's waits (barrier,
 * unregister_sync, owner_free_sync, registry free) are not cancellation points.
 * Cancelled inside pthread_cond_wait a thread would unwind with the registry
 * mutex held; the cancellation is acted on at the caller's next cancellation
 * point instead. */
typedef struct tether__nocancel {
  int old;
} tether__nocancel;
static inline void tether__nocancel_end(tether__nocancel *n) {
  pthread_setcancelstate(n->old, NULL);
}
#define TETHER__NO_CANCEL(name)                                                 \
  tether__nocancel name __attribute__((cleanup(tether__nocancel_end), unused)); \
  pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &name.old)

/* A deadline NOW + TTL that saturates at UINT64_MAX instead of wrapping. */
static inline uint64_t tether__deadline(uint64_t now, uint64_t ttl) {
  return ttl > UINT64_MAX - now ? UINT64_MAX : now + ttl;
}

/* ---- removal (registry.c), entry claimed by the caller ---- */
void tether__finish_removal(tether_registry *r, tether__entry *e, tether__why why);
void tether__remove_locked(tether_registry *r, tether__entry *e, tether__why why);
void tether__owner_unlink_locked(tether_owner *o, tether__entry *e);

/* ---- call tracking (calls.c) ----
 * Each record keeps a flat array of count slots indexed by the id index of the
 * entry (a slot holds the entry's id, so a reused index starts again from 0).
 * An array that is too small is replaced by a bigger one, which links the old
 * one: the owning thread counts in whichever it loaded, readers sum the chain
 * (old arrays are never written again once replaced, and are freed with the
 * registry). A registration makes room for its index in every record before
 * anything is published. */
typedef struct tether__count_slot {
  _Atomic uint64_t id, n;
  _Atomic uint64_t tick; /* the registry's tick at this thread's last call of it */
} tether__count_slot;
typedef struct tether__count_dir {
  uint32_t cap;
  struct tether__count_dir *older;
  tether__count_slot slot[];
} tether__count_dir;
/* What registering one tracked entry needs: a bigger array for each record
 * whose array does not reach its index. */
typedef struct tether__calls_plan {
  struct tether__calls_grow *grow; /* NULL: nothing to do */
  size_t n;
} tether__calls_plan;
int tether__calls_reserve(tether_registry *r, tether__calls_plan *p, uint32_t idx);
void tether__calls_commit(tether_registry *r, tether__calls_plan *p, tether__entry *e);
void tether__calls_undo(tether_registry *r, tether__calls_plan *p);
/* A new record's array, sized to what the registry's indexes need now
 * (tether__g_mu held). 0 or TETHER_ENOMEM. */
int tether__calls_attach(tether_registry *r, tether__rec *c);
void tether__calls_free(tether_registry *r, tether__rec *c);
/* Counts one call of tracked entry E on this thread (record C, NULL: look it
 * up): dispatch. The common case is inline; the rest in calls.c. */
void tether__count_call_slow(tether__rec *c, tether__track *t, uint64_t tick);
static inline void tether__count_call(tether_registry *r, tether__rec *c, const tether__entry *e) {
  tether__track *t = (tether__track *)(void *)((char *)(uintptr_t)e + tether__opt_base(e->flags, e->len));
  tether__count_dir *d = c ? atomic_load_explicit(&c->counts, memory_order_acquire) : NULL;
  uint64_t tick = atomic_load_explicit(&r->tick_ms, memory_order_relaxed);
  if (TETHER__LIKELY(d != NULL && t->idx < d->cap)) {
    tether__count_slot *s = &d->slot[t->idx];
    if (TETHER__LIKELY(atomic_load_explicit(&s->id, memory_order_relaxed) == t->id)) {
      atomic_store_explicit(&s->n, atomic_load_explicit(&s->n, memory_order_relaxed) + 1, memory_order_relaxed);
      atomic_store_explicit(&s->tick, tick, memory_order_relaxed);
      return;
    }
  }
  tether__count_call_slow(c, t, tick);
}
/* E's calls so far, and the tick of the last (0: never called); mutex held, or a
 * snapshot being taken under it. */
uint64_t tether__calls_of(const tether_registry *r, const tether__entry *e, uint64_t *last_tick);
/* The index tether__ids_insert will give the next registration. */
uint32_t tether__ids_next_index(const tether_registry *r);

/* ---- registering stacks and loaded objects (stack.c) ---- */
/* Fills PCS with up to DEPTH return addresses of the caller of the public
 * registering function and its callers; returns how many. */
size_t tether__stack_capture(uintptr_t *pcs, size_t depth);
void tether__stack_warm(void);

/* tether_sweep, also counting the registrations with a TTL it looked at. */
size_t tether__sweep(tether_registry *r, size_t *scanned);

/* ---- exports (export.c): the background thread's periodic profiles and trace ---- */
int tether__export_init(tether_registry *r);
void tether__export_free(tether_registry *r);
/* Writes R's periodic profile now (the background thread, or registry free). */
void tether__export_profile(tether_registry *r);
/* One TETHER_DEBUG=trace line for a pass of the background thread. */
void tether__export_trace(tether_registry *r, uint64_t t0_ns, size_t scanned, size_t expired,
                          uint64_t destructors);
uint64_t tether__mono_ns(void);

/* ---- diagnostics (diag.c) ---- */
uint64_t tether__sat_add(uint64_t a, uint64_t b);
/* The live registrations, copied under the mutex together with the stats, oldest
 * first: one allocation of the registry's allocator. v[i]'s name is copied; its
 * site's strings are the registry's (stable until it is freed); site[i] is its
 * interned site; with STACKS, its registering stack is pcs[stack_at[i]], of
 * stack_len[i] frames. */
typedef struct tether__snap {
  tether_registry *reg; /* for the cleanup of a scope that owns the snapshot */
  tether_info *v;
  size_t n;
  uint32_t *site;
  size_t *stack_at;
  uint32_t *stack_len;
  uintptr_t *pcs;
  const tether__site_rec *sites;
  tether_stats st;
  uint64_t now;
  void *mem;
  size_t size;
} tether__snap;
/* Returns how many registrations were copied, or TETHER_ENOMEM. */
int tether__snapshot(tether_registry *r, tether__snap *s, int stacks);
void tether__snap_free(tether_registry *r, tether__snap *s);
/* Registrations of a snapshot grouped by site (compared by text), most bytes
 * first; KEEP (may be NULL) selects. Returns how many groups, or TETHER_ENOMEM;
 * free with tether__groups_free. */
typedef struct tether__site_group {
  tether_site site;
  uint64_t count, bytes;
  size_t first; /* index of the first member in the snapshot */
} tether__site_group;
int tether__group_sites(tether_registry *r, const tether__snap *s, int (*keep)(const tether_info *in, void *arg),
                        void *arg, tether__site_group **out, size_t *nout);
void tether__groups_free(tether_registry *r, tether__site_group *g, const tether__snap *s);
void tether__report_survivors(tether_registry *r);
/* A malloc'd text listing the refs and topics held, with where each was taken
 * (mutex held; NULL when out of memory), and its printing by the rules of the
 * leak report (the text is freed). */
char *tether__describe_held_locked(const tether_registry *r);
void tether__report_held(tether_registry *r, char *text);

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

/* ---- the per-thread cache: the last registry this thread entered ----
 * Without membarrier the cached serial carries TETHER__TLS_FENCED, so an exact
 * match (what dispatch's fast path tests) also means readers need no fence. */
typedef struct tether__tls_cache {
  uint64_t serial;
  tether__rec *rec;
} tether__tls_cache;
#if defined(TETHER_SANITIZE_THREAD)
/* TSan builds never use membarrier: their fast path fences, so that TSan checks it. */
#define TETHER__TLS_FENCED 0ull
#define TETHER__FAST_FENCED 1
#else
#define TETHER__TLS_FENCED (1ull << 63)
#define TETHER__FAST_FENCED 0
#endif
extern TETHER__TLS tether__tls_cache tether__tls_last __attribute__((visibility("hidden")));
extern int tether__use_membarrier __attribute__((visibility("hidden")));

static inline tether__rec *tether__rec_get(tether_registry *r) {
  if (TETHER__LIKELY(tether__tls_last.serial == r->serial)) return tether__tls_last.rec;
  return tether__rec_slow(r);
}

/* The outermost entry of a read section publishes the registry's epoch in the
 * thread's record (never 0); a nested one (a callback that emits again) finds it
 * non-zero and leaves it, so nesting costs no counter. Returns whether this entry
 * is the outermost. FENCED: no membarrier, so the reader pays the full fence that
 * orders the record store before its loads of shared pointers (with membarrier
 * the writer supplies it). */
static inline int tether__epoch_in(tether_registry *r, tether__rec *c, int fenced) {
  int outer = atomic_load_explicit(&c->epoch, memory_order_relaxed) == 0;
  if (TETHER__LIKELY(outer)) {
    atomic_store_explicit(&c->epoch, atomic_load_explicit(&r->epoch, memory_order_acquire),
                          memory_order_release);
    if (fenced)
      TETHER__FULL_FENCE();
    else
      atomic_signal_fence(memory_order_seq_cst);
  }
  return outer;
}

/* The outermost exit: clears the epoch, then answers a writer whose epoch advance
 * it blocked (guarantee 5, docs/design.md). */
static inline void tether__epoch_out(tether__rec *c, int outer, int fenced) {
  assert(atomic_load_explicit(&c->epoch, memory_order_relaxed) != 0);
  if (TETHER__LIKELY(outer)) {
    atomic_store_explicit(&c->epoch, 0, memory_order_release);
    /* The help load must not be hoisted above the store: with membarrier the
     * hardware order is the writer's business, the compiler's is ours. */
    if (fenced)
      TETHER__FULL_FENCE();
    else
      atomic_signal_fence(memory_order_seq_cst);
    if (TETHER__UNLIKELY(atomic_load_explicit(&c->help, memory_order_relaxed)))
      tether__help(c->reg, c);
  }
}

/* The fast pair, for dispatch: enters through the one-entry record cache and
 * returns 1; returns 0 on a miss (the caller takes the general path). An exact
 * hit means membarrier is in use (TETHER__TLS_FENCED), so no fence test. */
static inline int tether__enter_fast(tether_registry *r, tether__rec **cp, int *outer) {
  if (TETHER__UNLIKELY(tether__tls_last.serial != r->serial)) return 0;
  *cp = tether__tls_last.rec;
  *outer = tether__epoch_in(r, *cp, TETHER__FAST_FENCED);
  return 1;
}

static inline void tether__leave_fast(tether__rec *c, int outer) {
  tether__epoch_out(c, outer, TETHER__FAST_FENCED);
}

/* Enters a read section; returns the thread's record or NULL (out of memory),
 * and sets *OUTER when this is the outermost entry of this thread. */
static inline tether__rec *tether__enter(tether_registry *r, int *outer) {
  tether__rec *c = tether__rec_get(r);
  if (TETHER__UNLIKELY(c == NULL)) return NULL;
  *outer = tether__epoch_in(r, c, !tether__use_membarrier);
  return c;
}

static inline void tether__leave(tether__rec *c, int outer) {
  tether__epoch_out(c, outer, !tether__use_membarrier);
}

/* A read section closed by scope: the cleanup attribute leaves it when the
 * block ends, by return, by goto, or by unwinding (a C++ exception, pthread_exit
 * or cancellation inside a handler: the library is built with -fexceptions), so a
 * thread never stays "inside" after leaving a handler abnormally. */
typedef struct tether__section {
  tether__rec *c;
  int outer;
} tether__section;
static inline void tether__section_end(tether__section *s) {
  tether__leave(s->c, s->outer);
}
static inline void tether__section_end_fast(tether__section *s) {
  tether__leave_fast(s->c, s->outer);
}
#define TETHER__SECTION(name) \
  tether__section name __attribute__((cleanup(tether__section_end), unused))
#define TETHER__SECTION_FAST(name) \
  tether__section name __attribute__((cleanup(tether__section_end_fast), unused))

#endif /* TETHER_INTERNAL_H */
