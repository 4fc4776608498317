/* HqRoomClient: the room protocol (docs/protocol.md) as a participant
 * speaks it, over libsoup's WebSocket client, with the publish and
 * subscribe HqTransports.  See hqroomclient.h for the life of a client.
 *
 * How it works: one WebSocket at a time.  Its "closed" signal (or a failed
 * connect) schedules the next attempt with exponential backoff (250 ms to
 * 4 s) until reconnect-timeout has passed since the connection was lost.
 * Each connection sends "join" with the resume token of the last one; the
 * reply's participant sid says whether the server resumed us (transports
 * and tracks live on, nothing to do) or made a new participant (server
 * restarted, or the grace period ran out): then both transports are
 * dropped, our tracks are published again and a new publish offer is
 * sent; the server sends a new subscribe offer by itself.  Our subscribe
 * rules travel in every join, so even the first offer of a rejoin carries
 * only what they select; after a resume the server sends again an offer
 * we may have missed, which is answered like any other.
 *
 * Packets to send come from other threads (GStreamer streaming threads):
 * they are copied into a queue that an idle source on the client's context
 * drains, since a transport may only be used on its own context.
 */
#include "hqroomclient.h"

#include <string.h>
#include <libsoup/soup.h>
#include <hq/hqprotocol.h>
#include <hq/hqrtcp.h>
#include <hq/hqtransport.h>
#include "hqdebug.h"
#include "hqtlsfailure.h"

#define GST_CAT_DEFAULT hq_room_client_debug
#include <hq/hqutil.h>

#define RECONNECT_MIN_MS 250
#define RECONNECT_MAX_MS 4000
/* A media transport that lost ICE consent is restarted at once, then
 * again after each of these pauses (doubling) while it has not come
 * back: long enough for the checks of one restart to cross a slow,
 * queueing link before the next one starts over. */
#define RECOVER_MIN_MS 3000
#define RECOVER_MAX_MS 15000
#define PING_INTERVAL_S 20
/* Packets waiting for the context; beyond this the oldest are dropped
 * (the context is stalled and late media is useless). */
#define MAX_QUEUED 2000

G_DEFINE_QUARK (hq - room - client - error - quark, hq_room_client_error)

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
} LocalTrack;

typedef struct
{
  HqRoomTransportKind which;
  gboolean rtcp;
  gsize len;
  guint8 data[];
} Outgoing;

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

G_DEFINE_TYPE (HqRoomClient, hq_room_client, G_TYPE_OBJECT)

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

static guint signals[N_SIGNALS];

static void connect_now (HqRoomClient *c);

/* --- small helpers --- */

void
hq_room_client_config_init (HqRoomClientConfig *config)
{
  memset (config, 0, sizeof *config);
  config->subscribe = TRUE;
  config->reconnect_timeout_ms = 30000;
  config->ice_udp = TRUE;
  config->ice_tcp = TRUE;
}

void
hq_room_remote_track_free (HqRoomRemoteTrack *t)
{
  if (t == NULL)
    return;
  g_free (t->mid);
  g_free (t->track_sid);
  g_free (t->name);
  g_free (t->participant_sid);
  g_free (t->identity);
  g_clear_pointer (&t->codecs, g_ptr_array_unref);
  g_free (t->priority);
  g_free (t);
}

static void
local_track_free (LocalTrack *t)
{
  g_free (t->name);
  g_free (t->codec);
  g_free (t->priority);
  g_free (t->server_priority);
  g_free (t->sid);
  g_free (t->mid);
  g_free (t);
}

gint
hq_room_client_payload_type (HqSdpKind kind, const gchar *codec_name)
{
  g_autoptr (GPtrArray) codecs = hq_sdp_default_codecs (kind);

  for (guint i = 0; i < codecs->len; i++) {
    const HqSdpCodec *codec = g_ptr_array_index (codecs, i);
    if (g_ascii_strcasecmp (codec->name, codec_name) == 0)
      return (gint)codec->pt;
  }
  return -1;
}

/* What the server sends, read with the protocol's typed readers: a
 * member that is absent or of another type is NULL. */
static const gchar *
str_member (JsonObject *o, const gchar *name)
{
  const gchar *s = NULL;

  if (o)
    hq_protocol_read_optional_string (o, name, &s, NULL);
  return s;
}

static JsonObject *
obj_member (JsonObject *o, const gchar *name)
{
  JsonObject *v = NULL;

  if (o)
    hq_protocol_read_object (o, name, &v, NULL);
  return v;
}

static JsonArray *
array_member (JsonObject *o, const gchar *name)
{
  JsonArray *v = NULL;

  if (o)
    hq_protocol_read_array (o, name, &v, NULL);
  return v;
}

static void
ws_send (HqRoomClient *c, JsonObject *msg)
{
  g_autoptr (JsonNode) node = json_node_new (JSON_NODE_OBJECT);
  g_autofree gchar *text = NULL;

  if (c->ws == NULL
      || soup_websocket_connection_get_state (c->ws)
          != SOUP_WEBSOCKET_STATE_OPEN)
    return;
  json_node_set_object (node, msg);
  text = json_to_string (node, FALSE);
  soup_websocket_connection_send_text (c->ws, text);
}

static JsonObject *
msg_new (const gchar *type, const gchar *id)
{
  JsonObject *o = json_object_new ();

  json_object_set_string_member (o, "type", type);
  if (id)
    json_object_set_string_member (o, "id", id);
  return o;
}

static void fail (HqRoomClient *c, gint code, const gchar *format, ...)
    G_GNUC_PRINTF (3, 4);

/* Gives up for good: stops reconnecting and tells the owner once. */
static void
fail (HqRoomClient *c, gint code, const gchar *format, ...)
{
  g_autoptr (GError) error = NULL;
  va_list args;

  if (c->failed)
    return;
  c->failed = TRUE;
  c->running = FALSE;
  va_start (args, format);
  error = g_error_new_valist (HQ_ROOM_CLIENT_ERROR, code, format, args);
  va_end (args);
  GST_ERROR ("%s: giving up: %s", c->ws_url, error->message);
  if (c->retry) {
    g_source_destroy (c->retry);
    g_clear_pointer (&c->retry, g_source_unref);
  }
  g_signal_emit (c, signals[SIGNAL_ERROR], 0, error);
}

static GSource *
add_timeout (HqRoomClient *c, guint ms, GSourceFunc func)
{
  GSource *s = g_timeout_source_new (ms);

  g_source_set_callback (s, func, c, NULL);
  g_source_attach (s, c->context);
  return s;
}

/* --- transports --- */

static void
on_local_candidate (HqTransport *t, const gchar *cand, HqRoomClient *c)
{
  JsonObject *m = msg_new ("candidate", NULL);

  json_object_set_string_member (
      m, "transport", t == c->pub ? "publish" : "subscribe");
  json_object_set_string_member (m, "candidate", cand);
  ws_send (c, m);
  json_object_unref (m);
}

static void
on_gathering_done (HqTransport *t, HqRoomClient *c)
{
  JsonObject *m = msg_new ("end_of_candidates", NULL);

  json_object_set_string_member (
      m, "transport", t == c->pub ? "publish" : "subscribe");
  ws_send (c, m);
  json_object_unref (m);
}

static void
on_publish_packet (gboolean rtcp, guint8 *data, gsize len, gpointer user_data)
{
  HqRoomClient *c = user_data;

  if (c->recv_func)
    c->recv_func (HQ_ROOM_TRANSPORT_PUBLISH, rtcp, data, len, c->recv_data);
}

