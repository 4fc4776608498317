/* Unit tests for libhq RTCP helpers (hqrtcp.h): demux, compound iteration,
 * every parser and builder, and transport-wide CC feedback.
 *
 * GStreamer's GstRTCPBuffer is the independent implementation for
 * everything it knows (SR, RR, SDES, BYE, NACK, PLI, FIR, and REMB as
 * opaque application-layer feedback): our packets must validate and read
 * back there with the same fields, and its packets must parse here.  It
 * has no TWCC parser, so TWCC is checked against byte vectors computed by
 * hand from the draft's layout, and by round trips over streams with
 * losses, reordering, large gaps and sequence wraps. */
#include <string.h>
#include <glib.h>
#include <gst/gst.h>
#include <gst/rtp/rtp.h>
#include <hq/hqrtcp.h>

static const HqRtcpReportBlock block_a = { 0x11111111, 25, 100, 0x1000a, 45,
  0x33445566, 98304 };
static const HqRtcpReportBlock block_b = { 0x22222222, 255, -5, 7, 0, 0, 0 };

static void
assert_block_eq (const HqRtcpReportBlock *a, const HqRtcpReportBlock *b)
{
  g_assert_cmphex (a->ssrc, ==, b->ssrc);
  g_assert_cmpuint (a->fraction_lost, ==, b->fraction_lost);
  g_assert_cmpint (a->cumulative_lost, ==, b->cumulative_lost);
  g_assert_cmpuint (a->ext_highest_seq, ==, b->ext_highest_seq);
  g_assert_cmpuint (a->jitter, ==, b->jitter);
  g_assert_cmphex (a->lsr, ==, b->lsr);
  g_assert_cmpuint (a->dlsr, ==, b->dlsr);
}

static void
assert_gst_block (GstRTCPPacket *p, guint nth, const HqRtcpReportBlock *want)
{
  HqRtcpReportBlock got;

  gst_rtcp_packet_get_rb (p, nth, &got.ssrc, &got.fraction_lost,
      &got.cumulative_lost, &got.ext_highest_seq, &got.jitter, &got.lsr,
      &got.dlsr);
  assert_block_eq (&got, want);
}

/* Opens @len bytes of @data as a GstRTCPBuffer at its first packet. */
static GstBuffer *
gst_open (
    const guint8 *data, gsize len, GstRTCPBuffer *rtcp, GstRTCPPacket *first)
{
  GstBuffer *buf = gst_buffer_new_memdup (data, len);

  g_assert_true (gst_rtcp_buffer_map (buf, GST_MAP_READ, rtcp));
  g_assert_true (gst_rtcp_buffer_get_first_packet (rtcp, first));
  return buf;
}

static void
test_demux (void)
{
  const guint8 sr[] = { 0x80, 200 };
  const guint8 rtp_opus_marker[] = { 0x80, 0x80 | 111 };
  const guint8 rtp_pt72_marker[] = { 0x80, 0x80 | 72 };
  const guint8 psfb[] = { 0x81, 206 };
  const guint8 stun[] = { 0x00, 0x01 };

  g_assert_true (hq_rtcp_is_rtcp (sr, 2));
  g_assert_true (hq_rtcp_is_rtcp (psfb, 2));
  g_assert_false (hq_rtcp_is_rtcp (rtp_opus_marker, 2));
  /* Why RFC 5761 keeps RTP payload types out of 64..95: with the marker
   * set they read as RTCP. */
  g_assert_true (hq_rtcp_is_rtcp (rtp_pt72_marker, 2));
  g_assert_false (hq_rtcp_is_rtcp (stun, 2));
  g_assert_false (hq_rtcp_is_rtcp (sr, 1));
}

/* SR with two blocks + SDES + BYE, as an endpoint sends at the end. */
static gsize
write_sr_sdes_bye (guint8 *buf, gsize size)
{
  HqRtcpWriter w;
  HqRtcpReportBlock blocks[2] = { block_a, block_b };
  HqRtcpSenderInfo info = { 0xcafe0001, G_GUINT64_CONSTANT (0xe8d4a51000000000),
    3000, 150, 24000 };
  guint32 bye[] = { 0xcafe0001, 0xcafe0002 };

  hq_rtcp_writer_init (&w, buf, size);
  g_assert_true (hq_rtcp_write_sr (&w, &info, blocks, 2, NULL));
  g_assert_true (hq_rtcp_write_sdes_cname (&w, 0xcafe0001, "hq-abc", NULL));
  g_assert_true (hq_rtcp_write_bye (&w, bye, 2, "consultation over", NULL));
  return w.len;
}

static void
test_ours_read_by_gst (void)
{
  guint8 bytes[512];
  gsize len = write_sr_sdes_bye (bytes, sizeof bytes);
  GstRTCPBuffer rtcp = GST_RTCP_BUFFER_INIT;
  GstRTCPPacket p;
  g_autoptr (GstBuffer) buf = NULL;
  guint32 ssrc, rtptime, packets, octets;
  guint64 ntp;
  GstRTCPSDESType type;
  guint8 elen;
  guint8 *edata;
  g_autofree gchar *reason = NULL;

  g_assert_true (gst_rtcp_buffer_validate_data (bytes, len));
  buf = gst_open (bytes, len, &rtcp, &p);
  g_assert_cmpint (gst_rtcp_packet_get_type (&p), ==, GST_RTCP_TYPE_SR);
  gst_rtcp_packet_sr_get_sender_info (
      &p, &ssrc, &ntp, &rtptime, &packets, &octets);
  g_assert_cmphex (ssrc, ==, 0xcafe0001);
  g_assert_cmphex (ntp, ==, G_GUINT64_CONSTANT (0xe8d4a51000000000));
  g_assert_cmpuint (rtptime, ==, 3000);
  g_assert_cmpuint (packets, ==, 150);
  g_assert_cmpuint (octets, ==, 24000);
  g_assert_cmpuint (gst_rtcp_packet_get_rb_count (&p), ==, 2);
  assert_gst_block (&p, 0, &block_a);
  assert_gst_block (&p, 1, &block_b);

  g_assert_true (gst_rtcp_packet_move_to_next (&p));
  g_assert_cmpint (gst_rtcp_packet_get_type (&p), ==, GST_RTCP_TYPE_SDES);
  g_assert_true (gst_rtcp_packet_sdes_first_item (&p));
  g_assert_cmphex (gst_rtcp_packet_sdes_get_ssrc (&p), ==, 0xcafe0001);
  g_assert_true (gst_rtcp_packet_sdes_first_entry (&p));
  g_assert_true (gst_rtcp_packet_sdes_get_entry (&p, &type, &elen, &edata));
  g_assert_cmpint (type, ==, GST_RTCP_SDES_CNAME);
  g_assert_cmpmem (edata, elen, "hq-abc", 6);

  g_assert_true (gst_rtcp_packet_move_to_next (&p));
  g_assert_cmpint (gst_rtcp_packet_get_type (&p), ==, GST_RTCP_TYPE_BYE);
  g_assert_cmpuint (gst_rtcp_packet_bye_get_ssrc_count (&p), ==, 2);
  g_assert_cmphex (gst_rtcp_packet_bye_get_nth_ssrc (&p, 1), ==, 0xcafe0002);
  reason = gst_rtcp_packet_bye_get_reason (&p);
  g_assert_cmpstr (reason, ==, "consultation over");
  g_assert_false (gst_rtcp_packet_move_to_next (&p));
  gst_rtcp_buffer_unmap (&rtcp);
}

