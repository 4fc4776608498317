/* Transport-wide congestion control: the receiver's arrival record and
 * feedback, the sender's history and its bandwidth estimate.  See
 * hqtwcc.h; the byte formats are hqrtp.c's and hqrtcp.c's.
 *
 * The estimate follows Google Congestion Control as
 * draft-ietf-rmcat-gcc-02 describes it, with the delay filter libwebrtc
 * has used since (a trendline instead of the draft's Kalman filter):
 *
 * - Packets sent within 5 ms of a group's first form one group (the
 *   draft's section 5.2).  For two groups in a row, the difference of
 *   their arrival times less the difference of their send times is how
 *   much the queue on the path grew meanwhile.
 * - Those differences are summed, smoothed (0.9) and a line is fitted
 *   through the last 20 against arrival time; the slope, times the number
 *   of groups seen (at most 60) and a gain of 4, is the trend.
 * - Over-use detector (section 5.4): a trend above the adaptive threshold
 *   (starting at 12.5 ms, following the trend by k_u = 0.0087 when below
 *   it and k_d = 0.039 when above, per ms, within 6..600) for over 10 ms
 *   and on more than one group, and not falling, is over-use; below
 *   minus the threshold is under-use; else normal.
 * - Rate controller (section 5.5): over-use sets the estimate to 0.85 of
 *   what the receiver got in the last 500 ms; under-use holds it; normal
 *   grows it by 8 % a second, but never past 1.5 times what was received
 *   (plus 10 kbit/s): an application that sends little cannot prove a
 *   high rate.
 * - Loss-based controller (section 6), over intervals of at least 50
 *   reported packets (or a second): over 10 % lost, times (1 - loss/2);
 *   under 2 %, 5 % more (but not past the delay-based estimate).
 * - The estimate is the lower of the two.
 *
 * Probing (hqtwcc.h), with the rules of libwebrtc's probe bitrate
 * estimator: a cluster counts once every packet of it was reported (or
 * HQ_TWCC_PROBE_TIMEOUT_US after its end) and at least 80 % (and 5) of
 * them arrived; its send rate is its bytes less the last packet's over
 * the span of the send times, its receive rate its bytes less the first
 * arrival's over the span of the arrivals; a receive rate under half the
 * send rate is no measurement; the result is the lower of the two, or
 * 0.95 of the receive rate when that is under 0.9 of the send rate (the
 * path was full).  Added here: an over-use signal while the cluster was
 * out fails it (the queue grew), and a result above the estimate raises
 * both the delay-based and (without heavy loss) the loss-based part to
 * it.
 */
#include "hqtwcc.h"
#include "hqrtp.h"

#include <math.h>
#include <string.h>

/* --- receiving --- */

/* Arrivals kept unreported at most (the feedback builder covers 8192
 * statuses per packet). */
#define RECORDER_MAX 16384

struct _HqTwccRecorder
{
  GArray *pending; /* HqTwccArrival, ascending wrap-aware by seq */
  gboolean have_base;
  guint16 base; /* where the next feedback packet starts */
  guint8 fb_count;
};

HqTwccRecorder *
hq_twcc_recorder_new (void)
{
  HqTwccRecorder *r = g_new0 (HqTwccRecorder, 1);

  r->pending = g_array_new (FALSE, FALSE, sizeof (HqTwccArrival));
  return r;
}

void
hq_twcc_recorder_free (HqTwccRecorder *r)
{
  if (r == NULL)
    return;
  g_array_unref (r->pending);
  g_free (r);
}

void
hq_twcc_recorder_add (HqTwccRecorder *r, guint16 seq, gint64 arrival_us)
{
  HqTwccArrival a = { seq, arrival_us };
  guint i = r->pending->len;

  if (!r->have_base) {
    r->have_base = TRUE;
    r->base = seq;
  }
  if (hq_rtp_seq_diff (seq, r->base) < 0)
    return; /* reported already, or older still */
  /* Mostly in order: look from the end. */
  while (i > 0) {
    gint d = hq_rtp_seq_diff (
        seq, g_array_index (r->pending, HqTwccArrival, i - 1).seq);
    if (d == 0)
      return;
    if (d > 0)
      break;
    i--;
  }
  g_array_insert_val (r->pending, i, a);
  if (r->pending->len > RECORDER_MAX) {
    /* Nobody reads the feedback: forget the oldest. */
    r->base = (guint16)(g_array_index (r->pending, HqTwccArrival, 0).seq + 1);
    g_array_remove_index (r->pending, 0);
  }
}

