/* tether scan: every rule on its positive and negative fixtures (the article's
 * examples among them), run through the built tool with --format json, whose
 * findings are one per line. Each check names a rule and a line, so a rule that
 * stops firing, or starts firing where it must not, fails here. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli-util.h"
#include "runner.h"

#define FIX TETHER_SOURCE_DIR "/tests/fixtures/scan"

typedef struct run {
  char *out;
  int status;
} run;

/* Runs `tether scan ARGS` from the fixtures folder; collects stdout and the exit status. */
static run scan(const char *args) {
  run r = {NULL, -1};
  char cmd[2048];
  snprintf(cmd, sizeof cmd, "cd %s && %s scan %s 2>/dev/null", FIX, TETHER_BIN, args);
  r.status = cli_shell(cmd, &r.out);
  return r;
}

/* Counts JSON finding lines with RULE in a file ending in FILE at LINE (0: any line). */
static int count(const run *r, const char *rule, const char *file, int line) {
  if (r->out == NULL) return -1;
  char want_rule[64], want_line[32], want_file[256];
  snprintf(want_rule, sizeof want_rule, "{\"rule\":\"%s\"", rule);
  snprintf(want_line, sizeof want_line, "\"line\":%d,", line);
  snprintf(want_file, sizeof want_file, "%s\",", file);
  int n = 0;
  for (const char *l = r->out; l && *l;) {
    const char *end = strchr(l, '\n');
    size_t len = end ? (size_t)(end - l) : strlen(l);
    char *copy = strndup(l, len);
    if (copy && strncmp(copy, want_rule, strlen(want_rule)) == 0 && strstr(copy, want_file) &&
        (line == 0 || strstr(copy, want_line)))
      n++;
    free(copy);
    l = end ? end + 1 : NULL;
  }
  return n;
}

/* All findings of any rule in the output. */
static int total(const run *r) {
  int n = 0;
  for (const char *p = r->out; p && (p = strstr(p, "{\"rule\":")) != NULL; p++) n++;
  return n;
}

TEST(scan_article_register_init) {
  run r = scan("--format json go/article_register");
  const char *f = "article_register/handlers.go";
  CHECK_EQ(count(&r, "TG101", f, 6), 1);
  CHECK_EQ(count(&r, "TG102", f, 6), 1);
  CHECK_EQ(count(&r, "TG103", f, 8), 1);
  CHECK_EQ(count(&r, "TG105", f, 9), 1);
  CHECK_EQ(count(&r, "TG104", f, 0), 0); /* Register stores a parameter, not a literal */
  CHECK_EQ(r.status, 1);
  free(r.out);
}

TEST(scan_article_register_handler_and_safe_handler) {
  run r = scan("--format json go/article_closure");
  const char *f = "article_closure/closure.go";
  CHECK_EQ(count(&r, "TG104", f, 16), 1);
  CHECK(strstr(r.out, "captures data (pointer)") != NULL);
  CHECK(strstr(r.out, "\"severity\":\"error\",\"file\":\"go/article_closure/closure.go\",\"line\":16") != NULL);
  /* setupSafeHandler (lines 25-30) copies data.ID and returns the literal: clean. */
  for (int line = 25; line <= 30; line++) CHECK_EQ(count(&r, "TG104", f, line), 0);
  /* unregisterHandler deletes: the map can shrink, so no TG102 and no TG103. */
  CHECK_EQ(count(&r, "TG102", f, 0), 0);
  CHECK_EQ(count(&r, "TG103", f, 0), 0);
  free(r.out);
}

TEST(scan_article_handler_registry) {
  run r = scan("--format json go/article_registry");
  const char *f = "article_registry/registry.go";
  CHECK_EQ(count(&r, "TG102", f, 9), 1);
  CHECK(strstr(r.out, "'HandlerRegistry.handlers'") != NULL);
  CHECK_EQ(count(&r, "TG103", f, 12), 1);
  CHECK_EQ(count(&r, "TG101", f, 0), 0); /* a field, not a package-level variable */
  free(r.out);
}

TEST(scan_clean_registry_has_no_findings) {
  run r = scan("--format json go/clean_registry");
  CHECK_EQ(total(&r), 0);
  CHECK_EQ(r.status, 0);
  free(r.out);
}

TEST(scan_sync_map) {
  run r = scan("--format json go/syncmap_leak go/syncmap_clean");
  const char *leak = "syncmap_leak/cache.go", *clean = "syncmap_clean/cache.go";
  CHECK_EQ(count(&r, "TG101", leak, 6), 1);
  CHECK_EQ(count(&r, "TG102", leak, 6), 1);
  CHECK_EQ(count(&r, "TG103", leak, 10), 1);
  CHECK_EQ(count(&r, "TG104", leak, 11), 1);
  CHECK_EQ(count(&r, "TG101", leak, 16), 0); /* a sync.Map of strings */
  CHECK_EQ(count(&r, "TG102", leak, 22), 1); /* LoadOrStore of a converted literal */
  CHECK_EQ(count(&r, "TG104", leak, 25), 1);
  CHECK_EQ(count(&r, "TG105", leak, 0), 0); /* Store and LoadOrStore are not m[k] = f */
  CHECK_EQ(count(&r, "TG101", clean, 6), 1);
  CHECK_EQ(count(&r, "TG102", clean, 0), 0); /* Delete exists */
  free(r.out);
}

