/* hqrecorder's composition: the compositor and audiomixer every input
 * feeds in composed mode, the layout of the video tiles, and each pad's
 * mixer input (queue, decoder, converters).
 */
#include "gsthqrecorder.h"
#include "hqrecorder-private.h"

#include <errno.h>
#include <string.h>
#include <glib/gstdio.h>
#include <gst/video/video.h>
#include <json-glib/json-glib.h>

#define GST_CAT_DEFAULT hq_recorder_debug

/* Places every live video input per the layout.  With the lock held. */
void
reflow (GstHqRecorder *self)
{
  GPtrArray *pads = g_ptr_array_new ();
  HqLayoutSource *sources;
  HqLayoutPlacement *placed;
  gchar **strings;

  for (GList *l = self->pads; l; l = l->next) {
    GstHqRecorderPad *pad = l->data;

    if (pad->kind == KIND_VIDEO && pad->mixer_pad && !pad->gone)
      g_ptr_array_add (pads, pad);
  }
  sources = g_new0 (HqLayoutSource, pads->len);
  placed = g_new0 (HqLayoutPlacement, pads->len);
  strings = g_new0 (gchar *, 3 * pads->len + 1);
  for (guint i = 0; i < pads->len; i++) {
    GstHqRecorderPad *pad = g_ptr_array_index (pads, i);

    strings[3 * i] = pad_participant (pad);
    strings[3 * i + 1] = pad_track (pad);
    strings[3 * i + 2] = gst_pad_get_name (pad);
    sources[i].names[0] = strings[3 * i];
    sources[i].names[1] = strings[3 * i + 1];
    sources[i].names[2] = strings[3 * i + 2];
  }
  hq_layout_place (
      self->layout, self->width, self->height, sources, pads->len, placed);
  for (guint i = 0; i < pads->len; i++) {
    GstHqRecorderPad *pad = g_ptr_array_index (pads, i);
    HqLayoutPlacement *pl = &placed[i];

    GST_DEBUG_OBJECT (self, "%s: %s %dx%d+%d+%d z %u", sources[i].names[2],
        pl->visible ? "shown" : "hidden", pl->width, pl->height, pl->x, pl->y,
        pl->zorder);
    g_object_set (pad->mixer_pad, "xpos", pl->x, "ypos", pl->y, "width",
        pl->visible ? pl->width : 1, "height", pl->visible ? pl->height : 1,
        "zorder", pl->zorder, "alpha", pl->visible ? 1.0 : 0.0, NULL);
  }
  g_strfreev (strings);
  g_free (sources);
  g_free (placed);
  g_ptr_array_unref (pads);
}

static GstPadProbeReturn mixer_tee_probe (
    GstPad *tee_sink, GstPadProbeInfo *info, gpointer user_data);

/* The compositor or audiomixer, with a capsfilter and a tee after it.
 * Made when the first pad of its kind is requested. */
void
mixer_ensure (GstHqRecorder *self, Kind kind)
{
  GstElement **mixer =
      kind == KIND_VIDEO ? &self->compositor : &self->audiomixer;
  GstElement **tee = kind == KIND_VIDEO ? &self->video_tee : &self->audio_tee;
  GstElement *filter;
  GstCaps *caps;
  GstPad *target;

  if (*mixer)
    return;
  *mixer = make (kind == KIND_VIDEO ? "compositor" : "audiomixer");
  filter = make ("capsfilter");
  *tee = make ("tee");
  if (!*mixer || !filter || !*tee) {
    GST_ELEMENT_ERROR (self, CORE, MISSING_PLUGIN,
        ("Composed recording needs compositor, audiomixer, capsfilter and "
         "tee"),
        (NULL));
    return;
  }
  if (kind == KIND_VIDEO) {
    gst_util_set_object_arg (G_OBJECT (*mixer), "background", "black");
    caps = gst_caps_new_simple ("video/x-raw", "width", G_TYPE_INT, self->width,
        "height", G_TYPE_INT, self->height, "framerate", GST_TYPE_FRACTION,
        COMPOSED_FPS, 1, "pixel-aspect-ratio", GST_TYPE_FRACTION, 1, 1,
        "format", G_TYPE_STRING, "I420", "colorimetry", G_TYPE_STRING, "bt601",
        "chroma-site", G_TYPE_STRING, "jpeg", NULL);
  } else {
    caps = gst_caps_new_simple ("audio/x-raw", "rate", G_TYPE_INT, 48000,
        "channels", G_TYPE_INT, 2, "format", G_TYPE_STRING, "S16LE", NULL);
  }
  gst_util_set_object_arg (G_OBJECT (*mixer), "start-time-selection", "first");
  g_object_set (*mixer, "latency", (guint64)MIX_LATENCY, NULL);
  g_object_set (filter, "caps", caps, NULL);
  gst_caps_unref (caps);
  g_object_set (*tee, "allow-not-linked", TRUE, NULL);
  gst_object_ref (*mixer);
  gst_object_ref (*tee);
  gst_bin_add_many (GST_BIN (self), *mixer, filter, *tee, NULL);
  gst_element_link_many (*mixer, filter, *tee, NULL);
  target = gst_element_get_static_pad (*tee, "sink");
  gst_pad_add_probe (target,
      GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM,
      mixer_tee_probe, self, NULL);
  gst_object_unref (target);
  gst_element_sync_state_with_parent (*tee);
  gst_element_sync_state_with_parent (filter);
  gst_element_sync_state_with_parent (*mixer);
}

