/* tether diff/top against `go tool pprof`: for every output that
 * tests/fixtures/go/gen.sh recorded (out/pprof/INDEX: plain -top, -top -base for
 * every sample type, -lines, -focus, -ignore, on the leaky and fixed programs and
 * on the >100,000-sample profiles), the report must have the same total, the
 * same rows in the same order, and the same flat, cum and percentages, exactly;
 * where pprof wrote human units (MODE "human"), the same text for each value. */
#include <stdlib.h>

#include "prof/format.h"
#include "prof/report.h"
#include "cli-util.h"
#include "runner.h"

/* The fixtures: the committed ones, or those of a fresh gen.sh run in the folder
 * named by TETHER_PROF_FIXTURES (to check the generator and tether together). */
static const char *out_dir(void) {
  const char *env = getenv("TETHER_PROF_FIXTURES");
  return env && *env ? env : TETHER_SOURCE_DIR "/tests/fixtures/go/out";
}

static prof_profile *load_fixture(const char *name) {
  char path[512], err[256];
  size_t len;
  snprintf(path, sizeof path, "%s/%s", out_dir(), name);
  char *data = cli_slurp(path, &len);
  if (data == NULL) return NULL;
  prof_profile *p = prof_decode((const unsigned char *)data, len, err, sizeof err);
  if (p == NULL) printf("    %s: %s\n", path, err);
  free(data);
  return p;
}

/* Strips the "B" that pprof's -unit=B writes after every number. */
static long long number(const char *tok) { return strtoll(tok, NULL, 10); }

static const char *trim(const char *s) {
  while (*s == ' ') s++;
  return s;
}

static int64_t abs64(int64_t v) { return v < 0 ? -v : v; }

/* With pprof's human units (SCALE >= 0): whether TOK is how pprof wrote V. */
static int same_value(const char *tok, int64_t v, const char *unit, int scale) {
  char mine[64];
  if (scale < 0) return number(tok) == v;
  prof_fmt_value(mine, sizeof mine, v, unit, scale, 0);
  return strcmp(mine, tok) == 0;
}

/* The unit pprof's table uses (HUMAN), or whole numbers (-unit=B). */
static int table_scale(const prof_report *r, int human) {
  int64_t min = 0;
  for (size_t i = 0; i < r->nrows; i++) {
    int64_t v = r->rows[i].flat ? abs64(r->rows[i].flat) : abs64(r->rows[i].cum);
    if (v > 0 && (min == 0 || v < min)) min = v;
  }
  return human ? prof_table_scale(min, r->total, r->unit, 0) : -1;
}

/* Compares one recorded pprof -top output with tether's report; returns the
 * number of rows compared, or -1 after reporting the first difference. */
static long compare(const char *txt, const prof_report *r, const char *what, int human) {
  const char *p = strstr(txt, "Showing nodes accounting for ");
  const char *of = p ? strstr(p, "% of ") : NULL;
  int sc = table_scale(r, human);
  char tot[64];
  if (p == NULL || of == NULL || sscanf(of + 5, "%63s", tot) != 1) return printf("    %s: no header\n", what), -1;
  if (!same_value(tot, r->total, r->unit, sc))
    return printf("    %s: total %s != %lld\n", what, tot, (long long)r->total), -1;
  p = strstr(p, "cum%\n");
  if (p == NULL) return -1;
  p += 5;
  size_t row = 0;
  int64_t sum = 0;
  while (*p) {
    char flat[64], fp[32], sp[32], cum[64], cp[32], mine[32];
    int used = 0;
    if (sscanf(p, "%63s %31s %31s %63s %31s %n", flat, fp, sp, cum, cp, &used) != 5) break;
    const char *name = p + used, *eol = strchr(name, '\n');
    size_t nlen = eol ? (size_t)(eol - name) : strlen(name);
    if (row >= r->nrows) return printf("    %s: pprof has more rows than %zu\n", what, r->nrows), -1;
    const prof_row *x = &r->rows[row];
    char full[1024];
    snprintf(full, sizeof full, "%s%s", x->name,
             x->inlined == 1 ? " (inline)" : x->inlined == 2 ? " (partial-inline)" : "");
    sum += x->flat;
    if (strlen(full) != nlen || strncmp(full, name, nlen) != 0 || !same_value(flat, x->flat, r->unit, sc) ||
        !same_value(cum, x->cum, r->unit, sc))
      return printf("    %s row %zu: pprof '%.*s' %s %s, tether '%s' %lld %lld\n", what, row, (int)nlen, name,
                    flat, cum, full, (long long)x->flat, (long long)x->cum),
             -1;
    prof_fmt_percent(mine, sizeof mine, x->flat, r->total);
    if (strcmp(trim(mine), fp) != 0) return printf("    %s row %zu: flat%% %s != %s\n", what, row, fp, mine), -1;
    prof_fmt_percent(mine, sizeof mine, sum, r->total);
    if (strcmp(trim(mine), sp) != 0) return printf("    %s row %zu: sum%% %s != %s\n", what, row, sp, mine), -1;
    prof_fmt_percent(mine, sizeof mine, x->cum, r->total);
    if (strcmp(trim(mine), cp) != 0) return printf("    %s row %zu: cum%% %s != %s\n", what, row, cp, mine), -1;
    row++;
    p = eol ? eol + 1 : name + nlen;
  }
  if (row != r->nrows) return printf("    %s: pprof %zu rows, tether %zu\n", what, row, r->nrows), -1;
  return (long)row;
}