TEST(scan_named_func_types_and_slices) {
  run r = scan("--format json go/named_types");
  const char *f = "named_types/types.go";
  CHECK_EQ(count(&r, "TG101", f, 11), 1); /* map[string]HandlerFunc */
  CHECK_EQ(count(&r, "TG101", f, 13), 0); /* map[string]Config */
  CHECK_EQ(count(&r, "TG101", f, 15), 1); /* map[string][]func() */
  CHECK_EQ(count(&r, "TG102", f, 15), 1);
  CHECK_EQ(count(&r, "TG105", f, 22), 0); /* append does not overwrite */
  CHECK_EQ(count(&r, "TG105", f, 18), 1);
  free(r.out);
}

TEST(scan_capture_kinds) {
  run r = scan("--format json go/captures");
  const char *f = "captures/bus.go";
  CHECK_EQ(count(&r, "TG104", f, 31), 1); /* Session holds a slice: error */
  CHECK(strstr(r.out, "\"rule\":\"TG104\",\"severity\":\"error\",\"file\":\"go/captures/bus.go\",\"line\":31") != NULL);
  CHECK_EQ(count(&r, "TG104", f, 34), 1); /* scalars only: a note */
  CHECK(strstr(r.out, "\"rule\":\"TG104\",\"severity\":\"note\",\"file\":\"go/captures/bus.go\",\"line\":34") != NULL);
  CHECK(strstr(r.out, "count (scalar)") != NULL);
  CHECK_EQ(count(&r, "TG104", f, 37), 0); /* only a constant and its own local */
  CHECK_EQ(count(&r, "TG104", f, 45), 1);
  CHECK(strstr(r.out, "cache (map)") != NULL);
  CHECK_EQ(count(&r, "TG102", f, 0), 0); /* both maps have deletes */
  free(r.out);
}

TEST(scan_suppression_comments) {
  run r = scan("--format json go/suppressed");
  const char *f = "suppressed/reg.go";
  CHECK_EQ(count(&r, "TG101", f, 0), 0);
  CHECK_EQ(count(&r, "TG105", f, 13), 0); /* presence checked */
  CHECK_EQ(count(&r, "TG105", f, 14), 1); /* not suppressed */
  CHECK_EQ(count(&r, "TG102", f, 0), 0);  /* reset() reassigns both maps */
  free(r.out);
}

TEST(scan_package_spans_files) {
  run r = scan("--format json go/multi_file");
  CHECK_EQ(count(&r, "TG101", "multi_file/a.go", 4), 1);
  CHECK_EQ(count(&r, "TG102", "multi_file/a.go", 0), 0); /* deleted in b.go */
  free(r.out);
}

TEST(scan_lazy_init_is_not_a_reset) {
  run r = scan("--format json go/lazy_init");
  CHECK_EQ(count(&r, "TG102", "lazy_init/lazy.go", 5), 1);
  CHECK_EQ(count(&r, "TG103", "lazy_init/lazy.go", 8), 1); /* On */
  free(r.out);
}

TEST(scan_tests_only_when_asked) {
  run r = scan("--format json go/with_tests");
  CHECK_EQ(total(&r), 0);
  free(r.out);
  r = scan("--format json --include-tests go/with_tests");
  CHECK_EQ(count(&r, "TG101", "with_tests/lib_test.go", 3), 1);
  free(r.out);
}

TEST(scan_c_tc201) {
  run r = scan("--format json c/tc201.c");
  CHECK_EQ(count(&r, "TC201", "c/tc201.c", 19), 1);
  CHECK_EQ(count(&r, "TC201", "c/tc201.c", 25), 1); /* {0}: no owner, no TTL */
  CHECK_EQ(count(&r, "TC201", "c/tc201.c", 0), 2);  /* not kept, owned, expires */
  CHECK_EQ(count(&r, "TC202", "c/tc201.c", 0), 0);  /* tether_unregister is called */
  free(r.out);
}

TEST(scan_c_tc202) {
  run r = scan("--format json --pair bus_subscribe:bus_unsubscribe c/tc202.c");
  CHECK_EQ(count(&r, "TC202", "c/tc202.c", 13), 1);
  CHECK_EQ(count(&r, "TC202", "c/tc202.c", 14), 0); /* g_signal_connect_object */
  CHECK_EQ(count(&r, "TC202", "c/tc202.c", 15), 1); /* the user's pair */
  free(r.out);
  r = scan("--format json c/tc202.c");
  CHECK_EQ(count(&r, "TC202", "c/tc202.c", 15), 0); /* no pair, no rule */
  free(r.out);
  r = scan("--format json c/tc202_paired");
  CHECK_EQ(total(&r), 0); /* disconnected in another file of the tree */
  free(r.out);
}

