/* Rooms REST API; see hqroomsapi.h and docs/rooms.md.
 *
 * Reads come from the store, which every change is written to before it is
 * announced, so what REST shows is what the rooms did.  Writes go through
 * the live room objects (hqroom.c).  One handler takes everything under
 * /v1/Rooms and routes on the path's segments. */
#include "hqroomsapi.h"
#include "hqhttp.h"
#include "hqrecordingsapi.h"
#include "hqlog.h"

#include <string.h>
#include <hq/hqutil.h>

static void
reply_room_error (SoupServerMessage *msg, const GError *error)
{
  guint status = 400;
  const gchar *message = "invalid parameter";

  if (error->domain == HQ_ROOM_ERROR) {
    switch (error->code) {
      case HQ_ROOM_ERROR_NOT_FOUND:
        status = 404;
        message = "not found";
        break;
      case HQ_ROOM_ERROR_NAME_TAKEN:
        status = 409;
        message = "room exists";
        break;
      case HQ_ROOM_ERROR_STORE:
        status = 500;
        message = "storage failed";
        break;
      default:
        break;
    }
  }
  hq_http_reply_error (msg, status, message, error->message);
}

static void
reply_store_error (SoupServerMessage *msg, const GError *error)
{
  if (g_error_matches (error, HQ_STORE_ERROR, HQ_STORE_ERROR_NOT_FOUND)) {
    g_autofree gchar *why = g_strdup_printf ("There is %s.", error->message);
    hq_http_reply_error (msg, 404, "not found", why);
    return;
  }
  hq_log_message (HQ_LOG_ERROR, "store", "%s", error->message);
  hq_http_reply_error (msg, 500, "storage failed", error->message);
}

/* --- rooms --- */

/* A room by sid, or by unique name (the one in progress, else the newest). */
static HqRoomRecord *
find_room (HqRoomsApi *api, SoupServerMessage *msg, const gchar *id)
{
  HqStore *store = hq_rooms_get_store (api->rooms);
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) rows = NULL;
  HqRoom *live;
  g_autofree gchar *why = NULL;

  if (hq_sid_is_valid (id, "RM")) {
    HqRoomRecord *rec = hq_store_get_room (store, id, &error);
    if (rec == NULL)
      reply_store_error (msg, error);
    return rec;
  }
  live = hq_rooms_lookup (api->rooms, id);
  if (live)
    return hq_room_record_copy (hq_room_get_record (live));
  rows = hq_store_list_rooms (store, NULL, id, 1, 0, &error);
  if (rows == NULL) {
    reply_store_error (msg, error);
    return NULL;
  }
  if (rows->len > 0)
    return g_ptr_array_steal_index (rows, 0);
  why = g_strdup_printf (
      "There is no room with sid or unique name \"%.200s\".", id);
  hq_http_reply_error (msg, 404, "not found", why);
  return NULL;
}

/* A room as REST shows it; a room in progress also tells what its media
 * plane did ("media": {"forwarded_packets": N, "forwarded_audio_packets": N,
 * "forwarded_video_packets": N, "nacked_packets": N,
 * "retransmitted_packets": N, "nacked_upstream_packets": N}: all 0 in
 * peer-to-peer rooms, whose media never passes the server). */
static void
reply_room (HqRoomsApi *api, SoupServerMessage *msg, guint status,
    const HqRoomRecord *rec)
{
  g_autofree gchar *base = hq_http_base_url (msg);
  JsonObject *obj = hq_room_record_to_json (rec, base);
  HqRoom *live = hq_rooms_lookup (api->rooms, rec->sid);

  if (live) {
    JsonObject *media = json_object_new ();
    HqSfuRoomCounters c;
    hq_room_media_counters (live, &c);
    json_object_set_int_member (
        media, "forwarded_packets", (gint64)c.forwarded);
    json_object_set_int_member (media, "nacked_packets", (gint64)c.nacked);
    json_object_set_int_member (
        media, "retransmitted_packets", (gint64)c.retransmitted);
    json_object_set_int_member (
        media, "nacked_upstream_packets", (gint64)c.nacked_upstream);
    json_object_set_int_member (
        media, "forwarded_audio_packets", (gint64)c.forwarded_audio);
    json_object_set_int_member (
        media, "forwarded_video_packets", (gint64)c.forwarded_video);
    json_object_set_object_member (obj, "media", media);
  }
  hq_http_reply_object (msg, status, obj);
}

