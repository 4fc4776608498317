/* bench-room: what hqroomsink and hqroomsrc cost a media engineer.
 *
 *   bench-room [seconds of CPU measurement, default 10]
 *
 * Starts a real hq-server on loopback and prints:
 *
 *   1. time from PLAYING to the first decoded frame at a subscriber
 *      (hqroomsrc ! fakesink) while a participant publishes 720p30, for 10
 *      fresh subscribers: median and spread.  Baseline, in the same run:
 *      the same from a local encode-decode pipeline (videotestsrc ! vp8enc
 *      ! vp8dec ! fakesink) that never leaves the process.
 *   2. CPU seconds per second of one published 720p30 VP8 stream
 *      (videotestsrc ! hqroomsink), against a plain encode-only pipeline
 *      (videotestsrc ! vp8enc ! fakesink) with the same source and encoder
 *      settings, measured in this process one after the other; the ratio
 *      is what publishing into a room costs over encoding alone.
 *
 * Tokens are minted here with libhq for a key the server is started with.
 * GST_PLUGIN_PATH must name the build tree's ext/room (meson sets nothing
 * for a bench; the default below is the build tree's).
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <gio/gio.h>
#include <gst/gst.h>
#include <libsoup/soup.h>
#include <hq/hqtoken.h>
#include "../tests/common/hqtempdir.h"

#define ACCOUNT "AC00000000000000000000000000000b01"
#define KEY_SID "SK00000000000000000000000000000b01"
#define KEY_SECRET "bench-room-secret-0123456789abcdef"
#define ROOM "bench-room"
#define RUNS 10
#define FIRST_FRAME_TIMEOUT_S 30

#define SOURCE                                                                 \
  "videotestsrc is-live=true pattern=smpte horizontal-speed=4 "                \
  "! video/x-raw,width=1280,height=720,framerate=30/1"
/* What hqroomsink's default VP8 encoder does (docs/hqroomsink.md). */
#define ENCODER                                                                \
  "videoconvert ! vp8enc deadline=1 cpu-used=8 "                               \
  "lag-in-frames=0 end-usage=cbr target-bitrate=800000 "                       \
  "keyframe-max-dist=300 error-resilient=default threads=1"

typedef struct
{
  GSubprocess *server;
  gchar *url;
  GMainLoop *loop;
  gint64 first_frame_at;
} Bench;

static gchar *
token_for (const gchar *identity)
{
  HqTokenGrant grant = {
    .identity = identity, .room = ROOM, .role = HQ_ROLE_GUEST, .ttl = 3600
  };
  g_autoptr (GError) error = NULL;
  gchar *t = hq_token_mint (KEY_SID, KEY_SECRET, ACCOUNT, &grant, 0, &error);

  if (t == NULL)
    g_error ("mint: %s", error->message);
  return t;
}

/* Creates the group room over REST, as an application would. */
static void
create_room (Bench *b)
{
  g_autoptr (SoupSession) http = soup_session_new ();
  g_autofree gchar *uri = g_strdup_printf ("%s/v1/Rooms", b->url);
  g_autoptr (SoupMessage) msg = soup_message_new ("POST", uri);
  g_autofree gchar *cred = g_strdup_printf ("%s:%s", KEY_SID, KEY_SECRET);
  g_autofree gchar *b64 = g_base64_encode ((const guchar *)cred, strlen (cred));
  g_autofree gchar *auth = g_strdup_printf ("Basic %s", b64);
  static const gchar body[] = "UniqueName=" ROOM "&Type=group";
  g_autoptr (GBytes) req = g_bytes_new_static (body, sizeof body - 1);
  g_autoptr (GBytes) reply = NULL;
  g_autoptr (GError) error = NULL;

  soup_message_headers_replace (
      soup_message_get_request_headers (msg), "Authorization", auth);
  soup_message_set_request_body_from_bytes (
      msg, "application/x-www-form-urlencoded", req);
  reply = soup_session_send_and_read (http, msg, NULL, &error);
  if (reply == NULL || soup_message_get_status (msg) != 201)
    g_error ("bench-room: cannot create the room: %s",
        error ? error->message : soup_message_get_reason_phrase (msg));
}

