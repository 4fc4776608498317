/* libhq hqtwcc: the receiver's record and feedback, the sender's history
 * and its estimate, fed with synthetic paths: packets "sent" at a steady
 * rate, "arriving" after a delay the test chooses, their feedback
 * written by the recorder, parsed by hqrtcp and handed to the sender as
 * a real feedback packet would be. */
#include <glib.h>
#include <hq/hqrtp.h>
#include <hq/hqrtcp.h>
#include <hq/hqtwcc.h>

/* The sequence number extension block, against hand-made bytes. */
static void
test_ext_block (void)
{
  guint8 pkt[12 + 8 + 4] = { 0x80, 96, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3 };
  const guint8 want[] = { 0xbe, 0xde, 0x00, 0x01, 0x31, 0xab, 0xcd, 0x00 };
  HqRtpHeader hdr;
  HqRtpExt ext;
  guint16 seq = 0;

  g_assert_cmpuint (hq_rtp_write_twcc_ext_block (pkt + 12, 3, 0xabcd), ==, 8);
  g_assert_cmpmem (pkt + 12, 8, want, sizeof want);
  pkt[0] |= 0x10;
  g_assert_true (hq_rtp_parse (pkt, sizeof pkt, &hdr, NULL));
  g_assert_cmpuint (hdr.payload_len, ==, 4);
  g_assert_true (hq_rtp_ext_find (pkt, &hdr, 3, &ext));
  g_assert_true (hq_rtp_ext_read_twcc_seq (&ext, &seq));
  g_assert_cmpuint (seq, ==, 0xabcd);
}

/* A probe's padding-only packet: the P bit, no payload, the padding
 * count in its last byte, the transport-wide number readable. */
static void
test_padding_packet (void)
{
  guint8 pkt[12 + 8 + HQ_RTP_MAX_PADDING];
  HqRtpHeader hdr;
  HqRtpExt ext;
  guint16 seq = 0;
  gsize len = hq_rtp_write_padding_packet (pkt, 200, 3, 0x1234);

  g_assert_cmpuint (len, ==, 12 + 8 + 200);
  hq_rtp_set_seq (pkt, 77);
  hq_rtp_set_ssrc (pkt, 0xabc);
  g_assert_true (hq_rtp_parse (pkt, len, &hdr, NULL));
  g_assert_true (hdr.padding);
  g_assert_cmpuint (hdr.padding_len, ==, 200);
  g_assert_cmpuint (hdr.payload_len, ==, 0);
  g_assert_cmpuint (hdr.seq, ==, 77);
  g_assert_false (hdr.marker);
  g_assert_true (hq_rtp_ext_find (pkt, &hdr, 3, &ext));
  g_assert_true (hq_rtp_ext_read_twcc_seq (&ext, &seq));
  g_assert_cmpuint (seq, ==, 0x1234);
  g_assert_cmpuint (hq_rtp_write_padding_packet (pkt, HQ_RTP_MAX_PADDING, 3, 1),
      ==, sizeof pkt);
}

/* Parses the feedback packets in @buf into @statuses. */
static guint
parse_all (const guint8 *buf, gsize len, GArray *statuses)
{
  HqRtcpIter iter;
  HqRtcpPacket pkt;
  guint n = 0;

  g_assert_true (hq_rtcp_iter_init (&iter, buf, len, NULL));
  while (hq_rtcp_iter_next (&iter, &pkt)) {
    HqRtcpFb fb;
    HqTwccFeedback twcc;
    g_autoptr (GError) error = NULL;

    g_assert_cmpuint (pkt.type, ==, HQ_RTCP_RTPFB);
    g_assert_cmpuint (pkt.count, ==, HQ_RTCP_RTPFB_TWCC);
    g_assert_true (hq_rtcp_parse_twcc (&pkt, &fb, &twcc, statuses, &error));
    g_assert_no_error (error);
    g_assert_cmpuint (fb.sender_ssrc, ==, 7);
    n++;
  }
  return n;
}

