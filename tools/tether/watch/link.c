/* Linking suspects to scan findings (watch.h). A suspect's frames are those of
 * its largest stacks in the last snapshot, and its own allocation site. Go
 * frames are matched by package, receiver and function name (a closure frame
 * counts as its enclosing function), C frames by name; files by their base
 * name, since the profile records the build machine's paths. The links:
 *  - a stored closure (TG104) defined in a function on the stacks, or
 *    capturing a variable declared at a frame's line, or defined in a function
 *    that a frame's line calls (register(name, alloc(id)): the allocation is
 *    passed in); the last two are strong links: the closure holds it;
 *  - the Register-like function (TG103) the closure goes through (another
 *    file of the package), or that is itself on the stacks;
 *  - the func map (TG102, else TG101) that closure or function fills;
 *  - for C, a registration (TC201, TC202) at a frame's line, or the function
 *    filling a callback table (TC203) on the stacks. */
#include "watch/watch.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "prof/report.h"

/* A Go function name split as the compiler writes it: pkg/path.(*Recv).Func,
 * pkg.Recv.Func, pkg.Func, with closure suffixes and type arguments removed. */
typedef struct go_name {
  scan_str pkg, recv, func;
} go_name;

static size_t strip_brackets(const char *s, size_t n, char *out, size_t cap) {
  size_t k = 0;
  int depth = 0;
  for (size_t i = 0; i < n && k + 1 < cap; i++) {
    if (s[i] == '[') depth++;
    else if (s[i] == ']' && depth > 0) depth--;
    else if (depth == 0) out[k++] = s[i];
  }
  out[k] = 0;
  return k;
}

/* Splits NAME (the bytes go to BUF, which the slices point into). 0 when it has no package part. */
static int split_go_name(const char *name, char *buf, size_t cap, go_name *g) {
  size_t encl = strlen(name);
  prof_is_closure(name, &encl);
  size_t n = strip_brackets(name, encl, buf, cap);
  const char *seg = buf, *end = buf + n;
  for (const char *q = buf; q < end; q++)
    if (*q == '/') seg = q + 1;
  const char *dot = memchr(seg, '.', (size_t)(end - seg));
  memset(g, 0, sizeof *g);
  if (dot == NULL) return 0;
  g->pkg = (scan_str){seg, (uint32_t)(dot - seg)};
  const char *rest = dot + 1;
  if (rest < end && *rest == '(') { /* (*Recv).Func */
    const char *close = memchr(rest, ')', (size_t)(end - rest));
    if (close == NULL || close + 1 >= end || close[1] != '.') return 0;
    const char *r = rest + 1;
    if (*r == '*') r++;
    g->recv = (scan_str){r, (uint32_t)(close - r)};
    g->func = (scan_str){close + 2, (uint32_t)(end - close - 2)};
    return 1;
  }
  const char *last = NULL;
  for (const char *q = rest; q < end; q++)
    if (*q == '.') last = q;
  if (last != NULL) {
    g->recv = (scan_str){rest, (uint32_t)(last - rest)};
    g->func = (scan_str){last + 1, (uint32_t)(end - last - 1)};
  } else {
    g->func = (scan_str){rest, (uint32_t)(end - rest)};
  }
  return 1;
}

static const char *base_name(const char *p) {
  const char *s = strrchr(p, '/');
  return s ? s + 1 : p;
}

static int same_file(const char *a, const char *b) { return a[0] && b[0] && strcmp(base_name(a), base_name(b)) == 0; }

/* Whether frame FR is function FUNC (receiver RECV) of Go package PKG, or C function FUNC. */
static int frame_is(const watch_frame *fr, scan_lang lang, scan_str pkg, scan_str recv, scan_str func) {
  if (func.n == 0) return 0;
  if (lang == SCAN_LANG_C) return scan_str_eq(func, fr->function);
  char buf[1024];
  go_name g;
  if (!split_go_name(fr->function, buf, sizeof buf, &g)) return 0;
  return scan_str_same(g.func, func) && scan_str_same(g.recv, recv) && scan_str_same(g.pkg, pkg);
}

