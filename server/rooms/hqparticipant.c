/* Participants; see hqroom.h.  What participants do in a room: join,
 * resume after a dropped connection, leave, chat, publish track metadata,
 * and (hosts) admit, deny, mute and remove others.
 *
 * Each operation follows hqroom.c's order: validate, store, audit log and
 * status callback, then tell the participants. */
#include "hqroom-private.h"
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
  json_object_set_string_member (
      obj, "state", p->peer ? "connected" : "reconnecting");
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

static JsonObject *
chat_to_json (const HqChatRecord *c)
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

HqParticipant *
hq_room_find_participant (HqRoom *room, const gchar *sid)
{
  for (guint i = 0; i < room->participants->len; i++) {
    HqParticipant *p = g_ptr_array_index (room->participants, i);
    if (g_strcmp0 (p->rec.sid, sid) == 0)
      return p;
  }
  return NULL;
}

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

static void
announce_lobby (HqRoom *room)
{
  for (guint i = 0; i < room->participants->len; i++) {
    HqParticipant *p = g_ptr_array_index (room->participants, i);
    if (!p->waiting && p->role == HQ_ROLE_HOST) {
      g_autoptr (JsonObject) msg = hq_message_new ("lobby_changed", NULL);
      json_object_set_array_member (msg, "waiting", lobby_json (room));
      hq_participant_send (p, msg);
    }
  }
}

/* A new member of @room for @claims, on @peer: a participant (sid
 * prefix PA) or a chat-only member (MB), in state @status. */
static HqParticipant *
participant_new (HqRoom *room, const HqTokenClaims *claims,
    const gchar *sid_prefix, const gchar *status, const HqPeerOps *ops,
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
  p->rec.status = g_strdup (status);
  p->ops = ops;
  p->peer = peer;
  return p;
}

static JsonObject *
participant_ref_json (HqParticipant *p)
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
    recorder_disconnect (room->recorder, "replaced", HQ_CLOSE_REPLACED);
  p->room = room;
  p->hidden = TRUE;
  p->role = HQ_ROLE_GUEST;
  p->tracks =
      g_ptr_array_new_with_free_func ((GDestroyNotify)hq_track_record_free);
  p->rec.sid = hq_sid_new ("PA");
  p->rec.room_sid = g_strdup (room->rec.sid);
  p->rec.identity = g_strdup (claims->identity);
  p->rec.role = g_strdup ("guest");
  p->rec.status = g_strdup ("connected");
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
  g_autoptr (JsonObject) msg = hq_message_new ("chat_joined", id);
  JsonObject *room_obj = json_object_new ();
  JsonObject *media = json_object_new ();
  JsonArray *types = json_array_new ();

  json_object_set_string_member (msg, "protocol", "1");
  json_object_set_string_member (room_obj, "sid", room->rec.sid);
  json_object_set_string_member (room_obj, "name", room->rec.unique_name);
  json_object_set_string_member (room_obj, "type", room->rec.type);
  json_object_set_object_member (msg, "room", room_obj);
  json_object_set_object_member (msg, "member", participant_ref_json (p));
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
  p = participant_new (room, claims, "MB", "connected", ops, peer);
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
    announce_lobby (room);
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
  p->rec.status = g_strdup ("disconnected");
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
    JsonObject *msg = hq_message_new ("participant_disconnected", NULL);
    json_object_set_object_member (
        msg, "participant", participant_ref_json (p));
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
  hq_participant_disconnect (p, "connection_lost", HQ_CLOSE_NORMAL, NULL);
  return G_SOURCE_REMOVE;
}

static gboolean
participant_duration_cb (gpointer user_data)
{
  HqParticipant *p = user_data;

  p->duration_timer = 0;
  hq_participant_disconnect (
      p, "max_participant_duration", HQ_CLOSE_MAX_DURATION, NULL);
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
        arr, chat_to_json (g_ptr_array_index (rows, i)));
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
  g_autoptr (JsonObject) msg = hq_message_new ("joined", id);
  JsonArray *others = json_array_new ();

  json_object_set_string_member (msg, "protocol", "1");
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
static gboolean
connect_participant (
    HqParticipant *p, const gchar *id, HqParticipant *actor, GError **error)
{
  HqRoom *room = p->room;
  GError *local = NULL;
  JsonObject *msg;

  g_free (p->rec.status);
  p->rec.status = g_strdup ("connected");
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
  msg = hq_message_new ("participant_connected", NULL);
  json_object_set_object_member (msg, "participant", participant_to_json (p));
  hq_room_broadcast (room, p, msg);
  hq_room_emit_joined (p);
  return TRUE;
}

