/* hq-demo: the whole system on one machine, started by scripts/run.sh.
 *
 *   hq-demo [--hq-server PATH] [--recordings DIR] [hq-server serve options]
 *
 * It starts hq-server (with --demo and the options given), then joins the
 * demo room three times from pipelines in this process:
 *
 *   - two synthetic participants publish through hqroomsink: a test
 *     pattern each and a tone each, taking turns to "speak" (one tone is
 *     faint while the other sounds, as a microphone in a quiet room: the
 *     server's speaker detection, which reads the audio levels hqroomsink
 *     sends, learns a noise floor from it and counts as speech only what
 *     rises above);
 *   - a listener subscribes with hqroomsrc, runs every participant's audio
 *     through hqspeakerdetect and, when the hqrecorder element is
 *     installed, records every track; when hqqualitymeter is installed,
 *     every track goes through it first and the listener prints one
 *     quality line per participant every QUALITY_INTERVAL seconds.
 *
 * It prints the browser URL where a person can join the same room, and
 * every change of dominant speaker, as the server announces it and as the
 * local hqspeakerdetect decides it.  Ctrl-C stops the pipelines (the
 * recording is finalized by an EOS), then the server, and says where the
 * recording is.
 *
 * Tokens come from `hq-server token`, which uses the same data directory
 * and key as the server; they are handed to the elements as properties,
 * never on a command line.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>
#include <gio/gio.h>
#include <glib-unix.h>
#include <gst/gst.h>

#define DEMO_ROOM "demo"
#define TURN_SECONDS 4
/* The volume of the one who listens: -40 dB, about -50 dBov. */
#define QUIET_VOLUME 0.01
#define STOP_TIMEOUT_SECONDS 15

typedef struct
{
  const gchar *identity;
  const gchar *pattern;
  gint freq;
} Synthetic;

static const Synthetic synthetic[] = {
  { "synthetic-alice", "ball", 440 },
  { "synthetic-bob", "smpte", 660 },
};

typedef struct
{
  GMainLoop *loop;
  gchar *server_bin;
  GPtrArray *server_args; /* what `serve` gets, NULL-terminated */
  gchar *data_dir; /* --data-dir passed on, or NULL */
  gchar *config; /* --config passed on, or NULL */
  GSubprocess *server;
  GDataInputStream *server_out;
  gchar *url;

  GstElement *publishers[G_N_ELEMENTS (synthetic)];
  GstElement *volumes[G_N_ELEMENTS (synthetic)];
  guint speaker; /* index into synthetic[] of who speaks now */
  guint turn_timer;

  GstElement *listener;
  GstElement *detect;
  GstElement *recorder; /* NULL when hqrecorder is not installed */
  gchar *recording_dir;
  GstElement *meter; /* NULL when hqqualitymeter is not installed */
  GHashTable *quality; /* participant -> Quality */

  gboolean stopping;
  guint stop_timer;
  int exit_code;
} Demo;

#define QUALITY_INTERVAL 5

/* One participant's latest hq-quality figures, per kind (0 video, 1
 * audio), until both of the same interval are in. */
typedef struct
{
  GstStructure *kind[2];
} Quality;

static void
quality_free (gpointer data)
{
  Quality *q = data;

  for (guint i = 0; i < 2; i++)
    if (q->kind[i])
      gst_structure_free (q->kind[i]);
  g_free (q);
}

/* --- the server --- */

static void
server_child_setup (gpointer data)
{
  /* Its own process group: Ctrl-C reaches only us, and we stop the
   * server after the pipelines.  It dies with us if we are killed. */
  setpgid (0, 0);
  prctl (PR_SET_PDEATHSIG, SIGTERM);
}

static gboolean
start_server (Demo *d, GError **error)
{
  g_autoptr (GSubprocessLauncher) launcher =
      g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE);

  g_subprocess_launcher_set_child_setup (
      launcher, server_child_setup, NULL, NULL);
  d->server = g_subprocess_launcher_spawnv (
      launcher, (const gchar *const *)d->server_args->pdata, error);
  if (d->server == NULL)
    return FALSE;
  d->server_out =
      g_data_input_stream_new (g_subprocess_get_stdout_pipe (d->server));
  return TRUE;
}

