/**
 * SECTION:element-hqroomsink
 * @title: hqroomsink
 *
 * Joins an hq-server room and publishes what arrives on its request pads:
 * one track per pad, `audio_%u` or `video_%u`.  Raw audio is encoded to
 * Opus, raw video to VP8 (or H.264 with video-codec=h264); Opus, VP8 and
 * H.264 input is sent as it is.  Audio packets carry the RFC 6464 audio
 * level (measured by `level` before the encoder; for Opus input, taken from
 * upstream's GstAudioLevelMeta when there is one), from which the server
 * decides the dominant speaker.  Inside: [encoder] -> payloader -> rtpbin
 * (RTCP sender reports, PLI/FIR turned into keyframe requests upstream) ->
 * the libhq publish transport (ICE, DTLS-SRTP).  With
 * congestion-control=on the server's REMB estimate sets the video
 * encoder's bitrate within min-bitrate..max-bitrate.  With an e2ee-secret
 * (or $HQ_E2EE_SECRET), frames are encrypted end to end between encoder
 * and payloader (hqframeencrypt, docs/e2ee.md); VP8 and Opus only.
 *
 * Losing the server does not stop the pipeline: the element reconnects
 * with backoff and publishes again; only after reconnect-timeout does it
 * post an error.  A refused token, an unknown or a full room is an element
 * error (RESOURCE) whose message carries the server's code and text.
 * Room events are posted as element messages (see docs/hqroomsink.md).
 *
 * ## Example launch line
 * |[
 * HQ_API_KEY_SID=SK... HQ_API_KEY_SECRET=... HQ_ACCOUNT_SID=AC... \
 * gst-launch-1.0 hqroomsink name=room server=http://127.0.0.1:8844 \
 *     room=consult-1 identity=camera-1 \
 *   videotestsrc is-live=true ! room.video_0 \
 *   audiotestsrc is-live=true wave=ticks ! room.audio_0
 * ]|
 * Pad properties are set as the element's: `video_0::priority=high`.
 */
#include "gsthqroomsink.h"
#include "gsthqroomsinkpad.h"

#include <string.h>
#include <gst/app/gstappsink.h>
#include <gst/app/gstappsrc.h>
#include <gst/audio/audio.h>
#include <gst/rtp/rtp.h>
#include <hq/hqprotocol.h>
#include <hq/hqrtcp.h>
#include "gsthqroomsinklayers.h"
#include "hqe2ee.h"

/* not static: the simulcast layers log here too */
GST_DEBUG_CATEGORY (gst_hq_room_sink_debug);

#define GST_CAT_DEFAULT gst_hq_room_sink_debug

#define DEFAULT_START_BITRATE 800000
#define DEFAULT_MIN_BITRATE 100000
#define DEFAULT_MAX_BITRATE 2500000
#define AUDIO_BITRATE 32000
/* RFC 6464's V flag is set on packets at least this loud (-dBov): a level
 * threshold, not a speech detector. */
#define VOICE_LEVEL 50

static GstStaticPadTemplate audio_template =
    GST_STATIC_PAD_TEMPLATE ("audio_%u", GST_PAD_SINK, GST_PAD_REQUEST,
        GST_STATIC_CAPS ("audio/x-raw; audio/x-opus"));
static GstStaticPadTemplate video_template =
    GST_STATIC_PAD_TEMPLATE ("video_%u", GST_PAD_SINK, GST_PAD_REQUEST,
        GST_STATIC_CAPS ("video/x-raw, format=(string)I420; video/x-raw; "
                         "video/x-vp8; video/x-h264, stream-format=(string)"
                         "byte-stream, alignment=(string)au"));

struct _GstHqRoomSink
{
  GstHqRoomBin parent;

  GstHqRoomVideoCodec video_codec;
  guint start_bitrate, min_bitrate, max_bitrate;
  GstHqRoomCongestionControl congestion_control;
  gboolean simulcast;

  GstElement *rtpbin; /* the base's */
  guint next_session; /* under the object lock */
  /* Held while a request picks its pad's name and adds the pad, so that
   * two requests never pick the same name; never with the object lock. */
  GMutex request_lock;
  guint next_audio, next_video; /* automatic names, per kind */
  /* Atomic: the publish transport has connected once; a sender that
   * starts after it sends its first report at once.  Never reset: a report
   * asked for while a new transport is still connecting is dropped, and
   * on_transport_connected asks again. */
  gint publish_connected;
  /* end-to-end encryption, under the object lock: the property, and the
   * key store all tracks share (NULL without a secret) */
  gchar *e2ee_secret;
  HqFrameCrypt *crypt;
};

enum
{
  PROP_0,
  PROP_VIDEO_CODEC,
  PROP_START_BITRATE,
  PROP_MIN_BITRATE,
  PROP_MAX_BITRATE,
  PROP_CONGESTION_CONTROL,
  PROP_E2EE_SECRET,
  PROP_SIMULCAST,
};

/* --- sending and receiving --- */

#define ref_client(self) gst_hq_room_bin_ref_client (GST_HQ_ROOM_BIN (self))

static GstFlowReturn
on_packet (GstAppSink *appsink, gpointer user_data, gboolean rtcp)
{
  GstHqRoomSink *self = user_data;
  GstSample *sample = gst_app_sink_pull_sample (appsink);
  HqRoomClient *client = ref_client (self);
  GstBuffer *buf;
  GstMapInfo map;

  if (sample == NULL) {
    g_clear_object (&client);
    return GST_FLOW_EOS;
  }
  buf = gst_sample_get_buffer (sample);
  if (client && gst_buffer_map (buf, &map, GST_MAP_READ)) {
    if (rtcp)
      hq_room_client_send_rtcp (
          client, HQ_ROOM_TRANSPORT_PUBLISH, map.data, map.size);
    else
      hq_room_client_send_rtp (
          client, HQ_ROOM_TRANSPORT_PUBLISH, map.data, map.size);
    gst_buffer_unmap (buf, &map);
  }
  g_clear_object (&client);
  gst_sample_unref (sample);
  return GST_FLOW_OK;
}

static GstFlowReturn
on_rtp (GstAppSink *appsink, gpointer user_data)
{
  return on_packet (appsink, user_data, FALSE);
}

static GstFlowReturn
on_rtcp (GstAppSink *appsink, gpointer user_data)
{
  return on_packet (appsink, user_data, TRUE);
}

