/* Diagnostics: stats, snapshots of the live registrations (for the walk, the
 * leak report, the profile and the metrics), the leak report (live
 * registrations grouped by the site that registered them, and, with call
 * tracking, those never called), and the list of refs and topics that keep
 * tether_registry_free from freeing.
 *
 * Each takes the registry mutex only long enough to copy what it needs; walk
 * calls its visitor with no lock held, so the visitor may call back into the
 * registry (a frame marks it, so that freeing the registry from it is refused).
 * Sums of bytes saturate at UINT64_MAX. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "internal.h"

uint64_t tether__sat_add(uint64_t a, uint64_t b) { return b > UINT64_MAX - a ? UINT64_MAX : a + b; }

/* The stats as tether_stats_get reports them (mutex held). */
static void stats_locked(const tether_registry *r, tether_stats *out) {
  *out = r->st;
  out->live_bytes = r->live_bytes > UINT64_MAX ? UINT64_MAX : (uint64_t)r->live_bytes;
  uint64_t run = atomic_load_explicit(&r->destructors_run, memory_order_relaxed);
  out->destructors_run_total = run;
  out->destructors_pending = r->retire_seq - run;
}

int tether_stats_get(tether_registry *r, tether_stats *out) {
  if (r == NULL || out == NULL) return TETHER_EINVAL;
  tether__handoff_finish(r);
  pthread_mutex_lock(&r->mu);
  stats_locked(r, out);
  pthread_mutex_unlock(&r->mu);
  return 0;
}

static tether_info info_of(const tether_registry *r, const tether__entry *e, uint64_t now,
                           uint64_t created) {
  tether_info in;
  uint64_t exp = atomic_load_explicit(&e->expires_at, memory_order_relaxed);
  size_t len;
  in.id = e->u.live.id;
  in.name = tether__entry_name(r, e, &len);
  in.site = r->sites[e->site].site;
  in.age_ms = now >= created ? now - created : 0;
  in.ttl_left_ms = exp == 0 ? UINT64_MAX : (exp > now ? exp - now : 0);
  in.ctx_size = tether__ctx_size(e);
  in.owner = tether__owner_of(e);
  uint64_t last;
  in.calls = tether__calls_of(r, e, &last);
  in.idle_ms = in.calls == 0 ? UINT64_MAX : (now > last ? now - last : 0);
  return in;
}

/* Oldest first (ids are not in registration order: the id index reuses indexes). */
static int by_age(const void *a, const void *b) {
  const tether_info *x = a, *y = b;
  if (x->age_ms != y->age_ms) return x->age_ms > y->age_ms ? -1 : 1;
  return x->id < y->id ? -1 : x->id > y->id;
}

/* The counting pass (v NULL) and the copying pass of tether__snapshot. */
typedef struct snap_pass {
  tether_registry *r;
  tether__snap *s;
  size_t n, names, frames;
  char *text;
  int stacks;
} snap_pass;

static int snap_visit(tether__entry *e, void *arg) {
  snap_pass *p = arg;
  if (tether__state(e) != TETHER__LIVE) return 0;
  size_t len;
  const char *name = tether__entry_name(p->r, e, &len);
  const tether__stack *st = p->stacks ? tether__stack_of(e) : NULL;
  size_t depth = st ? (size_t)st->depth : 0;
  if (p->s->v == NULL) {
    p->n++;
    p->names += len + 1;
    p->frames += depth;
    return 0;
  }
  /* A dispatch may claim E now and hand it off, which links it through its
   * creation time: the time is read, then the state again (the hand-off stores
   * the link with release after its claim), and E is left out if claimed. */
  uint64_t created = atomic_load_explicit(&e->u.live.created_ms, memory_order_acquire);
  if (tether__state(e) != TETHER__LIVE) return 0;
  size_t i = p->n++;
  tether_info *in = &p->s->v[i];
  *in = info_of(p->r, e, p->s->now, created);
  memcpy(p->text, name, len + 1);
  in->name = p->text;
  p->text += len + 1;
  p->s->site[i] = e->site;
  if (p->stacks) {
    p->s->stack_at[i] = p->frames;
    p->s->stack_len[i] = (uint32_t)depth;
    if (depth) memcpy(p->s->pcs + p->frames, st->pc, depth * sizeof *st->pc);
    p->frames += depth;
  }
  return 0;
}

/* Sorts the snapshot oldest first, with its parallel arrays. */
typedef struct by_age_key {
  tether_info in;
  uint32_t site;
  uint32_t stack_len;
  size_t stack_at;
} by_age_key;

