/* tether_profile_write: the live registrations as a pprof profile.
 *
 * profile.proto, uncompressed, written from the format's description: varints
 * and length-delimited fields only. The snapshot is taken under the registry
 * mutex (tether__snapshot); the message is built in memory with the registry's
 * allocator, then written with no lock held, so a failed allocation writes
 * nothing and a failed write is TETHER_EIO. Strings, functions and locations
 * are interned: a site is one function and one location however many
 * registrations it made. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "internal.h"
#include "stack.h"

/* ---- a growing byte buffer and the wire format ---- */

typedef struct pbuf {
  tether_registry *r;
  unsigned char *p;
  size_t n, cap;
  int oom;
} pbuf;

static void pb_reserve(pbuf *b, size_t more) {
  if (b->oom || b->n + more <= b->cap) return;
  size_t cap = b->cap ? b->cap : 256;
  while (cap < b->n + more) cap *= 2;
  unsigned char *p = tether__alloc(b->r, cap);
  if (p == NULL) {
    b->oom = 1;
    return;
  }
  if (b->n) memcpy(p, b->p, b->n);
  if (b->p) tether__free(b->r, b->p, b->cap);
  b->p = p;
  b->cap = cap;
}

static void pb_free(pbuf *b) {
  if (b->p) tether__free(b->r, b->p, b->cap);
  b->p = NULL;
  b->n = b->cap = 0;
}

static void pb_varint(pbuf *b, uint64_t v) {
  pb_reserve(b, 10);
  if (b->oom) return;
  while (v >= 0x80) {
    b->p[b->n++] = (unsigned char)(v | 0x80);
    v >>= 7;
  }
  b->p[b->n++] = (unsigned char)v;
}

static void pb_key(pbuf *b, uint32_t field, unsigned wire) { pb_varint(b, (uint64_t)field << 3 | wire); }

static void pb_uint(pbuf *b, uint32_t field, uint64_t v) {
  if (v == 0) return; /* the default: not written */
  pb_key(b, field, 0);
  pb_varint(b, v);
}

static void pb_int(pbuf *b, uint32_t field, int64_t v) { pb_uint(b, field, (uint64_t)v); }

static void pb_bytes(pbuf *b, uint32_t field, const void *data, size_t n) {
  pb_key(b, field, 2);
  pb_varint(b, n);
  pb_reserve(b, n);
  if (b->oom) return;
  if (n) memcpy(b->p + b->n, data, n);
  b->n += n;
}

/* Appends SUB as the length-delimited field FIELD of B, and empties SUB. */
static void pb_sub(pbuf *b, uint32_t field, pbuf *sub) {
  if (sub->oom) b->oom = 1;
  pb_bytes(b, field, sub->p, sub->n);
  sub->n = 0;
}

/* ---- interning: strings, functions, locations ---- */

/* An open-addressing table of 64-bit keys (never 0) to 1-based ids; strings
 * are keyed by their hash and compared through the string table. */
typedef struct itab {
  tether_registry *r;
  uint64_t *key;
  uint64_t *id;
  size_t mask, n;
  int oom;
} itab;

static uint64_t mix(uint64_t x) {
  x ^= x >> 31;
  x *= 0x9e3779b97f4a7c15ull;
  x ^= x >> 29;
  return x | 1;
}

static int itab_grow(itab *t) {
  size_t cap = t->key ? (t->mask + 1) * 2 : 1024;
  uint64_t *k = tether__alloc(t->r, cap * sizeof *k), *v = tether__alloc(t->r, cap * sizeof *v);
  if (k == NULL || v == NULL) {
    if (k) tether__free(t->r, k, cap * sizeof *k);
    if (v) tether__free(t->r, v, cap * sizeof *v);
    t->oom = 1;
    return -1;
  }
  memset(k, 0, cap * sizeof *k);
  for (size_t i = 0; t->key && i <= t->mask; i++) {
    if (t->key[i] == 0) continue;
    size_t j = t->key[i] & (cap - 1);
    while (k[j] != 0) j = (j + 1) & (cap - 1);
    k[j] = t->key[i];
    v[j] = t->id[i];
  }
  if (t->key) {
    tether__free(t->r, t->key, (t->mask + 1) * sizeof *t->key);
    tether__free(t->r, t->id, (t->mask + 1) * sizeof *t->id);
  }
  t->key = k;
  t->id = v;
  t->mask = cap - 1;
  return 0;
}

