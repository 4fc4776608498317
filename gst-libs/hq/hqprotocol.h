/* The signalling protocol of docs/protocol.md in C, defined once for the
 * server, HqRoomClient, the room elements and the C test client: every
 * message type both ways, the error codes, the WebSocket close codes,
 * track priorities, the names of subscribe and recording rules and the
 * reasons a participant leaves, each as an enum whose protocol name lives
 * in one table of hqprotocol.c (tests/protocol/names.py checks that no
 * other C file spells them); builders for messages; its limits; a bounded
 * JSON parse and typed field readers.
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

/* The protocol version `joined` and `chat_joined` report. */
#define HQ_PROTOCOL_VERSION "1"

/* Largest message, bytes, and the only size read before `join`. */
#define HQ_PROTOCOL_MAX_MESSAGE (64 * 1024)
/* Largest message of a joined participant that carries SDP
 * (hq_protocol_carries_sdp()): a subscriber in a 50-participant room
 * answers about 100 m-lines, which takes more than 64 KiB. */
#define HQ_PROTOCOL_MAX_SDP_MESSAGE (1024 * 1024 - 1024)
/* Deepest nesting of arrays and objects in a message (a message is depth
 * 1; subscribe rules are 3; chat attributes have the rest). */
#define HQ_PROTOCOL_MAX_DEPTH 32

/**
 * HqCloseCode:
 *
 * The WebSocket close codes of docs/protocol.md ("Close codes");
 * hq_protocol_close_text() says each in words.
 */
typedef enum
{
  HQ_CLOSE_NORMAL = 1000, /* after leave, or the grace period ran out */
  HQ_CLOSE_GOING_AWAY = 1001, /* the server shuts down */
  HQ_CLOSE_TOO_BIG = 1009, /* a message over its size limit */
  HQ_CLOSE_KEEPALIVE = 4000, /* nothing received for the keepalive timeout */
  HQ_CLOSE_REMOVED = 4001, /* removed by a host, or kicked by REST */
  HQ_CLOSE_REPLACED = 4002, /* the same identity joined elsewhere */
  HQ_CLOSE_DENIED = 4003, /* denied entry by a host */
  HQ_CLOSE_ROOM_COMPLETED = 4004, /* the room completed */
  HQ_CLOSE_MAX_DURATION = 4005, /* the room's MaxParticipantDuration */
  HQ_CLOSE_JOIN_TIMEOUT = 4006, /* no join within the join timeout */
} HqCloseCode;

/* What close @code means, for people ("removed from the room by a
 * host"); NULL for a code the protocol does not use. */
const gchar *hq_protocol_close_text (gint code);

#define HQ_PROTOCOL_ERROR (hq_protocol_error_quark ())
GQuark hq_protocol_error_quark (void);

/**
 * HqProtocolError:
 * @HQ_PROTOCOL_ERROR_MALFORMED_JSON: not JSON, or nested too deeply.
 * @HQ_PROTOCOL_ERROR_BAD_MESSAGE: JSON, but not an object.
 * @HQ_PROTOCOL_ERROR_TOO_BIG: over the size limit; never parsed.
 * @HQ_PROTOCOL_ERROR_INVALID_FIELD: a field missing or of the wrong type.
 *
 * The rest are the other error codes of docs/protocol.md ("Error codes"),
 * named alike (HQ_PROTOCOL_ERROR_NOT_HOST is `not_host`).
 */
typedef enum
{
  HQ_PROTOCOL_ERROR_MALFORMED_JSON,
  HQ_PROTOCOL_ERROR_BAD_MESSAGE,
  HQ_PROTOCOL_ERROR_TOO_BIG,
  HQ_PROTOCOL_ERROR_INVALID_FIELD,
  HQ_PROTOCOL_ERROR_UNKNOWN_TYPE,
  HQ_PROTOCOL_ERROR_NOT_JOINED,
  HQ_PROTOCOL_ERROR_ALREADY_JOINED,
  HQ_PROTOCOL_ERROR_NOT_ADMITTED,
  HQ_PROTOCOL_ERROR_INVALID_TOKEN,
  HQ_PROTOCOL_ERROR_ROOM_NOT_GRANTED,
  HQ_PROTOCOL_ERROR_ROOM_NOT_FOUND,
  HQ_PROTOCOL_ERROR_ROOM_COMPLETED,
  HQ_PROTOCOL_ERROR_ROOM_FULL,
  HQ_PROTOCOL_ERROR_BANNED,
  HQ_PROTOCOL_ERROR_NOT_HOST,
  HQ_PROTOCOL_ERROR_FORBIDDEN,
  HQ_PROTOCOL_ERROR_NOT_FOUND,
  HQ_PROTOCOL_ERROR_INTERNAL,
  HQ_PROTOCOL_ERROR_RATE_LIMITED,
  HQ_PROTOCOL_ERROR_SERVER_DRAINING,
  HQ_PROTOCOL_ERROR_INVALID_SDP,
} HqProtocolError;

