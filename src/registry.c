/* The registry: creation and teardown, registration, removal of every kind, the
 * lifecycle of topics and refs, and TTL (dispatch is in dispatch.c).
 *
 * Guarantees kept here:
 * - Removal is claimed with one CAS on the entry's state (LIVE -> CLAIMED), so
 *   exactly one of unregister, replace, owner free, expiry, TETHER_ONCE and
 *   registry free removes an entry, and its destructor is queued exactly once.
 * - The claimer unlinks the entry under the mutex (name slot, id index, owner)
 *   and retires it; reclaim.c destroys it after the grace period.
 * - A replacing MAP entry is published before the replaced one is claimed, and
 *   the claim marks it replaced, so readers see one or the other.
 * - tether_touch changes the deadline and bumps the state word under the mutex,
 *   so a reader's expiry claim based on the old deadline fails.
 * - Every operation allocates what it needs before it publishes anything, so
 *   TETHER_ENOMEM leaves the registry as it was. Removal never allocates.
 * - Once tether_registry_free has started, registrations, topics and refs are
 *   refused, so the destructors it runs cannot add to what it frees. */
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "internal.h"

static void *std_alloc(void *ud, size_t size) {
  (void)ud;
  return malloc(size);
}

static void std_free(void *ud, void *p, size_t size) {
  (void)ud;
  (void)size;
  free(p);
}

/* Where an entry's copied context starts, and its size, from what entry_new
 * knows: flags, name length, ctx_size and stack depth. See struct tether__entry. */
static size_t copy_offset(unsigned flags, size_t len, size_t depth) {
  size_t end = (flags & (TETHER__F_SIZED | TETHER__F_OWNED | TETHER__F_NOTIFY | TETHER__F_TRACK |
                         TETHER__F_STACK))
                   ? tether__opt_offset(flags, len, TETHER__F_STACK)
                   : sizeof(tether__entry) + ((flags & TETHER__F_BUS) ? 0 : len + 1);
  if (flags & TETHER__F_STACK) end += sizeof(tether__stack) + depth * sizeof(uintptr_t);
  return (flags & TETHER__F_COPY) ? tether__align(end, 16) : end;
}

static size_t entry_layout_size(unsigned flags, size_t len, size_t ctx_size, size_t depth) {
  return copy_offset(flags, len, depth) + ((flags & TETHER__F_COPY) ? ctx_size : 0);
}

size_t tether__entry_size(const tether__entry *e) {
  const tether__stack *st = tether__stack_of(e);
  return entry_layout_size(e->flags, e->len, tether__ctx_size(e), st ? (size_t)st->depth : 0);
}

size_t tether__slot_size(uint32_t len) {
  return sizeof(tether__slot) + len + 1;
}

size_t tether__array_size(uint32_t n) {
  return sizeof(tether__array) + n * sizeof(_Atomic(tether__entry *));
}

/* ---- lifecycle ---- */

int tether_registry_new(tether_registry **out, const tether_options *opts) {
  static const tether_options defaults;
  if (out == NULL) return TETHER_EINVAL;
  *out = NULL;
  if (opts == NULL) opts = &defaults;
  if (opts->mode != TETHER_MAP && opts->mode != TETHER_BUS) return TETHER_EINVAL;
  if (opts->allocator && (!opts->allocator->alloc || !opts->allocator->free)) return TETHER_EINVAL;
  if (opts->capture_stack > TETHER_STACK_MAX) return TETHER_EINVAL;
  int rc = tether__global_init();
  if (rc != 0) return rc;
  tether_allocator a =
      opts->allocator ? *opts->allocator : (tether_allocator){std_alloc, std_free, NULL};
  tether_registry *r = a.alloc(a.ud, sizeof *r);
  if (r == NULL) return TETHER_ENOMEM;
  memset((void *)r, 0, sizeof *r);
  r->alloc = a;
  r->mode = opts->mode;
  r->clock_ms = opts->clock_ms ? opts->clock_ms : tether__default_clock_ms;
  r->clock_ud = opts->clock_ud;
  r->leak_report = opts->leak_report;
  atomic_init(&r->epoch, 1);
  atomic_init(&r->recs, NULL);
  atomic_init(&r->bg_armed, 0);
  atomic_init(&r->destructors_run, 0);
  r->track_calls = opts->track_calls != 0;
  r->never_called_ms = opts->never_called_ms;
  r->capture_stack = opts->capture_stack;
  r->metrics_top_sites = opts->metrics_top_sites ? opts->metrics_top_sites : 50;
  tether__table *t = tether__table_new(r, TETHER__TABLE_INIT);
  if (t == NULL || tether__export_init(r) != 0) {
    if (t) tether__free(r, t, tether__table_size(t->mask));
    a.free(a.ud, r, sizeof *r);
    return TETHER_ENOMEM;
  }
  atomic_init(&r->table, t);
  pthread_mutex_init(&r->mu, NULL);
  pthread_cond_init(&r->done_cv, NULL);
  r->created_ms = tether__now(r);
  atomic_init(&r->tick_ms, r->created_ms);
  r->sweep_interval_ms = opts->sweep_interval_ms;
  if (r->capture_stack) tether__stack_warm();
  tether__register_registry(r);
  /* Scrambles the generation half of ids, so another registry's ids miss. */
  r->id_salt = (r->serial * 0x9e3779b97f4a7c15ull) << 32;
  if (r->sweep_interval_ms > 0 || r->track_calls || r->profile_dir) {
    /* The background thread's periodic work for this registry, then a ring so
     * that it sees the new schedule. */
    uint64_t now = tether__default_clock_ms(NULL);
    pthread_mutex_lock(&tether__g_mu);
    r->next_sweep_ms = now + r->sweep_interval_ms;
    r->next_tick_ms = now + TETHER_TICK_MS;
    r->next_profile_ms = now + r->profile_interval_ms;
    pthread_mutex_unlock(&tether__g_mu);
    tether__arm(r, r->sweep_interval_ms ? r->sweep_interval_ms : TETHER_TICK_MS);
    /* Not armed for a reclaim, though: left set, the flag would make each
     * writer's arm until that due time return early, and destructors would
     * wait for the first tick or sweep. */
    atomic_store_explicit(&r->bg_armed, 0, memory_order_release);
  }
  *out = r;
  return 0;
}

