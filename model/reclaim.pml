/* The reclamation protocol: readers that enter and leave read sections with the
 * per-registry epoch, through the thread-local record cache, nested sections
 * and thread exit, their stores sitting in a store buffer until a fence or a
 * membarrier; a writer that claims, unlinks and retires two entries and may
 * reclaim inline; the background thread with its due time and doorbell.
 *
 *   safety:   no destructor while a reader holds its entry (from the load of the
 *             pointer to the end of the section, which covers the call), each
 *             destructor at most once, a record released only outside sections;
 *   liveness: with weak fairness, every retired entry is destroyed once the
 *             readers have left (guarantee 5): `live`.
 *
 * Built with -DFENCED for the fence fallback; membarrier otherwise. */
#define NNAME 2
#define NOBJ 2
#define SB_ON
#ifndef NW
#define NW 2              /* entries the writer unregisters */
#endif
#ifndef R0
#define R0 1, 1, 0        /* reader 0: threads, calls per thread, nesting */
#endif
#ifndef R1
#define R1 1, 1, 1
#endif
/* Whether reader 0, 1 starts with its record (record 0, 1) attached and cached;
 * else its first call attaches one. */
#ifndef ATTACHED0
#define ATTACHED0 1
#endif
#ifndef ATTACHED1
#define ATTACHED1 1
#endif
#if ATTACHED1 && !ATTACHED0
#error "reader 1 starts attached only if reader 0 does"
#endif
#include "common.pml"

#ifdef BARRIER
bit writer_done;          /* the writer, its barrier included, has returned */
#define WRITER_DONE writer_done
#else
#define WRITER_DONE 1     /* a writer without a wait cannot block */
#endif

/* A handler that may emit again: a nested read section, of the other name. Its
 * one access others can see is the load of the table word, so it is one step. */
inline emit_nested() {
  atomic {
    if
    :: tls == TLS_EXACT -> fenced2 = FAST_FENCED
    :: else -> rec_slow(); fenced2 = !USE_MEMBARRIER
    fi;
    epoch_in(outer2, fenced2);
    assert(!outer2);
    /* src/dispatch.c:192 emit_name: `uint64_t d0 = atomic_load_explicit(&t->b[i], memory_order_acquire) ^ htag;` */
    q = tw[1 - k];
    if
    :: q != 0 ->
       hold2[me] = q;
       assert(!destroyed[q - 1])
    :: else -> skip
    fi;
    /* src/internal.h:1037 tether__section_end_fast: `tether__leave_fast(s->c, s->outer);` */
    epoch_out(outer2, fenced2, hold2[me]);
    q = 0; outer2 = 0; fenced2 = 0
  }
}

/* tether_emit of one of the names: the fast path when the cache matches
 * exactly, else the general path. */
inline emit() {
  atomic {
    if
    :: tls == TLS_EXACT -> /* src/dispatch.c:180 emit_name: `if (TETHER__UNLIKELY(tether__tls_last.serial != r->serial))` */
       /* src/dispatch.c:184 emit_name: `TETHER__SECTION_FAST(sec) = {c, tether__epoch_in(r, c, TETHER__FAST_FENCED)};` */
       fenced = FAST_FENCED
    :: else ->
       rec_slow(); /* src/dispatch.c:126 emit_general: `tether__rec *c = tether__rec_get(r);` */
       /* src/dispatch.c:128 emit_general: `TETHER__SECTION(sec) = {c, tether__epoch_in(r, c, !tether__use_membarrier)};` */
       fenced = !USE_MEMBARRIER
    fi
  }
  epoch_in(outer, fenced);
  atomic {
    select (k : 0 .. NNAME - 1);
    /* src/dispatch.c:192 emit_name: `uint64_t d0 = atomic_load_explicit(&t->b[i], memory_order_acquire) ^ htag;` */
    p = tw[k];
    if
    :: p != 0 ->
       hold[me] = p;
       assert(!destroyed[p - 1]);
       /* src/dispatch.c:208 emit_name: `uint32_t st = atomic_load_explicit(&e->state, memory_order_acquire);` */
       /* src/dispatch.c:209 emit_name: `if (TETHER__LIKELY(st == 0)) {` */
       /* The entries here have no TTL, no ONCE and no call tracking: a word of 0
        * is a live entry, called here; any other word is claimed or retired, and
        * call_entry (by dispatch_node) skips it. The tracked-entry branch after
        * `st == 0` is never taken (call counts are not modelled). */
       called = (STATE(p - 1) == LIVE)
    :: else -> skip
    fi;
    p = 0
  }
  if
  :: called && nest -> emit_nested() /* src/dispatch.c:210 emit_name: `int v = e->fn(e->ctx, arg);` */
  :: else -> skip
  fi;
  /* src/internal.h:1037 tether__section_end_fast: `tether__leave_fast(s->c, s->outer);` */
  epoch_out(outer, fenced, hold[me]);
  d_step { k = 0; outer = 0; fenced = 0; called = 0 }
}

/* A reader thread, then LIVES - 1 more threads on the same CPU, each making SECS
 * calls; NEST: its handlers may emit again. */
proctype reader(byte me; byte lives; byte secs; bit nest; bit att) {
  byte rec = NOBODY, tls = TLS_NONE, k, v, g, p, q, j, old, life, sec;
  bit mapped, outer, outer2, fenced, fenced2, called;
  /* ATT: the thread's record exists and is cached, as its first call left it. */
  if
  :: att -> d_step { rec = me; mapped = 1; tls = TLS_AFTER_SLOW }
  :: else -> skip
  fi;
  do
  :: life < lives ->
     sec = 0;
     do
     :: sec < secs -> emit(); sec++
     :: else -> break
     od;
     thread_exit();
     life++
  :: else -> break
  od
}

/* tether_unregister of both entries. */
proctype writer() {
  byte me = NOBODY, s, sl, old, target;
  bit won, unl, pend;
  COLLECT_LOCALS;
  claim(0); /* src/registry.c:545 claim_id: `if (e != NULL && !tether__claim(e)) e = NULL;` */
  assert(won);
  finish_removal(0); /* src/registry.c:557 tether_unregister: `tether__finish_removal(r, e, expired ? TETHER__BY_EXPIRY : TETHER__BY_UNREGISTER);` */
#ifdef BARRIER
  /* tether_barrier: every entry removed before it has been destroyed when it returns. */
  drain(); /* src/registry.c:582 tether_barrier: `return tether__drain(r, TETHER__DRAIN_BARRIER);` */
  assert(dtor_done[0]);
  writer_done = 1;
#endif
#if NW > 1
  claim(1); /* src/registry.c:545 claim_id: `if (e != NULL && !tether__claim(e)) e = NULL;` */
  assert(won);
  finish_removal(1); /* src/registry.c:557 tether_unregister: `tether__finish_removal(r, e, expired ? TETHER__BY_EXPIRY : TETHER__BY_UNREGISTER);` */
#endif
}

init {
  atomic {
    tw[0] = 1;
    tw[1] = 2;
    oname[0] = 0;
    oname[1] = 1;
    /* Records of the readers that start attached: reader 0's, then reader 1's. */
    nrec = ATTACHED0 + ATTACHED1;
    rec_thread[0] = ATTACHED0;
    rec_thread[1] = 2 * ATTACHED1;
    run cpu(0);
    run cpu(1);
    run bg();
    run reader(0, R0, ATTACHED0);
    run reader(1, R1, ATTACHED1);
    run writer()
  }
}

/* Liveness: nothing stays pending, and the writer (its barrier included) returns. */
ltl live { [] <> (!PENDING && WRITER_DONE) }
