/* hqroomsink's simulcast (simulcast=true): a raw video pad sends its
 * picture as three layers, each scaled, encoded and sent on its own:
 * 1/4, 1/2 and full size, RIDs q, h, f, lowest first as the publish
 * offer lists them (docs/hqroomsink.md, "Simulcast").  The layers' chain,
 * the sharing of the bitrate between them and pausing the layers nobody
 * receives (publish_layers from the server) live here; the element builds
 * each layer's encoder and payloader as it builds a single stream's. */
#ifndef __GST_HQ_ROOM_SINK_LAYERS_H__
#define __GST_HQ_ROOM_SINK_LAYERS_H__

#include <hq/hqroomclient.h>
#include "gsthqroomsinkpad.h"

G_BEGIN_DECLS

/* How many layers a simulcast pad sends. */
#define GST_HQ_ROOM_SINK_LAYERS 3

/* The description of one stream's part from @prefix on ("<prefix> enc
 * name=enc bitrate=... ! pay name=pay pt=... ssrc=@ssrc"), as the element
 * makes it for a single stream; NULL with @error. */
typedef gchar *(*GstHqRoomSinkPartFunc) (gpointer data, const gchar *prefix,
    guint bitrate, guint32 ssrc, GError **error);

/* The layers @pad offers (before its chain exists too): @layers gets
 * their RIDs and SSRCs, lowest first; returns how many. */
guint gst_hq_room_sink_layers_plan (
    GstHqRoomSinkPad *pad, HqRoomLocalLayer *layers);

/* The simulcast chain of @pad for raw video @caps: videoconvert ! tee,
 * and per layer a part (queue ! valve ! videoscale ! caps ! @make_part's
 * encoder and payloader) named "layer_<rid>" whose source is the chain's
 * ghost pad "src_<i>".  @streams (GST_HQ_ROOM_SINK_LAYERS of them, with
 * their SSRCs) get each layer's rid, part, encoder, valve and bitrate,
 * the bitrates shared out of @budget bit/s.  Floating; NULL with @error. */
GstElement *gst_hq_room_sink_layers_make_chain (const GstCaps *caps,
    guint budget, GstHqRoomSinkStream *streams, GstHqRoomSinkPartFunc make_part,
    gpointer data, GError **error);

/* Shares @budget bit/s out to the @n @streams that are not paused, in
 * proportion to their targets (never above a target); @rates gets each
 * stream's, 0 for a paused one. */
void gst_hq_room_sink_layers_share (
    const GstHqRoomSinkStream *streams, guint n, guint budget, guint *rates);

/* What a publish_layers changes: the valves and encoders of the layers
 * whose state it names, with their new state. */
typedef struct
{
  GPtrArray *valves, *encoders;
  GArray *active;
} GstHqRoomSinkLayerChanges;

void gst_hq_room_sink_layer_changes_init (GstHqRoomSinkLayerChanges *changes);
/* Marks the layers of @pad that @states (HqRoomLayerState) name paused or
 * not and adds them to @changes; under the element's lock. */
void gst_hq_room_sink_layer_changes_collect (
    GstHqRoomSinkPad *pad, GArray *states, GstHqRoomSinkLayerChanges *changes);
/* Stops or resumes each layer in @changes and frees @changes; not under
 * the element's lock.  A stopped layer's valve drops frames before they
 * are scaled and encoded; it resumes with a keyframe. */
void gst_hq_room_sink_layer_changes_apply (GstHqRoomSinkLayerChanges *changes);

G_END_DECLS

#endif /* __GST_HQ_ROOM_SINK_LAYERS_H__ */
