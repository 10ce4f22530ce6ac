/* The pieces of libtether's reclamation protocol that every model shares: the
 * registry's memory, the readers' store buffers, thread records, read sections,
 * the reclaimer (epoch advance, limbo, collect, destroy), arming and the
 * background thread, and removal under the mutex.
 *
 * Each step names the function and the line of src/ it models, with a piece of
 * that line's text (model/check-refs.sh checks that they still agree).
 *
 * A model sets, before including this file:
 *   NRD      reader threads (each on a CPU with a store buffer)
 *   NNAME    names in the table
 *   NOBJ     nodes (entries and slots); object O is entry or slot O
 *   SB_ON    readers' stores go through store buffers (else they are seen at once)
 * and may set FENCED (the fence fallback: no membarrier). */

#ifndef NRD
#define NRD 2
#endif
#define NREC NRD          /* at most one record per reader thread alive */
#define NOBODY 255        /* the `me` of a writer-side thread: no store buffer */
#ifndef SB
#define SB 2              /* store-buffer entries per reader CPU */
#endif

#ifdef FENCED
#define USE_MEMBARRIER 0
#else
#define USE_MEMBARRIER 1
#endif
#define FAST_FENCED 0     /* TETHER__FAST_FENCED outside ThreadSanitizer builds */

/* The state word of an entry (src/internal.h), in a byte: the state in bits 0-1,
 * then the slow bit, the replaced mark and a touch version (bits 4-7). */
#define LIVE 0
#define CLAIMED 1
#define RETIRED 2
#define ZOMBIE 3
#define ST_MASK 3
#define S_SLOW 4
#define S_REPLACED 8
#define S_VERSION 16
#define STATE(o) (ostate[o] & ST_MASK)

/* ---- the registry's memory ---- */
byte gepoch = 1;          /* r->epoch */
byte nrec;                /* records linked into r->recs (a list only ever prepended) */
byte rec_epoch[NREC];     /* rec->epoch */
bit rec_help[NREC];       /* rec->help */
byte rec_thread[NREC];    /* rec->thread: 0 free, else reader + 1 */
bit gmu;                  /* tether__g_mu (taken by readers attaching or exiting) */

byte tw[NNAME];           /* the table's word for each name: 0, or node + 1 */
byte ostate[NOBJ];        /* entry: its state word */
bit oslot[NOBJ];          /* the node is a slot */
byte shand[NOBJ];         /* slot: its single handler (entry + 1) or 0 */
byte stopics[NOBJ];       /* slot: topic_refs */
byte oname[NOBJ];         /* the node's name */
byte orefs[NOBJ];         /* entry: refs (tether_ref holders) */
byte oepoch[NOBJ];        /* retire epoch */
bit destroyed[NOBJ];      /* its destructor (or free) has run */
bit oretired[NOBJ];       /* it has been retired */
byte nretired;            /* objects retired so far */
byte nclaims;             /* successful claims (LIVE -> CLAIMED) of any kind */
byte nrem;                /* claimed entries unlinked and retired (tether__remove_locked) */
byte nclaim[NOBJ];        /* successful claims of each entry: at most one */
bit oids[NOBJ];           /* the entry is in the id index */
byte ndestroyed;          /* objects destroyed so far (zombies count once destroyed) */

byte limq[NOBJ];          /* limbo, oldest first */
byte limn;
byte inflight;            /* batches collected, not yet destroyed */
#ifdef BARRIER
bit dtor_done[NOBJ];      /* its destructor has returned (its batch left the in-flight list) */
#endif
bit mu;                   /* r->mu */

bit bg_armed;             /* r->bg_armed */
bit due;                  /* r->bg_due_ms != 0 (the clock is abstracted: due work is done) */
bit rung;                 /* g_bell moved since the background thread read it */
bit bg_sleeping;          /* g_bg_sleeping */
bit bg_waiting;           /* the background thread is blocked in FUTEX_WAIT */
byte hand;                /* r->handoff: the entries readers claimed (a bit each) */
byte hbusy;               /* r->handoff_busy */

/* What readers hold: the node each reader's outermost and nested dispatch loaded
 * (node + 1), from the load of the pointer to the end of the section. */
byte hold[NRD];
byte hold2[NRD];

/* ---- store buffers (readers only) ----
 * Variables a reader stores with plain or release stores: its record's epoch,
 * help and thread words, the record list head, and g_mu's release. */
#define V_EPOCH(k) (k)
#define V_HELP(k) (NREC + (k))
#define V_THREAD(k) (2 * NREC + (k))
#define V_NREC (3 * NREC)
#define V_GMU (3 * NREC + 1)
/* A store that also releases g_mu as it reaches memory: the unlock that follows
 * it in program order is the next entry of the same FIFO, and only a thread
 * locking g_mu could tell the two apart, which it cannot do in between. */
#define V_UNLOCK 64

#ifdef SB_ON
byte sb_n[NRD];
byte sb_var[NRD * SB];
byte sb_val[NRD * SB];
hidden byte sb_i;         /* scratch of sb_commit (not part of the state) */
#endif
hidden byte mw_var;       /* scratch of mem_write (always inside a d_step) */