static gboolean
read_room_params (JsonObject *body, HqRoomParams *p, GError **error)
{
  gint64 max = 0, empty = 0, unused = 0, duration = 0;

  if (!hq_http_rest_string (body, "UniqueName", &p->unique_name, error)
      || !hq_http_rest_string (body, "Type", &p->type, error)
      || !hq_http_rest_string (
          body, "StatusCallback", &p->status_callback, error)
      || !hq_http_rest_int (body, "MaxParticipants", &max, error)
      || !hq_http_rest_int (body, "EmptyRoomTimeout", &empty, error)
      || !hq_http_rest_int (body, "UnusedRoomTimeout", &unused, error)
      || !hq_http_rest_int (body, "MaxParticipantDuration", &duration, error)
      || !hq_http_rest_bool (body, "RecordParticipantsOnConnect",
          &p->record_participants_on_connect, error)
      || !hq_http_rest_bool (body, "WaitingRoom", &p->waiting_room, error))
    return FALSE;
  /* Out-of-range values become invalid ones that hq_rooms_create names. */
  p->max_participants = (gint)CLAMP (max, -1, 1000);
  p->empty_room_timeout = (gint)CLAMP (empty, -1, 1000);
  p->unused_room_timeout = (gint)CLAMP (unused, -1, 1000);
  p->max_participant_duration = CLAMP (duration, -1, 1000000);
  if (max < 0 || empty < 0 || unused < 0 || duration < 0) {
    g_set_error (error, HQ_ROOM_ERROR, HQ_ROOM_ERROR_INVALID,
        "MaxParticipants, EmptyRoomTimeout, UnusedRoomTimeout and "
        "MaxParticipantDuration must not be negative.");
    return FALSE;
  }
  return TRUE;
}

static void
create_room (HqRoomsApi *api, SoupServerMessage *msg)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonObject) body = hq_http_read_body (msg, TRUE, &error);
  HqRoomParams params = { 0 };
  HqRoom *room;

  if (body == NULL) {
    hq_http_reply_gerror (msg, error);
    return;
  }
  if (!read_room_params (body, &params, &error)) {
    hq_http_reply_error (msg, 400, "invalid parameter", error->message);
    return;
  }
  room = hq_rooms_create (api->rooms, &params, &error);
  if (room == NULL) {
    reply_room_error (msg, error);
    return;
  }
  reply_room (api, msg, 201, hq_room_get_record (room));
}

static void
list_rooms (HqRoomsApi *api, SoupServerMessage *msg, GHashTable *query)
{
  const gchar *status = query ? g_hash_table_lookup (query, "Status") : NULL;
  const gchar *name = query ? g_hash_table_lookup (query, "UniqueName") : NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) rows = NULL;
  g_autofree gchar *base = hq_http_base_url (msg);
  JsonArray *items;
  HqHttpPaging paging;

  if (!hq_http_read_paging (msg, query, &paging))
    return;
  rows = hq_store_list_rooms (hq_rooms_get_store (api->rooms), status, name,
      paging.size + 1, paging.page * paging.size, &error);
  if (rows == NULL) {
    reply_store_error (msg, error);
    return;
  }
  items = json_array_new ();
  for (guint i = 0; i < MIN (rows->len, paging.size); i++)
    json_array_add_object_element (
        items, hq_room_record_to_json (g_ptr_array_index (rows, i), base));
  hq_http_reply_page (
      msg, "/v1/Rooms", query, &paging, "rooms", items, rows->len);
}

