/* HqTransport's ICE side: libnice's candidates, pairs and component
 * states as the transport's state and log lines, the local addresses and
 * ICE servers an ICE stream is made with, and the release of TURN
 * allocations when a transport goes away.  See hqtransport.c for the rest
 * of the object and hqtransport.h for its use.
 */
#include "hqtransport.h"
#include "hqtransport-private.h"
#include "hqdebug.h"

#include <string.h>
#include <nice/agent.h>
#include <nice/interfaces.h>

#define GST_CAT_DEFAULT hq_transport_debug

/* --- ICE --- */

static GMutex candidate_hook_lock;
static HqTransportCandidateHook candidate_hook;
static gpointer candidate_hook_data;

void
hq_transport_set_candidate_hook (
    HqTransportCandidateHook hook, gpointer user_data)
{
  g_mutex_lock (&candidate_hook_lock);
  candidate_hook = hook;
  candidate_hook_data = user_data;
  g_mutex_unlock (&candidate_hook_lock);
}

/* @line as the test hook has it (takes @line); NULL: left out. */
gchar *
hook_candidate (HqTransport *self, gboolean local, gchar *line)
{
  HqTransportCandidateHook hook;
  gpointer data;
  gchar *out;

  g_mutex_lock (&candidate_hook_lock);
  hook = candidate_hook;
  data = candidate_hook_data;
  g_mutex_unlock (&candidate_hook_lock);
  if (hook == NULL || line == NULL)
    return line;
  out = hook (self, local, line, data);
  g_free (line);
  return out;
}

static gboolean
address_is_loopback (const NiceAddress *addr)
{
  gchar ip[NICE_ADDRESS_STRING_LEN];

  nice_address_to_string (addr, ip);
  return g_str_has_prefix (ip, "127.") || g_str_equal (ip, "::1");
}

static gchar *
candidate_to_string (HqTransport *self, NiceCandidate *cand)
{
  NiceCandidate *announced = cand;
  gchar *sdp, *line;

  /* Behind a 1:1 NAT announce the public address for host candidates; the
   * peer's checks reach our socket through the NAT all the same.  Loopback
   * stays as it is: a client on this machine reaches it directly. */
  if (self->public_address && cand->type == NICE_CANDIDATE_TYPE_HOST
      && !address_is_loopback (&cand->addr)) {
    NiceAddress pub;
    if (nice_address_set_from_string (&pub, self->public_address)
        && nice_address_ip_version (&pub)
            == nice_address_ip_version (&cand->addr)) {
      announced = nice_candidate_copy (cand);
      nice_address_set_port (&pub, nice_address_get_port (&cand->addr));
      announced->addr = pub;
    }
  }
  sdp = nice_agent_generate_local_candidate_sdp (self->agent, announced);
  if (announced != cand)
    nice_candidate_free (announced);
  if (sdp == NULL)
    return NULL;
  line = g_str_has_prefix (sdp, "a=") ? g_strdup (sdp + 2) : g_strdup (sdp);
  g_free (sdp);
  return hook_candidate (self, TRUE, line);
}

static const gchar *
candidate_type_name (const NiceCandidate *cand)
{
  switch (cand->type) {
    case NICE_CANDIDATE_TYPE_HOST:
      return "host";
    case NICE_CANDIDATE_TYPE_SERVER_REFLEXIVE:
      return "srflx";
    case NICE_CANDIDATE_TYPE_PEER_REFLEXIVE:
      return "prflx";
    case NICE_CANDIDATE_TYPE_RELAYED:
      return "relay";
    default:
      return "?";
  }
}

/* "host 127.0.0.1:40000", "host tcp 127.0.0.1:40000" */
static void
append_candidate (GString *s, const NiceCandidate *cand)
{
  gchar ip[NICE_ADDRESS_STRING_LEN];

  nice_address_to_string (&cand->addr, ip);
  g_string_append_printf (s, "%s%s %s:%u", candidate_type_name (cand),
      cand->transport == NICE_CANDIDATE_TRANSPORT_UDP ? "" : " tcp", ip,
      nice_address_get_port (&cand->addr));
}

