/* The SFU's API, on the main context: each call becomes a typed command
 * (hqsfucmd.h) handed to the room's worker, where hqsfuroom.c runs it.
 * The code of the SFU, from the bottom up (each file includes only the
 * headers of those below it; docs/sfu.md, "Code"):
 *
 *   hqworkers, hqsfucmd   threads; commands between them, priority names
 *                         (no SFU state)
 *   hqsfustate.h       the worker's state: rooms, participants, tracks
 *   hqsfuedge             room references; messages back to the main context
 *   hqsfusr               our sender reports to subscribers
 *   hqsfuaudio            loudest-N audio: which audio packets go out
 *   hqsfutwcc             transport-wide congestion control, both legs
 *   hqsfuforward          track records, keyframes, forwarding, publisher RTCP
 *   hqsfubwe              bandwidth estimates and shares, REMB to publishers
 *   hqsfuprobe            probing subscribers' links for a layer up
 *   hqsfufeedback         subscribers' RTCP: NACK, PLI/FIR, REMB, reports
 *   hqsfuquality          network quality scores and reports
 *   hqsfutransport        transports: candidates, states, ICE restarts
 *   hqsfusubscribe        participants, subscriptions, subscribe offers
 *   hqsfupublish          publish offers and answers
 *   hqsfuroom             a room's worker side: commands, messages, timers
 *   hqsfu                 this API
 */
#include "hqsfu.h"
#include "hqsfuroom.h"
#include "hqsfuedge.h"
#include "hqsfucmd.h"
#include "hqlog.h"

#include <string.h>

/* A command on its way to the room's worker (hqsfucmd.h says what it
 * may carry), with a reference to the room. */
typedef struct
{
  HqSfuRoom *room;
  HqSfuCmd cmd;
} Posted;

static gboolean
cmd_dispatch (gpointer data)
{
  Posted *posted = data;

  hq_sfu_room_run (posted->room, &posted->cmd);
  return G_SOURCE_REMOVE;
}

static void
posted_free (gpointer data)
{
  Posted *posted = data;

  hq_sfu_room_unref (posted->room);
  hq_sfu_cmd_clear (&posted->cmd);
  g_free (posted);
}

/* Hands @cmd (taken: it is cleared here) to @room's worker. */
static void
post (HqSfuRoom *room, HqSfuCmd *cmd)
{
  Posted *posted = g_new0 (Posted, 1);

  posted->room = hq_sfu_room_ref (room);
  posted->cmd = *cmd;
  memset (cmd, 0, sizeof *cmd);
  hq_worker_invoke (room->worker, cmd_dispatch, posted, posted_free);
}

/* A command that carries nothing but its type. */
static void
post_type (HqSfuRoom *room, HqSfuCmdType type)
{
  HqSfuCmd cmd;

  hq_sfu_cmd_init (&cmd, type);
  post (room, &cmd);
}

/* --- the public API (main context) --- */

HqSfu *
hq_sfu_new (const HqSfuConfig *config, GError **error)
{
  HqSfu *sfu = g_new0 (HqSfu, 1);

  sfu->cert = hq_certificate_new (error);
  if (sfu->cert == NULL) {
    g_free (sfu);
    return NULL;
  }
  sfu->workers = hq_workers_new (config->workers);
  sfu->public_address = g_strdup (config->public_address);
  sfu->port_min = config->port_min;
  sfu->port_max = config->port_max;
  sfu->ice_tcp = config->ice_tcp;
  sfu->loudest_audio = config->loudest_audio;
  sfu->room_shards = config->room_shards;
  sfu->main_context = g_main_context_ref_thread_default ();
  if (sfu->port_min)
    hq_log_message (HQ_LOG_INFO, "sfu", "%u media threads, %s ports %u-%u",
        hq_workers_get_n (sfu->workers), sfu->ice_tcp ? "UDP and TCP" : "UDP",
        sfu->port_min, sfu->port_max);
  else
    hq_log_message (HQ_LOG_INFO, "sfu", "%u media threads, any %s port",
        hq_workers_get_n (sfu->workers), sfu->ice_tcp ? "UDP and TCP" : "UDP");
  return sfu;
}

void
hq_sfu_free (HqSfu *sfu)
{
  if (sfu == NULL)
    return;
  /* Rooms were freed first; their teardown runs before the workers stop. */
  hq_workers_free (sfu->workers);
  /* What the workers still sent back lands on the main context: let it
   * run (every room is dead by now, so nothing is delivered). */
  while (g_main_context_iteration (sfu->main_context, FALSE))
    ;
  hq_certificate_unref (sfu->cert);
  g_main_context_unref (sfu->main_context);
  g_free (sfu->public_address);
  g_free (sfu);
}

