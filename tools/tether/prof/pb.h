/* A reader of the protocol-buffer wire format, written from the format's
 * description: varints, 64- and 32-bit fixed fields and length-delimited fields.
 * It never reads past the end it is given; every length is checked against the
 * bytes left. Groups (wire types 3 and 4) are refused: profile.proto has none. */
#ifndef TETHER_PROF_PB_H
#define TETHER_PROF_PB_H

#include <stddef.h>
#include <stdint.h>

enum { PROF_PB_VARINT = 0, PROF_PB_FIXED64 = 1, PROF_PB_BYTES = 2, PROF_PB_FIXED32 = 5 };

/* A cursor over one message's bytes. */
typedef struct prof_pb {
  const unsigned char *p, *end;
} prof_pb;

/* One field: its number and wire type, the integer value (varint and fixed
 * types) or the bytes (PROF_PB_BYTES: data and len point into the message).
 * For the other types data points at the field's end and len is 0, so that
 * data + len is a valid pointer whatever the type (never NULL + 0). */
typedef struct prof_pb_field {
  uint32_t number;
  int wire;
  uint64_t value;
  const unsigned char *data;
  size_t len;
} prof_pb_field;

/* Reads one varint at *p (before end), advancing *p. 0 on success, -1 when the
 * bytes end inside it or it is longer than ten bytes. The one-byte case is
 * inline; longer ones go to prof_pb_varint_long. */
int prof_pb_varint_long(const unsigned char **p, const unsigned char *end, uint64_t *v);
static inline int prof_pb_varint(const unsigned char **p, const unsigned char *end, uint64_t *v) {
  if (*p < end && **p < 0x80) {
    *v = **p;
    (*p)++;
    return 0;
  }
  return prof_pb_varint_long(p, end, v);
}

/* Reads the next field of R into F. Returns 1 for a field, 0 at the end of the
 * message, -1 when the bytes are malformed (R->p then points at the bad byte). */
int prof_pb_next_field(prof_pb *r, prof_pb_field *f);
static inline int prof_pb_next(prof_pb *r, prof_pb_field *f) {
  /* The common case inline: a one-byte key and a varint or a short length. */
  const unsigned char *q = r->p;
  if (r->end - q >= 2 && q[0] < 0x80 && q[1] < 0x80 && (q[0] >> 3) != 0) {
    unsigned wire = q[0] & 7;
    if (wire == PROF_PB_VARINT || (wire == PROF_PB_BYTES && (size_t)(r->end - q - 2) >= q[1])) {
      f->number = q[0] >> 3;
      f->wire = (int)wire;
      f->value = q[1];
      f->data = q + 2;
      f->len = wire == PROF_PB_BYTES ? q[1] : 0;
      r->p = q + 2 + f->len;
      return 1;
    }
  }
  return prof_pb_next_field(r, f);
}

/* Calls EACH for every integer of a repeated integer field, whether it was
 * written packed (one PROF_PB_BYTES field) or as one varint field. Returns 0, or
 * -1 for a bad packed run or a wire type that an integer cannot have, or the
 * first non-zero value EACH returns. */
int prof_pb_ints(const prof_pb_field *f, int (*each)(void *ctx, uint64_t v), void *ctx);

#endif