inline mem_write(vr0, vl) {
  mw_var = vr0 & ~V_UNLOCK;
  if
  :: mw_var < NREC -> rec_epoch[mw_var] = vl
  :: mw_var >= NREC && mw_var < 2 * NREC -> rec_help[mw_var - NREC] = vl
  :: mw_var >= 2 * NREC && mw_var < 3 * NREC -> rec_thread[mw_var - 2 * NREC] = vl
  :: mw_var == V_NREC -> nrec = vl
  :: mw_var == V_GMU -> gmu = vl
  fi;
  if
  :: (vr0) & V_UNLOCK -> gmu = 0
  :: else -> skip
  fi;
  mw_var = 0
}

inline mem_read(vr, res) {
  if
  :: vr < NREC -> res = rec_epoch[vr]
  :: vr >= NREC && vr < 2 * NREC -> res = rec_help[vr - NREC]
  :: vr >= 2 * NREC && vr < 3 * NREC -> res = rec_thread[vr - 2 * NREC]
  :: vr == V_NREC -> res = nrec
  :: vr == V_GMU -> res = gmu
  fi
}

#ifdef SB_ON
/* The oldest buffered store of CPU C reaches memory. */
inline sb_commit(c) {
  mem_write(sb_var[c * SB], sb_val[c * SB]);
  sb_i = 1;
  do
  :: sb_i < SB ->
     sb_var[c * SB + sb_i - 1] = sb_var[c * SB + sb_i];
     sb_val[c * SB + sb_i - 1] = sb_val[c * SB + sb_i];
     sb_i++
  :: else -> break
  od;
  sb_var[c * SB + SB - 1] = 0;
  sb_val[c * SB + SB - 1] = 0;
  sb_i = 0;
  sb_n[c]--
}

/* A plain or release store: into the buffer (waits while it is full). */
inline st(vr, vl) {
  atomic {
    sb_n[me] < SB ->
    sb_var[me * SB + sb_n[me]] = vr;
    sb_val[me * SB + sb_n[me]] = vl;
    sb_n[me]++
  }
}

/* A load of a variable this CPU may have stored: the newest buffered store
 * wins (store forwarding), else memory. */
inline ld(vr, res) {
  d_step {
    mem_read(vr, res);
    j = 0;
    do
    :: j < sb_n[me] ->
       if
       :: (sb_var[me * SB + j] & ~V_UNLOCK) == vr -> res = sb_val[me * SB + j]
       :: else -> skip
       fi;
       j++
    :: else -> break
    od;
    j = 0
  }
}

/* A full fence, or a locked instruction (x86-TSO): this CPU's buffer drains. */
inline fence_self() {
  d_step {
    do
    :: sb_n[me] > 0 -> sb_commit(me)
    :: else -> break
    od
  }
}

/* membarrier(PRIVATE_EXPEDITED): every CPU running a thread of the process runs
 * a full barrier, so every reader's buffered stores are visible when it returns. */
inline membarrier() {
  d_step {
    j = 0;
    do
    :: j < NRD ->
       do
       :: sb_n[j] > 0 -> sb_commit(j)
       :: else -> break
       od;
       j++
    :: else -> break
    od;
    j = 0
  }
}

/* Each reader CPU drains its buffer in its own time, oldest store first. */
proctype cpu(byte c) {
end_cpu:
  do
  :: d_step { sb_n[c] > 0 -> sb_commit(c) }
  od
}
#else
inline st(vr, vl) {
  d_step { mem_write(vr, vl) }
}
inline ld(vr, res) {
  mem_read(vr, res)
}
inline fence_self() {
  skip
}
inline membarrier() {
  skip
}
#endif

/* A locked read-modify-write issued by thread ME drains its CPU's buffer first. */
inline rmw_fence() {
  if
  :: me < NRD -> fence_self()
  :: else -> skip
  fi
}

/* The writer side's fence: membarrier, or the fallback's full fence (writers
 * are modelled sequentially consistent, so that is a no-op here). */
inline writer_fence() {
#if USE_MEMBARRIER && !defined(MUT_NO_MEMBARRIER)
  /* src/reclaim.c:134 writer_fence: `MEMBARRIER_CMD_PRIVATE_EXPEDITED` */
  membarrier()
#else
  /* src/reclaim.c:138 writer_fence: `TETHER__FULL_FENCE();` */
  skip
#endif
}

inline lock_mu() {
  atomic { mu == 0 -> mu = 1 }
}
inline unlock_mu() {
  mu = 0
}

/* ---- thread records and the thread-local cache ----
 * A reader's locals: rec (its record), tls (tether__tls_last: TLS_NONE, or the
 * serial matched exactly, or with TETHER__TLS_FENCED set), mapped (its map has
 * the record). */
#define TLS_NONE 0
#define TLS_EXACT 1
#define TLS_FLAGGED 2
/* What tether__rec_slow leaves in the cache: an exact match only with membarrier. */
#if USE_MEMBARRIER || defined(MUT_TLS_UNFENCED)
#define TLS_AFTER_SLOW TLS_EXACT
#else
#define TLS_AFTER_SLOW TLS_FLAGGED
#endif

inline gmu_lock() {
  /* src/reclaim.c:300 tether__rec_slow: `pthread_mutex_lock(&tether__g_mu);` */
  atomic { fence_self(); gmu == 0 -> gmu = 1 }
}

