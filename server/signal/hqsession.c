/* One participant's signalling session: the protocol of docs/protocol.md
 * over any transport that carries text messages.
 *
 * Each message is parsed and checked completely here, so the room
 * functions (hqroom.c) only ever see well-typed values; any failure is
 * answered with an `error` and the session carries on.  The session is
 * its participant's HqPeer: the room sends events and closes through it,
 * and clears the participant before it lets go of it.
 *
 * Kept apart from the WebSocket plumbing (hqsignal.c) so that a fuzzer can
 * drive it without a network. */
#include "hqsession.h"
#include "hqlog.h"
#include "hqmetrics.h"
#include "hqparticipant-profile.h"

#include <string.h>
#include <hq/hqprotocol.h>
#include <hq/hqutil.h>

struct _HqSession
{
  HqConfig *config;
  HqRooms *rooms;
  const HqSessionTransport *transport;
  gpointer user_data;
  HqParticipant *participant; /* NULL before join and after the end */
  gboolean joined; /* a join succeeded on this connection */
  gchar *peer_address; /* the client's, for rate limits */
  HqRateLimits *limits; /* not owned; may be NULL */
};

/* One request being handled: its session, message and id. */
typedef struct
{
  HqSession *session;
  JsonObject *msg;
  const gchar *id;
} Request;

/* --- sending --- */

static void
session_send (HqSession *session, JsonObject *msg)
{
  g_autofree gchar *text = hq_protocol_to_text (msg);

  session->transport->send (session->user_data, text);
}

static void
send_error (HqSession *session, const gchar *id, HqProtocolError code,
    const gchar *message)
{
  g_autoptr (JsonObject) msg = hq_protocol_error_new (id, code, message);

  session_send (session, msg);
}

static void
reply_error (Request *req, HqProtocolError code, const gchar *message)
{
  send_error (req->session, req->id, code, message);
}

static void
reply_gerror (Request *req, const GError *error)
{
  HqProtocolError code = (HqProtocolError)error->code;

  if (error->domain != HQ_PROTOCOL_ERROR
      && !hq_protocol_error_from_code (hq_room_error_code (error->code), &code))
    code = HQ_PROTOCOL_ERROR_INTERNAL;
  reply_error (req, code, error->message);
}

/* Sends {type, id} plus @fields' members (taken; may be NULL). */
static void
reply (Request *req, HqMessageType type, JsonObject *fields)
{
  g_autoptr (JsonObject) msg = hq_protocol_message_new (type, req->id);

  if (fields) {
    JsonObjectIter iter;
    const gchar *name;
    JsonNode *node;

    json_object_iter_init (&iter, fields);
    while (json_object_iter_next (&iter, &name, &node))
      json_object_set_member (msg, name, json_node_ref (node));
    json_object_unref (fields);
  }
  session_send (req->session, msg);
}

/* --- the room's view of a connection --- */

static void
peer_send (gpointer peer, JsonObject *msg)
{
  session_send (peer, msg);
}

static void
peer_close (gpointer peer, gushort code, const gchar *reason)
{
  HqSession *session = peer;

  session->participant = NULL;
  session->transport->close (session->user_data, code, reason);
}

static const HqPeerOps peer_ops = { peer_send, peer_close };

/* --- fields ---
 *
 * Each reads through libhq's typed readers (hqprotocol.h) and, on a
 * missing or wrong-typed field, replies `invalid_field` naming it. */

/* Replies with *@error unless @ok (the result of a read that took
 * @error); returns @ok. */
static gboolean
field_failed (Request *req, gboolean ok, GError **error)
{
  if (!ok) {
    reply_gerror (req, *error);
    g_clear_error (error);
  }
  return ok;
}

static gboolean
field_string (
    Request *req, const gchar *name, gboolean required, const gchar **out)
{
  GError *error = NULL;

  return field_failed (req,
      required ? hq_protocol_read_string (req->msg, name, out, &error)
               : hq_protocol_read_optional_string (req->msg, name, out, &error),
      &error);
}

static gboolean
field_int (Request *req, const gchar *name, gint64 *out)
{
  GError *error = NULL;

  return field_failed (
      req, hq_protocol_read_int (req->msg, name, out, &error), &error);
}

static gboolean
field_bool (Request *req, const gchar *name, gboolean *out)
{
  GError *error = NULL;

  return field_failed (
      req, hq_protocol_read_bool (req->msg, name, out, &error), &error);
}

