/* HqTransport: one WebRTC transport — ICE (libnice), DTLS-SRTP (OpenSSL +
 * libsrtp2) and RFC 7983 demultiplexing on one UDP flow, with BUNDLE and
 * rtcp-mux (one stream, one component).  The SFU runs many of them per
 * worker thread; the room elements run one per direction.
 *
 * Life of a transport:
 *   1. hq_transport_new() with a config (GMainContext, ICE role, DTLS role,
 *      addresses, STUN/TURN, ports).  Read the local ICE credentials and
 *      certificate fingerprint for the SDP.
 *   2. hq_transport_gather(): "local-candidate" fires per candidate (trickle),
 *      then "gathering-done".
 *   3. Give it the remote side: credentials, candidates as they trickle in,
 *      end-of-candidates, and the remote fingerprint.
 *   4. "state-changed" goes CONNECTING -> CONNECTED once ICE works, DTLS is
 *      done and the peer's certificate matched its fingerprint.  From then
 *      on hq_transport_send_rtp/rtcp() work and the receive callback gets
 *      every authenticated, decrypted RTP and RTCP packet.
 *   5. FAILED (with hq_transport_get_error()) when ICE fails, consent is
 *      lost (the peer vanished, RFC 7675: within about 30 s) or DTLS or the
 *      fingerprint fails; CLOSED after hq_transport_close().
 *   6. A transport that was CONNECTED and then lost consent
 *      (HQ_TRANSPORT_ERROR_CONSENT_LOST) keeps its DTLS session and SRTP
 *      keys: an ICE restart (hq_transport_restart_ice() on both sides,
 *      each told the other's new credentials) takes it back through
 *      CONNECTING to CONNECTED with no new handshake.  Any other failure
 *      is final.
 *
 * Everything — signals, callbacks, timers, libnice — runs on the config's
 * GMainContext; call the transport from that context's thread only.
 * Garbage on the socket (not STUN, DTLS, RTP or RTCP; failed SRTP
 * authentication; replays) is dropped and counted in the stats, never
 * reported as an error.
 */
#ifndef __HQ_TRANSPORT_H__
#define __HQ_TRANSPORT_H__

#include <glib-object.h>
#include <hq/hqdtls.h>
#include <hq/hqprotocol.h>
#include <hq/hqice.h>
#include <hq/hqsdp.h>

G_BEGIN_DECLS

/* HqTransportState is the protocol's (hqprotocol.h): transport_state
 * messages carry its names.  hq_transport_state_name: its name, or
 * "unknown". */
const gchar *hq_transport_state_name (HqTransportState state);

/**
 * HqTransportConfig:
 * @context: where everything runs (NULL: the thread-default context)
 * @controlling: ICE role; the offerer is controlling (RFC 8445)
 * @dtls_role: client (a=setup:active) or server (a=setup:passive)
 * @certificate: shared by many transports; NULL: make one
 * @srtp_profiles: preference order ending with HQ_SRTP_PROFILE_NONE, NULL:
 *   GCM then AES-CM
 * @addresses: extra local IP addresses to gather on, NULL-terminated; the
 *   loopback address 127.0.0.1 is always added (libnice skips it)
 * @interfaces: if set, only gather on these interfaces' addresses (plus
 *   @addresses and loopback)
 * @public_address: an address to announce instead of each host candidate's
 *   own (1:1 NAT, as servers behind a NAT need); NULL: none
 * @port_min, @port_max: UDP port range (0, 0: any)
 * @stun_server, @stun_port: optional STUN server
 * @turn_server, @turn_port, @turn_username, @turn_password: optional TURN
 *   (UDP) relay
 * @consent_freshness: check the peer still wants our packets (RFC 7675)
 * @ice_servers: (element-type HqIceServer): STUN and TURN servers, as the
 *   join reply names them (borrowed; NULL: none): the first stun: URL,
 *   and every turn: URL over UDP or TCP (libnice has no TLS to a TURN
 *   server: turns: and stuns: URLs are left out, and logged)
 * @relay_only: use relayed candidates only (WebRTC's iceTransportPolicy
 *   "relay"): nothing but a TURN server ever sees our addresses
 * @ice_udp: gather UDP candidates (default TRUE)
 * @ice_tcp: gather ICE-TCP candidates (RFC 6544: active ones that connect
 *   out, passive ones that listen, in the port range when one is given)
 */
