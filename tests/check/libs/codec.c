/* Unit tests for libhq's codec table (hqcodec.h), as its users rely on
 * it: for every codec, the encoder the table chooses, with the settings
 * it gives, makes a stream of that codec that the decoder it chooses
 * turns back into as much raw media as went in (real GStreamer elements
 * from the installed plugins, one short pipeline each); AAC, which only
 * recording files hold, is no room codec; and an encoder the table knows
 * is chosen even at GStreamer's rank none (avenc_aac), as hqrecorder's
 * MP4 audio needs where no other AAC encoder is installed. */
#include <glib.h>
#include <gst/gst.h>
#include <hq/hqcodec.h>

#define FRAMES 30 /* video: one second at 30/1 */
#define AUDIO_BUFFERS 50 /* audio: 50 x 20 ms */

typedef struct
{
  GstCaps *encoded; /* the last caps out of the encoder */
  guint buffers; /* decoded */
  GstClockTime end; /* of the last decoded buffer */
  gboolean raw; /* decoded caps are raw */
} Result;

static GstPadProbeReturn
encoded_probe (GstPad *pad, GstPadProbeInfo *info, gpointer user_data)
{
  Result *r = user_data;
  GstEvent *ev = GST_PAD_PROBE_INFO_EVENT (info);
  GstCaps *caps;

  if (GST_EVENT_TYPE (ev) == GST_EVENT_CAPS) {
    gst_event_parse_caps (ev, &caps);
    gst_caps_replace (&r->encoded, caps);
  }
  return GST_PAD_PROBE_OK;
}

static GstPadProbeReturn
decoded_probe (GstPad *pad, GstPadProbeInfo *info, gpointer user_data)
{
  Result *r = user_data;
  GstBuffer *buf = GST_PAD_PROBE_INFO_BUFFER (info);
  GstCaps *caps = gst_pad_get_current_caps (pad);

  r->raw = caps
      && g_str_has_suffix (
          gst_structure_get_name (gst_caps_get_structure (caps, 0)), "/x-raw");
  gst_clear_caps (&caps);
  r->buffers++;
  if (GST_BUFFER_PTS_IS_VALID (buf) && GST_BUFFER_DURATION_IS_VALID (buf))
    r->end = MAX (r->end, GST_BUFFER_PTS (buf) + GST_BUFFER_DURATION (buf));
  return GST_PAD_PROBE_OK;
}

static void
add_probe (GstElement *pipeline, const gchar *name, GstPadProbeType type,
    GstPadProbeCallback cb, Result *r)
{
  GstElement *e = gst_bin_get_by_name (GST_BIN (pipeline), name);
  GstPad *pad = gst_element_get_static_pad (e, name[0] == 'e' ? "src" : "sink");

  gst_pad_add_probe (pad, type, cb, r, NULL);
  gst_object_unref (pad);
  gst_object_unref (e);
}

/* Raw media ! the table's encoder (and parser) of @codec ! its decoder,
 * to the end of the stream; fails the test on a pipeline error. */
static void
encode_and_decode (const HqCodec *codec, Result *r)
{
  gboolean video = hq_codec_kind (codec) == HQ_SDP_KIND_VIDEO;
  HqCodecEncoderConfig config = {
    .bitrate = video ? 500000 : 0,
    .keyframe_interval = video ? 10 : 0,
  };
  g_autoptr (GError) error = NULL;
  g_autofree gchar *encoder =
      hq_codec_encoder_description (codec, &config, &error);
  g_autofree gchar *decoder = NULL, *desc = NULL, *caps = NULL;
  g_autoptr (GstCaps) codec_caps = hq_codec_caps (codec);
  const gchar *parser = hq_codec_parser (codec);
  GstElement *pipeline;
  GstBus *bus;
  GstMessage *msg;

  g_assert_no_error (error);
  decoder = hq_codec_decoder_description (codec, &error);
  g_assert_no_error (error);
  caps = gst_caps_to_string (codec_caps);
  g_test_message ("%s: %s ! %s", hq_codec_name (codec), encoder, decoder);
  /* the codec's caps as hqroomsink's payloader and the recorder's parser
   * take them (H.264: byte-stream access units) */
  desc = g_strdup_printf ("%s ! %s ! capsfilter caps=\"%s\" ! "
                          "identity name=encoded%s%s ! %s ! "
                          "fakesink name=decoded sync=false",
      video
          ? "videotestsrc num-buffers=" G_STRINGIFY (
              FRAMES) " ! video/x-raw,width=320,height=240,framerate=30/1 ! "
                      "videoconvert"
          : "audiotestsrc num-buffers=" G_STRINGIFY (
              AUDIO_BUFFERS) " samplesperbuffer=960 ! audio/x-raw,rate=48000 ! "
                             "audioconvert ! audioresample",
      encoder, caps, parser ? " ! " : "", parser ? parser : "", decoder);
  pipeline =
      gst_parse_launch_full (desc, NULL, GST_PARSE_FLAG_FATAL_ERRORS, &error);
  g_assert_no_error (error);
  add_probe (pipeline, "encoded", GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM,
      encoded_probe, r);
  add_probe (pipeline, "decoded", GST_PAD_PROBE_TYPE_BUFFER, decoded_probe, r);
  g_assert_cmpint (gst_element_set_state (pipeline, GST_STATE_PLAYING), !=,
      GST_STATE_CHANGE_FAILURE);
  bus = gst_element_get_bus (pipeline);
  /* a deadline, not a wait: the stream ends in well under a second */
  msg = gst_bus_timed_pop_filtered (
      bus, 60 * GST_SECOND, GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
  g_assert_nonnull (msg);
  if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ERROR) {
    gst_message_parse_error (msg, &error, NULL);
    g_error ("%s: %s", hq_codec_name (codec), error->message);
  }
  gst_message_unref (msg);
  gst_object_unref (bus);
  gst_element_set_state (pipeline, GST_STATE_NULL);
  gst_object_unref (pipeline);
}

