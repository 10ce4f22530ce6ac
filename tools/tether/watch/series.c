/* Series and analysis of tether watch (watch.h). A snapshot goes through the
 * profile engine's report once (per-function flat and cum, pprof's total) and
 * through one pass over its samples here (the folded allocation site of each
 * sample, per function and per line). Series live in arrays with one slot per
 * snapshot in arrival order; a series first seen late has zeros before. The
 * analysis sorts the snapshots by time and fits the site series with the trend
 * engine; only the first and the last snapshots' profiles are kept, for the
 * stacks of the suspects. */
#include "watch/watch.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "prof/intern.h"
#include "prof/report.h"

enum { S_FLAT, S_CUM, S_SITE, S_LINE };

#define MAX_MOVERS 5
#define MAX_STACKS 3

typedef struct series_key {
  uint32_t kind, func, file, pad;
  int64_t line;
} series_key;

typedef struct series {
  series_key k;
  int64_t *v; /* per snapshot, arrival order */
} series;

struct watch {
  const watch_opts *o;
  prof_intern strs; /* function and file names; id 0 is "" */
  prof_intern keys; /* series keys */
  series *s;
  size_t ns, cap_s;
  size_t nsnap, cap_snap; /* every series has room for cap_snap values */
  watch_snap *snaps;
  char *type, *unit;
  prof_profile *first, *last; /* the earliest and the latest snapshot, for stacks */
  int64_t first_time, last_time;
  /* What the last analysis made; freed by the next one. */
  size_t *order;
  int64_t *scratch;
  watch_snap *sorted_snaps;
  watch_suspect *sus;
  size_t nsus;
  watch_mover *movers;
  int64_t **blocks; /* the suspects' series in time order (keep_sorted) */
  size_t nblocks, cap_blocks;
};

void watch_opts_default(watch_opts *o) {
  memset(o, 0, sizeof *o);
  o->min_snapshots = 5;
  o->min_growth = -1;
  o->min_rel = 0.10;
  o->min_tau = 0.5;
  o->late_ratio = 0.25;
  o->max_suspects = 10;
}

int watch_internal_frame(const char *n) {
  static const char *const prefixes[] = {"runtime.", "runtime/internal/", "internal/", "__libc_", "_dl_",
                                         "tcmalloc::", "je_", "operator new", "std::__"};
  static const char *const allocators[] = {"malloc",  "calloc",        "realloc",       "free",
                                           "strdup",  "strndup",       "posix_memalign", "aligned_alloc",
                                           "memalign", "valloc",       "g_malloc",      "g_malloc0",
                                           "g_realloc", "g_slice_alloc", "g_slice_alloc0"};
  for (size_t i = 0; i < sizeof prefixes / sizeof prefixes[0]; i++)
    if (strncmp(n, prefixes[i], strlen(prefixes[i])) == 0) return 1;
  for (size_t i = 0; i < sizeof allocators / sizeof allocators[0]; i++)
    if (strcmp(n, allocators[i]) == 0) return 1;
  return 0;
}

watch *watch_new(const watch_opts *o) {
  watch *w = calloc(1, sizeof *w);
  if (w == NULL) return NULL;
  w->o = o;
  if (prof_intern_add(&w->strs, "", 0) != 0) {
    free(w);
    return NULL;
  }
  return w;
}

static void free_analysis(watch *w) {
  for (size_t i = 0; i < w->nsus; i++) {
    for (size_t k = 0; k < w->sus[i].nstacks; k++) free(w->sus[i].stacks[k].frames);
    free(w->sus[i].stacks);
    for (size_t k = 0; k < w->sus[i].nlinks; k++) free(w->sus[i].links[k].variable);
    free(w->sus[i].links);
  }
  free(w->sus);
  free(w->movers);
  free(w->order);
  free(w->scratch);
  free(w->sorted_snaps);
  for (size_t i = 0; i < w->nblocks; i++) free(w->blocks[i]);
  free(w->blocks);
  w->sus = NULL;
  w->movers = NULL;
  w->order = NULL;
  w->scratch = NULL;
  w->sorted_snaps = NULL;
  w->blocks = NULL;
  w->nsus = w->nblocks = w->cap_blocks = 0;
}

