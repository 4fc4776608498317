/* hq-record: the recorder child process hq-server runs for a room that
 * records (server/recording/hqrecordings.c).
 *
 *   hq-record --server URL --room RM... --location DIR
 *
 * with the access token in $HQ_ACCESS_TOKEN (never in argv, where `ps`
 * shows it).  It runs
 *
 *   hqroomsrc server=URL room=RM... ! hqrecorder mode=tracks location=DIR
 *
 * linking each new hqroomsrc pad to a new hqrecorder request pad of its
 * kind, so every track the server offers is written as it arrived (Opus,
 * VP8, H.264; no decoding) into its own .mka/.mkv file, with hqrecorder's
 * manifest recording.json alongside.  Files are created with mode 0600
 * (umask 077).  SIGTERM or SIGINT ends the recording cleanly (EOS, then the
 * files are finalised); the files stay playable even if the process is
 * killed outright (hqrecorder is crash-safe).
 *
 * One line of JSON per event goes to stdout, which the server logs:
 * {"event": "track", "pad": ..., "recorder_pad": ..., "track_sid": ...,
 * "participant_sid": ..., "identity": ..., "track_name": ...,
 * "unix_ms": <wall clock now>} as a track's pad comes,
 * {"event": "media", "track_sid": ..., "unix_ms": <wall clock when the
 * first packet of its media arrived>, "late_ms": <how long ago that was>}
 * as that media reaches the recorder,
 * {"event": "eos"}, {"event": "error", "message": ...}.
 * {"event": "room-ended"} when the room completes under it (then the
 * files are finalised as on SIGTERM).
 * {"event": "e2ee", "epoch": N, "code": "123456"} at each key epoch of an
 * end-to-end encrypted room.
 *
 * A participant who holds the room secret of an end-to-end encrypted room
 * records it with the same command, its own access token in
 * $HQ_ACCESS_TOKEN and the secret in $HQ_E2EE_SECRET (never in argv):
 * hqroomsrc decrypts each frame before hqrecorder writes it, and follows
 * the room's key epochs as any participant does (docs/e2ee.md,
 * "Recording").  The server's own recorder is given no secret: in such a
 * room it would write frames nobody can play.
 *
 * Exit status: 0 after a clean end (a signal, or the room completing),
 * 1 on a pipeline error, 2 on bad usage.
 */
#include <glib-unix.h>
#include <stdio.h>
#include <gst/gst.h>
#include <json-glib/json-glib.h>
#include <sys/stat.h>

typedef struct
{
  GstElement *pipeline;
  GstElement *src;
  GstElement *recorder;
  GMainLoop *loop;
  gboolean stopping;
  gboolean joined; /* hqroomsrc posted hq-joined: it was in the room */
  gint status;
} Recorder;

static void
emit (JsonObject *obj)
{
  JsonNode *node = json_node_init_object (json_node_alloc (), obj);
  g_autofree gchar *text = json_to_string (node, FALSE);

  json_node_unref (node);
  g_print ("%s\n", text);
  /* stdout is a pipe to the server, which logs each line as it comes:
   * a line held back in a buffer would be logged late. */
  fflush (stdout);
}

static void
set_string (JsonObject *o, const gchar *name, GObject *from, const gchar *prop)
{
  g_autofree gchar *v = NULL;

  if (g_object_class_find_property (G_OBJECT_GET_CLASS (from), prop))
    g_object_get (from, prop, &v, NULL);
  if (v)
    json_object_set_string_member (o, name, v);
}

/* The first buffer of a track: its running time is when its first packet
 * reached us (hqroomsrc stamps arrival), so the wall clock then is where
 * the track's file starts, however long the packet then took through the
 * jitter buffer and this process (slow under sanitizers). */
static GstPadProbeReturn
on_first_buffer (GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
  Recorder *r = data;
  GstBuffer *buf = GST_PAD_PROBE_INFO_BUFFER (info);
  GstEvent *event = gst_pad_get_sticky_event (pad, GST_EVENT_SEGMENT, 0);
  GstClock *clock = gst_element_get_clock (r->pipeline);
  GstClockTime base = gst_element_get_base_time (r->pipeline);
  GstClockTime running = GST_CLOCK_TIME_NONE;
  const GstSegment *segment = NULL;
  JsonObject *o;

  if (event)
    gst_event_parse_segment (event, &segment);
  if (segment && segment->format == GST_FORMAT_TIME
      && GST_BUFFER_PTS_IS_VALID (buf))
    running = gst_segment_to_running_time (
        segment, GST_FORMAT_TIME, GST_BUFFER_PTS (buf));
  if (clock && GST_CLOCK_TIME_IS_VALID (running)) {
    GstClockTimeDiff late =
        GST_CLOCK_DIFF (base + running, gst_clock_get_time (clock));
    o = json_object_new ();
    json_object_set_string_member (o, "event", "media");
    json_object_set_int_member (
        o, "unix_ms", (g_get_real_time () - late / GST_USECOND) / 1000);
    json_object_set_int_member (o, "late_ms", late / GST_MSECOND);
    set_string (o, "track_sid", G_OBJECT (pad), "track-sid");
    emit (o);
  }
  if (clock)
    gst_object_unref (clock);
  if (event)
    gst_event_unref (event);
  return GST_PAD_PROBE_REMOVE;
}

