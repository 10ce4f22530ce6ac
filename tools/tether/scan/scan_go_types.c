/* The Go half of `tether scan`, part two: the type facts of a module. Files are
 * grouped into packages (directory + package clause); one sorted hash index
 * holds every package's types, functions, methods, variables and fields, and
 * the packages by import path (from go.mod) and by the trailing elements of
 * their directory (for trees without go.mod). The queries resolve a type
 * expression or an expression type to what it can hold: named types are
 * followed to their declaration, in this package or another one of the scanned
 * tree (by import path), generic types with their type arguments; call results
 * come from the callee's signature; a small built-in table knows the
 * reference-typed results of common standard-library calls (r.Context(),
 * http.NewRequest, os.Open ...). What none of that reaches is K_UNKNOWN, and the
 * rules say so. Everything here runs on one thread, after extraction. */
#include "scan_go.h"

#include <stdlib.h>
#include <string.h>

#define DEPTH_MAX 16 /* steps of one chain of resolve / expr_type */
#define NEST_MAX 128 /* calls of resolve and expr_type in progress, every chain together */

static _Thread_local int t_nest;

static const scan_str no_str = {"", 0};

const char *go_kind_name(vkind k) {
  static const char *const names[] = {"of a type not known here",
                                      "scalar",
                                      "pointer",
                                      "slice",
                                      "map",
                                      "channel",
                                      "func",
                                      "interface",
                                      "named type",
                                      "struct",
                                      "array",
                                      "constant",
                                      "of a type parameter"};
  return (size_t)k < sizeof names / sizeof names[0] ? names[k] : names[0];
}

scan_str go_import_name(const go_import *im) {
  if (im->name.n > 0) return im->name;
  scan_str p = im->path;
  const char *s = p.s, *end = p.s + p.n;
  for (int round = 0; round < 2; round++) {
    const char *slash = end;
    while (slash > s && slash[-1] != '/') slash--;
    scan_str last = {slash, (uint32_t)(end - slash)};
    int major = last.n >= 2 && last.s[0] == 'v' && last.s[1] >= '0' && last.s[1] <= '9';
    if (round == 0 && major && slash > s) {
      end = slash - 1;
      continue;
    }
    for (uint32_t i = 0; i + 2 < last.n; i++)
      if (last.s[i] == '.' && last.s[i + 1] == 'v') last.n = i;
    if (last.n > 3 && memcmp(last.s, "go-", 3) == 0) last.s += 3, last.n -= 3;
    return last;
  }
  return p;
}

/* go_holds_refs' answers for struct types without type arguments, keyed by
 * where the struct type is written: wide nested structs are walked once. */
typedef struct refs_slot {
  uint64_t key;
  int8_t value; /* 2: empty */
} refs_slot;

typedef struct go_refs_memo {
  refs_slot *v;
  size_t n, cap;
} go_refs_memo;

/* ---- The index. ---- */

enum { TAG_IMPORT = 16, TAG_SUFFIX, TAG_ANYFUNC };

static uint64_t fnv(uint64_t h, const void *p, size_t n) {
  const unsigned char *b = p;
  for (size_t i = 0; i < n; i++) h = (h ^ b[i]) * 0x100000001b3ull;
  return h;
}

static uint64_t key_of(int tag, uint32_t pkg, scan_str name, scan_str recv) {
  uint64_t h = 0xcbf29ce484222325ull;
  unsigned char t = (unsigned char)tag;
  h = fnv(h, &t, 1);
  h = fnv(h, &pkg, sizeof pkg);
  h = fnv(h, name.s, name.n);
  h = fnv(h, "\0", 1);
  return fnv(h, recv.s, recv.n);
}

static void index_add(go_module *m, uint64_t h, uint32_t pkg, uint32_t file, uint32_t idx) {
  SCAN_RESERVE(m->index);
  m->index.v[m->index.n++] = (go_entry){h, {pkg, file, idx}};
}

static int by_hash(const void *a, const void *b) {
  const go_entry *x = a, *y = b;
  if (x->h != y->h) return x->h < y->h ? -1 : 1;
  if (x->r.pkg != y->r.pkg) return x->r.pkg < y->r.pkg ? -1 : 1;
  if (x->r.file != y->r.file) return x->r.file < y->r.file ? -1 : 1;
  return x->r.idx < y->r.idx ? -1 : x->r.idx > y->r.idx;
}

const scan_go_facts *go_facts(const go_module *m, uint32_t pkg, uint32_t file) {
  return m->pkgs[pkg].files[file]->go;
}

static size_t dir_len(const char *path) {
  const char *slash = strrchr(path, '/');
  return slash ? (size_t)(slash - path) : 0;
}

/* Whether the package's directory ends with the path elements SUF. */
static int dir_ends_with(const go_pkg *p, scan_str suf) {
  if (suf.n > p->dir_len || memcmp(p->dir + p->dir_len - suf.n, suf.s, suf.n) != 0) return 0;
  return suf.n == p->dir_len || p->dir[p->dir_len - suf.n - 1] == '/';
}

static int verify(const go_module *m, int tag, const go_entry *e, uint32_t pkg, scan_str name,
                  scan_str recv) {
  if (tag == TAG_IMPORT) {
    const char *ip = m->pkgs[e->r.pkg].import_path;
    return ip && strlen(ip) == name.n && memcmp(ip, name.s, name.n) == 0;
  }
  if (tag == TAG_SUFFIX) return dir_ends_with(&m->pkgs[e->r.pkg], name);
  if (e->r.pkg != pkg) return 0;
  const scan_go_facts *g = go_facts(m, e->r.pkg, e->r.file);
  switch (tag) {
    case GO_TAG_TYPE:
      return scan_str_same(g->types.v[e->r.idx].name, name);
    case GO_TAG_FUNC:
      return g->funcs.v[e->r.idx].recv.n == 0 && scan_str_same(g->funcs.v[e->r.idx].name, name);
    case GO_TAG_METHOD:
      return scan_str_same(g->funcs.v[e->r.idx].name, name) &&
             scan_str_same(g->funcs.v[e->r.idx].recv, recv);
    case TAG_ANYFUNC:
      return scan_str_same(g->funcs.v[e->r.idx].name, name);
    case GO_TAG_VAR:
      return !g->vars.v[e->r.idx].is_field && scan_str_same(g->vars.v[e->r.idx].name, name);
    case GO_TAG_FIELD:
      return g->vars.v[e->r.idx].is_field && scan_str_same(g->vars.v[e->r.idx].name, name);
    default:
      return 0;
  }
}

int go_find(const go_module *m, int tag, uint32_t pkg, scan_str name, scan_str recv, go_ref *out,
            size_t skip) {
  uint32_t kp = tag == TAG_IMPORT || tag == TAG_SUFFIX ? 0 : pkg;
  uint64_t h = key_of(tag, kp, name, tag == GO_TAG_METHOD ? recv : no_str);
  size_t lo = 0, hi = m->index.n;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (m->index.v[mid].h < h)
      lo = mid + 1;
    else
      hi = mid;
  }
  for (size_t i = lo; i < m->index.n && m->index.v[i].h == h; i++) {
    if (!verify(m, tag, &m->index.v[i], pkg, name, recv)) continue;
    if (skip-- == 0) {
      *out = m->index.v[i].r;
      return 1;
    }
  }
  return 0;
}

