/* libtether: a leak-proof, lock-free callback registry.
 *
 * A registry maps names to handlers (function + context). Every context has a
 * destructor that runs exactly once, after its registration is removed and never
 * while a call of it is running on any thread. Dispatch (tether_emit, tether_call,
 * tether_topic_emit) takes no lock and allocates nothing in the steady state;
 * writers serialise on a per-registry mutex and never wait for readers, except in
 * tether_unregister_sync and tether_barrier. docs/design.md explains how.
 *
 * Conventions for every function below:
 * - Functions returning int return 0 or a non-negative count on success and a
 *   negative TETHER_E* code on failure; on failure nothing was changed.
 * - "Any thread" means the function is thread-safe for any mix of callers.
 * - "From a callback" means from inside a handler called by the same registry
 *   (or a destructor run by it). Unless a function says otherwise, it may be
 *   called from a callback.
 * - Pointers passed in are borrowed for the duration of the call unless stated.
 */
#ifndef TETHER_TETHER_H
#define TETHER_TETHER_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(TETHER_BUILDING) && defined(__GNUC__)
#define TETHER_API __attribute__((visibility("default")))
#else
#define TETHER_API
#endif

#define TETHER_VERSION_MAJOR 0
#define TETHER_VERSION_MINOR 1
#define TETHER_VERSION_PATCH 0

typedef struct tether_registry tether_registry;
typedef struct tether_owner tether_owner;
typedef struct tether_ref tether_ref;
typedef struct tether_topic tether_topic;
typedef uint64_t tether_id; /* 0 is never a valid id; ids are never reused (nor ordered) */

/* A handler. Returning TETHER_STOP ends an emit; tether_call passes the return
 * value back to its caller. */
typedef int (*tether_fn)(void *ctx, void *arg);
/* A context destructor. Runs exactly once per registration, after the removal and
 * its grace period, on whichever thread reclaims it (the background thread, a
 * writer, a barrier, or the thread releasing the last ref), with no registry lock
 * held; it may call back into tether. It must return: unlike a handler, a
 * destructor must not throw, call pthread_exit or be cancelled. */
typedef void (*tether_free_fn)(void *ctx);

/* Where a registration (or a ref, or a topic) was made. The registry keeps its own
 * copy of each distinct site's strings, so they may go away afterwards (a plugin
 * that registered may be unloaded). */
typedef struct tether_site {
  const char *file;
  int line;
  const char *func;
} tether_site;
#ifdef __cplusplus
#define TETHER_HERE (tether_site{__FILE__, __LINE__, __func__})
#else
#define TETHER_HERE ((tether_site){__FILE__, __LINE__, __func__})
#endif

/* Registry modes. MAP: at most one handler per name. BUS: many, called in
 * registration order. */
enum { TETHER_MAP = 0, TETHER_BUS = 1 };

/* Registration flags. */
#define TETHER_REPLACE (1u << 0)  /* MAP: replace an existing handler instead of failing with TETHER_EEXIST */
#define TETHER_ONCE (1u << 1)     /* removed after its first call; exactly one caller gets that call */
#define TETHER_COPY_CTX (1u << 2) /* copy ctx_size bytes of *ctx into the registration; ctx_free is then not called */

#define TETHER_STOP 1

/* Why a registration was removed, as tether_reg_options.on_remove is told. */
typedef enum tether_removal {
  TETHER_REMOVED_UNREGISTER = 0,    /* tether_unregister, tether_unregister_name */
  TETHER_REMOVED_EXPIRED = 1,       /* its TTL ran out */
  TETHER_REMOVED_OWNER = 2,         /* its owner was freed */
  TETHER_REMOVED_REPLACED = 3,      /* TETHER_REPLACE registered over it */
  TETHER_REMOVED_ONCE = 4,          /* TETHER_ONCE: its one call happened */
  TETHER_REMOVED_REGISTRY_FREE = 5  /* tether_registry_free */
} tether_removal;

/* Error codes: negative; tether_strerror() names each. */
#define TETHER_ERRNO_MAP(X)                                                  \
  X(EINVAL, -1, "invalid argument")                                          \
  X(ENOMEM, -2, "out of memory")                                             \
  X(EEXIST, -3, "name already registered")                                   \
  X(ENOENT, -4, "no such registration")                                      \
  X(EBUSY, -5, "registry busy: a ref or topic is held, or called from a callback") \
  X(EDEADLK, -6, "would deadlock: called from inside a callback of this registry") \
  X(ENAMETOOLONG, -7, "name longer than TETHER_NAME_MAX bytes")                    \
  X(EIO, -8, "write failed")