/* A new track: give it a recorder pad of its kind.  Linked here, in
 * pad-added, so hqroomsrc sees that downstream takes encoded media. */
static void
on_pad_added (GstElement *src, GstPad *pad, Recorder *r)
{
  const gchar *name = GST_PAD_NAME (pad);
  gboolean audio = g_str_has_prefix (name, "audio_");
  GstPad *sink;
  JsonObject *o;
  GstPadLinkReturn ret;

  if (!audio && !g_str_has_prefix (name, "video_"))
    return;
  sink = gst_element_request_pad_simple (
      r->recorder, audio ? "audio_%u" : "video_%u");
  if (sink == NULL) {
    g_printerr ("hq-record: hqrecorder gave no pad for %s\n", name);
    return;
  }
  /* Who and what, for the file name and the manifest the server reads
   * (hqrecorder would take them from the stream tags, later). */
  {
    g_autofree gchar *identity = NULL, *track = NULL;
    if (g_object_class_find_property (
            G_OBJECT_GET_CLASS (pad), "participant-identity"))
      g_object_get (
          pad, "participant-identity", &identity, "track-name", &track, NULL);
    if (identity
        && g_object_class_find_property (
            G_OBJECT_GET_CLASS (sink), "participant"))
      g_object_set (sink, "participant", identity, NULL);
    if (track
        && g_object_class_find_property (
            G_OBJECT_GET_CLASS (sink), "track-name"))
      g_object_set (sink, "track-name", track, NULL);
  }
  gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER, on_first_buffer, r, NULL);
  ret = gst_pad_link (pad, sink);
  o = json_object_new ();
  json_object_set_string_member (o, "event", "track");
  /* hqroomsrc adds a track's pad when its media arrives: the wall clock
   * now is where the track's recording starts. */
  json_object_set_int_member (o, "unix_ms", g_get_real_time () / 1000);
  json_object_set_string_member (o, "pad", name);
  json_object_set_string_member (o, "recorder_pad", GST_PAD_NAME (sink));
  set_string (o, "track_sid", G_OBJECT (pad), "track-sid");
  set_string (o, "participant_sid", G_OBJECT (pad), "participant-sid");
  set_string (o, "identity", G_OBJECT (pad), "participant-identity");
  set_string (o, "track_name", G_OBJECT (pad), "track-name");
  if (ret != GST_PAD_LINK_OK)
    json_object_set_string_member (
        o, "link_error", gst_pad_link_get_name (ret));
  emit (o);
  gst_object_unref (sink);
}

static void stop (Recorder *r);

/* TRUE when hqroomsrc's error is the room ending under it (the server
 * closed the connection because the room completed) after it had
 * joined: the recording is over, not failed. */
static gboolean
room_ended (Recorder *r, GstMessage *msg, const GError *error)
{
  return GST_MESSAGE_SRC (msg) == GST_OBJECT (r->src) && r->joined
      && g_error_matches (
          error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_NOT_FOUND);
}

static gboolean
on_bus (GstBus *bus, GstMessage *msg, gpointer data)
{
  Recorder *r = data;
  g_autoptr (GError) error = NULL;
  g_autofree gchar *debug = NULL;
  JsonObject *o;

  switch (GST_MESSAGE_TYPE (msg)) {
    case GST_MESSAGE_ELEMENT:
      if (gst_message_has_name (msg, "hq-joined"))
        r->joined = TRUE;
      if (gst_message_has_name (msg, "hq-e2ee-epoch")) {
        const GstStructure *st = gst_message_get_structure (msg);
        guint epoch = 0;
        gst_structure_get_uint (st, "epoch", &epoch);
        o = json_object_new ();
        json_object_set_string_member (o, "event", "e2ee");
        json_object_set_int_member (o, "epoch", epoch);
        json_object_set_string_member (
            o, "code", gst_structure_get_string (st, "code"));
        emit (o);
      }
      break;
    case GST_MESSAGE_EOS:
      o = json_object_new ();
      json_object_set_string_member (o, "event", "eos");
      emit (o);
      g_main_loop_quit (r->loop);
      break;
    case GST_MESSAGE_ERROR:
      gst_message_parse_error (msg, &error, &debug);
      if (room_ended (r, msg, error)) {
        /* The end of what it records: finish the files, exit 0. */
        o = json_object_new ();
        json_object_set_string_member (o, "event", "room-ended");
        emit (o);
        stop (r);
        break;
      }
      o = json_object_new ();
      json_object_set_string_member (o, "event", "error");
      json_object_set_string_member (o, "source", GST_MESSAGE_SRC_NAME (msg));
      json_object_set_string_member (o, "message", error->message);
      emit (o);
      g_printerr ("hq-record: %s: %s\n%s\n", GST_MESSAGE_SRC_NAME (msg),
          error->message, debug ? debug : "");
      r->status = 1;
      g_main_loop_quit (r->loop);
      break;
    default:
      break;
  }
  return G_SOURCE_CONTINUE;
}

