/* Internals of `tether scan`, shared by its modules: the finding and option
 * types, the per-file record that the parallel parse phase fills, and the entry
 * points of the Go and C analyses and the output writers. Every name is scan_-
 * prefixed. A file's facts point into its source buffer, which stays alive until
 * the scan ends, so the rules can run after the syntax trees are gone. */
#ifndef TETHER_SCAN_H
#define TETHER_SCAN_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <tree_sitter/api.h>

typedef enum { SCAN_NOTE = 0, SCAN_WARNING = 1, SCAN_ERROR = 2 } scan_severity;

/* Rule identifiers, in the order of the rule table (scan_rules). */
typedef enum {
  SCAN_TG101, SCAN_TG102, SCAN_TG103, SCAN_TG104, SCAN_TG105,
  SCAN_TC201, SCAN_TC202, SCAN_TC203,
  SCAN_TS001, SCAN_TS002,
  SCAN_RULE_COUNT
} scan_rule;

typedef struct scan_rule_info {
  const char *id;
  scan_severity severity; /* the default; TG104 may lower it to a note */
  const char *summary;
} scan_rule_info;

extern const scan_rule_info scan_rules[SCAN_RULE_COUNT];

/* A slice of a source buffer (not NUL-terminated). */
typedef struct scan_str {
  const char *s;
  uint32_t n;
} scan_str;

/* What a finding names, in structured form, for commands that join findings
 * to other evidence (tether watch links heap growth to them). Slices point into
 * the scanned files' buffers; empty slices and NULL files mean not known. */
#define SCAN_MAX_CAPTURES 8
typedef struct scan_facts {
  scan_str func;          /* TG103: the Register-like function; TG104: the function the literal is in;
                             TC201/TC202: the function making the call; TC203: the one filling the table */
  scan_str recv;          /* ... the receiver type, when it is a Go method */
  scan_str map, owner;    /* TG101-TG104: the func map, and its struct when it is a field */
  const char *map_file;   /* the file declaring the map */
  uint32_t map_line;
  int map_shrinks;        /* something in the package deletes from the map, clears or resets it */
  scan_str via;           /* TG104: the call the literal is passed to, when it is (Subscribe) */
  uint32_t end_line;      /* TG104: the literal's last line */
  size_t ncaptures;       /* TG104: the variables it captures */
  scan_str capture[SCAN_MAX_CAPTURES];
  uint32_t capture_line[SCAN_MAX_CAPTURES]; /* where each was declared (0: not known) */
  unsigned capture_ref;   /* bit i: capture i holds references */
} scan_facts;

typedef struct scan_finding {
  const char *file; /* the scan_file's path, not owned */
  uint32_t line, col; /* 1-based; col counts bytes */
  scan_rule rule;
  scan_severity severity;
  char *message; /* owned */
  char *hint;    /* owned */
  scan_str source; /* the source line, without its newline */
  scan_facts *facts; /* owned; NULL for rules that name nothing to link */
} scan_finding;

typedef struct scan_findings {
  scan_finding *v;
  size_t n, cap;
} scan_findings;

/* A register/unregister pair for TC202; a name may end in '*' (prefix match). */
typedef struct scan_pair {
  const char *reg, *unreg;
} scan_pair;

typedef struct scan_options {
  uint32_t enabled; /* bit per scan_rule */
  int include_tests;
  int parse_only;
  unsigned jobs; /* parse threads for scan_run; 0: one per online core */
  scan_pair *pairs;
  size_t npairs;
  const char **register_names; /* TG103 patterns ('*' wildcard, case-sensitive) */
  size_t nregister_names;
  /* Used by scan_run (zero: the default). */
  size_t max_bytes;     /* larger files are skipped with a TS002 note (0: 16 MiB) */
  int no_follow;        /* 1: do not read the module packages that scanned Go code imports */
  /* Called now and then from one worker thread while files are parsed. */
  void (*progress)(size_t done, size_t total, void *arg);
  void *progress_arg;
} scan_options;

typedef enum { SCAN_LANG_GO, SCAN_LANG_C } scan_lang;

struct scan_go_facts;
struct scan_c_facts;

