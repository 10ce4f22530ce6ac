/* tether diff/top on small profiles written here field by field: inlined and
 * non-inlined calls into one function ("(partial-inline)"), per-line rows,
 * sparse ids (not 1..n), packed and unpacked repeated fields, unknown fields,
 * labels, and a diff that cancels to nothing. The expected numbers follow from
 * the samples by hand; `go tool pprof -top` (also -lines, -base) prints the same
 * for these bytes (fuzz/corpus/profile/synth-inline*.pb are copies of them). */
#include <stdlib.h>

#include "prof/report.h"
#include "runner.h"

typedef struct buf {
  unsigned char b[4096];
  size_t n;
} buf;

static void put_varint(buf *o, uint64_t v) {
  while (v >= 0x80) {
    o->b[o->n++] = (unsigned char)(v | 0x80);
    v >>= 7;
  }
  o->b[o->n++] = (unsigned char)v;
}

static void put_int(buf *o, unsigned field, uint64_t v) {
  put_varint(o, (uint64_t)field << 3);
  put_varint(o, v);
}

static void put_msg(buf *o, unsigned field, const buf *m) {
  put_varint(o, (uint64_t)field << 3 | 2);
  put_varint(o, m->n);
  memcpy(o->b + o->n, m->b, m->n);
  o->n += m->n;
}

static void put_str(buf *o, const char *s) {
  buf m = {.n = 0};
  memcpy(m.b, s, strlen(s));
  m.n = strlen(s);
  put_msg(o, 6, &m);
}

/* Strings: 0 "", 1 objects, 2 count, 3 space, 4 bytes, 5 main.a, 6 main.b, 7 main.c, 8 a.go. */
static const char *k_strings[] = {"", "objects", "count", "space", "bytes", "main.a", "main.b", "main.c", "a.go"};

static void put_function(buf *o, uint64_t id, uint64_t name) {
  buf f = {.n = 0};
  put_int(&f, 1, id);
  put_int(&f, 2, name);
  put_int(&f, 4, 8);
  put_int(&f, 99, 7); /* an unknown field */
  put_msg(o, 5, &f);
}

/* A location with up to two lines (function id, line), inlined first. */
static void put_location(buf *o, uint64_t id, uint64_t f1, int64_t l1, uint64_t f2, int64_t l2) {
  buf loc = {.n = 0}, line = {.n = 0};
  put_int(&loc, 1, id);
  put_int(&line, 1, f1);
  put_int(&line, 2, (uint64_t)l1);
  put_msg(&loc, 4, &line);
  if (f2) {
    line.n = 0;
    put_int(&line, 1, f2);
    put_int(&line, 2, (uint64_t)l2);
    put_msg(&loc, 4, &line);
  }
  put_msg(o, 4, &loc);
}

/* Sample 1: b inlined into a (location 1000), called from c (3000); packed
 * fields and a numeric label. Sample 2: b (2000) called from c, unpacked. */
static void put_samples(buf *o, int64_t v1, int64_t v2, int64_t size) {
  buf s = {.n = 0}, packed = {.n = 0}, label = {.n = 0};
  put_varint(&packed, 1000);
  put_varint(&packed, 3000);
  put_msg(&s, 1, &packed);
  packed.n = 0;
  put_varint(&packed, 1);
  put_varint(&packed, (uint64_t)v1);
  put_msg(&s, 2, &packed);
  put_int(&label, 1, 4);
  put_int(&label, 3, (uint64_t)size);
  put_msg(&s, 3, &label);
  put_msg(o, 2, &s);
  s.n = 0;
  put_int(&s, 1, 2000);
  put_int(&s, 1, 3000);
  put_int(&s, 2, 2);
  put_int(&s, 2, (uint64_t)v2);
  put_msg(o, 2, &s);
}

static prof_profile *synth_sized(int64_t v1, int64_t v2, int64_t size) {
  buf o = {.n = 0}, vt = {.n = 0};
  char err[256];
  put_samples(&o, v1, v2, size); /* samples before the locations they name, as Go writes */
  put_int(&vt, 1, 1);
  put_int(&vt, 2, 2);
  put_msg(&o, 1, &vt);
  vt.n = 0;
  put_int(&vt, 1, 3);
  put_int(&vt, 2, 4);
  put_msg(&o, 1, &vt);
  put_location(&o, 1000, 20, 5, 10, 1);
  put_location(&o, 2000, 20, 6, 0, 0);
  put_location(&o, 3000, 30, 9, 0, 0);
  put_function(&o, 10, 5);
  put_function(&o, 20, 6);
  put_function(&o, 30, 7);
  for (size_t i = 0; i < sizeof k_strings / sizeof k_strings[0]; i++) put_str(&o, k_strings[i]);
  prof_profile *p = prof_decode(o.b, o.n, err, sizeof err);
  if (p == NULL) printf("    synth: %s\n", err);
  return p;
}

