/* The SFU's control side: the API the main context calls, handing each
 * call to the room's worker, and the publish/subscribe negotiation that
 * runs there.  Forwarding and RTCP are in hqsfuforward.c.  See hqsfu.h.
 *
 * Negotiation (docs/protocol.md, "Media"):
 * - publish: the client sends publish_offer with its SDP and which track
 *   (from track_publish) each sending m-line carries; we answer with
 *   setup:passive (we are the DTLS server, and pick GCM), REMB instead of
 *   transport-cc (we send REMB, not TWCC feedback), and from then on
 *   packets from those SSRCs are that track's.
 * - subscribe: whenever the set of tracks a participant should receive
 *   changes we send subscribe_offer (one sendonly m-line per track, a
 *   removed track's m-line set to port 0), one at a time: changes that
 *   happen while an offer is outstanding wait for its answer.  Which
 *   tracks: the recorder's selection, everyone else's subscribe rules
 *   (wants()).  An offer sent while the participant's connection is down
 *   is lost with it; a resume sends the outstanding one again.
 */
#include "hqsfu-private.h"
#include "hqlog.h"
#include "hqmetrics.h"
#include "hqrules.h"

#include <string.h>
#include <hq/hqprotocol.h>
#include <hq/hqutil.h>

#define HQ_SFU_DSI_INTERVAL_MS 300

/* --- room lifetime and the two directions between threads --- */

static HqSfuRoom *
room_ref (HqSfuRoom *room)
{
  g_atomic_int_inc (&room->refcount);
  return room;
}

static void
room_unref (HqSfuRoom *room)
{
  if (!g_atomic_int_dec_and_test (&room->refcount))
    return;
  g_free (room->sid);
  g_free (room);
}

/* A message from a worker to a participant's signalling connection, as
 * JSON text: json-glib's reference counts are not atomic, so the main
 * thread parses its own copy rather than share the worker's object. */
typedef struct
{
  HqSfuRoom *room;
  gchar *participant_sid;
  gchar *text;
} Outgoing;

static gboolean
deliver (gpointer data)
{
  Outgoing *o = data;
  g_autoptr (JsonParser) parser = NULL;
  JsonNode *root;

  if (!o->room->alive)
    return G_SOURCE_REMOVE;
  parser = json_parser_new ();
  if (!json_parser_load_from_data (parser, o->text, -1, NULL))
    return G_SOURCE_REMOVE; /* cannot happen: json-glib wrote it */
  root = json_parser_get_root (parser);
  if (root && JSON_NODE_HOLDS_OBJECT (root))
    o->room->send (
        o->room->user_data, o->participant_sid, json_node_get_object (root));
  return G_SOURCE_REMOVE;
}

static void
outgoing_free (gpointer data)
{
  Outgoing *o = data;

  room_unref (o->room);
  g_free (o->participant_sid);
  g_free (o->text);
  g_free (o);
}

void
hq_sfu_room_send (
    HqSfuRoom *room, const gchar *participant_sid, JsonObject *msg)
{
  Outgoing *o = g_new0 (Outgoing, 1);
  g_autoptr (JsonNode) node = json_node_new (JSON_NODE_OBJECT);

  json_node_set_object (node, msg);
  o->room = room_ref (room);
  o->participant_sid = g_strdup (participant_sid);
  o->text = json_to_string (node, FALSE);
  g_main_context_invoke_full (
      room->sfu->main_context, G_PRIORITY_DEFAULT, deliver, o, outgoing_free);
}

static void
send_error (HqSfuRoom *room, const gchar *sid, const gchar *id,
    HqProtocolError code, const gchar *message)
{
  JsonObject *msg = hq_protocol_error_new (id, code, message);

  hq_sfu_room_send (room, sid, msg);
  json_object_unref (msg);
}

/* {"type": "ok", "id": @id}: a request that has nothing else to say. */
static void
send_ok (HqSfuRoom *room, const gchar *sid, const gchar *id)
{
  JsonObject *msg = hq_protocol_message_new (HQ_MESSAGE_OK, NULL);

  if (id)
    json_object_set_string_member (msg, "id", id);
  hq_sfu_room_send (room, sid, msg);
  json_object_unref (msg);
}

typedef enum
{
  CMD_CREATE,
  CMD_DESTROY,
  CMD_ADD_PARTICIPANT,
  CMD_ADD_HIDDEN,
  CMD_SET_SELECTION,
  CMD_SET_RULES,
  CMD_RESUME,
  CMD_REMOVE_PARTICIPANT,
  CMD_ADD_TRACK,
  CMD_REMOVE_TRACK,
  CMD_SET_ENABLED,
  CMD_SET_PRIORITY,
  CMD_SET_SUB_PRIORITY,
  CMD_HANDLE,
} CmdType;

typedef struct
{
  HqSfuRoom *room;
  CmdType type;
  gchar *a, *b, *c, *d;
  gboolean flag;
  gint n;
  JsonObject *msg;
} Cmd;

static void run_cmd (Cmd *cmd);

static gboolean
cmd_dispatch (gpointer data)
{
  run_cmd (data);
  return G_SOURCE_REMOVE;
}

static void
cmd_free (gpointer data)
{
  Cmd *cmd = data;

  room_unref (cmd->room);
  g_free (cmd->a);
  g_free (cmd->b);
  g_free (cmd->c);
  g_free (cmd->d);
  if (cmd->msg)
    json_object_unref (cmd->msg);
  g_free (cmd);
}