/* The frames of a suspect: its site, then every frame of its stacks. */
typedef struct frames {
  watch_frame *v;
  size_t n;
} frames;

static int gather(const watch_suspect *s, frames *out) {
  size_t n = 1;
  for (size_t i = 0; i < s->nstacks; i++) n += s->stacks[i].nframes;
  out->v = calloc(n, sizeof *out->v);
  if (out->v == NULL) return -1;
  out->v[0] = (watch_frame){s->function, s->file, s->line, 0};
  out->n = 1;
  for (size_t i = 0; i < s->nstacks; i++)
    for (size_t k = 0; k < s->stacks[i].nframes; k++) out->v[out->n++] = s->stacks[i].frames[k];
  return 0;
}

static int add_link(watch_suspect *s, watch_link_role role, const scan_finding *f) {
  for (size_t i = 0; i < s->nlinks; i++)
    if (s->links[i].finding == f) return 0;
  watch_link *l = realloc(s->links, (s->nlinks + 1) * sizeof *l);
  if (l == NULL) return -1;
  s->links = l;
  memset(&l[s->nlinks], 0, sizeof *l);
  l[s->nlinks].role = role;
  l[s->nlinks].finding = f;
  s->nlinks++;
  return 0;
}

/* The file of the scan whose path is PATH. */
static const scan_file *file_of(const scan_result *scan, const char *path) {
  for (size_t i = 0; i < scan->nfiles; i++)
    if (scan->files[i].path == path || strcmp(scan->files[i].path, path) == 0) return &scan->files[i];
  return NULL;
}

/* Line LINE of the scanned file that FILE (a profile's path) names, or an empty slice. */
static scan_str source_line(const scan_result *scan, const char *file, int64_t line) {
  scan_str none = {"", 0};
  for (size_t i = 0; i < scan->nfiles; i++) {
    const scan_file *f = &scan->files[i];
    if (f->data == NULL || !same_file(f->path, file)) continue;
    const char *p = (const char *)f->data, *end = p + f->len;
    for (int64_t l = 1; l < line && p < end; l++) {
      const char *nl = memchr(p, '\n', (size_t)(end - p));
      p = nl ? nl + 1 : end;
    }
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    return (scan_str){p, (uint32_t)((nl ? nl : end) - p)};
  }
  return none;
}

/* Whether TEXT calls NAME: NAME( with no identifier character before it. */
static int calls(scan_str text, scan_str name) {
  for (uint32_t i = 0; name.n > 0 && i + name.n < text.n; i++) {
    if (memcmp(text.s + i, name.s, name.n) != 0 || text.s[i + name.n] != '(') continue;
    char before = i ? text.s[i - 1] : ' ';
    if (!(before == '_' || (before >= 'a' && before <= 'z') || (before >= 'A' && before <= 'Z') ||
          (before >= '0' && before <= '9')))
      return 1;
  }
  return 0;
}

/* The last element of a function name (main.(*T).Run.func1: func1), as a call writes it. */
static scan_str short_name(const char *name) {
  const char *dot = strrchr(name, '.'), *s = dot ? dot + 1 : name;
  return (scan_str){s, (uint32_t)strlen(s)};
}

/* The capture a fix names: the first that holds references, else the first. */
static int main_capture(const scan_facts *fx) {
  for (size_t c = 0; c < fx->ncaptures; c++)
    if (fx->capture_ref & (1u << c)) return (int)c;
  return fx->ncaptures ? 0 : -1;
}

/* A TG104 finding: is it defined on the frames, does it capture a variable
 * declared at a frame's line, or does a frame's line pass what it allocates to
 * the function that defines it? */
