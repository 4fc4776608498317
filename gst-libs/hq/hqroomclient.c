/* HqRoomClient: the room protocol (docs/protocol.md) as a participant
 * speaks it, over libsoup's WebSocket client, with the publish and
 * subscribe HqTransports.  See hqroomclient.h for the life of a client.
 *
 * How it works: one WebSocket at a time.  Its "closed" signal (or a failed
 * connect) schedules the next attempt with exponential backoff (250 ms to
 * 4 s) until reconnect-timeout has passed since the connection was lost.
 * Each connection sends "join" with the resume token of the last one; the
 * reply's participant sid says whether the server resumed us (transports
 * and tracks live on, nothing to do) or made a new participant (server
 * restarted, or the grace period ran out): then both transports are
 * dropped, our tracks are published again and a new publish offer is
 * sent; the server sends a new subscribe offer by itself.  Our subscribe
 * rules travel in every join, so even the first offer of a rejoin carries
 * only what they select; after a resume the server sends again an offer
 * we may have missed, which is answered like any other.
 *
 * Packets to send come from other threads (GStreamer streaming threads):
 * they are copied into a queue that an idle source on the client's context
 * drains, since a transport may only be used on its own context.
 */
#include "hqroomclient-private.h"

#include <string.h>
#include <libsoup/soup.h>
#include <hq/hqprotocol.h>
#include <hq/hqrtcp.h>
#include <hq/hqtransport.h>
#include "hqdebug.h"
#include "hqtlsfailure.h"

#define GST_CAT_DEFAULT hq_room_client_debug
#include <hq/hqutil.h>

#define RECONNECT_MIN_MS 250
#define RECONNECT_MAX_MS 4000
#define PING_INTERVAL_S 20

G_DEFINE_QUARK (hq - room - client - error - quark, hq_room_client_error)

G_DEFINE_TYPE (HqRoomClient, hq_room_client, G_TYPE_OBJECT)

guint hq_room_client_signals[N_SIGNALS];

static void connect_now (HqRoomClient *c);

/* --- small helpers --- */

void
hq_room_client_config_init (HqRoomClientConfig *config)
{
  memset (config, 0, sizeof *config);
  config->subscribe = TRUE;
  config->reconnect_timeout_ms = 30000;
  config->ice_udp = TRUE;
  config->ice_tcp = TRUE;
}

void
hq_room_remote_track_free (HqRoomRemoteTrack *t)
{
  if (t == NULL)
    return;
  g_free (t->mid);
  g_free (t->track_sid);
  g_free (t->name);
  g_free (t->participant_sid);
  g_free (t->identity);
  g_clear_pointer (&t->codecs, g_ptr_array_unref);
  g_free (t->priority);
  g_free (t);
}

void
hq_room_client_local_track_free (LocalTrack *t)
{
  g_free (t->name);
  g_free (t->codec);
  g_free (t->priority);
  g_free (t->server_priority);
  g_free (t->sid);
  g_free (t->mid);
  g_strfreev (t->rids);
  g_free (t->layer_ssrcs);
  g_free (t);
}

gint
hq_room_client_payload_type (HqSdpKind kind, const gchar *codec_name)
{
  g_autoptr (GPtrArray) codecs = hq_sdp_default_codecs (kind);

  for (guint i = 0; i < codecs->len; i++) {
    const HqSdpCodec *codec = g_ptr_array_index (codecs, i);
    if (g_ascii_strcasecmp (codec->name, codec_name) == 0)
      return (gint)codec->pt;
  }
  return -1;
}

/* What the server sends, read with the protocol's typed readers: a
 * member that is absent or of another type is NULL. */
const gchar *
hq_room_client_str_member (JsonObject *o, const gchar *name)
{
  const gchar *s = NULL;

  if (o)
    hq_protocol_read_optional_string (o, name, &s, NULL);
  return s;
}

JsonObject *
hq_room_client_obj_member (JsonObject *o, const gchar *name)
{
  JsonObject *v = NULL;

  if (o)
    hq_protocol_read_object (o, name, &v, NULL);
  return v;
}

JsonArray *
hq_room_client_array_member (JsonObject *o, const gchar *name)
{
  JsonArray *v = NULL;

  if (o)
    hq_protocol_read_array (o, name, &v, NULL);
  return v;
}

