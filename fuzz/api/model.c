/* The reference model of the API fuzzer: see model.h. Every rule below is a
 * sentence of include/tether/tether.h or docs/guide.md, said again on arrays;
 * where the contract leaves a choice open, the comment says which one the
 * model makes (docs/testing.md lists them). */
#include "model.h"

#include <string.h>

void m_init(model *m, int mode, uint64_t now) {
  memset(m, 0, sizeof *m);
  m->mode = mode;
  m->now = now;
}

int m_expired(const model *m, int j) {
  const m_reg *g = &m->reg[j];
  return g->deadline != 0 && m->now >= g->deadline;
}

int m_callable(const model *m, int j) {
  return m->reg[j].state == M_PRESENT && !m_expired(m, j);
}

void m_remove(model *m, int j, int why) {
  m_reg *g = &m->reg[j];
  g->state = M_REMOVED;
  g->why = why;
  switch (why) {
    case TETHER_REMOVED_UNREGISTER:
    case TETHER_REMOVED_ONCE: /* an ONCE registration's one call is its unregistration */
      m->tot.unregistered++;
      break;
    case TETHER_REMOVED_EXPIRED:
      m->tot.expired++;
      break;
    case TETHER_REMOVED_OWNER:
      m->tot.owner_removed++;
      break;
    case TETHER_REMOVED_REPLACED:
      m->tot.replaced++;
      break;
    default: /* TETHER_REMOVED_REGISTRY_FREE: no counter */
      break;
  }
}

int m_find_id(const model *m, tether_id id) {
  for (int j = 0; j < m->nreg; j++)
    if (m->reg[j].state != M_FAILED && m->reg[j].id == id) return j;
  return -1;
}

/* An id given to the library names a registration that is there and not expired.
 * One that has expired is looked at by this very call: the call removes it (as
 * expired) and answers as for a registration that is gone. */
static int present_by_id(model *m, int j) {
  if (j < 0 || m->reg[j].state != M_PRESENT) return 0;
  if (!m_expired(m, j)) return 1;
  m_remove(m, j, TETHER_REMOVED_EXPIRED);
  return 0;
}

/* ---- registration ---- */

static unsigned bit(int rc) {
  return 1u << -rc;
}

/* MAP: the registration NAME has now, or -1 (one whose TTL ran out is not
 * there any more: registering the name again is not a collision). */
static int map_holder(const model *m, int name) {
  for (int j = 0; j < m->nreg; j++)
    if (m->reg[j].state == M_PRESENT && m->reg[j].name == name && !m_expired(m, j)) return j;
  return -1;
}

unsigned m_register_expect(const model *m, const m_regargs *a) {
  /* Several faults in one call: any of their codes will do. */
  unsigned bad = 0;
  if (a->fn_null || a->name == -1 || a->name == -2) bad |= bit(TETHER_EINVAL);
  if (a->name == -3) bad |= bit(TETHER_ENAMETOOLONG);
  if (a->flags & ~(TETHER_REPLACE | TETHER_ONCE | TETHER_COPY_CTX)) bad |= bit(TETHER_EINVAL);
  if ((a->flags & TETHER_COPY_CTX) && (a->ctx_null || a->ctx_size == 0)) bad |= bit(TETHER_EINVAL);
  if (bad) return bad;
  if (m->mode == TETHER_MAP && !(a->flags & TETHER_REPLACE) && map_holder(m, a->name) >= 0)
    return bit(TETHER_EEXIST);
  return 1;
}