/* The one change REST makes to rooms and participants is a Status: TRUE
 * when the body asks for @expected, else replies 400. */
static gboolean
read_status (SoupServerMessage *msg, const gchar *expected, const gchar *what)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonObject) body = hq_http_read_body (msg, TRUE, &error);
  g_autofree gchar *why = NULL;
  const gchar *status = NULL;

  if (body == NULL) {
    hq_http_reply_gerror (msg, error);
    return FALSE;
  }
  if (!hq_http_rest_string (body, "Status", &status, &error)) {
    hq_http_reply_error (msg, 400, "invalid parameter", error->message);
    return FALSE;
  }
  if (g_strcmp0 (status, expected) == 0)
    return TRUE;
  why = g_strdup_printf (
      "Status must be %s: that is the only change %s takes.", expected, what);
  hq_http_reply_error (msg, 400, "invalid parameter", why);
  return FALSE;
}

static void
update_room (HqRoomsApi *api, SoupServerMessage *msg, const gchar *id)
{
  g_autoptr (HqRoomRecord) rec = NULL;
  HqRoom *live;

  if (!read_status (msg, "completed", "a room"))
    return;
  rec = find_room (api, msg, id);
  if (rec == NULL)
    return;
  live = hq_rooms_lookup (api->rooms, rec->sid);
  if (live) {
    hq_room_complete (live, "completed_by_api");
    hq_room_record_free (g_steal_pointer (&rec));
    rec = find_room (api, msg, id);
    if (rec == NULL)
      return;
  }
  reply_room (api, msg, 200, rec);
}

/* --- participants --- */

static void
list_participants (HqRoomsApi *api, SoupServerMessage *msg,
    const HqRoomRecord *room, GHashTable *query)
{
  const gchar *status = query ? g_hash_table_lookup (query, "Status") : NULL;
  const gchar *identity =
      query ? g_hash_table_lookup (query, "Identity") : NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) rows = NULL;
  g_autofree gchar *base = hq_http_base_url (msg);
  g_autofree gchar *path =
      g_strdup_printf ("/v1/Rooms/%s/Participants", room->sid);
  JsonArray *items;
  HqHttpPaging paging;

  if (!hq_http_read_paging (msg, query, &paging))
    return;
  rows = hq_store_list_participants (hq_rooms_get_store (api->rooms), room->sid,
      status, identity, paging.size + 1, paging.page * paging.size, &error);
  if (rows == NULL) {
    reply_store_error (msg, error);
    return;
  }
  items = json_array_new ();
  for (guint i = 0; i < MIN (rows->len, paging.size); i++)
    json_array_add_object_element (items,
        hq_participant_record_to_json (g_ptr_array_index (rows, i), base));
  hq_http_reply_page (
      msg, path, query, &paging, "participants", items, rows->len);
}

static void
participant (HqRoomsApi *api, SoupServerMessage *msg, const HqRoomRecord *room,
    const gchar *sid)
{
  HqStore *store = hq_rooms_get_store (api->rooms);
  g_autoptr (GError) error = NULL;
  g_autoptr (HqParticipantRecord) rec = NULL;
  g_autofree gchar *base = hq_http_base_url (msg);

  if (g_strcmp0 (soup_server_message_get_method (msg), "POST") == 0) {
    HqRoom *live;

    if (!read_status (msg, "disconnected", "a participant"))
      return;
    live = hq_rooms_lookup (api->rooms, room->sid);
    if (live && !hq_room_kick (live, sid, &error)
        && error->code == HQ_ROOM_ERROR_STORE) {
      hq_http_reply_error (msg, 500, "storage failed", error->message);
      return;
    }
    if (live == NULL || error != NULL) {
      /* Already disconnected: say so if the participant existed at all. */
      rec = hq_store_get_participant (store, room->sid, sid, NULL);
      if (rec == NULL || g_strcmp0 (rec->status, "connected") == 0) {
        g_autofree gchar *why = g_strdup_printf (
            "Participant %.64s is not connected to room %s.", sid, room->sid);
        hq_http_reply_error (msg, 404, "not found", why);
        return;
      }
      hq_http_reply_object (
          msg, 200, hq_participant_record_to_json (rec, base));
      return;
    }
  }
  rec = hq_store_get_participant (store, room->sid, sid, &error);
  if (rec == NULL) {
    reply_store_error (msg, error);
    return;
  }
  hq_http_reply_object (msg, 200, hq_participant_record_to_json (rec, base));
}

