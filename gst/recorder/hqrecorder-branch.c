/* hqrecorder's branches and periods: a branch is one output file (a track
 * file, or the composed file) hanging from the input tees; a period is
 * one start..stop of recording, with a branch per track and maybe the
 * composed branch.  See gsthqrecorder.c for how the bin is laid out.
 */
#include "gsthqrecorder.h"
#include "hqrecorder-private.h"

#include <errno.h>
#include <string.h>
#include <glib/gstdio.h>
#include <gst/video/video.h>
#include <json-glib/json-glib.h>

#define GST_CAT_DEFAULT hq_recorder_debug

/* What @caps carry: raw media (*@codec NULL) or a codec of the table
 * (libhq's hqcodec).  FALSE for anything else, or no caps. */
gboolean
input_format (GstCaps *caps, const HqCodec **codec)
{
  const gchar *name;

  *codec = NULL;
  if (!caps || gst_caps_is_empty (caps))
    return FALSE;
  name = gst_structure_get_name (gst_caps_get_structure (caps, 0));
  if (g_str_has_suffix (name, "/x-raw"))
    return TRUE;
  *codec = hq_codec_find_by_media_type (name);
  return *codec != NULL;
}

GstElement *
make (const gchar *factory)
{
  GstElement *e = gst_element_factory_make (factory, NULL);

  if (!e)
    GST_WARNING ("element %s is not installed", factory);
  return e;
}

/* A bin of the gst-launch fragment @description, with ghost pads; NULL
 * with @error when an element of it is missing. */
GstElement *
make_chain (const gchar *description, GError **error)
{
  return gst_parse_bin_from_description_full (
      description, TRUE, NULL, GST_PARSE_FLAG_FATAL_ERRORS, error);
}

/* Links @a's src pad to @b's sink pad checking their templates only:
 * the converters, encoder and parser behind @b are linked already, and a
 * full caps query through them (videoconvert's every format, converted
 * again at each step) cost hundreds of milliseconds under ASan with the
 * element's lock held, enough to cut the start of the next period's
 * video.  Caps are negotiated when the stream starts, as ever. */
gboolean
link_chain (GstElement *a, GstElement *b)
{
  GstPad *src = gst_element_get_static_pad (a, "src");
  GstPad *sink = gst_element_get_static_pad (b, "sink");
  gboolean ok = src && sink
      && gst_pad_link_full (src, sink, GST_PAD_LINK_CHECK_TEMPLATE_CAPS)
          == GST_PAD_LINK_OK;

  gst_clear_object (&src);
  gst_clear_object (&sink);
  return ok;
}

/* The encoder settings of the recorder's files (the codec table's
 * realtime ones otherwise): video at 1 Mbit/s with a key frame every 30
 * frames; audio at the encoder's default bitrate. */
static const HqCodecEncoderConfig video_encoder_config = {
  .bitrate = 1000000,
  .keyframe_interval = 30,
};

/* Appends to @chain what turns input of @codec (NULL: raw @kind) into a
 * stream of @target for a muxer, from the codec table: encoded input,
 * which is @target, as it is, behind its parser where it has one; raw
 * input through converters, @target's encoder and its parser.  FALSE with
 * @error when an element is missing. */
static gboolean
encode_chain (GPtrArray *chain, Kind kind, const HqCodec *codec,
    const HqCodec *target, GError **error)
{
  const gchar *parser = hq_codec_parser (codec ? codec : target);
  g_autofree gchar *encoder = NULL, *description = NULL;
  GstElement *bin;

  if (codec == NULL) {
    encoder = hq_codec_encoder_description (
        target, kind == KIND_VIDEO ? &video_encoder_config : NULL, error);
    if (encoder == NULL)
      return FALSE;
  } else if (parser == NULL) {
    return TRUE;
  }
  description = g_strdup_printf ("%s%s%s%s",
      encoder == NULL          ? ""
          : kind == KIND_VIDEO ? "videoconvert ! "
                               : "audioconvert ! audioresample ! ",
      encoder ? encoder : "", encoder && parser ? " ! " : "",
      parser ? parser : "");
  if ((bin = make_chain (description, error)) == NULL)
    return FALSE;
  g_ptr_array_add (chain, bin);
  return TRUE;
}

