/* Participants; see hqparticipant.h.  How a participant enters and leaves a
 * room: join, the waiting room, resume after a dropped connection, leave,
 * bans, the hidden recorder and chat-only members.  What it does once in
 * is in hqparticipant-chat.c (chat), hqparticipant-tracks.c (tracks,
 * subscriptions, data) and hqparticipant-moderation.c (what hosts do to others).
 *
 * Each operation follows hqroom.c's order: validate, store, audit log and
 * status callback, then tell the participants. */
#include "hqparticipant-private.h"
#include "hqhttp.h"
#include "hqlog.h"
#include "hqrules.h"
#include "hqturn.h"

#include <string.h>
#include <hq/hqprotocol.h>
#include <hq/hqutil.h>

/* --- representations --- */

/* What others see a participant called: its display name, else its
 * identity. */
static const gchar *
display_name (HqParticipant *p)
{
  return p->rec.name ? p->rec.name : p->rec.identity;
}

/* A participant as the protocol shows it: the record plus its tracks. */
static JsonObject *
participant_to_json (HqParticipant *p)
{
  JsonObject *obj = json_object_new ();
  JsonArray *tracks = json_array_new ();

  json_object_set_string_member (obj, "sid", p->rec.sid);
  json_object_set_string_member (obj, "identity", p->rec.identity);
  json_object_set_string_member (obj, "name", display_name (p));
  json_object_set_string_member (obj, "role", p->rec.role);
  json_object_set_string_member (obj, "state",
      hq_protocol_participant_state_name (
          p->peer ? HQ_PARTICIPANT_CONNECTED : HQ_PARTICIPANT_RECONNECTING));
  for (guint i = 0; i < p->tracks->len; i++)
    json_array_add_object_element (
        tracks, hq_track_record_to_json (g_ptr_array_index (p->tracks, i)));
  json_object_set_array_member (obj, "tracks", tracks);
  return obj;
}

static JsonObject *
room_to_protocol (HqRoom *room)
{
  JsonObject *obj = json_object_new ();

  json_object_set_string_member (obj, "sid", room->rec.sid);
  json_object_set_string_member (obj, "name", room->rec.unique_name);
  json_object_set_string_member (obj, "type", room->rec.type);
  json_object_set_int_member (
      obj, "max_participants", room->rec.max_participants);
  json_object_set_boolean_member (obj, "waiting_room", room->rec.waiting_room);
  return obj;
}

JsonObject *
hq_chat_to_json (const HqChatRecord *c)
{
  JsonObject *obj = json_object_new ();
  g_autofree gchar *iso = hq_time_iso (c->created);

  json_object_set_int_member (obj, "index", c->index);
  json_object_set_string_member (obj, "participant_sid", c->participant_sid);
  json_object_set_string_member (obj, "identity", c->identity);
  json_object_set_string_member (obj, "name", c->name ? c->name : c->identity);
  json_object_set_string_member (obj, "body", c->body);
  if (c->attributes) {
    JsonNode *node = json_from_string (c->attributes, NULL);
    if (node)
      json_object_set_member (obj, "attributes", node);
  }
  if (c->media) {
    JsonNode *node = json_from_string (c->media, NULL);
    if (node)
      json_object_set_member (obj, "media", node);
  }
  json_object_set_string_member (obj, "date_created", iso);
  return obj;
}

void
hq_participant_free (HqParticipant *p)
{
  hq_clear_source (&p->grace_timer);
  hq_clear_source (&p->duration_timer);
  g_ptr_array_unref (p->tracks);
  g_free (p->rec.sid);
  g_free (p->rec.room_sid);
  g_free (p->rec.identity);
  g_free (p->rec.status);
  g_free (p->rec.role);
  g_free (p->rec.end_reason);
  g_free (p->rec.name);
  g_free (p->resume_token);
  g_free (p->join_id);
  if (p->subscribe_rules)
    json_array_unref (p->subscribe_rules);
  g_free (p);
}

/* --- participants --- */

