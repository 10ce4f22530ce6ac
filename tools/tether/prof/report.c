/* Aggregation of tether diff/top, following what `go tool pprof -top [-base]`
 * does so that the numbers agree exactly:
 *  - the base's values are negated and its samples merged with the current
 *    profile's by identical stack and labels; stacks compare by function name,
 *    file and line of every frame (not by address), so two runs of one binary
 *    compare correctly;
 *  - the total (the 100% of the percentages) is the sum of |value| over all
 *    merged samples, before any focus or ignore filter;
 *  - flat goes to the leaf frame, cum to every distinct node on the stack once
 *    per sample; samples whose value is zero are passed over, and so are
 *    functions whose flat and cum both come to zero;
 *  - a node is marked "(inline)" when every call into it was inlined into its
 *    caller, "(partial-inline)" when only some were;
 *  - rows sort by |flat|, then name, then |cum|.
 * Interned ids (intern.h) keep the work linear in the size of the profiles. */
#include "prof/report.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/regex.h"
#include "prof/intern.h"

/* What a report owns after its build: row names and the strings rows point to. */
typedef struct owned {
  prof_intern nodes, strs;
  struct node_src {
    uint32_t name, file;
    int64_t line, start_line;
  } *src; /* per node: the frame that named it first */
  size_t src_cap;
} owned;

typedef struct build {
  const prof_opts *o;
  owned *own;
  prof_intern strs;    /* function names, files, label strings */
  prof_intern frames;  /* (name, file, line) */
  prof_intern locsigs; /* a location's frames, inlined first */
  prof_intern samples; /* merged sample keys */
  prof_intern *nodes;  /* printable row names; handed to the report */
  prof_intern edges;   /* inlined calls: (caller node, callee node) */
  int64_t *mvalue;     /* per merged sample */
  int64_t *fstart;     /* per frame: its function's start line */
  size_t mcap, fcap;
  uint32_t *gid;       /* per string of the profile being merged: its global id */
  uint32_t *key;       /* the sample key being built */
  size_t klen, kcap;
  tcli_regex *focus, *ignore;
  int has_focus, has_ignore;
  /* The direct walk (prof_opts.rows_only, one profile, no negative value):
   * samples are walked as they are, without merging. */
  const prof_profile *direct;
  size_t direct_type;
  uint32_t *direct_sig; /* per location of DIRECT: its frame-list id */
  char *err;
  size_t errlen;
} build;

/* A frame as interned: its key. */
typedef struct frame_key {
  uint32_t name, file;
  int64_t line;
} frame_key;

