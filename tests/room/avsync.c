/* hq-avsync: measures how far apart a room participant's audio and video
 * arrive at a subscriber (issue #6: within 40 ms).
 *
 *   hq-avsync publish SERVER ROOM IDENTITY [VIDEO_DELAY_MS]
 *   hq-avsync measure SERVER ROOM IDENTITY MARKS [LATENCY_MS]
 *
 * publish: hqroomsink with a 30 fps black test picture that turns white and
 * a silent 48 kHz tone that beeps (1 kHz) for the first 200 ms of every
 * second of running time: the marks start at the same instant in both.
 * The pictures are timed from 0 (paced by clocksync, as a camera would
 * deliver them), so that a frame starts at every whole second: a live
 * videotestsrc starts its frames at whatever running time it starts, and
 * its flash then began up to a frame (33 ms) after the beep, a different
 * amount in every run (the "residual offset" of earlier measurements).
 * VIDEO_DELAY_MS holds the pictures back before the encoder, as a slow
 * camera or encoder does; their timestamps stay the capture times, so the
 * RTP clocks and sender reports tell the truth and the subscriber has to
 * line the streams up from them.
 *
 * measure: hqroomsrc, decoded; for each pair of onsets (a frame turning
 * white, a sample turning loud) it prints a line
 *   mark N video_ms=V audio_ms=A skew_ms=S
 * with the running times on the subscriber's pipeline clock (what a sink
 * that syncs renders by) and S = A - V, until MARKS marks were seen.
 * LATENCY_MS sets hqroomsrc's latency (its default otherwise).
 * The room client mints tokens from HQ_API_KEY_SID/HQ_API_KEY_SECRET.
 */
#include <glib-unix.h>
#include <gst/gst.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/avmarks.h"

#define WIDTH 320
#define HEIGHT 240
#define RATE 48000
#define QUIET_BEFORE 0.3 /* s of silence or black before an onset counts */
#define PAIR_WITHIN (0.5 * GST_SECOND)

static GMainLoop *loop;
static gint exit_code = 1;

/* the first 200 ms of every second */
static const HqAvMarks every_second = {
  .first = 0, .period = 1, .length = 0.2
};

/* ---- publish ---- */

static GstElement *
publish_pipeline (gchar **argv, gint argc, GError **error)
{
  guint delay_ms = argc > 5 ? (guint)atoi (argv[5]) : 0;
  gchar *desc = g_strdup_printf (
      "hqroomsink name=s server=%s room=%s identity=%s "
      "videotestsrc name=v is-live=false pattern=black ! "
      "video/x-raw,format=I420,width=%d,height=%d,framerate=30/1 ! "
      "clocksync ! queue max-size-buffers=0 max-size-bytes=0 "
      "max-size-time=5000000000 "
      "min-threshold-time=%" G_GUINT64_FORMAT " ! s.video_0 "
      "audiotestsrc name=a is-live=true samplesperbuffer=480 ! "
      "audio/x-raw,format=S16LE,rate=%d,channels=1 ! s.audio_0",
      argv[2], argv[3], argv[4], WIDTH, HEIGHT, (guint64)delay_ms * GST_MSECOND,
      RATE);
  GstElement *pipeline = gst_parse_launch (desc, error);

  g_free (desc);
  if (!pipeline)
    return NULL;
  hq_av_marks_flash (pipeline, "v", &every_second, WIDTH * HEIGHT, 235);
  hq_av_marks_beep (pipeline, "a", &every_second, RATE);
  return pipeline;
}

/* ---- measure ---- */

typedef struct
{
  GMutex lock;
  GArray *video; /* onsets, GstClockTime running time */
  GArray *audio;
  guint marks;
  guint wanted;
} Marks;

static Marks marks;

typedef struct
{
  gboolean audio;
  GstClockTime quiet_since; /* running time the signal went quiet */
  gboolean loud;
} Detector;

static void
onset (gboolean audio, GstClockTime rt)
{
  GArray *mine, *other;

  g_mutex_lock (&marks.lock);
  mine = audio ? marks.audio : marks.video;
  other = audio ? marks.video : marks.audio;
  for (guint i = 0; i < other->len; i++) {
    GstClockTime o = g_array_index (other, GstClockTime, i);
    GstClockTime v = audio ? o : rt, a = audio ? rt : o;

    if (ABS ((gint64)(a - v)) < (gint64)PAIR_WITHIN) {
      g_array_remove_range (other, 0, i + 1);
      marks.marks++;
      g_print ("mark %u video_ms=%.1f audio_ms=%.1f skew_ms=%.1f\n",
          marks.marks, v / 1e6, a / 1e6, ((gint64)a - (gint64)v) / 1e6);
      if (marks.marks >= marks.wanted) {
        exit_code = 0;
        g_main_loop_quit (loop);
      }
      g_mutex_unlock (&marks.lock);
      return;
    }
  }
  g_array_append_val (mine, rt);
  /* onsets that never found a partner are of no use after a while */
  while (mine->len > 8)
    g_array_remove_index (mine, 0);
  g_mutex_unlock (&marks.lock);
}

