/* `tether scan`: finds callback registries that can only grow, in Go and C
 * source. This file is the command: options, then a scan through the engine
 * (scan_set.c: collecting the files, the parallel parse, the rules), then the
 * sorted output and the exit status. A file that cannot be read is an error
 * (exit 2) but does not stop the scan. */
#include "scan.h"

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "common/cli.h"

typedef struct cli {
  scan_set set; /* its options are the scan's */
  scan_format format;
  scan_severity fail_on;
  int stats;
  struct { scan_pair *v; size_t n, cap; } pairs;
  struct { const char **v; size_t n, cap; } regnames;
} cli;

/* ---- Options. ---- */

static const char usage[] =
    "usage: tether scan [options] PATH...\n"
    "Finds callback registries that can only grow in Go (.go) and C (.c, .h) source.\n"
    "PATH is a file or a directory (searched recursively; Go's ./... works).\n"
    "\n"
    "  --format text|json|sarif  output format (default text)\n"
    "  --fail-on note|warning|error  exit 1 when a finding at or above this (default warning)\n"
    "  --enable RULES            run only these rules (comma-separated ids)\n"
    "  --disable RULES           do not run these rules\n"
    "  --include-tests           scan Go _test.go files too\n"
    "  --pair REG:UNREG          add a C register/unregister pair (REG may end in *)\n"
    "  --register-names NAMES    add Go Register-like name patterns for TG103 (* wildcard)\n"
    "  --jobs N                  parse with N threads (default: number of cores)\n"
    "  --max-bytes N             skip files larger than N bytes (default 16 MiB)\n"
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
       O_VERSION, O_PARSE_ONLY, O_STATS, O_MAX_BYTES, O_REGNAMES };

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
        else return tcli_usage_error("scan", "--format must be text, json or sarif");
        break;
      case O_FAIL_ON:
        if (!parse_severity(optarg, &c->fail_on))
          return tcli_usage_error("scan", "--fail-on must be note, warning or error");
        break;
      case O_ENABLE: if (!parse_rules(optarg, &enable)) return TCLI_USAGE; break;
      case O_DISABLE: if (!parse_rules(optarg, &disable)) return TCLI_USAGE; break;
      case O_TESTS: c->set.o.include_tests = 1; break;
      case O_PAIR:
        if (!add_pair(c, optarg)) return tcli_usage_error("scan", "--pair wants REG:UNREG");
        break;
      case 'j':
      case O_JOBS:
        if (!parse_number(optarg, 256, &num))
          return tcli_usage_error("scan", "--jobs wants a number from 1 to 256");
        c->set.o.jobs = (unsigned)num;
        break;
      case O_MAX_BYTES:
        if (!parse_number(optarg, 1ull << 31, &num))
          return tcli_usage_error("scan", "--max-bytes wants a number from 1 to 2^31");
        c->set.max_bytes = (size_t)num;
        break;
      case O_REGNAMES: add_regnames(c, optarg); break;
      case O_HELP: fputs(usage, stdout); return TCLI_OK;
      case O_VERSION: printf("tether %s\n", TETHER_VERSION); return TCLI_OK;
      case O_PARSE_ONLY: c->set.o.parse_only = 1; break;
      case O_STATS: c->stats = 1; break;
      default:
        return tcli_usage_error("scan", "unknown option '%s' (see tether scan --help)",
                                argv[optind - 1]);
    }
  }
  if (enable) c->set.o.enabled = enable | (1u << SCAN_TS001) | (1u << SCAN_TS002);
  c->set.o.enabled &= ~disable;
  if (optind >= argc) return tcli_usage_error("scan", "no PATH given (see tether scan --help)");
  return -1;
}

