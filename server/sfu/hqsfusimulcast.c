/* Simulcast in the SFU (docs/sfu.md, "Layer selection"; docs/protocol.md,
 * "Simulcast and bandwidth profiles").  Runs on the room's worker only.
 *
 * A publisher's video m-line with a=simulcast makes its track a parent of
 * up to three layers, lowest first.  Each layer is an HqSfuTrack of its
 * own (hqsfustate.h), so what the SFU does per stream (receive stats, the
 * NACK history, keyframe times, the rate limit of PLIs, the clock from
 * sender reports) works per layer unchanged.  The layers' SSRCs come from
 * the RID (and repaired-RID, for RTX) header extension of their first
 * packets, with the MID extension naming the m-line.
 *
 * Each subscription forwards one layer at a time (sub->layer) and may
 * want another (sub->target_layer): it switches at the first keyframe of
 * the wanted layer, asking the publisher for one.  At a switch the
 * sequence numbers continue by one, and the timestamps continue on the
 * same capture clock: both layers' sender reports map their RTP time to
 * the publisher's wallclock, so the new offset is the old one moved by
 * the difference of the two mappings (no jump); without both reports,
 * by the time that passed, as a resume after a pause does.
 *
 * Once a second, after the subscriber's bandwidth is shared between its
 * video tracks (hqsfubwe.c), each subscription picks the highest layer
 * that its render size asks for and its share carries (going up needs
 * 25 % headroom and 2 s since the last switch; going down is at once), or
 * is switched off.  A layer nobody receives or wants for 2 s is turned
 * off at the publisher (publish_layers), the lowest never.
 */
#include "hqsfusimulcast.h"
#include "hqsfuedge.h"
#include "hqsfuforward.h"
#include "hqsfulayers.h"
#include "hqsfutwcc.h"
#include "hqlog.h"
#include "hqsfucmd.h"

#include <string.h>
#include <hq/hqprotocol.h>

/* What a layer is taken to need before its bitrate is measured, by its
 * place from the top: what Chromium's encoder aims at for 720p, 360p and
 * 180p. */
static const gdouble nominal_bps[HQ_SFU_MAX_LAYERS] = { 1500000, 500000,
  150000 };
/* What a simulcast track's publisher is let send (REMB), all layers. */
#define HQ_SFU_SIMULCAST_REMB_BPS 2500000
/* How much of a layer's bitrate each second's measurement makes (an
 * exponential average over about four seconds). */
#define HQ_SFU_LAYER_RATE_SMOOTHING 0.25
/* Going up a layer needs this much more than the layer's bitrate. */
#define HQ_SFU_UP_HEADROOM 1.25
/* No switch up within this long of the last switch. */
#define HQ_SFU_SWITCH_HOLD_US (2 * G_USEC_PER_SEC)
/* A layer nobody received or wanted for this long is turned off. */
#define HQ_SFU_LAYER_IDLE_US (2 * G_USEC_PER_SEC)
/* A layer that sent nothing for this long cannot be switched to. */
#define HQ_SFU_LAYER_SILENT_US (1500 * 1000)

/* --- layers of a published track --- */

static gboolean
same_rids (const HqSfuTrack *track, const HqSdpMedia *om)
{
  if (track->n_layers != om->simulcast->len)
    return FALSE;
  for (guint i = 0; i < track->n_layers; i++)
    if (g_strcmp0 (track->layers[i]->rid, om->simulcast->pdata[i]) != 0)
      return FALSE;
  return TRUE;
}

void
hq_sfu_simulcast_unmap (HqSfuTrack *track)
{
  GHashTable *ssrcs = track->publisher->pub_ssrcs;

  for (guint i = 0; i < track->n_layers; i++) {
    HqSfuTrack *l = track->layers[i];
    if (l->ssrc && g_hash_table_lookup (ssrcs, GUINT_TO_POINTER (l->ssrc)) == l)
      g_hash_table_remove (ssrcs, GUINT_TO_POINTER (l->ssrc));
    if (l->rtx_ssrc
        && g_hash_table_lookup (ssrcs, GUINT_TO_POINTER (l->rtx_ssrc)) == l)
      g_hash_table_remove (ssrcs, GUINT_TO_POINTER (l->rtx_ssrc));
  }
}

