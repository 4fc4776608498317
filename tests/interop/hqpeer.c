/* hq-peer: a WebRTC endpoint built on the libhq transport and SDP layer,
 * for interop tests against independent implementations (Chromium,
 * webrtcbin).  It receives Opus and VP8, checking every packet it can, and
 * sends VP8 made by a GStreamer pipeline (videotestsrc ! vp8enc !
 * rtpvp8pay) back.
 *
 * Signalling is one JSON object per line on stdin and stdout:
 *   in:  {"type":"offer"|"answer","sdp":"..."}
 *        {"type":"candidate","candidate":"candidate:..."}
 *        {"type":"end-of-candidates"}
 *        {"type":"stats"}            -> answers with a "stats" line
 *        {"type":"bye"}              -> exits 0
 *   out: {"type":"offer"|"answer","sdp":"..."}, {"type":"candidate",...},
 *        {"type":"end-of-candidates"}, {"type":"connected","profile":...},
 *        {"type":"stats",...}, {"type":"error","message":"..."}
 *
 *   hq-peer [--offer]    with --offer it makes the offer (audio recvonly,
 *                        video sendrecv), else it answers one.
 */
#include <stdio.h>
#include <string.h>
#include <gio/gio.h>
#include <gio/gunixinputstream.h>
#include <gst/gst.h>
#include <gst/app/gstappsink.h>
#include <json-glib/json-glib.h>
#include <hq/hqsdp.h>
#include <hq/hqtransport.h>
#include <hq/hqrtp.h>

#define OUR_VIDEO_SSRC 0x48510001u
#define OUR_VIDEO_RTX_SSRC 0x48510002u

typedef struct
{
  GMainLoop *loop;
  gboolean offerer;
  HqTransport *transport;
  HqSdp *local;
  HqSdp *remote;
  GstElement *pipeline;
  GDataInputStream *in;
  gint vp8_pt; /* what we send with */

  /* what we received */
  guint64 opus_packets, opus_bytes;
  guint64 vp8_packets, vp8_keyframes, vp8_frames, vp8_bad;
  guint64 other_packets, rtcp_packets;
  guint64 vp8_sent;
} Peer;

/* --- output --- */

static void
emit (JsonBuilder *b)
{
  g_autoptr (JsonNode) root = json_builder_get_root (b);
  g_autofree gchar *text = json_to_string (root, FALSE);

  printf ("%s\n", text);
  fflush (stdout);
}

static void
emit_simple (const gchar *type, const gchar *key, const gchar *value)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "type");
  json_builder_add_string_value (b, type);
  if (key) {
    json_builder_set_member_name (b, key);
    json_builder_add_string_value (b, value);
  }
  json_builder_end_object (b);
  emit (b);
}

static void
die (Peer *p, const gchar *what, const GError *error)
{
  g_autofree gchar *msg =
      g_strdup_printf ("%s: %s", what, error ? error->message : "failed");

  emit_simple ("error", "message", msg);
  g_main_loop_quit (p->loop);
}

static void
emit_stats (Peer *p)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  HqTransportStats s;

  hq_transport_get_stats (p->transport, &s);
  json_builder_begin_object (b);
#define MEMBER(name, value)                                                    \
  json_builder_set_member_name (b, name);                                      \
  json_builder_add_int_value (b, (gint64)(value))
  json_builder_set_member_name (b, "type");
  json_builder_add_string_value (b, "stats");
  MEMBER ("opus_packets", p->opus_packets);
  MEMBER ("opus_bytes", p->opus_bytes);
  MEMBER ("vp8_packets", p->vp8_packets);
  MEMBER ("vp8_frames", p->vp8_frames);
  MEMBER ("vp8_keyframes", p->vp8_keyframes);
  MEMBER ("vp8_bad", p->vp8_bad);
  MEMBER ("other_packets", p->other_packets);
  MEMBER ("rtcp_packets", p->rtcp_packets);
  MEMBER ("vp8_sent", p->vp8_sent);
  MEMBER ("dropped_auth", s.dropped_auth);
  MEMBER ("dropped_garbage", s.dropped_garbage);
#undef MEMBER
  json_builder_end_object (b);
  emit (b);
}

/* --- receiving --- */

