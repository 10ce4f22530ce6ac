/* tether scan's internals called directly (scan_buffer on in-memory source):
 * capture analysis details that are easier to state inline than as fixtures, and
 * a fixed-seed run of random and mutated inputs that must not crash. */
#include <stdlib.h>

#include "runner.h"
#include "scan/scan.h"

/* Scans SRC as LANG; the caller frees the result with scan_file_free. */
static scan_file scan_src(const char *src, scan_lang lang) {
  scan_options o;
  scan_options_default(&o);
  scan_file f;
  memset(&f, 0, sizeof f);
  f.path = strdup(lang == SCAN_LANG_GO ? "t.go" : "t.c");
  f.lang = lang;
  f.len = strlen(src);
  f.data = (unsigned char *)strdup(src);
  scan_buffer(&f, &o);
  return f;
}

static const scan_finding *find(const scan_file *f, scan_rule rule, uint32_t line) {
  for (size_t i = 0; i < f->findings.n; i++)
    if (f->findings.v[i].rule == rule && f->findings.v[i].line == line) return &f->findings.v[i];
  return NULL;
}

TEST(scan_internal_shadowed_and_nested_captures) {
  scan_file f = scan_src("package p\n"
                         "var m = map[string]func(){}\n"
                         "func f(buf []byte, n int) {\n"
                         "  m[\"a\"] = func() {\n"
                         "    x := 1\n"
                         "    go func() { println(x, n, len(buf)) }()\n"
                         "  }\n"
                         "}\n",
                         SCAN_LANG_GO);
  const scan_finding *x = find(&f, SCAN_TG104, 4);
  CHECK(x != NULL);
  CHECK_EQ(x->severity, SCAN_ERROR);
  CHECK(strstr(x->message, "buf (slice)") != NULL);
  CHECK(strstr(x->message, "n (scalar)") != NULL);
  CHECK(strstr(x->message, "x (") == NULL); /* the literal's own local */
  scan_file_free(&f);
}

TEST(scan_internal_new_and_composite_pointers) {
  scan_file f = scan_src("package p\n"
                         "type Big struct{ a [1 << 20]byte }\n"
                         "var m = map[int]func(){}\n"
                         "func f(k int) {\n"
                         "  b := &Big{}\n"
                         "  c := new(Big)\n"
                         "  m[k] = func() { _ = b; _ = c }\n"
                         "}\n",
                         SCAN_LANG_GO);
  const scan_finding *x = find(&f, SCAN_TG104, 7);
  CHECK(x != NULL);
  CHECK(strstr(x->message, "b (pointer), c (pointer)") != NULL);
  CHECK(find(&f, SCAN_TG102, 3) != NULL);
  scan_file_free(&f);
}

TEST(scan_internal_nil_store_counts_as_removal) {
  /* Storing nil releases the func: the map counts as shrinking. */
  scan_file f = scan_src("package p\n"
                         "var m = map[string]func(){}\n"
                         "func set(k string, h func()) { m[k] = h }\n"
                         "func drop(k string) { m[k] = nil }\n",
                         SCAN_LANG_GO);
  CHECK(find(&f, SCAN_TG101, 2) != NULL);
  CHECK(find(&f, SCAN_TG102, 2) == NULL);
  scan_file_free(&f);
}

TEST(scan_internal_init_assignment_is_not_a_reset) {
  /* Assigning the whole map in init (or New*) is initialisation; elsewhere a reset. */
  scan_file f = scan_src("package p\n"
                         "var m map[string]func()\n"
                         "func init() { m = map[string]func(){} }\n"
                         "func NewThing() { m = make(map[string]func()) }\n"
                         "func Add(k string, h func()) { m[k] = h }\n",
                         SCAN_LANG_GO);
  CHECK(find(&f, SCAN_TG102, 2) != NULL);
  CHECK(find(&f, SCAN_TG103, 5) != NULL); /* Add stores its func parameter: Register-like */
  scan_file_free(&f);
  f = scan_src("package p\n"
               "var m map[string]func()\n"
               "func Reset() { m = map[string]func(){} }\n"
               "func Add(k string, h func()) { m[k] = h }\n",
               SCAN_LANG_GO);
  CHECK(find(&f, SCAN_TG101, 2) != NULL);
  CHECK(find(&f, SCAN_TG102, 2) == NULL);
  scan_file_free(&f);
}

