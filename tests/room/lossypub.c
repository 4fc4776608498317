/* A publisher that loses video packets on purpose, for test_nack.py: it
 * proves that a subscriber (hqroomsrc) still NACKs real losses after its
 * jitter buffers stopped NACKing merely late packets.
 *
 *   hq-lossy-publisher URL ROOM
 *
 * with the API key in HQ_API_KEY_SID, HQ_API_KEY_SECRET and
 * HQ_ACCOUNT_SID, as hq-server's credentials.conf has them.  It joins ROOM
 * as "lossy-0" with the libhq protocol client of the SFU tests
 * (tests/common/sfuclient.h), publishes audio and video and sends 50 audio
 * and 100 video packets a second, and a protocol ping every 15 s.  It prints "ready" once published; each
 * line "lose" on stdin makes it leave out (not send) one video packet,
 * printed as "lost SEQ"; each NACK for its video that reaches it is
 * printed as "nack SEQ" (its own sequence numbers) and answered by
 * sending that packet again.  It stops at the end of stdin. */
#include <stdio.h>
#include <string.h>
#include "../common/sfuclient.h"

#define VIDEO_PAYLOAD 1100
#define AUDIO_PAYLOAD 100

typedef struct
{
  HqSfuClient *client;
  GMainLoop *loop;
  guint ticks;
  guint to_lose;
  gboolean said_ready, said_gone;
} Publisher;

static void
on_pub_packet (gboolean rtcp, guint8 *data, gsize len, gpointer user_data)
{
  HqSfuClient *c = user_data;
  g_autoptr (GArray) lost = g_array_new (FALSE, FALSE, sizeof (guint16));
  guint64 remb;

  if (!rtcp)
    return;
  hq_sfu_client_read_feedback (data, len, c->video_ssrc, &remb, lost);
  for (guint i = 0; i < lost->len; i++) {
    guint16 seq = g_array_index (lost, guint16, i);
    printf ("nack %u\n", seq);
    hq_sfu_client_resend_video (c, seq);
  }
  fflush (stdout);
}

static gboolean
tick (gpointer data)
{
  Publisher *p = data;
  HqSfuClient *c = p->client;
  gboolean lose;
  guint16 seq;

  if (!c->published || c->pub == NULL
      || hq_transport_get_state (c->pub) != HQ_TRANSPORT_STATE_CONNECTED) {
    if (p->said_ready && !p->said_gone) {
      p->said_gone = TRUE;
      printf ("not connected\n");
      fflush (stdout);
    }
    return G_SOURCE_CONTINUE;
  }
  if (!p->said_ready) {
    p->said_ready = TRUE;
    printf ("ready\n");
    fflush (stdout);
  }
  p->ticks++;
  if (p->ticks % 2 == 0)
    hq_sfu_client_send (c, FALSE, AUDIO_PAYLOAD, FALSE, NULL);
  /* Never two losses in a row: each is a gap of its own. */
  lose = p->to_lose > 0 && p->ticks % 10 == 0;
  seq = hq_sfu_client_send (c, TRUE, VIDEO_PAYLOAD, lose, NULL);
  if (lose) {
    p->to_lose--;
    printf ("lost %u\n", seq);
    fflush (stdout);
  }
  return G_SOURCE_CONTINUE;
}

static gboolean
on_stdin (GIOChannel *ch, GIOCondition cond, gpointer data)
{
  Publisher *p = data;
  g_autofree gchar *line = NULL;
  GIOStatus status = g_io_channel_read_line (ch, &line, NULL, NULL, NULL);

  if (status == G_IO_STATUS_AGAIN)
    return G_SOURCE_CONTINUE;
  if (status != G_IO_STATUS_NORMAL) {
    g_main_loop_quit (p->loop);
    return G_SOURCE_REMOVE;
  }
  if (g_str_has_prefix (line, "lose"))
    p->to_lose++;
  /* More lines may wait in the channel's buffer, where no watch sees
   * them. */
  if (g_io_channel_get_buffer_condition (ch) & G_IO_IN)
    return on_stdin (ch, cond, data);
  return G_SOURCE_CONTINUE;
}

/* The protocol's keepalive (docs/protocol.md): a session quiet for 60 s
 * is closed. */
static gboolean
ping (gpointer data)
{
  Publisher *p = data;
  JsonObject *m = json_object_new ();

  json_object_set_string_member (m, "type", "ping");
  hq_sfu_client_send_message (p->client, m);
  return G_SOURCE_CONTINUE;
}

int
main (int argc, char **argv)
{
  const gchar *keys[] = { "HQ_API_KEY_SID", "HQ_API_KEY_SECRET",
    "HQ_ACCOUNT_SID" };
  HqTestServer server = { 0 };
  Publisher p = { 0 };
  GIOChannel *in;

  if (argc != 3) {
    g_printerr ("usage: %s URL ROOM\n", argv[0]);
    return 2;
  }
  for (guint i = 0; i < G_N_ELEMENTS (keys); i++)
    if (g_getenv (keys[i]) == NULL) {
      g_printerr ("%s: %s is not set: the API key comes from the "
                  "environment\n",
          argv[0], keys[i]);
      return 2;
    }
  server.url = argv[1];
  server.key_sid = (gchar *)g_getenv ("HQ_API_KEY_SID");
  server.key_secret = (gchar *)g_getenv ("HQ_API_KEY_SECRET");
  server.account_sid = (gchar *)g_getenv ("HQ_ACCOUNT_SID");
  server.http = soup_session_new ();
  p.loop = g_main_loop_new (NULL, FALSE);
  p.client = hq_sfu_client_new (&server, argv[2], "lossy", 0, TRUE);
  p.client->on_pub_packet = on_pub_packet;
  in = g_io_channel_unix_new (0);
  g_io_add_watch (in, G_IO_IN | G_IO_HUP | G_IO_ERR, on_stdin, &p);
  g_timeout_add (10, tick, &p);
  g_timeout_add_seconds (15, ping, &p);
  g_main_loop_run (p.loop);
  hq_sfu_client_free (p.client);
  g_io_channel_unref (in);
  g_main_loop_unref (p.loop);
  g_object_unref (server.http);
  return 0;
}
