/* Reading GODEBUG=gctrace=1 output: one line parser for the Go 1.5-1.17 and Go
 * 1.18+ layouts, and a streaming line splitter that keeps one compact record per
 * GC. The parser never reads past the line it is given, accepts NUL bytes and CRLF,
 * and refuses numbers too large to be real (the line then counts as malformed)
 * rather than overflowing. The splitter keeps at most GCT_MAX_LINE bytes of a line
 * split across chunks, so memory grows only with the number of GCs. */
#include "gctrace.h"

#include <stdlib.h>
#include <string.h>

/* A read position inside one line. */
typedef struct cursor {
  const char *p, *end;
} cursor;

/* Heap sizes, times and durations above these are not from a real runtime. */
#define MAX_INT_DIGITS 15
#define MAX_MB 1e12
#define MAX_SECONDS 1e10

static int is_digit(char c) { return c >= '0' && c <= '9'; }

/* Consumes the literal LIT when it comes next. */
static int eat(cursor *c, const char *lit) {
  size_t n = strlen(lit);
  if ((size_t)(c->end - c->p) < n || memcmp(c->p, lit, n) != 0) return 0;
  c->p += n;
  return 1;
}

/* Consumes an unsigned decimal integer of at most MAX_INT_DIGITS digits. */
static int read_uint(cursor *c, uint64_t *v) {
  uint64_t x = 0;
  int digits = 0;
  while (c->p < c->end && is_digit(*c->p)) {
    if (++digits > MAX_INT_DIGITS) return 0;
    x = x * 10 + (uint64_t)(*c->p - '0');
    c->p++;
  }
  *v = x;
  return digits > 0;
}

/* Consumes DIGITS[.DIGITS]; only the first nine fraction digits count. */
static int read_dec(cursor *c, double *v) {
  uint64_t whole;
  if (!read_uint(c, &whole)) return 0;
  double x = (double)whole;
  if (c->p < c->end && *c->p == '.') {
    c->p++;
    double scale = 0.1;
    int digits = 0;
    while (c->p < c->end && is_digit(*c->p)) {
      if (digits++ < 9) x += (*c->p - '0') * scale;
      scale *= 0.1;
      c->p++;
    }
    if (digits == 0) return 0;
  }
  *v = x;
  return 1;
}

/* Consumes a size in MB followed by SUFFIX, e.g. "30" + " MB goal, ". */
static int read_mb(cursor *c, const char *suffix, double *v) {
  return read_dec(c, v) && *v <= MAX_MB && eat(c, suffix);
}

/* Moves the cursor just past the first occurrence of LIT, if any. */
static int skip_past(cursor *c, const char *lit) {
  size_t n = strlen(lit);
  const char *hit = memmem(c->p, (size_t)(c->end - c->p), lit, n);
  if (hit == NULL) return 0;
  c->p = hit + n;
  return 1;
}

/* "gc N @T s U%: " */
static int parse_head(cursor *c, gct_gc *g) {
  uint64_t num, pct;
  double t;
  if (!eat(c, "gc ") || !read_uint(c, &num) || !eat(c, " @") || !read_dec(c, &t) ||
      !eat(c, "s ") || !read_uint(c, &pct) || !eat(c, "%: "))
    return 0;
  if (t > MAX_SECONDS) return 0;
  g->num = num > UINT32_MAX ? UINT32_MAX : (uint32_t)num;
  g->t = t;
  g->cpu_pct = pct > 255 ? 255 : (uint8_t)pct;
  return 1;
}

/* "a+b+c ms clock, <cpu times> ms cpu, ": keeps the stop-the-world part. */
static int parse_times(cursor *c, gct_gc *g) {
  double sweep, mark, term;
  if (!read_dec(c, &sweep) || !eat(c, "+") || !read_dec(c, &mark) || !eat(c, "+") ||
      !read_dec(c, &term) || !eat(c, " ms clock, "))
    return 0;
  if (sweep + term > MAX_SECONDS * 1e3) return 0;
  g->pause_ms = (float)(sweep + term);
  return skip_past(c, " ms cpu, ");
}

/* "A->B->C MB, G MB goal, [S MB stacks, X MB globals, ]P P[ (forced)]" */
static int parse_heap(cursor *c, gct_gc *g) {
  double a, b, live, goal, stacks, globals;
  uint64_t procs;
  if (!read_mb(c, "->", &a) || !read_mb(c, "->", &b) || !read_mb(c, " MB, ", &live) ||
      !read_mb(c, " MB goal, ", &goal))
    return 0;
  g->format = GCT_FMT_GO15;
  cursor save = *c;
  if (read_mb(c, " MB stacks, ", &stacks) && read_mb(c, " MB globals, ", &globals))
    g->format = GCT_FMT_GO118;
  else
    *c = save;
  if (!read_uint(c, &procs) || !eat(c, " P")) return 0;
  if (c->p < c->end && *c->p != ' ' && *c->p != '\r' && *c->p != '\t') return 0;
  g->flags = eat(c, " (forced)") ? GCT_FLAG_FORCED : 0;
  g->heap_start = (float)a;
  g->heap_end = (float)b;
  g->live = (float)live;
  g->goal = (float)goal;
  return 1;
}