static void
post_n (HqSfuRoom *room, CmdType type, const gchar *a, const gchar *b,
    const gchar *c, const gchar *d, gboolean flag, gint n, JsonObject *msg)
{
  Cmd *cmd = g_new0 (Cmd, 1);

  cmd->room = room_ref (room);
  cmd->type = type;
  cmd->a = g_strdup (a);
  cmd->b = g_strdup (b);
  cmd->c = g_strdup (c);
  cmd->d = g_strdup (d);
  cmd->flag = flag;
  cmd->n = n;
  cmd->msg = msg ? json_object_ref (msg) : NULL;
  hq_worker_invoke (room->worker, cmd_dispatch, cmd, cmd_free);
}

static void
post (HqSfuRoom *room, CmdType type, const gchar *a, const gchar *b,
    const gchar *c, const gchar *d, gboolean flag, JsonObject *msg)
{
  post_n (room, type, a, b, c, d, flag, 0, msg);
}

/* HqSfuPriority follows HqPriority's order. */
G_STATIC_ASSERT ((gint)HQ_SFU_PRIORITY_LOW == (gint)HQ_PRIORITY_LOW);
G_STATIC_ASSERT ((gint)HQ_SFU_PRIORITY_STANDARD == (gint)HQ_PRIORITY_STANDARD);
G_STATIC_ASSERT ((gint)HQ_SFU_PRIORITY_HIGH == (gint)HQ_PRIORITY_HIGH);

gboolean
hq_sfu_priority_from_string (const gchar *text, HqSfuPriority *priority)
{
  HqPriority value;

  if (!hq_protocol_priority_from_name (text, &value))
    return FALSE;
  *priority = (HqSfuPriority)value;
  return TRUE;
}

const gchar *
hq_sfu_priority_to_string (HqSfuPriority priority)
{
  const gchar *name = hq_protocol_priority_name ((HqPriority)priority);

  return name ? name : hq_protocol_priority_name (HQ_PRIORITY_STANDARD);
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
  room->worker = hq_workers_pick (sfu->workers);
  hq_worker_pin (room->worker);
  room->sid = g_strdup (room_sid);
  room->send = send;
  room->user_data = user_data;
  room->alive = TRUE;
  post (room, CMD_CREATE, NULL, NULL, NULL, NULL, FALSE, NULL);
  return room;
}

void
hq_sfu_room_free (HqSfuRoom *room)
{
  if (room == NULL)
    return;
  room->alive = FALSE;
  post (room, CMD_DESTROY, NULL, NULL, NULL, NULL, FALSE, NULL);
  /* Here, not at the last unref: that may come after the workers stopped. */
  hq_worker_unpin (room->worker);
  room_unref (room);
}

void
hq_sfu_room_add_participant (
    HqSfuRoom *room, const gchar *sid, const gchar *identity)
{
  post (room, CMD_ADD_PARTICIPANT, sid, identity, NULL, NULL, FALSE, NULL);
}

void
hq_sfu_room_add_hidden (
    HqSfuRoom *room, const gchar *sid, const gchar *identity)
{
  post (room, CMD_ADD_HIDDEN, sid, identity, NULL, NULL, FALSE, NULL);
}

void
hq_sfu_room_set_selection (
    HqSfuRoom *room, const gchar *sid, const gchar *const *track_sids)
{
  static const gchar *const none[] = { NULL };
  g_autofree gchar *joined =
      g_strjoinv (" ", (gchar **)(track_sids ? track_sids : none));

  post (room, CMD_SET_SELECTION, sid, joined, NULL, NULL, FALSE, NULL);
}

void
hq_sfu_room_set_subscribe_rules (
    HqSfuRoom *room, const gchar *sid, JsonArray *rules)
{
  g_autoptr (JsonNode) node = NULL;
  g_autofree gchar *text = NULL;

  /* As text: the worker parses its own copy, nothing is shared. */
  if (rules) {
    node = json_node_new (JSON_NODE_ARRAY);
    json_node_set_array (node, rules);
    text = json_to_string (node, FALSE);
  }
  post (room, CMD_SET_RULES, sid, text, NULL, NULL, FALSE, NULL);
}

void
hq_sfu_room_resume (HqSfuRoom *room, const gchar *sid)
{
  post (room, CMD_RESUME, sid, NULL, NULL, NULL, FALSE, NULL);
}

void
hq_sfu_room_remove_participant (HqSfuRoom *room, const gchar *sid)
{
  post (room, CMD_REMOVE_PARTICIPANT, sid, NULL, NULL, NULL, FALSE, NULL);
}

void
hq_sfu_room_add_track (HqSfuRoom *room, const gchar *participant_sid,
    const gchar *track_sid, const gchar *name, const gchar *kind,
    HqSfuPriority priority)
{
  post_n (room, CMD_ADD_TRACK, participant_sid, track_sid, name, kind, FALSE,
      priority, NULL);
}

void
hq_sfu_room_remove_track (HqSfuRoom *room, const gchar *track_sid)
{
  post (room, CMD_REMOVE_TRACK, track_sid, NULL, NULL, NULL, FALSE, NULL);
}

void
hq_sfu_room_set_track_enabled (
    HqSfuRoom *room, const gchar *track_sid, gboolean enabled)
{
  post (room, CMD_SET_ENABLED, track_sid, NULL, NULL, NULL, enabled, NULL);
}

void
hq_sfu_room_set_track_priority (
    HqSfuRoom *room, const gchar *track_sid, HqSfuPriority priority)
{
  post_n (room, CMD_SET_PRIORITY, track_sid, NULL, NULL, NULL, FALSE, priority,
      NULL);
}

void
hq_sfu_room_set_subscriber_priority (
    HqSfuRoom *room, const gchar *sid, const gchar *track_sid, gint priority)
{
  post_n (room, CMD_SET_SUB_PRIORITY, sid, track_sid, NULL, NULL, FALSE,
      priority, NULL);
}