static gboolean
field_object (Request *req, const gchar *name, JsonObject **out)
{
  GError *error = NULL;

  return field_failed (
      req, hq_protocol_read_object (req->msg, name, out, &error), &error);
}

/* @name, when present, as checked subscribe rules (a new reference in
 * *@out); FALSE after replying with the error. */
static gboolean
field_rules (Request *req, const gchar *name, JsonArray **out)
{
  g_autoptr (GError) error = NULL;
  JsonArray *rules = NULL;

  *out = NULL;
  if (!hq_protocol_read_array (req->msg, name, &rules, &error)
      || (rules && !hq_subscribe_rules_check (rules, name, &error))) {
    reply_gerror (req, error);
    return FALSE;
  }
  if (rules)
    *out = json_array_ref (rules);
  return TRUE;
}

/* --- join --- */

static void
token_error (Request *req, const GError *error)
{
  g_autofree gchar *why = NULL;

  if (error->code == HQ_TOKEN_ERROR_ROOM_NOT_GRANTED) {
    reply_error (req, HQ_PROTOCOL_ERROR_ROOM_NOT_GRANTED, error->message);
    return;
  }
  why = g_strdup_printf ("The access token was refused (%s): %s",
      hq_token_error_name (error->code), error->message);
  reply_error (req, HQ_PROTOCOL_ERROR_INVALID_TOKEN, why);
}

/* Whether @claims admit to @room (found by @room_id, or NULL). */
static gboolean
grants (const HqTokenClaims *claims, HqRoom *room, const gchar *room_id)
{
  const HqRoomRecord *rec;

  if (room == NULL)
    return g_strcmp0 (claims->room, room_id) == 0;
  rec = hq_room_get_record (room);
  return g_strcmp0 (claims->room, rec->unique_name) == 0
      || g_strcmp0 (claims->room, rec->sid) == 0;
}

/* Whether @room_id (a sid or unique name) names a completed room. */
static gboolean
room_completed (HqSession *session, const gchar *room_id)
{
  HqStore *store = hq_rooms_get_store (session->rooms);
  g_autoptr (HqRoomRecord) rec = NULL;
  g_autoptr (GPtrArray) done = NULL;

  if (hq_sid_is_valid (room_id, "RM")) {
    rec = hq_store_get_room (store, room_id, NULL);
    return rec != NULL && g_strcmp0 (rec->status, "completed") == 0;
  }
  done = hq_store_list_rooms (store, "completed", room_id, 1, 0, NULL);
  return done != NULL && done->len > 0;
}

/* Joins per client address, counted before the token is even read. */
static gboolean
join_rate_ok (Request *req)
{
  HqSession *session = req->session;
  g_autofree gchar *why = NULL;
  guint retry = 0;

  if (session->limits == NULL || session->peer_address == NULL
      || hq_rate_limit_take (
          session->limits->join, session->peer_address, &retry))
    return TRUE;
  why = g_strdup_printf ("At most %u joins a minute are accepted from one "
                         "address; try again in %u s.",
      hq_rate_limit_per_minute (session->limits->join), retry);
  reply_error (req, HQ_PROTOCOL_ERROR_RATE_LIMITED, why);
  return FALSE;
}

/* What `join` and `chat_join` check first: a connection not joined yet,
 * the join rate, the token.  Returns its claims (new) and the `room`
 * field in *@room_id, or NULL after replying. */
static HqTokenClaims *
verify_join (Request *req, const gchar **room_id)
{
  const gchar *token = NULL;
  g_autoptr (GError) error = NULL;
  HqTokenClaims *claims;

  if (req->session->participant) {
    reply_error (req, HQ_PROTOCOL_ERROR_ALREADY_JOINED,
        "This connection has joined already; open another one to join "
        "again.");
    return NULL;
  }
  if (!join_rate_ok (req))
    return NULL;
  if (!field_string (req, "token", TRUE, &token)
      || !field_string (req, "room", FALSE, room_id))
    return NULL;
  claims =
      hq_token_verify (req->session->config->keyring, token, NULL, 0, &error);
  if (claims == NULL)
    token_error (req, error);
  return claims;
}

/* The room in progress @room_id names, if @claims admit to it; NULL after
 * replying room_not_granted, room_completed or room_not_found. */
