/* Simulcast layers on the packet path (hqsfulayers.c; docs/sfu.md,
 * "Layer selection"): below forwarding, above sender reports. */
#ifndef __HQSFULAYERS_H__
#define __HQSFULAYERS_H__

#include "hqsfustate.h"

G_BEGIN_DECLS

/* A packet of an SSRC @p has not seen: the layer (or, for a repaired-RID,
 * the layer whose RTX it is) its MID and RID extensions name, with the
 * SSRC learnt; NULL when it names none. */
HqSfuTrack *hq_sfu_layer_learn (
    HqSfuParticipant *p, const guint8 *data, const HqRtpHeader *hdr);

typedef enum
{
  HQ_SFU_LAYER_SKIP,
  HQ_SFU_LAYER_FORWARD,
  HQ_SFU_LAYER_WANTS_KEYFRAME,
} HqSfuLayerVerdict;

/* What becomes of a packet of @layer for @sub: not its layer (SKIP), its
 * layer, or the one it switches to at this keyframe (switched here:
 * FORWARD), or the one it waits to switch to and this is no keyframe. */
HqSfuLayerVerdict hq_sfu_layer_takes (HqSfuSub *sub, HqSfuTrack *layer,
    const HqRtpHeader *hdr, gboolean keyframe, gint64 now);
/* @want[i] (HQ_SFU_MAX_LAYERS of them): some subscription of @track
 * forwards layer i or waits for it. */
void hq_sfu_layers_wanted (const HqSfuTrack *track, gboolean *want);
/* Forwarding to @sub starts or resumes: track_switched_on if it was off. */
void hq_sfu_sub_forwarding (HqSfuSub *sub);
/* track_switched_off (with @sub's reason) or, @off FALSE, _on. */
void hq_sfu_sub_switch_event (HqSfuSub *sub, gboolean off);

G_END_DECLS

#endif /* __HQSFULAYERS_H__ */
