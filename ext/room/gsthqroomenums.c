/* The room elements' enum types; see gsthqroomenums.h. */
#include "gsthqroomenums.h"

#include <hq/hqprotocol.h>

static GType
enum_type (GType *once, const gchar *name, const GEnumValue *values)
{
  if (g_once_init_enter (once))
    g_once_init_leave (once, g_enum_register_static (name, values));
  return *once;
}

/* The nicks are the protocol's names (HqPriority, same order), set when
 * the type is registered. */
G_STATIC_ASSERT ((gint)GST_HQ_ROOM_TRACK_PRIORITY_LOW == (gint)HQ_PRIORITY_LOW);
G_STATIC_ASSERT (
    (gint)GST_HQ_ROOM_TRACK_PRIORITY_STANDARD == (gint)HQ_PRIORITY_STANDARD);
G_STATIC_ASSERT (
    (gint)GST_HQ_ROOM_TRACK_PRIORITY_HIGH == (gint)HQ_PRIORITY_HIGH);

static GEnumValue track_priorities[] = {
  { GST_HQ_ROOM_TRACK_PRIORITY_LOW, "Low", NULL },
  { GST_HQ_ROOM_TRACK_PRIORITY_STANDARD, "Standard", NULL },
  { GST_HQ_ROOM_TRACK_PRIORITY_HIGH, "High", NULL },
  { 0, NULL, NULL },
};

GType
gst_hq_room_track_priority_get_type (void)
{
  static GType type;

  if (g_once_init_enter (&type)) {
    for (guint i = 0; track_priorities[i].value_name; i++)
      track_priorities[i].value_nick =
          hq_protocol_priority_name ((HqPriority)track_priorities[i].value);
    g_once_init_leave (&type,
        g_enum_register_static ("GstHqRoomTrackPriority", track_priorities));
  }
  return type;
}

const gchar *
gst_hq_room_track_priority_name (GstHqRoomTrackPriority priority)
{
  const gchar *name = hq_protocol_priority_name ((HqPriority)priority);

  return name ? name : hq_protocol_priority_name (HQ_PRIORITY_STANDARD);
}

GstHqRoomTrackPriority
gst_hq_room_track_priority_from_name (const gchar *name)
{
  HqPriority value;

  if (!hq_protocol_priority_from_name (name, &value))
    return GST_HQ_ROOM_TRACK_PRIORITY_STANDARD;
  return (GstHqRoomTrackPriority)value;
}

GType
gst_hq_room_ice_transport_policy_get_type (void)
{
  static GType type;
  static const GEnumValue values[] = {
    { GST_HQ_ROOM_ICE_TRANSPORT_POLICY_ALL, "Every kind of candidate", "all" },
    { GST_HQ_ROOM_ICE_TRANSPORT_POLICY_RELAY, "Relayed candidates only (TURN)",
        "relay" },
    { 0, NULL, NULL },
  };

  return enum_type (&type, "GstHqRoomIceTransportPolicy", values);
}

GType
gst_hq_room_kinds_get_type (void)
{
  static GType type;
  static const GEnumValue values[] = {
    { GST_HQ_ROOM_KINDS_BOTH, "Audio and video", "both" },
    { GST_HQ_ROOM_KINDS_AUDIO, "Audio only", "audio" },
    { GST_HQ_ROOM_KINDS_VIDEO, "Video only", "video" },
    { 0, NULL, NULL },
  };

  return enum_type (&type, "GstHqRoomKinds", values);
}

GType
gst_hq_room_video_codec_get_type (void)
{
  static GType type;
  static const GEnumValue values[] = {
    { GST_HQ_ROOM_VIDEO_CODEC_VP8, "VP8", "vp8" },
    { GST_HQ_ROOM_VIDEO_CODEC_H264, "H.264 constrained baseline", "h264" },
    { 0, NULL, NULL },
  };

  return enum_type (&type, "GstHqRoomVideoCodec", values);
}

GType
gst_hq_room_congestion_control_get_type (void)
{
  static GType type;
  static const GEnumValue values[] = {
    { GST_HQ_ROOM_CONGESTION_CONTROL_OFF,
        "Off: the video bitrate stays at start-bitrate", "off" },
    { GST_HQ_ROOM_CONGESTION_CONTROL_ON,
        "On: the video bitrate follows the server's REMB estimate", "on" },
    { 0, NULL, NULL },
  };

  return enum_type (&type, "GstHqRoomCongestionControl", values);
}
