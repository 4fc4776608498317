/* The protocol's names, limits, builders, bounded parsing and typed
 * readers; see hqprotocol.h.
 *
 * Every name the protocol gives a message type, error code, close code,
 * priority, rule or leave reason is spelled in a table of this file and
 * nowhere else in C (tests/protocol/names.py); each table is indexed by
 * its enum, so a name is found by value in one step and a value by name
 * in a loop over a few dozen strings. */
#include "hqprotocol.h"

#include <string.h>

G_DEFINE_QUARK (hq - protocol - error - quark, hq_protocol_error)

/* The index of @name in @names[@n] (NULL entries skipped), or -1. */
static gint
name_index (const gchar *const *names, gsize n, const gchar *name)
{
  for (gsize i = 0; name && i < n; i++)
    if (names[i] && g_str_equal (names[i], name))
      return (gint)i;
  return -1;
}

static const gchar *
index_name (const gchar *const *names, gsize n, gint value)
{
  return value >= 0 && (gsize)value < n ? names[value] : NULL;
}

#define NAME_OF(table, value)                                                  \
  index_name (table, G_N_ELEMENTS (table), (gint)(value))
#define FROM_NAME(table, name, out, type)                                      \
  G_STMT_START                                                                 \
  {                                                                            \
    gint i_ = name_index (table, G_N_ELEMENTS (table), name);                  \
    if (i_ < 0)                                                                \
      return FALSE;                                                            \
    *(out) = (type)i_;                                                         \
    return TRUE;                                                               \
  }                                                                            \
  G_STMT_END

/* --- error codes --- */

static const gchar *const error_codes[] = {
  [HQ_PROTOCOL_ERROR_MALFORMED_JSON] = "malformed_json",
  [HQ_PROTOCOL_ERROR_BAD_MESSAGE] = "bad_message",
  [HQ_PROTOCOL_ERROR_TOO_BIG] = "message_too_big",
  [HQ_PROTOCOL_ERROR_INVALID_FIELD] = "invalid_field",
  [HQ_PROTOCOL_ERROR_UNKNOWN_TYPE] = "unknown_type",
  [HQ_PROTOCOL_ERROR_NOT_JOINED] = "not_joined",
  [HQ_PROTOCOL_ERROR_ALREADY_JOINED] = "already_joined",
  [HQ_PROTOCOL_ERROR_NOT_ADMITTED] = "not_admitted",
  [HQ_PROTOCOL_ERROR_INVALID_TOKEN] = "invalid_token",
  [HQ_PROTOCOL_ERROR_ROOM_NOT_GRANTED] = "room_not_granted",
  [HQ_PROTOCOL_ERROR_ROOM_NOT_FOUND] = "room_not_found",
  [HQ_PROTOCOL_ERROR_ROOM_COMPLETED] = "room_completed",
  [HQ_PROTOCOL_ERROR_ROOM_FULL] = "room_full",
  [HQ_PROTOCOL_ERROR_BANNED] = "banned",
  [HQ_PROTOCOL_ERROR_NOT_HOST] = "not_host",
  [HQ_PROTOCOL_ERROR_FORBIDDEN] = "forbidden",
  [HQ_PROTOCOL_ERROR_NOT_FOUND] = "not_found",
  [HQ_PROTOCOL_ERROR_INTERNAL] = "internal",
  [HQ_PROTOCOL_ERROR_RATE_LIMITED] = "rate_limited",
  [HQ_PROTOCOL_ERROR_SERVER_DRAINING] = "server_draining",
  [HQ_PROTOCOL_ERROR_INVALID_SDP] = "invalid_sdp",
};

const gchar *
hq_protocol_error_code (HqProtocolError code)
{
  return NAME_OF (error_codes, code);
}

gboolean
hq_protocol_error_from_code (const gchar *name, HqProtocolError *out)
{
  FROM_NAME (error_codes, name, out, HqProtocolError);
}

/* --- close codes --- */

static const struct
{
  gint code;
  const gchar *text;
} close_codes[] = {
  { HQ_CLOSE_NORMAL, "left the room" },
  { HQ_CLOSE_GOING_AWAY, "server shutting down" },
  { HQ_CLOSE_TOO_BIG, "message too big" },
  { HQ_CLOSE_KEEPALIVE, "keepalive timeout" },
  { HQ_CLOSE_REMOVED, "removed from the room" },
  { HQ_CLOSE_REPLACED, "replaced: the same identity joined elsewhere" },
  { HQ_CLOSE_DENIED, "denied entry by a host" },
  { HQ_CLOSE_ROOM_COMPLETED, "the room completed" },
  { HQ_CLOSE_MAX_DURATION, "the room's maximum participant duration ran out" },
  { HQ_CLOSE_JOIN_TIMEOUT, "no join within the join timeout" },
};