static void itab_free(itab *t) {
  if (t->key) {
    tether__free(t->r, t->key, (t->mask + 1) * sizeof *t->key);
    tether__free(t->r, t->id, (t->mask + 1) * sizeof *t->id);
  }
  t->key = t->id = NULL;
}

typedef struct strs {
  itab tab;
  const char **s; /* index -> string (index 0 is "") */
  size_t *len;
  size_t n, cap;
  pbuf *out;
} strs;

/* The string table index of S (N bytes), adding it. 0 when out of memory. */
static uint64_t str_id(strs *st, const char *s, size_t n) {
  if (n == 0) return 0;
  itab *t = &st->tab;
  if ((t->n + 1) * 2 > t->mask + 1 && itab_grow(t) != 0) return 0;
  uint64_t h = mix(tether__hash(s, n));
  size_t i = h & t->mask;
  for (; t->key[i] != 0; i = (i + 1) & t->mask) {
    uint64_t id = t->id[i];
    if (t->key[i] == h && st->len[id] == n && memcmp(st->s[id], s, n) == 0) return id;
  }
  if (st->n == st->cap) {
    size_t cap = st->cap * 2;
    const char **ns = tether__alloc(t->r, cap * sizeof *ns);
    size_t *nl = tether__alloc(t->r, cap * sizeof *nl);
    if (ns == NULL || nl == NULL) {
      if (ns) tether__free(t->r, (void *)ns, cap * sizeof *ns);
      if (nl) tether__free(t->r, nl, cap * sizeof *nl);
      t->oom = 1;
      return 0;
    }
    memcpy((void *)ns, (const void *)st->s, st->n * sizeof *ns);
    memcpy(nl, st->len, st->n * sizeof *nl);
    tether__free(t->r, (void *)st->s, st->cap * sizeof *st->s);
    tether__free(t->r, st->len, st->cap * sizeof *st->len);
    st->s = ns;
    st->len = nl;
    st->cap = cap;
  }
  uint64_t id = st->n++;
  st->s[id] = s;
  st->len[id] = n;
  t->key[i] = h;
  t->id[i] = id;
  t->n++;
  return id;
}

static uint64_t cstr_id(strs *st, const char *s) { return s ? str_id(st, s, strlen(s)) : 0; }

/* The 1-based id for KEY in T, and whether it is new. 0 when out of memory. */
static uint64_t intern(itab *t, uint64_t key, int *is_new) {
  *is_new = 0;
  if ((t->n + 1) * 2 > t->mask + 1 && itab_grow(t) != 0) return 0;
  uint64_t h = mix(key);
  size_t i = h & t->mask;
  for (; t->key[i] != 0; i = (i + 1) & t->mask)
    if (t->key[i] == h) return t->id[i];
  t->key[i] = h;
  t->id[i] = ++t->n;
  *is_new = 1;
  return t->id[i];
}

/* ---- the profile ---- */

typedef struct writer {
  tether_registry *r;
  const tether__snap *snap;
  strs st;
  itab funcs, locs_site, locs_pc;
  pbuf body, sub, sub2; /* the profile; a message being built; a message inside it */
  pbuf ids, smp;        /* a sample's packed fields; the sample */
  tether__mappings_t maps;
  unsigned char *map_used;
} writer;

/* Profile fields (profile.proto). */
enum {
  P_SAMPLE_TYPE = 1, P_SAMPLE = 2, P_MAPPING = 3, P_LOCATION = 4, P_FUNCTION = 5, P_STRING = 6,
  P_TIME_NANOS = 9, P_PERIOD_TYPE = 11, P_PERIOD = 12, P_COMMENT = 13, P_DEFAULT_TYPE = 14
};

static void value_type(writer *w, const char *type, const char *unit) {
  pb_uint(&w->sub, 1, cstr_id(&w->st, type));
  pb_uint(&w->sub, 2, cstr_id(&w->st, unit));
}

/* The location of a registration site (function, file, line), as an id. Site
 * strings are compared by text: the interned key is their string ids and line. */
