/* Signalling connections; see hqsignal.h and docs/protocol.md.
 *
 * A Conn owns one reference on its SoupWebsocketConnection (libsoup drops
 * the connection as soon as the handler returns unless someone holds one)
 * and borrows its participant, which the room clears through the close op
 * before it lets go of it.  Every message is checked completely here, so
 * the room functions only see well-typed values; any failure is answered
 * with an `error` and the connection carries on. */
#include "hqsignal.h"
#include "hqlog.h"

#include <string.h>

struct _HqSignal
{
  SoupServer *server;
  HqConfig *config;
  HqRooms *rooms;
  GHashTable *conns; /* Conn set, owned */
};

typedef struct
{
  HqSignal *signal;
  SoupWebsocketConnection *ws;
  HqParticipant *participant;
  gint64 last_rx; /* monotonic, microseconds */
  guint idle_timer;
} Conn;

/* One request being handled: its connection, message and id. */
typedef struct
{
  Conn *conn;
  JsonObject *msg;
  const gchar *id;
} Request;

/* --- sending --- */

static void
conn_send (Conn *conn, JsonObject *msg)
{
  g_autoptr (JsonNode) node = json_node_new (JSON_NODE_OBJECT);
  g_autofree gchar *text = NULL;

  if (soup_websocket_connection_get_state (conn->ws)
      != SOUP_WEBSOCKET_STATE_OPEN)
    return;
  json_node_set_object (node, msg);
  text = json_to_string (node, FALSE);
  soup_websocket_connection_send_text (conn->ws, text);
}

static void
send_error (
    Conn *conn, const gchar *id, const gchar *code, const gchar *message)
{
  g_autoptr (JsonObject) msg = json_object_new ();

  json_object_set_string_member (msg, "type", "error");
  if (id)
    json_object_set_string_member (msg, "id", id);
  json_object_set_string_member (msg, "code", code);
  json_object_set_string_member (msg, "message", message);
  conn_send (conn, msg);
}

static void
reply_error (Request *req, const gchar *code, const gchar *message)
{
  send_error (req->conn, req->id, code, message);
}

static void
reply_gerror (Request *req, const GError *error)
{
  reply_error (req, hq_room_error_code (error->code), error->message);
}

/* Sends {type, id} plus @fields' members (taken; may be NULL). */
static void
reply (Request *req, const gchar *type, JsonObject *fields)
{
  g_autoptr (JsonObject) msg = fields ? fields : json_object_new ();

  json_object_set_string_member (msg, "type", type);
  if (req->id)
    json_object_set_string_member (msg, "id", req->id);
  conn_send (req->conn, msg);
}

/* --- the room's view of a connection --- */

static void
peer_send (gpointer peer, JsonObject *msg)
{
  conn_send (peer, msg);
}

static void
peer_close (gpointer peer, gushort code, const gchar *reason)
{
  Conn *conn = peer;

  conn->participant = NULL;
  if (soup_websocket_connection_get_state (conn->ws)
      == SOUP_WEBSOCKET_STATE_OPEN)
    soup_websocket_connection_close (conn->ws, code, reason);
}

static const HqPeerOps peer_ops = { peer_send, peer_close };

/* --- fields --- */

static gboolean
field_string (
    Request *req, const gchar *name, gboolean required, const gchar **out)
{
  JsonNode *node = json_object_get_member (req->msg, name);
  g_autofree gchar *why = NULL;

  if (node == NULL || JSON_NODE_HOLDS_NULL (node)) {
    if (!required)
      return TRUE;
    why = g_strdup_printf ("%s is missing.", name);
  } else if (JSON_NODE_HOLDS_VALUE (node)
      && json_node_get_value_type (node) == G_TYPE_STRING) {
    *out = json_node_get_string (node);
    return TRUE;
  } else
    why = g_strdup_printf ("%s must be a string.", name);
  reply_error (req, "invalid_field", why);
  return FALSE;
}

