/* Unit tests for libhq RTP helpers (hqrtp.h): header parsing and rewriting,
 * RFC 8285 header extensions, sequence arithmetic and receive statistics.
 *
 * GStreamer's gst-rtp library is the independent implementation: packets
 * it builds must parse here with the same fields, and packets rewritten
 * here must read back there with the new values.  Truncated and malformed
 * input is fed from exact-size heap copies so that ASan sees any read
 * past the end. */
#include <string.h>
#include <glib.h>
#include <gst/gst.h>
#include <gst/rtp/rtp.h>
#include <hq/hqrtp.h>

/* The bytes of @buf, owned by the caller. */
static guint8 *
buffer_bytes (GstBuffer *buf, gsize *len)
{
  gpointer data = NULL;

  gst_buffer_extract_dup (buf, 0, gst_buffer_get_size (buf), &data, len);
  return data;
}

/* An RTP packet built by GStreamer with @n_csrc CSRCs, @pad padding bytes
 * and a payload of @payload_len bytes counting up from 0. */
static GstBuffer *
gst_packet (guint payload_len, guint8 pad, guint8 n_csrc)
{
  GstBuffer *buf = gst_rtp_buffer_new_allocate (payload_len, pad, n_csrc);
  GstRTPBuffer rtp = GST_RTP_BUFFER_INIT;
  guint8 *payload;

  gst_rtp_buffer_map (buf, GST_MAP_WRITE, &rtp);
  gst_rtp_buffer_set_ssrc (&rtp, 0xdeadbeef);
  gst_rtp_buffer_set_seq (&rtp, 4242);
  gst_rtp_buffer_set_timestamp (&rtp, 0x89abcdef);
  gst_rtp_buffer_set_payload_type (&rtp, 111);
  gst_rtp_buffer_set_marker (&rtp, TRUE);
  for (guint i = 0; i < n_csrc; i++)
    gst_rtp_buffer_set_csrc (&rtp, i, 0x1000 + i);
  payload = gst_rtp_buffer_get_payload (&rtp);
  for (guint i = 0; i < payload_len; i++)
    payload[i] = i & 0xff;
  gst_rtp_buffer_unmap (&rtp);
  return buf;
}

static void
test_parse_gst_built (void)
{
  static const guint8 pads[] = { 0, 1, 7 };
  static const guint8 csrcs[] = { 0, 1, 15 };

  for (guint p = 0; p < G_N_ELEMENTS (pads); p++) {
    for (guint c = 0; c < G_N_ELEMENTS (csrcs); c++) {
      g_autoptr (GstBuffer) buf = gst_packet (160, pads[p], csrcs[c]);
      gsize len;
      g_autofree guint8 *data = buffer_bytes (buf, &len);
      g_autoptr (GError) error = NULL;
      HqRtpHeader hdr;

      g_assert_true (hq_rtp_parse (data, len, &hdr, &error));
      g_assert_no_error (error);
      g_assert_cmpuint (hdr.ssrc, ==, 0xdeadbeef);
      g_assert_cmpuint (hdr.seq, ==, 4242);
      g_assert_cmpuint (hdr.timestamp, ==, 0x89abcdef);
      g_assert_cmpuint (hdr.payload_type, ==, 111);
      g_assert_true (hdr.marker);
      g_assert_false (hdr.extension);
      g_assert_cmpuint (hdr.csrc_count, ==, csrcs[c]);
      for (guint i = 0; i < csrcs[c]; i++)
        g_assert_cmpuint (hdr.csrcs[i], ==, 0x1000 + i);
      g_assert_cmpint (hdr.padding, ==, pads[p] != 0);
      g_assert_cmpuint (hdr.padding_len, ==, pads[p]);
      g_assert_cmpuint (hdr.payload_len, ==, 160);
      g_assert_cmpuint (hdr.payload_offset, ==, 12 + 4 * csrcs[c]);
      g_assert_cmpuint (data[hdr.payload_offset + 159], ==, 159);
    }
  }
}

