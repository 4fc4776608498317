/* Rooms REST API; see hqroomsapi.h and docs/rooms.md.
 *
 * Reads come from the store, which every change is written to before it is
 * announced, so what REST shows is what the rooms did.  Writes go through
 * the live room objects (hqroom.c).  One handler takes everything under
 * /v1/Rooms and routes on the path's segments. */
#include "hqroomsapi.h"
#include "hqhttp.h"
#include "hqrecordingsapi.h"
#include "hqrecordings.h"
#include "hqrules.h"
#include "hqlog.h"
#include "hqparticipant-profile.h"

#include <string.h>
#include <hq/hqutil.h>

/* The one media region a server is: Twilio's name for "the nearest". */
#define HQ_MEDIA_REGION "gll"

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

/* The members Twilio's Room resource has beyond the room record: one
 * media region (the server), both video codecs, TURN when configured. */
static JsonObject *
room_json (HqRoomsApi *api, const HqRoomRecord *rec, const gchar *base)
{
  JsonObject *obj = hq_room_record_to_json (rec, base);
  JsonObject *links = json_object_get_object_member (obj, "links");
  JsonArray *codecs = json_array_new ();
  const gchar *url = json_object_get_string_member (obj, "url");
  g_autofree gchar *recordings = g_strdup_printf ("%s/Recordings", url);
  g_autofree gchar *rules = g_strdup_printf ("%s/RecordingRules", url);

  json_object_set_string_member (obj, "account_sid", api->config->account_sid);
  json_array_add_string_element (codecs, "VP8");
  json_array_add_string_element (codecs, "H264");
  json_object_set_array_member (obj, "video_codecs", codecs);
  json_object_set_string_member (obj, "media_region", HQ_MEDIA_REGION);
  json_object_set_boolean_member (obj, "audio_only", FALSE);
  json_object_set_boolean_member (obj, "enable_turn", TRUE);
  json_object_set_null_member (obj, "max_concurrent_published_tracks");
  json_object_set_boolean_member (obj, "large_room", FALSE);
  json_object_set_string_member (links, "recordings", recordings);
  json_object_set_string_member (links, "recording_rules", rules);
  return obj;
}

/* A participant as Twilio's Participant resource. */
static JsonObject *
participant_json (
    HqRoomsApi *api, const HqParticipantRecord *rec, const gchar *base)
{
  JsonObject *obj = hq_participant_record_to_json (rec, base);
  JsonObject *links = json_object_new ();
  const gchar *url = json_object_get_string_member (obj, "url");
  static const gchar *const subs[][2] = {
    { "published_tracks", "PublishedTracks" },
    { "subscribed_tracks", "SubscribedTracks" },
    { "subscribe_rules", "SubscribeRules" },
  };

  json_object_set_string_member (obj, "account_sid", api->config->account_sid);
  for (guint i = 0; i < G_N_ELEMENTS (subs); i++) {
    g_autofree gchar *u = g_strdup_printf ("%s/%s", url, subs[i][1]);
    json_object_set_string_member (links, subs[i][0], u);
  }
  json_object_set_object_member (obj, "links", links);
  return obj;
}

/* {"PA...": {"forwarded_packets": N, "silenced_packets": N}, ...}: each
 * audio publisher's packets sent to subscribers and held back (loudest-N
 * audio, docs/sfu.md). */
static JsonObject *
audio_publishers_json (const HqSfuRoomCounters *c)
{
  JsonObject *obj = json_object_new ();

  for (guint i = 0; c->audio_publishers && i < c->audio_publishers->len; i++) {
    HqSfuAudioCounts *a = g_ptr_array_index (c->audio_publishers, i);
    JsonObject *one = json_object_new ();

    json_object_set_int_member (one, "forwarded_packets", (gint64)a->forwarded);
    json_object_set_int_member (one, "silenced_packets", (gint64)a->silenced);
    json_object_set_object_member (obj, a->participant_sid, one);
  }
  return obj;
}

/* A room as REST shows it; a room in progress also tells what its media
 * plane did ("media": {"forwarded_packets": N, "forwarded_audio_packets": N,
 * "forwarded_video_packets": N, "nacked_packets": N,
 * "retransmitted_packets": N, "nacked_upstream_packets": N,
 * "silenced_audio_packets": N, "audio_publishers": {...},
 * "forwarded_by_worker": [N, ...]}: all 0 in
 * peer-to-peer rooms, whose media never passes the server). */
