/* What the files of hqqualitymeter (gsthqqualitymeter.c,
 * hqqualitymeter-measure.c, hqqualitymeter-report.c) share: the figures a
 * stream collects, the instance structures and the functions one file
 * calls in another.  Private to the plugin.
 */
#pragma once

#include "gsthqqualitymeter.h"

#include <gst/audio/audio.h>
#include <gst/video/video.h>
#include <hq/hqquality.h>

G_BEGIN_DECLS

GST_DEBUG_CATEGORY_EXTERN (hq_quality_meter_debug);

#define DEFAULT_INTERVAL GST_SECOND
/* An audio buffer that starts this much after the previous one ended
 * leaves a gap (audiobasesink's default alignment threshold). */
#define AUDIO_GAP_THRESHOLD (40 * GST_MSECOND)
#define AUDIO_BLOCK_MS 10
/* In a live pipeline, how long after an interval's end (plus upstream's
 * latency) the clock closes it for a stream that sent nothing. */
#define LIVE_STALL_GRACE (200 * GST_MSECOND)
/* Reference pairing: frames waiting for their counterpart, per side. */
#define MAX_PENDING_FRAMES 90

typedef enum
{
  KIND_VIDEO,
  KIND_AUDIO,
  KIND_REF,
} StreamKind;

/* What a stream did over some time: one interval, or the whole visit. */
typedef struct
{
  GstClockTime duration;
  guint64 frames;
  guint64 frozen_content;
  guint64 black;
  guint resolution_changes;
  guint freeze_count;
  GstClockTime freezes;
  guint pause_count;
  GstClockTime pauses;
  guint64 bytes;
  guint gaps;
  GstClockTime gap_time;
  GstClockTime concealed;
  GstClockTime audio_time;
  guint64 blocks;
  guint64 silent_blocks;
  guint64 samples;
  guint64 clipped;
  guint64 compared;
  gdouble psnr_sum;
  gdouble ssim_sum;
  /* Network figures from an upstream hqroomsrc pad's stats, over net_time
   * (the part of the duration they cover); the sums are weighted by
   * seconds. */
  GstClockTime net_time;
  guint64 net_received;
  guint64 net_expected;
  guint64 net_unrecovered;
  guint64 net_nacks;
  guint64 net_bytes;
  gdouble net_jitter_sum;
  gdouble net_rtt_sum;
  gdouble net_r_sum;
  /* Visit only: time-weighted sum of the intervals' MOS. */
  gdouble mos_weighted;
  gint width;
  gint height;
} Figures;

/* A luma plane waiting for its counterpart. */
typedef struct
{
  GstClockTime running_time;
  GstClockTime tolerance;
  guint width;
  guint height;
  guint8 *y; /* width x height, contiguous */
} LumaFrame;

/* video_N and ref_video_N; element object lock. */
typedef struct
{
  GQueue main; /* of LumaFrame, in time order */
  GQueue ref;
  gboolean have_ref_pad;
  gboolean ref_eos;
  guint64 compared;
  gdouble psnr_sum;
  gdouble ssim_sum;
} RefPair;

struct _GstHqQualityMeterPad
{
  GstPad parent;

  /* Set once at creation, then read-only. */
  GstPad *srcpad; /* NULL for a reference pad */
  StreamKind kind;
  guint index;

  /* Pad object lock. */
  gchar *participant;
  gchar *tag_participant;

  /* Streaming thread only. */
  GstSegment segment;
  gboolean have_caps;
  gboolean raw; /* video/x-raw: no bitrate to measure */
  gboolean luma; /* raw video with an 8-bit luma plane we can read */
  GstVideoInfo vinfo;
  GstAudioInfo ainfo;
  gint width, height;
  gboolean resolution_changed;
  HqFreezeDetector freeze;
  guint8 *prev_y;
  gsize prev_y_size;
  gboolean have_prev_y;
  GstClockTime interval_start; /* NONE until the first data */
  GstClockTime interval_end;
  GstClockTime last_frame_end;
  GstClockTime audio_expected;
  guint block_frames;
  guint frames_in_block;
  gdouble block_sum;
  gdouble *scratch;
  gsize scratch_len;
  gboolean latency_checked;
  gboolean live; /* upstream said so in a latency query */
  GstClockTime latency; /* upstream's minimum latency */
  gdouble delay_ms;
  GstPad *stats_pad; /* upstream hqroomsrc pad with "stats", or NULL */
  gboolean have_net_prev;
  guint64 net_prev_received, net_prev_unrecovered, net_prev_nacks;
  guint64 net_prev_bytes;
  gint64 net_prev_lost;
  Figures now; /* the open interval */

  /* Element object lock. */
  Figures total;
  gboolean eos;
};

struct _GstHqQualityMeter
{
  GstElement parent;

  /* Object lock. */
  GPtrArray *sinkpads; /* of GstHqQualityMeterPad, refs owned */
  GHashTable *pairs; /* index -> RefPair */
  GstClockTime interval;
  gchar *location;
  gboolean report_written;
  GstClockID tick_id; /* while PLAYING with a clock */
};

/* gsthqqualitymeter.c */
G_GNUC_INTERNAL gchar *pad_dup_participant (GstHqQualityMeterPad *pad);

/* hqqualitymeter-measure.c */
G_GNUC_INTERNAL void luma_frame_free (gpointer data);
G_GNUC_INTERNAL void ref_pair_free (gpointer data);
G_GNUC_INTERNAL RefPair *pair_get_locked (GstHqQualityMeter *self, guint index);
G_GNUC_INTERNAL void pair_match_locked (RefPair *pair, GPtrArray *work);
G_GNUC_INTERNAL void video_chain (GstHqQualityMeter *self,
    GstHqQualityMeterPad *pad, GstBuffer *buf, GstClockTime running_time);
G_GNUC_INTERNAL void audio_chain (GstHqQualityMeter *self,
    GstHqQualityMeterPad *pad, GstBuffer *buf, GstClockTime running_time);
G_GNUC_INTERNAL void audio_concealed (GstHqQualityMeter *self,
    GstHqQualityMeterPad *pad, GstClockTime running_time,
    GstClockTime duration);

/* hqqualitymeter-report.c */
G_GNUC_INTERNAL GstPad *find_stats_pad (GstPad *sinkpad);
G_GNUC_INTERNAL void pad_read_network (GstHqQualityMeterPad *pad, Figures *f);
G_GNUC_INTERNAL void pad_close_interval (
    GstHqQualityMeter *self, GstHqQualityMeterPad *pad, GstClockTime end);
G_GNUC_INTERNAL void pad_advance_to (
    GstHqQualityMeter *self, GstHqQualityMeterPad *pad, GstClockTime t);
G_GNUC_INTERNAL void write_report (GstHqQualityMeter *self, gboolean force);
G_GNUC_INTERNAL void write_report_if_done (GstHqQualityMeter *self);

G_END_DECLS