/* The candidates of one side, for a log line: "2 (host 127.0.0.1:40000,
 * host 10.0.0.2:40000)" */
gchar *
hq_transport_describe_candidates (HqTransport *self, gboolean remote)
{
  GSList *cands = remote ? nice_agent_get_remote_candidates (
                      self->agent, self->stream_id, HQ_ICE_COMPONENT)
                         : nice_agent_get_local_candidates (
                             self->agent, self->stream_id, HQ_ICE_COMPONENT);
  GString *s = g_string_new (NULL);

  g_string_append_printf (s, "%u (", g_slist_length (cands));
  for (GSList *l = cands; l; l = l->next) {
    if (l != cands)
      g_string_append (s, ", ");
    append_candidate (s, l->data);
  }
  g_string_append (s, ")");
  g_slist_free_full (cands, (GDestroyNotify)nice_candidate_free);
  return g_string_free (s, FALSE);
}

gchar *
describe_pair (const NiceCandidate *local, const NiceCandidate *remote)
{
  GString *s = g_string_new (NULL);

  append_candidate (s, local);
  g_string_append (s, " <-> ");
  append_candidate (s, remote);
  return g_string_free (s, FALSE);
}

void
on_selected_pair (NiceAgent *agent, guint stream_id, guint component_id,
    NiceCandidate *local, NiceCandidate *remote, gpointer user_data)
{
  HqTransport *self = user_data;
  g_autofree gchar *pair = NULL;

  if (stream_id != self->stream_id || component_id != HQ_ICE_COMPONENT)
    return;
  pair = describe_pair (local, remote);
  GST_INFO ("%s: ICE selected pair %s", self->label, pair);
  /* another socket, maybe */
  poll_all_sockets (self);
  if (nice_agent_get_component_state (agent, stream_id, component_id)
      == NICE_COMPONENT_STATE_READY)
    poll_selected_soon (self);
}

void
on_new_candidate (NiceAgent *agent, NiceCandidate *cand, gpointer user_data)
{
  HqTransport *self = user_data;
  g_autofree gchar *line = NULL;

  if (cand->stream_id != self->stream_id
      || cand->component_id != HQ_ICE_COMPONENT)
    return;
  line = candidate_to_string (self, cand);
  GST_DEBUG ("%s: local candidate %s", self->label, line ? line : "(none)");
  if (line)
    g_signal_emit (self, hq_transport_signals[SIGNAL_LOCAL_CANDIDATE], 0, line);
}

/* Whether a local candidate of transport @l can be checked against a
 * remote one of transport @r (RFC 6544: TCP active with passive). */
static gboolean
transports_pair (NiceCandidateTransport l, NiceCandidateTransport r)
{
  switch (l) {
    case NICE_CANDIDATE_TRANSPORT_UDP:
      return r == NICE_CANDIDATE_TRANSPORT_UDP;
    case NICE_CANDIDATE_TRANSPORT_TCP_ACTIVE:
      return r == NICE_CANDIDATE_TRANSPORT_TCP_PASSIVE;
    case NICE_CANDIDATE_TRANSPORT_TCP_PASSIVE:
      return r == NICE_CANDIDATE_TRANSPORT_TCP_ACTIVE;
    case NICE_CANDIDATE_TRANSPORT_TCP_SO:
      return r == NICE_CANDIDATE_TRANSPORT_TCP_SO;
    default:
      return FALSE;
  }
}

/* "UDP", "TCP" or "UDP and TCP": what candidates of the transports in
 * @mask (one bit per NiceCandidateTransport) travel over. */
