/* The Go half of `tether scan`, part three: the rules, over every package of the
 * scan at once. A map is a func map when its type (declared, or inferred from
 * its initialiser) holds funcs after the module's type facts are asked
 * (scan_go_types.c): map[K]func, map[K][]func, map[K]map[K2]func, a named or
 * generic func type as the value, a named map type, or a sync.Map into which
 * funcs are stored. Writes and removals find their map by name within the
 * package (a variable, or any struct field of that name), or through the
 * package qualifier of pkg.Var in another scanned package. A function is
 * Register-like when it stores one of its parameters in a func map, directly,
 * by passing it to a function that does (in any scanned package), or through a
 * helper that wraps it; the name list adds functions that write into a func map
 * at all. Findings go to the files that are not context-only. */
#include "scan_go.h"

#include <stdlib.h>
#include <string.h>

static const scan_str no_str = {"", 0};

typedef struct franges { /* one function's records, as index ranges into its file's vectors */
  uint32_t w0, w1, l0, l1, f0, f1;
} franges;

enum { M_FREE, M_BUSY, M_NONE, M_FOUND };

typedef struct memo_slot {
  uint64_t key;
  go_ref var;   /* M_FOUND: the func map */
  scan_str via; /* the first callee on the way, for messages */
  uint8_t state;
} memo_slot;

typedef struct rules {
  go_module m;
  const scan_options *o;
  size_t nfiles;
  uint32_t *pkg_base; /* global file id of each package's first file */
  size_t *var_base;   /* per global file: its first global var id */
  size_t nvars;
  int8_t *klass;        /* per var: -1 not asked, 0 not a map, 1 func map, 2 sync.Map */
  uint8_t *stores_func; /* sync.Map: a func is stored into it */
  uint8_t *shrinks;
  uint8_t *written;
  go_ref *first_write;
  franges **ranges; /* per global file, built on first use */
  memo_slot *memo;
  size_t memo_cap, memo_n;
} rules;

static const scan_go_facts *facts(const rules *R, uint32_t pkg, uint32_t file) {
  return go_facts(&R->m, pkg, file);
}

static uint32_t gfile(const rules *R, uint32_t pkg, uint32_t file) {
  return R->pkg_base[pkg] + file;
}

static size_t gvar(const rules *R, go_ref v) {
  return R->var_base[gfile(R, v.pkg, v.file)] + v.idx;
}

static scan_file *file_of(const rules *R, uint32_t pkg, uint32_t file) {
  return R->m.pkgs[pkg].files[file];
}

/* ---- Which maps hold funcs. ---- */

static int var_class(rules *R, go_ref v) {
  size_t id = gvar(R, v);
  if (R->klass[id] >= 0) return R->klass[id];
  R->klass[id] = 0;
  const go_var *var = &facts(R, v.pkg, v.file)->vars.v[v.idx];
  gtype t, val;
  int ok = var->tx ? go_type_of(&R->m, v.pkg, v.file, var->tx, 0, &t)
                   : go_expr_type(&R->m, v.pkg, v.file, var->x, &t);
  int k = 0;
  if (t.sync_map)
    k = 2;
  else if (ok) {
    if (t.kind == K_PTR) {
      gtype e;
      if (go_elem(&R->m, &t, &e)) t = e;
      if (t.sync_map) k = 2;
    }
    if (k == 0 && t.kind == K_MAP && go_map_value(&R->m, &t, &val) && go_value_is_func(&R->m, &val))
      k = 1;
  }
  R->klass[id] = (int8_t)k;
  return k;
}

static int is_func_map(rules *R, go_ref v) {
  int k = var_class(R, v);
  return k == 1 || (k == 2 && R->stores_func[gvar(R, v)]);
}

/* The vars a target names: PKG's variable, another package's (QUAL), or every
 * field of that name in PKG. Calls FN for each; stops when it returns nonzero. */
typedef int (*var_fn)(rules *R, go_ref v, void *arg);

/* Whether the selector path CHAIN that a write names (x.events.insertion.fns)
 * ends with field V's path in its type (events.insertion.fns; a plain field's
 * path is its name), white space aside. */
static int chain_matches(scan_str chain, scan_str var) {
  if (chain.n == 0) return 1;
  const char *a = chain.s + chain.n, *b = var.s + var.n;
  while (b > var.s) {
    while (a > chain.s && (a[-1] == ' ' || a[-1] == '\t' || a[-1] == '\n' || a[-1] == '\r')) a--;
    if (a == chain.s || a[-1] != b[-1]) return 0;
    a--, b--;
  }
  while (a > chain.s && (a[-1] == ' ' || a[-1] == '\t' || a[-1] == '\n' || a[-1] == '\r')) a--;
  return a == chain.s || a[-1] == '.';
}