static HqParticipant *
find_identity (HqRoom *room, const gchar *identity)
{
  for (guint i = 0; i < room->participants->len; i++) {
    HqParticipant *p = g_ptr_array_index (room->participants, i);
    if (g_strcmp0 (p->rec.identity, identity) == 0)
      return p;
  }
  return NULL;
}

static JsonArray *
lobby_json (HqRoom *room)
{
  JsonArray *arr = json_array_new ();

  for (guint i = 0; i < room->participants->len; i++) {
    HqParticipant *p = g_ptr_array_index (room->participants, i);
    if (p->waiting) {
      JsonObject *o = json_object_new ();
      json_object_set_string_member (o, "sid", p->rec.sid);
      json_object_set_string_member (o, "identity", p->rec.identity);
      json_object_set_string_member (o, "name", display_name (p));
      json_array_add_object_element (arr, o);
    }
  }
  return arr;
}

void
hq_room_announce_lobby (HqRoom *room)
{
  for (guint i = 0; i < room->participants->len; i++) {
    HqParticipant *p = g_ptr_array_index (room->participants, i);
    if (!p->waiting && p->role == HQ_ROLE_HOST) {
      g_autoptr (JsonObject) msg =
          hq_protocol_message_new (HQ_MESSAGE_LOBBY_CHANGED, NULL);
      json_object_set_array_member (msg, "waiting", lobby_json (room));
      hq_participant_send (p, msg);
    }
  }
}

/* A new member of @room for @claims, on @peer: a participant (sid
 * prefix PA) or a chat-only member (MB), in state @status. */
static HqParticipant *
participant_new (HqRoom *room, const HqTokenClaims *claims,
    const gchar *sid_prefix, HqParticipantState status, const HqPeerOps *ops,
    gpointer peer)
{
  HqParticipant *p = g_new0 (HqParticipant, 1);

  p->room = room;
  p->role = claims->role;
  p->tracks =
      g_ptr_array_new_with_free_func ((GDestroyNotify)hq_track_record_free);
  p->rec.sid = hq_sid_new (sid_prefix);
  p->rec.room_sid = g_strdup (room->rec.sid);
  p->rec.identity = g_strdup (claims->identity);
  p->rec.name = g_strdup (claims->name);
  p->rec.role = g_strdup (hq_role_to_string (claims->role));
  p->rec.status = g_strdup (hq_protocol_participant_state_name (status));
  p->ops = ops;
  p->peer = peer;
  return p;
}

JsonObject *
hq_participant_ref_json (HqParticipant *p)
{
  JsonObject *obj = json_object_new ();

  json_object_set_string_member (obj, "sid", p->rec.sid);
  json_object_set_string_member (obj, "identity", p->rec.identity);
  json_object_set_string_member (obj, "name", display_name (p));
  return obj;
}

/* --- the hidden recorder (hqrecordings.h) --- */

/* The recorder leaves without a trace: no store, no event, no message. */
static void
recorder_disconnect (HqParticipant *p, const gchar *reason, gushort code)
{
  HqRoom *room = p->room;

  hq_participant_close_peer (p, code, reason);
  if (room->media)
    hq_sfu_room_remove_participant (room->media, p->rec.sid);
  if (room->recorder == p)
    room->recorder = NULL;
  hq_participant_free (p);
  hq_room_emit_recorder (room, NULL);
}

static void send_joined (HqParticipant *p, const gchar *id);

/* Admits the server's own recorder: not stored, not announced, not
 * counted; the SFU offers it what the recording rules select. */