/* Adds one-byte extensions for the four WebRTC extensions. */
static GstBuffer *
gst_packet_with_extensions (gboolean two_byte)
{
  GstBuffer *buf = gst_packet (100, 0, 2);
  GstRTPBuffer rtp = GST_RTP_BUFFER_INIT;
  const guint8 level[] = { 0x80 | 42 };
  const guint8 ast[] = { 0x06, 0x00, 0x00 }; /* 1.5 s */
  const guint8 twcc[] = { 0xfe, 0xdc };
  const gchar *mid = "video-1";

  gst_rtp_buffer_map (buf, GST_MAP_WRITE, &rtp);
  if (!two_byte) {
    g_assert_true (
        gst_rtp_buffer_add_extension_onebyte_header (&rtp, 1, level, 1));
    g_assert_true (
        gst_rtp_buffer_add_extension_onebyte_header (&rtp, 3, ast, 3));
    g_assert_true (
        gst_rtp_buffer_add_extension_onebyte_header (&rtp, 5, twcc, 2));
    g_assert_true (gst_rtp_buffer_add_extension_onebyte_header (
        &rtp, 4, mid, strlen (mid)));
  } else {
    g_assert_true (
        gst_rtp_buffer_add_extension_twobytes_header (&rtp, 0x5, 1, level, 1));
    g_assert_true (
        gst_rtp_buffer_add_extension_twobytes_header (&rtp, 0x5, 200, ast, 3));
    g_assert_true (
        gst_rtp_buffer_add_extension_twobytes_header (&rtp, 0x5, 5, twcc, 2));
    g_assert_true (gst_rtp_buffer_add_extension_twobytes_header (
        &rtp, 0x5, 4, mid, strlen (mid)));
  }
  gst_rtp_buffer_unmap (&rtp);
  return buf;
}

static void
check_webrtc_extensions (
    const guint8 *data, const HqRtpHeader *hdr, guint8 ast_id)
{
  HqRtpExt ext;
  gboolean voice = FALSE;
  guint8 level = 0;
  guint32 ast = 0;
  guint16 twcc = 0;
  gchar mid[256];

  g_assert_true (hq_rtp_ext_find (data, hdr, 1, &ext));
  g_assert_true (hq_rtp_ext_read_audio_level (&ext, &voice, &level));
  g_assert_true (voice);
  g_assert_cmpuint (level, ==, 42);
  g_assert_true (hq_rtp_ext_find (data, hdr, ast_id, &ext));
  g_assert_true (hq_rtp_ext_read_abs_send_time (&ext, &ast));
  g_assert_cmpuint (ast, ==, 0x060000);
  g_assert_cmpuint (hq_rtp_abs_send_time_to_us (ast), ==, 1500000);
  g_assert_true (hq_rtp_ext_find (data, hdr, 5, &ext));
  g_assert_true (hq_rtp_ext_read_twcc_seq (&ext, &twcc));
  g_assert_cmpuint (twcc, ==, 0xfedc);
  g_assert_true (hq_rtp_ext_find (data, hdr, 4, &ext));
  g_assert_true (hq_rtp_ext_read_mid (&ext, mid, sizeof mid));
  g_assert_cmpstr (mid, ==, "video-1");
  g_assert_false (hq_rtp_ext_find (data, hdr, 9, &ext));
}

static void
test_ext_one_byte_gst (void)
{
  g_autoptr (GstBuffer) buf = gst_packet_with_extensions (FALSE);
  gsize len;
  g_autofree guint8 *data = buffer_bytes (buf, &len);
  HqRtpHeader hdr;
  HqRtpExtIter iter;
  HqRtpExt ext;
  guint8 ids[8];
  guint n = 0;

  g_assert_true (hq_rtp_parse (data, len, &hdr, NULL));
  g_assert_true (hdr.extension);
  g_assert_cmphex (hdr.ext_profile, ==, HQ_RTP_EXT_ONE_BYTE);
  g_assert_cmpuint (hdr.payload_len, ==, 100);
  g_assert_cmpuint (data[hdr.payload_offset + 99], ==, 99);
  check_webrtc_extensions (data, &hdr, 3);

  hq_rtp_ext_iter_init (&iter, data, &hdr);
  while (hq_rtp_ext_iter_next (&iter, &ext) && n < G_N_ELEMENTS (ids))
    ids[n++] = ext.id;
  g_assert_cmpuint (n, ==, 4);
  g_assert_cmpuint (ids[0], ==, 1);
  g_assert_cmpuint (ids[1], ==, 3);
  g_assert_cmpuint (ids[2], ==, 5);
  g_assert_cmpuint (ids[3], ==, 4);
}