/* ---- handlers of a slot ---- */

/* Whether S has any handler, live or claimed (mutex held). */
static int slot_empty(const tether__slot *s) {
  uintptr_t h = atomic_load_explicit(&s->handlers, memory_order_relaxed);
  return h == 0 || (tether__is_array(h) && tether__as_array(h)->live == 0);
}

static int is_live(tether__entry *e, void *arg) {
  (void)arg;
  return tether__state(e) == TETHER__LIVE;
}

/* The live handler of S in MAP mode, or NULL (mutex held). */
static tether__entry *slot_live_single(const tether__slot *s) {
  return tether__slot_find(s, is_live, NULL);
}

/* Builds the array that adds E after S's current handlers (BUS), dropping the
 * holes left by removals. Returns NULL when out of memory. When S has no handler
 * nothing is needed: *none_needed is set. */
static tether__array *array_with(tether_registry *r, const tether__slot *s, tether__entry *e,
                                 int *none_needed) {
  uintptr_t h = atomic_load_explicit(&s->handlers, memory_order_relaxed);
  *none_needed = 0;
  if (slot_empty(s)) {
    *none_needed = 1;
    return NULL;
  }
  uint32_t n = tether__is_array(h) ? tether__as_array(h)->live + 1 : 2;
  tether__array *a = tether__alloc(r, tether__array_size(n));
  if (a == NULL) return NULL;
  a->n = n;
  a->live = n;
  uint32_t k = 0;
  if (!tether__is_array(h)) {
    atomic_init(&a->e[k++], (tether__entry *)h);
  } else {
    tether__array *old = tether__as_array(h);
    for (uint32_t i = 0; i < old->n; i++) {
      tether__entry *x = atomic_load_explicit(&old->e[i], memory_order_relaxed);
      if (x != NULL) atomic_init(&a->e[k++], x);
    }
  }
  atomic_init(&a->e[k++], e);
  assert(k == n);
  return a;
}

/* Takes E out of S's handlers in place (mutex held). Never allocates. */
static void slot_unlink(tether_registry *r, tether__slot *s, tether__entry *e) {
  uintptr_t h = atomic_load_explicit(&s->handlers, memory_order_relaxed);
  if (h == (uintptr_t)e) {
    atomic_store_explicit(&s->handlers, 0, memory_order_release);
  } else if (tether__is_array(h)) {
    tether__array *a = tether__as_array(h);
    for (uint32_t i = 0; i < a->n; i++) {
      if (atomic_load_explicit(&a->e[i], memory_order_relaxed) == e) {
        atomic_store_explicit(&a->e[i], NULL, memory_order_release);
        if (--a->live == 0) {
          atomic_store_explicit(&s->handlers, 0, memory_order_release);
          tether__retire_obj(r, &a->retire, TETHER__K_ARRAY);
        }
        break;
      }
    }
  }
}

/* Removes S from the table once it has no handler and no topic (mutex held). */
static void slot_maybe_drop(tether_registry *r, tether__slot *s) {
  if (s->topic_refs > 0 || !slot_empty(s)) return;
  uintptr_t h = atomic_load_explicit(&s->handlers, memory_order_relaxed);
  if (h != 0) {
    atomic_store_explicit(&s->handlers, 0, memory_order_release);
    tether__retire_obj(r, &tether__as_array(h)->retire, TETHER__K_ARRAY);
  }
  size_t at;
  tether__table *t = atomic_load_explicit(&r->table, memory_order_relaxed);
  void *n = tether__lookup_at(t, s->name, s->len, tether__node_hash(s), &at);
  assert(n == s);
  (void)n;
  tether__table_remove(r, at);
  tether__retire_obj(r, &s->retire, TETHER__K_SLOT);
}

/* ---- removal ---- */

/* Whether E's TTL has run out (mutex held, or E claimed). An expired entry is
 * gone for every call that names it: one that finds it removes it as expired. */
static int expired_now(const tether_registry *r, const tether__entry *e) {
  uint64_t exp = atomic_load_explicit(&e->expires_at, memory_order_relaxed);
  return exp != 0 && tether__now(r) >= exp;
}

static void count_removal(tether_registry *r, const tether__entry *e, tether__why why) {
  r->st.live--;
  r->live_bytes -= tether__ctx_size(e);
  switch (why) {
    case TETHER__BY_UNREGISTER:
    case TETHER__BY_ONCE:
      r->st.unregistered_total++;
      break;
    case TETHER__BY_EXPIRY:
      r->st.expired_total++;
      break;
    case TETHER__BY_OWNER:
      r->st.owner_removed_total++;
      break;
    case TETHER__BY_REPLACE:
      r->st.replaced_total++;
      break;
    case TETHER__BY_FREE:
      break;
  }
}

/* Unlinks a claimed entry from everything and retires it. The mutex is held, and
 * so is the owner's mutex when the entry has an owner. */