static HqParticipant *
recorder_join (HqRoom *room, const HqTokenClaims *claims, const HqPeerOps *ops,
    gpointer peer, const gchar *request_id)
{
  HqParticipant *p = g_new0 (HqParticipant, 1);

  if (room->recorder)
    recorder_disconnect (room->recorder,
        hq_protocol_leave_reason_name (HQ_LEAVE_REPLACED), HQ_CLOSE_REPLACED);
  p->room = room;
  p->hidden = TRUE;
  p->role = HQ_ROLE_GUEST;
  p->tracks =
      g_ptr_array_new_with_free_func ((GDestroyNotify)hq_track_record_free);
  p->rec.sid = hq_sid_new ("PA");
  p->rec.room_sid = g_strdup (room->rec.sid);
  p->rec.identity = g_strdup (claims->identity);
  p->rec.role = g_strdup ("guest");
  p->rec.status =
      g_strdup (hq_protocol_participant_state_name (HQ_PARTICIPANT_CONNECTED));
  p->rec.created = p->rec.updated = hq_now_ms ();
  p->resume_token = hq_secret_new (24);
  p->ops = ops;
  p->peer = peer;
  room->recorder = p;
  send_joined (p, request_id);
  hq_sfu_room_add_hidden (room->media, p->rec.sid, p->rec.identity);
  hq_room_emit_recorder (room, p->rec.sid);
  return p;
}

/* --- chat-only members (chat_join) --- */

/* A chat member leaves quietly: only the audit log hears of it. */
static void
chat_member_disconnect (HqParticipant *p, const gchar *reason, gushort code)
{
  HqRoom *room = p->room;
  JsonObject *detail = json_object_new ();

  hq_participant_close_peer (p, code, reason);
  json_object_set_string_member (detail, "reason", reason);
  hq_room_event (room, "chat-member-left", p, NULL, NULL, detail);
  g_ptr_array_remove (room->chat_members, p);
}

static JsonArray *recent_chat (HqRoom *room);

static void
send_chat_joined (HqParticipant *p, const gchar *id)
{
  HqRoom *room = p->room;
  HqConfig *config = room->rooms->config;
  g_autoptr (JsonObject) msg =
      hq_protocol_message_new (HQ_MESSAGE_CHAT_JOINED, id);
  JsonObject *room_obj = json_object_new ();
  JsonObject *media = json_object_new ();
  JsonArray *types = json_array_new ();

  json_object_set_string_member (msg, "protocol", HQ_PROTOCOL_VERSION);
  json_object_set_string_member (room_obj, "sid", room->rec.sid);
  json_object_set_string_member (room_obj, "name", room->rec.unique_name);
  json_object_set_string_member (room_obj, "type", room->rec.type);
  json_object_set_object_member (msg, "room", room_obj);
  json_object_set_object_member (msg, "member", hq_participant_ref_json (p));
  json_object_set_array_member (msg, "chat", recent_chat (room));
  /* What an upload may be, so that a client can tell its user before
   * sending a byte. */
  json_object_set_int_member (media, "max_size", config->chat_media_max_size);
  for (gchar **t = config->chat_media_types; t && *t; t++)
    json_array_add_string_element (types, *t);
  json_object_set_array_member (media, "types", types);
  json_object_set_object_member (msg, "media", media);
  hq_participant_send (p, msg);
}

static gboolean check_not_banned (
    HqRoom *room, const gchar *identity, GError **error);

HqParticipant *
hq_room_chat_join (HqRoom *room, const HqTokenClaims *claims,
    const HqPeerOps *ops, gpointer peer, const gchar *request_id,
    GError **error)
{
  HqParticipant *p;

  if (!check_not_banned (room, claims->identity, error))
    return NULL;
  /* The waiting room keeps the chat too: a guest reads it once admitted
   * (as a participant of the call). */
  if (room->rec.waiting_room && claims->role == HQ_ROLE_GUEST
      && !hq_room_in_chat (room, claims->identity)) {
    g_set_error (error, HQ_ROOM_ERROR, HQ_ROOM_ERROR_NOT_ADMITTED,
        "Room \"%s\" has a waiting room: its chat opens to a guest once a "
        "host has let them in.",
        room->rec.unique_name);
    return NULL;
  }
  if (room->chat_members->len >= HQ_CHAT_MEMBERS_MAX) {
    g_set_error (error, HQ_ROOM_ERROR, HQ_ROOM_ERROR_FULL,
        "The chat of room \"%s\" has %d chat-only connections already.",
        room->rec.unique_name, HQ_CHAT_MEMBERS_MAX);
    return NULL;
  }
  p = participant_new (room, claims, "MB", HQ_PARTICIPANT_CONNECTED, ops, peer);
  p->chat_only = TRUE;
  p->rec.created = p->rec.updated = hq_now_ms ();
  g_ptr_array_add (room->chat_members, p);
  hq_room_event (room, "chat-member-joined", p, NULL, NULL, NULL);
  send_chat_joined (p, request_id);
  return p;
}