static int each_target(rules *R, uint32_t pkg, uint32_t file, scan_str name, scan_str qual,
                       int is_field, scan_str chain, var_fn fn, void *arg) {
  go_ref r;
  if (qual.n > 0) {
    scan_str path;
    long p = go_import_pkg(&R->m, pkg, file, qual, &path);
    if (p < 0) return 0;
    return go_find(&R->m, GO_TAG_VAR, (uint32_t)p, name, no_str, &r, 0) && fn(R, r, arg);
  }
  int tag = is_field ? GO_TAG_FIELD : GO_TAG_VAR;
  for (size_t k = 0; go_find(&R->m, tag, pkg, name, no_str, &r, k); k++)
    if ((!is_field || chain_matches(chain, facts(R, r.pkg, r.file)->vars.v[r.idx].chain)) &&
        fn(R, r, arg))
      return 1;
  return 0;
}

static int first_func_map(rules *R, go_ref v, void *arg) {
  if (!is_func_map(R, v)) return 0;
  *(go_ref *)arg = v;
  return 1;
}

static int find_func_map(rules *R, uint32_t pkg, uint32_t file, scan_str name, scan_str qual,
                         int is_field, scan_str chain, go_ref *out) {
  return each_target(R, pkg, file, name, qual, is_field, chain, first_func_map, out);
}

/* ---- Pass over writes and removals. ---- */

static int param_is_func(rules *R, uint32_t pkg, uint32_t file, const go_func *fn, int param) {
  if (param < 0 || (uint32_t)param >= fn->param_count) return 0;
  const scan_go_facts *g = facts(R, pkg, file);
  gtype t;
  go_type_of(&R->m, pkg, file, g->params.v[fn->param_first + (uint32_t)param].tx, 0, &t);
  return t.kind == K_FUNC;
}

/* Whether a write stores a func (what makes a sync.Map a func map). */
static int write_stores_func(rules *R, uint32_t pkg, uint32_t file, const go_write *wr) {
  const scan_go_facts *g = facts(R, pkg, file);
  gtype t;
  if (wr->rhs_x && go_expr_type(&R->m, pkg, file, wr->rhs_x, &t) && t.kind == K_FUNC) return 1;
  if (wr->rhs_param >= 0 && wr->func >= 0 &&
      param_is_func(R, pkg, file, &g->funcs.v[wr->func], wr->rhs_param))
    return 1;
  go_ref r;
  return wr->rhs_name.n > 0 && go_find(&R->m, GO_TAG_FUNC, pkg, wr->rhs_name, no_str, &r, 0);
}

typedef struct write_arg {
  uint32_t pkg, file, idx;
  const go_write *wr;
  int stores_func;
} write_arg;

static int note_write(rules *R, go_ref v, void *arg) {
  write_arg *a = arg;
  int k = var_class(R, v);
  if (k == 0) return 0;
  size_t id = gvar(R, v);
  if (k == 2 && a->wr->kind == W_STORE) {
    if (a->stores_func < 0) a->stores_func = write_stores_func(R, a->pkg, a->file, a->wr);
    if (a->stores_func) R->stores_func[id] = 1;
  }
  if (!R->written[id]) {
    R->written[id] = 1;
    R->first_write[id] = (go_ref){a->pkg, a->file, a->idx};
  }
  if (a->wr->rhs_nil) R->shrinks[id] = 1;
  return 0;
}

static int is_init_func(scan_str name) {
  return scan_str_eq(name, "init") || (name.n >= 3 && memcmp(name.s, "New", 3) == 0) ||
         (name.n >= 3 && memcmp(name.s, "new", 3) == 0);
}

static int note_shrink(rules *R, go_ref v, void *arg) {
  (void)arg;
  R->shrinks[gvar(R, v)] = 1;
  return 0;
}

