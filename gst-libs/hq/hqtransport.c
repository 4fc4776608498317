/* HqTransport: ICE + DTLS-SRTP on one UDP flow; see hqtransport.h.
 *
 * Receive path (libnice's callback, on the transport's context): the first
 * byte sorts the datagram as RFC 7983 says — 0..3 STUN (libnice answers
 * those itself and never hands them over), 20..63 DTLS (to HqDtls),
 * 128..191 RTP or RTCP (told apart by the payload type byte, RFC 5761),
 * anything else garbage.  SRTP is unprotected in a per-transport scratch
 * buffer, so a packet is copied once, from libnice's buffer into ours, and
 * handed to the receive function there.
 *
 * Send path: the caller's buffer is protected in place and handed to
 * nice_agent_send: no copy.
 */
#include "hqtransport.h"
#include "hqtransport-private.h"
#include "hqdebug.h"
#include "hqrtcp.h"

#include <string.h>
#include <nice/agent.h>
#include <nice/interfaces.h>
#include <glib-unix.h>

#define GST_CAT_DEFAULT hq_transport_debug

guint hq_transport_signals[N_SIGNALS];

G_DEFINE_TYPE (HqTransport, hq_transport, G_TYPE_OBJECT);

const gchar *
hq_transport_state_name (HqTransportState state)
{
  const gchar *name = hq_protocol_transport_state_name (state);

  return name ? name : "unknown";
}

void
hq_transport_config_init (HqTransportConfig *config)
{
  memset (config, 0, sizeof *config);
  config->dtls_role = HQ_DTLS_ROLE_SERVER;
  config->consent_freshness = TRUE;
  config->ice_udp = TRUE;
}

/* --- state --- */

static gboolean recoverable (HqTransport *self);

void
set_state (HqTransport *self, HqTransportState state)
{
  if (self->state == state || self->state == HQ_TRANSPORT_STATE_CLOSED)
    return;
  /* A failed transport stays failed until closed, but for one that lost
   * consent: an ICE restart, or ICE working again (consent can be lost on
   * the old pair while a restart is under way), brings it back. */
  if (self->state == HQ_TRANSPORT_STATE_FAILED
      && state != HQ_TRANSPORT_STATE_CLOSED && !recoverable (self))
    return;
  if (self->state == HQ_TRANSPORT_STATE_FAILED)
    g_clear_error (&self->error);
  if (state == HQ_TRANSPORT_STATE_FAILED)
    GST_WARNING ("%s: transport %s -> failed: %s", self->label,
        hq_transport_state_name (self->state),
        self->error ? self->error->message : "(no reason)");
  else
    GST_INFO ("%s: transport %s -> %s", self->label,
        hq_transport_state_name (self->state), hq_transport_state_name (state));
  self->state = state;
  g_signal_emit (
      self, hq_transport_signals[SIGNAL_STATE_CHANGED], 0, (gint)state);
}

/* Whether an ICE restart can bring @self back: it was connected (DTLS
 * done, SRTP keyed) and only lost ICE consent.  The DTLS association and
 * the SRTP keys outlive an ICE restart (browsers keep theirs too); a
 * transport that never connected, or whose DTLS failed, is done for. */
static gboolean
recoverable (HqTransport *self)
{
  return self->state == HQ_TRANSPORT_STATE_FAILED && self->srtp != NULL
      && g_error_matches (
          self->error, HQ_TRANSPORT_ERROR, HQ_TRANSPORT_ERROR_CONSENT_LOST);
}

/* Takes @error. */
void
fail (HqTransport *self, GError *error)
{
  if (self->state == HQ_TRANSPORT_STATE_FAILED
      || self->state == HQ_TRANSPORT_STATE_CLOSED) {
    g_error_free (error);
    return;
  }
  g_clear_error (&self->error);
  self->error = error;
  /* Lost consent keeps the keys for an ICE restart; anything else ends
   * the session. */
  if (!g_error_matches (
          error, HQ_TRANSPORT_ERROR, HQ_TRANSPORT_ERROR_CONSENT_LOST))
    g_clear_pointer (&self->srtp, hq_srtp_free);
  set_state (self, HQ_TRANSPORT_STATE_FAILED);
}

/* --- DTLS --- */

static void
dtls_send (const guint8 *data, gsize len, gpointer user_data)
{
  HqTransport *self = user_data;

  if (nice_agent_send (self->agent, self->stream_id, HQ_ICE_COMPONENT,
          (guint)len, (const gchar *)data)
      < 0)
    self->stats.send_failures++;
}