/* REMB from the server: the video encoders' bitrate, within min..max. */
static void
apply_remb (GstHqRoomSink *self, const guint8 *data, gsize len)
{
  HqRtcpIter iter;
  HqRtcpPacket pkt;
  guint min, max;

  GST_OBJECT_LOCK (self);
  min = self->min_bitrate;
  max = MAX (self->max_bitrate, min);
  if (self->congestion_control == GST_HQ_ROOM_CONGESTION_CONTROL_OFF) {
    GST_OBJECT_UNLOCK (self);
    return;
  }
  GST_OBJECT_UNLOCK (self);
  if (!hq_rtcp_iter_init (&iter, data, len, NULL))
    return;
  while (hq_rtcp_iter_next (&iter, &pkt)) {
    HqRtcpFb fb;
    HqRtcpRemb remb;
    guint rate;
    GList *l;
    GPtrArray *encoders;
    GArray *rates;

    if (pkt.type != HQ_RTCP_PSFB || pkt.count != HQ_RTCP_PSFB_AFB
        || !hq_rtcp_parse_remb (&pkt, &fb, &remb, NULL))
      continue;
    rate = (guint)CLAMP (remb.bitrate, (guint64)min, (guint64)max);
    /* Collect under the lock, set outside it: setting a property notifies
     * up the parent chain, which takes our lock.  A simulcast pad's
     * layers share the rate (gst_hq_room_sink_layers_share); a layer
     * nobody receives keeps its bitrate while paused. */
    encoders = g_ptr_array_new_with_free_func (gst_object_unref);
    rates = g_array_new (FALSE, FALSE, sizeof (guint));
    GST_OBJECT_LOCK (self);
    for (l = GST_ELEMENT (self)->sinkpads; l; l = l->next) {
      GstHqRoomSinkPad *pad = l->data;
      guint shares[GST_HQ_ROOM_SINK_MAX_STREAMS] = { rate };

      if (pad->kind != HQ_SDP_KIND_VIDEO)
        continue;
      if (pad->n_streams > 1)
        gst_hq_room_sink_layers_share (
            pad->streams, pad->n_streams, rate, shares);
      for (guint i = 0; i < pad->n_streams; i++) {
        if (pad->streams[i].encoder == NULL || shares[i] == 0)
          continue;
        g_ptr_array_add (encoders, gst_object_ref (pad->streams[i].encoder));
        g_array_append_val (rates, shares[i]);
      }
    }
    GST_OBJECT_UNLOCK (self);
    for (guint i = 0; i < encoders->len; i++) {
      GstElement *enc = g_ptr_array_index (encoders, i);
      guint r = g_array_index (rates, guint, i);
      GST_LOG_OBJECT (
          enc, "REMB %" G_GUINT64_FORMAT " -> %u bit/s", remb.bitrate, r);
      if (!hq_codec_encoder_set_bitrate (enc, r))
        GST_LOG_OBJECT (enc, "no known bitrate property: stays as it is");
    }
    g_ptr_array_unref (encoders);
    g_array_unref (rates);
  }
}

static void
on_receive (HqRoomTransportKind which, gboolean rtcp, const guint8 *data,
    gsize len, gpointer user_data)
{
  GstHqRoomSink *self = user_data;
  GList *l;

  if (which != HQ_ROOM_TRANSPORT_PUBLISH || !rtcp)
    return;
  apply_remb (self, data, len);
  /* Every session sees the server's RTCP; each acts on what names its
   * own SSRC (PLI/FIR become keyframe requests upstream). */
  GST_OBJECT_LOCK (self);
  for (l = GST_ELEMENT (self)->sinkpads; l; l = l->next) {
    GstHqRoomSinkPad *pad = l->data;
    for (guint i = 0; i < pad->n_streams; i++)
      if (pad->streams[i].rtcp_in)
        gst_app_src_push_buffer (GST_APP_SRC (pad->streams[i].rtcp_in),
            gst_buffer_new_memdup (data, len));
  }
  GST_OBJECT_UNLOCK (self);
}

/* Tells the client what we publish: one track per pad. */
static gboolean
update_tracks (gpointer data)
{
  GstHqRoomSink *self = data;
  HqRoomClient *client = ref_client (self);
  g_autoptr (GArray) tracks =
      g_array_new (FALSE, TRUE, sizeof (HqRoomLocalTrack));
  /* the tracks' names and layers */
  g_autoptr (GPtrArray) owned = g_ptr_array_new_with_free_func (g_free);
  GList *l;

  if (client == NULL)
    return G_SOURCE_REMOVE;
  GST_OBJECT_LOCK (self);
  for (l = GST_ELEMENT (self)->sinkpads; l; l = l->next) {
    GstHqRoomSinkPad *pad = l->data;
    HqRoomLocalTrack t = { .kind = pad->kind,
      .ssrc = pad->streams[0].ssrc,
      .codec = pad->codec                  ? hq_codec_name (pad->codec)
          : pad->kind == HQ_SDP_KIND_AUDIO ? "opus"
          : self->video_codec == GST_HQ_ROOM_VIDEO_CODEC_H264 ? "H264"
                                                              : "VP8" };
    gchar *name = pad->track_name ? g_strdup (pad->track_name)
                                  : gst_pad_get_name (GST_PAD (pad));
    g_ptr_array_add (owned, name);
    t.name = name;
    /* copies: a pad released meanwhile takes its strings along */
    t.mid = g_strdup (pad->mid);
    g_ptr_array_add (owned, (gpointer)t.mid);
    t.priority = gst_hq_room_track_priority_name (pad->priority);
    /* Simulcast layers: those built, or before the first caps those
     * simulcast=true will build (raw input, the usual case; encoded
     * input then offers one stream again). */
    if (pad->n_streams > 1
        || (pad->n_streams == 0 && pad->kind == HQ_SDP_KIND_VIDEO
            && self->simulcast)) {
      HqRoomLocalLayer *layers =
          g_new0 (HqRoomLocalLayer, GST_HQ_ROOM_SINK_MAX_STREAMS);
      t.n_layers = gst_hq_room_sink_layers_plan (pad, layers);
      t.layers = layers;
      g_ptr_array_add (owned, layers);
    }
    g_array_append_val (tracks, t);
  }
  GST_OBJECT_UNLOCK (self);
  hq_room_client_set_publish_tracks (
      client, (HqRoomLocalTrack *)tracks->data, tracks->len);
  g_object_unref (client);
  return G_SOURCE_REMOVE;
}

/* Asks session @session_id for a sender report now.  Called outside any
 * rtpbin lock (the RTCP thread builds the report). */
void
gst_hq_room_sink_update_tracks (GstHqRoomSink *self)
{
  gst_hq_room_bin_invoke (GST_HQ_ROOM_BIN (self), update_tracks,
      gst_object_ref (self), gst_object_unref);
}

