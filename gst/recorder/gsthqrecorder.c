/* hqrecorder: records a room.
 *
 * The element is a bin.  Each request pad (audio_%u, video_%u) feeds a tee;
 * from it hang
 * - per recording period, a track branch: queue ! (encoder for raw input,
 *   parser for encoded input) ! matroskamux ! filesink, one file per track;
 * - in composed mode, a mixer input: queue ! (decoder) ! compositor or
 *   audiomixer; their outputs feed two more tees, from which hangs, per
 *   period, the composed branch: encoders ! webmmux/mp4mux ! filesink.
 *
 * A probe after each branch's queue rebases timestamps: the file starts at
 * 0 and keeps the running-time gaps of its input, so a track that pauses
 * keeps its timing; the track's running time at its first buffer, minus
 * the period's start, is the offset the manifest gives.  Files are written
 * cluster by cluster (at most 1 s) without user-space buffering, so a
 * killed process leaves files that play up to the last second; on EOS the
 * muxer rewrites the header with duration and index.  recording.json, the
 * manifest, is rewritten atomically (temporary file, fsync, rename) when a
 * track starts or stops and after each second of media, by the element's
 * writer thread: streaming threads only hand it a snapshot.
 *
 * A branch may be made on any thread (recording=true), but its inputs are
 * linked to their tees only on each tee's streaming thread, in a probe on
 * the tee's sink pad, so that a new tee pad gets its sticky events
 * (stream-start, caps, segment) before its first buffer (tee_link()).
 *
 * Stopping a period (recording=false) unlinks each branch from its tee and
 * sends EOS into it; when the EOS reaches the file sink the file is final
 * and the branch is taken down off the streaming thread. *
 * This file is the element: its pads, request and release, states,
 * messages and properties.  Branches and periods are in
 * hqrecorder-branch.c, the composition in hqrecorder-mix.c, the manifest
 * in hqrecorder-manifest.c; hqrecorder-private.h holds what they share.
 */

/**
 * SECTION:element-hqrecorder
 * @title: hqrecorder
 *
 * Records audio and video tracks, raw or encoded (Opus, VP8, H.264), into
 * one file per track (audio .mka, video .mkv, like Twilio Recordings)
 * and/or one composed file with every participant in a grid (like Twilio
 * Compositions), plus a manifest, recording.json, in the directory given
 * by #GstHqRecorder:location.
 *
 * ## Example launch line
 * |[
 * gst-launch-1.0 -e hqrecorder name=r location=/tmp/rec mode=both \
 *     video_0::participant=alice audio_0::participant=alice \
 *   videotestsrc is-live=true ! r.video_0 \
 *   audiotestsrc is-live=true ! r.audio_0
 * ]|
 */
#include "gsthqrecorder.h"
#include "hqrecorder-private.h"

#include <errno.h>
#include <string.h>
#include <glib/gstdio.h>
#include <gst/video/video.h>
#include <json-glib/json-glib.h>

#define GST_CAT_DEFAULT hq_recorder_debug

GST_DEBUG_CATEGORY (hq_recorder_debug);

enum
{
  PROP_0,
  PROP_LOCATION,
  PROP_MODE,
  PROP_RESOLUTION,
  PROP_FORMAT,
  PROP_LAYOUT,
  PROP_RECORDING,
};

enum
{
  PAD_PROP_0,
  PAD_PROP_PARTICIPANT,
  PAD_PROP_TRACK_NAME,
};

G_DEFINE_TYPE (GstHqRecorderPad, gst_hq_recorder_pad, GST_TYPE_GHOST_PAD);
static void gst_hq_recorder_child_proxy_init (
    gpointer g_iface, gpointer iface_data);
G_DEFINE_TYPE_WITH_CODE (GstHqRecorder, gst_hq_recorder, GST_TYPE_BIN,
    G_IMPLEMENT_INTERFACE (
        GST_TYPE_CHILD_PROXY, gst_hq_recorder_child_proxy_init));
GST_ELEMENT_REGISTER_DEFINE (
    hqrecorder, "hqrecorder", GST_RANK_NONE, GST_TYPE_HQ_RECORDER);