/* tether__rec_slow: the thread's map, else attach_locked: the first free record
 * from the head of the list, else a new one, published at the head. */
inline rec_slow() {
  if
  :: tls == TLS_FLAGGED || mapped ->
     skip /* src/reclaim.c:291 tether__rec_peek: `return tether__tls_last.rec;` */
  :: else ->
     gmu_lock();
     atomic {
       fence_self(); /* the compare-and-swap below is a locked instruction */
       ld(V_NREC, k);
       rec = NOBODY;
       do
       :: k > 0 ->
          k--;
          /* src/reclaim.c:269 attach_locked: `atomic_compare_exchange_strong(&c->thread` */
          if
          :: rec_thread[k] == 0 -> rec_thread[k] = me + 1; rec = k; break
          :: else -> skip
          fi
       :: else -> break
       od;
       if
       :: rec == NOBODY ->
          /* src/reclaim.c:281 attach_locked: `atomic_init(&c->epoch, 0);` */
          ld(V_NREC, k);
          assert(k < NREC);
          rec = k;
          rec_thread[k] = me + 1;
          /* src/reclaim.c:286 attach_locked: `atomic_store_explicit(&r->recs, c, memory_order_release);` */
          /* src/reclaim.c:306 tether__rec_slow: `pthread_mutex_unlock(&tether__g_mu);` */
          st(V_NREC | V_UNLOCK, k + 1)
       :: else ->
          st(V_GMU, 0) /* src/reclaim.c:306 tether__rec_slow: `pthread_mutex_unlock(&tether__g_mu);` */
       fi;
       k = 0
     }
     mapped = 1
  fi;
  /* src/reclaim.c:321 tether__rec_slow: `tether__tls_last.serial = r->serial | (tether__use_membarrier` */
  tls = TLS_AFTER_SLOW
}

/* The thread ends: its key destructor releases the record. */
inline thread_exit() {
  /* src/reclaim.c:234 thread_exit: `pthread_mutex_lock(&tether__g_mu);` */
  atomic { fence_self(); gmu == 0 -> gmu = 1 }
  /* src/reclaim.c:237 thread_exit: `rec->epoch, memory_order_relaxed) == 0` */
  ld(V_EPOCH(rec), v);
  assert(v == 0);
  /* src/reclaim.c:238 thread_exit: `->thread, NULL, memory_order_release);` */
  /* src/reclaim.c:241 thread_exit: `pthread_mutex_unlock(&tether__g_mu);` */
  st(V_THREAD(rec) | V_UNLOCK, 0);
  /* src/reclaim.c:245 thread_exit: `tether__tls_last.serial = 0;` */
  tls = TLS_NONE;
  mapped = 0;
  rec = NOBODY
}

/* ---- read sections ---- */

/* tether__epoch_in: sets `outer`. FENCED is the caller's `fenced`. The load of
 * the registry's epoch and the store into the record are separate steps: a
 * writer may advance in between. */
inline epoch_in(outer, fenced) {
  atomic {
    /* src/internal.h:969 tether__epoch_in: `int outer = atomic_load_explicit(&c->epoch, memory_order_relaxed) == 0;` */
    ld(V_EPOCH(rec), v);
    if
    :: v == 0 ->
       outer = 1;
       /* src/internal.h:971 tether__epoch_in: `atomic_load_explicit(&r->epoch, memory_order_acquire)` */
       g = gepoch
    :: else -> outer = 0
    fi;
    v = 0
  }
  atomic {
    if
    :: outer ->
       /* src/internal.h:971 tether__epoch_in: `atomic_store_explicit(&c->epoch,` */
       st(V_EPOCH(rec), g);
       g = 0;
#ifndef MUT_NO_READER_FENCE
       if
       :: fenced -> fence_self() /* src/internal.h:974 tether__epoch_in: `TETHER__FULL_FENCE();` */
       :: else -> skip /* src/internal.h:976 tether__epoch_in: `atomic_signal_fence(memory_order_seq_cst);` */
       fi
#endif
    :: else -> skip
    fi
  }
}

/* tether__epoch_out, and tether__help when the flag is up. HELD is the reader's
 * hold on the node it loaded, dropped as the section ends. */