static int by_package(const void *a, const void *b) {
  const scan_file *x = *(scan_file *const *)a, *y = *(scan_file *const *)b;
  size_t dx = dir_len(x->path), dy = dir_len(y->path);
  int r = memcmp(x->path, y->path, dx < dy ? dx : dy);
  if (r == 0 && dx != dy) r = dx < dy ? -1 : 1;
  size_t pn = x->pkg.n < y->pkg.n ? x->pkg.n : y->pkg.n;
  if (r == 0 && pn > 0) r = memcmp(x->pkg.s, y->pkg.s, pn);
  if (r == 0 && x->pkg.n != y->pkg.n) r = x->pkg.n < y->pkg.n ? -1 : 1;
  return r ? r : strcmp(x->path, y->path);
}

static int same_package(const scan_file *x, const scan_file *y) {
  size_t d = dir_len(x->path);
  return d == dir_len(y->path) && memcmp(x->path, y->path, d) == 0 && scan_str_same(x->pkg, y->pkg);
}

int go_module_build(go_module *m, scan_file **in, size_t n, const scan_options *o) {
  memset(m, 0, sizeof *m);
  m->o = o;
  m->envs = calloc(1, sizeof *m->envs);
  m->refs = calloc(1, sizeof *m->refs);
  scan_file **files = calloc(n + 1, sizeof *files);
  if (files == NULL) return -1;
  size_t nf = 0;
  for (size_t i = 0; i < n; i++)
    if (in[i]->go != NULL) files[nf++] = in[i];
  if (nf > 1) qsort(files, nf, sizeof *files, by_package);
  m->sorted = files;
  m->pkgs = calloc(nf + 1, sizeof *m->pkgs);
  if (m->pkgs == NULL) return -1;
  for (size_t i = 0; i < nf;) {
    size_t j = i + 1;
    while (j < nf && same_package(files[i], files[j])) j++;
    go_pkg *p = &m->pkgs[m->npkgs];
    p->files = files + i;
    p->n = j - i;
    p->name = files[i]->pkg;
    p->dir = files[i]->path;
    p->dir_len = dir_len(files[i]->path);
    for (size_t k = i; k < j && p->import_path == NULL; k++) p->import_path = files[k]->import_path;
    for (size_t k = i; k < j; k++) {
      files[k]->go->pkg = (uint32_t)m->npkgs;
      files[k]->go->file = (uint32_t)(k - i);
    }
    m->npkgs++;
    i = j;
  }
  for (uint32_t pi = 0; pi < m->npkgs; pi++) {
    go_pkg *p = &m->pkgs[pi];
    for (uint32_t fi = 0; fi < p->n; fi++) {
      const scan_go_facts *g = p->files[fi]->go;
      for (uint32_t t = 0; t < g->types.n; t++)
        index_add(m, key_of(GO_TAG_TYPE, pi, g->types.v[t].name, no_str), pi, fi, t);
      for (uint32_t f = 0; f < g->funcs.n; f++) {
        const go_func *fn = &g->funcs.v[f];
        if (fn->recv.n == 0)
          index_add(m, key_of(GO_TAG_FUNC, pi, fn->name, no_str), pi, fi, f);
        else
          index_add(m, key_of(GO_TAG_METHOD, pi, fn->name, fn->recv), pi, fi, f);
        index_add(m, key_of(TAG_ANYFUNC, pi, fn->name, no_str), pi, fi, f);
      }
      for (uint32_t v = 0; v < g->vars.n; v++)
        index_add(m,
                  key_of(g->vars.v[v].is_field ? GO_TAG_FIELD : GO_TAG_VAR, pi, g->vars.v[v].name,
                         no_str),
                  pi, fi, v);
    }
    if (p->import_path)
      index_add(m,
                key_of(TAG_IMPORT, 0, (scan_str){p->import_path, (uint32_t)strlen(p->import_path)},
                       no_str),
                pi, 0, 0);
    /* Every trailing run of directory elements: a/b/c, b/c, c. */
    for (size_t s = 0; s < p->dir_len; s++) {
      if (s != 0 && p->dir[s - 1] != '/') continue;
      if (p->dir[s] == '.' || p->dir[s] == '/') continue;
      scan_str suf = {p->dir + s, (uint32_t)(p->dir_len - s)};
      index_add(m, key_of(TAG_SUFFIX, 0, suf, no_str), pi, 0, 0);
    }
  }
  if (m->index.n > 1) qsort(m->index.v, m->index.n, sizeof *m->index.v, by_hash);
  return 0;
}

void go_module_free(go_module *m) {
  free(m->sorted);
  free(m->pkgs);
  free(m->index.v);
  if (m->envs) free(m->envs->v);
  free(m->envs);
  if (m->refs) free(m->refs->v);
  free(m->refs);
  memset(m, 0, sizeof *m);
}

long go_import_pkg(const go_module *m, uint32_t pkg, uint32_t file, scan_str qual, scan_str *path) {
  const scan_go_facts *g = go_facts(m, pkg, file);
  *path = no_str;
  for (size_t i = 0; i < g->imports.n; i++) {
    if (!scan_str_same(go_import_name(&g->imports.v[i]), qual)) continue;
    *path = g->imports.v[i].path;
    go_ref r;
    if (go_find(m, TAG_IMPORT, 0, *path, no_str, &r, 0)) return (long)r.pkg;
    if (m->pkgs[pkg].import_path != NULL) return -1; /* in a module: by import path only */
    /* No go.mod: the scanned package whose directory ends with the import
     * path, or failing that with its last elements, and whose name matches. */
    scan_str suf = *path;
    for (int round = 0; round < 8 && suf.n > 0; round++) {
      for (size_t k = 0; go_find(m, TAG_SUFFIX, 0, suf, no_str, &r, k); k++)
        if (scan_str_same(m->pkgs[r.pkg].name, qual) || round == 0) return (long)r.pkg;
      const char *slash = memchr(suf.s, '/', suf.n);
      if (slash == NULL) break;
      suf.n -= (uint32_t)(slash + 1 - suf.s);
      suf.s = slash + 1;
    }
    return -1;
  }
  return -1;
}

/* ---- The built-in table of standard-library types and calls. ---- */

typedef struct std_type {
  const char *path, *name;
  vkind kind;
  uint8_t refs;
} std_type;