static uint64_t site_location(writer *w, const tether_site *site) {
  uint64_t name = cstr_id(&w->st, site->func ? site->func : "?");
  uint64_t file = cstr_id(&w->st, site->file ? site->file : "?");
  int fresh;
  uint64_t fid = intern(&w->funcs, name << 32 | (file & 0xffffffffu), &fresh);
  if (fid == 0) return 0;
  if (fresh) {
    pb_uint(&w->sub, 1, fid);
    pb_uint(&w->sub, 2, name);
    pb_uint(&w->sub, 3, name);
    pb_uint(&w->sub, 4, file);
    pb_sub(&w->body, P_FUNCTION, &w->sub);
  }
  uint64_t line = site->line > 0 ? (uint64_t)site->line : 0;
  uint64_t lid = intern(&w->locs_site, fid << 32 | (line & 0xffffffffu), &fresh);
  if (lid == 0) return 0;
  lid = lid * 2; /* site locations are even ids, address locations odd */
  if (fresh) {
    pb_uint(&w->sub, 1, lid);
    pb_uint(&w->sub2, 1, fid);
    pb_int(&w->sub2, 2, (int64_t)line);
    pb_sub(&w->sub, 4, &w->sub2);
    pb_sub(&w->body, P_LOCATION, &w->sub);
  }
  return lid;
}

/* The mapping (1-based) that holds PC, or 0. */
static uint64_t mapping_of(writer *w, uintptr_t pc) {
  for (size_t i = 0; i < w->maps.n; i++) {
    const tether__mapping *m = &w->maps.v[i];
    if (pc >= m->start && pc < m->limit) {
      w->map_used[i] = 1;
      return i + 1;
    }
  }
  return 0;
}

/* The location of a return address (the call instruction before it). */
static uint64_t pc_location(writer *w, uintptr_t pc) {
  int fresh;
  uint64_t lid = intern(&w->locs_pc, (uint64_t)pc, &fresh);
  if (lid == 0) return 0;
  lid = lid * 2 + 1;
  if (fresh) {
    pb_uint(&w->sub, 1, lid);
    pb_uint(&w->sub, 2, mapping_of(w, pc));
    pb_uint(&w->sub, 3, (uint64_t)pc - 1);
    pb_sub(&w->body, P_LOCATION, &w->sub);
  }
  return lid;
}

static void sample(writer *w, size_t i, int calls) {
  const tether_info *in = &w->snap->v[i];
  /* Location ids, leaf first: the site, then the callers of its function. */
  pb_varint(&w->ids, site_location(w, &in->site));
  if (w->snap->stack_len != NULL) {
    const uintptr_t *pc = w->snap->pcs + w->snap->stack_at[i];
    for (uint32_t k = 0; k < w->snap->stack_len[i]; k++) pb_varint(&w->ids, pc_location(w, pc[k]));
  }
  pb_sub(&w->smp, 1, &w->ids);
  pb_varint(&w->ids, 1);
  pb_varint(&w->ids, in->ctx_size);
  if (calls) pb_varint(&w->ids, in->calls);
  pb_sub(&w->smp, 2, &w->ids);
  pb_uint(&w->ids, 1, cstr_id(&w->st, "name"));
  pb_uint(&w->ids, 2, cstr_id(&w->st, in->name));
  pb_sub(&w->smp, 3, &w->ids);
  if (calls && in->idle_ms != UINT64_MAX) {
    pb_uint(&w->ids, 1, cstr_id(&w->st, "idle"));
    pb_int(&w->ids, 3, (int64_t)in->idle_ms);
    pb_uint(&w->ids, 4, cstr_id(&w->st, "ms"));
    pb_sub(&w->smp, 3, &w->ids);
  }
  pb_sub(&w->body, P_SAMPLE, &w->smp);
}

static void mappings(writer *w) {
  for (size_t i = 0; i < w->maps.n; i++) {
    if (!w->map_used[i]) continue;
    const tether__mapping *m = &w->maps.v[i];
    pb_uint(&w->sub, 1, i + 1);
    pb_uint(&w->sub, 2, m->start);
    pb_uint(&w->sub, 3, m->limit);
    pb_uint(&w->sub, 4, m->offset);
    pb_uint(&w->sub, 5, cstr_id(&w->st, m->file));
    pb_uint(&w->sub, 6, cstr_id(&w->st, m->build_id));
    pb_sub(&w->body, P_MAPPING, &w->sub);
  }
}