static void pass_writes(rules *R) {
  for (uint32_t p = 0; p < R->m.npkgs; p++)
    for (uint32_t f = 0; f < R->m.pkgs[p].n; f++) {
      const scan_go_facts *g = facts(R, p, f);
      for (uint32_t w = 0; w < g->writes.n; w++) {
        const go_write *wr = &g->writes.v[w];
        write_arg a = {p, f, w, wr, -1};
        each_target(R, p, f, wr->target, wr->qual, wr->is_field, wr->chain, note_write, &a);
      }
      for (uint32_t r = 0; r < g->removals.n; r++) {
        const go_removal *rm = &g->removals.v[r];
        if (rm->kind == R_REASSIGN && rm->func >= 0 && is_init_func(g->funcs.v[rm->func].name))
          continue;
        each_target(R, p, f, rm->target, rm->qual, rm->is_field, rm->chain, note_shrink, NULL);
      }
    }
}

/* ---- Per-function ranges. ---- */

static const franges *ranges_of(rules *R, uint32_t pkg, uint32_t file, int32_t func) {
  uint32_t id = gfile(R, pkg, file);
  const scan_go_facts *g = facts(R, pkg, file);
  if (func < 0 || (size_t)func >= g->funcs.n) return NULL;
  if (R->ranges[id] == NULL) {
    franges *fr = calloc(g->funcs.n + 1, sizeof *fr);
    if (fr == NULL) return NULL;
    for (size_t i = 0; i < g->funcs.n; i++) fr[i].w0 = fr[i].l0 = fr[i].f0 = UINT32_MAX;
#define RANGE(vec, lo, hi)                            \
  for (uint32_t i = 0; i < g->vec.n; i++) {           \
    int32_t fi = g->vec.v[i].func;                    \
    if (fi < 0 || (size_t)fi >= g->funcs.n) continue; \
    if (fr[fi].lo == UINT32_MAX) fr[fi].lo = i;       \
    fr[fi].hi = i + 1;                                \
  }
    RANGE(writes, w0, w1)
    RANGE(lits, l0, l1)
    RANGE(fwds, f0, f1)
#undef RANGE
    for (size_t i = 0; i < g->funcs.n; i++) {
      if (fr[i].w0 == UINT32_MAX) fr[i].w0 = fr[i].w1 = 0;
      if (fr[i].l0 == UINT32_MAX) fr[i].l0 = fr[i].l1 = 0;
      if (fr[i].f0 == UINT32_MAX) fr[i].f0 = fr[i].f1 = 0;
    }
    R->ranges[id] = fr;
  }
  return &R->ranges[id][func];
}

/* ---- Register-like by behaviour: does function FN store its parameter J in a func map? ---- */

static size_t memo_hash(uint64_t key, size_t cap) {
  key ^= key >> 31;
  key *= 0x9E3779B97F4A7C15ull;
  key ^= key >> 29;
  return (size_t)key & (cap - 1);
}

static memo_slot *memo_get(rules *R, uint64_t key) {
  if (R->memo_n * 2 >= R->memo_cap) {
    size_t cap = R->memo_cap ? R->memo_cap * 2 : 1024;
    memo_slot *nv = calloc(cap, sizeof *nv);
    if (nv == NULL) return NULL;
    for (size_t i = 0; i < R->memo_cap; i++) {
      if (R->memo[i].state == M_FREE) continue;
      size_t h = memo_hash(R->memo[i].key, cap);
      while (nv[h].state != M_FREE) h = (h + 1) & (cap - 1);
      nv[h] = R->memo[i];
    }
    free(R->memo);
    R->memo = nv;
    R->memo_cap = cap;
  }
  size_t h = memo_hash(key, R->memo_cap);
  while (R->memo[h].state != M_FREE && R->memo[h].key != key) h = (h + 1) & (R->memo_cap - 1);
  return &R->memo[h];
}

typedef struct store_hit {
  go_ref var;
  scan_str via;
  int found;
} store_hit;

static int stores_param(rules *R, go_ref fn, int param, int depth, store_hit *out);

/* Whether any function a call reaches stores its argument ARGI. */
static int callee_stores(rules *R, uint32_t pkg, uint32_t file, scan_str name, scan_str qual,
                         uint32_t recv_x, int argi, int depth, store_hit *out) {
  go_ref cands[8];
  size_t nc = go_callees(&R->m, pkg, file, name, qual, recv_x, cands, 8);
  for (size_t i = 0; i < nc; i++) {
    if (stores_param(R, cands[i], argi, depth + 1, out)) {
      out->via = facts(R, cands[i].pkg, cands[i].file)->funcs.v[cands[i].idx].name;
      return 1;
    }
  }
  return 0;
}

