/* Participants and what they receive.  Whenever the set of tracks a
 * participant should receive changes we send subscribe_offer (one
 * sendonly m-line per track, a removed track's m-line set to port 0), one
 * at a time: changes that happen while an offer is outstanding wait for
 * its answer.  Which tracks: the recorder's selection, everyone else's
 * subscribe rules (wants()).  An offer sent while the participant's
 * connection is down is lost with it; a resume sends the outstanding one
 * again.  We offer the subscribe transport, so we restart its ICE when it
 * fails (docs/protocol.md, "When a connection fails"). */
#include "hqsfusubscribe.h"
#include "hqsfuedge.h"
#include "hqsfufeedback.h"
#include "hqsfuforward.h"
#include "hqsfuprobe.h"
#include "hqsfupace.h"
#include "hqsfuquality.h"
#include "hqsfushard.h"
#include "hqsfusimulcast.h"
#include "hqsfutransport.h"
#include "hqsfutwcc.h"
#include "hqsfucmd.h"
#include "hqlog.h"
#include "hqrules.h"

#include <hq/hqprotocol.h>
#include <hq/hqutil.h>

/* --- worker: participants --- */

static void subscribe_offer_now (HqSfuParticipant *p);

/* Changes to what a participant receives come in bursts (a join changes
 * everyone's set): they are gathered for HQ_SFU_OFFER_DELAY_MS and offered
 * once, which keeps SDP work from crowding out the worker's ICE traffic. */
#define HQ_SFU_OFFER_DELAY_MS 100

static gboolean
offer_timer_cb (gpointer data)
{
  HqSfuParticipant *p = data;

  g_clear_pointer (&p->offer_timer, g_source_unref);
  subscribe_offer_now (p);
  return G_SOURCE_REMOVE;
}

void
hq_sfu_subscribe_renegotiate (HqSfuParticipant *p)
{
  if (p->offer_timer || (!p->sub_dirty && !p->sub_restart_wanted))
    return;
  p->offer_timer = g_timeout_source_new (HQ_SFU_OFFER_DELAY_MS);
  g_source_set_callback (p->offer_timer, offer_timer_cb, p, NULL);
  g_source_attach (
      p->offer_timer, hq_worker_get_context (p->media->room->worker));
}

HqSfuParticipant *
hq_sfu_find_participant (HqSfuRoomMedia *media, const gchar *sid)
{
  return sid ? g_hash_table_lookup (media->participants, sid) : NULL;
}

static void
remove_sub (HqSfuSub *sub)
{
  HqSfuParticipant *p = sub->subscriber;

  g_ptr_array_remove (sub->track->subs, sub);
  g_hash_table_remove (p->sub_ssrcs, GUINT_TO_POINTER (sub->ssrc));
  g_ptr_array_remove (p->subs, sub); /* frees it */
  p->sub_dirty = TRUE;
}

/* Removes @track and everyone's subscription to it. */
void
hq_sfu_remove_track (HqSfuTrack *track)
{
  HqSfuParticipant *publisher = track->publisher;
  HqSfuRoomMedia *media = publisher->media;
  g_autoptr (GPtrArray) subscribers = g_ptr_array_new ();

  while (track->subs->len > 0) {
    HqSfuSub *sub = g_ptr_array_index (track->subs, 0);
    g_ptr_array_add (subscribers, sub->subscriber);
    remove_sub (sub);
  }
  g_hash_table_remove (media->tracks, track->sid);
  hq_sfu_simulcast_unmap (track);
  if (track->ssrc)
    g_hash_table_remove (publisher->pub_ssrcs, GUINT_TO_POINTER (track->ssrc));
  if (track->rtx_ssrc)
    g_hash_table_remove (
        publisher->pub_ssrcs, GUINT_TO_POINTER (track->rtx_ssrc));
  g_ptr_array_remove (publisher->tracks, track); /* frees it */
  for (guint i = 0; i < subscribers->len; i++)
    hq_sfu_subscribe_renegotiate (g_ptr_array_index (subscribers, i));
}

static gboolean
track_ready (HqSfuTrack *track)
{
  return track->mid != NULL && (track->ssrc != 0 || track->n_layers > 0);
}

static gboolean
subscribed (HqSfuParticipant *p, HqSfuTrack *track)
{
  for (guint i = 0; i < track->subs->len; i++)
    if (((HqSfuSub *)g_ptr_array_index (track->subs, i))->subscriber == p)
      return TRUE;
  return FALSE;
}