static gboolean
start_server (Bench *b, const gchar *data_dir)
{
  g_autoptr (GSubprocessLauncher) l = g_subprocess_launcher_new (
      G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_SILENCE);
  const gchar *bin = g_getenv ("HQ_SERVER_BIN");
  g_autoptr (GError) error = NULL;
  g_autoptr (GDataInputStream) out = NULL;

  g_subprocess_launcher_setenv (l, "HQ_ACCOUNT_SID", ACCOUNT, TRUE);
  g_subprocess_launcher_setenv (l, "HQ_API_KEY_SID", KEY_SID, TRUE);
  g_subprocess_launcher_setenv (l, "HQ_API_KEY_SECRET", KEY_SECRET, TRUE);
  b->server =
      g_subprocess_launcher_spawn (l, &error, bin ? bin : HQ_SERVER_DEFAULT,
          "--data-dir", data_dir, "--listen", "127.0.0.1:0", NULL);
  if (b->server == NULL) {
    g_printerr ("bench-room: cannot start hq-server: %s\n", error->message);
    return FALSE;
  }
  out = g_data_input_stream_new (g_subprocess_get_stdout_pipe (b->server));
  while (b->url == NULL) {
    g_autofree gchar *line =
        g_data_input_stream_read_line_utf8 (out, NULL, NULL, NULL);
    const gchar *at;

    if (line == NULL) {
      g_printerr ("bench-room: hq-server exited before listening\n");
      return FALSE;
    }
    if ((at = strstr (line, " listening on ")) != NULL)
      b->url = g_strdup (at + strlen (" listening on "));
  }
  return TRUE;
}

static GstElement *
launch (const gchar *desc)
{
  g_autoptr (GError) error = NULL;
  GstElement *p = gst_parse_launch (desc, &error);

  if (p == NULL)
    g_error ("bench-room: %s: %s", desc, error->message);
  return p;
}

static void
set_room (Bench *b, GstElement *pipeline, const gchar *identity)
{
  g_autoptr (GstElement) room =
      gst_bin_get_by_name (GST_BIN (pipeline), "room");
  g_autofree gchar *token = token_for (identity);

  g_object_set (room, "server", b->url, "room", ROOM, "token", token, NULL);
}

/* Any error ends the benchmark: its figures would mean nothing. */
static gboolean
on_bus (GstBus *bus, GstMessage *msg, gpointer user_data)
{
  if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ERROR) {
    g_autoptr (GError) err = NULL;

    gst_message_parse_error (msg, &err, NULL);
    g_error ("bench-room: error from %s: %s", GST_OBJECT_NAME (msg->src),
        err->message);
  }
  return G_SOURCE_CONTINUE;
}

static GstPadProbeReturn
on_first_frame (GstPad *pad, GstPadProbeInfo *info, gpointer user_data)
{
  Bench *b = user_data;

  if (b->first_frame_at == 0) {
    b->first_frame_at = g_get_monotonic_time ();
    g_main_loop_quit (b->loop);
  }
  return GST_PAD_PROBE_REMOVE;
}

static gboolean
first_frame_timeout (gpointer user_data)
{
  g_error ("bench-room: no frame within %d s", FIRST_FRAME_TIMEOUT_S);
  return G_SOURCE_REMOVE;
}

/* Milliseconds from PLAYING to the first buffer reaching the sink called
 * "out" in @pipeline. */
static gdouble
time_to_first_frame (Bench *b, GstElement *pipeline)
{
  g_autoptr (GstElement) sink = gst_bin_get_by_name (GST_BIN (pipeline), "out");
  g_autoptr (GstPad) pad = gst_element_get_static_pad (sink, "sink");
  g_autoptr (GstBus) bus = gst_element_get_bus (pipeline);
  guint watch = gst_bus_add_watch (bus, on_bus, b);
  guint timer;
  gint64 start;

  b->first_frame_at = 0;
  gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER, on_first_frame, b, NULL);
  timer =
      g_timeout_add_seconds (FIRST_FRAME_TIMEOUT_S, first_frame_timeout, NULL);
  start = g_get_monotonic_time ();
  gst_element_set_state (pipeline, GST_STATE_PLAYING);
  g_main_loop_run (b->loop);
  g_source_remove (timer);
  g_source_remove (watch);
  gst_element_set_state (pipeline, GST_STATE_NULL);
  return (b->first_frame_at - start) / 1000.0;
}

static gint
cmp_double (gconstpointer a, gconstpointer b)
{
  gdouble x = *(const gdouble *)a, y = *(const gdouble *)b;

  return x < y ? -1 : x > y;
}

static void
summarize (gdouble *v, guint n, gdouble *median, gdouble *min, gdouble *max)
{
  qsort (v, n, sizeof (gdouble), (GCompareFunc)cmp_double);
  *median = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
  *min = v[0];
  *max = v[n - 1];
}