static HqRoom *
find_room (Request *req, const HqTokenClaims *claims, const gchar *room_id)
{
  HqSession *session = req->session;
  HqRoom *room = hq_rooms_lookup (session->rooms, room_id);
  g_autofree gchar *why = NULL;

  /* Checked before telling whether the room exists: a token for one room
   * learns nothing about others. */
  if (claims->room && !grants (claims, room, room_id)) {
    why =
        g_strdup_printf ("The token admits to room \"%s\", not to \"%.200s\".",
            claims->room, room_id);
    reply_error (req, HQ_PROTOCOL_ERROR_ROOM_NOT_GRANTED, why);
    return NULL;
  }
  if (room != NULL)
    return room;
  if (room_completed (session, room_id)) {
    why = g_strdup_printf (
        "Room \"%.200s\" has completed; it takes no more participants.",
        room_id);
    reply_error (req, HQ_PROTOCOL_ERROR_ROOM_COMPLETED, why);
  } else {
    why = g_strdup_printf ("There is no room \"%.200s\" in progress.", room_id);
    reply_error (req, HQ_PROTOCOL_ERROR_ROOM_NOT_FOUND, why);
  }
  return NULL;
}

static void
join (Request *req)
{
  HqSession *session = req->session;
  const gchar *room_id = NULL, *resume = NULL;
  JsonArray *rules = NULL;
  JsonObject *profile = NULL, *video = NULL;
  g_autoptr (HqTokenClaims) claims = NULL;
  g_autoptr (GError) error = NULL;
  HqRoom *room;

  claims = verify_join (req, &room_id);
  if (claims == NULL || !field_string (req, "resume_token", FALSE, &resume))
    return;
  if (room_id == NULL)
    room_id = claims->room;
  if (room_id == NULL) {
    reply_error (req, HQ_PROTOCOL_ERROR_INVALID_FIELD,
        "room is missing, and the token does not name a room.");
    return;
  }
  room = find_room (req, claims, room_id);
  if (room == NULL || !field_rules (req, "subscribe_rules", &rules)
      || !field_object (req, "bandwidth_profile", &profile))
    return;
  /* {"video": {...}}, as the bandwidth_profile request carries it */
  if (profile
      && (!hq_protocol_read_object (profile, "video", &video, &error)
          || !hq_participant_check_bandwidth_profile (video, &error))) {
    reply_gerror (req, error);
    return;
  }
  /* In effect before the SFU builds the first offer (the recorder ignores
   * them: it takes the recording rules). */
  session->participant = hq_room_join (
      room, claims, resume, rules, &peer_ops, session, req->id, &error);
  if (session->participant == NULL) {
    reply_gerror (req, error);
    return;
  }
  session->joined = TRUE;
  /* checked above; a peer-to-peer room has no use for it */
  if (video) {
    JsonObject *effect = hq_participant_set_bandwidth_profile (
        session->participant, video, NULL);
    if (effect)
      json_object_unref (effect);
  }
}

/* A join, counted and timed for /metrics (docs/metrics.md). */
static void
handle_join (Request *req)
{
  gboolean joined_before = req->session->participant != NULL;
  gint64 start = g_get_monotonic_time ();

  join (req);
  if (joined_before)
    return; /* already_joined: not a join attempt */
  if (req->session->participant) {
    hq_metrics_count (HQ_COUNTER_JOINS, 1);
    hq_metrics_observe (HQ_HISTOGRAM_JOIN_SECONDS,
        (g_get_monotonic_time () - start) / (gdouble)G_USEC_PER_SEC);
  } else {
    hq_metrics_count (HQ_COUNTER_JOINS_REFUSED, 1);
  }
}

/* chat_join: the room's chat without media, not as a participant
 * (docs/protocol.md, "Chat-only connections").  Without a room it only
 * checks the token (a client's sign-in): the connection may chat_join a
 * room later. */
static void
handle_chat_join (Request *req)
{
  HqSession *session = req->session;
  const gchar *room_id = NULL;
  g_autoptr (HqTokenClaims) claims = NULL;
  g_autoptr (GError) error = NULL;
  HqRoom *room;

  claims = verify_join (req, &room_id);
  if (claims == NULL)
    return;
  if (!claims->chat) {
    reply_error (req, HQ_PROTOCOL_ERROR_INVALID_TOKEN,
        "The access token was refused (no_chat_grant): it grants no chat "
        "(grants.chat); ask the token server for a token with chat.");
    return;
  }
  if (room_id == NULL) {
    JsonObject *fields = json_object_new ();
    JsonObject *member = json_object_new ();
    json_object_set_string_member (fields, "protocol", HQ_PROTOCOL_VERSION);
    json_object_set_null_member (fields, "room");
    json_object_set_string_member (member, "identity", claims->identity);
    json_object_set_string_member (
        member, "name", claims->name ? claims->name : claims->identity);
    json_object_set_object_member (fields, "member", member);
    session->joined = TRUE;
    reply (req, HQ_MESSAGE_CHAT_JOINED, fields);
    return;
  }
  room = find_room (req, claims, room_id);
  if (room == NULL)
    return;
  session->participant =
      hq_room_chat_join (room, claims, &peer_ops, session, req->id, &error);
  if (session->participant == NULL)
    reply_gerror (req, error);
  else
    session->joined = TRUE;
}