/* Whether @p should receive @track: the recorder what its selection
 * names, everyone else what its subscribe rules select. */
static gboolean
wants (HqSfuParticipant *p, HqSfuTrack *track)
{
  if (p->hidden)
    return g_hash_table_contains (p->selection, track->sid);
  return p->rules == NULL
      || hq_rules_select (p->rules, hq_sdp_kind_to_string (track->kind),
          track->publisher->identity, track->name);
}

void
hq_sfu_subscribe (HqSfuParticipant *p, HqSfuTrack *track)
{
  HqSfuSub *sub;

  if (track->publisher == p || !track_ready (track) || subscribed (p, track))
    return;
  if (!wants (p, track))
    return;
  sub = hq_sfu_sub_new (track, p);
  sub->mid = g_strdup_printf ("%u", p->next_mid++);
  do
    hq_random_bytes ((guint8 *)&sub->ssrc, sizeof sub->ssrc);
  while (sub->ssrc == 0
      || g_hash_table_contains (p->sub_ssrcs, GUINT_TO_POINTER (sub->ssrc)));
  g_ptr_array_add (p->subs, sub);
  g_hash_table_insert (p->sub_ssrcs, GUINT_TO_POINTER (sub->ssrc), sub);
  g_ptr_array_add (track->subs, sub);
  hq_sfu_sub_apply_hint (sub);
  p->sub_dirty = TRUE;
}

void
hq_sfu_participant_free (gpointer data)
{
  HqSfuParticipant *p = data;

  hq_sfu_participant_set_metrics_level (p, -1);

  /* Others' subscriptions to this participant's tracks go first. */
  while (p->tracks->len > 0)
    hq_sfu_remove_track (g_ptr_array_index (p->tracks, 0));
  while (p->subs->len > 0)
    remove_sub (g_ptr_array_index (p->subs, 0));
  if (p->offer_timer) {
    g_source_destroy (p->offer_timer);
    g_source_unref (p->offer_timer);
  }
  if (p->sub_restart_timer) {
    g_source_destroy (p->sub_restart_timer);
    g_source_unref (p->sub_restart_timer);
  }
  for (guint i = 0; i < G_N_ELEMENTS (p->remote_ufrag); i++)
    g_free (p->remote_ufrag[i]);
  if (p->speaker_id)
    hq_dsi_remove_speaker (p->media->dsi, p->speaker_id, NULL);
  if (p->selection)
    g_hash_table_unref (p->selection);
  if (p->rules)
    json_array_unref (p->rules);
  g_hash_table_unref (p->sub_priorities);
  g_hash_table_unref (p->hints);
  g_free (p->sub_offer_msg);
  g_free (p->pub_answer_msg);
  for (guint i = 0; i < G_N_ELEMENTS (p->sent_cands); i++)
    if (p->sent_cands[i])
      g_ptr_array_unref (p->sent_cands[i]);
  if (p->pub) {
    hq_transport_close (p->pub);
    g_object_unref (p->pub);
  }
  if (p->sub) {
    hq_transport_close (p->sub);
    g_object_unref (p->sub);
  }
  hq_sfu_probe_clear (p);
  hq_sfu_pace_clear (p);
  if (p->leg)
    hq_sfu_leg_close (p->leg);
  hq_sfu_leg_unplace (p, p->sub_worker);
  hq_sfu_twcc_clear (p);
  hq_sdp_free (p->pub_answer);
  hq_sdp_free (p->sub_offer);
  if (p->quality_report)
    json_object_unref (p->quality_report);
  g_hash_table_unref (p->pub_ssrcs);
  g_hash_table_unref (p->sub_ssrcs);
  g_ptr_array_unref (p->tracks);
  g_ptr_array_unref (p->subs);
  g_free (p->sid);
  g_free (p->identity);
  g_free (p);
}