TEST(scan_internal_c_typedef_callback_table) {
  scan_file f = scan_src("typedef struct cb { void (*fn)(void *); void *arg; } cb_t;\n"
                         "static cb_t tab[4];\n"
                         "void put(int i, void (*fn)(void *), void *arg) {\n"
                         "  tab[i].fn = fn; tab[i].arg = arg;\n"
                         "}\n",
                         SCAN_LANG_C);
  CHECK(find(&f, SCAN_TC203, 2) != NULL);
  scan_file_free(&f);
}

/* Random bytes and random cuts of a real fixture, as Go and as C: no crash, no
 * leak (the ASan tier runs this too). */
TEST(scan_internal_garbage_does_not_crash) {
  static const char seed[] =
      "package p\nimport \"sync\"\nvar h sync.Map\ntype R struct{ m map[string][]func(int) }\n"
      "func (r *R) On(k string, f func(int)) { r.m[k] = append(r.m[k], f); h.Store(k, func() "
      "{ _ = r }) }\nstatic struct s { void (*f)(void*); void *c; } t[3];\n"
      "void g(void) { t[0].f = 0; tether_register(r, \"x\", f, c, 0, 0, 0); }\n";
  unsigned state = 12345;
  char buf[512];
  for (int round = 0; round < 300; round++) {
    size_t n = 0;
    for (; n < sizeof buf - 1; n++) {
      state = state * 1103515245u + 12345u;
      unsigned r = state >> 16;
      if (round % 2 == 0) buf[n] = seed[(n + r % 7) % (sizeof seed - 1)];
      else buf[n] = (char)(r % 96 + 32);
      if (r % 97 == 0) break;
    }
    buf[n] = 0;
    uint32_t lines = 1;
    for (size_t i = 0; i < n; i++) lines += buf[i] == '\n';
    scan_file g = scan_src(buf, SCAN_LANG_GO);
    scan_file c = scan_src(buf, SCAN_LANG_C);
    /* Every finding points into the input. */
    for (size_t i = 0; i < g.findings.n; i++)
      CHECK(g.findings.v[i].line >= 1 && g.findings.v[i].line <= lines);
    for (size_t i = 0; i < c.findings.n; i++)
      CHECK(c.findings.v[i].line >= 1 && c.findings.v[i].line <= lines);
    scan_file_free(&g);
    scan_file_free(&c);
  }
}

/* The pinned grammars are ABI 14 and load in the packaged runtime (0.20.x). */
TEST(scan_internal_grammars_load) {
  CHECK_EQ(ts_language_version(scan_lang_go()), 14);
  CHECK_EQ(ts_language_version(scan_lang_c()), 14);
  CHECK_EQ(scan_languages_check(), 0);
  TSParser *p = ts_parser_new();
  CHECK(ts_parser_set_language(p, scan_lang_go()));
  CHECK(ts_parser_set_language(p, scan_lang_c()));
  ts_parser_delete(p);
}

/* //go:build lines: a file is left out when `ignore` is required. */
TEST(scan_internal_build_ignore) {
  static const struct {
    const char *header;
    int ignored;
  } cases[] = {
      {"//go:build ignore\n", 1},
      {"//go:build ignore && linux\n", 1},
      {"// +build ignore\n", 1},
      {"// Copyright\n\n//go:build ignore\n// +build ignore\n", 1},
      {"//go:build !ignore\n", 0},
      {"//go:build ignore || linux\n", 0},
      {"//go:build linux\n", 0},
      {"// ignore this comment\n", 0},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    char src[512];
    snprintf(src, sizeof src, "%s\npackage p\nvar m = map[string]func(){}\n", cases[i].header);
    scan_file f = scan_src(src, SCAN_LANG_GO);
    CHECK_EQ(f.build_ignored, cases[i].ignored);
    CHECK_EQ(f.findings.n == 0, cases[i].ignored); /* the TG101 of a file that is scanned */
    scan_file_free(&f);
  }
}