void
hq_room_client_ws_send (HqRoomClient *c, JsonObject *msg)
{
  g_autoptr (JsonNode) node = json_node_new (JSON_NODE_OBJECT);
  g_autofree gchar *text = NULL;

  if (c->ws == NULL
      || soup_websocket_connection_get_state (c->ws)
          != SOUP_WEBSOCKET_STATE_OPEN)
    return;
  json_node_set_object (node, msg);
  text = json_to_string (node, FALSE);
  soup_websocket_connection_send_text (c->ws, text);
}

/* Gives up for good: stops reconnecting and tells the owner once. */
void
hq_room_client_fail (HqRoomClient *c, gint code, const gchar *format, ...)
{
  g_autoptr (GError) error = NULL;
  va_list args;

  if (c->failed)
    return;
  c->failed = TRUE;
  c->running = FALSE;
  va_start (args, format);
  error = g_error_new_valist (HQ_ROOM_CLIENT_ERROR, code, format, args);
  va_end (args);
  GST_ERROR ("%s: giving up: %s", c->ws_url, error->message);
  if (c->retry) {
    g_source_destroy (c->retry);
    g_clear_pointer (&c->retry, g_source_unref);
  }
  g_signal_emit (c, hq_room_client_signals[SIGNAL_ERROR], 0, error);
}

static GSource *
add_timeout (HqRoomClient *c, guint ms, GSourceFunc func)
{
  GSource *s = g_timeout_source_new (ms);

  g_source_set_callback (s, func, c, NULL);
  g_source_attach (s, c->context);
  return s;
}

/* --- joining --- */

static void
on_joined (HqRoomClient *c, JsonObject *msg)
{
  JsonObject *me = hq_room_client_obj_member (msg, "participant");
  const gchar *sid = hq_room_client_str_member (me, "sid");
  gboolean resumed =
      c->participant_sid && g_strcmp0 (sid, c->participant_sid) == 0;
  JsonArray *mine = hq_room_client_array_member (me, "tracks");

  c->joined = TRUE;
  GST_INFO ("%s: joined as participant %s (identity %s)%s", c->ws_url,
      sid ? sid : "?",
      hq_room_client_str_member (me, "identity")
          ? hq_room_client_str_member (me, "identity")
          : "?",
      resumed ? ", the session resumed" : "");
  if (c->rules_unsaid && c->subscribe_rules)
    hq_room_client_send_subscribe_rules (c);
  c->lost_at = 0;
  c->backoff_ms = RECONNECT_MIN_MS;
  g_free (c->participant_sid);
  c->participant_sid = g_strdup (sid);
  g_free (c->identity);
  c->identity = g_strdup (hq_room_client_str_member (me, "identity"));
  g_free (c->resume_token);
  c->resume_token = g_strdup (hq_room_client_str_member (msg, "resume_token"));
  /* Fresh TURN credentials with every join; transports made from now on
   * use them. */
  g_clear_pointer (&c->ice_servers, g_ptr_array_unref);
  c->ice_servers = hq_ice_servers_from_json (
      hq_room_client_array_member (msg, "ice_servers"));
  GST_DEBUG ("%s: %u ICE server URLs in the join reply", c->ws_url,
      c->ice_servers->len);
  if (!resumed) {
    hq_room_client_drop_media (c);
    /* Tracks the server still lists for us keep their sids. */
    for (guint i = 0; mine && i < json_array_get_length (mine); i++) {
      JsonObject *t = json_array_get_object_element (mine, i);
      for (guint j = 0; t && j < c->local->len; j++) {
        LocalTrack *lt = g_ptr_array_index (c->local, j);
        if (g_strcmp0 (hq_room_client_str_member (t, "name"), lt->name) == 0) {
          g_free (lt->sid);
          lt->sid = g_strdup (hq_room_client_str_member (t, "sid"));
          g_free (lt->server_priority);
          lt->server_priority =
              g_strdup (hq_room_client_str_member (t, "priority"));
        }
      }
    }
  }
  g_signal_emit (c, hq_room_client_signals[SIGNAL_JOINED], 0, msg, resumed);
  g_signal_emit (c, hq_room_client_signals[SIGNAL_CONNECTION_CHANGED], 0, TRUE);
  for (guint i = 0; i < c->local->len; i++)
    hq_room_client_sync_priority (c, g_ptr_array_index (c->local, i));
  if (!resumed)
    hq_room_client_publish_tracks (c);
}

