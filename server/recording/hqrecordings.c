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
 * When a child exits, for whatever reason, settle_run() reads the
 * manifest hqrecorder keeps next to the files (recording.json) and settles
 * every row of the run still `processing`: `completed` when its file is
 * there and not empty (hqrecorder's files stay playable after a crash),
 * `failed` otherwise.
 */
#include "hqrecordings.h"
#include "hqmetrics.h"
#include "hqroom-private.h"
#include "hqhttp.h"
#include "hqlog.h"
#include "hqrules.h"

#include <hq/hqprotocol.h>

#include <signal.h>
#include <string.h>
#include <glib/gstdio.h>
#include <gio/gio.h>
#include <hq/hqutil.h>

/* A recorder that dies sooner than this after its start is not restarted
 * until the room's tracks or rules change again (no crash loops). */
#define HQ_RECORDER_MIN_LIFETIME_MS 5000
/* How long a stopping server waits for its recorders to finish. */
#define HQ_RECORDER_STOP_TIMEOUT_MS 10000

typedef struct _RoomState RoomState;
typedef struct _Run Run;

typedef struct
{
  HqRecordingRecord *rec;
  gchar *identity; /* the publisher's, to find the row in the manifest */
  gint64 media_ms; /* wall clock of its first media, as the child said */
  gboolean media_exact; /* media_ms from the first packet ("media") */
} RunRow;

struct _Run
{
  HqRecordings *recordings;
  RoomState *state; /* NULL once the room state let go of the run */
  gchar *room_sid;
  gchar *session;
  gchar *dir;
  gchar *jti;
  GSubprocess *child; /* NULL for a run left by a previous process */
  GDataInputStream *out;
  GCancellable *cancel; /* the pending read of its output */
  gboolean stopping; /* we asked it to finish */
  gchar *recorder_sid; /* its hidden participant, once joined */
  GHashTable *open; /* track sid -> RunRow being recorded (borrowed) */
  GPtrArray *rows; /* RunRow, owned, in creation order */
  gint64 started;
};

struct _RoomState
{
  gchar *room_sid;
  HqRoom *room; /* NULL once the room ended */
  JsonArray *rules;
  gint64 rules_created, rules_updated;
  Run *run;
  gboolean restart_blocked; /* the last run died young */
  /* Who set the rules last: a host by signalling ({sid, identity, name}),
   * or NULL for REST and RecordParticipantsOnConnect. */
  JsonObject *rules_by;
  /* What the participants were last told: on or off, and the sorted sids
   * of the participants being recorded. */
  gboolean told_on;
  gchar *told_participants;
};

struct _HqRecordings
{
  HqRooms *rooms;
  gchar *dir;
  gchar *url; /* where the recorder joins */
  gchar *tls_certificate; /* the server's certificate file; NULL: http */
  gboolean closing; /* the server is stopping: no new runs */
  GHashTable *states; /* room sid -> RoomState */
  GPtrArray *runs; /* Run with a live child */
};

static void sync_room (HqRecordings *recs, RoomState *state);
static void announce (RoomState *state);

/* --- helpers --- */

gchar *
hq_helper_program_path (const gchar *name, const gchar *env)
{
  const gchar *v = g_getenv (env);
  g_autofree gchar *self = NULL;
  g_autofree gchar *dir = NULL;

  if (v && *v)
    return g_strdup (v);
  self = g_file_read_link ("/proc/self/exe", NULL);
  if (self == NULL)
    return g_strdup (name);
  dir = g_path_get_dirname (self);
  return g_build_filename (dir, name, NULL);
}

gchar **
hq_helper_environment (void)
{
  static const gchar *const secrets[] = { "HQ_API_KEY_SECRET",
    "TWILIO_API_KEY_SECRET", "TWILIO_API_SECRET", "HQ_PASSCODE", NULL };
  gchar **env = g_get_environ ();

  for (guint i = 0; secrets[i]; i++)
    env = g_environ_unsetenv (env, secrets[i]);
  return env;
}

static void
run_row_free (RunRow *row)
{
  hq_recording_record_free (row->rec);
  g_free (row->identity);
  g_free (row);
}

static void
run_free (Run *run)
{
  if (run->state && run->state->run == run)
    run->state->run = NULL;
  if (run->cancel)
    g_cancellable_cancel (run->cancel);
  g_clear_object (&run->cancel);
  g_clear_object (&run->out);
  g_clear_object (&run->child);
  g_hash_table_unref (run->open);
  g_ptr_array_unref (run->rows);
  g_free (run->room_sid);
  g_free (run->session);
  g_free (run->dir);
  g_free (run->jti);
  g_free (run->recorder_sid);
  g_free (run);
}

static Run *
run_new (HqRecordings *recs, const gchar *room_sid, const gchar *session)
{
  Run *run = g_new0 (Run, 1);

  run->recordings = recs;
  run->room_sid = g_strdup (room_sid);
  run->session = g_strdup (session);
  run->dir = g_build_filename (recs->dir, room_sid, session, NULL);
  run->open = g_hash_table_new (g_str_hash, g_str_equal);
  run->rows = g_ptr_array_new_with_free_func ((GDestroyNotify)run_row_free);
  return run;
}

static void
log_run (Run *run, HqLogLevel level, const gchar *what, const gchar *detail)
{
  JsonObject *line = hq_log_begin (level, "recorder");

  json_object_set_string_member (line, "room_sid", run->room_sid);
  json_object_set_string_member (line, "run", run->session);
  json_object_set_string_member (line, "what", what);
  if (detail)
    json_object_set_string_member (line, "detail", detail);
  hq_log_end (line);
}

/* --- REST representation and callbacks --- */

JsonObject *
hq_recording_to_json (const HqRecordingRecord *r, const gchar *base)
{
  JsonObject *o = json_object_new ();
  JsonObject *grouping = json_object_new ();
  JsonObject *links = json_object_new ();
  g_autofree gchar *created = hq_time_iso (r->created);
  g_autofree gchar *updated = hq_time_iso (r->updated);
  g_autofree gchar *url = g_strdup_printf ("%s/v1/Recordings/%s", base, r->sid);
  g_autofree gchar *media = g_strdup_printf ("%s/Media", url);

  json_object_set_string_member (o, "sid", r->sid);
  json_object_set_string_member (o, "status", r->status);
  json_object_set_string_member (o, "date_created", created);
  json_object_set_string_member (o, "date_updated", updated);
  json_object_set_string_member (o, "source_sid", r->track_sid);
  json_object_set_string_member (o, "type", r->type);
  json_object_set_string_member (o, "container_format", r->container);
  /* hqrooms' name for it before Twilio's; kept for existing readers. */
  json_object_set_string_member (o, "container", r->container);
  if (r->codec) {
    /* Twilio's enum is upper case: VP8, H264, OPUS, PCMU. */
    g_autofree gchar *codec = g_ascii_strup (r->codec, -1);
    json_object_set_string_member (o, "codec", codec);
  } else
    json_object_set_null_member (o, "codec");
  json_object_set_string_member (o, "room_sid", r->room_sid);
  json_object_set_null_member (o, "media_external_location");
  json_object_set_null_member (o, "status_callback");
  json_object_set_string_member (o, "status_callback_method", "POST");
  json_object_set_string_member (o, "track_name", r->track_name);
  json_object_set_int_member (o, "offset", r->offset);
  if (g_strcmp0 (r->status, "processing") == 0) {
    json_object_set_null_member (o, "duration");
    json_object_set_null_member (o, "size");
  } else {
    json_object_set_int_member (o, "duration", r->duration);
    json_object_set_int_member (o, "size", r->size);
  }
  json_object_set_string_member (grouping, "room_sid", r->room_sid);
  json_object_set_string_member (
      grouping, "participant_sid", r->participant_sid);
  json_object_set_object_member (o, "grouping_sids", grouping);
  json_object_set_string_member (o, "url", url);
  json_object_set_string_member (links, "media", media);
  json_object_set_object_member (o, "links", links);
  return o;
}

void
hq_recordings_post_callback (HqRecordings *recs, const gchar *room_sid,
    const gchar *event, GHashTable *fields)
{
  HqRoom *room = hq_rooms_lookup (recs->rooms, room_sid);
  g_autoptr (HqRoomRecord) stored = NULL;
  g_autoptr (GHashTable) f = NULL;
  HqRoomRecord *rec;
  GHashTableIter iter;
  gpointer key, value;

  if (room && g_strcmp0 (room->rec.sid, room_sid) == 0)
    rec = &room->rec;
  else if ((stored = hq_store_get_room (recs->rooms->store, room_sid, NULL)))
    rec = stored;
  else
    return;
  if (rec->status_callback == NULL)
    return;
  f = hq_room_callback_fields (recs->rooms, rec, event, hq_now_ms ());
  g_hash_table_iter_init (&iter, fields);
  while (g_hash_table_iter_next (&iter, &key, &value))
    g_hash_table_insert (f, key, g_strdup (value));
  hq_callbacks_post (recs->rooms->callbacks, rec->sid, rec->status_callback, f);
}

/* Stores @rec and, for @event (recording-started, -completed, -failed),
 * logs and announces it. */
static void
row_changed (HqRecordings *recs, HqRecordingRecord *rec, const gchar *event)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GHashTable) f =
      g_hash_table_new_full (g_str_hash, g_str_equal, NULL, g_free);
  JsonObject *line;

  rec->updated = hq_now_ms ();
  if (!hq_store_put_recording (recs->rooms->store, rec, &error))
    hq_log_message (HQ_LOG_ERROR, "store", "%s", error->message);
  line = hq_log_begin (
      g_str_equal (event, "recording-failed") ? HQ_LOG_WARN : HQ_LOG_INFO,
      "recording");
  json_object_set_string_member (line, "room_sid", rec->room_sid);
  json_object_set_string_member (line, "recording_sid", rec->sid);
  json_object_set_string_member (line, "track_sid", rec->track_sid);
  json_object_set_string_member (line, "what", event);
  hq_log_end (line);

  g_hash_table_insert (f, "RecordingSid", g_strdup (rec->sid));
  g_hash_table_insert (
      f, "RecordingUri", g_strdup_printf ("/v1/Recordings/%s", rec->sid));
  g_hash_table_insert (f, "RecordingStatus", g_strdup (rec->status));
  g_hash_table_insert (f, "SourceSid", g_strdup (rec->track_sid));
  g_hash_table_insert (f, "TrackName", g_strdup (rec->track_name));
  g_hash_table_insert (f, "ParticipantSid", g_strdup (rec->participant_sid));
  g_hash_table_insert (f, "Container", g_strdup (rec->container));
  g_hash_table_insert (f, "Type", g_strdup (rec->type));
  if (rec->codec)
    g_hash_table_insert (f, "Codec", g_ascii_strup (rec->codec, -1));
  g_hash_table_insert (
      f, "Offset", g_strdup_printf ("%" G_GINT64_FORMAT, rec->offset));
  if (g_str_equal (event, "recording-completed"))
    g_hash_table_insert (
        f, "MediaUri", g_strdup_printf ("/v1/Recordings/%s/Media", rec->sid));
  if (!g_str_equal (event, "recording-started")) {
    g_hash_table_insert (f, "RecordingDuration",
        g_strdup_printf ("%" G_GINT64_FORMAT, rec->duration));
    g_hash_table_insert (
        f, "RecordingSize", g_strdup_printf ("%" G_GINT64_FORMAT, rec->size));
  }
  hq_recordings_post_callback (recs, rec->room_sid, event, f);
}