const gchar *
hq_protocol_close_text (gint code)
{
  for (gsize i = 0; i < G_N_ELEMENTS (close_codes); i++)
    if (close_codes[i].code == code)
      return close_codes[i].text;
  return NULL;
}

/* --- priorities, rules, leave reasons --- */

static const gchar *const priorities[] = {
  [HQ_PRIORITY_LOW] = "low",
  [HQ_PRIORITY_STANDARD] = "standard",
  [HQ_PRIORITY_HIGH] = "high",
};

const gchar *
hq_protocol_priority_name (HqPriority priority)
{
  return NAME_OF (priorities, priority);
}

gboolean
hq_protocol_priority_from_name (const gchar *name, HqPriority *out)
{
  FROM_NAME (priorities, name, out, HqPriority);
}

gboolean
hq_protocol_check_priority (const gchar *value, HqPriority *out, GError **error)
{
  if (value == NULL || hq_protocol_priority_from_name (value, out))
    return TRUE;
  g_set_error (error, HQ_PROTOCOL_ERROR, HQ_PROTOCOL_ERROR_INVALID_FIELD,
      "priority must be %s, %s or %s, not \"%.64s\".",
      priorities[HQ_PRIORITY_LOW], priorities[HQ_PRIORITY_STANDARD],
      priorities[HQ_PRIORITY_HIGH], value);
  return FALSE;
}

static const gchar *const rule_types[] = {
  [HQ_RULE_INCLUDE] = "include",
  [HQ_RULE_EXCLUDE] = "exclude",
};

static const gchar *const rule_filters[] = {
  [HQ_RULE_FILTER_ALL] = "all",
  [HQ_RULE_FILTER_KIND] = "kind",
  [HQ_RULE_FILTER_PUBLISHER] = "publisher",
  [HQ_RULE_FILTER_TRACK] = "track",
};

const gchar *
hq_protocol_rule_type_name (HqRuleType type)
{
  return NAME_OF (rule_types, type);
}

gboolean
hq_protocol_rule_type_from_name (const gchar *name, HqRuleType *out)
{
  FROM_NAME (rule_types, name, out, HqRuleType);
}

const gchar *
hq_protocol_rule_filter_name (HqRuleFilter filter)
{
  return NAME_OF (rule_filters, filter);
}

gboolean
hq_protocol_rule_filter_from_name (const gchar *name, HqRuleFilter *out)
{
  FROM_NAME (rule_filters, name, out, HqRuleFilter);
}

static const gchar *const participant_states[] = {
  [HQ_PARTICIPANT_CONNECTED] = "connected",
  [HQ_PARTICIPANT_RECONNECTING] = "reconnecting",
  [HQ_PARTICIPANT_WAITING] = "waiting",
  [HQ_PARTICIPANT_DISCONNECTED] = "disconnected",
};

const gchar *
hq_protocol_participant_state_name (HqParticipantState state)
{
  return NAME_OF (participant_states, state);
}

static const gchar *const leave_reasons[] = {
  [HQ_LEAVE_LEFT] = "left",
  [HQ_LEAVE_CONNECTION_LOST] = "connection_lost",
  [HQ_LEAVE_REPLACED] = "replaced",
  [HQ_LEAVE_REMOVED] = "removed",
  [HQ_LEAVE_KICKED] = "kicked",
  [HQ_LEAVE_DENIED] = "denied",
  [HQ_LEAVE_MAX_PARTICIPANT_DURATION] = "max_participant_duration",
  [HQ_LEAVE_ROOM_COMPLETED] = "room_completed",
};

const gchar *
hq_protocol_leave_reason_name (HqLeaveReason reason)
{
  return NAME_OF (leave_reasons, reason);
}

gboolean
hq_protocol_leave_reason_from_name (const gchar *name, HqLeaveReason *out)
{
  FROM_NAME (leave_reasons, name, out, HqLeaveReason);
}

typedef enum
{
  SCAN_OK,
  SCAN_TOO_DEEP,
  SCAN_NOT_JSON,
} ScanResult;

/* One pass over the text, as json-glib will read it: "strings" (with
 * backslash escapes) are skipped, brackets outside them counted.
 * json-glib (GScanner) also reads C comments (slash, star) and 'strings',
 * which JSON does not have; a quote inside one would end this scan's idea of a
 * string where json-glib's differs, so they are refused: a '/' or a '\''
 * outside a string is never JSON. */
