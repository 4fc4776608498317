/* Our sender reports to subscribers (docs/sfu.md, "RTCP, per leg" and
 * "Lip sync from the first frame"): our clock mapped to each publisher's
 * RTP clock in the subscriber's timestamps, once a second and at once
 * whenever the mapping is new or moved. */
#include "hqsfusr.h"
#include "hqsfushard.h"

/* --- our sender reports --- */

/* The RTP time, in @sub's timestamps, of @now on our monotonic clock: from
 * the publisher's last SR (through its participant's clock offset), or,
 * with @fallback, from the last packet's arrival.  FALSE when there is
 * nothing to go by. */
static gboolean
sub_rtp_time (HqSfuSub *sub, gint64 now, gboolean fallback, guint32 *rtp)
{
  /* a simulcast subscription's offsets are its current layer's */
  HqSfuTrack *t = hq_sfu_sub_stream (sub);
  guint32 base;
  gint64 at;

  if (t->clock_rate == 0)
    return FALSE;
  if (t->have_sr) {
    base = t->sr_rtp;
    at = t->sr_ntp_us + t->publisher->sr_offset_us;
  } else if (fallback && t->last_packet_us) {
    base = t->last_rtp_ts;
    at = t->last_packet_us;
  } else {
    return FALSE;
  }
  *rtp = base + sub->ts_delta
      + (guint32)((now - at) * (gint64)t->clock_rate / G_USEC_PER_SEC);
  return TRUE;
}

/* Room for our SR (no report blocks) and its SDES with a CNAME of up
 * to 255 bytes. */
#define HQ_SFU_SR_MAX 320

/* Sends @info, our SR for @sub, as a compound packet of its own: the SR,
 * then an SDES with the CNAME of its SSRC, the publisher's sid.  RFC 3550
 * (6.1) wants a CNAME in every compound packet; a subscriber pairs a
 * participant's audio and video for lip sync by it (rtpbin does); and
 * rtpssrcdemux hands a whole compound packet to the source of its first
 * SR, so each SR travels alone. */
static gboolean
send_sr (HqSfuSub *sub, const HqRtcpSenderInfo *info)
{
  guint8 buf[HQ_SFU_SR_MAX + HQ_SRTP_MAX_TRAILER];
  HqRtcpWriter w;

  hq_rtcp_writer_init (&w, buf, HQ_SFU_SR_MAX);
  return hq_rtcp_write_sr (&w, info, NULL, 0, NULL)
      && hq_rtcp_write_sdes_cname (
          &w, info->ssrc, sub->track->publisher->sid, NULL)
      && hq_sfu_sub_send (sub->subscriber, TRUE, buf, w.len, sizeof buf);
}

/* Our SR for @sub alone, at once, when its subscriber's mapping of RTP
 * to NTP time is new or changed: forwarding starts or is re-based, or the
 * publisher's clock became known or moved (docs/sfu.md, "Lip sync from
 * the first frame").  Only from a publisher's SR: the fallback of
 * hq_sfu_send_sender_reports() would line streams up by arrival times. */
void
hq_sfu_send_sender_report_now (HqSfuSub *sub, gint64 now)
{
  HqSfuParticipant *p = sub->subscriber;
  HqRtcpSenderInfo info = { .ssrc = sub->ssrc,
    .ntp = hq_rtcp_ntp_from_unix_us (g_get_real_time ()),
    .packet_count = sub->packets_sent,
    .octet_count = sub->octets_sent };

  if (!sub->started || !sub->negotiated || sub->track->gone
      || !hq_sfu_sub_up (p)
      || !sub_rtp_time (sub, now, FALSE, &info.rtp_timestamp))
    return;
  if (send_sr (sub, &info))
    sub->sr_sent_us = now;
}

/* The same for every subscription to any of @publisher's tracks. */
void
hq_sfu_send_publisher_mapping (HqSfuParticipant *publisher, gint64 now)
{
  for (guint i = 0; i < publisher->tracks->len; i++) {
    HqSfuTrack *t = g_ptr_array_index (publisher->tracks, i);

    for (guint j = 0; j < t->subs->len; j++)
      hq_sfu_send_sender_report_now (g_ptr_array_index (t->subs, j), now);
  }
}

/* Our own sender report for each subscription @p receives: our clock (so
 * its receiver reports give us the leg's RTT) mapped to the publisher's
 * RTP clock, from the publisher's last SR (else its last packet's
 * arrival), in the subscriber's timestamp offset; so the browser can still
 * keep a participant's audio and video in sync.  Each with its CNAME, in
 * a compound packet of its own (send_sr()). */
void
hq_sfu_send_sender_reports (HqSfuParticipant *p, gint64 now)
{
  guint64 ntp = hq_rtcp_ntp_from_unix_us (g_get_real_time ());

  if (!hq_sfu_sub_up (p))
    return;
  for (guint i = 0; i < p->subs->len; i++) {
    HqSfuSub *sub = g_ptr_array_index (p->subs, i);
    HqSfuTrack *t = sub->track;
    HqRtcpSenderInfo info = { .ssrc = sub->ssrc, .ntp = ntp };

    if (!sub->started || !sub->negotiated || t->gone
        || !sub_rtp_time (sub, now, TRUE, &info.rtp_timestamp))
      continue;
    if (t->have_sr)
      t->publisher->sr_offset_sent_us = t->publisher->sr_offset_us;
    sub->sr_sent_us = now;
    info.packet_count = sub->packets_sent;
    info.octet_count = sub->octets_sent;
    send_sr (sub, &info);
  }
}
