/* `tether scan`: finds callback registries that can only grow, in Go and C
 * source. This file is the command: options, collecting the input files, the
 * parallel parse phase (a pool of --jobs threads, each with its own tree-sitter
 * parsers, taking files from a shared counter), then the per-package Go rules and
 * the whole-tree C rules on one thread, then sorted output and the exit status.
 * A file that cannot be read is an error (exit 2) but does not stop the scan;
 * binary and oversized files are skipped with a note. */
#include "scan.h"

#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "commands.h"
#include "common/cli.h"

#define SCAN_DEFAULT_MAX_BYTES (16u << 20)
#define SCAN_PARSE_TIMEOUT_S 20 /* per file; a pathological input cannot hang the scan */

typedef struct files {
  scan_file *v;
  size_t n, cap;
} files;

typedef struct cli {
  scan_options o;
  scan_format format;
  scan_severity fail_on;
  size_t max_bytes;
  int stats;
  int input_error;
  files in;
  struct { scan_pair *v; size_t n, cap; } pairs;
  struct { const char **v; size_t n, cap; } regnames;
} cli;

/* ---- Processing one file. ---- */

static int has_error_at(TSNode root, TSPoint *where) {
  if (!ts_node_has_error(root)) return 0;
  TSTreeCursor c = ts_tree_cursor_new(root);
  *where = ts_node_start_point(root);
  for (int steps = 0; steps < 100000; steps++) {
    TSNode n = ts_tree_cursor_current_node(&c);
    if (strcmp(ts_node_type(n), "ERROR") == 0 || ts_node_is_missing(n)) {
      *where = ts_node_start_point(n);
      break;
    }
    /* Descend into the first child that contains an error. */
    if (!ts_tree_cursor_goto_first_child(&c)) break;
    while (!ts_node_has_error(ts_tree_cursor_current_node(&c)))
      if (!ts_tree_cursor_goto_next_sibling(&c)) goto out;
  }
out:
  ts_tree_cursor_delete(&c);
  return 1;
}

static int is_binary(const unsigned char *data, size_t len) {
  return memchr(data, 0, len) != NULL;
}

static uint64_t count_lines(const unsigned char *p, size_t len) {
  uint64_t n = 0;
  const unsigned char *end = p + len;
  while (p < end && (p = memchr(p, '\n', (size_t)(end - p))) != NULL) {
    n++;
    p++;
  }
  return n + (len > 0 && p == NULL ? 1 : 0);
}

/* Parses F's buffer with the parser for its language and extracts its facts. */
static void process(scan_file *f, TSParser *parser, const scan_options *o) {
  if (is_binary(f->data, f->len)) {
    scan_add(&f->findings, f, 1, 1, SCAN_TS002, SCAN_NOTE, "pass text source files only",
             "skipped: binary file (it contains NUL bytes)");
    f->findings.v[f->findings.n - 1].source = (scan_str){"", 0};
    return;
  }
  f->lines = count_lines(f->data, f->len);
  ts_parser_set_timeout_micros(parser, SCAN_PARSE_TIMEOUT_S * 1000000ull);
  TSTree *tree = ts_parser_parse_string(parser, NULL, (const char *)f->data, (uint32_t)f->len);
  if (tree == NULL) { /* timed out: the parser must be reset before its next use */
    ts_parser_reset(parser);
    scan_add(&f->findings, f, 1, 1, SCAN_TS002, SCAN_NOTE, "split the file, or scan it alone",
             "skipped: parsing took longer than %d seconds", SCAN_PARSE_TIMEOUT_S);
    return;
  }
  TSNode root = ts_tree_root_node(tree);
  TSPoint at;
  if (!o->parse_only && has_error_at(root, &at) && scan_rule_enabled(o, SCAN_TS001))
    scan_add(&f->findings, f, at.row + 1, at.column + 1, SCAN_TS001, SCAN_NOTE,
             "the rules still ran on what parsed; check the syntax near here",
             "the file does not parse cleanly here; findings nearby may be missing");
  if (!o->parse_only) {
    if (f->lang == SCAN_LANG_GO) scan_go_extract(f, tree);
    else scan_c_extract(f, tree, o);
  }
  ts_tree_delete(tree);
}

