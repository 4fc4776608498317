/* hqroomsink: publish audio and video into an hq-server room; see
 * gsthqroomsink.c for the element's documentation. */
#ifndef __GST_HQ_ROOM_SINK_H__
#define __GST_HQ_ROOM_SINK_H__

#include <gst/gst.h>

G_BEGIN_DECLS

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

#define GST_TYPE_HQ_ROOM_SINK_PAD (gst_hq_room_sink_pad_get_type ())
G_DECLARE_FINAL_TYPE (
    GstHqRoomSinkPad, gst_hq_room_sink_pad, GST, HQ_ROOM_SINK_PAD, GstGhostPad);

#define GST_TYPE_HQ_ROOM_SINK (gst_hq_room_sink_get_type ())
G_DECLARE_FINAL_TYPE (
    GstHqRoomSink, gst_hq_room_sink, GST, HQ_ROOM_SINK, GstBin);

GST_ELEMENT_REGISTER_DECLARE (hqroomsink);

G_END_DECLS

#endif /* __GST_HQ_ROOM_SINK_H__ */
