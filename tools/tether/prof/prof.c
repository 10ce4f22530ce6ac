/* The command line of `tether diff BASE CUR` and `tether top PROFILE`: option
 * parsing, reading the profiles (files, standard input or URLs, prof/source.h),
 * and writing the report as a pprof-like table with pprof's header, as JSON
 * (schema in docs/prof.md), or as annotated source (--list). Exit status 0, 1
 * when --fail-if-growth tripped, 2 for a usage or input error (one line on
 * stderr). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "commands.h"
#include "common/cli.h"
#include "prof/format.h"
#include "prof/listing.h"
#include "prof/report.h"
#include "prof/source.h"

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
  const char *list, *source;
  prof_source_opts src;
} cli;

static void help(const char *cmd) {
  int diff = strcmp(cmd, "diff") == 0;
  printf("usage: tether %s [OPTIONS] %s\n\n", cmd, diff ? "BASE CUR" : "PROFILE");
  printf(diff ? "Reports per function what grew from BASE to CUR (pprof profiles, gzip or raw),\n"
                "with the numbers of `go tool pprof -top -base BASE CUR`.\n\n"
              : "Reports the top functions of a pprof profile (gzip or raw), with the numbers\n"
                "of `go tool pprof -top PROFILE`.\n\n");
  printf("A profile is a file, - (standard input) or an http(s):// URL; a Go heap endpoint\n"
         "(.../debug/pprof/heap) is fetched with gc=1 unless the URL has a query.\n\n");
  printf("options:\n"
         "  --sample-index TYPE   sample type by name or index (default: inuse_space for heap)\n"
         "  --top N               show only the first N rows\n"
         "  --focus REGEX         keep samples with a frame whose function or file matches\n"
         "  --ignore REGEX        drop samples with such a frame\n"
         "  --closures            only stacks with a Go closure, one row per closure\n"
         "  --lines               one row per source line instead of per function\n"
         "  --raw                 whole numbers instead of human units\n"
         "  --format text|json    output format (default text)\n"
         "  --fail-if-growth SIZE exit 1 when the total grows by more than SIZE (diff only;\n"
         "                        10MB, 1.5MB, 512KiB, or a count for count types)\n"
         "  --list REGEX          annotated source of the functions REGEX matches\n"
         "  --source DIR          where --list finds the sources (default: .)\n"
         "  --timeout DURATION    for a URL: give up after DURATION (default 30s)\n"
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
  else if ((v = opt_value(argc, argv, i, "--list"))) c->list = v;
  else if ((v = opt_value(argc, argv, i, "--source"))) c->source = v;
  else if ((v = opt_value(argc, argv, i, "--timeout"))) {
    if (tcli_parse_duration(v, &c->src.timeout_s) != 0 || c->src.timeout_s <= 0)
      return tcli_usage_error(c->cmd, "--timeout wants a duration like 30s or 1m, not '%s'", v);
  }
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
  if (c->gate && want == 1)
    return tcli_usage_error(c->cmd, "--fail-if-growth needs a base to grow from: use tether diff BASE CUR "
                                    "(or tether watch)");
  if (c->source && !c->list) return tcli_usage_error(c->cmd, "--source goes with --list REGEX");
  if (c->list && c->json) return tcli_usage_error(c->cmd, "--list writes text only");
  return -1;
}

static prof_profile *load(const cli *c, const char *path) {
  char err[512];
  prof_profile *p = prof_source_load(path, NULL, &c->src, NULL, NULL, err, sizeof err);
  if (p == NULL) tcli_usage_error(c->cmd, "%s: %s", path, err);
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

/* The header pprof prints: the binary, build id and comments of the current
 * profile, the type, and (as pprof's merge gives them) the earliest time and
 * the summed duration of the profiles. */
static void print_header(const cli *c, const prof_profile *const p[2], const prof_report *r) {
  const prof_profile *cur = p[c->nfiles - 1];
  int64_t t = 0, dur = 0;
  for (int i = 0; i < c->nfiles; i++) {
    if (p[i]->time_nanos != 0 && (t == 0 || p[i]->time_nanos < t)) t = p[i]->time_nanos;
    dur += p[i]->duration_nanos;
  }
  if (cur->main_file) {
    const char *f = cur->str[cur->main_file], *slash = strrchr(f, '/');
    printf("File: %s\n", slash && slash[1] ? slash + 1 : f);
  }
  if (cur->build_id) printf("Build ID: %s\n", cur->str[cur->build_id]);
  for (size_t i = 0; i < cur->ncomments; i++)
    if (cur->str[cur->comments[i]][0] != '#') printf("%s\n", cur->str[cur->comments[i]]);
  printf("Type: %s\n", r->type);
  if (t != 0) {
    time_t secs = (time_t)(t / 1000000000);
    struct tm tm;
    char when[96];
    if (localtime_r(&secs, &tm) != NULL && strftime(when, sizeof when, "%b %-d, %Y at %-I:%M%P (%Z)", &tm) > 0)
      printf("Time: %s\n", when);
  }
  if (dur != 0) {
    char d[48], total[48], ratio[32] = "";
    prof_fmt_value(d, sizeof d, dur, "nanoseconds", prof_pick_scale(dur, "nanoseconds", 0), 0);
    prof_fmt_value(total, sizeof total, r->total, r->unit, c->scale, 0);
    if (strcmp(r->unit, "nanoseconds") == 0 && r->total != 0) {
      char pct[24];
      prof_fmt_percent(pct, sizeof pct, r->total, dur);
      snprintf(ratio, sizeof ratio, "(%s)", pct);
    }
    printf("Duration: %s, Total samples = %s %s\n", d, total, ratio);
  }
}

