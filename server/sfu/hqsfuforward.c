/* SFU forwarding: publisher packets to subscribers, and the RTCP around it.
 * Runs on the room's worker thread only.  See hqsfu.h.
 *
 * Per packet from a publisher: parse the header once (hqrtp), find the
 * track by SSRC, feed the RFC 6464 audio level to dominant speaker
 * detection, keep video packets in a short history for NACKs, then for
 * each subscriber write a copy into that subscriber's scratch buffer with
 * its SSRC, payload type, sequence number and timestamp, without the
 * header extensions (their ids are the publisher's negotiation, not the
 * subscriber's), and protect and send it in place.
 *
 * Sequence numbers and timestamps: each subscription has its own offsets.
 * They start random, and when forwarding resumes after a pause (mute,
 * keyframe wait) they are re-based so the subscriber sees the sequence
 * continue from where it stopped and the timestamp advance by the time
 * that passed: no gap a jitter buffer would wait for, no jump backwards.
 */
#include "hqsfu-private.h"
#include "hqlog.h"
#include "hqmetrics.h"

#include <string.h>
#include <hq/hqprotocol.h>
#include <hq/hqrtcp.h>
#include <hq/hqutil.h>

/* --- tracks and subscriptions --- */

HqSfuTrack *
hq_sfu_track_new (HqSfuParticipant *publisher, const gchar *sid,
    const gchar *name, HqSdpKind kind)
{
  HqSfuTrack *track = g_new0 (HqSfuTrack, 1);

  track->sid = g_strdup (sid);
  track->name = g_strdup (name);
  track->kind = kind;
  track->publisher = publisher;
  track->enabled = TRUE;
  track->priority = HQ_SFU_PRIORITY_STANDARD;
  track->subs = g_ptr_array_new ();
  track->rtx_pt = -1;
  if (kind == HQ_SDP_KIND_VIDEO) {
    track->history = g_new0 (HqSfuPacket, HQ_SFU_HISTORY);
    track->nack_seq = g_new0 (guint16, HQ_SFU_HISTORY);
    track->nack_us = g_new0 (gint64, HQ_SFU_HISTORY);
  }
  return track;
}

void
hq_sfu_track_free (HqSfuTrack *track)
{
  g_ptr_array_unref (track->subs);
  g_free (track->history);
  g_free (track->nack_seq);
  g_free (track->nack_us);
  g_free (track->sid);
  g_free (track->name);
  g_free (track->mid);
  g_free (track->codec);
  g_free (track);
}

HqSfuSub *
hq_sfu_sub_new (HqSfuTrack *track, HqSfuParticipant *subscriber)
{
  HqSfuSub *sub = g_new0 (HqSfuSub, 1);

  sub->track = track;
  sub->subscriber = subscriber;
  sub->quality.kind =
      track->kind == HQ_SDP_KIND_AUDIO ? HQ_NETQ_AUDIO : HQ_NETQ_VIDEO;
  sub->quality.rtt_ms = -1;
  sub->share_bps = -1;
  hq_metrics_gauge_add (HQ_GAUGE_SUBSCRIPTIONS, 1);
  return sub;
}

void
hq_sfu_sub_free (HqSfuSub *sub)
{
  hq_metrics_gauge_add (HQ_GAUGE_SUBSCRIPTIONS, -1);
  g_free (sub->mid);
  g_free (sub);
}

/* --- keyframes --- */

static gboolean
is_keyframe (HqSfuTrack *track, const guint8 *payload, gsize len)
{
  gboolean start, key = FALSE;

  if (g_ascii_strcasecmp (track->codec, "VP8") == 0)
    return hq_rtp_vp8_parse (payload, len, &start, &key) && key;
  if (g_ascii_strcasecmp (track->codec, "H264") == 0)
    return hq_rtp_h264_keyframe (payload, len);
  return TRUE;
}

static gboolean
connected (HqTransport *t)
{
  return t && hq_transport_get_state (t) == HQ_TRANSPORT_STATE_CONNECTED;
}

/* How long a connected recorder may stay silent before it is sent media
 * anyway (one that never sends RTCP must still be recorded). */
#define HQ_SFU_RECORDER_READY_WAIT_US (3 * G_USEC_PER_SEC)

/* The recorder keeps what it is sent only once it has its SRTP keys,
 * which its first RTCP says (a recording's file starts with its first
 * packet, so none may be lost to the handshake).  Everyone else is sent
 * media as soon as the transport is connected. */
static gboolean
recorder_ready (HqSfuParticipant *p, gint64 now)
{
  if (!p->hidden || p->sub_heard)
    return TRUE;
  if (p->sub_waiting_since == 0)
    p->sub_waiting_since = now;
  if (now - p->sub_waiting_since < HQ_SFU_RECORDER_READY_WAIT_US)
    return FALSE;
  hq_log_message (HQ_LOG_WARN, "sfu",
      "the recorder %s sent no RTCP within %d s of connecting: sending it "
      "media anyway",
      p->sid, (gint)(HQ_SFU_RECORDER_READY_WAIT_US / G_USEC_PER_SEC));
  p->sub_heard = TRUE;
  return TRUE;
}