static ScanResult
scan (const gchar *data, gsize len, guint max_depth)
{
  guint depth = 0;
  gboolean in_string = FALSE;

  for (gsize i = 0; i < len; i++) {
    gchar c = data[i];

    if (in_string) {
      if (c == '\\')
        i++; /* whatever is escaped cannot end the string */
      else if (c == '"')
        in_string = FALSE;
    } else if (c == '"') {
      in_string = TRUE;
    } else if (c == '[' || c == '{') {
      if (++depth > max_depth)
        return SCAN_TOO_DEEP;
    } else if ((c == ']' || c == '}') && depth > 0) {
      depth--;
    } else if (c == '/' || c == '\'') {
      return SCAN_NOT_JSON;
    }
  }
  return SCAN_OK;
}

gboolean
hq_protocol_depth_ok (const gchar *data, gsize len, guint max_depth)
{
  return scan (data, len, max_depth) == SCAN_OK;
}

JsonNode *
hq_protocol_parse (const gchar *data, gsize len, gsize max_len, GError **error)
{
  g_autoptr (JsonParser) parser = NULL;
  g_autoptr (GError) local = NULL;

  if (len > max_len) {
    g_set_error (error, HQ_PROTOCOL_ERROR, HQ_PROTOCOL_ERROR_TOO_BIG,
        "The message is %" G_GSIZE_FORMAT " bytes; at most %" G_GSIZE_FORMAT
        " are read.",
        len, max_len);
    return NULL;
  }
  switch (scan (data, len, HQ_PROTOCOL_MAX_DEPTH)) {
    case SCAN_TOO_DEEP:
      g_set_error (error, HQ_PROTOCOL_ERROR, HQ_PROTOCOL_ERROR_MALFORMED_JSON,
          "The JSON is nested more than %d levels deep.",
          HQ_PROTOCOL_MAX_DEPTH);
      return NULL;
    case SCAN_NOT_JSON:
      g_set_error (error, HQ_PROTOCOL_ERROR, HQ_PROTOCOL_ERROR_MALFORMED_JSON,
          "The message is not valid JSON: a '/' or a '\\'' outside a "
          "string.");
      return NULL;
    default:
      break;
  }
  parser = json_parser_new_immutable ();
  if (!json_parser_load_from_data (parser, data, (gssize)len, &local)) {
    g_set_error (error, HQ_PROTOCOL_ERROR, HQ_PROTOCOL_ERROR_MALFORMED_JSON,
        "The message is not valid JSON: %s", local->message);
    return NULL;
  }
  if (json_parser_get_root (parser) == NULL) {
    g_set_error (error, HQ_PROTOCOL_ERROR, HQ_PROTOCOL_ERROR_MALFORMED_JSON,
        "The message is empty.");
    return NULL;
  }
  return json_parser_steal_root (parser);
}

JsonObject *
hq_protocol_parse_object (
    const gchar *data, gsize len, gsize max_len, GError **error)
{
  g_autoptr (JsonNode) root = hq_protocol_parse (data, len, max_len, error);

  if (root == NULL)
    return NULL;
  if (!JSON_NODE_HOLDS_OBJECT (root)) {
    g_set_error (error, HQ_PROTOCOL_ERROR, HQ_PROTOCOL_ERROR_BAD_MESSAGE,
        "A message must be a JSON object with a \"type\".");
    return NULL;
  }
  return json_object_ref (json_node_get_object (root));
}

