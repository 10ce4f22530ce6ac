/* The Go half of `tether scan`. Extraction walks one file's syntax tree once,
 * iteratively (so deep nesting cannot exhaust the stack), and records facts:
 * package-level map variables, struct fields of map type, type declarations,
 * functions, writes into and removals from maps, and every func literal that is
 * stored into a map or passed to a call, with the variables it captures from its
 * enclosing functions. The rules then run per package (a directory and package
 * name) over the facts of all its files, so a map written in one file and
 * cleared in another is not reported. Facts point into the file's buffer. */
#include "scan.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

/* ---- Node kinds: one table from the grammar's symbols to the kinds we use. ---- */

enum {
  N_OTHER, N_COMMENT, N_PACKAGE_CLAUSE, N_PACKAGE_IDENTIFIER, N_VAR_SPEC, N_CONST_SPEC,
  N_TYPE_SPEC, N_TYPE_ALIAS, N_FUNCTION_DECLARATION, N_METHOD_DECLARATION, N_FUNC_LITERAL,
  N_PARAMETER_DECLARATION, N_VARIADIC_PARAMETER_DECLARATION, N_SHORT_VAR_DECLARATION,
  N_ASSIGNMENT_STATEMENT, N_RANGE_CLAUSE, N_RECEIVE_STATEMENT, N_TYPE_SWITCH_STATEMENT,
  N_CALL_EXPRESSION, N_INDEX_EXPRESSION, N_SELECTOR_EXPRESSION, N_IDENTIFIER,
  N_FIELD_IDENTIFIER, N_TYPE_IDENTIFIER, N_MAP_TYPE, N_SLICE_TYPE, N_ARRAY_TYPE,
  N_IMPLICIT_LENGTH_ARRAY_TYPE, N_POINTER_TYPE, N_CHANNEL_TYPE, N_FUNCTION_TYPE,
  N_INTERFACE_TYPE, N_STRUCT_TYPE, N_QUALIFIED_TYPE, N_GENERIC_TYPE, N_PARENTHESIZED_TYPE,
  N_COMPOSITE_LITERAL, N_UNARY_EXPRESSION, N_FIELD_DECLARATION, N_FIELD_DECLARATION_LIST,
  N_INT_LITERAL, N_FLOAT_LITERAL, N_IMAGINARY_LITERAL, N_RUNE_LITERAL,
  N_INTERPRETED_STRING_LITERAL, N_RAW_STRING_LITERAL, N_TRUE, N_FALSE, N_NIL,
  N_PARENTHESIZED_EXPRESSION, N_PARAMETER_LIST, N_LABEL_NAME, N_IF_STATEMENT, N_BLOCK,
  N_KIND_COUNT
};

static const char *const kind_names[N_KIND_COUNT] = {
    [N_COMMENT] = "comment", [N_PACKAGE_CLAUSE] = "package_clause",
    [N_PACKAGE_IDENTIFIER] = "package_identifier", [N_VAR_SPEC] = "var_spec",
    [N_CONST_SPEC] = "const_spec", [N_TYPE_SPEC] = "type_spec", [N_TYPE_ALIAS] = "type_alias",
    [N_FUNCTION_DECLARATION] = "function_declaration",
    [N_METHOD_DECLARATION] = "method_declaration", [N_FUNC_LITERAL] = "func_literal",
    [N_PARAMETER_DECLARATION] = "parameter_declaration",
    [N_VARIADIC_PARAMETER_DECLARATION] = "variadic_parameter_declaration",
    [N_SHORT_VAR_DECLARATION] = "short_var_declaration",
    [N_ASSIGNMENT_STATEMENT] = "assignment_statement", [N_RANGE_CLAUSE] = "range_clause",
    [N_RECEIVE_STATEMENT] = "receive_statement",
    [N_TYPE_SWITCH_STATEMENT] = "type_switch_statement",
    [N_CALL_EXPRESSION] = "call_expression", [N_INDEX_EXPRESSION] = "index_expression",
    [N_SELECTOR_EXPRESSION] = "selector_expression", [N_IDENTIFIER] = "identifier",
    [N_FIELD_IDENTIFIER] = "field_identifier", [N_TYPE_IDENTIFIER] = "type_identifier",
    [N_MAP_TYPE] = "map_type", [N_SLICE_TYPE] = "slice_type", [N_ARRAY_TYPE] = "array_type",
    [N_IMPLICIT_LENGTH_ARRAY_TYPE] = "implicit_length_array_type",
    [N_POINTER_TYPE] = "pointer_type", [N_CHANNEL_TYPE] = "channel_type",
    [N_FUNCTION_TYPE] = "function_type", [N_INTERFACE_TYPE] = "interface_type",
    [N_STRUCT_TYPE] = "struct_type", [N_QUALIFIED_TYPE] = "qualified_type",
    [N_GENERIC_TYPE] = "generic_type", [N_PARENTHESIZED_TYPE] = "parenthesized_type",
    [N_COMPOSITE_LITERAL] = "composite_literal", [N_UNARY_EXPRESSION] = "unary_expression",
    [N_FIELD_DECLARATION] = "field_declaration",
    [N_FIELD_DECLARATION_LIST] = "field_declaration_list", [N_INT_LITERAL] = "int_literal",
    [N_FLOAT_LITERAL] = "float_literal", [N_IMAGINARY_LITERAL] = "imaginary_literal",
    [N_RUNE_LITERAL] = "rune_literal",
    [N_INTERPRETED_STRING_LITERAL] = "interpreted_string_literal",
    [N_RAW_STRING_LITERAL] = "raw_string_literal", [N_TRUE] = "true", [N_FALSE] = "false",
    [N_NIL] = "nil", [N_PARENTHESIZED_EXPRESSION] = "parenthesized_expression",
    [N_PARAMETER_LIST] = "parameter_list", [N_LABEL_NAME] = "label_name",
    [N_IF_STATEMENT] = "if_statement", [N_BLOCK] = "block",
};

enum { F_NAME, F_TYPE, F_VALUE, F_LEFT, F_RIGHT, F_OPERATOR, F_FUNCTION, F_ARGUMENTS,
       F_OPERAND, F_INDEX, F_FIELD, F_KEY, F_ELEMENT, F_PARAMETERS, F_RECEIVER, F_BODY,
       F_PACKAGE, F_ALIAS, F_CONDITION, F_FIELD_COUNT };
static const char *const field_names[F_FIELD_COUNT] = {
    "name", "type", "value", "left", "right", "operator", "function", "arguments", "operand",
    "index", "field", "key", "element", "parameters", "receiver", "body", "package", "alias",
    "condition"};

static scan_grammar grammar;
static TSFieldId field_id[F_FIELD_COUNT];
static pthread_once_t tables_once = PTHREAD_ONCE_INIT;

static void tables_init(void) {
  scan_grammar_init(&grammar, scan_lang_go(), kind_names, N_KIND_COUNT, field_names, F_FIELD_COUNT,
                    field_id);
}

static int kind(TSNode n) { return scan_grammar_kind(&grammar, n); }
static uint32_t nchild(TSNode n) { return scan_nchild(n); }
static TSNode nth(TSNode n, uint32_t i) { return scan_nth(n, i); }
static TSNode field(TSNode n, int f) { return scan_field(&grammar, n, f); }

/* ---- Facts. ---- */

/* What a variable or type can hold, as far as its declaration tells. */
typedef enum {
  K_UNKNOWN, K_SCALAR, K_PTR, K_SLICE, K_MAP, K_CHAN, K_FUNC, K_IFACE, K_NAMED, K_STRUCT,
  K_ARRAY, K_CONST
} vkind;

