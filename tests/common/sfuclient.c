/* A real hq-server and minimal protocol clients; see sfuclient.h. */
#include "sfuclient.h"

#include <string.h>
#include <unistd.h>
#include <hq/hqprotocol.h>
#include <hq/hqrtcp.h>
#include <hq/hqrtp.h>
#include <hq/hqtoken.h>
#include "hqtempdir.h"

/* --- server --- */

HqTestServer *
hq_test_server_start (const gchar *bin, gboolean keep_log)
{
  HqTestServer *s = g_new0 (HqTestServer, 1);
  g_autoptr (GError) error = NULL;
  g_autoptr (GDataInputStream) out = NULL;
  g_autoptr (GKeyFile) kf = g_key_file_new ();
  g_autofree gchar *creds = NULL;
  gchar *line;

  s->data_dir = g_dir_make_tmp ("hq-sfu-test-XXXXXX", &error);
  g_assert_no_error (error);
  s->proc = g_subprocess_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE
          | (keep_log ? 0 : G_SUBPROCESS_FLAGS_STDERR_SILENCE),
      &error, bin, "--data-dir", s->data_dir, "--listen", "127.0.0.1:0", NULL);
  if (s->proc == NULL)
    g_error ("cannot start %s: %s", bin, error->message);
  out = g_data_input_stream_new (g_subprocess_get_stdout_pipe (s->proc));
  while ((line = g_data_input_stream_read_line (out, NULL, NULL, NULL))) {
    gchar *at = strstr (line, " listening on ");
    if (at)
      s->url = g_strdup (at + strlen (" listening on "));
    g_free (line);
    if (s->url)
      break;
  }
  if (s->url == NULL)
    g_error ("hq-server did not start");
  creds = g_build_filename (s->data_dir, "credentials.conf", NULL);
  if (!g_key_file_load_from_file (kf, creds, 0, &error))
    g_error ("no credentials: %s", error->message);
  s->key_sid = g_key_file_get_string (kf, "api-key", "key_sid", NULL);
  s->key_secret = g_key_file_get_string (kf, "api-key", "key_secret", NULL);
  s->account_sid = g_key_file_get_string (kf, "api-key", "account_sid", NULL);
  s->http = soup_session_new ();
  return s;
}

HqTestServer *
hq_test_server_start_room (const gchar *room)
{
  HqTestServer *server = hq_test_server_start (
      g_getenv ("HQ_SERVER_BIN"), g_getenv ("HQ_TEST_SERVER_LOG") != NULL);
  g_autofree gchar *form = g_strdup_printf ("UniqueName=%s&Type=group", room);
  g_autofree gchar *reply =
      hq_test_server_rest (server, "POST", "/v1/Rooms", form);

  g_assert_nonnull (reply);
  g_setenv ("HQ_API_KEY_SID", server->key_sid, TRUE);
  g_setenv ("HQ_API_KEY_SECRET", server->key_secret, TRUE);
  g_setenv ("HQ_ACCOUNT_SID", server->account_sid, TRUE);
  g_unsetenv ("HQ_ACCESS_TOKEN");
  return server;
}

void
hq_test_server_stop (HqTestServer *s)
{
  g_subprocess_send_signal (s->proc, SIGTERM);
  g_subprocess_wait (s->proc, NULL, NULL);
  g_object_unref (s->proc);
  g_object_unref (s->http);
  hq_test_remove_dir (s->data_dir);
  g_free (s->data_dir);
  g_free (s->url);
  g_free (s->key_sid);
  g_free (s->key_secret);
  g_free (s->account_sid);
  g_free (s);
}

gchar *
hq_test_server_rest (
    HqTestServer *s, const gchar *method, const gchar *path, const gchar *form)
{
  g_autofree gchar *uri = g_strconcat (s->url, path, NULL);
  g_autoptr (SoupMessage) msg = soup_message_new (method, uri);
  g_autofree gchar *cred = g_strdup_printf ("%s:%s", s->key_sid, s->key_secret);
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
  body = soup_session_send_and_read (s->http, msg, NULL, NULL);
  return body
      ? g_strndup (g_bytes_get_data (body, NULL), g_bytes_get_size (body))
      : NULL;
}

