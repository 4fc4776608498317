/* Composition jobs; see hqcompositions.h and docs/recordings.md.
 *
 * A FIFO of composition sids, one hq-compose child at a time.  Picking the
 * inputs happens here, when a job starts: the room's completed recordings,
 * audio by AudioSources/AudioSourcesExcluded and video by the layout's
 * video_sources/video_sources_excluded, each pattern matched (with `*`
 * wildcards) against the track name, the track sid and the recording sid.
 * Each input goes to the child as `--audio|--video FILE@OFFSET_MS`, the
 * offset relative to the earliest input, so the tracks line up as they
 * happened in the room.
 */
#include "hqcompositions.h"
#include "hqmetrics.h"
#include "hqrecordings.h"
#include "hqhttp.h"
#include "hqlog.h"

#include <string.h>
#include <glib/gstdio.h>
#include <gio/gio.h>
#include <hq/hqlayout.h>
#include <hq/hqutil.h>

#define HQ_COMPOSITION_MAX_PIXELS 921600

struct _HqCompositions
{
  HqRooms *rooms;
  gchar *dir;
  GQueue queue; /* sids (owned) waiting */
  gchar *running; /* the sid being composed, or NULL */
  GSubprocess *child;
  GDataInputStream *out;
  GCancellable *cancel;
  gint64 duration_ms; /* what the child reported */
  /* A job ends once the child has exited and its output has been read to
   * the end (its last line is the duration), in either order. */
  gboolean exited, output_done, ok;
  gchar *why;
  gboolean freeing;
  GPtrArray *feeds; /* threads decrypting inputs into the child's pipes */
};

static void next_job (HqCompositions *comps);
static JsonArray *array_member (JsonObject *o, const gchar *name);

JsonObject *
hq_composition_to_json (const HqCompositionRecord *c, const gchar *base)
{
  JsonObject *o = json_object_new ();
  JsonObject *links = json_object_new ();
  g_autofree gchar *created = hq_time_iso (c->created);
  g_autofree gchar *updated = hq_time_iso (c->updated);
  g_autofree gchar *url =
      g_strdup_printf ("%s/v1/Compositions/%s", base, c->sid);
  g_autofree gchar *media = g_strdup_printf ("%s/Media", url);
  JsonNode *audio = json_from_string (c->audio_sources, NULL);
  JsonNode *layout = json_from_string (c->video_layout, NULL);

  json_object_set_string_member (o, "sid", c->sid);
  json_object_set_string_member (o, "room_sid", c->room_sid);
  json_object_set_string_member (o, "status", c->status);
  json_object_set_string_member (o, "date_created", created);
  json_object_set_string_member (o, "date_updated", updated);
  if (g_strcmp0 (c->status, "completed") == 0)
    json_object_set_string_member (o, "date_completed", updated);
  else
    json_object_set_null_member (o, "date_completed");
  /* Stored as {"include": [...], "exclude": [...]}; Twilio shows the two
   * lists as audio_sources and audio_sources_excluded. */
  {
    JsonObject *stored = audio && JSON_NODE_HOLDS_OBJECT (audio)
        ? json_node_get_object (audio)
        : NULL;
    JsonArray *inc = array_member (stored, "include");
    JsonArray *exc = array_member (stored, "exclude");
    json_object_set_array_member (
        o, "audio_sources", inc ? json_array_ref (inc) : json_array_new ());
    json_object_set_array_member (o, "audio_sources_excluded",
        exc ? json_array_ref (exc) : json_array_new ());
    if (audio)
      json_node_unref (audio);
  }
  json_object_set_boolean_member (o, "trim", TRUE);
  json_object_set_null_member (o, "bitrate");
  json_object_set_null_member (o, "media_external_location");
  json_object_set_null_member (o, "date_deleted");
  json_object_set_string_member (o, "status_callback_method", "POST");
  json_object_set_member (o, "video_layout",
      layout ? layout
             : json_node_init_object (json_node_alloc (), json_object_new ()));
  json_object_set_string_member (o, "resolution", c->resolution);
  json_object_set_string_member (o, "format", c->format);
  json_object_set_int_member (o, "duration", c->duration);
  json_object_set_int_member (o, "size", c->size);
  hq_json_set_string_or_null (o, "status_callback", c->status_callback);
  hq_json_set_string_or_null (o, "error", c->error);
  json_object_set_string_member (o, "url", url);
  json_object_set_string_member (links, "media", media);
  json_object_set_object_member (o, "links", links);
  return o;
}