void
hq_sfu_room_handle (
    HqSfuRoom *room, const gchar *participant_sid, JsonObject *msg)
{
  g_autoptr (JsonNode) node = json_node_new (JSON_NODE_OBJECT);
  g_autofree gchar *text = NULL;

  /* As text: json-glib's reference counts are not atomic, so the worker
   * parses its own copy rather than share @msg with this thread. */
  json_node_set_object (node, msg);
  text = json_to_string (node, FALSE);
  post (room, CMD_HANDLE, participant_sid, text, NULL, NULL, FALSE, NULL);
}

guint64
hq_sfu_room_get_forwarded (HqSfuRoom *room)
{
  return __atomic_load_n (&room->forwarded, __ATOMIC_RELAXED);
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
}

/* --- worker: participants --- */

static void subscribe_renegotiate (HqSfuParticipant *p);
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

static void
subscribe_renegotiate (HqSfuParticipant *p)
{
  if (p->offer_timer || (!p->sub_dirty && !p->sub_restart_wanted))
    return;
  p->offer_timer = g_timeout_source_new (HQ_SFU_OFFER_DELAY_MS);
  g_source_set_callback (p->offer_timer, offer_timer_cb, p, NULL);
  g_source_attach (
      p->offer_timer, hq_worker_get_context (p->media->room->worker));
}

static HqSfuParticipant *
find_participant (HqSfuRoomMedia *media, const gchar *sid)
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
static void
remove_track (HqSfuTrack *track)
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
  if (track->ssrc)
    g_hash_table_remove (publisher->pub_ssrcs, GUINT_TO_POINTER (track->ssrc));
  if (track->rtx_ssrc)
    g_hash_table_remove (
        publisher->pub_ssrcs, GUINT_TO_POINTER (track->rtx_ssrc));
  g_ptr_array_remove (publisher->tracks, track); /* frees it */
  for (guint i = 0; i < subscribers->len; i++)
    subscribe_renegotiate (g_ptr_array_index (subscribers, i));
}

static gboolean
track_ready (HqSfuTrack *track)
{
  return track->mid != NULL && track->ssrc != 0;
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

static void
subscribe (HqSfuParticipant *p, HqSfuTrack *track)
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
  p->sub_dirty = TRUE;
}

void
hq_sfu_participant_set_metrics_level (HqSfuParticipant *p, gint level)
{
  if (level == p->metrics_level)
    return;
  if (p->metrics_level >= 0 && p->metrics_level <= 5)
    hq_metrics_gauge_add (HQ_GAUGE_NETQ_LEVEL_0 + p->metrics_level, -1);
  if (level >= 0 && level <= 5)
    hq_metrics_gauge_add (HQ_GAUGE_NETQ_LEVEL_0 + level, 1);
  p->metrics_level = level;
}

static void
participant_free (gpointer data)
{
  HqSfuParticipant *p = data;

  hq_sfu_participant_set_metrics_level (p, -1);

  /* Others' subscriptions to this participant's tracks go first. */
  while (p->tracks->len > 0)
    remove_track (g_ptr_array_index (p->tracks, 0));
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

static void
add_participant (HqSfuRoomMedia *media, const gchar *sid, const gchar *identity,
    gboolean hidden)
{
  HqSfuParticipant *p;
  GHashTableIter iter;
  gpointer value;

  if (find_participant (media, sid))
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
  p->tracks =
      g_ptr_array_new_with_free_func ((GDestroyNotify)hq_sfu_track_free);
  p->subs = g_ptr_array_new_with_free_func ((GDestroyNotify)hq_sfu_sub_free);
  if (p->speaker_id)
    hq_dsi_add_speaker (media->dsi, p->speaker_id, NULL);
  g_hash_table_insert (media->participants, p->sid, p);

  g_hash_table_iter_init (&iter, media->tracks);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    subscribe (p, value);
  subscribe_renegotiate (p);
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
    subscribe (p, value);
  subscribe_renegotiate (p);
}

/* Hidden participant @p receives exactly the ready tracks among
 * @track_sids (space-separated) from now on. */
static void
set_selection (HqSfuParticipant *p, const gchar *track_sids)
{
  g_auto (GStrv) sids = g_strsplit (track_sids, " ", -1);

  if (!p->hidden)
    return;
  g_hash_table_remove_all (p->selection);
  for (guint i = 0; sids[i]; i++)
    if (*sids[i])
      g_hash_table_add (p->selection, g_strdup (sids[i]));
  resubscribe (p);
}

/* Ordinary participant @p receives what @text (a JSON array of checked
 * rules, or NULL: everything) selects from now on. */
static void
set_rules (HqSfuParticipant *p, const gchar *text)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  JsonNode *root;

  if (p->hidden)
    return;
  g_clear_pointer (&p->rules, json_array_unref);
  if (text && json_parser_load_from_data (parser, text, -1, NULL)
      && (root = json_parser_get_root (parser)) && JSON_NODE_HOLDS_ARRAY (root))
    p->rules = json_array_ref (json_node_get_array (root));
  resubscribe (p);
}

/* Sends @p the message @text (JSON, as we sent it before). */
static void
send_again (HqSfuParticipant *p, const gchar *text)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  JsonNode *root;

  if (!json_parser_load_from_data (parser, text, -1, NULL))
    return;
  root = json_parser_get_root (parser);
  if (root && JSON_NODE_HOLDS_OBJECT (root))
    hq_sfu_room_send (p->media->room, p->sid, json_node_get_object (root));
}

