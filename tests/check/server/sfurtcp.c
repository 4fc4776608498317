/* The SFU's RTCP with real transports: a real hq-server and two libhq
 * protocol clients (tests/common/sfuclient.h) in one group room.  A
 * publishes audio and video; B subscribes and plays the part of a
 * browser's receiver (REMB, NACK, receiver reports).
 *
 * - REMB: B says it can take 300 kbit/s; A is then asked for at most that.
 * - NACK: A "loses" two video packets on the way to the server (it does not
 *   send them); B's NACKs for them reach A as NACKs in A's own sequence
 *   numbers, the repeated one only once, and A's retransmissions reach B.
 * - BYE: A ends its video with RTCP BYE; B gets a BYE for that track and
 *   A's network quality does not count the track as broken.
 * - Timeout: A stops its video without a word and disables and stops its
 *   audio; B gets a BYE for the video after the silence timeout, and none
 *   for the disabled audio, though it was silent longer than the audio
 *   timeout.
 * - RTT: B answers the server's sender reports; its detailed network
 *   quality then has a numeric rtt_ms.
 * - CNAME: every sender report the server sends B, the early ones at the
 *   start of a subscription and the once-a-second ones, is the only SR of
 *   its compound packet and is followed there by an SDES CNAME for its
 *   SSRC naming the publisher (A's sid), as RFC 3550 (6.1) wants and
 *   rtpbin needs to line A's audio and video up.
 * - Priority: A and C publish video, B receives both on a constrained
 *   REMB; equal priorities split it evenly, A high and C low split it
 *   4 : 1, and at a tighter REMB C's share stays at the 100 kbit/s floor
 *   while A gets the rest. */
#include <string.h>
#include <hq/hqrtcp.h>
#include <hq/hqrtp.h>
#include "../../common/sfuclient.h"
#include "../../common/transportpair.h"

#define VIDEO_PAYLOAD 1100
#define AUDIO_PAYLOAD 100

typedef struct
{
  HqTestServer *server;
  HqSfuClient *a, *b;
  guint tick_source;
  guint ticks;
  gboolean a_audio, a_video; /* A sends these */
  gboolean a_reports; /* A sends sender reports every 500 ms */
  /* A's publish leg */
  guint n_remb;
  guint64 first_remb, last_remb;
  GArray *nacked; /* guint16, A's sequence numbers, in order of arrival */
  guint16 drop[2]; /* video packets A does not send */
  guint n_drop;
  guint answer_after; /* answer NACKs once this many were asked */
  /* B's subscribe leg */
  guint32 b_video_ssrc, b_audio_ssrc;
  guint b_video_packets;
  guint16 b_video_max;
  GArray *b_gaps; /* guint16: B-side sequence numbers it found missing */
  GArray *b_got; /* guint16: B-side video sequence numbers received */
  GArray *b_byes; /* guint32 */
  guint64 b_remb; /* B sends this REMB every 500 ms when set */
  gboolean b_reports; /* B answers sender reports */
  HqRtpRecvStats b_stats[2]; /* audio, video */
  /* B's view of the server's sender reports (the CNAME case) */
  gchar *a_sid; /* from B's subscribe offer */
  guint n_sr, n_sr_cname;
  gint64 first_sr_us, last_sr_us;
  gboolean sr_audio, sr_video; /* an SR for each of B's streams came */
  gchar *sr_fault; /* the first SR that broke the rule, described */
  /* network_quality as each sees it */
  JsonObject *a_quality, *b_quality;
  guint a_quality_count;
  GArray *a_levels; /* gint: A's own level in each network_quality */
} Fx;

static gboolean
contains16 (GArray *a, guint16 v)
{
  for (guint i = 0; i < a->len; i++)
    if (g_array_index (a, guint16, i) == v)
      return TRUE;
  return FALSE;
}

static void
b_send_nack (Fx *fx, guint16 seq)
{
  guint8 buf[64];
  HqRtcpWriter w;

  hq_rtcp_writer_init (&w, buf, sizeof buf);
  g_assert_true (
      hq_rtcp_write_nack (&w, 0xb0b0b0b0, fx->b_video_ssrc, &seq, 1, NULL));
  hq_sfu_client_send_rtcp (fx->b, FALSE, buf, w.len);
}

/* --- A --- */