#define GST_TYPE_HQ_RECORDER_MODE (gst_hq_recorder_mode_get_type ())
static GType
gst_hq_recorder_mode_get_type (void)
{
  static GType type = 0;
  static const GEnumValue values[] = {
    { GST_HQ_RECORDER_MODE_TRACKS, "One file per track", "tracks" },
    { GST_HQ_RECORDER_MODE_COMPOSED, "One file with every participant",
        "composed" },
    { GST_HQ_RECORDER_MODE_BOTH, "Both", "both" },
    { 0, NULL, NULL },
  };

  if (g_once_init_enter (&type))
    g_once_init_leave (
        &type, g_enum_register_static ("GstHqRecorderMode", values));
  return type;
}

#define GST_TYPE_HQ_RECORDER_FORMAT (gst_hq_recorder_format_get_type ())
static GType
gst_hq_recorder_format_get_type (void)
{
  static GType type = 0;
  static const GEnumValue values[] = {
    { GST_HQ_RECORDER_FORMAT_WEBM, "WebM (VP8, Opus)", "webm" },
    { GST_HQ_RECORDER_FORMAT_MP4, "MP4 (H.264, AAC or Opus)", "mp4" },
    { 0, NULL, NULL },
  };

  if (g_once_init_enter (&type))
    g_once_init_leave (
        &type, g_enum_register_static ("GstHqRecorderFormat", values));
  return type;
}

/* ------------------------------------------------------------------ */
/* Pads */

static void
gst_hq_recorder_pad_finalize (GObject *object)
{
  GstHqRecorderPad *pad = GST_HQ_RECORDER_PAD (object);

  g_free (pad->participant);
  g_free (pad->track_name);
  g_free (pad->tag_participant);
  g_free (pad->tag_track);
  g_free (pad->tag_title);
  g_clear_pointer (&pad->mix_elements, g_ptr_array_unref);
  gst_clear_object (&pad->mixer_pad);
  gst_clear_object (&pad->tee);
  G_OBJECT_CLASS (gst_hq_recorder_pad_parent_class)->finalize (object);
}

