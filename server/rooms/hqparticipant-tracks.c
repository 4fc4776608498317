/* Participants' tracks; see hqparticipant.h: publishing track metadata,
 * enabling and priorities, subscribe rules, a subscriber's own priority,
 * data track messages and the peer-to-peer relay. */
#include "hqparticipant-private.h"
#include "hqhttp.h"
#include "hqlog.h"
#include "hqrules.h"

#include <string.h>
#include <hq/hqprotocol.h>
#include <hq/hqutil.h>

HqTrackRecord *
hq_participant_find_track (HqParticipant *p, const gchar *sid, GError **error)
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
announce_track (HqParticipant *p, HqMessageType type, HqTrackRecord *t)
{
  JsonObject *msg = hq_protocol_message_new (type, NULL);

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
  announce_track (p, HQ_MESSAGE_TRACK_PUBLISHED, t);
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
  HqTrackRecord *t = hq_participant_find_track (p, track_sid, error);
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
  announce_track (p, HQ_MESSAGE_TRACK_UNPUBLISHED, t);
  if (p->room->media)
    hq_sfu_room_remove_track (p->room->media, t->sid);
  obj = hq_track_record_to_json (t);
  hq_room_emit_track (p, t, FALSE);
  g_ptr_array_remove (p->tracks, t);
  return obj;
}

gboolean
hq_participant_set_enabled (HqParticipant *p, HqTrackRecord *t,
    gboolean enabled, HqParticipant *actor, GError **error)
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
  announce_track (
      p, enabled ? HQ_MESSAGE_TRACK_ENABLED : HQ_MESSAGE_TRACK_DISABLED, t);
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
  HqTrackRecord *t = hq_participant_find_track (p, track_sid, error);

  if (t == NULL || !hq_participant_set_enabled (p, t, enabled, NULL, error))
    return NULL;
  return hq_track_record_to_json (t);
}

JsonObject *
hq_participant_set_track_priority (HqParticipant *p, const gchar *track_sid,
    const gchar *priority, GError **error)
{
  HqTrackRecord *t = hq_participant_find_track (p, track_sid, error);
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
  announce_track (p, HQ_MESSAGE_TRACK_PRIORITY_CHANGED, t);
  return hq_track_record_to_json (t);
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
      t = hq_participant_find_track (o, track_sid, NULL);
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
  if ((t = hq_participant_find_track (p, track_sid, error)) == NULL)
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
  msg = hq_protocol_message_new (HQ_MESSAGE_DATA_MESSAGE, NULL);
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
  out = hq_protocol_message_new (HQ_MESSAGE_E2EE_MESSAGE, NULL);
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
  const gchar *field = hq_protocol_relay_field (hq_protocol_read_type (msg));
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
  out = hq_protocol_message_new (hq_protocol_read_type (msg), NULL);
  json_object_set_string_member (out, "from", p->rec.sid);
  json_object_set_string_member (out, "identity", p->rec.identity);
  json_object_set_string_member (out, field, payload);
  hq_participant_send (target, out);
  return TRUE;
}