void
hq_sfu_add_participant (HqSfuRoomMedia *media, const gchar *sid,
    const gchar *identity, gboolean hidden)
{
  HqSfuParticipant *p;
  GHashTableIter iter;
  gpointer value;

  if (hq_sfu_find_participant (media, sid))
    return;
  p = g_new0 (HqSfuParticipant, 1);
  p->media = media;
  p->sid = g_strdup (sid);
  p->identity = g_strdup (identity);
  p->hidden = hidden;
  if (hidden)
    p->selection =
        g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  else
    p->speaker_id = ++media->next_speaker_id;
  /* Unlike Twilio (remote: none), others' levels are on by default: the
   * web client shows them on every tile. */
  p->verbosity_local = 1;
  p->verbosity_remote = 1;
  p->rtt_ms = -1;
  p->metrics_level = -1;
  p->pub_ssrcs = g_hash_table_new (NULL, NULL);
  p->sub_ssrcs = g_hash_table_new (NULL, NULL);
  p->sub_priorities =
      g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  p->hints = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, g_free);
  hq_bandwidth_profile_init (&p->profile);
  p->tracks =
      g_ptr_array_new_with_free_func ((GDestroyNotify)hq_sfu_track_free);
  p->subs = g_ptr_array_new_with_free_func ((GDestroyNotify)hq_sfu_sub_free);
  if (p->speaker_id)
    hq_dsi_add_speaker (media->dsi, p->speaker_id, NULL);
  g_hash_table_insert (media->participants, p->sid, p);

  g_hash_table_iter_init (&iter, media->tracks);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    hq_sfu_subscribe (p, value);
  hq_sfu_subscribe_renegotiate (p);
}

/* What @p wants changed: withdraws what it no longer wants, takes what
 * it now wants, and offers the difference. */
static void
resubscribe (HqSfuParticipant *p)
{
  GHashTableIter iter;
  gpointer value;

  for (guint i = p->subs->len; i > 0; i--) {
    HqSfuSub *sub = g_ptr_array_index (p->subs, i - 1);
    if (!wants (p, sub->track))
      remove_sub (sub);
  }
  g_hash_table_iter_init (&iter, p->media->tracks);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    hq_sfu_subscribe (p, value);
  hq_sfu_subscribe_renegotiate (p);
}

/* Hidden participant @p receives exactly the ready tracks among
 * @track_sids from now on. */
void
hq_sfu_set_selection (HqSfuParticipant *p, const gchar *const *track_sids)
{
  if (!p->hidden)
    return;
  g_hash_table_remove_all (p->selection);
  for (guint i = 0; track_sids[i]; i++)
    if (*track_sids[i])
      g_hash_table_add (p->selection, g_strdup (track_sids[i]));
  resubscribe (p);
}

/* Ordinary participant @p receives what @text (a JSON array of checked
 * rules, or NULL: everything) selects from now on. */
void
hq_sfu_set_rules (HqSfuParticipant *p, const gchar *text)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  JsonNode *root;

  if (p->hidden)
    return;
  g_clear_pointer (&p->rules, json_array_unref);
  /* Parsed here: the array is this worker's own. */
  if (text && json_parser_load_from_data (parser, text, -1, NULL)
      && (root = json_parser_get_root (parser)) && JSON_NODE_HOLDS_ARRAY (root))
    p->rules = json_array_ref (json_node_get_array (root));
  resubscribe (p);
}

/* Sends @p the message @text (JSON, as we sent it before). */
static void
send_again (HqSfuParticipant *p, const gchar *text)
{
  g_autoptr (JsonObject) msg = hq_sfu_json_object_from_text (text);

  if (msg)
    hq_sfu_room_send (p->media->room, p->sid, msg);
}

/* @p is back on a new connection.  What went to the old one while it was
 * down is lost: our last publish answer goes again (a client that has it
 * ignores it), an offer it never answered (same revision; answering it
 * twice is harmless, as the first answer never arrived), then our
 * candidates (a transport made meanwhile gathered them then; a client
 * ignores those it has). */
void
hq_sfu_resume (HqSfuParticipant *p)
{
  if (p->pub_answer_msg)
    send_again (p, p->pub_answer_msg);
  if (p->sub_offer_msg && !p->sub_answered)
    send_again (p, p->sub_offer_msg);
  for (guint i = 0; i < G_N_ELEMENTS (p->sent_cands); i++)
    for (guint j = 0; p->sent_cands[i] && j < p->sent_cands[i]->len; j++)
      send_again (p, g_ptr_array_index (p->sent_cands[i], j));
}

/* --- worker: ICE restarts (docs/protocol.md, "When a connection fails") */

/* The subscribe transport is restarted at once, then again after each of
 * these pauses (doubling) while it stays down. */