/* --- the manifest --- */

static const gchar *
member_string (JsonObject *o, const gchar *const *names)
{
  for (guint i = 0; names[i]; i++) {
    JsonNode *n = json_object_get_member (o, names[i]);
    if (n && JSON_NODE_HOLDS_VALUE (n)
        && json_node_get_value_type (n) == G_TYPE_STRING)
      return json_node_get_string (n);
  }
  return NULL;
}

/* A time in the manifest, in ms: "<name>_ms" in ms, or <name> in seconds
 * (a number below 10^7) or nanoseconds (larger: GStreamer clock time). */
static gint64
member_ms (JsonObject *o, const gchar *name)
{
  g_autofree gchar *ms_name = g_strconcat (name, "_ms", NULL);
  JsonNode *n = json_object_get_member (o, ms_name);
  gdouble v;

  if (n && JSON_NODE_HOLDS_VALUE (n))
    return (gint64)json_node_get_double (n);
  n = json_object_get_member (o, name);
  if (n == NULL || !JSON_NODE_HOLDS_VALUE (n)
      || json_node_get_value_type (n) == G_TYPE_STRING)
    return -1;
  v = json_node_get_double (n);
  return v < 1e7 ? (gint64)(v * 1000) : (gint64)(v / 1e6);
}

/* Appends the track entries of @node ({"tracks": [...]} or a bare array)
 * to @out. */