static void
a_packet (gboolean rtcp, guint8 *data, gsize len, gpointer user_data)
{
  HqSfuClient *c = user_data;
  Fx *fx = c->user_data;
  guint before = fx->nacked->len;
  guint64 remb = 0;
  guint n;

  if (!rtcp)
    return;
  n = hq_sfu_client_read_feedback (data, len, c->video_ssrc, &remb, fx->nacked);
  if (n > 0) {
    if (fx->n_remb == 0)
      fx->first_remb = remb;
    fx->n_remb += n;
    fx->last_remb = remb;
  }
  if (fx->nacked->len > before && fx->answer_after
      && fx->nacked->len >= fx->answer_after)
    for (guint i = 0; i < fx->nacked->len; i++)
      hq_sfu_client_resend_video (c, g_array_index (fx->nacked, guint16, i));
}

/* A's own SRs for its two streams (the RTP times need not be right for
 * the server to pass on new mappings at once). */
static void
a_send_sender_reports (Fx *fx)
{
  guint32 ssrcs[] = { fx->a->audio_ssrc, fx->a->video_ssrc };
  guint64 ntp = hq_rtcp_ntp_from_unix_us (g_get_real_time ());

  for (guint i = 0; i < G_N_ELEMENTS (ssrcs); i++) {
    HqRtcpSenderInfo info = { .ssrc = ssrcs[i],
      .ntp = ntp,
      .rtp_timestamp = (guint32)(fx->ticks * (i ? 900 : 480)) };
    guint8 buf[64];
    HqRtcpWriter w;

    hq_rtcp_writer_init (&w, buf, sizeof buf);
    g_assert_true (hq_rtcp_write_sr (&w, &info, NULL, 0, NULL));
    hq_sfu_client_send_rtcp (fx->a, TRUE, buf, w.len);
  }
}

static gboolean
tick (gpointer data)
{
  Fx *fx = data;

  fx->ticks++;
  if (fx->a_audio && fx->ticks % 2 == 0)
    hq_sfu_client_send (fx->a, FALSE, AUDIO_PAYLOAD, FALSE, NULL);
  if (fx->a_video) {
    gboolean drop = FALSE;
    for (guint i = 0; i < fx->n_drop; i++)
      drop |= fx->a->vseq == fx->drop[i];
    hq_sfu_client_send (fx->a, TRUE, VIDEO_PAYLOAD, drop, NULL);
  }
  if (fx->a_reports && fx->ticks % 50 == 0)
    a_send_sender_reports (fx);
  if (fx->b_remb && fx->b_video_ssrc && fx->ticks % 50 == 0) {
    guint8 buf[64];
    HqRtcpWriter w;
    hq_rtcp_writer_init (&w, buf, sizeof buf);
    g_assert_true (hq_rtcp_write_remb (
        &w, 0xb0b0b0b0, fx->b_remb, &fx->b_video_ssrc, 1, NULL));
    hq_sfu_client_send_rtcp (fx->b, FALSE, buf, w.len);
  }
  return G_SOURCE_CONTINUE;
}

/* --- B --- */

/* Checks each SR of a compound packet from the server: the only SR in
 * it, and the next packet an SDES whose chunk is for the SR's SSRC with
 * A's sid as CNAME. */
