/* Rooms; see hqroom.h.  This file has the rooms and their lifecycle:
 * creating, restoring at start, draining, kicking and completing them,
 * and their maximum duration.  It is the top of the rooms folder's three
 * layers (hqroomcore.h draws them): what participants do in a room is in
 * hqparticipant*.c, the state both use (sending, the audit log, status
 * callbacks, idle timers, observers) in hqroomcore.c.
 *
 * Order of every change: validate, write the store, then record the audit
 * event (which also queues the status callback), then tell the
 * participants.  A store failure leaves memory unchanged and is reported
 * to whoever asked.
 *
 * Ownership: HqRooms.live owns rooms; HqRoom.participants owns
 * participants; a participant's tracks array owns its HqTrackRecords.  A
 * participant's peer is borrowed and forgotten (set to NULL) before the
 * peer is closed or once the peer reports its connection lost. */
#include "hqroom.h"
#include "hqparticipant-private.h"
#include "hqmetrics.h"
#include "hqlog.h"

#include <string.h>
#include <hq/hqutil.h>

#define HQ_DEFAULT_TIMEOUT_MINUTES 5
#define HQ_DEFAULT_MAX_PARTICIPANT_DURATION (4 * 3600)
#define HQ_MAX_ROOM_DURATION_MINUTES (24 * 60)

static const struct
{
  const gchar *type;
  gint cap;
} room_types[] = {
  { "go", 2 },
  { "peer-to-peer", 10 },
  { "group-small", 4 },
  { "group", 50 },
};

const gchar *
hq_room_error_code (gint code)
{
  /* -1: REST's only, no protocol error. */
  static const gint codes[] = {
    [HQ_ROOM_ERROR_INVALID] = HQ_PROTOCOL_ERROR_INVALID_FIELD,
    [HQ_ROOM_ERROR_NOT_FOUND] = HQ_PROTOCOL_ERROR_NOT_FOUND,
    [HQ_ROOM_ERROR_NAME_TAKEN] = -1,
    [HQ_ROOM_ERROR_COMPLETED] = HQ_PROTOCOL_ERROR_ROOM_COMPLETED,
    [HQ_ROOM_ERROR_FULL] = HQ_PROTOCOL_ERROR_ROOM_FULL,
    [HQ_ROOM_ERROR_FORBIDDEN] = HQ_PROTOCOL_ERROR_NOT_HOST,
    [HQ_ROOM_ERROR_STORE] = HQ_PROTOCOL_ERROR_INTERNAL,
    [HQ_ROOM_ERROR_RECORDER] = HQ_PROTOCOL_ERROR_FORBIDDEN,
    [HQ_ROOM_ERROR_BANNED] = HQ_PROTOCOL_ERROR_BANNED,
    [HQ_ROOM_ERROR_NOT_ADMITTED] = HQ_PROTOCOL_ERROR_NOT_ADMITTED,
    [HQ_ROOM_ERROR_TOO_BIG] = HQ_PROTOCOL_ERROR_TOO_BIG,
    [HQ_ROOM_ERROR_RATE_LIMITED] = HQ_PROTOCOL_ERROR_RATE_LIMITED,
    [HQ_ROOM_ERROR_DRAINING] = HQ_PROTOCOL_ERROR_SERVER_DRAINING,
  };

  if (code == HQ_ROOM_ERROR_NAME_TAKEN)
    return "name_taken";
  if (code < 0 || code >= (gint)G_N_ELEMENTS (codes))
    return hq_protocol_error_code (HQ_PROTOCOL_ERROR_INTERNAL);
  return hq_protocol_error_code ((HqProtocolError)codes[code]);
}

static gboolean
room_duration_cb (gpointer user_data)
{
  HqRoom *room = user_data;

  room->duration_timer = 0;
  hq_room_complete (room, HQ_ROOM_END_MAX_DURATION);
  return G_SOURCE_REMOVE;
}

/* --- rooms --- */

/* What the SFU says goes to one participant, or everyone when @sid is
 * NULL. */
static void
media_send (gpointer user_data, const gchar *sid, JsonObject *msg)
{
  HqRoom *room = user_data;
  HqParticipant *p;

  if (sid == NULL) {
    hq_room_broadcast (room, NULL, json_object_ref (msg));
    return;
  }
  p = hq_room_find_participant (room, sid);
  if (p == NULL && room->recorder
      && g_strcmp0 (room->recorder->rec.sid, sid) == 0)
    p = room->recorder;
  if (p && !p->waiting)
    hq_participant_send (p, msg);
}

