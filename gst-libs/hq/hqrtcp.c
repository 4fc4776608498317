/* RTCP parsing and building.  See hqrtcp.h for the contract.
 *
 * Parsing is two-level: hq_rtcp_iter_init() proves the compound packet's
 * framing (each packet's length inside the bytes, padding only at the
 * end), and each hq_rtcp_parse_*() proves its own type's layout before
 * reading it.  Every read is preceded by a length check against the
 * packet's body, never against the whole datagram.
 *
 * Builders reserve the packet's full size in the writer first, so a packet
 * that does not fit leaves the writer as it was.  The TWCC builder is the
 * one with choices to make (see hq_rtcp_write_twcc()): it first classifies
 * every reported packet into a status symbol, then finds the longest
 * prefix whose encoding fits, then writes chunks and deltas.
 */
#include "hqrtcp.h"

#include "hqbytes.h"

#include <string.h>

#define RTCP_HEADER_LEN 4
#define FB_HEADER_LEN 12
#define REPORT_BLOCK_LEN 24
#define SDES_CNAME 1
/* TWCC: reference time unit, delta unit, and the most statuses one packet
 * built here reports (libwebrtc stays far below this in practice). */
#define TWCC_REF_US 64000
#define TWCC_DELTA_US 250
#define TWCC_MAX_STATUSES 8192
#define TWCC_MAX_RUN 0x1fff

static gint32
sign_extend24 (guint32 v)
{
  return (v & 0x800000) ? (gint32)(v | 0xff000000u) : (gint32)v;
}

gboolean
hq_rtcp_is_rtcp (const guint8 *data, gsize len)
{
  return len >= 2 && data[0] >= 128 && data[0] <= 191 && data[1] >= 192
      && data[1] <= 223;
}

/* --- compound iteration --- */

gboolean
hq_rtcp_iter_init (
    HqRtcpIter *iter, const guint8 *data, gsize len, GError **error)
{
  gsize off = 0;

  if (len == 0) {
    g_set_error_literal (error, HQ_RTP_ERROR, HQ_RTP_ERROR_TRUNCATED,
        "RTCP compound packet is empty");
    return FALSE;
  }
  while (off < len) {
    const guint8 *p = data + off;
    gsize plen;

    if (len - off < RTCP_HEADER_LEN) {
      g_set_error (error, HQ_RTP_ERROR, HQ_RTP_ERROR_TRUNCATED,
          "RTCP compound packet has %" G_GSIZE_FORMAT " bytes left over at "
          "byte %" G_GSIZE_FORMAT ", fewer than a header",
          len - off, off);
      return FALSE;
    }
    if (p[0] >> 6 != 2) {
      g_set_error (error, HQ_RTP_ERROR, HQ_RTP_ERROR_BAD_VERSION,
          "RTCP packet at byte %" G_GSIZE_FORMAT " has version %u, not 2", off,
          p[0] >> 6);
      return FALSE;
    }
    plen = 4u * (hq_rd16 (p + 2) + 1u);
    if (plen > len - off) {
      g_set_error (error, HQ_RTP_ERROR, HQ_RTP_ERROR_TRUNCATED,
          "RTCP packet at byte %" G_GSIZE_FORMAT " says it is %" G_GSIZE_FORMAT
          " bytes long but only %" G_GSIZE_FORMAT " remain",
          off, plen, len - off);
      return FALSE;
    }
    if (p[0] & 0x20) {
      guint8 pad = p[plen - 1];

      if (off + plen != len) {
        g_set_error (error, HQ_RTP_ERROR, HQ_RTP_ERROR_BAD_PADDING,
            "RTCP packet at byte %" G_GSIZE_FORMAT " is padded but is not the "
            "last of its compound packet",
            off);
        return FALSE;
      }
      if (pad == 0 || pad > plen - RTCP_HEADER_LEN) {
        g_set_error (error, HQ_RTP_ERROR, HQ_RTP_ERROR_BAD_PADDING,
            "RTCP padding count %u does not fit the %" G_GSIZE_FORMAT
            "-byte packet body",
            pad, plen - RTCP_HEADER_LEN);
        return FALSE;
      }
    }
    off += plen;
  }
  iter->pos = data;
  iter->end = data + len;
  return TRUE;
}

gboolean
hq_rtcp_iter_next (HqRtcpIter *iter, HqRtcpPacket *packet)
{
  const guint8 *p = iter->pos;
  gsize plen;

  if (iter->end - p < RTCP_HEADER_LEN)
    return FALSE;
  plen = 4u * (hq_rd16 (p + 2) + 1u);
  packet->type = p[1];
  packet->count = p[0] & 0x1f;
  packet->data = p;
  packet->len = plen;
  packet->body = p + RTCP_HEADER_LEN;
  packet->body_len = plen - RTCP_HEADER_LEN - ((p[0] & 0x20) ? p[plen - 1] : 0);
  iter->pos = p + plen;
  return TRUE;
}

/* --- parsers --- */

static gboolean
expect_type (
    const HqRtcpPacket *packet, guint8 type, const gchar *what, GError **error)
{
  if (packet->type != type) {
    g_set_error (error, HQ_RTP_ERROR, HQ_RTP_ERROR_BAD_TYPE,
        "RTCP packet type %u is not %s (%u)", packet->type, what, type);
    return FALSE;
  }
  return TRUE;
}