TEST(scan_c_tc203) {
  run r = scan("--format json c/tc203.c");
  CHECK_EQ(count(&r, "TC203", "c/tc203.c", 10), 1); /* handlers: never cleared */
  CHECK_EQ(count(&r, "TC203", "c/tc203.c", 24), 0); /* slots: slot_clear */
  CHECK_EQ(count(&r, "TC203", "c/tc203.c", 37), 1); /* hooks: only hook_ctx is cleared */
  CHECK_EQ(count(&r, "TC203", "c/tc203.c", 45), 0); /* fixed: never filled at run time */
  free(r.out);
}

TEST(scan_register_names_and_pair_patterns) {
  run r = scan("--format json go/named_types");
  /* Route and Chain store their func parameter: Register-like by what they do. */
  CHECK_EQ(count(&r, "TG103", "named_types/types.go", 17), 1);
  CHECK_EQ(count(&r, "TG103", "named_types/types.go", 21), 1);
  CHECK_EQ(count(&r, "TG103", "named_types/types.go", 30), 0); /* Defaults: no parameter stored */
  free(r.out);
  r = scan("--format json --register-names 'Def*' go/named_types");
  CHECK_EQ(count(&r, "TG103", "named_types/types.go", 30), 1); /* the name list adds it */
  CHECK_EQ(count(&r, "TG103", "named_types/types.go", 17), 1);
  free(r.out);
  r = scan("--format json --pair 'bus_sub*:bus_unsubscribe' c/tc202.c");
  CHECK_EQ(count(&r, "TC202", "c/tc202.c", 15), 1);
  free(r.out);
  r = scan("--pair nocolon c/tc202.c");
  CHECK_EQ(r.status, 2);
  free(r.out);
}

TEST(scan_exit_status_and_fail_on) {
  run r = scan("go/article_register");
  CHECK_EQ(r.status, 1);
  free(r.out);
  r = scan("--fail-on error go/named_types");
  CHECK_EQ(r.status, 1);
  free(r.out);
  r = scan("--fail-on error go/multi_file");
  CHECK_EQ(r.status, 0); /* only a warning and a note */
  free(r.out);
  r = scan("go/multi_file --fail-on error"); /* options may follow the paths */
  CHECK_EQ(r.status, 0);
  free(r.out);
  r = scan("--fail-on note go/multi_file");
  CHECK_EQ(r.status, 1);
  free(r.out);
  r = scan("--disable TG101,TG105 go/multi_file");
  CHECK_EQ(r.status, 0);
  free(r.out);
  r = scan("--enable TG104 --format json go/article_register go/article_closure");
  CHECK_EQ(total(&r), 1);
  free(r.out);
}

TEST(scan_usage_and_input_errors) {
  run r = scan("");
  CHECK_EQ(r.status, 2);
  free(r.out);
  r = scan("--format xml go");
  CHECK_EQ(r.status, 2);
  free(r.out);
  r = scan("--enable TG999 go");
  CHECK_EQ(r.status, 2);
  free(r.out);
  r = scan("--jobs 0 go");
  CHECK_EQ(r.status, 2);
  free(r.out);
  r = scan("no/such/dir");
  CHECK_EQ(r.status, 2);
  free(r.out);
  r = scan("--help");
  CHECK_EQ(r.status, 0);
  CHECK(strstr(r.out, "--fail-on") != NULL);
  free(r.out);
}

TEST(scan_go_dot_dot_dot_and_jobs) {
  run one = scan("--format json --jobs 1 ./...");
  run four = scan("--format json --jobs 4 ./...");
  CHECK(total(&one) > 20);
  CHECK_EQ(total(&one), total(&four));
  CHECK_STREQ(one.out, four.out); /* output order does not depend on threads */
  free(one.out);
  free(four.out);
}

TEST(scan_text_format) {
  run r = scan("go/article_closure");
  CHECK(strstr(r.out, "go/article_closure/closure.go:16:19: error: func literal stored in func map "
                      "'handlers' captures data (pointer)") != NULL);
  CHECK(strstr(r.out, "   16 | \thandlers[name] = func() {\n      | \t                 ^\n") != NULL);
  CHECK(strstr(r.out, "hint: copy the fields") != NULL);
  CHECK(strstr(r.out, "\033[") == NULL); /* not a terminal: no colour */
  free(r.out);
}

TEST(scan_sarif_format) {
  run r = scan("--format sarif go/article_register");
  CHECK(strstr(r.out, "\"version\":\"2.1.0\"") != NULL);
  CHECK(strstr(r.out, "{\"ruleId\":\"TG103\",\"ruleIndex\":2,\"level\":\"warning\"") != NULL);
  CHECK(strstr(r.out, "\"uri\":\"go/article_register/handlers.go\"},\"region\":{\"startLine\":8,"
                      "\"startColumn\":6}") != NULL);
  free(r.out);
}