static const char *const vkind_names[] = {
    "of a type not known here", "scalar", "pointer", "slice", "map", "channel", "func",
    "interface", "named type", "struct", "array", "constant"};

/* Classes of a map's value type. */
typedef enum { MV_NONE, MV_FUNC, MV_NAMED, MV_SYNCMAP } mvclass;

typedef struct go_var { /* a package-level map (or sync.Map) variable or struct field */
  scan_str name, type_text, tname, owner; /* owner: the struct, for fields */
  uint32_t line, col;
  mvclass mv;
  int is_field;
} go_var;

typedef struct go_field_kind { /* one field of a struct (for capture analysis) */
  vkind kind;
  scan_str tname;
} go_field_kind;

typedef struct go_type {
  scan_str name;
  vkind kind;
  scan_str tname; /* K_NAMED alias target, or the element of K_ARRAY */
  vkind elem;     /* K_ARRAY: the element's kind */
  size_t field_first, field_count;
} go_type;

typedef struct go_func {
  scan_str name;
  scan_str recv; /* a method's receiver type (without *), else empty */
  uint32_t line, col;
  size_t param_first, param_count;
} go_func;

typedef enum { W_ASSIGN, W_APPEND, W_STORE } wkind;

typedef struct go_write {
  scan_str target;
  int is_field;
  wkind kind;
  uint32_t line, col, lhs_byte;
  long func; /* index into funcs, -1 at package level */
  int rhs_param; /* -1, or the index of the enclosing function's parameter stored */
  int rhs_nil;
  vkind rhs_kind;   /* K_FUNC when the value stored is known to be a func */
  scan_str rhs_name; /* an identifier stored (maybe a package-level function) */
  int checked;      /* TG105: the function also reads the same map */
} go_write;

typedef enum { R_DELETE, R_CLEAR, R_REASSIGN } rkind;

typedef struct go_removal {
  scan_str target;
  int is_field;
  rkind kind;
  scan_str func_name;
} go_removal;

typedef struct go_capture {
  scan_str name;
  vkind kind;
  scan_str tname;
  uint32_t decl_line; /* where the enclosing function declares it */
} go_capture;

typedef enum { ROLE_NONE, ROLE_STORE, ROLE_ARG } lrole;

typedef struct go_lit {
  uint32_t line, col, end_line;
  long func; /* the top-level function it is in (index into funcs), -1 outside */
  lrole role;
  scan_str target; /* ROLE_STORE: the map; ROLE_ARG: the callee */
  int is_field, argi;
  size_t cap_first, cap_count;
} go_lit;

typedef struct scan_go_facts {
  struct { go_var *v; size_t n, cap; } vars;
  struct { go_field_kind *v; size_t n, cap; } fkinds;
  struct { go_type *v; size_t n, cap; } types;
  struct { go_func *v; size_t n, cap; } funcs;
  struct { scan_str *v; size_t n, cap; } params;
  struct { go_write *v; size_t n, cap; } writes;
  struct { go_removal *v; size_t n, cap; } removals;
  struct { go_lit *v; size_t n, cap; } lits;
  struct { go_capture *v; size_t n, cap; } caps;
} scan_go_facts;

void scan_go_facts_free(scan_go_facts *g) {
  if (g == NULL) return;
  free(g->vars.v);
  free(g->fkinds.v);
  free(g->types.v);
  free(g->funcs.v);
  free(g->params.v);
  free(g->writes.v);
  free(g->removals.v);
  free(g->lits.v);
  free(g->caps.v);
  free(g);
}

/* ---- The walk's state. ---- */

typedef struct decl {
  scan_str name;
  vkind kind;
  scan_str tname;
  uint32_t line;
} decl;

typedef struct ctx { /* a function, method or func literal being walked */
  uint32_t end;
  int is_lit;
  size_t decl_first, use_first, read_first, write_first;
  long lit; /* index into lits for a literal with a role, else -1 */
} ctx;

typedef struct pending { /* a func literal's role, known before the walk reaches it */
  uint32_t byte;
  lrole role;
  scan_str target;
  int is_field, argi;
} pending;

typedef struct read_fact {
  scan_str target;
  int is_field;
  uint32_t byte;
} read_fact;

typedef struct walker {
  scan_file *f;
  scan_go_facts *g;
  struct { ctx *v; size_t n, cap; } ctxs;
  struct { decl *v; size_t n, cap; } decls;
  struct { scan_str *v; size_t n, cap; } uses;
  struct { pending *v; size_t n, cap; } pend;
  struct { read_fact *v; size_t n, cap; } reads;
  long func; /* current top-level function, -1 outside */
  int in_lit; /* number of literal contexts open */
  const char *line_at; /* line_of's position in the buffer and its line */
  uint32_t line_no;
} walker;

static scan_str str_of(walker *w, TSNode n) { return scan_node_str(w->f, n); }

/* The line of byte P of the buffer. The walk asks in increasing order mostly,
 * so the count goes on from the last answer; going back starts over. */
static uint32_t line_of(walker *w, const char *p) {
  const char *start = (const char *)w->f->data;
  if (p < start || p > start + w->f->len) return 0;
  if (w->line_at == NULL || p < w->line_at) {
    w->line_at = start;
    w->line_no = 1;
  }
  for (const char *q = w->line_at; q < p; q++) w->line_no += *q == '\n';
  w->line_at = p;
  return w->line_no;
}

static void pos_of(TSNode n, uint32_t *line, uint32_t *col) {
  TSPoint p = ts_node_start_point(n);
  *line = p.row + 1;
  *col = p.column + 1;
}

static int is_scalar_name(scan_str s) {
  static const char *const names[] = {
      "bool", "string", "int", "int8", "int16", "int32", "int64", "uint", "uint8", "uint16",
      "uint32", "uint64", "uintptr", "byte", "rune", "float32", "float64", "complex64",
      "complex128"};
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
    if (scan_str_eq(s, names[i])) return 1;
  return 0;
}

static TSNode unparen_type(TSNode t) {
  for (int i = 0; i < 64 && kind(t) == N_PARENTHESIZED_TYPE; i++) t = nth(t, 0);
  return t;
}

/* Classifies a type node; for a named type, *TNAME gets its name. */
static vkind classify_type(walker *w, TSNode t, scan_str *tname) {
  t = unparen_type(t);
  switch (kind(t)) {
    case N_POINTER_TYPE: return K_PTR;
    case N_SLICE_TYPE: return K_SLICE;
    case N_MAP_TYPE: return K_MAP;
    case N_CHANNEL_TYPE: return K_CHAN;
    case N_FUNCTION_TYPE: return K_FUNC;
    case N_INTERFACE_TYPE: return K_IFACE;
    case N_STRUCT_TYPE: return K_STRUCT;
    case N_ARRAY_TYPE:
    case N_IMPLICIT_LENGTH_ARRAY_TYPE: return K_ARRAY;
    case N_TYPE_IDENTIFIER: {
      scan_str s = str_of(w, t);
      if (is_scalar_name(s)) return K_SCALAR;
      if (scan_str_eq(s, "error") || scan_str_eq(s, "any")) return K_IFACE;
      *tname = s;
      return K_NAMED;
    }
    default: return K_UNKNOWN;
  }
}