inline epoch_out(outer, fenced, held) {
  atomic {
    held = 0;
    /* src/internal.h:984 tether__epoch_out: `assert(atomic_load_explicit(&c->epoch, memory_order_relaxed) != 0);` */
    ld(V_EPOCH(rec), v);
    assert(v != 0);
    v = 0;
    if
    :: outer ->
#ifdef MUT_HELP_HOISTED
       ld(V_HELP(rec), v);
#endif
       /* src/internal.h:986 tether__epoch_out: `atomic_store_explicit(&c->epoch, 0, memory_order_release);` */
       st(V_EPOCH(rec), 0);
       if
       :: fenced -> fence_self() /* src/internal.h:990 tether__epoch_out: `TETHER__FULL_FENCE();` */
       :: else -> skip /* src/internal.h:992 tether__epoch_out: `atomic_signal_fence(memory_order_seq_cst);` */
       fi
    :: else ->
#ifdef MUT_NESTED_CLEAR
       st(V_EPOCH(rec), 0);
#endif
       skip
    fi
  }
  if
  :: outer ->
#ifdef MUT_NO_HELP_CHECK
     v = 0;
#elif !defined(MUT_HELP_HOISTED)
     /* src/internal.h:993 tether__epoch_out: `atomic_load_explicit(&c->help, memory_order_relaxed)` */
     ld(V_HELP(rec), v);
#endif
     if
     :: v ->
        /* src/reclaim.c:643 tether__help: `atomic_store_explicit(&c->help, 0, memory_order_relaxed);` */
        st(V_HELP(rec), 0);
        atomic {
          v = 0;
          if
          :: bg_armed -> skip /* src/reclaim.c:647 tether__help: `if (atomic_load_explicit(&r->bg_armed, memory_order_acquire)) return;` */
          :: else -> v = 1
          fi
        }
        if
        :: v -> v = 0; arm(0, 0) /* src/reclaim.c:648 tether__help: `tether__arm(r, 0);` */
        :: else -> skip
        fi
     :: else -> skip
     fi
  :: else -> skip
  fi
}

/* ---- arming and the background thread ---- */

inline ring(unlk) {
  /* src/reclaim.c:125 bell_ring: `atomic_fetch_add_explicit(&g_bell, 1, memory_order_seq_cst);` */
  atomic { rmw_fence(); rung = 1 }
  atomic {
    if
    :: bg_sleeping -> /* src/reclaim.c:126 bell_ring: `atomic_load_explicit(&g_bg_sleeping, memory_order_seq_cst)` */
       bg_waiting = 0 /* src/reclaim.c:127 bell_ring: `FUTEX_WAKE_PRIVATE` */
    :: else -> skip
    fi;
    if
    :: unlk -> unlock_mu()
    :: else -> skip
    fi
  }
}

/* tether__arm: DELAY is 0 (due now) or 1 (after a millisecond). UNL: the
 * caller's unlock of the mutex comes right after (tether__unlock), folded into
 * the last step. */
inline arm(delay, unl) {
  atomic {
    /* src/reclaim.c:657 tether__arm: `atomic_exchange_explicit(&r->bg_armed, 1, memory_order_acq_rel)` */
    rmw_fence();
    old = bg_armed;
    bg_armed = 1;
    if
    :: old != 0 && delay > 0 -> /* src/reclaim.c:657 tether__arm: `!= 0 && delay_ms > 0) return;` */
       if
       :: unl -> unlock_mu()
       :: else -> skip
       fi
    :: else -> skip
    fi
  }
  if
  :: old != 0 && delay > 0 -> old = 0
  :: else ->
     old = 0;
#ifdef MUT_BELL_FIRST
     atomic { rmw_fence(); rung = 1 }
     atomic {
       if
       :: bg_sleeping -> bg_waiting = 0
       :: else -> skip
       fi
     }
#endif
     atomic {
       /* src/reclaim.c:661 tether__arm: `!atomic_compare_exchange_weak_explicit(&r->bg_due_ms, &cur, due` */
       rmw_fence();
       due = 1
#ifdef MUT_BELL_FIRST
       ;
       if
       :: unl -> unlock_mu()
       :: else -> skip
       fi
#endif
     }
#ifndef MUT_BELL_FIRST
     ring(unl) /* src/reclaim.c:664 tether__arm: `bell_ring();` */
#endif
  fi
}

/* ---- retirement and collection (mutex held) ---- */

inline retire(o) {
  assert(!oretired[o]);                     /* retired (so destroyed) at most once */
  oretired[o] = 1;
  /* src/reclaim.c:410 tether__retire_obj: `uint64_t e = atomic_load_explicit(&r->epoch, memory_order_relaxed);` */
  oepoch[o] = gepoch;
  /* src/reclaim.c:417 tether__retire_obj: `r->limbo_tail = obj;` */
  limq[limn] = o;
  limn++;
  nretired++
}

/* A collecting thread's locals. */
#define COLLECT_LOCALS byte bm, ci, co, te, tn, tk, tv, j; bit blocked, flagged, adv, go

#ifdef MUT_EARLY
#define GRACE 1
#else
#define GRACE 2
#endif

/* The object O's destructor runs (or a slot is freed): checked when it becomes
 * possible, as the collecting thread unlocks (a reader cannot reach an object
 * again once it is unlinked, so a hold at that moment would still be there for
 * a destructor run at once). */
inline destroy(o) {
  assert(!destroyed[o]);                    /* exactly once */
  assert(oslot[o] || orefs[o] == 0);        /* never while a ref is held */
  assert(!oslot[o] || stopics[o] == 0);     /* a slot never while a topic pins it */
  j = 0;
  do
  :: j < NRD ->                             /* never while a reader holds it */
     assert(hold[j] != o + 1 && hold2[j] != o + 1);
     j++
  :: else -> break
  od;
  j = 0;
  destroyed[o] = 1;
  ndestroyed++;
  bm = bm | (1 << o)
}

