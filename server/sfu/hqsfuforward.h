/* Forwarding, track and subscription records, keyframe requests and the
 * publisher's RTCP (hqsfuforward.c). */
#ifndef __HQSFUFORWARD_H__
#define __HQSFUFORWARD_H__

#include "hqsfustate.h"

G_BEGIN_DECLS

HqSfuTrack *hq_sfu_track_new (HqSfuParticipant *publisher, const gchar *sid,
    const gchar *name, HqSdpKind kind);
void hq_sfu_track_free (HqSfuTrack *track);
/* Frees a simulcast track's layers (hqsfustate.h). */
void hq_sfu_track_free_layers (HqSfuTrack *track);
HqSfuSub *hq_sfu_sub_new (HqSfuTrack *track, HqSfuParticipant *subscriber);
void hq_sfu_sub_free (HqSfuSub *sub);
/* Asks @track's publisher for a keyframe (PLI), rate-limited. */
void hq_sfu_request_keyframe (HqSfuTrack *track);
/* The one place a packet goes to a subscriber: @data (parsed into @hdr)
 * is rewritten for @sub (SSRC, payload type, sequence number, timestamp,
 * no header extensions), protected and sent.  @retransmission: an answer
 * to a NACK, which neither starts nor re-bases the subscription. */
void hq_sfu_forward (HqSfuSub *sub, const guint8 *data, const HqRtpHeader *hdr,
    gboolean keyframe, gboolean retransmission);
/* The receive function of a participant's publish transport. */
void hq_sfu_on_publish_packet (
    gboolean rtcp, guint8 *data, gsize len, gpointer user_data);
/* The track's publisher said BYE or went silent: stop forwarding it. */
void hq_sfu_track_gone (HqSfuTrack *track, const gchar *why);
/* Once a second: @p's enabled tracks silent past their timeout are gone. */
void hq_sfu_check_timeouts (HqSfuParticipant *p, gint64 now);

G_END_DECLS

#endif /* __HQSFUFORWARD_H__ */