static gchar *
safe_name (const gchar *s)
{
  gchar *r = g_strdup (s && *s ? s : "unnamed");

  for (gchar *c = r; *c; c++)
    if (!g_ascii_isalnum (*c) && *c != '-' && *c != '_' && *c != '.')
      *c = '_';
  if (r[0] == '.')
    r[0] = '_';
  return r;
}

static GstPadProbeReturn rebase_probe (
    GstPad *pad, GstPadProbeInfo *info, gpointer user_data);

/* On a muxer's input: Matroska and MP4 take no caps change, but VP8 and
 * H.264 carry their picture size in the stream, so a new size (a remote
 * camera adapting, say) is passed over: only the first caps go in. */
static GstPadProbeReturn
first_caps_probe (GstPad *pad, GstPadProbeInfo *info, gpointer user_data)
{
  GstEvent *ev = GST_PAD_PROBE_INFO_EVENT (info);
  GstCaps *caps, *current;
  GstPadProbeReturn ret = GST_PAD_PROBE_OK;

  if (GST_EVENT_TYPE (ev) != GST_EVENT_CAPS)
    return GST_PAD_PROBE_OK;
  current = gst_pad_get_current_caps (pad);
  gst_event_parse_caps (ev, &caps);
  if (current
      && gst_structure_has_name (gst_caps_get_structure (caps, 0),
          gst_structure_get_name (gst_caps_get_structure (current, 0))))
    ret = GST_PAD_PROBE_DROP;
  gst_clear_caps (&current);
  return ret;
}
static GstPadProbeReturn sink_probe (
    GstPad *pad, GstPadProbeInfo *info, gpointer user_data);

static Branch *
branch_new (GstHqRecorder *self, Period *p, const gchar *file)
{
  Branch *br = g_new0 (Branch, 1);

  br->rec = self;
  br->period = p;
  br->file = g_strdup (file);
  br->path = g_build_filename (self->location, file, NULL);
  br->base_rt = br->end_rt = br->written_rt = GST_CLOCK_TIME_NONE;
  br->status = STATUS_RECORDING;
  return br;
}

static void
branch_free (Branch *br)
{
  for (guint i = 0; i < br->n_inputs; i++) {
    g_clear_pointer (&br->inputs[i].elements, g_ptr_array_unref);
    gst_clear_object (&br->inputs[i].tee_pad);
    gst_clear_object (&br->inputs[i].tee);
  }
  gst_clear_object (&br->mux);
  gst_clear_object (&br->sink);
  g_free (br->file);
  g_free (br->path);
  g_free (br->participant);
  g_free (br->track);
  g_free (br);
}

/* Adds @br's muxer and sink to the bin (not yet started). */
static gboolean
branch_make_output (Branch *br, const gchar *mux_factory)
{
  GstHqRecorder *self = br->rec;

  br->mux = make (mux_factory);
  br->sink = make ("filesink");
  if (!br->mux || !br->sink) {
    if (br->mux)
      gst_object_unref (gst_object_ref_sink (br->mux));
    if (br->sink)
      gst_object_unref (gst_object_ref_sink (br->sink));
    br->mux = br->sink = NULL;
    return FALSE;
  }
  gst_object_ref_sink (br->mux);
  gst_object_ref_sink (br->sink);
  if (g_str_has_suffix (mux_factory, "mp4mux"))
    g_object_set (br->mux, "fragment-duration", 1000, NULL);
  else
    g_object_set (br->mux, "max-cluster-duration", (gint64)CLUSTER_MAX,
        "min-cluster-duration", (gint64)CLUSTER_MIN, NULL);
  g_object_set (
      br->sink, "location", br->path, "async", FALSE, "sync", FALSE, NULL);
  gst_util_set_object_arg (G_OBJECT (br->sink), "buffer-mode", "unbuffered");
  gst_bin_add_many (GST_BIN (self), br->mux, br->sink, NULL);
  gst_element_link (br->mux, br->sink);
  gst_pad_add_probe (GST_PAD (GST_ELEMENT (br->sink)->sinkpads->data),
      GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM, sink_probe, br, NULL);
  return TRUE;
}

