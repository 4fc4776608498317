/* Rooms; see hqroom.h.
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
#include "hqcallback.h"
#include "hqhttp.h"
#include "hqlog.h"

#include <string.h>
#include <hq/hqutil.h>

#define HQ_DEFAULT_TIMEOUT_MINUTES 5
#define HQ_DEFAULT_MAX_PARTICIPANT_DURATION (4 * 3600)
#define HQ_MAX_ROOM_DURATION_MS ((gint64)24 * 3600 * 1000)

G_DEFINE_QUARK (hq - room - error - quark, hq_room_error);

struct _HqRooms
{
  HqConfig *config;
  HqStore *store;
  HqCallbacks *callbacks;
  GHashTable *live; /* sid -> HqRoom */
};

struct _HqRoom
{
  HqRooms *rooms;
  HqRoomRecord rec;
  GPtrArray *participants; /* HqParticipant, in join order */
  /* Before the first join it counts down the unused-room timeout, when
   * the room is empty the empty-room timeout; idle_reason says which. */
  guint idle_timer;
  const gchar *idle_reason;
  guint duration_timer;
};

struct _HqParticipant
{
  HqRoom *room;
  HqParticipantRecord rec;
  HqRole role;
  GPtrArray *tracks; /* HqTrackRecord */
  const HqPeerOps *ops;
  gpointer peer; /* NULL while reconnecting */
  gchar *resume_token;
  gchar *join_id; /* a waiting guest's join request id */
  gboolean waiting;
  guint grace_timer;
  guint duration_timer;
};

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
  static const gchar *const names[] = {
    [HQ_ROOM_ERROR_INVALID] = "invalid_field",
    [HQ_ROOM_ERROR_NOT_FOUND] = "not_found",
    [HQ_ROOM_ERROR_NAME_TAKEN] = "name_taken",
    [HQ_ROOM_ERROR_COMPLETED] = "room_completed",
    [HQ_ROOM_ERROR_FULL] = "room_full",
    [HQ_ROOM_ERROR_FORBIDDEN] = "not_host",
    [HQ_ROOM_ERROR_STORE] = "internal",
  };

  if (code < 0 || code >= (gint)G_N_ELEMENTS (names))
    return "internal";
  return names[code];
}

static gint64
now_ms (void)
{
  return g_get_real_time () / 1000;
}

gchar *
hq_time_iso (gint64 ms)
{
  g_autoptr (GDateTime) t = g_date_time_new_from_unix_utc (ms / 1000);

  return g_date_time_format (t, "%Y-%m-%dT%H:%M:%SZ");
}

static gboolean
store_failed (GError *local, GError **error)
{
  hq_log_message (HQ_LOG_ERROR, "store", "%s", local->message);
  g_set_error (error, HQ_ROOM_ERROR, HQ_ROOM_ERROR_STORE,
      "the change could not be stored: %s", local->message);
  g_error_free (local);
  return FALSE;
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
  set_time (obj, "end_time", r->ended);
  if (r->ended)
    json_object_set_int_member (
        obj, "duration", (r->ended - r->created) / 1000);
  else
    json_object_set_null_member (obj, "duration");
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
  json_object_set_string_member (obj, "status", p->status);
  json_object_set_string_member (obj, "role", p->role);
  set_time (obj, "date_created", p->created);
  set_time (obj, "date_updated", p->updated);
  set_time (obj, "start_time", p->created);
  set_time (obj, "end_time", p->ended);
  if (p->ended)
    json_object_set_int_member (
        obj, "duration", (p->ended - p->created) / 1000);
  else
    json_object_set_null_member (obj, "duration");
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
  return obj;
}

/* A participant as the protocol shows it: the record plus its tracks. */
static JsonObject *
participant_to_json (HqParticipant *p)
{
  JsonObject *obj = json_object_new ();
  JsonArray *tracks = json_array_new ();

  json_object_set_string_member (obj, "sid", p->rec.sid);
  json_object_set_string_member (obj, "identity", p->rec.identity);
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
  json_object_set_string_member (obj, "body", c->body);
  if (c->attributes) {
    JsonNode *node = json_from_string (c->attributes, NULL);
    if (node)
      json_object_set_member (obj, "attributes", node);
  }
  json_object_set_string_member (obj, "date_created", iso);
  return obj;
}

