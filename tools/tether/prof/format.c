/* The value and percentage formats of tether diff/top, written to read like
 * `go tool pprof -top` (the same scaling steps and rounding), and the parser of
 * the sizes --fail-if-growth takes. */
#include "prof/format.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

typedef struct scale {
  const char *name;
  double factor;
} scale;

static const scale k_bytes[] = {{"B", 1}, {"kB", 1024.0}, {"MB", 1048576.0},
                                {"GB", 1073741824.0}, {"TB", 1099511627776.0},
                                {"PB", 1125899906842624.0}};
static const scale k_time[] = {{"ns", 1}, {"us", 1e3}, {"ms", 1e6}, {"s", 1e9}, {"hrs", 3.6e12}};

/* The scale table of UNIT, or NULL. */
static const scale *scales_of(const char *unit, size_t *n) {
  if (strcmp(unit, "bytes") == 0) {
    *n = sizeof k_bytes / sizeof k_bytes[0];
    return k_bytes;
  }
  if (strcmp(unit, "nanoseconds") == 0) {
    *n = sizeof k_time / sizeof k_time[0];
    return k_time;
  }
  *n = 0;
  return NULL;
}

int prof_pick_scale(int64_t max, const char *unit, int raw) {
  size_t n;
  const scale *units = scales_of(unit, &n);
  double v = max < 0 ? -(double)max : (double)max;
  int pick = 0;
  if (raw || units == NULL) return -1;
  for (size_t i = 0; i < n; i++)
    if (v >= units[i].factor) pick = (int)i;
  return pick;
}

int prof_table_scale(int64_t min, int64_t total, const char *unit, int raw) {
  if (min < 0) min = -min;
  if (total < 0) total = -total;
  if (min == 0) min = total;
  int lo = prof_pick_scale(min, unit, raw), hi = prof_pick_scale(total, unit, raw);
  if (lo != hi && min < total / 100 + (total % 100 != 0)) return prof_pick_scale(100 * min, unit, raw);
  return lo;
}

void prof_fmt_value(char *buf, size_t n, int64_t v, const char *unit, int sc, int is_signed) {
  size_t nunits;
  const scale *units = scales_of(unit, &nunits);
  const char *plus = is_signed && v > 0 ? "+" : "";
  if (v == 0) {
    snprintf(buf, n, "0");
  } else if (sc < 0 || units == NULL || (size_t)sc >= nunits) {
    snprintf(buf, n, "%s%lld%s", plus, (long long)v, units == k_bytes ? "B" : "");
  } else {
    char num[64];
    snprintf(num, sizeof num, "%s%.2f", plus, (double)v / units[sc].factor);
    size_t len = strlen(num);
    if (len > 3 && strcmp(num + len - 3, ".00") == 0) num[len - 3] = 0;
    snprintf(buf, n, "%s%s", num, units[sc].name);
  }
}

void prof_fmt_percent(char *buf, size_t n, int64_t v, int64_t total) {
  double r = total != 0 ? fabs((double)v / (double)total) * 100 : 0;
  if (r >= 99.95 && r <= 100.05) snprintf(buf, n, "  100%%");
  else if (r >= 1.0) snprintf(buf, n, "%5.2f%%", r);
  else snprintf(buf, n, "%5.2g%%", r);
}

int prof_parse_size(const char *s, int64_t *out, int *has_unit) {
  static const struct { const char *name; int shift; } units[] = {
      {"b", 0},  {"k", 10}, {"kb", 10}, {"kib", 10}, {"m", 20}, {"mb", 20}, {"mib", 20},
      {"g", 30}, {"gb", 30}, {"gib", 30}, {"t", 40}, {"tb", 40}, {"tib", 40}};
  uint64_t v = 0;
  const char *p = s;
  if (!isdigit((unsigned char)*p)) return -1;
  for (; isdigit((unsigned char)*p); p++) {
    if (v > (uint64_t)INT64_MAX / 10) return -1;
    v = v * 10 + (uint64_t)(*p - '0');
  }
  /* A fraction: 1.5MB. It needs a unit of a kilobyte or more. */
  double frac = 0, place = 1;
  int has_frac = *p == '.';
  if (has_frac) {
    p++;
    if (!isdigit((unsigned char)*p)) return -1;
    for (; isdigit((unsigned char)*p); p++)
      if (place < 1e15) frac += (double)(*p - '0') / (place *= 10);
  }
  *has_unit = *p != 0;
  int shift = 0;
  if (*p != 0) {
    size_t i = 0, nunits = sizeof units / sizeof units[0];
    while (i < nunits && strcasecmp(p, units[i].name) != 0) i++;
    if (i == nunits || (units[i].shift && v > ((uint64_t)INT64_MAX >> units[i].shift) - 1)) return -1;
    shift = units[i].shift;
  }
  if (has_frac && shift == 0) return -1;
  v <<= shift;
  v += (uint64_t)llround(frac * (double)((uint64_t)1 << shift));
  if (v > (uint64_t)INT64_MAX) return -1;
  *out = (int64_t)v;
  return 0;
}
