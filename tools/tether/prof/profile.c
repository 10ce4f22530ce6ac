/* Decoding of profile.proto into the model of profile.h. Gzip input is inflated
 * through zlib, bounded by PROF_MAX_BYTES. The decoder reads the message three
 * times: a first pass counts every field (fields may come in any order: Go writes
 * samples before the locations they name), so that every array is allocated once
 * at its final size; a second decodes all but the samples and checks and resolves
 * strings and function ids; a third decodes the samples, resolving each location
 * id as it is read. On any failure the partial profile is freed and a one-line
 * reason is left in the caller's buffer. */
#include "prof/profile.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "prof/pb.h"

/* Profile field numbers (formats.md). */
enum {
  F_SAMPLE_TYPE = 1, F_SAMPLE = 2, F_MAPPING = 3, F_LOCATION = 4, F_FUNCTION = 5, F_STRING = 6,
  F_TIME = 9, F_DURATION = 10, F_PERIOD_TYPE = 11, F_PERIOD = 12, F_COMMENT = 13,
  F_DEFAULT_TYPE = 14, F_NFIELDS = 15
};

/* An id-to-index map: sorted (id, index) pairs searched by bisection. */
typedef struct idmap {
  uint64_t *ids;
  size_t *idx;
  size_t n;
  size_t *dense; /* when ids are 1..n (Go's choice): dense[id-1] = index */
} idmap;

typedef struct decoder {
  prof_profile *p;
  struct raw_str {
    const char *s;
    size_t len;
  } *raw; /* string bytes inside the input, copied at the end */
  size_t count[F_NFIELDS]; /* top-level fields per number, from the first pass */
  size_t bytes[F_NFIELDS]; /* and their payload bytes */
  size_t lines_cap, sample_locs_cap, values_cap, labels_cap;
  idmap locmap;
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

/* A string index as read; one that does not fit becomes the largest value, which
 * check_strings then refuses like any other index past the table. */
static size_t str_index(uint64_t v) { return v > SIZE_MAX ? SIZE_MAX : (size_t)v; }
static uint32_t str_index32(uint64_t v) { return v > UINT32_MAX ? UINT32_MAX : (uint32_t)v; }

/* The number of varints in a packed run: every one ends in a byte below 0x80. */
static size_t packed_count(const prof_pb_field *f) {
  size_t n = 0, i = 0;
  for (; i + 8 <= f->len; i += 8) {
    uint64_t w;
    memcpy(&w, f->data + i, 8);
    /* Bytes with the high bit clear, counted in the word: no popcount instruction needed. */
    uint64_t ends = (~w & 0x8080808080808080u) >> 7;
    n += (size_t)((ends * 0x0101010101010101u) >> 56);
  }
  for (; i < f->len; i++) n += f->data[i] < 0x80;
  return n;
}

/* First pass, over one sample: how many location ids, values and labels it has. */
static int count_sample(decoder *d, const prof_pb_field *in, size_t *locs, size_t *values, size_t *labels) {
  prof_pb r = {in->data, in->data + in->len};
  prof_pb_field f;
  int rc;
  while ((rc = prof_pb_next(&r, &f)) == 1) {
    size_t n = f.wire == PROF_PB_BYTES ? packed_count(&f) : 1;
    if (f.number == 1) *locs += n;
    else if (f.number == 2) *values += n;
    else if (f.number == 3) *labels += 1;
  }
  return rc == 0 ? 0 : fail(d, "malformed sample");
}

static int count_lines(decoder *d, const prof_pb_field *in, size_t *lines) {
  prof_pb r = {in->data, in->data + in->len};
  prof_pb_field f;
  int rc;
  while ((rc = prof_pb_next(&r, &f)) == 1) *lines += f.number == 4;
  return rc == 0 ? 0 : fail(d, "malformed location");
}

/* The first pass: counts every top-level field and what samples and locations
 * hold, so that every array is allocated once, at its final size. */
static int count_all(decoder *d, const unsigned char *buf, size_t len, size_t *nlocs_ids,
                     size_t *nvalues, size_t *nlabels, size_t *nlines) {
  prof_pb r = {buf, buf + len};
  prof_pb_field f;
  int rc;
  while ((rc = prof_pb_next(&r, &f)) == 1) {
    if (f.number < F_NFIELDS) d->count[f.number]++;
    if (f.number == F_SAMPLE && f.wire == PROF_PB_BYTES &&
        count_sample(d, &f, nlocs_ids, nvalues, nlabels) != 0)
      return -1;
    if (f.number == F_LOCATION && f.wire == PROF_PB_BYTES && count_lines(d, &f, nlines) != 0) return -1;
  }
  if (rc != 0) return fail(d, "not a pprof profile (malformed or truncated at byte %zu)", (size_t)(r.p - buf));
  return 0;
}

static void *alloc_n(size_t n, size_t elem) { return malloc((n ? n : 1) * elem); }

static int allocate(decoder *d, size_t nloc_ids, size_t nvalues, size_t nlabels, size_t nlines) {
  prof_profile *p = d->p;
  if (nloc_ids > UINT32_MAX || nvalues > UINT32_MAX || nlabels > UINT32_MAX)
    return fail(d, "profile too large");
  d->raw = alloc_n(d->count[F_STRING], sizeof *d->raw);
  p->types = alloc_n(d->count[F_SAMPLE_TYPE], sizeof *p->types);
  p->funcs = alloc_n(d->count[F_FUNCTION], sizeof *p->funcs);
  p->locs = alloc_n(d->count[F_LOCATION], sizeof *p->locs);
  p->lines = alloc_n(nlines, sizeof *p->lines);
  p->samples = alloc_n(d->count[F_SAMPLE], sizeof *p->samples);
  p->sample_locs = alloc_n(nloc_ids, sizeof *p->sample_locs);
  p->values = alloc_n(nvalues, sizeof *p->values);
  p->labels = alloc_n(nlabels, sizeof *p->labels);
  p->comments = alloc_n(d->count[F_COMMENT], sizeof *p->comments);
  if (!d->raw || !p->types || !p->funcs || !p->locs || !p->lines || !p->samples || !p->sample_locs ||
      !p->values || !p->labels || !p->comments)
    return fail(d, "out of memory");
  d->lines_cap = nlines;
  d->sample_locs_cap = nloc_ids;
  d->values_cap = nvalues;
  d->labels_cap = nlabels;
  return 0;
}

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
  if (d->p->nlines == d->lines_cap) return fail(d, "malformed location");
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
  d->p->funcs[d->p->nfuncs++] = fn;
  return 0;
}