/* The media whose codec list has payload type @pt. */
static const HqSdpCodec *
find_codec (Peer *p, guint pt)
{
  const HqSdp *sdp = p->offerer ? p->local : p->remote;

  for (guint i = 0; sdp && i < sdp->media->len; i++) {
    const HqSdpCodec *c =
        hq_sdp_media_find_codec (g_ptr_array_index (sdp->media, i), pt);
    if (c)
      return c;
  }
  return NULL;
}

static void
on_media (gboolean rtcp, guint8 *data, gsize len, gpointer user_data)
{
  Peer *p = user_data;
  HqRtpHeader h;
  const HqSdpCodec *codec;
  gboolean start = FALSE, key = FALSE;

  if (rtcp) {
    p->rtcp_packets++;
    return;
  }
  if (!hq_rtp_parse (data, len, &h, NULL)) {
    p->other_packets++;
    return;
  }
  codec = find_codec (p, h.payload_type);
  if (codec && g_ascii_strcasecmp (codec->name, "opus") == 0) {
    p->opus_packets++;
    p->opus_bytes += h.payload_len;
  } else if (codec && g_ascii_strcasecmp (codec->name, "VP8") == 0) {
    p->vp8_packets++;
    if (!hq_rtp_vp8_parse (
            data + h.payload_offset, h.payload_len, &start, &key))
      p->vp8_bad++;
    p->vp8_frames += start;
    p->vp8_keyframes += key;
  } else {
    p->other_packets++;
  }
}

/* --- sending VP8 --- */

typedef struct
{
  Peer *p;
  GBytes *packet;
} Outgoing;

static gboolean
send_on_context (gpointer data)
{
  Outgoing *o = data;
  gsize len;
  const guint8 *src = g_bytes_get_data (o->packet, &len);
  guint8 buf[1500 + HQ_SRTP_MAX_TRAILER];

  if (len <= 1500
      && hq_transport_get_state (o->p->transport)
          == HQ_TRANSPORT_STATE_CONNECTED) {
    memcpy (buf, src, len);
    if (hq_transport_send_rtp (o->p->transport, buf, len, sizeof buf, NULL))
      o->p->vp8_sent++;
  }
  g_bytes_unref (o->packet);
  g_free (o);
  return G_SOURCE_REMOVE;
}

static GstFlowReturn
on_sample (GstAppSink *sink, gpointer user_data)
{
  Peer *p = user_data;
  g_autoptr (GstSample) sample = gst_app_sink_pull_sample (sink);
  GstBuffer *buf = gst_sample_get_buffer (sample);
  GstMapInfo map;
  Outgoing *o;

  if (!gst_buffer_map (buf, &map, GST_MAP_READ))
    return GST_FLOW_ERROR;
  o = g_new (Outgoing, 1);
  o->p = p;
  o->packet = g_bytes_new (map.data, map.size);
  gst_buffer_unmap (buf, &map);
  /* The transport belongs to the main context: hand the packet over. */
  g_main_context_invoke (NULL, send_on_context, o);
  return GST_FLOW_OK;
}

static void
start_sending (Peer *p)
{
  g_autoptr (GError) error = NULL;
  g_autofree gchar *desc = NULL;
  GstElement *sink;

  if (p->pipeline || p->vp8_pt < 0)
    return;
  desc = g_strdup_printf (
      "videotestsrc is-live=true pattern=ball ! "
      "video/x-raw,width=320,height=240,framerate=30/1 ! "
      "vp8enc deadline=1 keyframe-max-dist=30 target-bitrate=300000 ! "
      "rtpvp8pay pt=%d ssrc=%u mtu=1100 picture-id-mode=15-bit ! "
      "appsink name=out sync=false",
      p->vp8_pt, OUR_VIDEO_SSRC);
  p->pipeline = gst_parse_launch (desc, &error);
  if (p->pipeline == NULL) {
    die (p, "cannot make the VP8 pipeline", error);
    return;
  }
  sink = gst_bin_get_by_name (GST_BIN (p->pipeline), "out");
  gst_app_sink_set_callbacks (GST_APP_SINK (sink),
      &(GstAppSinkCallbacks){ .new_sample = on_sample }, p, NULL);
  gst_object_unref (sink);
  gst_element_set_state (p->pipeline, GST_STATE_PLAYING);
}

