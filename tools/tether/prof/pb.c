/* The protocol-buffer wire decoder of tether diff/top. Every read is checked
 * against the end of the enclosing message, so a truncated or corrupt input
 * ends in -1, never in a read out of bounds; nothing here allocates. */
#include "prof/pb.h"

int prof_pb_varint_long(const unsigned char **p, const unsigned char *end, uint64_t *v) {
  uint64_t x = 0;
  const unsigned char *q = *p;
  for (unsigned shift = 0; shift < 64; shift += 7) {
    if (q >= end) return -1;
    unsigned char b = *q++;
    x |= (uint64_t)(b & 0x7f) << shift;
    if ((b & 0x80) == 0) {
      *p = q;
      *v = x;
      return 0;
    }
  }
  return -1;
}

/* Reads a little-endian fixed field of N bytes. */
static int read_fixed(prof_pb *r, unsigned n, uint64_t *v) {
  uint64_t x = 0;
  if ((size_t)(r->end - r->p) < n) return -1;
  for (unsigned i = 0; i < n; i++) x |= (uint64_t)r->p[i] << (8 * i);
  r->p += n;
  *v = x;
  return 0;
}

int prof_pb_next_field(prof_pb *r, prof_pb_field *f) {
  uint64_t key;
  if (r->p >= r->end) return 0;
  if (prof_pb_varint(&r->p, r->end, &key) != 0) return -1;
  if ((key >> 3) == 0 || (key >> 3) > UINT32_MAX) return -1;
  f->number = (uint32_t)(key >> 3);
  f->wire = (int)(key & 7);
  f->value = 0;
  f->data = r->p; /* moved to the field's bytes, or left at its end below */
  f->len = 0;
  switch (f->wire) {
  case PROF_PB_VARINT:
    if (prof_pb_varint(&r->p, r->end, &f->value) != 0) return -1;
    f->data = r->p;
    return 1;
  case PROF_PB_FIXED64:
  case PROF_PB_FIXED32:
    if (read_fixed(r, f->wire == PROF_PB_FIXED64 ? 8 : 4, &f->value) != 0) return -1;
    f->data = r->p;
    return 1;
  case PROF_PB_BYTES:
    if (prof_pb_varint(&r->p, r->end, &f->value) != 0) return -1;
    if (f->value > (uint64_t)(r->end - r->p)) return -1;
    f->data = r->p;
    f->len = (size_t)f->value;
    r->p += f->len;
    return 1;
  default:
    return -1;
  }
}

int prof_pb_ints(const prof_pb_field *f, int (*each)(void *ctx, uint64_t v), void *ctx) {
  if (f->wire == PROF_PB_VARINT) return each(ctx, f->value);
  if (f->wire != PROF_PB_BYTES) return -1;
  const unsigned char *p = f->data, *end = f->data + f->len;
  while (p < end) {
    uint64_t v;
    if (prof_pb_varint(&p, end, &v) != 0) return -1;
    int rc = each(ctx, v);
    if (rc != 0) return rc;
  }
  return 0;
}
