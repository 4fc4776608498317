/* Pacing through a real hq-server (docs/sfu.md, "Pacing") with two libhq
 * protocol clients (tests/common/sfuclient.h), A and B, each publishing
 * video and subscribed to the other's, each saying by REMB that its link
 * takes REMB_BPS.  Then each sends one frame of BURST packets at once (as
 * a keyframe after a layer switch comes).  The server must not pass a
 * burst on at once: each subscriber receives it spread over at least half
 * the time the pacing rate (2.5 times its estimate, less its 20 ms of
 * burst allowance) needs for it, every packet in order, none lost.
 * Again with the room spread over two workers ([media] room_shards = 1):
 * one of the two subscribe transports is then on the worker that is not
 * the room's, where its packets are handed (/metrics counts them): pacing
 * happens before the hand-off, on the room's worker. */
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
#define METRICS_TOKEN "pace-metrics-token"

typedef struct
{
  guint64 remb; /* the last REMB the server sent it as a publisher */
  guint32 video_ssrc; /* of what it receives */
  GArray *seqs; /* guint16, video as it received it */
  GArray *us; /* gint64, when */
  guint burst_from;
} Side;

typedef struct
{
  HqTestServer *server;
  HqSfuClient *c[2];
  Side side[2];
  guint tick_source;
  guint ticks;
  gboolean steady; /* each sends a packet every tick */
} Fx;

static Side *
side_of (HqSfuClient *c)
{
  Fx *fx = c->user_data;

  return &fx->side[c == fx->c[1]];
}

static void
pub_packet (gboolean rtcp, guint8 *data, gsize len, gpointer user_data)
{
  HqSfuClient *c = user_data;
  guint64 remb = 0;

  if (rtcp
      && hq_sfu_client_read_feedback (data, len, c->video_ssrc, &remb, NULL))
    side_of (c)->remb = remb;
}

static void
sub_packet (gboolean rtcp, guint8 *data, gsize len, gpointer user_data)
{
  Side *s = side_of (user_data);
  gint64 now = g_get_monotonic_time ();
  HqRtpHeader h;

  if (rtcp || !hq_rtp_parse (data, len, &h, NULL)
      || h.payload_len != VIDEO_PAYLOAD)
    return;
  s->video_ssrc = h.ssrc;
  g_array_append_val (s->seqs, h.seq);
  g_array_append_val (s->us, now);
}

static gboolean
tick (gpointer data)
{
  Fx *fx = data;

  fx->ticks++;
  for (guint i = 0; i < 2; i++) {
    if (fx->steady)
      hq_sfu_client_send (fx->c[i], TRUE, VIDEO_PAYLOAD, FALSE, NULL);
    if (fx->side[i].video_ssrc && fx->ticks % 4 == 0) {
      guint8 buf[64];
      HqRtcpWriter w;
      hq_rtcp_writer_init (&w, buf, sizeof buf);
      g_assert_true (hq_rtcp_write_remb (
          &w, 0xb0b0b0b0, REMB_BPS, &fx->side[i].video_ssrc, 1, NULL));
      hq_sfu_client_send_rtcp (fx->c[i], FALSE, buf, w.len);
    }
  }
  return G_SOURCE_CONTINUE;
}

static gboolean
both_ready (gpointer data)
{
  Fx *fx = data;

  return hq_sfu_client_ready (fx->c[0], 2) && hq_sfu_client_ready (fx->c[1], 2);
}

/* Both receive video, and the server knows both REMBs: what it asks of
 * each publisher follows the other's. */
static gboolean
server_knows_rembs (gpointer data)
{
  Fx *fx = data;

  for (guint i = 0; i < 2; i++)
    if (fx->side[i].seqs->len < 20 || fx->side[i].remb == 0
        || fx->side[i].remb > REMB_BPS)
      return FALSE;
  return TRUE;
}

static gboolean
bursts_arrived (gpointer data)
{
  Fx *fx = data;

  return fx->side[0].seqs->len >= fx->side[0].burst_from + BURST
      && fx->side[1].seqs->len >= fx->side[1].burst_from + BURST;
}

/* /metrics' hq_sfu_handoff_packets_total{result="handed"}. */
static guint64
handed_packets (HqTestServer *server)
{
  g_autofree gchar *url = g_strdup_printf ("%s/metrics", server->url);
  const gchar *key = "\nhq_sfu_handoff_packets_total{result=\"handed\"} ";
  g_autoptr (SoupMessage) msg = soup_message_new ("GET", url);
  g_autoptr (GBytes) body = NULL;
  g_autofree gchar *text = NULL;
  const gchar *line;

  soup_message_headers_replace (soup_message_get_request_headers (msg),
      "Authorization", "Bearer " METRICS_TOKEN);
  body = soup_session_send_and_read (server->http, msg, NULL, NULL);
  g_assert_nonnull (body);
  g_assert_cmpuint (soup_message_get_status (msg), ==, 200);
  text = g_strndup (g_bytes_get_data (body, NULL), g_bytes_get_size (body));
  line = strstr (text, key);
  return line ? g_ascii_strtoull (line + strlen (key), NULL, 10) : 0;
}

