/* Dispatch: tether_emit, tether_call, tether_topic_emit, tether_ref_call and
 * tether_count, lock-free.
 *
 * Guarantees kept here:
 * - A handler is called only after its entry's state word was seen LIVE (and, for
 *   an entry with a TTL, its deadline not reached), right before the call, so no
 *   call starts after a removal returned, nor at or after the deadline.
 * - Dispatch takes no mutex and runs no destructor: a TETHER_ONCE or expired
 *   entry is claimed with one compare-and-swap and handed to the background
 *   thread (tether__handoff), which finishes its removal.
 * - The expiry claim compares the whole state word read before the deadline:
 *   tether_touch bumps it, so a reader that read the old deadline retries.
 * - A MAP entry claimed by TETHER_REPLACE is marked replaced after its successor
 *   was published: a reader that finds it looks the name up again, so it calls
 *   the old or the new handler, never neither.
 * - The read section is closed by scope (TETHER__SECTION): a handler that throws
 *   or ends its thread leaves it as if it had returned, and a TETHER_ONCE call
 *   that does not return still hands its entry off. */
#include "internal.h"

/* What calling one entry did; AGAIN: it was replaced, look the name up again. */
enum { SKIPPED = 0, CALLED = 1, AGAIN = -1000 };

/* A claimed TETHER_ONCE entry whose one call is running: handed off when the
 * call ends, however it ends. */
typedef struct once_call {
  tether_registry *r;
  tether__entry *e;
} once_call;

static void once_call_end(once_call *oc) {
  tether__handoff(oc->r, oc->e, TETHER__BY_ONCE);
}

/* The result for an entry found no longer live (state word S). */
static int not_live(uint32_t s) {
  return (s & TETHER__S_REPLACED) ? AGAIN : SKIPPED;
}

/* The rare cases of call_entry (state word S, LIVE and slow): an entry with a TTL,
 * or TETHER_ONCE. An expired entry is claimed by comparing the whole word S read
 * before its deadline: a tether_touch in between changed the word, the claim
 * fails, and the deadline is read again. */
static __attribute__((noinline)) int call_entry_slow(tether_registry *r, tether__entry *e,
                                                     uint32_t s, void *arg, int *ret) {
  for (;;) {
    uint64_t exp = atomic_load_explicit(&e->expires_at, memory_order_relaxed);
    if (exp == 0 || tether__now(r) < exp) break;
    uint32_t claimed = (s & ~TETHER__STATE_MASK) | TETHER__CLAIMED;
    if (atomic_compare_exchange_strong_explicit(&e->state, &s, claimed, memory_order_acq_rel,
                                                memory_order_acquire)) {
      tether__handoff(r, e, TETHER__BY_EXPIRY);
      return SKIPPED;
    }
    if ((s & TETHER__STATE_MASK) != TETHER__LIVE) return not_live(s);
  }
  if (e->flags & TETHER__F_ONCE) {
    if (!tether__claim(e)) return not_live(atomic_load_explicit(&e->state, memory_order_acquire));
    if (e->flags & TETHER__F_TRACK) tether__count_call(r, tether__rec_peek(r), e);
    once_call oc __attribute__((cleanup(once_call_end), unused)) = {r, e};
    *ret = e->fn(e->ctx, arg);
    return CALLED;
  }
  if (e->flags & TETHER__F_TRACK) tether__count_call(r, tether__rec_peek(r), e);
  *ret = e->fn(e->ctx, arg);
  return CALLED;
}

/* Calls E if it is live and not expired; TETHER_ONCE entries are claimed first.
 * An entry without TTL or ONCE costs one load: its state word. */
static inline __attribute__((always_inline)) int call_entry(tether_registry *r, tether__entry *e,
                                                            void *arg, int *ret) {
  uint32_t s = atomic_load_explicit(&e->state, memory_order_acquire);
  if ((s & TETHER__STATE_MASK) != TETHER__LIVE) return not_live(s);
  if (TETHER__UNLIKELY(s & TETHER__S_SLOW)) return call_entry_slow(r, e, s, arg, ret);
  *ret = e->fn(e->ctx, arg);
  return CALLED;
}

/* Calls the handlers of S in order; FIRST_ONLY stops after one call. Returns how
 * many were called. A MAP slot's single handler that was replaced is followed to
 * its successor, which the slot holds by then. */