/* tether__collect is a loop of at most two epoch advances, then the move of
 * what is old enough into the batch. It runs in phases: the decision with
 * try_advance's epoch load and first fence (collect_next, one step), the rounds
 * of scans (advance_rounds), the epoch store with the next decision (one step).
 * The batch is `bm`; the mutex is released (pthread_mutex_unlock right after the
 * collect, at each call site) in the step that forms it. */
inline collect_next() {
  if
  :: limn > 0 && adv && ci < 2 &&
#ifdef MUT_OLDEST
     !(oepoch[limq[0]] + 2 <= gepoch) ->
#else
     /* src/reclaim.c:467 tether__collect: `uint64_t newest = tether__retire_epoch(r->limbo_tail);` */
     /* src/reclaim.c:468 tether__collect: `if (newest + 2 <= atomic_load_explicit(&r->epoch, memory_order_relaxed)) break;` */
     !(oepoch[limq[limn - 1]] + 2 <= gepoch) ->
#endif
     go = 1;
     /* src/reclaim.c:424 try_advance: `uint64_t e = atomic_load_explicit(&r->epoch, memory_order_relaxed);` */
     te = gepoch;
     writer_fence() /* src/reclaim.c:436 try_advance: `writer_fence();` */
  :: else ->
     go = 0;
     /* src/reclaim.c:472 tether__collect: `tether__retire_epoch(r->limbo_head) + 2 <= now` */
     do
     :: limn > 0 && oepoch[limq[0]] + GRACE <= gepoch ->
        co = limq[0];
        limq[0] = limq[1];
        limq[1] = 0;
        limn--;
#ifndef MUT_ZOMBIE_IGNORED
        if
        :: !oslot[co] && orefs[co] > 0 -> /* src/reclaim.c:480 tether__collect: `if (en->refs > 0) {` */
           ostate[co] = ZOMBIE /* src/reclaim.c:483 tether__collect: `TETHER__ZOMBIE` */
        :: else -> destroy(co)
        fi
#else
        destroy(co)
#endif
     :: else -> break
     od;
     if
     :: bm != 0 -> inflight++ /* src/reclaim.c:499 tether__collect: `r->inflight = b;` */
     :: else -> skip
     fi;
     ci = 0; co = 0; adv = 0;
     unlock_mu()
  fi
}

/* The rounds of try_advance after the first fence (collect_next made it); sets
 * `adv` (0: it gave up). Each round scans the records from the head of the
 * list (the newest record, the highest index) down: a record inside at an
 * older epoch blocks, and gets its help flag unless it has it (the load of the
 * flag and the store are one step: only a reader's store of 0 could fall in
 * between, and it has the same effect moved before the pair, when the load
 * read 0, or after it, when it read 1). No blocker: the advance.
 * Blockers, all flagged before this round's fence: give up. Else one more fence
 * and round. */
#ifndef MUT_OLD_TRY_ADVANCE
inline advance_rounds() {
  do
  :: 
     /* src/reclaim.c:437 try_advance: `c = atomic_load_explicit(&r->recs, memory_order_acquire)` */
     tn = nrec;
     tk = tn;
     do
     :: tk > 0 ->
        atomic {
          /* src/reclaim.c:438 try_advance: `uint64_t v = atomic_load_explicit(&c->epoch, memory_order_acquire);` */
          tv = rec_epoch[tk - 1];
          if
          :: tv != 0 && tv != te -> skip
          :: else -> tv = 0; tk-- /* src/reclaim.c:439 try_advance: `if (v == 0 || v == e) continue;` */
          fi
        }
        if
        :: tv != 0 ->
           atomic {
             blocked = 1; /* src/reclaim.c:440 try_advance: `blocked = 1;` */
             if
             /* src/reclaim.c:441 try_advance: `if (!atomic_load_explicit(&c->help, memory_order_relaxed)) {` */
             :: !rec_help[tk - 1] ->
                /* src/reclaim.c:442 try_advance: `atomic_store_explicit(&c->help, 1, memory_order_relaxed);` */
                rec_help[tk - 1] = 1;
                flagged = 1 /* src/reclaim.c:443 try_advance: `flagged = 1;` */
             :: else -> skip
             fi;
             tv = 0;
             tk--
           }
        :: else -> skip
        fi
     :: else -> break
     od;
     if
     :: !blocked -> break /* src/reclaim.c:446 try_advance: `if (!blocked) break;` */
#ifdef MUT_GIVE_UP_UNFLAGGED
     :: else -> adv = 0; break
#else
     :: blocked && !flagged -> adv = 0; break /* src/reclaim.c:447 try_advance: `if (!flagged) return 0;` */
     :: else ->
        atomic {
          /* src/reclaim.c:435 try_advance: `int blocked = 0, flagged = 0;` */
          blocked = 0;
          flagged = 0;
          writer_fence() /* src/reclaim.c:436 try_advance: `writer_fence();` */
        }
#endif
     fi
  od;
  tk = 0;
  tn = 0;
  blocked = 0;
  flagged = 0
}
#else
/* MUT_OLD_TRY_ADVANCE: try_advance as it was before it flagged every blocker:
 * the first scan sets the help flag of every blocker, then, when blocked, one
 * more fence and a second scan that gives up on any blocker, flagged or not. */