static const gchar *
transports_name (guint mask)
{
  gboolean udp = mask & (1u << NICE_CANDIDATE_TRANSPORT_UDP);
  gboolean tcp = mask & ~(1u << NICE_CANDIDATE_TRANSPORT_UDP);

  return udp && tcp ? "UDP and TCP" : udp ? "UDP" : "TCP";
}

/* Once both sides' candidates are all known and none of ours can pair
 * with any of the peer's (a client without UDP, a server without ICE over
 * TCP), ICE fails at once and says why, instead of waiting for checks
 * that can never be sent. */
void
check_pairs_possible (HqTransport *self)
{
  GSList *local;
  guint local_transports = 0;
  gboolean possible = FALSE;

  if (!self->local_done || !self->remote_done || self->ever_connected
      || self->state != HQ_TRANSPORT_STATE_CONNECTING
      || self->remote_transports == 0)
    return;
  local = nice_agent_get_local_candidates (
      self->agent, self->stream_id, HQ_ICE_COMPONENT);
  for (GSList *l = local; l; l = l->next) {
    NiceCandidateTransport t = ((NiceCandidate *)l->data)->transport;
    local_transports |= 1u << t;
    for (guint r = 0; r <= NICE_CANDIDATE_TRANSPORT_TCP_SO; r++)
      if ((self->remote_transports & (1u << r)) && transports_pair (t, r))
        possible = TRUE;
  }
  g_slist_free_full (local, (GDestroyNotify)nice_candidate_free);
  if (!possible && local_transports) {
    GError *error = g_error_new (HQ_TRANSPORT_ERROR, HQ_TRANSPORT_ERROR_ICE,
        "ICE failed: no candidate pair is possible: ours are %s only, the "
        "peer's %s only (a side without UDP needs ICE over TCP on the other)",
        transports_name (local_transports),
        transports_name (self->remote_transports));
    GST_WARNING ("%s: %s", self->label, error->message);
    fail (self, error);
  }
}

void
on_gathering_done (NiceAgent *agent, guint stream_id, gpointer user_data)
{
  HqTransport *self = user_data;

  if (stream_id == self->stream_id) {
    g_autofree gchar *local = hq_transport_describe_candidates (self, FALSE);
    GST_DEBUG (
        "%s: ICE gathering done, local candidates %s", self->label, local);
    self->local_done = TRUE;
    g_signal_emit (self, hq_transport_signals[SIGNAL_GATHERING_DONE], 0);
    check_pairs_possible (self);
  }
}

void
on_component_state (NiceAgent *agent, guint stream_id, guint component_id,
    guint state, gpointer user_data)
{
  HqTransport *self = user_data;
  GError *error = NULL;

  if (stream_id != self->stream_id)
    return;
  if (state == NICE_COMPONENT_STATE_FAILED) {
    g_autofree gchar *local = hq_transport_describe_candidates (self, FALSE);
    g_autofree gchar *remote = hq_transport_describe_candidates (self, TRUE);
    GST_WARNING ("%s: ICE failed: %s; local candidates %s, remote "
                 "candidates %s",
        self->label,
        self->ever_connected ? "the peer stopped answering consent checks"
                             : "no candidate pair answered the checks",
        local, remote);
  } else {
    GST_INFO ("%s: ICE %s", self->label,
        nice_component_state_to_string ((NiceComponentState)state));
  }
  g_signal_emit (self, hq_transport_signals[SIGNAL_ICE_STATE_CHANGED], 0,
      nice_component_state_to_string ((NiceComponentState)state));
  if (state == NICE_COMPONENT_STATE_READY)
    poll_selected_soon (self);
  else
    poll_all_sockets (self);
  switch (state) {
    case NICE_COMPONENT_STATE_CONNECTED:
    case NICE_COMPONENT_STATE_READY:
      if (self->ice_connected)
        break;
      self->ice_connected = TRUE;
      self->ever_connected = TRUE;
      if (self->srtp) {
        /* Back after an ICE restart: the DTLS session carries on. */
        GST_INFO ("%s: ICE works again; DTLS and SRTP carry on", self->label);
        set_state (self, HQ_TRANSPORT_STATE_CONNECTED);
        break;
      }
      if (!ensure_dtls (self, &error)) {
        fail (self, error);
        break;
      }
      GST_INFO ("%s: DTLS handshake starts as %s", self->label,
          self->dtls_role == HQ_DTLS_ROLE_CLIENT ? "client" : "server");
      g_signal_emit (self, hq_transport_signals[SIGNAL_DTLS_STATE_CHANGED], 0,
          "handshaking",
          self->dtls_role == HQ_DTLS_ROLE_CLIENT ? "client" : "server");
      hq_dtls_start (self->dtls);
      break;
    case NICE_COMPONENT_STATE_FAILED:
      self->ice_connected = FALSE;
      if (self->ever_connected)
        g_set_error (&error, HQ_TRANSPORT_ERROR,
            HQ_TRANSPORT_ERROR_CONSENT_LOST,
            "the peer stopped answering ICE consent checks: it is gone or "
            "unreachable");
      else
        g_set_error (&error, HQ_TRANSPORT_ERROR, HQ_TRANSPORT_ERROR_ICE,
            "ICE failed: no candidate pair could connect");
      fail (self, error);
      break;
    case NICE_COMPONENT_STATE_CONNECTING:
    case NICE_COMPONENT_STATE_GATHERING:
      if (self->state == HQ_TRANSPORT_STATE_NEW)
        set_state (self, HQ_TRANSPORT_STATE_CONNECTING);
      break;
    default:
      break;
  }
}