static void
dtls_done (HqDtls *dtls, const GError *error, gpointer user_data)
{
  HqTransport *self = user_data;
  guint8 local[HQ_SRTP_MAX_KEY_SALT], remote[HQ_SRTP_MAX_KEY_SALT];
  HqSrtpProfile profile;
  GError *local_error = NULL;

  if (error != NULL) {
    GST_WARNING ("%s: DTLS failed: %s", self->label, error->message);
    g_signal_emit (self, hq_transport_signals[SIGNAL_DTLS_STATE_CHANGED], 0,
        "failed", error->message);
    fail (self, g_error_copy (error));
    return;
  }
  profile = hq_dtls_get_srtp_keys (dtls, local, remote);
  self->srtp = hq_srtp_new (profile, local, remote, &local_error);
  memset (local, 0, sizeof local);
  memset (remote, 0, sizeof remote);
  if (self->srtp == NULL) {
    fail (self, local_error);
    return;
  }
  self->profile = profile;
  GST_INFO ("%s: DTLS connected as %s, SRTP %s", self->label,
      self->dtls_role == HQ_DTLS_ROLE_CLIENT ? "client" : "server",
      hq_srtp_profile_name (profile));
  g_signal_emit (self, hq_transport_signals[SIGNAL_DTLS_STATE_CHANGED], 0,
      "connected", hq_srtp_profile_name (profile));
  if (self->ice_connected)
    set_state (self, HQ_TRANSPORT_STATE_CONNECTED);
}

gboolean
ensure_dtls (HqTransport *self, GError **error)
{
  if (self->dtls != NULL)
    return TRUE;
  self->dtls = hq_dtls_new (self->cert, self->dtls_role, self->profiles,
      self->context, dtls_send, dtls_done, self, error);
  if (self->dtls == NULL)
    return FALSE;
  if (self->remote_fp != NULL
      && !hq_dtls_set_remote_fingerprint (
          self->dtls, self->remote_fp_algorithm, self->remote_fp, error))
    return FALSE;
  return TRUE;
}

/* --- receive --- */

static void
receive_srtp (HqTransport *self, const guint8 *buf, gsize len)
{
  gboolean rtcp = hq_rtcp_is_rtcp (buf, len);
  GError *error = NULL;

  if (self->srtp == NULL) {
    self->stats.dropped_early++;
    return;
  }
  if (len < (rtcp ? 8u : 12u) || len > sizeof self->rx) {
    self->stats.dropped_garbage++;
    return;
  }
  memcpy (self->rx, buf, len);
  if (!hq_srtp_unprotect (self->srtp, rtcp, self->rx, &len, &error)) {
    if (error->code == HQ_TRANSPORT_ERROR_AUTH)
      self->stats.dropped_auth++;
    else if (error->code == HQ_TRANSPORT_ERROR_REPLAY)
      self->stats.dropped_replay++;
    else
      self->stats.dropped_garbage++;
    g_error_free (error);
    return;
  }
  if (rtcp)
    self->stats.rtcp_received++;
  else
    self->stats.rtp_received++;
  if (self->receive)
    self->receive (rtcp, self->rx, len, self->receive_data);
}

static void
on_receive (NiceAgent *agent, guint stream_id, guint component_id, guint len,
    gchar *data, gpointer user_data)
{
  HqTransport *self = user_data;
  const guint8 *buf = (const guint8 *)data;

  if (self->state == HQ_TRANSPORT_STATE_CLOSED || len == 0)
    return;
  self->stats.bytes_received += len;
  if (buf[0] >= 20 && buf[0] <= 63) {
    GError *error = NULL;
    self->stats.dtls_received++;
    if (!ensure_dtls (self, &error)) {
      fail (self, error);
      return;
    }
    hq_dtls_receive (self->dtls, buf, len);
  } else if (buf[0] >= 128 && buf[0] <= 191) {
    receive_srtp (self, buf, len);
  } else {
    self->stats.dropped_garbage++;
  }
}

