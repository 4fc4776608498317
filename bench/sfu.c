/* bench/sfu: load generator and benchmark for hq-server's SFU.
 *
 * Starts a real hq-server, and for N = 2, 4, 10, 25, 50 puts N simulated
 * participants in one group room, each a real client of the protocol built
 * on libhq (WebSocket signalling, SDP, ICE/DTLS/SRTP transports on
 * loopback).  Each publishes audio (50 packets/s) and video (a bitrate,
 * 1 Mbit/s by default) and subscribes to everyone else.  Every payload
 * carries its send time, so the receiver measures forwarding latency.
 *
 * Printed per N: packets forwarded per second (the server's own counter),
 * server CPU seconds per million forwarded packets, latency p50/p99, loss,
 * server memory per participant; and once, the throughput of a bare relay
 * loop (receive, unprotect, protect, send; no routing) between two libhq
 * transports in this process, with the ratio SFU / bare relay.
 *
 *   build/bench/bench-sfu [video-kbps] [seconds] [max-N] [min-N]
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
#include "../tests/common/transportpair.h"

#define VIDEO_PACKET 1100
#define AUDIO_PACKET 100
#define TICK_MS 10

typedef struct _Bench Bench;

typedef struct
{
  Bench *b;
  guint index;
  gchar *identity;
  SoupWebsocketConnection *ws;
  HqTransport *pub, *sub;
  gchar *audio_sid, *video_sid;
  guint32 audio_ssrc, video_ssrc;
  guint audio_pt, video_pt;
  guint16 aseq, vseq;
  gdouble video_budget;
  guint sub_mlines; /* active m-lines in the applied answer */
  gboolean published;
  guint8 buf[1500 + HQ_SRTP_MAX_TRAILER];
} Part;

struct _Bench
{
  gchar *server_bin;
  GSubprocess *server;
  gchar *data_dir;
  gchar *url;
  gchar *key_sid, *key_secret, *account_sid;
  SoupSession *http;
  guint video_kbps;
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

static void
ws_send (Part *p, JsonObject *msg)
{
  g_autoptr (JsonNode) node = json_node_new (JSON_NODE_OBJECT);
  g_autofree gchar *text = NULL;

  json_node_set_object (node, msg);
  text = json_to_string (node, FALSE);
  soup_websocket_connection_send_text (p->ws, text);
}

static JsonObject *
msg_new (const gchar *type)
{
  JsonObject *o = json_object_new ();

  json_object_set_string_member (o, "type", type);
  return o;
}

/* --- server --- */

static gchar *
rest (Bench *b, const gchar *method, const gchar *path, const gchar *form)
{
  g_autofree gchar *uri = g_strconcat (b->url, path, NULL);
  g_autoptr (SoupMessage) msg = soup_message_new (method, uri);
  g_autofree gchar *cred = g_strdup_printf ("%s:%s", b->key_sid, b->key_secret);
  g_autofree gchar *b64 = g_base64_encode ((const guchar *)cred, strlen (cred));
  g_autofree gchar *auth = g_strconcat ("Basic ", b64, NULL);
  g_autoptr (GBytes) body = NULL;

  soup_message_headers_replace (
      soup_message_get_request_headers (msg), "Authorization", auth);
  if (form) {
    g_autoptr (GBytes) req = g_bytes_new (form, strlen (form));
    soup_message_set_request_body_from_bytes (
        msg, "application/x-www-form-urlencoded", req);
  }
  body = soup_session_send_and_read (b->http, msg, NULL, NULL);
  return body
      ? g_strndup (g_bytes_get_data (body, NULL), g_bytes_get_size (body))
      : NULL;
}

static guint64
server_forwarded (Bench *b)
{
  g_autofree gchar *path = g_strdup_printf ("/v1/Rooms/%s", b->room);
  g_autofree gchar *text = rest (b, "GET", path, NULL);
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

/* CPU seconds and resident memory (kB) of the server process. */
static void
server_usage (Bench *b, gdouble *cpu, gint64 *rss_kb)
{
  const gchar *pid = g_subprocess_get_identifier (b->server);
  g_autofree gchar *stat_path = g_strdup_printf ("/proc/%s/stat", pid);
  g_autofree gchar *status_path = g_strdup_printf ("/proc/%s/status", pid);
  g_autofree gchar *stat = NULL, *status = NULL;
  gchar *p;

  *cpu = 0;
  *rss_kb = 0;
  if (g_file_get_contents (stat_path, &stat, NULL, NULL)
      && (p = strrchr (stat, ')')) != NULL) {
    g_auto (GStrv) f = g_strsplit (p + 2, " ", 0);
    if (g_strv_length (f) > 13)
      *cpu = (g_ascii_strtod (f[11], NULL) + g_ascii_strtod (f[12], NULL))
          / sysconf (_SC_CLK_TCK);
  }
  if (g_file_get_contents (status_path, &status, NULL, NULL)
      && (p = strstr (status, "VmRSS:")) != NULL)
    *rss_kb = g_ascii_strtoll (p + 6, NULL, 10);
}

static void
start_server (Bench *b)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GDataInputStream) out = NULL;
  g_autoptr (GKeyFile) kf = g_key_file_new ();
  g_autofree gchar *creds = NULL;
  gchar *line;

