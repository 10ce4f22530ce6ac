/* Decoding of profile.proto into the model of profile.h. Gzip input is inflated
 * through zlib, bounded by PROF_MAX_BYTES. The decoder reads the message once,
 * appending to growing arrays (fields may come in any order: Go writes samples
 * before the locations they name), then checks and resolves every reference:
 * string indices, location and function ids, value counts. On any failure the
 * partial profile is freed and a one-line reason is left in the caller's buffer. */
#include "prof/profile.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "prof/pb.h"

/* Profile field numbers (formats.md). */
enum {
  F_SAMPLE_TYPE = 1, F_SAMPLE = 2, F_LOCATION = 4, F_FUNCTION = 5, F_STRING = 6,
  F_TIME = 9, F_DURATION = 10, F_PERIOD_TYPE = 11, F_PERIOD = 12, F_DEFAULT_TYPE = 14
};

typedef struct decoder {
  prof_profile *p;
  struct raw_str {
    const char *s;
    size_t len;
  } *raw; /* string bytes inside the input, copied at the end */
  size_t str_cap, types_cap, funcs_cap, locs_cap, lines_cap, samples_cap;
  size_t sample_locs_cap, values_cap, labels_cap;
  char *err;
  size_t errlen;
} decoder;

static int fail(decoder *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(decoder *d, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(d->err, d->errlen, fmt, ap);
  va_end(ap);
  return -1;
}

/* Makes room for one more element in *ARR (N used, *CAP allocated). */
static int grow(void **arr, size_t n, size_t *cap, size_t elem) {
  if (n < *cap) return 0;
  size_t ncap = *cap ? *cap * 2 : 16;
  void *q = realloc(*arr, ncap * elem);
  if (q == NULL) return -1;
  *arr = q;
  *cap = ncap;
  return 0;
}

#define GROW(d, arr, n, cap)                                                  \
  (grow((void **)&(arr), (n), &(cap), sizeof *(arr)) == 0 ? 0 : fail((d), "out of memory"))

int prof_gunzip(const unsigned char *in, size_t len, unsigned char **out, size_t *outlen,
                char *err, size_t errlen) {
  z_stream z;
  size_t cap = len * 4 + 4096, n = 0;
  unsigned char *buf;
  int rc = Z_OK;
  memset(&z, 0, sizeof z);
  *out = NULL;
  *outlen = 0;
  if (cap > PROF_MAX_BYTES) cap = PROF_MAX_BYTES;
  if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK) {
    snprintf(err, errlen, "cannot start gzip decompression");
    return -1;
  }
  buf = malloc(cap + 1);
  if (buf == NULL) goto oom;
  z.next_in = (unsigned char *)(uintptr_t)in;
  while (len > 0 || rc != Z_STREAM_END) {
    if (n == cap) {
      if (cap >= PROF_MAX_BYTES) {
        snprintf(err, errlen, "decompressed profile larger than %zu MiB", PROF_MAX_BYTES >> 20);
        goto bad;
      }
      size_t ncap = cap * 2 > PROF_MAX_BYTES ? PROF_MAX_BYTES : cap * 2;
      unsigned char *q = realloc(buf, ncap + 1);
      if (q == NULL) goto oom;
      buf = q;
      cap = ncap;
    }
    /* zlib counts in uInt: feed and drain at most 1 GiB at a time. */
    uInt in_now = len > (1u << 30) ? (1u << 30) : (uInt)len;
    uInt out_now = cap - n > (1u << 30) ? (1u << 30) : (uInt)(cap - n);
    z.avail_in = in_now;
    z.next_out = buf + n;
    z.avail_out = out_now;
    rc = inflate(&z, Z_NO_FLUSH);
    len -= in_now - z.avail_in;
    n += out_now - z.avail_out;
    if (rc == Z_STREAM_END) {
      if (len == 0) break;
      /* Another gzip member follows (concatenated files). */
      if (inflateReset(&z) != Z_OK) goto corrupt;
      rc = Z_OK;
      continue;
    }
    if (rc == Z_BUF_ERROR && z.avail_out > 0) {
      snprintf(err, errlen, "truncated gzip data");
      goto bad;
    }
    if (rc != Z_OK && rc != Z_BUF_ERROR) goto corrupt;
  }
  inflateEnd(&z);
  buf[n] = 0;
  *out = buf;
  *outlen = n;
  return 0;
corrupt:
  snprintf(err, errlen, "corrupt gzip data%s%s", z.msg ? ": " : "", z.msg ? z.msg : "");
  goto bad;
oom:
  snprintf(err, errlen, "out of memory");
bad:
  inflateEnd(&z);
  free(buf);
  return -1;
}

