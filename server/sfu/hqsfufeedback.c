/* What subscribers say about what we send them: NACKs (answered from the
 * history, else asked of the publisher), PLI and FIR (passed on to the
 * publisher, rate-limited), REMB, transport-wide feedback and receiver
 * reports (for estimates, RTT and network quality). */
#include "hqsfufeedback.h"
#include "hqsfubwe.h"
#include "hqsfuforward.h"
#include "hqsfutwcc.h"
#include "hqlog.h"
#include "hqmetrics.h"

/* --- subscriber feedback --- */

/* Asks @track's publisher for the packets in @missing (its sequence
 * numbers) that we have not asked for in the last HQ_SFU_NACK_REPEAT_US,
 * within HQ_SFU_NACK_PER_SECOND for the track. */
static void
nack_upstream (HqSfuTrack *track, const guint16 *missing, guint n)
{
  HqSfuParticipant *p = track->publisher;
  guint16 ask[HQ_SFU_HISTORY];
  guint8 buf[1200 + HQ_SRTP_MAX_TRAILER];
  gint64 now = g_get_monotonic_time ();
  HqRtcpWriter w;
  guint k = 0;

  if (!hq_sfu_connected (p->pub) || track->gone)
    return;
  if (now - track->nack_window_us >= G_USEC_PER_SEC) {
    track->nack_window_us = now;
    track->nack_in_window = 0;
  }
  for (guint i = 0; i < n && k < G_N_ELEMENTS (ask); i++) {
    guint slot = missing[i] % HQ_SFU_HISTORY;
    if (track->nack_in_window >= HQ_SFU_NACK_PER_SECOND)
      break;
    if (track->nack_us[slot] && track->nack_seq[slot] == missing[i]
        && now - track->nack_us[slot] < HQ_SFU_NACK_REPEAT_US)
      continue;
    track->nack_seq[slot] = missing[i];
    track->nack_us[slot] = now;
    track->nack_in_window++;
    ask[k++] = missing[i];
  }
  if (k == 0)
    return;
  hq_rtcp_writer_init (&w, buf, 1200);
  if (hq_rtcp_write_nack (&w, p->media->sfu_ssrc, track->ssrc, ask, k, NULL)
      && hq_transport_send_rtcp (p->pub, buf, w.len, sizeof buf, NULL)) {
    __atomic_add_fetch (
        &p->media->room->nacked_upstream, (guint64)k, __ATOMIC_RELAXED);
    hq_metrics_count (HQ_COUNTER_NACKED_UPSTREAM_PACKETS, k);
  }
}

/* A subscriber's NACK: what the history holds is sent again at once; what
 * we never received ourselves (older than the newest packet, within the
 * history's span) is asked of the publisher, and reaches every subscriber
 * when it comes (none of them had it). */
static void
answer_nack (HqSfuSub *sub, GArray *lost)
{
  HqSfuTrack *track = hq_sfu_sub_stream (sub);
  guint16 missing[HQ_SFU_HISTORY];
  guint n_missing = 0;

  __atomic_add_fetch (&sub->subscriber->media->room->nacked, (guint64)lost->len,
      __ATOMIC_RELAXED);
  hq_metrics_count (HQ_COUNTER_NACKED_PACKETS, lost->len);
  if (track->history == NULL)
    return;
  for (guint i = 0; i < lost->len; i++) {
    guint16 in_seq =
        (guint16)(g_array_index (lost, guint16, i) - sub->seq_delta);
    HqSfuPacket *slot = &track->history[in_seq % HQ_SFU_HISTORY];
    guint16 behind = (guint16)(track->stats.max_seq - in_seq);
    HqRtpHeader hdr;
    if (!hq_sfu_sub_nack_ok (sub, g_array_index (lost, guint16, i)))
      continue;
    if (slot->len != 0 && slot->seq == in_seq
        && hq_rtp_parse (slot->data, slot->len, &hdr, NULL)) {
      hq_sfu_forward (sub, slot->data, &hdr, FALSE, TRUE);
    } else if (track->stats.started && behind > 0 && behind < HQ_SFU_HISTORY
        && n_missing < G_N_ELEMENTS (missing)) {
      missing[n_missing++] = in_seq;
    }
  }
  if (n_missing > 0)
    nack_upstream (track, missing, n_missing);
}

