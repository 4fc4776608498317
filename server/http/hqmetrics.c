/* Process-wide counters for GET /metrics; see hqmetrics.h. */
#include "hqmetrics.h"

#include <string.h>

/* Counters of one family (same name) are next to each other, each with
 * its label. */
static const struct
{
  const gchar *name, *label, *help;
} counter_info[HQ_N_COUNTERS] = {
  [HQ_COUNTER_RTP_RECEIVED_PACKETS] = { "hq_sfu_received_packets_total", NULL,
      "RTP packets the SFU received from publishers" },
  [HQ_COUNTER_RTP_RECEIVED_BYTES] = { "hq_sfu_received_bytes_total", NULL,
      "RTP bytes the SFU received from publishers" },
  [HQ_COUNTER_RTP_FORWARDED_PACKETS] = { "hq_sfu_forwarded_packets_total", NULL,
      "RTP packets the SFU sent to subscribers" },
  [HQ_COUNTER_RTP_FORWARDED_BYTES] = { "hq_sfu_forwarded_bytes_total", NULL,
      "RTP bytes the SFU sent to subscribers" },
  [HQ_COUNTER_NACKED_PACKETS] = { "hq_sfu_nacked_packets_total", NULL,
      "Packets subscribers asked for again (NACK), each sequence number" },
  [HQ_COUNTER_RETRANSMITTED_PACKETS] = { "hq_sfu_retransmitted_packets_total",
      NULL, "Packets the SFU sent again from its history" },
  [HQ_COUNTER_NACKED_UPSTREAM_PACKETS] = { "hq_sfu_nacked_upstream_packets_"
                                           "total",
      NULL, "Packets the SFU asked publishers for again (it never had them)" },
  [HQ_COUNTER_PLI_RECEIVED] = { "hq_sfu_pli_received_total", NULL,
      "Keyframe requests (PLI) from subscribers" },
  [HQ_COUNTER_PLI_SENT] = { "hq_sfu_pli_sent_total", NULL,
      "Keyframe requests (PLI) the SFU sent to publishers" },
  [HQ_COUNTER_HANDOFF_HANDED] = { "hq_sfu_handoff_packets_total",
      "result=\"handed\"",
      "Packets a room's worker handed to another worker to send (a room "
      "spread over the workers), and those lost to a full hand-off" },
  [HQ_COUNTER_HANDOFF_DROPPED] = { "hq_sfu_handoff_packets_total",
      "result=\"dropped\"", NULL },
  [HQ_COUNTER_JOINS] = { "hq_joins_total", NULL,
      "Participants joined (admitted or put in the waiting room)" },
  [HQ_COUNTER_JOINS_REFUSED] = { "hq_joins_refused_total", NULL,
      "Join requests refused (bad token, unknown or full room, ...)" },
  [HQ_COUNTER_WEBSOCKETS_OPENED] = { "hq_websockets_opened_total", NULL,
      "Signalling WebSocket connections opened" },
  [HQ_COUNTER_RECORDINGS_STARTED] = { "hq_recording_jobs_total",
      "state=\"started\"", "Track recordings reaching each state" },
  [HQ_COUNTER_RECORDINGS_COMPLETED] = { "hq_recording_jobs_total",
      "state=\"completed\"", NULL },
  [HQ_COUNTER_RECORDINGS_FAILED] = { "hq_recording_jobs_total",
      "state=\"failed\"", NULL },
  [HQ_COUNTER_COMPOSITIONS_ENQUEUED] = { "hq_composition_jobs_total",
      "state=\"enqueued\"", "Compositions reaching each state" },
  [HQ_COUNTER_COMPOSITIONS_STARTED] = { "hq_composition_jobs_total",
      "state=\"processing\"", NULL },
  [HQ_COUNTER_COMPOSITIONS_COMPLETED] = { "hq_composition_jobs_total",
      "state=\"completed\"", NULL },
  [HQ_COUNTER_COMPOSITIONS_FAILED] = { "hq_composition_jobs_total",
      "state=\"failed\"", NULL },
};

static const struct
{
  const gchar *name, *help;
} gauge_info[] = {
  [HQ_GAUGE_WEBSOCKETS] = { "hq_websockets",
      "Signalling WebSocket "
      "connections open" },
  [HQ_GAUGE_SUBSCRIPTIONS] = { "hq_sfu_subscribed_tracks",
      "Tracks the SFU forwards to a subscriber (one per subscriber and "
      "track)" },
};

static const gdouble join_bounds[] = { 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
  1, 2.5, 5, 10 };
static const gdouble rtt_bounds[] = { 0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.4,
  0.8, 1.6 };
static const gdouble store_bounds[] = { 0.0001, 0.0005, 0.001, 0.005, 0.01,
  0.05, 0.1, 0.5 };
#define HQ_MAX_BOUNDS 11

