/* One room's subscribers spread over the media workers (docs/sfu.md,
 * "Threads"): a real hq-server with two workers ([media] workers) and a
 * low threshold ([media] room_shards = 2, by the environment), and libhq
 * protocol clients (tests/common/sfuclient.h) in one group room.  Clients
 * 0 and 1 send audio and video (1's video packets near the largest the
 * SFU forwards); everyone subscribes to everyone.
 *
 * - forwarding: every subscriber receives every sending publisher's audio
 *   and video with no gap, duplicate or reordering in any stream's
 *   sequence numbers, REST's `forwarded_by_worker` shows both workers'
 *   threads forwarding, and /metrics counts packets handed between them;
 * - keyframes: a PLI from each subscriber (half of them on the other
 *   worker) reaches the publisher;
 * - churn: subscribers leave and join while media flows; those who stay
 *   see no gap, those who join receive everything; then the room is
 *   ended by REST while media flows, and the server exits cleanly (under
 *   ASan: no use after free or leak);
 * - ICE restart: every subscriber asks for one; each gets an offer with
 *   new credentials (a subscriber on the other worker once that worker's
 *   transport restarted), restarts its side, and its streams flow again;
 * - a room below the threshold forwards from one worker only, as before.
 *
 * The server's exit status is checked after each case: an ASan or LSan
 * report makes it non-zero. */
#include <signal.h>
#include <string.h>
#include <hq/hqrtcp.h>
#include <hq/hqrtp.h>
#include "../../common/sfuclient.h"
#include "../../common/transportpair.h"

#define MAX_CLIENTS 16
#define SENDERS 2
#define VIDEO_PAYLOAD 1100
/* Sender 1's video: packets near the SFU's largest (1500 bytes), whose
 * SRTP protection on the other worker needs the whole trailer room. */
#define BIG_VIDEO_PAYLOAD 1450
#define AUDIO_PAYLOAD 100
#define METRICS_TOKEN "shard-test-metrics-token"
/* Packets each stream must bring before a case judges it. */
#define ENOUGH 100

typedef struct
{
  gboolean video;
  guint16 last;
  guint count;
  guint gaps; /* sequence numbers skipped */
  guint late; /* older than one already received (duplicate, reordered) */
} Stream;

typedef struct
{
  HqSfuClient *c;
  GHashTable *streams; /* ssrc -> Stream, what it receives */
  guint plis; /* PLIs for its video the server sent it (a sender) */
} Member;

typedef struct
{
  HqTestServer *server;
  const gchar *room;
  Member peers[MAX_CLIENTS];
  guint next_index; /* client names: never used twice */
  guint tick_source;
} Fx;

/* --- clients --- */

static void
on_sub_packet (gboolean rtcp, guint8 *data, gsize len, gpointer user_data)
{
  HqSfuClient *c = user_data;
  Member *peer = c->user_data;
  HqRtpHeader hdr;
  Stream *s;

  if (rtcp || !hq_rtp_parse (data, len, &hdr, NULL))
    return;
  s = g_hash_table_lookup (peer->streams, GUINT_TO_POINTER (hdr.ssrc));
  if (s == NULL) {
    s = g_new0 (Stream, 1);
    s->video = hdr.payload_len > AUDIO_PAYLOAD + 100;
    s->last = hdr.seq;
    s->count = 1;
    g_hash_table_insert (peer->streams, GUINT_TO_POINTER (hdr.ssrc), s);
    return;
  }
  if (hq_rtp_seq_newer (hdr.seq, s->last)) {
    s->gaps += (guint16)(hdr.seq - s->last) - 1;
    s->last = hdr.seq;
    s->count++;
  } else
    s->late++;
}

