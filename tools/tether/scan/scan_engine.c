/* The whole-scan engine of `tether scan`, what every front-end calls (the scan
 * command, the go vet protocol, watch): collect the input files, parse them on
 * a pool of threads (each with its own tree-sitter parsers, taking files from a
 * shared counter) and extract their facts, find each Go file's module (go.mod)
 * and import path, read the module packages that scanned code imports for their
 * facts (context-only files, never reported), then run the Go rules across all
 * packages and the C rules across all C files on one thread, and sort the
 * findings. A file that cannot be read is recorded as an error in the result
 * and the rest is still scanned; binary and oversized files are skipped with a
 * note. Nothing here prints. */
#include "scan.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/cli.h"

#define SCAN_DEFAULT_MAX_BYTES (16u << 20)
#define SCAN_PARSE_TIMEOUT_S 20 /* per file; a pathological input cannot hang the scan */
#define FOLLOW_MAX_FILES 50000  /* at most this many files read for their facts only */

typedef struct module {
  char *root; /* absolute directory holding go.mod */
  char *path; /* its module path */
} module;

typedef struct dir_mod {
  char *dir;   /* a directory as the paths spell it */
  char *abs;   /* its absolute path */
  long module; /* index into mods, -1 when no go.mod above it */
} dir_mod;

typedef struct run {
  scan_options o;
  struct {
    scan_file *v;
    size_t n, cap;
  } in;
  struct {
    int *v;
    size_t n, cap;
  } err; /* per file: errno of a failed read, 0 */
  struct {
    char **v;
    size_t n, cap;
  } errors;
  struct {
    module *v;
    size_t n, cap;
  } mods;
  struct {
    dir_mod *v;
    size_t n, cap;
  } dirs;
  int input_error;
} run;

__attribute__((format(printf, 2, 3))) static void add_error(run *r, const char *fmt, ...) {
  char *s = NULL;
  va_list ap;
  va_start(ap, fmt);
  if (vasprintf(&s, fmt, ap) < 0) s = NULL;
  va_end(ap);
  r->input_error = 1;
  if (s == NULL) return;
  SCAN_RESERVE(r->errors);
  r->errors.v[r->errors.n++] = s;
}

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
  if (memchr(f->data, 0, f->len) != NULL) {
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
    if (f->lang == SCAN_LANG_GO)
      scan_go_extract(f, tree);
    else
      scan_c_extract(f, tree, o);
  }
  ts_tree_delete(tree);
}