void
hq_test_server_usage (HqTestServer *s, gdouble *cpu, gint64 *rss_kb)
{
  const gchar *pid = g_subprocess_get_identifier (s->proc);
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

/* --- a client --- */

void
hq_sfu_client_send_message (HqSfuClient *c, JsonObject *msg)
{
  g_autoptr (JsonNode) node = json_node_new (JSON_NODE_OBJECT);
  g_autofree gchar *text = NULL;

  json_node_take_object (node, msg);
  text = json_to_string (node, FALSE);
  if (c->ws
      && soup_websocket_connection_get_state (c->ws)
          == SOUP_WEBSOCKET_STATE_OPEN)
    soup_websocket_connection_send_text (c->ws, text);
}

static void
on_candidate (HqTransport *t, const gchar *cand, HqSfuClient *c)
{
  JsonObject *m =
      hq_protocol_candidate_new (t == c->pub ? "publish" : "subscribe", cand);

  hq_sfu_client_send_message (c, m);
}

static void
on_gathered (HqTransport *t, HqSfuClient *c)
{
  JsonObject *m =
      hq_protocol_candidate_new (t == c->pub ? "publish" : "subscribe", NULL);

  hq_sfu_client_send_message (c, m);
}

static void
on_sub_packet (gboolean rtcp, guint8 *data, gsize len, gpointer user_data)
{
  HqSfuClient *c = user_data;

  if (c->on_sub_packet)
    c->on_sub_packet (rtcp, data, len, c);
}

static void
on_pub_packet (gboolean rtcp, guint8 *data, gsize len, gpointer user_data)
{
  HqSfuClient *c = user_data;

  if (c->on_pub_packet)
    c->on_pub_packet (rtcp, data, len, c);
}

static HqTransport *
make_transport (HqSfuClient *c, gboolean controlling, gboolean consent)
{
  HqTransportConfig config;
  g_autoptr (GError) error = NULL;
  HqTransport *t;

  hq_transport_config_init (&config);
  config.controlling = controlling;
  config.dtls_role = HQ_DTLS_ROLE_SERVER;
  config.consent_freshness = consent;
  t = hq_transport_new (&config, &error);
  g_assert_no_error (error);
  g_signal_connect (t, "local-candidate", G_CALLBACK (on_candidate), c);
  g_signal_connect (t, "gathering-done", G_CALLBACK (on_gathered), c);
  return t;
}

static void
publish (HqSfuClient *c)
{
  g_autoptr (GError) error = NULL;
  g_autofree gchar *u = NULL, *pw = NULL, *text = NULL;
  g_autoptr (HqSdp) offer = NULL;
  HqSdpTrack tracks[2] = {
    { .kind = HQ_SDP_KIND_AUDIO,
        .mid = "0",
        .direction = HQ_SDP_SENDONLY,
        .stream_id = c->identity,
        .track_id = c->audio_sid,
        .ssrc = c->audio_ssrc },
    { .kind = HQ_SDP_KIND_VIDEO,
        .mid = "1",
        .direction = HQ_SDP_SENDONLY,
        .stream_id = c->identity,
        .track_id = c->video_sid,
        .ssrc = c->video_ssrc },
  };
  static const gchar *const rids[] = { "q", "h", "f", NULL };
  HqSdpLocal local;
  JsonObject *m;
  JsonArray *map = json_array_new ();

  if (c->simulcast) {
    tracks[1].ssrc = 0;
    tracks[1].rids = rids;
  }
  hq_transport_describe (c->pub, &local, &u, &pw, "hq-sfu-client");
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
  m = hq_protocol_message_new (HQ_MESSAGE_PUBLISH_OFFER, "pub");
  json_object_set_string_member (m, "sdp", text);
  json_object_set_array_member (m, "tracks", map);
  hq_sfu_client_send_message (c, m);
}

static void
on_subscribe_offer (HqSfuClient *c, JsonObject *msg)
{
  g_autoptr (GError) error = NULL;
  g_autofree gchar *u = NULL, *pw = NULL, *text = NULL;
  g_autoptr (HqSdp) offer = hq_sdp_parse (
      HQ_SDP_OFFER, json_object_get_string_member (msg, "sdp"), -1, &error);
  g_autoptr (HqSdp) answer = NULL;
  g_autoptr (GArray) want = g_array_new (FALSE, TRUE, sizeof (HqSdpTrack));
  gboolean first = c->sub == NULL;
  HqSdpLocal local;
  JsonObject *m;
  guint active = 0;

  g_assert_no_error (error);
  if (first) {
    c->sub = make_transport (c, FALSE, c->consent);
    hq_transport_set_receive_func (c->sub, on_sub_packet, c, NULL);
  }
  for (guint i = 0; i < offer->media->len; i++) {
    HqSdpMedia *om = g_ptr_array_index (offer->media, i);
    HqSdpTrack t = {
      .kind = om->kind, .mid = om->mid, .direction = HQ_SDP_RECVONLY
    };
    g_array_append_val (want, t);
    /* a kept BUNDLE tag (inactive, docs/sdp.md) carries no track */
    active += hq_sdp_media_is_active (om) && om->direction != HQ_SDP_INACTIVE;
  }
  hq_transport_describe (c->sub, &local, &u, &pw, "hq-sfu-client");
  answer = hq_sdp_build_answer (
      offer, &local, (HqSdpTrack *)want->data, want->len, &error);
  g_assert_no_error (error);
  if (first)
    hq_transport_set_remote_description (c->sub, offer, NULL);
  text = hq_sdp_to_text (answer);
  m = hq_protocol_message_new (HQ_MESSAGE_SUBSCRIBE_ANSWER, NULL);
  json_object_set_string_member (m, "sdp", text);
  json_object_set_int_member (
      m, "revision", json_object_get_int_member (msg, "revision"));
  hq_sfu_client_send_message (c, m);
  c->sub_mlines = active;
  if (first)
    hq_transport_gather (c->sub, NULL);
}

static void
on_ws_message (
    SoupWebsocketConnection *ws, gint type, GBytes *bytes, HqSfuClient *c)
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
  switch (hq_protocol_read_type (msg)) {
    case HQ_MESSAGE_JOINED: {
      JsonObject *m = hq_protocol_message_new (HQ_MESSAGE_TRACK_PUBLISH, "a");
      json_object_set_string_member (m, "name", "microphone");
      json_object_set_string_member (m, "kind", "audio");
      hq_sfu_client_send_message (c, m);
      m = hq_protocol_message_new (HQ_MESSAGE_TRACK_PUBLISH, "v");
      json_object_set_string_member (m, "name", "camera");
      json_object_set_string_member (m, "kind", "video");
      hq_sfu_client_send_message (c, m);
      break;
    }
    case HQ_MESSAGE_TRACK_PUBLISHED: {
      const gchar *sid;

      if (*id == '\0')
        break; /* someone else's */
      sid = json_object_get_string_member (
          json_object_get_object_member (msg, "track"), "sid");
      if (g_str_equal (id, "a"))
        c->audio_sid = g_strdup (sid);
      else if (g_str_equal (id, "v"))
        c->video_sid = g_strdup (sid);
      if (c->audio_sid && c->video_sid && c->pub == NULL) {
        c->pub = make_transport (c, TRUE, c->consent);
        hq_transport_set_receive_func (c->pub, on_pub_packet, c, NULL);
        publish (c);
      }
      break;
    }
    case HQ_MESSAGE_PUBLISH_ANSWER: {
      g_autoptr (HqSdp) answer = hq_sdp_parse (
          HQ_SDP_ANSWER, json_object_get_string_member (msg, "sdp"), -1, NULL);
      const HqSdpMedia *am = hq_sdp_find_media (answer, "0");
      const HqSdpMedia *vm = hq_sdp_find_media (answer, "1");
      c->audio_pt = ((HqSdpCodec *)g_ptr_array_index (am->codecs, 0))->pt;
      c->video_pt = ((HqSdpCodec *)g_ptr_array_index (vm->codecs, 0))->pt;
      c->mid_ext_id = hq_sdp_media_extmap_id (vm, HQ_SDP_EXT_MID);
      c->rid_ext_id = hq_sdp_media_extmap_id (vm, HQ_SDP_EXT_RID);
      c->rrid_ext_id = hq_sdp_media_extmap_id (vm, HQ_SDP_EXT_REPAIRED_RID);
      c->video_rtx_pt =
          ((HqSdpCodec *)g_ptr_array_index (vm->codecs, 0))->rtx_pt;
      hq_transport_set_remote_description (c->pub, answer, NULL);
      hq_transport_gather (c->pub, NULL);
      c->published = TRUE;
      break;
    }
    case HQ_MESSAGE_SUBSCRIBE_OFFER:
      on_subscribe_offer (c, msg);
      break;
    case HQ_MESSAGE_CANDIDATE:
    case HQ_MESSAGE_END_OF_CANDIDATES: {
      const gchar *which = json_object_get_string_member (msg, "transport");
      HqTransport *tr = g_str_equal (which, "publish") ? c->pub : c->sub;
      if (tr == NULL)
        return;
      if (hq_protocol_read_type (msg) == HQ_MESSAGE_END_OF_CANDIDATES)
        hq_transport_end_of_remote_candidates (tr);
      else
        hq_transport_add_remote_candidate (
            tr, json_object_get_string_member (msg, "candidate"), NULL);
      break;
    }
    case HQ_MESSAGE_ERROR:
      g_printerr ("participant %s: %s\n", c->identity,
          json_object_get_string_member_with_default (msg, "message", "?"));
      break;
    default:
      break;
  }
  if (c->on_message)
    c->on_message (c, t, msg, c->user_data);
}