/* The protocol's error code for @code ("malformed_json", "not_host",
 * ...); NULL for a value that is no HqProtocolError. */
const gchar *hq_protocol_error_code (HqProtocolError code);
/* The HqProtocolError that @name (NULL allowed) names; FALSE when none
 * does (a newer server's code: treat it as a refusal). */
gboolean hq_protocol_error_from_code (const gchar *name, HqProtocolError *out);

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
 * Every message of docs/protocol.md, both ways, named in one place:
 * hq_protocol_message_type() and hq_protocol_message_name() convert.  The
 * client's requests come first; some names go both ways (`candidate`,
 * `subscribe_rules` is also its reply, `chat_history` too).  The server
 * answers a client that sends one the server only sends with
 * `unknown_type`.
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
  HQ_MESSAGE_BANDWIDTH_PROFILE,
  HQ_MESSAGE_TRACK_HINTS,
  /* What only the server sends: replies, */
  HQ_MESSAGE_JOINED,
  HQ_MESSAGE_WAITING,
  HQ_MESSAGE_CHAT_JOINED,
  HQ_MESSAGE_PONG,
  HQ_MESSAGE_LEFT,
  HQ_MESSAGE_OK,
  HQ_MESSAGE_ERROR,
  HQ_MESSAGE_CHAT_SENT,
  HQ_MESSAGE_RECORDING_RULES,
  HQ_MESSAGE_PUBLISH_ANSWER,
  /* and events. */
  HQ_MESSAGE_DENIED,
  HQ_MESSAGE_LOBBY_CHANGED,
  HQ_MESSAGE_PARTICIPANT_CONNECTED,
  HQ_MESSAGE_PARTICIPANT_DISCONNECTED,
  HQ_MESSAGE_PARTICIPANT_RECONNECTING,
  HQ_MESSAGE_PARTICIPANT_RECONNECTED,
  HQ_MESSAGE_TRACK_PUBLISHED,
  HQ_MESSAGE_TRACK_UNPUBLISHED,
  HQ_MESSAGE_TRACK_ENABLED,
  HQ_MESSAGE_TRACK_DISABLED,
  HQ_MESSAGE_TRACK_PRIORITY_CHANGED,
  HQ_MESSAGE_CHAT_MESSAGE,
  HQ_MESSAGE_MUTED,
  HQ_MESSAGE_REMOVED,
  HQ_MESSAGE_ROOM_COMPLETED,
  HQ_MESSAGE_SERVER_DRAINING,
  HQ_MESSAGE_RECORDING_STARTED,
  HQ_MESSAGE_RECORDING_CHANGED,
  HQ_MESSAGE_RECORDING_STOPPED,
  HQ_MESSAGE_DATA_MESSAGE,
  HQ_MESSAGE_SUBSCRIBE_OFFER,
  HQ_MESSAGE_TRANSPORT_STATE,
  HQ_MESSAGE_DOMINANT_SPEAKER,
  HQ_MESSAGE_NETWORK_QUALITY,
  HQ_MESSAGE_E2EE_MESSAGE,
  HQ_MESSAGE_TRACK_SWITCHED_OFF,
  HQ_MESSAGE_TRACK_SWITCHED_ON,
  HQ_MESSAGE_PUBLISH_LAYERS,
} HqMessageType;

/* End-to-end key messages are relayed as they are (docs/e2ee.md): the
 * most bytes one carries. */
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

/* --- builders: each returns a new object, to add fields to and send --- */

/* {"type": @type, "id": @id} (no id when NULL). */
JsonObject *hq_protocol_message_new (HqMessageType type, const gchar *id);
/* {"type": "error", "id": @id, "code": @code's name, "message": @message}:
 * an error reply (no id when NULL). */
JsonObject *hq_protocol_error_new (
    const gchar *id, HqProtocolError code, const gchar *message);
/* A trickled candidate of @transport ("publish" or "subscribe"):
 * `candidate` with @candidate, or `end_of_candidates` when it is NULL. */
JsonObject *hq_protocol_candidate_new (
    const gchar *transport, const gchar *candidate);