/* Types the facts infer, one construct at a time. */
TEST(scan_internal_inferred_capture_types) {
  scan_file f = scan_src("package p\n"
                         "import (\"context\"; \"net/http\"; \"os\")\n"
                         "type T struct{ next *T }\n"
                         "func (t *T) Next() *T { return t.next }\n"
                         "func pair() (int, *T) { return 0, nil }\n"
                         "var m = map[string]func(){}\n"
                         "func f(t *T, r *http.Request) {\n"
                         "  a := t.Next()\n"
                         "  n, b := pair()\n"
                         "  req, _ := http.NewRequest(\"GET\", \"/\", nil)\n"
                         "  ctx, cancel := context.WithCancel(r.Context())\n"
                         "  file, _ := os.Open(\"x\")\n"
                         "  s := os.Getenv(\"X\")\n"
                         "  c := req.Context()\n"
                         "  v := T{}\n"
                         "  m[\"k\"] = func() { _, _, _, _, _, _, _, _, _, _ = a, n, b, req, ctx, cancel, file, s, c, v }\n"
                         "}\n",
                         SCAN_LANG_GO);
  const scan_finding *x = find(&f, SCAN_TG104, 16);
  CHECK(x != NULL);
  CHECK_EQ(x->severity, SCAN_ERROR);
  static const char *const want[] = {"a (pointer)", "n (scalar)", "b (pointer)", "req (pointer)",
                                     "ctx (Context: interface)", "cancel (func)", "file (pointer)",
                                     "s (scalar)", "c (Context: interface)", "v (T: struct holding references)"};
  for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
    if (strstr(x->message, want[i]) == NULL) fprintf(stderr, "missing %s in %s\n", want[i], x->message);
    CHECK(strstr(x->message, want[i]) != NULL);
  }
  scan_file_free(&f);
}

/* Declarations whose types are defined through themselves (invalid Go, but a
 * scanner meets it in broken or half-written code): the type helpers restarted
 * their depth count, so working out a capture's type recursed until the stack
 * overflowed (found by the scan fuzz target). The types are unknown, and the
 * scan finishes. */
TEST(scan_internal_cyclic_declarations_end) {
  scan_file f = scan_src("package p\n"
                         "var m = map[string]func(){}\n"
                         "var a = &b[0]\n"
                         "var b = &a[0]\n"
                         "var c = &c[0]\n"
                         "func f() {\n"
                         "  x := &x[0]\n"
                         "  m[\"k\"] = func() { _, _, _ = a, c, x }\n"
                         "}\n",
                         SCAN_LANG_GO);
  const scan_finding *x = find(&f, SCAN_TG104, 8);
  CHECK(x != NULL);
  CHECK(strstr(x->message, "x (of a type not known here)") != NULL);
  scan_file_free(&f);
}

TEST(scan_internal_generic_func_maps) {
  scan_file f = scan_src("package p\n"
                         "type Factory[T any] func() T\n"
                         "type byName[T any] map[string]Factory[T]\n"
                         "type R[T any] struct{ f byName[T]; g map[string]map[int]func(T) }\n"
                         "func (r *R[T]) Add(k string, fn Factory[T]) { r.f[k] = fn }\n"
                         "func (r *R[T]) On(k string, i int, fn func(T)) { r.g[k][i] = fn }\n",
                         SCAN_LANG_GO);
  CHECK(find(&f, SCAN_TG102, 4) != NULL);
  CHECK(find(&f, SCAN_TG103, 5) != NULL);
  CHECK(find(&f, SCAN_TG103, 6) != NULL);
  size_t n102 = 0;
  for (size_t i = 0; i < f.findings.n; i++) n102 += f.findings.v[i].rule == SCAN_TG102;
  CHECK_EQ(n102, 2); /* r.f and r.g */
  scan_file_free(&f);
}

/* The engine entry point a front-end calls: sorted findings, errors kept, all freed. */
TEST(scan_internal_scan_run_api) {
  scan_options o;
  scan_options_default(&o);
  o.jobs = 2;
  const char *paths[] = {TETHER_SOURCE_DIR "/tests/fixtures/scan/go/dataflow",
                         TETHER_SOURCE_DIR "/tests/fixtures/scan/c/gtk_app", "/no/such/path"};
  scan_result r;
  CHECK_EQ(scan_run(paths, 3, &o, &r), 0);
  CHECK_EQ(r.input_error, 1);
  CHECK_EQ(r.nerrors, 1);
  CHECK(strstr(r.errors[0], "/no/such/path") != NULL);
  CHECK(r.nfindings >= 10);
  for (size_t i = 1; i < r.nfindings; i++) {
    int c = strcmp(r.findings[i - 1]->file, r.findings[i]->file);
    CHECK(c < 0 || (c == 0 && r.findings[i - 1]->line <= r.findings[i]->line));
  }
  CHECK_EQ(r.summary.files, 2);
  scan_result_free(&r);
  CHECK_EQ(scan_run(paths, 0, &o, &r), -1);
  scan_result_free(&r);
}

static const scan_finding *found(const scan_result *r, const char *file, scan_rule rule, uint32_t line) {
  for (size_t i = 0; i < r->nfindings; i++) {
    const scan_finding *x = r->findings[i];
    if (x->rule == rule && x->line == line && strstr(x->file, file) != NULL) return x;
  }
  return NULL;
}