static void
reply_room (HqRoomsApi *api, SoupServerMessage *msg, guint status,
    const HqRoomRecord *rec)
{
  g_autofree gchar *base = hq_http_base_url (msg);
  JsonObject *obj = room_json (api, rec, base);
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
    json_object_set_int_member (
        media, "silenced_audio_packets", (gint64)c.silenced_audio);
    json_object_set_object_member (
        media, "audio_publishers", audio_publishers_json (&c));
    {
      JsonArray *by_worker = json_array_new ();
      for (guint i = 0; c.forwarded_by_worker && i < c.forwarded_by_worker->len;
           i++)
        json_array_add_int_element (by_worker,
            (gint64)g_array_index (c.forwarded_by_worker, guint64, i));
      json_object_set_array_member (media, "forwarded_by_worker", by_worker);
    }
    hq_sfu_room_counters_clear (&c);
    json_object_set_object_member (obj, "media", media);
  }
  hq_http_reply_object (msg, status, obj);
}

static gboolean G_GNUC_PRINTF (2, 3)
    refuse (GError **error, const gchar *format, ...)
{
  va_list args;
  g_autofree gchar *text = NULL;

  va_start (args, format);
  text = g_strdup_vprintf (format, args);
  va_end (args);
  g_set_error_literal (error, HQ_HTTP_ERROR, HQ_HTTP_ERROR_BAD_REQUEST, text);
  return FALSE;
}

/* Twilio's room parameters that a server of one region with both codecs
 * and TURN has no choice about: the value that describes it is accepted,
 * any other refused, never ignored. */
static gboolean
check_twilio_room_params (JsonObject *body, GError **error)
{
  const gchar *method = NULL, *region = NULL;
  gboolean audio_only = FALSE, large = FALSE, turn = TRUE;
  gboolean transcribe = FALSE;
  g_autoptr (JsonNode) codecs = NULL;

  if (!hq_http_rest_string (body, "StatusCallbackMethod", &method, error)
      || !hq_http_rest_string (body, "MediaRegion", &region, error)
      || !hq_http_rest_bool (body, "AudioOnly", &audio_only, error)
      || !hq_http_rest_bool (body, "LargeRoom", &large, error)
      || !hq_http_rest_bool (body, "EnableTurn", &turn, error)
      || !hq_http_rest_bool (
          body, "TranscribeParticipantsOnConnect", &transcribe, error))
    return FALSE;
  if (method && g_ascii_strcasecmp (method, "POST") != 0)
    return refuse (error,
        "StatusCallbackMethod must be POST: status callbacks are POSTed.");
  if (region && g_strcmp0 (region, HQ_MEDIA_REGION) != 0)
    return refuse (error,
        "MediaRegion must be %s: media goes through this server, wherever "
        "it is.",
        HQ_MEDIA_REGION);
  if (audio_only)
    return refuse (error,
        "AudioOnly rooms are not served: leave it false and publish audio "
        "only.");
  if (large)
    return refuse (error,
        "LargeRoom is not served: a group room holds up to 50 participants.");
  if (!turn)
    return refuse (error,
        "EnableTurn must be true: whether TURN is offered is the server's "
        "setting (docs/server.md).");
  if (transcribe
      || json_object_has_member (body, "TranscriptionsConfiguration"))
    return refuse (error, "Transcriptions are not served.");
  /* One value comes as a string, several as a list. */
  if (!hq_http_rest_string (body, "VideoCodecs", &region, NULL))
    region = NULL;
  if (region != NULL) {
    JsonArray *one = json_array_new ();
    json_array_add_string_element (one, region);
    codecs = json_node_init_array (json_node_alloc (), one);
    json_array_unref (one);
  } else if (!hq_http_rest_json (body, "VideoCodecs", &codecs, error))
    return FALSE;
  if (codecs) {
    JsonArray *list = NULL;
    if (JSON_NODE_HOLDS_ARRAY (codecs))
      list = json_node_get_array (codecs);
    for (guint i = 0; list && i < json_array_get_length (list); i++) {
      const gchar *c = json_array_get_string_element (list, i);
      if (g_strcmp0 (c, "VP8") != 0 && g_strcmp0 (c, "H264") != 0)
        list = NULL;
    }
    if (list == NULL || json_array_get_length (list) == 0)
      return refuse (
          error, "VideoCodecs must list VP8 and/or H264 (rooms carry both).");
  }
  return TRUE;
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
      || !hq_http_rest_bool (body, "WaitingRoom", &p->waiting_room, error)
      || !check_twilio_room_params (body, error))
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

