/* Loudest-N audio with real transports: a real hq-server (the default,
 * the loudest 3) and ten libhq protocol clients (tests/common/sfuclient.h)
 * in one group room, each publishing audio and subscribing to everyone:
 *
 * - client 0 speaks all the time (RFC 6464 level 30, -30 dBov), client 1
 *   in bursts (1.2 s of level 30, then 1.8 s of silence, level 127),
 *   clients 2 to 8 send silence (level 127), and client 9 sends no audio
 *   level at all (a publisher the server cannot judge);
 * - once the room is full and the silent ones' hangover is over, REST's
 *   per-publisher counts show audio forwarded from clients 0, 1 and 9
 *   only, and held back from 2 to 8; the room's `silenced_audio_packets`
 *   grows;
 * - every listener receives the speakers' and client 9's audio and none
 *   of the silent publishers';
 * - client 1's first loud packet after each pause reaches every listener
 *   (a new speaker is not clipped), packets after it went silent still
 *   come for a while (the hangover), and then stop (held back);
 * - no listener sees a gap in any stream's sequence numbers: what was
 *   held back is not counted as loss; the timestamps move on by the pause.
 *
 * A second case sets [media] loudest_audio to 0 (HQ_MEDIA_LOUDEST_AUDIO):
 * then five clients' silence all goes out, as before loudest-N. */
#include <string.h>
#include <hq/hqrtp.h>
#include <hq/hqsdp.h>
#include "../../common/sfuclient.h"
#include "../../common/transportpair.h"

#define N 10
#define AUDIO_PAYLOAD 100
#define LOUD 30
#define SILENT 127
/* Client 1's bursts, in 20 ms ticks. */
#define BURST_TICKS 60
#define CYCLE_TICKS 150

typedef struct
{
  HqTestServer *server;
  guint n;
  HqSfuClient *c[N];
  gchar *sid[N]; /* participant sids, from the subscribe offers */
  /* per listener: its audio SSRC -> publisher index + 1 */
  GHashTable *from[N];
  guint tick_source;
  guint ticks;
  /* client 1 */
  gint64 onset_us; /* send time of its last burst's first packet */
  gint64 quiet_us; /* send time of its first silent packet after it */
  guint onsets;
  /* listener i, publisher j, counted since `counting` */
  gboolean counting;
  guint got[N][N];
  guint onsets_heard[N]; /* client 1's onset packets received */
  guint after_quiet[N]; /* client 1's silent packets received */
  /* sequence numbers as listener i sees publisher j's audio */
  gboolean have_seq[N][N];
  guint16 last_seq[N][N];
  guint32 last_ts[N][N];
  guint gaps, ts_backwards;
  gboolean all_silent; /* everyone sends silence, with levels */
} Fx;

static gint
publisher_of (Fx *fx, guint listener, guint32 ssrc)
{
  return GPOINTER_TO_INT (
             g_hash_table_lookup (fx->from[listener], GUINT_TO_POINTER (ssrc)))
      - 1;
}

static void
on_sub (gboolean rtcp, guint8 *data, gsize len, gpointer user_data)
{
  HqSfuClient *c = user_data;
  Fx *fx = c->user_data;
  guint i = c->index;
  HqRtpHeader h;
  gint j;
  gint64 sent;

  if (rtcp || !hq_rtp_parse (data, len, &h, NULL)
      || (j = publisher_of (fx, i, h.ssrc)) < 0 || h.payload_len < 10)
    return;
  if (fx->have_seq[i][j]) {
    if (h.seq != (guint16)(fx->last_seq[i][j] + 1))
      fx->gaps++;
    if ((gint32)(h.timestamp - fx->last_ts[i][j]) <= 0)
      fx->ts_backwards++;
  }
  fx->have_seq[i][j] = TRUE;
  fx->last_seq[i][j] = h.seq;
  fx->last_ts[i][j] = h.timestamp;
  if (!fx->counting)
    return;
  fx->got[i][j]++;
  memcpy (&sent, data + h.payload_offset + 2, sizeof sent);
  /* the packet sent right after the onset (the next is 20 ms later) */
  if (j == 1 && sent >= fx->onset_us && sent < fx->onset_us + 10000)
    fx->onsets_heard[i]++;
  if (j == 1 && fx->quiet_us && sent >= fx->quiet_us)
    fx->after_quiet[i]++;
}

/* Learns from @c's subscribe offers which SSRC is whose audio. */
static void
on_message (HqSfuClient *c, const gchar *type, JsonObject *msg, gpointer data)
{
  Fx *fx = data;
  g_autoptr (HqSdp) offer = NULL;

  if (!g_str_equal (type, "subscribe_offer"))
    return;
  offer = hq_sdp_parse (
      HQ_SDP_OFFER, json_object_get_string_member (msg, "sdp"), -1, NULL);
  g_assert_nonnull (offer);
  for (guint m = 0; m < offer->media->len; m++) {
    HqSdpMedia *om = g_ptr_array_index (offer->media, m);

    if (om->kind != HQ_SDP_KIND_AUDIO || om->ssrcs->len == 0
        || om->msid_track == NULL)
      continue;
    for (guint j = 0; j < fx->n; j++)
      if (fx->c[j] && g_strcmp0 (fx->c[j]->audio_sid, om->msid_track) == 0) {
        HqSdpSsrc *s = g_ptr_array_index (om->ssrcs, 0);
        g_hash_table_insert (fx->from[c->index], GUINT_TO_POINTER (s->ssrc),
            GINT_TO_POINTER (j + 1));
        if (fx->sid[j] == NULL)
          fx->sid[j] = g_strdup (om->msid_stream);
      }
  }
}

