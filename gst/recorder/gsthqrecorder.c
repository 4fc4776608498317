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
 * track starts or stops and after each second of media.
 *
 * A branch may be made on any thread (recording=true), but its inputs are
 * linked to their tees only on each tee's streaming thread, in a probe on
 * the tee's sink pad, so that a new tee pad gets its sticky events
 * (stream-start, caps, segment) before its first buffer (tee_link()).
 *
 * Stopping a period (recording=false) unlinks each branch from its tee and
 * sends EOS into it; when the EOS reaches the file sink the file is final
 * and the branch is taken down off the streaming thread.
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
#include "hqrecorderlayout.h"

#include <errno.h>
#include <string.h>
#include <glib/gstdio.h>
#include <gst/video/video.h>
#include <json-glib/json-glib.h>

GST_DEBUG_CATEGORY_STATIC (hq_recorder_debug);
#define GST_CAT_DEFAULT hq_recorder_debug

#define MANIFEST "recording.json"
#define CLUSTER_MAX (1 * GST_SECOND)
#define CLUSTER_MIN (GST_SECOND / 2)
#define MANIFEST_EVERY GST_SECOND
#define MIX_LATENCY (300 * GST_MSECOND)
#define COMPOSED_FPS 30

typedef enum
{
  KIND_AUDIO,
  KIND_VIDEO,
} Kind;

typedef enum
{
  CODEC_UNKNOWN,
  CODEC_RAW,
  CODEC_VP8,
  CODEC_H264,
  CODEC_OPUS,
} Codec;

typedef enum
{
  STATUS_RECORDING,
  STATUS_COMPLETED,
  STATUS_INTERRUPTED,
  STATUS_FAILED,
} Status;

static const gchar *const status_names[] = { "recording", "completed",
  "interrupted", "failed" };

typedef struct _Period Period;
typedef struct _Branch Branch;

/* One stream into a branch: from a tee request pad through a queue and a
 * chain of converters/encoders to a muxer pad. */
typedef struct
{
  Branch *branch;
  GstElement *tee;
  GstPad *tee_pad;
  GstElement *queue;
  GPtrArray *elements; /* everything this input added to the bin */
  GstSegment segment;
  gboolean need_keyframe;
  gboolean asked_keyframe;
} Input;

/* One output file. */
struct _Branch
{
  GstHqRecorder *rec;
  Period *period;
  gchar *file; /* name in the directory */
  gchar *path;
  gchar *participant, *track; /* track files */
  const gchar *kind; /* "audio", "video"; NULL: composed */
  const gchar *codec, *audio_codec;
  GstElement *mux, *sink;
  Input inputs[2];
  guint n_inputs;
  GstClockTime base_rt, end_rt, written_rt;
  Status status;
  gboolean stopping, removed;
};

struct _Period
{
  guint index;
  GstClockTime start_rt; /* NONE until known */
  gchar *started_at;
  GPtrArray *branches;
  Branch *composed;
  gboolean active;
};

struct _GstHqRecorderPad
{
  GstGhostPad parent;

  gchar *participant, *track_name; /* properties */
  gchar *tag_participant, *tag_track, *tag_title;
  Kind kind;
  Codec codec;
  GstElement *tee;
  guint seq;
  gboolean gone;
  GPtrArray *mix_elements; /* composed input: queue, decoder... */
  GstPad *mixer_pad;
  Branch *branch; /* track branch of the current period */
};

struct _GstHqRecorder
{
  GstBin parent;

  GRecMutex lock;
  gchar *location;
  GstHqRecorderMode mode;
  gint width, height;
  GstHqRecorderFormat format;
  gchar *layout_json;
  HqRecorderLayout *layout;
  gboolean recording;

  GPtrArray *periods;
  Period *current;
  GList *pads;
  guint next_audio, next_video, next_seq;
  GstElement *compositor, *video_tee, *audiomixer, *audio_tee;
  gboolean manifest_failed;
};

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

#define LOCK(r) g_rec_mutex_lock (&(r)->lock)
#define UNLOCK(r) g_rec_mutex_unlock (&(r)->lock)

static GstStaticPadTemplate audio_template =
    GST_STATIC_PAD_TEMPLATE ("audio_%u", GST_PAD_SINK, GST_PAD_REQUEST,
        GST_STATIC_CAPS ("audio/x-raw; audio/x-opus"));