/* Adds one input to @br: @tee -> queue -> @chain -> muxer pad @mux_pad
 * (a template name).  Takes @chain's floating elements. */
static gboolean
branch_add_input (Branch *br, GstElement *tee, GPtrArray *chain,
    const gchar *mux_pad, gboolean need_keyframe)
{
  GstHqRecorder *self = br->rec;
  Input *in = &br->inputs[br->n_inputs++];
  GstElement *prev;
  GstPad *src, *sink;
  gboolean ok;

  in->branch = br;
  in->tee = gst_object_ref (tee);
  in->need_keyframe = need_keyframe;
  gst_segment_init (&in->segment, GST_FORMAT_TIME);
  in->elements = g_ptr_array_new_with_free_func (gst_object_unref);
  in->queue = make ("queue");
  g_ptr_array_add (in->elements, gst_object_ref_sink (in->queue));
  for (guint i = 0; i < chain->len; i++)
    g_ptr_array_add (
        in->elements, gst_object_ref_sink (g_ptr_array_index (chain, i)));
  prev = NULL;
  for (guint i = 0; i < in->elements->len; i++) {
    GstElement *e = g_ptr_array_index (in->elements, i);

    gst_bin_add (GST_BIN (self), e);
    if (prev && !link_chain (prev, e))
      return FALSE;
    prev = e;
  }
  src = gst_element_get_static_pad (prev, "src");
  sink = gst_element_request_pad_simple (br->mux, mux_pad);
  ok = sink && gst_pad_link (src, sink) == GST_PAD_LINK_OK;
  if (sink)
    gst_pad_add_probe (sink, GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM,
        first_caps_probe, NULL, NULL);
  gst_object_unref (src);
  if (sink)
    gst_object_unref (sink);
  src = gst_element_get_static_pad (in->queue, "src");
  gst_pad_add_probe (src,
      GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_BUFFER_LIST
          | GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM
          | GST_PAD_PROBE_TYPE_QUERY_UPSTREAM,
      rebase_probe, in, NULL);
  gst_object_unref (src);
  return ok;
}

/* Starts @br: sink, muxer and inputs take the bin's state.  The inputs
 * are linked to their tees later, by inputs_link() on each tee's
 * streaming thread. */
static void
branch_start (Branch *br)
{
  gst_element_sync_state_with_parent (br->sink);
  gst_element_sync_state_with_parent (br->mux);
  for (guint i = 0; i < br->n_inputs; i++) {
    Input *in = &br->inputs[i];

    for (guint k = in->elements->len; k > 0; k--)
      gst_element_sync_state_with_parent (
          g_ptr_array_index (in->elements, k - 1));
  }
  GST_INFO_OBJECT (br->rec, "recording %s", br->path);
}

static gboolean
store_sticky (GstPad *pad, GstEvent **event, gpointer user_data)
{
  gst_pad_store_sticky_event (GST_PAD (user_data), *event);
  return TRUE;
}

/* A new src pad of @tee, linked to @sink; only on @tee's streaming thread,
 * in a probe on its sink pad.  That thread holds the sink pad's stream
 * lock, so no buffer or event passes the tee meanwhile and the new pad
 * starts with the sink pad's sticky events (stream-start, caps, segment)
 * before its first buffer.  The tee copies them itself, except when its
 * sink pad is being deactivated (the pipeline stopping): the new pad is
 * then activated without them as it is added, and the buffer in hand
 * would go out before any stream-start; so they are copied here too
 * (storing an event the pad has already changes nothing).  From any other
 * thread the tee could push a buffer, or take a new caps or segment event,
 * between copying the events and adding the pad. */
GstPad *
tee_link (GstElement *tee, GstPad *sink)
{
  GstPad *tee_sink = gst_element_get_static_pad (tee, "sink");
  GstPad *src = gst_element_request_pad_simple (tee, "src_%u");

  gst_pad_sticky_events_foreach (tee_sink, store_sticky, src);
  gst_pad_link (src, sink);
  gst_object_unref (tee_sink);
  return src;
}