static JsonObject *
message_new (const gchar *type, const gchar *id)
{
  JsonObject *msg = json_object_new ();

  json_object_set_string_member (msg, "type", type);
  if (id)
    json_object_set_string_member (msg, "id", id);
  return msg;
}

/* --- sending --- */

static void
send_to (HqParticipant *p, JsonObject *msg)
{
  if (p->peer)
    p->ops->send (p->peer, msg);
}

/* Sends @msg (taken) to every connected participant but @except. */
static void
broadcast (HqRoom *room, HqParticipant *except, JsonObject *msg)
{
  for (guint i = 0; i < room->participants->len; i++) {
    HqParticipant *p = g_ptr_array_index (room->participants, i);
    if (p != except && !p->waiting)
      send_to (p, msg);
  }
  json_object_unref (msg);
}

static void
close_peer (HqParticipant *p, gushort code, const gchar *reason)
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

static void
post_callback (HqRoom *room, const gchar *event, HqParticipant *p,
    const HqTrackRecord *t, gint64 ts)
{
  g_autoptr (GHashTable) f =
      g_hash_table_new_full (g_str_hash, g_str_equal, NULL, g_free);
  g_autoptr (GError) error = NULL;

  room->rec.callback_sequence++;
  if (!hq_store_put_room (room->rooms->store, &room->rec, &error))
    hq_log_message (HQ_LOG_ERROR, "store", "%s", error->message);
  g_hash_table_insert (
      f, "AccountSid", g_strdup (room->rooms->config->account_sid));
  g_hash_table_insert (f, "RoomSid", g_strdup (room->rec.sid));
  g_hash_table_insert (f, "RoomName", g_strdup (room->rec.unique_name));
  g_hash_table_insert (f, "RoomType", g_strdup (room->rec.type));
  g_hash_table_insert (f, "RoomStatus", g_strdup (room->rec.status));
  g_hash_table_insert (f, "StatusCallbackEvent", g_strdup (event));
  g_hash_table_insert (f, "SequenceNumber",
      g_strdup_printf ("%" G_GINT64_FORMAT, room->rec.callback_sequence));
  g_hash_table_insert (f, "Timestamp", hq_time_iso (ts));
  if (room->rec.ended)
    g_hash_table_insert (f, "RoomDuration",
        g_strdup_printf (
            "%" G_GINT64_FORMAT, (room->rec.ended - room->rec.created) / 1000));
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

/* Records @event in the audit log, and as a status callback when it is one.
 * @detail (taken) may be NULL. */
static void
room_event (HqRoom *room, const gchar *event, HqParticipant *p,
    const HqTrackRecord *t, HqParticipant *actor, JsonObject *detail)
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
  ev.room_sid = room->rec.sid;
  ev.event = (gchar *)event;
  ev.participant_sid = p ? p->rec.sid : NULL;
  ev.identity = p ? p->rec.identity : NULL;
  ev.track_sid = t ? t->sid : NULL;
  ev.actor_sid = actor ? actor->rec.sid : NULL;
  ev.detail = detail_text;
  ev.created = now_ms ();
  if (!hq_store_add_event (room->rooms->store, &ev, &error))
    hq_log_message (HQ_LOG_ERROR, "store", "audit log: %s", error->message);

  line = hq_log_begin (HQ_LOG_INFO, "room");
  json_object_set_string_member (line, "room_sid", room->rec.sid);
  json_object_set_string_member (line, "what", event);
  if (p)
    json_object_set_string_member (line, "participant_sid", p->rec.sid);
  if (t)
    json_object_set_string_member (line, "track_sid", t->sid);
  hq_log_end (line);

  if (room->rec.status_callback && g_strv_contains (callback_events, event))
    post_callback (room, event, p, t, ev.created);
}

/* --- timers --- */

static void
clear_source (guint *id)
{
  if (*id) {
    g_source_remove (*id);
    *id = 0;
  }
}