static gboolean
expect_body (
    const HqRtcpPacket *packet, gsize need, const gchar *what, GError **error)
{
  if (packet->body_len < need) {
    g_set_error (error, HQ_RTP_ERROR, HQ_RTP_ERROR_BAD_LENGTH,
        "RTCP %s needs %" G_GSIZE_FORMAT " bytes after its header but has "
        "%" G_GSIZE_FORMAT,
        what, need, packet->body_len);
    return FALSE;
  }
  return TRUE;
}

static void
read_report_blocks (const guint8 *p, guint n, HqRtcpReportBlock *blocks)
{
  for (guint i = 0; i < n; i++, p += REPORT_BLOCK_LEN) {
    blocks[i].ssrc = hq_rd32 (p);
    blocks[i].fraction_lost = p[4];
    blocks[i].cumulative_lost = sign_extend24 (hq_rd24 (p + 5));
    blocks[i].ext_highest_seq = hq_rd32 (p + 8);
    blocks[i].jitter = hq_rd32 (p + 12);
    blocks[i].lsr = hq_rd32 (p + 16);
    blocks[i].dlsr = hq_rd32 (p + 20);
  }
}

gboolean
hq_rtcp_parse_sr (const HqRtcpPacket *packet, HqRtcpSenderInfo *info,
    HqRtcpReportBlock *blocks, guint *n_blocks, GError **error)
{
  const guint8 *b = packet->body;

  if (!expect_type (packet, HQ_RTCP_SR, "SR", error)
      || !expect_body (
          packet, 24 + REPORT_BLOCK_LEN * packet->count, "SR", error))
    return FALSE;
  info->ssrc = hq_rd32 (b);
  info->ntp = ((guint64)hq_rd32 (b + 4) << 32) | hq_rd32 (b + 8);
  info->rtp_timestamp = hq_rd32 (b + 12);
  info->packet_count = hq_rd32 (b + 16);
  info->octet_count = hq_rd32 (b + 20);
  read_report_blocks (b + 24, packet->count, blocks);
  *n_blocks = packet->count;
  return TRUE;
}

gboolean
hq_rtcp_parse_rr (const HqRtcpPacket *packet, guint32 *ssrc,
    HqRtcpReportBlock *blocks, guint *n_blocks, GError **error)
{
  if (!expect_type (packet, HQ_RTCP_RR, "RR", error)
      || !expect_body (
          packet, 4 + REPORT_BLOCK_LEN * packet->count, "RR", error))
    return FALSE;
  *ssrc = hq_rd32 (packet->body);
  read_report_blocks (packet->body + 4, packet->count, blocks);
  *n_blocks = packet->count;
  return TRUE;
}

gboolean
hq_rtcp_parse_sdes (const HqRtcpPacket *packet, HqRtcpSdesCname *chunks,
    guint *n_chunks, GError **error)
{
  gsize off = 0, len = packet->body_len;
  const guint8 *b = packet->body;

  if (!expect_type (packet, HQ_RTCP_SDES, "SDES", error))
    return FALSE;
  for (guint c = 0; c < packet->count; c++) {
    HqRtcpSdesCname *chunk = &chunks[c];

    if (len - off < 4) {
      g_set_error (error, HQ_RTP_ERROR, HQ_RTP_ERROR_BAD_LENGTH,
          "RTCP SDES announces %u chunks but ends inside chunk %u",
          packet->count, c + 1);
      return FALSE;
    }
    chunk->ssrc = hq_rd32 (b + off);
    chunk->cname[0] = '\0';
    off += 4;
    for (;;) {
      guint8 type, item_len;

      if (off >= len) {
        g_set_error (error, HQ_RTP_ERROR, HQ_RTP_ERROR_BAD_LENGTH,
            "RTCP SDES chunk %u has no terminating null item", c + 1);
        return FALSE;
      }
      type = b[off];
      if (type == 0) {
        /* The null item, then padding to the next 32-bit boundary. */
        off = (off + 4) & ~(gsize)3;
        break;
      }
      if (len - off < 2 || len - off - 2 < b[off + 1]) {
        g_set_error (error, HQ_RTP_ERROR, HQ_RTP_ERROR_BAD_LENGTH,
            "RTCP SDES item of type %u in chunk %u runs past the packet", type,
            c + 1);
        return FALSE;
      }
      item_len = b[off + 1];
      if (type == SDES_CNAME) {
        if (memchr (b + off + 2, 0, item_len) != NULL) {
          g_set_error (error, HQ_RTP_ERROR, HQ_RTP_ERROR_BAD_TYPE,
              "RTCP SDES CNAME of chunk %u contains a NUL byte", c + 1);
          return FALSE;
        }
        memcpy (chunk->cname, b + off + 2, item_len);
        chunk->cname[item_len] = '\0';
      }
      off += 2u + item_len;
    }
    if (off > len) {
      g_set_error (error, HQ_RTP_ERROR, HQ_RTP_ERROR_BAD_LENGTH,
          "RTCP SDES chunk %u is not padded to a 32-bit boundary", c + 1);
      return FALSE;
    }
  }
  *n_chunks = packet->count;
  return TRUE;
}

