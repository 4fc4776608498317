/* A room on its worker: runs the API's commands (hqsfucmd.h) and the
 * participants' media messages, and its timers: dominant speaker
 * detection and the once-a-second round of reports, estimates and
 * network quality. */
#include "hqsfuroom.h"
#include "hqsfubwe.h"
#include "hqsfuedge.h"
#include "hqsfuforward.h"
#include "hqsfuprobe.h"
#include "hqsfupublish.h"
#include "hqsfuquality.h"
#include "hqsfushard.h"
#include "hqsfusimulcast.h"
#include "hqsfusr.h"
#include "hqsfusubscribe.h"

#include <string.h>
#include <hq/hqprotocol.h>
#include <hq/hqutil.h>

#define HQ_SFU_DSI_INTERVAL_MS 300

static void
handle_candidate (
    HqSfuParticipant *p, JsonObject *msg, const gchar *id, gboolean end)
{
  const gchar *which = "", *cand = NULL;
  HqTransport *t;
  g_autoptr (GError) error = NULL;

  if (!hq_protocol_read_string (msg, "transport", &which, &error)
      || !hq_protocol_read_optional_string (msg, "candidate", &cand, &error)) {
    hq_sfu_send_error (p->media->room, p->sid, id,
        HQ_PROTOCOL_ERROR_INVALID_FIELD, error->message);
    return;
  }
  t = g_str_equal (which, "publish")     ? p->pub
      : g_str_equal (which, "subscribe") ? p->sub
                                         : NULL;

  if (t == NULL && p->leg && g_str_equal (which, "subscribe")) {
    /* on the transport's own worker (hqsfushard.h) */
    if (end || (cand && *cand))
      hq_sfu_leg_add_candidate (p->leg, end ? NULL : cand);
    return;
  }
  if (t == NULL) {
    hq_sfu_send_error (p->media->room, p->sid, id,
        HQ_PROTOCOL_ERROR_INVALID_FIELD,
        "transport must be publish or subscribe, after its offer");
    return;
  }
  if (end) {
    hq_transport_end_of_remote_candidates (t);
    return;
  }
  if (cand == NULL || *cand == '\0')
    return;
  if (!hq_transport_add_remote_candidate (t, cand, &error))
    hq_sfu_send_error (p->media->room, p->sid, id,
        HQ_PROTOCOL_ERROR_INVALID_FIELD, error->message);
}

/* {"local": 0..3, "remote": 0..3}: how much network_quality tells this
 * participant about itself and about the others. */
static void
handle_quality_configure (HqSfuParticipant *p, JsonObject *msg, const gchar *id)
{
  gint64 local = p->verbosity_local, remote = p->verbosity_remote;

  if (!hq_protocol_read_int (msg, "local", &local, NULL)
      || !hq_protocol_read_int (msg, "remote", &remote, NULL) || local < 0
      || local > 3 || remote < 0 || remote > 3) {
    hq_sfu_send_error (p->media->room, p->sid, id,
        HQ_PROTOCOL_ERROR_INVALID_FIELD,
        "local and remote verbosity must be 0 (none), 1 (minimal), "
        "2 (moderate) or 3 (detailed)");
    return;
  }
  p->verbosity_local = (guint)local;
  p->verbosity_remote = (guint)remote;
  hq_sfu_send_ok (p->media->room, p->sid, id);
}

static void
handle (HqSfuRoomMedia *media, const gchar *sid, JsonObject *msg)
{
  HqSfuParticipant *p = hq_sfu_find_participant (media, sid);
  const gchar *type = NULL, *id = NULL;
  HqMessageType t;

  hq_protocol_read_optional_string (msg, "type", &type, NULL);
  hq_protocol_read_optional_string (msg, "id", &id, NULL);

  if (p == NULL) {
    hq_sfu_send_error (media->room, sid, id, HQ_PROTOCOL_ERROR_NOT_JOINED,
        "media needs a joined, admitted participant");
    return;
  }
  t = hq_protocol_message_type (type);
  switch (t) {
    case HQ_MESSAGE_PUBLISH_OFFER:
      if (p->hidden)
        hq_sfu_send_error (media->room, sid, id, HQ_PROTOCOL_ERROR_FORBIDDEN,
            "the recorder receives media; it does not publish");
      else
        hq_sfu_handle_publish_offer (p, msg, id);
      break;
    case HQ_MESSAGE_SUBSCRIBE_ANSWER:
      hq_sfu_handle_subscribe_answer (p, msg, id);
      break;
    case HQ_MESSAGE_CANDIDATE:
    case HQ_MESSAGE_END_OF_CANDIDATES:
      handle_candidate (p, msg, id, t == HQ_MESSAGE_END_OF_CANDIDATES);
      break;
    case HQ_MESSAGE_NETWORK_QUALITY_CONFIGURE:
      handle_quality_configure (p, msg, id);
      break;
    case HQ_MESSAGE_ICE_RESTART:
      hq_sfu_handle_ice_restart (p, msg, id);
      break;
    default:
      break;
  }
}

