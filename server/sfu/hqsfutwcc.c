/* Transport-wide congestion control (docs/sfu.md, "Congestion control"),
 * both legs, on the room's worker:
 *
 * - Publish leg: the server is the receiver.  When the publisher
 *   negotiated transport-cc and the sequence number extension (Chromium
 *   does), every packet's arrival is noted by its transport-wide number
 *   (media, RTX and padding probes alike) and feedback goes back every
 *   HQ_SFU_TWCC_FEEDBACK_US while packets come, so the publisher's own
 *   send-side estimator works.  The REMB of the REMB policy still goes
 *   out: libwebrtc keeps it as an upper limit of its estimate.
 * - Subscribe leg: the server is the sender.  Every packet forwarded to a
 *   subscriber that negotiated the extension carries a number of that
 *   transport's own sequence; the feedback the subscriber returns feeds a
 *   send-side estimate (libhq hqtwcc.h, GCC-like), which the REMB policy
 *   then uses instead of the subscriber's REMB and receiver-report loss. */
#include "hqsfutwcc.h"

#include <hq/hqtwcc.h>

guint
hq_sfu_twcc_ext_id (const HqSdp *sdp)
{
  for (guint i = 0; sdp && i < sdp->media->len; i++) {
    const HqSdpMedia *m = g_ptr_array_index (sdp->media, i);
    guint id = hq_sdp_media_extmap_id (m, HQ_SDP_EXT_TWCC);
    if (!hq_sdp_media_is_active (m) || id == 0 || id > 14)
      continue;
    for (guint k = 0; k < m->codecs->len; k++)
      if (hq_sdp_codec_has_fb (
              g_ptr_array_index (m->codecs, k), "transport-cc"))
        return id;
  }
  return 0;
}

static void
send_publisher_feedback (HqSfuParticipant *p, guint32 media_ssrc)
{
  guint8 buf[1200 + HQ_SRTP_MAX_TRAILER];

  /* Each round writes what fits one datagram; a few rounds cover any
   * backlog (8192 statuses fit a packet at best). */
  for (guint round = 0; round < 4 && hq_twcc_recorder_pending (p->pub_twcc) > 0;
       round++) {
    HqRtcpWriter w;
    hq_rtcp_writer_init (&w, buf, 1200);
    while (hq_twcc_recorder_write (
        p->pub_twcc, &w, p->media->sfu_ssrc, media_ssrc))
      ;
    if (w.len == 0
        || !hq_transport_send_rtcp (p->pub, buf, w.len, sizeof buf, NULL))
      break;
  }
}

void
hq_sfu_twcc_on_publish_packet (
    HqSfuParticipant *p, const guint8 *data, const HqRtpHeader *hdr, gint64 now)
{
  HqRtpExt ext;
  guint16 seq;

  if (!hq_rtp_ext_find (data, hdr, (guint8)p->pub_twcc_id, &ext)
      || !hq_rtp_ext_read_twcc_seq (&ext, &seq))
    return;
  if (p->pub_twcc == NULL)
    p->pub_twcc = hq_twcc_recorder_new ();
  hq_twcc_recorder_add (p->pub_twcc, seq, now);
  if (now - p->pub_twcc_sent_us >= HQ_SFU_TWCC_FEEDBACK_US
      && hq_sfu_connected (p->pub)) {
    p->pub_twcc_sent_us = now;
    send_publisher_feedback (p, hdr->ssrc);
  }
}

gsize
hq_sfu_twcc_stamp (HqSfuParticipant *p, guint8 *out, gsize len, gint64 now)
{
  if (p->sub_twcc_id == 0)
    return 0;
  if (p->sub_twcc == NULL)
    p->sub_twcc =
        hq_twcc_sender_new (HQ_SFU_TWCC_START_BPS, HQ_SFU_REMB_MIN_BPS);
  return hq_rtp_write_twcc_ext_block (
      out, (guint8)p->sub_twcc_id, hq_twcc_sender_next (p->sub_twcc, len, now));
}

gsize
hq_sfu_twcc_write_probe (
    HqSfuParticipant *p, guint8 *out, guint padding, guint8 cluster, gint64 now)
{
  gsize len = 12 + 8 + padding;

  if (p->sub_twcc_id == 0 || p->sub_twcc == NULL)
    return 0;
  return hq_rtp_write_padding_packet (out, padding, (guint8)p->sub_twcc_id,
      hq_twcc_sender_next_probe (p->sub_twcc, len, now, cluster));
}

void
hq_sfu_twcc_on_feedback (HqSfuParticipant *p, const HqRtcpPacket *pkt)
{
  g_autoptr (GArray) statuses = NULL;
  HqTwccFeedback twcc;
  gint64 now = g_get_monotonic_time ();
  HqRtcpFb fb;

  if (p->sub_twcc == NULL)
    return;
  statuses = g_array_new (FALSE, FALSE, sizeof (HqTwccStatus));
  if (hq_rtcp_parse_twcc (pkt, &fb, &twcc, statuses, NULL)
      && hq_twcc_sender_on_feedback (p->sub_twcc,
             (const HqTwccStatus *)statuses->data, statuses->len, now)
          > 0)
    p->sub_twcc_us = now;
}

gdouble
hq_sfu_twcc_estimate (HqSfuParticipant *p, gint64 now)
{
  if (p->sub_twcc == NULL || p->sub_twcc_us == 0
      || now - p->sub_twcc_us >= HQ_SFU_REMB_VALID_US)
    return -1;
  return hq_twcc_sender_estimate (p->sub_twcc);
}

gboolean
hq_sfu_twcc_congested (HqSfuParticipant *p, gint64 now)
{
  if (p->video_loss_us != 0
      && now - p->video_loss_us < HQ_SFU_CONGESTION_HOLD_US)
    return TRUE;
  return hq_sfu_twcc_estimate (p, now) >= 0
      && !hq_twcc_sender_may_probe (p->sub_twcc, now);
}

void
hq_sfu_twcc_clear (HqSfuParticipant *p)
{
  g_clear_pointer (&p->pub_twcc, hq_twcc_recorder_free);
  g_clear_pointer (&p->sub_twcc, hq_twcc_sender_free);
}
