/* Output of `tether scan`: gcc-style text with the source line and a caret, a
 * JSON document whose schema docs/scan.md documents (schema version 1), SARIF
 * 2.1.0 for GitHub code scanning (with partialFingerprints, so re-runs match up),
 * and GitHub Actions workflow annotations. The findings arrive sorted; nothing
 * here decides what is reported. */
#include "scan.h"

#include <stdlib.h>
#include <string.h>

#include "common/cli.h"

static const char *const sev_names[] = {"note", "warning", "error"};

static void text_one(FILE *out, const scan_finding *f, int color) {
  static const char *const sev_color[] = {"\033[1;36m", "\033[1;35m", "\033[1;31m"};
  const char *bold = color ? "\033[1m" : "", *reset = color ? "\033[0m" : "";
  fprintf(out, "%s%s:%u:%u:%s %s%s:%s %s [%s]\n", bold, f->file, f->line, f->col, reset,
          color ? sev_color[f->severity] : "", sev_names[f->severity], reset, f->message,
          scan_rules[f->rule].id);
  if (f->source.n > 0 && f->source.n < 4096) {
    fprintf(out, "%5u | %.*s\n      | ", f->line, (int)f->source.n, f->source.s);
    for (uint32_t i = 1; i < f->col && i <= f->source.n; i++)
      fputc(f->source.s[i - 1] == '\t' ? '\t' : ' ', out);
    fprintf(out, "%s^%s\n", color ? "\033[1;32m" : "", reset);
  }
  if (f->hint && f->hint[0]) fprintf(out, "      = hint: %s\n", f->hint);
}

static void write_text(FILE *out, scan_finding *const *v, size_t n, const scan_summary *s,
                       int color) {
  for (size_t i = 0; i < n; i++) text_one(out, v[i], color);
  fprintf(out, "%zu file%s scanned, %zu skipped: %zu error%s, %zu warning%s, %zu note%s",
          s->files, s->files == 1 ? "" : "s", s->skipped, s->count[SCAN_ERROR],
          s->count[SCAN_ERROR] == 1 ? "" : "s", s->count[SCAN_WARNING],
          s->count[SCAN_WARNING] == 1 ? "" : "s", s->count[SCAN_NOTE],
          s->count[SCAN_NOTE] == 1 ? "" : "s");
  if (s->with_baseline) fprintf(out, " (%zu more in the baseline)", s->baselined);
  fputc('\n', out);
}

static void write_json(FILE *out, scan_finding *const *v, size_t n, const scan_summary *s) {
  fprintf(out, "{\"tool\":\"tether scan\",\"version\":\"%s\",\"schema\":1,\n\"findings\":[",
          TETHER_VERSION);
  for (size_t i = 0; i < n; i++) {
    const scan_finding *f = v[i];
    fprintf(out, "%s\n{\"rule\":\"%s\",\"severity\":\"%s\",\"file\":", i ? "," : "",
            scan_rules[f->rule].id, sev_names[f->severity]);
    tcli_json_string(out, f->file);
    fprintf(out, ",\"line\":%u,\"column\":%u,\"message\":", f->line, f->col);
    tcli_json_string(out, f->message);
    fputs(",\"hint\":", out);
    tcli_json_string(out, f->hint);
    fputc('}', out);
  }
  fprintf(out,
          "\n],\n\"summary\":{\"files\":%zu,\"skipped\":%zu,\"errors\":%zu,\"warnings\":%zu,"
          "\"notes\":%zu",
          s->files, s->skipped, s->count[SCAN_ERROR], s->count[SCAN_WARNING],
          s->count[SCAN_NOTE]);
  if (s->with_baseline) fprintf(out, ",\"baselined\":%zu", s->baselined);
  fputs("}}\n", out);
}

/* A path as a URI: relative paths stay relative (GitHub resolves them against
 * the repository), absolute ones become file:// URIs; unreserved characters and
 * '/' stay, the rest is percent-encoded. */
static void json_uri(FILE *out, const char *path) {
  while (path[0] == '.' && path[1] == '/') path += 2;
  fputc('"', out);
  if (path[0] == '/') fputs("file://", out); /* absolute: a file URI */
  for (const unsigned char *p = (const unsigned char *)path; *p; p++) {
    if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
        strchr("-._~/", *p) != NULL)
      fputc(*p, out);
    else
      fprintf(out, "%%%02X", *p);
  }
  fputc('"', out);
}

/* SARIF counts columns in code points; findings count bytes of the line. */
static uint32_t code_point_col(const scan_finding *f) {
  uint32_t col = 1;
  for (uint32_t i = 0; i + 1 < f->col && i < f->source.n; i++)
    if (((unsigned char)f->source.s[i] & 0xC0) != 0x80) col++;
  return f->source.n ? col : f->col;
}