static gboolean
check_room_open (HqRoom *room, GError **error)
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
    g_autoptr (JsonObject) w = hq_message_new ("waiting", id);
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
  msg = hq_message_new ("participant_reconnected", NULL);
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
  json_object_set_string_member (detail, "reason", "banned");
  json_object_set_string_member (detail, "banned_for", ban->reason);
  hq_room_event_identity (room, "join-refused", identity, NULL, detail);
  g_set_error (error, HQ_ROOM_ERROR, HQ_ROOM_ERROR_BANNED,
      "You were %s this room by a host and cannot join it again until a "
      "host admits you again.",
      g_str_equal (ban->reason, "denied") ? "not admitted to" : "removed from");
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
    hq_participant_disconnect (old, "replaced", HQ_CLOSE_REPLACED, NULL);

  p = participant_new (room, claims, "PA", "waiting", ops, peer);
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
    msg = hq_message_new ("waiting", request_id);
    p->waiting = TRUE;
    p->join_id = g_strdup (request_id);
    g_ptr_array_add (room->participants, p);
    hq_room_event (room, "lobby-entered", p, NULL, NULL, NULL);
    json_object_set_string_member (msg, "participant_sid", p->rec.sid);
    json_object_set_string_member (msg, "resume_token", p->resume_token);
    hq_participant_send (p, msg);
    announce_lobby (room);
    return p;
  }
  if (!check_room_open (room, error)) {
    p->peer = NULL;
    hq_participant_free (p);
    return NULL;
  }
  g_ptr_array_add (room->participants, p);
  if (!connect_participant (p, request_id, NULL, error)) {
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
  hq_participant_disconnect (p, "left", HQ_CLOSE_NORMAL, NULL);
}

void
hq_participant_connection_lost (HqParticipant *p)
{
  JsonObject *msg;

  p->peer = NULL;
  if (p->waiting || p->hidden || p->chat_only) {
    hq_participant_disconnect (p, "connection_lost", HQ_CLOSE_NORMAL, NULL);
    return;
  }
  if (p->grace_timer)
    return;
  p->grace_timer = hq_timeout_ms (
      p->room->rooms->config->reconnect_grace_ms, grace_expired_cb, p);
  msg = hq_message_new ("participant_reconnecting", NULL);
  json_object_set_object_member (msg, "participant", participant_ref_json (p));
  hq_room_broadcast (p->room, p, msg);
}

/* --- chat --- */

/* Attachment @media_sid, uploaded by @p to its room, as a message's
 * "media" object's text (new); NULL with NOT_FOUND otherwise. */
static gchar *
chat_media_text (HqParticipant *p, const gchar *media_sid, GError **error)
{
  g_autoptr (HqChatMediaRecord) m =
      hq_store_get_chat_media (p->room->rooms->store, media_sid, NULL);
  g_autoptr (JsonNode) node = json_node_new (JSON_NODE_OBJECT);
  JsonObject *obj;

  if (m == NULL || g_strcmp0 (m->room_sid, p->room->rec.sid) != 0
      || g_strcmp0 (m->identity, p->rec.identity) != 0) {
    g_set_error (error, HQ_ROOM_ERROR, HQ_ROOM_ERROR_NOT_FOUND,
        "There is no attachment %.64s of yours in this room: upload the "
        "file first (POST /v1/ChatMedia).",
        media_sid);
    return NULL;
  }
  obj = json_object_new ();
  json_object_set_string_member (obj, "sid", m->sid);
  hq_json_set_string_or_null (obj, "filename", m->filename);
  json_object_set_string_member (obj, "content_type", m->content_type);
  json_object_set_int_member (obj, "size", m->size);
  json_node_take_object (node, obj);
  return json_to_string (node, FALSE);
}

JsonObject *
hq_participant_chat (HqParticipant *p, const gchar *body,
    JsonObject *attributes, const gchar *media_sid, GError **error)
{
  HqChatRecord rec = { 0 };
  g_autofree gchar *attr_text = NULL, *media_text = NULL;
  GError *local = NULL;
  JsonObject *msg, *message;
  gsize len = body ? strlen (body) : 0;

  if (p->hidden) {
    g_set_error (error, HQ_ROOM_ERROR, HQ_ROOM_ERROR_RECORDER,
        "The recorder does not chat.");
    return NULL;
  }
  if (media_sid) {
    media_text = chat_media_text (p, media_sid, error);
    if (media_text == NULL)
      return NULL;
  } else if (body == NULL) {
    hq_room_invalid (error,
        "body is missing: a message has a body, an "
        "attachment (media_sid) or both.");
    return NULL;
  }

  if ((len == 0 && media_sid == NULL) || len > HQ_CHAT_MAX_BODY) {
    hq_room_invalid (error, "body must be 1 to %d bytes; this one has %zu.",
        HQ_CHAT_MAX_BODY, len);
    return NULL;
  }
  if (attributes) {
    JsonNode *node = json_node_new (JSON_NODE_OBJECT);
    json_node_set_object (node, attributes);
    attr_text = json_to_string (node, FALSE);
    json_node_unref (node);
  }
  rec.room_sid = p->room->rec.sid;
  rec.participant_sid = p->rec.sid;
  rec.identity = p->rec.identity;
  rec.name = p->rec.name;
  rec.body = (gchar *)(body ? body : "");
  rec.attributes = attr_text;
  rec.media = media_text;
  rec.created = hq_now_ms ();
  if (!hq_store_add_chat (p->room->rooms->store, &rec, &local)) {
    hq_room_store_failed (local, error);
    return NULL;
  }
  message = chat_to_json (&rec);
  msg = hq_message_new ("chat_message", NULL);
  json_object_set_object_member (msg, "message", json_object_ref (message));
  hq_room_broadcast (p->room, p, msg);
  return message;
}

