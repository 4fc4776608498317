/* hqspeakerdetect: N audio streams in, the same N out, and on the bus who
 * the dominant speaker is.
 *
 * Each request sink pad sink_N comes with its own source pad src_N that
 * passes buffers, events and caps through untouched.  On the way the sink
 * pad cuts its stream, by sample count, into 20 ms blocks of running time
 * and turns each into an RFC 6464 level (see hq_level_from_mean_square).
 * The levels wait on their pad until every pad that has not ended has data
 * up to the next decision time; then they go into libhq's HqDsi in one go
 * and it decides.  So decisions depend only on stream time, never on wall
 * time or on which streaming thread ran first, and files are processed as
 * fast as they can be read with the same result as live.  Only in a live
 * pipeline does the clock matter: a pad a second behind it counts as
 * silent, so one muted participant does not stop the decisions.
 *
 * Decisions are attempted whenever a pad advances and on a periodic clock
 * callback while PLAYING.  One object lock (the element's) guards the
 * detector and the per-pad decision state; levels are computed outside
 * it, in the pad's own streaming thread, and messages are posted after it
 * is released. *
 * This file is the element: pads, levels, events, states and properties;
 * the decisions are in hqspeakerdetect-decide.c, and
 * hqspeakerdetect-private.h holds what the two share.
 */

/**
 * SECTION:element-hqspeakerdetect
 * @title: hqspeakerdetect
 *
 * Tells which of several audio streams carries the dominant speaker, the
 * person who holds the floor, using dominant speaker identification after
 * Volfin & Cohen (2013): brief sounds (coughs, doors, keyboards, an "mm-hm")
 * on other streams do not take the floor, a speaker quieter than the others
 * is still found when alone.
 *
 * Request a sink pad `sink_%u` per stream; its source pad `src_%u` appears
 * at once and outputs the stream unchanged.  Pads can be requested and
 * released while PLAYING; a pad that reached EOS stops being a candidate.
 * Any raw interleaved audio format, rate and channel count is accepted.
 *
 * A decision for running time T is made once every sink pad that has not
 * reached EOS has data up to T (a GAP event counts as data: silence), every
 * #GstHqSpeakerDetect:decision-interval.  In a live pipeline a pad that
 * falls more than a second behind the clock (a muted participant whose
 * client stopped sending) counts as silent until it catches up, and the
 * clock drives decisions even when no pad sends anything; otherwise
 * (files) a pad that was requested but receives nothing holds decisions
 * back: release it.
 *
 * ## Messages
 *
 * `hq-dominant-speaker`, an element message posted when the dominant
 * speaker changes:
 * - `participant` (string or NULL): the new dominant speaker's
 *   #GstHqSpeakerDetectPad:participant; NULL when nobody is (after
 *   #GstHqSpeakerDetect:silence-timeout, or when the dominant speaker's pad
 *   was released and nobody else speaks);
 * - `pad` (string or NULL): the name of their sink pad;
 * - `running-time` (guint64): the running time of the decision, ns;
 * - `previous` (string or NULL): the participant who was dominant before.
 *
 * `hq-speaker-levels`, with #GstHqSpeakerDetect:post-levels, after each
 * decision:
 * - `running-time` (guint64): as above;
 * - `pads`, `participants` (arrays of strings) and `levels` (array of
 *   guint): per sink pad, the RFC 6464 level (-dBov, 0..127, 127 =
 *   silence) of the energy of the last interval.
 *
 * ## Example launch line
 * |[
 * gst-launch-1.0 -m hqspeakerdetect name=d \
 *     sink_0::participant=alice sink_1::participant=bob \
 *   filesrc location=alice.wav ! wavparse ! d.sink_0 \
 *   filesrc location=bob.wav ! wavparse ! d.sink_1 \
 *   d.src_0 ! fakesink sync=false  d.src_1 ! fakesink sync=false
 * ]| prints every `hq-dominant-speaker` message of a two-person talk, as
 * fast as the files can be read.
 */
#include "gsthqspeakerdetect.h"
#include "hqspeakerdetect-private.h"

#include <math.h>
#include <stdio.h>
#include <gst/audio/audio.h>
#include <hq/hqdsi.h>

#define GST_CAT_DEFAULT hq_speaker_detect_debug

GST_DEBUG_CATEGORY (hq_speaker_detect_debug);

enum
{
  PROP_PAD_0,
  PROP_PAD_PARTICIPANT,
};

enum
{
  PROP_0,
  PROP_DOMINANT_SPEAKER,
  PROP_DECISION_INTERVAL,
  PROP_SILENCE_TIMEOUT,
  PROP_ALGORITHM,
  PROP_POST_LEVELS,
};

