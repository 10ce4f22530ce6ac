/* Owners: an owner collects registrations across registries; freeing it removes
 * them all, from any thread, while other threads emit on them.
 *
 * An owner's list is guarded by its mutex; an entry's owner field changes only
 * with both the owner's and the registry's mutex held (owner first). Freeing an
 * owner claims each of its live entries and removes it; an entry that another
 * thread has already claimed (a TETHER_ONCE call or an expiry in progress, maybe
 * up this very thread's stack) is detached instead, and its claimer finishes the
 * removal without the owner. The owner's memory is released only once no
 * removal in progress still pins it. */
#include <sched.h>
#include <stdlib.h>

#include "internal.h"

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
  atomic_init(&o->pins, 0);
  *out = o;
  return 0;
}

void tether__owner_unlink_locked(tether_owner *o, tether__entry *e) {
  tether__owned *w = tether__owned_of(e);
  assert(w != NULL && w->owner == o);
  if (w->prev)
    tether__owned_of(w->prev)->next = w->next;
  else
    o->head = w->next;
  if (w->next) tether__owned_of(w->next)->prev = w->prev;
  w->prev = w->next = NULL;
  w->owner = NULL;
  o->count--;
}

void tether_owner_free(tether_owner *o) {
  if (o == NULL) return;
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
     * owner thread; the background thread does the work. */
    tether__unlock(r);
    pthread_mutex_unlock(&o->mu);
  }
  while (atomic_load_explicit(&o->pins, memory_order_acquire) != 0) sched_yield();
  /* A pinning thread may still be releasing the mutex: take it once more. */
  pthread_mutex_lock(&o->mu);
  pthread_mutex_unlock(&o->mu);
  pthread_mutex_destroy(&o->mu);
  free(o);
}

tether_owner *tether__owner_new_or_null(void) {
  tether_owner *o = NULL;
  return tether_owner_new(&o) == 0 ? o : NULL;
}

void tether__owner_cleanup(tether_owner **o) {
  if (o != NULL) tether_owner_free(*o);
}
