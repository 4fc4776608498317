/* Transport-wide congestion control through a real hq-server with two
 * libhq protocol clients (tests/common/sfuclient.h): A publishes audio
 * and video, B subscribes.
 *
 * - Publish leg: A's offer has transport-cc and the transport-wide
 *   sequence number extension (as Chromium's does); the answer keeps
 *   them, A numbers its packets, and the server's feedback reports every
 *   one of them received, in many small feedback packets, while the
 *   REMB still comes.
 * - Subscribe leg: every packet the server sends B carries the
 *   extension, numbered in one sequence across B's streams.  B returns
 *   feedback as a browser would.  On true (loopback) arrival times B's
 *   detailed network quality shows an available_bps for its video from
 *   the server's estimate; when B reports arrival times that drift later
 *   and later (a queue building on its downlink), the estimate falls:
 *   B's available_bps and the REMB A is sent both drop under what A
 *   sends. */
#include <string.h>
#include <hq/hqrtcp.h>
#include <hq/hqrtp.h>
#include <hq/hqsdp.h>
#include <hq/hqtwcc.h>
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
  gchar *answer; /* A's publish answer */
  /* A's publish leg */
  guint n_feedback;
  GHashTable *reported; /* A's transport-wide numbers reported received */
  guint n_remb;
  guint64 last_remb;
  /* B's subscribe leg */
  HqTwccRecorder *b_twcc;
  guint b_packets, b_unnumbered;
  gboolean b_have_seq;
  guint16 b_last_seq;
  guint b_out_of_order;
  gdouble b_drift_ms; /* added to each arrival B reports, growing */
  gdouble b_drift_step_ms;
  gint64 b_feedback_us;
  JsonObject *b_quality;
} Fx;

/* --- A --- */

static void
a_packet (gboolean rtcp, guint8 *data, gsize len, gpointer user_data)
{
  HqSfuClient *c = user_data;
  Fx *fx = c->user_data;
  g_autoptr (GArray) nacked = g_array_new (FALSE, FALSE, sizeof (guint16));
  g_autoptr (GArray) st = g_array_new (FALSE, FALSE, sizeof (HqTwccStatus));
  guint64 remb = 0;
  HqRtcpIter iter;
  HqRtcpPacket pkt;

  if (!rtcp)
    return;
  if (hq_sfu_client_read_feedback (data, len, c->video_ssrc, &remb, nacked)) {
    fx->n_remb++;
    fx->last_remb = remb;
  }
  if (!hq_rtcp_iter_init (&iter, data, len, NULL))
    return;
  while (hq_rtcp_iter_next (&iter, &pkt)) {
    HqRtcpFb fb;
    HqTwccFeedback twcc;
    g_autoptr (GError) error = NULL;

    if (pkt.type != HQ_RTCP_RTPFB || pkt.count != HQ_RTCP_RTPFB_TWCC)
      continue;
    g_array_set_size (st, 0);
    g_assert_true (hq_rtcp_parse_twcc (&pkt, &fb, &twcc, st, &error));
    g_assert_no_error (error);
    fx->n_feedback++;
    for (guint i = 0; i < st->len; i++) {
      HqTwccStatus *s = &g_array_index (st, HqTwccStatus, i);
      if (s->received)
        g_hash_table_add (fx->reported, GUINT_TO_POINTER (s->seq));
    }
  }
}

static void
on_message (HqSfuClient *c, const gchar *type, JsonObject *msg, gpointer data)
{
  Fx *fx = data;

  if (c == fx->a && g_str_equal (type, "publish_answer")) {
    g_free (fx->answer);
    fx->answer = g_strdup (json_object_get_string_member (msg, "sdp"));
  } else if (c == fx->b && g_str_equal (type, "network_quality")) {
    g_clear_pointer (&fx->b_quality, json_object_unref);
    fx->b_quality = json_object_ref (msg);
  }
}

/* --- B --- */

static void
b_send_feedback (Fx *fx)
{
  guint8 buf[1200];
  HqRtcpWriter w;

  hq_rtcp_writer_init (&w, buf, sizeof buf);
  while (hq_twcc_recorder_write (fx->b_twcc, &w, 0xb0b0b0b0, 0))
    ;
  if (w.len > 0)
    hq_sfu_client_send_rtcp (fx->b, FALSE, buf, w.len);
}

static void
b_packet (gboolean rtcp, guint8 *data, gsize len, gpointer user_data)
{
  HqSfuClient *c = user_data;
  Fx *fx = c->user_data;
  guint id = hq_sdp_offer_extmap_id (HQ_SDP_EXT_TWCC);
  gint64 now = g_get_monotonic_time ();
  HqRtpHeader h;
  HqRtpExt ext;
  guint16 seq;

  if (rtcp || !hq_rtp_parse (data, len, &h, NULL))
    return;
  fx->b_packets++;
  if (!hq_rtp_ext_find (data, &h, (guint8)id, &ext)
      || !hq_rtp_ext_read_twcc_seq (&ext, &seq)) {
    fx->b_unnumbered++;
    return;
  }
  if (fx->b_have_seq && seq != (guint16)(fx->b_last_seq + 1))
    fx->b_out_of_order++;
  fx->b_have_seq = TRUE;
  fx->b_last_seq = seq;
  fx->b_drift_ms += fx->b_drift_step_ms;
  hq_twcc_recorder_add (fx->b_twcc, seq, now + (gint64)(fx->b_drift_ms * 1000));
  if (now - fx->b_feedback_us >= 50000) {
    fx->b_feedback_us = now;
    b_send_feedback (fx);
  }
}

/* B's own available_bps for received video in its detailed network
 * quality; negative when absent. */