int m_register_apply(model *m, const m_regargs *a, tether_id id) {
  if (m->mode == TETHER_MAP) {
    /* The name's registration is replaced (REPLACE), or found expired and
     * removed as such. */
    for (int j = 0; j < m->nreg; j++) {
      if (m->reg[j].state != M_PRESENT || m->reg[j].name != a->name) continue;
      m_remove(m, j, m_expired(m, j) ? TETHER_REMOVED_EXPIRED : TETHER_REMOVED_REPLACED);
    }
  }
  int k = m->nreg++;
  m_reg *g = &m->reg[k];
  memset(g, 0, sizeof *g);
  g->state = M_PRESENT;
  g->id = id;
  g->name = a->name;
  g->flags = a->flags & (TETHER_ONCE | TETHER_COPY_CTX);
  g->ctx_size = a->ctx_size;
  g->owner = a->owner;
  g->deadline = a->ttl == 0 ? 0 : (a->ttl > UINT64_MAX - m->now ? UINT64_MAX : m->now + a->ttl);
  g->created = m->now;
  g->has_free = a->has_free && !(a->flags & TETHER_COPY_CTX);
  g->has_notify = a->has_notify;
  m->tot.registered++;
  if (a->owner >= 0) m->owner[a->owner].noted = 2;
  return k;
}

int m_register_failed(model *m, const m_regargs *a, int rc) {
  int k = m->nreg++;
  memset(&m->reg[k], 0, sizeof m->reg[k]);
  m->reg[k].state = M_FAILED;
  m->reg[k].owner = -1;
  /* EEXIST is found after the owner noted the registry; ENOMEM may come from
   * before or after. */
  if (a->owner >= 0) {
    m_owner *o = &m->owner[a->owner];
    if (rc == TETHER_EEXIST) o->noted = 2;
    if (rc == TETHER_ENOMEM && o->noted == 0) o->noted = 1;
  }
  return k;
}

/* ---- removal ---- */

int m_unregister(model *m, int j) {
  if (!present_by_id(m, j)) return TETHER_ENOENT;
  m_remove(m, j, TETHER_REMOVED_UNREGISTER);
  return 0;
}

/* Every registration NAME has is removed, whatever its TTL says: the model
 * counts one found expired here as unregistered (the library's choice; the
 * contract says only "every handler registered under NAME"). */
int m_unregister_name(model *m, int name) {
  int n = 0;
  for (int j = 0; j < m->nreg; j++) {
    if (m->reg[j].state != M_PRESENT || m->reg[j].name != name) continue;
    m_remove(m, j, TETHER_REMOVED_UNREGISTER);
    n++;
  }
  return n;
}

int m_wait_refused(const model *m, int j) {
  if (m->inside) return 1;
  for (int k = 0; k < m->nref; k++) {
    if (!m->ref[k].live) continue;
    int r = m->ref[k].reg;
    if (r == j || m->reg[r].state != M_PRESENT) return 1;
  }
  return 0;
}

int m_sweep(model *m) {
  int n = 0;
  for (int j = 0; j < m->nreg; j++) {
    if (m->reg[j].state != M_PRESENT || !m_expired(m, j)) continue;
    m_remove(m, j, TETHER_REMOVED_EXPIRED);
    n++;
  }
  return n;
}

/* Every registration of O that is present goes, expired or not (like
 * unregister_name, the owner takes what it has). One whose ONCE call is
 * running is finished by that call. */
void m_owner_free(model *m, int o) {
  for (int j = 0; j < m->nreg; j++)
    if (m->reg[j].state == M_PRESENT && m->reg[j].owner == o) m_remove(m, j, TETHER_REMOVED_OWNER);
  m->owner[o].live = 0;
}

int m_owner_sync_refused(const model *m, int o) {
  for (int k = 0; k < m->nref; k++)
    if (m->ref[k].live && m->reg[m->ref[k].reg].owner == o) return 1;
  if (!m->inside) return 0;
  return m->owner[o].noted == 2 ? 1 : m->owner[o].noted == 1 ? -1 : 0;
}

int m_registry_free(model *m) {
  int n = 0;
  for (int j = 0; j < m->nreg; j++) {
    if (m->reg[j].state != M_PRESENT) continue;
    m_remove(m, j, TETHER_REMOVED_REGISTRY_FREE);
    n++;
  }
  return n;
}

