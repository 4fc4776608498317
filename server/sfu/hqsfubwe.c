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

/* The weight of @sub in its subscriber's share: the subscriber's own
 * priority for the track when it set one, else the publisher's. */
static guint
sub_weight (const HqSfuSub *sub)
{
  gpointer own;

  if (g_hash_table_lookup_extended (
          sub->subscriber->sub_priorities, sub->track->sid, NULL, &own))
    return hq_sfu_profile_weight (sub, (HqSfuPriority)GPOINTER_TO_INT (own));
  return hq_sfu_profile_weight (sub, sub->track->priority);
}

static gboolean
sub_counts (const HqSfuSub *sub)
{
  return sub->negotiated && !sub->track->gone && sub->track->enabled;
}

/* Shares @p's estimate between its video subscriptions (sub->share_bps):
 * the estimate less HQ_SFU_AUDIO_BPS per audio subscription, in
 * proportion to the tracks' priority weights, no share below
 * HQ_SFU_REMB_MIN_BPS: a track whose weighted share would fall under it
 * gets the minimum, and the rest is shared again among the others (so a
 * low track is never starved, and what it cannot use goes to the higher
 * ones).  Negative shares when the estimate is unknown. */
void
hq_sfu_allocate_shares (HqSfuParticipant *p, gint64 now)
{
  gdouble est = subscriber_estimate (p, now);
  gboolean *at_min = g_newa (gboolean, MAX (p->subs->len, 1));
  gdouble budget;
  guint audio = 0, weights = 0;
  gboolean again = TRUE;

  for (guint i = 0; i < p->subs->len; i++) {
    HqSfuSub *sub = g_ptr_array_index (p->subs, i);
    sub->share_bps = -1;
    at_min[i] = FALSE;
    if (!sub_counts (sub))
      continue;
    if (sub->track->kind == HQ_SDP_KIND_VIDEO)
      weights += sub_weight (sub);
    else
      audio++;
  }
  p->shared_bps = est;
  if (est < 0 || weights == 0)
    return;
  budget = MAX (0.0, est - audio * (gdouble)HQ_SFU_AUDIO_BPS);
  /* Each round shares what is left among the shares not yet at the
   * minimum and puts those that fall below it at the minimum; it ends
   * after a round that put none there (at most one round per track). */
  while (again && weights > 0) {
    gdouble left = budget;
    guint weights_left = weights;
    again = FALSE;
    for (guint i = 0; i < p->subs->len; i++) {
      HqSfuSub *sub = g_ptr_array_index (p->subs, i);
      guint w = sub_weight (sub);
      if (!sub_counts (sub) || sub->track->kind != HQ_SDP_KIND_VIDEO
          || at_min[i])
        continue;
      sub->share_bps = budget * w / weights;
      if (sub->share_bps < HQ_SFU_REMB_MIN_BPS) {
        sub->share_bps = HQ_SFU_REMB_MIN_BPS;
        at_min[i] = TRUE;
        left -= HQ_SFU_REMB_MIN_BPS;
        weights_left -= w;
        again = TRUE;
      }
    }
    budget = MAX (0.0, left);
    weights = weights_left;
  }
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