inline advance_rounds() {
  tn = nrec;
  tk = tn;
  do
  :: tk > 0 ->
     atomic {
       tv = rec_epoch[tk - 1];
       if
       :: tv != 0 && tv != te -> skip
       :: else -> tv = 0; tk--
       fi
     }
     if
     :: tv != 0 -> atomic { rec_help[tk - 1] = 1; blocked = 1; tv = 0; tk-- }
     :: else -> skip
     fi
  :: else -> break
  od;
  if
  :: blocked ->
     atomic { writer_fence() }
     tn = nrec;
     tk = tn;
     do
     :: tk > 0 ->
        atomic {
          tv = rec_epoch[tk - 1];
          if
          :: tv != 0 && tv != te -> adv = 0; tk = 0
          :: else -> tk--
          fi;
          tv = 0
        }
     :: else -> break
     od
  :: else -> skip
  fi;
  tk = 0;
  tn = 0;
  blocked = 0
}
#endif

/* The rest of a collect whose first step (the lock, bm = 0, collect_begin) the
 * caller made. */
inline collect_begin() {
  bm = 0;
  ci = 0;
  adv = 1;
  collect_next()
}
inline collect_rest() {
  do
  :: go ->
     advance_rounds();
     atomic {
       if
       :: adv -> gepoch = te + 1; ci++ /* src/reclaim.c:449 try_advance: `atomic_store_explicit(&r->epoch, e + 1, memory_order_release);` */
       :: else -> skip /* src/reclaim.c:469 tether__collect: `if (!try_advance(r)) break;` */
       fi;
       te = 0;
       collect_next()
     }
  :: else -> break
  od
}

/* tether__destroy_batch (the destructors ran as the batch was formed), then
 * batch_run_end. */
inline destroy_batch() {
  if
  :: bm == 0 -> skip /* src/reclaim.c:592 tether__destroy_batch: `if (b->head == NULL) return;` */
  :: else ->
     atomic {
       lock_mu(); /* src/reclaim.c:566 batch_run_end: `pthread_mutex_lock(&r->mu);` */
       inflight--; /* src/reclaim.c:578 batch_run_end: `*p = x->b->next_inflight;` */
#ifdef BARRIER
       co = 0;
       do
       :: co < NOBJ -> if :: bm & (1 << co) -> dtor_done[co] = 1 :: else -> skip fi; co++
       :: else -> break
       od;
       co = 0;
#endif
       unlock_mu();
       bm = 0
     }
  fi
}

inline reclaim_now() {
  atomic {
    lock_mu(); /* src/reclaim.c:633 tether__reclaim_now: `pthread_mutex_lock(&r->mu);` */
    collect_begin() /* src/reclaim.c:634 tether__reclaim_now: `tether__collect(r, &b);` */
  }
  collect_rest(); /* src/reclaim.c:636 tether__reclaim_now: `pthread_mutex_unlock(&r->mu);` */
  destroy_batch() /* src/reclaim.c:637 tether__reclaim_now: `tether__destroy_batch(r, &b);` */
}

/* tether__reclaim_if: the writer reclaims on its own thread when limbo has grown
 * past TETHER__LIMBO_INLINE; the threshold is abstracted to a choice. */
inline reclaim_if() {
#ifdef INLINE_RECLAIM
  if
  :: reclaim_now() /* src/reclaim.c:623 tether__reclaim_if: `tether__reclaim_now(r);` */
  :: skip
  fi
#else
  skip
#endif
}

/* ---- removal under the mutex ---- */

/* Every claim that wins: exactly one per entry. */
inline claimed_ghost(o) {
  if
  :: won ->
     nclaim[o]++;
     nclaims++;
     assert(nclaim[o] == 1)
  :: else -> skip
  fi
}

/* tether__claim: LIVE -> CLAIMED with a compare-and-swap; sets `won`. */
inline claim(o) {
#ifdef MUT_CLAIM_NO_CAS
  won = 0;
  s = ostate[o];
  atomic {
    if
    :: (s & ST_MASK) == LIVE -> ostate[o] = (s & ~ST_MASK) | CLAIMED; won = 1
    :: else -> skip
    fi;
    claimed_ghost(o)
  }
#else
  /* src/internal.h:223 tether__claim: `if (atomic_compare_exchange_weak_explicit(&e->state, &s,` */
  atomic {
    rmw_fence();
    if
    :: STATE(o) == LIVE -> ostate[o] = (ostate[o] & ~ST_MASK) | CLAIMED; won = 1
    :: else -> won = 0
    fi;
    claimed_ghost(o)
  }
#endif
  s = 0
}

/* Removes slot S from the table once no topic and no handler holds it. */
inline slot_maybe_drop(sl) {
  if
#ifndef MUT_TOPIC_UNPINNED
  :: stopics[sl] > 0 || shand[sl] != 0 -> skip /* src/registry.c:200 slot_maybe_drop: `if (s->topic_refs > 0 || !slot_empty(s)) return;` */
#else
  :: shand[sl] != 0 -> skip
#endif
  :: else ->
     tw[oname[sl]] = 0; /* src/registry.c:211 slot_maybe_drop: `tether__table_remove(r, at);` */
     retire(sl) /* src/registry.c:212 slot_maybe_drop: `tether__retire_obj(r, &s->retire, TETHER__K_SLOT);` */
  fi
}

