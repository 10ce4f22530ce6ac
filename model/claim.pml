/* Removal: the claim of an entry's state word, raced by every kind of remover.
 *
 * REMOVE (default): entry 0 is TETHER_ONCE with a TTL that ends at time 1. A
 * reader emits it (the expiry claim, then the ONCE claim and call, each handed
 * off to the background thread), a writer unregisters it or sweeps, a third
 * thread touches it (a new deadline two ticks ahead), while the clock ticks.
 * REPLACE: entry 0 is replaced by entry 1 (TETHER_REPLACE) while a writer
 * unregisters entry 0 by id and a reader emits the name.
 *
 *   safety:   each entry claimed once and destroyed once; a ONCE handler called
 *             at most once; no call starts after an unregister returned; an
 *             expiry claim never precedes the deadline of a touch that
 *             returned 0; a reader sent round by a replaced mark finds another
 *             entry, and (REPLACE) an emit calls the old or the new handler
 *             unless the unregister won the old one;
 *   liveness: every claimed entry is removed and destroyed: `live`.
 *
 * Readers run without store buffers here (model/reclaim.pml covers those). */
#define NRD 1
#define NNAME 1
#define NOBJ 2
#define HANDOFF
#define NOWMAX 2
#include "common.pml"

byte oexp[NOBJ];          /* expires_at (0: none), in ticks */
bit oonce[NOBJ];          /* TETHER_ONCE */
byte ncall[NOBJ];         /* calls of each entry's handler */
bit removed_ret[NOBJ];    /* a tether_unregister of the entry has returned 0 */
bit touch_ok;             /* a tether_touch returned 0 ... */
byte touch_dl;            /* ... moving the deadline here */
bit unreg_won;            /* REPLACE: the unregister claimed entry 0 first */
byte now;                 /* the registry's clock */

#define SKIPPED 0
#define CALLED 1
#define AGAIN 2

/* The handler of O runs (the state check that allowed it was the step before
 * in the same atomic sequence, or the claim of a ONCE entry). */
inline do_call(o) {
  ncall[o]++;
  assert(!oonce[o] || ncall[o] <= 1);
  res = CALLED
}

/* src/dispatch.c:37 not_live: `return (s & TETHER__S_REPLACED) ? AGAIN : SKIPPED;` */
#define NOT_LIVE(x) (((x) & S_REPLACED) -> AGAIN : SKIPPED)