static GstStaticPadTemplate video_template =
    GST_STATIC_PAD_TEMPLATE ("video_%u", GST_PAD_SINK, GST_PAD_REQUEST,
        GST_STATIC_CAPS ("video/x-raw; video/x-vp8; video/x-h264"));

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
static gchar *
pad_participant (GstHqRecorderPad *pad)
{
  gchar *s;

  GST_OBJECT_LOCK (pad);
  s = g_strdup (pad->participant ? pad->participant : pad->tag_participant);
  GST_OBJECT_UNLOCK (pad);
  return s ? s : gst_pad_get_name (pad);
}

static gchar *
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
/* Manifest */

static gint64
ms (GstClockTime t)
{
  return GST_CLOCK_TIME_IS_VALID (t) ? (gint64)(t / GST_MSECOND) : 0;
}

static void
manifest_add_branch (JsonBuilder *b, Branch *br, Period *p)
{
  gboolean started = GST_CLOCK_TIME_IS_VALID (br->base_rt);
  GstClockTime offset = started && GST_CLOCK_TIME_IS_VALID (p->start_rt)
          && br->base_rt > p->start_rt
      ? br->base_rt - p->start_rt
      : 0;

  json_builder_begin_object (b);
  if (br->kind) {
    json_builder_set_member_name (b, "participant");
    json_builder_add_string_value (b, br->participant);
    json_builder_set_member_name (b, "track");
    json_builder_add_string_value (b, br->track);
    json_builder_set_member_name (b, "kind");
    json_builder_add_string_value (b, br->kind);
    json_builder_set_member_name (b, "codec");
    json_builder_add_string_value (b, br->codec);
  } else {
    json_builder_set_member_name (b, "video_codec");
    json_builder_add_string_value (b, br->codec);
    json_builder_set_member_name (b, "audio_codec");
    json_builder_add_string_value (b, br->audio_codec);
  }
  json_builder_set_member_name (b, "file");
  json_builder_add_string_value (b, br->file);
  json_builder_set_member_name (b, "offset_ms");
  json_builder_add_int_value (b, ms (offset));
  json_builder_set_member_name (b, "duration_ms");
  json_builder_add_int_value (b,
      started && br->end_rt > br->base_rt ? ms (br->end_rt - br->base_rt) : 0);
  json_builder_set_member_name (b, "status");
  json_builder_add_string_value (b, status_names[br->status]);
  json_builder_end_object (b);
}

static gchar *
manifest_build (GstHqRecorder *self)
{
  JsonBuilder *b = json_builder_new ();
  JsonGenerator *gen = json_generator_new ();
  JsonNode *root;
  gchar *text;

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "recordings");
  json_builder_begin_array (b);
  for (guint i = 0; i < self->periods->len; i++) {
    Period *p = g_ptr_array_index (self->periods, i);

    json_builder_begin_object (b);
    json_builder_set_member_name (b, "index");
    json_builder_add_int_value (b, p->index);
    json_builder_set_member_name (b, "started_at");
    json_builder_add_string_value (b, p->started_at);
    json_builder_set_member_name (b, "start_running_time_ms");
    json_builder_add_int_value (b, ms (p->start_rt));
    json_builder_set_member_name (b, "active");
    json_builder_add_boolean_value (b, p->active);
    json_builder_set_member_name (b, "tracks");
    json_builder_begin_array (b);
    for (guint k = 0; k < p->branches->len; k++) {
      Branch *br = g_ptr_array_index (p->branches, k);

      if (br->kind)
        manifest_add_branch (b, br, p);
    }
    json_builder_end_array (b);
    if (p->composed) {
      json_builder_set_member_name (b, "composition");
      manifest_add_branch (b, p->composed, p);
    }
    json_builder_end_object (b);
  }
  json_builder_end_array (b);
  json_builder_end_object (b);
  root = json_builder_get_root (b);
  json_generator_set_root (gen, root);
  json_generator_set_pretty (gen, TRUE);
  text = json_generator_to_data (gen, NULL);
  json_node_unref (root);
  g_object_unref (gen);
  g_object_unref (b);
  return text;
}