static inline __attribute__((always_inline)) int dispatch(tether_registry *r, const tether__slot *s,
                                                          void *arg, int first_only, int *ret) {
  for (;;) {
    uintptr_t h = atomic_load_explicit(&s->handlers, memory_order_acquire);
    if (h == 0) return 0;
    if (!tether__is_array(h)) {
      int k = call_entry(r, (tether__entry *)h, arg, ret);
      if (k != AGAIN) return k;
      continue;
    }
    const tether__array *a = tether__as_array(h);
    int called = 0;
    for (uint32_t i = 0; i < a->n; i++) {
      tether__entry *e = atomic_load_explicit(&a->e[i], memory_order_acquire);
      if (e == NULL || call_entry(r, e, arg, ret) != CALLED) continue;
      called++;
      if (first_only || *ret == TETHER_STOP) break;
    }
    return called;
  }
}

/* Calls NODE: a slot's handlers (BUS, or a topic-pinned MAP name), or an entry
 * that is live and not expired. Returns how many were called, or AGAIN for a MAP
 * entry that was replaced. RET may be NULL (tether_emit does not keep the
 * handlers' values). What the fast path hands on, and the general path's call. */
static __attribute__((noinline)) int dispatch_node(tether_registry *r, const tether__node *node,
                                                   void *arg, int first_only, int *ret) {
  int discard;
  if (ret == NULL) ret = &discard;
  if (node->flags & TETHER__F_SLOT)
    return dispatch(r, (const tether__slot *)node, arg, first_only, ret);
  return call_entry(r, (tether__entry *)(uintptr_t)node, arg, ret);
}

/* Emit and call for any name (the fast path below takes names of 1..16 bytes). */
static __attribute__((noinline)) int emit_general(tether_registry *r, const char *name, void *arg,
                                                  int first_only, int *ret) {
  size_t len = 0;
  if (r == NULL) return TETHER_EINVAL;
  int rc = tether__check_name(name, &len);
  if (rc != 0) return rc;
  uint64_t h = tether__hash(name, len);
  tether__rec *c = tether__rec_get(r);
  if (c == NULL) return TETHER_ENOMEM;
  TETHER__SECTION(sec) = {c, tether__epoch_in(r, c, !tether__use_membarrier)};
  for (;;) {
    const tether__node *node =
        tether__lookup(atomic_load_explicit(&r->table, memory_order_acquire), name, len, h);
    if (node == NULL) return 0;
    int n = dispatch_node(r, node, arg, first_only, ret);
    if (n != AGAIN) return n;
  }
}

/* D = D0 when D0 has no bit under TMASK, else D unchanged: a conditional move,
 * since whether a name sits in the first or the second bucket of its pair is a
 * coin toss no branch predictor learns (gcc turns the C into a branch, and
 * keeping it a cmov by other means costs it spills). */
#if defined(__x86_64__)
#define TETHER__PICK_IF_CLEAR(d, d0, tmask) \
  __asm__("test %2, %1\n\tcmovz %1, %0" : "+r"(d) : "r"(d0), "r"(tmask) : "cc")
#else
#define TETHER__PICK_IF_CLEAR(d, d0, tmask) ((d) = ((d0) & (tmask)) == 0 ? (d0) : (d))
#endif

/* Dispatch's probe past the home pair of buckets at I: the node pointer of the
 * first word that carries HTAG's tag, 0 when the name is absent, or 1 when the
 * general path must decide (an untagged node pointer, compared by name there).
 * Out of line: the home pair holds the name most of the time. */
static __attribute__((noinline)) uint64_t probe_pairs(const tether__table *t, size_t i,
                                                      uint64_t htag) {
  for (;; i = (i + 2) & t->mask) {
    uint64_t w0 = atomic_load_explicit(&t->b[i], memory_order_acquire);
    uint64_t w1 = atomic_load_explicit(&t->b[i + 1], memory_order_acquire);
    if (((w0 ^ htag) & TETHER__TAG_BITS) == 0) return w0 ^ htag;
    if (((w1 ^ htag) & TETHER__TAG_BITS) == 0) return w1 ^ htag;
    if (w0 == 0 || w1 == 0) return 0;
    if ((!(w0 & 1) && w0 != TETHER__TOMB) || (!(w1 & 1) && w1 != TETHER__TOMB)) return 1;
  }
}