static void
on_pub_packet (gboolean rtcp, guint8 *data, gsize len, gpointer user_data)
{
  HqSfuClient *c = user_data;
  Member *peer = c->user_data;
  HqRtcpIter iter;
  HqRtcpPacket pkt;

  if (!rtcp || !hq_rtcp_iter_init (&iter, data, len, NULL))
    return;
  while (hq_rtcp_iter_next (&iter, &pkt)) {
    HqRtcpFb fb;
    if (pkt.type == HQ_RTCP_PSFB && pkt.count == HQ_RTCP_PSFB_PLI
        && hq_rtcp_parse_pli (&pkt, &fb, NULL)
        && fb.media_ssrc == c->video_ssrc)
      peer->plis++;
  }
}

static void
peer_join (Fx *fx, Member *peer)
{
  peer->c =
      hq_sfu_client_new (fx->server, fx->room, "s", fx->next_index++, TRUE);
  peer->c->user_data = peer;
  peer->c->on_sub_packet = on_sub_packet;
  peer->c->on_pub_packet = on_pub_packet;
  peer->streams = g_hash_table_new_full (NULL, NULL, NULL, g_free);
  peer->plis = 0;
}

static void
peer_leave (Member *peer)
{
  hq_sfu_client_free (peer->c);
  g_hash_table_unref (peer->streams);
  memset (peer, 0, sizeof *peer);
}

static guint
n_peers (Fx *fx)
{
  guint n = 0;

  for (guint i = 0; i < MAX_CLIENTS; i++)
    n += fx->peers[i].c != NULL;
  return n;
}

static gboolean
tick (gpointer data)
{
  Fx *fx = data;

  for (guint i = 0; i < SENDERS; i++)
    if (fx->peers[i].c && fx->peers[i].c->published) {
      hq_sfu_client_send (fx->peers[i].c, FALSE, AUDIO_PAYLOAD, FALSE, NULL);
      hq_sfu_client_send (fx->peers[i].c, TRUE,
          i == 1 ? BIG_VIDEO_PAYLOAD : VIDEO_PAYLOAD, FALSE, NULL);
    }
  return G_SOURCE_CONTINUE;
}

static gboolean
all_ready (gpointer data)
{
  Fx *fx = data;
  guint mlines = 2 * (n_peers (fx) - 1);

  for (guint i = 0; i < MAX_CLIENTS; i++)
    if (fx->peers[i].c && !hq_sfu_client_ready (fx->peers[i].c, mlines))
      return FALSE;
  return TRUE;
}

/* Streams peer @i should receive: audio and video of each sender but
 * itself. */
static guint
expected_streams (guint i)
{
  return 2 * (SENDERS - (i < SENDERS ? 1 : 0));
}

static gboolean
everyone_has_enough (gpointer data)
{
  Fx *fx = data;

  for (guint i = 0; i < MAX_CLIENTS; i++) {
    GHashTableIter it;
    gpointer v;
    guint full = 0;

    if (fx->peers[i].c == NULL)
      continue;
    g_hash_table_iter_init (&it, fx->peers[i].streams);
    while (g_hash_table_iter_next (&it, NULL, &v))
      full += ((Stream *)v)->count >= ENOUGH;
    if (full < expected_streams (i))
      return FALSE;
  }
  return TRUE;
}

/* Waits for everyone_has_enough(); fails saying who did not. */
static void
wait_everyone (Fx *fx)
{
  g_autoptr (GString) why = g_string_new (NULL);

  if (wait_for (everyone_has_enough, fx, 60))
    return;
  for (guint i = 0; i < MAX_CLIENTS; i++) {
    GHashTableIter it;
    gpointer k, v;

    if (fx->peers[i].c == NULL)
      continue;
    g_string_append_printf (why,
        "\n  %s (expects %u streams):", fx->peers[i].c->identity,
        expected_streams (i));
    g_hash_table_iter_init (&it, fx->peers[i].streams);
    while (g_hash_table_iter_next (&it, &k, &v))
      g_string_append_printf (why, " ssrc %u %s %u packets",
          GPOINTER_TO_UINT (k), ((Stream *)v)->video ? "video" : "audio",
          ((Stream *)v)->count);
  }
  g_error ("not every subscriber received %u packets of every stream "
           "within 60 s:%s",
      ENOUGH, why->str);
}

/* Every stream of every peer so far: exactly the expected number, none
 * with a gap or a late packet. */
