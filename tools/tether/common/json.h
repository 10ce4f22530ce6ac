/* A small JSON reader for the files the tether tool takes in (go vet's per-package
 * configuration, scan baselines): RFC 8259 values into a tree. Nesting deeper
 * than 64 levels, invalid UTF-8 in strings and trailing garbage are errors.
 * Everything is tcli_json_-prefixed; nothing here knows about any subcommand. */
#ifndef TETHER_CLI_JSON_H
#define TETHER_CLI_JSON_H

#include <stddef.h>

typedef enum { TJ_NULL, TJ_BOOL, TJ_NUMBER, TJ_STRING, TJ_ARRAY, TJ_OBJECT } tcli_json_type;

typedef struct tcli_json tcli_json;
struct tcli_json {
  tcli_json_type type;
  int boolean;
  double number;
  char *string; /* TJ_STRING: NUL-terminated UTF-8 (may contain NUL bytes: string_len) */
  size_t string_len;
  tcli_json **items; /* TJ_ARRAY and TJ_OBJECT: the values */
  char **keys;       /* TJ_OBJECT: the keys, parallel to items */
  size_t n;
};

/* Parses LEN bytes of TEXT. Returns the tree (free it with tcli_json_free), or
 * NULL with a one-line reason ("line N: ...") in ERR (ERRLEN bytes). */
tcli_json *tcli_json_parse(const char *text, size_t len, char *err, size_t errlen);
void tcli_json_free(tcli_json *j);

/* OBJ's value for KEY (the first one), or NULL when OBJ is not an object or has none. */
const tcli_json *tcli_json_get(const tcli_json *obj, const char *key);
/* KEY's value when it is a string, else NULL. */
const char *tcli_json_get_string(const tcli_json *obj, const char *key);

#endif