static void
request_sender_report (GstHqRoomSink *self, guint session_id)
{
  GObject *session = NULL;
  gboolean sent = FALSE;

  g_signal_emit_by_name (
      self->rtpbin, "get-internal-session", session_id, &session);
  if (session == NULL)
    return; /* no media yet: on_new_sender_ssrc asks when it flows */
  g_signal_emit_by_name (session, "send-rtcp-full", (guint64)0, &sent);
  GST_DEBUG_OBJECT (self, "session %u: early sender report %s", session_id,
      sent ? "requested" : "refused");
  g_object_unref (session);
}

/* The publish transport is connected: every session sends its sender
 * report now.  rtpbin sent its first ones as soon as media flowed, mostly
 * before ICE and DTLS were done, so they were dropped, and the next
 * would come 2.5 to 7.5 s later (RTCP's 5 s minimum interval); until the
 * server has one per track it cannot tell subscribers how to line our
 * audio and video up (docs/hqroomsink.md, "Lip sync"). */
static void
on_transport_connected (HqRoomClient *client, gint which, GstHqRoomSink *self)
{
  g_autoptr (GArray) sessions = g_array_new (FALSE, FALSE, sizeof (guint));
  GList *l;

  if (which != HQ_ROOM_TRANSPORT_PUBLISH)
    return;
  g_autoptr (GPtrArray) chains =
      g_ptr_array_new_with_free_func (gst_object_unref);

  g_atomic_int_set (&self->publish_connected, TRUE);
  GST_OBJECT_LOCK (self);
  for (l = GST_ELEMENT (self)->sinkpads; l; l = l->next) {
    GstHqRoomSinkPad *pad = GST_HQ_ROOM_SINK_PAD (l->data);
    for (guint i = 0; i < pad->n_streams; i++) {
      g_array_append_val (sessions, pad->streams[i].session);
      if (pad->streams[i].part)
        g_ptr_array_add (chains, gst_object_ref (pad->streams[i].part));
    }
  }
  GST_OBJECT_UNLOCK (self);
  /* the identity the server knows us by: end-to-end keys are per sender */
  for (guint i = 0; i < chains->len; i++)
    hq_e2ee_setup_chain (g_ptr_array_index (chains, i), NULL, NULL,
        hq_room_client_get_identity (client));
  for (guint i = 0; i < sessions->len; i++)
    request_sender_report (self, g_array_index (sessions, guint, i));
}

static void
sender_report_async (GstElement *element, gpointer session_id)
{
  request_sender_report (
      GST_HQ_ROOM_SINK (element), GPOINTER_TO_UINT (session_id));
}

/* A stream whose first packet goes out after the transport connected
 * (an encoder slow to start: a loaded machine, a camera held back) had
 * only a receiver report to send at the connection: it sends its sender
 * report with its first packet instead, or subscribers would play it out
 * of sync until the next regular report, seconds later.  rtpbin emits
 * this with its session locked, so the report is asked for from another
 * thread. */
static void
on_new_sender_ssrc (
    GstElement *rtpbin, guint session_id, guint ssrc, GstHqRoomSink *self)
{
  if (g_atomic_int_get (&self->publish_connected))
    gst_element_call_async (GST_ELEMENT (self), sender_report_async,
        GUINT_TO_POINTER (session_id), NULL);
}

/* publish_layers from the server: which of a simulcast track's layers
 * somebody receives.  The others stop before they are scaled and
 * encoded, and start again with a keyframe when somebody wants them
 * (docs/hqroomsink.md, "Simulcast"); a bus message says so.  A pad whose
 * layers are not built yet keeps the states for when they are. */
static void
on_message (HqRoomClient *client, const gchar *type, JsonObject *msg,
    GstHqRoomSink *self)
{
  g_autoptr (GArray) layers = NULL;
  GstHqRoomSinkLayerChanges changes;
  const gchar *name;
  GstStructure *s;
  GList *l;

  if (hq_protocol_message_type (type) != HQ_MESSAGE_PUBLISH_LAYERS)
    return;
  name = hq_room_client_read_publish_layers (client, msg, &layers);
  if (name == NULL)
    return;
  s = gst_structure_new (
      "hq-publish-layers", "track-name", G_TYPE_STRING, name, NULL);
  for (guint i = 0; i < layers->len; i++) {
    const HqRoomLayerState *state =
        &g_array_index (layers, HqRoomLayerState, i);
    gst_structure_set (s, state->rid, G_TYPE_BOOLEAN, state->active, NULL);
  }
  gst_hq_room_sink_layer_changes_init (&changes);
  GST_OBJECT_LOCK (self);
  for (l = GST_ELEMENT (self)->sinkpads; l; l = l->next) {
    GstHqRoomSinkPad *pad = l->data;
    g_autofree gchar *pad_name = pad->track_name
        ? g_strdup (pad->track_name)
        : gst_pad_get_name (GST_PAD (pad));

    if (!g_str_equal (pad_name, name))
      continue;
    g_clear_pointer (&pad->layer_states, g_array_unref);
    pad->layer_states = g_array_ref (layers);
    gst_hq_room_sink_layer_changes_collect (pad, layers, &changes);
  }
  GST_OBJECT_UNLOCK (self);
  GST_INFO_OBJECT (self, "%" GST_PTR_FORMAT, s);
  gst_hq_room_sink_layer_changes_apply (&changes);
  gst_element_post_message (
      GST_ELEMENT (self), gst_message_new_element (GST_OBJECT (self), s));
}

/* GstHqRoomBin's setup_client: on the client's thread before it starts
 * (ref_client finds it already). */
static void
setup_client (GstHqRoomBin *bin, HqRoomClient *client)
{
  GstHqRoomSink *self = GST_HQ_ROOM_SINK (bin);
  g_autofree gchar *secret = NULL;
  g_autoptr (HqFrameCrypt) fc = NULL;

  g_signal_connect (
      client, "transport-connected", G_CALLBACK (on_transport_connected), self);
  g_signal_connect (client, "message", G_CALLBACK (on_message), self);
  hq_room_client_set_receive_func (client, on_receive, self, NULL);
  GST_OBJECT_LOCK (self);
  secret = hq_e2ee_resolve_secret (self->e2ee_secret);
  fc = self->crypt ? hq_frame_crypt_ref (self->crypt) : NULL;
  GST_OBJECT_UNLOCK (self);
  if (fc)
    hq_e2ee_attach_client (GST_ELEMENT (self), client, fc, secret);
  update_tracks (self);
}