static void
test_ext_two_byte_gst (void)
{
  g_autoptr (GstBuffer) buf = gst_packet_with_extensions (TRUE);
  gsize len;
  g_autofree guint8 *data = buffer_bytes (buf, &len);
  HqRtpHeader hdr;

  g_assert_true (hq_rtp_parse (data, len, &hdr, NULL));
  g_assert_cmphex (hdr.ext_profile, ==, 0x1005);
  check_webrtc_extensions (data, &hdr, 200);
}

/* Hand-made blocks: padding between elements, id 15 ending the block,
 * two-byte elements of length 0. */
static void
test_ext_edge_cases (void)
{
  guint8 one[] = { 0x90, 0x60, 0, 1, 0, 0, 0, 1, 0, 0, 0, 2, /* header */
    0xbe, 0xde, 0, 2, /* two words of extension */
    0x11, 0xaa, 0xbb, 0x00, 0xf0, 0x21, 0x00, 0x00 };
  guint8 two[] = { 0x90, 0x60, 0, 1, 0, 0, 0, 1, 0, 0, 0, 2, 0x10, 0x00, 0, 2,
    7, 0, 0, 0, 9, 2, 0xab, 0xcd, 0xff };
  HqRtpHeader hdr;
  HqRtpExtIter iter;
  HqRtpExt ext;

  /* id 1 with 2 bytes, a padding byte, then id 15, which ends the block
   * before the id 2 element that follows it. */
  g_assert_true (hq_rtp_parse (one, sizeof one, &hdr, NULL));
  hq_rtp_ext_iter_init (&iter, one, &hdr);
  g_assert_true (hq_rtp_ext_iter_next (&iter, &ext));
  g_assert_cmpuint (ext.id, ==, 1);
  g_assert_cmpuint (ext.len, ==, 2);
  g_assert_cmpuint (ext.data[0], ==, 0xaa);
  g_assert_false (hq_rtp_ext_iter_next (&iter, &ext));
  g_assert_false (hq_rtp_ext_find (one, &hdr, 2, &ext));

  /* Two-byte: id 7 len 0, padding, padding, id 9 len 2. */
  g_assert_true (hq_rtp_parse (two, sizeof two, &hdr, NULL));
  g_assert_cmpuint (hdr.payload_len, ==, 1);
  hq_rtp_ext_iter_init (&iter, two, &hdr);
  g_assert_true (hq_rtp_ext_iter_next (&iter, &ext));
  g_assert_cmpuint (ext.id, ==, 7);
  g_assert_cmpuint (ext.len, ==, 0);
  g_assert_true (hq_rtp_ext_iter_next (&iter, &ext));
  g_assert_cmpuint (ext.id, ==, 9);
  g_assert_cmpuint (ext.len, ==, 2);
  g_assert_cmphex (ext.data[1], ==, 0xcd);
  g_assert_false (hq_rtp_ext_iter_next (&iter, &ext));

  /* Typed readers refuse the wrong sizes, a zero-length audio level, and
   * a MID with a control character or no room. */
  {
    const guint8 bytes[] = { 'a', 0x01, 'c', 'd' };
    HqRtpExt e = { 1, 0, bytes };
    gboolean v;
    guint8 l;
    guint32 t;
    guint16 s;
    gchar mid[4];

    g_assert_false (hq_rtp_ext_read_audio_level (&e, &v, &l));
    e.len = 2;
    g_assert_false (hq_rtp_ext_read_abs_send_time (&e, &t));
    e.len = 3;
    g_assert_false (hq_rtp_ext_read_twcc_seq (&e, &s));
    g_assert_false (hq_rtp_ext_read_mid (&e, mid, sizeof mid));
    e.data = bytes + 2;
    e.len = 2;
    g_assert_true (hq_rtp_ext_read_mid (&e, mid, sizeof mid));
    g_assert_cmpstr (mid, ==, "cd");
    e.data = bytes;
    e.len = 4;
    g_assert_false (hq_rtp_ext_read_mid (&e, mid, sizeof mid));
  }
}

