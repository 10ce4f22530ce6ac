/* Baselines for `tether scan`: the findings a project has accepted, kept in a
 * JSON file so that CI reports only new ones. An entry is a rule and a
 * fingerprint (scan_fingerprint: the rule, the file and the source line without
 * white space, plus an occurrence number among equal prints in that file), so
 * an accepted finding stays accepted when lines above it move. Each entry
 * absorbs one finding. The file also carries each finding's file, line and
 * message for people reading it; only rule and fingerprint are matched. */
#include "scan.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/cli.h"
#include "common/json.h"

#define BASELINE_MAX_BYTES (256u << 20)

typedef struct entry {
  int rule;
  char fp[40];
  int used;
} entry;

struct scan_baseline {
  entry *v;
  size_t n;
};

static int by_key(const void *a, const void *b) {
  const entry *x = a, *y = b;
  if (x->rule != y->rule) return x->rule - y->rule;
  return strcmp(x->fp, y->fp);
}

scan_baseline *scan_baseline_read(const char *path, char *err, size_t errlen) {
  unsigned char *data = NULL;
  size_t len = 0;
  if (tcli_read_file(path, BASELINE_MAX_BYTES, &data, &len) != 0) {
    snprintf(err, errlen, "%s: %s", path,
             errno == EFBIG ? "baseline larger than 256 MiB" : strerror(errno));
    return NULL;
  }
  char why[256];
  tcli_json *doc = tcli_json_parse((const char *)data, len, why, sizeof why);
  free(data);
  if (doc == NULL) {
    snprintf(err, errlen, "%s: not a baseline (invalid JSON, %s)", path, why);
    return NULL;
  }
  const tcli_json *ver = tcli_json_get(doc, "baseline"), *list = tcli_json_get(doc, "findings");
  if (ver == NULL || ver->type != TJ_NUMBER || list == NULL || list->type != TJ_ARRAY) {
    snprintf(err, errlen,
             "%s: not a tether scan baseline (no \"baseline\" version and \"findings\" list)",
             path);
    tcli_json_free(doc);
    return NULL;
  }
  if (ver->number != 1) {
    snprintf(err, errlen, "%s: baseline version %g is not supported (this tether reads version 1)",
             path, ver->number);
    tcli_json_free(doc);
    return NULL;
  }
  scan_baseline *b = calloc(1, sizeof *b);
  if (b) b->v = calloc(list->n + 1, sizeof *b->v);
  if (b == NULL || b->v == NULL) {
    snprintf(err, errlen, "%s: out of memory", path);
    free(b);
    tcli_json_free(doc);
    return NULL;
  }
  for (size_t i = 0; i < list->n; i++) {
    const char *rule = tcli_json_get_string(list->items[i], "rule");
    const char *fp = tcli_json_get_string(list->items[i], "fingerprint");
    int r = rule ? scan_rule_by_id(rule) : -1;
    if (r < 0 || fp == NULL || strlen(fp) >= sizeof b->v[0].fp) {
      snprintf(err, errlen,
               "%s: finding %zu of the baseline has no valid \"rule\" and \"fingerprint\"", path,
               i + 1);
      scan_baseline_free(b);
      tcli_json_free(doc);
      return NULL;
    }
    b->v[b->n].rule = r;
    strcpy(b->v[b->n].fp, fp);
    b->n++;
  }
  tcli_json_free(doc);
  if (b->n > 1) qsort(b->v, b->n, sizeof *b->v, by_key);
  return b;
}

size_t scan_baseline_filter(scan_baseline *b, scan_finding **v, size_t n) {
  uint32_t *occ = malloc((n + 1) * sizeof *occ);
  if (occ == NULL) return n;
  scan_occurrences(v, n, occ);
  for (size_t i = 0; i < b->n; i++) b->v[i].used = 0;
  size_t kept = 0;
  for (size_t i = 0; i < n; i++) {
    entry key;
    key.rule = (int)v[i]->rule;
    scan_fingerprint_text(v[i], occ[i], key.fp);
    entry *hit = b->n ? bsearch(&key, b->v, b->n, sizeof *b->v, by_key) : NULL;
    while (hit && hit > b->v && by_key(hit - 1, &key) == 0) hit--;
    while (hit && hit < b->v + b->n && by_key(hit, &key) == 0 && hit->used) hit++;
    if (hit && hit < b->v + b->n && by_key(hit, &key) == 0) {
      hit->used = 1;
      continue;
    }
    v[kept++] = v[i];
  }
  free(occ);
  return kept;
}

void scan_baseline_free(scan_baseline *b) {
  if (b == NULL) return;
  free(b->v);
  free(b);
}

int scan_baseline_write(const char *path, scan_finding *const *v, size_t n) {
  uint32_t *occ = malloc((n + 1) * sizeof *occ);
  if (occ == NULL) {
    errno = ENOMEM;
    return -1;
  }
  scan_occurrences(v, n, occ);
  char *tmp = NULL;
  if (asprintf(&tmp, "%s.tmp", path) < 0) {
    free(occ);
    errno = ENOMEM;
    return -1;
  }
  FILE *out = fopen(tmp, "w");
  if (out == NULL) {
    int e = errno;
    free(tmp);
    free(occ);
    errno = e;
    return -1;
  }
  fprintf(out, "{\"tool\":\"tether scan\",\"version\":\"%s\",\"baseline\":1,\n\"findings\":[",
          TETHER_VERSION);
  for (size_t i = 0; i < n; i++) {
    char fp[40];
    scan_fingerprint_text(v[i], occ[i], fp);
    const char *file = v[i]->file;
    while (file[0] == '.' && file[1] == '/') file += 2;
    fprintf(out, "%s\n{\"rule\":\"%s\",\"fingerprint\":\"%s\",\"file\":", i ? "," : "",
            scan_rules[v[i]->rule].id, fp);
    tcli_json_string(out, file);
    fprintf(out, ",\"line\":%u,\"message\":", v[i]->line);
    tcli_json_string(out, v[i]->message);
    fputc('}', out);
  }
  fputs("\n]}\n", out);
  free(occ);
  int bad = ferror(out);
  if (fclose(out) != 0) bad = 1;
  if (bad || rename(tmp, path) != 0) {
    int e = errno ? errno : EIO;
    remove(tmp);
    free(tmp);
    errno = e;
    return -1;
  }
  free(tmp);
  return 0;
}