guint64
hq_room_forwarded_packets (HqRoom *room)
{
  return room->media ? hq_sfu_room_get_forwarded (room->media) : 0;
}

void
hq_room_media_counters (HqRoom *room, HqSfuRoomCounters *out)
{
  memset (out, 0, sizeof *out);
  if (room->media)
    hq_sfu_room_get_counters (room->media, out);
}

static gboolean
forwards_media (const gchar *type)
{
  return g_strcmp0 (type, "group") == 0 || g_strcmp0 (type, "group-small") == 0;
}

static void
room_free (HqRoom *room)
{
  g_clear_pointer (&room->recorder, hq_participant_free);
  g_ptr_array_unref (room->chat_members);
  g_clear_pointer (&room->media, hq_sfu_room_free);
  hq_clear_source (&room->idle_timer);
  hq_clear_source (&room->duration_timer);
  g_ptr_array_unref (room->participants);
  g_free (room->rec.sid);
  g_free (room->rec.unique_name);
  g_free (room->rec.status);
  g_free (room->rec.type);
  g_free (room->rec.status_callback);
  g_free (room->rec.end_reason);
  g_free (room);
}

static HqRoom *
room_new (HqRooms *rooms, const HqRoomRecord *rec)
{
  HqRoom *room = g_new0 (HqRoom, 1);
  HqRoomRecord *copy = hq_room_record_copy (rec);

  room->rooms = rooms;
  room->rec = *copy;
  g_free (copy);
  room->participants =
      g_ptr_array_new_with_free_func ((GDestroyNotify)hq_participant_free);
  room->chat_members =
      g_ptr_array_new_with_free_func ((GDestroyNotify)hq_participant_free);
  if (forwards_media (room->rec.type)) {
    if (rooms->sfu == NULL) {
      HqSfuConfig sfu_config = { 0 };
      g_autoptr (GError) error = NULL;
      sfu_config.public_address = rooms->config->media_public_address;
      sfu_config.workers = rooms->config->media_workers;
      sfu_config.port_min = rooms->config->media_port_min;
      sfu_config.port_max = rooms->config->media_port_max;
      sfu_config.ice_tcp = rooms->config->media_ice_tcp;
      sfu_config.loudest_audio = (guint)rooms->config->media_loudest_audio;
      sfu_config.room_shards = (guint)rooms->config->media_room_shards;
      rooms->sfu = hq_sfu_new (&sfu_config, &error);
      if (rooms->sfu == NULL)
        hq_log_message (HQ_LOG_ERROR, "sfu", "no media: %s", error->message);
    }
    if (rooms->sfu)
      room->media =
          hq_sfu_room_new (rooms->sfu, room->rec.sid, media_send, room);
  }
  return room;
}

static void
start_room_duration (HqRoom *room)
{
  /* Scaled like every room timeout (HQ_TIMEOUT_MINUTE_MS); the time already
   * run is real time, which only matters for a room restored at start. */
  gint64 left = HQ_MAX_ROOM_DURATION_MINUTES * room->rooms->config->minute_ms
      - (hq_now_ms () - room->rec.created);

  room->duration_timer = hq_timeout_ms (left, room_duration_cb, room);
}

static void
unpublish_stale_tracks (
    HqStore *store, const gchar *participant_sid, gint64 now)
{
  g_autoptr (GPtrArray) tracks =
      hq_store_list_tracks (store, participant_sid, NULL);

  for (guint i = 0; tracks && i < tracks->len; i++) {
    HqTrackRecord *t = g_ptr_array_index (tracks, i);
    t->published = FALSE;
    t->updated = now;
    hq_store_put_track (store, t, NULL);
  }
}

static void
add_live (HqRooms *rooms, HqRoom *room)
{
  g_hash_table_insert (rooms->live, room->rec.sid, room);
  g_hash_table_insert (rooms->by_name, room->rec.unique_name, room);
}

