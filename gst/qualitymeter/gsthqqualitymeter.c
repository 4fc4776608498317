/* hqqualitymeter: N streams in, the same N out, and on the bus what each
 * participant sees and hears of them.
 *
 * Each request sink pad video_N or audio_N comes with its own source pad
 * src_video_N / src_audio_N that passes buffers, events and caps through
 * untouched.  On the way the pad measures its stream in its own streaming
 * thread: frames, freezes and pauses (libhq HqFreezeDetector), identical
 * and black frames, resolution changes; for audio gaps in the timestamps,
 * GAP events, silence and clipping.  The figures are kept per interval of
 * running time; when a buffer or event passes the end of an interval the
 * pad closes it, scores it (libhq hqquality: E-model audio MOS, video MOS)
 * and posts an `hq-quality` message.  So figures follow stream time, and a
 * file is measured as fast as it can be read with the same result as live.
 * Only in a live pipeline does the clock matter: a periodic clock callback
 * closes the intervals of a stream that sent nothing for them (taking the
 * pad's stream lock, only if its streaming thread is not in it).
 *
 * A reference pad ref_video_N (sink only) receives the undistorted video
 * of video_N.  Frames are paired by running time: each side queues copies
 * of its luma planes and whichever thread completes a pair takes it out
 * under the element's lock and computes PSNR and SSIM outside it.  The
 * sums wait in the pair's record until video_N closes its next interval.
 *
 * Locks: the element's object lock guards the pad list, the reference
 * pairs and every pad's visit totals (read by the report writer); the
 * pad's object lock its participant names; the rest of a pad's state
 * belongs to its streaming thread.
 */

/**
 * SECTION:element-hqqualitymeter
 * @title: hqqualitymeter
 *
 * Measures what each participant experiences of the streams that pass
 * through it, and passes them on unchanged.  Request a sink pad `video_%u`
 * or `audio_%u` per stream; its source pad `src_video_%u` / `src_audio_%u`
 * appears at once.  Each stream belongs to a participant: the sink pad's
 * #GstHqQualityMeterPad:participant, which defaults to the stream's
 * `hq-participant` tag (hqroomsrc sets it), else to the pad's name.
 *
 * Every #GstHqQualityMeter:interval of running time each stream posts an
 * `hq-quality` element message with the interval's figures and scores (in
 * a live pipeline also for a stream that stopped sending, from the clock)
 * (field names are stable; docs/hqqualitymeter.md lists them all):
 * `participant`, `pad`, `kind` ("video" or "audio"), `running-time`,
 * `duration`, `level` (0..5) and
 * - video: `frames`, `fps`, `width`, `height`, `resolution-changes`,
 *   `freeze-count`, `total-freezes-duration`, `pause-count`,
 *   `total-pauses-duration` (W3C webrtc-stats definitions, seconds),
 *   `frozen-content-frames`, `black-frames`, `bitrate`, `mos-video`, and
 *   with a linked `ref_video_%u` pad `compared-frames`, `psnr`, `ssim`;
 * - audio: `gaps`, `gap-duration`, `concealed-duration`, `silence-ratio`,
 *   `clipping-ratio`, `mos-audio`.
 *
 * With #GstHqQualityMeter:location set, a JSON report of the whole visit
 * per participant is written there when every stream has ended (or the
 * element stops).
 *
 * ## Example launch line
 * |[
 * gst-launch-1.0 -m hqqualitymeter name=m video_0::participant=alice \
 *     audio_0::participant=alice location=/tmp/quality.json \
 *   videotestsrc num-buffers=300 ! m.video_0 \
 *   audiotestsrc num-buffers=500 ! m.audio_0 \
 *   m.src_video_0 ! fakesink  m.src_audio_0 ! fakesink
 * ]| prints one `hq-quality` message per stream per second and writes the
 * visit's report.
 */
#include "gsthqqualitymeter.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <gst/audio/audio.h>
#include <gst/video/video.h>
#include <json-glib/json-glib.h>
#include <hq/hqnetq.h>
#include <hq/hqquality.h>
#include <hq/hqtags.h>

GST_DEBUG_CATEGORY_STATIC (hq_quality_meter_debug);
#define GST_CAT_DEFAULT hq_quality_meter_debug

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

static const gchar *const kind_names[] = { "video", "audio", "reference" };

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

enum
{
  PROP_PAD_0,
  PROP_PAD_PARTICIPANT,
};

enum
{
  PROP_0,
  PROP_INTERVAL,
  PROP_LOCATION,
};

#define LUMA_FORMATS "{ I420, YV12, NV12, NV21, Y42B, Y444, Y41B, GRAY8, A420 }"
#define AUDIO_CAPS "audio/x-raw, layout = (string) interleaved"

static GstStaticPadTemplate video_template = GST_STATIC_PAD_TEMPLATE (
    "video_%u", GST_PAD_SINK, GST_PAD_REQUEST, GST_STATIC_CAPS_ANY);
static GstStaticPadTemplate audio_template = GST_STATIC_PAD_TEMPLATE (
    "audio_%u", GST_PAD_SINK, GST_PAD_REQUEST, GST_STATIC_CAPS (AUDIO_CAPS));
static GstStaticPadTemplate ref_template =
    GST_STATIC_PAD_TEMPLATE ("ref_video_%u", GST_PAD_SINK, GST_PAD_REQUEST,
        GST_STATIC_CAPS (GST_VIDEO_CAPS_MAKE (LUMA_FORMATS)));
static GstStaticPadTemplate src_video_template = GST_STATIC_PAD_TEMPLATE (
    "src_video_%u", GST_PAD_SRC, GST_PAD_SOMETIMES, GST_STATIC_CAPS_ANY);
static GstStaticPadTemplate src_audio_template =
    GST_STATIC_PAD_TEMPLATE ("src_audio_%u", GST_PAD_SRC, GST_PAD_SOMETIMES,
        GST_STATIC_CAPS (AUDIO_CAPS));

G_DEFINE_TYPE (GstHqQualityMeterPad, gst_hq_quality_meter_pad, GST_TYPE_PAD);
static void gst_hq_quality_meter_child_proxy_init (
    gpointer g_iface, gpointer iface_data);
G_DEFINE_TYPE_WITH_CODE (GstHqQualityMeter, gst_hq_quality_meter,
    GST_TYPE_ELEMENT,
    G_IMPLEMENT_INTERFACE (
        GST_TYPE_CHILD_PROXY, gst_hq_quality_meter_child_proxy_init));
GST_ELEMENT_REGISTER_DEFINE_WITH_CODE (hqqualitymeter, "hqqualitymeter",
    GST_RANK_NONE, GST_TYPE_HQ_QUALITY_METER,
    GST_DEBUG_CATEGORY_INIT (
        hq_quality_meter_debug, "hqqualitymeter", 0, "hqrooms quality meter"));

static void
luma_frame_free (gpointer data)
{
  LumaFrame *f = data;

  g_free (f->y);
  g_free (f);
}

static void
ref_pair_free (gpointer data)
{
  RefPair *pair = data;

  g_queue_clear_full (&pair->main, luma_frame_free);
  g_queue_clear_full (&pair->ref, luma_frame_free);
  g_free (pair);
}

/* ---- the pad ---- */

static void
gst_hq_quality_meter_pad_finalize (GObject *object)
{
  GstHqQualityMeterPad *pad = GST_HQ_QUALITY_METER_PAD (object);

  g_free (pad->participant);
  g_free (pad->tag_participant);
  g_free (pad->prev_y);
  g_free (pad->scratch);
  gst_clear_object (&pad->stats_pad);
  G_OBJECT_CLASS (gst_hq_quality_meter_pad_parent_class)->finalize (object);
}

/* The participant a pad stands for: as set, else from the stream's tag,
 * else the pad's name. */
static gchar *
pad_dup_participant (GstHqQualityMeterPad *pad)
{
  gchar *name;

  GST_OBJECT_LOCK (pad);
  if (pad->participant)
    name = g_strdup (pad->participant);
  else if (pad->tag_participant)
    name = g_strdup (pad->tag_participant);
  else
    name = g_strdup (GST_OBJECT_NAME (pad));
  GST_OBJECT_UNLOCK (pad);
  return name;
}

