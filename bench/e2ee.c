/* bench/e2ee: CPU per 720p30 VP8 stream of hqroomsink's publishing chain
 * with end-to-end encryption against the same chain without it, in the
 * same run.
 *
 *   build/bench/bench-e2ee [seconds-of-video, default 10]
 *
 * The chains are hqroomsink's own (ext/room/gsthqroomsink.c) up to the
 * payloader, fed 720p frames made in memory beforehand (bench/benchvideo.c)
 * and ending in a fakesink instead of rtpbin and the network, which do
 * the same work either way:
 *   plain:      videoconvert ! vp8enc ! rtpvp8pay          (no secret)
 *   encrypted:  videoconvert ! vp8enc ! hqframeencrypt ! hqrtpvp8pay
 * vp8enc as hqroomsink sets it, at its 2.5 Mbit/s maximum (the most bytes
 * to encrypt).  Also printed: the same with hqrtpvp8pay and no
 * encryption (the payloader's share), and hqframeencrypt alone on the
 * VP8 frames against identity (the encryption's own cost).  Each figure
 * is the best of three runs, in CPU ms per second of video; the target
 * for the ratio encrypted/plain is 1.05 or less.
 */
#include <stdio.h>
#include <stdlib.h>
#include <gst/gst.h>
#include "benchvideo.h"

#define ENCODER                                                                \
  "appsrc name=src ! videoconvert ! vp8enc deadline=1 cpu-used=8 "             \
  "lag-in-frames=0 end-usage=cbr target-bitrate=2500000 "                      \
  "keyframe-max-dist=300 error-resilient=default threads=1 ! "
#define CRYPT "hqframeencrypt secret=bench-room-secret sender=alice ! "
#define SINK " pt=96 ssrc=1 mtu=1200 ! fakesink sync=false"

int
main (int argc, char **argv)
{
  guint seconds = MAX (1, argc > 1 ? atoi (argv[1]) : 10);
  guint frames = seconds * FPS;
  GstBuffer *raw[FPS], *vp8[FPS];
  gdouble plain, payloader, encrypted, id, crypt;

  g_setenv ("GST_PLUGIN_PATH", HQ_ROOM_PLUGIN_DIR, FALSE);
  gst_init (&argc, &argv);
  for (guint k = 0; k < FPS; k++)
    raw[k] = bench_make_frame (k);
  bench_encode_pool (raw, vp8);

  plain = bench_best_of (ENCODER "rtpvp8pay picture-id-mode=15-bit" SINK, raw,
              vp8, FALSE, frames)
      / seconds;
  payloader =
      bench_best_of (ENCODER "hqrtpvp8pay" SINK, raw, vp8, FALSE, frames)
      / seconds;
  encrypted =
      bench_best_of (ENCODER CRYPT "hqrtpvp8pay" SINK, raw, vp8, FALSE, frames)
      / seconds;
  id = bench_best_of ("appsrc name=src ! identity ! fakesink sync=false", raw,
           vp8, TRUE, frames)
      / seconds;
  crypt = bench_best_of ("appsrc name=src ! " CRYPT "fakesink sync=false", raw,
              vp8, TRUE, frames)
      / seconds;

  printf ("hqroomsink's VP8 chain, one %dx%d %d fps stream, %u s of video, "
          "CPU ms per second of video (best of %d)\n",
      WIDTH, HEIGHT, FPS, seconds, REPEAT);
  printf ("%-50s %10.1f\n", "plain (vp8enc ! rtpvp8pay)", plain * 1000);
  printf ("%-50s %10.1f\n", "vp8enc ! hqrtpvp8pay", payloader * 1000);
  printf ("%-50s %10.1f\n",
      "encrypted (vp8enc ! hqframeencrypt ! "
      "hqrtpvp8pay)",
      encrypted * 1000);
  printf ("%-50s %10.2f (target <= 1.05)\n", "ratio encrypted / plain",
      plain > 0 ? encrypted / plain : 0.0);
  printf ("%-50s %10.3f\n", "hqframeencrypt alone, minus identity",
      (crypt - id) * 1000);
  for (guint k = 0; k < FPS; k++) {
    gst_buffer_unref (raw[k]);
    gst_buffer_unref (vp8[k]);
  }
  return 0;
}