static void
add_tracks (JsonArray *out, JsonNode *node)
{
  JsonArray *tracks = NULL;
  gint64 period_ms = 0;

  if (node && JSON_NODE_HOLDS_ARRAY (node))
    tracks = json_node_get_array (node);
  else if (node && JSON_NODE_HOLDS_OBJECT (node)) {
    JsonObject *o = json_node_get_object (node);
    JsonNode *t = json_object_get_member (o, "tracks");
    JsonNode *at = json_object_get_member (o, "started_at");
    if (t && JSON_NODE_HOLDS_ARRAY (t))
      tracks = json_node_get_array (t);
    if (at && JSON_NODE_HOLDS_VALUE (at)
        && json_node_get_value_type (at) == G_TYPE_STRING) {
      g_autoptr (GDateTime) when =
          g_date_time_new_from_iso8601 (json_node_get_string (at), NULL);
      if (when)
        period_ms = g_date_time_to_unix (when) * 1000
            + g_date_time_get_microsecond (when) / 1000;
    }
  }
  for (guint i = 0; tracks && i < json_array_get_length (tracks); i++) {
    JsonNode *copy = json_node_copy (json_array_get_element (tracks, i));
    /* A period's wall-clock start goes with each of its tracks: their
     * offsets count from it, whenever the recorder child started. */
    if (period_ms > 0 && JSON_NODE_HOLDS_OBJECT (copy))
      json_object_set_int_member (
          json_node_get_object (copy), "period_started_unix_ms", period_ms);
    json_array_add_element (out, copy);
  }
}