/* RecordingRules of a new room: {"rules": [...]} as Twilio documents it,
 * or the bare array; NULL when absent. */
static gboolean
read_recording_rules (JsonObject *body, JsonArray **out, GError **error)
{
  g_autoptr (JsonNode) node = NULL;

  *out = NULL;
  if (!hq_http_rest_json (body, "RecordingRules", &node, error))
    return FALSE;
  if (node == NULL)
    return TRUE;
  if (JSON_NODE_HOLDS_OBJECT (node)) {
    JsonNode *inner =
        json_object_get_member (json_node_get_object (node), "rules");
    if (inner && JSON_NODE_HOLDS_ARRAY (inner)) {
      *out = json_array_ref (json_node_get_array (inner));
      return TRUE;
    }
  } else if (JSON_NODE_HOLDS_ARRAY (node)) {
    *out = json_array_ref (json_node_get_array (node));
    return TRUE;
  }
  return refuse (error,
      "RecordingRules must be {\"rules\": [...]}, e.g. {\"rules\": "
      "[{\"type\": \"include\", \"all\": true}]}.");
}

static void
create_room (HqRoomsApi *api, SoupServerMessage *msg)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonObject) body = hq_http_read_body (msg, TRUE, &error);
  HqRoomParams params = { 0 };
  g_autoptr (JsonArray) rules = NULL;
  HqRoom *room;

  if (body == NULL) {
    hq_http_reply_gerror (msg, error);
    return;
  }
  if (!read_room_params (body, &params, &error)) {
    hq_http_reply_error (msg, 400, "invalid parameter", error->message);
    return;
  }
  if (!read_recording_rules (body, &rules, &error)) {
    hq_http_reply_error (msg, 400, "invalid parameter", error->message);
    return;
  }
  room = hq_rooms_create (api->rooms, &params, &error);
  if (room == NULL) {
    reply_room_error (msg, error);
    return;
  }
  /* A room that cannot take the rules (peer-to-peer: no media through the
   * server) is ended again, so that the refusal leaves nothing behind. */
  if (rules
      && !hq_recordings_set_rules (
          api->recordings, room, rules, NULL, &error)) {
    hq_room_complete (room, HQ_ROOM_END_RECORDING_RULES_REFUSED);
    reply_room_error (msg, error);
    return;
  }
  reply_room (api, msg, 201, hq_room_get_record (room));
}

static const gchar *const room_statuses[] = { "in-progress", "completed",
  "failed", NULL };

static void
list_rooms (HqRoomsApi *api, SoupServerMessage *msg, GHashTable *query)
{
  static const gchar *const filters[] = { "Status", "UniqueName",
    "DateCreatedAfter", "DateCreatedBefore", NULL };
  HqRoomFilter f = { 0 };
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) rows = NULL;
  g_autofree gchar *base = hq_http_base_url (msg);
  JsonArray *items;
  HqHttpPaging paging;

  if (!hq_http_check_query (msg, query, filters)
      || !hq_http_read_paging (msg, query, &paging)
      || !hq_http_query_date (msg, query, "DateCreatedAfter", &f.created_after)
      || !hq_http_query_date (
          msg, query, "DateCreatedBefore", &f.created_before))
    return;
  f.status = query ? g_hash_table_lookup (query, "Status") : NULL;
  f.unique_name = query ? g_hash_table_lookup (query, "UniqueName") : NULL;
  if (!hq_http_check_enum (msg, "Status", f.status, room_statuses))
    return;
  rows = hq_store_find_rooms (hq_rooms_get_store (api->rooms), &f,
      paging.size + 1, paging.page * paging.size, &error);
  if (rows == NULL) {
    reply_store_error (msg, error);
    return;
  }
  items = json_array_new ();
  for (guint i = 0; i < MIN (rows->len, paging.size); i++)
    json_array_add_object_element (
        items, room_json (api, g_ptr_array_index (rows, i), base));
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
    hq_room_complete (live, HQ_ROOM_END_COMPLETED_BY_API);
    hq_room_record_free (g_steal_pointer (&rec));
    rec = find_room (api, msg, id);
    if (rec == NULL)
      return;
  }
  reply_room (api, msg, 200, rec);
}