/* Runs one INDEX line: NAME SAMPLE_INDEX MODE BASE CUR [ARGS]. */
static int check_case(const char *line, long *rows) {
  char name[128], si[64], mode[32], base[128], cur[128], extra[128] = "", path[512], err[256];
  if (sscanf(line, "%127s %63s %31s %127s %127s %127s", name, si, mode, base, cur, extra) < 5) return -1;
  prof_opts o;
  memset(&o, 0, sizeof o);
  o.sample_index = si;
  o.lines = strcmp(mode, "lines") == 0;
  if (strncmp(extra, "-focus=", 7) == 0) o.focus = extra + 7;
  if (strncmp(extra, "-ignore=", 8) == 0) o.ignore = extra + 8;
  prof_profile *b = strcmp(base, "-") == 0 ? NULL : load_fixture(base), *c = load_fixture(cur);
  snprintf(path, sizeof path, "%s/pprof/%s.txt", out_dir(), name);
  char *txt = cli_slurp(path, NULL);
  prof_report r;
  long n = -1;
  if (c != NULL && txt != NULL && (strcmp(base, "-") == 0 || b != NULL) &&
      prof_report_build(b, c, &o, &r, err, sizeof err) == 0) {
    n = compare(txt, &r, name, strcmp(mode, "human") == 0);
    prof_report_free(&r);
  }
  free(txt);
  prof_free(b);
  prof_free(c);
  if (n >= 0) *rows += n;
  return n >= 0 ? 0 : -1;
}

TEST(prof_agrees_with_pprof_on_every_recorded_output) {
  char index_path[512];
  snprintf(index_path, sizeof index_path, "%s/pprof/INDEX", out_dir());
  char *index = cli_slurp(index_path, NULL);
  CHECK(index != NULL);
  int cases = 0, failed = 0;
  long rows = 0;
  for (char *line = strtok(index, "\n"); line != NULL; line = strtok(NULL, "\n")) {
    cases++;
    if (check_case(line, &rows) != 0) {
      printf("    differs from pprof: %s\n", line);
      failed++;
    }
  }
  free(index);
  printf("    %d pprof outputs, %ld rows compared\n", cases, rows);
  CHECK(cases >= 58);
  CHECK_EQ(failed, 0);
}

TEST(prof_leaky_growth_is_in_load_heavy_and_fixed_does_not_grow) {
  prof_profile *a = load_fixture("leaky-1.pb.gz"), *b = load_fixture("leaky-4.pb.gz");
  prof_profile *c = load_fixture("fixed-1.pb.gz"), *d = load_fixture("fixed-4.pb.gz");
  prof_opts o;
  prof_report r;
  char err[256];
  memset(&o, 0, sizeof o);
  CHECK(a && b && c && d);
  CHECK_EQ(prof_report_build(a, b, &o, &r, err, sizeof err), 0);
  CHECK_STREQ(r.type, "inuse_space");
  CHECK_STREQ(r.rows[0].name, "main.loadHeavy");
  CHECK(r.rows[0].flat > 90 * 1024 * 1024);
  CHECK(r.kept_sum > 90 * 1024 * 1024);
  prof_report_free(&r);
  CHECK_EQ(prof_report_build(c, d, &o, &r, err, sizeof err), 0);
  CHECK(r.kept_sum < 1024 * 1024);
  prof_report_free(&r);
  prof_free(a);
  prof_free(b);
  prof_free(c);
  prof_free(d);
}