static void
on_ws_closed (SoupWebsocketConnection *ws, HqSfuClient *c)
{
  g_printerr ("participant %s: the server closed the signalling connection "
              "(%u %s)\n",
      c->identity, soup_websocket_connection_get_close_code (ws),
      soup_websocket_connection_get_close_data (ws)
          ? soup_websocket_connection_get_close_data (ws)
          : "");
}

/* The protocol's keepalive: the server closes a connection on which
 * nothing arrived for its keepalive timeout (docs/protocol.md), and a load
 * client that only sends media says nothing on it for minutes. */
static gboolean
ping_cb (gpointer data)
{
  hq_sfu_client_send_message (
      data, hq_protocol_message_new (HQ_MESSAGE_PING, NULL));
  return G_SOURCE_CONTINUE;
}

/* A third of the server's keepalive timeout (HQ_KEEPALIVE_TIMEOUT_MS, the
 * setting the server it started inherits; default 60 s): 20 s, as the web
 * client pings. */
static guint
ping_interval_ms (void)
{
  const gchar *v = g_getenv ("HQ_KEEPALIVE_TIMEOUT_MS");
  guint64 timeout = v && *v ? g_ascii_strtoull (v, NULL, 10) : 0;

  return timeout >= 3 ? (guint)MIN (timeout / 3, 20000) : 20000;
}

