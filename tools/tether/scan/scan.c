/* `tether scan`: finds callback registries that can only grow, in Go and C
 * source. This file is the command's front-end: options, then one call of the
 * scan engine (scan_run: files, parsing, type facts, rules), then a baseline
 * filter, the output in the chosen format and the exit status. An input that
 * cannot be read is an error (exit 2) but does not stop the scan. */
#include "scan.h"

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "commands.h"
#include "common/cli.h"

typedef struct cli {
  scan_options o;
  scan_format format;
  scan_severity fail_on;
  int stats;
  const char *baseline, *write_baseline;
  struct { scan_pair *v; size_t n, cap; } pairs;
  struct { const char **v; size_t n, cap; } regnames;
} cli;

/* ---- Options. ---- */

static const char usage[] =
    "usage: tether scan [options] PATH...\n"
    "Finds callback registries that can only grow in Go (.go) and C (.c, .h) source.\n"
    "PATH is a file or a directory (searched recursively; Go's ./... works).\n"
    "\n"
    "  --format text|json|sarif|github  output format (default text; github: workflow\n"
    "                            annotations)\n"
    "  --fail-on note|warning|error  exit 1 when a finding at or above this (default warning)\n"
    "  --enable RULES            run only these rules (comma-separated ids)\n"
    "  --disable RULES           do not run these rules\n"
    "  --include-tests           scan Go _test.go files too\n"
    "  --pair REG:UNREG          add a C register/unregister pair (REG may end in *)\n"
    "  --register-names NAMES    add Go Register-like name patterns for TG103 (* wildcard)\n"
    "  --jobs N                  parse with N threads (default: number of cores)\n"
    "  --max-bytes N             skip files larger than N bytes (default 16 MiB)\n"
    "  --baseline FILE           report only findings that FILE does not hold\n"
    "  --write-baseline FILE     write the findings to FILE as a baseline, exit 0\n"
    "  --no-follow               do not read imported packages of the module for facts\n"
    "  --help, --version\n"
    "\n"
    "Rules: TG101-TG105 (Go), TC201-TC203 (C); suppress one with a comment\n"
    "`//tether:ignore RULE reason` on the line or the line above.\n"
    "Exit status: 0 nothing at or above --fail-on, 1 something, 2 usage or input error.\n";

static int parse_rules(const char *list, uint32_t *mask) {
  char *copy = strdup(list), *save = NULL;
  int ok = copy != NULL;
  for (char *tok = copy ? strtok_r(copy, ",", &save) : NULL; tok; tok = strtok_r(NULL, ",", &save)) {
    int r = scan_rule_by_id(tok);
    if (r < 0) {
      tcli_usage_error("scan", "unknown rule '%s'", tok);
      ok = 0;
      break;
    }
    *mask |= 1u << r;
  }
  free(copy);
  return ok;
}

static int parse_severity(const char *s, scan_severity *out) {
  if (strcmp(s, "note") == 0) *out = SCAN_NOTE;
  else if (strcmp(s, "warning") == 0) *out = SCAN_WARNING;
  else if (strcmp(s, "error") == 0) *out = SCAN_ERROR;
  else return 0;
  return 1;
}

static int add_pair(cli *c, char *arg) {
  char *colon = strchr(arg, ':');
  if (colon == NULL || colon == arg || colon[1] == 0) return 0;
  *colon = 0;
  SCAN_RESERVE(c->pairs);
  c->pairs.v[c->pairs.n++] = (scan_pair){arg, colon + 1};
  return 1;
}