/* Classifies the value an expression produces (for `x := EXPR`). */
static vkind classify_expr(walker *w, TSNode e, scan_str *tname) {
  switch (kind(e)) {
    case N_INT_LITERAL: case N_FLOAT_LITERAL: case N_IMAGINARY_LITERAL: case N_RUNE_LITERAL:
    case N_INTERPRETED_STRING_LITERAL: case N_RAW_STRING_LITERAL: case N_TRUE: case N_FALSE:
      return K_SCALAR;
    case N_FUNC_LITERAL: return K_FUNC;
    case N_UNARY_EXPRESSION: {
      scan_str op = str_of(w, field(e, F_OPERATOR));
      if (scan_str_eq(op, "&")) return K_PTR;
      if (scan_str_eq(op, "<-")) return K_UNKNOWN;
      return kind(field(e, F_OPERAND)) == N_INT_LITERAL ? K_SCALAR : K_UNKNOWN;
    }
    case N_COMPOSITE_LITERAL: return classify_type(w, field(e, F_TYPE), tname);
    case N_CALL_EXPRESSION: {
      TSNode fn = field(e, F_FUNCTION);
      scan_str name = str_of(w, fn);
      TSNode args = field(e, F_ARGUMENTS);
      if (scan_str_eq(name, "new")) return K_PTR;
      if (scan_str_eq(name, "make") && nchild(args) > 0)
        return classify_type(w, nth(args, 0), tname);
      return K_UNKNOWN;
    }
    default: return K_UNKNOWN;
  }
}

/* Classifies a map type's value: a func, a named type (maybe a func type), or not. */
static mvclass map_value_class(walker *w, TSNode map, scan_str *tname) {
  TSNode v = unparen_type(field(map, F_VALUE));
  for (int i = 0; i < 4 && (kind(v) == N_SLICE_TYPE || kind(v) == N_POINTER_TYPE); i++)
    v = unparen_type(kind(v) == N_SLICE_TYPE ? field(v, F_ELEMENT) : nth(v, 0));
  if (kind(v) == N_FUNCTION_TYPE) return MV_FUNC;
  if (kind(v) == N_TYPE_IDENTIFIER) {
    *tname = str_of(w, v);
    return MV_NAMED;
  }
  return MV_NONE;
}

static int is_sync_map(walker *w, TSNode t) {
  t = unparen_type(t);
  if (kind(t) == N_POINTER_TYPE) t = unparen_type(nth(t, 0));
  if (kind(t) != N_QUALIFIED_TYPE) return 0;
  return scan_str_eq(str_of(w, field(t, F_PACKAGE)), "sync") &&
         scan_str_eq(str_of(w, field(t, F_NAME)), "Map");
}

/* The map type a variable's type or initial value declares, if any. */
static mvclass var_map_class(walker *w, TSNode type, TSNode value, scan_str *tname,
                             scan_str *text) {
  TSNode t = type;
  if (ts_node_is_null(t) && !ts_node_is_null(value)) {
    if (kind(value) == N_UNARY_EXPRESSION) value = field(value, F_OPERAND);
    if (kind(value) == N_COMPOSITE_LITERAL) {
      t = field(value, F_TYPE);
    } else if (kind(value) == N_CALL_EXPRESSION &&
               scan_str_eq(str_of(w, field(value, F_FUNCTION)), "make")) {
      t = nth(field(value, F_ARGUMENTS), 0);
    }
  }
  if (ts_node_is_null(t)) return MV_NONE;
  *text = str_of(w, t);
  if (is_sync_map(w, t)) return MV_SYNCMAP;
  t = unparen_type(t);
  if (kind(t) != N_MAP_TYPE) return MV_NONE;
  return map_value_class(w, t, tname);
}

/* ---- Declarations and uses inside functions. ---- */

static void declare(walker *w, scan_str name, vkind k, scan_str tname) {
  if (w->ctxs.n == 0 || name.n == 0 || scan_str_eq(name, "_")) return;
  SCAN_RESERVE(w->decls);
  w->decls.v[w->decls.n++] = (decl){name, k, tname, line_of(w, name.s)};
}

/* Looks NAME up in the open contexts, innermost first; NULL when not declared. */
static const decl *lookup(const walker *w, scan_str name, size_t from) {
  for (size_t i = w->decls.n; i > from; i--)
    if (scan_str_same(w->decls.v[i - 1].name, name)) return &w->decls.v[i - 1];
  return NULL;
}

static int is_local(const walker *w, scan_str name) {
  return w->ctxs.n > 0 && lookup(w, name, 0) != NULL;
}

/* Declares each name child of N (fields "name") with kind K. */
static void declare_names(walker *w, TSNode n, vkind k, scan_str tname) {
  TSTreeCursor c = ts_tree_cursor_new(n);
  if (ts_tree_cursor_goto_first_child(&c)) {
    do {
      if (ts_tree_cursor_current_field_id(&c) == field_id[F_NAME])
        declare(w, str_of(w, ts_tree_cursor_current_node(&c)), k, tname);
    } while (ts_tree_cursor_goto_next_sibling(&c));
  }
  ts_tree_cursor_delete(&c);
}

static void on_param(walker *w, TSNode n) {
  scan_str tname = {"", 0};
  vkind k = classify_type(w, field(n, F_TYPE), &tname);
  if (kind(n) == N_VARIADIC_PARAMETER_DECLARATION) k = K_SLICE;
  declare_names(w, n, k, tname);
}

/* var x T = v / const c = v, inside a function. */
static void on_local_spec(walker *w, TSNode n, int is_const) {
  scan_str tname = {"", 0};
  TSNode type = field(n, F_TYPE), value = field(n, F_VALUE);
  vkind k = K_UNKNOWN;
  if (is_const) k = K_CONST;
  else if (!ts_node_is_null(type)) k = classify_type(w, type, &tname);
  else if (!ts_node_is_null(value) && nchild(value) == 1)
    k = classify_expr(w, nth(value, 0), &tname);
  declare_names(w, n, k, tname);
}

/* a, b := x, y (also range and receive clauses with :=). */
static void on_short_decl(walker *w, TSNode n, int classify) {
  TSNode left = field(n, F_LEFT), right = field(n, F_RIGHT);
  uint32_t nl = nchild(left);
  uint32_t nr = ts_node_is_null(right) ? 0 : nchild(right);
  for (uint32_t i = 0; i < nl; i++) {
    TSNode id = nth(left, i);
    if (kind(id) != N_IDENTIFIER) continue;
    scan_str tname = {"", 0};
    vkind k = K_UNKNOWN;
    if (classify && nl == nr)
      k = classify_expr(w, nth(right, i), &tname);
    declare(w, str_of(w, id), k, tname);
  }
}

/* ---- Map targets: `m[k]`, `x.f[k]`, `m`, `x.f`. ---- */

static int target_of(walker *w, TSNode e, scan_str *name, int *is_field) {
  while (kind(e) == N_PARENTHESIZED_EXPRESSION) e = nth(e, 0);
  if (kind(e) == N_UNARY_EXPRESSION) e = field(e, F_OPERAND); /* &m, *p */
  if (kind(e) == N_IDENTIFIER) {
    *name = str_of(w, e);
    *is_field = 0;
    return !is_local(w, *name);
  }
  if (kind(e) == N_SELECTOR_EXPRESSION) {
    *name = str_of(w, field(e, F_FIELD));
    *is_field = 1;
    return 1;
  }
  return 0;
}

static int param_index(walker *w, scan_str name) {
  if (w->func < 0) return -1;
  const go_func *fn = &w->g->funcs.v[w->func];
  for (size_t i = 0; i < fn->param_count; i++)
    if (scan_str_same(w->g->params.v[fn->param_first + i], name)) return (int)i;
  return -1;
}