void tether__remove_locked(tether_registry *r, tether__entry *e, tether__why why) {
  assert(tether__state(e) == TETHER__CLAIMED);
  tether__slot *s = NULL;
  if (e->flags & TETHER__F_BUS) {
    s = tether__slot_of(r, e);
  } else {
    /* MAP: the name's node is this entry, a slot holding it (a topic pins the
     * name), or the entry that replaced it. */
    size_t at;
    tether__table *t = atomic_load_explicit(&r->table, memory_order_relaxed);
    void *n = tether__lookup_at(t, e->tail, e->len, tether__node_hash(e), &at);
    if (n == e)
      tether__table_remove(r, at);
    else if (n != NULL && tether__is_slot(n))
      s = n;
  }
  tether__ids_remove(r, e); /* while a BUS entry can still be found in its slot */
  if (s != NULL) slot_unlink(r, s, e);
  tether_owner *o = tether__owner_of(e);
  if (o != NULL) tether__owner_unlink_locked(o, e);
  count_removal(r, e, why);
  if (atomic_load_explicit(&e->expires_at, memory_order_relaxed) != 0) r->ttl_live--;
  /* RETIRED, keeping the replaced mark for readers that still hold it, and why
   * (for on_remove). */
  uint32_t st = atomic_load_explicit(&e->state, memory_order_relaxed);
  atomic_store_explicit(
      &e->state,
      TETHER__RETIRED | (st & TETHER__S_REPLACED) | ((uint32_t)why << TETHER__S_WHY_SHIFT),
      memory_order_release);
  tether__retire_obj(r, &e->u.retire, TETHER__K_ENTRY);
  if (s != NULL) slot_maybe_drop(r, s);
  if (r->sync_waiters > 0) pthread_cond_broadcast(&r->done_cv);
}

/* Completes the removal of an entry this thread claimed, taking the owner's
 * mutex before the registry's. The owner is referenced so that a concurrent
 * tether_owner_free (which may detach the entry meanwhile) cannot free it while
 * this thread waits for its mutex. */
void tether__finish_removal(tether_registry *r, tether__entry *e, tether__why why) {
  pthread_mutex_lock(&r->mu);
  tether_owner *o = tether__owner_of(e);
  if (o == NULL) {
    tether__remove_locked(r, e, why);
    tether__reclaim_if(r, tether__unlock(r));
    return;
  }
  atomic_fetch_add_explicit(&o->refs, 1, memory_order_relaxed);
  pthread_mutex_unlock(&r->mu);
  pthread_mutex_lock(&o->mu);
  pthread_mutex_lock(&r->mu);
  tether__remove_locked(r, e, why); /* the owner may have detached e: then o is untouched */
  int many = tether__unlock(r);
  pthread_mutex_unlock(&o->mu);
  tether__owner_unref(o);
  tether__reclaim_if(r, many);
}

static int claim_match(tether__entry *e, void *arg) {
  (void)arg;
  return tether__claim(e);
}

/* ---- registration ---- */

static int validate_register(tether_registry *r, const char *name, tether_fn fn, void *ctx,
                             const tether_reg_options *o, size_t *len) {
  if (r == NULL || fn == NULL) return TETHER_EINVAL;
  int rc = tether__check_name(name, len);
  if (rc != 0) return rc;
  if (o->flags & ~(TETHER_REPLACE | TETHER_ONCE | TETHER_COPY_CTX)) return TETHER_EINVAL;
  if ((o->flags & TETHER_COPY_CTX) && (ctx == NULL || o->ctx_size == 0)) return TETHER_EINVAL;
  return 0;
}

/* A new entry for NAME; PCS (DEPTH of them) is its registering stack. */
static tether__entry *entry_new(tether_registry *r, const char *name, size_t len, tether_fn fn,
                                void *ctx, tether_free_fn ctx_free, const tether_reg_options *o,
                                const uintptr_t *pcs, size_t depth) {
  unsigned flags = ((o->flags & TETHER_ONCE) ? TETHER__F_ONCE : 0) |
                   ((o->flags & TETHER_COPY_CTX) ? TETHER__F_COPY : 0) |
                   (r->mode == TETHER_BUS ? TETHER__F_BUS : 0) |
                   (o->ctx_size ? TETHER__F_SIZED : 0) | (o->owner ? TETHER__F_OWNED : 0) |
                   (o->on_remove ? TETHER__F_NOTIFY : 0) | (r->track_calls ? TETHER__F_TRACK : 0) |
                   (depth > 0 ? TETHER__F_STACK : 0);
  if (o->ctx_size > SIZE_MAX / 2) return NULL;
  size_t size = entry_layout_size(flags, len, o->ctx_size, depth);
  tether__entry *e = tether__alloc(r, size);
  if (e == NULL) return NULL;
  memset((void *)e, 0, copy_offset(flags, len, depth));
  e->flags = (uint16_t)flags;
  e->len = (flags & TETHER__F_BUS) ? 0 : (uint16_t)len;
  e->fn = fn;
  e->ctx_free = ctx_free;
  if (!(flags & TETHER__F_BUS)) memcpy(e->tail, name, len + 1);
  if (flags & TETHER__F_SIZED) memcpy(tether__opt_field(e, TETHER__F_SIZED), &o->ctx_size, sizeof o->ctx_size);
  if (flags & TETHER__F_NOTIFY) *tether__notify_of(e) = o->on_remove;
  if (flags & TETHER__F_STACK) {
    tether__stack *st = tether__stack_of(e);
    st->depth = depth;
    memcpy(st->pc, pcs, depth * sizeof *pcs);
  }
  if (flags & TETHER__F_COPY) {
    e->ctx = (char *)e + copy_offset(flags, len, depth);
    memcpy(e->ctx, ctx, o->ctx_size);
  } else {
    e->ctx = ctx;
  }
  /* ONCE, TTL and tracked entries take the slow path of dispatch (a TTL may come
   * later, with tether_touch, which sets the bit then). */
  atomic_init(&e->state, TETHER__LIVE | ((o->flags & TETHER_ONCE) || o->ttl_ms || (flags & TETHER__F_TRACK)
                                             ? TETHER__S_SLOW
                                             : 0));
  atomic_init(&e->expires_at, 0);
  return e;
}

