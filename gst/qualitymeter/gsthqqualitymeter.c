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
 * belongs to its streaming thread. *
 * This file is the element: pads, events, states and properties.  The
 * measures of the media are in hqqualitymeter-measure.c, the intervals,
 * their scores and the visit's report in hqqualitymeter-report.c;
 * hqqualitymeter-private.h holds what they share.
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

GST_DEBUG_CATEGORY (hq_quality_meter_debug);

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
gchar *
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
