/* Recording supervisor; see hqrecordings.h and docs/recordings.md.
 *
 * Per room in progress a RoomState holds the recording rules and the
 * current Run: one hq-record child, its credential (the jti of the token
 * it was given), its output directory <data>/recordings/<room>/<run>/ and
 * the rows it records.  sync() is the one place that decides: it works out
 * which published tracks the rules select, starts a run when there are
 * some, stops it (SIGTERM) when there are none, opens a row for each newly
 * selected track once the recorder has joined, and tells the SFU what to
 * offer the recorder.  A run outlives its room (it is finishing its files
 * when the room ends), so runs are owned by HqRecordings, not the room.
 *
 * When a child exits, for whatever reason, settle_run() (in
 * hqrecordings-run.c, with everything else about one child) reads the
 * manifest hqrecorder keeps next to the files (recording.json) and settles
 * every row of the run still `processing`: `completed` when its file is
 * there and not empty (hqrecorder's files stay playable after a crash),
 * `failed` otherwise.
 */
#include "hqrecordings-private.h"
#include "hqmetrics.h"
#include "hqhttp.h"
#include "hqlog.h"
#include "hqrules.h"

#include <hq/hqprotocol.h>

#include <signal.h>
#include <string.h>
#include <glib/gstdio.h>
#include <gio/gio.h>
#include <hq/hqutil.h>

/* How long a stopping server waits for its recorders to finish. */
#define HQ_RECORDER_STOP_TIMEOUT_MS 10000

/* --- rules --- */

/* What a recording rule's "kind" may name: the recorder takes no data. */
static const gchar *const recorded_kinds[] = { "audio", "video", NULL };

/* --- deciding --- */

typedef struct
{
  const HqParticipantRecord *p;
  const HqTrackRecord *t;
} Selected;

typedef struct
{
  RoomState *state;
  GArray *out;
} Selecting;

static void
select_track (
    const HqParticipantRecord *p, const HqTrackRecord *t, gpointer data)
{
  Selecting *sel = data;
  Selected s = { p, t };

  if (!g_str_equal (t->kind, "data")
      && hq_rules_select (sel->state->rules, t->kind, p->identity, t->name))
    g_array_append_val (sel->out, s);
}

/* The published tracks of the room's connected participants that its
 * rules select. */
static GArray *
selection (RoomState *state)
{
  Selecting sel = { state, g_array_new (FALSE, FALSE, sizeof (Selected)) };

  if (state->room)
    hq_room_foreach_track (state->room, select_track, &sel);
  return sel.out;
}

static void
open_row (HqRecordings *recs, Run *run, HqRoom *room, const Selected *s)
{
  RunRow *row = g_new0 (RunRow, 1);
  HqRecordingRecord *rec = g_new0 (HqRecordingRecord, 1);
  gboolean audio = g_str_equal (s->t->kind, "audio");

  rec->sid = hq_sid_new ("RT");
  rec->room_sid = g_strdup (hq_room_get_record (room)->sid);
  rec->participant_sid = g_strdup (s->p->sid);
  rec->track_sid = g_strdup (s->t->sid);
  rec->track_name = g_strdup (s->t->name);
  rec->type = g_strdup (s->t->kind);
  rec->status = g_strdup ("processing");
  hq_metrics_count (HQ_COUNTER_RECORDINGS_STARTED, 1);
  rec->container = g_strdup (audio ? "mka" : "mkv");
  rec->session = g_strdup (run->session);
  rec->created = hq_now_ms ();
  rec->offset = rec->created - hq_room_get_record (room)->created;
  row->rec = rec;
  row->identity = g_strdup (s->p->identity);
  g_ptr_array_add (run->rows, row);
  g_hash_table_insert (run->open, rec->track_sid, row);
  hq_recordings_row_changed (recs, rec, "recording-started");
}

