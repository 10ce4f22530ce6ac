/* The command line of `tether diff BASE CUR` and `tether top PROFILE`: option
 * parsing, reading and decoding the profiles, and writing the report as a
 * pprof-like table or as JSON (schema in docs/prof.md). Exit status 0, 1 when
 * --fail-if-growth tripped, 2 for a usage or input error (one line on stderr). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "common/cli.h"
#include "prof/format.h"
#include "prof/report.h"

typedef struct cli {
  const char *cmd;
  prof_opts o;
  long top;
  int json, raw, gate, color;
  int scale; /* the table's unit, shared by all its values as in pprof */
  int64_t gate_limit;
  int gate_has_unit;
  const char *files[2];
  int nfiles;
} cli;

static void help(const char *cmd) {
  int diff = strcmp(cmd, "diff") == 0;
  printf("usage: tether %s [OPTIONS] %s\n\n", cmd, diff ? "BASE CUR" : "PROFILE");
  printf(diff ? "Reports per function what grew from BASE to CUR (pprof profiles, gzip or raw),\n"
                "with the numbers of `go tool pprof -top -base BASE CUR`.\n\n"
              : "Reports the top functions of a pprof profile (gzip or raw), with the numbers\n"
                "of `go tool pprof -top PROFILE`.\n\n");
  printf("options:\n"
         "  --sample-index TYPE   sample type by name or index (default: inuse_space for heap)\n"
         "  --top N               show only the first N rows\n"
         "  --focus REGEX         keep samples with a frame whose function or file matches\n"
         "  --ignore REGEX        drop samples with such a frame\n"
         "  --closures            only stacks with a Go closure, one row per closure\n"
         "  --lines               one row per source line instead of per function\n"
         "  --raw                 whole numbers instead of human units\n"
         "  --format text|json    output format (default text)\n"
         "  --fail-if-growth SIZE exit 1 when the total grows by more than SIZE\n"
         "                        (10MB, 512KiB, or a count for count types)\n"
         "  --help, --version\n"
         "exit status: 0 ok, 1 growth gate tripped, 2 usage or input error\n");
}

/* The value of option ARGV[*I] ("--opt=V" or "--opt V"), or NULL. */
static const char *opt_value(int argc, char **argv, int *i, const char *name) {
  size_t n = strlen(name);
  if (strncmp(argv[*i], name, n) != 0) return NULL;
  if (argv[*i][n] == '=') return argv[*i] + n + 1;
  if (argv[*i][n] != 0) return NULL;
  if (*i + 1 >= argc) return "";
  return argv[++*i];
}

static int parse_value_opt(cli *c, int argc, char **argv, int *i, int *matched) {
  const char *v;
  *matched = 1;
  if ((v = opt_value(argc, argv, i, "--sample-index"))) c->o.sample_index = v;
  else if ((v = opt_value(argc, argv, i, "--focus"))) c->o.focus = v;
  else if ((v = opt_value(argc, argv, i, "--ignore"))) c->o.ignore = v;
  else if ((v = opt_value(argc, argv, i, "--top"))) {
    char *end;
    c->top = strtol(v, &end, 10);
    if (*v == 0 || *end != 0 || c->top < 0) return tcli_usage_error(c->cmd, "--top wants a count, not '%s'", v);
  } else if ((v = opt_value(argc, argv, i, "--format"))) {
    if (strcmp(v, "json") != 0 && strcmp(v, "text") != 0)
      return tcli_usage_error(c->cmd, "--format is text or json, not '%s'", v);
    c->json = strcmp(v, "json") == 0;
  } else if ((v = opt_value(argc, argv, i, "--fail-if-growth"))) {
    if (prof_parse_size(v, &c->gate_limit, &c->gate_has_unit) != 0)
      return tcli_usage_error(c->cmd, "--fail-if-growth wants a size like 10MB or a count, not '%s'", v);
    c->gate = 1;
  } else {
    *matched = 0;
    return 0;
  }
  if (*v == 0) return tcli_usage_error(c->cmd, "%s needs a value", argv[*i]);
  return 0;
}

