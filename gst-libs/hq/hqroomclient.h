/* HqRoomClient: one participant's connection to an hq-server room — the
 * signalling WebSocket (docs/protocol.md) and the two media transports
 * (publish, subscribe) — with no GStreamer in it, so elements, tools and
 * benchmarks share it.
 *
 * Life of a client:
 *   1. hq_room_client_new() with a config (server URL, room, token, the
 *      GMainContext everything runs on).  Optionally
 *      hq_room_client_set_publish_tracks() with what it will send.
 *   2. hq_room_client_start(): connects, joins, publishes the tracks
 *      (track_publish + publish_offer) and answers every subscribe offer.
 *      "joined" fires on each (re)join, "tracks-changed" after each
 *      subscribe offer was answered, "message" for every event and reply
 *      the server sends, "connection-changed" when it loses or regains the
 *      server.
 *   3. Media: hq_room_client_send_rtp()/_rtcp() (thread-safe: they copy
 *      the packet and hand it to the client's context); received packets
 *      go to the receive function, on the client's context.
 *   4. A media transport that loses ICE consent (the network went dark
 *      for seconds) is brought back with an ICE restart, at once and then
 *      with backoff, DTLS and SRTP kept ("media-changed").
 *      Losing the WebSocket (server restart, network) starts a reconnect
 *      with backoff: within the server's grace period it resumes the same
 *      participant (its transports and tracks stay); otherwise it joins
 *      afresh with new transports and publishes its tracks again.  Only
 *      after reconnect-timeout without a successful join does it give up.
 *   5. "error" fires once with a HQ_ROOM_CLIENT_ERROR when the client
 *      gives up: a refused join (the server's code and message), removal,
 *      or the reconnect timeout.  The client stays stopped afterwards.
 *   6. hq_room_client_stop() leaves the room.
 *
 * Everything but the send functions and hq_room_client_send_chat() must
 * be called on the config's context.
 */
#ifndef __HQ_ROOM_CLIENT_H__
#define __HQ_ROOM_CLIENT_H__

#include <glib-object.h>
#include <json-glib/json-glib.h>
#include <hq/hqbwprofile.h>
#include <hq/hqsdp.h>

G_BEGIN_DECLS

#define HQ_ROOM_CLIENT_ERROR (hq_room_client_error_quark ())
GQuark hq_room_client_error_quark (void);

/**
 * HqRoomClientError:
 * @HQ_ROOM_CLIENT_ERROR_INVALID_ARGUMENT: a bad URL or a missing token
 * @HQ_ROOM_CLIENT_ERROR_TOKEN: the server refused the access token
 *   (invalid_token, room_not_granted) or its identity, removed from the
 *   room by a host (banned)
 * @HQ_ROOM_CLIENT_ERROR_ROOM_NOT_FOUND: no such room in progress
 *   (room_not_found, room_completed)
 * @HQ_ROOM_CLIENT_ERROR_ROOM_FULL: the room has no space (room_full)
 * @HQ_ROOM_CLIENT_ERROR_REFUSED: another refusal of the join, or denied
 *   entry by a host, removed, or replaced by a join with the same identity
 * @HQ_ROOM_CLIENT_ERROR_TIMEOUT: the server could not be reached for
 *   reconnect-timeout
 * @HQ_ROOM_CLIENT_ERROR_MEDIA: publishing or subscribing failed (an SDP
 *   or transport error)
 * @HQ_ROOM_CLIENT_ERROR_TLS: the server's TLS certificate was refused
 *   (untrusted, for another host, expired; the message says which), or
 *   the tls_ca_file cannot be read
 *
 * Why a client gave up; the message carries the server's code and text.
 */
typedef enum
{
  HQ_ROOM_CLIENT_ERROR_INVALID_ARGUMENT,
  HQ_ROOM_CLIENT_ERROR_TOKEN,
  HQ_ROOM_CLIENT_ERROR_ROOM_NOT_FOUND,
  HQ_ROOM_CLIENT_ERROR_ROOM_FULL,
  HQ_ROOM_CLIENT_ERROR_REFUSED,
  HQ_ROOM_CLIENT_ERROR_TIMEOUT,
  HQ_ROOM_CLIENT_ERROR_MEDIA,
  HQ_ROOM_CLIENT_ERROR_TLS,
} HqRoomClientError;

