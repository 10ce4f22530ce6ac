/* The Go analysis's facts, shared by its three parts: extraction (scan_go.c,
 * one walk per file, any thread), the type facts of a module (scan_go_types.c:
 * an index of every package's declarations and the queries the rules ask of it)
 * and the rules (scan_go_rules.c). Facts are plain records in per-file vectors;
 * strings point into the file's buffer and records refer to each other by index
 * into the same file's vectors (0 is "none" for type and expression indices). */
#ifndef TETHER_SCAN_GO_H
#define TETHER_SCAN_GO_H

#include "scan.h"

#define GO_VEC(T)  \
  struct {         \
    T *v;          \
    size_t n, cap; \
  }

/* What a value can hold, as far as the facts tell. */
typedef enum {
  K_UNKNOWN,
  K_SCALAR,
  K_PTR,
  K_SLICE,
  K_MAP,
  K_CHAN,
  K_FUNC,
  K_IFACE,
  K_NAMED,
  K_STRUCT,
  K_ARRAY,
  K_CONST,
  K_TPARAM
} vkind;

/* A type expression as written. */
typedef enum {
  T_NONE,
  T_NAME,
  T_QUAL,
  T_INST,
  T_PTR,
  T_SLICE,
  T_ARRAY,
  T_MAP,
  T_CHAN,
  T_FUNC,
  T_IFACE,
  T_STRUCT
} go_tkind;

typedef struct go_tx {
  uint8_t kind;
  uint32_t a, b;      /* PTR, SLICE, ARRAY, CHAN: a = element; MAP: a = key, b = value;
                         STRUCT: fields [a, a+b); INST: arguments txlist [a, a+b) */
  scan_str name, pkg; /* NAME, QUAL and INST: the type's name and its package qualifier */
} go_tx;

typedef struct go_field {
  scan_str name; /* the type's name for an embedded field */
  uint32_t tx;
  uint8_t embedded;
} go_field;

typedef struct go_type { /* type T[P] ... or type T = ... at package level */
  scan_str name;
  uint32_t tx;
  uint32_t tp_first, tp_count; /* type parameter names, in names */
  uint8_t alias;
} go_type;

typedef struct go_param {
  scan_str name; /* "" for an unnamed parameter */
  uint32_t tx;
} go_param;

typedef struct go_func { /* a function or method declaration */
  scan_str name, recv;   /* recv: the receiver's base type name; "" for a function */
  uint32_t line, col;
  uint32_t param_first, param_count;   /* into params */
  uint32_t result_first, result_count; /* into txlist */
  uint32_t tp_first, tp_count;         /* the receiver's type parameter names, in names */
} go_func;

typedef struct go_import {
  scan_str name, path; /* name: the alias, "" for the package's own name */
} go_import;

typedef struct go_var { /* a package-level variable, or a struct field that may be a map */
  scan_str name, owner, type_text; /* owner: the struct ("T", "T.events.insertion") */
  scan_str chain; /* a field: its selector path inside the type ("events.insertion.fns") */
  uint32_t line, col;
  uint32_t tx; /* the declared type, 0 when none */
  uint32_t x;  /* a package-level variable's initialiser, 0 when none */
  uint8_t is_field;
  int8_t fm; /* the rules' answer, cached: -1 not asked, 0 no, 1 a func map */
} go_var;

/* The type of an expression, as far as the walk can write it down; the rules
 * resolve it against the module's declarations. */
typedef enum {
  X_NONE,
  X_TYPE,
  X_SCALAR,
  X_FUNCLIT,
  X_IDENT,
  X_CALL,
  X_MCALL,
  X_FIELD,
  X_INDEX,
  X_ADDR,
  X_DEREF,
  X_RANGEK,
  X_RANGEV,
  X_RECV,
  X_PARAM
} go_xkind;

typedef struct go_x {
  uint8_t kind, idx;   /* idx: which result of a call, for x, err := f() */
  uint32_t a;          /* TYPE, PARAM: a type; the others: the operand's expression */
  scan_str name, qual; /* IDENT, CALL: a package-level name and its package qualifier;
                          MCALL, FIELD: the method or field */
} go_x;

typedef enum { W_ASSIGN, W_APPEND, W_STORE } wkind;

typedef struct go_write { /* m[k] = v, m[k] = append(m[k], v), m.Store(k, v) */
  scan_str target, qual;  /* qual: the package of pkg.Var, "" for this package */
  scan_str chain;         /* a field: the selector path written (x.events.insertion.fns) */
  uint8_t is_field, kind, rhs_nil, checked;
  uint32_t line, col, lhs_byte;
  int32_t func;      /* index into funcs, -1 at package level */
  int32_t rhs_param; /* -1, or the index of the enclosing function's parameter stored */
  uint32_t rhs_x;    /* the stored value's expression type, 0 when unknown */
  scan_str rhs_name; /* an identifier stored (maybe a package-level function) */
} go_write;

typedef enum { R_DELETE, R_CLEAR, R_REASSIGN, R_SHRINK, R_NILOUT } rkind;

typedef struct go_removal {
  scan_str target, qual, chain;
  uint8_t is_field, kind;
  int32_t func; /* -1 at package level */
} go_removal;

typedef enum { ROLE_NONE, ROLE_STORE, ROLE_ARG, ROLE_RETURN } lrole;

/* A func literal stored into a map, passed to a call or returned from its
 * function; or (is_call) a call whose result is stored or passed the same way. */
