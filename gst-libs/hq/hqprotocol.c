/* Protocol limits, bounded parsing and typed readers; see hqprotocol.h. */
#include "hqprotocol.h"

G_DEFINE_QUARK (hq - protocol - error - quark, hq_protocol_error)

const gchar *
hq_protocol_error_code (HqProtocolError code)
{
  switch (code) {
    case HQ_PROTOCOL_ERROR_MALFORMED_JSON:
      return "malformed_json";
    case HQ_PROTOCOL_ERROR_BAD_MESSAGE:
      return "bad_message";
    case HQ_PROTOCOL_ERROR_TOO_BIG:
      return "message_too_big";
    case HQ_PROTOCOL_ERROR_INVALID_FIELD:
    default:
      return "invalid_field";
  }
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