static const struct
{
  const gchar *name, *help;
  const gdouble *bounds;
  guint n_bounds;
} histogram_info[HQ_N_HISTOGRAMS] = {
  [HQ_HISTOGRAM_JOIN_SECONDS] = { "hq_join_duration_seconds",
      "Time from a join request to its reply", join_bounds,
      G_N_ELEMENTS (join_bounds) },
  [HQ_HISTOGRAM_RTT_SECONDS] = { "hq_sfu_rtt_seconds",
      "Round trip to subscribers, one sample per receiver report", rtt_bounds,
      G_N_ELEMENTS (rtt_bounds) },
  [HQ_HISTOGRAM_STORE_SECONDS] = { "hq_store_statement_duration_seconds",
      "Time one SQLite statement took", store_bounds,
      G_N_ELEMENTS (store_bounds) },
};

typedef struct
{
  guint64 buckets[HQ_MAX_BOUNDS]; /* not cumulative; +Inf is count */
  guint64 count;
  guint64 sum_us;
} Histogram;

/* Counters are moved for every RTP packet by every media worker: one
 * shard of them per thread (up to HQ_METRICS_SHARDS; more threads share),
 * each on its own cache lines, so workers never contend for a line.  A
 * scrape adds the shards up. */
#define HQ_METRICS_SHARDS 16
typedef struct
{
  guint64 n[HQ_N_COUNTERS];
} __attribute__ ((aligned (64))) CounterShard;

static CounterShard counters[HQ_METRICS_SHARDS];
static guint next_shard;
static gint64 gauges[HQ_N_GAUGES];
static Histogram histograms[HQ_N_HISTOGRAMS];
/* "METHOD ROUTE STATUS" -> guint64 count; the main context's. */
static GHashTable *http_requests;

static CounterShard *
my_shard (void)
{
  static __thread CounterShard *shard;

  if (G_UNLIKELY (shard == NULL))
    shard = &counters[__atomic_fetch_add (&next_shard, 1, __ATOMIC_RELAXED)
        % HQ_METRICS_SHARDS];
  return shard;
}

void
hq_metrics_count (HqCounter counter, guint64 n)
{
  /* Atomic still: threads beyond HQ_METRICS_SHARDS share a shard. */
  __atomic_add_fetch (&my_shard ()->n[counter], n, __ATOMIC_RELAXED);
}

static guint64
counter_value (HqCounter counter)
{
  guint64 sum = 0;

  for (guint i = 0; i < HQ_METRICS_SHARDS; i++)
    sum += __atomic_load_n (&counters[i].n[counter], __ATOMIC_RELAXED);
  return sum;
}

void
hq_metrics_gauge_add (HqGauge gauge, gint64 delta)
{
  __atomic_add_fetch (&gauges[gauge], delta, __ATOMIC_RELAXED);
}

void
hq_metrics_observe (HqHistogram histogram, gdouble seconds)
{
  Histogram *h = &histograms[histogram];
  guint n = histogram_info[histogram].n_bounds;
  const gdouble *bounds = histogram_info[histogram].bounds;

  if (!(seconds >= 0)) /* NaN too */
    return;
  for (guint i = 0; i < n; i++)
    if (seconds <= bounds[i]) {
      __atomic_add_fetch (&h->buckets[i], 1, __ATOMIC_RELAXED);
      break;
    }
  __atomic_add_fetch (&h->count, 1, __ATOMIC_RELAXED);
  __atomic_add_fetch (&h->sum_us, (guint64)(seconds * 1e6), __ATOMIC_RELAXED);
}

/* The API's own words; anything else in a path is a sid, a name or junk. */
static gboolean
route_word (const gchar *segment)
{
  static const gchar *const words[] = { "v1", "Rooms", "Participants",
    "PublishedTracks", "SubscribedTracks", "SubscribeRules", "RecordingRules",
    "Recordings", "Compositions", "CompositionHooks", "Media", "MediaLinks",
    "Events", "Bans", "AccessTokens", "signal", NULL };

  return g_strv_contains (words, segment);
}

gchar *
hq_metrics_route (const gchar *path)
{
  static const gchar *const exact[] = { "/token", "/healthz", "/metrics",
    NULL };
  GString *route;
  g_auto (GStrv) parts = NULL;
  guint n = 0;

  if (path == NULL || *path == '\0')
    return g_strdup ("/");
  if (g_strv_contains (exact, path))
    return g_strdup (path);
  if (!g_str_has_prefix (path, "/v1/") && g_strcmp0 (path, "/v1") != 0)
    return g_strdup ("/{static}");
  route = g_string_new (NULL);
  parts = g_strsplit (path + 1, "/", -1);
  for (gchar **p = parts; *p; p++) {
    if (**p == '\0')
      continue;
    if (++n > 8) {
      g_string_append (route, "/...");
      break;
    }
    g_string_append_c (route, '/');
    g_string_append (route, route_word (*p) ? *p : "{id}");
  }
  return g_string_free (route, FALSE);
}