enum {
#define TETHER_ERRNO_ENUM(name, value, text) TETHER_##name = (value),
  TETHER_ERRNO_MAP(TETHER_ERRNO_ENUM)
#undef TETHER_ERRNO_ENUM
};

/* The longest name accepted, in bytes, not counting the terminating NUL. */
#define TETHER_NAME_MAX 4096

/* A caller-supplied allocator. alloc returns NULL on failure, or memory aligned
 * like malloc's; free receives the size that was asked of alloc. Both may be
 * called from any thread that uses the registry (and from tether's background
 * thread), and must be thread-safe. They may run with the registry's mutex held:
 * they must return normally (no exception, no pthread_exit, no cancellation
 * point) and must not call into tether. */
typedef struct tether_allocator {
  void *(*alloc)(void *ud, size_t size);
  void (*free)(void *ud, void *ptr, size_t size);
  void *ud;
} tether_allocator;

/* Registry options; zero-initialised means the defaults, and NULL may be passed. */
typedef struct tether_options {
  int mode;                          /* TETHER_MAP (default) or TETHER_BUS */
  const tether_allocator *allocator; /* NULL: malloc/free; copied, must outlive the registry's
                                        memory (until tether_registry_free returns) */
  uint64_t (*clock_ms)(void *ud);    /* NULL: CLOCK_MONOTONIC in ms; like the allocator,
                                        it may run under the mutex and must return */
  void *clock_ud;
  unsigned sweep_interval_ms;        /* > 0: a background thread removes expired registrations */
  FILE *leak_report;                 /* where tether_registry_free reports survivors */
  /* Call tracking: each registration counts its calls and remembers when it was
   * last called, to the background thread's tick (TETHER_TICK_MS). tether_info,
   * the profile's "calls" and the leak report show them. Off, dispatch pays
   * nothing; on, counts are kept per thread (no shared write per call) and a
   * registration costs 32 bytes more. */
  int track_calls;
  uint64_t never_called_ms; /* with track_calls: the leak report lists registrations at
                               least this old never called (0: 60000) */
  unsigned capture_stack;   /* > 0: keep that many return addresses of each registering
                               call stack (at most TETHER_STACK_MAX): the profile shows
                               the callers of the registering function */
  unsigned metrics_top_sites; /* tether_metrics_write: sites listed one by one, most bytes
                                 first (0: 50); the rest are one site="other" series */
} tether_options;

/* The background thread's tick for call tracking, in ms: "last called" has this
 * resolution, and a registration's line is written at most once per tick. */
#define TETHER_TICK_MS 100
/* The deepest registering stack capture_stack keeps. */
#define TETHER_STACK_MAX 64

/* Per-registration options; zero-initialised means the defaults, NULL is allowed.
 * Memory: a registration costs a 64-byte header and (MAP) its name, plus its share
 * of the name table and id index (about 85-93 bytes beyond the name in all, see
 * make bench); a non-zero ctx_size adds 8 bytes, an owner 32, on_remove 8,
 * TETHER_COPY_CTX the copy. */
typedef struct tether_reg_options {
  tether_owner *owner; /* NULL: none */
  uint64_t ttl_ms;     /* 0: never expires; sums past UINT64_MAX saturate ("forever") */
  size_t ctx_size;     /* bytes kept alive through ctx (accounting); copied with TETHER_COPY_CTX */
  unsigned flags;      /* TETHER_REPLACE | TETHER_ONCE | TETHER_COPY_CTX */
  /* NULL, or called exactly once with the reason of the removal, on the thread that
   * runs the destructor, right before ctx_free (with the copy for TETHER_COPY_CTX):
   * under the same rules as a destructor. */
  void (*on_remove)(void *ctx, tether_removal why);
} tether_reg_options;

/* Creates a registry in *out. Returns 0, TETHER_EINVAL (out NULL, bad mode,
 * allocator without alloc/free), or TETHER_ENOMEM (also when the sweeper thread
 * cannot be started). Any thread. */
TETHER_API int tether_registry_new(tether_registry **out, const tether_options *opts);

