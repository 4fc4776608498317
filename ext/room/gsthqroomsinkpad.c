/* hqroomsink's request pads; see gsthqroomsinkpad.h.  The pad's name and
 * priority are under its object lock; what the element builds behind it
 * under the element's. */
#include "gsthqroomsinkpad.h"

enum
{
  PAD_PROP_0,
  PAD_PROP_TRACK_NAME,
  PAD_PROP_PRIORITY,
};

G_DEFINE_TYPE (GstHqRoomSinkPad, gst_hq_room_sink_pad, GST_TYPE_GHOST_PAD);

static void
gst_hq_room_sink_pad_set_property (
    GObject *object, guint prop_id, const GValue *value, GParamSpec *pspec)
{
  GstHqRoomSinkPad *pad = GST_HQ_ROOM_SINK_PAD (object);
  GstObject *parent;

  GST_OBJECT_LOCK (pad);
  switch (prop_id) {
    case PAD_PROP_TRACK_NAME:
      g_free (pad->track_name);
      pad->track_name = g_value_dup_string (value);
      break;
    case PAD_PROP_PRIORITY:
      pad->priority = g_value_get_enum (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (pad);
  /* While publishing, the room hears of a new priority at once. */
  parent = gst_object_get_parent (GST_OBJECT (pad));
  if (prop_id == PAD_PROP_PRIORITY && GST_IS_HQ_ROOM_SINK (parent))
    gst_hq_room_sink_update_tracks (GST_HQ_ROOM_SINK (parent));
  g_clear_pointer (&parent, gst_object_unref);
}

static void
gst_hq_room_sink_pad_get_property (
    GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  GstHqRoomSinkPad *pad = GST_HQ_ROOM_SINK_PAD (object);

  GST_OBJECT_LOCK (pad);
  switch (prop_id) {
    case PAD_PROP_TRACK_NAME:
      g_value_set_string (value, pad->track_name);
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
gst_hq_room_sink_pad_finalize (GObject *object)
{
  GstHqRoomSinkPad *pad = GST_HQ_ROOM_SINK_PAD (object);

  g_free (pad->track_name);
  g_free (pad->mid);
  g_clear_pointer (&pad->layer_states, g_array_unref);
  G_OBJECT_CLASS (gst_hq_room_sink_pad_parent_class)->finalize (object);
}

static void
gst_hq_room_sink_pad_class_init (GstHqRoomSinkPadClass *klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);

  gobject_class->set_property = gst_hq_room_sink_pad_set_property;
  gobject_class->get_property = gst_hq_room_sink_pad_get_property;
  gobject_class->finalize = gst_hq_room_sink_pad_finalize;

  /**
   * GstHqRoomSinkPad:track-name:
   *
   * The name the track is published under (unique per participant;
   * default: the pad's name).  Set it before the element joins.
   */
  g_object_class_install_property (gobject_class, PAD_PROP_TRACK_NAME,
      g_param_spec_string ("track-name", "Track name",
          "Name the track is published under (default: the pad name)", NULL,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS));
  /**
   * GstHqRoomSinkPad:priority:
   *
   * The track's priority (low, standard, high; as numbers 0, 1, 2, which
   * the property took before it was an enum).  When a subscriber cannot
   * take every video track at full rate, the server shares its bandwidth
   * by priority (high 4 : standard 2 : low 1).  Sent with the track, and
   * again whenever it changes.
   */
  g_object_class_install_property (gobject_class, PAD_PROP_PRIORITY,
      g_param_spec_enum ("priority", "Priority",
          "Track priority: how the server shares a subscriber's bandwidth",
          GST_TYPE_HQ_ROOM_TRACK_PRIORITY, GST_HQ_ROOM_TRACK_PRIORITY_STANDARD,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS
              | GST_PARAM_MUTABLE_PLAYING));
}

static void
gst_hq_room_sink_pad_init (GstHqRoomSinkPad *pad)
{
  pad->priority = GST_HQ_ROOM_TRACK_PRIORITY_STANDARD;
}

/* Before the chain exists, answer from the template. */
static gboolean
sink_pad_query (GstPad *gpad, GstObject *parent, GstQuery *query)
{
  GstHqRoomSinkPad *pad = GST_HQ_ROOM_SINK_PAD (gpad);

  /* Before the chain exists, answer from the template, raw I420 first so
   * that raw sources pick what the encoders take without converting. */
  if (pad->chain == NULL && GST_QUERY_TYPE (query) == GST_QUERY_CAPS) {
    GstCaps *filter, *templ = gst_pad_get_pad_template_caps (gpad), *res;
    gst_query_parse_caps (query, &filter);
    res = filter
        ? gst_caps_intersect_full (filter, templ, GST_CAPS_INTERSECT_FIRST)
        : gst_caps_ref (templ);
    gst_query_set_caps_result (query, res);
    gst_caps_unref (res);
    gst_caps_unref (templ);
    return TRUE;
  }
  if (pad->chain == NULL && GST_QUERY_TYPE (query) == GST_QUERY_ACCEPT_CAPS) {
    GstCaps *caps, *templ = gst_pad_get_pad_template_caps (gpad);
    gst_query_parse_accept_caps (query, &caps);
    gst_query_set_accept_caps_result (
        query, gst_caps_can_intersect (caps, templ));
    gst_caps_unref (templ);
    return TRUE;
  }
  return gst_pad_query_default (gpad, parent, query);
}

GstHqRoomSinkPad *
gst_hq_room_sink_pad_new (const gchar *name, GstPadTemplate *templ,
    HqSdpKind kind, guint session, GstPadEventFunction event)
{
  GstHqRoomSinkPad *pad = g_object_new (GST_TYPE_HQ_ROOM_SINK_PAD, "name", name,
      "direction", GST_PAD_SINK, "template", templ, NULL);

  pad->kind = kind;
  /* Short and plain: the MID header extension carries at most 16 bytes
   * (one-byte form), and GStreamer's writes only letters and digits. */
  pad->mid = g_strdup_printf (
      "%c%08x", kind == HQ_SDP_KIND_AUDIO ? 'a' : 'v', g_random_int ());
  pad->streams[0].session = session;
  /* the layers' too: the track is offered with them before its first caps
   * (gst_hq_room_sink_layers_plan) */
  for (guint i = 0; i < GST_HQ_ROOM_SINK_MAX_STREAMS; i++)
    pad->streams[i].ssrc = g_random_int () | 1;
  gst_pad_set_event_function (GST_PAD (pad), event);
  gst_pad_set_query_function (GST_PAD (pad), sink_pad_query);
  return pad;
}