static int build(writer *w) {
  tether_registry *r = w->r;
  int calls = r->track_calls;
  /* The capacity is set before the check: writer_free frees with it. */
  w->st.s = tether__alloc(r, 64 * sizeof *w->st.s);
  w->st.len = tether__alloc(r, 64 * sizeof *w->st.len);
  w->st.cap = 64;
  if (w->st.s == NULL || w->st.len == NULL) return TETHER_ENOMEM;
  w->st.s[0] = "";
  w->st.len[0] = 0;
  w->st.n = 1;
  if (w->snap->stack_len != NULL) {
    if (tether__mappings(r, &w->maps) != 0) return TETHER_ENOMEM;
    w->map_used = tether__alloc(r, w->maps.n + 1);
    if (w->map_used == NULL) return TETHER_ENOMEM;
    memset(w->map_used, 0, w->maps.n + 1);
  }
  value_type(w, "registrations", "count");
  pb_sub(&w->body, P_SAMPLE_TYPE, &w->sub);
  value_type(w, "retained", "bytes");
  pb_sub(&w->body, P_SAMPLE_TYPE, &w->sub);
  if (calls) {
    value_type(w, "calls", "count");
    pb_sub(&w->body, P_SAMPLE_TYPE, &w->sub);
  }
  for (size_t i = 0; i < w->snap->n; i++) sample(w, i, calls);
  mappings(w);
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  pb_int(&w->body, P_TIME_NANOS, (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec);
  value_type(w, "registrations", "count");
  pb_sub(&w->body, P_PERIOD_TYPE, &w->sub);
  pb_int(&w->body, P_PERIOD, 1);
  char comment[64];
  snprintf(comment, sizeof comment, "libtether registry %llu", (unsigned long long)r->serial);
  pb_key(&w->body, P_COMMENT, 0);
  pb_varint(&w->body, cstr_id(&w->st, comment));
  pb_uint(&w->body, P_DEFAULT_TYPE, cstr_id(&w->st, "retained"));
  /* The string table goes last: every string is known by now. */
  for (size_t i = 0; i < w->st.n; i++) pb_bytes(&w->body, P_STRING, w->st.s[i], w->st.len[i]);
  if (w->body.oom || w->sub.oom || w->sub2.oom || w->ids.oom || w->smp.oom || w->st.tab.oom ||
      w->funcs.oom || w->locs_site.oom || w->locs_pc.oom)
    return TETHER_ENOMEM;
  return 0;
}

static void writer_free(writer *w) {
  tether_registry *r = w->r;
  pb_free(&w->body);
  pb_free(&w->sub);
  pb_free(&w->sub2);
  pb_free(&w->ids);
  pb_free(&w->smp);
  itab_free(&w->st.tab);
  itab_free(&w->funcs);
  itab_free(&w->locs_site);
  itab_free(&w->locs_pc);
  if (w->st.s) tether__free(r, (void *)w->st.s, w->st.cap * sizeof *w->st.s);
  if (w->st.len) tether__free(r, w->st.len, w->st.cap * sizeof *w->st.len);
  if (w->map_used) tether__free(r, w->map_used, w->maps.n + 1);
  tether__mappings_free(r, &w->maps);
}

int tether_profile_write(tether_registry *r, FILE *out, unsigned flags) {
  if (r == NULL || out == NULL || flags != 0) return TETHER_EINVAL;
  tether__snap snap;
  int n = tether__snapshot(r, &snap, r->capture_stack > 0);
  if (n < 0) return n;
  writer w;
  memset(&w, 0, sizeof w);
  w.r = r;
  w.snap = &snap;
  w.body.r = w.sub.r = w.sub2.r = w.ids.r = w.smp.r = r;
  w.st.tab.r = w.funcs.r = w.locs_site.r = w.locs_pc.r = r;
  int rc = build(&w);
  if (rc == 0) {
    /* OUT may be a stream of the program's own: no lock is held here. */
    TETHER__FRAME(frame, r, TETHER__FR_WALK);
    if (fwrite(w.body.p, 1, w.body.n, out) != w.body.n || fflush(out) != 0) rc = TETHER_EIO;
  }
  writer_free(&w);
  tether__snap_free(r, &snap);
  return rc < 0 ? rc : n;
}
