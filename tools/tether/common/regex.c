/* PCRE2 behind regex.h. Each expression gets its own match data block. The
 * interpreter is used, not the JIT: expressions are matched once per function
 * or file name, never per sample, and JIT code confuses valgrind. A regex is not
 * for concurrent use: its match data is shared by its calls. */
#define PCRE2_CODE_UNIT_WIDTH 8
#include "common/regex.h"

#include <pcre2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct tcli_regex {
  pcre2_code *code;
  pcre2_match_data *md;
};

tcli_regex *tcli_regex_new(const char *pattern, char *err, size_t errlen) {
  int code;
  PCRE2_SIZE at;
  tcli_regex *re = calloc(1, sizeof *re);
  if (re == NULL) {
    snprintf(err, errlen, "out of memory");
    return NULL;
  }
  re->code = pcre2_compile((PCRE2_SPTR)pattern, PCRE2_ZERO_TERMINATED, PCRE2_UTF | PCRE2_MATCH_INVALID_UTF, &code,
                           &at, NULL);
  if (re->code == NULL) {
    PCRE2_UCHAR msg[160];
    pcre2_get_error_message(code, msg, sizeof msg);
    snprintf(err, errlen, "%s at offset %zu", (const char *)msg, (size_t)at);
    free(re);
    return NULL;
  }
  re->md = pcre2_match_data_create_from_pattern(re->code, NULL);
  if (re->md == NULL) {
    snprintf(err, errlen, "out of memory");
    tcli_regex_free(re);
    return NULL;
  }
  return re;
}

int tcli_regex_match(const tcli_regex *re, const char *s) {
  return pcre2_match(re->code, (PCRE2_SPTR)s, strlen(s), 0, 0, re->md, NULL) >= 0;
}

void tcli_regex_free(tcli_regex *re) {
  if (re == NULL) return;
  pcre2_match_data_free(re->md);
  pcre2_code_free(re->code);
  free(re);
}