static void
test_ours_round_trip (void)
{
  guint8 bytes[512];
  gsize len = write_sr_sdes_bye (bytes, sizeof bytes);
  HqRtcpIter iter;
  HqRtcpPacket pkt;
  HqRtcpSenderInfo info;
  HqRtcpReportBlock blocks[HQ_RTCP_MAX_COUNT];
  HqRtcpSdesCname chunks[HQ_RTCP_MAX_COUNT];
  guint32 ssrcs[HQ_RTCP_MAX_COUNT];
  gchar reason[256];
  guint n;

  g_assert_true (hq_rtcp_iter_init (&iter, bytes, len, NULL));
  g_assert_true (hq_rtcp_iter_next (&iter, &pkt));
  g_assert_true (hq_rtcp_parse_sr (&pkt, &info, blocks, &n, NULL));
  g_assert_cmphex (info.ntp, ==, G_GUINT64_CONSTANT (0xe8d4a51000000000));
  g_assert_cmpuint (info.octet_count, ==, 24000);
  g_assert_cmpuint (n, ==, 2);
  assert_block_eq (&blocks[0], &block_a);
  assert_block_eq (&blocks[1], &block_b);
  g_assert_true (hq_rtcp_iter_next (&iter, &pkt));
  g_assert_true (hq_rtcp_parse_sdes (&pkt, chunks, &n, NULL));
  g_assert_cmpuint (n, ==, 1);
  g_assert_cmpstr (chunks[0].cname, ==, "hq-abc");
  g_assert_true (hq_rtcp_iter_next (&iter, &pkt));
  g_assert_true (hq_rtcp_parse_bye (&pkt, ssrcs, &n, reason, NULL));
  g_assert_cmpuint (n, ==, 2);
  g_assert_cmphex (ssrcs[0], ==, 0xcafe0001);
  g_assert_cmpstr (reason, ==, "consultation over");
  g_assert_false (hq_rtcp_iter_next (&iter, &pkt));
}

static void
test_rr_from_stats (void)
{
  HqRtpRecvStats a, b, idle;
  HqRtpRecvStats *all[] = { &a, &idle, &b };
  guint8 bytes[256];
  HqRtcpWriter w;
  GstRTCPBuffer rtcp = GST_RTCP_BUFFER_INIT;
  GstRTCPPacket p;
  g_autoptr (GstBuffer) buf = NULL;
  guint32 ssrc, ehs, jitter, lsr, dlsr;
  guint8 fraction;
  gint32 lost;

  hq_rtp_recv_stats_init (&a, 0xa, 48000);
  hq_rtp_recv_stats_init (&b, 0xb, 90000);
  hq_rtp_recv_stats_init (&idle, 0xc, 90000);
  /* a: 200 packets, 1 in 4 lost; b: 100 packets, none lost. */
  for (guint i = 0; i < 200; i++) {
    if (i % 4 != 3)
      hq_rtp_recv_stats_update (&a, i, i * 960, (gint64)i * 20000);
  }
  for (guint i = 0; i < 100; i++)
    hq_rtp_recv_stats_update (&b, 500 + i, i * 3000, (gint64)i * 33333);

  /* Too small a buffer: refused, and the interval is not consumed. */
  hq_rtcp_writer_init (&w, bytes, 8 + 24);
  g_assert_false (hq_rtcp_write_rr_from_stats (&w, 0x5, all, 3, 0, NULL));
  g_assert_cmpuint (w.len, ==, 0);

  hq_rtcp_writer_init (&w, bytes, sizeof bytes);
  g_assert_true (hq_rtcp_write_rr_from_stats (&w, 0x5, all, 3, 0, NULL));
  g_assert_true (gst_rtcp_buffer_validate_data (bytes, w.len));
  buf = gst_open (bytes, w.len, &rtcp, &p);
  g_assert_cmpint (gst_rtcp_packet_get_type (&p), ==, GST_RTCP_TYPE_RR);
  g_assert_cmphex (gst_rtcp_packet_rr_get_ssrc (&p), ==, 0x5);
  g_assert_cmpuint (gst_rtcp_packet_get_rb_count (&p), ==, 2);
  gst_rtcp_packet_get_rb (
      &p, 0, &ssrc, &fraction, &lost, &ehs, &jitter, &lsr, &dlsr);
  g_assert_cmphex (ssrc, ==, 0xa);
  /* 198 is the highest received: 199 is not known lost yet. */
  g_assert_cmpint (lost, ==, 49);
  g_assert_cmpuint (fraction, ==, 49 * 256 / 199);
  g_assert_cmpuint (ehs, ==, 198);
  gst_rtcp_packet_get_rb (
      &p, 1, &ssrc, &fraction, &lost, &ehs, &jitter, &lsr, &dlsr);
  g_assert_cmphex (ssrc, ==, 0xb);
  g_assert_cmpint (lost, ==, 0);
  g_assert_cmpuint (fraction, ==, 0);
  g_assert_cmpuint (ehs, ==, 599);
  gst_rtcp_buffer_unmap (&rtcp);
}

/* Every packet type GStreamer can build, in one compound. */
static GstBuffer *
gst_build_compound (void)
{
  GstBuffer *buf = gst_rtcp_buffer_new (1500);
  GstRTCPBuffer rtcp = GST_RTCP_BUFFER_INIT;
  GstRTCPPacket p;
  guint8 *fci;

  gst_rtcp_buffer_map (buf, GST_MAP_READWRITE, &rtcp);
  g_assert_true (gst_rtcp_buffer_add_packet (&rtcp, GST_RTCP_TYPE_SR, &p));
  gst_rtcp_packet_sr_set_sender_info (
      &p, 0x1234, G_GUINT64_CONSTANT (1) << 40, 90000, 10, 12000);
  gst_rtcp_packet_add_rb (&p, block_a.ssrc, block_a.fraction_lost,
      block_a.cumulative_lost, block_a.ext_highest_seq, block_a.jitter,
      block_a.lsr, block_a.dlsr);
  g_assert_true (gst_rtcp_buffer_add_packet (&rtcp, GST_RTCP_TYPE_RR, &p));
  gst_rtcp_packet_rr_set_ssrc (&p, 0x1234);
  gst_rtcp_packet_add_rb (&p, block_b.ssrc, block_b.fraction_lost,
      block_b.cumulative_lost, block_b.ext_highest_seq, block_b.jitter,
      block_b.lsr, block_b.dlsr);
  g_assert_true (gst_rtcp_buffer_add_packet (&rtcp, GST_RTCP_TYPE_SDES, &p));
  gst_rtcp_packet_sdes_add_item (&p, 0x1234);
  gst_rtcp_packet_sdes_add_entry (
      &p, GST_RTCP_SDES_NAME, 3, (const guint8 *)"Bob");
  gst_rtcp_packet_sdes_add_entry (
      &p, GST_RTCP_SDES_CNAME, 7, (const guint8 *)"bob@hq1");
  /* A second item here would be written over the first: GStreamer 1.22's
   * sdes_add_item mis-places chunks after the first.  Two chunks are
   * tested with hand-made bytes in test_sdes_two_chunks(). */

  g_assert_true (gst_rtcp_buffer_add_packet (&rtcp, GST_RTCP_TYPE_RTPFB, &p));
  gst_rtcp_packet_fb_set_type (&p, GST_RTCP_RTPFB_TYPE_NACK);
  gst_rtcp_packet_fb_set_sender_ssrc (&p, 0x1234);
  gst_rtcp_packet_fb_set_media_ssrc (&p, 0xabcd);
  gst_rtcp_packet_fb_set_fci_length (&p, 2);
  fci = gst_rtcp_packet_fb_get_fci (&p);
  GST_WRITE_UINT16_BE (fci, 65530);
  GST_WRITE_UINT16_BE (fci + 2, 0x8001); /* 65531 and 65546 = 10 */
  GST_WRITE_UINT16_BE (fci + 4, 100);
  GST_WRITE_UINT16_BE (fci + 6, 0);

  g_assert_true (gst_rtcp_buffer_add_packet (&rtcp, GST_RTCP_TYPE_PSFB, &p));
  gst_rtcp_packet_fb_set_type (&p, GST_RTCP_PSFB_TYPE_PLI);
  gst_rtcp_packet_fb_set_sender_ssrc (&p, 0x1234);
  gst_rtcp_packet_fb_set_media_ssrc (&p, 0xabcd);

  g_assert_true (gst_rtcp_buffer_add_packet (&rtcp, GST_RTCP_TYPE_PSFB, &p));
  gst_rtcp_packet_fb_set_type (&p, GST_RTCP_PSFB_TYPE_FIR);
  gst_rtcp_packet_fb_set_sender_ssrc (&p, 0x1234);
  gst_rtcp_packet_fb_set_media_ssrc (&p, 0);
  gst_rtcp_packet_fb_set_fci_length (&p, 4);
  fci = gst_rtcp_packet_fb_get_fci (&p);
  memset (fci, 0, 16);
  GST_WRITE_UINT32_BE (fci, 0xabcd);
  fci[4] = 7;
  GST_WRITE_UINT32_BE (fci + 8, 0xef01);
  fci[12] = 200;

  /* REMB as GStreamer sees it: application layer feedback with an opaque
   * FCI, here 300 kbit/s (exponent 1, mantissa 150000) for two SSRCs. */
  g_assert_true (gst_rtcp_buffer_add_packet (&rtcp, GST_RTCP_TYPE_PSFB, &p));
  gst_rtcp_packet_fb_set_type (&p, GST_RTCP_PSFB_TYPE_AFB);
  gst_rtcp_packet_fb_set_sender_ssrc (&p, 0x1234);
  gst_rtcp_packet_fb_set_media_ssrc (&p, 0);
  gst_rtcp_packet_fb_set_fci_length (&p, 4);
  fci = gst_rtcp_packet_fb_get_fci (&p);
  memcpy (fci, "REMB", 4);
  fci[4] = 2;
  fci[5] = (1 << 2) | (150000 >> 16);
  GST_WRITE_UINT16_BE (fci + 6, 150000 & 0xffff);
  GST_WRITE_UINT32_BE (fci + 8, 0xabcd);
  GST_WRITE_UINT32_BE (fci + 12, 0xef01);

  g_assert_true (gst_rtcp_buffer_add_packet (&rtcp, GST_RTCP_TYPE_BYE, &p));
  gst_rtcp_packet_bye_add_ssrc (&p, 0x1234);
  gst_rtcp_packet_bye_add_ssrc (&p, 0x5678);
  /* No reason: GStreamer 1.22's bye_set_reason refuses (returns FALSE)
   * on a packet it has just built.  Reasons are cross-checked the other
   * way in test_ours_read_by_gst(). */
  gst_rtcp_buffer_unmap (&rtcp);
  return buf;
}