void scan_buffer(scan_file *file, const scan_options *o) {
  TSParser *p = ts_parser_new();
  if (p == NULL) return;
  if (ts_parser_set_language(p, file->lang == SCAN_LANG_GO ? scan_lang_go() : scan_lang_c())) {
    process(file, p, o);
    if (file->lang == SCAN_LANG_GO) {
      scan_file *one = file;
      if (!o->parse_only) scan_go_package(&one, 1, o);
    } else if (!o->parse_only) {
      scan_file *one = file;
      scan_c_rules(&one, 1, o);
    }
  }
  ts_parser_delete(p);
}

void scan_file_free(scan_file *f) {
  scan_findings_free(&f->findings);
  scan_go_facts_free(f->go);
  scan_c_facts_free(f->c);
  free(f->ignores);
  free(f->data);
  free(f->path);
  memset(f, 0, sizeof *f);
}

/* Reads F; a read failure is an input error, a size or binary problem a note. */
static void load(scan_file *f, size_t max_bytes) {
  if (tcli_read_file(f->path, max_bytes, &f->data, &f->len) == 0) return;
  if (errno == EFBIG) {
    scan_add(&f->findings, f, 1, 1, SCAN_TS002, SCAN_NOTE, "scan it with a larger --max-bytes",
             "skipped: larger than %zu bytes", max_bytes);
    return;
  }
  fprintf(stderr, "tether scan: %s: %s\n", f->path, strerror(errno));
  f->failed = 1;
}

/* ---- The worker pool. ---- */

typedef struct pool {
  cli *c;
  atomic_size_t next, done;
  int progress;
} pool;

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Takes files until none is left; SHOW: this thread prints the progress line. */
static void work(pool *p, int show) {
  TSParser *go = ts_parser_new(), *c = ts_parser_new();
  if (go == NULL || c == NULL || !ts_parser_set_language(go, scan_lang_go()) ||
      !ts_parser_set_language(c, scan_lang_c())) {
    fputs("tether scan: cannot create a parser\n", stderr);
    exit(2);
  }
  double last = now_s();
  size_t n = p->c->in.n;
  for (size_t i; (i = atomic_fetch_add(&p->next, 1)) < n;) {
    scan_file *f = &p->c->in.v[i];
    load(f, p->c->max_bytes);
    if (f->data != NULL) process(f, f->lang == SCAN_LANG_GO ? go : c, &p->c->o);
    size_t d = atomic_fetch_add(&p->done, 1) + 1;
    if (show && now_s() - last > 0.25) {
      last = now_s();
      fprintf(stderr, "\rtether scan: %zu/%zu files", d, n);
    }
  }
  ts_parser_delete(go);
  ts_parser_delete(c);
}

static void *worker(void *arg) {
  work(arg, 0);
  return NULL;
}

static void run_pool(cli *c) {
  pool p;
  p.c = c;
  atomic_init(&p.next, 0);
  atomic_init(&p.done, 0);
  p.progress = c->in.n >= 1000 && isatty(2);
  unsigned jobs = c->o.jobs;
  if (jobs > c->in.n) jobs = c->in.n ? (unsigned)c->in.n : 1;
  pthread_t *t = calloc(jobs, sizeof *t);
  unsigned started = 0;
  for (unsigned i = 1; t && i < jobs; i++)
    if (pthread_create(&t[i], NULL, worker, &p) == 0) started = i;
    else break;
  /* The calling thread works too, and prints the progress line. */
  work(&p, p.progress);
  for (unsigned i = 1; i <= started; i++) pthread_join(t[i], NULL);
  free(t);
  if (p.progress) fputs("\r\033[K", stderr);
}

/* ---- Collecting files. ---- */