static void print_text(cli *c, const prof_profile *const p[2], const prof_report *r, size_t shown) {
  char a[48], b[48], d[48], pct[24];
  int diff = c->nfiles == 2;
  int64_t acc = 0, min = 0;
  for (size_t i = 0; i < shown; i++) {
    int64_t v = r->rows[i].flat ? abs64(r->rows[i].flat) : abs64(r->rows[i].cum);
    if (v > 0 && (min == 0 || v < min)) min = v;
  }
  c->scale = prof_table_scale(min, r->total, r->unit, c->raw);
  print_header(c, p, r);
  if (diff) {
    own_scale(c, a, sizeof a, r->base_sum, r->unit, 0);
    own_scale(c, b, sizeof b, r->cur_sum, r->unit, 0);
    own_scale(c, d, sizeof d, r->cur_sum - r->base_sum, r->unit, 1);
    printf("Total: %s -> %s (%s)\n", a, b, d);
  }
  for (size_t i = 0; i < shown; i++) acc += r->rows[i].flat;
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

/* A value of the listing in its own unit, as pprof's -list writes each one
 * ("." for zero). pprof scales a negative value to the unit's base (B, s). */
static void list_value(const cli *c, char *buf, size_t n, int64_t v, const char *unit) {
  if (v == 0) {
    snprintf(buf, n, ".");
    return;
  }
  int scale = prof_pick_scale(v, unit, c->raw);
  if (v < 0 && scale >= 0) scale = strcmp(unit, "nanoseconds") == 0 ? 3 : 0;
  prof_fmt_value(buf, n, v, unit, scale, 0);
}

/* tether top --list REGEX: the annotated source, as pprof -list prints it. */
static int print_listing(const cli *c, const prof_profile *const p[2]) {
  prof_opts o = c->o;
  prof_report r;
  prof_listing l;
  char err[512], a[48], b[48], pct[24];
  o.lines = 1;
  o.closures = 0;
  if (prof_report_build(c->nfiles == 2 ? p[0] : NULL, p[c->nfiles - 1], &o, &r, err, sizeof err) != 0)
    return tcli_usage_error(c->cmd, "%s", err);
  int rc = prof_listing_build(&r, c->list, c->source, &l, err, sizeof err);
  if (rc != 0) {
    if (rc == 1) tcli_usage_error(c->cmd, "no function with samples matches --list '%s'", c->list);
    else tcli_usage_error(c->cmd, "%s", err);
    prof_listing_free(&l);
    prof_report_free(&r);
    return TCLI_USAGE;
  }
  list_value(c, a, sizeof a, r.total, r.unit);
  printf("Total: %s\n", a);
  for (size_t i = 0; i < l.n; i++) {
    const prof_list_block *bl = &l.blocks[i];
    printf("ROUTINE ======================== %s in %s\n", bl->func, bl->shown);
    list_value(c, a, sizeof a, bl->flat, r.unit);
    list_value(c, b, sizeof b, bl->cum, r.unit);
    if (bl->flat == 0) snprintf(a, sizeof a, "0"); /* the sums are never dotted */
    if (bl->cum == 0) snprintf(b, sizeof b, "0");
    prof_fmt_percent(pct, sizeof pct, bl->cum, r.total);
    printf("%10s %10s (flat, cum) %s of Total\n", a, b, pct);
    if (bl->error) printf(" Error: %s %s under %s\n", bl->error, bl->file, c->source ? c->source : ".");
    for (size_t k = 0; k < bl->nlines; k++) {
      const prof_list_line *ln = &bl->lines[k];
      list_value(c, a, sizeof a, ln->flat, r.unit);
      list_value(c, b, sizeof b, ln->cum, r.unit);
      printf("%10s %10s %6lld:%.*s\n", a, b, (long long)ln->line, (int)ln->text_len, ln->text);
    }
  }
  prof_listing_free(&l);
  prof_report_free(&r);
  return TCLI_OK;
}

static int run(cli *c) {
  prof_profile *p[2] = {NULL, NULL};
  prof_report r;
  char err[256];
  int rc = TCLI_USAGE, tripped = 0;
  for (int i = 0; i < c->nfiles; i++)
    if ((p[i] = load(c, c->files[i])) == NULL) goto done;
  if (c->list) {
    rc = print_listing(c, (const prof_profile *const *)p);
    goto done;
  }
  if (prof_report_build(c->nfiles == 2 ? p[0] : NULL, p[c->nfiles - 1], &c->o, &r, err, sizeof err) != 0) {
    tcli_usage_error(c->cmd, "%s", err);
    goto done;
  }
  if (gate_check(c, &r, &tripped) == 0) {
    size_t shown = c->top > 0 && (size_t)c->top < r.nrows ? (size_t)c->top : r.nrows;
    c->color = !c->json && tcli_use_color(stdout);
    if (c->json) print_json(c, &r, shown, tripped);
    else print_text(c, (const prof_profile *const *)p, &r, shown);
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