static void add_pending(walker *w, TSNode lit, lrole role, scan_str target, int is_field,
                        int argi) {
  SCAN_RESERVE(w->pend);
  w->pend.v[w->pend.n++] = (pending){ts_node_start_byte(lit), role, target, is_field, argi};
}

static void add_removal(walker *w, scan_str target, int is_field, rkind k) {
  scan_str fname = {"", 0};
  if (w->func >= 0) fname = w->g->funcs.v[w->func].name;
  SCAN_RESERVE(w->g->removals);
  w->g->removals.v[w->g->removals.n++] = (go_removal){target, is_field, k, fname};
}

static void add_read(walker *w, scan_str target, int is_field, uint32_t byte) {
  if (w->func < 0) return;
  SCAN_RESERVE(w->reads);
  w->reads.v[w->reads.n++] = (read_fact){target, is_field, byte};
}

/* Records a write of VALUE into map TARGET at LHS. */
static void add_write(walker *w, TSNode lhs, scan_str target, int is_field, wkind k,
                      TSNode value) {
  go_write wr;
  memset(&wr, 0, sizeof wr);
  wr.target = target;
  wr.is_field = is_field;
  wr.kind = k;
  pos_of(lhs, &wr.line, &wr.col);
  wr.lhs_byte = ts_node_start_byte(lhs);
  wr.func = w->func;
  wr.rhs_param = -1;
  if (kind(value) == N_NIL) wr.rhs_nil = 1;
  /* A conversion to a func type, handlerFunc(func() {...}), stores the literal. */
  if (kind(value) == N_CALL_EXPRESSION && nchild(field(value, F_ARGUMENTS)) == 1 &&
      kind(nth(field(value, F_ARGUMENTS), 0)) == N_FUNC_LITERAL &&
      kind(field(value, F_FUNCTION)) == N_IDENTIFIER)
    value = nth(field(value, F_ARGUMENTS), 0);
  if (kind(value) == N_FUNC_LITERAL) {
    wr.rhs_kind = K_FUNC;
    add_pending(w, value, ROLE_STORE, target, is_field, 0);
  } else if (kind(value) == N_IDENTIFIER) {
    scan_str v = str_of(w, value);
    const decl *d = lookup(w, v, 0);
    wr.rhs_param = param_index(w, v);
    if (d != NULL) {
      wr.rhs_kind = d->kind;
      if (d->kind == K_NAMED) wr.rhs_name = d->tname;
    } else {
      wr.rhs_name = v; /* maybe a package-level function */
    }
  }
  SCAN_RESERVE(w->g->writes);
  w->g->writes.v[w->g->writes.n++] = wr;
}

/* `if m == nil { m = make(...) }`: creating the map on first use is not a reset. */
static int lazy_init(walker *w, TSNode assign, TSNode rhs) {
  int fresh = kind(rhs) == N_COMPOSITE_LITERAL ||
              (kind(rhs) == N_CALL_EXPRESSION && scan_str_eq(str_of(w, field(rhs, F_FUNCTION)), "make"));
  if (!fresh) return 0;
  TSNode block = ts_node_parent(assign);
  TSNode stmt = kind(block) == N_BLOCK ? ts_node_parent(block) : block;
  if (kind(stmt) != N_IF_STATEMENT) return 0;
  scan_str cond = str_of(w, field(stmt, F_CONDITION));
  for (uint32_t i = 0; i + 6 <= cond.n; i++)
    if (memcmp(cond.s + i, "== nil", 6) == 0) return 1;
  return 0;
}

/* m[k] = v, m[k] = append(m[k], v...), m = v, x.f = v. */
static void on_assignment(walker *w, TSNode n) {
  if (!scan_str_eq(str_of(w, field(n, F_OPERATOR)), "=")) return;
  TSNode left = field(n, F_LEFT), right = field(n, F_RIGHT);
  uint32_t nl = nchild(left), nr = nchild(right);
  for (uint32_t i = 0; i < nl; i++) {
    TSNode lhs = nth(left, i);
    TSNode rhs = nl == nr ? nth(right, i) : nth(right, 0);
    scan_str target;
    int is_field;
    if (kind(lhs) == N_INDEX_EXPRESSION) {
      if (!target_of(w, field(lhs, F_OPERAND), &target, &is_field)) continue;
      if (kind(rhs) == N_CALL_EXPRESSION &&
          scan_str_eq(str_of(w, field(rhs, F_FUNCTION)), "append")) {
        TSNode args = field(rhs, F_ARGUMENTS);
        uint32_t na = nchild(args);
        for (uint32_t a = 1; a < na; a++)
          add_write(w, lhs, target, is_field, W_APPEND, nth(args, a));
        continue;
      }
      add_write(w, lhs, target, is_field, W_ASSIGN, rhs);
    } else if (w->func >= 0 && target_of(w, lhs, &target, &is_field) && !lazy_init(w, n, rhs)) {
      add_removal(w, target, is_field, R_REASSIGN);
    }
  }
}

/* delete(m, k), clear(m), m.Store(k, v), m.Delete(k), and func literal arguments. */
static void on_call(walker *w, TSNode n) {
  TSNode fn = field(n, F_FUNCTION), args = field(n, F_ARGUMENTS);
  uint32_t na = nchild(args);
  scan_str callee = {"", 0}, target;
  int is_field;
  if (kind(fn) == N_IDENTIFIER) {
    callee = str_of(w, fn);
    if ((scan_str_eq(callee, "delete") || scan_str_eq(callee, "clear")) && na >= 1 &&
        target_of(w, nth(args, 0), &target, &is_field)) {
      add_removal(w, target, is_field, scan_str_eq(callee, "delete") ? R_DELETE : R_CLEAR);
      return;
    }
    if (scan_str_eq(callee, "append")) return;
  } else if (kind(fn) == N_SELECTOR_EXPRESSION) {
    callee = str_of(w, field(fn, F_FIELD));
    TSNode recv = field(fn, F_OPERAND);
    int load_or_store = scan_str_eq(callee, "LoadOrStore");
    if ((scan_str_eq(callee, "Store") || load_or_store) && na == 2 &&
        target_of(w, recv, &target, &is_field)) {
      add_write(w, fn, target, is_field, W_STORE, nth(args, 1));
      if (load_or_store) add_read(w, target, is_field, ts_node_start_byte(n));
      return;
    }
    if ((scan_str_eq(callee, "Delete") || scan_str_eq(callee, "LoadAndDelete") ||
         scan_str_eq(callee, "Clear")) &&
        target_of(w, recv, &target, &is_field)) {
      add_removal(w, target, is_field, scan_str_eq(callee, "Clear") ? R_CLEAR : R_DELETE);
    } else if (scan_str_eq(callee, "Load") &&
               target_of(w, recv, &target, &is_field)) {
      add_read(w, target, is_field, ts_node_start_byte(n));
    }
  } else {
    return;
  }
  for (uint32_t a = 0; a < na; a++) {
    TSNode arg = nth(args, a);
    if (kind(arg) == N_FUNC_LITERAL) add_pending(w, arg, ROLE_ARG, callee, 0, (int)a);
  }
}

/* ---- Package-level declarations. ---- */

static void add_var(walker *w, TSNode name, scan_str owner, int is_field, mvclass mv,
                    scan_str tname, scan_str text) {
  go_var v;
  memset(&v, 0, sizeof v);
  v.name = str_of(w, name);
  v.owner = owner;
  v.is_field = is_field;
  v.mv = mv;
  v.tname = tname;
  v.type_text = text;
  pos_of(name, &v.line, &v.col);
  SCAN_RESERVE(w->g->vars);
  w->g->vars.v[w->g->vars.n++] = v;
}