/* Feeds the detector one level reading at running time @rt. */
static void
detect (Detector *d, gboolean loud, GstClockTime rt)
{
  /* (a timeline that jumped back is no new onset) */
  if (loud && !d->loud && GST_CLOCK_TIME_IS_VALID (d->quiet_since)
      && rt >= d->quiet_since
      && rt - d->quiet_since >= QUIET_BEFORE * GST_SECOND)
    onset (d->audio, rt);
  if (!loud && (d->loud || !GST_CLOCK_TIME_IS_VALID (d->quiet_since)))
    d->quiet_since = rt;
  d->loud = loud;
}

static GstPadProbeReturn
measure_probe (GstPad *pad, GstPadProbeInfo *info, gpointer user_data)
{
  Detector *d = user_data;
  GstBuffer *buf = GST_PAD_PROBE_INFO_BUFFER (info);
  GstEvent *ev = gst_pad_get_sticky_event (pad, GST_EVENT_SEGMENT, 0);
  const GstSegment *seg;
  GstClockTime rt;
  GstMapInfo map;

  if (!ev || !GST_BUFFER_PTS_IS_VALID (buf)) {
    if (ev)
      gst_event_unref (ev);
    return GST_PAD_PROBE_OK;
  }
  gst_event_parse_segment (ev, &seg);
  rt = gst_segment_to_running_time (seg, GST_FORMAT_TIME, GST_BUFFER_PTS (buf));
  gst_event_unref (ev);
  if (!GST_CLOCK_TIME_IS_VALID (rt))
    return GST_PAD_PROBE_OK;
  gst_buffer_map (buf, &map, GST_MAP_READ);
  if (d->audio) {
    const gint16 *s = (const gint16 *)map.data;

    for (gsize i = 0; i < map.size / 2; i++)
      detect (d, ABS (s[i]) > 4000,
          rt + gst_util_uint64_scale (i, GST_SECOND, RATE));
  } else if (map.size >= WIDTH * HEIGHT) {
    guint64 sum = 0;

    for (gsize i = 0; i < WIDTH * HEIGHT; i += 7)
      sum += map.data[i];
    detect (d, sum * 7 / (WIDTH * HEIGHT) > 128, rt);
  }
  gst_buffer_unmap (buf, &map);
  return GST_PAD_PROBE_OK;
}

static void
pad_added (GstElement *src, GstPad *pad, gpointer user_data)
{
  GstElement *pipeline = user_data;
  gboolean audio = g_str_has_prefix (GST_PAD_NAME (pad), "audio_");
  const gchar *desc = audio
      ? "audioconvert ! audioresample ! "
        "audio/x-raw,format=S16LE,rate=48000,channels=1 ! "
        "fakesink name=sink sync=false"
      : "videoconvert ! videoscale ! "
        "video/x-raw,format=I420,width=320,height=240 ! "
        "fakesink name=sink sync=false";
  GError *error = NULL;
  GstElement *branch = gst_parse_bin_from_description (desc, TRUE, &error);
  GstElement *sink;
  GstPad *sinkpad, *target;
  Detector *d;

  if (!branch) {
    g_printerr ("branch: %s\n", error->message);
    g_error_free (error);
    return;
  }
  gst_bin_add (GST_BIN (pipeline), branch);
  sink = gst_bin_get_by_name (GST_BIN (branch), "sink");
  target = gst_element_get_static_pad (sink, "sink");
  d = g_new0 (Detector, 1);
  d->audio = audio;
  d->quiet_since = GST_CLOCK_TIME_NONE;
  gst_pad_add_probe (
      target, GST_PAD_PROBE_TYPE_BUFFER, measure_probe, d, g_free);
  gst_object_unref (target);
  gst_object_unref (sink);
  sinkpad = gst_element_get_static_pad (branch, "sink");
  gst_element_sync_state_with_parent (branch);
  if (gst_pad_link (pad, sinkpad) != GST_PAD_LINK_OK)
    g_printerr ("could not link %s\n", GST_PAD_NAME (pad));
  gst_object_unref (sinkpad);
  g_print ("pad %s\n", GST_PAD_NAME (pad));
}