/* Stores @c and sends @event to its status callback. */
static void
composition_changed (
    HqCompositions *comps, HqCompositionRecord *c, const gchar *event)
{
  g_autoptr (GError) error = NULL;
  JsonObject *line;

  c->updated = hq_now_ms ();
  if (!hq_store_put_composition (hq_rooms_get_store (comps->rooms), c, &error))
    hq_log_message (HQ_LOG_ERROR, "store", "%s", error->message);
  line = hq_log_begin (
      g_str_equal (event, "composition-failed") ? HQ_LOG_WARN : HQ_LOG_INFO,
      "composition");
  json_object_set_string_member (line, "composition_sid", c->sid);
  json_object_set_string_member (line, "room_sid", c->room_sid);
  json_object_set_string_member (line, "what", event);
  if (c->error)
    json_object_set_string_member (line, "error", c->error);
  hq_log_end (line);
  if (c->status_callback) {
    g_autoptr (GHashTable) f =
        g_hash_table_new_full (g_str_hash, g_str_equal, NULL, g_free);
    g_hash_table_insert (f, "AccountSid",
        g_strdup (hq_rooms_get_config (comps->rooms)->account_sid));
    g_hash_table_insert (f, "CompositionSid", g_strdup (c->sid));
    g_hash_table_insert (f, "RoomSid", g_strdup (c->room_sid));
    g_hash_table_insert (f, "StatusCallbackEvent", g_strdup (event));
    g_hash_table_insert (f, "Timestamp", hq_time_iso (c->updated));
    g_hash_table_insert (
        f, "CompositionUri", g_strdup_printf ("/v1/Compositions/%s", c->sid));
    if (g_str_equal (c->status, "completed")) {
      g_hash_table_insert (
          f, "MediaUri", g_strdup_printf ("/v1/Compositions/%s/Media", c->sid));
      g_hash_table_insert (
          f, "Duration", g_strdup_printf ("%" G_GINT64_FORMAT, c->duration));
      g_hash_table_insert (
          f, "Size", g_strdup_printf ("%" G_GINT64_FORMAT, c->size));
    }
    if (c->error)
      g_hash_table_insert (f, "ErrorMessage", g_strdup (c->error));
    hq_callbacks_post (
        hq_rooms_get_callbacks (comps->rooms), c->sid, c->status_callback, f);
  }
}

/* --- choosing inputs --- */

static gboolean
matches_any (JsonArray *patterns, const HqRecordingRecord *r)
{
  for (guint i = 0; patterns && i < json_array_get_length (patterns); i++) {
    const gchar *p = json_array_get_string_element (patterns, i);
    if (p
        && (g_pattern_match_simple (p, r->track_name)
            || g_pattern_match_simple (p, r->track_sid)
            || g_pattern_match_simple (p, r->sid)))
      return TRUE;
  }
  return FALSE;
}

static JsonArray *
array_member (JsonObject *o, const gchar *name)
{
  JsonNode *n = o ? json_object_get_member (o, name) : NULL;

  return n && JSON_NODE_HOLDS_ARRAY (n) ? json_node_get_array (n) : NULL;
}

/* Whether some region of @layout takes video recording @r. */
static gboolean
layout_takes (const HqLayout *layout, const HqRecordingRecord *r)
{
  HqLayoutSource source = { { r->track_name, r->track_sid, r->sid } };

  return layout != NULL && hq_layout_takes (layout, &source);
}

/* hq-compose's --video-names for @r: what the layout's patterns match. */
static void
add_video_names (GPtrArray *argv, const HqRecordingRecord *r)
{
  g_autoptr (JsonArray) names = json_array_new ();
  g_autoptr (JsonNode) node = json_node_new (JSON_NODE_ARRAY);

  json_array_add_string_element (names, r->track_name ? r->track_name : "");
  json_array_add_string_element (names, r->track_sid ? r->track_sid : "");
  json_array_add_string_element (names, r->sid);
  json_node_set_array (node, names);
  g_ptr_array_add (argv, g_strdup ("--video-names"));
  g_ptr_array_add (argv, json_to_string (node, FALSE));
}

/* The child's arguments for job @c: FALSE with a reason when no recording
 * is selected. */