static void
test_rewrite_in_place (void)
{
  g_autoptr (GstBuffer) orig = gst_packet_with_extensions (FALSE);
  gsize len;
  g_autofree guint8 *data = buffer_bytes (orig, &len);
  g_autofree guint8 *before = g_memdup2 (data, len);
  g_autoptr (GstBuffer) buf = NULL;
  g_autoptr (GError) error = NULL;
  GstRTPBuffer rtp = GST_RTP_BUFFER_INIT;
  HqRtpHeader hdr;
  gpointer ext_data;
  guint ext_size;

  g_assert_true (hq_rtp_parse (data, len, &hdr, NULL));
  hq_rtp_set_ssrc (data, 0x01020304);
  hq_rtp_set_seq (data, 65535);
  hq_rtp_set_timestamp (data, 7);
  hq_rtp_set_payload_type (data, 96);
  hq_rtp_set_marker (data, FALSE);
  g_assert_true (hq_rtp_ext_write_twcc_seq (data, &hdr, 5, 0x1234, &error));
  g_assert_true (hq_rtp_ext_write_abs_send_time (
      data, &hdr, 3, hq_rtp_abs_send_time_from_us (250000), &error));
  g_assert_no_error (error);

  /* Absent ids and wrong lengths are refused and change nothing. */
  g_assert_false (hq_rtp_ext_write_twcc_seq (data, &hdr, 9, 1, &error));
  g_assert_error (error, HQ_RTP_ERROR, HQ_RTP_ERROR_NOT_FOUND);
  g_clear_error (&error);
  g_assert_false (hq_rtp_ext_write_abs_send_time (data, &hdr, 5, 1, &error));
  g_assert_error (error, HQ_RTP_ERROR, HQ_RTP_ERROR_NOT_FOUND);

  buf = gst_buffer_new_memdup (data, len);
  g_assert_true (gst_rtp_buffer_map (buf, GST_MAP_READ, &rtp));
  g_assert_cmphex (gst_rtp_buffer_get_ssrc (&rtp), ==, 0x01020304);
  g_assert_cmpuint (gst_rtp_buffer_get_seq (&rtp), ==, 65535);
  g_assert_cmpuint (gst_rtp_buffer_get_timestamp (&rtp), ==, 7);
  g_assert_cmpuint (gst_rtp_buffer_get_payload_type (&rtp), ==, 96);
  g_assert_false (gst_rtp_buffer_get_marker (&rtp));
  g_assert_cmpuint (gst_rtp_buffer_get_csrc (&rtp, 1), ==, 0x1001);
  g_assert_true (gst_rtp_buffer_get_extension_onebyte_header (
      &rtp, 5, 0, &ext_data, &ext_size));
  g_assert_cmpuint (ext_size, ==, 2);
  g_assert_cmphex (((guint8 *)ext_data)[0], ==, 0x12);
  g_assert_cmphex (((guint8 *)ext_data)[1], ==, 0x34);
  g_assert_true (gst_rtp_buffer_get_extension_onebyte_header (
      &rtp, 3, 0, &ext_data, &ext_size));
  g_assert_cmphex (((guint8 *)ext_data)[0], ==, 0x01); /* 0.25 s = 0x010000 */
  g_assert_cmphex (((guint8 *)ext_data)[1], ==, 0x00);
  gst_rtp_buffer_unmap (&rtp);

  /* The payload is untouched. */
  g_assert_cmpmem (data + hdr.payload_offset, hdr.payload_len,
      before + hdr.payload_offset, hdr.payload_len);
}

/* Parses the first @len bytes of @packet from an exact-size copy. */
static gboolean
parse_prefix (const guint8 *packet, gsize len, HqRtpHeader *hdr, GError **error)
{
  g_autofree guint8 *copy = g_malloc (MAX (len, 1));

  memcpy (copy, packet, len);
  return hq_rtp_parse (copy, len, hdr, error);
}

