/* The C half of `tether scan`. One iterative walk per file records: calls of
 * register functions from the pairing table (TC202, decided over all scanned C
 * files at the end), which unregister functions the file names, tether_register
 * calls that discard their handle with no owner or TTL (TC201), and file-scope
 * tables of callbacks with their run-time fills and clears (TC203). TC201 and
 * TC203 are decided when the walk ends, since they only need the one file. */
#include "scan.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

enum {
  C_OTHER, C_COMMENT, C_DECLARATION, C_INIT_DECLARATOR, C_ARRAY_DECLARATOR,
  C_FUNCTION_DECLARATOR, C_POINTER_DECLARATOR, C_PARENTHESIZED_DECLARATOR, C_STRUCT_SPECIFIER,
  C_FIELD_DECLARATION, C_TYPE_DEFINITION, C_TYPE_IDENTIFIER, C_IDENTIFIER, C_FIELD_IDENTIFIER,
  C_CALL_EXPRESSION, C_ASSIGNMENT_EXPRESSION, C_SUBSCRIPT_EXPRESSION, C_FIELD_EXPRESSION,
  C_FUNCTION_DEFINITION, C_NULL, C_NUMBER_LITERAL, C_COMPOUND_LITERAL_EXPRESSION,
  C_INITIALIZER_LIST, C_FIELD_DESIGNATOR, C_POINTER_EXPRESSION, C_CAST_EXPRESSION,
  C_PARENTHESIZED_EXPRESSION, C_TRANSLATION_UNIT, C_KIND_COUNT
};

static const char *const kind_names[C_KIND_COUNT] = {
    [C_COMMENT] = "comment", [C_DECLARATION] = "declaration",
    [C_INIT_DECLARATOR] = "init_declarator", [C_ARRAY_DECLARATOR] = "array_declarator",
    [C_FUNCTION_DECLARATOR] = "function_declarator",
    [C_POINTER_DECLARATOR] = "pointer_declarator",
    [C_PARENTHESIZED_DECLARATOR] = "parenthesized_declarator",
    [C_STRUCT_SPECIFIER] = "struct_specifier", [C_FIELD_DECLARATION] = "field_declaration",
    [C_TYPE_DEFINITION] = "type_definition", [C_TYPE_IDENTIFIER] = "type_identifier",
    [C_IDENTIFIER] = "identifier", [C_FIELD_IDENTIFIER] = "field_identifier",
    [C_CALL_EXPRESSION] = "call_expression",
    [C_ASSIGNMENT_EXPRESSION] = "assignment_expression",
    [C_SUBSCRIPT_EXPRESSION] = "subscript_expression",
    [C_FIELD_EXPRESSION] = "field_expression", [C_FUNCTION_DEFINITION] = "function_definition",
    [C_NULL] = "null", [C_NUMBER_LITERAL] = "number_literal",
    [C_COMPOUND_LITERAL_EXPRESSION] = "compound_literal_expression",
    [C_INITIALIZER_LIST] = "initializer_list", [C_FIELD_DESIGNATOR] = "field_designator",
    [C_POINTER_EXPRESSION] = "pointer_expression", [C_CAST_EXPRESSION] = "cast_expression",
    [C_PARENTHESIZED_EXPRESSION] = "parenthesized_expression",
    [C_TRANSLATION_UNIT] = "translation_unit",
};

enum { F_DECLARATOR, F_TYPE, F_BODY, F_NAME, F_FUNCTION, F_ARGUMENTS, F_LEFT, F_RIGHT,
       F_ARGUMENT, F_VALUE, F_FIELD_COUNT };
static const char *const field_names[F_FIELD_COUNT] = {
    "declarator", "type", "body", "name", "function", "arguments", "left", "right",
    "argument", "value"};

static scan_grammar grammar;
static TSFieldId field_id[F_FIELD_COUNT];
static pthread_once_t tables_once = PTHREAD_ONCE_INIT;

static void tables_init(void) {
  scan_grammar_init(&grammar, scan_lang_c(), kind_names, C_KIND_COUNT, field_names, F_FIELD_COUNT,
                    field_id);
}

