/* Transport-wide congestion control on both legs (hqsfutwcc.c). */
#ifndef __HQSFUTWCC_H__
#define __HQSFUTWCC_H__

#include "hqsfustate.h"

G_BEGIN_DECLS

/* The transport-wide sequence number extension's id in @sdp when some
 * m-line maps it (one-byte ids only) and a codec there has the
 * transport-cc feedback; 0 when the leg does not use it. */
guint hq_sfu_twcc_ext_id (const HqSdp *sdp);
/* A packet from @p's publisher with its transport-wide sequence number:
 * noted, and feedback sent when HQ_SFU_TWCC_FEEDBACK_US passed. */
void hq_sfu_twcc_on_publish_packet (HqSfuParticipant *p, const guint8 *data,
    const HqRtpHeader *hdr, gint64 now);
/* Writes at @out the extension block numbering a packet of @len bytes
 * (with the block) to @p's subscribe leg; returns its size, 0 when the
 * leg does not use transport-wide numbers. */
gsize hq_sfu_twcc_stamp (
    HqSfuParticipant *p, guint8 *out, gsize len, gint64 now);
/* Writes at @out a padding-only packet of probe cluster @cluster for
 * @p's subscribe leg, with @padding octets (hq_rtp_write_padding_packet():
 * the caller sets the header) and its transport-wide number; returns its
 * size, 0 when the leg does not use transport-wide numbers. */
gsize hq_sfu_twcc_write_probe (HqSfuParticipant *p, guint8 *out, guint padding,
    guint8 cluster, gint64 now);
/* Transport-wide feedback from @p's subscribe leg. */
void hq_sfu_twcc_on_feedback (HqSfuParticipant *p, const HqRtcpPacket *pkt);
/* What @p's subscribe leg can take by its feedback, in bits per second;
 * negative when no feedback came in the last HQ_SFU_REMB_VALID_US. */
gdouble hq_sfu_twcc_estimate (HqSfuParticipant *p, gint64 now);
/* Whether @p's subscribe leg shows congestion now: its transport-wide
 * estimator saw overuse or loss in the last second, or its receiver
 * reports said HQ_SFU_CONGESTION_LOSS or more of its video was lost
 * within HQ_SFU_CONGESTION_HOLD_US. */
gboolean hq_sfu_twcc_congested (HqSfuParticipant *p, gint64 now);
/* Frees @p's transport-wide state. */
void hq_sfu_twcc_clear (HqSfuParticipant *p);

G_END_DECLS

#endif /* __HQSFUTWCC_H__ */
