/* Probing a subscriber's link for room to go up a simulcast layer
 * (hqsfuprobe.c; docs/sfu.md, "Probing"). */
#ifndef __HQSFUPROBE_H__
#define __HQSFUPROBE_H__

#include "hqsfustate.h"

G_BEGIN_DECLS

/* Once a second, after the layers were chosen: starts probing @p's
 * subscribe leg when one of its simulcast subscriptions gets less than
 * its render size asks for and the estimate is short of what the next
 * layer needs (and the estimator allows it, and no backoff holds it). */
void hq_sfu_probe_second (HqSfuParticipant *p, gint64 now);
/* Stops probing @p and frees its state. */
void hq_sfu_probe_clear (HqSfuParticipant *p);

G_END_DECLS

#endif /* __HQSFUPROBE_H__ */
