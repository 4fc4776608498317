/* hqroomsink's request pad (GstHqRoomSinkPad, declared in
 * gsthqroomsink.h): one published track, its name and priority as
 * properties, and the chain behind it that the element builds at the
 * first caps.  Private to the element. */
#ifndef __GST_HQ_ROOM_SINK_PAD_H__
#define __GST_HQ_ROOM_SINK_PAD_H__

#include <hq/hqcodec.h>
#include "gsthqroomsink.h"

G_BEGIN_DECLS

struct _GstHqRoomSinkPad
{
  GstGhostPad parent;
  gchar *track_name;
  GstHqRoomTrackPriority priority;

  /* set at creation */
  HqSdpKind kind;
  guint session;
  guint32 ssrc;
  /* made at the first caps, under the stream lock */
  GstElement *chain;
  GstElement *encoder; /* in chain, or NULL when input is encoded */
  const HqCodec *codec; /* what it sends */
  GstElement *rtp_out, *rtcp_out, *rtcp_in;
};

/* A new pad of @templ named @name for a track of @kind in rtpbin session
 * @session, with a random SSRC; @event handles its events (the element
 * builds the chain at the first caps).  Floating. */
GstHqRoomSinkPad *gst_hq_room_sink_pad_new (const gchar *name,
    GstPadTemplate *templ, HqSdpKind kind, guint session,
    GstPadEventFunction event);

/* Tells the room what @self publishes now (its client's thread; any
 * thread may call it). */
void gst_hq_room_sink_update_tracks (GstHqRoomSink *self);

G_END_DECLS

#endif /* __GST_HQ_ROOM_SINK_PAD_H__ */
