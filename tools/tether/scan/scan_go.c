/* The Go half of `tether scan`, part one: extraction. One iterative walk of a
 * file's syntax tree (deep nesting cannot exhaust the stack) records its facts
 * (scan_go.h): the type facts (type declarations with their type parameters,
 * struct fields including inline structs, function and method signatures,
 * imports, package-level variables with their declared or inferred types), and
 * the data-flow facts the rules need: writes into maps, removals (delete, clear,
 * Delete, re-slicing, nil-outs, slices.Delete ...), reads, parameters passed on
 * to other calls, and every func literal (or helper call) stored into a map,
 * passed to a call or returned, with what it captures. A local's type is written
 * down only when a rule will ask for it (a capture, a receiver, a stored value),
 * from the expression that declared it, so the walk stays one cheap pass. Facts
 * point into the file's buffer; the rules resolve them across the module. */
#include "scan_go.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

/* ---- Node kinds: one table from the grammar's symbols to the kinds we use. ---- */

enum {
  N_OTHER,
  N_COMMENT,
  N_PACKAGE_CLAUSE,
  N_PACKAGE_IDENTIFIER,
  N_VAR_SPEC,
  N_CONST_SPEC,
  N_TYPE_SPEC,
  N_TYPE_ALIAS,
  N_FUNCTION_DECLARATION,
  N_METHOD_DECLARATION,
  N_FUNC_LITERAL,
  N_PARAMETER_DECLARATION,
  N_VARIADIC_PARAMETER_DECLARATION,
  N_SHORT_VAR_DECLARATION,
  N_ASSIGNMENT_STATEMENT,
  N_RANGE_CLAUSE,
  N_RECEIVE_STATEMENT,
  N_TYPE_SWITCH_STATEMENT,
  N_CALL_EXPRESSION,
  N_INDEX_EXPRESSION,
  N_SELECTOR_EXPRESSION,
  N_IDENTIFIER,
  N_FIELD_IDENTIFIER,
  N_TYPE_IDENTIFIER,
  N_MAP_TYPE,
  N_SLICE_TYPE,
  N_ARRAY_TYPE,
  N_IMPLICIT_LENGTH_ARRAY_TYPE,
  N_POINTER_TYPE,
  N_CHANNEL_TYPE,
  N_FUNCTION_TYPE,
  N_INTERFACE_TYPE,
  N_STRUCT_TYPE,
  N_QUALIFIED_TYPE,
  N_GENERIC_TYPE,
  N_PARENTHESIZED_TYPE,
  N_COMPOSITE_LITERAL,
  N_UNARY_EXPRESSION,
  N_FIELD_DECLARATION,
  N_FIELD_DECLARATION_LIST,
  N_INT_LITERAL,
  N_FLOAT_LITERAL,
  N_IMAGINARY_LITERAL,
  N_RUNE_LITERAL,
  N_INTERPRETED_STRING_LITERAL,
  N_RAW_STRING_LITERAL,
  N_TRUE,
  N_FALSE,
  N_NIL,
  N_PARENTHESIZED_EXPRESSION,
  N_PARAMETER_LIST,
  N_LABEL_NAME,
  N_IF_STATEMENT,
  N_BLOCK,
  N_TYPE_ARGUMENTS,
  N_TYPE_ELEM,
  N_TYPE_PARAMETER_LIST,
  N_TYPE_PARAMETER_DECLARATION,
  N_IMPORT_SPEC,
  N_RETURN_STATEMENT,
  N_EXPRESSION_LIST,
  N_SLICE_EXPRESSION,
  N_TYPE_ASSERTION_EXPRESSION,
  N_TYPE_CONVERSION_EXPRESSION,
  N_BINARY_EXPRESSION,
  N_ARGUMENT_LIST,
  N_DOT,
  N_BLANK_IDENTIFIER,
  N_VARIADIC_ARGUMENT,
  N_TYPE_INSTANTIATION_EXPRESSION,
  N_KIND_COUNT
};

static const char *const kind_names[N_KIND_COUNT] = {
    [N_COMMENT] = "comment",
    [N_PACKAGE_CLAUSE] = "package_clause",
    [N_PACKAGE_IDENTIFIER] = "package_identifier",
    [N_VAR_SPEC] = "var_spec",
    [N_CONST_SPEC] = "const_spec",
    [N_TYPE_SPEC] = "type_spec",
    [N_TYPE_ALIAS] = "type_alias",
    [N_FUNCTION_DECLARATION] = "function_declaration",
    [N_METHOD_DECLARATION] = "method_declaration",
    [N_FUNC_LITERAL] = "func_literal",
    [N_PARAMETER_DECLARATION] = "parameter_declaration",
    [N_VARIADIC_PARAMETER_DECLARATION] = "variadic_parameter_declaration",
    [N_SHORT_VAR_DECLARATION] = "short_var_declaration",
    [N_ASSIGNMENT_STATEMENT] = "assignment_statement",
    [N_RANGE_CLAUSE] = "range_clause",
    [N_RECEIVE_STATEMENT] = "receive_statement",
    [N_TYPE_SWITCH_STATEMENT] = "type_switch_statement",
    [N_CALL_EXPRESSION] = "call_expression",
    [N_INDEX_EXPRESSION] = "index_expression",
    [N_SELECTOR_EXPRESSION] = "selector_expression",
    [N_IDENTIFIER] = "identifier",
    [N_FIELD_IDENTIFIER] = "field_identifier",
    [N_TYPE_IDENTIFIER] = "type_identifier",
    [N_MAP_TYPE] = "map_type",
    [N_SLICE_TYPE] = "slice_type",
    [N_ARRAY_TYPE] = "array_type",
    [N_IMPLICIT_LENGTH_ARRAY_TYPE] = "implicit_length_array_type",
    [N_POINTER_TYPE] = "pointer_type",
    [N_CHANNEL_TYPE] = "channel_type",
    [N_FUNCTION_TYPE] = "function_type",
    [N_INTERFACE_TYPE] = "interface_type",
    [N_STRUCT_TYPE] = "struct_type",
    [N_QUALIFIED_TYPE] = "qualified_type",
    [N_GENERIC_TYPE] = "generic_type",
    [N_PARENTHESIZED_TYPE] = "parenthesized_type",
    [N_COMPOSITE_LITERAL] = "composite_literal",
    [N_UNARY_EXPRESSION] = "unary_expression",
    [N_FIELD_DECLARATION] = "field_declaration",
    [N_FIELD_DECLARATION_LIST] = "field_declaration_list",
    [N_INT_LITERAL] = "int_literal",
    [N_FLOAT_LITERAL] = "float_literal",
    [N_IMAGINARY_LITERAL] = "imaginary_literal",
    [N_RUNE_LITERAL] = "rune_literal",
    [N_INTERPRETED_STRING_LITERAL] = "interpreted_string_literal",
    [N_RAW_STRING_LITERAL] = "raw_string_literal",
    [N_TRUE] = "true",
    [N_FALSE] = "false",
    [N_NIL] = "nil",
    [N_PARENTHESIZED_EXPRESSION] = "parenthesized_expression",
    [N_PARAMETER_LIST] = "parameter_list",
    [N_LABEL_NAME] = "label_name",
    [N_IF_STATEMENT] = "if_statement",
    [N_BLOCK] = "block",
    [N_TYPE_ARGUMENTS] = "type_arguments",
    [N_TYPE_ELEM] = "type_elem",
    [N_TYPE_PARAMETER_LIST] = "type_parameter_list",
    [N_TYPE_PARAMETER_DECLARATION] = "type_parameter_declaration",
    [N_IMPORT_SPEC] = "import_spec",
    [N_RETURN_STATEMENT] = "return_statement",
    [N_EXPRESSION_LIST] = "expression_list",
    [N_SLICE_EXPRESSION] = "slice_expression",
    [N_TYPE_ASSERTION_EXPRESSION] = "type_assertion_expression",
    [N_TYPE_CONVERSION_EXPRESSION] = "type_conversion_expression",
    [N_BINARY_EXPRESSION] = "binary_expression",
    [N_ARGUMENT_LIST] = "argument_list",
    [N_DOT] = "dot",
    [N_BLANK_IDENTIFIER] = "blank_identifier",
    [N_VARIADIC_ARGUMENT] = "variadic_argument",
    [N_TYPE_INSTANTIATION_EXPRESSION] = "type_instantiation_expression",
};

enum {
  F_NAME,
  F_TYPE,
  F_VALUE,
  F_LEFT,
  F_RIGHT,
  F_OPERATOR,
  F_FUNCTION,
  F_ARGUMENTS,
  F_OPERAND,
  F_INDEX,
  F_FIELD,
  F_KEY,
  F_ELEMENT,
  F_PARAMETERS,
  F_RECEIVER,
  F_BODY,
  F_PACKAGE,
  F_ALIAS,
  F_CONDITION,
  F_TYPE_PARAMETERS,
  F_TYPE_ARGUMENTS,
  F_RESULT,
  F_PATH,
  F_FIELD_COUNT
};
static const char *const field_names[F_FIELD_COUNT] = {
    "name",      "type",    "value",   "left",  "right",     "operator",        "function",
    "arguments", "operand", "index",   "field", "key",       "element",         "parameters",
    "receiver",  "body",    "package", "alias", "condition", "type_parameters", "type_arguments",
    "result",    "path"};

static scan_grammar grammar;
static TSFieldId field_id[F_FIELD_COUNT];
static pthread_once_t tables_once = PTHREAD_ONCE_INIT;

static void tables_init(void) {
  scan_grammar_init(&grammar, scan_lang_go(), kind_names, N_KIND_COUNT, field_names, F_FIELD_COUNT,
                    field_id);
}