static gboolean
field_int (Request *req, const gchar *name, gint64 *out)
{
  JsonNode *node = json_object_get_member (req->msg, name);
  g_autofree gchar *why = NULL;

  if (node == NULL || JSON_NODE_HOLDS_NULL (node))
    return TRUE;
  if (JSON_NODE_HOLDS_VALUE (node)
      && json_node_get_value_type (node) == G_TYPE_INT64) {
    *out = json_node_get_int (node);
    return TRUE;
  }
  why = g_strdup_printf ("%s must be a whole number.", name);
  reply_error (req, "invalid_field", why);
  return FALSE;
}

static gboolean
field_bool (Request *req, const gchar *name, gboolean *out)
{
  JsonNode *node = json_object_get_member (req->msg, name);
  g_autofree gchar *why = NULL;

  if (node == NULL || JSON_NODE_HOLDS_NULL (node))
    return TRUE;
  if (JSON_NODE_HOLDS_VALUE (node)
      && json_node_get_value_type (node) == G_TYPE_BOOLEAN) {
    *out = json_node_get_boolean (node);
    return TRUE;
  }
  why = g_strdup_printf ("%s must be true or false.", name);
  reply_error (req, "invalid_field", why);
  return FALSE;
}

static gboolean
field_object (Request *req, const gchar *name, JsonObject **out)
{
  JsonNode *node = json_object_get_member (req->msg, name);
  g_autofree gchar *why = NULL;

  if (node == NULL || JSON_NODE_HOLDS_NULL (node))
    return TRUE;
  if (JSON_NODE_HOLDS_OBJECT (node)) {
    *out = json_node_get_object (node);
    return TRUE;
  }
  why = g_strdup_printf ("%s must be a JSON object.", name);
  reply_error (req, "invalid_field", why);
  return FALSE;
}

/* --- join --- */

static void
token_error (Request *req, const GError *error)
{
  g_autofree gchar *why = NULL;

  if (error->code == HQ_TOKEN_ERROR_ROOM_NOT_GRANTED) {
    reply_error (req, "room_not_granted", error->message);
    return;
  }
  why = g_strdup_printf ("The access token was refused (%s): %s",
      hq_token_error_name (error->code), error->message);
  reply_error (req, "invalid_token", why);
}

static void
handle_join (Request *req)
{
  Conn *conn = req->conn;
  const gchar *token = NULL, *room_id = NULL, *resume = NULL;
  g_autoptr (HqTokenClaims) claims = NULL;
  g_autoptr (GError) error = NULL;
  HqRoom *room;
  const HqRoomRecord *rec;

  if (conn->participant) {
    reply_error (req, "already_joined",
        "This connection has joined already; open another one to join "
        "again.");
    return;
  }
  if (!field_string (req, "token", TRUE, &token)
      || !field_string (req, "room", FALSE, &room_id)
      || !field_string (req, "resume_token", FALSE, &resume))
    return;
  claims =
      hq_token_verify (conn->signal->config->keyring, token, NULL, 0, &error);
  if (claims == NULL) {
    token_error (req, error);
    return;
  }
  if (room_id == NULL)
    room_id = claims->room;
  if (room_id == NULL) {
    reply_error (req, "invalid_field",
        "room is missing, and the token does not name a room.");
    return;
  }
  room = hq_rooms_lookup (conn->signal->rooms, room_id);
  if (room == NULL) {
    g_autoptr (GPtrArray) done =
        hq_store_list_rooms (hq_rooms_get_store (conn->signal->rooms),
            "completed", room_id, 1, 0, NULL);
    g_autofree gchar *why = NULL;
    if (done && done->len > 0) {
      why = g_strdup_printf (
          "Room \"%.200s\" has completed; it takes no more participants.",
          room_id);
      reply_error (req, "room_completed", why);
    } else {
      why =
          g_strdup_printf ("There is no room \"%.200s\" in progress.", room_id);
      reply_error (req, "room_not_found", why);
    }
    return;
  }
  rec = hq_room_get_record (room);
  if (claims->room && g_strcmp0 (claims->room, rec->unique_name) != 0
      && g_strcmp0 (claims->room, rec->sid) != 0) {
    g_autofree gchar *why =
        g_strdup_printf ("The token admits to room \"%s\", not to \"%s\".",
            claims->room, rec->unique_name);
    reply_error (req, "room_not_granted", why);
    return;
  }
  conn->participant =
      hq_room_join (room, claims, resume, &peer_ops, conn, req->id, &error);
  if (conn->participant == NULL)
    reply_gerror (req, error);
}