void watch_free(watch *w) {
  if (w == NULL) return;
  free_analysis(w);
  for (size_t i = 0; i < w->ns; i++) free(w->s[i].v);
  free(w->s);
  for (size_t i = 0; i < w->nsnap; i++) {
    free(w->snaps[i].source);
    free(w->snaps[i].kept);
  }
  free(w->snaps);
  free(w->type);
  free(w->unit);
  if (w->last != w->first) prof_free(w->last);
  prof_free(w->first);
  prof_intern_free(&w->strs);
  prof_intern_free(&w->keys);
  free(w);
}

size_t watch_count(const watch *w) { return w->nsnap; }
int64_t watch_last_total(const watch *w) { return w->nsnap ? w->snaps[w->nsnap - 1].total : 0; }
const char *watch_unit(const watch *w) { return w->unit ? w->unit : ""; }
const char *watch_type(const watch *w) { return w->type ? w->type : ""; }

static const char *str(const watch *w, uint32_t id) { return (const char *)prof_intern_key(&w->strs, id, NULL); }

static long str_id(watch *w, const char *s) { return prof_intern_add(&w->strs, s, strlen(s)); }

/* Makes room for snapshot number w->nsnap in every series (zeroed). */
static int grow_snapshots(watch *w) {
  if (w->nsnap == w->cap_snap) {
    size_t nc = w->cap_snap ? w->cap_snap * 2 : 16;
    for (size_t i = 0; i < w->ns; i++) {
      int64_t *v = realloc(w->s[i].v, nc * sizeof *v);
      if (v == NULL) return -1;
      w->s[i].v = v;
    }
    watch_snap *sn = realloc(w->snaps, nc * sizeof *sn);
    if (sn == NULL) return -1;
    w->snaps = sn;
    w->cap_snap = nc;
  }
  for (size_t i = 0; i < w->ns; i++) w->s[i].v[w->nsnap] = 0;
  return 0;
}

/* The index of the series with key K, made (zero so far) when new; -1 when out of memory. */
static long series_of(watch *w, uint32_t kind, uint32_t func, uint32_t file, int64_t line) {
  series_key k = {kind, func, file, 0, line};
  long id = prof_intern_add(&w->keys, &k, sizeof k);
  if (id < 0) return -1;
  if ((size_t)id < w->ns) return id;
  if (w->ns == w->cap_s) {
    size_t nc = w->cap_s ? w->cap_s * 2 : 256;
    series *s = realloc(w->s, nc * sizeof *s);
    if (s == NULL) return -1;
    w->s = s;
    w->cap_s = nc;
  }
  series *s = &w->s[w->ns];
  s->k = k;
  s->v = calloc(w->cap_snap ? w->cap_snap : 1, sizeof *s->v);
  if (s->v == NULL) return -1;
  w->ns++;
  return id;
}

/* Adds the report's rows: exactly pprof's flat and cum per function. */
static int add_rows(watch *w, const prof_report *r) {
  for (size_t i = 0; i < r->nrows; i++) {
    long f = str_id(w, r->rows[i].name);
    long a = f < 0 ? -1 : series_of(w, S_FLAT, (uint32_t)f, 0, 0);
    long b = f < 0 ? -1 : series_of(w, S_CUM, (uint32_t)f, 0, 0);
    if (a < 0 || b < 0) return -1;
    w->s[a].v[w->nsnap] += r->rows[i].flat;
    w->s[b].v[w->nsnap] += r->rows[i].cum;
  }
  return 0;
}

/* Per function of one profile: its name id, file id and whether it is internal. */
typedef struct pfunc {
  uint32_t name, file;
  int internal;
  long site; /* its site series, -1 until needed */
} pfunc;