/* A string index as read; one that does not fit a size_t becomes SIZE_MAX, which
 * check_strings then refuses like any other index past the table. */
static size_t str_index(uint64_t v) { return v > SIZE_MAX ? SIZE_MAX : (size_t)v; }

static int decode_vtype(decoder *d, const prof_pb_field *in, prof_vtype *vt) {
  prof_pb r = {in->data, in->data + in->len};
  prof_pb_field f;
  int rc;
  vt->type = vt->unit = 0;
  while ((rc = prof_pb_next(&r, &f)) == 1) {
    if (f.wire != PROF_PB_VARINT) continue;
    if (f.number == 1) vt->type = str_index(f.value);
    if (f.number == 2) vt->unit = str_index(f.value);
  }
  return rc == 0 ? 0 : fail(d, "malformed value type");
}

static int add_loc_id(void *ctx, uint64_t v) {
  decoder *d = ctx;
  prof_profile *p = d->p;
  if (GROW(d, p->sample_locs, p->nsample_locs, d->sample_locs_cap) != 0) return -2;
  p->sample_locs[p->nsample_locs++] = v;
  return 0;
}

static int add_value(void *ctx, uint64_t v) {
  decoder *d = ctx;
  prof_profile *p = d->p;
  if (GROW(d, p->values, p->nvalues, d->values_cap) != 0) return -2;
  p->values[p->nvalues++] = (int64_t)v;
  return 0;
}

static int decode_label(decoder *d, const prof_pb_field *in) {
  prof_pb r = {in->data, in->data + in->len};
  prof_pb_field f;
  prof_label l = {0, 0, 0, 0};
  int rc;
  while ((rc = prof_pb_next(&r, &f)) == 1) {
    if (f.wire != PROF_PB_VARINT) continue;
    if (f.number == 1) l.key = str_index(f.value);
    else if (f.number == 2) l.str = str_index(f.value);
    else if (f.number == 3) l.num = (int64_t)f.value;
    else if (f.number == 4) l.num_unit = str_index(f.value);
  }
  if (rc != 0) return fail(d, "malformed sample label");
  if (GROW(d, d->p->labels, d->p->nlabels, d->labels_cap) != 0) return -1;
  d->p->labels[d->p->nlabels++] = l;
  return 0;
}

/* Runs a repeated-integer field through EACH, naming WHAT in the error. */
static int ints(decoder *d, const prof_pb_field *f, int (*each)(void *, uint64_t),
                const char *what) {
  int rc = prof_pb_ints(f, each, d);
  if (rc == -1) return fail(d, "malformed %s", what);
  return rc == 0 ? 0 : -1;
}

static int decode_sample(decoder *d, const prof_pb_field *in) {
  prof_profile *p = d->p;
  prof_pb r = {in->data, in->data + in->len};
  prof_pb_field f;
  prof_sample s = {p->nsample_locs, 0, p->nvalues, p->nlabels, 0};
  int rc;
  while ((rc = prof_pb_next(&r, &f)) == 1) {
    if (f.number == 1 && ints(d, &f, add_loc_id, "sample location ids") != 0) return -1;
    if (f.number == 2 && ints(d, &f, add_value, "sample values") != 0) return -1;
    if (f.number == 3 && f.wire == PROF_PB_BYTES && decode_label(d, &f) != 0) return -1;
  }
  if (rc != 0) return fail(d, "malformed sample");
  s.loc_count = p->nsample_locs - s.loc_start;
  s.label_count = p->nlabels - s.label_start;
  /* The value count (up to the next sample's value_start) is checked against
   * the sample types once all of them are known. */
  if (GROW(d, p->samples, p->nsamples, d->samples_cap) != 0) return -1;
  p->samples[p->nsamples++] = s;
  return 0;
}