static int kind(TSNode n) {
  return scan_grammar_kind(&grammar, n);
}
static uint32_t nchild(TSNode n) {
  return scan_nchild(n);
}
static TSNode nth(TSNode n, uint32_t i) {
  return scan_nth(n, i);
}
static TSNode field(TSNode n, int f) {
  return scan_field(&grammar, n, f);
}

void scan_go_facts_free(scan_go_facts *g) {
  if (g == NULL) return;
  free(g->txs.v);
  free(g->txlist.v);
  free(g->fields.v);
  free(g->names.v);
  free(g->types.v);
  free(g->funcs.v);
  free(g->params.v);
  free(g->imports.v);
  free(g->vars.v);
  free(g->xs.v);
  free(g->writes.v);
  free(g->removals.v);
  free(g->lits.v);
  free(g->caps.v);
  free(g->fwds.v);
  for (size_t i = 0; i < g->owned.n; i++) free(g->owned.v[i]);
  free(g->owned.v);
  free(g);
}

/* ---- The walk's state. ---- */

/* How a local got its value: the node a decl keeps is its type or its initialiser. */
enum { D_NONE, D_TYPE, D_VARIADIC, D_EXPR, D_RANGEK, D_RANGEV, D_CONST };

#define X_PENDING UINT32_MAX

typedef struct decl {
  scan_str name;
  TSNode node;              /* valid while the walk runs */
  uint8_t how, idx, shrunk; /* shrunk: reassigned from a re-slice of itself */
  int16_t param;            /* >= 0: the enclosing function's parameter index */
  uint32_t x;               /* its expression type, computed on first use */
  uint32_t line;            /* where it is declared */
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
  scan_str target, qual, chain;
  uint32_t recv_x;
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
  GO_VEC(ctx) ctxs;
  GO_VEC(decl) decls;
  GO_VEC(scan_str) uses;
  GO_VEC(pending) pend;
  GO_VEC(read_fact) reads;
  long func;           /* current top-level function, -1 outside */
  int in_lit;          /* number of literal contexts open */
  int header;          /* still before the package clause (build constraints live there) */
  int ignore;          /* a //go:build ignore line was seen */
  const char *line_at; /* line_of's position in the buffer */
  uint32_t line_no;    /* the line there */
} walker;

static scan_str str_of(walker *w, TSNode n) {
  return scan_node_str(w->f, n);
}
static const scan_str no_str = {"", 0};

/* The line of byte P of the buffer. Declarations come in increasing order
 * mostly, so the count goes on from the last answer; going back starts over. */
static uint32_t line_of(walker *w, const char *p) {
  const char *start = (const char *)w->f->data, *end = start + w->f->len;
  if (p < start || p > end) return 0;
  if (w->line_at == NULL || p < w->line_at) {
    w->line_at = start;
    w->line_no = 1;
  }
  for (const char *q = w->line_at; (q = memchr(q, '\n', (size_t)(p - q))) != NULL; q++)
    w->line_no++;
  w->line_at = p;
  return w->line_no;
}

static void pos_of(TSNode n, uint32_t *line, uint32_t *col) {
  TSPoint p = ts_node_start_point(n);
  *line = p.row + 1;
  *col = p.column + 1;
}

static int is_scalar_name(scan_str s) {
  static const char *const names[] = {"bool",    "string",  "int",       "int8",      "int16",
                                      "int32",   "int64",   "uint",      "uint8",     "uint16",
                                      "uint32",  "uint64",  "uintptr",   "byte",      "rune",
                                      "float32", "float64", "complex64", "complex128"};
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
    if (scan_str_eq(s, names[i])) return 1;
  return 0;
}

static TSNode unparen_type(TSNode t) {
  for (int i = 0; i < 64 && kind(t) == N_PARENTHESIZED_TYPE; i++) t = nth(t, 0);
  return t;
}

static TSNode unparen(TSNode e) {
  for (int i = 0; i < 64 && kind(e) == N_PARENTHESIZED_EXPRESSION; i++) e = nth(e, 0);
  return e;
}

/* The grammar reads `m[a][b]` and `x.m[a][b]` as the instantiation of a generic
 * type (type_instantiation_expression of generic_type). This gives the node that
 * stands for `m` or `x.m` (a type_identifier or a qualified_type) and how many
 * index levels were applied to it; a null node when E is not such a misreading. */
static TSNode misread_index(TSNode e, uint32_t *levels) {
  *levels = 0;
  if (kind(e) != N_TYPE_INSTANTIATION_EXPRESSION) return (TSNode){0};
  TSNode g = field(e, F_TYPE);
  uint32_t extra = nchild(e);
  *levels = extra > 0 ? extra - 1 : 0;
  if (kind(g) != N_GENERIC_TYPE) return (TSNode){0};
  *levels += nchild(field(g, F_TYPE_ARGUMENTS));
  TSNode base = field(g, F_TYPE);
  return kind(base) == N_TYPE_IDENTIFIER || kind(base) == N_QUALIFIED_TYPE ? base : (TSNode){0};
}

/* ---- Type expressions. ---- */

static uint32_t tx_add(walker *w, go_tx t) {
  SCAN_RESERVE(w->g->txs);
  w->g->txs.v[w->g->txs.n] = t;
  return (uint32_t)w->g->txs.n++;
}

static uint32_t tx_simple(walker *w, go_tkind k, uint32_t a, uint32_t b) {
  return tx_add(w, (go_tx){(uint8_t)k, a, b, no_str, no_str});
}

static void add_var(walker *w, TSNode name, scan_str owner, int is_field, uint32_t tx, uint32_t x,
                    scan_str text);
static scan_str owned_join(walker *w, scan_str a, scan_str b);

static uint32_t tx_of(walker *w, TSNode t, int depth);

/* Whether a field of this type can be a func map: a map, a named or generic type
 * (which may be a map type), sync.Map, or a pointer to one of those. */
static int may_be_map(walker *w, TSNode t) {
  t = unparen_type(t);
  if (kind(t) == N_POINTER_TYPE) t = unparen_type(nth(t, 0));
  switch (kind(t)) {
    case N_MAP_TYPE:
    case N_QUALIFIED_TYPE:
    case N_GENERIC_TYPE:
      return 1;
    case N_TYPE_IDENTIFIER:
      return !is_scalar_name(str_of(w, t)) && !scan_str_eq(str_of(w, t), "error");
    default:
      return 0;
  }
}

/* struct { ... }: the fields go into FIELDS contiguously (an inline struct's
 * own fields are built first). With an OWNER, fields that may be maps are also
 * recorded as go_vars, inline structs under OWNER.field. */
static uint32_t tx_struct(walker *w, TSNode st, scan_str owner, int depth) {
  TSNode list = nth(st, 0);
  uint32_t nf = nchild(list);
  GO_VEC(go_field) tmp = {NULL, 0, 0};
  for (uint32_t i = 0; i < nf; i++) {
    TSNode fd = nth(list, i);
    if (kind(fd) != N_FIELD_DECLARATION) continue;
    TSNode type = field(fd, F_TYPE);
    TSNode ut = unparen_type(type);
    int named = 0;
    TSTreeCursor c = ts_tree_cursor_new(fd);
    if (ts_tree_cursor_goto_first_child(&c)) {
      do {
        if (ts_tree_cursor_current_field_id(&c) != field_id[F_NAME]) continue;
        TSNode nm = ts_tree_cursor_current_node(&c);
        scan_str name = str_of(w, nm);
        uint32_t tx;
        if (kind(ut) == N_STRUCT_TYPE && owner.n > 0 && depth < 8)
          tx = tx_struct(w, ut, owned_join(w, owner, name), depth + 1);
        else
          tx = tx_of(w, type, depth + 1);
        if (owner.n > 0 && may_be_map(w, type)) add_var(w, nm, owner, 1, tx, 0, str_of(w, type));
        SCAN_RESERVE(tmp);
        tmp.v[tmp.n++] = (go_field){name, tx, 0};
        named = 1;
      } while (ts_tree_cursor_goto_next_sibling(&c));
    }
    ts_tree_cursor_delete(&c);
    if (!named) { /* embedded: T, *T, pkg.T, T[P] */
      TSNode e = ut;
      if (kind(e) == N_POINTER_TYPE) e = unparen_type(nth(e, 0));
      if (kind(e) == N_GENERIC_TYPE) e = field(e, F_TYPE);
      if (kind(e) == N_QUALIFIED_TYPE) e = field(e, F_NAME);
      uint32_t tx = tx_of(w, type, depth + 1);
      SCAN_RESERVE(tmp);
      tmp.v[tmp.n++] = (go_field){str_of(w, e), tx, 1};
    }
  }
  uint32_t first = (uint32_t)w->g->fields.n;
  for (size_t i = 0; i < tmp.n; i++) {
    SCAN_RESERVE(w->g->fields);
    w->g->fields.v[w->g->fields.n++] = tmp.v[i];
  }
  free(tmp.v);
  return tx_simple(w, T_STRUCT, first, (uint32_t)tmp.n);
}

/* A named or qualified type, with type arguments for T_INST. */
static uint32_t tx_named(walker *w, TSNode base, TSNode args, int depth) {
  go_tx t = {T_NAME, 0, 0, no_str, no_str};
  base = unparen_type(base);
  if (kind(base) == N_QUALIFIED_TYPE || kind(base) == N_SELECTOR_EXPRESSION) {
    int sel = kind(base) == N_SELECTOR_EXPRESSION;
    t.kind = T_QUAL;
    t.pkg = str_of(w, field(base, sel ? F_OPERAND : F_PACKAGE));
    t.name = str_of(w, field(base, sel ? F_FIELD : F_NAME));
  } else if (kind(base) == N_TYPE_IDENTIFIER || kind(base) == N_IDENTIFIER) {
    t.name = str_of(w, base);
  } else {
    return 0;
  }
  uint32_t na = nchild(args);
  if (na > 0) {
    uint32_t tmp[16];
    uint32_t k = 0;
    for (uint32_t i = 0; i < na && k < 16; i++) {
      TSNode a = nth(args, i);
      if (kind(a) == N_TYPE_ELEM) a = nth(a, 0);
      tmp[k++] = tx_of(w, a, depth + 1);
    }
    t.kind = (uint8_t)(t.kind == T_QUAL ? T_QUAL : T_NAME);
    uint32_t first = (uint32_t)w->g->txlist.n;
    for (uint32_t i = 0; i < k; i++) {
      SCAN_RESERVE(w->g->txlist);
      w->g->txlist.v[w->g->txlist.n++] = tmp[i];
    }
    /* T_INST keeps the base's name and qualifier and points at its arguments. */
    go_tx inst = {T_INST, first, k, t.name, t.kind == T_QUAL ? t.pkg : no_str};
    return tx_add(w, inst);
  }
  return tx_add(w, t);
}