JsonObject *
hq_participant_chat_media_url (
    HqParticipant *p, const gchar *media_sid, GError **error)
{
  HqConfig *config = p->room->rooms->config;
  g_autoptr (HqChatMediaRecord) m =
      hq_store_get_chat_media (p->room->rooms->store, media_sid, NULL);
  g_autofree gchar *url = NULL, *iso = NULL;
  JsonObject *detail, *obj;
  gint64 expires = 0;

  if (m == NULL || g_strcmp0 (m->room_sid, p->room->rec.sid) != 0) {
    g_set_error (error, HQ_ROOM_ERROR, HQ_ROOM_ERROR_NOT_FOUND,
        "There is no attachment %.64s in this room's chat.", media_sid);
    return NULL;
  }
  url = hq_media_link_new (
      "", config->media_secret, m->sid, config->chat_media_url_ttl, &expires);
  detail = json_object_new ();
  json_object_set_string_member (detail, "media_sid", m->sid);
  hq_room_event (p->room, "chat-media-link", p, NULL, NULL, detail);
  iso = hq_time_iso (expires * 1000);
  obj = json_object_new ();
  json_object_set_string_member (obj, "media_sid", m->sid);
  json_object_set_string_member (obj, "url", url);
  json_object_set_string_member (obj, "expires", iso);
  return obj;
}

JsonArray *
hq_participant_chat_history (HqParticipant *p, gint64 before, guint limit,
    gboolean *has_more, GError **error)
{
  GError *local = NULL;
  g_autoptr (GPtrArray) rows = NULL;
  JsonArray *arr;

  if (limit == 0 || limit > HQ_CHAT_PAGE) {
    hq_room_invalid (error, "limit must be 1 to %d.", HQ_CHAT_PAGE);
    return NULL;
  }
  if (before < 0) {
    hq_room_invalid (error, "before must be a message index (1 or more).");
    return NULL;
  }
  /* One more than asked tells whether anything lies further back. */
  rows = hq_store_chat_history (
      p->room->rooms->store, p->room->rec.sid, before, limit + 1, &local);
  if (rows == NULL) {
    hq_room_store_failed (local, error);
    return NULL;
  }
  *has_more = rows->len > limit;
  if (*has_more)
    g_ptr_array_remove_index (rows, 0);
  arr = json_array_new ();
  for (guint i = 0; i < rows->len; i++)
    json_array_add_object_element (
        arr, chat_to_json (g_ptr_array_index (rows, i)));
  return arr;
}

/* --- tracks --- */

static HqTrackRecord *
find_track (HqParticipant *p, const gchar *sid, GError **error)
{
  for (guint i = 0; i < p->tracks->len; i++) {
    HqTrackRecord *t = g_ptr_array_index (p->tracks, i);
    if (g_strcmp0 (t->sid, sid) == 0)
      return t;
  }
  g_set_error (error, HQ_ROOM_ERROR, HQ_ROOM_ERROR_NOT_FOUND,
      "Participant %s has no track %s.", p->rec.sid, sid);
  return NULL;
}

static void
announce_track (HqParticipant *p, const gchar *type, HqTrackRecord *t)
{
  JsonObject *msg = hq_message_new (type, NULL);

  json_object_set_string_member (msg, "participant_sid", p->rec.sid);
  json_object_set_object_member (msg, "track", hq_track_record_to_json (t));
  hq_room_broadcast (p->room, p, msg);
}

/* NULL (absent: standard) or one of the protocol's names. */
static gboolean
check_priority (const gchar *priority, HqSfuPriority *value, GError **error)
{
  *value = HQ_SFU_PRIORITY_STANDARD;
  if (priority == NULL || hq_sfu_priority_from_string (priority, value))
    return TRUE;
  return hq_room_invalid (
      error, "priority must be low, standard or high, not \"%s\".", priority);
}