  b->data_dir = g_dir_make_tmp ("hq-bench-sfu-XXXXXX", &error);
  g_assert_no_error (error);
  /* HQ_BENCH_SERVER_LOG=1 keeps the server's log on our stderr. */
  b->server = g_subprocess_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE
          | (g_getenv ("HQ_BENCH_SERVER_LOG")
                  ? 0
                  : G_SUBPROCESS_FLAGS_STDERR_SILENCE),
      &error, b->server_bin, "--data-dir", b->data_dir, "--listen",
      "127.0.0.1:0", NULL);
  if (b->server == NULL)
    g_error ("cannot start %s: %s", b->server_bin, error->message);
  out = g_data_input_stream_new (g_subprocess_get_stdout_pipe (b->server));
  while ((line = g_data_input_stream_read_line (out, NULL, NULL, NULL))) {
    gchar *at = strstr (line, " listening on ");
    if (at)
      b->url = g_strdup (at + strlen (" listening on "));
    g_free (line);
    if (b->url)
      break;
  }
  if (b->url == NULL)
    g_error ("hq-server did not start");
  creds = g_build_filename (b->data_dir, "credentials.conf", NULL);
  if (!g_key_file_load_from_file (kf, creds, 0, &error))
    g_error ("no credentials: %s", error->message);
  b->key_sid = g_key_file_get_string (kf, "api-key", "key_sid", NULL);
  b->key_secret = g_key_file_get_string (kf, "api-key", "key_secret", NULL);
  b->account_sid = g_key_file_get_string (kf, "api-key", "account_sid", NULL);
  b->http = soup_session_new ();
}

/* --- a participant --- */

static void
on_candidate (HqTransport *t, const gchar *cand, Part *p)
{
  JsonObject *m = msg_new ("candidate");

  json_object_set_string_member (
      m, "transport", t == p->pub ? "publish" : "subscribe");
  json_object_set_string_member (m, "candidate", cand);
  ws_send (p, m);
  json_object_unref (m);
}

static void
on_gathered (HqTransport *t, Part *p)
{
  JsonObject *m = msg_new ("end_of_candidates");

  json_object_set_string_member (
      m, "transport", t == p->pub ? "publish" : "subscribe");
  ws_send (p, m);
  json_object_unref (m);
}