static void
on_ws_connected (GObject *src, GAsyncResult *res, gpointer data)
{
  HqSfuClient *c = data;
  g_autoptr (GError) error = NULL;
  HqTokenGrant grant = {
    .identity = c->identity, .room = c->room, .ttl = 3600
  };
  g_autofree gchar *token = NULL;
  JsonObject *m;

  c->ws =
      soup_session_websocket_connect_finish (SOUP_SESSION (src), res, &error);
  if (c->ws == NULL)
    g_error ("WebSocket: %s", error->message);
  soup_websocket_connection_set_max_incoming_payload_size (c->ws, 1 << 20);
  g_signal_connect (c->ws, "message", G_CALLBACK (on_ws_message), c);
  g_signal_connect (c->ws, "closed", G_CALLBACK (on_ws_closed), c);
  token = hq_token_mint (c->server->key_sid, c->server->key_secret,
      c->server->account_sid, &grant, 0, &error);
  g_assert_no_error (error);
  m = hq_protocol_message_new (
      HQ_MESSAGE_JOIN, hq_protocol_message_name (HQ_MESSAGE_JOIN));
  json_object_set_string_member (m, "token", token);
  hq_sfu_client_send_message (c, m);
  c->ping_timer = g_timeout_add (ping_interval_ms (), ping_cb, c);
}