gboolean
hq_rtcp_parse_bye (const HqRtcpPacket *packet, guint32 *ssrcs, guint *n_ssrcs,
    gchar *reason, GError **error)
{
  gsize off = 4u * packet->count;

  if (!expect_type (packet, HQ_RTCP_BYE, "BYE", error)
      || !expect_body (packet, off, "BYE", error))
    return FALSE;
  reason[0] = '\0';
  if (packet->body_len > off) {
    guint8 rlen = packet->body[off];

    if (packet->body_len - off - 1 < rlen) {
      g_set_error (error, HQ_RTP_ERROR, HQ_RTP_ERROR_BAD_LENGTH,
          "RTCP BYE reason of %u bytes runs past the packet", rlen);
      return FALSE;
    }
    memcpy (reason, packet->body + off + 1, rlen);
    reason[rlen] = '\0';
  }
  for (guint i = 0; i < packet->count; i++)
    ssrcs[i] = hq_rd32 (packet->body + 4 * i);
  *n_ssrcs = packet->count;
  return TRUE;
}

gboolean
hq_rtcp_parse_fb (const HqRtcpPacket *packet, HqRtcpFb *fb, GError **error)
{
  if (packet->type != HQ_RTCP_RTPFB && packet->type != HQ_RTCP_PSFB) {
    g_set_error (error, HQ_RTP_ERROR, HQ_RTP_ERROR_BAD_TYPE,
        "RTCP packet type %u is not a feedback message (205 or 206)",
        packet->type);
    return FALSE;
  }
  if (!expect_body (packet, 8, "feedback message", error))
    return FALSE;
  fb->sender_ssrc = hq_rd32 (packet->body);
  fb->media_ssrc = hq_rd32 (packet->body + 4);
  fb->fci = packet->body + 8;
  fb->fci_len = packet->body_len - 8;
  return TRUE;
}

/* The common header of feedback @type/@fmt, with an FCI that is a whole
 * number of @unit-byte entries (at least @min_entries of them). */
static gboolean
parse_fb_of (const HqRtcpPacket *packet, guint8 type, guint8 fmt,
    const gchar *what, gsize unit, gsize min_entries, HqRtcpFb *fb,
    GError **error)
{
  if (packet->type != type || packet->count != fmt) {
    g_set_error (error, HQ_RTP_ERROR, HQ_RTP_ERROR_BAD_TYPE,
        "RTCP packet type %u format %u is not %s (%u/%u)", packet->type,
        packet->count, what, type, fmt);
    return FALSE;
  }
  if (!hq_rtcp_parse_fb (packet, fb, error))
    return FALSE;
  if (unit > 0
      && (fb->fci_len % unit != 0 || fb->fci_len / unit < min_entries)) {
    g_set_error (error, HQ_RTP_ERROR, HQ_RTP_ERROR_BAD_LENGTH,
        "RTCP %s FCI of %" G_GSIZE_FORMAT " bytes is not a non-empty list of "
        "%" G_GSIZE_FORMAT "-byte entries",
        what, fb->fci_len, unit);
    return FALSE;
  }
  return TRUE;
}

gboolean
hq_rtcp_parse_nack (
    const HqRtcpPacket *packet, HqRtcpFb *fb, GArray *lost, GError **error)
{
  if (!parse_fb_of (packet, HQ_RTCP_RTPFB, HQ_RTCP_RTPFB_NACK, "generic NACK",
          4, 1, fb, error))
    return FALSE;
  for (gsize off = 0; off < fb->fci_len; off += 4) {
    guint16 pid = hq_rd16 (fb->fci + off), blp = hq_rd16 (fb->fci + off + 2);

    g_array_append_val (lost, pid);
    for (guint bit = 0; bit < 16; bit++) {
      if (blp & (1u << bit)) {
        guint16 seq = pid + bit + 1;

        g_array_append_val (lost, seq);
      }
    }
  }
  return TRUE;
}

gboolean
hq_rtcp_parse_pli (const HqRtcpPacket *packet, HqRtcpFb *fb, GError **error)
{
  return parse_fb_of (
      packet, HQ_RTCP_PSFB, HQ_RTCP_PSFB_PLI, "PLI", 0, 0, fb, error);
}

gboolean
hq_rtcp_parse_fir (
    const HqRtcpPacket *packet, HqRtcpFb *fb, GArray *entries, GError **error)
{
  if (!parse_fb_of (
          packet, HQ_RTCP_PSFB, HQ_RTCP_PSFB_FIR, "FIR", 8, 1, fb, error))
    return FALSE;
  for (gsize off = 0; off < fb->fci_len; off += 8) {
    HqRtcpFirEntry e = { hq_rd32 (fb->fci + off), fb->fci[off + 4] };

    g_array_append_val (entries, e);
  }
  return TRUE;
}