static void
test_truncated (void)
{
  g_autoptr (GstBuffer) buf = gst_packet_with_extensions (FALSE);
  gsize len;
  g_autofree guint8 *data = buffer_bytes (buf, &len);
  HqRtpHeader full;

  g_assert_true (hq_rtp_parse (data, len, &full, NULL));
  /* Every cut inside the header is refused as truncated; every cut in the
   * payload parses with a shorter payload. */
  for (gsize cut = 0; cut < len; cut++) {
    g_autoptr (GError) error = NULL;
    HqRtpHeader hdr;
    gboolean ok = parse_prefix (data, cut, &hdr, &error);

    if (cut < full.payload_offset) {
      g_assert_false (ok);
      g_assert_error (error, HQ_RTP_ERROR, HQ_RTP_ERROR_TRUNCATED);
      g_assert_nonnull (strstr (error->message, "byte"));
    } else {
      g_assert_no_error (error);
      g_assert_true (ok);
      g_assert_cmpuint (hdr.payload_len, ==, cut - full.payload_offset);
    }
  }
}

static void
expect_parse_error (const guint8 *bytes, gsize len, gint code)
{
  g_autoptr (GError) error = NULL;
  HqRtpHeader hdr;

  g_assert_false (parse_prefix (bytes, len, &hdr, &error));
  g_assert_error (error, HQ_RTP_ERROR, code);
  g_assert_cmpuint (strlen (error->message), >, 10);
}

static void
test_malformed (void)
{
  const guint8 v1[] = { 0x40, 0x60, 0, 1, 0, 0, 0, 1, 0, 0, 0, 2, 0xaa };
  const guint8 pad0[] = { 0xa0, 0x60, 0, 1, 0, 0, 0, 1, 0, 0, 0, 2, 1, 0 };
  const guint8 pad_big[] = { 0xa0, 0x60, 0, 1, 0, 0, 0, 1, 0, 0, 0, 2, 1, 9 };
  const guint8 pad_none[] = { 0xa0, 0x60, 0, 1, 0, 0, 0, 1, 0, 0, 0, 2 };
  /* one-byte element id 2 says 4 bytes but the block holds 3 more */
  const guint8 ext1[] = { 0x90, 0x60, 0, 1, 0, 0, 0, 1, 0, 0, 0, 2, 0xbe, 0xde,
    0, 1, 0x23, 1, 2, 3 };
  /* two-byte element id 2 says 5 bytes, 2 remain */
  const guint8 ext2[] = { 0x90, 0x60, 0, 1, 0, 0, 0, 1, 0, 0, 0, 2, 0x10, 0, 0,
    1, 2, 5, 1, 2 };
  /* two-byte element header cut in the middle */
  const guint8 ext3[] = { 0x90, 0x60, 0, 1, 0, 0, 0, 1, 0, 0, 0, 2, 0x10, 0, 0,
    1, 0, 0, 0, 2 };
  /* extension length 2 words past the end */
  const guint8 ext_len[] = { 0x90, 0x60, 0, 1, 0, 0, 0, 1, 0, 0, 0, 2, 0xbe,
    0xde, 0, 2, 0x10, 1, 0, 0 };

  expect_parse_error (v1, sizeof v1, HQ_RTP_ERROR_BAD_VERSION);
  expect_parse_error (pad0, sizeof pad0, HQ_RTP_ERROR_BAD_PADDING);
  expect_parse_error (pad_big, sizeof pad_big, HQ_RTP_ERROR_BAD_PADDING);
  expect_parse_error (pad_none, sizeof pad_none, HQ_RTP_ERROR_BAD_PADDING);
  expect_parse_error (ext1, sizeof ext1, HQ_RTP_ERROR_BAD_EXTENSION);
  expect_parse_error (ext2, sizeof ext2, HQ_RTP_ERROR_BAD_EXTENSION);
  expect_parse_error (ext3, sizeof ext3, HQ_RTP_ERROR_BAD_EXTENSION);
  expect_parse_error (ext_len, sizeof ext_len, HQ_RTP_ERROR_TRUNCATED);
}

