/* Publishing (docs/protocol.md, "Media"): the client sends publish_offer
 * with its SDP and which track (from track_publish) each sending m-line
 * carries; we answer with setup:passive (we are the DTLS server, and pick
 * GCM), REMB instead of transport-cc (we send REMB, not TWCC feedback),
 * and from then on packets from those SSRCs are that track's. */
#include "hqsfupublish.h"
#include "hqsfuedge.h"
#include "hqsfuforward.h"
#include "hqsfusubscribe.h"
#include "hqsfutransport.h"
#include "hqsfucmd.h"
#include "hqsfusimulcast.h"

#include <hq/hqprotocol.h>

/* --- worker: publish --- */

static HqSfuTrack *
own_track (HqSfuParticipant *p, const gchar *track_sid)
{
  HqSfuTrack *track = g_hash_table_lookup (p->media->tracks, track_sid);

  return track && track->publisher == p ? track : NULL;
}

/* Ties the m-line @mid of the answer to @track. */
static gboolean
map_track (HqSfuParticipant *p, HqSfuTrack *track, const HqSdp *offer,
    const gchar *mid, GError **error)
{
  const HqSdpMedia *om = hq_sdp_find_media (offer, mid);
  const HqSdpMedia *am = hq_sdp_find_media (p->pub_answer, mid);
  const HqSdpCodec *codec;
  g_autoptr (GArray) ssrcs = NULL;
  gboolean simulcast;

  if (om == NULL || am == NULL || !hq_sdp_media_is_active (am)
      || am->codecs->len == 0) {
    g_set_error (error, HQ_SDP_ERROR, HQ_SDP_ERROR_INCONSISTENT,
        "m-line %s carries no media we can receive", mid);
    return FALSE;
  }
  if (om->kind != track->kind) {
    g_set_error (error, HQ_SDP_ERROR, HQ_SDP_ERROR_INCONSISTENT,
        "m-line %s is %s but track %s is %s", mid,
        hq_sdp_kind_to_string (om->kind), track->sid,
        hq_sdp_kind_to_string (track->kind));
    return FALSE;
  }
  ssrcs = hq_sdp_media_primary_ssrcs (om);
  /* a simulcast m-line's layers tell their SSRCs by the RID extension */
  simulcast = om->kind == HQ_SDP_KIND_VIDEO && hq_sdp_media_is_simulcast (om);
  if (ssrcs->len == 0 && !simulcast) {
    g_set_error (error, HQ_SDP_ERROR, HQ_SDP_ERROR_MISSING,
        "m-line %s announces no a=ssrc for track %s", mid, track->sid);
    return FALSE;
  }
  codec = g_ptr_array_index (am->codecs, 0);
  if (track->ssrc)
    g_hash_table_remove (p->pub_ssrcs, GUINT_TO_POINTER (track->ssrc));
  if (track->rtx_ssrc)
    g_hash_table_remove (p->pub_ssrcs, GUINT_TO_POINTER (track->rtx_ssrc));
  g_free (track->mid);
  g_free (track->codec);
  track->mid = g_strdup (mid);
  track->ssrc = simulcast ? 0 : g_array_index (ssrcs, guint32, 0);
  track->pt = codec->pt;
  track->codec = g_strdup (codec->name);
  track->clock_rate = codec->clock_rate;
  track->audio_level_id = hq_sdp_media_extmap_id (am, HQ_SDP_EXT_AUDIO_LEVEL);
  /* Retransmissions the publisher sends on an RTX stream are unwrapped
   * (hqsfuforward.c); without one they come on the media SSRC. */
  track->rtx_pt = codec->rtx_pt;
  track->rtx_ssrc =
      codec->rtx_pt >= 0 ? hq_sdp_media_rtx_ssrc (om, track->ssrc) : 0;
  track->gone = FALSE;
  track->have_sr = FALSE;
  track->last_packet_us = 0;
  hq_rtp_recv_stats_init (&track->stats, track->ssrc, track->clock_rate);
  if (track->ssrc)
    g_hash_table_insert (p->pub_ssrcs, GUINT_TO_POINTER (track->ssrc), track);
  if (track->rtx_ssrc)
    g_hash_table_insert (
        p->pub_ssrcs, GUINT_TO_POINTER (track->rtx_ssrc), track);
  hq_sfu_simulcast_map (track, om, am);
  return TRUE;
}