void
hq_sfu_request_keyframe (HqSfuTrack *track)
{
  HqSfuParticipant *p = track->publisher;
  guint8 buf[64 + HQ_SRTP_MAX_TRAILER];
  HqRtcpWriter w;
  gint64 now = g_get_monotonic_time ();

  /* One request at a time: a new one once the last was answered with a
   * keyframe (subscribers joining one after another each get theirs at
   * once, not a multiple of the interval later), else after
   * HQ_SFU_PLI_INTERVAL_US (it may have been lost); never more often than
   * HQ_SFU_PLI_MIN_US. */
  if (!track->ssrc || !connected (p->pub)
      || now - track->last_pli_us < HQ_SFU_PLI_MIN_US
      || (now - track->last_pli_us < HQ_SFU_PLI_INTERVAL_US
          && track->last_keyframe_us <= track->last_pli_us))
    return;
  track->last_pli_us = now;
  hq_rtcp_writer_init (&w, buf, 64);
  if (hq_rtcp_write_pli (&w, p->media->sfu_ssrc, track->ssrc, NULL)
      && hq_transport_send_rtcp (p->pub, buf, w.len, sizeof buf, NULL))
    hq_metrics_count (HQ_COUNTER_PLI_SENT, 1);
}

/* --- our sender reports --- */

/* The RTP time, in @sub's timestamps, of @now on our monotonic clock: from
 * the publisher's last SR (through its participant's clock offset), or,
 * with @fallback, from the last packet's arrival.  FALSE when there is
 * nothing to go by. */