static pfunc *profile_funcs(watch *w, const prof_profile *p) {
  pfunc *pf = calloc(p->nfuncs ? p->nfuncs : 1, sizeof *pf);
  if (pf == NULL) return NULL;
  for (size_t i = 0; i < p->nfuncs; i++) {
    const char *name = p->str[p->funcs[i].name];
    long n = str_id(w, name[0] ? name : "<unknown>"), f = str_id(w, p->str[p->funcs[i].filename]);
    if (n < 0 || f < 0) {
      free(pf);
      return NULL;
    }
    pf[i].name = (uint32_t)n;
    pf[i].file = (uint32_t)f;
    pf[i].internal = watch_internal_frame(name);
    pf[i].site = -1;
  }
  return pf;
}

/* The allocation site of sample S: the first frame (leaf first, inlined frames
 * first) outside runtime-internal and allocator code, else the leaf; an index
 * into p->lines, or -1 when the sample has no frame at all. */
static long site_line(const prof_profile *p, const prof_sample *s, const pfunc *pf) {
  long leaf = -1;
  for (size_t i = 0; i < s->loc_count; i++) {
    const prof_location *l = &p->locs[p->sample_locs[s->loc_start + i]];
    for (size_t j = 0; j < l->line_count; j++) {
      size_t li = l->line_start + j;
      if (leaf < 0) leaf = (long)li;
      if (!pf[p->lines[li].func].internal) return (long)li;
    }
  }
  return leaf;
}

/* The site and line series of every sample of P (value TYPE). */
static int add_sites(watch *w, const prof_profile *p, size_t type) {
  pfunc *pf = profile_funcs(w, p);
  long *line_series = malloc((p->nlines ? p->nlines : 1) * sizeof *line_series);
  int rc = pf && line_series ? 0 : -1;
  for (size_t i = 0; rc == 0 && i < p->nlines; i++) line_series[i] = -1;
  for (size_t i = 0; rc == 0 && i < p->nsamples; i++) {
    const prof_sample *s = &p->samples[i];
    int64_t v = p->values[s->value_start + type];
    long li = v ? site_line(p, s, pf) : -1;
    if (li < 0) continue;
    pfunc *f = &pf[p->lines[li].func];
    if (f->site < 0) f->site = series_of(w, S_SITE, f->name, 0, 0);
    if (line_series[li] < 0) line_series[li] = series_of(w, S_LINE, f->name, f->file, p->lines[li].line);
    if (f->site < 0 || line_series[li] < 0) rc = -1;
    else {
      w->s[f->site].v[w->nsnap] += v;
      w->s[line_series[li]].v[w->nsnap] += v;
    }
  }
  free(pf);
  free(line_series);
  return rc;
}

static char *dup_or_null(const char *s) { return s ? strdup(s) : NULL; }

/* Keeps P when it is the earliest or the latest snapshot so far; else frees it. */
static void keep_profile(watch *w, prof_profile *p, int64_t t) {
  int earliest = w->first == NULL || t < w->first_time;
  int latest = w->last == NULL || t >= w->last_time;
  prof_profile *old_first = w->first, *old_last = w->last;
  if (earliest) {
    w->first = p;
    w->first_time = t;
  }
  if (latest) {
    w->last = p;
    w->last_time = t;
  }
  if (old_first && old_first != w->first && old_first != w->last) prof_free(old_first);
  if (old_last && old_last != old_first && old_last != w->first && old_last != w->last) prof_free(old_last);
  if (!earliest && !latest) prof_free(p);
}

int watch_add(watch *w, prof_profile *p, int64_t time_nanos, const char *source, const char *kept, char *err,
              size_t errlen) {
  prof_opts o;
  prof_report r;
  memset(&o, 0, sizeof o);
  o.sample_index = w->type ? w->type : w->o->sample_index;
  o.rows_only = 1;
  if (prof_report_build(NULL, p, &o, &r, err, errlen) != 0) {
    prof_free(p);
    return -1;
  }
  if (w->type && strcmp(r.unit, w->unit) != 0) {
    snprintf(err, errlen, "%s is in %s, not %s as in the first snapshot", r.type, r.unit, w->unit);
    prof_report_free(&r);
    prof_free(p);
    return -1;
  }
  size_t type = (size_t)prof_type_index(p, r.type);
  int rc = 0;
  if (w->type == NULL && ((w->type = strdup(r.type)) == NULL || (w->unit = strdup(r.unit)) == NULL)) rc = -1;
  if (rc == 0) rc = grow_snapshots(w);
  if (rc == 0) rc = add_rows(w, &r);
  if (rc == 0) rc = add_sites(w, p, type);
  if (rc == 0) {
    watch_snap *s = &w->snaps[w->nsnap];
    memset(s, 0, sizeof *s);
    s->time_nanos = time_nanos;
    s->total = r.total;
    s->source = dup_or_null(source);
    s->kept = dup_or_null(kept);
    w->nsnap++;
  }
  prof_report_free(&r);
  if (rc != 0) {
    snprintf(err, errlen, "out of memory");
    prof_free(p);
    return -1;
  }
  keep_profile(w, p, time_nanos);
  return 0;
}