/* --- requests of a joined participant --- */

static void
handle_leave (Request *req)
{
  HqParticipant *p = req->conn->participant;

  reply (req, "left", NULL);
  hq_participant_leave (p);
}

static void
handle_ping (Request *req)
{
  reply (req, "pong", NULL);
}

static void
handle_chat_send (Request *req)
{
  const gchar *body = NULL;
  JsonObject *attributes = NULL;
  g_autoptr (GError) error = NULL;
  JsonObject *message, *fields;

  if (!field_string (req, "body", TRUE, &body)
      || !field_object (req, "attributes", &attributes))
    return;
  message =
      hq_participant_chat (req->conn->participant, body, attributes, &error);
  if (message == NULL) {
    reply_gerror (req, error);
    return;
  }
  fields = json_object_new ();
  json_object_set_object_member (fields, "message", message);
  reply (req, "chat_sent", fields);
}

static void
handle_chat_history (Request *req)
{
  gint64 before = 0, limit = HQ_CHAT_PAGE;
  gboolean has_more = FALSE;
  g_autoptr (GError) error = NULL;
  JsonArray *messages;
  JsonObject *fields;

  if (!field_int (req, "before", &before) || !field_int (req, "limit", &limit))
    return;
  if (limit < 1 || limit > HQ_CHAT_PAGE) {
    reply_error (req, "invalid_field", "limit must be 1 to 50.");
    return;
  }
  messages = hq_participant_chat_history (
      req->conn->participant, before, (guint)limit, &has_more, &error);
  if (messages == NULL) {
    reply_gerror (req, error);
    return;
  }
  fields = json_object_new ();
  json_object_set_array_member (fields, "messages", messages);
  json_object_set_boolean_member (fields, "has_more", has_more);
  reply (req, "chat_history", fields);
}

static void
reply_track (
    Request *req, const gchar *type, JsonObject *track, const GError *error)
{
  JsonObject *fields;

  if (track == NULL) {
    reply_gerror (req, error);
    return;
  }
  fields = json_object_new ();
  json_object_set_string_member (fields, "participant_sid",
      hq_participant_get_sid (req->conn->participant));
  json_object_set_object_member (fields, "track", track);
  reply (req, type, fields);
}

static void
handle_track_publish (Request *req)
{
  const gchar *name = NULL, *kind = NULL;
  gboolean enabled = TRUE;
  g_autoptr (GError) error = NULL;
  JsonObject *track;

  if (!field_string (req, "name", TRUE, &name)
      || !field_string (req, "kind", TRUE, &kind)
      || !field_bool (req, "enabled", &enabled))
    return;
  track = hq_participant_publish_track (
      req->conn->participant, name, kind, enabled, &error);
  reply_track (req, "track_published", track, error);
}

static void
handle_track_unpublish (Request *req)
{
  const gchar *sid = NULL;
  g_autoptr (GError) error = NULL;
  JsonObject *track;

  if (!field_string (req, "track_sid", TRUE, &sid))
    return;
  track = hq_participant_unpublish_track (req->conn->participant, sid, &error);
  reply_track (req, "track_unpublished", track, error);
}

static void
handle_track_update (Request *req)
{
  const gchar *sid = NULL;
  gboolean enabled = TRUE;
  g_autoptr (GError) error = NULL;
  JsonObject *track;

  if (!field_string (req, "track_sid", TRUE, &sid))
    return;
  if (!json_object_has_member (req->msg, "enabled")) {
    reply_error (req, "invalid_field", "enabled is missing.");
    return;
  }
  if (!field_bool (req, "enabled", &enabled))
    return;
  track = hq_participant_set_track_enabled (
      req->conn->participant, sid, enabled, &error);
  reply_track (req, enabled ? "track_enabled" : "track_disabled", track, error);
}