static void
on_subscribe_packet (gboolean rtcp, guint8 *data, gsize len, gpointer user_data)
{
  HqRoomClient *c = user_data;

  if (!rtcp)
    g_atomic_int_set (&c->sub_media, 1);
  if (c->recv_func)
    c->recv_func (HQ_ROOM_TRANSPORT_SUBSCRIBE, rtcp, data, len, c->recv_data);
}

/* How often, and for how long, the ready reports go out. */
#define READY_REPORT_INTERVAL_MS 200
#define READY_REPORTS 150

static void
stop_ready_reports (HqRoomClient *c)
{
  if (c->ready_reports) {
    g_source_destroy (c->ready_reports);
    g_clear_pointer (&c->ready_reports, g_source_unref);
  }
}

/* An empty receiver report: it tells the server this end has its SRTP
 * keys (the DTLS server, the server, is connected a flight before its
 * client, and may not have its own keys yet when the first one comes, so
 * they repeat until media arrives). */
static gboolean
send_ready_report (gpointer data)
{
  HqRoomClient *c = data;
  guint8 rr[8];
  HqRtcpWriter w;
  guint32 ssrc;

  if (g_atomic_int_get (&c->sub_media) || c->ready_reports_left == 0) {
    g_clear_pointer (&c->ready_reports, g_source_unref);
    return G_SOURCE_REMOVE;
  }
  c->ready_reports_left--;
  hq_random_bytes ((guint8 *)&ssrc, sizeof ssrc);
  hq_rtcp_writer_init (&w, rr, sizeof rr);
  if (hq_rtcp_write_rr (&w, ssrc, NULL, 0, NULL))
    hq_room_client_send_rtcp (c, HQ_ROOM_TRANSPORT_SUBSCRIBE, rr, w.len);
  return G_SOURCE_CONTINUE;
}

/* --- recovering a transport that lost consent --- */

static const gchar *const transport_names[] = { "publish", "subscribe" };

static void send_publish_offer (HqRoomClient *c);

static void
stop_recovery (HqRoomClient *c, HqRoomTransportKind which)
{
  if (c->recover[which]) {
    g_source_destroy (c->recover[which]);
    g_clear_pointer (&c->recover[which], g_source_unref);
  }
}

/* One attempt: the publish transport (we offer) restarts ICE and offers
 * again; for the subscribe transport the server offers, so we ask it. */
static void
restart_media (HqRoomClient *c, HqRoomTransportKind which)
{
  g_autoptr (GError) error = NULL;

  if (!c->joined)
    return; /* the next attempt, after the rejoin */
  GST_INFO ("participant %s: %s transport: ICE restart", c->participant_sid,
      transport_names[which]);
  if (which == HQ_ROOM_TRANSPORT_PUBLISH) {
    if (c->pub == NULL || !c->pub_answered)
      return;
    if (!hq_transport_restart_ice (c->pub, &error)) {
      GST_WARNING ("participant %s: %s", c->participant_sid, error->message);
      return;
    }
    send_publish_offer (c);
  } else {
    JsonObject *m = msg_new ("ice_restart", "ice_restart");
    json_object_set_string_member (m, "transport", "subscribe");
    ws_send (c, m);
    json_object_unref (m);
  }
}

typedef struct
{
  HqRoomClient *c;
  HqRoomTransportKind which;
} Recovery;

static void schedule_recovery (
    HqRoomClient *c, HqRoomTransportKind which, guint ms);

static gboolean
recover_cb (gpointer data)
{
  Recovery *r = data;
  HqRoomClient *c = r->c;
  HqRoomTransportKind which = r->which;

  g_clear_pointer (&c->recover[which], g_source_unref);
  restart_media (c, which);
  c->recover_ms[which] = MIN (c->recover_ms[which] * 2, RECOVER_MAX_MS);
  schedule_recovery (c, which, c->recover_ms[which]);
  return G_SOURCE_REMOVE;
}

static void
schedule_recovery (HqRoomClient *c, HqRoomTransportKind which, guint ms)
{
  Recovery *r = g_new (Recovery, 1);

  r->c = c;
  r->which = which;
  c->recover[which] = g_timeout_source_new (ms);
  g_source_set_callback (c->recover[which], recover_cb, r, g_free);
  g_source_attach (c->recover[which], c->context);
}

/* @which lost its media path (@why): try to bring it back while the
 * signalling connection lasts, at once and then with backoff. */
static void
media_lost (HqRoomClient *c, HqRoomTransportKind which, const gchar *why)
{
  if (c->media_lost[which] || !c->ever_connected[which])
    return;
  c->media_lost[which] = TRUE;
  GST_WARNING ("participant %s: %s media lost (%s): restarting ICE",
      c->participant_sid, transport_names[which], why);
  g_signal_emit (c, signals[SIGNAL_MEDIA_CHANGED], 0, (gint)which, FALSE, why);
  c->recover_ms[which] = RECOVER_MIN_MS / 2;
  /* The first attempt right after this state change, not inside it. */
  schedule_recovery (c, which, 0);
}

static void
media_connected (HqRoomClient *c, HqRoomTransportKind which)
{
  c->ever_connected[which] = TRUE;
  stop_recovery (c, which);
  if (!c->media_lost[which])
    return;
  c->media_lost[which] = FALSE;
  GST_INFO ("participant %s: %s media restored", c->participant_sid,
      transport_names[which]);
  g_signal_emit (c, signals[SIGNAL_MEDIA_CHANGED], 0, (gint)which, TRUE, NULL);
}

static void
on_transport_state (HqTransport *t, gint state, gpointer user_data)
{
  HqRoomClient *c = user_data;
  const GError *error = hq_transport_get_error (t);
  HqRoomTransportKind which =
      t == c->pub ? HQ_ROOM_TRANSPORT_PUBLISH : HQ_ROOM_TRANSPORT_SUBSCRIBE;

  GST_INFO ("participant %s: %s transport %s%s%s",
      c->participant_sid ? c->participant_sid : "(not joined)",
      t == c->pub ? "publish" : "subscribe",
      hq_transport_state_name ((HqTransportState)state), error ? ": " : "",
      error ? error->message : "");
  if (state == HQ_TRANSPORT_STATE_CONNECTED && t == c->sub) {
    stop_ready_reports (c);
    g_atomic_int_set (&c->sub_media, 0);
    c->ready_reports_left = READY_REPORTS;
    send_ready_report (c);
    c->ready_reports = g_timeout_source_new (READY_REPORT_INTERVAL_MS);
    g_source_set_callback (c->ready_reports, send_ready_report, c, NULL);
    g_source_attach (c->ready_reports, c->context);
  }
  if (state == HQ_TRANSPORT_STATE_CONNECTED) {
    media_connected (c, which);
    g_signal_emit (c, signals[SIGNAL_TRANSPORT_CONNECTED], 0, which);
  }
  if (state == HQ_TRANSPORT_STATE_FAILED
      && g_error_matches (
          error, HQ_TRANSPORT_ERROR, HQ_TRANSPORT_ERROR_CONSENT_LOST))
    media_lost (c, which, error->message);
}