HqSfuClient *
hq_sfu_client_new (HqTestServer *server, const gchar *room, const gchar *prefix,
    guint index, gboolean consent)
{
  HqSfuClient *c = g_new0 (HqSfuClient, 1);
  g_autofree gchar *ws_url =
      g_strdup_printf ("ws%s/v1/signal", server->url + 4);
  g_autoptr (SoupMessage) msg = soup_message_new ("GET", ws_url);

  c->server = server;
  c->index = index;
  c->room = g_strdup (room);
  c->identity = g_strdup_printf ("%s-%u", prefix, index);
  c->audio_ssrc = 0x10000000 + index * 2;
  c->video_ssrc = 0x10000001 + index * 2;
  for (guint i = 0; i < 3; i++) {
    c->layer_ssrc[i] = 0x20000000 + index * 4 + i;
    c->layer_ts_base[i] = g_random_int ();
  }
  c->kept = g_malloc0 (HQ_SFU_CLIENT_KEEP * sizeof *c->kept);
  c->kept_len = g_new0 (gsize, HQ_SFU_CLIENT_KEEP);
  c->consent = consent;
  soup_session_websocket_connect_async (server->http, msg, NULL, NULL,
      G_PRIORITY_DEFAULT, NULL, on_ws_connected, c);
  return c;
}

void
hq_sfu_client_free (HqSfuClient *c)
{
  if (c->ping_timer)
    g_source_remove (c->ping_timer);
  if (c->ws) {
    g_signal_handlers_disconnect_by_data (c->ws, c);
    if (soup_websocket_connection_get_state (c->ws)
        == SOUP_WEBSOCKET_STATE_OPEN)
      soup_websocket_connection_close (c->ws, HQ_CLOSE_NORMAL, NULL);
    g_object_unref (c->ws);
  }
  g_clear_object (&c->pub);
  g_clear_object (&c->sub);
  g_free (c->identity);
  g_free (c->room);
  g_free (c->audio_sid);
  g_free (c->video_sid);
  g_free (c->kept);
  g_free (c->kept_len);
  g_free (c);
}

gboolean
hq_sfu_client_ready (HqSfuClient *c, guint mlines)
{
  return c->published && c->sub
      && hq_transport_get_state (c->pub) == HQ_TRANSPORT_STATE_CONNECTED
      && hq_transport_get_state (c->sub) == HQ_TRANSPORT_STATE_CONNECTED
      && c->sub_mlines >= mlines;
}

/* The fixed RTP header, version 2, no extensions. */
static void
write_header (guint8 *d, guint8 pt, guint16 seq, guint32 ts, guint32 ssrc)
{
  d[0] = 0x80;
  d[1] = pt;
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
}

guint16
hq_sfu_client_send (HqSfuClient *c, gboolean video, gsize payload_len,
    gboolean drop, gboolean *sent)
{
  guint8 *d = c->buf;
  gint64 now = g_get_monotonic_time ();
  guint16 seq = video ? c->vseq++ : c->aseq++;
  guint32 ts = (guint32)(now * (video ? 90 : 48) / 1000);
  guint32 ssrc = video ? c->video_ssrc : c->audio_ssrc;
  gsize ext = c->twcc_id ? 8 : 0;
  gsize len = 12 + ext + MAX (payload_len, 10);
  gboolean ok = FALSE;

  write_header (d, (guint8)(video ? c->video_pt : c->audio_pt), seq, ts, ssrc);
  if (ext) {
    d[0] |= 0x10;
    hq_rtp_write_twcc_ext_block (d + 12, (guint8)c->twcc_id, c->twcc_seq++);
  }
  d += ext;
  /* A VP8 descriptor that starts a keyframe, so no subscriber waits. */
  d[12] = 0x10;
  d[13] = 0x00;
  memcpy (d + 14, &now, sizeof now);
  memset (d + 22, 0xab, len - ext - 22);
  d = c->buf;
  if (video) {
    memcpy (c->kept[seq % HQ_SFU_CLIENT_KEEP], d, len);
    c->kept_len[seq % HQ_SFU_CLIENT_KEEP] = len;
  }
  if (!drop && c->pub)
    ok = hq_transport_send_rtp (c->pub, d, len, sizeof c->buf, NULL);
  if (sent)
    *sent = ok;
  return seq;
}

