/* The room core: what a room is made of, below both hqroom.c and the
 * participant files (hqroomcore.h says how the three layers stack).  This
 * file has the records' JSON, sending to one participant or the whole
 * room, the audit log and status callbacks, the room's idle timers and
 * finding a participant; hqroomcore-events.c tells the observers.
 *
 * Nothing here starts or ends a room, or makes or ends a participant:
 * when the empty-room or unused-room countdown runs out, the room ends
 * through HqRooms.complete, which hqroom.c set to hq_room_complete. */
#include "hqroomcore-private.h"
#include "hqhttp.h"
#include "hqlog.h"

#include <hq/hqutil.h>

gint64
hq_now_ms (void)
{
  return g_get_real_time () / 1000;
}

gchar *
hq_time_iso (gint64 ms)
{
  g_autoptr (GDateTime) t = g_date_time_new_from_unix_utc (ms / 1000);

  return g_date_time_format (t, "%Y-%m-%dT%H:%M:%SZ");
}

/* --- JSON --- */

static void
set_time (JsonObject *obj, const gchar *name, gint64 ms)
{
  if (ms == 0) {
    json_object_set_null_member (obj, name);
  } else {
    g_autofree gchar *iso = hq_time_iso (ms);
    json_object_set_string_member (obj, name, iso);
  }
}

/* end_time, and duration in whole seconds; both null until it ended. */
static void
set_end (JsonObject *obj, gint64 created, gint64 ended)
{
  set_time (obj, "end_time", ended);
  if (ended)
    json_object_set_int_member (obj, "duration", (ended - created) / 1000);
  else
    json_object_set_null_member (obj, "duration");
}

JsonObject *
hq_room_record_to_json (const HqRoomRecord *r, const gchar *base)
{
  JsonObject *obj = json_object_new ();
  JsonObject *links = json_object_new ();
  g_autofree gchar *url = g_strdup_printf ("%s/v1/Rooms/%s", base, r->sid);

  json_object_set_string_member (obj, "sid", r->sid);
  json_object_set_string_member (obj, "unique_name", r->unique_name);
  json_object_set_string_member (obj, "status", r->status);
  json_object_set_string_member (obj, "type", r->type);
  json_object_set_int_member (obj, "max_participants", r->max_participants);
  hq_json_set_string_or_null (obj, "status_callback", r->status_callback);
  json_object_set_string_member (obj, "status_callback_method", "POST");
  json_object_set_int_member (obj, "empty_room_timeout", r->empty_room_timeout);
  json_object_set_int_member (
      obj, "unused_room_timeout", r->unused_room_timeout);
  json_object_set_int_member (
      obj, "max_participant_duration", r->max_participant_duration);
  json_object_set_boolean_member (
      obj, "record_participants_on_connect", r->record_participants_on_connect);
  json_object_set_boolean_member (obj, "waiting_room", r->waiting_room);
  set_time (obj, "date_created", r->created);
  set_time (obj, "date_updated", r->updated);
  set_end (obj, r->created, r->ended);
  hq_json_set_string_or_null (obj, "end_reason", r->end_reason);
  json_object_set_string_member (obj, "url", url);
  {
    g_autofree gchar *p = g_strdup_printf ("%s/Participants", url);
    g_autofree gchar *e = g_strdup_printf ("%s/Events", url);
    json_object_set_string_member (links, "participants", p);
    json_object_set_string_member (links, "events", e);
  }
  json_object_set_object_member (obj, "links", links);
  return obj;
}

JsonObject *
hq_participant_record_to_json (const HqParticipantRecord *p, const gchar *base)
{
  JsonObject *obj = json_object_new ();

  json_object_set_string_member (obj, "sid", p->sid);
  json_object_set_string_member (obj, "room_sid", p->room_sid);
  json_object_set_string_member (obj, "identity", p->identity);
  json_object_set_string_member (obj, "name", p->name ? p->name : p->identity);
  json_object_set_string_member (obj, "status", p->status);
  json_object_set_string_member (obj, "role", p->role);
  set_time (obj, "date_created", p->created);
  set_time (obj, "date_updated", p->updated);
  set_time (obj, "start_time", p->created);
  set_end (obj, p->created, p->ended);
  hq_json_set_string_or_null (obj, "end_reason", p->end_reason);
  if (base) {
    g_autofree gchar *url = g_strdup_printf (
        "%s/v1/Rooms/%s/Participants/%s", base, p->room_sid, p->sid);
    json_object_set_string_member (obj, "url", url);
  }
  return obj;
}

