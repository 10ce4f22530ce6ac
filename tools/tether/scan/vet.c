/* `go vet -vettool=$(command -v tether) ./...`: the vet tool protocol, a second
 * front-end of the scan engine. cmd/go runs the tool three ways: `-V=full` (a
 * version line whose buildID keys go's cache), `-flags` (a JSON list of the
 * flags it may pass on), and once per package `[FLAGS] DIR/vet.cfg`, a JSON file
 * naming the package's Go files, import path, and VetxOnly/VetxOutput (the
 * facts file for dependants; vet writes one even when empty, so go can cache
 * dependency runs). For a package this front-end asks scan_run for the Go
 * files' findings (with the module packages they import read for facts), and
 * prints those at or above -fail-on to stderr as `file:line:col: message
 * [RULE]`, exiting 1 when there are any, as vet's own analyzers do; with -json
 * it prints vet's JSON tree to stdout and exits 0. */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "common/cli.h"
#include "common/json.h"
#include "scan.h"

#define CFG_MAX_BYTES (64u << 20)

typedef struct vet {
  scan_options o;
  scan_severity fail_on;
  int json, context;
  int8_t rule_flag[SCAN_RULE_COUNT]; /* -RULE / -RULE=false: 1, 0; -1 not given */
  uint32_t enable, disable;
  struct {
    const char **v;
    size_t n, cap;
  } regnames;
  char *regnames_buf;
} vet;

/* ---- -V=full and -flags. ---- */

/* A 128-bit content hash of the running executable (two FNV-1a lanes), so the
 * build ID changes whenever the tool does. */
static int exe_hash(const char *argv0, char out[33]) {
  FILE *f = fopen("/proc/self/exe", "rb");
  if (f == NULL && argv0) f = fopen(argv0, "rb");
  if (f == NULL) return -1;
  uint64_t a = 0xcbf29ce484222325ull, b = 0x84222325cbf29ce4ull;
  unsigned char buf[1 << 15];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, f)) > 0)
    for (size_t i = 0; i < n; i++) {
      a = (a ^ buf[i]) * 0x100000001b3ull;
      b = (b ^ buf[i]) * 0x00000100000001b3ull + 0x9e3779b97f4a7c15ull;
    }
  int bad = ferror(f);
  fclose(f);
  if (bad) return -1;
  snprintf(out, 33, "%016llx%016llx", (unsigned long long)a, (unsigned long long)b);
  return 0;
}

static int print_version(const char *argv0) {
  char id[33];
  if (exe_hash(argv0, id) != 0) {
    fprintf(stderr, "tether: cannot read its own executable: %s\n", strerror(errno));
    return 1;
  }
  /* cmd/go takes the last field of a "devel" version line as the tool's ID. */
  printf("tether version devel %s buildID=%s\n", TETHER_VERSION, id);
  return 0;
}

typedef struct flag_info {
  const char *name;
  int is_bool;
  const char *usage;
} flag_info;

static const flag_info vet_flags[] = {
    {"V", 1, "print version and exit"},
    {"c", 0, "display offending line with this many lines of context"},
    {"disable", 0, "do not run these rules (comma-separated ids)"},
    {"enable", 0, "run only these rules (comma-separated ids)"},
    {"fail-on", 0,
     "report, and fail on, findings at or above this severity: note, warning (default) or error"},
    {"flags", 1, "print the flags in JSON"},
    {"json", 1, "emit JSON output"},
    {"register-names", 0,
     "more Register-like name patterns for TG103 (comma-separated, * wildcard)"},
};

static int print_flags(void) {
  fputs("[", stdout);
  size_t nf = sizeof vet_flags / sizeof vet_flags[0];
  for (size_t i = 0; i < nf; i++) {
    printf("%s\n\t{\n\t\t\"Name\": \"%s\",\n\t\t\"Bool\": %s,\n\t\t\"Usage\": ", i ? "," : "",
           vet_flags[i].name, vet_flags[i].is_bool ? "true" : "false");
    tcli_json_string(stdout, vet_flags[i].usage);
    fputs("\n\t}", stdout);
  }
  for (int r = 0; r < SCAN_RULE_COUNT; r++) {
    char usage[160];
    snprintf(usage, sizeof usage, "enable %s: %s", scan_rules[r].id, scan_rules[r].summary);
    printf(",\n\t{\n\t\t\"Name\": \"%s\",\n\t\t\"Bool\": true,\n\t\t\"Usage\": ", scan_rules[r].id);
    tcli_json_string(stdout, usage);
    fputs("\n\t}", stdout);
  }
  fputs("\n]\n", stdout);
  return 0;
}

/* ---- Flags, the way Go's flag package reads them. ---- */