guint32
hq_sfu_client_layer_ts (HqSfuClient *c, guint layer, gint64 capture_us)
{
  return (guint32)(capture_us * 90 / 1000) + c->layer_ts_base[layer];
}

static const gchar layer_rids[] = "qhf";

/* A layer packet's header, its one word of extensions (MID "1" and the
 * RID or repaired RID, one byte each, as Chromium sends them) and payload
 * into @d; returns where the payload starts. */
static guint8 *
write_layer_head (HqSfuClient *c, guint8 *d, guint8 pt, guint16 seq, guint32 ts,
    guint32 ssrc, guint rid_id, guint layer)
{
  write_header (d, pt, seq, ts, ssrc);
  d[0] |= 0x10; /* X: RFC 8285 one-byte extensions follow */
  d[12] = 0xbe;
  d[13] = 0xde;
  d[14] = 0x00;
  d[15] = 0x01;
  d[16] = (guint8)(c->mid_ext_id << 4);
  d[17] = '1';
  d[18] = (guint8)(rid_id << 4);
  d[19] = (guint8)layer_rids[layer];
  return d + 20;
}

/* A layer packet's payload: VP8 descriptor (S when the frame starts,
 * partition 0), the frame tag (bit 0 clear: keyframe) and a keyframe's
 * start code and size (RFC 6386 9.1), the layer mark, the send time and
 * the publisher's index. */
static void
write_layer_payload (HqSfuClient *c, guint8 *p, guint layer, gsize len,
    gboolean frame_start, gboolean keyframe)
{
  guint w = 320u << layer, h = 180u << layer;
  gint64 now = g_get_monotonic_time ();

  memset (p, 0xcd, len);
  p[0] = frame_start ? 0x10 : 0x00;
  p[1] = keyframe ? 0x00 : 0x01;
  p[2] = 0x00;
  p[3] = 0x00;
  if (keyframe && frame_start) {
    p[4] = 0x9d;
    p[5] = 0x01;
    p[6] = 0x2a;
    p[7] = w & 0xff;
    p[8] = w >> 8;
    p[9] = h & 0xff;
    p[10] = h >> 8;
  }
  memcpy (p + HQ_SFU_CLIENT_LAYER_MARK, "SIM", 3);
  p[HQ_SFU_CLIENT_LAYER_MARK + 3] = (guint8)layer;
  memcpy (p + HQ_SFU_CLIENT_LAYER_SENT, &now, sizeof now);
  p[HQ_SFU_CLIENT_LAYER_FROM] = (guint8)(c->index >> 8);
  p[HQ_SFU_CLIENT_LAYER_FROM + 1] = (guint8)c->index;
}

guint16
hq_sfu_client_send_layer (HqSfuClient *c, guint layer, gint64 capture_us,
    gsize payload_len, gboolean frame_start, gboolean keyframe, gboolean drop)
{
  guint16 seq = c->layer_seq[layer]++;
  guint8 *p;

  payload_len = CLAMP (payload_len, HQ_SFU_CLIENT_LAYER_MIN, 1200);
  p = write_layer_head (c, c->buf, (guint8)c->video_pt, seq,
      hq_sfu_client_layer_ts (c, layer, capture_us), c->layer_ssrc[layer],
      c->rid_ext_id, layer);
  write_layer_payload (c, p, layer, payload_len, frame_start, keyframe);
  if (c->pub && !drop)
    hq_transport_send_rtp (
        c->pub, c->buf, 20 + payload_len, sizeof c->buf, NULL);
  return seq;
}

