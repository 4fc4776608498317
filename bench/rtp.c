/* bench/rtp: what the SFU's forwarding path pays per packet, and what TWCC
 * feedback costs per report, each against baselines measured in the same
 * run.
 *
 * Forwarding: parse a 1200-byte RTP packet with three header extensions,
 * rewrite SSRC, sequence number, timestamp and payload type, and stamp the
 * TWCC sequence number, in place.  Baselines: memcpy of the same 1200
 * bytes (what any forwarder pays at least), and the same rewrite through
 * GStreamer's GstRTPBuffer on a buffer wrapped once.
 *
 * Feedback: build a TWCC feedback for 100 packets (5% lost, a few large
 * deltas) and parse it back.  Baseline: memcpy of the built packet.
 *
 *   build/bench/bench-rtp [forward-iterations] [twcc-iterations]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <gst/gst.h>
#include <gst/rtp/rtp.h>
#include <hq/hqrtcp.h>

#define PACKET_LEN 1200
#define TWCC_PACKETS 100

static double
now_us (void)
{
  return (double)g_get_monotonic_time ();
}

/* A 1200-byte video packet: abs-send-time (id 3), TWCC (id 5), MID (id 4). */
static GstBuffer *
make_packet (void)
{
  const guint8 ast[] = { 1, 2, 3 }, twcc[] = { 0, 1 };
  GstBuffer *buf = gst_rtp_buffer_new_allocate (PACKET_LEN - 12 - 16, 0, 0);
  GstRTPBuffer rtp = GST_RTP_BUFFER_INIT;

  gst_rtp_buffer_map (buf, GST_MAP_WRITE, &rtp);
  gst_rtp_buffer_set_ssrc (&rtp, 0x11223344);
  gst_rtp_buffer_set_payload_type (&rtp, 96);
  gst_rtp_buffer_add_extension_onebyte_header (&rtp, 3, ast, 3);
  gst_rtp_buffer_add_extension_onebyte_header (&rtp, 5, twcc, 2);
  gst_rtp_buffer_add_extension_onebyte_header (&rtp, 4, "1", 1);
  memset (gst_rtp_buffer_get_payload (&rtp), 0x5a,
      gst_rtp_buffer_get_payload_len (&rtp));
  gst_rtp_buffer_unmap (&rtp);
  return buf;
}

static void
bench_forward (long n)
{
  g_autoptr (GstBuffer) buf = make_packet ();
  gsize len = gst_buffer_get_size (buf);
  guint8 *pkt = g_malloc (len), *dst = g_malloc (len);
  double t0, memcpy_us, hq_us, gst_us;
  volatile guint sink = 0;

  gst_buffer_extract (buf, 0, pkt, len);
  g_assert (len == PACKET_LEN);

  t0 = now_us ();
  for (long i = 0; i < n; i++) {
    memcpy (dst, pkt, len);
    pkt[len - 1] = (guint8)i; /* keeps the copy inside the loop */
    sink += dst[i % len];
  }
  memcpy_us = (now_us () - t0) / n;

  t0 = now_us ();
  for (long i = 0; i < n; i++) {
    HqRtpHeader hdr;

    if (!hq_rtp_parse (pkt, len, &hdr, NULL))
      abort ();
    hq_rtp_set_ssrc (pkt, hdr.ssrc ^ 0x5555);
    hq_rtp_set_seq (pkt, hdr.seq + 1);
    hq_rtp_set_timestamp (pkt, hdr.timestamp + 3000);
    hq_rtp_set_payload_type (pkt, 97);
    if (!hq_rtp_ext_write_twcc_seq (pkt, &hdr, 5, (guint16)i, NULL))
      abort ();
    sink += hdr.payload_len;
  }
  hq_us = (now_us () - t0) / n;

  t0 = now_us ();
  for (long i = 0; i < n; i++) {
    GstRTPBuffer rtp = GST_RTP_BUFFER_INIT;
    guint8 twcc[2] = { i >> 8, i & 0xff };
    gpointer data;
    guint size;

    if (!gst_rtp_buffer_map (buf, GST_MAP_READWRITE, &rtp))
      abort ();
    gst_rtp_buffer_set_ssrc (&rtp, gst_rtp_buffer_get_ssrc (&rtp) ^ 0x5555);
    gst_rtp_buffer_set_seq (&rtp, gst_rtp_buffer_get_seq (&rtp) + 1);
    gst_rtp_buffer_set_timestamp (
        &rtp, gst_rtp_buffer_get_timestamp (&rtp) + 3000);
    gst_rtp_buffer_set_payload_type (&rtp, 97);
    if (!gst_rtp_buffer_get_extension_onebyte_header (&rtp, 5, 0, &data, &size))
      abort ();
    memcpy (data, twcc, 2);
    sink += gst_rtp_buffer_get_payload_len (&rtp);
    gst_rtp_buffer_unmap (&rtp);
  }
  gst_us = (now_us () - t0) / n;

  printf ("forward: %ld packets of %u bytes\n", n, PACKET_LEN);
  printf ("  memcpy               %8.1f ns  %12.0f packets/s\n",
      memcpy_us * 1000, 1e6 / memcpy_us);
  printf ("  hq parse+rewrite     %8.1f ns  %12.0f packets/s  %.2fx memcpy\n",
      hq_us * 1000, 1e6 / hq_us, hq_us / memcpy_us);
  printf ("  GstRTPBuffer rewrite %8.1f ns  %12.0f packets/s  %.2fx memcpy, "
          "hq is %.1fx faster\n",
      gst_us * 1000, 1e6 / gst_us, gst_us / memcpy_us, gst_us / hq_us);
  g_free (pkt);
  g_free (dst);
  (void)sink;
}