static guint
level_of (Fx *fx, guint j)
{
  if (fx->all_silent)
    return SILENT;
  if (j == 0)
    return LOUD;
  if (j == 1)
    return fx->ticks % CYCLE_TICKS < BURST_TICKS ? LOUD : SILENT;
  return SILENT;
}

static gboolean
tick (gpointer data)
{
  Fx *fx = data;
  gint64 now = g_get_monotonic_time ();

  /* client 1's burst starts and ends, by the send time the payload
   * carries (sfuclient.h) */
  if (fx->n == N && fx->ticks % CYCLE_TICKS == 0) {
    fx->onset_us = now;
    fx->onsets += fx->counting;
  }
  if (fx->n == N && fx->ticks % CYCLE_TICKS == BURST_TICKS)
    fx->quiet_us = fx->counting ? now : 0;
  for (guint j = 0; j < fx->n; j++) {
    if (!fx->c[j]->published)
      continue;
    if (j == N - 1 && !fx->all_silent)
      hq_sfu_client_send (fx->c[j], FALSE, AUDIO_PAYLOAD, FALSE, NULL);
    else
      hq_sfu_client_send_audio_level (
          fx->c[j], AUDIO_PAYLOAD, level_of (fx, j));
  }
  fx->ticks++;
  return G_SOURCE_CONTINUE;
}

static gboolean
all_ready (gpointer data)
{
  Fx *fx = data;

  for (guint i = 0; i < fx->n; i++)
    if (!hq_sfu_client_ready (fx->c[i], 2 * (fx->n - 1))
        || g_hash_table_size (fx->from[i]) < fx->n - 1 || fx->sid[i] == NULL)
      return FALSE;
  return TRUE;
}

static void
fx_start (Fx *fx, guint n, const gchar *room)
{
  g_autofree gchar *form = g_strdup_printf ("UniqueName=%s&Type=group", room);
  g_autofree gchar *reply = NULL;

  fx->n = n;
  fx->server = hq_test_server_start (
      g_getenv ("HQ_SERVER_BIN"), g_getenv ("HQ_TEST_SERVER_LOG") != NULL);
  reply = hq_test_server_rest (fx->server, "POST", "/v1/Rooms", form);
  g_assert_nonnull (reply);
  for (guint i = 0; i < n; i++) {
    fx->from[i] = g_hash_table_new (NULL, NULL);
    fx->c[i] = hq_sfu_client_new (fx->server, room, "p", i, TRUE);
    fx->c[i]->user_data = fx;
    fx->c[i]->on_sub_packet = on_sub;
    fx->c[i]->on_message = on_message;
  }
  fx->tick_source = g_timeout_add (20, tick, fx);
  g_assert_true (wait_for (all_ready, fx, 60));
}

static void
fx_stop (Fx *fx)
{
  g_source_remove (fx->tick_source);
  for (guint i = 0; i < fx->n; i++) {
    hq_sfu_client_free (fx->c[i]);
    g_hash_table_unref (fx->from[i]);
    g_free (fx->sid[i]);
  }
  hq_test_server_stop (fx->server);
}

/* The room's media counters from REST. */
static JsonObject *
media_of (Fx *fx, const gchar *room)
{
  g_autofree gchar *path = g_strdup_printf ("/v1/Rooms/%s", room);
  g_autofree gchar *body = hq_test_server_rest (fx->server, "GET", path, NULL);
  g_autoptr (JsonParser) parser = json_parser_new ();
  JsonObject *media;

  g_assert_nonnull (body);
  g_assert_true (json_parser_load_from_data (parser, body, -1, NULL));
  media = json_object_get_object_member (
      json_node_get_object (json_parser_get_root (parser)), "media");
  g_assert_nonnull (media);
  return json_object_ref (media);
}

/* Publisher @j's count @what ("forwarded_packets", "silenced_packets")
 * in @media; 0 when it has none yet. */
static gint64
count_of (Fx *fx, JsonObject *media, guint j, const gchar *what)
{
  JsonObject *pubs = json_object_get_object_member (media, "audio_publishers");
  JsonObject *one;

  g_assert_nonnull (pubs);
  if (!json_object_has_member (pubs, fx->sid[j]))
    return 0;
  one = json_object_get_object_member (pubs, fx->sid[j]);
  return json_object_get_int_member (one, what);
}