gboolean
hq_sfu_client_send_layer_rtx (HqSfuClient *c, guint layer, gint64 capture_us,
    gsize payload_len, gboolean frame_start, gboolean keyframe, guint16 seq)
{
  guint8 *p;

  if (c->pub == NULL || c->video_rtx_pt < 0 || c->rrid_ext_id == 0)
    return FALSE;
  payload_len = CLAMP (payload_len, HQ_SFU_CLIENT_LAYER_MIN, 1200);
  p = write_layer_head (c, c->buf, (guint8)c->video_rtx_pt, c->rtx_seq++,
      hq_sfu_client_layer_ts (c, layer, capture_us),
      c->layer_ssrc[layer] + 0x100, c->rrid_ext_id, layer);
  p[0] = seq >> 8; /* RFC 4588: the original sequence number first */
  p[1] = seq & 0xff;
  write_layer_payload (c, p + 2, layer, payload_len, frame_start, keyframe);
  return hq_transport_send_rtp (
      c->pub, c->buf, 22 + payload_len, sizeof c->buf, NULL);
}

gboolean
hq_sfu_client_resend_video (HqSfuClient *c, guint16 seq)
{
  gsize len = c->kept_len[seq % HQ_SFU_CLIENT_KEEP];

  const guint8 *k = c->kept[seq % HQ_SFU_CLIENT_KEEP];

  if (len == 0 || (guint16)(k[2] << 8 | k[3]) != seq)
    return FALSE;
  memcpy (c->buf, c->kept[seq % HQ_SFU_CLIENT_KEEP], len);
  return hq_transport_send_rtp (c->pub, c->buf, len, sizeof c->buf, NULL);
}

gboolean
hq_sfu_client_send_rtcp (
    HqSfuClient *c, gboolean publish, const guint8 *data, gsize len)
{
  HqTransport *t = publish ? c->pub : c->sub;
  guint8 buf[1500 + HQ_SRTP_MAX_TRAILER];

  if (t == NULL || len > 1500)
    return FALSE;
  memcpy (buf, data, len);
  return hq_transport_send_rtcp (t, buf, len, sizeof buf, NULL);
}

JsonObject *
hq_sfu_client_quality_stats (
    JsonObject *msg, const gchar *identity, const gchar *dir, const gchar *kind)
{
  JsonArray *ps =
      msg ? json_object_get_array_member (msg, "participants") : NULL;

  for (guint i = 0; ps && i < json_array_get_length (ps); i++) {
    JsonObject *p = json_array_get_object_element (ps, i);
    JsonObject *stats, *d;
    if (!g_str_equal (json_object_get_string_member (p, "identity"), identity)
        || !json_object_has_member (p, "stats"))
      continue;
    stats = json_object_get_object_member (p, "stats");
    d = json_object_has_member (stats, dir)
        ? json_object_get_object_member (stats, dir)
        : NULL;
    return d && json_object_has_member (d, kind)
        ? json_object_get_object_member (d, kind)
        : NULL;
  }
  return NULL;
}

guint
hq_sfu_client_read_feedback (const guint8 *data, gsize len, guint32 media_ssrc,
    guint64 *remb_bps, GArray *nacked)
{
  g_autoptr (GArray) lost = g_array_new (FALSE, FALSE, sizeof (guint16));
  HqRtcpIter iter;
  HqRtcpPacket pkt;
  guint n_remb = 0;

  if (!hq_rtcp_iter_init (&iter, data, len, NULL))
    return 0;
  while (hq_rtcp_iter_next (&iter, &pkt)) {
    HqRtcpFb fb;
    HqRtcpRemb remb;

    if (pkt.type == HQ_RTCP_PSFB && pkt.count == HQ_RTCP_PSFB_AFB
        && hq_rtcp_parse_remb (&pkt, &fb, &remb, NULL)) {
      *remb_bps = remb.bitrate;
      n_remb++;
    } else if (pkt.type == HQ_RTCP_RTPFB && pkt.count == HQ_RTCP_RTPFB_NACK
        && hq_rtcp_parse_nack (&pkt, &fb, lost, NULL)) {
      if (nacked && fb.media_ssrc == media_ssrc)
        g_array_append_vals (nacked, lost->data, lost->len);
      g_array_set_size (lost, 0);
    }
  }
  return n_remb;
}