/**
 * HqRoomClientConfig:
 * @server: "http://host:port", "ws://host:port" (https/wss likewise); the
 *   path /v1/signal is added when the URL has none
 * @room: room unique name or sid (NULL: the one the token names)
 * @token: the access token
 * @context: where everything runs (NULL: the thread-default context)
 * @subscribe: receive the other participants' tracks (FALSE: answer
 *   subscribe offers with every m-line inactive)
 * @reconnect_timeout_ms: give up after this long without the server
 * @cname: RTCP CNAME of what we publish (NULL: a random one)
 * @relay_only: ICE uses relayed candidates only (iceTransportPolicy
 *   "relay"), through the TURN servers the join reply names
 * @ice_udp, @ice_tcp: which candidates the transports gather (default
 *   both: ICE-TCP reaches the server when UDP is blocked)
 * @tls_ca_file: PEM file of the certificate authorities trusted for a
 *   https/wss server, in place of the system's (NULL: the system's)
 * @tls_pinned_certificate: PEM file whose (first) certificate is accepted
 *   whatever it is issued by or for, read again at each connection: how
 *   hq-server's own recorder child trusts the server (NULL: none)
 *
 * The transports use the STUN and TURN servers of the latest join reply
 * ("ice_servers", docs/protocol.md).
 */
typedef struct
{
  const gchar *server;
  const gchar *room;
  const gchar *token;
  GMainContext *context;
  gboolean subscribe;
  guint reconnect_timeout_ms;
  const gchar *cname;
  gboolean relay_only;
  gboolean ice_udp;
  gboolean ice_tcp;
  const gchar *tls_ca_file;
  const gchar *tls_pinned_certificate;
} HqRoomClientConfig;

void hq_room_client_config_init (HqRoomClientConfig *config);

/**
 * HqRoomLocalLayer:
 * @rid: the layer's RTP stream id ("q", "h", "f"), as its packets' RID
 *   header extension carries it
 * @ssrc: the SSRC it is sent with
 *
 * One simulcast layer of a track we publish.
 */
typedef struct
{
  const gchar *rid;
  guint32 ssrc;
} HqRoomLocalLayer;

/**
 * HqRoomLocalTrack:
 * @name: track name, unique among ours
 * @kind: audio or video
 * @ssrc: the SSRC we send it with
 * @codec: the codec we send ("opus", "VP8", "H264"): the offer names only
 *   it, since the server forwards the first codec of its answer
 * @priority: "low", "standard" or "high" (docs/protocol.md, Track
 *   priority); NULL: standard
 * @mid: the mid of its m-line, for a sender that writes the MID header
 *   extension (NULL: the client picks one)
 * @layers: its simulcast layers, lowest resolution first, each with its
 *   own SSRC (@ssrc is then unused); NULL: one stream
 * @n_layers: how many @layers
 *
 * A track we publish.
 */
typedef struct
{
  const gchar *name;
  HqSdpKind kind;
  guint32 ssrc;
  const gchar *codec;
  const gchar *priority;
  const gchar *mid;
  const HqRoomLocalLayer *layers;
  guint n_layers;
} HqRoomLocalTrack;

/**
 * HqRoomRemoteTrack:
 * @mid: m-line of the subscribe transport that carries it
 * @ssrc: the SSRC it arrives with (as the server rewrites it)
 * @kind: audio or video
 * @track_sid, @name: the track's sid and name
 * @participant_sid, @identity: whose it is
 * @codecs: (element-type HqSdpCodec): what it may arrive as, with the
 *   payload types of the subscribe offer
 * @priority: its publisher's priority ("low", "standard", "high"), as the
 *   subscribe offer named it and track_priority_changed changed it since
 *
 * A track we receive.
 */
typedef struct
{
  gchar *mid;
  guint32 ssrc;
  HqSdpKind kind;
  gchar *track_sid;
  gchar *name;
  gchar *participant_sid;
  gchar *identity;
  GPtrArray *codecs;
  gchar *priority;
} HqRoomRemoteTrack;

void hq_room_remote_track_free (HqRoomRemoteTrack *track);

typedef enum
{
  HQ_ROOM_TRANSPORT_PUBLISH,
  HQ_ROOM_TRANSPORT_SUBSCRIBE,
} HqRoomTransportKind;

/* Called on the client's context with each decrypted packet that arrives
 * on @which; @data is valid during the call only. */
typedef void (*HqRoomReceiveFunc) (HqRoomTransportKind which, gboolean rtcp,
    const guint8 *data, gsize len, gpointer user_data);

#define HQ_TYPE_ROOM_CLIENT (hq_room_client_get_type ())
G_DECLARE_FINAL_TYPE (HqRoomClient, hq_room_client, HQ, ROOM_CLIENT, GObject)

