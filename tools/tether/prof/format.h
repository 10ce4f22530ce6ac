/* Number formatting of tether diff/top: pprof's human units and percentages,
 * and the parsing of --fail-if-growth sizes. */
#ifndef TETHER_PROF_FORMAT_H
#define TETHER_PROF_FORMAT_H

#include <stddef.h>
#include <stdint.h>

/* The scale of the largest unit of UNIT ("bytes", "nanoseconds") that |V|
 * reaches; -1 for whole numbers: RAW, or a unit without scales (counts). */
int prof_pick_scale(int64_t v, const char *unit, int raw);

/* The scale pprof's text report uses for all its values: that of the smallest
 * non-zero value shown (MIN), unless the total is in a larger unit and more than
 * 100 times MIN; then that of 100*MIN, so that MIN shows as 0.01 or more. */
int prof_table_scale(int64_t min, int64_t total, const char *unit, int raw);

/* Writes V in UNIT at SCALE (from prof_pick_scale) as pprof does: two decimals
 * with ".00" dropped ("99.26MB", "-0.09MB", "1440"), 0 as "0". With SCALE -1 the
 * whole number, with pprof's -unit=B suffix "B" for bytes. IS_SIGNED adds "+" to
 * positive values. */
void prof_fmt_value(char *buf, size_t n, int64_t v, const char *unit, int scale, int is_signed);

/* Writes 100*|V|/TOTAL as pprof does: "  100%", "99.84%", "0.088%". */
void prof_fmt_percent(char *buf, size_t n, int64_t v, int64_t total);

/* Parses a --fail-if-growth threshold: a number with an optional unit (B,
 * k/kB/KiB, MB/MiB, GB/GiB, TB/TiB, any case; 1024-based, as pprof scales).
 * Decimals take a unit of a kilobyte or more (1.5MB), rounded to whole bytes.
 * Sets *HAS_UNIT when a unit was given. 0, or -1 when malformed or too large. */
int prof_parse_size(const char *s, int64_t *out, int *has_unit);

#endif