gboolean
hq_rtcp_parse_remb (
    const HqRtcpPacket *packet, HqRtcpFb *fb, HqRtcpRemb *remb, GError **error)
{
  guint n, exp;
  guint64 mantissa;

  if (!parse_fb_of (packet, HQ_RTCP_PSFB, HQ_RTCP_PSFB_AFB,
          "application layer feedback", 0, 0, fb, error))
    return FALSE;
  if (fb->fci_len < 8 || memcmp (fb->fci, "REMB", 4) != 0) {
    g_set_error_literal (error, HQ_RTP_ERROR, HQ_RTP_ERROR_BAD_TYPE,
        "RTCP application layer feedback is not REMB");
    return FALSE;
  }
  n = fb->fci[4];
  if (fb->fci_len - 8 < 4u * n) {
    g_set_error (error, HQ_RTP_ERROR, HQ_RTP_ERROR_BAD_LENGTH,
        "RTCP REMB lists %u SSRCs but has room for %" G_GSIZE_FORMAT, n,
        (fb->fci_len - 8) / 4);
    return FALSE;
  }
  exp = fb->fci[5] >> 2;
  mantissa = ((guint64)(fb->fci[5] & 0x03) << 16) | hq_rd16 (fb->fci + 6);
  /* An 18-bit mantissa shifted by up to 63 can overflow: saturate, as no
   * link is that fast anyway. */
  if (mantissa != 0 && exp > 46 && (mantissa >> (64 - exp)) != 0)
    remb->bitrate = G_MAXUINT64;
  else
    remb->bitrate = mantissa << exp;
  remb->n_ssrcs = n;
  for (guint i = 0; i < n; i++)
    remb->ssrcs[i] = hq_rd32 (fb->fci + 8 + 4 * i);
  return TRUE;
}

/* --- TWCC feedback parsing --- */

static gboolean
twcc_fail (GArray *statuses, guint keep, GError **error, gint code,
    const gchar *message)
{
  g_array_set_size (statuses, keep);
  g_set_error_literal (error, HQ_RTP_ERROR, code, message);
  return FALSE;
}

gboolean
hq_rtcp_parse_twcc (const HqRtcpPacket *packet, HqRtcpFb *fb,
    HqTwccFeedback *twcc, GArray *statuses, GError **error)
{
  const guint8 *p, *end;
  guint keep = statuses->len, got = 0;
  gint64 now;

  if (!parse_fb_of (packet, HQ_RTCP_RTPFB, HQ_RTCP_RTPFB_TWCC,
          "transport-wide CC feedback", 0, 0, fb, error))
    return FALSE;
  if (fb->fci_len < 8) {
    g_set_error (error, HQ_RTP_ERROR, HQ_RTP_ERROR_BAD_LENGTH,
        "RTCP transport-wide CC feedback of %" G_GSIZE_FORMAT " FCI bytes "
        "is shorter than its 8-byte fixed part",
        fb->fci_len);
    return FALSE;
  }
  p = fb->fci;
  end = fb->fci + fb->fci_len;
  twcc->base_seq = hq_rd16 (p);
  twcc->status_count = hq_rd16 (p + 2);
  twcc->reference_time = sign_extend24 (hq_rd24 (p + 4));
  twcc->fb_count = p[7];
  p += 8;

  /* First the chunks: one status per packet, the symbol parked in
   * arrival_us until the deltas are read. */
  while (got < twcc->status_count) {
    guint16 chunk;
    guint n, bits, left = twcc->status_count - got;

    if (end - p < 2)
      return twcc_fail (statuses, keep, error, HQ_RTP_ERROR_BAD_LENGTH,
          "RTCP transport-wide CC feedback ends before its packet status "
          "chunks cover the status count");
    chunk = hq_rd16 (p);
    p += 2;
    if (!(chunk & 0x8000)) {
      guint symbol = (chunk >> 13) & 3;

      n = MIN (chunk & TWCC_MAX_RUN, left);
      if (symbol == 3 && n > 0)
        return twcc_fail (statuses, keep, error, HQ_RTP_ERROR_BAD_TYPE,
            "RTCP transport-wide CC run length chunk uses the reserved "
            "status symbol 3");
      for (guint i = 0; i < n; i++) {
        HqTwccStatus s = { twcc->base_seq + got + i, symbol != 0, symbol };

        g_array_append_val (statuses, s);
      }
    } else {
      bits = (chunk & 0x4000) ? 2 : 1;
      n = MIN (14 / bits, left);
      for (guint i = 0; i < n; i++) {
        guint symbol = (chunk >> (14 - bits * (i + 1))) & (bits == 2 ? 3 : 1);
        HqTwccStatus s = { twcc->base_seq + got + i, symbol != 0, symbol };

        if (symbol == 3)
          return twcc_fail (statuses, keep, error, HQ_RTP_ERROR_BAD_TYPE,
              "RTCP transport-wide CC status vector uses the reserved "
              "status symbol 3");
        g_array_append_val (statuses, s);
      }
    }
    got += n;
  }

  /* Then one receive delta per received packet, in 250 µs units from the
   * reference time, each relative to the previous packet. */
  now = (gint64)twcc->reference_time * TWCC_REF_US;
  for (guint i = keep; i < statuses->len; i++) {
    HqTwccStatus *s = &g_array_index (statuses, HqTwccStatus, i);
    gint64 symbol = s->arrival_us;

    s->arrival_us = 0;
    if (symbol == 0)
      continue;
    if (end - p < symbol)
      return twcc_fail (statuses, keep, error, HQ_RTP_ERROR_BAD_LENGTH,
          "RTCP transport-wide CC feedback ends before the receive delta of "
          "a received packet");
    now += TWCC_DELTA_US * (symbol == 1 ? *p : (gint16)hq_rd16 (p));
    p += symbol;
    s->arrival_us = now;
  }
  return TRUE;
}

/* --- writer --- */

void
hq_rtcp_writer_init (HqRtcpWriter *writer, guint8 *buf, gsize size)
{
  writer->buf = buf;
  writer->size = size;
  writer->len = 0;
  writer->last = 0;
}

/* Space for a packet of @len bytes (a multiple of 4) at the writer's end,
 * zeroed, with its header written; NULL if it does not fit. */
