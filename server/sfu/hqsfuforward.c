/* SFU forwarding: publisher packets to subscribers, the track and
 * subscription records, keyframe requests, and the publisher's RTCP.
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
#include "hqsfuforward.h"
#include "hqsfuaudio.h"
#include "hqsfusr.h"
#include "hqsfulayers.h"
#include "hqsfushard.h"
#include "hqsfupace.h"
#include "hqlog.h"
#include "hqsfutap.h"
#include "hqsfutwcc.h"
#include "hqmetrics.h"

#include <string.h>
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
  hq_sfu_track_free_layers (track);
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

void
hq_sfu_track_free_layers (HqSfuTrack *track)
{
  for (guint i = 0; i < track->n_layers; i++) {
    g_free (track->layers[i]->rid);
    hq_sfu_track_free (track->layers[i]);
    track->layers[i] = NULL;
  }
  track->n_layers = 0;
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

  if (track->n_layers > 0) {
    /* simulcast: each layer somebody forwards or waits for */
    gboolean want[HQ_SFU_MAX_LAYERS];
    hq_sfu_layers_wanted (track, want);
    for (guint i = 0; i < track->n_layers; i++)
      if (want[i])
        hq_sfu_request_keyframe (track->layers[i]);
    return;
  }
  /* One request at a time: a new one once the last was answered with a
   * keyframe (subscribers joining one after another each get theirs at
   * once, not a multiple of the interval later), else after
   * HQ_SFU_PLI_INTERVAL_US (it may have been lost); never more often than
   * HQ_SFU_PLI_MIN_US. */
  if (!track->ssrc || !hq_sfu_connected (p->pub)
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

/* --- forwarding --- */

void
hq_sfu_forward (HqSfuSub *sub, const guint8 *data, const HqRtpHeader *hdr,
    gboolean keyframe, gboolean retransmission)
{
  HqSfuParticipant *p = sub->subscriber;
  HqSfuTrack *track = sub->track;
  guint8 *out = p->scratch;
  gsize head = 12 + 4 * hdr->csrc_count;
  gsize ext = p->sub_twcc_id ? 8 : 0; /* our transport-wide number */
  gsize len = head + ext + hdr->payload_len;
  gint64 now = g_get_monotonic_time ();
  guint16 seq;
  guint32 ts;

  if (!sub->negotiated || !hq_sfu_sub_up (p) || len > HQ_SFU_MAX_PACKET
      || !recorder_ready (p, now))
    return;
  /* switched off for this subscriber (hqsfusimulcast.c) */
  if (sub->off_reason != HQ_SWITCH_OFF_NONE
      && sub->off_reason != HQ_SWITCH_OFF_BY_PUBLISHER)
    return;
  if (!retransmission && sub->waiting_keyframe) {
    if (!keyframe) {
      hq_sfu_request_keyframe (hq_sfu_sub_stream (sub));
      return;
    }
    sub->waiting_keyframe = FALSE;
    /* Re-base after the pause the keyframe wait made. */
    if (sub->started) {
      hq_sfu_sub_continue_at (sub, hdr, now);
      hq_sfu_send_sender_report_now (sub, now);
    }
  }
  if (G_UNLIKELY (sub->off_announced) && !retransmission)
    hq_sfu_sub_forwarding (sub);
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
    hq_sfu_send_sender_report_now (sub, now);
  } else if (now - sub->started_us < HQ_SFU_SR_EARLY_US
      && now - sub->sr_sent_us >= HQ_SFU_SR_EARLY_INTERVAL_US) {
    /* While the subscriber's jitter buffer is still learning the delay,
     * it re-lines up the streams at each report. */
    hq_sfu_send_sender_report_now (sub, now);
  }

  /* Fixed header and CSRCs as they were, the publisher's extensions and
   * padding dropped; the subscribe leg's transport-wide number added. */
  memcpy (out, data, 12);
  out[0] = (guint8)(0x80 | hdr->csrc_count | (ext ? 0x10 : 0));
  memcpy (out + 12, data + 12, 4 * hdr->csrc_count);
  memcpy (out + head + ext, data + hdr->payload_offset, hdr->payload_len);
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
  /* the transport-wide number is written as it leaves (hqsfupace.c);
   * a well-formed block meanwhile, for the tap */
  if (ext)
    hq_rtp_write_twcc_ext_block (out + head, (guint8)p->sub_twcc_id, 0);
  hq_sfu_tap_packet (out, len, track->kind == HQ_SDP_KIND_VIDEO);
  if (hq_sfu_pace_send (p, out, len, ext ? head : 0,
          track->kind != HQ_SDP_KIND_VIDEO, retransmission, now)) {
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

  if (!sub->started || !sub->negotiated || !hq_sfu_sub_up (sub->subscriber))
    return;
  hq_rtcp_writer_init (&w, buf, 64);
  if (hq_rtcp_write_bye (&w, &sub->ssrc, 1, NULL, NULL))
    hq_sfu_sub_send (sub->subscriber, TRUE, buf, w.len, sizeof buf);
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
 * SRs to subscribers map it, see hq_sfu_send_sender_reports()), BYE ends a
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
    hq_sfu_send_publisher_mapping (p, now);
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

/* An audio packet of @track with RFC 6464 level @level (-1: none): to
 * every subscriber while its publisher is among the loudest
 * (hqsfuaudio.c), to the recorder always. */
static void
forward_audio (HqSfuTrack *track, const guint8 *data, const HqRtpHeader *hdr,
    gint level, gint64 now)
{
  gboolean audible = hq_sfu_audio_audible (track, level, now);
  guint sent = 0, held = 0;

  for (guint i = 0; i < track->subs->len; i++) {
    HqSfuSub *sub = g_ptr_array_index (track->subs, i);
    guint32 before = sub->packets_sent;

    if (!audible && !sub->subscriber->hidden) {
      held += hq_sfu_audio_hold (sub);
      continue;
    }
    hq_sfu_audio_resume (sub, hdr->seq);
    hq_sfu_forward (sub, data, hdr, FALSE, FALSE);
    sent += sub->packets_sent - before;
  }
  hq_sfu_audio_count (track, sent, held);
}

/* A packet of a simulcast layer: to the subscriptions that forward that
 * layer or switch to it here (hqsfulayers.c). */
static void
forward_layer (HqSfuTrack *layer, const guint8 *data, const HqRtpHeader *hdr,
    gboolean keyframe, gint64 now)
{
  HqSfuTrack *t = layer->parent;

  if (keyframe)
    hq_rtp_vp8_keyframe_size (data + hdr->payload_offset, hdr->payload_len,
        &layer->width, &layer->height);
  else if (layer->width == 0 && g_strcmp0 (t->codec, "VP8") == 0)
    /* Its size shows only in a keyframe (render-size hints pick by it,
     * REST reports it): one whose first keyframe went by before the layer
     * was known is asked for one, whether or not anybody receives it. */
    hq_sfu_request_keyframe (layer);
  if (!t->enabled)
    return;
  for (guint i = 0; i < t->subs->len; i++) {
    HqSfuSub *sub = g_ptr_array_index (t->subs, i);

    switch (hq_sfu_layer_takes (sub, layer, hdr, keyframe, now)) {
      case HQ_SFU_LAYER_FORWARD:
        hq_sfu_forward (sub, data, hdr, keyframe, FALSE);
        break;
      case HQ_SFU_LAYER_WANTS_KEYFRAME:
        hq_sfu_request_keyframe (layer);
        break;
      case HQ_SFU_LAYER_SKIP:
        break;
    }
  }
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
  gint heard_level = -1;

  if (rtcp) {
    publisher_rtcp (p, data, len);
    return;
  }
  if (!hq_rtp_parse (data, len, &hdr, NULL))
    return;
  if (p->pub_twcc_id)
    hq_sfu_twcc_on_publish_packet (p, data, &hdr, now);
  hq_metrics_count (HQ_COUNTER_RTP_RECEIVED_PACKETS, 1);
  hq_metrics_count (HQ_COUNTER_RTP_RECEIVED_BYTES, len);
  track = g_hash_table_lookup (p->pub_ssrcs, GUINT_TO_POINTER (hdr.ssrc));
  if (track == NULL)
    track = hq_sfu_layer_learn (p, data, &hdr);
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
        && hq_rtp_ext_read_audio_level (&ext, &voice, &level)) {
      hq_dsi_push_level (p->media->dsi, p->speaker_id,
          track->enabled ? level : 127, now / 1000, NULL);
      heard_level = level;
    }
  }
  remember (track, data, len, hdr.seq);
  if (!track->enabled)
    return;
  if (track->kind == HQ_SDP_KIND_AUDIO) {
    forward_audio (track, data, &hdr, heard_level, now);
    return;
  }
  keyframe = track->kind == HQ_SDP_KIND_VIDEO
      && is_keyframe (track, data + hdr.payload_offset, hdr.payload_len);
  if (keyframe)
    track->last_keyframe_us = now;
  if (track->parent) {
    forward_layer (track, data, &hdr, keyframe, now);
    return;
  }
  for (guint i = 0; i < track->subs->len; i++)
    hq_sfu_forward (
        g_ptr_array_index (track->subs, i), data, &hdr, keyframe, FALSE);
}

/* An enabled track silent past its timeout is gone (a disabled one may be
 * silent as long as it likes). */
void
hq_sfu_check_timeouts (HqSfuParticipant *p, gint64 now)
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