/* The chosen encoder makes @codec's caps (else the pipeline fails to
 * negotiate), and the chosen decoder turns them into as much raw media as
 * went in. */
static void
check_codec (const HqCodec *codec)
{
  Result r = { 0 };

  encode_and_decode (codec, &r);
  g_assert_nonnull (r.encoded);
  g_assert_cmpstr (
      gst_structure_get_name (gst_caps_get_structure (r.encoded, 0)), ==,
      hq_codec_media_type (codec));
  g_assert_true (r.raw);
  if (hq_codec_kind (codec) == HQ_SDP_KIND_VIDEO) {
    g_assert_cmpuint (r.buffers, ==, FRAMES);
  } else {
    /* an encoder's priming and padding may add or take a frame or two */
    g_assert_cmpuint (r.end, >=, 900 * GST_MSECOND);
    g_assert_cmpuint (r.end, <=, 1100 * GST_MSECOND);
  }
  gst_caps_unref (r.encoded);
}

static void
test_encode_decode (gconstpointer name)
{
  const HqCodec *codec = hq_codec_find_for_files (name);
  g_autoptr (GstElementFactory) encoder = NULL;

  g_assert_nonnull (codec);
  encoder = hq_codec_encoder_factory (codec);
  if (encoder == NULL) {
    g_test_skip ("no encoder of this codec is installed");
    return;
  }
  check_codec (codec);
}

static const gchar *const room_codecs[] = { "opus", "VP8", "H264" };

/* AAC is a codec of files: an SDP naming it, or caps of it, are no room
 * codec, and it has nothing to packetise with. */
static void
test_aac_is_not_a_room_codec (void)
{
  const HqCodec *aac = hq_codec_find_for_files ("aac");

  g_assert_nonnull (aac);
  g_assert_cmpstr (hq_codec_name (aac), ==, "AAC");
  g_assert_false (hq_codec_in_rooms (aac));
  g_assert_null (hq_codec_find ("AAC"));
  g_assert_null (hq_codec_find_by_media_type ("audio/mpeg"));
  g_assert_null (hq_codec_payloader (aac));
  g_assert_null (hq_codec_depayloader (aac));
  g_assert_cmpuint (hq_codec_payload_type (aac), ==, 0);
  for (guint i = 0; i < G_N_ELEMENTS (room_codecs); i++) {
    const HqCodec *codec = hq_codec_find (room_codecs[i]);

    g_assert_true (codec == hq_codec_find_for_files (room_codecs[i]));
    g_assert_true (hq_codec_in_rooms (codec));
  }
}

/* avenc_aac has rank none; with every other AAC encoder gone from the
 * registry it is still chosen, and makes AAC that decodes. */
static void
test_known_encoder_of_rank_none (void)
{
  const HqCodec *aac = hq_codec_find_for_files ("AAC");
  GstRegistry *registry = gst_registry_get ();
  g_autoptr (GstElementFactory) avenc = gst_element_factory_find ("avenc_aac");
  GList *others = NULL;
  GstElementFactory *chosen;

  if (avenc == NULL) {
    g_test_skip ("avenc_aac is not installed");
    return;
  }
  g_assert_cmpint (gst_plugin_feature_get_rank (GST_PLUGIN_FEATURE (avenc)), <,
      GST_RANK_MARGINAL);
  while ((chosen = hq_codec_encoder_factory (aac)) != NULL && chosen != avenc) {
    others = g_list_prepend (others, chosen);
    gst_registry_remove_feature (registry, GST_PLUGIN_FEATURE (chosen));
  }
  g_assert_true (chosen == avenc);
  gst_object_unref (chosen);
  check_codec (aac);
  for (GList *l = others; l; l = l->next)
    gst_registry_add_feature (registry, l->data);
  g_list_free_full (others, gst_object_unref);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  gst_init (NULL, NULL);
  g_test_add_data_func (
      "/codec/encode-decode/opus", "opus", test_encode_decode);
  g_test_add_data_func ("/codec/encode-decode/VP8", "VP8", test_encode_decode);
  g_test_add_data_func (
      "/codec/encode-decode/H264", "H264", test_encode_decode);
  g_test_add_data_func ("/codec/encode-decode/AAC", "AAC", test_encode_decode);
  g_test_add_func (
      "/codec/aac-is-not-a-room-codec", test_aac_is_not_a_room_codec);
  g_test_add_func (
      "/codec/known-encoder-of-rank-none", test_known_encoder_of_rank_none);
  return g_test_run ();
}