#define HQ_SFU_RESTART_MIN_MS 3000
#define HQ_SFU_RESTART_MAX_MS 15000

/* Asks for a subscribe offer that restarts ICE, unless one is out. */
static void
want_sub_restart (HqSfuParticipant *p)
{
  if (!hq_sfu_has_sub (p) || p->sub_restart_wanted
      || (p->sub_offer && !p->sub_answered
          && p->sub_restart_revision == p->sub_revision))
    return;
  p->sub_restart_wanted = TRUE;
  subscribe_offer_now (p);
}

static void schedule_sub_restart (HqSfuParticipant *p, guint ms);

static gboolean
sub_restart_cb (gpointer data)
{
  HqSfuParticipant *p = data;

  g_clear_pointer (&p->sub_restart_timer, g_source_unref);
  if (hq_sfu_sub_up (p))
    return G_SOURCE_REMOVE;
  want_sub_restart (p);
  p->sub_restart_ms = MIN (p->sub_restart_ms * 2, HQ_SFU_RESTART_MAX_MS);
  schedule_sub_restart (p, p->sub_restart_ms);
  return G_SOURCE_REMOVE;
}

static void
schedule_sub_restart (HqSfuParticipant *p, guint ms)
{
  p->sub_restart_timer = g_timeout_source_new (ms);
  g_source_set_callback (p->sub_restart_timer, sub_restart_cb, p, NULL);
  g_source_attach (
      p->sub_restart_timer, hq_worker_get_context (p->media->room->worker));
}

/* Video from the publisher or to the subscriber, after a pause: each
 * subscription waits for a keyframe (and re-bases its sequence numbers
 * and timestamps there), and the publisher is asked for one. */
void
hq_sfu_restart_video (GPtrArray *subs)
{
  for (guint i = 0; i < subs->len; i++) {
    HqSfuSub *sub = g_ptr_array_index (subs, i);
    if (sub->track->kind != HQ_SDP_KIND_VIDEO || !sub->negotiated)
      continue;
    sub->waiting_keyframe = TRUE;
    hq_sfu_request_keyframe (sub->track);
  }
}

/* Transport @which (0 publish, 1 subscribe) of @p is in @state; the
 * participant and the log are told by the caller. */
static void
transport_state (HqSfuParticipant *p, guint which, HqTransportState state,
    const GError *error)
{
  if (which == 1 && state == HQ_TRANSPORT_STATE_CONNECTED) {
    /* Video subscriptions start at a keyframe. */
    for (guint i = 0; i < p->subs->len; i++) {
      HqSfuSub *sub = g_ptr_array_index (p->subs, i);
      if (sub->track->kind == HQ_SDP_KIND_VIDEO)
        hq_sfu_request_keyframe (sub->track);
    }
    if (p->ever_connected[1])
      hq_sfu_restart_video (p->subs);
    if (p->sub_restart_timer) {
      g_source_destroy (p->sub_restart_timer);
      g_clear_pointer (&p->sub_restart_timer, g_source_unref);
    }
  }
  if (which == 0 && state == HQ_TRANSPORT_STATE_CONNECTED
      && p->ever_connected[0]) {
    /* Back after an ICE restart: subscribers get a clean picture. */
    for (guint i = 0; i < p->tracks->len; i++)
      hq_sfu_restart_video (
          ((HqSfuTrack *)g_ptr_array_index (p->tracks, i))->subs);
  }
  if (state == HQ_TRANSPORT_STATE_CONNECTED)
    p->ever_connected[which] = TRUE;
}

/* After the participant heard of the state: we offer the subscribe
 * transport, so we restart it.  The publish one is the participant's to
 * restart (it hears of the failure). */
static void
transport_failed (HqSfuParticipant *p, guint which, HqTransportState state,
    const GError *error)
{
  if (which == 1 && state == HQ_TRANSPORT_STATE_FAILED
      && g_error_matches (
          error, HQ_TRANSPORT_ERROR, HQ_TRANSPORT_ERROR_CONSENT_LOST)
      && p->sub_restart_timer == NULL) {
    p->sub_restart_ms = HQ_SFU_RESTART_MIN_MS / 2;
    /* Right after this state change, not inside it. */
    schedule_sub_restart (p, 0);
  }
}