/* Passes the server's output on until its "listening on URL" line. */
static gboolean
wait_server_url (Demo *d, GError **error)
{
  while (d->url == NULL) {
    g_autofree gchar *line =
        g_data_input_stream_read_line_utf8 (d->server_out, NULL, NULL, error);
    const gchar *at;

    if (line == NULL) {
      if (error && *error == NULL)
        g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
            "hq-server stopped before it listened (see its messages above)");
      return FALSE;
    }
    printf ("%s\n", line);
    if ((at = strstr (line, " listening on ")) != NULL)
      d->url = g_strdup (at + strlen (" listening on "));
  }
  fflush (stdout);
  return TRUE;
}

static void
on_server_line (GObject *src, GAsyncResult *res, gpointer user_data)
{
  Demo *d = user_data;
  g_autofree gchar *line = g_data_input_stream_read_line_finish_utf8 (
      G_DATA_INPUT_STREAM (src), res, NULL, NULL);

  if (line == NULL)
    return;
  printf ("%s\n", line);
  fflush (stdout);
  g_data_input_stream_read_line_async (
      d->server_out, G_PRIORITY_DEFAULT, NULL, on_server_line, d);
}

static gchar *
mint_token (Demo *d, const gchar *identity, GError **error)
{
  g_autoptr (GPtrArray) argv = g_ptr_array_new ();
  g_autoptr (GSubprocess) proc = NULL;
  g_autofree gchar *out = NULL;
  g_autofree gchar *err = NULL;

  g_ptr_array_add (argv, d->server_bin);
  g_ptr_array_add (argv, (gpointer) "token");
  g_ptr_array_add (argv, (gpointer) "--identity");
  g_ptr_array_add (argv, (gpointer)identity);
  g_ptr_array_add (argv, (gpointer) "--room");
  g_ptr_array_add (argv, (gpointer)DEMO_ROOM);
  if (d->data_dir) {
    g_ptr_array_add (argv, (gpointer) "--data-dir");
    g_ptr_array_add (argv, d->data_dir);
  }
  if (d->config) {
    g_ptr_array_add (argv, (gpointer) "--config");
    g_ptr_array_add (argv, d->config);
  }
  g_ptr_array_add (argv, NULL);
  proc = g_subprocess_newv ((const gchar *const *)argv->pdata,
      G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE, error);
  if (proc == NULL
      || !g_subprocess_communicate_utf8 (proc, NULL, NULL, &out, &err, error))
    return NULL;
  if (!g_subprocess_get_successful (proc)) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
        "cannot mint a token for %s: %s", identity, g_strstrip (err));
    return NULL;
  }
  return g_strdup (g_strstrip (out));
}

/* --- the pipelines --- */

static gboolean
set_room_properties (
    Demo *d, GstElement *element, const gchar *identity, GError **error)
{
  g_autofree gchar *token = mint_token (d, identity, error);

  if (token == NULL)
    return FALSE;
  g_object_set (
      element, "server", d->url, "room", DEMO_ROOM, "token", token, NULL);
  return TRUE;
}

static GstElement *
make_publisher (Demo *d, guint i, GError **error)
{
  const Synthetic *s = &synthetic[i];
  g_autofree gchar *desc =
      g_strdup_printf ("videotestsrc is-live=true pattern=%s "
                       "! video/x-raw,width=640,height=360,framerate=15/1 "
                       "! timeoverlay halignment=left valignment=bottom "
                       "! textoverlay text=%s halignment=center valignment=top "
                       "font-desc=\"Sans 24\" "
                       "! hqroomsink name=room "
                       "audiotestsrc is-live=true wave=sine freq=%d volume=0.4 "
                       "! volume name=voice ! room.",
          s->pattern, s->identity, s->freq);
  GstElement *pipeline = gst_parse_launch (desc, error);
  g_autoptr (GstElement) room = NULL;

  /* A missing element is an error even when a partial pipeline came. */
  if (pipeline == NULL || *error != NULL) {
    g_clear_object (&pipeline);
    return NULL;
  }
  room = gst_bin_get_by_name (GST_BIN (pipeline), "room");
  d->volumes[i] = gst_bin_get_by_name (GST_BIN (pipeline), "voice");
  g_object_set (
      d->volumes[i], "volume", i == d->speaker ? 1.0 : QUIET_VOLUME, NULL);
  if (!set_room_properties (d, room, s->identity, error)) {
    gst_object_unref (pipeline);
    return NULL;
  }
  return pipeline;
}