/* The per-track entries of the manifest in @dir, in the order hqrecorder
 * started them: {"recordings": [{"tracks": [...]}, ...]} (one element per
 * recording period), or {"tracks": [...]}, or a bare array.  NULL when
 * there is none (a recorder that died before it wrote one). */
static JsonArray *
read_manifest (const gchar *dir)
{
  g_autofree gchar *path = g_build_filename (dir, "recording.json", NULL);
  g_autoptr (JsonParser) parser = json_parser_new ();
  JsonNode *root, *periods;
  JsonArray *out;

  if (!json_parser_load_from_file (parser, path, NULL))
    return NULL;
  root = json_parser_get_root (parser);
  out = json_array_new ();
  periods = root && JSON_NODE_HOLDS_OBJECT (root)
      ? json_object_get_member (json_node_get_object (root), "recordings")
      : NULL;
  if (periods && JSON_NODE_HOLDS_ARRAY (periods)) {
    JsonArray *a = json_node_get_array (periods);
    for (guint i = 0; i < json_array_get_length (a); i++)
      add_tracks (out, json_array_get_element (a, i));
  } else {
    add_tracks (out, root);
  }
  return out;
}

static const gchar *const identity_names[] = { "participant_identity",
  "participant", "identity", NULL };
static const gchar *const track_names[] = { "track_name", "track", "name",
  NULL };
static const gchar *const sid_names[] = { "track_sid", NULL };
static const gchar *const file_names[] = { "file", "location", "path", NULL };
static const gchar *const codec_names[] = { "codec", NULL };

/* The first manifest entry not yet @used that records @row. */
static JsonObject *
find_entry (JsonArray *entries, gboolean *used, RunRow *row)
{
  for (guint i = 0; entries && i < json_array_get_length (entries); i++) {
    JsonNode *n = json_array_get_element (entries, i);
    JsonObject *e =
        JSON_NODE_HOLDS_OBJECT (n) ? json_node_get_object (n) : NULL;
    const gchar *sid, *identity, *name;
    if (e == NULL || used[i])
      continue;
    sid = member_string (e, sid_names);
    identity = member_string (e, identity_names);
    name = member_string (e, track_names);
    if (g_strcmp0 (sid, row->rec->track_sid) == 0
        || (sid == NULL && g_strcmp0 (identity, row->identity) == 0
            && g_strcmp0 (name, row->rec->track_name) == 0)) {
      used[i] = TRUE;
      return e;
    }
  }
  return NULL;
}

/* Settles @row from manifest entry @e (may be NULL). */
static void
settle_row (HqRecordings *recs, Run *run, RunRow *row, JsonObject *e,
    gint64 room_created)
{
  HqRecordingRecord *rec = row->rec;
  const gchar *file = e ? member_string (e, file_names) : NULL;
  const gchar *codec = e ? member_string (e, codec_names) : NULL;
  g_autofree gchar *path = NULL;
  GStatBuf st;
  gint64 ms;

  if (file)
    path = g_path_is_absolute (file) ? g_strdup (file)
                                     : g_build_filename (run->dir, file, NULL);
  if (path && g_stat (path, &st) == 0 && S_ISREG (st.st_mode)
      && st.st_size > 0) {
    g_free (rec->status);
    rec->status = g_strdup ("completed");
    hq_metrics_count (HQ_COUNTER_RECORDINGS_COMPLETED, 1);
    g_free (rec->file);
    rec->file = g_steal_pointer (&path);
    rec->size = st.st_size;
    if (g_str_has_suffix (rec->file, ".mka"))
      g_free (rec->container), rec->container = g_strdup ("mka");
    else if (g_str_has_suffix (rec->file, ".mkv"))
      g_free (rec->container), rec->container = g_strdup ("mkv");
    if (codec) {
      g_free (rec->codec);
      rec->codec = g_ascii_strdown (codec, -1);
    }
    ms = member_ms (e, "duration");
    rec->duration = ms > 0 ? (ms + 500) / 1000 : 0;
    ms = member_ms (e, "start_offset");
    if (ms < 0)
      ms = member_ms (e, "offset");
    /* From when the child saw the track's media (or, for a run a previous
     * server process left, the wall clock of the recorder's period), not
     * from when the server started the child. */
    if (row->media_ms > 0 && room_created > 0)
      rec->offset = row->media_ms - room_created;
    else if (ms >= 0 && room_created > 0 && e
        && json_object_has_member (e, "period_started_unix_ms"))
      rec->offset = json_object_get_int_member (e, "period_started_unix_ms")
          + ms - room_created;
    else if (ms >= 0 && room_created > 0)
      rec->offset = run->started - room_created + ms;
    row_changed (recs, rec, "recording-completed");
  } else {
    g_free (rec->status);
    rec->status = g_strdup ("failed");
    hq_metrics_count (HQ_COUNTER_RECORDINGS_FAILED, 1);
    row_changed (recs, rec, "recording-failed");
  }
}