static int lang_of(const char *path, scan_lang *lang) {
  const char *dot = strrchr(path, '.');
  if (dot == NULL || strchr(dot, '/') != NULL) return 0;
  if (strcmp(dot, ".go") == 0) *lang = SCAN_LANG_GO;
  else if (strcmp(dot, ".c") == 0 || strcmp(dot, ".h") == 0) *lang = SCAN_LANG_C;
  else return 0;
  return 1;
}

static int is_go_test(const char *path) {
  size_t n = strlen(path);
  return n >= 8 && strcmp(path + n - 8, "_test.go") == 0;
}

static void add_file(cli *c, const char *path, scan_lang lang) {
  SCAN_RESERVE(c->in);
  scan_file *f = &c->in.v[c->in.n++];
  memset(f, 0, sizeof *f);
  f->path = strdup(path);
  f->lang = lang;
  f->is_test = lang == SCAN_LANG_GO && is_go_test(path);
  if (f->path == NULL) {
    fputs("tether scan: out of memory\n", stderr);
    exit(2);
  }
}

static int skip_dir(const char *name) {
  return strcmp(name, ".git") == 0 || strcmp(name, "vendor") == 0 ||
         strcmp(name, "node_modules") == 0 || strcmp(name, "testdata") == 0;
}

static int by_name(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

static void walk_dir(cli *c, const char *dir, int depth);

static void walk_entry(cli *c, const char *dir, const char *name, int depth) {
  char *path = NULL;
  if (asprintf(&path, "%s%s%s", dir, dir[strlen(dir) - 1] == '/' ? "" : "/", name) < 0) return;
  struct stat st;
  scan_lang lang;
  if (lstat(path, &st) != 0) {
    fprintf(stderr, "tether scan: %s: %s\n", path, strerror(errno));
    c->input_error = 1;
  } else if (S_ISDIR(st.st_mode)) {
    if (!skip_dir(name)) walk_dir(c, path, depth + 1);
  } else if (S_ISREG(st.st_mode) && lang_of(name, &lang)) {
    if (c->o.include_tests || !is_go_test(name)) add_file(c, path, lang);
  }
  free(path);
}

static void walk_dir(cli *c, const char *dir, int depth) {
  if (depth > 64) return;
  DIR *d = opendir(dir);
  if (d == NULL) {
    fprintf(stderr, "tether scan: %s: %s\n", dir, strerror(errno));
    c->input_error = 1;
    return;
  }
  struct { char **v; size_t n, cap; } names = {NULL, 0, 0};
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
    SCAN_RESERVE(names);
    names.v[names.n++] = strdup(e->d_name);
  }
  closedir(d);
  if (names.n > 1) qsort(names.v, names.n, sizeof *names.v, by_name);
  for (size_t i = 0; i < names.n; i++) {
    if (names.v[i]) walk_entry(c, dir, names.v[i], depth);
    free(names.v[i]);
  }
  free(names.v);
}

static void add_path(cli *c, const char *arg) {
  char *path = strdup(arg);
  size_t n = strlen(path);
  if (n >= 4 && strcmp(path + n - 4, "/...") == 0) path[n - 4] = 0; /* Go's ./... */
  else if (strcmp(path, "...") == 0) strcpy(path, ".");
  if (path[0] == 0) strcpy(path, "/");
  struct stat st;
  scan_lang lang;
  if (stat(path, &st) != 0) {
    fprintf(stderr, "tether scan: %s: %s\n", path, strerror(errno));
    c->input_error = 1;
  } else if (S_ISDIR(st.st_mode)) {
    walk_dir(c, path, 0);
  } else if (lang_of(path, &lang)) {
    add_file(c, path, lang);
  } else {
    fprintf(stderr, "tether scan: %s: not a Go (.go) or C (.c, .h) file\n", path);
    c->input_error = 1;
  }
  free(path);
}

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
        c->max_bytes = (size_t)num;
        break;
      case O_REGNAMES: add_regnames(c, optarg); break;
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

/* ---- Rules and output. ---- */

static size_t dir_len(const char *path) {
  const char *slash = strrchr(path, '/');
  return slash ? (size_t)(slash - path) : 0;
}

