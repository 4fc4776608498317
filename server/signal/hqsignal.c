/* Signalling connections; see hqsignal.h and docs/protocol.md.
 *
 * A Conn owns one reference on its SoupWebsocketConnection (libsoup drops
 * the connection as soon as the handler returns unless someone holds one)
 * and its HqSession, which speaks the protocol and enforces the message
 * sizes.  This file only moves messages between the two and closes
 * connections that fall silent or do not join in time. */
#include "hqsignal.h"
#include "hqhttp.h"
#include "hqlog.h"
#include "hqmetrics.h"
#include "hqsession.h"

struct _HqSignal
{
  SoupServer *server;
  HqConfig *config;
  HqRooms *rooms;
  HqRateLimits *limits;
  GHashTable *conns; /* Conn set, owned */
};

typedef struct
{
  HqSignal *signal;
  SoupWebsocketConnection *ws;
  HqSession *session;
  gint64 last_rx; /* monotonic, microseconds */
  guint idle_timer;
  guint join_timer;
} Conn;

/* --- the session's transport --- */

static void
transport_send (gpointer user_data, const gchar *text)
{
  Conn *conn = user_data;

  if (soup_websocket_connection_get_state (conn->ws)
      == SOUP_WEBSOCKET_STATE_OPEN)
    soup_websocket_connection_send_text (conn->ws, text);
}

static void
transport_close (gpointer user_data, gushort code, const gchar *reason)
{
  Conn *conn = user_data;

  if (soup_websocket_connection_get_state (conn->ws)
      == SOUP_WEBSOCKET_STATE_OPEN)
    soup_websocket_connection_close (conn->ws, code, reason);
}

static const HqSessionTransport transport = { transport_send, transport_close };

/* Sizes, parsing and everything after are the session's (hqsession.c),
 * so that the fuzzer drives the same path. */
static void
message_cb (
    SoupWebsocketConnection *ws, gint type, GBytes *message, gpointer user_data)
{
  Conn *conn = user_data;
  gsize len = 0;
  const gchar *data = g_bytes_get_data (message, &len);

  conn->last_rx = g_get_monotonic_time ();
  hq_session_handle_frame (
      conn->session, type == SOUP_WEBSOCKET_DATA_TEXT, data, len);
}

/* --- connections --- */

static void
conn_free (Conn *conn)
{
  if (conn->idle_timer)
    g_source_remove (conn->idle_timer);
  if (conn->join_timer)
    g_source_remove (conn->join_timer);
  g_signal_handlers_disconnect_by_data (conn->ws, conn);
  if (soup_websocket_connection_get_state (conn->ws)
      == SOUP_WEBSOCKET_STATE_OPEN)
    soup_websocket_connection_close (conn->ws, HQ_CLOSE_GOING_AWAY,
        hq_protocol_close_text (HQ_CLOSE_GOING_AWAY));
  g_object_unref (conn->ws);
  hq_session_free (conn->session);
  g_free (conn);
}

static void
closed_cb (SoupWebsocketConnection *ws, gpointer user_data)
{
  Conn *conn = user_data;

  hq_metrics_gauge_add (HQ_GAUGE_WEBSOCKETS, -1);
  hq_session_connection_lost (conn->session);
  g_hash_table_remove (conn->signal->conns, conn);
}

static gboolean
idle_check_cb (gpointer user_data)
{
  Conn *conn = user_data;
  gint64 silent_ms = (g_get_monotonic_time () - conn->last_rx) / 1000;

  if (silent_ms < conn->signal->config->keepalive_timeout_ms)
    return G_SOURCE_CONTINUE;
  conn->idle_timer = 0;
  hq_log_message (HQ_LOG_INFO, "signal",
      "closing a connection silent for %" G_GINT64_FORMAT " ms", silent_ms);
  /* Not a goodbye: the participant may still resume. */
  if (soup_websocket_connection_get_state (conn->ws)
      == SOUP_WEBSOCKET_STATE_OPEN)
    soup_websocket_connection_close (conn->ws, HQ_CLOSE_KEEPALIVE,
        hq_protocol_close_text (HQ_CLOSE_KEEPALIVE));
  return G_SOURCE_REMOVE;
}