/* Links the inputs that @tee feeds to the current period's branches, and
 * that are not linked yet.  On @tee's streaming thread (tee_link()), with
 * the lock held. */
void
inputs_link (GstHqRecorder *self, GstElement *tee)
{
  Period *p = self->current;

  for (guint i = 0; p && i < p->branches->len; i++) {
    Branch *br = g_ptr_array_index (p->branches, i);

    if (br->status != STATUS_RECORDING || br->stopping || br->removed)
      continue;
    for (guint k = 0; k < br->n_inputs; k++) {
      Input *in = &br->inputs[k];
      GstPad *sink;

      if (in->tee != tee || in->tee_pad)
        continue;
      sink = gst_element_get_static_pad (in->queue, "sink");
      in->tee_pad = tee_link (tee, sink);
      gst_object_unref (sink);
    }
  }
}

static gboolean
file_taken (Period *p, const gchar *file)
{
  for (guint i = 0; i < p->branches->len; i++)
    if (!strcmp (((Branch *)g_ptr_array_index (p->branches, i))->file, file))
      return TRUE;
  return FALSE;
}

/* A track branch for @pad in the current period.  With the lock held. */
void
track_branch_create (GstHqRecorder *self, GstHqRecorderPad *pad)
{
  Period *p = self->current;
  gchar *participant = pad_participant (pad), *track = pad_track (pad);
  gchar *sp = safe_name (participant), *st = safe_name (track);
  const gchar *ext = pad->kind == KIND_AUDIO ? "mka" : "mkv";
  gchar *file = g_strdup_printf ("rec%03u-%s-%s.%s", p->index, sp, st, ext);
  GPtrArray *chain = g_ptr_array_new ();
  GError *error = NULL;
  Branch *br;

  if (file_taken (p, file)) {
    gchar *name = gst_pad_get_name (pad);

    g_free (file);
    file = g_strdup_printf ("rec%03u-%s-%s-%s.%s", p->index, sp, st, name, ext);
    g_free (name);
  }
  br = branch_new (self, p, file);
  br->participant = participant;
  br->track = track;
  br->kind = pad->kind == KIND_AUDIO ? "audio" : "video";
  /* raw input is encoded to VP8 or Opus */
  br->codec = pad->codec        ? pad->codec
      : pad->kind == KIND_AUDIO ? hq_codec_find ("opus")
                                : hq_codec_find ("VP8");
  g_ptr_array_add (p->branches, br);
  pad->branch = br;
  if (!encode_chain (chain, pad->kind, pad->codec, br->codec, &error)
      || !branch_make_output (br, "matroskamux")
      || !branch_add_input (br, pad->tee, chain,
          pad->kind == KIND_AUDIO ? "audio_%u" : "video_%u",
          pad->kind == KIND_VIDEO && pad->codec != NULL)) {
    br->status = STATUS_FAILED;
    GST_ELEMENT_ERROR (self, CORE, MISSING_PLUGIN,
        ("Could not record %s: an encoder, parser or muxer is missing "
         "or does not accept the stream",
            br->path),
        ("%s",
            error ? error->message
                  : "the muxer is missing or does not take the stream"));
  } else {
    branch_start (br);
  }
  g_ptr_array_unref (chain);
  g_clear_error (&error);
  g_free (sp);
  g_free (st);
  g_free (file);
  manifest_update (self);
}

/* The composed branch of the current period, fed by the mixers that exist
 * now.  With the lock held. */
