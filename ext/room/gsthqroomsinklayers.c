/* hqroomsink's simulcast layers; see gsthqroomsinklayers.h.
 *
 * Three encoders of one picture at three sizes rather than VP8's temporal
 * layers: subscribers that render small need fewer pixels, not fewer
 * frames, and only spatial layers give them that (VP8 has no spatial
 * scalability; Chromium's VP8 simulcast is separate encodings as here).
 * The two small encoders together cost about a third of the full one
 * (1/16 + 1/4 of its pixels).  Each layer runs on its own thread behind
 * a leaky queue, so a busy full-size encoder never holds the small ones
 * back; a layer nobody receives drops its frames at a valve before they
 * are scaled and encoded. */
#include "gsthqroomsinklayers.h"

#include <gst/video/video.h>

/* the element's (GST_DEBUG=hqroomsink:5) */
GST_DEBUG_CATEGORY_EXTERN (gst_hq_room_sink_debug);
#define GST_CAT_DEFAULT gst_hq_room_sink_debug

/* The layers, lowest first: RID, how much smaller than the input each
 * side is, and the target bitrate (bit/s) for 1280x720 input, near what
 * Chromium gives 320x180, 640x360 and 1280x720 layers. */
static const struct
{
  const gchar *rid;
  guint divisor;
  guint bitrate;
} layers[GST_HQ_ROOM_SINK_LAYERS] = {
  { "q", 4, 150000 },
  { "h", 2, 500000 },
  { "f", 1, 1500000 },
};

guint
gst_hq_room_sink_layers_plan (GstHqRoomSinkPad *pad, HqRoomLocalLayer *out)
{
  for (guint i = 0; i < GST_HQ_ROOM_SINK_LAYERS; i++) {
    out[i].rid = layers[i].rid;
    out[i].ssrc = pad->streams[i].ssrc;
  }
  return GST_HQ_ROOM_SINK_LAYERS;
}

void
gst_hq_room_sink_layers_share (
    const GstHqRoomSinkStream *streams, guint n, guint budget, guint *rates)
{
  guint64 sum = 0;

  for (guint i = 0; i < n; i++)
    if (!streams[i].paused)
      sum += streams[i].bitrate;
  for (guint i = 0; i < n; i++) {
    guint64 share =
        sum ? (guint64)streams[i].bitrate * budget / sum : streams[i].bitrate;
    rates[i] = streams[i].paused ? 0 : (guint)MIN (share, streams[i].bitrate);
  }
}

/* A side @divisor times smaller, even (4:2:0 chroma) and at least 2. */
static gint
layer_side (gint side, guint divisor)
{
  return MAX (2, (side / (gint)divisor) & ~1);
}

/* The part of layer @i: "queue ! valve ! [videoscale ! caps !]" before
 * what @make_part adds; NULL with @error. */
static GstElement *
make_layer (guint i, const GstVideoInfo *info, guint bitrate, guint32 ssrc,
    GstHqRoomSinkPartFunc make_part, gpointer data, GError **error)
{
  g_autofree gchar *scale = NULL, *prefix = NULL, *desc = NULL;
  g_autofree gchar *name = g_strdup_printf ("layer_%s", layers[i].rid);
  GstElement *part;

  if (layers[i].divisor > 1)
    scale = g_strdup_printf ("videoscale ! video/x-raw,width=%d,height=%d ! ",
        layer_side (GST_VIDEO_INFO_WIDTH (info), layers[i].divisor),
        layer_side (GST_VIDEO_INFO_HEIGHT (info), layers[i].divisor));
  /* leaky: a layer whose encoder falls behind loses frames, not the
   * others' */
  prefix = g_strdup_printf ("queue max-size-buffers=4 max-size-bytes=0 "
                            "max-size-time=0 leaky=downstream ! "
                            "valve name=valve drop=false ! %s",
      scale ? scale : "");
  desc = make_part (data, prefix, bitrate, ssrc, error);
  if (desc == NULL)
    return NULL;
  part = gst_parse_bin_from_description (desc, TRUE, error);
  if (part == NULL)
    return NULL;
  gst_object_set_name (GST_OBJECT (part), name);
  GST_DEBUG ("layer %s: %s", layers[i].rid, desc);
  return part;
}

static gboolean
ghost (GstElement *bin, GstElement *child, const gchar *child_pad,
    const gchar *name)
{
  g_autoptr (GstPad) target = gst_element_get_static_pad (child, child_pad);
  GstPad *pad;

  if (target == NULL)
    return FALSE;
  pad = gst_ghost_pad_new (name, target);
  gst_pad_set_active (pad, TRUE);
  return gst_element_add_pad (bin, pad);
}

