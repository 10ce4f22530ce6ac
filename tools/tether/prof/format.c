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

/* Scales |v| to the largest unit it reaches. */
static void scaled(char *buf, size_t n, double v, const scale *units, size_t nunits, const char *sign) {
  size_t u = 0;
  for (size_t i = 0; i < nunits; i++)
    if (v >= units[i].factor) u = i;
  char num[64];
  snprintf(num, sizeof num, "%.2f", v / units[u].factor);
  size_t len = strlen(num);
  if (len > 3 && strcmp(num + len - 3, ".00") == 0) num[len - 3] = 0;
  snprintf(buf, n, "%s%s%s", sign, num, units[u].name);
}

void prof_fmt_value(char *buf, size_t n, int64_t v, const char *unit, int raw, int is_signed) {
  const char *sign = v < 0 ? "-" : (is_signed && v > 0 ? "+" : "");
  double mag = v < 0 ? -(double)v : (double)v;
  int bytes = strcmp(unit, "bytes") == 0, ns = strcmp(unit, "nanoseconds") == 0;
  if (v == 0) {
    snprintf(buf, n, "0");
  } else if (raw) {
    snprintf(buf, n, "%s%lld%s", is_signed && v > 0 ? "+" : "", (long long)v, bytes ? "B" : "");
  } else if (bytes) {
    scaled(buf, n, mag, k_bytes, sizeof k_bytes / sizeof k_bytes[0], sign);
  } else if (ns) {
    scaled(buf, n, mag, k_time, sizeof k_time / sizeof k_time[0], sign);
  } else {
    snprintf(buf, n, "%s%lld", is_signed && v > 0 ? "+" : "", (long long)v);
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
  *has_unit = *p != 0;
  if (*p != 0) {
    size_t i = 0, nunits = sizeof units / sizeof units[0];
    while (i < nunits && strcasecmp(p, units[i].name) != 0) i++;
    if (i == nunits || (units[i].shift && v > ((uint64_t)INT64_MAX >> units[i].shift))) return -1;
    v <<= units[i].shift;
  }
  if (v > (uint64_t)INT64_MAX) return -1;
  *out = (int64_t)v;
  return 0;
}
