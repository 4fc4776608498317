/* Helpers of the video benchmarks: see benchvideo.c. */
#ifndef __BENCH_VIDEO_H__
#define __BENCH_VIDEO_H__

#include <gst/gst.h>

#define WIDTH 1280
#define HEIGHT 720
#define FPS 30
#define REPEAT 3

/* CPU seconds of the process, all threads */
gdouble bench_cpu_seconds (void);
/* Frame @k of a moving texture, I420 */
GstBuffer *bench_make_frame (guint k);
/* Queues @frames buffers from @pool (FPS of them, in turn) with FPS
 * timestamps into the appsrc @name of @pipeline, if it has one, then EOS */
void bench_queue_frames (GstElement *pipeline, const gchar *name, GstCaps *caps,
    GstBuffer **pool, guint frames);
GstCaps *bench_raw_caps (void);
GstCaps *bench_vp8_caps (void);
/* CPU seconds of one run of @description over @frames frames: appsrc
 * "src" gets the raw frames, or the VP8 ones when @encoded; "ref" the raw
 * frames.  Exits on an error. */
gdouble bench_run (const gchar *description, GstBuffer **raw, GstBuffer **vp8,
    gboolean encoded, guint frames);
/* The least of REPEAT runs */
gdouble bench_best_of (const gchar *description, GstBuffer **raw,
    GstBuffer **vp8, gboolean encoded, guint frames);
/* @raw (FPS frames) encoded once into @vp8, a keyframe first */
void bench_encode_pool (GstBuffer **raw, GstBuffer **vp8);

#endif /* __BENCH_VIDEO_H__ */