static guint8 *
writer_begin (
    HqRtcpWriter *writer, gsize len, guint8 count, guint8 type, GError **error)
{
  guint8 *p;

  if (writer->size - writer->len < len) {
    g_set_error (error, HQ_RTP_ERROR, HQ_RTP_ERROR_NO_SPACE,
        "RTCP packet of %" G_GSIZE_FORMAT
        " bytes does not fit the %" G_GSIZE_FORMAT " bytes left in the buffer",
        len, writer->size - writer->len);
    return NULL;
  }
  if (len / 4 - 1 > G_MAXUINT16) {
    g_set_error (error, HQ_RTP_ERROR, HQ_RTP_ERROR_INVALID_ARGUMENT,
        "RTCP packet of %" G_GSIZE_FORMAT " bytes is longer than its length "
        "field can say",
        len);
    return NULL;
  }
  p = writer->buf + writer->len;
  memset (p, 0, len);
  p[0] = 0x80 | (count & 0x1f);
  p[1] = type;
  hq_wr16 (p + 2, (guint16)(len / 4 - 1));
  writer->last = writer->len;
  writer->len += len;
  return p;
}

static gboolean
invalid (GError **error, const gchar *message)
{
  g_set_error_literal (
      error, HQ_RTP_ERROR, HQ_RTP_ERROR_INVALID_ARGUMENT, message);
  return FALSE;
}

gboolean
hq_rtcp_writer_pad (HqRtcpWriter *writer, guint align, GError **error)
{
  gsize pad;
  guint8 *last;

  if (align < 4 || align > 252 || align % 4 != 0)
    return invalid (error,
        "RTCP padding alignment must be a multiple of 4 "
        "between 4 and 252");
  if (writer->len == 0)
    return invalid (error, "RTCP compound packet is empty: nothing to pad");
  last = writer->buf + writer->last;
  if (last[0] & 0x20)
    return invalid (error, "RTCP compound packet is already padded");
  pad = (align - writer->len % align) % align;
  if (pad == 0)
    return TRUE;
  if (writer->size - writer->len < pad) {
    g_set_error (error, HQ_RTP_ERROR, HQ_RTP_ERROR_NO_SPACE,
        "RTCP padding of %" G_GSIZE_FORMAT " bytes does not fit the buffer",
        pad);
    return FALSE;
  }
  memset (writer->buf + writer->len, 0, pad);
  writer->len += pad;
  writer->buf[writer->len - 1] = (guint8)pad;
  last[0] |= 0x20;
  hq_wr16 (last + 2, (guint16)((writer->len - writer->last) / 4 - 1));
  return TRUE;
}

static void
write_report_blocks (guint8 *p, const HqRtcpReportBlock *blocks, guint n)
{
  for (guint i = 0; i < n; i++, p += REPORT_BLOCK_LEN) {
    gint32 lost = CLAMP (blocks[i].cumulative_lost, -0x800000, 0x7fffff);

    hq_wr32 (p, blocks[i].ssrc);
    p[4] = blocks[i].fraction_lost;
    hq_wr24 (p + 5, (guint32)lost & 0xffffff);
    hq_wr32 (p + 8, blocks[i].ext_highest_seq);
    hq_wr32 (p + 12, blocks[i].jitter);
    hq_wr32 (p + 16, blocks[i].lsr);
    hq_wr32 (p + 20, blocks[i].dlsr);
  }
}

gboolean
hq_rtcp_write_sr (HqRtcpWriter *writer, const HqRtcpSenderInfo *info,
    const HqRtcpReportBlock *blocks, guint n_blocks, GError **error)
{
  guint8 *p;

  if (n_blocks > HQ_RTCP_MAX_COUNT)
    return invalid (error, "an RTCP SR holds at most 31 report blocks");
  p = writer_begin (
      writer, 28 + REPORT_BLOCK_LEN * n_blocks, n_blocks, HQ_RTCP_SR, error);
  if (p == NULL)
    return FALSE;
  hq_wr32 (p + 4, info->ssrc);
  hq_wr32 (p + 8, (guint32)(info->ntp >> 32));
  hq_wr32 (p + 12, (guint32)info->ntp);
  hq_wr32 (p + 16, info->rtp_timestamp);
  hq_wr32 (p + 20, info->packet_count);
  hq_wr32 (p + 24, info->octet_count);
  write_report_blocks (p + 28, blocks, n_blocks);
  return TRUE;
}

gboolean
hq_rtcp_write_rr (HqRtcpWriter *writer, guint32 ssrc,
    const HqRtcpReportBlock *blocks, guint n_blocks, GError **error)
{
  guint8 *p;

  if (n_blocks > HQ_RTCP_MAX_COUNT)
    return invalid (error, "an RTCP RR holds at most 31 report blocks");
  p = writer_begin (
      writer, 8 + REPORT_BLOCK_LEN * n_blocks, n_blocks, HQ_RTCP_RR, error);
  if (p == NULL)
    return FALSE;
  hq_wr32 (p + 4, ssrc);
  write_report_blocks (p + 8, blocks, n_blocks);
  return TRUE;
}

