/* bench/sfu: load generator and benchmark for hq-server's SFU, and with
 * --janus the same load on Debian's Janus in the same run.
 *
 * Starts a real hq-server, and for N = 2, 4, 10, 25, 50 (or the sizes
 * --n names) puts N simulated participants in one group room, each a real
 * client of the protocol built on libhq (WebSocket signalling, SDP,
 * ICE/DTLS/SRTP transports on loopback).  Each publishes audio (50
 * packets/s) and video (a bitrate, 1 Mbit/s by default) and subscribes to
 * everyone else.  Every payload carries its send time, so the receiver
 * measures forwarding latency.
 *
 * Printed per N: packets offered (sent times N-1 receivers) and forwarded
 * per second (the server's own counter),
 * server CPU seconds per million forwarded packets, latency p50/p99, loss,
 * server memory per participant and in all; and once, the throughput of a
 * bare relay loop (receive, unprotect, protect, send; no routing) between
 * two libhq transports in this process, with the ratio SFU / bare relay.
 *
 *   build/bench/bench-sfu [--janus] [--n=10,20] [--check] [--speakers=K]
 *       [video-kbps] [seconds] [max-N] [min-N]
 *
 * --speakers=K (hq-server only): audio packets carry the RFC 6464 audio
 * level, loud (-30 dBov) from the first K participants and silence from
 * the others, so the server's loudest-N audio (docs/sfu.md) holds the
 * silent ones' audio back; offered and loss then count only what should
 * be forwarded (the speakers' audio and all video), and the line adds the
 * audio forwarded and held back per second (REST media counters).
 * Without it the packets carry no level and all audio is forwarded.
 *
 * --janus runs the same participants (the same transports, RTP, packet
 * sizes and send pattern; bench/janus.c speaks Janus's videoroom API
 * instead of ours) against Janus after hq-server at each N, and prints
 * Janus's line and the ratios hq-server / Janus.  It needs root: the
 * benchmark runs in a network namespace of its own (bench/janus.h says
 * why).  --check exits 1 unless every server forwarded packets at every
 * N (the `bench-sfu-janus` test).
 *
 * The clients send the protocol's `ping` (tests/common/sfuclient.c), so a
 * run may last longer than the server's keepalive timeout; with
 * HQ_KEEPALIVE_TIMEOUT_MS set, both the server and the clients follow it.
 *
 * HQ_BENCH_SERVER_LOG=1 keeps the servers' logs on stderr;
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
#include "janus.h"

#define VIDEO_PACKET 1100
#define AUDIO_PACKET 100
#define TICK_MS 10
#define AUDIO_PPS 50

typedef struct _Bench Bench;
typedef struct _Sfu Sfu;

/* What one run at one N measured. */
typedef struct
{
  gboolean ok; /* everyone set up, figures below are valid */
  gdouble offered_pps, forwarded_pps;
  gdouble cpu_per_mpkt; /* server CPU seconds per million forwarded */
  gdouble p50_ms, p99_ms, loss_pct;
  gdouble kb_per_part; /* server RSS growth per participant */
  gint64 rss_kb; /* server RSS at the end of the run */
  gdouble setup_s;
  /* hq-server: audio forwarded and held back (loudest-N), per second */
  gdouble audio_pps, silenced_pps;
} Figures;

/* One server under test: the generator and measurement below are the same
 * for every server; these say how to make a room, a participant, and
 * where the server's own counters and process are. */
struct _Sfu
{
  const gchar *name;
  /* Makes the room for @n and the participants, into b->parts. */
  gboolean (*open) (Bench *b, guint n);
  /* Once everyone published: subscribe (NULL: the server offers by
   * itself). */
  void (*subscribe) (Bench *b, guint n);
  guint64 (*forwarded) (Bench *b);
  HqTestServer *(*process) (Bench *b);
  void (*close) (Bench *b);
};