static void
test_abs_send_time (void)
{
  g_assert_cmphex (hq_rtp_abs_send_time_from_us (1500000), ==, 0x060000);
  g_assert_cmphex (hq_rtp_abs_send_time_from_us (0), ==, 0);
  /* It wraps every 64 s. */
  g_assert_cmphex (
      hq_rtp_abs_send_time_from_us (64000000 + 1500000), ==, 0x060000);
  /* One unit is 1/262144 s, about 3.8 µs: a round trip lands within 2 µs. */
  for (guint64 us = 0; us < 64000000; us += 999983) {
    guint64 back =
        hq_rtp_abs_send_time_to_us (hq_rtp_abs_send_time_from_us (us));
    g_assert_cmpint (ABS ((gint64)back - (gint64)us), <=, 2);
  }
}

static void
test_seq_arithmetic (void)
{
  HqRtpSeqUnwrapper u;
  gint64 v;

  g_assert_cmpint (hq_rtp_seq_diff (2, 65534), ==, 4);
  g_assert_cmpint (hq_rtp_seq_diff (65534, 2), ==, -4);
  g_assert_true (hq_rtp_seq_newer (0, 65535));
  g_assert_false (hq_rtp_seq_newer (65535, 0));
  g_assert_false (hq_rtp_seq_newer (7, 7));

  hq_rtp_seq_unwrapper_init (&u);
  g_assert_cmpint (hq_rtp_seq_unwrap (&u, 65530), ==, 65530);
  /* Three whole wraps, stepping 1000 at a time. */
  v = 65530;
  for (guint i = 0; i < 200; i++) {
    v += 1000;
    g_assert_cmpint (hq_rtp_seq_unwrap (&u, (guint16)v), ==, v);
  }
  g_assert_cmpint (v, >, 3 * 65536);
  /* A late packet from before the last wrap stays in its own cycle. */
  g_assert_cmpint (hq_rtp_seq_unwrap (&u, (guint16)(v - 2000)), ==, v - 2000);
  g_assert_cmpint (hq_rtp_seq_unwrap (&u, (guint16)(v + 1)), ==, v + 1);

  /* Reordered across a wrap right at the start: 0 then 65535. */
  hq_rtp_seq_unwrapper_init (&u);
  g_assert_cmpint (hq_rtp_seq_unwrap (&u, 0), ==, 0);
  g_assert_cmpint (hq_rtp_seq_unwrap (&u, 65535), ==, -1);
  g_assert_cmpint (hq_rtp_seq_unwrap (&u, 1), ==, 1);
}

#define CLOCK 90000
#define STEP_US 20000 /* one packet every 20 ms */
#define STEP_TS (CLOCK / 50)

/* 1000 packets from @first_seq with every 10th lost, then a report; then
 * 500 without loss and another report. */
static void
test_recv_stats_loss (void)
{
  HqRtpRecvStats stats;
  HqRtcpReportBlock rb;
  guint16 first_seq = 65000;
  guint16 seq = first_seq;

  hq_rtp_recv_stats_init (&stats, 0xabc, CLOCK);
  g_assert_false (hq_rtp_recv_stats_report (&stats, 0, &rb));
  for (guint i = 0; i < 1000; i++, seq++) {
    if (i % 10 == 5)
      continue;
    g_assert_true (hq_rtp_recv_stats_update (
        &stats, seq, i * STEP_TS, (gint64)i * STEP_US));
  }
  g_assert_true (hq_rtp_recv_stats_report (&stats, 20000000, &rb));
  g_assert_cmpuint (rb.ssrc, ==, 0xabc);
  g_assert_cmpint (rb.cumulative_lost, ==, 100);
  g_assert_cmpuint (rb.fraction_lost, ==, 100 * 256 / 1000);
  /* 65000 + 999 crossed one wrap. */
  g_assert_cmpuint (rb.ext_highest_seq, ==, 65536 + (guint16)(seq - 1));
  g_assert_cmpuint (rb.jitter, ==, 0);

  for (guint i = 1000; i < 1500; i++, seq++)
    hq_rtp_recv_stats_update (&stats, seq, i * STEP_TS, (gint64)i * STEP_US);
  g_assert_true (hq_rtp_recv_stats_report (&stats, 30000000, &rb));
  g_assert_cmpint (rb.cumulative_lost, ==, 100);
  g_assert_cmpuint (rb.fraction_lost, ==, 0);

  /* A duplicate makes the cumulative count one less. */
  hq_rtp_recv_stats_update (&stats, seq - 1, 0, 31000000);
  g_assert_true (hq_rtp_recv_stats_report (&stats, 31000000, &rb));
  g_assert_cmpint (rb.cumulative_lost, ==, 99);
}