/* tether__remove_locked: unlink a claimed entry and retire it. */
inline remove_locked(o) {
  /* src/registry.c:249 tether__remove_locked: `assert(tether__state(e) == TETHER__CLAIMED);` */
  assert(STATE(o) == CLAIMED);
  /* src/registry.c:258 tether__remove_locked: `void *n = tether__lookup_at(t, e->tail, e->len, tether__node_hash(e), &at);` */
  sl = tw[oname[o]];
  if
  :: sl == o + 1 -> tw[oname[o]] = 0; sl = 0 /* src/registry.c:260 tether__remove_locked: `tether__table_remove(r, at);` */
  :: sl != 0 && oslot[sl - 1] -> skip /* src/registry.c:262 tether__remove_locked: `s = n;` */
  :: else -> sl = 0
  fi;
  if
  :: sl != 0 && shand[sl - 1] == o + 1 ->
     shand[sl - 1] = 0 /* src/registry.c:182 slot_unlink: `atomic_store_explicit(&s->handlers, 0, memory_order_release);` */
  :: else -> skip
  fi;
  oids[o] = 0; /* src/registry.c:264 tether__remove_locked: `tether__ids_remove(r, e);` */
  /* src/registry.c:273 tether__remove_locked: `atomic_store_explicit(` */
  ostate[o] = RETIRED | (ostate[o] & S_REPLACED);
  nrem++;
  retire(o); /* src/registry.c:277 tether__remove_locked: `tether__retire_obj(r, &e->u.retire, TETHER__K_ENTRY);` */
  if
  :: sl != 0 -> slot_maybe_drop(sl - 1) /* src/registry.c:278 tether__remove_locked: `if (s != NULL) slot_maybe_drop(r, s);` */
  :: else -> skip
  fi;
  sl = 0
}

/* tether__finish_removal of an entry without an owner. */
inline finish_removal(o) {
  atomic {
    lock_mu(); /* src/registry.c:287 tether__finish_removal: `pthread_mutex_lock(&r->mu);` */
    remove_locked(o) /* src/registry.c:290 tether__finish_removal: `tether__remove_locked(r, e, why);` */
  }
  unlock_arm(); /* src/registry.c:291 tether__finish_removal: `tether__reclaim_if(r, tether__unlock(r));` */
  reclaim_if()
}

/* tether__unlock: arms when limbo is not empty, then unlocks. */
inline unlock_arm() {
  if
  :: limn > 0 -> unl = 1; arm(1, unl); unl = 0 /* src/reclaim.c:615 tether__unlock: `if (pending) tether__arm(r, 1);` */
  :: else -> unlock_mu() /* src/reclaim.c:616 tether__unlock: `pthread_mutex_unlock(&r->mu);` */
  fi
}

/* ---- hand-off of reader-claimed entries (src/reclaim.c) ----
 * The lock-free stack is a set of entries (`hand`, a bit per entry): the order in
 * which the finisher takes them does not matter to anyone. */
inline handoff(o) {
  /* src/reclaim.c:677 tether__handoff: `} while (!atomic_compare_exchange_weak_explicit(&r->handoff, &head, node,` */
  atomic { rmw_fence(); hand = hand | (1 << o) }
#ifndef MUT_HANDOFF_NO_ARM
  arm(0, 0) /* src/reclaim.c:679 tether__handoff: `tether__arm(r, 0);` */
#endif
}

inline handoff_finish() {
  atomic {
    if
    :: hand != 0 -> /* src/reclaim.c:686 tether__handoff_finish: `if (atomic_load_explicit(&r->handoff, memory_order_acquire) != 0) {` */
       hbusy++; /* src/reclaim.c:687 tether__handoff_finish: `atomic_fetch_add_explicit(&r->handoff_busy, 1, memory_order_acq_rel);` */
       hmine = 1
    :: else -> skip
    fi
  }
  if
  :: hmine ->
     /* src/reclaim.c:689 tether__handoff_finish: `uintptr_t node = atomic_exchange_explicit(&r->handoff, 0, memory_order_acquire);` */
     atomic { hlist = hand; hand = 0 }
     hk = 0;
     do
     :: hk < NOBJ ->
        if
        :: hlist & (1 << hk) -> finish_removal(hk) /* src/reclaim.c:694 tether__handoff_finish: `tether__finish_removal(r, e, why);` */
        :: else -> skip
        fi;
        hk++
     :: else -> break
     od;
     /* src/reclaim.c:696 tether__handoff_finish: `atomic_fetch_sub_explicit(&r->handoff_busy, 1, memory_order_acq_rel);` */
     atomic { hk = 0; hlist = 0; hbusy--; hmine = 0 }
  :: else -> skip
  fi;
  /* src/reclaim.c:700 tether__handoff_finish: `while (atomic_load_explicit(&r->handoff_busy, memory_order_acquire) != 0) sched_yield();` */
  hbusy == 0
}

/* ---- waits: tether__drain (tether_barrier, tether_unregister_sync) ---- */

/* drain_pending: entries retired at or before `target` are in limbo, zombies, or
 * in a batch in flight (a batch's epoch is not kept: any counts). Sets `pend`. */