static int kind(TSNode n) { return scan_grammar_kind(&grammar, n); }
static uint32_t nchild(TSNode n) { return scan_nchild(n); }
static TSNode nth(TSNode n, uint32_t i) { return scan_nth(n, i); }
static TSNode field(TSNode n, int f) { return scan_field(&grammar, n, f); }

/* ---- Facts. ---- */

typedef struct c_call {
  uint32_t line, col;
  size_t pair;
  scan_str name;
  scan_str func; /* the function making the call */
} c_call;

typedef struct c_struct { /* a struct (or typedef name) that holds a callback */
  scan_str name;
  int fnptr, ptr; /* has a function pointer field / a data pointer field (both 1) */
} c_struct;

typedef struct c_table {
  scan_str name;
  uint32_t line, col;
  int fnptr_array; /* 1: an array of function pointers; 0: of callback structs */
  int filled, cleared;
  scan_str fill_func; /* the first function that fills it */
} c_table;

typedef struct scan_c_facts {
  struct { c_call *v; size_t n, cap; } regs;
  unsigned char *unreg_seen; /* per pair */
  size_t npairs;
} scan_c_facts;

void scan_c_facts_free(scan_c_facts *c) {
  if (c == NULL) return;
  free(c->regs.v);
  free(c->unreg_seen);
  free(c);
}

typedef struct cwalk {
  scan_file *f;
  const scan_options *o;
  scan_c_facts *c;
  struct { c_struct *v; size_t n, cap; } structs;
  struct { scan_str *v; size_t n, cap; } fnptr_types;
  struct { c_table *v; size_t n, cap; } tables;
  struct { struct tc201 { TSNode call; scan_str func; } *v; size_t n, cap; } tc201;
  int ptr_arrays; /* file-scope arrays of data pointers (context tables) */
  uint32_t func_end; /* end byte of the function definition being walked, or 0 */
  scan_str func;     /* its name */
} cwalk;

static scan_str str_of(cwalk *w, TSNode n) { return scan_node_str(w->f, n); }

static int pattern_matches(const char *pat, scan_str s) {
  size_t n = strlen(pat);
  if (n > 0 && pat[n - 1] == '*') return s.n >= n - 1 && memcmp(s.s, pat, n - 1) == 0;
  return scan_str_eq(s, pat);
}

/* ---- Declarator shapes. ---- */

typedef struct shape {
  int fnptr, ptr, array;
  TSNode name;
} shape;

/* Follows a declarator down to its identifier, noting pointers, arrays and a
 * function pointer on the way. */
static shape declarator_shape(TSNode d) {
  shape s = {0, 0, 0, d};
  for (int i = 0; i < 64 && !ts_node_is_null(d); i++) {
    switch (kind(d)) {
      case C_INIT_DECLARATOR: d = field(d, F_DECLARATOR); continue;
      case C_ARRAY_DECLARATOR: s.array = 1; d = field(d, F_DECLARATOR); continue;
      case C_POINTER_DECLARATOR: s.ptr = 1; d = field(d, F_DECLARATOR); continue;
      case C_PARENTHESIZED_DECLARATOR: d = nth(d, 0); continue;
      case C_FUNCTION_DECLARATOR: {
        TSNode inner = field(d, F_DECLARATOR);
        while (kind(inner) == C_PARENTHESIZED_DECLARATOR) inner = nth(inner, 0);
        if (kind(inner) == C_POINTER_DECLARATOR) s.fnptr = 1;
        s.ptr = 0;
        d = inner;
        continue;
      }
      default: break;
    }
    break;
  }
  s.name = d;
  if (s.fnptr) s.ptr = 0;
  return s;
}

static const c_struct *find_struct(const cwalk *w, scan_str name) {
  for (size_t i = 0; i < w->structs.n; i++)
    if (scan_str_same(w->structs.v[i].name, name)) return &w->structs.v[i];
  return NULL;
}

static int is_fnptr_type(const cwalk *w, scan_str name) {
  for (size_t i = 0; i < w->fnptr_types.n; i++)
    if (scan_str_same(w->fnptr_types.v[i], name)) return 1;
  return 0;
}

