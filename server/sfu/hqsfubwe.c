/* Bandwidth, once a second (docs/sfu.md, REMB policy): what each
 * subscriber can take (our estimate from its transport-wide feedback,
 * else its REMB and our loss-based estimate), shared between
 * the video tracks it receives by priority; each publisher is asked
 * (REMB) for what its most constrained subscriber can take, with our
 * receiver reports on its tracks. */
#include "hqsfubwe.h"
#include "hqsfutwcc.h"
#include "hqsfusimulcast.h"

/* An estimate that fell under this part of the one the shares were made
 * of makes them again at once, not at the next second. */
#define HQ_SFU_ESTIMATE_FELL 0.9

/* --- once a second --- */

/* What @p's subscribe leg can take in bits per second: our send-side
 * estimate from its transport-wide feedback when it sends that (it has
 * its own loss-based part), else our loss-based estimate from its
 * receiver reports; and no more than its REMB while that is fresh.
 * Negative when none is known. */
static gdouble
subscriber_estimate (HqSfuParticipant *p, gint64 now)
{
  gdouble est = hq_sfu_twcc_estimate (p, now);

  if (est < 0)
    est = p->loss_estimate_bps > 0 ? p->loss_estimate_bps : -1;

  if (p->remb_bps && now - p->remb_us < HQ_SFU_REMB_VALID_US)
    est = est > 0 ? MIN (est, (gdouble)p->remb_bps) : (gdouble)p->remb_bps;
  return hq_sfu_profile_cap (p, est);
}

/* The priority @sub's track has for its subscriber: the subscriber's own
 * for it when it set one, else the publisher's; raised to the
 * subscriber's dominant_speaker_priority while the publisher is the
 * dominant speaker. */
static HqSfuPriority
sub_priority (const HqSfuSub *sub)
{
  const HqSfuParticipant *publisher = sub->track->publisher;
  HqSfuPriority priority = sub->track->priority, speaker;
  gpointer own;

  if (g_hash_table_lookup_extended (
          sub->subscriber->sub_priorities, sub->track->sid, NULL, &own))
    priority = (HqSfuPriority)GPOINTER_TO_INT (own);
  /* HqPriority and HqSfuPriority name the same three in the same order */
  speaker = (HqSfuPriority)sub->subscriber->profile.dominant_speaker_priority;
  if (publisher->speaker_id != 0
      && publisher->speaker_id == publisher->media->dominant_speaker_id)
    priority = MAX (priority, speaker);
  return priority;
}

static gboolean
sub_counts (const HqSfuSub *sub)
{
  return sub->negotiated && !sub->track->gone && sub->track->enabled;
}

/* One video subscription in hq_sfu_allocate_shares(). */
typedef struct
{
  HqSfuSub *sub;
  guint weight;
  HqSfuPriority priority;
  gint wanted; /* simulcast: the layer its render size asks for */
  gdouble floor, cap; /* the least it can be forwarded at, the most */
  gboolean admitted;
  gboolean forwarding; /* a layer of it goes out now */
} Share;

/* Who is switched off first when the lowest layers do not all fit: the
 * lower priority, then the smaller tile (the lower wanted layer), then
 * one not forwarded now (so the same tiles stay off from one second to
 * the next, rather than tiles taking turns). */
static gint
compare_shares (gconstpointer a, gconstpointer b)
{
  const Share *x = a, *y = b;

  if (x->priority != y->priority)
    return x->priority < y->priority ? -1 : 1;
  if (x->wanted != y->wanted)
    return x->wanted < y->wanted ? -1 : 1;
  return (gint)x->forwarding - (gint)y->forwarding;
}

/* What of @p's estimate is left for video: the estimate less
 * HQ_SFU_AUDIO_BPS per audio subscription that may be forwarded (no more
 * than the loudest-N audio lets through at once). */
static gdouble
video_budget (HqSfuParticipant *p, gdouble est)
{
  guint audio = 0, loudest = p->media->room->sfu->loudest_audio;

  for (guint i = 0; i < p->subs->len; i++) {
    HqSfuSub *sub = g_ptr_array_index (p->subs, i);
    audio += sub_counts (sub) && sub->track->kind == HQ_SDP_KIND_AUDIO;
  }
  if (loudest > 0)
    audio = MIN (audio, loudest);
  return MAX (0.0, est - audio * (gdouble)HQ_SFU_AUDIO_BPS);
}

/* What @shares take at water level @level: each its weight times the
 * level, no less than its floor, no more than its cap. */
static gdouble
shares_at (GArray *shares, gdouble level)
{
  gdouble sum = 0;

  for (guint i = 0; i < shares->len; i++) {
    const Share *s = &g_array_index (shares, Share, i);
    if (s->admitted)
      sum += CLAMP (level * s->weight, s->floor, s->cap);
  }
  return sum;
}

