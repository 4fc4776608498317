/* Token buckets per client address; see hqratelimit.h. */
#include "hqratelimit.h"

/* Past this many buckets, full ones are dropped before adding another. */
#define HQ_RATE_LIMIT_PRUNE_AT 4096

typedef struct
{
  gdouble tokens;
  gint64 updated; /* monotonic, microseconds */
} Bucket;

struct _HqRateLimit
{
  guint per_minute;
  GHashTable *buckets; /* address -> Bucket, both owned */
};

HqRateLimit *
hq_rate_limit_new (guint per_minute)
{
  HqRateLimit *limit = g_new0 (HqRateLimit, 1);

  limit->per_minute = per_minute;
  limit->buckets =
      g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  return limit;
}

void
hq_rate_limit_free (HqRateLimit *limit)
{
  if (limit == NULL)
    return;
  g_hash_table_destroy (limit->buckets);
  g_free (limit);
}

guint
hq_rate_limit_per_minute (HqRateLimit *limit)
{
  return limit->per_minute;
}

/* Brings @b up to @now: per_minute tokens a minute, at most per_minute. */
static void
refill (HqRateLimit *limit, Bucket *b, gint64 now)
{
  gdouble minutes = (now - b->updated) / (60.0 * G_USEC_PER_SEC);

  b->tokens = MIN (limit->per_minute, b->tokens + minutes * limit->per_minute);
  b->updated = now;
}

static void
prune (HqRateLimit *limit, gint64 now)
{
  GHashTableIter iter;
  gpointer value;

  g_hash_table_iter_init (&iter, limit->buckets);
  while (g_hash_table_iter_next (&iter, NULL, &value)) {
    Bucket *b = value;
    refill (limit, b, now);
    if (b->tokens >= limit->per_minute)
      g_hash_table_iter_remove (&iter);
  }
}

gboolean
hq_rate_limit_take (HqRateLimit *limit, const gchar *key, guint *retry_after)
{
  gint64 now = g_get_monotonic_time ();
  Bucket *b;

  if (limit == NULL || limit->per_minute == 0)
    return TRUE;
  b = g_hash_table_lookup (limit->buckets, key);
  if (b == NULL) {
    if (g_hash_table_size (limit->buckets) >= HQ_RATE_LIMIT_PRUNE_AT)
      prune (limit, now);
    b = g_new (Bucket, 1);
    b->tokens = limit->per_minute;
    b->updated = now;
    g_hash_table_insert (limit->buckets, g_strdup (key), b);
  }
  refill (limit, b, now);
  if (b->tokens >= 1.0) {
    b->tokens -= 1.0;
    return TRUE;
  }
  if (retry_after) {
    gdouble wait = (1.0 - b->tokens) * 60.0 / limit->per_minute;
    *retry_after = (guint)wait + 1; /* rounded up, at least 1 */
  }
  return FALSE;
}

HqRateLimits *
hq_rate_limits_new (const HqConfig *config)
{
  HqRateLimits *limits = g_new0 (HqRateLimits, 1);

  limits->token = hq_rate_limit_new ((guint)config->token_rate);
  limits->join = hq_rate_limit_new ((guint)config->join_rate);
  limits->room_create = hq_rate_limit_new ((guint)config->room_create_rate);
  return limits;
}

void
hq_rate_limits_free (HqRateLimits *limits)
{
  if (limits == NULL)
    return;
  hq_rate_limit_free (limits->token);
  hq_rate_limit_free (limits->join);
  hq_rate_limit_free (limits->room_create);
  g_free (limits);
}