static void
test_gst_built_parse (void)
{
  g_autoptr (GstBuffer) buf = gst_build_compound ();
  gsize len;
  g_autofree guint8 *bytes = NULL;
  g_autoptr (GArray) lost = g_array_new (FALSE, FALSE, sizeof (guint16));
  g_autoptr (GArray) firs = g_array_new (FALSE, FALSE, sizeof (HqRtcpFirEntry));
  HqRtcpIter iter;
  HqRtcpPacket pkt;
  HqRtcpSenderInfo info;
  HqRtcpReportBlock blocks[HQ_RTCP_MAX_COUNT];
  HqRtcpSdesCname chunks[HQ_RTCP_MAX_COUNT];
  guint32 ssrcs[HQ_RTCP_MAX_COUNT], ssrc;
  gchar reason[256];
  HqRtcpFb fb;
  HqRtcpRemb remb;
  guint n;

  gst_buffer_extract_dup (
      buf, 0, gst_buffer_get_size (buf), (gpointer *)&bytes, &len);
  g_assert_true (hq_rtcp_iter_init (&iter, bytes, len, NULL));

  g_assert_true (hq_rtcp_iter_next (&iter, &pkt));
  g_assert_true (hq_rtcp_parse_sr (&pkt, &info, blocks, &n, NULL));
  g_assert_cmphex (info.ssrc, ==, 0x1234);
  g_assert_cmphex (info.ntp, ==, G_GUINT64_CONSTANT (1) << 40);
  g_assert_cmpuint (info.rtp_timestamp, ==, 90000);
  g_assert_cmpuint (info.packet_count, ==, 10);
  g_assert_cmpuint (info.octet_count, ==, 12000);
  g_assert_cmpuint (n, ==, 1);
  assert_block_eq (&blocks[0], &block_a);

  g_assert_true (hq_rtcp_iter_next (&iter, &pkt));
  g_assert_true (hq_rtcp_parse_rr (&pkt, &ssrc, blocks, &n, NULL));
  g_assert_cmphex (ssrc, ==, 0x1234);
  g_assert_cmpuint (n, ==, 1);
  assert_block_eq (&blocks[0], &block_b);

  g_assert_true (hq_rtcp_iter_next (&iter, &pkt));
  g_assert_true (hq_rtcp_parse_sdes (&pkt, chunks, &n, NULL));
  g_assert_cmpuint (n, ==, 1);
  g_assert_cmphex (chunks[0].ssrc, ==, 0x1234);
  g_assert_cmpstr (chunks[0].cname, ==, "bob@hq1");

  g_assert_true (hq_rtcp_iter_next (&iter, &pkt));
  g_assert_true (hq_rtcp_parse_nack (&pkt, &fb, lost, NULL));
  g_assert_cmphex (fb.sender_ssrc, ==, 0x1234);
  g_assert_cmphex (fb.media_ssrc, ==, 0xabcd);
  g_assert_cmpuint (lost->len, ==, 4);
  g_assert_cmpuint (g_array_index (lost, guint16, 0), ==, 65530);
  g_assert_cmpuint (g_array_index (lost, guint16, 1), ==, 65531);
  g_assert_cmpuint (g_array_index (lost, guint16, 2), ==, 10);
  g_assert_cmpuint (g_array_index (lost, guint16, 3), ==, 100);

  g_assert_true (hq_rtcp_iter_next (&iter, &pkt));
  g_assert_true (hq_rtcp_parse_pli (&pkt, &fb, NULL));
  g_assert_cmphex (fb.media_ssrc, ==, 0xabcd);

  g_assert_true (hq_rtcp_iter_next (&iter, &pkt));
  g_assert_true (hq_rtcp_parse_fir (&pkt, &fb, firs, NULL));
  g_assert_cmpuint (firs->len, ==, 2);
  g_assert_cmphex (g_array_index (firs, HqRtcpFirEntry, 0).ssrc, ==, 0xabcd);
  g_assert_cmpuint (g_array_index (firs, HqRtcpFirEntry, 0).seq, ==, 7);
  g_assert_cmphex (g_array_index (firs, HqRtcpFirEntry, 1).ssrc, ==, 0xef01);
  g_assert_cmpuint (g_array_index (firs, HqRtcpFirEntry, 1).seq, ==, 200);

  g_assert_true (hq_rtcp_iter_next (&iter, &pkt));
  g_assert_true (hq_rtcp_parse_remb (&pkt, &fb, &remb, NULL));
  g_assert_cmpuint (remb.bitrate, ==, 300000);
  g_assert_cmpuint (remb.n_ssrcs, ==, 2);
  g_assert_cmphex (remb.ssrcs[0], ==, 0xabcd);
  g_assert_cmphex (remb.ssrcs[1], ==, 0xef01);

  g_assert_true (hq_rtcp_iter_next (&iter, &pkt));
  g_assert_true (hq_rtcp_parse_bye (&pkt, ssrcs, &n, reason, NULL));
  g_assert_cmpuint (n, ==, 2);
  g_assert_cmphex (ssrcs[1], ==, 0x5678);
  g_assert_cmpstr (reason, ==, "");
  g_assert_false (hq_rtcp_iter_next (&iter, &pkt));
}