/* Emit and call, inlined into both: names of 1..16 bytes are hashed and compared
 * through the same two key words, and the common MAP entry (no TTL, no ONCE) is
 * called right here; the handler is the only call (strnlen too in sanitizer
 * builds). docs/design.md, "Guarantee 9", walks through it. */
static inline __attribute__((always_inline)) int emit_name(tether_registry *r, const char *name,
                                                           void *arg, int first_only, int *ret) {
  if (TETHER__UNLIKELY(r == NULL || name == NULL)) return TETHER_EINVAL;
  size_t len = tether__len17(name);
  if (TETHER__UNLIKELY(len - 1 >= 16)) return emit_general(r, name, arg, first_only, ret);
  uint64_t ka, kb;
  tether__key16(name, len, &ka, &kb);
  uint64_t h = tether__hash16(ka, kb, len);
  /* This thread's record from the one-entry cache. An exact hit also means
   * membarrier is in use, so entering is one store and needs no fence (see
   * TETHER__TLS_FENCED); a miss takes the general path. */
  if (TETHER__UNLIKELY(tether__tls_last.serial != r->serial))
    return emit_general(r, name, arg, first_only, ret);
  {
    tether__rec *c = tether__tls_last.rec;
    TETHER__SECTION_FAST(sec) = {c, tether__epoch_in(r, c, TETHER__FAST_FENCED)};
    const tether__table *t = atomic_load_explicit(&r->table, memory_order_acquire);
    /* The home pair of buckets, the tag match picked without a branch; when
     * neither word matches, probe_pairs goes on out of line. Anything unusual (a
     * tag shared by another name, an untagged pointer, a replaced entry) leaves
     * the section and takes the general path. */
    const uint64_t tmask = TETHER__TAG_BITS, htag = tether__tag(h);
    size_t i = tether__home(t, h);
    uint64_t d0 = atomic_load_explicit(&t->b[i], memory_order_acquire) ^ htag;
    uint64_t d = atomic_load_explicit(&t->b[i + 1], memory_order_acquire) ^ htag;
    TETHER__PICK_IF_CLEAR(d, d0, tmask);
    if (TETHER__UNLIKELY((d & tmask) != 0)) {
      d = probe_pairs(t, i, htag);
      if (d == 0) return 0;
      if (d == 1) goto general;
    }
    const tether__node *node = (const tether__node *)(uintptr_t)d;
    if (TETHER__UNLIKELY(node->len != len ||
                         !tether__key16_eq(tether__node_name(node), len, ka, kb)))
      goto general; /* another name with the same tag */
    /* One word decides: 0 is a live entry without TTL or ONCE. Slots, and
     * entries that are removed or need a check, take dispatch_node; a tracked
     * entry with nothing else to check is counted and called here. */
    const tether__entry *e = (const tether__entry *)node;
    uint32_t st = atomic_load_explicit(&e->state, memory_order_acquire);
    if (TETHER__LIKELY(st == 0)) {
      int v = e->fn(e->ctx, arg);
      if (ret != NULL) *ret = v;
      return 1;
    }
    if (TETHER__LIKELY((st & ~(TETHER__S_VERSION_MASK)) == TETHER__S_SLOW &&
                       (e->flags & (TETHER__F_TRACK | TETHER__F_ONCE | TETHER__F_SLOT)) == TETHER__F_TRACK &&
                       atomic_load_explicit(&e->expires_at, memory_order_relaxed) == 0)) {
      tether__count_call(r, c, e);
      int v = e->fn(e->ctx, arg);
      if (ret != NULL) *ret = v;
      return 1;
    }
    int n = dispatch_node(c->reg, node, arg, first_only, ret);
    if (n != AGAIN) return n;
  }
general:
  return emit_general(r, name, arg, first_only, ret);
}

int tether_emit(tether_registry *r, const char *name, void *arg) {
  return emit_name(r, name, arg, 0, NULL);
}

int tether_call(tether_registry *r, const char *name, void *arg, int *result) {
  int ret = 0;
  int n = emit_name(r, name, arg, 1, &ret);
  if (n < 0) return n;
  if (n == 0) return TETHER_ENOENT;
  if (result != NULL) *result = ret;
  return 0;
}

/* tether_topic_emit when the fast path does not apply: no cached record. */
static __attribute__((noinline)) int topic_emit_general(tether_topic *t, void *arg) {
  tether_registry *r = t->reg;
  int ret = 0;
  tether__rec *c = tether__rec_get(r);
  if (c == NULL) return TETHER_ENOMEM;
  TETHER__SECTION(sec) = {c, tether__epoch_in(r, c, !tether__use_membarrier)};
  return dispatch(r, t->slot, arg, 0, &ret);
}