/* --- requests of a joined participant --- */

static void
handle_leave (Request *req)
{
  HqParticipant *p = req->session->participant;

  reply (req, HQ_MESSAGE_LEFT, NULL);
  hq_participant_leave (p);
}

static void
handle_ping (Request *req)
{
  reply (req, HQ_MESSAGE_PONG, NULL);
}

static void
handle_chat_send (Request *req)
{
  const gchar *body = NULL, *media_sid = NULL;
  JsonObject *attributes = NULL;
  g_autoptr (GError) error = NULL;
  JsonObject *message, *fields;

  if (!field_string (req, "body", FALSE, &body)
      || !field_object (req, "attributes", &attributes)
      || !field_string (req, "media_sid", FALSE, &media_sid))
    return;
  message = hq_participant_chat (
      req->session->participant, body, attributes, media_sid, &error);
  if (message == NULL) {
    reply_gerror (req, error);
    return;
  }
  fields = json_object_new ();
  json_object_set_object_member (fields, "message", message);
  reply (req, HQ_MESSAGE_CHAT_SENT, fields);
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
    reply_error (
        req, HQ_PROTOCOL_ERROR_INVALID_FIELD, "limit must be 1 to 50.");
    return;
  }
  messages = hq_participant_chat_history (
      req->session->participant, before, (guint)limit, &has_more, &error);
  if (messages == NULL) {
    reply_gerror (req, error);
    return;
  }
  fields = json_object_new ();
  json_object_set_array_member (fields, "messages", messages);
  json_object_set_boolean_member (fields, "has_more", has_more);
  reply (req, HQ_MESSAGE_CHAT_HISTORY, fields);
}

static void
handle_chat_media_url (Request *req)
{
  const gchar *media_sid = NULL;
  g_autoptr (GError) error = NULL;
  JsonObject *fields;

  if (!field_string (req, "media_sid", TRUE, &media_sid))
    return;
  fields = hq_participant_chat_media_url (
      req->session->participant, media_sid, &error);
  if (fields == NULL)
    reply_gerror (req, error);
  else
    reply (req, HQ_MESSAGE_CHAT_MEDIA_URL, fields);
}

static void
reply_track (
    Request *req, HqMessageType type, JsonObject *track, const GError *error)
{
  JsonObject *fields;

  if (track == NULL) {
    reply_gerror (req, error);
    return;
  }
  fields = json_object_new ();
  json_object_set_string_member (fields, "participant_sid",
      hq_participant_get_sid (req->session->participant));
  json_object_set_object_member (fields, "track", track);
  reply (req, type, fields);
}

static void
handle_track_publish (Request *req)
{
  const gchar *name = NULL, *kind = NULL, *priority = NULL;
  gboolean enabled = TRUE;
  g_autoptr (GError) error = NULL;
  JsonObject *track;

  if (!field_string (req, "name", TRUE, &name)
      || !field_string (req, "kind", TRUE, &kind)
      || !field_bool (req, "enabled", &enabled)
      || !field_string (req, "priority", FALSE, &priority))
    return;
  track = hq_participant_publish_track (
      req->session->participant, name, kind, enabled, priority, &error);
  reply_track (req, HQ_MESSAGE_TRACK_PUBLISHED, track, error);
}

static void
handle_track_unpublish (Request *req)
{
  const gchar *sid = NULL;
  g_autoptr (GError) error = NULL;
  JsonObject *track;

  if (!field_string (req, "track_sid", TRUE, &sid))
    return;
  track =
      hq_participant_unpublish_track (req->session->participant, sid, &error);
  reply_track (req, HQ_MESSAGE_TRACK_UNPUBLISHED, track, error);
}

/* enabled, priority or both; with both, the priority changes first and
 * the reply is the one for enabled. */