/* --- polling ---
 *
 * libnice puts a source per local socket on the transport's context: a UDP
 * socket per local address, and with ICE-TCP a listening socket per
 * address too.  The SFU's worker polled all of them, for every transport
 * of its rooms, at each wakeup: at 20 transports on 3 addresses with TCP,
 * 120 sockets per packet received, a fifth of the server's CPU
 * (docs/sfu.md, "Against Janus").  Once ICE is done (READY), media and
 * consent checks come on the selected pair's socket, so the context then
 * watches that socket only, and libnice's sources move to a context of
 * the transport's own that is run each time the selected socket has
 * something: a late packet on another socket waits in its socket's buffer
 * until then, and is still handled.  A pair over TCP (libnice's TCP
 * sockets also wait to write) or relayed (no socket of ours) keeps the
 * plain way; a new selected pair, a state other than READY, and an ICE
 * restart go back to it. */

static gboolean
run_sockets (gint fd, GIOCondition condition, gpointer user_data)
{
  HqTransport *self = g_object_ref (user_data);
  GMainContext *sockets = g_main_context_ref (self->sockets);

  /* what it dispatches may drop the transport's last reference */
  g_main_context_iteration (sockets, FALSE);
  g_main_context_unref (sockets);
  g_object_unref (self);
  return G_SOURCE_CONTINUE;
}

static gboolean
poll_selected_only (gpointer user_data)
{
  HqTransport *self = user_data;
  NiceCandidate *local = NULL, *remote = NULL;
  GSocket *socket;

  g_clear_pointer (&self->narrow, g_source_unref);
  if (self->selected || self->state == HQ_TRANSPORT_STATE_CLOSED
      || !nice_agent_get_selected_pair (
          self->agent, self->stream_id, HQ_ICE_COMPONENT, &local, &remote)
      || local->transport != NICE_CANDIDATE_TRANSPORT_UDP)
    return G_SOURCE_REMOVE;
  socket = nice_agent_get_selected_socket (
      self->agent, self->stream_id, HQ_ICE_COMPONENT);
  if (socket == NULL)
    return G_SOURCE_REMOVE;
  self->sockets = g_main_context_new ();
  nice_agent_attach_recv (self->agent, self->stream_id, HQ_ICE_COMPONENT,
      self->sockets, on_receive, self);
  self->selected = g_unix_fd_source_new (
      g_socket_get_fd (socket), G_IO_IN | G_IO_ERR | G_IO_HUP);
  g_source_set_callback (
      self->selected, G_SOURCE_FUNC (run_sockets), self, NULL);
  g_source_attach (self->selected, self->context);
  g_object_unref (socket);
  GST_DEBUG ("%s: ICE done, polling the selected socket only", self->label);
  return G_SOURCE_REMOVE;
}

/* From libnice's callbacks: the switch waits for the context's next
 * iteration, outside libnice's dispatch of a socket. */
void
poll_selected_soon (HqTransport *self)
{
  if (self->selected || self->narrow)
    return;
  self->narrow = g_idle_source_new ();
  /* an idle priority would wait for as long as packets keep coming */
  g_source_set_priority (self->narrow, G_PRIORITY_DEFAULT);
  g_source_set_callback (self->narrow, poll_selected_only, self, NULL);
  g_source_attach (self->narrow, self->context);
}

void
poll_all_sockets (HqTransport *self)
{
  if (self->narrow) {
    g_source_destroy (self->narrow);
    g_clear_pointer (&self->narrow, g_source_unref);
  }
  if (self->selected == NULL)
    return;
  g_source_destroy (self->selected);
  g_clear_pointer (&self->selected, g_source_unref);
  if (self->agent)
    nice_agent_attach_recv (self->agent, self->stream_id, HQ_ICE_COMPONENT,
        self->context, on_receive, self);
  g_clear_pointer (&self->sockets, g_main_context_unref);
}

/* --- object --- */

static void
hq_transport_init (HqTransport *self)
{
  self->label = g_strdup ("transport");
}

static void
hq_transport_dispose (GObject *object)
{
  HqTransport *self = HQ_TRANSPORT (object);

  if (self->announce) {
    g_source_destroy (self->announce);
    g_clear_pointer (&self->announce, g_source_unref);
  }
  poll_all_sockets (self);
  if (self->agent) {
    nice_agent_attach_recv (self->agent, self->stream_id, HQ_ICE_COMPONENT,
        self->context, NULL, NULL);
    g_signal_handlers_disconnect_by_data (self->agent, self);
    if (self->relays)
      release_relays (self->agent, self->context);
    else
      nice_agent_remove_stream (self->agent, self->stream_id);
    g_clear_object (&self->agent);
  }
  g_clear_pointer (&self->dtls, hq_dtls_free);
  if (self->receive_notify)
    self->receive_notify (self->receive_data);
  self->receive = NULL;
  self->receive_notify = NULL;
  G_OBJECT_CLASS (hq_transport_parent_class)->dispose (object);
}