static void
on_join_refused (HqRoomClient *c, JsonObject *msg)
{
  const gchar *code = hq_room_client_str_member (msg, "code");
  const gchar *text = "";
  HqProtocolError error = HQ_PROTOCOL_ERROR_BAD_MESSAGE;
  gint kind = HQ_ROOM_CLIENT_ERROR_REFUSED;

  hq_protocol_read_error (msg, &error, &text);
  switch (error) {
    case HQ_PROTOCOL_ERROR_INVALID_TOKEN:
    case HQ_PROTOCOL_ERROR_ROOM_NOT_GRANTED:
    case HQ_PROTOCOL_ERROR_BANNED:
      kind = HQ_ROOM_CLIENT_ERROR_TOKEN;
      break;
    case HQ_PROTOCOL_ERROR_ROOM_NOT_FOUND:
    case HQ_PROTOCOL_ERROR_ROOM_COMPLETED:
      kind = HQ_ROOM_CLIENT_ERROR_ROOM_NOT_FOUND;
      break;
    case HQ_PROTOCOL_ERROR_ROOM_FULL:
      kind = HQ_ROOM_CLIENT_ERROR_ROOM_FULL;
      break;
    default:
      break;
  }
  hq_room_client_fail (c, kind,
      "the server refused to join room \"%s\": %s: %s",
      c->room ? c->room : "(from token)", code ? code : "(no code)", text);
}

/* The server's side of our publish transport.  It failed first: only the
 * offerer can restart ICE, so we do.  Connected again: when our side never
 * left CONNECTED (a restart does not leave it), this is how we learn
 * media flows again. */
static void
on_server_publish_state (HqRoomClient *c, const gchar *state, JsonObject *msg)
{
  HqTransportState server;

  if (!hq_protocol_transport_state_from_name (state, &server))
    return;
  if (server == HQ_TRANSPORT_STATE_FAILED)
    hq_room_client_media_lost (c, HQ_ROOM_TRANSPORT_PUBLISH,
        hq_room_client_str_member (msg, "message")
            ? hq_room_client_str_member (msg, "message")
            : "the server's side failed");
  else if (server == HQ_TRANSPORT_STATE_CONNECTED && c->pub
      && hq_transport_get_state (c->pub) == HQ_TRANSPORT_STATE_CONNECTED)
    hq_room_client_media_connected (c, HQ_ROOM_TRANSPORT_PUBLISH);
}

static void
on_ws_message (
    SoupWebsocketConnection *ws, gint type, GBytes *bytes, HqRoomClient *c)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  JsonObject *msg;
  const gchar *t, *id;
  HqMessageType type_of;

  if (type != SOUP_WEBSOCKET_DATA_TEXT
      || !hq_protocol_depth_ok (g_bytes_get_data (bytes, NULL),
          g_bytes_get_size (bytes), HQ_PROTOCOL_MAX_DEPTH)
      || !json_parser_load_from_data (parser, g_bytes_get_data (bytes, NULL),
          (gssize)g_bytes_get_size (bytes), NULL)
      || !JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
    return;
  msg = json_node_get_object (json_parser_get_root (parser));
  t = hq_room_client_str_member (msg, "type");
  id = hq_room_client_str_member (msg, "id");
  if (t == NULL)
    return;
  type_of = hq_protocol_message_type (t);
  g_object_ref (c);
  switch (type_of) {
    case HQ_MESSAGE_JOINED:
      on_joined (c, msg);
      break;
    case HQ_MESSAGE_ERROR:
      /* A request's id is its type's name (HQ_ROOM_CLIENT_PUBLISH_ID for
       * the publish offer). */
      if (hq_protocol_message_type (id) == HQ_MESSAGE_JOIN)
        on_join_refused (c, msg);
      else if (g_strcmp0 (id, HQ_ROOM_CLIENT_PUBLISH_ID) == 0)
        hq_room_client_fail (c, HQ_ROOM_CLIENT_ERROR_MEDIA,
            "the server refused to publish: %s: %s",
            hq_room_client_str_member (msg, "code"),
            hq_room_client_str_member (msg, "message"));
      break;
    case HQ_MESSAGE_DENIED:
      hq_room_client_fail (c, HQ_ROOM_CLIENT_ERROR_REFUSED,
          "a host denied entry: %s",
          hq_room_client_str_member (msg, "message"));
      break;
    case HQ_MESSAGE_TRACK_PUBLISHED:
      if (id && g_str_has_prefix (id, "track:"))
        hq_room_client_on_track_published (c, id, msg);
      break;
    case HQ_MESSAGE_PUBLISH_ANSWER:
      hq_room_client_on_publish_answer (c, msg);
      break;
    case HQ_MESSAGE_SUBSCRIBE_OFFER:
      hq_room_client_on_subscribe_offer (c, msg);
      break;
    case HQ_MESSAGE_TRACK_PRIORITY_CHANGED:
      if (id == NULL)
        hq_room_client_on_priority_changed (c, msg);
      break;
    case HQ_MESSAGE_CANDIDATE:
    case HQ_MESSAGE_END_OF_CANDIDATES:
      hq_room_client_on_candidate (c, type_of, msg);
      break;
    case HQ_MESSAGE_TRANSPORT_STATE:
      if (g_strcmp0 (hq_room_client_str_member (msg, "transport"), "publish")
          == 0)
        on_server_publish_state (
            c, hq_room_client_str_member (msg, "state"), msg);
      break;
    default:
      break;
  }
  if (!c->failed)
    g_signal_emit (c, hq_room_client_signals[SIGNAL_MESSAGE], 0, t, msg);
  g_object_unref (c);
}