static int closure_link(watch_suspect *s, const frames *fr, const scan_result *scan, const scan_file *file,
                        const scan_finding *x) {
  const scan_facts *fx = x->facts;
  int on_stack = 0, strong = -1;
  int64_t call_line = 0;
  for (size_t k = 0; k < fr->n; k++) {
    const watch_frame *f = &fr->v[k];
    if (frame_is(f, file->lang, file->pkg, fx->recv, fx->func)) on_stack = 1;
    for (size_t c = 0; c < fx->ncaptures && strong < 0; c++)
      if (fx->capture_line[c] > 0 && f->line == fx->capture_line[c] && same_file(f->file, file->path))
        strong = (int)c;
  }
  /* Only when the closure's function is not itself on the stacks: it ran after
   * the allocation returned, with what was allocated as an argument, on the
   * line that called the allocating function (the frame below). */
  for (size_t k = 2; k < fr->n && !on_stack && strong < 0 && call_line == 0; k++) {
    scan_str text = source_line(scan, fr->v[k].file, fr->v[k].line);
    if (calls(text, fx->func) && calls(text, short_name(fr->v[k - 1].function))) call_line = fr->v[k].line;
  }
  if (strong < 0 && call_line > 0) strong = main_capture(fx);
  if (!on_stack && strong < 0 && call_line == 0) return 0;
  if (add_link(s, WATCH_LINK_CLOSURE, x) != 0) return -1;
  watch_link *l = &s->links[s->nlinks - 1];
  l->call_line = call_line;
  if (strong >= 0) {
    l->strong = 1;
    l->variable = strndup(fx->capture[strong].s, fx->capture[strong].n);
    l->variable_line = fx->capture_line[strong];
    if (l->variable == NULL) return -1;
  }
  return 0;
}

/* The map finding (TG102 first, else TG101) declared at FILE:LINE. */
static const scan_finding *map_finding(const scan_result *scan, const char *file, uint32_t line) {
  const scan_finding *tg101 = NULL;
  const scan_file *f = file ? file_of(scan, file) : NULL;
  for (size_t k = 0; f && k < f->findings.n; k++) {
    const scan_finding *x = &f->findings.v[k];
    if (x->line != line) continue;
    if (x->rule == SCAN_TG102) return x;
    if (x->rule == SCAN_TG101) tg101 = x;
  }
  return tg101;
}

static int same_map(const scan_facts *a, const scan_facts *b) {
  return a->map_file && b->map_file && a->map_line == b->map_line && strcmp(a->map_file, b->map_file) == 0;
}

/* The TG103 finding of function NAME that closure finding X goes through: in
 * X's package, or in another scanned package when it fills the same map (a
 * registry package of the module). */
static const scan_finding *register_finding(const scan_result *scan, const scan_file *file, scan_str name,
                                            const scan_finding *x) {
  for (size_t i = 0; i < scan->nfiles; i++) {
    const scan_file *f = &scan->files[i];
    if (f->lang != SCAN_LANG_GO) continue;
    int here = scan_str_same(f->pkg, file->pkg);
    for (size_t k = 0; k < f->findings.n; k++) {
      const scan_finding *r = &f->findings.v[k];
      if (r->rule == SCAN_TG103 && r->facts && scan_str_same(r->facts->func, name) &&
          (here || same_map(r->facts, x->facts)))
        return r;
    }
  }
  return NULL;
}

/* The links that follow from those found directly: maps and Register-like functions. */
static int follow(watch_suspect *s, const scan_result *scan) {
  for (size_t i = 0; i < s->nlinks; i++) {
    const scan_finding *x = s->links[i].finding;
    const scan_file *file = file_of(scan, x->file);
    if (x->facts == NULL || file == NULL) continue;
    if (x->rule == SCAN_TG104 && (x->facts->via.n > 0 || s->links[i].call_line > 0)) {
      /* Through Subscribe(func...), or register(name, alloc()) calling the closure's function. */
      const scan_finding *reg = register_finding(scan, file, x->facts->via.n ? x->facts->via : x->facts->func, x);
      if (reg && add_link(s, WATCH_LINK_REGISTER, reg) != 0) return -1;
    }
    if (x->rule == SCAN_TG104 || x->rule == SCAN_TG103) {
      const scan_finding *map = map_finding(scan, x->facts->map_file, x->facts->map_line);
      if (map && add_link(s, WATCH_LINK_MAP, map) != 0) return -1;
    }
  }
  return 0;
}