guint
hq_twcc_recorder_pending (const HqTwccRecorder *r)
{
  return r->pending->len;
}

gboolean
hq_twcc_recorder_write (HqTwccRecorder *r, HqRtcpWriter *writer,
    guint32 sender_ssrc, guint32 media_ssrc)
{
  const HqTwccArrival *arr = (const HqTwccArrival *)r->pending->data;
  gsize done = 0;

  if (r->pending->len == 0
      || !hq_rtcp_write_twcc (writer, sender_ssrc, media_ssrc, r->fb_count,
          r->base, arr, r->pending->len, &done, NULL))
    return FALSE;
  r->fb_count++;
  r->base = (guint16)(arr[done - 1].seq + 1);
  g_array_remove_range (r->pending, 0, (guint)done);
  return TRUE;
}

/* --- sending and estimating --- */

#define GROUP_US 5000
#define TREND_WINDOW 20
#define TREND_SMOOTHING 0.9
#define TREND_GAIN 4.0
#define TREND_MAX_DELTAS 60
#define THRESHOLD_START 12.5
#define THRESHOLD_MIN 6.0
#define THRESHOLD_MAX 600.0
#define K_UP 0.0087
#define K_DOWN 0.039
#define OVERUSE_MS 10.0
#define BETA 0.85
#define INCREASE_PER_SECOND 1.08
#define ACKED_WINDOW_US 500000
#define ACKED_RING 1024 /* over 2000 packets a second */
#define LOSS_PACKETS 50
#define PROBE_MIN_PACKETS 5
#define PROBE_MIN_RECEIVED 0.8
#define PROBE_MAX_RATIO 2.0
#define PROBE_FULL_RATIO 0.9
#define PROBE_FULL_SHARE 0.95
#define PROBE_QUIET_US G_USEC_PER_SEC

/* 16 bytes: a subscriber's history is 64 KiB. */
typedef struct
{
  gint64 send_us;
  guint32 size;
  guint16 seq;
  guint8 valid; /* SENT or LOST_SO_FAR: no arrival reported yet */
  guint8 cluster; /* the probe cluster it belongs to; 0: none */
} Sent;

enum
{
  NOT_SENT,
  SENT, /* no feedback on it yet */
  LOST_SO_FAR, /* reported lost; may still be reported received */
};

/* A probe cluster: what was sent of it and what the feedback says. */
typedef struct
{
  guint8 id; /* 0: a free slot */
  HqTwccProbeState state;
  gboolean ended;
  gint64 ended_us;
  guint overuse_signals; /* the sender's count when it began */
  guint sent, reported, received;
  guint64 bytes; /* of those received */
  gint64 first_send_us, last_send_us, first_arrival_us, last_arrival_us;
  guint32 last_send_size, first_arrival_size;
  gdouble bps;
} Cluster;

typedef struct
{
  gint64 first_send_us;
  gint64 last_send_us;
  gint64 last_arrival_us;
} Group;

typedef struct
{
  gint64 arrival_us;
  guint32 size;
} Acked;

typedef enum
{
  RATE_HOLD,
  RATE_INCREASE,
} RateState;

struct _HqTwccSender
{
  guint16 next_seq;
  Sent sent[HQ_TWCC_HISTORY];
  gboolean matched; /* some feedback matched a packet sent */

  /* arrival groups */
  gboolean have_cur, have_prev;
  Group cur, prev;

  /* trendline */
  gdouble acc_delay_ms, smoothed_ms;
  gdouble win_x[TREND_WINDOW], win_y[TREND_WINDOW];
  guint win_n, win_pos;
  guint n_deltas;
  gint64 first_arrival_us;
  gdouble trend, modified_trend, prev_trend;

  /* over-use detector */
  gdouble threshold;
  gint64 threshold_us;
  gdouble overuse_ms; /* negative: not over the threshold */
  guint overuse_count;
  HqTwccUsage usage;
  guint overuse_signals;
  gint64 overuse_us; /* the last over-use signal */

