/* A room's subscribers spread over the workers; see hqsfushard.h and
 * docs/sfu.md, "Threads". */
#include "hqsfushard.h"
#include "hqsfuedge.h"
#include "hqlog.h"
#include "hqmetrics.h"

#include <string.h>

/* A handed packet has the room the transport needs to protect it. */
G_STATIC_ASSERT (HQ_WORKER_SLOT_DATA >= HQ_SFU_MAX_PACKET);
G_STATIC_ASSERT (HQ_WORKER_SLOT_TRAILER >= HQ_SRTP_MAX_TRAILER);

/* HqWorkerPacketFunc flags of a handed packet. */
#define LEG_RTCP 1

struct _HqSfuLeg
{
  gint ref; /* atomic: the home's, the shard's, closures under way */
  /* set before the leg is shared, then read-only */
  HqSfuRoom *room; /* a reference */
  HqWorker *home, *shard;
  gchar *room_sid, *participant_sid;
  const HqSfuLegFuncs *funcs;
  /* the home's */
  HqSfuParticipant *p; /* NULL once the leg is closed */
  gchar *ufrag, *pwd, *fingerprint;
  gboolean ready;
  /* the shard's */
  HqTransport *t;
};

static HqSfuLeg *
leg_ref (HqSfuLeg *leg)
{
  g_atomic_int_inc (&leg->ref);
  return leg;
}

static void
leg_unref (gpointer data)
{
  HqSfuLeg *leg = data;

  if (!g_atomic_int_dec_and_test (&leg->ref))
    return;
  /* The shard closed and dropped the transport before its reference. */
  g_assert (leg->t == NULL);
  hq_sfu_room_unref (leg->room);
  g_free (leg->room_sid);
  g_free (leg->participant_sid);
  g_free (leg->ufrag);
  g_free (leg->pwd);
  g_free (leg->fingerprint);
  g_free (leg);
}

void
hq_sfu_transport_config (HqSfu *sfu, HqWorker *worker, gboolean controlling,
    HqTransportConfig *config)
{
  hq_transport_config_init (config);
  config->context = hq_worker_get_context (worker);
  config->controlling = controlling;
  config->dtls_role = HQ_DTLS_ROLE_SERVER;
  config->certificate = sfu->cert;
  config->public_address = sfu->public_address;
  config->port_min = sfu->port_min;
  config->port_max = sfu->port_max;
  config->ice_tcp = sfu->ice_tcp;
}

/* --- placement (home) --- */

void
hq_sfu_shard_log_end (HqSfuRoom *room)
{
  JsonObject *line;
  JsonArray *by_worker;

  if (room->sfu->room_shards == 0 || room->n_workers < 2)
    return;
  line = hq_log_begin (HQ_LOG_INFO, "sfu");
  by_worker = json_array_new ();
  json_object_set_string_member (line, "what", "room-workers");
  json_object_set_string_member (line, "room", room->sid);
  for (guint i = 0; i < room->n_workers; i++)
    json_array_add_int_element (by_worker,
        (gint64)__atomic_load_n (
            &room->forwarded_by_worker[i], __ATOMIC_RELAXED));
  json_object_set_array_member (line, "forwarded_by_worker", by_worker);
  json_object_set_int_member (line, "handoff_dropped",
      (gint64)__atomic_load_n (&room->handoff_dropped, __ATOMIC_RELAXED));
  hq_log_end (line);
}

HqWorker *
hq_sfu_leg_place (HqSfuParticipant *p)
{
  HqSfuRoomMedia *m = p->media;
  HqSfuRoom *room = m->room;
  HqWorkers *workers = room->sfu->workers;
  HqWorker *best = room->worker;

  if (!p->hidden && room->sfu->room_shards > 0 && room->n_workers > 1
      && g_hash_table_size (m->participants) >= room->sfu->room_shards)
    for (guint i = 0; i < room->n_workers; i++)
      if (m->legs_per_worker[i]
          < m->legs_per_worker[hq_worker_get_index (best)])
        best = hq_workers_get (workers, i);
  m->legs_per_worker[hq_worker_get_index (best)]++;
  return best;
}

void
hq_sfu_leg_unplace (HqSfuParticipant *p, HqWorker *worker)
{
  if (worker)
    p->media->legs_per_worker[hq_worker_get_index (worker)]--;
}

/* --- the shard's side --- */

/* What the shard tells the home. */
typedef enum
{
  EVENT_CREDENTIALS,
  EVENT_CANDIDATE,
  EVENT_STATE,
  EVENT_RTCP,
} EventKind;