/* Writes recording.json atomically (temporary file, fsync, rename).  With
 * the lock held. */
static gboolean
manifest_write (GstHqRecorder *self, GError **error)
{
  gchar *path = g_build_filename (self->location, MANIFEST, NULL);
  gchar *text = manifest_build (self);
  gboolean ok = g_file_set_contents_full (path, text, -1,
      G_FILE_SET_CONTENTS_CONSISTENT | G_FILE_SET_CONTENTS_DURABLE, 0644,
      error);

  g_free (text);
  g_free (path);
  return ok;
}

/* manifest_write() from streaming threads: a failure is an element error,
 * posted once. */
static void
manifest_update (GstHqRecorder *self)
{
  GError *err = NULL;

  if (manifest_write (self, &err) || self->manifest_failed) {
    g_clear_error (&err);
    return;
  }
  self->manifest_failed = TRUE;
  GST_ELEMENT_ERROR (self, RESOURCE, WRITE,
      ("Could not write the recording manifest in \"%s\": %s", self->location,
          err->message),
      (NULL));
  g_error_free (err);
}

/* ------------------------------------------------------------------ */
/* Branches */

static Codec
codec_from_caps (GstCaps *caps)
{
  const gchar *name;

  if (!caps || gst_caps_is_empty (caps))
    return CODEC_UNKNOWN;
  name = gst_structure_get_name (gst_caps_get_structure (caps, 0));
  if (g_str_has_suffix (name, "/x-raw"))
    return CODEC_RAW;
  if (!strcmp (name, "video/x-vp8"))
    return CODEC_VP8;
  if (!strcmp (name, "video/x-h264"))
    return CODEC_H264;
  if (!strcmp (name, "audio/x-opus"))
    return CODEC_OPUS;
  return CODEC_UNKNOWN;
}

static GstElement *
make (const gchar *factory)
{
  GstElement *e = gst_element_factory_make (factory, NULL);

  if (!e)
    GST_WARNING ("element %s is not installed", factory);
  return e;
}

static GstElement *
make_first (const gchar *a, const gchar *b)
{
  GstElement *e = gst_element_factory_make (a, NULL);

  return e ? e : make (b);
}

static GstElement *
make_vp8enc (void)
{
  GstElement *e = make ("vp8enc");

  if (e)
    g_object_set (e, "deadline", (gint64)1, "lag-in-frames", 0,
        "keyframe-max-dist", 30, "cpu-used", 8, "end-usage", 1,
        "target-bitrate", 1000000, "error-resilient", 1, NULL);
  return e;
}

static GstElement *
make_h264enc (void)
{
  GstElement *e = gst_element_factory_make ("x264enc", NULL);

  if (e) {
    gst_util_set_object_arg (G_OBJECT (e), "tune", "zerolatency");
    gst_util_set_object_arg (G_OBJECT (e), "speed-preset", "ultrafast");
    g_object_set (e, "key-int-max", 30, NULL);
    return e;
  }
  return make ("openh264enc");
}

/* Appends to @chain what turns input of @codec (raw or encoded) into what
 * @target names: "VP8", "H264", "OPUS" or "AAC".  FALSE when an element is
 * missing. */