static int stores_param(rules *R, go_ref fn, int param, int depth, store_hit *out) {
  if (param < 0 || param > 255 || depth > 12) return 0;
  uint64_t key =
      ((uint64_t)gfile(R, fn.pkg, fn.file) << 32) | ((uint64_t)fn.idx << 8) | (uint64_t)param;
  memo_slot *s = memo_get(R, key);
  if (s == NULL) return 0;
  if (s->state == M_FOUND) {
    out->found = 1;
    out->var = s->var;
    out->via = s->via;
    return 1;
  }
  if (s->state != M_FREE) return 0; /* none, or being computed (a cycle) */
  s->key = key;
  s->state = M_BUSY;
  R->memo_n++;
  const scan_go_facts *g = facts(R, fn.pkg, fn.file);
  const franges *fr = ranges_of(R, fn.pkg, fn.file, (int32_t)fn.idx);
  store_hit hit = {{0, 0, 0}, no_str, 0};
  for (uint32_t i = fr ? fr->w0 : 0; fr && i < fr->w1 && !hit.found; i++) {
    const go_write *wr = &g->writes.v[i];
    if (wr->func != (int32_t)fn.idx || wr->rhs_param != param) continue;
    if (find_func_map(R, fn.pkg, fn.file, wr->target, wr->qual, wr->is_field, wr->chain, &hit.var))
      hit.found = 1;
  }
  for (uint32_t i = fr ? fr->l0 : 0; fr && i < fr->l1 && !hit.found; i++) {
    const go_lit *l = &g->lits.v[i];
    if (l->func != (int32_t)fn.idx || !l->is_call || l->param != param) continue;
    if (l->role == ROLE_STORE &&
        find_func_map(R, fn.pkg, fn.file, l->target, l->qual, l->is_field, l->chain, &hit.var)) {
      hit.found = 1;
      hit.via = l->callee;
    } else if (l->role == ROLE_ARG) {
      hit.found =
          callee_stores(R, fn.pkg, fn.file, l->target, l->qual, l->recv_x, l->argi, depth, &hit);
    }
  }
  for (uint32_t i = fr ? fr->f0 : 0; fr && i < fr->f1 && !hit.found; i++) {
    const go_fwd *fw = &g->fwds.v[i];
    if (fw->func != (int32_t)fn.idx || fw->param != param) continue;
    hit.found =
        callee_stores(R, fn.pkg, fn.file, fw->callee, fw->qual, fw->recv_x, fw->argi, depth, &hit);
  }
  s = memo_get(R, key); /* the table may have grown */
  if (s == NULL) return 0;
  if (!hit.found) {
    s->state = M_NONE;
    return 0;
  }
  s->state = M_FOUND;
  s->var = hit.var;
  s->via = hit.via;
  *out = hit;
  return 1;
}

/* Set(t, nil), where Set stores that parameter in a func map, releases the
 * func stored there: the map counts as shrinking, like m[k] = nil. */
static void pass_nil_args(rules *R) {
  for (uint32_t p = 0; p < R->m.npkgs; p++)
    for (uint32_t f = 0; f < R->m.pkgs[p].n; f++) {
      const scan_go_facts *g = facts(R, p, f);
      for (uint32_t i = 0; i < g->fwds.n; i++) {
        const go_fwd *fw = &g->fwds.v[i];
        store_hit hit = {{0, 0, 0}, no_str, 0};
        if (fw->param == GO_FWD_NIL &&
            callee_stores(R, p, f, fw->callee, fw->qual, fw->recv_x, fw->argi, 0, &hit))
          R->shrinks[gvar(R, hit.var)] = 1;
      }
    }
}

/* ---- Findings. ---- */

/* Adds a finding unless its file is context-only or its rule is off or
 * suppressed there; returns its facts record (to fill) or NULL. */
static scan_facts *emit(rules *R, scan_file *f, uint32_t line, uint32_t col, scan_rule rule,
                        scan_severity sev, const char *hint, const char *msg) {
  if (f->context_only || !scan_rule_enabled(R->o, rule) || scan_suppressed(f, line, rule))
    return NULL;
  scan_add(&f->findings, f, line, col, rule, sev, hint, "%s", msg);
  return scan_add_facts(&f->findings);
}

static int name_matches(const char *pat, const char *s, size_t n) {
  if (*pat == 0) return n == 0;
  if (*pat == '*') {
    for (size_t i = 0; i <= n; i++)
      if (name_matches(pat + 1, s + i, n - i)) return 1;
    return 0;
  }
  return n > 0 && *pat == *s && name_matches(pat + 1, s + 1, n - 1);
}