static gboolean
job_argv (
    HqCompositions *comps, HqCompositionRecord *c, GPtrArray *argv, gchar **why)
{
  g_autoptr (GPtrArray) rows =
      hq_store_list_recordings (hq_rooms_get_store (comps->rooms), c->room_sid,
          "completed", G_MAXINT, 0, NULL);
  g_autoptr (JsonNode) audio_node = json_from_string (c->audio_sources, NULL);
  g_autoptr (HqLayout) layout =
      c->video_layout ? hq_layout_parse (c->video_layout, NULL) : NULL;
  JsonObject *audio = audio_node && JSON_NODE_HOLDS_OBJECT (audio_node)
      ? json_node_get_object (audio_node)
      : NULL;
  g_autoptr (GPtrArray) picked = g_ptr_array_new ();
  gint64 first = G_MAXINT64;

  for (guint i = 0; rows && i < rows->len; i++) {
    HqRecordingRecord *r = g_ptr_array_index (rows, i);
    gboolean take = g_str_equal (r->type, "audio")
        ? matches_any (array_member (audio, "include"), r)
            && !matches_any (array_member (audio, "exclude"), r)
        : layout_takes (layout, r);
    if (take && r->file) {
      g_ptr_array_add (picked, r);
      first = MIN (first, r->offset);
    }
  }
  if (picked->len == 0) {
    *why = g_strdup ("No completed recording of the room matches the "
                     "audio sources or the video layout.");
    return FALSE;
  }
  if (layout != NULL) {
    g_ptr_array_add (argv, g_strdup ("--layout"));
    g_ptr_array_add (argv, g_strdup (c->video_layout));
  }
  for (guint i = 0; i < picked->len; i++) {
    HqRecordingRecord *r = g_ptr_array_index (picked, i);
    g_ptr_array_add (argv,
        g_strdup (g_str_equal (r->type, "audio") ? "--audio" : "--video"));
    g_ptr_array_add (argv,
        g_strdup_printf ("%s@%" G_GINT64_FORMAT, r->file, r->offset - first));
    if (g_str_equal (r->type, "video"))
      add_video_names (argv, r);
  }
  return TRUE;
}

/* --- running jobs --- */

static void
job_finished (HqCompositions *comps, gboolean ok, const gchar *why)
{
  g_autoptr (HqCompositionRecord) c = hq_store_get_composition (
      hq_rooms_get_store (comps->rooms), comps->running, NULL);

  if (c) {
    g_autofree gchar *path = g_strdup (c->file);
    GStatBuf st;
    if (ok && path && g_stat (path, &st) == 0 && st.st_size > 0) {
      g_free (c->status);
      c->status = g_strdup ("completed");
      hq_metrics_count (HQ_COUNTER_COMPOSITIONS_COMPLETED, 1);
      c->size = st.st_size;
      c->duration = (comps->duration_ms + 500) / 1000;
      composition_changed (comps, c, "composition-available");
      /* Complete: sealed now, in the background (docs/at-rest.md). */
      hq_at_rest_seal_later (hq_rooms_get_config (comps->rooms)->at_rest, path);
    } else {
      g_free (c->status);
      c->status = g_strdup ("failed");
      hq_metrics_count (HQ_COUNTER_COMPOSITIONS_FAILED, 1);
      g_free (c->error);
      c->error = g_strdup (why ? why : "the composer produced no file");
      if (path)
        g_unlink (path);
      composition_changed (comps, c, "composition-failed");
    }
  }
  g_clear_pointer (&comps->running, g_free);
}

static void job_done (HqCompositions *comps);

static void
child_line_cb (GObject *source, GAsyncResult *res, gpointer data)
{
  HqCompositions *comps = data;
  g_autoptr (GError) error = NULL;
  g_autofree gchar *line = g_data_input_stream_read_line_finish (
      G_DATA_INPUT_STREAM (source), res, NULL, &error);

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return; /* comps may be gone */
  if (line == NULL) {
    comps->output_done = TRUE;
    job_done (comps);
    return;
  }
  if (g_str_has_prefix (line, "duration_ms="))
    comps->duration_ms = g_ascii_strtoll (line + 12, NULL, 10);
  else
    hq_log_message (HQ_LOG_INFO, "composition", "%s: %s", comps->running, line);
  g_data_input_stream_read_line_async (
      comps->out, G_PRIORITY_DEFAULT, comps->cancel, child_line_cb, comps);
}