static void
gst_hq_quality_meter_pad_set_property (
    GObject *object, guint prop_id, const GValue *value, GParamSpec *pspec)
{
  GstHqQualityMeterPad *pad = GST_HQ_QUALITY_METER_PAD (object);

  switch (prop_id) {
    case PROP_PAD_PARTICIPANT:
      GST_OBJECT_LOCK (pad);
      g_free (pad->participant);
      pad->participant = g_value_dup_string (value);
      GST_OBJECT_UNLOCK (pad);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
}

static void
gst_hq_quality_meter_pad_get_property (
    GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  GstHqQualityMeterPad *pad = GST_HQ_QUALITY_METER_PAD (object);

  switch (prop_id) {
    case PROP_PAD_PARTICIPANT:
      g_value_take_string (value, pad_dup_participant (pad));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
}

static void
gst_hq_quality_meter_pad_class_init (GstHqQualityMeterPadClass *klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);

  gobject_class->finalize = gst_hq_quality_meter_pad_finalize;
  gobject_class->set_property = gst_hq_quality_meter_pad_set_property;
  gobject_class->get_property = gst_hq_quality_meter_pad_get_property;

  /**
   * GstHqQualityMeterPad:participant:
   *
   * Whose stream this is, as named in the messages and the report.  Reads
   * back the stream's `hq-participant` tag (which hqroomsrc sets) until
   * set, and the pad's name when there is no such tag.
   */
  g_object_class_install_property (gobject_class, PROP_PAD_PARTICIPANT,
      g_param_spec_string ("participant", "Participant",
          "Whose stream this is (default: the stream's hq-participant tag, "
          "else the pad name)",
          NULL,
          G_PARAM_READWRITE | GST_PARAM_MUTABLE_PLAYING
              | G_PARAM_STATIC_STRINGS));
}

static void
pad_reset_stream (GstHqQualityMeterPad *pad)
{
  hq_freeze_detector_reset (&pad->freeze);
  pad->have_prev_y = FALSE;
  pad->interval_start = GST_CLOCK_TIME_NONE;
  pad->interval_end = GST_CLOCK_TIME_NONE;
  pad->last_frame_end = GST_CLOCK_TIME_NONE;
  pad->audio_expected = GST_CLOCK_TIME_NONE;
  pad->frames_in_block = 0;
  pad->block_sum = 0;
  pad->latency_checked = FALSE;
  pad->live = FALSE;
  pad->latency = 0;
  pad->delay_ms = HQ_QUALITY_OPUS_DELAY_MS;
  pad->resolution_changed = FALSE;
  gst_clear_object (&pad->stats_pad);
  pad->have_net_prev = FALSE;
  memset (&pad->now, 0, sizeof (pad->now));
}

static void
gst_hq_quality_meter_pad_init (GstHqQualityMeterPad *pad)
{
  gst_segment_init (&pad->segment, GST_FORMAT_UNDEFINED);
  pad_reset_stream (pad);
}

/* ---- reference pairs (element object lock) ---- */

static RefPair *
pair_get_locked (GstHqQualityMeter *self, guint index)
{
  RefPair *pair = g_hash_table_lookup (self->pairs, GUINT_TO_POINTER (index));

  if (!pair) {
    pair = g_new0 (RefPair, 1);
    g_hash_table_insert (self->pairs, GUINT_TO_POINTER (index), pair);
  }
  return pair;
}

/* Moves every pair of frames that match in time from @pair's queues to
 * @work (main, ref, main, ref, ...); frames that can no longer match are
 * dropped. */
static void
pair_match_locked (RefPair *pair, GPtrArray *work)
{
  while (!g_queue_is_empty (&pair->main)) {
    LumaFrame *m = g_queue_peek_head (&pair->main);
    LumaFrame *r = g_queue_peek_head (&pair->ref);
    GstClockTime diff;

    if (!r) {
      if (pair->ref_eos)
        luma_frame_free (g_queue_pop_head (&pair->main));
      else
        break;
      continue;
    }
    diff = m->running_time > r->running_time
        ? m->running_time - r->running_time
        : r->running_time - m->running_time;
    if (diff <= m->tolerance) {
      g_ptr_array_add (work, g_queue_pop_head (&pair->main));
      g_ptr_array_add (work, g_queue_pop_head (&pair->ref));
    } else if (r->running_time < m->running_time) {
      /* The stream lost this frame: nothing to compare it with. */
      luma_frame_free (g_queue_pop_head (&pair->ref));
    } else {
      luma_frame_free (g_queue_pop_head (&pair->main));
    }
  }
  while (g_queue_get_length (&pair->main) > MAX_PENDING_FRAMES)
    luma_frame_free (g_queue_pop_head (&pair->main));
  while (g_queue_get_length (&pair->ref) > MAX_PENDING_FRAMES)
    luma_frame_free (g_queue_pop_head (&pair->ref));
}

/* Adds @frame (taken) to its side of pair @index and compares what
 * matches, outside the lock. */
static void
pair_add_frame (
    GstHqQualityMeter *self, guint index, gboolean is_ref, LumaFrame *frame)
{
  GPtrArray *work = g_ptr_array_new ();
  RefPair *pair;
  guint64 compared = 0;
  gdouble psnr_sum = 0, ssim_sum = 0;

  GST_OBJECT_LOCK (self);
  pair = pair_get_locked (self, index);
  if (!is_ref && !pair->have_ref_pad) {
    GST_OBJECT_UNLOCK (self);
    luma_frame_free (frame);
    g_ptr_array_free (work, TRUE);
    return;
  }
  g_queue_push_tail (is_ref ? &pair->ref : &pair->main, frame);
  pair_match_locked (pair, work);
  GST_OBJECT_UNLOCK (self);

  for (guint i = 0; i + 1 < work->len; i += 2) {
    LumaFrame *m = g_ptr_array_index (work, i);
    LumaFrame *r = g_ptr_array_index (work, i + 1);

    if (m->width == r->width && m->height == r->height) {
      psnr_sum += hq_quality_psnr_from_mse (
          hq_quality_mse (m->y, m->width, r->y, r->width, m->width, m->height));
      ssim_sum +=
          hq_quality_ssim (m->y, m->width, r->y, r->width, m->width, m->height);
      compared++;
    } else {
      GST_LOG_OBJECT (self, "pair %u: sizes differ, %ux%u vs %ux%u", index,
          m->width, m->height, r->width, r->height);
    }
    luma_frame_free (m);
    luma_frame_free (r);
  }
  g_ptr_array_free (work, TRUE);
  if (compared == 0)
    return;
  GST_OBJECT_LOCK (self);
  pair = pair_get_locked (self, index);
  pair->compared += compared;
  pair->psnr_sum += psnr_sum;
  pair->ssim_sum += ssim_sum;
  GST_OBJECT_UNLOCK (self);
}

/* ---- intervals ---- */

static void
figures_add (Figures *total, const Figures *f)
{
  total->duration += f->duration;
  total->frames += f->frames;
  total->frozen_content += f->frozen_content;
  total->black += f->black;
  total->resolution_changes += f->resolution_changes;
  total->freeze_count += f->freeze_count;
  total->freezes += f->freezes;
  total->pause_count += f->pause_count;
  total->pauses += f->pauses;
  total->bytes += f->bytes;
  total->gaps += f->gaps;
  total->gap_time += f->gap_time;
  total->concealed += f->concealed;
  total->audio_time += f->audio_time;
  total->blocks += f->blocks;
  total->silent_blocks += f->silent_blocks;
  total->samples += f->samples;
  total->clipped += f->clipped;
  total->compared += f->compared;
  total->psnr_sum += f->psnr_sum;
  total->ssim_sum += f->ssim_sum;
  total->net_time += f->net_time;
  total->net_received += f->net_received;
  total->net_expected += f->net_expected;
  total->net_unrecovered += f->net_unrecovered;
  total->net_nacks += f->net_nacks;
  total->net_bytes += f->net_bytes;
  total->net_jitter_sum += f->net_jitter_sum;
  total->net_rtt_sum += f->net_rtt_sum;
  total->net_r_sum += f->net_r_sum;
  if (f->width > 0) {
    total->width = f->width;
    total->height = f->height;
  }
}

static gdouble
seconds (GstClockTime t)
{
  return (gdouble)t / GST_SECOND;
}

/* Whether anything arrived: an interval without a frame, audio or a GAP
 * event scores level 0. */
static gboolean
figures_have_media (StreamKind kind, const Figures *f)
{
  if (kind == KIND_VIDEO)
    return f->frames > 0;
  return f->audio_time > 0 || f->concealed > 0;
}

/* The network figures' means over the time they cover. */
static gdouble
net_mean (const Figures *f, gdouble sum)
{
  return f->net_time > 0 ? sum / seconds (f->net_time) : 0.0;
}

/* Share of packets the network lost that stayed lost (retransmission
 * did not bring them back in time), 0..1. */
static gdouble
net_unrecovered_fraction (const Figures *f)
{
  return f->net_expected
      ? MIN (1.0, (gdouble)f->net_unrecovered / f->net_expected)
      : 0.0;
}

static gdouble
figures_mos (StreamKind kind, const Figures *f, gdouble delay_ms)
{
  gdouble d = seconds (f->duration);
  gdouble loss;

  if (d <= 0 || !figures_have_media (kind, f))
    return 1.0;
  if (kind == KIND_VIDEO) {
    HqVideoSample s = { 0 };
    s.width = MAX (f->width, 0);
    s.height = MAX (f->height, 0);
    s.fps = (f->frames - f->frozen_content) / d;
    s.bitrate_bps = f->bytes * 8 / d;
    /* Decoded video: the bitrate it arrived at over the network. */
    if (s.bitrate_bps == 0 && f->net_time > 0)
      s.bitrate_bps = f->net_bytes * 8 / seconds (f->net_time);
    s.frozen_fraction = seconds (f->freezes) / d;
    return hq_quality_video_mos (&s);
  }
  /* One-way network delay: half the round trips of both legs. */
  delay_ms += net_mean (f, f->net_rtt_sum) / 2;
  loss = MIN (1.0, seconds (f->gap_time + f->concealed) / d);
  loss = MAX (loss, net_unrecovered_fraction (f));
  return hq_quality_audio_mos (delay_ms, 100.0 * loss);
}

static guint
figures_level (StreamKind kind, const Figures *f, gdouble mos)
{
  guint level;

  if (!figures_have_media (kind, f))
    return 0;
  level = hq_quality_level_from_mos (mos);
  if (f->net_time > 0)
    level = MIN (level, hq_netq_level_from_r (net_mean (f, f->net_r_sum)));
  return level;
}

/* ---- network figures from an upstream hqroomsrc ---- */

/* The pad of an hqroomsrc (or anything with a GstStructure "stats"
 * property on its pad) upstream of @sinkpad, through elements with one
 * sink pad (queue, capsfilter, a decoder); NULL if there is none. */
static GstPad *
find_stats_pad (GstPad *sinkpad)
{
  GstPad *peer = gst_pad_get_peer (sinkpad);

  for (guint hops = 0; peer && hops < 16; hops++) {
    GParamSpec *spec =
        g_object_class_find_property (G_OBJECT_GET_CLASS (peer), "stats");
    GstElement *e;
    GstPad *sink = NULL;

    if (spec && spec->value_type == GST_TYPE_STRUCTURE
        && (spec->flags & G_PARAM_READABLE))
      return peer;
    e = gst_pad_get_parent_element (peer);
    gst_object_unref (peer);
    peer = NULL;
    if (e == NULL)
      break;
    GST_OBJECT_LOCK (e);
    if (e->numsinkpads == 1)
      sink = gst_object_ref (e->sinkpads->data);
    GST_OBJECT_UNLOCK (e);
    gst_object_unref (e);
    if (sink) {
      peer = gst_pad_get_peer (sink);
      gst_object_unref (sink);
    }
  }
  g_clear_object (&peer);
  return NULL;
}

static guint64
stats_u64 (const GstStructure *s, const gchar *name)
{
  guint64 v = 0;

  gst_structure_get_uint64 (s, name, &v);
  return v;
}

static gdouble
stats_double (const GstStructure *s, const gchar *name, gdouble unknown)
{
  gdouble v = unknown;

  gst_structure_get_double (s, name, &v);
  return v;
}

/* Reads the upstream stats at the end of an interval into @f: the
 * differences since the last reading, and the netq R of the interval
 * (libhq hqnetq.h) from loss, jitter and both legs' round trips. */
static void
pad_read_network (GstHqQualityMeterPad *pad, Figures *f)
{
  GstStructure *s = NULL;
  guint64 received, unrecovered, nacks, bytes;
  gint64 lost = 0;
  gdouble jitter, rtt, pub_rtt;

  if (pad->stats_pad == NULL)
    return;
  g_object_get (pad->stats_pad, "stats", &s, NULL);
  if (s == NULL)
    return;
  received = stats_u64 (s, "packets-received");
  unrecovered = stats_u64 (s, "jitterbuffer-lost");
  nacks = stats_u64 (s, "nacks-sent");
  bytes = stats_u64 (s, "bytes-received");
  gst_structure_get_int64 (s, "packets-lost", &lost);
  jitter = stats_double (s, "jitter-ms", 0);
  rtt = stats_double (s, "rtt-ms", -1);
  pub_rtt = stats_double (s, "publisher-rtt-ms", -1);
  gst_structure_free (s);

  /* Counters that went back belong to a new SSRC (a reconnect): start
   * over from them. */
  if (pad->have_net_prev && received >= pad->net_prev_received
      && unrecovered >= pad->net_prev_unrecovered
      && nacks >= pad->net_prev_nacks && bytes >= pad->net_prev_bytes
      && f->duration > 0) {
    gdouble d = seconds (f->duration);
    guint64 got = received - pad->net_prev_received;
    gint64 expected = (gint64)got + lost - pad->net_prev_lost;
    HqNetqSample q = { 0 };

    expected = MAX (expected, (gint64)got);
    f->net_time = f->duration;
    f->net_received = got;
    f->net_expected = (guint64)expected;
    f->net_unrecovered = unrecovered - pad->net_prev_unrecovered;
    f->net_nacks = nacks - pad->net_prev_nacks;
    f->net_bytes = bytes - pad->net_prev_bytes;
    f->net_jitter_sum = jitter * d;
    f->net_rtt_sum = (MAX (rtt, 0) + MAX (pub_rtt, 0)) * d;
    q.kind = pad->kind == KIND_AUDIO ? HQ_NETQ_AUDIO : HQ_NETQ_VIDEO;
    q.fraction_lost =
        expected ? (gdouble)(expected - (gint64)got) / expected : 0;
    q.rtt_ms = MAX (rtt, 0) + MAX (pub_rtt, 0);
    q.jitter_ms = jitter;
    q.silent = got == 0;
    f->net_r_sum = hq_netq_r_factor (&q) * d;
  }
  pad->have_net_prev = TRUE;
  pad->net_prev_received = received;
  pad->net_prev_unrecovered = unrecovered;
  pad->net_prev_nacks = nacks;
  pad->net_prev_bytes = bytes;
  pad->net_prev_lost = lost;
}

static GstMessage *
interval_message (GstHqQualityMeter *self, GstHqQualityMeterPad *pad,
    const Figures *f, GstClockTime end, gboolean with_ref)
{
  gchar *participant = pad_dup_participant (pad);
  gdouble d = seconds (f->duration);
  gdouble mos = figures_mos (pad->kind, f, pad->delay_ms);
  GstStructure *s;

  s = gst_structure_new ("hq-quality", "participant", G_TYPE_STRING,
      participant, "pad", G_TYPE_STRING, GST_OBJECT_NAME (pad), "kind",
      G_TYPE_STRING, kind_names[pad->kind], "running-time", G_TYPE_UINT64, end,
      "duration", G_TYPE_UINT64, f->duration, "level", G_TYPE_UINT,
      figures_level (pad->kind, f, mos), NULL);
  g_free (participant);
  if (pad->kind == KIND_VIDEO) {
    gst_structure_set (s, "frames", G_TYPE_UINT, (guint)f->frames, "fps",
        G_TYPE_DOUBLE, d > 0 ? f->frames / d : 0.0, "width", G_TYPE_INT,
        f->width, "height", G_TYPE_INT, f->height, "resolution-changes",
        G_TYPE_UINT, f->resolution_changes, "freeze-count", G_TYPE_UINT,
        f->freeze_count, "total-freezes-duration", G_TYPE_DOUBLE,
        seconds (f->freezes), "pause-count", G_TYPE_UINT, f->pause_count,
        "total-pauses-duration", G_TYPE_DOUBLE, seconds (f->pauses),
        "frozen-content-frames", G_TYPE_UINT, (guint)f->frozen_content,
        "black-frames", G_TYPE_UINT, (guint)f->black, "bitrate", G_TYPE_DOUBLE,
        d > 0 ? f->bytes * 8 / d : 0.0, "mos-video", G_TYPE_DOUBLE, mos, NULL);
    if (with_ref) {
      gst_structure_set (
          s, "compared-frames", G_TYPE_UINT, (guint)f->compared, NULL);
      if (f->compared > 0)
        gst_structure_set (s, "psnr", G_TYPE_DOUBLE, f->psnr_sum / f->compared,
            "ssim", G_TYPE_DOUBLE, f->ssim_sum / f->compared, NULL);
    }
  } else {
    gst_structure_set (s, "gaps", G_TYPE_UINT, f->gaps, "gap-duration",
        G_TYPE_DOUBLE, seconds (f->gap_time), "concealed-duration",
        G_TYPE_DOUBLE, seconds (f->concealed), "silence-ratio", G_TYPE_DOUBLE,
        f->blocks ? (gdouble)f->silent_blocks / f->blocks : 0.0,
        "clipping-ratio", G_TYPE_DOUBLE,
        f->samples ? (gdouble)f->clipped / f->samples : 0.0, "mos-audio",
        G_TYPE_DOUBLE, mos, NULL);
  }
  if (f->net_time > 0) {
    gdouble r = net_mean (f, f->net_r_sum);
    gst_structure_set (s, "net-packets", G_TYPE_UINT64, f->net_received,
        "net-fraction-lost", G_TYPE_DOUBLE,
        f->net_expected
            ? (gdouble)(f->net_expected - f->net_received) / f->net_expected
            : 0.0,
        "net-unrecovered", G_TYPE_DOUBLE, net_unrecovered_fraction (f),
        "net-nacks", G_TYPE_UINT64, f->net_nacks, "net-jitter-ms",
        G_TYPE_DOUBLE, net_mean (f, f->net_jitter_sum), "net-rtt-ms",
        G_TYPE_DOUBLE, net_mean (f, f->net_rtt_sum), "net-bitrate",
        G_TYPE_DOUBLE, f->net_bytes * 8 / seconds (f->net_time), "net-r",
        G_TYPE_DOUBLE, r, "net-level", G_TYPE_UINT,
        f->net_received ? hq_netq_level_from_r (r) : 0, NULL);
  }
  return gst_message_new_element (GST_OBJECT (self), s);
}

/* Closes the open interval at @end: takes the reference sums, posts the
 * message, adds the figures to the visit. */
static void
pad_close_interval (
    GstHqQualityMeter *self, GstHqQualityMeterPad *pad, GstClockTime end)
{
  Figures *f = &pad->now;
  gboolean with_ref = FALSE;
  GstMessage *msg;
  gdouble mos;

  f->duration = end - pad->interval_start;
  pad_read_network (pad, f);
  if (f->width == 0) {
    f->width = pad->width;
    f->height = pad->height;
  }
  GST_OBJECT_LOCK (self);
  if (pad->kind == KIND_VIDEO) {
    RefPair *pair =
        g_hash_table_lookup (self->pairs, GUINT_TO_POINTER (pad->index));
    if (pair && pair->have_ref_pad) {
      with_ref = TRUE;
      f->compared = pair->compared;
      f->psnr_sum = pair->psnr_sum;
      f->ssim_sum = pair->ssim_sum;
      pair->compared = 0;
      pair->psnr_sum = pair->ssim_sum = 0;
    }
  }
  mos = figures_mos (pad->kind, f, pad->delay_ms);
  figures_add (&pad->total, f);
  pad->total.mos_weighted += mos * seconds (f->duration);
  GST_OBJECT_UNLOCK (self);

  msg = interval_message (self, pad, f, end, with_ref);
  GST_LOG_OBJECT (
      pad, "interval: %" GST_PTR_FORMAT, gst_message_get_structure (msg));
  gst_element_post_message (GST_ELEMENT (self), msg);
  memset (f, 0, sizeof (*f));
  pad->interval_start = end;
}

/* Makes @t part of an interval: the first data opens one, data past the
 * end closes as many as it passed (empty ones included). */
static void
pad_advance_to (
    GstHqQualityMeter *self, GstHqQualityMeterPad *pad, GstClockTime t)
{
  GstClockTime interval;

  GST_OBJECT_LOCK (self);
  interval = self->interval;
  GST_OBJECT_UNLOCK (self);

  if (!GST_CLOCK_TIME_IS_VALID (pad->interval_start)) {
    pad->interval_start = t;
    pad->interval_end = (t / interval + 1) * interval;
    return;
  }
  while (t >= pad->interval_end) {
    pad_close_interval (self, pad, pad->interval_end);
    pad->interval_end += interval;
  }
}

/* ---- video ---- */

static LumaFrame *
luma_copy (const GstVideoFrame *frame, GstClockTime running_time,
    GstClockTime tolerance)
{
  LumaFrame *f = g_new0 (LumaFrame, 1);
  guint w = GST_VIDEO_FRAME_COMP_WIDTH (frame, 0);
  guint h = GST_VIDEO_FRAME_COMP_HEIGHT (frame, 0);
  const guint8 *src = GST_VIDEO_FRAME_COMP_DATA (frame, 0);
  gsize stride = GST_VIDEO_FRAME_COMP_STRIDE (frame, 0);

  f->running_time = running_time;
  f->tolerance = tolerance;
  f->width = w;
  f->height = h;
  f->y = g_malloc ((gsize)w * h);
  for (guint r = 0; r < h; r++)
    memcpy (f->y + (gsize)r * w, src + r * stride, w);
  return f;
}

/* Half a frame: how far apart a frame and its reference may be. */
static GstClockTime
frame_tolerance (GstHqQualityMeterPad *pad, GstBuffer *buf)
{
  if (GST_BUFFER_DURATION_IS_VALID (buf))
    return GST_BUFFER_DURATION (buf) / 2;
  if (pad->have_caps && pad->vinfo.fps_n > 0)
    return gst_util_uint64_scale (
        GST_SECOND, pad->vinfo.fps_d, 2 * (guint64)pad->vinfo.fps_n);
  return GST_MSECOND;
}

/* Frozen content and black frames, and the copy for the reference. */
static void
video_measure_pixels (GstHqQualityMeter *self, GstHqQualityMeterPad *pad,
    GstBuffer *buf, GstClockTime running_time)
{
  GstVideoFrame frame;
  const guint8 *y;
  guint w, h;
  gsize stride, size;
  gboolean have_ref;

  if (!gst_video_frame_map (&frame, &pad->vinfo, buf, GST_MAP_READ))
    return;
  y = GST_VIDEO_FRAME_COMP_DATA (&frame, 0);
  w = GST_VIDEO_FRAME_COMP_WIDTH (&frame, 0);
  h = GST_VIDEO_FRAME_COMP_HEIGHT (&frame, 0);
  stride = GST_VIDEO_FRAME_COMP_STRIDE (&frame, 0);
  size = (gsize)w * h;

  if (pad->kind == KIND_REF) {
    pair_add_frame (
        self, pad->index, TRUE, luma_copy (&frame, running_time, 0));
    gst_video_frame_unmap (&frame);
    return;
  }

  if (pad->have_prev_y && pad->prev_y_size == size
      && hq_quality_planes_equal (y, stride, pad->prev_y, w, w, h))
    pad->now.frozen_content++;
  if (hq_quality_plane_is_black (y, stride, w, h))
    pad->now.black++;
  if (pad->prev_y_size != size) {
    g_free (pad->prev_y);
    pad->prev_y = g_malloc (size);
    pad->prev_y_size = size;
  }
  for (guint r = 0; r < h; r++)
    memcpy (pad->prev_y + (gsize)r * w, y + r * stride, w);
  pad->have_prev_y = TRUE;

  GST_OBJECT_LOCK (self);
  {
    RefPair *pair =
        g_hash_table_lookup (self->pairs, GUINT_TO_POINTER (pad->index));
    have_ref = pair && pair->have_ref_pad;
  }
  GST_OBJECT_UNLOCK (self);
  if (have_ref)
    pair_add_frame (self, pad->index, FALSE,
        luma_copy (&frame, running_time, frame_tolerance (pad, buf)));
  gst_video_frame_unmap (&frame);
}

static void
video_chain (GstHqQualityMeter *self, GstHqQualityMeterPad *pad, GstBuffer *buf,
    GstClockTime running_time)
{
  guint64 interval;
  HqQualityFrameEvent event;

  if (pad->kind == KIND_REF) {
    if (pad->luma)
      video_measure_pixels (self, pad, buf, running_time);
    return;
  }
  if (GST_BUFFER_FLAG_IS_SET (buf, GST_BUFFER_FLAG_HEADER))
    return;

  pad_advance_to (self, pad, running_time);
  event = hq_freeze_detector_push (&pad->freeze, running_time, &interval);
  if (event == HQ_QUALITY_FRAME_LATE)
    return;
  pad->now.frames++;
  pad->now.bytes += pad->raw ? 0 : gst_buffer_get_size (buf);
  if (pad->resolution_changed) {
    pad->now.resolution_changes++;
    pad->resolution_changed = FALSE;
  }
  pad->now.width = pad->width;
  pad->now.height = pad->height;
  if (event == HQ_QUALITY_FRAME_FREEZE) {
    pad->now.freeze_count++;
    pad->now.freezes += interval;
    GST_DEBUG_OBJECT (pad,
        "freeze of %" GST_TIME_FORMAT " before %" GST_TIME_FORMAT,
        GST_TIME_ARGS (interval), GST_TIME_ARGS (running_time));
  } else if (event == HQ_QUALITY_FRAME_PAUSE) {
    pad->now.pause_count++;
    pad->now.pauses += interval;
  }
  pad->last_frame_end = running_time
      + (GST_BUFFER_DURATION_IS_VALID (buf)
              ? GST_BUFFER_DURATION (buf)
              : hq_freeze_detector_average (&pad->freeze));
  if (pad->luma)
    video_measure_pixels (self, pad, buf, running_time);
}

/* ---- audio ---- */

/* Normalised samples of @n frames at @data, in pad->scratch. */
static const gdouble *
audio_unpack (GstHqQualityMeterPad *pad, const guint8 *data, guint n_samples)
{
  const GstAudioFormatInfo *finfo = pad->ainfo.finfo;

  if (pad->scratch_len < n_samples) {
    g_free (pad->scratch);
    pad->scratch = g_new (gdouble, n_samples);
    pad->scratch_len = n_samples;
  }
  /* TRUNCATE_RANGE: unpacked values are exact, lower bits zero. */
  finfo->unpack_func (
      finfo, GST_AUDIO_PACK_FLAG_TRUNCATE_RANGE, pad->scratch, data, n_samples);
  if (finfo->unpack_format != GST_AUDIO_FORMAT_F64) {
    /* S32 in place: each gint32 becomes a gdouble from the end back. */
    const gint32 *s = (const gint32 *)pad->scratch;
    for (guint i = n_samples; i-- > 0;)
      pad->scratch[i] = s[i] / 2147483648.0;
  }
  return pad->scratch;
}

static void
audio_measure (GstHqQualityMeterPad *pad, GstBuffer *buf)
{
  guint channels = GST_AUDIO_INFO_CHANNELS (&pad->ainfo);
  guint bpf = GST_AUDIO_INFO_BPF (&pad->ainfo);
  GstMapInfo map;
  guint frames, done = 0;

  if (!gst_buffer_map (buf, &map, GST_MAP_READ))
    return;
  frames = map.size / bpf;
  while (done < frames) {
    guint n = MIN (frames - done, pad->block_frames - pad->frames_in_block);
    const gdouble *s =
        audio_unpack (pad, map.data + (gsize)done * bpf, n * channels);

    pad->block_sum +=
        hq_quality_mean_square (s, (gsize)n * channels, &pad->now.clipped) * n
        * channels;
    pad->now.samples += (guint64)n * channels;
    pad->frames_in_block += n;
    done += n;
    if (pad->frames_in_block == pad->block_frames) {
      gdouble ms = pad->block_sum / ((gdouble)pad->block_frames * channels);
      pad->now.blocks++;
      pad->now.silent_blocks += ms < HQ_QUALITY_SILENCE_MEAN_SQUARE;
      pad->frames_in_block = 0;
      pad->block_sum = 0;
    }
  }
  gst_buffer_unmap (buf, &map);
}

static void
audio_chain (GstHqQualityMeter *self, GstHqQualityMeterPad *pad, GstBuffer *buf,
    GstClockTime running_time)
{
  GstClockTime duration;
  guint frames;

  if (!pad->have_caps)
    return;
  frames = gst_buffer_get_size (buf) / GST_AUDIO_INFO_BPF (&pad->ainfo);
  duration = gst_util_uint64_scale (
      frames, GST_SECOND, GST_AUDIO_INFO_RATE (&pad->ainfo));
  pad_advance_to (self, pad, running_time);
  if (GST_CLOCK_TIME_IS_VALID (pad->audio_expected)
      && running_time > pad->audio_expected + AUDIO_GAP_THRESHOLD) {
    pad->now.gaps++;
    pad->now.gap_time += running_time - pad->audio_expected;
    GST_DEBUG_OBJECT (pad, "gap of %" GST_TIME_FORMAT " at %" GST_TIME_FORMAT,
        GST_TIME_ARGS (running_time - pad->audio_expected),
        GST_TIME_ARGS (running_time));
  }
  if (!GST_CLOCK_TIME_IS_VALID (pad->audio_expected)
      || running_time + duration > pad->audio_expected)
    pad->audio_expected = running_time + duration;
  pad->now.audio_time += duration;
  audio_measure (pad, buf);
}

/* Time the stream's decoder filled in: a GAP event, or rtpjitterbuffer's
 * lost-packet event (before a decoder). */
static void
audio_concealed (GstHqQualityMeter *self, GstHqQualityMeterPad *pad,
    GstClockTime running_time, GstClockTime duration)
{
  if (!GST_CLOCK_TIME_IS_VALID (running_time))
    return;
  pad_advance_to (self, pad, running_time);
  if (GST_CLOCK_TIME_IS_VALID (duration)) {
    pad->now.concealed += duration;
    if (!GST_CLOCK_TIME_IS_VALID (pad->audio_expected)
        || running_time + duration > pad->audio_expected)
      pad->audio_expected = running_time + duration;
  }
}

/* ---- streaming ---- */

/* Upstream's latency (a jitter buffer's, a network source's) is part of
 * the mouth-to-ear delay the E-model scores. */
static void
pad_check_latency (GstHqQualityMeterPad *pad)
{
  GstQuery *query = gst_query_new_latency ();
  gboolean live = FALSE;
  GstClockTime min = 0;

  pad->latency_checked = TRUE;
  gst_clear_object (&pad->stats_pad);
  pad->stats_pad = find_stats_pad (GST_PAD (pad));
  pad->have_net_prev = FALSE;
  if (pad->stats_pad)
    pad_read_network (pad, &pad->now);
  if (gst_pad_peer_query (GST_PAD (pad), query))
    gst_query_parse_latency (query, &live, &min, NULL);
  gst_query_unref (query);
  pad->live = live;
  if (live && GST_CLOCK_TIME_IS_VALID (min)) {
    pad->latency = min;
    pad->delay_ms = HQ_QUALITY_OPUS_DELAY_MS + (gdouble)min / GST_MSECOND;
  }
  GST_DEBUG_OBJECT (pad, "stream is %slive, latency %" GST_TIME_FORMAT,
      live ? "" : "not ", GST_TIME_ARGS (pad->latency));
}

static GstFlowReturn
gst_hq_quality_meter_chain (GstPad *sinkpad, GstObject *parent, GstBuffer *buf)
{
  GstHqQualityMeter *self = GST_HQ_QUALITY_METER (parent);
  GstHqQualityMeterPad *pad = GST_HQ_QUALITY_METER_PAD (sinkpad);
  GstClockTime running_time = GST_CLOCK_TIME_NONE;

  if (pad->segment.format == GST_FORMAT_TIME && GST_BUFFER_PTS_IS_VALID (buf))
    running_time = gst_segment_to_running_time (
        &pad->segment, GST_FORMAT_TIME, GST_BUFFER_PTS (buf));
  if (GST_CLOCK_TIME_IS_VALID (running_time)) {
    if (pad->kind != KIND_REF && !pad->latency_checked)
      pad_check_latency (pad);
    if (pad->kind == KIND_AUDIO) {
      audio_chain (self, pad, buf, running_time);
    } else {
      video_chain (self, pad, buf, running_time);
    }
  }
  if (pad->kind == KIND_REF) {
    gst_buffer_unref (buf);
    return GST_FLOW_OK;
  }
  return gst_pad_push (pad->srcpad, buf);
}

static void
pad_take_tags (GstHqQualityMeterPad *pad, GstTagList *tags)
{
  gchar *name = NULL;

  if (!gst_tag_list_get_string (tags, HQ_TAG_PARTICIPANT, &name))
    return;
  GST_OBJECT_LOCK (pad);
  g_free (pad->tag_participant);
  pad->tag_participant = name;
  GST_OBJECT_UNLOCK (pad);
}

static gboolean
pad_set_caps (GstHqQualityMeter *self, GstHqQualityMeterPad *pad, GstCaps *caps)
{
  const GstStructure *s = gst_caps_get_structure (caps, 0);
  gint width = 0, height = 0;

  if (pad->kind == KIND_AUDIO) {
    if (!gst_audio_info_from_caps (&pad->ainfo, caps)) {
      GST_ELEMENT_ERROR (self, STREAM, FORMAT, (NULL),
          ("%s: caps %" GST_PTR_FORMAT " are not raw audio this element "
           "can measure",
              GST_OBJECT_NAME (pad), caps));
      return FALSE;
    }
    pad->block_frames =
        MAX (1, GST_AUDIO_INFO_RATE (&pad->ainfo) * AUDIO_BLOCK_MS / 1000);
    pad->frames_in_block = 0;
    pad->block_sum = 0;
    pad->have_caps = TRUE;
    return TRUE;
  }

  pad->raw = gst_structure_has_name (s, "video/x-raw");
  pad->luma = pad->raw && gst_video_info_from_caps (&pad->vinfo, caps)
      && (GST_VIDEO_INFO_IS_YUV (&pad->vinfo)
          || GST_VIDEO_INFO_IS_GRAY (&pad->vinfo))
      && GST_VIDEO_FORMAT_INFO_DEPTH (pad->vinfo.finfo, 0) == 8;
  if (pad->kind == KIND_REF && !pad->luma) {
    GST_ELEMENT_ERROR (self, STREAM, FORMAT, (NULL),
        ("%s: the reference must be raw video with an 8-bit luma plane, "
         "not %" GST_PTR_FORMAT,
            GST_OBJECT_NAME (pad), caps));
    return FALSE;
  }
  pad->have_caps = TRUE;
  gst_structure_get_int (s, "width", &width);
  gst_structure_get_int (s, "height", &height);
  if (pad->width > 0 && (width != pad->width || height != pad->height)) {
    GST_INFO_OBJECT (pad, "resolution %dx%d -> %dx%d", pad->width, pad->height,
        width, height);
    pad->resolution_changed = TRUE;
    pad->have_prev_y = FALSE;
  }
  pad->width = width;
  pad->height = height;
  return TRUE;
}

static void write_report_if_done (GstHqQualityMeter *self);

static void
pad_eos (GstHqQualityMeter *self, GstHqQualityMeterPad *pad)
{
  if (pad->kind == KIND_REF) {
    GPtrArray *work = g_ptr_array_new ();
    GST_OBJECT_LOCK (self);
    RefPair *pair = pair_get_locked (self, pad->index);
    pair->ref_eos = TRUE;
    pair_match_locked (pair, work);
    GST_OBJECT_UNLOCK (self);
    /* Nothing left to match: the main frames were dropped. */
    g_ptr_array_set_free_func (work, luma_frame_free);
    g_ptr_array_free (work, TRUE);
    return;
  }
  if (GST_CLOCK_TIME_IS_VALID (pad->interval_start)) {
    GstClockTime end =
        pad->kind == KIND_VIDEO ? pad->last_frame_end : pad->audio_expected;
    if (GST_CLOCK_TIME_IS_VALID (end) && end > pad->interval_start)
      pad_close_interval (self, pad, end);
  }
  GST_OBJECT_LOCK (self);
  pad->eos = TRUE;
  GST_OBJECT_UNLOCK (self);
  write_report_if_done (self);
}

static gboolean
gst_hq_quality_meter_sink_event (
    GstPad *sinkpad, GstObject *parent, GstEvent *event)
{
  GstHqQualityMeter *self = GST_HQ_QUALITY_METER (parent);
  GstHqQualityMeterPad *pad = GST_HQ_QUALITY_METER_PAD (sinkpad);

  switch (GST_EVENT_TYPE (event)) {
    case GST_EVENT_CAPS: {
      GstCaps *caps;
      gst_event_parse_caps (event, &caps);
      if (!pad_set_caps (self, pad, caps)) {
        gst_event_unref (event);
        return FALSE;
      }
      break;
    }
    case GST_EVENT_SEGMENT:
      gst_event_copy_segment (event, &pad->segment);
      break;
    case GST_EVENT_TAG: {
      GstTagList *tags;
      gst_event_parse_tag (event, &tags);
      pad_take_tags (pad, tags);
      break;
    }
    case GST_EVENT_GAP:
      if (pad->kind == KIND_AUDIO && pad->segment.format == GST_FORMAT_TIME) {
        GstClockTime ts, duration;
        gst_event_parse_gap (event, &ts, &duration);
        audio_concealed (self, pad,
            gst_segment_to_running_time (&pad->segment, GST_FORMAT_TIME, ts),
            duration);
      }
      break;
    case GST_EVENT_CUSTOM_DOWNSTREAM:
      if (pad->kind == KIND_AUDIO
          && gst_event_has_name (event, "GstRTPPacketLost")
          && pad->segment.format == GST_FORMAT_TIME) {
        const GstStructure *s = gst_event_get_structure (event);
        GstClockTime ts = GST_CLOCK_TIME_NONE, duration = GST_CLOCK_TIME_NONE;
        gst_structure_get_clock_time (s, "timestamp", &ts);
        gst_structure_get_clock_time (s, "duration", &duration);
        if (GST_CLOCK_TIME_IS_VALID (ts))
          audio_concealed (self, pad,
              gst_segment_to_running_time (&pad->segment, GST_FORMAT_TIME, ts),
              duration);
      }
      break;
    case GST_EVENT_STREAM_START:
      GST_OBJECT_LOCK (self);
      pad->eos = FALSE;
      GST_OBJECT_UNLOCK (self);
      break;
    case GST_EVENT_EOS:
      pad_eos (self, pad);
      break;
    case GST_EVENT_FLUSH_STOP:
      gst_segment_init (&pad->segment, GST_FORMAT_UNDEFINED);
      break;
    default:
      break;
  }
  if (pad->kind == KIND_REF) {
    /* A reference ends here; only queries go upstream of it. */
    gst_event_unref (event);
    return TRUE;
  }
  return gst_pad_event_default (sinkpad, parent, event);
}

/* Each sink pad is linked to its own source pad and nothing else. */
static GstIterator *
gst_hq_quality_meter_iterate_internal_links (GstPad *pad, GstObject *parent)
{
  GstPad *other = GST_PAD_IS_SINK (pad)
      ? GST_HQ_QUALITY_METER_PAD (pad)->srcpad
      : GST_PAD (gst_pad_get_element_private (pad));
  GValue value = G_VALUE_INIT;
  GstIterator *it;

  if (other == NULL)
    return gst_iterator_new_single (GST_TYPE_PAD, NULL);
  g_value_init (&value, GST_TYPE_PAD);
  g_value_set_object (&value, other);
  it = gst_iterator_new_single (GST_TYPE_PAD, &value);
  g_value_unset (&value);
  return it;
}

/* ---- the report ---- */

static void
report_stream (JsonBuilder *b, GstHqQualityMeterPad *pad, const Figures *f)
{
  gdouble d = seconds (f->duration);
  gdouble mos = d > 0 ? f->mos_weighted / d : 1.0;

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "pad");
  json_builder_add_string_value (b, GST_OBJECT_NAME (pad));
  json_builder_set_member_name (b, "kind");
  json_builder_add_string_value (b, kind_names[pad->kind]);
  json_builder_set_member_name (b, "duration");
  json_builder_add_double_value (b, d);
#define INT_MEMBER(name, value)                                                \
  G_STMT_START                                                                 \
  {                                                                            \
    json_builder_set_member_name (b, name);                                    \
    json_builder_add_int_value (b, (gint64)(value));                           \
  }                                                                            \
  G_STMT_END
#define DOUBLE_MEMBER(name, value)                                             \
  G_STMT_START                                                                 \
  {                                                                            \
    json_builder_set_member_name (b, name);                                    \
    json_builder_add_double_value (b, (value));                                \
  }                                                                            \
  G_STMT_END
  if (pad->kind == KIND_VIDEO) {
    INT_MEMBER ("frames", f->frames);
    DOUBLE_MEMBER ("fps", d > 0 ? f->frames / d : 0.0);
    INT_MEMBER ("width", f->width);
    INT_MEMBER ("height", f->height);
    INT_MEMBER ("resolution-changes", f->resolution_changes);
    INT_MEMBER ("freeze-count", f->freeze_count);
    DOUBLE_MEMBER ("total-freezes-duration", seconds (f->freezes));
    INT_MEMBER ("pause-count", f->pause_count);
    DOUBLE_MEMBER ("total-pauses-duration", seconds (f->pauses));
    INT_MEMBER ("frozen-content-frames", f->frozen_content);
    INT_MEMBER ("black-frames", f->black);
    DOUBLE_MEMBER ("bitrate", d > 0 ? f->bytes * 8 / d : 0.0);
    if (f->compared > 0) {
      INT_MEMBER ("compared-frames", f->compared);
      DOUBLE_MEMBER ("psnr", f->psnr_sum / f->compared);
      DOUBLE_MEMBER ("ssim", f->ssim_sum / f->compared);
    }
    DOUBLE_MEMBER ("mos-video", mos);
  } else {
    INT_MEMBER ("gaps", f->gaps);
    DOUBLE_MEMBER ("gap-duration", seconds (f->gap_time));
    DOUBLE_MEMBER ("concealed-duration", seconds (f->concealed));
    DOUBLE_MEMBER ("silence-ratio",
        f->blocks ? (gdouble)f->silent_blocks / f->blocks : 0.0);
    DOUBLE_MEMBER (
        "clipping-ratio", f->samples ? (gdouble)f->clipped / f->samples : 0.0);
    DOUBLE_MEMBER ("mos-audio", mos);
  }
  if (f->net_time > 0) {
    INT_MEMBER ("net-packets", f->net_received);
    DOUBLE_MEMBER ("net-fraction-lost",
        f->net_expected
            ? (gdouble)(f->net_expected - f->net_received) / f->net_expected
            : 0.0);
    DOUBLE_MEMBER ("net-unrecovered", net_unrecovered_fraction (f));
    INT_MEMBER ("net-nacks", f->net_nacks);
    DOUBLE_MEMBER ("net-jitter-ms", net_mean (f, f->net_jitter_sum));
    DOUBLE_MEMBER ("net-rtt-ms", net_mean (f, f->net_rtt_sum));
    DOUBLE_MEMBER ("net-bitrate", f->net_bytes * 8 / seconds (f->net_time));
    DOUBLE_MEMBER ("net-r", net_mean (f, f->net_r_sum));
    INT_MEMBER ("net-level", hq_netq_level_from_r (net_mean (f, f->net_r_sum)));
  }
  INT_MEMBER ("level", figures_level (pad->kind, f, mos));
  json_builder_end_object (b);
}