/* Every row of @run still processing gets its final status. */
static void
settle_run (HqRecordings *recs, Run *run)
{
  g_autoptr (JsonArray) entries = read_manifest (run->dir);
  g_autoptr (HqRoomRecord) room = NULL;
  g_autofree gboolean *used = NULL;

  room = hq_store_get_room (recs->rooms->store, run->room_sid, NULL);
  used = g_new0 (gboolean, entries ? json_array_get_length (entries) + 1 : 1);
  for (guint i = 0; i < run->rows->len; i++) {
    RunRow *row = g_ptr_array_index (run->rows, i);
    JsonObject *e = entries ? find_entry (entries, used, row) : NULL;
    if (g_strcmp0 (row->rec->status, "processing") == 0)
      settle_row (recs, run, row, e, room ? room->created : 0);
  }
  g_hash_table_remove_all (run->open);
}

/* Rows a previous server process left processing: its recorders are gone
 * (they die with their connection), so settle them from what they left. */
static void
settle_orphans (HqRecordings *recs)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) rows = hq_store_list_recordings (
      recs->rooms->store, NULL, "processing", G_MAXINT, 0, &error);
  g_autoptr (GHashTable) runs = g_hash_table_new_full (
      g_str_hash, g_str_equal, g_free, (GDestroyNotify)run_free);

  if (rows == NULL) {
    hq_log_message (HQ_LOG_ERROR, "store", "%s", error->message);
    return;
  }
  for (guint i = 0; i < rows->len; i++) {
    HqRecordingRecord *rec = g_ptr_array_index (rows, i);
    g_autofree gchar *key =
        g_strdup_printf ("%s/%s", rec->room_sid, rec->session);
    Run *run = g_hash_table_lookup (runs, key);
    g_autoptr (HqParticipantRecord) p = hq_store_get_participant (
        recs->rooms->store, rec->room_sid, rec->participant_sid, NULL);
    RunRow *row = g_new0 (RunRow, 1);

    if (run == NULL) {
      run = run_new (recs, rec->room_sid, rec->session);
      g_hash_table_insert (runs, g_steal_pointer (&key), run);
    }
    row->rec = g_ptr_array_steal_index (rows, i--);
    row->identity = g_strdup (p ? p->identity : NULL);
    run->started = row->rec->created;
    g_ptr_array_add (run->rows, row);
  }
  {
    GHashTableIter iter;
    gpointer value;
    g_hash_table_iter_init (&iter, runs);
    while (g_hash_table_iter_next (&iter, NULL, &value))
      settle_run (recs, value);
  }
}

/* --- runs --- */

/* The child's lines tell when a track's media reached it, which is where
 * its recording starts, however long the child took to start: "media"
 * (when the first packet arrived, measured on the packet) wins over
 * "track" (when the track's pad came, later by the jitter buffer's
 * latency and the child's own pace). */
static void
note_track_start (Run *run, const gchar *line)
{
  g_autoptr (JsonNode) node = json_from_string (line, NULL);
  JsonObject *o;
  const gchar *sid, *event;
  RunRow *row;
  gint64 ms;

  if (node == NULL || !JSON_NODE_HOLDS_OBJECT (node))
    return;
  o = json_node_get_object (node);
  event = json_object_get_string_member_with_default (o, "event", "");
  if (!g_str_equal (event, "track") && !g_str_equal (event, "media"))
    return;
  sid = json_object_get_string_member_with_default (o, "track_sid", NULL);
  row = sid ? g_hash_table_lookup (run->open, sid) : NULL;
  ms = json_object_get_int_member_with_default (o, "unix_ms", 0);
  if (row == NULL || ms <= 0 || row->media_exact)
    return;
  row->media_ms = ms;
  row->media_exact = g_str_equal (event, "media");
}

