/* hqroomsrc: receive the tracks of an hq-server room; see gsthqroomsrc.c
 * for the element's documentation. */
#ifndef __GST_HQ_ROOM_SRC_H__
#define __GST_HQ_ROOM_SRC_H__

#include "gsthqroombin.h"

G_BEGIN_DECLS

#define GST_TYPE_HQ_ROOM_SRC_PAD (gst_hq_room_src_pad_get_type ())
G_DECLARE_FINAL_TYPE (
    GstHqRoomSrcPad, gst_hq_room_src_pad, GST, HQ_ROOM_SRC_PAD, GstGhostPad);

#define GST_TYPE_HQ_ROOM_SRC (gst_hq_room_src_get_type ())
G_DECLARE_FINAL_TYPE (
    GstHqRoomSrc, gst_hq_room_src, GST, HQ_ROOM_SRC, GstHqRoomBin);

GST_ELEMENT_REGISTER_DECLARE (hqroomsrc);

G_END_DECLS

#endif /* __GST_HQ_ROOM_SRC_H__ */