gboolean
hq_rtcp_write_rr_from_stats (HqRtcpWriter *writer, guint32 ssrc,
    HqRtpRecvStats *const *stats, guint n_stats, gint64 now_us, GError **error)
{
  HqRtcpReportBlock blocks[HQ_RTCP_MAX_COUNT];
  guint n = 0;

  if (n_stats > HQ_RTCP_MAX_COUNT)
    return invalid (error, "an RTCP RR holds at most 31 report blocks");
  for (guint i = 0; i < n_stats; i++)
    n += stats[i]->started ? 1 : 0;
  /* Check the space before taking reports: taking one starts a new
   * fraction-lost interval, which must not happen for an unsent report. */
  if (writer->size - writer->len < 8u + REPORT_BLOCK_LEN * n) {
    g_set_error (error, HQ_RTP_ERROR, HQ_RTP_ERROR_NO_SPACE,
        "RTCP RR with %u report blocks does not fit the %" G_GSIZE_FORMAT
        " bytes left in the buffer",
        n, writer->size - writer->len);
    return FALSE;
  }
  n = 0;
  for (guint i = 0; i < n_stats; i++) {
    if (hq_rtp_recv_stats_report (stats[i], now_us, &blocks[n]))
      n++;
  }
  return hq_rtcp_write_rr (writer, ssrc, blocks, n, error);
}

gboolean
hq_rtcp_write_sdes_cname (
    HqRtcpWriter *writer, guint32 ssrc, const gchar *cname, GError **error)
{
  gsize len = cname ? strlen (cname) : 0;
  guint8 *p;

  if (len == 0 || len > 255)
    return invalid (error, "an RTCP SDES CNAME must be 1 to 255 bytes long");
  /* SSRC, type, length, text, at least one null byte, padded to 32 bits. */
  p = writer_begin (
      writer, 4 + ((4 + 2 + len + 1 + 3) & ~(gsize)3), 1, HQ_RTCP_SDES, error);
  if (p == NULL)
    return FALSE;
  hq_wr32 (p + 4, ssrc);
  p[8] = SDES_CNAME;
  p[9] = (guint8)len;
  memcpy (p + 10, cname, len);
  return TRUE;
}

gboolean
hq_rtcp_write_bye (HqRtcpWriter *writer, const guint32 *ssrcs, guint n_ssrcs,
    const gchar *reason, GError **error)
{
  gsize rlen = reason ? strlen (reason) : 0;
  gsize len = 4 + 4 * n_ssrcs + (rlen ? (1 + rlen + 3) & ~(gsize)3 : 0);
  guint8 *p;

  if (n_ssrcs > HQ_RTCP_MAX_COUNT)
    return invalid (error, "an RTCP BYE holds at most 31 SSRCs");
  if (rlen > 255)
    return invalid (error, "an RTCP BYE reason is at most 255 bytes long");
  p = writer_begin (writer, len, n_ssrcs, HQ_RTCP_BYE, error);
  if (p == NULL)
    return FALSE;
  for (guint i = 0; i < n_ssrcs; i++)
    hq_wr32 (p + 4 + 4 * i, ssrcs[i]);
  if (rlen) {
    p[4 + 4 * n_ssrcs] = (guint8)rlen;
    memcpy (p + 5 + 4 * n_ssrcs, reason, rlen);
  }
  return TRUE;
}

static guint8 *
write_fb_header (HqRtcpWriter *writer, gsize fci_len, guint8 type, guint8 fmt,
    guint32 sender_ssrc, guint32 media_ssrc, GError **error)
{
  guint8 *p = writer_begin (writer, FB_HEADER_LEN + fci_len, fmt, type, error);

  if (p == NULL)
    return NULL;
  hq_wr32 (p + 4, sender_ssrc);
  hq_wr32 (p + 8, media_ssrc);
  return p + FB_HEADER_LEN;
}

/* Packs @lost into PID/BLP pairs; with @fci NULL only counts them. */
static gsize
nack_pack (const guint16 *lost, gsize n_lost, guint8 *fci)
{
  gsize n_fci = 0;
  guint16 pid = 0, blp = 0;

  for (gsize i = 0; i < n_lost; i++) {
    gint d = n_fci ? hq_rtp_seq_diff (lost[i], pid) : -1;

    if (d == 0)
      continue;
    if (d >= 1 && d <= 16) {
      blp |= 1u << (d - 1);
    } else {
      if (n_fci && fci) {
        hq_wr16 (fci + 4 * (n_fci - 1), pid);
        hq_wr16 (fci + 4 * (n_fci - 1) + 2, blp);
      }
      pid = lost[i];
      blp = 0;
      n_fci++;
    }
  }
  if (n_fci && fci) {
    hq_wr16 (fci + 4 * (n_fci - 1), pid);
    hq_wr16 (fci + 4 * (n_fci - 1) + 2, blp);
  }
  return n_fci;
}

gboolean
hq_rtcp_write_nack (HqRtcpWriter *writer, guint32 sender_ssrc,
    guint32 media_ssrc, const guint16 *lost, gsize n_lost, GError **error)
{
  gsize n_fci;
  guint8 *fci;

  if (n_lost == 0)
    return invalid (error, "an RTCP NACK needs at least one lost packet");
  n_fci = nack_pack (lost, n_lost, NULL);
  fci = write_fb_header (writer, 4 * n_fci, HQ_RTCP_RTPFB, HQ_RTCP_RTPFB_NACK,
      sender_ssrc, media_ssrc, error);
  if (fci == NULL)
    return FALSE;
  nack_pack (lost, n_lost, fci);
  return TRUE;
}