static gboolean
next_turn (gpointer user_data)
{
  Demo *d = user_data;

  d->speaker = (d->speaker + 1) % G_N_ELEMENTS (synthetic);
  for (guint i = 0; i < G_N_ELEMENTS (synthetic); i++)
    g_object_set (
        d->volumes[i], "volume", i == d->speaker ? 1.0 : QUIET_VOLUME, NULL);
  return G_SOURCE_CONTINUE;
}

static gboolean
link_through_queue (GstBin *bin, GstPad *src, GstPad *sink)
{
  GstElement *queue = gst_element_factory_make ("queue", NULL);
  g_autoptr (GstPad) qsink = NULL;
  g_autoptr (GstPad) qsrc = NULL;

  gst_bin_add (bin, queue);
  qsink = gst_element_get_static_pad (queue, "sink");
  qsrc = gst_element_get_static_pad (queue, "src");
  if (gst_pad_link (src, qsink) != GST_PAD_LINK_OK
      || gst_pad_link (qsrc, sink) != GST_PAD_LINK_OK)
    return FALSE;
  gst_element_sync_state_with_parent (queue);
  return TRUE;
}

/* Where a stream that is not recorded ends. */
static GstPad *
discard_pad (GstBin *bin)
{
  GstElement *sink = gst_element_factory_make ("fakesink", NULL);

  g_object_set (sink, "sync", FALSE, "async", FALSE, NULL);
  gst_bin_add (bin, sink);
  gst_element_sync_state_with_parent (sink);
  return gst_element_get_static_pad (sink, "sink");
}

static GstPad *
recorder_pad (Demo *d, const gchar *kind)
{
  g_autofree gchar *name = g_strdup_printf ("%s_%%u", kind);

  if (d->recorder == NULL)
    return discard_pad (GST_BIN (d->listener));
  return gst_element_request_pad_simple (d->recorder, name);
}

/* The quality meter's pads for a new track: its sink in *@meter_sink and
 * its source returned; NULL without a meter. */
static GstPad *
meter_pads (Demo *d, gboolean audio, GstPad **meter_sink)
{
  g_autofree gchar *src_name = NULL;

  *meter_sink = NULL;
  if (d->meter == NULL)
    return NULL;
  *meter_sink = gst_element_request_pad_simple (
      d->meter, audio ? "audio_%u" : "video_%u");
  if (*meter_sink == NULL)
    return NULL;
  src_name = g_strdup_printf ("src_%s", GST_PAD_NAME (*meter_sink));
  return gst_element_get_static_pad (d->meter, src_name);
}

/* A remote track appeared: it goes through the quality meter (when
 * installed), audio through the speaker detector, and everything into the
 * recorder (or away). */
static void
on_track_pad (GstElement *src, GstPad *pad, gpointer user_data)
{
  Demo *d = user_data;
  GstBin *bin = GST_BIN (d->listener);
  g_autofree gchar *identity = NULL;
  g_autofree gchar *track = NULL;
  g_autoptr (GstPad) sink = NULL;
  gboolean audio = g_str_has_prefix (GST_PAD_NAME (pad), "audio");
  g_autoptr (GstPad) meter_sink = NULL;
  g_autoptr (GstPad) meter_src = meter_pads (d, audio, &meter_sink);

  g_object_get (
      pad, "participant-identity", &identity, "track-name", &track, NULL);
  printf ("hq-demo: receiving %s \"%s\" of %s\n", audio ? "audio" : "video",
      track, identity);
  fflush (stdout);
  if (audio) {
    g_autoptr (GstPad) detect_sink =
        gst_element_request_pad_simple (d->detect, "sink_%u");
    g_autofree gchar *src_name = g_strdup_printf (
        "src_%s", GST_PAD_NAME (detect_sink) + strlen ("sink_"));
    g_autoptr (GstPad) detect_src =
        gst_element_get_static_pad (d->detect, src_name);

    if (meter_src ? !link_through_queue (bin, pad, meter_sink)
                || gst_pad_link (meter_src, detect_sink) != GST_PAD_LINK_OK
                  : !link_through_queue (bin, pad, detect_sink))
      g_printerr ("hq-demo: cannot link %s to the speaker detector\n",
          GST_PAD_NAME (pad));
    sink = recorder_pad (d, "audio");
    if (detect_src == NULL
        || gst_pad_link (detect_src, sink) != GST_PAD_LINK_OK)
      g_printerr ("hq-demo: cannot link the speaker detector onwards\n");
  } else {
    sink = recorder_pad (d, "video");
    if (meter_src ? !link_through_queue (bin, pad, meter_sink)
                || gst_pad_link (meter_src, sink) != GST_PAD_LINK_OK
                  : !link_through_queue (bin, pad, sink))
      g_printerr ("hq-demo: cannot link %s\n", GST_PAD_NAME (pad));
  }
}