gboolean
hq_room_in_chat (HqRoom *room, const gchar *identity)
{
  for (guint i = 0; i < room->participants->len; i++) {
    HqParticipant *p = g_ptr_array_index (room->participants, i);
    if (!p->waiting && g_strcmp0 (p->rec.identity, identity) == 0)
      return TRUE;
  }
  for (guint i = 0; i < room->chat_members->len; i++) {
    HqParticipant *m = g_ptr_array_index (room->chat_members, i);
    if (g_strcmp0 (m->rec.identity, identity) == 0)
      return TRUE;
  }
  return FALSE;
}

gboolean
hq_participant_is_chat_only (HqParticipant *p)
{
  return p->chat_only;
}

/* Ends @p's membership for @reason, closing its connection with @code. */
void
hq_participant_disconnect (
    HqParticipant *p, const gchar *reason, gushort code, HqParticipant *actor)
{
  HqRoom *room = p->room;
  g_autoptr (GError) error = NULL;
  gint64 now = hq_now_ms ();

  if (p->hidden) {
    recorder_disconnect (p, reason, code);
    return;
  }
  if (p->chat_only) {
    chat_member_disconnect (p, reason, code);
    return;
  }
  hq_participant_close_peer (p, code, reason);
  hq_clear_source (&p->grace_timer);
  hq_clear_source (&p->duration_timer);
  if (p->waiting) {
    JsonObject *detail = json_object_new ();
    json_object_set_string_member (detail, "reason", reason);
    hq_room_event (room, "lobby-left", p, NULL, actor, detail);
    g_ptr_array_remove (room->participants, p);
    hq_room_announce_lobby (room);
    return;
  }
  for (guint i = 0; i < p->tracks->len; i++) {
    HqTrackRecord *t = g_ptr_array_index (p->tracks, i);
    t->published = FALSE;
    t->updated = now;
    if (!hq_store_put_track (room->rooms->store, t, &error)) {
      hq_log_message (HQ_LOG_ERROR, "store", "%s", error->message);
      g_clear_error (&error);
    }
    hq_room_event (room, "track-removed", p, t, NULL, NULL);
  }
  if (room->media)
    hq_sfu_room_remove_participant (room->media, p->rec.sid);
  g_free (p->rec.status);
  p->rec.status = g_strdup (
      hq_protocol_participant_state_name (HQ_PARTICIPANT_DISCONNECTED));
  g_free (p->rec.end_reason);
  p->rec.end_reason = g_strdup (reason);
  p->rec.ended = p->rec.updated = now;
  if (!hq_store_put_participant (room->rooms->store, &p->rec, &error))
    hq_log_message (HQ_LOG_ERROR, "store", "%s", error->message);
  {
    JsonObject *detail = json_object_new ();
    json_object_set_string_member (detail, "reason", reason);
    hq_room_event (room, "participant-disconnected", p, NULL, actor, detail);
  }
  {
    JsonObject *msg =
        hq_protocol_message_new (HQ_MESSAGE_PARTICIPANT_DISCONNECTED, NULL);
    json_object_set_object_member (
        msg, "participant", hq_participant_ref_json (p));
    json_object_set_string_member (msg, "reason", reason);
    /* Keep @p alive through the broadcast; it skips itself anyway. */
    hq_room_broadcast (room, p, msg);
  }
  hq_room_emit_left (p);
  g_ptr_array_remove (room->participants, p);
  if (g_strcmp0 (room->rec.status, "in-progress") == 0)
    hq_room_maybe_start_empty_timer (room);
}