static gboolean
retry_cb (gpointer data)
{
  HqRoomClient *c = data;

  g_clear_pointer (&c->retry, g_source_unref);
  connect_now (c);
  return G_SOURCE_REMOVE;
}

/* The server is gone (or never answered): try again later, or give up. */
static void
schedule_reconnect (HqRoomClient *c, const gchar *why)
{
  gint64 now = g_get_monotonic_time ();

  if (!c->running || c->retry)
    return;
  GST_WARNING ("%s: no connection to the server: %s", c->ws_url, why);
  if (c->lost_at == 0) {
    c->lost_at = now;
    g_signal_emit (
        c, hq_room_client_signals[SIGNAL_CONNECTION_CHANGED], 0, FALSE);
  }
  if (now - c->lost_at >= (gint64)c->reconnect_timeout_ms * 1000) {
    hq_room_client_fail (c, HQ_ROOM_CLIENT_ERROR_TIMEOUT,
        "lost the server at %s and could not reconnect within %u ms: %s",
        c->ws_url, c->reconnect_timeout_ms, why);
    return;
  }
  GST_INFO ("%s: reconnecting in %u ms (%.1f s of %.1f s to reconnect "
            "used)",
      c->ws_url, c->backoff_ms, (now - c->lost_at) / 1e6,
      c->reconnect_timeout_ms / 1e3);
  c->retry = add_timeout (c, c->backoff_ms, retry_cb);
  c->backoff_ms = MIN (c->backoff_ms * 2, RECONNECT_MAX_MS);
}

static void
on_ws_closed (SoupWebsocketConnection *ws, HqRoomClient *c)
{
  gushort code = soup_websocket_connection_get_close_code (ws);
  g_autofree gchar *why = g_strdup_printf ("connection closed (%u)", code);

  g_signal_handlers_disconnect_by_data (ws, c);
  if (ws == c->ws)
    g_clear_object (&c->ws);
  GST_INFO ("%s: signalling connection closed (%u %s)", c->ws_url, code,
      soup_websocket_connection_get_close_data (ws)
          ? soup_websocket_connection_get_close_data (ws)
          : "");
  c->joined = FALSE;
  switch (code) {
    case HQ_CLOSE_REMOVED:
    case HQ_CLOSE_REPLACED:
    case HQ_CLOSE_DENIED:
      hq_room_client_fail (c, HQ_ROOM_CLIENT_ERROR_REFUSED, "%s (%u)",
          hq_protocol_close_text (code), code);
      return;
    case HQ_CLOSE_ROOM_COMPLETED:
      hq_room_client_fail (c, HQ_ROOM_CLIENT_ERROR_ROOM_NOT_FOUND, "%s (%u)",
          hq_protocol_close_text (code), code);
      return;
    default:
      break;
  }
  schedule_reconnect (c, why);
}