static void
hq_transport_finalize (GObject *object)
{
  HqTransport *self = HQ_TRANSPORT (object);

  g_clear_pointer (&self->srtp, hq_srtp_free);
  g_clear_pointer (&self->cert, hq_certificate_unref);
  g_clear_pointer (&self->context, g_main_context_unref);
  g_clear_error (&self->error);
  g_free (self->profiles);
  g_free (self->public_address);
  g_free (self->remote_fp_algorithm);
  g_free (self->remote_fp);
  g_free (self->label);
  g_free (self->turn_server);
  g_free (self->turn_username);
  g_free (self->turn_password);
  g_clear_pointer (&self->ice_servers, g_ptr_array_unref);
  G_OBJECT_CLASS (hq_transport_parent_class)->finalize (object);
}

static void
hq_transport_class_init (HqTransportClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = hq_transport_dispose;
  object_class->finalize = hq_transport_finalize;
  hq_debug_init ();

  /**
   * HqTransport::state-changed:
   * @state: the new HqTransportState
   */
  hq_transport_signals[SIGNAL_STATE_CHANGED] =
      g_signal_new ("state-changed", G_TYPE_FROM_CLASS (klass),
          G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_INT);
  /**
   * HqTransport::local-candidate:
   * @candidate: "candidate:..." for an a=candidate line or a trickle message
   */
  hq_transport_signals[SIGNAL_LOCAL_CANDIDATE] = g_signal_new (
      "local-candidate", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL,
      NULL, NULL, G_TYPE_NONE, 1, G_TYPE_STRING);
  /**
   * HqTransport::gathering-done:
   *
   * All local candidates were announced: signal end-of-candidates.
   */
  hq_transport_signals[SIGNAL_GATHERING_DONE] =
      g_signal_new ("gathering-done", G_TYPE_FROM_CLASS (klass),
          G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL, G_TYPE_NONE, 0);
  /**
   * HqTransport::ice-state-changed:
   * @state: libnice's name of the new state ("gathering", "connecting",
   *   "connected", "ready", "failed", ...)
   *
   * For logs; #HqTransport::state-changed is what to act on.
   */
  hq_transport_signals[SIGNAL_ICE_STATE_CHANGED] = g_signal_new (
      "ice-state-changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
      NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_STRING);
  /**
   * HqTransport::dtls-state-changed:
   * @state: "handshaking", "connected" or "failed"
   * @detail: our role ("client", "server"), the SRTP profile, or why it
   *   failed
   *
   * For logs; #HqTransport::state-changed is what to act on.
   */
  hq_transport_signals[SIGNAL_DTLS_STATE_CHANGED] = g_signal_new (
      "dtls-state-changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
      NULL, NULL, NULL, G_TYPE_NONE, 2, G_TYPE_STRING, G_TYPE_STRING);
}

static HqSrtpProfile *
copy_profiles (const HqSrtpProfile *profiles)
{
  gsize n = 0;

  if (profiles == NULL)
    return NULL;
  while (profiles[n])
    n++;
  return g_memdup2 (profiles, (n + 1) * sizeof *profiles);
}

/* The agent's one ICE stream (one component), with the configured port
 * range, TURN relay and ICE servers, its packets to on_receive. */
static gboolean
add_stream (HqTransport *self, GError **error)
{
  self->stream_id = nice_agent_add_stream (self->agent, 1);
  if (self->stream_id == 0) {
    g_set_error (error, HQ_TRANSPORT_ERROR, HQ_TRANSPORT_ERROR_ICE,
        "cannot add an ICE stream");
    return FALSE;
  }
  if (self->port_min || self->port_max)
    nice_agent_set_port_range (self->agent, self->stream_id, HQ_ICE_COMPONENT,
        self->port_min, self->port_max);
  if (self->turn_server
      && !nice_agent_set_relay_info (self->agent, self->stream_id,
          HQ_ICE_COMPONENT, self->turn_server, self->turn_port,
          self->turn_username ? self->turn_username : "",
          self->turn_password ? self->turn_password : "",
          NICE_RELAY_TYPE_TURN_UDP)) {
    g_set_error (error, HQ_TRANSPORT_ERROR, HQ_TRANSPORT_ERROR_INVALID_ARGUMENT,
        "TURN server \"%s\" is not usable", self->turn_server);
    return FALSE;
  }
  add_ice_servers (self);
  /* A new stream gathers and hears the peer's candidates anew. */
  self->local_done = self->remote_done = FALSE;
  self->remote_transports = 0;
  nice_agent_attach_recv (self->agent, self->stream_id, HQ_ICE_COMPONENT,
      self->context, on_receive, self);
  return TRUE;
}