static const struct
{
  const gchar *name;
  gboolean carries_sdp;
} messages[] = {
  [HQ_MESSAGE_JOIN] = { "join" },
  [HQ_MESSAGE_PING] = { "ping" },
  [HQ_MESSAGE_LEAVE] = { "leave" },
  [HQ_MESSAGE_CHAT_SEND] = { "chat_send" },
  [HQ_MESSAGE_CHAT_HISTORY] = { "chat_history" },
  [HQ_MESSAGE_TRACK_PUBLISH] = { "track_publish" },
  [HQ_MESSAGE_TRACK_UNPUBLISH] = { "track_unpublish" },
  [HQ_MESSAGE_TRACK_UPDATE] = { "track_update" },
  [HQ_MESSAGE_ADMIT] = { "admit" },
  [HQ_MESSAGE_DENY] = { "deny" },
  [HQ_MESSAGE_MUTE] = { "mute" },
  [HQ_MESSAGE_REMOVE] = { "remove" },
  [HQ_MESSAGE_PUBLISH_OFFER] = { "publish_offer", TRUE },
  [HQ_MESSAGE_SUBSCRIBE_ANSWER] = { "subscribe_answer", TRUE },
  [HQ_MESSAGE_CANDIDATE] = { "candidate" },
  [HQ_MESSAGE_END_OF_CANDIDATES] = { "end_of_candidates" },
  [HQ_MESSAGE_NETWORK_QUALITY_CONFIGURE] = { "network_quality_configure" },
  [HQ_MESSAGE_SUBSCRIBE_RULES] = { "subscribe_rules" },
  [HQ_MESSAGE_PEER_OFFER] = { "peer_offer", TRUE },
  [HQ_MESSAGE_PEER_ANSWER] = { "peer_answer", TRUE },
  [HQ_MESSAGE_PEER_CANDIDATE] = { "peer_candidate" },
  [HQ_MESSAGE_CHAT_JOIN] = { "chat_join" },
  [HQ_MESSAGE_CHAT_MEDIA_URL] = { "chat_media_url" },
  [HQ_MESSAGE_RECORDING_START] = { "recording_start" },
  [HQ_MESSAGE_RECORDING_STOP] = { "recording_stop" },
  [HQ_MESSAGE_SUBSCRIBE_PRIORITY] = { "subscribe_priority" },
  [HQ_MESSAGE_DATA_SEND] = { "data_send" },
  [HQ_MESSAGE_ROOM_COMPLETE] = { "room_complete" },
  [HQ_MESSAGE_ICE_RESTART] = { "ice_restart" },
  [HQ_MESSAGE_E2EE_SEND] = { "e2ee_send" },
  [HQ_MESSAGE_BANDWIDTH_PROFILE] = { "bandwidth_profile" },
  [HQ_MESSAGE_TRACK_HINTS] = { "track_hints" },
  [HQ_MESSAGE_JOINED] = { "joined" },
  [HQ_MESSAGE_WAITING] = { "waiting" },
  [HQ_MESSAGE_CHAT_JOINED] = { "chat_joined" },
  [HQ_MESSAGE_PONG] = { "pong" },
  [HQ_MESSAGE_LEFT] = { "left" },
  [HQ_MESSAGE_OK] = { "ok" },
  [HQ_MESSAGE_ERROR] = { "error" },
  [HQ_MESSAGE_CHAT_SENT] = { "chat_sent" },
  [HQ_MESSAGE_RECORDING_RULES] = { "recording_rules" },
  [HQ_MESSAGE_PUBLISH_ANSWER] = { "publish_answer" },
  [HQ_MESSAGE_DENIED] = { "denied" },
  [HQ_MESSAGE_LOBBY_CHANGED] = { "lobby_changed" },
  [HQ_MESSAGE_PARTICIPANT_CONNECTED] = { "participant_connected" },
  [HQ_MESSAGE_PARTICIPANT_DISCONNECTED] = { "participant_disconnected" },
  [HQ_MESSAGE_PARTICIPANT_RECONNECTING] = { "participant_reconnecting" },
  [HQ_MESSAGE_PARTICIPANT_RECONNECTED] = { "participant_reconnected" },
  [HQ_MESSAGE_TRACK_PUBLISHED] = { "track_published" },
  [HQ_MESSAGE_TRACK_UNPUBLISHED] = { "track_unpublished" },
  [HQ_MESSAGE_TRACK_ENABLED] = { "track_enabled" },
  [HQ_MESSAGE_TRACK_DISABLED] = { "track_disabled" },
  [HQ_MESSAGE_TRACK_PRIORITY_CHANGED] = { "track_priority_changed" },
  [HQ_MESSAGE_CHAT_MESSAGE] = { "chat_message" },
  [HQ_MESSAGE_MUTED] = { "muted" },
  [HQ_MESSAGE_REMOVED] = { "removed" },
  [HQ_MESSAGE_ROOM_COMPLETED] = { "room_completed" },
  [HQ_MESSAGE_SERVER_DRAINING] = { "server_draining" },
  [HQ_MESSAGE_RECORDING_STARTED] = { "recording_started" },
  [HQ_MESSAGE_RECORDING_CHANGED] = { "recording_changed" },
  [HQ_MESSAGE_RECORDING_STOPPED] = { "recording_stopped" },
  [HQ_MESSAGE_DATA_MESSAGE] = { "data_message" },
  [HQ_MESSAGE_SUBSCRIBE_OFFER] = { "subscribe_offer", TRUE },
  [HQ_MESSAGE_TRANSPORT_STATE] = { "transport_state" },
  [HQ_MESSAGE_DOMINANT_SPEAKER] = { "dominant_speaker" },
  [HQ_MESSAGE_NETWORK_QUALITY] = { "network_quality" },
  [HQ_MESSAGE_E2EE_MESSAGE] = { "e2ee_message" },
  [HQ_MESSAGE_TRACK_SWITCHED_OFF] = { "track_switched_off" },
  [HQ_MESSAGE_TRACK_SWITCHED_ON] = { "track_switched_on" },
  [HQ_MESSAGE_PUBLISH_LAYERS] = { "publish_layers" },
};