/* Binary, oversized and unreadable files: notes or errors, never a crash. */
TEST(scan_bad_inputs) {
  char dir[] = "/tmp/tether-scan-XXXXXX";
  CHECK(mkdtemp(dir) != NULL);
  char path[256], cmd[1024];
  snprintf(path, sizeof path, "%s/bin.go", dir);
  FILE *f = fopen(path, "w");
  CHECK(f != NULL);
  fwrite("package x\0\1\2\3", 1, 13, f);
  fclose(f);
  snprintf(path, sizeof path, "%s/big.c", dir);
  f = fopen(path, "w");
  CHECK(f != NULL);
  for (int i = 0; i < 2000; i++) fputs("int x;\n", f);
  fclose(f);
  snprintf(path, sizeof path, "%s/broken.go", dir);
  f = fopen(path, "w");
  CHECK(f != NULL);
  fputs("package x\nvar m = map[string]func(){}\nfunc f( {\n", f);
  fclose(f);
  snprintf(cmd, sizeof cmd, "--format json --max-bytes 4096 %s", dir);
  run r = scan(cmd);
  CHECK_EQ(r.status, 1); /* TG101 still found in the broken file */
  CHECK_EQ(count(&r, "TS002", "bin.go", 1), 1);
  CHECK_EQ(count(&r, "TS002", "big.c", 1), 1);
  CHECK_EQ(count(&r, "TS001", "broken.go", 0), 1);
  CHECK_EQ(count(&r, "TG101", "broken.go", 2), 1);
  free(r.out);
  /* A file whose read fails (EIO): an error on stderr and exit status 2, also as root. */
  snprintf(path, sizeof path, "%s/unreadable.go", dir);
  CHECK_EQ(symlink("/proc/self/mem", path), 0);
  snprintf(cmd, sizeof cmd, "--format json %s go/multi_file", path);
  r = scan(cmd);
  CHECK_EQ(r.status, 2);
  CHECK_EQ(count(&r, "TG101", "multi_file/a.go", 4), 1); /* the rest is still scanned */
  free(r.out);
  /* A directory that cannot be read (only when not root: root reads anything). */
  snprintf(path, sizeof path, "%s/closed", dir);
  CHECK_EQ(mkdir(path, 0), 0);
  if (access(path, R_OK) != 0) {
    snprintf(cmd, sizeof cmd, "--format json %s", path);
    r = scan(cmd);
    CHECK_EQ(r.status, 2);
    free(r.out);
  }
  chmod(path, 0700);
  snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
  CHECK_EQ(system(cmd), 0);
}

/* ---- Scan v2: type facts, data flow, whole modules, GLib, CI formats, go vet. ---- */

/* Whether the finding of RULE at FILE:LINE has SEVERITY and a message containing TEXT. */
static int has(const run *r, const char *rule, const char *sev, const char *file, int line, const char *text) {
  if (r->out == NULL) return 0;
  char want[512];
  snprintf(want, sizeof want, "{\"rule\":\"%s\",\"severity\":\"%s\",\"file\":\"%s\",\"line\":%d,", rule, sev,
           file, line);
  for (const char *p = r->out; (p = strstr(p, want)) != NULL; p++) {
    const char *end = strchr(p, '\n');
    size_t n = end ? (size_t)(end - p) : strlen(p);
    char *l = strndup(p, n);
    int ok = l && (text == NULL || strstr(l, text) != NULL);
    free(l);
    if (ok) return 1;
  }
  return 0;
}

TEST(scan_v2_generic_registry_refcount_ttl) {
  run r = scan("--format json --fail-on note go/generic_registry");
  const char *f = "go/generic_registry/registry.go";
  /* map[string]FactoryFunc[T]: a generic func type as the value, never deleted. */
  CHECK(has(&r, "TG102", "error", f, 24, "'Registry.factories'"));
  CHECK(has(&r, "TG103", "warning", f, 38, "'RegisterFactory'"));
  CHECK_EQ(count(&r, "TG102", f, 25), 0); /* onExpire: OffExpire swap-removes */
  CHECK_EQ(count(&r, "TG103", f, 44), 0);
  CHECK_EQ(count(&r, "TG102", f, 23), 0); /* entries hold structs, not funcs */
  /* c, err := dial(addr): a pointer, from dial's result type. */
  CHECK(has(&r, "TG104", "error", f, 124, "captures c (pointer)"));
  CHECK(has(&r, "TG104", "note", f, 128, "captures addr (scalar)"));
  CHECK_EQ(r.status, 1);
  free(r.out);
}