static gboolean
add_local_address (NiceAgent *agent, const gchar *ip, GError **error)
{
  NiceAddress addr;

  if (!nice_address_set_from_string (&addr, ip)) {
    g_set_error (error, HQ_TRANSPORT_ERROR, HQ_TRANSPORT_ERROR_INVALID_ARGUMENT,
        "local address \"%s\" is not an IP address", ip);
    return FALSE;
  }
  nice_agent_add_local_address (agent, &addr);
  return TRUE;
}

/* libnice gathers only on the addresses it is given once any is given, and
 * never on loopback by itself: add loopback, then the interfaces' own. */
gboolean
add_local_addresses (
    NiceAgent *agent, const HqTransportConfig *config, GError **error)
{
  GList *ips = NULL;

  if (!add_local_address (agent, "127.0.0.1", error))
    return FALSE;
  for (const gchar *const *a = config->addresses; a && *a; a++)
    if (!add_local_address (agent, *a, error))
      return FALSE;
  if (config->interfaces) {
    for (const gchar *const *i = config->interfaces; *i; i++) {
      gchar *ip = nice_interfaces_get_ip_for_interface ((gchar *)*i);
      if (ip == NULL) {
        g_set_error (error, HQ_TRANSPORT_ERROR,
            HQ_TRANSPORT_ERROR_INVALID_ARGUMENT,
            "network interface \"%s\" has no IPv4 address", *i);
        return FALSE;
      }
      ips = g_list_append (ips, ip);
    }
  } else {
    ips = nice_interfaces_get_local_ips (FALSE);
  }
  for (GList *l = ips; l; l = l->next)
    add_local_address (agent, l->data, NULL);
  g_list_free_full (ips, g_free);
  return TRUE;
}

/* The join reply's ICE servers (hqice.h): the first stun: URL and every
 * turn: URL over UDP or TCP.  libnice resolves host names itself. */