/* Brings the room's recorder in line with its rules and tracks. */
static void
sync_recorder (HqRecordings *recs, RoomState *state)
{
  HqRoom *room = state->room;
  g_autoptr (GArray) sel = NULL;
  g_autoptr (GPtrArray) sids = NULL;
  Run *run = state->run;
  GHashTableIter iter;
  gpointer key;

  if (room == NULL || hq_room_get_media (room) == NULL || recs->closing)
    return;
  sel = selection (state);
  if (sel->len == 0) {
    if (run)
      hq_recordings_run_stop (run);
    return;
  }
  if (run && run->stopping) {
    /* Finishing its files: a new run takes over. */
    run->state = NULL;
    state->run = run = NULL;
  }
  if (run == NULL) {
    if (recs->url == NULL || state->restart_blocked)
      return;
    state->run = hq_recordings_run_start (recs, state);
    return; /* rows open once it has joined */
  }
  if (run->recorder_sid == NULL)
    return;
  sids = g_ptr_array_new ();
  for (guint i = 0; i < sel->len; i++) {
    Selected *s = &g_array_index (sel, Selected, i);
    if (!g_hash_table_contains (run->open, s->t->sid))
      open_row (recs, run, room, s);
    g_ptr_array_add (sids, s->t->sid);
  }
  g_ptr_array_add (sids, NULL);
  /* A track no longer selected stops being recorded now; its row is
   * settled with the run, from the manifest. */
  g_hash_table_iter_init (&iter, run->open);
  while (g_hash_table_iter_next (&iter, &key, NULL))
    if (!g_strv_contains ((const gchar *const *)sids->pdata, key))
      g_hash_table_iter_remove (&iter);
  hq_sfu_room_set_selection (hq_room_get_media (room), run->recorder_sid,
      (const gchar *const *)sids->pdata);
}

/* --- telling the participants --- */

static gint
compare_strings (gconstpointer a, gconstpointer b)
{
  return g_strcmp0 (*(const gchar *const *)a, *(const gchar *const *)b);
}

/* The participants @run records now: {sid, identity, name} each, in
 * the order of their sids (new); *@key gets the sids joined. */
static JsonArray *
recorded_participants (RoomState *state, gchar **key)
{
  g_autoptr (GPtrArray) sids = g_ptr_array_new ();
  JsonArray *out = json_array_new ();
  GHashTableIter iter;
  gpointer value;

  g_hash_table_iter_init (&iter, state->run->open);
  while (g_hash_table_iter_next (&iter, NULL, &value)) {
    RunRow *row = value;
    if (!g_ptr_array_find_with_equal_func (
            sids, row->rec->participant_sid, g_str_equal, NULL))
      g_ptr_array_add (sids, row->rec->participant_sid);
  }
  g_ptr_array_sort (sids, compare_strings);
  for (guint i = 0; i < sids->len; i++) {
    const HqParticipantRecord *p = hq_room_get_participant_record (
        state->room, g_ptr_array_index (sids, i));
    JsonObject *o;
    if (p == NULL)
      continue;
    o = json_object_new ();
    json_object_set_string_member (o, "sid", p->sid);
    json_object_set_string_member (o, "identity", p->identity);
    json_object_set_string_member (o, "name", p->name ? p->name : p->identity);
    json_array_add_object_element (out, o);
  }
  g_ptr_array_add (sids, NULL);
  *key = g_strjoinv (" ", (gchar **)sids->pdata);
  return out;
}

static gboolean
recording_on (RoomState *state)
{
  return state->room && state->run && !state->run->stopping
      && g_hash_table_size (state->run->open) > 0;
}

/* {"source", "by"} of @state into @o. */
static void
set_source (JsonObject *o, RoomState *state)
{
  json_object_set_string_member (
      o, "source", state->rules_by ? "host" : "rules");
  if (state->rules_by)
    json_object_set_object_member (o, "by", json_object_ref (state->rules_by));
  else
    json_object_set_null_member (o, "by");
}

/* HqRoomRecording.state_json: whether the room records, as participants
 * hear it (docs/protocol.md, "Recording"): a new node holding null while
 * nothing is recorded, else {"source", "by", "participants"}.  The room is
 * "recording" from the moment its recorder takes the first track until it
 * takes none (every change is sent to the participants as
 * recording_started, recording_changed and recording_stopped). */
static JsonNode *
state_json (HqRoom *room, gpointer data)
{
  HqRecordings *recs = data;
  RoomState *state =
      g_hash_table_lookup (recs->states, hq_room_get_record (room)->sid);
  JsonNode *node = json_node_new (JSON_NODE_NULL);
  g_autofree gchar *key = NULL;
  JsonObject *o;

  if (state == NULL || !recording_on (state))
    return node;
  o = json_object_new ();
  set_source (o, state);
  json_object_set_array_member (
      o, "participants", recorded_participants (state, &key));
  json_node_init_object (node, o);
  json_object_unref (o);
  return node;
}

/* Tells every participant when recording starts, stops, or starts or
 * stops taking someone (docs/protocol.md, "Recording"), and writes the
 * starts and stops to the audit log. */