/* @p is back on a new connection.  What went to the old one while it was
 * down is lost: our last publish answer goes again (a client that has it
 * ignores it), an offer it never answered (same revision; answering it
 * twice is harmless, as the first answer never arrived), then our
 * candidates (a transport made meanwhile gathered them then; a client
 * ignores those it has). */
static void
resume (HqSfuParticipant *p)
{
  if (p->pub_answer_msg)
    send_again (p, p->pub_answer_msg);
  if (p->sub_offer_msg && !p->sub_answered)
    send_again (p, p->sub_offer_msg);
  for (guint i = 0; i < G_N_ELEMENTS (p->sent_cands); i++)
    for (guint j = 0; p->sent_cands[i] && j < p->sent_cands[i]->len; j++)
      send_again (p, g_ptr_array_index (p->sent_cands[i], j));
}

/* --- worker: transports --- */

static const gchar *
transport_name (HqSfuParticipant *p, HqTransport *t)
{
  return t == p->pub ? "publish" : "subscribe";
}

/* @msg as JSON text, to send again after a resume (send_again()). */
static gchar *
message_text (JsonObject *msg)
{
  g_autoptr (JsonNode) node = json_node_new (JSON_NODE_OBJECT);

  json_node_set_object (node, msg);
  return json_to_string (node, FALSE);
}

/* Sends @msg (taken), a candidate or end_of_candidates of @t, and keeps
 * it for a resume. */
static void
send_candidate (HqSfuParticipant *p, HqTransport *t, JsonObject *msg)
{
  guint which = t == p->pub ? 0 : 1;

  hq_sfu_room_send (p->media->room, p->sid, msg);
  if (p->sent_cands[which] == NULL)
    p->sent_cands[which] = g_ptr_array_new_with_free_func (g_free);
  g_ptr_array_add (p->sent_cands[which], message_text (msg));
  json_object_unref (msg);
}

static void
on_local_candidate (HqTransport *t, const gchar *cand, HqSfuParticipant *p)
{
  JsonObject *msg = hq_protocol_candidate_new (transport_name (p, t), cand);

  send_candidate (p, t, msg);
}

static void
on_gathering_done (HqTransport *t, HqSfuParticipant *p)
{
  JsonObject *msg = hq_protocol_candidate_new (transport_name (p, t), NULL);

  send_candidate (p, t, msg);
}

static void
log_selected_pair (JsonObject *line, HqTransport *t)
{
  g_autofree gchar *local = NULL, *remote = NULL, *pair = NULL;

  if (!hq_transport_get_selected_pair (t, &local, &remote))
    return;
  json_object_set_string_member (line, "local", local);
  json_object_set_string_member (line, "remote", remote);
  /* The candidates' types and transports: relayed, over TCP. */
  pair = hq_transport_describe_selected_pair (t);
  if (pair)
    json_object_set_string_member (line, "pair", pair);
}

/* Tells the participant and the log a transport's state, with the error
 * that failed it. */
static void
report_state (HqSfuParticipant *p, HqTransport *t, HqTransportState state,
    const GError *error)
{
  JsonObject *msg = hq_protocol_message_new (HQ_MESSAGE_TRANSPORT_STATE, NULL);

  json_object_set_string_member (msg, "transport", transport_name (p, t));
  json_object_set_string_member (msg, "state", hq_transport_state_name (state));
  if (error)
    json_object_set_string_member (msg, "message", error->message);
  hq_sfu_room_send (p->media->room, p->sid, msg);
  json_object_unref (msg);
  {
    JsonObject *line =
        hq_log_begin (error ? HQ_LOG_WARN : HQ_LOG_INFO, "transport");
    json_object_set_string_member (line, "room", p->media->room->sid);
    json_object_set_string_member (line, "participant", p->sid);
    json_object_set_string_member (line, "transport", transport_name (p, t));
    json_object_set_string_member (
        line, "state", hq_transport_state_name (state));
    if (error)
      json_object_set_string_member (line, "error", error->message);
    if (state == HQ_TRANSPORT_STATE_CONNECTED)
      log_selected_pair (line, t);
    hq_log_end (line);
  }
}

/* Structured lines for each ICE and DTLS step of @t (docs/troubleshooting.md;
 * the transport line above says what the participant's client is told). */
static JsonObject *
transport_line (HqLogLevel level, const gchar *event, HqSfuParticipant *p,
    HqTransport *t, const gchar *state)
{
  JsonObject *line = hq_log_begin (level, event);

  json_object_set_string_member (line, "room", p->media->room->sid);
  json_object_set_string_member (line, "participant", p->sid);
  json_object_set_string_member (line, "transport", transport_name (p, t));
  json_object_set_string_member (line, "state", state);
  return line;
}

static void
on_ice_state (HqTransport *t, const gchar *state, HqSfuParticipant *p)
{
  gboolean failed = g_strcmp0 (state, "failed") == 0;
  JsonObject *line =
      transport_line (failed ? HQ_LOG_WARN : HQ_LOG_INFO, "ice", p, t, state);

  if (g_strcmp0 (state, "connected") == 0 || g_strcmp0 (state, "ready") == 0)
    log_selected_pair (line, t);
  if (failed) {
    g_autofree gchar *local = hq_transport_describe_candidates (t, FALSE);
    g_autofree gchar *remote = hq_transport_describe_candidates (t, TRUE);
    json_object_set_string_member (line, "local_candidates", local);
    json_object_set_string_member (line, "remote_candidates", remote);
  }
  hq_log_end (line);
}

