/* What the files of HqTransport (hqtransport*.c) share and no caller of
 * libhq should see: the instance structure and the functions one file
 * calls in the other. */
#pragma once

#include "hqtransport.h"
#include "hqdtls.h"
#include "hqsrtp.h"

#include <nice/agent.h>

G_BEGIN_DECLS

/* Datagrams above this are no WebRTC media we accept (browsers stay under
 * 1200 bytes); they are counted as garbage. */
#define HQ_TRANSPORT_MAX_PACKET 4096
#define HQ_ICE_COMPONENT 1

enum
{
  SIGNAL_STATE_CHANGED,
  SIGNAL_LOCAL_CANDIDATE,
  SIGNAL_GATHERING_DONE,
  SIGNAL_ICE_STATE_CHANGED,
  SIGNAL_DTLS_STATE_CHANGED,
  N_SIGNALS
};

G_GNUC_INTERNAL extern guint hq_transport_signals[N_SIGNALS];

struct _HqTransport
{
  GObject parent;

  GMainContext *context;
  NiceAgent *agent;
  guint stream_id;
  gchar *public_address;

  HqCertificate *cert;
  HqDtlsRole dtls_role;
  HqSrtpProfile *profiles;
  HqDtls *dtls;
  HqSrtp *srtp;
  HqSrtpProfile profile;
  gchar *remote_fp_algorithm;
  gchar *remote_fp;

  HqTransportState state;
  GError *error;
  gboolean ice_connected;
  gboolean ever_connected;
  /* All our candidates are gathered, and the peer said it has no more:
   * then ICE can tell that no pair is possible (check_pairs_possible). */
  gboolean local_done, remote_done;
  guint relays; /* TURN servers given to the agent */
  /* The transports of the candidates the peer gave, one bit per
   * NiceCandidateTransport (libnice drops those it will not use). */
  guint remote_transports;
  GSource *announce; /* gathers again after an ICE restart */
  /* Once ICE is done, the context polls the selected pair's socket only
   * (hqtransport.c, "Polling"): libnice's sockets are then on @sockets,
   * run when @selected has something. */
  GSource *narrow; /* an idle source that starts it */
  GSource *selected;
  GMainContext *sockets;
  gboolean gathering; /* hq_transport_gather() was called */
  /* What each ICE stream is made with (an ICE restart makes a new one). */
  guint port_min, port_max;
  gchar *turn_server, *turn_username, *turn_password;
  guint turn_port;
  GPtrArray *ice_servers; /* HqIceServer, the join reply's (or NULL) */
  gboolean relay_only, have_stun;

  HqTransportReceiveFunc receive;
  gpointer receive_data;
  GDestroyNotify receive_notify;

  HqTransportStats stats;
  gchar *label; /* names it in log lines */
  guint8 rx[HQ_TRANSPORT_MAX_PACKET];
};

/* hqtransport.c */
G_GNUC_INTERNAL gboolean ensure_dtls (HqTransport *self, GError **error);
G_GNUC_INTERNAL void fail (HqTransport *self, GError *error);
G_GNUC_INTERNAL void set_state (HqTransport *self, HqTransportState state);
G_GNUC_INTERNAL void poll_selected_soon (HqTransport *self);
G_GNUC_INTERNAL void poll_all_sockets (HqTransport *self);

/* hqtransport-ice.c */
G_GNUC_INTERNAL void add_ice_servers (HqTransport *self);
G_GNUC_INTERNAL gboolean add_local_addresses (
    NiceAgent *agent, const HqTransportConfig *config, GError **error);
G_GNUC_INTERNAL void check_pairs_possible (HqTransport *self);
G_GNUC_INTERNAL gchar *describe_pair (
    const NiceCandidate *local, const NiceCandidate *remote);
G_GNUC_INTERNAL gchar *hook_candidate (
    HqTransport *self, gboolean local, gchar *line);
G_GNUC_INTERNAL void on_component_state (NiceAgent *agent, guint stream_id,
    guint component_id, guint state, gpointer user_data);
G_GNUC_INTERNAL void on_gathering_done (
    NiceAgent *agent, guint stream_id, gpointer user_data);
G_GNUC_INTERNAL void on_new_candidate (
    NiceAgent *agent, NiceCandidate *cand, gpointer user_data);
G_GNUC_INTERNAL void on_selected_pair (NiceAgent *agent, guint stream_id,
    guint component_id, NiceCandidate *local, NiceCandidate *remote,
    gpointer user_data);
G_GNUC_INTERNAL void release_relays (NiceAgent *agent, GMainContext *context);

G_END_DECLS