/* call_entry and call_entry_slow for entry O: sets `res`. */
inline call_entry(o) {
  atomic {
    /* src/dispatch.c:73 call_entry: `uint32_t s = atomic_load_explicit(&e->state, memory_order_acquire);` */
    s = ostate[o];
    if
    :: (s & ST_MASK) != LIVE -> res = NOT_LIVE(s); done = 1 /* src/dispatch.c:74 call_entry: `return not_live(s);` */
    :: (s & ST_MASK) == LIVE && !(s & S_SLOW) ->
       assert(!removed_ret[o]);
       do_call(o); /* src/dispatch.c:76 call_entry: `*ret = e->fn(e->ctx, arg);` */
       done = 1
    :: else -> assert(!removed_ret[o]) /* src/dispatch.c:75 call_entry: `if (TETHER__UNLIKELY(s & TETHER__S_SLOW)) return call_entry_slow(r, e, s, arg, ret);` */
    fi
  }
  do
  :: done -> break
  :: else ->
     /* src/dispatch.c:47 call_entry_slow: `uint64_t exp = atomic_load_explicit(&e->expires_at, memory_order_relaxed);` */
     x = oexp[o];
     if
     :: x == 0 -> break /* src/dispatch.c:48 call_entry_slow: `if (exp == 0 || tether__now(r) < exp) break;` */
     :: else -> skip
     fi;
     if
     :: now < x -> break /* src/dispatch.c:48 call_entry_slow: `if (exp == 0 || tether__now(r) < exp) break;` */
     :: else -> skip
     fi;
     atomic {
       /* src/dispatch.c:50 call_entry_slow: `if (atomic_compare_exchange_strong_explicit(&e->state, &s, claimed, memory_order_acq_rel,` */
       if
       :: ostate[o] == s ->
          ostate[o] = (s & ~ST_MASK) | CLAIMED; /* src/dispatch.c:49 call_entry_slow: `uint32_t claimed = (s & ~TETHER__STATE_MASK) | TETHER__CLAIMED;` */
          won = 1;
          claimed_ghost(o);
          /* A touch that returned 0 keeps the registration until its deadline. */
          assert(!touch_ok || now >= touch_dl)
       :: else -> s = ostate[o]; won = 0
       fi
     }
     if
     :: won ->
        won = 0;
        handoff(o); /* src/dispatch.c:52 call_entry_slow: `tether__handoff(r, e, TETHER__BY_EXPIRY);` */
        res = SKIPPED;
        done = 1
     :: else ->
        if
        :: (s & ST_MASK) != LIVE -> res = NOT_LIVE(s); done = 1 /* src/dispatch.c:55 call_entry_slow: `if ((s & TETHER__STATE_MASK) != TETHER__LIVE) return not_live(s);` */
        :: else -> skip
        fi
     fi
  od;
  x = 0;
  if
  :: done -> skip
  :: !done && oonce[o] ->
     claim(o); /* src/dispatch.c:58 call_entry_slow: `if (!tether__claim(e)) return not_live(atomic_load_explicit(&e->state, memory_order_acquire));` */
     if
     :: won ->
        won = 0;
        do_call(o); /* src/dispatch.c:61 call_entry_slow: `*ret = e->fn(e->ctx, arg);` */
        handoff(o) /* src/dispatch.c:32 once_call_end: `tether__handoff(oc->r, oc->e, TETHER__BY_ONCE);` */
     :: else -> res = NOT_LIVE(ostate[o])
     fi
  :: else ->
     do_call(o) /* src/dispatch.c:65 call_entry_slow: `*ret = e->fn(e->ctx, arg);` */
  fi;
  done = 0;
  s = 0
}

/* tether_emit of the name, on the general path (its record cached). */
proctype reader(byte me) {
  byte rec = me, tls = TLS_EXACT, k, v, g, p, q, s, x, res, j, old;
  bit mapped = 1, outer, fenced, won, done, called;
  fenced = !USE_MEMBARRIER;
  epoch_in(outer, fenced); /* src/dispatch.c:128 emit_general: `TETHER__SECTION(sec) = {c, tether__epoch_in(r, c, !tether__use_membarrier)};` */
  do
  :: atomic {
       /* src/dispatch.c:131 emit_general: `tether__lookup(atomic_load_explicit(&r->table, memory_order_acquire), name, len, h);` */
       p = tw[0];
       hold[me] = p;
       assert(q == 0 || p != q) /* the replaced entry's successor is in the table */
     }
     if
     :: p == 0 -> break /* src/dispatch.c:132 emit_general: `if (node == NULL) return 0;` */
     :: else -> skip
     fi;
     call_entry(p - 1);
     if
     :: res == AGAIN -> q = p /* src/dispatch.c:134 emit_general: `if (n != AGAIN) return n;` */
     :: else -> called = (res == CALLED); break
     fi
  od;
  epoch_out(outer, fenced, hold[me]);
#ifdef REPLACE
  assert(called || unreg_won);
#endif
  p = 0;
  q = 0;
  res = 0
}

