/* gst-peer: GStreamer's webrtcbin as an independent WebRTC peer for interop
 * tests, speaking the same one-JSON-object-per-line signalling as hq-peer
 * (see hqpeer.c).  It sends VP8 (videotestsrc) and Opus (audiotestsrc),
 * and decodes whatever video and audio arrives, counting decoded frames and
 * audio buffers for the "stats" answer.
 *
 *   gst-peer [--offer]
 */
#include <stdio.h>
#include <string.h>
#include <gio/gio.h>
#include <gio/gunixinputstream.h>
#include <gst/gst.h>
#include <gst/sdp/sdp.h>
#include <json-glib/json-glib.h>
#include <gst/webrtc/webrtc.h>
#include <nice/agent.h>

typedef struct
{
  GMainLoop *loop;
  gboolean offerer;
  GstElement *pipeline;
  GstElement *webrtc;
  GDataInputStream *in;
  gint video_frames; /* atomic: counted on streaming threads */
  gint audio_buffers;
  gboolean connected;
} Peer;

static void
emit_pairs (const gchar *type, const gchar *key, const gchar *value)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autoptr (JsonNode) root = NULL;
  g_autofree gchar *text = NULL;

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "type");
  json_builder_add_string_value (b, type);
  if (key) {
    json_builder_set_member_name (b, key);
    json_builder_add_string_value (b, value);
  }
  json_builder_end_object (b);
  root = json_builder_get_root (b);
  text = json_to_string (root, FALSE);
  printf ("%s\n", text);
  fflush (stdout);
}

static void
emit_stats (Peer *p)
{
  printf ("{\"type\":\"stats\",\"video_frames_decoded\":%d,"
          "\"audio_buffers_decoded\":%d}\n",
      g_atomic_int_get (&p->video_frames),
      g_atomic_int_get (&p->audio_buffers));
  fflush (stdout);
}

/* --- incoming media --- */

static GstPadProbeReturn
count_buffer (GstPad *pad, GstPadProbeInfo *info, gpointer user_data)
{
  g_atomic_int_inc ((gint *)user_data);
  return GST_PAD_PROBE_OK;
}

static void
on_decoded_pad (GstElement *decodebin, GstPad *pad, Peer *p)
{
  g_autoptr (GstCaps) caps = gst_pad_get_current_caps (pad);
  const gchar *name = gst_structure_get_name (gst_caps_get_structure (caps, 0));
  GstElement *sink = gst_element_factory_make ("fakesink", NULL);
  g_autoptr (GstPad) sinkpad = NULL;

  g_object_set (sink, "sync", FALSE, "async", FALSE, NULL);
  gst_bin_add (GST_BIN (p->pipeline), sink);
  gst_element_sync_state_with_parent (sink);
  sinkpad = gst_element_get_static_pad (sink, "sink");
  gst_pad_link (pad, sinkpad);
  gst_pad_add_probe (sinkpad, GST_PAD_PROBE_TYPE_BUFFER, count_buffer,
      g_str_has_prefix (name, "video/") ? &p->video_frames : &p->audio_buffers,
      NULL);
}

static void
on_incoming_stream (GstElement *webrtc, GstPad *pad, Peer *p)
{
  GstElement *decodebin;
  g_autoptr (GstPad) sinkpad = NULL;

  if (GST_PAD_DIRECTION (pad) != GST_PAD_SRC)
    return;
  decodebin = gst_element_factory_make ("decodebin", NULL);
  g_signal_connect (decodebin, "pad-added", G_CALLBACK (on_decoded_pad), p);
  gst_bin_add (GST_BIN (p->pipeline), decodebin);
  gst_element_sync_state_with_parent (decodebin);
  sinkpad = gst_element_get_static_pad (decodebin, "sink");
  gst_pad_link (pad, sinkpad);
}

/* --- negotiation --- */

static void
send_description (Peer *p, GstWebRTCSessionDescription *desc)
{
  g_autofree gchar *text = gst_sdp_message_as_text (desc->sdp);

  emit_pairs (desc->type == GST_WEBRTC_SDP_TYPE_OFFER ? "offer" : "answer",
      "sdp", text);
}

static void
on_description_created (GstPromise *promise, gpointer user_data)
{
  Peer *p = user_data;
  const GstStructure *reply = gst_promise_get_reply (promise);
  GstWebRTCSessionDescription *desc = NULL;

  gst_structure_get (reply, p->offerer ? "offer" : "answer",
      GST_TYPE_WEBRTC_SESSION_DESCRIPTION, &desc, NULL);
  gst_promise_unref (promise);
  if (desc == NULL) {
    emit_pairs ("error", "message", "webrtcbin made no description");
    return;
  }
  g_signal_emit_by_name (p->webrtc, "set-local-description", desc, NULL);
  send_description (p, desc);
  gst_webrtc_session_description_free (desc);
}

static void
on_negotiation_needed (GstElement *webrtc, Peer *p)
{
  if (!p->offerer)
    return;
  g_signal_emit_by_name (webrtc, "create-offer", NULL,
      gst_promise_new_with_change_func (on_description_created, p, NULL));
}

static void
on_ice_candidate (
    GstElement *webrtc, guint mline, const gchar *candidate, Peer *p)
{
  emit_pairs ("candidate", "candidate", candidate);
}

static void
on_ice_state (GstElement *webrtc, GParamSpec *pspec, Peer *p)
{
  GstWebRTCICEConnectionState state;

  g_object_get (webrtc, "ice-connection-state", &state, NULL);
  if (!p->connected
      && (state == GST_WEBRTC_ICE_CONNECTION_STATE_CONNECTED
          || state == GST_WEBRTC_ICE_CONNECTION_STATE_COMPLETED)) {
    p->connected = TRUE;
    emit_pairs ("connected", "profile", "webrtcbin");
  }
}