static void
b_check_sr_cname (Fx *fx, const guint8 *data, gsize len)
{
  HqRtcpIter iter;
  HqRtcpPacket pkt;
  guint srs = 0;
  gboolean want_sdes = FALSE;
  HqRtcpSenderInfo info = { 0 };

  if (!hq_rtcp_iter_init (&iter, data, len, NULL))
    return;
  while (hq_rtcp_iter_next (&iter, &pkt)) {
    HqRtcpReportBlock blocks[HQ_RTCP_MAX_COUNT];
    HqRtcpSdesCname chunks[HQ_RTCP_MAX_COUNT];
    guint n = 0;
    gboolean ok;

    if (want_sdes) {
      want_sdes = FALSE;
      ok = pkt.type == HQ_RTCP_SDES
          && hq_rtcp_parse_sdes (&pkt, chunks, &n, NULL) && n >= 1
          && chunks[0].ssrc == info.ssrc && fx->a_sid
          && g_str_equal (chunks[0].cname, fx->a_sid);
      if (ok)
        fx->n_sr_cname++;
      else if (fx->sr_fault == NULL)
        fx->sr_fault = g_strdup_printf ("SR of %08x followed by %s", info.ssrc,
            pkt.type == HQ_RTCP_SDES ? "an SDES without its CNAME" : "no SDES");
    }
    if (pkt.type != HQ_RTCP_SR
        || !hq_rtcp_parse_sr (&pkt, &info, blocks, &n, NULL))
      continue;
    if (++srs > 1 && fx->sr_fault == NULL)
      fx->sr_fault = g_strdup_printf (
          "%u SRs in one compound packet (SSRC %08x)", srs, info.ssrc);
    fx->n_sr++;
    fx->last_sr_us = g_get_monotonic_time ();
    if (fx->first_sr_us == 0)
      fx->first_sr_us = fx->last_sr_us;
    fx->sr_audio |= info.ssrc == fx->b_audio_ssrc;
    fx->sr_video |= info.ssrc == fx->b_video_ssrc;
    want_sdes = TRUE;
  }
  if (want_sdes && fx->sr_fault == NULL)
    fx->sr_fault = g_strdup_printf (
        "SR of %08x ends its compound packet: no SDES", info.ssrc);
}

static void
b_rtcp (Fx *fx, const guint8 *data, gsize len)
{
  HqRtcpIter iter;
  HqRtcpPacket pkt;
  gboolean reply = FALSE;

  b_check_sr_cname (fx, data, len);
  if (!hq_rtcp_iter_init (&iter, data, len, NULL))
    return;
  while (hq_rtcp_iter_next (&iter, &pkt)) {
    HqRtcpSenderInfo info;
    HqRtcpReportBlock blocks[HQ_RTCP_MAX_COUNT];
    guint32 ssrcs[HQ_RTCP_MAX_COUNT];
    gchar reason[256];
    guint n = 0;
    if (pkt.type == HQ_RTCP_SR
        && hq_rtcp_parse_sr (&pkt, &info, blocks, &n, NULL)) {
      for (guint k = 0; k < 2; k++)
        if (fx->b_stats[k].started && fx->b_stats[k].ssrc == info.ssrc)
          hq_rtp_recv_stats_sr_received (
              &fx->b_stats[k], info.ntp, g_get_monotonic_time ());
      reply = TRUE;
    } else if (pkt.type == HQ_RTCP_BYE
        && hq_rtcp_parse_bye (&pkt, ssrcs, &n, reason, NULL)) {
      g_array_append_vals (fx->b_byes, ssrcs, n);
    }
  }
  if (reply && fx->b_reports) {
    HqRtpRecvStats *stats[2];
    guint n_stats = 0;
    guint8 buf[256];
    HqRtcpWriter w;
    for (guint k = 0; k < 2; k++)
      if (fx->b_stats[k].started)
        stats[n_stats++] = &fx->b_stats[k];
    hq_rtcp_writer_init (&w, buf, sizeof buf);
    if (hq_rtcp_write_rr_from_stats (
            &w, 0xb0b0b0b0, stats, n_stats, g_get_monotonic_time (), NULL))
      hq_sfu_client_send_rtcp (fx->b, FALSE, buf, w.len);
  }
}

static void
b_packet (gboolean rtcp, guint8 *data, gsize len, gpointer user_data)
{
  HqSfuClient *c = user_data;
  Fx *fx = c->user_data;
  HqRtpHeader h;
  gboolean video;
  HqRtpRecvStats *stats;

  if (rtcp) {
    b_rtcp (fx, data, len);
    return;
  }
  if (!hq_rtp_parse (data, len, &h, NULL))
    return;
  video = h.payload_len == VIDEO_PAYLOAD;
  stats = &fx->b_stats[video];
  if (!stats->started && stats->ssrc == 0)
    hq_rtp_recv_stats_init (stats, h.ssrc, video ? 90000 : 48000);
  hq_rtp_recv_stats_update (stats, h.seq, h.timestamp, g_get_monotonic_time ());
  if (!video) {
    fx->b_audio_ssrc = h.ssrc;
    return;
  }
  fx->b_video_ssrc = h.ssrc;
  g_array_append_val (fx->b_got, h.seq);
  if (fx->b_video_packets++ > 0 && hq_rtp_seq_newer (h.seq, fx->b_video_max)
      && (guint16)(h.seq - fx->b_video_max) > 1) {
    /* A gap: NACK each missing packet; the first gap's twice at once. */
    for (guint16 s = fx->b_video_max + 1; s != h.seq; s++) {
      b_send_nack (fx, s);
      if (fx->b_gaps->len == 0)
        b_send_nack (fx, s);
      g_array_append_val (fx->b_gaps, s);
    }
  }
  if (fx->b_video_packets == 1 || hq_rtp_seq_newer (h.seq, fx->b_video_max))
    fx->b_video_max = h.seq;
}