#define CAPS_STR                                                               \
  "audio/x-raw, format = (string) " GST_AUDIO_FORMATS_ALL ", "                 \
  "rate = (int) [ 1, MAX ], channels = (int) [ 1, MAX ], "                     \
  "layout = (string) interleaved"

static GstStaticPadTemplate sink_template = GST_STATIC_PAD_TEMPLATE (
    "sink_%u", GST_PAD_SINK, GST_PAD_REQUEST, GST_STATIC_CAPS (CAPS_STR));
static GstStaticPadTemplate src_template = GST_STATIC_PAD_TEMPLATE (
    "src_%u", GST_PAD_SRC, GST_PAD_SOMETIMES, GST_STATIC_CAPS (CAPS_STR));

G_DEFINE_TYPE (GstHqSpeakerDetectPad, gst_hq_speaker_detect_pad, GST_TYPE_PAD);
static void gst_hq_speaker_detect_child_proxy_init (
    gpointer g_iface, gpointer iface_data);
G_DEFINE_TYPE_WITH_CODE (GstHqSpeakerDetect, gst_hq_speaker_detect,
    GST_TYPE_ELEMENT,
    G_IMPLEMENT_INTERFACE (
        GST_TYPE_CHILD_PROXY, gst_hq_speaker_detect_child_proxy_init));
GST_ELEMENT_REGISTER_DEFINE_WITH_CODE (hqspeakerdetect, "hqspeakerdetect",
    GST_RANK_NONE, GST_TYPE_HQ_SPEAKER_DETECT,
    GST_DEBUG_CATEGORY_INIT (hq_speaker_detect_debug, "hqspeakerdetect", 0,
        "hqrooms dominant speaker detection"));

GType
gst_hq_speaker_detect_algorithm_get_type (void)
{
  static GType type = 0;
  static const GEnumValue values[] = {
    { GST_HQ_SPEAKER_DETECT_ALGORITHM_DSI,
        "Dominant speaker identification (Volfin & Cohen)", "dsi" },
    { GST_HQ_SPEAKER_DETECT_ALGORITHM_LOUDEST,
        "Loudest stream of each interval (naive baseline)", "loudest" },
    { 0, NULL, NULL },
  };

  if (g_once_init_enter (&type)) {
    GType t = g_enum_register_static ("GstHqSpeakerDetectAlgorithm", values);
    g_once_init_leave (&type, t);
  }
  return type;
}

/* RFC 6464: -dBov of the block's energy, where 0 dBov is the energy of a
 * full-scale square wave (mean square 1.0 for normalised samples), and
 * everything at or below -127 dBov is 127. */
guint
hq_level_from_mean_square (gdouble mean_square)
{
  gdouble dbov;

  if (mean_square <= 0)
    return HQ_DSI_LEVEL_SILENCE;
  dbov = 10 * log10 (mean_square);
  return (guint)CLAMP (lround (-dbov), 0, HQ_DSI_LEVEL_SILENCE);
}

/* ---- the pad ---- */

static void
gst_hq_speaker_detect_pad_finalize (GObject *object)
{
  GstHqSpeakerDetectPad *pad = GST_HQ_SPEAKER_DETECT_PAD (object);

  g_free (pad->participant);
  g_free (pad->tag_participant);
  g_free (pad->scratch);
  g_array_free (pad->pending, TRUE);
  g_array_free (pad->measured, TRUE);
  G_OBJECT_CLASS (gst_hq_speaker_detect_pad_parent_class)->finalize (object);
}

/* The participant a pad stands for: as set, else from the stream's tag,
 * else the pad's name.  Call with the pad's object lock held. */
static gchar *
pad_dup_participant_locked (GstHqSpeakerDetectPad *pad)
{
  if (pad->participant)
    return g_strdup (pad->participant);
  if (pad->tag_participant)
    return g_strdup (pad->tag_participant);
  return g_strdup (GST_OBJECT_NAME (pad));
}

gchar *
pad_dup_participant (GstHqSpeakerDetectPad *pad)
{
  gchar *name;

  GST_OBJECT_LOCK (pad);
  name = pad_dup_participant_locked (pad);
  GST_OBJECT_UNLOCK (pad);
  return name;
}