static void
handle_track_update (Request *req)
{
  const gchar *sid = NULL, *priority = NULL;
  gboolean enabled = TRUE;
  g_autoptr (GError) error = NULL;
  JsonObject *track;

  if (!field_string (req, "track_sid", TRUE, &sid)
      || !field_bool (req, "enabled", &enabled)
      || !field_string (req, "priority", FALSE, &priority))
    return;
  if (!hq_protocol_require (req->msg, "enabled", NULL) && priority == NULL) {
    reply_error (req, HQ_PROTOCOL_ERROR_INVALID_FIELD,
        "enabled or priority is missing: track_update changes one or both.");
    return;
  }
  if (priority) {
    track = hq_participant_set_track_priority (
        req->session->participant, sid, priority, &error);
    if (track == NULL || !hq_protocol_require (req->msg, "enabled", NULL)) {
      reply_track (req, HQ_MESSAGE_TRACK_PRIORITY_CHANGED, track, error);
      return;
    }
    json_object_unref (track);
  }
  track = hq_participant_set_track_enabled (
      req->session->participant, sid, enabled, &error);
  reply_track (req,
      enabled ? HQ_MESSAGE_TRACK_ENABLED : HQ_MESSAGE_TRACK_DISABLED, track,
      error);
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
  if (fn (req->session->participant, target, &error))
    reply (req, HQ_MESSAGE_OK, NULL);
  else
    reply_gerror (req, error);
}

/* `admit` with an identity instead of a participant_sid lets a removed,
 * kicked or denied identity join again. */
static void
handle_admit (Request *req)
{
  const gchar *identity = NULL;
  g_autoptr (GError) error = NULL;

  if (!field_string (req, "identity", FALSE, &identity))
    return;
  if (identity == NULL) {
    moderate (req, hq_participant_admit);
    return;
  }
  if (hq_participant_admit_identity (
          req->session->participant, identity, &error))
    reply (req, HQ_MESSAGE_OK, NULL);
  else
    reply_gerror (req, error);
}

typedef gboolean (*ReasonedFn) (HqParticipant *host, const gchar *target,
    const gchar *reason, GError **error);

/* deny and remove: a participant and an optional reason to tell it. */
static void
moderate_with_reason (Request *req, ReasonedFn fn)
{
  const gchar *target = NULL, *reason = NULL;
  g_autoptr (GError) error = NULL;

  if (!field_string (req, "participant_sid", TRUE, &target)
      || !field_string (req, "reason", FALSE, &reason))
    return;
  if (fn (req->session->participant, target, reason, &error))
    reply (req, HQ_MESSAGE_OK, NULL);
  else
    reply_gerror (req, error);
}

static void
handle_deny (Request *req)
{
  moderate_with_reason (req, hq_participant_deny);
}

static void
handle_remove (Request *req)
{
  moderate_with_reason (req, hq_participant_remove);
}

/* recording_start (optional rules: what to record; default everything)
 * and recording_stop: the room's recording rules, as REST sets them. */
static void
set_recording (Request *req, JsonArray *rules)
{
  g_autoptr (GError) error = NULL;
  JsonObject *state =
      hq_participant_set_recording (req->session->participant, rules, &error);

  if (state)
    reply (req, HQ_MESSAGE_RECORDING_RULES, state);
  else
    reply_gerror (req, error);
}

static void
handle_recording_start (Request *req)
{
  JsonArray *rules = NULL;

  if (!field_rules (req, "rules", &rules))
    return;
  set_recording (req, rules);
}

static void
handle_recording_stop (Request *req)
{
  set_recording (req, json_array_new ());
}

static void
handle_subscribe_priority (Request *req)
{
  const gchar *track = NULL, *priority = NULL;
  g_autoptr (GError) error = NULL;

  if (!field_string (req, "track_sid", TRUE, &track)
      || !field_string (req, "priority", FALSE, &priority))
    return;
  if (hq_participant_set_subscriber_priority (
          req->session->participant, track, priority, &error))
    reply (req, HQ_MESSAGE_OK, NULL);
  else
    reply_gerror (req, error);
}

/* Simulcast and bandwidth profiles (hqparticipant-profile.c). */
static void
handle_bandwidth_profile (Request *req)
{
  JsonObject *video = NULL, *effect, *fields;
  g_autoptr (GError) error = NULL;

  if (!field_object (req, "video", &video))
    return;
  effect = hq_participant_set_bandwidth_profile (
      req->session->participant, video, &error);
  if (effect == NULL) {
    reply_gerror (req, error);
    return;
  }
  fields = json_object_new ();
  json_object_set_object_member (fields, "video", effect);
  reply (req, HQ_MESSAGE_BANDWIDTH_PROFILE, fields);
}