/* Removes every registration still present (running each destructor once, on this
 * thread), reports the survivors grouped by registration site to opts->leak_report
 * (or, when that is NULL, to stderr if the environment variable TETHER_LEAKCHECK is
 * set), unlinks them from their owners, stops the sweeper and frees the registry;
 * with TETHER_LEAKCHECK=abort it calls abort() after reporting survivors, whichever
 * stream got the report. Returns how many registrations survived (0 or more),
 * TETHER_EINVAL for NULL, or TETHER_EBUSY, freeing nothing, while a ref or topic of
 * this registry is held (each is then listed, with where it was taken, on the same
 * stream) or when called from a callback, a destructor, a walk visitor or a leak
 * report of this registry. While it runs, destructors that register into this
 * registry, take a topic or a ref of it get TETHER_EBUSY. The caller must ensure no
 * other thread is using the registry or will use it; owners with registrations in
 * it may be freed on other threads meanwhile. */
TETHER_API int tether_registry_free(tether_registry *r);

/* Registers FN under NAME with context CTX, destroyed by CTX_FREE (may be NULL)
 * once the registration is removed. SITE records where (use tether_register); the
 * registry copies its strings.
 * With TETHER_COPY_CTX, ctx_size bytes at ctx are copied into the registration,
 * handlers get the copy, and ctx_free is not called. On success stores the new id
 * in *out_id when out_id is not NULL and returns 0. Errors: TETHER_EINVAL (r, name
 * or fn NULL; COPY_CTX with ctx NULL or ctx_size 0; unknown flags), TETHER_ENAMETOOLONG,
 * TETHER_EEXIST (MAP mode, name present, no TETHER_REPLACE; a registration whose
 * TTL ran out is not present: it is removed as expired), TETHER_ENOMEM (also for
 * an owner that TETHER_SCOPED_OWNER could not create), TETHER_EBUSY (from a
 * destructor while tether_registry_free runs). On failure ctx is not freed: it
 * still belongs to the caller. Any thread, from a
 * callback too; a handler registered during an emit is not called by that emit. */
TETHER_API int tether_register_at(tether_registry *r, tether_site site, const char *name,
                                  tether_fn fn, void *ctx, tether_free_fn ctx_free,
                                  const tether_reg_options *opts, tether_id *out_id);
#define tether_register(r, name, fn, ctx, ctx_free, opts, out_id) \
  tether_register_at((r), TETHER_HERE, (name), (fn), (ctx), (ctx_free), (opts), (out_id))

/* Removes registration ID. When this returns 0 no new call of it starts; calls
 * already running finish, and the destructor runs after the last of them (and after
 * the last ref is released), on some thread that leaves the registry or on the
 * background thread. Returns 0,
 * TETHER_EINVAL (r NULL, id 0), or TETHER_ENOENT (unknown, already removed, expired
 * - an expired registration not yet removed is removed then, as expired - or from
 * another registry). Any thread, from a callback too (including the one
 * being removed). Never waits for readers. */
TETHER_API int tether_unregister(tether_registry *r, tether_id id);

/* tether_unregister, then waits until its destructor (and every destructor of a
 * removal that completed before this call) has run. When another thread is removing
 * ID at that moment, it waits for that removal's destructor too and returns
 * TETHER_ENOENT (this call did not remove it); so once it returns, with 0 or
 * TETHER_ENOENT, no call of ID is running and its destructor has returned. Returns
 * as tether_unregister, or TETHER_EDEADLK at once, changing nothing, when called
 * from a callback of this registry or while this thread holds a ref (taken by this
 * thread) of ID or of any removed registration of this registry. */
TETHER_API int tether_unregister_sync(tether_registry *r, tether_id id);

/* Removes every handler registered under NAME; returns how many were removed
 * (0 when none), TETHER_EINVAL or TETHER_ENAMETOOLONG. Any thread, from a callback. */
TETHER_API int tether_unregister_name(tether_registry *r, const char *name);

/* Waits until the destructors of every removal completed before the call have run.
 * Returns 0, TETHER_EINVAL, or TETHER_EDEADLK at once when called from a callback of
 * this registry, or while this thread holds a ref (taken by this thread) of a removed
 * registration of this registry. A destructor kept pending by a ref held on another
 * thread is waited for. Barriers that wait on each other from callbacks of two
 * registries (A's handler waits on B while B's waits on A) deadlock. Not a
 * cancellation point (nor are tether_unregister_sync, tether_owner_free_sync and
 * tether_registry_free): a cancellation that arrives meanwhile is acted on at the
 * caller's next cancellation point. */
TETHER_API int tether_barrier(tether_registry *r);