static void
child_exited (GObject *source, GAsyncResult *res, gpointer data)
{
  HqCompositions *comps = data;
  GSubprocess *child = G_SUBPROCESS (source);
  g_autofree gchar *why = NULL;
  gboolean ok;

  g_subprocess_wait_finish (child, res, NULL);
  hq_at_rest_feeds_join (comps->feeds);
  ok = g_subprocess_get_if_exited (child)
      && g_subprocess_get_exit_status (child) == 0;
  if (g_subprocess_get_if_signaled (child))
    why = g_strdup_printf ("the composer was killed by signal %d",
        g_subprocess_get_term_sig (child));
  else if (!ok)
    why = g_strdup_printf ("the composer exited with status %d (see the "
                           "server log)",
        g_subprocess_get_exit_status (child));
  g_clear_object (&comps->child);
  if (comps->freeing) {
    /* Shutting down: the job runs again at the next start. */
    g_cancellable_cancel (comps->cancel);
    g_clear_object (&comps->cancel);
    g_clear_object (&comps->out);
    g_clear_pointer (&comps->running, g_free);
    return;
  }
  comps->exited = TRUE;
  comps->ok = ok;
  comps->why = g_steal_pointer (&why);
  job_done (comps);
}

static void
job_done (HqCompositions *comps)
{
  g_autofree gchar *why = NULL;

  if (!comps->exited || !comps->output_done)
    return;
  g_clear_object (&comps->cancel);
  g_clear_object (&comps->out);
  why = g_steal_pointer (&comps->why);
  job_finished (comps, comps->ok, why);
  next_job (comps);
}

static void
next_job (HqCompositions *comps)
{
  g_autoptr (HqCompositionRecord) c = NULL;
  g_autoptr (GPtrArray) argv = NULL;
  g_autoptr (GSubprocessLauncher) launcher = NULL;
  g_autoptr (GError) error = NULL;
  g_auto (GStrv) env = NULL;
  g_autofree gchar *why = NULL;

  while (comps->running == NULL && !g_queue_is_empty (&comps->queue)) {
    comps->running = g_queue_pop_head (&comps->queue);
    c = hq_store_get_composition (
        hq_rooms_get_store (comps->rooms), comps->running, NULL);
    if (c == NULL) {
      g_clear_pointer (&comps->running, g_free);
      continue;
    }
    g_free (c->status);
    c->status = g_strdup ("processing");
    hq_metrics_count (HQ_COUNTER_COMPOSITIONS_STARTED, 1);
    g_free (c->file);
    c->file = g_strdup_printf ("%s/%s.%s", comps->dir, c->sid, c->format);
    composition_changed (comps, c, "composition-started");
    argv = g_ptr_array_new_with_free_func (g_free);
    g_ptr_array_add (
        argv, hq_helper_program_path ("hq-compose", "HQ_COMPOSE_BIN"));
    g_ptr_array_add (argv, g_strdup ("--output"));
    g_ptr_array_add (argv, g_strdup (c->file));
    g_ptr_array_add (argv, g_strdup ("--format"));
    g_ptr_array_add (argv, g_strdup (c->format));
    g_ptr_array_add (argv, g_strdup ("--resolution"));
    g_ptr_array_add (argv, g_strdup (c->resolution));
    if (!job_argv (comps, c, argv, &why)) {
      job_finished (comps, FALSE, why);
      g_clear_pointer (&why, g_free);
      g_clear_pointer (&argv, g_ptr_array_unref);
      g_clear_pointer (&c, hq_composition_record_free);
      continue;
    }
    g_ptr_array_add (argv, NULL);
    g_mkdir_with_parents (comps->dir, 0700);
    launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE);
    env = hq_helper_environment ();
    g_subprocess_launcher_set_environ (launcher, env);
    comps->duration_ms = 0;
    comps->exited = comps->output_done = FALSE;
    /* The inputs go to the child as descriptors, decrypted when sealed
     * (docs/at-rest.md). */
    if (hq_at_rest_feed_inputs (hq_rooms_get_config (comps->rooms)->at_rest,
            launcher, argv, comps->feeds, &why))
      comps->child = g_subprocess_launcher_spawnv (
          launcher, (const gchar *const *)argv->pdata, &error);
    if (comps->child == NULL) {
      g_clear_object (&launcher);
      hq_at_rest_feeds_join (comps->feeds);
      job_finished (comps, FALSE, why ? why : error->message);
      return next_job (comps);
    }
    comps->out =
        g_data_input_stream_new (g_subprocess_get_stdout_pipe (comps->child));
    comps->cancel = g_cancellable_new ();
    g_data_input_stream_read_line_async (
        comps->out, G_PRIORITY_DEFAULT, comps->cancel, child_line_cb, comps);
    g_subprocess_wait_async (comps->child, NULL, child_exited, comps);
  }
}