/* @text: a message the session checked (hq_protocol_check_message()) and
 * wrote again; its size was checked then, its depth is again. */
static void
handle_text (HqSfuRoomMedia *media, const gchar *sid, const gchar *text)
{
  g_autoptr (JsonObject) msg =
      hq_protocol_parse_object (text, strlen (text), G_MAXSIZE, NULL);

  if (msg)
    handle (media, sid, msg);
}

/* --- worker: timers --- */

/* Participants that count as speakers: all but the hidden. */
static guint
speaker_count (HqSfuRoomMedia *media)
{
  GHashTableIter iter;
  gpointer value;
  guint n = 0;

  g_hash_table_iter_init (&iter, media->participants);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    n += ((HqSfuParticipant *)value)->speaker_id != 0;
  return n;
}

static gboolean
dsi_tick (gpointer data)
{
  HqSfuRoomMedia *media = data;
  guint32 dominant = 0;
  gboolean has = FALSE;
  GHashTableIter iter;
  gpointer value;
  JsonObject *msg;

  if (!hq_dsi_tick (media->dsi, g_get_monotonic_time () / 1000, &dominant, &has)
      || speaker_count (media) < 2)
    return G_SOURCE_CONTINUE;
  media->dominant_speaker_id = has ? dominant : 0;
  msg = hq_protocol_message_new (HQ_MESSAGE_DOMINANT_SPEAKER, NULL);
  json_object_set_null_member (msg, "participant_sid");
  json_object_set_null_member (msg, "identity");
  g_hash_table_iter_init (&iter, media->participants);
  while (has && g_hash_table_iter_next (&iter, NULL, &value)) {
    HqSfuParticipant *p = value;
    if (p->speaker_id == dominant) {
      json_object_set_string_member (msg, "participant_sid", p->sid);
      json_object_set_string_member (msg, "identity", p->identity);
    }
  }
  hq_sfu_room_send (media->room, NULL, msg);
  json_object_unref (msg);
  return G_SOURCE_CONTINUE;
}

/* --- once a second --- */

/* REST's layer snapshot is made every second for this long after REST
 * read it, else once in this many seconds. */
#define HQ_SFU_LAYERS_READ_US (10 * G_USEC_PER_SEC)
#define HQ_SFU_LAYERS_IDLE_EVERY 10

/* Layers and switch-off from the shares, and their snapshot for REST:
 * every second while REST reads it, else every HQ_SFU_LAYERS_IDLE_EVERY
 * seconds.  At 50 participants it takes over 10 ms, and no packet of the
 * room is forwarded meanwhile. */
static void
simulcast_second (HqSfuRoomMedia *media, gint64 now)
{
  gint64 read_us =
      __atomic_load_n (&media->room->layers_read_us, __ATOMIC_RELAXED);
  gchar *text;

  hq_sfu_simulcast_second (media, now);
  if (now - read_us > HQ_SFU_LAYERS_READ_US
      && media->seconds++ % HQ_SFU_LAYERS_IDLE_EVERY != 0)
    return;
  text = hq_sfu_simulcast_snapshot (media, now);
  g_mutex_lock (&media->room->layers_lock);
  g_free (media->room->layers_json);
  media->room->layers_json = text;
  g_mutex_unlock (&media->room->layers_lock);
}

/* Once a second: bitrates and estimates, SSRC timeouts, our SRs to
 * subscribers, RR and REMB to publishers, keyframe retries, network
 * quality. */