static void
test_sdes_two_chunks (void)
{
  /* Chunk 1: NAME "Bob", CNAME "bob@hq1", null, 2 bytes to the boundary;
   * chunk 2: CNAME "x", null. */
  const guint8 bytes[] = { 0x82, 202, 0, 7, 0, 0, 0x12, 0x34, 2, 3, 'B', 'o',
    'b', 1, 7, 'b', 'o', 'b', '@', 'h', 'q', '1', 0, 0, 0, 0, 0x56, 0x78, 1, 1,
    'x', 0 };
  HqRtcpSdesCname chunks[HQ_RTCP_MAX_COUNT];
  HqRtcpPacket pkt;
  HqRtcpIter iter;
  guint n;

  g_assert_true (
      gst_rtcp_buffer_validate_data_reduced ((guint8 *)bytes, sizeof bytes));
  g_assert_true (hq_rtcp_iter_init (&iter, bytes, sizeof bytes, NULL));
  g_assert_true (hq_rtcp_iter_next (&iter, &pkt));
  g_assert_true (hq_rtcp_parse_sdes (&pkt, chunks, &n, NULL));
  g_assert_cmpuint (n, ==, 2);
  g_assert_cmphex (chunks[0].ssrc, ==, 0x1234);
  g_assert_cmpstr (chunks[0].cname, ==, "bob@hq1");
  g_assert_cmphex (chunks[1].ssrc, ==, 0x5678);
  g_assert_cmpstr (chunks[1].cname, ==, "x");
}

static void
test_feedback_read_by_gst (void)
{
  const guint16 lost[] = { 100, 101, 105, 116, 117, 200 };
  const HqRtcpFirEntry firs[] = { { 0xabc, 3 } };
  const guint32 remb_ssrcs[] = { 0x1111, 0x2222 };
  guint8 bytes[512];
  HqRtcpWriter w;
  GstRTCPBuffer rtcp = GST_RTCP_BUFFER_INIT;
  GstRTCPPacket p;
  g_autoptr (GstBuffer) buf = NULL;
  guint8 *fci;

  hq_rtcp_writer_init (&w, bytes, sizeof bytes);
  g_assert_true (hq_rtcp_write_nack (&w, 0x1, 0x2, lost, 6, NULL));
  g_assert_true (hq_rtcp_write_pli (&w, 0x1, 0x2, NULL));
  g_assert_true (hq_rtcp_write_fir (&w, 0x1, firs, 1, NULL));
  g_assert_true (hq_rtcp_write_remb (&w, 0x1, 1000000, remb_ssrcs, 2, NULL));
  g_assert_true (gst_rtcp_buffer_validate_data_reduced (bytes, w.len));

  buf = gst_open (bytes, w.len, &rtcp, &p);
  g_assert_cmpint (gst_rtcp_packet_get_type (&p), ==, GST_RTCP_TYPE_RTPFB);
  g_assert_cmpint (
      gst_rtcp_packet_fb_get_type (&p), ==, GST_RTCP_RTPFB_TYPE_NACK);
  g_assert_cmphex (gst_rtcp_packet_fb_get_sender_ssrc (&p), ==, 0x1);
  g_assert_cmphex (gst_rtcp_packet_fb_get_media_ssrc (&p), ==, 0x2);
  /* 100 with 101, 105, 116 (bits 0, 4, 15); 117 needs a new PID (17 after
   * 100); 200 another. */
  g_assert_cmpuint (gst_rtcp_packet_fb_get_fci_length (&p), ==, 3);
  fci = gst_rtcp_packet_fb_get_fci (&p);
  g_assert_cmpuint (GST_READ_UINT16_BE (fci), ==, 100);
  g_assert_cmphex (GST_READ_UINT16_BE (fci + 2), ==, 0x8011);
  g_assert_cmpuint (GST_READ_UINT16_BE (fci + 4), ==, 117);
  g_assert_cmphex (GST_READ_UINT16_BE (fci + 6), ==, 0);
  g_assert_cmpuint (GST_READ_UINT16_BE (fci + 8), ==, 200);

  g_assert_true (gst_rtcp_packet_move_to_next (&p));
  g_assert_cmpint (
      gst_rtcp_packet_fb_get_type (&p), ==, GST_RTCP_PSFB_TYPE_PLI);
  g_assert_cmphex (gst_rtcp_packet_fb_get_media_ssrc (&p), ==, 0x2);
  g_assert_cmpuint (gst_rtcp_packet_fb_get_fci_length (&p), ==, 0);

  g_assert_true (gst_rtcp_packet_move_to_next (&p));
  g_assert_cmpint (
      gst_rtcp_packet_fb_get_type (&p), ==, GST_RTCP_PSFB_TYPE_FIR);
  g_assert_cmpuint (gst_rtcp_packet_fb_get_fci_length (&p), ==, 2);
  fci = gst_rtcp_packet_fb_get_fci (&p);
  g_assert_cmphex (GST_READ_UINT32_BE (fci), ==, 0xabc);
  g_assert_cmpuint (fci[4], ==, 3);

  g_assert_true (gst_rtcp_packet_move_to_next (&p));
  g_assert_cmpint (
      gst_rtcp_packet_fb_get_type (&p), ==, GST_RTCP_PSFB_TYPE_AFB);
  g_assert_cmpuint (gst_rtcp_packet_fb_get_fci_length (&p), ==, 4);
  fci = gst_rtcp_packet_fb_get_fci (&p);
  /* 1 Mbit/s = 250000 << 2: exponent 2, mantissa 250000 = 0x3d090. */
  g_assert_cmpmem (fci, 4, "REMB", 4);
  g_assert_cmpuint (fci[4], ==, 2);
  g_assert_cmphex (fci[5], ==, (2 << 2) | 0x3);
  g_assert_cmphex (GST_READ_UINT16_BE (fci + 6), ==, 0xd090);
  g_assert_cmphex (GST_READ_UINT32_BE (fci + 12), ==, 0x2222);
  g_assert_false (gst_rtcp_packet_move_to_next (&p));
  gst_rtcp_buffer_unmap (&rtcp);
}

static void
test_feedback_round_trip (void)
{
  const guint16 lost[] = { 65534, 65535, 0, 1, 14, 40, 3 };
  const HqRtcpFirEntry firs[] = { { 0xabc, 3 }, { 0xdef, 255 } };
  const guint32 remb_ssrcs[] = { 0x1111 };
  guint8 bytes[512];
  HqRtcpWriter w;
  HqRtcpIter iter;
  HqRtcpPacket pkt;
  HqRtcpFb fb;
  HqRtcpRemb remb;
  g_autoptr (GArray) got = g_array_new (FALSE, FALSE, sizeof (guint16));
  g_autoptr (GArray) fir_got =
      g_array_new (FALSE, FALSE, sizeof (HqRtcpFirEntry));

  hq_rtcp_writer_init (&w, bytes, sizeof bytes);
  g_assert_true (hq_rtcp_write_nack (&w, 0x1, 0x2, lost, 7, NULL));
  g_assert_true (hq_rtcp_write_fir (&w, 0x1, firs, 2, NULL));
  g_assert_true (hq_rtcp_write_remb (
      &w, 0x1, G_GUINT64_CONSTANT (5000000000), remb_ssrcs, 1, NULL));
  g_assert_true (hq_rtcp_iter_init (&iter, bytes, w.len, NULL));

  /* Wrap-aware packing: 65534..1 and 14 share one PID; 40 starts another;
   * 3, out of order, a third.  Every number comes back. */
  g_assert_true (hq_rtcp_iter_next (&iter, &pkt));
  g_assert_cmpuint (pkt.len, ==, 12 + 3 * 4);
  g_assert_true (hq_rtcp_parse_nack (&pkt, &fb, got, NULL));
  g_assert_cmpuint (got->len, ==, 7);
  for (guint i = 0; i < 7; i++)
    g_assert_cmpuint (g_array_index (got, guint16, i), ==, lost[i]);

  g_assert_true (hq_rtcp_iter_next (&iter, &pkt));
  g_assert_true (hq_rtcp_parse_fir (&pkt, &fb, fir_got, NULL));
  g_assert_cmpuint (fb.media_ssrc, ==, 0);
  g_assert_cmpuint (fir_got->len, ==, 2);
  g_assert_cmpuint (g_array_index (fir_got, HqRtcpFirEntry, 1).seq, ==, 255);

  g_assert_true (hq_rtcp_iter_next (&iter, &pkt));
  g_assert_true (hq_rtcp_parse_remb (&pkt, &fb, &remb, NULL));
  /* 5e9 needs 15 bits of exponent shift: it comes back rounded down to a
   * multiple of 2^15, within 2^15 of the original. */
  g_assert_cmpuint (remb.bitrate, <=, G_GUINT64_CONSTANT (5000000000));
  g_assert_cmpuint (remb.bitrate, >, G_GUINT64_CONSTANT (5000000000) - 32768);
  g_assert_cmpuint (remb.n_ssrcs, ==, 1);
  g_assert_cmphex (remb.ssrcs[0], ==, 0x1111);
}