gboolean
hq_sfu_simulcast_map (
    HqSfuTrack *track, const HqSdpMedia *om, const HqSdpMedia *am)
{
  gint64 now = g_get_monotonic_time ();
  gboolean simulcast = track->kind == HQ_SDP_KIND_VIDEO
      && hq_sdp_media_is_simulcast (om)
      && om->simulcast_direction == HQ_SDP_SENDONLY;

  if (!simulcast || !same_rids (track, om)) {
    hq_sfu_simulcast_unmap (track);
    hq_sfu_track_free_layers (track);
  }
  if (!simulcast)
    return FALSE;
  track->mid_ext_id = hq_sdp_media_extmap_id (am, HQ_SDP_EXT_MID);
  track->rid_ext_id = hq_sdp_media_extmap_id (am, HQ_SDP_EXT_RID);
  track->rrid_ext_id = hq_sdp_media_extmap_id (am, HQ_SDP_EXT_REPAIRED_RID);
  for (guint i = 0; i < om->simulcast->len && i < HQ_SFU_MAX_LAYERS; i++) {
    HqSfuTrack *l = track->layers[i];

    if (l == NULL) {
      l = hq_sfu_track_new (
          track->publisher, track->sid, track->name, HQ_SDP_KIND_VIDEO);
      l->parent = track;
      l->layer_index = i;
      l->rid = g_strdup (om->simulcast->pdata[i]);
      track->layers[i] = l;
      track->n_layers = i + 1;
    }
    g_free (l->codec);
    l->codec = g_strdup (track->codec);
    l->pt = track->pt;
    l->rtx_pt = track->rtx_pt;
    l->clock_rate = track->clock_rate;
    l->active = TRUE;
    l->wanted_us = now;
  }
  hq_log_message (HQ_LOG_INFO, "sfu",
      "track %s of %s is simulcast: %u layers (RID extension id %u, "
      "repaired-RID %u, MID %u)",
      track->sid, track->publisher->sid, track->n_layers, track->rid_ext_id,
      track->rrid_ext_id, track->mid_ext_id);
  return TRUE;
}

/* --- subscriptions --- */

/* Makes @reason @sub's state; the event goes once its subscriber knows
 * the track (its answer is in). */
static void
set_off (HqSfuSub *sub, HqSwitchOffReason reason)
{
  HqSfuTrack *t = sub->track;

  if (reason != sub->off_reason) {
    sub->off_reason = reason;
    if (reason == HQ_SWITCH_OFF_NONE) {
      /* back at a keyframe; track_switched_on when it goes out */
      sub->waiting_keyframe = TRUE;
      if (t->n_layers == 0)
        hq_sfu_request_keyframe (t);
    } else if (reason != HQ_SWITCH_OFF_BY_PUBLISHER) {
      sub->layer = -1;
      sub->target_layer = -1;
    }
    if (reason != HQ_SWITCH_OFF_NONE && sub->negotiated)
      hq_sfu_sub_switch_event (sub, TRUE);
  } else if (reason != HQ_SWITCH_OFF_NONE && !sub->off_announced
      && sub->negotiated) {
    hq_sfu_sub_switch_event (sub, TRUE);
  }
}

static gboolean
layer_available (const HqSfuTrack *l, gint64 now)
{
  return l->ssrc != 0 && !l->gone && l->last_packet_us != 0
      && now - l->last_packet_us < HQ_SFU_LAYER_SILENT_US;
}

static gdouble
nominal_rate (const HqSfuTrack *t, guint i)
{
  guint from_top = t->n_layers - 1 - i;

  return nominal_bps[MIN (from_top, HQ_SFU_MAX_LAYERS - 1)];
}

static gdouble
layer_rate (const HqSfuTrack *t, guint i)
{
  const HqSfuTrack *l = t->layers[i];

  return l->bitrate_bps > 0 ? l->bitrate_bps : nominal_rate (t, i);
}

/* Layer @i's size: its own, else a known layer's scaled by 2 a step (our
 * clients' and Chromium's default); 0 when no layer's size is known. */