static int decode_line(decoder *d, const prof_pb_field *in) {
  prof_pb r = {in->data, in->data + in->len};
  prof_pb_field f;
  prof_line l = {0, 0, 0};
  int rc;
  while ((rc = prof_pb_next(&r, &f)) == 1) {
    if (f.wire != PROF_PB_VARINT) continue;
    if (f.number == 1) l.function_id = f.value;
    if (f.number == 2) l.line = (int64_t)f.value;
  }
  if (rc != 0) return fail(d, "malformed location line");
  if (GROW(d, d->p->lines, d->p->nlines, d->lines_cap) != 0) return -1;
  d->p->lines[d->p->nlines++] = l;
  return 0;
}

static int decode_location(decoder *d, const prof_pb_field *in) {
  prof_profile *p = d->p;
  prof_pb r = {in->data, in->data + in->len};
  prof_pb_field f;
  prof_location l = {0, p->nlines, 0};
  int rc;
  while ((rc = prof_pb_next(&r, &f)) == 1) {
    if (f.number == 1 && f.wire == PROF_PB_VARINT) l.id = f.value;
    if (f.number == 4 && f.wire == PROF_PB_BYTES && decode_line(d, &f) != 0) return -1;
  }
  if (rc != 0) return fail(d, "malformed location");
  if (l.id == 0) return fail(d, "location without an id");
  l.line_count = p->nlines - l.line_start;
  if (GROW(d, p->locs, p->nlocs, d->locs_cap) != 0) return -1;
  p->locs[p->nlocs++] = l;
  return 0;
}

static int decode_function(decoder *d, const prof_pb_field *in) {
  prof_pb r = {in->data, in->data + in->len};
  prof_pb_field f;
  prof_function fn = {0, 0, 0, 0, 0};
  int rc;
  while ((rc = prof_pb_next(&r, &f)) == 1) {
    if (f.wire != PROF_PB_VARINT) continue;
    if (f.number == 1) fn.id = f.value;
    else if (f.number == 2) fn.name = str_index(f.value);
    else if (f.number == 3) fn.system_name = str_index(f.value);
    else if (f.number == 4) fn.filename = str_index(f.value);
    else if (f.number == 5) fn.start_line = (int64_t)f.value;
  }
  if (rc != 0) return fail(d, "malformed function");
  if (fn.id == 0) return fail(d, "function without an id");
  if (GROW(d, d->p->funcs, d->p->nfuncs, d->funcs_cap) != 0) return -1;
  d->p->funcs[d->p->nfuncs++] = fn;
  return 0;
}

static int add_string(decoder *d, const prof_pb_field *f) {
  if (f->wire != PROF_PB_BYTES) return fail(d, "malformed string table");
  if (GROW(d, d->raw, d->p->nstr, d->str_cap) != 0) return -1;
  d->raw[d->p->nstr].s = (const char *)f->data;
  d->raw[d->p->nstr++].len = f->len;
  return 0;
}

/* One top-level field of the Profile message. */
static int decode_field(decoder *d, const prof_pb_field *f) {
  prof_profile *p = d->p;
  int bytes = f->wire == PROF_PB_BYTES, varint = f->wire == PROF_PB_VARINT;
  switch (f->number) {
  case F_SAMPLE_TYPE:
    if (!bytes) return fail(d, "malformed sample type");
    if (GROW(d, p->types, p->ntypes, d->types_cap) != 0) return -1;
    return decode_vtype(d, f, &p->types[p->ntypes++]);
  case F_SAMPLE: return bytes ? decode_sample(d, f) : fail(d, "malformed sample");
  case F_LOCATION: return bytes ? decode_location(d, f) : fail(d, "malformed location");
  case F_FUNCTION: return bytes ? decode_function(d, f) : fail(d, "malformed function");
  case F_STRING: return add_string(d, f);
  case F_PERIOD_TYPE: return bytes ? decode_vtype(d, f, &p->period_type) : fail(d, "malformed period type");
  case F_TIME: if (varint) p->time_nanos = (int64_t)f->value; return 0;
  case F_DURATION: if (varint) p->duration_nanos = (int64_t)f->value; return 0;
  case F_PERIOD: if (varint) p->period = (int64_t)f->value; return 0;
  case F_DEFAULT_TYPE: if (varint) p->default_type = str_index(f->value); return 0;
  default: return 0; /* Unknown and unused fields are skipped. */
  }
}