static void
handle_track_hints (Request *req)
{
  JsonArray *hints = NULL;
  g_autoptr (GError) error = NULL;

  if (!hq_protocol_read_array (req->msg, "hints", &hints, &error)
      || !hq_participant_set_track_hints (
          req->session->participant, hints, &error))
    reply_gerror (req, error);
  else
    reply (req, HQ_MESSAGE_OK, NULL);
}

/* The reply goes first: completing the room ends this participant too. */
static void
handle_room_complete (Request *req)
{
  HqParticipant *host = req->session->participant;
  g_autoptr (GError) error = NULL;

  if (!hq_participant_may_end_room (host, &error)) {
    reply_gerror (req, error);
    return;
  }
  reply (req, HQ_MESSAGE_OK, NULL);
  hq_participant_end_room (host);
}

/* Answered only when refused: a stream of data messages costs one frame
 * each way, not two. */
static void
handle_data_send (Request *req)
{
  const gchar *track = NULL, *data = NULL;
  gboolean binary = FALSE;
  g_autoptr (GError) error = NULL;

  if (!field_string (req, "track_sid", TRUE, &track)
      || !field_string (req, "data", TRUE, &data)
      || !field_bool (req, "binary", &binary))
    return;
  if (!hq_participant_send_data (
          req->session->participant, track, data, binary, &error))
    reply_gerror (req, error);
}

static void
handle_mute (Request *req)
{
  const gchar *target = NULL, *track = NULL;
  g_autoptr (GError) error = NULL;

  if (!field_string (req, "participant_sid", TRUE, &target)
      || !field_string (req, "track_sid", TRUE, &track))
    return;
  if (hq_participant_mute (req->session->participant, target, track, &error))
    reply (req, HQ_MESSAGE_OK, NULL);
  else
    reply_gerror (req, error);
}

static void
handle_subscribe_rules (Request *req)
{
  HqParticipant *p = req->session->participant;
  g_autoptr (GError) error = NULL;
  JsonArray *rules = NULL;

  if (json_object_get_member (req->msg, "rules") == NULL) {
    reply_error (req, HQ_PROTOCOL_ERROR_INVALID_FIELD,
        "rules is missing: a JSON array of rules, e.g. "
        "[{\"type\": \"include\", \"all\": true}].");
    return;
  }
  if (!field_rules (req, "rules", &rules))
    return;
  if (rules == NULL) {
    reply_error (req, HQ_PROTOCOL_ERROR_INVALID_FIELD,
        "rules must be a JSON array of rules.");
    return;
  }
  if (!hq_participant_set_subscribe_rules (p, rules, &error)) {
    reply_gerror (req, error);
    return;
  }
  reply (req, HQ_MESSAGE_SUBSCRIBE_RULES,
      hq_participant_subscribe_rules_to_json (p));
}

/* Media messages (publish_offer, subscribe_answer, candidate,
 * end_of_candidates) go to the room's SFU, which replies itself. */
static void
handle_media (Request *req)
{
  g_autoptr (GError) error = NULL;

  if (!hq_participant_media (req->session->participant, req->msg, &error))
    reply_gerror (req, error);
}

/* End-to-end key messages: relayed, never read (docs/e2ee.md); answered
 * only when refused. */
static void
handle_e2ee_send (Request *req)
{
  const gchar *to = NULL, *data = NULL;
  g_autoptr (GError) error = NULL;

  if (!field_string (req, "to", FALSE, &to)
      || !field_string (req, "data", TRUE, &data))
    return;
  if (!hq_participant_e2ee_relay (req->session->participant, to, data, &error))
    reply_gerror (req, error);
}

/* Peer-to-peer and go rooms: offers, answers and candidates go from one
 * participant to another through the server; media does not. */
static void
handle_relay (Request *req)
{
  g_autoptr (GError) error = NULL;

  if (!hq_participant_relay (req->session->participant, req->msg, &error))
    reply_gerror (req, error);
}

/* --- dispatch --- */

typedef enum
{
  NEEDS_NOTHING, /* join, ping */
  NEEDS_PARTICIPANT, /* joined or waiting */
  NEEDS_ADMITTED, /* joined and out of the lobby */
  NEEDS_CHAT, /* joined, or chat_join'ed: chatting is all it takes */
} Needs;