static void
on_ws_connected (GObject *src, GAsyncResult *res, gpointer data)
{
  HqRoomClient *c = data;
  g_autoptr (GError) error = NULL;
  SoupWebsocketConnection *ws =
      soup_session_websocket_connect_finish (SOUP_SESSION (src), res, &error);
  JsonObject *m;

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED)) {
    g_object_unref (c);
    return;
  }
  g_clear_object (&c->connecting);
  if (ws == NULL
      && g_error_matches (error, G_TLS_ERROR, G_TLS_ERROR_BAD_CERTIFICATE)) {
    /* Retrying cannot help: a person has to fix a certificate or a CA. */
    g_autofree gchar *why = hq_tls_failure_describe (
        c->tls_refused, c->tls_refused_errors, c->ws_url, c->tls_ca_file);
    hq_room_client_fail (c, HQ_ROOM_CLIENT_ERROR_TLS, "%s", why);
    g_object_unref (c);
    return;
  }
  if (ws == NULL) {
    schedule_reconnect (c, error->message);
    g_object_unref (c);
    return;
  }
  GST_INFO ("%s: signalling connected; joining", c->ws_url);
  c->ws = ws;
  soup_websocket_connection_set_max_incoming_payload_size (ws, 1 << 20);
  soup_websocket_connection_set_keepalive_interval (ws, 0);
  g_signal_connect (ws, "message", G_CALLBACK (on_ws_message), c);
  g_signal_connect (ws, "closed", G_CALLBACK (on_ws_closed), c);
  m = hq_protocol_message_new (
      HQ_MESSAGE_JOIN, hq_protocol_message_name (HQ_MESSAGE_JOIN));
  json_object_set_string_member (m, "token", c->token);
  if (c->room)
    json_object_set_string_member (m, "room", c->room);
  if (c->resume_token)
    json_object_set_string_member (m, "resume_token", c->resume_token);
  if (c->subscribe_rules)
    json_object_set_member (
        m, "subscribe_rules", json_from_string (c->subscribe_rules, NULL));
  c->rules_unsaid = FALSE;
  hq_room_client_add_bandwidth_profile (c, m);
  hq_room_client_ws_send (c, m);
  json_object_unref (m);
  g_object_unref (c);
}

/* libsoup asks only about a certificate its checks refused: note why,
 * for the error, and refuse it. */
static gboolean
on_accept_certificate (SoupMessage *msg, GTlsCertificate *cert,
    GTlsCertificateFlags errors, HqRoomClient *c)
{
  if (c->tls_pinned) {
    g_autoptr (GTlsCertificate) pinned =
        g_tls_certificate_new_from_file (c->tls_pinned, NULL);
    if (pinned && g_tls_certificate_is_same (pinned, cert))
      return TRUE;
  }
  g_set_object (&c->tls_refused, cert);
  c->tls_refused_errors = errors;
  return FALSE;
}

static void
connect_now (HqRoomClient *c)
{
  g_autoptr (SoupMessage) msg = NULL;

  if (!c->running || c->ws || c->connecting)
    return;
  GST_INFO ("%s: connecting", c->ws_url);
  msg = soup_message_new ("GET", c->ws_url);
  g_signal_connect_object (
      msg, "accept-certificate", G_CALLBACK (on_accept_certificate), c, 0);
  c->connecting = g_cancellable_new ();
  soup_session_websocket_connect_async (c->session, msg, NULL, NULL,
      G_PRIORITY_DEFAULT, c->connecting, on_ws_connected, g_object_ref (c));
}

static gboolean
ping_cb (gpointer data)
{
  HqRoomClient *c = data;
  JsonObject *m = hq_protocol_message_new (HQ_MESSAGE_PING, NULL);

  hq_room_client_ws_send (c, m);
  json_object_unref (m);
  return G_SOURCE_CONTINUE;
}

void
hq_room_client_start (HqRoomClient *c)
{
  if (c->running || c->failed)
    return;
  c->running = TRUE;
  c->backoff_ms = RECONNECT_MIN_MS;
  c->lost_at = g_get_monotonic_time ();
  if (c->ping == NULL) {
    c->ping = g_timeout_source_new_seconds (PING_INTERVAL_S);
    g_source_set_callback (c->ping, ping_cb, c, NULL);
    g_source_attach (c->ping, c->context);
  }
  connect_now (c);
}

