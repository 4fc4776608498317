/* bench/qualitymeter: CPU cost of hqqualitymeter per 720p30 stream, without
 * a reference and with one (PSNR and SSIM on every frame), against the
 * same pipelines with `identity` in its place, in the same run.
 *
 *   build/bench/bench-qualitymeter [seconds-of-video, default 10]
 *
 * 30 different 1280x720 I420 frames (moving texture) are made in memory
 * beforehand and also encoded once with vp8enc; the runs queue them, in
 * turn, in appsrcs with 30 fps timestamps, so the measured CPU time (of
 * the whole process, all threads, PLAYING to EOS) is the pipeline's work
 * only.  Two baselines: raw frames straight into the element (its own
 * cost, nearly all of the pipeline's) and what a subscriber does, decoding
 * VP8 first.  Pipelines (X = identity, then hqqualitymeter):
 *   raw:     appsrc -> X -> fakesink
 *   decoded: appsrc (VP8) -> vp8dec -> X -> fakesink
 *   SSIM:    appsrc (VP8) -> vp8dec -> X -> fakesink, and the raw frames
 *            from a second appsrc into ref_video_0 (a fakesink for
 *            identity), PSNR and SSIM on every frame
 * Each figure is the best of three runs; printed as CPU milliseconds per
 * second of video and the ratio to the same pipeline with identity.  A
 * stream is real time on one core while its figure stays below 1000 ms.
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <math.h>
#include <gst/gst.h>
#include <gst/app/gstappsrc.h>

#define WIDTH 1280
#define HEIGHT 720
#define FPS 30
#define REPEAT 3

static gdouble
cpu_seconds (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_PROCESS_CPUTIME_ID, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Frame @k of a moving texture, I420. */
static GstBuffer *
make_frame (guint k)
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

static void
queue_frames (GstElement *pipeline, const gchar *name, GstCaps *caps,
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

static GstCaps *
raw_caps (void)
{
  return gst_caps_new_simple ("video/x-raw", "format", G_TYPE_STRING, "I420",
      "width", G_TYPE_INT, WIDTH, "height", G_TYPE_INT, HEIGHT, "framerate",
      GST_TYPE_FRACTION, FPS, 1, NULL);
}

static GstCaps *
vp8_caps (void)
{
  return gst_caps_new_simple ("video/x-vp8", "width", G_TYPE_INT, WIDTH,
      "height", G_TYPE_INT, HEIGHT, "framerate", GST_TYPE_FRACTION, FPS, 1,
      NULL);
}

/* CPU seconds of one run of @description over @frames frames: appsrc
 * "src" gets @src_pool (VP8 when @encoded), "ref" the raw frames. */
static gdouble
run (const gchar *description, GstBuffer **raw, GstBuffer **vp8,
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
  caps = encoded ? vp8_caps () : raw_caps ();
  queue_frames (pipeline, "src", caps, encoded ? vp8 : raw, frames);
  gst_caps_unref (caps);
  caps = raw_caps ();
  queue_frames (pipeline, "ref", caps, raw, frames);
  gst_caps_unref (caps);

  bus = gst_element_get_bus (pipeline);
  start = cpu_seconds ();
  gst_element_set_state (pipeline, GST_STATE_PLAYING);
  msg = gst_bus_timed_pop_filtered (
      bus, GST_CLOCK_TIME_NONE, GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
  used = cpu_seconds () - start;
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

static gdouble
best_of (const gchar *description, GstBuffer **raw, GstBuffer **vp8,
    gboolean encoded, guint frames)
{
  gdouble best = G_MAXDOUBLE;

  for (guint i = 0; i < REPEAT; i++)
    best = MIN (best, run (description, raw, vp8, encoded, frames));
  return best;
}

/* The raw frames encoded once, in order: a keyframe first, so that the
 * 30 frames can be decoded again and again in a loop. */
static void
encode_pool (GstBuffer **raw, GstBuffer **vp8)
{
  GstElement *pipeline = gst_parse_launch (
      "appsrc name=src ! vp8enc deadline=1 keyframe-max-dist=1000 "
      "target-bitrate=2000000 ! appsink name=out sync=false",
      NULL);
  GstElement *out = gst_bin_get_by_name (GST_BIN (pipeline), "out");
  GstCaps *caps = raw_caps ();

  queue_frames (pipeline, "src", caps, raw, FPS);
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

int
main (int argc, char **argv)
{
  guint seconds = MAX (1, argc > 1 ? atoi (argv[1]) : 10);
  guint frames = seconds * FPS;
  GstBuffer *raw[FPS], *vp8[FPS];
  static const gchar *const names[] = { "raw frames", "decoded VP8",
    "decoded VP8 + reference" };
  static const gchar *const pipelines[][2] = {
    { "appsrc name=src ! identity ! fakesink sync=false",
        "appsrc name=src ! m.video_0 hqqualitymeter name=m "
        "m.src_video_0 ! fakesink sync=false" },
    { "appsrc name=src ! vp8dec ! identity ! fakesink sync=false",
        "appsrc name=src ! vp8dec ! m.video_0 hqqualitymeter name=m "
        "m.src_video_0 ! fakesink sync=false" },
    { "appsrc name=src ! vp8dec ! identity ! fakesink sync=false "
      "appsrc name=ref ! fakesink sync=false",
        "appsrc name=src ! vp8dec ! m.video_0 "
        "appsrc name=ref ! m.ref_video_0 hqqualitymeter name=m "
        "m.src_video_0 ! fakesink sync=false" },
  };

  g_setenv ("GST_PLUGIN_PATH", HQ_QUALITYMETER_PLUGIN_DIR, FALSE);
  gst_init (&argc, &argv);
  for (guint k = 0; k < FPS; k++)
    raw[k] = make_frame (k);
  encode_pool (raw, vp8);

  printf ("hqqualitymeter, one %dx%d %d fps stream, %u s of video, CPU ms "
          "per second of video (best of %d)\n",
      WIDTH, HEIGHT, FPS, seconds, REPEAT);
  printf ("%-26s %10s %10s %8s %10s\n", "", "identity", "meter", "ratio",
      "meter's own");
  for (guint i = 0; i < G_N_ELEMENTS (pipelines); i++) {
    gdouble id = best_of (pipelines[i][0], raw, vp8, i > 0, frames) / seconds;
    gdouble meter =
        best_of (pipelines[i][1], raw, vp8, i > 0, frames) / seconds;
    printf ("%-26s %10.1f %10.1f %8.2f %10.1f\n", names[i], id * 1000,
        meter * 1000, id > 0 ? meter / id : 0.0, (meter - id) * 1000);
  }
  for (guint k = 0; k < FPS; k++) {
    gst_buffer_unref (raw[k]);
    gst_buffer_unref (vp8[k]);
  }
  return 0;
}