/* @msg as one line of JSON text, to send (new). */
gchar *hq_protocol_to_text (JsonObject *msg);

/* --- typed readers of whole messages --- */

/* The type of message @msg (HQ_MESSAGE_UNKNOWN: none, not a string, or a
 * name this version does not know). */
HqMessageType hq_protocol_read_type (JsonObject *msg);
/* Whether @msg is an `error`; then *@code is its code (FALSE from
 * hq_protocol_error_from_code() when unknown: *@code is then
 * HQ_PROTOCOL_ERROR_BAD_MESSAGE), *@message its text or "" (both may be
 * NULL). */
gboolean hq_protocol_read_error (
    JsonObject *msg, HqProtocolError *code, const gchar **message);

/**
 * HqPriority:
 *
 * A track's priority (docs/protocol.md, "Track priority"): how the server
 * shares a subscriber's bandwidth between its video tracks.
 */
typedef enum
{
  HQ_PRIORITY_LOW,
  HQ_PRIORITY_STANDARD,
  HQ_PRIORITY_HIGH,
} HqPriority;

/* "low", "standard", "high"; NULL for a value that is none. */
const gchar *hq_protocol_priority_name (HqPriority priority);
/* FALSE when @name (NULL allowed) is no priority. */
gboolean hq_protocol_priority_from_name (const gchar *name, HqPriority *out);
/* Reads priority field @name of @msg: absent or null leaves *@out (the
 * caller's default); a name that is no priority is `invalid_field`
 * ("priority must be low, standard or high, not "urgent"."). */
gboolean hq_protocol_read_priority (
    JsonObject *msg, const gchar *name, HqPriority *out, GError **error);
/* The same check of a priority @value already read (NULL: absent). */
gboolean hq_protocol_check_priority (
    const gchar *value, HqPriority *out, GError **error);

/**
 * HqRuleType:
 *
 * Subscribe and recording rules (docs/protocol.md, "Choosing what you
 * receive"; docs/recordings.md): {"type": include|exclude} with one
 * HqRuleFilter.
 */
typedef enum
{
  HQ_RULE_INCLUDE,
  HQ_RULE_EXCLUDE,
} HqRuleType;

typedef enum
{
  HQ_RULE_FILTER_ALL,
  HQ_RULE_FILTER_KIND,
  HQ_RULE_FILTER_PUBLISHER,
  HQ_RULE_FILTER_TRACK,
} HqRuleFilter;

/* "include", "exclude"; NULL for none. */
const gchar *hq_protocol_rule_type_name (HqRuleType type);
gboolean hq_protocol_rule_type_from_name (const gchar *name, HqRuleType *out);
/* "all", "kind", "publisher", "track"; NULL for none. */
const gchar *hq_protocol_rule_filter_name (HqRuleFilter filter);
gboolean hq_protocol_rule_filter_from_name (
    const gchar *name, HqRuleFilter *out);

/**
 * HqParticipantState:
 *
 * A participant's `state` in the protocol's participant objects
 * (connected, reconnecting), and its status as REST and the store show it
 * (also waiting in the lobby, disconnected).
 */
typedef enum
{
  HQ_PARTICIPANT_CONNECTED,
  HQ_PARTICIPANT_RECONNECTING,
  HQ_PARTICIPANT_WAITING,
  HQ_PARTICIPANT_DISCONNECTED,
} HqParticipantState;

/* "connected", "reconnecting", ...; NULL for none. */
const gchar *hq_protocol_participant_state_name (HqParticipantState state);

/* The field that carries the payload of a relayed peer_offer, peer_answer
 * or peer_candidate (@type): "sdp" or "candidate". */
const gchar *hq_protocol_relay_field (HqMessageType type);

/**
 * HqLeaveReason:
 *
 * Why a participant left (participant_disconnected's `reason`), which is
 * also why an identity is banned (removed, kicked, denied).
 */
typedef enum
{
  HQ_LEAVE_LEFT,
  HQ_LEAVE_CONNECTION_LOST,
  HQ_LEAVE_REPLACED,
  HQ_LEAVE_REMOVED,
  HQ_LEAVE_KICKED,
  HQ_LEAVE_DENIED,
  HQ_LEAVE_MAX_PARTICIPANT_DURATION,
  HQ_LEAVE_ROOM_COMPLETED,
} HqLeaveReason;

/* "left", "connection_lost", ...; NULL for none. */
const gchar *hq_protocol_leave_reason_name (HqLeaveReason reason);
gboolean hq_protocol_leave_reason_from_name (
    const gchar *name, HqLeaveReason *out);

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