static const std_type std_types[] = {
    {"context", "Context", K_IFACE, 1},
    {"net/http", "Request", K_STRUCT, 1},
    {"net/http", "Response", K_STRUCT, 1},
    {"net/http", "ResponseWriter", K_IFACE, 1},
    {"net/http", "Handler", K_IFACE, 1},
    {"net/http", "HandlerFunc", K_FUNC, 1},
    {"net/http", "Client", K_STRUCT, 1},
    {"net/http", "Server", K_STRUCT, 1},
    {"net/http", "ServeMux", K_STRUCT, 1},
    {"net/http", "Header", K_MAP, 1},
    {"net/http", "Cookie", K_STRUCT, 1},
    {"net/url", "URL", K_STRUCT, 1},
    {"net/url", "Values", K_MAP, 1},
    {"os", "File", K_STRUCT, 1},
    {"os", "FileInfo", K_IFACE, 1},
    {"os", "FileMode", K_SCALAR, 0},
    {"os", "Signal", K_IFACE, 1},
    {"os", "Process", K_STRUCT, 1},
    {"io/fs", "FileInfo", K_IFACE, 1},
    {"io/fs", "FS", K_IFACE, 1},
    {"io", "Reader", K_IFACE, 1},
    {"io", "Writer", K_IFACE, 1},
    {"io", "ReadCloser", K_IFACE, 1},
    {"io", "Closer", K_IFACE, 1},
    {"io", "ReadWriter", K_IFACE, 1},
    {"io", "WriteCloser", K_IFACE, 1},
    {"io", "ReadWriteCloser", K_IFACE, 1},
    {"bufio", "Reader", K_STRUCT, 1},
    {"bufio", "Writer", K_STRUCT, 1},
    {"bufio", "Scanner", K_STRUCT, 1},
    {"bytes", "Buffer", K_STRUCT, 1},
    {"strings", "Builder", K_STRUCT, 1},
    {"strings", "Reader", K_STRUCT, 1},
    {"sync", "Mutex", K_STRUCT, 0},
    {"sync", "RWMutex", K_STRUCT, 0},
    {"sync", "WaitGroup", K_STRUCT, 0},
    {"sync", "Once", K_STRUCT, 0},
    {"sync", "Cond", K_STRUCT, 1},
    {"sync", "Pool", K_STRUCT, 1},
    {"sync", "Map", K_STRUCT, 1},
    {"sync/atomic", "Int32", K_STRUCT, 0},
    {"sync/atomic", "Int64", K_STRUCT, 0},
    {"sync/atomic", "Uint32", K_STRUCT, 0},
    {"sync/atomic", "Uint64", K_STRUCT, 0},
    {"sync/atomic", "Bool", K_STRUCT, 0},
    {"sync/atomic", "Value", K_STRUCT, 1},
    {"sync/atomic", "Pointer", K_STRUCT, 1},
    {"time", "Time", K_STRUCT, 0},
    {"time", "Duration", K_SCALAR, 0},
    {"time", "Month", K_SCALAR, 0},
    {"time", "Weekday", K_SCALAR, 0},
    {"time", "Timer", K_STRUCT, 1},
    {"time", "Ticker", K_STRUCT, 1},
    {"time", "Location", K_STRUCT, 1},
    {"net", "Conn", K_IFACE, 1},
    {"net", "Listener", K_IFACE, 1},
    {"net", "Addr", K_IFACE, 1},
    {"net", "IP", K_SLICE, 1},
    {"database/sql", "DB", K_STRUCT, 1},
    {"database/sql", "Rows", K_STRUCT, 1},
    {"database/sql", "Row", K_STRUCT, 1},
    {"database/sql", "Tx", K_STRUCT, 1},
    {"database/sql", "Stmt", K_STRUCT, 1},
    {"database/sql", "Conn", K_STRUCT, 1},
    {"database/sql", "Result", K_IFACE, 1},
    {"log", "Logger", K_STRUCT, 1},
    {"log/slog", "Logger", K_STRUCT, 1},
    {"encoding/json", "Decoder", K_STRUCT, 1},
    {"encoding/json", "Encoder", K_STRUCT, 1},
    {"encoding/json", "RawMessage", K_SLICE, 1},
    {"reflect", "Value", K_STRUCT, 1},
    {"reflect", "Type", K_IFACE, 1},
    {"reflect", "Kind", K_SCALAR, 0},
    {"regexp", "Regexp", K_STRUCT, 1},
    {"os/exec", "Cmd", K_STRUCT, 1},
    {"testing", "T", K_STRUCT, 1},
    {"testing", "B", K_STRUCT, 1},
    {"crypto/tls", "Config", K_STRUCT, 1},
    {"crypto/tls", "Conn", K_STRUCT, 1},
};

/* Results are written as types: "*net/http.Request", "context.Context", "[]byte",
 * "string", "error", "func", "chan", "map", "any". */
typedef struct std_func {
  const char *path, *recv, *name, *results;
} std_func;

