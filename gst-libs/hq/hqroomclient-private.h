/* What the HqRoomClient files share and nobody else sees: the client's
 * structure and the helpers both halves use.  hqroomclient.c speaks the
 * signalling protocol (connect, join, reconnect, the object);
 * hqroomclientmedia.c drives the publish and subscribe transports
 * (offers, answers, candidates, recovery, the packet queue).  Everything
 * runs on the client's context but the packet queue (under lock). */
#ifndef __HQ_ROOM_CLIENT_PRIVATE_H__
#define __HQ_ROOM_CLIENT_PRIVATE_H__

#include "hqroomclient.h"

#include <libsoup/soup.h>
#include <hq/hqprotocol.h>
#include <hq/hqtransport.h>

G_BEGIN_DECLS

typedef struct
{
  gchar *name;
  HqSdpKind kind;
  guint32 ssrc;
  gchar *codec;
  gchar *priority; /* as the protocol names it */
  gchar *server_priority; /* what the server was last told */
  gchar *sid;
  gchar *mid;
  gboolean publishing; /* track_publish sent, no reply yet */
  /* simulcast: the layers' RIDs (NULL-terminated) and SSRCs, lowest
   * first; NULL: one stream */
  gchar **rids;
  guint32 *layer_ssrcs;
} LocalTrack;

struct _HqRoomClient
{
  GObject parent;

  gchar *ws_url;
  gchar *room;
  gchar *token;
  gchar *cname;
  GMainContext *context;
  gboolean subscribe;
  guint reconnect_timeout_ms;
  gboolean relay_only, ice_udp, ice_tcp;
  /* HqIceServer, from the latest joined: new transports use them. */
  GPtrArray *ice_servers;

  SoupSession *session;
  gchar *tls_ca_file; /* NULL: the system's CAs */
  gchar *tls_pinned; /* accept exactly the certificate in this file */
  /* What the last refused TLS certificate was refused for. */
  GTlsCertificate *tls_refused;
  GTlsCertificateFlags tls_refused_errors;
  SoupWebsocketConnection *ws;
  GCancellable *connecting;
  gboolean running;
  gboolean failed;
  gint64 lost_at; /* monotonic µs when the server was lost; 0: joined */
  guint backoff_ms;
  GSource *retry;
  GSource *ping;

  gboolean joined;
  gchar *participant_sid;
  gchar *identity;
  gchar *resume_token;
  gchar *subscribe_rules; /* JSON text, NULL: the server's default */
  gboolean rules_unsaid; /* changed after the last join left */
  /* hqroomclientsimulcast.c: the bandwidth profile's `video` as JSON
   * text (NULL: the server's default), the size we render video at (0x0:
   * no preference), and per track sid what we last hinted ("WxH", "") */
  gchar *bandwidth_profile;
  guint render_width, render_height;
  GHashTable *hinted;

  GPtrArray *local; /* LocalTrack */
  HqTransport *pub;
  HqSdp *pub_offer;
  gboolean pub_answered;
  HqTransport *sub;
  /* Per HqRoomTransportKind: the server's ICE ufrag we last applied (a
   * new one in an answer or offer is an ICE restart), whether the
   * transport was ever connected, and its recovery after lost consent
   * (docs/protocol.md, "When a connection fails"). */
  gchar *remote_ufrag[2];
  gboolean ever_connected[2];
  gboolean media_lost[2];
  guint recover_ms[2];
  GSource *recover[2];
  GPtrArray *remote; /* HqRoomRemoteTrack */
  /* Empty receiver reports sent on the connected subscribe transport
   * until its first RTP packet comes: the server sends its recorder media
   * only once it has heard one (docs/protocol.md). */
  GSource *ready_reports;
  guint ready_reports_left;
  gint sub_media; /* atomic: RTP has come on the subscribe transport */

  HqRoomReceiveFunc recv_func;
  gpointer recv_data;
  GDestroyNotify recv_notify;

  GMutex lock;
  GQueue out; /* Outgoing, under lock */
  gboolean out_scheduled;
};
enum
{
  SIGNAL_JOINED,
  SIGNAL_MESSAGE,
  SIGNAL_TRACKS_CHANGED,
  SIGNAL_CONNECTION_CHANGED,
  SIGNAL_TRANSPORT_CONNECTED,
  SIGNAL_MEDIA_CHANGED,
  SIGNAL_ERROR,
  N_SIGNALS
};

G_GNUC_INTERNAL extern guint hq_room_client_signals[N_SIGNALS];

G_GNUC_INTERNAL void hq_room_client_local_track_free (LocalTrack *t);

/* What the server sends, read with the protocol's typed readers: a
 * member that is absent or of another type is NULL. */
G_GNUC_INTERNAL const gchar *hq_room_client_str_member (
    JsonObject *o, const gchar *name);
G_GNUC_INTERNAL JsonObject *hq_room_client_obj_member (
    JsonObject *o, const gchar *name);
G_GNUC_INTERNAL JsonArray *hq_room_client_array_member (
    JsonObject *o, const gchar *name);
/* Sends @msg (borrowed) when the WebSocket is open. */
G_GNUC_INTERNAL void hq_room_client_ws_send (HqRoomClient *c, JsonObject *msg);
/* The id of our publish_offer, whose error means we cannot publish.
 * Other requests go by their type's name. */
#define HQ_ROOM_CLIENT_PUBLISH_ID "publish"
/* Gives up for good: stops reconnecting and tells the owner once. */
G_GNUC_INTERNAL void hq_room_client_fail (
    HqRoomClient *c, gint code, const gchar *format, ...) G_GNUC_PRINTF (3, 4);

/* hqroomclientmedia.c, for the signalling half. */
G_GNUC_INTERNAL void hq_room_client_drop_media (HqRoomClient *c);
G_GNUC_INTERNAL void hq_room_client_media_lost (
    HqRoomClient *c, HqRoomTransportKind which, const gchar *why);
G_GNUC_INTERNAL void hq_room_client_media_connected (
    HqRoomClient *c, HqRoomTransportKind which);
G_GNUC_INTERNAL void hq_room_client_publish_tracks (HqRoomClient *c);
G_GNUC_INTERNAL void hq_room_client_sync_priority (
    HqRoomClient *c, LocalTrack *t);
G_GNUC_INTERNAL void hq_room_client_send_subscribe_rules (HqRoomClient *c);

/* hqroomclientsimulcast.c: adds our bandwidth profile to @join; sends
 * the render size as track hints for the video tracks not yet told;
 * forgets what was hinted (a fresh join: a new participant). */
G_GNUC_INTERNAL void hq_room_client_add_bandwidth_profile (
    HqRoomClient *c, JsonObject *join);
G_GNUC_INTERNAL void hq_room_client_send_track_hints (HqRoomClient *c);
G_GNUC_INTERNAL void hq_room_client_forget_track_hints (HqRoomClient *c);
G_GNUC_INTERNAL void hq_room_client_on_track_published (
    HqRoomClient *c, const gchar *id, JsonObject *msg);
G_GNUC_INTERNAL void hq_room_client_on_publish_answer (
    HqRoomClient *c, JsonObject *msg);
G_GNUC_INTERNAL void hq_room_client_on_priority_changed (
    HqRoomClient *c, JsonObject *msg);
G_GNUC_INTERNAL void hq_room_client_on_subscribe_offer (
    HqRoomClient *c, JsonObject *msg);
G_GNUC_INTERNAL void hq_room_client_on_candidate (
    HqRoomClient *c, HqMessageType type, JsonObject *msg);

G_END_DECLS

#endif /* __HQ_ROOM_CLIENT_PRIVATE_H__ */