static prof_profile *synth(int64_t v1, int64_t v2) { return synth_sized(v1, v2, 16); }

static const prof_row *row(const prof_report *r, const char *name) {
  for (size_t i = 0; i < r->nrows; i++)
    if (strcmp(r->rows[i].name, name) == 0) return &r->rows[i];
  return NULL;
}

TEST(prof_synth_partial_inline_and_sums) {
  prof_profile *p = synth(10, 20);
  prof_opts o;
  prof_report r;
  char err[256];
  memset(&o, 0, sizeof o);
  CHECK(p != NULL);
  CHECK_EQ(p->nsamples, 2);
  CHECK_EQ(prof_report_build(NULL, p, &o, &r, err, sizeof err), 0);
  CHECK_STREQ(r.type, "space");
  CHECK_EQ(r.total, 30);
  CHECK_EQ(r.nrows, 3);
  CHECK_STREQ(r.rows[0].name, "main.b");
  CHECK_EQ(r.rows[0].flat, 30);
  CHECK_EQ(r.rows[0].cum, 30);
  CHECK_EQ(r.rows[0].inlined, 2); /* inlined into a, called from c */
  CHECK(row(&r, "main.a") && row(&r, "main.a")->cum == 10 && row(&r, "main.a")->flat == 0);
  CHECK(row(&r, "main.c") && row(&r, "main.c")->cum == 30 && row(&r, "main.c")->inlined == 0);
  prof_report_free(&r);
  o.lines = 1;
  CHECK_EQ(prof_report_build(NULL, p, &o, &r, err, sizeof err), 0);
  CHECK_EQ(r.nrows, 4);
  CHECK(row(&r, "main.b a.go:5") && row(&r, "main.b a.go:5")->flat == 10);
  CHECK_EQ(row(&r, "main.b a.go:5")->inlined, 1);
  CHECK(row(&r, "main.b a.go:6") && row(&r, "main.b a.go:6")->flat == 20);
  CHECK_EQ(row(&r, "main.b a.go:6")->inlined, 0);
  prof_report_free(&r);
  prof_free(p);
}

TEST(prof_synth_diff_merges_by_stack_and_label) {
  prof_profile *base = synth(10, 5), *cur = synth(10, 20);
  prof_opts o;
  prof_report r;
  char err[256];
  memset(&o, 0, sizeof o);
  CHECK(base && cur);
  CHECK_EQ(prof_report_build(base, cur, &o, &r, err, sizeof err), 0);
  /* Sample 1 cancels (same stack, same label); sample 2 grew by 15. */
  CHECK_EQ(r.total, 15);
  CHECK_EQ(r.nsamples, 1);
  CHECK_EQ(r.base_sum, 15);
  CHECK_EQ(r.cur_sum, 30);
  CHECK_EQ(r.kept_sum, 15);
  CHECK(row(&r, "main.b") && row(&r, "main.b")->flat == 15);
  CHECK(row(&r, "main.a") == NULL); /* only on the cancelled stack */
  CHECK_EQ(row(&r, "main.b")->inlined, 0);
  prof_report_free(&r);
  o.sample_index = "objects";
  CHECK_EQ(prof_report_build(base, cur, &o, &r, err, sizeof err), 0);
  CHECK_EQ(r.total, 0);
  CHECK_EQ(r.nrows, 0);
  prof_report_free(&r);
  o.sample_index = NULL;
  o.ignore = "^main\\.c$";
  CHECK_EQ(prof_report_build(base, cur, &o, &r, err, sizeof err), 0);
  CHECK_EQ(r.total, 15); /* the total is before filtering, as in pprof */
  CHECK_EQ(r.nrows, 0);
  CHECK_EQ(r.kept_sum, 0);
  prof_report_free(&r);
  prof_free(base);
  prof_free(cur);
}

TEST(prof_synth_cancelled_function_is_no_row) {
  /* Sample 1's label differs, so base and current do not merge: main.a gets
   * +10 and -10 on two samples and, as in pprof, is no row; the total counts both. */
  prof_profile *base = synth_sized(10, 5, 32), *cur = synth_sized(10, 20, 16);
  prof_opts o;
  prof_report r;
  char err[256];
  memset(&o, 0, sizeof o);
  CHECK(base && cur);
  CHECK_EQ(prof_report_build(base, cur, &o, &r, err, sizeof err), 0);
  CHECK_EQ(r.total, 35);
  CHECK_EQ(r.nsamples, 3);
  CHECK(row(&r, "main.a") == NULL);
  CHECK(row(&r, "main.b") && row(&r, "main.b")->flat == 15 && row(&r, "main.b")->cum == 15);
  CHECK_EQ(row(&r, "main.b")->inlined, 2); /* pprof keeps the calls from the dropped main.a */
  CHECK(row(&r, "main.c") && row(&r, "main.c")->cum == 15);
  CHECK_EQ(r.nrows, 2);
  prof_report_free(&r);
  prof_free(base);
  prof_free(cur);
}