/* --- participants --- */
/* Replies with the page @paging asks for of all of @items. */
static void
reply_list_page (SoupServerMessage *msg, const gchar *path, GHashTable *query,
    const HqHttpPaging *paging, const gchar *key, JsonArray *items)
{
  JsonArray *page = json_array_new ();
  guint n = json_array_get_length (items);
  guint skip = paging->page * paging->size;

  for (guint i = skip; i < n && i < skip + paging->size; i++)
    json_array_add_element (page, json_array_dup_element (items, i));
  hq_http_reply_page (
      msg, path, query, paging, key, page, n > skip ? n - skip : 0);
}

static void
list_participants (HqRoomsApi *api, SoupServerMessage *msg,
    const HqRoomRecord *room, GHashTable *query)
{
  static const gchar *const filters[] = { "Status", "Identity",
    "DateCreatedAfter", "DateCreatedBefore", NULL };
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
  gint64 after = 0, before = 0;
  guint skip, matched = 0;

  if (!hq_http_check_query (msg, query, filters)
      || !hq_http_read_paging (msg, query, &paging)
      || !hq_http_query_date (msg, query, "DateCreatedAfter", &after)
      || !hq_http_query_date (msg, query, "DateCreatedBefore", &before))
    return;
  /* A room's participants are few: the dates filter here. */
  rows = hq_store_list_participants (hq_rooms_get_store (api->rooms), room->sid,
      status, identity, G_MAXINT, 0, &error);
  if (rows == NULL) {
    reply_store_error (msg, error);
    return;
  }
  items = json_array_new ();
  skip = paging.page * paging.size;
  for (guint i = 0; i < rows->len; i++) {
    HqParticipantRecord *p = g_ptr_array_index (rows, i);
    if ((after && p->created < after) || (before && p->created >= before))
      continue;
    if (matched++ < skip || matched > skip + paging.size)
      continue;
    json_array_add_object_element (items, participant_json (api, p, base));
  }
  hq_http_reply_page (msg, path, query, &paging, "participants", items,
      matched > skip ? matched - skip : 0);
}

/* A participant of @room by sid, or by identity as Twilio allows (the one
 * connected, else the one that joined last); NULL after replying 404. */
static HqParticipantRecord *
find_participant (HqRoomsApi *api, SoupServerMessage *msg,
    const HqRoomRecord *room, const gchar *id)
{
  HqStore *store = hq_rooms_get_store (api->rooms);
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) rows = NULL;
  g_autofree gchar *why = NULL;
  HqParticipantRecord *rec;

  if (hq_sid_is_valid (id, "PA")) {
    rec = hq_store_get_participant (store, room->sid, id, &error);
    if (rec == NULL)
      reply_store_error (msg, error);
    return rec;
  }
  rows = hq_store_list_participants (
      store, room->sid, NULL, id, G_MAXINT, 0, &error);
  if (rows == NULL) {
    reply_store_error (msg, error);
    return NULL;
  }
  for (guint i = 0; i < rows->len; i++) {
    rec = g_ptr_array_index (rows, i);
    if (g_strcmp0 (rec->status, "connected") == 0)
      return g_ptr_array_steal_index (rows, i);
  }
  if (rows->len > 0)
    return g_ptr_array_steal_index (rows, rows->len - 1);
  why = g_strdup_printf ("Room %s has no participant with sid or identity "
                         "\"%.200s\".",
      room->sid, id);
  hq_http_reply_error (msg, 404, "not found", why);
  return NULL;
}