#define HQ_RECORD_EOS_TIMEOUT_S 5

static gboolean
on_eos_timeout (gpointer data)
{
  Recorder *r = data;

  g_printerr ("hq-record: no EOS after %d s; stopping anyway\n",
      HQ_RECORD_EOS_TIMEOUT_S);
  g_main_loop_quit (r->loop);
  return G_SOURCE_REMOVE;
}

/* Ends the streams so every file is finalised, then the loop quits (on
 * EOS, or after HQ_RECORD_EOS_TIMEOUT_S). */
static void
stop (Recorder *r)
{
  if (r->stopping)
    return;
  r->stopping = TRUE;
  gst_element_send_event (r->pipeline, gst_event_new_eos ());
  /* A source that cannot end its streams must not keep us: the files
   * are playable without the final EOS anyway. */
  g_timeout_add_seconds (HQ_RECORD_EOS_TIMEOUT_S, on_eos_timeout, r);
}

/* SIGTERM/SIGINT: stop; a second one quits at once. */
static gboolean
on_signal (gpointer data)
{
  Recorder *r = data;

  if (r->stopping) {
    g_main_loop_quit (r->loop);
    return G_SOURCE_REMOVE;
  }
  stop (r);
  return G_SOURCE_CONTINUE;
}

int
main (int argc, char **argv)
{
  g_autofree gchar *server = NULL, *room = NULL, *location = NULL;
  GOptionEntry entries[] = {
    { "server", 0, 0, G_OPTION_ARG_STRING, &server,
        "hq-server base URL (http://host:port)", "URL" },
    { "room", 0, 0, G_OPTION_ARG_STRING, &room, "room sid to record", "SID" },
    { "location", 0, 0, G_OPTION_ARG_FILENAME, &location,
        "directory for the track files and recording.json", "DIR" },
    { NULL },
  };
  g_autoptr (GOptionContext) ctx = g_option_context_new (NULL);
  g_autoptr (GError) error = NULL;
  const gchar *token = g_getenv ("HQ_ACCESS_TOKEN");
  const gchar *secret = g_getenv ("HQ_E2EE_SECRET");
  Recorder r = { 0 };
  GstBus *bus;

  umask (077);
  g_option_context_add_main_entries (ctx, entries, NULL);
  g_option_context_add_group (ctx, gst_init_get_option_group ());
  if (!g_option_context_parse (ctx, &argc, &argv, &error)) {
    g_printerr ("hq-record: %s\n", error->message);
    return 2;
  }
  if (server == NULL || room == NULL || location == NULL || token == NULL) {
    g_printerr ("hq-record: --server, --room, --location and "
                "$HQ_ACCESS_TOKEN are all required\n");
    return 2;
  }
  r.src = gst_element_factory_make ("hqroomsrc", "src");
  r.recorder = gst_element_factory_make ("hqrecorder", "recorder");
  if (r.src == NULL || r.recorder == NULL) {
    g_printerr ("hq-record: the %s element is not installed (set "
                "GST_PLUGIN_PATH to where the hqrooms plugins are)\n",
        r.src == NULL ? "hqroomsrc" : "hqrecorder");
    return 1;
  }
  g_object_set (r.src, "server", server, "room", room, "token", token, NULL);
  if (secret && *secret)
    g_object_set (r.src, "e2ee-secret", secret, NULL);
  gst_util_set_object_arg (G_OBJECT (r.recorder), "mode", "tracks");
  g_object_set (r.recorder, "location", location, NULL);
  /* Tracks come and go while the pipeline plays: a new file sink must not
   * take the whole pipeline back to PAUSED to preroll, where the live
   * source stops and the sink would wait for ever. */
  g_object_set (r.recorder, "async-handling", TRUE, NULL);
  r.pipeline = gst_pipeline_new ("hq-record");
  gst_bin_add_many (GST_BIN (r.pipeline), r.src, r.recorder, NULL);
  g_signal_connect (r.src, "pad-added", G_CALLBACK (on_pad_added), &r);
  r.loop = g_main_loop_new (NULL, FALSE);
  bus = gst_pipeline_get_bus (GST_PIPELINE (r.pipeline));
  gst_bus_add_watch (bus, on_bus, &r);
  g_unix_signal_add (SIGTERM, on_signal, &r);
  g_unix_signal_add (SIGINT, on_signal, &r);
  if (gst_element_set_state (r.pipeline, GST_STATE_PLAYING)
      == GST_STATE_CHANGE_FAILURE) {
    g_printerr ("hq-record: the pipeline does not start\n");
    r.status = 1;
  } else {
    g_main_loop_run (r.loop);
  }
  gst_element_set_state (r.pipeline, GST_STATE_NULL);
  gst_bus_remove_watch (bus);
  gst_object_unref (bus);
  gst_object_unref (r.pipeline);
  g_main_loop_unref (r.loop);
  return r.status;
}