static void
published_tracks (HqRoomsApi *api, SoupServerMessage *msg,
    const HqRoomRecord *room, const gchar *sid)
{
  HqStore *store = hq_rooms_get_store (api->rooms);
  g_autoptr (GError) error = NULL;
  g_autoptr (HqParticipantRecord) rec =
      hq_store_get_participant (store, room->sid, sid, &error);
  g_autoptr (GPtrArray) rows = NULL;
  JsonObject *reply;
  JsonArray *items;

  if (rec == NULL) {
    reply_store_error (msg, error);
    return;
  }
  rows = hq_store_list_tracks (store, sid, &error);
  if (rows == NULL) {
    reply_store_error (msg, error);
    return;
  }
  items = json_array_new ();
  for (guint i = 0; i < rows->len; i++) {
    HqTrackRecord *t = g_ptr_array_index (rows, i);
    JsonObject *o = hq_track_record_to_json (t);
    g_autofree gchar *created = hq_time_iso (t->created);
    g_autofree gchar *updated = hq_time_iso (t->updated);

    json_object_set_string_member (o, "participant_sid", t->participant_sid);
    json_object_set_string_member (o, "room_sid", t->room_sid);
    json_object_set_string_member (o, "date_created", created);
    json_object_set_string_member (o, "date_updated", updated);
    json_array_add_object_element (items, o);
  }
  reply = json_object_new ();
  json_object_set_array_member (reply, "published_tracks", items);
  hq_http_reply_object (msg, 200, reply);
}

/* Twilio's Track Subscriptions API: GET shows, POST (Rules) replaces the
 * subscribe rules of a participant connected to a room in progress. */
static void
subscribe_rules (HqRoomsApi *api, SoupServerMessage *msg,
    const HqRoomRecord *room, const gchar *sid)
{
  HqRoom *live = hq_rooms_lookup (api->rooms, room->sid);
  HqParticipant *p = live ? hq_room_lookup_participant (live, sid) : NULL;
  g_autoptr (GError) error = NULL;
  JsonArray *rules;

  if (p == NULL) {
    g_autofree gchar *why = g_strdup_printf (
        "No participant %.64s is in room %s in progress.", sid, room->sid);
    hq_http_reply_error (msg, 404, "not found", why);
    return;
  }
  if (g_strcmp0 (soup_server_message_get_method (msg), "POST") == 0) {
    if ((rules = hq_http_read_rules (msg)) == NULL)
      return;
    if (!hq_subscribe_rules_check (rules, "Rules", &error)) {
      json_array_unref (rules);
      reply_room_error (msg, error);
      return;
    }
    if (!hq_participant_set_subscribe_rules (p, rules, &error)) {
      reply_room_error (msg, error);
      return;
    }
  }
  hq_http_reply_object (msg, 200, hq_participant_subscribe_rules_to_json (p));
}

/* --- audit log --- */