/* Reordered and duplicated arrivals across the 16-bit wrap: one report
 * per number, in order, the gap reported lost, arrival times kept to
 * 250 µs; the next feedback starts after the last one reported. */
static void
test_recorder (void)
{
  g_autoptr (GArray) st = g_array_new (FALSE, FALSE, sizeof (HqTwccStatus));
  HqTwccRecorder *r = hq_twcc_recorder_new ();
  guint8 buf[1200];
  HqRtcpWriter w;

  hq_twcc_recorder_add (r, 65534, 1000000);
  hq_twcc_recorder_add (r, 0, 1003000);
  hq_twcc_recorder_add (r, 65535, 1002000); /* reordered */
  hq_twcc_recorder_add (r, 0, 1004000); /* duplicate */
  hq_twcc_recorder_add (r, 3, 1000250); /* 1 and 2 lost, arrives "early" */
  g_assert_cmpuint (hq_twcc_recorder_pending (r), ==, 4);
  hq_rtcp_writer_init (&w, buf, sizeof buf);
  g_assert_true (hq_twcc_recorder_write (r, &w, 7, 9));
  g_assert_false (hq_twcc_recorder_write (r, &w, 7, 9));
  g_assert_cmpuint (parse_all (buf, w.len, st), ==, 1);
  g_assert_cmpuint (st->len, ==, 6);
  {
    const guint16 seqs[] = { 65534, 65535, 0, 1, 2, 3 };
    const gboolean got[] = { TRUE, TRUE, TRUE, FALSE, FALSE, TRUE };
    const gint64 at[] = { 0, 2000, 3000, 0, 0, 250 };
    gint64 base = g_array_index (st, HqTwccStatus, 0).arrival_us;
    for (guint i = 0; i < 6; i++) {
      HqTwccStatus *s = &g_array_index (st, HqTwccStatus, i);
      g_assert_cmpuint (s->seq, ==, seqs[i]);
      g_assert_cmpint (s->received, ==, got[i]);
      if (got[i])
        g_assert_cmpint (s->arrival_us - base, ==, at[i]);
    }
  }
  /* Already reported: ignored.  The next packet starts at 4. */
  hq_twcc_recorder_add (r, 2, 1005000);
  hq_twcc_recorder_add (r, 5, 1006000);
  g_array_set_size (st, 0);
  hq_rtcp_writer_init (&w, buf, sizeof buf);
  g_assert_true (hq_twcc_recorder_write (r, &w, 7, 9));
  g_assert_cmpuint (st->len, ==, 0);
  {
    HqRtcpIter iter;
    HqRtcpPacket pkt;
    HqRtcpFb fb;
    HqTwccFeedback twcc;
    g_assert_true (hq_rtcp_iter_init (&iter, buf, w.len, NULL));
    g_assert_true (hq_rtcp_iter_next (&iter, &pkt));
    g_assert_true (hq_rtcp_parse_twcc (&pkt, &fb, &twcc, st, NULL));
    g_assert_cmpuint (twcc.base_seq, ==, 4);
    g_assert_cmpuint (twcc.fb_count, ==, 1);
    g_assert_cmpuint (st->len, ==, 2);
    g_assert_false (g_array_index (st, HqTwccStatus, 0).received);
    g_assert_true (g_array_index (st, HqTwccStatus, 1).received);
  }
  hq_twcc_recorder_free (r);
}

/* The feedback on what @recorder noted, through the byte format, to
 * @sender at @now (@st: scratch). */
static void
feed_back (
    HqTwccRecorder *recorder, HqTwccSender *sender, GArray *st, gint64 now)
{
  guint8 buf[1200];
  HqRtcpWriter w;

  hq_rtcp_writer_init (&w, buf, sizeof buf);
  while (hq_twcc_recorder_write (recorder, &w, 7, 9))
    ;
  if (w.len == 0)
    return;
  g_array_set_size (st, 0);
  parse_all (buf, w.len, st);
  hq_twcc_sender_on_feedback (
      sender, (const HqTwccStatus *)st->data, st->len, now);
}

