/* The protocol-buffer reader and the profile decoder on their own: varints,
 * packed and unpacked repeated fields, skipped unknown fields, and every prefix
 * and many one-byte corruptions of a real profile, each decoded or refused with
 * a reason, never read out of bounds (make check runs this under ASan). */
#include <stdlib.h>

#include "prof/pb.h"
#include "prof/profile.h"
#include "runner.h"

static int sum_ints(void *ctx, uint64_t v) {
  *(uint64_t *)ctx += v;
  return 0;
}

TEST(prof_pb_varints_and_bounds) {
  const unsigned char ok[] = {0xac, 0x02}, big[] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01};
  const unsigned char *p = ok;
  uint64_t v;
  CHECK_EQ(prof_pb_varint(&p, ok + 2, &v), 0);
  CHECK_EQ(v, 300);
  CHECK(p == ok + 2);
  p = ok;
  CHECK_EQ(prof_pb_varint(&p, ok + 1, &v), -1); /* ends inside the varint */
  p = big;
  CHECK_EQ(prof_pb_varint(&p, big + 10, &v), 0);
  CHECK(v == UINT64_MAX);
}

TEST(prof_pb_packed_unpacked_and_unknown_fields) {
  /* field 1 packed {1,2,300}, field 1 unpacked 4, unknown fixed32 field 9, fixed64 field 10 */
  const unsigned char msg[] = {0x0a, 0x04, 0x01, 0x02, 0xac, 0x02, 0x08, 0x04, 0x4d, 1, 2, 3, 4,
                               0x51, 1, 2, 3, 4, 5, 6, 7, 8};
  prof_pb r = {msg, msg + sizeof msg};
  prof_pb_field f;
  uint64_t sum = 0;
  int fields = 0;
  while (prof_pb_next(&r, &f) == 1) {
    fields++;
    if (f.number == 1) CHECK_EQ(prof_pb_ints(&f, sum_ints, &sum), 0);
  }
  CHECK_EQ(fields, 4);
  CHECK_EQ(sum, 1 + 2 + 300 + 4);
  const unsigned char group[] = {0x0b}, zero[] = {0x00}, longlen[] = {0x0a, 0x05, 1};
  prof_pb g = {group, group + 1}, z = {zero, zero + 1}, l = {longlen, longlen + 3};
  CHECK_EQ(prof_pb_next(&g, &f), -1);
  CHECK_EQ(prof_pb_next(&z, &f), -1);
  CHECK_EQ(prof_pb_next(&l, &f), -1);
}

static unsigned char *raw_fixture(size_t *len) {
  FILE *f = fopen(TETHER_SOURCE_DIR "/fuzz/corpus/profile/leaky-1.raw.pb", "rb");
  if (f == NULL) return NULL;
  unsigned char *buf = malloc(1 << 16);
  *len = buf ? fread(buf, 1, 1 << 16, f) : 0;
  fclose(f);
  return buf;
}

TEST(prof_decode_every_prefix_is_decoded_or_refused) {
  size_t len;
  unsigned char *buf = raw_fixture(&len);
  char err[256];
  int refused = 0;
  CHECK(buf != NULL && len > 500);
  prof_profile *whole = prof_decode(buf, len, err, sizeof err);
  CHECK(whole != NULL);
  CHECK_EQ(whole->ntypes, 4);
  CHECK_STREQ(whole->str[whole->types[3].type], "inuse_space");
  CHECK_EQ(prof_default_type(whole), 3);
  prof_free(whole);
  for (size_t n = 0; n < len; n++) {
    err[0] = 0;
    prof_profile *p = prof_decode(buf, n, err, sizeof err);
    if (p == NULL) {
      refused++;
      CHECK(err[0] != 0);
    }
    prof_free(p);
  }
  free(buf);
  CHECK(refused > (int)len / 2);
}

TEST(prof_decode_one_byte_corruptions_never_crash) {
  size_t len;
  unsigned char *buf = raw_fixture(&len);
  char err[256];
  int refused = 0, decoded = 0;
  CHECK(buf != NULL);
  for (size_t i = 0; i < len; i++) {
    unsigned char keep = buf[i];
    static const unsigned char flips[] = {0x00, 0xff, 0x80, 0x7f};
    for (size_t k = 0; k < sizeof flips; k++) {
      buf[i] = flips[k];
      prof_profile *p = prof_decode(buf, len, err, sizeof err);
      refused += p == NULL;
      decoded += p != NULL;
      prof_free(p);
    }
    buf[i] = keep;
  }
  free(buf);
  /* Both outcomes occur: a flipped value byte still decodes, a flipped length not. */
  CHECK(refused > 0);
  CHECK(decoded > 0);
}

TEST(prof_gunzip_refuses_corrupt_and_truncated) {
  const unsigned char bad[] = {0x1f, 0x8b, 0x08, 0, 0, 0, 0, 0, 0, 0xff, 'x', 'y', 'z'};
  unsigned char *out;
  size_t n;
  char err[256];
  CHECK_EQ(prof_gunzip(bad, sizeof bad, &out, &n, err, sizeof err), -1);
  CHECK(out == NULL);
  CHECK_EQ(prof_gunzip(bad, 5, &out, &n, err, sizeof err), -1);
}

/* A field of every wire type has data + len a valid pointer: the decoder reads
 * a sample's values and locations as data..data + len whatever the type, and a
 * varint's data was NULL (NULL + 0 is undefined; clang's UBSan reported it on the
 * input fuzz/corpus/profile/regress-varint-sample-values.pb, found by fuzzing). */
TEST(prof_pb_every_field_has_a_valid_data_pointer) {
  /* field 1 varint 1; field 2 fixed64; field 3 fixed32; field 4 bytes {7}; and
   * field 5 varint 300 (two bytes: the out-of-line reader) */
  const unsigned char msg[] = {0x08, 0x01, 0x11, 1, 2, 3, 4, 5, 6, 7, 8, 0x1d, 1, 2, 3, 4,
                               0x22, 0x01, 0x07, 0x28, 0xac, 0x02};
  prof_pb r = {msg, msg + sizeof msg};
  prof_pb_field f;
  int fields = 0;
  while (prof_pb_next(&r, &f) == 1) {
    fields++;
    CHECK(f.data != NULL);
    CHECK(f.data >= msg && f.data + f.len <= msg + sizeof msg);
    CHECK_EQ(f.len, f.wire == PROF_PB_BYTES ? 1 : 0);
  }
  CHECK_EQ(fields, 5);
}

TEST(prof_decode_unpacked_sample_values_and_locations) {
  FILE *in = fopen(TETHER_SOURCE_DIR "/fuzz/corpus/profile/regress-varint-sample-values.pb", "rb");
  CHECK(in != NULL);
  unsigned char buf[256];
  size_t len = fread(buf, 1, sizeof buf, in);
  fclose(in);
  char err[256];
  prof_profile *p = prof_decode(buf, len, err, sizeof err);
  /* One sample type, one sample whose one value (1) is an unpacked varint. */
  CHECK(p != NULL);
  CHECK_EQ(p->ntypes, 1);
  CHECK_EQ(p->nsamples, 1);
  CHECK_EQ(p->nvalues, 1);
  CHECK_EQ(p->values[0], 1);
  prof_free(p);
}