static int is_register_name(const scan_options *o, scan_str name) {
  for (size_t i = 0; i < o->nregister_names; i++)
    if (name_matches(o->register_names[i], name.s, name.n)) return 1;
  return 0;
}

static const go_var *var_of(const rules *R, go_ref v) {
  return &facts(R, v.pkg, v.file)->vars.v[v.idx];
}

/* The facts every finding about func map V carries. */
static void map_facts(const rules *R, scan_facts *fx, go_ref v) {
  if (fx == NULL) return;
  const go_var *var = var_of(R, v);
  fx->map = var->name;
  fx->owner = var->owner;
  fx->map_file = file_of(R, v.pkg, v.file)->path;
  fx->map_line = var->line;
  fx->map_shrinks = R->shrinks[gvar(R, v)] != 0;
}

/* TG101 and TG102 for one func map. */
static void check_map(rules *R, go_ref v) {
  const go_var *var = var_of(R, v);
  scan_file *f = file_of(R, v.pkg, v.file);
  char msg[768];
  size_t id = gvar(R, v);
  if (!var->is_field) {
    if (var->type_text.n > 0)
      snprintf(msg, sizeof msg, "package-level variable '%.*s' is a map of funcs (%.*s)",
               (int)var->name.n, var->name.s, (int)var->type_text.n, var->type_text.s);
    else
      snprintf(msg, sizeof msg,
               "package-level variable '%.*s' is a map of funcs (the type of its initialiser)",
               (int)var->name.n, var->name.s);
    map_facts(R,
              emit(R, f, var->line, var->col, SCAN_TG101, SCAN_WARNING,
                   "keep callbacks in a registry value with an owner and an Unregister that "
                   "deletes, not in a package-level map that lives as long as the program",
                   msg),
              v);
  }
  if (!R->written[id] || R->shrinks[id]) return;
  go_ref w = R->first_write[id];
  const go_write *wr = &facts(R, w.pkg, w.file)->writes.v[w.idx];
  snprintf(msg, sizeof msg,
           "func map %s '%.*s%s%.*s' is written (first at %s:%u) but nothing in the package "
           "deletes from it: every func stored stays reachable, with all it captured",
           var->is_field ? "field" : "package-level variable", (int)var->owner.n, var->owner.s,
           var->is_field ? "." : "", (int)var->name.n, var->name.s, file_of(R, w.pkg, w.file)->path,
           wr->line);
  map_facts(R,
            emit(R, f, var->line, var->col, SCAN_TG102, SCAN_ERROR,
                 "add an Unregister that calls delete(m, key) (or a Close that clears the map) "
                 "and make callers defer it",
                 msg),
            v);
}

static int leaky_map(rules *R, go_ref v) {
  size_t id = gvar(R, v);
  return is_func_map(R, v) && R->written[id] && !R->shrinks[id];
}

typedef struct reg_arg {
  go_ref found[4];
  size_t n;
} reg_arg;

static int collect_leaky(rules *R, go_ref v, void *arg) {
  reg_arg *a = arg;
  if (!leaky_map(R, v)) return 0;
  for (size_t i = 0; i < a->n; i++)
    if (memcmp(&a->found[i], &v, sizeof v) == 0) return 0;
  if (a->n < 4) a->found[a->n++] = v;
  return 0;
}

static void report_register(rules *R, go_ref fn, go_ref map, scan_str via, int by_param) {
  const scan_go_facts *g = facts(R, fn.pkg, fn.file);
  const go_func *f = &g->funcs.v[fn.idx];
  const go_var *var = var_of(R, map);
  char msg[640], through[160] = "";
  if (via.n > 0 && !scan_str_same(via, f->name))
    snprintf(through, sizeof through, " (through '%.*s')", (int)via.n, via.s);
  snprintf(msg, sizeof msg, "'%.*s' %s func map '%.*s'%s and no function %s removes from it",
           (int)f->name.n, f->name.s, by_param ? "stores its func parameter in" : "adds to",
           (int)var->chain.n, var->chain.s, through,
           map.pkg == fn.pkg ? "in the package" : "of the scanned packages");
  scan_facts *fx = emit(R, file_of(R, fn.pkg, fn.file), f->line, f->col, SCAN_TG103, SCAN_WARNING,
                        "pair it with an Unregister (or return a cancel func) that deletes the "
                        "entry",
                        msg);
  map_facts(R, fx, map);
  if (fx) {
    fx->func = f->name;
    fx->recv = f->recv;
  }
}

/* TG103: every function that adds to a func map nothing shrinks, by name or by
 * storing its parameter. */