/* A synthetic path: every 10 ms a 1200-byte packet (960 kbit/s) and,
 * 2 ms later, a 100-byte one; each arrives @base_ms plus @grow_ms per
 * packet after it was sent, unless @loss_every says it is lost.  The
 * feedback goes through the recorder every 100 ms.  Returns the sender's
 * estimate after @seconds. */
typedef struct
{
  HqTwccSender *sender;
  HqTwccRecorder *recorder;
  gint64 now;
  gdouble extra_ms;
} Path;

static void
path_init (Path *p, gdouble start_bps)
{
  p->sender = hq_twcc_sender_new (start_bps, 50000);
  p->recorder = hq_twcc_recorder_new ();
  p->now = 10 * G_USEC_PER_SEC;
  p->extra_ms = 0;
}

static void
path_clear (Path *p)
{
  hq_twcc_sender_free (p->sender);
  hq_twcc_recorder_free (p->recorder);
}

static gdouble
path_run (Path *p, gdouble seconds, gdouble grow_ms, guint loss_every)
{
  g_autoptr (GArray) st = g_array_new (FALSE, FALSE, sizeof (HqTwccStatus));
  gint64 end = p->now + (gint64)(seconds * G_USEC_PER_SEC);
  guint n = 0;

  for (; p->now < end; p->now += 5000) {
    gsize size = (p->now / 5000) % 2 == 0 ? 1200 : 100;
    guint16 seq = hq_twcc_sender_next (p->sender, size, p->now);
    gint64 jitter = (n * 7919) % 500; /* up to 0.5 ms of noise */
    n++;
    p->extra_ms += grow_ms;
    if (loss_every == 0 || n % loss_every != 0)
      hq_twcc_recorder_add (p->recorder, seq,
          p->now + 20000 + (gint64)(p->extra_ms * 1000) + jitter);
    if (p->now % 100000 == 0)
      feed_back (p->recorder, p->sender, st, p->now + 20000);
  }
  return hq_twcc_sender_estimate (p->sender);
}

/* A steady path: the estimate is known, never lowered, and what was
 * received shows as about 1 Mbit/s. */
static void
test_steady_holds (void)
{
  Path p;
  HqTwccStats st;
  gdouble est;

  path_init (&p, 1500000);
  g_assert_cmpfloat (hq_twcc_sender_estimate (p.sender), <, 0);
  est = path_run (&p, 10, 0, 0);
  hq_twcc_sender_get_stats (p.sender, &st);
  g_test_message ("steady: estimate %.0f, acked %.0f, trend %.2f/%.2f", est,
      st.acked_bps, st.trend, st.threshold);
  g_assert_cmpfloat (est, >=, 1500000);
  g_assert_cmpuint (st.overuses, ==, 0);
  g_assert_cmpint (st.usage, ==, HQ_TWCC_NORMAL);
  g_assert_cmpfloat (st.acked_bps, >, 900000);
  g_assert_cmpfloat (st.acked_bps, <, 1200000);
  path_clear (&p);
}

/* A low start grows on a steady path by 8 % a second, but not past 1.5
 * times what the receiver got. */
static void
test_steady_grows (void)
{
  Path p;
  HqTwccStats st;
  gdouble est;

  path_init (&p, 300000);
  est = path_run (&p, 5, 0, 0);
  g_test_message ("grows from 300 kbit/s to %.0f in 5 s", est);
  g_assert_cmpfloat (est, >, 300000 * 1.3);
  est = path_run (&p, 60, 0, 0);
  hq_twcc_sender_get_stats (p.sender, &st);
  g_test_message ("after 65 s: %.0f (received %.0f)", est, st.acked_bps);
  g_assert_cmpfloat (est, <=, 1.5 * st.acked_bps + 10000 + 1);
  g_assert_cmpfloat (est, >, 1400000);
  path_clear (&p);
}

/* The queue grows by 0.5 ms a packet (the path takes less than is
 * sent): over-use, and the estimate falls under what was received; when
 * the delay stops growing it does not fall further, and grows again. */