/* ---- Analysis. ---- */

static int by_time(const void *a, const void *b, void *arg) {
  const watch *w = arg;
  size_t x = *(const size_t *)a, y = *(const size_t *)b;
  int64_t tx = w->snaps[x].time_nanos, ty = w->snaps[y].time_nanos;
  if (tx != ty) return tx < ty ? -1 : 1;
  return x < y ? -1 : x > y;
}

/* Series S's values in time order, into a block the analysis owns. */
static int64_t *keep_sorted(watch *w, const series *s) {
  if (w->nblocks == w->cap_blocks) {
    size_t nc = w->cap_blocks ? w->cap_blocks * 2 : 16;
    int64_t **b = realloc(w->blocks, nc * sizeof *b);
    if (b == NULL) return NULL;
    w->blocks = b;
    w->cap_blocks = nc;
  }
  int64_t *v = malloc(w->nsnap * sizeof *v);
  if (v == NULL) return NULL;
  for (size_t i = 0; i < w->nsnap; i++) v[i] = s->v[w->order[i]];
  w->blocks[w->nblocks++] = v;
  return v;
}

/* Fits VALUES (time order) over the judged snapshots; -2: no line. */
static int fit_values(const watch_result *r, const int64_t *values, trend_point *pts, trend_fit *f) {
  size_t n = 0;
  for (size_t i = r->judged_from; i < r->nsnaps; i++) {
    pts[n].x = r->snaps[i].t / 60.0;
    pts[n].y = (double)values[i];
    n++;
  }
  return trend_fit_points(pts, n, NAN, NAN, f);
}

/* Fits the series at arrival-order values V. */
static int fit_series(watch *w, const watch_result *r, const int64_t *v, trend_point *pts, trend_fit *f) {
  for (size_t i = 0; i < w->nsnap; i++) w->scratch[i] = v[w->order[i]];
  return fit_values(r, w->scratch, pts, f);
}

/* The range of arrival-order values V over the judged snapshots. */
static int64_t judged_range(const watch *w, const watch_result *r, const int64_t *v) {
  int64_t lo = INT64_MAX, hi = INT64_MIN;
  for (size_t i = r->judged_from; i < w->nsnap; i++) {
    int64_t x = v[w->order[i]];
    if (x < lo) lo = x;
    if (x > hi) hi = x;
  }
  return hi >= lo ? hi - lo : 0;
}

static int by_slope(const void *a, const void *b) {
  const watch_suspect *x = a, *y = b;
  if (x->fit.slope != y->fit.slope) return x->fit.slope > y->fit.slope ? -1 : 1;
  return strcmp(x->function, y->function);
}

static int by_growth(const void *a, const void *b) {
  const watch_mover *x = a, *y = b;
  if (x->range != y->range) return x->range > y->range ? -1 : 1;
  return strcmp(x->function, y->function);
}

/* The series index of kind KIND for function FUNC, or -1. */
static long find_series(const watch *w, uint32_t kind, uint32_t func) {
  series_key k = {kind, func, 0, 0, 0};
  long id = prof_intern_find(&w->keys, &k, sizeof k);
  return id >= 0 && (size_t)id < w->ns ? id : -1;
}