typedef gboolean (*ModerationFn) (
    HqParticipant *host, const gchar *target, GError **error);

static void
moderate (Request *req, ModerationFn fn)
{
  const gchar *target = NULL;
  g_autoptr (GError) error = NULL;

  if (!field_string (req, "participant_sid", TRUE, &target))
    return;
  if (fn (req->conn->participant, target, &error))
    reply (req, "ok", NULL);
  else
    reply_gerror (req, error);
}

static void
handle_admit (Request *req)
{
  moderate (req, hq_participant_admit);
}

static void
handle_deny (Request *req)
{
  moderate (req, hq_participant_deny);
}

static void
handle_remove (Request *req)
{
  moderate (req, hq_participant_remove);
}

static void
handle_mute (Request *req)
{
  const gchar *target = NULL, *track = NULL;
  g_autoptr (GError) error = NULL;

  if (!field_string (req, "participant_sid", TRUE, &target)
      || !field_string (req, "track_sid", TRUE, &track))
    return;
  if (hq_participant_mute (req->conn->participant, target, track, &error))
    reply (req, "ok", NULL);
  else
    reply_gerror (req, error);
}

/* --- dispatch --- */

typedef enum
{
  NEEDS_NOTHING, /* join, ping */
  NEEDS_PARTICIPANT, /* joined or waiting */
  NEEDS_ADMITTED, /* joined and out of the lobby */
} Needs;

static const struct
{
  const gchar *type;
  void (*handle) (Request *req);
  Needs needs;
} handlers[] = {
  { "join", handle_join, NEEDS_NOTHING },
  { "ping", handle_ping, NEEDS_NOTHING },
  { "leave", handle_leave, NEEDS_PARTICIPANT },
  { "chat_send", handle_chat_send, NEEDS_ADMITTED },
  { "chat_history", handle_chat_history, NEEDS_ADMITTED },
  { "track_publish", handle_track_publish, NEEDS_ADMITTED },
  { "track_unpublish", handle_track_unpublish, NEEDS_ADMITTED },
  { "track_update", handle_track_update, NEEDS_ADMITTED },
  { "admit", handle_admit, NEEDS_ADMITTED },
  { "deny", handle_deny, NEEDS_ADMITTED },
  { "mute", handle_mute, NEEDS_ADMITTED },
  { "remove", handle_remove, NEEDS_ADMITTED },
};

static void
dispatch (Conn *conn, JsonObject *msg)
{
  Request req = { conn, msg, NULL };
  const gchar *type = NULL;
  JsonNode *id = json_object_get_member (msg, "id");
  g_autofree gchar *why = NULL;

  if (id && !JSON_NODE_HOLDS_NULL (id)) {
    if (!JSON_NODE_HOLDS_VALUE (id)
        || json_node_get_value_type (id) != G_TYPE_STRING) {
      reply_error (&req, "invalid_field", "id must be a string.");
      return;
    }
    req.id = json_node_get_string (id);
  }
  if (!field_string (&req, "type", TRUE, &type))
    return;
  for (gsize i = 0; i < G_N_ELEMENTS (handlers); i++) {
    if (strcmp (handlers[i].type, type) != 0)
      continue;
    if (handlers[i].needs != NEEDS_NOTHING && conn->participant == NULL) {
      why = g_strdup_printf ("Send join first: %s needs a joined room.", type);
      reply_error (&req, "not_joined", why);
      return;
    }
    if (handlers[i].needs == NEEDS_ADMITTED
        && hq_participant_is_waiting (conn->participant)) {
      why = g_strdup_printf (
          "You are waiting in the lobby; %s needs a host to admit you first.",
          type);
      reply_error (&req, "not_admitted", why);
      return;
    }
    handlers[i].handle (&req);
    return;
  }
  why = g_strdup_printf ("Unknown message type \"%.64s\".", type);
  reply_error (&req, "unknown_type", why);
}