TEST(scan_v2_generic_emitter_on_off) {
  run r = scan("--format json --fail-on note go/generic_emitter");
  const char *f = "go/generic_emitter/emitter.go";
  CHECK_EQ(count(&r, "TG102", f, 12), 0); /* listeners[T]: Off re-slices */
  CHECK_EQ(count(&r, "TG103", f, 17), 0);
  CHECK(has(&r, "TG102", "error", f, 45, "'Broadcaster.hooks'")); /* map[uint64]Handler[T] */
  CHECK(has(&r, "TG103", "warning", f, 48, "'Subscribe'"));
  CHECK(has(&r, "TG104", "error", f, 73, "captures s (pointer)")); /* s := newSession(user) */
  CHECK(has(&r, "TG104", "note", f, 75, "captures count (scalar)"));
  free(r.out);
}

TEST(scan_v2_inline_struct_hook_table) {
  run r = scan("--format json --fail-on note go/inline_hooks");
  const char *f = "go/inline_hooks/cache.go";
  /* c.events.eviction.fns: an inline struct's field, told apart from insertion.fns. */
  CHECK(has(&r, "TG102", "error", f, 22, "'Cache.events.eviction.fns'"));
  CHECK_EQ(count(&r, "TG102", f, 19), 0); /* insertion.fns: the cancel func deletes */
  CHECK(has(&r, "TG103", "warning", f, 40, "'OnEviction'"));
  CHECK_EQ(count(&r, "TG103", f, 27), 0);
  CHECK(has(&r, "TG104", "error", f, 32, "captures fn (func)"));
  CHECK(has(&r, "TG102", "error", f, 50, "'hooks.before'")); /* a package-level inline struct */
  CHECK_EQ(count(&r, "TG102", f, 51), 0);                      /* hooks.after is reset */
  CHECK(has(&r, "TG103", "warning", f, 54, "'Before' stores its func parameter"));
  CHECK_EQ(count(&r, "TG103", f, 56), 0);
  free(r.out);
}

TEST(scan_v2_data_flow) {
  run r = scan("--format json --fail-on note go/dataflow");
  const char *f = "go/dataflow/router.go";
  CHECK(has(&r, "TG102", "error", f, 14, "'Router.routes'")); /* map[K]map[K2]Handler */
  CHECK(has(&r, "TG102", "error", f, 15, "'Router.tbl'"));    /* m := rt.tbl[k]; m[tag] = fn */
  CHECK_EQ(count(&r, "TG102", f, 16), 0); /* swap-remove, then re-slice */
  CHECK_EQ(count(&r, "TG102", f, 17), 0); /* the slot set to nil */
  CHECK_EQ(count(&r, "TG102", f, 18), 0); /* slices.Delete */
  CHECK_EQ(count(&r, "TG102", f, 19), 0); /* maps.DeleteFunc */
  CHECK(has(&r, "TG103", "warning", f, 33, "'Tag' stores its func parameter in func map 'tbl'"));
  CHECK(has(&r, "TG103", "warning", f, 80, "'Mount' stores its func parameter in func map 'routes' (through 'Handle')"));
  /* m[k] = wrap(fn): the helper's closure, reported at the call site, naming the helper. */
  CHECK(has(&r, "TG104", "error", f, 81, "the closure made by 'withLogging'"));
  CHECK(has(&r, "TG104", "error", f, 81, "captures h (Handler: func)"));
  CHECK(has(&r, "TG104", "note", f, 82, "the closure made by 'constant'"));
  /* Types from calls: a constructor, x, err := f(), r.Context() from the table. */
  CHECK(has(&r, "TG104", "error", f, 97, "captures st (pointer)"));
  CHECK(has(&r, "TG104", "error", f, 103, "captures ctx (Context: interface), st2 (pointer)"));
  CHECK(has(&r, "TG104", "note", f, 105, "captures n (scalar)"));
  /* Unknown stays unknown, and says so. */
  CHECK(has(&r, "TG104", "note", f, 107, "captures x (of a type not known here)"));
  free(r.out);
}

TEST(scan_v2_module_of_three_packages) {
  run r = scan("--format json --fail-on note gomod");
  CHECK(has(&r, "TG103", "warning", "gomod/registry/registry.go", 18, "'Add' stores its func parameter"));
  CHECK(has(&r, "TG102", "error", "gomod/registry/registry.go", 11, "'hooks'"));
  CHECK_EQ(count(&r, "TG102", "gomod/registry/registry.go", 12), 0); /* once: Forget deletes */
  CHECK_EQ(count(&r, "TG102", "gomod/registry/registry.go", 13), 0); /* subs: the cancel func */
  CHECK(has(&r, "TG103", "warning", "gomod/app/app.go", 16, "(through 'Add')"));
  CHECK(has(&r, "TG103", "warning", "gomod/app/app.go", 19, "'Use' stores its func parameter"));
  CHECK(has(&r, "TG104", "error", "gomod/app/app.go", 26, "ctx (Context: interface), r (pointer)"));
  CHECK(has(&r, "TG104", "error", "gomod/plugins/plugins.go", 20, "through Register captures st (pointer)"));
  CHECK_EQ(count(&r, "TG101", "gen.go", 0), 0); /* //go:build ignore */
  CHECK(strstr(r.out, "\"summary\":{\"files\":3,\"skipped\":1,") != NULL);
  free(r.out);
  /* One package alone: the module packages it imports are read for their facts. */
  r = scan("--format json gomod/plugins");
  CHECK(has(&r, "TG104", "error", "gomod/plugins/plugins.go", 20, "through Register captures st (pointer)"));
  CHECK_EQ(count(&r, "TG102", "registry.go", 0), 0); /* context only: not reported */
  CHECK(strstr(r.out, "\"summary\":{\"files\":1,\"skipped\":0,") != NULL);
  free(r.out);
  r = scan("--format json --no-follow gomod/plugins");
  CHECK_EQ(total(&r), 0);
  free(r.out);
}

