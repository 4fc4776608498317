/* HqRoomClient's media: the publish and subscribe HqTransports, the
 * offers and answers that set them up, their candidates, their recovery
 * after lost ICE consent (restarted by whoever offers), and the queue that
 * carries packets from streaming threads to the client's context.  The
 * signalling half is hqroomclient.c. */
#include "hqroomclient-private.h"

#include <string.h>
#include <hq/hqprotocol.h>
#include <hq/hqrtcp.h>
#include "hqdebug.h"

#define GST_CAT_DEFAULT hq_room_client_debug
#include <hq/hqutil.h>

/* A media transport that lost ICE consent is restarted at once, then
 * again after each of these pauses (doubling) while it has not come
 * back: long enough for the checks of one restart to cross a slow,
 * queueing link before the next one starts over. */
#define RECOVER_MIN_MS 3000
#define RECOVER_MAX_MS 15000
/* Packets waiting for the context; beyond this the oldest are dropped
 * (the context is stalled and late media is useless). */
#define MAX_QUEUED 2000

typedef struct
{
  HqRoomTransportKind which;
  gboolean rtcp;
  gsize len;
  guint8 data[];
} Outgoing;

/* --- transports --- */

static void
on_local_candidate (HqTransport *t, const gchar *cand, HqRoomClient *c)
{
  JsonObject *m =
      hq_protocol_candidate_new (t == c->pub ? "publish" : "subscribe", cand);

  hq_room_client_ws_send (c, m);
  json_object_unref (m);
}

static void
on_gathering_done (HqTransport *t, HqRoomClient *c)
{
  JsonObject *m =
      hq_protocol_candidate_new (t == c->pub ? "publish" : "subscribe", NULL);

  hq_room_client_ws_send (c, m);
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
    JsonObject *m = hq_protocol_message_new (HQ_MESSAGE_ICE_RESTART,
        hq_protocol_message_name (HQ_MESSAGE_ICE_RESTART));
    json_object_set_string_member (m, "transport", "subscribe");
    hq_room_client_ws_send (c, m);
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
void
hq_room_client_media_lost (
    HqRoomClient *c, HqRoomTransportKind which, const gchar *why)
{
  if (c->media_lost[which] || !c->ever_connected[which])
    return;
  c->media_lost[which] = TRUE;
  GST_WARNING ("participant %s: %s media lost (%s): restarting ICE",
      c->participant_sid, transport_names[which], why);
  g_signal_emit (c, hq_room_client_signals[SIGNAL_MEDIA_CHANGED], 0,
      (gint)which, FALSE, why);
  c->recover_ms[which] = RECOVER_MIN_MS / 2;
  /* The first attempt right after this state change, not inside it. */
  schedule_recovery (c, which, 0);
}

void
hq_room_client_media_connected (HqRoomClient *c, HqRoomTransportKind which)
{
  c->ever_connected[which] = TRUE;
  stop_recovery (c, which);
  if (!c->media_lost[which])
    return;
  c->media_lost[which] = FALSE;
  GST_INFO ("participant %s: %s media restored", c->participant_sid,
      transport_names[which]);
  g_signal_emit (c, hq_room_client_signals[SIGNAL_MEDIA_CHANGED], 0,
      (gint)which, TRUE, NULL);
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
    hq_room_client_media_connected (c, which);
    g_signal_emit (
        c, hq_room_client_signals[SIGNAL_TRANSPORT_CONNECTED], 0, which);
  }
  if (state == HQ_TRANSPORT_STATE_FAILED
      && g_error_matches (
          error, HQ_TRANSPORT_ERROR, HQ_TRANSPORT_ERROR_CONSENT_LOST))
    hq_room_client_media_lost (c, which, error->message);
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

void
hq_room_client_drop_media (HqRoomClient *c)
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
  hq_room_client_forget_track_hints (c);
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
      /* simulcast: the server learns each layer's SSRC from its RID */
      .ssrc = lt->rids ? 0 : lt->ssrc,
      .rids = (const gchar *const *)lt->rids };
    JsonObject *o = json_object_new ();

    g_array_append_val (tracks, t);
    json_object_set_string_member (o, "mid", lt->mid);
    json_object_set_string_member (o, "track_sid", lt->sid);
    json_array_add_object_element (map, o);
  }
  if (c->pub == NULL && (c->pub = make_transport (c, TRUE, &error)) == NULL) {
    json_array_unref (map);
    hq_room_client_fail (c, HQ_ROOM_CLIENT_ERROR_MEDIA,
        "cannot make a transport: %s", error->message);
    return;
  }
  hq_transport_describe (c->pub, &local, &ufrag, &pwd, c->cname);
  local.setup = HQ_SDP_SETUP_ACTPASS;
  offer = hq_sdp_build_offer (&local, (const HqSdpTrack *)tracks->data,
      tracks->len, c->pub_answered ? c->pub_offer : NULL, &error);
  if (offer == NULL) {
    json_array_unref (map);
    hq_room_client_fail (c, HQ_ROOM_CLIENT_ERROR_MEDIA,
        "cannot build the publish offer: %s", error->message);
    return;
  }
  only_our_codecs (c, offer);
  text = hq_sdp_to_text (offer);
  hq_sdp_free (c->pub_offer);
  c->pub_offer = offer;
  m = hq_protocol_message_new (
      HQ_MESSAGE_PUBLISH_OFFER, HQ_ROOM_CLIENT_PUBLISH_ID);
  json_object_set_string_member (m, "sdp", text);
  json_object_set_array_member (m, "tracks", map);
  hq_room_client_ws_send (c, m);
  json_object_unref (m);
}