static void
room_second (HqSfuRoomMedia *media)
{
  gint64 now = g_get_monotonic_time ();
  GHashTableIter iter;
  gpointer value;

  /* Bitrates and estimates first: a publisher's REMB reads its
   * subscribers'. */
  g_hash_table_iter_init (&iter, media->participants);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    hq_sfu_account_second (value, now);
  g_hash_table_iter_init (&iter, media->participants);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    hq_sfu_allocate_shares (value, now);
  simulcast_second (media, now);
  g_hash_table_iter_init (&iter, media->participants);
  while (g_hash_table_iter_next (&iter, NULL, &value)) {
    HqSfuParticipant *p = value;

    hq_sfu_probe_second (p, now);
    hq_sfu_check_timeouts (p, now);
    hq_sfu_send_sender_reports (p, now);
    hq_sfu_send_publisher_feedback (p, now);
    for (guint i = 0; i < p->subs->len; i++) {
      HqSfuSub *sub = g_ptr_array_index (p->subs, i);
      /* a subscription switched off waits for nothing until it is on */
      if (sub->waiting_keyframe && sub->negotiated && !sub->track->gone
          && (sub->off_reason == HQ_SWITCH_OFF_NONE
              || sub->off_reason == HQ_SWITCH_OFF_BY_PUBLISHER))
        hq_sfu_request_keyframe (sub->track);
    }
    hq_sfu_score_participant (p, now);
  }
  hq_sfu_quality_send (media);
}

static gboolean
second_tick (gpointer data)
{
  room_second (data);
  return G_SOURCE_CONTINUE;
}

static GSource *
add_timer (HqSfuRoomMedia *media, guint ms, GSourceFunc func)
{
  GSource *s = g_timeout_source_new (ms);

  g_source_set_callback (s, func, media, NULL);
  g_source_attach (s, hq_worker_get_context (media->room->worker));
  return s;
}

/* --- worker: commands --- */

static void
media_create (HqSfuRoom *room)
{
  HqSfuRoomMedia *media = g_new0 (HqSfuRoomMedia, 1);

  media->room = room;
  media->participants = g_hash_table_new_full (
      g_str_hash, g_str_equal, NULL, hq_sfu_participant_free);
  media->tracks = g_hash_table_new (g_str_hash, g_str_equal);
  media->dsi = hq_dsi_new (HQ_DSI_ALGORITHM_DSI);
  hq_random_bytes ((guint8 *)&media->sfu_ssrc, sizeof media->sfu_ssrc);
  media->legs_per_worker = g_new0 (guint, room->n_workers);
  media->dsi_timer = add_timer (media, HQ_SFU_DSI_INTERVAL_MS, dsi_tick);
  media->second_timer = add_timer (media, 1000, second_tick);
  room->media = media;
}

static void
media_destroy (HqSfuRoom *room)
{
  HqSfuRoomMedia *media = room->media;

  if (media == NULL)
    return;
  hq_sfu_shard_log_end (room);
  g_source_destroy (media->dsi_timer);
  g_source_unref (media->dsi_timer);
  g_source_destroy (media->second_timer);
  g_source_unref (media->second_timer);
  g_hash_table_remove_all (media->participants);
  g_hash_table_unref (media->participants);
  g_hash_table_unref (media->tracks);
  hq_dsi_free (media->dsi);
  g_free (media->legs_per_worker);
  g_free (media);
  room->media = NULL;
}

/* A track from track_publish; its media comes with a publish_offer. */
static void
add_track (HqSfuRoomMedia *media, const gchar *participant_sid,
    const gchar *track_sid, const gchar *name, HqSdpKind kind,
    HqSfuPriority priority)
{
  HqSfuParticipant *p = hq_sfu_find_participant (media, participant_sid);
  HqSfuTrack *track;

  if (p == NULL || g_hash_table_contains (media->tracks, track_sid))
    return;
  track = hq_sfu_track_new (p, track_sid, name, kind);
  track->priority = priority;
  g_ptr_array_add (p->tracks, track);
  g_hash_table_insert (media->tracks, track->sid, track);
}

static void
set_track_enabled (HqSfuTrack *track, gboolean enabled)
{
  if (track->enabled == enabled)
    return;
  track->enabled = enabled;
  /* The silence timeout counts from when it is enabled again. */
  if (track->enabled)
    track->timeout_from_us = g_get_monotonic_time ();
  if (track->enabled && track->kind == HQ_SDP_KIND_VIDEO) {
    for (guint i = 0; i < track->subs->len; i++)
      ((HqSfuSub *)g_ptr_array_index (track->subs, i))->waiting_keyframe = TRUE;
    hq_sfu_request_keyframe (track);
  }
}