static void
on_state (HqTransport *t, gint state, HqSfuParticipant *p)
{
  const GError *error = hq_transport_get_error (t);
  guint which = t == p->pub ? 0 : 1;

  transport_state (p, which, (HqTransportState)state, error);
  hq_sfu_report_state (p, t, (HqTransportState)state, error);
  transport_failed (p, which, (HqTransportState)state, error);
}

/* --- worker: a subscribe transport on another worker (hqsfushard.h) --- */

static void
leg_credentials (
    HqSfuParticipant *p, gboolean restart, gboolean ok, const gchar *message)
{
  if (!restart && !ok) {
    hq_log_message (HQ_LOG_ERROR, "sfu", "no subscribe transport: %s", message);
    return;
  }
  if (restart) {
    if (!ok)
      hq_log_message (HQ_LOG_WARN, "sfu", "no ICE restart: %s", message);
    p->leg_restarted = TRUE;
    p->leg_restart_ok = ok;
  }
  subscribe_offer_now (p);
}

static void
leg_candidate (HqSfuParticipant *p, const gchar *candidate)
{
  hq_sfu_announce_candidate (p, 1, candidate);
}

static void
leg_state (HqSfuParticipant *p, HqTransportState state, const GError *error,
    const gchar *local, const gchar *remote, const gchar *pair)
{
  transport_state (p, 1, state, error);
  hq_sfu_report_state_of (p, 1, state, error, local, remote, pair);
  transport_failed (p, 1, state, error);
}

static const HqSfuLegFuncs leg_funcs = {
  .credentials = leg_credentials,
  .candidate = leg_candidate,
  .state = leg_state,
  .rtcp = hq_sfu_on_subscribe_packet,
};

/* The subscribe transport of @p, at its first offer: on the room's worker
 * or on another (hq_sfu_leg_place()).  FALSE when there is none (yet). */
static gboolean
make_sub_transport (HqSfuParticipant *p)
{
  g_autoptr (GError) error = NULL;
  HqSfuRoom *room = p->media->room;

  if (p->sub_worker == NULL)
    p->sub_worker = hq_sfu_leg_place (p);
  if (p->sub_worker != room->worker) {
    p->leg = hq_sfu_leg_new (p, p->sub_worker, &leg_funcs);
    p->leg_state = HQ_TRANSPORT_STATE_NEW;
    {
      JsonObject *line = hq_log_begin (HQ_LOG_INFO, "sfu");
      json_object_set_string_member (line, "what", "subscribe-shard");
      json_object_set_string_member (line, "room", room->sid);
      json_object_set_string_member (line, "participant", p->sid);
      json_object_set_int_member (
          line, "worker", hq_worker_get_index (p->sub_worker));
      json_object_set_int_member (
          line, "home", hq_worker_get_index (room->worker));
      hq_log_end (line);
    }
    return FALSE; /* the offer goes once its credentials are known */
  }
  p->sub = hq_sfu_participant_transport (p, TRUE, &error);
  if (p->sub == NULL) {
    hq_log_message (
        HQ_LOG_ERROR, "sfu", "no subscribe transport: %s", error->message);
    return FALSE;
  }
  return TRUE;
}

HqTransport *
hq_sfu_participant_transport (
    HqSfuParticipant *p, gboolean controlling, GError **error)
{
  HqTransport *t = hq_sfu_make_transport (p, controlling, error);

  if (t)
    g_signal_connect (t, "state-changed", G_CALLBACK (on_state), p);
  return t;
}

/* --- worker: subscribe --- */

static JsonObject *
describe_sub (HqSfuSub *sub)
{
  JsonObject *o = json_object_new ();

  json_object_set_string_member (o, "mid", sub->mid);
  json_object_set_string_member (o, "track_sid", sub->track->sid);
  json_object_set_string_member (o, "name", sub->track->name);
  json_object_set_string_member (
      o, "kind", hq_sdp_kind_to_string (sub->track->kind));
  json_object_set_string_member (
      o, "priority", hq_sfu_priority_to_string (sub->track->priority));
  json_object_set_string_member (
      o, "participant_sid", sub->track->publisher->sid);
  json_object_set_string_member (
      o, "identity", sub->track->publisher->identity);
  return o;
}

