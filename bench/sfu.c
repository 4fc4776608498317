/* bench/sfu: load generator and benchmark for hq-server's SFU.
 *
 * Starts a real hq-server, and for N = 2, 4, 10, 25, 50 puts N simulated
 * participants in one group room, each a real client of the protocol built
 * on libhq (WebSocket signalling, SDP, ICE/DTLS/SRTP transports on
 * loopback).  Each publishes audio (50 packets/s) and video (a bitrate,
 * 1 Mbit/s by default) and subscribes to everyone else.  Every payload
 * carries its send time, so the receiver measures forwarding latency.
 *
 * Printed per N: packets offered (sent times N-1 receivers) and forwarded
 * per second (the server's own counter),
 * server CPU seconds per million forwarded packets, latency p50/p99, loss,
 * server memory per participant; and once, the throughput of a bare relay
 * loop (receive, unprotect, protect, send; no routing) between two libhq
 * transports in this process, with the ratio SFU / bare relay.
 *
 *   build/bench/bench-sfu [video-kbps] [seconds] [max-N] [min-N]
 *
 * The clients send the protocol's `ping` (tests/common/sfuclient.c), so a
 * run may last longer than the server's keepalive timeout; with
 * HQ_KEEPALIVE_TIMEOUT_MS set, both the server and the clients follow it.
 *
 * HQ_BENCH_SERVER_LOG=1 keeps the server's log on stderr;
 * HQ_BENCH_NO_CONSENT=1 turns consent freshness off on the generator's
 * transports (to tell a slow server from a dead one).
 *
 * Everything runs on loopback; the generator shares the machine's cores
 * with the server, so at large N both saturate: the loss column says when.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <unistd.h>
#include <libsoup/soup.h>
#include <json-glib/json-glib.h>
#include <hq/hqsdp.h>
#include <hq/hqtoken.h>
#include <hq/hqtransport.h>
#include <hq/hqrtp.h>
#include "../tests/common/sfuclient.h"
#include "../tests/common/transportpair.h"

#define VIDEO_PACKET 1100
#define AUDIO_PACKET 100
#define TICK_MS 10

typedef struct _Bench Bench;

struct _Bench
{
  HqTestServer *server;
  guint video_kbps;
  gdouble *video_budget; /* per participant */
  GPtrArray *parts;
  gboolean sending;
  gboolean measuring;
  guint64 sent, received;
  GArray *latency_us; /* gint32 */
  gint64 window_start; /* packets sent from then on are counted */
  gchar *room;
};

/* --- helpers --- */

static gboolean
tick_wake (gpointer data)
{
  return G_SOURCE_CONTINUE;
}

typedef gboolean (*Cond) (Bench *b);

/* Runs the main context until @cond holds or @seconds pass. */
static gboolean
run_until (Bench *b, Cond cond, gdouble seconds)
{
  gint64 deadline = g_get_monotonic_time () + (gint64)(seconds * 1e6);
  guint wake = g_timeout_add (20, tick_wake, NULL);
  gboolean ok;

  while (!(ok = cond (b)) && g_get_monotonic_time () < deadline)
    g_main_context_iteration (NULL, TRUE);
  g_source_remove (wake);
  return ok;
}

static gboolean
never (Bench *b)
{
  return FALSE;
}

static void
run_for (Bench *b, gdouble seconds)
{
  run_until (b, never, seconds);
}

/* --- server --- */

static guint64
server_forwarded (Bench *b)
{
  g_autofree gchar *path = g_strdup_printf ("/v1/Rooms/%s", b->room);
  g_autofree gchar *text = hq_test_server_rest (b->server, "GET", path, NULL);
  g_autoptr (JsonParser) parser = json_parser_new ();
  JsonObject *o, *media;

  if (!text || !json_parser_load_from_data (parser, text, -1, NULL))
    return 0;
  o = json_node_get_object (json_parser_get_root (parser));
  media = json_object_get_object_member (o, "media");
  return media
      ? (guint64)json_object_get_int_member (media, "forwarded_packets")
      : 0;
}

/* --- a participant --- */

static void
on_media (gboolean rtcp, guint8 *data, gsize len, gpointer user_data)
{
  HqSfuClient *c = user_data;
  Bench *b = c->user_data;
  HqRtpHeader h;
  gint64 sent;

  if (rtcp || !hq_rtp_parse (data, len, &h, NULL) || h.payload_len < 10)
    return;
  if (!b->measuring)
    return;
  memcpy (&sent, data + h.payload_offset + 2, sizeof sent);
  if (sent < b->window_start)
    return;
  b->received++;
  if (b->latency_us->len < 2000000) {
    gint32 lat = (gint32)(g_get_monotonic_time () - sent);
    g_array_append_val (b->latency_us, lat);
  }
}

static HqSfuClient *
part_new (Bench *b, guint index)
{
  HqSfuClient *c = hq_sfu_client_new (b->server, b->room, "load", index,
      g_getenv ("HQ_BENCH_NO_CONSENT") == NULL);

  c->on_sub_packet = on_media;
  c->user_data = b;
  return c;
}

/* --- sending --- */

