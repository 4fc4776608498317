/* The signalling protocol of docs/protocol.md in C: its limits, the
 * messages that carry SDP, a bounded JSON parse and typed field readers.
 *
 * Everything a client sends is read through here, so that a field of the
 * wrong JSON type is an `invalid_field` error that names the field and the
 * type it must have, never a NULL handed to the code behind; and no text
 * reaches json-glib before its size and nesting depth are known to be
 * within bounds (json-glib's parser recurses once per nesting level, so
 * 80,000 nested brackets would exhaust the stack).
 *
 * The readers leave *out unchanged when a field is absent or null (the
 * caller's default stands), except hq_protocol_read_string(), for fields a
 * message cannot do without.  Strings and containers they return belong to
 * the message they were read from. */
#ifndef __HQ_PROTOCOL_H__
#define __HQ_PROTOCOL_H__

#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/* Largest message, bytes, and the only size read before `join`. */
#define HQ_PROTOCOL_MAX_MESSAGE (64 * 1024)
/* Largest message of a joined participant that carries SDP
 * (hq_protocol_carries_sdp()): a subscriber in a 50-participant room
 * answers about 100 m-lines, which takes more than 64 KiB. */
#define HQ_PROTOCOL_MAX_SDP_MESSAGE (1024 * 1024 - 1024)
/* Deepest nesting of arrays and objects in a message (a message is depth
 * 1; subscribe rules are 3; chat attributes have the rest). */
#define HQ_PROTOCOL_MAX_DEPTH 32

/* WebSocket close code for a message over its size limit. */
#define HQ_PROTOCOL_CLOSE_TOO_BIG 1009

#define HQ_PROTOCOL_ERROR (hq_protocol_error_quark ())
GQuark hq_protocol_error_quark (void);

/**
 * HqProtocolError:
 * @HQ_PROTOCOL_ERROR_MALFORMED_JSON: not JSON, or nested too deeply.
 * @HQ_PROTOCOL_ERROR_BAD_MESSAGE: JSON, but not an object.
 * @HQ_PROTOCOL_ERROR_TOO_BIG: over the size limit; never parsed.
 * @HQ_PROTOCOL_ERROR_INVALID_FIELD: a field missing or of the wrong type.
 */
typedef enum
{
  HQ_PROTOCOL_ERROR_MALFORMED_JSON,
  HQ_PROTOCOL_ERROR_BAD_MESSAGE,
  HQ_PROTOCOL_ERROR_TOO_BIG,
  HQ_PROTOCOL_ERROR_INVALID_FIELD,
} HqProtocolError;

/* The protocol's error code for @code ("malformed_json", "bad_message",
 * "message_too_big", "invalid_field"). */
const gchar *hq_protocol_error_code (HqProtocolError code);

/* Whether the @len bytes of JSON text at @data nest arrays and objects at
 * most @max_depth deep.  A linear scan that skips strings; it does not
 * check that the text is JSON, but it is FALSE for a '/' or a '\'' outside
 * a string: json-glib reads comments and single-quoted strings, where a
 * '"' would hide brackets from the scan, and JSON has neither. */
gboolean hq_protocol_depth_ok (const gchar *data, gsize len, guint max_depth);

/* Parses @len bytes of JSON text, refused unread when over @max_len bytes
 * or nested deeper than HQ_PROTOCOL_MAX_DEPTH.  Returns the root node
 * (owned by the caller) or NULL with @error set. */
JsonNode *hq_protocol_parse (
    const gchar *data, gsize len, gsize max_len, GError **error);

/* hq_protocol_parse() of a text whose root must be an object (a message,
 * a request body).  Returns a new reference. */
JsonObject *hq_protocol_parse_object (
    const gchar *data, gsize len, gsize max_len, GError **error);

/**
 * HqMessageType:
 *
 * The messages a client sends (docs/protocol.md), named in one place:
 * hq_protocol_message_type() and hq_protocol_message_name() convert.
 */