/* What dispatch (tether_emit, tether_call, tether_topic_emit, tether_ref_call) may
 * do: it takes no mutex, never runs a destructor and allocates nothing, except
 * the first time a thread enters a registry (its per-thread record: a process-wide
 * mutex and one allocation). It writes the thread's own record; claims a
 * TETHER_ONCE or expired registration with one compare-and-swap and hands the rest
 * of its removal to the background thread (a lock-free push); and may wake the
 * background thread (a futex system call). A handler may leave abnormally: a C++
 * exception thrown through dispatch, pthread_exit or cancellation inside a handler
 * close the read section as if the handler had returned (a TETHER_ONCE registration
 * is then consumed), and the exception or cancellation goes on to the caller.
 * (The library is built with -fexceptions for this; longjmp out of a handler is
 * not supported.) */

/* Calls the live handlers of NAME (BUS: in registration order, concurrently on every
 * emitting thread; MAP: the one) with ARG and returns how many were called (0 when
 * none). A handler returning TETHER_STOP ends the emit (it is counted). A MAP handler
 * being replaced (TETHER_REPLACE) is seen as the old or the new one, never neither.
 * Errors: TETHER_EINVAL, TETHER_ENAMETOOLONG, TETHER_ENOMEM (only the first time a
 * thread enters this registry, for its per-thread record). Lock-free; any thread,
 * from a callback. */
TETHER_API int tether_emit(tether_registry *r, const char *name, void *arg);

/* Calls the first live handler of NAME and stores its return value in *result
 * (result may be NULL). Returns 0, TETHER_ENOENT when there is none, or as
 * tether_emit. Lock-free; any thread, from a callback. */
TETHER_API int tether_call(tether_registry *r, const char *name, void *arg, int *result);

/* How many live handlers NAME has now (0: none, or no such name; a MAP name has at
 * most 1), or TETHER_EINVAL / TETHER_ENAMETOOLONG. Expired registrations are not
 * counted. Lock-free; any thread, from a callback. A count may be stale as soon as
 * it is returned when other threads register or remove. */
TETHER_API int tether_count(tether_registry *r, const char *name);

/* Pins NAME and returns a topic in *out that emits without hashing. The topic sees
 * handlers registered after it was taken. SITE records where it was taken (use
 * tether_topic_get): tether_registry_free lists topics still held. Returns 0,
 * TETHER_EINVAL, TETHER_ENAMETOOLONG, TETHER_ENOMEM, or TETHER_EBUSY while the
 * registry is being freed. The topic must be released with tether_topic_release
 * before tether_registry_free. Any thread, from a callback. */
TETHER_API int tether_topic_get_at(tether_registry *r, tether_site site, const char *name,
                                   tether_topic **out);
/* As tether_topic_get_at with an unknown site (the macro below supplies TETHER_HERE;
 * (tether_topic_get)(...) or a function pointer calls this). */
TETHER_API int tether_topic_get(tether_registry *r, const char *name, tether_topic **out);
#define tether_topic_get(r, name, out) tether_topic_get_at((r), TETHER_HERE, (name), (out))
/* As tether_emit, for the topic's name. Lock-free; any thread, from a callback. */
TETHER_API int tether_topic_emit(tether_topic *t, void *arg);
/* Releases a topic (NULL is ignored). Any thread, from a callback. */
TETHER_API void tether_topic_release(tether_topic *t);

/* Pins registration ID: its ctx stays valid until tether_ref_release even if the
 * registration is removed meanwhile (its destructor then runs after the last
 * release). SITE records where it was taken (use tether_acquire), and the ref is
 * held by this thread (tether_barrier and tether_unregister_sync refuse to wait on
 * it here). Returns 0, TETHER_EINVAL, TETHER_ENOENT (unknown, removed or expired),
 * TETHER_ENOMEM, or TETHER_EBUSY while the registry is being freed. Any thread,
 * from a callback. A context must not be read outside a callback without a ref:
 * once its registration is removed, only a ref keeps it from its destructor. */
TETHER_API int tether_acquire_at(tether_registry *r, tether_site site, tether_id id,
                                 tether_ref **out);
/* As tether_acquire_at with an unknown site (the macro supplies TETHER_HERE). */
TETHER_API int tether_acquire(tether_registry *r, tether_id id, tether_ref **out);
#define tether_acquire(r, id, out) tether_acquire_at((r), TETHER_HERE, (id), (out))
/* Calls the pinned handler and stores its return value in *result (may be NULL).
 * Returns 0, TETHER_EINVAL, or TETHER_ENOENT once the registration is removed or
 * expired. A TETHER_ONCE registration is claimed by this call as by an emit. Any
 * thread (the ref may be used by a thread other than the one that took it), from
 * a callback too; the handler runs as inside a callback of the registry. */