static void write_sarif(FILE *out, scan_finding *const *v, size_t n) {
  uint32_t *occ = malloc((n + 1) * sizeof *occ);
  if (occ) scan_occurrences(v, n, occ);
  fputs("{\"version\":\"2.1.0\",\"$schema\":\"https://json.schemastore.org/sarif-2.1.0.json\","
        "\n\"runs\":[{\"tool\":{\"driver\":{\"name\":\"tether\",\"version\":\"" TETHER_VERSION
        "\",\"rules\":[",
        out);
  for (int r = 0; r < SCAN_RULE_COUNT; r++) {
    fprintf(out, "%s\n{\"id\":\"%s\",\"name\":\"%s\",\"shortDescription\":{\"text\":", r ? "," : "",
            scan_rules[r].id, scan_rules[r].id);
    tcli_json_string(out, scan_rules[r].summary);
    fprintf(out, "},\"defaultConfiguration\":{\"level\":\"%s\"}}",
            sev_names[scan_rules[r].severity]);
  }
  fputs("]}},\n\"columnKind\":\"unicodeCodePoints\",\"results\":[", out);
  for (size_t i = 0; i < n; i++) {
    const scan_finding *f = v[i];
    fprintf(out, "%s\n{\"ruleId\":\"%s\",\"ruleIndex\":%d,\"level\":\"%s\",\"message\":{\"text\":",
            i ? "," : "", scan_rules[f->rule].id, (int)f->rule, sev_names[f->severity]);
    char *text = NULL;
    if (asprintf(&text, "%s. Fix: %s", f->message, f->hint) < 0) text = NULL;
    tcli_json_string(out, text ? text : f->message);
    free(text);
    fputs("},\"locations\":[{\"physicalLocation\":{\"artifactLocation\":{\"uri\":", out);
    json_uri(out, f->file);
    fprintf(out, "},\"region\":{\"startLine\":%u,\"startColumn\":%u}}}]", f->line, code_point_col(f));
    char fp[40];
    scan_fingerprint_text(f, occ ? occ[i] : 1, fp);
    fprintf(out, ",\"partialFingerprints\":{\"primaryLocationLineHash\":\"%s\",\"tether/v1\":\"%s\"}}", fp, fp);
  }
  fputs("\n]}]}\n", out);
  free(occ);
}

/* GitHub Actions workflow commands: `::error file=F,line=L,col=C,title=T::MSG`.
 * Data escapes %, CR and LF; properties escape ':' and ',' as well. */
static void gh_escape(FILE *out, const char *s, int property) {
  for (; *s; s++) {
    switch (*s) {
      case '%': fputs("%25", out); break;
      case '\r': fputs("%0D", out); break;
      case '\n': fputs("%0A", out); break;
      case ':': property ? fputs("%3A", out) : fputc(':', out); break;
      case ',': property ? fputs("%2C", out) : fputc(',', out); break;
      default: fputc(*s, out); break;
    }
  }
}

static void write_github(FILE *out, scan_finding *const *v, size_t n, const scan_summary *s) {
  static const char *const cmd[] = {"notice", "warning", "error"};
  for (size_t i = 0; i < n; i++) {
    const scan_finding *f = v[i];
    const char *file = f->file;
    while (file[0] == '.' && file[1] == '/') file += 2;
    fprintf(out, "::%s file=", cmd[f->severity]);
    gh_escape(out, file, 1);
    fprintf(out, ",line=%u,col=%u,title=", f->line, f->col);
    gh_escape(out, scan_rules[f->rule].id, 1);
    fputs("::", out);
    gh_escape(out, f->message, 0);
    if (f->hint && f->hint[0]) {
      fputs(" (fix: ", out);
      gh_escape(out, f->hint, 0);
      fputc(')', out);
    }
    fprintf(out, " [%s]\n", scan_rules[f->rule].id);
  }
  fprintf(out, "%zu file%s scanned, %zu skipped: %zu error%s, %zu warning%s, %zu note%s\n", s->files,
          s->files == 1 ? "" : "s", s->skipped, s->count[SCAN_ERROR], s->count[SCAN_ERROR] == 1 ? "" : "s",
          s->count[SCAN_WARNING], s->count[SCAN_WARNING] == 1 ? "" : "s", s->count[SCAN_NOTE],
          s->count[SCAN_NOTE] == 1 ? "" : "s");
}

void scan_write(FILE *out, scan_format fmt, scan_finding *const *v, size_t n,
                const scan_summary *sum, int color) {
  switch (fmt) {
    case SCAN_FMT_TEXT: write_text(out, v, n, sum, color); break;
    case SCAN_FMT_JSON: write_json(out, v, n, sum); break;
    case SCAN_FMT_SARIF: write_sarif(out, v, n); break;
    case SCAN_FMT_GITHUB: write_github(out, v, n, sum); break;
  }
}