static int ends_with(const char *s, const char *tail) {
  if (s == NULL) return 0;
  size_t n = strlen(s), t = strlen(tail);
  return n >= t && strcmp(s + n - t, tail) == 0;
}

/* The structured facts that commands joining findings to other evidence read
 * (tether watch): what each finding names, where, and what its closure holds. */
TEST(scan_internal_findings_carry_facts) {
  scan_options o;
  scan_options_default(&o);
  const char *paths[] = {TETHER_SOURCE_DIR "/tests/fixtures/scan/go/dataflow",
                         TETHER_SOURCE_DIR "/tests/fixtures/scan/go/inline_hooks",
                         TETHER_SOURCE_DIR "/tests/fixtures/scan/c/gtk_app"};
  scan_result r;
  CHECK_EQ(scan_run(paths, 3, &o, &r), 0);
  /* A literal passed to a Register-like method, capturing a constructor's result. */
  const scan_finding *x = found(&r, "router.go", SCAN_TG104, 97);
  CHECK(x != NULL && x->facts != NULL);
  if (x && x->facts) {
    const scan_facts *fx = x->facts;
    CHECK(scan_str_eq(fx->func, "Serve") && scan_str_eq(fx->recv, "Router") && scan_str_eq(fx->via, "Handle"));
    CHECK(scan_str_eq(fx->map, "routes") && scan_str_eq(fx->owner, "Router"));
    CHECK(ends_with(fx->map_file, "dataflow/router.go"));
    CHECK_EQ(fx->map_line, 14);
    CHECK(!fx->map_shrinks);
    CHECK_EQ(fx->end_line, 97);
    CHECK_EQ(fx->ncaptures, 1);
    CHECK(scan_str_eq(fx->capture[0], "st"));
    CHECK_EQ(fx->capture_line[0], 96);
    CHECK_EQ(fx->capture_ref & 1u, 1u);
  }
  /* Two captures: a two-result call's first result and r.Context(). */
  x = found(&r, "router.go", SCAN_TG104, 103);
  CHECK(x != NULL && x->facts != NULL && x->facts->ncaptures == 2);
  if (x && x->facts && x->facts->ncaptures == 2) {
    int st2 = scan_str_eq(x->facts->capture[0], "st2") ? 0 : 1;
    CHECK(scan_str_eq(x->facts->capture[st2], "st2"));
    CHECK(scan_str_eq(x->facts->capture[1 - st2], "ctx"));
    CHECK_EQ(x->facts->capture_line[st2], 98);
    CHECK_EQ(x->facts->capture_line[1 - st2], 102);
    CHECK(x->facts->capture_ref & (1u << st2));
  }
  /* A scalar capture holds no references. */
  x = found(&r, "router.go", SCAN_TG104, 105);
  CHECK(x != NULL && x->facts && x->facts->ncaptures == 1 && x->facts->capture_ref == 0);
  /* A closure made by a helper: named at the call site, its captures the helper's. */
  x = found(&r, "router.go", SCAN_TG104, 81);
  CHECK(x != NULL && x->facts != NULL);
  if (x && x->facts) {
    CHECK(scan_str_eq(x->facts->func, "Mount") && scan_str_eq(x->facts->via, "Handle"));
    CHECK(x->facts->ncaptures == 1 && scan_str_eq(x->facts->capture[0], "h"));
    CHECK_EQ(x->facts->capture_line[0], 0);
  }
  /* Register-like methods of a generic type with an inline-struct map. */
  x = found(&r, "cache.go", SCAN_TG103, 40);
  CHECK(x != NULL && x->facts != NULL);
  if (x && x->facts) {
    CHECK(scan_str_eq(x->facts->func, "OnEviction") && scan_str_eq(x->facts->recv, "Cache"));
    CHECK(scan_str_eq(x->facts->map, "fns") && scan_str_eq(x->facts->owner, "Cache.events.eviction"));
    CHECK_EQ(x->facts->map_line, 22);
    CHECK(!x->facts->map_shrinks);
  }
  x = found(&r, "cache.go", SCAN_TG104, 32);
  CHECK(x != NULL && x->facts && scan_str_eq(x->facts->owner, "Cache.events.insertion") &&
        x->facts->map_line == 19 && x->facts->map_shrinks);
  x = found(&r, "cache.go", SCAN_TG102, 22);
  CHECK(x != NULL && x->facts && x->facts->map_line == 22 && !x->facts->map_shrinks);
  /* C: the function making a GLib connection or filling a member table. */
  x = found(&r, "app_window.c", SCAN_TC202, 84);
  CHECK(x != NULL && x->facts && scan_str_eq(x->facts->func, "app_window_init"));
  x = found(&r, "app_window.c", SCAN_TC202, 90);
  CHECK(x != NULL && x->facts && scan_str_eq(x->facts->func, "app_window_init"));
  x = found(&r, "app_window.c", SCAN_TC203, 19);
  CHECK(x != NULL && x->facts && scan_str_eq(x->facts->func, "plugin_add"));
  x = found(&r, "app_window.c", SCAN_TC203, 109);
  CHECK(x != NULL && x->facts && scan_str_eq(x->facts->func, "listener_set"));
  scan_result_free(&r);
}

