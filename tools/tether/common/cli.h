/* Shared helpers of the tether command-line tool: reading input files, deciding
 * on colour, escaping JSON strings. Everything here is tcli_-prefixed and knows
 * nothing about any one subcommand. */
#ifndef TETHER_CLI_H
#define TETHER_CLI_H

#include <stddef.h>
#include <stdio.h>

#ifndef TETHER_VERSION /* the build passes the project version */
#define TETHER_VERSION "0.1.0"
#endif

/* Exit statuses shared by every subcommand. */
enum { TCLI_OK = 0, TCLI_FOUND = 1, TCLI_USAGE = 2 };

/* Reads all of PATH ("-" means standard input) into a malloc'd buffer with a NUL
 * byte after the data (not counted in *len). Fails with -1 and errno set when the
 * file cannot be read or is larger than max_bytes (errno EFBIG); *data is then NULL. */
int tcli_read_file(const char *path, size_t max_bytes, unsigned char **data, size_t *len);

/* 1 when colour should be used on F: F is a terminal, NO_COLOR is unset or empty,
 * and TERM is not "dumb". */
int tcli_use_color(FILE *f);

/* Writes S as a JSON string literal (with quotes), escaping as RFC 8259 requires.
 * Invalid UTF-8 bytes are written as U+FFFD. */
void tcli_json_string(FILE *out, const char *s);
/* Length of the valid UTF-8 sequence at S (N bytes left), or 0 when it is invalid
 * (overlong, a surrogate, beyond U+10FFFF, or cut short). */
size_t tcli_utf8_len(const unsigned char *s, size_t n);
void tcli_json_string_n(FILE *out, const char *s, size_t n);

/* Parses a duration as Go writes one: numbers with units (ns, us, ms, s, m, h),
 * decimals allowed, several in a row ("1m30s", "1.5s", "500ms"). Stores the
 * seconds in *SECONDS. 0, or -1 when malformed, without a unit or out of range. */
int tcli_parse_duration(const char *s, double *seconds);

/* Parses a finite number >= 0 for option NAME of command CMD into *V. 0, or
 * TCLI_USAGE after a one-line message. */
int tcli_number(const char *cmd, const char *name, const char *s, double *v);

/* Takes option ARGV[*I], one of the N options in VALUED that want a value,
 * written "--name=value" or "--name value" (then *I moves past the value).
 * Stores the option's name (in NAME, CAP bytes) and its value. Returns 0, or
 * TCLI_USAGE after a one-line message for CMD: not one of them, or no value. */
int tcli_valued_option(const char *cmd, int argc, char **argv, int *i, const char *const *valued, size_t n,
                       char *name, size_t cap, const char **value);

/* Prints "tether CMD: " and the message to stderr; returns TCLI_USAGE. */
int tcli_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