/* A room found in progress at start: whoever was in it is gone. */
static void
restore_room (HqRooms *rooms, const HqRoomRecord *rec)
{
  HqRoom *room = room_new (rooms, rec);
  g_autoptr (GPtrArray) stale = NULL;
  g_autoptr (GPtrArray) ever = NULL;
  g_autoptr (GError) error = NULL;
  gint64 now = hq_now_ms ();

  add_live (rooms, room);
  hq_room_emit_started (room);
  stale = hq_store_list_participants (rooms->store, room->rec.sid,
      hq_protocol_participant_state_name (HQ_PARTICIPANT_CONNECTED), NULL,
      G_MAXINT, 0, &error);
  for (guint i = 0; stale && i < stale->len; i++) {
    HqParticipantRecord *p = g_ptr_array_index (stale, i);
    HqParticipant tmp = { .room = room };
    g_free (p->status);
    p->status = g_strdup (
        hq_protocol_participant_state_name (HQ_PARTICIPANT_DISCONNECTED));
    p->end_reason = g_strdup ("server_restart");
    p->ended = p->updated = now;
    tmp.rec = *p;
    if (hq_store_put_participant (rooms->store, p, NULL))
      hq_room_event (room, "participant-disconnected", &tmp, NULL, NULL, NULL);
    unpublish_stale_tracks (rooms->store, p->sid, now);
  }
  ever = hq_store_list_participants (
      rooms->store, room->rec.sid, NULL, NULL, 1, 0, NULL);
  if (ever && ever->len > 0)
    hq_room_maybe_start_empty_timer (room);
  else
    hq_room_start_idle_timer (
        room, room->rec.unused_room_timeout, HQ_ROOM_END_UNUSED_ROOM_TIMEOUT);
  start_room_duration (room);
  hq_log_message (HQ_LOG_INFO, "room", "restored room %s (%s)", room->rec.sid,
      room->rec.unique_name);
}

HqRooms *
hq_rooms_new (HqConfig *config, HqStore *store, GError **error)
{
  HqRooms *rooms = g_new0 (HqRooms, 1);
  g_autoptr (GPtrArray) live = NULL;

  rooms->config = config;
  rooms->store = store;
  rooms->complete = hq_room_complete;
  rooms->callbacks = hq_callbacks_new (config->key_sid, config->key_secret,
      config->auth_token, config->callback_retry_ms);
  rooms->by_name = g_hash_table_new (g_str_hash, g_str_equal);
  rooms->live = g_hash_table_new_full (
      g_str_hash, g_str_equal, NULL, (GDestroyNotify)room_free);
  rooms->observers = g_array_new (FALSE, FALSE, sizeof (HqRoomWatch));
  live = hq_store_list_rooms (store, "in-progress", NULL, G_MAXINT, 0, error);
  if (live == NULL) {
    hq_rooms_free (rooms);
    return NULL;
  }
  for (guint i = 0; i < live->len; i++)
    restore_room (rooms, g_ptr_array_index (live, i));
  return rooms;
}

void
hq_rooms_close_connections (HqRooms *rooms)
{
  GHashTableIter iter;
  gpointer value;

  /* Shutting down is not the end of a room: rooms stay in progress in the
   * store and are restored at the next start.  Only connections end. */
  g_hash_table_iter_init (&iter, rooms->live);
  while (g_hash_table_iter_next (&iter, NULL, &value)) {
    HqRoom *room = value;
    for (guint i = 0; i < room->participants->len; i++)
      hq_participant_close_peer (g_ptr_array_index (room->participants, i),
          HQ_CLOSE_GOING_AWAY, hq_protocol_close_text (HQ_CLOSE_GOING_AWAY));
    if (room->recorder)
      hq_participant_close_peer (room->recorder, HQ_CLOSE_GOING_AWAY,
          hq_protocol_close_text (HQ_CLOSE_GOING_AWAY));
    for (guint i = 0; i < room->chat_members->len; i++)
      hq_participant_close_peer (g_ptr_array_index (room->chat_members, i),
          HQ_CLOSE_GOING_AWAY, hq_protocol_close_text (HQ_CLOSE_GOING_AWAY));
  }
}

void
hq_rooms_free (HqRooms *rooms)
{
  if (rooms == NULL)
    return;
  hq_rooms_close_connections (rooms);
  g_hash_table_destroy (rooms->by_name);
  g_hash_table_destroy (rooms->live);
  /* After the rooms: their media teardown runs before the workers stop. */
  hq_sfu_free (rooms->sfu);
  hq_callbacks_free (rooms->callbacks);
  hq_store_close (rooms->store);
  g_array_unref (rooms->observers);
  g_free (rooms);
}

HqConfig *
hq_rooms_get_config (HqRooms *rooms)
{
  return rooms->config;
}