static void
read_line_cb (GObject *source, GAsyncResult *res, gpointer data)
{
  Run *run = data;
  g_autoptr (GError) error = NULL;
  g_autofree gchar *line = g_data_input_stream_read_line_finish (
      G_DATA_INPUT_STREAM (source), res, NULL, &error);

  /* Cancelled: @run is gone.  End of output: the child is exiting, and
   * run_exited frees @run. */
  if (line == NULL)
    return;
  log_run (run, HQ_LOG_INFO, "output", line);
  note_track_start (run, line);
  g_data_input_stream_read_line_async (
      run->out, G_PRIORITY_DEFAULT, run->cancel, read_line_cb, run);
}

static void
run_exited (GObject *source, GAsyncResult *res, gpointer data)
{
  Run *run = data;
  HqRecordings *recs = run->recordings;
  GSubprocess *child = G_SUBPROCESS (source);
  g_autofree gchar *how = NULL;
  RoomState *state = run->state;
  gboolean clean;

  g_subprocess_wait_finish (child, res, NULL);
  clean = g_subprocess_get_if_exited (child)
      && g_subprocess_get_exit_status (child) == 0;
  if (g_subprocess_get_if_signaled (child))
    how = g_strdup_printf (
        "killed by signal %d", g_subprocess_get_term_sig (child));
  else
    how = g_strdup_printf (
        "exited with status %d", g_subprocess_get_exit_status (child));
  log_run (run, clean ? HQ_LOG_INFO : HQ_LOG_WARN, "exited", how);
  settle_run (recs, run);
  g_ptr_array_remove (recs->runs, run);
  if (state && state->run == run) {
    state->run = NULL;
    if (!clean && !run->stopping
        && hq_now_ms () - run->started < HQ_RECORDER_MIN_LIFETIME_MS)
      state->restart_blocked = TRUE;
  }
  run->state = NULL;
  run_free (run);
  if (state && state->room && !state->restart_blocked)
    sync_room (recs, state);
  else if (state && state->room)
    announce (state);
}

static void
run_stop (Run *run)
{
  if (run->stopping || run->child == NULL)
    return;
  run->stopping = TRUE;
  log_run (run, HQ_LOG_INFO, "stopping", NULL);
  g_subprocess_send_signal (run->child, SIGTERM);
}

static Run *
run_start (HqRecordings *recs, RoomState *state)
{
  HqConfig *config = recs->rooms->config;
  HqTokenGrant grant = { 0 };
  g_autoptr (GError) error = NULL;
  g_autofree gchar *token = NULL;
  g_autofree gchar *program = NULL;
  g_autofree gchar *session = NULL;
  g_autoptr (HqTokenClaims) claims = NULL;
  g_autoptr (GSubprocessLauncher) launcher = NULL;
  g_auto (GStrv) env = NULL;
  Run *run;

  grant.identity = HQ_RECORDER_IDENTITY;
  grant.room = state->room_sid;
  grant.role = HQ_ROLE_GUEST;
  grant.ttl = HQ_TOKEN_MAX_LIFETIME;
  token = hq_token_mint (config->key_sid, config->key_secret,
      config->account_sid, &grant, 0, &error);
  if (token)
    claims = hq_token_verify (config->keyring, token, NULL, 0, &error);
  if (claims == NULL) {
    hq_log_message (
        HQ_LOG_ERROR, "recorder", "no credential: %s", error->message);
    return NULL;
  }
  session = g_strdup_printf ("%" G_GINT64_FORMAT, g_get_real_time ());
  run = run_new (recs, state->room_sid, session);
  run->state = state;
  run->jti = g_strdup (claims->jti);
  run->started = hq_now_ms ();
  if (g_mkdir_with_parents (run->dir, 0700) != 0) {
    hq_log_message (HQ_LOG_ERROR, "recorder", "cannot create %s: %s", run->dir,
        g_strerror (errno));
    run_free (run);
    return NULL;
  }
  program = hq_helper_program_path ("hq-record", "HQ_RECORD_BIN");
  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE);
  env = hq_helper_environment ();
  env = g_environ_setenv (env, "HQ_ACCESS_TOKEN", token, TRUE);
  /* Over TLS the child joins at the listen address, which the
   * certificate need not name: it accepts exactly the certificate in
   * the server's file, read again at each connection (after a SIGHUP
   * swap, the new one). */
  if (recs->tls_certificate)
    env = g_environ_setenv (
        env, "HQ_TLS_PINNED_CERTIFICATE", recs->tls_certificate, TRUE);
  g_subprocess_launcher_set_environ (launcher, env);
  run->child =
      g_subprocess_launcher_spawn (launcher, &error, program, "--server",
          recs->url, "--room", state->room_sid, "--location", run->dir, NULL);
  if (run->child == NULL) {
    hq_log_message (HQ_LOG_ERROR, "recorder", "cannot start %s: %s", program,
        error->message);
    run_free (run);
    state->restart_blocked = TRUE;
    return NULL;
  }
  log_run (
      run, HQ_LOG_INFO, "started", g_subprocess_get_identifier (run->child));
  run->out =
      g_data_input_stream_new (g_subprocess_get_stdout_pipe (run->child));
  run->cancel = g_cancellable_new ();
  g_data_input_stream_read_line_async (
      run->out, G_PRIORITY_DEFAULT, run->cancel, read_line_cb, run);
  g_subprocess_wait_async (run->child, NULL, run_exited, run);
  g_ptr_array_add (recs->runs, run);
  return run;
}