/* --- transport --- */

static void
on_state (HqTransport *t, gint state, Peer *p)
{
  if (state == HQ_TRANSPORT_STATE_CONNECTED) {
    emit_simple ("connected", "profile",
        hq_srtp_profile_name (hq_transport_get_srtp_profile (t)));
    start_sending (p);
  } else if (state == HQ_TRANSPORT_STATE_FAILED) {
    die (p, "transport failed", hq_transport_get_error (t));
  }
}

static void
on_local_candidate (HqTransport *t, const gchar *cand, Peer *p)
{
  emit_simple ("candidate", "candidate", cand);
}

static void
on_gathered (HqTransport *t, Peer *p)
{
  emit_simple ("end-of-candidates", NULL, NULL);
}

static gint
vp8_pt_of (const HqSdp *sdp)
{
  for (guint i = 0; i < sdp->media->len; i++) {
    const HqSdpMedia *m = g_ptr_array_index (sdp->media, i);
    const HqSdpCodec *c = hq_sdp_media_find_codec_by_name (m, "VP8");
    if (c && hq_sdp_media_is_active (m))
      return (gint)c->pt;
  }
  return -1;
}

static void
make_offer (Peer *p)
{
  g_autoptr (GError) error = NULL;
  g_autofree gchar *ufrag = NULL, *pwd = NULL, *text = NULL;
  HqSdpLocal local;
  HqSdpTrack tracks[] = {
    { .kind = HQ_SDP_KIND_AUDIO, .direction = HQ_SDP_RECVONLY },
    { .kind = HQ_SDP_KIND_VIDEO,
        .direction = HQ_SDP_SENDRECV,
        .stream_id = "hq",
        .track_id = "hq-video",
        .ssrc = OUR_VIDEO_SSRC,
        .rtx_ssrc = OUR_VIDEO_RTX_SSRC },
  };

  hq_transport_describe (p->transport, &local, &ufrag, &pwd, "hq-peer");
  p->local =
      hq_sdp_build_offer (&local, tracks, G_N_ELEMENTS (tracks), NULL, &error);
  if (p->local == NULL) {
    die (p, "cannot build the offer", error);
    return;
  }
  p->vp8_pt = vp8_pt_of (p->local);
  text = hq_sdp_to_text (p->local);
  emit_simple ("offer", "sdp", text);
  hq_transport_gather (p->transport, NULL);
}

static void
take_offer (Peer *p, const gchar *sdp_text)
{
  g_autoptr (GError) error = NULL;
  g_autofree gchar *ufrag = NULL, *pwd = NULL, *text = NULL;
  g_autoptr (GArray) tracks = g_array_new (FALSE, TRUE, sizeof (HqSdpTrack));
  gboolean sending_video = FALSE;
  HqSdpLocal local;

  p->remote = hq_sdp_parse (HQ_SDP_OFFER, sdp_text, -1, &error);
  if (p->remote == NULL) {
    die (p, "cannot parse the offer", error);
    return;
  }
  /* Send VP8 on the first video m-line; only receive elsewhere. */
  for (guint i = 0; i < p->remote->media->len; i++) {
    const HqSdpMedia *m = g_ptr_array_index (p->remote->media, i);
    HqSdpTrack t = {
      .kind = m->kind, .mid = m->mid, .direction = HQ_SDP_RECVONLY
    };
    if (m->kind == HQ_SDP_KIND_VIDEO && !sending_video) {
      sending_video = TRUE;
      t.direction = HQ_SDP_SENDRECV;
      t.stream_id = "hq";
      t.track_id = "hq-video";
      t.ssrc = OUR_VIDEO_SSRC;
      t.rtx_ssrc = OUR_VIDEO_RTX_SSRC;
    }
    g_array_append_val (tracks, t);
  }
  hq_transport_describe (p->transport, &local, &ufrag, &pwd, "hq-peer");
  p->local = hq_sdp_build_answer (
      p->remote, &local, (HqSdpTrack *)tracks->data, tracks->len, &error);
  if (p->local == NULL
      || !hq_transport_set_remote_description (
          p->transport, p->remote, &error)) {
    die (p, "cannot answer the offer", error);
    return;
  }
  p->vp8_pt = vp8_pt_of (p->local);
  text = hq_sdp_to_text (p->local);
  emit_simple ("answer", "sdp", text);
  hq_transport_gather (p->transport, NULL);
}

