/* The enums of the room elements' properties, in one place: their
 * types, and the track priority's protocol names. */
#ifndef __GST_HQ_ROOM_ENUMS_H__
#define __GST_HQ_ROOM_ENUMS_H__

#include <glib-object.h>

G_BEGIN_DECLS

/**
 * GstHqRoomTrackPriority:
 * @GST_HQ_ROOM_TRACK_PRIORITY_LOW: "low"
 * @GST_HQ_ROOM_TRACK_PRIORITY_STANDARD: "standard"
 * @GST_HQ_ROOM_TRACK_PRIORITY_HIGH: "high"
 *
 * A track's priority (docs/protocol.md, Track priority); the nicks are the
 * protocol's names, the values the 0..2 the sink's pad property took as
 * an int before.
 */
typedef enum
{
  GST_HQ_ROOM_TRACK_PRIORITY_LOW,
  GST_HQ_ROOM_TRACK_PRIORITY_STANDARD,
  GST_HQ_ROOM_TRACK_PRIORITY_HIGH,
} GstHqRoomTrackPriority;

#define GST_TYPE_HQ_ROOM_TRACK_PRIORITY (gst_hq_room_track_priority_get_type ())
GType gst_hq_room_track_priority_get_type (void);
/* The protocol's name of @priority ("low", "standard", "high"). */
const gchar *gst_hq_room_track_priority_name (GstHqRoomTrackPriority priority);
/* The priority the protocol's @name stands for (NULL, unknown: standard). */
GstHqRoomTrackPriority gst_hq_room_track_priority_from_name (const gchar *name);

/**
 * GstHqRoomIceTransportPolicy:
 * @GST_HQ_ROOM_ICE_TRANSPORT_POLICY_ALL: "all": every kind of candidate
 * @GST_HQ_ROOM_ICE_TRANSPORT_POLICY_RELAY: "relay": relayed candidates
 *   only, through the TURN servers the join reply names
 *
 * WebRTC's iceTransportPolicy for the element's transports.
 */
typedef enum
{
  GST_HQ_ROOM_ICE_TRANSPORT_POLICY_ALL,
  GST_HQ_ROOM_ICE_TRANSPORT_POLICY_RELAY,
} GstHqRoomIceTransportPolicy;

#define GST_TYPE_HQ_ROOM_ICE_TRANSPORT_POLICY                                  \
  (gst_hq_room_ice_transport_policy_get_type ())
GType gst_hq_room_ice_transport_policy_get_type (void);

/**
 * GstHqRoomKinds:
 * @GST_HQ_ROOM_KINDS_BOTH: audio and video tracks
 * @GST_HQ_ROOM_KINDS_AUDIO: audio tracks only
 * @GST_HQ_ROOM_KINDS_VIDEO: video tracks only
 */
typedef enum
{
  GST_HQ_ROOM_KINDS_BOTH,
  GST_HQ_ROOM_KINDS_AUDIO,
  GST_HQ_ROOM_KINDS_VIDEO,
} GstHqRoomKinds;

#define GST_TYPE_HQ_ROOM_KINDS (gst_hq_room_kinds_get_type ())
GType gst_hq_room_kinds_get_type (void);

/**
 * GstHqRoomVideoCodec:
 * @GST_HQ_ROOM_VIDEO_CODEC_VP8: VP8 (vp8enc, realtime)
 * @GST_HQ_ROOM_VIDEO_CODEC_H264: H.264 constrained baseline (x264enc,
 *   zerolatency)
 *
 * What raw video is encoded to.
 */
typedef enum
{
  GST_HQ_ROOM_VIDEO_CODEC_VP8,
  GST_HQ_ROOM_VIDEO_CODEC_H264,
} GstHqRoomVideoCodec;

#define GST_TYPE_HQ_ROOM_VIDEO_CODEC (gst_hq_room_video_codec_get_type ())
GType gst_hq_room_video_codec_get_type (void);

/**
 * GstHqRoomCongestionControl:
 * @GST_HQ_ROOM_CONGESTION_CONTROL_OFF: "off": the video bitrate stays at
 *   start-bitrate
 * @GST_HQ_ROOM_CONGESTION_CONTROL_ON: "on": the video bitrate follows the
 *   server's REMB estimate, within min-bitrate..max-bitrate
 */
typedef enum
{
  GST_HQ_ROOM_CONGESTION_CONTROL_OFF,
  GST_HQ_ROOM_CONGESTION_CONTROL_ON,
} GstHqRoomCongestionControl;

#define GST_TYPE_HQ_ROOM_CONGESTION_CONTROL                                    \
  (gst_hq_room_congestion_control_get_type ())
GType gst_hq_room_congestion_control_get_type (void);

G_END_DECLS

#endif /* __GST_HQ_ROOM_ENUMS_H__ */