JsonObject *
hq_participant_publish_track (HqParticipant *p, const gchar *name,
    const gchar *kind, gboolean enabled, const gchar *priority, GError **error)
{
  static const gchar *const kinds[] = { "audio", "video", "data", NULL };
  HqSfuPriority prio;
  HqTrackRecord *t;
  GError *local = NULL;

  if (p->hidden) {
    g_set_error (error, HQ_ROOM_ERROR, HQ_ROOM_ERROR_RECORDER,
        "The recorder does not publish.");
    return NULL;
  }
  if (!g_strv_contains (kinds, kind)) {
    hq_room_invalid (error, "kind must be audio, video or data.");
    return NULL;
  }
  if (!check_priority (priority, &prio, error))
    return NULL;
  if (*name == '\0' || g_utf8_strlen (name, -1) > HQ_TOKEN_MAX_NAME) {
    hq_room_invalid (error, "name must be 1 to 128 characters.");
    return NULL;
  }
  if (p->tracks->len >= HQ_TRACKS_MAX) {
    hq_room_invalid (
        error, "A participant publishes at most %d tracks.", HQ_TRACKS_MAX);
    return NULL;
  }
  for (guint i = 0; i < p->tracks->len; i++) {
    HqTrackRecord *o = g_ptr_array_index (p->tracks, i);
    if (g_strcmp0 (o->name, name) == 0) {
      hq_room_invalid (error,
          "This participant already publishes a track named "
          "\"%s\".",
          name);
      return NULL;
    }
  }
  t = g_new0 (HqTrackRecord, 1);
  t->sid = hq_sid_new ("MT");
  t->room_sid = g_strdup (p->room->rec.sid);
  t->participant_sid = g_strdup (p->rec.sid);
  t->name = g_strdup (name);
  t->kind = g_strdup (kind);
  t->priority = g_strdup (hq_sfu_priority_to_string (prio));
  t->enabled = enabled;
  t->published = TRUE;
  t->created = t->updated = hq_now_ms ();
  if (!hq_store_put_track (p->room->rooms->store, t, &local)) {
    hq_track_record_free (t);
    hq_room_store_failed (local, error);
    return NULL;
  }
  g_ptr_array_add (p->tracks, t);
  hq_room_event (p->room, "track-added", p, t, NULL, NULL);
  announce_track (p, "track_published", t);
  if (p->room->media) {
    hq_sfu_room_add_track (
        p->room->media, p->rec.sid, t->sid, t->name, t->kind, prio);
    if (!t->enabled)
      hq_sfu_room_set_track_enabled (p->room->media, t->sid, FALSE);
  }
  hq_room_emit_track (p, t, TRUE);
  return hq_track_record_to_json (t);
}

JsonObject *
hq_participant_unpublish_track (
    HqParticipant *p, const gchar *track_sid, GError **error)
{
  HqTrackRecord *t = find_track (p, track_sid, error);
  GError *local = NULL;
  JsonObject *obj;

  if (t == NULL)
    return NULL;
  t->published = FALSE;
  t->updated = hq_now_ms ();
  if (!hq_store_put_track (p->room->rooms->store, t, &local)) {
    t->published = TRUE;
    hq_room_store_failed (local, error);
    return NULL;
  }
  hq_room_event (p->room, "track-removed", p, t, NULL, NULL);
  announce_track (p, "track_unpublished", t);
  if (p->room->media)
    hq_sfu_room_remove_track (p->room->media, t->sid);
  obj = hq_track_record_to_json (t);
  hq_room_emit_track (p, t, FALSE);
  g_ptr_array_remove (p->tracks, t);
  return obj;
}

static gboolean
set_enabled (HqParticipant *p, HqTrackRecord *t, gboolean enabled,
    HqParticipant *actor, GError **error)
{
  GError *local = NULL;

  if (t->enabled == enabled)
    return TRUE;
  t->enabled = enabled;
  t->updated = hq_now_ms ();
  if (!hq_store_put_track (p->room->rooms->store, t, &local)) {
    t->enabled = !enabled;
    return hq_room_store_failed (local, error);
  }
  /* The SFU enforces it (a disabled track is not forwarded), told before
   * anyone hears of the change. */
  if (p->room->media)
    hq_sfu_room_set_track_enabled (p->room->media, t->sid, enabled);
  hq_room_event (
      p->room, enabled ? "track-enabled" : "track-disabled", p, t, actor, NULL);
  announce_track (p, enabled ? "track_enabled" : "track_disabled", t);
  return TRUE;
}

gboolean
hq_participant_media (HqParticipant *p, JsonObject *msg, GError **error)
{
  if (p->room->media == NULL) {
    return hq_room_invalid (error,
        "A %s room carries media peer to peer, not through the server.",
        p->room->rec.type);
  }
  hq_sfu_room_handle (p->room->media, p->rec.sid, msg);
  return TRUE;
}

