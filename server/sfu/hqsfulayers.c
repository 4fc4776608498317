/* Simulcast layers on the packet path (docs/sfu.md, "Layer selection"):
 * what forwarding needs of them, below hqsfuforward.c.  Runs on the
 * room's worker only.
 *
 * A layer is an HqSfuTrack of its own under its track (hqsfustate.h).
 * Here: learning a layer's SSRC from the RID and MID header extensions of
 * its first packet; per subscription and packet, whether the packet goes
 * out, switches the subscription to its layer first (at a keyframe of the
 * wanted layer: sequence numbers go on by one, timestamps on the same
 * capture clock), or calls for a keyframe; which layers anybody forwards
 * or waits for; and the switch-off events.  What is wanted, and when, is
 * decided above forwarding, in hqsfusimulcast.c.
 */
#include "hqsfulayers.h"
#include "hqsfuedge.h"
#include "hqsfusr.h"
#include "hqlog.h"

#include <hq/hqprotocol.h>

/* A subscription switching down whose share is under this part of the
 * bitrate of the layer it forwards gets nothing until the lower layer's
 * keyframe. */
#define HQ_SFU_LAYER_STARVED 0.5

/* The RID (or repaired RID) an extension of @data carries, into @buf. */
static gboolean
read_sdes (const guint8 *data, const HqRtpHeader *hdr, guint id, gchar *buf,
    gsize size)
{
  HqRtpExt ext;

  /* the MID, RID and repaired-RID extensions are all SDES text */
  return id != 0 && hq_rtp_ext_find (data, hdr, (guint8)id, &ext)
      && hq_rtp_ext_read_mid (&ext, buf, size);
}

static HqSfuTrack *
find_layer (HqSfuTrack *track, const gchar *rid)
{
  for (guint i = 0; i < track->n_layers; i++)
    if (g_strcmp0 (track->layers[i]->rid, rid) == 0)
      return track->layers[i];
  return NULL;
}

HqSfuTrack *
hq_sfu_layer_learn (
    HqSfuParticipant *p, const guint8 *data, const HqRtpHeader *hdr)
{
  guint n_simulcast = 0;

  for (guint i = 0; i < p->tracks->len; i++)
    n_simulcast +=
        ((HqSfuTrack *)g_ptr_array_index (p->tracks, i))->n_layers > 0;
  for (guint i = 0; n_simulcast > 0 && i < p->tracks->len; i++) {
    HqSfuTrack *t = g_ptr_array_index (p->tracks, i);
    gchar mid[64], rid[HQ_SDP_MAX_RID_LEN + 1];
    gboolean repaired = FALSE;
    HqSfuTrack *l;

    if (t->n_layers == 0)
      continue;
    if (read_sdes (data, hdr, t->mid_ext_id, mid, sizeof mid)) {
      if (g_strcmp0 (mid, t->mid) != 0)
        continue;
    } else if (n_simulcast > 1) {
      continue; /* which m-line it is, only the MID could say */
    }
    if (!read_sdes (data, hdr, t->rid_ext_id, rid, sizeof rid)) {
      if (!read_sdes (data, hdr, t->rrid_ext_id, rid, sizeof rid))
        return NULL;
      repaired = TRUE;
    }
    l = find_layer (t, rid);
    if (l == NULL)
      return NULL;
    if (repaired) {
      if (l->rtx_ssrc)
        g_hash_table_remove (p->pub_ssrcs, GUINT_TO_POINTER (l->rtx_ssrc));
      l->rtx_ssrc = hdr->ssrc;
    } else {
      if (l->ssrc)
        g_hash_table_remove (p->pub_ssrcs, GUINT_TO_POINTER (l->ssrc));
      l->ssrc = hdr->ssrc;
      l->gone = FALSE;
      l->have_sr = FALSE;
      l->last_packet_us = 0;
      hq_rtp_recv_stats_init (&l->stats, l->ssrc, l->clock_rate);
    }
    g_hash_table_insert (p->pub_ssrcs, GUINT_TO_POINTER (hdr->ssrc), l);
    hq_log_message (HQ_LOG_INFO, "sfu",
        "track %s of %s: layer %s is %s ssrc %u", t->sid, p->sid, rid,
        repaired ? "the RTX of" : "", hdr->ssrc);
    return l;
  }
  return NULL;
}

/* --- subscriptions --- */