static void
assert_continuous (Fx *fx)
{
  for (guint i = 0; i < MAX_CLIENTS; i++) {
    GHashTableIter it;
    gpointer k, v;

    if (fx->peers[i].c == NULL)
      continue;
    g_assert_cmpuint (
        g_hash_table_size (fx->peers[i].streams), ==, expected_streams (i));
    g_hash_table_iter_init (&it, fx->peers[i].streams);
    while (g_hash_table_iter_next (&it, &k, &v)) {
      Stream *s = v;
      if (s->gaps || s->late)
        g_error ("subscriber %s, ssrc %u (%s): %u received, %u missing, %u "
                 "late",
            fx->peers[i].c->identity, GPOINTER_TO_UINT (k),
            s->video ? "video" : "audio", s->count, s->gaps, s->late);
    }
  }
}

/* REST's forwarded_by_worker of the room. */
static GArray *
forwarded_by_worker (Fx *fx)
{
  g_autofree gchar *path = g_strdup_printf ("/v1/Rooms/%s", fx->room);
  g_autofree gchar *body = hq_test_server_rest (fx->server, "GET", path, NULL);
  g_autoptr (JsonParser) parser = json_parser_new ();
  GArray *out = g_array_new (FALSE, FALSE, sizeof (gint64));
  JsonObject *media;
  JsonArray *a;

  g_assert_nonnull (body);
  g_assert_true (json_parser_load_from_data (parser, body, -1, NULL));
  media = json_object_get_object_member (
      json_node_get_object (json_parser_get_root (parser)), "media");
  g_assert_nonnull (media);
  a = json_object_get_array_member (media, "forwarded_by_worker");
  g_assert_nonnull (a);
  for (guint i = 0; i < json_array_get_length (a); i++) {
    gint64 n = json_array_get_int_element (a, i);
    g_array_append_val (out, n);
  }
  g_test_message ("forwarded by worker: %" G_GINT64_FORMAT
                  " / %" G_GINT64_FORMAT,
      out->len > 0 ? g_array_index (out, gint64, 0) : -1,
      out->len > 1 ? g_array_index (out, gint64, 1) : -1);
  return out;
}

/* /metrics' hq_sfu_handoff_packets_total{result="@result"}. */
static guint64
handoff_packets (Fx *fx, const gchar *result)
{
  g_autofree gchar *url = g_strdup_printf ("%s/metrics", fx->server->url);
  g_autofree gchar *key = g_strdup_printf (
      "\nhq_sfu_handoff_packets_total{result=\"%s\"} ", result);
  g_autoptr (SoupMessage) msg = soup_message_new ("GET", url);
  g_autoptr (GBytes) body = NULL;
  g_autofree gchar *text = NULL;
  const gchar *line;

  soup_message_headers_replace (soup_message_get_request_headers (msg),
      "Authorization", "Bearer " METRICS_TOKEN);
  body = soup_session_send_and_read (fx->server->http, msg, NULL, NULL);
  g_assert_nonnull (body);
  g_assert_cmpuint (soup_message_get_status (msg), ==, 200);
  text = g_strndup (g_bytes_get_data (body, NULL), g_bytes_get_size (body));
  line = strstr (text, key);
  g_assert_nonnull (line);
  return g_ascii_strtoull (line + strlen (key), NULL, 10);
}

/* Both workers' threads sent some of the room's packets. */
static void
assert_both_workers (Fx *fx)
{
  g_autoptr (GArray) by_worker = forwarded_by_worker (fx);

  g_assert_cmpuint (by_worker->len, ==, 2);
  g_assert_cmpint (g_array_index (by_worker, gint64, 0), >, 0);
  g_assert_cmpint (g_array_index (by_worker, gint64, 1), >, 0);
}

/* --- fixture --- */

