/* Big-endian (network order) reads and writes on plain bytes, shared by
 * libhq's packet parsers and builders.  Internal: not part of the API.
 * Callers check lengths before calling; these only move bytes. */
#ifndef __HQ_BYTES_H__
#define __HQ_BYTES_H__

#include <glib.h>

static inline guint16
hq_rd16 (const guint8 *p)
{
  return (guint16)((p[0] << 8) | p[1]);
}

static inline guint32
hq_rd24 (const guint8 *p)
{
  return ((guint32)p[0] << 16) | ((guint32)p[1] << 8) | p[2];
}

static inline guint32
hq_rd32 (const guint8 *p)
{
  return ((guint32)p[0] << 24) | ((guint32)p[1] << 16) | ((guint32)p[2] << 8)
      | p[3];
}

static inline void
hq_wr16 (guint8 *p, guint16 v)
{
  p[0] = v >> 8;
  p[1] = v & 0xff;
}

static inline void
hq_wr24 (guint8 *p, guint32 v)
{
  p[0] = (v >> 16) & 0xff;
  p[1] = (v >> 8) & 0xff;
  p[2] = v & 0xff;
}

static inline void
hq_wr32 (guint8 *p, guint32 v)
{
  p[0] = v >> 24;
  p[1] = (v >> 16) & 0xff;
  p[2] = (v >> 8) & 0xff;
  p[3] = v & 0xff;
}

#endif /* __HQ_BYTES_H__ */