static gdouble
process_cpu_seconds (void)
{
  struct rusage ru;

  getrusage (RUSAGE_SELF, &ru);
  return ru.ru_utime.tv_sec + ru.ru_stime.tv_sec
      + (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

static gboolean
quit_loop (gpointer user_data)
{
  g_main_loop_quit (user_data);
  return G_SOURCE_REMOVE;
}

/* CPU seconds this process spends per wall second while @pipeline plays,
 * after a 2 s warm-up (join, first keyframe). */
static gdouble
cpu_per_second (Bench *b, GstElement *pipeline, guint seconds)
{
  g_autoptr (GstBus) bus = gst_element_get_bus (pipeline);
  guint watch = gst_bus_add_watch (bus, on_bus, b);
  gdouble cpu0;
  gint64 t0;

  gst_element_set_state (pipeline, GST_STATE_PLAYING);
  g_timeout_add_seconds (2, quit_loop, b->loop);
  g_main_loop_run (b->loop);
  cpu0 = process_cpu_seconds ();
  t0 = g_get_monotonic_time ();
  g_timeout_add_seconds (seconds, quit_loop, b->loop);
  g_main_loop_run (b->loop);
  cpu0 =
      (process_cpu_seconds () - cpu0) / ((g_get_monotonic_time () - t0) / 1e6);
  g_source_remove (watch);
  gst_element_set_state (pipeline, GST_STATE_NULL);
  return cpu0;
}

int
main (int argc, char **argv)
{
  Bench b = { 0 };
  guint seconds = argc > 1 ? (guint)g_ascii_strtoull (argv[1], NULL, 10) : 10;
  g_autofree gchar *data_dir = g_dir_make_tmp ("hq-bench-room-XXXXXX", NULL);
  gdouble room_ms[RUNS], local_ms[RUNS], med, lo, hi, lmed, llo, lhi;
  gdouble cpu_room, cpu_plain;
  GstElement *publisher;

  if (g_getenv ("GST_PLUGIN_PATH") == NULL)
    g_setenv ("GST_PLUGIN_PATH", HQ_ROOM_PLUGIN_DIR, TRUE);
  gst_init (&argc, &argv);
  if (seconds == 0)
    seconds = 10;
  b.loop = g_main_loop_new (NULL, FALSE);
  if (!start_server (&b, data_dir))
    return 1;
  create_room (&b);

  /* 1. Time to the first decoded frame. */
  publisher = launch (SOURCE " ! hqroomsink name=room");
  set_room (&b, publisher, "bench-publisher");
  gst_element_set_state (publisher, GST_STATE_PLAYING);
  for (guint i = 0; i < RUNS; i++) {
    g_autofree gchar *who = g_strdup_printf ("bench-viewer-%u", i);
    GstElement *viewer = launch ("hqroomsrc name=room kinds=video "
                                 "! fakesink name=out sync=false async=false");

    set_room (&b, viewer, who);
    room_ms[i] = time_to_first_frame (&b, viewer);
    gst_object_unref (viewer);
  }
  gst_element_set_state (publisher, GST_STATE_NULL);
  gst_object_unref (publisher);
  for (guint i = 0; i < RUNS; i++) {
    GstElement *local =
        launch (SOURCE " ! " ENCODER " ! vp8dec "
                       "! fakesink name=out sync=false async=false");

    local_ms[i] = time_to_first_frame (&b, local);
    gst_object_unref (local);
  }
  summarize (room_ms, RUNS, &med, &lo, &hi);
  summarize (local_ms, RUNS, &lmed, &llo, &lhi);
  printf ("first decoded frame after PLAYING (%d subscribers, 720p30 VP8):\n"
          "  hqroomsrc via hq-server   median %7.1f ms  (min %.1f, max %.1f)\n"
          "  local encode+decode       median %7.1f ms  (min %.1f, max %.1f)\n"
          "  ratio room / local        %.2f\n",
      RUNS, med, lo, hi, lmed, llo, lhi, lmed > 0 ? med / lmed : 0);

  /* 2. CPU per published stream. */
  publisher = launch (SOURCE " ! hqroomsink name=room");
  set_room (&b, publisher, "bench-publisher-cpu");
  cpu_room = cpu_per_second (&b, publisher, seconds);
  gst_object_unref (publisher);
  publisher = launch (SOURCE " ! " ENCODER " ! fakesink sync=false");
  cpu_plain = cpu_per_second (&b, publisher, seconds);
  gst_object_unref (publisher);
  printf ("CPU per published 720p30 VP8 stream (%u s each, this process):\n"
          "  videotestsrc ! hqroomsink     %.3f CPU s/s\n"
          "  videotestsrc ! vp8enc (plain) %.3f CPU s/s\n"
          "  ratio room / plain            %.2f\n",
      seconds, cpu_room, cpu_plain, cpu_plain > 0 ? cpu_room / cpu_plain : 0);

  g_subprocess_send_signal (b.server, SIGTERM);
  g_subprocess_wait (b.server, NULL, NULL);
  g_object_unref (b.server);
  g_free (b.url);
  g_main_loop_unref (b.loop);
  hq_test_remove_dir (data_dir);
  return 0;
}
