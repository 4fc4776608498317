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
  track->subs = g_ptr_array_new ();
  if (kind == HQ_SDP_KIND_VIDEO)
    track->history = g_new0 (HqSfuPacket, HQ_SFU_HISTORY);
  return track;
}

void
hq_sfu_track_free (HqSfuTrack *track)
{
  g_ptr_array_unref (track->subs);
  g_free (track->history);
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
  return sub;
}

void
hq_sfu_sub_free (HqSfuSub *sub)
{
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

void
hq_sfu_request_keyframe (HqSfuTrack *track)
{
  HqSfuParticipant *p = track->publisher;
  guint8 buf[64 + HQ_SRTP_MAX_TRAILER];
  HqRtcpWriter w;
  gint64 now = g_get_monotonic_time ();

  if (!track->ssrc || !connected (p->pub)
      || now - track->last_pli_us < HQ_SFU_PLI_INTERVAL_US)
    return;
  track->last_pli_us = now;
  hq_rtcp_writer_init (&w, buf, 64);
  if (hq_rtcp_write_pli (&w, p->media->sfu_ssrc, track->ssrc, NULL))
    hq_transport_send_rtcp (p->pub, buf, w.len, sizeof buf, NULL);
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

  if (!sub->negotiated || !connected (p->sub) || len > HQ_SFU_MAX_PACKET)
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
    sub->packets_sent++;
    sub->octets_sent += (guint32)hdr->payload_len;
  }
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

/* Passes a publisher's sender report on to each subscriber in that
 * subscriber's terms (its SSRC, its timestamp offset, what it was sent):
 * the NTP-to-RTP mapping is what lets a browser play a participant's audio
 * and video in sync. */
static void
translate_sr (HqSfuTrack *track, const HqRtcpSenderInfo *info)
{
  for (guint i = 0; i < track->subs->len; i++) {
    HqSfuSub *sub = g_ptr_array_index (track->subs, i);
    HqSfuParticipant *to = sub->subscriber;
    HqRtcpSenderInfo out = *info;
    guint8 buf[64 + HQ_SRTP_MAX_TRAILER];
    HqRtcpWriter w;

    if (!sub->started || !sub->negotiated || !connected (to->sub))
      continue;
    out.ssrc = sub->ssrc;
    out.rtp_timestamp = info->rtp_timestamp + sub->ts_delta;
    out.packet_count = sub->packets_sent;
    out.octet_count = sub->octets_sent;
    hq_rtcp_writer_init (&w, buf, 64);
    if (hq_rtcp_write_sr (&w, &out, NULL, 0, NULL))
      hq_transport_send_rtcp (to->sub, buf, w.len, sizeof buf, NULL);
  }
}

static void
publisher_rtcp (HqSfuParticipant *p, const guint8 *data, gsize len)
{
  HqRtcpIter iter;
  HqRtcpPacket pkt;

  if (!hq_rtcp_iter_init (&iter, data, len, NULL))
    return;
  while (hq_rtcp_iter_next (&iter, &pkt)) {
    HqRtcpSenderInfo info;
    HqRtcpReportBlock blocks[HQ_RTCP_MAX_COUNT];
    guint n = 0;
    HqSfuTrack *track;

    if (pkt.type != HQ_RTCP_SR
        || !hq_rtcp_parse_sr (&pkt, &info, blocks, &n, NULL))
      continue;
    track = g_hash_table_lookup (p->pub_ssrcs, GUINT_TO_POINTER (info.ssrc));
    if (track) {
      hq_rtp_recv_stats_sr_received (
          &track->stats, info.ntp, g_get_monotonic_time ());
      translate_sr (track, &info);
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

  if (rtcp) {
    publisher_rtcp (p, data, len);
    return;
  }
  if (!hq_rtp_parse (data, len, &hdr, NULL))
    return;
  track = g_hash_table_lookup (p->pub_ssrcs, GUINT_TO_POINTER (hdr.ssrc));
  /* Unknown SSRCs, RTX and RED/FEC payloads are not forwarded. */
  if (track == NULL || hdr.payload_type != track->pt)
    return;
  hq_rtp_recv_stats_update (&track->stats, hdr.seq, hdr.timestamp, now);
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
  for (guint i = 0; i < track->subs->len; i++)
    forward (g_ptr_array_index (track->subs, i), data, &hdr, keyframe, FALSE);
}

/* --- subscriber feedback --- */

static void
answer_nack (HqSfuSub *sub, GArray *lost)
{
  HqSfuTrack *track = sub->track;

  if (track->history == NULL)
    return;
  for (guint i = 0; i < lost->len; i++) {
    guint16 in_seq =
        (guint16)(g_array_index (lost, guint16, i) - sub->seq_delta);
    HqSfuPacket *slot = &track->history[in_seq % HQ_SFU_HISTORY];
    HqRtpHeader hdr;
    if (slot->len == 0 || slot->seq != in_seq
        || !hq_rtp_parse (slot->data, slot->len, &hdr, NULL))
      continue;
    forward (sub, slot->data, &hdr, FALSE, TRUE);
  }
}

static void
subscriber_report (HqSfuParticipant *p, const HqRtcpReportBlock *b)
{
  HqSfuSub *sub =
      g_hash_table_lookup (p->sub_ssrcs, GUINT_TO_POINTER (b->ssrc));

  if (sub == NULL || sub->track->clock_rate == 0)
    return;
  sub->quality.fraction_lost = b->fraction_lost / 256.0;
  sub->quality.jitter_ms = b->jitter * 1000.0 / sub->track->clock_rate;
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
    } else if (pkt.type == HQ_RTCP_PSFB && pkt.count == HQ_RTCP_PSFB_PLI) {
      if (hq_rtcp_parse_pli (&pkt, &fb, NULL)
          && (sub = g_hash_table_lookup (
                  p->sub_ssrcs, GUINT_TO_POINTER (fb.media_ssrc))))
        hq_sfu_request_keyframe (sub->track);
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

static void
send_remb (HqSfuParticipant *p)
{
  guint8 buf[256 + HQ_SRTP_MAX_TRAILER];
  guint32 ssrcs[HQ_TRACKS_PER_REMB];
  guint n = 0;
  HqRtcpWriter w;

  if (!connected (p->pub))
    return;
  for (guint i = 0; i < p->tracks->len && n < G_N_ELEMENTS (ssrcs); i++) {
    HqSfuTrack *t = g_ptr_array_index (p->tracks, i);
    if (t->kind == HQ_SDP_KIND_VIDEO && t->ssrc)
      ssrcs[n++] = t->ssrc;
  }
  if (n == 0)
    return;
  hq_rtcp_writer_init (&w, buf, 256);
  if (hq_rtcp_write_remb (
          &w, p->media->sfu_ssrc, HQ_SFU_REMB_BPS, ssrcs, n, NULL))
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
    HqRtcpReportBlock b;
    HqNetqSample s = { .kind = t->kind == HQ_SDP_KIND_AUDIO ? HQ_NETQ_AUDIO
                                                            : HQ_NETQ_VIDEO,
      .rtt_ms = -1 };
    if (!t->ssrc || !t->enabled || !connected (p->pub))
      continue;
    if (hq_rtp_recv_stats_report (&t->stats, now, &b)) {
      s.fraction_lost = b.fraction_lost / 256.0;
      s.jitter_ms = t->clock_rate ? b.jitter * 1000.0 / t->clock_rate : 0;
    }
    /* Media expected, none came: the publisher is unreachable. */
    s.silent = t->stats.received == t->quality_seen;
    t->quality_seen = t->stats.received;
    add_sample (q, 0, &s);
  }
  for (guint i = 0; i < p->subs->len; i++) {
    HqSfuSub *sub = g_ptr_array_index (p->subs, i);
    if (sub->negotiated && sub->started)
      add_sample (q, 1, &sub->quality);
  }
}

/* Scores @p for this interval and keeps its full report (levels by
 * direction and kind, and the figures) in p->quality_report. */
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

  quality_samples (p, q, now);
  for (guint d = 0; d < 2; d++) {
    HqNetqSample dir_samples[2 * HQ_TRACKS_MAX_SAMPLES];
    guint n_dir = 0;
    JsonObject *dir_stats = json_object_new ();
    for (guint k = 0; k < 2; k++) {
      gdouble lost = 0, jitter = 0;
      for (guint i = 0; i < q->n[d][k]; i++) {
        const HqNetqSample *s = &q->s[d][k][i];
        dir_samples[n_dir++] = *s;
        all[n_all++] = *s;
        lost = MAX (lost, s->fraction_lost);
        jitter = MAX (jitter, s->jitter_ms);
      }
      p->part_level[d][k] =
          hq_netq_score_update (&p->part_quality[d][k], q->s[d][k], q->n[d][k]);
      if (q->n[d][k] > 0) {
        JsonObject *f = json_object_new ();
        json_object_set_double_member (f, "fraction_lost", lost);
        json_object_set_double_member (f, "jitter_ms", jitter);
        json_object_set_null_member (f, "rtt_ms");
        json_object_set_object_member (dir_stats, kinds[k], f);
      }
    }
    p->dir_level[d] =
        hq_netq_score_update (&p->dir_quality[d], dir_samples, n_dir);
    json_object_set_object_member (stats, dirs[d], dir_stats);
  }
  json_object_set_int_member (
      report, "level", hq_netq_score_update (&p->quality, all, n_all));
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

  g_hash_table_iter_init (&iter, media->participants);
  while (g_hash_table_iter_next (&iter, NULL, &value)) {
    HqSfuParticipant *p = value;

    send_remb (p);
    for (guint i = 0; i < p->subs->len; i++) {
      HqSfuSub *sub = g_ptr_array_index (p->subs, i);
      if (sub->waiting_keyframe && sub->negotiated)
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
    msg = json_object_new ();
    json_object_set_string_member (msg, "type", "network_quality");
    json_object_set_array_member (msg, "participants", levels);
    if (to->verbosity_local > 0 || to->verbosity_remote > 0)
      hq_sfu_room_send (media->room, to->sid, msg);
    json_object_unref (msg);
  }
}