/* --- building a pad's chain at its first caps --- */

/* What a pad's chain is made of, decided at its first caps. */
typedef struct
{
  GstHqRoomSinkPad *pad;
  const HqCodec *codec;
  gboolean encodes; /* raw input */
  gboolean e2ee;
  gboolean simulcast; /* raw video in layers */
  guint bitrate; /* the encoder's at start (one stream) */
  guint max_bitrate;
} ChainPlan;

/* Plans @pad's chain for input @s from the codec table (libhq's
 * hqcodec); FALSE with @error when it cannot be built. */
static gboolean
plan_chain (GstHqRoomSink *self, GstHqRoomSinkPad *pad, const GstStructure *s,
    ChainPlan *plan, GError **error)
{
  const gchar *name = gst_structure_get_name (s);

  plan->pad = pad;
  plan->encodes = g_str_has_suffix (name, "/x-raw");
  GST_OBJECT_LOCK (self);
  plan->max_bitrate = MAX (self->max_bitrate, self->min_bitrate);
  plan->bitrate =
      CLAMP (self->start_bitrate, self->min_bitrate, plan->max_bitrate);
  plan->codec = pad->kind == HQ_SDP_KIND_AUDIO ? hq_codec_find ("opus")
      : self->video_codec == GST_HQ_ROOM_VIDEO_CODEC_H264
      ? hq_codec_find ("H264")
      : hq_codec_find ("VP8");
  plan->e2ee = self->crypt != NULL;
  plan->simulcast = self->simulcast && pad->kind == HQ_SDP_KIND_VIDEO;
  GST_OBJECT_UNLOCK (self);
  if (plan->simulcast && !plan->encodes)
    GST_ELEMENT_WARNING (self, STREAM, FORMAT,
        ("%s: simulcast needs raw video; %s input is sent as one stream",
            GST_PAD_NAME (pad), name),
        (NULL));
  plan->simulcast = plan->simulcast && plan->encodes;
  if (!plan->encodes)
    plan->codec = hq_codec_find_by_media_type (name);
  if (plan->e2ee && !hq_codec_e2ee (plan->codec)) {
    g_set_error (error, GST_STREAM_ERROR, GST_STREAM_ERROR_FORMAT,
        "cannot publish %s end-to-end encrypted: use VP8 (video-codec=vp8, "
        "or VP8 input) with e2ee-secret",
        hq_codec_name (plan->codec));
    return FALSE;
  }
  return TRUE;
}

/* The description of a stream's part after @prefix: [encoder of @bitrate
 * bit/s !] [parser !] [hqframeencrypt !] payloader for SSRC @ssrc.  NULL
 * with @error when there is no encoder. */
static gchar *
part_description (gpointer data, const gchar *prefix, guint bitrate,
    guint32 ssrc, GError **error)
{
  const ChainPlan *plan = data;
  HqCodecEncoderConfig config = {
    .name = "enc", .keyframe_interval = 300, .bitrate = bitrate
  };
  g_autofree gchar *enc = NULL;
  const gchar *parser, *pay;

  if (plan->encodes) {
    enc = hq_codec_encoder_description (plan->codec, &config, error);
    if (enc == NULL)
      return NULL;
  }
  parser = hq_codec_parser (plan->codec);
  /* rtpvp8pay parses the VP8 partitions that encryption hides,
   * hqrtpvp8pay does not */
  pay = plan->e2ee && hq_codec_kind (plan->codec) == HQ_SDP_KIND_VIDEO
      ? "hqrtpvp8pay mtu=1200"
      : hq_codec_payloader (plan->codec);
  return g_strdup_printf ("%s%s%s%s%s%s%s%s name=pay pt=%u ssrc=%u", prefix,
      enc ? enc : "", enc ? " ! " : "", parser ? parser : "",
      parser ? " ! " : "", plan->e2ee ? "hqframeencrypt name=crypt" : "",
      plan->e2ee ? " ! " : "", pay, hq_codec_payload_type (plan->codec), ssrc);
}

/* The chain of a pad that sends one stream: [convert ! encoder !]
 * [parser !] [hqframeencrypt !] payloader. */
static GstElement *
single_chain (ChainPlan *plan, GError **error)
{
  g_autofree gchar *desc = NULL;
  const gchar *prefix = !plan->encodes ? ""
      : plan->pad->kind == HQ_SDP_KIND_AUDIO
      ? "audioconvert ! audioresample ! level audio-level-meta=true "
        "post-messages=false ! "
      : "videoconvert ! ";

  desc = part_description (plan, prefix,
      plan->pad->kind == HQ_SDP_KIND_AUDIO ? AUDIO_BITRATE : plan->bitrate,
      plan->pad->streams[0].ssrc, error);
  if (desc == NULL)
    return NULL;
  GST_DEBUG_OBJECT (plan->pad, "chain: %s", desc);
  return gst_parse_bin_from_description (desc, TRUE, error);
}

/* Makes each buffer's audio level an RFC 6464 one: `level` measures but
 * neither bounds the value (digital silence comes out as 187, which the
 * header extension would write as the V flag and -59 dBov) nor judges
 * voice activity. */
static GstPadProbeReturn
finish_level (GstPad *pad, GstPadProbeInfo *info, gpointer unused)
{
  GstBuffer *buf = GST_PAD_PROBE_INFO_BUFFER (info);
  GstAudioLevelMeta *meta = gst_buffer_get_audio_level_meta (buf);
  guint8 level;
  gboolean voice;

  if (meta == NULL)
    return GST_PAD_PROBE_OK;
  level = MIN (meta->level, 127);
  voice = level <= VOICE_LEVEL;
  if (meta->level != level || meta->voice_activity != voice) {
    buf = gst_buffer_make_writable (buf);
    meta = gst_buffer_get_audio_level_meta (buf);
    meta->level = level;
    meta->voice_activity = voice;
    GST_PAD_PROBE_INFO_DATA (info) = buf;
  }
  return GST_PAD_PROBE_OK;
}

/* The RFC 6464 audio level goes into every packet of an audio chain whose
 * buffers carry a GstAudioLevelMeta: from the chain's own `level` for raw
 * input, from upstream for Opus input.  The id is the one our publish
 * offer announces, which the server's answer keeps. */