static gint64
a_own_level (Fx *fx)
{
  JsonArray *ps;

  if (fx->a_quality == NULL)
    return -1;
  ps = json_object_get_array_member (fx->a_quality, "participants");
  for (guint i = 0; i < json_array_get_length (ps); i++) {
    JsonObject *p = json_array_get_object_element (ps, i);
    if (g_str_equal (json_object_get_string_member (p, "identity"), "a-0"))
      return json_object_get_int_member (p, "level");
  }
  return -1;
}

/* A's sid, as B's subscribe offer names the publisher of A's tracks. */
static void
b_learn_a_sid (Fx *fx, JsonObject *msg)
{
  JsonArray *tracks = json_object_get_array_member (msg, "tracks");

  for (guint i = 0; tracks && i < json_array_get_length (tracks); i++) {
    JsonObject *t = json_array_get_object_element (tracks, i);
    if (g_str_equal (json_object_get_string_member (t, "identity"), "a-0")) {
      g_free (fx->a_sid);
      fx->a_sid =
          g_strdup (json_object_get_string_member (t, "participant_sid"));
    }
  }
}

static void
on_message (HqSfuClient *c, const gchar *type, JsonObject *msg, gpointer data)
{
  Fx *fx = data;
  JsonObject **slot = c == fx->a ? &fx->a_quality : &fx->b_quality;

  if (c == fx->b && g_str_equal (type, "subscribe_offer"))
    b_learn_a_sid (fx, msg);
  if (!g_str_equal (type, "network_quality"))
    return;
  g_clear_pointer (slot, json_object_unref);
  *slot = json_object_ref (msg);
  if (c == fx->a) {
    gint level = (gint)a_own_level (fx);
    fx->a_quality_count++;
    g_array_append_val (fx->a_levels, level);
  }
}

/* --- fixture --- */

static gboolean
both_ready (gpointer data)
{
  Fx *fx = data;

  return hq_sfu_client_ready (fx->a, 2) && hq_sfu_client_ready (fx->b, 2);
}

static void
fx_setup (Fx *fx, gconstpointer unused)
{
  g_autofree gchar *reply = NULL;

  memset (fx, 0, sizeof *fx);
  fx->nacked = g_array_new (FALSE, FALSE, sizeof (guint16));
  fx->b_gaps = g_array_new (FALSE, FALSE, sizeof (guint16));
  fx->b_got = g_array_new (FALSE, FALSE, sizeof (guint16));
  fx->b_byes = g_array_new (FALSE, FALSE, sizeof (guint32));
  fx->a_levels = g_array_new (FALSE, FALSE, sizeof (gint));
  fx->server = hq_test_server_start (
      g_getenv ("HQ_SERVER_BIN"), g_getenv ("HQ_TEST_SERVER_LOG") != NULL);
  reply = hq_test_server_rest (
      fx->server, "POST", "/v1/Rooms", "UniqueName=rtcp&Type=group");
  g_assert_nonnull (reply);
  fx->a = hq_sfu_client_new (fx->server, "rtcp", "a", 0, TRUE);
  fx->b = hq_sfu_client_new (fx->server, "rtcp", "b", 1, TRUE);
  fx->a->user_data = fx->b->user_data = fx;
  fx->a->on_pub_packet = a_packet;
  fx->b->on_sub_packet = b_packet;
  fx->a->on_message = fx->b->on_message = on_message;
  g_assert_true (wait_for (both_ready, fx, 30));
  fx->a_audio = fx->a_video = TRUE;
  fx->tick_source = g_timeout_add (10, tick, fx);
}