static gboolean
grace_expired_cb (gpointer user_data)
{
  HqParticipant *p = user_data;

  p->grace_timer = 0;
  hq_participant_disconnect (p,
      hq_protocol_leave_reason_name (HQ_LEAVE_CONNECTION_LOST), HQ_CLOSE_NORMAL,
      NULL);
  return G_SOURCE_REMOVE;
}

static gboolean
participant_duration_cb (gpointer user_data)
{
  HqParticipant *p = user_data;

  p->duration_timer = 0;
  hq_participant_disconnect (p,
      hq_protocol_leave_reason_name (HQ_LEAVE_MAX_PARTICIPANT_DURATION),
      HQ_CLOSE_MAX_DURATION, NULL);
  return G_SOURCE_REMOVE;
}

static JsonArray *
recent_chat (HqRoom *room)
{
  JsonArray *arr = json_array_new ();
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) rows = hq_store_chat_history (
      room->rooms->store, room->rec.sid, 0, HQ_CHAT_PAGE, &error);

  if (rows == NULL)
    hq_log_message (HQ_LOG_ERROR, "store", "%s", error->message);
  for (guint i = 0; rows && i < rows->len; i++)
    json_array_add_object_element (
        arr, hq_chat_to_json (g_ptr_array_index (rows, i)));
  return arr;
}

/* The bans of @room for a host's `joined` (as REST shows them); empty when
 * the store cannot say (logged). */
static JsonArray *
banned_json (HqRoom *room)
{
  g_autoptr (GError) error = NULL;
  JsonArray *bans = hq_room_list_bans (room, &error);

  return bans ? bans : json_array_new ();
}

static void
send_joined (HqParticipant *p, const gchar *id)
{
  HqRoom *room = p->room;
  g_autoptr (JsonObject) msg = hq_protocol_message_new (HQ_MESSAGE_JOINED, id);
  JsonArray *others = json_array_new ();

  json_object_set_string_member (msg, "protocol", HQ_PROTOCOL_VERSION);
  json_object_set_object_member (msg, "room", room_to_protocol (room));
  json_object_set_object_member (msg, "participant", participant_to_json (p));
  for (guint i = 0; i < room->participants->len; i++) {
    HqParticipant *o = g_ptr_array_index (room->participants, i);
    if (o != p && !o->waiting)
      json_array_add_object_element (others, participant_to_json (o));
  }
  json_object_set_array_member (msg, "participants", others);
  json_object_set_string_member (msg, "resume_token", p->resume_token);
  json_object_set_int_member (
      msg, "reconnect_grace_ms", room->rooms->config->reconnect_grace_ms);
  json_object_set_array_member (msg, "ice_servers",
      hq_turn_ice_servers (room->rooms->config, p->rec.identity));
  json_object_set_array_member (msg, "chat", recent_chat (room));
  json_object_set_member (msg, "recording", hq_room_recording_state (room));
  if (p->role == HQ_ROLE_HOST) {
    json_object_set_array_member (msg, "lobby", lobby_json (room));
    json_object_set_array_member (msg, "banned", banned_json (room));
  }
  hq_participant_send (p, msg);
}

/* Makes @p (new, or admitted from the lobby) a connected participant. */
gboolean
hq_participant_connect (
    HqParticipant *p, const gchar *id, HqParticipant *actor, GError **error)
{
  HqRoom *room = p->room;
  GError *local = NULL;
  JsonObject *msg;

  g_free (p->rec.status);
  p->rec.status =
      g_strdup (hq_protocol_participant_state_name (HQ_PARTICIPANT_CONNECTED));
  p->rec.created = p->rec.updated = hq_now_ms ();
  if (!hq_store_put_participant (room->rooms->store, &p->rec, &local))
    return hq_room_store_failed (local, error);
  p->waiting = FALSE;
  hq_clear_source (&room->idle_timer);
  p->duration_timer = hq_timeout_ms (
      room->rec.max_participant_duration * room->rooms->config->minute_ms / 60,
      participant_duration_cb, p);
  hq_room_event (room, "participant-connected", p, NULL, actor, NULL);
  send_joined (p, id);
  if (room->media) {
    hq_sfu_room_add_participant (room->media, p->rec.sid, p->rec.identity);
    /* Right behind it on the worker, before its first offer is built. */
    if (p->subscribe_rules)
      hq_sfu_room_set_subscribe_rules (
          room->media, p->rec.sid, p->subscribe_rules);
  }
  msg = hq_protocol_message_new (HQ_MESSAGE_PARTICIPANT_CONNECTED, NULL);
  json_object_set_object_member (msg, "participant", participant_to_json (p));
  hq_room_broadcast (room, p, msg);
  hq_room_emit_joined (p);
  return TRUE;
}