static void
list_events (HqRoomsApi *api, SoupServerMessage *msg, const HqRoomRecord *room,
    GHashTable *query)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) rows = NULL;
  g_autofree gchar *path = g_strdup_printf ("/v1/Rooms/%s/Events", room->sid);
  JsonArray *items;
  HqHttpPaging paging;

  if (!hq_http_read_paging (msg, query, &paging))
    return;
  rows = hq_store_list_events (hq_rooms_get_store (api->rooms), room->sid,
      paging.size + 1, paging.page * paging.size, &error);
  if (rows == NULL) {
    reply_store_error (msg, error);
    return;
  }
  items = json_array_new ();
  for (guint i = 0; i < MIN (rows->len, paging.size); i++) {
    HqEventRecord *e = g_ptr_array_index (rows, i);
    JsonObject *o = json_object_new ();
    g_autofree gchar *iso = hq_time_iso (e->created);
    JsonNode *detail = e->detail ? json_from_string (e->detail, NULL) : NULL;

    json_object_set_int_member (o, "sequence", e->sequence);
    json_object_set_string_member (o, "event", e->event);
    json_object_set_string_member (o, "room_sid", e->room_sid);
    hq_json_set_string_or_null (o, "participant_sid", e->participant_sid);
    hq_json_set_string_or_null (o, "participant_identity", e->identity);
    hq_json_set_string_or_null (o, "track_sid", e->track_sid);
    hq_json_set_string_or_null (o, "actor_sid", e->actor_sid);
    if (detail)
      json_object_set_member (o, "detail", detail);
    else
      json_object_set_null_member (o, "detail");
    json_object_set_string_member (o, "date_created", iso);
    json_array_add_object_element (items, o);
  }
  hq_http_reply_page (msg, path, query, &paging, "events", items, rows->len);
}

/* --- bans (docs/rooms.md, "Removal sticks") --- */

/* The live room @room's record names, or NULL after a 404: bans matter
 * only while a room is in progress. */
static HqRoom *
live_room (HqRoomsApi *api, SoupServerMessage *msg, const HqRoomRecord *room)
{
  HqRoom *live = hq_rooms_lookup (api->rooms, room->sid);

  if (live == NULL) {
    g_autofree gchar *why = g_strdup_printf (
        "Room %s is not in progress; bans only matter while it is.", room->sid);
    hq_http_reply_error (msg, 404, "not found", why);
  }
  return live;
}

static void
list_bans (HqRoomsApi *api, SoupServerMessage *msg, const HqRoomRecord *room)
{
  HqRoom *live = live_room (api, msg, room);
  g_autoptr (GError) error = NULL;
  JsonArray *bans;
  JsonObject *reply;

  if (live == NULL)
    return;
  bans = hq_room_list_bans (live, &error);
  if (bans == NULL) {
    hq_http_reply_error (msg, 500, "storage failed", error->message);
    return;
  }
  reply = json_object_new ();
  json_object_set_array_member (reply, "bans", bans);
  hq_http_reply_object (msg, 200, reply);
}

/* DELETE lifts the ban on @identity: it may join again. */
static void
delete_ban (HqRoomsApi *api, SoupServerMessage *msg, const HqRoomRecord *room,
    const gchar *identity)
{
  HqRoom *live = live_room (api, msg, room);
  g_autoptr (GError) error = NULL;

  if (live == NULL)
    return;
  if (!hq_room_unban (live, identity, NULL, &error)) {
    if (error->code == HQ_ROOM_ERROR_NOT_FOUND)
      hq_http_reply_error (msg, 404, "not found", error->message);
    else
      hq_http_reply_error (msg, 500, "storage failed", error->message);
    return;
  }
  soup_server_message_set_status (msg, 204, NULL);
}

/* --- routing --- */

/* The segments after /v1/Rooms (libsoup has decoded them already, which
 * is why a unique name may not hold "/"), or NULL when the path is not
 * below it. */
static gchar **
path_segments (const gchar *path)
{
  const gchar *rest = path + strlen ("/v1/Rooms");

  if (!g_str_has_prefix (path, "/v1/Rooms") || (*rest != '\0' && *rest != '/'))
    return NULL;
  return g_strsplit (*rest ? rest + 1 : rest, "/", 5);
}

