/* RTP header parsing, header extensions, sequence arithmetic and receive
 * statistics.  See hqrtp.h for the contract.
 *
 * hq_rtp_parse() walks the header once, checking every length against the
 * bytes present before reading past it, and walks the RFC 8285 extension
 * block with the same element stepper the iterator uses later.  That is
 * what lets the iterator and the typed readers go without error paths:
 * they only ever see blocks the stepper has already accepted.
 */
#include "hqrtp.h"

#include "hqbytes.h"

#include <string.h>

G_DEFINE_QUARK (hq - rtp - error - quark, hq_rtp_error);

#define RTP_SEQ_MOD (1u << 16)
/* RFC 3550 A.1: a jump of up to MAX_DROPOUT forward counts as loss, up to
 * MAX_MISORDER backward as reordering; anything else is a restart that
 * must be confirmed by a second packet. */
#define MAX_DROPOUT 3000
#define MAX_MISORDER 100

/* --- extension elements --- */

typedef enum
{
  EXT_END,
  EXT_ELEMENT,
  EXT_MALFORMED,
} ExtStep;

static gboolean
profile_is_one_byte (guint16 profile)
{
  return profile == HQ_RTP_EXT_ONE_BYTE;
}

static gboolean
profile_is_two_byte (guint16 profile)
{
  return (profile & 0xfff0) == HQ_RTP_EXT_TWO_BYTE;
}

/* Steps over padding to the next element of an RFC 8285 block and stores
 * it in @ext.  In the one-byte form id 15 ends processing of the block
 * (RFC 8285 section 4.2), so it reads as the end. */
static ExtStep
ext_step (
    const guint8 **pos, const guint8 *end, gboolean two_byte, HqRtpExt *ext)
{
  const guint8 *p = *pos;

  while (p < end && *p == 0)
    p++;
  if (p == end) {
    *pos = p;
    return EXT_END;
  }
  if (!two_byte) {
    guint8 id = *p >> 4, len = (*p & 0x0f) + 1;

    if (id == 15) {
      *pos = end;
      return EXT_END;
    }
    if ((gsize)(end - p) < 1u + len)
      return EXT_MALFORMED;
    ext->id = id;
    ext->len = len;
    ext->data = p + 1;
    *pos = p + 1 + len;
  } else {
    if (end - p < 2 || (gsize)(end - p) < 2u + p[1])
      return EXT_MALFORMED;
    ext->id = p[0];
    ext->len = p[1];
    ext->data = p + 2;
    *pos = p + 2 + p[1];
  }
  return EXT_ELEMENT;
}

static gboolean
ext_block_validate (
    const guint8 *block, gsize len, gboolean two_byte, GError **error)
{
  const guint8 *pos = block, *end = block + len;
  HqRtpExt ext;
  ExtStep step;

  while ((step = ext_step (&pos, end, two_byte, &ext)) == EXT_ELEMENT) {
  }
  if (step == EXT_MALFORMED) {
    g_set_error (error, HQ_RTP_ERROR, HQ_RTP_ERROR_BAD_EXTENSION,
        "RTP header extension element at byte %u of its %u-byte block runs "
        "past the block",
        (guint)(pos - block), (guint)len);
    return FALSE;
  }
  return TRUE;
}

/* --- header --- */