static GstElement *
make_listener (Demo *d, GError **error)
{
  GstElement *pipeline = gst_pipeline_new ("listener");
  GstElement *src = gst_element_factory_make ("hqroomsrc", "room");

  d->detect = gst_element_factory_make ("hqspeakerdetect", "detect");
  if (src == NULL || d->detect == NULL) {
    g_set_error (error, GST_CORE_ERROR, GST_CORE_ERROR_MISSING_PLUGIN,
        "the hqroomsrc and hqspeakerdetect elements are not installed "
        "(set GST_PLUGIN_PATH to the build tree)");
    g_clear_object (&src);
    g_clear_object (&d->detect);
    gst_object_unref (pipeline);
    return NULL;
  }
  g_object_set (src, "identity", "demo-listener", NULL);
  g_object_set (d->detect, "silence-timeout", 2000, NULL);
  gst_bin_add_many (GST_BIN (pipeline), src, d->detect, NULL);
  d->recorder = gst_element_factory_make ("hqrecorder", "recorder");
  if (d->recorder != NULL) {
    g_autoptr (GDateTime) now = g_date_time_new_now_local ();
    g_autofree gchar *stamp = g_date_time_format (now, "%Y%m%d-%H%M%S");
    g_autofree gchar *name = g_strdup_printf ("demo-%s", stamp);
    gchar *parent = d->recording_dir;

    d->recording_dir = g_build_filename (parent, name, NULL);
    g_free (parent);
    if (g_mkdir_with_parents (d->recording_dir, 0700) != 0) {
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errno),
          "cannot create %s: %s", d->recording_dir, g_strerror (errno));
      gst_object_unref (pipeline);
      return NULL;
    }
    g_object_set (d->recorder, "location", d->recording_dir, NULL);
    gst_bin_add (GST_BIN (pipeline), d->recorder);
  }
  d->meter = gst_element_factory_make ("hqqualitymeter", "quality");
  if (d->meter != NULL) {
    g_object_set (
        d->meter, "interval", (guint64)QUALITY_INTERVAL * GST_SECOND, NULL);
    gst_bin_add (GST_BIN (pipeline), d->meter);
  }
  g_signal_connect (src, "pad-added", G_CALLBACK (on_track_pad), d);
  if (!set_room_properties (d, src, "demo-listener", error)) {
    gst_object_unref (pipeline);
    return NULL;
  }
  return pipeline;
}

/* --- what happens --- */

static void
print_dominant (const gchar *who, const gchar *source)
{
  printf ("hq-demo: dominant speaker: %s (%s)\n", who && *who ? who : "nobody",
      source);
  fflush (stdout);
}

static void stop (Demo *d, int exit_code);

/* An hq-quality message: once a participant's video and audio of the same
 * interval are in, one line for them. */
