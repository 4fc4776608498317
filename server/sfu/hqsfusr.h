/* Our sender reports to subscribers (hqsfusr.c). */
#ifndef __HQSFUSR_H__
#define __HQSFUSR_H__

#include "hqsfustate.h"

G_BEGIN_DECLS

/* Our SR for @sub alone, at once, when its subscriber's mapping of RTP
 * to NTP time is new or changed. */
void hq_sfu_send_sender_report_now (HqSfuSub *sub, gint64 now);
/* The same for every subscription to any of @publisher's tracks. */
void hq_sfu_send_publisher_mapping (HqSfuParticipant *publisher, gint64 now);
/* Once a second: our SR for each subscription @p receives. */
void hq_sfu_send_sender_reports (HqSfuParticipant *p, gint64 now);

G_END_DECLS

#endif /* __HQSFUSR_H__ */