/* Set(k, nil), where Set stores its func parameter, releases what it stored. */
TEST(scan_internal_nil_through_a_parameter_is_a_removal) {
  static const char leak[] = "package p\n"
                             "var filters = map[int]func(){}\n"
                             "func Set(k int, f func()) { filters[k] = f }\n";
  scan_file f = scan_src(leak, SCAN_LANG_GO);
  CHECK(find(&f, SCAN_TG102, 2) != NULL);
  CHECK(find(&f, SCAN_TG103, 3) != NULL);
  scan_file_free(&f);
  char src[512];
  snprintf(src, sizeof src, "%sfunc reset() { Set(1, nil) }\n", leak);
  f = scan_src(src, SCAN_LANG_GO);
  CHECK(find(&f, SCAN_TG101, 2) != NULL);
  CHECK(find(&f, SCAN_TG102, 2) == NULL);
  CHECK(find(&f, SCAN_TG103, 3) == NULL);
  scan_file_free(&f);
}

/* Type aliases are followed like the types they name, here and in another package. */
TEST(scan_internal_type_aliases) {
  scan_file f = scan_src("package p\n"
                         "import \"context\"\n"
                         "type Callback = func(string)\n"
                         "type Ctx = context.Context\n"
                         "type Table = map[string]Callback\n"
                         "var tbl = Table{}\n"
                         "func Add(k string, c Callback) { tbl[k] = c }\n"
                         "func Watch(ctx Ctx) { tbl[\"w\"] = func(string) { <-ctx.Done() } }\n",
                         SCAN_LANG_GO);
  CHECK(find(&f, SCAN_TG101, 6) != NULL);
  CHECK(find(&f, SCAN_TG103, 7) != NULL);
  const scan_finding *x = find(&f, SCAN_TG104, 8);
  CHECK(x != NULL);
  CHECK(strstr(x->message, "ctx (Context: interface)") != NULL);
  CHECK_EQ(x->severity, SCAN_ERROR);
  scan_file_free(&f);
}

/* append(s[:i], s[i+1:]...) removes; append(s[:n], f) still adds. */
TEST(scan_internal_append_of_a_reslice) {
  scan_file f = scan_src("package p\n"
                         "var m = map[string][]func(){}\n"
                         "func On(k string, f func()) { s := m[k]; m[k] = append(s[:len(s):len(s)], f) }\n",
                         SCAN_LANG_GO);
  CHECK(find(&f, SCAN_TG102, 2) != NULL);
  scan_file_free(&f);
  f = scan_src("package p\n"
               "var m = map[string][]func(){}\n"
               "func On(k string, f func()) { m[k] = append(m[k], f) }\n"
               "func Off(k string, i int) { m[k] = append(m[k][:i], m[k][i+1:]...) }\n",
               SCAN_LANG_GO);
  CHECK(find(&f, SCAN_TG101, 2) != NULL);
  CHECK(find(&f, SCAN_TG102, 2) == NULL);
  scan_file_free(&f);
}

/* A map of maps of funcs shrinks when the inner maps are deleted from. */
TEST(scan_internal_map_of_maps_that_shrinks) {
  scan_file f = scan_src("package p\n"
                         "type Bus struct{ subs map[string]map[int]func(string) }\n"
                         "func (b *Bus) On(topic string, id int, fn func(string)) { b.subs[topic][id] = fn }\n"
                         "func (b *Bus) Off(topic string, id int) { delete(b.subs[topic], id) }\n",
                         SCAN_LANG_GO);
  CHECK(find(&f, SCAN_TG102, 2) == NULL);
  CHECK(find(&f, SCAN_TG103, 3) == NULL);
  scan_file_free(&f);
}