/* Publishes what has no sid yet; offers once every track has one. */
void
hq_room_client_publish_tracks (HqRoomClient *c)
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
    m = hq_protocol_message_new (HQ_MESSAGE_TRACK_PUBLISH, id);
    json_object_set_string_member (m, "name", t->name);
    json_object_set_string_member (m, "kind", hq_sdp_kind_to_string (t->kind));
    json_object_set_string_member (m, "priority", t->priority);
    hq_room_client_ws_send (c, m);
    json_object_unref (m);
    g_free (t->server_priority);
    t->server_priority = g_strdup (t->priority);
    t->publishing = TRUE;
  }
  if (all && c->local->len > 0)
    send_publish_offer (c);
}

void
hq_room_client_on_track_published (
    HqRoomClient *c, const gchar *id, JsonObject *msg)
{
  const gchar *sid = hq_room_client_str_member (
      hq_room_client_obj_member (msg, "track"), "sid");

  for (guint i = 0; sid && i < c->local->len; i++) {
    LocalTrack *t = g_ptr_array_index (c->local, i);
    if (g_str_equal (id + strlen ("track:"), t->name)) {
      g_free (t->sid);
      t->sid = g_strdup (sid);
      t->publishing = FALSE;
      /* It may have changed while track_publish was on its way. */
      hq_room_client_sync_priority (c, t);
    }
  }
  hq_room_client_publish_tracks (c);
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

void
hq_room_client_on_publish_answer (HqRoomClient *c, JsonObject *msg)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (HqSdp) answer = NULL;
  const gchar *text = hq_room_client_str_member (msg, "sdp");

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
    hq_room_client_fail (c, HQ_ROOM_CLIENT_ERROR_MEDIA,
        "cannot use the publish answer: %s", error->message);
    return;
  }
  c->pub_answered = TRUE;
}

/* Tells the server a published track's priority when it does not know
 * it yet; the others get track_priority_changed.  A track not published
 * yet carries it in its track_publish. */
void
hq_room_client_sync_priority (HqRoomClient *c, LocalTrack *t)
{
  g_autofree gchar *id = NULL;
  JsonObject *m;

  if (t->sid == NULL || !c->joined
      || g_strcmp0 (t->server_priority, t->priority) == 0)
    return;
  id = g_strconcat ("priority:", t->name, NULL);
  m = hq_protocol_message_new (HQ_MESSAGE_TRACK_UPDATE, id);
  json_object_set_string_member (m, "track_sid", t->sid);
  json_object_set_string_member (m, "priority", t->priority);
  hq_room_client_ws_send (c, m);
  json_object_unref (m);
  g_free (t->server_priority);
  t->server_priority = g_strdup (t->priority);
}

/* Tells a joined server the rules in effect. */
void
hq_room_client_send_subscribe_rules (HqRoomClient *c)
{
  JsonObject *m = hq_protocol_message_new (HQ_MESSAGE_SUBSCRIBE_RULES,
      hq_protocol_message_name (HQ_MESSAGE_SUBSCRIBE_RULES));

  json_object_set_member (
      m, "rules", json_from_string (c->subscribe_rules, NULL));
  hq_room_client_ws_send (c, m);
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
    hq_protocol_rule_add (
        json_node_get_array (node), HQ_RULE_INCLUDE, HQ_RULE_FILTER_ALL, NULL);
  } else {
    return; /* never said otherwise: the server's default holds */
  }
  g_free (c->subscribe_rules);
  c->subscribe_rules = json_to_string (node, FALSE);
  /* Between a join leaving and its answer, the join carried the old
   * rules: on_joined says the new ones. */
  c->rules_unsaid = TRUE;
  if (c->joined)
    hq_room_client_send_subscribe_rules (c);
}