static gboolean
send_tick (gpointer data)
{
  Bench *b = data;
  static guint ticks;

  if (!b->sending)
    return G_SOURCE_CONTINUE;
  ticks++;
  for (guint i = 0; i < b->parts->len; i++) {
    HqSfuClient *p = g_ptr_array_index (b->parts, i);
    gboolean sent;
    if (p->pub == NULL
        || hq_transport_get_state (p->pub) != HQ_TRANSPORT_STATE_CONNECTED)
      continue;
    if (ticks % 2 == 0) {
      hq_sfu_client_send (p, FALSE, AUDIO_PACKET, FALSE, &sent);
      b->sent += sent && b->measuring;
    }
    b->video_budget[i] += b->video_kbps * 1000.0 / 8 * TICK_MS / 1000;
    while (b->video_budget[i] >= VIDEO_PACKET) {
      hq_sfu_client_send (p, TRUE, VIDEO_PACKET, FALSE, &sent);
      b->sent += sent && b->measuring;
      b->video_budget[i] -= VIDEO_PACKET;
    }
  }
  return G_SOURCE_CONTINUE;
}

static gboolean
all_ready (Bench *b)
{
  guint n = b->parts->len;

  for (guint i = 0; i < n; i++)
    if (!hq_sfu_client_ready (g_ptr_array_index (b->parts, i), 2 * (n - 1)))
      return FALSE;
  return TRUE;
}

static gint
cmp_i32 (gconstpointer a, gconstpointer b)
{
  gint32 x = *(const gint32 *)a, y = *(const gint32 *)b;

  return x < y ? -1 : x > y;
}

static void
run_n (Bench *b, guint n, gdouble seconds, gdouble bare_pps)
{
  gdouble cpu0, cpu1;
  gint64 rss0, rss1;
  guint64 fwd0, fwd1;
  gint64 t0, setup_start;
  gdouble secs, p50 = 0, p99 = 0, setup_s;
  g_autofree gchar *form = NULL, *reply = NULL;

  g_free (b->room);
  b->room = g_strdup_printf ("bench-%u", n);
  form = g_strdup_printf ("UniqueName=%s&Type=group", b->room);
  reply = hq_test_server_rest (b->server, "POST", "/v1/Rooms", form);
  hq_test_server_usage (b->server, &cpu0, &rss0);
  b->parts =
      g_ptr_array_new_with_free_func ((GDestroyNotify)hq_sfu_client_free);
  g_free (b->video_budget);
  b->video_budget = g_new0 (gdouble, n);
  for (guint i = 0; i < n; i++)
    g_ptr_array_add (b->parts, part_new (b, i));
  /* Media starts once everyone is connected, so setting up is not slowed
   * by the load it is about to measure. */
  setup_start = g_get_monotonic_time ();
  if (!run_until (b, all_ready, 120)) {
    guint joined = 0, pub = 0, sub = 0, full = 0;
    for (guint i = 0; i < n; i++) {
      HqSfuClient *p = g_ptr_array_index (b->parts, i);
      joined += p->audio_sid != NULL;
      pub += p->pub
          && hq_transport_get_state (p->pub) == HQ_TRANSPORT_STATE_CONNECTED;
      sub += p->sub
          && hq_transport_get_state (p->sub) == HQ_TRANSPORT_STATE_CONNECTED;
      full += p->sub_mlines >= 2 * (n - 1);
    }
    printf ("N=%-3u could not set up every participant in 120 s: %u joined, "
            "%u publishing, %u subscribed, %u with every track\n",
        n, joined, pub, sub, full);
    for (guint i = 0; i < n && i < 3; i++) {
      HqSfuClient *p = g_ptr_array_index (b->parts, i);
      printf ("  participant %u: publish %s%s%s, subscribe %s, %u m-lines\n", i,
          p->pub ? hq_transport_state_name (hq_transport_get_state (p->pub))
                 : "-",
          p->pub && hq_transport_get_error (p->pub) ? ": " : "",
          p->pub && hq_transport_get_error (p->pub)
              ? hq_transport_get_error (p->pub)->message
              : "",
          p->sub ? hq_transport_state_name (hq_transport_get_state (p->sub))
                 : "-",
          p->sub_mlines);
    }
    goto done;
  }
  setup_s = (g_get_monotonic_time () - setup_start) / 1e6;
  b->sending = TRUE;
  run_for (b, 1.0); /* warm-up */
  b->sent = b->received = 0;
  g_array_set_size (b->latency_us, 0);
  hq_test_server_usage (b->server, &cpu0, &rss1);
  fwd0 = server_forwarded (b);
  t0 = g_get_monotonic_time ();
  b->window_start = t0;
  b->measuring = TRUE;
  run_for (b, seconds);
  b->sending = FALSE;
  run_for (b, 0.3); /* drain what is in flight */
  b->measuring = FALSE;
  secs = (g_get_monotonic_time () - t0) / 1e6;
  fwd1 = server_forwarded (b);
  hq_test_server_usage (b->server, &cpu1, &rss1);
  if (b->latency_us->len > 0) {
    g_array_sort (b->latency_us, cmp_i32);
    p50 = g_array_index (b->latency_us, gint32, b->latency_us->len / 2) / 1e3;
    p99 = g_array_index (b->latency_us, gint32, b->latency_us->len * 99 / 100)
        / 1e3;
  }
  printf ("N=%-3u offered %8.0f pkt/s  forwarded %8.0f pkt/s  (SFU/bare %.2f)  "
          "CPU %6.2f s/Mpkt  "
          "latency p50 %6.2f ms p99 %7.2f ms  loss %5.2f %%  memory %5.0f kB/"
          "participant  setup %.1f s\n",
      n, (gdouble)b->sent * (n - 1) / secs, (fwd1 - fwd0) / secs,
      (fwd1 - fwd0) / secs / bare_pps,
      fwd1 > fwd0 ? (cpu1 - cpu0) / ((fwd1 - fwd0) / 1e6) : 0, p50, p99,
      b->sent
          ? 100.0 * (1.0 - (gdouble)b->received / ((gdouble)b->sent * (n - 1)))
          : 0,
      (gdouble)(rss1 - rss0) / n, setup_s);
  fflush (stdout);
done:
  b->sending = FALSE;
  g_clear_pointer (&b->parts, g_ptr_array_unref);
  {
    g_autofree gchar *path = g_strdup_printf ("/v1/Rooms/%s", b->room);
    /* The reply does not matter: the room ends either way. */
    g_free (hq_test_server_rest (b->server, "POST", path, "Status=completed"));
  }
  run_for (b, 0.2);
}