static void
message_cb (
    SoupWebsocketConnection *ws, gint type, GBytes *message, gpointer user_data)
{
  Conn *conn = user_data;
  g_autoptr (JsonParser) parser = NULL;
  g_autoptr (GError) error = NULL;
  gsize len = 0;
  const gchar *data = g_bytes_get_data (message, &len);
  JsonNode *root;

  conn->last_rx = g_get_monotonic_time ();
  if (len > HQ_SIGNAL_MAX_MESSAGE) {
    /* libsoup refuses only far larger frames (see HQ_SIGNAL_MAX_FRAME), so
     * that this one ends with a close frame the client can read. */
    soup_websocket_connection_close (
        ws, SOUP_WEBSOCKET_CLOSE_TOO_BIG, "message over 64 KiB");
    return;
  }
  if (type != SOUP_WEBSOCKET_DATA_TEXT) {
    send_error (conn, NULL, "bad_message",
        "Messages are JSON in text frames; binary frames are not used.");
    return;
  }
  parser = json_parser_new_immutable ();
  if (!json_parser_load_from_data (parser, data, len, &error)) {
    g_autofree gchar *why =
        g_strdup_printf ("The message is not valid JSON: %s", error->message);
    send_error (conn, NULL, "malformed_json", why);
    return;
  }
  root = json_parser_get_root (parser);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root)) {
    send_error (conn, NULL, "bad_message",
        "A message must be a JSON object with a \"type\".");
    return;
  }
  dispatch (conn, json_node_get_object (root));
}

/* --- connections --- */

static void
conn_free (Conn *conn)
{
  if (conn->idle_timer)
    g_source_remove (conn->idle_timer);
  g_signal_handlers_disconnect_by_data (conn->ws, conn);
  if (soup_websocket_connection_get_state (conn->ws)
      == SOUP_WEBSOCKET_STATE_OPEN)
    soup_websocket_connection_close (conn->ws, 1001, "server shutting down");
  g_object_unref (conn->ws);
  g_free (conn);
}

static void
closed_cb (SoupWebsocketConnection *ws, gpointer user_data)
{
  Conn *conn = user_data;
  HqParticipant *p = conn->participant;

  conn->participant = NULL;
  if (p)
    hq_participant_connection_lost (p);
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
    soup_websocket_connection_close (conn->ws, 4000, "keepalive timeout");
  return G_SOURCE_REMOVE;
}

static void
websocket_cb (SoupServer *server, SoupServerMessage *msg, const char *path,
    SoupWebsocketConnection *ws, gpointer user_data)
{
  HqSignal *signal = user_data;
  Conn *conn = g_new0 (Conn, 1);
  gint64 keepalive = signal->config->keepalive_timeout_ms;

  conn->signal = signal;
  conn->ws = g_object_ref (ws);
  conn->last_rx = g_get_monotonic_time ();
  g_object_set (ws, "max-incoming-payload-size", (guint64)HQ_SIGNAL_MAX_FRAME,
      "keepalive-interval", (guint)MAX (keepalive / 3000, 1), NULL);
  g_signal_connect (ws, "message", G_CALLBACK (message_cb), conn);
  g_signal_connect (ws, "closed", G_CALLBACK (closed_cb), conn);
  conn->idle_timer =
      g_timeout_add ((guint)MAX (keepalive / 4, 10), idle_check_cb, conn);
  g_hash_table_add (signal->conns, conn);
}

HqSignal *
hq_signal_new (SoupServer *server, HqConfig *config, HqRooms *rooms)
{
  HqSignal *signal = g_new0 (HqSignal, 1);

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
    conn->participant = NULL;
    if (soup_websocket_connection_get_state (conn->ws)
        == SOUP_WEBSOCKET_STATE_OPEN)
      soup_websocket_connection_close (conn->ws, 1001, "server shutting down");
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