static void
on_dtls_state (HqTransport *t, const gchar *state, const gchar *detail,
    HqSfuParticipant *p)
{
  gboolean failed = g_strcmp0 (state, "failed") == 0;
  JsonObject *line =
      transport_line (failed ? HQ_LOG_WARN : HQ_LOG_INFO, "dtls", p, t, state);

  json_object_set_string_member (line, failed ? "error" : "detail", detail);
  hq_log_end (line);
}

/* --- worker: ICE restarts (docs/protocol.md, "When a connection fails") */

/* The subscribe transport is restarted at once, then again after each of
 * these pauses (doubling) while it stays down. */
#define HQ_SFU_RESTART_MIN_MS 3000
#define HQ_SFU_RESTART_MAX_MS 15000

static void
log_ice_restart (HqSfuParticipant *p, HqTransport *t, const gchar *why)
{
  JsonObject *line = hq_log_begin (HQ_LOG_INFO, "ice_restart");

  json_object_set_string_member (line, "room", p->media->room->sid);
  json_object_set_string_member (line, "participant", p->sid);
  json_object_set_string_member (line, "transport", transport_name (p, t));
  json_object_set_string_member (line, "why", why);
  hq_log_end (line);
}

/* Restarts ICE on @t: new credentials, and our candidates again (the ones
 * sent so far are stale, a resume must not send them). */
static gboolean
restart_ice (
    HqSfuParticipant *p, HqTransport *t, const gchar *why, GError **error)
{
  if (!hq_transport_restart_ice (t, error))
    return FALSE;
  g_clear_pointer (&p->sent_cands[t == p->pub ? 0 : 1], g_ptr_array_unref);
  log_ice_restart (p, t, why);
  return TRUE;
}

/* Whether @sdp, from the participant for its transport @which (0
 * publish, 1 subscribe), has other ICE credentials than we applied:
 * the first, or a restart. */
static gboolean
new_remote_ufrag (HqSfuParticipant *p, guint which, const HqSdp *sdp)
{
  return g_strcmp0 (hq_sdp_get_ice_ufrag (sdp), p->remote_ufrag[which]) != 0;
}

static gboolean
apply_remote (
    HqSfuParticipant *p, guint which, const HqSdp *sdp, GError **error)
{
  if (!hq_transport_set_remote_description (
          which == 0 ? p->pub : p->sub, sdp, error))
    return FALSE;
  g_free (p->remote_ufrag[which]);
  p->remote_ufrag[which] = g_strdup (hq_sdp_get_ice_ufrag (sdp));
  return TRUE;
}