static void
test_recv_stats_jitter (void)
{
  HqRtpRecvStats stats;
  HqRtcpReportBlock rb;

  /* Every other packet is 1 ms late: each transit difference is 90 units,
   * so the estimate converges on 90 from below. */
  hq_rtp_recv_stats_init (&stats, 1, CLOCK);
  for (guint i = 0; i < 2000; i++) {
    gint64 late = (i % 2) ? 1000 : 0;

    hq_rtp_recv_stats_update (&stats, (guint16)i, 123456 + i * STEP_TS,
        1000000 + (gint64)i * STEP_US + late);
  }
  g_assert_true (hq_rtp_recv_stats_report (&stats, 50000000, &rb));
  g_assert_cmpuint (rb.jitter, >=, 89);
  g_assert_cmpuint (rb.jitter, <=, 90);
  g_assert_cmpint (rb.cumulative_lost, ==, 0);

  /* RFC 3550 A.8 by hand for three packets: d = 160, then 0:
   * J = 160/16 = 10, then 10 - 10/16 = 9.375 (150/16). */
  hq_rtp_recv_stats_init (&stats, 1, 8000);
  hq_rtp_recv_stats_update (&stats, 1, 0, 0);
  hq_rtp_recv_stats_update (&stats, 2, 160, 40000); /* 20 ms late */
  g_assert_cmpuint (stats.jitter_q4, ==, 160);
  hq_rtp_recv_stats_update (&stats, 3, 320, 60000);
  g_assert_cmpuint (stats.jitter_q4, ==, 150);
  g_assert_true (hq_rtp_recv_stats_report (&stats, 60000, &rb));
  g_assert_cmpuint (rb.jitter, ==, 9);
}

static void
test_recv_stats_restart_and_sr (void)
{
  HqRtpRecvStats stats;
  HqRtcpReportBlock rb;

  hq_rtp_recv_stats_init (&stats, 7, CLOCK);
  for (guint16 s = 100; s < 110; s++)
    g_assert_true (hq_rtp_recv_stats_update (&stats, s, s, s));
  /* One stray jump is not believed ... */
  g_assert_false (hq_rtp_recv_stats_update (&stats, 20000, 0, 200));
  g_assert_true (hq_rtp_recv_stats_update (&stats, 110, 110, 210));
  /* ... two in sequence restart the bookkeeping. */
  g_assert_false (hq_rtp_recv_stats_update (&stats, 30000, 0, 300));
  g_assert_true (hq_rtp_recv_stats_update (&stats, 30001, 0, 301));
  g_assert_true (hq_rtp_recv_stats_report (&stats, 400, &rb));
  g_assert_cmpuint (rb.ext_highest_seq, ==, 30001);
  g_assert_cmpint (rb.cumulative_lost, ==, 0);

  hq_rtp_recv_stats_sr_received (
      &stats, G_GUINT64_CONSTANT (0x1122334455667788), 1000000);
  g_assert_true (hq_rtp_recv_stats_report (&stats, 2500000, &rb));
  g_assert_cmphex (rb.lsr, ==, 0x33445566);
  g_assert_cmpuint (rb.dlsr, ==, 65536 * 3 / 2);
}

/* RFC 7741 descriptors: keyframe start, delta frame, a continuation, with
 * and without the extension bytes; truncated ones are refused. */