void
hq_recordings_announce (RoomState *state)
{
  gboolean on = recording_on (state);
  g_autofree gchar *key = NULL;
  JsonArray *who = on ? recorded_participants (state, &key) : NULL;
  JsonObject *msg;

  if (on == state->told_on && g_strcmp0 (key, state->told_participants) == 0) {
    if (who)
      json_array_unref (who);
    return;
  }
  msg = hq_protocol_message_new (on
          ? (state->told_on ? HQ_MESSAGE_RECORDING_CHANGED
                            : HQ_MESSAGE_RECORDING_STARTED)
          : HQ_MESSAGE_RECORDING_STOPPED,
      NULL);
  set_source (msg, state);
  if (who)
    json_object_set_array_member (msg, "participants", who);
  if (on != state->told_on)
    hq_room_event (state->room, on ? "room-recording-on" : "room-recording-off",
        NULL, NULL, NULL, NULL);
  state->told_on = on;
  g_free (state->told_participants);
  state->told_participants = g_steal_pointer (&key);
  hq_room_broadcast (state->room, NULL, msg);
}

void
hq_recordings_sync_room (HqRecordings *recs, RoomState *state)
{
  sync_recorder (recs, state);
  if (state->room)
    hq_recordings_announce (state);
}

/* --- the API --- */

static void
state_free (RoomState *state)
{
  if (state->run)
    state->run->state = NULL;
  if (state->rules)
    json_array_unref (state->rules);
  if (state->rules_by)
    json_object_unref (state->rules_by);
  g_free (state->told_participants);
  g_free (state->room_sid);
  g_free (state);
}

static const HqRoomObserver observer;
static const HqRoomRecording recording;

HqRecordings *
hq_recordings_new (HqRooms *rooms)
{
  HqRecordings *recs = g_new0 (HqRecordings, 1);

  recs->rooms = rooms;
  recs->dir = g_build_filename (
      hq_rooms_get_config (rooms)->data_dir, "recordings", NULL);
  recs->states = g_hash_table_new_full (
      g_str_hash, g_str_equal, NULL, (GDestroyNotify)state_free);
  recs->runs = g_ptr_array_new ();
  hq_recordings_settle_orphans (recs);
  hq_rooms_add_observer (rooms, &observer, recs);
  hq_rooms_set_recording (rooms, &recording, recs);
  return recs;
}

void
hq_recordings_set_url (
    HqRecordings *recs, const gchar *url, const gchar *tls_certificate)
{
  g_free (recs->url);
  recs->url = g_strdup (url);
  g_free (recs->tls_certificate);
  recs->tls_certificate = g_strdup (tls_certificate);
}

static gboolean
keep_waking (gpointer data)
{
  return G_SOURCE_CONTINUE;
}

void
hq_recordings_free (HqRecordings *recs)
{
  if (recs == NULL)
    return;
  recs->closing = TRUE;
  for (guint i = 0; i < recs->runs->len; i++)
    hq_recordings_run_stop (g_ptr_array_index (recs->runs, i));
  /* Each run settles its rows as its child exits; one that does not
   * finish in time is killed (its files stay playable). */
  {
    gint64 deadline = g_get_monotonic_time ()
        + HQ_RECORDER_STOP_TIMEOUT_MS * G_TIME_SPAN_MILLISECOND;
    gboolean killed = FALSE;
    guint tick = g_timeout_add (100, keep_waking, NULL);
    while (recs->runs->len > 0) {
      if (!killed && g_get_monotonic_time () > deadline) {
        for (guint i = 0; i < recs->runs->len; i++)
          g_subprocess_force_exit (
              ((Run *)g_ptr_array_index (recs->runs, i))->child);
        killed = TRUE;
      }
      g_main_context_iteration (NULL, TRUE);
    }
    g_source_remove (tick);
  }
  hq_rooms_remove_observer (recs->rooms, &observer, recs);
  hq_rooms_set_recording (recs->rooms, NULL, NULL);
  g_hash_table_destroy (recs->states);
  g_ptr_array_unref (recs->runs);
  g_free (recs->url);
  g_free (recs->tls_certificate);
  g_free (recs->dir);
  g_free (recs);
}

static RoomState *
get_state (HqRecordings *recs, HqRoom *room)
{
  return g_hash_table_lookup (recs->states, hq_room_get_record (room)->sid);
}

/* Writes @state's rules through to the store, where REST finds them after
 * the room has ended. */