/* Signals (all on the client's context):
 *   "joined" (JsonObject *joined, gboolean resumed): the server's joined
 *     reply; @resumed when the same participant continues.
 *   "message" (const gchar *type, JsonObject *msg): every message the
 *     server sends, after the client acted on it.
 *   "tracks-changed" (GPtrArray *tracks): the HqRoomRemoteTrack list after
 *     a subscribe offer was answered (owned by the client).
 *   "connection-changed" (gboolean connected): the WebSocket joined, or was
 *     lost and a reconnect begins.
 *   "transport-connected" (HqRoomTransportKind which, as gint): @which
 *     is connected (again); what was sent on it before was dropped.
 *   "media-changed" (HqRoomTransportKind which, as gint, gboolean
 *     connected, const gchar *why): @which lost its media path (ICE
 *     consent lost, on our side or the server's; @why says so) and the
 *     client restarts ICE on it while the signalling connection lasts
 *     (docs/protocol.md, "When a connection fails"); then connected TRUE
 *     (@why NULL) when media flows again.  The signalling connection
 *     and the participant are unaffected.
 *   "error" (GError *error): the client gave up. */

HqRoomClient *hq_room_client_new (
    const HqRoomClientConfig *config, GError **error);

/* What we publish; on a running client a change is offered at once (a
 * new priority alone is a track_update, no new offer). */
void hq_room_client_set_publish_tracks (
    HqRoomClient *client, const HqRoomLocalTrack *tracks, guint n_tracks);
void hq_room_client_set_receive_func (HqRoomClient *client,
    HqRoomReceiveFunc func, gpointer user_data, GDestroyNotify notify);

/* What the server should send us: subscribe rules (docs/protocol.md,
 * "Choosing what you receive"), a JSON array (borrowed), or NULL for the
 * server's default, everything.  They go with every join (so a resume or
 * a rejoin keeps them, from the first offer on) and, on a joined client,
 * at once in a subscribe_rules request (id "subscribe_rules"; its reply
 * or error comes as "message"). */
void hq_room_client_set_subscribe_rules (
    HqRoomClient *client, JsonArray *rules);

void hq_room_client_start (HqRoomClient *client);
/* Leaves the room (when joined) and closes everything. */
void hq_room_client_stop (HqRoomClient *client);

/* The payload type our publish offer gives @codec_name ("opus", "VP8",
 * "H264") for @kind, or -1. */
gint hq_room_client_payload_type (HqSdpKind kind, const gchar *codec_name);

/* Thread-safe: copy @data and send it on @which once connected (dropped
 * while the transport is not). */
void hq_room_client_send_rtp (HqRoomClient *client, HqRoomTransportKind which,
    const guint8 *data, gsize len);
void hq_room_client_send_rtcp (HqRoomClient *client, HqRoomTransportKind which,
    const guint8 *data, gsize len);
/* Thread-safe: sends a chat message (chat_send). */
void hq_room_client_send_chat (HqRoomClient *client, const gchar *body);
/* On the client's context (e.g. from its "joined" handler): sends @msg
 * (borrowed) to a joined server as it is; dropped when not connected.
 * For requests the client has no function of its own for, e.g.
 * network_quality_configure (docs/protocol.md). */
void hq_room_client_send (HqRoomClient *client, JsonObject *msg);

/* --- simulcast (docs/protocol.md, "Simulcast and bandwidth profiles") --- */

/* What the server's layer selection should take for us: @profile (NULL:
 * the server's default; once a profile was set, the default profile is
 * sent), sent with every join and, on a joined client, at
 * once in a bandwidth_profile request (id "bandwidth_profile"; its reply
 * or error comes as "message"). */
void hq_room_client_set_bandwidth_profile (
    HqRoomClient *client, const HqBandwidthProfile *profile);
/* The size we render every video track we receive at (0x0: no
 * preference, the server picks by bandwidth): sent as track_hints
 * render_dimensions for each video track when it arrives, and at once
 * for all of them when it changes. */
void hq_room_client_set_render_dimensions (
    HqRoomClient *client, guint width, guint height);

/**
 * HqRoomLayerState:
 * @rid: a simulcast layer of one of our tracks
 * @active: whether some subscriber receives it (FALSE: stop sending it)
 */
typedef struct
{
  gchar rid[HQ_SDP_MAX_RID_LEN + 1];
  gboolean active;
} HqRoomLayerState;

/* Reads @msg, a publish_layers event (from "message"): returns the name
 * of our track it concerns (owned by the client) and in @layers (new,
 * element-type HqRoomLayerState) its layers; NULL (and @layers NULL) when
 * it names no track of ours. */
const gchar *hq_room_client_read_publish_layers (
    HqRoomClient *client, JsonObject *msg, GArray **layers);

/* Our participant sid and identity once joined, else NULL. */
const gchar *hq_room_client_get_participant_sid (HqRoomClient *client);
const gchar *hq_room_client_get_identity (HqRoomClient *client);

G_END_DECLS

#endif /* __HQ_ROOM_CLIENT_H__ */