static HqTransport *
make_transport (HqRoomClient *c, gboolean controlling, GError **error)
{
  HqTransportConfig config;
  HqTransport *t;

  hq_transport_config_init (&config);
  config.context = c->context;
  config.controlling = controlling;
  config.dtls_role = HQ_DTLS_ROLE_SERVER;
  config.ice_servers = c->ice_servers;
  config.relay_only = c->relay_only;
  config.ice_udp = c->ice_udp;
  config.ice_tcp = c->ice_tcp;
  t = hq_transport_new (&config, error);
  if (t == NULL)
    return NULL;
  {
    g_autofree gchar *label = g_strdup_printf ("%s %s",
        c->participant_sid ? c->participant_sid : "(not joined)",
        controlling ? "publish" : "subscribe");
    hq_transport_set_label (t, label);
  }
  g_signal_connect (t, "local-candidate", G_CALLBACK (on_local_candidate), c);
  g_signal_connect (t, "gathering-done", G_CALLBACK (on_gathering_done), c);
  g_signal_connect (t, "state-changed", G_CALLBACK (on_transport_state), c);
  hq_transport_set_receive_func (
      t, controlling ? on_publish_packet : on_subscribe_packet, c, NULL);
  return t;
}

static void
drop_transport (HqRoomClient *c, HqTransport **t)
{
  if (*t == NULL)
    return;
  {
    HqTransportStats st;
    hq_transport_get_stats (*t, &st);
    GST_DEBUG ("%s transport closed: RTP %" G_GUINT64_FORMAT
               "/%" G_GUINT64_FORMAT " sent/received, RTCP %" G_GUINT64_FORMAT
               "/%" G_GUINT64_FORMAT,
        *t == c->pub ? "publish" : "subscribe", st.rtp_sent, st.rtp_received,
        st.rtcp_sent, st.rtcp_received);
  }
  g_signal_handlers_disconnect_by_data (*t, c);
  hq_transport_set_receive_func (*t, NULL, NULL, NULL);
  hq_transport_close (*t);
  g_clear_object (t);
}

static void
drop_media (HqRoomClient *c)
{
  /* A lost path ends with its transport (a rejoin makes new ones, and
   * says so with "joined"). */
  for (guint i = 0; i < 2; i++) {
    stop_recovery (c, i);
    g_clear_pointer (&c->remote_ufrag[i], g_free);
    c->ever_connected[i] = FALSE;
    c->media_lost[i] = FALSE;
  }
  drop_transport (c, &c->pub);
  stop_ready_reports (c);
  drop_transport (c, &c->sub);
  g_clear_pointer (&c->pub_offer, hq_sdp_free);
  c->pub_answered = FALSE;
  for (guint i = 0; i < c->local->len; i++) {
    LocalTrack *t = g_ptr_array_index (c->local, i);
    g_clear_pointer (&t->sid, g_free);
    t->publishing = FALSE;
  }
}

/* --- publishing --- */

/* Leaves in each m-line only the codec its track sends. */
static void
only_our_codecs (HqRoomClient *c, HqSdp *offer)
{
  for (guint i = 0; i < c->local->len; i++) {
    LocalTrack *lt = g_ptr_array_index (c->local, i);
    HqSdpMedia *m = hq_sdp_find_media (offer, lt->mid);

    if (m == NULL || lt->codec == NULL
        || hq_sdp_media_find_codec_by_name (m, lt->codec) == NULL)
      continue;
    for (guint j = m->codecs->len; j > 0; j--) {
      const HqSdpCodec *codec = g_ptr_array_index (m->codecs, j - 1);
      if (g_ascii_strcasecmp (codec->name, lt->codec) != 0)
        g_ptr_array_remove_index (m->codecs, j - 1);
    }
  }
}

static void
send_publish_offer (HqRoomClient *c)
{
  g_autoptr (GError) error = NULL;
  g_autofree gchar *ufrag = NULL, *pwd = NULL, *text = NULL;
  g_autoptr (GArray) tracks = g_array_new (FALSE, TRUE, sizeof (HqSdpTrack));
  HqSdpLocal local;
  HqSdp *offer;
  JsonArray *map = json_array_new ();
  JsonObject *m;

  for (guint i = 0; i < c->local->len; i++) {
    LocalTrack *lt = g_ptr_array_index (c->local, i);
    HqSdpTrack t = { .kind = lt->kind,
      .mid = lt->mid,
      .direction = HQ_SDP_SENDONLY,
      .stream_id = c->cname,
      .track_id = lt->sid,
      .ssrc = lt->ssrc };
    JsonObject *o = json_object_new ();

    g_array_append_val (tracks, t);
    json_object_set_string_member (o, "mid", lt->mid);
    json_object_set_string_member (o, "track_sid", lt->sid);
    json_array_add_object_element (map, o);
  }
  if (c->pub == NULL && (c->pub = make_transport (c, TRUE, &error)) == NULL) {
    json_array_unref (map);
    fail (c, HQ_ROOM_CLIENT_ERROR_MEDIA, "cannot make a transport: %s",
        error->message);
    return;
  }
  hq_transport_describe (c->pub, &local, &ufrag, &pwd, c->cname);
  local.setup = HQ_SDP_SETUP_ACTPASS;
  offer = hq_sdp_build_offer (&local, (const HqSdpTrack *)tracks->data,
      tracks->len, c->pub_answered ? c->pub_offer : NULL, &error);
  if (offer == NULL) {
    json_array_unref (map);
    fail (c, HQ_ROOM_CLIENT_ERROR_MEDIA, "cannot build the publish offer: %s",
        error->message);
    return;
  }
  only_our_codecs (c, offer);
  text = hq_sdp_to_text (offer);
  hq_sdp_free (c->pub_offer);
  c->pub_offer = offer;
  m = msg_new ("publish_offer", "publish");
  json_object_set_string_member (m, "sdp", text);
  json_object_set_array_member (m, "tracks", map);
  ws_send (c, m);
  json_object_unref (m);
}

/* Publishes what has no sid yet; offers once every track has one. */
static void
publish_tracks (HqRoomClient *c)
{
  gboolean all = TRUE;

  if (!c->joined)
    return;
  for (guint i = 0; i < c->local->len; i++) {
    LocalTrack *t = g_ptr_array_index (c->local, i);
    g_autofree gchar *id = NULL;
    JsonObject *m;

    if (t->sid)
      continue;
    all = FALSE;
    if (t->publishing)
      continue;
    id = g_strconcat ("track:", t->name, NULL);
    m = msg_new ("track_publish", id);
    json_object_set_string_member (m, "name", t->name);
    json_object_set_string_member (m, "kind", hq_sdp_kind_to_string (t->kind));
    json_object_set_string_member (m, "priority", t->priority);
    ws_send (c, m);
    json_object_unref (m);
    g_free (t->server_priority);
    t->server_priority = g_strdup (t->priority);
    t->publishing = TRUE;
  }
  if (all && c->local->len > 0)
    send_publish_offer (c);
}

static void sync_priority (HqRoomClient *c, LocalTrack *t);

static void
on_track_published (HqRoomClient *c, const gchar *id, JsonObject *msg)
{
  const gchar *sid = str_member (obj_member (msg, "track"), "sid");

  for (guint i = 0; sid && i < c->local->len; i++) {
    LocalTrack *t = g_ptr_array_index (c->local, i);
    if (g_str_equal (id + strlen ("track:"), t->name)) {
      g_free (t->sid);
      t->sid = g_strdup (sid);
      t->publishing = FALSE;
      /* It may have changed while track_publish was on its way. */
      sync_priority (c, t);
    }
  }
  publish_tracks (c);
}

/* Whether @sdp carries other ICE credentials than the server's we last
 * applied to @which: the answer to our ICE restart, or the server's. */
static gboolean
ice_restarted (HqRoomClient *c, HqRoomTransportKind which, const HqSdp *sdp)
{
  return c->remote_ufrag[which] != NULL
      && g_strcmp0 (hq_sdp_get_ice_ufrag (sdp), c->remote_ufrag[which]) != 0;
}