static uint32_t tx_of(walker *w, TSNode t, int depth) {
  if (ts_node_is_null(t) || depth > 32) return 0;
  t = unparen_type(t);
  switch (kind(t)) {
    case N_TYPE_IDENTIFIER:
    case N_IDENTIFIER:
    case N_QUALIFIED_TYPE:
    case N_SELECTOR_EXPRESSION:
      return tx_named(w, t, (TSNode){0}, depth);
    case N_GENERIC_TYPE:
      return tx_named(w, field(t, F_TYPE), field(t, F_TYPE_ARGUMENTS), depth);
    case N_POINTER_TYPE:
      return tx_simple(w, T_PTR, tx_of(w, nth(t, 0), depth + 1), 0);
    case N_UNARY_EXPRESSION: /* new(*T) parses the type as an expression */
      return tx_simple(w, T_PTR, tx_of(w, field(t, F_OPERAND), depth + 1), 0);
    case N_SLICE_TYPE:
      return tx_simple(w, T_SLICE, tx_of(w, field(t, F_ELEMENT), depth + 1), 0);
    case N_ARRAY_TYPE:
    case N_IMPLICIT_LENGTH_ARRAY_TYPE:
      return tx_simple(w, T_ARRAY, tx_of(w, field(t, F_ELEMENT), depth + 1), 0);
    case N_MAP_TYPE: {
      uint32_t k = tx_of(w, field(t, F_KEY), depth + 1);
      uint32_t v = tx_of(w, field(t, F_VALUE), depth + 1);
      return tx_simple(w, T_MAP, k, v);
    }
    case N_CHANNEL_TYPE:
      return tx_simple(w, T_CHAN, tx_of(w, field(t, F_VALUE), depth + 1), 0);
    case N_FUNCTION_TYPE:
      return tx_simple(w, T_FUNC, 0, 0);
    case N_INTERFACE_TYPE:
      return tx_simple(w, T_IFACE, 0, 0);
    case N_STRUCT_TYPE:
      return tx_struct(w, t, no_str, depth + 1);
    default:
      return 0;
  }
}

/* Type parameter names of a type_parameter_list, appended to names. */
static void type_params(walker *w, TSNode list, uint32_t *first, uint32_t *count) {
  *first = (uint32_t)w->g->names.n;
  for (uint32_t i = 0; i < nchild(list); i++) {
    TSNode d = nth(list, i);
    if (kind(d) != N_TYPE_PARAMETER_DECLARATION) continue;
    TSTreeCursor c = ts_tree_cursor_new(d);
    if (ts_tree_cursor_goto_first_child(&c)) {
      do {
        if (ts_tree_cursor_current_field_id(&c) != field_id[F_NAME]) continue;
        SCAN_RESERVE(w->g->names);
        w->g->names.v[w->g->names.n++] = str_of(w, ts_tree_cursor_current_node(&c));
      } while (ts_tree_cursor_goto_next_sibling(&c));
    }
    ts_tree_cursor_delete(&c);
  }
  *count = (uint32_t)w->g->names.n - *first;
}

/* A string made of A + "." + B, owned by the facts: the owner of an inline
 * struct's field, "T.events.insertion". */
static scan_str owned_join(walker *w, scan_str a, scan_str b) {
  size_t n = (size_t)a.n + 1 + b.n;
  char *s = n < 4096 ? malloc(n + 1) : NULL;
  if (s == NULL) return a;
  memcpy(s, a.s, a.n);
  s[a.n] = '.';
  memcpy(s + a.n + 1, b.s, b.n);
  s[n] = 0;
  SCAN_RESERVE(w->g->owned);
  w->g->owned.v[w->g->owned.n++] = s;
  return (scan_str){s, (uint32_t)n};
}

/* ---- Expression types. ---- */

static uint32_t x_add(walker *w, go_xkind k, uint32_t a, int idx, scan_str name, scan_str qual) {
  SCAN_RESERVE(w->g->xs);
  w->g->xs.v[w->g->xs.n] = (go_x){(uint8_t)k, (uint8_t)(idx > 255 ? 255 : idx), a, name, qual};
  return (uint32_t)w->g->xs.n++;
}

/* Looks NAME up in the open contexts, innermost first; NULL when not declared. */
static decl *lookup(walker *w, scan_str name) {
  for (size_t i = w->decls.n; i > 0; i--)
    if (scan_str_same(w->decls.v[i - 1].name, name)) return &w->decls.v[i - 1];
  return NULL;
}

static int is_local(walker *w, scan_str name) {
  return w->ctxs.n > 0 && lookup(w, name) != NULL;
}

static int is_import(walker *w, scan_str name) {
  for (size_t i = 0; i < w->g->imports.n; i++)
    if (scan_str_same(go_import_name(&w->g->imports.v[i]), name)) return 1;
  return 0;
}

static uint32_t expr_x(walker *w, TSNode e, int idx, int depth);

static uint32_t decl_x_at(walker *w, decl *d, int depth) {
  if (d->x != X_PENDING) return d->x;
  if (depth > 24) return 0; /* a long chain of locals, each declared from the last */
  d->x = 0;                 /* a declaration that refers to itself resolves to unknown */
  uint32_t x = 0;
  switch (d->how) {
    case D_TYPE:
      x = x_add(w, d->param >= 0 ? X_PARAM : X_TYPE, tx_of(w, d->node, 0), 0, no_str, no_str);
      break;
    case D_VARIADIC:
      x = x_add(w, X_TYPE, tx_simple(w, T_SLICE, tx_of(w, d->node, 0), 0), 0, no_str, no_str);
      break;
    case D_EXPR:
      x = expr_x(w, d->node, d->idx, depth + 1);
      break;
    case D_RANGEK:
    case D_RANGEV: {
      uint32_t base = expr_x(w, d->node, 0, depth + 1);
      if (base) x = x_add(w, d->how == D_RANGEK ? X_RANGEK : X_RANGEV, base, 0, no_str, no_str);
      break;
    }
    default:
      break;
  }
  d->x = x;
  return x;
}

static uint32_t decl_x(walker *w, decl *d) {
  return decl_x_at(w, d, 0);
}

static uint32_t call_x(walker *w, TSNode e, int idx, int depth) {
  TSNode fn = unparen(field(e, F_FUNCTION)), args = field(e, F_ARGUMENTS);
  if (kind(fn) == N_INDEX_EXPRESSION) fn = field(fn, F_OPERAND); /* f[T](...) */
  if (kind(fn) == N_IDENTIFIER) {
    scan_str name = str_of(w, fn);
    decl *d = w->ctxs.n ? lookup(w, name) : NULL;
    if (d != NULL) return 0; /* a local func value: its result is not known */
    if (scan_str_eq(name, "new"))
      return x_add(w, X_TYPE, tx_simple(w, T_PTR, tx_of(w, nth(args, 0), depth + 1), 0), 0, no_str,
                   no_str);
    if (scan_str_eq(name, "make"))
      return x_add(w, X_TYPE, tx_of(w, nth(args, 0), depth + 1), 0, no_str, no_str);
    if (scan_str_eq(name, "append") || scan_str_eq(name, "min") || scan_str_eq(name, "max"))
      return expr_x(w, nth(args, 0), 0, depth + 1);
    if (scan_str_eq(name, "len") || scan_str_eq(name, "cap") || scan_str_eq(name, "copy") ||
        scan_str_eq(name, "real") || scan_str_eq(name, "imag") || is_scalar_name(name))
      return x_add(w, X_SCALAR, 0, 0, no_str, no_str);
    if (scan_str_eq(name, "recover") || scan_str_eq(name, "panic")) return 0;
    return x_add(w, X_CALL, 0, idx, name, no_str);
  }
  if (kind(fn) == N_SELECTOR_EXPRESSION) {
    TSNode op = unparen(field(fn, F_OPERAND));
    scan_str name = str_of(w, field(fn, F_FIELD));
    if (kind(op) == N_IDENTIFIER) {
      scan_str q = str_of(w, op);
      if (!is_local(w, q) && is_import(w, q)) return x_add(w, X_CALL, 0, idx, name, q);
    }
    uint32_t recv = expr_x(w, op, 0, depth + 1);
    return x_add(w, X_MCALL, recv, idx, name, no_str);
  }
  if (kind(fn) == N_PARENTHESIZED_EXPRESSION || kind(fn) == N_UNARY_EXPRESSION) /* (*T)(x) */
    return x_add(w, X_TYPE, tx_of(w, kind(fn) == N_UNARY_EXPRESSION ? fn : nth(fn, 0), depth + 1),
                 0, no_str, no_str);
  return 0;
}