void
composed_branch_create (GstHqRecorder *self)
{
  Period *p = self->current;
  gboolean mp4 = self->format == GST_HQ_RECORDER_FORMAT_MP4;
  gchar *file =
      g_strdup_printf ("rec%03u-composed.%s", p->index, mp4 ? "mp4" : "webm");
  Branch *br = branch_new (self, p, file);
  const HqCodec *aac = hq_codec_find_for_files ("AAC");
  GstElementFactory *aac_encoder = mp4 ? hq_codec_encoder_factory (aac) : NULL;
  GError *error = NULL;
  gboolean ok;

  br->codec = hq_codec_find (mp4 ? "H264" : "VP8");
  /* MP4's usual audio where an AAC encoder is installed */
  br->audio_codec = aac_encoder ? aac : hq_codec_find ("opus");
  gst_clear_object (&aac_encoder);
  g_ptr_array_add (p->branches, br);
  p->composed = br;
  ok = branch_make_output (br, mp4 ? "mp4mux" : "webmmux");
  if (ok && self->video_tee) {
    GPtrArray *chain = g_ptr_array_new ();

    ok = encode_chain (chain, KIND_VIDEO, NULL, br->codec, &error)
        && branch_add_input (br, self->video_tee, chain, "video_%u", FALSE);
    g_ptr_array_unref (chain);
  }
  if (ok && self->audio_tee) {
    GPtrArray *chain = g_ptr_array_new ();

    ok = encode_chain (chain, KIND_AUDIO, NULL, br->audio_codec, &error)
        && branch_add_input (br, self->audio_tee, chain, "audio_%u", FALSE);
    g_ptr_array_unref (chain);
  }
  if (ok) {
    branch_start (br);
  } else {
    br->status = STATUS_FAILED;
    GST_ELEMENT_ERROR (self, CORE, MISSING_PLUGIN,
        ("Could not record %s: an encoder or muxer for format %s is "
         "missing",
            br->path, mp4 ? "mp4" : "webm"),
        ("%s",
            error ? error->message
                  : "the muxer is missing or does not take the stream"));
  }
  g_clear_error (&error);
  g_free (file);
  manifest_update (self);
}

void
branch_remove (GstHqRecorder *self, Branch *br)
{
  GPtrArray *all = g_ptr_array_new ();

  if (br->removed)
    return;
  br->removed = TRUE;
  for (guint i = 0; i < br->n_inputs; i++) {
    Input *in = &br->inputs[i];

    if (in->tee_pad) {
      gst_element_release_request_pad (in->tee, in->tee_pad);
      gst_clear_object (&in->tee_pad);
    }
    for (guint k = 0; in->elements && k < in->elements->len; k++)
      g_ptr_array_add (all, g_ptr_array_index (in->elements, k));
  }
  if (br->mux)
    g_ptr_array_add (all, br->mux);
  if (br->sink)
    g_ptr_array_add (all, br->sink);
  for (guint i = 0; i < all->len; i++) {
    GstElement *e = g_ptr_array_index (all, i);

    gst_element_set_locked_state (e, TRUE);
    gst_element_set_state (e, GST_STATE_NULL);
    if (GST_OBJECT_PARENT (e) == GST_OBJECT (self))
      gst_bin_remove (GST_BIN (self), e);
  }
  g_ptr_array_unref (all);
}

static void
branch_remove_async (GstElement *element, gpointer user_data)
{
  GstHqRecorder *self = GST_HQ_RECORDER (element);

  LOCK (self);
  branch_remove (self, user_data);
  UNLOCK (self);
}

static GstPadProbeReturn
unlink_and_eos (GstPad *tee_pad, GstPadProbeInfo *info, gpointer user_data)
{
  GstPad *sink = gst_pad_get_peer (tee_pad);

  if (sink) {
    gst_pad_unlink (tee_pad, sink);
    gst_pad_send_event (sink, gst_event_new_eos ());
    gst_object_unref (sink);
  }
  return GST_PAD_PROBE_REMOVE;
}

/* Ends @br's file: EOS into each input; sink_probe() takes it down once
 * the muxer has finished the file.  With the lock held. */
void
branch_stop (GstHqRecorder *self, Branch *br)
{
  if (br->stopping || br->removed)
    return;
  br->stopping = TRUE;
  if (br->status != STATUS_RECORDING) {
    gst_element_call_async (GST_ELEMENT (self), branch_remove_async, br, NULL);
    return;
  }
  for (guint i = 0; i < br->n_inputs; i++) {
    Input *in = &br->inputs[i];
    GstPad *sink;

    if (in->tee_pad) {
      gst_pad_add_probe (
          in->tee_pad, GST_PAD_PROBE_TYPE_IDLE, unlink_and_eos, in, NULL);
    } else {
      /* never linked (no data came since the branch was made): the EOS
       * goes straight in, so that the muxer finishes */
      sink = gst_element_get_static_pad (in->queue, "sink");
      gst_pad_send_event (sink, gst_event_new_eos ());
      gst_object_unref (sink);
    }
  }
}