static void
participant (HqRoomsApi *api, SoupServerMessage *msg, const HqRoomRecord *room,
    const gchar *id)
{
  HqStore *store = hq_rooms_get_store (api->rooms);
  g_autoptr (GError) error = NULL;
  g_autoptr (HqParticipantRecord) rec = NULL;
  g_autofree gchar *base = hq_http_base_url (msg);
  g_autofree gchar *sid = NULL;

  if (g_strcmp0 (soup_server_message_get_method (msg), "POST") == 0) {
    HqRoom *live;

    if (!read_status (msg, "disconnected", "a participant"))
      return;
    if ((rec = find_participant (api, msg, room, id)) == NULL)
      return;
    sid = g_strdup (rec->sid);
    live = hq_rooms_lookup (api->rooms, room->sid);
    if (live && !hq_room_kick (live, sid, &error)
        && error->code == HQ_ROOM_ERROR_STORE) {
      hq_http_reply_error (msg, 500, "storage failed", error->message);
      return;
    }
    if (live == NULL || error != NULL) {
      /* Already disconnected: say so if the participant existed at all. */
      if (g_strcmp0 (rec->status, "connected") == 0) {
        g_autofree gchar *why = g_strdup_printf (
            "Participant %.64s is not connected to room %s.", id, room->sid);
        hq_http_reply_error (msg, 404, "not found", why);
        return;
      }
      hq_http_reply_object (msg, 200, participant_json (api, rec, base));
      return;
    }
    hq_participant_record_free (g_steal_pointer (&rec));
    rec = hq_store_get_participant (store, room->sid, sid, &error);
    if (rec == NULL) {
      reply_store_error (msg, error);
      return;
    }
  } else if ((rec = find_participant (api, msg, room, id)) == NULL)
    return;
  hq_http_reply_object (msg, 200, participant_json (api, rec, base));
}

/* A track as Twilio's PublishedTrack (or, with @subscriber, its
 * SubscribedTrack: the same track sid, seen from the subscriber). */
static JsonObject *
track_json (
    const HqTrackRecord *t, const gchar *base, const gchar *subscriber_sid)
{
  JsonObject *o = hq_track_record_to_json (t);
  g_autofree gchar *created = hq_time_iso (t->created);
  g_autofree gchar *updated = hq_time_iso (t->updated);
  g_autofree gchar *url =
      g_strdup_printf ("%s/v1/Rooms/%s/Participants/%s/%s/%s", base,
          t->room_sid, subscriber_sid ? subscriber_sid : t->participant_sid,
          subscriber_sid ? "SubscribedTracks" : "PublishedTracks", t->sid);

  json_object_set_string_member (o, "participant_sid",
      subscriber_sid ? subscriber_sid : t->participant_sid);
  if (subscriber_sid)
    json_object_set_string_member (o, "publisher_sid", t->participant_sid);
  json_object_set_string_member (o, "room_sid", t->room_sid);
  json_object_set_string_member (o, "date_created", created);
  json_object_set_string_member (o, "date_updated", updated);
  json_object_set_string_member (o, "url", url);
  return o;
}

/* Simulcast (docs/protocol.md, "Simulcast and bandwidth profiles"): to
 * each of @items, the layers of a video track (@subscriber_sid NULL) or
 * the layer @subscriber_sid receives, as the room's SFU last said. */
static void
add_layers (JsonArray *items, HqRoom *live, const gchar *subscriber_sid)
{
  g_autoptr (JsonObject) layers = live ? hq_room_media_layers (live) : NULL;
  JsonObject *tracks, *subs = NULL;

  if (layers == NULL)
    return;
  tracks = json_object_get_object_member (layers, "tracks");
  if (subscriber_sid) {
    JsonObject *all = json_object_get_object_member (layers, "subscriptions");
    if (all == NULL || !json_object_has_member (all, subscriber_sid))
      return;
    subs = json_object_get_object_member (all, subscriber_sid);
  }
  for (guint i = 0; i < json_array_get_length (items); i++) {
    JsonObject *o = json_array_get_object_element (items, i);
    const gchar *sid = json_object_get_string_member (o, "sid");
    JsonObject *mine;

    if (subs == NULL && tracks && json_object_has_member (tracks, sid)) {
      json_object_set_array_member (o, "layers",
          json_array_ref (json_object_get_array_member (tracks, sid)));
    } else if (subs && json_object_has_member (subs, sid)) {
      mine = json_object_get_object_member (subs, sid);
      json_object_set_member (
          o, "layer", json_node_copy (json_object_get_member (mine, "layer")));
      json_object_set_member (o, "switched_off",
          json_node_copy (json_object_get_member (mine, "switched_off")));
      json_object_set_member (o, "switch_off_reason",
          json_node_copy (json_object_get_member (mine, "switch_off_reason")));
    }
  }
}

