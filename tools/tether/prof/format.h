/* Number formatting of tether diff/top: pprof's human units and percentages,
 * and the parsing of --fail-if-growth sizes. */
#ifndef TETHER_PROF_FORMAT_H
#define TETHER_PROF_FORMAT_H

#include <stddef.h>
#include <stdint.h>

/* Writes V in UNIT ("bytes", "nanoseconds", anything else counts) the way
 * pprof labels values: scaled to the largest unit not above |V| with two
 * decimals, ".00" dropped ("99.26MB", "512kB", "1.50ms", "1440"). RAW writes the
 * whole number with pprof's -unit=B suffix for bytes. SIGNED adds "+" to
 * positive values. */
void prof_fmt_value(char *buf, size_t n, int64_t v, const char *unit, int raw, int is_signed);

/* Writes 100*|V|/TOTAL as pprof does: "  100%", "99.84%", "0.088%". */
void prof_fmt_percent(char *buf, size_t n, int64_t v, int64_t total);

/* Parses a --fail-if-growth threshold: a whole number with an optional unit
 * (B, k/kB/KiB, MB/MiB, GB/GiB, TB/TiB, any case; 1024-based, as pprof scales).
 * Sets *HAS_UNIT when a unit was given. 0, or -1 when malformed or too large. */
int prof_parse_size(const char *s, int64_t *out, int *has_unit);

#endif
