/* A participant's transports with the SFU: making them, telling the
 * participant our candidates and their states, structured log lines for
 * each ICE and DTLS step, ICE restarts.  The policy on state changes (keyframes,
 * restarting the subscribe side) is the subscribe layer's
 * (hqsfusubscribe.c). */
#include "hqsfutransport.h"
#include "hqsfuedge.h"
#include "hqsfushard.h"
#include "hqsfucmd.h"
#include "hqlog.h"
#include <hq/hqprotocol.h>

/* --- worker: transports --- */

static const gchar *
transport_name (HqSfuParticipant *p, HqTransport *t)
{
  return t == p->pub ? "publish" : "subscribe";
}

void
hq_sfu_announce_candidate (
    HqSfuParticipant *p, guint which, const gchar *candidate)
{
  JsonObject *msg = hq_protocol_candidate_new (
      which == 0 ? "publish" : "subscribe", candidate);

  hq_sfu_room_send (p->media->room, p->sid, msg);
  if (p->sent_cands[which] == NULL)
    p->sent_cands[which] = g_ptr_array_new_with_free_func (g_free);
  g_ptr_array_add (p->sent_cands[which], hq_sfu_json_object_to_text (msg));
  json_object_unref (msg);
}

static void
on_local_candidate (HqTransport *t, const gchar *cand, HqSfuParticipant *p)
{
  hq_sfu_announce_candidate (p, t == p->pub ? 0 : 1, cand);
}

static void
on_gathering_done (HqTransport *t, HqSfuParticipant *p)
{
  hq_sfu_announce_candidate (p, t == p->pub ? 0 : 1, NULL);
}

static void
log_pair (JsonObject *line, const gchar *local, const gchar *remote,
    const gchar *pair)
{
  if (local == NULL)
    return;
  json_object_set_string_member (line, "local", local);
  json_object_set_string_member (line, "remote", remote);
  /* The candidates' types and transports: relayed, over TCP. */
  if (pair)
    json_object_set_string_member (line, "pair", pair);
}

static void
log_selected_pair (JsonObject *line, HqTransport *t)
{
  g_autofree gchar *local = NULL, *remote = NULL, *pair = NULL;

  if (!hq_transport_get_selected_pair (t, &local, &remote))
    return;
  pair = hq_transport_describe_selected_pair (t);
  log_pair (line, local, remote, pair);
}

/* Tells the participant and the log a transport's state, with the error
 * that failed it. */
void
hq_sfu_report_state (HqSfuParticipant *p, HqTransport *t,
    HqTransportState state, const GError *error)
{
  g_autofree gchar *local = NULL, *remote = NULL, *pair = NULL;

  if (state == HQ_TRANSPORT_STATE_CONNECTED
      && hq_transport_get_selected_pair (t, &local, &remote))
    pair = hq_transport_describe_selected_pair (t);
  hq_sfu_report_state_of (
      p, t == p->pub ? 0 : 1, state, error, local, remote, pair);
}

void
hq_sfu_report_state_of (HqSfuParticipant *p, guint which,
    HqTransportState state, const GError *error, const gchar *local,
    const gchar *remote, const gchar *pair)
{
  const gchar *name = which == 0 ? "publish" : "subscribe";
  JsonObject *msg = hq_protocol_message_new (HQ_MESSAGE_TRANSPORT_STATE, NULL);
  json_object_set_string_member (msg, "transport", name);
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
    json_object_set_string_member (line, "transport", name);
    json_object_set_string_member (
        line, "state", hq_transport_state_name (state));
    if (error)
      json_object_set_string_member (line, "error", error->message);
    if (state == HQ_TRANSPORT_STATE_CONNECTED)
      log_pair (line, local, remote, pair);
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

void
hq_sfu_note_ice_restart (HqSfuParticipant *p, guint which, const gchar *why)
{
  JsonObject *line = hq_log_begin (HQ_LOG_INFO, "ice_restart");

  g_clear_pointer (&p->sent_cands[which], g_ptr_array_unref);
  json_object_set_string_member (line, "room", p->media->room->sid);
  json_object_set_string_member (line, "participant", p->sid);
  json_object_set_string_member (
      line, "transport", which == 0 ? "publish" : "subscribe");
  json_object_set_string_member (line, "why", why);
  hq_log_end (line);
}

/* Restarts ICE on @t: new credentials, and our candidates again (the ones
 * sent so far are stale, a resume must not send them). */
gboolean
hq_sfu_restart_ice (
    HqSfuParticipant *p, HqTransport *t, const gchar *why, GError **error)
{
  if (!hq_transport_restart_ice (t, error))
    return FALSE;
  hq_sfu_note_ice_restart (p, t == p->pub ? 0 : 1, why);
  return TRUE;
}

/* Whether @sdp, from the participant for its transport @which (0
 * publish, 1 subscribe), has other ICE credentials than we applied:
 * the first, or a restart. */
gboolean
hq_sfu_new_remote_ufrag (HqSfuParticipant *p, guint which, const HqSdp *sdp)
{
  return g_strcmp0 (hq_sdp_get_ice_ufrag (sdp), p->remote_ufrag[which]) != 0;
}

gboolean
hq_sfu_apply_remote (
    HqSfuParticipant *p, guint which, const HqSdp *sdp, GError **error)
{
  if (which == 1 && p->leg) {
    /* Applied on the leg's worker; what the transport would refuse at
     * once is refused here. */
    if (hq_sdp_get_ice_ufrag (sdp) == NULL || hq_sdp_get_ice_pwd (sdp) == NULL
        || hq_sdp_get_fingerprint (sdp) == NULL) {
      g_set_error_literal (error, HQ_TRANSPORT_ERROR,
          HQ_TRANSPORT_ERROR_INVALID_ARGUMENT,
          "the answer has no ICE credentials or no DTLS fingerprint");
      return FALSE;
    }
    hq_sfu_leg_set_remote (p->leg, sdp);
  } else if (!hq_transport_set_remote_description (
                 which == 0 ? p->pub : p->sub, sdp, error))
    return FALSE;
  g_free (p->remote_ufrag[which]);
  p->remote_ufrag[which] = g_strdup (hq_sdp_get_ice_ufrag (sdp));
  return TRUE;
}

/* Starts gathering @t's candidates; when no port is free (the configured
 * range is used up) the participant is told at once, not left waiting for
 * candidates that never come. */
void
hq_sfu_gather (HqSfuParticipant *p, HqTransport *t)
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
  hq_sfu_report_state (p, t, HQ_TRANSPORT_STATE_FAILED, error);
}

HqTransport *
hq_sfu_make_transport (
    HqSfuParticipant *p, gboolean controlling, GError **error)
{
  HqTransportConfig config;
  HqTransport *t;

  hq_sfu_transport_config (
      p->media->room->sfu, p->media->room->worker, controlling, &config);
  t = hq_transport_new (&config, error);
  if (t == NULL)
    return NULL;
  g_signal_connect (t, "local-candidate", G_CALLBACK (on_local_candidate), p);
  g_signal_connect (t, "gathering-done", G_CALLBACK (on_gathering_done), p);
  g_signal_connect (t, "ice-state-changed", G_CALLBACK (on_ice_state), p);
  g_signal_connect (t, "dtls-state-changed", G_CALLBACK (on_dtls_state), p);
  {
    g_autofree gchar *label = g_strdup_printf ("%s %s %s", p->media->room->sid,
        p->sid, controlling ? "subscribe" : "publish");
    hq_transport_set_label (t, label);
  }
  return t;
}