static void
fx_teardown (Fx *fx, gconstpointer unused)
{
  g_source_remove (fx->tick_source);
  hq_sfu_client_free (fx->a);
  hq_sfu_client_free (fx->b);
  hq_test_server_stop (fx->server);
  g_clear_pointer (&fx->a_quality, json_object_unref);
  g_clear_pointer (&fx->b_quality, json_object_unref);
  g_array_unref (fx->nacked);
  g_array_unref (fx->b_gaps);
  g_array_unref (fx->b_got);
  g_array_unref (fx->b_byes);
  g_array_unref (fx->a_levels);
  g_free (fx->a_sid);
  g_free (fx->sr_fault);
}

static gboolean
b_sees_video (gpointer data)
{
  return ((Fx *)data)->b_video_packets >= 20;
}

/* --- REMB --- */

static gboolean
a_got_remb (gpointer data)
{
  return ((Fx *)data)->n_remb > 0;
}

static gboolean
a_asked_for_little (gpointer data)
{
  Fx *fx = data;

  return fx->n_remb > 0 && fx->last_remb <= 300000;
}

static void
test_remb (Fx *fx, gconstpointer unused)
{
  g_assert_true (wait_for (b_sees_video, fx, 30));
  g_assert_true (wait_for (a_got_remb, fx, 30));
  /* Nobody is constrained: the publisher may send what it likes (the
   * server's ceiling, 1.5 Mbit/s). */
  g_assert_cmpuint (fx->first_remb, >, 1000000);
  fx->b_remb = 300000;
  g_assert_true (wait_for (a_asked_for_little, fx, 30));
  g_assert_cmpuint (fx->last_remb, >=, 100000);
}

/* --- NACK --- */

static gboolean
b_has_gaps (gpointer data)
{
  return ((Fx *)data)->b_gaps->len >= 2;
}

static gboolean
b_got_retransmissions (gpointer data)
{
  Fx *fx = data;

  return fx->b_gaps->len >= 2
      && contains16 (fx->b_got, g_array_index (fx->b_gaps, guint16, 0))
      && contains16 (fx->b_got, g_array_index (fx->b_gaps, guint16, 1));
}

static void
test_nack (Fx *fx, gconstpointer unused)
{
  g_assert_true (wait_for (b_sees_video, fx, 30));
  /* A answers once both losses were asked for, so B's repeated NACK for
   * the first arrives while the server still lacks the packet. */
  fx->answer_after = 2;
  fx->drop[0] = (guint16)(fx->a->vseq + 10);
  fx->drop[1] = (guint16)(fx->a->vseq + 20);
  fx->n_drop = 2;
  g_assert_true (wait_for (b_has_gaps, fx, 30));
  g_assert_cmpuint (fx->b_gaps->len, ==, 2);
  g_assert_true (wait_for (b_got_retransmissions, fx, 30));
  /* Upstream, in A's numbers, each asked once. */
  g_assert_cmpuint (fx->nacked->len, ==, 2);
  g_assert_cmpuint (g_array_index (fx->nacked, guint16, 0), ==, fx->drop[0]);
  g_assert_cmpuint (g_array_index (fx->nacked, guint16, 1), ==, fx->drop[1]);
}

/* --- BYE and timeouts --- */

static gboolean
b_got_video_bye (gpointer data)
{
  Fx *fx = data;

  for (guint i = 0; i < fx->b_byes->len; i++)
    if (g_array_index (fx->b_byes, guint32, i) == fx->b_video_ssrc)
      return TRUE;
  return FALSE;
}

static guint quality_target;

static gboolean
a_quality_reports (gpointer data)
{
  return ((Fx *)data)->a_quality_count >= quality_target;
}

static void
test_bye (Fx *fx, gconstpointer unused)
{
  guint8 buf[64];
  HqRtcpWriter w;
  guint first;

  g_assert_true (wait_for (b_sees_video, fx, 30));
  fx->a_video = FALSE;
  hq_rtcp_writer_init (&w, buf, sizeof buf);
  g_assert_true (
      hq_rtcp_write_bye (&w, &fx->a->video_ssrc, 1, "camera off", NULL));
  g_assert_true (hq_sfu_client_send_rtcp (fx->a, TRUE, buf, w.len));
  g_assert_true (wait_for (b_got_video_bye, fx, 30));
  /* Network quality from the second interval after the BYE on (the
   * first may have been scored before it): A's video ended, it is not
   * missing; without the BYE, A would be at level 0. */
  first = fx->a_quality_count + 1;
  quality_target = first + 3;
  g_assert_true (wait_for (a_quality_reports, fx, 30));
  for (guint i = first; i < quality_target; i++)
    g_assert_cmpint (g_array_index (fx->a_levels, gint, i), !=, 0);
}