/* Converts a buffer's timestamps to the file's: running time minus the
 * branch's base.  FALSE when it is to be dropped. */
static gboolean
rebase_buffer (Input *in, GstBuffer **bufp)
{
  Branch *br = in->branch;
  GstHqRecorder *self = br->rec;
  GstBuffer *buf = *bufp;
  GstClockTime rt, dts_rt, end;
  gboolean write = FALSE;

  rt = gst_segment_to_running_time (
      &in->segment, GST_FORMAT_TIME, GST_BUFFER_PTS (buf));
  if (!GST_CLOCK_TIME_IS_VALID (rt))
    return FALSE;
  if (in->need_keyframe) {
    if (GST_BUFFER_FLAG_IS_SET (buf, GST_BUFFER_FLAG_DELTA_UNIT)) {
      if (!in->asked_keyframe) {
        GstPad *sink = gst_element_get_static_pad (in->queue, "sink");

        in->asked_keyframe = TRUE;
        gst_pad_push_event (sink,
            gst_video_event_new_upstream_force_key_unit (
                GST_CLOCK_TIME_NONE, TRUE, 0));
        gst_object_unref (sink);
      }
      return FALSE;
    }
    in->need_keyframe = FALSE;
  }
  LOCK (self);
  if (!GST_CLOCK_TIME_IS_VALID (br->base_rt)) {
    br->base_rt = rt;
    if (!GST_CLOCK_TIME_IS_VALID (br->period->start_rt))
      br->period->start_rt = rt;
    write = TRUE;
  }
  if (rt < br->base_rt) {
    UNLOCK (self);
    return FALSE;
  }
  buf = *bufp = gst_buffer_make_writable (buf);
  GST_BUFFER_PTS (buf) = rt - br->base_rt;
  dts_rt = gst_segment_to_running_time (
      &in->segment, GST_FORMAT_TIME, GST_BUFFER_DTS (buf));
  if (GST_CLOCK_TIME_IS_VALID (dts_rt))
    GST_BUFFER_DTS (buf) = dts_rt > br->base_rt ? dts_rt - br->base_rt : 0;
  end =
      rt + (GST_BUFFER_DURATION_IS_VALID (buf) ? GST_BUFFER_DURATION (buf) : 0);
  if (!GST_CLOCK_TIME_IS_VALID (br->end_rt) || end > br->end_rt)
    br->end_rt = end;
  if (!GST_CLOCK_TIME_IS_VALID (br->written_rt)
      || br->end_rt >= br->written_rt + MANIFEST_EVERY)
    write = TRUE;
  if (write) {
    br->written_rt = br->end_rt;
    manifest_update (self);
  }
  UNLOCK (self);
  return TRUE;
}

static gboolean
rebase_list_item (GstBuffer **buf, guint idx, gpointer user_data)
{
  if (!rebase_buffer (user_data, buf))
    gst_clear_buffer (buf);
  return TRUE;
}