static guint
connected_count (HqRoom *room)
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
  hq_room_complete (room, room->idle_reason);
  return G_SOURCE_REMOVE;
}

static gboolean
room_duration_cb (gpointer user_data)
{
  HqRoom *room = user_data;

  room->duration_timer = 0;
  hq_room_complete (room, "max_duration");
  return G_SOURCE_REMOVE;
}

static guint
timeout_ms (gint64 ms, GSourceFunc fn, gpointer data)
{
  return g_timeout_add ((guint)CLAMP (ms, 1, G_MAXUINT), fn, data);
}

static void
start_idle_timer (HqRoom *room, gint minutes, const gchar *reason)
{
  clear_source (&room->idle_timer);
  room->idle_reason = reason;
  room->idle_timer = timeout_ms (
      minutes * room->rooms->config->minute_ms, idle_timeout_cb, room);
}

/* Called whenever someone leaves: an empty room starts its countdown. */
static void
maybe_start_empty_timer (HqRoom *room)
{
  if (connected_count (room) == 0 && room->idle_timer == 0)
    start_idle_timer (room, room->rec.empty_room_timeout, "empty_room_timeout");
}

/* --- rooms --- */

static void participant_free (HqParticipant *p);

static void
room_free (HqRoom *room)
{
  clear_source (&room->idle_timer);
  clear_source (&room->duration_timer);
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
      g_ptr_array_new_with_free_func ((GDestroyNotify)participant_free);
  return room;
}