void
hq_metrics_http (const gchar *method, const gchar *path, guint status)
{
  static const gchar *const methods[] = { "GET", "HEAD", "POST", "PUT", "PATCH",
    "DELETE", "OPTIONS", NULL };
  g_autofree gchar *route = hq_metrics_route (path);
  gchar *key;
  guint64 *count;

  if (http_requests == NULL)
    http_requests =
        g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  if (method == NULL || !g_strv_contains (methods, method))
    method = "OTHER";
  key = g_strdup_printf ("%s %s %u", method, route, status);
  count = g_hash_table_lookup (http_requests, key);
  if (count == NULL) {
    count = g_new0 (guint64, 1);
    g_hash_table_insert (http_requests, key, count);
  } else {
    g_free (key);
  }
  (*count)++;
}

void
hq_metrics_family (
    GString *out, const gchar *name, const gchar *type, const gchar *help)
{
  g_string_append_printf (
      out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void
render_http (GString *out)
{
  g_autoptr (GList) keys = NULL;

  hq_metrics_family (out, "hq_http_requests_total", "counter",
      "HTTP requests answered, by method, route and status");
  if (http_requests == NULL)
    return;
  keys = g_list_sort (
      g_hash_table_get_keys (http_requests), (GCompareFunc)g_strcmp0);
  for (GList *l = keys; l; l = l->next) {
    const gchar *key = l->data;
    g_auto (GStrv) f = g_strsplit (key, " ", 3);
    guint64 *count = g_hash_table_lookup (http_requests, key);
    g_string_append_printf (out,
        "hq_http_requests_total{method=\"%s\",route=\"%s\",code=\"%s\"} "
        "%" G_GUINT64_FORMAT "\n",
        f[0], f[1], f[2], *count);
  }
}

static void
render_histogram (GString *out, HqHistogram which)
{
  const gchar *name = histogram_info[which].name;
  const Histogram *h = &histograms[which];
  guint64 cumulative = 0, count;

  hq_metrics_family (out, name, "histogram", histogram_info[which].help);
  /* Read the count first: buckets moved after it only make +Inf (the
   * count) lag, never a bucket exceed it... */
  count = __atomic_load_n (&h->count, __ATOMIC_RELAXED);
  for (guint i = 0; i < histogram_info[which].n_bounds; i++) {
    cumulative += __atomic_load_n (&h->buckets[i], __ATOMIC_RELAXED);
    /* ...except by an observation between the two reads: keep the series
     * monotonic, as Prometheus requires. */
    if (cumulative > count)
      count = cumulative;
    g_string_append_printf (out, "%s_bucket{le=\"%g\"} %" G_GUINT64_FORMAT "\n",
        name, histogram_info[which].bounds[i], cumulative);
  }
  g_string_append_printf (out,
      "%s_bucket{le=\"+Inf\"} %" G_GUINT64_FORMAT "\n"
      "%s_sum %.6f\n%s_count %" G_GUINT64_FORMAT "\n",
      name, count, name, __atomic_load_n (&h->sum_us, __ATOMIC_RELAXED) / 1e6,
      name, count);
}

void
hq_metrics_render (GString *out)
{
  for (guint i = 0; i < HQ_N_COUNTERS; i++) {
    if (counter_info[i].help)
      hq_metrics_family (
          out, counter_info[i].name, "counter", counter_info[i].help);
    g_string_append_printf (out, "%s%s%s%s %" G_GUINT64_FORMAT "\n",
        counter_info[i].name, counter_info[i].label ? "{" : "",
        counter_info[i].label ? counter_info[i].label : "",
        counter_info[i].label ? "}" : "", counter_value ((HqCounter)i));
  }
  for (guint i = 0; i < G_N_ELEMENTS (gauge_info); i++) {
    hq_metrics_family (out, gauge_info[i].name, "gauge", gauge_info[i].help);
    g_string_append_printf (out, "%s %" G_GINT64_FORMAT "\n",
        gauge_info[i].name, __atomic_load_n (&gauges[i], __ATOMIC_RELAXED));
  }
  hq_metrics_family (out, "hq_network_quality_participants", "gauge",
      "Participants of SFU rooms at each network quality level (0-5, "
      "docs/netq.md)");
  for (guint level = 0; level <= 5; level++)
    g_string_append_printf (out,
        "hq_network_quality_participants{level=\"%u\"} %" G_GINT64_FORMAT "\n",
        level,
        __atomic_load_n (
            &gauges[HQ_GAUGE_NETQ_LEVEL_0 + level], __ATOMIC_RELAXED));
  for (guint i = 0; i < HQ_N_HISTOGRAMS; i++)
    render_histogram (out, (HqHistogram)i);
  render_http (out);
}
