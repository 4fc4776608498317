/* hqroomsrc's source pads; see gsthqroomsrcpad.h.  The pad's fields are
 * under its object lock: the client thread sets them, streaming threads
 * and applications read them. */
#include "gsthqroomsrcpad.h"

#include <hq/hqtags.h>

struct _GstHqRoomSrcPad
{
  GstGhostPad parent;
  gchar *identity, *participant_sid, *track_name, *track_sid;
  GstHqRoomTrackPriority priority;
  guint ssrc; /* for the stats */
  gboolean video;
};

enum
{
  PAD_PROP_0,
  PAD_PROP_IDENTITY,
  PAD_PROP_PARTICIPANT_SID,
  PAD_PROP_TRACK_NAME,
  PAD_PROP_TRACK_SID,
  PAD_PROP_PRIORITY,
  PAD_PROP_STATS,
};

static GstStructure *gst_hq_room_src_pad_get_stats (GstHqRoomSrcPad *pad);

G_DEFINE_TYPE (GstHqRoomSrcPad, gst_hq_room_src_pad, GST_TYPE_GHOST_PAD);

static void
gst_hq_room_src_pad_get_property (
    GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  GstHqRoomSrcPad *pad = GST_HQ_ROOM_SRC_PAD (object);

  if (prop_id == PAD_PROP_STATS) {
    g_value_take_boxed (value, gst_hq_room_src_pad_get_stats (pad));
    return;
  }
  GST_OBJECT_LOCK (pad);
  switch (prop_id) {
    case PAD_PROP_IDENTITY:
      g_value_set_string (value, pad->identity);
      break;
    case PAD_PROP_PARTICIPANT_SID:
      g_value_set_string (value, pad->participant_sid);
      break;
    case PAD_PROP_TRACK_NAME:
      g_value_set_string (value, pad->track_name);
      break;
    case PAD_PROP_TRACK_SID:
      g_value_set_string (value, pad->track_sid);
      break;
    case PAD_PROP_PRIORITY:
      g_value_set_enum (value, pad->priority);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (pad);
}

static void
gst_hq_room_src_pad_finalize (GObject *object)
{
  GstHqRoomSrcPad *pad = GST_HQ_ROOM_SRC_PAD (object);

  g_free (pad->identity);
  g_free (pad->participant_sid);
  g_free (pad->track_name);
  g_free (pad->track_sid);
  G_OBJECT_CLASS (gst_hq_room_src_pad_parent_class)->finalize (object);
}

static void
gst_hq_room_src_pad_class_init (GstHqRoomSrcPadClass *klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);

  gobject_class->get_property = gst_hq_room_src_pad_get_property;
  gobject_class->finalize = gst_hq_room_src_pad_finalize;

  /**
   * GstHqRoomSrcPad:participant-identity:
   *
   * The identity of the participant whose track this is.
   */
  g_object_class_install_property (gobject_class, PAD_PROP_IDENTITY,
      g_param_spec_string ("participant-identity", "Participant identity",
          "Identity of the participant publishing this track", NULL,
          G_PARAM_READABLE | G_PARAM_STATIC_STRINGS));
  /**
   * GstHqRoomSrcPad:participant-sid:
   *
   * The participant's sid (PA...); a new one after the participant or
   * the server came back.
   */
  g_object_class_install_property (gobject_class, PAD_PROP_PARTICIPANT_SID,
      g_param_spec_string ("participant-sid", "Participant sid",
          "Sid of the participant publishing this track", NULL,
          G_PARAM_READABLE | G_PARAM_STATIC_STRINGS));
  /**
   * GstHqRoomSrcPad:track-name:
   *
   * The track's name as its publisher gave it.
   */
  g_object_class_install_property (gobject_class, PAD_PROP_TRACK_NAME,
      g_param_spec_string ("track-name", "Track name", "Name of the track",
          NULL, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS));
  /**
   * GstHqRoomSrcPad:track-sid:
   *
   * The track's sid (MT...).
   */
  g_object_class_install_property (gobject_class, PAD_PROP_TRACK_SID,
      g_param_spec_string ("track-sid", "Track sid", "Sid of the track", NULL,
          G_PARAM_READABLE | G_PARAM_STATIC_STRINGS));
  /**
   * GstHqRoomSrcPad:priority:
   *
   * The priority its publisher gave the track (low, standard, high);
   * notified when the publisher changes it.
   */
  g_object_class_install_property (gobject_class, PAD_PROP_PRIORITY,
      g_param_spec_enum ("priority", "Priority",
          "The track's priority in the room", GST_TYPE_HQ_ROOM_TRACK_PRIORITY,
          GST_HQ_ROOM_TRACK_PRIORITY_STANDARD,
          G_PARAM_READABLE | G_PARAM_STATIC_STRINGS));
  /**
   * GstHqRoomSrcPad:stats:
   *
   * The track's reception statistics, read when asked: rtpbin's RTP
   * figures (packets, loss, jitter, bitrate, NACKs) and the server's
   * network quality figures for us and for the publisher
   * (docs/hqroomsrc.md, "Statistics").
   */
  g_object_class_install_property (gobject_class, PAD_PROP_STATS,
      g_param_spec_boxed ("stats", "Statistics",
          "Reception statistics of the track", GST_TYPE_STRUCTURE,
          G_PARAM_READABLE | G_PARAM_STATIC_STRINGS));
}

