/* Regular expressions as pprof takes them (RE2 syntax: \d, (?i), classes,
 * alternation), matched with PCRE2, unanchored, on UTF-8 text; invalid UTF-8
 * in a subject is matched byte by byte rather than refused. */
#ifndef TETHER_REGEX_H
#define TETHER_REGEX_H

#include <stddef.h>

typedef struct tcli_regex tcli_regex;

/* Compiles PATTERN. Returns NULL with a one-line reason in ERR (naming the
 * offset) when it is not a valid expression or memory ran out. */
tcli_regex *tcli_regex_new(const char *pattern, char *err, size_t errlen);

/* 1 when RE matches somewhere in S, 0 when not. */
int tcli_regex_match(const tcli_regex *re, const char *s);

void tcli_regex_free(tcli_regex *re);

#endif