static void
gst_hq_speaker_detect_pad_set_property (
    GObject *object, guint prop_id, const GValue *value, GParamSpec *pspec)
{
  GstHqSpeakerDetectPad *pad = GST_HQ_SPEAKER_DETECT_PAD (object);

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
gst_hq_speaker_detect_pad_get_property (
    GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  GstHqSpeakerDetectPad *pad = GST_HQ_SPEAKER_DETECT_PAD (object);

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
gst_hq_speaker_detect_pad_class_init (GstHqSpeakerDetectPadClass *klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);

  gobject_class->finalize = gst_hq_speaker_detect_pad_finalize;
  gobject_class->set_property = gst_hq_speaker_detect_pad_set_property;
  gobject_class->get_property = gst_hq_speaker_detect_pad_get_property;

  /**
   * GstHqSpeakerDetectPad:participant:
   *
   * Who speaks on this stream, as named in the messages.  Reads back the
   * stream's `hq-participant` tag (which hqroomsrc sets) until set, and
   * the pad's name when there is no such tag.
   */
  g_object_class_install_property (gobject_class, PROP_PAD_PARTICIPANT,
      g_param_spec_string ("participant", "Participant",
          "Who speaks on this stream (default: the stream's hq-participant "
          "tag, else the pad name)",
          NULL,
          G_PARAM_READWRITE | GST_PARAM_MUTABLE_PLAYING
              | G_PARAM_STATIC_STRINGS));
}

static void
gst_hq_speaker_detect_pad_init (GstHqSpeakerDetectPad *pad)
{
  pad->pending = g_array_new (FALSE, FALSE, sizeof (PendingLevel));
  pad->measured = g_array_new (FALSE, FALSE, sizeof (PendingLevel));
  pad->position = GST_CLOCK_TIME_NONE;
  pad->block_origin = GST_CLOCK_TIME_NONE;
  gst_segment_init (&pad->segment, GST_FORMAT_UNDEFINED);
}

/* ---- levels (streaming thread) ---- */

/* Sum of the squares of @n_samples normalised samples at @data. */
static gdouble
sum_squares (GstHqSpeakerDetectPad *pad, const guint8 *data, guint n_samples)
{
  const GstAudioFormatInfo *finfo = pad->info.finfo;
  gdouble sum = 0;

  switch (GST_AUDIO_INFO_FORMAT (&pad->info)) {
    case GST_AUDIO_FORMAT_S16: {
      const gint16 *s = (const gint16 *)data;
      gint64 isum = 0;
      for (guint i = 0; i < n_samples; i++)
        isum += (gint32)s[i] * s[i];
      return isum / (32768.0 * 32768.0);
    }
    case GST_AUDIO_FORMAT_F32: {
      const gfloat *s = (const gfloat *)data;
      for (guint i = 0; i < n_samples; i++)
        sum += (gdouble)s[i] * s[i];
      return sum;
    }
    default:
      break;
  }

  /* Any other format: unpack to S32 or F64 first. */
  if (pad->scratch_len < n_samples) {
    g_free (pad->scratch);
    pad->scratch = g_new (gdouble, n_samples);
    pad->scratch_len = n_samples;
  }
  /* TRUNCATE_RANGE: unpacked values are exact, lower bits zero (by default
   * they repeat the upper bits, so unsigned silence would not be 0). */
  finfo->unpack_func (
      finfo, GST_AUDIO_PACK_FLAG_TRUNCATE_RANGE, pad->scratch, data, n_samples);
  if (finfo->unpack_format == GST_AUDIO_FORMAT_F64) {
    for (guint i = 0; i < n_samples; i++)
      sum += pad->scratch[i] * pad->scratch[i];
  } else {
    const gint32 *s = (const gint32 *)pad->scratch;
    for (guint i = 0; i < n_samples; i++) {
      gdouble v = s[i] / 2147483648.0;
      sum += v * v;
    }
  }
  return sum;
}

static void
pad_reset_blocks (GstHqSpeakerDetectPad *pad)
{
  pad->frames_in_block = 0;
  pad->block_sum = 0;
  pad->block_origin = GST_CLOCK_TIME_NONE;
  pad->run_frames = 0;
}

/* Cuts @buf into 20 ms blocks and appends one PendingLevel per completed
 * block to @levels.  Returns the running time the buffer ends at. */
static GstClockTime
pad_measure (GstHqSpeakerDetectPad *pad, GstBuffer *buf, GArray *levels)
{
  GstAudioInfo *info = &pad->info;
  GstClockTime start, expected;
  GstMapInfo map;
  guint frames, done = 0;

  if (!pad->have_info || pad->segment.format != GST_FORMAT_TIME)
    return GST_CLOCK_TIME_NONE;
  frames = gst_buffer_get_size (buf) / GST_AUDIO_INFO_BPF (info);
  start = gst_segment_to_running_time (
      &pad->segment, GST_FORMAT_TIME, GST_BUFFER_PTS (buf));
  expected = GST_CLOCK_TIME_IS_VALID (pad->block_origin) ? pad->block_origin
          + gst_util_uint64_scale (pad->run_frames, GST_SECOND, info->rate)
                                                         : GST_CLOCK_TIME_NONE;

  /* A buffer without a time continues the run; one that starts more than a
   * block away from where the run is restarts it. */
  if (!GST_CLOCK_TIME_IS_VALID (start))
    start = expected;
  if (!GST_CLOCK_TIME_IS_VALID (start))
    return GST_CLOCK_TIME_NONE;
  if (!GST_CLOCK_TIME_IS_VALID (expected) || GST_BUFFER_IS_DISCONT (buf)
      || (start > expected ? start - expected : expected - start)
          > LEVEL_DURATION) {
    pad_reset_blocks (pad);
    pad->block_origin = start;
  }

  if (!gst_buffer_map (buf, &map, GST_MAP_READ))
    return GST_CLOCK_TIME_NONE;
  while (done < frames) {
    guint n = MIN (frames - done, pad->block_frames - pad->frames_in_block);

    pad->block_sum += sum_squares (pad,
        map.data + (gsize)done * GST_AUDIO_INFO_BPF (info), n * info->channels);
    pad->frames_in_block += n;
    pad->run_frames += n;
    done += n;
    if (pad->frames_in_block == pad->block_frames) {
      PendingLevel l;
      l.running_time = pad->block_origin
          + gst_util_uint64_scale (
              pad->run_frames - pad->block_frames, GST_SECOND, info->rate);
      l.mean_square =
          pad->block_sum / ((gdouble)pad->block_frames * info->channels);
      g_array_append_val (levels, l);
      pad->frames_in_block = 0;
      pad->block_sum = 0;
    }
  }
  gst_buffer_unmap (buf, &map);
  return pad->block_origin
      + gst_util_uint64_scale (pad->run_frames, GST_SECOND, info->rate);
}

/* Whether the stream on @pad comes from a live source. */
static gboolean
pad_query_live (GstHqSpeakerDetectPad *pad)
{
  GstQuery *query = gst_query_new_latency ();
  gboolean live = FALSE;

  if (gst_pad_peer_query (GST_PAD (pad), query))
    gst_query_parse_latency (query, &live, NULL, NULL);
  gst_query_unref (query);
  GST_DEBUG_OBJECT (pad, "stream is %slive", live ? "" : "not ");
  return live;
}

static GstFlowReturn
gst_hq_speaker_detect_chain (GstPad *sinkpad, GstObject *parent, GstBuffer *buf)
{
  GstHqSpeakerDetect *self = GST_HQ_SPEAKER_DETECT (parent);
  GstHqSpeakerDetectPad *pad = GST_HQ_SPEAKER_DETECT_PAD (sinkpad);
  GstClockTime end;

  if (!pad->live_checked) {
    gboolean live = pad_query_live (pad);
    pad->live_checked = TRUE;
    GST_OBJECT_LOCK (self);
    pad->live = live;
    GST_OBJECT_UNLOCK (self);
  }
  g_array_set_size (pad->measured, 0);
  end = pad_measure (pad, buf, pad->measured);
  pad_advance (self, pad, pad->measured, end);
  return gst_pad_push (pad->srcpad, buf);
}

static void
pad_take_tags (GstHqSpeakerDetectPad *pad, GstTagList *tags)
{
  gchar *name = NULL;

  if (!gst_tag_list_get_string (tags, HQ_TAG_PARTICIPANT, &name))
    return;
  GST_OBJECT_LOCK (pad);
  g_free (pad->tag_participant);
  pad->tag_participant = name;
  GST_OBJECT_UNLOCK (pad);
}

/* Like gst_audio_info_from_caps(), but also for more than two channels
 * without a channel-mask: where the channels are does not matter here. */
static gboolean
audio_info_from_caps (GstAudioInfo *info, const GstCaps *caps)
{
  const GstStructure *s = gst_caps_get_structure (caps, 0);
  GstAudioFormat format;
  gint rate, channels;

  if (gst_structure_has_field (s, "channel-mask")
      || !gst_structure_get_int (s, "channels", &channels) || channels <= 2)
    return gst_audio_info_from_caps (info, caps);
  format =
      gst_audio_format_from_string (gst_structure_get_string (s, "format"));
  if (format == GST_AUDIO_FORMAT_UNKNOWN
      || !gst_structure_get_int (s, "rate", &rate) || rate <= 0)
    return FALSE;
  gst_audio_info_init (info);
  gst_audio_info_set_format (info, format, rate, MIN (channels, 64), NULL);
  info->channels = channels;
  info->bpf = channels * GST_AUDIO_FORMAT_INFO_WIDTH (info->finfo) / 8;
  return TRUE;
}

static gboolean
gst_hq_speaker_detect_sink_event (
    GstPad *sinkpad, GstObject *parent, GstEvent *event)
{
  GstHqSpeakerDetect *self = GST_HQ_SPEAKER_DETECT (parent);
  GstHqSpeakerDetectPad *pad = GST_HQ_SPEAKER_DETECT_PAD (sinkpad);

  switch (GST_EVENT_TYPE (event)) {
    case GST_EVENT_CAPS: {
      GstCaps *caps;
      GstAudioInfo info;

      gst_event_parse_caps (event, &caps);
      if (!audio_info_from_caps (&info, caps)) {
        GST_ELEMENT_ERROR (self, STREAM, FORMAT, (NULL),
            ("%s: caps %" GST_PTR_FORMAT " are not raw audio this element "
             "can measure",
                GST_OBJECT_NAME (pad), caps));
        gst_event_unref (event);
        return FALSE;
      }
      pad->info = info;
      pad->have_info = TRUE;
      pad->block_frames = MAX (1, (info.rate * HQ_DSI_LEVEL_MS + 500) / 1000);
      pad_reset_blocks (pad);
      break;
    }
    case GST_EVENT_SEGMENT:
      gst_event_copy_segment (event, &pad->segment);
      pad_reset_blocks (pad);
      break;
    case GST_EVENT_TAG: {
      GstTagList *tags;
      gst_event_parse_tag (event, &tags);
      pad_take_tags (pad, tags);
      break;
    }
    case GST_EVENT_GAP: {
      GstClockTime ts, duration, end;

      /* No audio until the gap's end: silence, which the detector fills
       * in by itself. */
      gst_event_parse_gap (event, &ts, &duration);
      end = gst_segment_to_running_time (&pad->segment, GST_FORMAT_TIME,
          GST_CLOCK_TIME_IS_VALID (duration) ? ts + duration : ts);
      pad_reset_blocks (pad);
      pad_advance (self, pad, NULL, end);
      break;
    }
    case GST_EVENT_STREAM_START:
      pad->live_checked = FALSE;
      GST_OBJECT_LOCK (self);
      pad->eos = FALSE;
      if (!pad->in_dsi)
        pad->in_dsi = hq_dsi_add_speaker (self->dsi, pad->id, NULL);
      GST_OBJECT_UNLOCK (self);
      break;
    case GST_EVENT_EOS:
      GST_OBJECT_LOCK (self);
      pad->eos = TRUE;
      GST_OBJECT_UNLOCK (self);
      pad_advance (self, pad, NULL, GST_CLOCK_TIME_NONE);
      break;
    case GST_EVENT_FLUSH_STOP:
      GST_OBJECT_LOCK (self);
      g_array_set_size (pad->pending, 0);
      pad->position = GST_CLOCK_TIME_NONE;
      GST_OBJECT_UNLOCK (self);
      gst_segment_init (&pad->segment, GST_FORMAT_UNDEFINED);
      pad_reset_blocks (pad);
      break;
    default:
      break;
  }
  return gst_pad_event_default (sinkpad, parent, event);
}

/* Each sink pad is linked to its own source pad and nothing else. */
static GstIterator *
gst_hq_speaker_detect_iterate_internal_links (GstPad *pad, GstObject *parent)
{
  GstPad *other = GST_PAD_IS_SINK (pad)
      ? GST_HQ_SPEAKER_DETECT_PAD (pad)->srcpad
      : GST_PAD (gst_pad_get_element_private (pad));
  GValue value = G_VALUE_INIT;
  GstIterator *it;

  g_value_init (&value, GST_TYPE_PAD);
  g_value_set_object (&value, other);
  it = gst_iterator_new_single (GST_TYPE_PAD, &value);
  g_value_unset (&value);
  return it;
}

/* ---- the element ---- */

/* Pads may be requested from several threads at once (one per remote
 * track appearing); the index is picked and taken under this lock. */
G_LOCK_DEFINE_STATIC (request_pad);

static GstPad *
gst_hq_speaker_detect_request_new_pad (GstElement *element,
    GstPadTemplate *templ, const gchar *name, const GstCaps *caps)
{
  GstHqSpeakerDetect *self = GST_HQ_SPEAKER_DETECT (element);
  GstHqSpeakerDetectPad *pad;
  GstPad *srcpad;
  guint index = 0;
  gchar *pad_name, *src_name;

  G_LOCK (request_pad);
  GST_OBJECT_LOCK (self);
  if (name == NULL || sscanf (name, "sink_%u", &index) != 1) {
    for (index = 0; find_pad_locked (self, index); index++)
      ;
  }
  if (find_pad_locked (self, index)) {
    GST_OBJECT_UNLOCK (self);
    G_UNLOCK (request_pad);
    GST_WARNING_OBJECT (self, "pad %s is already in use", name);
    return NULL;
  }
  GST_OBJECT_UNLOCK (self);

  pad_name = g_strdup_printf ("sink_%u", index);
  src_name = g_strdup_printf ("src_%u", index);
  pad = g_object_new (GST_TYPE_HQ_SPEAKER_DETECT_PAD, "name", pad_name,
      "direction", GST_PAD_SINK, "template", templ, NULL);
  srcpad = gst_pad_new_from_static_template (&src_template, src_name);
  g_free (pad_name);
  g_free (src_name);
  pad->id = index;
  pad->srcpad = srcpad;
  gst_pad_set_element_private (srcpad, pad);

  gst_pad_set_chain_function (GST_PAD (pad), gst_hq_speaker_detect_chain);
  gst_pad_set_event_function (GST_PAD (pad), gst_hq_speaker_detect_sink_event);
  gst_pad_set_iterate_internal_links_function (
      GST_PAD (pad), gst_hq_speaker_detect_iterate_internal_links);
  gst_pad_set_iterate_internal_links_function (
      srcpad, gst_hq_speaker_detect_iterate_internal_links);
  GST_PAD_SET_PROXY_CAPS (pad);
  GST_PAD_SET_PROXY_ALLOCATION (pad);
  GST_PAD_SET_PROXY_SCHEDULING (pad);
  GST_PAD_SET_PROXY_CAPS (srcpad);
  GST_PAD_SET_PROXY_ALLOCATION (srcpad);
  GST_PAD_SET_PROXY_SCHEDULING (srcpad);

  GST_OBJECT_LOCK (self);
  pad->in_dsi = hq_dsi_add_speaker (self->dsi, pad->id, NULL);
  g_ptr_array_add (self->sinkpads, gst_object_ref (pad));
  GST_OBJECT_UNLOCK (self);

  gst_pad_set_active (srcpad, TRUE);
  gst_pad_set_active (GST_PAD (pad), TRUE);
  gst_element_add_pad (element, srcpad);
  gst_element_add_pad (element, GST_PAD (pad));
  G_UNLOCK (request_pad);
  gst_child_proxy_child_added (
      GST_CHILD_PROXY (self), G_OBJECT (pad), GST_OBJECT_NAME (pad));
  return GST_PAD (pad);
}

static void
gst_hq_speaker_detect_release_pad (GstElement *element, GstPad *sinkpad)
{
  GstHqSpeakerDetect *self = GST_HQ_SPEAKER_DETECT (element);
  GstHqSpeakerDetectPad *pad = GST_HQ_SPEAKER_DETECT_PAD (sinkpad);
  GstPad *srcpad = pad->srcpad;
  GPtrArray *messages = g_ptr_array_new ();

  GST_OBJECT_LOCK (self);
  if (pad->in_dsi)
    hq_dsi_remove_speaker (self->dsi, pad->id, NULL);
  pad->in_dsi = FALSE;
  g_ptr_array_remove (self->sinkpads, pad);
  /* The pad may have been the one the others waited for. */
  decide_locked (self, messages);
  GST_OBJECT_UNLOCK (self);

  gst_child_proxy_child_removed (
      GST_CHILD_PROXY (self), G_OBJECT (pad), GST_OBJECT_NAME (pad));
  gst_pad_set_active (srcpad, FALSE);
  gst_pad_set_active (sinkpad, FALSE);
  gst_element_remove_pad (element, srcpad);
  gst_element_remove_pad (element, sinkpad);
  post_messages (self, messages);
}

/* GstChildProxy over the sink pads, so that a launch line can name who
 * speaks where: hqspeakerdetect sink_0::participant=alice */
static GObject *
gst_hq_speaker_detect_child_proxy_get_child_by_index (
    GstChildProxy *proxy, guint index)
{
  GstHqSpeakerDetect *self = GST_HQ_SPEAKER_DETECT (proxy);
  GObject *child = NULL;

  GST_OBJECT_LOCK (self);
  if (index < self->sinkpads->len)
    child = g_object_ref (g_ptr_array_index (self->sinkpads, index));
  GST_OBJECT_UNLOCK (self);
  return child;
}

static guint
gst_hq_speaker_detect_child_proxy_get_children_count (GstChildProxy *proxy)
{
  GstHqSpeakerDetect *self = GST_HQ_SPEAKER_DETECT (proxy);
  guint count;

  GST_OBJECT_LOCK (self);
  count = self->sinkpads->len;
  GST_OBJECT_UNLOCK (self);
  return count;
}

static void
gst_hq_speaker_detect_child_proxy_init (gpointer g_iface, gpointer iface_data)
{
  GstChildProxyInterface *iface = g_iface;

  iface->get_child_by_index =
      gst_hq_speaker_detect_child_proxy_get_child_by_index;
  iface->get_children_count =
      gst_hq_speaker_detect_child_proxy_get_children_count;
}

/* Forgets all decisions and levels: a new run starts from scratch. */
static void
reset_locked (GstHqSpeakerDetect *self)
{
  hq_dsi_free (self->dsi);
  self->dsi =
      hq_dsi_new (self->algorithm == GST_HQ_SPEAKER_DETECT_ALGORITHM_LOUDEST
              ? HQ_DSI_ALGORITHM_LOUDEST
              : HQ_DSI_ALGORITHM_DSI);
  hq_dsi_set_silence_timeout (self->dsi, self->silence_timeout);
  for (guint i = 0; i < self->sinkpads->len; i++) {
    GstHqSpeakerDetectPad *pad = g_ptr_array_index (self->sinkpads, i);
    g_array_set_size (pad->pending, 0);
    pad->position = GST_CLOCK_TIME_NONE;
    pad->eos = FALSE;
    pad->interval_sum = 0;
    pad->interval_count = 0;
    pad->in_dsi = hq_dsi_add_speaker (self->dsi, pad->id, NULL);
  }
  self->next_decision = self->decision_interval * GST_MSECOND;
  g_clear_pointer (&self->dominant, g_free);
}

/* The clock's tick: in a live pipeline where no pad delivers anything,
 * decisions (and the silence timeout) still happen, on the stalled pads'
 * silence.  Elsewhere it finds nothing new to decide. */
static gboolean
on_clock_tick (
    GstClock *clock, GstClockTime time, GstClockID id, gpointer user_data)
{
  GstHqSpeakerDetect *self = GST_HQ_SPEAKER_DETECT (user_data);
  GPtrArray *messages = g_ptr_array_new ();

  GST_OBJECT_LOCK (self);
  decide_locked (self, messages);
  GST_OBJECT_UNLOCK (self);
  post_messages (self, messages);
  return TRUE;
}

static void
start_ticks (GstHqSpeakerDetect *self)
{
  GstClockTime interval;
  GstClock *clock;

  GST_OBJECT_LOCK (self);
  clock = GST_ELEMENT_CLOCK (self);
  interval = self->decision_interval * GST_MSECOND;
  if (clock && self->tick_id == NULL) {
    self->tick_id = gst_clock_new_periodic_id (
        clock, GST_ELEMENT_CAST (self)->base_time + interval, interval);
    gst_clock_id_wait_async (
        self->tick_id, on_clock_tick, gst_object_ref (self), gst_object_unref);
  }
  GST_OBJECT_UNLOCK (self);
}

static void
stop_ticks (GstHqSpeakerDetect *self)
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
gst_hq_speaker_detect_change_state (
    GstElement *element, GstStateChange transition)
{
  GstHqSpeakerDetect *self = GST_HQ_SPEAKER_DETECT (element);
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
  ret = GST_ELEMENT_CLASS (gst_hq_speaker_detect_parent_class)
            ->change_state (element, transition);
  return ret;
}

static void
gst_hq_speaker_detect_set_property (
    GObject *object, guint prop_id, const GValue *value, GParamSpec *pspec)
{
  GstHqSpeakerDetect *self = GST_HQ_SPEAKER_DETECT (object);

  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_DECISION_INTERVAL:
      self->decision_interval = g_value_get_uint (value);
      break;
    case PROP_SILENCE_TIMEOUT:
      self->silence_timeout = g_value_get_uint (value);
      hq_dsi_set_silence_timeout (self->dsi, self->silence_timeout);
      break;
    case PROP_ALGORITHM:
      self->algorithm = g_value_get_enum (value);
      reset_locked (self);
      break;
    case PROP_POST_LEVELS:
      self->post_levels = g_value_get_boolean (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

static void
gst_hq_speaker_detect_get_property (
    GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  GstHqSpeakerDetect *self = GST_HQ_SPEAKER_DETECT (object);

  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_DOMINANT_SPEAKER:
      g_value_set_string (value, self->dominant);
      break;
    case PROP_DECISION_INTERVAL:
      g_value_set_uint (value, self->decision_interval);
      break;
    case PROP_SILENCE_TIMEOUT:
      g_value_set_uint (value, self->silence_timeout);
      break;
    case PROP_ALGORITHM:
      g_value_set_enum (value, self->algorithm);
      break;
    case PROP_POST_LEVELS:
      g_value_set_boolean (value, self->post_levels);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

static void
gst_hq_speaker_detect_finalize (GObject *object)
{
  GstHqSpeakerDetect *self = GST_HQ_SPEAKER_DETECT (object);

  hq_dsi_free (self->dsi);
  g_ptr_array_free (self->sinkpads, TRUE);
  g_free (self->dominant);
  G_OBJECT_CLASS (gst_hq_speaker_detect_parent_class)->finalize (object);
}

static void
gst_hq_speaker_detect_class_init (GstHqSpeakerDetectClass *klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);

  gobject_class->set_property = gst_hq_speaker_detect_set_property;
  gobject_class->get_property = gst_hq_speaker_detect_get_property;
  gobject_class->finalize = gst_hq_speaker_detect_finalize;

  /**
   * GstHqSpeakerDetect:dominant-speaker:
   *
   * The participant who is the dominant speaker now, or NULL when nobody
   * is (yet).  Notified whenever a decision changes it.
   */
  g_object_class_install_property (gobject_class, PROP_DOMINANT_SPEAKER,
      g_param_spec_string ("dominant-speaker", "Dominant speaker",
          "Participant who holds the floor now (NULL: nobody)", NULL,
          G_PARAM_READABLE | G_PARAM_STATIC_STRINGS));
  /**
   * GstHqSpeakerDetect:decision-interval:
   *
   * Running time between two decisions, in milliseconds.  Shorter reacts
   * faster to turn changes at the cost of CPU.
   */
  g_object_class_install_property (gobject_class, PROP_DECISION_INTERVAL,
      g_param_spec_uint ("decision-interval", "Decision interval",
          "Milliseconds of stream time between decisions", HQ_DSI_LEVEL_MS,
          60000, DEFAULT_DECISION_INTERVAL,
          G_PARAM_READWRITE | GST_PARAM_MUTABLE_PLAYING
              | G_PARAM_STATIC_STRINGS));
  /**
   * GstHqSpeakerDetect:silence-timeout:
   *
   * After this many milliseconds in which nobody spoke, announce that
   * nobody is the dominant speaker.  0 keeps the last one through any
   * silence.
   */
  g_object_class_install_property (gobject_class, PROP_SILENCE_TIMEOUT,
      g_param_spec_uint ("silence-timeout", "Silence timeout",
          "Milliseconds of silence after which nobody is dominant "
          "(0 = never)",
          0, G_MAXUINT, DEFAULT_SILENCE_TIMEOUT,
          G_PARAM_READWRITE | GST_PARAM_MUTABLE_PLAYING
              | G_PARAM_STATIC_STRINGS));
  /**
   * GstHqSpeakerDetect:algorithm:
   *
   * How the dominant speaker is chosen: `dsi` (Volfin & Cohen) or
   * `loudest` (the loudest stream of each interval, a baseline that
   * switches on every cough).  Changing it starts the detection anew.
   */
  g_object_class_install_property (gobject_class, PROP_ALGORITHM,
      g_param_spec_enum ("algorithm", "Algorithm",
          "How the dominant speaker is chosen",
          GST_TYPE_HQ_SPEAKER_DETECT_ALGORITHM, DEFAULT_ALGORITHM,
          G_PARAM_READWRITE | GST_PARAM_MUTABLE_READY
              | G_PARAM_STATIC_STRINGS));
  /**
   * GstHqSpeakerDetect:post-levels:
   *
   * Also post an `hq-speaker-levels` message with every pad's level after
   * each decision.
   */
  g_object_class_install_property (gobject_class, PROP_POST_LEVELS,
      g_param_spec_boolean ("post-levels", "Post levels",
          "Post per-pad levels after each decision", DEFAULT_POST_LEVELS,
          G_PARAM_READWRITE | GST_PARAM_MUTABLE_PLAYING
              | G_PARAM_STATIC_STRINGS));

  gst_element_class_add_static_pad_template_with_gtype (
      element_class, &sink_template, GST_TYPE_HQ_SPEAKER_DETECT_PAD);
  gst_element_class_add_static_pad_template (element_class, &src_template);
  gst_element_class_set_static_metadata (element_class,
      "Dominant speaker detection", "Filter/Analyzer/Audio",
      "Tells which of several audio streams carries the dominant speaker",
      "hqrooms");
  element_class->request_new_pad = gst_hq_speaker_detect_request_new_pad;
  element_class->release_pad = gst_hq_speaker_detect_release_pad;
  element_class->change_state = gst_hq_speaker_detect_change_state;

  gst_type_mark_as_plugin_api (GST_TYPE_HQ_SPEAKER_DETECT_PAD, 0);
  gst_type_mark_as_plugin_api (GST_TYPE_HQ_SPEAKER_DETECT_ALGORITHM, 0);
}

static void
gst_hq_speaker_detect_init (GstHqSpeakerDetect *self)
{
  self->sinkpads = g_ptr_array_new_with_free_func (gst_object_unref);
  self->decision_interval = DEFAULT_DECISION_INTERVAL;
  self->silence_timeout = DEFAULT_SILENCE_TIMEOUT;
  self->algorithm = DEFAULT_ALGORITHM;
  self->post_levels = DEFAULT_POST_LEVELS;
  self->next_decision = DEFAULT_DECISION_INTERVAL * GST_MSECOND;
  self->dsi = hq_dsi_new (HQ_DSI_ALGORITHM_DSI);
}