/* Returns -1 to go on, or the exit status (help, version, usage error). */
static int parse(cli *c, int argc, char **argv) {
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    int matched, rc;
    if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) return help(c->cmd), TCLI_OK;
    if (strcmp(a, "--version") == 0) return printf("tether %s\n", TETHER_VERSION), TCLI_OK;
    if (strcmp(a, "--closures") == 0) c->o.closures = 1;
    else if (strcmp(a, "--lines") == 0) c->o.lines = 1;
    else if (strcmp(a, "--raw") == 0) c->raw = 1;
    else if (a[0] == '-' && a[1] != 0) {
      if ((rc = parse_value_opt(c, argc, argv, &i, &matched)) != 0) return rc;
      if (!matched) return tcli_usage_error(c->cmd, "unknown option '%s' (see --help)", a);
    } else if (c->nfiles < 2) {
      c->files[c->nfiles++] = a;
    } else {
      return tcli_usage_error(c->cmd, "too many arguments (see --help)");
    }
  }
  int want = strcmp(c->cmd, "diff") == 0 ? 2 : 1;
  if (c->nfiles != want)
    return tcli_usage_error(c->cmd, "wants %s (see --help)", want == 2 ? "BASE and CUR profiles" : "one PROFILE");
  return -1;
}

static prof_profile *load(const char *cmd, const char *path) {
  unsigned char *data;
  size_t len;
  char err[256];
  if (tcli_read_file(path, PROF_MAX_BYTES, &data, &len) != 0) {
    tcli_usage_error(cmd, "%s: %s", path, errno == EFBIG ? "file too large" : strerror(errno));
    return NULL;
  }
  prof_profile *p = prof_decode(data, len, err, sizeof err);
  free(data);
  if (p == NULL) tcli_usage_error(cmd, "%s: %s", path, err);
  return p;
}

static void print_row(const cli *c, const prof_report *r, const prof_row *row, int64_t sum) {
  char flat[48], cum[48], fp[24], sp[24], cp[24];
  int is_signed = c->nfiles == 2;
  prof_fmt_value(flat, sizeof flat, row->flat, r->unit, c->scale, is_signed);
  prof_fmt_value(cum, sizeof cum, row->cum, r->unit, c->scale, is_signed);
  prof_fmt_percent(fp, sizeof fp, row->flat, r->total);
  prof_fmt_percent(sp, sizeof sp, sum, r->total);
  prof_fmt_percent(cp, sizeof cp, row->cum, r->total);
  const char *on = "", *off = "";
  if (c->color && is_signed && row->flat != 0) {
    on = row->flat > 0 ? "\033[31m" : "\033[32m";
    off = "\033[0m";
  }
  printf("%s%10s%s %s %s %10s %s  %s%s\n", on, flat, off, fp, sp, cum, cp, row->name,
         row->inlined == 1 ? " (inline)" : row->inlined == 2 ? " (partial-inline)" : "");
}

/* Writes V in its own best unit (for the lines outside the table). */
static void own_scale(const cli *c, char *buf, size_t n, int64_t v, const char *unit, int is_signed) {
  prof_fmt_value(buf, n, v, unit, prof_pick_scale(v, unit, c->raw), is_signed);
}

static int64_t abs64(int64_t v) { return v < 0 ? -v : v; }

static void print_text(cli *c, const prof_report *r, size_t shown) {
  char a[48], b[48], d[48], pct[24];
  int diff = c->nfiles == 2;
  int64_t acc = 0, min = 0;
  printf("Type: %s\n", r->type);
  if (diff) {
    own_scale(c, a, sizeof a, r->base_sum, r->unit, 0);
    own_scale(c, b, sizeof b, r->cur_sum, r->unit, 0);
    own_scale(c, d, sizeof d, r->cur_sum - r->base_sum, r->unit, 1);
    printf("Total: %s -> %s (%s)\n", a, b, d);
  }
  for (size_t i = 0; i < shown; i++) {
    int64_t v = r->rows[i].flat ? abs64(r->rows[i].flat) : abs64(r->rows[i].cum);
    acc += r->rows[i].flat;
    if (v > 0 && (min == 0 || v < min)) min = v;
  }
  c->scale = prof_table_scale(min, r->total, r->unit, c->raw);
  prof_fmt_value(a, sizeof a, acc, r->unit, c->scale, diff);
  prof_fmt_value(b, sizeof b, r->total, r->unit, c->scale, 0);
  prof_fmt_percent(pct, sizeof pct, acc, r->total);
  const char *trimmed = pct;
  while (*trimmed == ' ') trimmed++;
  printf("Showing nodes accounting for %s, %s of %s total\n", a, trimmed, b);
  if (shown < r->nrows) printf("Showing top %zu nodes out of %zu\n", shown, r->nrows);
  printf("      flat  flat%%   sum%%        cum   cum%%\n");
  acc = 0;
  for (size_t i = 0; i < shown; i++) {
    acc += r->rows[i].flat;
    print_row(c, r, &r->rows[i], acc);
  }
}