gboolean
hq_room_check_open (HqRoom *room, GError **error)
{
  if (hq_room_connected_count (room) >= (guint)room->rec.max_participants) {
    g_set_error (error, HQ_ROOM_ERROR, HQ_ROOM_ERROR_FULL,
        "Room \"%s\" is full: a %s room takes at most %d participants.",
        room->rec.unique_name, room->rec.type, room->rec.max_participants);
    return FALSE;
  }
  return TRUE;
}

/* Moves @p onto a new connection; it keeps its sid and tracks. */
static void
resume (HqParticipant *p, const HqPeerOps *ops, gpointer peer, const gchar *id)
{
  JsonObject *msg;

  hq_participant_close_peer (
      p, HQ_CLOSE_REPLACED, "resumed on another connection");
  hq_clear_source (&p->grace_timer);
  p->ops = ops;
  p->peer = peer;
  hq_room_event (p->room, "participant-resumed", p, NULL, NULL, NULL);
  if (p->waiting) {
    g_autoptr (JsonObject) w = hq_protocol_message_new (HQ_MESSAGE_WAITING, id);
    g_free (p->join_id);
    p->join_id = g_strdup (id);
    json_object_set_string_member (w, "participant_sid", p->rec.sid);
    json_object_set_string_member (w, "resume_token", p->resume_token);
    hq_participant_send (p, w);
    return;
  }
  send_joined (p, id);
  /* An offer sent while it was away went nowhere. */
  if (p->room->media)
    hq_sfu_room_resume (p->room->media, p->rec.sid);
  msg = hq_protocol_message_new (HQ_MESSAGE_PARTICIPANT_RECONNECTED, NULL);
  json_object_set_object_member (msg, "participant", participant_to_json (p));
  hq_room_broadcast (p->room, p, msg);
}

/* --- bans: removal sticks --- */

/* Refuses a join of a banned @identity with BANNED, and notes the attempt
 * in the audit log.  A store that cannot answer refuses too: a removed
 * participant must not slip back in while the disk is failing. */
static gboolean
check_not_banned (HqRoom *room, const gchar *identity, GError **error)
{
  GError *local = NULL;
  g_autoptr (HqBanRecord) ban =
      hq_store_get_ban (room->rooms->store, room->rec.sid, identity, &local);
  JsonObject *detail;

  if (ban == NULL
      && g_error_matches (local, HQ_STORE_ERROR, HQ_STORE_ERROR_NOT_FOUND)) {
    g_error_free (local);
    return TRUE;
  }
  if (ban == NULL)
    return hq_room_store_failed (local, error);
  detail = json_object_new ();
  json_object_set_string_member (
      detail, "reason", hq_protocol_error_code (HQ_PROTOCOL_ERROR_BANNED));
  json_object_set_string_member (detail, "banned_for", ban->reason);
  hq_room_event_identity (room, "join-refused", identity, NULL, detail);
  g_set_error (error, HQ_ROOM_ERROR, HQ_ROOM_ERROR_BANNED,
      "You were %s this room by a host and cannot join it again until a "
      "host admits you again.",
      g_str_equal (ban->reason, hq_protocol_leave_reason_name (HQ_LEAVE_DENIED))
          ? "not admitted to"
          : "removed from");
  return FALSE;
}