static void
subscribe_offer_now (HqSfuParticipant *p)
{
  HqSfuRoom *room = p->media->room;
  g_autoptr (GError) error = NULL;
  g_autoptr (GArray) want = g_array_new (FALSE, TRUE, sizeof (HqSdpTrack));
  g_autofree gchar *ufrag = NULL, *pwd = NULL, *text = NULL;
  gboolean first = !hq_sfu_has_sub (p);
  JsonArray *described;
  HqSdpLocal local;
  HqSdp *offer;
  JsonObject *msg;

  if (!p->sub_dirty && !p->sub_restart_wanted)
    return;
  /* One offer at a time; changes meanwhile wait for its answer. */
  if (p->sub_offer && !p->sub_answered)
    return;
  if (p->subs->len == 0 && p->sub_offer == NULL)
    return;
  if (first && !make_sub_transport (p))
    return;
  /* A leg's credentials (the first, or a restart's) are on their way. */
  if (p->leg && !hq_sfu_leg_ready (p->leg))
    return;
  if (p->sub_restart_wanted && p->leg) {
    if (!p->leg_restarted) {
      hq_sfu_note_ice_restart (p, 1,
          hq_sfu_sub_up (p) ? "the participant asked" : "the transport failed");
      hq_sfu_leg_restart_ice (p->leg);
      return;
    }
    p->leg_restarted = FALSE;
    if (p->leg_restart_ok)
      p->sub_restart_revision = p->sub_revision + 1;
  } else if (p->sub_restart_wanted && !first) {
    if (hq_sfu_restart_ice (p, p->sub,
            hq_transport_get_state (p->sub) == HQ_TRANSPORT_STATE_CONNECTED
                ? "the participant asked"
                : "the transport failed",
            &error))
      p->sub_restart_revision = p->sub_revision + 1;
    else
      hq_log_message (HQ_LOG_WARN, "sfu", "no ICE restart: %s", error->message);
    g_clear_error (&error);
  }
  p->sub_restart_wanted = FALSE;
  for (guint i = 0; i < p->subs->len; i++) {
    HqSfuSub *sub = g_ptr_array_index (p->subs, i);
    HqSdpTrack t = { .kind = sub->track->kind,
      .mid = sub->mid,
      .direction = HQ_SDP_SENDONLY,
      .stream_id = sub->track->publisher->sid,
      .track_id = sub->track->sid,
      .ssrc = sub->ssrc };
    g_array_append_val (want, t);
  }
  if (p->leg)
    hq_sfu_leg_describe (p->leg, &local, "hq-sfu");
  else
    hq_transport_describe (p->sub, &local, &ufrag, &pwd, "hq-sfu");
  local.setup = HQ_SDP_SETUP_ACTPASS;
  offer = hq_sdp_build_offer (
      &local, (const HqSdpTrack *)want->data, want->len, p->sub_offer, &error);
  if (offer == NULL) {
    hq_log_message (HQ_LOG_ERROR, "sfu",
        "cannot build a subscribe offer: "
        "%s",
        error->message);
    return;
  }
  hq_sdp_free (p->sub_offer);
  p->sub_offer = offer;
  p->sub_answered = FALSE;
  p->sub_dirty = FALSE;
  p->sub_revision++;

  text = hq_sdp_to_text (offer);
  described = json_array_new ();
  for (guint i = 0; i < p->subs->len; i++)
    json_array_add_object_element (
        described, describe_sub (g_ptr_array_index (p->subs, i)));
  msg = hq_protocol_message_new (HQ_MESSAGE_SUBSCRIBE_OFFER, NULL);
  json_object_set_int_member (msg, "revision", p->sub_revision);
  json_object_set_string_member (msg, "sdp", text);
  json_object_set_array_member (msg, "tracks", described);
  hq_sfu_room_send (room, p->sid, msg);
  g_free (p->sub_offer_msg);
  p->sub_offer_msg = hq_sfu_json_object_to_text (msg);
  json_object_unref (msg);
  {
    JsonObject *line = hq_log_begin (HQ_LOG_INFO, "subscribe_offer");
    json_object_set_string_member (line, "room", room->sid);
    json_object_set_string_member (line, "participant", p->sid);
    json_object_set_int_member (line, "revision", p->sub_revision);
    json_object_set_int_member (line, "tracks", p->subs->len);
    hq_log_end (line);
  }
  if (p->leg && !p->leg_gathered) {
    p->leg_gathered = TRUE;
    hq_sfu_leg_gather (p->leg);
  } else if (first) {
    hq_transport_set_receive_func (p->sub, hq_sfu_on_subscribe_packet, p, NULL);
    hq_sfu_gather (p, p->sub);
  }
}