static const struct
{
  HqMessageType type;
  void (*handle) (Request *req);
  Needs needs;
} handlers[] = {
  { HQ_MESSAGE_JOIN, handle_join, NEEDS_NOTHING },
  { HQ_MESSAGE_PING, handle_ping, NEEDS_NOTHING },
  { HQ_MESSAGE_LEAVE, handle_leave, NEEDS_PARTICIPANT },
  { HQ_MESSAGE_CHAT_JOIN, handle_chat_join, NEEDS_NOTHING },
  { HQ_MESSAGE_CHAT_SEND, handle_chat_send, NEEDS_CHAT },
  { HQ_MESSAGE_CHAT_HISTORY, handle_chat_history, NEEDS_CHAT },
  { HQ_MESSAGE_CHAT_MEDIA_URL, handle_chat_media_url, NEEDS_CHAT },
  { HQ_MESSAGE_TRACK_PUBLISH, handle_track_publish, NEEDS_ADMITTED },
  { HQ_MESSAGE_TRACK_UNPUBLISH, handle_track_unpublish, NEEDS_ADMITTED },
  { HQ_MESSAGE_TRACK_UPDATE, handle_track_update, NEEDS_ADMITTED },
  { HQ_MESSAGE_ADMIT, handle_admit, NEEDS_ADMITTED },
  { HQ_MESSAGE_DENY, handle_deny, NEEDS_ADMITTED },
  { HQ_MESSAGE_MUTE, handle_mute, NEEDS_ADMITTED },
  { HQ_MESSAGE_REMOVE, handle_remove, NEEDS_ADMITTED },
  { HQ_MESSAGE_PUBLISH_OFFER, handle_media, NEEDS_ADMITTED },
  { HQ_MESSAGE_SUBSCRIBE_ANSWER, handle_media, NEEDS_ADMITTED },
  { HQ_MESSAGE_CANDIDATE, handle_media, NEEDS_ADMITTED },
  { HQ_MESSAGE_END_OF_CANDIDATES, handle_media, NEEDS_ADMITTED },
  { HQ_MESSAGE_NETWORK_QUALITY_CONFIGURE, handle_media, NEEDS_ADMITTED },
  { HQ_MESSAGE_ICE_RESTART, handle_media, NEEDS_ADMITTED },
  { HQ_MESSAGE_SUBSCRIBE_RULES, handle_subscribe_rules, NEEDS_ADMITTED },
  { HQ_MESSAGE_PEER_OFFER, handle_relay, NEEDS_ADMITTED },
  { HQ_MESSAGE_PEER_ANSWER, handle_relay, NEEDS_ADMITTED },
  { HQ_MESSAGE_PEER_CANDIDATE, handle_relay, NEEDS_ADMITTED },
  { HQ_MESSAGE_RECORDING_START, handle_recording_start, NEEDS_ADMITTED },
  { HQ_MESSAGE_RECORDING_STOP, handle_recording_stop, NEEDS_ADMITTED },
  { HQ_MESSAGE_SUBSCRIBE_PRIORITY, handle_subscribe_priority, NEEDS_ADMITTED },
  { HQ_MESSAGE_DATA_SEND, handle_data_send, NEEDS_ADMITTED },
  { HQ_MESSAGE_ROOM_COMPLETE, handle_room_complete, NEEDS_ADMITTED },
  { HQ_MESSAGE_E2EE_SEND, handle_e2ee_send, NEEDS_ADMITTED },
  { HQ_MESSAGE_BANDWIDTH_PROFILE, handle_bandwidth_profile, NEEDS_ADMITTED },
  { HQ_MESSAGE_TRACK_HINTS, handle_track_hints, NEEDS_ADMITTED },
};