static void
take_answer (Peer *p, const gchar *sdp_text)
{
  g_autoptr (GError) error = NULL;

  p->remote = hq_sdp_parse (HQ_SDP_ANSWER, sdp_text, -1, &error);
  if (p->remote == NULL
      || !hq_transport_set_remote_description (p->transport, p->remote, &error))
    die (p, "cannot use the answer", error);
}

/* --- stdin --- */

static void read_next (Peer *p);

static void
on_line (GObject *src, GAsyncResult *res, gpointer user_data)
{
  Peer *p = user_data;
  g_autoptr (GError) error = NULL;
  g_autofree gchar *line =
      g_data_input_stream_read_line_finish (p->in, res, NULL, &error);
  g_autoptr (JsonParser) parser = json_parser_new ();
  JsonObject *msg;
  const gchar *type;

  if (line == NULL) {
    g_main_loop_quit (p->loop);
    return;
  }
  if (!json_parser_load_from_data (parser, line, -1, &error)
      || !JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser))) {
    emit_simple ("error", "message", "input is not a JSON object");
    read_next (p);
    return;
  }
  msg = json_node_get_object (json_parser_get_root (parser));
  type = json_object_get_string_member_with_default (msg, "type", "");
  if (strcmp (type, "offer") == 0)
    take_offer (p, json_object_get_string_member_with_default (msg, "sdp", ""));
  else if (strcmp (type, "answer") == 0)
    take_answer (
        p, json_object_get_string_member_with_default (msg, "sdp", ""));
  else if (strcmp (type, "candidate") == 0) {
    const gchar *c =
        json_object_get_string_member_with_default (msg, "candidate", "");
    if (*c)
      hq_transport_add_remote_candidate (p->transport, c, NULL);
  } else if (strcmp (type, "end-of-candidates") == 0)
    hq_transport_end_of_remote_candidates (p->transport);
  else if (strcmp (type, "stats") == 0)
    emit_stats (p);
  else if (strcmp (type, "bye") == 0) {
    g_main_loop_quit (p->loop);
    return;
  }
  read_next (p);
}

static void
read_next (Peer *p)
{
  g_data_input_stream_read_line_async (
      p->in, G_PRIORITY_DEFAULT, NULL, on_line, p);
}

int
main (int argc, char **argv)
{
  Peer p = { .vp8_pt = -1 };
  HqTransportConfig config;
  g_autoptr (GError) error = NULL;
  g_autoptr (GInputStream) stdin_stream = NULL;

  gst_init (&argc, &argv);
  p.offerer = argc > 1 && strcmp (argv[1], "--offer") == 0;
  p.loop = g_main_loop_new (NULL, FALSE);

  hq_transport_config_init (&config);
  /* The offerer controls ICE (RFC 8445); as answerer we are DTLS server. */
  config.controlling = p.offerer;
  config.dtls_role = HQ_DTLS_ROLE_SERVER;
  p.transport = hq_transport_new (&config, &error);
  if (p.transport == NULL) {
    fprintf (stderr, "hq-peer: %s\n", error->message);
    return 1;
  }
  g_signal_connect (p.transport, "state-changed", G_CALLBACK (on_state), &p);
  g_signal_connect (
      p.transport, "local-candidate", G_CALLBACK (on_local_candidate), &p);
  g_signal_connect (
      p.transport, "gathering-done", G_CALLBACK (on_gathered), &p);
  hq_transport_set_receive_func (p.transport, on_media, &p, NULL);

  stdin_stream = g_unix_input_stream_new (0, FALSE);
  p.in = g_data_input_stream_new (stdin_stream);
  read_next (&p);
  if (p.offerer)
    make_offer (&p);
  g_main_loop_run (p.loop);

  if (p.pipeline) {
    gst_element_set_state (p.pipeline, GST_STATE_NULL);
    gst_object_unref (p.pipeline);
  }
  g_object_unref (p.in);
  g_object_unref (p.transport);
  hq_sdp_free (p.local);
  hq_sdp_free (p.remote);
  g_main_loop_unref (p.loop);
  return 0;
}