static void
copy_layers (LocalTrack *t, const HqRoomLocalTrack *from)
{
  if (from->n_layers == 0 || from->layers == NULL)
    return;
  t->rids = g_new0 (gchar *, from->n_layers + 1);
  t->layer_ssrcs = g_new0 (guint32, from->n_layers);
  for (guint i = 0; i < from->n_layers; i++) {
    t->rids[i] = g_strdup (from->layers[i].rid);
    t->layer_ssrcs[i] = from->layers[i].ssrc;
  }
}

/* Whether @a and @b send the same simulcast layers with the same SSRCs. */
static gboolean
same_layers (const LocalTrack *a, const LocalTrack *b)
{
  guint n = a->rids ? g_strv_length (a->rids) : 0;

  if (n != (b->rids ? g_strv_length (b->rids) : 0))
    return FALSE;
  for (guint i = 0; i < n; i++)
    if (g_strcmp0 (a->rids[i], b->rids[i]) != 0
        || a->layer_ssrcs[i] != b->layer_ssrcs[i])
      return FALSE;
  return TRUE;
}

void
hq_room_client_set_publish_tracks (
    HqRoomClient *c, const HqRoomLocalTrack *tracks, guint n_tracks)
{
  g_autoptr (GPtrArray) old = c->local;
  gboolean changed = old->len != n_tracks;

  c->local = g_ptr_array_new_with_free_func (
      (GDestroyNotify)hq_room_client_local_track_free);
  for (guint i = 0; i < n_tracks; i++) {
    LocalTrack *t = g_new0 (LocalTrack, 1);

    t->name = g_strdup (tracks[i].name);
    t->kind = tracks[i].kind;
    t->ssrc = tracks[i].ssrc;
    t->codec = g_strdup (tracks[i].codec);
    t->priority = g_strdup (tracks[i].priority
            ? tracks[i].priority
            : hq_protocol_priority_name (HQ_PRIORITY_STANDARD));
    copy_layers (t, &tracks[i]);
    /* A track we had keeps its sid and mid. */
    for (guint j = 0; j < old->len; j++) {
      LocalTrack *o = g_ptr_array_index (old, j);
      if (g_str_equal (o->name, t->name) && o->kind == t->kind) {
        t->sid = g_steal_pointer (&o->sid);
        t->mid = g_steal_pointer (&o->mid);
        t->server_priority = g_steal_pointer (&o->server_priority);
        t->publishing = o->publishing;
        changed |= o->ssrc != t->ssrc || g_strcmp0 (o->codec, t->codec) != 0
            || !same_layers (o, t);
      }
    }
    hq_room_client_sync_priority (c, t);
    if (tracks[i].mid && g_strcmp0 (tracks[i].mid, t->mid) != 0) {
      changed = TRUE;
      g_free (t->mid);
      t->mid = g_strdup (tracks[i].mid);
    }
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
    m = hq_protocol_message_new (HQ_MESSAGE_TRACK_UNPUBLISH, NULL);
    json_object_set_string_member (m, "track_sid", o->sid);
    hq_room_client_ws_send (c, m);
    json_object_unref (m);
  }
  if (changed)
    hq_room_client_publish_tracks (c);
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
  t->track_sid = g_strdup (hq_room_client_str_member (desc, "track_sid"));
  t->name = g_strdup (hq_room_client_str_member (desc, "name"));
  t->participant_sid =
      g_strdup (hq_room_client_str_member (desc, "participant_sid"));
  t->identity = g_strdup (hq_room_client_str_member (desc, "identity"));
  t->priority = g_strdup (hq_room_client_str_member (desc, "priority")
          ? hq_room_client_str_member (desc, "priority")
          : hq_protocol_priority_name (HQ_PRIORITY_STANDARD));
  t->codecs =
      g_ptr_array_new_with_free_func ((GDestroyNotify)hq_sdp_codec_free);
  for (guint i = 0; i < m->codecs->len; i++)
    g_ptr_array_add (
        t->codecs, hq_sdp_codec_copy (g_ptr_array_index (m->codecs, i)));
  return t;
}

