/* Shared by the video benchmarks (bench/qualitymeter.c, bench/e2ee.c):
 * 720p30 frames made in memory, queued into appsrcs, and the CPU time of
 * the whole process from PLAYING to EOS. */
#include "benchvideo.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <math.h>
#include <gst/app/gstappsrc.h>

gdouble
bench_cpu_seconds (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_PROCESS_CPUTIME_ID, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Frame @k of a moving texture, I420. */
GstBuffer *
bench_make_frame (guint k)
{
  gsize luma = WIDTH * HEIGHT, chroma = luma / 4;
  GstBuffer *buf = gst_buffer_new_allocate (NULL, luma + 2 * chroma, NULL);
  GstMapInfo map;

  gst_buffer_map (buf, &map, GST_MAP_WRITE);
  for (guint y = 0; y < HEIGHT; y++)
    for (guint x = 0; x < WIDTH; x++)
      map.data[y * WIDTH + x] = (guint8)(128
          + 80 * sin ((x + 8.0 * k) / 23.0) * cos ((y + 3.0 * k) / 17.0)
          + ((x ^ y) & 15));
  for (gsize i = luma; i < map.size; i++)
    map.data[i] = (guint8)(128 + (i + k) % 32);
  gst_buffer_unmap (buf, &map);
  return buf;
}

void
bench_queue_frames (GstElement *pipeline, const gchar *name, GstCaps *caps,
    GstBuffer **pool, guint frames)
{
  GstElement *src = gst_bin_get_by_name (GST_BIN (pipeline), name);

  if (!src)
    return;
  g_object_set (src, "caps", caps, "format", GST_FORMAT_TIME, "max-bytes",
      (guint64)0, "block", FALSE, NULL);
  for (guint k = 0; k < frames; k++) {
    GstBuffer *buf = gst_buffer_copy (pool[k % FPS]);
    GST_BUFFER_PTS (buf) = gst_util_uint64_scale (k, GST_SECOND, FPS);
    GST_BUFFER_DURATION (buf) = GST_SECOND / FPS;
    gst_app_src_push_buffer (GST_APP_SRC (src), buf);
  }
  gst_app_src_end_of_stream (GST_APP_SRC (src));
  gst_object_unref (src);
}

GstCaps *
bench_raw_caps (void)
{
  return gst_caps_new_simple ("video/x-raw", "format", G_TYPE_STRING, "I420",
      "width", G_TYPE_INT, WIDTH, "height", G_TYPE_INT, HEIGHT, "framerate",
      GST_TYPE_FRACTION, FPS, 1, NULL);
}

GstCaps *
bench_vp8_caps (void)
{
  return gst_caps_new_simple ("video/x-vp8", "width", G_TYPE_INT, WIDTH,
      "height", G_TYPE_INT, HEIGHT, "framerate", GST_TYPE_FRACTION, FPS, 1,
      NULL);
}

/* CPU seconds of one run of @description over @frames frames: appsrc
 * "src" gets @src_pool (VP8 when @encoded), "ref" the raw frames. */
gdouble
bench_run (const gchar *description, GstBuffer **raw, GstBuffer **vp8,
    gboolean encoded, guint frames)
{
  GError *error = NULL;
  GstElement *pipeline = gst_parse_launch (description, &error);
  GstCaps *caps;
  GstBus *bus;
  GstMessage *msg;
  gdouble start, used;

  if (!pipeline) {
    g_printerr ("cannot build %s: %s\n", description, error->message);
    exit (1);
  }
  caps = encoded ? bench_vp8_caps () : bench_raw_caps ();
  bench_queue_frames (pipeline, "src", caps, encoded ? vp8 : raw, frames);
  gst_caps_unref (caps);
  caps = bench_raw_caps ();
  bench_queue_frames (pipeline, "ref", caps, raw, frames);
  gst_caps_unref (caps);

  bus = gst_element_get_bus (pipeline);
  start = bench_cpu_seconds ();
  gst_element_set_state (pipeline, GST_STATE_PLAYING);
  msg = gst_bus_timed_pop_filtered (
      bus, GST_CLOCK_TIME_NONE, GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
  used = bench_cpu_seconds () - start;
  if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ERROR) {
    GError *err;
    gst_message_parse_error (msg, &err, NULL);
    g_printerr ("%s: %s\n", description, err->message);
    exit (1);
  }
  gst_message_unref (msg);
  gst_element_set_state (pipeline, GST_STATE_NULL);
  gst_object_unref (bus);
  gst_object_unref (pipeline);
  return used;
}

gdouble
bench_best_of (const gchar *description, GstBuffer **raw, GstBuffer **vp8,
    gboolean encoded, guint frames)
{
  gdouble best = G_MAXDOUBLE;

  for (guint i = 0; i < REPEAT; i++)
    best = MIN (best, bench_run (description, raw, vp8, encoded, frames));
  return best;
}

/* The raw frames encoded once, in order: a keyframe first, so that the
 * 30 frames can be decoded again and again in a loop. */
void
bench_encode_pool (GstBuffer **raw, GstBuffer **vp8)
{
  GstElement *pipeline = gst_parse_launch (
      "appsrc name=src ! vp8enc deadline=1 keyframe-max-dist=1000 "
      "target-bitrate=2000000 ! appsink name=out sync=false",
      NULL);
  GstElement *out = gst_bin_get_by_name (GST_BIN (pipeline), "out");
  GstCaps *caps = bench_raw_caps ();

  bench_queue_frames (pipeline, "src", caps, raw, FPS);
  gst_caps_unref (caps);
  gst_element_set_state (pipeline, GST_STATE_PLAYING);
  for (guint k = 0; k < FPS; k++) {
    GstSample *sample = NULL;
    g_signal_emit_by_name (out, "pull-sample", &sample);
    if (!sample) {
      g_printerr ("vp8enc gave %u frames of %d\n", k, FPS);
      exit (1);
    }
    vp8[k] = gst_buffer_ref (gst_sample_get_buffer (sample));
    gst_sample_unref (sample);
  }
  gst_element_set_state (pipeline, GST_STATE_NULL);
  gst_object_unref (out);
  gst_object_unref (pipeline);
}