/* Extends the default pair and name tables with the user's. */
static void merge_tables(cli *c) {
  size_t np = c->set.o.npairs + c->pairs.n;
  scan_pair *pairs = scan_grow(NULL, &(size_t){0}, np, sizeof *pairs);
  memcpy(pairs, c->set.o.pairs, c->set.o.npairs * sizeof *pairs);
  for (size_t i = 0; i < c->pairs.n; i++) pairs[c->set.o.npairs + i] = c->pairs.v[i];
  free(c->pairs.v);
  c->pairs.v = pairs;
  c->pairs.n = np;
  c->set.o.pairs = pairs;
  c->set.o.npairs = np;
  size_t nr = c->set.o.nregister_names + c->regnames.n;
  const char **names = scan_grow(NULL, &(size_t){0}, nr, sizeof *names);
  memcpy(names, c->set.o.register_names, c->set.o.nregister_names * sizeof *names);
  for (size_t i = 0; i < c->regnames.n; i++) names[c->set.o.nregister_names + i] = c->regnames.v[i];
  free(c->regnames.v);
  c->regnames.v = names;
  c->regnames.n = nr;
  c->set.o.register_names = names;
  c->set.o.nregister_names = nr;
}

/* ---- Rules and output. ---- */

static int by_location(const void *a, const void *b) {
  const scan_finding *x = *(scan_finding *const *)a, *y = *(scan_finding *const *)b;
  int r = strcmp(x->file, y->file);
  if (r) return r;
  if (x->line != y->line) return x->line < y->line ? -1 : 1;
  if (x->col != y->col) return x->col < y->col ? -1 : 1;
  return (int)x->rule - (int)y->rule;
}

static int report(cli *c) {
  scan_summary sum;
  memset(&sum, 0, sizeof sum);
  size_t total = 0;
  for (size_t i = 0; i < c->set.in.n; i++) total += c->set.in.v[i].findings.n;
  scan_finding **v = calloc(total + 1, sizeof *v);
  if (v == NULL) return TCLI_USAGE;
  size_t n = 0;
  uint64_t bytes = 0, lines = 0;
  for (size_t i = 0; i < c->set.in.n; i++) {
    scan_file *f = &c->set.in.v[i];
    int skipped = f->data == NULL || f->failed;
    if (f->failed) c->set.input_error = 1;
    for (size_t k = 0; k < f->findings.n; k++) {
      v[n++] = &f->findings.v[k];
      if (f->findings.v[k].rule == SCAN_TS002) skipped = 1;
      sum.count[f->findings.v[k].severity]++;
    }
    if (skipped) sum.skipped++;
    else sum.files++;
    bytes += f->len;
    lines += f->lines;
  }
  qsort(v, n, sizeof *v, by_location);
  if (!c->set.o.parse_only) scan_write(stdout, c->format, v, n, &sum, tcli_use_color(stdout));
  if (c->stats)
    fprintf(stderr, "tether scan: %zu files, %llu bytes, %llu lines\n", c->set.in.n,
            (unsigned long long)bytes, (unsigned long long)lines);
  int found = 0;
  for (int s = c->fail_on; s <= SCAN_ERROR; s++) found |= sum.count[s] > 0;
  free(v);
  fflush(stdout);
  if (c->set.input_error) return TCLI_USAGE;
  return found ? TCLI_FOUND : TCLI_OK;
}

static void cli_free(cli *c) {
  scan_set_free(&c->set);
  free(c->pairs.v);
  free(c->regnames.v);
}

int tether_cmd_scan(int argc, char **argv) {
  cli c;
  memset(&c, 0, sizeof c);
  scan_set_init(&c.set, "tether scan");
  c.set.progress = 1;
  c.fail_on = SCAN_WARNING;
  int rc = parse_options(&c, argc, argv);
  if (rc >= 0) {
    free(c.pairs.v);
    free(c.regnames.v);
    return rc;
  }
  if (scan_languages_check() != 0) return TCLI_USAGE;
  merge_tables(&c);
  for (int i = optind; i < argc; i++) scan_set_add_path(&c.set, argv[i]);
  scan_set_run(&c.set);
  rc = report(&c);
  cli_free(&c);
  return rc;
}