static void
test_rising_delay_falls (void)
{
  Path p;
  HqTwccStats st;
  gdouble est, low;

  path_init (&p, 1500000);
  path_run (&p, 3, 0, 0);
  est = path_run (&p, 1, 0.5, 0);
  hq_twcc_sender_get_stats (p.sender, &st);
  g_test_message ("rising delay: estimate %.0f, acked %.0f, overuses %u", est,
      st.acked_bps, st.overuses);
  g_assert_cmpuint (st.overuses, >, 0);
  g_assert_cmpfloat (est, <, 1000000);
  low = est;
  est = path_run (&p, 10, 0, 0);
  hq_twcc_sender_get_stats (p.sender, &st);
  g_test_message ("steady again: estimate %.0f", est);
  g_assert_cmpfloat (est, >, low);
  path_clear (&p);
}

/* A fifth of the packets lost: the loss-based part pulls the estimate
 * down; without loss it holds. */
static void
test_loss_falls (void)
{
  Path p;
  HqTwccStats st;
  gdouble est;

  path_init (&p, 1500000);
  est = path_run (&p, 3, 0, 5);
  hq_twcc_sender_get_stats (p.sender, &st);
  g_test_message ("20 %% loss: estimate %.0f (loss part %.0f, loss %.2f)", est,
      st.loss_bps, st.loss);
  g_assert_cmpfloat (st.loss, >, 0.15);
  g_assert_cmpfloat (est, <, 800000);
  path_clear (&p);
}

/* Feedback on numbers never sent, or repeated, changes nothing. */
static void
test_unknown_feedback (void)
{
  HqTwccSender *s = hq_twcc_sender_new (1000000, 50000);
  HqTwccStatus st[2] = { { 5, TRUE, 1000 }, { 6, TRUE, 2000 } };

  g_assert_cmpuint (hq_twcc_sender_on_feedback (s, st, 2, 0), ==, 0);
  g_assert_cmpfloat (hq_twcc_sender_estimate (s), <, 0);
  hq_twcc_sender_next (s, 100, 0);
  st[0].seq = 0;
  g_assert_cmpuint (hq_twcc_sender_on_feedback (s, st, 2, 0), ==, 1);
  g_assert_cmpuint (hq_twcc_sender_on_feedback (s, st, 2, 0), ==, 0);
  g_assert_cmpfloat (hq_twcc_sender_estimate (s), ==, 1000000);
  hq_twcc_sender_free (s);
}

/* A bottleneck link for the probe tests: packets leave the sender at
 * the times given, queue at @capacity_bps and arrive 10 ms after leaving
 * the queue; the receiver's feedback goes every 50 ms with what has
 * arrived by then.  Media is a 625-byte packet every 33 ms (about 150
 * kbit/s, a lowest simulcast layer). */
typedef struct
{
  HqTwccSender *sender;
  HqTwccRecorder *recorder;
  gint64 now;
  gdouble capacity_bps;
  gint64 queue_free_us;
  GArray *in_flight; /* HqTwccArrival, by arrival time */
} Link;

static void
link_init (Link *l, gdouble capacity_bps)
{
  l->sender = hq_twcc_sender_new (5000000, 50000);
  l->recorder = hq_twcc_recorder_new ();
  l->now = 10 * G_USEC_PER_SEC;
  l->capacity_bps = capacity_bps;
  l->queue_free_us = 0;
  l->in_flight = g_array_new (FALSE, FALSE, sizeof (HqTwccArrival));
}

static void
link_clear (Link *l)
{
  hq_twcc_sender_free (l->sender);
  hq_twcc_recorder_free (l->recorder);
  g_array_unref (l->in_flight);
}

static void
link_send (Link *l, gsize size, guint8 cluster)
{
  guint16 seq = cluster
      ? hq_twcc_sender_next_probe (l->sender, size, l->now, cluster)
      : hq_twcc_sender_next (l->sender, size, l->now);
  HqTwccArrival a;

  l->queue_free_us = MAX (l->now, l->queue_free_us)
      + (gint64)(size * 8.0 * G_USEC_PER_SEC / l->capacity_bps);
  a.seq = seq;
  a.arrival_us = l->queue_free_us + 10000;
  g_array_append_val (l->in_flight, a);
}