static void
fx_start (Fx *fx, const gchar *shards, guint n)
{
  g_autofree gchar *form = NULL, *reply = NULL;

  memset (fx, 0, sizeof *fx);
  fx->room = "shard";
  g_setenv ("HQ_MEDIA_WORKERS", "2", TRUE);
  g_setenv ("HQ_MEDIA_ROOM_SHARDS", shards, TRUE);
  g_setenv ("HQ_METRICS_TOKEN", METRICS_TOKEN, TRUE);
  fx->server = hq_test_server_start (
      g_getenv ("HQ_SERVER_BIN"), g_getenv ("HQ_TEST_SERVER_LOG") != NULL);
  form = g_strdup_printf ("UniqueName=%s&Type=group", fx->room);
  reply = hq_test_server_rest (fx->server, "POST", "/v1/Rooms", form);
  g_assert_nonnull (reply);
  for (guint i = 0; i < n; i++)
    peer_join (fx, &fx->peers[i]);
  g_assert_true (wait_for (all_ready, fx, 60));
  fx->tick_source = g_timeout_add (10, tick, fx);
}

/* Stops everything; the server must exit cleanly on SIGTERM (under ASan,
 * a report of a memory error or leak makes its status non-zero). */
static void
fx_stop (Fx *fx)
{
  GSubprocess *proc = g_object_ref (fx->server->proc);

  g_source_remove (fx->tick_source);
  for (guint i = 0; i < MAX_CLIENTS; i++)
    if (fx->peers[i].c)
      peer_leave (&fx->peers[i]);
  hq_test_server_stop (fx->server);
  g_assert_true (g_subprocess_get_if_exited (proc));
  g_assert_cmpint (g_subprocess_get_exit_status (proc), ==, 0);
  g_object_unref (proc);
}

/* --- cases --- */

static void
test_forwarding (void)
{
  Fx fx;

  fx_start (&fx, "2", 6);
  wait_everyone (&fx);
  assert_continuous (&fx);
  assert_both_workers (&fx);
  g_assert_cmpuint (handoff_packets (&fx, "handed"), >, 0);
  fx_stop (&fx);
}

typedef struct
{
  Fx *fx;
  guint before;
  gint64 since_us;
  guint seen;
} Pli;

/* No PLI reached sender 0 for 600 ms (those of new subscriptions are
 * over). */
static gboolean
plis_quiet (gpointer data)
{
  Pli *q = data;
  guint now = q->fx->peers[0].plis;

  if (now != q->seen || q->since_us == 0) {
    q->seen = now;
    q->since_us = g_get_monotonic_time ();
    return FALSE;
  }
  return g_get_monotonic_time () - q->since_us > 600 * 1000;
}

static gboolean
pli_arrived (gpointer data)
{
  Pli *q = data;

  return q->fx->peers[0].plis > q->before;
}

static void
test_keyframe_requests (void)
{
  Fx fx;

  fx_start (&fx, "2", 6);
  wait_everyone (&fx);
  for (guint i = 1; i < 6; i++) {
    Member *peer = &fx.peers[i];
    Pli q = { .fx = &fx };
    GHashTableIter it;
    gpointer k, v;

    g_assert_true (wait_for (plis_quiet, &q, 20));
    q.before = fx.peers[0].plis;
    /* a PLI for each video stream it receives: sender 0's among them */
    g_hash_table_iter_init (&it, peer->streams);
    while (g_hash_table_iter_next (&it, &k, &v)) {
      guint8 buf[64];
      HqRtcpWriter w;
      if (!((Stream *)v)->video)
        continue;
      hq_rtcp_writer_init (&w, buf, sizeof buf);
      g_assert_true (
          hq_rtcp_write_pli (&w, 0x5eed0000 + i, GPOINTER_TO_UINT (k), NULL));
      g_assert_true (hq_sfu_client_send_rtcp (peer->c, FALSE, buf, w.len));
    }
    if (!wait_for (pli_arrived, &q, 10))
      g_error ("the PLI of %s did not reach the publisher", peer->c->identity);
  }
  fx_stop (&fx);
}