/* The visit per participant, from every stream's totals; element object
 * lock held. */
static gchar *
report_json_locked (GstHqQualityMeter *self)
{
  JsonBuilder *b = json_builder_new ();
  GPtrArray *names = g_ptr_array_new_with_free_func (g_free);
  JsonNode *root;
  gchar *json;

  for (guint i = 0; i < self->sinkpads->len; i++) {
    GstHqQualityMeterPad *pad = g_ptr_array_index (self->sinkpads, i);
    gchar *name = pad_dup_participant (pad);
    gboolean seen = pad->kind == KIND_REF;
    for (guint j = 0; j < names->len && !seen; j++)
      seen = g_str_equal (name, g_ptr_array_index (names, j));
    if (seen)
      g_free (name);
    else
      g_ptr_array_add (names, name);
  }

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "participants");
  json_builder_begin_array (b);
  for (guint n = 0; n < names->len; n++) {
    const gchar *name = g_ptr_array_index (names, n);
    gdouble mos_sum[2] = { 0, 0 }, time[2] = { 0, 0 };
    guint level = 5;

    json_builder_begin_object (b);
    json_builder_set_member_name (b, "participant");
    json_builder_add_string_value (b, name);
    json_builder_set_member_name (b, "streams");
    json_builder_begin_array (b);
    for (guint i = 0; i < self->sinkpads->len; i++) {
      GstHqQualityMeterPad *pad = g_ptr_array_index (self->sinkpads, i);
      gchar *who = pad_dup_participant (pad);
      gboolean mine = pad->kind != KIND_REF && g_str_equal (who, name);
      g_free (who);
      if (!mine)
        continue;
      report_stream (b, pad, &pad->total);
      mos_sum[pad->kind] += pad->total.mos_weighted;
      time[pad->kind] += seconds (pad->total.duration);
      level = MIN (level,
          figures_level (pad->kind, &pad->total,
              pad->total.duration
                  ? pad->total.mos_weighted / seconds (pad->total.duration)
                  : 1.0));
    }
    json_builder_end_array (b);
    if (time[KIND_AUDIO] > 0) {
      json_builder_set_member_name (b, "mos-audio");
      json_builder_add_double_value (b, mos_sum[KIND_AUDIO] / time[KIND_AUDIO]);
    }
    if (time[KIND_VIDEO] > 0) {
      json_builder_set_member_name (b, "mos-video");
      json_builder_add_double_value (b, mos_sum[KIND_VIDEO] / time[KIND_VIDEO]);
    }
    json_builder_set_member_name (b, "level");
    json_builder_add_int_value (b, level);
    json_builder_end_object (b);
  }
  json_builder_end_array (b);
  json_builder_end_object (b);

  root = json_builder_get_root (b);
  json = json_to_string (root, TRUE);
  json_node_unref (root);
  g_object_unref (b);
  g_ptr_array_free (names, TRUE);
  return json;
}