static void
handle_rooms (SoupServer *server, SoupServerMessage *msg, const char *path,
    GHashTable *query, gpointer user_data)
{
  static const gchar *const get_post[] = { "GET", "POST", NULL };
  static const gchar *const get[] = { "GET", NULL };
  static const gchar *const del[] = { "DELETE", NULL };
  HqRoomsApi *api = user_data;
  g_autofree gchar *key_sid = NULL;
  g_auto (GStrv) seg = NULL;
  g_autoptr (HqRoomRecord) room = NULL;
  const gchar *method = soup_server_message_get_method (msg);
  guint n;

  key_sid = hq_http_basic_auth (msg, api->config->keyring);
  if (key_sid == NULL)
    return;
  seg = path_segments (path);
  if (seg == NULL) {
    hq_http_reply_not_found (msg, path);
    return;
  }
  n = g_strv_length (seg);
  if (n > 0 && *seg[n - 1] == '\0')
    n--; /* a trailing slash */
  if (n == 0) {
    if (!hq_http_allow_methods (msg, get_post))
      return;
    if (g_strcmp0 (method, "POST") == 0)
      create_room (api, msg);
    else
      list_rooms (api, msg, query);
    return;
  }
  if (n == 1) {
    if (!hq_http_allow_methods (msg, get_post))
      return;
    if (g_strcmp0 (method, "POST") == 0) {
      update_room (api, msg, seg[0]);
      return;
    }
    room = find_room (api, msg, seg[0]);
    if (room)
      reply_room (api, msg, 200, room);
    return;
  }
  if (n == 2 && g_strcmp0 (seg[1], "Participants") == 0) {
    if (hq_http_allow_methods (msg, get)
        && (room = find_room (api, msg, seg[0])))
      list_participants (api, msg, room, query);
    return;
  }
  if (n == 3 && g_strcmp0 (seg[1], "Participants") == 0) {
    if (hq_http_allow_methods (msg, get_post)
        && (room = find_room (api, msg, seg[0])))
      participant (api, msg, room, seg[2]);
    return;
  }
  if (n == 4 && g_strcmp0 (seg[1], "Participants") == 0
      && g_strcmp0 (seg[3], "PublishedTracks") == 0) {
    if (hq_http_allow_methods (msg, get)
        && (room = find_room (api, msg, seg[0])))
      published_tracks (api, msg, room, seg[2]);
    return;
  }
  if (n == 4 && g_strcmp0 (seg[1], "Participants") == 0
      && g_strcmp0 (seg[3], "SubscribeRules") == 0) {
    if (hq_http_allow_methods (msg, get_post)
        && (room = find_room (api, msg, seg[0])))
      subscribe_rules (api, msg, room, seg[2]);
    return;
  }
  if (n == 2 && g_strcmp0 (seg[1], "Recordings") == 0) {
    if (hq_http_allow_methods (msg, get)
        && (room = find_room (api, msg, seg[0])))
      hq_recordings_api_room_recordings (
          msg, api->rooms, room->sid, path, query);
    return;
  }
  if (n == 2 && g_strcmp0 (seg[1], "RecordingRules") == 0) {
    if (hq_http_allow_methods (msg, get_post)
        && (room = find_room (api, msg, seg[0])))
      hq_recordings_api_room_rules (msg, api->rooms, room->sid);
    return;
  }
  if (n == 2 && g_strcmp0 (seg[1], "Bans") == 0) {
    if (hq_http_allow_methods (msg, get)
        && (room = find_room (api, msg, seg[0])))
      list_bans (api, msg, room);
    return;
  }
  if (n == 3 && g_strcmp0 (seg[1], "Bans") == 0) {
    if (hq_http_allow_methods (msg, del)
        && (room = find_room (api, msg, seg[0])))
      delete_ban (api, msg, room, seg[2]);
    return;
  }
  if (n == 2 && g_strcmp0 (seg[1], "Events") == 0) {
    if (hq_http_allow_methods (msg, get)
        && (room = find_room (api, msg, seg[0])))
      list_events (api, msg, room, query);
    return;
  }
  hq_http_reply_not_found (msg, path);
}

void
hq_rooms_api_register (SoupServer *server, HqRoomsApi *api)
{
  soup_server_add_handler (server, "/v1/Rooms", handle_rooms, api, NULL);
}