static void
gst_hq_recorder_pad_set_property (
    GObject *object, guint prop_id, const GValue *value, GParamSpec *pspec)
{
  GstHqRecorderPad *pad = GST_HQ_RECORDER_PAD (object);

  GST_OBJECT_LOCK (pad);
  switch (prop_id) {
    case PAD_PROP_PARTICIPANT:
      g_free (pad->participant);
      pad->participant = g_value_dup_string (value);
      break;
    case PAD_PROP_TRACK_NAME:
      g_free (pad->track_name);
      pad->track_name = g_value_dup_string (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (pad);
}

/* The participant: the property, else the hq-participant tag, else the
 * pad's name.  The track: the property, else the hq-track-name tag, else
 * the title tag, else the kind ("audio", "video"). */
gchar *
pad_participant (GstHqRecorderPad *pad)
{
  gchar *s;

  GST_OBJECT_LOCK (pad);
  s = g_strdup (pad->participant ? pad->participant : pad->tag_participant);
  GST_OBJECT_UNLOCK (pad);
  return s ? s : gst_pad_get_name (pad);
}

gchar *
pad_track (GstHqRecorderPad *pad)
{
  gchar *s;

  GST_OBJECT_LOCK (pad);
  s = g_strdup (pad->track_name     ? pad->track_name
          : pad->tag_track          ? pad->tag_track
          : pad->tag_title          ? pad->tag_title
          : pad->kind == KIND_AUDIO ? "audio"
                                    : "video");
  GST_OBJECT_UNLOCK (pad);
  return s;
}

static void
gst_hq_recorder_pad_get_property (
    GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  GstHqRecorderPad *pad = GST_HQ_RECORDER_PAD (object);

  switch (prop_id) {
    case PAD_PROP_PARTICIPANT:
      g_value_take_string (value, pad_participant (pad));
      break;
    case PAD_PROP_TRACK_NAME:
      g_value_take_string (value, pad_track (pad));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
}

static void
gst_hq_recorder_pad_class_init (GstHqRecorderPadClass *klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);

  gobject_class->finalize = gst_hq_recorder_pad_finalize;
  gobject_class->set_property = gst_hq_recorder_pad_set_property;
  gobject_class->get_property = gst_hq_recorder_pad_get_property;

  /**
   * GstHqRecorderPad:participant:
   *
   * Whose track this is.  Defaults to the stream's `hq-participant` tag
   * (which hqroomsrc sets), else the pad's name.  Set it before the first
   * buffer: the file is named when recording starts.
   */
  g_object_class_install_property (gobject_class, PAD_PROP_PARTICIPANT,
      g_param_spec_string ("participant", "Participant",
          "Whose track this is (default: the stream's hq-participant tag, "
          "else the pad name)",
          NULL, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS));
  /**
   * GstHqRecorderPad:track-name:
   *
   * The track's name.  Defaults to the stream's `hq-track-name` tag, else
   * its title tag, else "audio" or "video".
   */
  g_object_class_install_property (gobject_class, PAD_PROP_TRACK_NAME,
      g_param_spec_string ("track-name", "Track name",
          "The track's name (default: the stream's hq-track-name tag, else "
          "its title tag, else audio or video)",
          NULL, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS));
}

static void
gst_hq_recorder_pad_init (GstHqRecorderPad *pad)
{
}

/* ------------------------------------------------------------------ */
/* Input pads */

static void
pad_take_tags (GstHqRecorderPad *pad, GstTagList *tags)
{
  gchar *s;

  GST_OBJECT_LOCK (pad);
  if (gst_tag_list_get_string (tags, HQ_TAG_PARTICIPANT, &s)) {
    g_free (pad->tag_participant);
    pad->tag_participant = s;
  }
  if (gst_tag_list_get_string (tags, HQ_TAG_TRACK_NAME, &s)) {
    g_free (pad->tag_track);
    pad->tag_track = s;
  }
  if (gst_tag_list_get_string (tags, GST_TAG_TITLE, &s)) {
    g_free (pad->tag_title);
    pad->tag_title = s;
  }
  GST_OBJECT_UNLOCK (pad);
}

/* On the sink pad of each input's tee: learns caps and tags, makes the
 * branches at the first buffer (when the tags that come before it are
 * known), links the branches made elsewhere (set_recording()) at the next
 * buffer, and notices when the input ends. */
static GstPadProbeReturn
input_probe (GstPad *tee_sink, GstPadProbeInfo *info, gpointer user_data)
{
  GstHqRecorderPad *pad = user_data;
  GstHqRecorder *self = GST_HQ_RECORDER (GST_OBJECT_PARENT (pad));

  if (!self)
    return GST_PAD_PROBE_OK;
  if (info->type & GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM) {
    GstEvent *ev = GST_PAD_PROBE_INFO_EVENT (info);
    GstCaps *caps;
    GstTagList *tags;

    switch (GST_EVENT_TYPE (ev)) {
      case GST_EVENT_CAPS:
        gst_event_parse_caps (ev, &caps);
        LOCK (self);
        if (!pad->caps_known)
          pad->caps_known = input_format (caps, &pad->codec);
        UNLOCK (self);
        break;
      case GST_EVENT_TAG:
        gst_event_parse_tag (ev, &tags);
        pad_take_tags (pad, tags);
        break;
      case GST_EVENT_EOS:
        LOCK (self);
        /* a branch made since the last buffer ends with the stream */
        inputs_link (self, pad->tee);
        pad->gone = TRUE;
        if (pad->mixer_pad && pad->kind == KIND_VIDEO)
          reflow (self);
        UNLOCK (self);
        break;
      case GST_EVENT_STREAM_START:
        LOCK (self);
        pad->gone = FALSE;
        UNLOCK (self);
        break;
      default:
        break;
    }
    return GST_PAD_PROBE_OK;
  }
  LOCK (self);
  if (pad->caps_known) {
    if ((self->mode & GST_HQ_RECORDER_MODE_COMPOSED) && !pad->mix_elements)
      mixer_input_create (self, pad);
    if ((self->mode & GST_HQ_RECORDER_MODE_TRACKS) && self->current
        && !pad->branch)
      track_branch_create (self, pad);
  }
  inputs_link (self, pad->tee);
  UNLOCK (self);
  return GST_PAD_PROBE_OK;
}

static GstPad *
gst_hq_recorder_request_new_pad (GstElement *element, GstPadTemplate *templ,
    const gchar *name, const GstCaps *caps)
{
  GstHqRecorder *self = GST_HQ_RECORDER (element);
  Kind kind = templ->direction == GST_PAD_SINK
          && g_str_has_prefix (templ->name_template, "audio")
      ? KIND_AUDIO
      : KIND_VIDEO;
  GstHqRecorderPad *pad;
  GstElement *tee;
  GstPad *target;
  gchar *pad_name;
  guint n;

  LOCK (self);
  n = kind == KIND_AUDIO ? self->next_audio : self->next_video;
  if (name && sscanf (name + (kind == KIND_AUDIO ? 6 : 6), "%u", &n) != 1) {
    UNLOCK (self);
    return NULL;
  }
  pad_name =
      g_strdup_printf ("%s_%u", kind == KIND_AUDIO ? "audio" : "video", n);
  if (gst_element_get_static_pad (element, pad_name)) {
    GST_WARNING_OBJECT (self, "pad %s exists already", pad_name);
    gst_object_unref (gst_element_get_static_pad (element, pad_name));
    g_free (pad_name);
    UNLOCK (self);
    return NULL;
  }
  if (kind == KIND_AUDIO)
    self->next_audio = MAX (self->next_audio, n + 1);
  else
    self->next_video = MAX (self->next_video, n + 1);
  tee = make ("tee");
  g_object_set (tee, "allow-not-linked", TRUE, NULL);
  gst_bin_add (GST_BIN (self), tee);
  target = gst_element_get_static_pad (tee, "sink");
  pad = g_object_new (GST_TYPE_HQ_RECORDER_PAD, "name", pad_name, "direction",
      GST_PAD_SINK, "template", templ, NULL);
  gst_ghost_pad_set_target (GST_GHOST_PAD (pad), target);
  pad->kind = kind;
  pad->tee = gst_object_ref (tee);
  pad->seq = self->next_seq++;
  gst_pad_add_probe (target,
      GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_BUFFER_LIST
          | GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM,
      input_probe, pad, NULL);
  gst_object_unref (target);
  if (self->mode & GST_HQ_RECORDER_MODE_COMPOSED)
    mixer_ensure (self, kind);
  self->pads = g_list_append (self->pads, pad);
  UNLOCK (self);
  gst_element_sync_state_with_parent (tee);
  gst_pad_set_active (GST_PAD (pad), TRUE);
  gst_element_add_pad (element, GST_PAD (pad));
  gst_child_proxy_child_added (
      GST_CHILD_PROXY (self), G_OBJECT (pad), pad_name);
  g_free (pad_name);
  return GST_PAD (pad);
}

static void
gst_hq_recorder_release_pad (GstElement *element, GstPad *gpad)
{
  GstHqRecorder *self = GST_HQ_RECORDER (element);
  GstHqRecorderPad *pad = GST_HQ_RECORDER_PAD (gpad);
  GstElement *mixer =
      pad->kind == KIND_VIDEO ? self->compositor : self->audiomixer;

  LOCK (self);
  self->pads = g_list_remove (self->pads, pad);
  if (pad->branch)
    branch_stop (self, pad->branch);
  pad->branch = NULL;
  if (pad->mix_elements) {
    for (guint i = 0; i < pad->mix_elements->len; i++) {
      GstElement *e = g_ptr_array_index (pad->mix_elements, i);

      gst_element_set_locked_state (e, TRUE);
      gst_element_set_state (e, GST_STATE_NULL);
      if (GST_OBJECT_PARENT (e) == GST_OBJECT (self))
        gst_bin_remove (GST_BIN (self), e);
    }
    if (mixer && pad->mixer_pad)
      gst_element_release_request_pad (mixer, pad->mixer_pad);
    gst_clear_object (&pad->mixer_pad);
    reflow (self);
  }
  UNLOCK (self);
  gst_element_set_locked_state (pad->tee, TRUE);
  gst_element_set_state (pad->tee, GST_STATE_NULL);
  if (GST_OBJECT_PARENT (pad->tee) == GST_OBJECT (self))
    gst_bin_remove (GST_BIN (self), pad->tee);
  gst_child_proxy_child_removed (
      GST_CHILD_PROXY (self), G_OBJECT (gpad), GST_OBJECT_NAME (gpad));
  gst_element_remove_pad (element, gpad);
}

/* GstChildProxy: the bin's children, and the sink pads by name, so that a
 * launch line can say whose track a pad carries:
 * hqrecorder video_0::participant=alice */
static GstChildProxyInterface *parent_child_proxy;

static GObject *
gst_hq_recorder_get_child_by_name (GstChildProxy *proxy, const gchar *name)
{
  GstPad *pad = gst_element_get_static_pad (GST_ELEMENT (proxy), name);

  if (pad && GST_IS_HQ_RECORDER_PAD (pad))
    return G_OBJECT (pad);
  if (pad)
    gst_object_unref (pad);
  return parent_child_proxy->get_child_by_name (proxy, name);
}

static void
gst_hq_recorder_child_proxy_init (gpointer g_iface, gpointer iface_data)
{
  GstChildProxyInterface *iface = g_iface;

  parent_child_proxy = g_type_interface_peek_parent (iface);
  iface->get_child_by_name = gst_hq_recorder_get_child_by_name;
  iface->get_child_by_index = parent_child_proxy->get_child_by_index;
  iface->get_children_count = parent_child_proxy->get_children_count;
}

/* ------------------------------------------------------------------ */
/* States, messages, properties */

static gboolean
prepare_directory (GstHqRecorder *self)
{
  GError *err = NULL;
  gboolean ok;

  if (!self->location || !*self->location) {
    GST_ELEMENT_ERROR (self, RESOURCE, NOT_FOUND,
        ("No recording directory: set the location property"), (NULL));
    return FALSE;
  }
  if (g_mkdir_with_parents (self->location, 0755) != 0) {
    int e = errno;

    GST_ELEMENT_ERROR (self, RESOURCE, OPEN_WRITE,
        ("Could not create the recording directory \"%s\": %s", self->location,
            g_strerror (e)),
        (NULL));
    return FALSE;
  }
  hq_layout_free (self->layout);
  self->layout = self->layout_json ? hq_layout_parse (self->layout_json, &err)
                                   : hq_layout_new_grid ();
  if (!self->layout) {
    GST_ELEMENT_ERROR (
        self, RESOURCE, SETTINGS, ("Invalid layout: %s", err->message), (NULL));
    g_error_free (err);
    return FALSE;
  }
  LOCK (self);
  ok = manifest_write (self, &err);
  UNLOCK (self);
  if (ok)
    manifest_writer_start (self);
  if (!ok) {
    GST_ELEMENT_ERROR (self, RESOURCE, OPEN_WRITE,
        ("Could not write to the recording directory \"%s\": %s",
            self->location, err->message),
        (NULL));
    g_error_free (err);
  }
  return ok;
}

/* After PAUSED -> READY: files not ended by EOS stay as they are (they
 * play up to their last cluster) and are marked interrupted. */
static void
teardown_branches (GstHqRecorder *self)
{
  LOCK (self);
  for (guint i = 0; i < self->periods->len; i++) {
    Period *p = g_ptr_array_index (self->periods, i);

    for (guint k = 0; k < p->branches->len; k++) {
      Branch *br = g_ptr_array_index (p->branches, k);

      if (br->status == STATUS_RECORDING)
        br->status = STATUS_INTERRUPTED;
      branch_remove (self, br);
    }
    p->active = FALSE;
  }
  self->current = NULL;
  for (GList *l = self->pads; l; l = l->next)
    GST_HQ_RECORDER_PAD (l->data)->branch = NULL;
  if (self->location)
    manifest_update (self);
  UNLOCK (self);
}

static GstStateChangeReturn
gst_hq_recorder_change_state (GstElement *element, GstStateChange transition)
{
  GstHqRecorder *self = GST_HQ_RECORDER (element);
  GstStateChangeReturn ret;

  switch (transition) {
    case GST_STATE_CHANGE_NULL_TO_READY:
      if (!prepare_directory (self))
        return GST_STATE_CHANGE_FAILURE;
      break;
    case GST_STATE_CHANGE_READY_TO_PAUSED:
      LOCK (self);
      if (self->recording && !self->current)
        period_begin (self, GST_CLOCK_TIME_NONE);
      UNLOCK (self);
      break;
    default:
      break;
  }
  ret = GST_ELEMENT_CLASS (gst_hq_recorder_parent_class)
            ->change_state (element, transition);
  if (transition == GST_STATE_CHANGE_PAUSED_TO_READY) {
    teardown_branches (self);
    manifest_writer_flush (self);
  }
  if (transition == GST_STATE_CHANGE_READY_TO_NULL)
    manifest_writer_stop (self);
  return ret;
}

/* A file sink's error becomes the recorder's, naming the file and why. */
static void
gst_hq_recorder_handle_message (GstBin *bin, GstMessage *msg)
{
  GstHqRecorder *self = GST_HQ_RECORDER (bin);
  Branch *failed = NULL;

  if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ERROR) {
    LOCK (self);
    for (guint i = 0; !failed && i < self->periods->len; i++) {
      Period *p = g_ptr_array_index (self->periods, i);

      for (guint k = 0; !failed && k < p->branches->len; k++) {
        Branch *br = g_ptr_array_index (p->branches, k);

        if (br->sink && GST_MESSAGE_SRC (msg) == GST_OBJECT (br->sink))
          failed = br;
      }
    }
    if (failed) {
      GError *err = NULL;
      gchar *debug = NULL;
      const gchar *cause;

      failed->status = STATUS_FAILED;
      manifest_update (self);
      gst_message_parse_error (msg, &err, &debug);
      cause = err->domain == GST_RESOURCE_ERROR
              && err->code == GST_RESOURCE_ERROR_NO_SPACE_LEFT
          ? g_strerror (ENOSPC)
          : debug ? debug
                  : err->message;
      GST_ELEMENT_ERROR (self, RESOURCE, WRITE,
          ("Could not write the recording file \"%s\": %s", failed->path,
              cause),
          ("%s (%s)", err->message, debug ? debug : ""));
      g_error_free (err);
      g_free (debug);
      gst_message_unref (msg);
    }
    UNLOCK (self);
    if (failed)
      return;
  }
  /* the recording has ended: the manifest says so before the bin's EOS
   * (the only wait for the disk on a streaming thread) */
  if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_EOS)
    manifest_writer_flush (self);
  GST_BIN_CLASS (gst_hq_recorder_parent_class)->handle_message (bin, msg);
}