void
hq_sfu_handle_publish_offer (
    HqSfuParticipant *p, JsonObject *msg, const gchar *id)
{
  HqSfuRoom *room = p->media->room;
  const gchar *text = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (HqSdp) offer = NULL;
  g_autofree gchar *ufrag = NULL, *pwd = NULL, *answer_text = NULL;
  g_autoptr (GArray) want = g_array_new (FALSE, TRUE, sizeof (HqSdpTrack));
  JsonArray *tracks = NULL;
  gboolean first = p->pub == NULL, restart;
  HqSdpLocal local;
  JsonObject *reply;
  GHashTableIter iter;
  gpointer value;

  /* The session checked the fields (hq_protocol_check_message()); read
   * them as carefully all the same. */
  if (!hq_protocol_read_string (msg, "sdp", &text, &error)
      || !hq_protocol_read_array (msg, "tracks", &tracks, &error)) {
    hq_sfu_send_error (
        room, p->sid, id, HQ_PROTOCOL_ERROR_INVALID_FIELD, error->message);
    return;
  }
  offer = hq_sdp_parse (HQ_SDP_OFFER, text, -1, &error);
  if (offer == NULL) {
    hq_sfu_send_error (
        room, p->sid, id, HQ_PROTOCOL_ERROR_INVALID_SDP, error->message);
    return;
  }
  if (first
      && (p->pub = hq_sfu_participant_transport (p, FALSE, &error)) == NULL) {
    hq_sfu_send_error (
        room, p->sid, id, HQ_PROTOCOL_ERROR_INTERNAL, error->message);
    return;
  }
  /* New ICE credentials in a later offer: the participant restarted ICE
   * (its transport failed); we do too and answer with our new ones. */
  restart = !first && hq_sfu_new_remote_ufrag (p, 0, offer);
  if (restart
      && !hq_sfu_restart_ice (
          p, p->pub, "the participant offered new ICE credentials", &error)) {
    hq_sfu_send_error (
        room, p->sid, id, HQ_PROTOCOL_ERROR_INTERNAL, error->message);
    return;
  }
  /* Its subscribers wait for a keyframe, asked for every second until it
   * comes (our side may have stayed connected: no state change says when
   * media is back). */
  for (guint i = 0; restart && i < p->tracks->len; i++)
    hq_sfu_restart_video (
        ((HqSfuTrack *)g_ptr_array_index (p->tracks, i))->subs);
  for (guint i = 0; i < offer->media->len; i++) {
    const HqSdpMedia *m = g_ptr_array_index (offer->media, i);
    HqSdpTrack t = {
      .kind = m->kind, .mid = m->mid, .direction = HQ_SDP_RECVONLY
    };
    g_array_append_val (want, t);
  }
  hq_transport_describe (p->pub, &local, &ufrag, &pwd, "hq-sfu");
  hq_sdp_free (p->pub_answer);
  p->pub_answer = hq_sdp_build_answer (
      offer, &local, (const HqSdpTrack *)want->data, want->len, &error);
  if (p->pub_answer == NULL) {
    hq_sfu_send_error (
        room, p->sid, id, HQ_PROTOCOL_ERROR_INVALID_SDP, error->message);
    return;
  }
  hq_sfu_prefer_remb (p->pub_answer);
  if ((first || restart) && !hq_sfu_apply_remote (p, 0, offer, &error)) {
    hq_sfu_send_error (
        room, p->sid, id, HQ_PROTOCOL_ERROR_INVALID_SDP, error->message);
    return;
  }
  for (guint i = 0; tracks && i < json_array_get_length (tracks); i++) {
    JsonNode *n = json_array_get_element (tracks, i);
    JsonObject *o =
        JSON_NODE_HOLDS_OBJECT (n) ? json_node_get_object (n) : NULL;
    const gchar *mid = NULL, *sid = NULL;
    HqSfuTrack *track;

    if (o) {
      hq_protocol_read_optional_string (o, "mid", &mid, NULL);
      hq_protocol_read_optional_string (o, "track_sid", &sid, NULL);
    }
    track = sid ? own_track (p, sid) : NULL;
    if (mid == NULL || track == NULL) {
      hq_sfu_send_error (room, p->sid, id, HQ_PROTOCOL_ERROR_NOT_FOUND,
          "tracks[] must name the mid "
          "and a track_sid this participant published");
      return;
    }
    if (!map_track (p, track, offer, mid, &error)) {
      hq_sfu_send_error (
          room, p->sid, id, HQ_PROTOCOL_ERROR_INVALID_SDP, error->message);
      return;
    }
  }

  answer_text = hq_sdp_to_text (p->pub_answer);
  reply = hq_protocol_message_new (HQ_MESSAGE_PUBLISH_ANSWER, NULL);
  if (id)
    json_object_set_string_member (reply, "id", id);
  json_object_set_string_member (reply, "sdp", answer_text);
  hq_sfu_room_send (room, p->sid, reply);
  g_free (p->pub_answer_msg);
  p->pub_answer_msg = hq_sfu_json_object_to_text (reply);
  json_object_unref (reply);
  if (first) {
    hq_transport_set_receive_func (p->pub, hq_sfu_on_publish_packet, p, NULL);
    hq_sfu_gather (p, p->pub);
  }
  /* adaptive simulcast: every layer is wanted until subscribers say */
  for (guint i = 0; i < p->tracks->len; i++)
    hq_sfu_simulcast_announce (g_ptr_array_index (p->tracks, i), TRUE);

  /* Everyone else subscribes to what became ready. */
  g_hash_table_iter_init (&iter, p->media->participants);
  while (g_hash_table_iter_next (&iter, NULL, &value)) {
    HqSfuParticipant *other = value;
    if (other == p)
      continue;
    for (guint i = 0; i < p->tracks->len; i++)
      hq_sfu_subscribe (other, g_ptr_array_index (p->tracks, i));
    hq_sfu_subscribe_renegotiate (other);
  }
}