static tether__slot *slot_new(tether_registry *r, const char *name, size_t len) {
  tether__slot *s = tether__alloc(r, tether__slot_size((uint32_t)len));
  if (s == NULL) return NULL;
  memset((void *)s, 0, sizeof *s);
  s->flags = TETHER__F_SLOT;
  s->len = (uint16_t)len;
  atomic_init(&s->handlers, 0);
  atomic_init(&s->state, TETHER__S_SLOW);
  memcpy(s->name, name, len);
  s->name[len] = '\0';
  return s;
}

/* What one registration needs, allocated before anything is published. */
typedef struct reg_plan {
  void *node;           /* the name's node (entry or slot) or NULL */
  size_t at;            /* its bucket */
  tether__slot *slot;   /* the slot the entry joins (BUS; MAP when a topic pins the name) */
  int new_slot;         /* BUS: slot is new: publish it */
  tether__table *grown; /* a grown name table to publish first */
  tether__array *array; /* BUS: the new handler array */
  uint64_t *ids;        /* a grown id index */
  uint32_t ids_cap;
  tether__calls_plan calls; /* with call tracking: per-thread count slots for its index */
  tether__entry *replaced;  /* MAP: the entry replaced (REPLACE) or found expired, claimed
                               once the new one is out */
  tether__why replaced_why;
} reg_plan;

static void plan_undo(tether_registry *r, reg_plan *p) {
  tether__calls_undo(r, &p->calls);
  if (p->new_slot && p->slot) tether__free(r, p->slot, tether__slot_size(p->slot->len));
  if (p->grown) tether__free(r, p->grown, tether__table_size(p->grown->mask));
  if (p->array) tether__free(r, p->array, tether__array_size(p->array->n));
  if (p->ids) tether__free(r, p->ids, (size_t)p->ids_cap * sizeof *p->ids);
}

/* Allocates what registering E under NAME needs (mutex held). */
static int plan_register(tether_registry *r, reg_plan *p, tether__entry *e, tether_site site,
                         const char *name, size_t len, uint64_t h, unsigned flags) {
  tether__table *t = atomic_load_explicit(&r->table, memory_order_relaxed);
  memset(p, 0, sizeof *p);
  p->node = tether__lookup_at(t, name, len, h, &p->at);
  if (p->node != NULL && tether__is_slot(p->node)) p->slot = p->node;
  if (r->mode == TETHER_MAP) {
    tether__entry *cur = NULL;
    if (p->slot != NULL) {
      cur = slot_live_single(p->slot);
    } else if (p->node != NULL) {
      cur = p->node;
      if (tether__state(cur) != TETHER__LIVE) cur = NULL;
    }
    int expired = cur != NULL && expired_now(r, cur);
    if (cur != NULL && !expired && !(flags & TETHER_REPLACE)) return TETHER_EEXIST;
    p->replaced = cur;
    p->replaced_why = expired ? TETHER__BY_EXPIRY : TETHER__BY_REPLACE;
    if (p->node == NULL && tether__table_reserve(r, &p->grown) != 0) return TETHER_ENOMEM;
  } else if (p->slot == NULL) {
    p->slot = slot_new(r, name, len);
    if (p->slot == NULL) return TETHER_ENOMEM;
    p->new_slot = 1;
    if (tether__table_reserve(r, &p->grown) != 0) goto nomem;
  } else {
    int none = 0;
    p->array = array_with(r, p->slot, e, &none);
    if (p->array == NULL && !none) goto nomem;
  }
  if (tether__ids_reserve(r, &p->ids, &p->ids_cap) != 0) goto nomem;
  if (r->track_calls && tether__calls_reserve(r, &p->calls, tether__ids_next_index(r)) != 0) goto nomem;
  if (tether__site_intern(r, site, &e->site) != 0) goto nomem;
  return 0;
nomem:
  plan_undo(r, p);
  return TETHER_ENOMEM;
}

/* Claims E for a TETHER_REPLACE: LIVE -> CLAIMED with the replaced mark, so that
 * a reader that still finds it looks the name up again (and finds the new one). */
static int claim_replaced(tether__entry *e) {
  uint32_t s = atomic_load_explicit(&e->state, memory_order_acquire);
  while ((s & TETHER__STATE_MASK) == TETHER__LIVE) {
    uint32_t claimed = (s & ~TETHER__STATE_MASK) | TETHER__CLAIMED | TETHER__S_REPLACED;
    if (atomic_compare_exchange_weak_explicit(&e->state, &s, claimed, memory_order_acq_rel,
                                              memory_order_acquire))
      return 1;
  }
  return 0;
}

/* Publishes a planned registration (mutex held; cannot fail). A replaced entry
 * is claimed only once the new one is published, so a reader finds one or the
 * other; the caller finishes its removal after unlocking, since its owner's mutex
 * comes before the registry's. Returns 1 when it claimed one. */
