/* hqroomsink's request pad (GstHqRoomSinkPad, declared in
 * gsthqroomsink.h): one published track, its name and priority as
 * properties, and the chain behind it that the element builds at the
 * first caps.  Private to the element. */
#ifndef __GST_HQ_ROOM_SINK_PAD_H__
#define __GST_HQ_ROOM_SINK_PAD_H__

#include <hq/hqcodec.h>
#include "gsthqroomsink.h"

G_BEGIN_DECLS

/* At most this many RTP streams per pad: the simulcast layers. */
#define GST_HQ_ROOM_SINK_MAX_STREAMS 3

/* One RTP stream a pad sends: the track itself, or one of its simulcast
 * layers (gsthqroomsinklayers.c).  Each has its own SSRC and rtpbin
 * session, so a PLI for a layer reaches that layer's encoder only. */
typedef struct
{
  const gchar *rid; /* the layer's RID ("q", "h", "f"); NULL: no simulcast */
  guint session;
  guint32 ssrc;
  /* made with the chain, under the element's lock */
  GstElement *part; /* the bin with its [enc], [crypt] and pay (in chain) */
  GstElement *encoder; /* in part, or NULL when input is encoded */
  GstElement *valve; /* simulcast: closed while nobody receives it */
  GstElement *rtp_out, *rtcp_out, *rtcp_in;
  guint bitrate; /* simulcast: the layer's target, bit/s */
  gboolean paused; /* simulcast: the server said nobody receives it */
} GstHqRoomSinkStream;

struct _GstHqRoomSinkPad
{
  GstGhostPad parent;
  gchar *track_name;
  GstHqRoomTrackPriority priority;

  /* set at creation */
  HqSdpKind kind;
  gchar *mid; /* the m-line's mid, written in the MID header extension */
  /* streams[0].session and the SSRCs set at creation; the rest made at
   * the first caps, under the stream lock, and read under the element's
   * lock: n_streams stays 0 until then */
  GstHqRoomSinkStream streams[GST_HQ_ROOM_SINK_MAX_STREAMS];
  guint n_streams;
  GstElement *chain;
  const HqCodec *codec; /* what it sends */
  /* the server's latest publish_layers for the track (HqRoomLayerState),
   * or NULL; under the element's lock */
  GArray *layer_states;
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