HqCompositions *
hq_compositions_new (HqRooms *rooms)
{
  HqCompositions *comps = g_new0 (HqCompositions, 1);
  static const gchar *const pending[] = { "processing", "enqueued", NULL };

  comps->rooms = rooms;
  comps->dir = g_build_filename (
      hq_rooms_get_config (rooms)->data_dir, "compositions", NULL);
  comps->feeds = g_ptr_array_new ();
  g_queue_init (&comps->queue);
  for (guint i = 0; pending[i]; i++) {
    g_autoptr (GPtrArray) rows = hq_store_list_compositions (
        hq_rooms_get_store (rooms), NULL, pending[i], G_MAXINT, 0, NULL);
    for (guint j = 0; rows && j < rows->len; j++)
      g_queue_push_tail (&comps->queue,
          g_strdup (((HqCompositionRecord *)g_ptr_array_index (rows, j))->sid));
  }
  next_job (comps);
  return comps;
}

void
hq_compositions_free (HqCompositions *comps)
{
  if (comps == NULL)
    return;
  comps->freeing = TRUE;
  if (comps->child) {
    g_subprocess_force_exit (comps->child);
    while (comps->child)
      g_main_context_iteration (NULL, TRUE);
  }
  g_queue_clear_full (&comps->queue, g_free);
  if (comps->cancel)
    g_cancellable_cancel (comps->cancel);
  g_clear_object (&comps->cancel);
  g_clear_object (&comps->out);
  g_free (comps->why);
  g_free (comps->running);
  g_free (comps->dir);
  g_ptr_array_unref (comps->feeds);
  g_free (comps);
}

/* --- creating --- */

static gboolean
parse_resolution (const gchar *text, gint *w, gint *h)
{
  gchar *end = NULL;
  gint64 a = g_ascii_strtoll (text, &end, 10);
  gint64 b;

  if (end == text || (*end != 'x' && *end != 'X'))
    return FALSE;
  text = end + 1;
  b = g_ascii_strtoll (text, &end, 10);
  if (end == text || *end != '\0' || a < 16 || b < 16 || a % 2 || b % 2
      || a * b > HQ_COMPOSITION_MAX_PIXELS)
    return FALSE;
  *w = (gint)a;
  *h = (gint)b;
  return TRUE;
}

static gboolean
check_patterns (JsonArray *a, const gchar *name, GError **error)
{
  for (guint i = 0; a && i < json_array_get_length (a); i++) {
    JsonNode *n = json_array_get_element (a, i);
    if (!JSON_NODE_HOLDS_VALUE (n)
        || json_node_get_value_type (n) != G_TYPE_STRING
        || *json_node_get_string (n) == '\0')
      return hq_room_invalid (
          error, "%s[%u] must be a non-empty track name pattern.", name, i);
  }
  return TRUE;
}

static gchar *
node_text (JsonNode *node)
{
  return json_to_string (node, FALSE);
}