HqMessageType
hq_protocol_message_type (const gchar *name)
{
  for (guint i = HQ_MESSAGE_UNKNOWN + 1; name && i < G_N_ELEMENTS (messages);
       i++)
    if (g_str_equal (messages[i].name, name))
      return (HqMessageType)i;
  return HQ_MESSAGE_UNKNOWN;
}

const gchar *
hq_protocol_message_name (HqMessageType type)
{
  return (guint)type < G_N_ELEMENTS (messages) ? messages[type].name : NULL;
}

gboolean
hq_protocol_carries_sdp (const gchar *type)
{
  return messages[hq_protocol_message_type (type)].carries_sdp;
}

const gchar *
hq_protocol_relay_field (HqMessageType type)
{
  return type == HQ_MESSAGE_PEER_CANDIDATE ? messages[HQ_MESSAGE_CANDIDATE].name
                                           : "sdp";
}

/* --- builders --- */

JsonObject *
hq_protocol_message_new (HqMessageType type, const gchar *id)
{
  JsonObject *msg = json_object_new ();
  const gchar *name = hq_protocol_message_name (type);

  g_return_val_if_fail (name != NULL, msg);
  json_object_set_string_member (msg, "type", name);
  if (id)
    json_object_set_string_member (msg, "id", id);
  return msg;
}

JsonObject *
hq_protocol_error_new (
    const gchar *id, HqProtocolError code, const gchar *message)
{
  JsonObject *msg = hq_protocol_message_new (HQ_MESSAGE_ERROR, id);
  const gchar *name = hq_protocol_error_code (code);

  json_object_set_string_member (
      msg, "code", name ? name : error_codes[HQ_PROTOCOL_ERROR_INTERNAL]);
  json_object_set_string_member (msg, "message", message ? message : "");
  return msg;
}

JsonObject *
hq_protocol_candidate_new (const gchar *transport, const gchar *candidate)
{
  JsonObject *msg = hq_protocol_message_new (
      candidate ? HQ_MESSAGE_CANDIDATE : HQ_MESSAGE_END_OF_CANDIDATES, NULL);

  json_object_set_string_member (msg, "transport", transport);
  if (candidate)
    json_object_set_string_member (
        msg, messages[HQ_MESSAGE_CANDIDATE].name, candidate);
  return msg;
}

gchar *
hq_protocol_to_text (JsonObject *msg)
{
  g_autoptr (JsonNode) node = json_node_new (JSON_NODE_OBJECT);

  json_node_set_object (node, msg);
  return json_to_string (node, FALSE);
}

HqMessageType
hq_protocol_read_type (JsonObject *msg)
{
  const gchar *name = NULL;

  if (msg == NULL
      || !hq_protocol_read_optional_string (msg, "type", &name, NULL))
    return HQ_MESSAGE_UNKNOWN;
  return hq_protocol_message_type (name);
}

gboolean
hq_protocol_read_error (
    JsonObject *msg, HqProtocolError *code, const gchar **message)
{
  const gchar *name = NULL, *text = "";
  HqProtocolError value = HQ_PROTOCOL_ERROR_BAD_MESSAGE;

  if (hq_protocol_read_type (msg) != HQ_MESSAGE_ERROR)
    return FALSE;
  hq_protocol_read_optional_string (msg, "code", &name, NULL);
  hq_protocol_read_optional_string (msg, "message", &text, NULL);
  hq_protocol_error_from_code (name, &value);
  if (code)
    *code = value;
  if (message)
    *message = text;
  return TRUE;
}

/* --- readers --- */

/* What @node is, for an error message. */
static const gchar *
node_kind (JsonNode *node)
{
  if (JSON_NODE_HOLDS_OBJECT (node))
    return "an object";
  if (JSON_NODE_HOLDS_ARRAY (node))
    return "an array";
  if (JSON_NODE_HOLDS_NULL (node))
    return "null";
  switch (json_node_get_value_type (node)) {
    case G_TYPE_STRING:
      return "a string";
    case G_TYPE_BOOLEAN:
      return "true or false";
    case G_TYPE_INT64:
      return "a whole number";
    default:
      return "a number";
  }
}