/* A topic with one plain handler (no TTL, no ONCE) calls it inline; anything else
 * (several handlers, none, a check to make) goes through dispatch_node. */
int tether_topic_emit(tether_topic *t, void *arg) {
  if (t == NULL) return TETHER_EINVAL;
  tether_registry *r = t->reg;
  if (TETHER__UNLIKELY(tether__tls_last.serial != r->serial)) return topic_emit_general(t, arg);
  tether__rec *c = tether__tls_last.rec;
  TETHER__SECTION_FAST(sec) = {c, tether__epoch_in(r, c, TETHER__FAST_FENCED)};
  const tether__slot *s = t->slot;
  uintptr_t h = atomic_load_explicit(&s->handlers, memory_order_acquire);
  const tether__entry *e = (const tether__entry *)h;
  if (TETHER__LIKELY(h != 0 && !(h & 1) &&
                     atomic_load_explicit(&e->state, memory_order_acquire) == 0)) {
    e->fn(e->ctx, arg);
    return 1;
  }
  return dispatch_node(r, (const tether__node *)s, arg, 0, NULL);
}

int tether_ref_call(tether_ref *ref, void *arg, int *result) {
  if (ref == NULL) return TETHER_EINVAL;
  tether_registry *r = ref->reg;
  int ret = 0, n;
  /* The ref keeps the entry alive; the read section marks this thread as inside
   * a callback, so a barrier from the handler reports TETHER_EDEADLK. */
  tether__rec *c = tether__rec_get(r);
  if (c == NULL) return TETHER_ENOMEM;
  {
    TETHER__SECTION(sec) = {c, tether__epoch_in(r, c, !tether__use_membarrier)};
    n = call_entry(r, ref->entry, arg, &ret);
  }
  if (n != CALLED) return TETHER_ENOENT;
  if (result != NULL) *result = ret;
  return 0;
}

/* Whether E would be called now: live, and before its deadline. */
static int callable(const tether_registry *r, const tether__entry *e) {
  uint32_t s = atomic_load_explicit(&e->state, memory_order_acquire);
  if ((s & TETHER__STATE_MASK) != TETHER__LIVE) return 0;
  uint64_t exp =
      (s & TETHER__S_SLOW) ? atomic_load_explicit(&e->expires_at, memory_order_relaxed) : 0;
  return exp == 0 || tether__now(r) < exp;
}

int tether_count(tether_registry *r, const char *name) {
  size_t len = 0;
  if (r == NULL) return TETHER_EINVAL;
  int rc = tether__check_name(name, &len);
  if (rc != 0) return rc;
  uint64_t h = tether__hash(name, len);
  tether__rec *c = tether__rec_get(r);
  if (c == NULL) return TETHER_ENOMEM;
  TETHER__SECTION(sec) = {c, tether__epoch_in(r, c, !tether__use_membarrier)};
  for (;;) {
    const tether__node *node =
        tether__lookup(atomic_load_explicit(&r->table, memory_order_acquire), name, len, h);
    if (node == NULL) return 0;
    if (!(node->flags & TETHER__F_SLOT)) {
      const tether__entry *e = (const tether__entry *)node;
      if (callable(r, e)) return 1;
      if (!(atomic_load_explicit(&e->state, memory_order_acquire) & TETHER__S_REPLACED)) return 0;
      continue; /* replaced: its successor is in the table */
    }
    const tether__slot *s = (const tether__slot *)node;
    uintptr_t hv = atomic_load_explicit(&s->handlers, memory_order_acquire);
    if (hv == 0) return 0;
    if (!tether__is_array(hv)) {
      const tether__entry *e = (const tether__entry *)hv;
      if (callable(r, e)) return 1;
      if (!(atomic_load_explicit(&e->state, memory_order_acquire) & TETHER__S_REPLACED)) return 0;
      continue;
    }
    const tether__array *a = tether__as_array(hv);
    int n = 0;
    for (uint32_t i = 0; i < a->n; i++) {
      const tether__entry *e = atomic_load_explicit(&a->e[i], memory_order_acquire);
      if (e != NULL && callable(r, e)) n++;
    }
    return n;
  }
}
