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