static void
test_churn (void)
{
  Fx fx;

  fx_start (&fx, "2", 6);
  wait_everyone (&fx);
  /* Four rounds while media flows: one subscriber leaves, two join (on
   * whichever worker has fewer), the next round one of them leaves. */
  for (guint round = 0; round < 4; round++) {
    guint leave = SENDERS + round;
    guint j1 = 6 + 2 * round, j2 = 7 + 2 * round;

    peer_leave (&fx.peers[leave]);
    peer_join (&fx, &fx.peers[j1]);
    peer_join (&fx, &fx.peers[j2]);
    g_assert_true (wait_for (all_ready, &fx, 60));
  }
  wait_everyone (&fx);
  assert_continuous (&fx);
  assert_both_workers (&fx);
  /* The room ends while media flows to both workers: its teardown closes
   * the transports on the other worker too. */
  {
    g_autofree gchar *path = g_strdup_printf ("/v1/Rooms/%s", fx.room);
    g_autofree gchar *reply =
        hq_test_server_rest (fx.server, "POST", path, "Status=completed");
    g_assert_nonnull (reply);
    g_assert_nonnull (strstr (reply, "completed"));
  }
  fx_stop (&fx);
}

typedef struct
{
  Fx *fx;
  guint n;
  GHashTable *marks; /* Stream -> its count when the restart's offer came */
} Restart;

/* Every client's subscribe transport restarted ICE, and every stream it
 * receives brought ENOUGH more packets since. */
static gboolean
restarted_and_flowing (gpointer data)
{
  Restart *r = data;

  for (guint i = 0; i < r->n; i++) {
    Member *m = &r->fx->peers[i];
    GHashTableIter it;
    gpointer v;

    if (m->c->sub_restarts == 0)
      return FALSE;
    g_hash_table_iter_init (&it, m->streams);
    while (g_hash_table_iter_next (&it, NULL, &v)) {
      gpointer mark;
      if (!g_hash_table_lookup_extended (r->marks, v, NULL, &mark)) {
        g_hash_table_insert (
            r->marks, v, GUINT_TO_POINTER (((Stream *)v)->count));
        return FALSE;
      }
      if (((Stream *)v)->count < GPOINTER_TO_UINT (mark) + ENOUGH)
        return FALSE;
    }
  }
  return TRUE;
}

static void
test_ice_restart (void)
{
  Fx fx;
  Restart r = { .fx = &fx, .n = 4 };

  fx_start (&fx, "2", 4);
  wait_everyone (&fx);
  /* Every subscriber asks: half of them are on the other worker, whose
   * new credentials the room's worker must wait for before it offers. */
  for (guint i = 0; i < r.n; i++) {
    JsonObject *msg = json_object_new ();
    json_object_set_string_member (msg, "type", "ice_restart");
    json_object_set_string_member (msg, "id", "restart");
    json_object_set_string_member (msg, "transport", "subscribe");
    hq_sfu_client_send_message (fx.peers[i].c, msg);
  }
  r.marks = g_hash_table_new (NULL, NULL);
  g_assert_true (wait_for (restarted_and_flowing, &r, 60));
  g_hash_table_unref (r.marks);
  assert_both_workers (&fx);
  fx_stop (&fx);
}

static void
test_small_room (void)
{
  Fx fx;
  g_autoptr (GArray) by_worker = NULL;

  fx_start (&fx, "10", 4);
  wait_everyone (&fx);
  assert_continuous (&fx);
  by_worker = forwarded_by_worker (&fx);
  g_assert_cmpuint (by_worker->len, ==, 2);
  /* one of the two, as before sharding */
  g_assert_true ((g_array_index (by_worker, gint64, 0) == 0)
      != (g_array_index (by_worker, gint64, 1) == 0));
  g_assert_cmpuint (handoff_packets (&fx, "handed"), ==, 0);
  fx_stop (&fx);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/sfu/shard/forwarding", test_forwarding);
  g_test_add_func ("/sfu/shard/keyframe-requests", test_keyframe_requests);
  g_test_add_func ("/sfu/shard/churn", test_churn);
  g_test_add_func ("/sfu/shard/ice-restart", test_ice_restart);
  g_test_add_func ("/sfu/shard/small-room", test_small_room);
  return g_test_run ();
}