static void
on_media (gboolean rtcp, guint8 *data, gsize len, gpointer user_data)
{
  Part *p = user_data;
  Bench *b = p->b;
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

static HqTransport *
make_transport (Part *p, gboolean controlling)
{
  HqTransportConfig config;
  g_autoptr (GError) error = NULL;
  HqTransport *t;

  hq_transport_config_init (&config);
  config.controlling = controlling;
  config.dtls_role = HQ_DTLS_ROLE_SERVER;
  config.consent_freshness = g_getenv ("HQ_BENCH_NO_CONSENT") == NULL;
  t = hq_transport_new (&config, &error);
  g_assert_no_error (error);
  g_signal_connect (t, "local-candidate", G_CALLBACK (on_candidate), p);
  g_signal_connect (t, "gathering-done", G_CALLBACK (on_gathered), p);
  return t;
}

static void
publish (Part *p)
{
  g_autoptr (GError) error = NULL;
  g_autofree gchar *u = NULL, *pw = NULL, *text = NULL;
  g_autoptr (HqSdp) offer = NULL;
  HqSdpTrack tracks[2] = {
    { .kind = HQ_SDP_KIND_AUDIO,
        .mid = "0",
        .direction = HQ_SDP_SENDONLY,
        .stream_id = p->identity,
        .track_id = p->audio_sid,
        .ssrc = p->audio_ssrc },
    { .kind = HQ_SDP_KIND_VIDEO,
        .mid = "1",
        .direction = HQ_SDP_SENDONLY,
        .stream_id = p->identity,
        .track_id = p->video_sid,
        .ssrc = p->video_ssrc },
  };
  HqSdpLocal local;
  JsonObject *m;
  JsonArray *map = json_array_new ();

  p->pub = make_transport (p, TRUE);
  hq_transport_describe (p->pub, &local, &u, &pw, "bench");
  local.setup = HQ_SDP_SETUP_ACTPASS;
  offer = hq_sdp_build_offer (&local, tracks, 2, NULL, &error);
  g_assert_no_error (error);
  text = hq_sdp_to_text (offer);
  for (guint i = 0; i < 2; i++) {
    JsonObject *t = json_object_new ();
    json_object_set_string_member (t, "mid", tracks[i].mid);
    json_object_set_string_member (t, "track_sid", tracks[i].track_id);
    json_array_add_object_element (map, t);
  }
  m = msg_new ("publish_offer");
  json_object_set_string_member (m, "id", "pub");
  json_object_set_string_member (m, "sdp", text);
  json_object_set_array_member (m, "tracks", map);
  ws_send (p, m);
  json_object_unref (m);
}

static void
on_subscribe_offer (Part *p, JsonObject *msg)
{
  g_autoptr (GError) error = NULL;
  g_autofree gchar *u = NULL, *pw = NULL, *text = NULL;
  g_autoptr (HqSdp) offer = hq_sdp_parse (
      HQ_SDP_OFFER, json_object_get_string_member (msg, "sdp"), -1, &error);
  g_autoptr (HqSdp) answer = NULL;
  g_autoptr (GArray) want = g_array_new (FALSE, TRUE, sizeof (HqSdpTrack));
  gboolean first = p->sub == NULL;
  HqSdpLocal local;
  JsonObject *m;
  guint active = 0;

  g_assert_no_error (error);
  if (first) {
    p->sub = make_transport (p, FALSE);
    hq_transport_set_receive_func (p->sub, on_media, p, NULL);
  }
  for (guint i = 0; i < offer->media->len; i++) {
    HqSdpMedia *om = g_ptr_array_index (offer->media, i);
    HqSdpTrack t = {
      .kind = om->kind, .mid = om->mid, .direction = HQ_SDP_RECVONLY
    };
    g_array_append_val (want, t);
    active += hq_sdp_media_is_active (om);
  }
  hq_transport_describe (p->sub, &local, &u, &pw, "bench");
  answer = hq_sdp_build_answer (
      offer, &local, (HqSdpTrack *)want->data, want->len, &error);
  g_assert_no_error (error);
  if (first)
    hq_transport_set_remote_description (p->sub, offer, NULL);
  text = hq_sdp_to_text (answer);
  m = msg_new ("subscribe_answer");
  json_object_set_string_member (m, "sdp", text);
  json_object_set_int_member (
      m, "revision", json_object_get_int_member (msg, "revision"));
  ws_send (p, m);
  json_object_unref (m);
  p->sub_mlines = active;
  if (first)
    hq_transport_gather (p->sub, NULL);
}

static void
on_ws_message (SoupWebsocketConnection *ws, gint type, GBytes *bytes, Part *p)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  JsonObject *msg;
  const gchar *t, *id;

  if (!json_parser_load_from_data (parser, g_bytes_get_data (bytes, NULL),
          g_bytes_get_size (bytes), NULL))
    return;
  msg = json_node_get_object (json_parser_get_root (parser));
  t = json_object_get_string_member_with_default (msg, "type", "");
  id = json_object_get_string_member_with_default (msg, "id", "");
  if (g_str_equal (t, "joined")) {
    JsonObject *m = msg_new ("track_publish");
    json_object_set_string_member (m, "id", "a");
    json_object_set_string_member (m, "name", "microphone");
    json_object_set_string_member (m, "kind", "audio");
    ws_send (p, m);
    json_object_unref (m);
    m = msg_new ("track_publish");
    json_object_set_string_member (m, "id", "v");
    json_object_set_string_member (m, "name", "camera");
    json_object_set_string_member (m, "kind", "video");
    ws_send (p, m);
    json_object_unref (m);
  } else if (g_str_equal (t, "track_published") && *id) {
    const gchar *sid = json_object_get_string_member (
        json_object_get_object_member (msg, "track"), "sid");
    if (g_str_equal (id, "a"))
      p->audio_sid = g_strdup (sid);
    else
      p->video_sid = g_strdup (sid);
    if (p->audio_sid && p->video_sid)
      publish (p);
  } else if (g_str_equal (t, "publish_answer")) {
    g_autoptr (HqSdp) answer = hq_sdp_parse (
        HQ_SDP_ANSWER, json_object_get_string_member (msg, "sdp"), -1, NULL);
    const HqSdpMedia *am = hq_sdp_find_media (answer, "0");
    const HqSdpMedia *vm = hq_sdp_find_media (answer, "1");
    p->audio_pt = ((HqSdpCodec *)g_ptr_array_index (am->codecs, 0))->pt;
    p->video_pt = ((HqSdpCodec *)g_ptr_array_index (vm->codecs, 0))->pt;
    hq_transport_set_remote_description (p->pub, answer, NULL);
    hq_transport_gather (p->pub, NULL);
    p->published = TRUE;
  } else if (g_str_equal (t, "subscribe_offer")) {
    on_subscribe_offer (p, msg);
  } else if (g_str_equal (t, "candidate")
      || g_str_equal (t, "end_of_candidates")) {
    const gchar *which = json_object_get_string_member (msg, "transport");
    HqTransport *tr = g_str_equal (which, "publish") ? p->pub : p->sub;
    if (tr == NULL)
      return;
    if (t[0] == 'e')
      hq_transport_end_of_remote_candidates (tr);
    else
      hq_transport_add_remote_candidate (
          tr, json_object_get_string_member (msg, "candidate"), NULL);
  } else if (g_str_equal (t, "error")) {
    g_printerr ("participant %u: %s\n", p->index,
        json_object_get_string_member_with_default (msg, "message", "?"));
  }
}