static gboolean
add_audio_level (GstElement *chain)
{
  g_autoptr (GstElement) pay = gst_bin_get_by_name (GST_BIN (chain), "pay");
  g_autoptr (GstRTPHeaderExtension) ext =
      gst_rtp_header_extension_create_from_uri (HQ_SDP_EXT_AUDIO_LEVEL);
  g_autoptr (GstPad) sink = NULL;

  if (pay == NULL || ext == NULL)
    return FALSE;
  gst_rtp_header_extension_set_id (
      ext, hq_sdp_offer_extmap_id (HQ_SDP_EXT_AUDIO_LEVEL));
  g_signal_emit_by_name (pay, "add-extension", ext);
  sink = gst_element_get_static_pad (pay, "sink");
  gst_pad_add_probe (sink, GST_PAD_PROBE_TYPE_BUFFER, finish_level, NULL, NULL);
  return TRUE;
}

static GstElement *
add_app (
    GstHqRoomSink *self, const gchar *factory, const gchar *kind, guint session)
{
  g_autofree gchar *name = g_strdup_printf ("%s_%u", kind, session);
  GstElement *e = gst_element_factory_make (factory, name);

  if (g_str_equal (factory, "appsink")) {
    GstAppSinkCallbacks cb = {
      .new_sample = g_str_equal (kind, "rtp") ? on_rtp : on_rtcp
    };
    g_object_set (
        e, "sync", FALSE, "async", FALSE, "enable-last-sample", FALSE, NULL);
    gst_app_sink_set_callbacks (GST_APP_SINK (e), &cb, self, NULL);
    /* Only the media appsink ends with the stream; RTCP is not what the
     * pipeline waits for at EOS. */
    if (!g_str_equal (kind, "rtp"))
      GST_OBJECT_FLAG_UNSET (e, GST_ELEMENT_FLAG_SINK);
  } else {
    g_autoptr (GstCaps) caps = gst_caps_new_empty_simple ("application/x-rtcp");
    g_object_set (e, "is-live", TRUE, "format", GST_FORMAT_TIME, "do-timestamp",
        TRUE, "caps", caps, "max-bytes", (guint64)200000, NULL);
    GST_OBJECT_FLAG_UNSET (e, GST_ELEMENT_FLAG_SOURCE);
  }
  gst_bin_add (GST_BIN (self), e);
  return e;
}

static gboolean
link_request (GstElement *src, const gchar *src_pad, GstElement *sink,
    const gchar *sink_pad)
{
  return gst_element_link_pads (src, src_pad, sink, sink_pad);
}

/* Adds RTP header extension @uri with the id our publish offer gives it
 * to @pay, set to @value (its "rid" or "mid" property). */
static gboolean
add_sdes_extension (GstElement *pay, const gchar *uri, const gchar *property,
    const gchar *value)
{
  g_autoptr (GstRTPHeaderExtension) ext =
      gst_rtp_header_extension_create_from_uri (uri);
  guint id = hq_sdp_offer_extmap_id (uri);

  if (ext == NULL || id == 0)
    return FALSE;
  gst_rtp_header_extension_set_id (ext, id);
  g_object_set (ext, property, value, NULL);
  g_signal_emit_by_name (pay, "add-extension", ext);
  return TRUE;
}

/* A simulcast layer's packets name their layer (RID) and m-line (MID):
 * the server learns each layer's SSRC from them (docs/protocol.md). */
static gboolean
add_layer_extensions (GstHqRoomSinkPad *pad, GstHqRoomSinkStream *stream)
{
  g_autoptr (GstElement) pay =
      gst_bin_get_by_name (GST_BIN (stream->part), "pay");

  return pay && add_sdes_extension (pay, HQ_SDP_EXT_RID, "rid", stream->rid)
      && add_sdes_extension (pay, HQ_SDP_EXT_MID, "mid", pad->mid);
}

/* The chain of @pad for @caps with its streams' parts in @streams, or
 * NULL after posting the error. */
static GstElement *
make_chain (GstHqRoomSink *self, GstHqRoomSinkPad *pad, GstCaps *caps,
    ChainPlan *plan, GstHqRoomSinkStream *streams, guint *n_streams)
{
  g_autoptr (GError) error = NULL;
  GstElement *chain = NULL;

  if (!plan_chain (self, pad, gst_caps_get_structure (caps, 0), plan, &error))
    goto failed;
  if (plan->simulcast) {
    /* the layers start at their targets, within max-bitrate */
    *n_streams = GST_HQ_ROOM_SINK_LAYERS;
    chain = gst_hq_room_sink_layers_make_chain (
        caps, plan->max_bitrate, streams, part_description, plan, &error);
    for (guint i = 0; chain && i < *n_streams; i++)
      if (!add_layer_extensions (pad, &streams[i])) {
        g_set_error (&error, GST_CORE_ERROR, GST_CORE_ERROR_MISSING_PLUGIN,
            "no RTP header extensions for RID and MID (gst-plugins-good's "
            "rtpmanager 1.22)");
        gst_object_unref (gst_object_ref_sink (chain));
        chain = NULL;
      }
  } else {
    *n_streams = 1;
    chain = single_chain (plan, &error);
    streams[0].part = chain;
    if (chain && pad->kind == HQ_SDP_KIND_AUDIO && !add_audio_level (chain)) {
      g_set_error (&error, GST_CORE_ERROR, GST_CORE_ERROR_MISSING_PLUGIN,
          "no RTP header extension for %s (gst-plugins-good's rtpmanager)",
          HQ_SDP_EXT_AUDIO_LEVEL);
      gst_object_unref (gst_object_ref_sink (chain));
      chain = NULL;
    }
    if (chain && plan->encodes) {
      streams[0].encoder = gst_bin_get_by_name (GST_BIN (chain), "enc");
      if (streams[0].encoder)
        gst_object_unref (streams[0].encoder); /* the chain keeps it */
    }
  }
  if (chain)
    return chain;
failed:
  if (error->domain == GST_STREAM_ERROR)
    GST_ELEMENT_ERROR (self, STREAM, FORMAT, ("%s", error->message), (NULL));
  else
    GST_ELEMENT_ERROR (self, CORE, MISSING_PLUGIN,
        ("cannot publish %" GST_PTR_FORMAT ": %s", caps, error->message),
        (NULL));
  return NULL;
}

/* Links @stream's source @src_pad of @chain through rtpbin to the
 * appsinks that send it, and the server's RTCP into its session. */