typedef struct
{
  GMainContext *context;
  gboolean controlling;
  HqDtlsRole dtls_role;
  HqCertificate *certificate;
  const HqSrtpProfile *srtp_profiles;
  const gchar *const *addresses;
  const gchar *const *interfaces;
  const gchar *public_address;
  guint port_min;
  guint port_max;
  const gchar *stun_server;
  guint stun_port;
  const gchar *turn_server;
  guint turn_port;
  const gchar *turn_username;
  const gchar *turn_password;
  gboolean consent_freshness;
  GPtrArray *ice_servers;
  gboolean relay_only;
  gboolean ice_udp;
  gboolean ice_tcp;
} HqTransportConfig;

/* Fills @config with the defaults (consent freshness on, DTLS server, UDP
 * candidates only). */
void hq_transport_config_init (HqTransportConfig *config);

/**
 * HqTransportStats:
 *
 * Packet counters since creation.  "dropped_*" are packets thrown away:
 * garbage = matched no protocol or was truncated, auth = failed SRTP
 * authentication, replay = replayed or too old, early = media before the
 * transport was secure.
 */
typedef struct
{
  guint64 rtp_received;
  guint64 rtcp_received;
  guint64 rtp_sent;
  guint64 rtcp_sent;
  guint64 bytes_received;
  guint64 bytes_sent;
  guint64 dtls_received;
  guint64 dropped_garbage;
  guint64 dropped_auth;
  guint64 dropped_replay;
  guint64 dropped_early;
  guint64 send_failures;
} HqTransportStats;

/* Called with each decrypted RTP (@rtcp FALSE) or RTCP packet.  @data is
 * the transport's own buffer, valid during the call only; it may be
 * modified in place (e.g. to rewrite headers before forwarding). */
typedef void (*HqTransportReceiveFunc) (
    gboolean rtcp, guint8 *data, gsize len, gpointer user_data);

#define HQ_TYPE_TRANSPORT (hq_transport_get_type ())
G_DECLARE_FINAL_TYPE (HqTransport, hq_transport, HQ, TRANSPORT, GObject)

HqTransport *hq_transport_new (const HqTransportConfig *config, GError **error);

/* Local side, for the SDP. */
void hq_transport_get_local_credentials (
    HqTransport *transport, gchar **ufrag, gchar **pwd);
const gchar *hq_transport_get_local_fingerprint (HqTransport *transport);
HqDtlsRole hq_transport_get_dtls_role (HqTransport *transport);

/* Changes the DTLS role before the handshake starts (when the answer's
 * a=setup decides it). */
void hq_transport_set_dtls_role (HqTransport *transport, HqDtlsRole role);

gboolean hq_transport_gather (HqTransport *transport, GError **error);

/* Remote side. */
gboolean hq_transport_set_remote_credentials (HqTransport *transport,
    const gchar *ufrag, const gchar *pwd, GError **error);
/* @candidate: "candidate:..." with or without "a=" (an SDP attribute). */
gboolean hq_transport_add_remote_candidate (
    HqTransport *transport, const gchar *candidate, GError **error);
void hq_transport_end_of_remote_candidates (HqTransport *transport);
gboolean hq_transport_set_remote_fingerprint (HqTransport *transport,
    const gchar *algorithm, const gchar *fingerprint, GError **error);

/* Our side for hq_sdp_build_offer/answer: ICE credentials (returned in
 * @ufrag and @pwd, which the caller frees and keeps alive while @local is
 * used), fingerprint, a=setup:passive for answers, and @cname. */
void hq_transport_describe (HqTransport *transport, HqSdpLocal *local,
    gchar **ufrag, gchar **pwd, const gchar *cname);

/* Applies a remote description: ICE credentials, DTLS fingerprint and the
 * candidates it carries.  An answer to our offer also decides our DTLS
 * role (its a=setup:passive makes us the client). */
gboolean hq_transport_set_remote_description (
    HqTransport *transport, const HqSdp *sdp, GError **error);