/* Writes the report once: when @force, or when every video and audio
 * stream has ended. */
static void
write_report (GstHqQualityMeter *self, gboolean force)
{
  gchar *json = NULL, *location = NULL;
  gboolean all_ended = TRUE, any = FALSE;
  GError *error = NULL;

  GST_OBJECT_LOCK (self);
  for (guint i = 0; i < self->sinkpads->len; i++) {
    GstHqQualityMeterPad *pad = g_ptr_array_index (self->sinkpads, i);
    if (pad->kind == KIND_REF)
      continue;
    any = TRUE;
    all_ended &= pad->eos;
  }
  if (self->location && !self->report_written && any && (force || all_ended)) {
    json = report_json_locked (self);
    location = g_strdup (self->location);
    self->report_written = TRUE;
  }
  GST_OBJECT_UNLOCK (self);
  if (!json)
    return;
  if (!g_file_set_contents (location, json, -1, &error)) {
    GST_ELEMENT_WARNING (self, RESOURCE, OPEN_WRITE,
        ("Could not write the quality report to %s.", location),
        ("%s", error->message));
    g_clear_error (&error);
  } else {
    GST_INFO_OBJECT (self, "quality report written to %s", location);
  }
  g_free (json);
  g_free (location);
}

static void
write_report_if_done (GstHqQualityMeter *self)
{
  write_report (self, FALSE);
}