static gboolean
apply_remote (HqRoomClient *c, HqRoomTransportKind which, const HqSdp *sdp,
    GError **error)
{
  HqTransport *t = which == HQ_ROOM_TRANSPORT_PUBLISH ? c->pub : c->sub;

  if (!hq_transport_set_remote_description (t, sdp, error))
    return FALSE;
  g_free (c->remote_ufrag[which]);
  c->remote_ufrag[which] = g_strdup (hq_sdp_get_ice_ufrag (sdp));
  return TRUE;
}

static void
on_publish_answer (HqRoomClient *c, JsonObject *msg)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (HqSdp) answer = NULL;
  const gchar *text = str_member (msg, "sdp");

  if (c->pub == NULL)
    return;
  answer = hq_sdp_parse (HQ_SDP_ANSWER, text ? text : "", -1, &error);
  if (c->pub_answered) {
    /* A renegotiation changes nothing of the transport, but for the
     * answer to an ICE restart, with the server's new credentials. */
    if (answer && ice_restarted (c, HQ_ROOM_TRANSPORT_PUBLISH, answer)
        && !apply_remote (c, HQ_ROOM_TRANSPORT_PUBLISH, answer, &error))
      GST_WARNING ("participant %s: cannot use the ICE restart's answer: %s",
          c->participant_sid, error->message);
    return;
  }
  if (answer == NULL
      || !apply_remote (c, HQ_ROOM_TRANSPORT_PUBLISH, answer, &error)
      || !hq_transport_gather (c->pub, &error)) {
    fail (c, HQ_ROOM_CLIENT_ERROR_MEDIA, "cannot use the publish answer: %s",
        error->message);
    return;
  }
  c->pub_answered = TRUE;
}

/* Tells the server a published track's priority when it does not know
 * it yet; the others get track_priority_changed.  A track not published
 * yet carries it in its track_publish. */
static void
sync_priority (HqRoomClient *c, LocalTrack *t)
{
  g_autofree gchar *id = NULL;
  JsonObject *m;

  if (t->sid == NULL || !c->joined
      || g_strcmp0 (t->server_priority, t->priority) == 0)
    return;
  id = g_strconcat ("priority:", t->name, NULL);
  m = msg_new ("track_update", id);
  json_object_set_string_member (m, "track_sid", t->sid);
  json_object_set_string_member (m, "priority", t->priority);
  ws_send (c, m);
  json_object_unref (m);
  g_free (t->server_priority);
  t->server_priority = g_strdup (t->priority);
}

void
hq_room_rule_add (JsonArray *rules, const gchar *type, const gchar *filter,
    const gchar *value)
{
  JsonObject *r = json_object_new ();

  json_object_set_string_member (r, "type", type);
  if (g_str_equal (filter, "all"))
    json_object_set_boolean_member (r, "all", TRUE);
  else
    json_object_set_string_member (r, filter, value);
  json_array_add_object_element (rules, r);
}

/* Tells a joined server the rules in effect. */
static void
send_subscribe_rules (HqRoomClient *c)
{
  JsonObject *m = msg_new ("subscribe_rules", "subscribe_rules");

  json_object_set_member (
      m, "rules", json_from_string (c->subscribe_rules, NULL));
  ws_send (c, m);
  json_object_unref (m);
  c->rules_unsaid = FALSE;
}

void
hq_room_client_set_subscribe_rules (HqRoomClient *c, JsonArray *rules)
{
  g_autoptr (JsonNode) node = json_node_new (JSON_NODE_ARRAY);

  if (rules) {
    json_node_set_array (node, rules);
  } else if (c->subscribe_rules) {
    /* Back to the default, everything: said as a rule, so that a resume
     * (which keeps the server's rules) carries it too. */
    json_node_take_array (node, json_array_new ());
    hq_room_rule_add (json_node_get_array (node), "include", "all", NULL);
  } else {
    return; /* never said otherwise: the server's default holds */
  }
  g_free (c->subscribe_rules);
  c->subscribe_rules = json_to_string (node, FALSE);
  /* Between a join leaving and its answer, the join carried the old
   * rules: on_joined says the new ones. */
  c->rules_unsaid = TRUE;
  if (c->joined)
    send_subscribe_rules (c);
}

void
hq_room_client_set_publish_tracks (
    HqRoomClient *c, const HqRoomLocalTrack *tracks, guint n_tracks)
{
  g_autoptr (GPtrArray) old = c->local;
  gboolean changed = old->len != n_tracks;

  c->local = g_ptr_array_new_with_free_func ((GDestroyNotify)local_track_free);
  for (guint i = 0; i < n_tracks; i++) {
    LocalTrack *t = g_new0 (LocalTrack, 1);

    t->name = g_strdup (tracks[i].name);
    t->kind = tracks[i].kind;
    t->ssrc = tracks[i].ssrc;
    t->codec = g_strdup (tracks[i].codec);
    t->priority =
        g_strdup (tracks[i].priority ? tracks[i].priority : "standard");
    /* A track we had keeps its sid and mid. */
    for (guint j = 0; j < old->len; j++) {
      LocalTrack *o = g_ptr_array_index (old, j);
      if (g_str_equal (o->name, t->name) && o->kind == t->kind) {
        t->sid = g_steal_pointer (&o->sid);
        t->mid = g_steal_pointer (&o->mid);
        t->server_priority = g_steal_pointer (&o->server_priority);
        t->publishing = o->publishing;
        changed |= o->ssrc != t->ssrc || g_strcmp0 (o->codec, t->codec) != 0;
      }
    }
    sync_priority (c, t);
    if (t->mid == NULL) {
      changed = TRUE;
      t->mid = g_strdup_printf ("%s-%u", t->name, g_random_int ());
    }
    g_ptr_array_add (c->local, t);
  }
  /* Tracks that went away are unpublished. */
  for (guint i = 0; i < old->len; i++) {
    LocalTrack *o = g_ptr_array_index (old, i);
    JsonObject *m;

    if (o->sid == NULL)
      continue;
    changed = TRUE;
    m = msg_new ("track_unpublish", NULL);
    json_object_set_string_member (m, "track_sid", o->sid);
    ws_send (c, m);
    json_object_unref (m);
  }
  if (changed)
    publish_tracks (c);
}

/* --- subscribing --- */

static HqRoomRemoteTrack *
remote_track_new (const HqSdpMedia *m, JsonObject *desc)
{
  HqRoomRemoteTrack *t = g_new0 (HqRoomRemoteTrack, 1);
  g_autoptr (GArray) ssrcs = hq_sdp_media_primary_ssrcs (m);

  t->mid = g_strdup (m->mid);
  t->kind = m->kind;
  t->ssrc = ssrcs->len ? g_array_index (ssrcs, guint32, 0) : 0;
  t->track_sid = g_strdup (str_member (desc, "track_sid"));
  t->name = g_strdup (str_member (desc, "name"));
  t->participant_sid = g_strdup (str_member (desc, "participant_sid"));
  t->identity = g_strdup (str_member (desc, "identity"));
  t->priority =
      g_strdup (str_member (desc, "priority") ? str_member (desc, "priority")
                                              : "standard");
  t->codecs =
      g_ptr_array_new_with_free_func ((GDestroyNotify)hq_sdp_codec_free);
  for (guint i = 0; i < m->codecs->len; i++)
    g_ptr_array_add (
        t->codecs, hq_sdp_codec_copy (g_ptr_array_index (m->codecs, i)));
  return t;
}