/* A connection that has not joined by now never meant to. */
static gboolean
join_check_cb (gpointer user_data)
{
  Conn *conn = user_data;

  conn->join_timer = 0;
  if (hq_session_has_joined (conn->session)
      || soup_websocket_connection_get_state (conn->ws)
          != SOUP_WEBSOCKET_STATE_OPEN)
    return G_SOURCE_REMOVE;
  hq_log_message (HQ_LOG_INFO, "signal",
      "closing a connection that did not join within %" G_GINT64_FORMAT " s",
      conn->signal->config->join_timeout);
  soup_websocket_connection_close (conn->ws, HQ_CLOSE_JOIN_TIMEOUT,
      hq_protocol_close_text (HQ_CLOSE_JOIN_TIMEOUT));
  return G_SOURCE_REMOVE;
}

static void
websocket_cb (SoupServer *server, SoupServerMessage *msg, const char *path,
    SoupWebsocketConnection *ws, gpointer user_data)
{
  HqSignal *signal = user_data;
  Conn *conn = g_new0 (Conn, 1);
  gint64 keepalive = signal->config->keepalive_timeout_ms;
  g_autofree gchar *ip = hq_http_remote_ip (msg);

  conn->signal = signal;
  conn->ws = g_object_ref (ws);
  conn->session =
      hq_session_new (signal->config, signal->rooms, &transport, conn);
  hq_session_set_peer (conn->session, ip, signal->limits);
  conn->last_rx = g_get_monotonic_time ();
  g_object_set (ws, "max-incoming-payload-size", (guint64)HQ_SIGNAL_MAX_FRAME,
      "keepalive-interval", (guint)MAX (keepalive / 3000, 1), NULL);
  g_signal_connect (ws, "message", G_CALLBACK (message_cb), conn);
  g_signal_connect (ws, "closed", G_CALLBACK (closed_cb), conn);
  conn->idle_timer =
      g_timeout_add ((guint)MAX (keepalive / 4, 10), idle_check_cb, conn);
  if (signal->config->join_timeout > 0)
    conn->join_timer = g_timeout_add_seconds (
        (guint)signal->config->join_timeout, join_check_cb, conn);
  g_hash_table_add (signal->conns, conn);
  hq_metrics_count (HQ_COUNTER_WEBSOCKETS_OPENED, 1);
  hq_metrics_gauge_add (HQ_GAUGE_WEBSOCKETS, 1);
}

HqSignal *
hq_signal_new (
    SoupServer *server, HqConfig *config, HqRooms *rooms, HqRateLimits *limits)
{
  HqSignal *signal = g_new0 (HqSignal, 1);

  signal->limits = limits;
  signal->server = server;
  signal->config = config;
  signal->rooms = rooms;
  signal->conns =
      g_hash_table_new_full (NULL, NULL, (GDestroyNotify)conn_free, NULL);
  soup_server_add_websocket_handler (
      server, "/v1/signal", NULL, NULL, websocket_cb, signal, NULL);
  return signal;
}

void
hq_signal_stop (HqSignal *signal)
{
  GHashTableIter iter;
  gpointer key;

  g_hash_table_iter_init (&iter, signal->conns);
  while (g_hash_table_iter_next (&iter, &key, NULL)) {
    Conn *conn = key;
    g_signal_handlers_disconnect_by_func (conn->ws, message_cb, conn);
  }
  soup_server_remove_handler (signal->server, "/v1/signal");
}

static gboolean
flag_cb (gpointer user_data)
{
  *(gboolean *)user_data = TRUE;
  return G_SOURCE_REMOVE;
}

void
hq_signal_free (HqSignal *signal)
{
  GHashTableIter iter;
  gpointer key;
  gboolean late = FALSE;
  guint deadline;

  if (signal == NULL)
    return;
  g_hash_table_iter_init (&iter, signal->conns);
  while (g_hash_table_iter_next (&iter, &key, NULL)) {
    Conn *conn = key;
    hq_session_detach (conn->session);
    if (soup_websocket_connection_get_state (conn->ws)
        == SOUP_WEBSOCKET_STATE_OPEN)
      soup_websocket_connection_close (conn->ws, HQ_CLOSE_GOING_AWAY,
          hq_protocol_close_text (HQ_CLOSE_GOING_AWAY));
  }
  /* Let the closing handshakes finish (each ends in closed_cb, which frees
   * its Conn), but never wait long for a peer that does not answer. */
  deadline = g_timeout_add (2000, flag_cb, &late);
  while (g_hash_table_size (signal->conns) > 0 && !late)
    g_main_context_iteration (NULL, TRUE);
  if (!late)
    g_source_remove (deadline);
  g_hash_table_destroy (signal->conns);
  g_free (signal);
}