/* One input file. The parse phase sets everything but the path and language. */
typedef struct scan_file {
  char *path;
  scan_lang lang;
  int is_test;
  unsigned char *data; /* NUL-terminated source, owned */
  size_t len;
  uint64_t lines;
  int failed;       /* 1: could not be read (an error was printed) */
  scan_findings findings; /* notes about this file, then its rule findings */
  struct scan_go_facts *go;
  struct scan_c_facts *c;
  scan_str pkg; /* Go: the package name */
  struct scan_ignore *ignores; /* //tether:ignore comments, in line order */
  size_t nignores, capignores;
  char *import_path; /* Go: the package's import path (from go.mod), NULL when not known; owned */
  int context_only;  /* read for its facts only (an imported package): no findings are kept */
  int build_ignored; /* Go: a `//go:build ignore` file, skipped (no facts, no findings) */
} scan_file;

typedef struct scan_ignore {
  uint32_t line;
  scan_str rule; /* a rule id or "all" */
} scan_ignore;

/* Records a //tether:ignore comment if the comment node N is one. */
void scan_note_comment(scan_file *f, TSNode n);

/* Grows V (CAP elements of SIZE bytes) so that index N fits; exits when out of
 * memory, which is the scan's only answer to that. */
void *scan_grow(void *v, size_t *cap, size_t n, size_t size);
/* Reserves room for one more element of a {v, n, cap} vector. */
#define SCAN_RESERVE(vec) ((vec).v = scan_grow((vec).v, &(vec).cap, (vec).n + 1, sizeof *(vec).v))

/* Findings: append one (message and hint are formatted copies). LINE is 1-based
 * and COL 1-based; the source line is looked up in FILE's buffer. */
void scan_add(scan_findings *out, const scan_file *file, uint32_t line, uint32_t col,
              scan_rule rule, scan_severity sev, const char *hint, const char *fmt, ...)
    __attribute__((format(printf, 8, 9)));
void scan_findings_free(scan_findings *f);
/* Gives the last finding of OUT a zeroed facts record and returns it (exits
 * when out of memory, as scan_add does). */
scan_facts *scan_add_facts(scan_findings *out);
int scan_rule_enabled(const scan_options *o, scan_rule rule);
int scan_rule_by_id(const char *id);

/* 1 when the file has a `//tether:ignore RULE` (or `ignore all`) comment on LINE
 * or the line above. */
int scan_suppressed(const scan_file *file, uint32_t line, scan_rule rule);

/* Languages and node lookup tables (built once, thread-safe). */
const TSLanguage *scan_lang_go(void);
const TSLanguage *scan_lang_c(void);
/* Checks the grammars' ABI against the runtime; returns 0 or prints and returns -1. */
int scan_languages_check(void);

/* A grammar's lookup tables: node kind by symbol (the language's own enum, 0 for
 * any kind not listed) and field ids by the language's field enum. */
typedef struct scan_grammar {
  uint8_t *sym_kind;
  uint32_t sym_count;
  TSFieldId *field_id;
} scan_grammar;

/* Fills G for LANG: KIND_NAMES[k] (k >= 1) names kind k, FIELD_NAMES[f] field f.
 * FIELD_IDS has room for NFIELDS. Called once per grammar (pthread_once). */
void scan_grammar_init(scan_grammar *g, const TSLanguage *lang, const char *const *kind_names,
                       int nkinds, const char *const *field_names, int nfields,
                       TSFieldId *field_ids);
/* The kind of N in G (0 for a null node or an unlisted kind). */
int scan_grammar_kind(const scan_grammar *g, TSNode n);

/* Null-safe accessors: the 0.20 runtime crashes on some calls with a null node. */
uint32_t scan_nchild(TSNode n);
TSNode scan_nth(TSNode n, uint32_t i);
TSNode scan_field(const scan_grammar *g, TSNode n, int f);

int scan_str_eq(scan_str a, const char *lit);
int scan_str_same(scan_str a, scan_str b);
scan_str scan_node_str(const scan_file *f, TSNode n);

/* Go: extract the facts of one parsed file (parse phase, any thread). */
void scan_go_extract(scan_file *f, TSTree *tree);
/* Go: run the rules over one package (files[0..n) share a directory and package
 * name); findings go to each file's list. */
void scan_go_package(scan_file **files, size_t n, const scan_options *o);
void scan_go_facts_free(struct scan_go_facts *g);
/* Go: run the rules over every package of FILES at once (any mix of packages and
 * modules; files are grouped by directory and package clause). Type facts, calls
 * and removals are resolved across packages by import path (scan_file.import_path,
 * or the directory's trailing path elements when that is not known). Findings go
 * to each file's list, none to context_only files. scan_go_package is this with
 * one package. */
