/* hqroomsrc's source pad (GstHqRoomSrcPad, declared in gsthqroomsrc.h):
 * one remote track, with the track's participant, name, sid and priority
 * as read-only properties, its reception statistics, and the stream tags
 * that label it downstream. */
#ifndef __GST_HQ_ROOM_SRC_PAD_H__
#define __GST_HQ_ROOM_SRC_PAD_H__

#include "gsthqroomsrc.h"
#include "gsthqroomsrcstats.h"

G_BEGIN_DECLS

/* A new pad of @templ for @track, active, floating reference sunk (the
 * caller's); its first buffer goes out behind the track's tags. */
GstHqRoomSrcPad *gst_hq_room_src_pad_new (
    const gchar *name, GstPadTemplate *templ, const HqRoomRemoteTrack *track);
/* What the pad says about its track, from @track; notifies a changed
 * priority. */
void gst_hq_room_src_pad_set_track (
    GstHqRoomSrcPad *pad, const HqRoomRemoteTrack *track);
/* Sets the priority from the protocol's name (NULL: standard) and
 * notifies when it changed. */
void gst_hq_room_src_pad_set_priority (GstHqRoomSrcPad *pad, const gchar *name);
/* TRUE when the pad carries the track @track_sid. */
gboolean gst_hq_room_src_pad_has_track (
    GstHqRoomSrcPad *pad, const gchar *track_sid);

/* The element's network quality figures, for its pads' stats. */
GstHqRoomNetqCache *gst_hq_room_src_get_netq (GstHqRoomSrc *self);

G_END_DECLS

#endif /* __GST_HQ_ROOM_SRC_PAD_H__ */