/* --- subscribe rules --- */

gboolean
hq_subscribe_rules_check (JsonArray *rules, const gchar *field, GError **error)
{
  static const gchar *const kinds[] = { "audio", "video", "data", NULL };

  return hq_rules_check (rules, field, kinds, error);
}

HqParticipant *
hq_room_lookup_participant (HqRoom *room, const gchar *sid)
{
  return hq_room_find_participant (room, sid);
}

gboolean
hq_participant_set_subscribe_rules (
    HqParticipant *p, JsonArray *rules, GError **error)
{
  gint64 now = hq_now_ms ();

  if (p->hidden) {
    if (rules)
      json_array_unref (rules);
    g_set_error (error, HQ_ROOM_ERROR, HQ_ROOM_ERROR_RECORDER,
        "The recorder receives what the recording rules select.");
    return FALSE;
  }
  if (p->room->media == NULL) {
    if (rules)
      json_array_unref (rules);
    return hq_room_invalid (error,
        "A %s room carries media peer to peer: there is nothing to "
        "subscribe to at the server.",
        p->room->rec.type);
  }
  if (p->subscribe_rules)
    json_array_unref (p->subscribe_rules);
  else
    p->subscribe_rules_created = now;
  p->subscribe_rules = rules;
  p->subscribe_rules_updated = now;
  /* A waiting guest's go to the SFU when a host admits it. */
  if (!p->waiting)
    hq_sfu_room_set_subscribe_rules (p->room->media, p->rec.sid, rules);
  return TRUE;
}

JsonObject *
hq_participant_subscribe_rules_to_json (HqParticipant *p)
{
  JsonObject *o = json_object_new ();
  g_autofree gchar *created = NULL, *updated = NULL;

  json_object_set_string_member (o, "participant_sid", p->rec.sid);
  json_object_set_string_member (o, "room_sid", p->room->rec.sid);
  json_object_set_array_member (o, "rules",
      p->subscribe_rules ? json_array_ref (p->subscribe_rules)
                         : hq_rules_include_all ());
  if (p->subscribe_rules) {
    created = hq_time_iso (p->subscribe_rules_created);
    updated = hq_time_iso (p->subscribe_rules_updated);
    json_object_set_string_member (o, "date_created", created);
    json_object_set_string_member (o, "date_updated", updated);
  } else {
    json_object_set_null_member (o, "date_created");
    json_object_set_null_member (o, "date_updated");
  }
  return o;
}

JsonObject *
hq_participant_set_track_enabled (
    HqParticipant *p, const gchar *track_sid, gboolean enabled, GError **error)
{
  HqTrackRecord *t = find_track (p, track_sid, error);

  if (t == NULL || !set_enabled (p, t, enabled, NULL, error))
    return NULL;
  return hq_track_record_to_json (t);
}

JsonObject *
hq_participant_set_track_priority (HqParticipant *p, const gchar *track_sid,
    const gchar *priority, GError **error)
{
  HqTrackRecord *t = find_track (p, track_sid, error);
  g_autofree gchar *old = NULL;
  HqSfuPriority prio;
  GError *local = NULL;

  if (t == NULL || !check_priority (priority, &prio, error))
    return NULL;
  if (g_strcmp0 (t->priority, priority) == 0)
    return hq_track_record_to_json (t);
  old = t->priority;
  t->priority = g_strdup (priority);
  t->updated = hq_now_ms ();
  if (!hq_store_put_track (p->room->rooms->store, t, &local)) {
    g_free (t->priority);
    t->priority = g_steal_pointer (&old);
    hq_room_store_failed (local, error);
    return NULL;
  }
  if (p->room->media)
    hq_sfu_room_set_track_priority (p->room->media, t->sid, prio);
  announce_track (p, "track_priority_changed", t);
  return hq_track_record_to_json (t);
}

/* --- moderation --- */

static HqParticipant *
moderation_target (HqParticipant *host, const gchar *target_sid, GError **error)
{
  HqParticipant *target;

  if (host->role != HQ_ROLE_HOST || host->waiting) {
    g_set_error (error, HQ_ROOM_ERROR, HQ_ROOM_ERROR_FORBIDDEN,
        "Only a host may admit, deny, mute or remove participants.");
    return NULL;
  }
  target = hq_room_find_participant (host->room, target_sid);
  if (target == NULL)
    g_set_error (error, HQ_ROOM_ERROR, HQ_ROOM_ERROR_NOT_FOUND,
        "No participant %s is in this room.", target_sid);
  return target;
}

static HqParticipant *
lobby_target (HqParticipant *host, const gchar *target_sid, GError **error)
{
  HqParticipant *target = moderation_target (host, target_sid, error);

  if (target && !target->waiting) {
    g_set_error (error, HQ_ROOM_ERROR, HQ_ROOM_ERROR_NOT_FOUND,
        "Participant %s is not waiting in the lobby.", target_sid);
    return NULL;
  }
  return target;
}