static int fail(build *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(build *b, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(b->err, b->errlen, fmt, ap);
  va_end(ap);
  return -1;
}

static int grow_i64(int64_t **arr, size_t *cap, size_t need) {
  if (need <= *cap) return 0;
  size_t nc = *cap ? *cap : 256;
  while (nc < need) nc *= 2;
  int64_t *q = realloc(*arr, nc * sizeof *q);
  if (q == NULL) return -1;
  memset(q + *cap, 0, (nc - *cap) * sizeof *q);
  *arr = q;
  *cap = nc;
  return 0;
}

/* Makes room for N more words in the sample key being built. */
static int key_room(build *b, size_t n) {
  if (b->klen + n <= b->kcap) return 0;
  size_t nc = b->kcap ? b->kcap : 64;
  while (nc < b->klen + n) nc *= 2;
  uint32_t *q = realloc(b->key, nc * sizeof *q);
  if (q == NULL) return -1;
  b->key = q;
  b->kcap = nc;
  return 0;
}

/* The global id of string I of profile P, remembered in b->gid (per profile). */
static long str_id(build *b, const prof_profile *p, size_t i) {
  if (b->gid[i] != UINT32_MAX) return (long)b->gid[i];
  long id = prof_intern_add(&b->strs, p->str[i], strlen(p->str[i]));
  if (id >= 0) b->gid[i] = (uint32_t)id;
  return id;
}

/* Interns every location line of P as a frame; FRAME_OF gets one id per line. */
static int intern_frames(build *b, const prof_profile *p, uint32_t *frame_of) {
  for (size_t i = 0; i < p->nlines; i++) {
    const prof_function *fn = &p->funcs[p->lines[i].func];
    long name = str_id(b, p, fn->name), file = str_id(b, p, fn->filename);
    if (name < 0 || file < 0) return fail(b, "out of memory");
    frame_key k = {(uint32_t)name, (uint32_t)file, p->lines[i].line};
    long id = prof_intern_add(&b->frames, &k, sizeof k);
    if (id < 0 || grow_i64(&b->fstart, &b->fcap, (size_t)id + 1) != 0) return fail(b, "out of memory");
    b->fstart[id] = fn->start_line;
    frame_of[i] = (uint32_t)id;
  }
  return 0;
}

static int cmp_label(const void *x, const void *y) {
  return memcmp(x, y, 5 * sizeof(uint32_t));
}

/* Appends S's labels to the key, sorted so that their order does not matter. */
static int key_labels(build *b, const prof_profile *p, const prof_sample *s) {
  size_t first = b->klen;
  if (key_room(b, 5 * (size_t)s->label_count) != 0) return -1;
  for (size_t i = 0; i < s->label_count; i++) {
    const prof_label *l = &p->labels[s->label_start + i];
    long k = str_id(b, p, l->key), v = str_id(b, p, l->str), u = str_id(b, p, l->num_unit);
    if (k < 0 || v < 0 || u < 0) return -1;
    uint64_t num = (uint64_t)l->num;
    uint32_t *w = b->key + b->klen;
    w[0] = (uint32_t)k;
    w[1] = (uint32_t)v;
    w[2] = (uint32_t)num;
    w[3] = (uint32_t)(num >> 32);
    w[4] = (uint32_t)u;
    b->klen += 5;
  }
  if (s->label_count > 1) qsort(b->key + first, s->label_count, 5 * sizeof(uint32_t), cmp_label);
  return 0;
}

/* Interns every location of P by its frames; SIG_OF gets one id per location. */
static int intern_locations(build *b, const prof_profile *p, const uint32_t *frame_of, uint32_t *sig_of) {
  for (size_t i = 0; i < p->nlocs; i++) {
    const prof_location *l = &p->locs[i];
    long id = prof_intern_add(&b->locsigs, frame_of + l->line_start, l->line_count * sizeof *frame_of);
    if (id < 0) return fail(b, "out of memory");
    sig_of[i] = (uint32_t)id;
  }
  return 0;
}

/* Appends the key of sample S to b->key: the location count, the locations'
 * frame-list ids leaf first, then the labels. */
static int sample_key(build *b, const prof_profile *p, const prof_sample *s, const uint32_t *sig_of) {
  if (key_room(b, 1 + (size_t)s->loc_count) != 0) return -1;
  const uint32_t *locs = p->sample_locs + s->loc_start;
  uint32_t *w = b->key + b->klen;
  w[0] = s->loc_count;
  for (size_t i = 0; i < s->loc_count; i++) w[i + 1] = sig_of[locs[i]];
  b->klen += 1 + (size_t)s->loc_count;
  return s->label_count ? key_labels(b, p, s) : 0;
}

/* Samples are merged in batches: the keys of a batch are built and hashed
 * first and their slots prefetched, so that the table's cache misses overlap
 * instead of coming one after another. */
#define MERGE_BATCH 32

/* Merges samples [FROM, TO) of P (TO - FROM <= MERGE_BATCH). */
static int merge_batch(build *b, const prof_profile *p, size_t from, size_t to, const uint32_t *sig_of,
                       size_t type, int sign, int64_t *sum) {
  size_t off[MERGE_BATCH + 1];
  uint64_t h[MERGE_BATCH];
  b->klen = 0;
  for (size_t i = from; i < to; i++) {
    off[i - from] = b->klen;
    if (sample_key(b, p, &p->samples[i], sig_of) != 0) return fail(b, "out of memory");
  }
  off[to - from] = b->klen;
  for (size_t j = 0; j < to - from; j++) {
    h[j] = prof_intern_hash(b->key + off[j], (off[j + 1] - off[j]) * sizeof *b->key);
    prof_intern_prefetch(&b->samples, h[j]);
  }
  for (size_t i = from; i < to; i++) {
    size_t j = i - from;
    int64_t v = p->values[p->samples[i].value_start + type];
    long id = prof_intern_add_hashed(&b->samples, b->key + off[j], (off[j + 1] - off[j]) * sizeof *b->key, h[j]);
    if (id < 0 || grow_i64(&b->mvalue, &b->mcap, (size_t)id + 1) != 0) return fail(b, "out of memory");
    b->mvalue[id] += sign < 0 ? -v : v;
    *sum += v;
  }
  return 0;
}

/* Interns P's frames and locations; *SIG_OF gets each location's frame-list id
 * (malloc'd; the caller frees it). b->gid stays for P's labels: drop_gid ends it. */
static int intern_profile(build *b, const prof_profile *p, uint32_t **sig_of) {
  uint32_t *frame_of = malloc((p->nlines ? p->nlines : 1) * sizeof *frame_of);
  *sig_of = malloc((p->nlocs ? p->nlocs : 1) * sizeof **sig_of);
  b->gid = malloc(p->nstr * sizeof *b->gid);
  if (b->gid) memset(b->gid, 0xff, p->nstr * sizeof *b->gid);
  int rc = frame_of && *sig_of && b->gid ? intern_frames(b, p, frame_of) : fail(b, "out of memory");
  if (rc == 0) rc = intern_locations(b, p, frame_of, *sig_of);
  free(frame_of);
  return rc;
}

static void drop_gid(build *b) {
  free(b->gid);
  b->gid = NULL;
}

/* Merges P's samples (value TYPE, times SIGN) into b->samples; adds their sum to *SUM. */
static int merge(build *b, const prof_profile *p, size_t type, int sign, int64_t *sum) {
  uint32_t *sig_of = NULL;
  int rc = intern_profile(b, p, &sig_of);
  for (size_t i = 0; rc == 0 && i < p->nsamples; i += MERGE_BATCH) {
    size_t to = p->nsamples - i < MERGE_BATCH ? p->nsamples : i + MERGE_BATCH;
    rc = merge_batch(b, p, i, to, sig_of, type, sign, sum);
  }
  free(sig_of);
  drop_gid(b);
  return rc;
}

int prof_is_closure(const char *name, size_t *enclosing) {
  size_t n = strlen(name), seg = 0, ncomp = 0;
  size_t dots[256];
  int depth = 0;
  /* Splits the last path segment into dot-separated parts, outside brackets. */
  for (size_t i = 0; i < n; i++) {
    if (name[i] == '[') depth++;
    else if (name[i] == ']' && depth > 0) depth--;
    else if (depth == 0 && name[i] == '/') seg = i + 1, ncomp = 0;
    else if (depth == 0 && name[i] == '.' && i >= seg && ncomp < 256) dots[ncomp++] = i;
  }
  int seen = 0;
  size_t cut = n;
  while (ncomp > 1) {
    const char *c = name + dots[ncomp - 1] + 1;
    size_t clen = cut - (dots[ncomp - 1] + 1);
    size_t pre = strncmp(c, "func", 4) == 0 ? 4 : strncmp(c, "gowrap", 6) == 0 ? 6
               : strncmp(c, "deferwrap", 9) == 0 ? 9 : 0;
    size_t digits = 0;
    while (pre + digits < clen && c[pre + digits] >= '0' && c[pre + digits] <= '9') digits++;
    if (digits == 0 || pre + digits != clen) break;
    if (pre == 0 && seen) break;
    seen |= pre != 0;
    cut = dots[--ncomp];
  }
  if (seen && enclosing) *enclosing = cut;
  return seen;
}

/* The printable name of frame F for the report's granularity, or "" when the
 * frame is no row of its own (closures mode: not a closure). */
static int node_name(build *b, size_t f, char **out) {
  const frame_key *k = (const frame_key *)(const void *)prof_intern_key(&b->frames, f, NULL);
  const char *name = (const char *)prof_intern_key(&b->strs, k->name, NULL);
  const char *file = (const char *)prof_intern_key(&b->strs, k->file, NULL);
  size_t encl;
  int n;
  if (name[0] == 0) name = "<unknown>";
  if (b->o->closures) {
    if (!prof_is_closure(name, &encl)) return (*out = strdup("")) ? 0 : -1;
    long line = (long)(b->fstart[f] > 0 ? b->fstart[f] : k->line);
    n = asprintf(out, "%s (in %.*s at %s:%ld)", name, (int)encl, name, file, line);
  } else if (b->o->lines && k->line != 0) {
    n = asprintf(out, "%s %s:%lld", name, file, (long long)k->line);
  } else if (b->o->lines && file[0] != 0) {
    n = asprintf(out, "%s %s", name, file);
  } else {
    n = asprintf(out, "%s", name);
  }
  return n < 0 ? -1 : 0;
}

/* Per-frame facts for the walk: node id (-1: none), focus and ignore matches.
 * The same facts per location (any of its frames) go in sig_info. */
typedef struct frame_info {
  long node;
  char focus, ignore;
} frame_info;

static frame_info *sig_infos(build *b, const frame_info *fi) {
  frame_info *si = calloc(b->locsigs.n ? b->locsigs.n : 1, sizeof *si);
  if (si == NULL) return NULL;
  for (size_t l = 0; l < b->locsigs.n; l++) {
    size_t len;
    const uint32_t *fr = (const uint32_t *)(const void *)prof_intern_key(&b->locsigs, l, &len);
    si[l].node = -1;
    for (size_t j = 0; j < len / sizeof *fr; j++) {
      si[l].focus |= fi[fr[j]].focus;
      si[l].ignore |= fi[fr[j]].ignore;
      if (fi[fr[j]].node >= 0) si[l].node = fi[fr[j]].node;
    }
  }
  return si;
}

static int frame_infos(build *b, frame_info **out) {
  size_t n = b->frames.n;
  frame_info *fi = calloc(n ? n : 1, sizeof *fi);
  if (fi == NULL) return fail(b, "out of memory");
  for (size_t f = 0; f < n; f++) {
    const frame_key *k = (const frame_key *)(const void *)prof_intern_key(&b->frames, f, NULL);
    const char *name = (const char *)prof_intern_key(&b->strs, k->name, NULL);
    const char *file = (const char *)prof_intern_key(&b->strs, k->file, NULL);
    char *label;
    if (node_name(b, f, &label) != 0) {
      free(fi);
      return fail(b, "out of memory");
    }
    size_t before = b->nodes->n;
    fi[f].node = label[0] ? prof_intern_add(b->nodes, label, strlen(label)) : -1;
    free(label);
    if (fi[f].node >= 0 && (size_t)fi[f].node == before) {
      struct node_src *src = b->own->src;
      if (before == b->own->src_cap) {
        size_t nc = before ? 2 * before : 64;
        if ((src = realloc(src, nc * sizeof *src)) == NULL) {
          free(fi);
          return fail(b, "out of memory");
        }
        b->own->src = src;
        b->own->src_cap = nc;
      }
      src[before].name = k->name;
      src[before].file = k->file;
      src[before].line = b->o->lines && !b->o->closures ? k->line : 0;
      src[before].start_line = b->fstart[f];
    }
    if (b->has_focus) fi[f].focus = tcli_regex_match(b->focus, name) || tcli_regex_match(b->focus, file);
    if (b->has_ignore) fi[f].ignore = tcli_regex_match(b->ignore, name) || tcli_regex_match(b->ignore, file);
  }
  *out = fi;
  return 0;
}

/* Node accumulators. */
typedef struct acc {
  int64_t *flat, *cum;
  uint32_t *stamp;
  char *touched;
  char *called;    /* per node: some call into it was not inlined */
  char *inl_child; /* per node: the callee of some inlined call */
  char *inl;       /* per node: some caller's every call into it was inlined */
  char *broken;    /* per inlined call (b->edges): also made without inlining */
  char *sig_used;  /* per location: on a walked stack */
} acc;

static int sample_kept(const build *b, const uint32_t *w, size_t nw, const frame_info *si) {
  int focused = !b->has_focus, ignored = 0, closure = !b->o->closures;
  for (size_t i = 0; i < nw; i++) {
    focused |= si[w[i]].focus;
    ignored |= si[w[i]].ignore;
    closure |= si[w[i]].node >= 0;
  }
  return focused && !ignored && closure;
}

/* Calls FN(b, a, parent, child) for each inlined call inside location L: its
 * frames, outermost first, each called by the one before. */
static void each_inlined(build *b, acc *a, size_t l, const frame_info *fi,
                         void (*fn)(build *, acc *, long, long)) {
  size_t len;
  const uint32_t *fr = (const uint32_t *)(const void *)prof_intern_key(&b->locsigs, l, &len);
  for (size_t j = len / sizeof *fr; j-- > 1;) {
    long parent = fi[fr[j]].node, child = fi[fr[j - 1]].node;
    if (parent >= 0 && child >= 0 && parent != child) fn(b, a, parent, child);
  }
}

static void add_inlined(build *b, acc *a, long parent, long child) {
  uint32_t pair[2] = {(uint32_t)parent, (uint32_t)child};
  if (prof_intern_add(&b->edges, pair, sizeof pair) >= 0) a->inl_child[child] = 1;
  else a->inl_child[child] = 2; /* out of memory: noticed by inline_calls */
}

static void mark_inlined(build *b, acc *a, long parent, long child) {
  uint32_t pair[2] = {(uint32_t)parent, (uint32_t)child};
  long e = prof_intern_find(&b->edges, pair, sizeof pair);
  if (e >= 0 && !a->broken[e]) a->inl[child] = 1;
}

/* Collects the inlined calls of every location before the walk. A call is
 * inlined exactly when caller and callee share a location, so these are all. */
static int inline_calls(build *b, acc *a, const frame_info *fi) {
  size_t n = b->nodes->n ? b->nodes->n : 1;
  for (size_t l = 0; l < b->locsigs.n; l++) each_inlined(b, a, l, fi, add_inlined);
  for (size_t i = 0; i < b->nodes->n; i++)
    if (a->inl_child[i] == 2) return fail(b, "out of memory");
  a->broken = calloc(b->edges.n ? b->edges.n : 1, 1);
  a->sig_used = calloc(b->locsigs.n ? b->locsigs.n : 1, 1);
  a->inl = calloc(n, 1);
  return a->broken && a->sig_used && a->inl ? 0 : fail(b, "out of memory");
}

/* A call PARENT -> CHILD between locations: not inlined. */
static void note_call(build *b, acc *a, long parent, long child) {
  a->called[child] = 1;
  if (!a->inl_child[child]) return;
  uint32_t pair[2] = {(uint32_t)parent, (uint32_t)child};
  long e = prof_intern_find(&b->edges, pair, sizeof pair);
  if (e >= 0) a->broken[e] = 1;
}

/* Adds cum to node N once per sample (STAMP). */
static void add_cum(acc *a, long n, int64_t v, uint32_t stamp) {
  if (a->stamp[n] == stamp) return;
  a->stamp[n] = stamp;
  a->cum[n] += v;
  a->touched[n] = 1;
}

/* Walks one merged sample root first, as pprof's graph builder does: W holds
 * its NW location ids, leaf first; each location's frames are inlined first. */
static void walk(build *b, acc *a, const uint32_t *w, size_t nw, int64_t v, uint32_t stamp,
                 const frame_info *fi) {
  long parent = -1, closure_leaf = -1;
  for (size_t i = nw; i-- > 0;) {
    size_t len;
    const uint32_t *fr = (const uint32_t *)(const void *)prof_intern_key(&b->locsigs, w[i], &len);
    size_t nf = len / sizeof *fr;
    if (nf == 0) continue;
    if (!b->o->closures) {
      long outer = fi[fr[nf - 1]].node;
      if (parent >= 0 && outer != parent) note_call(b, a, parent, outer);
      a->sig_used[w[i]] = 1;
      parent = fi[fr[0]].node;
    }
    for (size_t j = nf; j-- > 0;) {
      long n = fi[fr[j]].node;
      if (n < 0) continue;
      add_cum(a, n, v, stamp);
      closure_leaf = n;
    }
  }
  long leaf = b->o->closures ? closure_leaf : parent;
  if (leaf >= 0) a->flat[leaf] += v;
}

/* Walks the samples of b->direct as they are (see build). */
static int walk_direct(build *b, acc *a, const frame_info *fi, const frame_info *si, int64_t *kept) {
  const prof_profile *p = b->direct;
  for (size_t s = 0; s < p->nsamples; s++) {
    const prof_sample *smp = &p->samples[s];
    int64_t v = p->values[smp->value_start + b->direct_type];
    if (v == 0) continue;
    b->klen = 0;
    if (key_room(b, smp->loc_count) != 0) return fail(b, "out of memory");
    for (size_t i = 0; i < smp->loc_count; i++) b->key[i] = b->direct_sig[p->sample_locs[smp->loc_start + i]];
    if (!sample_kept(b, b->key, smp->loc_count, si)) continue;
    *kept += v;
    walk(b, a, b->key, smp->loc_count, v, (uint32_t)s + 1, fi);
  }
  return 0;
}

static int walk_all(build *b, acc *a, const frame_info *fi, int64_t *kept) {
  frame_info *si = sig_infos(b, fi);
  if (si == NULL) return fail(b, "out of memory");
  if (b->direct && walk_direct(b, a, fi, si, kept) != 0) {
    free(si);
    return -1;
  }
  for (size_t s = 0; !b->direct && s < b->samples.n; s++) {
    int64_t v = b->mvalue[s];
    const uint32_t *w = (const uint32_t *)(const void *)prof_intern_key(&b->samples, s, NULL);
    if (v == 0 || !sample_kept(b, w + 1, w[0], si)) continue;
    *kept += v;
    walk(b, a, w + 1, w[0], v, (uint32_t)s + 1, fi);
  }
  free(si);
  for (size_t l = 0; l < b->locsigs.n; l++)
    if (a->sig_used[l]) each_inlined(b, a, l, fi, mark_inlined);
  return 0;
}

static int64_t abs64(int64_t v) { return v < 0 ? -v : v; }

static int cmp_rows(const void *x, const void *y) {
  const prof_row *l = x, *r = y;
  if (abs64(l->flat) != abs64(r->flat)) return abs64(l->flat) > abs64(r->flat) ? -1 : 1;
  int c = strcmp(l->name, r->name);
  if (c != 0) return c;
  if (abs64(l->cum) != abs64(r->cum)) return abs64(l->cum) > abs64(r->cum) ? -1 : 1;
  return 0;
}

static int make_rows(build *b, const acc *a, prof_report *rep) {
  size_t n = b->nodes->n, k = 0;
  rep->rows = calloc(n ? n : 1, sizeof *rep->rows);
  if (rep->rows == NULL) return fail(b, "out of memory");
  for (size_t i = 0; i < n; i++) {
    /* A function whose growth and shrinkage cancel exactly is no row. */
    if (!a->touched[i] || (a->flat[i] == 0 && a->cum[i] == 0)) continue;
    rep->rows[k].name = (const char *)prof_intern_key(b->nodes, i, NULL);
    rep->rows[k].flat = a->flat[i];
    rep->rows[k].cum = a->cum[i];
    rep->rows[k].inlined = a->inl[i] ? (a->called[i] ? 2 : 1) : 0;
    const struct node_src *src = &b->own->src[i];
    rep->rows[k].func = (const char *)prof_intern_key(&b->strs, src->name, NULL);
    rep->rows[k].file = (const char *)prof_intern_key(&b->strs, src->file, NULL);
    rep->rows[k].line = src->line;
    rep->rows[k].start_line = src->start_line;
    k++;
  }
  rep->nrows = k;
  qsort(rep->rows, k, sizeof *rep->rows, cmp_rows);
  return 0;
}

static int report_nodes(build *b, prof_report *rep) {
  frame_info *fi = NULL;
  size_t n;
  acc a;
  int rc;
  memset(&a, 0, sizeof a);
  if (frame_infos(b, &fi) != 0) return -1;
  n = b->nodes->n ? b->nodes->n : 1;
  a.flat = calloc(n, sizeof *a.flat);
  a.cum = calloc(n, sizeof *a.cum);
  a.stamp = calloc(n, sizeof *a.stamp);
  a.touched = calloc(n, 1);
  a.called = calloc(n, 1);
  a.inl_child = calloc(n, 1);
  if (a.flat == NULL || a.cum == NULL || a.stamp == NULL || a.touched == NULL || a.called == NULL ||
      a.inl_child == NULL)
    rc = fail(b, "out of memory");
  else
    rc = inline_calls(b, &a, fi);
  if (rc == 0) rc = walk_all(b, &a, fi, &rep->kept_sum);
  if (rc == 0) rc = make_rows(b, &a, rep);
  free(fi);
  free(a.flat);
  free(a.cum);
  free(a.stamp);
  free(a.touched);
  free(a.called);
  free(a.inl_child);
  free(a.inl);
  free(a.broken);
  free(a.sig_used);
  return rc;
}

static int compile(build *b, tcli_regex **re, const char *pat, const char *what) {
  char msg[192];
  if ((*re = tcli_regex_new(pat, msg, sizeof msg)) != NULL) return 1;
  return fail(b, "bad --%s regular expression '%s': %s", what, pat, msg);
}

/* The sample type index of P, by the option's name or the default. */
static int pick_type(build *b, const prof_profile *p, const char *want, size_t *out, const char *which) {
  if (want == NULL) {
    *out = prof_default_type(p);
    return 0;
  }
  long k = prof_type_index(p, want);
  if (k < 0) return fail(b, "%s profile has no sample type '%s'", which, want);
  *out = (size_t)k;
  return 0;
}

/* Whether no sample of P has a negative value of TYPE. */
static int direct_ok(const prof_profile *p, size_t type) {
  for (size_t s = 0; s < p->nsamples; s++)
    if (p->values[p->samples[s].value_start + type] < 0) return 0;
  return 1;
}

static int build_report(build *b, const prof_profile *base, const prof_profile *cur, prof_report *rep) {
  size_t ct = 0, bt = 0;
  if (pick_type(b, cur, b->o->sample_index, &ct, "the") != 0) return -1;
  rep->type = cur->str[cur->types[ct].type];
  rep->unit = cur->str[cur->types[ct].unit];
  if (base && pick_type(b, base, rep->type, &bt, "the base") != 0) return -1;
  if (b->o->focus && (b->has_focus = compile(b, &b->focus, b->o->focus, "focus")) < 0) return -1;
  if (b->o->ignore && (b->has_ignore = compile(b, &b->ignore, b->o->ignore, "ignore")) < 0) return -1;
  if (b->o->rows_only && base == NULL && direct_ok(cur, ct)) {
    /* Merging samples only adds values of equal keys: when none is negative,
     * the rows and the total come out the same without it. */
    b->direct = cur;
    b->direct_type = ct;
    int rc = intern_profile(b, cur, &b->direct_sig);
    drop_gid(b);
    if (rc != 0) return -1;
    for (size_t s = 0; s < cur->nsamples; s++) rep->cur_sum += cur->values[cur->samples[s].value_start + ct];
    rep->total = rep->cur_sum;
    return report_nodes(b, rep);
  }
  /* Room for every sample key up front: no rehash while merging. */
  size_t n = cur->nsamples + (base ? base->nsamples : 0);
  size_t words = cur->nsamples + cur->nsample_locs + 5 * cur->nlabels;
  if (base) words += base->nsamples + base->nsample_locs + 5 * base->nlabels;
  if (prof_intern_reserve(&b->samples, n, 4 * words) != 0 || grow_i64(&b->mvalue, &b->mcap, n) != 0)
    return fail(b, "out of memory");
  if (merge(b, cur, ct, 1, &rep->cur_sum) != 0) return -1;
  if (base && merge(b, base, bt, -1, &rep->base_sum) != 0) return -1;
  for (size_t s = 0; s < b->samples.n; s++) {
    rep->total += abs64(b->mvalue[s]);
    rep->nsamples += b->mvalue[s] != 0;
  }
  return report_nodes(b, rep);
}

int prof_report_build(const prof_profile *base, const prof_profile *cur, const prof_opts *o,
                      prof_report *rep, char *err, size_t errlen) {
  build b;
  memset(&b, 0, sizeof b);
  memset(rep, 0, sizeof *rep);
  b.o = o;
  b.err = err;
  b.errlen = errlen;
  b.own = calloc(1, sizeof *b.own);
  b.nodes = b.own ? &b.own->nodes : NULL;
  int rc = b.nodes ? build_report(&b, base, cur, rep) : fail(&b, "out of memory");
  tcli_regex_free(b.focus);
  tcli_regex_free(b.ignore);
  if (b.own) b.own->strs = b.strs; /* the rows point into it */
  else prof_intern_free(&b.strs);
  prof_intern_free(&b.frames);
  prof_intern_free(&b.locsigs);
  prof_intern_free(&b.samples);
  prof_intern_free(&b.edges);
  free(b.mvalue);
  free(b.direct_sig);
  free(b.fstart);
  free(b.key);
  rep->priv = b.own;
  if (rc != 0) prof_report_free(rep);
  return rc;
}

void prof_report_free(prof_report *r) {
  owned *own = r->priv;
  if (own) {
    prof_intern_free(&own->nodes);
    prof_intern_free(&own->strs);
    free(own->src);
  }
  free(own);
  free(r->rows);
  memset(r, 0, sizeof *r);
}