static GstPadProbeReturn
rebase_probe (GstPad *pad, GstPadProbeInfo *info, gpointer user_data)
{
  Input *in = user_data;

  if (info->type & GST_PAD_PROBE_TYPE_QUERY_UPSTREAM) {
    /* The source's duration is not the file's (which starts later, or is
     * one period of several): a muxer that wrote it into the header would
     * make a killed file claim it. */
    if (GST_QUERY_TYPE (GST_PAD_PROBE_INFO_QUERY (info)) == GST_QUERY_DURATION)
      return GST_PAD_PROBE_DROP;
    return GST_PAD_PROBE_OK;
  }
  if (info->type & GST_PAD_PROBE_TYPE_BUFFER) {
    GstBuffer *buf = GST_PAD_PROBE_INFO_BUFFER (info);

    if (!rebase_buffer (in, &buf)) {
      GST_PAD_PROBE_INFO_DATA (info) = NULL;
      gst_buffer_unref (buf);
      return GST_PAD_PROBE_HANDLED;
    }
    GST_PAD_PROBE_INFO_DATA (info) = buf;
  } else if (info->type & GST_PAD_PROBE_TYPE_BUFFER_LIST) {
    GstBufferList *list = GST_PAD_PROBE_INFO_BUFFER_LIST (info);

    list = gst_buffer_list_make_writable (list);
    gst_buffer_list_foreach (list, rebase_list_item, in);
    GST_PAD_PROBE_INFO_DATA (info) = list;
  } else {
    GstEvent *ev = GST_PAD_PROBE_INFO_EVENT (info);

    switch (GST_EVENT_TYPE (ev)) {
      case GST_EVENT_SEGMENT: {
        const GstSegment *seg;
        GstSegment zero;

        gst_event_parse_segment (ev, &seg);
        if (seg->format != GST_FORMAT_TIME)
          return GST_PAD_PROBE_DROP;
        gst_segment_copy_into (seg, &in->segment);
        gst_segment_init (&zero, GST_FORMAT_TIME);
        gst_event_unref (ev);
        GST_PAD_PROBE_INFO_DATA (info) = gst_event_new_segment (&zero);
        break;
      }
      case GST_EVENT_GAP:
        return GST_PAD_PROBE_DROP;
      default:
        break;
    }
  }
  return GST_PAD_PROBE_OK;
}

/* On the file sink's pad: an EOS there means the muxer has finished the
 * file (duration and index written). */
static GstPadProbeReturn
sink_probe (GstPad *pad, GstPadProbeInfo *info, gpointer user_data)
{
  Branch *br = user_data;
  GstHqRecorder *self = br->rec;
  gboolean stopping;

  if (GST_EVENT_TYPE (GST_PAD_PROBE_INFO_EVENT (info)) != GST_EVENT_EOS)
    return GST_PAD_PROBE_OK;
  LOCK (self);
  if (br->status == STATUS_RECORDING)
    br->status = STATUS_COMPLETED;
  stopping = br->stopping;
  manifest_update (self);
  GST_INFO_OBJECT (self, "finished %s", br->path);
  if (stopping)
    gst_element_call_async (GST_ELEMENT (self), branch_remove_async, br, NULL);
  UNLOCK (self);
  /* A branch we stopped ends quietly; one whose input ended takes part in
   * the bin's EOS. */
  return stopping ? GST_PAD_PROBE_DROP : GST_PAD_PROBE_OK;
}

/* ------------------------------------------------------------------ */
/* Periods */

/* With the lock held. */
void
period_begin (GstHqRecorder *self, GstClockTime start_rt)
{
  Period *p = g_new0 (Period, 1);
  GDateTime *now = g_date_time_new_now_utc ();

  p->index = self->periods->len + 1;
  p->start_rt = start_rt;
  p->started_at = g_date_time_format_iso8601 (now);
  p->branches = g_ptr_array_new ();
  p->active = TRUE;
  g_date_time_unref (now);
  g_ptr_array_add (self->periods, p);
  self->current = p;
  GST_INFO_OBJECT (self, "recording period %u", p->index);
}

/* With the lock held. */
void
period_end (GstHqRecorder *self)
{
  Period *p = self->current;

  if (!p)
    return;
  p->active = FALSE;
  self->current = NULL;
  for (GList *l = self->pads; l; l = l->next)
    GST_HQ_RECORDER_PAD (l->data)->branch = NULL;
  for (guint i = 0; i < p->branches->len; i++)
    branch_stop (self, g_ptr_array_index (p->branches, i));
  manifest_update (self);
}

void
period_free (Period *p)
{
  for (guint i = 0; i < p->branches->len; i++)
    branch_free (g_ptr_array_index (p->branches, i));
  g_ptr_array_unref (p->branches);
  g_free (p->started_at);
  g_free (p);
}