static gboolean
store_rules (HqRecordings *recs, RoomState *state)
{
  g_autoptr (JsonObject) stored = json_object_new ();
  g_autoptr (JsonNode) node = json_node_new (JSON_NODE_OBJECT);
  g_autofree gchar *text = NULL;
  g_autoptr (GError) error = NULL;

  json_object_set_array_member (stored, "rules", json_array_ref (state->rules));
  json_object_set_int_member (stored, "created", state->rules_created);
  json_object_set_int_member (stored, "updated", state->rules_updated);
  json_node_set_object (node, stored);
  text = json_to_string (node, FALSE);
  if (hq_store_put_recording_rules (
          hq_rooms_get_store (recs->rooms), state->room_sid, text, &error))
    return TRUE;
  hq_log_message (HQ_LOG_ERROR, "store", "%s", error->message);
  return FALSE;
}

/* --- following the rooms (HqRoomObserver) --- */

static void
room_started (HqRoom *room, gpointer data)
{
  HqRecordings *recs = data;
  const HqRoomRecord *rec = hq_room_get_record (room);
  RoomState *state = g_new0 (RoomState, 1);
  g_autoptr (GError) error = NULL;
  g_autofree gchar *stored = NULL;

  state->room_sid = g_strdup (rec->sid);
  state->room = room;
  stored = hq_store_get_recording_rules (
      hq_rooms_get_store (recs->rooms), rec->sid, &error);
  if (stored) {
    g_autoptr (JsonNode) node = json_from_string (stored, NULL);
    JsonObject *o = node && JSON_NODE_HOLDS_OBJECT (node)
        ? json_node_get_object (node)
        : NULL;
    JsonNode *rules = o ? json_object_get_member (o, "rules") : NULL;
    if (rules && JSON_NODE_HOLDS_ARRAY (rules))
      state->rules = json_array_ref (json_node_get_array (rules));
    state->rules_created = o
        ? json_object_get_int_member_with_default (o, "created", rec->created)
        : rec->created;
    state->rules_updated = o
        ? json_object_get_int_member_with_default (o, "updated", rec->created)
        : rec->created;
  }
  if (state->rules == NULL) {
    /* RecordParticipantsOnConnect: everything, from the first
     * participant on; otherwise nothing until rules say so. */
    state->rules = rec->record_participants_on_connect ? hq_rules_include_all ()
                                                       : json_array_new ();
    state->rules_created = state->rules_updated = rec->created;
    store_rules (recs, state);
  }
  g_hash_table_replace (recs->states, state->room_sid, state);
}

/* Tracks or participants changed: the rules are applied again. */
static void
room_changed (HqRoom *room, gpointer data)
{
  HqRecordings *recs = data;
  RoomState *state = get_state (recs, room);

  if (state) {
    state->restart_blocked = FALSE;
    hq_recordings_sync_room (recs, state);
  }
}

static void
participant_changed (HqRoom *room, const HqParticipantRecord *p, gpointer data)
{
  room_changed (room, data);
}

static void
track_changed (HqRoom *room, const HqParticipantRecord *p,
    const HqTrackRecord *t, gpointer data)
{
  room_changed (room, data);
}

static void
room_completed (HqRoom *room, gpointer data)
{
  HqRecordings *recs = data;
  RoomState *state = get_state (recs, room);

  if (state == NULL)
    return;
  if (state->run)
    hq_recordings_run_stop (state->run);
  g_hash_table_remove (recs->states, state->room_sid);
}

/* HqRoomRecording.is_recorder. */
static gboolean
is_recorder (HqRoom *room, const HqTokenClaims *claims, gpointer data)
{
  RoomState *state = get_state (data, room);

  return state && state->run && state->run->jti && claims->jti
      && g_str_equal (claims->identity, HQ_RECORDER_IDENTITY)
      && hq_str_equal_const_time (claims->jti, state->run->jti);
}

static void
recorder_joined (HqRoom *room, const gchar *sid, gpointer data)
{
  HqRecordings *recs = data;
  RoomState *state = get_state (recs, room);

  if (state == NULL || state->run == NULL)
    return;
  g_free (state->run->recorder_sid);
  state->run->recorder_sid = g_strdup (sid);
  state->run->joined = TRUE;
  hq_recordings_log_run (state->run, HQ_LOG_INFO, "joined", sid);
  hq_recordings_sync_room (recs, state);
}