static void
layer_size (const HqSfuTrack *t, guint i, guint *w, guint *h)
{
  *w = *h = 0;
  if (t->layers[i]->width) {
    *w = t->layers[i]->width;
    *h = t->layers[i]->height;
    return;
  }
  for (guint j = 0; j < t->n_layers; j++) {
    const HqSfuTrack *k = t->layers[j];
    if (k->width == 0)
      continue;
    *w = i > j ? k->width << (i - j) : k->width >> (j - i);
    *h = i > j ? k->height << (i - j) : k->height >> (j - i);
    return;
  }
}

gdouble
hq_sfu_layer_need (const HqSfuSub *sub, gint i)
{
  gdouble need = layer_rate (sub->track, i);

  if (i > sub->layer)
    need *= HQ_SFU_UP_HEADROOM;
  return need;
}

gint
hq_sfu_wanted_layer (const HqSfuSub *sub)
{
  const HqSfuTrack *t = sub->track;
  gint top = t->n_layers - 1;

  if (!sub->hint_width || !sub->hint_height)
    return top;
  for (gint i = 0; i <= top; i++) {
    guint w, h;
    layer_size (t, i, &w, &h);
    if (w == 0)
      break;
    if (w >= sub->hint_width && h >= sub->hint_height)
      return i;
  }
  return top;
}

/* The layer @sub should receive, or -1 with *@reason when its share
 * carries none.  @urgent (a hint or profile changed): no hold. */
static gint
choose_layer (
    HqSfuSub *sub, gint64 now, gboolean urgent, HqSwitchOffReason *reason)
{
  HqSfuTrack *t = sub->track;
  HqSfuParticipant *p = sub->subscriber;
  gint top = t->n_layers - 1, desired = hq_sfu_wanted_layer (sub), target;

  if (sub->share_bps >= 0) {
    gint fits = -1;
    for (gint i = desired; i >= 0 && fits < 0; i--)
      if (hq_sfu_layer_need (sub, i) <= sub->share_bps)
        fits = i;
    /* "detected": switched off for congestion only once the link
     * shows it (loss, overuse), not on the estimate alone */
    if (fits < 0 && p->profile.track_switch_off_mode != HQ_SWITCH_OFF_DISABLED
        && (p->profile.track_switch_off_mode != HQ_SWITCH_OFF_DETECTED
            || p->capped_by_profile || hq_sfu_twcc_congested (p, now))) {
      *reason = p->capped_by_profile ? HQ_SWITCH_OFF_MAX_BANDWIDTH
                                     : HQ_SWITCH_OFF_CONGESTION;
      return -1;
    }
    desired = MAX (fits, 0);
  }
  if (!urgent && sub->layer >= 0 && desired > sub->layer
      && now - sub->switched_us < HQ_SFU_SWITCH_HOLD_US)
    desired = sub->layer;
  t->layers[desired]->wanted_us = now;
  /* the best that is coming in at or below it, else above it */
  target = desired;
  while (target > 0 && !layer_available (t->layers[target], now))
    target--;
  if (!layer_available (t->layers[target], now)) {
    target = desired;
    for (gint i = desired + 1; i <= top; i++) {
      if (layer_available (t->layers[i], now)) {
        target = i;
        break;
      }
    }
  }
  t->layers[target]->wanted_us = now;
  return target;
}

/* Decides @sub's layer or switch-off now. */
static void
select_sub (HqSfuSub *sub, gint64 now, gboolean urgent)
{
  HqSfuTrack *t = sub->track;
  HqSwitchOffReason reason = HQ_SWITCH_OFF_NONE;
  gint target = -1;

  if (t->kind != HQ_SDP_KIND_VIDEO || t->gone)
    return;
  /* a one-layer track disabled by its publisher is as before: not
   * forwarded, its subscribers told by track_disabled alone */
  if (sub->hint_disabled)
    reason = HQ_SWITCH_OFF_BY_SUBSCRIBER;
  else if (!t->enabled && t->n_layers == 0)
    return;
  else if (!t->enabled)
    reason = HQ_SWITCH_OFF_BY_PUBLISHER;
  else if (t->n_layers > 0)
    target = choose_layer (sub, now, urgent, &reason);
  set_off (sub, reason);
  if (t->n_layers == 0 || reason != HQ_SWITCH_OFF_NONE)
    return;
  if (sub->layer >= 0)
    t->layers[sub->layer]->wanted_us = now;
  if (target != sub->target_layer) {
    hq_log_message (HQ_LOG_DEBUG, "sfu",
        "subscriber %s, track %s: layer %d wanted (forwarding %d, share %.0f "
        "bit/s)",
        sub->subscriber->sid, t->sid, target, sub->layer, sub->share_bps);
    sub->target_layer = target;
  }
  if (sub->target_layer != sub->layer && sub->negotiated)
    hq_sfu_request_keyframe (t->layers[sub->target_layer]);
}