static void
test_timeout (Fx *fx, gconstpointer unused)
{
  JsonObject *m = json_object_new ();

  g_assert_true (wait_for (b_sees_video, fx, 30));
  g_assert_cmpuint (fx->b_audio_ssrc, !=, 0);
  /* A mutes its audio (disabled: may be silent for ever) and its camera
   * dies (enabled, silent). */
  json_object_set_string_member (m, "type", "track_update");
  json_object_set_string_member (m, "id", "mute");
  json_object_set_string_member (m, "track_sid", fx->a->audio_sid);
  json_object_set_boolean_member (m, "enabled", FALSE);
  hq_sfu_client_send_message (fx->a, m);
  fx->a_audio = FALSE;
  fx->a_video = FALSE;
  /* Video goes after its 10 s timeout; the audio was silent as long, over
   * its 5 s timeout, but it is disabled, so no BYE for it. */
  g_assert_true (wait_for (b_got_video_bye, fx, 40));
  for (guint i = 0; i < fx->b_byes->len; i++)
    g_assert_cmpuint (
        g_array_index (fx->b_byes, guint32, i), !=, fx->b_audio_ssrc);
}

/* --- RTT --- */

static gboolean
b_knows_rtt (gpointer data)
{
  Fx *fx = data;
  JsonObject *video =
      hq_sfu_client_quality_stats (fx->b_quality, "b-1", "recv", "video");
  JsonNode *rtt = video ? json_object_get_member (video, "rtt_ms") : NULL;

  if (rtt && json_node_get_value_type (rtt) == G_TYPE_DOUBLE) {
    gdouble v = json_node_get_double (rtt);
    g_assert_cmpfloat (v, >=, 0);
    g_assert_cmpfloat (v, <, 1000);
    return TRUE;
  }
  return FALSE;
}

static void
test_rtt (Fx *fx, gconstpointer unused)
{
  JsonObject *m = json_object_new ();

  json_object_set_string_member (m, "type", "network_quality_configure");
  json_object_set_string_member (m, "id", "nq");
  json_object_set_int_member (m, "local", 3);
  hq_sfu_client_send_message (fx->b, m);
  fx->b_reports = TRUE;
  g_assert_true (wait_for (b_sees_video, fx, 30));
  g_assert_true (wait_for (b_knows_rtt, fx, 30));
}

/* --- CNAME --- */

/* B had sender reports for both its streams over 3 s: the early ones of
 * a new subscription (every 100 ms) and the once-a-second ones. */
static gboolean
b_had_reports (gpointer data)
{
  Fx *fx = data;

  return fx->sr_audio && fx->sr_video
      && fx->last_sr_us - fx->first_sr_us > 3 * G_USEC_PER_SEC;
}

static void
test_sr_cname (Fx *fx, gconstpointer unused)
{
  /* A's reports make the server send its own at once, besides the
   * once-a-second ones and those at the start (send_sender_report_now). */
  fx->a_reports = TRUE;
  g_assert_true (wait_for (b_sees_video, fx, 30));
  g_assert_true (wait_for (b_had_reports, fx, 30));
  g_assert_nonnull (fx->a_sid);
  if (fx->sr_fault)
    g_error ("%u of %u sender reports had their CNAME; first fault: %s",
        fx->n_sr_cname, fx->n_sr, fx->sr_fault);
  g_test_message ("%u sender reports, each with A's CNAME", fx->n_sr);
  g_assert_cmpuint (fx->n_sr_cname, ==, fx->n_sr);
  g_assert_cmpuint (fx->n_sr, >=, 4);
}

/* --- priority --- */

/* B's REMB and the video bitrates it shares (docs/sfu.md, REMB policy):
 * what is left after 40 kbit/s per audio subscription. */
#define PRIO_AUDIO_BPS 40000
#define PRIO_FLOOR_BPS 100000

typedef struct
{
  HqTestServer *server;
  HqSfuClient *a, *b, *c;
  guint tick_source;
  guint ticks;
  guint64 b_remb;
  guint32 b_video_ssrcs[2];
  guint n_b_video;
  guint64 a_remb, c_remb; /* the last each got; 0: none yet */
  guint64 want_a, want_c;
  gchar *offered_priority; /* of A's video, in B's last subscribe offer */
} Prio;