static void
recorder_left (HqRoom *room, gpointer data)
{
  RoomState *state = get_state (data, room);

  /* Without its connection it records nothing; it reconnects by itself
   * (hqroomsrc does) or gives up and exits, which settles the run. */
  if (state && state->run)
    g_clear_pointer (&state->run->recorder_sid, g_free);
}

JsonObject *
hq_recordings_get_rules (
    HqRecordings *recs, HqRoom *room, const gchar *room_sid)
{
  RoomState *state = room ? get_state (recs, room) : NULL;
  JsonObject *o = json_object_new ();
  g_autofree gchar *stored = NULL;
  g_autofree gchar *created = NULL, *updated = NULL;
  g_autoptr (JsonNode) node = NULL;
  JsonArray *rules = NULL;

  json_object_set_string_member (o, "room_sid", room_sid);
  if (state) {
    rules = json_array_ref (state->rules);
    created = hq_time_iso (state->rules_created);
    updated = hq_time_iso (state->rules_updated);
  } else if ((stored = hq_store_get_recording_rules (
                  hq_rooms_get_store (recs->rooms), room_sid, NULL))
      && (node = json_from_string (stored, NULL))
      && JSON_NODE_HOLDS_OBJECT (node)) {
    JsonObject *s = json_node_get_object (node);
    JsonNode *r = json_object_get_member (s, "rules");
    if (r && JSON_NODE_HOLDS_ARRAY (r))
      rules = json_array_ref (json_node_get_array (r));
    created =
        hq_time_iso (json_object_get_int_member_with_default (s, "created", 0));
    updated =
        hq_time_iso (json_object_get_int_member_with_default (s, "updated", 0));
  }
  json_object_set_array_member (o, "rules", rules ? rules : json_array_new ());
  hq_json_set_string_or_null (o, "date_created", created);
  hq_json_set_string_or_null (o, "date_updated", updated);
  return o;
}

gboolean
hq_recordings_set_rules (HqRecordings *recs, HqRoom *room, JsonArray *rules,
    const HqParticipantRecord *host, GError **error)
{
  const HqRoomRecord *rec = hq_room_get_record (room);
  RoomState *state = get_state (recs, room);
  g_autoptr (JsonArray) old = NULL;
  gint64 old_updated;

  if (state == NULL || hq_room_get_media (room) == NULL)
    return hq_room_invalid (error,
        "Room %s carries no media through the server (a %s room): it "
        "cannot be recorded.",
        rec->sid, rec->type);
  if (!hq_rules_check (rules, "Rules", recorded_kinds, error))
    return FALSE;
  old = state->rules;
  old_updated = state->rules_updated;
  state->rules = json_array_ref (rules);
  state->rules_updated = hq_now_ms ();
  if (!store_rules (recs, state)) {
    json_array_unref (state->rules);
    state->rules = g_steal_pointer (&old);
    state->rules_updated = old_updated;
    g_set_error (error, HQ_ROOM_ERROR, HQ_ROOM_ERROR_STORE,
        "The recording rules could not be stored; nothing changed.");
    return FALSE;
  }
  if (state->rules_by)
    json_object_unref (state->rules_by);
  state->rules_by = NULL;
  if (host) {
    state->rules_by = json_object_new ();
    json_object_set_string_member (state->rules_by, "sid", host->sid);
    json_object_set_string_member (state->rules_by, "identity", host->identity);
    json_object_set_string_member (
        state->rules_by, "name", host->name ? host->name : host->identity);
  }
  state->restart_blocked = FALSE;
  hq_recordings_sync_room (recs, state);
  return TRUE;
}

/* HqRoomRecording.set_rules: a host's recording_start or recording_stop. */
static JsonObject *
set_rules_by_host (HqRoom *room, JsonArray *rules,
    const HqParticipantRecord *host, gpointer data, GError **error)
{
  if (!hq_recordings_set_rules (data, room, rules, host, error))
    return NULL;
  return hq_recordings_get_rules (data, room, hq_room_get_record (room)->sid);
}

static const HqRoomObserver observer = {
  .room_started = room_started,
  .participant_joined = participant_changed,
  .participant_left = participant_changed,
  .track_published = track_changed,
  .track_unpublished = track_changed,
  .recorder_joined = recorder_joined,
  .recorder_left = recorder_left,
  .room_completed = room_completed,
};

static const HqRoomRecording recording = {
  .is_recorder = is_recorder,
  .state_json = state_json,
  .set_rules = set_rules_by_host,
};