/* tether_unregister by id: claim_id, then the removal. */
inline unregister(o) {
  atomic {
    lock_mu(); /* src/registry.c:543 claim_id: `pthread_mutex_lock(&r->mu);` */
    /* src/registry.c:545 claim_id: `if (e != NULL && !tether__claim(e)) e = NULL;` */
    if
    :: oids[o] -> claim(o)
    :: else -> won = 0
    fi;
#ifdef REPLACE
    unreg_won = won;
#endif
    unlock_mu() /* src/registry.c:547 claim_id: `pthread_mutex_unlock(&r->mu);` */
  }
  if
  :: won ->
     won = 0;
     finish_removal(o); /* src/registry.c:557 tether_unregister: `tether__finish_removal(r, e, expired ? TETHER__BY_EXPIRY : TETHER__BY_UNREGISTER);` */
     removed_ret[o] = 1
  :: else -> skip
  fi
}

#ifndef REPLACE
/* tether_sweep (tether__sweep): claims under the mutex what has expired, then
 * removes it. One batch: the model has one entry. */
inline sweep(o) {
  /* src/registry.c:922 tether_sweep: `size_t removed = tether__sweep(r, &scanned);` */
  handoff_finish(); /* src/registry.c:898 tether__sweep: `tether__handoff_finish(r);` */
  atomic {
    lock_mu(); /* src/registry.c:906 tether__sweep: `pthread_mutex_lock(&r->mu);` */
    /* src/registry.c:892 claim_expired: `if (b->now >= exp && tether__claim(e)) b->claimed[b->n++] = e;` */
    if
    :: oids[o] && oexp[o] != 0 && now >= oexp[o] -> claim(o)
    :: else -> won = 0
    fi;
    unlock_mu() /* src/registry.c:910 tether__sweep: `pthread_mutex_unlock(&r->mu);` */
  }
  if
  :: won -> won = 0; finish_removal(o) /* src/registry.c:911 tether__sweep: `tether__finish_removal(r, b.claimed[i], TETHER__BY_EXPIRY);` */
  :: else -> skip
  fi
}

proctype writer() {
  byte me = NOBODY, s, sl, old, hlist, hk;
  bit won, unl, hmine;
  COLLECT_LOCALS;
  if
  :: unregister(0)
  :: sweep(0)
  fi
}

/* tether_touch(r, id, 2): remove it when already expired, else move the
 * deadline and bump the version in the state word. */
proctype toucher() {
  byte me = NOBODY, s, sl, old, x;
  bit won, unl, expired;
  COLLECT_LOCALS;
  atomic {
    lock_mu(); /* src/registry.c:858 tether_touch: `pthread_mutex_lock(&r->mu);` */
    /* src/registry.c:861 tether_touch: `if (e == NULL || tether__state(e) != TETHER__LIVE) {` */
    won = oids[0] && STATE(0) == LIVE;
    if
    :: !won -> unlock_mu() /* src/registry.c:872 tether_touch: `pthread_mutex_unlock(&r->mu);` */
    :: else -> skip
    fi
  }
  if
  :: won ->
     won = 0;
     atomic {
       /* src/registry.c:220 expired_now: `uint64_t exp = atomic_load_explicit(&e->expires_at, memory_order_relaxed);` */
       x = oexp[0];
       expired = (x != 0 && now >= x) /* src/registry.c:221 expired_now: `return exp != 0 && tether__now(r) >= exp;` */
     }
     if
     :: expired ->
        atomic {
          claim(0); /* src/registry.c:866 tether_touch: `if (!tether__claim(e)) e = NULL;` */
          unlock_mu() /* src/registry.c:872 tether_touch: `pthread_mutex_unlock(&r->mu);` */
        }
        if
        :: won -> won = 0; finish_removal(0) /* src/registry.c:873 tether_touch: `if (e != NULL) tether__finish_removal(r, e, TETHER__BY_EXPIRY);` */
        :: else -> skip
        fi
     :: else ->
        /* src/registry.c:841 set_deadline_locked: `atomic_store_explicit(&e->expires_at, exp, memory_order_relaxed);` */
        oexp[0] = now + 2;
        atomic {
          if
          :: STATE(0) != LIVE -> skip /* src/registry.c:844 set_deadline_locked: `if ((s & TETHER__STATE_MASK) != TETHER__LIVE) return TETHER_ENOENT;` */
          :: else ->
#ifndef MUT_TOUCH_NO_VERSION
             /* src/registry.c:845 set_deadline_locked: `uint32_t next = s + TETHER__S_VERSION;` */
             ostate[0] = ostate[0] + S_VERSION;
#endif
             /* src/registry.c:850 set_deadline_locked: `if (atomic_compare_exchange_weak_explicit(&e->state, &s, next, memory_order_release,` */
             ostate[0] = ostate[0] | S_SLOW;
             touch_ok = 1;
             touch_dl = oexp[0]
          fi;
          unlock_mu() /* src/registry.c:872 tether_touch: `pthread_mutex_unlock(&r->mu);` */
        }
     fi
  :: else -> skip
  fi
}