static int plan_commit(tether_registry *r, reg_plan *p, tether__entry *e, uint64_t h) {
  tether__ids_adopt(r, p->ids, p->ids_cap);
  tether__ids_insert(r, e, (e->flags & TETHER__F_BUS) ? p->slot : NULL);
  if (e->flags & TETHER__F_TRACK) tether__calls_commit(r, &p->calls, e);
  atomic_store_explicit(&e->u.live.created_ms, tether__now(r), memory_order_relaxed);
  if (p->array != NULL) {
    uintptr_t hv = atomic_load_explicit(&p->slot->handlers, memory_order_relaxed);
    atomic_store_explicit(&p->slot->handlers, (uintptr_t)p->array | 1, memory_order_release);
    if (tether__is_array(hv)) tether__retire_obj(r, &tether__as_array(hv)->retire, TETHER__K_ARRAY);
  } else if (p->slot != NULL) {
    /* Empty slot, or a MAP slot: the new entry takes the single position (a
     * claimed entry there is being removed by its claimer, who tolerates this). */
    atomic_store_explicit(&p->slot->handlers, (uintptr_t)e, memory_order_release);
  } else if (p->node != NULL) {
    /* MAP: the entry takes the bucket of the one it replaces (live, or claimed
     * by a remover who will find it gone). */
    tether__table_set(r, p->at, e, h);
  }
  if (p->new_slot)
    tether__table_insert(r, p->slot, h, p->grown);
  else if (p->slot == NULL && p->node == NULL)
    tether__table_insert(r, e, h, p->grown);
  r->st.live++;
  r->live_bytes += tether__ctx_size(e);
  r->st.registered_total++;
  return p->replaced != NULL && claim_replaced(p->replaced);
}

int tether_register_at(tether_registry *r, tether_site site, const char *name, tether_fn fn,
                       void *ctx, tether_free_fn ctx_free, const tether_reg_options *opts,
                       tether_id *out_id) {
  static const tether_reg_options defaults;
  const tether_reg_options *o = opts ? opts : &defaults;
  size_t len = 0;
  int rc = validate_register(r, name, fn, ctx, o, &len);
  if (rc != 0) return rc;
  uint64_t h = tether__hash(name, len);
  if (o->owner != NULL && tether__owner_refuses(o->owner)) return TETHER_ENOMEM;
  uintptr_t pcs[TETHER_STACK_MAX];
  size_t depth = r->capture_stack ? tether__stack_capture(pcs, r->capture_stack) : 0;
  tether__entry *e = entry_new(r, name, len, fn, ctx, ctx_free, o, pcs, depth);
  if (e == NULL) return TETHER_ENOMEM;
  if (o->owner != NULL) pthread_mutex_lock(&o->owner->mu);
  pthread_mutex_lock(&r->mu);
  reg_plan p;
  if (r->freeing)
    rc = TETHER_EBUSY;
  else if (o->owner != NULL && tether__owner_note_registry(o->owner, r) != 0)
    rc = TETHER_ENOMEM;
  else
    rc = plan_register(r, &p, e, site, name, len, h, o->flags);
  int claimed_old = 0;
  if (rc == 0) {
    if (o->ttl_ms > 0)
      atomic_store_explicit(&e->expires_at, tether__deadline(tether__now(r), o->ttl_ms),
                            memory_order_relaxed);
    if (o->owner != NULL) {
      tether__owned *w = tether__owned_of(e);
      w->reg = r;
      w->owner = o->owner;
      w->u.link.prev = NULL;
      w->u.link.next = o->owner->head;
      if (o->owner->head) tether__owned_of(o->owner->head)->u.link.prev = e;
      o->owner->head = e;
      o->owner->count++;
    }
    claimed_old = plan_commit(r, &p, e, h);
    if (o->ttl_ms > 0) r->ttl_live++;
    if (out_id != NULL) *out_id = e->u.live.id;
  }
  int many = tether__unlock(r);
  if (o->owner != NULL) pthread_mutex_unlock(&o->owner->mu);
  tether__reclaim_if(r, many);
  if (rc != 0) {
    tether__free(r, e, tether__entry_size(e));
    return rc;
  }
  if (claimed_old) tether__finish_removal(r, p.replaced, p.replaced_why);
  return 0;
}

/* ---- removal by the user ---- */

/* Claims the entry ID under the mutex; NULL when it is unknown or not live.
 * *EXPIRED says whether its TTL had run out. */
static tether__entry *claim_id(tether_registry *r, tether_id id, int *expired) {
  pthread_mutex_lock(&r->mu);
  tether__entry *e = tether__ids_find(r, id);
  if (e != NULL && !tether__claim(e)) e = NULL;
  *expired = e != NULL && expired_now(r, e);
  pthread_mutex_unlock(&r->mu);
  return e;
}

int tether_unregister(tether_registry *r, tether_id id) {
  if (r == NULL || id == 0) return TETHER_EINVAL;
  int expired;
  tether__entry *e = claim_id(r, id, &expired);
  if (e == NULL) return TETHER_ENOENT;
  /* An expired one is removed as expired, and was not there to unregister. */
  tether__finish_removal(r, e, expired ? TETHER__BY_EXPIRY : TETHER__BY_UNREGISTER);
  return expired ? TETHER_ENOENT : 0;
}

/* Whether this thread runs user code for R: a callback (its record shows an
 * epoch), a destructor, a walk visitor or leak report, or the background work. */
static int inside(const tether_registry *r) {
  const tether__rec *c = tether__rec_peek(r);
  return (c != NULL && atomic_load_explicit(&c->epoch, memory_order_relaxed) != 0) ||
         tether__busy_with(r, TETHER__FR_DESTRUCTOR | TETHER__FR_WALK | TETHER__FR_BG);
}

int tether__self_blocked_locked(const tether_registry *r, tether_id id) {
  const void *self = tether__self();
  for (const tether_ref *ref = r->refs; ref != NULL; ref = ref->next) {
    if (ref->holder != self) continue;
    if (tether__state(ref->entry) != TETHER__LIVE) return 1;
    if (id != 0 && ref->entry->u.live.id == id) return 1;
  }
  return 0;
}

int tether_barrier(tether_registry *r) {
  if (r == NULL) return TETHER_EINVAL;
  if (inside(r)) return TETHER_EDEADLK;
  return tether__drain(r, TETHER__DRAIN_BARRIER);
}