static void
on_ws_closed (SoupWebsocketConnection *ws, Part *p)
{
  g_printerr ("participant %u: the server closed the signalling connection "
              "(%u %s)\n",
      p->index, soup_websocket_connection_get_close_code (ws),
      soup_websocket_connection_get_close_data (ws)
          ? soup_websocket_connection_get_close_data (ws)
          : "");
}

static void
on_ws_connected (GObject *src, GAsyncResult *res, gpointer data)
{
  Part *p = data;
  g_autoptr (GError) error = NULL;
  HqTokenGrant grant = {
    .identity = p->identity, .room = p->b->room, .ttl = 3600
  };
  g_autofree gchar *token = NULL;
  JsonObject *m;

  p->ws =
      soup_session_websocket_connect_finish (SOUP_SESSION (src), res, &error);
  if (p->ws == NULL)
    g_error ("WebSocket: %s", error->message);
  soup_websocket_connection_set_max_incoming_payload_size (p->ws, 1 << 20);
  g_signal_connect (p->ws, "message", G_CALLBACK (on_ws_message), p);
  g_signal_connect (p->ws, "closed", G_CALLBACK (on_ws_closed), p);
  token = hq_token_mint (
      p->b->key_sid, p->b->key_secret, p->b->account_sid, &grant, 0, &error);
  m = msg_new ("join");
  json_object_set_string_member (m, "id", "join");
  json_object_set_string_member (m, "token", token);
  ws_send (p, m);
  json_object_unref (m);
}