/* Another participant's track has a new priority. */
static void
on_priority_changed (HqRoomClient *c, JsonObject *msg)
{
  JsonObject *track = obj_member (msg, "track");
  const gchar *sid = str_member (track, "sid");
  const gchar *priority = str_member (track, "priority");

  for (guint i = 0; sid && priority && i < c->remote->len; i++) {
    HqRoomRemoteTrack *t = g_ptr_array_index (c->remote, i);
    if (g_strcmp0 (t->track_sid, sid) == 0) {
      g_free (t->priority);
      t->priority = g_strdup (priority);
    }
  }
}

static void
on_subscribe_offer (HqRoomClient *c, JsonObject *msg)
{
  g_autoptr (GError) error = NULL;
  g_autofree gchar *ufrag = NULL, *pwd = NULL, *text = NULL;
  const gchar *sdp = str_member (msg, "sdp");
  g_autoptr (HqSdp) offer = NULL;
  g_autoptr (HqSdp) answer = NULL;
  g_autoptr (GArray) want = g_array_new (FALSE, TRUE, sizeof (HqSdpTrack));
  JsonArray *described = array_member (msg, "tracks");
  gboolean first = c->sub == NULL, restart;
  gint64 revision = 0;
  HqSdpLocal local;
  JsonObject *m;

  offer = hq_sdp_parse (HQ_SDP_OFFER, sdp ? sdp : "", -1, &error);
  if (offer == NULL) {
    fail (c, HQ_ROOM_CLIENT_ERROR_MEDIA, "cannot read the subscribe offer: %s",
        error->message);
    return;
  }
  if (first && (c->sub = make_transport (c, FALSE, &error)) == NULL) {
    fail (c, HQ_ROOM_CLIENT_ERROR_MEDIA, "cannot make a transport: %s",
        error->message);
    return;
  }
  /* New ICE credentials in the offer: the server restarted ICE, so do
   * we, and answer with our new ones. */
  restart = ice_restarted (c, HQ_ROOM_TRANSPORT_SUBSCRIBE, offer);
  if (restart && !hq_transport_restart_ice (c->sub, &error)) {
    GST_WARNING ("participant %s: %s", c->participant_sid, error->message);
    restart = FALSE;
    g_clear_error (&error);
  }
  for (guint i = 0; i < offer->media->len; i++) {
    const HqSdpMedia *om = g_ptr_array_index (offer->media, i);
    HqSdpTrack t = { .kind = om->kind,
      .mid = om->mid,
      .direction = c->subscribe ? HQ_SDP_RECVONLY : HQ_SDP_INACTIVE };
    g_array_append_val (want, t);
  }
  hq_transport_describe (c->sub, &local, &ufrag, &pwd, c->cname);
  answer = hq_sdp_build_answer (
      offer, &local, (const HqSdpTrack *)want->data, want->len, &error);
  if (answer == NULL
      || ((first || restart)
          && !apply_remote (c, HQ_ROOM_TRANSPORT_SUBSCRIBE, offer, &error))) {
    fail (c, HQ_ROOM_CLIENT_ERROR_MEDIA,
        "cannot answer the subscribe offer: %s", error->message);
    return;
  }
  text = hq_sdp_to_text (answer);
  m = msg_new ("subscribe_answer", NULL);
  json_object_set_string_member (m, "sdp", text);
  hq_protocol_read_int (msg, "revision", &revision, NULL);
  json_object_set_int_member (m, "revision", revision);
  ws_send (c, m);
  json_object_unref (m);
  if (first)
    hq_transport_gather (c->sub, NULL);

  g_ptr_array_set_size (c->remote, 0);
  for (guint i = 0; described && i < json_array_get_length (described); i++) {
    JsonNode *n = json_array_get_element (described, i);
    JsonObject *desc =
        JSON_NODE_HOLDS_OBJECT (n) ? json_node_get_object (n) : NULL;
    const gchar *mid = str_member (desc, "mid");
    const HqSdpMedia *om = mid ? hq_sdp_find_media (offer, mid) : NULL;

    if (om && hq_sdp_media_is_active (om)
        && (om->kind == HQ_SDP_KIND_AUDIO || om->kind == HQ_SDP_KIND_VIDEO))
      g_ptr_array_add (c->remote, remote_track_new (om, desc));
  }
  g_signal_emit (c, signals[SIGNAL_TRACKS_CHANGED], 0, c->remote);
}

static void
on_candidate (HqRoomClient *c, const gchar *type, JsonObject *msg)
{
  const gchar *which = str_member (msg, "transport");
  HqTransport *t = g_strcmp0 (which, "publish") == 0 ? c->pub
      : g_strcmp0 (which, "subscribe") == 0          ? c->sub
                                                     : NULL;
  const gchar *cand = str_member (msg, "candidate");

  if (t == NULL)
    return;
  if (g_str_equal (type, "end_of_candidates"))
    hq_transport_end_of_remote_candidates (t);
  else if (cand)
    hq_transport_add_remote_candidate (t, cand, NULL);
}

/* --- joining --- */

static void
on_joined (HqRoomClient *c, JsonObject *msg)
{
  JsonObject *me = obj_member (msg, "participant");
  const gchar *sid = str_member (me, "sid");
  gboolean resumed =
      c->participant_sid && g_strcmp0 (sid, c->participant_sid) == 0;
  JsonArray *mine = array_member (me, "tracks");

  c->joined = TRUE;
  GST_INFO ("%s: joined as participant %s (identity %s)%s", c->ws_url,
      sid ? sid : "?",
      str_member (me, "identity") ? str_member (me, "identity") : "?",
      resumed ? ", the session resumed" : "");
  if (c->rules_unsaid && c->subscribe_rules)
    send_subscribe_rules (c);
  c->lost_at = 0;
  c->backoff_ms = RECONNECT_MIN_MS;
  g_free (c->participant_sid);
  c->participant_sid = g_strdup (sid);
  g_free (c->identity);
  c->identity = g_strdup (str_member (me, "identity"));
  g_free (c->resume_token);
  c->resume_token = g_strdup (str_member (msg, "resume_token"));
  /* Fresh TURN credentials with every join; transports made from now on
   * use them. */
  g_clear_pointer (&c->ice_servers, g_ptr_array_unref);
  c->ice_servers = hq_ice_servers_from_json (array_member (msg, "ice_servers"));
  GST_DEBUG ("%s: %u ICE server URLs in the join reply", c->ws_url,
      c->ice_servers->len);
  if (!resumed) {
    drop_media (c);
    /* Tracks the server still lists for us keep their sids. */
    for (guint i = 0; mine && i < json_array_get_length (mine); i++) {
      JsonObject *t = json_array_get_object_element (mine, i);
      for (guint j = 0; t && j < c->local->len; j++) {
        LocalTrack *lt = g_ptr_array_index (c->local, j);
        if (g_strcmp0 (str_member (t, "name"), lt->name) == 0) {
          g_free (lt->sid);
          lt->sid = g_strdup (str_member (t, "sid"));
          g_free (lt->server_priority);
          lt->server_priority = g_strdup (str_member (t, "priority"));
        }
      }
    }
  }
  g_signal_emit (c, signals[SIGNAL_JOINED], 0, msg, resumed);
  g_signal_emit (c, signals[SIGNAL_CONNECTION_CHANGED], 0, TRUE);
  for (guint i = 0; i < c->local->len; i++)
    sync_priority (c, g_ptr_array_index (c->local, i));
  if (!resumed)
    publish_tracks (c);
}

