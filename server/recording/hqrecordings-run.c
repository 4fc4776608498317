/* One recorder run (see hqrecordings-private.h): the hq-record child and
 * what it prints, and, when it exits, settling every row it recorded from
 * the manifest (settle_row: a row becomes completed once its file is
 * there).  Also the paths and environment of the helper children, and the
 * recordings' REST representation and status callbacks. */
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

/* A recorder that dies sooner than this after its start is not restarted
 * until the room's tracks or rules change again (no crash loops). */
#define HQ_RECORDER_MIN_LIFETIME_MS 5000

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
    "TWILIO_API_KEY_SECRET", "TWILIO_API_SECRET", "HQ_PASSCODE",
    "HQ_AT_REST_KEYS", NULL };
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

void
hq_recordings_log_run (
    Run *run, HqLogLevel level, const gchar *what, const gchar *detail)
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

/* Stores @rec and, for @event (recording-started, -completed, -failed),
 * logs and announces it. */
void
hq_recordings_row_changed (
    HqRecordings *recs, HqRecordingRecord *rec, const gchar *event)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GHashTable) f =
      g_hash_table_new_full (g_str_hash, g_str_equal, NULL, g_free);
  JsonObject *line;

  rec->updated = hq_now_ms ();
  if (!hq_store_put_recording (hq_rooms_get_store (recs->rooms), rec, &error))
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
  hq_rooms_post_callback (recs->rooms, rec->room_sid, event, f);
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
    hq_recordings_row_changed (recs, rec, "recording-completed");
    /* The file is complete: sealed now, in the background
     * (docs/at-rest.md). */
    hq_at_rest_seal_later (
        hq_rooms_get_config (recs->rooms)->at_rest, rec->file);
  } else {
    g_free (rec->status);
    rec->status = g_strdup ("failed");
    hq_metrics_count (HQ_COUNTER_RECORDINGS_FAILED, 1);
    hq_recordings_row_changed (recs, rec, "recording-failed");
  }
}

/* Every row of @run still processing gets its final status. */
static void
settle_run (HqRecordings *recs, Run *run)
{
  g_autoptr (JsonArray) entries = read_manifest (run->dir);
  g_autoptr (HqRoomRecord) room = NULL;
  g_autofree gboolean *used = NULL;

  room =
      hq_store_get_room (hq_rooms_get_store (recs->rooms), run->room_sid, NULL);
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
void
hq_recordings_settle_orphans (HqRecordings *recs)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) rows =
      hq_store_list_recordings (hq_rooms_get_store (recs->rooms), NULL,
          "processing", G_MAXINT, 0, &error);
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
    g_autoptr (HqParticipantRecord) p =
        hq_store_get_participant (hq_rooms_get_store (recs->rooms),
            rec->room_sid, rec->participant_sid, NULL);
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
  hq_recordings_log_run (run, HQ_LOG_INFO, "output", line);
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
  hq_recordings_log_run (run, clean ? HQ_LOG_INFO : HQ_LOG_WARN, "exited", how);
  settle_run (recs, run);
  g_ptr_array_remove (recs->runs, run);
  if (state && state->run == run) {
    state->run = NULL;
    /* A run that failed before it ever joined the room would fail the
     * same way again (no plugins, a server it cannot reach), however long
     * a busy machine took to show it: not restarted.  One that joined and
     * then died young neither (no crash loops). */
    if (!clean && !run->stopping
        && (!run->joined
            || hq_now_ms () - run->started < HQ_RECORDER_MIN_LIFETIME_MS))
      state->restart_blocked = TRUE;
  }
  run->state = NULL;
  run_free (run);
  if (state && state->room && !state->restart_blocked)
    hq_recordings_sync_room (recs, state);
  else if (state && state->room)
    hq_recordings_announce (state);
}

void
hq_recordings_run_stop (Run *run)
{
  if (run->stopping || run->child == NULL)
    return;
  run->stopping = TRUE;
  hq_recordings_log_run (run, HQ_LOG_INFO, "stopping", NULL);
  g_subprocess_send_signal (run->child, SIGTERM);
}

Run *
hq_recordings_run_start (HqRecordings *recs, RoomState *state)
{
  HqConfig *config = hq_rooms_get_config (recs->rooms);
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
  hq_recordings_log_run (
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