/* ---- the element ---- */

/* Pads may be requested from several threads at once; the index is
 * picked and taken under this lock. */
G_LOCK_DEFINE_STATIC (request_pad);

static GstHqQualityMeterPad *
find_pad_locked (GstHqQualityMeter *self, StreamKind kind, guint index)
{
  for (guint i = 0; i < self->sinkpads->len; i++) {
    GstHqQualityMeterPad *pad = g_ptr_array_index (self->sinkpads, i);
    if (pad->kind == kind && pad->index == index)
      return pad;
  }
  return NULL;
}

static GstPad *
gst_hq_quality_meter_request_new_pad (GstElement *element,
    GstPadTemplate *templ, const gchar *name, const GstCaps *caps)
{
  GstHqQualityMeter *self = GST_HQ_QUALITY_METER (element);
  const gchar *prefix = GST_PAD_TEMPLATE_NAME_TEMPLATE (templ);
  GstHqQualityMeterPad *pad;
  GstPad *srcpad = NULL;
  StreamKind kind;
  guint index = 0;
  gchar *pad_name;
  gboolean named;

  if (g_str_equal (prefix, "video_%u"))
    kind = KIND_VIDEO;
  else if (g_str_equal (prefix, "audio_%u"))
    kind = KIND_AUDIO;
  else
    kind = KIND_REF;
  if (name == NULL)
    named = FALSE;
  else if (kind == KIND_VIDEO)
    named = sscanf (name, "video_%u", &index) == 1;
  else if (kind == KIND_AUDIO)
    named = sscanf (name, "audio_%u", &index) == 1;
  else
    named = sscanf (name, "ref_video_%u", &index) == 1;

  G_LOCK (request_pad);
  GST_OBJECT_LOCK (self);
  if (!named)
    for (index = 0; find_pad_locked (self, kind, index); index++)
      ;
  if (find_pad_locked (self, kind, index)) {
    GST_OBJECT_UNLOCK (self);
    G_UNLOCK (request_pad);
    GST_WARNING_OBJECT (self, "pad %s is already in use", name);
    return NULL;
  }
  GST_OBJECT_UNLOCK (self);

  pad_name = g_strdup_printf ("%s_%u",
      kind == KIND_VIDEO       ? "video"
          : kind == KIND_AUDIO ? "audio"
                               : "ref_video",
      index);
  pad = g_object_new (GST_TYPE_HQ_QUALITY_METER_PAD, "name", pad_name,
      "direction", GST_PAD_SINK, "template", templ, NULL);
  g_free (pad_name);
  pad->kind = kind;
  pad->index = index;
  gst_pad_set_chain_function (GST_PAD (pad), gst_hq_quality_meter_chain);
  gst_pad_set_event_function (GST_PAD (pad), gst_hq_quality_meter_sink_event);
  gst_pad_set_iterate_internal_links_function (
      GST_PAD (pad), gst_hq_quality_meter_iterate_internal_links);
  if (kind != KIND_REF) {
    gchar *src_name = g_strdup_printf (
        "src_%s_%u", kind == KIND_VIDEO ? "video" : "audio", index);
    srcpad = gst_pad_new_from_static_template (
        kind == KIND_VIDEO ? &src_video_template : &src_audio_template,
        src_name);
    g_free (src_name);
    pad->srcpad = srcpad;
    gst_pad_set_element_private (srcpad, pad);
    gst_pad_set_iterate_internal_links_function (
        srcpad, gst_hq_quality_meter_iterate_internal_links);
    GST_PAD_SET_PROXY_CAPS (pad);
    GST_PAD_SET_PROXY_ALLOCATION (pad);
    GST_PAD_SET_PROXY_SCHEDULING (pad);
    GST_PAD_SET_PROXY_CAPS (srcpad);
    GST_PAD_SET_PROXY_ALLOCATION (srcpad);
    GST_PAD_SET_PROXY_SCHEDULING (srcpad);
  }

  GST_OBJECT_LOCK (self);
  g_ptr_array_add (self->sinkpads, gst_object_ref (pad));
  if (kind == KIND_REF)
    pair_get_locked (self, index)->have_ref_pad = TRUE;
  GST_OBJECT_UNLOCK (self);

  if (srcpad) {
    gst_pad_set_active (srcpad, TRUE);
    gst_element_add_pad (element, srcpad);
  }
  gst_pad_set_active (GST_PAD (pad), TRUE);
  gst_element_add_pad (element, GST_PAD (pad));
  G_UNLOCK (request_pad);
  gst_child_proxy_child_added (
      GST_CHILD_PROXY (self), G_OBJECT (pad), GST_OBJECT_NAME (pad));
  return GST_PAD (pad);
}

