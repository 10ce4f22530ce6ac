/* The C half of `tether scan`. One iterative walk per file records: calls of
 * register functions from the pairing table (TC202, decided over all scanned C
 * files at the end), which unregister functions the file names, tether_register
 * calls that discard their handle with no owner or TTL (TC201), and file-scope
 * tables of callbacks, arrays or arrays inside a file-scope struct, with their
 * run-time fills and clears (TC203). GLib signal connections and main-loop
 * sources are paired one by one rather than by function name: a connection by
 * the variable that keeps its handler id, or by its instance and callback (or
 * data) for g_signal_handlers_disconnect_by_func / _by_data; a source by its id
 * (g_source_remove, g_clear_handle_id) or by a callback that can end it by
 * returning G_SOURCE_REMOVE (FALSE). TC201 and TC203 are decided when the walk
 * ends, since they only need the one file. */
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
  C_PARENTHESIZED_EXPRESSION, C_TRANSLATION_UNIT, C_RETURN_STATEMENT, C_TRUE, C_FALSE,
  C_STRING_LITERAL, C_KIND_COUNT
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
    [C_TRANSLATION_UNIT] = "translation_unit", [C_RETURN_STATEMENT] = "return_statement",
    [C_TRUE] = "true", [C_FALSE] = "false", [C_STRING_LITERAL] = "string_literal",
};

enum { F_DECLARATOR, F_TYPE, F_BODY, F_NAME, F_FUNCTION, F_ARGUMENTS, F_LEFT, F_RIGHT,
       F_ARGUMENT, F_VALUE, F_FIELD, F_FIELD_COUNT };
static const char *const field_names[F_FIELD_COUNT] = {
    "declarator", "type", "body", "name", "function", "arguments", "left", "right",
    "argument", "value", "field"};

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
  scan_str name, member; /* member: the array inside file-scope struct NAME, "" for none */
  uint32_t line, col;
  int fnptr_array; /* 1: an array of function pointers; 0: of callback structs */
  int filled, cleared;
  scan_str fill_func; /* the first function that fills it */
} c_table;

typedef struct c_member_table { /* an array of callbacks inside a struct type */
  scan_str type, member;
  int fnptr_array, ptr_array; /* ptr_array: an array of data pointers (contexts) */
  uint32_t line, col;
} c_member_table;

/* GLib connections and sources, and what removes them. Keys are hashes of the
 * last name in an expression (self->button and priv->button both key on
 * "button"), so the two ends may spell the object differently. */
enum { CONN_SIGNAL, CONN_SOURCE };
enum { DISC_BY_ID, DISC_BY_FUNC, DISC_BY_DATA, DISC_ALL, DISC_SOURCE_ID, DISC_SOURCE_DATA };

typedef struct c_conn {
  uint32_t line, col;
  uint8_t kind;
  scan_str fn, cb, signal;
  scan_str func; /* the function making the call */
  uint64_t id, inst, data; /* 0: none */
} c_conn;

typedef struct c_disc {
  uint8_t kind;
  uint64_t id, inst, data;
  scan_str cb;
} c_disc;

typedef struct c_cbfunc { /* a function definition: can it end its source? */
  scan_str name;
  int removes;
} c_cbfunc;

typedef struct scan_c_facts {
  struct { c_call *v; size_t n, cap; } regs;
  unsigned char *unreg_seen; /* per pair */
  size_t npairs;
  struct { c_conn *v; size_t n, cap; } conns;
  struct { c_disc *v; size_t n, cap; } discs;
  struct { c_cbfunc *v; size_t n, cap; } funcs;
} scan_c_facts;

void scan_c_facts_free(scan_c_facts *c) {
  if (c == NULL) return;
  free(c->regs.v);
  free(c->unreg_seen);
  free(c->conns.v);
  free(c->discs.v);
  free(c->funcs.v);
  free(c);
}