static void
on_join_refused (HqRoomClient *c, JsonObject *msg)
{
  const gchar *code = str_member (msg, "code");
  const gchar *text = str_member (msg, "message");
  gint kind = HQ_ROOM_CLIENT_ERROR_REFUSED;

  if (g_strcmp0 (code, "invalid_token") == 0
      || g_strcmp0 (code, "room_not_granted") == 0
      || g_strcmp0 (code, "banned") == 0)
    kind = HQ_ROOM_CLIENT_ERROR_TOKEN;
  else if (g_strcmp0 (code, "room_not_found") == 0
      || g_strcmp0 (code, "room_completed") == 0)
    kind = HQ_ROOM_CLIENT_ERROR_ROOM_NOT_FOUND;
  else if (g_strcmp0 (code, "room_full") == 0)
    kind = HQ_ROOM_CLIENT_ERROR_ROOM_FULL;
  fail (c, kind, "the server refused to join room \"%s\": %s: %s",
      c->room ? c->room : "(from token)", code ? code : "error",
      text ? text : "");
}

/* The server's side of our publish transport.  It failed first: only the
 * offerer can restart ICE, so we do.  Connected again: when our side never
 * left CONNECTED (a restart does not leave it), this is how we learn
 * media flows again. */
static void
on_server_publish_state (HqRoomClient *c, const gchar *state, JsonObject *msg)
{
  if (g_strcmp0 (state, "failed") == 0)
    media_lost (c, HQ_ROOM_TRANSPORT_PUBLISH,
        str_member (msg, "message") ? str_member (msg, "message")
                                    : "the server's side failed");
  else if (g_strcmp0 (state, "connected") == 0 && c->pub
      && hq_transport_get_state (c->pub) == HQ_TRANSPORT_STATE_CONNECTED)
    media_connected (c, HQ_ROOM_TRANSPORT_PUBLISH);
}

static void
on_ws_message (
    SoupWebsocketConnection *ws, gint type, GBytes *bytes, HqRoomClient *c)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  JsonObject *msg;
  const gchar *t, *id;

  if (type != SOUP_WEBSOCKET_DATA_TEXT
      || !hq_protocol_depth_ok (g_bytes_get_data (bytes, NULL),
          g_bytes_get_size (bytes), HQ_PROTOCOL_MAX_DEPTH)
      || !json_parser_load_from_data (parser, g_bytes_get_data (bytes, NULL),
          (gssize)g_bytes_get_size (bytes), NULL)
      || !JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
    return;
  msg = json_node_get_object (json_parser_get_root (parser));
  t = str_member (msg, "type");
  id = str_member (msg, "id");
  if (t == NULL)
    return;
  g_object_ref (c);
  if (g_str_equal (t, "joined"))
    on_joined (c, msg);
  else if (g_str_equal (t, "error") && g_strcmp0 (id, "join") == 0)
    on_join_refused (c, msg);
  else if (g_str_equal (t, "error") && g_strcmp0 (id, "publish") == 0)
    fail (c, HQ_ROOM_CLIENT_ERROR_MEDIA,
        "the server refused to publish: %s: %s", str_member (msg, "code"),
        str_member (msg, "message"));
  else if (g_str_equal (t, "denied"))
    fail (c, HQ_ROOM_CLIENT_ERROR_REFUSED, "a host denied entry: %s",
        str_member (msg, "message"));
  else if (g_str_equal (t, "track_published") && id
      && g_str_has_prefix (id, "track:"))
    on_track_published (c, id, msg);
  else if (g_str_equal (t, "publish_answer"))
    on_publish_answer (c, msg);

  else if (g_str_equal (t, "subscribe_offer"))
    on_subscribe_offer (c, msg);
  else if (g_str_equal (t, "track_priority_changed") && id == NULL)
    on_priority_changed (c, msg);
  else if (g_str_equal (t, "candidate") || g_str_equal (t, "end_of_candidates"))
    on_candidate (c, t, msg);
  else if (g_str_equal (t, "transport_state")
      && g_strcmp0 (str_member (msg, "transport"), "publish") == 0)
    on_server_publish_state (c, str_member (msg, "state"), msg);
  if (!c->failed)
    g_signal_emit (c, signals[SIGNAL_MESSAGE], 0, t, msg);
  g_object_unref (c);
}

static gboolean
retry_cb (gpointer data)
{
  HqRoomClient *c = data;

  g_clear_pointer (&c->retry, g_source_unref);
  connect_now (c);
  return G_SOURCE_REMOVE;
}

/* The server is gone (or never answered): try again later, or give up. */
static void
schedule_reconnect (HqRoomClient *c, const gchar *why)
{
  gint64 now = g_get_monotonic_time ();

  if (!c->running || c->retry)
    return;
  GST_WARNING ("%s: no connection to the server: %s", c->ws_url, why);
  if (c->lost_at == 0) {
    c->lost_at = now;
    g_signal_emit (c, signals[SIGNAL_CONNECTION_CHANGED], 0, FALSE);
  }
  if (now - c->lost_at >= (gint64)c->reconnect_timeout_ms * 1000) {
    fail (c, HQ_ROOM_CLIENT_ERROR_TIMEOUT,
        "lost the server at %s and could not reconnect within %u ms: %s",
        c->ws_url, c->reconnect_timeout_ms, why);
    return;
  }
  GST_INFO ("%s: reconnecting in %u ms (%.1f s of %.1f s to reconnect "
            "used)",
      c->ws_url, c->backoff_ms, (now - c->lost_at) / 1e6,
      c->reconnect_timeout_ms / 1e3);
  c->retry = add_timeout (c, c->backoff_ms, retry_cb);
  c->backoff_ms = MIN (c->backoff_ms * 2, RECONNECT_MAX_MS);
}

static void
on_ws_closed (SoupWebsocketConnection *ws, HqRoomClient *c)
{
  gushort code = soup_websocket_connection_get_close_code (ws);
  g_autofree gchar *why = g_strdup_printf ("connection closed (%u)", code);

  g_signal_handlers_disconnect_by_data (ws, c);
  if (ws == c->ws)
    g_clear_object (&c->ws);
  GST_INFO ("%s: signalling connection closed (%u %s)", c->ws_url, code,
      soup_websocket_connection_get_close_data (ws)
          ? soup_websocket_connection_get_close_data (ws)
          : "");
  c->joined = FALSE;
  switch (code) {
    case 4001:
      fail (c, HQ_ROOM_CLIENT_ERROR_REFUSED, "removed from the room (4001)");
      return;
    case 4002:
      fail (c, HQ_ROOM_CLIENT_ERROR_REFUSED,
          "replaced: the same identity joined elsewhere (4002)");
      return;
    case 4003:
      fail (c, HQ_ROOM_CLIENT_ERROR_REFUSED, "denied entry by a host (4003)");
      return;
    case 4004:
      fail (
          c, HQ_ROOM_CLIENT_ERROR_ROOM_NOT_FOUND, "the room completed (4004)");
      return;
    default:
      break;
  }
  schedule_reconnect (c, why);
}