gboolean
hq_participant_admit (
    HqParticipant *host, const gchar *target_sid, GError **error)
{
  HqParticipant *target = lobby_target (host, target_sid, error);
  g_autofree gchar *id = NULL;

  if (target == NULL || !check_room_open (host->room, error))
    return FALSE;
  id = g_steal_pointer (&target->join_id);
  hq_room_event (host->room, "participant-admitted", target, NULL, host, NULL);
  if (!connect_participant (target, id, host, error))
    return FALSE;
  announce_lobby (host->room);
  return TRUE;
}

gboolean
hq_participant_admit_identity (
    HqParticipant *host, const gchar *identity, GError **error)
{
  if (host->role != HQ_ROLE_HOST || host->waiting) {
    g_set_error (error, HQ_ROOM_ERROR, HQ_ROOM_ERROR_FORBIDDEN,
        "Only a host may admit, deny, mute or remove participants.");
    return FALSE;
  }
  return hq_room_unban (host->room, identity, host, error);
}

/* "@sentence" or "@sentence: @reason", for a denied or removed
 * participant (new). */
static gchar *
moderation_message (const gchar *sentence, const gchar *reason)
{
  return reason ? g_strdup_printf ("%s: %s", sentence, reason)
                : g_strdup_printf ("%s.", sentence);
}

static gboolean
check_reason (const gchar *reason, GError **error)
{
  if (reason == NULL)
    return TRUE;
  if (*reason == '\0' || strlen (reason) > HQ_PROTOCOL_MAX_REASON)
    return hq_room_invalid (error, "reason must be 1 to %d bytes, not %zu.",
        HQ_PROTOCOL_MAX_REASON, strlen (reason));
  return TRUE;
}

gboolean
hq_participant_deny (HqParticipant *host, const gchar *target_sid,
    const gchar *reason, GError **error)
{
  HqParticipant *target;
  g_autoptr (JsonObject) msg = NULL;
  g_autofree gchar *text = NULL;

  if (!check_reason (reason, error)
      || (target = lobby_target (host, target_sid, error)) == NULL
      || !hq_participant_ban (target, "denied", host, error))
    return FALSE;
  hq_room_event (host->room, "participant-denied", target, NULL, host, NULL);
  msg = hq_message_new ("denied", target->join_id);
  text =
      moderation_message ("A host declined to admit you to this room", reason);
  json_object_set_string_member (msg, "message", text);
  if (reason)
    json_object_set_string_member (msg, "reason", reason);
  hq_participant_send (target, msg);
  hq_participant_disconnect (target, "denied", HQ_CLOSE_DENIED, host);
  return TRUE;
}

gboolean
hq_participant_mute (HqParticipant *host, const gchar *target_sid,
    const gchar *track_sid, GError **error)
{
  HqParticipant *target = moderation_target (host, target_sid, error);
  g_autoptr (JsonObject) msg = NULL;
  HqTrackRecord *t;

  if (target == NULL || (t = find_track (target, track_sid, error)) == NULL)
    return FALSE;
  hq_room_event (host->room, "track-muted", target, t, host, NULL);
  msg = hq_message_new ("muted", NULL);
  json_object_set_string_member (msg, "track_sid", t->sid);
  json_object_set_object_member (msg, "by", participant_ref_json (host));
  hq_participant_send (target, msg);
  return set_enabled (target, t, FALSE, host, error);
}

gboolean
hq_participant_remove (HqParticipant *host, const gchar *target_sid,
    const gchar *reason, GError **error)
{
  HqParticipant *target;
  g_autoptr (JsonObject) msg = NULL;
  g_autofree gchar *text = NULL;

  if (!check_reason (reason, error)
      || (target = moderation_target (host, target_sid, error)) == NULL)
    return FALSE;
  if (target == host) {
    hq_room_invalid (
        error, "A host leaves with `leave`, not by removing itself.");
    return FALSE;
  }
  if (!hq_participant_ban (target, "removed", host, error))
    return FALSE;
  hq_room_event (host->room, "participant-removed", target, NULL, host, NULL);
  msg = hq_message_new ("removed", NULL);
  json_object_set_object_member (msg, "by", participant_ref_json (host));
  text = moderation_message ("A host removed you from this room", reason);
  json_object_set_string_member (msg, "message", text);
  if (reason)
    json_object_set_string_member (msg, "reason", reason);
  hq_participant_send (target, msg);
  hq_participant_disconnect (target, "removed", HQ_CLOSE_REMOVED, host);
  return TRUE;
}