JsonObject *
hq_track_record_to_json (const HqTrackRecord *t)
{
  JsonObject *obj = json_object_new ();

  json_object_set_string_member (obj, "sid", t->sid);
  json_object_set_string_member (obj, "name", t->name);
  json_object_set_string_member (obj, "kind", t->kind);
  json_object_set_boolean_member (obj, "enabled", t->enabled);
  json_object_set_string_member (obj, "priority",
      t->priority ? t->priority
                  : hq_protocol_priority_name (HQ_PRIORITY_STANDARD));
  return obj;
}

/* --- sending --- */

void
hq_participant_send (HqParticipant *p, JsonObject *msg)
{
  if (p->peer)
    p->ops->send (p->peer, msg);
}

/* Sends @msg (taken) to every connected participant but @except. */
void
hq_room_broadcast (HqRoom *room, HqParticipant *except, JsonObject *msg)
{
  gboolean chat = hq_protocol_read_type (msg) == HQ_MESSAGE_CHAT_MESSAGE;

  for (guint i = 0; i < room->participants->len; i++) {
    HqParticipant *p = g_ptr_array_index (room->participants, i);
    if (p != except && !p->waiting)
      hq_participant_send (p, msg);
  }
  /* The recorder hears what everyone hears; nobody hears of it. */
  if (room->recorder && room->recorder != except)
    hq_participant_send (room->recorder, msg);
  /* Chat-only members hear the chat, nothing else. */
  if (chat) {
    for (guint i = 0; i < room->chat_members->len; i++) {
      HqParticipant *m = g_ptr_array_index (room->chat_members, i);
      if (m != except)
        hq_participant_send (m, msg);
    }
  }
  json_object_unref (msg);
}

void
hq_participant_close_peer (HqParticipant *p, gushort code, const gchar *reason)
{
  gpointer peer = p->peer;

  p->peer = NULL;
  if (peer)
    p->ops->close (peer, code, reason);
}

/* --- audit log and status callbacks --- */

static const gchar *const callback_events[] = { "room-created", "room-ended",
  "participant-connected", "participant-disconnected", "track-added",
  "track-removed", "track-enabled", "track-disabled", NULL };

GHashTable *
hq_room_callback_fields (
    HqRooms *rooms, HqRoomRecord *rec, const gchar *event, gint64 ts)
{
  GHashTable *f = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, g_free);
  g_autoptr (GError) error = NULL;

  rec->callback_sequence++;
  if (!hq_store_put_room (rooms->store, rec, &error))
    hq_log_message (HQ_LOG_ERROR, "store", "%s", error->message);
  g_hash_table_insert (f, "AccountSid", g_strdup (rooms->config->account_sid));
  g_hash_table_insert (f, "RoomSid", g_strdup (rec->sid));
  g_hash_table_insert (f, "RoomName", g_strdup (rec->unique_name));
  g_hash_table_insert (f, "RoomType", g_strdup (rec->type));
  g_hash_table_insert (f, "RoomStatus", g_strdup (rec->status));
  g_hash_table_insert (f, "StatusCallbackEvent", g_strdup (event));
  g_hash_table_insert (f, "SequenceNumber",
      g_strdup_printf ("%" G_GINT64_FORMAT, rec->callback_sequence));
  g_hash_table_insert (f, "Timestamp", hq_time_iso (ts));
  if (rec->ended)
    g_hash_table_insert (f, "RoomDuration",
        g_strdup_printf (
            "%" G_GINT64_FORMAT, (rec->ended - rec->created) / 1000));
  return f;
}

static void
post_callback (HqRoom *room, const gchar *event, HqParticipant *p,
    const HqTrackRecord *t, gint64 ts)
{
  g_autoptr (GHashTable) f =
      hq_room_callback_fields (room->rooms, &room->rec, event, ts);
  if (p) {
    g_hash_table_insert (f, "ParticipantSid", g_strdup (p->rec.sid));
    g_hash_table_insert (f, "ParticipantIdentity", g_strdup (p->rec.identity));
    g_hash_table_insert (f, "ParticipantStatus", g_strdup (p->rec.status));
    if (p->rec.ended)
      g_hash_table_insert (f, "ParticipantDuration",
          g_strdup_printf (
              "%" G_GINT64_FORMAT, (p->rec.ended - p->rec.created) / 1000));
  }
  if (t) {
    g_hash_table_insert (f, "TrackSid", g_strdup (t->sid));
    g_hash_table_insert (f, "TrackName", g_strdup (t->name));
    g_hash_table_insert (f, "TrackKind", g_strdup (t->kind));
  }
  hq_callbacks_post (
      room->rooms->callbacks, room->rec.sid, room->rec.status_callback, f);
}