static void
start_room_duration (HqRoom *room)
{
  gint64 left = room->rec.created + HQ_MAX_ROOM_DURATION_MS - now_ms ();

  room->duration_timer = timeout_ms (left, room_duration_cb, room);
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

/* A room found in progress at start: whoever was in it is gone. */
static void
restore_room (HqRooms *rooms, const HqRoomRecord *rec)
{
  HqRoom *room = room_new (rooms, rec);
  g_autoptr (GPtrArray) stale = NULL;
  g_autoptr (GPtrArray) ever = NULL;
  g_autoptr (GError) error = NULL;
  gint64 now = now_ms ();

  g_hash_table_insert (rooms->live, room->rec.sid, room);
  stale = hq_store_list_participants (
      rooms->store, room->rec.sid, "connected", NULL, G_MAXINT, 0, &error);
  for (guint i = 0; stale && i < stale->len; i++) {
    HqParticipantRecord *p = g_ptr_array_index (stale, i);
    HqParticipant tmp = { .room = room };
    g_free (p->status);
    p->status = g_strdup ("disconnected");
    p->end_reason = g_strdup ("server_restart");
    p->ended = p->updated = now;
    tmp.rec = *p;
    if (hq_store_put_participant (rooms->store, p, NULL))
      room_event (room, "participant-disconnected", &tmp, NULL, NULL, NULL);
    unpublish_stale_tracks (rooms->store, p->sid, now);
  }
  ever = hq_store_list_participants (
      rooms->store, room->rec.sid, NULL, NULL, 1, 0, NULL);
  if (ever && ever->len > 0)
    maybe_start_empty_timer (room);
  else
    start_idle_timer (
        room, room->rec.unused_room_timeout, "unused_room_timeout");
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
  rooms->callbacks = hq_callbacks_new (
      config->key_sid, config->key_secret, config->callback_retry_ms);
  rooms->live = g_hash_table_new_full (
      g_str_hash, g_str_equal, NULL, (GDestroyNotify)room_free);
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
hq_rooms_free (HqRooms *rooms)
{
  GHashTableIter iter;
  gpointer value;

  if (rooms == NULL)
    return;
  /* Shutting down is not the end of a room: rooms stay in progress in the
   * store and are restored at the next start.  Only connections end. */
  g_hash_table_iter_init (&iter, rooms->live);
  while (g_hash_table_iter_next (&iter, NULL, &value)) {
    HqRoom *room = value;
    for (guint i = 0; i < room->participants->len; i++)
      close_peer (g_ptr_array_index (room->participants, i), 1001,
          "server shutting down");
  }
  g_hash_table_destroy (rooms->live);
  hq_callbacks_free (rooms->callbacks);
  hq_store_close (rooms->store);
  g_free (rooms);
}

HqStore *
hq_rooms_get_store (HqRooms *rooms)
{
  return rooms->store;
}

static gint
type_cap (const gchar *type)
{
  for (gsize i = 0; i < G_N_ELEMENTS (room_types); i++)
    if (g_strcmp0 (room_types[i].type, type) == 0)
      return room_types[i].cap;
  return 0;
}

static gboolean invalid (GError **error, const gchar *format, ...)
    G_GNUC_PRINTF (2, 3);

static gboolean
invalid (GError **error, const gchar *format, ...)
{
  va_list args;

  va_start (args, format);
  if (error)
    *error =
        g_error_new_valist (HQ_ROOM_ERROR, HQ_ROOM_ERROR_INVALID, format, args);
  va_end (args);
  return FALSE;
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
    return invalid (error,
        "Type \"%s\" is not one of go, peer-to-peer, group-small, group.",
        out->type);
  if (out->max_participants == 0)
    out->max_participants = cap;
  if (out->max_participants < 1 || out->max_participants > cap)
    return invalid (error, "MaxParticipants must be 1 to %d for a %s room.",
        cap, out->type);
  if (out->unique_name
      && (*out->unique_name == '\0'
          || !g_utf8_validate (out->unique_name, -1, NULL)
          || g_utf8_strlen (out->unique_name, -1) > HQ_TOKEN_MAX_NAME))
    return invalid (error, "UniqueName must be 1 to 128 characters.");
  if (out->unique_name && hq_sid_is_valid (out->unique_name, "RM"))
    return invalid (error, "UniqueName must not look like a room sid.");
  if (out->empty_room_timeout == 0)
    out->empty_room_timeout = HQ_DEFAULT_TIMEOUT_MINUTES;
  if (out->unused_room_timeout == 0)
    out->unused_room_timeout = HQ_DEFAULT_TIMEOUT_MINUTES;
  if (out->empty_room_timeout < 1 || out->empty_room_timeout > 60)
    return invalid (error, "EmptyRoomTimeout must be 1 to 60 minutes.");
  if (out->unused_room_timeout < 1 || out->unused_room_timeout > 60)
    return invalid (error, "UnusedRoomTimeout must be 1 to 60 minutes.");
  if (out->max_participant_duration == 0)
    out->max_participant_duration = HQ_DEFAULT_MAX_PARTICIPANT_DURATION;
  if (out->max_participant_duration < 600
      || out->max_participant_duration > 86400)
    return invalid (
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
      return invalid (
          error, "StatusCallback must be an absolute http or https URL.");
  }
  return TRUE;
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
  rec.created = rec.updated = now_ms ();
  if (!hq_store_put_room (rooms->store, &rec, &local)) {
    if (g_error_matches (local, HQ_STORE_ERROR, HQ_STORE_ERROR_CONFLICT)) {
      g_error_free (local);
      g_set_error (error, HQ_ROOM_ERROR, HQ_ROOM_ERROR_NAME_TAKEN,
          "A room named \"%s\" is already in progress.", rec.unique_name);
      return NULL;
    }
    store_failed (local, error);
    return NULL;
  }
  room = room_new (rooms, &rec);
  g_hash_table_insert (rooms->live, room->rec.sid, room);
  start_idle_timer (room, room->rec.unused_room_timeout, "unused_room_timeout");
  start_room_duration (room);
  room_event (room, "room-created", NULL, NULL, NULL, NULL);
  return room;
}

HqRoom *
hq_rooms_lookup (HqRooms *rooms, const gchar *sid_or_name)
{
  GHashTableIter iter;
  gpointer value;
  HqRoom *room = g_hash_table_lookup (rooms->live, sid_or_name);

  if (room)
    return room;
  g_hash_table_iter_init (&iter, rooms->live);
  while (g_hash_table_iter_next (&iter, NULL, &value)) {
    room = value;
    if (g_strcmp0 (room->rec.unique_name, sid_or_name) == 0)
      return room;
  }
  return NULL;
}

const HqRoomRecord *
hq_room_get_record (HqRoom *room)
{
  return &room->rec;
}

/* --- participants --- */

static void
participant_free (HqParticipant *p)
{
  clear_source (&p->grace_timer);
  clear_source (&p->duration_timer);
  g_ptr_array_unref (p->tracks);
  g_free (p->rec.sid);
  g_free (p->rec.room_sid);
  g_free (p->rec.identity);
  g_free (p->rec.status);
  g_free (p->rec.role);
  g_free (p->rec.end_reason);
  g_free (p->resume_token);
  g_free (p->join_id);
  g_free (p);
}

static HqParticipant *
find_participant (HqRoom *room, const gchar *sid)
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
      g_autoptr (JsonObject) msg = message_new ("lobby_changed", NULL);
      json_object_set_array_member (msg, "waiting", lobby_json (room));
      send_to (p, msg);
    }
  }
}

