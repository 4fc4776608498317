/* Bandwidth estimates and shares, REMB to publishers (hqsfubwe.c). */
#ifndef __HQSFUBWE_H__
#define __HQSFUBWE_H__

#include "hqsfustate.h"

G_BEGIN_DECLS

/* This second's bitrates of @p's tracks and subscriptions, and its
 * loss-based estimate. */
void hq_sfu_account_second (HqSfuParticipant *p, gint64 now);
/* Shares @p's estimate between its video subscriptions by priority. */
void hq_sfu_allocate_shares (HqSfuParticipant *p, gint64 now);
/* @p's estimate may have changed (its feedback came): when it fell well
 * under what the shares were made of, shares and layers are decided
 * again now, so a congested link goes down a layer at once. */
void hq_sfu_estimate_updated (HqSfuParticipant *p, gint64 now);
/* To @p's publish leg: receiver reports and the REMB for its video (after
 * every subscriber's shares are allocated). */
void hq_sfu_send_publisher_feedback (HqSfuParticipant *p, gint64 now);

G_END_DECLS

#endif /* __HQSFUBWE_H__ */