proctype clock() {
  do
  :: now < NOWMAX -> now++
  :: else -> break
  od
}
#else
/* tether_register with TETHER_REPLACE of entry 1 over entry 0: publish the new
 * entry in the old one's bucket, then claim the old one with the replaced mark. */
inline publish_new() {
  oids[1] = 1; /* src/registry.c:459 plan_commit: `tether__ids_insert(r, e, (e->flags & TETHER__F_BUS) ? p->slot : NULL);` */
  tw[0] = 2 /* src/registry.c:473 plan_commit: `tether__table_set(r, p->at, e, h);` */
}

inline claim_old() {
  if
  :: cur && STATE(0) == LIVE ->
     /* src/registry.c:446 claim_replaced: `if (atomic_compare_exchange_weak_explicit(&e->state, &s, claimed, memory_order_acq_rel,` */
#ifdef MUT_REPLACE_NO_MARK
     ostate[0] = (ostate[0] & ~ST_MASK) | CLAIMED;
#else
     /* src/registry.c:445 claim_replaced: `uint32_t claimed = (s & ~TETHER__STATE_MASK) | TETHER__CLAIMED | TETHER__S_REPLACED;` */
     ostate[0] = (ostate[0] & ~ST_MASK) | CLAIMED | S_REPLACED;
#endif
     won = 1;
     claimed_ghost(0)
  :: else -> won = 0
  fi
}

proctype replacer() {
  byte me = NOBODY, s, sl, old;
  bit won, unl, cur;
  COLLECT_LOCALS;
  atomic {
    lock_mu(); /* src/registry.c:500 tether_register_at: `pthread_mutex_lock(&r->mu);` */
    /* src/registry.c:414 plan_register: `if (tether__state(cur) != TETHER__LIVE) cur = NULL;` */
    cur = (tw[0] == 1 && STATE(0) == LIVE);
#ifdef MUT_REPLACE_CLAIM_FIRST
    claim_old()
  }
  atomic { publish_new() }
#else
    publish_new()
  }
  /* src/registry.c:482 plan_commit: `return p->replaced != NULL && claim_replaced(p->replaced);` */
  atomic { claim_old() }
#endif
  unlock_arm(); /* src/registry.c:527 tether_register_at: `int many = tether__unlock(r);` */
  if
  :: won -> won = 0; finish_removal(0) /* src/registry.c:534 tether_register_at: `if (claimed_old) tether__finish_removal(r, p.replaced, p.replaced_why);` */
  :: else -> skip
  fi
}

proctype writer() {
  byte me = NOBODY, s, sl, old;
  bit won, unl;
  COLLECT_LOCALS;
  unregister(0)
}
#endif

init {
  atomic {
    nrec = NRD;
    rec_thread[0] = 1;
    tw[0] = 1;
    oids[0] = 1;
#ifndef REPLACE
    oonce[0] = 1;
    oexp[0] = 1;
    ostate[0] = LIVE | S_SLOW;
    run clock();
    run toucher();
#else
    run replacer();
#endif
    run bg();
    run reader(0);
    run writer()
  }
}

ltl live { [] <> !PENDING }