/* Waits until entry E, which another thread has claimed, is unlinked (mutex held;
 * released while waiting). Its claimer may be a reader whose hand-off this thread
 * finishes itself. */
static void wait_unlinked_locked(tether_registry *r, tether_id id, const tether__entry *e) {
  r->sync_waiters++;
  while (tether__ids_find(r, id) == e) {
    if (atomic_load_explicit(&r->handoff, memory_order_relaxed) != 0) {
      pthread_mutex_unlock(&r->mu);
      tether__handoff_finish(r);
      pthread_mutex_lock(&r->mu);
      continue;
    }
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_nsec += 2000000;
    if (ts.tv_nsec >= 1000000000) {
      ts.tv_sec++;
      ts.tv_nsec -= 1000000000;
    }
    pthread_cond_timedwait(&r->done_cv, &r->mu, &ts);
  }
  r->sync_waiters--;
}

int tether_unregister_sync(tether_registry *r, tether_id id) {
  if (r == NULL || id == 0) return TETHER_EINVAL;
  if (inside(r)) return TETHER_EDEADLK;
  TETHER__NO_CANCEL(nocancel);
  tether__handoff_finish(r);
  pthread_mutex_lock(&r->mu);
  if (tether__self_blocked_locked(r, id)) {
    pthread_mutex_unlock(&r->mu);
    return TETHER_EDEADLK;
  }
  tether__entry *e = tether__ids_find(r, id);
  int rc = TETHER_ENOENT;
  if (e != NULL && tether__claim(e)) {
    int expired = expired_now(r, e);
    pthread_mutex_unlock(&r->mu);
    tether__finish_removal(r, e, expired ? TETHER__BY_EXPIRY : TETHER__BY_UNREGISTER);
    rc = expired ? TETHER_ENOENT : 0;
  } else {
    /* Unknown, or being removed by another thread: then wait for that removal. */
    if (e != NULL) wait_unlinked_locked(r, id, e);
    pthread_mutex_unlock(&r->mu);
  }
  int d = tether__drain(r, TETHER__DRAIN_BARRIER);
  return d < 0 ? d : rc;
}

int tether_unregister_name(tether_registry *r, const char *name) {
  size_t len = 0;
  if (r == NULL) return TETHER_EINVAL;
  int rc = tether__check_name(name, &len);
  if (rc != 0) return rc;
  uint64_t h = tether__hash(name, len);
  int removed = 0;
  for (;;) {
    /* One claim per round: finishing a removal may take an owner's mutex. */
    tether__entry *e = NULL;
    pthread_mutex_lock(&r->mu);
    void *n = tether__lookup(atomic_load_explicit(&r->table, memory_order_relaxed), name, len, h);
    if (n != NULL && !tether__is_slot(n))
      e = tether__claim(n) ? n : NULL;
    else if (n != NULL)
      e = tether__slot_find(n, claim_match, NULL);
    pthread_mutex_unlock(&r->mu);
    if (e == NULL) break;
    tether__finish_removal(r, e, TETHER__BY_UNREGISTER);
    removed++;
  }
  return removed;
}

/* ---- topics ---- */

int tether_topic_get_at(tether_registry *r, tether_site site, const char *name,
                        tether_topic **out) {
  size_t len = 0;
  if (r == NULL || out == NULL) return TETHER_EINVAL;
  *out = NULL;
  int rc = tether__check_name(name, &len);
  if (rc != 0) return rc;
  uint64_t h = tether__hash(name, len);
  tether_topic *t = tether__alloc(r, sizeof *t);
  if (t == NULL) return TETHER_ENOMEM;
  pthread_mutex_lock(&r->mu);
  size_t at;
  void *n =
      tether__lookup_at(atomic_load_explicit(&r->table, memory_order_relaxed), name, len, h, &at);
  tether__slot *s = n;
  rc = r->freeing ? TETHER_EBUSY : r->topics_held == UINT32_MAX ? TETHER_ENOMEM : 0;
  if (rc == 0 && (n == NULL || !tether__is_slot(n))) {
    /* A new name, or a MAP entry that the topic turns into a slot holding it.
     * The site is interned last: its growth is the one change a failure keeps. */
    tether__table *grown = NULL;
    s = slot_new(r, name, len);
    if (s == NULL || (n == NULL && tether__table_reserve(r, &grown) != 0) ||
        tether__site_intern(r, site, &t->site) != 0) {
      if (s) tether__free(r, s, tether__slot_size(s->len));
      if (grown) tether__free(r, grown, tether__table_size(grown->mask));
      rc = TETHER_ENOMEM;
    } else if (n == NULL) {
      tether__table_insert(r, s, h, grown);
    } else {
      atomic_init(&s->handlers, (uintptr_t)n);
      tether__table_set(r, at, s, h);
    }
  } else if (rc == 0 && tether__site_intern(r, site, &t->site) != 0) {
    rc = TETHER_ENOMEM;
  }
  if (rc != 0) {
    pthread_mutex_unlock(&r->mu);
    tether__free(r, t, sizeof *t);
    return rc;
  }
  s->topic_refs++;
  r->topics_held++;
  t->reg = r;
  t->slot = s;
  t->prev = NULL;
  t->next = r->topics;
  if (r->topics != NULL) r->topics->prev = t;
  r->topics = t;
  tether__unlock(r);
  *out = t;
  return 0;
}

int(tether_topic_get)(tether_registry *r, const char *name, tether_topic **out) {
  return tether_topic_get_at(r, (tether_site){NULL, 0, NULL}, name, out);
}