static gboolean
link_stream (GstHqRoomSink *self, GstElement *chain, const gchar *src_pad,
    GstHqRoomSinkStream *stream)
{
  guint session = stream->session;
  g_autofree gchar *send_sink = g_strdup_printf ("send_rtp_sink_%u", session);
  g_autofree gchar *send_src = g_strdup_printf ("send_rtp_src_%u", session);
  g_autofree gchar *rtcp_src = g_strdup_printf ("send_rtcp_src_%u", session);
  g_autofree gchar *rtcp_sink = g_strdup_printf ("recv_rtcp_sink_%u", session);

  stream->rtp_out = add_app (self, "appsink", "rtp", session);
  stream->rtcp_out = add_app (self, "appsink", "rtcp", session);
  stream->rtcp_in = add_app (self, "appsrc", "rtcpin", session);
  /* The pad holds its own references: when the element is disposed, the
   * bin drops its children before request pads are released. */
  gst_object_ref (stream->rtp_out);
  gst_object_ref (stream->rtcp_out);
  gst_object_ref (stream->rtcp_in);
  if (!link_request (chain, src_pad, self->rtpbin, send_sink)
      || !link_request (self->rtpbin, send_src, stream->rtp_out, "sink")
      || !link_request (self->rtpbin, rtcp_src, stream->rtcp_out, "sink")
      || !link_request (stream->rtcp_in, "src", self->rtpbin, rtcp_sink))
    return FALSE;
  gst_element_sync_state_with_parent (stream->rtp_out);
  gst_element_sync_state_with_parent (stream->rtcp_out);
  gst_element_sync_state_with_parent (stream->rtcp_in);
  return TRUE;
}

/* Drops what @streams hold (made by link_stream): the pad's release, or a
 * chain that could not be linked. */
static void
remove_streams (GstHqRoomSink *self, GstHqRoomSinkStream *streams, guint n,
    GstElement *chain)
{
  for (guint i = 0; i <= n * 3; i++) {
    GstElement *e = i == n * 3 ? chain
        : i % 3 == 0           ? streams[i / 3].rtp_out
        : i % 3 == 1           ? streams[i / 3].rtcp_out
                               : streams[i / 3].rtcp_in;
    if (e == NULL)
      continue;
    gst_element_set_locked_state (e, TRUE);
    gst_element_set_state (e, GST_STATE_NULL);
    if (GST_OBJECT_PARENT (e) == GST_OBJECT (self))
      gst_bin_remove (GST_BIN (self), e);
    gst_object_unref (e);
  }
}

static gboolean
build_chain (GstHqRoomSink *self, GstHqRoomSinkPad *pad, GstCaps *caps)
{
  GstHqRoomSinkStream streams[GST_HQ_ROOM_SINK_MAX_STREAMS];
  guint n_streams = 0;
  ChainPlan plan;
  GstElement *chain;
  GstPad *chain_sink;
  HqFrameCrypt *fc = NULL;
  g_autofree gchar *sender = NULL;
  GstHqRoomSinkLayerChanges changes;

  /* the SSRCs and first session are the pad's; the layers get sessions
   * of their own */
  memcpy (streams, pad->streams, sizeof (streams));
  chain = make_chain (self, pad, caps, &plan, streams, &n_streams);
  if (chain == NULL)
    return FALSE;
  GST_OBJECT_LOCK (self);
  for (guint i = 1; i < n_streams; i++)
    streams[i].session = self->next_session++;
  if (self->crypt)
    fc = hq_frame_crypt_ref (self->crypt);
  GST_OBJECT_UNLOCK (self);
  sender = gst_hq_room_bin_dup_identity (GST_HQ_ROOM_BIN (self));
  /* without an identity property, the server's once joined
   * (on_transport_connected) */
  for (guint i = 0; fc && i < n_streams; i++)
    hq_e2ee_setup_chain (streams[i].part, fc, NULL, sender);
  g_clear_pointer (&fc, hq_frame_crypt_unref);
  gst_object_ref (chain);
  gst_bin_add (GST_BIN (self), chain);
  for (guint i = 0; i < n_streams; i++) {
    g_autofree gchar *src =
        n_streams > 1 ? g_strdup_printf ("src_%u", i) : g_strdup ("src");
    if (!link_stream (self, chain, src, &streams[i])) {
      GST_ELEMENT_ERROR (self, CORE, NEGOTIATION,
          ("cannot link the publishing chain of %s", GST_PAD_NAME (pad)),
          (NULL));
      remove_streams (self, streams, n_streams, chain);
      return FALSE;
    }
  }
  gst_element_sync_state_with_parent (chain);
  gst_hq_room_sink_layer_changes_init (&changes);
  GST_OBJECT_LOCK (self);
  pad->chain = chain;
  pad->codec = plan.codec;
  memcpy (pad->streams, streams, sizeof (streams));
  pad->n_streams = n_streams;
  /* what the server said before the layers existed */
  if (pad->layer_states)
    gst_hq_room_sink_layer_changes_collect (pad, pad->layer_states, &changes);
  GST_OBJECT_UNLOCK (self);
  gst_hq_room_sink_layer_changes_apply (&changes);
  chain_sink = gst_element_get_static_pad (chain, "sink");
  gst_ghost_pad_set_target (GST_GHOST_PAD (pad), chain_sink);
  gst_object_unref (chain_sink);
  /* The codec may differ from the one offered (H.264 input), and so may
   * the layers (simulcast of encoded input). */
  gst_hq_room_sink_update_tracks (self);
  return TRUE;
}

static gboolean
sink_pad_event (GstPad *gpad, GstObject *parent, GstEvent *event)
{
  GstHqRoomSink *self = GST_HQ_ROOM_SINK (parent);
  GstHqRoomSinkPad *pad = GST_HQ_ROOM_SINK_PAD (gpad);

  if (GST_EVENT_TYPE (event) == GST_EVENT_CAPS && pad->chain == NULL) {
    GstCaps *caps;
    gst_event_parse_caps (event, &caps);
    if (!build_chain (self, pad, caps)) {
      gst_event_unref (event);
      return FALSE;
    }
  }
  return gst_pad_event_default (gpad, parent, event);
}

/* --- the element --- */

/* The pads are children too (GstChildProxy), as in compositor: so that
 * gst-launch can set pad properties, `hqroomsink video_0::priority=high`.
 * The bin's elements stay children as before. */
static GstChildProxyInterface *parent_child_proxy;

static GObject *
child_proxy_get_child_by_name (GstChildProxy *proxy, const gchar *name)
{
  GstPad *pad = gst_element_get_static_pad (GST_ELEMENT (proxy), name);

  if (pad)
    return G_OBJECT (pad);
  return parent_child_proxy->get_child_by_name (proxy, name);
}

static void
child_proxy_init (gpointer g_iface, gpointer iface_data)
{
  GstChildProxyInterface *iface = g_iface;

  parent_child_proxy = g_type_interface_peek_parent (iface);
  iface->get_child_by_name = child_proxy_get_child_by_name;
}