gboolean
hq_rtp_parse (const guint8 *data, gsize len, HqRtpHeader *hdr, GError **error)
{
  gsize off;

  if (len < HQ_RTP_HEADER_LEN) {
    g_set_error (error, HQ_RTP_ERROR, HQ_RTP_ERROR_TRUNCATED,
        "RTP packet of %" G_GSIZE_FORMAT " bytes is shorter than the "
        "12-byte fixed header",
        len);
    return FALSE;
  }
  if (data[0] >> 6 != 2) {
    g_set_error (error, HQ_RTP_ERROR, HQ_RTP_ERROR_BAD_VERSION,
        "RTP version is %u, not 2", data[0] >> 6);
    return FALSE;
  }
  hdr->padding = (data[0] & 0x20) != 0;
  hdr->extension = (data[0] & 0x10) != 0;
  hdr->csrc_count = data[0] & 0x0f;
  hdr->marker = (data[1] & 0x80) != 0;
  hdr->payload_type = data[1] & 0x7f;
  hdr->seq = hq_rd16 (data + 2);
  hdr->timestamp = hq_rd32 (data + 4);
  hdr->ssrc = hq_rd32 (data + 8);
  hdr->ext_profile = 0;
  hdr->ext_offset = 0;
  hdr->ext_len = 0;
  hdr->padding_len = 0;

  off = HQ_RTP_HEADER_LEN + 4u * hdr->csrc_count;
  if (len < off) {
    g_set_error (error, HQ_RTP_ERROR, HQ_RTP_ERROR_TRUNCATED,
        "RTP packet of %" G_GSIZE_FORMAT " bytes ends inside its list of "
        "%u CSRCs",
        len, hdr->csrc_count);
    return FALSE;
  }
  for (guint i = 0; i < hdr->csrc_count; i++)
    hdr->csrcs[i] = hq_rd32 (data + HQ_RTP_HEADER_LEN + 4 * i);

  if (hdr->extension) {
    if (len < off + 4) {
      g_set_error (error, HQ_RTP_ERROR, HQ_RTP_ERROR_TRUNCATED,
          "RTP packet of %" G_GSIZE_FORMAT " bytes has the extension bit "
          "set but ends before the extension header",
          len);
      return FALSE;
    }
    hdr->ext_profile = hq_rd16 (data + off);
    hdr->ext_len = 4u * hq_rd16 (data + off + 2);
    hdr->ext_offset = off + 4;
    off = hdr->ext_offset + hdr->ext_len;
    if (len < off) {
      g_set_error (error, HQ_RTP_ERROR, HQ_RTP_ERROR_TRUNCATED,
          "RTP header extension of %" G_GSIZE_FORMAT " bytes runs past the "
          "end of the %" G_GSIZE_FORMAT "-byte packet",
          hdr->ext_len, len);
      return FALSE;
    }
    if ((profile_is_one_byte (hdr->ext_profile)
            || profile_is_two_byte (hdr->ext_profile))
        && !ext_block_validate (data + hdr->ext_offset, hdr->ext_len,
            profile_is_two_byte (hdr->ext_profile), error))
      return FALSE;
  }

  if (hdr->padding) {
    guint8 pad = len > off ? data[len - 1] : 0;

    if (pad == 0 || pad > len - off) {
      g_set_error (error, HQ_RTP_ERROR, HQ_RTP_ERROR_BAD_PADDING,
          "RTP padding count %u does not fit the %" G_GSIZE_FORMAT
          " bytes after the header",
          pad, len - off);
      return FALSE;
    }
    hdr->padding_len = pad;
  }
  hdr->payload_offset = off;
  hdr->payload_len = len - off - hdr->padding_len;
  return TRUE;
}

void
hq_rtp_set_ssrc (guint8 *data, guint32 ssrc)
{
  hq_wr32 (data + 8, ssrc);
}

void
hq_rtp_set_seq (guint8 *data, guint16 seq)
{
  hq_wr16 (data + 2, seq);
}

void
hq_rtp_set_timestamp (guint8 *data, guint32 timestamp)
{
  hq_wr32 (data + 4, timestamp);
}

void
hq_rtp_set_payload_type (guint8 *data, guint8 payload_type)
{
  data[1] = (data[1] & 0x80) | (payload_type & 0x7f);
}

void
hq_rtp_set_marker (guint8 *data, gboolean marker)
{
  data[1] = (data[1] & 0x7f) | (marker ? 0x80 : 0);
}

/* --- extension iteration and typed access --- */

void
hq_rtp_ext_iter_init (
    HqRtpExtIter *iter, const guint8 *data, const HqRtpHeader *hdr)
{
  gboolean rfc8285 = hdr->extension
      && (profile_is_one_byte (hdr->ext_profile)
          || profile_is_two_byte (hdr->ext_profile));

  iter->pos = data + hdr->ext_offset;
  iter->end = rfc8285 ? iter->pos + hdr->ext_len : iter->pos;
  iter->two_byte = profile_is_two_byte (hdr->ext_profile);
}

gboolean
hq_rtp_ext_iter_next (HqRtpExtIter *iter, HqRtpExt *ext)
{
  /* The block was validated by hq_rtp_parse(), so MALFORMED cannot come
   * back here; should it, stopping is the safe answer. */
  return ext_step (&iter->pos, iter->end, iter->two_byte, ext) == EXT_ELEMENT;
}

gboolean
hq_rtp_ext_find (
    const guint8 *data, const HqRtpHeader *hdr, guint8 id, HqRtpExt *ext)
{
  HqRtpExtIter iter;
  HqRtpExt e;

  hq_rtp_ext_iter_init (&iter, data, hdr);
  while (hq_rtp_ext_iter_next (&iter, &e)) {
    if (e.id == id) {
      *ext = e;
      return TRUE;
    }
  }
  return FALSE;
}