/* Stores that @p may not come back (@reason: removed, kicked, denied) and
 * records it in the audit log. */
gboolean
hq_participant_ban (
    HqParticipant *p, const gchar *reason, HqParticipant *actor, GError **error)
{
  HqRoom *room = p->room;
  HqBanRecord rec = { 0 };
  GError *local = NULL;
  JsonObject *detail;

  rec.room_sid = room->rec.sid;
  rec.identity = p->rec.identity;
  rec.reason = (gchar *)reason;
  rec.participant_sid = p->rec.sid;
  rec.actor_sid = actor ? actor->rec.sid : NULL;
  rec.created = hq_now_ms ();
  if (!hq_store_put_ban (room->rooms->store, &rec, &local))
    return hq_room_store_failed (local, error);
  detail = json_object_new ();
  json_object_set_string_member (detail, "reason", reason);
  hq_room_event (room, "participant-banned", p, NULL, actor, detail);
  /* Removal sticks for the chat too: its chat-only connections end. */
  for (guint i = room->chat_members->len; i > 0; i--) {
    HqParticipant *m = g_ptr_array_index (room->chat_members, i - 1);
    if (m != p && g_strcmp0 (m->rec.identity, p->rec.identity) == 0)
      hq_participant_disconnect (m, reason, HQ_CLOSE_REMOVED, actor);
  }
  return TRUE;
}

gboolean
hq_room_unban (
    HqRoom *room, const gchar *identity, HqParticipant *actor, GError **error)
{
  GError *local = NULL;

  if (!hq_store_delete_ban (
          room->rooms->store, room->rec.sid, identity, &local)) {
    if (!g_error_matches (local, HQ_STORE_ERROR, HQ_STORE_ERROR_NOT_FOUND))
      return hq_room_store_failed (local, error);
    g_error_free (local);
    g_set_error (error, HQ_ROOM_ERROR, HQ_ROOM_ERROR_NOT_FOUND,
        "Identity \"%.200s\" is not banned from this room.", identity);
    return FALSE;
  }
  hq_room_event_identity (room, "participant-unbanned", identity, actor, NULL);
  return TRUE;
}

JsonArray *
hq_room_list_bans (HqRoom *room, GError **error)
{
  GError *local = NULL;
  g_autoptr (GPtrArray) bans =
      hq_store_list_bans (room->rooms->store, room->rec.sid, &local);
  JsonArray *arr;

  if (bans == NULL) {
    hq_room_store_failed (local, error);
    return NULL;
  }
  arr = json_array_new ();
  for (guint i = 0; i < bans->len; i++) {
    HqBanRecord *b = g_ptr_array_index (bans, i);
    JsonObject *o = json_object_new ();
    g_autofree gchar *iso = hq_time_iso (b->created);
    json_object_set_string_member (o, "room_sid", b->room_sid);
    json_object_set_string_member (o, "identity", b->identity);
    json_object_set_string_member (o, "reason", b->reason);
    hq_json_set_string_or_null (o, "participant_sid", b->participant_sid);
    hq_json_set_string_or_null (o, "actor_sid", b->actor_sid);
    json_object_set_string_member (o, "date_created", iso);
    json_array_add_object_element (arr, o);
  }
  return arr;
}