HqStore *
hq_rooms_get_store (HqRooms *rooms)
{
  return rooms->store;
}

HqCallbacks *
hq_rooms_get_callbacks (HqRooms *rooms)
{
  return rooms->callbacks;
}

void
hq_rooms_metrics (HqRooms *rooms, GString *out)
{
  static const gchar *const types[] = { "go", "peer-to-peer", "group-small",
    "group" };
  static const gchar *const kinds[] = { "audio", "video", "data" };
  guint n_type[G_N_ELEMENTS (types)] = { 0 };
  guint n_kind[G_N_ELEMENTS (kinds)] = { 0 };
  guint connected = 0, waiting = 0, reconnecting = 0;
  GHashTableIter iter;
  gpointer value;

  g_hash_table_iter_init (&iter, rooms->live);
  while (g_hash_table_iter_next (&iter, NULL, &value)) {
    HqRoom *room = value;
    for (guint t = 0; t < G_N_ELEMENTS (types); t++)
      if (g_strcmp0 (room->rec.type, types[t]) == 0)
        n_type[t]++;
    for (guint i = 0; i < room->participants->len; i++) {
      HqParticipant *p = g_ptr_array_index (room->participants, i);
      if (p->waiting)
        waiting++;
      else if (p->peer == NULL)
        reconnecting++;
      else
        connected++;
      for (guint j = 0; j < p->tracks->len; j++) {
        HqTrackRecord *track = g_ptr_array_index (p->tracks, j);
        for (guint k = 0; k < G_N_ELEMENTS (kinds); k++)
          if (g_strcmp0 (track->kind, kinds[k]) == 0)
            n_kind[k]++;
      }
    }
  }
  hq_metrics_family (out, "hq_rooms", "gauge", "Rooms in progress, by type");
  for (guint t = 0; t < G_N_ELEMENTS (types); t++)
    g_string_append_printf (
        out, "hq_rooms{type=\"%s\"} %u\n", types[t], n_type[t]);
  hq_metrics_family (out, "hq_participants", "gauge",
      "Participants of rooms in progress, by state (the recorder is not "
      "one)");
  g_string_append_printf (out,
      "hq_participants{state=\"connected\"} %u\n"
      "hq_participants{state=\"reconnecting\"} %u\n"
      "hq_participants{state=\"waiting\"} %u\n",
      connected, reconnecting, waiting);
  hq_metrics_family (out, "hq_published_tracks", "gauge",
      "Tracks published in rooms in progress, by kind");
  for (guint k = 0; k < G_N_ELEMENTS (kinds); k++)
    g_string_append_printf (
        out, "hq_published_tracks{kind=\"%s\"} %u\n", kinds[k], n_kind[k]);
}

static gint
type_cap (const gchar *type)
{
  for (gsize i = 0; i < G_N_ELEMENTS (room_types); i++)
    if (g_strcmp0 (room_types[i].type, type) == 0)
      return room_types[i].cap;
  return 0;
}

