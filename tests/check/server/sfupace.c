/* Pacing through a real hq-server (docs/sfu.md, "Pacing") with two libhq
 * protocol clients (tests/common/sfuclient.h): A publishes video, B
 * subscribes and says by REMB that its link takes REMB_BPS.  A then sends
 * one frame of BURST packets at once (as a keyframe after a layer switch
 * comes).  The server must not pass the burst on at once: B receives it
 * spread over at least half the time the pacing rate (2.5 times B's
 * estimate, with its 20 ms of burst allowance) needs for it, every packet
 * in order, none lost. */
#include <string.h>
#include <hq/hqrtcp.h>
#include <hq/hqrtp.h>
#include "../../common/sfuclient.h"
#include "../../common/transportpair.h"

#define VIDEO_PAYLOAD 1100
#define BURST 40
#define REMB_BPS 200000
#define PACE_FACTOR 2.5
#define PACE_BURST_US 20000

typedef struct
{
  HqTestServer *server;
  HqSfuClient *a, *b;
  guint tick_source;
  guint ticks;
  gboolean a_steady; /* A sends a packet every tick */
  guint64 a_remb; /* the last REMB A was sent */
  guint32 b_video_ssrc;
  GArray *b_seqs; /* guint16, as B received them */
  GArray *b_us; /* gint64, when */
} Fx;

static void
a_packet (gboolean rtcp, guint8 *data, gsize len, gpointer user_data)
{
  HqSfuClient *c = user_data;
  Fx *fx = c->user_data;
  guint64 remb = 0;

  if (rtcp
      && hq_sfu_client_read_feedback (data, len, c->video_ssrc, &remb, NULL))
    fx->a_remb = remb;
}

static void
b_packet (gboolean rtcp, guint8 *data, gsize len, gpointer user_data)
{
  HqSfuClient *c = user_data;
  Fx *fx = c->user_data;
  gint64 now = g_get_monotonic_time ();
  HqRtpHeader h;

  if (rtcp || !hq_rtp_parse (data, len, &h, NULL)
      || h.payload_len != VIDEO_PAYLOAD)
    return;
  fx->b_video_ssrc = h.ssrc;
  g_array_append_val (fx->b_seqs, h.seq);
  g_array_append_val (fx->b_us, now);
}

static gboolean
tick (gpointer data)
{
  Fx *fx = data;

  fx->ticks++;
  if (fx->a_steady)
    hq_sfu_client_send (fx->a, TRUE, VIDEO_PAYLOAD, FALSE, NULL);
  if (fx->b_video_ssrc && fx->ticks % 4 == 0) {
    guint8 buf[64];
    HqRtcpWriter w;
    hq_rtcp_writer_init (&w, buf, sizeof buf);
    g_assert_true (hq_rtcp_write_remb (
        &w, 0xb0b0b0b0, REMB_BPS, &fx->b_video_ssrc, 1, NULL));
    hq_sfu_client_send_rtcp (fx->b, FALSE, buf, w.len);
  }
  return G_SOURCE_CONTINUE;
}

static gboolean
both_ready (gpointer data)
{
  Fx *fx = data;

  return hq_sfu_client_ready (fx->a, 1) && hq_sfu_client_ready (fx->b, 1);
}

/* The server knows B's REMB: what it asks of A follows it. */
static gboolean
server_knows_remb (gpointer data)
{
  Fx *fx = data;

  return fx->b_seqs->len >= 20 && fx->a_remb > 0 && fx->a_remb <= REMB_BPS;
}

static guint burst_from;

static gboolean
burst_arrived (gpointer data)
{
  return ((Fx *)data)->b_seqs->len >= burst_from + BURST;
}

static void
test_burst_spread (void)
{
  Fx fx = { 0 };
  g_autofree gchar *reply = NULL;
  gdouble rate = PACE_FACTOR * REMB_BPS / 8.0 / G_USEC_PER_SEC; /* B/us */
  gdouble bytes = BURST * (gdouble)VIDEO_PAYLOAD;
  gdouble need_us, spread_us;

  fx.b_seqs = g_array_new (FALSE, FALSE, sizeof (guint16));
  fx.b_us = g_array_new (FALSE, FALSE, sizeof (gint64));
  fx.server = hq_test_server_start (
      g_getenv ("HQ_SERVER_BIN"), g_getenv ("HQ_TEST_SERVER_LOG") != NULL);
  reply = hq_test_server_rest (
      fx.server, "POST", "/v1/Rooms", "UniqueName=pace&Type=group");
  g_assert_nonnull (reply);
  fx.a = hq_sfu_client_new (fx.server, "pace", "a", 0, TRUE);
  fx.b = hq_sfu_client_new (fx.server, "pace", "b", 1, TRUE);
  fx.a->user_data = fx.b->user_data = &fx;
  fx.a->on_pub_packet = a_packet;
  fx.b->on_sub_packet = b_packet;
  g_assert_true (wait_for (both_ready, &fx, 30));
  /* 20 packets a second (176 kbit/s): under the pacing rate */
  fx.a_steady = TRUE;
  fx.tick_source = g_timeout_add (50, tick, &fx);
  g_assert_true (wait_for (server_knows_remb, &fx, 30));
  fx.a_steady = FALSE;

  burst_from = fx.b_seqs->len;
  for (guint i = 0; i < BURST; i++)
    hq_sfu_client_send (fx.a, TRUE, VIDEO_PAYLOAD, FALSE, NULL);
  g_assert_true (wait_for (burst_arrived, &fx, 30));

  /* every packet, once, in order */
  for (guint i = burst_from + 1; i < burst_from + BURST; i++)
    g_assert_cmpuint (g_array_index (fx.b_seqs, guint16, i), ==,
        (guint16)(g_array_index (fx.b_seqs, guint16, i - 1) + 1));
  /* spread over time at no more than the pacing rate allows */
  need_us = (bytes - rate * PACE_BURST_US - HQ_RTP_MAX_PADDING) / rate;
  spread_us = (gdouble)(g_array_index (fx.b_us, gint64, burst_from + BURST - 1)
      - g_array_index (fx.b_us, gint64, burst_from));
  g_test_message ("burst of %u packets arrived over %.0f ms; pacing needs "
                  "at least %.0f ms",
      BURST, spread_us / 1000, need_us / 1000);
  g_assert_cmpfloat (spread_us, >=, need_us / 2);

  g_source_remove (fx.tick_source);
  hq_sfu_client_free (fx.a);
  hq_sfu_client_free (fx.b);
  hq_test_server_stop (fx.server);
  g_array_unref (fx.b_seqs);
  g_array_unref (fx.b_us);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  if (g_getenv ("HQ_SERVER_BIN") == NULL) {
    g_test_skip ("HQ_SERVER_BIN is not set");
    return g_test_run ();
  }
  g_test_add_func ("/sfu-pace/keyframe-burst-spread", test_burst_spread);
  return g_test_run ();
}