typedef struct
{
  HqSfuLeg *leg;
  EventKind kind;
  gboolean restart, ok;
  HqTransportState state;
  GError *error;
  gchar *ufrag, *pwd, *fingerprint; /* credentials */
  gchar *text; /* a candidate (NULL: done), the restart's error */
  gchar *local, *remote, *pair; /* state CONNECTED */
  guint8 *data; /* RTCP */
  gsize len;
} Event;

static gboolean
event_run (gpointer data)
{
  Event *e = data;
  HqSfuLeg *leg = e->leg;
  HqSfuParticipant *p = leg->p;

  if (p == NULL)
    return G_SOURCE_REMOVE;
  switch (e->kind) {
    case EVENT_CREDENTIALS:
      if (e->ok) {
        g_free (leg->ufrag);
        g_free (leg->pwd);
        g_free (leg->fingerprint);
        leg->ufrag = g_steal_pointer (&e->ufrag);
        leg->pwd = g_steal_pointer (&e->pwd);
        leg->fingerprint = g_steal_pointer (&e->fingerprint);
      }
      leg->ready = TRUE;
      leg->funcs->credentials (p, e->restart, e->ok, e->text);
      break;
    case EVENT_CANDIDATE:
      leg->funcs->candidate (p, e->text);
      break;
    case EVENT_STATE:
      p->leg_state = e->state;
      leg->funcs->state (p, e->state, e->error, e->local, e->remote, e->pair);
      break;
    case EVENT_RTCP:
      leg->funcs->rtcp (TRUE, e->data, e->len, p);
      break;
  }
  return G_SOURCE_REMOVE;
}

static void
event_free (gpointer data)
{
  Event *e = data;

  leg_unref (e->leg);
  g_clear_error (&e->error);
  g_free (e->ufrag);
  g_free (e->pwd);
  g_free (e->fingerprint);
  g_free (e->text);
  g_free (e->local);
  g_free (e->remote);
  g_free (e->pair);
  g_free (e->data);
  g_free (e);
}

static Event *
event_new (HqSfuLeg *leg, EventKind kind)
{
  Event *e = g_new0 (Event, 1);

  e->leg = leg_ref (leg);
  e->kind = kind;
  return e;
}

static void
event_post (Event *e)
{
  hq_worker_invoke (e->leg->home, event_run, e, event_free);
}

static void
post_credentials (HqSfuLeg *leg, gboolean restart, const GError *error)
{
  Event *e = event_new (leg, EVENT_CREDENTIALS);

  e->restart = restart;
  e->ok = error == NULL;
  if (error)
    e->text = g_strdup (error->message);
  else {
    hq_transport_get_local_credentials (leg->t, &e->ufrag, &e->pwd);
    e->fingerprint = g_strdup (hq_transport_get_local_fingerprint (leg->t));
  }
  event_post (e);
}

static void
on_local_candidate (HqTransport *t, const gchar *cand, HqSfuLeg *leg)
{
  Event *e = event_new (leg, EVENT_CANDIDATE);

  (void)t;
  e->text = g_strdup (cand);
  event_post (e);
}

static void
on_gathering_done (HqTransport *t, HqSfuLeg *leg)
{
  (void)t;
  event_post (event_new (leg, EVENT_CANDIDATE));
}

static void
on_state (HqTransport *t, gint state, HqSfuLeg *leg)
{
  Event *e = event_new (leg, EVENT_STATE);
  const GError *error = hq_transport_get_error (t);

  e->state = (HqTransportState)state;
  e->error = error ? g_error_copy (error) : NULL;
  if (state == HQ_TRANSPORT_STATE_CONNECTED
      && hq_transport_get_selected_pair (t, &e->local, &e->remote))
    e->pair = hq_transport_describe_selected_pair (t);
  event_post (e);
}

/* The ICE and DTLS steps' log lines, as for a transport on the home
 * (hqsfutransport.c), with the worker that runs it. */
static void
log_step (HqSfuLeg *leg, const gchar *event, const gchar *state,
    const gchar *pair, const gchar *detail)
{
  gboolean failed = g_strcmp0 (state, "failed") == 0;
  JsonObject *line = hq_log_begin (failed ? HQ_LOG_WARN : HQ_LOG_INFO, event);

  json_object_set_string_member (line, "room", leg->room_sid);
  json_object_set_string_member (line, "participant", leg->participant_sid);
  json_object_set_string_member (line, "transport", "subscribe");
  json_object_set_string_member (line, "state", state);
  json_object_set_int_member (line, "worker", hq_worker_get_index (leg->shard));
  if (pair)
    json_object_set_string_member (line, "pair", pair);
  if (detail)
    json_object_set_string_member (line, failed ? "error" : "detail", detail);
  hq_log_end (line);
}