static void
on_quality (Demo *d, const GstStructure *s)
{
  const gchar *who = gst_structure_get_string (s, "participant");
  const gchar *kind = gst_structure_get_string (s, "kind");
  guint k = g_strcmp0 (kind, "audio") == 0;
  guint64 t[2] = { 0, 0 };
  guint vlevel = 0, alevel = 0, freezes = 0, gaps = 0;
  gint width = 0, height = 0;
  gdouble fps = 0, vmos = 0, amos = 0, loss = 0, rtt = 0;
  Quality *q;

  if (who == NULL || kind == NULL)
    return;
  q = g_hash_table_lookup (d->quality, who);
  if (q == NULL) {
    q = g_new0 (Quality, 1);
    g_hash_table_insert (d->quality, g_strdup (who), q);
  }
  if (q->kind[k])
    gst_structure_free (q->kind[k]);
  q->kind[k] = gst_structure_copy (s);
  if (!q->kind[0] || !q->kind[1])
    return;
  gst_structure_get_uint64 (q->kind[0], "running-time", &t[0]);
  gst_structure_get_uint64 (q->kind[1], "running-time", &t[1]);
  if (t[0] != t[1])
    return;
  gst_structure_get (q->kind[0], "level", G_TYPE_UINT, &vlevel, "width",
      G_TYPE_INT, &width, "height", G_TYPE_INT, &height, "fps", G_TYPE_DOUBLE,
      &fps, "freeze-count", G_TYPE_UINT, &freezes, "mos-video", G_TYPE_DOUBLE,
      &vmos, NULL);
  gst_structure_get (q->kind[1], "level", G_TYPE_UINT, &alevel, "gaps",
      G_TYPE_UINT, &gaps, "mos-audio", G_TYPE_DOUBLE, &amos, NULL);
  gst_structure_get_double (q->kind[1], "net-fraction-lost", &loss);
  gst_structure_get_double (q->kind[1], "net-rtt-ms", &rtt);
  printf ("hq-demo: quality of %s: level %u; video %dx%d %.0f fps, %u "
          "freezes, MOS %.2f; audio %u gaps, MOS %.2f; network loss %.1f %%, "
          "round trip %.0f ms\n",
      who, MIN (vlevel, alevel), width, height, fps, freezes, vmos, gaps, amos,
      100 * loss, rtt);
  fflush (stdout);
  for (guint i = 0; i < 2; i++)
    g_clear_pointer (&q->kind[i], gst_structure_free);
}

static gboolean
on_bus (GstBus *bus, GstMessage *msg, gpointer user_data)
{
  Demo *d = user_data;
  const GstStructure *s;

  switch (GST_MESSAGE_TYPE (msg)) {
    case GST_MESSAGE_ERROR: {
      g_autoptr (GError) err = NULL;
      g_autofree gchar *dbg = NULL;

      gst_message_parse_error (msg, &err, &dbg);
      g_printerr ("hq-demo: error from %s: %s\n", GST_OBJECT_NAME (msg->src),
          err->message);
      stop (d, 1);
      break;
    }
    case GST_MESSAGE_EOS:
      if (d->stopping && GST_MESSAGE_SRC (msg) == GST_OBJECT (d->listener))
        g_main_loop_quit (d->loop);
      break;
    case GST_MESSAGE_ELEMENT:
      s = gst_message_get_structure (msg);
      if (gst_structure_has_name (s, "hq-quality")) {
        on_quality (d, s);
      } else if (gst_structure_has_name (s, "hq-dominant-speaker")) {
        const gchar *who = gst_structure_get_string (s, "participant");

        if (GST_MESSAGE_SRC (msg) == GST_OBJECT (d->detect))
          print_dominant (who, "hqspeakerdetect");
        else
          print_dominant (gst_structure_get_string (s, "identity"), "server");
      } else if (gst_structure_has_name (s, "hq-joined")
          && GST_MESSAGE_SRC (msg) != GST_OBJECT (d->detect)) {
        printf ("hq-demo: %s joined the room\n", GST_OBJECT_NAME (msg->src));
        fflush (stdout);
      }
      break;
    default:
      break;
  }
  return G_SOURCE_CONTINUE;
}

static gboolean
stop_timed_out (gpointer user_data)
{
  Demo *d = user_data;

  g_printerr ("hq-demo: the recording did not finish in %d s; stopping "
              "anyway\n",
      STOP_TIMEOUT_SECONDS);
  d->stop_timer = 0;
  g_main_loop_quit (d->loop);
  return G_SOURCE_REMOVE;
}

