/* Arrival times of a subscriber's RTP packets for rtpbin's jitter buffers,
 * steady from each stream's first packet (docs/hqroomsrc.md, "Lip sync
 * from the first frame"). */
#pragma once

#include <gst/gst.h>

G_BEGIN_DECLS

typedef struct _HqArrival HqArrival;

HqArrival *hq_arrival_new (GstClockTime hold, GstDebugCategory *cat);
void hq_arrival_free (HqArrival *self);

void hq_arrival_add (HqArrival *self, guint32 ssrc, guint32 rtptime,
    guint clock_rate, GstClockTime now, GstClockTime late, GstBuffer *buf,
    GQueue *ready);

void hq_arrival_forget_others (HqArrival *self, GHashTable *keep);

void hq_arrival_clear (HqArrival *self);

G_END_DECLS