/* Go packages: same directory and same package clause. */
static int by_package(const void *a, const void *b) {
  const scan_file *x = *(scan_file *const *)a, *y = *(scan_file *const *)b;
  size_t dx = dir_len(x->path), dy = dir_len(y->path);
  int r = memcmp(x->path, y->path, dx < dy ? dx : dy);
  if (r == 0 && dx != dy) r = dx < dy ? -1 : 1;
  size_t pn = x->pkg.n < y->pkg.n ? x->pkg.n : y->pkg.n; /* a file may lack a package clause */
  if (r == 0 && pn > 0) r = memcmp(x->pkg.s, y->pkg.s, pn);
  if (r == 0 && x->pkg.n != y->pkg.n) r = x->pkg.n < y->pkg.n ? -1 : 1;
  return r ? r : strcmp(x->path, y->path);
}

static int same_package(const scan_file *x, const scan_file *y) {
  size_t d = dir_len(x->path);
  return d == dir_len(y->path) && memcmp(x->path, y->path, d) == 0 && scan_str_same(x->pkg, y->pkg);
}

static void run_rules(cli *c) {
  scan_file **go = calloc(c->in.n + 1, sizeof *go), **cf = calloc(c->in.n + 1, sizeof *cf);
  size_t ngo = 0, nc = 0;
  for (size_t i = 0; go && cf && i < c->in.n; i++) {
    scan_file *f = &c->in.v[i];
    if (f->go) go[ngo++] = f;
    if (f->c) cf[nc++] = f;
  }
  if (go && cf) {
    qsort(go, ngo, sizeof *go, by_package);
    for (size_t i = 0; i < ngo;) {
      size_t j = i + 1;
      while (j < ngo && same_package(go[i], go[j])) j++;
      scan_go_package(go + i, j - i, &c->o);
      i = j;
    }
    scan_c_rules(cf, nc, &c->o);
  }
  free(go);
  free(cf);
}

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
  for (size_t i = 0; i < c->in.n; i++) total += c->in.v[i].findings.n;
  scan_finding **v = calloc(total + 1, sizeof *v);
  if (v == NULL) return TCLI_USAGE;
  size_t n = 0;
  uint64_t bytes = 0, lines = 0;
  for (size_t i = 0; i < c->in.n; i++) {
    scan_file *f = &c->in.v[i];
    int skipped = f->data == NULL || f->failed;
    if (f->failed) c->input_error = 1;
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
  if (!c->o.parse_only) scan_write(stdout, c->format, v, n, &sum, tcli_use_color(stdout));
  if (c->stats)
    fprintf(stderr, "tether scan: %zu files, %llu bytes, %llu lines\n", c->in.n,
            (unsigned long long)bytes, (unsigned long long)lines);
  int found = 0;
  for (int s = c->fail_on; s <= SCAN_ERROR; s++) found |= sum.count[s] > 0;
  free(v);
  fflush(stdout);
  if (c->input_error) return TCLI_USAGE;
  return found ? TCLI_FOUND : TCLI_OK;
}

static void cli_free(cli *c) {
  for (size_t i = 0; i < c->in.n; i++) scan_file_free(&c->in.v[i]);
  free(c->in.v);
  free(c->pairs.v);
  free(c->regnames.v);
}

int tether_cmd_scan(int argc, char **argv) {
  cli c;
  memset(&c, 0, sizeof c);
  scan_options_default(&c.o);
  long cores = sysconf(_SC_NPROCESSORS_ONLN);
  c.o.jobs = cores > 0 ? (unsigned)cores : 1;
  c.fail_on = SCAN_WARNING;
  c.max_bytes = SCAN_DEFAULT_MAX_BYTES;
  int rc = parse_options(&c, argc, argv);
  if (rc >= 0) {
    free(c.pairs.v);
    free(c.regnames.v);
    return rc;
  }
  if (scan_languages_check() != 0) return TCLI_USAGE;
  merge_tables(&c);
  for (int i = optind; i < argc; i++) add_path(&c, argv[i]);
  run_pool(&c);
  if (!c.o.parse_only) run_rules(&c);
  rc = report(&c);
  cli_free(&c);
  return rc;
}
