/* Network quality (hqsfuquality.c). */
#ifndef __HQSFUQUALITY_H__
#define __HQSFUQUALITY_H__

#include "hqsfustate.h"

G_BEGIN_DECLS

/* Moves @p from the /metrics count of its last network quality level to
 * @level's (-1: out of the count). */
void hq_sfu_participant_set_metrics_level (HqSfuParticipant *p, gint level);
/* Scores @p for this interval and keeps its full report. */
void hq_sfu_score_participant (HqSfuParticipant *p, gint64 now);
/* Sends everyone in @media its network_quality, once all are scored. */
void hq_sfu_quality_send (HqSfuRoomMedia *media);

G_END_DECLS

#endif /* __HQSFUQUALITY_H__ */
