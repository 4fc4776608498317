/* hqroomsrc's pad statistics: the `stats` property of its pads, from
 * rtpbin's RTP statistics and the server's network_quality figures.
 * docs/hqroomsrc.md lists the fields. */
#ifndef __GST_HQ_ROOM_SRC_STATS_H__
#define __GST_HQ_ROOM_SRC_STATS_H__

#include <gst/gst.h>
#include <hq/hqroomclient.h>

G_BEGIN_DECLS

/* The server's latest network_quality figures, by participant sid;
 * thread-safe. */
typedef struct _GstHqRoomNetqCache GstHqRoomNetqCache;

GstHqRoomNetqCache *gst_hq_room_netq_cache_new (void);
void gst_hq_room_netq_cache_free (GstHqRoomNetqCache *cache);
/* After a join (the client's context): remembers our own sid and asks the
 * server for detailed figures about everyone (verbosity 3). */
void gst_hq_room_netq_cache_joined (
    GstHqRoomNetqCache *cache, HqRoomClient *client);
/* Takes in a network_quality message. */
void gst_hq_room_netq_cache_update (GstHqRoomNetqCache *cache, JsonObject *msg);

/* The stats structure of the pad of @ssrc, published by @publisher_sid
 * (either may be 0/NULL: those fields are then unknown). */
GstStructure *gst_hq_room_src_stats_new (GstElement *rtpbin, guint ssrc,
    gboolean video, GstHqRoomNetqCache *cache, const gchar *publisher_sid);

G_END_DECLS

#endif /* __GST_HQ_ROOM_SRC_STATS_H__ */