static const std_func std_funcs[] = {
    {"context", "", "Background", "context.Context"},
    {"context", "", "TODO", "context.Context"},
    {"context", "", "WithCancel", "context.Context,func"},
    {"context", "", "WithCancelCause", "context.Context,func"},
    {"context", "", "WithTimeout", "context.Context,func"},
    {"context", "", "WithDeadline", "context.Context,func"},
    {"context", "", "WithValue", "context.Context"},
    {"context", "", "WithoutCancel", "context.Context"},
    {"context", "Context", "Done", "chan"},
    {"context", "Context", "Err", "error"},
    {"context", "Context", "Value", "any"},
    {"context", "Context", "Deadline", "time.Time,bool"},
    {"net/http", "", "NewRequest", "*net/http.Request,error"},
    {"net/http", "", "NewRequestWithContext", "*net/http.Request,error"},
    {"net/http", "", "Get", "*net/http.Response,error"},
    {"net/http", "", "Post", "*net/http.Response,error"},
    {"net/http", "", "Head", "*net/http.Response,error"},
    {"net/http", "", "PostForm", "*net/http.Response,error"},
    {"net/http", "", "NewServeMux", "*net/http.ServeMux"},
    {"net/http", "Request", "Context", "context.Context"},
    {"net/http", "Request", "WithContext", "*net/http.Request"},
    {"net/http", "Request", "Clone", "*net/http.Request"},
    {"net/http", "Request", "Cookie", "*net/http.Cookie,error"},
    {"net/http", "Request", "FormValue", "string"},
    {"net/http", "Request", "PostFormValue", "string"},
    {"net/http", "Request", "UserAgent", "string"},
    {"net/http", "Client", "Do", "*net/http.Response,error"},
    {"net/http", "Client", "Get", "*net/http.Response,error"},
    {"net/http", "ResponseWriter", "Header", "net/http.Header"},
    {"net/http/httptest", "", "NewServer", "*net/http/httptest.Server"},
    {"net/http/httptest", "", "NewRecorder", "*net/http/httptest.ResponseRecorder"},
    {"net/http/httptest", "", "NewRequest", "*net/http.Request"},
    {"os", "", "Open", "*os.File,error"},
    {"os", "", "Create", "*os.File,error"},
    {"os", "", "OpenFile", "*os.File,error"},
    {"os", "", "CreateTemp", "*os.File,error"},
    {"os", "", "ReadFile", "[]byte,error"},
    {"os", "", "ReadDir", "[]os.DirEntry,error"},
    {"os", "", "Getenv", "string"},
    {"os", "", "LookupEnv", "string,bool"},
    {"os", "", "Stat", "os.FileInfo,error"},
    {"os", "", "Lstat", "os.FileInfo,error"},
    {"os", "", "Getwd", "string,error"},
    {"os", "", "Hostname", "string,error"},
    {"os", "", "MkdirTemp", "string,error"},
    {"os", "", "Environ", "[]string"},
    {"os", "", "Pipe", "*os.File,*os.File,error"},
    {"os", "", "FindProcess", "*os.Process,error"},
    {"io", "", "ReadAll", "[]byte,error"},
    {"io", "", "Pipe", "*io.PipeReader,*io.PipeWriter"},
    {"io", "", "NopCloser", "io.ReadCloser"},
    {"io", "", "MultiWriter", "io.Writer"},
    {"io", "", "MultiReader", "io.Reader"},
    {"io", "", "TeeReader", "io.Reader"},
    {"io", "", "LimitReader", "io.Reader"},
    {"io/ioutil", "", "ReadAll", "[]byte,error"},
    {"io/ioutil", "", "ReadFile", "[]byte,error"},
    {"io/ioutil", "", "TempFile", "*os.File,error"},
    {"io/ioutil", "", "TempDir", "string,error"},
    {"bufio", "", "NewReader", "*bufio.Reader"},
    {"bufio", "", "NewReaderSize", "*bufio.Reader"},
    {"bufio", "", "NewWriter", "*bufio.Writer"},
    {"bufio", "", "NewWriterSize", "*bufio.Writer"},
    {"bufio", "", "NewScanner", "*bufio.Scanner"},
    {"bufio", "", "NewReadWriter", "*bufio.ReadWriter"},
    {"bytes", "", "NewBuffer", "*bytes.Buffer"},
    {"bytes", "", "NewBufferString", "*bytes.Buffer"},
    {"bytes", "", "NewReader", "*bytes.Reader"},
    {"strings", "", "NewReader", "*strings.Reader"},
    {"strings", "", "NewReplacer", "*strings.Replacer"},
    {"strings", "", "Split", "[]string"},
    {"strings", "", "SplitN", "[]string"},
    {"strings", "", "Fields", "[]string"},
    {"strings", "", "Join", "string"},
    {"strings", "", "ToLower", "string"},
    {"strings", "", "ToUpper", "string"},
    {"strings", "", "TrimSpace", "string"},
    {"strings", "", "Trim", "string"},
    {"strings", "", "TrimPrefix", "string"},
    {"strings", "", "TrimSuffix", "string"},
    {"strings", "", "Replace", "string"},
    {"strings", "", "ReplaceAll", "string"},
    {"strings", "", "Repeat", "string"},
    {"strings", "", "Contains", "bool"},
    {"strings", "", "HasPrefix", "bool"},
    {"strings", "", "HasSuffix", "bool"},
    {"strings", "", "Index", "int"},
    {"fmt", "", "Sprintf", "string"},
    {"fmt", "", "Sprint", "string"},
    {"fmt", "", "Sprintln", "string"},
    {"fmt", "", "Errorf", "error"},
    {"errors", "", "New", "error"},
    {"errors", "", "Unwrap", "error"},
    {"errors", "", "Join", "error"},
    {"strconv", "", "Itoa", "string"},
    {"strconv", "", "Quote", "string"},
    {"strconv", "", "FormatInt", "string"},
    {"strconv", "", "FormatFloat", "string"},
    {"strconv", "", "FormatBool", "string"},
    {"strconv", "", "Atoi", "int,error"},
    {"strconv", "", "ParseInt", "int64,error"},
    {"strconv", "", "ParseUint", "uint64,error"},
    {"strconv", "", "ParseFloat", "float64,error"},
    {"strconv", "", "ParseBool", "bool,error"},
    {"strconv", "", "Unquote", "string,error"},
    {"time", "", "Now", "time.Time"},
    {"time", "", "Unix", "time.Time"},
    {"time", "", "Date", "time.Time"},
    {"time", "", "Since", "time.Duration"},
    {"time", "", "Until", "time.Duration"},
    {"time", "", "NewTimer", "*time.Timer"},
    {"time", "", "NewTicker", "*time.Ticker"},
    {"time", "", "AfterFunc", "*time.Timer"},
    {"time", "", "After", "chan"},
    {"time", "", "Tick", "chan"},
    {"time", "", "ParseDuration", "time.Duration,error"},
    {"time", "", "Parse", "time.Time,error"},
    {"time", "", "LoadLocation", "*time.Location,error"},
    {"time", "Time", "Add", "time.Time"},
    {"time", "Time", "Sub", "time.Duration"},
    {"time", "Time", "Format", "string"},
    {"time", "Time", "Unix", "int64"},
    {"encoding/json", "", "Marshal", "[]byte,error"},
    {"encoding/json", "", "MarshalIndent", "[]byte,error"},
    {"encoding/json", "", "NewDecoder", "*encoding/json.Decoder"},
    {"encoding/json", "", "NewEncoder", "*encoding/json.Encoder"},
    {"encoding/json", "", "Valid", "bool"},
    {"net", "", "Dial", "net.Conn,error"},
    {"net", "", "DialTimeout", "net.Conn,error"},
    {"net", "", "Listen", "net.Listener,error"},
    {"net", "", "ParseIP", "net.IP"},
    {"net", "", "LookupHost", "[]string,error"},
    {"net", "Listener", "Accept", "net.Conn,error"},
    {"database/sql", "", "Open", "*database/sql.DB,error"},
    {"database/sql", "DB", "Query", "*database/sql.Rows,error"},
    {"database/sql", "DB", "QueryContext", "*database/sql.Rows,error"},
    {"database/sql", "DB", "QueryRow", "*database/sql.Row"},
    {"database/sql", "DB", "QueryRowContext", "*database/sql.Row"},
    {"database/sql", "DB", "Begin", "*database/sql.Tx,error"},
    {"database/sql", "DB", "BeginTx", "*database/sql.Tx,error"},
    {"database/sql", "DB", "Prepare", "*database/sql.Stmt,error"},
    {"database/sql", "DB", "PrepareContext", "*database/sql.Stmt,error"},
    {"database/sql", "DB", "Exec", "database/sql.Result,error"},
    {"database/sql", "DB", "Conn", "*database/sql.Conn,error"},
    {"log", "", "New", "*log.Logger"},
    {"log", "", "Default", "*log.Logger"},
    {"log/slog", "", "New", "*log/slog.Logger"},
    {"log/slog", "", "Default", "*log/slog.Logger"},
    {"log/slog", "", "With", "*log/slog.Logger"},
    {"os/exec", "", "Command", "*os/exec.Cmd"},
    {"os/exec", "", "CommandContext", "*os/exec.Cmd"},
    {"regexp", "", "MustCompile", "*regexp.Regexp"},
    {"regexp", "", "Compile", "*regexp.Regexp,error"},
    {"reflect", "", "ValueOf", "reflect.Value"},
    {"reflect", "", "TypeOf", "reflect.Type"},
    {"net/url", "", "Parse", "*net/url.URL,error"},
    {"net/url", "", "ParseQuery", "net/url.Values,error"},
    {"sync", "Pool", "Get", "any"},
    {"path/filepath", "", "Join", "string"},
    {"path/filepath", "", "Abs", "string,error"},
    {"path/filepath", "", "Base", "string"},
    {"path/filepath", "", "Dir", "string"},
    {"path/filepath", "", "Ext", "string"},
    {"path", "", "Join", "string"},
    {"html/template", "", "New", "*html/template.Template"},
    {"text/template", "", "New", "*text/template.Template"},
    {"crypto/tls", "", "Dial", "*crypto/tls.Conn,error"},
};