TEST(scan_v2_gtk_signals_sources_member_tables) {
  run r = scan("--format json c/gtk_app");
  const char *f = "c/gtk_app/app_window.c";
  CHECK(has(&r, "TC203", "warning", f, 19, "'plugins.callbacks'"));
  CHECK_EQ(count(&r, "TC203", f, 25), 0); /* shutdown_hooks: compacted */
  CHECK(has(&r, "TC203", "warning", f, 109, "'listeners.fns'"));
  CHECK_EQ(count(&r, "TC203", f, 110), 0); /* spare_listeners: memset */
  CHECK_EQ(count(&r, "TC202", f, 83), 0);  /* g_clear_signal_handler of its id */
  CHECK(has(&r, "TC202", "warning", f, 84, "'on_changed'")); /* the id is kept, never used */
  CHECK_EQ(count(&r, "TC202", f, 85), 0); /* disconnect_by_func(instance, callback) */
  CHECK(has(&r, "TC202", "warning", f, 86, "'on_theme_changed'")); /* by_data names other data */
  CHECK_EQ(count(&r, "TC202", f, 87), 0); /* disconnect_by_data */
  CHECK_EQ(count(&r, "TC202", f, 88), 0); /* g_signal_connect_object */
  CHECK_EQ(count(&r, "TC202", f, 89), 0); /* g_clear_handle_id(&id, g_source_remove) */
  CHECK(has(&r, "TC202", "warning", f, 90, "source calling 'on_blink' is never removed"));
  CHECK_EQ(count(&r, "TC202", f, 91), 0); /* returns G_SOURCE_REMOVE */
  CHECK_EQ(count(&r, "TC202", f, 92), 0); /* returns FALSE on one path */
  CHECK(has(&r, "TC202", "warning", f, 93, "g_io_add_watch source calling 'on_socket_ready'"));
  CHECK_EQ(total(&r), 6);
  free(r.out);
}

/* A scratch copy of a fixture directory; returns the directory (static storage). */
static const char *scratch_copy(const char *fixture) {
  static char dir[64];
  snprintf(dir, sizeof dir, "/tmp/tether-scan2-XXXXXX");
  if (mkdtemp(dir) == NULL) return NULL;
  char cmd[512];
  snprintf(cmd, sizeof cmd, "cp -r %s/%s/. %s/", FIX, fixture, dir);
  return system(cmd) == 0 ? dir : NULL;
}

static void remove_dir(const char *dir) {
  char cmd[256];
  snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
  if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", dir);
}

TEST(scan_v2_baseline_survives_moved_lines) {
  const char *d = scratch_copy("go/generic_emitter");
  CHECK(d != NULL);
  char args[1024];
  snprintf(args, sizeof args, "--write-baseline %s/base.json %s", d, d);
  run r = scan(args);
  CHECK_EQ(r.status, 0); /* writing a baseline is not a failed check */
  free(r.out);
  /* Lines above the findings move: everything is still in the baseline. */
  char cmd[1024];
  snprintf(cmd, sizeof cmd, "sed -i '1i // moved\\n// moved again\\n' %s/emitter.go", d);
  CHECK_EQ(system(cmd), 0);
  snprintf(args, sizeof args, "--format json --baseline %s/base.json %s", d, d);
  r = scan(args);
  CHECK_EQ(r.status, 0);
  CHECK_EQ(total(&r), 0);
  CHECK(strstr(r.out, "\"baselined\":5") != NULL);
  free(r.out);
  /* A new leak is reported, and only it. */
  snprintf(cmd, sizeof cmd,
           "printf 'var extra = map[string]func(){}\\nfunc Extra(k string, f func()) { extra[k] = f }\\n' >> "
           "%s/emitter.go", d);
  CHECK_EQ(system(cmd), 0);
  r = scan(args);
  CHECK_EQ(r.status, 1);
  CHECK_EQ(count(&r, "TG101", "emitter.go", 80), 1);
  CHECK_EQ(count(&r, "TG102", "emitter.go", 80), 1);
  CHECK_EQ(count(&r, "TG103", "emitter.go", 81), 1);
  CHECK_EQ(count(&r, "TG102", "emitter.go", 48), 0); /* the moved one stays accepted */
  CHECK_EQ(total(&r), 4); /* and a TG105 note */
  free(r.out);
  /* Bad baselines: a one-line error and exit status 2. */
  snprintf(cmd, sizeof cmd, "printf '{\"findings\":[' > %s/bad.json; printf '{\"x\":1}' > %s/other.json", d, d);
  CHECK_EQ(system(cmd), 0);
  const char *bad[] = {"bad.json", "other.json", "missing.json"};
  for (int i = 0; i < 3; i++) {
    char line[256];
    snprintf(cmd, sizeof cmd, "%s scan --baseline %s/%s %s 2>&1 >/dev/null | head -c 255", TETHER_BIN, d, bad[i], d);
    cli_shell_buf(cmd, line, sizeof line);
    CHECK(strstr(line, bad[i]) != NULL);
    CHECK(strchr(line, '\n') == strrchr(line, '\n')); /* one line */
    snprintf(args, sizeof args, "--baseline %s/%s %s", d, bad[i], d);
    r = scan(args);
    CHECK_EQ(r.status, 2);
    free(r.out);
  }
  snprintf(args, sizeof args, "--baseline %s/x.json --write-baseline %s/x.json %s", d, d, d);
  r = scan(args);
  CHECK_EQ(r.status, 2);
  free(r.out);
  remove_dir(d);
}

