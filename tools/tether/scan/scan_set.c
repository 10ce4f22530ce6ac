/* The scan engine: collecting Go and C files from paths, the parallel parse
 * phase (a pool of jobs threads, each with its own tree-sitter parsers, taking
 * files from a shared counter), and the rules (per Go package, then over all C
 * files, on one thread). tether scan and tether watch --source both run a scan
 * through here. A file that cannot be read is an input error (reported on
 * stderr with the set's prefix) but does not stop the scan; binary and
 * oversized files are skipped with a note. */
#include "scan.h"

#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/cli.h"

#define SCAN_PARSE_TIMEOUT_S 20 /* per file; a pathological input cannot hang the scan */

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
static void load(scan_file *f, size_t max_bytes, const char *who) {
  if (tcli_read_file(f->path, max_bytes, &f->data, &f->len) == 0) return;
  if (errno == EFBIG) {
    scan_add(&f->findings, f, 1, 1, SCAN_TS002, SCAN_NOTE, "scan it with a larger --max-bytes",
             "skipped: larger than %zu bytes", max_bytes);
    return;
  }
  fprintf(stderr, "%s: %s: %s\n", who, f->path, strerror(errno));
  f->failed = 1;
}

/* ---- The worker pool. ---- */

typedef struct pool {
  scan_set *c;
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
    fprintf(stderr, "%s: cannot create a parser\n", p->c->who);
    exit(2);
  }
  double last = now_s();
  size_t n = p->c->in.n;
  for (size_t i; (i = atomic_fetch_add(&p->next, 1)) < n;) {
    scan_file *f = &p->c->in.v[i];
    load(f, p->c->max_bytes, p->c->who);
    if (f->data != NULL) process(f, f->lang == SCAN_LANG_GO ? go : c, &p->c->o);
    size_t d = atomic_fetch_add(&p->done, 1) + 1;
    if (show && now_s() - last > 0.25) {
      last = now_s();
      fprintf(stderr, "\r%s: %zu/%zu files", p->c->who, d, n);
    }
  }
  ts_parser_delete(go);
  ts_parser_delete(c);
}

static void *worker(void *arg) {
  work(arg, 0);
  return NULL;
}

static void run_pool(scan_set *c) {
  pool p;
  p.c = c;
  atomic_init(&p.next, 0);
  atomic_init(&p.done, 0);
  p.progress = c->progress && c->in.n >= 1000 && isatty(2);
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

static void add_file(scan_set *c, const char *path, scan_lang lang) {
  SCAN_RESERVE(c->in);
  scan_file *f = &c->in.v[c->in.n++];
  memset(f, 0, sizeof *f);
  f->path = strdup(path);
  f->lang = lang;
  f->is_test = lang == SCAN_LANG_GO && is_go_test(path);
  if (f->path == NULL) {
    fprintf(stderr, "%s: out of memory\n", c->who);
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

static void walk_dir(scan_set *c, const char *dir, int depth);

static void walk_entry(scan_set *c, const char *dir, const char *name, int depth) {
  char *path = NULL;
  if (asprintf(&path, "%s%s%s", dir, dir[strlen(dir) - 1] == '/' ? "" : "/", name) < 0) return;
  struct stat st;
  scan_lang lang;
  if (lstat(path, &st) != 0) {
    fprintf(stderr, "%s: %s: %s\n", c->who, path, strerror(errno));
    c->input_error = 1;
  } else if (S_ISDIR(st.st_mode)) {
    if (!skip_dir(name)) walk_dir(c, path, depth + 1);
  } else if (S_ISREG(st.st_mode) && lang_of(name, &lang)) {
    if (c->o.include_tests || !is_go_test(name)) add_file(c, path, lang);
  }
  free(path);
}

static void walk_dir(scan_set *c, const char *dir, int depth) {
  if (depth > 64) return;
  DIR *d = opendir(dir);
  if (d == NULL) {
    fprintf(stderr, "%s: %s: %s\n", c->who, dir, strerror(errno));
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

void scan_set_add_path(scan_set *c, const char *arg) {
  char *path = strdup(arg);
  size_t n = strlen(path);
  if (n >= 4 && strcmp(path + n - 4, "/...") == 0) path[n - 4] = 0; /* Go's ./... */
  else if (strcmp(path, "...") == 0) strcpy(path, ".");
  if (path[0] == 0) strcpy(path, "/");
  struct stat st;
  scan_lang lang;
  if (stat(path, &st) != 0) {
    fprintf(stderr, "%s: %s: %s\n", c->who, path, strerror(errno));
    c->input_error = 1;
  } else if (S_ISDIR(st.st_mode)) {
    walk_dir(c, path, 0);
  } else if (lang_of(path, &lang)) {
    add_file(c, path, lang);
  } else {
    fprintf(stderr, "%s: %s: not a Go (.go) or C (.c, .h) file\n", c->who, path);
    c->input_error = 1;
  }
  free(path);
}


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

static void run_rules(scan_set *c) {
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

void scan_set_init(scan_set *c, const char *who) {
  memset(c, 0, sizeof *c);
  scan_options_default(&c->o);
  long cores = sysconf(_SC_NPROCESSORS_ONLN);
  c->o.jobs = cores > 0 ? (unsigned)cores : 1;
  c->max_bytes = SCAN_DEFAULT_MAX_BYTES;
  c->who = who;
}

void scan_set_run(scan_set *c) {
  run_pool(c);
  if (!c->o.parse_only) run_rules(c);
  for (size_t i = 0; i < c->in.n; i++)
    if (c->in.v[i].failed) c->input_error = 1;
}

void scan_set_free(scan_set *c) {
  for (size_t i = 0; i < c->in.n; i++) scan_file_free(&c->in.v[i]);
  free(c->in.v);
  memset(c, 0, sizeof *c);
}