static Part *
part_new (Bench *b, guint index)
{
  Part *p = g_new0 (Part, 1);
  g_autofree gchar *ws_url = g_strdup_printf ("ws%s/v1/signal", b->url + 4);
  g_autoptr (SoupMessage) msg = soup_message_new ("GET", ws_url);

  p->b = b;
  p->index = index;
  p->identity = g_strdup_printf ("load-%u", index);
  p->audio_ssrc = 0x10000000 + index * 2;
  p->video_ssrc = 0x10000001 + index * 2;
  soup_session_websocket_connect_async (
      b->http, msg, NULL, NULL, G_PRIORITY_DEFAULT, NULL, on_ws_connected, p);
  return p;
}

static void
part_free (Part *p)
{
  if (p->ws) {
    g_signal_handlers_disconnect_by_data (p->ws, p);
    if (soup_websocket_connection_get_state (p->ws)
        == SOUP_WEBSOCKET_STATE_OPEN)
      soup_websocket_connection_close (p->ws, 1000, NULL);
    g_object_unref (p->ws);
  }
  g_clear_object (&p->pub);
  g_clear_object (&p->sub);
  g_free (p->identity);
  g_free (p->audio_sid);
  g_free (p->video_sid);
  g_free (p);
}

/* --- sending --- */

static void
send_packet (Part *p, gboolean video)
{
  Bench *b = p->b;
  gsize payload = video ? VIDEO_PACKET : AUDIO_PACKET;
  guint8 *d = p->buf;
  gint64 now = g_get_monotonic_time ();
  guint16 seq = video ? p->vseq++ : p->aseq++;
  guint32 ts = (guint32)(now * (video ? 90 : 48) / 1000);
  guint32 ssrc = video ? p->video_ssrc : p->audio_ssrc;

  d[0] = 0x80;
  d[1] = (guint8)(video ? p->video_pt : p->audio_pt);
  d[2] = seq >> 8;
  d[3] = seq & 0xff;
  d[4] = ts >> 24;
  d[5] = ts >> 16;
  d[6] = ts >> 8;
  d[7] = ts & 0xff;
  d[8] = ssrc >> 24;
  d[9] = ssrc >> 16;
  d[10] = ssrc >> 8;
  d[11] = ssrc & 0xff;
  /* A VP8 descriptor that starts a keyframe, so no subscriber waits. */
  d[12] = 0x10;
  d[13] = 0x00;
  memcpy (d + 14, &now, sizeof now);
  memset (d + 22, 0xab, payload - 10);
  if (hq_transport_send_rtp (p->pub, d, 12 + payload, sizeof p->buf, NULL)
      && b->measuring)
    b->sent++;
}

static gboolean
send_tick (gpointer data)
{
  Bench *b = data;
  static guint ticks;

  if (!b->sending)
    return G_SOURCE_CONTINUE;
  ticks++;
  for (guint i = 0; i < b->parts->len; i++) {
    Part *p = g_ptr_array_index (b->parts, i);
    if (p->pub == NULL
        || hq_transport_get_state (p->pub) != HQ_TRANSPORT_STATE_CONNECTED)
      continue;
    if (ticks % 2 == 0)
      send_packet (p, FALSE);
    p->video_budget += b->video_kbps * 1000.0 / 8 * TICK_MS / 1000;
    while (p->video_budget >= VIDEO_PACKET) {
      send_packet (p, TRUE);
      p->video_budget -= VIDEO_PACKET;
    }
  }
  return G_SOURCE_CONTINUE;
}