static uint32_t expr_x(walker *w, TSNode e, int idx, int depth) {
  if (depth > 24) return 0;
  e = unparen(e);
  switch (kind(e)) {
    case N_INT_LITERAL:
    case N_FLOAT_LITERAL:
    case N_IMAGINARY_LITERAL:
    case N_RUNE_LITERAL:
    case N_INTERPRETED_STRING_LITERAL:
    case N_RAW_STRING_LITERAL:
    case N_TRUE:
    case N_FALSE:
      return x_add(w, X_SCALAR, 0, 0, no_str, no_str);
    case N_FUNC_LITERAL:
      return x_add(w, X_FUNCLIT, 0, 0, no_str, no_str);
    case N_IDENTIFIER: {
      scan_str name = str_of(w, e);
      decl *d = w->ctxs.n ? lookup(w, name) : NULL;
      if (d != NULL) return idx == 0 ? decl_x_at(w, d, depth + 1) : 0;
      return x_add(w, X_IDENT, 0, 0, name, no_str);
    }
    case N_SELECTOR_EXPRESSION: {
      TSNode op = unparen(field(e, F_OPERAND));
      scan_str name = str_of(w, field(e, F_FIELD));
      if (kind(op) == N_IDENTIFIER) {
        scan_str q = str_of(w, op);
        if (!is_local(w, q) && is_import(w, q)) return x_add(w, X_IDENT, 0, 0, name, q);
      }
      uint32_t base = expr_x(w, op, 0, depth + 1);
      return base ? x_add(w, X_FIELD, base, 0, name, no_str) : 0;
    }
    case N_CALL_EXPRESSION:
      return call_x(w, e, idx, depth);
    case N_COMPOSITE_LITERAL:
      return x_add(w, X_TYPE, tx_of(w, field(e, F_TYPE), depth + 1), 0, no_str, no_str);
    case N_UNARY_EXPRESSION: {
      scan_str op = str_of(w, field(e, F_OPERATOR));
      TSNode a = field(e, F_OPERAND);
      if (scan_str_eq(op, "&")) {
        uint32_t base = expr_x(w, a, 0, depth + 1);
        return base ? x_add(w, X_ADDR, base, 0, no_str, no_str) : 0;
      }
      if (scan_str_eq(op, "*")) {
        uint32_t base = expr_x(w, a, 0, depth + 1);
        return base ? x_add(w, X_DEREF, base, 0, no_str, no_str) : 0;
      }
      if (scan_str_eq(op, "<-")) {
        if (idx == 1) return x_add(w, X_SCALAR, 0, 0, no_str, no_str);
        uint32_t base = expr_x(w, a, 0, depth + 1);
        return base ? x_add(w, X_RECV, base, 0, no_str, no_str) : 0;
      }
      if (scan_str_eq(op, "!")) return x_add(w, X_SCALAR, 0, 0, no_str, no_str);
      return expr_x(w, a, 0, depth + 1);
    }
    case N_INDEX_EXPRESSION: {
      if (idx == 1) return x_add(w, X_SCALAR, 0, 0, no_str, no_str); /* v, ok := m[k] */
      uint32_t base = expr_x(w, field(e, F_OPERAND), 0, depth + 1);
      return base ? x_add(w, X_INDEX, base, 0, no_str, no_str) : 0;
    }
    case N_SLICE_EXPRESSION:
      return expr_x(w, field(e, F_OPERAND), 0, depth + 1);
    case N_TYPE_INSTANTIATION_EXPRESSION: { /* m[a][b] misread as a generic instantiation */
      uint32_t levels;
      TSNode base = misread_index(e, &levels);
      if (ts_node_is_null(base) || idx != 0) return 0;
      uint32_t x;
      if (kind(base) == N_QUALIFIED_TYPE) {
        scan_str op = str_of(w, field(base, F_PACKAGE)), name = str_of(w, field(base, F_NAME));
        decl *d = w->ctxs.n ? lookup(w, op) : NULL;
        if (d == NULL && is_import(w, op))
          x = x_add(w, X_IDENT, 0, 0, name, op);
        else if (d != NULL)
          x = x_add(w, X_FIELD, decl_x_at(w, d, depth + 1), 0, name, no_str);
        else
          x = x_add(w, X_FIELD, x_add(w, X_IDENT, 0, 0, op, no_str), 0, name, no_str);
      } else {
        decl *d = w->ctxs.n ? lookup(w, str_of(w, base)) : NULL;
        x = d ? decl_x_at(w, d, depth + 1) : x_add(w, X_IDENT, 0, 0, str_of(w, base), no_str);
      }
      for (uint32_t i = 0; i < levels && i < 8 && x; i++)
        x = x_add(w, X_INDEX, x, 0, no_str, no_str);
      return x;
    }
    case N_TYPE_ASSERTION_EXPRESSION:
      if (idx == 1) return x_add(w, X_SCALAR, 0, 0, no_str, no_str);
      return x_add(w, X_TYPE, tx_of(w, field(e, F_TYPE), depth + 1), 0, no_str, no_str);
    case N_TYPE_CONVERSION_EXPRESSION:
      return x_add(w, X_TYPE, tx_of(w, field(e, F_TYPE), depth + 1), 0, no_str, no_str);
    case N_BINARY_EXPRESSION: {
      scan_str op = str_of(w, field(e, F_OPERATOR));
      static const char *const cmp[] = {"==", "!=", "<", "<=", ">", ">=", "&&", "||"};
      for (size_t i = 0; i < sizeof cmp / sizeof cmp[0]; i++)
        if (scan_str_eq(op, cmp[i])) return x_add(w, X_SCALAR, 0, 0, no_str, no_str);
      return expr_x(w, field(e, F_LEFT), 0, depth + 1);
    }
    default:
      return 0;
  }
}

/* ---- Declarations inside functions. ---- */

static decl *declare(walker *w, scan_str name, int how, TSNode node, int idx) {
  if (w->ctxs.n == 0 || name.n == 0 || scan_str_eq(name, "_")) return NULL;
  SCAN_RESERVE(w->decls);
  decl *d = &w->decls.v[w->decls.n++];
  *d = (decl){name, node, (uint8_t)how, (uint8_t)(idx > 255 ? 255 : idx), 0, -1, X_PENDING, 0};
  d->line = line_of(w, name.s);
  return d;
}

/* Declares each name child of N (fields "name"). */
static void declare_names(walker *w, TSNode n, int how, TSNode node, int param_base) {
  TSTreeCursor c = ts_tree_cursor_new(n);
  int i = 0;
  if (ts_tree_cursor_goto_first_child(&c)) {
    do {
      if (ts_tree_cursor_current_field_id(&c) != field_id[F_NAME]) continue;
      decl *d = declare(w, str_of(w, ts_tree_cursor_current_node(&c)), how, node, i);
      if (d && param_base >= 0) d->param = (int16_t)(param_base + i);
      i++;
    } while (ts_tree_cursor_goto_next_sibling(&c));
  }
  ts_tree_cursor_delete(&c);
}

/* Declares the parameters of a parameter list; PARAM_BASE >= 0 numbers them as
 * the current function's parameters. Returns how many positions it has. */
static int declare_params(walker *w, TSNode list, int param_base) {
  int pos = 0;
  for (uint32_t i = 0; i < nchild(list); i++) {
    TSNode p = nth(list, i);
    int variadic = kind(p) == N_VARIADIC_PARAMETER_DECLARATION;
    if (kind(p) != N_PARAMETER_DECLARATION && !variadic) continue;
    TSNode type = field(p, F_TYPE);
    int names = 0;
    TSTreeCursor c = ts_tree_cursor_new(p);
    if (ts_tree_cursor_goto_first_child(&c)) {
      do {
        if (ts_tree_cursor_current_field_id(&c) != field_id[F_NAME]) continue;
        decl *d = declare(w, str_of(w, ts_tree_cursor_current_node(&c)),
                          variadic ? D_VARIADIC : D_TYPE, type, 0);
        if (d && param_base >= 0) d->param = (int16_t)(param_base + pos);
        names++;
        pos++;
      } while (ts_tree_cursor_goto_next_sibling(&c));
    }
    ts_tree_cursor_delete(&c);
    if (names == 0) pos++;
  }
  return pos;
}

/* var x T = v / const c = v, inside a function. */
static void on_local_spec(walker *w, TSNode n, int is_const) {
  TSNode type = field(n, F_TYPE), value = field(n, F_VALUE);
  if (is_const)
    declare_names(w, n, D_CONST, type, -1);
  else if (!ts_node_is_null(type))
    declare_names(w, n, D_TYPE, type, -1);
  else if (nchild(value) == 1) { /* var a, b = f() */
    TSTreeCursor c = ts_tree_cursor_new(n);
    int i = 0;
    if (ts_tree_cursor_goto_first_child(&c)) {
      do {
        if (ts_tree_cursor_current_field_id(&c) != field_id[F_NAME]) continue;
        declare(w, str_of(w, ts_tree_cursor_current_node(&c)), D_EXPR, nth(value, 0), i++);
      } while (ts_tree_cursor_goto_next_sibling(&c));
    }
    ts_tree_cursor_delete(&c);
  } else {
    TSTreeCursor c = ts_tree_cursor_new(n);
    uint32_t i = 0;
    if (ts_tree_cursor_goto_first_child(&c)) {
      do {
        if (ts_tree_cursor_current_field_id(&c) != field_id[F_NAME]) continue;
        declare(w, str_of(w, ts_tree_cursor_current_node(&c)), D_EXPR, nth(value, i++), 0);
      } while (ts_tree_cursor_goto_next_sibling(&c));
    }
    ts_tree_cursor_delete(&c);
  }
}

