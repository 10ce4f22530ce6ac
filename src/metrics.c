/* tether_metrics_write: the registry's state in the Prometheus text exposition
 * format, version 0.0.4.
 *
 * The values come from one snapshot taken under the registry mutex (the stats
 * and the live registrations together), so the per-site series add up to the
 * totals. The caller's labels are checked before anything is written: malformed
 * labels (invalid UTF-8 too) write nothing. Label values tether writes (file,
 * func) are escaped as the format requires (backslash, double quote, newline),
 * and bytes that are not UTF-8 become U+FFFD: a site's strings are whatever the
 * program passed, and one invalid byte would make Prometheus refuse the whole
 * scrape. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"

/* The length of the UTF-8 sequence at S (1 to 4), or 0 when it is not one
 * (a stray continuation byte, an overlong form, a surrogate, past U+10FFFF, or
 * cut short). */
static size_t utf8_len(const unsigned char *s) {
  unsigned c = s[0];
  if (c < 0x80) return 1;
  size_t n = c >= 0xc2 && c <= 0xdf ? 2 : c >= 0xe0 && c <= 0xef ? 3 : c >= 0xf0 && c <= 0xf4 ? 4 : 0;
  for (size_t i = 1; i < n; i++)
    if ((s[i] & 0xc0) != 0x80) return 0;
  if ((c == 0xe0 && s[1] < 0xa0) || (c == 0xed && s[1] > 0x9f) || (c == 0xf0 && s[1] < 0x90) ||
      (c == 0xf4 && s[1] > 0x8f))
    return 0;
  return n;
}

/* Whether LABELS is a well-formed label list: name="value" pairs separated by
 * commas, names of [a-zA-Z_][a-zA-Z0-9_]* not starting with "__" nor equal to a
 * label tether adds, values of UTF-8 with only \\, \" and \n escapes. */
static int labels_ok(const char *s) {
  static const char *const ours[] = {"file", "line", "func", "site"};
  if (*s == '\0') return 1;
  for (;;) {
    const char *name = s;
    if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || *s == '_')) return 0;
    while ((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') || *s == '_') s++;
    size_t n = (size_t)(s - name);
    if (n >= 2 && name[0] == '_' && name[1] == '_') return 0;
    for (size_t i = 0; i < sizeof ours / sizeof ours[0]; i++)
      if (strlen(ours[i]) == n && memcmp(ours[i], name, n) == 0) return 0;
    if (*s++ != '=' || *s++ != '"') return 0;
    while (*s != '"') {
      if (*s == '\0' || *s == '\n') return 0;
      if (*s == '\\' && s[1] != '\\' && s[1] != '"' && s[1] != 'n') return 0;
      size_t k = *s == '\\' ? 2 : utf8_len((const unsigned char *)s);
      if (k == 0) return 0;
      s += k;
    }
    s++;
    if (*s == '\0') return 1;
    if (*s++ != ',') return 0;
  }
}

static void escaped(FILE *f, const char *s) {
  while (s && *s) {
    size_t k = utf8_len((const unsigned char *)s);
    if (*s == '\\')
      fputs("\\\\", f);
    else if (*s == '"')
      fputs("\\\"", f);
    else if (*s == '\n')
      fputs("\\n", f);
    else if (k == 0)
      fputs("\xef\xbf\xbd", f); /* U+FFFD for a byte that is not UTF-8 */
    else
      fwrite(s, 1, k, f);
    s += k ? k : 1;
  }
}

typedef struct out {
  FILE *f;
  const char *labels; /* the caller's, "" when none */
  int series;
} out;