struct _Bench
{
  HqTestServer *server;
  HqJanus *janus;
  guint video_kbps;
  gdouble *video_budget; /* bytes due, per participant */
  gdouble *audio_budget; /* packets due, per participant */
  gint64 last_tick;
  GPtrArray *parts; /* HqSfuClient: every server's media side */
  GPtrArray *janus_parts; /* HqJanusPart, for Janus runs */
  gboolean sending;
  gboolean measuring;
  guint64 sent, received;
  GArray *latency_us; /* gint32 */
  gint64 window_start; /* packets sent from then on are counted */
  gchar *room;
  guint64 janus_room;
  gint speakers; /* --speakers: how many speak; -1: no levels sent */
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

/* --- a participant's media, the same for every server --- */

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

static void
bench_add_part (Bench *b, HqSfuClient *c)
{
  c->on_sub_packet = on_media;
  c->user_data = b;
  g_ptr_array_add (b->parts, c);
}

/* --- hq-server --- */

static gboolean
hq_open (Bench *b, guint n)
{
  g_autofree gchar *form = NULL, *reply = NULL;

  g_free (b->room);
  b->room = g_strdup_printf ("bench-%u", n);
  form = g_strdup_printf ("UniqueName=%s&Type=group", b->room);
  reply = hq_test_server_rest (b->server, "POST", "/v1/Rooms", form);
  for (guint i = 0; i < n; i++)
    bench_add_part (b,
        hq_sfu_client_new (b->server, b->room, "load", i,
            g_getenv ("HQ_BENCH_NO_CONSENT") == NULL));
  return TRUE;
}

static guint64
hq_forwarded (Bench *b)
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

/* hq-server's audio packets forwarded and held back so far. */
static void
hq_audio_counts (Bench *b, guint64 *forwarded, guint64 *silenced)
{
  g_autofree gchar *path = g_strdup_printf ("/v1/Rooms/%s", b->room);
  g_autofree gchar *text = hq_test_server_rest (b->server, "GET", path, NULL);
  g_autoptr (JsonParser) parser = json_parser_new ();
  JsonObject *media = NULL;

  *forwarded = *silenced = 0;
  if (text && json_parser_load_from_data (parser, text, -1, NULL))
    media = json_object_get_object_member (
        json_node_get_object (json_parser_get_root (parser)), "media");
  if (media == NULL)
    return;
  *forwarded = (guint64)json_object_get_int_member_with_default (
      media, "forwarded_audio_packets", 0);
  *silenced = (guint64)json_object_get_int_member_with_default (
      media, "silenced_audio_packets", 0);
}

static HqTestServer *
hq_process (Bench *b)
{
  return b->server;
}

static void
hq_close (Bench *b)
{
  g_autofree gchar *path = g_strdup_printf ("/v1/Rooms/%s", b->room);

  g_clear_pointer (&b->parts, g_ptr_array_unref);
  /* The reply does not matter: the room ends either way. */
  g_free (hq_test_server_rest (b->server, "POST", path, "Status=completed"));
}

static const Sfu hq_sfu = { "hq-server", hq_open, NULL, hq_forwarded,
  hq_process, hq_close };

/* --- Janus --- */

static gboolean
janus_open (Bench *b, guint n)
{
  g_autoptr (GError) error = NULL;

  b->janus_room = 1000 + n;
  g_free (b->room);
  b->room = g_strdup_printf ("%" G_GUINT64_FORMAT, b->janus_room);
  if (!hq_janus_create_room (b->janus, b->janus_room, n, &error)) {
    printf ("N=%-3u Janus: cannot create the room: %s\n", n, error->message);
    return FALSE;
  }
  b->janus_parts =
      g_ptr_array_new_with_free_func ((GDestroyNotify)hq_janus_part_free);
  for (guint i = 0; i < n; i++) {
    HqSfuClient *c = hq_janus_media_new (
        b->room, "load", i, g_getenv ("HQ_BENCH_NO_CONSENT") == NULL);
    bench_add_part (b, c);
    g_ptr_array_add (
        b->janus_parts, hq_janus_part_new (b->janus, b->janus_room, c));
  }
  return TRUE;
}

static void
janus_subscribe (Bench *b, guint n)
{
  for (guint i = 0; i < b->janus_parts->len; i++)
    hq_janus_part_subscribe (g_ptr_array_index (b->janus_parts, i), n);
}

static guint64
janus_forwarded (Bench *b)
{
  return hq_janus_forwarded (b->janus, b->janus_room);
}

static HqTestServer *
janus_process (Bench *b)
{
  return hq_janus_process (b->janus);
}

static void
janus_close (Bench *b)
{
  /* The signalling first (it uses the media side's transports), then the
   * media. */
  g_clear_pointer (&b->janus_parts, g_ptr_array_unref);
  g_clear_pointer (&b->parts, g_ptr_array_unref);
  hq_janus_destroy_room (b->janus, b->janus_room);
}

static const Sfu janus_sfu = { "Janus", janus_open, janus_subscribe,
  janus_forwarded, janus_process, janus_close };

/* --- sending --- */

/* Sends what is due since the last tick: 50 audio packets and the video
 * bitrate per second and participant, by the clock rather than by ticks,
 * so a busy machine that runs the tick late does not lower the load. */
/* Participant @i's next audio packet: with --speakers, with its level,
 * and counted as offered only when it speaks (silence is held back). */
static void
send_audio (Bench *b, HqSfuClient *p, guint i)
{
  gboolean sent;

  if (b->speakers < 0) {
    hq_sfu_client_send (p, FALSE, AUDIO_PACKET, FALSE, &sent);
    b->sent += sent && b->measuring;
    return;
  }
  hq_sfu_client_send_audio_level (
      p, AUDIO_PACKET, (gint)i < b->speakers ? 30 : 127);
  b->sent += (gint)i < b->speakers && b->measuring;
}

static gboolean
send_tick (gpointer data)
{
  Bench *b = data;
  gint64 now = g_get_monotonic_time ();
  gdouble dt;

  if (!b->sending || b->parts == NULL) {
    b->last_tick = 0;
    return G_SOURCE_CONTINUE;
  }
  /* at most 100 ms at once: a stalled loop does not send a burst */
  dt = b->last_tick ? MIN (now - b->last_tick, 100000) / 1e6 : TICK_MS / 1e3;
  b->last_tick = now;
  for (guint i = 0; i < b->parts->len; i++) {
    HqSfuClient *p = g_ptr_array_index (b->parts, i);
    gboolean sent;
    if (p->pub == NULL
        || hq_transport_get_state (p->pub) != HQ_TRANSPORT_STATE_CONNECTED)
      continue;
    b->audio_budget[i] += AUDIO_PPS * dt;
    while (b->audio_budget[i] >= 1) {
      send_audio (b, p, i);
      b->audio_budget[i] -= 1;
    }
    b->video_budget[i] += b->video_kbps * 1000.0 / 8 * dt;
    while (b->video_budget[i] >= VIDEO_PACKET) {
      hq_sfu_client_send (p, TRUE, VIDEO_PACKET, FALSE, &sent);
      b->sent += sent && b->measuring;
      b->video_budget[i] -= VIDEO_PACKET;
    }
  }
  return G_SOURCE_CONTINUE;
}

static gboolean
all_published (Bench *b)
{
  for (guint i = 0; i < b->parts->len; i++) {
    HqSfuClient *p = g_ptr_array_index (b->parts, i);
    if (!p->published
        || hq_transport_get_state (p->pub) != HQ_TRANSPORT_STATE_CONNECTED)
      return FALSE;
  }
  return TRUE;
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
print_setup_failure (const Sfu *sfu, Bench *b, guint n)
{
  guint pub = 0, sub = 0, full = 0;

  for (guint i = 0; i < n; i++) {
    HqSfuClient *p = g_ptr_array_index (b->parts, i);
    pub += p->pub
        && hq_transport_get_state (p->pub) == HQ_TRANSPORT_STATE_CONNECTED;
    sub += p->sub
        && hq_transport_get_state (p->sub) == HQ_TRANSPORT_STATE_CONNECTED;
    full += p->sub_mlines >= 2 * (n - 1);
  }
  printf ("N=%-3u %-9s could not set up every participant in 120 s: "
          "%u publishing, %u subscribed, %u with every track\n",
      n, sfu->name, pub, sub, full);
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
}

static void
print_figures (const Sfu *sfu, guint n, const Figures *f, gdouble bare_pps)
{
  printf ("N=%-3u %-9s offered %8.0f pkt/s  forwarded %8.0f pkt/s  "
          "(SFU/bare %.2f)  CPU %6.2f s/Mpkt  "
          "latency p50 %6.2f ms p99 %7.2f ms  loss %5.2f %%  memory %5.0f kB/"
          "participant, RSS %6.1f MB  setup %.1f s\n",
      n, sfu->name, f->offered_pps, f->forwarded_pps,
      f->forwarded_pps / bare_pps, f->cpu_per_mpkt, f->p50_ms, f->p99_ms,
      f->loss_pct, f->kb_per_part, f->rss_kb / 1024.0, f->setup_s);
  if (sfu == &hq_sfu)
    printf ("N=%-3u %-9s audio forwarded %8.0f pkt/s, held back %8.0f pkt/s "
            "(loudest-N)\n",
        n, sfu->name, f->audio_pps, f->silenced_pps);
  fflush (stdout);
}

/* One run of @sfu at @n: set up, warm up, measure for @seconds. */
static Figures
run_n (const Sfu *sfu, Bench *b, guint n, gdouble seconds)
{
  Figures f = { 0 };
  HqTestServer *proc = sfu->process (b);
  gdouble cpu0, cpu1;
  gint64 rss0, rss1;
  guint64 fwd0, fwd1;
  guint64 audio0 = 0, audio1 = 0, silenced0 = 0, silenced1 = 0;
  gint64 t0, setup_start;
  gdouble secs;

  hq_test_server_usage (proc, &cpu0, &rss0);
  b->parts =
      g_ptr_array_new_with_free_func ((GDestroyNotify)hq_sfu_client_free);
  g_free (b->video_budget);
  b->video_budget = g_new0 (gdouble, n);
  g_free (b->audio_budget);
  b->audio_budget = g_new0 (gdouble, n);
  /* Media starts once everyone is connected, so setting up is not slowed
   * by the load it is about to measure. */
  setup_start = g_get_monotonic_time ();
  if (!sfu->open (b, n))
    goto done;
  if (sfu->subscribe) {
    if (!run_until (b, all_published, 120)) {
      print_setup_failure (sfu, b, n);
      goto done;
    }
    sfu->subscribe (b, n);
  }
  if (!run_until (b, all_ready, 120)) {
    print_setup_failure (sfu, b, n);
    goto done;
  }
  f.setup_s = (g_get_monotonic_time () - setup_start) / 1e6;
  b->sending = TRUE;
  run_for (b, 1.0); /* warm-up */
  b->sent = b->received = 0;
  g_array_set_size (b->latency_us, 0);
  /* The counters first: reading Janus's takes a request per handle, whose
   * CPU is not the forwarding's. */
  fwd0 = sfu->forwarded (b);
  if (sfu == &hq_sfu)
    hq_audio_counts (b, &audio0, &silenced0);
  hq_test_server_usage (proc, &cpu0, &rss1);
  t0 = g_get_monotonic_time ();
  b->window_start = t0;
  b->measuring = TRUE;
  run_for (b, seconds);
  b->sending = FALSE;
  run_for (b, 0.3); /* drain what is in flight */
  b->measuring = FALSE;
  secs = (g_get_monotonic_time () - t0) / 1e6;
  hq_test_server_usage (proc, &cpu1, &rss1);
  fwd1 = sfu->forwarded (b);
  if (sfu == &hq_sfu) {
    hq_audio_counts (b, &audio1, &silenced1);
    f.audio_pps = (audio1 - audio0) / secs;
    f.silenced_pps = (silenced1 - silenced0) / secs;
  }
  if (b->latency_us->len > 0) {
    g_array_sort (b->latency_us, cmp_i32);
    f.p50_ms =
        g_array_index (b->latency_us, gint32, b->latency_us->len / 2) / 1e3;
    f.p99_ms =
        g_array_index (b->latency_us, gint32, b->latency_us->len * 99 / 100)
        / 1e3;
  }
  f.ok = TRUE;
  f.offered_pps = (gdouble)b->sent * (n - 1) / secs;
  f.forwarded_pps = fwd1 > fwd0 ? (fwd1 - fwd0) / secs : 0;
  f.cpu_per_mpkt = fwd1 > fwd0 ? (cpu1 - cpu0) / ((fwd1 - fwd0) / 1e6) : 0;
  f.loss_pct = b->sent
      ? 100.0 * (1.0 - (gdouble)b->received / ((gdouble)b->sent * (n - 1)))
      : 0;
  f.kb_per_part = (gdouble)(rss1 - rss0) / n;
  f.rss_kb = rss1;
done:
  b->sending = FALSE;
  sfu->close (b);
  g_clear_pointer (&b->parts, g_ptr_array_unref);
  run_for (b, 0.2);
  return f;
}

/* Prints @f; FALSE when the run failed or nothing went through the
 * server (what --check fails on). */
static gboolean
check_figures (const Sfu *sfu, guint n, const Figures *f, gdouble bare_pps)
{
  if (!f->ok)
    return FALSE; /* run_n() said why */
  print_figures (sfu, n, f, bare_pps);
  if (f->forwarded_pps <= 0 || f->loss_pct >= 100) {
    printf ("N=%-3u %-9s forwarded nothing: its own counter %s, the "
            "subscribers received %s\n",
        n, sfu->name, f->forwarded_pps > 0 ? "counted packets" : "says 0",
        f->loss_pct < 100 ? "packets" : "nothing");
    return FALSE;
  }
  return TRUE;
}

static void
print_ratio (guint n, const Figures *h, const Figures *j)
{
  printf ("N=%-3u %-9s forwarded %5.2f x  CPU/Mpkt %5.2f x  "
          "latency p50 %5.2f x p99 %5.2f x  loss %+.2f points  "
          "memory/participant %5.2f x\n",
      n, "hq/Janus", h->forwarded_pps / j->forwarded_pps,
      h->cpu_per_mpkt / j->cpu_per_mpkt, h->p50_ms / j->p50_ms,
      h->p99_ms / j->p99_ms, h->loss_pct - j->loss_pct,
      j->kb_per_part > 0 ? h->kb_per_part / j->kb_per_part : 0);
  fflush (stdout);
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

/* The machine's load average (other work shares the cores: the latency
 * and loss columns depend on it), as a line. */
static void
print_load (const gchar *when)
{
  g_autofree gchar *avg = NULL;

  if (g_file_get_contents ("/proc/loadavg", &avg, NULL, NULL)) {
    g_auto (GStrv) f = g_strsplit (avg, " ", 4);
    if (g_strv_length (f) >= 3)
      printf ("load average %s: %s %s %s (1, 5, 15 min; %ld cores)\n", when,
          f[0], f[1], f[2], sysconf (_SC_NPROCESSORS_ONLN));
  }
}

/* In --janus mode hq-server runs in the benchmark's network namespace as
 * well: it is stopped on a fatal signal too, so the namespace (which ends
 * with its last process) does not outlive the benchmark.  Janus has
 * PR_SET_PDEATHSIG. */
static volatile pid_t server_pid;

static void
on_fatal_signal (int sig)
{
  if (server_pid > 0)
    kill (server_pid, SIGTERM);
  signal (sig, SIG_DFL);
  raise (sig);
}

static guint
parse_sizes (const gchar *list, guint *sizes, guint max)
{
  g_auto (GStrv) parts = g_strsplit (list, ",", 0);
  guint n = 0;

  for (guint i = 0; parts[i] && n < max; i++) {
    guint64 v;
    if (!g_ascii_string_to_unsigned (parts[i], 10, 2, 200, &v, NULL)) {
      g_printerr ("bench-sfu: --n wants sizes from 2 to 200 separated by "
                  "commas, e.g. --n=10,20; \"%s\" is not one\n",
          parts[i]);
      exit (2);
    }
    sizes[n++] = (guint)v;
  }
  return n;
}

int
main (int argc, char **argv)
{
  Bench b = { .speakers = -1 };
  guint sizes[16] = { 2, 4, 10, 25, 50 };
  guint n_sizes = 5;
  gboolean janus = FALSE, check = FALSE, failed = FALSE;
  const gchar *pos[4] = { NULL };
  guint n_pos = 0;
  guint min_n, max_n;
  gdouble seconds;
  gdouble bare;
  gdouble cpu;
  gint64 rss;
  gboolean keep_log = g_getenv ("HQ_BENCH_SERVER_LOG") != NULL;

  for (gint i = 1; i < argc; i++) {
    if (g_str_equal (argv[i], "--janus"))
      janus = TRUE;
    else if (g_str_equal (argv[i], "--check"))
      check = TRUE;
    else if (g_str_has_prefix (argv[i], "--speakers="))
      b.speakers = atoi (argv[i] + strlen ("--speakers="));
    else if (g_str_has_prefix (argv[i], "--n="))
      n_sizes = parse_sizes (argv[i] + 4, sizes, G_N_ELEMENTS (sizes));
    else if (argv[i][0] != '-' && n_pos < G_N_ELEMENTS (pos))
      pos[n_pos++] = argv[i];
    else {
      g_printerr ("usage: bench-sfu [--janus] [--n=10,20] [--check] "
                  "[--speakers=K] [video-kbps] [seconds] [max-N] [min-N]\n");
      return 2;
    }
  }
  if (janus && b.speakers >= 0) {
    g_printerr ("bench-sfu: --speakers is for hq-server alone (Janus "
                "forwards all audio)\n");
    return 2;
  }
  /* Before anything starts a thread: the namespace is per thread. */
  if (janus) {
    g_autoptr (GError) error = NULL;
    if (!hq_janus_enter_netns (&error)) {
      g_printerr ("bench-sfu --janus: %s\n", error->message);
      /* --check (the test) skips where it cannot run at all */
      return check
              && g_error_matches (
                  error, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED)
          ? 77
          : 1;
    }
  }
  b.video_kbps = pos[0] ? (guint)atoi (pos[0]) : 1000;
  seconds = pos[1] ? g_ascii_strtod (pos[1], NULL) : 3;
  max_n = pos[2] ? (guint)atoi (pos[2]) : 200;
  min_n = pos[3] ? (guint)atoi (pos[3]) : 0;
  b.latency_us = g_array_new (FALSE, FALSE, sizeof (gint32));
  print_load ("at the start");
  /* (a short one for --check, which judges no figure) */
  bare = bare_relay_pps (check ? 5000 : 50000);
  printf ("bare relay loop (receive, unprotect, protect, send; 1100-byte "
          "payloads): %.0f pkt/s\n",
      bare);
  b.server = hq_test_server_start (g_getenv ("HQ_SERVER_BIN")
          ? g_getenv ("HQ_SERVER_BIN")
          : HQ_SERVER_DEFAULT,
      keep_log);
  if (janus) {
    g_autoptr (GError) error = NULL;
    server_pid = atoi (g_subprocess_get_identifier (b.server->proc));
    signal (SIGINT, on_fatal_signal);
    signal (SIGTERM, on_fatal_signal);
    signal (SIGHUP, on_fatal_signal);
    signal (SIGABRT, on_fatal_signal);
    signal (SIGSEGV, on_fatal_signal);
    b.janus = hq_janus_start (keep_log, &error);
    if (b.janus == NULL) {
      g_printerr ("bench-sfu --janus: %s\n", error->message);
      hq_test_server_stop (b.server);
      return 1;
    }
  }
  g_timeout_add (TICK_MS, send_tick, &b);
  hq_test_server_usage (b.server, &cpu, &rss);
  printf ("hq-server at %s, %u kbit/s video + 50 pkt/s audio per "
          "participant, %.0f s per run, server RSS %" G_GINT64_FORMAT " kB\n",
      b.server->url, b.video_kbps, seconds, rss);
  if (janus) {
    hq_test_server_usage (hq_janus_process (b.janus), &cpu, &rss);
    printf ("%s (videoroom plugin, Debian's build) in the same run, RSS "
            "%" G_GINT64_FORMAT " kB\n",
        hq_janus_version (b.janus), rss);
  }
  for (guint i = 0; i < n_sizes; i++) {
    Figures h, j;
    if (sizes[i] > max_n || sizes[i] < min_n)
      continue;
    h = run_n (&hq_sfu, &b, sizes[i], seconds);
    failed |= !check_figures (&hq_sfu, sizes[i], &h, bare);
    if (!janus)
      continue;
    j = run_n (&janus_sfu, &b, sizes[i], seconds);
    failed |= !check_figures (&janus_sfu, sizes[i], &j, bare);
    if (h.ok && j.ok && j.forwarded_pps > 0)
      print_ratio (sizes[i], &h, &j);
  }
  if (b.janus)
    hq_janus_stop (b.janus);
  server_pid = 0;
  hq_test_server_stop (b.server);
  print_load ("at the end");
  g_free (b.video_budget);
  g_free (b.audio_budget);
  g_free (b.room);
  g_array_unref (b.latency_us);
  return check && failed ? 1 : 0;
}