static gboolean
check_params (
    HqRooms *rooms, const HqRoomParams *in, HqRoomParams *out, GError **error)
{
  gint cap;

  *out = *in;
  if (out->type == NULL)
    out->type = rooms->config->room_type;
  cap = type_cap (out->type);
  if (cap == 0)
    return hq_room_invalid (error,
        "Type \"%s\" is not one of go, peer-to-peer, group-small, group.",
        out->type);
  if (out->max_participants == 0)
    out->max_participants = cap;
  if (out->max_participants < 1 || out->max_participants > cap)
    return hq_room_invalid (error,
        "MaxParticipants must be 1 to %d for a %s room.", cap, out->type);
  if (out->unique_name
      && (*out->unique_name == '\0'
          || !g_utf8_validate (out->unique_name, -1, NULL)
          || g_utf8_strlen (out->unique_name, -1) > HQ_TOKEN_MAX_NAME))
    return hq_room_invalid (error, "UniqueName must be 1 to 128 characters.");
  /* Names are used in REST paths, where "/" would split them. */
  if (out->unique_name && strchr (out->unique_name, '/'))
    return hq_room_invalid (error, "UniqueName must not contain \"/\".");
  if (out->unique_name && hq_sid_is_valid (out->unique_name, "RM"))
    return hq_room_invalid (error, "UniqueName must not look like a room sid.");
  if (out->empty_room_timeout == 0)
    out->empty_room_timeout = HQ_DEFAULT_TIMEOUT_MINUTES;
  if (out->unused_room_timeout == 0)
    out->unused_room_timeout = HQ_DEFAULT_TIMEOUT_MINUTES;
  if (out->empty_room_timeout < 1 || out->empty_room_timeout > 60)
    return hq_room_invalid (error, "EmptyRoomTimeout must be 1 to 60 minutes.");
  if (out->unused_room_timeout < 1 || out->unused_room_timeout > 60)
    return hq_room_invalid (
        error, "UnusedRoomTimeout must be 1 to 60 minutes.");
  if (out->max_participant_duration == 0)
    out->max_participant_duration = HQ_DEFAULT_MAX_PARTICIPANT_DURATION;
  if (out->max_participant_duration < 600
      || out->max_participant_duration > 86400)
    return hq_room_invalid (
        error, "MaxParticipantDuration must be 600 to 86400 seconds.");
  if (out->status_callback && *out->status_callback == '\0')
    out->status_callback = NULL;
  if (out->status_callback) {
    g_autoptr (GUri) uri =
        g_uri_parse (out->status_callback, G_URI_FLAGS_NONE, NULL);
    const gchar *scheme = uri ? g_uri_get_scheme (uri) : NULL;
    if (uri == NULL || g_uri_get_host (uri) == NULL
        || (g_strcmp0 (scheme, "http") != 0
            && g_strcmp0 (scheme, "https") != 0))
      return hq_room_invalid (
          error, "StatusCallback must be an absolute http or https URL.");
  }
  return TRUE;
}

void
hq_rooms_drain (HqRooms *rooms, gint64 deadline_ms)
{
  g_autofree gchar *iso = hq_time_iso (deadline_ms);
  g_autoptr (JsonObject) msg =
      hq_protocol_message_new (HQ_MESSAGE_SERVER_DRAINING, NULL);
  gint64 left = deadline_ms - hq_now_ms ();
  GHashTableIter iter;
  gpointer value;

  rooms->drain_deadline_ms = deadline_ms;
  json_object_set_string_member (msg, "deadline", iso);
  json_object_set_int_member (msg, "seconds", MAX (left, 0) / 1000);
  g_hash_table_iter_init (&iter, rooms->live);
  while (g_hash_table_iter_next (&iter, NULL, &value)) {
    HqRoom *room = value;
    for (guint i = 0; i < room->participants->len; i++)
      hq_participant_send (g_ptr_array_index (room->participants, i), msg);
  }
}

gboolean
hq_rooms_is_draining (HqRooms *rooms)
{
  return rooms->drain_deadline_ms != 0;
}

guint
hq_rooms_count_participants (HqRooms *rooms)
{
  GHashTableIter iter;
  gpointer value;
  guint n = 0;

  g_hash_table_iter_init (&iter, rooms->live);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    n += ((HqRoom *)value)->participants->len;
  return n;
}

HqRoom *
hq_rooms_create (HqRooms *rooms, const HqRoomParams *params, GError **error)
{
  HqRoomParams p;
  HqRoomRecord rec = { 0 };
  g_autofree gchar *sid = hq_sid_new ("RM");
  GError *local = NULL;
  HqRoom *room;

  if (!check_params (rooms, params, &p, error))
    return NULL;
  if (p.unique_name && hq_rooms_lookup (rooms, p.unique_name)) {
    g_set_error (error, HQ_ROOM_ERROR, HQ_ROOM_ERROR_NAME_TAKEN,
        "A room named \"%s\" is already in progress; complete it first or "
        "choose another UniqueName.",
        p.unique_name);
    return NULL;
  }
  rec.sid = sid;
  rec.unique_name = (gchar *)(p.unique_name ? p.unique_name : sid);
  rec.status = "in-progress";
  rec.type = (gchar *)p.type;
  rec.status_callback = (gchar *)p.status_callback;
  rec.max_participants = p.max_participants;
  rec.empty_room_timeout = p.empty_room_timeout;
  rec.unused_room_timeout = p.unused_room_timeout;
  rec.max_participant_duration = p.max_participant_duration;
  rec.record_participants_on_connect = p.record_participants_on_connect;
  rec.waiting_room = p.waiting_room;
  rec.created = rec.updated = hq_now_ms ();
  if (!hq_store_put_room (rooms->store, &rec, &local)) {
    if (g_error_matches (local, HQ_STORE_ERROR, HQ_STORE_ERROR_CONFLICT)) {
      g_error_free (local);
      g_set_error (error, HQ_ROOM_ERROR, HQ_ROOM_ERROR_NAME_TAKEN,
          "A room named \"%s\" is already in progress.", rec.unique_name);
      return NULL;
    }
    hq_room_store_failed (local, error);
    return NULL;
  }
  room = room_new (rooms, &rec);
  add_live (rooms, room);
  hq_room_emit_started (room);
  hq_room_start_idle_timer (
      room, room->rec.unused_room_timeout, HQ_ROOM_END_UNUSED_ROOM_TIMEOUT);
  start_room_duration (room);
  hq_room_event (room, "room-created", NULL, NULL, NULL, NULL);
  return room;
}