/* The published tracks of participant @psid (published only). */
static GPtrArray *
published (HqStore *store, const gchar *psid, GError **error)
{
  GPtrArray *rows = hq_store_list_tracks (store, psid, error);

  for (guint i = rows ? rows->len : 0; i > 0; i--) {
    HqTrackRecord *t = g_ptr_array_index (rows, i - 1);
    if (!t->published)
      g_ptr_array_remove_index (rows, i - 1);
  }
  return rows;
}

/* Replies with one track of @items (JsonObjects) by sid, or 404. */
static void
reply_one_track (SoupServerMessage *msg, JsonArray *items,
    const gchar *track_sid, const gchar *psid)
{
  g_autofree gchar *why = NULL;

  for (guint i = 0; i < json_array_get_length (items); i++) {
    JsonObject *o = json_array_get_object_element (items, i);
    if (g_strcmp0 (json_object_get_string_member (o, "sid"), track_sid) == 0) {
      hq_http_reply_object (msg, 200, json_object_ref (o));
      return;
    }
  }
  why = g_strdup_printf ("Participant %s has no track %.64s.", psid, track_sid);
  hq_http_reply_error (msg, 404, "not found", why);
}

/* Replies with @items (JsonObjects), a list below participant @psid's
 * @what (PublishedTracks, SubscribedTracks) paged, or with @track_sid the
 * one track. */
static void
reply_tracks (SoupServerMessage *msg, GHashTable *query,
    const HqRoomRecord *room, const gchar *psid, const gchar *what,
    const gchar *key, JsonArray *items, const gchar *track_sid)
{
  g_autofree gchar *path = NULL;
  HqHttpPaging paging;

  if (track_sid) {
    reply_one_track (msg, items, track_sid, psid);
    return;
  }
  if (!hq_http_check_query (msg, query, (const gchar *const[]){ NULL })
      || !hq_http_read_paging (msg, query, &paging))
    return;
  path = g_strdup_printf (
      "/v1/Rooms/%s/Participants/%s/%s", room->sid, psid, what);
  reply_list_page (msg, path, query, &paging, key, items);
}

/* PublishedTracks (list, or one by sid when @track_sid). */
static void
published_tracks (HqRoomsApi *api, SoupServerMessage *msg,
    const HqRoomRecord *room, const gchar *id, const gchar *track_sid,
    GHashTable *query)
{
  HqStore *store = hq_rooms_get_store (api->rooms);
  g_autoptr (GError) error = NULL;
  g_autoptr (HqParticipantRecord) rec = NULL;
  g_autoptr (GPtrArray) rows = NULL;
  g_autoptr (JsonArray) items = json_array_new ();
  g_autofree gchar *base = hq_http_base_url (msg);

  if ((rec = find_participant (api, msg, room, id)) == NULL)
    return;
  if ((rows = published (store, rec->sid, &error)) == NULL) {
    reply_store_error (msg, error);
    return;
  }
  for (guint i = 0; i < rows->len; i++)
    json_array_add_object_element (
        items, track_json (g_ptr_array_index (rows, i), base, NULL));
  add_layers (items, hq_rooms_lookup (api->rooms, room->sid), NULL);
  reply_tracks (msg, query, room, rec->sid, "PublishedTracks",
      "published_tracks", items, track_sid);
}

/* SubscribedTracks: what a connected participant's subscribe rules select
 * of the tracks the others publish (empty once it has left). */