static void on_global_var(walker *w, TSNode n) {
  TSNode type = field(n, F_TYPE), value = field(n, F_VALUE);
  uint32_t idx = 0;
  TSTreeCursor c = ts_tree_cursor_new(n);
  if (ts_tree_cursor_goto_first_child(&c)) {
    do {
      if (ts_tree_cursor_current_field_id(&c) != field_id[F_NAME]) continue;
      TSNode v = ts_node_is_null(value) ? value : nth(value, idx);
      scan_str tname = {"", 0}, text = {"", 0};
      mvclass mv = var_map_class(w, type, v, &tname, &text);
      if (mv != MV_NONE)
        add_var(w, ts_tree_cursor_current_node(&c), (scan_str){"", 0}, 0, mv, tname, text);
      idx++;
    } while (ts_tree_cursor_goto_next_sibling(&c));
  }
  ts_tree_cursor_delete(&c);
}

/* A struct's fields: kinds for capture analysis, and fields that are func maps. */
static void on_struct_fields(walker *w, TSNode st, scan_str owner, size_t *first,
                             size_t *count) {
  TSNode list = nth(st, 0);
  *first = w->g->fkinds.n;
  uint32_t nf = nchild(list);
  for (uint32_t i = 0; i < nf; i++) {
    TSNode fd = nth(list, i);
    if (kind(fd) != N_FIELD_DECLARATION) continue;
    TSNode type = field(fd, F_TYPE);
    scan_str tname = {"", 0};
    vkind k = classify_type(w, type, &tname);
    SCAN_RESERVE(w->g->fkinds);
    w->g->fkinds.v[w->g->fkinds.n++] = (go_field_kind){k, tname};
    scan_str mtn = {"", 0};
    mvclass mv = MV_NONE;
    TSNode ut = unparen_type(type);
    if (is_sync_map(w, ut)) mv = MV_SYNCMAP;
    else if (kind(ut) == N_MAP_TYPE) mv = map_value_class(w, ut, &mtn);
    if (mv == MV_NONE) continue;
    TSTreeCursor c = ts_tree_cursor_new(fd);
    if (ts_tree_cursor_goto_first_child(&c)) {
      do {
        if (ts_tree_cursor_current_field_id(&c) == field_id[F_NAME])
          add_var(w, ts_tree_cursor_current_node(&c), owner, 1, mv, mtn, str_of(w, type));
      } while (ts_tree_cursor_goto_next_sibling(&c));
    }
    ts_tree_cursor_delete(&c);
  }
  *count = w->g->fkinds.n - *first;
}

static void on_type_spec(walker *w, TSNode n) {
  go_type t;
  memset(&t, 0, sizeof t);
  t.name = str_of(w, field(n, F_NAME));
  TSNode type = unparen_type(field(n, F_TYPE));
  t.kind = classify_type(w, type, &t.tname);
  if (t.kind == K_STRUCT) on_struct_fields(w, type, t.name, &t.field_first, &t.field_count);
  if (t.kind == K_ARRAY) t.elem = classify_type(w, field(type, F_ELEMENT), &t.tname);
  SCAN_RESERVE(w->g->types);
  w->g->types.v[w->g->types.n++] = t;
}

/* ---- Contexts: functions and literals. ---- */

static void push_ctx(walker *w, TSNode n, int is_lit, long lit) {
  SCAN_RESERVE(w->ctxs);
  w->ctxs.v[w->ctxs.n++] = (ctx){ts_node_end_byte(n), is_lit, w->decls.n, w->uses.n,
                                 w->reads.n, w->g->writes.n, lit};
  if (is_lit) w->in_lit++;
}

/* The type name of a method's receiver list `(s *Server)`, without * or type
 * arguments; empty for a function. */
static scan_str receiver_type(walker *w, TSNode recv) {
  scan_str none = {"", 0};
  if (ts_node_is_null(recv) || nchild(recv) == 0) return none;
  TSNode t = unparen_type(field(nth(recv, 0), F_TYPE));
  if (kind(t) == N_POINTER_TYPE) t = unparen_type(nth(t, 0));
  if (kind(t) == N_GENERIC_TYPE) t = field(t, F_TYPE);
  return kind(t) == N_TYPE_IDENTIFIER ? str_of(w, t) : none;
}

static void on_function(walker *w, TSNode n) {
  go_func fn;
  memset(&fn, 0, sizeof fn);
  TSNode name = field(n, F_NAME);
  fn.name = str_of(w, name);
  pos_of(name, &fn.line, &fn.col);
  fn.recv = receiver_type(w, field(n, F_RECEIVER));
  fn.param_first = w->g->params.n;
  TSNode params = field(n, F_PARAMETERS);
  uint32_t np = nchild(params);
  for (uint32_t i = 0; i < np; i++) {
    TSNode p = nth(params, i);
    TSTreeCursor c = ts_tree_cursor_new(p);
    int named = 0;
    if (ts_tree_cursor_goto_first_child(&c)) {
      do {
        if (ts_tree_cursor_current_field_id(&c) != field_id[F_NAME]) continue;
        SCAN_RESERVE(w->g->params);
        w->g->params.v[w->g->params.n++] = str_of(w, ts_tree_cursor_current_node(&c));
        named = 1;
      } while (ts_tree_cursor_goto_next_sibling(&c));
    }
    ts_tree_cursor_delete(&c);
    if (!named) { /* an unnamed parameter still takes a position */
      SCAN_RESERVE(w->g->params);
      w->g->params.v[w->g->params.n++] = (scan_str){"", 0};
    }
  }
  fn.param_count = w->g->params.n - fn.param_first;
  SCAN_RESERVE(w->g->funcs);
  w->g->funcs.v[w->g->funcs.n++] = fn;
  w->func = (long)w->g->funcs.n - 1;
  w->pend.n = 0;
  push_ctx(w, n, 0, -1);
}

/* A literal takes the role recorded for its position (a store wins over being a
 * call argument, for `m.Store(k, conv(func() {...}))`). The walk visits nodes in
 * order of position, so pending roles at or before this one are dropped. */
static void on_literal(walker *w, TSNode n) {
  uint32_t b = ts_node_start_byte(n);
  long lit = -1;
  pending p = {0, ROLE_NONE, {"", 0}, 0, 0};
  size_t kept = 0;
  for (size_t i = 0; i < w->pend.n; i++) {
    pending q = w->pend.v[i];
    if (q.byte == b && (p.role == ROLE_NONE || q.role == ROLE_STORE)) p = q;
    if (q.byte > b) w->pend.v[kept++] = q;
  }
  w->pend.n = kept;
  if (p.role != ROLE_NONE) {
    go_lit l;
    memset(&l, 0, sizeof l);
    pos_of(n, &l.line, &l.col);
    l.end_line = ts_node_end_point(n).row + 1;
    l.func = w->func;
    l.role = p.role;
    l.target = p.target;
    l.is_field = p.is_field;
    l.argi = p.argi;
    SCAN_RESERVE(w->g->lits);
    w->g->lits.v[w->g->lits.n++] = l;
    lit = (long)w->g->lits.n - 1;
  }
  push_ctx(w, n, 1, lit);
}

static int str_cmp(scan_str a, scan_str b) {
  int r = memcmp(a.s, b.s, a.n < b.n ? a.n : b.n);
  return r ? r : (a.n < b.n ? -1 : a.n > b.n);
}

