/* Aggregation of tether diff/top, following what `go tool pprof -top [-base]`
 * does so that the numbers agree exactly:
 *  - the base's values are negated and its samples merged with the current
 *    profile's by identical stack and labels; stacks compare by function name,
 *    file and line of every frame (not by address), so two runs of one binary
 *    compare correctly;
 *  - the total (the 100% of the percentages) is the sum of |value| over all
 *    merged samples, before any focus or ignore filter;
 *  - flat goes to the leaf frame, cum to every distinct node on the stack once
 *    per sample; samples whose value is zero are passed over;
 *  - a node is marked "(inline)" when every call into it was inlined into its
 *    caller, "(partial-inline)" when only some were;
 *  - rows sort by |flat|, then name, then |cum|.
 * Interned ids (intern.h) keep the work linear in the size of the profiles. */
#include "prof/report.h"

#include <regex.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "prof/intern.h"

#define SEP 0xffffffffu /* ends one location's frames in a sample key */

typedef struct build {
  const prof_opts *o;
  prof_intern strs;    /* function names, files, label strings */
  prof_intern frames;  /* (name, file, line) */
  prof_intern samples; /* merged sample keys */
  prof_intern *nodes;  /* printable row names; handed to the report */
  prof_intern edges;   /* (caller node, callee node) */
  int64_t *mvalue;     /* per merged sample */
  int64_t *fstart;     /* per frame: its function's start line */
  size_t mcap, fcap;
  uint32_t *key;       /* the sample key being built */
  size_t klen, kcap;
  regex_t focus, ignore;
  int has_focus, has_ignore;
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

static int key_push(build *b, uint32_t w) {
  if (b->klen == b->kcap) {
    size_t nc = b->kcap ? b->kcap * 2 : 64;
    uint32_t *q = realloc(b->key, nc * sizeof *q);
    if (q == NULL) return -1;
    b->key = q;
    b->kcap = nc;
  }
  b->key[b->klen++] = w;
  return 0;
}

/* The global id of string I of profile P. */
static long str_id(build *b, const prof_profile *p, size_t i) {
  return prof_intern_add(&b->strs, p->str[i], strlen(p->str[i]));
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
  for (size_t i = 0; i < s->label_count; i++) {
    const prof_label *l = &p->labels[s->label_start + i];
    long k = str_id(b, p, l->key), v = str_id(b, p, l->str), u = str_id(b, p, l->num_unit);
    if (k < 0 || v < 0 || u < 0) return -1;
    uint64_t num = (uint64_t)l->num;
    if (key_push(b, (uint32_t)k) || key_push(b, (uint32_t)v) || key_push(b, (uint32_t)num) ||
        key_push(b, (uint32_t)(num >> 32)) || key_push(b, (uint32_t)u))
      return -1;
  }
  qsort(b->key + first, s->label_count, 5 * sizeof(uint32_t), cmp_label);
  return 0;
}

/* Builds the key of sample S: frame-word count, frames leaf first with SEP after
 * each location, then the labels. */
static int sample_key(build *b, const prof_profile *p, const prof_sample *s, const uint32_t *frame_of) {
  b->klen = 0;
  if (key_push(b, 0) != 0) return -1;
  for (size_t i = 0; i < s->loc_count; i++) {
    const prof_location *loc = &p->locs[p->sample_locs[s->loc_start + i]];
    for (size_t j = 0; j < loc->line_count; j++)
      if (key_push(b, frame_of[loc->line_start + j]) != 0) return -1;
    if (key_push(b, SEP) != 0) return -1;
  }
  b->key[0] = (uint32_t)(b->klen - 1);
  return key_labels(b, p, s);
}

/* Merges P's samples (value TYPE, times SIGN) into b->samples; adds their sum to *SUM. */
static int merge(build *b, const prof_profile *p, size_t type, int sign, int64_t *sum) {
  uint32_t *frame_of = malloc((p->nlines ? p->nlines : 1) * sizeof *frame_of);
  int rc = frame_of ? intern_frames(b, p, frame_of) : fail(b, "out of memory");
  for (size_t i = 0; rc == 0 && i < p->nsamples; i++) {
    const prof_sample *s = &p->samples[i];
    int64_t v = p->values[s->value_start + type];
    if (sample_key(b, p, s, frame_of) != 0) {
      rc = fail(b, "out of memory");
      break;
    }
    long id = prof_intern_add(&b->samples, b->key, b->klen * sizeof *b->key);
    if (id < 0 || grow_i64(&b->mvalue, &b->mcap, (size_t)id + 1) != 0) {
      rc = fail(b, "out of memory");
      break;
    }
    b->mvalue[id] += sign < 0 ? -v : v;
    *sum += v;
  }
  free(frame_of);
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

/* Per-frame facts for the walk: node id (-1: none), focus and ignore matches. */
typedef struct frame_info {
  long node;
  char focus, ignore;
} frame_info;

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
    fi[f].node = label[0] ? prof_intern_add(b->nodes, label, strlen(label)) : -1;
    free(label);
    if (b->has_focus)
      fi[f].focus = regexec(&b->focus, name, 0, NULL, 0) == 0 || regexec(&b->focus, file, 0, NULL, 0) == 0;
    if (b->has_ignore)
      fi[f].ignore = regexec(&b->ignore, name, 0, NULL, 0) == 0 || regexec(&b->ignore, file, 0, NULL, 0) == 0;
  }
  *out = fi;
  return 0;
}