/* The callback struct a type node names (struct S, or a typedef of one). */
static const c_struct *struct_of_type(cwalk *w, TSNode type) {
  if (kind(type) == C_STRUCT_SPECIFIER) type = field(type, F_NAME);
  if (ts_node_is_null(type)) return NULL;
  return find_struct(w, str_of(w, type));
}

/* Whether a struct body has a function pointer field and a data pointer field. */
static int callback_body(cwalk *w, TSNode body) {
  int fnptr = 0, ptr = 0;
  uint32_t n = nchild(body);
  for (uint32_t i = 0; i < n; i++) {
    TSNode fd = nth(body, i);
    if (kind(fd) != C_FIELD_DECLARATION) continue;
    shape s = declarator_shape(field(fd, F_DECLARATOR));
    TSNode type = field(fd, F_TYPE);
    if (s.fnptr || (!s.ptr && kind(type) == C_TYPE_IDENTIFIER && is_fnptr_type(w, str_of(w, type))))
      fnptr = 1;
    else if (s.ptr)
      ptr = 1;
  }
  return fnptr && ptr;
}

static void add_struct(cwalk *w, scan_str name) {
  if (name.n == 0 || find_struct(w, name) != NULL) return;
  SCAN_RESERVE(w->structs);
  w->structs.v[w->structs.n++] = (c_struct){name, 1, 1};
}

/* struct S { void (*fn)(void *); void *ctx; }: remembers S when it holds both. */
static void on_struct(cwalk *w, TSNode st) {
  TSNode body = field(st, F_BODY), name = field(st, F_NAME);
  if (ts_node_is_null(body) || ts_node_is_null(name)) return;
  if (callback_body(w, body)) add_struct(w, str_of(w, name));
}

/* typedef void (*cb)(void *); typedef struct S T; typedef struct {...} T; */
static void on_typedef(cwalk *w, TSNode n) {
  TSNode type = field(n, F_TYPE);
  shape s = declarator_shape(field(n, F_DECLARATOR));
  scan_str name = str_of(w, s.name);
  if (s.fnptr) {
    SCAN_RESERVE(w->fnptr_types);
    w->fnptr_types.v[w->fnptr_types.n++] = name;
    return;
  }
  if (s.ptr || s.array || kind(type) != C_STRUCT_SPECIFIER) return;
  on_struct(w, type);
  TSNode body = field(type, F_BODY);
  if (struct_of_type(w, type) != NULL || (!ts_node_is_null(body) && callback_body(w, body)))
    add_struct(w, name);
}

/* A file-scope declaration: a table of callbacks, or of context pointers. */
static void on_global_decl(cwalk *w, TSNode n) {
  TSNode type = field(n, F_TYPE);
  if (kind(type) == C_STRUCT_SPECIFIER) on_struct(w, type);
  TSTreeCursor c = ts_tree_cursor_new(n);
  if (ts_tree_cursor_goto_first_child(&c)) {
    do {
      if (ts_tree_cursor_current_field_id(&c) != field_id[F_DECLARATOR]) continue;
      shape s = declarator_shape(ts_tree_cursor_current_node(&c));
      if (!s.array || kind(s.name) != C_IDENTIFIER) continue;
      int fnptr_array = s.fnptr || (kind(type) == C_TYPE_IDENTIFIER && !s.ptr &&
                                    is_fnptr_type(w, str_of(w, type)));
      int struct_array = !s.fnptr && struct_of_type(w, type) != NULL;
      if (!fnptr_array && !struct_array) {
        if (s.ptr) w->ptr_arrays++;
        continue;
      }
      c_table t;
      memset(&t, 0, sizeof t);
      t.name = str_of(w, s.name);
      TSPoint p = ts_node_start_point(s.name);
      t.line = p.row + 1;
      t.col = p.column + 1;
      t.fnptr_array = fnptr_array;
      SCAN_RESERVE(w->tables);
      w->tables.v[w->tables.n++] = t;
    } while (ts_tree_cursor_goto_next_sibling(&c));
  }
  ts_tree_cursor_delete(&c);
}

/* ---- Fills and clears inside functions. ---- */