/* Asks for a subscribe offer that restarts ICE, unless one is out. */
static void
want_sub_restart (HqSfuParticipant *p)
{
  if (p->sub == NULL || p->sub_restart_wanted
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
  if (hq_transport_get_state (p->sub) == HQ_TRANSPORT_STATE_CONNECTED)
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
static void
restart_video (GPtrArray *subs)
{
  for (guint i = 0; i < subs->len; i++) {
    HqSfuSub *sub = g_ptr_array_index (subs, i);
    if (sub->track->kind != HQ_SDP_KIND_VIDEO || !sub->negotiated)
      continue;
    sub->waiting_keyframe = TRUE;
    hq_sfu_request_keyframe (sub->track);
  }
}

static void
on_state (HqTransport *t, gint state, HqSfuParticipant *p)
{
  const GError *error = hq_transport_get_error (t);
  guint which = t == p->pub ? 0 : 1;

  if (t == p->sub && state == HQ_TRANSPORT_STATE_CONNECTED) {
    /* Video subscriptions start at a keyframe. */
    for (guint i = 0; i < p->subs->len; i++) {
      HqSfuSub *sub = g_ptr_array_index (p->subs, i);
      if (sub->track->kind == HQ_SDP_KIND_VIDEO)
        hq_sfu_request_keyframe (sub->track);
    }
    if (p->ever_connected[1])
      restart_video (p->subs);
    if (p->sub_restart_timer) {
      g_source_destroy (p->sub_restart_timer);
      g_clear_pointer (&p->sub_restart_timer, g_source_unref);
    }
  }
  if (t == p->pub && state == HQ_TRANSPORT_STATE_CONNECTED
      && p->ever_connected[0]) {
    /* Back after an ICE restart: subscribers get a clean picture. */
    for (guint i = 0; i < p->tracks->len; i++)
      restart_video (((HqSfuTrack *)g_ptr_array_index (p->tracks, i))->subs);
  }
  if (state == HQ_TRANSPORT_STATE_CONNECTED)
    p->ever_connected[which] = TRUE;
  report_state (p, t, (HqTransportState)state, error);
  /* We offer the subscribe transport: we restart it.  The publish one is
   * the participant's to restart (it hears of the failure above). */
  if (t == p->sub && state == HQ_TRANSPORT_STATE_FAILED
      && g_error_matches (
          error, HQ_TRANSPORT_ERROR, HQ_TRANSPORT_ERROR_CONSENT_LOST)
      && p->sub_restart_timer == NULL) {
    p->sub_restart_ms = HQ_SFU_RESTART_MIN_MS / 2;
    /* Right after this state change, not inside it. */
    schedule_sub_restart (p, 0);
  }
}

/* Starts gathering @t's candidates; when no port is free (the configured
 * range is used up) the participant is told at once, not left waiting for
 * candidates that never come. */
static void
gather (HqSfuParticipant *p, HqTransport *t)
{
  g_autoptr (GError) error = NULL;
  HqSfu *sfu = p->media->room->sfu;

  if (hq_transport_gather (t, &error))
    return;
  if (sfu->port_min)
    g_prefix_error (&error,
        "the server has no free media port (UDP %u-%u, [media] port_min and "
        "port_max, may all be in use): ",
        sfu->port_min, sfu->port_max);
  report_state (p, t, HQ_TRANSPORT_STATE_FAILED, error);
}

static HqTransport *
make_transport (HqSfuParticipant *p, gboolean controlling, GError **error)
{
  HqSfu *sfu = p->media->room->sfu;
  HqTransportConfig config;
  HqTransport *t;

  hq_transport_config_init (&config);
  config.context = hq_worker_get_context (p->media->room->worker);
  config.controlling = controlling;
  config.dtls_role = HQ_DTLS_ROLE_SERVER;
  config.certificate = sfu->cert;
  config.public_address = sfu->public_address;
  config.port_min = sfu->port_min;
  config.port_max = sfu->port_max;
  config.ice_tcp = sfu->ice_tcp;
  t = hq_transport_new (&config, error);
  if (t == NULL)
    return NULL;
  g_signal_connect (t, "local-candidate", G_CALLBACK (on_local_candidate), p);
  g_signal_connect (t, "gathering-done", G_CALLBACK (on_gathering_done), p);
  g_signal_connect (t, "state-changed", G_CALLBACK (on_state), p);
  g_signal_connect (t, "ice-state-changed", G_CALLBACK (on_ice_state), p);
  g_signal_connect (t, "dtls-state-changed", G_CALLBACK (on_dtls_state), p);
  {
    g_autofree gchar *label = g_strdup_printf ("%s %s %s", p->media->room->sid,
        p->sid, controlling ? "subscribe" : "publish");
    hq_transport_set_label (t, label);
  }
  return t;
}

/* We send REMB, not transport-wide feedback: keep publishers on REMB. */
static void
prefer_remb (HqSdp *sdp)
{
  for (guint i = 0; i < sdp->media->len; i++) {
    HqSdpMedia *m = g_ptr_array_index (sdp->media, i);
    for (guint j = 0; j < m->codecs->len; j++) {
      HqSdpCodec *c = g_ptr_array_index (m->codecs, j);
      for (guint k = c->rtcp_fb->len; k > 0; k--)
        if (g_str_equal (g_ptr_array_index (c->rtcp_fb, k - 1), "transport-cc"))
          g_ptr_array_remove_index (c->rtcp_fb, k - 1);
    }
    for (guint k = m->extmaps->len; k > 0; k--) {
      HqSdpExtmap *e = g_ptr_array_index (m->extmaps, k - 1);
      if (g_str_equal (e->uri, HQ_SDP_EXT_TWCC))
        g_ptr_array_remove_index (m->extmaps, k - 1);
    }
  }
}

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
  if (ssrcs->len == 0) {
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
  track->ssrc = g_array_index (ssrcs, guint32, 0);
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
  g_hash_table_insert (p->pub_ssrcs, GUINT_TO_POINTER (track->ssrc), track);
  if (track->rtx_ssrc)
    g_hash_table_insert (
        p->pub_ssrcs, GUINT_TO_POINTER (track->rtx_ssrc), track);
  return TRUE;
}

static void
handle_publish_offer (HqSfuParticipant *p, JsonObject *msg, const gchar *id)
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
    send_error (
        room, p->sid, id, HQ_PROTOCOL_ERROR_INVALID_FIELD, error->message);
    return;
  }
  offer = hq_sdp_parse (HQ_SDP_OFFER, text, -1, &error);
  if (offer == NULL) {
    send_error (
        room, p->sid, id, HQ_PROTOCOL_ERROR_INVALID_SDP, error->message);
    return;
  }
  if (first && (p->pub = make_transport (p, FALSE, &error)) == NULL) {
    send_error (room, p->sid, id, HQ_PROTOCOL_ERROR_INTERNAL, error->message);
    return;
  }
  /* New ICE credentials in a later offer: the participant restarted ICE
   * (its transport failed); we do too and answer with our new ones. */
  restart = !first && new_remote_ufrag (p, 0, offer);
  if (restart
      && !restart_ice (
          p, p->pub, "the participant offered new ICE credentials", &error)) {
    send_error (room, p->sid, id, HQ_PROTOCOL_ERROR_INTERNAL, error->message);
    return;
  }
  /* Its subscribers wait for a keyframe, asked for every second until it
   * comes (our side may have stayed connected: no state change says when
   * media is back). */
  for (guint i = 0; restart && i < p->tracks->len; i++)
    restart_video (((HqSfuTrack *)g_ptr_array_index (p->tracks, i))->subs);
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
    send_error (
        room, p->sid, id, HQ_PROTOCOL_ERROR_INVALID_SDP, error->message);
    return;
  }
  prefer_remb (p->pub_answer);
  if ((first || restart) && !apply_remote (p, 0, offer, &error)) {
    send_error (
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
      send_error (room, p->sid, id, HQ_PROTOCOL_ERROR_NOT_FOUND,
          "tracks[] must name the mid "
          "and a track_sid this participant published");
      return;
    }
    if (!map_track (p, track, offer, mid, &error)) {
      send_error (
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
  p->pub_answer_msg = message_text (reply);
  json_object_unref (reply);
  if (first) {
    hq_transport_set_receive_func (p->pub, hq_sfu_on_publish_packet, p, NULL);
    gather (p, p->pub);
  }

  /* Everyone else subscribes to what became ready. */
  g_hash_table_iter_init (&iter, p->media->participants);
  while (g_hash_table_iter_next (&iter, NULL, &value)) {
    HqSfuParticipant *other = value;
    if (other == p)
      continue;
    for (guint i = 0; i < p->tracks->len; i++)
      subscribe (other, g_ptr_array_index (p->tracks, i));
    subscribe_renegotiate (other);
  }
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
  gboolean first = p->sub == NULL;
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
  if (first && (p->sub = make_transport (p, TRUE, &error)) == NULL) {
    hq_log_message (
        HQ_LOG_ERROR, "sfu", "no subscribe transport: %s", error->message);
    return;
  }
  if (p->sub_restart_wanted && !first) {
    if (restart_ice (p, p->sub,
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
  prefer_remb (offer);
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
  p->sub_offer_msg = message_text (msg);
  json_object_unref (msg);
  {
    JsonObject *line = hq_log_begin (HQ_LOG_INFO, "subscribe_offer");
    json_object_set_string_member (line, "room", room->sid);
    json_object_set_string_member (line, "participant", p->sid);
    json_object_set_int_member (line, "revision", p->sub_revision);
    json_object_set_int_member (line, "tracks", p->subs->len);
    hq_log_end (line);
  }
  if (first) {
    hq_transport_set_receive_func (p->sub, hq_sfu_on_subscribe_packet, p, NULL);
    gather (p, p->sub);
  }
}

static void
handle_subscribe_answer (HqSfuParticipant *p, JsonObject *msg, const gchar *id)
{
  HqSfuRoom *room = p->media->room;
  const gchar *text = NULL;
  gint64 revision = -1;
  g_autoptr (GError) error = NULL;
  g_autoptr (HqSdp) answer = NULL;

  if (!hq_protocol_read_string (msg, "sdp", &text, NULL)
      || !hq_protocol_read_int (msg, "revision", &revision, NULL)
      || revision < 0) {
    send_error (room, p->sid, id, HQ_PROTOCOL_ERROR_INVALID_FIELD,
        "subscribe_answer needs sdp and revision");
    return;
  }
  if (p->sub_offer == NULL || p->sub_answered
      || revision != (gint64)p->sub_revision) {
    send_error (room, p->sid, id, HQ_PROTOCOL_ERROR_INVALID_FIELD,
        "subscribe_answer does not answer the outstanding subscribe_offer");
    return;
  }
  answer = hq_sdp_parse (HQ_SDP_ANSWER, text, -1, &error);
  if (answer == NULL) {
    send_error (
        room, p->sid, id, HQ_PROTOCOL_ERROR_INVALID_SDP, error->message);
    return;
  }
  /* The transport's remote side is set by the first answer and by the
   * answers to our ICE restarts (new credentials); the others only change
   * which m-lines carry what. */
  if (new_remote_ufrag (p, 1, answer) && !apply_remote (p, 1, answer, &error)) {
    send_error (
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
  p->sub_answered = TRUE;
  subscribe_renegotiate (p);
}

static void
handle_candidate (
    HqSfuParticipant *p, JsonObject *msg, const gchar *id, gboolean end)
{
  const gchar *which = "", *cand = NULL;
  HqTransport *t;
  g_autoptr (GError) error = NULL;

  if (!hq_protocol_read_string (msg, "transport", &which, &error)
      || !hq_protocol_read_optional_string (msg, "candidate", &cand, &error)) {
    send_error (p->media->room, p->sid, id, HQ_PROTOCOL_ERROR_INVALID_FIELD,
        error->message);
    return;
  }
  t = g_str_equal (which, "publish")     ? p->pub
      : g_str_equal (which, "subscribe") ? p->sub
                                         : NULL;

  if (t == NULL) {
    send_error (p->media->room, p->sid, id, HQ_PROTOCOL_ERROR_INVALID_FIELD,
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
    send_error (p->media->room, p->sid, id, HQ_PROTOCOL_ERROR_INVALID_FIELD,
        error->message);
}

/* {"type": "ice_restart", "transport": "subscribe"}: the participant's
 * side of the subscribe transport failed first; we offer, so we restart. */
static void
handle_ice_restart (HqSfuParticipant *p, JsonObject *msg, const gchar *id)
{
  const gchar *which = "";

  hq_protocol_read_string (msg, "transport", &which, NULL);
  if (g_str_equal (which, "publish")) {
    send_error (p->media->room, p->sid, id, HQ_PROTOCOL_ERROR_INVALID_FIELD,
        "The publish connection is restarted by its offerer, the "
        "participant: send a publish_offer with new ICE credentials.");
    return;
  }
  if (!g_str_equal (which, "subscribe")) {
    send_error (p->media->room, p->sid, id, HQ_PROTOCOL_ERROR_INVALID_FIELD,
        "transport must be subscribe (or publish, which you restart "
        "yourself with a new publish_offer).");
    return;
  }
  if (p->sub == NULL) {
    send_error (p->media->room, p->sid, id, HQ_PROTOCOL_ERROR_INVALID_FIELD,
        "There is no subscribe connection yet: the server offers one once "
        "there is something to receive.");
    return;
  }
  want_sub_restart (p);
  send_ok (p->media->room, p->sid, id);
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
    send_error (p->media->room, p->sid, id, HQ_PROTOCOL_ERROR_INVALID_FIELD,
        "local and remote verbosity must be 0 (none), 1 (minimal), "
        "2 (moderate) or 3 (detailed)");
    return;
  }
  p->verbosity_local = (guint)local;
  p->verbosity_remote = (guint)remote;
  send_ok (p->media->room, p->sid, id);
}

static void
handle (HqSfuRoomMedia *media, const gchar *sid, JsonObject *msg)
{
  HqSfuParticipant *p = find_participant (media, sid);
  const gchar *type = NULL, *id = NULL;
  HqMessageType t;

  hq_protocol_read_optional_string (msg, "type", &type, NULL);
  hq_protocol_read_optional_string (msg, "id", &id, NULL);

  if (p == NULL) {
    send_error (media->room, sid, id, HQ_PROTOCOL_ERROR_NOT_JOINED,
        "media needs a joined, admitted participant");
    return;
  }
  t = hq_protocol_message_type (type);
  switch (t) {
    case HQ_MESSAGE_PUBLISH_OFFER:
      if (p->hidden)
        send_error (media->room, sid, id, HQ_PROTOCOL_ERROR_FORBIDDEN,
            "the recorder receives media; it does not publish");
      else
        handle_publish_offer (p, msg, id);
      break;
    case HQ_MESSAGE_SUBSCRIBE_ANSWER:
      handle_subscribe_answer (p, msg, id);
      break;
    case HQ_MESSAGE_CANDIDATE:
    case HQ_MESSAGE_END_OF_CANDIDATES:
      handle_candidate (p, msg, id, t == HQ_MESSAGE_END_OF_CANDIDATES);
      break;
    case HQ_MESSAGE_NETWORK_QUALITY_CONFIGURE:
      handle_quality_configure (p, msg, id);
      break;
    case HQ_MESSAGE_ICE_RESTART:
      handle_ice_restart (p, msg, id);
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

static gboolean
second_tick (gpointer data)
{
  hq_sfu_room_media_second (data);
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
  media->participants =
      g_hash_table_new_full (g_str_hash, g_str_equal, NULL, participant_free);
  media->tracks = g_hash_table_new (g_str_hash, g_str_equal);
  media->dsi = hq_dsi_new (HQ_DSI_ALGORITHM_DSI);
  hq_random_bytes ((guint8 *)&media->sfu_ssrc, sizeof media->sfu_ssrc);
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
  g_source_destroy (media->dsi_timer);
  g_source_unref (media->dsi_timer);
  g_source_destroy (media->second_timer);
  g_source_unref (media->second_timer);
  g_hash_table_remove_all (media->participants);
  g_hash_table_unref (media->participants);
  g_hash_table_unref (media->tracks);
  hq_dsi_free (media->dsi);
  g_free (media);
  room->media = NULL;
}

static HqSdpKind
kind_from_string (const gchar *kind)
{
  return g_strcmp0 (kind, "video") == 0 ? HQ_SDP_KIND_VIDEO
      : g_strcmp0 (kind, "audio") == 0  ? HQ_SDP_KIND_AUDIO
                                        : HQ_SDP_KIND_APPLICATION;
}

static void
run_cmd (Cmd *cmd)
{
  HqSfuRoomMedia *media = cmd->room->media;
  HqSfuParticipant *p;
  HqSfuTrack *track;

  if (cmd->type == CMD_CREATE) {
    media_create (cmd->room);
    return;
  }
  if (media == NULL)
    return;
  switch (cmd->type) {
    case CMD_DESTROY:
      media_destroy (cmd->room);
      break;
    case CMD_ADD_PARTICIPANT:
      add_participant (media, cmd->a, cmd->b, FALSE);
      break;
    case CMD_ADD_HIDDEN:
      add_participant (media, cmd->a, cmd->b, TRUE);
      break;
    case CMD_SET_SELECTION:
      p = find_participant (media, cmd->a);
      if (p)
        set_selection (p, cmd->b);
      break;
    case CMD_SET_RULES:
      p = find_participant (media, cmd->a);
      if (p)
        set_rules (p, cmd->b);
      break;
    case CMD_RESUME:
      p = find_participant (media, cmd->a);
      if (p)
        resume (p);
      break;
    case CMD_REMOVE_PARTICIPANT:
      g_hash_table_remove (media->participants, cmd->a);
      break;
    case CMD_ADD_TRACK:
      p = find_participant (media, cmd->a);
      if (p == NULL || g_hash_table_contains (media->tracks, cmd->b)
          || kind_from_string (cmd->d) == HQ_SDP_KIND_APPLICATION)
        break;
      track = hq_sfu_track_new (p, cmd->b, cmd->c, kind_from_string (cmd->d));
      track->priority = (HqSfuPriority)cmd->n;
      g_ptr_array_add (p->tracks, track);
      g_hash_table_insert (media->tracks, track->sid, track);
      break;
    case CMD_REMOVE_TRACK:
      track = g_hash_table_lookup (media->tracks, cmd->a);
      if (track)
        remove_track (track);
      break;
    case CMD_SET_ENABLED:
      track = g_hash_table_lookup (media->tracks, cmd->a);
      if (track && track->enabled != cmd->flag) {
        track->enabled = cmd->flag;
        /* The silence timeout counts from when it is enabled again. */
        if (track->enabled)
          track->timeout_from_us = g_get_monotonic_time ();
        if (track->enabled && track->kind == HQ_SDP_KIND_VIDEO) {
          for (guint i = 0; i < track->subs->len; i++)
            ((HqSfuSub *)g_ptr_array_index (track->subs, i))->waiting_keyframe =
                TRUE;
          hq_sfu_request_keyframe (track);
        }
      }
      break;
    case CMD_SET_PRIORITY:
      track = g_hash_table_lookup (media->tracks, cmd->a);
      if (track)
        track->priority = (HqSfuPriority)cmd->n;
      break;
    case CMD_SET_SUB_PRIORITY:
      p = find_participant (media, cmd->a);
      if (p && cmd->n < 0)
        g_hash_table_remove (p->sub_priorities, cmd->b);
      else if (p)
        g_hash_table_replace (
            p->sub_priorities, g_strdup (cmd->b), GINT_TO_POINTER (cmd->n));
      break;
    case CMD_HANDLE:
      handle_text (media, cmd->a, cmd->b);
      break;
    default:
      break;
  }
}