static void check_register(rules *R) {
  for (uint32_t p = 0; p < R->m.npkgs; p++)
    for (uint32_t fi = 0; fi < R->m.pkgs[p].n; fi++) {
      const scan_go_facts *g = facts(R, p, fi);
      if (file_of(R, p, fi)->context_only) continue;
      for (uint32_t k = 0; k < g->funcs.n; k++) {
        const go_func *f = &g->funcs.v[k];
        go_ref fn = {p, fi, k};
        reg_arg named = {{{0, 0, 0}}, 0};
        if (is_register_name(R->o, f->name)) {
          const franges *fr = ranges_of(R, p, fi, (int32_t)k);
          for (uint32_t i = fr ? fr->w0 : 0; fr && i < fr->w1; i++) {
            const go_write *wr = &g->writes.v[i];
            if (wr->func == (int32_t)k)
              each_target(R, p, fi, wr->target, wr->qual, wr->is_field, wr->chain, collect_leaky,
                          &named);
          }
        }
        for (size_t i = 0; i < named.n; i++) report_register(R, fn, named.found[i], no_str, 0);
        for (uint32_t j = 0; j < f->param_count && j < 64; j++) {
          store_hit hit = {{0, 0, 0}, no_str, 0};
          if (!stores_param(R, fn, (int)j, 0, &hit) || !leaky_map(R, hit.var)) continue;
          int dup = 0;
          for (size_t i = 0; i < named.n; i++)
            dup |= memcmp(&named.found[i], &hit.var, sizeof hit.var) == 0;
          if (!dup) report_register(R, fn, hit.var, hit.via, 1);
          break;
        }
      }
    }
}

/* The captures of literal L (in PKG/FILE) as text; *ANY_REF when one holds references. */
static void describe_captures(rules *R, uint32_t pkg, uint32_t file, const go_lit *l, char *list,
                              size_t cap, char *first_ref, size_t fcap, int *any_ref) {
  const scan_go_facts *g = facts(R, pkg, file);
  size_t used = 0;
  list[0] = 0;
  for (uint32_t i = 0; i < l->cap_count; i++) {
    const go_capture *c = &g->caps.v[l->cap_first + i];
    gtype t;
    go_expr_type(&R->m, pkg, file, c->x, &t);
    int refs = go_holds_refs(&R->m, &t);
    vkind k = t.kind == K_NAMED ? K_UNKNOWN : t.kind;
    const char *kn = refs == 1 && k == K_STRUCT                    ? "struct holding references"
                     : refs == 1 && k == K_ARRAY                   ? "array holding references"
                     : (k == K_STRUCT || k == K_ARRAY) && refs < 0 ? go_kind_name(K_UNKNOWN)
                                                                   : go_kind_name(k);
    int show = t.name.n > 0 && k != K_PTR && (t.has_decl || t.path.n > 0 || k == K_UNKNOWN);
    if (refs == 1 && !*any_ref) snprintf(first_ref, fcap, "%.*s", (int)c->name.n, c->name.s);
    if (refs == 1) *any_ref = 1;
    int wrote =
        snprintf(list + used, cap - used, "%s%.*s (%.*s%s%s)", i ? ", " : "", (int)c->name.n,
                 c->name.s, show ? (int)t.name.n : 0, t.name.s, show ? ": " : "", kn);
    if (wrote < 0 || (size_t)wrote >= cap - used) break;
    used += (size_t)wrote;
  }
}

/* The facts of a TG104 finding: where the literal (or helper call) L is, what
 * it goes through, and what CLOSURE (in CPKG/CFILE) captures. Declaration lines
 * are given when CLOSURE is L itself: a helper's captures are its own locals. */
static void literal_facts(rules *R, scan_facts *fx, uint32_t pkg, uint32_t file, const go_lit *l,
                          uint32_t cpkg, uint32_t cfile, const go_lit *closure) {
  const scan_go_facts *g = facts(R, pkg, file), *cg = facts(R, cpkg, cfile);
  if (l->func >= 0 && (size_t)l->func < g->funcs.n) {
    fx->func = g->funcs.v[l->func].name;
    fx->recv = g->funcs.v[l->func].recv;
  }
  if (l->role == ROLE_ARG) fx->via = l->target;
  fx->end_line = l->end_line;
  int same = closure == l;
  for (uint32_t i = 0; i < closure->cap_count && fx->ncaptures < SCAN_MAX_CAPTURES; i++) {
    const go_capture *c = &cg->caps.v[closure->cap_first + i];
    gtype t;
    go_expr_type(&R->m, cpkg, cfile, c->x, &t);
    if (go_holds_refs(&R->m, &t) == 1) fx->capture_ref |= 1u << fx->ncaptures;
    fx->capture_line[fx->ncaptures] = same ? c->decl_line : 0;
    fx->capture[fx->ncaptures++] = c->name;
  }
}