static void
set_recording (GstHqRecorder *self, gboolean on)
{
  LOCK (self);
  if (on == self->recording) {
    UNLOCK (self);
    return;
  }
  self->recording = on;
  if (GST_STATE (self) >= GST_STATE_PAUSED) {
    if (on) {
      period_begin (
          self, gst_element_get_current_running_time (GST_ELEMENT (self)));
      for (GList *l = self->pads; l; l = l->next) {
        GstHqRecorderPad *pad = l->data;

        if ((self->mode & GST_HQ_RECORDER_MODE_TRACKS) && !pad->gone
            && pad->caps_known)
          track_branch_create (self, pad);
      }
      if ((self->mode & GST_HQ_RECORDER_MODE_COMPOSED)
          && (self->compositor || self->audiomixer))
        composed_branch_create (self);
    } else {
      period_end (self);
    }
  }
  UNLOCK (self);
}

static gboolean
parse_resolution (const gchar *s, gint *w, gint *h)
{
  gint a, b;
  gchar x;

  if (!s || sscanf (s, "%d%c%d", &a, &x, &b) != 3 || (x != 'x' && x != 'X')
      || a < 16 || b < 16 || a > 7680 || b > 4320)
    return FALSE;
  *w = a & ~1;
  *h = b & ~1;
  return TRUE;
}