/* Copies the strings out of the input, each with a NUL byte. */
static int copy_strings(decoder *d) {
  prof_profile *p = d->p;
  size_t total = 0;
  for (size_t i = 0; i < p->nstr; i++) total += d->raw[i].len + 1;
  p->strbuf = malloc(total ? total : 1);
  p->str = malloc((p->nstr ? p->nstr : 1) * sizeof *p->str);
  if (p->strbuf == NULL || p->str == NULL) return fail(d, "out of memory");
  char *w = p->strbuf;
  for (size_t i = 0; i < p->nstr; i++) {
    memcpy(w, d->raw[i].s, d->raw[i].len);
    w[d->raw[i].len] = 0;
    p->str[i] = w;
    w += d->raw[i].len + 1;
  }
  return 0;
}

static int check_str(decoder *d, size_t i, const char *what) {
  if (i < d->p->nstr) return 0;
  return fail(d, "%s refers to string %zu of %zu", what, i, d->p->nstr);
}

/* An id-to-index map: sorted (id, index) pairs searched by bisection. */
typedef struct idmap {
  uint64_t *ids;
  size_t *idx;
  size_t n;
  size_t *dense; /* when ids are 1..n (Go's choice): dense[id-1] = index */
} idmap;

static int cmp_u64_pair(const void *a, const void *b) {
  const uint64_t *x = a, *y = b;
  return x[0] < y[0] ? -1 : x[0] > y[0];
}

static int idmap_build(decoder *d, idmap *m, size_t n, const uint64_t *(*id_of)(const prof_profile *, size_t),
                       const char *what) {
  uint64_t *pairs = malloc((n ? n : 1) * 2 * sizeof *pairs);
  memset(m, 0, sizeof *m);
  if (pairs == NULL) return fail(d, "out of memory");
  for (size_t i = 0; i < n; i++) {
    pairs[2 * i] = *id_of(d->p, i);
    pairs[2 * i + 1] = i;
  }
  qsort(pairs, n, 2 * sizeof *pairs, cmp_u64_pair);
  m->ids = malloc((n ? n : 1) * sizeof *m->ids);
  m->idx = malloc((n ? n : 1) * sizeof *m->idx);
  if (m->ids == NULL || m->idx == NULL) {
    free(pairs);
    return fail(d, "out of memory");
  }
  for (size_t i = 0; i < n; i++) {
    m->ids[i] = pairs[2 * i];
    m->idx[i] = (size_t)pairs[2 * i + 1];
    if (i > 0 && m->ids[i] == m->ids[i - 1]) {
      free(pairs);
      return fail(d, "duplicate %s id %llu", what, (unsigned long long)m->ids[i]);
    }
  }
  free(pairs);
  m->n = n;
  if (n > 0 && m->ids[0] == 1 && m->ids[n - 1] == n) m->dense = m->idx;
  return 0;
}

static long idmap_find(const idmap *m, uint64_t id) {
  if (m->dense) return id >= 1 && id <= m->n ? (long)m->dense[id - 1] : -1;
  size_t lo = 0, hi = m->n;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (m->ids[mid] < id) lo = mid + 1;
    else hi = mid;
  }
  return lo < m->n && m->ids[lo] == id ? (long)m->idx[lo] : -1;
}

static void idmap_free(idmap *m) {
  free(m->ids);
  free(m->idx);
}

static const uint64_t *func_id(const prof_profile *p, size_t i) { return &p->funcs[i].id; }
static const uint64_t *loc_id(const prof_profile *p, size_t i) { return &p->locs[i].id; }

static int check_strings(decoder *d) {
  prof_profile *p = d->p;
  if (p->nstr == 0 || p->str[0][0] != 0) return fail(d, "string table does not start with \"\"");
  for (size_t i = 0; i < p->ntypes; i++)
    if (check_str(d, p->types[i].type, "sample type") || check_str(d, p->types[i].unit, "sample type"))
      return -1;
  if (check_str(d, p->period_type.type, "period type") || check_str(d, p->period_type.unit, "period type") ||
      check_str(d, p->default_type, "default sample type"))
    return -1;
  for (size_t i = 0; i < p->nfuncs; i++) {
    const prof_function *f = &p->funcs[i];
    if (check_str(d, f->name, "function") || check_str(d, f->system_name, "function") ||
        check_str(d, f->filename, "function"))
      return -1;
  }
  for (size_t i = 0; i < p->nlabels; i++) {
    const prof_label *l = &p->labels[i];
    if (check_str(d, l->key, "label") || check_str(d, l->str, "label") || check_str(d, l->num_unit, "label"))
      return -1;
  }
  return 0;
}