static void
test_padding (void)
{
  guint8 bytes[512];
  HqRtcpWriter w;
  HqRtcpIter iter;
  HqRtcpPacket pkt;
  guint32 ssrcs[HQ_RTCP_MAX_COUNT], one = 9;
  gchar reason[256];
  guint n;
  g_autoptr (GError) error = NULL;

  hq_rtcp_writer_init (&w, bytes, sizeof bytes);
  g_assert_false (hq_rtcp_writer_pad (&w, 16, &error));
  g_assert_error (error, HQ_RTP_ERROR, HQ_RTP_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_true (hq_rtcp_write_pli (&w, 1, 2, NULL));
  g_assert_true (hq_rtcp_write_bye (&w, &one, 1, "x", NULL));
  g_assert_cmpuint (w.len, ==, 12 + 12);
  g_assert_true (hq_rtcp_writer_pad (&w, 16, NULL));
  g_assert_cmpuint (w.len, ==, 32);
  g_assert_false (hq_rtcp_writer_pad (&w, 32, &error));
  g_assert_error (error, HQ_RTP_ERROR, HQ_RTP_ERROR_INVALID_ARGUMENT);
  g_assert_true (gst_rtcp_buffer_validate_data_reduced (bytes, w.len));

  g_assert_true (hq_rtcp_iter_init (&iter, bytes, w.len, NULL));
  g_assert_true (hq_rtcp_iter_next (&iter, &pkt));
  g_assert_true (hq_rtcp_iter_next (&iter, &pkt));
  g_assert_cmpuint (pkt.len, ==, 20);
  g_assert_cmpuint (pkt.body_len, ==, 8);
  g_assert_true (hq_rtcp_parse_bye (&pkt, ssrcs, &n, reason, NULL));
  g_assert_cmpstr (reason, ==, "x");

  /* Moving the padded BYE first makes padding in the middle: refused. */
  {
    guint8 swapped[32];
    g_autoptr (GError) err = NULL;

    memcpy (swapped, bytes + 12, 20);
    memcpy (swapped + 20, bytes, 12);
    g_assert_false (hq_rtcp_iter_init (&iter, swapped, 32, &err));
    g_assert_error (err, HQ_RTP_ERROR, HQ_RTP_ERROR_BAD_PADDING);
  }
}

static void
test_builder_limits (void)
{
  guint8 bytes[64];
  HqRtcpWriter w;
  guint32 many[32] = { 0 };
  gchar long_name[300];
  g_autoptr (GError) error = NULL;

  memset (long_name, 'a', sizeof long_name - 1);
  long_name[sizeof long_name - 1] = '\0';
  hq_rtcp_writer_init (&w, bytes, sizeof bytes);
  g_assert_false (hq_rtcp_write_bye (&w, many, 32, NULL, &error));
  g_assert_error (error, HQ_RTP_ERROR, HQ_RTP_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_false (hq_rtcp_write_sdes_cname (&w, 1, long_name, &error));
  g_assert_error (error, HQ_RTP_ERROR, HQ_RTP_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_false (hq_rtcp_write_nack (&w, 1, 2, NULL, 0, &error));
  g_assert_error (error, HQ_RTP_ERROR, HQ_RTP_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  /* 16 SSRCs need 68 bytes: no space, and nothing written. */
  g_assert_false (hq_rtcp_write_bye (&w, many, 16, NULL, &error));
  g_assert_error (error, HQ_RTP_ERROR, HQ_RTP_ERROR_NO_SPACE);
  g_assert_cmpuint (w.len, ==, 0);
}

/* Copies @len bytes to an exact-size buffer so ASan sees overreads. */
static gboolean
iter_exact (const guint8 *data, gsize len, guint *n_packets, GError **error)
{
  g_autofree guint8 *copy = g_malloc (MAX (len, 1));
  HqRtcpIter iter;
  HqRtcpPacket pkt;

  memcpy (copy, data, len);
  if (!hq_rtcp_iter_init (&iter, copy, len, error))
    return FALSE;
  *n_packets = 0;
  while (hq_rtcp_iter_next (&iter, &pkt))
    (*n_packets)++;
  return TRUE;
}

static void
test_truncated_compound (void)
{
  guint8 bytes[512];
  gsize len = write_sr_sdes_bye (bytes, sizeof bytes);
  gsize sr_len = 28 + 48, sdes_len = 4 + 16;

  for (gsize cut = 0; cut < len; cut++) {
    g_autoptr (GError) error = NULL;
    guint n = 0;
    gboolean ok = iter_exact (bytes, cut, &n, &error);

    /* Only cuts at packet boundaries leave a valid (shorter) compound. */
    if (cut == sr_len || cut == sr_len + sdes_len) {
      g_assert_no_error (error);
      g_assert_cmpuint (n, ==, cut == sr_len ? 1 : 2);
    } else {
      g_assert_false (ok);
      g_assert_error (error, HQ_RTP_ERROR, HQ_RTP_ERROR_TRUNCATED);
    }
  }
}

/* The first packet of @bytes, which must be a valid compound. */
static HqRtcpPacket
single_packet (const guint8 *bytes, gsize len)
{
  HqRtcpIter iter;
  HqRtcpPacket pkt;
  g_autoptr (GError) error = NULL;

  g_assert_true (hq_rtcp_iter_init (&iter, bytes, len, &error));
  g_assert_no_error (error);
  g_assert_true (hq_rtcp_iter_next (&iter, &pkt));
  return pkt;
}

static void
test_malformed_packets (void)
{
  /* SR claiming 2 blocks with room for 1: 13 words = 52 bytes */
  guint8 sr[4 + 24 + 24] = { 0x82, 200, 0, 12 };
  /* SDES chunk whose item runs to the end without a null item */
  const guint8 sdes[] = { 0x81, 202, 0, 2, 0, 0, 0, 1, 1, 2, 'a', 'b' };
  /* SDES item length past the end */
  const guint8 sdes2[] = { 0x81, 202, 0, 2, 0, 0, 0, 1, 1, 9, 'a', 'b' };
  /* BYE with reason length past the end */
  const guint8 bye[] = { 0x81, 203, 0, 2, 0, 0, 0, 1, 9, 'a', 'b', 'c' };
  /* NACK with an empty FCI */
  const guint8 nack[] = { 0x81, 205, 0, 2, 0, 0, 0, 1, 0, 0, 0, 2 };
  /* REMB announcing 3 SSRCs, holding 1 */
  const guint8 remb[] = { 0x8f, 206, 0, 5, 0, 0, 0, 1, 0, 0, 0, 0, 'R', 'E',
    'M', 'B', 3, 0, 0, 1, 0, 0, 0, 9 };
  /* other application-layer feedback */
  const guint8 afb[] = { 0x8f, 206, 0, 3, 0, 0, 0, 1, 0, 0, 0, 0, 'G', 'O', 'O',
    'G' };
  const guint8 v1[] = { 0x40, 200, 0, 0 };
  HqRtcpPacket pkt;
  HqRtcpSenderInfo info;
  HqRtcpReportBlock blocks[HQ_RTCP_MAX_COUNT];
  HqRtcpSdesCname chunks[HQ_RTCP_MAX_COUNT];
  guint32 ssrcs[HQ_RTCP_MAX_COUNT], ssrc;
  gchar reason[256];
  HqRtcpFb fb;
  HqRtcpRemb r;
  guint n;
  g_autoptr (GArray) lost = g_array_new (FALSE, FALSE, sizeof (guint16));
  GError *error = NULL;
  HqRtcpIter iter;

  pkt = single_packet (sr, sizeof sr);
  g_assert_false (hq_rtcp_parse_sr (&pkt, &info, blocks, &n, &error));
  g_assert_error (error, HQ_RTP_ERROR, HQ_RTP_ERROR_BAD_LENGTH);
  g_clear_error (&error);
  g_assert_false (hq_rtcp_parse_rr (&pkt, &ssrc, blocks, &n, &error));
  g_assert_error (error, HQ_RTP_ERROR, HQ_RTP_ERROR_BAD_TYPE);
  g_clear_error (&error);

  pkt = single_packet (sdes, sizeof sdes);
  g_assert_false (hq_rtcp_parse_sdes (&pkt, chunks, &n, &error));
  g_assert_error (error, HQ_RTP_ERROR, HQ_RTP_ERROR_BAD_LENGTH);
  g_clear_error (&error);
  pkt = single_packet (sdes2, sizeof sdes2);
  g_assert_false (hq_rtcp_parse_sdes (&pkt, chunks, &n, &error));
  g_assert_error (error, HQ_RTP_ERROR, HQ_RTP_ERROR_BAD_LENGTH);
  g_clear_error (&error);

  pkt = single_packet (bye, sizeof bye);
  g_assert_false (hq_rtcp_parse_bye (&pkt, ssrcs, &n, reason, &error));
  g_assert_error (error, HQ_RTP_ERROR, HQ_RTP_ERROR_BAD_LENGTH);
  g_clear_error (&error);

  pkt = single_packet (nack, sizeof nack);
  g_assert_false (hq_rtcp_parse_nack (&pkt, &fb, lost, &error));
  g_assert_error (error, HQ_RTP_ERROR, HQ_RTP_ERROR_BAD_LENGTH);
  g_clear_error (&error);
  g_assert_false (hq_rtcp_parse_pli (&pkt, &fb, &error));
  g_assert_error (error, HQ_RTP_ERROR, HQ_RTP_ERROR_BAD_TYPE);
  g_clear_error (&error);

  pkt = single_packet (remb, sizeof remb);
  g_assert_false (hq_rtcp_parse_remb (&pkt, &fb, &r, &error));
  g_assert_error (error, HQ_RTP_ERROR, HQ_RTP_ERROR_BAD_LENGTH);
  g_clear_error (&error);
  pkt = single_packet (afb, sizeof afb);
  g_assert_false (hq_rtcp_parse_remb (&pkt, &fb, &r, &error));
  g_assert_error (error, HQ_RTP_ERROR, HQ_RTP_ERROR_BAD_TYPE);
  g_clear_error (&error);

  g_assert_false (hq_rtcp_iter_init (&iter, v1, sizeof v1, &error));
  g_assert_error (error, HQ_RTP_ERROR, HQ_RTP_ERROR_BAD_VERSION);
  g_clear_error (&error);
  g_assert_false (hq_rtcp_iter_init (&iter, v1, 0, &error));
  g_assert_error (error, HQ_RTP_ERROR, HQ_RTP_ERROR_TRUNCATED);
  g_clear_error (&error);
}

/* --- TWCC --- */

#define TWCC_HDR(len_words, fmt) 0x80 | (fmt), 205, 0, (len_words)
#define SSRCS 0, 0, 0, 1, 0, 0, 0, 2

static void
parse_twcc_bytes (const guint8 *bytes, gsize len, HqTwccFeedback *twcc,
    GArray *statuses, GError **error)
{
  HqRtcpPacket pkt = single_packet (bytes, len);
  HqRtcpFb fb;

  hq_rtcp_parse_twcc (&pkt, &fb, twcc, statuses, error);
}

static void
test_twcc_hand_vectors (void)
{
  /* A run-length chunk: 221 packets from 100 not received (0x00dd). */
  const guint8 run[] = { TWCC_HDR (5, 15), SSRCS, 0, 100, 0, 221, 0, 0, 1, 0,
    0x00, 0xdd, 0, 0 };
  /* A 1-bit status vector over a wrap: from 65534, 14 packets:
   * lost, 5 received, 3 lost, 3 received, 2 lost = 1 0 01111100011100
   * = 0x9f1c; reference time 1 (64 ms); eight 1-byte deltas of 4 (1 ms)
   * then 2 bytes of zero padding. */
  const guint8 vec1[] = { TWCC_HDR (7, 15), SSRCS, 0xff, 0xfe, 0, 14, 0, 0, 1,
    7, 0x9f, 0x1c, 4, 4, 4, 4, 4, 4, 4, 4, 0, 0 };
  /* A 2-bit vector of 5: small, large, lost, large, small
   * = 1 1 01 10 00 10 01 00 00 = 0xd890; reference time -1; deltas 10
   * (2.5 ms), -4 (-1 ms), 1000 (250 ms), 0. */
  const guint8 vec2[] = { TWCC_HDR (6, 15), SSRCS, 0, 7, 0, 5, 0xff, 0xff, 0xff,
    9, 0xd8, 0x90, 10, 0xff, 0xfc, 0x03, 0xe8, 0 };
  g_autoptr (GArray) st = g_array_new (FALSE, FALSE, sizeof (HqTwccStatus));
  g_autoptr (GError) error = NULL;
  HqTwccFeedback twcc;
  static const gint64 vec1_arrivals[14] = { 0, 65000, 66000, 67000, 68000,
    69000, 0, 0, 0, 70000, 71000, 72000, 0, 0 };
  static const gint64 vec2_arrivals[5] = { -61500, -62500, 0, 187500, 187500 };

  parse_twcc_bytes (run, sizeof run, &twcc, st, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (twcc.base_seq, ==, 100);
  g_assert_cmpuint (twcc.status_count, ==, 221);
  g_assert_cmpint (twcc.reference_time, ==, 1);
  g_assert_cmpuint (st->len, ==, 221);
  for (guint i = 0; i < 221; i++) {
    g_assert_cmpuint (g_array_index (st, HqTwccStatus, i).seq, ==, 100 + i);
    g_assert_false (g_array_index (st, HqTwccStatus, i).received);
  }

  g_array_set_size (st, 0);
  parse_twcc_bytes (vec1, sizeof vec1, &twcc, st, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (twcc.fb_count, ==, 7);
  g_assert_cmpuint (st->len, ==, 14);
  for (guint i = 0; i < 14; i++) {
    HqTwccStatus *s = &g_array_index (st, HqTwccStatus, i);

    g_assert_cmpuint (s->seq, ==, (guint16)(65534 + i));
    g_assert_cmpint (s->received, ==, vec1_arrivals[i] != 0);
    g_assert_cmpint (s->arrival_us, ==, vec1_arrivals[i]);
  }

  g_array_set_size (st, 0);
  parse_twcc_bytes (vec2, sizeof vec2, &twcc, st, &error);
  g_assert_no_error (error);
  g_assert_cmpint (twcc.reference_time, ==, -1);
  g_assert_cmpuint (st->len, ==, 5);
  for (guint i = 0; i < 5; i++) {
    HqTwccStatus *s = &g_array_index (st, HqTwccStatus, i);

    g_assert_cmpuint (s->seq, ==, 7 + i);
    g_assert_cmpint (s->received, ==, i != 2);
    g_assert_cmpint (s->arrival_us, ==, vec2_arrivals[i]);
  }

  /* Our builder makes exactly the vec2 bytes from its arrivals. */
  {
    const HqTwccArrival arr[] = { { 7, -61500 }, { 8, -62500 }, { 10, 187500 },
      { 11, 187500 } };
    guint8 out[64];
    HqRtcpWriter w;
    gsize done = 0;

    hq_rtcp_writer_init (&w, out, sizeof out);
    g_assert_true (hq_rtcp_write_twcc (&w, 1, 2, 9, 7, arr, 4, &done, NULL));
    g_assert_cmpuint (done, ==, 4);
    g_assert_cmpmem (out, w.len, vec2, sizeof vec2);
  }
  /* And from vec1's received packets with base 65534: the same 1-bit
   * vector, for 12 statuses as the trailing losses are not known yet. */
  {
    const HqTwccArrival arr[] = { { 65535, 65000 }, { 0, 66000 }, { 1, 67000 },
      { 2, 68000 }, { 3, 69000 }, { 7, 70000 }, { 8, 71000 }, { 9, 72000 } };
    const guint8 want[] = { TWCC_HDR (7, 15), SSRCS, 0xff, 0xfe, 0, 12, 0, 0, 1,
      7, 0x9f, 0x1c, 4, 4, 4, 4, 4, 4, 4, 4, 0, 0 };
    guint8 out[64];
    HqRtcpWriter w;
    gsize done = 0;

    hq_rtcp_writer_init (&w, out, sizeof out);
    g_assert_true (
        hq_rtcp_write_twcc (&w, 1, 2, 7, 65534, arr, 8, &done, NULL));
    g_assert_cmpmem (out, w.len, want, sizeof want);
  }
  /* Twenty packets 1 ms apart: one run-length chunk of 20 small deltas,
   * 0x2014. */
  {
    HqTwccArrival arr[20];
    guint8 out[64];
    HqRtcpWriter w;
    gsize done = 0;

    for (guint i = 0; i < 20; i++)
      arr[i] = (HqTwccArrival){ 500 + i, 640000 + 1000 * i };
    hq_rtcp_writer_init (&w, out, sizeof out);
    g_assert_true (hq_rtcp_write_twcc (&w, 1, 2, 0, 500, arr, 20, &done, NULL));
    g_assert_cmpuint (w.len, ==, 12 + 8 + 2 + 20 + 2);
    g_assert_cmphex (out[20], ==, 0x20);
    g_assert_cmphex (out[21], ==, 0x14);
    g_assert_cmpuint (out[17], ==, 0); /* reference time 10 */
    g_assert_cmpuint (out[18], ==, 10);
    g_assert_cmpuint (out[22], ==, 0);
    g_assert_cmpuint (out[23], ==, 4);
  }
}

static void
test_twcc_malformed (void)
{
  /* Run-length chunk with the reserved symbol 3. */
  const guint8 sym3[] = { TWCC_HDR (5, 15), SSRCS, 0, 1, 0, 2, 0, 0, 0, 0, 0x60,
    0x02, 0, 0 };
  /* Status count 30 but one 14-packet vector, then padding zeros that
   * read as a run of length 0: the count is never covered. */
  const guint8 short_chunks[] = { TWCC_HDR (5, 15), SSRCS, 0, 1, 0, 30, 0, 0, 0,
    0, 0x80, 0x01, 0, 0 };
  /* Two packets with large deltas (4 bytes), two bytes left. */
  const guint8 short_deltas[] = { TWCC_HDR (5, 15), SSRCS, 0, 1, 0, 2, 0, 0, 0,
    0, 0x40, 0x02, 1, 0 };
  const guint8 *cases[] = { sym3, short_chunks, short_deltas };
  const gint codes[] = { HQ_RTP_ERROR_BAD_TYPE, HQ_RTP_ERROR_BAD_LENGTH,
    HQ_RTP_ERROR_BAD_LENGTH };
  g_autoptr (GArray) st = g_array_new (FALSE, FALSE, sizeof (HqTwccStatus));
  HqTwccFeedback twcc;

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
    g_autoptr (GError) error = NULL;
    HqTwccStatus keep = { 1, TRUE, 5 };

    g_array_set_size (st, 0);
    g_array_append_val (st, keep);
    parse_twcc_bytes (cases[i], 24, &twcc, st, &error);
    g_assert_error (error, HQ_RTP_ERROR, codes[i]);
    /* What the caller had is kept, nothing half-parsed is added. */
    g_assert_cmpuint (st->len, ==, 1);
  }

  /* The builder refuses arrivals out of order. */
  {
    const HqTwccArrival arr[] = { { 5, 0 }, { 4, 0 } };
    guint8 out[64];
    HqRtcpWriter w;
    gsize done;
    g_autoptr (GError) error = NULL;

    hq_rtcp_writer_init (&w, out, sizeof out);
    g_assert_false (hq_rtcp_write_twcc (&w, 1, 2, 0, 5, arr, 2, &done, &error));
    g_assert_error (error, HQ_RTP_ERROR, HQ_RTP_ERROR_INVALID_ARGUMENT);
    g_assert_cmpuint (w.len, ==, 0);
    g_clear_error (&error);
    /* ... and arrivals before the base. */
    g_assert_false (hq_rtcp_write_twcc (&w, 1, 2, 0, 6, arr, 1, &done, &error));
    g_assert_error (error, HQ_RTP_ERROR, HQ_RTP_ERROR_INVALID_ARGUMENT);
  }
}

/* Builds feedback for @arr in packets of at most @mtu bytes, each based
 * one after the last, parses them back, and checks every sequence number
 * in the range is reported exactly once: received ones with their arrival
 * time, the gaps (also those between packets) as lost. */
static guint
twcc_round_trip (const HqTwccArrival *arr, gsize n, gsize mtu)
{
  g_autoptr (GArray) st = g_array_new (FALSE, FALSE, sizeof (HqTwccStatus));
  gsize done_total = 0;
  guint packets = 0;
  guint8 fb_count = 0;
  guint32 next_seq = arr[0].seq;

  while (done_total < n) {
    g_autofree guint8 *out = g_malloc (mtu);
    HqRtcpWriter w;
    gsize done = 0;
    g_autoptr (GError) error = NULL;
    HqRtcpIter iter;
    HqRtcpPacket pkt;
    HqRtcpFb fb;
    HqTwccFeedback twcc;

    hq_rtcp_writer_init (&w, out, mtu);
    g_assert_true (hq_rtcp_write_twcc (&w, 1, 2, fb_count++, (guint16)next_seq,
        arr + done_total, n - done_total, &done, &error));
    g_assert_no_error (error);
    g_assert_cmpuint (done, >=, 1);
    g_assert_cmpuint (w.len, <=, mtu);
    g_assert_true (hq_rtcp_iter_init (&iter, out, w.len, NULL));
    g_assert_true (hq_rtcp_iter_next (&iter, &pkt));
    g_array_set_size (st, 0);
    g_assert_true (hq_rtcp_parse_twcc (&pkt, &fb, &twcc, st, &error));
    g_assert_cmpuint (twcc.base_seq, ==, (guint16)next_seq);
    g_assert_cmpuint (twcc.fb_count, ==, (guint8)(fb_count - 1));

    /* Walk statuses alongside the arrivals this packet covered. */
    {
      gsize j = done_total;

      for (guint i = 0; i < st->len; i++) {
        HqTwccStatus *s = &g_array_index (st, HqTwccStatus, i);

        g_assert_cmpuint (s->seq, ==, (guint16)next_seq);
        next_seq++;
        if (j < done_total + done && arr[j].seq == s->seq) {
          g_assert_true (s->received);
          g_assert_cmpint (s->arrival_us, ==, arr[j].arrival_us);
          j++;
        } else {
          g_assert_false (s->received);
        }
      }
      g_assert_cmpuint (j, ==, done_total + done);
    }
    done_total += done;
    packets++;
  }
  return packets;
}

static void
test_twcc_round_trips (void)
{
  g_autoptr (GRand) rand = g_rand_new_with_seed (20261124);
  HqTwccArrival arr[3000];
  gsize n = 0;
  guint16 seq = 64000; /* crosses the wrap */
  gint64 t = 5 * G_USEC_PER_SEC;

  /* 10% loss, bursts of up to 40 lost, reordering (an arrival up to 5 ms
   * before its predecessor: negative deltas), and pauses of 100 ms to 2 s
   * (large deltas); times on the 250 µs grid so they come back exactly. */
  while (n < G_N_ELEMENTS (arr)) {
    guint r = g_rand_int_range (rand, 0, 100);

    seq++;
    if (r < 10)
      continue;
    if (r < 12)
      seq += g_rand_int_range (rand, 1, 40);
    if (r < 20)
      t -= 250 * g_rand_int_range (rand, 1, 20);
    else if (r < 22)
      t += 250 * g_rand_int_range (rand, 400, 8000);
    else
      t += 250 * g_rand_int_range (rand, 0, 12);
    arr[n++] = (HqTwccArrival){ seq, t };
  }
  /* All of it fits one large packet (status count and deltas permitting)
   * and splits into many small ones. */
  g_assert_cmpuint (twcc_round_trip (arr, n, 65536), <=, 2);
  g_assert_cmpuint (twcc_round_trip (arr, n, 1200), >, 3);
  g_assert_cmpuint (twcc_round_trip (arr, n, 64), >, 100);
}

static void
test_twcc_delta_overflow_splits (void)
{
  /* 9 s apart is beyond a 16-bit delta of 250 µs units (8.19 s): the
   * second packet needs its own feedback with its own reference time. */
  const HqTwccArrival arr[] = { { 1, 1000000 }, { 2, 1001000 }, { 3, 10001000 },
    { 4, 10002000 } };
  guint8 out[128];
  HqRtcpWriter w;
  gsize done = 0;

  hq_rtcp_writer_init (&w, out, sizeof out);
  g_assert_true (hq_rtcp_write_twcc (&w, 1, 2, 0, 1, arr, 4, &done, NULL));
  g_assert_cmpuint (done, ==, 2);
  g_assert_cmpuint (twcc_round_trip (arr, 4, 1200), ==, 2);

  /* 18000 losses before the first arrival: only the last 8191 of them are
   * reported, and the arrival still is. */
  {
    const HqTwccArrival late = { 20000, 5000000 };
    g_autoptr (GArray) st = g_array_new (FALSE, FALSE, sizeof (HqTwccStatus));
    HqRtcpIter iter;
    HqRtcpPacket pkt;
    HqRtcpFb fb;
    HqTwccFeedback twcc;

    hq_rtcp_writer_init (&w, out, sizeof out);
    g_assert_true (
        hq_rtcp_write_twcc (&w, 1, 2, 0, 2000, &late, 1, &done, NULL));
    g_assert_true (hq_rtcp_iter_init (&iter, out, w.len, NULL));
    g_assert_true (hq_rtcp_iter_next (&iter, &pkt));
    g_assert_true (hq_rtcp_parse_twcc (&pkt, &fb, &twcc, st, NULL));
    g_assert_cmpuint (twcc.base_seq, ==, 20000 - 8191);
    g_assert_cmpuint (twcc.status_count, ==, 8192);
    g_assert_false (g_array_index (st, HqTwccStatus, 8190).received);
    g_assert_true (g_array_index (st, HqTwccStatus, 8191).received);
    g_assert_cmpint (
        g_array_index (st, HqTwccStatus, 8191).arrival_us, ==, 5000000);
  }

  /* A writer too small for even the fixed part says so. */
  {
    g_autoptr (GError) error = NULL;

    hq_rtcp_writer_init (&w, out, 20);
    g_assert_false (hq_rtcp_write_twcc (&w, 1, 2, 0, 1, arr, 4, &done, &error));
    g_assert_error (error, HQ_RTP_ERROR, HQ_RTP_ERROR_NO_SPACE);
  }
}

/* RFC 3550 6.4.1: the RTT is arrival - LSR - DLSR, in 1/65536 s. */
static void
test_rtt (void)
{
  guint64 sr_ntp = hq_rtcp_ntp_from_unix_us (
      G_GINT64_CONSTANT (1700000000) * G_USEC_PER_SEC);
  /* The receiver held our SR for 250 ms; it arrived back 330 ms after we
   * sent it: 80 ms round trip. */
  HqRtcpReportBlock b = { .lsr = (guint32)(sr_ntp >> 16),
    .dlsr = 250 * 65536 / 1000 };
  guint64 now = hq_rtcp_ntp_from_unix_us (
      G_GINT64_CONSTANT (1700000000) * G_USEC_PER_SEC + 330000);

  g_assert_cmpuint (sr_ntp >> 32, ==, 1700000000u + 2208988800u);
  /* and back, to the microsecond */
  g_assert_cmpint (hq_rtcp_unix_us_from_ntp (now), ==,
      G_GINT64_CONSTANT (1700000000) * G_USEC_PER_SEC + 330000);
  g_assert_cmpint (hq_rtcp_unix_us_from_ntp (hq_rtcp_ntp_from_unix_us (
                       G_GINT64_CONSTANT (1764000000123456))),
      ==, G_GINT64_CONSTANT (1764000000123456));
  g_assert_cmpfloat_with_epsilon (hq_rtcp_rtt_ms (&b, now), 80.0, 0.1);
  /* No SR referenced, or a report from the future: unknown. */
  b.lsr = 0;
  g_assert_cmpfloat (hq_rtcp_rtt_ms (&b, now), <, 0);
  b.lsr = (guint32)(now >> 16) + 65536;
  b.dlsr = 0;
  g_assert_cmpfloat (hq_rtcp_rtt_ms (&b, now), <, 0);
}

int
main (int argc, char **argv)
{
  gst_init (NULL, NULL);
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/rtcp/demux", test_demux);
  g_test_add_func ("/rtcp/ours-read-by-gst", test_ours_read_by_gst);
  g_test_add_func ("/rtcp/ours-round-trip", test_ours_round_trip);
  g_test_add_func ("/rtcp/rr-from-stats", test_rr_from_stats);
  g_test_add_func ("/rtcp/gst-built-parse", test_gst_built_parse);
  g_test_add_func ("/rtcp/sdes-two-chunks", test_sdes_two_chunks);
  g_test_add_func ("/rtcp/feedback-read-by-gst", test_feedback_read_by_gst);
  g_test_add_func ("/rtcp/feedback-round-trip", test_feedback_round_trip);
  g_test_add_func ("/rtcp/padding", test_padding);
  g_test_add_func ("/rtcp/builder-limits", test_builder_limits);
  g_test_add_func ("/rtcp/truncated-compound", test_truncated_compound);
  g_test_add_func ("/rtcp/malformed-packets", test_malformed_packets);
  g_test_add_func ("/rtcp/twcc-hand-vectors", test_twcc_hand_vectors);
  g_test_add_func ("/rtcp/twcc-malformed", test_twcc_malformed);
  g_test_add_func ("/rtcp/rtt", test_rtt);
  g_test_add_func ("/rtcp/twcc-round-trips", test_twcc_round_trips);
  g_test_add_func (
      "/rtcp/twcc-delta-overflow-splits", test_twcc_delta_overflow_splits);
  return g_test_run ();
}