static gboolean
wrong_type (
    JsonNode *node, const gchar *name, const gchar *expected, GError **error)
{
  g_set_error (error, HQ_PROTOCOL_ERROR, HQ_PROTOCOL_ERROR_INVALID_FIELD,
      "%.64s must be %s, not %s.", name, expected, node_kind (node));
  return FALSE;
}

/* @name's node, or NULL when absent or null. */
static JsonNode *
member (JsonObject *msg, const gchar *name)
{
  JsonNode *node = json_object_get_member (msg, name);

  return node == NULL || JSON_NODE_HOLDS_NULL (node) ? NULL : node;
}

static gboolean
holds_value (JsonNode *node, GType type)
{
  return JSON_NODE_HOLDS_VALUE (node)
      && json_node_get_value_type (node) == type;
}

gboolean
hq_protocol_require (JsonObject *msg, const gchar *name, GError **error)
{
  if (member (msg, name) != NULL)
    return TRUE;
  g_set_error (error, HQ_PROTOCOL_ERROR, HQ_PROTOCOL_ERROR_INVALID_FIELD,
      "%.64s is missing.", name);
  return FALSE;
}

gboolean
hq_protocol_read_string (
    JsonObject *msg, const gchar *name, const gchar **out, GError **error)
{
  return hq_protocol_require (msg, name, error)
      && hq_protocol_read_optional_string (msg, name, out, error);
}

static gboolean
holds_string (JsonNode *node)
{
  return holds_value (node, G_TYPE_STRING);
}

static gboolean
holds_int (JsonNode *node)
{
  return holds_value (node, G_TYPE_INT64);
}

static gboolean
holds_bool (JsonNode *node)
{
  return holds_value (node, G_TYPE_BOOLEAN);
}

static gboolean
holds_object (JsonNode *node)
{
  return JSON_NODE_HOLDS_OBJECT (node);
}

static gboolean
holds_array (JsonNode *node)
{
  return JSON_NODE_HOLDS_ARRAY (node);
}

/* *@out: @name's node when it is present and @holds it, else NULL; FALSE
 * (with @error) when it is present and of another kind. */
static gboolean
read_node (JsonObject *msg, const gchar *name, gboolean (*holds) (JsonNode *),
    const gchar *expected, JsonNode **out, GError **error)
{
  JsonNode *node = member (msg, name);

  *out = NULL;
  if (node == NULL)
    return TRUE;
  if (!holds (node))
    return wrong_type (node, name, expected, error);
  *out = node;
  return TRUE;
}

gboolean
hq_protocol_read_optional_string (
    JsonObject *msg, const gchar *name, const gchar **out, GError **error)
{
  JsonNode *node;

  if (!read_node (msg, name, holds_string, "a string", &node, error))
    return FALSE;
  if (node)
    *out = json_node_get_string (node);
  return TRUE;
}

gboolean
hq_protocol_read_int (
    JsonObject *msg, const gchar *name, gint64 *out, GError **error)
{
  JsonNode *node;

  if (!read_node (msg, name, holds_int, "a whole number", &node, error))
    return FALSE;
  if (node)
    *out = json_node_get_int (node);
  return TRUE;
}

gboolean
hq_protocol_read_bool (
    JsonObject *msg, const gchar *name, gboolean *out, GError **error)
{
  JsonNode *node;

  if (!read_node (msg, name, holds_bool, "true or false", &node, error))
    return FALSE;
  if (node)
    *out = json_node_get_boolean (node);
  return TRUE;
}

gboolean
hq_protocol_read_object (
    JsonObject *msg, const gchar *name, JsonObject **out, GError **error)
{
  JsonNode *node;

  if (!read_node (msg, name, holds_object, "a JSON object", &node, error))
    return FALSE;
  if (node)
    *out = json_node_get_object (node);
  return TRUE;
}

gboolean
hq_protocol_read_priority (
    JsonObject *msg, const gchar *name, HqPriority *out, GError **error)
{
  const gchar *value = NULL;

  if (!hq_protocol_read_optional_string (msg, name, &value, error))
    return FALSE;
  return hq_protocol_check_priority (value, out, error);
}

gboolean
hq_protocol_read_array (
    JsonObject *msg, const gchar *name, JsonArray **out, GError **error)
{
  JsonNode *node;

  if (!read_node (msg, name, holds_array, "a JSON array", &node, error))
    return FALSE;
  if (node)
    *out = json_node_get_array (node);
  return TRUE;
}

/* --- the fields of each client message --- */