/* The first mapping's filename and build id, for the report header. */
static int decode_mapping(decoder *d, const prof_pb_field *in) {
  prof_pb r = {in->data, in->data + in->len};
  prof_pb_field f;
  int rc;
  size_t file = 0, build = 0;
  while ((rc = prof_pb_next(&r, &f)) == 1) {
    if (f.wire != PROF_PB_VARINT) continue;
    if (f.number == 5) file = str_index(f.value);
    if (f.number == 6) build = str_index(f.value);
  }
  if (rc != 0) return fail(d, "malformed mapping");
  if (d->count[F_MAPPING]++ == 0) {
    d->p->main_file = file;
    d->p->build_id = build;
  }
  return 0;
}

static int add_string(decoder *d, const prof_pb_field *f) {
  if (f->wire != PROF_PB_BYTES) return fail(d, "malformed string table");
  d->raw[d->p->nstr].s = (const char *)f->data;
  d->raw[d->p->nstr++].len = f->len;
  return 0;
}

/* One top-level field of the Profile message, in the second pass (samples wait
 * for the third, when every location is known). */
static int decode_field(decoder *d, const prof_pb_field *f) {
  prof_profile *p = d->p;
  int bytes = f->wire == PROF_PB_BYTES, varint = f->wire == PROF_PB_VARINT;
  switch (f->number) {
  case F_SAMPLE_TYPE:
    if (!bytes) return fail(d, "malformed sample type");
    return decode_vtype(d, f, &p->types[p->ntypes++]);
  case F_SAMPLE: return bytes ? 0 : fail(d, "malformed sample");
  case F_MAPPING: return bytes ? decode_mapping(d, f) : fail(d, "malformed mapping");
  case F_LOCATION: return bytes ? decode_location(d, f) : fail(d, "malformed location");
  case F_FUNCTION: return bytes ? decode_function(d, f) : fail(d, "malformed function");
  case F_STRING: return add_string(d, f);
  case F_PERIOD_TYPE: return bytes ? decode_vtype(d, f, &p->period_type) : fail(d, "malformed period type");
  case F_TIME: if (varint) p->time_nanos = (int64_t)f->value; return 0;
  case F_DURATION: if (varint) p->duration_nanos = (int64_t)f->value; return 0;
  case F_PERIOD: if (varint) p->period = (int64_t)f->value; return 0;
  case F_COMMENT: if (varint) p->comments[p->ncomments++] = str_index(f->value); return 0;
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

static int cmp_u64_pair(const void *a, const void *b) {
  const uint64_t *x = a, *y = b;
  return x[0] < y[0] ? -1 : x[0] > y[0];
}

static int idmap_build(decoder *d, idmap *m, size_t n, const uint64_t *(*id_of)(const prof_profile *, size_t),
                       const char *what) {
  memset(m, 0, sizeof *m);
  m->ids = malloc((n ? n : 1) * sizeof *m->ids);
  m->idx = malloc((n ? n : 1) * sizeof *m->idx);
  if (m->ids == NULL || m->idx == NULL) return fail(d, "out of memory");
  /* Go numbers ids 1..n in order: then the map is the identity, without a sort. */
  int in_order = 1;
  for (size_t i = 0; i < n && in_order; i++) in_order = *id_of(d->p, i) == i + 1;
  if (in_order) {
    for (size_t i = 0; i < n; i++) {
      m->ids[i] = i + 1;
      m->idx[i] = i;
    }
  } else {
    uint64_t *pairs = malloc((n ? n : 1) * 2 * sizeof *pairs);
    if (pairs == NULL) return fail(d, "out of memory");
    for (size_t i = 0; i < n; i++) {
      pairs[2 * i] = *id_of(d->p, i);
      pairs[2 * i + 1] = i;
    }
    qsort(pairs, n, 2 * sizeof *pairs, cmp_u64_pair);
    for (size_t i = 0; i < n; i++) {
      m->ids[i] = pairs[2 * i];
      m->idx[i] = (size_t)pairs[2 * i + 1];
      if (i > 0 && m->ids[i] == m->ids[i - 1]) {
        free(pairs);
        return fail(d, "duplicate %s id %llu", what, (unsigned long long)m->ids[i]);
      }
    }
    free(pairs);
  }
  m->n = n;
  if (n > 0 && m->ids[0] == 1 && m->ids[n - 1] == n) m->dense = m->idx;
  return 0;
}

static inline long idmap_find(const idmap *m, uint64_t id) {
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
  memset(m, 0, sizeof *m);
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
      check_str(d, p->default_type, "default sample type") || check_str(d, p->main_file, "mapping") ||
      check_str(d, p->build_id, "mapping"))
    return -1;
  for (size_t i = 0; i < p->ncomments; i++)
    if (check_str(d, p->comments[i], "comment")) return -1;
  for (size_t i = 0; i < p->nfuncs; i++) {
    const prof_function *f = &p->funcs[i];
    if (check_str(d, f->name, "function") || check_str(d, f->system_name, "function") ||
        check_str(d, f->filename, "function"))
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

/* A sample's location ids (packed or not), each resolved to its index at once. */
static int sample_locs(decoder *d, const prof_pb_field *f) {
  prof_profile *p = d->p;
  const unsigned char *q = f->data, *end = f->data + f->len;
  uint64_t id = f->value;
  if (f->wire != PROF_PB_VARINT && f->wire != PROF_PB_BYTES) return fail(d, "malformed sample location ids");
  for (;;) {
    if (f->wire == PROF_PB_BYTES) {
      if (q == end) return 0;
      if (prof_pb_varint(&q, end, &id) != 0) return fail(d, "malformed sample location ids");
    }
    long k = idmap_find(&d->locmap, id);
    if (k < 0) return fail(d, "sample refers to unknown location id %llu", (unsigned long long)id);
    if (p->nsample_locs == d->sample_locs_cap) return fail(d, "malformed sample location ids");
    p->sample_locs[p->nsample_locs++] = (uint32_t)k;
    if (f->wire == PROF_PB_VARINT) return 0;
  }
}

/* A sample's values (packed or not). */
static int sample_values(decoder *d, const prof_pb_field *f) {
  prof_profile *p = d->p;
  const unsigned char *q = f->data, *end = f->data + f->len;
  uint64_t v = f->value;
  if (f->wire != PROF_PB_VARINT && f->wire != PROF_PB_BYTES) return fail(d, "malformed sample values");
  for (;;) {
    if (f->wire == PROF_PB_BYTES) {
      if (q == end) return 0;
      if (prof_pb_varint(&q, end, &v) != 0) return fail(d, "malformed sample values");
    }
    if (p->nvalues == d->values_cap) return fail(d, "malformed sample values");
    p->values[p->nvalues++] = (int64_t)v;
    if (f->wire == PROF_PB_VARINT) return 0;
  }
}

static int decode_label(decoder *d, const prof_pb_field *in) {
  prof_profile *p = d->p;
  prof_pb r = {in->data, in->data + in->len};
  prof_pb_field f;
  prof_label l = {0, 0, 0, 0};
  int rc;
  while ((rc = prof_pb_next(&r, &f)) == 1) {
    if (f.wire != PROF_PB_VARINT) continue;
    if (f.number == 1) l.key = str_index32(f.value);
    else if (f.number == 2) l.str = str_index32(f.value);
    else if (f.number == 3) l.num = (int64_t)f.value;
    else if (f.number == 4) l.num_unit = str_index32(f.value);
  }
  if (rc != 0) return fail(d, "malformed sample label");
  if (check_str(d, l.key, "label") || check_str(d, l.str, "label") || check_str(d, l.num_unit, "label"))
    return -1;
  if (p->nlabels == d->labels_cap) return fail(d, "malformed sample label");
  p->labels[p->nlabels++] = l;
  return 0;
}

static int decode_sample(decoder *d, const prof_pb_field *in) {
  prof_profile *p = d->p;
  prof_pb r = {in->data, in->data + in->len};
  prof_pb_field f;
  prof_sample s = {(uint32_t)p->nsample_locs, 0, (uint32_t)p->nvalues, (uint32_t)p->nlabels, 0};
  int rc;
  while ((rc = prof_pb_next(&r, &f)) == 1) {
    if (f.number == 1 && sample_locs(d, &f) != 0) return -1;
    if (f.number == 2 && sample_values(d, &f) != 0) return -1;
    if (f.number == 3 && f.wire == PROF_PB_BYTES && decode_label(d, &f) != 0) return -1;
  }
  if (rc != 0) return fail(d, "malformed sample");
  if (p->nvalues - s.value_start != p->ntypes)
    return fail(d, "sample %zu has %zu values for %zu sample types", p->nsamples, p->nvalues - s.value_start,
                p->ntypes);
  s.loc_count = (uint32_t)(p->nsample_locs - s.loc_start);
  s.label_count = (uint32_t)(p->nlabels - s.label_start);
  p->samples[p->nsamples++] = s;
  return 0;
}

/* Three passes over the message: counts; everything but the samples; then the
 * samples, whose location ids resolve as they are read. */
static int decode_all(decoder *d, const unsigned char *buf, size_t len) {
  size_t nloc_ids = 0, nvalues = 0, nlabels = 0, nlines = 0;
  prof_pb r = {buf, buf + len};
  prof_pb_field f;
  if (count_all(d, buf, len, &nloc_ids, &nvalues, &nlabels, &nlines) != 0) return -1;
  if (allocate(d, nloc_ids, nvalues, nlabels, nlines) != 0) return -1;
  d->count[F_MAPPING] = 0; /* counts the mappings again, to find the first */
  while (prof_pb_next(&r, &f) == 1)
    if (decode_field(d, &f) != 0) return -1;
  if (copy_strings(d) != 0) return -1;
  if (d->p->ntypes == 0) return fail(d, "not a pprof profile (no sample types)");
  if (check_strings(d) != 0 || resolve_functions(d) != 0) return -1;
  if (idmap_build(d, &d->locmap, d->p->nlocs, loc_id, "location") != 0) return -1;
  r.p = buf;
  while (prof_pb_next(&r, &f) == 1)
    if (f.number == F_SAMPLE && decode_sample(d, &f) != 0) return -1;
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
  idmap_free(&d.locmap);
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
  free(p->comments);
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