/* Node accumulators. */
typedef struct acc {
  int64_t *flat, *cum;
  uint32_t *stamp;
  char *touched;
  signed char *edge_inline; /* per edge id: 1 every call inlined, 0 not */
  size_t ecap, nedges;
} acc;

static int sample_kept(const build *b, const uint32_t *w, size_t nw, const frame_info *fi) {
  int focused = !b->has_focus, ignored = 0;
  for (size_t i = 0; i < nw; i++) {
    if (w[i] == SEP) continue;
    focused |= fi[w[i]].focus;
    ignored |= fi[w[i]].ignore;
  }
  return focused && !ignored;
}

/* Records the call PARENT -> CHILD; an edge stays "inlined" only while every
 * call it stands for was inlined. */
static int add_edge(build *b, acc *a, long parent, long child, int is_inline) {
  uint32_t pair[2] = {(uint32_t)parent, (uint32_t)child};
  long e = prof_intern_add(&b->edges, pair, sizeof pair);
  if (e < 0) return -1;
  if ((size_t)e >= a->ecap) {
    size_t nc = a->ecap ? a->ecap * 2 : 256;
    while (nc <= (size_t)e) nc *= 2;
    signed char *q = realloc(a->edge_inline, nc);
    if (q == NULL) return -1;
    a->edge_inline = q;
    a->ecap = nc;
  }
  if ((size_t)e == a->nedges) {
    a->edge_inline[e] = (signed char)is_inline;
    a->nedges++;
  } else if (!is_inline) {
    a->edge_inline[e] = 0;
  }
  return 0;
}

/* Adds cum to node N once per sample (STAMP). */
static void add_cum(acc *a, long n, int64_t v, uint32_t stamp) {
  if (a->stamp[n] == stamp) return;
  a->stamp[n] = stamp;
  a->cum[n] += v;
  a->touched[n] = 1;
}

/* Walks one merged sample root first, as pprof's graph builder does. */
static int walk(build *b, acc *a, const uint32_t *w, size_t nw, int64_t v, uint32_t stamp,
                const frame_info *fi) {
  long parent = -1, closure_leaf = -1;
  size_t end = nw;
  while (end > 0) {
    size_t start = end - 1; /* w[end-1] is the SEP ending this location */
    while (start > 0 && w[start - 1] != SEP) start--;
    for (size_t j = end - 1; j-- > start;) {
      long n = fi[w[j]].node;
      if (n < 0) continue;
      add_cum(a, n, v, stamp);
      if (b->o->closures) {
        closure_leaf = n;
        continue;
      }
      if (parent >= 0 && n != parent && add_edge(b, a, parent, n, j != end - 2) != 0) return -1;
      parent = n;
    }
    end = start;
  }
  long leaf = b->o->closures ? closure_leaf : parent;
  if (leaf >= 0) a->flat[leaf] += v;
  return 0;
}