static gboolean
sub_rtp_time (HqSfuSub *sub, gint64 now, gboolean fallback, guint32 *rtp)
{
  HqSfuTrack *t = sub->track;
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

/* Our SR for @sub alone, at once, when its subscriber's mapping of RTP
 * to NTP time is new or changed: forwarding starts or is re-based, or the
 * publisher's clock became known or moved (docs/sfu.md, "Lip sync from
 * the first frame").  Only from a publisher's SR: the fallback of
 * send_sender_reports() would line streams up by arrival times. */
static void
send_sender_report_now (HqSfuSub *sub, gint64 now)
{
  HqSfuParticipant *p = sub->subscriber;
  guint8 buf[64 + HQ_SRTP_MAX_TRAILER];
  HqRtcpSenderInfo info = { .ssrc = sub->ssrc,
    .ntp = hq_rtcp_ntp_from_unix_us (g_get_real_time ()),
    .packet_count = sub->packets_sent,
    .octet_count = sub->octets_sent };
  HqRtcpWriter w;

  if (!sub->started || !sub->negotiated || sub->track->gone
      || !connected (p->sub)
      || !sub_rtp_time (sub, now, FALSE, &info.rtp_timestamp))
    return;
  hq_rtcp_writer_init (&w, buf, 64);
  if (hq_rtcp_write_sr (&w, &info, NULL, 0, NULL)
      && hq_transport_send_rtcp (p->sub, buf, w.len, sizeof buf, NULL))
    sub->sr_sent_us = now;
}

/* The same for every subscription to any of @publisher's tracks. */
static void
send_publisher_mapping (HqSfuParticipant *publisher, gint64 now)
{
  for (guint i = 0; i < publisher->tracks->len; i++) {
    HqSfuTrack *t = g_ptr_array_index (publisher->tracks, i);

    for (guint j = 0; j < t->subs->len; j++)
      send_sender_report_now (g_ptr_array_index (t->subs, j), now);
  }
}

/* --- forwarding --- */

static void
forward (HqSfuSub *sub, const guint8 *data, const HqRtpHeader *hdr,
    gboolean keyframe, gboolean retransmission)
{
  HqSfuParticipant *p = sub->subscriber;
  HqSfuTrack *track = sub->track;
  guint8 *out = p->scratch;
  gsize head = 12 + 4 * hdr->csrc_count;
  gsize len = head + hdr->payload_len;
  gint64 now = g_get_monotonic_time ();
  guint16 seq;
  guint32 ts;

  if (!sub->negotiated || !connected (p->sub) || len > HQ_SFU_MAX_PACKET
      || !recorder_ready (p, now))
    return;
  if (!retransmission && sub->waiting_keyframe) {
    if (!keyframe) {
      hq_sfu_request_keyframe (track);
      return;
    }
    sub->waiting_keyframe = FALSE;
    /* Re-base after the pause the keyframe wait made. */
    if (sub->started) {
      guint32 ticks = (guint32)MAX (
          1, (now - sub->last_us) * (gint64)track->clock_rate / G_USEC_PER_SEC);
      sub->seq_delta = (guint16)(sub->last_seq + 1 - hdr->seq);
      sub->ts_delta = sub->last_ts + ticks - hdr->timestamp;
      send_sender_report_now (sub, now);
    }
  }
  if (!sub->started) {
    guint16 r16;
    guint32 r32;
    hq_random_bytes ((guint8 *)&r16, sizeof r16);
    hq_random_bytes ((guint8 *)&r32, sizeof r32);
    sub->seq_delta = (guint16)(r16 - hdr->seq);
    sub->ts_delta = r32 - hdr->timestamp;
    sub->started = TRUE;
    sub->started_us = now;
    /* Where the recorder's file of this track starts, as the SFU saw it:
     * the recorder's own measure (hq-record's "media" line) is checked
     * against it. */
    if (p->hidden) {
      JsonObject *line = hq_log_begin (HQ_LOG_INFO, "sfu");
      json_object_set_string_member (line, "what", "recorder-first-packet");
      json_object_set_string_member (line, "room_sid", p->media->room->sid);
      json_object_set_string_member (line, "participant_sid", p->sid);
      json_object_set_string_member (line, "track_sid", track->sid);
      hq_log_end (line);
    }
    /* The subscriber can line this stream up before its first packet
     * plays out, not a second later. */
    send_sender_report_now (sub, now);
  } else if (now - sub->started_us < HQ_SFU_SR_EARLY_US
      && now - sub->sr_sent_us >= HQ_SFU_SR_EARLY_INTERVAL_US) {
    /* While the subscriber's jitter buffer is still learning the delay,
     * it re-lines up the streams at each report. */
    send_sender_report_now (sub, now);
  }

  /* Fixed header and CSRCs as they were, extensions and padding dropped. */
  memcpy (out, data, 12);
  out[0] = (guint8)(0x80 | hdr->csrc_count);
  memcpy (out + 12, data + 12, 4 * hdr->csrc_count);
  memcpy (out + head, data + hdr->payload_offset, hdr->payload_len);
  seq = (guint16)(hdr->seq + sub->seq_delta);
  ts = hdr->timestamp + sub->ts_delta;
  hq_rtp_set_ssrc (out, sub->ssrc);
  hq_rtp_set_payload_type (out, (guint8)sub->pt);
  hq_rtp_set_seq (out, seq);
  hq_rtp_set_timestamp (out, ts);
  if (!retransmission && hq_rtp_seq_newer (seq, sub->last_seq)) {
    sub->last_seq = seq;
    sub->last_ts = ts;
    sub->last_us = now;
  } else if (!retransmission && sub->last_us == 0) {
    sub->last_seq = seq;
    sub->last_ts = ts;
    sub->last_us = now;
  }
  if (hq_transport_send_rtp (p->sub, out, len, sizeof p->scratch, NULL)) {
    __atomic_add_fetch (&p->media->room->forwarded, 1, __ATOMIC_RELAXED);
    __atomic_add_fetch (
        &p->media->room->forwarded_kind[sub->track->kind == HQ_SDP_KIND_VIDEO],
        1, __ATOMIC_RELAXED);
    if (retransmission) {
      __atomic_add_fetch (&p->media->room->retransmitted, 1, __ATOMIC_RELAXED);
      hq_metrics_count (HQ_COUNTER_RETRANSMITTED_PACKETS, 1);
    }
    hq_metrics_count (HQ_COUNTER_RTP_FORWARDED_PACKETS, 1);
    hq_metrics_count (HQ_COUNTER_RTP_FORWARDED_BYTES, len);
    sub->packets_sent++;
    sub->octets_sent += (guint32)hdr->payload_len;
  }
}

/* Sends RTCP BYE for @sub's SSRC to its subscriber. */
static void
send_bye (HqSfuSub *sub)
{
  guint8 buf[64 + HQ_SRTP_MAX_TRAILER];
  HqRtcpWriter w;

  if (!sub->started || !sub->negotiated || !connected (sub->subscriber->sub))
    return;
  hq_rtcp_writer_init (&w, buf, 64);
  if (hq_rtcp_write_bye (&w, &sub->ssrc, 1, NULL, NULL))
    hq_transport_send_rtcp (sub->subscriber->sub, buf, w.len, sizeof buf, NULL);
}

void
hq_sfu_track_gone (HqSfuTrack *track, const gchar *why)
{
  if (track->gone)
    return;
  track->gone = TRUE;
  hq_log_message (HQ_LOG_INFO, "sfu",
      "track %s (ssrc %u) of %s is gone: %s; forwarding it stops", track->sid,
      track->ssrc, track->publisher->sid, why);
  for (guint i = 0; i < track->subs->len; i++)
    send_bye (g_ptr_array_index (track->subs, i));
}

/* Packets arrive again from a track that was gone: subscribers resume at
 * a keyframe, with their sequence continuing where it stopped. */
static void
track_back (HqSfuTrack *track)
{
  track->gone = FALSE;
  track->said_bye = FALSE;
  if (track->kind != HQ_SDP_KIND_VIDEO)
    return;
  for (guint i = 0; i < track->subs->len; i++)
    ((HqSfuSub *)g_ptr_array_index (track->subs, i))->waiting_keyframe = TRUE;
  hq_sfu_request_keyframe (track);
}

static void
remember (HqSfuTrack *track, const guint8 *data, gsize len, guint16 seq)
{
  HqSfuPacket *slot;

  if (track->history == NULL || len > HQ_SFU_MAX_PACKET)
    return;
  slot = &track->history[seq % HQ_SFU_HISTORY];
  slot->seq = seq;
  slot->len = len;
  memcpy (slot->data, data, len);
}

/* A publisher's sender report arrived @offset_us (arrival minus its NTP
 * time) after its wallclock: keeps the least, allowing for drift.  TRUE
 * when that moved the offset by HQ_SFU_SR_MOVED_US or more from what our
 * last reports used (or it is the first). */
static gboolean
publisher_clock_seen (HqSfuParticipant *p, gint64 offset_us, gint64 now)
{
  gboolean moved = !p->have_sr_offset;

  if (p->have_sr_offset) {
    gint64 drifted = p->sr_offset_us
        + (now - p->sr_offset_at_us) * HQ_SFU_CLOCK_DRIFT_US / G_USEC_PER_SEC;

    if (offset_us > drifted)
      offset_us = drifted;
    moved = ABS (offset_us - p->sr_offset_sent_us) >= HQ_SFU_SR_MOVED_US;
  }
  p->have_sr_offset = TRUE;
  p->sr_offset_us = offset_us;
  p->sr_offset_at_us = now;
  if (moved)
    p->sr_offset_sent_us = offset_us;
  return moved;
}

/* What @t's publisher sent since its previous sender report (at least
 * 0.5 s before), by its octet count, and what arrived here meanwhile. */
static void
track_delivery (HqSfuTrack *t, const HqRtcpSenderInfo *info)
{
  gint64 ntp_us = hq_rtcp_unix_us_from_ntp (info->ntp);

  if (t->have_sr_octets) {
    gint64 span = ntp_us - t->sr_octets_ntp_us;
    if (span < G_USEC_PER_SEC / 2 && span >= 0)
      return;
    if (span > 0 && span < 30 * G_USEC_PER_SEC) {
      gdouble s = (gdouble)span / G_USEC_PER_SEC;
      t->sr_sent_bps = (guint32)(info->octet_count - t->sr_octets) * 8.0 / s;
      t->sr_delivered_bps = (t->octets_in - t->sr_octets_in) * 8.0 / s;
    }
  }
  t->have_sr_octets = TRUE;
  t->sr_octets = info->octet_count;
  t->sr_octets_ntp_us = ntp_us;
  t->sr_octets_in = t->octets_in;
}

/* A publisher's RTCP: its sender reports give each track's clock (our own
 * SRs to subscribers map it, see send_sender_reports()), BYE ends a
 * track's forwarding. */
static void
publisher_rtcp (HqSfuParticipant *p, const guint8 *data, gsize len)
{
  HqRtcpIter iter;
  HqRtcpPacket pkt;
  gint64 now = g_get_monotonic_time ();
  gboolean mapping_changed = FALSE;

  if (!hq_rtcp_iter_init (&iter, data, len, NULL))
    return;
  while (hq_rtcp_iter_next (&iter, &pkt)) {
    HqRtcpSenderInfo info;
    HqRtcpReportBlock blocks[HQ_RTCP_MAX_COUNT];
    guint32 ssrcs[HQ_RTCP_MAX_COUNT];
    gchar reason[256];
    guint n = 0;
    HqSfuTrack *track;

    if (pkt.type == HQ_RTCP_SR
        && hq_rtcp_parse_sr (&pkt, &info, blocks, &n, NULL)) {
      track = g_hash_table_lookup (p->pub_ssrcs, GUINT_TO_POINTER (info.ssrc));
      if (track && info.ssrc == track->ssrc) {
        hq_rtp_recv_stats_sr_received (&track->stats, info.ntp, now);
        /* its subscribers went by arrival times until now */
        mapping_changed |= !track->have_sr;
        track->have_sr = TRUE;
        track->sr_rtp = info.rtp_timestamp;
        track->sr_ntp_us = hq_rtcp_unix_us_from_ntp (info.ntp);
        track_delivery (track, &info);
        mapping_changed |=
            publisher_clock_seen (p, now - track->sr_ntp_us, now);
      }
    } else if (pkt.type == HQ_RTCP_BYE
        && hq_rtcp_parse_bye (&pkt, ssrcs, &n, reason, NULL)) {
      for (guint i = 0; i < n; i++) {
        track = g_hash_table_lookup (p->pub_ssrcs, GUINT_TO_POINTER (ssrcs[i]));
        if (track && ssrcs[i] == track->ssrc) {
          track->said_bye = TRUE;
          hq_sfu_track_gone (track, "RTCP BYE");
        }
      }
    }
  }
  if (mapping_changed)
    send_publisher_mapping (p, now);
}

/* Turns an RTX packet (RFC 4588: the original sequence number, then the
 * payload) of @track into the original packet in @out.  FALSE for padding
 * only packets (bandwidth probes). */
static gboolean
unwrap_rtx (HqSfuTrack *track, const guint8 *data, const HqRtpHeader *hdr,
    guint8 *out, gsize *out_len)
{
  gsize head = 12 + 4 * hdr->csrc_count;

  if (hdr->payload_len <= 2 || head + hdr->payload_len - 2 > HQ_SFU_MAX_PACKET)
    return FALSE;
  memcpy (out, data, 12);
  out[0] = (guint8)(0x80 | hdr->csrc_count);
  memcpy (out + 12, data + 12, 4 * hdr->csrc_count);
  memcpy (out + head, data + hdr->payload_offset + 2, hdr->payload_len - 2);
  hq_rtp_set_ssrc (out, track->ssrc);
  hq_rtp_set_payload_type (out, (guint8)track->pt);
  hq_rtp_set_seq (out,
      (guint16)(data[hdr->payload_offset] << 8
          | data[hdr->payload_offset + 1]));
  *out_len = head + hdr->payload_len - 2;
  return TRUE;
}

void
hq_sfu_on_publish_packet (
    gboolean rtcp, guint8 *data, gsize len, gpointer user_data)
{
  HqSfuParticipant *p = user_data;
  HqRtpHeader hdr;
  HqSfuTrack *track;
  gint64 now = g_get_monotonic_time ();
  gboolean keyframe;

  if (rtcp) {
    publisher_rtcp (p, data, len);
    return;
  }
  if (!hq_rtp_parse (data, len, &hdr, NULL))
    return;
  hq_metrics_count (HQ_COUNTER_RTP_RECEIVED_PACKETS, 1);
  hq_metrics_count (HQ_COUNTER_RTP_RECEIVED_BYTES, len);
  track = g_hash_table_lookup (p->pub_ssrcs, GUINT_TO_POINTER (hdr.ssrc));
  if (track && hdr.ssrc == track->rtx_ssrc) {
    /* A retransmission we (or a subscriber through us) asked for: it goes
     * on as the original packet. */
    guint8 *orig = p->scratch;
    gsize orig_len;
    if (hdr.payload_type != track->rtx_pt
        || !unwrap_rtx (track, data, &hdr, orig, &orig_len)
        || !hq_rtp_parse (orig, orig_len, &hdr, NULL))
      return;
    data = orig;
    len = orig_len;
  } else {
    /* Unknown SSRCs and RED/FEC payloads are not forwarded. */
    if (track == NULL || hdr.payload_type != track->pt)
      return;
    hq_rtp_recv_stats_update (&track->stats, hdr.seq, hdr.timestamp, now);
    track->octets_in += hdr.payload_len;
    if (track->last_packet_us == 0 || hdr.seq == track->stats.max_seq) {
      track->last_rtp_ts = hdr.timestamp;
      track->last_packet_us = now;
    }
    if (track->gone)
      track_back (track);
  }
  if (track->audio_level_id) {
    HqRtpExt ext;
    gboolean voice;
    guint8 level;
    if (hq_rtp_ext_find (data, &hdr, (guint8)track->audio_level_id, &ext)
        && hq_rtp_ext_read_audio_level (&ext, &voice, &level))
      hq_dsi_push_level (p->media->dsi, p->speaker_id,
          track->enabled ? level : 127, now / 1000, NULL);
  }
  remember (track, data, len, hdr.seq);
  if (!track->enabled)
    return;
  keyframe = track->kind == HQ_SDP_KIND_VIDEO
      && is_keyframe (track, data + hdr.payload_offset, hdr.payload_len);
  if (keyframe)
    track->last_keyframe_us = now;
  for (guint i = 0; i < track->subs->len; i++)
    forward (g_ptr_array_index (track->subs, i), data, &hdr, keyframe, FALSE);
}

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

  if (!connected (p->pub) || track->gone)
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
  HqSfuTrack *track = sub->track;
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
    if (slot->len != 0 && slot->seq == in_seq
        && hq_rtp_parse (slot->data, slot->len, &hdr, NULL)) {
      forward (sub, slot->data, &hdr, FALSE, TRUE);
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
        hq_sfu_request_keyframe (sub->track);
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
          hq_sfu_request_keyframe (sub->track);
      }
    }
  }
}