typedef struct cwalk {
  scan_file *f;
  const scan_options *o;
  scan_c_facts *c;
  struct { c_struct *v; size_t n, cap; } structs;
  struct { scan_str *v; size_t n, cap; } fnptr_types;
  struct { scan_str *v; size_t n, cap; } ptr_types; /* typedefs of data pointers */
  struct { c_table *v; size_t n, cap; } tables;
  struct { c_member_table *v; size_t n, cap; } members;
  struct { struct tc201 { TSNode call; scan_str func; } *v; size_t n, cap; } tc201;
  int ptr_arrays; /* file-scope arrays of data pointers (context tables) */
  uint32_t func_end; /* end byte of the function definition being walked, or 0 */
  long func; /* index into funcs of that definition, -1 */
} cwalk;

static scan_str str_of(cwalk *w, TSNode n) { return scan_node_str(w->f, n); }

/* The name of the function definition being walked; empty at file scope. */
static scan_str func_name(const cwalk *w) {
  return w->func >= 0 ? w->c->funcs.v[w->func].name : (scan_str){"", 0};
}

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

/* A typedef of a data pointer: GLib's gpointer, or one this file declares. */
static int is_ptr_type(const cwalk *w, TSNode type) {
  if (kind(type) != C_TYPE_IDENTIFIER) return 0;
  scan_str name = scan_node_str(w->f, type);
  if (scan_str_eq(name, "gpointer") || scan_str_eq(name, "gconstpointer")) return 1;
  for (size_t i = 0; i < w->ptr_types.n; i++)
    if (scan_str_same(w->ptr_types.v[i], name)) return 1;
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
    else if (s.ptr || is_ptr_type(w, type))
      ptr = 1;
  }
  return fnptr && ptr;
}

/* The arrays of callbacks (and of data pointers) in a struct body, recorded
 * under TYPE ("" for an anonymous struct: OUT gets them instead). */
static void member_tables(cwalk *w, TSNode body, scan_str type) {
  uint32_t n = nchild(body);
  for (uint32_t i = 0; i < n; i++) {
    TSNode fd = nth(body, i);
    if (kind(fd) != C_FIELD_DECLARATION) continue;
    shape s = declarator_shape(field(fd, F_DECLARATOR));
    TSNode ft = field(fd, F_TYPE);
    if (!s.array || kind(s.name) != C_FIELD_IDENTIFIER) continue;
    int fnptr_array = s.fnptr || (kind(ft) == C_TYPE_IDENTIFIER && !s.ptr && is_fnptr_type(w, str_of(w, ft)));
    int struct_array = !s.fnptr && !s.ptr && struct_of_type(w, ft) != NULL;
    int ptr = s.ptr || is_ptr_type(w, ft);
    if (!fnptr_array && !struct_array && !ptr) continue;
    c_member_table m;
    memset(&m, 0, sizeof m);
    m.type = type;
    m.member = str_of(w, s.name);
    m.fnptr_array = fnptr_array;
    m.ptr_array = !fnptr_array && !struct_array;
    TSPoint p = ts_node_start_point(s.name);
    m.line = p.row + 1;
    m.col = p.column + 1;
    SCAN_RESERVE(w->members);
    w->members.v[w->members.n++] = m;
  }
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
  member_tables(w, body, str_of(w, name));
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
  if (s.ptr && !s.array && kind(type) != C_STRUCT_SPECIFIER) {
    SCAN_RESERVE(w->ptr_types);
    w->ptr_types.v[w->ptr_types.n++] = name;
    return;
  }
  if (s.ptr || s.array || kind(type) != C_STRUCT_SPECIFIER) return;
  on_struct(w, type);
  TSNode body = field(type, F_BODY);
  if (struct_of_type(w, type) != NULL || (!ts_node_is_null(body) && callback_body(w, body)))
    add_struct(w, name);
  if (!ts_node_is_null(body) && ts_node_is_null(field(type, F_NAME))) {
    member_tables(w, body, name);
  } else { /* typedef struct S [{...}] T: T has S's member tables */
    scan_str sname = str_of(w, field(type, F_NAME));
    size_t nm = w->members.n;
    for (size_t i = 0; i < nm; i++)
      if (scan_str_same(w->members.v[i].type, sname)) {
        c_member_table m = w->members.v[i];
        m.type = name;
        SCAN_RESERVE(w->members);
        w->members.v[w->members.n++] = m;
      }
  }
}