gboolean
hq_sfu_simulcast_wants_more (const HqSfuSub *sub, gdouble *need_bps)
{
  const HqSfuTrack *t = sub->track;
  gint at = MAX (sub->layer, sub->target_layer);

  if (t->n_layers == 0 || !sub->negotiated || !t->enabled || t->gone
      || (sub->off_reason != HQ_SWITCH_OFF_NONE
          && sub->off_reason != HQ_SWITCH_OFF_CONGESTION)
      || at >= hq_sfu_wanted_layer (sub))
    return FALSE;
  *need_bps = hq_sfu_layer_need (sub, at + 1);
  return TRUE;
}

void
hq_sfu_simulcast_select (HqSfuParticipant *p, gint64 now)
{
  for (guint i = 0; i < p->subs->len; i++)
    select_sub (g_ptr_array_index (p->subs, i), now, FALSE);
}

void
hq_sfu_sub_apply_hint (HqSfuSub *sub)
{
  const HqTrackHint *hint =
      g_hash_table_lookup (sub->subscriber->hints, sub->track->sid);

  sub->layer = -1;
  sub->target_layer = -1;
  sub->hint_disabled = hint && hint->has_enabled && !hint->enabled;
  sub->hint_width = hint ? hint->width : 0;
  sub->hint_height = hint ? hint->height : 0;
  select_sub (sub, g_get_monotonic_time (), TRUE);
}

/* --- adaptive simulcast --- */

void
hq_sfu_simulcast_announce (HqSfuTrack *track, gboolean force)
{
  HqSfuParticipant *p = track->publisher;
  gint64 now = g_get_monotonic_time ();
  gboolean changed = force;
  JsonObject *msg;
  JsonArray *layers;

  if (track->n_layers == 0)
    return;
  for (guint i = 0; i < track->n_layers; i++) {
    HqSfuTrack *l = track->layers[i];
    /* (a VP8 layer whose size never showed is left on until its first
     * keyframe: hints pick layers by size, and a publisher's encoder may
     * take seconds to start its upper layers) */
    gboolean active = force || i == 0
        || now - l->wanted_us < HQ_SFU_LAYER_IDLE_US
        || (l->width == 0 && g_strcmp0 (track->codec, "VP8") == 0);
    if (active && !l->active && !force)
      hq_log_message (HQ_LOG_INFO, "sfu", "track %s: layer %s on again",
          track->sid, l->rid);
    changed |= active != l->active;
    l->active = active;
  }
  if (!changed)
    return;
  msg = hq_protocol_message_new (HQ_MESSAGE_PUBLISH_LAYERS, NULL);
  layers = json_array_new ();
  json_object_set_string_member (msg, "track_sid", track->sid);
  for (guint i = 0; i < track->n_layers; i++) {
    JsonObject *o = json_object_new ();
    json_object_set_string_member (o, "rid", track->layers[i]->rid);
    json_object_set_boolean_member (o, "active", track->layers[i]->active);
    json_array_add_object_element (layers, o);
  }
  json_object_set_array_member (msg, "layers", layers);
  hq_sfu_room_send (p->media->room, p->sid, msg);
  json_object_unref (msg);
}

/* --- bandwidth --- */