GstElement *
gst_hq_room_sink_layers_make_chain (const GstCaps *caps, guint budget,
    GstHqRoomSinkStream *streams, GstHqRoomSinkPartFunc make_part,
    gpointer data, GError **error)
{
  GstVideoInfo info;
  GstElement *bin, *convert, *tee;
  guint rates[GST_HQ_ROOM_SINK_LAYERS];

  if (!gst_video_info_from_caps (&info, caps)) {
    g_set_error (error, GST_STREAM_ERROR, GST_STREAM_ERROR_FORMAT,
        "cannot publish simulcast layers of video without a size: %s",
        "the caps name no width and height");
    return NULL;
  }
  for (guint i = 0; i < GST_HQ_ROOM_SINK_LAYERS; i++) {
    streams[i].rid = layers[i].rid;
    streams[i].bitrate = layers[i].bitrate;
    streams[i].paused = FALSE;
  }
  gst_hq_room_sink_layers_share (
      streams, GST_HQ_ROOM_SINK_LAYERS, budget, rates);
  bin = gst_bin_new (NULL);
  convert = gst_element_factory_make ("videoconvert", NULL);
  tee = gst_element_factory_make ("tee", NULL);
  if (convert == NULL || tee == NULL) {
    g_set_error (error, GST_CORE_ERROR, GST_CORE_ERROR_MISSING_PLUGIN,
        "no videoconvert or tee (gst-plugins-base, GStreamer core)");
    g_clear_object (&convert);
    g_clear_object (&tee);
    gst_object_unref (gst_object_ref_sink (bin));
    return NULL;
  }
  gst_bin_add_many (GST_BIN (bin), convert, tee, NULL);
  gst_element_link (convert, tee);
  ghost (bin, convert, "sink", "sink");
  for (guint i = 0; i < GST_HQ_ROOM_SINK_LAYERS; i++) {
    g_autofree gchar *src = g_strdup_printf ("src_%u", i);
    GstElement *part = make_layer (
        i, &info, rates[i], streams[i].ssrc, make_part, data, error);

    if (part == NULL) {
      gst_object_unref (gst_object_ref_sink (bin));
      return NULL;
    }
    gst_bin_add (GST_BIN (bin), part);
    if (!gst_element_link_pads (tee, "src_%u", part, "sink")
        || !ghost (bin, part, "src", src)) {
      g_set_error (error, GST_CORE_ERROR, GST_CORE_ERROR_NEGOTIATION,
          "cannot link simulcast layer %s", layers[i].rid);
      gst_object_unref (gst_object_ref_sink (bin));
      return NULL;
    }
    streams[i].part = part;
    streams[i].valve = gst_bin_get_by_name (GST_BIN (part), "valve");
    streams[i].encoder = gst_bin_get_by_name (GST_BIN (part), "enc");
    /* the part keeps them alive */
    if (streams[i].valve)
      gst_object_unref (streams[i].valve);
    if (streams[i].encoder)
      gst_object_unref (streams[i].encoder);
  }
  return bin;
}

/* Stops (@active FALSE) or resumes a layer by its @valve and @encoder;
 * any thread but the layer's streaming thread. */
static void
layers_set_active (GstElement *valve, GstElement *encoder, gboolean active)
{
  gboolean dropping;

  g_object_get (valve, "drop", &dropping, NULL);
  if (dropping == !active)
    return;
  /* The keyframe is asked for before the first frame passes, so that the
   * layer starts with one: a subscriber switched to it can decode at once
   * (the server switches layers only at a keyframe). */
  if (active && encoder)
    gst_element_send_event (encoder,
        gst_video_event_new_upstream_force_key_unit (
            GST_CLOCK_TIME_NONE, TRUE, 0));
  g_object_set (valve, "drop", !active, NULL);
  GST_INFO_OBJECT (valve, "layer %s", active ? "resumed" : "paused");
}

/* --- publish_layers --- */

void
gst_hq_room_sink_layer_changes_collect (
    GstHqRoomSinkPad *pad, GArray *states, GstHqRoomSinkLayerChanges *changes)
{
  for (guint i = 0; i < pad->n_streams; i++) {
    GstHqRoomSinkStream *stream = &pad->streams[i];

    for (guint j = 0;
         stream->rid && stream->valve && stream->encoder && j < states->len;
         j++) {
      const HqRoomLayerState *state =
          &g_array_index (states, HqRoomLayerState, j);
      if (!g_str_equal (state->rid, stream->rid))
        continue;
      stream->paused = !state->active;
      g_ptr_array_add (changes->valves, gst_object_ref (stream->valve));
      g_ptr_array_add (changes->encoders, gst_object_ref (stream->encoder));
      g_array_append_val (changes->active, state->active);
    }
  }
}

void
gst_hq_room_sink_layer_changes_init (GstHqRoomSinkLayerChanges *changes)
{
  changes->valves = g_ptr_array_new_with_free_func (gst_object_unref);
  changes->encoders = g_ptr_array_new_with_free_func (gst_object_unref);
  changes->active = g_array_new (FALSE, FALSE, sizeof (gboolean));
}

void
gst_hq_room_sink_layer_changes_apply (GstHqRoomSinkLayerChanges *changes)
{
  for (guint i = 0; i < changes->valves->len; i++)
    layers_set_active (g_ptr_array_index (changes->valves, i),
        g_ptr_array_index (changes->encoders, i),
        g_array_index (changes->active, gboolean, i));
  g_ptr_array_unref (changes->valves);
  g_ptr_array_unref (changes->encoders);
  g_array_unref (changes->active);
}