#define gst_hq_room_sink_parent_class parent_class
G_DEFINE_TYPE_WITH_CODE (GstHqRoomSink, gst_hq_room_sink, GST_TYPE_HQ_ROOM_BIN,
    G_IMPLEMENT_INTERFACE (GST_TYPE_CHILD_PROXY, child_proxy_init));
GST_ELEMENT_REGISTER_DEFINE (
    hqroomsink, "hqroomsink", GST_RANK_NONE, GST_TYPE_HQ_ROOM_SINK);

/* The next automatic name of @audio's kind that no pad has (request_lock
 * held): `audio_0, audio_1, ...` and `video_0, ...` counted apart, as
 * gst-launch lines and other elements (webrtcsink) number them. */
static gchar *
next_pad_name (GstHqRoomSink *self, gboolean audio)
{
  guint *counter = audio ? &self->next_audio : &self->next_video;

  for (;;) {
    gchar *name = g_strdup_printf (audio ? "audio_%u" : "video_%u", *counter);
    GstPad *taken = gst_element_get_static_pad (GST_ELEMENT (self), name);

    (*counter)++;
    if (taken == NULL)
      return name;
    gst_object_unref (taken);
    g_free (name);
  }
}

static GstPad *
gst_hq_room_sink_request_new_pad (GstElement *element, GstPadTemplate *templ,
    const gchar *name, const GstCaps *caps)
{
  GstHqRoomSink *self = GST_HQ_ROOM_SINK (element);
  gboolean audio = g_str_has_prefix (templ->name_template, "audio");
  GstHqRoomSinkPad *pad;
  g_autofree gchar *pad_name = NULL;
  gboolean added;
  guint session;

  GST_OBJECT_LOCK (self);
  session = self->next_session++;
  GST_OBJECT_UNLOCK (self);
  g_mutex_lock (&self->request_lock);
  if (name
      && (pad =
              (GstHqRoomSinkPad *)gst_element_get_static_pad (element, name))) {
    g_mutex_unlock (&self->request_lock);
    GST_WARNING_OBJECT (self, "no second pad %s: it exists", name);
    gst_object_unref (pad);
    return NULL;
  }
  pad_name = name ? g_strdup (name) : next_pad_name (self, audio);
  pad = gst_hq_room_sink_pad_new (pad_name, templ,
      audio ? HQ_SDP_KIND_AUDIO : HQ_SDP_KIND_VIDEO, session, sink_pad_event);
  if (GST_STATE (element) > GST_STATE_NULL)
    gst_pad_set_active (GST_PAD (pad), TRUE);
  /* Keep the pad alive past a refused add. */
  gst_object_ref_sink (pad);
  added = gst_element_add_pad (element, GST_PAD (pad));
  g_mutex_unlock (&self->request_lock);
  if (!added) {
    GST_WARNING_OBJECT (self, "cannot add pad %s", pad_name);
    gst_pad_set_active (GST_PAD (pad), FALSE);
    gst_object_unref (pad);
    return NULL;
  }
  gst_object_unref (pad); /* the element holds it now */
  /* gst-launch sets `video_0::priority=...` now (its delayed set). */
  gst_child_proxy_child_added (
      GST_CHILD_PROXY (element), G_OBJECT (pad), GST_OBJECT_NAME (pad));
  gst_hq_room_sink_update_tracks (self);
  return GST_PAD (pad);
}

static void
gst_hq_room_sink_release_pad (GstElement *element, GstPad *gpad)
{
  GstHqRoomSink *self = GST_HQ_ROOM_SINK (element);
  GstHqRoomSinkPad *pad = GST_HQ_ROOM_SINK_PAD (gpad);
  GstHqRoomSinkStream streams[GST_HQ_ROOM_SINK_MAX_STREAMS];
  guint n_streams;
  GstElement *chain;

  GST_OBJECT_LOCK (self);
  chain = g_steal_pointer (&pad->chain);
  memcpy (streams, pad->streams, sizeof (streams));
  n_streams = pad->n_streams;
  pad->n_streams = 0;
  GST_OBJECT_UNLOCK (self);
  gst_child_proxy_child_removed (
      GST_CHILD_PROXY (element), G_OBJECT (gpad), GST_OBJECT_NAME (gpad));
  gst_element_remove_pad (element, gpad);
  remove_streams (self, streams, n_streams, chain);
  gst_hq_room_sink_update_tracks (self);
}

/* GstHqRoomBin's starting (READY->PAUSED): the key store every track
 * encrypts with, when there is a room secret. */
static void
starting (GstHqRoomBin *bin)
{
  GstHqRoomSink *self = GST_HQ_ROOM_SINK (bin);

  GST_OBJECT_LOCK (self);
  if (self->crypt == NULL) {
    g_autofree gchar *secret = hq_e2ee_resolve_secret (self->e2ee_secret);
    if (secret) {
      self->crypt = hq_frame_crypt_new ();
      hq_frame_crypt_set_secret (self->crypt, 0, secret, 0);
    }
  }
  GST_OBJECT_UNLOCK (self);
}

static void
gst_hq_room_sink_finalize (GObject *object)
{
  GstHqRoomSink *self = GST_HQ_ROOM_SINK (object);

  g_clear_pointer (&self->e2ee_secret, g_free);
  g_clear_pointer (&self->crypt, hq_frame_crypt_unref);
  g_mutex_clear (&self->request_lock);
  G_OBJECT_CLASS (parent_class)->finalize (object);
}

static void
gst_hq_room_sink_init (GstHqRoomSink *self)
{
  /* the pipeline waits for it at EOS and prerolls it */
  GST_OBJECT_FLAG_SET (self, GST_ELEMENT_FLAG_SINK);
  g_mutex_init (&self->request_lock);
  self->start_bitrate = DEFAULT_START_BITRATE;
  self->min_bitrate = DEFAULT_MIN_BITRATE;
  self->max_bitrate = DEFAULT_MAX_BITRATE;
  self->congestion_control = GST_HQ_ROOM_CONGESTION_CONTROL_ON;
  self->rtpbin = gst_hq_room_bin_get_rtpbin (GST_HQ_ROOM_BIN (self));
  if (self->rtpbin) {
    /* Sender reports map RTP time to the capture time, not to when the
     * packet left: audio and video take different times to encode, and
     * subscribers line them up by these reports (lip sync). */
    g_object_set (self->rtpbin, "rtcp-sync-send-time", FALSE, NULL);
    g_signal_connect (self->rtpbin, "on-new-sender-ssrc",
        G_CALLBACK (on_new_sender_ssrc), self);
  }
}