static void
prio_b_message (HqSfuClient *c, const gchar *type, JsonObject *msg, gpointer ud)
{
  Prio *px = ud;
  JsonArray *tracks;

  if (!g_str_equal (type, "subscribe_offer") || px->a->video_sid == NULL)
    return;
  tracks = json_object_get_array_member (msg, "tracks");
  for (guint i = 0; i < json_array_get_length (tracks); i++) {
    JsonObject *t = json_array_get_object_element (tracks, i);
    if (g_str_equal (
            json_object_get_string_member (t, "track_sid"), px->a->video_sid)) {
      g_free (px->offered_priority);
      px->offered_priority = g_strdup (
          json_object_get_string_member_with_default (t, "priority", "(none)"));
    }
  }
}

static void
prio_publisher_packet (gboolean rtcp, guint8 *data, gsize len, gpointer ud)
{
  HqSfuClient *c = ud;
  Prio *px = c->user_data;
  g_autoptr (GArray) nacked = g_array_new (FALSE, FALSE, sizeof (guint16));

  if (rtcp)
    hq_sfu_client_read_feedback (data, len, c->video_ssrc,
        c == px->a ? &px->a_remb : &px->c_remb, nacked);
}

static void
prio_b_packet (gboolean rtcp, guint8 *data, gsize len, gpointer ud)
{
  HqSfuClient *c = ud;
  Prio *px = c->user_data;
  HqRtpHeader h;

  if (rtcp || !hq_rtp_parse (data, len, &h, NULL)
      || h.payload_len != VIDEO_PAYLOAD)
    return;
  for (guint i = 0; i < px->n_b_video; i++)
    if (px->b_video_ssrcs[i] == h.ssrc)
      return;
  if (px->n_b_video < G_N_ELEMENTS (px->b_video_ssrcs))
    px->b_video_ssrcs[px->n_b_video++] = h.ssrc;
}

static gboolean
prio_tick (gpointer data)
{
  Prio *px = data;
  HqSfuClient *pubs[] = { px->a, px->c };

  px->ticks++;
  for (guint i = 0; i < G_N_ELEMENTS (pubs); i++) {
    hq_sfu_client_send (pubs[i], TRUE, VIDEO_PAYLOAD, FALSE, NULL);
    if (px->ticks % 2 == 0)
      hq_sfu_client_send (pubs[i], FALSE, AUDIO_PAYLOAD, FALSE, NULL);
  }
  if (px->b_remb && px->n_b_video > 0 && px->ticks % 50 == 0) {
    guint8 buf[64];
    HqRtcpWriter w;
    hq_rtcp_writer_init (&w, buf, sizeof buf);
    g_assert_true (hq_rtcp_write_remb (
        &w, 0xb0b0b0b0, px->b_remb, px->b_video_ssrcs, px->n_b_video, NULL));
    hq_sfu_client_send_rtcp (px->b, FALSE, buf, w.len);
  }
  return G_SOURCE_CONTINUE;
}

static gboolean
prio_ready (gpointer data)
{
  Prio *px = data;

  /* Each receives the other two's audio and video. */
  return hq_sfu_client_ready (px->a, 4) && hq_sfu_client_ready (px->b, 4)
      && hq_sfu_client_ready (px->c, 4);
}

static gboolean
prio_b_sees_both (gpointer data)
{
  return ((Prio *)data)->n_b_video == 2;
}

/* Both publishers were last asked for what the test expects (to the bit
 * per second, give or take rounding). */
static gboolean
prio_rembs_are (gpointer data)
{
  Prio *px = data;

  return px->a_remb + 1 >= px->want_a && px->a_remb <= px->want_a + 1
      && px->c_remb + 1 >= px->want_c && px->c_remb <= px->want_c + 1;
}

static void
prio_set (Prio *px, HqSfuClient *c, const gchar *priority)
{
  JsonObject *m = json_object_new ();

  json_object_set_string_member (m, "type", "track_update");
  json_object_set_string_member (m, "id", "prio");
  json_object_set_string_member (m, "track_sid", c->video_sid);
  json_object_set_string_member (m, "priority", priority);
  hq_sfu_client_send_message (c, m);
}