void
hq_room_client_stop (HqRoomClient *c)
{
  c->running = FALSE;
  if (c->connecting)
    g_cancellable_cancel (c->connecting);
  g_clear_object (&c->connecting);
  if (c->retry) {
    g_source_destroy (c->retry);
    g_clear_pointer (&c->retry, g_source_unref);
  }
  if (c->ping) {
    g_source_destroy (c->ping);
    g_clear_pointer (&c->ping, g_source_unref);
  }
  if (c->ws) {
    g_signal_handlers_disconnect_by_data (c->ws, c);
    if (c->joined) {
      JsonObject *m = hq_protocol_message_new (HQ_MESSAGE_LEAVE, NULL);
      hq_room_client_ws_send (c, m);
      json_object_unref (m);
    }
    if (soup_websocket_connection_get_state (c->ws)
        == SOUP_WEBSOCKET_STATE_OPEN)
      soup_websocket_connection_close (c->ws, HQ_CLOSE_NORMAL, NULL);
    g_clear_object (&c->ws);
  }
  c->joined = FALSE;
  hq_room_client_drop_media (c);
}

/* --- object --- */

const gchar *
hq_room_client_get_participant_sid (HqRoomClient *c)
{
  return c->joined ? c->participant_sid : NULL;
}

const gchar *
hq_room_client_get_identity (HqRoomClient *c)
{
  return c->joined ? c->identity : NULL;
}

void
hq_room_client_set_receive_func (HqRoomClient *c, HqRoomReceiveFunc func,
    gpointer user_data, GDestroyNotify notify)
{
  if (c->recv_notify)
    c->recv_notify (c->recv_data);
  c->recv_func = func;
  c->recv_data = user_data;
  c->recv_notify = notify;
}

/* "http://h:p/x" -> "ws://h:p/x", adding /v1/signal when there is no path. */
static gchar *
signal_url (const gchar *server, GError **error)
{
  g_autoptr (GUri) uri = NULL;
  const gchar *scheme, *path;
  const gchar *ws_scheme;

  if (server == NULL || *server == '\0') {
    g_set_error (error, HQ_ROOM_CLIENT_ERROR,
        HQ_ROOM_CLIENT_ERROR_INVALID_ARGUMENT, "no server URL given");
    return NULL;
  }
  uri = g_uri_parse (server, G_URI_FLAGS_NONE, NULL);
  scheme = uri ? g_uri_get_scheme (uri) : NULL;
  if (g_strcmp0 (scheme, "http") == 0 || g_strcmp0 (scheme, "ws") == 0)
    ws_scheme = "ws";
  else if (g_strcmp0 (scheme, "https") == 0 || g_strcmp0 (scheme, "wss") == 0)
    ws_scheme = "wss";
  else {
    g_set_error (error, HQ_ROOM_CLIENT_ERROR,
        HQ_ROOM_CLIENT_ERROR_INVALID_ARGUMENT,
        "server \"%s\" is not an http://, https://, ws:// or wss:// URL",
        server);
    return NULL;
  }
  path = g_uri_get_path (uri);
  if (path == NULL || *path == '\0' || g_str_equal (path, "/"))
    path = "/v1/signal";
  return g_uri_join (G_URI_FLAGS_NONE, ws_scheme, NULL, g_uri_get_host (uri),
      g_uri_get_port (uri), path, NULL, NULL);
}