static void
gst_hq_room_src_pad_init (GstHqRoomSrcPad *pad)
{
  pad->priority = GST_HQ_ROOM_TRACK_PRIORITY_STANDARD;
}

/* Sets @pad's priority from the protocol's name (NULL: standard) and
 * notifies when it changed. */
void
gst_hq_room_src_pad_set_priority (GstHqRoomSrcPad *pad, const gchar *name)
{
  GstHqRoomTrackPriority priority = gst_hq_room_track_priority_from_name (name);
  gboolean changed;

  GST_OBJECT_LOCK (pad);
  changed = pad->priority != priority;
  pad->priority = priority;
  GST_OBJECT_UNLOCK (pad);
  if (changed)
    g_object_notify (G_OBJECT (pad), "priority");
}

void
gst_hq_room_src_pad_set_track (GstHqRoomSrcPad *pad, const HqRoomRemoteTrack *t)
{
  gst_hq_room_src_pad_set_priority (pad, t->priority);
  GST_OBJECT_LOCK (pad);
  g_free (pad->identity);
  pad->identity = g_strdup (t->identity);
  g_free (pad->participant_sid);
  pad->participant_sid = g_strdup (t->participant_sid);
  g_free (pad->track_name);
  pad->track_name = g_strdup (t->name);
  g_free (pad->track_sid);
  pad->track_sid = g_strdup (t->track_sid);
  pad->ssrc = t->ssrc;
  pad->video = t->kind == HQ_SDP_KIND_VIDEO;
  GST_OBJECT_UNLOCK (pad);
}

gboolean
gst_hq_room_src_pad_has_track (GstHqRoomSrcPad *pad, const gchar *track_sid)
{
  gboolean same;

  GST_OBJECT_LOCK (pad);
  same = track_sid && g_strcmp0 (pad->track_sid, track_sid) == 0;
  GST_OBJECT_UNLOCK (pad);
  return same;
}

/* End to end: what the stream's hqframedecrypt decrypted and dropped. */
static void
add_e2ee_stats (GstHqRoomSrcPad *pad, GstStructure *s)
{
  g_autoptr (GstPad) target = gst_ghost_pad_get_target (GST_GHOST_PAD (pad));
  g_autoptr (GstObject) chain = target ? gst_pad_get_parent (target) : NULL;
  g_autoptr (GstElement) crypt = chain && GST_IS_BIN (chain)
      ? gst_bin_get_by_name (GST_BIN (chain), "crypt")
      : NULL;
  guint64 frames, dropped;

  if (crypt == NULL)
    return;
  g_object_get (crypt, "frames", &frames, "frames-dropped", &dropped, NULL);
  gst_structure_set (s, "e2ee-frames", G_TYPE_UINT64, frames,
      "e2ee-frames-dropped", G_TYPE_UINT64, dropped, NULL);
}

/* The pad's stats property (gsthqroomsrcstats.c). */
static GstStructure *
gst_hq_room_src_pad_get_stats (GstHqRoomSrcPad *pad)
{
  GstElement *parent = gst_pad_get_parent_element (GST_PAD (pad));
  GstHqRoomSrc *self =
      parent && GST_IS_HQ_ROOM_SRC (parent) ? GST_HQ_ROOM_SRC (parent) : NULL;
  g_autofree gchar *publisher = NULL;
  GstStructure *s;
  guint ssrc;
  gboolean video;

  GST_OBJECT_LOCK (pad);
  ssrc = pad->ssrc;
  video = pad->video;
  publisher = g_strdup (pad->participant_sid);
  GST_OBJECT_UNLOCK (pad);
  s = gst_hq_room_src_stats_new (
      self ? gst_hq_room_bin_get_rtpbin (GST_HQ_ROOM_BIN (self)) : NULL, ssrc,
      video, self ? gst_hq_room_src_get_netq (self) : NULL, publisher);
  g_clear_object (&parent);
  add_e2ee_stats (pad, s);
  return s;
}

static GstPadProbeReturn
tag_probe (GstPad *pad, GstPadProbeInfo *info, gpointer user_data)
{
  GstHqRoomSrcPad *spad = GST_HQ_ROOM_SRC_PAD (pad);
  GstTagList *tags;

  GST_OBJECT_LOCK (spad);
  tags = gst_tag_list_new (HQ_TAG_PARTICIPANT,
      spad->identity ? spad->identity : "", GST_TAG_TITLE,
      spad->track_name ? spad->track_name : "", NULL);
  GST_OBJECT_UNLOCK (spad);
  gst_tag_list_set_scope (tags, GST_TAG_SCOPE_STREAM);
  gst_pad_push_event (pad, gst_event_new_tag (tags));
  return GST_PAD_PROBE_REMOVE;
}

GstHqRoomSrcPad *
gst_hq_room_src_pad_new (
    const gchar *name, GstPadTemplate *templ, const HqRoomRemoteTrack *track)
{
  GstHqRoomSrcPad *pad = g_object_new (GST_TYPE_HQ_ROOM_SRC_PAD, "name", name,
      "direction", GST_PAD_SRC, "template", templ, NULL);

  gst_object_ref_sink (pad);
  gst_hq_room_src_pad_set_track (pad, track);
  gst_pad_set_active (GST_PAD (pad), TRUE);
  gst_pad_add_probe (
      GST_PAD (pad), GST_PAD_PROBE_TYPE_BUFFER, tag_probe, NULL, NULL);
  return pad;
}