/* --- once a second --- */

/* What @p's subscribe leg can take in bits per second: the lower of its
 * REMB (while fresh) and our loss-based estimate; negative when neither is
 * known. */
static gdouble
subscriber_estimate (HqSfuParticipant *p, gint64 now)
{
  gdouble est = p->loss_estimate_bps > 0 ? p->loss_estimate_bps : -1;

  if (p->remb_bps && now - p->remb_us < HQ_SFU_REMB_VALID_US)
    est = est > 0 ? MIN (est, (gdouble)p->remb_bps) : (gdouble)p->remb_bps;
  return est;
}

static guint
priority_weight (HqSfuPriority priority)
{
  switch (priority) {
    case HQ_SFU_PRIORITY_LOW:
      return HQ_SFU_WEIGHT_LOW;
    case HQ_SFU_PRIORITY_HIGH:
      return HQ_SFU_WEIGHT_HIGH;
    default:
      return HQ_SFU_WEIGHT_STANDARD;
  }
}

/* The weight of @sub in its subscriber's share: the subscriber's own
 * priority for the track when it set one, else the publisher's. */
static guint
sub_weight (const HqSfuSub *sub)
{
  gpointer own;

  if (g_hash_table_lookup_extended (
          sub->subscriber->sub_priorities, sub->track->sid, NULL, &own))
    return priority_weight ((HqSfuPriority)GPOINTER_TO_INT (own));
  return priority_weight (sub->track->priority);
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
static void
allocate_shares (HqSfuParticipant *p, gint64 now)
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
static void
account_second (HqSfuParticipant *p, gint64 now)
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

/* An enabled track silent past its timeout is gone (a disabled one may be
 * silent as long as it likes). */
static void
check_timeouts (HqSfuParticipant *p, gint64 now)
{
  for (guint i = 0; i < p->tracks->len; i++) {
    HqSfuTrack *t = g_ptr_array_index (p->tracks, i);
    gint64 timeout = t->kind == HQ_SDP_KIND_VIDEO ? HQ_SFU_VIDEO_TIMEOUT_US
                                                  : HQ_SFU_AUDIO_TIMEOUT_US;
    if (t->enabled && !t->gone && t->last_packet_us
        && now - MAX (t->last_packet_us, t->timeout_from_us) > timeout)
      hq_sfu_track_gone (t, "silent past its timeout");
  }
}

/* Our own sender report for each subscription @p receives: our clock (so
 * its receiver reports give us the leg's RTT) mapped to the publisher's
 * RTP clock, from the publisher's last SR (else its last packet's
 * arrival), in the subscriber's timestamp offset; so the browser can still
 * keep a participant's audio and video in sync. */
static void
send_sender_reports (HqSfuParticipant *p, gint64 now)
{
  guint8 buf[1200 + HQ_SRTP_MAX_TRAILER];
  guint64 ntp = hq_rtcp_ntp_from_unix_us (g_get_real_time ());
  HqRtcpWriter w;

  if (!connected (p->sub))
    return;
  hq_rtcp_writer_init (&w, buf, 1200);
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
    if (!hq_rtcp_write_sr (&w, &info, NULL, 0, NULL)) {
      hq_transport_send_rtcp (p->sub, buf, w.len, sizeof buf, NULL);
      hq_rtcp_writer_init (&w, buf, 1200);
      hq_rtcp_write_sr (&w, &info, NULL, 0, NULL);
    }
  }
  if (w.len > 0)
    hq_transport_send_rtcp (p->sub, buf, w.len, sizeof buf, NULL);
}