/* The water level near @level worked out exactly: what is left of
 * @budget after the shares held at their floor or cap there, over the
 * weights of the others (so equal priorities get equal shares to the
 * bit). */
static gdouble
exact_level (GArray *shares, gdouble level, gdouble budget)
{
  gdouble left = budget;
  guint weights = 0;

  for (guint i = 0; i < shares->len; i++) {
    const Share *s = &g_array_index (shares, Share, i);
    gdouble at = level * s->weight;
    if (!s->admitted)
      continue;
    if (at <= s->floor || at >= s->cap)
      left -= CLAMP (at, s->floor, s->cap);
    else
      weights += s->weight;
  }
  return weights > 0 && left > 0 ? left / weights : level;
}

/* Shares @p's estimate between its video subscriptions (sub->share_bps;
 * docs/sfu.md, "REMB policy").  Those its subscriber
 * switched off (hints) take nothing.  Each of the others gets at least
 * the least it can be forwarded at (a simulcast track: its lowest layer;
 * one stream: HQ_SFU_REMB_MIN_BPS); while those do not all fit, simulcast
 * tracks are switched off in compare_shares() order (one stream cannot
 * be, it is slowed).  The rest is shared in proportion to the priority
 * weights, none past what it can use (the layer its render size asks
 * for; HQ_SFU_REMB_BPS for one stream), what one cannot use going to the
 * others: each gets its weight times one water level, clamped to its
 * floor and cap, the level found by bisection.  Negative shares when the
 * estimate is unknown. */
void
hq_sfu_allocate_shares (HqSfuParticipant *p, gint64 now)
{
  gdouble est = subscriber_estimate (p, now), budget, floors = 0;
  gdouble low = 0, high;
  GArray *shares = g_array_new (FALSE, TRUE, sizeof (Share));

  for (guint i = 0; i < p->subs->len; i++) {
    HqSfuSub *sub = g_ptr_array_index (p->subs, i);
    Share s = { sub, 0, 0, 0, 0, 0, TRUE, sub->layer >= 0 };

    sub->share_bps = -1;
    if (!sub_counts (sub) || sub->track->kind != HQ_SDP_KIND_VIDEO
        || sub->hint_disabled)
      continue;
    s.priority = sub_priority (sub);
    s.weight = hq_sfu_profile_weight (sub, s.priority);
    if (sub->track->n_layers > 0) {
      s.wanted = hq_sfu_wanted_layer (sub);
      s.floor = hq_sfu_layer_need (sub, 0);
      s.cap = MAX (s.floor, hq_sfu_layer_need (sub, s.wanted));
    } else {
      s.wanted = G_MAXINT;
      s.floor = HQ_SFU_REMB_MIN_BPS;
      s.cap = MAX (s.floor, (gdouble)HQ_SFU_REMB_BPS);
    }
    floors += s.floor;
    g_array_append_val (shares, s);
  }
  p->shared_bps = est;
  if (est < 0 || shares->len == 0) {
    g_array_unref (shares);
    return;
  }
  budget = video_budget (p, est);
  g_array_sort (shares, compare_shares);
  for (guint i = 0; i < shares->len && floors > budget; i++) {
    Share *s = &g_array_index (shares, Share, i);
    if (s->sub->track->n_layers == 0)
      continue;
    s->admitted = FALSE;
    s->sub->share_bps = 0;
    floors -= s->floor;
  }
  /* the level at which every share is at its cap, or past the budget */
  high = MAX (budget, 1.0);
  for (gint i = 0; i < 40; i++) {
    gdouble mid = (low + high) / 2;
    if (shares_at (shares, mid) > budget)
      high = mid;
    else
      low = mid;
  }
  low = exact_level (shares, low, budget);
  for (guint i = 0; i < shares->len; i++) {
    Share *s = &g_array_index (shares, Share, i);
    if (s->admitted)
      s->sub->share_bps = CLAMP (low * s->weight, s->floor, s->cap);
  }
  g_array_unref (shares);
}

void
hq_sfu_estimate_updated (HqSfuParticipant *p, gint64 now)
{
  gdouble est;

  if (p->shared_bps <= 0)
    return;
  est = subscriber_estimate (p, now);
  if (est < 0 || est >= HQ_SFU_ESTIMATE_FELL * p->shared_bps)
    return;
  hq_sfu_allocate_shares (p, now);
  hq_sfu_simulcast_select (p, now);
}

/* Once a second, from what @p's receiver reports said about video loss
 * (GCC's loss-based controller, RFC draft-ietf-rmcat-gcc 6): over 10 %
 * the estimate drops to what was sent times (1 - loss/2); under 2 % it
 * grows by 8 %, and lifts altogether once above what full rate needs. */