static int walk_all(build *b, acc *a, const frame_info *fi, int64_t *kept) {
  for (size_t s = 0; s < b->samples.n; s++) {
    int64_t v = b->mvalue[s];
    size_t len;
    const uint32_t *w = (const uint32_t *)(const void *)prof_intern_key(&b->samples, s, &len);
    if (v == 0 || !sample_kept(b, w + 1, w[0], fi)) continue;
    if (b->o->closures) {
      int any = 0;
      for (size_t i = 1; i <= w[0]; i++) any |= w[i] != SEP && fi[w[i]].node >= 0;
      if (!any) continue;
    }
    *kept += v;
    if (walk(b, a, w + 1, w[0], v, (uint32_t)s + 1, fi) != 0) return fail(b, "out of memory");
  }
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

/* Which nodes have inlined and which non-inlined calls into them. */
static void inline_marks(build *b, acc *a, prof_row *rows, const long *row_of) {
  for (size_t e = 0; e < b->edges.n; e++) {
    const uint32_t *pair = (const uint32_t *)(const void *)prof_intern_key(&b->edges, e, NULL);
    long r = row_of[pair[1]];
    if (r < 0) continue;
    int bit = a->edge_inline[e] == 1 ? 1 : 2;
    rows[r].inlined |= bit;
  }
}

static int make_rows(build *b, acc *a, prof_report *rep) {
  size_t n = b->nodes->n, k = 0;
  long *row_of = malloc((n ? n : 1) * sizeof *row_of);
  rep->rows = calloc(n ? n : 1, sizeof *rep->rows);
  if (row_of == NULL || rep->rows == NULL) {
    free(row_of);
    return fail(b, "out of memory");
  }
  for (size_t i = 0; i < n; i++) {
    row_of[i] = a->touched[i] ? (long)k : -1;
    if (!a->touched[i]) continue;
    rep->rows[k].name = (const char *)prof_intern_key(b->nodes, i, NULL);
    rep->rows[k].flat = a->flat[i];
    rep->rows[k].cum = a->cum[i];
    k++;
  }
  inline_marks(b, a, rep->rows, row_of);
  /* inlined holds bit 1 (some inlined call) and bit 2 (some other call). */
  for (size_t r = 0; r < k; r++) {
    int m = rep->rows[r].inlined;
    rep->rows[r].inlined = m == 1 ? 1 : m == 3 ? 2 : 0;
  }
  free(row_of);
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
  if (a.flat == NULL || a.cum == NULL || a.stamp == NULL || a.touched == NULL)
    rc = fail(b, "out of memory");
  else
    rc = walk_all(b, &a, fi, &rep->kept_sum);
  if (rc == 0) rc = make_rows(b, &a, rep);
  free(fi);
  free(a.flat);
  free(a.cum);
  free(a.stamp);
  free(a.touched);
  free(a.edge_inline);
  return rc;
}

static int compile(build *b, regex_t *re, const char *pat, const char *what) {
  int rc = regcomp(re, pat, REG_EXTENDED | REG_NOSUB);
  if (rc == 0) return 1;
  char msg[128];
  regerror(rc, re, msg, sizeof msg);
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

static int build_report(build *b, const prof_profile *base, const prof_profile *cur, prof_report *rep) {
  size_t ct = 0, bt = 0;
  if (pick_type(b, cur, b->o->sample_index, &ct, "the") != 0) return -1;
  rep->type = cur->str[cur->types[ct].type];
  rep->unit = cur->str[cur->types[ct].unit];
  if (base && pick_type(b, base, rep->type, &bt, "the base") != 0) return -1;
  if (b->o->focus && (b->has_focus = compile(b, &b->focus, b->o->focus, "focus")) < 0) return -1;
  if (b->o->ignore && (b->has_ignore = compile(b, &b->ignore, b->o->ignore, "ignore")) < 0) return -1;
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
  b.nodes = calloc(1, sizeof *b.nodes);
  int rc = b.nodes ? build_report(&b, base, cur, rep) : fail(&b, "out of memory");
  if (b.has_focus > 0) regfree(&b.focus);
  if (b.has_ignore > 0) regfree(&b.ignore);
  prof_intern_free(&b.strs);
  prof_intern_free(&b.frames);
  prof_intern_free(&b.samples);
  prof_intern_free(&b.edges);
  free(b.mvalue);
  free(b.fstart);
  free(b.key);
  rep->priv = b.nodes;
  if (rc != 0) prof_report_free(rep);
  return rc;
}

void prof_report_free(prof_report *r) {
  if (r->priv) prof_intern_free(r->priv);
  free(r->priv);
  free(r->rows);
  memset(r, 0, sizeof *r);
}