/* Parses a gctrace line starting exactly at S. On failure *STOP (when not NULL)
 * says how many bytes parsed before the first mismatch. */
static int parse_at(const char *s, const char *end, gct_gc *out, size_t *stop) {
  cursor c = {s, end};
  gct_gc g;
  memset(&g, 0, sizeof g);
  if (!parse_head(&c, &g) || !parse_times(&c, &g) || !parse_heap(&c, &g)) {
    if (stop != NULL) *stop = (size_t)(c.p - s);
    return 0;
  }
  *out = g;
  return 1;
}

/* Whether "gc " followed by a digit starts at P (bounded by END). */
static int gc_start(const char *p, const char *end) {
  return end - p >= 4 && p[0] == 'g' && p[1] == 'c' && p[2] == ' ' && is_digit(p[3]);
}

/* "tether: sweep N @T s: X scanned, Y expired, Z destructors, live L (B bytes),
 * pending P, D ms [registry R]": a pass of libtether's background thread. */
static int parse_tether(const char *s, const char *end, gct_gc *g) {
  cursor c = {s, end};
  uint64_t num, x, bytes, reg = 0;
  double t, ms;
  if (!eat(&c, "tether: sweep ") || !read_uint(&c, &num) || !eat(&c, " @") || !read_dec(&c, &t) ||
      t > MAX_SECONDS || !eat(&c, " s: ") || !read_uint(&c, &x) || !eat(&c, " scanned, ") ||
      !read_uint(&c, &x) || !eat(&c, " expired, ") || !read_uint(&c, &x) || !eat(&c, " destructors, live ") ||
      !read_uint(&c, &x) || !eat(&c, " (") || !read_uint(&c, &bytes) || !eat(&c, " bytes), pending ") ||
      !read_uint(&c, &x) || !eat(&c, ", ") || !read_dec(&c, &ms) || !eat(&c, " ms"))
    return 0;
  if (eat(&c, " [registry ") && (!read_uint(&c, &reg) || !eat(&c, "]"))) return 0;
  memset(g, 0, sizeof *g);
  g->t = t;
  g->num = num > UINT32_MAX ? UINT32_MAX : (uint32_t)num;
  g->live = g->heap_start = g->heap_end = (float)((double)bytes / 1048576.0);
  g->pause_ms = (float)ms;
  g->format = GCT_FMT_TETHER;
  g->registry = reg > UINT32_MAX ? UINT32_MAX : (uint32_t)reg;
  return 1;
}

gct_kind gct_parse_line(const char *s, size_t n, gct_gc *out) {
  const char *end = s + n;
  if (n >= 14 && memcmp(s, "tether: sweep ", 14) == 0) return parse_tether(s, end, out) ? GCT_GC : GCT_MALFORMED;
  if (n >= 5 && (memcmp(s, "scav ", 5) == 0 || memcmp(s, "scvg", 4) == 0)) return GCT_SCAV;
  if (gc_start(s, end)) return parse_at(s, end, out, NULL) ? GCT_GC : GCT_MALFORMED;
  /* The program's own output may precede the runtime's line without a newline. */
  for (const char *p = s; p < end;) {
    const char *hit = memmem(p, (size_t)(end - p), "gc ", 3);
    if (hit == NULL) break;
    if (gc_start(hit, end) && parse_at(hit, end, out, NULL)) return GCT_GC;
    p = hit + 1;
  }
  return GCT_OTHER;
}

int gct_parse_split(const char *head, size_t hn, const char *tail, size_t tn, gct_gc *out) {
  char joined[2 * GCT_MAX_LINE];
  size_t stop = 0;
  if (hn > GCT_MAX_LINE || tn > GCT_MAX_LINE || !gc_start(head, head + hn)) return 0;
  if (parse_at(head, head + hn, out, &stop)) return 0;
  /* The other output began at or before the point where parsing stopped: try the
   * longest head first, since the greedy parse may have eaten a few of its bytes. */
  for (size_t k = stop < hn ? stop : hn; k >= 4; k--) {
    memcpy(joined, head, k);
    memcpy(joined + k, tail, tn);
    if (parse_at(joined, joined + k + tn, out, NULL)) return 1;
  }
  return 0;
}

/* Appends one record, doubling the array when full. */
static int push_gc(gct_trace *tr, const gct_gc *g) {
  if (tr->n_gcs == tr->cap_gcs) {
    size_t cap = tr->cap_gcs ? tr->cap_gcs * 2 : 1024;
    gct_gc *grown = realloc(tr->gcs, cap * sizeof *grown);
    if (grown == NULL) {
      tr->oom = 1;
      return -1;
    }
    tr->gcs = grown;
    tr->cap_gcs = cap;
  }
  if (tr->n_gcs > 0 && g->t < tr->gcs[tr->n_gcs - 1].t) tr->time_backwards++;
  tr->gcs[tr->n_gcs++] = *g;
  return 0;
}