static void report_literal(rules *R, uint32_t pkg, uint32_t file, const go_lit *l, go_ref mapref,
                           uint32_t cpkg, uint32_t cfile, const go_lit *closure, scan_str helper) {
  const go_var *map = var_of(R, mapref);
  char list[512], first_ref[128] = "", msg[1024], hint[384];
  int any_ref = 0;
  describe_captures(R, cpkg, cfile, closure, list, sizeof list, first_ref, sizeof first_ref,
                    &any_ref);
  if (helper.n == 0) {
    snprintf(msg, sizeof msg, "func literal stored in func map '%.*s'%s%.*s captures %s%s",
             (int)map->name.n, map->name.s, l->role == ROLE_ARG ? " through " : "",
             l->role == ROLE_ARG ? (int)l->target.n : 0, l->target.s, list,
             any_ref ? "; the map keeps what they reference alive"
                     : "; all scalar or of types not known here");
    snprintf(hint, sizeof hint,
             "copy the fields the func needs into locals before the literal (id := %s.ID) and "
             "capture those, not %s",
             first_ref[0] ? first_ref : "data", first_ref[0] ? first_ref : "the whole object");
  } else {
    snprintf(
        msg, sizeof msg,
        "the closure made by '%.*s' (%s:%u) is stored in func map '%.*s'%s%.*s and captures %s%s",
        (int)helper.n, helper.s, file_of(R, cpkg, cfile)->path, closure->line, (int)map->name.n,
        map->name.s, l->role == ROLE_ARG ? " through " : "",
        l->role == ROLE_ARG ? (int)l->target.n : 0, l->target.s, list,
        any_ref ? "; the map keeps what they reference alive"
                : "; all scalar or of types not known here");
    snprintf(hint, sizeof hint,
             "make '%.*s' copy what its closure needs (id := %s.ID) instead of capturing %s, or "
             "remove the entry when its owner goes away",
             (int)helper.n, helper.s, first_ref[0] ? first_ref : "data",
             first_ref[0] ? first_ref : "it");
  }
  scan_file *f = file_of(R, pkg, file);
  scan_facts *fx =
      emit(R, f, l->line, l->col, SCAN_TG104, any_ref ? SCAN_ERROR : SCAN_NOTE, hint, msg);
  if (fx == NULL) return;
  map_facts(R, fx, mapref);
  literal_facts(R, fx, pkg, file, l, cpkg, cfile, closure);
}

/* The func map a literal or call site ends up in, if any. */
static int site_map(rules *R, uint32_t pkg, uint32_t file, const go_lit *l, go_ref *map) {
  if (l->role == ROLE_STORE)
    return find_func_map(R, pkg, file, l->target, l->qual, l->is_field, l->chain, map);
  if (l->role != ROLE_ARG) return 0;
  store_hit hit = {{0, 0, 0}, no_str, 0};
  if (!callee_stores(R, pkg, file, l->target, l->qual, l->recv_x, l->argi, 0, &hit)) return 0;
  *map = hit.var;
  return 1;
}

/* TG104 for one literal, or for a helper call whose closure is stored. */
static void check_literal(rules *R, uint32_t pkg, uint32_t file, const go_lit *l) {
  if (l->role == ROLE_RETURN || (!l->is_call && l->cap_count == 0)) return;
  go_ref map;
  if (!site_map(R, pkg, file, l, &map)) return;
  if (!l->is_call) {
    report_literal(R, pkg, file, l, map, pkg, file, l, no_str);
    return;
  }
  go_ref helpers[4];
  size_t nh = go_callees(&R->m, pkg, file, l->callee, l->callee_qual, l->callee_recv, helpers, 4);
  for (size_t i = 0; i < nh; i++) {
    const scan_go_facts *hg = facts(R, helpers[i].pkg, helpers[i].file);
    const franges *fr = ranges_of(R, helpers[i].pkg, helpers[i].file, (int32_t)helpers[i].idx);
    for (uint32_t k = fr ? fr->l0 : 0; fr && k < fr->l1; k++) {
      const go_lit *c = &hg->lits.v[k];
      if (c->role != ROLE_RETURN || c->func != (int32_t)helpers[i].idx || c->cap_count == 0)
        continue;
      report_literal(R, pkg, file, l, map, helpers[i].pkg, helpers[i].file, c,
                     hg->funcs.v[helpers[i].idx].name);
      return;
    }
  }
}