static void head(out *o, const char *name, const char *type, const char *help) {
  fprintf(o->f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void plain(out *o, const char *name, uint64_t v) {
  if (o->labels[0])
    fprintf(o->f, "%s{%s} %" PRIu64 "\n", name, o->labels, v);
  else
    fprintf(o->f, "%s %" PRIu64 "\n", name, v);
  o->series++;
}

static void one(out *o, const char *name, const char *type, const char *help, uint64_t v) {
  head(o, name, type, help);
  plain(o, name, v);
}

static void site_series(out *o, const char *name, const tether_site *s, uint64_t v) {
  fprintf(o->f, "%s{%s%sfile=\"", name, o->labels, o->labels[0] ? "," : "");
  escaped(o->f, s->file ? s->file : "?");
  fprintf(o->f, "\",line=\"%d\",func=\"", s->line);
  escaped(o->f, s->func ? s->func : "?");
  fprintf(o->f, "\"} %" PRIu64 "\n", v);
  o->series++;
}

static void other_series(out *o, const char *name, uint64_t v) {
  fprintf(o->f, "%s{%s%ssite=\"other\"} %" PRIu64 "\n", name, o->labels, o->labels[0] ? "," : "", v);
  o->series++;
}

/* The per-site gauges: the TOP sites by bytes one by one, the rest as one. */
static void sites(out *o, const tether__site_group *g, size_t ng, size_t top, int bytes) {
  const char *name = bytes ? "tether_site_retained_bytes" : "tether_site_registrations";
  head(o, name, "gauge",
       bytes ? "Bytes of context retained by live registrations, by registration site."
             : "Live registrations, by registration site.");
  uint64_t rest = 0;
  for (size_t i = 0; i < ng; i++) {
    uint64_t v = bytes ? g[i].bytes : g[i].count;
    if (i < top)
      site_series(o, name, &g[i].site, v);
    else
      rest = tether__sat_add(rest, v);
  }
  if (ng > top) other_series(o, name, rest);
}

int tether_metrics_write(tether_registry *r, FILE *f, const char *labels) {
  if (r == NULL || f == NULL) return TETHER_EINVAL;
  if (labels == NULL) labels = "";
  if (!labels_ok(labels)) return TETHER_EINVAL;
  tether__snap s;
  int n = tether__snapshot(r, &s, 0);
  if (n < 0) return n;
  tether__site_group *g = NULL;
  size_t ng = 0;
  int rc = tether__group_sites(r, &s, NULL, NULL, &g, &ng);
  if (rc < 0) {
    tether__snap_free(r, &s);
    return rc;
  }
  out o = {f, labels, 0};
  /* F may be a stream of the program's own: no lock is held here. */
  TETHER__FRAME(frame, r, TETHER__FR_WALK);
  const tether_stats *st = &s.st;
  one(&o, "tether_registrations", "gauge", "Live registrations.", st->live);
  one(&o, "tether_retained_bytes", "gauge", "Bytes of context (ctx_size) retained by live registrations.",
      st->live_bytes);
  one(&o, "tether_destructors_pending", "gauge", "Removed registrations whose destructor has not run yet.",
      st->destructors_pending);
  one(&o, "tether_registered_total", "counter", "Registrations made.", st->registered_total);
  one(&o, "tether_unregistered_total", "counter", "Registrations removed by unregister or their one call.",
      st->unregistered_total);
  one(&o, "tether_expired_total", "counter", "Registrations removed when their TTL ran out.", st->expired_total);
  one(&o, "tether_owner_removed_total", "counter", "Registrations removed when their owner was freed.",
      st->owner_removed_total);
  one(&o, "tether_replaced_total", "counter", "Registrations replaced by TETHER_REPLACE.", st->replaced_total);
  one(&o, "tether_destructors_run_total", "counter", "Removed registrations whose destructor has run.",
      st->destructors_run_total);
  size_t top = r->metrics_top_sites;
  sites(&o, g, ng, top, 0);
  sites(&o, g, ng, top, 1);
  rc = (ferror(f) || fflush(f) != 0) ? TETHER_EIO : o.series;
  tether__groups_free(r, g, &s);
  tether__snap_free(r, &s);
  return rc;
}
