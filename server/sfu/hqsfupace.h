/* Pacing what goes to a subscriber (hqsfupace.c; docs/sfu.md, "Pacing"). */
#ifndef __HQSFUPACE_H__
#define __HQSFUPACE_H__

#include "hqsfustate.h"

G_BEGIN_DECLS

/* Sends (or queues, to send when @p's pacing allows) the RTP packet of
 * @len bytes at @data to @p's subscriber; @data has room for
 * protection.  @twcc_at: offset of the transport-wide extension block,
 * written when the packet leaves (0: none).  Audio leaves at once;
 * retransmissions go ahead of queued media.  FALSE when neither sent nor
 * queued. */
gboolean hq_sfu_pace_send (HqSfuParticipant *p, guint8 *data, gsize len,
    gsize twcc_at, gboolean audio, gboolean retransmission, gint64 now);
/* Whether packets wait in @p's queue (padding must not go first). */
gboolean hq_sfu_pace_busy (HqSfuParticipant *p);
/* @len bytes sent to @p outside the queue (probe padding): taken from
 * its bucket. */
void hq_sfu_pace_charge (HqSfuParticipant *p, gsize len, gint64 now);
/* Packets @p's pacer queued, and dropped when its queue was full. */
void hq_sfu_pace_counts (
    HqSfuParticipant *p, guint64 *queued, guint64 *dropped);
/* Drops what waits and frees @p's pacer (a log line says how many
 * packets it queued and dropped, when it queued any). */
void hq_sfu_pace_clear (HqSfuParticipant *p);

G_END_DECLS

#endif /* __HQSFUPACE_H__ */