static void
bench_twcc (long n)
{
  HqTwccArrival arr[TWCC_PACKETS];
  guint8 out[1500], copy[1500];
  g_autoptr (GArray) st = g_array_new (FALSE, FALSE, sizeof (HqTwccStatus));
  guint16 seq = 65500;
  gint64 t = 10 * G_USEC_PER_SEC;
  gsize n_arr = 0, len = 0;
  double t0, memcpy_us, build_us, parse_us;
  volatile guint sink = 0;

  /* 5% lost, a 40 ms pause every 25 packets, otherwise 0.5 ms apart. */
  for (guint i = 0; n_arr < TWCC_PACKETS; i++, seq++) {
    if (i % 20 == 7)
      continue;
    t += (i % 25 == 0) ? 40000 : 500;
    arr[n_arr++] = (HqTwccArrival){ seq, t };
  }

  t0 = now_us ();
  for (long i = 0; i < n; i++) {
    HqRtcpWriter w;
    gsize done;

    hq_rtcp_writer_init (&w, out, sizeof out);
    if (!hq_rtcp_write_twcc (
            &w, 1, 2, (guint8)i, arr[0].seq, arr, n_arr, &done, NULL)
        || done != n_arr)
      abort ();
    len = w.len;
    sink += out[len - 1];
  }
  build_us = (now_us () - t0) / n;

  t0 = now_us ();
  for (long i = 0; i < n; i++) {
    HqRtcpIter iter;
    HqRtcpPacket pkt;
    HqRtcpFb fb;
    HqTwccFeedback twcc;

    g_array_set_size (st, 0);
    if (!hq_rtcp_iter_init (&iter, out, len, NULL)
        || !hq_rtcp_iter_next (&iter, &pkt)
        || !hq_rtcp_parse_twcc (&pkt, &fb, &twcc, st, NULL))
      abort ();
    sink += st->len;
  }
  parse_us = (now_us () - t0) / n;

  /* Last, as it scribbles on the packet's final byte. */
  t0 = now_us ();
  for (long i = 0; i < n; i++) {
    memcpy (copy, out, len);
    out[len - 1] ^= (guint8)i; /* keeps the copy inside the loop */
    sink += copy[i % len];
  }
  memcpy_us = (now_us () - t0) / n;

  printf ("twcc: %ld feedbacks of %u packets (%zu statuses, %zu bytes)\n", n,
      TWCC_PACKETS, (gsize)st->len, len);
  printf ("  memcpy      %8.1f ns\n", memcpy_us * 1000);
  printf ("  build       %8.1f ns  %10.0f feedbacks/s  %.1fx memcpy\n",
      build_us * 1000, 1e6 / build_us, build_us / memcpy_us);
  printf ("  parse       %8.1f ns  %10.0f feedbacks/s  %.1fx memcpy\n",
      parse_us * 1000, 1e6 / parse_us, parse_us / memcpy_us);
  (void)sink;
}

int
main (int argc, char **argv)
{
  long n_fwd = argc > 1 ? atol (argv[1]) : 5000000;
  long n_twcc = argc > 2 ? atol (argv[2]) : 200000;

  gst_init (NULL, NULL);
  bench_forward (n_fwd);
  bench_twcc (n_twcc);
  return 0;
}
