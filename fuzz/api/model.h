/* The reference model of the API fuzzer (fuzz/fuzz-api.c): what libtether's
 * contract says each call does, on plain arrays, written to be read rather than
 * to be fast. One model per fuzzing thread: the threads use disjoint names,
 * owners and ids, so each thread's registrations follow its own model alone.
 *
 * The model knows registrations by the index of their record, in the order they
 * were attempted (which is also registration order); the ids the library gave
 * are kept in the records and only compared, never interpreted. It knows
 * nothing of the library's internals. */
#ifndef TETHER_FUZZ_API_MODEL_H
#define TETHER_FUZZ_API_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "tether/tether.h"

#define M_MAX_REGS 192 /* registration attempts per thread and input */
#define M_MAX_OWNERS 8
#define M_MAX_REFS 32
#define M_MAX_TOPICS 16
#define M_NAMES 8 /* valid names per thread: see fuzz-api.c */

/* A registration's life: attempted and refused (FAILED), registered and not
 * removed (PRESENT: maybe expired, but nothing has looked at it since), its
 * TETHER_ONCE call running (RUNNING: claimed, not yet counted as removed), and
 * REMOVED. */
enum { M_FAILED = 1, M_PRESENT, M_RUNNING, M_REMOVED };

typedef struct m_reg {
  int state;
  tether_id id;   /* what tether_register stored */
  int name;       /* index in the thread's name table */
  unsigned flags; /* TETHER_ONCE, TETHER_COPY_CTX as registered */
  uint64_t ctx_size;
  int owner;         /* index in owner[], or -1 */
  uint64_t deadline; /* 0: no TTL; at or after it the registration is never called */
  uint64_t created;  /* the clock at registration */
  int why;           /* tether_removal, once REMOVED */
  int refs;          /* live refs this thread holds on it */
  int has_free;      /* a ctx_free that the library must call (not with COPY_CTX) */
  int has_notify;    /* an on_remove callback */
} m_reg;

typedef struct m_owner {
  int live;
  /* Whether a tether_register call with this owner got far enough to note the
   * registry in the owner (0 no, 1 maybe: it failed with ENOMEM, 2 yes): the
   * owner's free_sync from a callback of this registry is then EDEADLK. */
  int noted;
} m_owner;

typedef struct m_ref {
  int live;
  int reg;
} m_ref;

typedef struct m_topic {
  int live;
  int name;
} m_topic;

typedef struct m_totals {
  uint64_t registered, unregistered, expired, owner_removed, replaced;
} m_totals;

typedef struct model {
  int mode;     /* TETHER_MAP or TETHER_BUS */
  uint64_t now; /* the thread's clock */
  int inside;   /* callbacks of the registry on this thread's stack */
  int entered;  /* dispatch has allocated this thread's record already */
  m_reg reg[M_MAX_REGS];
  int nreg;
  m_owner owner[M_MAX_OWNERS];
  int nowner;
  m_ref ref[M_MAX_REFS];
  int nref;
  m_topic topic[M_MAX_TOPICS];
  int ntopic;
  m_totals tot;
} model;

void m_init(model *m, int mode, uint64_t now);

/* Whether registration J has a deadline that the clock has reached. */
int m_expired(const model *m, int j);
/* Whether a dispatch now would call J: present, and before its deadline. */
int m_callable(const model *m, int j);
/* The removal of J for WHY (a tether_removal). */
void m_remove(model *m, int j, int why);
/* The record whose id is ID, or -1. */
int m_find_id(const model *m, tether_id id);

/* ---- registration ---- */

typedef struct m_regargs {
  int name; /* -1: NULL, -2: "", -3: longer than TETHER_NAME_MAX, else an index */
  int fn_null;
  int ctx_null;
  unsigned flags; /* as passed, unknown bits included */
  uint64_t ctx_size;
  uint64_t ttl;
  int owner; /* -1 none */
  int has_free, has_notify;
} m_regargs;

/* The codes tether_register may return for A, as a mask of bits (1 << -rc),
 * bit 0 for success. */
unsigned m_register_expect(const model *m, const m_regargs *a);
/* The registration of A succeeded with ID: the new record's index. */
int m_register_apply(model *m, const m_regargs *a, tether_id id);
/* A registration attempt that was refused: recorded (its context must never be
 * destroyed by the library) and the owner noted as the code implies. */
int m_register_failed(model *m, const m_regargs *a, int rc);

/* ---- removal ---- */

int m_unregister(model *m, int j);         /* J -1: an unknown id */
int m_unregister_name(model *m, int name); /* how many were removed */
/* Whether a wait (barrier, unregister_sync of J) must refuse: a callback of the
 * registry is on the stack, or this thread holds a ref of J or of a removed
 * registration. */
int m_wait_refused(const model *m, int j);
int m_sweep(model *m);
void m_owner_free(model *m, int o);
/* 1: tether_owner_free_sync(O) must be EDEADLK, 0: must not be, -1: either. */
int m_owner_sync_refused(const model *m, int o);
/* tether_registry_free: removes every registration present; how many. */
int m_registry_free(model *m);

/* ---- TTL and refs ---- */

int m_touch(model *m, int j, uint64_t ttl); /* expected code, applied */
int m_acquire(model *m, int j);             /* expected code; on 0 the caller adds the ref */
/* Whether holding refs or topics makes tether_registry_free refuse. */
int m_holds(const model *m);

/* ---- dispatch ----
 * An emit, call, topic emit or ref call is followed as the library makes its
 * calls: m_frame_begin lists the handlers it may call, in registration order
 * (BUS) and as they are when it starts (a handler registered during it is not
 * in the list); m_frame_call checks each call the library makes against that
 * list, and m_frame_end what was left when it returned. */
typedef struct m_frame {
  int list[M_MAX_REGS];
  int n, pos;
  int first_only; /* tether_call, tether_ref_call: the first call ends it */
  int called;
  int stopped; /* a handler returned TETHER_STOP */
  int first_ret;
} m_frame;

void m_frame_begin(const model *m, m_frame *f, int name, int first_only);
void m_frame_begin_ref(const model *m, m_frame *f, int j);
/* The library calls J: NULL when that is the expected next call (then J is
 * claimed when TETHER_ONCE), else why not. */
const char *m_frame_call(model *m, m_frame *f, int j);
/* J's handler returned RET. */
void m_frame_return(model *m, m_frame *f, int j, int ret);
/* The dispatch returned: NULL when no call is missing, else what is. */
const char *m_frame_end(model *m, m_frame *f);

/* How many registrations a dispatch would call for NAME now (tether_count). */
int m_count(const model *m, int name);

/* ---- what the stats must say ---- */

/* live and live_bytes: registrations not yet removed (an expired one counts
 * until something looks at it; a TETHER_ONCE one until its call returns). */
uint64_t m_live(const model *m);
uint64_t m_live_bytes(const model *m);
/* How many removals have completed (each owes exactly one destructor run). */
uint64_t m_removed(const model *m);

#endif