static int cstr_eq(scan_str s, const char *c) {
  return scan_str_eq(s, c);
}

static const std_type *std_type_of(scan_str path, scan_str name) {
  for (size_t i = 0; i < sizeof std_types / sizeof std_types[0]; i++)
    if (cstr_eq(path, std_types[i].path) && cstr_eq(name, std_types[i].name)) return &std_types[i];
  return NULL;
}

static void gtype_init(gtype *t, uint32_t pkg, uint32_t file) {
  memset(t, 0, sizeof *t);
  t->kind = K_UNKNOWN;
  t->pkg = pkg;
  t->file = file;
  t->name = no_str;
  t->path = no_str;
}

/* A table type "PATH.Name" (the last dot splits) as a gtype. */
static void std_named(scan_str spec, gtype *out) {
  const char *dot = NULL;
  for (uint32_t i = 0; i < spec.n; i++)
    if (spec.s[i] == '.') dot = spec.s + i;
  if (dot == NULL) return;
  out->path = (scan_str){spec.s, (uint32_t)(dot - spec.s)};
  out->name = (scan_str){dot + 1, (uint32_t)(spec.s + spec.n - dot - 1)};
  const std_type *st = std_type_of(out->path, out->name);
  out->kind = st ? st->kind : K_UNKNOWN;
  out->refs = st ? st->refs : 0;
  out->sync_map = st && strcmp(st->path, "sync") == 0 && strcmp(st->name, "Map") == 0;
}

static void std_result(scan_str spec, gtype *out) {
  static const char *const scalars[] = {"string", "bool",    "int", "int64",
                                        "uint64", "float64", "byte"};
  if (spec.n > 0 && spec.s[0] == '*') {
    gtype inner;
    gtype_init(&inner, 0, 0);
    std_named((scan_str){spec.s + 1, spec.n - 1}, &inner);
    out->kind = K_PTR;
    out->path = inner.path; /* the pointee, for its methods */
    out->name = inner.name;
    return;
  }
  if (spec.n > 2 && spec.s[0] == '[' && spec.s[1] == ']') {
    out->kind = K_SLICE;
    return;
  }
  for (size_t i = 0; i < sizeof scalars / sizeof scalars[0]; i++)
    if (cstr_eq(spec, scalars[i])) {
      out->kind = K_SCALAR;
      out->name = spec;
      return;
    }
  if (cstr_eq(spec, "error") || cstr_eq(spec, "any"))
    out->kind = K_IFACE, out->name = spec;
  else if (cstr_eq(spec, "func"))
    out->kind = K_FUNC;
  else if (cstr_eq(spec, "chan"))
    out->kind = K_CHAN;
  else if (cstr_eq(spec, "map"))
    out->kind = K_MAP;
  else
    std_named(spec, out);
}

/* Result IDX of the table's PATH.RECV.NAME; 0 when the table does not have it. */
static int std_call(scan_str path, scan_str recv, scan_str name, int idx, gtype *out) {
  for (size_t i = 0; i < sizeof std_funcs / sizeof std_funcs[0]; i++) {
    const std_func *f = &std_funcs[i];
    if (!cstr_eq(path, f->path) || !cstr_eq(recv, f->recv) || !cstr_eq(name, f->name)) continue;
    const char *p = f->results;
    for (int k = 0; k < idx && p; k++) {
      p = strchr(p, ',');
      if (p) p++;
    }
    if (p == NULL) return 0;
    const char *e = strchr(p, ',');
    std_result((scan_str){p, (uint32_t)(e ? (size_t)(e - p) : strlen(p))}, out);
    return 1;
  }
  return 0;
}

/* ---- Resolution. ---- */

static int resolve(const go_module *m, uint32_t pkg, uint32_t file, uint32_t tx, uint32_t env,
                   int depth, gtype *out);

static uint32_t env_add(const go_module *m, go_env e) {
  go_envs *es = m->envs;
  if (es == NULL) return 0;
  size_t from = es->n > 64 ? es->n - 64 : 0;
  for (size_t i = from; i < es->n; i++)
    if (memcmp(&es->v[i], &e, sizeof e) == 0) return (uint32_t)i + 1;
  if (es->n >= 1u << 20) return 0;
  SCAN_RESERVE(*es);
  es->v[es->n++] = e;
  return (uint32_t)es->n;
}

/* A type parameter NAME of ENV (or an enclosing env): its argument, resolved. */
static int env_param(const go_module *m, uint32_t env, scan_str name, int depth, gtype *out) {
  for (int hop = 0; env != 0 && hop < 8; hop++) {
    const go_env *e = &m->envs->v[env - 1];
    const scan_go_facts *g = go_facts(m, e->decl_pkg, e->decl_file);
    for (uint32_t i = 0; i < e->tp_count; i++) {
      if (!scan_str_same(g->names.v[e->tp_first + i], name)) continue;
      if (i >= e->arg_count) {
        out->kind = K_TPARAM;
        out->name = name;
        return 1;
      }
      const scan_go_facts *ga = go_facts(m, e->arg_pkg, e->arg_file);
      return resolve(m, e->arg_pkg, e->arg_file, ga->txlist.v[e->arg_first + i], e->up, depth + 1,
                     out);
    }
    env = e->up;
  }
  return 0;
}

/* Follows a declaration found for a named type; ARGS (a T_INST, or NULL) gives
 * its type arguments, in the file (APKG, AFILE). */
static int follow_decl(const go_module *m, go_ref r, const go_tx *args, uint32_t apkg,
                       uint32_t afile, uint32_t env, int depth, gtype *out) {
  const scan_go_facts *g = go_facts(m, r.pkg, r.file);
  const go_type *t = &g->types.v[r.idx];
  scan_str name = out->name.n ? out->name : t->name;
  go_ref decl = out->has_decl ? out->decl : r;
  uint32_t denv = 0;
  if (t->tp_count > 0) {
    go_env e = {r.pkg, r.file, t->tp_first,        t->tp_count,
                apkg,  afile,  args ? args->a : 0, args ? args->b : 0,
                env};
    denv = env_add(m, e);
  }
  if (t->alias && !out->has_decl) { /* type A = B: A is B, name and methods included */
    out->name = (scan_str){"", 0};
    return resolve(m, r.pkg, r.file, t->tx, denv, depth + 1, out);
  }
  int ok = resolve(m, r.pkg, r.file, t->tx, denv, depth + 1, out);
  out->name = name;
  out->decl = decl;
  out->has_decl = 1;
  return ok;
}