static TSNode unparen(TSNode e) {
  for (int i = 0; i < 32 && (kind(e) == C_PARENTHESIZED_EXPRESSION || kind(e) == C_CAST_EXPRESSION); i++)
    e = kind(e) == C_CAST_EXPRESSION ? field(e, F_VALUE) : nth(e, 0);
  return e;
}

static int is_null_value(cwalk *w, TSNode e) {
  e = unparen(e);
  scan_str s = str_of(w, e);
  if (kind(e) == C_NULL || scan_str_eq(s, "NULL") || scan_str_eq(s, "0") || scan_str_eq(s, "nullptr"))
    return 1;
  if (kind(e) == C_COMPOUND_LITERAL_EXPRESSION) e = field(e, F_VALUE);
  if (kind(e) == C_INITIALIZER_LIST) {
    uint32_t n = nchild(e);
    return n == 0 || (n == 1 && is_null_value(w, nth(e, 0)));
  }
  return 0;
}

static c_table *table_named(cwalk *w, scan_str name) {
  for (size_t i = 0; i < w->tables.n; i++)
    if (scan_str_same(w->tables.v[i].name, name)) return &w->tables.v[i];
  return NULL;
}

/* The table an lvalue `t[i]`, `t[i].f` or `t[i]->f` writes into. */
static c_table *lvalue_table(cwalk *w, TSNode lhs) {
  lhs = unparen(lhs);
  if (kind(lhs) == C_FIELD_EXPRESSION) lhs = unparen(field(lhs, F_ARGUMENT));
  if (kind(lhs) != C_SUBSCRIPT_EXPRESSION) return NULL;
  TSNode arr = unparen(field(lhs, F_ARGUMENT));
  if (kind(arr) != C_IDENTIFIER) return NULL;
  return table_named(w, str_of(w, arr));
}

static void on_assign(cwalk *w, TSNode n) {
  c_table *t = lvalue_table(w, field(n, F_LEFT));
  if (t == NULL) return;
  TSNode rhs = field(n, F_RIGHT);
  if (is_null_value(w, rhs) || lvalue_table(w, rhs) == t) {
    t->cleared = 1;
  } else {
    if (!t->filled) t->fill_func = w->func;
    t->filled = 1;
  }
}

/* Whether the subtree N names identifier NAME (a bounded walk). */
static int mentions(cwalk *w, TSNode n, scan_str name) {
  TSTreeCursor c = ts_tree_cursor_new(n);
  int found = 0, steps = 0;
  for (;;) {
    TSNode cur = ts_tree_cursor_current_node(&c);
    if (kind(cur) == C_IDENTIFIER && scan_str_same(str_of(w, cur), name)) {
      found = 1;
      break;
    }
    if (++steps > 256) break;
    if (ts_tree_cursor_goto_first_child(&c)) continue;
    int up = 0;
    while (!ts_tree_cursor_goto_next_sibling(&c)) {
      if (!ts_tree_cursor_goto_parent(&c) || ts_node_eq(ts_tree_cursor_current_node(&c), n)) {
        up = 1;
        break;
      }
    }
    if (up) break;
  }
  ts_tree_cursor_delete(&c);
  return found;
}

/* tether_register(r, name, fn, ctx, ctx_free, opts, out_id): no handle, no owner, no TTL. */
static int registers_forever(cwalk *w, TSNode args, uint32_t nargs) {
  TSNode opts = nth(args, nargs - 2), out = nth(args, nargs - 1);
  if (!is_null_value(w, out)) return 0;
  if (is_null_value(w, opts)) return 1;
  opts = unparen(opts);
  if (kind(opts) != C_POINTER_EXPRESSION) return 0;
  TSNode lit = unparen(field(opts, F_ARGUMENT));
  if (kind(lit) != C_COMPOUND_LITERAL_EXPRESSION) return 0; /* &opts: cannot tell */
  TSNode list = field(lit, F_VALUE);
  for (uint32_t i = 0; i < nchild(list); i++) {
    TSNode el = nth(list, i);
    TSNode des = nth(el, 0);
    if (kind(des) != C_FIELD_DESIGNATOR) continue;
    scan_str dn = str_of(w, nth(des, 0));
    TSNode val = nth(el, nchild(el) - 1);
    if ((scan_str_eq(dn, "owner") || scan_str_eq(dn, "ttl_ms")) && !is_null_value(w, val)) return 0;
  }
  return 1;
}