/* The TG102 result's primaryLocationLineHash in a SARIF document. */
static int tg102_print(const char *sarif, char out[64]) {
  const char *p = sarif ? strstr(sarif, "{\"ruleId\":\"TG102\"") : NULL;
  if (p) p = strstr(p, "\"primaryLocationLineHash\":\"");
  return p && sscanf(p + strlen("\"primaryLocationLineHash\":\""), "%63[^\"]", out) == 1;
}

TEST(scan_v2_sarif_partial_fingerprints) {
  const char *d = scratch_copy("go/article_register");
  CHECK(d != NULL);
  char args[256], cmd[512], one[64], two[64];
  snprintf(args, sizeof args, "--format sarif %s", d);
  run r = scan(args);
  CHECK(strstr(r.out, "\"partialFingerprints\":{\"primaryLocationLineHash\":\"") != NULL);
  CHECK(tg102_print(r.out, one));
  CHECK_EQ(strlen(one), 18); /* 16 hex digits, ':', the occurrence */
  CHECK(one[16] == ':' && one[17] == '1');
  CHECK(strstr(r.out, "\"startLine\":6,") != NULL);
  free(r.out);
  /* Lines move and the declaration is re-indented: the same print. */
  snprintf(cmd, sizeof cmd, "sed -i -e '1i // a\\n// b' -e 's/^var handlers = /var  handlers =\\t/' %s/handlers.go", d);
  CHECK_EQ(system(cmd), 0);
  r = scan(args);
  CHECK(strstr(r.out, "\"startLine\":8,") != NULL); /* it moved */
  CHECK(tg102_print(r.out, two));
  CHECK_STREQ(one, two);
  free(r.out);
  /* A changed line is a new finding. */
  snprintf(cmd, sizeof cmd, "sed -i 's/^var  handlers =/var handlers2 =/; s/handlers\\[/handlers2[/' %s/handlers.go", d);
  CHECK_EQ(system(cmd), 0);
  r = scan(args);
  CHECK(tg102_print(r.out, two));
  CHECK(strcmp(one, two) != 0);
  free(r.out);
  remove_dir(d);
}

TEST(scan_v2_github_annotations) {
  run r = scan("--format github go/article_register");
  CHECK(strstr(r.out, "::error file=go/article_register/handlers.go,line=6,col=5,title=TG102::func map "
                      "package-level variable 'handlers' is written") != NULL);
  CHECK(strstr(r.out, "::warning file=go/article_register/handlers.go,line=6,col=5,title=TG101::") != NULL);
  CHECK(strstr(r.out, "::notice file=go/article_register/handlers.go,line=9,col=2,title=TG105::") != NULL);
  CHECK(strstr(r.out, " (fix: ") != NULL);
  CHECK_EQ(r.status, 1);
  free(r.out);
  /* Properties escape ',' and ':' (and data escapes '%', CR, LF). */
  const char *d = scratch_copy("go/article_register");
  CHECK(d != NULL);
  char cmd[512], args[256];
  snprintf(cmd, sizeof cmd, "mv %s/handlers.go '%s/a,b:c%%.go'", d, d);
  CHECK_EQ(system(cmd), 0);
  snprintf(args, sizeof args, "--format github %s", d);
  r = scan(args);
  CHECK(strstr(r.out, "/a%2Cb%3Ac%25.go,line=6,") != NULL);
  free(r.out);
  remove_dir(d);
}