/* @s received its burst in order, none lost, spread in time. */
static void
check_burst (Side *s, const gchar *who)
{
  gdouble rate = PACE_FACTOR * REMB_BPS / 8.0 / G_USEC_PER_SEC; /* B/us */
  gdouble need_us = (BURST * (gdouble)VIDEO_PAYLOAD - rate * PACE_BURST_US
                        - HQ_RTP_MAX_PADDING)
      / rate;
  gdouble spread_us;

  for (guint i = s->burst_from + 1; i < s->burst_from + BURST; i++)
    g_assert_cmpuint (g_array_index (s->seqs, guint16, i), ==,
        (guint16)(g_array_index (s->seqs, guint16, i - 1) + 1));
  spread_us = (gdouble)(g_array_index (s->us, gint64, s->burst_from + BURST - 1)
      - g_array_index (s->us, gint64, s->burst_from));
  g_test_message ("%s: burst of %u packets arrived over %.0f ms; pacing "
                  "needs at least %.0f ms",
      who, BURST, spread_us / 1000, need_us / 1000);
  g_assert_cmpfloat (spread_us, >=, need_us / 2);
}

static void
test_burst_spread (gconstpointer data)
{
  gboolean sharded = GPOINTER_TO_INT (data);
  Fx fx = { 0 };
  g_autofree gchar *reply = NULL;
  guint64 handed_before = 0;

  g_setenv ("HQ_MEDIA_WORKERS", "2", TRUE);
  g_setenv ("HQ_MEDIA_ROOM_SHARDS", sharded ? "1" : "0", TRUE);
  g_setenv ("HQ_METRICS_TOKEN", METRICS_TOKEN, TRUE);
  fx.server = hq_test_server_start (
      g_getenv ("HQ_SERVER_BIN"), g_getenv ("HQ_TEST_SERVER_LOG") != NULL);
  reply = hq_test_server_rest (
      fx.server, "POST", "/v1/Rooms", "UniqueName=pace&Type=group");
  g_assert_nonnull (reply);
  for (guint i = 0; i < 2; i++) {
    fx.side[i].seqs = g_array_new (FALSE, FALSE, sizeof (guint16));
    fx.side[i].us = g_array_new (FALSE, FALSE, sizeof (gint64));
    fx.c[i] = hq_sfu_client_new (fx.server, "pace", i ? "b" : "a", i, TRUE);
    fx.c[i]->user_data = &fx;
    fx.c[i]->on_pub_packet = pub_packet;
    fx.c[i]->on_sub_packet = sub_packet;
  }
  g_assert_true (wait_for (both_ready, &fx, 30));
  /* 20 packets a second each (176 kbit/s): under the pacing rate */
  fx.steady = TRUE;
  fx.tick_source = g_timeout_add (50, tick, &fx);
  g_assert_true (wait_for (server_knows_rembs, &fx, 30));
  fx.steady = FALSE;

  if (sharded)
    handed_before = handed_packets (fx.server);
  for (guint i = 0; i < 2; i++)
    fx.side[i].burst_from = fx.side[i].seqs->len;
  for (guint k = 0; k < BURST; k++)
    for (guint i = 0; i < 2; i++)
      hq_sfu_client_send (fx.c[i], TRUE, VIDEO_PAYLOAD, FALSE, NULL);
  g_assert_true (wait_for (bursts_arrived, &fx, 30));
  check_burst (&fx.side[0], "a");
  check_burst (&fx.side[1], "b");
  if (sharded)
    g_assert_cmpuint (handed_packets (fx.server) - handed_before, >=, BURST);

  g_source_remove (fx.tick_source);
  for (guint i = 0; i < 2; i++) {
    hq_sfu_client_free (fx.c[i]);
    g_array_unref (fx.side[i].seqs);
    g_array_unref (fx.side[i].us);
  }
  hq_test_server_stop (fx.server);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  if (g_getenv ("HQ_SERVER_BIN") == NULL) {
    g_test_skip ("HQ_SERVER_BIN is not set");
    return g_test_run ();
  }
  g_test_add_data_func ("/sfu-pace/keyframe-burst-spread",
      GINT_TO_POINTER (FALSE), test_burst_spread);
  g_test_add_data_func ("/sfu-pace/keyframe-burst-spread-sharded",
      GINT_TO_POINTER (TRUE), test_burst_spread);
  return g_test_run ();
}