static void
gst_hq_quality_meter_release_pad (GstElement *element, GstPad *sinkpad)
{
  GstHqQualityMeter *self = GST_HQ_QUALITY_METER (element);
  GstHqQualityMeterPad *pad = GST_HQ_QUALITY_METER_PAD (sinkpad);
  GstPad *srcpad = pad->srcpad;

  GST_OBJECT_LOCK (self);
  if (pad->kind == KIND_REF) {
    RefPair *pair = pair_get_locked (self, pad->index);
    pair->have_ref_pad = FALSE;
    g_queue_clear_full (&pair->ref, luma_frame_free);
    g_queue_clear_full (&pair->main, luma_frame_free);
  }
  g_ptr_array_remove (self->sinkpads, pad);
  GST_OBJECT_UNLOCK (self);

  gst_child_proxy_child_removed (
      GST_CHILD_PROXY (self), G_OBJECT (pad), GST_OBJECT_NAME (pad));
  if (srcpad) {
    gst_pad_set_active (srcpad, FALSE);
    gst_element_remove_pad (element, srcpad);
  }
  gst_pad_set_active (sinkpad, FALSE);
  gst_element_remove_pad (element, sinkpad);
  /* The pad may have been the last one still running. */
  write_report_if_done (self);
}

/* GstChildProxy over the sink pads, so that a launch line can name whose
 * stream is where: hqqualitymeter video_0::participant=alice */