static int by_age_keyed(const void *a, const void *b) {
  return by_age(&((const by_age_key *)a)->in, &((const by_age_key *)b)->in);
}

int tether__snapshot(tether_registry *r, tether__snap *s, int stacks) {
  memset(s, 0, sizeof *s);
  tether__handoff_finish(r);
  pthread_mutex_lock(&r->mu);
  stats_locked(r, &s->st);
  s->now = tether__now(r);
  snap_pass p = {r, s, 0, 0, 0, NULL, stacks};
  tether__each_entry(r, snap_visit, &p);
  size_t n = p.n;
  if (n == 0) {
    pthread_mutex_unlock(&r->mu);
    return 0;
  }
  size_t sort_size = n * sizeof(by_age_key);
  s->size = n * (sizeof(tether_info) + sizeof(uint32_t)) + (stacks ? n * (sizeof(size_t) + sizeof(uint32_t)) : 0) +
            p.frames * sizeof(uintptr_t) + p.names;
  s->size = tether__align(s->size, 16) + sort_size;
  s->mem = tether__alloc(r, s->size);
  if (s->mem == NULL) {
    pthread_mutex_unlock(&r->mu);
    return TETHER_ENOMEM;
  }
  char *m = s->mem;
  s->v = (tether_info *)(void *)m;
  m += n * sizeof(tether_info);
  s->stack_at = stacks ? (size_t *)(void *)m : NULL;
  m += stacks ? n * sizeof(size_t) : 0;
  s->pcs = (uintptr_t *)(void *)m;
  m += p.frames * sizeof(uintptr_t);
  s->site = (uint32_t *)(void *)m;
  m += n * sizeof(uint32_t);
  s->stack_len = stacks ? (uint32_t *)(void *)m : NULL;
  m += stacks ? n * sizeof(uint32_t) : 0;
  p.text = m;
  p.n = 0;
  p.frames = 0;
  tether__each_entry(r, snap_visit, &p);
  /* A dispatch on another thread may have claimed a TETHER_ONCE or expired entry
   * since the count (it needs no mutex): then fewer are copied, and listed. */
  assert(p.n <= n);
  n = p.n;
  s->n = n;
  /* The sites' strings are the registry's copies: stable until it is freed. */
  s->sites = r->sites;
  pthread_mutex_unlock(&r->mu);
  /* Oldest first, the parallel arrays along. */
  by_age_key *keys = (by_age_key *)(void *)((char *)s->mem + (s->size - sort_size));
  for (size_t i = 0; i < n; i++)
    keys[i] = (by_age_key){s->v[i], s->site[i], stacks ? s->stack_len[i] : 0, stacks ? s->stack_at[i] : 0};
  qsort(keys, n, sizeof *keys, by_age_keyed);
  for (size_t i = 0; i < n; i++) {
    s->v[i] = keys[i].in;
    s->site[i] = keys[i].site;
    if (stacks) {
      s->stack_len[i] = keys[i].stack_len;
      s->stack_at[i] = keys[i].stack_at;
    }
  }
  return (int)(n > INT32_MAX ? INT32_MAX : n);
}

void tether__snap_free(tether_registry *r, tether__snap *s) {
  if (s->mem) tether__free(r, s->mem, s->size);
  s->mem = NULL;
}

/* A snapshot freed when its scope ends, however it ends. */
static void snap_end(tether__snap *s) { tether__snap_free(s->reg, s); }

int tether_walk(tether_registry *r, int (*visit)(const tether_info *info, void *arg), void *arg) {
  if (r == NULL || visit == NULL) return TETHER_EINVAL;
  tether__snap s __attribute__((cleanup(snap_end)));
  int n = tether__snapshot(r, &s, 0);
  s.reg = r;
  if (n <= 0) return n;
  TETHER__FRAME(frame, r, TETHER__FR_WALK);
  int visited = 0;
  for (int i = 0; i < n; i++) {
    visited++;
    if (visit(&s.v[i], arg) != 0) break;
  }
  return visited;
}

/* ---- grouping by site ---- */