/* Leaves the room: the listener after an EOS has finalized its
 * recording, then (in cleanup) the publishers. */
static void
stop (Demo *d, int exit_code)
{
  if (exit_code > d->exit_code)
    d->exit_code = exit_code;
  if (d->stopping)
    return;
  d->stopping = TRUE;
  if (d->turn_timer) {
    g_source_remove (d->turn_timer);
    d->turn_timer = 0;
  }
  /* The publishers stay until the recording is finished, so it ends with
   * the EOS rather than with their tracks going away. */
  if (d->listener && exit_code == 0) {
    gst_element_send_event (d->listener, gst_event_new_eos ());
    d->stop_timer =
        g_timeout_add_seconds (STOP_TIMEOUT_SECONDS, stop_timed_out, d);
  } else {
    g_main_loop_quit (d->loop);
  }
}

static gboolean
on_signal (gpointer user_data)
{
  Demo *d = user_data;

  printf ("hq-demo: stopping\n");
  fflush (stdout);
  stop (d, 0);
  return G_SOURCE_CONTINUE;
}

static void
watch_bus (Demo *d, GstElement *pipeline)
{
  g_autoptr (GstBus) bus = gst_element_get_bus (pipeline);

  gst_bus_add_watch (bus, on_bus, d);
}

static gboolean
start (Demo *d, GError **error)
{
  if (!start_server (d, error) || !wait_server_url (d, error))
    return FALSE;
  g_data_input_stream_read_line_async (
      d->server_out, G_PRIORITY_DEFAULT, NULL, on_server_line, d);

  for (guint i = 0; i < G_N_ELEMENTS (synthetic); i++) {
    d->publishers[i] = make_publisher (d, i, error);
    if (d->publishers[i] == NULL)
      return FALSE;
    watch_bus (d, d->publishers[i]);
  }
  d->listener = make_listener (d, error);
  if (d->listener == NULL)
    return FALSE;
  watch_bus (d, d->listener);

  for (guint i = 0; i < G_N_ELEMENTS (synthetic); i++)
    gst_element_set_state (d->publishers[i], GST_STATE_PLAYING);
  gst_element_set_state (d->listener, GST_STATE_PLAYING);
  d->turn_timer = g_timeout_add_seconds (TURN_SECONDS, next_turn, d);

  printf ("\nhq-demo: two synthetic participants (%s, %s) are in room "
          "\"%s\", taking turns to speak every %d s.\n"
          "hq-demo: join them from a browser: %s/?room=%s\n",
      synthetic[0].identity, synthetic[1].identity, DEMO_ROOM, TURN_SECONDS,
      d->url, DEMO_ROOM);
  if (d->recorder)
    printf ("hq-demo: recording every track into %s\n", d->recording_dir);
  else
    printf ("hq-demo: hqrecorder is not installed: not recording\n");
  printf ("hq-demo: Ctrl-C stops everything.\n\n");
  fflush (stdout);
  return TRUE;
}

/* Stops the server (SIGTERM: it shuts down cleanly) and waits for it. */
static void
stop_server (Demo *d)
{
  g_autoptr (GError) error = NULL;

  if (d->server == NULL)
    return;
  g_subprocess_send_signal (d->server, SIGTERM);
  if (!g_subprocess_wait (d->server, NULL, &error))
    g_printerr ("hq-demo: %s\n", error->message);
  else if (!g_subprocess_get_if_exited (d->server)
      || g_subprocess_get_exit_status (d->server) != 0)
    g_printerr ("hq-demo: hq-server did not stop cleanly\n");
}

static gchar *
default_server_bin (void)
{
  g_autofree gchar *self = g_file_read_link ("/proc/self/exe", NULL);
  g_autofree gchar *dir = self ? g_path_get_dirname (self) : NULL;
  g_autofree gchar *beside = NULL;

  if (g_getenv ("HQ_SERVER_BIN"))
    return g_strdup (g_getenv ("HQ_SERVER_BIN"));
  /* In the build tree: build/examples/hq-demo, build/server/hq-server. */
  beside =
      dir ? g_build_filename (dir, "..", "server", "hq-server", NULL) : NULL;
  if (beside && g_file_test (beside, G_FILE_TEST_IS_EXECUTABLE))
    return g_steal_pointer (&beside);
  return g_strdup ("hq-server");
}