gboolean
hq_rtcp_write_pli (HqRtcpWriter *writer, guint32 sender_ssrc,
    guint32 media_ssrc, GError **error)
{
  return write_fb_header (writer, 0, HQ_RTCP_PSFB, HQ_RTCP_PSFB_PLI,
             sender_ssrc, media_ssrc, error)
      != NULL;
}

gboolean
hq_rtcp_write_fir (HqRtcpWriter *writer, guint32 sender_ssrc,
    const HqRtcpFirEntry *entries, guint n_entries, GError **error)
{
  guint8 *fci;

  if (n_entries == 0)
    return invalid (error, "an RTCP FIR needs at least one entry");
  fci = write_fb_header (writer, 8u * n_entries, HQ_RTCP_PSFB, HQ_RTCP_PSFB_FIR,
      sender_ssrc, 0, error);
  if (fci == NULL)
    return FALSE;
  for (guint i = 0; i < n_entries; i++) {
    hq_wr32 (fci + 8 * i, entries[i].ssrc);
    fci[8 * i + 4] = entries[i].seq;
  }
  return TRUE;
}

gboolean
hq_rtcp_write_remb (HqRtcpWriter *writer, guint32 sender_ssrc, guint64 bitrate,
    const guint32 *ssrcs, guint n_ssrcs, GError **error)
{
  guint exp = 0;
  guint8 *fci;

  if (n_ssrcs == 0 || n_ssrcs > 255)
    return invalid (error, "an RTCP REMB lists 1 to 255 SSRCs");
  while (bitrate > 0x3ffff) {
    bitrate >>= 1;
    exp++;
  }
  fci = write_fb_header (writer, 8 + 4u * n_ssrcs, HQ_RTCP_PSFB,
      HQ_RTCP_PSFB_AFB, sender_ssrc, 0, error);
  if (fci == NULL)
    return FALSE;
  memcpy (fci, "REMB", 4);
  fci[4] = (guint8)n_ssrcs;
  fci[5] = (guint8)((exp << 2) | (bitrate >> 16));
  hq_wr16 (fci + 6, bitrate & 0xffff);
  for (guint i = 0; i < n_ssrcs; i++)
    hq_wr32 (fci + 8 + 4 * i, ssrcs[i]);
  return TRUE;
}

/* --- TWCC feedback building --- */

static gint64
floor_div (gint64 a, gint64 b)
{
  gint64 q = a / b;

  return (a % b != 0 && a < 0) ? q - 1 : q;
}

/* Encodes @n status symbols (0 lost, 1 small delta, 2 large delta) as
 * packet status chunks into @out (NULL: only count).  Returns the number
 * of chunks.  At each point it takes whichever of a run-length chunk, a
 * 14-symbol 1-bit vector and a 7-symbol 2-bit vector covers most, runs
 * winning ties as they are the simplest to read.  A vector may hold fewer
 * symbols only at the end, where the status count cuts it. */
static gsize
twcc_encode_chunks (const guint8 *sym, gsize n, guint8 *out)
{
  gsize i = 0, chunks = 0;

  while (i < n) {
    gsize left = n - i, run = 1, cap1 = MIN (left, 14), cap2 = MIN (left, 7);
    guint16 chunk;

    while (run < left && run < TWCC_MAX_RUN && sym[i + run] == sym[i])
      run++;
    for (gsize t = 0; t < cap1; t++) {
      if (sym[i + t] == 2) {
        cap1 = 0;
        break;
      }
    }
    if (run >= MAX (cap1, cap2)) {
      chunk = (guint16)((sym[i] << 13) | run);
      i += run;
    } else if (cap1 >= cap2) {
      chunk = 0x8000;
      for (gsize t = 0; t < cap1; t++)
        chunk |= (guint16)(sym[i + t] << (13 - t));
      i += cap1;
    } else {
      chunk = 0xc000;
      for (gsize t = 0; t < cap2; t++)
        chunk |= (guint16)(sym[i + t] << (12 - 2 * t));
      i += cap2;
    }
    if (out)
      hq_wr16 (out + 2 * chunks, chunk);
    chunks++;
  }
  return chunks;
}

/* Bytes of the whole feedback packet reporting the first @n symbols. */
static gsize
twcc_packet_len (const guint8 *sym, gsize n)
{
  gsize deltas = 0;

  for (gsize i = 0; i < n; i++)
    deltas += sym[i];
  return FB_HEADER_LEN
      + ((8 + 2 * twcc_encode_chunks (sym, n, NULL) + deltas + 3) & ~(gsize)3);
}