/* ICE restart: a new ICE stream with new local credentials (read them
 * again and re-offer, or answer with them) and new ports; the peer's new
 * credentials come with hq_transport_set_remote_credentials(), its
 * candidates again.  Ours are gathered and announced ("local-candidate",
 * "gathering-done") from the context once this returns, after the offer
 * or answer that carries the new credentials.  A connected transport, or
 * one that lost consent, is CONNECTING until ICE works again, then
 * CONNECTED with its DTLS session and SRTP keys.  Call it from the
 * context, not from a transport signal's handler.  FALSE with
 * HQ_TRANSPORT_ERROR_CLOSED for a closed transport or one whose failure
 * was not lost consent: make a new one. */
gboolean hq_transport_restart_ice (HqTransport *transport, GError **error);

void hq_transport_set_receive_func (HqTransport *transport,
    HqTransportReceiveFunc func, gpointer user_data, GDestroyNotify notify);

/* Protects the packet of @len bytes in @buf in place and sends it.  @size
 * is the buffer's capacity: at least @len + HQ_SRTP_MAX_TRAILER.  The
 * buffer's contents are ciphertext afterwards. */
gboolean hq_transport_send_rtp (
    HqTransport *transport, guint8 *buf, gsize len, gsize size, GError **error);
gboolean hq_transport_send_rtcp (
    HqTransport *transport, guint8 *buf, gsize len, gsize size, GError **error);

HqTransportState hq_transport_get_state (HqTransport *transport);
/* Why the transport FAILED, or NULL. */
const GError *hq_transport_get_error (HqTransport *transport);
HqSrtpProfile hq_transport_get_srtp_profile (HqTransport *transport);
void hq_transport_get_stats (HqTransport *transport, HqTransportStats *stats);
/* The selected local and remote "ip:port", or FALSE before ICE works. */
gboolean hq_transport_get_selected_pair (
    HqTransport *transport, gchar **local, gchar **remote);

/* The selected pair with the candidates' types and transports, for logs:
 * "relay 127.0.0.1:50123 <-> host 127.0.0.1:40000", with " tcp" after the
 * type of an ICE-TCP candidate; NULL before ICE works.  Free with
 * g_free(). */
gchar *hq_transport_describe_selected_pair (HqTransport *transport);

void hq_transport_close (HqTransport *transport);

/* A transport that used TURN servers deletes its allocations when it is
 * freed, on its context.  This runs @context (from its owner thread) until
 * every transport of it is done with that, or @timeout_ms passed; FALSE
 * then.  Call it before leaving a context that transports with TURN ran
 * on, e.g. when a room client stops. */
gboolean hq_transport_wait_relays_released (
    GMainContext *context, guint timeout_ms);

/* Names the transport in its log lines (GST_DEBUG=hqtransport:5), e.g.
 * "PA0123 subscribe"; "transport" until set. */
void hq_transport_set_label (HqTransport *transport, const gchar *label);

/* One side's ICE candidates, for a log line: "2 (host 127.0.0.1:40000,
 * srflx 198.51.100.7:40000)".  Free with g_free(). */
gchar *hq_transport_describe_candidates (
    HqTransport *transport, gboolean remote);

/* For tests only: a process-wide hook that sees every candidate line a
 * transport announces (@local TRUE, before "local-candidate") or is given
 * (@local FALSE, in hq_transport_add_remote_candidate), on the
 * transport's context.  It returns the line to use instead (newly
 * allocated; a copy of @candidate to keep it) or NULL to leave the
 * candidate out.  How tests put an impairment relay into the media path
 * of an element that owns its transports (tests/common/relayhook.h);
 * NULL removes the hook. */
typedef gchar *(*HqTransportCandidateHook) (HqTransport *transport,
    gboolean local, const gchar *candidate, gpointer user_data);
void hq_transport_set_candidate_hook (
    HqTransportCandidateHook hook, gpointer user_data);

/* Handles @len bytes as if they had arrived on the transport's socket:
 * the same demultiplexing, DTLS, SRTP and counting.  For fuzzing and
 * tests; call it on the transport's context. */
void hq_transport_inject_received (
    HqTransport *transport, const guint8 *data, gsize len);

G_END_DECLS

#endif /* __HQ_TRANSPORT_H__ */