HqTransport *
hq_transport_new (const HqTransportConfig *config, GError **error)
{
  g_autoptr (HqTransport) self = g_object_new (HQ_TYPE_TRANSPORT, NULL);
  NiceAgentOption options = NICE_AGENT_OPTION_ICE_TRICKLE;

  self->context = config->context ? g_main_context_ref (config->context)
                                  : g_main_context_ref_thread_default ();
  self->dtls_role = config->dtls_role;
  self->profiles = copy_profiles (config->srtp_profiles);
  self->public_address = g_strdup (config->public_address);
  if (config->certificate) {
    self->cert = hq_certificate_ref (config->certificate);
  } else {
    self->cert = hq_certificate_new (error);
    if (self->cert == NULL)
      return NULL;
  }

  if (config->consent_freshness)
    options |= NICE_AGENT_OPTION_CONSENT_FRESHNESS;
  self->agent =
      nice_agent_new_full (self->context, NICE_COMPATIBILITY_RFC5245, options);
  if (!config->ice_udp && !config->ice_tcp) {
    g_set_error (error, HQ_TRANSPORT_ERROR, HQ_TRANSPORT_ERROR_INVALID_ARGUMENT,
        "neither UDP nor TCP candidates are allowed: ICE cannot work");
    return NULL;
  }
  g_object_set (self->agent, "controlling-mode", config->controlling, "ice-udp",
      config->ice_udp, "ice-tcp", config->ice_tcp, "force-relay",
      config->relay_only, "upnp", FALSE, NULL);
  if (config->stun_server) {
    g_object_set (self->agent, "stun-server", config->stun_server,
        "stun-server-port", config->stun_port ? config->stun_port : 3478, NULL);
  }
  if (!add_local_addresses (self->agent, config, error))
    return NULL;

  self->port_min = config->port_min;
  self->port_max = config->port_max;
  self->turn_server = g_strdup (config->turn_server);
  self->turn_port = config->turn_port ? config->turn_port : 3478;
  self->turn_username = g_strdup (config->turn_username);
  self->turn_password = g_strdup (config->turn_password);
  self->ice_servers =
      config->ice_servers ? g_ptr_array_ref (config->ice_servers) : NULL;
  self->relay_only = config->relay_only;
  self->have_stun = config->stun_server != NULL;
  if (!add_stream (self, error))
    return NULL;

  g_signal_connect (
      self->agent, "new-candidate-full", G_CALLBACK (on_new_candidate), self);
  g_signal_connect (self->agent, "candidate-gathering-done",
      G_CALLBACK (on_gathering_done), self);
  g_signal_connect (self->agent, "component-state-changed",
      G_CALLBACK (on_component_state), self);
  g_signal_connect (self->agent, "new-selected-pair-full",
      G_CALLBACK (on_selected_pair), self);
  return g_steal_pointer (&self);
}

/* --- local side --- */

void
hq_transport_get_local_credentials (
    HqTransport *self, gchar **ufrag, gchar **pwd)
{
  nice_agent_get_local_credentials (self->agent, self->stream_id, ufrag, pwd);
}

const gchar *
hq_transport_get_local_fingerprint (HqTransport *self)
{
  return hq_certificate_get_fingerprint (self->cert);
}

HqDtlsRole
hq_transport_get_dtls_role (HqTransport *self)
{
  return self->dtls_role;
}

void
hq_transport_set_dtls_role (HqTransport *self, HqDtlsRole role)
{
  if (self->dtls != NULL)
    return;
  self->dtls_role = role;
}

gboolean
hq_transport_gather (HqTransport *self, GError **error)
{
  if (!nice_agent_gather_candidates (self->agent, self->stream_id)) {
    g_set_error (error, HQ_TRANSPORT_ERROR, HQ_TRANSPORT_ERROR_ICE,
        "ICE candidate gathering could not start (no usable local address "
        "or port)");
    return FALSE;
  }
  self->gathering = TRUE;
  if (self->state == HQ_TRANSPORT_STATE_NEW)
    set_state (self, HQ_TRANSPORT_STATE_CONNECTING);
  return TRUE;
}