static void
prio_expect (Prio *px, guint64 want_a, guint64 want_c)
{
  px->want_a = want_a;
  px->want_c = want_c;
  if (!wait_for (prio_rembs_are, px, 30))
    g_error ("REMB to A %" G_GUINT64_FORMAT " (want %" G_GUINT64_FORMAT
             "), to C %" G_GUINT64_FORMAT " (want %" G_GUINT64_FORMAT ")",
        px->a_remb, want_a, px->c_remb, want_c);
}

static void
test_priority (void)
{
  Prio px = { 0 };
  g_autofree gchar *reply = NULL;
  guint64 video;

  px.server = hq_test_server_start (
      g_getenv ("HQ_SERVER_BIN"), g_getenv ("HQ_TEST_SERVER_LOG") != NULL);
  reply = hq_test_server_rest (
      px.server, "POST", "/v1/Rooms", "UniqueName=prio&Type=group");
  g_assert_nonnull (reply);
  px.a = hq_sfu_client_new (px.server, "prio", "a", 0, TRUE);
  px.b = hq_sfu_client_new (px.server, "prio", "b", 1, TRUE);
  px.c = hq_sfu_client_new (px.server, "prio", "c", 2, TRUE);
  px.a->user_data = px.b->user_data = px.c->user_data = &px;
  px.a->on_pub_packet = px.c->on_pub_packet = prio_publisher_packet;
  px.b->on_sub_packet = prio_b_packet;
  px.b->on_message = prio_b_message;
  g_assert_true (wait_for (prio_ready, &px, 30));
  /* The subscribe offer names each track's priority. */
  g_assert_cmpstr (px.offered_priority, ==, "standard");
  px.tick_source = g_timeout_add (10, prio_tick, &px);
  g_assert_true (wait_for (prio_b_sees_both, &px, 30));

  /* 600 kbit/s for B: 520 left for its two video tracks. */
  px.b_remb = 600000;
  video = px.b_remb - 2 * PRIO_AUDIO_BPS;
  /* Both standard (the default): half each. */
  prio_expect (&px, video / 2, video / 2);
  /* A high (4), C low (1): 4 : 1. */
  prio_set (&px, px.a, "high");
  prio_set (&px, px.c, "low");
  prio_expect (&px, video * 4 / 5, video / 5);
  g_assert_cmpuint (px.a_remb, >, 3 * px.c_remb);
  /* 300 kbit/s: C's fifth (44 kbit/s) would starve it; it keeps the
   * floor and A gets the rest. */
  px.b_remb = 300000;
  video = px.b_remb - 2 * PRIO_AUDIO_BPS;
  prio_expect (&px, video - PRIO_FLOOR_BPS, PRIO_FLOOR_BPS);
  /* Both high again: even. */
  prio_set (&px, px.c, "high");
  prio_expect (&px, video / 2, video / 2);

  g_source_remove (px.tick_source);
  hq_sfu_client_free (px.a);
  hq_sfu_client_free (px.b);
  hq_sfu_client_free (px.c);
  hq_test_server_stop (px.server);
  g_free (px.offered_priority);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  if (g_getenv ("HQ_SERVER_BIN") == NULL) {
    g_test_skip ("HQ_SERVER_BIN is not set");
    return g_test_run ();
  }
  g_test_add ("/sfu-rtcp/remb-follows-subscriber", Fx, NULL, fx_setup,
      test_remb, fx_teardown);
  g_test_add ("/sfu-rtcp/nack-asked-upstream", Fx, NULL, fx_setup, test_nack,
      fx_teardown);
  g_test_add (
      "/sfu-rtcp/bye-ends-track", Fx, NULL, fx_setup, test_bye, fx_teardown);
  g_test_add ("/sfu-rtcp/timeout-spares-disabled", Fx, NULL, fx_setup,
      test_timeout, fx_teardown);
  g_test_add ("/sfu-rtcp/rtt-in-network-quality", Fx, NULL, fx_setup, test_rtt,
      fx_teardown);
  g_test_add ("/sfu-rtcp/sr-carries-cname", Fx, NULL, fx_setup, test_sr_cname,
      fx_teardown);
  g_test_add_func ("/sfu-rtcp/priority-shares-remb", test_priority);
  return g_test_run ();
}