/* a, b := x, y; x, err := f(); also range and receive clauses with :=. */
static void on_short_decl(walker *w, TSNode n, int range) {
  TSNode left = field(n, F_LEFT), right = field(n, F_RIGHT);
  uint32_t nl = nchild(left);
  uint32_t nr = ts_node_is_null(right) ? 0 : (kind(right) == N_EXPRESSION_LIST ? nchild(right) : 1);
  for (uint32_t i = 0; i < nl; i++) {
    TSNode id = nth(left, i);
    if (kind(id) != N_IDENTIFIER) continue;
    if (range)
      declare(w, str_of(w, id), i == 0 ? D_RANGEK : D_RANGEV, right, 0);
    else if (kind(right) != N_EXPRESSION_LIST)
      declare(w, str_of(w, id), D_EXPR, right, (int)i);
    else if (nl == nr)
      declare(w, str_of(w, id), D_EXPR, nth(right, i), 0);
    else if (nr == 1)
      declare(w, str_of(w, id), D_EXPR, nth(right, 0), (int)i);
    else
      declare(w, str_of(w, id), D_NONE, right, 0);
  }
}

/* ---- Map targets: `m[k]`, `x.f[k]`, `pkg.M[k]`, `m`, a local alias of a map or
 * of a map element (`h := r.tbl[k]; h[tag] = f`), through any index or slice. ---- */

typedef struct target {
  scan_str name, qual;
  scan_str chain; /* a field: the selector path from the first field on ("events.insertion.fns") */
  int is_field;
} target;

static int target_of(walker *w, TSNode e, target *t, int depth);

/* A local that aliases a map or a map element: what it stands for. */
static int alias_of(walker *w, decl *d, target *t, int depth) {
  if (depth > 8) return 0;
  if (d->how == D_EXPR && d->idx == 0) return target_of(w, d->node, t, depth + 1);
  if (d->how == D_RANGEV) return target_of(w, d->node, t, depth + 1);
  return 0;
}

static int target_of(walker *w, TSNode e, target *t, int depth) {
  uint32_t levels;
  for (int i = 0; i < 16; i++) {
    e = unparen(e);
    if (kind(e) == N_UNARY_EXPRESSION)
      e = field(e, F_OPERAND); /* &m, *p */
    else if (kind(e) == N_INDEX_EXPRESSION || kind(e) == N_SLICE_EXPRESSION)
      e = field(e, F_OPERAND);
    else if (!ts_node_is_null(misread_index(e, &levels)))
      e = misread_index(e, &levels);
    else
      break;
  }
  t->qual = no_str;
  t->chain = no_str;
  if (kind(e) == N_QUALIFIED_TYPE) { /* x.m of a misread x.m[a][b] */
    scan_str op = str_of(w, field(e, F_PACKAGE));
    t->name = str_of(w, field(e, F_NAME));
    t->chain = t->name;
    t->is_field = 1;
    if (!is_local(w, op) && is_import(w, op)) {
      t->qual = op;
      t->is_field = 0;
    }
    return 1;
  }
  if (kind(e) == N_IDENTIFIER || kind(e) == N_TYPE_IDENTIFIER) {
    t->name = str_of(w, e);
    t->is_field = 0;
    decl *d = w->ctxs.n ? lookup(w, t->name) : NULL;
    if (d == NULL) return 1;
    return alias_of(w, d, t, depth);
  }
  if (kind(e) == N_SELECTOR_EXPRESSION) {
    TSNode op = unparen(field(e, F_OPERAND));
    t->name = str_of(w, field(e, F_FIELD));
    t->is_field = 1;
    TSNode first = e;
    for (int i = 0; i < 16 && kind(unparen(field(first, F_OPERAND))) == N_SELECTOR_EXPRESSION; i++)
      first = unparen(field(first, F_OPERAND));
    uint32_t from = ts_node_start_byte(field(first, F_FIELD)), to = ts_node_end_byte(e);
    if (to > from && to <= w->f->len)
      t->chain = (scan_str){(const char *)w->f->data + from, to - from};
    if (kind(op) == N_IDENTIFIER) {
      scan_str q = str_of(w, op);
      if (!is_local(w, q) && is_import(w, q)) {
        t->qual = q;
        t->is_field = 0;
      }
    }
    return 1;
  }
  return 0;
}

/* The decl of a plain local identifier E, or NULL. */
static decl *local_ident(walker *w, TSNode e) {
  e = unparen(e);
  if (kind(e) != N_IDENTIFIER || w->ctxs.n == 0) return NULL;
  return lookup(w, str_of(w, e));
}

static int param_of(walker *w, TSNode e) {
  decl *d = local_ident(w, e);
  return d && w->func >= 0 ? d->param : -1;
}

static void add_pending(walker *w, TSNode lit, lrole role, target t, uint32_t recv_x, int argi) {
  SCAN_RESERVE(w->pend);
  w->pend.v[w->pend.n++] =
      (pending){ts_node_start_byte(lit), role, t.name, t.qual, t.chain, recv_x, t.is_field, argi};
}

static void add_removal(walker *w, target t, rkind k) {
  SCAN_RESERVE(w->g->removals);
  w->g->removals.v[w->g->removals.n++] =
      (go_removal){t.name, t.qual, t.chain, (uint8_t)t.is_field, (uint8_t)k, (int32_t)w->func};
}

static void add_read(walker *w, target t, uint32_t byte) {
  if (w->func < 0) return;
  SCAN_RESERVE(w->reads);
  w->reads.v[w->reads.n++] = (read_fact){t.name, t.is_field, byte};
}

/* A func literal, possibly inside a conversion to a func type: handlerFunc(func() {...}). */
static TSNode literal_in(TSNode value) {
  value = unparen(value);
  if (kind(value) == N_CALL_EXPRESSION && nchild(field(value, F_ARGUMENTS)) == 1 &&
      kind(unparen(nth(field(value, F_ARGUMENTS), 0))) == N_FUNC_LITERAL &&
      (kind(field(value, F_FUNCTION)) == N_IDENTIFIER ||
       kind(field(value, F_FUNCTION)) == N_SELECTOR_EXPRESSION))
    value = unparen(nth(field(value, F_ARGUMENTS), 0));
  if (kind(value) == N_TYPE_CONVERSION_EXPRESSION) value = unparen(field(value, F_OPERAND));
  return value;
}

/* The callee of a call: its name, package qualifier and receiver expression. */
static int callee_of(walker *w, TSNode call, scan_str *name, scan_str *qual, TSNode *recv) {
  TSNode fn = unparen(field(call, F_FUNCTION));
  if (kind(fn) == N_INDEX_EXPRESSION) fn = field(fn, F_OPERAND);
  *qual = no_str;
  *recv = (TSNode){0};
  if (kind(fn) == N_IDENTIFIER) {
    *name = str_of(w, fn);
    return !is_local(w, *name);
  }
  if (kind(fn) != N_SELECTOR_EXPRESSION) return 0;
  *name = str_of(w, field(fn, F_FIELD));
  TSNode op = unparen(field(fn, F_OPERAND));
  if (kind(op) == N_IDENTIFIER) {
    scan_str q = str_of(w, op);
    if (!is_local(w, q) && is_import(w, q)) {
      *qual = q;
      return 1;
    }
  }
  *recv = op;
  return 1;
}

static int is_builtin_call(scan_str n) {
  static const char *const names[] = {"append", "len",   "cap",   "copy",    "delete",
                                      "clear",  "panic", "print", "println", "make",
                                      "new",    "close", "min",   "max"};
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
    if (scan_str_eq(n, names[i])) return 1;
  return 0;
}

/* A helper call whose result is stored or passed on: m[k] = wrap(fn). */
static void add_call_site(walker *w, TSNode call, lrole role, target t, uint32_t recv_x, int argi) {
  scan_str name, qual;
  TSNode recv;
  if (!callee_of(w, call, &name, &qual, &recv) ||
      (qual.n == 0 && ts_node_is_null(recv) && is_builtin_call(name)))
    return;
  go_lit l;
  memset(&l, 0, sizeof l);
  pos_of(call, &l.line, &l.col);
  l.end_line = ts_node_end_point(call).row + 1;
  l.role = (uint8_t)role;
  l.is_call = 1;
  l.target = t.name;
  l.qual = t.qual;
  l.chain = t.chain;
  l.is_field = (uint8_t)t.is_field;
  l.recv_x = recv_x;
  l.argi = argi;
  l.func = (int32_t)w->func;
  l.param = -1;
  l.callee = name;
  l.callee_qual = qual;
  l.callee_recv = ts_node_is_null(recv) ? 0 : expr_x(w, recv, 0, 1);
  TSNode args = field(call, F_ARGUMENTS);
  for (uint32_t a = 0; a < nchild(args) && l.param < 0; a++) l.param = param_of(w, nth(args, a));
  SCAN_RESERVE(w->g->lits);
  w->g->lits.v[w->g->lits.n++] = l;
}

/* Records a write of VALUE into map T at LHS. */
static void add_write(walker *w, TSNode lhs, target t, wkind k, TSNode value) {
  go_write wr;
  memset(&wr, 0, sizeof wr);
  wr.target = t.name;
  wr.qual = t.qual;
  wr.chain = t.chain;
  wr.is_field = (uint8_t)t.is_field;
  wr.kind = (uint8_t)k;
  pos_of(lhs, &wr.line, &wr.col);
  wr.lhs_byte = ts_node_start_byte(lhs);
  wr.func = (int32_t)w->func;
  wr.rhs_param = -1;
  value = unparen(value);
  if (kind(value) == N_NIL) wr.rhs_nil = 1;
  TSNode lit = literal_in(value);
  if (kind(lit) == N_FUNC_LITERAL) {
    wr.rhs_x = k == W_STORE ? x_add(w, X_FUNCLIT, 0, 0, no_str, no_str) : 0;
    add_pending(w, lit, ROLE_STORE, t, 0, 0);
  } else if (kind(value) == N_IDENTIFIER) {
    decl *d = w->ctxs.n ? lookup(w, str_of(w, value)) : NULL;
    if (d != NULL) {
      wr.rhs_param = w->func >= 0 ? d->param : -1;
      if (k == W_STORE) wr.rhs_x = decl_x(w, d);
    } else {
      wr.rhs_name = str_of(w, value); /* maybe a package-level function */
    }
  } else if (kind(value) == N_CALL_EXPRESSION) {
    if (k == W_STORE) wr.rhs_x = expr_x(w, value, 0, 0);
    add_call_site(w, value, ROLE_STORE, t, 0, 0);
  } else if (kind(value) == N_SELECTOR_EXPRESSION && k == W_STORE) {
    wr.rhs_x = expr_x(w, value, 0, 0);
  }
  SCAN_RESERVE(w->g->writes);
  w->g->writes.v[w->g->writes.n++] = wr;
}