static void
on_ice_state (HqTransport *t, const gchar *state, HqSfuLeg *leg)
{
  g_autofree gchar *pair = NULL;

  if (g_strcmp0 (state, "connected") == 0 || g_strcmp0 (state, "ready") == 0)
    pair = hq_transport_describe_selected_pair (t);
  log_step (leg, "ice", state, pair, NULL);
}

static void
on_dtls_state (
    HqTransport *t, const gchar *state, const gchar *detail, HqSfuLeg *leg)
{
  (void)t;
  log_step (leg, "dtls", state, NULL, detail);
}

static void
on_receive (gboolean rtcp, guint8 *data, gsize len, gpointer user_data)
{
  Event *e;

  if (!rtcp)
    return;
  e = event_new (user_data, EVENT_RTCP);
  e->data = g_memdup2 (data, len);
  e->len = len;
  event_post (e);
}

static void
shard_create (HqSfuLeg *leg)
{
  g_autoptr (GError) error = NULL;
  g_autofree gchar *label = NULL;
  HqTransportConfig config;

  hq_sfu_transport_config (leg->room->sfu, leg->shard, TRUE, &config);
  leg->t = hq_transport_new (&config, &error);
  if (leg->t == NULL) {
    post_credentials (leg, FALSE, error);
    return;
  }
  label = g_strdup_printf ("%s %s subscribe (worker %u)", leg->room_sid,
      leg->participant_sid, hq_worker_get_index (leg->shard));
  hq_transport_set_label (leg->t, label);
  g_signal_connect (
      leg->t, "local-candidate", G_CALLBACK (on_local_candidate), leg);
  g_signal_connect (
      leg->t, "gathering-done", G_CALLBACK (on_gathering_done), leg);
  g_signal_connect (
      leg->t, "ice-state-changed", G_CALLBACK (on_ice_state), leg);
  g_signal_connect (
      leg->t, "dtls-state-changed", G_CALLBACK (on_dtls_state), leg);
  g_signal_connect (leg->t, "state-changed", G_CALLBACK (on_state), leg);
  hq_transport_set_receive_func (leg->t, on_receive, leg, NULL);
  post_credentials (leg, FALSE, NULL);
}

/* A packet the home handed (hq_sfu_sub_send()): protected and sent. */
static void
shard_packet (gpointer target, guint flags, guint8 *data, gsize len, gsize size)
{
  HqSfuLeg *leg = target;

  if (leg->t == NULL)
    return;
  if (flags & LEG_RTCP) {
    hq_transport_send_rtcp (leg->t, data, len, size, NULL);
    return;
  }
  if (hq_transport_send_rtp (leg->t, data, len, size, NULL))
    __atomic_add_fetch (
        &leg->room->forwarded_by_worker[hq_worker_get_index (leg->shard)], 1,
        __ATOMIC_RELAXED);
}

/* --- the home's calls, run on the shard --- */

typedef enum
{
  CALL_CREATE,
  CALL_GATHER,
  CALL_RESTART,
  CALL_REMOTE,
  CALL_CANDIDATE,
  CALL_END_OF_CANDIDATES,
  CALL_CLOSE,
} CallKind;

typedef struct
{
  HqSfuLeg *leg;
  CallKind kind;
  gchar *text; /* the answer's SDP, a candidate */
} Call;

static void
report_failure (HqSfuLeg *leg, const GError *error)
{
  Event *e = event_new (leg, EVENT_STATE);

  e->state = HQ_TRANSPORT_STATE_FAILED;
  e->error = g_error_copy (error);
  event_post (e);
}

static gboolean
call_run (gpointer data)
{
  Call *c = data;
  HqSfuLeg *leg = c->leg;
  g_autoptr (GError) error = NULL;
  g_autoptr (HqSdp) sdp = NULL;

  /* What the home handed before this call came is run first: after a
   * close, no packet names the leg. */
  hq_worker_drain (leg->home, leg->shard);
  if (c->kind == CALL_CREATE) {
    shard_create (leg);
    return G_SOURCE_REMOVE;
  }
  if (leg->t == NULL)
    return G_SOURCE_REMOVE;
  switch (c->kind) {
    case CALL_GATHER:
      if (!hq_transport_gather (leg->t, &error)) {
        if (leg->room->sfu->port_min)
          g_prefix_error (&error,
              "the server has no free media port (UDP %u-%u, [media] port_min "
              "and port_max, may all be in use): ",
              leg->room->sfu->port_min, leg->room->sfu->port_max);
        report_failure (leg, error);
      }
      break;
    case CALL_RESTART:
      hq_transport_restart_ice (leg->t, &error);
      post_credentials (leg, TRUE, error);
      break;
    case CALL_REMOTE:
      sdp = hq_sdp_parse (HQ_SDP_ANSWER, c->text, -1, &error);
      if (sdp == NULL
          || !hq_transport_set_remote_description (leg->t, sdp, &error))
        report_failure (leg, error);
      break;
    case CALL_CANDIDATE:
      if (!hq_transport_add_remote_candidate (leg->t, c->text, &error))
        hq_log_message (HQ_LOG_WARN, "sfu",
            "a subscribe candidate of %s was not taken: %s",
            leg->participant_sid, error->message);
      break;
    case CALL_END_OF_CANDIDATES:
      hq_transport_end_of_remote_candidates (leg->t);
      break;
    case CALL_CLOSE:
      hq_transport_close (leg->t);
      g_signal_handlers_disconnect_by_data (leg->t, leg);
      g_clear_object (&leg->t);
      leg_unref (leg); /* the shard's */
      break;
    case CALL_CREATE:
      break;
  }
  return G_SOURCE_REMOVE;
}