__attribute__((format(printf, 1, 2))) static int vet_usage(const char *fmt, ...) {
  va_list ap;
  fputs("tether vet: ", stderr);
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fputs(
      "\nusage: go vet -vettool=$(command -v tether) [-json] [-c=N] [-fail-on=SEVERITY] "
      "[-enable=RULES] "
      "[-disable=RULES] [-RULE] [packages]\n",
      stderr);
  return TCLI_USAGE;
}

static int parse_bool(const char *v, int *out) {
  if (v == NULL || strcmp(v, "true") == 0 || strcmp(v, "1") == 0 || strcmp(v, "t") == 0 ||
      strcmp(v, "T") == 0 || strcmp(v, "TRUE") == 0 || strcmp(v, "True") == 0)
    *out = 1;
  else if (strcmp(v, "false") == 0 || strcmp(v, "0") == 0 || strcmp(v, "f") == 0 ||
           strcmp(v, "F") == 0 || strcmp(v, "FALSE") == 0 || strcmp(v, "False") == 0)
    *out = 0;
  else
    return 0;
  return 1;
}

static int parse_rule_list(const char *list, uint32_t *mask) {
  char *copy = strdup(list), *save = NULL;
  if (copy == NULL) return 0;
  int ok = 1;
  for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
    int r = scan_rule_by_id(t);
    if (r < 0)
      ok = 0;
    else
      *mask |= 1u << r;
  }
  free(copy);
  return ok;
}

enum { ACT_RUN, ACT_VERSION, ACT_FLAGS };

/* Parses flags from ARGV[*I]; returns -1 to go on, else an exit status. */
static int parse_flags(vet *v, int argc, char **argv, int *i, int *action) {
  for (; *i < argc; (*i)++) {
    const char *a = argv[*i];
    if (strcmp(a, "--") == 0) {
      (*i)++;
      break;
    }
    if (a[0] != '-' || a[1] == 0) break;
    const char *name = a + (a[1] == '-' ? 2 : 1);
    const char *eq = strchr(name, '=');
    char key[64];
    size_t kl = eq ? (size_t)(eq - name) : strlen(name);
    if (kl == 0 || kl >= sizeof key) return vet_usage("bad flag syntax: %s", a);
    memcpy(key, name, kl);
    key[kl] = 0;
    const char *val = eq ? eq + 1 : NULL;
    int b, rule = scan_rule_by_id(key);
    if (strcmp(key, "V") == 0) {
      if (val == NULL || strcmp(val, "full") != 0)
        return vet_usage("unsupported flag value: %s (only -V=full)", a);
      *action = ACT_VERSION;
      return -1;
    }
    if (strcmp(key, "flags") == 0 || strcmp(key, "json") == 0 || rule >= 0) {
      if (!parse_bool(val, &b)) return vet_usage("invalid boolean flag value: %s", a);
      if (strcmp(key, "flags") == 0) {
        if (b) *action = ACT_FLAGS;
      } else if (strcmp(key, "json") == 0) {
        v->json = b;
      } else {
        v->rule_flag[rule] = (int8_t)b;
      }
      continue;
    }
    int known = strcmp(key, "c") == 0 || strcmp(key, "fail-on") == 0 ||
                strcmp(key, "enable") == 0 || strcmp(key, "disable") == 0 ||
                strcmp(key, "register-names") == 0;
    if (!known) return vet_usage("flag provided but not defined: %s", a);
    if (val == NULL) {
      if (*i + 1 >= argc) return vet_usage("flag needs an argument: %s", a);
      val = argv[++(*i)];
    }
    if (strcmp(key, "c") == 0) {
      char *end = NULL;
      long n = strtol(val, &end, 10);
      if (end == val || *end || n < 0 || n > 1000)
        return vet_usage("-c wants a number from 0 to 1000, not %s", val);
      v->context = (int)n;
    } else if (strcmp(key, "fail-on") == 0) {
      if (strcmp(val, "note") == 0)
        v->fail_on = SCAN_NOTE;
      else if (strcmp(val, "warning") == 0)
        v->fail_on = SCAN_WARNING;
      else if (strcmp(val, "error") == 0)
        v->fail_on = SCAN_ERROR;
      else
        return vet_usage("-fail-on must be note, warning or error, not %s", val);
    } else if (strcmp(key, "enable") == 0 || strcmp(key, "disable") == 0) {
      if (!parse_rule_list(val, key[0] == 'e' ? &v->enable : &v->disable))
        return vet_usage("unknown rule in %s", val);
    } else {
      free(v->regnames_buf);
      v->regnames_buf = strdup(val);
      char *save = NULL;
      v->regnames.n = 0;
      for (char *t = v->regnames_buf ? strtok_r(v->regnames_buf, ",", &save) : NULL; t;
           t = strtok_r(NULL, ",", &save)) {
        SCAN_RESERVE(v->regnames);
        v->regnames.v[v->regnames.n++] = t;
      }
    }
  }
  return -1;
}