static GObject *
gst_hq_quality_meter_child_proxy_get_child_by_index (
    GstChildProxy *proxy, guint index)
{
  GstHqQualityMeter *self = GST_HQ_QUALITY_METER (proxy);
  GObject *child = NULL;

  GST_OBJECT_LOCK (self);
  if (index < self->sinkpads->len)
    child = g_object_ref (g_ptr_array_index (self->sinkpads, index));
  GST_OBJECT_UNLOCK (self);
  return child;
}

static guint
gst_hq_quality_meter_child_proxy_get_children_count (GstChildProxy *proxy)
{
  GstHqQualityMeter *self = GST_HQ_QUALITY_METER (proxy);
  guint count;

  GST_OBJECT_LOCK (self);
  count = self->sinkpads->len;
  GST_OBJECT_UNLOCK (self);
  return count;
}

static void
gst_hq_quality_meter_child_proxy_init (gpointer g_iface, gpointer iface_data)
{
  GstChildProxyInterface *iface = g_iface;

  iface->get_child_by_index =
      gst_hq_quality_meter_child_proxy_get_child_by_index;
  iface->get_children_count =
      gst_hq_quality_meter_child_proxy_get_children_count;
}

/* A new run: every figure from zero. */
static void
reset_locked (GstHqQualityMeter *self)
{
  GHashTableIter it;
  gpointer value;

  for (guint i = 0; i < self->sinkpads->len; i++) {
    GstHqQualityMeterPad *pad = g_ptr_array_index (self->sinkpads, i);
    pad_reset_stream (pad);
    memset (&pad->total, 0, sizeof (pad->total));
    pad->eos = FALSE;
  }
  g_hash_table_iter_init (&it, self->pairs);
  while (g_hash_table_iter_next (&it, NULL, &value)) {
    RefPair *pair = value;
    g_queue_clear_full (&pair->main, luma_frame_free);
    g_queue_clear_full (&pair->ref, luma_frame_free);
    pair->ref_eos = FALSE;
    pair->compared = 0;
    pair->psnr_sum = pair->ssim_sum = 0;
  }
  self->report_written = FALSE;
}

