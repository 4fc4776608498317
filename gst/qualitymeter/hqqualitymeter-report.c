/* hqqualitymeter's figures and reports: per interval, what a stream
 * did, scored (libhq hqquality) and with the network figures of an
 * upstream hqroomsrc pad, posted as an hq-quality message; per visit, the
 * JSON report written to the element's location.
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

static const gchar *const kind_names[] = { "video", "audio", "reference" };

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
GstPad *
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
void
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
void
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
void
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
void
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

void
write_report_if_done (GstHqQualityMeter *self)
{
  write_report (self, FALSE);
}