static GstElement *
measure_pipeline (gchar **argv, gint argc, GError **error)
{
  GstElement *pipeline, *src;
  gchar *desc;

  if (argc < 6) {
    g_set_error (error, GST_CORE_ERROR, GST_CORE_ERROR_FAILED, "MARKS missing");
    return NULL;
  }
  marks.wanted = (guint)atoi (argv[5]);
  marks.video = g_array_new (FALSE, FALSE, sizeof (GstClockTime));
  marks.audio = g_array_new (FALSE, FALSE, sizeof (GstClockTime));
  desc = g_strdup_printf ("hqroomsrc name=r server=%s room=%s identity=%s%s%s",
      argv[2], argv[3], argv[4], argc > 6 ? " latency=" : "",
      argc > 6 ? argv[6] : "");
  pipeline = gst_parse_launch (desc, error);
  g_free (desc);
  if (!pipeline)
    return NULL;
  if (!GST_IS_PIPELINE (pipeline)) {
    GstElement *p = gst_pipeline_new (NULL);

    gst_bin_add (GST_BIN (p), pipeline);
    pipeline = p;
  }
  src = gst_bin_get_by_name (GST_BIN (pipeline), "r");
  g_signal_connect (src, "pad-added", G_CALLBACK (pad_added), pipeline);
  gst_object_unref (src);
  return pipeline;
}

static gboolean
on_bus (GstBus *bus, GstMessage *msg, gpointer user_data)
{
  switch (GST_MESSAGE_TYPE (msg)) {
    case GST_MESSAGE_ERROR: {
      GError *error = NULL;
      gchar *dbg = NULL;

      gst_message_parse_error (msg, &error, &dbg);
      g_printerr ("error: %s (%s)\n", error->message, dbg ? dbg : "");
      g_error_free (error);
      g_free (dbg);
      exit_code = 1;
      g_main_loop_quit (loop);
      break;
    }
    case GST_MESSAGE_ELEMENT:
      if (gst_message_has_name (msg, "hq-joined"))
        g_print ("joined\n");
      break;
    default:
      break;
  }
  return G_SOURCE_CONTINUE;
}

static gboolean
on_signal (gpointer user_data)
{
  exit_code = 0;
  g_main_loop_quit (loop);
  return G_SOURCE_REMOVE;
}

int
main (int argc, char **argv)
{
  GError *error = NULL;
  GstElement *pipeline = NULL;
  GstBus *bus;

  gst_init (&argc, &argv);
  g_mutex_init (&marks.lock);
  if (argc >= 5 && strcmp (argv[1], "publish") == 0)
    pipeline = publish_pipeline (argv, argc, &error);
  else if (argc >= 5 && strcmp (argv[1], "measure") == 0)
    pipeline = measure_pipeline (argv, argc, &error);
  else {
    g_printerr ("usage: %s publish SERVER ROOM IDENTITY [VIDEO_DELAY_MS]\n"
                "       %s measure SERVER ROOM IDENTITY MARKS [LATENCY_MS]\n",
        argv[0], argv[0]);
    return 2;
  }
  if (!pipeline || error) {
    /* gst_parse_launch() also returns a pipeline it could not fully build */
    g_printerr ("error: %s\n", error ? error->message : "no pipeline");
    g_clear_error (&error);
    if (pipeline)
      gst_object_unref (pipeline);
    return 1;
  }
  loop = g_main_loop_new (NULL, FALSE);
  bus = gst_element_get_bus (pipeline);
  gst_bus_add_watch (bus, on_bus, NULL);
  g_unix_signal_add (SIGTERM, on_signal, NULL);
  g_unix_signal_add (SIGINT, on_signal, NULL);
  if (gst_element_set_state (pipeline, GST_STATE_PLAYING)
      == GST_STATE_CHANGE_FAILURE) {
    g_printerr ("error: could not start the pipeline\n");
  } else {
    g_main_loop_run (loop);
  }
  gst_element_set_state (pipeline, GST_STATE_NULL);
  gst_bus_remove_watch (bus);
  gst_object_unref (bus);
  gst_object_unref (pipeline);
  g_main_loop_unref (loop);
  if (marks.video) {
    g_array_unref (marks.video);
    g_array_unref (marks.audio);
  }
  g_mutex_clear (&marks.lock);
  return exit_code;
}