HqParticipant *
hq_room_join (HqRoom *room, const HqTokenClaims *claims,
    const gchar *resume_token, JsonArray *rules, const HqPeerOps *ops,
    gpointer peer, const gchar *request_id, GError **error)
{
  g_autoptr (JsonArray) owned = rules;
  HqParticipant *old = find_identity (room, claims->identity);
  HqParticipant *p;

  if (room->media && hq_room_is_recorder (room, claims))
    return recorder_join (room, claims, ops, peer, request_id);
  if (!check_not_banned (room, claims->identity, error))
    return NULL;
  if (old && resume_token && old->resume_token
      && hq_str_equal_const_time (resume_token, old->resume_token)) {
    resume (old, ops, peer, request_id);
    if (owned && room->media)
      hq_participant_set_subscribe_rules (old, g_steal_pointer (&owned), NULL);
    return old;
  }
  if (room->rooms->drain_deadline_ms != 0) {
    g_set_error (error, HQ_ROOM_ERROR, HQ_ROOM_ERROR_DRAINING,
        "This server is shutting down and takes no new participants; "
        "join again in a minute.");
    return NULL;
  }
  /* The same person on a new connection (a reload, a second tab, a lost
   * resume token): the newest connection wins and the old one leaves. */
  if (old)
    hq_participant_disconnect (old,
        hq_protocol_leave_reason_name (HQ_LEAVE_REPLACED), HQ_CLOSE_REPLACED,
        NULL);

  p = participant_new (room, claims, "PA", HQ_PARTICIPANT_WAITING, ops, peer);
  p->resume_token = hq_secret_new (24);
  /* In place before the SFU hears of it (connect_participant, or a host's
   * admit): its first subscribe offer already follows them.  A room
   * without an SFU has nothing to subscribe to. */
  if (owned && room->media) {
    p->subscribe_rules = g_steal_pointer (&owned);
    p->subscribe_rules_created = p->subscribe_rules_updated = hq_now_ms ();
  }

  if (room->rec.waiting_room && claims->role == HQ_ROLE_GUEST) {
    g_autoptr (JsonObject) msg = NULL;
    if (room->participants->len - hq_room_connected_count (room)
        >= HQ_LOBBY_MAX) {
      g_set_error (error, HQ_ROOM_ERROR, HQ_ROOM_ERROR_FULL,
          "The waiting room of \"%s\" is full (%d waiting).",
          room->rec.unique_name, HQ_LOBBY_MAX);
      p->peer = NULL;
      hq_participant_free (p);
      return NULL;
    }
    msg = hq_protocol_message_new (HQ_MESSAGE_WAITING, request_id);
    p->waiting = TRUE;
    p->join_id = g_strdup (request_id);
    g_ptr_array_add (room->participants, p);
    hq_room_event (room, "lobby-entered", p, NULL, NULL, NULL);
    json_object_set_string_member (msg, "participant_sid", p->rec.sid);
    json_object_set_string_member (msg, "resume_token", p->resume_token);
    hq_participant_send (p, msg);
    hq_room_announce_lobby (room);
    return p;
  }
  if (!hq_room_check_open (room, error)) {
    p->peer = NULL;
    hq_participant_free (p);
    return NULL;
  }
  g_ptr_array_add (room->participants, p);
  if (!hq_participant_connect (p, request_id, NULL, error)) {
    p->peer = NULL;
    g_ptr_array_remove (room->participants, p);
    return NULL;
  }
  return p;
}

const gchar *
hq_participant_get_sid (HqParticipant *p)
{
  return p->rec.sid;
}

gboolean
hq_participant_is_waiting (HqParticipant *p)
{
  return p->waiting;
}

void
hq_participant_leave (HqParticipant *p)
{
  hq_participant_disconnect (
      p, hq_protocol_leave_reason_name (HQ_LEAVE_LEFT), HQ_CLOSE_NORMAL, NULL);
}

void
hq_participant_connection_lost (HqParticipant *p)
{
  JsonObject *msg;

  p->peer = NULL;
  if (p->waiting || p->hidden || p->chat_only) {
    hq_participant_disconnect (p,
        hq_protocol_leave_reason_name (HQ_LEAVE_CONNECTION_LOST),
        HQ_CLOSE_NORMAL, NULL);
    return;
  }
  if (p->grace_timer)
    return;
  p->grace_timer = hq_timeout_ms (
      p->room->rooms->config->reconnect_grace_ms, grace_expired_cb, p);
  msg = hq_protocol_message_new (HQ_MESSAGE_PARTICIPANT_RECONNECTING, NULL);
  json_object_set_object_member (
      msg, "participant", hq_participant_ref_json (p));
  hq_room_broadcast (p->room, p, msg);
}