static int cmp_str(const void *a, const void *b) {
  return str_cmp(*(const scan_str *)a, *(const scan_str *)b);
}

/* Closing a literal: its free names are the uses not declared inside it. Those
 * declared in an enclosing function are its captures; all free names stay as
 * uses of the enclosing literal, if any. Uses are sorted and made unique first,
 * and the literal's own declarations looked up by binary search, so a literal
 * with many uses costs O(n log n), not O(n^2). */
static void close_literal(walker *w, const ctx *c) {
  go_lit *lit = c->lit >= 0 ? &w->g->lits.v[c->lit] : NULL;
  if (lit) lit->cap_first = w->g->caps.n;
  size_t nu = w->uses.n - c->use_first, nd = w->decls.n - c->decl_first;
  scan_str *uses = nu ? w->uses.v + c->use_first : NULL;
  if (nu > 1) qsort(uses, nu, sizeof *uses, cmp_str);
  scan_str *own = nd ? malloc(nd * sizeof *own) : NULL;
  for (size_t i = 0; own && i < nd; i++) own[i] = w->decls.v[c->decl_first + i].name;
  if (own && nd > 1) qsort(own, nd, sizeof *own, cmp_str);
  size_t kept = 0;
  for (size_t i = 0; i < nu; i++) {
    scan_str u = uses[i];
    if (kept > 0 && scan_str_same(uses[kept - 1], u)) continue;
    if (nd && (own == NULL || bsearch(&u, own, nd, sizeof *own, cmp_str) != NULL)) continue;
    uses[kept++] = u;
    const decl *d = lit ? lookup(w, u, 0) : NULL;
    if (d == NULL || d->kind == K_CONST) continue;
    SCAN_RESERVE(w->g->caps);
    w->g->caps.v[w->g->caps.n++] = (go_capture){u, d->kind, d->tname, d->line};
  }
  free(own);
  if (lit) lit->cap_count = w->g->caps.n - lit->cap_first;
  w->uses.n = c->use_first + kept;
}

static int cmp_read(const void *a, const void *b) {
  const read_fact *x = a, *y = b;
  if (x->is_field != y->is_field) return x->is_field - y->is_field;
  return str_cmp(x->target, y->target);
}

/* Closing a function: TG105's presence check is decided from its reads, sorted so
 * that each write finds the reads of its map by binary search. A write's own
 * left-hand side is also recorded as a read, hence the byte comparison. */
static void close_function(walker *w, const ctx *c) {
  size_t nr = w->reads.n - c->read_first;
  read_fact *reads = nr ? w->reads.v + c->read_first : NULL;
  if (nr > 1) qsort(reads, nr, sizeof *reads, cmp_read);
  for (size_t i = c->write_first; nr && i < w->g->writes.n; i++) {
    go_write *wr = &w->g->writes.v[i];
    read_fact key = {wr->target, wr->is_field, 0};
    read_fact *hit = bsearch(&key, reads, nr, sizeof *reads, cmp_read);
    if (hit == NULL) continue;
    while (hit > reads && cmp_read(hit - 1, &key) == 0) hit--;
    for (; hit < reads + nr && cmp_read(hit, &key) == 0 && !wr->checked; hit++)
      wr->checked = hit->byte != wr->lhs_byte;
  }
  w->reads.n = c->read_first;
  w->func = -1;
}

static void pop_ctx(walker *w) {
  ctx c = w->ctxs.v[--w->ctxs.n];
  if (c.is_lit) {
    close_literal(w, &c);
    w->in_lit--;
  } else {
    close_function(w, &c);
  }
  w->decls.n = c.decl_first;
  if (!c.is_lit) w->uses.n = c.use_first;
}

/* ---- The walk. ---- */

static void on_identifier(walker *w, TSNode n) {
  if (w->in_lit == 0) return;
  SCAN_RESERVE(w->uses);
  w->uses.v[w->uses.n++] = str_of(w, n);
}

static void on_index(walker *w, TSNode n) {
  scan_str target;
  int is_field;
  if (w->func >= 0 && target_of(w, field(n, F_OPERAND), &target, &is_field))
    add_read(w, target, is_field, ts_node_start_byte(n));
}

static void visit(walker *w, TSNode n) {
  int top = w->ctxs.n == 0;
  switch (kind(n)) {
    case N_COMMENT: scan_note_comment(w->f, n); break;
    case N_PACKAGE_CLAUSE: w->f->pkg = str_of(w, nth(n, 0)); break;
    case N_FUNCTION_DECLARATION:
    case N_METHOD_DECLARATION: on_function(w, n); break;
    case N_FUNC_LITERAL: on_literal(w, n); break;
    case N_PARAMETER_DECLARATION:
    case N_VARIADIC_PARAMETER_DECLARATION: on_param(w, n); break;
    case N_VAR_SPEC:
      if (top) on_global_var(w, n);
      else on_local_spec(w, n, 0);
      break;
    case N_CONST_SPEC:
      if (!top) on_local_spec(w, n, 1);
      break;
    case N_TYPE_SPEC:
    case N_TYPE_ALIAS:
      if (top) on_type_spec(w, n);
      break;
    case N_SHORT_VAR_DECLARATION: on_short_decl(w, n, 1); break;
    case N_RANGE_CLAUSE:
    case N_RECEIVE_STATEMENT:
      if (ts_node_child_count(n) > 1 && !ts_node_is_null(field(n, F_LEFT))) on_short_decl(w, n, 0);
      break;
    case N_TYPE_SWITCH_STATEMENT: {
      TSNode alias = field(n, F_ALIAS);
      for (uint32_t i = 0; i < nchild(alias); i++)
        declare(w, str_of(w, nth(alias, i)), K_UNKNOWN, (scan_str){"", 0});
      break;
    }
    case N_ASSIGNMENT_STATEMENT: on_assignment(w, n); break;
    case N_CALL_EXPRESSION: on_call(w, n); break;
    case N_INDEX_EXPRESSION: on_index(w, n); break;
    case N_IDENTIFIER: on_identifier(w, n); break;
    default: break;
  }
}

void scan_go_extract(scan_file *f, TSTree *tree) {
  pthread_once(&tables_once, tables_init);
  if (grammar.sym_kind == NULL) return;
  walker w;
  memset(&w, 0, sizeof w);
  w.f = f;
  w.func = -1;
  w.g = calloc(1, sizeof *w.g);
  if (w.g == NULL) return;
  f->go = w.g;
  TSTreeCursor c = ts_tree_cursor_new(ts_tree_root_node(tree));
  for (;;) {
    TSNode n = ts_tree_cursor_current_node(&c);
    uint32_t start = ts_node_start_byte(n);
    while (w.ctxs.n > 0 && w.ctxs.v[w.ctxs.n - 1].end <= start && ts_node_end_byte(n) > start)
      pop_ctx(&w);
    visit(&w, n);
    if (ts_tree_cursor_goto_first_child(&c)) continue;
    while (!ts_tree_cursor_goto_next_sibling(&c))
      if (!ts_tree_cursor_goto_parent(&c)) goto done;
  }
done:
  while (w.ctxs.n > 0) pop_ctx(&w);
  ts_tree_cursor_delete(&c);
  free(w.ctxs.v);
  free(w.decls.v);
  free(w.uses.v);
  free(w.pend.v);
  free(w.reads.v);
}

/* ---- The rules, per package. ---- */

typedef struct pkg {
  scan_file **files;
  size_t n;
  const scan_options *o;
} pkg;