gboolean
hq_participant_may_end_room (HqParticipant *host, GError **error)
{
  if (host->role == HQ_ROLE_HOST && !host->waiting)
    return TRUE;
  g_set_error (error, HQ_ROOM_ERROR, HQ_ROOM_ERROR_FORBIDDEN,
      "Only a host may end the room for everyone.");
  return FALSE;
}

void
hq_participant_end_room (HqParticipant *host)
{
  hq_room_event (host->room, "room-ended-by-host", NULL, NULL, host, NULL);
  hq_room_complete (host->room, "completed_by_host");
}

JsonObject *
hq_participant_set_recording (
    HqParticipant *host, JsonArray *rules, GError **error)
{
  g_autoptr (JsonArray) wanted = rules ? rules : hq_rules_include_all ();

  if (host->role != HQ_ROLE_HOST || host->waiting) {
    g_set_error (error, HQ_ROOM_ERROR, HQ_ROOM_ERROR_FORBIDDEN,
        "Only a host may start or stop recording.");
    return NULL;
  }
  return hq_room_set_recording_rules (host->room, wanted, host, error);
}

gboolean
hq_participant_set_subscriber_priority (HqParticipant *p,
    const gchar *track_sid, const gchar *priority, GError **error)
{
  HqRoom *room = p->room;
  HqSfuPriority prio = HQ_SFU_PRIORITY_STANDARD;
  HqTrackRecord *t = NULL;

  if (room->media == NULL)
    return hq_room_invalid (error,
        "A %s room carries media peer to peer: the server has no "
        "bandwidth to share.",
        room->rec.type);
  if (priority && !check_priority (priority, &prio, error))
    return FALSE;
  for (guint i = 0; t == NULL && i < room->participants->len; i++) {
    HqParticipant *o = g_ptr_array_index (room->participants, i);
    if (o != p && !o->waiting)
      t = find_track (o, track_sid, NULL);
  }
  if (t == NULL || !t->published) {
    g_set_error (error, HQ_ROOM_ERROR, HQ_ROOM_ERROR_NOT_FOUND,
        "No other participant publishes a track %s in this room.", track_sid);
    return FALSE;
  }
  hq_sfu_room_set_subscriber_priority (
      room->media, p->rec.sid, t->sid, priority ? (gint)prio : -1);
  return TRUE;
}

/* The bytes @data carries: its own, or those its base64 decodes to (-1:
 * not base64). */
static gssize
data_length (const gchar *data, gboolean binary)
{
  gsize len = strlen (data), pad = 0;

  if (!binary)
    return (gssize)len;
  if (len % 4 != 0)
    return -1;
  for (gsize i = 0; i < len; i++) {
    gchar c = data[i];
    if (c == '=' && i >= len - 2)
      pad++;
    else if (pad > 0 || !(g_ascii_isalnum (c) || c == '+' || c == '/'))
      return -1;
  }
  return (gssize)(len / 4 * 3 - pad);
}

/* Counts one message of @bytes against @p's second; FALSE when over. */
static gboolean
data_rate_ok (HqParticipant *p, gsize bytes, GError **error)
{
  gint64 second = g_get_monotonic_time () / G_USEC_PER_SEC;

  if (second != p->data_second) {
    p->data_second = second;
    p->data_messages = 0;
    p->data_bytes = 0;
  }
  if (p->data_messages + 1 > HQ_PROTOCOL_DATA_MESSAGES_PER_SECOND
      || p->data_bytes + bytes > HQ_PROTOCOL_DATA_BYTES_PER_SECOND) {
    g_set_error (error, HQ_ROOM_ERROR, HQ_ROOM_ERROR_RATE_LIMITED,
        "Data tracks carry at most %d messages and %d bytes a second from "
        "one participant; this message was dropped.",
        HQ_PROTOCOL_DATA_MESSAGES_PER_SECOND,
        HQ_PROTOCOL_DATA_BYTES_PER_SECOND);
    return FALSE;
  }
  p->data_messages++;
  p->data_bytes += bytes;
  return TRUE;
}