void scan_go_module(scan_file **files, size_t n, const scan_options *o);
/* Go: the number of imports a file's facts hold; scan_go_import_at gives the
 * import path of the Kth (without quotes, pointing into the file's buffer). */
size_t scan_go_import_count(const struct scan_go_facts *g);
int scan_go_import_at(const struct scan_go_facts *g, size_t k, scan_str *path);

/* C: extract the facts of one parsed file; then run the rules over all C files. */
void scan_c_extract(scan_file *f, TSTree *tree, const scan_options *o);
void scan_c_rules(scan_file **files, size_t n, const scan_options *o);
void scan_c_facts_free(struct scan_c_facts *c);

/* Output of the sorted findings. */
typedef enum { SCAN_FMT_TEXT, SCAN_FMT_JSON, SCAN_FMT_SARIF, SCAN_FMT_GITHUB } scan_format;
typedef struct scan_summary {
  size_t files, skipped;
  size_t count[3]; /* per severity */
  size_t baselined; /* findings left out because a baseline holds them */
  int with_baseline; /* 1: a baseline was applied (the JSON summary says how many it held) */
} scan_summary;
void scan_write(FILE *out, scan_format fmt, scan_finding *const *v, size_t n,
                const scan_summary *sum, int color);

/* Library entry used by the CLI and the fuzz target: scans one in-memory buffer
 * as LANG, returning its findings in FILE (which the caller frees with
 * scan_file_free). DATA must be NUL-terminated; ownership passes to FILE. */
void scan_buffer(scan_file *file, const scan_options *o);
void scan_file_free(scan_file *file);
void scan_options_default(scan_options *o);

/* ---- Whole scans: what a front-end calls (scan_engine.c). ---- */

/* The outcome of scan_run. FILES holds every file read (context-only ones
 * included); FINDINGS points into their lists, sorted by file, line, column and
 * rule, so the order does not depend on the number of threads. ERRORS has one
 * line per input that could not be read ("PATH: reason"); INPUT_ERROR is 1 when
 * there is any. Everything is owned by the result. */
typedef struct scan_result {
  scan_file *files;
  size_t nfiles;
  scan_finding **findings;
  size_t nfindings;
  scan_summary summary;
  char **errors;
  size_t nerrors;
  int input_error;
} scan_result;

/* Scans PATHS (files, directories searched recursively, Go's `dir/...`) with O:
 * reads and parses on O->jobs threads (0: one per core), finds each Go file's
 * module (go.mod) and import path, reads the module packages the scanned code
 * imports for their facts (unless O->no_follow), runs the Go rules across all
 * packages and the C rules across all C files. Findings carry their facts
 * (scan_facts) for commands that link them to other evidence. Returns 0, or -1 when PATHS is empty or memory runs out.
 * Thread-safe for distinct results; prints nothing. Free R with scan_result_free. */
int scan_run(const char *const *paths, size_t npaths, const scan_options *o, scan_result *r);
void scan_result_free(scan_result *r);

/* A finding's fingerprint: a hash of its rule, its file (without leading "./")
 * and its source line with all white space removed, so it survives moved lines
 * and re-indentation. scan_occurrences numbers findings that share rule and
 * fingerprint (1, 2, ... in the order of V, which must be sorted); the pair is
 * what SARIF's partialFingerprints and baselines carry, as "HEX16:N". */
uint64_t scan_fingerprint(const scan_finding *f);
void scan_occurrences(scan_finding *const *v, size_t n, uint32_t *occ);
void scan_fingerprint_text(const scan_finding *f, uint32_t occurrence, char out[40]);

/* ---- Baselines (scan_baseline.c): findings accepted earlier. ---- */

typedef struct scan_baseline scan_baseline;
/* Reads a baseline written by scan_baseline_write. Returns NULL with a one-line
 * reason in ERR (ERRLEN bytes) when the file cannot be read or is not one. */
scan_baseline *scan_baseline_read(const char *path, char *err, size_t errlen);
/* Removes from V (N findings, sorted) those the baseline holds, matched by rule
 * and fingerprint, each baseline entry absorbing one finding; returns the new N. */
size_t scan_baseline_filter(scan_baseline *b, scan_finding **v, size_t n);
void scan_baseline_free(scan_baseline *b);
/* Writes V as a baseline to PATH; 0, or -1 with errno set. */
int scan_baseline_write(const char *path, scan_finding *const *v, size_t n);

#endif