TEST(scan_v2_vet_protocol_without_go) {
  char buf[8192];
  char cmd[2048];
  snprintf(cmd, sizeof cmd, "%s -V=full", TETHER_BIN);
  CHECK_EQ(cli_shell_buf(cmd, buf, sizeof buf), 0);
  CHECK(strncmp(buf, "tether version devel ", 21) == 0);
  CHECK(strstr(buf, " buildID=") != NULL);
  snprintf(cmd, sizeof cmd, "%s -flags", TETHER_BIN);
  CHECK_EQ(cli_shell_buf(cmd, buf, sizeof buf), 0);
  CHECK(buf[0] == '[');
  CHECK(strstr(buf, "\"Name\": \"fail-on\",\n\t\t\"Bool\": false") != NULL);
  CHECK(strstr(buf, "\"Name\": \"json\",\n\t\t\"Bool\": true") != NULL);
  CHECK(strstr(buf, "\"Name\": \"TG104\",\n\t\t\"Bool\": true") != NULL);
  /* A package configuration as cmd/go writes it. */
  char dir[] = "/tmp/tether-vet-XXXXXX";
  CHECK(mkdtemp(dir) != NULL);
  char cfg[256], vetx[256];
  snprintf(cfg, sizeof cfg, "%s/vet.cfg", dir);
  snprintf(vetx, sizeof vetx, "%s/vet.out", dir);
  FILE *f = fopen(cfg, "w");
  CHECK(f != NULL);
  fprintf(f, "{\n\t\"ID\": \"closure\",\n\t\"ImportPath\": \"closure\",\n\t\"GoFiles\": [\n\t\t\"%s/go/article_closure/closure.go\"\n\t],\n"
             "\t\"VetxOnly\": false,\n\t\"VetxOutput\": \"%s\"\n}\n", FIX, vetx);
  fclose(f);
  snprintf(cmd, sizeof cmd, "%s %s 2>&1", TETHER_BIN, cfg);
  CHECK_EQ(cli_shell_buf(cmd, buf, sizeof buf), 1);
  CHECK(strstr(buf, "/go/article_closure/closure.go:16:19: func literal stored in func map 'handlers' captures "
                    "data (pointer)") != NULL);
  CHECK(access(vetx, F_OK) == 0); /* the facts file go caches */
  snprintf(cmd, sizeof cmd, "%s -json %s", TETHER_BIN, cfg);
  CHECK_EQ(cli_shell_buf(cmd, buf, sizeof buf), 0);
  CHECK(strstr(buf, "{\n\t\"closure\": {\n\t\t\"TG101\": [\n\t\t\t{\n\t\t\t\t\"posn\": \"") != NULL);
  CHECK(strstr(buf, "\n\t\t\"TG104\": [") != NULL);
  snprintf(cmd, sizeof cmd, "%s -fail-on=error -TG104=false %s 2>&1", TETHER_BIN, cfg);
  CHECK_EQ(cli_shell_buf(cmd, buf, sizeof buf), 0); /* nothing left to report */
  CHECK_EQ(strlen(buf), 0);
  /* A dependency, for facts only: nothing printed, exit 0, the facts file written. */
  remove(vetx);
  snprintf(cmd, sizeof cmd, "sed -i 's/\"VetxOnly\": false/\"VetxOnly\": true/' %s && %s %s 2>&1", cfg, TETHER_BIN, cfg);
  CHECK_EQ(cli_shell_buf(cmd, buf, sizeof buf), 0);
  CHECK_EQ(strlen(buf), 0);
  CHECK(access(vetx, F_OK) == 0);
  /* Bad configurations: one line, exit status 1 (as vet's own tools do). */
  f = fopen(cfg, "w");
  CHECK(f != NULL);
  fputs("{\"GoFiles\": [", f);
  fclose(f);
  snprintf(cmd, sizeof cmd, "%s %s 2>&1", TETHER_BIN, cfg);
  CHECK_EQ(cli_shell_buf(cmd, buf, sizeof buf), 1);
  CHECK(strstr(buf, "cannot decode JSON config file") != NULL);
  f = fopen(cfg, "w");
  CHECK(f != NULL);
  fputs("{\"ImportPath\": \"x\", \"GoFiles\": []}", f);
  fclose(f);
  CHECK_EQ(cli_shell_buf(cmd, buf, sizeof buf), 1);
  CHECK(strstr(buf, "package has no files: x") != NULL);
  snprintf(cmd, sizeof cmd, "%s %s/missing.cfg 2>&1", TETHER_BIN, dir);
  CHECK_EQ(cli_shell_buf(cmd, buf, sizeof buf), 1);
  /* Usage errors. */
  snprintf(cmd, sizeof cmd, "%s vet 2>&1", TETHER_BIN);
  CHECK_EQ(cli_shell_buf(cmd, buf, sizeof buf), 2);
  snprintf(cmd, sizeof cmd, "%s vet -V=short x.cfg 2>&1", TETHER_BIN);
  CHECK_EQ(cli_shell_buf(cmd, buf, sizeof buf), 2);
  snprintf(cmd, sizeof cmd, "%s vet -nosuch %s 2>&1", TETHER_BIN, cfg);
  CHECK_EQ(cli_shell_buf(cmd, buf, sizeof buf), 2);
  CHECK(strstr(buf, "flag provided but not defined: -nosuch") != NULL);
  remove_dir(dir);
}