/* `if m == nil { m = make(...) }`: creating the map on first use is not a reset. */
static int lazy_init(walker *w, TSNode assign, TSNode rhs) {
  int fresh =
      kind(rhs) == N_COMPOSITE_LITERAL ||
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

/* slices.Delete / DeleteFunc / Compact / CompactFunc (and maps.DeleteFunc). */
static int shrinking_call(walker *w, TSNode call, int *maps) {
  TSNode fn = unparen(field(call, F_FUNCTION));
  if (kind(fn) == N_INDEX_EXPRESSION) fn = field(fn, F_OPERAND);
  if (kind(fn) != N_SELECTOR_EXPRESSION) return 0;
  scan_str pkg = str_of(w, field(fn, F_OPERAND)), name = str_of(w, field(fn, F_FIELD));
  *maps = scan_str_eq(pkg, "maps");
  if (*maps) return scan_str_eq(name, "DeleteFunc");
  if (!scan_str_eq(pkg, "slices")) return 0;
  return scan_str_eq(name, "Delete") || scan_str_eq(name, "DeleteFunc") ||
         scan_str_eq(name, "Compact") || scan_str_eq(name, "CompactFunc");
}

/* Whether storing VALUE shrinks what it replaces: a re-slice (s[:n], s[1:]),
 * append(s[:i], s[i+1:]...), slices.Delete(...), or a local that holds one. */
static int shrinking_value(walker *w, TSNode value) {
  value = unparen(value);
  int maps;
  if (kind(value) == N_SLICE_EXPRESSION) return 1;
  if (kind(value) == N_CALL_EXPRESSION) {
    if (shrinking_call(w, value, &maps)) return 1;
    if (!scan_str_eq(str_of(w, field(value, F_FUNCTION)), "append")) return 0;
    /* append(s[:i], s[i+1:]...) drops an element; append(s[:n], f) adds one. */
    TSNode args = field(value, F_ARGUMENTS);
    if (kind(unparen(nth(args, 0))) != N_SLICE_EXPRESSION) return 0;
    for (uint32_t a = 1; a < nchild(args); a++) {
      TSNode rest = nth(args, a);
      if (kind(rest) != N_VARIADIC_ARGUMENT || kind(unparen(nth(rest, 0))) != N_SLICE_EXPRESSION)
        return 0;
    }
    return 1;
  }
  decl *d = local_ident(w, value);
  if (d == NULL) return 0;
  if (d->shrunk) return 1;
  return d->how == D_EXPR && d->idx == 0 && !ts_node_is_null(d->node) &&
         (kind(unparen(d->node)) == N_SLICE_EXPRESSION ||
          (kind(unparen(d->node)) == N_CALL_EXPRESSION &&
           shrinking_call(w, unparen(d->node), &maps)));
}

/* m[k] = v, m[k] = append(m[k], v...), m = v, x.f = v, s = s[:n]. */
static void on_assignment(walker *w, TSNode n) {
  if (!scan_str_eq(str_of(w, field(n, F_OPERATOR)), "=")) return;
  TSNode left = field(n, F_LEFT), right = field(n, F_RIGHT);
  uint32_t nl = nchild(left), nr = nchild(right);
  for (uint32_t i = 0; i < nl; i++) {
    TSNode lhs = unparen(nth(left, i));
    TSNode rhs = unparen(nl == nr ? nth(right, i) : nth(right, 0));
    target t;
    uint32_t levels;
    if (kind(lhs) == N_INDEX_EXPRESSION || !ts_node_is_null(misread_index(lhs, &levels))) {
      if (!target_of(w, lhs, &t, 0)) continue;
      if (shrinking_value(w, rhs)) {
        add_removal(w, t, R_SHRINK);
        continue;
      }
      if (kind(rhs) == N_CALL_EXPRESSION &&
          scan_str_eq(str_of(w, field(rhs, F_FUNCTION)), "append")) {
        TSNode args = field(rhs, F_ARGUMENTS);
        uint32_t na = nchild(args);
        for (uint32_t a = 1; a < na; a++) add_write(w, lhs, t, W_APPEND, nth(args, a));
        continue;
      }
      add_write(w, lhs, t, W_ASSIGN, rhs);
      continue;
    }
    decl *d = local_ident(w, lhs);
    if (d != NULL) { /* s = s[:len(s)-1] marks the local as shrunk */
      if (kind(rhs) == N_SLICE_EXPRESSION || shrinking_value(w, rhs)) d->shrunk = 1;
      continue;
    }
    if (w->func >= 0 && target_of(w, lhs, &t, 0) && !lazy_init(w, n, rhs))
      add_removal(w, t, shrinking_value(w, rhs) ? R_SHRINK : R_REASSIGN);
  }
}

static uint32_t recv_x_of(walker *w, TSNode recv) {
  return ts_node_is_null(recv) ? 0 : expr_x(w, recv, 0, 1);
}

/* delete(m, k), clear(m), m.Store(k, v), m.Delete(k), slices.Delete(s, i, j),
 * and what is passed on: func literals, helper calls, the function's parameters. */
static void on_call(walker *w, TSNode n) {
  TSNode fn = unparen(field(n, F_FUNCTION)), args = field(n, F_ARGUMENTS);
  uint32_t na = nchild(args);
  target t;
  int maps;
  if (kind(fn) == N_IDENTIFIER) {
    scan_str callee = str_of(w, fn);
    if ((scan_str_eq(callee, "delete") || scan_str_eq(callee, "clear")) && na >= 1 &&
        target_of(w, nth(args, 0), &t, 0)) {
      add_removal(w, t, scan_str_eq(callee, "delete") ? R_DELETE : R_CLEAR);
      return;
    }
    if (scan_str_eq(callee, "append")) return;
  } else if (kind(fn) == N_SELECTOR_EXPRESSION) {
    scan_str callee = str_of(w, field(fn, F_FIELD));
    TSNode recv = field(fn, F_OPERAND);
    int load_or_store = scan_str_eq(callee, "LoadOrStore");
    if ((scan_str_eq(callee, "Store") || load_or_store) && na == 2 && target_of(w, recv, &t, 0)) {
      add_write(w, fn, t, W_STORE, nth(args, 1));
      if (load_or_store) add_read(w, t, ts_node_start_byte(n));
      return;
    }
    if (shrinking_call(w, n, &maps) && na >= 1 && target_of(w, nth(args, 0), &t, 0)) {
      add_removal(w, t, maps ? R_DELETE : R_SHRINK);
      return;
    }
    if ((scan_str_eq(callee, "Delete") || scan_str_eq(callee, "LoadAndDelete") ||
         scan_str_eq(callee, "CompareAndDelete") || scan_str_eq(callee, "Clear")) &&
        target_of(w, recv, &t, 0)) {
      add_removal(w, t, scan_str_eq(callee, "Clear") ? R_CLEAR : R_DELETE);
    } else if (scan_str_eq(callee, "Load") && target_of(w, recv, &t, 0)) {
      add_read(w, t, ts_node_start_byte(n));
    }
  } else {
    return;
  }
  scan_str name, qual;
  TSNode recv;
  if (!callee_of(w, n, &name, &qual, &recv)) return;
  uint32_t rx = X_PENDING;
  target ct = {name, qual, no_str, 0};
  for (uint32_t a = 0; a < na; a++) {
    TSNode arg = unparen(nth(args, a));
    if (kind(arg) == N_VARIADIC_ARGUMENT) continue;
    TSNode lit = literal_in(arg);
    int param = kind(arg) == N_IDENTIFIER ? param_of(w, arg) : kind(arg) == N_NIL ? GO_FWD_NIL : -1;
    int is_call = kind(lit) != N_FUNC_LITERAL && kind(arg) == N_CALL_EXPRESSION;
    if (kind(lit) != N_FUNC_LITERAL && param == -1 && !is_call) continue;
    if (rx == X_PENDING) rx = recv_x_of(w, recv);
    if (kind(lit) == N_FUNC_LITERAL)
      add_pending(w, lit, ROLE_ARG, ct, rx, (int)a);
    else if (is_call)
      add_call_site(w, arg, ROLE_ARG, ct, rx, (int)a);
    else {
      SCAN_RESERVE(w->g->fwds);
      w->g->fwds.v[w->g->fwds.n++] = (go_fwd){(int32_t)w->func, param, (int32_t)a, name, qual, rx};
    }
  }
}

/* return func() {...}: a closure made by a helper. */
static void on_return(walker *w, TSNode n) {
  if (w->func < 0 || w->in_lit > 0) return;
  TSNode list = nth(n, 0);
  uint32_t k = kind(list) == N_EXPRESSION_LIST ? nchild(list) : 1;
  for (uint32_t i = 0; i < k; i++) {
    TSNode e = kind(list) == N_EXPRESSION_LIST ? nth(list, i) : list;
    TSNode lit = literal_in(e);
    if (kind(lit) == N_FUNC_LITERAL)
      add_pending(w, lit, ROLE_RETURN, (target){no_str, no_str, no_str, 0}, 0, (int)i);
  }
}

/* ---- Package-level declarations. ---- */

static void add_var(walker *w, TSNode name, scan_str owner, int is_field, uint32_t tx, uint32_t x,
                    scan_str text) {
  go_var v;
  memset(&v, 0, sizeof v);
  v.name = str_of(w, name);
  v.owner = owner;
  v.is_field = (uint8_t)is_field;
  v.tx = tx;
  v.x = x;
  v.type_text = text;
  v.fm = -1;
  v.chain = v.name;
  if (is_field) { /* inside an inline struct: the path below the type's name */
    const char *dot = memchr(owner.s, '.', owner.n);
    if (dot != NULL)
      v.chain = owned_join(w, (scan_str){dot + 1, (uint32_t)(owner.s + owner.n - dot - 1)}, v.name);
  }
  pos_of(name, &v.line, &v.col);
  SCAN_RESERVE(w->g->vars);
  w->g->vars.v[w->g->vars.n++] = v;
}

/* The type text a variable's initialiser shows: T{...}, &T{...}, make(T, ...). */
static scan_str init_type_text(walker *w, TSNode value) {
  value = unparen(value);
  if (kind(value) == N_UNARY_EXPRESSION) value = field(value, F_OPERAND);
  if (kind(value) == N_COMPOSITE_LITERAL) return str_of(w, field(value, F_TYPE));
  if (kind(value) == N_CALL_EXPRESSION && scan_str_eq(str_of(w, field(value, F_FUNCTION)), "make"))
    return str_of(w, nth(field(value, F_ARGUMENTS), 0));
  return no_str;
}

static void on_global_var(walker *w, TSNode n) {
  TSNode type = field(n, F_TYPE), value = field(n, F_VALUE);
  uint32_t nv = nchild(value), idx = 0, tx = 0;
  TSNode ut = unparen_type(type);
  int inline_struct = kind(ut) == N_STRUCT_TYPE;
  TSTreeCursor c = ts_tree_cursor_new(n);
  if (ts_tree_cursor_goto_first_child(&c)) {
    do {
      if (ts_tree_cursor_current_field_id(&c) != field_id[F_NAME]) continue;
      TSNode name = ts_tree_cursor_current_node(&c);
      if (!ts_node_is_null(type)) {
        if (tx == 0 || inline_struct)
          tx = inline_struct ? tx_struct(w, ut, str_of(w, name), 0) : tx_of(w, type, 0);
        add_var(w, name, no_str, 0, tx, 0, str_of(w, type));
      } else if (nv > 0) {
        TSNode v = nv == 1 ? nth(value, 0) : nth(value, idx);
        uint32_t x = expr_x(w, v, nv == 1 ? (int)idx : 0, 0);
        add_var(w, name, no_str, 0, 0, x, init_type_text(w, v));
      }
      idx++;
    } while (ts_tree_cursor_goto_next_sibling(&c));
  }
  ts_tree_cursor_delete(&c);
}

static void on_type_spec(walker *w, TSNode n) {
  go_type t;
  memset(&t, 0, sizeof t);
  t.name = str_of(w, field(n, F_NAME));
  t.alias = kind(n) == N_TYPE_ALIAS;
  type_params(w, field(n, F_TYPE_PARAMETERS), &t.tp_first, &t.tp_count);
  TSNode type = unparen_type(field(n, F_TYPE));
  t.tx = kind(type) == N_STRUCT_TYPE ? tx_struct(w, type, t.name, 0) : tx_of(w, type, 0);
  SCAN_RESERVE(w->g->types);
  w->g->types.v[w->g->types.n++] = t;
}

static void on_import(walker *w, TSNode n) {
  scan_str path = str_of(w, field(n, F_PATH));
  if (path.n >= 2) path.s++, path.n -= 2;
  TSNode name = field(n, F_NAME);
  scan_str alias = ts_node_is_null(name) ? no_str : str_of(w, name);
  if (kind(name) == N_DOT || kind(name) == N_BLANK_IDENTIFIER) alias = no_str;
  SCAN_RESERVE(w->g->imports);
  w->g->imports.v[w->g->imports.n++] = (go_import){alias, path};
}

/* `//go:build ignore` (or `// +build ignore`) before the package clause: the
 * file is not part of its package (a generator, an example). An expression
 * excludes the file when `ignore` is required: it is not negated and nothing is
 * or-ed with it. */
static void on_header_comment(walker *w, scan_str c) {
  static const char gb[] = "//go:build ", pb[] = "// +build ";
  const char *p = NULL, *end = c.s + c.n;
  int plus = 0;
  if (c.n > sizeof gb - 1 && memcmp(c.s, gb, sizeof gb - 1) == 0)
    p = c.s + sizeof gb - 1;
  else if (c.n > sizeof pb - 1 && memcmp(c.s, pb, sizeof pb - 1) == 0)
    p = c.s + sizeof pb - 1, plus = 1;
  if (p == NULL) return;
  int found = 0, alt = 0;
  for (const char *q = p; q < end; q++) {
    if ((q[0] == '|' && q + 1 < end && q[1] == '|') ||
        (plus && q[0] == ' ' && q + 1 < end && q[1] != ' '))
      alt = 1;
    if (end - q >= 6 && memcmp(q, "ignore", 6) == 0 &&
        (q == p || q[-1] == ' ' || q[-1] == '(' || q[-1] == '&' || q[-1] == ',') &&
        (q + 6 == end || q[6] == ' ' || q[6] == ')' || q[6] == '&' || q[6] == ',' || q[6] == '\r'))
      found = 1;
  }
  for (const char *q = p; q + 1 < end; q++)
    if (q[0] == '!' && end - q > 6 && memcmp(q + 1, "ignore", 6) == 0) found = 0;
  if (found && !alt) w->ignore = 1;
}

/* ---- Contexts: functions and literals. ---- */

static void push_ctx(walker *w, TSNode n, int is_lit, long lit) {
  SCAN_RESERVE(w->ctxs);
  w->ctxs.v[w->ctxs.n++] =
      (ctx){ts_node_end_byte(n), is_lit, w->decls.n, w->uses.n, w->reads.n, w->g->writes.n, lit};
  if (is_lit) w->in_lit++;
}

/* The base type name of a receiver (T in `(r *T[K, V])`) and its type
 * parameter names. */
static scan_str receiver_type(walker *w, TSNode recv, go_func *fn) {
  TSNode p = nth(recv, 0);
  TSNode t = unparen_type(field(p, F_TYPE));
  if (kind(t) == N_POINTER_TYPE) t = unparen_type(nth(t, 0));
  if (kind(t) == N_GENERIC_TYPE) {
    TSNode args = field(t, F_TYPE_ARGUMENTS);
    fn->tp_first = (uint32_t)w->g->names.n;
    for (uint32_t i = 0; i < nchild(args); i++) {
      TSNode a = nth(args, i);
      if (kind(a) == N_TYPE_ELEM) a = nth(a, 0);
      SCAN_RESERVE(w->g->names);
      w->g->names.v[w->g->names.n++] = str_of(w, a);
    }
    fn->tp_count = (uint32_t)w->g->names.n - fn->tp_first;
    t = field(t, F_TYPE);
  }
  return kind(t) == N_TYPE_IDENTIFIER ? str_of(w, t) : no_str;
}

static void signature_params(walker *w, TSNode params, go_func *fn) {
  fn->param_first = (uint32_t)w->g->params.n;
  for (uint32_t i = 0; i < nchild(params); i++) {
    TSNode p = nth(params, i);
    int variadic = kind(p) == N_VARIADIC_PARAMETER_DECLARATION;
    if (kind(p) != N_PARAMETER_DECLARATION && !variadic) continue;
    uint32_t tx = tx_of(w, field(p, F_TYPE), 0);
    if (variadic) tx = tx_simple(w, T_SLICE, tx, 0);
    int named = 0;
    TSTreeCursor c = ts_tree_cursor_new(p);
    if (ts_tree_cursor_goto_first_child(&c)) {
      do {
        if (ts_tree_cursor_current_field_id(&c) != field_id[F_NAME]) continue;
        SCAN_RESERVE(w->g->params);
        w->g->params.v[w->g->params.n++] =
            (go_param){str_of(w, ts_tree_cursor_current_node(&c)), tx};
        named = 1;
      } while (ts_tree_cursor_goto_next_sibling(&c));
    }
    ts_tree_cursor_delete(&c);
    if (!named) { /* an unnamed parameter still takes a position */
      SCAN_RESERVE(w->g->params);
      w->g->params.v[w->g->params.n++] = (go_param){no_str, tx};
    }
  }
  fn->param_count = (uint32_t)w->g->params.n - fn->param_first;
}

static void signature_results(walker *w, TSNode result, go_func *fn) {
  uint32_t tmp[16], k = 0;
  if (kind(result) == N_PARAMETER_LIST) {
    for (uint32_t i = 0; i < nchild(result) && k < 16; i++) {
      TSNode p = nth(result, i);
      if (kind(p) != N_PARAMETER_DECLARATION) continue;
      uint32_t tx = tx_of(w, field(p, F_TYPE), 0);
      int names = 0;
      TSTreeCursor c = ts_tree_cursor_new(p);
      if (ts_tree_cursor_goto_first_child(&c)) {
        do
          if (ts_tree_cursor_current_field_id(&c) == field_id[F_NAME] && k < 16)
            tmp[k++] = tx, names++;
        while (ts_tree_cursor_goto_next_sibling(&c));
      }
      ts_tree_cursor_delete(&c);
      if (names == 0) tmp[k++] = tx;
    }
  } else if (!ts_node_is_null(result)) {
    tmp[k++] = tx_of(w, result, 0);
  }
  fn->result_first = (uint32_t)w->g->txlist.n;
  for (uint32_t i = 0; i < k; i++) {
    SCAN_RESERVE(w->g->txlist);
    w->g->txlist.v[w->g->txlist.n++] = tmp[i];
  }
  fn->result_count = k;
}

static void on_function(walker *w, TSNode n) {
  go_func fn;
  memset(&fn, 0, sizeof fn);
  TSNode name = field(n, F_NAME);
  fn.name = str_of(w, name);
  pos_of(name, &fn.line, &fn.col);
  TSNode recv = field(n, F_RECEIVER), params = field(n, F_PARAMETERS), result = field(n, F_RESULT);
  if (!ts_node_is_null(recv))
    fn.recv = receiver_type(w, recv, &fn);
  else
    type_params(w, field(n, F_TYPE_PARAMETERS), &fn.tp_first, &fn.tp_count);
  signature_params(w, params, &fn);
  signature_results(w, result, &fn);
  SCAN_RESERVE(w->g->funcs);
  w->g->funcs.v[w->g->funcs.n++] = fn;
  w->func = (long)w->g->funcs.n - 1;
  w->pend.n = 0;
  push_ctx(w, n, 0, -1);
  if (!ts_node_is_null(recv)) declare_params(w, recv, -1);
  declare_params(w, params, 0);
  if (kind(result) == N_PARAMETER_LIST) declare_params(w, result, -1);
}

/* A literal takes the role recorded for its position (a store wins over being a
 * call argument, for `m.Store(k, conv(func() {...}))`). The walk visits nodes in
 * order of position, so pending roles at or before this one are dropped. */
static void on_literal(walker *w, TSNode n) {
  uint32_t b = ts_node_start_byte(n);
  long lit = -1;
  pending p = {0, ROLE_NONE, {"", 0}, {"", 0}, {"", 0}, 0, 0, 0};
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
    l.role = (uint8_t)p.role;
    l.target = p.target;
    l.qual = p.qual;
    l.chain = p.chain;
    l.recv_x = p.recv_x;
    l.is_field = (uint8_t)p.is_field;
    l.argi = p.argi;
    l.func = (int32_t)w->func;
    l.param = -1;
    SCAN_RESERVE(w->g->lits);
    w->g->lits.v[w->g->lits.n++] = l;
    lit = (long)w->g->lits.n - 1;
  }
  push_ctx(w, n, 1, lit);
  declare_params(w, field(n, F_PARAMETERS), -1);
  TSNode result = field(n, F_RESULT);
  if (kind(result) == N_PARAMETER_LIST) declare_params(w, result, -1);
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
  uint32_t cap_first = (uint32_t)w->g->caps.n;
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
    if (lit == NULL) continue;
    /* Look the name up among the enclosing contexts' declarations only. */
    decl *d = NULL;
    for (size_t k = c->decl_first; k > 0 && d == NULL; k--)
      if (scan_str_same(w->decls.v[k - 1].name, u)) d = &w->decls.v[k - 1];
    if (d == NULL || d->how == D_CONST) continue;
    uint32_t x = decl_x(w, d);
    SCAN_RESERVE(w->g->caps);
    w->g->caps.v[w->g->caps.n++] = (go_capture){u, x, d->line};
  }
  free(own);
  if (lit) {
    lit = &w->g->lits.v[c->lit];
    lit->cap_first = cap_first;
    lit->cap_count = (uint32_t)w->g->caps.n - cap_first;
  }
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