/* --- remote side --- */

gboolean
hq_transport_set_remote_credentials (
    HqTransport *self, const gchar *ufrag, const gchar *pwd, GError **error)
{
  if (ufrag == NULL || pwd == NULL || *ufrag == '\0' || *pwd == '\0'
      || !nice_agent_set_remote_credentials (
          self->agent, self->stream_id, ufrag, pwd)) {
    g_set_error (error, HQ_TRANSPORT_ERROR, HQ_TRANSPORT_ERROR_INVALID_ARGUMENT,
        "the remote ICE ufrag and pwd are missing or unusable");
    return FALSE;
  }
  return TRUE;
}

gboolean
hq_transport_add_remote_candidate (
    HqTransport *self, const gchar *candidate, GError **error)
{
  g_autofree gchar *line = NULL;
  NiceCandidate *cand;
  GSList *list;
  gint added;

  if (candidate == NULL) {
    g_set_error (error, HQ_TRANSPORT_ERROR, HQ_TRANSPORT_ERROR_INVALID_ARGUMENT,
        "no candidate given");
    return FALSE;
  }
  line = g_str_has_prefix (candidate, "a=") ? g_strdup (candidate + 2)
                                            : g_strdup (candidate);
  g_strchomp (line);
  line = hook_candidate (self, FALSE, line);
  if (line == NULL)
    return TRUE; /* the test hook left it out */
  {
    gchar *with_a = g_strconcat ("a=", line, NULL);
    g_free (line);
    line = with_a;
  }
  cand = nice_agent_parse_remote_candidate_sdp (
      self->agent, self->stream_id, line);
  if (cand == NULL) {
    GError *bad =
        g_error_new (HQ_TRANSPORT_ERROR, HQ_TRANSPORT_ERROR_INVALID_ARGUMENT,
            "cannot use ICE candidate \"%.200s\"%s", candidate,
            strstr (candidate, ".local ") ? " (mDNS .local names are not "
                                            "resolved)"
                                          : "");
    GST_WARNING ("%s: %s", self->label, bad->message);
    g_propagate_error (error, bad);
    return FALSE;
  }
  /* rtcp-mux: a component-2 candidate is redundant, not an error. */
  if (cand->component_id == HQ_ICE_COMPONENT)
    self->remote_transports |= 1u << cand->transport;
  if (cand->component_id != HQ_ICE_COMPONENT) {
    nice_candidate_free (cand);
    return TRUE;
  }
  GST_DEBUG ("%s: remote candidate %s", self->label, line + 2);
  list = g_slist_append (NULL, cand);
  added = nice_agent_set_remote_candidates (
      self->agent, self->stream_id, HQ_ICE_COMPONENT, list);
  g_slist_free_full (list, (GDestroyNotify)nice_candidate_free);
  if (added < 0) {
    g_set_error (error, HQ_TRANSPORT_ERROR, HQ_TRANSPORT_ERROR_ICE,
        "libnice refused ICE candidate \"%.200s\"", candidate);
    return FALSE;
  }
  return TRUE;
}

void
hq_transport_end_of_remote_candidates (HqTransport *self)
{
  GST_DEBUG ("%s: end of remote candidates", self->label);
  nice_agent_peer_candidate_gathering_done (self->agent, self->stream_id);
  self->remote_done = TRUE;
  check_pairs_possible (self);
}

gboolean
hq_transport_set_remote_fingerprint (HqTransport *self, const gchar *algorithm,
    const gchar *fingerprint, GError **error)
{
  if (algorithm == NULL || fingerprint == NULL) {
    g_set_error (error, HQ_TRANSPORT_ERROR, HQ_TRANSPORT_ERROR_FINGERPRINT,
        "no remote DTLS fingerprint given");
    return FALSE;
  }
  if (g_ascii_strcasecmp (algorithm, "sha-256") != 0) {
    g_set_error (error, HQ_TRANSPORT_ERROR, HQ_TRANSPORT_ERROR_FINGERPRINT,
        "fingerprint algorithm %s is not supported; use sha-256", algorithm);
    return FALSE;
  }
  g_free (self->remote_fp_algorithm);
  g_free (self->remote_fp);
  self->remote_fp_algorithm = g_strdup (algorithm);
  self->remote_fp = g_strdup (fingerprint);
  if (self->dtls)
    return hq_dtls_set_remote_fingerprint (
        self->dtls, algorithm, fingerprint, error);
  return TRUE;
}

