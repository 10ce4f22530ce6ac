/* Refs and topics pinning an entry. Entry 0 is a MAP name; one thread takes a ref
 * of it (tether_acquire), calls through the ref and releases it; another takes a
 * topic on the name (which turns the name's node into slot 1 holding the entry),
 * emits through it and releases it; a writer unregisters the entry; the
 * background thread reclaims.
 *
 *   safety:   no destructor while a ref is held, a slot never freed while a topic
 *             pins it or a reader holds it, each destructor once, no call
 *             through a ref or a topic after the unregister returned;
 *   liveness: the entry (maybe a zombie until its last ref goes) and the slot
 *             are destroyed once refs and topics are released: `live`.
 *
 * Readers run without store buffers here (model/reclaim.pml covers those). */
#define NRD 2
#define NNAME 1
#define NOBJ 2
#include "common.pml"

#define E 0                 /* the entry */
#define S 1                 /* the slot a topic makes of its name */

bit removed_ret;            /* the unregister returned 0 */

/* A call of entry E, if its state word is LIVE (call_entry without TTL or ONCE). */
inline call_live() {
  /* src/dispatch.c:73 call_entry: `uint32_t s = atomic_load_explicit(&e->state, memory_order_acquire);` */
  assert(!destroyed[E]);
  if
  :: STATE(E) == LIVE -> assert(!removed_ret) /* src/dispatch.c:76 call_entry: `*ret = e->fn(e->ctx, arg);` */
  :: else -> skip /* src/dispatch.c:74 call_entry: `if ((s & TETHER__STATE_MASK) != TETHER__LIVE) return not_live(s);` */
  fi
}

/* A thread with a ref: acquire, call through it, release. */
proctype ref_holder(byte me) {
  byte rec = me, tls = TLS_EXACT, k, v, g, old, s, sl;
  bit mapped = 1, outer, fenced, got, unl;
  COLLECT_LOCALS;
  fenced = !USE_MEMBARRIER;
  atomic {
    lock_mu(); /* src/registry.c:742 tether_acquire_at: `pthread_mutex_lock(&r->mu);` */
    if
    :: !oids[E] || STATE(E) != LIVE -> got = 0 /* src/registry.c:748 tether_acquire_at: `} else if (e == NULL || tether__state(e) != TETHER__LIVE) {` */
    :: else ->
       orefs[E]++; /* src/registry.c:758 tether_acquire_at: `e->refs++;` */
       got = 1
    fi;
    unlock_mu() /* src/registry.c:768 tether_acquire_at: `pthread_mutex_unlock(&r->mu);` */
  }
  if
  :: got ->
     /* src/dispatch.c:280 tether_ref_call: `TETHER__SECTION(sec) = {c, tether__epoch_in(r, c, !tether__use_membarrier)};` */
     epoch_in(outer, fenced);
     atomic {
       hold[me] = E + 1;
       call_live() /* src/dispatch.c:281 tether_ref_call: `n = call_entry(r, ref->entry, arg, &ret);` */
     }
     epoch_out(outer, fenced, hold[me]);
     atomic {
       lock_mu(); /* src/registry.c:805 tether_ref_release: `pthread_mutex_lock(&r->mu);` */
       orefs[E]--;
       bm = 0;
       /* src/registry.c:813 tether_ref_release: `if (--e->refs == 0 && tether__state(e) == TETHER__ZOMBIE) {` */
       if
#ifndef MUT_RELEASE_KEEPS_ZOMBIE
       :: orefs[E] == 0 && STATE(E) == ZOMBIE ->
          destroy(E); /* src/registry.c:818 tether_ref_release: `b.head = b.tail = &e->u.retire;` */
          inflight++ /* src/registry.c:821 tether_ref_release: `r->inflight = &b;` */
#endif
       :: else -> skip
       fi;
       unlock_mu() /* src/registry.c:823 tether_ref_release: `pthread_mutex_unlock(&r->mu);` */
     }
     destroy_batch() /* src/registry.c:825 tether_ref_release: `tether__destroy_batch(r, &b);` */
  :: else -> skip
  fi
}

