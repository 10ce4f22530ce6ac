/* Owners: an owner collects registrations across registries; freeing it removes
 * them all, from any thread, while other threads emit on them.
 *
 * An owner's list is guarded by its mutex; an entry's owner field changes only
 * with both the owner's and the registry's mutex held (owner first). Freeing an
 * owner claims each of its live entries and removes it; an entry that another
 * thread has already claimed (a TETHER_ONCE call or an expiry in progress, maybe
 * up this very thread's stack) is detached instead, and its claimer finishes the
 * removal without the owner.
 *
 * The owner's memory is reference counted: its handle, every removal in
 * progress that will lock its mutex, and every registration unlinked from it
 * whose destructor has not run yet. The last reference frees it, so
 * tether_owner_free never waits, and tether_owner_free_sync waits for exactly
 * the owner's own destructors. */
#include <limits.h>
#include <linux/futex.h>
#include <sched.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"

/* What TETHER_SCOPED_OWNER gives when out of memory: it refuses registrations. */
static tether_owner g_refusing;

/* Bumped (and woken) whenever an owner's references drop to its handle alone:
 * what tether_owner_free_sync waits on. A process-wide word, so that a waker
 * never touches an owner that its waiter may have freed. */
static _Atomic uint32_t g_owner_bell;

int tether__owner_refuses(const tether_owner *o) {
  return o == &g_refusing;
}

int tether_owner_new(tether_owner **out) {
  if (out == NULL) return TETHER_EINVAL;
  *out = NULL;
  tether_owner *o = malloc(sizeof *o);
  if (o == NULL) return TETHER_ENOMEM;
  if (pthread_mutex_init(&o->mu, NULL) != 0) {
    free(o);
    return TETHER_ENOMEM;
  }
  o->head = NULL;
  o->count = 0;
  o->serials = NULL;
  o->nserials = o->capserials = 0;
  atomic_init(&o->refs, 1);
  *out = o;
  return 0;
}

void tether__owner_unref(tether_owner *o) {
  size_t left = atomic_fetch_sub_explicit(&o->refs, 1, memory_order_acq_rel) - 1;
  if (left == 0) {
    pthread_mutex_destroy(&o->mu);
    free(o->serials);
    free(o);
  } else if (left == 1) {
    /* Maybe only the handle is left: a tether_owner_free_sync may be waiting. */
    atomic_fetch_add_explicit(&g_owner_bell, 1, memory_order_seq_cst);
    syscall(SYS_futex, &g_owner_bell, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0);
  }
}

int tether__owner_note_registry(tether_owner *o, const tether_registry *r) {
  for (size_t i = 0; i < o->nserials; i++)
    if (o->serials[i] == r->serial) return 0;
  if (o->nserials == o->capserials) {
    size_t cap = o->capserials ? o->capserials * 2 : 4;
    uint64_t *grown = realloc(o->serials, cap * sizeof *grown);
    if (grown == NULL) return TETHER_ENOMEM;
    o->serials = grown;
    o->capserials = cap;
  }
  o->serials[o->nserials++] = r->serial;
  return 0;
}

void tether__owner_unlink_locked(tether_owner *o, tether__entry *e) {
  tether__owned *w = tether__owned_of(e);
  assert(w != NULL && w->owner == o);
  if (w->u.link.prev)
    tether__owned_of(w->u.link.prev)->u.link.next = w->u.link.next;
  else
    o->head = w->u.link.next;
  if (w->u.link.next) tether__owned_of(w->u.link.next)->u.link.prev = w->u.link.prev;
  /* The entry keeps the owner's memory until its destructor has run. */
  atomic_fetch_add_explicit(&o->refs, 1, memory_order_relaxed);
  w->u.notify = o;
  w->owner = NULL;
  o->count--;
}

/* Removes (or detaches) every entry of O, one per round with both locks held. */
static void remove_entries(tether_owner *o) {
  for (;;) {
    pthread_mutex_lock(&o->mu);
    tether__entry *e = o->head;
    if (e == NULL) {
      pthread_mutex_unlock(&o->mu);
      break;
    }
    tether_registry *r = tether__owned_of(e)->reg;
    pthread_mutex_lock(&r->mu);
    if (tether__claim(e))
      tether__remove_locked(r, e, TETHER__BY_OWNER);
    else
      tether__owner_unlink_locked(o, e); /* its claimer finishes without us */
    /* No inline reclaim here: once the locks are gone, R may be freed by its
     * owner thread; the background thread does the work. tether__unlock arms it
     * before it lets go of R. */
    tether__unlock(r);
    pthread_mutex_unlock(&o->mu);
  }
}

void tether_owner_free(tether_owner *o) {
  if (o == NULL || tether__owner_refuses(o)) return;
  remove_entries(o);
  tether__owner_unref(o);
}

/* Whether this thread holds a ref (taken by it) of a registration of O in R
 * (R's mutex held). */
static int holds_ref_of(tether_registry *r, void *arg) {
  const tether_owner *o = arg;
  const void *self = tether__self();
  for (const tether_ref *ref = r->refs; ref != NULL; ref = ref->next) {
    const tether__owned *w = tether__owned_of(ref->entry);
    if (ref->holder == self && w != NULL &&
        (w->owner == o || (w->owner == NULL && w->u.notify == o)))
      return 1;
  }
  return 0;
}

/* Whether this thread could not wait for O's destructors: it runs user code of a
 * registry where O has or had registrations, or holds a ref of one of them. O's
 * list of registries is stable: nothing registers with an owner being freed. */
static int sync_would_deadlock(tether_owner *o) {
  for (size_t i = 0; i < o->nserials; i++)
    if (tether__thread_busy_in(o->serials[i]) ||
        tether__with_registry(o->serials[i], holds_ref_of, o))
      return 1;
  return 0;
}

int tether_owner_free_sync(tether_owner *o) {
  if (o == NULL || tether__owner_refuses(o)) return 0;
  if (sync_would_deadlock(o)) return TETHER_EDEADLK;
  TETHER__NO_CANCEL(nocancel);
  remove_entries(o);
  /* Every entry ever unlinked from O holds a reference until its destructor has
   * returned: wait until the handle's is the only one left. */
  for (;;) {
    uint32_t seen = atomic_load_explicit(&g_owner_bell, memory_order_seq_cst);
    if (atomic_load_explicit(&o->refs, memory_order_acquire) == 1) break;
    struct timespec ts = {0, 10 * 1000000L}; /* a bound, in case a wake-up came between */
    syscall(SYS_futex, &g_owner_bell, FUTEX_WAIT_PRIVATE, seen, &ts, NULL, 0);
  }
  tether__owner_unref(o);
  return 0;
}

tether_owner *tether__owner_new_scoped(void) {
  tether_owner *o = NULL;
  return tether_owner_new(&o) == 0 ? o : &g_refusing;
}

void tether__owner_cleanup(tether_owner **o) {
  if (o != NULL) tether_owner_free(*o);
}