typedef enum
{
  HQ_MESSAGE_UNKNOWN,
  HQ_MESSAGE_JOIN,
  HQ_MESSAGE_PING,
  HQ_MESSAGE_LEAVE,
  HQ_MESSAGE_CHAT_SEND,
  HQ_MESSAGE_CHAT_HISTORY,
  HQ_MESSAGE_TRACK_PUBLISH,
  HQ_MESSAGE_TRACK_UNPUBLISH,
  HQ_MESSAGE_TRACK_UPDATE,
  HQ_MESSAGE_ADMIT,
  HQ_MESSAGE_DENY,
  HQ_MESSAGE_MUTE,
  HQ_MESSAGE_REMOVE,
  HQ_MESSAGE_PUBLISH_OFFER,
  HQ_MESSAGE_SUBSCRIBE_ANSWER,
  HQ_MESSAGE_CANDIDATE,
  HQ_MESSAGE_END_OF_CANDIDATES,
  HQ_MESSAGE_NETWORK_QUALITY_CONFIGURE,
  HQ_MESSAGE_SUBSCRIBE_RULES,
  HQ_MESSAGE_PEER_OFFER,
  HQ_MESSAGE_PEER_ANSWER,
  HQ_MESSAGE_PEER_CANDIDATE,
  HQ_MESSAGE_CHAT_JOIN,
  HQ_MESSAGE_CHAT_MEDIA_URL,
  HQ_MESSAGE_RECORDING_START,
  HQ_MESSAGE_RECORDING_STOP,
  HQ_MESSAGE_SUBSCRIBE_PRIORITY,
  HQ_MESSAGE_DATA_SEND,
  HQ_MESSAGE_ROOM_COMPLETE,
  HQ_MESSAGE_ICE_RESTART,
  HQ_MESSAGE_E2EE_SEND,
} HqMessageType;

/* Events the server sends that are hqrooms' additions to Twilio's model
 * (docs/protocol.md, "Recording" and "Data tracks in group rooms"),
 * named here once for the server and the clients in C. */
#define HQ_EVENT_RECORDING_STARTED "recording_started"
#define HQ_EVENT_RECORDING_CHANGED "recording_changed"
#define HQ_EVENT_RECORDING_STOPPED "recording_stopped"
#define HQ_EVENT_DATA_MESSAGE "data_message"
/* End-to-end key messages relayed as they are (docs/e2ee.md), and the
 * most bytes one carries. */
#define HQ_EVENT_E2EE_MESSAGE "e2ee_message"
#define HQ_PROTOCOL_MAX_E2EE 4096

/* Data track messages carried by the signalling connection in rooms whose
 * media goes through the server: the most bytes one message carries (a
 * string's UTF-8 bytes, or the decoded bytes of a binary one: Twilio's
 * 16 KiB), and what one participant may send in one second. */
#define HQ_PROTOCOL_MAX_DATA 16384
#define HQ_PROTOCOL_DATA_MESSAGES_PER_SECOND 100
#define HQ_PROTOCOL_DATA_BYTES_PER_SECOND (256 * 1024)

/* Longest `reason` a host gives with `deny` or `remove`, bytes. */
#define HQ_PROTOCOL_MAX_REASON 256

/* The message type @name (NULL allowed) names, or HQ_MESSAGE_UNKNOWN. */
HqMessageType hq_protocol_message_type (const gchar *name);
/* "join", "publish_offer", ...; NULL for HQ_MESSAGE_UNKNOWN. */
const gchar *hq_protocol_message_name (HqMessageType type);

/* Whether messages of @type (a name, NULL allowed) carry SDP, so may be up
 * to HQ_PROTOCOL_MAX_SDP_MESSAGE. */
gboolean hq_protocol_carries_sdp (const gchar *type);

/* Checks the fields of client message @msg of @type against the
 * protocol's table of fields (docs/protocol.md): each present field of the
 * type it must have, each required one there, `tracks` of publish_offer
 * objects with string `mid` and `track_sid`.  Unknown fields pass: they
 * are ignored, as the protocol says. */
gboolean hq_protocol_check_message (
    JsonObject *msg, HqMessageType type, GError **error);

/* A required string: absent or null is an error too. */
gboolean hq_protocol_read_string (
    JsonObject *msg, const gchar *name, const gchar **out, GError **error);
gboolean hq_protocol_read_optional_string (
    JsonObject *msg, const gchar *name, const gchar **out, GError **error);
/* A whole number (not 1.5, not "1"). */
gboolean hq_protocol_read_int (
    JsonObject *msg, const gchar *name, gint64 *out, GError **error);
/* true or false (not 1, not "true"). */
gboolean hq_protocol_read_bool (
    JsonObject *msg, const gchar *name, gboolean *out, GError **error);
gboolean hq_protocol_read_object (
    JsonObject *msg, const gchar *name, JsonObject **out, GError **error);
gboolean hq_protocol_read_array (
    JsonObject *msg, const gchar *name, JsonArray **out, GError **error);
/* Fails with "@name is missing." unless @msg has @name, not null. */
gboolean hq_protocol_require (
    JsonObject *msg, const gchar *name, GError **error);

G_END_DECLS

#endif /* __HQ_PROTOCOL_H__ */