guint
hq_sfu_profile_weight (const HqSfuSub *sub, HqSfuPriority priority)
{
  switch (sub->subscriber->profile.mode) {
    case HQ_BW_MODE_GRID:
      return HQ_SFU_WEIGHT_STANDARD;
    case HQ_BW_MODE_PRESENTATION:
      return priority == HQ_SFU_PRIORITY_HIGH ? 8 : 1;
    case HQ_BW_MODE_COLLABORATION:
      break;
  }
  switch (priority) {
    case HQ_SFU_PRIORITY_LOW:
      return HQ_SFU_WEIGHT_LOW;
    case HQ_SFU_PRIORITY_HIGH:
      return HQ_SFU_WEIGHT_HIGH;
    default:
      return HQ_SFU_WEIGHT_STANDARD;
  }
}

gdouble
hq_sfu_profile_cap (HqSfuParticipant *p, gdouble est)
{
  gdouble cap = (gdouble)p->profile.max_subscription_bitrate;

  p->capped_by_profile = cap > 0 && (est < 0 || est > cap);
  return p->capped_by_profile ? cap : est;
}

void
hq_sfu_simulcast_account (HqSfuTrack *t)
{
  for (guint j = 0; j < t->n_layers; j++) {
    HqSfuTrack *l = t->layers[j];
    gdouble second = (l->octets_in - l->octets_in_prev) * 8.0;
    gboolean first = l->octets_in_prev == 0;

    l->octets_in_prev = l->octets_in;
    /* a layer that stopped (publish_layers) is measured anew; a layer's
     * first, partial second is no rate at all (the nominal one holds);
     * its first whole second is its rate, but no more than the nominal
     * one (that second holds the keyframes everyone asked for at the
     * start) */
    if (second <= 0)
      l->bitrate_bps = 0;
    if (first || second <= 0)
      continue;
    /* then smoothed: a keyframe's second must not switch tiles off, or
     * they come back at keyframes that switch others off */
    l->bitrate_bps = l->bitrate_bps > 0
        ? (1 - HQ_SFU_LAYER_RATE_SMOOTHING) * l->bitrate_bps
            + HQ_SFU_LAYER_RATE_SMOOTHING * second
        : MIN (second, nominal_rate (t, j));
  }
}

void
hq_sfu_simulcast_second (HqSfuRoomMedia *media, gint64 now)
{
  GHashTableIter iter;
  gpointer value;

  g_hash_table_iter_init (&iter, media->participants);
  while (g_hash_table_iter_next (&iter, NULL, &value)) {
    HqSfuParticipant *p = value;
    for (guint i = 0; i < p->subs->len; i++)
      select_sub (g_ptr_array_index (p->subs, i), now, FALSE);
  }
  g_hash_table_iter_init (&iter, media->participants);
  while (g_hash_table_iter_next (&iter, NULL, &value)) {
    HqSfuParticipant *p = value;
    for (guint i = 0; i < p->tracks->len; i++)
      hq_sfu_simulcast_announce (g_ptr_array_index (p->tracks, i), FALSE);
  }
}

guint64
hq_sfu_simulcast_feedback (HqSfuTrack *t, gint64 now, HqRtcpReportBlock *blocks,
    guint *n, guint max, guint32 *ssrcs, guint *n_ssrcs, guint max_ssrcs)
{
  for (guint i = 0; i < t->n_layers; i++) {
    HqSfuTrack *l = t->layers[i];
    if (!l->ssrc)
      continue;
    if (blocks != NULL) {
      l->have_report = hq_rtp_recv_stats_report (&l->stats, now, &l->report);
      if (l->have_report && *n < max)
        blocks[(*n)++] = l->report;
    }
    if (ssrcs != NULL && *n_ssrcs < max_ssrcs)
      ssrcs[(*n_ssrcs)++] = l->ssrc;
  }
  return t->n_layers > 0 ? HQ_SFU_SIMULCAST_REMB_BPS : 0;
}

/* --- commands --- */

void
hq_sfu_set_bandwidth_profile (
    HqSfuParticipant *p, const HqBandwidthProfile *profile)
{
  gint64 now = g_get_monotonic_time ();

  p->profile = *profile;
  for (guint i = 0; i < p->subs->len; i++)
    select_sub (g_ptr_array_index (p->subs, i), now, TRUE);
}