static gboolean
encode_chain (GPtrArray *chain, Kind kind, Codec codec, const gchar *target)
{
  GstElement *e[3] = { NULL, NULL, NULL };

  if (codec == CODEC_VP8 || (codec == CODEC_OPUS && !strcmp (target, "OPUS")))
    return TRUE;
  if (codec == CODEC_H264) {
    e[0] = make ("h264parse");
  } else if (kind == KIND_VIDEO) {
    e[0] = make ("videoconvert");
    if (!strcmp (target, "H264")) {
      e[1] = make_h264enc ();
      e[2] = make ("h264parse");
    } else {
      e[1] = make_vp8enc ();
      e[2] = gst_element_factory_make ("identity", NULL);
    }
  } else {
    e[0] = make ("audioconvert");
    e[1] = make ("audioresample");
    e[2] = !strcmp (target, "AAC") ? make_first ("avenc_aac", "voaacenc")
                                   : make ("opusenc");
  }
  for (guint i = 0; i < 3; i++) {
    if (!e[i] && (i == 0 || codec == CODEC_RAW)) {
      for (guint k = 0; k < 3; k++)
        if (e[k])
          gst_object_unref (gst_object_ref_sink (e[k]));
      return FALSE;
    }
  }
  for (guint i = 0; i < 3; i++)
    if (e[i])
      g_ptr_array_add (chain, e[i]);
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
    if (prev && !gst_element_link (prev, e))
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
static GstPad *
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
static void
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

static const gchar *
codec_name (Codec codec, Kind kind)
{
  switch (codec) {
    case CODEC_VP8:
      return "VP8";
    case CODEC_H264:
      return "H264";
    case CODEC_OPUS:
      return "OPUS";
    default:
      return kind == KIND_AUDIO ? "OPUS" : "VP8";
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
static void
track_branch_create (GstHqRecorder *self, GstHqRecorderPad *pad)
{
  Period *p = self->current;
  gchar *participant = pad_participant (pad), *track = pad_track (pad);
  gchar *sp = safe_name (participant), *st = safe_name (track);
  const gchar *ext = pad->kind == KIND_AUDIO ? "mka" : "mkv";
  gchar *file = g_strdup_printf ("rec%03u-%s-%s.%s", p->index, sp, st, ext);
  GPtrArray *chain = g_ptr_array_new ();
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
  br->codec = codec_name (pad->codec, pad->kind);
  g_ptr_array_add (p->branches, br);
  pad->branch = br;
  if (!encode_chain (chain, pad->kind, pad->codec, br->codec)
      || !branch_make_output (br, "matroskamux")
      || !branch_add_input (br, pad->tee, chain,
          pad->kind == KIND_AUDIO ? "audio_%u" : "video_%u",
          pad->kind == KIND_VIDEO && pad->codec != CODEC_RAW)) {
    br->status = STATUS_FAILED;
    GST_ELEMENT_ERROR (self, CORE, MISSING_PLUGIN,
        ("Could not record %s: an encoder, parser or muxer is missing "
         "or does not accept the stream",
            br->path),
        (NULL));
  } else {
    branch_start (br);
  }
  g_ptr_array_unref (chain);
  g_free (sp);
  g_free (st);
  g_free (file);
  manifest_update (self);
}

/* The composed branch of the current period, fed by the mixers that exist
 * now.  With the lock held. */
static void
composed_branch_create (GstHqRecorder *self)
{
  Period *p = self->current;
  gboolean mp4 = self->format == GST_HQ_RECORDER_FORMAT_MP4;
  gchar *file =
      g_strdup_printf ("rec%03u-composed.%s", p->index, mp4 ? "mp4" : "webm");
  Branch *br = branch_new (self, p, file);
  gboolean ok;

  br->codec = mp4 ? "H264" : "VP8";
  br->audio_codec = "OPUS";
  if (mp4
      && (gst_element_factory_find ("avenc_aac")
          || gst_element_factory_find ("voaacenc")))
    br->audio_codec = "AAC";
  g_ptr_array_add (p->branches, br);
  p->composed = br;
  ok = branch_make_output (br, mp4 ? "mp4mux" : "webmmux");
  if (ok && self->video_tee) {
    GPtrArray *chain = g_ptr_array_new ();

    ok = encode_chain (chain, KIND_VIDEO, CODEC_RAW, br->codec)
        && branch_add_input (br, self->video_tee, chain, "video_%u", FALSE);
    g_ptr_array_unref (chain);
  }
  if (ok && self->audio_tee) {
    GPtrArray *chain = g_ptr_array_new ();

    ok = encode_chain (chain, KIND_AUDIO, CODEC_RAW, br->audio_codec)
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
        (NULL));
  }
  g_free (file);
  manifest_update (self);
}

static void
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
static void
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
static void
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
static void
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

static void
period_free (Period *p)
{
  for (guint i = 0; i < p->branches->len; i++)
    branch_free (g_ptr_array_index (p->branches, i));
  g_ptr_array_unref (p->branches);
  g_free (p->started_at);
  g_free (p);
}

/* ------------------------------------------------------------------ */
/* Composition */

/* Places every live video input per the layout.  With the lock held. */
static void
reflow (GstHqRecorder *self)
{
  GPtrArray *pads = g_ptr_array_new ();
  HqRecorderSource *sources;
  HqRecorderPlacement *placed;
  gchar **strings;

  for (GList *l = self->pads; l; l = l->next) {
    GstHqRecorderPad *pad = l->data;

    if (pad->kind == KIND_VIDEO && pad->mixer_pad && !pad->gone)
      g_ptr_array_add (pads, pad);
  }
  sources = g_new0 (HqRecorderSource, pads->len);
  placed = g_new0 (HqRecorderPlacement, pads->len);
  strings = g_new0 (gchar *, 3 * pads->len + 1);
  for (guint i = 0; i < pads->len; i++) {
    GstHqRecorderPad *pad = g_ptr_array_index (pads, i);

    strings[3 * i] = pad_participant (pad);
    strings[3 * i + 1] = pad_track (pad);
    strings[3 * i + 2] = gst_pad_get_name (pad);
    sources[i].participant = strings[3 * i];
    sources[i].track = strings[3 * i + 1];
    sources[i].pad_name = strings[3 * i + 2];
  }
  hq_recorder_layout_place (
      self->layout, self->width, self->height, sources, pads->len, placed);
  for (guint i = 0; i < pads->len; i++) {
    GstHqRecorderPad *pad = g_ptr_array_index (pads, i);
    HqRecorderPlacement *pl = &placed[i];

    GST_DEBUG_OBJECT (self, "%s: %s %dx%d+%d+%d z %u", sources[i].pad_name,
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
static void
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

/* @pad's way into its mixer: queue ! (decoder) ! mixer pad.  On the
 * streaming thread of @pad's tee, with the lock held. */
static void
mixer_input_create (GstHqRecorder *self, GstHqRecorderPad *pad)
{
  GstElement *mixer =
      pad->kind == KIND_VIDEO ? self->compositor : self->audiomixer;
  GstElement *e[3] = { make ("queue"), NULL, NULL };
  GstPad *src, *sink;

  if (!mixer)
    return;
  switch (pad->codec) {
    case CODEC_VP8:
      e[1] = make ("vp8dec");
      break;
    case CODEC_H264:
      e[1] = make ("h264parse");
      e[2] = make_first ("avdec_h264", "openh264dec");
      break;
    case CODEC_OPUS:
      e[1] = make ("opusdec");
      break;
    default:
      break;
  }
  pad->mix_elements = g_ptr_array_new_with_free_func (gst_object_unref);
  for (guint i = 0; i < 3; i++) {
    if (!e[i])
      continue;
    g_ptr_array_add (pad->mix_elements, gst_object_ref_sink (e[i]));
    gst_bin_add (GST_BIN (self), e[i]);
    if (pad->mix_elements->len > 1)
      gst_element_link (
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
        if (pad->codec == CODEC_UNKNOWN)
          pad->codec = codec_from_caps (caps);
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
  if (pad->codec != CODEC_UNKNOWN) {
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
  hq_recorder_layout_free (self->layout);
  self->layout = self->layout_json
      ? hq_recorder_layout_parse (self->layout_json, &err)
      : hq_recorder_layout_new_grid ();
  if (!self->layout) {
    GST_ELEMENT_ERROR (
        self, RESOURCE, SETTINGS, ("Invalid layout: %s", err->message), (NULL));
    g_error_free (err);
    return FALSE;
  }
  LOCK (self);
  self->manifest_failed = FALSE;
  ok = manifest_write (self, &err);
  UNLOCK (self);
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
  if (transition == GST_STATE_CHANGE_PAUSED_TO_READY)
    teardown_branches (self);
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
            && pad->codec != CODEC_UNKNOWN)
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
  hq_recorder_layout_free (self->layout);
  g_free (self->location);
  g_free (self->layout_json);
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

  gst_element_class_add_static_pad_template_with_gtype (
      element_class, &audio_template, GST_TYPE_HQ_RECORDER_PAD);
  gst_element_class_add_static_pad_template_with_gtype (
      element_class, &video_template, GST_TYPE_HQ_RECORDER_PAD);
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
  self->mode = GST_HQ_RECORDER_MODE_TRACKS;
  self->width = 1280;
  self->height = 720;
  self->format = GST_HQ_RECORDER_FORMAT_WEBM;
  self->recording = TRUE;
  self->periods = g_ptr_array_new_with_free_func ((GDestroyNotify)period_free);
}