static void
gst_hq_recorder_set_property (
    GObject *object, guint prop_id, const GValue *value, GParamSpec *pspec)
{
  GstHqRecorder *self = GST_HQ_RECORDER (object);

  switch (prop_id) {
    case PROP_LOCATION:
      LOCK (self);
      g_free (self->location);
      self->location = g_value_dup_string (value);
      UNLOCK (self);
      break;
    case PROP_MODE:
      self->mode = g_value_get_enum (value);
      break;
    case PROP_RESOLUTION:
      if (!parse_resolution (
              g_value_get_string (value), &self->width, &self->height))
        g_warning ("hqrecorder: resolution \"%s\" is not WIDTHxHEIGHT "
                   "(16x16 to 7680x4320)",
            g_value_get_string (value));
      break;
    case PROP_FORMAT:
      self->format = g_value_get_enum (value);
      break;
    case PROP_LAYOUT:
      g_free (self->layout_json);
      self->layout_json = g_value_dup_string (value);
      break;
    case PROP_RECORDING:
      set_recording (self, g_value_get_boolean (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
}

static void
gst_hq_recorder_get_property (
    GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  GstHqRecorder *self = GST_HQ_RECORDER (object);

  switch (prop_id) {
    case PROP_LOCATION:
      LOCK (self);
      g_value_set_string (value, self->location);
      UNLOCK (self);
      break;
    case PROP_MODE:
      g_value_set_enum (value, self->mode);
      break;
    case PROP_RESOLUTION:
      g_value_take_string (
          value, g_strdup_printf ("%dx%d", self->width, self->height));
      break;
    case PROP_FORMAT:
      g_value_set_enum (value, self->format);
      break;
    case PROP_LAYOUT:
      g_value_set_string (value, self->layout_json);
      break;
    case PROP_RECORDING:
      g_value_set_boolean (value, self->recording);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
}

static void
gst_hq_recorder_finalize (GObject *object)
{
  GstHqRecorder *self = GST_HQ_RECORDER (object);

  gst_clear_object (&self->compositor);
  gst_clear_object (&self->audiomixer);
  gst_clear_object (&self->video_tee);
  gst_clear_object (&self->audio_tee);
  g_ptr_array_unref (self->periods);
  g_list_free (self->pads);
  hq_layout_free (self->layout);
  g_free (self->location);
  g_free (self->layout_json);
  manifest_writer_clear (self);
  g_rec_mutex_clear (&self->lock);
  G_OBJECT_CLASS (gst_hq_recorder_parent_class)->finalize (object);
}

static void
gst_hq_recorder_class_init (GstHqRecorderClass *klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);
  GstBinClass *bin_class = GST_BIN_CLASS (klass);

  GST_DEBUG_CATEGORY_INIT (
      hq_recorder_debug, "hqrecorder", 0, "hqrooms recorder");
  gobject_class->set_property = gst_hq_recorder_set_property;
  gobject_class->get_property = gst_hq_recorder_get_property;
  gobject_class->finalize = gst_hq_recorder_finalize;

  /**
   * GstHqRecorder:location:
   *
   * The output directory; made if missing.  Files are named
   * `recNNN-<participant>-<track>.mka|mkv` and `recNNN-composed.webm|mp4`,
   * NNN the recording period; recording.json lists them.
   */
  g_object_class_install_property (gobject_class, PROP_LOCATION,
      g_param_spec_string ("location", "Location", "Output directory", NULL,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS
              | GST_PARAM_MUTABLE_READY));
  /**
   * GstHqRecorder:mode:
   *
   * tracks (one file per track), composed (one file with everyone) or
   * both.
   */
  g_object_class_install_property (gobject_class, PROP_MODE,
      g_param_spec_enum ("mode", "Mode", "What to record",
          GST_TYPE_HQ_RECORDER_MODE, GST_HQ_RECORDER_MODE_TRACKS,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS
              | GST_PARAM_MUTABLE_READY));
  /**
   * GstHqRecorder:resolution:
   *
   * Size of the composed video, "WIDTHxHEIGHT".
   */
  g_object_class_install_property (gobject_class, PROP_RESOLUTION,
      g_param_spec_string ("resolution", "Resolution",
          "Size of the composed video, WIDTHxHEIGHT", "1280x720",
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS
              | GST_PARAM_MUTABLE_READY));
  /**
   * GstHqRecorder:format:
   *
   * Container and codecs of the composed file: webm (VP8 + Opus) or mp4
   * (fragmented; H.264 + AAC, Opus when no AAC encoder is installed).
   */
  g_object_class_install_property (gobject_class, PROP_FORMAT,
      g_param_spec_enum ("format", "Format", "Format of the composed file",
          GST_TYPE_HQ_RECORDER_FORMAT, GST_HQ_RECORDER_FORMAT_WEBM,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS
              | GST_PARAM_MUTABLE_READY));
  /**
   * GstHqRecorder:layout:
   *
   * Video layout of the composed file as JSON in the shape of Twilio's
   * VideoLayout (see docs/hqrecorder.md).  Default: one grid over the
   * whole frame that reflows as participants come and go.
   */
  g_object_class_install_property (gobject_class, PROP_LAYOUT,
      g_param_spec_string ("layout", "Layout",
          "Video layout as VideoLayout JSON (default: a grid of everyone)",
          NULL,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS
              | GST_PARAM_MUTABLE_READY));
  /**
   * GstHqRecorder:recording:
   *
   * Whether to record.  Setting it to false while playing ends the current
   * files (finalized, listed in the manifest); setting it to true again
   * starts new ones, in a new recording period.
   */
  g_object_class_install_property (gobject_class, PROP_RECORDING,
      g_param_spec_boolean ("recording", "Recording",
          "Whether to record; toggling while playing starts a new period", TRUE,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS
              | GST_PARAM_MUTABLE_PLAYING));

  /* raw media, or any room codec of the pad's kind (the codec table):
   * "audio/x-raw; audio/x-opus", "video/x-raw; video/x-vp8; video/x-h264" */
  for (guint i = 0; i < 2; i++) {
    HqSdpKind kind = i == 0 ? HQ_SDP_KIND_AUDIO : HQ_SDP_KIND_VIDEO;
    GstCaps *caps = hq_codec_template_caps (kind);

    gst_element_class_add_pad_template (element_class,
        gst_pad_template_new_with_gtype (i == 0 ? "audio_%u" : "video_%u",
            GST_PAD_SINK, GST_PAD_REQUEST, caps, GST_TYPE_HQ_RECORDER_PAD));
    gst_caps_unref (caps);
  }
  gst_element_class_set_static_metadata (element_class, "hqrooms recorder",
      "Sink/Muxer",
      "Records a room's tracks, per track and composed, "
      "crash-safe",
      "hqrooms");
  element_class->request_new_pad = gst_hq_recorder_request_new_pad;
  element_class->release_pad = gst_hq_recorder_release_pad;
  element_class->change_state = gst_hq_recorder_change_state;
  bin_class->handle_message = gst_hq_recorder_handle_message;

  gst_type_mark_as_plugin_api (GST_TYPE_HQ_RECORDER_PAD, 0);
  gst_type_mark_as_plugin_api (GST_TYPE_HQ_RECORDER_MODE, 0);
  gst_type_mark_as_plugin_api (GST_TYPE_HQ_RECORDER_FORMAT, 0);
}

static void
gst_hq_recorder_init (GstHqRecorder *self)
{
  g_rec_mutex_init (&self->lock);
  manifest_writer_init (self);
  self->mode = GST_HQ_RECORDER_MODE_TRACKS;
  self->width = 1280;
  self->height = 720;
  self->format = GST_HQ_RECORDER_FORMAT_WEBM;
  self->recording = TRUE;
  self->periods = g_ptr_array_new_with_free_func ((GDestroyNotify)period_free);
}