static void
set_subscriber_priority (
    HqSfuParticipant *p, const gchar *track_sid, gint priority)
{
  if (priority < 0)
    g_hash_table_remove (p->sub_priorities, track_sid);
  else
    g_hash_table_replace (
        p->sub_priorities, g_strdup (track_sid), GINT_TO_POINTER (priority));
}

/* Runs one command of the API on the room's worker.  What it carries is
 * the command's (hqsfucmd.h); what it builds from it is the worker's. */
void
hq_sfu_room_run (HqSfuRoom *room, const HqSfuCmd *cmd)
{
  HqSfuRoomMedia *media = room->media;
  HqSfuParticipant *p;
  HqSfuTrack *track;

  if (cmd->type == HQ_SFU_CMD_CREATE) {
    media_create (room);
    return;
  }
  if (media == NULL)
    return;
  switch (cmd->type) {
    case HQ_SFU_CMD_CREATE:
      break;
    case HQ_SFU_CMD_DESTROY:
      media_destroy (room);
      break;
    case HQ_SFU_CMD_ADD_PARTICIPANT:
      hq_sfu_add_participant (media, cmd->u.add_participant.sid,
          cmd->u.add_participant.identity, cmd->u.add_participant.hidden);
      break;
    case HQ_SFU_CMD_REMOVE_PARTICIPANT:
      g_hash_table_remove (media->participants, cmd->u.participant.sid);
      break;
    case HQ_SFU_CMD_SET_SELECTION:
      p = hq_sfu_find_participant (media, cmd->u.selection.sid);
      if (p)
        hq_sfu_set_selection (
            p, (const gchar *const *)cmd->u.selection.track_sids);
      break;
    case HQ_SFU_CMD_SET_RULES:
      p = hq_sfu_find_participant (media, cmd->u.rules.sid);
      if (p)
        hq_sfu_set_rules (p, cmd->u.rules.rules_json);
      break;
    case HQ_SFU_CMD_RESUME:
      p = hq_sfu_find_participant (media, cmd->u.participant.sid);
      if (p)
        hq_sfu_resume (p);
      break;
    case HQ_SFU_CMD_ADD_TRACK:
      add_track (media, cmd->u.add_track.participant_sid,
          cmd->u.add_track.track_sid, cmd->u.add_track.name,
          cmd->u.add_track.kind == HQ_SFU_CMD_KIND_VIDEO ? HQ_SDP_KIND_VIDEO
                                                         : HQ_SDP_KIND_AUDIO,
          (HqSfuPriority)cmd->u.add_track.priority);
      break;
    case HQ_SFU_CMD_REMOVE_TRACK:
      track = g_hash_table_lookup (media->tracks, cmd->u.track.track_sid);
      if (track)
        hq_sfu_remove_track (track);
      break;
    case HQ_SFU_CMD_SET_TRACK_ENABLED:
      track = g_hash_table_lookup (media->tracks, cmd->u.enabled.track_sid);
      if (track)
        set_track_enabled (track, cmd->u.enabled.enabled);
      break;
    case HQ_SFU_CMD_SET_TRACK_PRIORITY:
      track =
          g_hash_table_lookup (media->tracks, cmd->u.track_priority.track_sid);
      if (track)
        track->priority = (HqSfuPriority)cmd->u.track_priority.priority;
      break;
    case HQ_SFU_CMD_SET_SUBSCRIBER_PRIORITY:
      p = hq_sfu_find_participant (media, cmd->u.subscriber_priority.sid);
      if (p)
        set_subscriber_priority (p, cmd->u.subscriber_priority.track_sid,
            cmd->u.subscriber_priority.priority);
      break;
    case HQ_SFU_CMD_HANDLE:
      handle_text (media, cmd->u.handle.sid, cmd->u.handle.text);
      break;
    case HQ_SFU_CMD_SET_BANDWIDTH_PROFILE:
      p = hq_sfu_find_participant (media, cmd->u.bandwidth_profile.sid);
      if (p)
        hq_sfu_set_bandwidth_profile (p, &cmd->u.bandwidth_profile.profile);
      break;
    case HQ_SFU_CMD_SET_TRACK_HINTS:
      p = hq_sfu_find_participant (media, cmd->u.track_hints.sid);
      if (p)
        hq_sfu_set_track_hints (
            p, cmd->u.track_hints.hints, cmd->u.track_hints.n_hints);
      break;
  }
}