void
hq_transport_describe (HqTransport *self, HqSdpLocal *local, gchar **ufrag,
    gchar **pwd, const gchar *cname)
{
  hq_transport_get_local_credentials (self, ufrag, pwd);
  memset (local, 0, sizeof *local);
  local->ice_ufrag = *ufrag;
  local->ice_pwd = *pwd;
  local->fingerprint = hq_transport_get_local_fingerprint (self);
  local->setup = HQ_SDP_SETUP_PASSIVE;
  local->cname = cname;
}

gboolean
hq_transport_set_remote_description (
    HqTransport *self, const HqSdp *sdp, GError **error)
{
  const GPtrArray *cands = hq_sdp_get_candidates (sdp);

  if (!hq_transport_set_remote_credentials (
          self, hq_sdp_get_ice_ufrag (sdp), hq_sdp_get_ice_pwd (sdp), error)
      || !hq_transport_set_remote_fingerprint (
          self, "sha-256", hq_sdp_get_fingerprint (sdp), error))
    return FALSE;
  if (sdp->type == HQ_SDP_ANSWER)
    hq_transport_set_dtls_role (self,
        hq_sdp_get_setup (sdp) == HQ_SDP_SETUP_PASSIVE ? HQ_DTLS_ROLE_CLIENT
                                                       : HQ_DTLS_ROLE_SERVER);
  GST_DEBUG ("%s: remote %s, %u candidates in it", self->label,
      sdp->type == HQ_SDP_ANSWER ? "answer" : "offer", cands ? cands->len : 0);
  for (guint i = 0; cands && i < cands->len; i++)
    hq_transport_add_remote_candidate (
        self, g_ptr_array_index (cands, i), NULL);
  return TRUE;
}

/* The new stream's candidates, announced as they come ("local-candidate",
 * "gathering-done").  From the context, after hq_transport_restart_ice()
 * returned, so that the offer or answer with the new credentials goes out
 * before them. */
static gboolean
gather_again (gpointer data)
{
  HqTransport *self = data;
  g_autoptr (GError) error = NULL;

  g_clear_pointer (&self->announce, g_source_unref);
  if (self->state == HQ_TRANSPORT_STATE_CLOSED)
    return G_SOURCE_REMOVE;
  if (!nice_agent_gather_candidates (self->agent, self->stream_id)) {
    g_set_error (&error, HQ_TRANSPORT_ERROR, HQ_TRANSPORT_ERROR_ICE,
        "ICE candidate gathering could not start again after an ICE restart "
        "(no usable local address or port)");
    GST_WARNING ("%s: %s", self->label, error->message);
  }
  return G_SOURCE_REMOVE;
}

gboolean
hq_transport_restart_ice (HqTransport *self, GError **error)
{
  gboolean recover = recoverable (self);
  guint old = self->stream_id;

  if (self->state == HQ_TRANSPORT_STATE_CLOSED
      || (self->state == HQ_TRANSPORT_STATE_FAILED && !recover)) {
    g_set_error (error, HQ_TRANSPORT_ERROR, HQ_TRANSPORT_ERROR_CLOSED,
        "an ICE restart cannot bring back a transport that is %s%s%s: make "
        "a new one",
        hq_transport_state_name (self->state), self->error ? ": " : "",
        self->error ? self->error->message : "");
    return FALSE;
  }
  GST_INFO ("%s: ICE restart%s", self->label,
      recover ? " after lost consent; DTLS and SRTP are kept" : "");
  /* A new ICE stream (new credentials, ports and checks), not libnice's
   * in-place restart: there the old pair's consent timer runs on, and its
   * failure in the middle of the new checks takes libnice 0.1.21 to a
   * state change it aborts on (FAILED -> CONNECTED). */
  poll_all_sockets (self);
  nice_agent_attach_recv (
      self->agent, old, HQ_ICE_COMPONENT, self->context, NULL, NULL);
  nice_agent_remove_stream (self->agent, old);
  if (!add_stream (self, error))
    return FALSE;
  self->ice_connected = FALSE;
  if (self->state == HQ_TRANSPORT_STATE_CONNECTED || recover)
    set_state (self, HQ_TRANSPORT_STATE_CONNECTING);
  if (self->gathering && self->announce == NULL) {
    self->announce = g_idle_source_new ();
    g_source_set_callback (self->announce, gather_again, self, NULL);
    g_source_attach (self->announce, self->context);
  }
  return TRUE;
}