static gboolean
all_ready (Bench *b)
{
  guint n = b->parts->len;

  for (guint i = 0; i < n; i++) {
    Part *p = g_ptr_array_index (b->parts, i);
    if (!p->published || p->sub == NULL
        || hq_transport_get_state (p->pub) != HQ_TRANSPORT_STATE_CONNECTED
        || hq_transport_get_state (p->sub) != HQ_TRANSPORT_STATE_CONNECTED
        || p->sub_mlines < 2 * (n - 1))
      return FALSE;
  }
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
  gint64 t0;
  gdouble secs, p50 = 0, p99 = 0;
  g_autofree gchar *form = NULL, *reply = NULL;

  g_free (b->room);
  b->room = g_strdup_printf ("bench-%u", n);
  form = g_strdup_printf ("UniqueName=%s&Type=group", b->room);
  reply = rest (b, "POST", "/v1/Rooms", form);
  server_usage (b, &cpu0, &rss0);
  b->parts = g_ptr_array_new_with_free_func ((GDestroyNotify)part_free);
  for (guint i = 0; i < n; i++)
    g_ptr_array_add (b->parts, part_new (b, i));
  /* Media starts once everyone is connected, so setting up is not slowed
   * by the load it is about to measure. */
  if (!run_until (b, all_ready, 120)) {
    guint joined = 0, pub = 0, sub = 0, full = 0;
    for (guint i = 0; i < n; i++) {
      Part *p = g_ptr_array_index (b->parts, i);
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
      Part *p = g_ptr_array_index (b->parts, i);
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
  b->sending = TRUE;
  run_for (b, 1.0); /* warm-up */
  b->sent = b->received = 0;
  g_array_set_size (b->latency_us, 0);
  server_usage (b, &cpu0, &rss1);
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
  server_usage (b, &cpu1, &rss1);
  if (b->latency_us->len > 0) {
    g_array_sort (b->latency_us, cmp_i32);
    p50 = g_array_index (b->latency_us, gint32, b->latency_us->len / 2) / 1e3;
    p99 = g_array_index (b->latency_us, gint32, b->latency_us->len * 99 / 100)
        / 1e3;
  }
  printf ("N=%-3u forwarded %8.0f pkt/s  (SFU/bare %.2f)  CPU %6.2f s/Mpkt  "
          "latency p50 %6.2f ms p99 %7.2f ms  loss %5.2f %%  memory %5.0f kB/"
          "participant\n",
      n, (fwd1 - fwd0) / secs, (fwd1 - fwd0) / secs / bare_pps,
      fwd1 > fwd0 ? (cpu1 - cpu0) / ((fwd1 - fwd0) / 1e6) : 0, p50, p99,
      b->sent
          ? 100.0 * (1.0 - (gdouble)b->received / ((gdouble)b->sent * (n - 1)))
          : 0,
      (gdouble)(rss1 - rss0) / n);
  fflush (stdout);
done:
  b->sending = FALSE;
  g_clear_pointer (&b->parts, g_ptr_array_unref);
  {
    g_autofree gchar *path = g_strdup_printf ("/v1/Rooms/%s", b->room);
    g_autofree gchar *r = rest (b, "POST", path, "Status=completed");
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
  b.server_bin =
      g_strdup (g_getenv ("HQ_SERVER_BIN") ? g_getenv ("HQ_SERVER_BIN")
                                           : HQ_SERVER_DEFAULT);
  b.latency_us = g_array_new (FALSE, FALSE, sizeof (gint32));
  bare = bare_relay_pps (50000);
  printf ("bare relay loop (receive, unprotect, protect, send; 1100-byte "
          "payloads): %.0f pkt/s\n",
      bare);
  start_server (&b);
  g_timeout_add (TICK_MS, send_tick, &b);
  server_usage (&b, &cpu, &rss);
  printf ("hq-server at %s, %u kbit/s video + 50 pkt/s audio per "
          "participant, %.0f s per run, server RSS %" G_GINT64_FORMAT " kB\n",
      b.url, b.video_kbps, seconds, rss);
  for (guint i = 0; i < G_N_ELEMENTS (sizes) && sizes[i] <= max_n; i++)
    if (sizes[i] >= min_n)
      run_n (&b, sizes[i], seconds, bare);
  g_subprocess_send_signal (b.server, SIGTERM);
  g_subprocess_wait (b.server, NULL, NULL);
  return 0;
}