static void
gst_hq_room_sink_class_init (GstHqRoomSinkClass *klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);
  GstHqRoomBinClass *bin_class = GST_HQ_ROOM_BIN_CLASS (klass);

  gobject_class->finalize = gst_hq_room_sink_finalize;
  gst_element_class_set_static_metadata (element_class, "hqrooms room sink",
      "Sink/Network", "Publishes audio and video into an hq-server room",
      "hqrooms");
  gst_element_class_add_static_pad_template_with_gtype (
      element_class, &audio_template, GST_TYPE_HQ_ROOM_SINK_PAD);
  gst_element_class_add_static_pad_template_with_gtype (
      element_class, &video_template, GST_TYPE_HQ_ROOM_SINK_PAD);
  element_class->request_new_pad = gst_hq_room_sink_request_new_pad;
  element_class->release_pad = gst_hq_room_sink_release_pad;
  /* joining, leaving, the bus messages: GstHqRoomBin */
  gst_hq_room_sink_debug = gst_hq_room_bin_class_add_debug (
      bin_class, "hqroomsink", "hqrooms room sink");
  bin_class->starting = starting;
  bin_class->setup_client = setup_client;

  /* server, room, token, identity, ...: GstHqRoomBin, docs/hqroomsink.md */
  /**
   * GstHqRoomSink:video-codec:
   *
   * What raw video is encoded to; encoded input is sent as it is.  Read
   * when a pad's chain is built (its first caps): a change while playing
   * holds for pads whose media starts later.
   */
  gst_hq_room_bin_class_install_field (bin_class, PROP_VIDEO_CODEC,
      G_STRUCT_OFFSET (GstHqRoomSink, video_codec),
      g_param_spec_enum ("video-codec", "Video codec",
          "Codec raw video is encoded to", GST_TYPE_HQ_ROOM_VIDEO_CODEC,
          GST_HQ_ROOM_VIDEO_CODEC_VP8,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS
              | GST_PARAM_MUTABLE_PLAYING));
  /**
   * GstHqRoomSink:start-bitrate:
   *
   * The video encoder's bitrate at start, in bit/s; read when a pad's
   * chain is built, like #GstHqRoomSink:video-codec.
   */
  gst_hq_room_bin_class_install_field (bin_class, PROP_START_BITRATE,
      G_STRUCT_OFFSET (GstHqRoomSink, start_bitrate),
      g_param_spec_uint ("start-bitrate", "Start bitrate",
          "Video bitrate at start (bit/s)", 10000, 100000000,
          DEFAULT_START_BITRATE,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS
              | GST_PARAM_MUTABLE_PLAYING));
  /**
   * GstHqRoomSink:min-bitrate:
   *
   * The lowest video bitrate congestion control sets, in bit/s.
   */
  gst_hq_room_bin_class_install_field (bin_class, PROP_MIN_BITRATE,
      G_STRUCT_OFFSET (GstHqRoomSink, min_bitrate),
      g_param_spec_uint ("min-bitrate", "Minimum bitrate",
          "Lowest video bitrate (bit/s)", 10000, 100000000, DEFAULT_MIN_BITRATE,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS
              | GST_PARAM_MUTABLE_PLAYING));
  /**
   * GstHqRoomSink:max-bitrate:
   *
   * The highest video bitrate congestion control sets, in bit/s.
   */
  gst_hq_room_bin_class_install_field (bin_class, PROP_MAX_BITRATE,
      G_STRUCT_OFFSET (GstHqRoomSink, max_bitrate),
      g_param_spec_uint ("max-bitrate", "Maximum bitrate",
          "Highest video bitrate (bit/s)", 10000, 100000000,
          DEFAULT_MAX_BITRATE,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS
              | GST_PARAM_MUTABLE_PLAYING));
  /**
   * GstHqRoomSink:congestion-control:
   *
   * Follow the server's bandwidth estimate (REMB) with the video
   * encoders' bitrate, within min-bitrate..max-bitrate.  Off: the
   * bitrate stays at start-bitrate.
   */
  gst_hq_room_bin_class_install_field (bin_class, PROP_CONGESTION_CONTROL,
      G_STRUCT_OFFSET (GstHqRoomSink, congestion_control),
      g_param_spec_enum ("congestion-control", "Congestion control",
          "Follow the server's REMB estimate with the encoder bitrate (on) "
          "or stay at start-bitrate (off)",
          GST_TYPE_HQ_ROOM_CONGESTION_CONTROL,
          GST_HQ_ROOM_CONGESTION_CONTROL_ON,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS
              | GST_PARAM_MUTABLE_PLAYING));

  /**
   * GstHqRoomSink:e2ee-secret:
   *
   * The room secret for end-to-end encryption (write only; docs/e2ee.md).
   * When set, or when $HQ_E2EE_SECRET is, VP8 and Opus frames are
   * encrypted before they leave: the server forwards what it cannot
   * decode, and only subscribers with the same secret see and hear them.
   * H.264 is refused.  Read when the element starts (READY to PAUSED).
   */
  gst_hq_room_bin_class_install_field (bin_class, PROP_E2EE_SECRET,
      G_STRUCT_OFFSET (GstHqRoomSink, e2ee_secret),
      hq_e2ee_secret_param (GST_PARAM_MUTABLE_READY));
  /**
   * GstHqRoomSink:simulcast:
   *
   * Publish raw video as three simulcast layers, 1/4, 1/2 and full size
   * (RIDs q, h, f), each encoded on its own (150, 500 and 1500 kbit/s,
   * shared out of the REMB estimate in proportion): the server forwards
   * each subscriber the layer that fits the size it renders at and its
   * bandwidth, and tells us which layers nobody receives, whose encoding
   * then stops until someone does (docs/hqroomsink.md, "Simulcast").
   * Read when a video pad's chain is built (its first caps); encoded
   * input is sent as one stream.
   */
  gst_hq_room_bin_class_install_field (bin_class, PROP_SIMULCAST,
      G_STRUCT_OFFSET (GstHqRoomSink, simulcast),
      g_param_spec_boolean ("simulcast", "Simulcast",
          "Publish raw video as three layers (1/4, 1/2 and full size)", FALSE,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS
              | GST_PARAM_MUTABLE_PLAYING));

  gst_type_mark_as_plugin_api (GST_TYPE_HQ_ROOM_SINK_PAD, 0);
  gst_type_mark_as_plugin_api (GST_TYPE_HQ_ROOM_VIDEO_CODEC, 0);
}