/* The rules to run: -enable/-disable lists, then vet-style -RULE flags (any
 * -RULE=true runs only those; otherwise -RULE=false drops them). */
static void apply_rules(vet *v) {
  uint32_t all = (1u << SCAN_RULE_COUNT) - 1, mask = v->enable ? v->enable : all;
  int any_true = 0;
  for (int r = 0; r < SCAN_RULE_COUNT; r++) any_true |= v->rule_flag[r] == 1;
  if (any_true) {
    mask = 0;
    for (int r = 0; r < SCAN_RULE_COUNT; r++)
      if (v->rule_flag[r] == 1) mask |= 1u << r;
  }
  for (int r = 0; r < SCAN_RULE_COUNT; r++)
    if (v->rule_flag[r] == 0) mask &= ~(1u << r);
  v->o.enabled = mask & ~v->disable;
}

/* ---- One package. ---- */

static int write_vetx(const char *path) {
  if (path == NULL || path[0] == 0) return 0;
  FILE *f = fopen(path, "wb"); /* no facts: an empty file, which go caches */
  if (f == NULL || fclose(f) != 0) {
    fprintf(stderr, "tether: cannot write the facts file %s: %s\n", path, strerror(errno));
    return -1;
  }
  return 0;
}

static void print_context(const scan_finding *f, const scan_result *r, int context) {
  const scan_file *file = NULL;
  for (size_t i = 0; i < r->nfiles && file == NULL; i++)
    if (r->files[i].path == f->file) file = &r->files[i];
  if (file == NULL || file->data == NULL) return;
  const char *p = (const char *)file->data, *end = p + file->len;
  uint32_t from = f->line > (uint32_t)context ? f->line - (uint32_t)context : 1,
           to = f->line + (uint32_t)context;
  for (uint32_t line = 1; p < end && line <= to; line++) {
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    size_t n = (size_t)((nl ? nl : end) - p);
    if (line >= from) fprintf(stderr, "%u\t%.*s\n", line, (int)n, p);
    p = nl ? nl + 1 : end;
  }
}

static void print_json(const char *id, scan_finding **v, size_t n) {
  /* {"ID": {"RULE": [{"posn": "file:line:col", "message": "..."}, ...]}}, rules in table order. */
  printf("{\n");
  int first_rule = 1;
  if (n > 0) {
    fputs("\t", stdout);
    tcli_json_string(stdout, id);
    fputs(": {", stdout);
  }
  for (int r = 0; r < SCAN_RULE_COUNT && n > 0; r++) {
    int any = 0;
    for (size_t i = 0; i < n; i++) {
      if ((int)v[i]->rule != r) continue;
      if (!any) {
        printf("%s\n\t\t\"%s\": [", first_rule ? "" : ",", scan_rules[r].id);
        first_rule = 0;
      }
      char posn[4200];
      snprintf(posn, sizeof posn, "%s:%u:%u", v[i]->file, v[i]->line, v[i]->col);
      printf("%s\n\t\t\t{\n\t\t\t\t\"posn\": ", any ? "," : "");
      tcli_json_string(stdout, posn);
      fputs(",\n\t\t\t\t\"message\": ", stdout);
      tcli_json_string(stdout, v[i]->message);
      fputs("\n\t\t\t}", stdout);
      any = 1;
    }
    if (any) fputs("\n\t\t]", stdout);
  }
  if (n > 0) fputs("\n\t}\n", stdout);
  printf("}\n");
}