static int resolve_functions(decoder *d) {
  prof_profile *p = d->p;
  idmap m;
  int rc = idmap_build(d, &m, p->nfuncs, func_id, "function");
  for (size_t i = 0; rc == 0 && i < p->nlines; i++) {
    long k = idmap_find(&m, p->lines[i].function_id);
    if (k < 0)
      rc = fail(d, "location line refers to unknown function id %llu",
                (unsigned long long)p->lines[i].function_id);
    else
      p->lines[i].func = (size_t)k;
  }
  idmap_free(&m);
  return rc;
}

static int resolve_samples(decoder *d) {
  prof_profile *p = d->p;
  idmap m;
  int rc = idmap_build(d, &m, p->nlocs, loc_id, "location");
  for (size_t i = 0; rc == 0 && i < p->nsample_locs; i++) {
    long k = idmap_find(&m, p->sample_locs[i]);
    if (k < 0)
      rc = fail(d, "sample refers to unknown location id %llu", (unsigned long long)p->sample_locs[i]);
    else
      p->sample_locs[i] = (uint64_t)k;
  }
  for (size_t i = 0; rc == 0 && i < p->nsamples; i++) {
    size_t end = i + 1 < p->nsamples ? p->samples[i + 1].value_start : p->nvalues;
    if (end - p->samples[i].value_start != p->ntypes)
      rc = fail(d, "sample %zu has %zu values for %zu sample types", i, end - p->samples[i].value_start,
                p->ntypes);
  }
  idmap_free(&m);
  return rc;
}

static int decode_all(decoder *d, const unsigned char *buf, size_t len) {
  prof_pb r = {buf, buf + len};
  prof_pb_field f;
  int rc;
  while ((rc = prof_pb_next(&r, &f)) == 1)
    if (decode_field(d, &f) != 0) return -1;
  if (rc != 0) return fail(d, "not a pprof profile (malformed or truncated at byte %zu)", (size_t)(r.p - buf));
  if (copy_strings(d) != 0) return -1;
  if (d->p->ntypes == 0) return fail(d, "not a pprof profile (no sample types)");
  if (check_strings(d) != 0 || resolve_functions(d) != 0 || resolve_samples(d) != 0) return -1;
  return 0;
}

prof_profile *prof_decode(const unsigned char *buf, size_t len, char *err, size_t errlen) {
  decoder d;
  unsigned char *inflated = NULL;
  memset(&d, 0, sizeof d);
  d.err = err;
  d.errlen = errlen;
  if (len >= 2 && buf[0] == 0x1f && buf[1] == 0x8b) {
    if (prof_gunzip(buf, len, &inflated, &len, err, errlen) != 0) return NULL;
    buf = inflated;
  } else if (len > PROF_MAX_BYTES) {
    snprintf(err, errlen, "profile larger than %zu MiB", PROF_MAX_BYTES >> 20);
    return NULL;
  }
  d.p = calloc(1, sizeof *d.p);
  if (d.p == NULL) {
    free(inflated);
    snprintf(err, errlen, "out of memory");
    return NULL;
  }
  d.p->owned = inflated;
  int rc = decode_all(&d, buf, len);
  free(d.raw);
  /* The strings are copies: the decompressed bytes are no longer needed. */
  free(d.p->owned);
  d.p->owned = NULL;
  if (rc != 0) {
    prof_free(d.p);
    return NULL;
  }
  return d.p;
}

void prof_free(prof_profile *p) {
  if (p == NULL) return;
  free(p->owned);
  free(p->str);
  free(p->strbuf);
  free(p->types);
  free(p->funcs);
  free(p->locs);
  free(p->lines);
  free(p->samples);
  free(p->sample_locs);
  free(p->values);
  free(p->labels);
  free(p);
}

long prof_type_index(const prof_profile *p, const char *name) {
  char *end;
  long k = strtol(name, &end, 10);
  if (*name != 0 && *end == 0) return k >= 0 && (size_t)k < p->ntypes ? k : -1;
  for (size_t i = 0; i < p->ntypes; i++)
    if (strcmp(p->str[p->types[i].type], name) == 0) return (long)i;
  return -1;
}

size_t prof_default_type(const prof_profile *p) {
  if (p->default_type != 0) {
    long k = prof_type_index(p, p->str[p->default_type]);
    if (k >= 0) return (size_t)k;
  }
  return p->ntypes - 1;
}