/* The REMB for @p's video: per video track the least share any of its
 * subscribers gives it (allocate_shares(); no simulcast: one stream has to
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
static void
send_publisher_feedback (HqSfuParticipant *p, gint64 now)
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
  }
  if (!connected (p->pub))
    return;
  hq_rtcp_writer_init (&w, buf, 1200);
  hq_rtcp_write_rr (&w, p->media->sfu_ssrc, blocks, n_blocks, NULL);
  remb = publisher_remb (p, ssrcs, &n_ssrcs);
  if (n_ssrcs > 0)
    hq_rtcp_write_remb (&w, p->media->sfu_ssrc, remb, ssrcs, n_ssrcs, NULL);
  hq_transport_send_rtcp (p->pub, buf, w.len, sizeof buf, NULL);
}

/* One interval's quality samples of @p, by direction (0: what it sends,
 * as we receive it; 1: what it receives, as its reports say) and kind
 * (0 audio, 1 video). */
typedef struct
{
  HqNetqSample s[2][2][HQ_TRACKS_MAX_SAMPLES];
  guint n[2][2];
} QualitySamples;

static void
add_sample (QualitySamples *q, guint dir, const HqNetqSample *s)
{
  guint kind = s->kind == HQ_NETQ_AUDIO ? 0 : 1;

  if (q->n[dir][kind] < HQ_TRACKS_MAX_SAMPLES)
    q->s[dir][kind][q->n[dir][kind]++] = *s;
}