void
hq_sfu_handle_subscribe_answer (
    HqSfuParticipant *p, JsonObject *msg, const gchar *id)
{
  HqSfuRoom *room = p->media->room;
  const gchar *text = NULL;
  gint64 revision = -1;
  g_autoptr (GError) error = NULL;
  g_autoptr (HqSdp) answer = NULL;

  if (!hq_protocol_read_string (msg, "sdp", &text, NULL)
      || !hq_protocol_read_int (msg, "revision", &revision, NULL)
      || revision < 0) {
    hq_sfu_send_error (room, p->sid, id, HQ_PROTOCOL_ERROR_INVALID_FIELD,
        "subscribe_answer needs sdp and revision");
    return;
  }
  if (p->sub_offer == NULL || p->sub_answered
      || revision != (gint64)p->sub_revision) {
    hq_sfu_send_error (room, p->sid, id, HQ_PROTOCOL_ERROR_INVALID_FIELD,
        "subscribe_answer does not answer the outstanding subscribe_offer");
    return;
  }
  answer = hq_sdp_parse (HQ_SDP_ANSWER, text, -1, &error);
  if (answer == NULL) {
    hq_sfu_send_error (
        room, p->sid, id, HQ_PROTOCOL_ERROR_INVALID_SDP, error->message);
    return;
  }
  /* The transport's remote side is set by the first answer and by the
   * answers to our ICE restarts (new credentials); the others only change
   * which m-lines carry what. */
  if (hq_sfu_new_remote_ufrag (p, 1, answer)
      && !hq_sfu_apply_remote (p, 1, answer, &error)) {
    hq_sfu_send_error (
        room, p->sid, id, HQ_PROTOCOL_ERROR_INVALID_SDP, error->message);
    return;
  }
  for (guint i = 0; i < p->subs->len; i++) {
    HqSfuSub *sub = g_ptr_array_index (p->subs, i);
    const HqSdpMedia *m = hq_sdp_find_media (answer, sub->mid);
    const HqSdpCodec *c =
        m ? hq_sdp_media_find_codec_by_name (m, sub->track->codec) : NULL;
    gboolean ok = m && c && hq_sdp_media_is_active (m)
        && (m->direction == HQ_SDP_RECVONLY || m->direction == HQ_SDP_SENDRECV);
    if (ok && !sub->negotiated) {
      sub->pt = c->pt;
      sub->waiting_keyframe = sub->track->kind == HQ_SDP_KIND_VIDEO;
      if (sub->waiting_keyframe)
        hq_sfu_request_keyframe (sub->track);
    }
    sub->negotiated = ok;
  }
  p->sub_twcc_id = hq_sfu_twcc_ext_id (answer);
  p->sub_answered = TRUE;
  hq_sfu_subscribe_renegotiate (p);
}

/* {"type": "ice_restart", "transport": "subscribe"}: the participant's
 * side of the subscribe transport failed first; we offer, so we restart. */
void
hq_sfu_handle_ice_restart (
    HqSfuParticipant *p, JsonObject *msg, const gchar *id)
{
  const gchar *which = "";

  hq_protocol_read_string (msg, "transport", &which, NULL);
  if (g_str_equal (which, "publish")) {
    hq_sfu_send_error (p->media->room, p->sid, id,
        HQ_PROTOCOL_ERROR_INVALID_FIELD,
        "The publish connection is restarted by its offerer, the "
        "participant: send a publish_offer with new ICE credentials.");
    return;
  }
  if (!g_str_equal (which, "subscribe")) {
    hq_sfu_send_error (p->media->room, p->sid, id,
        HQ_PROTOCOL_ERROR_INVALID_FIELD,
        "transport must be subscribe (or publish, which you restart "
        "yourself with a new publish_offer).");
    return;
  }
  if (!hq_sfu_has_sub (p)) {
    hq_sfu_send_error (p->media->room, p->sid, id,
        HQ_PROTOCOL_ERROR_INVALID_FIELD,
        "There is no subscribe connection yet: the server offers one once "
        "there is something to receive.");
    return;
  }
  want_sub_restart (p);
  hq_sfu_send_ok (p->media->room, p->sid, id);
}