/* Finds type NAME in the package; *OWNER gets the facts holding it. */
static const go_type *find_type(const pkg *p, scan_str name, const scan_go_facts **owner) {
  for (size_t i = 0; i < p->n; i++) {
    const scan_go_facts *g = p->files[i]->go;
    for (size_t t = 0; g && t < g->types.n; t++)
      if (scan_str_same(g->types.v[t].name, name)) {
        *owner = g;
        return &g->types.v[t];
      }
  }
  return NULL;
}

static int is_ref(vkind k) {
  return k == K_PTR || k == K_SLICE || k == K_MAP || k == K_CHAN || k == K_FUNC || k == K_IFACE;
}

/* Resolves K (with TNAME for named types) to a kind, following the package's type
 * declarations: a struct or array that can hold a reference counts as K_PTR-like
 * (returned as the struct/array kind with *REF set). */
static vkind resolve(const pkg *p, vkind k, scan_str tname, int depth, int *ref) {
  *ref = is_ref(k);
  if (k != K_NAMED || depth > 8) return k;
  const scan_go_facts *g = NULL;
  const go_type *t = find_type(p, tname, &g);
  if (t == NULL) return K_UNKNOWN;
  if (t->kind == K_STRUCT) {
    int any_unknown = 0;
    for (size_t i = 0; i < t->field_count; i++) {
      const go_field_kind *fk = &g->fkinds.v[t->field_first + i];
      int r = 0;
      vkind fkind = resolve(p, fk->kind, fk->tname, depth + 1, &r);
      if (r) {
        *ref = 1;
        return K_STRUCT;
      }
      if (fkind == K_UNKNOWN) any_unknown = 1;
    }
    return any_unknown ? K_UNKNOWN : K_STRUCT;
  }
  if (t->kind == K_ARRAY) {
    vkind e = resolve(p, t->elem, t->tname, depth + 1, ref);
    return e == K_UNKNOWN ? K_UNKNOWN : K_ARRAY;
  }
  return resolve(p, t->kind, t->tname, depth + 1, ref);
}

static int is_func_type(const pkg *p, scan_str tname) {
  int ref = 0;
  return resolve(p, K_NAMED, tname, 0, &ref) == K_FUNC;
}

static int is_package_func(const pkg *p, scan_str name) {
  for (size_t i = 0; i < p->n; i++) {
    const scan_go_facts *g = p->files[i]->go;
    for (size_t f = 0; g && f < g->funcs.n; f++)
      if (scan_str_same(g->funcs.v[f].name, name)) return 1;
  }
  return 0;
}

/* Whether a write stores a func value (used to decide that a sync.Map holds funcs). */
static int write_stores_func(const pkg *p, const go_write *wr) {
  if (wr->rhs_kind == K_FUNC) return 1;
  if (wr->rhs_kind == K_NAMED) return is_func_type(p, wr->rhs_name);
  if (wr->rhs_kind == K_UNKNOWN && wr->rhs_name.n > 0) return is_package_func(p, wr->rhs_name);
  return 0;
}

static int same_target(const go_var *v, scan_str target, int is_field) {
  return v->is_field == is_field && scan_str_same(v->name, target);
}

/* Whether map variable/field V holds funcs. */
static int is_func_map(const pkg *p, const go_var *v) {
  if (v->mv == MV_FUNC) return 1;
  if (v->mv == MV_NAMED) return is_func_type(p, v->tname);
  if (v->mv != MV_SYNCMAP) return 0;
  for (size_t i = 0; i < p->n; i++) {
    const scan_go_facts *g = p->files[i]->go;
    for (size_t w = 0; g && w < g->writes.n; w++) {
      const go_write *wr = &g->writes.v[w];
      if (wr->kind == W_STORE && same_target(v, wr->target, wr->is_field) &&
          write_stores_func(p, wr))
        return 1;
    }
  }
  return 0;
}

/* The func map a write or literal targets, if the package declares one; *FILE
 * (when not NULL) gets the file declaring it. */
static const go_var *find_func_map(const pkg *p, scan_str target, int is_field, const scan_file **file) {
  for (size_t i = 0; i < p->n; i++) {
    const scan_go_facts *g = p->files[i]->go;
    for (size_t v = 0; g && v < g->vars.n; v++)
      if (same_target(&g->vars.v[v], target, is_field) && is_func_map(p, &g->vars.v[v])) {
        if (file) *file = p->files[i];
        return &g->vars.v[v];
      }
  }
  return NULL;
}

static int is_init_func(scan_str name) {
  return scan_str_eq(name, "init") || (name.n >= 3 && memcmp(name.s, "New", 3) == 0) ||
         (name.n >= 3 && memcmp(name.s, "new", 3) == 0);
}

/* Whether anything in the package shrinks map V: delete, clear, Delete, or a
 * reassignment of the whole map outside initialisation, or storing nil. */
static int shrinks(const pkg *p, const go_var *v) {
  for (size_t i = 0; i < p->n; i++) {
    const scan_go_facts *g = p->files[i]->go;
    for (size_t r = 0; g && r < g->removals.n; r++) {
      const go_removal *rm = &g->removals.v[r];
      if (!same_target(v, rm->target, rm->is_field)) continue;
      if (rm->kind != R_REASSIGN || !is_init_func(rm->func_name)) return 1;
    }
    for (size_t w = 0; g && w < g->writes.n; w++)
      if (g->writes.v[w].rhs_nil && same_target(v, g->writes.v[w].target, g->writes.v[w].is_field))
        return 1;
  }
  return 0;
}

static int writes_to(const pkg *p, const go_var *v, const go_write **first, scan_file **ffile) {
  for (size_t i = 0; i < p->n; i++) {
    const scan_go_facts *g = p->files[i]->go;
    for (size_t w = 0; g && w < g->writes.n; w++)
      if (same_target(v, g->writes.v[w].target, g->writes.v[w].is_field)) {
        *first = &g->writes.v[w];
        *ffile = p->files[i];
        return 1;
      }
  }
  return 0;
}

/* Adds a finding unless its rule is off or suppressed there; returns its facts
 * record (to fill) or NULL. */
static scan_facts *emit(const pkg *p, scan_file *f, uint32_t line, uint32_t col, scan_rule rule,
                        scan_severity sev, const char *hint, const char *msg) {
  if (!scan_rule_enabled(p->o, rule) || scan_suppressed(f, line, rule)) return NULL;
  scan_add(&f->findings, f, line, col, rule, sev, hint, "%s", msg);
  return scan_add_facts(&f->findings);
}