void tether_topic_release(tether_topic *t) {
  if (t == NULL) return;
  tether_registry *r = t->reg;
  pthread_mutex_lock(&r->mu);
  assert(t->slot->topic_refs > 0);
  t->slot->topic_refs--;
  r->topics_held--;
  if (t->prev != NULL)
    t->prev->next = t->next;
  else
    r->topics = t->next;
  if (t->next != NULL) t->next->prev = t->prev;
  slot_maybe_drop(r, t->slot);
  tether__unlock(r);
  tether__free(r, t, sizeof *t);
}

/* ---- refs ---- */

int tether_acquire_at(tether_registry *r, tether_site site, tether_id id, tether_ref **out) {
  if (r == NULL || out == NULL || id == 0) return TETHER_EINVAL;
  *out = NULL;
  tether_ref *ref = tether__alloc(r, sizeof *ref);
  if (ref == NULL) return TETHER_ENOMEM;
  pthread_mutex_lock(&r->mu);
  tether__entry *e = tether__ids_find(r, id);
  tether__entry *expired = NULL;
  int rc = 0;
  if (r->freeing) {
    rc = TETHER_EBUSY;
  } else if (e == NULL || tether__state(e) != TETHER__LIVE) {
    rc = TETHER_ENOENT;
  } else if (expired_now(r, e)) {
    rc = TETHER_ENOENT;
    if (tether__claim(e)) expired = e;
  } else if (e->refs == UINT32_MAX || r->refs_held == UINT32_MAX ||
             tether__site_intern(r, site, &ref->site) != 0) {
    rc = TETHER_ENOMEM;
  }
  if (rc == 0) {
    e->refs++;
    r->refs_held++;
    ref->reg = r;
    ref->entry = e;
    ref->holder = tether__self();
    ref->prev = NULL;
    ref->next = r->refs;
    if (r->refs != NULL) r->refs->prev = ref;
    r->refs = ref;
  }
  pthread_mutex_unlock(&r->mu);
  if (rc != 0) {
    tether__free(r, ref, sizeof *ref);
    if (expired != NULL) tether__finish_removal(r, expired, TETHER__BY_EXPIRY);
    return rc;
  }
  *out = ref;
  return 0;
}

int(tether_acquire)(tether_registry *r, tether_id id, tether_ref **out) {
  return tether_acquire_at(r, (tether_site){NULL, 0, NULL}, id, out);
}

void *tether_ref_ctx(const tether_ref *ref) {
  return ref ? ref->entry->ctx : NULL;
}

static void zombie_unlink(tether_registry *r, tether__entry *e) {
  if (r->zombies == e) {
    r->zombies = tether__zombie_next(e);
    return;
  }
  for (tether__entry *z = r->zombies; z != NULL; z = tether__zombie_next(z)) {
    if (tether__zombie_next(z) == e) {
      z->u.retire.next = e->u.retire.next;
      return;
    }
  }
  assert(0 && "zombie not found");
}

void tether_ref_release(tether_ref *ref) {
  if (ref == NULL) return;
  tether_registry *r = ref->reg;
  tether__entry *e = ref->entry;
  tether__batch b = {NULL, NULL, UINT64_MAX, NULL};
  pthread_mutex_lock(&r->mu);
  assert(e->refs > 0);
  r->refs_held--;
  if (ref->prev != NULL)
    ref->prev->next = ref->next;
  else
    r->refs = ref->next;
  if (ref->next != NULL) ref->next->prev = ref->prev;
  if (--e->refs == 0 && tether__state(e) == TETHER__ZOMBIE) {
    /* The grace period is long over: destroy it now, as an in-flight batch so
     * that barriers wait for its destructor. */
    zombie_unlink(r, e);
    e->u.retire.next = NULL;
    b.head = b.tail = &e->u.retire;
    b.min_epoch = tether__retire_epoch(&e->u.retire);
    b.next_inflight = r->inflight;
    r->inflight = &b;
  }
  pthread_mutex_unlock(&r->mu);
  tether__free(r, ref, sizeof *ref);
  tether__destroy_batch(r, &b);
}

/* ---- TTL ---- */

/* Moves E's deadline to EXP (0: none) and bumps the version in its state word, so
 * that a reader that read the old deadline fails its expiry claim (mutex held).
 * Returns 0, or TETHER_ENOENT when a reader claimed it first. */
static int set_deadline_locked(tether_registry *r, tether__entry *e, uint64_t exp) {
  uint64_t old = atomic_load_explicit(&e->expires_at, memory_order_relaxed);
  if (old == 0 && exp != 0)
    r->ttl_live++;
  else if (old != 0 && exp == 0)
    r->ttl_live--;
  /* The deadline is stored before the word changes (release), so a reader that
   * sees the new word sees the new deadline. */
  atomic_store_explicit(&e->expires_at, exp, memory_order_relaxed);
  uint32_t s = atomic_load_explicit(&e->state, memory_order_acquire);
  for (;;) {
    if ((s & TETHER__STATE_MASK) != TETHER__LIVE) return TETHER_ENOENT;
    uint32_t next = s + TETHER__S_VERSION;
    if (exp != 0 || (e->flags & (TETHER__F_ONCE | TETHER__F_TRACK)))
      next |= TETHER__S_SLOW;
    else
      next &= ~TETHER__S_SLOW;
    if (atomic_compare_exchange_weak_explicit(&e->state, &s, next, memory_order_release,
                                              memory_order_acquire))
      return 0;
  }
}

int tether_touch(tether_registry *r, tether_id id, uint64_t ttl_ms) {
  if (r == NULL || id == 0) return TETHER_EINVAL;
  pthread_mutex_lock(&r->mu);
  tether__entry *e = tether__ids_find(r, id);
  int rc = 0;
  if (e == NULL || tether__state(e) != TETHER__LIVE) {
    e = NULL;
    rc = TETHER_ENOENT;
  } else if (expired_now(r, e)) {
    /* Expired but not yet noticed: remove it rather than revive it. */
    if (!tether__claim(e)) e = NULL;
    rc = TETHER_ENOENT;
  } else {
    rc = set_deadline_locked(r, e, ttl_ms ? tether__deadline(tether__now(r), ttl_ms) : 0);
    e = NULL;
  }
  pthread_mutex_unlock(&r->mu);
  if (e != NULL) tether__finish_removal(r, e, TETHER__BY_EXPIRY);
  return rc;
}