/* Writes @event to the audit log and the server log; @detail (taken) may
 * be NULL.  Returns its time. */
static gint64
audit_room_sid (HqRooms *rooms, const gchar *room_sid, const gchar *event,
    const gchar *participant_sid, const gchar *identity, const HqTrackRecord *t,
    HqParticipant *actor, JsonObject *detail)
{
  HqEventRecord ev = { 0 };
  g_autoptr (GError) error = NULL;
  g_autofree gchar *detail_text = NULL;
  JsonObject *line;

  if (detail) {
    JsonNode *node = json_node_new (JSON_NODE_OBJECT);
    json_node_take_object (node, detail);
    detail_text = json_to_string (node, FALSE);
    json_node_unref (node);
  }
  ev.room_sid = (gchar *)room_sid;
  ev.event = (gchar *)event;
  ev.participant_sid = (gchar *)participant_sid;
  ev.identity = (gchar *)identity;
  ev.track_sid = t ? t->sid : NULL;
  ev.actor_sid = actor ? actor->rec.sid : NULL;
  ev.detail = detail_text;
  ev.created = hq_now_ms ();
  if (!hq_store_add_event (rooms->store, &ev, &error))
    hq_log_message (HQ_LOG_ERROR, "store", "audit log: %s", error->message);

  line = hq_log_begin (HQ_LOG_INFO, "room");
  json_object_set_string_member (line, "room_sid", room_sid);
  json_object_set_string_member (line, "what", event);
  if (participant_sid)
    json_object_set_string_member (line, "participant_sid", participant_sid);
  if (t)
    json_object_set_string_member (line, "track_sid", t->sid);
  hq_log_end (line);
  return ev.created;
}

static gint64
audit (HqRoom *room, const gchar *event, const gchar *participant_sid,
    const gchar *identity, const HqTrackRecord *t, HqParticipant *actor,
    JsonObject *detail)
{
  return audit_room_sid (room->rooms, room->rec.sid, event, participant_sid,
      identity, t, actor, detail);
}

void
hq_rooms_audit (HqRooms *rooms, const gchar *room_sid, const gchar *event,
    const gchar *identity, JsonObject *detail)
{
  audit_room_sid (rooms, room_sid, event, NULL, identity, NULL, NULL, detail);
}

/* Records @event in the audit log, and as a status callback when it is one.
 * @detail (taken) may be NULL. */
void
hq_room_event (HqRoom *room, const gchar *event, HqParticipant *p,
    const HqTrackRecord *t, HqParticipant *actor, JsonObject *detail)
{
  gint64 ts = audit (room, event, p ? p->rec.sid : NULL,
      p ? p->rec.identity : NULL, t, actor, detail);

  if (room->rec.status_callback && g_strv_contains (callback_events, event))
    post_callback (room, event, p, t, ts);
}

void
hq_room_event_identity (HqRoom *room, const gchar *event, const gchar *identity,
    HqParticipant *actor, JsonObject *detail)
{
  audit (room, event, NULL, identity, NULL, actor, detail);
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

/* --- timers --- */

void
hq_clear_source (guint *id)
{
  if (*id) {
    g_source_remove (*id);
    *id = 0;
  }
}

guint
hq_room_connected_count (HqRoom *room)
{
  guint n = 0;

  for (guint i = 0; i < room->participants->len; i++) {
    HqParticipant *p = g_ptr_array_index (room->participants, i);
    n += !p->waiting;
  }
  return n;
}

static gboolean
idle_timeout_cb (gpointer user_data)
{
  HqRoom *room = user_data;

  room->idle_timer = 0;
  room->rooms->complete (room, room->idle_reason);
  return G_SOURCE_REMOVE;
}

guint
hq_timeout_ms (gint64 ms, GSourceFunc fn, gpointer data)
{
  return g_timeout_add ((guint)CLAMP (ms, 1, G_MAXUINT), fn, data);
}

void
hq_room_start_idle_timer (HqRoom *room, gint minutes, HqRoomEndReason reason)
{
  hq_clear_source (&room->idle_timer);
  room->idle_reason = reason;
  room->idle_timer = hq_timeout_ms (
      minutes * room->rooms->config->minute_ms, idle_timeout_cb, room);
}

/* Called whenever someone leaves: an empty room starts its countdown. */
void
hq_room_maybe_start_empty_timer (HqRoom *room)
{
  if (hq_room_connected_count (room) == 0 && room->idle_timer == 0)
    hq_room_start_idle_timer (
        room, room->rec.empty_room_timeout, HQ_ROOM_END_EMPTY_ROOM_TIMEOUT);
}