HqSfuRoom *
hq_sfu_room_new (
    HqSfu *sfu, const gchar *room_sid, HqSfuSendFunc send, gpointer user_data)
{
  HqSfuRoom *room = g_new0 (HqSfuRoom, 1);

  room->refcount = 1;
  room->sfu = sfu;
  g_mutex_init (&room->layers_lock);
  room->worker = hq_workers_pick (sfu->workers);
  room->n_workers = hq_workers_get_n (sfu->workers);
  room->forwarded_by_worker = g_new0 (guint64, room->n_workers);
  hq_worker_pin (room->worker);
  room->sid = g_strdup (room_sid);
  room->send = send;
  room->user_data = user_data;
  room->alive = TRUE;
  g_mutex_init (&room->audio_lock);
  room->audio_counts = g_hash_table_new_full (
      g_str_hash, g_str_equal, NULL, hq_sfu_audio_counts_free);
  post_type (room, HQ_SFU_CMD_CREATE);
  return room;
}

void
hq_sfu_room_free (HqSfuRoom *room)
{
  if (room == NULL)
    return;
  room->alive = FALSE;
  post_type (room, HQ_SFU_CMD_DESTROY);
  /* Here, not at the last unref: that may come after the workers stopped. */
  hq_worker_unpin (room->worker);
  hq_sfu_room_unref (room);
}

void
hq_sfu_room_add_participant (
    HqSfuRoom *room, const gchar *sid, const gchar *identity)
{
  HqSfuCmd cmd;

  hq_sfu_cmd_init_add_participant (&cmd, sid, identity, FALSE);
  post (room, &cmd);
}

void
hq_sfu_room_add_hidden (
    HqSfuRoom *room, const gchar *sid, const gchar *identity)
{
  HqSfuCmd cmd;

  hq_sfu_cmd_init_add_participant (&cmd, sid, identity, TRUE);
  post (room, &cmd);
}

void
hq_sfu_room_set_selection (
    HqSfuRoom *room, const gchar *sid, const gchar *const *track_sids)
{
  HqSfuCmd cmd;

  hq_sfu_cmd_init_selection (&cmd, sid, track_sids);
  post (room, &cmd);
}

void
hq_sfu_room_set_subscribe_rules (
    HqSfuRoom *room, const gchar *sid, JsonArray *rules)
{
  HqSfuCmd cmd;

  hq_sfu_cmd_init_rules (&cmd, sid, rules);
  post (room, &cmd);
}

void
hq_sfu_room_resume (HqSfuRoom *room, const gchar *sid)
{
  HqSfuCmd cmd;

  hq_sfu_cmd_init_participant (&cmd, HQ_SFU_CMD_RESUME, sid);
  post (room, &cmd);
}

void
hq_sfu_room_remove_participant (HqSfuRoom *room, const gchar *sid)
{
  HqSfuCmd cmd;

  hq_sfu_cmd_init_participant (&cmd, HQ_SFU_CMD_REMOVE_PARTICIPANT, sid);
  post (room, &cmd);
}

void
hq_sfu_room_add_track (HqSfuRoom *room, const gchar *participant_sid,
    const gchar *track_sid, const gchar *name, const gchar *kind,
    HqSfuPriority priority)
{
  HqSfuCmd cmd;

  /* Data tracks carry no media. */
  if (hq_sfu_cmd_init_add_track (
          &cmd, participant_sid, track_sid, name, kind, priority))
    post (room, &cmd);
}

void
hq_sfu_room_remove_track (HqSfuRoom *room, const gchar *track_sid)
{
  HqSfuCmd cmd;

  hq_sfu_cmd_init_remove_track (&cmd, track_sid);
  post (room, &cmd);
}

void
hq_sfu_room_set_track_enabled (
    HqSfuRoom *room, const gchar *track_sid, gboolean enabled)
{
  HqSfuCmd cmd;

  hq_sfu_cmd_init_track_enabled (&cmd, track_sid, enabled);
  post (room, &cmd);
}

void
hq_sfu_room_set_track_priority (
    HqSfuRoom *room, const gchar *track_sid, HqSfuPriority priority)
{
  HqSfuCmd cmd;

  hq_sfu_cmd_init_track_priority (&cmd, track_sid, priority);
  post (room, &cmd);
}