static void check_overwrites(rules *R, uint32_t pkg, uint32_t file) {
  const scan_go_facts *g = facts(R, pkg, file);
  for (uint32_t w = 0; w < g->writes.n; w++) {
    const go_write *wr = &g->writes.v[w];
    go_ref map;
    if (wr->kind != W_ASSIGN || wr->rhs_nil || wr->checked) continue;
    if (!find_func_map(R, pkg, file, wr->target, wr->qual, wr->is_field, wr->chain, &map)) continue;
    char msg[256];
    snprintf(msg, sizeof msg,
             "'%.*s[...] = ...' replaces any func already stored under that key, silently",
             (int)wr->target.n, wr->target.s);
    emit(R, file_of(R, pkg, file), wr->line, wr->col, SCAN_TG105, SCAN_NOTE,
         "check `if _, ok := m[k]; ok` first and reject or unregister the old entry", msg);
  }
}

static void rules_free(rules *R) {
  for (size_t i = 0; R->ranges && i < R->nfiles; i++) free(R->ranges[i]);
  free(R->ranges);
  free(R->pkg_base);
  free(R->var_base);
  free(R->klass);
  free(R->stores_func);
  free(R->shrinks);
  free(R->written);
  free(R->first_write);
  free(R->memo);
  go_module_free(&R->m);
}

void scan_go_module(scan_file **files, size_t n, const scan_options *o) {
  rules R;
  memset(&R, 0, sizeof R);
  R.o = o;
  if (go_module_build(&R.m, files, n, o) != 0) {
    rules_free(&R);
    return;
  }
  R.pkg_base = calloc(R.m.npkgs + 1, sizeof *R.pkg_base);
  for (uint32_t p = 0; R.pkg_base && p < R.m.npkgs; p++) {
    R.pkg_base[p] = (uint32_t)R.nfiles;
    R.nfiles += R.m.pkgs[p].n;
  }
  R.var_base = calloc(R.nfiles + 1, sizeof *R.var_base);
  R.ranges = calloc(R.nfiles + 1, sizeof *R.ranges);
  if (R.pkg_base == NULL || R.var_base == NULL || R.ranges == NULL) {
    rules_free(&R);
    return;
  }
  for (uint32_t p = 0; p < R.m.npkgs; p++)
    for (uint32_t f = 0; f < R.m.pkgs[p].n; f++) {
      R.var_base[gfile(&R, p, f)] = R.nvars;
      R.nvars += facts(&R, p, f)->vars.n;
    }
  R.klass = malloc(R.nvars + 1);
  R.stores_func = calloc(R.nvars + 1, 1);
  R.shrinks = calloc(R.nvars + 1, 1);
  R.written = calloc(R.nvars + 1, 1);
  R.first_write = calloc(R.nvars + 1, sizeof *R.first_write);
  if (!R.klass || !R.stores_func || !R.shrinks || !R.written || !R.first_write) {
    rules_free(&R);
    return;
  }
  memset(R.klass, -1, R.nvars + 1);
  pass_writes(&R);
  pass_nil_args(&R);
  for (uint32_t p = 0; p < R.m.npkgs; p++)
    for (uint32_t f = 0; f < R.m.pkgs[p].n; f++) {
      const scan_go_facts *g = facts(&R, p, f);
      for (uint32_t v = 0; v < g->vars.n; v++) {
        go_ref r = {p, f, v};
        if (!g->vars.v[v].is_field || R.written[gvar(&R, r)])
          if (is_func_map(&R, r)) check_map(&R, r);
      }
    }
  check_register(&R);
  for (uint32_t p = 0; p < R.m.npkgs; p++)
    for (uint32_t f = 0; f < R.m.pkgs[p].n; f++) {
      if (file_of(&R, p, f)->context_only) continue;
      const scan_go_facts *g = facts(&R, p, f);
      for (uint32_t l = 0; l < g->lits.n; l++) check_literal(&R, p, f, &g->lits.v[l]);
      check_overwrites(&R, p, f);
    }
  rules_free(&R);
}

void scan_go_package(scan_file **files, size_t n, const scan_options *o) {
  scan_go_module(files, n, o);
}