TETHER_API int tether_ref_call(tether_ref *ref, void *arg, int *result);
/* The registration's context (the copy for TETHER_COPY_CTX); NULL for NULL. The
 * pointer stays valid until tether_ref_release. Any thread, from a callback. */
TETHER_API void *tether_ref_ctx(const tether_ref *ref);
/* Releases a ref (NULL is ignored). When the registration was removed meanwhile
 * and this is its last ref, its destructor runs: on this thread when the removal's
 * grace period is already over, else later, when the grace period ends, on
 * whichever thread reclaims it (as for any removal). Any thread, from a callback
 * too (not from the destructor of the same registration). */
TETHER_API void tether_ref_release(tether_ref *ref);

/* Sets registration ID to expire at now + ttl_ms (ttl_ms 0: never; a sum past
 * UINT64_MAX saturates). When it returns 0 the registration stays until the new
 * deadline (or another removal), even against a reader checking the old one at
 * that moment. Returns 0, TETHER_EINVAL, or TETHER_ENOENT (unknown, removed, or
 * already expired: an expired registration is removed, not revived). Any thread,
 * from a callback. */
TETHER_API int tether_touch(tether_registry *r, tether_id id, uint64_t ttl_ms);
/* Removes every expired registration; returns how many, or TETHER_EINVAL. Any
 * thread, from a callback too. The sweeper thread (sweep_interval_ms) calls it. */
TETHER_API int tether_sweep(tether_registry *r);

/* An owner: freeing it removes all its registrations in every registry. */
/* Creates an owner. Returns 0, TETHER_EINVAL or TETHER_ENOMEM (malloc). Any thread. */
TETHER_API int tether_owner_new(tether_owner **out);
/* Removes every registration bound to O (in every registry, from any thread, while
 * others emit), then frees O. NULL is ignored. Returns at once: destructors run
 * later, as for tether_unregister. Any thread, from a callback; the owner must not
 * be used for new registrations concurrently with its free. */
TETHER_API void tether_owner_free(tether_owner *o);
/* tether_owner_free, then waits until the destructor of every registration that
 * was ever bound to O has returned (those removed earlier by other means too): what
 * a plugin host needs before it unloads the code of those destructors. Unrelated
 * removals and refs are not waited for. Returns 0, or TETHER_EDEADLK at once,
 * changing nothing, when called from a callback or destructor of a registry that
 * holds one of O's registrations, or while this thread holds a ref (taken by this
 * thread) of one of them. NULL is ignored (0). Any thread. */
TETHER_API int tether_owner_free_sync(tether_owner *o);
/* Declares `tether_owner *var`, created now and freed when VAR goes out of scope
 * (the cleanup attribute: C's defer). Out of memory, VAR is not NULL but an owner
 * that refuses registrations: tether_register with it returns TETHER_ENOMEM, so a
 * handler can never outlive its scope unnoticed. */
TETHER_API void tether__owner_cleanup(tether_owner **o);
#define TETHER_SCOPED_OWNER(var)                                                    \
  tether_owner *var __attribute__((cleanup(tether__owner_cleanup))) =               \
      tether__owner_new_scoped()
TETHER_API tether_owner *tether__owner_new_scoped(void);

typedef struct tether_stats {
  uint64_t live, live_bytes; /* registrations not yet removed; sum of their ctx_size */
  uint64_t registered_total, unregistered_total, expired_total, owner_removed_total, replaced_total;
  uint64_t destructors_run_total, destructors_pending;
} tether_stats;
/* Fills *out with a consistent snapshot. Returns 0 or TETHER_EINVAL. Any thread,
 * from a callback too. destructors_run_total counts registrations whose removal
 * finished (their ctx_free, if any, has returned); destructors_pending those
 * removed whose destructor has not run yet. */
TETHER_API int tether_stats_get(tether_registry *r, tether_stats *out);

