/* hqroomsink: publish audio and video into an hq-server room; see
 * gsthqroomsink.c for the element's documentation. */
#ifndef __GST_HQ_ROOM_SINK_H__
#define __GST_HQ_ROOM_SINK_H__

#include "gsthqroombin.h"

G_BEGIN_DECLS

#define GST_TYPE_HQ_ROOM_SINK_PAD (gst_hq_room_sink_pad_get_type ())
G_DECLARE_FINAL_TYPE (
    GstHqRoomSinkPad, gst_hq_room_sink_pad, GST, HQ_ROOM_SINK_PAD, GstGhostPad);

#define GST_TYPE_HQ_ROOM_SINK (gst_hq_room_sink_get_type ())
G_DECLARE_FINAL_TYPE (
    GstHqRoomSink, gst_hq_room_sink, GST, HQ_ROOM_SINK, GstHqRoomBin);

GST_ELEMENT_REGISTER_DECLARE (hqroomsink);

G_END_DECLS

#endif /* __GST_HQ_ROOM_SINK_H__ */