static double pct(int64_t v, int64_t total) {
  if (total == 0) return 0;
  double x = (double)v / (double)total * 100;
  return x < 0 ? -x : x;
}

static void print_json(const cli *c, const prof_report *r, size_t shown, int tripped) {
  int64_t acc = 0;
  printf("{\"command\":\"%s\",", c->cmd);
  if (c->nfiles == 2) {
    printf("\"base\":");
    tcli_json_string(stdout, c->files[0]);
    printf(",");
  }
  printf("\"current\":");
  tcli_json_string(stdout, c->files[c->nfiles - 1]);
  printf(",\"sample_type\":");
  tcli_json_string(stdout, r->type);
  printf(",\"unit\":");
  tcli_json_string(stdout, r->unit);
  printf(",\"granularity\":\"%s\",\"total\":%lld,\"base_sum\":%lld,\"current_sum\":%lld,"
         "\"change\":%lld,\"kept\":%lld,\"samples\":%zu,\"rows_total\":%zu,\"rows\":[",
         c->o.closures ? "closures" : c->o.lines ? "lines" : "functions", (long long)r->total,
         (long long)r->base_sum, (long long)r->cur_sum, (long long)(r->cur_sum - r->base_sum),
         (long long)r->kept_sum, r->nsamples, r->nrows);
  for (size_t i = 0; i < shown; i++) {
    const prof_row *row = &r->rows[i];
    acc += row->flat;
    printf("%s{\"name\":", i ? "," : "");
    tcli_json_string(stdout, row->name);
    printf(",\"inline\":%s,\"flat\":%lld,\"flat_pct\":%.4f,\"sum_pct\":%.4f,\"cum\":%lld,\"cum_pct\":%.4f}",
           row->inlined == 1 ? "\"inline\"" : row->inlined == 2 ? "\"partial-inline\"" : "null",
           (long long)row->flat, pct(row->flat, r->total), pct(acc, r->total), (long long)row->cum,
           pct(row->cum, r->total));
  }
  printf("]");
  if (c->gate) printf(",\"gate\":{\"limit\":%lld,\"tripped\":%s}", (long long)c->gate_limit, tripped ? "true" : "false");
  printf("}\n");
}

static int gate_check(const cli *c, const prof_report *r, int *tripped) {
  *tripped = 0;
  if (!c->gate) return 0;
  if (c->gate_has_unit && strcmp(r->unit, "bytes") != 0)
    return tcli_usage_error(c->cmd, "--fail-if-growth has a byte unit but %s is in %s", r->type, r->unit);
  *tripped = r->kept_sum > c->gate_limit;
  return 0;
}

static int run(cli *c) {
  prof_profile *p[2] = {NULL, NULL};
  prof_report r;
  char err[256];
  int rc = TCLI_USAGE, tripped = 0;
  for (int i = 0; i < c->nfiles; i++)
    if ((p[i] = load(c->cmd, c->files[i])) == NULL) goto done;
  if (prof_report_build(c->nfiles == 2 ? p[0] : NULL, p[c->nfiles - 1], &c->o, &r, err, sizeof err) != 0) {
    tcli_usage_error(c->cmd, "%s", err);
    goto done;
  }
  if (gate_check(c, &r, &tripped) == 0) {
    size_t shown = c->top > 0 && (size_t)c->top < r.nrows ? (size_t)c->top : r.nrows;
    c->color = !c->json && tcli_use_color(stdout);
    if (c->json) print_json(c, &r, shown, tripped);
    else print_text(c, &r, shown);
    if (tripped && !c->json) {
      char lim[48], got[48];
      own_scale(c, lim, sizeof lim, c->gate_limit, r.unit, 0);
      own_scale(c, got, sizeof got, r.kept_sum, r.unit, 1);
      fprintf(stderr, "tether %s: growth %s exceeds --fail-if-growth %s\n", c->cmd, got, lim);
    }
    rc = tripped ? TCLI_FOUND : TCLI_OK;
  }
  prof_report_free(&r);
done:
  prof_free(p[0]);
  prof_free(p[1]);
  return rc;
}

static int command(const char *name, int argc, char **argv) {
  cli c;
  memset(&c, 0, sizeof c);
  c.cmd = name;
  int rc = parse(&c, argc, argv);
  return rc >= 0 ? rc : run(&c);
}

int tether_cmd_diff(int argc, char **argv) { return command("diff", argc, argv); }
int tether_cmd_top(int argc, char **argv) { return command("top", argc, argv); }