static void on_call(cwalk *w, TSNode n) {
  TSNode fn = field(n, F_FUNCTION), args = field(n, F_ARGUMENTS);
  if (kind(fn) != C_IDENTIFIER) return;
  scan_str name = str_of(w, fn);
  uint32_t nargs = nchild(args);
  if ((scan_str_eq(name, "memset") || scan_str_eq(name, "bzero") ||
       scan_str_eq(name, "explicit_bzero")) && nargs >= 1) {
    for (size_t i = 0; i < w->tables.n; i++)
      if (mentions(w, nth(args, 0), w->tables.v[i].name)) w->tables.v[i].cleared = 1;
  }
  if ((scan_str_eq(name, "tether_register") && nargs == 7) ||
      (scan_str_eq(name, "tether_register_at") && nargs == 8)) {
    if (registers_forever(w, args, nargs)) {
      SCAN_RESERVE(w->tc201);
      w->tc201.v[w->tc201.n++] = (struct tc201){n, w->func};
    }
  }
  for (size_t p = 0; p < w->o->npairs; p++) {
    if (!pattern_matches(w->o->pairs[p].reg, name)) continue;
    c_call call = {ts_node_start_point(n).row + 1, ts_node_start_point(n).column + 1, p, name, w->func};
    SCAN_RESERVE(w->c->regs);
    w->c->regs.v[w->c->regs.n++] = call;
    break;
  }
}

/* Any mention of an unregister function counts: a call, or its address taken. */
static void on_identifier(cwalk *w, TSNode n) {
  scan_str s = str_of(w, n);
  for (size_t p = 0; p < w->o->npairs; p++)
    if (w->o->pairs[p].unreg[0] && pattern_matches(w->o->pairs[p].unreg, s)) w->c->unreg_seen[p] = 1;
}

/* The name a function definition declares: through pointer and parenthesised
 * declarators to the function declarator's identifier. */
static scan_str function_name(cwalk *w, TSNode def) {
  TSNode d = field(def, F_DECLARATOR);
  for (int i = 0; i < 16 && !ts_node_is_null(d); i++) {
    int k = kind(d);
    if (k == C_IDENTIFIER) return str_of(w, d);
    if (k == C_PARENTHESIZED_DECLARATOR) d = nth(d, 0);
    else if (k == C_POINTER_DECLARATOR || k == C_FUNCTION_DECLARATOR) d = field(d, F_DECLARATOR);
    else break;
  }
  return (scan_str){"", 0};
}

static void visit(cwalk *w, TSNode n, int depth) {
  int k = kind(n);
  if (w->func_end && ts_node_start_byte(n) >= w->func_end) {
    w->func_end = 0;
    w->func = (scan_str){"", 0};
  }
  switch (k) {
    case C_COMMENT: scan_note_comment(w->f, n); break;
    case C_STRUCT_SPECIFIER: on_struct(w, n); break;
    case C_TYPE_DEFINITION: on_typedef(w, n); break;
    case C_DECLARATION:
      if (depth == 1) on_global_decl(w, n);
      break;
    case C_FUNCTION_DEFINITION:
      w->func_end = ts_node_end_byte(n);
      w->func = function_name(w, n);
      break;
    case C_ASSIGNMENT_EXPRESSION:
      if (w->func_end) on_assign(w, n);
      break;
    case C_CALL_EXPRESSION: on_call(w, n); break;
    case C_IDENTIFIER: on_identifier(w, n); break;
    default: break;
  }
}

/* Adds a finding naming FUNC (the function it is in or about) unless its rule
 * is off or suppressed there. */
static void emit(cwalk *w, uint32_t line, uint32_t col, scan_rule rule, const char *hint,
                 const char *msg, scan_str func) {
  if (!scan_rule_enabled(w->o, rule) || scan_suppressed(w->f, line, rule)) return;
  scan_add(&w->f->findings, w->f, line, col, rule, scan_rules[rule].severity, hint, "%s", msg);
  scan_add_facts(&w->f->findings)->func = func;
}

