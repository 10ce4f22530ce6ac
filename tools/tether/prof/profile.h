/* The profile model of tether diff/top: a decoded profile.proto message with
 * every cross-reference (sample to location, location line to function, string
 * index) checked and resolved to an array index, so later code indexes without
 * checking. Strings are NUL-terminated copies. */
#ifndef TETHER_PROF_PROFILE_H
#define TETHER_PROF_PROFILE_H

#include <stddef.h>
#include <stdint.h>

/* The most bytes a profile may have once decompressed: 512 MiB. Go heap
 * profiles of large services are tens of MiB; anything bigger is refused as
 * likely hostile rather than risk exhausting memory. */
#define PROF_MAX_BYTES ((size_t)512 << 20)

typedef struct prof_vtype {
  size_t type, unit; /* string indices */
} prof_vtype;

typedef struct prof_function {
  uint64_t id;
  size_t name, system_name, filename; /* string indices */
  int64_t start_line;
} prof_function;

typedef struct prof_line {
  uint64_t function_id;
  size_t func; /* index into functions */
  int64_t line;
} prof_line;

typedef struct prof_location {
  uint64_t id;
  size_t line_start, line_count; /* into lines; inlined frames first, caller last */
} prof_location;

typedef struct prof_label {
  uint32_t key, str, num_unit; /* string indices */
  int64_t num;
} prof_label;

/* Indices are 32-bit: a profile is at most PROF_MAX_BYTES long, and every
 * location id, value and label takes at least one byte of it. */
typedef struct prof_sample {
  uint32_t loc_start, loc_count;     /* into sample_locs; leaf first */
  uint32_t value_start;              /* into values, ntypes of them */
  uint32_t label_start, label_count; /* into labels */
} prof_sample;

typedef struct prof_profile {
  unsigned char *owned; /* the decompressed bytes when the input was gzip */
  char **str;
  size_t nstr;
  char *strbuf;
  prof_vtype *types;
  size_t ntypes;
  prof_vtype period_type;
  int64_t period, time_nanos, duration_nanos;
  size_t default_type; /* string index; 0 when unset */
  size_t main_file, build_id; /* the first mapping's filename and build id; 0 when none */
  size_t *comments;     /* string indices */
  size_t ncomments;
  prof_function *funcs;
  size_t nfuncs;
  prof_location *locs;
  size_t nlocs;
  prof_line *lines;
  size_t nlines;
  prof_sample *samples;
  size_t nsamples;
  uint32_t *sample_locs; /* indices into locs */
  size_t nsample_locs;
  int64_t *values;
  size_t nvalues;
  prof_label *labels;
  size_t nlabels;
} prof_profile;

/* Decodes BUF (LEN bytes, gzip-compressed or raw profile.proto). Returns a new
 * profile the caller frees with prof_free, or NULL with a one-line reason in ERR
 * (ERRLEN bytes) when the bytes are not a well-formed profile. BUF may be freed
 * once this returns. */
prof_profile *prof_decode(const unsigned char *buf, size_t len, char *err, size_t errlen);

/* Frees P and everything it owns; NULL is allowed. */
void prof_free(prof_profile *p);

/* The index of the sample type named NAME (or a decimal index), or -1. */
long prof_type_index(const prof_profile *p, const char *name);

/* The sample type a report uses by default: default_sample_type when set, else
 * the last one, as pprof does. */
size_t prof_default_type(const prof_profile *p);

/* Gunzips IN into a malloc'd buffer of at most PROF_MAX_BYTES. Returns 0, or -1
 * with a reason in ERR. Exposed for the tests. */
int prof_gunzip(const unsigned char *in, size_t len, unsigned char **out, size_t *outlen,
                char *err, size_t errlen);

#endif