/* The facts every finding about map V (declared in F) carries. */
static void map_facts(const pkg *p, scan_facts *fx, const scan_file *f, const go_var *v) {
  if (fx == NULL) return;
  fx->map = v->name;
  fx->owner = v->owner;
  fx->map_file = f->path;
  fx->map_line = v->line;
  fx->map_shrinks = shrinks(p, v);
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

static int is_register_like(const scan_options *o, scan_str name) {
  for (size_t i = 0; i < o->nregister_names; i++)
    if (name_matches(o->register_names[i], name.s, name.n)) return 1;
  return 0;
}

/* TG101 and TG102 for one map; TG103 for the functions writing into it. */
static void check_map(const pkg *p, scan_file *f, const go_var *v) {
  char msg[512];
  const char *what = v->is_field ? "field" : "package-level variable";
  if (!v->is_field) {
    snprintf(msg, sizeof msg, "package-level variable '%.*s' is a map of funcs (%.*s)",
             (int)v->name.n, v->name.s, (int)v->type_text.n, v->type_text.s);
    map_facts(p, emit(p, f, v->line, v->col, SCAN_TG101, SCAN_WARNING,
                      "keep callbacks in a registry value with an owner and an Unregister that deletes, "
                      "not in a package-level map that lives as long as the program",
                      msg),
              f, v);
  }
  const go_write *first = NULL;
  scan_file *wf = NULL;
  if (!writes_to(p, v, &first, &wf) || shrinks(p, v)) return;
  snprintf(msg, sizeof msg,
           "func map %s '%.*s%s%.*s' is written (first at %s:%u) but nothing in the package "
           "deletes from it: every func stored stays reachable, with all it captured",
           what, (int)v->owner.n, v->owner.s, v->is_field ? "." : "", (int)v->name.n,
           v->name.s, wf->path, first->line);
  map_facts(p, emit(p, f, v->line, v->col, SCAN_TG102, SCAN_ERROR,
                    "add an Unregister that calls delete(m, key) (or a Close that clears the map) and "
                    "make callers defer it",
                    msg),
            f, v);
  for (size_t i = 0; i < p->n; i++) {
    const scan_go_facts *g = p->files[i]->go;
    long last = -2;
    for (size_t w = 0; g && w < g->writes.n; w++) {
      const go_write *wr = &g->writes.v[w];
      if (wr->func < 0 || wr->func == last || !same_target(v, wr->target, wr->is_field)) continue;
      const go_func *fn = &g->funcs.v[wr->func];
      last = wr->func;
      if (!is_register_like(p->o, fn->name)) continue;
      snprintf(msg, sizeof msg,
               "'%.*s' adds to func map '%.*s' and no function in the package removes from it",
               (int)fn->name.n, fn->name.s, (int)v->name.n, v->name.s);
      scan_facts *fx = emit(p, p->files[i], fn->line, fn->col, SCAN_TG103, SCAN_WARNING,
                            "pair it with an Unregister (or return a cancel func) that deletes the entry", msg);
      map_facts(p, fx, f, v);
      if (fx) {
        fx->func = fn->name;
        fx->recv = fn->recv;
      }
    }
  }
}

/* Whether a function named CALLEE in the package stores its parameter ARGI into a
 * func map. */
static int stores_param(const pkg *p, scan_str callee, int argi, const go_var **map, const scan_file **file) {
  for (size_t i = 0; i < p->n; i++) {
    const scan_go_facts *g = p->files[i]->go;
    for (size_t w = 0; g && w < g->writes.n; w++) {
      const go_write *wr = &g->writes.v[w];
      if (wr->func < 0 || wr->rhs_param != argi) continue;
      if (!scan_str_same(g->funcs.v[wr->func].name, callee)) continue;
      *map = find_func_map(p, wr->target, wr->is_field, file);
      if (*map != NULL) return 1;
    }
  }
  return 0;
}

/* TG104 for one stored literal. */
static void check_literal(const pkg *p, scan_file *f, const go_lit *l) {
  if (l->cap_count == 0) return;
  const go_var *map = NULL;
  const scan_file *mfile = NULL;
  if (l->role == ROLE_STORE) map = find_func_map(p, l->target, l->is_field, &mfile);
  else if (l->role == ROLE_ARG) stores_param(p, l->target, l->argi, &map, &mfile);
  if (map == NULL) return;
  char list[512] = "", first_ref[128] = "";
  size_t used = 0;
  int any_ref = 0;
  for (size_t i = 0; i < l->cap_count; i++) {
    const go_capture *c = &f->go->caps.v[l->cap_first + i];
    int ref = 0;
    vkind k = resolve(p, c->kind, c->tname, 0, &ref);
    const char *kn = ref && k == K_STRUCT  ? "struct holding references"
                     : ref && k == K_ARRAY ? "array holding references"
                                           : vkind_names[k];
    if (ref && !any_ref)
      snprintf(first_ref, sizeof first_ref, "%.*s", (int)c->name.n, c->name.s);
    any_ref |= ref;
    int wrote = snprintf(list + used, sizeof list - used, "%s%.*s (%.*s%s%s)", i ? ", " : "",
                         (int)c->name.n, c->name.s, (int)c->tname.n, c->tname.s,
                         c->tname.n ? ": " : "", kn);
    if (wrote < 0 || (size_t)wrote >= sizeof list - used) break;
    used += (size_t)wrote;
  }
  char msg[1024], hint[256];
  snprintf(msg, sizeof msg, "func literal stored in func map '%.*s'%s%.*s captures %s%s",
           (int)map->name.n, map->name.s, l->role == ROLE_ARG ? " through " : "",
           l->role == ROLE_ARG ? (int)l->target.n : 0, l->target.s, list,
           any_ref ? "; the map keeps what they reference alive"
                   : "; all scalar or of types not known here");
  snprintf(hint, sizeof hint,
           "copy the fields the func needs into locals before the literal (id := %s.ID) and "
           "capture those, not %s",
           first_ref[0] ? first_ref : "data", first_ref[0] ? first_ref : "the whole object");
  scan_facts *fx = emit(p, f, l->line, l->col, SCAN_TG104, any_ref ? SCAN_ERROR : SCAN_NOTE, hint, msg);
  if (fx == NULL) return;
  map_facts(p, fx, mfile, map);
  if (l->func >= 0) {
    fx->func = f->go->funcs.v[l->func].name;
    fx->recv = f->go->funcs.v[l->func].recv;
  }
  if (l->role == ROLE_ARG) fx->via = l->target;
  fx->end_line = l->end_line;
  for (size_t i = 0; i < l->cap_count && fx->ncaptures < SCAN_MAX_CAPTURES; i++) {
    const go_capture *c = &f->go->caps.v[l->cap_first + i];
    int ref = 0;
    resolve(p, c->kind, c->tname, 0, &ref);
    if (ref) fx->capture_ref |= 1u << fx->ncaptures;
    fx->capture_line[fx->ncaptures] = c->decl_line;
    fx->capture[fx->ncaptures++] = c->name;
  }
}

static void check_overwrites(const pkg *p, scan_file *f) {
  const scan_go_facts *g = f->go;
  for (size_t w = 0; w < g->writes.n; w++) {
    const go_write *wr = &g->writes.v[w];
    if (wr->kind != W_ASSIGN || wr->rhs_nil || wr->checked) continue;
    const go_var *map = find_func_map(p, wr->target, wr->is_field, NULL);
    if (map == NULL) continue;
    char msg[256];
    snprintf(msg, sizeof msg,
             "'%.*s[...] = ...' replaces any func already stored under that key, silently",
             (int)wr->target.n, wr->target.s);
    emit(p, f, wr->line, wr->col, SCAN_TG105, SCAN_NOTE,
         "check `if _, ok := m[k]; ok` first and reject or unregister the old entry", msg);
  }
}

void scan_go_package(scan_file **files, size_t n, const scan_options *o) {
  pkg p = {files, n, o};
  for (size_t i = 0; i < n; i++) {
    scan_go_facts *g = files[i]->go;
    if (g == NULL) continue;
    for (size_t v = 0; v < g->vars.n; v++)
      if (is_func_map(&p, &g->vars.v[v])) check_map(&p, files[i], &g->vars.v[v]);
  }
  for (size_t i = 0; i < n; i++) {
    scan_go_facts *g = files[i]->go;
    if (g == NULL) continue;
    for (size_t l = 0; l < g->lits.n; l++) check_literal(&p, files[i], &g->lits.v[l]);
    check_overwrites(&p, files[i]);
  }
}
