/* The parts of `tether scan` every module shares: the rule table, the finding
 * list, //tether:ignore suppression, the two grammars, and the scan of a single
 * in-memory buffer (used by the CLI's workers and by the fuzz target). Nothing
 * here keeps global state except the grammars, which are immutable. */
#include "scan.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

const TSLanguage *tree_sitter_go(void);
const TSLanguage *tree_sitter_c(void);

const scan_rule_info scan_rules[SCAN_RULE_COUNT] = {
    {"TG101", SCAN_WARNING, "package-level map of funcs"},
    {"TG102", SCAN_ERROR, "func map written but never shrinks"},
    {"TG103", SCAN_WARNING, "Register-like function with no matching removal"},
    {"TG104", SCAN_ERROR, "func literal stored in a func map captures local variables"},
    {"TG105", SCAN_NOTE, "func map entry overwritten without a presence check"},
    {"TC201", SCAN_WARNING, "registration handle discarded, no owner or TTL"},
    {"TC202", SCAN_WARNING, "register call with no matching unregister call"},
    {"TC203", SCAN_WARNING, "file-scope callback table filled at run time, never cleared"},
    {"TS001", SCAN_NOTE, "file does not parse cleanly"},
    {"TS002", SCAN_NOTE, "file skipped (binary or too large)"},
};

int scan_rule_by_id(const char *id) {
  for (int i = 0; i < SCAN_RULE_COUNT; i++)
    if (strcasecmp(scan_rules[i].id, id) == 0) return i;
  return -1;
}

int scan_rule_enabled(const scan_options *o, scan_rule rule) {
  return (o->enabled >> rule) & 1u;
}

void *scan_grow(void *v, size_t *cap, size_t n, size_t size) {
  if (n <= *cap) return v;
  size_t c = *cap ? *cap : 8;
  while (c < n) c *= 2;
  void *nv = realloc(v, c * size);
  if (nv == NULL) {
    fputs("tether scan: out of memory\n", stderr);
    exit(2);
  }
  *cap = c;
  return nv;
}

/* Returns the line LINE (1-based) of F's buffer, without its newline. */
static scan_str line_of(const scan_file *f, uint32_t line) {
  scan_str r = {"", 0};
  if (f == NULL || f->data == NULL) return r;
  const char *p = (const char *)f->data, *end = p + f->len;
  for (uint32_t l = 1; l < line && p < end; l++) {
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    if (nl == NULL) return r;
    p = nl + 1;
  }
  const char *nl = memchr(p, '\n', (size_t)(end - p));
  r.s = p;
  r.n = (uint32_t)((nl ? nl : end) - p);
  if (r.n > 0 && r.s[r.n - 1] == '\r') r.n--;
  return r;
}

__attribute__((format(printf, 1, 0))) static char *vformat(const char *fmt, va_list ap) {
  char *s = NULL;
  if (vasprintf(&s, fmt, ap) < 0) {
    fputs("tether scan: out of memory\n", stderr);
    exit(2);
  }
  return s;
}

void scan_add(scan_findings *out, const scan_file *file, uint32_t line, uint32_t col,
              scan_rule rule, scan_severity sev, const char *hint, const char *fmt, ...) {
  if (out->n == out->cap) {
    size_t cap = out->cap ? out->cap * 2 : 8;
    scan_finding *v = realloc(out->v, cap * sizeof *v);
    if (v == NULL) {
      fputs("tether scan: out of memory\n", stderr);
      exit(2);
    }
    out->v = v;
    out->cap = cap;
  }
  scan_finding *f = &out->v[out->n++];
  va_list ap;
  va_start(ap, fmt);
  f->message = vformat(fmt, ap);
  va_end(ap);
  f->hint = strdup(hint ? hint : "");
  f->file = file ? file->path : "";
  f->line = line;
  f->col = col;
  f->rule = rule;
  f->severity = sev;
  f->source = line_of(file, line);
  f->facts = NULL;
}

scan_facts *scan_add_facts(scan_findings *out) {
  scan_finding *f = &out->v[out->n - 1];
  f->facts = calloc(1, sizeof *f->facts);
  if (f->facts == NULL) {
    fputs("tether scan: out of memory\n", stderr);
    exit(2);
  }
  return f->facts;
}

void scan_findings_free(scan_findings *f) {
  for (size_t i = 0; i < f->n; i++) {
    free(f->v[i].message);
    free(f->v[i].hint);
    free(f->v[i].facts);
  }
  free(f->v);
  f->v = NULL;
  f->n = f->cap = 0;
}

int scan_str_eq(scan_str a, const char *lit) {
  size_t n = strlen(lit);
  return a.n == n && memcmp(a.s, lit, n) == 0;
}

int scan_str_same(scan_str a, scan_str b) {
  return a.n == b.n && (a.n == 0 || memcmp(a.s, b.s, a.n) == 0);
}

scan_str scan_node_str(const scan_file *f, TSNode n) {
  scan_str r = {"", 0};
  if (ts_node_is_null(n)) return r;
  uint32_t a = ts_node_start_byte(n), b = ts_node_end_byte(n);
  if (a > f->len || b > f->len || b < a) return r;
  r.s = (const char *)f->data + a;
  r.n = b - a;
  return r;
}

/* Comments: "//tether:ignore RULE reason" (or the same inside a block comment).
 * Only the comment's start line is recorded; a finding on that line or the next
 * one is suppressed. */