static int resolve_at(const go_module *m, uint32_t pkg, uint32_t file, uint32_t tx, uint32_t env,
                      int depth, gtype *out) {
  scan_str keep_name = out->name;
  go_ref keep_decl = out->decl;
  uint8_t keep_has = out->has_decl;
  gtype_init(out, pkg, file);
  out->name = keep_name;
  out->decl = keep_decl;
  out->has_decl = keep_has;
  if (tx == 0 || depth > DEPTH_MAX) return 0;
  const scan_go_facts *g = go_facts(m, pkg, file);
  if (tx >= g->txs.n) return 0;
  const go_tx *t = &g->txs.v[tx];
  out->tx = tx;
  out->env = env;
  switch (t->kind) {
    case T_PTR:
      out->kind = K_PTR;
      return 1;
    case T_SLICE:
      out->kind = K_SLICE;
      return 1;
    case T_ARRAY:
      out->kind = K_ARRAY;
      return 1;
    case T_MAP:
      out->kind = K_MAP;
      return 1;
    case T_CHAN:
      out->kind = K_CHAN;
      return 1;
    case T_FUNC:
      out->kind = K_FUNC;
      return 1;
    case T_IFACE:
      out->kind = K_IFACE;
      return 1;
    case T_STRUCT:
      out->kind = K_STRUCT;
      return 1;
    default:
      break;
  }
  out->tx = 0;
  go_ref r;
  if (t->kind == T_NAME || (t->kind == T_INST && t->pkg.n == 0)) {
    if (t->kind == T_NAME) {
      static const char *const scalars[] = {
          "bool", "string",  "int",     "int8",      "int16",     "int32",   "int64",
          "uint", "uint8",   "uint16",  "uint32",    "uint64",    "uintptr", "byte",
          "rune", "float32", "float64", "complex64", "complex128"};
      for (size_t i = 0; i < sizeof scalars / sizeof scalars[0]; i++)
        if (cstr_eq(t->name, scalars[i])) {
          out->kind = K_SCALAR;
          if (!out->name.n) out->name = t->name;
          return 1;
        }
      if (cstr_eq(t->name, "error") || cstr_eq(t->name, "any")) {
        out->kind = K_IFACE;
        if (!out->name.n) out->name = t->name;
        return 1;
      }
      if (env_param(m, env, t->name, depth, out)) return 1;
    }
    if (go_find(m, GO_TAG_TYPE, pkg, t->name, no_str, &r, 0))
      return follow_decl(m, r, t->kind == T_INST ? t : NULL, pkg, file, env, depth, out);
    if (!out->name.n) out->name = t->name;
    return 0;
  }
  if (t->kind == T_QUAL || t->kind == T_INST) {
    scan_str path;
    long p = go_import_pkg(m, pkg, file, t->pkg, &path);
    if (p >= 0 && path.n > 0 && !(cstr_eq(path, "sync") && cstr_eq(t->name, "Map")) &&
        go_find(m, GO_TAG_TYPE, (uint32_t)p, t->name, no_str, &r, 0))
      return follow_decl(m, r, t->kind == T_INST ? t : NULL, pkg, file, env, depth, out);
    if (!out->name.n) out->name = t->name;
    out->path = path;
    const std_type *st = std_type_of(path, t->name);
    if (st == NULL) return 0;
    out->kind = st->kind;
    out->refs = st->refs;
    out->sync_map = strcmp(st->path, "sync") == 0 && strcmp(st->name, "Map") == 0;
    return 1;
  }
  return 0;
}

/* The guards of resolve and expr_type: DEPTH bounds one chain, but the type
 * helpers they call (go_elem, go_map_value ...) start a chain of their own, so a
 * cyclic declaration (x := &x[0] ...) could recurse until the stack ran out.
 * NEST_MAX bounds every chain together; beyond it the type is unknown. */
static int resolve(const go_module *m, uint32_t pkg, uint32_t file, uint32_t tx, uint32_t env,
                   int depth, gtype *out) {
  if (t_nest >= NEST_MAX) depth = DEPTH_MAX + 1; /* the body answers "unknown" */
  t_nest++;
  int ok = resolve_at(m, pkg, file, tx, env, depth, out);
  t_nest--;
  return ok;
}

int go_type_of(const go_module *m, uint32_t pkg, uint32_t file, uint32_t tx, uint32_t env,
               gtype *out) {
  gtype_init(out, pkg, file);
  return resolve(m, pkg, file, tx, env, 0, out);
}

static int expr_type(const go_module *m, uint32_t pkg, uint32_t file, uint32_t x, int depth,
                     gtype *out);

int go_elem(const go_module *m, const gtype *t, gtype *out) {
  gtype_init(out, t->pkg, t->file);
  if (t->kind == K_PTR && t->tx == 0) {
    if (t->addr_x != 0) return expr_type(m, t->pkg, t->file, t->addr_x, 1, out); /* &x */
    if (t->path.n > 0) { /* a table pointer: *net/http.Request */
      const std_type *st = std_type_of(t->path, t->name);
      out->path = t->path;
      out->name = t->name;
      out->kind = st ? st->kind : K_UNKNOWN;
      out->refs = st ? st->refs : 0;
      return st != NULL;
    }
    return 0;
  }
  if (t->tx == 0) return 0;
  const scan_go_facts *g = go_facts(m, t->pkg, t->file);
  const go_tx *x = &g->txs.v[t->tx];
  if (t->kind != K_PTR && t->kind != K_SLICE && t->kind != K_ARRAY && t->kind != K_CHAN) return 0;
  return resolve(m, t->pkg, t->file, x->a, t->env, 1, out);
}

int go_map_value(const go_module *m, const gtype *t, gtype *out) {
  gtype_init(out, t->pkg, t->file);
  if (t->kind != K_MAP || t->tx == 0) return 0;
  const go_tx *x = &go_facts(m, t->pkg, t->file)->txs.v[t->tx];
  return resolve(m, t->pkg, t->file, x->b, t->env, 1, out);
}

static int map_key(const go_module *m, const gtype *t, gtype *out) {
  gtype_init(out, t->pkg, t->file);
  if (t->kind != K_MAP || t->tx == 0) return 0;
  const go_tx *x = &go_facts(m, t->pkg, t->file)->txs.v[t->tx];
  return resolve(m, t->pkg, t->file, x->a, t->env, 1, out);
}