TEST(prof_closure_names_in_every_form) {
  size_t e = 0;
  CHECK(prof_is_closure("main.main.func1", &e) && e == strlen("main.main"));
  CHECK(prof_is_closure("main.outer.func1.1", &e) && e == strlen("main.outer"));
  CHECK(prof_is_closure("main.outer.func1.func2", &e) && e == strlen("main.outer"));
  CHECK(prof_is_closure("example.com/a.b/pkg.(*T).Run.func3", &e) &&
        e == strlen("example.com/a.b/pkg.(*T).Run"));
  CHECK(prof_is_closure("main.Map[...].func1", &e) && e == strlen("main.Map[...]"));
  CHECK(prof_is_closure("main.Map[go.shape.int].func2.1", &e) && e == strlen("main.Map[go.shape.int]"));
  CHECK(prof_is_closure("main.main.gowrap1", &e) && e == strlen("main.main"));
  CHECK(prof_is_closure("net/http.(*Server).Serve.deferwrap2", &e) &&
        e == strlen("net/http.(*Server).Serve"));
  CHECK(prof_is_closure("main.init.0.func1", &e) && e == strlen("main.init.0"));
  CHECK(!prof_is_closure("main.main", NULL));
  CHECK(!prof_is_closure("main.funcs", NULL));
  CHECK(!prof_is_closure("main.init.0", NULL));
  CHECK(!prof_is_closure("gopkg.in/yaml.v2.func1x", NULL));
  CHECK(!prof_is_closure("func1", NULL));
}

TEST(prof_closures_group_the_leaky_stacks_by_closure) {
  prof_profile *a = load_fixture("leaky-1.pb.gz"), *b = load_fixture("leaky-4.pb.gz");
  prof_opts o;
  prof_report r;
  char err[256];
  memset(&o, 0, sizeof o);
  o.closures = 1;
  CHECK(a && b);
  CHECK_EQ(prof_report_build(a, b, &o, &r, err, sizeof err), 0);
  CHECK(r.nrows >= 1);
  CHECK(strncmp(r.rows[0].name, "main.main.func1 (in main.main at ", 33) == 0);
  CHECK(strstr(r.rows[0].name, "leaky/main.go:") != NULL);
  CHECK(r.rows[0].flat > 90 * 1024 * 1024);
  for (size_t i = 0; i < r.nrows; i++) CHECK(strstr(r.rows[i].name, ".func") != NULL);
  prof_report_free(&r);
  prof_free(a);
  prof_free(b);
}

/* rows_only walks a profile's samples without merging them: the rows and the
 * total must be those of the merged report, for every fixture and every
 * granularity. */
TEST(prof_rows_only_equals_the_merged_report) {
  static const char *const files[] = {"leaky-1.pb.gz", "leaky-4.pb.gz", "fixed-4.pb.gz", "many-2.pb.gz"};
  for (size_t f = 0; f < sizeof files / sizeof files[0]; f++) {
    prof_profile *p = load_fixture(files[f]);
    CHECK(p != NULL);
    for (int mode = 0; mode < 4; mode++) {
      prof_opts o;
      prof_report a, b;
      char err[256];
      memset(&o, 0, sizeof o);
      o.lines = mode == 1;
      o.closures = mode == 2;
      o.focus = mode == 3 ? "main" : NULL;
      o.sample_index = mode == 3 ? "alloc_space" : NULL;
      CHECK_EQ(prof_report_build(NULL, p, &o, &a, err, sizeof err), 0);
      o.rows_only = 1;
      CHECK_EQ(prof_report_build(NULL, p, &o, &b, err, sizeof err), 0);
      CHECK_EQ(a.total, b.total);
      CHECK_EQ(a.cur_sum, b.cur_sum);
      CHECK_EQ(a.kept_sum, b.kept_sum);
      CHECK_EQ(a.nrows, b.nrows);
      for (size_t i = 0; i < a.nrows; i++) {
        CHECK_STREQ(a.rows[i].name, b.rows[i].name);
        CHECK_EQ(a.rows[i].flat, b.rows[i].flat);
        CHECK_EQ(a.rows[i].cum, b.rows[i].cum);
        CHECK_EQ(a.rows[i].inlined, b.rows[i].inlined);
      }
      prof_report_free(&a);
      prof_report_free(&b);
    }
    prof_free(p);
  }
}