typedef enum
{
  FIELD_STRING,
  FIELD_INT,
  FIELD_BOOL,
  FIELD_OBJECT,
  FIELD_ARRAY,
} FieldKind;

static const struct
{
  HqMessageType type;
  const gchar *name;
  FieldKind kind;
  gboolean required;
} message_fields[] = {
  { HQ_MESSAGE_JOIN, "token", FIELD_STRING, TRUE },
  { HQ_MESSAGE_JOIN, "room", FIELD_STRING, FALSE },
  { HQ_MESSAGE_JOIN, "resume_token", FIELD_STRING, FALSE },
  { HQ_MESSAGE_JOIN, "subscribe_rules", FIELD_ARRAY, FALSE },
  { HQ_MESSAGE_JOIN, "bandwidth_profile", FIELD_OBJECT, FALSE },
  { HQ_MESSAGE_CHAT_JOIN, "token", FIELD_STRING, TRUE },
  { HQ_MESSAGE_CHAT_JOIN, "room", FIELD_STRING, FALSE },
  /* Required unless media_sid is there; its handler says so. */
  { HQ_MESSAGE_CHAT_SEND, "body", FIELD_STRING, FALSE },
  { HQ_MESSAGE_CHAT_SEND, "attributes", FIELD_OBJECT, FALSE },
  { HQ_MESSAGE_CHAT_SEND, "media_sid", FIELD_STRING, FALSE },
  { HQ_MESSAGE_CHAT_MEDIA_URL, "media_sid", FIELD_STRING, TRUE },
  { HQ_MESSAGE_CHAT_HISTORY, "before", FIELD_INT, FALSE },
  { HQ_MESSAGE_CHAT_HISTORY, "limit", FIELD_INT, FALSE },
  { HQ_MESSAGE_TRACK_PUBLISH, "name", FIELD_STRING, TRUE },
  { HQ_MESSAGE_TRACK_PUBLISH, "kind", FIELD_STRING, TRUE },
  { HQ_MESSAGE_TRACK_PUBLISH, "enabled", FIELD_BOOL, FALSE },
  { HQ_MESSAGE_TRACK_PUBLISH, "priority", FIELD_STRING, FALSE },
  { HQ_MESSAGE_TRACK_UNPUBLISH, "track_sid", FIELD_STRING, TRUE },
  { HQ_MESSAGE_TRACK_UPDATE, "track_sid", FIELD_STRING, TRUE },
  { HQ_MESSAGE_TRACK_UPDATE, "enabled", FIELD_BOOL, FALSE },
  { HQ_MESSAGE_TRACK_UPDATE, "priority", FIELD_STRING, FALSE },
  /* One of the two: a waiting participant, or a banned identity. */
  { HQ_MESSAGE_ADMIT, "participant_sid", FIELD_STRING, FALSE },
  { HQ_MESSAGE_ADMIT, "identity", FIELD_STRING, FALSE },
  { HQ_MESSAGE_DENY, "participant_sid", FIELD_STRING, TRUE },
  { HQ_MESSAGE_DENY, "reason", FIELD_STRING, FALSE },
  { HQ_MESSAGE_REMOVE, "participant_sid", FIELD_STRING, TRUE },
  { HQ_MESSAGE_REMOVE, "reason", FIELD_STRING, FALSE },
  { HQ_MESSAGE_MUTE, "participant_sid", FIELD_STRING, TRUE },
  { HQ_MESSAGE_MUTE, "track_sid", FIELD_STRING, TRUE },
  /* Required, but its handler says so with an example. */
  { HQ_MESSAGE_SUBSCRIBE_RULES, "rules", FIELD_ARRAY, FALSE },
  { HQ_MESSAGE_PUBLISH_OFFER, "sdp", FIELD_STRING, TRUE },
  { HQ_MESSAGE_PUBLISH_OFFER, "tracks", FIELD_ARRAY, FALSE },
  { HQ_MESSAGE_SUBSCRIBE_ANSWER, "sdp", FIELD_STRING, TRUE },
  { HQ_MESSAGE_SUBSCRIBE_ANSWER, "revision", FIELD_INT, TRUE },
  { HQ_MESSAGE_CANDIDATE, "transport", FIELD_STRING, TRUE },
  { HQ_MESSAGE_CANDIDATE, "candidate", FIELD_STRING, FALSE },
  { HQ_MESSAGE_END_OF_CANDIDATES, "transport", FIELD_STRING, TRUE },
  { HQ_MESSAGE_ICE_RESTART, "transport", FIELD_STRING, TRUE },
  { HQ_MESSAGE_NETWORK_QUALITY_CONFIGURE, "local", FIELD_INT, FALSE },
  { HQ_MESSAGE_NETWORK_QUALITY_CONFIGURE, "remote", FIELD_INT, FALSE },
  { HQ_MESSAGE_PEER_OFFER, "to", FIELD_STRING, TRUE },
  { HQ_MESSAGE_PEER_OFFER, "sdp", FIELD_STRING, TRUE },
  { HQ_MESSAGE_PEER_ANSWER, "to", FIELD_STRING, TRUE },
  { HQ_MESSAGE_PEER_ANSWER, "sdp", FIELD_STRING, TRUE },
  { HQ_MESSAGE_PEER_CANDIDATE, "to", FIELD_STRING, TRUE },
  { HQ_MESSAGE_PEER_CANDIDATE, "candidate", FIELD_STRING, TRUE },
  /* Absent: record everything. */
  { HQ_MESSAGE_RECORDING_START, "rules", FIELD_ARRAY, FALSE },
  { HQ_MESSAGE_SUBSCRIBE_PRIORITY, "track_sid", FIELD_STRING, TRUE },
  /* Absent or null: back to the publisher's priority. */
  { HQ_MESSAGE_SUBSCRIBE_PRIORITY, "priority", FIELD_STRING, FALSE },
  { HQ_MESSAGE_DATA_SEND, "track_sid", FIELD_STRING, TRUE },
  { HQ_MESSAGE_DATA_SEND, "data", FIELD_STRING, TRUE },
  { HQ_MESSAGE_DATA_SEND, "binary", FIELD_BOOL, FALSE },
  /* Absent: to everyone else. */
  { HQ_MESSAGE_E2EE_SEND, "to", FIELD_STRING, FALSE },
  { HQ_MESSAGE_E2EE_SEND, "data", FIELD_STRING, TRUE },
  /* Absent: nothing changes; the reply says what is in effect. */
  { HQ_MESSAGE_BANDWIDTH_PROFILE, "video", FIELD_OBJECT, FALSE },
  { HQ_MESSAGE_TRACK_HINTS, "hints", FIELD_ARRAY, TRUE },
};