/* @pad's way into its mixer: queue ! (decoder) ! mixer pad, the decoder
 * of encoded input from the codec table.  On the streaming thread of
 * @pad's tee, with the lock held. */
void
mixer_input_create (GstHqRecorder *self, GstHqRecorderPad *pad)
{
  GstElement *mixer =
      pad->kind == KIND_VIDEO ? self->compositor : self->audiomixer;
  GstElement *e[2] = { NULL, NULL };
  g_autofree gchar *decoder = NULL;
  GError *error = NULL;
  GstPad *src, *sink;

  if (!mixer)
    return;
  pad->mix_elements = g_ptr_array_new_with_free_func (gst_object_unref);
  if (pad->codec
      && ((decoder = hq_codec_decoder_description (pad->codec, &error)) == NULL
          || (e[1] = make_chain (decoder, &error)) == NULL)) {
    /* pad->mix_elements stays empty: not tried again at the next buffer */
    GST_ELEMENT_ERROR (self, CORE, MISSING_PLUGIN,
        ("Could not mix %s into the composed recording: no %s decoder",
            GST_PAD_NAME (pad), hq_codec_name (pad->codec)),
        ("%s", error->message));
    g_clear_error (&error);
    return;
  }
  e[0] = make ("queue");
  for (guint i = 0; i < 2; i++) {
    if (!e[i])
      continue;
    g_ptr_array_add (pad->mix_elements, gst_object_ref_sink (e[i]));
    gst_bin_add (GST_BIN (self), e[i]);
    if (pad->mix_elements->len > 1)
      link_chain (
          g_ptr_array_index (pad->mix_elements, pad->mix_elements->len - 2),
          e[i]);
  }
  pad->mixer_pad = gst_element_request_pad_simple (mixer, "sink_%u");
  if (pad->kind == KIND_VIDEO)
    gst_util_set_object_arg (
        G_OBJECT (pad->mixer_pad), "sizing-policy", "keep-aspect-ratio");
  src = gst_element_get_static_pad (
      g_ptr_array_index (pad->mix_elements, pad->mix_elements->len - 1), "src");
  gst_pad_link (src, pad->mixer_pad);
  gst_object_unref (src);
  for (guint i = pad->mix_elements->len; i > 0; i--)
    gst_element_sync_state_with_parent (
        g_ptr_array_index (pad->mix_elements, i - 1));
  if (pad->kind == KIND_VIDEO)
    reflow (self);
  sink = gst_element_get_static_pad (e[0], "sink");
  gst_object_unref (tee_link (pad->tee, sink));
  gst_object_unref (sink);
}

/* On the sink pad of a mixer's tee: the first buffer out of a mixer
 * starts the period's composed file; each buffer, and the EOS, links the
 * composed branch's input from this tee if it is not linked yet. */
static GstPadProbeReturn
mixer_tee_probe (GstPad *tee_sink, GstPadProbeInfo *info, gpointer user_data)
{
  GstHqRecorder *self = user_data;
  GstElement *tee = GST_PAD_PARENT (tee_sink);

  if ((info->type & GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM)
      && GST_EVENT_TYPE (GST_PAD_PROBE_INFO_EVENT (info)) != GST_EVENT_EOS)
    return GST_PAD_PROBE_OK;
  LOCK (self);
  if ((info->type & GST_PAD_PROBE_TYPE_BUFFER) && self->current
      && !self->current->composed)
    composed_branch_create (self);
  if (tee)
    inputs_link (self, tee);
  UNLOCK (self);
  return GST_PAD_PROBE_OK;
}