typedef struct go_lit {
  uint32_t line, col, end_line;
  uint8_t role, is_field, is_call;
  scan_str target, qual;        /* STORE: the map; ARG: the callee and its package */
  scan_str chain;               /* STORE: the field's selector path */
  uint32_t recv_x;              /* ARG: the callee's receiver, for a method call */
  int32_t argi;                 /* ARG: the argument's position */
  int32_t func;                 /* the enclosing function, -1 at package level */
  int32_t param;                /* is_call: an enclosing function's parameter passed to it, or -1 */
  scan_str callee, callee_qual; /* is_call: the helper called */
  uint32_t callee_recv;
  uint32_t cap_first, cap_count; /* literals: the captures */
} go_lit;

typedef struct go_capture {
  scan_str name;
  uint32_t x;         /* its expression type */
  uint32_t decl_line; /* where the enclosing function declares it */
} go_capture;

/* A parameter passed on: func F(h) { G(h) }; or (param GO_FWD_NIL) a nil passed
 * to a function that may store it: Set(t, nil) clears what Set(t, f) stored. */
#define GO_FWD_NIL (-2)
typedef struct go_fwd {
  int32_t func, param, argi;
  scan_str callee, qual;
  uint32_t recv_x;
} go_fwd;

typedef struct scan_go_facts {
  GO_VEC(go_tx) txs;
  GO_VEC(uint32_t) txlist;
  GO_VEC(go_field) fields;
  GO_VEC(scan_str) names;
  GO_VEC(go_type) types;
  GO_VEC(go_func) funcs;
  GO_VEC(go_param) params;
  GO_VEC(go_import) imports;
  GO_VEC(go_var) vars;
  GO_VEC(go_x) xs;
  GO_VEC(go_write) writes;
  GO_VEC(go_removal) removals;
  GO_VEC(go_lit) lits;
  GO_VEC(go_capture) caps;
  GO_VEC(go_fwd) fwds;
  GO_VEC(char *) owned; /* strings made here (inline struct owners), freed with the facts */
  uint32_t pkg, file;   /* set by the rules: the package and the file's place in it */
} scan_go_facts;

/* ---- The module index and its queries (scan_go_types.c). ---- */

typedef struct go_ref { /* a record of one file of one package */
  uint32_t pkg, file, idx;
} go_ref;

typedef struct go_pkg {
  scan_file **files;
  size_t n;
  scan_str name;
  const char *import_path; /* NULL when not known */
  const char *dir;         /* the first file's directory (not NUL-terminated: dir_len) */
  size_t dir_len;
} go_pkg;

typedef struct go_entry {
  uint64_t h;
  go_ref r;
} go_entry;

typedef struct go_env { /* type arguments for a generic declaration's parameters */
  uint32_t decl_pkg, decl_file, tp_first, tp_count; /* the parameter names */
  uint32_t arg_pkg, arg_file, arg_first, arg_count; /* the arguments, a txlist range */
  uint32_t up;
} go_env;

typedef struct go_envs {
  go_env *v;
  size_t n, cap;
} go_envs;

typedef struct go_module {
  scan_file **sorted; /* the Go files, in package order (pkgs point into it) */
  go_pkg *pkgs;
  size_t npkgs;
  GO_VEC(go_entry) index;    /* sorted by hash: types, funcs, methods, vars, import paths */
  struct go_envs *envs;      /* grows while queries run: index + 1 is an env id; 0 is none */
  struct go_refs_memo *refs; /* go_holds_refs' answers for struct types, by location */
  const scan_options *o;
} go_module;

/* A resolved type. */
typedef struct gtype {
  vkind kind;
  uint32_t pkg, file, tx; /* the type expression, in that file (tx 0: none) */
  uint32_t env;
  scan_str name;                    /* the (outermost) named type's name, "" for a literal type */
  scan_str path;                    /* a type outside the scanned code: its package's import path */
  go_ref decl;                      /* the named type's declaration, when has_decl */
  uint32_t addr_x;                  /* a pointer made by &x: x's expression, in the same file */
  uint8_t has_decl, sync_map, refs; /* refs: a table type known to hold references */
} gtype;

int go_module_build(go_module *m, scan_file **files, size_t n, const scan_options *o);
void go_module_free(go_module *m);

const scan_go_facts *go_facts(const go_module *m, uint32_t pkg, uint32_t file);
/* The package of import name QUAL in file (PKG, FILE), or -1. */
long go_import_pkg(const go_module *m, uint32_t pkg, uint32_t file, scan_str qual, scan_str *path);
int go_find(const go_module *m, int tag, uint32_t pkg, scan_str name, scan_str recv, go_ref *out,
            size_t skip);
enum { GO_TAG_TYPE = 1, GO_TAG_FUNC, GO_TAG_METHOD, GO_TAG_VAR, GO_TAG_FIELD };

int go_type_of(const go_module *m, uint32_t pkg, uint32_t file, uint32_t tx, uint32_t env,
               gtype *out);
int go_expr_type(const go_module *m, uint32_t pkg, uint32_t file, uint32_t x, gtype *out);
int go_elem(const go_module *m, const gtype *t, gtype *out); /* ptr, slice, array, chan */
int go_map_value(const go_module *m, const gtype *t, gtype *out);
/* 1 when T holds references, 0 when it does not, -1 when that is not known. */
int go_holds_refs(const go_module *m, const gtype *t);
/* Whether a map's value type holds funcs: func, []func, *func, map[K]func ... */
int go_value_is_func(const go_module *m, const gtype *value);
const char *go_kind_name(vkind k);
/* The name an import is known by in its file: its alias, or the path's last
 * element (skipping a major-version element such as v2, and a .vN suffix). */
scan_str go_import_name(const go_import *im);

/* Callee resolution: the functions a call of NAME (QUAL, receiver RECV_X in the
 * calling file) can reach; returns how many were written to OUT. */
size_t go_callees(const go_module *m, uint32_t pkg, uint32_t file, scan_str name, scan_str qual,
                  uint32_t recv_x, go_ref *out, size_t max);

#endif