static void
quality_samples (HqSfuParticipant *p, QualitySamples *q, gint64 now)
{
  memset (q->n, 0, sizeof q->n);
  for (guint i = 0; i < p->tracks->len; i++) {
    HqSfuTrack *t = g_ptr_array_index (p->tracks, i);
    HqNetqSample s = { .kind = t->kind == HQ_SDP_KIND_AUDIO ? HQ_NETQ_AUDIO
                                                            : HQ_NETQ_VIDEO,
      .rtt_ms = p->rtt_ms,
      .bitrate_bps = t->bitrate_bps };
    if (!t->ssrc || !t->enabled || !connected (p->pub))
      continue;
    /* A track its publisher ended (BYE) carries nothing by design; one
     * that went silent while enabled still counts as silent. */
    if (t->gone && t->said_bye)
      continue;
    if (t->have_report) {
      s.fraction_lost = t->report.fraction_lost / 256.0;
      s.jitter_ms =
          t->clock_rate ? t->report.jitter * 1000.0 / t->clock_rate : 0;
    }
    /* Bandwidth against demand: what arrived of what the publisher sent
     * between its last two sender reports.  A link that carries less
     * than the publisher sends queues or drops the rest; before its
     * queue overflows into loss, only this shows it. */
    if (t->sr_sent_bps > 0) {
      s.bitrate_bps = t->sr_delivered_bps;
      s.demand_bps = t->sr_sent_bps;
    }
    /* Media expected, none came: the publisher is unreachable. */
    s.silent = t->stats.received == t->quality_seen;
    t->quality_seen = t->stats.received;
    add_sample (q, 0, &s);
  }
  for (guint i = 0; i < p->subs->len; i++) {
    HqSfuSub *sub = g_ptr_array_index (p->subs, i);
    HqNetqSample s;
    if (!sub->negotiated || !sub->started)
      continue;
    s = sub->quality;
    /* The publish and subscribe legs share the path: one RTT for both. */
    s.rtt_ms = p->rtt_ms;
    s.bitrate_bps = sub->bitrate_bps;
    if (sub->track->kind == HQ_SDP_KIND_VIDEO && sub->share_bps >= 0) {
      /* Bandwidth against demand: what this subscriber can take for the
       * track (its share) against what the publisher sends of it. */
      s.demand_bps = sub->track->bitrate_bps;
      s.available_bps = MAX (sub->share_bps, 1.0);
    }
    add_sample (q, 1, &s);
  }
}