static void
update_loss_estimate (HqSfuParticipant *p, gdouble sent_bps, guint n_video)
{
  gdouble full = (gdouble)HQ_SFU_REMB_BPS * MAX (n_video, 1);

  if (!p->have_video_loss)
    return;
  if (p->video_loss > 0.10) {
    gdouble base = p->loss_estimate_bps > 0
        ? MIN (p->loss_estimate_bps, sent_bps)
        : sent_bps;
    p->loss_estimate_bps =
        MAX ((gdouble)HQ_SFU_REMB_MIN_BPS, base * (1 - 0.5 * p->video_loss));
  } else if (p->video_loss < 0.02 && p->loss_estimate_bps > 0) {
    p->loss_estimate_bps *= 1.08;
    if (p->loss_estimate_bps > full)
      p->loss_estimate_bps = 0;
  }
  p->have_video_loss = FALSE;
}

/* This second's bitrates: what each track brought in, what each
 * subscription sent out; and the loss-based estimates. */
void
hq_sfu_account_second (HqSfuParticipant *p, gint64 now)
{
  gdouble sent = 0;
  guint n_video = 0;

  for (guint i = 0; i < p->tracks->len; i++) {
    HqSfuTrack *t = g_ptr_array_index (p->tracks, i);
    t->bitrate_bps = (t->octets_in - t->octets_in_prev) * 8.0;
    t->octets_in_prev = t->octets_in;
    hq_sfu_simulcast_account (t);
  }
  for (guint i = 0; i < p->subs->len; i++) {
    HqSfuSub *sub = g_ptr_array_index (p->subs, i);
    sub->bitrate_bps =
        (guint32)(sub->octets_sent - sub->octets_sent_prev) * 8.0;
    sub->octets_sent_prev = sub->octets_sent;
    sent += sub->bitrate_bps;
    n_video += sub->negotiated && sub->track->kind == HQ_SDP_KIND_VIDEO;
  }
  update_loss_estimate (p, sent, n_video);
}

/* The REMB for @p's video: per video track the least share any of its
 * subscribers gives it (hq_sfu_allocate_shares(); no simulcast: one stream has to
 * fit the most constrained), HQ_SFU_REMB_BPS when none is constrained, at
 * least HQ_SFU_REMB_MIN_BPS; summed over its video tracks. */
static guint64
publisher_remb (HqSfuParticipant *p, guint32 *ssrcs, guint *n)
{
  guint64 total = 0;

  *n = 0;
  for (guint i = 0; i < p->tracks->len && *n < HQ_TRACKS_PER_REMB; i++) {
    HqSfuTrack *t = g_ptr_array_index (p->tracks, i);
    gdouble cap = HQ_SFU_REMB_BPS;
    /* simulcast: subscribers take layers, the publisher sends them all */
    total += hq_sfu_simulcast_feedback (
        t, 0, NULL, NULL, 0, ssrcs, n, HQ_TRACKS_PER_REMB);
    if (t->kind != HQ_SDP_KIND_VIDEO || !t->ssrc)
      continue;
    for (guint j = 0; j < t->subs->len; j++) {
      HqSfuSub *sub = g_ptr_array_index (t->subs, j);
      if (sub->negotiated && sub->share_bps >= 0)
        cap = MIN (cap, sub->share_bps);
    }
    total += (guint64)MAX (cap, (gdouble)HQ_SFU_REMB_MIN_BPS);
    ssrcs[(*n)++] = t->ssrc;
  }
  return total;
}

/* To @p's publish leg: a receiver report on each of its tracks (with LSR
 * and DLSR, so it knows the RTT) and the REMB for its video. */
void
hq_sfu_send_publisher_feedback (HqSfuParticipant *p, gint64 now)
{
  guint8 buf[1200 + HQ_SRTP_MAX_TRAILER];
  HqRtcpReportBlock blocks[HQ_RTCP_MAX_COUNT];
  guint32 ssrcs[HQ_TRACKS_PER_REMB];
  guint n_blocks = 0, n_ssrcs;
  guint64 remb;
  HqRtcpWriter w;

  for (guint i = 0; i < p->tracks->len; i++) {
    HqSfuTrack *t = g_ptr_array_index (p->tracks, i);
    t->have_report =
        t->ssrc && hq_rtp_recv_stats_report (&t->stats, now, &t->report);
    if (t->have_report && n_blocks < G_N_ELEMENTS (blocks))
      blocks[n_blocks++] = t->report;
    hq_sfu_simulcast_feedback (
        t, now, blocks, &n_blocks, G_N_ELEMENTS (blocks), NULL, NULL, 0);
  }
  if (!hq_sfu_connected (p->pub))
    return;
  hq_rtcp_writer_init (&w, buf, 1200);
  hq_rtcp_write_rr (&w, p->media->sfu_ssrc, blocks, n_blocks, NULL);
  remb = publisher_remb (p, ssrcs, &n_ssrcs);
  if (n_ssrcs > 0)
    hq_rtcp_write_remb (&w, p->media->sfu_ssrc, remb, ssrcs, n_ssrcs, NULL);
  hq_transport_send_rtcp (p->pub, buf, w.len, sizeof buf, NULL);
}
