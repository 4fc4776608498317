/* Request rates per client address: token buckets keyed by IP address.
 *
 * A bucket holds up to `per_minute` requests and refills at that rate, so
 * a client may burst up to a minute's allowance and then goes at the
 * steady rate.  Buckets that have refilled completely carry no state and
 * are dropped now and then, so a flood from many addresses costs memory
 * only while it lasts.  Main context only. */
#ifndef __HQ_RATE_LIMIT_H__
#define __HQ_RATE_LIMIT_H__

#include "hqconfig.h"

G_BEGIN_DECLS

typedef struct _HqRateLimit HqRateLimit;

/* @per_minute 0: no limit. */
HqRateLimit *hq_rate_limit_new (guint per_minute);
void hq_rate_limit_free (HqRateLimit *limit);

/* Takes one request from @key's bucket.  FALSE when it is empty; then
 * *retry_after says in how many seconds (at least 1) one is back. */
gboolean hq_rate_limit_take (
    HqRateLimit *limit, const gchar *key, guint *retry_after);
guint hq_rate_limit_per_minute (HqRateLimit *limit);

/* The server's limits, as the [limits] section configures them. */
typedef struct
{
  HqRateLimit *token; /* POST /token */
  HqRateLimit *join; /* signalling `join` */
  HqRateLimit *room_create; /* rooms POST /token creates */
} HqRateLimits;

HqRateLimits *hq_rate_limits_new (const HqConfig *config);
void hq_rate_limits_free (HqRateLimits *limits);

G_END_DECLS

#endif /* __HQ_RATE_LIMIT_H__ */