  /* rate controllers */
  gdouble min_bps;
  gdouble delay_bps, loss_bps;
  RateState state;
  gint64 increase_us;
  guint overuses;
  Acked acked[ACKED_RING];
  guint acked_pos, acked_n;
  gint64 first_acked_us;
  guint loss_lost, loss_total;
  gint64 loss_start_us;
  gdouble loss;

  /* probing */
  Cluster clusters[HQ_TWCC_PROBE_CLUSTERS];
  guint8 last_cluster;
};

HqTwccSender *
hq_twcc_sender_new (gdouble start_bps, gdouble min_bps)
{
  HqTwccSender *s = g_new0 (HqTwccSender, 1);

  s->min_bps = min_bps;
  s->delay_bps = s->loss_bps = MAX (start_bps, min_bps);
  s->threshold = THRESHOLD_START;
  s->overuse_ms = -1;
  s->state = RATE_HOLD;
  return s;
}

void
hq_twcc_sender_free (HqTwccSender *s)
{
  g_free (s);
}

guint16
hq_twcc_sender_next (HqTwccSender *s, gsize size, gint64 now_us)
{
  guint16 seq = s->next_seq++;
  Sent *slot = &s->sent[seq % HQ_TWCC_HISTORY];

  slot->seq = seq;
  slot->send_us = now_us;
  slot->size = (guint32)size;
  slot->valid = SENT;
  slot->cluster = 0;
  return seq;
}

gdouble
hq_twcc_sender_estimate (const HqTwccSender *s)
{
  return s->matched ? MIN (s->delay_bps, s->loss_bps) : -1;
}

void
hq_twcc_sender_get_stats (const HqTwccSender *s, HqTwccStats *stats)
{
  memset (stats, 0, sizeof *stats);
  stats->estimate_bps = hq_twcc_sender_estimate (s);
  stats->delay_bps = s->delay_bps;
  stats->loss_bps = s->loss_bps;
  stats->usage = s->usage;
  stats->trend = s->modified_trend;
  stats->threshold = s->threshold;
  stats->loss = s->loss;
  stats->overuses = s->overuses;
  if (s->acked_n > 0) {
    gint64 newest =
        s->acked[(s->acked_pos + ACKED_RING - 1) % ACKED_RING].arrival_us;
    gint64 span =
        MAX (100000, MIN (ACKED_WINDOW_US, newest - s->first_acked_us));
    guint64 bytes = 0;
    for (guint i = 0; i < s->acked_n; i++) {
      const Acked *a =
          &s->acked[(s->acked_pos + ACKED_RING - 1 - i) % ACKED_RING];
      if (newest - a->arrival_us >= span)
        break;
      bytes += a->size;
    }
    stats->acked_bps = bytes * 8.0 * G_USEC_PER_SEC / span;
  }
}

static gdouble
acked_bps (const HqTwccSender *s)
{
  HqTwccStats st;

  hq_twcc_sender_get_stats (s, &st);
  return st.acked_bps;
}

/* The slope of the line through the window's points (least squares). */
static gdouble
window_slope (const HqTwccSender *s)
{
  gdouble mx = 0, my = 0, num = 0, den = 0;

  for (guint i = 0; i < s->win_n; i++) {
    mx += s->win_x[i];
    my += s->win_y[i];
  }
  mx /= s->win_n;
  my /= s->win_n;
  for (guint i = 0; i < s->win_n; i++) {
    num += (s->win_x[i] - mx) * (s->win_y[i] - my);
    den += (s->win_x[i] - mx) * (s->win_x[i] - mx);
  }
  return den > 0 ? num / den : s->trend;
}

static void
adapt_threshold (HqTwccSender *s, gint64 now_us)
{
  gdouble m = fabs (s->modified_trend);
  gdouble dt_ms;

  if (s->threshold_us == 0)
    s->threshold_us = now_us;
  dt_ms = MIN ((now_us - s->threshold_us) / 1000.0, 100.0);
  s->threshold_us = now_us;
  /* A spike far over the threshold (a route change, a stall) is not
   * allowed to drag it up. */
  if (m > s->threshold + 15)
    return;
  s->threshold += (m < s->threshold ? K_DOWN : K_UP) * (m - s->threshold)
      * MAX (dt_ms, 0.0);
  s->threshold = CLAMP (s->threshold, THRESHOLD_MIN, THRESHOLD_MAX);
}