static void
on_ws_connected (GObject *src, GAsyncResult *res, gpointer data)
{
  HqRoomClient *c = data;
  g_autoptr (GError) error = NULL;
  SoupWebsocketConnection *ws =
      soup_session_websocket_connect_finish (SOUP_SESSION (src), res, &error);
  JsonObject *m;

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED)) {
    g_object_unref (c);
    return;
  }
  g_clear_object (&c->connecting);
  if (ws == NULL
      && g_error_matches (error, G_TLS_ERROR, G_TLS_ERROR_BAD_CERTIFICATE)) {
    /* Retrying cannot help: a person has to fix a certificate or a CA. */
    g_autofree gchar *why = hq_tls_failure_describe (
        c->tls_refused, c->tls_refused_errors, c->ws_url, c->tls_ca_file);
    fail (c, HQ_ROOM_CLIENT_ERROR_TLS, "%s", why);
    g_object_unref (c);
    return;
  }
  if (ws == NULL) {
    schedule_reconnect (c, error->message);
    g_object_unref (c);
    return;
  }
  GST_INFO ("%s: signalling connected; joining", c->ws_url);
  c->ws = ws;
  soup_websocket_connection_set_max_incoming_payload_size (ws, 1 << 20);
  soup_websocket_connection_set_keepalive_interval (ws, 0);
  g_signal_connect (ws, "message", G_CALLBACK (on_ws_message), c);
  g_signal_connect (ws, "closed", G_CALLBACK (on_ws_closed), c);
  m = msg_new ("join", "join");
  json_object_set_string_member (m, "token", c->token);
  if (c->room)
    json_object_set_string_member (m, "room", c->room);
  if (c->resume_token)
    json_object_set_string_member (m, "resume_token", c->resume_token);
  if (c->subscribe_rules)
    json_object_set_member (
        m, "subscribe_rules", json_from_string (c->subscribe_rules, NULL));
  c->rules_unsaid = FALSE;
  ws_send (c, m);
  json_object_unref (m);
  g_object_unref (c);
}

/* libsoup asks only about a certificate its checks refused: note why,
 * for the error, and refuse it. */
static gboolean
on_accept_certificate (SoupMessage *msg, GTlsCertificate *cert,
    GTlsCertificateFlags errors, HqRoomClient *c)
{
  if (c->tls_pinned) {
    g_autoptr (GTlsCertificate) pinned =
        g_tls_certificate_new_from_file (c->tls_pinned, NULL);
    if (pinned && g_tls_certificate_is_same (pinned, cert))
      return TRUE;
  }
  g_set_object (&c->tls_refused, cert);
  c->tls_refused_errors = errors;
  return FALSE;
}

static void
connect_now (HqRoomClient *c)
{
  g_autoptr (SoupMessage) msg = NULL;

  if (!c->running || c->ws || c->connecting)
    return;
  GST_INFO ("%s: connecting", c->ws_url);
  msg = soup_message_new ("GET", c->ws_url);
  g_signal_connect_object (
      msg, "accept-certificate", G_CALLBACK (on_accept_certificate), c, 0);
  c->connecting = g_cancellable_new ();
  soup_session_websocket_connect_async (c->session, msg, NULL, NULL,
      G_PRIORITY_DEFAULT, c->connecting, on_ws_connected, g_object_ref (c));
}

static gboolean
ping_cb (gpointer data)
{
  HqRoomClient *c = data;
  JsonObject *m = msg_new ("ping", NULL);

  ws_send (c, m);
  json_object_unref (m);
  return G_SOURCE_CONTINUE;
}

void
hq_room_client_start (HqRoomClient *c)
{
  if (c->running || c->failed)
    return;
  c->running = TRUE;
  c->backoff_ms = RECONNECT_MIN_MS;
  c->lost_at = g_get_monotonic_time ();
  if (c->ping == NULL) {
    c->ping = g_timeout_source_new_seconds (PING_INTERVAL_S);
    g_source_set_callback (c->ping, ping_cb, c, NULL);
    g_source_attach (c->ping, c->context);
  }
  connect_now (c);
}

void
hq_room_client_stop (HqRoomClient *c)
{
  c->running = FALSE;
  if (c->connecting)
    g_cancellable_cancel (c->connecting);
  g_clear_object (&c->connecting);
  if (c->retry) {
    g_source_destroy (c->retry);
    g_clear_pointer (&c->retry, g_source_unref);
  }
  if (c->ping) {
    g_source_destroy (c->ping);
    g_clear_pointer (&c->ping, g_source_unref);
  }
  if (c->ws) {
    g_signal_handlers_disconnect_by_data (c->ws, c);
    if (c->joined) {
      JsonObject *m = msg_new ("leave", NULL);
      ws_send (c, m);
      json_object_unref (m);
    }
    if (soup_websocket_connection_get_state (c->ws)
        == SOUP_WEBSOCKET_STATE_OPEN)
      soup_websocket_connection_close (c->ws, 1000, NULL);
    g_clear_object (&c->ws);
  }
  c->joined = FALSE;
  drop_media (c);
}

/* --- sending media --- */

static gboolean
drain_out (gpointer data)
{
  HqRoomClient *c = data;
  GQueue batch = G_QUEUE_INIT;
  Outgoing *o;

  g_mutex_lock (&c->lock);
  batch = c->out;
  g_queue_init (&c->out);
  c->out_scheduled = FALSE;
  g_mutex_unlock (&c->lock);
  while ((o = g_queue_pop_head (&batch))) {
    HqTransport *t = o->which == HQ_ROOM_TRANSPORT_PUBLISH ? c->pub : c->sub;
    if (t && hq_transport_get_state (t) == HQ_TRANSPORT_STATE_CONNECTED) {
      gsize size = o->len + HQ_SRTP_MAX_TRAILER;
      if (o->rtcp)
        hq_transport_send_rtcp (t, o->data, o->len, size, NULL);
      else
        hq_transport_send_rtp (t, o->data, o->len, size, NULL);
    }
    g_free (o);
  }
  return G_SOURCE_REMOVE;
}

static void
queue_packet (HqRoomClient *c, HqRoomTransportKind which, gboolean rtcp,
    const guint8 *data, gsize len)
{
  Outgoing *o;
  gboolean wake;

  if (len == 0 || len > 65536)
    return;
  o = g_malloc (sizeof (Outgoing) + len + HQ_SRTP_MAX_TRAILER);
  o->which = which;
  o->rtcp = rtcp;
  o->len = len;
  memcpy (o->data, data, len);
  g_mutex_lock (&c->lock);
  g_queue_push_tail (&c->out, o);
  while (c->out.length > MAX_QUEUED)
    g_free (g_queue_pop_head (&c->out));
  wake = !c->out_scheduled;
  c->out_scheduled = TRUE;
  g_mutex_unlock (&c->lock);
  if (wake) {
    GSource *s = g_idle_source_new ();
    g_source_set_priority (s, G_PRIORITY_HIGH);
    g_source_set_callback (s, drain_out, g_object_ref (c), g_object_unref);
    g_source_attach (s, c->context);
    g_source_unref (s);
  }
}

void
hq_room_client_send_rtp (
    HqRoomClient *c, HqRoomTransportKind which, const guint8 *data, gsize len)
{
  queue_packet (c, which, FALSE, data, len);
}

void
hq_room_client_send_rtcp (
    HqRoomClient *c, HqRoomTransportKind which, const guint8 *data, gsize len)
{
  queue_packet (c, which, TRUE, data, len);
}

typedef struct
{
  HqRoomClient *c;
  gchar *body;
} Chat;

static gboolean
send_chat_cb (gpointer data)
{
  Chat *chat = data;
  JsonObject *m = msg_new ("chat_send", "chat");

  json_object_set_string_member (m, "body", chat->body);
  ws_send (chat->c, m);
  json_object_unref (m);
  return G_SOURCE_REMOVE;
}

static void
chat_free (gpointer data)
{
  Chat *chat = data;

  g_object_unref (chat->c);
  g_free (chat->body);
  g_free (chat);
}