/* Field NAME of struct T (or of what T points to), embedded structs included. */
static int field_type(const go_module *m, const gtype *t, scan_str name, int depth, gtype *out) {
  gtype base = *t;
  if (depth > 4) return 0;
  if (base.kind == K_PTR && !go_elem(m, t, &base)) return 0;
  if (base.kind != K_STRUCT || base.tx == 0) return 0;
  const scan_go_facts *g = go_facts(m, base.pkg, base.file);
  const go_tx *x = &g->txs.v[base.tx];
  for (uint32_t i = 0; i < x->b; i++) {
    const go_field *f = &g->fields.v[x->a + i];
    if (!f->embedded && scan_str_same(f->name, name)) {
      gtype_init(out, base.pkg, base.file);
      return resolve(m, base.pkg, base.file, f->tx, base.env, 1, out);
    }
  }
  for (uint32_t i = 0; i < x->b; i++) {
    const go_field *f = &g->fields.v[x->a + i];
    if (!f->embedded) continue;
    if (scan_str_same(f->name, name)) {
      gtype_init(out, base.pkg, base.file);
      return resolve(m, base.pkg, base.file, f->tx, base.env, 1, out);
    }
    gtype e;
    gtype_init(&e, base.pkg, base.file);
    if (resolve(m, base.pkg, base.file, f->tx, base.env, 1, &e) &&
        field_type(m, &e, name, depth + 1, out))
      return 1;
  }
  return 0;
}

/* Result IDX of function or method FN (in PKG/FILE), its receiver's type arguments from RENV. */
static int func_result(const go_module *m, go_ref fn, int idx, uint32_t renv, gtype *out) {
  const scan_go_facts *g = go_facts(m, fn.pkg, fn.file);
  const go_func *f = &g->funcs.v[fn.idx];
  gtype_init(out, fn.pkg, fn.file);
  if (idx >= (int)f->result_count) return 0;
  uint32_t env = 0;
  if (f->tp_count > 0) {
    go_env e = {fn.pkg, fn.file, f->tp_first, f->tp_count, 0, 0, 0, 0, 0};
    if (renv != 0) {
      const go_env *re = &m->envs->v[renv - 1];
      e.arg_pkg = re->arg_pkg, e.arg_file = re->arg_file, e.arg_first = re->arg_first;
      e.arg_count = re->arg_count, e.up = re->up;
    }
    env = env_add(m, e);
  }
  return resolve(m, fn.pkg, fn.file, g->txlist.v[f->result_first + (uint32_t)idx], env, 1, out);
}

static int method_result(const go_module *m, const gtype *recv, scan_str name, int idx,
                         gtype *out) {
  gtype base = *recv;
  if (base.kind == K_PTR) {
    if (!go_elem(m, recv, &base) && base.path.n == 0 && !base.has_decl) return 0;
  }
  if (base.has_decl) {
    const scan_go_facts *g = go_facts(m, base.decl.pkg, base.decl.file);
    go_ref fn;
    if (go_find(m, GO_TAG_METHOD, base.decl.pkg, name, g->types.v[base.decl.idx].name, &fn, 0))
      return func_result(m, fn, idx, base.env, out);
    return 0;
  }
  gtype_init(out, recv->pkg, recv->file);
  if (base.path.n > 0) return std_call(base.path, base.name, name, idx, out);
  return 0;
}

static int call_result(const go_module *m, uint32_t pkg, uint32_t file, const go_x *x, gtype *out) {
  go_ref r;
  if (x->qual.n == 0) {
    if (go_find(m, GO_TAG_FUNC, pkg, x->name, no_str, &r, 0))
      return func_result(m, r, x->idx, 0, out);
    if (x->idx == 0 && go_find(m, GO_TAG_TYPE, pkg, x->name, no_str, &r, 0)) { /* a conversion */
      gtype_init(out, pkg, file);
      return follow_decl(m, r, NULL, pkg, file, 0, 1, out);
    }
    return 0;
  }
  scan_str path;
  long p = go_import_pkg(m, pkg, file, x->qual, &path);
  if (p >= 0) {
    if (go_find(m, GO_TAG_FUNC, (uint32_t)p, x->name, no_str, &r, 0))
      return func_result(m, r, x->idx, 0, out);
    if (x->idx == 0 && go_find(m, GO_TAG_TYPE, (uint32_t)p, x->name, no_str, &r, 0)) {
      gtype_init(out, pkg, file);
      return follow_decl(m, r, NULL, pkg, file, 0, 1, out);
    }
  }
  gtype_init(out, pkg, file);
  if (path.n == 0) return 0;
  if (std_call(path, no_str, x->name, x->idx, out)) return 1;
  const std_type *st = x->idx == 0 ? std_type_of(path, x->name) : NULL; /* time.Duration(n) */
  if (st == NULL) return 0;
  out->kind = st->kind;
  out->refs = st->refs;
  out->path = path;
  out->name = x->name;
  return 1;
}

static int var_type(const go_module *m, go_ref r, int depth, gtype *out) {
  const scan_go_facts *g = go_facts(m, r.pkg, r.file);
  const go_var *v = &g->vars.v[r.idx];
  gtype_init(out, r.pkg, r.file);
  if (v->tx) return resolve(m, r.pkg, r.file, v->tx, 0, depth + 1, out);
  if (v->x) return expr_type(m, r.pkg, r.file, v->x, depth + 1, out);
  return 0;
}

static int expr_type_at(const go_module *m, uint32_t pkg, uint32_t file, uint32_t xi, int depth,
                        gtype *out) {
  gtype_init(out, pkg, file);
  const scan_go_facts *g = go_facts(m, pkg, file);
  if (xi == 0 || xi >= g->xs.n || depth > DEPTH_MAX) return 0;
  const go_x *x = &g->xs.v[xi];
  gtype base;
  go_ref r;
  switch (x->kind) {
    case X_TYPE:
    case X_PARAM:
      return resolve(m, pkg, file, x->a, 0, depth + 1, out);
    case X_SCALAR:
      out->kind = K_SCALAR;
      return 1;
    case X_FUNCLIT:
      out->kind = K_FUNC;
      return 1;
    case X_IDENT: {
      uint32_t p = pkg;
      if (x->qual.n > 0) {
        scan_str path;
        long q = go_import_pkg(m, pkg, file, x->qual, &path);
        if (q < 0) return 0;
        p = (uint32_t)q;
      }
      if (go_find(m, GO_TAG_VAR, p, x->name, no_str, &r, 0)) return var_type(m, r, depth, out);
      if (go_find(m, GO_TAG_FUNC, p, x->name, no_str, &r, 0)) {
        out->kind = K_FUNC;
        return 1;
      }
      return 0;
    }
    case X_CALL:
      return call_result(m, pkg, file, x, out);
    case X_MCALL:
      if (!expr_type(m, pkg, file, x->a, depth + 1, &base)) {
        if (base.kind == K_UNKNOWN && base.path.n == 0 && !base.has_decl) return 0;
      }
      return method_result(m, &base, x->name, x->idx, out);
    case X_FIELD:
      if (!expr_type(m, pkg, file, x->a, depth + 1, &base)) return 0;
      return field_type(m, &base, x->name, 0, out);
    case X_INDEX:
    case X_RANGEV:
    case X_RANGEK:
    case X_RECV:
      if (!expr_type(m, pkg, file, x->a, depth + 1, &base)) return 0;
      if (base.kind == K_PTR) { /* a pointer to an array */
        gtype e;
        if (!go_elem(m, &base, &e) || e.kind != K_ARRAY) return 0;
        base = e;
      }
      if (base.kind == K_SCALAR) { /* a string */
        out->kind = K_SCALAR;
        return 1;
      }
      if (base.kind == K_MAP)
        return x->kind == X_RANGEK ? map_key(m, &base, out) : go_map_value(m, &base, out);
      if (x->kind == X_RANGEK && (base.kind == K_SLICE || base.kind == K_ARRAY)) {
        out->kind = K_SCALAR;
        return 1;
      }
      if (base.kind == K_CHAN && x->kind == X_INDEX) return 0;
      return go_elem(m, &base, out);
    case X_ADDR:
      out->kind = K_PTR;
      out->addr_x = x->a; /* the operand's expression: go_elem reads it back */
      return 1;
    case X_DEREF:
      if (!expr_type(m, pkg, file, x->a, depth + 1, &base)) return 0;
      return go_elem(m, &base, out);
    default:
      return 0;
  }
}