static JsonObject *
participant_ref_json (HqParticipant *p)
{
  JsonObject *obj = json_object_new ();

  json_object_set_string_member (obj, "sid", p->rec.sid);
  json_object_set_string_member (obj, "identity", p->rec.identity);
  return obj;
}

/* Ends @p's membership for @reason, closing its connection with @code. */
static void
disconnect (
    HqParticipant *p, const gchar *reason, gushort code, HqParticipant *actor)
{
  HqRoom *room = p->room;
  g_autoptr (GError) error = NULL;
  gint64 now = now_ms ();

  close_peer (p, code, reason);
  clear_source (&p->grace_timer);
  clear_source (&p->duration_timer);
  if (p->waiting) {
    JsonObject *detail = json_object_new ();
    json_object_set_string_member (detail, "reason", reason);
    room_event (room, "lobby-left", p, NULL, actor, detail);
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
    room_event (room, "track-removed", p, t, NULL, NULL);
  }
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
    room_event (room, "participant-disconnected", p, NULL, actor, detail);
  }
  {
    JsonObject *msg = message_new ("participant_disconnected", NULL);
    json_object_set_object_member (
        msg, "participant", participant_ref_json (p));
    json_object_set_string_member (msg, "reason", reason);
    /* Keep @p alive through the broadcast; it skips itself anyway. */
    broadcast (room, p, msg);
  }
  g_ptr_array_remove (room->participants, p);
  if (g_strcmp0 (room->rec.status, "in-progress") == 0)
    maybe_start_empty_timer (room);
}

static gboolean
grace_expired_cb (gpointer user_data)
{
  HqParticipant *p = user_data;

  p->grace_timer = 0;
  disconnect (p, "connection_lost", HQ_CLOSE_NORMAL, NULL);
  return G_SOURCE_REMOVE;
}