static void
detect (HqTwccSender *s, gdouble send_delta_ms, gint64 now_us)
{
  if (s->modified_trend > s->threshold) {
    s->overuse_ms =
        s->overuse_ms < 0 ? send_delta_ms / 2 : s->overuse_ms + send_delta_ms;
    s->overuse_count++;
    if (s->overuse_ms > OVERUSE_MS && s->overuse_count > 1
        && s->trend >= s->prev_trend) {
      s->overuse_ms = 0;
      s->overuse_count = 0;
      s->usage = HQ_TWCC_OVERUSE;
      s->overuse_signals++;
      s->overuse_us = now_us;
    }
  } else if (s->modified_trend < -s->threshold) {
    s->overuse_ms = -1;
    s->overuse_count = 0;
    s->usage = HQ_TWCC_UNDERUSE;
  } else {
    s->overuse_ms = -1;
    s->overuse_count = 0;
    s->usage = HQ_TWCC_NORMAL;
  }
  s->prev_trend = s->trend;
  adapt_threshold (s, now_us);
}

/* Two groups in a row: how much the queue grew between them. */
static void
group_delta (HqTwccSender *s, const Group *prev, const Group *cur)
{
  gdouble send_ms = (cur->last_send_us - prev->last_send_us) / 1000.0;
  gdouble arrival_ms = (cur->last_arrival_us - prev->last_arrival_us) / 1000.0;

  if (s->n_deltas == 0)
    s->first_arrival_us = cur->last_arrival_us;
  s->n_deltas++;
  s->acc_delay_ms += arrival_ms - send_ms;
  s->smoothed_ms = TREND_SMOOTHING * s->smoothed_ms
      + (1 - TREND_SMOOTHING) * s->acc_delay_ms;
  s->win_x[s->win_pos] = (cur->last_arrival_us - s->first_arrival_us) / 1000.0;
  s->win_y[s->win_pos] = s->smoothed_ms;
  s->win_pos = (s->win_pos + 1) % TREND_WINDOW;
  s->win_n = MIN (s->win_n + 1, TREND_WINDOW);
  if (s->win_n == TREND_WINDOW)
    s->trend = window_slope (s);
  s->modified_trend =
      MIN (s->n_deltas, TREND_MAX_DELTAS) * s->trend * TREND_GAIN;
  detect (s, send_ms, cur->last_arrival_us);
}

static void
packet_arrived (HqTwccSender *s, const Sent *p, gint64 arrival_us)
{
  Acked *a = &s->acked[s->acked_pos];

  a->arrival_us = arrival_us;
  a->size = p->size;
  s->acked_pos = (s->acked_pos + 1) % ACKED_RING;
  s->acked_n = MIN (s->acked_n + 1, ACKED_RING);
  if (s->first_acked_us == 0)
    s->first_acked_us = arrival_us;

  if (s->have_cur && p->send_us - s->cur.first_send_us <= GROUP_US) {
    s->cur.last_send_us = MAX (s->cur.last_send_us, p->send_us);
    s->cur.last_arrival_us = MAX (s->cur.last_arrival_us, arrival_us);
    return;
  }
  if (s->have_cur && p->send_us < s->cur.first_send_us)
    return; /* reordered before the group in progress: no information */
  if (s->have_cur) {
    if (s->have_prev)
      group_delta (s, &s->prev, &s->cur);
    s->prev = s->cur;
    s->have_prev = TRUE;
  }
  s->cur.first_send_us = s->cur.last_send_us = p->send_us;
  s->cur.last_arrival_us = arrival_us;
  s->have_cur = TRUE;
}