static void
test_vp8_descriptor (void)
{
  /* X=0, S=1, PID=0; payload header P=0: keyframe start. */
  const guint8 key[] = { 0x10, 0x9c, 0x01, 0x2a };
  /* Same with P=1: a delta frame. */
  const guint8 delta[] = { 0x10, 0x9d, 0x01 };
  /* X=1, I (15-bit picture id), L, T: S=1 keyframe after 5 descriptor
   * bytes. */
  const guint8 ext[] = { 0x90, 0xe0, 0x81, 0x23, 0x05, 0x40, 0x50, 0x00 };
  /* S=0: a later packet of the frame. */
  const guint8 cont[] = { 0x00, 0x42 };
  gboolean start, is_key;

  g_assert_true (hq_rtp_vp8_parse (key, sizeof key, &start, &is_key));
  g_assert_true (start);
  g_assert_true (is_key);
  g_assert_true (hq_rtp_vp8_parse (delta, sizeof delta, &start, &is_key));
  g_assert_true (start);
  g_assert_false (is_key);
  g_assert_true (hq_rtp_vp8_parse (ext, sizeof ext, &start, &is_key));
  g_assert_true (start);
  g_assert_true (is_key);
  g_assert_true (hq_rtp_vp8_parse (cont, sizeof cont, &start, &is_key));
  g_assert_false (start);
  g_assert_false (is_key);
  for (gsize n = 0; n < 6; n++)
    g_assert_false (hq_rtp_vp8_parse (ext, n, &start, &is_key));
  g_assert_false (hq_rtp_vp8_parse (key, 1, &start, &is_key));
}

static void
test_h264_keyframe (void)
{
  const guint8 idr[] = { 0x65, 0x88 };
  const guint8 slice[] = { 0x41, 0x9a };
  const guint8 fu_start_idr[] = { 0x7c, 0x85, 0x00 };
  const guint8 fu_middle_idr[] = { 0x7c, 0x05, 0x00 };
  /* STAP-A with an SPS (7) of 2 bytes and a PPS (8) of 2 bytes. */
  const guint8 stap[] = { 0x78, 0x00, 0x02, 0x67, 0x42, 0x00, 0x02, 0x68,
    0xce };
  const guint8 stap_no_key[] = { 0x78, 0x00, 0x02, 0x68, 0xce };

  g_assert_true (hq_rtp_h264_keyframe (idr, sizeof idr));
  g_assert_false (hq_rtp_h264_keyframe (slice, sizeof slice));
  g_assert_true (hq_rtp_h264_keyframe (fu_start_idr, sizeof fu_start_idr));
  g_assert_false (hq_rtp_h264_keyframe (fu_middle_idr, sizeof fu_middle_idr));
  g_assert_true (hq_rtp_h264_keyframe (stap, sizeof stap));
  g_assert_false (hq_rtp_h264_keyframe (stap_no_key, sizeof stap_no_key));
  g_assert_false (hq_rtp_h264_keyframe (stap, 0));
}

int
main (int argc, char **argv)
{
  gst_init (NULL, NULL);
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/rtp/parse-gst-built", test_parse_gst_built);
  g_test_add_func ("/rtp/ext-one-byte-gst", test_ext_one_byte_gst);
  g_test_add_func ("/rtp/ext-two-byte-gst", test_ext_two_byte_gst);
  g_test_add_func ("/rtp/ext-edge-cases", test_ext_edge_cases);
  g_test_add_func ("/rtp/rewrite-in-place", test_rewrite_in_place);
  g_test_add_func ("/rtp/truncated", test_truncated);
  g_test_add_func ("/rtp/malformed", test_malformed);
  g_test_add_func ("/rtp/abs-send-time", test_abs_send_time);
  g_test_add_func ("/rtp/seq-arithmetic", test_seq_arithmetic);
  g_test_add_func ("/rtp/recv-stats-loss", test_recv_stats_loss);
  g_test_add_func ("/rtp/vp8-descriptor", test_vp8_descriptor);
  g_test_add_func ("/rtp/h264-keyframe", test_h264_keyframe);
  g_test_add_func ("/rtp/recv-stats-jitter", test_recv_stats_jitter);
  g_test_add_func (
      "/rtp/recv-stats-restart-and-sr", test_recv_stats_restart_and_sr);
  return g_test_run ();
}