/* --- rules --- */

/* What a recording rule's "kind" may name: the recorder takes no data. */
static const gchar *const recorded_kinds[] = { "audio", "video", NULL };

/* --- deciding --- */

typedef struct
{
  HqParticipant *p;
  HqTrackRecord *t;
} Selected;

static GArray *
selection (RoomState *state)
{
  GArray *out = g_array_new (FALSE, FALSE, sizeof (Selected));
  HqRoom *room = state->room;

  for (guint i = 0; room && i < room->participants->len; i++) {
    HqParticipant *p = g_ptr_array_index (room->participants, i);
    if (p->waiting || p->peer == NULL)
      continue;
    for (guint j = 0; j < p->tracks->len; j++) {
      HqTrackRecord *t = g_ptr_array_index (p->tracks, j);
      Selected s = { p, t };
      if (t->published && !g_str_equal (t->kind, "data")
          && hq_rules_select (state->rules, t->kind, p->rec.identity, t->name))
        g_array_append_val (out, s);
    }
  }
  return out;
}

static void
open_row (HqRecordings *recs, Run *run, HqRoom *room, const Selected *s)
{
  RunRow *row = g_new0 (RunRow, 1);
  HqRecordingRecord *rec = g_new0 (HqRecordingRecord, 1);
  gboolean audio = g_str_equal (s->t->kind, "audio");

  rec->sid = hq_sid_new ("RT");
  rec->room_sid = g_strdup (room->rec.sid);
  rec->participant_sid = g_strdup (s->p->rec.sid);
  rec->track_sid = g_strdup (s->t->sid);
  rec->track_name = g_strdup (s->t->name);
  rec->type = g_strdup (s->t->kind);
  rec->status = g_strdup ("processing");
  hq_metrics_count (HQ_COUNTER_RECORDINGS_STARTED, 1);
  rec->container = g_strdup (audio ? "mka" : "mkv");
  rec->session = g_strdup (run->session);
  rec->created = hq_now_ms ();
  rec->offset = rec->created - room->rec.created;
  row->rec = rec;
  row->identity = g_strdup (s->p->rec.identity);
  g_ptr_array_add (run->rows, row);
  g_hash_table_insert (run->open, rec->track_sid, row);
  row_changed (recs, rec, "recording-started");
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

  if (room == NULL || room->media == NULL || recs->closing)
    return;
  sel = selection (state);
  if (sel->len == 0) {
    if (run)
      run_stop (run);
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
    state->run = run_start (recs, state);
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
  hq_sfu_room_set_selection (
      room->media, run->recorder_sid, (const gchar *const *)sids->pdata);
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
    HqParticipant *p =
        hq_room_find_participant (state->room, g_ptr_array_index (sids, i));
    JsonObject *o;
    if (p == NULL)
      continue;
    o = json_object_new ();
    json_object_set_string_member (o, "sid", p->rec.sid);
    json_object_set_string_member (o, "identity", p->rec.identity);
    json_object_set_string_member (
        o, "name", p->rec.name ? p->rec.name : p->rec.identity);
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

JsonNode *
hq_recordings_state_json (HqRecordings *recs, HqRoom *room)
{
  RoomState *state = g_hash_table_lookup (recs->states, room->rec.sid);
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
static void
announce (RoomState *state)
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

static void
sync_room (HqRecordings *recs, RoomState *state)
{
  sync_recorder (recs, state);
  if (state->room)
    announce (state);
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

HqRecordings *
hq_recordings_new (HqRooms *rooms)
{
  HqRecordings *recs = g_new0 (HqRecordings, 1);

  recs->rooms = rooms;
  recs->dir = g_build_filename (rooms->config->data_dir, "recordings", NULL);
  recs->states = g_hash_table_new_full (
      g_str_hash, g_str_equal, NULL, (GDestroyNotify)state_free);
  recs->runs = g_ptr_array_new ();
  settle_orphans (recs);
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
    run_stop (g_ptr_array_index (recs->runs, i));
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
  g_hash_table_destroy (recs->states);
  g_ptr_array_unref (recs->runs);
  g_free (recs->url);
  g_free (recs->tls_certificate);
  g_free (recs->dir);
  g_free (recs);
}

const gchar *
hq_recordings_get_dir (HqRecordings *recs)
{
  return recs->dir;
}

static RoomState *
get_state (HqRecordings *recs, HqRoom *room)
{
  return g_hash_table_lookup (recs->states, room->rec.sid);
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
          recs->rooms->store, state->room_sid, text, &error))
    return TRUE;
  hq_log_message (HQ_LOG_ERROR, "store", "%s", error->message);
  return FALSE;
}

void
hq_recordings_room_started (HqRecordings *recs, HqRoom *room)
{
  RoomState *state = g_new0 (RoomState, 1);
  g_autoptr (GError) error = NULL;
  g_autofree gchar *stored = NULL;

  state->room_sid = g_strdup (room->rec.sid);
  state->room = room;
  stored =
      hq_store_get_recording_rules (recs->rooms->store, room->rec.sid, &error);
  if (stored) {
    g_autoptr (JsonNode) node = json_from_string (stored, NULL);
    JsonObject *o = node && JSON_NODE_HOLDS_OBJECT (node)
        ? json_node_get_object (node)
        : NULL;
    JsonNode *rules = o ? json_object_get_member (o, "rules") : NULL;
    if (rules && JSON_NODE_HOLDS_ARRAY (rules))
      state->rules = json_array_ref (json_node_get_array (rules));
    state->rules_created = o ? json_object_get_int_member_with_default (
                               o, "created", room->rec.created)
                             : room->rec.created;
    state->rules_updated = o ? json_object_get_int_member_with_default (
                               o, "updated", room->rec.created)
                             : room->rec.created;
  }
  if (state->rules == NULL) {
    /* RecordParticipantsOnConnect: everything, from the first
     * participant on; otherwise nothing until rules say so. */
    state->rules = room->rec.record_participants_on_connect
        ? hq_rules_include_all ()
        : json_array_new ();
    state->rules_created = state->rules_updated = room->rec.created;
    store_rules (recs, state);
  }
  g_hash_table_replace (recs->states, state->room_sid, state);
}

void
hq_recordings_room_changed (HqRecordings *recs, HqRoom *room)
{
  RoomState *state = get_state (recs, room);

  if (state) {
    state->restart_blocked = FALSE;
    sync_room (recs, state);
  }
}

void
hq_recordings_room_ended (HqRecordings *recs, HqRoom *room)
{
  RoomState *state = get_state (recs, room);

  if (state == NULL)
    return;
  if (state->run)
    run_stop (state->run);
  g_hash_table_remove (recs->states, room->rec.sid);
}

gboolean
hq_recordings_is_recorder (
    HqRecordings *recs, HqRoom *room, const HqTokenClaims *claims)
{
  RoomState *state = get_state (recs, room);

  return state && state->run && state->run->jti && claims->jti
      && g_str_equal (claims->identity, HQ_RECORDER_IDENTITY)
      && hq_str_equal_const_time (claims->jti, state->run->jti);
}

void
hq_recordings_recorder_joined (
    HqRecordings *recs, HqRoom *room, const gchar *sid)
{
  RoomState *state = get_state (recs, room);

  if (state == NULL || state->run == NULL)
    return;
  g_free (state->run->recorder_sid);
  state->run->recorder_sid = g_strdup (sid);
  log_run (state->run, HQ_LOG_INFO, "joined", sid);
  sync_room (recs, state);
}

void
hq_recordings_recorder_left (HqRecordings *recs, HqRoom *room)
{
  RoomState *state = get_state (recs, room);

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
                  recs->rooms->store, room_sid, NULL))
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
    HqParticipant *host, GError **error)
{
  RoomState *state = get_state (recs, room);
  g_autoptr (JsonArray) old = NULL;
  gint64 old_updated;

  if (state == NULL || room->media == NULL)
    return hq_room_invalid (error,
        "Room %s carries no media through the server (a %s room): it "
        "cannot be recorded.",
        room->rec.sid, room->rec.type);
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
    json_object_set_string_member (state->rules_by, "sid", host->rec.sid);
    json_object_set_string_member (
        state->rules_by, "identity", host->rec.identity);
    json_object_set_string_member (state->rules_by, "name",
        host->rec.name ? host->rec.name : host->rec.identity);
  }
  state->restart_blocked = FALSE;
  sync_room (recs, state);
  return TRUE;
}
