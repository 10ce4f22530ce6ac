/* Diagnostics: stats, the walk over live registrations, the leak report (live
 * registrations grouped by the site that registered them), and the list of refs
 * and topics that keep tether_registry_free from freeing.
 *
 * Each takes the registry mutex only long enough to copy what it needs; walk
 * calls its visitor with no lock held, so the visitor may call back into the
 * registry (a frame marks it, so that freeing the registry from it is refused).
 * Sums of bytes saturate at UINT64_MAX. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "internal.h"

static uint64_t sat_add(uint64_t a, uint64_t b) {
  return b > UINT64_MAX - a ? UINT64_MAX : a + b;
}

int tether_stats_get(tether_registry *r, tether_stats *out) {
  if (r == NULL || out == NULL) return TETHER_EINVAL;
  tether__handoff_finish(r);
  pthread_mutex_lock(&r->mu);
  *out = r->st;
  out->live_bytes = r->live_bytes > UINT64_MAX ? UINT64_MAX : (uint64_t)r->live_bytes;
  uint64_t run = atomic_load_explicit(&r->destructors_run, memory_order_relaxed);
  out->destructors_run_total = run;
  out->destructors_pending = r->retire_seq - run;
  pthread_mutex_unlock(&r->mu);
  return 0;
}

static tether_info info_of(const tether_registry *r, const tether__entry *e, uint64_t now) {
  tether_info in;
  uint64_t exp = atomic_load_explicit(&e->expires_at, memory_order_relaxed);
  size_t len;
  in.id = e->u.live.id;
  in.name = tether__entry_name(r, e, &len);
  in.site = r->sites[e->site].site;
  in.age_ms = now >= e->u.live.created_ms ? now - e->u.live.created_ms : 0;
  in.ttl_left_ms = exp == 0 ? UINT64_MAX : (exp > now ? exp - now : 0);
  in.ctx_size = tether__ctx_size(e);
  in.owner = tether__owner_of(e);
  return in;
}

/* Oldest first (ids are not in registration order: the id index reuses indexes). */
static int by_age(const void *a, const void *b) {
  const tether_info *x = a, *y = b;
  if (x->age_ms != y->age_ms) return x->age_ms > y->age_ms ? -1 : 1;
  return x->id < y->id ? -1 : x->id > y->id;
}

/* Counting pass and copying pass of snapshot_locked. */
typedef struct snap {
  tether_registry *r;
  size_t n, names;
  tether_info *v; /* NULL while counting */
  char *text;
  uint64_t now;
} snap;

static int snap_visit(tether__entry *e, void *arg) {
  snap *s = arg;
  if (tether__state(e) != TETHER__LIVE) return 0;
  size_t len;
  const char *name = tether__entry_name(s->r, e, &len);
  if (s->v == NULL) {
    s->n++;
    s->names += len + 1;
    return 0;
  }
  tether_info *in = &s->v[s->n++];
  *in = info_of(s->r, e, s->now);
  memcpy(s->text, name, len + 1);
  in->name = s->text;
  s->text += len + 1;
  return 0;
}

/* Copies the live registrations (names included) into one allocation of SIZE
 * bytes at *infos (mutex held). Returns how many, or TETHER_ENOMEM. */
static int snapshot_locked(tether_registry *r, tether_info **infos, size_t *size) {
  snap s = {r, 0, 0, NULL, NULL, 0};
  tether__each_entry(r, snap_visit, &s);
  *infos = NULL;
  *size = s.n * sizeof(tether_info) + s.names;
  if (s.n == 0) return 0;
  size_t n = s.n;
  s.v = tether__alloc(r, *size);
  if (s.v == NULL) return TETHER_ENOMEM;
  s.text = (char *)(s.v + n);
  s.now = tether__now(r);
  s.n = 0;
  tether__each_entry(r, snap_visit, &s);
  assert(s.n == n);
  qsort(s.v, n, sizeof *s.v, by_age);
  *infos = s.v;
  return (int)n;
}

/* snapshot_locked under the mutex, which is released before anything is printed
 * or visited. */
static int snapshot(tether_registry *r, tether_info **infos, size_t *size) {
  tether__handoff_finish(r);
  pthread_mutex_lock(&r->mu);
  int n = snapshot_locked(r, infos, size);
  pthread_mutex_unlock(&r->mu);
  return n;
}