HqRoom *
hq_rooms_lookup (HqRooms *rooms, const gchar *sid_or_name)
{
  HqRoom *room = g_hash_table_lookup (rooms->live, sid_or_name);

  return room ? room : g_hash_table_lookup (rooms->by_name, sid_or_name);
}

const HqRoomRecord *
hq_room_get_record (HqRoom *room)
{
  return &room->rec;
}

gboolean
hq_room_kick (HqRoom *room, const gchar *participant_sid, GError **error)
{
  HqParticipant *p = hq_room_find_participant (room, participant_sid);
  g_autoptr (JsonObject) msg = NULL;

  if (p == NULL || p->waiting) {
    g_set_error (error, HQ_ROOM_ERROR, HQ_ROOM_ERROR_NOT_FOUND,
        "Participant %s is not connected to room %s.", participant_sid,
        room->rec.sid);
    return FALSE;
  }
  if (!hq_participant_ban (
          p, hq_protocol_leave_reason_name (HQ_LEAVE_KICKED), NULL, error))
    return FALSE;
  hq_room_event (room, "participant-kicked", p, NULL, NULL, NULL);
  msg = hq_protocol_message_new (HQ_MESSAGE_REMOVED, NULL);
  json_object_set_null_member (msg, "by");
  hq_participant_send (p, msg);
  hq_participant_disconnect (p, hq_protocol_leave_reason_name (HQ_LEAVE_KICKED),
      HQ_CLOSE_REMOVED, NULL);
  return TRUE;
}

void
hq_room_complete (HqRoom *room, HqRoomEndReason end_reason)
{
  const gchar *reason = hq_protocol_room_end_reason_name (end_reason);
  HqRooms *rooms = room->rooms;
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonObject) msg =
      hq_protocol_message_new (HQ_MESSAGE_ROOM_COMPLETED, NULL);
  const gchar *left = hq_protocol_leave_reason_name (HQ_LEAVE_ROOM_COMPLETED);

  json_object_set_string_member (msg, "reason", reason);
  /* Tell everyone first, while they are all still there. */
  for (guint i = 0; i < room->participants->len; i++)
    hq_participant_send (g_ptr_array_index (room->participants, i), msg);
  g_free (room->rec.status);
  room->rec.status = g_strdup ("completed");
  if (room->recorder)
    hq_participant_send (room->recorder, msg);
  hq_room_emit_completed (room);
  if (room->recorder)
    hq_participant_disconnect (
        room->recorder, left, HQ_CLOSE_ROOM_COMPLETED, NULL);
  while (room->participants->len > 0)
    hq_participant_disconnect (g_ptr_array_index (room->participants, 0), left,
        HQ_CLOSE_ROOM_COMPLETED, NULL);
  while (room->chat_members->len > 0) {
    HqParticipant *m = g_ptr_array_index (room->chat_members, 0);
    hq_participant_send (m, msg);
    hq_participant_disconnect (m, left, HQ_CLOSE_ROOM_COMPLETED, NULL);
  }
  room->rec.ended = room->rec.updated = hq_now_ms ();
  room->rec.end_reason = g_strdup (reason);
  if (!hq_store_put_room (rooms->store, &room->rec, &error))
    hq_log_message (HQ_LOG_ERROR, "store", "%s", error->message);
  {
    JsonObject *detail = json_object_new ();
    json_object_set_string_member (detail, "reason", reason);
    hq_room_event (room, "room-ended", NULL, NULL, NULL, detail);
  }
  g_hash_table_remove (rooms->by_name, room->rec.unique_name);
  g_hash_table_remove (rooms->live, room->rec.sid);
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
  hq_room_complete (host->room, HQ_ROOM_END_COMPLETED_BY_HOST);
}
