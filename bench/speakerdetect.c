/* bench/speakerdetect: CPU cost of hqspeakerdetect per stream per second of
 * audio, for 2, 10 and 50 streams, against GStreamer's `level` element on
 * the same streams in the same run.
 *
 *   build/bench/bench-speakerdetect [seconds-of-audio-per-stream]
 *
 * Every stream is 48 kHz mono S16 (what WebRTC audio decodes to), made in
 * memory beforehand and queued in an appsrc, so the measured CPU time (of
 * the whole process, all threads, from PLAYING to EOS) is the pipeline's
 * work only.  Three pipelines per stream count:
 *   sources -> fakesink                         (the floor, subtracted)
 *   sources -> level interval=20ms -> fakesink  (baseline, also without
 *                                                its messages)
 *   sources -> hqspeakerdetect -> fakesink      (one element, N pads)
 * level measures per 20 ms, as RFC 6464 levels are; its messages are
 * dropped at the bus, as are hqspeakerdetect's.  Each figure is the best
 * of three runs.
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <math.h>
#include <gst/gst.h>
#include <gst/app/gstappsrc.h>

#define RATE 48000
#define CHUNK_MS 20
#define N_SIGNALS 10
#define REPEAT 3

static gdouble
cpu_seconds (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_PROCESS_CPUTIME_ID, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* @seconds of talk-like audio: noisy tone syllables of random length and
 * loudness, pauses with faint noise; different for every @seed. */
static GstBuffer *
make_signal (guint seed, guint seconds)
{
  guint n = RATE * seconds;
  GstBuffer *buf = gst_buffer_new_allocate (NULL, n * 2, NULL);
  GRand *rand = g_rand_new_with_seed (seed);
  GstMapInfo map;
  gint16 *s;
  gdouble amplitude = 0, freq = 200 + 20 * seed;
  guint left = 0;

  gst_buffer_map (buf, &map, GST_MAP_WRITE);
  s = (gint16 *)map.data;
  for (guint i = 0; i < n; i++) {
    if (left-- == 0) {
      left = g_rand_int_range (rand, RATE / 20, RATE / 2);
      amplitude =
          g_rand_boolean (rand) ? g_rand_double_range (rand, 0.05, 0.5) : 0.001;
    }
    s[i] = (gint16)(32767 * amplitude
        * (0.7 * sin (2 * G_PI * freq * i / RATE)
            + 0.3 * g_rand_double_range (rand, -1, 1)));
  }
  gst_buffer_unmap (buf, &map);
  g_rand_free (rand);
  return buf;
}

static GstBusSyncReply
drop_element_messages (GstBus *bus, GstMessage *message, gpointer data)
{
  return GST_MESSAGE_TYPE (message) == GST_MESSAGE_ELEMENT ? GST_BUS_DROP
                                                           : GST_BUS_PASS;
}

typedef enum
{
  FLOOR,
  LEVEL,
  LEVEL_QUIET,
  DETECT,
} Kind;