/* A snapshot being visited: freed when the walk ends, however it ends. */
typedef struct walking {
  tether_registry *r;
  tether_info *v;
  size_t size;
} walking;

static void walking_end(walking *w) {
  tether__free(w->r, w->v, w->size);
}

int tether_walk(tether_registry *r, int (*visit)(const tether_info *info, void *arg), void *arg) {
  if (r == NULL || visit == NULL) return TETHER_EINVAL;
  walking w __attribute__((cleanup(walking_end))) = {r, NULL, 0};
  int n = snapshot(r, &w.v, &w.size);
  if (n <= 0) return n;
  TETHER__FRAME(frame, r, TETHER__FR_WALK);
  int visited = 0;
  for (int i = 0; i < n; i++) {
    visited++;
    if (visit(&w.v[i], arg) != 0) break;
  }
  return visited;
}

/* One group of the leak report. */
typedef struct site_group {
  tether_site site;
  uint64_t count, bytes;
  size_t first; /* index of the first member in the id-sorted snapshot */
} site_group;

static int same_site(tether_site a, tether_site b) {
  return a.line == b.line &&
         (a.file == b.file || (a.file && b.file && strcmp(a.file, b.file) == 0)) &&
         (a.func == b.func || (a.func && b.func && strcmp(a.func, b.func) == 0));
}

static int by_bytes(const void *a, const void *b) {
  const site_group *x = a, *y = b;
  if (x->bytes != y->bytes) return x->bytes > y->bytes ? -1 : 1;
  if (x->count != y->count) return x->count > y->count ? -1 : 1;
  return x->first < y->first ? -1 : 1;
}

static void print_groups(FILE *out, const tether_info *v, int n, site_group *g, size_t ng) {
  uint64_t bytes = 0;
  for (size_t i = 0; i < ng; i++) bytes = sat_add(bytes, g[i].bytes);
  fprintf(out,
          "tether: %d registration%s still live, %" PRIu64
          " bytes of context retained, from %zu site%s:\n",
          n, n == 1 ? "" : "s", bytes, ng, ng == 1 ? "" : "s");
  fprintf(out, "  %8s %12s  %s\n", "count", "bytes", "registered at");
  for (size_t i = 0; i < ng; i++) {
    const tether_site *s = &g[i].site;
    fprintf(out, "  %8" PRIu64 " %12" PRIu64 "  %s:%d in %s()\n", g[i].count, g[i].bytes,
            s->file ? s->file : "?", s->line, s->func ? s->func : "?");
    const tether_info *e = &v[g[i].first];
    fprintf(out, "  %8s %12s  e.g. \"%s\" (id %" PRIu64 "), age %" PRIu64 " ms\n", "", "", e->name,
            e->id, e->age_ms);
  }
}

/* Groups the snapshot by site (sites compared by text) and prints it. */
static int report(tether_registry *r, const tether_info *v, int n, FILE *out) {
  site_group *g = tether__alloc(r, (size_t)n * sizeof *g);
  if (g == NULL) return TETHER_ENOMEM;
  size_t ng = 0;
  for (int i = 0; i < n; i++) {
    size_t k = 0;
    while (k < ng && !same_site(g[k].site, v[i].site)) k++;
    if (k == ng) g[ng++] = (site_group){v[i].site, 0, 0, (size_t)i};
    g[k].count++;
    g[k].bytes = sat_add(g[k].bytes, v[i].ctx_size);
  }
  qsort(g, ng, sizeof *g, by_bytes);
  print_groups(out, v, n, g, ng);
  fflush(out);
  tether__free(r, g, (size_t)n * sizeof *g);
  return n;
}

int tether_leak_report(tether_registry *r, FILE *out) {
  if (r == NULL || out == NULL) return TETHER_EINVAL;
  walking w __attribute__((cleanup(walking_end))) = {r, NULL, 0};
  int n = snapshot(r, &w.v, &w.size);
  /* OUT may be a stream with callbacks of the program's own (fopencookie). */
  TETHER__FRAME(frame, r, TETHER__FR_WALK);
  if (n <= 0) {
    if (n == 0) fprintf(out, "tether: no registration is live\n");
    return n;
  }
  return report(r, w.v, n, out);
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