/* ---- TTL and refs ---- */

int m_touch(model *m, int j, uint64_t ttl) {
  if (!present_by_id(m, j)) return TETHER_ENOENT;
  m->reg[j].deadline = ttl == 0 ? 0 : (ttl > UINT64_MAX - m->now ? UINT64_MAX : m->now + ttl);
  return 0;
}

int m_acquire(model *m, int j) {
  return present_by_id(m, j) ? 0 : TETHER_ENOENT;
}

int m_holds(const model *m) {
  for (int k = 0; k < m->nref; k++)
    if (m->ref[k].live) return 1;
  for (int k = 0; k < m->ntopic; k++)
    if (m->topic[k].live) return 1;
  return 0;
}

/* ---- dispatch ---- */

void m_frame_begin(const model *m, m_frame *f, int name, int first_only) {
  memset(f, 0, sizeof *f);
  f->first_only = first_only;
  for (int j = 0; j < m->nreg; j++)
    if ((m->reg[j].state == M_PRESENT || m->reg[j].state == M_RUNNING) && m->reg[j].name == name)
      f->list[f->n++] = j;
}

void m_frame_begin_ref(const model *m, m_frame *f, int j) {
  (void)m;
  memset(f, 0, sizeof *f);
  f->first_only = 1;
  f->list[f->n++] = j;
}

static int frame_over(const m_frame *f) {
  return f->stopped || (f->first_only && f->called > 0);
}

/* The dispatch went past J without calling it: fine when J is not callable;
 * one it found expired, it removed. */
static const char *pass_by(model *m, int j) {
  if (m_callable(m, j)) return "a callable handler was skipped";
  if (m->reg[j].state == M_PRESENT) m_remove(m, j, TETHER_REMOVED_EXPIRED);
  return NULL;
}

const char *m_frame_call(model *m, m_frame *f, int j) {
  if (frame_over(f)) return "a handler was called after the dispatch should have ended";
  while (f->pos < f->n) {
    int k = f->list[f->pos++];
    if (k == j) {
      if (!m_callable(m, j)) return "a handler that is removed or expired was called";
      if (m->reg[j].flags & TETHER_ONCE) m->reg[j].state = M_RUNNING;
      return NULL;
    }
    const char *why = pass_by(m, k);
    if (why) return why;
  }
  return "a handler was called that this dispatch must not call (out of order, or not there when "
         "it started)";
}

void m_frame_return(model *m, m_frame *f, int j, int ret) {
  if (f->called == 0) f->first_ret = ret;
  f->called++;
  if (ret == TETHER_STOP) f->stopped = 1;
  if (m->reg[j].state == M_RUNNING) m_remove(m, j, TETHER_REMOVED_ONCE);
}

const char *m_frame_end(model *m, m_frame *f) {
  if (frame_over(f)) return NULL;
  while (f->pos < f->n) {
    const char *why = pass_by(m, f->list[f->pos++]);
    if (why) return why;
  }
  return NULL;
}

int m_count(const model *m, int name) {
  int n = 0;
  for (int j = 0; j < m->nreg; j++)
    if (m->reg[j].name == name && m_callable(m, j)) n++;
  return n;
}

/* ---- stats ---- */

uint64_t m_live(const model *m) {
  uint64_t n = 0;
  for (int j = 0; j < m->nreg; j++)
    if (m->reg[j].state == M_PRESENT || m->reg[j].state == M_RUNNING) n++;
  return n;
}

uint64_t m_live_bytes(const model *m) {
  uint64_t n = 0;
  for (int j = 0; j < m->nreg; j++)
    if (m->reg[j].state == M_PRESENT || m->reg[j].state == M_RUNNING) n += m->reg[j].ctx_size;
  return n;
}

uint64_t m_removed(const model *m) {
  uint64_t n = 0;
  for (int j = 0; j < m->nreg; j++)
    if (m->reg[j].state == M_REMOVED) n++;
  return n;
}