static gboolean
participant_duration_cb (gpointer user_data)
{
  HqParticipant *p = user_data;

  p->duration_timer = 0;
  disconnect (p, "max_participant_duration", HQ_CLOSE_MAX_DURATION, NULL);
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

static void
send_joined (HqParticipant *p, const gchar *id)
{
  HqRoom *room = p->room;
  g_autoptr (JsonObject) msg = message_new ("joined", id);
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
  json_object_set_array_member (msg, "chat", recent_chat (room));
  if (p->role == HQ_ROLE_HOST)
    json_object_set_array_member (msg, "lobby", lobby_json (room));
  send_to (p, msg);
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
  p->rec.created = p->rec.updated = now_ms ();
  if (!hq_store_put_participant (room->rooms->store, &p->rec, &local))
    return store_failed (local, error);
  p->waiting = FALSE;
  clear_source (&room->idle_timer);
  p->duration_timer = timeout_ms (
      room->rec.max_participant_duration * 1000, participant_duration_cb, p);
  room_event (room, "participant-connected", p, NULL, actor, NULL);
  send_joined (p, id);
  msg = message_new ("participant_connected", NULL);
  json_object_set_object_member (msg, "participant", participant_to_json (p));
  broadcast (room, p, msg);
  return TRUE;
}

static gboolean
check_room_open (HqRoom *room, GError **error)
{
  if (connected_count (room) >= (guint)room->rec.max_participants) {
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

  close_peer (p, HQ_CLOSE_REPLACED, "resumed on another connection");
  clear_source (&p->grace_timer);
  p->ops = ops;
  p->peer = peer;
  room_event (p->room, "participant-resumed", p, NULL, NULL, NULL);
  if (p->waiting) {
    g_autoptr (JsonObject) w = message_new ("waiting", id);
    g_free (p->join_id);
    p->join_id = g_strdup (id);
    json_object_set_string_member (w, "participant_sid", p->rec.sid);
    json_object_set_string_member (w, "resume_token", p->resume_token);
    send_to (p, w);
    return;
  }
  send_joined (p, id);
  msg = message_new ("participant_reconnected", NULL);
  json_object_set_object_member (msg, "participant", participant_to_json (p));
  broadcast (p->room, p, msg);
}

HqParticipant *
hq_room_join (HqRoom *room, const HqTokenClaims *claims,
    const gchar *resume_token, const HqPeerOps *ops, gpointer peer,
    const gchar *request_id, GError **error)
{
  HqParticipant *old = find_identity (room, claims->identity);
  HqParticipant *p;

  if (old && resume_token && old->resume_token
      && hq_str_equal_const_time (resume_token, old->resume_token)) {
    resume (old, ops, peer, request_id);
    return old;
  }
  /* The same person on a new connection (a reload, a second tab, a lost
   * resume token): the newest connection wins and the old one leaves. */
  if (old)
    disconnect (old, "replaced", HQ_CLOSE_REPLACED, NULL);

  p = g_new0 (HqParticipant, 1);
  p->room = room;
  p->role = claims->role;
  p->tracks =
      g_ptr_array_new_with_free_func ((GDestroyNotify)hq_track_record_free);
  p->rec.sid = hq_sid_new ("PA");
  p->rec.room_sid = g_strdup (room->rec.sid);
  p->rec.identity = g_strdup (claims->identity);
  p->rec.role = g_strdup (hq_role_to_string (claims->role));
  p->rec.status = g_strdup ("waiting");
  p->resume_token = hq_secret_new (24);
  p->ops = ops;
  p->peer = peer;

  if (room->rec.waiting_room && claims->role == HQ_ROLE_GUEST) {
    g_autoptr (JsonObject) msg = NULL;
    if (room->participants->len - connected_count (room) >= HQ_LOBBY_MAX) {
      g_set_error (error, HQ_ROOM_ERROR, HQ_ROOM_ERROR_FULL,
          "The waiting room of \"%s\" is full (%d waiting).",
          room->rec.unique_name, HQ_LOBBY_MAX);
      p->peer = NULL;
      participant_free (p);
      return NULL;
    }
    msg = message_new ("waiting", request_id);
    p->waiting = TRUE;
    p->join_id = g_strdup (request_id);
    g_ptr_array_add (room->participants, p);
    room_event (room, "lobby-entered", p, NULL, NULL, NULL);
    json_object_set_string_member (msg, "participant_sid", p->rec.sid);
    json_object_set_string_member (msg, "resume_token", p->resume_token);
    send_to (p, msg);
    announce_lobby (room);
    return p;
  }
  if (!check_room_open (room, error)) {
    p->peer = NULL;
    participant_free (p);
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
  disconnect (p, "left", HQ_CLOSE_NORMAL, NULL);
}

void
hq_participant_connection_lost (HqParticipant *p)
{
  JsonObject *msg;

  p->peer = NULL;
  if (p->waiting) {
    disconnect (p, "connection_lost", HQ_CLOSE_NORMAL, NULL);
    return;
  }
  if (p->grace_timer)
    return;
  p->grace_timer = timeout_ms (
      p->room->rooms->config->reconnect_grace_ms, grace_expired_cb, p);
  msg = message_new ("participant_reconnecting", NULL);
  json_object_set_object_member (msg, "participant", participant_ref_json (p));
  broadcast (p->room, p, msg);
}

/* --- chat --- */

JsonObject *
hq_participant_chat (
    HqParticipant *p, const gchar *body, JsonObject *attributes, GError **error)
{
  HqChatRecord rec = { 0 };
  g_autofree gchar *attr_text = NULL;
  GError *local = NULL;
  JsonObject *msg, *message;
  gsize len = strlen (body);

  if (len == 0 || len > HQ_CHAT_MAX_BODY) {
    invalid (error, "body must be 1 to %d bytes; this one has %zu.",
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
  rec.body = (gchar *)body;
  rec.attributes = attr_text;
  rec.created = now_ms ();
  if (!hq_store_add_chat (p->room->rooms->store, &rec, &local)) {
    store_failed (local, error);
    return NULL;
  }
  message = chat_to_json (&rec);
  msg = message_new ("chat_message", NULL);
  json_object_set_object_member (msg, "message", json_object_ref (message));
  broadcast (p->room, p, msg);
  return message;
}

JsonArray *
hq_participant_chat_history (HqParticipant *p, gint64 before, guint limit,
    gboolean *has_more, GError **error)
{
  GError *local = NULL;
  g_autoptr (GPtrArray) rows = NULL;
  JsonArray *arr;

  if (limit == 0 || limit > HQ_CHAT_PAGE) {
    invalid (error, "limit must be 1 to %d.", HQ_CHAT_PAGE);
    return NULL;
  }
  if (before < 0) {
    invalid (error, "before must be a message index (1 or more).");
    return NULL;
  }
  /* One more than asked tells whether anything lies further back. */
  rows = hq_store_chat_history (
      p->room->rooms->store, p->room->rec.sid, before, limit + 1, &local);
  if (rows == NULL) {
    store_failed (local, error);
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
  JsonObject *msg = message_new (type, NULL);

  json_object_set_string_member (msg, "participant_sid", p->rec.sid);
  json_object_set_object_member (msg, "track", hq_track_record_to_json (t));
  broadcast (p->room, p, msg);
}

JsonObject *
hq_participant_publish_track (HqParticipant *p, const gchar *name,
    const gchar *kind, gboolean enabled, GError **error)
{
  static const gchar *const kinds[] = { "audio", "video", "data", NULL };
  HqTrackRecord *t;
  GError *local = NULL;

  if (!g_strv_contains (kinds, kind)) {
    invalid (error, "kind must be audio, video or data.");
    return NULL;
  }
  if (*name == '\0' || g_utf8_strlen (name, -1) > HQ_TOKEN_MAX_NAME) {
    invalid (error, "name must be 1 to 128 characters.");
    return NULL;
  }
  if (p->tracks->len >= HQ_TRACKS_MAX) {
    invalid (
        error, "A participant publishes at most %d tracks.", HQ_TRACKS_MAX);
    return NULL;
  }
  for (guint i = 0; i < p->tracks->len; i++) {
    HqTrackRecord *o = g_ptr_array_index (p->tracks, i);
    if (g_strcmp0 (o->name, name) == 0) {
      invalid (error,
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
  t->enabled = enabled;
  t->published = TRUE;
  t->created = t->updated = now_ms ();
  if (!hq_store_put_track (p->room->rooms->store, t, &local)) {
    hq_track_record_free (t);
    store_failed (local, error);
    return NULL;
  }
  g_ptr_array_add (p->tracks, t);
  room_event (p->room, "track-added", p, t, NULL, NULL);
  announce_track (p, "track_published", t);
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
  t->updated = now_ms ();
  if (!hq_store_put_track (p->room->rooms->store, t, &local)) {
    t->published = TRUE;
    store_failed (local, error);
    return NULL;
  }
  room_event (p->room, "track-removed", p, t, NULL, NULL);
  announce_track (p, "track_unpublished", t);
  obj = hq_track_record_to_json (t);
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
  t->updated = now_ms ();
  if (!hq_store_put_track (p->room->rooms->store, t, &local)) {
    t->enabled = !enabled;
    return store_failed (local, error);
  }
  room_event (
      p->room, enabled ? "track-enabled" : "track-disabled", p, t, actor, NULL);
  announce_track (p, enabled ? "track_enabled" : "track_disabled", t);
  return TRUE;
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
  target = find_participant (host->room, target_sid);
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
  room_event (host->room, "participant-admitted", target, NULL, host, NULL);
  if (!connect_participant (target, id, host, error))
    return FALSE;
  announce_lobby (host->room);
  return TRUE;
}

gboolean
hq_participant_deny (
    HqParticipant *host, const gchar *target_sid, GError **error)
{
  HqParticipant *target = lobby_target (host, target_sid, error);
  g_autoptr (JsonObject) msg = NULL;

  if (target == NULL)
    return FALSE;
  room_event (host->room, "participant-denied", target, NULL, host, NULL);
  msg = message_new ("denied", target->join_id);
  json_object_set_string_member (
      msg, "message", "A host declined to admit you to this room.");
  send_to (target, msg);
  disconnect (target, "denied", HQ_CLOSE_DENIED, host);
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
  room_event (host->room, "track-muted", target, t, host, NULL);
  msg = message_new ("muted", NULL);
  json_object_set_string_member (msg, "track_sid", t->sid);
  json_object_set_object_member (msg, "by", participant_ref_json (host));
  send_to (target, msg);
  return set_enabled (target, t, FALSE, host, error);
}

gboolean
hq_participant_remove (
    HqParticipant *host, const gchar *target_sid, GError **error)
{
  HqParticipant *target = moderation_target (host, target_sid, error);
  g_autoptr (JsonObject) msg = NULL;

  if (target == NULL)
    return FALSE;
  if (target == host) {
    invalid (error, "A host leaves with `leave`, not by removing itself.");
    return FALSE;
  }
  room_event (host->room, "participant-removed", target, NULL, host, NULL);
  msg = message_new ("removed", NULL);
  json_object_set_object_member (msg, "by", participant_ref_json (host));
  send_to (target, msg);
  disconnect (target, "removed", HQ_CLOSE_REMOVED, host);
  return TRUE;
}

gboolean
hq_room_kick (HqRoom *room, const gchar *participant_sid, GError **error)
{
  HqParticipant *p = find_participant (room, participant_sid);
  g_autoptr (JsonObject) msg = NULL;

  if (p == NULL || p->waiting) {
    g_set_error (error, HQ_ROOM_ERROR, HQ_ROOM_ERROR_NOT_FOUND,
        "Participant %s is not connected to room %s.", participant_sid,
        room->rec.sid);
    return FALSE;
  }
  room_event (room, "participant-kicked", p, NULL, NULL, NULL);
  msg = message_new ("removed", NULL);
  json_object_set_null_member (msg, "by");
  send_to (p, msg);
  disconnect (p, "kicked", HQ_CLOSE_REMOVED, NULL);
  return TRUE;
}

void
hq_room_complete (HqRoom *room, const gchar *reason)
{
  HqRooms *rooms = room->rooms;
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonObject) msg = message_new ("room_completed", NULL);

  json_object_set_string_member (msg, "reason", reason);
  /* Tell everyone first, while they are all still there. */
  for (guint i = 0; i < room->participants->len; i++)
    send_to (g_ptr_array_index (room->participants, i), msg);
  g_free (room->rec.status);
  room->rec.status = g_strdup ("completed");
  while (room->participants->len > 0)
    disconnect (g_ptr_array_index (room->participants, 0), "room_completed",
        HQ_CLOSE_ROOM_COMPLETED, NULL);
  room->rec.ended = room->rec.updated = now_ms ();
  room->rec.end_reason = g_strdup (reason);
  if (!hq_store_put_room (rooms->store, &room->rec, &error))
    hq_log_message (HQ_LOG_ERROR, "store", "%s", error->message);
  {
    JsonObject *detail = json_object_new ();
    json_object_set_string_member (detail, "reason", reason);
    room_event (room, "room-ended", NULL, NULL, NULL, detail);
  }
  g_hash_table_remove (rooms->live, room->rec.sid);
}