void
add_ice_servers (HqTransport *self)
{
  gboolean have_stun = self->have_stun;
  guint relays = self->turn_server != NULL;

  for (guint i = 0; self->ice_servers && i < self->ice_servers->len; i++) {
    const HqIceServer *s = g_ptr_array_index (self->ice_servers, i);
    if (s->scheme == HQ_ICE_URL_STUN && !have_stun) {
      g_object_set (self->agent, "stun-server", s->host, "stun-server-port",
          s->port, NULL);
      have_stun = TRUE;
    } else if (s->scheme == HQ_ICE_URL_TURN && s->username && s->credential) {
      if (nice_agent_set_relay_info (self->agent, self->stream_id,
              HQ_ICE_COMPONENT, s->host, s->port, s->username, s->credential,
              s->tcp ? NICE_RELAY_TYPE_TURN_TCP : NICE_RELAY_TYPE_TURN_UDP)) {
        GST_DEBUG ("%s: TURN server %s:%u over %s", self->label, s->host,
            s->port, s->tcp ? "TCP" : "UDP");
        relays++;
      }
    } else if (s->scheme == HQ_ICE_URL_TURNS || s->scheme == HQ_ICE_URL_STUNS) {
      GST_INFO ("%s: %s server %s:%u left out: libnice cannot reach STUN or "
                "TURN servers over TLS",
          self->label, s->scheme == HQ_ICE_URL_TURNS ? "TURN" : "STUN", s->host,
          s->port);
    } else if (s->scheme == HQ_ICE_URL_TURN) {
      GST_WARNING ("%s: TURN server %s:%u left out: it came without a "
                   "username and credential",
          self->label, s->host, s->port);
    }
  }
  self->relays = relays;
  if (self->relay_only && relays == 0)
    GST_WARNING ("%s: relayed candidates only, but no usable TURN server "
                 "(turn: over UDP or TCP, with credentials): ICE will fail",
        self->label);
}

/* --- releasing TURN allocations --- */

/* Agents still releasing their TURN allocations, by context. */
static GMutex releasing_lock;
static GHashTable *releasing; /* GMainContext -> count (GUINT_TO_POINTER) */

static void
count_releasing (GMainContext *context, gint delta)
{
  guint n;

  g_mutex_lock (&releasing_lock);
  if (releasing == NULL)
    releasing = g_hash_table_new (NULL, NULL);
  n = GPOINTER_TO_UINT (g_hash_table_lookup (releasing, context)) + delta;
  if (n)
    g_hash_table_insert (releasing, context, GUINT_TO_POINTER (n));
  else
    g_hash_table_remove (releasing, context);
  g_mutex_unlock (&releasing_lock);
}

static void
on_relays_released (GObject *agent, GAsyncResult *result, gpointer user_data)
{
  GMainContext *context = user_data;

  GST_DEBUG ("TURN allocations of agent %p released", agent);
  count_releasing (context, -1);
  g_main_context_wakeup (context);
  g_main_context_unref (context);
  g_object_unref (agent);
}

/* Deletes the agent's TURN allocations (a Refresh with lifetime 0 each,
 * RFC 5766), so the TURN server frees their ports and accounts for them
 * at once, not when they time out 10 minutes later.  That runs on
 * @context; the agent lives until it is done. */
void
release_relays (NiceAgent *agent, GMainContext *context)
{
  count_releasing (context, 1);
  nice_agent_close_async (
      g_object_ref (agent), on_relays_released, g_main_context_ref (context));
}

static gboolean
wake_up (gpointer data)
{
  *(gboolean *)data = TRUE;
  return G_SOURCE_REMOVE;
}

gboolean
hq_transport_wait_relays_released (GMainContext *context, guint timeout_ms)
{
  gboolean timed_out = FALSE;
  GSource *timer = g_timeout_source_new (timeout_ms);
  guint left;

  g_source_set_callback (timer, wake_up, &timed_out, NULL);
  g_source_attach (timer, context);
  for (;;) {
    g_mutex_lock (&releasing_lock);
    left = releasing
        ? GPOINTER_TO_UINT (g_hash_table_lookup (releasing, context))
        : 0;
    g_mutex_unlock (&releasing_lock);
    if (left == 0 || timed_out)
      break;
    g_main_context_iteration (context, TRUE);
  }
  g_source_destroy (timer);
  g_source_unref (timer);
  return left == 0;
}