static int expr_type(const go_module *m, uint32_t pkg, uint32_t file, uint32_t xi, int depth,
                     gtype *out) {
  if (t_nest >= NEST_MAX) depth = DEPTH_MAX + 1; /* the body answers "unknown" */
  t_nest++;
  int ok = expr_type_at(m, pkg, file, xi, depth, out);
  t_nest--;
  return ok;
}

int go_expr_type(const go_module *m, uint32_t pkg, uint32_t file, uint32_t x, gtype *out) {
  return expr_type(m, pkg, file, x, 0, out);
}

static refs_slot *refs_slot_of(const go_module *m, uint64_t key) {
  go_refs_memo *r = m->refs;
  if (r == NULL) return NULL;
  if (r->n * 2 >= r->cap) {
    size_t cap = r->cap ? r->cap * 2 : 256;
    refs_slot *nv = malloc(cap * sizeof *nv);
    if (nv == NULL) return NULL;
    for (size_t i = 0; i < cap; i++) nv[i].value = 2;
    for (size_t i = 0; i < r->cap; i++) {
      if (r->v[i].value == 2) continue;
      size_t h = (size_t)((r->v[i].key * 0x9E3779B97F4A7C15ull) >> 20) & (cap - 1);
      while (nv[h].value != 2) h = (h + 1) & (cap - 1);
      nv[h] = r->v[i];
    }
    free(r->v);
    r->v = nv;
    r->cap = cap;
  }
  size_t h = (size_t)((key * 0x9E3779B97F4A7C15ull) >> 20) & (r->cap - 1);
  while (r->v[h].value != 2 && r->v[h].key != key) h = (h + 1) & (r->cap - 1);
  return &r->v[h];
}

static int holds_refs(const go_module *m, const gtype *t, int depth);

static int holds_refs_cached(const go_module *m, const gtype *t, int depth) {
  if (t->env != 0 || t->kind != K_STRUCT || t->tx == 0) return holds_refs(m, t, depth);
  uint64_t key = ((uint64_t)t->pkg << 44) ^ ((uint64_t)t->file << 24) ^ t->tx;
  refs_slot *s = refs_slot_of(m, key);
  if (s && s->value != 2) return s->value;
  int v = holds_refs(m, t, depth);
  s = refs_slot_of(m, key); /* the table may have grown */
  if (s && s->value == 2) {
    s->key = key;
    s->value = (int8_t)v;
    m->refs->n++;
  }
  return v;
}

static int holds_refs(const go_module *m, const gtype *t, int depth) {
  switch (t->kind) {
    case K_PTR:
    case K_SLICE:
    case K_MAP:
    case K_CHAN:
    case K_FUNC:
    case K_IFACE:
      return 1;
    case K_SCALAR:
    case K_CONST:
      return 0;
    case K_STRUCT:
    case K_ARRAY:
      break;
    default:
      return -1;
  }
  if (t->tx == 0) return t->refs ? 1 : 0; /* a table type */
  if (depth > 8) return -1;
  if (t->kind == K_ARRAY) {
    gtype e;
    if (!go_elem(m, t, &e) && e.kind == K_UNKNOWN) return -1;
    return holds_refs(m, &e, depth + 1);
  }
  const scan_go_facts *g = go_facts(m, t->pkg, t->file);
  const go_tx *x = &g->txs.v[t->tx];
  int unknown = 0;
  for (uint32_t i = 0; i < x->b; i++) {
    gtype f;
    gtype_init(&f, t->pkg, t->file);
    resolve(m, t->pkg, t->file, g->fields.v[x->a + i].tx, t->env, depth + 1, &f);
    int r = holds_refs_cached(m, &f, depth + 1);
    if (r == 1) return 1;
    if (r < 0) unknown = 1;
  }
  return unknown ? -1 : 0;
}

int go_holds_refs(const go_module *m, const gtype *t) {
  return holds_refs_cached(m, t, 0);
}

int go_value_is_func(const go_module *m, const gtype *value) {
  gtype t = *value;
  for (int i = 0; i < 6; i++) {
    gtype next;
    switch (t.kind) {
      case K_FUNC:
        return 1;
      case K_SLICE:
      case K_PTR:
      case K_ARRAY:
        if (!go_elem(m, &t, &next)) return 0;
        break;
      case K_MAP:
        if (!go_map_value(m, &t, &next)) return 0;
        break;
      default:
        return 0;
    }
    t = next;
  }
  return 0;
}

size_t go_callees(const go_module *m, uint32_t pkg, uint32_t file, scan_str name, scan_str qual,
                  uint32_t recv_x, go_ref *out, size_t max) {
  size_t n = 0;
  go_ref r;
  if (qual.n > 0) {
    scan_str path;
    long p = go_import_pkg(m, pkg, file, qual, &path);
    for (size_t k = 0;
         p >= 0 && n < max && go_find(m, GO_TAG_FUNC, (uint32_t)p, name, no_str, &r, k); k++)
      out[n++] = r;
    return n;
  }
  if (recv_x != 0) {
    gtype t, base;
    if (go_expr_type(m, pkg, file, recv_x, &t) || t.kind == K_PTR) {
      base = t;
      if (t.kind == K_PTR && !go_elem(m, &t, &base)) base = t;
      if (base.has_decl) {
        const scan_go_facts *g = go_facts(m, base.decl.pkg, base.decl.file);
        for (size_t k = 0; n < max && go_find(m, GO_TAG_METHOD, base.decl.pkg, name,
                                              g->types.v[base.decl.idx].name, &r, k);
             k++)
          out[n++] = r;
        if (n > 0 || base.decl.pkg != pkg) return n;
      }
    }
    /* The receiver's type is not known: any method or function of that name here. */
    for (size_t k = 0; n < max && go_find(m, TAG_ANYFUNC, pkg, name, no_str, &r, k); k++)
      out[n++] = r;
    return n;
  }
  for (size_t k = 0; n < max && go_find(m, GO_TAG_FUNC, pkg, name, no_str, &r, k); k++)
    out[n++] = r;
  return n;
}