void scan_buffer(scan_file *file, const scan_options *o) {
  TSParser *p = ts_parser_new();
  if (p == NULL) return;
  if (ts_parser_set_language(p, file->lang == SCAN_LANG_GO ? scan_lang_go() : scan_lang_c())) {
    process(file, p, o);
    scan_file *one = file;
    if (!o->parse_only && file->lang == SCAN_LANG_GO && file->go)
      scan_go_package(&one, 1, o);
    else if (!o->parse_only && file->lang == SCAN_LANG_C)
      scan_c_rules(&one, 1, o);
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
  free(f->import_path);
  memset(f, 0, sizeof *f);
}

/* Reads F; a read failure is an input error, a size or binary problem a note. */
static int load(scan_file *f, size_t max_bytes) {
  if (tcli_read_file(f->path, max_bytes, &f->data, &f->len) == 0) return 0;
  if (errno == EFBIG) {
    scan_add(&f->findings, f, 1, 1, SCAN_TS002, SCAN_NOTE, "scan it with a larger --max-bytes",
             "skipped: larger than %zu bytes", max_bytes);
    return 0;
  }
  f->failed = 1;
  return errno ? errno : EIO;
}

/* ---- The worker pool. ---- */

typedef struct pool {
  run *r;
  size_t from, to;
  atomic_size_t next, done;
} pool;

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Takes files until none is left; SHOW: this thread reports progress. */
static void work(pool *p, int show) {
  TSParser *go = ts_parser_new(), *c = ts_parser_new();
  int ok = go != NULL && c != NULL && ts_parser_set_language(go, scan_lang_go()) &&
           ts_parser_set_language(c, scan_lang_c());
  double last = now_s();
  const scan_options *o = &p->r->o;
  for (size_t i; ok && (i = p->from + atomic_fetch_add(&p->next, 1)) < p->to;) {
    scan_file *f = &p->r->in.v[i];
    p->r->err.v[i] = load(f, o->max_bytes);
    if (f->data != NULL) process(f, f->lang == SCAN_LANG_GO ? go : c, o);
    size_t d = atomic_fetch_add(&p->done, 1) + 1;
    if (show && o->progress && now_s() - last > 0.25) {
      last = now_s();
      o->progress(d, p->to - p->from, o->progress_arg);
    }
  }
  if (go) ts_parser_delete(go);
  if (c) ts_parser_delete(c);
}

static void *worker(void *arg) {
  work(arg, 0);
  return NULL;
}

/* Parses files [FROM, TO) of R. */
static void run_pool(run *r, size_t from, size_t to) {
  pool p;
  p.r = r;
  p.from = from;
  p.to = to;
  atomic_init(&p.next, 0);
  atomic_init(&p.done, 0);
  r->err.v = scan_grow(r->err.v, &r->err.cap, r->in.n + 1, sizeof *r->err.v);
  for (size_t i = r->err.n; i < r->in.n; i++) r->err.v[i] = 0;
  r->err.n = r->in.n;
  unsigned jobs = r->o.jobs ? r->o.jobs : 1;
  if (jobs > to - from) jobs = to > from ? (unsigned)(to - from) : 1;
  pthread_t *t = calloc(jobs, sizeof *t);
  unsigned started = 0;
  for (unsigned i = 1; t && i < jobs; i++)
    if (pthread_create(&t[i], NULL, worker, &p) == 0)
      started = i;
    else
      break;
  work(&p, 1); /* the calling thread works too, and reports progress */
  for (unsigned i = 1; i <= started; i++) pthread_join(t[i], NULL);
  free(t);
  for (size_t i = from; i < to; i++)
    if (r->err.v[i] && !r->in.v[i].context_only)
      add_error(r, "%s: %s", r->in.v[i].path, strerror(r->err.v[i]));
}

/* ---- Collecting files. ---- */

static int lang_of(const char *path, scan_lang *lang) {
  const char *dot = strrchr(path, '.');
  if (dot == NULL || strchr(dot, '/') != NULL) return 0;
  if (strcmp(dot, ".go") == 0)
    *lang = SCAN_LANG_GO;
  else if (strcmp(dot, ".c") == 0 || strcmp(dot, ".h") == 0)
    *lang = SCAN_LANG_C;
  else
    return 0;
  return 1;
}

static int is_go_test(const char *path) {
  size_t n = strlen(path);
  return n >= 8 && strcmp(path + n - 8, "_test.go") == 0;
}

static scan_file *add_file(run *r, const char *path, scan_lang lang) {
  SCAN_RESERVE(r->in);
  scan_file *f = &r->in.v[r->in.n++];
  memset(f, 0, sizeof *f);
  f->path = strdup(path);
  f->lang = lang;
  f->is_test = lang == SCAN_LANG_GO && is_go_test(path);
  if (f->path == NULL) {
    fputs("tether scan: out of memory\n", stderr);
    exit(2);
  }
  return f;
}

static int skip_dir(const char *name) {
  return strcmp(name, ".git") == 0 || strcmp(name, "vendor") == 0 ||
         strcmp(name, "node_modules") == 0 || strcmp(name, "testdata") == 0;
}

static int by_name(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

static void walk_dir(run *r, const char *dir, int depth);

static void walk_entry(run *r, const char *dir, const char *name, int depth) {
  char *path = NULL;
  if (asprintf(&path, "%s%s%s", dir, dir[strlen(dir) - 1] == '/' ? "" : "/", name) < 0) return;
  struct stat st;
  scan_lang lang;
  if (lstat(path, &st) != 0) {
    add_error(r, "%s: %s", path, strerror(errno));
  } else if (S_ISDIR(st.st_mode)) {
    if (!skip_dir(name)) walk_dir(r, path, depth + 1);
  } else if (S_ISREG(st.st_mode) && lang_of(name, &lang)) {
    if (r->o.include_tests || !is_go_test(name)) add_file(r, path, lang);
  }
  free(path);
}

/* The sorted names in DIR (without . and ..); NULL with errno set on failure. */
static char **dir_names(const char *dir, size_t *n) {
  DIR *d = opendir(dir);
  *n = 0;
  if (d == NULL) return NULL;
  struct {
    char **v;
    size_t n, cap;
  } names = {NULL, 0, 0};
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
    char *s = strdup(e->d_name);
    if (s == NULL) continue;
    SCAN_RESERVE(names);
    names.v[names.n++] = s;
  }
  closedir(d);
  if (names.n > 1) qsort(names.v, names.n, sizeof *names.v, by_name);
  SCAN_RESERVE(names);
  *n = names.n;
  return names.v;
}

static void walk_dir(run *r, const char *dir, int depth) {
  if (depth > 64) return;
  size_t n;
  char **names = dir_names(dir, &n);
  if (names == NULL) {
    add_error(r, "%s: %s", dir, strerror(errno));
    return;
  }
  for (size_t i = 0; i < n; i++) {
    walk_entry(r, dir, names[i], depth);
    free(names[i]);
  }
  free(names);
}

static void add_path(run *r, const char *arg) {
  char *path = strdup(arg);
  if (path == NULL) return;
  size_t n = strlen(path);
  if (n >= 4 && strcmp(path + n - 4, "/...") == 0)
    path[n - 4] = 0; /* Go's ./... */
  else if (strcmp(path, "...") == 0)
    strcpy(path, ".");
  if (path[0] == 0) {
    free(path);
    path = strdup("/");
    if (path == NULL) return;
  }
  struct stat st;
  scan_lang lang;
  if (stat(path, &st) != 0) {
    add_error(r, "%s: %s", path, strerror(errno));
  } else if (S_ISDIR(st.st_mode)) {
    walk_dir(r, path, 0);
  } else if (lang_of(path, &lang)) {
    add_file(r, path, lang);
  } else {
    add_error(r, "%s: not a Go (.go) or C (.c, .h) file", path);
  }
  free(path);
}

/* ---- Go modules. ---- */

/* The module path a go.mod declares, or NULL. */
static char *read_module_path(const char *gomod) {
  unsigned char *data = NULL;
  size_t len = 0;
  if (tcli_read_file(gomod, 1u << 20, &data, &len) != 0) return NULL;
  char *out = NULL;
  for (char *line = (char *)data; line && *line && out == NULL;) {
    char *nl = strchr(line, '\n');
    if (nl) *nl = 0;
    while (*line == ' ' || *line == '\t') line++;
    if (strncmp(line, "module", 6) == 0 && (line[6] == ' ' || line[6] == '\t')) {
      char *p = line + 6;
      while (*p == ' ' || *p == '\t') p++;
      char *end = p;
      if (*p == '"' || *p == '`') {
        char q = *p++;
        end = strchr(p, q);
      } else {
        while (*end && *end != ' ' && *end != '\t' && *end != '\r' && strncmp(end, "//", 2) != 0)
          end++;
      }
      if (end && end > p) out = strndup(p, (size_t)(end - p));
    }
    line = nl ? nl + 1 : NULL;
  }
  free(data);
  return out;
}

/* The module of absolute directory ABS (the nearest go.mod at or above it). */
static long find_module(run *r, const char *abs) {
  char *dir = strdup(abs);
  long found = -1;
  while (dir != NULL && found < 0) {
    for (size_t i = 0; i < r->mods.n && found < 0; i++)
      if (strcmp(r->mods.v[i].root, dir) == 0) found = (long)i;
    if (found >= 0) break;
    char *gomod = NULL;
    if (asprintf(&gomod, "%s/go.mod", strcmp(dir, "/") == 0 ? "" : dir) < 0) break;
    struct stat st;
    if (stat(gomod, &st) == 0 && S_ISREG(st.st_mode)) {
      char *path = read_module_path(gomod);
      if (path != NULL) {
        SCAN_RESERVE(r->mods);
        r->mods.v[r->mods.n++] = (module){strdup(dir), path};
        found = (long)r->mods.n - 1;
      }
      free(gomod);
      break; /* a go.mod without a module line ends the search too */
    }
    free(gomod);
    char *slash = strrchr(dir, '/');
    if (slash == NULL || slash == dir) break;
    *slash = 0;
  }
  free(dir);
  return found;
}

static const dir_mod *dir_module(run *r, const char *path) {
  size_t n = strlen(path);
  const char *slash = strrchr(path, '/');
  size_t dl = slash ? (size_t)(slash - path) : 0;
  (void)n;
  for (size_t i = r->dirs.n; i > 0; i--) { /* files arrive grouped by directory */
    const dir_mod *d = &r->dirs.v[i - 1];
    if (strlen(d->dir) == dl && strncmp(d->dir, path, dl) == 0) return d;
    if (r->dirs.n - i > 8) break;
  }
  for (size_t i = 0; i < r->dirs.n; i++)
    if (strlen(r->dirs.v[i].dir) == dl && strncmp(r->dirs.v[i].dir, path, dl) == 0)
      return &r->dirs.v[i];
  char *dir = dl ? strndup(path, dl) : strdup(".");
  char *abs = dir ? realpath(dir, NULL) : NULL;
  SCAN_RESERVE(r->dirs);
  dir_mod *d = &r->dirs.v[r->dirs.n++];
  d->dir = dl ? dir : (free(dir), strdup(""));
  d->abs = abs;
  d->module = abs ? find_module(r, abs) : -1;
  return d;
}

/* Sets each Go file's import path from its module. */
static void assign_import_paths(run *r, size_t from, size_t to) {
  for (size_t i = from; i < to; i++) {
    scan_file *f = &r->in.v[i];
    if (f->lang != SCAN_LANG_GO || f->import_path) continue;
    const dir_mod *d = dir_module(r, f->path);
    if (d->module < 0 || d->abs == NULL) continue;
    const module *m = &r->mods.v[d->module];
    size_t rl = strlen(m->root);
    const char *rel = d->abs + rl;
    if (strncmp(d->abs, m->root, rl) != 0) continue;
    while (*rel == '/') rel++;
    int std = strcmp(m->path, "std") == 0;
    if (asprintf(&f->import_path, "%s%s%s", std ? "" : m->path, (*rel && !std) ? "/" : "", rel) < 0)
      f->import_path = NULL;
    if (f->import_path && f->import_path[0] == 0) {
      free(f->import_path);
      f->import_path = NULL;
    }
  }
}

static int dir_known(run *r, const char *abs) {
  for (size_t i = 0; i < r->dirs.n; i++)
    if (r->dirs.v[i].abs && strcmp(r->dirs.v[i].abs, abs) == 0) return 1;
  return 0;
}

/* Adds the Go files of module directory ABS (no tests, not recursive) as context. */
static size_t add_context_dir(run *r, const char *abs) {
  size_t n, added = 0;
  char **names = dir_names(abs, &n);
  if (names == NULL) return 0;
  for (size_t i = 0; i < n; i++) {
    scan_lang lang;
    char *path = NULL;
    struct stat st;
    if (lang_of(names[i], &lang) && lang == SCAN_LANG_GO && !is_go_test(names[i]) &&
        asprintf(&path, "%s/%s", abs, names[i]) >= 0 && stat(path, &st) == 0 &&
        S_ISREG(st.st_mode)) {
      add_file(r, path, SCAN_LANG_GO)->context_only = 1;
      added++;
    }
    free(path);
    free(names[i]);
  }
  free(names);
  /* Record the directory so it is not read twice. */
  SCAN_RESERVE(r->dirs);
  dir_mod *d = &r->dirs.v[r->dirs.n++];
  d->dir = strdup(abs);
  d->abs = strdup(abs);
  d->module = find_module(r, abs);
  return added;
}

/* Reads, for their facts, the module packages that scanned Go code imports and
 * that the paths given did not include, until none is left. */
static void follow_imports(run *r, size_t from) {
  size_t total = 0;
  for (int round = 0; round < 64 && from < r->in.n; round++) {
    size_t to = r->in.n;
    for (size_t i = from; i < to && total < FOLLOW_MAX_FILES; i++) {
      /* Adding files moves r->in.v: keep only what stays put (facts, module). */
      const struct scan_go_facts *g = r->in.v[i].go;
      if (r->in.v[i].lang != SCAN_LANG_GO || g == NULL || r->in.v[i].import_path == NULL) continue;
      long mi = dir_module(r, r->in.v[i].path)->module;
      if (mi < 0) continue;
      int std = strcmp(r->mods.v[mi].path, "std") == 0;
      size_t ml = strlen(r->mods.v[mi].path);
      size_t nimports = scan_go_import_count(g);
      for (size_t k = 0; k < nimports; k++) {
        scan_str ip = {"", 0};
        scan_go_import_at(g, k, &ip);
        const module *m = &r->mods.v[mi];
        const char *rel = NULL;
        if (std) {
          if (memchr(ip.s, '.', ip.n) == NULL) rel = ip.s;
        } else if (ip.n > ml && memcmp(ip.s, m->path, ml) == 0 && ip.s[ml] == '/') {
          rel = ip.s + ml + 1;
        }
        if (rel == NULL) continue;
        char *abs = NULL;
        if (asprintf(&abs, "%s/%.*s", m->root, (int)(ip.s + ip.n - rel), rel) < 0) continue;
        if (strstr(abs, "/../") == NULL && !dir_known(r, abs)) total += add_context_dir(r, abs);
        free(abs);
      }
    }
    from = to;
    if (r->in.n > to) {
      assign_import_paths(r, to, r->in.n);
      run_pool(r, to, r->in.n);
    }
  }
}

/* ---- Rules, sorting, the summary. ---- */

static void run_rules(run *r) {
  scan_file **go = calloc(r->in.n + 1, sizeof *go), **cf = calloc(r->in.n + 1, sizeof *cf);
  size_t ngo = 0, nc = 0;
  for (size_t i = 0; go && cf && i < r->in.n; i++) {
    scan_file *f = &r->in.v[i];
    if (f->go) go[ngo++] = f;
    if (f->c && !f->context_only) cf[nc++] = f;
  }
  if (go && cf) {
    scan_go_module(go, ngo, &r->o);
    scan_c_rules(cf, nc, &r->o);
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

static void collect(run *r, scan_result *res) {
  size_t total = 0;
  for (size_t i = 0; i < r->in.n; i++)
    if (!r->in.v[i].context_only) total += r->in.v[i].findings.n;
  res->findings = calloc(total + 1, sizeof *res->findings);
  if (res->findings == NULL) return;
  for (size_t i = 0; i < r->in.n; i++) {
    scan_file *f = &r->in.v[i];
    if (f->context_only) continue;
    int skipped = f->data == NULL || f->failed || f->build_ignored;
    for (size_t k = 0; k < f->findings.n; k++) {
      res->findings[res->nfindings++] = &f->findings.v[k];
      if (f->findings.v[k].rule == SCAN_TS002) skipped = 1;
      res->summary.count[f->findings.v[k].severity]++;
    }
    if (skipped)
      res->summary.skipped++;
    else
      res->summary.files++;
  }
  if (res->nfindings > 1) qsort(res->findings, res->nfindings, sizeof *res->findings, by_location);
}

static void run_free(run *r) {
  for (size_t i = 0; i < r->mods.n; i++) {
    free(r->mods.v[i].root);
    free(r->mods.v[i].path);
  }
  free(r->mods.v);
  for (size_t i = 0; i < r->dirs.n; i++) {
    free(r->dirs.v[i].dir);
    free(r->dirs.v[i].abs);
  }
  free(r->dirs.v);
  free(r->err.v);
}

int scan_run(const char *const *paths, size_t npaths, const scan_options *o, scan_result *res) {
  memset(res, 0, sizeof *res);
  if (npaths == 0 || o == NULL) return -1;
  run r;
  memset(&r, 0, sizeof r);
  r.o = *o;
  if (r.o.max_bytes == 0) r.o.max_bytes = SCAN_DEFAULT_MAX_BYTES;
  if (r.o.jobs == 0) {
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    r.o.jobs = cores > 0 ? (unsigned)cores : 1;
  }
  for (size_t i = 0; i < npaths; i++) add_path(&r, paths[i]);
  size_t given = r.in.n;
  if (!r.o.parse_only) assign_import_paths(&r, 0, given);
  run_pool(&r, 0, given);
  if (!r.o.parse_only) {
    if (!r.o.no_follow) follow_imports(&r, 0);
    run_rules(&r);
  }
  res->files = r.in.v;
  res->nfiles = r.in.n;
  res->errors = r.errors.v;
  res->nerrors = r.errors.n;
  res->input_error = r.input_error;
  for (size_t i = 0; i < r.in.n; i++)
    if (r.in.v[i].failed && !r.in.v[i].context_only) res->input_error = 1;
  collect(&r, res);
  run_free(&r);
  return res->findings ? 0 : -1;
}

void scan_result_free(scan_result *r) {
  for (size_t i = 0; i < r->nfiles; i++) scan_file_free(&r->files[i]);
  free(r->files);
  free(r->findings);
  for (size_t i = 0; i < r->nerrors; i++) free(r->errors[i]);
  free(r->errors);
  memset(r, 0, sizeof *r);
}

/* ---- Fingerprints. ---- */

uint64_t scan_fingerprint(const scan_finding *f) {
  uint64_t h = 0xcbf29ce484222325ull;
  const char *id = scan_rules[f->rule].id;
  for (const char *p = id; *p; p++) h = (h ^ (unsigned char)*p) * 0x100000001b3ull;
  h = (h ^ 0xff) * 0x100000001b3ull;
  const char *path = f->file;
  while (path[0] == '.' && path[1] == '/') path += 2;
  for (const char *p = path; *p; p++) h = (h ^ (unsigned char)*p) * 0x100000001b3ull;
  h = (h ^ 0xff) * 0x100000001b3ull;
  for (uint32_t i = 0; i < f->source.n; i++) {
    unsigned char c = (unsigned char)f->source.s[i];
    if (c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f') continue;
    h = (h ^ c) * 0x100000001b3ull;
  }
  /* A final avalanche, so nearby inputs give unrelated prints. */
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdull;
  h ^= h >> 33;
  return h;
}

void scan_occurrences(scan_finding *const *v, size_t n, uint32_t *occ) {
  /* Within a file, findings sharing a fingerprint are numbered in order; the
   * findings are sorted by file, so each file is one run of V. */
  uint64_t *fp = malloc((n + 1) * sizeof *fp);
  for (size_t i = 0; i < n; i++) {
    occ[i] = 1;
    if (fp) fp[i] = scan_fingerprint(v[i]);
  }
  for (size_t start = 0, end; start < n; start = end) {
    for (end = start + 1; end < n && strcmp(v[end]->file, v[start]->file) == 0;) end++;
    for (size_t i = start; fp && i < end; i++)
      for (size_t j = start; j < i; j++)
        if (fp[j] == fp[i]) occ[i]++;
  }
  free(fp);
}

void scan_fingerprint_text(const scan_finding *f, uint32_t occurrence, char out[40]) {
  snprintf(out, 40, "%016llx:%u", (unsigned long long)scan_fingerprint(f), occurrence);
}