/* The suspect's line: of its line series, the one with the steepest fit. */
static int pick_line(watch *w, const watch_result *r, watch_suspect *s, uint32_t func, trend_point *pts) {
  int found = 0;
  for (size_t i = 0; i < w->ns; i++) {
    const series *x = &w->s[i];
    if (x->k.kind != S_LINE || x->k.func != func) continue;
    trend_fit f;
    if (fit_series(w, r, x->v, pts, &f) == -1) return -1;
    if (isnan(f.slope)) continue;
    if (!found || f.slope > s->line_fit.slope) {
      s->line_fit = f;
      s->file = str(w, x->k.file);
      s->line = x->k.line;
      found = 1;
    }
  }
  return 0;
}

/* ---- Stacks of a suspect, from the kept profiles. ---- */

typedef struct stack_acc {
  prof_intern keys; /* a stack: (name id, file id, line, internal) per frame */
  int64_t *last, *first;
  size_t cap;
} stack_acc;

typedef struct frame_key {
  uint32_t name, file;
  int64_t line;
  uint32_t internal, pad;
} frame_key;

/* Adds P's samples whose site is function FUNC to ACC (into LAST or FIRST). */
static int collect_stacks(watch *w, const prof_profile *p, uint32_t func, stack_acc *acc, int is_last) {
  pfunc *pf = profile_funcs(w, p);
  long type = prof_type_index(p, w->type);
  frame_key *fr = NULL;
  size_t cap = 0;
  int rc = pf && type >= 0 ? 0 : -1;
  for (size_t i = 0; rc == 0 && i < p->nsamples; i++) {
    const prof_sample *s = &p->samples[i];
    int64_t v = p->values[s->value_start + (size_t)type];
    long li = v ? site_line(p, s, pf) : -1;
    if (li < 0 || pf[p->lines[li].func].name != func) continue;
    size_t n = 0;
    for (size_t k = 0; k < s->loc_count; k++) {
      const prof_location *l = &p->locs[p->sample_locs[s->loc_start + k]];
      for (size_t j = 0; j < l->line_count; j++) {
        if (n == cap) {
          cap = cap ? cap * 2 : 64;
          frame_key *q = realloc(fr, cap * sizeof *q);
          if (q == NULL) {
            rc = -1;
            break;
          }
          fr = q;
        }
        const prof_line *ln = &p->lines[l->line_start + j];
        fr[n++] = (frame_key){pf[ln->func].name, pf[ln->func].file, ln->line, (uint32_t)pf[ln->func].internal, 0};
      }
    }
    if (rc != 0) break;
    long id = prof_intern_add(&acc->keys, fr, n * sizeof *fr);
    if (id < 0) rc = -1;
    else if ((size_t)id >= acc->cap) {
      size_t nc = acc->cap ? acc->cap * 2 : 64;
      while (nc <= (size_t)id) nc *= 2;
      int64_t *a = realloc(acc->last, nc * sizeof *a), *b = a ? realloc(acc->first, nc * sizeof *b) : NULL;
      if (a) acc->last = a;
      if (b) acc->first = b;
      if (a == NULL || b == NULL) rc = -1;
      else {
        memset(a + acc->cap, 0, (nc - acc->cap) * sizeof *a);
        memset(b + acc->cap, 0, (nc - acc->cap) * sizeof *b);
        acc->cap = nc;
      }
    }
    if (rc == 0) (is_last ? acc->last : acc->first)[id] += v;
  }
  free(fr);
  free(pf);
  return rc;
}