/* Lines of other output a split gc line may wait for its second half. */
#define HELD_MAX_AGE 4

/* Drops the held line, counting it as malformed. */
static void drop_held(gct_trace *tr) {
  if (tr->held_len > 0) tr->malformed++;
  tr->held_len = 0;
  tr->held_age = 0;
}

/* Keeps a malformed gc line in case its second half follows. */
static void hold(gct_trace *tr, const char *s, size_t n) {
  drop_held(tr);
  if (tr->held == NULL && (tr->held = malloc(GCT_MAX_LINE)) == NULL) {
    tr->malformed++;
    return;
  }
  memcpy(tr->held, s, n);
  tr->held_len = n;
}

/* Tries S as the second half of the held line; returns 1 when it was. */
static int rejoin(gct_trace *tr, const char *s, size_t n, gct_gc *g) {
  if (tr->held_len == 0) return 0;
  if (gct_parse_split(tr->held, tr->held_len, s, n, g)) {
    tr->held_len = 0;
    tr->rejoined++;
    return 1;
  }
  if (++tr->held_age > HELD_MAX_AGE) drop_held(tr);
  return 0;
}

/* Records one parsed GC, or pass of a tether registry: the first record decides
 * which kind the trace holds, and for tether which registry (unless chosen). */
static int take_gc(gct_trace *tr, const gct_gc *g) {
  int tether = g->format == GCT_FMT_TETHER;
  if (tr->n_gcs == 0 && tr->other_kind == 0) tr->tether = tether;
  if (tether != tr->tether) {
    tr->other_kind++;
    return 0;
  }
  if (tether) {
    if (tr->want_registry == 0) tr->want_registry = g->registry ? g->registry : 1;
    if ((g->registry ? g->registry : 1) != tr->want_registry) {
      tr->other_registry++;
      return 0;
    }
  }
  if (g->flags & GCT_FLAG_FORCED) tr->forced++;
  tr->fmt_seen[g->format]++;
  return push_gc(tr, g);
}

/* Classifies one complete line (without its newline) and records it. */
static int take_line(gct_trace *tr, const char *s, size_t n, int too_long) {
  gct_gc g;
  tr->lines++;
  if (n > 0 && s[n - 1] == '\r') n--;
  gct_kind k = too_long ? GCT_OTHER : gct_parse_line(s, n, &g);
  switch (k) {
    case GCT_GC: drop_held(tr); return take_gc(tr, &g);
    case GCT_SCAV: tr->scav++; return 0;
    case GCT_MALFORMED: hold(tr, s, n); return 0;
    default:
      if (!too_long && rejoin(tr, s, n, &g)) return take_gc(tr, &g);
      tr->other++;
      return 0;
  }
}

/* Adds N bytes to the kept start of a line split across chunks. */
static int keep_partial(gct_trace *tr, const char *s, size_t n) {
  if (tr->partial == NULL) {
    tr->partial = malloc(GCT_MAX_LINE);
    if (tr->partial == NULL) {
      tr->oom = 1;
      return -1;
    }
  }
  size_t room = GCT_MAX_LINE - tr->partial_len;
  if (n > room) {
    tr->partial_long = 1;
    n = room;
  }
  memcpy(tr->partial + tr->partial_len, s, n);
  tr->partial_len += n;
  return 0;
}

/* Ends the line held in the partial buffer. */
static int flush_partial(gct_trace *tr) {
  int rc = take_line(tr, tr->partial, tr->partial_len, tr->partial_long);
  tr->partial_len = 0;
  tr->partial_long = 0;
  return rc;
}

int gct_trace_feed(gct_trace *tr, const char *buf, size_t n) {
  const char *p = buf, *end = buf + n;
  while (p < end) {
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    if (nl == NULL) return keep_partial(tr, p, (size_t)(end - p));
    size_t len = (size_t)(nl - p);
    int rc;
    if (tr->partial_len > 0 || tr->partial_long)
      rc = keep_partial(tr, p, len) == 0 ? flush_partial(tr) : -1;
    else
      rc = take_line(tr, p, len, len > GCT_MAX_LINE);
    if (rc != 0) return rc;
    p = nl + 1;
  }
  return 0;
}

int gct_trace_finish(gct_trace *tr) {
  int rc = 0;
  if (tr->partial_len > 0 || tr->partial_long) rc = flush_partial(tr);
  drop_held(tr);
  return rc;
}

void gct_trace_free(gct_trace *tr) {
  free(tr->gcs);
  free(tr->partial);
  free(tr->held);
  memset(tr, 0, sizeof *tr);
}