guint16
hq_sfu_client_send_audio_level (HqSfuClient *c, gsize payload_len, guint level)
{
  guint8 *d = c->buf;
  gint64 now = g_get_monotonic_time ();
  guint16 seq = c->aseq++;
  gsize head = 12 + 8, len = head + MAX (payload_len, 10);

  /* One-byte header extensions (RFC 8285): the level and two bytes of
   * padding. */
  memset (d, 0, head);
  d[0] = 0x90;
  hq_rtp_set_payload_type (d, (guint8)c->audio_pt);
  hq_rtp_set_seq (d, seq);
  hq_rtp_set_timestamp (d, (guint32)(now * 48 / 1000));
  hq_rtp_set_ssrc (d, c->audio_ssrc);
  d[12] = 0xbe;
  d[13] = 0xde;
  d[15] = 1;
  d[16] = (guint8)(hq_sdp_offer_extmap_id (HQ_SDP_EXT_AUDIO_LEVEL) << 4);
  d[17] = (guint8)(MIN (level, 127) | (level < 127 ? 0x80 : 0));
  /* The payload as hq_sfu_client_send() makes it: the send time two bytes
   * in; then the sender's index. */
  d[head] = 0x10;
  d[head + 1] = 0x00;
  memcpy (d + head + 2, &now, sizeof now);
  memset (d + head + 10, 0xab, len - head - 10);
  if (len - head >= 12) {
    d[head + 10] = (guint8)(c->index >> 8);
    d[head + 11] = (guint8)c->index;
  }
  if (c->pub)
    hq_transport_send_rtp (c->pub, d, len, sizeof c->buf, NULL);
  return seq;
}

guint
hq_sfu_client_read_layer_plis (
    HqSfuClient *c, const guint8 *data, gsize len, gboolean wanted[3])
{
  HqRtcpIter iter;
  HqRtcpPacket pkt;
  guint n = 0;

  if (!hq_rtcp_iter_init (&iter, data, len, NULL))
    return 0;
  while (hq_rtcp_iter_next (&iter, &pkt)) {
    HqRtcpFb fb;

    if (pkt.type != HQ_RTCP_PSFB || pkt.count != HQ_RTCP_PSFB_PLI
        || !hq_rtcp_parse_pli (&pkt, &fb, NULL))
      continue;
    for (guint i = 0; i < 3; i++) {
      if (fb.media_ssrc == c->layer_ssrc[i]) {
        wanted[i] = TRUE;
        n++;
      }
    }
  }
  return n;
}

gboolean
hq_sfu_client_send_layer_sr (HqSfuClient *c, guint layer, gint64 capture_us)
{
  HqRtcpSenderInfo info = { .ssrc = c->layer_ssrc[layer],
    .ntp = hq_rtcp_ntp_from_unix_us (g_get_real_time ()),
    .rtp_timestamp = hq_sfu_client_layer_ts (c, layer, capture_us) };
  guint8 buf[64];
  HqRtcpWriter w;

  hq_rtcp_writer_init (&w, buf, sizeof buf);
  if (!hq_rtcp_write_sr (&w, &info, NULL, 0, NULL))
    return FALSE;
  return hq_sfu_client_send_rtcp (c, TRUE, buf, w.len);
}

gboolean
hq_sfu_client_read_publish_layers (JsonObject *msg, gboolean active[3])
{
  static const gchar *const rids[] = { "q", "h", "f" };
  JsonArray *layers = json_object_get_array_member (msg, "layers");

  if (layers == NULL || json_array_get_length (layers) != 3)
    return FALSE;
  for (guint i = 0; i < 3; i++) {
    JsonObject *l = json_array_get_object_element (layers, i);
    if (l == NULL
        || g_strcmp0 (json_object_get_string_member_with_default (l, "rid", ""),
               rids[i])
            != 0)
      return FALSE;
  }
  for (guint i = 0; i < 3; i++)
    active[i] = json_object_get_boolean_member (
        json_array_get_object_element (layers, i), "active");
  return TRUE;
}