/* m[a][b] misread as a generic instantiation: a read of m, and its names are
 * uses (captures) like identifiers. */
static void on_misread_index(walker *w, TSNode n) {
  uint32_t levels;
  target t;
  if (ts_node_is_null(misread_index(n, &levels))) return;
  if (w->func >= 0 && target_of(w, n, &t, 0)) add_read(w, t, ts_node_start_byte(n));
  if (w->in_lit == 0) return;
  TSTreeCursor c = ts_tree_cursor_new(n);
  for (int steps = 0; steps < 256; steps++) {
    TSNode cur = ts_tree_cursor_current_node(&c);
    if (kind(cur) == N_TYPE_IDENTIFIER || kind(cur) == N_PACKAGE_IDENTIFIER) {
      SCAN_RESERVE(w->uses);
      w->uses.v[w->uses.n++] = str_of(w, cur);
    }
    if (ts_tree_cursor_goto_first_child(&c)) continue;
    int done = 0;
    while (!ts_tree_cursor_goto_next_sibling(&c))
      if (!ts_tree_cursor_goto_parent(&c) || ts_node_eq(ts_tree_cursor_current_node(&c), n)) {
        done = 1;
        break;
      }
    if (done) break;
  }
  ts_tree_cursor_delete(&c);
}

static void on_index(walker *w, TSNode n) {
  target t;
  if (w->func >= 0 && target_of(w, field(n, F_OPERAND), &t, 0))
    add_read(w, t, ts_node_start_byte(n));
}