static void
on_remote_set (GstPromise *promise, gpointer user_data)
{
  Peer *p = user_data;

  gst_promise_unref (promise);
  if (!p->offerer)
    g_signal_emit_by_name (p->webrtc, "create-answer", NULL,
        gst_promise_new_with_change_func (on_description_created, p, NULL));
}

static void
take_remote (Peer *p, GstWebRTCSDPType type, const gchar *text)
{
  GstSDPMessage *sdp;
  GstWebRTCSessionDescription *desc;

  gst_sdp_message_new_from_text (text, &sdp);
  desc = gst_webrtc_session_description_new (type, sdp);
  g_signal_emit_by_name (p->webrtc, "set-remote-description", desc,
      gst_promise_new_with_change_func (on_remote_set, p, NULL));
  gst_webrtc_session_description_free (desc);
}

/* --- stdin --- */

static void read_next (Peer *p);

static void
on_line (GObject *src, GAsyncResult *res, gpointer user_data)
{
  Peer *p = user_data;
  g_autofree gchar *line =
      g_data_input_stream_read_line_finish (p->in, res, NULL, NULL);
  g_autoptr (JsonParser) parser = json_parser_new ();
  JsonObject *msg;
  const gchar *type;

  if (line == NULL) {
    g_main_loop_quit (p->loop);
    return;
  }
  if (!json_parser_load_from_data (parser, line, -1, NULL)
      || !JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser))) {
    read_next (p);
    return;
  }
  msg = json_node_get_object (json_parser_get_root (parser));
  type = json_object_get_string_member_with_default (msg, "type", "");
  if (strcmp (type, "offer") == 0)
    take_remote (p, GST_WEBRTC_SDP_TYPE_OFFER,
        json_object_get_string_member_with_default (msg, "sdp", ""));
  else if (strcmp (type, "answer") == 0)
    take_remote (p, GST_WEBRTC_SDP_TYPE_ANSWER,
        json_object_get_string_member_with_default (msg, "sdp", ""));
  else if (strcmp (type, "candidate") == 0)
    g_signal_emit_by_name (p->webrtc, "add-ice-candidate", 0,
        json_object_get_string_member_with_default (msg, "candidate", ""));
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

static gboolean
on_bus (GstBus *bus, GstMessage *msg, gpointer user_data)
{
  Peer *p = user_data;

  if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ERROR) {
    g_autoptr (GError) error = NULL;
    gst_message_parse_error (msg, &error, NULL);
    emit_pairs ("error", "message", error->message);
    g_main_loop_quit (p->loop);
  }
  return G_SOURCE_CONTINUE;
}

int
main (int argc, char **argv)
{
  Peer p = { 0 };
  g_autoptr (GError) error = NULL;
  g_autoptr (GInputStream) stdin_stream = NULL;
  GstElement *ice = NULL;
  NiceAgent *agent = NULL;
  NiceAddress lo;
  GstBus *bus;

  gst_init (&argc, &argv);
  p.offerer = argc > 1 && strcmp (argv[1], "--offer") == 0;
  p.loop = g_main_loop_new (NULL, FALSE);
  p.pipeline = gst_parse_launch (
      "webrtcbin name=w bundle-policy=max-bundle "
      "videotestsrc is-live=true pattern=smpte ! "
      "video/x-raw,width=320,height=240,framerate=30/1 ! "
      "vp8enc deadline=1 keyframe-max-dist=30 ! rtpvp8pay pt=96 ! "
      "application/x-rtp,media=video,encoding-name=VP8,payload=96 ! w. "
      "audiotestsrc is-live=true wave=sine ! opusenc ! rtpopuspay pt=111 ! "
      "application/x-rtp,media=audio,encoding-name=OPUS,payload=111 ! w.",
      &error);
  if (p.pipeline == NULL) {
    emit_pairs ("error", "message", error->message);
    return 1;
  }
  p.webrtc = gst_bin_get_by_name (GST_BIN (p.pipeline), "w");
  /* libnice never gathers loopback by itself. */
  g_object_get (p.webrtc, "ice-agent", &ice, NULL);
  g_object_get (ice, "agent", &agent, NULL);
  nice_address_set_from_string (&lo, "127.0.0.1");
  nice_agent_add_local_address (agent, &lo);
  g_object_unref (agent);
  gst_object_unref (ice);

  g_signal_connect (p.webrtc, "on-negotiation-needed",
      G_CALLBACK (on_negotiation_needed), &p);
  g_signal_connect (
      p.webrtc, "on-ice-candidate", G_CALLBACK (on_ice_candidate), &p);
  g_signal_connect (p.webrtc, "pad-added", G_CALLBACK (on_incoming_stream), &p);
  g_signal_connect (
      p.webrtc, "notify::ice-connection-state", G_CALLBACK (on_ice_state), &p);
  bus = gst_element_get_bus (p.pipeline);
  gst_bus_add_watch (bus, on_bus, &p);
  gst_object_unref (bus);

  stdin_stream = g_unix_input_stream_new (0, FALSE);
  p.in = g_data_input_stream_new (stdin_stream);
  read_next (&p);
  gst_element_set_state (p.pipeline, GST_STATE_PLAYING);
  g_main_loop_run (p.loop);

  gst_element_set_state (p.pipeline, GST_STATE_NULL);
  gst_object_unref (p.webrtc);
  gst_object_unref (p.pipeline);
  g_object_unref (p.in);
  g_main_loop_unref (p.loop);
  return 0;
}