static void
dispatch (HqSession *session, JsonObject *msg)
{
  Request req = { session, msg, NULL };
  const gchar *type = NULL;
  HqMessageType t;
  g_autofree gchar *why = NULL;
  GError *error = NULL;

  if (!field_string (&req, "id", FALSE, &req.id)
      || !field_string (&req, "type", TRUE, &type))
    return;
  t = hq_protocol_message_type (type);
  for (gsize i = 0; t != HQ_MESSAGE_UNKNOWN && i < G_N_ELEMENTS (handlers);
       i++) {
    if (handlers[i].type != t)
      continue;
    if (handlers[i].needs != NEEDS_NOTHING && session->participant == NULL) {
      why = g_strdup_printf ("Send join first: %s needs a joined room.", type);
      reply_error (&req, HQ_PROTOCOL_ERROR_NOT_JOINED, why);
      return;
    }
    if (handlers[i].needs == NEEDS_ADMITTED
        && hq_participant_is_chat_only (session->participant)) {
      why = g_strdup_printf ("This connection joined the chat only "
                             "(chat_join); %s needs a join.",
          type);
      reply_error (&req, HQ_PROTOCOL_ERROR_FORBIDDEN, why);
      return;
    }
    if (handlers[i].needs != NEEDS_NOTHING
        && handlers[i].needs != NEEDS_PARTICIPANT
        && hq_participant_is_waiting (session->participant)) {
      why = g_strdup_printf (
          "You are waiting in the lobby; %s needs a host to admit you first.",
          type);
      reply_error (&req, HQ_PROTOCOL_ERROR_NOT_ADMITTED, why);
      return;
    }
    /* Every field of the type it must have before any handler, and so
     * before the SFU or another participant, sees the message. */
    if (!field_failed (
            &req, hq_protocol_check_message (msg, t, &error), &error))
      return;
    handlers[i].handle (&req);
    return;
  }
  why = g_strdup_printf ("Unknown message type \"%.64s\".", type);
  reply_error (&req, HQ_PROTOCOL_ERROR_UNKNOWN_TYPE, why);
}

static void
close_too_big (HqSession *session, const gchar *reason)
{
  session->transport->close (session->user_data, HQ_CLOSE_TOO_BIG, reason);
}

/* The size limits of docs/protocol.md, checked before any parsing: before
 * `join` a message is at most 64 KiB (nothing larger is read from a
 * connection that has not shown a token); after it, a message that
 * carries SDP may be up to 1023 KiB. */
void
hq_session_handle_frame (
    HqSession *session, gboolean text, const gchar *data, gsize len)
{
  gsize max = session->participant ? HQ_PROTOCOL_MAX_SDP_MESSAGE
                                   : HQ_PROTOCOL_MAX_MESSAGE;
  g_autoptr (JsonObject) msg = NULL;
  g_autoptr (GError) error = NULL;

  if (len > max) {
    close_too_big (session,
        session->participant ? "message over 1023 KiB"
                             : "message over 64 KiB before join");
    return;
  }
  if (!text) {
    send_error (session, NULL, HQ_PROTOCOL_ERROR_BAD_MESSAGE,
        "Messages are JSON in text frames; binary frames are not used.");
    return;
  }
  msg = hq_protocol_parse_object (data, len, max, &error);
  if (msg == NULL) {
    send_error (session, NULL, (HqProtocolError)error->code, error->message);
    return;
  }
  if (len > HQ_PROTOCOL_MAX_MESSAGE) {
    if (!hq_protocol_carries_sdp (
            hq_protocol_message_name (hq_protocol_read_type (msg)))) {
      close_too_big (session, "message over 64 KiB");
      return;
    }
  }
  dispatch (session, msg);
}

void
hq_session_handle_text (HqSession *session, const gchar *data, gsize len)
{
  hq_session_handle_frame (session, TRUE, data, len);
}

void
hq_session_send_error (
    HqSession *session, HqProtocolError code, const gchar *message)
{
  send_error (session, NULL, code, message);
}

void
hq_session_connection_lost (HqSession *session)
{
  HqParticipant *p = session->participant;

  session->participant = NULL;
  if (p)
    hq_participant_connection_lost (p);
}

void
hq_session_detach (HqSession *session)
{
  session->participant = NULL;
}

HqSession *
hq_session_new (HqConfig *config, HqRooms *rooms,
    const HqSessionTransport *transport, gpointer user_data)
{
  HqSession *session = g_new0 (HqSession, 1);

  session->config = config;
  session->rooms = rooms;
  session->transport = transport;
  session->user_data = user_data;
  return session;
}

void
hq_session_set_peer (
    HqSession *session, const gchar *address, HqRateLimits *limits)
{
  g_free (session->peer_address);
  session->peer_address = g_strdup (address);
  session->limits = limits;
}

gboolean
hq_session_has_joined (HqSession *session)
{
  return session->joined;
}

void
hq_session_free (HqSession *session)
{
  if (session == NULL)
    return;
  g_free (session->peer_address);
  g_free (session);
}