static void
update_delay_rate (HqTwccSender *s, gint64 now_us)
{
  gdouble acked = acked_bps (s), lower;

  switch (s->usage) {
    case HQ_TWCC_OVERUSE:
      lower = BETA * (acked > 0 ? acked : s->delay_bps);
      if (lower < s->delay_bps) {
        s->delay_bps = lower;
        s->overuses++;
      }
      s->state = RATE_HOLD;
      s->usage = HQ_TWCC_NORMAL; /* one decrease per over-use signal */
      break;
    case HQ_TWCC_UNDERUSE:
      s->state = RATE_HOLD;
      break;
    case HQ_TWCC_NORMAL:
      if (s->state == RATE_HOLD) {
        s->state = RATE_INCREASE;
        s->increase_us = now_us;
      } else {
        gdouble dt = MIN ((now_us - s->increase_us) / 1e6, 1.0);
        gdouble grown = s->delay_bps * pow (INCREASE_PER_SECOND, MAX (dt, 0));
        gdouble limit = 1.5 * acked + 10000;
        if (acked > 0 && grown > limit)
          grown = MAX (s->delay_bps, limit);
        s->delay_bps = grown;
        s->increase_us = now_us;
      }
      break;
  }
  s->delay_bps = MAX (s->delay_bps, s->min_bps);
}

static void
update_loss_rate (HqTwccSender *s, guint lost, guint total, gint64 now_us)
{
  if (s->loss_total == 0)
    s->loss_start_us = now_us;
  s->loss_lost += lost;
  s->loss_total += total;
  if (s->loss_total < LOSS_PACKETS
      && (now_us - s->loss_start_us < G_USEC_PER_SEC || s->loss_total < 10))
    return;
  s->loss = (gdouble)s->loss_lost / s->loss_total;
  if (s->loss > 0.10)
    s->loss_bps *= 1 - 0.5 * s->loss;
  else if (s->loss < 0.02)
    s->loss_bps = MIN (s->loss_bps * 1.05, MAX (s->loss_bps, s->delay_bps));
  s->loss_bps = MAX (s->loss_bps, s->min_bps);
  s->loss_lost = s->loss_total = 0;
}

static void probe_packet_reported (
    HqTwccSender *s, const Sent *p, const HqTwccStatus *st);
static void probe_check (HqTwccSender *s, Cluster *c, gint64 now_us);

guint
hq_twcc_sender_on_feedback (HqTwccSender *s, const HqTwccStatus *statuses,
    guint n_statuses, gint64 now_us)
{
  guint matched = 0, lost = 0;

  for (guint i = 0; i < n_statuses; i++) {
    Sent *p = &s->sent[statuses[i].seq % HQ_TWCC_HISTORY];
    if (p->valid == NOT_SENT || p->seq != statuses[i].seq)
      continue;
    matched++;
    if (p->cluster)
      probe_packet_reported (s, p, &statuses[i]);
    if (!statuses[i].received) {
      lost++;
      p->valid = LOST_SO_FAR; /* may still be reported received later */
      continue;
    }
    p->valid = NOT_SENT;
    packet_arrived (s, p, statuses[i].arrival_us);
  }
  if (matched == 0)
    return 0;
  s->matched = TRUE;
  update_delay_rate (s, now_us);
  update_loss_rate (s, lost, matched, now_us);
  for (guint i = 0; i < HQ_TWCC_PROBE_CLUSTERS; i++)
    probe_check (s, &s->clusters[i], now_us);
  return matched;
}

/* --- probing --- */

static Cluster *
find_cluster (HqTwccSender *s, guint8 id)
{
  Cluster *c = &s->clusters[id % HQ_TWCC_PROBE_CLUSTERS];

  return id != 0 && c->id == id ? c : NULL;
}

static void
probe_packet_reported (HqTwccSender *s, const Sent *p, const HqTwccStatus *st)
{
  Cluster *c = find_cluster (s, p->cluster);

  if (c == NULL || c->state != HQ_TWCC_PROBE_PENDING)
    return;
  if (p->valid == SENT)
    c->reported++;
  if (!st->received)
    return;
  if (c->received == 0 || p->send_us < c->first_send_us)
    c->first_send_us = p->send_us;
  if (c->received == 0 || p->send_us >= c->last_send_us) {
    c->last_send_us = p->send_us;
    c->last_send_size = p->size;
  }
  if (c->received == 0 || st->arrival_us < c->first_arrival_us) {
    c->first_arrival_us = st->arrival_us;
    c->first_arrival_size = p->size;
  }
  if (c->received == 0 || st->arrival_us > c->last_arrival_us)
    c->last_arrival_us = st->arrival_us;
  c->received++;
  c->bytes += p->size;
}