/* A batch of entries claimed under the mutex, to be removed after it. */
typedef struct claim_batch {
  tether__entry *claimed[128];
  int n;
  uint64_t now;
  size_t with_ttl; /* entries with a TTL not yet seen: the sweep stops at 0 */
  size_t scanned;  /* entries with a TTL looked at */
} claim_batch;

static int claim_expired(tether__entry *e, void *arg) {
  claim_batch *b = arg;
  uint64_t exp = atomic_load_explicit(&e->expires_at, memory_order_relaxed);
  if (exp != 0) {
    b->with_ttl--;
    b->scanned++;
    if (b->now >= exp && tether__claim(e)) b->claimed[b->n++] = e;
  }
  return b->n == 128 || b->with_ttl == 0;
}

size_t tether__sweep(tether_registry *r, size_t *scanned) {
  tether__handoff_finish(r);
  size_t removed = 0;
  for (;;) {
    /* Claim a batch of expired entries under the mutex, then finish each removal
     * with the locks in order (owner first). */
    claim_batch b;
    b.n = 0;
    b.scanned = 0;
    pthread_mutex_lock(&r->mu);
    b.now = tether__now(r);
    b.with_ttl = r->ttl_live; /* registrations without a TTL cost the sweep nothing */
    if (b.with_ttl > 0) tether__each_entry(r, claim_expired, &b);
    pthread_mutex_unlock(&r->mu);
    for (int i = 0; i < b.n; i++) tether__finish_removal(r, b.claimed[i], TETHER__BY_EXPIRY);
    removed += (size_t)b.n;
    *scanned += b.scanned;
    if (b.n < 128) break;
  }
  return removed;
}

int tether_sweep(tether_registry *r) {
  if (r == NULL) return TETHER_EINVAL;
  size_t scanned = 0;
  size_t removed = tether__sweep(r, &scanned);
  return removed > INT32_MAX ? INT32_MAX : (int)removed;
}

/* ---- teardown ---- */

/* Claims and removes every live registration (the caller is the only user left,
 * but owners may be freed concurrently on other threads). Claims in batches
 * under the mutex, then finishes each removal with the locks in order. */
static int claim_any(tether__entry *e, void *arg) {
  claim_batch *b = arg;
  if (tether__claim(e)) b->claimed[b->n++] = e;
  return b->n == 128;
}

static void remove_all(tether_registry *r) {
  for (;;) {
    tether__handoff_finish(r);
    claim_batch b;
    b.n = 0;
    pthread_mutex_lock(&r->mu);
    tether__each_entry(r, claim_any, &b);
    /* Entries claimed by someone else (an owner being freed, a reader's
     * hand-off) still count as live until their claimer has unlinked them. */
    int busy = b.n == 0 && r->st.live > 0;
    pthread_mutex_unlock(&r->mu);
    for (int i = 0; i < b.n; i++) tether__finish_removal(r, b.claimed[i], TETHER__BY_FREE);
    if (b.n == 0 && !busy) break;
    if (busy) sched_yield();
  }
}

static void free_structures(tether_registry *r) {
  assert(r->ttl_live == 0 && r->st.live == 0);
  tether__table *t = atomic_load_explicit(&r->table, memory_order_relaxed);
  for (size_t i = 0; i <= t->mask; i++) {
    uint64_t w = atomic_load_explicit(&t->b[i], memory_order_relaxed);
    if (w == 0 || w == TETHER__TOMB) continue;
    tether__slot *s = tether__bucket_node(w);
    assert(tether__is_slot(s) && s->topic_refs == 0 && slot_empty(s)); /* entries are all removed */
    tether__free(r, s, tether__slot_size(s->len));
  }
  tether__free(r, t, tether__table_size(t->mask));
  if (r->ids) tether__free(r, r->ids, (size_t)r->ids_cap * sizeof *r->ids);
  tether__sites_free(r);
  tether__free_recs(r);
  tether__export_free(r);
}

int tether_registry_free(tether_registry *r) {
  if (r == NULL) return TETHER_EINVAL;
  if (inside(r)) return TETHER_EBUSY;
  TETHER__NO_CANCEL(nocancel);
  tether__handoff_finish(r); /* what readers claimed is not a survivor */
  pthread_mutex_lock(&r->mu);
  int busy = r->topics_held > 0 || r->refs_held > 0;
  uint64_t survivors = r->st.live;
  char *held = busy ? tether__describe_held_locked(r) : NULL;
  if (!busy) r->freeing = 1;
  pthread_mutex_unlock(&r->mu);
  if (busy) {
    tether__report_held(r, held);
    return TETHER_EBUSY;
  }
  if (r->profile_dir != NULL) {
    /* The last periodic profile, with the survivors: the background thread may
     * be writing one of R's, to the same name, right now. */
    tether__stop_profiles(r);
    tether__export_profile(r);
  }
  if (survivors > 0) tether__report_survivors(r);
  remove_all(r);
  tether__unregister_registry(r);
  tether__drain(r, TETHER__DRAIN_ALL);
  free_structures(r);
  pthread_cond_destroy(&r->done_cv);
  pthread_mutex_destroy(&r->mu);
  tether_allocator a = r->alloc;
  a.free(a.ud, r, sizeof *r);
  return survivors > INT32_MAX ? INT32_MAX : (int)survivors;
}