/* @us of media over the link, 1 ms a step. */
static void
link_run (Link *l, gint64 us)
{
  g_autoptr (GArray) st = g_array_new (FALSE, FALSE, sizeof (HqTwccStatus));
  gint64 end = l->now + us;

  for (; l->now < end; l->now += 1000) {
    guint n = 0;
    if (l->now % 33000 == 0)
      link_send (l, 625, 0);
    while (n < l->in_flight->len
        && g_array_index (l->in_flight, HqTwccArrival, n).arrival_us
            <= l->now) {
      HqTwccArrival *a = &g_array_index (l->in_flight, HqTwccArrival, n);
      hq_twcc_recorder_add (l->recorder, a->seq, a->arrival_us);
      n++;
    }
    g_array_remove_range (l->in_flight, 0, n);
    if (l->now % 50000 == 0)
      feed_back (l->recorder, l->sender, st, l->now);
  }
}

/* A cluster at @bps: 250-byte packets for 50 ms, in 5 ms bursts as a
 * timer sends them, media going on meanwhile; then 300 ms for its
 * feedback.  Returns its state, its rate in *@bps_out. */
static HqTwccProbeState
link_probe (Link *l, gdouble bps, gdouble *bps_out)
{
  guint8 id = hq_twcc_sender_probe_begin (l->sender, l->now);
  gint64 start = l->now;
  gdouble sent = 0;

  while (l->now - start < 50000) {
    while (sent < bps * (l->now - start + 5000) / 8.0 / G_USEC_PER_SEC) {
      link_send (l, 250, id);
      sent += 250;
    }
    link_run (l, 5000);
  }
  hq_twcc_sender_probe_end (l->sender, id, l->now);
  g_assert_cmpint (hq_twcc_sender_probe_result (l->sender, id, l->now, NULL),
      ==, HQ_TWCC_PROBE_PENDING);
  link_run (l, 300000);
  *bps_out = -1;
  return hq_twcc_sender_probe_result (l->sender, id, l->now, bps_out);
}

/* Congestion brought the estimate down to what a low layer needs; the
 * congestion is gone (a 10 Mbit/s link), but 150 kbit/s of media cannot
 * show it: the estimate stays under 1.5 times that.  A probe at 2 Mbit/s
 * arrives as fast as it went: the estimate is raised to about that. */
static void
test_probe_raises (void)
{
  Link l;
  HqTwccStats st;
  gdouble bps;

  link_init (&l, 10000000);
  link_run (&l, 2 * G_USEC_PER_SEC);
  g_assert_true (hq_twcc_sender_may_probe (l.sender, l.now));
  l.capacity_bps = 100000;
  link_run (&l, 3 * G_USEC_PER_SEC);
  hq_twcc_sender_get_stats (l.sender, &st);
  g_test_message (
      "congested: estimate %.0f, overuses %u", st.estimate_bps, st.overuses);
  g_assert_cmpuint (st.overuses, >, 0);
  g_assert_false (hq_twcc_sender_may_probe (l.sender, l.now));
  l.capacity_bps = 10000000;
  link_run (&l, 10 * G_USEC_PER_SEC);
  hq_twcc_sender_get_stats (l.sender, &st);
  g_test_message ("free again: estimate %.0f, received %.0f", st.estimate_bps,
      st.acked_bps);
  g_assert_cmpfloat (st.estimate_bps, <, 400000);
  g_assert_true (hq_twcc_sender_may_probe (l.sender, l.now));

  g_assert_cmpint (link_probe (&l, 2000000, &bps), ==, HQ_TWCC_PROBE_DONE);
  g_test_message ("probe at 2 Mbit/s: %.0f, estimate %.0f", bps,
      hq_twcc_sender_estimate (l.sender));
  g_assert_cmpfloat (bps, >, 1600000);
  g_assert_cmpfloat (bps, <, 2600000);
  g_assert_cmpfloat (hq_twcc_sender_estimate (l.sender), >=, bps);
  /* it holds: media alone does not pull it down */
  link_run (&l, 3 * G_USEC_PER_SEC);
  g_assert_cmpfloat (hq_twcc_sender_estimate (l.sender), >=, bps);
  link_clear (&l);
}