void
hq_transport_set_receive_func (HqTransport *self, HqTransportReceiveFunc func,
    gpointer user_data, GDestroyNotify notify)
{
  if (self->receive_notify)
    self->receive_notify (self->receive_data);
  self->receive = func;
  self->receive_data = user_data;
  self->receive_notify = notify;
}

/* --- send --- */

static gboolean
send_protected (HqTransport *self, gboolean rtcp, guint8 *buf, gsize len,
    gsize size, GError **error)
{
  gint sent;

  if (self->state != HQ_TRANSPORT_STATE_CONNECTED || self->srtp == NULL) {
    g_set_error (error, HQ_TRANSPORT_ERROR, HQ_TRANSPORT_ERROR_NOT_READY,
        "the transport is %s, not connected: nothing can be sent yet",
        hq_transport_state_name (self->state));
    return FALSE;
  }
  if (!hq_srtp_protect (self->srtp, rtcp, buf, &len, size, error))
    return FALSE;
  sent = nice_agent_send (self->agent, self->stream_id, HQ_ICE_COMPONENT,
      (guint)len, (const gchar *)buf);
  if (sent < 0) {
    self->stats.send_failures++;
    g_set_error (error, HQ_TRANSPORT_ERROR, HQ_TRANSPORT_ERROR_ICE,
        "the %zu-byte packet could not be sent", len);
    return FALSE;
  }
  self->stats.bytes_sent += len;
  if (rtcp)
    self->stats.rtcp_sent++;
  else
    self->stats.rtp_sent++;
  return TRUE;
}

gboolean
hq_transport_send_rtp (
    HqTransport *self, guint8 *buf, gsize len, gsize size, GError **error)
{
  return send_protected (self, FALSE, buf, len, size, error);
}

gboolean
hq_transport_send_rtcp (
    HqTransport *self, guint8 *buf, gsize len, gsize size, GError **error)
{
  return send_protected (self, TRUE, buf, len, size, error);
}

/* --- queries --- */

HqTransportState
hq_transport_get_state (HqTransport *self)
{
  return self->state;
}

const GError *
hq_transport_get_error (HqTransport *self)
{
  return self->error;
}

HqSrtpProfile
hq_transport_get_srtp_profile (HqTransport *self)
{
  return self->srtp ? self->profile : HQ_SRTP_PROFILE_NONE;
}

void
hq_transport_get_stats (HqTransport *self, HqTransportStats *stats)
{
  *stats = self->stats;
}

static gchar *
address_string (NiceCandidate *cand)
{
  gchar ip[NICE_ADDRESS_STRING_LEN];

  nice_address_to_string (&cand->addr, ip);
  return g_strdup_printf ("%s:%u", ip, nice_address_get_port (&cand->addr));
}

gchar *
hq_transport_describe_selected_pair (HqTransport *self)
{
  NiceCandidate *l = NULL, *r = NULL;

  if (!nice_agent_get_selected_pair (
          self->agent, self->stream_id, HQ_ICE_COMPONENT, &l, &r))
    return NULL;
  return describe_pair (l, r);
}

gboolean
hq_transport_get_selected_pair (
    HqTransport *self, gchar **local, gchar **remote)
{
  NiceCandidate *l = NULL, *r = NULL;

  if (!nice_agent_get_selected_pair (
          self->agent, self->stream_id, HQ_ICE_COMPONENT, &l, &r))
    return FALSE;
  if (local)
    *local = address_string (l);
  if (remote)
    *remote = address_string (r);
  return TRUE;
}

void
hq_transport_inject_received (HqTransport *self, const guint8 *data, gsize len)
{
  if (len > G_MAXUINT)
    return;
  on_receive (self->agent, self->stream_id, HQ_ICE_COMPONENT, (guint)len,
      (gchar *)data, self);
}

void
hq_transport_set_label (HqTransport *self, const gchar *label)
{
  g_free (self->label);
  self->label = g_strdup (label ? label : "transport");
}

void
hq_transport_close (HqTransport *self)
{
  if (self->state == HQ_TRANSPORT_STATE_CLOSED)
    return;
  g_clear_pointer (&self->srtp, hq_srtp_free);
  set_state (self, HQ_TRANSPORT_STATE_CLOSED);
}