/* CPU seconds that @n streams of @signals take through a @kind pipeline. */
static gdouble
run (Kind kind, guint n, GstBuffer **signals, guint seconds)
{
  GstElement *pipeline = gst_pipeline_new (NULL);
  GstElement *detect = NULL;
  GstCaps *caps =
      gst_caps_from_string ("audio/x-raw, format=S16LE, "
                            "rate=48000, channels=1, layout=interleaved");
  GstBus *bus = gst_element_get_bus (pipeline);
  GstMessage *m;
  gsize chunk = RATE * CHUNK_MS / 1000 * 2;
  gdouble t0;

  gst_bus_set_sync_handler (bus, drop_element_messages, NULL, NULL);
  if (kind == DETECT) {
    detect = gst_element_factory_make ("hqspeakerdetect", NULL);
    gst_bin_add (GST_BIN (pipeline), detect);
  }
  for (guint i = 0; i < n; i++) {
    GstElement *src = gst_element_factory_make ("appsrc", NULL);
    GstElement *sink = gst_element_factory_make ("fakesink", NULL);
    GstBuffer *signal = signals[i % N_SIGNALS];

    g_object_set (src, "caps", caps, "format", GST_FORMAT_TIME, "max-bytes",
        (guint64)0, NULL);
    g_object_set (sink, "sync", FALSE, NULL);
    gst_bin_add_many (GST_BIN (pipeline), src, sink, NULL);
    if (kind == FLOOR) {
      gst_element_link (src, sink);
    } else if (kind == LEVEL || kind == LEVEL_QUIET) {
      GstElement *level = gst_element_factory_make ("level", NULL);
      g_object_set (level, "interval", (guint64)CHUNK_MS * GST_MSECOND,
          "post-messages", kind == LEVEL, NULL);
      gst_bin_add (GST_BIN (pipeline), level);
      gst_element_link_many (src, level, sink, NULL);
    } else {
      gchar *sink_name = g_strdup_printf ("sink_%u", i);
      gchar *src_name = g_strdup_printf ("src_%u", i);
      gst_element_link_pads (src, "src", detect, sink_name);
      gst_element_link_pads (detect, src_name, sink, "sink");
      g_free (sink_name);
      g_free (src_name);
    }
    for (gsize off = 0; off + chunk <= gst_buffer_get_size (signal)
         && off / chunk < (gsize)seconds * 1000 / CHUNK_MS;
         off += chunk) {
      GstBuffer *b =
          gst_buffer_copy_region (signal, GST_BUFFER_COPY_ALL, off, chunk);
      GST_BUFFER_PTS (b) = off / chunk * CHUNK_MS * GST_MSECOND;
      GST_BUFFER_DURATION (b) = CHUNK_MS * GST_MSECOND;
      gst_app_src_push_buffer (GST_APP_SRC (src), b);
    }
    gst_app_src_end_of_stream (GST_APP_SRC (src));
  }
  gst_caps_unref (caps);

  t0 = cpu_seconds ();
  gst_element_set_state (pipeline, GST_STATE_PLAYING);
  m = gst_bus_timed_pop_filtered (
      bus, 600 * GST_SECOND, GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
  t0 = cpu_seconds () - t0;
  if (m == NULL || GST_MESSAGE_TYPE (m) != GST_MESSAGE_EOS) {
    fprintf (stderr, "pipeline did not finish\n");
    exit (1);
  }
  gst_message_unref (m);
  gst_element_set_state (pipeline, GST_STATE_NULL);
  gst_object_unref (bus);
  gst_object_unref (pipeline);
  return t0;
}

/* The least of REPEAT runs: the others were disturbed by something else
 * on the machine. */
static gdouble
best_of (Kind kind, guint n, GstBuffer **signals, guint seconds)
{
  gdouble best = G_MAXDOUBLE;

  for (guint r = 0; r < REPEAT; r++)
    best = MIN (best, run (kind, n, signals, seconds));
  return best;
}

int
main (int argc, char **argv)
{
  guint seconds = argc > 1 ? (guint)atoi (argv[1]) : 20;
  const guint counts[] = { 2, 10, 50 };
  GstBuffer *signals[N_SIGNALS];

  gst_init (&argc, &argv);
  gst_registry_scan_path (gst_registry_get (), HQ_SPEAKERDETECT_PLUGIN_DIR);
  if (seconds == 0 || seconds > 600) {
    fprintf (
        stderr, "usage: %s [seconds of audio per stream, 1..600]\n", argv[0]);
    return 2;
  }
  if (!gst_element_factory_find ("hqspeakerdetect")) {
    fprintf (stderr, "hqspeakerdetect not found in %s\n",
        HQ_SPEAKERDETECT_PLUGIN_DIR);
    return 1;
  }
  for (guint i = 0; i < N_SIGNALS; i++)
    signals[i] = make_signal (i + 1, seconds);

  printf ("speakerdetect bench: %u s of 48 kHz mono S16 per stream, CPU "
          "time per stream per second of audio (pipeline floor subtracted)\n",
      seconds);
  printf ("  streams      level  level(no msgs)  hqspeakerdetect  "
          "ratio to level, to level(no msgs)   (floor)\n");
  for (guint c = 0; c < G_N_ELEMENTS (counts); c++) {
    guint n = counts[c];
    gdouble audio = (gdouble)n * seconds;
    gdouble floor_cpu = best_of (FLOOR, n, signals, seconds);
    gdouble level_cpu = best_of (LEVEL, n, signals, seconds) - floor_cpu;
    gdouble quiet_cpu = best_of (LEVEL_QUIET, n, signals, seconds) - floor_cpu;
    gdouble detect_cpu = best_of (DETECT, n, signals, seconds) - floor_cpu;

    printf ("  %7u  %6.1f us  %11.1f us  %12.1f us  %9.2fx %17.2fx   "
            "(%.1f us)\n",
        n, 1e6 * level_cpu / audio, 1e6 * quiet_cpu / audio,
        1e6 * detect_cpu / audio, detect_cpu / level_cpu,
        detect_cpu / quiet_cpu, 1e6 * floor_cpu / audio);
  }
  for (guint i = 0; i < N_SIGNALS; i++)
    gst_buffer_unref (signals[i]);
  return 0;
}