static int run_cfg(vet *v, const char *cfg_path) {
  unsigned char *data = NULL;
  size_t len = 0;
  if (tcli_read_file(cfg_path, CFG_MAX_BYTES, &data, &len) != 0) {
    fprintf(stderr, "tether: %s: %s\n", cfg_path, strerror(errno));
    return 1;
  }
  char err[256];
  tcli_json *cfg = tcli_json_parse((const char *)data, len, err, sizeof err);
  free(data);
  if (cfg == NULL || cfg->type != TJ_OBJECT) {
    fprintf(stderr, "tether: cannot decode JSON config file %s: %s\n", cfg_path,
            cfg ? "not an object" : err);
    tcli_json_free(cfg);
    return 1;
  }
  const tcli_json *files = tcli_json_get(cfg, "GoFiles"), *only = tcli_json_get(cfg, "VetxOnly");
  const char *id = tcli_json_get_string(cfg, "ID"), *ip = tcli_json_get_string(cfg, "ImportPath");
  if (id == NULL) id = ip ? ip : "";
  if (write_vetx(tcli_json_get_string(cfg, "VetxOutput")) != 0) {
    tcli_json_free(cfg);
    return 1;
  }
  if (only && only->type == TJ_BOOL && only->boolean) { /* a dependency, for its facts: none here */
    tcli_json_free(cfg);
    return 0;
  }
  if (files == NULL || files->type != TJ_ARRAY || files->n == 0) {
    fprintf(stderr, "tether: package has no files: %s\n", ip ? ip : cfg_path);
    tcli_json_free(cfg);
    return 1;
  }
  const char **paths = calloc(files->n, sizeof *paths);
  size_t np = 0;
  for (size_t i = 0; paths && i < files->n; i++)
    if (files->items[i]->type == TJ_STRING) paths[np++] = files->items[i]->string;
  scan_result r;
  int rc = 0;
  if (paths == NULL || np == 0 || scan_run(paths, np, &v->o, &r) != 0) {
    fprintf(stderr, "tether: %s: nothing to analyse\n", ip ? ip : cfg_path);
    free(paths);
    tcli_json_free(cfg);
    return 1;
  }
  for (size_t i = 0; i < r.nerrors; i++) fprintf(stderr, "tether: %s\n", r.errors[i]);
  size_t kept = 0;
  for (size_t i = 0; i < r.nfindings; i++)
    if (r.findings[i]->severity >= v->fail_on) r.findings[kept++] = r.findings[i];
  if (v->json) {
    print_json(id, r.findings, kept);
    fflush(stdout);
  } else {
    for (size_t i = 0; i < kept; i++) {
      const scan_finding *f = r.findings[i];
      fprintf(stderr, "%s:%u:%u: %s [%s]\n", f->file, f->line, f->col, f->message,
              scan_rules[f->rule].id);
      if (v->context > 0) print_context(f, &r, v->context);
    }
    rc = kept > 0 || r.input_error ? 1 : 0;
  }
  scan_result_free(&r);
  free(paths);
  tcli_json_free(cfg);
  return rc;
}

int tether_vet_invocation(int argc, char **argv) {
  if (argc < 2) return 0;
  const char *a = argv[1];
  if (strcmp(a, "-V=full") == 0 || strcmp(a, "--V=full") == 0 || strcmp(a, "-flags") == 0 ||
      strcmp(a, "--flags") == 0)
    return 1;
  size_t n = strlen(argv[argc - 1]);
  int cfg_last = n > 4 && strcmp(argv[argc - 1] + n - 4, ".cfg") == 0;
  return cfg_last && (a[0] == '-' || argc == 2);
}

int tether_cmd_vet(int argc, char **argv) {
  vet v;
  memset(&v, 0, sizeof v);
  scan_options_default(&v.o);
  v.o.include_tests = 1; /* go decides which files a package has */
  v.fail_on = SCAN_WARNING;
  memset(v.rule_flag, -1, sizeof v.rule_flag);
  int i = 1, action = ACT_RUN;
  if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
                    strcmp(argv[1], "help") == 0)) {
    printf(
        "usage: go vet -vettool=$(command -v tether) [flags] [packages]\n"
        "Runs tether scan's Go rules as a go vet tool; go vet passes the flags below on.\n");
    for (size_t k = 0; k < sizeof vet_flags / sizeof vet_flags[0]; k++)
      printf("  -%-16s %s\n", vet_flags[k].name, vet_flags[k].usage);
    printf(
        "  -RULE             run only the rules given this way (-TG102); -RULE=false skips one\n"
        "Exit status: 0 nothing reported, 1 findings or an unreadable configuration, 2 usage "
        "error.\n");
    return TCLI_OK;
  }
  int rc = parse_flags(&v, argc, argv, &i, &action);
  if (rc < 0) {
    if (action == ACT_VERSION)
      rc = print_version(argv[0]);
    else if (action == ACT_FLAGS)
      rc = print_flags();
    else if (i != argc - 1 || strlen(argv[i]) < 5 ||
             strcmp(argv[i] + strlen(argv[i]) - 4, ".cfg") != 0)
      rc = vet_usage(
          "%s",
          i < argc ? "give one go vet configuration file (DIR/vet.cfg): run it as go vet "
                     "-vettool=$(command -v tether) ./..., or use tether scan on files"
                   : "no configuration file: run it as go vet -vettool=$(command -v tether) ./...");
    else if (scan_languages_check() != 0)
      rc = 1;
    else {
      apply_rules(&v);
      if (v.regnames.n > 0) { /* the defaults plus these */
        size_t nr = v.o.nregister_names + v.regnames.n;
        const char **names = calloc(nr, sizeof *names);
        if (names) {
          memcpy(names, v.o.register_names, v.o.nregister_names * sizeof *names);
          memcpy(names + v.o.nregister_names, v.regnames.v, v.regnames.n * sizeof *names);
          v.o.register_names = names;
          v.o.nregister_names = nr;
        }
        rc = run_cfg(&v, argv[i]);
        free(names);
      } else {
        rc = run_cfg(&v, argv[i]);
      }
    }
  }
  free(v.regnames.v);
  free(v.regnames_buf);
  return rc;
}