typedef struct tether_info {
  tether_id id;
  const char *name;
  tether_site site;
  uint64_t age_ms;
  uint64_t ttl_left_ms; /* UINT64_MAX when no TTL */
  size_t ctx_size;
  const tether_owner *owner;
  uint64_t calls;   /* with track_calls: calls so far (else 0) */
  uint64_t idle_ms; /* with track_calls: ms since the last call, to TETHER_TICK_MS;
                       UINT64_MAX when never called or not tracked */
} tether_info;
/* Calls VISIT for every registration live at the call, oldest first, from a
 * snapshot taken under the lock: VISIT runs with no lock held and may call back
 * into the registry (but not free it: tether_registry_free returns TETHER_EBUSY).
 * INFO and its name are valid during the visit only; its site strings until the
 * registry is freed. A non-zero return from VISIT stops the walk. Returns how many
 * were visited, TETHER_EINVAL or TETHER_ENOMEM (the snapshot). Any thread, from a
 * callback. */
TETHER_API int tether_walk(tether_registry *r, int (*visit)(const tether_info *info, void *arg),
                           void *arg);
/* Writes the live registrations, grouped by registration site (sorted by bytes
 * retained) with counts, bytes and an example name, to OUT; returns how many
 * registrations were reported, TETHER_EINVAL or TETHER_ENOMEM. Any thread. */
TETHER_API int tether_leak_report(tether_registry *r, FILE *out);

/* Writes a pprof profile (profile.proto, uncompressed; pprof also reads it gzip'd)
 * of the live registrations to OUT: sample types "registrations"/"count" and
 * "retained"/"bytes" (ctx_size), plus "calls"/"count" when the registry tracks
 * calls; default sample type "retained". One sample per live registration, with
 * the string label "name" (and, tracking calls, the numeric label "idle" in ms,
 * absent when never called). Its location is its registration site (function,
 * file, line); with capture_stack, the registering call stack follows as
 * addresses, with the mappings of the loaded objects, for pprof to symbolize.
 * time_nanos is when it was written (CLOCK_REALTIME). The snapshot is taken under
 * the registry mutex; nothing is written while it is held. Returns how many
 * registrations were written, TETHER_EINVAL (r or out NULL, FLAGS not 0: none
 * is defined yet),
 * TETHER_ENOMEM, or TETHER_EIO when writing fails. Any thread, from a callback. */
TETHER_API int tether_profile_write(tether_registry *r, FILE *out, unsigned flags);

/* Writes the registry's state in the Prometheus text exposition format (0.0.4):
 * gauges tether_registrations, tether_retained_bytes, tether_destructors_pending;
 * counters tether_registered_total, tether_unregistered_total,
 * tether_expired_total, tether_owner_removed_total, tether_replaced_total,
 * tether_destructors_run_total; per registration site the gauges
 * tether_site_registrations and tether_site_retained_bytes labelled file, line and
 * func, for the metrics_top_sites sites that retain most, the rest summed in one
 * series labelled site="other" (file and func escaped as the format requires;
 * bytes of them that are not UTF-8 are written as U+FFFD). Each metric has HELP
 * and TYPE. LABELS is NULL or a label list of UTF-8 such as
 * registry="plugins",shard="2", added to every series. Values
 * are tether_stats_get's. Returns the number of series written, TETHER_EINVAL (r or
 * out NULL, or malformed LABELS: nothing is written then), TETHER_ENOMEM, or
 * TETHER_EIO. Any thread, from a callback.
 *
 * With no code change, two environment variables make the background thread
 * export too (read at tether_registry_new):
 * - TETHER_PROFILE=DIR: every registry writes its profile to
 *   DIR/tether-<pid>-<registry>-<seq>.pb every TETHER_PROFILE_INTERVAL_MS (default
 *   1000) ms, and once more at tether_registry_free (<registry>: a number unique in
 *   the process). A directory that cannot be written gets one line on stderr and no
 *   more tries. Nothing runs on the dispatch path, and no lock is held while writing.
 * - TETHER_DEBUG=trace: one line per sweep and reclaim pass on stderr,
 *   "tether: sweep N @T s: X scanned, Y expired, Z destructors, live L (B bytes),
 *   pending P, D ms [registry R]" (T: seconds since the registry was created;
 *   docs/guide.md describes each field); tether gctrace reads these lines. */
TETHER_API int tether_metrics_write(tether_registry *r, FILE *out, const char *labels);

/* The name of an error code ("TETHER_ENOENT: no such registration"), "success"
 * for 0, "unknown error" for anything else. The string is static. */
TETHER_API const char *tether_strerror(int err);

/* The version of the library the program runs with ("0.1.0"), which may differ
 * from the TETHER_VERSION_* it was compiled against. The string is static. Any
 * thread, from a callback. */
TETHER_API const char *tether_version(void);

#ifdef __cplusplus
}
#endif

#endif /* TETHER_TETHER_H */
