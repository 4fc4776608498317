/* Following rooms (hqroomcore.h, "following rooms"): the observers the rooms
 * tell what happens in them, the one HqRoomRecording they ask about
 * recording, and what the observers may read of a room.
 *
 * This is what lets the recording supervisor follow rooms without the
 * rooms or participants calling it: hqroom.c and hqparticipant.c emit
 * (hq_room_emit_*), the supervisor registered itself at start.  Observers
 * are called in the order they were added, on the main context, and must
 * not add or remove observers from inside a call. */
#include "hqroomcore-private.h"

#include <hq/hqutil.h>

/* The @i-th observer of @rooms, or NULL past the last. */
static HqRoomWatch *
watch (HqRooms *rooms, guint i)
{
  return i < rooms->observers->len
      ? &g_array_index (rooms->observers, HqRoomWatch, i)
      : NULL;
}

void
hq_rooms_add_observer (
    HqRooms *rooms, const HqRoomObserver *observer, gpointer data)
{
  HqRoomWatch w = { observer, data };
  GHashTableIter iter;
  gpointer room;

  g_array_append_val (rooms->observers, w);
  if (observer->room_started == NULL)
    return;
  g_hash_table_iter_init (&iter, rooms->live);
  while (g_hash_table_iter_next (&iter, NULL, &room))
    observer->room_started (room, data);
}

void
hq_rooms_remove_observer (
    HqRooms *rooms, const HqRoomObserver *observer, gpointer data)
{
  for (guint i = 0; i < rooms->observers->len; i++) {
    HqRoomWatch *w = &g_array_index (rooms->observers, HqRoomWatch, i);
    if (w->observer == observer && w->data == data) {
      g_array_remove_index (rooms->observers, i);
      return;
    }
  }
}

/* --- emitting --- */

void
hq_room_emit_started (HqRoom *room)
{
  HqRoomWatch *w;

  for (guint i = 0; (w = watch (room->rooms, i)); i++)
    if (w->observer->room_started)
      w->observer->room_started (room, w->data);
}

void
hq_room_emit_joined (HqParticipant *p)
{
  HqRooms *rooms = p->room->rooms;
  HqRoomWatch *w;

  for (guint i = 0; (w = watch (rooms, i)); i++)
    if (w->observer->participant_joined)
      w->observer->participant_joined (p->room, &p->rec, w->data);
}

void
hq_room_emit_left (HqParticipant *p)
{
  HqRooms *rooms = p->room->rooms;
  HqRoomWatch *w;

  for (guint i = 0; (w = watch (rooms, i)); i++)
    if (w->observer->participant_left)
      w->observer->participant_left (p->room, &p->rec, w->data);
}

void
hq_room_emit_track (
    HqParticipant *p, const HqTrackRecord *t, gboolean published)
{
  HqRooms *rooms = p->room->rooms;
  HqRoomWatch *w;

  for (guint i = 0; (w = watch (rooms, i)); i++) {
    if (published && w->observer->track_published)
      w->observer->track_published (p->room, &p->rec, t, w->data);
    else if (!published && w->observer->track_unpublished)
      w->observer->track_unpublished (p->room, &p->rec, t, w->data);
  }
}

void
hq_room_emit_recorder (HqRoom *room, const gchar *sid)
{
  HqRoomWatch *w;

  for (guint i = 0; (w = watch (room->rooms, i)); i++) {
    if (sid && w->observer->recorder_joined)
      w->observer->recorder_joined (room, sid, w->data);
    else if (!sid && w->observer->recorder_left)
      w->observer->recorder_left (room, w->data);
  }
}

void
hq_room_emit_completed (HqRoom *room)
{
  HqRoomWatch *w;

  for (guint i = 0; (w = watch (room->rooms, i)); i++)
    if (w->observer->room_completed)
      w->observer->room_completed (room, w->data);
}

/* --- recording --- */

void
hq_rooms_set_recording (
    HqRooms *rooms, const HqRoomRecording *recording, gpointer data)
{
  rooms->recording = recording;
  rooms->recording_data = data;
}

gboolean
hq_room_is_recorder (HqRoom *room, const HqTokenClaims *claims)
{
  HqRooms *rooms = room->rooms;

  return rooms->recording
      && rooms->recording->is_recorder (room, claims, rooms->recording_data);
}

JsonNode *
hq_room_recording_state (HqRoom *room)
{
  HqRooms *rooms = room->rooms;

  if (rooms->recording == NULL)
    return json_node_new (JSON_NODE_NULL);
  return rooms->recording->state_json (room, rooms->recording_data);
}

JsonObject *
hq_room_set_recording_rules (
    HqRoom *room, JsonArray *rules, HqParticipant *host, GError **error)
{
  HqRooms *rooms = room->rooms;

  if (rooms->recording == NULL) {
    hq_room_invalid (error, "This server records no room.");
    return NULL;
  }
  return rooms->recording->set_rules (
      room, rules, host ? &host->rec : NULL, rooms->recording_data, error);
}

/* --- what observers read --- */

HqSfuRoom *
hq_room_get_media (HqRoom *room)
{
  return room->media;
}

void
hq_room_foreach_track (HqRoom *room, HqRoomTrackFunc func, gpointer data)
{
  for (guint i = 0; i < room->participants->len; i++) {
    HqParticipant *p = g_ptr_array_index (room->participants, i);
    if (p->waiting || p->peer == NULL)
      continue;
    for (guint j = 0; j < p->tracks->len; j++) {
      HqTrackRecord *t = g_ptr_array_index (p->tracks, j);
      if (t->published)
        func (&p->rec, t, data);
    }
  }
}

const HqParticipantRecord *
hq_room_get_participant_record (HqRoom *room, const gchar *sid)
{
  HqParticipant *p = hq_room_find_participant (room, sid);

  return p ? &p->rec : NULL;
}

void
hq_rooms_post_callback (HqRooms *rooms, const gchar *room_sid,
    const gchar *event, GHashTable *fields)
{
  HqRoom *room = g_hash_table_lookup (rooms->live, room_sid);
  g_autoptr (HqRoomRecord) stored = NULL;
  g_autoptr (GHashTable) f = NULL;
  HqRoomRecord *rec;
  GHashTableIter iter;
  gpointer key, value;

  if (room)
    rec = &room->rec;
  else if ((stored = hq_store_get_room (rooms->store, room_sid, NULL)))
    rec = stored;
  else
    return;
  if (rec->status_callback == NULL)
    return;
  f = hq_room_callback_fields (rooms, rec, event, hq_now_ms ());
  g_hash_table_iter_init (&iter, fields);
  while (g_hash_table_iter_next (&iter, &key, &value))
    g_hash_table_insert (f, key, g_strdup (value));
  hq_callbacks_post (rooms->callbacks, rec->sid, rec->status_callback, f);
}