/* Another participant's track has a new priority. */
void
hq_room_client_on_priority_changed (HqRoomClient *c, JsonObject *msg)
{
  JsonObject *track = hq_room_client_obj_member (msg, "track");
  const gchar *sid = hq_room_client_str_member (track, "sid");
  const gchar *priority = hq_room_client_str_member (track, "priority");

  for (guint i = 0; sid && priority && i < c->remote->len; i++) {
    HqRoomRemoteTrack *t = g_ptr_array_index (c->remote, i);
    if (g_strcmp0 (t->track_sid, sid) == 0) {
      g_free (t->priority);
      t->priority = g_strdup (priority);
    }
  }
}

void
hq_room_client_on_subscribe_offer (HqRoomClient *c, JsonObject *msg)
{
  g_autoptr (GError) error = NULL;
  g_autofree gchar *ufrag = NULL, *pwd = NULL, *text = NULL;
  const gchar *sdp = hq_room_client_str_member (msg, "sdp");
  g_autoptr (HqSdp) offer = NULL;
  g_autoptr (HqSdp) answer = NULL;
  g_autoptr (GArray) want = g_array_new (FALSE, TRUE, sizeof (HqSdpTrack));
  JsonArray *described = hq_room_client_array_member (msg, "tracks");
  gboolean first = c->sub == NULL, restart;
  gint64 revision = 0;
  HqSdpLocal local;
  JsonObject *m;

  offer = hq_sdp_parse (HQ_SDP_OFFER, sdp ? sdp : "", -1, &error);
  if (offer == NULL) {
    hq_room_client_fail (c, HQ_ROOM_CLIENT_ERROR_MEDIA,
        "cannot read the subscribe offer: %s", error->message);
    return;
  }
  if (first && (c->sub = make_transport (c, FALSE, &error)) == NULL) {
    hq_room_client_fail (c, HQ_ROOM_CLIENT_ERROR_MEDIA,
        "cannot make a transport: %s", error->message);
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
    hq_room_client_fail (c, HQ_ROOM_CLIENT_ERROR_MEDIA,
        "cannot answer the subscribe offer: %s", error->message);
    return;
  }
  text = hq_sdp_to_text (answer);
  m = hq_protocol_message_new (HQ_MESSAGE_SUBSCRIBE_ANSWER, NULL);
  json_object_set_string_member (m, "sdp", text);
  hq_protocol_read_int (msg, "revision", &revision, NULL);
  json_object_set_int_member (m, "revision", revision);
  hq_room_client_ws_send (c, m);
  json_object_unref (m);
  if (first)
    hq_transport_gather (c->sub, NULL);

  g_ptr_array_set_size (c->remote, 0);
  for (guint i = 0; described && i < json_array_get_length (described); i++) {
    JsonNode *n = json_array_get_element (described, i);
    JsonObject *desc =
        JSON_NODE_HOLDS_OBJECT (n) ? json_node_get_object (n) : NULL;
    const gchar *mid = hq_room_client_str_member (desc, "mid");
    const HqSdpMedia *om = mid ? hq_sdp_find_media (offer, mid) : NULL;

    if (om && hq_sdp_media_is_active (om)
        && (om->kind == HQ_SDP_KIND_AUDIO || om->kind == HQ_SDP_KIND_VIDEO))
      g_ptr_array_add (c->remote, remote_track_new (om, desc));
  }
  hq_room_client_send_track_hints (c);
  g_signal_emit (
      c, hq_room_client_signals[SIGNAL_TRACKS_CHANGED], 0, c->remote);
}

void
hq_room_client_on_candidate (
    HqRoomClient *c, HqMessageType type, JsonObject *msg)
{
  const gchar *which = hq_room_client_str_member (msg, "transport");
  HqTransport *t = g_strcmp0 (which, "publish") == 0 ? c->pub
      : g_strcmp0 (which, "subscribe") == 0          ? c->sub
                                                     : NULL;
  const gchar *cand = hq_room_client_str_member (msg, "candidate");

  if (t == NULL)
    return;
  if (type == HQ_MESSAGE_END_OF_CANDIDATES)
    hq_transport_end_of_remote_candidates (t);
  else if (cand)
    hq_transport_add_remote_candidate (t, cand, NULL);
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
  JsonObject *m = hq_protocol_message_new (HQ_MESSAGE_CHAT_SEND, "chat");

  json_object_set_string_member (m, "body", chat->body);
  hq_room_client_ws_send (chat->c, m);
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
  hq_room_client_ws_send (c, msg);
}