gboolean
hq_rtcp_write_twcc (HqRtcpWriter *writer, guint32 sender_ssrc,
    guint32 media_ssrc, guint8 fb_count, guint16 base_seq,
    const HqTwccArrival *arrivals, gsize n_arrivals, gsize *n_done,
    GError **error)
{
  guint8 sym[TWCC_MAX_STATUSES];
  gsize n_sym = 0, k = 0, lo, hi, len;
  gint64 ref, now;
  guint16 base = base_seq;
  guint8 *fci, *p;

  if (n_arrivals == 0)
    return invalid (error,
        "a transport-wide CC feedback needs at least one "
        "received packet");
  ref = floor_div (arrivals[0].arrival_us, TWCC_REF_US);
  now = ref * TWCC_REF_US;

  /* Classify: lost packets in the gaps, then the received one's delta
   * size.  Stop where a delta does not fit 16 bits or the statuses would
   * not fit; those arrivals go in the next packet. */
  for (k = 0; k < n_arrivals; k++) {
    guint16 prev = k ? arrivals[k - 1].seq : (guint16)(base - 1);
    gint gap = hq_rtp_seq_diff (arrivals[k].seq, prev);
    gint64 ticks;

    if (gap <= 0) {
      g_set_error (error, HQ_RTP_ERROR, HQ_RTP_ERROR_INVALID_ARGUMENT,
          "transport-wide CC arrivals must be in ascending sequence order "
          "from the base %u without duplicates (%u follows %u)",
          base, arrivals[k].seq, prev);
      return FALSE;
    }
    if (k == 0 && gap > TWCC_MAX_STATUSES) {
      /* More losses before the first arrival than one packet reports:
       * report the most recent ones. */
      base = arrivals[0].seq - (TWCC_MAX_STATUSES - 1);
      gap = TWCC_MAX_STATUSES;
    }
    if (n_sym + gap > TWCC_MAX_STATUSES)
      break;
    ticks = floor_div (
        arrivals[k].arrival_us - now + TWCC_DELTA_US / 2, TWCC_DELTA_US);
    if (ticks < G_MININT16 || ticks > G_MAXINT16)
      break;
    memset (sym + n_sym, 0, gap - 1);
    n_sym += gap - 1;
    sym[n_sym++] = (ticks >= 0 && ticks <= 255) ? 1 : 2;
    now += ticks * TWCC_DELTA_US;
  }

  /* A prefix that fits, by binary search: adding packets can only make
   * the encoding longer, give or take the greedy chunking at the end, and
   * any prefix the search accepts was measured to fit.  A prefix of k
   * arrivals covers the statuses up to its last sequence number. */
  lo = 0;
  hi = k;
  if (k > 0 && twcc_packet_len (sym, n_sym) <= writer->size - writer->len)
    lo = k; /* the usual case: everything fits */
  while (lo < hi) {
    gsize mid = lo + (hi - lo + 1) / 2;
    gsize mid_sym = (guint16)(arrivals[mid - 1].seq - base) + 1u;

    if (twcc_packet_len (sym, mid_sym) <= writer->size - writer->len)
      lo = mid;
    else
      hi = mid - 1;
  }
  if (lo == 0) {
    g_set_error (error, HQ_RTP_ERROR, HQ_RTP_ERROR_NO_SPACE,
        "transport-wide CC feedback for even one packet does not fit the "
        "%" G_GSIZE_FORMAT " bytes left in the buffer",
        writer->size - writer->len);
    return FALSE;
  }
  k = lo;
  n_sym = (guint16)(arrivals[k - 1].seq - base) + 1u;
  len = twcc_packet_len (sym, n_sym);

  fci = write_fb_header (writer, len - FB_HEADER_LEN, HQ_RTCP_RTPFB,
      HQ_RTCP_RTPFB_TWCC, sender_ssrc, media_ssrc, error);
  if (fci == NULL)
    return FALSE;
  hq_wr16 (fci, base);
  hq_wr16 (fci + 2, (guint16)n_sym);
  /* The field is 24 bits: a reference time past 2^23 * 64 ms (149 h)
   * wraps, which feedback receivers unwrap. */
  hq_wr24 (fci + 4, (guint32)ref & 0xffffff);
  fci[7] = fb_count;
  p = fci + 8 + 2 * twcc_encode_chunks (sym, n_sym, fci + 8);
  now = ref * TWCC_REF_US;
  for (gsize i = 0; i < k; i++) {
    gint64 ticks = floor_div (
        arrivals[i].arrival_us - now + TWCC_DELTA_US / 2, TWCC_DELTA_US);

    if (ticks >= 0 && ticks <= 255) {
      *p++ = (guint8)ticks;
    } else {
      hq_wr16 (p, (guint16)(gint16)ticks);
      p += 2;
    }
    now += ticks * TWCC_DELTA_US;
  }
  /* The rest up to the 32-bit boundary is zero already. */
  *n_done = k;
  return TRUE;
}

/* --- round-trip time --- */

guint64
hq_rtcp_ntp_from_unix_us (gint64 real_us)
{
  guint64 secs = (guint64)(real_us / G_USEC_PER_SEC) + 2208988800u;
  guint64 frac = ((guint64)(real_us % G_USEC_PER_SEC) << 32) / G_USEC_PER_SEC;

  return secs << 32 | frac;
}

gint64
hq_rtcp_unix_us_from_ntp (guint64 ntp)
{
  gint64 secs = (gint64)(ntp >> 32) - 2208988800;
  /* rounded: the way there truncates */
  gint64 frac =
      (gint64)(((ntp & 0xffffffffu) * G_USEC_PER_SEC + (1u << 31)) >> 32);

  return secs * G_USEC_PER_SEC + frac;
}

gdouble
hq_rtcp_rtt_ms (const HqRtcpReportBlock *block, guint64 ntp_now)
{
  guint32 arrival = (guint32)(ntp_now >> 16);
  gint64 rtt;

  if (block->lsr == 0)
    return -1;
  /* 32-bit wrap-around arithmetic, 1/65536 s units. */
  rtt = (gint32)(arrival - block->lsr - block->dlsr);
  if (rtt < 0 || rtt > 60 * 65536)
    return -1;
  return rtt * 1000.0 / 65536;
}