static gboolean
check_field (JsonObject *msg, const gchar *name, FieldKind kind,
    gboolean required, GError **error)
{
  static const struct
  {
    gboolean (*holds) (JsonNode *node);
    const gchar *expected;
  } kinds[] = {
    [FIELD_STRING] = { holds_string, "a string" },
    [FIELD_INT] = { holds_int, "a whole number" },
    [FIELD_BOOL] = { holds_bool, "true or false" },
    [FIELD_OBJECT] = { holds_object, "a JSON object" },
    [FIELD_ARRAY] = { holds_array, "a JSON array" },
  };
  JsonNode *node;

  return (!required || hq_protocol_require (msg, name, error))
      && read_node (
          msg, name, kinds[kind].holds, kinds[kind].expected, &node, error);
}

/* publish_offer's tracks: [{"mid": "0", "track_sid": "MT..."}, ...] */
static gboolean
check_tracks (JsonObject *msg, GError **error)
{
  JsonArray *tracks = NULL;

  hq_protocol_read_array (msg, "tracks", &tracks, NULL);
  for (guint i = 0; tracks && i < json_array_get_length (tracks); i++) {
    JsonNode *n = json_array_get_element (tracks, i);
    JsonObject *t =
        JSON_NODE_HOLDS_OBJECT (n) ? json_node_get_object (n) : NULL;

    if (t == NULL) {
      g_set_error (error, HQ_PROTOCOL_ERROR, HQ_PROTOCOL_ERROR_INVALID_FIELD,
          "tracks[%u] must be an object {\"mid\", \"track_sid\"}, not %s.", i,
          node_kind (n));
      return FALSE;
    }
    if (!check_field (t, "mid", FIELD_STRING, TRUE, error)
        || !check_field (t, "track_sid", FIELD_STRING, TRUE, error)) {
      g_prefix_error (error, "tracks[%u]: ", i);
      return FALSE;
    }
  }
  return TRUE;
}

gboolean
hq_protocol_check_message (JsonObject *msg, HqMessageType type, GError **error)
{
  for (gsize i = 0; i < G_N_ELEMENTS (message_fields); i++)
    if (message_fields[i].type == type
        && !check_field (msg, message_fields[i].name, message_fields[i].kind,
            message_fields[i].required, error))
      return FALSE;
  return type != HQ_MESSAGE_PUBLISH_OFFER || check_tracks (msg, error);
}