enum { V_STOP, V_DESCEND, V_SKIP };

/* Returns V_STOP to end the walk (a file excluded by its build constraint),
 * V_SKIP when nothing below N matters: types hold no statements or expressions
 * the rules need (signatures and declarations were read from the node itself). */
static int visit(walker *w, TSNode n) {
  int top = w->ctxs.n == 0;
  switch (kind(n)) {
    case N_PARAMETER_LIST:
    case N_MAP_TYPE:
    case N_SLICE_TYPE:
    case N_ARRAY_TYPE:
    case N_IMPLICIT_LENGTH_ARRAY_TYPE:
    case N_POINTER_TYPE:
    case N_CHANNEL_TYPE:
    case N_FUNCTION_TYPE:
    case N_INTERFACE_TYPE:
    case N_STRUCT_TYPE:
    case N_QUALIFIED_TYPE:
    case N_GENERIC_TYPE:
    case N_TYPE_ARGUMENTS:
    case N_TYPE_PARAMETER_LIST:
    case N_INTERPRETED_STRING_LITERAL:
    case N_RAW_STRING_LITERAL:
    case N_TYPE_IDENTIFIER:
    case N_FIELD_DECLARATION_LIST:
      return V_SKIP;
    case N_COMMENT:
      scan_note_comment(w->f, n);
      if (w->header) on_header_comment(w, str_of(w, n));
      break;
    case N_PACKAGE_CLAUSE:
      w->f->pkg = str_of(w, nth(n, 0));
      w->header = 0;
      return w->ignore ? V_STOP : V_SKIP;
    case N_IMPORT_SPEC:
      on_import(w, n);
      return V_SKIP;
    case N_FUNCTION_DECLARATION:
    case N_METHOD_DECLARATION:
      on_function(w, n);
      break;
    case N_FUNC_LITERAL:
      on_literal(w, n);
      break;
    case N_VAR_SPEC:
      if (top)
        on_global_var(w, n);
      else
        on_local_spec(w, n, 0);
      break;
    case N_CONST_SPEC:
      if (!top) on_local_spec(w, n, 1);
      break;
    case N_TYPE_SPEC:
    case N_TYPE_ALIAS:
      if (top) on_type_spec(w, n);
      return V_SKIP;
    case N_SHORT_VAR_DECLARATION:
      on_short_decl(w, n, 0);
      break;
    case N_RANGE_CLAUSE:
      if (!ts_node_is_null(field(n, F_LEFT)) && ts_node_child_count(n) > 1) {
        /* `for k, v := range x` declares; `for k, v = range x` assigns. */
        TSNode op = ts_node_next_sibling(field(n, F_LEFT));
        if (scan_str_eq(str_of(w, op), ":=")) on_short_decl(w, n, 1);
      }
      break;
    case N_RECEIVE_STATEMENT:
      if (!ts_node_is_null(field(n, F_LEFT))) on_short_decl(w, n, 0);
      break;
    case N_TYPE_SWITCH_STATEMENT: {
      TSNode alias = field(n, F_ALIAS);
      for (uint32_t i = 0; i < nchild(alias); i++)
        declare(w, str_of(w, nth(alias, i)), D_NONE, alias, 0);
      break;
    }
    case N_ASSIGNMENT_STATEMENT:
      on_assignment(w, n);
      break;
    case N_CALL_EXPRESSION:
      on_call(w, n);
      break;
    case N_INDEX_EXPRESSION:
      on_index(w, n);
      break;
    case N_RETURN_STATEMENT:
      on_return(w, n);
      break;
    case N_IDENTIFIER:
      on_identifier(w, n);
      break;
    case N_TYPE_INSTANTIATION_EXPRESSION:
      on_misread_index(w, n);
      return V_SKIP;
    default:
      break;
  }
  return V_DESCEND;
}

void scan_go_extract(scan_file *f, TSTree *tree) {
  pthread_once(&tables_once, tables_init);
  if (grammar.sym_kind == NULL) return;
  walker w;
  memset(&w, 0, sizeof w);
  w.f = f;
  w.func = -1;
  w.header = 1;
  w.g = calloc(1, sizeof *w.g);
  if (w.g == NULL) return;
  f->go = w.g;
  tx_add(&w, (go_tx){T_NONE, 0, 0, no_str, no_str}); /* index 0: none */
  x_add(&w, X_NONE, 0, 0, no_str, no_str);
  TSTreeCursor c = ts_tree_cursor_new(ts_tree_root_node(tree));
  int stopped = 0;
  for (;;) {
    TSNode n = ts_tree_cursor_current_node(&c);
    uint32_t start = ts_node_start_byte(n);
    while (w.ctxs.n > 0 && w.ctxs.v[w.ctxs.n - 1].end <= start && ts_node_end_byte(n) > start)
      pop_ctx(&w);
    int v = visit(&w, n);
    if (v == V_STOP) {
      stopped = 1;
      break;
    }
    if (v == V_DESCEND && ts_tree_cursor_goto_first_child(&c)) continue;
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
  if (stopped) { /* //go:build ignore: not part of the package */
    f->build_ignored = 1;
    f->go = NULL;
    scan_go_facts_free(w.g);
  }
}

size_t scan_go_import_count(const scan_go_facts *g) {
  return g ? g->imports.n : 0;
}

int scan_go_import_at(const scan_go_facts *g, size_t k, scan_str *path) {
  if (g == NULL || k >= g->imports.n) return 0;
  *path = g->imports.v[k].path;
  return 1;
}