void
hq_sfu_room_set_subscriber_priority (
    HqSfuRoom *room, const gchar *sid, const gchar *track_sid, gint priority)
{
  HqSfuCmd cmd;

  hq_sfu_cmd_init_subscriber_priority (&cmd, sid, track_sid, priority);
  post (room, &cmd);
}

void
hq_sfu_room_set_bandwidth_profile (
    HqSfuRoom *room, const gchar *sid, const HqBandwidthProfile *profile)
{
  HqSfuCmd cmd;

  hq_sfu_cmd_init_bandwidth_profile (&cmd, sid, profile);
  post (room, &cmd);
}

void
hq_sfu_room_set_track_hints (
    HqSfuRoom *room, const gchar *sid, const HqTrackHint *hints, guint n)
{
  HqSfuCmd cmd;

  hq_sfu_cmd_init_track_hints (&cmd, sid, hints, n);
  post (room, &cmd);
}

gchar *
hq_sfu_room_get_layers (HqSfuRoom *room)
{
  gchar *text;

  __atomic_store_n (
      &room->layers_read_us, g_get_monotonic_time (), __ATOMIC_RELAXED);
  g_mutex_lock (&room->layers_lock);
  text = g_strdup (room->layers_json);
  g_mutex_unlock (&room->layers_lock);
  return text;
}

void
hq_sfu_room_handle (
    HqSfuRoom *room, const gchar *participant_sid, JsonObject *msg)
{
  HqSfuCmd cmd;

  /* As text (hqsfucmd.h): the worker parses its own copy. */
  hq_sfu_cmd_init_handle (&cmd, participant_sid, msg);
  post (room, &cmd);
}

guint64
hq_sfu_room_get_forwarded (HqSfuRoom *room)
{
  return __atomic_load_n (&room->forwarded, __ATOMIC_RELAXED);
}

/* A copy of @room's audio counts per publisher, in no order. */
static GPtrArray *
audio_publishers (HqSfuRoom *room)
{
  GPtrArray *out = g_ptr_array_new_with_free_func (hq_sfu_audio_counts_free);
  GHashTableIter iter;
  gpointer value;

  g_mutex_lock (&room->audio_lock);
  g_hash_table_iter_init (&iter, room->audio_counts);
  while (g_hash_table_iter_next (&iter, NULL, &value)) {
    HqSfuAudioCounts *c = value, *copy = g_new0 (HqSfuAudioCounts, 1);

    copy->participant_sid = g_strdup (c->participant_sid);
    copy->forwarded = __atomic_load_n (&c->forwarded, __ATOMIC_RELAXED);
    copy->silenced = __atomic_load_n (&c->silenced, __ATOMIC_RELAXED);
    g_ptr_array_add (out, copy);
  }
  g_mutex_unlock (&room->audio_lock);
  return out;
}

void
hq_sfu_room_get_counters (HqSfuRoom *room, HqSfuRoomCounters *out)
{
  out->forwarded = __atomic_load_n (&room->forwarded, __ATOMIC_RELAXED);
  out->nacked = __atomic_load_n (&room->nacked, __ATOMIC_RELAXED);
  out->retransmitted = __atomic_load_n (&room->retransmitted, __ATOMIC_RELAXED);
  out->nacked_upstream =
      __atomic_load_n (&room->nacked_upstream, __ATOMIC_RELAXED);
  out->forwarded_audio =
      __atomic_load_n (&room->forwarded_kind[0], __ATOMIC_RELAXED);
  out->forwarded_video =
      __atomic_load_n (&room->forwarded_kind[1], __ATOMIC_RELAXED);
  out->silenced_audio =
      __atomic_load_n (&room->silenced_audio, __ATOMIC_RELAXED);
  out->audio_publishers = audio_publishers (room);
  out->forwarded_by_worker =
      g_array_sized_new (FALSE, TRUE, sizeof (guint64), room->n_workers);
  for (guint i = 0; i < room->n_workers; i++) {
    guint64 n =
        __atomic_load_n (&room->forwarded_by_worker[i], __ATOMIC_RELAXED);
    g_array_append_val (out->forwarded_by_worker, n);
  }
}

void
hq_sfu_audio_counts_free (gpointer data)
{
  HqSfuAudioCounts *c = data;

  g_free (c->participant_sid);
  g_free (c);
}

void
hq_sfu_room_counters_clear (HqSfuRoomCounters *counters)
{
  g_clear_pointer (&counters->audio_publishers, g_ptr_array_unref);
  g_clear_pointer (&counters->forwarded_by_worker, g_array_unref);
}