inline drain_pending() {
  pend = 0;
  co = 0;
  do
  :: co < limn ->
     /* src/reclaim.c:814 drain_pending: `if (tether__retire_kind(o) == TETHER__K_ENTRY && tether__retire_epoch(o) <= target) return 1;` */
     if
     :: !oslot[limq[co]] && oepoch[limq[co]] <= target -> pend = 1
     :: else -> skip
     fi;
     co++
  :: else -> break
  od;
  co = 0;
  do
  :: co < NOBJ ->
     /* src/reclaim.c:817 drain_pending: `if (wait_all || tether__retire_epoch(&z->u.retire) <= target) return 1;` */
     if
     :: STATE(co) == ZOMBIE && !destroyed[co] && oepoch[co] <= target -> pend = 1
     :: else -> skip
     fi;
     co++
  :: else -> break
  od;
  co = 0;
#ifndef MUT_DRAIN_SKIPS_INFLIGHT
  if
  :: inflight > 0 -> pend = 1 /* src/reclaim.c:819 drain_pending: `if (wait_all || f->min_epoch <= target) return 1;` */
  :: else -> skip
  fi
#endif
}

/* tether__drain(r, TETHER__DRAIN_BARRIER), for a caller holding no ref. */
inline drain() {
  atomic {
    lock_mu(); /* src/reclaim.c:829 tether__drain: `pthread_mutex_lock(&r->mu);` */
    /* src/reclaim.c:831 tether__drain: `uint64_t target = atomic_load_explicit(&r->epoch, memory_order_relaxed);` */
    target = gepoch
  }
  do
  :: atomic { collect_begin() } /* src/reclaim.c:841 tether__drain: `tether__collect(r, &b);` */
     collect_rest(); /* src/reclaim.c:842 tether__drain: `pthread_mutex_unlock(&r->mu);` */
     destroy_batch(); /* src/reclaim.c:843 tether__drain: `tether__destroy_batch(r, &b);` */
     atomic {
       lock_mu(); /* src/reclaim.c:844 tether__drain: `pthread_mutex_lock(&r->mu);` */
       drain_pending();
       if
       :: !pend -> unlock_mu() /* src/reclaim.c:845 tether__drain: `if (!drain_pending(r, target, wait_all)) break;` */
       :: else -> skip
       fi
     }
     if
     :: !pend -> break
     :: inflight > 0 ->
        /* src/reclaim.c:847 tether__drain: `pthread_cond_wait(&r->done_cv, &r->mu);` */
        unlock_mu();
        atomic { inflight == 0 -> lock_mu() }
     :: else ->
        /* src/reclaim.c:852 tether__drain: `nanosleep(&ts, NULL);` */
        unlock_mu();
        lock_mu()
     fi
  od;
  target = 0
}

/* The background thread: bg_main, and bg_work with the reclaim work only
 * (sweeping, the tick and profiles are left out: sweep_interval_ms is 0, calls
 * are not tracked, no profile directory). */
proctype bg() {
  byte old, me = NOBODY, s, sl, hlist, hk;
  bit unl, won, hmine;
  COLLECT_LOCALS;
  do
  :: atomic {
       bg_sleeping = 0; /* src/reclaim.c:754 bg_sleep: `atomic_store_explicit(&g_bg_sleeping, 0, memory_order_relaxed);` */
       /* src/reclaim.c:779 bg_main: `uint32_t seen = atomic_load_explicit(&g_bell, memory_order_seq_cst);` */
       rung = 0
     }
     if
#ifdef MUT_BG_ARMED_FIRST
     :: atomic { due -> bg_armed = 0 }
        due = 0;
#else
     :: atomic {
          /* src/reclaim.c:711 bg_pick_locked: `uint64_t due = atomic_load_explicit(&r->bg_due_ms, memory_order_acquire);` */
          /* src/reclaim.c:717 bg_pick_locked: `if (at[k] <= now) w |= 1 << k;` */
          due -> /* src/reclaim.c:791 bg_main: `if (work & BG_RECLAIM) {` */
          due = 0 /* src/reclaim.c:794 bg_main: `atomic_store_explicit(&r->bg_due_ms, 0, memory_order_seq_cst);` */
        }
        bg_armed = 0; /* src/reclaim.c:795 bg_main: `atomic_store_explicit(&r->bg_armed, 0, memory_order_seq_cst);` */
#endif
#ifdef HANDOFF
        handoff_finish(); /* src/reclaim.c:737 bg_work: `tether__handoff_finish(r);` */
#endif
        reclaim_now() /* src/reclaim.c:739 bg_work: `tether__reclaim_now(r);` */
     :: atomic {
          !due ->
          bg_sleeping = 1; /* src/reclaim.c:751 bg_sleep: `atomic_store_explicit(&g_bg_sleeping, 1, memory_order_seq_cst);` */
          /* src/reclaim.c:121 bell_wait: `FUTEX_WAIT_PRIVATE, seen` */
          if
          :: rung -> skip
          :: else -> bg_waiting = 1
          fi
        }
end_bg:
        !bg_waiting
     fi
  od
}

/* Something claimed is not yet retired, or something retired not yet destroyed. */
#define PENDING (nretired != ndestroyed || nclaims != nrem)