gboolean
hq_participant_send_data (HqParticipant *p, const gchar *track_sid,
    const gchar *data, gboolean binary, GError **error)
{
  HqRoom *room = p->room;
  HqTrackRecord *t;
  gssize bytes;
  g_autoptr (JsonObject) msg = NULL;

  if (room->media == NULL)
    return hq_room_invalid (error,
        "A %s room carries data tracks on data channels between the "
        "participants, not through the server.",
        room->rec.type);
  if ((t = find_track (p, track_sid, error)) == NULL)
    return FALSE;
  if (!g_str_equal (t->kind, "data") || !t->published)
    return hq_room_invalid (
        error, "Track %s is not a published data track.", track_sid);
  if ((bytes = data_length (data, binary)) < 0)
    return hq_room_invalid (error,
        "data is not base64, but binary is true: send binary data as "
        "base64.");
  if (bytes > HQ_PROTOCOL_MAX_DATA) {
    g_set_error (error, HQ_ROOM_ERROR, HQ_ROOM_ERROR_TOO_BIG,
        "A data track message carries at most %d bytes; this one has %zd. "
        "Nobody received it.",
        HQ_PROTOCOL_MAX_DATA, bytes);
    return FALSE;
  }
  if (!data_rate_ok (p, (gsize)bytes, error))
    return FALSE;
  msg = hq_message_new (HQ_EVENT_DATA_MESSAGE, NULL);
  json_object_set_string_member (msg, "participant_sid", p->rec.sid);
  json_object_set_string_member (msg, "track_sid", t->sid);
  json_object_set_string_member (msg, "data", data);
  if (binary)
    json_object_set_boolean_member (msg, "binary", TRUE);
  /* Not to the recorder: it records no data. */
  for (guint i = 0; i < room->participants->len; i++) {
    HqParticipant *o = g_ptr_array_index (room->participants, i);
    if (o != p && !o->waiting
        && (o->subscribe_rules == NULL
            || hq_rules_select (
                o->subscribe_rules, "data", p->rec.identity, t->name)))
      hq_participant_send (o, msg);
  }
  return TRUE;
}

gboolean
hq_participant_e2ee_relay (
    HqParticipant *p, const gchar *to, const gchar *data, GError **error)
{
  HqRoom *room = p->room;
  HqParticipant *target = NULL;
  JsonObject *out;

  if (strlen (data) > HQ_PROTOCOL_MAX_E2EE) {
    g_set_error (error, HQ_ROOM_ERROR, HQ_ROOM_ERROR_TOO_BIG,
        "An e2ee_send message carries at most %d bytes of data; nobody "
        "received it.",
        HQ_PROTOCOL_MAX_E2EE);
    return FALSE;
  }
  if (to) {
    target = hq_room_find_participant (room, to);
    if (target == NULL && room->recorder
        && g_strcmp0 (room->recorder->rec.sid, to) == 0)
      target = room->recorder;
    if (target == NULL || target->waiting || target == p) {
      g_set_error (error, HQ_ROOM_ERROR, HQ_ROOM_ERROR_NOT_FOUND,
          "No other participant %s is in this room.", to);
      return FALSE;
    }
  }
  /* The server knows the room is encrypted end to end from this: it
   * refuses to compose it (docs/e2ee.md, "Recording"). */
  if (!room->e2ee) {
    g_autoptr (GError) local = NULL;
    room->e2ee = hq_store_mark_e2ee (room->rooms->store, room->rec.sid, &local);
    if (local) {
      JsonObject *line = hq_log_begin (HQ_LOG_WARN, "room");
      json_object_set_string_member (line, "room_sid", room->rec.sid);
      json_object_set_string_member (line, "what", "e2ee-mark-failed");
      json_object_set_string_member (line, "error", local->message);
      hq_log_end (line);
    }
  }
  out = hq_message_new (HQ_EVENT_E2EE_MESSAGE, NULL);
  json_object_set_string_member (out, "from", p->rec.sid);
  json_object_set_string_member (out, "identity", p->rec.identity);
  json_object_set_string_member (out, "data", data);
  if (target) {
    hq_participant_send (target, out);
    json_object_unref (out);
  } else {
    hq_room_broadcast (room, p, out);
  }
  return TRUE;
}

gboolean
hq_participant_relay (HqParticipant *p, JsonObject *msg, GError **error)
{
  const gchar *type =
      json_object_get_string_member_with_default (msg, "type", "");
  const gchar *to =
      json_object_get_string_member_with_default (msg, "to", NULL);
  const gchar *field =
      g_str_equal (type, "peer_candidate") ? "candidate" : "sdp";
  const gchar *payload =
      json_object_get_string_member_with_default (msg, field, NULL);
  HqParticipant *target;
  g_autoptr (JsonObject) out = NULL;

  if (p->room->media != NULL) {
    return hq_room_invalid (error,
        "A %s room carries media through the server: use publish_offer.",
        p->room->rec.type);
  }
  if (to == NULL || payload == NULL)
    return hq_room_invalid (error, "%s needs to and %s strings.", type, field);
  target = hq_room_find_participant (p->room, to);
  if (target == NULL || target->waiting || target == p) {
    g_set_error (error, HQ_ROOM_ERROR, HQ_ROOM_ERROR_NOT_FOUND,
        "No other participant %s is in this room.", to);
    return FALSE;
  }
  out = hq_message_new (type, NULL);
  json_object_set_string_member (out, "from", p->rec.sid);
  json_object_set_string_member (out, "identity", p->rec.identity);
  json_object_set_string_member (out, field, payload);
  hq_participant_send (target, out);
  return TRUE;
}
