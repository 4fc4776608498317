/* What hq-server counts for its operator, in Prometheus' text exposition
 * format at GET /metrics (docs/metrics.md).
 *
 * Counters, gauges and histograms below are process-wide and may be moved
 * from any thread (the SFU's workers count packets, the main context
 * counts joins): each is one atomic number, read whole at a scrape.  The
 * HTTP request table is the main context's alone, as is everything a
 * scrape reads from rooms (hq_metrics_render runs on the main context). */
#ifndef __HQ_METRICS_H__
#define __HQ_METRICS_H__

#include <glib.h>

G_BEGIN_DECLS

typedef enum
{
  HQ_COUNTER_RTP_RECEIVED_PACKETS, /* from publishers */
  HQ_COUNTER_RTP_RECEIVED_BYTES,
  HQ_COUNTER_RTP_FORWARDED_PACKETS, /* to subscribers */
  HQ_COUNTER_RTP_FORWARDED_BYTES,
  HQ_COUNTER_NACKED_PACKETS, /* asked again by subscribers */
  HQ_COUNTER_RETRANSMITTED_PACKETS, /* of those, sent again */
  HQ_COUNTER_NACKED_UPSTREAM_PACKETS, /* asked of publishers */
  HQ_COUNTER_PLI_RECEIVED, /* keyframe requests from subscribers */
  HQ_COUNTER_PLI_SENT, /* keyframe requests to publishers */
  HQ_COUNTER_HANDOFF_HANDED, /* packets handed to another worker */
  HQ_COUNTER_HANDOFF_DROPPED, /* lost to a full hand-off ring */
  HQ_COUNTER_JOINS, /* joined (admitted or waiting) */
  HQ_COUNTER_JOINS_REFUSED,
  HQ_COUNTER_WEBSOCKETS_OPENED,
  /* Recording and composition jobs reaching each state. */
  HQ_COUNTER_RECORDINGS_STARTED,
  HQ_COUNTER_RECORDINGS_COMPLETED,
  HQ_COUNTER_RECORDINGS_FAILED,
  HQ_COUNTER_COMPOSITIONS_ENQUEUED,
  HQ_COUNTER_COMPOSITIONS_STARTED,
  HQ_COUNTER_COMPOSITIONS_COMPLETED,
  HQ_COUNTER_COMPOSITIONS_FAILED,
  HQ_N_COUNTERS
} HqCounter;

typedef enum
{
  HQ_GAUGE_WEBSOCKETS, /* signalling connections open */
  HQ_GAUGE_SUBSCRIPTIONS, /* tracks forwarded to a subscriber */
  /* Participants of SFU rooms at each network quality level, 0..5. */
  HQ_GAUGE_NETQ_LEVEL_0,
  HQ_N_GAUGES = HQ_GAUGE_NETQ_LEVEL_0 + 6
} HqGauge;

typedef enum
{
  HQ_HISTOGRAM_JOIN_SECONDS, /* join request to its reply */
  HQ_HISTOGRAM_RTT_SECONDS, /* subscribers' round trips, per report */
  HQ_HISTOGRAM_STORE_SECONDS, /* one SQLite statement */
  HQ_N_HISTOGRAMS
} HqHistogram;

void hq_metrics_count (HqCounter counter, guint64 n);
void hq_metrics_gauge_add (HqGauge gauge, gint64 delta);
void hq_metrics_observe (HqHistogram histogram, gdouble seconds);

/* One HTTP request answered (main context only).  @path is reduced to its
 * route: the API's resource names stay, sids and names become "{id}", so
 * the table cannot grow with what clients send. */
void hq_metrics_http (const gchar *method, const gchar *path, guint status);
/* The route @path is counted under (newly allocated). */
gchar *hq_metrics_route (const gchar *path);

/* Appends the counters, gauges, histograms and HTTP table to @out; the
 * caller adds what it reads from its own state first (rooms, ...). */
void hq_metrics_render (GString *out);

/* Helpers for callers that add their own families to a scrape. */
void hq_metrics_family (
    GString *out, const gchar *name, const gchar *type, const gchar *help);

G_END_DECLS

#endif /* __HQ_METRICS_H__ */