static gdouble
b_available (Fx *fx)
{
  JsonObject *video =
      hq_sfu_client_quality_stats (fx->b_quality, "b-1", "recv", "video");

  return video && json_object_has_member (video, "available_bps")
      ? json_object_get_double_member (video, "available_bps")
      : -1;
}

/* --- fixture --- */

static gboolean
tick (gpointer data)
{
  Fx *fx = data;

  fx->ticks++;
  if (fx->ticks % 2 == 0)
    hq_sfu_client_send (fx->a, FALSE, AUDIO_PAYLOAD, FALSE, NULL);
  hq_sfu_client_send (fx->a, TRUE, VIDEO_PAYLOAD, FALSE, NULL);
  return G_SOURCE_CONTINUE;
}

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
  JsonObject *m;

  memset (fx, 0, sizeof *fx);
  fx->reported = g_hash_table_new (NULL, NULL);
  fx->b_twcc = hq_twcc_recorder_new ();
  fx->server = hq_test_server_start (
      g_getenv ("HQ_SERVER_BIN"), g_getenv ("HQ_TEST_SERVER_LOG") != NULL);
  reply = hq_test_server_rest (
      fx->server, "POST", "/v1/Rooms", "UniqueName=twcc&Type=group");
  g_assert_nonnull (reply);
  fx->a = hq_sfu_client_new (fx->server, "twcc", "a", 0, TRUE);
  fx->b = hq_sfu_client_new (fx->server, "twcc", "b", 1, TRUE);
  fx->a->user_data = fx->b->user_data = fx;
  fx->a->on_pub_packet = a_packet;
  fx->b->on_sub_packet = b_packet;
  fx->a->on_message = fx->b->on_message = on_message;
  fx->a->twcc_id = hq_sdp_offer_extmap_id (HQ_SDP_EXT_TWCC);
  g_assert_true (wait_for (both_ready, fx, 30));
  m = json_object_new ();
  json_object_set_string_member (m, "type", "network_quality_configure");
  json_object_set_string_member (m, "id", "nq");
  json_object_set_int_member (m, "local", 3);
  hq_sfu_client_send_message (fx->b, m);
  fx->tick_source = g_timeout_add (10, tick, fx);
}

static void
fx_teardown (Fx *fx, gconstpointer unused)
{
  g_source_remove (fx->tick_source);
  hq_sfu_client_free (fx->a);
  hq_sfu_client_free (fx->b);
  hq_test_server_stop (fx->server);
  g_clear_pointer (&fx->b_quality, json_object_unref);
  g_hash_table_unref (fx->reported);
  hq_twcc_recorder_free (fx->b_twcc);
  g_free (fx->answer);
}

/* --- publish leg --- */

static gboolean
a_reported (gpointer data)
{
  Fx *fx = data;

  return fx->a->twcc_seq >= 400 && fx->n_remb > 0
      && g_hash_table_size (fx->reported) >= 300;
}

static void
test_publisher_feedback (Fx *fx, gconstpointer unused)
{
  guint missing = 0;

  g_assert_nonnull (fx->answer);
  g_assert_nonnull (strstr (fx->answer, "transport-cc"));
  g_assert_nonnull (strstr (fx->answer, HQ_SDP_EXT_TWCC));
  g_assert_true (wait_for (a_reported, fx, 30));
  /* Every number sent up to 300 was reported received (loopback loses
   * nothing), none twice in a way that matters, and not all in one go. */
  for (guint s = 0; s < 300; s++)
    missing += !g_hash_table_contains (fx->reported, GUINT_TO_POINTER (s));
  g_test_message ("%u feedback packets for %u packets; REMB %" G_GUINT64_FORMAT,
      fx->n_feedback, g_hash_table_size (fx->reported), fx->last_remb);
  g_assert_cmpuint (missing, ==, 0);
  g_assert_cmpuint (fx->n_feedback, >=, 10);
  g_assert_cmpuint (fx->last_remb, >, 1000000);
}

/* --- subscribe leg --- */

static gboolean
b_has_estimate (gpointer data)
{
  Fx *fx = data;

  return fx->b_packets >= 200 && b_available (fx) > 0;
}

static gboolean
b_congested (gpointer data)
{
  Fx *fx = data;
  gdouble avail = b_available (fx);

  return avail > 0 && avail < 800000 && fx->n_remb > 0
      && fx->last_remb < 800000;
}

static void
test_subscriber_estimate (Fx *fx, gconstpointer unused)
{
  gdouble before;

  g_assert_true (wait_for (b_has_estimate, fx, 30));
  before = b_available (fx);
  g_test_message ("B's available_bps on loopback: %.0f (%u packets)", before,
      fx->b_packets);
  /* Every packet numbered, one sequence across audio and video. */
  g_assert_cmpuint (fx->b_unnumbered, ==, 0);
  g_assert_cmpuint (fx->b_out_of_order, <=, 2);
  g_assert_cmpfloat (before, >, 1000000);

  /* A queue builds on B's downlink: each packet arrives 1 ms later than
   * the one before would have (150 packets/s: 150 ms more each second). */
  fx->b_drift_step_ms = 1.0;
  if (!wait_for (b_congested, fx, 30))
    g_error ("no reaction to a growing queue: B's available_bps %.0f, "
             "A's REMB %" G_GUINT64_FORMAT,
        b_available (fx), fx->last_remb);
  g_test_message (
      "congested: B's available_bps %.0f, A's REMB %" G_GUINT64_FORMAT,
      b_available (fx), fx->last_remb);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add ("/sfu-twcc/publisher-gets-feedback", Fx, NULL, fx_setup,
      test_publisher_feedback, fx_teardown);
  g_test_add ("/sfu-twcc/subscriber-estimate-falls", Fx, NULL, fx_setup,
      test_subscriber_estimate, fx_teardown);
  return g_test_run ();
}