static void
subscriber_report (HqSfuParticipant *p, const HqRtcpReportBlock *b)
{
  HqSfuSub *sub =
      g_hash_table_lookup (p->sub_ssrcs, GUINT_TO_POINTER (b->ssrc));
  gdouble rtt;

  if (sub == NULL || sub->track->clock_rate == 0)
    return;
  sub->quality.fraction_lost = b->fraction_lost / 256.0;
  sub->quality.jitter_ms = b->jitter * 1000.0 / sub->track->clock_rate;
  if (sub->track->kind == HQ_SDP_KIND_VIDEO) {
    p->video_loss = MAX (
        p->have_video_loss ? p->video_loss : 0, sub->quality.fraction_lost);
    p->have_video_loss = TRUE;
    if (sub->quality.fraction_lost >= HQ_SFU_CONGESTION_LOSS)
      p->video_loss_us = g_get_monotonic_time ();
  }
  /* Our own SRs carry our clock, so LSR/DLSR give this leg's RTT. */
  rtt = hq_rtcp_rtt_ms (b, hq_rtcp_ntp_from_unix_us (g_get_real_time ()));
  if (rtt >= 0) {
    p->rtt_ms = p->rtt_ms < 0 ? rtt : 0.8 * p->rtt_ms + 0.2 * rtt;
    hq_metrics_observe (HQ_HISTOGRAM_RTT_SECONDS, rtt / 1000.0);
  }
}

void
hq_sfu_on_subscribe_packet (
    gboolean rtcp, guint8 *data, gsize len, gpointer user_data)
{
  HqSfuParticipant *p = user_data;
  g_autoptr (GArray) list = NULL;
  HqRtcpIter iter;
  HqRtcpPacket pkt;

  if (!rtcp || !hq_rtcp_iter_init (&iter, data, len, NULL))
    return;
  if (p->hidden && !p->sub_heard) {
    JsonObject *line = hq_log_begin (HQ_LOG_INFO, "sfu");
    json_object_set_string_member (line, "what", "recorder-ready");
    json_object_set_string_member (line, "room_sid", p->media->room->sid);
    json_object_set_string_member (line, "participant_sid", p->sid);
    hq_log_end (line);
  }
  p->sub_heard = TRUE;
  while (hq_rtcp_iter_next (&iter, &pkt)) {
    HqRtcpReportBlock blocks[HQ_RTCP_MAX_COUNT];
    HqRtcpSenderInfo info;
    guint32 reporter;
    guint n = 0;
    HqRtcpFb fb;
    HqSfuSub *sub;

    if (pkt.type == HQ_RTCP_RR
        && hq_rtcp_parse_rr (&pkt, &reporter, blocks, &n, NULL)) {
      for (guint i = 0; i < n; i++)
        subscriber_report (p, &blocks[i]);
    } else if (pkt.type == HQ_RTCP_SR
        && hq_rtcp_parse_sr (&pkt, &info, blocks, &n, NULL)) {
      for (guint i = 0; i < n; i++)
        subscriber_report (p, &blocks[i]);
    } else if (pkt.type == HQ_RTCP_RTPFB && pkt.count == HQ_RTCP_RTPFB_NACK) {
      if (list == NULL)
        list = g_array_new (FALSE, FALSE, sizeof (guint16));
      g_array_set_size (list, 0);
      if (hq_rtcp_parse_nack (&pkt, &fb, list, NULL)
          && (sub = g_hash_table_lookup (
                  p->sub_ssrcs, GUINT_TO_POINTER (fb.media_ssrc))))
        answer_nack (sub, list);
    } else if (pkt.type == HQ_RTCP_RTPFB && pkt.count == HQ_RTCP_RTPFB_TWCC) {
      hq_sfu_twcc_on_feedback (p, &pkt);
      hq_sfu_estimate_updated (p, g_get_monotonic_time ());
    } else if (pkt.type == HQ_RTCP_PSFB && pkt.count == HQ_RTCP_PSFB_AFB) {
      HqRtcpRemb remb;
      if (hq_rtcp_parse_remb (&pkt, &fb, &remb, NULL)) {
        p->remb_bps = remb.bitrate;
        p->remb_us = g_get_monotonic_time ();
      }
    } else if (pkt.type == HQ_RTCP_PSFB && pkt.count == HQ_RTCP_PSFB_PLI) {
      if (hq_rtcp_parse_pli (&pkt, &fb, NULL)
          && (sub = g_hash_table_lookup (
                  p->sub_ssrcs, GUINT_TO_POINTER (fb.media_ssrc)))) {
        hq_metrics_count (HQ_COUNTER_PLI_RECEIVED, 1);
        hq_sfu_request_keyframe (hq_sfu_sub_stream (sub));
      }
    } else if (pkt.type == HQ_RTCP_PSFB && pkt.count == HQ_RTCP_PSFB_FIR) {
      g_autoptr (GArray) entries =
          g_array_new (FALSE, FALSE, sizeof (HqRtcpFirEntry));
      if (!hq_rtcp_parse_fir (&pkt, &fb, entries, NULL))
        continue;
      for (guint i = 0; i < entries->len; i++) {
        HqRtcpFirEntry *e = &g_array_index (entries, HqRtcpFirEntry, i);
        if ((sub = g_hash_table_lookup (
                 p->sub_ssrcs, GUINT_TO_POINTER (e->ssrc))))
          hq_sfu_request_keyframe (hq_sfu_sub_stream (sub));
      }
    }
  }
}