/* Scores @p for this interval and keeps its full report (levels by
 * direction and kind, and the figures) in p->quality_report. */
static gboolean
transport_failed (HqTransport *t)
{
  return t && hq_transport_get_state (t) == HQ_TRANSPORT_STATE_FAILED;
}

static void
score_participant (HqSfuParticipant *p, gint64 now)
{
  static const gchar *const dirs[] = { "send", "recv" };
  static const gchar *const kinds[] = { "audio", "video" };
  QualitySamples *q = g_new0 (QualitySamples, 1);
  HqNetqSample all[4 * HQ_TRACKS_MAX_SAMPLES];
  JsonObject *report = json_object_new ();
  JsonObject *stats = json_object_new ();
  guint n_all = 0;
  gint level;

  quality_samples (p, q, now);
  for (guint d = 0; d < 2; d++) {
    HqNetqSample dir_samples[2 * HQ_TRACKS_MAX_SAMPLES];
    guint n_dir = 0;
    JsonObject *dir_stats = json_object_new ();
    for (guint k = 0; k < 2; k++) {
      gdouble lost = 0, jitter = 0, rtt = -1, bitrate = 0, demand = 0;
      gdouble available = -1;
      for (guint i = 0; i < q->n[d][k]; i++) {
        const HqNetqSample *s = &q->s[d][k][i];
        dir_samples[n_dir++] = *s;
        all[n_all++] = *s;
        lost = MAX (lost, s->fraction_lost);
        jitter = MAX (jitter, s->jitter_ms);
        rtt = MAX (rtt, s->rtt_ms);
        bitrate += s->bitrate_bps;
        demand += s->demand_bps;
        if (s->available_bps > 0)
          available = available < 0 ? s->available_bps
                                    : MIN (available, s->available_bps);
      }
      p->part_level[d][k] =
          hq_netq_score_update (&p->part_quality[d][k], q->s[d][k], q->n[d][k]);
      if (q->n[d][k] > 0) {
        JsonObject *f = json_object_new ();
        json_object_set_double_member (f, "fraction_lost", lost);
        json_object_set_double_member (f, "jitter_ms", jitter);
        if (rtt >= 0)
          json_object_set_double_member (f, "rtt_ms", rtt);
        else
          json_object_set_null_member (f, "rtt_ms");
        json_object_set_double_member (f, "bitrate_bps", bitrate);
        if (demand > 0)
          json_object_set_double_member (f, "demand_bps", demand);
        if (available > 0)
          json_object_set_double_member (f, "available_bps", available);
        json_object_set_object_member (dir_stats, kinds[k], f);
      }
    }
    p->dir_level[d] =
        hq_netq_score_update (&p->dir_quality[d], dir_samples, n_dir);
    json_object_set_object_member (stats, dirs[d], dir_stats);
  }
  level = hq_netq_score_update (&p->quality, all, n_all);
  /* A failed transport carries nothing: that link is broken (level 0, as
   * Twilio's "network broken"), not perfect for want of samples. */
  if (transport_failed (p->pub)) {
    p->dir_level[0] = 0;
    level = 0;
  }
  if (transport_failed (p->sub)) {
    p->dir_level[1] = 0;
    level = 0;
  }
  json_object_set_int_member (report, "level", level);
  hq_sfu_participant_set_metrics_level (p, level);
  json_object_set_int_member (report, "send", p->dir_level[0]);
  json_object_set_int_member (report, "recv", p->dir_level[1]);
  for (guint k = 0; k < 2; k++) {
    JsonObject *o = json_object_new ();
    json_object_set_int_member (o, "send", p->part_level[0][k]);
    json_object_set_int_member (o, "recv", p->part_level[1][k]);
    json_object_set_object_member (report, kinds[k], o);
  }
  json_object_set_object_member (report, "stats", stats);
  g_clear_pointer (&p->quality_report, json_object_unref);
  p->quality_report = report;
  g_free (q);
}