void
hq_sfu_sub_switch_event (HqSfuSub *sub, gboolean off)
{
  JsonObject *msg = hq_protocol_message_new (
      off ? HQ_MESSAGE_TRACK_SWITCHED_OFF : HQ_MESSAGE_TRACK_SWITCHED_ON, NULL);

  json_object_set_string_member (msg, "track_sid", sub->track->sid);
  json_object_set_string_member (
      msg, "participant_sid", sub->track->publisher->sid);
  if (off)
    json_object_set_string_member (
        msg, "reason", hq_switch_off_reason_name (sub->off_reason));
  hq_sfu_room_send (sub->subscriber->media->room, sub->subscriber->sid, msg);
  json_object_unref (msg);
  sub->off_announced = off;
}

void
hq_sfu_sub_forwarding (HqSfuSub *sub)
{
  if (sub->off_reason == HQ_SWITCH_OFF_BY_PUBLISHER)
    sub->off_reason = HQ_SWITCH_OFF_NONE;
  if (sub->off_announced && sub->off_reason == HQ_SWITCH_OFF_NONE)
    hq_sfu_sub_switch_event (sub, FALSE);
}

/* Moves @sub onto @layer at its keyframe @hdr: sequence numbers go on by
 * one, timestamps on the same capture clock (this file's opening
 * comment). */
static void
switch_layer (
    HqSfuSub *sub, HqSfuTrack *layer, const HqRtpHeader *hdr, gint64 now)
{
  HqSfuTrack *t = sub->track;
  HqSfuTrack *old = sub->layer >= 0 ? t->layers[sub->layer] : NULL;

  sub->waiting_keyframe = FALSE;
  if (sub->started) {
    guint32 delta = 0;
    gboolean by_clock = old && old->have_sr && layer->have_sr;

    if (by_clock) {
      gint64 moved = (layer->sr_ntp_us - old->sr_ntp_us) * (gint64)t->clock_rate
          / G_USEC_PER_SEC;
      delta = sub->ts_delta + old->sr_rtp - layer->sr_rtp + (guint32)moved;
      /* never at or before what the subscriber already has */
      by_clock = (gint32)(hdr->timestamp + delta - sub->last_ts) > 0;
    }
    hq_sfu_sub_continue_at (sub, hdr, now);
    if (by_clock)
      sub->ts_delta = delta;
    sub->switch_seq = (guint16)(sub->last_seq + 1);
    sub->have_switch_seq = TRUE;
  }
  hq_log_message (HQ_LOG_INFO, "sfu",
      "subscriber %s, track %s: layer %s -> %s at a keyframe",
      sub->subscriber->sid, t->sid, old ? old->rid : "none", layer->rid);
  sub->layer = (gint)layer->layer_index;
  sub->switched_us = now;
  if (sub->started && layer->have_sr)
    hq_sfu_send_sender_report_now (sub, now);
}

HqSfuLayerVerdict
hq_sfu_layer_takes (HqSfuSub *sub, HqSfuTrack *layer, const HqRtpHeader *hdr,
    gboolean keyframe, gint64 now)
{
  gint index = (gint)layer->layer_index;

  /* (one disabled by the publisher resumes at its next keyframe) */
  if ((sub->off_reason != HQ_SWITCH_OFF_NONE
          && sub->off_reason != HQ_SWITCH_OFF_BY_PUBLISHER)
      || !sub->negotiated)
    return HQ_SFU_LAYER_SKIP;
  if (index == sub->target_layer && index != sub->layer) {
    if (!keyframe)
      return HQ_SFU_LAYER_WANTS_KEYFRAME;
    switch_layer (sub, layer, hdr, now);
  }
  if (index != sub->layer)
    return HQ_SFU_LAYER_SKIP;
  /* Going down because the link cannot carry this layer at all: sending
   * it on until the lower layer's keyframe would only keep the queue on
   * the way full, and that keyframe stuck behind it. */
  if (G_UNLIKELY (sub->target_layer >= 0 && sub->target_layer < index)
      && sub->share_bps >= 0
      && sub->share_bps < HQ_SFU_LAYER_STARVED * layer->bitrate_bps)
    return HQ_SFU_LAYER_SKIP;
  return HQ_SFU_LAYER_FORWARD;
}

void
hq_sfu_layers_wanted (const HqSfuTrack *track, gboolean *want)
{
  for (guint i = 0; i < HQ_SFU_MAX_LAYERS; i++)
    want[i] = FALSE;
  for (guint i = 0; i < track->subs->len; i++) {
    const HqSfuSub *sub = g_ptr_array_index (track->subs, i);
    if (sub->layer >= 0)
      want[sub->layer] = TRUE;
    if (sub->target_layer >= 0)
      want[sub->target_layer] = TRUE;
  }
}
