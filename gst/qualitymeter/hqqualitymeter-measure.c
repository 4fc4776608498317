/* hqqualitymeter's measures of the media itself: video frames (luma
 * copies, identical and black frames, freezes), audio (gaps, silence,
 * clipping, concealment) and the pairing of video_N with ref_video_N for
 * PSNR and SSIM.  See gsthqqualitymeter.c for the threads and locks.
 */
#include "gsthqqualitymeter.h"
#include "hqqualitymeter-private.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <gst/audio/audio.h>
#include <gst/video/video.h>
#include <json-glib/json-glib.h>
#include <hq/hqnetq.h>
#include <hq/hqquality.h>
#include <hq/hqtags.h>

#define GST_CAT_DEFAULT hq_quality_meter_debug

void
luma_frame_free (gpointer data)
{
  LumaFrame *f = data;

  g_free (f->y);
  g_free (f);
}

void
ref_pair_free (gpointer data)
{
  RefPair *pair = data;

  g_queue_clear_full (&pair->main, luma_frame_free);
  g_queue_clear_full (&pair->ref, luma_frame_free);
  g_free (pair);
}

/* ---- reference pairs (element object lock) ---- */

RefPair *
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
void
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

void
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

void
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
void
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