static int make_stacks(watch *w, watch_suspect *s, uint32_t func) {
  stack_acc acc;
  memset(&acc, 0, sizeof acc);
  int rc = 0;
  if (w->last) rc = collect_stacks(w, w->last, func, &acc, 1);
  if (rc == 0 && w->first && w->first != w->last) rc = collect_stacks(w, w->first, func, &acc, 0);
  size_t n = acc.keys.n;
  s->stacks = calloc(MAX_STACKS, sizeof *s->stacks);
  if (s->stacks == NULL) rc = -1;
  /* The MAX_STACKS largest in the last snapshot, by value, then by growth. */
  char *used = calloc(n ? n : 1, 1);
  if (used == NULL) rc = -1;
  while (rc == 0 && s->nstacks < MAX_STACKS) {
    long best = -1;
    for (size_t i = 0; i < n; i++) {
      if (used[i] || acc.last[i] <= 0) continue;
      if (best < 0 || acc.last[i] > acc.last[best] ||
          (acc.last[i] == acc.last[best] && acc.last[i] - acc.first[i] > acc.last[best] - acc.first[best]))
        best = (long)i;
    }
    if (best < 0) break;
    used[best] = 1;
    size_t len;
    const frame_key *fr = (const frame_key *)(const void *)prof_intern_key(&acc.keys, (size_t)best, &len);
    watch_stack *st = &s->stacks[s->nstacks];
    st->value = acc.last[best];
    st->growth = acc.last[best] - acc.first[best];
    st->nframes = len / sizeof *fr;
    st->frames = calloc(st->nframes ? st->nframes : 1, sizeof *st->frames);
    if (st->frames == NULL) {
      rc = -1;
      break;
    }
    for (size_t k = 0; k < st->nframes; k++) {
      st->frames[k].function = str(w, fr[k].name);
      st->frames[k].file = str(w, fr[k].file);
      st->frames[k].line = fr[k].line;
      st->frames[k].internal = (int)fr[k].internal;
    }
    s->nstacks++;
  }
  free(used);
  free(acc.last);
  free(acc.first);
  prof_intern_free(&acc.keys);
  return rc;
}

static trend_rules rules_for(const watch *w) {
  double min_growth = w->o->min_growth;
  if (min_growth < 0) min_growth = w->unit && strcmp(w->unit, "bytes") == 0 ? 1048576 : 1000;
  trend_rules r = {min_growth, w->o->min_rel, min_growth, w->o->min_tau, w->o->late_ratio, 1};
  return r;
}

/* Decides the suspects: site series that pass every rule. */
static int judge_sites(watch *w, watch_result *r, trend_point *pts) {
  size_t nmov = 0;
  w->sus = calloc(w->ns + 1, sizeof *w->sus);
  w->movers = calloc(w->ns + 1, sizeof *w->movers);
  if (w->sus == NULL || w->movers == NULL) return -1;
  for (size_t i = 0; i < w->ns; i++) {
    const series *x = &w->s[i];
    /* A series whose range is under half the minimum growth cannot grow enough. */
    if (x->k.kind != S_SITE || (double)judged_range(w, r, x->v) < r->rules.min_growth / 2) continue;
    trend_fit f;
    int ok[TREND_NRULES];
    int rc = fit_series(w, r, x->v, pts, &f);
    if (rc == -1) return -1;
    if (rc != 0) continue;
    if (trend_check(&f, &r->rules, ok) == 0) {
      watch_suspect *s = &w->sus[w->nsus++];
      s->function = str(w, x->k.func);
      s->fit = f;
    } else if ((double)judged_range(w, r, x->v) >= r->rules.min_growth) {
      watch_mover *m = &w->movers[nmov++];
      m->function = str(w, x->k.func);
      m->fit = f;
      m->range = judged_range(w, r, x->v);
      memcpy(m->ok, ok, sizeof ok);
    }
  }
  qsort(w->sus, w->nsus, sizeof *w->sus, by_slope);
  if (w->nsus > w->o->max_suspects) w->nsus = w->o->max_suspects;
  qsort(w->movers, nmov, sizeof *w->movers, by_growth);
  r->nmovers = nmov < MAX_MOVERS ? nmov : MAX_MOVERS;
  r->movers = w->movers;
  return 0;
}