/* Our own options are taken out; the rest go to `hq-server serve`, and
 * --data-dir/--config also to `hq-server token`. */
static void
parse_args (Demo *d, int argc, char **argv)
{
  d->server_args = g_ptr_array_new_with_free_func (g_free);
  g_ptr_array_add (d->server_args, NULL); /* the binary, below */
  g_ptr_array_add (d->server_args, g_strdup ("serve"));
  g_ptr_array_add (d->server_args, g_strdup ("--demo"));
  for (int i = 1; i < argc; i++) {
    const gchar *a = argv[i];
    gchar **keep = NULL;

    if (g_str_equal (a, "--hq-server") && i + 1 < argc) {
      d->server_bin = g_strdup (argv[++i]);
      continue;
    }
    if (g_str_equal (a, "--recordings") && i + 1 < argc) {
      d->recording_dir = g_strdup (argv[++i]);
      continue;
    }
    if (g_str_equal (a, "--data-dir") || g_str_equal (a, "-d"))
      keep = &d->data_dir;
    else if (g_str_equal (a, "--config") || g_str_equal (a, "-c"))
      keep = &d->config;
    g_ptr_array_add (d->server_args, g_strdup (a));
    if (keep && i + 1 < argc) {
      *keep = g_strdup (argv[++i]);
      g_ptr_array_add (d->server_args, g_strdup (*keep));
    }
  }
  g_ptr_array_add (d->server_args, NULL);
  if (d->server_bin == NULL)
    d->server_bin = default_server_bin ();
  d->server_args->pdata[0] = g_strdup (d->server_bin);
  if (d->recording_dir == NULL) {
    const gchar *data = d->data_dir ? d->data_dir : g_getenv ("HQ_DATA_DIR");

    d->recording_dir = data && *data
        ? g_build_filename (data, "recordings", NULL)
        : g_build_filename (
            g_get_user_data_dir (), "hqrooms", "recordings", NULL);
  }
}

static void
cleanup (Demo *d)
{
  for (guint i = 0; i < G_N_ELEMENTS (synthetic); i++) {
    if (d->publishers[i]) {
      gst_element_set_state (d->publishers[i], GST_STATE_NULL);
      gst_object_unref (d->publishers[i]);
    }
    g_clear_object (&d->volumes[i]);
  }
  if (d->listener) {
    gst_element_set_state (d->listener, GST_STATE_NULL);
    gst_object_unref (d->listener);
  }
  stop_server (d);
  g_clear_object (&d->server_out);
  g_clear_object (&d->server);
  g_ptr_array_unref (d->server_args);
  g_free (d->server_bin);
  g_free (d->data_dir);
  g_free (d->config);
  g_free (d->url);
  g_free (d->recording_dir);
  g_main_loop_unref (d->loop);
}

int
main (int argc, char **argv)
{
  Demo d = { 0 };
  g_autoptr (GError) error = NULL;
  guint sigint, sigterm;

  gst_init (NULL, NULL);
  parse_args (&d, argc, argv);
  d.loop = g_main_loop_new (NULL, FALSE);
  d.quality =
      g_hash_table_new_full (g_str_hash, g_str_equal, g_free, quality_free);
  sigint = g_unix_signal_add (SIGINT, on_signal, &d);
  sigterm = g_unix_signal_add (SIGTERM, on_signal, &d);

  if (start (&d, &error))
    g_main_loop_run (d.loop);
  else
    d.exit_code = 1;
  if (error)
    g_printerr ("hq-demo: %s\n", error->message);
  if (d.stop_timer)
    g_source_remove (d.stop_timer);

  if (d.listener)
    gst_element_set_state (d.listener, GST_STATE_NULL);
  if (d.recorder && d.exit_code == 0)
    printf ("hq-demo: the recording is in %s (recording.json lists its "
            "files)\n",
        d.recording_dir);
  g_source_remove (sigint);
  g_source_remove (sigterm);
  cleanup (&d);
  g_hash_table_unref (d.quality);
  printf ("hq-demo: stopped\n");
  return d.exit_code;
}