static void
call_free (gpointer data)
{
  Call *c = data;

  leg_unref (c->leg);
  g_free (c->text);
  g_free (c);
}

static void
call (HqSfuLeg *leg, CallKind kind, gchar *text)
{
  Call *c = g_new0 (Call, 1);

  c->leg = leg_ref (leg);
  c->kind = kind;
  c->text = text;
  hq_worker_invoke (leg->shard, call_run, c, call_free);
}

/* --- the home's side --- */

HqSfuLeg *
hq_sfu_leg_new (
    HqSfuParticipant *p, HqWorker *shard, const HqSfuLegFuncs *funcs)
{
  HqSfuLeg *leg = g_new0 (HqSfuLeg, 1);

  leg->ref = 2; /* the home's and the shard's */
  leg->room = hq_sfu_room_ref (p->media->room);
  leg->home = p->media->room->worker;
  leg->shard = shard;
  leg->room_sid = g_strdup (leg->room->sid);
  leg->participant_sid = g_strdup (p->sid);
  leg->funcs = funcs;
  leg->p = p;
  call (leg, CALL_CREATE, NULL);
  return leg;
}

void
hq_sfu_leg_close (HqSfuLeg *leg)
{
  leg->p = NULL;
  call (leg, CALL_CLOSE, NULL);
  leg_unref (leg); /* the home's */
}

gboolean
hq_sfu_leg_ready (HqSfuLeg *leg)
{
  return leg->ready && leg->ufrag != NULL;
}

void
hq_sfu_leg_describe (HqSfuLeg *leg, HqSdpLocal *local, const gchar *cname)
{
  memset (local, 0, sizeof *local);
  local->ice_ufrag = leg->ufrag;
  local->ice_pwd = leg->pwd;
  local->fingerprint = leg->fingerprint;
  local->setup = HQ_SDP_SETUP_PASSIVE;
  local->cname = cname;
}

void
hq_sfu_leg_gather (HqSfuLeg *leg)
{
  call (leg, CALL_GATHER, NULL);
}

void
hq_sfu_leg_restart_ice (HqSfuLeg *leg)
{
  leg->ready = FALSE;
  call (leg, CALL_RESTART, NULL);
}

void
hq_sfu_leg_set_remote (HqSfuLeg *leg, const HqSdp *sdp)
{
  call (leg, CALL_REMOTE, hq_sdp_to_text (sdp));
}

void
hq_sfu_leg_add_candidate (HqSfuLeg *leg, const gchar *candidate)
{
  if (candidate)
    call (leg, CALL_CANDIDATE, g_strdup (candidate));
  else
    call (leg, CALL_END_OF_CANDIDATES, NULL);
}

gboolean
hq_sfu_sub_send (
    HqSfuParticipant *p, gboolean rtcp, guint8 *buf, gsize len, gsize size)
{
  HqSfuRoom *room = p->media->room;

  if (p->leg) {
    if (hq_worker_hand (room->worker, p->leg->shard, shard_packet, p->leg,
            rtcp ? LEG_RTCP : 0, buf, len)) {
      hq_metrics_count (HQ_COUNTER_HANDOFF_HANDED, 1);
      return TRUE;
    }
    __atomic_add_fetch (&room->handoff_dropped, 1, __ATOMIC_RELAXED);
    hq_metrics_count (HQ_COUNTER_HANDOFF_DROPPED, 1);
    return FALSE;
  }
  if (rtcp)
    return hq_transport_send_rtcp (p->sub, buf, len, size, NULL);
  if (!hq_transport_send_rtp (p->sub, buf, len, size, NULL))
    return FALSE;
  __atomic_add_fetch (
      &room->forwarded_by_worker[hq_worker_get_index (room->worker)], 1,
      __ATOMIC_RELAXED);
  return TRUE;
}