gboolean
hq_rtp_ext_read_audio_level (
    const HqRtpExt *ext, gboolean *voice, guint8 *level)
{
  /* Some senders pad the one-byte value to two or four bytes. */
  if (ext->len < 1)
    return FALSE;
  *voice = (ext->data[0] & 0x80) != 0;
  *level = ext->data[0] & 0x7f;
  return TRUE;
}

gboolean
hq_rtp_ext_read_abs_send_time (const HqRtpExt *ext, guint32 *time)
{
  if (ext->len != 3)
    return FALSE;
  *time = ((guint32)ext->data[0] << 16) | (ext->data[1] << 8) | ext->data[2];
  return TRUE;
}

gboolean
hq_rtp_ext_read_twcc_seq (const HqRtpExt *ext, guint16 *seq)
{
  if (ext->len != 2)
    return FALSE;
  *seq = hq_rd16 (ext->data);
  return TRUE;
}

gboolean
hq_rtp_ext_read_mid (const HqRtpExt *ext, gchar *buf, gsize buf_size)
{
  if (ext->len == 0 || ext->len >= buf_size)
    return FALSE;
  for (guint i = 0; i < ext->len; i++) {
    if (ext->data[i] < 0x20 || ext->data[i] == 0x7f)
      return FALSE;
  }
  memcpy (buf, ext->data, ext->len);
  buf[ext->len] = '\0';
  return TRUE;
}

/* Finds element @id with exactly @len bytes, writable in place. */
static guint8 *
ext_find_writable (guint8 *data, const HqRtpHeader *hdr, guint8 id, guint8 len,
    const gchar *what, GError **error)
{
  HqRtpExt ext;

  if (!hq_rtp_ext_find (data, hdr, id, &ext) || ext.len != len) {
    g_set_error (error, HQ_RTP_ERROR, HQ_RTP_ERROR_NOT_FOUND,
        "RTP packet has no %u-byte %s header extension with id %u", len, what,
        id);
    return NULL;
  }
  /* ext.data points into @data, which the caller lets us write. */
  return data + (ext.data - data);
}

gboolean
hq_rtp_ext_write_twcc_seq (guint8 *data, const HqRtpHeader *hdr, guint8 id,
    guint16 seq, GError **error)
{
  guint8 *p = ext_find_writable (data, hdr, id, 2, "transport-wide-cc", error);

  if (p == NULL)
    return FALSE;
  hq_wr16 (p, seq);
  return TRUE;
}

gsize
hq_rtp_write_twcc_ext_block (guint8 *out, guint8 id, guint16 seq)
{
  g_return_val_if_fail (id >= 1 && id <= 14, 0);
  /* RFC 8285 one-byte header: 0xBEDE, one word of elements; the element
   * (id, length 2 - 1, value) and a byte of padding fill it. */
  out[0] = 0xbe;
  out[1] = 0xde;
  hq_wr16 (out + 2, 1);
  out[4] = (guint8)(id << 4 | 1);
  hq_wr16 (out + 5, seq);
  out[7] = 0;
  return 8;
}

gsize
hq_rtp_write_padding_packet (
    guint8 *out, guint padding, guint8 ext_id, guint16 seq)
{
  gsize ext;

  g_return_val_if_fail (padding >= 1 && padding <= HQ_RTP_MAX_PADDING, 0);
  g_return_val_if_fail (ext_id >= 1 && ext_id <= 14, 0);
  memset (out, 0, 12);
  out[0] = 0x80 | 0x20 | 0x10; /* version 2, padding, extension */
  ext = hq_rtp_write_twcc_ext_block (out + 12, ext_id, seq);
  memset (out + 12 + ext, 0, padding - 1);
  out[12 + ext + padding - 1] = (guint8)padding;
  return 12 + ext + padding;
}

gboolean
hq_rtp_ext_write_abs_send_time (guint8 *data, const HqRtpHeader *hdr, guint8 id,
    guint32 time, GError **error)
{
  guint8 *p = ext_find_writable (data, hdr, id, 3, "abs-send-time", error);

  if (p == NULL)
    return FALSE;
  p[0] = (time >> 16) & 0xff;
  p[1] = (time >> 8) & 0xff;
  p[2] = time & 0xff;
  return TRUE;
}

guint32
hq_rtp_abs_send_time_from_us (guint64 us)
{
  /* 6.18 fixed point seconds in 24 bits wraps every 64 s; reducing first
   * keeps the shift from overflowing. */
  guint64 in_window = us % (64 * G_USEC_PER_SEC);

  return (guint32)(((in_window << 18) + G_USEC_PER_SEC / 2) / G_USEC_PER_SEC)
      & 0xffffff;
}