static void finish_file(cwalk *w) {
  for (size_t i = 0; i < w->tc201.n; i++) {
    TSPoint p = ts_node_start_point(w->tc201.v[i].call);
    emit(w, p.row + 1, p.column + 1, SCAN_TC201,
         "keep the id (out_id) and tether_unregister it, or give the registration an owner "
         "or a ttl_ms",
         "registration discards its id and has no owner or TTL: nothing can ever remove it", w->tc201.v[i].func);
  }
  for (size_t i = 0; i < w->tables.n; i++) {
    const c_table *t = &w->tables.v[i];
    if (!t->filled || t->cleared) continue;
    if (t->fnptr_array && w->ptr_arrays == 0) continue; /* no context pointers kept */
    char msg[256];
    snprintf(msg, sizeof msg,
             "file-scope callback table '%.*s' is filled at run time and no code clears an "
             "entry: callbacks and their contexts are never released",
             (int)t->name.n, t->name.s);
    emit(w, t->line, t->col, SCAN_TC203,
         "clear the slot (fn = NULL, ctx = NULL) in an unregister function, or use a "
         "tether_registry with owners",
         msg, t->fill_func);
  }
}

void scan_c_extract(scan_file *f, TSTree *tree, const scan_options *o) {
  pthread_once(&tables_once, tables_init);
  if (grammar.sym_kind == NULL) return;
  cwalk w;
  memset(&w, 0, sizeof w);
  w.f = f;
  w.o = o;
  w.c = calloc(1, sizeof *w.c);
  if (w.c == NULL) return;
  w.c->npairs = o->npairs;
  w.c->unreg_seen = calloc(o->npairs ? o->npairs : 1, 1);
  f->c = w.c;
  if (w.c->unreg_seen == NULL) return;
  TSTreeCursor c = ts_tree_cursor_new(ts_tree_root_node(tree));
  int depth = 0;
  for (;;) {
    visit(&w, ts_tree_cursor_current_node(&c), depth);
    if (ts_tree_cursor_goto_first_child(&c)) {
      depth++;
      continue;
    }
    while (!ts_tree_cursor_goto_next_sibling(&c)) {
      if (!ts_tree_cursor_goto_parent(&c)) goto done;
      depth--;
    }
  }
done:
  ts_tree_cursor_delete(&c);
  finish_file(&w);
  free(w.structs.v);
  free(w.fnptr_types.v);
  free(w.tables.v);
  free(w.tc201.v);
}

/* TC202: a register call whose unregister function no scanned C file names. */
void scan_c_rules(scan_file **files, size_t n, const scan_options *o) {
  unsigned char *seen = calloc(o->npairs ? o->npairs : 1, 1);
  if (seen == NULL) return;
  for (size_t i = 0; i < n; i++)
    for (size_t p = 0; files[i]->c && p < o->npairs && p < files[i]->c->npairs; p++)
      seen[p] |= files[i]->c->unreg_seen[p];
  for (size_t i = 0; i < n; i++) {
    scan_file *f = files[i];
    if (f->c == NULL) continue;
    for (size_t r = 0; r < f->c->regs.n; r++) {
      const c_call *call = &f->c->regs.v[r];
      const scan_pair *pair = &o->pairs[call->pair];
      if (seen[call->pair] || pair->unreg[0] == 0) continue;
      if (!scan_rule_enabled(o, SCAN_TC202) || scan_suppressed(f, call->line, SCAN_TC202)) continue;
      char hint[256];
      snprintf(hint, sizeof hint, "keep what %.*s returns and call %s when the receiver goes away",
               (int)call->name.n, call->name.s, pair->unreg);
      scan_add(&f->findings, f, call->line, call->col, SCAN_TC202, SCAN_WARNING, hint,
               "%.*s registers a callback, but no scanned file calls %s: it is never removed",
               (int)call->name.n, call->name.s, pair->unreg);
      scan_add_facts(&f->findings)->func = call->func;
    }
  }
  free(seen);
}