/* Fills each suspect's sorted series, line and stacks. */
static int finish_suspects(watch *w, watch_result *r, trend_point *pts) {
  for (size_t i = 0; i < w->nsus; i++) {
    watch_suspect *s = &w->sus[i];
    long f = prof_intern_find(&w->strs, s->function, strlen(s->function));
    long site = f < 0 ? -1 : find_series(w, S_SITE, (uint32_t)f);
    long flat = f < 0 ? -1 : find_series(w, S_FLAT, (uint32_t)f);
    long cum = f < 0 ? -1 : find_series(w, S_CUM, (uint32_t)f);
    if (site < 0) return -1;
    if ((s->site = keep_sorted(w, &w->s[site])) == NULL) return -1;
    if (flat >= 0 && (s->flat = keep_sorted(w, &w->s[flat])) == NULL) return -1;
    if (cum >= 0 && (s->cum = keep_sorted(w, &w->s[cum])) == NULL) return -1;
    s->first = s->site[r->judged_from];
    s->last = s->site[r->nsnaps - 1];
    s->file = "";
    if (pick_line(w, r, s, (uint32_t)f, pts) != 0 || make_stacks(w, s, (uint32_t)f) != 0) return -1;
  }
  r->suspects = w->sus;
  r->nsuspects = w->nsus;
  return 0;
}

/* Orders the snapshots by time: w->order, and r->snaps with their times. */
static int order_snapshots(watch *w, watch_result *r) {
  size_t n = w->nsnap;
  w->order = malloc((n ? n : 1) * sizeof *w->order);
  w->scratch = malloc((n ? n : 1) * sizeof *w->scratch);
  w->sorted_snaps = malloc((n ? n : 1) * sizeof *w->sorted_snaps);
  if (w->order == NULL || w->scratch == NULL || w->sorted_snaps == NULL) return -1;
  for (size_t i = 0; i < n; i++) w->order[i] = i;
  qsort_r(w->order, n, sizeof *w->order, by_time, w);
  for (size_t i = 0; i < n; i++) {
    w->sorted_snaps[i] = w->snaps[w->order[i]];
    w->sorted_snaps[i].t = (double)(w->sorted_snaps[i].time_nanos - w->snaps[w->order[0]].time_nanos) / 1e9;
  }
  r->snaps = w->sorted_snaps;
  r->nsnaps = n;
  r->judged_from = 0;
  while (r->judged_from < n && r->snaps[r->judged_from].t < w->o->skip_s) r->judged_from++;
  return 0;
}

int watch_analyse(watch *w, watch_result *r) {
  free_analysis(w);
  memset(r, 0, sizeof *r);
  r->type = watch_type(w);
  r->unit = watch_unit(w);
  r->rules = rules_for(w);
  r->min_snapshots = w->o->min_snapshots;
  if (order_snapshots(w, r) != 0) return -1;
  size_t judged = r->nsnaps - r->judged_from;
  trend_point *pts = malloc((w->nsnap ? w->nsnap : 1) * sizeof *pts);
  if (pts == NULL) return -1;
  int rc = 0;
  if (judged >= 2) {
    for (size_t i = 0; i < w->nsnap; i++) w->scratch[i] = r->snaps[i].total;
    int fr = fit_values(r, w->scratch, pts, &r->total_fit);
    r->total_fit_ok = fr == 0;
    if (fr == -1) rc = -1;
    if (fr == 0) trend_check(&r->total_fit, &r->rules, r->total_ok);
  }
  if (rc == 0 && judged >= w->o->min_snapshots && r->total_fit_ok) rc = judge_sites(w, r, pts);
  if (rc == 0) rc = finish_suspects(w, r, pts);
  free(pts);
  if (rc != 0) return -1;
  int total_grows = r->total_fit_ok;
  for (int i = 0; i < TREND_NRULES; i++) total_grows = total_grows && r->total_ok[i];
  if (judged < w->o->min_snapshots || judged < 2 || !r->total_fit_ok) r->verdict = WATCH_INSUFFICIENT;
  else r->verdict = r->nsuspects > 0 || total_grows ? WATCH_GROWING : WATCH_STABLE;
  return 0;
}

int watch_top_mover(const watch *w, const char **function, int64_t *growth) {
  long best = -1;
  int64_t most = 0;
  for (size_t i = 0; w->nsnap > 1 && i < w->ns; i++) {
    if (w->s[i].k.kind != S_SITE) continue;
    int64_t d = w->s[i].v[w->nsnap - 1] - w->s[i].v[0];
    if (d > most) {
      most = d;
      best = (long)i;
    }
  }
  if (best < 0) return -1;
  *function = str(w, w->s[best].k.func);
  *growth = most;
  return 0;
}