guint64
hq_rtp_abs_send_time_to_us (guint32 time)
{
  return (((guint64)(time & 0xffffff)) * G_USEC_PER_SEC + (1u << 17)) >> 18;
}

/* --- sequence numbers --- */

gint
hq_rtp_seq_diff (guint16 a, guint16 b)
{
  return (gint16)(guint16)(a - b);
}

gboolean
hq_rtp_seq_newer (guint16 a, guint16 b)
{
  return hq_rtp_seq_diff (a, b) > 0;
}

void
hq_rtp_seq_unwrapper_init (HqRtpSeqUnwrapper *unwrapper)
{
  unwrapper->last = 0;
  unwrapper->started = FALSE;
}

gint64
hq_rtp_seq_unwrap (HqRtpSeqUnwrapper *unwrapper, guint16 seq)
{
  if (!unwrapper->started) {
    unwrapper->started = TRUE;
    unwrapper->last = seq;
  } else {
    unwrapper->last += hq_rtp_seq_diff (seq, (guint16)unwrapper->last);
  }
  return unwrapper->last;
}

/* --- receive statistics --- */

void
hq_rtp_recv_stats_init (HqRtpRecvStats *stats, guint32 ssrc, guint32 clock_rate)
{
  memset (stats, 0, sizeof *stats);
  stats->ssrc = ssrc;
  stats->clock_rate = clock_rate;
}

static void
recv_stats_init_seq (HqRtpRecvStats *stats, guint16 seq)
{
  stats->base_seq = seq;
  stats->max_seq = seq;
  stats->bad_seq = RTP_SEQ_MOD + 1;
  stats->cycles = 0;
  stats->received = 0;
  stats->received_prior = 0;
  stats->expected_prior = 0;
}

/* RFC 3550 A.1 update_seq(), without the probation of new sources: the
 * SFU knows its sources from signalling before their first packet. */
static gboolean
recv_stats_update_seq (HqRtpRecvStats *stats, guint16 seq)
{
  guint16 udelta = seq - stats->max_seq;

  if (!stats->started) {
    recv_stats_init_seq (stats, seq);
    stats->started = TRUE;
  } else if (udelta < MAX_DROPOUT) {
    if (seq < stats->max_seq)
      stats->cycles += RTP_SEQ_MOD;
    stats->max_seq = seq;
  } else if (udelta <= RTP_SEQ_MOD - MAX_MISORDER) {
    if (seq == stats->bad_seq) {
      /* Two sequential packets after a jump: the source restarted. */
      recv_stats_init_seq (stats, seq);
    } else {
      stats->bad_seq = (seq + 1) & (RTP_SEQ_MOD - 1);
      return FALSE;
    }
  }
  /* else: a duplicate or reordered packet, counted but not the maximum */
  stats->received++;
  return TRUE;
}

/* @us in units of the RTP clock, modulo 2^32 as RTP timestamps are. */
static guint32
us_to_rtp_units (gint64 us, guint32 clock_rate)
{
  guint64 u = (guint64)us;

  return (guint32)((u / G_USEC_PER_SEC) * clock_rate
      + (u % G_USEC_PER_SEC) * clock_rate / G_USEC_PER_SEC);
}

gboolean
hq_rtp_recv_stats_update (HqRtpRecvStats *stats, guint16 seq,
    guint32 rtp_timestamp, gint64 arrival_us)
{
  guint32 transit;

  if (!recv_stats_update_seq (stats, seq))
    return FALSE;

  /* RFC 3550 A.8: transit differences in modular 32-bit arithmetic, the
   * estimate kept scaled by 16 so the 1/16 gain needs no division. */
  transit = us_to_rtp_units (arrival_us, stats->clock_rate) - rtp_timestamp;
  if (stats->have_transit) {
    gint32 d = (gint32)(transit - stats->last_transit);
    guint32 ad = d < 0 ? -(guint32)d : (guint32)d;

    stats->jitter_q4 += ad - ((stats->jitter_q4 + 8) >> 4);
  }
  stats->last_transit = transit;
  stats->have_transit = TRUE;
  return TRUE;
}

void
hq_rtp_recv_stats_sr_received (
    HqRtpRecvStats *stats, guint64 ntp, gint64 arrival_us)
{
  stats->have_sr = TRUE;
  stats->last_sr = (guint32)(ntp >> 16);
  stats->last_sr_arrival_us = arrival_us;
}

guint32
hq_rtp_recv_stats_ext_highest_seq (const HqRtpRecvStats *stats)
{
  return stats->cycles + stats->max_seq;
}