HqRoomClient *
hq_room_client_new (const HqRoomClientConfig *config, GError **error)
{
  g_autofree gchar *url = signal_url (config->server, error);
  HqRoomClient *c;

  if (url == NULL)
    return NULL;
  if (config->token == NULL || *config->token == '\0') {
    g_set_error (error, HQ_ROOM_CLIENT_ERROR,
        HQ_ROOM_CLIENT_ERROR_INVALID_ARGUMENT, "no access token given");
    return NULL;
  }
  c = g_object_new (HQ_TYPE_ROOM_CLIENT, NULL);
  c->ws_url = g_steal_pointer (&url);
  c->room = g_strdup (config->room);
  c->token = g_strdup (config->token);
  c->cname = config->cname ? g_strdup (config->cname)
                           : g_strdup_printf ("hq-%08x", g_random_int ());
  c->context = config->context ? g_main_context_ref (config->context)
                               : g_main_context_ref_thread_default ();
  c->subscribe = config->subscribe;
  c->reconnect_timeout_ms = config->reconnect_timeout_ms;
  c->relay_only = config->relay_only;
  c->ice_udp = config->ice_udp;
  c->ice_tcp = config->ice_tcp;
  c->session = soup_session_new ();
  if (config->tls_ca_file && *config->tls_ca_file) {
    g_autoptr (GError) local = NULL;
    g_autoptr (GTlsDatabase) db =
        g_tls_file_database_new (config->tls_ca_file, &local);
    if (db == NULL) {
      g_set_error (error, HQ_ROOM_CLIENT_ERROR, HQ_ROOM_CLIENT_ERROR_TLS,
          "cannot use tls-ca-file %s: %s", config->tls_ca_file, local->message);
      g_object_unref (c);
      return NULL;
    }
    soup_session_set_tls_database (c->session, db);
    c->tls_ca_file = g_strdup (config->tls_ca_file);
  }
  c->tls_pinned = g_strdup (config->tls_pinned_certificate);
  return c;
}

static void
hq_room_client_init (HqRoomClient *c)
{
  c->local = g_ptr_array_new_with_free_func (
      (GDestroyNotify)hq_room_client_local_track_free);
  c->remote = g_ptr_array_new_with_free_func (
      (GDestroyNotify)hq_room_remote_track_free);
  g_mutex_init (&c->lock);
  g_queue_init (&c->out);
}

static void
hq_room_client_finalize (GObject *object)
{
  HqRoomClient *c = HQ_ROOM_CLIENT (object);

  hq_room_client_stop (c);
  hq_room_client_set_receive_func (c, NULL, NULL, NULL);
  g_queue_clear_full (&c->out, g_free);
  g_mutex_clear (&c->lock);
  g_ptr_array_unref (c->local);
  g_ptr_array_unref (c->remote);
  g_clear_object (&c->session);
  g_clear_object (&c->tls_refused);
  g_free (c->tls_ca_file);
  g_free (c->tls_pinned);
  g_main_context_unref (c->context);
  g_free (c->ws_url);
  g_free (c->room);
  g_free (c->token);
  g_free (c->cname);
  g_free (c->participant_sid);
  g_free (c->identity);
  g_free (c->resume_token);
  g_free (c->subscribe_rules);
  g_free (c->bandwidth_profile);
  g_clear_pointer (&c->hinted, g_hash_table_unref);
  g_clear_pointer (&c->ice_servers, g_ptr_array_unref);
  G_OBJECT_CLASS (hq_room_client_parent_class)->finalize (object);
}

static void
hq_room_client_class_init (HqRoomClientClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  hq_debug_init ();
  object_class->finalize = hq_room_client_finalize;
  hq_room_client_signals[SIGNAL_JOINED] =
      g_signal_new ("joined", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
          NULL, NULL, NULL, G_TYPE_NONE, 2, JSON_TYPE_OBJECT, G_TYPE_BOOLEAN);
  hq_room_client_signals[SIGNAL_MESSAGE] =
      g_signal_new ("message", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
          NULL, NULL, NULL, G_TYPE_NONE, 2, G_TYPE_STRING, JSON_TYPE_OBJECT);
  hq_room_client_signals[SIGNAL_TRACKS_CHANGED] = g_signal_new (
      "tracks-changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL,
      NULL, NULL, G_TYPE_NONE, 1, G_TYPE_POINTER);
  hq_room_client_signals[SIGNAL_CONNECTION_CHANGED] = g_signal_new (
      "connection-changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
      NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_BOOLEAN);
  hq_room_client_signals[SIGNAL_TRANSPORT_CONNECTED] =
      g_signal_new ("transport-connected", G_TYPE_FROM_CLASS (klass),
          G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_INT);
  hq_room_client_signals[SIGNAL_MEDIA_CHANGED] = g_signal_new ("media-changed",
      G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
      G_TYPE_NONE, 3, G_TYPE_INT, G_TYPE_BOOLEAN, G_TYPE_STRING);
  hq_room_client_signals[SIGNAL_ERROR] =
      g_signal_new ("error", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
          NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_ERROR);
}