void scan_note_comment(scan_file *f, TSNode n) {
  scan_str c = scan_node_str(f, n);
  static const char tag[] = "tether:ignore";
  if (c.n < 2 + sizeof tag) return;
  const char *p = c.s + 2, *end = c.s + c.n;
  while (p < end && (*p == ' ' || *p == '\t')) p++;
  if ((size_t)(end - p) < sizeof tag - 1 || memcmp(p, tag, sizeof tag - 1) != 0) return;
  p += sizeof tag - 1;
  while (p < end && (*p == ' ' || *p == '\t')) p++;
  const char *r = p;
  while (p < end && (isalnum((unsigned char)*p))) p++;
  if (p == r) return;
  if (f->nignores == f->capignores) {
    size_t cap = f->capignores ? f->capignores * 2 : 4;
    scan_ignore *v = realloc(f->ignores, cap * sizeof *v);
    if (v == NULL) return;
    f->ignores = v;
    f->capignores = cap;
  }
  scan_ignore *ig = &f->ignores[f->nignores++];
  ig->line = ts_node_start_point(n).row + 1;
  ig->rule.s = r;
  ig->rule.n = (uint32_t)(p - r);
}

int scan_suppressed(const scan_file *f, uint32_t line, scan_rule rule) {
  for (size_t i = 0; i < f->nignores; i++) {
    const scan_ignore *ig = &f->ignores[i];
    if (ig->line != line && ig->line + 1 != line) continue;
    if (ig->rule.n == 3 && strncasecmp(ig->rule.s, "all", 3) == 0) return 1;
    const char *id = scan_rules[rule].id;
    if (ig->rule.n == strlen(id) && strncasecmp(ig->rule.s, id, ig->rule.n) == 0) return 1;
  }
  return 0;
}

void scan_grammar_init(scan_grammar *g, const TSLanguage *lang, const char *const *kind_names,
                       int nkinds, const char *const *field_names, int nfields,
                       TSFieldId *field_ids) {
  g->sym_count = ts_language_symbol_count(lang);
  g->sym_kind = calloc(g->sym_count, 1);
  g->field_id = field_ids;
  for (uint32_t s = 0; g->sym_kind && s < g->sym_count; s++) {
    const char *name = ts_language_symbol_name(lang, (TSSymbol)s);
    for (int k = 1; name && k < nkinds; k++)
      if (strcmp(name, kind_names[k]) == 0) g->sym_kind[s] = (uint8_t)k;
  }
  for (int f = 0; f < nfields; f++)
    field_ids[f] = ts_language_field_id_for_name(lang, field_names[f], (uint32_t)strlen(field_names[f]));
}

int scan_grammar_kind(const scan_grammar *g, TSNode n) {
  if (ts_node_is_null(n)) return 0;
  TSSymbol s = ts_node_symbol(n);
  return g->sym_kind != NULL && s < g->sym_count ? g->sym_kind[s] : 0;
}

uint32_t scan_nchild(TSNode n) { return ts_node_is_null(n) ? 0 : ts_node_named_child_count(n); }

TSNode scan_nth(TSNode n, uint32_t i) {
  if (ts_node_is_null(n)) return n;
  return ts_node_named_child(n, i);
}

TSNode scan_field(const scan_grammar *g, TSNode n, int f) {
  if (ts_node_is_null(n)) return n;
  return ts_node_child_by_field_id(n, g->field_id[f]);
}

const TSLanguage *scan_lang_go(void) { return tree_sitter_go(); }
const TSLanguage *scan_lang_c(void) { return tree_sitter_c(); }

int scan_languages_check(void) {
  const TSLanguage *langs[2] = {tree_sitter_go(), tree_sitter_c()};
  const char *names[2] = {"tree-sitter-go", "tree-sitter-c"};
  for (int i = 0; i < 2; i++) {
    uint32_t v = ts_language_version(langs[i]);
    if (v < TREE_SITTER_MIN_COMPATIBLE_LANGUAGE_VERSION || v > TREE_SITTER_LANGUAGE_VERSION) {
      fprintf(stderr,
              "tether scan: %s has language ABI %u; this tree-sitter runtime loads %d to %d\n",
              names[i], v, TREE_SITTER_MIN_COMPATIBLE_LANGUAGE_VERSION,
              TREE_SITTER_LANGUAGE_VERSION);
      return -1;
    }
  }
  return 0;
}

void scan_options_default(scan_options *o) {
  static const char *regs[] = {"Register*", "register*", "Subscribe*", "subscribe*",
                               "On",        "On*",       "AddListener", "Add*Listener",
                               "Add*Handler", "add*Handler", "Add*Hook", "Handle",
                               "HandleFunc", "Handle*",  "Listen*"};
  static scan_pair pairs[] = {
      {"tether_register", "tether_unregister"},
      {"tether_register_at", "tether_unregister"},
      {"g_signal_connect", "g_signal_handler_disconnect"},
      {"g_signal_connect_after", "g_signal_handler_disconnect"},
      {"g_signal_connect_data", "g_signal_handler_disconnect"},
      {"g_signal_connect_swapped", "g_signal_handler_disconnect"},
      {"g_hook_append", "g_hook_destroy"},
      {"g_hook_prepend", "g_hook_destroy"},
      {"g_hook_insert_before", "g_hook_destroy"},
      {"g_timeout_add", "g_source_remove"},
      {"g_idle_add", "g_source_remove"},
      {"signal_connect", "signal_disconnect"},
      {"event_add", "event_del"},
      {"uv_timer_start", "uv_timer_stop"},
  };
  memset(o, 0, sizeof *o);
  o->enabled = (1u << SCAN_RULE_COUNT) - 1;
  o->pairs = pairs;
  o->npairs = sizeof pairs / sizeof pairs[0];
  o->register_names = regs;
  o->nregister_names = sizeof regs / sizeof regs[0];
}