/* The link still takes only 400 kbit/s: a probe at 2 Mbit/s queues up
 * and arrives at the link's rate; it proves nothing and the estimate is
 * not raised past the link. */
static void
test_probe_capped_fails (void)
{
  Link l;
  gdouble bps, before;

  link_init (&l, 100000);
  link_run (&l, 3 * G_USEC_PER_SEC);
  l.capacity_bps = 400000;
  link_run (&l, 10 * G_USEC_PER_SEC);
  before = hq_twcc_sender_estimate (l.sender);
  g_assert_cmpfloat (before, <, 400000);
  g_assert_cmpint (link_probe (&l, 2000000, &bps), ==, HQ_TWCC_PROBE_FAILED);
  g_test_message ("capped: estimate %.0f before, %.0f after the probe", before,
      hq_twcc_sender_estimate (l.sender));
  g_assert_cmpfloat (hq_twcc_sender_estimate (l.sender), <, 420000);
  /* a probe the link has room for beside the media is proved */
  link_run (&l, 2 * G_USEC_PER_SEC);
  g_assert_cmpint (link_probe (&l, 240000, &bps), ==, HQ_TWCC_PROBE_DONE);
  g_test_message ("probe at 240 kbit/s: %.0f", bps);
  g_assert_cmpfloat (bps, >, 150000);
  g_assert_cmpfloat (bps, <, 400000);
  link_clear (&l);
}

/* A probe whose packets do not come back (no feedback) fails after its
 * timeout; a cluster the sender forgot (later ones took its slot) has
 * failed. */
static void
test_probe_timeout (void)
{
  HqTwccSender *s = hq_twcc_sender_new (300000, 50000);
  guint8 first = hq_twcc_sender_probe_begin (s, 0), id;

  for (guint i = 0; i < 10; i++)
    hq_twcc_sender_next_probe (s, 250, i * 1000, first);
  hq_twcc_sender_probe_end (s, first, 10000);
  g_assert_cmpint (hq_twcc_sender_probe_result (s, first, 500000, NULL), ==,
      HQ_TWCC_PROBE_PENDING);
  g_assert_cmpint (hq_twcc_sender_probe_result (
                       s, first, 10000 + HQ_TWCC_PROBE_TIMEOUT_US, NULL),
      ==, HQ_TWCC_PROBE_FAILED);
  for (guint i = 0; i < HQ_TWCC_PROBE_CLUSTERS; i++) {
    id = hq_twcc_sender_probe_begin (s, 0);
    g_assert_cmpuint (id, !=, 0);
    g_assert_cmpuint (id, !=, first);
  }
  g_assert_cmpint (hq_twcc_sender_probe_result (s, first, 0, NULL), ==,
      HQ_TWCC_PROBE_FAILED);
  hq_twcc_sender_free (s);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/twcc/ext-block", test_ext_block);
  g_test_add_func ("/twcc/padding-packet", test_padding_packet);
  g_test_add_func ("/twcc/recorder", test_recorder);
  g_test_add_func ("/twcc/steady-holds", test_steady_holds);
  g_test_add_func ("/twcc/steady-grows", test_steady_grows);
  g_test_add_func ("/twcc/rising-delay-falls", test_rising_delay_falls);
  g_test_add_func ("/twcc/loss-falls", test_loss_falls);
  g_test_add_func ("/twcc/unknown-feedback", test_unknown_feedback);
  g_test_add_func ("/twcc/probe-raises", test_probe_raises);
  g_test_add_func ("/twcc/probe-capped-fails", test_probe_capped_fails);
  g_test_add_func ("/twcc/probe-timeout", test_probe_timeout);
  return g_test_run ();
}