void
hq_sfu_set_track_hints (HqSfuParticipant *p, const HqTrackHint *hints, guint n)
{
  gint64 now = g_get_monotonic_time ();

  for (guint i = 0; i < n; i++) {
    const HqTrackHint *h = &hints[i];
    HqTrackHint *kept = g_hash_table_lookup (p->hints, h->track_sid);

    if (kept == NULL) {
      kept = g_new0 (HqTrackHint, 1);
      g_strlcpy (kept->track_sid, h->track_sid, sizeof kept->track_sid);
      g_hash_table_insert (p->hints, kept->track_sid, kept);
    }
    if (h->has_enabled) {
      kept->has_enabled = TRUE;
      kept->enabled = h->enabled;
    }
    if (h->has_render) {
      kept->has_render = h->width > 0;
      kept->width = h->width;
      kept->height = h->height;
    }
    for (guint j = 0; j < p->subs->len; j++) {
      HqSfuSub *sub = g_ptr_array_index (p->subs, j);
      if (g_strcmp0 (sub->track->sid, kept->track_sid) != 0)
        continue;
      sub->hint_disabled = kept->has_enabled && !kept->enabled;
      sub->hint_width = kept->width;
      sub->hint_height = kept->height;
      select_sub (sub, now, TRUE);
    }
  }
}

/* --- REST --- */

gchar *
hq_sfu_simulcast_snapshot (HqSfuRoomMedia *media, gint64 now)
{
  g_autoptr (JsonObject) root = json_object_new ();
  JsonObject *tracks = json_object_new ();
  JsonObject *subs = json_object_new ();
  GHashTableIter iter;
  gpointer value;

  g_hash_table_iter_init (&iter, media->participants);
  while (g_hash_table_iter_next (&iter, NULL, &value)) {
    HqSfuParticipant *p = value;
    JsonObject *mine = json_object_new ();

    for (guint i = 0; i < p->tracks->len; i++) {
      HqSfuTrack *t = g_ptr_array_index (p->tracks, i);
      JsonArray *layers = json_array_new ();
      guint n = MAX (t->n_layers, 1);

      if (t->kind != HQ_SDP_KIND_VIDEO) {
        json_array_unref (layers);
        continue;
      }
      for (guint j = 0; j < n; j++) {
        HqSfuTrack *l = t->n_layers ? t->layers[j] : t;
        JsonObject *o = json_object_new ();
        guint w = 0, h = 0;

        if (t->n_layers)
          layer_size (t, j, &w, &h);
        if (t->n_layers && l->rid)
          json_object_set_string_member (o, "rid", l->rid);
        else
          json_object_set_null_member (o, "rid");
        if (w && l->width) {
          json_object_set_int_member (o, "width", w);
          json_object_set_int_member (o, "height", h);
        } else {
          json_object_set_null_member (o, "width");
          json_object_set_null_member (o, "height");
        }
        json_object_set_int_member (o, "bitrate_bps", (gint64)l->bitrate_bps);
        json_object_set_boolean_member (
            o, "active", t->n_layers ? l->active : TRUE);
        json_object_set_int_member (o, "ssrc", l->ssrc);
        json_array_add_object_element (layers, o);
      }
      json_object_set_array_member (tracks, t->sid, layers);
    }
    for (guint i = 0; i < p->subs->len; i++) {
      HqSfuSub *sub = g_ptr_array_index (p->subs, i);
      JsonObject *o = json_object_new ();
      HqSfuTrack *t = sub->track;

      if (t->n_layers && sub->layer >= 0 && sub->off_reason == 0)
        json_object_set_string_member (o, "layer", t->layers[sub->layer]->rid);
      else
        json_object_set_null_member (o, "layer");
      json_object_set_boolean_member (
          o, "switched_off", sub->off_reason != HQ_SWITCH_OFF_NONE);
      if (sub->off_reason != HQ_SWITCH_OFF_NONE)
        json_object_set_string_member (o, "switch_off_reason",
            hq_switch_off_reason_name (sub->off_reason));
      else
        json_object_set_null_member (o, "switch_off_reason");
      json_object_set_object_member (mine, t->sid, o);
    }
    json_object_set_object_member (subs, p->sid, mine);
  }
  (void)now;
  json_object_set_object_member (root, "tracks", tracks);
  json_object_set_object_member (root, "subscriptions", subs);
  return hq_sfu_json_object_to_text (root);
}