gboolean
hq_rtp_recv_stats_report (
    HqRtpRecvStats *stats, gint64 now_us, HqRtcpReportBlock *block)
{
  guint32 ext_max, expected, expected_interval, received_interval;
  gint64 lost, lost_interval;

  if (!stats->started)
    return FALSE;

  /* RFC 3550 A.3 */
  ext_max = hq_rtp_recv_stats_ext_highest_seq (stats);
  expected = ext_max - stats->base_seq + 1;
  lost = (gint64)expected - stats->received;
  lost = CLAMP (lost, -0x800000, 0x7fffff);
  expected_interval = expected - stats->expected_prior;
  received_interval = stats->received - stats->received_prior;
  lost_interval = (gint64)expected_interval - received_interval;
  stats->expected_prior = expected;
  stats->received_prior = stats->received;

  block->ssrc = stats->ssrc;
  block->fraction_lost = (expected_interval == 0 || lost_interval <= 0)
      ? 0
      : (guint8)MIN ((lost_interval << 8) / expected_interval, 255);
  block->cumulative_lost = (gint32)lost;
  block->ext_highest_seq = ext_max;
  block->jitter = stats->jitter_q4 >> 4;
  if (stats->have_sr) {
    gint64 since = MAX (now_us - stats->last_sr_arrival_us, 0);

    block->lsr = stats->last_sr;
    block->dlsr = (guint32)MIN (since * 65536 / G_USEC_PER_SEC, G_MAXUINT32);
  } else {
    block->lsr = 0;
    block->dlsr = 0;
  }
  return TRUE;
}

/* --- payload formats --- */

/* The length of the RFC 7741 payload descriptor at @d, or 0 when it is
 * truncated (no VP8 payload byte after it). */
static gsize
vp8_descriptor_len (const guint8 *d, gsize len)
{
  gsize i = 1;

  if (len < 1)
    return 0;
  if (d[0] & 0x80) { /* X: extension byte follows */
    guint8 x;
    if (len < 2)
      return 0;
    x = d[1];
    i = 2;
    if (x & 0x80) /* I: picture id, 7 or 15 bits */
      i += (i < len && (d[i] & 0x80)) ? 2 : 1;
    if (x & 0x40) /* L: TL0PICIDX */
      i++;
    if (x & 0x30) /* T or K: TID/KEYIDX byte */
      i++;
  }
  return i < len ? i : 0;
}

gboolean
hq_rtp_vp8_keyframe_size (
    const guint8 *d, gsize len, guint *width, guint *height)
{
  gsize i = vp8_descriptor_len (d, len);
  const guint8 *f;

  /* RFC 6386 9.1: a 3-byte frame tag (bit 0 clear: key), the start code
   * 9d 01 2a, then 14-bit width and height, little-endian */
  if (i == 0 || !(d[0] & 0x10) || (d[0] & 0x07) != 0 || len - i < 10)
    return FALSE;
  f = d + i;
  if ((f[0] & 0x01) != 0 || f[3] != 0x9d || f[4] != 0x01 || f[5] != 0x2a)
    return FALSE;
  *width = (f[6] | f[7] << 8) & 0x3fff;
  *height = (f[8] | f[9] << 8) & 0x3fff;
  return *width > 0 && *height > 0;
}

gboolean
hq_rtp_vp8_parse (
    const guint8 *d, gsize len, gboolean *frame_start, gboolean *keyframe)
{
  gsize i = vp8_descriptor_len (d, len);

  if (i == 0)
    return FALSE;
  /* With S set and partition 0 the VP8 payload header follows: its lowest
   * bit is 0 for a keyframe. */
  *frame_start = (d[0] & 0x10) && (d[0] & 0x07) == 0;
  *keyframe = *frame_start && (d[i] & 0x01) == 0;
  return TRUE;
}

gboolean
hq_rtp_h264_keyframe (const guint8 *d, gsize len)
{
  guint8 type;

  if (len < 1)
    return FALSE;
  type = d[0] & 0x1f;
  if (type == 5 || type == 7)
    return TRUE;
  if (type == 28 && len >= 2) /* FU-A: only its start fragment */
    return (d[1] & 0x80) && ((d[1] & 0x1f) == 5 || (d[1] & 0x1f) == 7);
  if (type == 24) { /* STAP-A: any aggregated unit */
    for (gsize i = 1; i + 2 < len;) {
      gsize n = ((gsize)d[i] << 8) | d[i + 1];
      guint8 t = d[i + 2] & 0x1f;
      if (t == 5 || t == 7)
        return TRUE;
      i += 2 + n;
    }
  }
  return FALSE;
}