/* A thread with a topic on the name: get, emit through it, release. */
proctype topic_holder(byte me) {
  byte rec = me, tls = TLS_EXACT, k, v, g, old, s, sl, h;
  bit mapped = 1, outer, fenced, unl;
  COLLECT_LOCALS;
  atomic {
    lock_mu(); /* src/registry.c:671 tether_topic_get_at: `pthread_mutex_lock(&r->mu);` */
    /* src/registry.c:674 tether_topic_get_at: `tether__lookup_at(atomic_load_explicit(&r->table, memory_order_relaxed), name, len, h, &at);` */
    if
    :: tw[0] == E + 1 ->
       shand[S] = E + 1; /* src/registry.c:690 tether_topic_get_at: `atomic_init(&s->handlers, (uintptr_t)n);` */
       tw[0] = S + 1 /* src/registry.c:691 tether_topic_get_at: `tether__table_set(r, at, s, h);` */
    :: tw[0] == 0 ->
       tw[0] = S + 1 /* src/registry.c:688 tether_topic_get_at: `tether__table_insert(r, s, h, grown);` */
    :: else -> skip
    fi;
    stopics[S]++ /* src/registry.c:701 tether_topic_get_at: `s->topic_refs++;` */
  }
  unlock_arm(); /* src/registry.c:709 tether_topic_get_at: `tether__unlock(r);` */
  /* src/dispatch.c:259 tether_topic_emit: `TETHER__SECTION_FAST(sec) = {c, tether__epoch_in(r, c, TETHER__FAST_FENCED)};` */
  epoch_in(outer, fenced);
  atomic {
    hold2[me] = S + 1;
    assert(!destroyed[S]);
    /* src/dispatch.c:261 tether_topic_emit: `uintptr_t h = atomic_load_explicit(&s->handlers, memory_order_acquire);` */
    h = shand[S];
    hold[me] = h
  }
  if
  :: h != 0 -> atomic { call_live() } /* src/dispatch.c:264 tether_topic_emit: `atomic_load_explicit(&e->state, memory_order_acquire) == 0)) {` */
  :: else -> skip
  fi;
  h = 0;
  hold2[me] = 0;
  epoch_out(outer, fenced, hold[me]);
  atomic {
    lock_mu(); /* src/registry.c:721 tether_topic_release: `pthread_mutex_lock(&r->mu);` */
    stopics[S]--; /* src/registry.c:723 tether_topic_release: `t->slot->topic_refs--;` */
    slot_maybe_drop(S) /* src/registry.c:730 tether_topic_release: `slot_maybe_drop(r, t->slot);` */
  }
  unlock_arm() /* src/registry.c:731 tether_topic_release: `tether__unlock(r);` */
}

/* tether_unregister of the entry. */
proctype writer() {
  byte me = NOBODY, s, sl, old;
  bit won, unl;
  COLLECT_LOCALS;
  atomic {
    lock_mu(); /* src/registry.c:543 claim_id: `pthread_mutex_lock(&r->mu);` */
    claim(E); /* src/registry.c:545 claim_id: `if (e != NULL && !tether__claim(e)) e = NULL;` */
    unlock_mu() /* src/registry.c:547 claim_id: `pthread_mutex_unlock(&r->mu);` */
  }
  assert(won);
  finish_removal(E); /* src/registry.c:557 tether_unregister: `tether__finish_removal(r, e, expired ? TETHER__BY_EXPIRY : TETHER__BY_UNREGISTER);` */
  removed_ret = 1
}

init {
  atomic {
    nrec = NRD;
    rec_thread[0] = 1;
    rec_thread[1] = 2;
    tw[0] = E + 1;
    oids[E] = 1;
    oslot[S] = 1;
    run bg();
    run ref_holder(0);
    run topic_holder(1);
    run writer()
  }
}

ltl live { [] <> !PENDING }