static void
subscribed_tracks (HqRoomsApi *api, SoupServerMessage *msg,
    const HqRoomRecord *room, const gchar *id, const gchar *track_sid,
    GHashTable *query)
{
  HqStore *store = hq_rooms_get_store (api->rooms);
  HqRoom *live = hq_rooms_lookup (api->rooms, room->sid);
  g_autoptr (GError) error = NULL;
  g_autoptr (HqParticipantRecord) rec = NULL;
  g_autoptr (GPtrArray) others = NULL;
  g_autoptr (JsonArray) items = json_array_new ();
  g_autoptr (JsonObject) rules = NULL;
  g_autofree gchar *base = hq_http_base_url (msg);
  HqParticipant *p;

  if ((rec = find_participant (api, msg, room, id)) == NULL)
    return;
  p = live ? hq_room_lookup_participant (live, rec->sid) : NULL;
  if (p != NULL && g_strcmp0 (rec->status, "connected") == 0) {
    rules = hq_participant_subscribe_rules_to_json (p);
    others = hq_store_list_participants (
        store, room->sid, "connected", NULL, G_MAXINT, 0, &error);
    if (others == NULL) {
      reply_store_error (msg, error);
      return;
    }
  }
  for (guint i = 0; others && i < others->len; i++) {
    HqParticipantRecord *o = g_ptr_array_index (others, i);
    g_autoptr (GPtrArray) tracks = NULL;
    if (g_str_equal (o->sid, rec->sid))
      continue;
    if ((tracks = published (store, o->sid, &error)) == NULL) {
      reply_store_error (msg, error);
      return;
    }
    for (guint j = 0; j < tracks->len; j++) {
      HqTrackRecord *t = g_ptr_array_index (tracks, j);
      if (hq_rules_select (json_object_get_array_member (rules, "rules"),
              t->kind, o->identity, t->name))
        json_array_add_object_element (items, track_json (t, base, rec->sid));
    }
  }
  add_layers (items, live, rec->sid);
  reply_tracks (msg, query, room, rec->sid, "SubscribedTracks",
      "subscribed_tracks", items, track_sid);
}

/* Twilio's Track Subscriptions API: GET shows, POST (Rules) replaces the
 * subscribe rules of a participant connected to a room in progress. */
static void
subscribe_rules (HqRoomsApi *api, SoupServerMessage *msg,
    const HqRoomRecord *room, const gchar *id)
{
  HqRoom *live = hq_rooms_lookup (api->rooms, room->sid);
  g_autoptr (HqParticipantRecord) rec = find_participant (api, msg, room, id);
  HqParticipant *p = NULL;
  const gchar *sid = rec ? rec->sid : id;
  g_autoptr (GError) error = NULL;
  JsonArray *rules;

  if (rec == NULL)
    return;
  p = live ? hq_room_lookup_participant (live, sid) : NULL;
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
  return g_strsplit (*rest ? rest + 1 : rest, "/", 7);
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
  if ((n == 4 || n == 5) && g_strcmp0 (seg[1], "Participants") == 0
      && (g_strcmp0 (seg[3], "PublishedTracks") == 0
          || g_strcmp0 (seg[3], "SubscribedTracks") == 0)) {
    if (!hq_http_allow_methods (msg, get)
        || !(room = find_room (api, msg, seg[0])))
      return;
    if (seg[3][0] == 'P')
      published_tracks (api, msg, room, seg[2], n == 5 ? seg[4] : NULL, query);
    else
      subscribed_tracks (api, msg, room, seg[2], n == 5 ? seg[4] : NULL, query);
    return;
  }
  if (n == 4 && g_strcmp0 (seg[1], "Participants") == 0
      && g_strcmp0 (seg[3], "SubscribeRules") == 0) {
    if (hq_http_allow_methods (msg, get_post)
        && (room = find_room (api, msg, seg[0])))
      subscribe_rules (api, msg, room, seg[2]);
    return;
  }
  if (n >= 2 && n <= 4 && g_strcmp0 (seg[1], "Recordings") == 0
      && (n < 4 || g_strcmp0 (seg[3], "Media") == 0)) {
    if (hq_http_allow_methods (msg, get)
        && (room = find_room (api, msg, seg[0])))
      hq_recordings_api_room_recordings (msg, api->rooms, room->sid,
          n >= 3 ? seg[2] : NULL, n == 4, path, query);
    return;
  }
  if (n == 2 && g_strcmp0 (seg[1], "RecordingRules") == 0) {
    if (hq_http_allow_methods (msg, get_post)
        && (room = find_room (api, msg, seg[0])))
      hq_recordings_api_room_rules (
          msg, api->rooms, api->recordings, room->sid);
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