/* The rate @c proved, or a negative number when it proved nothing. */
static gdouble
probe_rate (const HqTwccSender *s, const Cluster *c)
{
  gint64 send_span = c->last_send_us - c->first_send_us;
  gint64 arrival_span = c->last_arrival_us - c->first_arrival_us;
  gdouble send_bps, arrival_bps;

  if (c->received < PROBE_MIN_PACKETS
      || c->received < PROBE_MIN_RECEIVED * c->sent
      || s->overuse_signals != c->overuse_signals || send_span <= 0
      || arrival_span <= 0)
    return -1;
  send_bps = (c->bytes - c->last_send_size) * 8.0 * G_USEC_PER_SEC / send_span;
  arrival_bps =
      (c->bytes - c->first_arrival_size) * 8.0 * G_USEC_PER_SEC / arrival_span;
  if (send_bps > PROBE_MAX_RATIO * arrival_bps)
    return -1;
  if (arrival_bps < PROBE_FULL_RATIO * send_bps)
    return PROBE_FULL_SHARE * arrival_bps;
  return MIN (send_bps, arrival_bps);
}

/* Decides @c once all of it was reported, or its time is up; a rate
 * proved above the estimate raises it. */
static void
probe_check (HqTwccSender *s, Cluster *c, gint64 now_us)
{
  if (c->id == 0 || c->state != HQ_TWCC_PROBE_PENDING || !c->ended
      || (c->reported < c->sent
          && now_us - c->ended_us < HQ_TWCC_PROBE_TIMEOUT_US))
    return;
  c->bps = probe_rate (s, c);
  if (c->bps < 0) {
    c->state = HQ_TWCC_PROBE_FAILED;
    return;
  }
  c->state = HQ_TWCC_PROBE_DONE;
  if (c->bps > s->delay_bps) {
    s->delay_bps = c->bps;
    s->state = RATE_HOLD; /* grows from here at the next normal signal */
  }
  if (s->loss <= 0.10)
    s->loss_bps = MAX (s->loss_bps, c->bps);
}

gboolean
hq_twcc_sender_may_probe (const HqTwccSender *s, gint64 now_us)
{
  return s->matched && s->usage != HQ_TWCC_OVERUSE
      && s->modified_trend <= s->threshold && s->loss < 0.02
      && (s->overuse_us == 0 || now_us - s->overuse_us >= PROBE_QUIET_US);
}

guint8
hq_twcc_sender_probe_begin (HqTwccSender *s, gint64 now_us)
{
  Cluster *c;

  if (++s->last_cluster == 0)
    s->last_cluster = 1;
  c = &s->clusters[s->last_cluster % HQ_TWCC_PROBE_CLUSTERS];
  memset (c, 0, sizeof *c);
  c->id = s->last_cluster;
  c->state = HQ_TWCC_PROBE_PENDING;
  c->overuse_signals = s->overuse_signals;
  c->ended_us = now_us;
  return c->id;
}

guint16
hq_twcc_sender_next_probe (
    HqTwccSender *s, gsize size, gint64 now_us, guint8 cluster)
{
  guint16 seq = hq_twcc_sender_next (s, size, now_us);
  Cluster *c = find_cluster (s, cluster);

  if (c != NULL && !c->ended) {
    s->sent[seq % HQ_TWCC_HISTORY].cluster = cluster;
    c->sent++;
  }
  return seq;
}

void
hq_twcc_sender_probe_end (HqTwccSender *s, guint8 cluster, gint64 now_us)
{
  Cluster *c = find_cluster (s, cluster);

  if (c == NULL || c->ended)
    return;
  c->ended = TRUE;
  c->ended_us = now_us;
}

HqTwccProbeState
hq_twcc_sender_probe_result (
    HqTwccSender *s, guint8 cluster, gint64 now_us, gdouble *bps)
{
  Cluster *c = find_cluster (s, cluster);

  if (c == NULL)
    return HQ_TWCC_PROBE_FAILED;
  probe_check (s, c, now_us);
  if (c->state == HQ_TWCC_PROBE_DONE && bps != NULL)
    *bps = c->bps;
  return c->state;
}