static void add_table(cwalk *w, scan_str name, scan_str member, TSNode at, uint32_t line, uint32_t col,
                      int fnptr_array) {
  c_table t;
  memset(&t, 0, sizeof t);
  t.name = name;
  t.member = member;
  if (!ts_node_is_null(at)) {
    TSPoint p = ts_node_start_point(at);
    line = p.row + 1;
    col = p.column + 1;
  }
  t.line = line;
  t.col = col;
  t.fnptr_array = fnptr_array;
  SCAN_RESERVE(w->tables);
  w->tables.v[w->tables.n++] = t;
}

/* A file-scope variable of struct type: the callback arrays it holds are tables
 * (`static struct { cb callbacks[32]; } L;` fills L.callbacks[i]). */
static void struct_var_tables(cwalk *w, TSNode type, TSNode name) {
  scan_str var = str_of(w, name);
  if (kind(type) == C_STRUCT_SPECIFIER && !ts_node_is_null(field(type, F_BODY)) &&
      ts_node_is_null(field(type, F_NAME))) {
    size_t from = w->members.n;
    member_tables(w, field(type, F_BODY), (scan_str){"", 0});
    for (size_t i = from; i < w->members.n; i++) {
      const c_member_table *m = &w->members.v[i];
      if (m->ptr_array) w->ptr_arrays++;
      else add_table(w, var, m->member, (TSNode){0}, m->line, m->col, m->fnptr_array);
    }
    w->members.n = from;
    return;
  }
  scan_str tname = str_of(w, kind(type) == C_STRUCT_SPECIFIER ? field(type, F_NAME) : type);
  if (tname.n == 0) return;
  for (size_t i = 0; i < w->members.n; i++) {
    const c_member_table *m = &w->members.v[i];
    if (!scan_str_same(m->type, tname)) continue;
    if (m->ptr_array) w->ptr_arrays++;
    else add_table(w, var, m->member, name, 0, 0, m->fnptr_array);
  }
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
      if (!s.array && !s.ptr && !s.fnptr && kind(s.name) == C_IDENTIFIER) {
        struct_var_tables(w, type, s.name);
        continue;
      }
      if (!s.array || kind(s.name) != C_IDENTIFIER) continue;
      int fnptr_array = s.fnptr || (kind(type) == C_TYPE_IDENTIFIER && !s.ptr &&
                                    is_fnptr_type(w, str_of(w, type)));
      int struct_array = !s.fnptr && struct_of_type(w, type) != NULL;
      if (!fnptr_array && !struct_array) {
        if (s.ptr || is_ptr_type(w, type)) w->ptr_arrays++;
        continue;
      }
      add_table(w, str_of(w, s.name), (scan_str){"", 0}, s.name, 0, 0, fnptr_array);
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

static c_table *table_named(cwalk *w, scan_str name, scan_str member) {
  for (size_t i = 0; i < w->tables.n; i++)
    if (scan_str_same(w->tables.v[i].name, name) && scan_str_same(w->tables.v[i].member, member))
      return &w->tables.v[i];
  return NULL;
}

/* The table an lvalue `t[i]`, `t[i].f`, `t[i]->f` or `L.t[i]`, `L.t[i].f` writes into. */
static c_table *lvalue_table(cwalk *w, TSNode lhs) {
  lhs = unparen(lhs);
  if (kind(lhs) == C_FIELD_EXPRESSION) lhs = unparen(field(lhs, F_ARGUMENT));
  if (kind(lhs) != C_SUBSCRIPT_EXPRESSION) return NULL;
  TSNode arr = unparen(field(lhs, F_ARGUMENT));
  if (kind(arr) == C_IDENTIFIER) return table_named(w, str_of(w, arr), (scan_str){"", 0});
  if (kind(arr) != C_FIELD_EXPRESSION) return NULL;
  TSNode base = unparen(field(arr, F_ARGUMENT));
  if (kind(base) == C_POINTER_EXPRESSION) base = unparen(field(base, F_ARGUMENT)); /* (&L)->t */
  if (kind(base) != C_IDENTIFIER) return NULL;
  return table_named(w, str_of(w, base), str_of(w, field(arr, F_FIELD)));
}

static void on_assign(cwalk *w, TSNode n) {
  c_table *t = lvalue_table(w, field(n, F_LEFT));
  if (t == NULL) return;
  TSNode rhs = field(n, F_RIGHT);
  if (is_null_value(w, rhs) || lvalue_table(w, rhs) == t) {
    t->cleared = 1;
  } else {
    if (!t->filled) t->fill_func = func_name(w);
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

/* ---- GLib signal connections and main-loop sources. ---- */

typedef struct glib_call {
  const char *name;
  uint8_t kind;
  int8_t inst, cb, data; /* argument positions, -1 for none */
} glib_call;

static const glib_call glib_connects[] = {
    {"g_signal_connect", CONN_SIGNAL, 0, 2, 3},
    {"g_signal_connect_after", CONN_SIGNAL, 0, 2, 3},
    {"g_signal_connect_swapped", CONN_SIGNAL, 0, 2, 3},
    {"g_signal_connect_data", CONN_SIGNAL, 0, 2, 3},
    {"g_timeout_add", CONN_SOURCE, -1, 1, 2},
    {"g_timeout_add_seconds", CONN_SOURCE, -1, 1, 2},
    {"g_timeout_add_full", CONN_SOURCE, -1, 2, 3},
    {"g_timeout_add_seconds_full", CONN_SOURCE, -1, 2, 3},
    {"g_idle_add", CONN_SOURCE, -1, 0, 1},
    {"g_idle_add_full", CONN_SOURCE, -1, 1, 2},
    {"g_io_add_watch", CONN_SOURCE, -1, 2, 3},
    {"g_io_add_watch_full", CONN_SOURCE, -1, 3, 4},
};

static int is_macro_name(scan_str s) {
  int upper = 0;
  for (uint32_t i = 0; i < s.n; i++) {
    char c = s.s[i];
    if (c >= 'a' && c <= 'z') return 0;
    upper |= c >= 'A' && c <= 'Z';
  }
  return upper;
}

/* E without casts, parentheses, & and *, and one-argument cast macros
 * (G_OBJECT(x), GTK_WIDGET(x), G_CALLBACK(f)). */
static TSNode strip(cwalk *w, TSNode e) {
  for (int i = 0; i < 16; i++) {
    e = unparen(e);
    if (kind(e) == C_POINTER_EXPRESSION) {
      e = field(e, F_ARGUMENT);
      continue;
    }
    if (kind(e) == C_CALL_EXPRESSION && kind(field(e, F_FUNCTION)) == C_IDENTIFIER &&
        nchild(field(e, F_ARGUMENTS)) == 1 && is_macro_name(str_of(w, field(e, F_FUNCTION)))) {
      e = nth(field(e, F_ARGUMENTS), 0);
      continue;
    }
    break;
  }
  return e;
}

/* The last name of an expression: x, p->field, a[i] (a), f(...) (f); "" for NULL. */
static scan_str last_name(cwalk *w, TSNode e) {
  for (int i = 0; i < 16; i++) {
    e = strip(w, e);
    switch (kind(e)) {
      case C_IDENTIFIER: {
        scan_str s = str_of(w, e);
        return scan_str_eq(s, "NULL") ? (scan_str){"", 0} : s;
      }
      case C_FIELD_EXPRESSION: return str_of(w, field(e, F_FIELD));
      case C_SUBSCRIPT_EXPRESSION: e = field(e, F_ARGUMENT); continue;
      case C_CALL_EXPRESSION: e = field(e, F_FUNCTION); continue;
      default: return (scan_str){"", 0};
    }
  }
  return (scan_str){"", 0};
}

static uint64_t key_of(cwalk *w, TSNode e) {
  scan_str s = last_name(w, e);
  if (s.n == 0) return 0;
  uint64_t h = 0xcbf29ce484222325ull;
  for (uint32_t i = 0; i < s.n; i++) h = (h ^ (unsigned char)s.s[i]) * 0x100000001b3ull;
  return h | 1; /* never 0 */
}

/* What keeps the handler or source id a call returns: `id = f(...)`,
 * `self->id = f(...)`, `gulong id = f(...)`; 0 when it is dropped. */
static uint64_t id_key(cwalk *w, TSNode call) {
  TSNode p = ts_node_parent(call);
  for (int i = 0; i < 4 && (kind(p) == C_PARENTHESIZED_EXPRESSION || kind(p) == C_CAST_EXPRESSION); i++)
    p = ts_node_parent(p);
  if (kind(p) == C_ASSIGNMENT_EXPRESSION) return key_of(w, field(p, F_LEFT));
  if (kind(p) == C_INIT_DECLARATOR) return key_of(w, declarator_shape(field(p, F_DECLARATOR)).name);
  return 0;
}

static TSNode arg(TSNode args, int i) { return i < 0 ? (TSNode){0} : nth(args, (uint32_t)i); }

static void add_disc(cwalk *w, int kind_, uint64_t id, uint64_t inst, uint64_t data, scan_str cb) {
  SCAN_RESERVE(w->c->discs);
  w->c->discs.v[w->c->discs.n++] = (c_disc){(uint8_t)kind_, id, inst, data, cb};
}

/* Returns 1 when NAME is a GLib connect, source or disconnect call (recorded). */
static int on_glib_call(cwalk *w, TSNode n, scan_str name, TSNode args) {
  uint32_t na = nchild(args);
  for (size_t i = 0; i < sizeof glib_connects / sizeof glib_connects[0]; i++) {
    const glib_call *g = &glib_connects[i];
    if (!scan_str_eq(name, g->name)) continue;
    if ((uint32_t)g->cb >= na) return 1;
    c_conn c;
    memset(&c, 0, sizeof c);
    TSPoint p = ts_node_start_point(n);
    c.line = p.row + 1;
    c.col = p.column + 1;
    c.kind = g->kind;
    c.fn = name;
    c.func = func_name(w);
    c.cb = last_name(w, arg(args, g->cb));
    c.id = id_key(w, n);
    c.inst = g->inst >= 0 ? key_of(w, arg(args, g->inst)) : 0;
    c.data = (uint32_t)g->data < na ? key_of(w, arg(args, g->data)) : 0;
    if (g->kind == CONN_SIGNAL && na > 1 && kind(nth(args, 1)) == C_STRING_LITERAL) c.signal = str_of(w, nth(args, 1));
    SCAN_RESERVE(w->c->conns);
    w->c->conns.v[w->c->conns.n++] = c;
    return 1;
  }
  scan_str none = {"", 0};
  if (scan_str_eq(name, "g_signal_handler_disconnect") && na >= 2)
    add_disc(w, DISC_BY_ID, key_of(w, nth(args, 1)), key_of(w, nth(args, 0)), 0, none);
  else if (scan_str_eq(name, "g_clear_signal_handler") && na >= 1)
    add_disc(w, DISC_BY_ID, key_of(w, nth(args, 0)), na > 1 ? key_of(w, nth(args, 1)) : 0, 0, none);
  else if (scan_str_eq(name, "g_signal_handlers_disconnect_by_func") && na >= 2)
    add_disc(w, DISC_BY_FUNC, 0, key_of(w, nth(args, 0)), na > 2 ? key_of(w, nth(args, 2)) : 0,
             last_name(w, nth(args, 1)));
  else if (scan_str_eq(name, "g_signal_handlers_disconnect_by_data") && na >= 2)
    add_disc(w, DISC_BY_DATA, 0, key_of(w, nth(args, 0)), key_of(w, nth(args, 1)), none);
  else if (scan_str_eq(name, "g_signal_handlers_disconnect_matched") && na >= 7) {
    scan_str cb = last_name(w, nth(args, 5));
    if (cb.n) add_disc(w, DISC_BY_FUNC, 0, key_of(w, nth(args, 0)), key_of(w, nth(args, 6)), cb);
    else add_disc(w, DISC_BY_DATA, 0, key_of(w, nth(args, 0)), key_of(w, nth(args, 6)), none);
  } else if (scan_str_eq(name, "g_signal_handlers_destroy") && na >= 1)
    add_disc(w, DISC_ALL, 0, key_of(w, nth(args, 0)), 0, none);
  else if (scan_str_eq(name, "g_source_remove") && na >= 1)
    add_disc(w, DISC_SOURCE_ID, key_of(w, nth(args, 0)), 0, 0, none);
  else if (scan_str_eq(name, "g_clear_handle_id") && na >= 2 && scan_str_eq(last_name(w, nth(args, 1)), "g_source_remove"))
    add_disc(w, DISC_SOURCE_ID, key_of(w, nth(args, 0)), 0, 0, none);
  else if (scan_str_eq(name, "g_source_remove_by_user_data") && na >= 1)
    add_disc(w, DISC_SOURCE_DATA, 0, 0, key_of(w, nth(args, 0)), none);
  else if (scan_str_eq(name, "g_source_remove_by_funcs_user_data") && na >= 2)
    add_disc(w, DISC_SOURCE_DATA, 0, 0, key_of(w, nth(args, 1)), none);
  else
    return 0;
  return 1;
}

/* A return in a function: anything but TRUE / G_SOURCE_CONTINUE / 1 may end a source. */
static void on_return(cwalk *w, TSNode n) {
  if (w->func < 0 || nchild(n) == 0) return;
  TSNode v = unparen(nth(n, 0));
  scan_str s = str_of(w, v);
  if (kind(v) == C_TRUE || scan_str_eq(s, "TRUE") || scan_str_eq(s, "G_SOURCE_CONTINUE") || scan_str_eq(s, "1") ||
      scan_str_eq(s, "true"))
    return;
  w->c->funcs.v[w->func].removes = 1;
}

static void on_function_definition(cwalk *w, TSNode n) {
  w->func_end = ts_node_end_byte(n);
  shape s = declarator_shape(field(n, F_DECLARATOR));
  SCAN_RESERVE(w->c->funcs);
  w->c->funcs.v[w->c->funcs.n++] = (c_cbfunc){str_of(w, s.name), 0};
  w->func = (long)w->c->funcs.n - 1;
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
  if (name.n > 2 && name.s[0] == 'g' && name.s[1] == '_' && on_glib_call(w, n, name, args)) return;
  if ((scan_str_eq(name, "tether_register") && nargs == 7) ||
      (scan_str_eq(name, "tether_register_at") && nargs == 8)) {
    if (registers_forever(w, args, nargs)) {
      SCAN_RESERVE(w->tc201);
      w->tc201.v[w->tc201.n++] = (struct tc201){n, func_name(w)};
    }
  }
  for (size_t p = 0; p < w->o->npairs; p++) {
    if (!pattern_matches(w->o->pairs[p].reg, name)) continue;
    c_call call = {ts_node_start_point(n).row + 1, ts_node_start_point(n).column + 1, p, name, func_name(w)};
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

static void visit(cwalk *w, TSNode n, int depth) {
  int k = kind(n);
  if (w->func_end && ts_node_start_byte(n) >= w->func_end) {
    w->func_end = 0;
    w->func = -1;
  }
  switch (k) {
    case C_COMMENT: scan_note_comment(w->f, n); break;
    case C_STRUCT_SPECIFIER: on_struct(w, n); break;
    case C_TYPE_DEFINITION: on_typedef(w, n); break;
    case C_DECLARATION:
      if (depth == 1) on_global_decl(w, n);
      break;
    case C_FUNCTION_DEFINITION: on_function_definition(w, n); break;
    case C_RETURN_STATEMENT: on_return(w, n); break;
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
             "file-scope callback table '%.*s%s%.*s' is filled at run time and no code clears an "
             "entry: callbacks and their contexts are never released",
             (int)t->name.n, t->name.s, t->member.n ? "." : "", (int)t->member.n, t->member.s);
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
  w.func = -1;
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
  free(w.ptr_types.v);
  free(w.tables.v);
  free(w.members.v);
  free(w.tc201.v);
}

/* ---- TC202 over all C files. ---- */

typedef struct cfiles {
  scan_file **v;
  size_t n;
} cfiles;

static int disc_matches(const c_disc *d, const c_conn *c) {
  switch (d->kind) {
    case DISC_BY_ID: return c->kind == CONN_SIGNAL && c->id && d->id == c->id;
    case DISC_BY_FUNC:
      return c->kind == CONN_SIGNAL && d->inst == c->inst && scan_str_same(d->cb, c->cb) &&
             (d->data == 0 || c->data == 0 || d->data == c->data);
    case DISC_BY_DATA: return c->kind == CONN_SIGNAL && c->data && d->inst == c->inst && d->data == c->data;
    case DISC_ALL: return c->kind == CONN_SIGNAL && d->inst == c->inst;
    case DISC_SOURCE_ID: return c->kind == CONN_SOURCE && c->id && d->id == c->id;
    case DISC_SOURCE_DATA: return c->kind == CONN_SOURCE && c->data && d->data == c->data;
    default: return 0;
  }
}

/* For a source's callback: 1 it can end the source, 0 it never does, -1 it is
 * not defined in the scanned files. */
static int callback_removes(const cfiles *cf, scan_str cb) {
  int found = -1;
  for (size_t i = 0; i < cf->n; i++) {
    const scan_c_facts *c = cf->v[i]->c;
    for (size_t k = 0; c && k < c->funcs.n; k++)
      if (scan_str_same(c->funcs.v[k].name, cb)) {
        if (c->funcs.v[k].removes) return 1;
        found = 0;
      }
  }
  return found;
}

static void check_conn(const cfiles *cf, scan_file *f, const c_conn *c, const scan_options *o) {
  for (size_t i = 0; i < cf->n; i++) {
    const scan_c_facts *d = cf->v[i]->c;
    for (size_t k = 0; d && k < d->discs.n; k++)
      if (disc_matches(&d->discs.v[k], c)) return;
  }
  if (!scan_rule_enabled(o, SCAN_TC202) || scan_suppressed(f, c->line, SCAN_TC202)) return;
  if (c->kind == CONN_SIGNAL) {
    scan_add(&f->findings, f, c->line, c->col, SCAN_TC202, SCAN_WARNING,
             "keep the handler id (gulong id = g_signal_connect(...)) and g_signal_handler_disconnect "
             "it (or g_clear_signal_handler) when the receiver goes away, or use g_signal_connect_object",
             "%.*s(%.*s%s'%.*s') is never disconnected: no g_signal_handler_disconnect of its handler "
             "id and no g_signal_handlers_disconnect_by_func/_by_data for its instance",
             (int)c->fn.n, c->fn.s, (int)c->signal.n, c->signal.s, c->signal.n ? ", " : "", (int)c->cb.n,
             c->cb.s);
    scan_add_facts(&f->findings)->func = c->func;
    return;
  }
  int removes = callback_removes(cf, c->cb);
  if (removes != 0) return; /* the callback can end it, or is not in the scanned files */
  scan_add(&f->findings, f, c->line, c->col, SCAN_TC202, SCAN_WARNING,
           "keep the source id and g_source_remove it (g_clear_handle_id) on teardown, or return "
           "G_SOURCE_REMOVE from the callback when it is done",
           "%.*s source calling '%.*s' is never removed: no g_source_remove of its id, and '%.*s' never "
           "returns G_SOURCE_REMOVE (FALSE)",
           (int)c->fn.n, c->fn.s, (int)c->cb.n, c->cb.s, (int)c->cb.n, c->cb.s);
  scan_add_facts(&f->findings)->func = c->func;
}

/* TC202: a register call whose unregister function no scanned C file names, and
 * GLib connections and sources that nothing removes. */
void scan_c_rules(scan_file **files, size_t n, const scan_options *o) {
  unsigned char *seen = calloc(o->npairs ? o->npairs : 1, 1);
  if (seen == NULL) return;
  for (size_t i = 0; i < n; i++)
    for (size_t p = 0; files[i]->c && p < o->npairs && p < files[i]->c->npairs; p++)
      seen[p] |= files[i]->c->unreg_seen[p];
  cfiles cf = {files, n};
  for (size_t i = 0; i < n; i++) {
    scan_file *f = files[i];
    if (f->c == NULL) continue;
    for (size_t k = 0; k < f->c->conns.n; k++) check_conn(&cf, f, &f->c->conns.v[k], o);
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