/* @about's report as @to may see it: verbosity 1 the level, 2 also the
 * send/recv levels, 3 also the figures (docs/protocol.md). */
static JsonObject *
report_for (HqSfuParticipant *about, guint verbosity)
{
  JsonObject *r = about->quality_report;
  JsonObject *o = json_object_new ();

  json_object_set_string_member (o, "participant_sid", about->sid);
  json_object_set_string_member (o, "identity", about->identity);
  json_object_set_int_member (
      o, "level", json_object_get_int_member (r, "level"));
  if (verbosity >= 2) {
    json_object_set_int_member (
        o, "send", json_object_get_int_member (r, "send"));
    json_object_set_int_member (
        o, "recv", json_object_get_int_member (r, "recv"));
    json_object_set_member (
        o, "audio", json_node_copy (json_object_get_member (r, "audio")));
    json_object_set_member (
        o, "video", json_node_copy (json_object_get_member (r, "video")));
  }
  if (verbosity >= 3)
    json_object_set_member (
        o, "stats", json_node_copy (json_object_get_member (r, "stats")));
  return o;
}

void
hq_sfu_room_media_second (HqSfuRoomMedia *media)
{
  gint64 now = g_get_monotonic_time ();
  GHashTableIter iter, inner;
  gpointer value, other;

  /* Bitrates and estimates first: a publisher's REMB reads its
   * subscribers'. */
  g_hash_table_iter_init (&iter, media->participants);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    account_second (value, now);
  g_hash_table_iter_init (&iter, media->participants);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    allocate_shares (value, now);
  g_hash_table_iter_init (&iter, media->participants);
  while (g_hash_table_iter_next (&iter, NULL, &value)) {
    HqSfuParticipant *p = value;

    check_timeouts (p, now);
    send_sender_reports (p, now);
    send_publisher_feedback (p, now);
    for (guint i = 0; i < p->subs->len; i++) {
      HqSfuSub *sub = g_ptr_array_index (p->subs, i);
      if (sub->waiting_keyframe && sub->negotiated && !sub->track->gone)
        hq_sfu_request_keyframe (sub->track);
    }
    score_participant (p, now);
  }

  /* Each participant gets its own level at its local verbosity and the
   * others' at its remote verbosity (0: not at all). */
  g_hash_table_iter_init (&iter, media->participants);
  while (g_hash_table_iter_next (&iter, NULL, &value)) {
    HqSfuParticipant *to = value;
    JsonArray *levels = json_array_new ();
    JsonObject *msg;

    g_hash_table_iter_init (&inner, media->participants);
    while (g_hash_table_iter_next (&inner, NULL, &other)) {
      HqSfuParticipant *about = other;
      guint v = about == to ? to->verbosity_local : to->verbosity_remote;
      if (v > 0 && !about->hidden)
        json_array_add_object_element (levels, report_for (about, v));
    }
    msg = hq_protocol_message_new (HQ_MESSAGE_NETWORK_QUALITY, NULL);
    json_object_set_array_member (msg, "participants", levels);
    if (to->verbosity_local > 0 || to->verbosity_remote > 0)
      hq_sfu_room_send (media->room, to->sid, msg);
    json_object_unref (msg);
  }
}
