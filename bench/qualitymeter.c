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
#include <gst/gst.h>
#include "benchvideo.h"

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
    raw[k] = bench_make_frame (k);
  bench_encode_pool (raw, vp8);

  printf ("hqqualitymeter, one %dx%d %d fps stream, %u s of video, CPU ms "
          "per second of video (best of %d)\n",
      WIDTH, HEIGHT, FPS, seconds, REPEAT);
  printf ("%-26s %10s %10s %8s %10s\n", "", "identity", "meter", "ratio",
      "meter's own");
  for (guint i = 0; i < G_N_ELEMENTS (pipelines); i++) {
    gdouble id =
        bench_best_of (pipelines[i][0], raw, vp8, i > 0, frames) / seconds;
    gdouble meter =
        bench_best_of (pipelines[i][1], raw, vp8, i > 0, frames) / seconds;
    printf ("%-26s %10.1f %10.1f %8.2f %10.1f\n", names[i], id * 1000,
        meter * 1000, id > 0 ? meter / id : 0.0, (meter - id) * 1000);
  }
  for (guint k = 0; k < FPS; k++) {
    gst_buffer_unref (raw[k]);
    gst_buffer_unref (vp8[k]);
  }
  return 0;
}