static int add_regnames(cli *c, char *arg) {
  char *save = NULL;
  for (char *tok = strtok_r(arg, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
    SCAN_RESERVE(c->regnames);
    c->regnames.v[c->regnames.n++] = tok;
  }
  return 1;
}

static int parse_number(const char *s, unsigned long long max, unsigned long long *out) {
  char *end = NULL;
  errno = 0;
  unsigned long long v = strtoull(s, &end, 10);
  if (errno || end == s || *end || v == 0 || v > max || s[0] == '-') return 0;
  *out = v;
  return 1;
}

enum { O_FORMAT = 256, O_FAIL_ON, O_ENABLE, O_DISABLE, O_TESTS, O_PAIR, O_JOBS, O_HELP,
       O_VERSION, O_PARSE_ONLY, O_STATS, O_MAX_BYTES, O_REGNAMES, O_BASELINE, O_WRITE_BASELINE,
       O_NO_FOLLOW };

static const struct option long_opts[] = {
    {"format", required_argument, NULL, O_FORMAT},
    {"fail-on", required_argument, NULL, O_FAIL_ON},
    {"enable", required_argument, NULL, O_ENABLE},
    {"disable", required_argument, NULL, O_DISABLE},
    {"include-tests", no_argument, NULL, O_TESTS},
    {"pair", required_argument, NULL, O_PAIR},
    {"jobs", required_argument, NULL, O_JOBS},
    {"help", no_argument, NULL, O_HELP},
    {"version", no_argument, NULL, O_VERSION},
    {"parse-only", no_argument, NULL, O_PARSE_ONLY},
    {"stats", no_argument, NULL, O_STATS},
    {"max-bytes", required_argument, NULL, O_MAX_BYTES},
    {"register-names", required_argument, NULL, O_REGNAMES},
    {"baseline", required_argument, NULL, O_BASELINE},
    {"write-baseline", required_argument, NULL, O_WRITE_BASELINE},
    {"no-follow", no_argument, NULL, O_NO_FOLLOW},
    {NULL, 0, NULL, 0},
};

/* Returns -1 to go on scanning, else the exit status. */
static int parse_options(cli *c, int argc, char **argv) {
  uint32_t enable = 0, disable = 0;
  unsigned long long num;
  int opt;
  optind = 0; /* glibc: a full reinitialisation (options may follow the paths) */
  opterr = 0;
  while ((opt = getopt_long(argc, argv, "j:", long_opts, NULL)) != -1) {
    switch (opt) {
      case O_FORMAT:
        if (strcmp(optarg, "text") == 0) c->format = SCAN_FMT_TEXT;
        else if (strcmp(optarg, "json") == 0) c->format = SCAN_FMT_JSON;
        else if (strcmp(optarg, "sarif") == 0) c->format = SCAN_FMT_SARIF;
        else if (strcmp(optarg, "github") == 0) c->format = SCAN_FMT_GITHUB;
        else return tcli_usage_error("scan", "--format must be text, json, sarif or github");
        break;
      case O_FAIL_ON:
        if (!parse_severity(optarg, &c->fail_on))
          return tcli_usage_error("scan", "--fail-on must be note, warning or error");
        break;
      case O_ENABLE: if (!parse_rules(optarg, &enable)) return TCLI_USAGE; break;
      case O_DISABLE: if (!parse_rules(optarg, &disable)) return TCLI_USAGE; break;
      case O_TESTS: c->o.include_tests = 1; break;
      case O_PAIR:
        if (!add_pair(c, optarg)) return tcli_usage_error("scan", "--pair wants REG:UNREG");
        break;
      case 'j':
      case O_JOBS:
        if (!parse_number(optarg, 256, &num))
          return tcli_usage_error("scan", "--jobs wants a number from 1 to 256");
        c->o.jobs = (unsigned)num;
        break;
      case O_MAX_BYTES:
        if (!parse_number(optarg, 1ull << 31, &num))
          return tcli_usage_error("scan", "--max-bytes wants a number from 1 to 2^31");
        c->o.max_bytes = (size_t)num;
        break;
      case O_REGNAMES: add_regnames(c, optarg); break;
      case O_BASELINE: c->baseline = optarg; break;
      case O_WRITE_BASELINE: c->write_baseline = optarg; break;
      case O_NO_FOLLOW: c->o.no_follow = 1; break;
      case O_HELP: fputs(usage, stdout); return TCLI_OK;
      case O_VERSION: printf("tether %s\n", TETHER_VERSION); return TCLI_OK;
      case O_PARSE_ONLY: c->o.parse_only = 1; break;
      case O_STATS: c->stats = 1; break;
      default:
        return tcli_usage_error("scan", "unknown option '%s' (see tether scan --help)",
                                argv[optind - 1]);
    }
  }
  if (enable) c->o.enabled = enable | (1u << SCAN_TS001) | (1u << SCAN_TS002);
  c->o.enabled &= ~disable;
  if (optind >= argc) return tcli_usage_error("scan", "no PATH given (see tether scan --help)");
  if (c->baseline && c->write_baseline && strcmp(c->baseline, c->write_baseline) == 0)
    return tcli_usage_error("scan", "--baseline and --write-baseline name the same file");
  return -1;
}

/* Extends the default pair and name tables with the user's. */
static void merge_tables(cli *c) {
  size_t np = c->o.npairs + c->pairs.n;
  scan_pair *pairs = scan_grow(NULL, &(size_t){0}, np, sizeof *pairs);
  memcpy(pairs, c->o.pairs, c->o.npairs * sizeof *pairs);
  for (size_t i = 0; i < c->pairs.n; i++) pairs[c->o.npairs + i] = c->pairs.v[i];
  free(c->pairs.v);
  c->pairs.v = pairs;
  c->pairs.n = np;
  c->o.pairs = pairs;
  c->o.npairs = np;
  size_t nr = c->o.nregister_names + c->regnames.n;
  const char **names = scan_grow(NULL, &(size_t){0}, nr, sizeof *names);
  memcpy(names, c->o.register_names, c->o.nregister_names * sizeof *names);
  for (size_t i = 0; i < c->regnames.n; i++) names[c->o.nregister_names + i] = c->regnames.v[i];
  free(c->regnames.v);
  c->regnames.v = names;
  c->regnames.n = nr;
  c->o.register_names = names;
  c->o.nregister_names = nr;
}

/* ---- Running and output. ---- */

/* The progress line, on a terminal, for scans of 1000 files or more. */
static void progress(size_t done, size_t total, void *arg) {
  if (total < 1000) return;
  *(int *)arg = 1;
  fprintf(stderr, "\rtether scan: %zu/%zu files", done, total);
}

static int report(cli *c, scan_result *r) {
  for (size_t i = 0; i < r->nerrors; i++) fprintf(stderr, "tether scan: %s\n", r->errors[i]);
  if (c->o.progress_arg && *(int *)c->o.progress_arg) fputs("\r\033[K", stderr);
  if (c->stats) {
    uint64_t bytes = 0, lines = 0;
    size_t n = 0;
    for (size_t i = 0; i < r->nfiles; i++) {
      if (r->files[i].context_only) continue;
      n++;
      bytes += r->files[i].len;
      lines += r->files[i].lines;
    }
    fprintf(stderr, "tether scan: %zu files, %llu bytes, %llu lines\n", n, (unsigned long long)bytes,
            (unsigned long long)lines);
  }
  if (c->o.parse_only) return r->input_error ? TCLI_USAGE : TCLI_OK;
  if (c->write_baseline) {
    if (scan_baseline_write(c->write_baseline, r->findings, r->nfindings) != 0) {
      fprintf(stderr, "tether scan: %s: %s\n", c->write_baseline, strerror(errno));
      return TCLI_USAGE;
    }
    fprintf(stderr, "tether scan: wrote %zu finding%s to the baseline %s\n", r->nfindings,
            r->nfindings == 1 ? "" : "s", c->write_baseline);
    return r->input_error ? TCLI_USAGE : TCLI_OK;
  }
  size_t n = r->nfindings;
  if (c->baseline) {
    char err[512];
    scan_baseline *b = scan_baseline_read(c->baseline, err, sizeof err);
    if (b == NULL) {
      fprintf(stderr, "tether scan: %s\n", err);
      return TCLI_USAGE;
    }
    n = scan_baseline_filter(b, r->findings, r->nfindings);
    scan_baseline_free(b);
    r->summary.baselined = r->nfindings - n;
    r->summary.with_baseline = 1;
    memset(r->summary.count, 0, sizeof r->summary.count);
    for (size_t i = 0; i < n; i++) r->summary.count[r->findings[i]->severity]++;
  }
  scan_write(stdout, c->format, r->findings, n, &r->summary, tcli_use_color(stdout));
  int found = 0;
  for (int s = c->fail_on; s <= SCAN_ERROR; s++) found |= r->summary.count[s] > 0;
  fflush(stdout);
  if (r->input_error) return TCLI_USAGE;
  return found ? TCLI_FOUND : TCLI_OK;
}

int tether_cmd_scan(int argc, char **argv) {
  cli c;
  memset(&c, 0, sizeof c);
  scan_options_default(&c.o);
  c.fail_on = SCAN_WARNING;
  int rc = parse_options(&c, argc, argv);
  if (rc >= 0) {
    free(c.pairs.v);
    free(c.regnames.v);
    return rc;
  }
  if (scan_languages_check() != 0) return TCLI_USAGE;
  merge_tables(&c);
  int shown = 0;
  if (isatty(2)) {
    c.o.progress = progress;
    c.o.progress_arg = &shown;
  }
  scan_result r;
  if (scan_run((const char *const *)argv + optind, (size_t)(argc - optind), &c.o, &r) != 0) {
    fputs("tether scan: out of memory\n", stderr);
    rc = TCLI_USAGE;
  } else {
    rc = report(&c, &r);
  }
  scan_result_free(&r);
  free(c.pairs.v);
  free(c.regnames.v);
  return rc;
}