typedef struct
{
  Fx *fx;
  const gchar *room;
} Query;

/* Every silent publisher's hangover is over: some of its packets were
 * held back. */
static gboolean
silent_ones_held (gpointer data)
{
  Query *q = data;
  g_autoptr (JsonObject) media = media_of (q->fx, q->room);

  for (guint j = 2; j < N - 1; j++)
    if (count_of (q->fx, media, j, "silenced_packets") == 0)
      return FALSE;
  return TRUE;
}

/* Client 1 began two bursts since counting started, and went silent
 * after the second long enough for its hangover to end. */
static gboolean
two_bursts_done (gpointer data)
{
  Fx *fx = data;

  return fx->onsets >= 2 && fx->ticks % CYCLE_TICKS >= CYCLE_TICKS - 10;
}

static void
test_two_speak (void)
{
  Fx *fx = g_new0 (Fx, 1);
  Query q = { fx, "loudest" };
  g_autoptr (JsonObject) before = NULL;
  g_autoptr (JsonObject) after = NULL;

  fx_start (fx, N, "loudest");
  /* The room filled one by one: while it had 3 audio publishers or fewer,
   * everything went out; the silent ones stop once their hangover ends. */
  g_assert_true (wait_for (silent_ones_held, &q, 30));
  before = media_of (fx, "loudest");
  fx->counting = TRUE;
  g_assert_true (wait_for (two_bursts_done, fx, 30));
  after = media_of (fx, "loudest");

  for (guint j = 0; j < N; j++) {
    gint64 fwd = count_of (fx, after, j, "forwarded_packets")
        - count_of (fx, before, j, "forwarded_packets");
    gint64 held = count_of (fx, after, j, "silenced_packets")
        - count_of (fx, before, j, "silenced_packets");

    g_test_message ("publisher %u: %" G_GINT64_FORMAT
                    " forwarded, %" G_GINT64_FORMAT " held back",
        j, fwd, held);
    if (j == 0 || j == N - 1) {
      /* a speaker, and a publisher without levels: all of it */
      g_assert_cmpint (fwd, >, 0);
      g_assert_cmpint (held, ==, 0);
    } else if (j == 1) {
      /* bursts: forwarded while loud and in the hangover, then held */
      g_assert_cmpint (fwd, >, 0);
      g_assert_cmpint (held, >, 0);
    } else {
      g_assert_cmpint (fwd, ==, 0);
      g_assert_cmpint (held, >, 0);
    }
  }
  g_assert_cmpint (json_object_get_int_member (after, "silenced_audio_packets"),
      >, json_object_get_int_member (before, "silenced_audio_packets"));

  for (guint i = 0; i < N; i++) {
    for (guint j = 0; j < N; j++) {
      if (i == j)
        continue;
      if (j == 0 || j == 1 || j == N - 1)
        g_assert_cmpuint (fx->got[i][j], >, 0);
      else
        g_assert_cmpuint (fx->got[i][j], ==, 0);
    }
    if (i != 1) {
      /* every onset of client 1 heard; words not cut at the end */
      g_assert_cmpuint (fx->onsets_heard[i], >=, fx->onsets);
      g_assert_cmpuint (fx->after_quiet[i], >, 0);
    }
  }
  g_assert_cmpuint (fx->gaps, ==, 0);
  g_assert_cmpuint (fx->ts_backwards, ==, 0);
  fx_stop (fx);
  g_free (fx);
}

/* Every listener got 50 packets of everyone else's audio. */
static gboolean
everyone_heard (gpointer data)
{
  Fx *fx = data;

  for (guint i = 0; i < fx->n; i++)
    for (guint j = 0; j < fx->n; j++)
      if (i != j && fx->got[i][j] < 50)
        return FALSE;
  return TRUE;
}

static void
test_off (void)
{
  Fx *fx = g_new0 (Fx, 1);
  Query q = { fx, "all" };
  g_autoptr (JsonObject) media = NULL;

  fx->all_silent = TRUE;
  g_setenv ("HQ_MEDIA_LOUDEST_AUDIO", "0", TRUE);
  fx_start (fx, 5, "all");
  g_unsetenv ("HQ_MEDIA_LOUDEST_AUDIO");
  /* five publishers sending silence, with levels: more than 3, so the
   * default would hold them all back */
  fx->counting = TRUE;
  g_assert_true (wait_for (everyone_heard, fx, 30));
  media = media_of (q.fx, q.room);
  g_assert_cmpint (
      json_object_get_int_member (media, "silenced_audio_packets"), ==, 0);
  fx_stop (fx);
  g_free (fx);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  if (g_getenv ("HQ_SERVER_BIN") == NULL) {
    g_test_skip ("HQ_SERVER_BIN is not set");
    return g_test_run ();
  }
  g_unsetenv ("HQ_MEDIA_LOUDEST_AUDIO");
  g_test_add_func ("/sfu-loudest/two-of-ten-speak", test_two_speak);
  g_test_add_func ("/sfu-loudest/off-forwards-all", test_off);
  return g_test_run ();
}