/* In a live pipeline, closes the intervals of @pad that the clock has
 * passed without data from it: a stalled stream reports its silence every
 * interval instead of when data comes back.  Stream lock of @pad held. */
static void
pad_close_stalled (GstHqQualityMeter *self, GstHqQualityMeterPad *pad,
    GstClockTime now, GstClockTime interval)
{
  gboolean eos;

  GST_OBJECT_LOCK (self);
  eos = pad->eos;
  GST_OBJECT_UNLOCK (self);
  if (eos || !pad->live || !GST_CLOCK_TIME_IS_VALID (pad->interval_start))
    return;
  while (now >= pad->interval_end + pad->latency + LIVE_STALL_GRACE) {
    GST_DEBUG_OBJECT (pad, "no data for the interval ending %" GST_TIME_FORMAT,
        GST_TIME_ARGS (pad->interval_end));
    pad_close_interval (self, pad, pad->interval_end);
    pad->interval_end += interval;
  }
}

static gboolean
on_clock_tick (
    GstClock *clock, GstClockTime time, GstClockID id, gpointer user_data)
{
  GstHqQualityMeter *self = GST_HQ_QUALITY_METER (user_data);
  GPtrArray *pads = g_ptr_array_new_with_free_func (gst_object_unref);
  GstClockTime base, interval, now = gst_clock_get_time (clock);

  GST_OBJECT_LOCK (self);
  base = GST_ELEMENT_CAST (self)->base_time;
  interval = self->interval;
  for (guint i = 0; i < self->sinkpads->len; i++) {
    GstHqQualityMeterPad *pad = g_ptr_array_index (self->sinkpads, i);
    if (pad->kind != KIND_REF)
      g_ptr_array_add (pads, gst_object_ref (pad));
  }
  GST_OBJECT_UNLOCK (self);

  /* A pad whose streaming thread holds its stream lock is not stalled;
   * one that does not cannot start while we look at it. */
  for (guint i = 0; i < pads->len && now >= base; i++) {
    GstPad *pad = g_ptr_array_index (pads, i);
    if (GST_PAD_STREAM_TRYLOCK (pad)) {
      pad_close_stalled (
          self, GST_HQ_QUALITY_METER_PAD (pad), now - base, interval);
      GST_PAD_STREAM_UNLOCK (pad);
    }
  }
  g_ptr_array_free (pads, TRUE);
  return TRUE;
}

static void
start_ticks (GstHqQualityMeter *self)
{
  GstClock *clock;

  GST_OBJECT_LOCK (self);
  clock = GST_ELEMENT_CLOCK (self);
  if (clock && self->tick_id == NULL) {
    self->tick_id = gst_clock_new_periodic_id (clock,
        GST_ELEMENT_CAST (self)->base_time + self->interval, self->interval);
    gst_clock_id_wait_async (
        self->tick_id, on_clock_tick, gst_object_ref (self), gst_object_unref);
  }
  GST_OBJECT_UNLOCK (self);
}

static void
stop_ticks (GstHqQualityMeter *self)
{
  GstClockID id;

  GST_OBJECT_LOCK (self);
  id = self->tick_id;
  self->tick_id = NULL;
  GST_OBJECT_UNLOCK (self);
  if (id) {
    gst_clock_id_unschedule (id);
    gst_clock_id_unref (id);
  }
}

static GstStateChangeReturn
gst_hq_quality_meter_change_state (
    GstElement *element, GstStateChange transition)
{
  GstHqQualityMeter *self = GST_HQ_QUALITY_METER (element);
  GstStateChangeReturn ret;

  switch (transition) {
    case GST_STATE_CHANGE_READY_TO_PAUSED:
      GST_OBJECT_LOCK (self);
      reset_locked (self);
      GST_OBJECT_UNLOCK (self);
      break;
    case GST_STATE_CHANGE_PAUSED_TO_PLAYING:
      start_ticks (self);
      break;
    case GST_STATE_CHANGE_PLAYING_TO_PAUSED:
      stop_ticks (self);
      break;
    default:
      break;
  }
  ret = GST_ELEMENT_CLASS (gst_hq_quality_meter_parent_class)
            ->change_state (element, transition);
  /* Stopped before every stream ended: the report of what there was. */
  if (transition == GST_STATE_CHANGE_PAUSED_TO_READY)
    write_report (self, TRUE);
  return ret;
}

static void
gst_hq_quality_meter_set_property (
    GObject *object, guint prop_id, const GValue *value, GParamSpec *pspec)
{
  GstHqQualityMeter *self = GST_HQ_QUALITY_METER (object);

  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_INTERVAL:
      self->interval = g_value_get_uint64 (value);
      break;
    case PROP_LOCATION:
      g_free (self->location);
      self->location = g_value_dup_string (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

static void
gst_hq_quality_meter_get_property (
    GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  GstHqQualityMeter *self = GST_HQ_QUALITY_METER (object);

  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_INTERVAL:
      g_value_set_uint64 (value, self->interval);
      break;
    case PROP_LOCATION:
      g_value_set_string (value, self->location);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

static void
gst_hq_quality_meter_finalize (GObject *object)
{
  GstHqQualityMeter *self = GST_HQ_QUALITY_METER (object);

  g_ptr_array_free (self->sinkpads, TRUE);
  g_hash_table_destroy (self->pairs);
  g_free (self->location);
  G_OBJECT_CLASS (gst_hq_quality_meter_parent_class)->finalize (object);
}

static void
gst_hq_quality_meter_class_init (GstHqQualityMeterClass *klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);

  gobject_class->set_property = gst_hq_quality_meter_set_property;
  gobject_class->get_property = gst_hq_quality_meter_get_property;
  gobject_class->finalize = gst_hq_quality_meter_finalize;

  /**
   * GstHqQualityMeter:interval:
   *
   * Running time covered by one `hq-quality` message per stream, in
   * nanoseconds.  Intervals end at multiples of it, so the streams'
   * messages line up; the first covers from the stream's first data.
   */
  g_object_class_install_property (gobject_class, PROP_INTERVAL,
      g_param_spec_uint64 ("interval", "Interval",
          "Running time between two hq-quality messages of a stream, ns",
          10 * GST_MSECOND, G_MAXUINT64 / 2, DEFAULT_INTERVAL,
          G_PARAM_READWRITE | GST_PARAM_MUTABLE_READY
              | G_PARAM_STATIC_STRINGS));
  /**
   * GstHqQualityMeter:location:
   *
   * Where to write the JSON report of the whole visit, per participant,
   * when every stream has ended or the element stops; NULL writes none.
   */
  g_object_class_install_property (gobject_class, PROP_LOCATION,
      g_param_spec_string ("location", "Location",
          "File for the JSON report of the visit (NULL: none)", NULL,
          G_PARAM_READWRITE | GST_PARAM_MUTABLE_READY
              | G_PARAM_STATIC_STRINGS));

  gst_element_class_add_static_pad_template_with_gtype (
      element_class, &video_template, GST_TYPE_HQ_QUALITY_METER_PAD);
  gst_element_class_add_static_pad_template_with_gtype (
      element_class, &audio_template, GST_TYPE_HQ_QUALITY_METER_PAD);
  gst_element_class_add_static_pad_template_with_gtype (
      element_class, &ref_template, GST_TYPE_HQ_QUALITY_METER_PAD);
  gst_element_class_add_static_pad_template (
      element_class, &src_video_template);
  gst_element_class_add_static_pad_template (
      element_class, &src_audio_template);
  gst_element_class_set_static_metadata (element_class, "Quality meter",
      "Filter/Analyzer/Audio/Video",
      "Measures and scores what each participant sees and hears of N "
      "streams",
      "hqrooms");
  element_class->request_new_pad = gst_hq_quality_meter_request_new_pad;
  element_class->release_pad = gst_hq_quality_meter_release_pad;
  element_class->change_state = gst_hq_quality_meter_change_state;

  gst_type_mark_as_plugin_api (GST_TYPE_HQ_QUALITY_METER_PAD, 0);
}

static void
gst_hq_quality_meter_init (GstHqQualityMeter *self)
{
  self->sinkpads = g_ptr_array_new_with_free_func (gst_object_unref);
  self->pairs = g_hash_table_new_full (
      g_direct_hash, g_direct_equal, NULL, ref_pair_free);
  self->interval = DEFAULT_INTERVAL;
}