static int same_text(const char *a, const char *b) {
  return a == b || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

static int same_site(tether_site a, tether_site b) {
  return a.line == b.line && same_text(a.file, b.file) && same_text(a.func, b.func);
}

static int by_bytes(const void *a, const void *b) {
  const tether__site_group *x = a, *y = b;
  if (x->bytes != y->bytes) return x->bytes > y->bytes ? -1 : 1;
  if (x->count != y->count) return x->count > y->count ? -1 : 1;
  return x->first < y->first ? -1 : 1;
}

int tether__group_sites(tether_registry *r, const tether__snap *s, int (*keep)(const tether_info *in, void *arg),
                        void *arg, tether__site_group **out, size_t *nout) {
  *out = NULL;
  *nout = 0;
  /* One group per interned site (by index), merged below when two sites have
   * the same strings behind different pointers. */
  uint32_t nsites = 0;
  for (size_t i = 0; i < s->n; i++)
    if (s->site[i] + 1 > nsites) nsites = s->site[i] + 1;
  if (nsites == 0) return 0;
  size_t size = (size_t)nsites * (sizeof(tether__site_group) + sizeof(uint32_t));
  tether__site_group *g = tether__alloc(r, size);
  if (g == NULL) return TETHER_ENOMEM;
  uint32_t *slot = (uint32_t *)(void *)(g + nsites);
  for (uint32_t k = 0; k < nsites; k++) slot[k] = UINT32_MAX;
  size_t ng = 0;
  for (size_t i = 0; i < s->n; i++) {
    if (keep != NULL && !keep(&s->v[i], arg)) continue;
    uint32_t k = s->site[i];
    if (slot[k] == UINT32_MAX) {
      size_t j = 0;
      while (j < ng && !same_site(g[j].site, s->v[i].site)) j++;
      if (j == ng) g[ng++] = (tether__site_group){s->v[i].site, 0, 0, i};
      slot[k] = (uint32_t)j;
    }
    tether__site_group *x = &g[slot[k]];
    x->count++;
    x->bytes = tether__sat_add(x->bytes, s->v[i].ctx_size);
  }
  qsort(g, ng, sizeof *g, by_bytes);
  *out = g;
  *nout = ng;
  return (int)ng;
}

void tether__groups_free(tether_registry *r, tether__site_group *g, const tether__snap *s) {
  uint32_t nsites = 0;
  for (size_t i = 0; i < s->n; i++)
    if (s->site[i] + 1 > nsites) nsites = s->site[i] + 1;
  if (g) tether__free(r, g, (size_t)nsites * (sizeof(tether__site_group) + sizeof(uint32_t)));
}

/* ---- the leak report ---- */

static void print_site_of(FILE *out, const tether_site *s) {
  fprintf(out, "%s:%d in %s()", s->file ? s->file : "?", s->line, s->func ? s->func : "?");
}

static void print_groups(FILE *out, const tether__snap *s, const tether__site_group *g, size_t ng) {
  uint64_t bytes = 0;
  for (size_t i = 0; i < ng; i++) bytes = tether__sat_add(bytes, g[i].bytes);
  fprintf(out, "tether: %zu registration%s still live, %" PRIu64 " bytes of context retained, from %zu site%s:\n",
          s->n, s->n == 1 ? "" : "s", bytes, ng, ng == 1 ? "" : "s");
  fprintf(out, "  %8s %12s  %s\n", "count", "bytes", "registered at");
  for (size_t i = 0; i < ng; i++) {
    fprintf(out, "  %8" PRIu64 " %12" PRIu64 "  ", g[i].count, g[i].bytes);
    print_site_of(out, &g[i].site);
    const tether_info *e = &s->v[g[i].first];
    fprintf(out, "\n  %8s %12s  e.g. \"%s\" (id %" PRIu64 "), age %" PRIu64 " ms\n", "", "", e->name, e->id,
            e->age_ms);
  }
}

typedef struct never_called {
  uint64_t min_age;
} never_called;

static int is_never_called(const tether_info *in, void *arg) {
  const never_called *nc = arg;
  return in->idle_ms == UINT64_MAX && in->age_ms >= nc->min_age;
}

/* With call tracking: the registrations that are old and were never called, the
 * classic sign of a forgotten handler, by site. */
static int print_never_called(tether_registry *r, const tether__snap *s, FILE *out) {
  never_called nc = {r->never_called_ms ? r->never_called_ms : 60000};
  tether__site_group *g;
  size_t ng;
  int rc = tether__group_sites(r, s, is_never_called, &nc, &g, &ng);
  if (rc < 0) return rc;
  uint64_t total = 0;
  for (size_t i = 0; i < ng; i++) total += g[i].count;
  if (total > 0) {
    fprintf(out, "tether: %" PRIu64 " of them registered %" PRIu64 " ms ago or more and never called:\n", total,
            nc.min_age);
    fprintf(out, "  %8s  %s\n", "count", "registered at");
    for (size_t i = 0; i < ng; i++) {
      fprintf(out, "  %8" PRIu64 "  ", g[i].count);
      print_site_of(out, &g[i].site);
      const tether_info *e = &s->v[g[i].first];
      fprintf(out, "\n  %8s  e.g. \"%s\" (id %" PRIu64 "), age %" PRIu64 " ms, 0 calls\n", "", e->name, e->id,
              e->age_ms);
    }
  }
  tether__groups_free(r, g, s);
  return 0;
}

int tether_leak_report(tether_registry *r, FILE *out) {
  if (r == NULL || out == NULL) return TETHER_EINVAL;
  tether__snap s __attribute__((cleanup(snap_end)));
  int n = tether__snapshot(r, &s, 0);
  s.reg = r;
  /* OUT may be a stream with callbacks of the program's own (fopencookie). */
  TETHER__FRAME(frame, r, TETHER__FR_WALK);
  if (n <= 0) {
    if (n == 0) fprintf(out, "tether: no registration is live\n");
    return n;
  }
  tether__site_group *g;
  size_t ng;
  int rc = tether__group_sites(r, &s, NULL, NULL, &g, &ng);
  if (rc < 0) return rc;
  print_groups(out, &s, g, ng);
  tether__groups_free(r, g, &s);
  if (r->track_calls && (rc = print_never_called(r, &s, out)) < 0) return rc;
  fflush(out);
  return n;
}

/* Where tether_registry_free reports: leak_report, else stderr when
 * TETHER_LEAKCHECK is set, else nowhere (NULL). */
static FILE *report_stream(const tether_registry *r) {
  if (r->leak_report != NULL) return r->leak_report;
  return getenv("TETHER_LEAKCHECK") != NULL ? stderr : NULL;
}

/* tether_registry_free's report of survivors; TETHER_LEAKCHECK=abort then aborts,
 * whichever stream got it. */
void tether__report_survivors(tether_registry *r) {
  FILE *out = report_stream(r);
  if (out != NULL && tether_leak_report(r, out) < 0)
    fprintf(out, "tether: leak report failed: out of memory\n");
  const char *env = getenv("TETHER_LEAKCHECK");
  if (env != NULL && strcmp(env, "abort") == 0) abort();
}

static void print_site(FILE *f, const tether_registry *r, uint32_t k) {
  const tether_site *s = &r->sites[k].site;
  if (s->file == NULL && s->func == NULL)
    fprintf(f, "an unknown site (use the _at function or its macro)");
  else
    fprintf(f, "%s:%d in %s()", s->file ? s->file : "?", s->line, s->func ? s->func : "?");
}

char *tether__describe_held_locked(const tether_registry *r) {
  char *text = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&text, &len);
  if (f == NULL) return NULL;
  fprintf(f, "tether: registry busy: %u ref%s and %u topic%s still held:\n", r->refs_held,
          r->refs_held == 1 ? "" : "s", r->topics_held, r->topics_held == 1 ? "" : "s");
  for (const tether_ref *ref = r->refs; ref != NULL; ref = ref->next) {
    const tether__entry *e = ref->entry;
    if (tether__state(e) == TETHER__LIVE) {
      size_t n;
      const char *name = tether__entry_name(r, e, &n);
      fprintf(f, "  ref of \"%s\" (id %" PRIu64 "), taken at ", name, e->u.live.id);
    } else {
      fprintf(f, "  ref of a removed registration%s%s%s, taken at ",
              (e->flags & TETHER__F_BUS) ? "" : " \"", (e->flags & TETHER__F_BUS) ? "" : e->tail,
              (e->flags & TETHER__F_BUS) ? "" : "\"");
    }
    print_site(f, r, ref->site);
    fputc('\n', f);
  }
  for (const tether_topic *t = r->topics; t != NULL; t = t->next) {
    fprintf(f, "  topic \"%s\", taken at ", t->slot->name);
    print_site(f, r, t->site);
    fputc('\n', f);
  }
  if (fclose(f) != 0) {
    free(text);
    return NULL;
  }
  return text;
}

void tether__report_held(tether_registry *r, char *text) {
  FILE *out = report_stream(r);
  if (out != NULL) {
    fputs(text != NULL ? text : "tether: registry busy: refs or topics still held\n", out);
    fflush(out);
  }
  free(text);
}