static int link_rank(const watch_link *l) {
  switch (l->role) {
    case WATCH_LINK_CLOSURE: return l->strong ? 0 : 1;
    case WATCH_LINK_REGISTER: return 2;
    case WATCH_LINK_MAP: return 3;
    default: return 4;
  }
}

static int by_rank(const void *a, const void *b) {
  const watch_link *x = a, *y = b;
  int d = link_rank(x) - link_rank(y);
  if (d) return d;
  int c = strcmp(x->finding->file, y->finding->file);
  return c ? c : (int)x->finding->line - (int)y->finding->line;
}

static int link_one(watch_suspect *s, const scan_result *scan) {
  frames fr;
  if (gather(s, &fr) != 0) return -1;
  int rc = 0;
  for (size_t i = 0; rc == 0 && i < scan->nfiles; i++) {
    const scan_file *file = &scan->files[i];
    for (size_t k = 0; rc == 0 && k < file->findings.n; k++) {
      const scan_finding *x = &file->findings.v[k];
      const scan_facts *fx = x->facts;
      if (fx == NULL) continue;
      if (x->rule == SCAN_TG104) {
        rc = closure_link(s, &fr, scan, file, x);
        continue;
      }
      for (size_t f = 0; rc == 0 && f < fr.n; f++) {
        const watch_frame *w = &fr.v[f];
        int hit = 0;
        if (x->rule == SCAN_TG103) hit = frame_is(w, file->lang, file->pkg, fx->recv, fx->func);
        else if (x->rule == SCAN_TC201 || x->rule == SCAN_TC202) hit = w->line == x->line && same_file(w->file, x->file);
        else if (x->rule == SCAN_TC203) hit = frame_is(w, SCAN_LANG_C, file->pkg, fx->recv, fx->func) &&
                                               same_file(w->file, x->file);
        if (hit) {
          rc = add_link(s, x->rule == SCAN_TG103 ? WATCH_LINK_REGISTER : WATCH_LINK_SITE, x);
          break;
        }
      }
    }
  }
  if (rc == 0) rc = follow(s, scan);
  if (rc == 0 && s->nlinks > 1) qsort(s->links, s->nlinks, sizeof *s->links, by_rank);
  free(fr.v);
  return rc;
}

int watch_link_findings(watch *w, watch_result *r, const scan_result *scan) {
  (void)w;
  for (size_t i = 0; i < r->nsuspects; i++)
    if (link_one(&r->suspects[i], scan) != 0) return -1;
  return 0;
}

/* The closure part of a fix: the captured variable's name makes the advice
 * concrete; else the finding's own hint. */
static char *closure_fix(const watch_link *l) {
  char *out = NULL;
  if (l->variable == NULL) return strdup(l->finding->hint);
  if (asprintf(&out, "copy the fields the func needs into locals before the literal (id := %s.id) and capture "
               "those, not %s", l->variable, l->variable) < 0)
    return NULL;
  return out;
}

char *watch_fix(const watch_suspect *s) {
  const watch_link *closure = NULL;
  const char *owner = NULL, *site = NULL;
  for (size_t i = 0; i < s->nlinks; i++) {
    const scan_finding *f = s->links[i].finding;
    if (f->hint == NULL || f->hint[0] == 0) continue;
    if (s->links[i].role == WATCH_LINK_CLOSURE && closure == NULL) closure = &s->links[i];
    else if ((s->links[i].role == WATCH_LINK_MAP || s->links[i].role == WATCH_LINK_REGISTER) &&
             (owner == NULL || f->rule == SCAN_TG103))
      owner = f->hint;
    else if (s->links[i].role == WATCH_LINK_SITE && site == NULL)
      site = f->hint;
  }
  char *out = NULL, *first = closure ? closure_fix(closure) : NULL;
  int n;
  if (closure && first == NULL) return NULL;
  if (first && owner) n = asprintf(&out, "%s; or remove the handler when its owner ends: %s", first, owner);
  else if (first) n = asprintf(&out, "%s", first);
  else if (owner) n = asprintf(&out, "remove the handler when its owner ends: %s", owner);
  else if (site) n = asprintf(&out, "%s", site);
  else n = 0;
  free(first);
  return n < 0 ? NULL : out;
}