/* --- the bare relay baseline --- */

static void
relay_back (gboolean rtcp, guint8 *data, gsize len, gpointer user_data)
{
  Peer *b = user_data;
  guint8 buf[1500 + HQ_SRTP_MAX_TRAILER];

  if (rtcp || len > 1500)
    return;
  memcpy (buf, data, len);
  hq_transport_send_rtp (b->t, buf, len, sizeof buf, NULL);
}

static gboolean
relayed_enough (gpointer data)
{
  gpointer *w = data;
  HqTransportStats s;

  hq_transport_get_stats (((Peer *)w[0])->t, &s);
  return s.rtp_received >= GPOINTER_TO_UINT (w[1]);
}

static gdouble
bare_relay_pps (guint count)
{
  Pair pair;
  guint8 buf[1500 + HQ_SRTP_MAX_TRAILER];
  guint sent = 0;
  gint64 t0;
  HqTransportStats s;

  pair_init (&pair, NULL);
  pair_start (&pair, NULL);
  assert_connected (&pair, 30);
  hq_transport_set_receive_func (pair.b.t, relay_back, &pair.b, NULL);
  hq_transport_set_receive_func (pair.a.t, NULL, NULL, NULL);
  t0 = g_get_monotonic_time ();
  while (sent < count) {
    gpointer want[2];
    for (guint i = 0; i < 64; i++, sent++) {
      gsize len = make_rtp (buf, (guint16)sent, 0x1234, VIDEO_PACKET);
      hq_transport_send_rtp (pair.a.t, buf, len, sizeof buf, NULL);
    }
    want[0] = &pair.a;
    want[1] = GUINT_TO_POINTER (sent);
    if (!wait_for (relayed_enough, want, 10))
      break;
  }
  hq_transport_get_stats (pair.a.t, &s);
  pair_clear (&pair);
  return s.rtp_received / ((g_get_monotonic_time () - t0) / 1e6);
}

int
main (int argc, char **argv)
{
  Bench b = { 0 };
  const guint sizes[] = { 2, 4, 10, 25, 50 };
  guint min_n = argc > 4 ? (guint)atoi (argv[4]) : 0;
  gdouble seconds = argc > 2 ? g_ascii_strtod (argv[2], NULL) : 3;
  guint max_n = argc > 3 ? (guint)atoi (argv[3]) : 50;
  gdouble bare;
  gdouble cpu;
  gint64 rss;

  b.video_kbps = argc > 1 ? (guint)atoi (argv[1]) : 1000;
  b.latency_us = g_array_new (FALSE, FALSE, sizeof (gint32));
  bare = bare_relay_pps (50000);
  printf ("bare relay loop (receive, unprotect, protect, send; 1100-byte "
          "payloads): %.0f pkt/s\n",
      bare);
  b.server = hq_test_server_start (g_getenv ("HQ_SERVER_BIN")
          ? g_getenv ("HQ_SERVER_BIN")
          : HQ_SERVER_DEFAULT,
      g_getenv ("HQ_BENCH_SERVER_LOG") != NULL);
  g_timeout_add (TICK_MS, send_tick, &b);
  hq_test_server_usage (b.server, &cpu, &rss);
  printf ("hq-server at %s, %u kbit/s video + 50 pkt/s audio per "
          "participant, %.0f s per run, server RSS %" G_GINT64_FORMAT " kB\n",
      b.server->url, b.video_kbps, seconds, rss);
  for (guint i = 0; i < G_N_ELEMENTS (sizes) && sizes[i] <= max_n; i++)
    if (sizes[i] >= min_n)
      run_n (&b, sizes[i], seconds, bare);
  hq_test_server_stop (b.server);
  return 0;
}