HqCompositionRecord *
hq_compositions_create (
    HqCompositions *comps, const HqCompositionParams *params, GError **error)
{
  g_autoptr (HqRoomRecord) room = NULL;
  g_autoptr (HqCompositionRecord) c = NULL;
  g_autoptr (JsonNode) audio = NULL;
  g_autoptr (JsonNode) layout = NULL;
  g_autoptr (HqLayout) checked = NULL;
  JsonObject *audio_obj;
  GError *local = NULL;
  gint w, h;

  if (params->room_sid == NULL)
    return hq_room_invalid (error, "RoomSid is required."), NULL;
  room = hq_store_get_room (
      hq_rooms_get_store (comps->rooms), params->room_sid, NULL);
  if (room == NULL) {
    g_set_error (error, HQ_ROOM_ERROR, HQ_ROOM_ERROR_NOT_FOUND,
        "There is no room %s.", params->room_sid);
    return NULL;
  }
  if (g_strcmp0 (room->status, "completed") != 0)
    return hq_room_invalid (error,
               "Room %s is still in progress: compose it once it has "
               "completed.",
               room->sid),
           NULL;
  if (hq_store_is_e2ee (hq_rooms_get_store (comps->rooms), room->sid, NULL))
    return hq_room_invalid (error,
               "Room %s was end-to-end encrypted: the server cannot decode "
               "its media to compose it. Compose the files of a participant "
               "who holds the room secret (hq-record with HQ_E2EE_SECRET, "
               "docs/e2ee.md).",
               room->sid),
           NULL;
  if (params->format && g_strcmp0 (params->format, "webm") != 0
      && g_strcmp0 (params->format, "mp4") != 0)
    return hq_room_invalid (error, "Format must be webm or mp4."), NULL;
  if (!parse_resolution (
          params->resolution ? params->resolution : "640x480", &w, &h))
    return hq_room_invalid (error,
               "Resolution must be WIDTHxHEIGHT, even numbers from 16, with "
               "at most 921600 pixels (e.g. 1280x720)."),
           NULL;
  if (!check_patterns (params->audio_sources, "AudioSources", error)
      || !check_patterns (
          params->audio_sources_excluded, "AudioSourcesExcluded", error))
    return NULL;
  if (params->video_layout) {
    for (GList *l = json_object_get_members (params->video_layout), *m = l; m;
         m = m->next) {
      JsonNode *n = json_object_get_member (params->video_layout, m->data);
      JsonObject *r =
          JSON_NODE_HOLDS_OBJECT (n) ? json_node_get_object (n) : NULL;
      gboolean ok = r != NULL
          && check_patterns (array_member (r, "video_sources"),
              "VideoLayout video_sources", error)
          && check_patterns (array_member (r, "video_sources_excluded"),
              "VideoLayout video_sources_excluded", error);
      if (!ok) {
        g_list_free (l);
        if (r == NULL)
          hq_room_invalid (error,
              "VideoLayout region \"%.64s\" must be an object with "
              "video_sources.",
              (gchar *)m->data);
        return NULL;
      }
      if (m->next == NULL)
        g_list_free (l);
    }
    checked = hq_layout_new_from_object (params->video_layout, &local);
    if (checked == NULL) {
      hq_room_invalid (error, "Invalid VideoLayout: %s.", local->message);
      g_error_free (local);
      return NULL;
    }
  }
  if (params->audio_sources == NULL && params->video_layout == NULL)
    return hq_room_invalid (error,
               "Give AudioSources, VideoLayout or both: the composition "
               "would be empty."),
           NULL;

  /* Stored as {"include": [...], "exclude": [...]} and the layout as
   * given. */
  audio_obj = json_object_new ();
  json_object_set_array_member (audio_obj, "include",
      params->audio_sources ? json_array_ref (params->audio_sources)
                            : json_array_new ());
  json_object_set_array_member (audio_obj, "exclude",
      params->audio_sources_excluded
          ? json_array_ref (params->audio_sources_excluded)
          : json_array_new ());
  audio = json_node_init_object (json_node_alloc (), audio_obj);
  json_object_unref (audio_obj);
  {
    g_autoptr (JsonObject) empty = json_object_new ();
    layout = json_node_init_object (json_node_alloc (),
        params->video_layout ? params->video_layout : empty);
  }

  c = g_new0 (HqCompositionRecord, 1);
  c->sid = hq_sid_new ("CJ");
  c->room_sid = g_strdup (room->sid);
  c->status = g_strdup ("enqueued");
  hq_metrics_count (HQ_COUNTER_COMPOSITIONS_ENQUEUED, 1);
  c->audio_sources = node_text (audio);
  c->video_layout = node_text (layout);
  c->resolution = g_strdup_printf ("%dx%d", w, h);
  c->format = g_strdup (params->format ? params->format : "webm");
  c->status_callback = g_strdup (params->status_callback);
  c->created = c->updated = hq_now_ms ();
  if (!hq_store_put_composition (
          hq_rooms_get_store (comps->rooms), c, &local)) {
    hq_room_store_failed (local, error);
    return NULL;
  }
  composition_changed (comps, c, "composition-enqueued");
  g_queue_push_tail (&comps->queue, g_strdup (c->sid));
  next_job (comps);
  return g_steal_pointer (&c);
}