void
hq_room_client_send_chat (HqRoomClient *c, const gchar *body)
{
  Chat *chat = g_new0 (Chat, 1);
  GSource *s = g_idle_source_new ();

  chat->c = g_object_ref (c);
  chat->body = g_strdup (body);
  g_source_set_callback (s, send_chat_cb, chat, chat_free);
  g_source_attach (s, c->context);
  g_source_unref (s);
}

void
hq_room_client_send (HqRoomClient *c, JsonObject *msg)
{
  ws_send (c, msg);
}

/* --- object --- */

const gchar *
hq_room_client_get_participant_sid (HqRoomClient *c)
{
  return c->joined ? c->participant_sid : NULL;
}

const gchar *
hq_room_client_get_identity (HqRoomClient *c)
{
  return c->joined ? c->identity : NULL;
}

void
hq_room_client_set_receive_func (HqRoomClient *c, HqRoomReceiveFunc func,
    gpointer user_data, GDestroyNotify notify)
{
  if (c->recv_notify)
    c->recv_notify (c->recv_data);
  c->recv_func = func;
  c->recv_data = user_data;
  c->recv_notify = notify;
}

/* "http://h:p/x" -> "ws://h:p/x", adding /v1/signal when there is no path. */
static gchar *
signal_url (const gchar *server, GError **error)
{
  g_autoptr (GUri) uri = NULL;
  const gchar *scheme, *path;
  const gchar *ws_scheme;

  if (server == NULL || *server == '\0') {
    g_set_error (error, HQ_ROOM_CLIENT_ERROR,
        HQ_ROOM_CLIENT_ERROR_INVALID_ARGUMENT, "no server URL given");
    return NULL;
  }
  uri = g_uri_parse (server, G_URI_FLAGS_NONE, NULL);
  scheme = uri ? g_uri_get_scheme (uri) : NULL;
  if (g_strcmp0 (scheme, "http") == 0 || g_strcmp0 (scheme, "ws") == 0)
    ws_scheme = "ws";
  else if (g_strcmp0 (scheme, "https") == 0 || g_strcmp0 (scheme, "wss") == 0)
    ws_scheme = "wss";
  else {
    g_set_error (error, HQ_ROOM_CLIENT_ERROR,
        HQ_ROOM_CLIENT_ERROR_INVALID_ARGUMENT,
        "server \"%s\" is not an http://, https://, ws:// or wss:// URL",
        server);
    return NULL;
  }
  path = g_uri_get_path (uri);
  if (path == NULL || *path == '\0' || g_str_equal (path, "/"))
    path = "/v1/signal";
  return g_uri_join (G_URI_FLAGS_NONE, ws_scheme, NULL, g_uri_get_host (uri),
      g_uri_get_port (uri), path, NULL, NULL);
}

HqRoomClient *
hq_room_client_new (const HqRoomClientConfig *config, GError **error)
{
  g_autofree gchar *url = signal_url (config->server, error);
  HqRoomClient *c;

  if (url == NULL)
    return NULL;
  if (config->token == NULL || *config->token == '\0') {
    g_set_error (error, HQ_ROOM_CLIENT_ERROR,
        HQ_ROOM_CLIENT_ERROR_INVALID_ARGUMENT, "no access token given");
    return NULL;
  }
  c = g_object_new (HQ_TYPE_ROOM_CLIENT, NULL);
  c->ws_url = g_steal_pointer (&url);
  c->room = g_strdup (config->room);
  c->token = g_strdup (config->token);
  c->cname = config->cname ? g_strdup (config->cname)
                           : g_strdup_printf ("hq-%08x", g_random_int ());
  c->context = config->context ? g_main_context_ref (config->context)
                               : g_main_context_ref_thread_default ();
  c->subscribe = config->subscribe;
  c->reconnect_timeout_ms = config->reconnect_timeout_ms;
  c->relay_only = config->relay_only;
  c->ice_udp = config->ice_udp;
  c->ice_tcp = config->ice_tcp;
  c->session = soup_session_new ();
  if (config->tls_ca_file && *config->tls_ca_file) {
    g_autoptr (GError) local = NULL;
    g_autoptr (GTlsDatabase) db =
        g_tls_file_database_new (config->tls_ca_file, &local);
    if (db == NULL) {
      g_set_error (error, HQ_ROOM_CLIENT_ERROR, HQ_ROOM_CLIENT_ERROR_TLS,
          "cannot use tls-ca-file %s: %s", config->tls_ca_file, local->message);
      g_object_unref (c);
      return NULL;
    }
    soup_session_set_tls_database (c->session, db);
    c->tls_ca_file = g_strdup (config->tls_ca_file);
  }
  c->tls_pinned = g_strdup (config->tls_pinned_certificate);
  return c;
}

static void
hq_room_client_init (HqRoomClient *c)
{
  c->local = g_ptr_array_new_with_free_func ((GDestroyNotify)local_track_free);
  c->remote = g_ptr_array_new_with_free_func (
      (GDestroyNotify)hq_room_remote_track_free);
  g_mutex_init (&c->lock);
  g_queue_init (&c->out);
}

static void
hq_room_client_finalize (GObject *object)
{
  HqRoomClient *c = HQ_ROOM_CLIENT (object);

  hq_room_client_stop (c);
  hq_room_client_set_receive_func (c, NULL, NULL, NULL);
  g_queue_clear_full (&c->out, g_free);
  g_mutex_clear (&c->lock);
  g_ptr_array_unref (c->local);
  g_ptr_array_unref (c->remote);
  g_clear_object (&c->session);
  g_clear_object (&c->tls_refused);
  g_free (c->tls_ca_file);
  g_free (c->tls_pinned);
  g_main_context_unref (c->context);
  g_free (c->ws_url);
  g_free (c->room);
  g_free (c->token);
  g_free (c->cname);
  g_free (c->participant_sid);
  g_free (c->identity);
  g_free (c->resume_token);
  g_free (c->subscribe_rules);
  g_clear_pointer (&c->ice_servers, g_ptr_array_unref);
  G_OBJECT_CLASS (hq_room_client_parent_class)->finalize (object);
}

static void
hq_room_client_class_init (HqRoomClientClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  hq_debug_init ();
  object_class->finalize = hq_room_client_finalize;
  signals[SIGNAL_JOINED] =
      g_signal_new ("joined", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
          NULL, NULL, NULL, G_TYPE_NONE, 2, JSON_TYPE_OBJECT, G_TYPE_BOOLEAN);
  signals[SIGNAL_MESSAGE] =
      g_signal_new ("message", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
          NULL, NULL, NULL, G_TYPE_NONE, 2, G_TYPE_STRING, JSON_TYPE_OBJECT);
  signals[SIGNAL_TRACKS_CHANGED] = g_signal_new ("tracks-changed",
      G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
      G_TYPE_NONE, 1, G_TYPE_POINTER);
  signals[SIGNAL_CONNECTION_CHANGED] = g_signal_new ("connection-changed",
      G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
      G_TYPE_NONE, 1, G_TYPE_BOOLEAN);
  signals[SIGNAL_TRANSPORT_CONNECTED] =
      g_signal_new ("transport-connected", G_TYPE_FROM_CLASS (klass),
          G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_INT);
  signals[SIGNAL_MEDIA_CHANGED] = g_signal_new ("media-changed",
      G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
      G_TYPE_NONE, 3, G_TYPE_INT, G_TYPE_BOOLEAN, G_TYPE_STRING);
  signals[SIGNAL_ERROR] = g_signal_new ("error", G_TYPE_FROM_CLASS (klass),
      G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_ERROR);
}
