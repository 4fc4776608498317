/* The codec table; see hqcodec.h.
 *
 * Two tables: the codecs (what the protocol carries, and the GStreamer
 * elements that packetise and parse each, plus AAC, which only recording
 * files hold), and the encoders and decoders whose settings we know.
 * Encoders and decoders themselves are found in the registry by the caps
 * they produce or take, highest rank first, as decodebin and webrtcsink
 * choose theirs: a known one wins over an unknown one of higher rank,
 * because an unknown encoder's defaults are made for files (lookahead,
 * B-frames, long GOPs), not for a call.  A known one counts whatever its
 * rank (GStreamer gives avenc_aac none); an unknown one needs at least
 * marginal, as autoplugging wants. */
#include "hqcodec.h"

struct _HqCodec
{
  const gchar *name; /* as in our SDP */
  HqSdpKind kind;
  gboolean e2ee; /* frames encrypted end to end (docs/e2ee.md) */
  const gchar *media; /* the encoded caps' name */
  const gchar *caps; /* encoded */
  const gchar *raw_caps;
  const gchar *payloader;
  const gchar *depayloader;
  const gchar *parser; /* before the payloader or the decoder */
  const gchar *output_parser; /* after the depayloader, for encoded output */
  gboolean file_only; /* not in rooms: no payload type, no payloader */
};

static const HqCodec codecs[] = {
  {
      .name = "opus",
      .kind = HQ_SDP_KIND_AUDIO,
      .e2ee = TRUE,
      .media = "audio/x-opus",
      .caps = "audio/x-opus",
      .raw_caps = "audio/x-raw",
      .payloader = "rtpopuspay",
      .depayloader = "rtpopusdepay",
      .output_parser = "opusparse",
  },
  {
      .name = "VP8",
      .kind = HQ_SDP_KIND_VIDEO,
      .e2ee = TRUE,
      .media = "video/x-vp8",
      .caps = "video/x-vp8",
      .raw_caps = "video/x-raw",
      .payloader = "rtpvp8pay picture-id-mode=15-bit mtu=1200",
      .depayloader = "rtpvp8depay request-keyframe=true wait-for-keyframe=true",
      .output_parser = "",
  },
  {
      .name = "H264",
      .kind = HQ_SDP_KIND_VIDEO,
      .e2ee = FALSE,
      .media = "video/x-h264",
      .caps = "video/x-h264, stream-format=(string)byte-stream, "
              "alignment=(string)au",
      .raw_caps = "video/x-raw",
      .payloader =
          "rtph264pay mtu=1200 config-interval=-1 aggregate-mode=zero-latency",
      .depayloader =
          "rtph264depay request-keyframe=true wait-for-keyframe=true",
      .parser = "h264parse",
      /* SPS and PPS at every keyframe: a muxer or a late decoder starts
       * there */
      .output_parser = "h264parse config-interval=-1 ! video/x-h264, "
                       "stream-format=byte-stream, alignment=au",
  },
  /* the audio of hqrecorder's composed MP4 files */
  {
      .name = "AAC",
      .kind = HQ_SDP_KIND_AUDIO,
      .media = "audio/mpeg",
      .caps = "audio/mpeg, mpegversion=(int)4",
      .raw_caps = "audio/x-raw",
      .file_only = TRUE,
  },
};

/* What we know of an encoder or a decoder. */
typedef struct
{
  const gchar *factory;
  const gchar *settings;
  const gchar *bitrate_property; /* NULL: none */
  guint bitrate_unit; /* bit/s per unit of that property */
  const gchar *keyframe_property;
  const gchar *output_caps; /* what it must produce, or NULL */
} KnownElement;

static const KnownElement encoders[] = {
  {
      .factory = "opusenc",
      .settings = "frame-size=20",
      .bitrate_property = "bitrate",
      .bitrate_unit = 1,
  },
  /* realtime, constant bitrate, no lookahead, one thread: a call's
   * frames go out as they come, at the rate the network takes */
  {
      .factory = "vp8enc",
      .settings = "deadline=1 cpu-used=8 lag-in-frames=0 end-usage=cbr "
                  "error-resilient=default threads=1",
      .bitrate_property = "target-bitrate",
      .bitrate_unit = 1,
      .keyframe_property = "keyframe-max-dist",
  },
  /* browsers decode constrained baseline everywhere */
  {
      .factory = "x264enc",
      .settings = "tune=zerolatency speed-preset=ultrafast",
      .bitrate_property = "bitrate",
      .bitrate_unit = 1000,
      .keyframe_property = "key-int-max",
      .output_caps = "video/x-h264,profile=constrained-baseline",
  },
  {
      .factory = "openh264enc",
      .settings = "usage-type=camera rate-control=bitrate complexity=low",
      .bitrate_property = "bitrate",
      .bitrate_unit = 1,
      .keyframe_property = "gop-size",
      .output_caps = "video/x-h264,profile=constrained-baseline",
  },
  /* AAC, for files: the defaults (128 kbit/s) */
  { .factory = "avenc_aac", .bitrate_property = "bitrate", .bitrate_unit = 1 },
  { .factory = "voaacenc", .bitrate_property = "bitrate", .bitrate_unit = 1 },
};

static const KnownElement decoders[] = {
  /* Opus conceals a lost packet instead of leaving a gap */
  { .factory = "opusdec", .settings = "plc=true" },
  { .factory = "vp8dec", .settings = "" },
  { .factory = "avdec_h264", .settings = "" },
  { .factory = "openh264dec", .settings = "" },
};

const gchar *
hq_codec_name (const HqCodec *codec)
{
  return codec->name;
}

HqSdpKind
hq_codec_kind (const HqCodec *codec)
{
  return codec->kind;
}

const gchar *
hq_codec_media_type (const HqCodec *codec)
{
  return codec->media;
}

gboolean
hq_codec_e2ee (const HqCodec *codec)
{
  return codec->e2ee;
}

gboolean
hq_codec_in_rooms (const HqCodec *codec)
{
  return !codec->file_only;
}

const HqCodec *
hq_codec_find_for_files (const gchar *name)
{
  for (guint i = 0; name && i < G_N_ELEMENTS (codecs); i++)
    if (g_ascii_strcasecmp (codecs[i].name, name) == 0)
      return &codecs[i];
  return NULL;
}

const HqCodec *
hq_codec_find (const gchar *name)
{
  const HqCodec *codec = hq_codec_find_for_files (name);

  return codec && hq_codec_in_rooms (codec) ? codec : NULL;
}

const HqCodec *
hq_codec_find_by_media_type (const gchar *media_type)
{
  for (guint i = 0; media_type && i < G_N_ELEMENTS (codecs); i++)
    if (!codecs[i].file_only && g_str_equal (codecs[i].media, media_type))
      return &codecs[i];
  return NULL;
}

GstCaps *
hq_codec_template_caps (HqSdpKind kind)
{
  GstCaps *caps = gst_caps_new_empty_simple (
      kind == HQ_SDP_KIND_AUDIO ? "audio/x-raw" : "video/x-raw");

  for (guint i = 0; i < G_N_ELEMENTS (codecs); i++)
    if (codecs[i].kind == kind && !codecs[i].file_only)
      gst_caps_append (caps, gst_caps_new_empty_simple (codecs[i].media));
  return caps;
}

/* Our offer's entry for @codec (hqsdp owns payload types and clock
 * rates). */
static gboolean
offered (const HqCodec *codec, guint *pt, guint *clock_rate, guint *channels)
{
  g_autoptr (GPtrArray) offer = hq_sdp_default_codecs (codec->kind);

  for (guint i = 0; i < offer->len; i++) {
    const HqSdpCodec *c = g_ptr_array_index (offer, i);
    if (g_ascii_strcasecmp (c->name, codec->name) == 0) {
      *pt = c->pt;
      *clock_rate = c->clock_rate;
      *channels = c->channels;
      return TRUE;
    }
  }
  return FALSE;
}

guint
hq_codec_payload_type (const HqCodec *codec)
{
  guint pt = 0, rate = 0, channels = 0;

  offered (codec, &pt, &rate, &channels);
  return pt;
}

guint
hq_codec_clock_rate (const HqCodec *codec)
{
  guint pt = 0, rate = 0, channels = 0;

  if (!offered (codec, &pt, &rate, &channels))
    return codec->kind == HQ_SDP_KIND_AUDIO ? 48000 : 90000;
  return rate;
}

GstCaps *
hq_codec_rtp_caps (const HqCodec *codec, guint pt)
{
  guint offer_pt = 0, rate = 0, channels = 0;
  g_autofree gchar *encoding = g_ascii_strup (codec->name, -1);
  GstCaps *caps;

  offered (codec, &offer_pt, &rate, &channels);
  /* RTP caps name encodings in capitals (rtpopusdepay wants OPUS) */
  caps = gst_caps_new_simple ("application/x-rtp", "media", G_TYPE_STRING,
      hq_sdp_kind_to_string (codec->kind), "encoding-name", G_TYPE_STRING,
      encoding, "clock-rate", G_TYPE_INT, (gint)hq_codec_clock_rate (codec),
      "payload", G_TYPE_INT, (gint)pt, NULL);
  /* RFC 7587: Opus is always announced as two channels */
  if (channels > 0) {
    g_autofree gchar *params = g_strdup_printf ("%u", channels);
    gst_caps_set_simple (caps, "encoding-params", G_TYPE_STRING, params, NULL);
  }
  return caps;
}

GstCaps *
hq_codec_caps (const HqCodec *codec)
{
  return gst_caps_from_string (codec->caps);
}

const gchar *
hq_codec_payloader (const HqCodec *codec)
{
  return codec->payloader;
}

const gchar *
hq_codec_depayloader (const HqCodec *codec)
{
  return codec->depayloader;
}

const gchar *
hq_codec_output_parser (const HqCodec *codec)
{
  return codec->output_parser;
}

const gchar *
hq_codec_parser (const HqCodec *codec)
{
  return codec->parser;
}

static const KnownElement *
known (const KnownElement *table, guint n, GstElementFactory *factory)
{
  const gchar *name = gst_plugin_feature_get_name (factory);

  for (guint i = 0; i < n; i++)
    if (g_str_equal (table[i].factory, name))
      return &table[i];
  return NULL;
}

/* The best installed factory of @type that turns @from into @to: the
 * highest ranked of those in @table (of any rank), else the highest
 * ranked other of at least marginal rank.  Only those candidates have
 * their caps compared: the registry holds many more of rank none (every
 * avenc_ and avdec_), and parsing all their caps the first time took
 * about half a second under ASan, on a streaming thread. */
static GstElementFactory *
choose (GstElementFactoryListType type, const gchar *from, const gchar *to,
    const KnownElement *table, guint n)
{
  g_autoptr (GstCaps) in = gst_caps_from_string (from);
  g_autoptr (GstCaps) out = gst_caps_from_string (to);
  GList *all = gst_element_factory_list_get_elements (type, GST_RANK_NONE);
  GList *candidates = NULL, *takes, *fits;
  GstElementFactory *best = NULL;

  for (GList *l = all; l; l = l->next)
    if (gst_plugin_feature_get_rank (l->data) >= GST_RANK_MARGINAL
        || known (table, n, l->data))
      candidates = g_list_prepend (candidates, l->data);
  takes = gst_element_factory_list_filter (candidates, in, GST_PAD_SINK, FALSE);
  fits = gst_element_factory_list_filter (takes, out, GST_PAD_SRC, FALSE);
  fits = g_list_sort (fits, gst_plugin_feature_rank_compare_func);
  for (GList *l = fits; l && !best; l = l->next)
    if (known (table, n, l->data))
      best = l->data;
  if (best == NULL && fits)
    best = fits->data;
  if (best)
    gst_object_ref (best);
  gst_plugin_feature_list_free (fits);
  gst_plugin_feature_list_free (takes);
  g_list_free (candidates);
  gst_plugin_feature_list_free (all);
  return best;
}

GstElementFactory *
hq_codec_encoder_factory (const HqCodec *codec)
{
  return choose (GST_ELEMENT_FACTORY_TYPE_ENCODER, codec->raw_caps, codec->caps,
      encoders, G_N_ELEMENTS (encoders));
}

GstElementFactory *
hq_codec_decoder_factory (const HqCodec *codec)
{
  return choose (GST_ELEMENT_FACTORY_TYPE_DECODER, codec->caps, codec->raw_caps,
      decoders, G_N_ELEMENTS (decoders));
}

static void
set_missing (GError **error, const HqCodec *codec, const gchar *what)
{
  g_set_error (error, GST_CORE_ERROR, GST_CORE_ERROR_MISSING_PLUGIN,
      "no %s %s is installed (GStreamer elements of class %s that take or "
      "make %s)",
      codec->name, what, what, codec->caps);
}

gchar *
hq_codec_encoder_description (
    const HqCodec *codec, const HqCodecEncoderConfig *config, GError **error)
{
  g_autoptr (GstElementFactory) factory = hq_codec_encoder_factory (codec);
  const KnownElement *k;
  GString *desc;

  if (factory == NULL) {
    set_missing (error, codec, "encoder");
    return NULL;
  }
  k = known (encoders, G_N_ELEMENTS (encoders), factory);
  desc = g_string_new (gst_plugin_feature_get_name (factory));
  if (config && config->name)
    g_string_append_printf (desc, " name=%s", config->name);
  if (k && k->settings && *k->settings)
    g_string_append_printf (desc, " %s", k->settings);
  if (k && k->bitrate_property && config && config->bitrate)
    g_string_append_printf (
        desc, " %s=%u", k->bitrate_property, config->bitrate / k->bitrate_unit);
  if (k && k->keyframe_property && config && config->keyframe_interval)
    g_string_append_printf (
        desc, " %s=%u", k->keyframe_property, config->keyframe_interval);
  if (k && k->output_caps)
    g_string_append_printf (desc, " ! %s", k->output_caps);
  return g_string_free (desc, FALSE);
}

gchar *
hq_codec_decoder_description (const HqCodec *codec, GError **error)
{
  g_autoptr (GstElementFactory) factory = hq_codec_decoder_factory (codec);
  const KnownElement *k;

  if (factory == NULL) {
    set_missing (error, codec, "decoder");
    return NULL;
  }
  k = known (decoders, G_N_ELEMENTS (decoders), factory);
  return g_strdup_printf ("%s%s%s%s%s", codec->parser ? codec->parser : "",
      codec->parser ? " ! " : "", gst_plugin_feature_get_name (factory),
      k && k->settings && *k->settings ? " " : "",
      k && k->settings ? k->settings : "");
}

gboolean
hq_codec_encoder_set_bitrate (GstElement *encoder, guint bitrate)
{
  GstElementFactory *factory = gst_element_get_factory (encoder);
  const KnownElement *k =
      factory ? known (encoders, G_N_ELEMENTS (encoders), factory) : NULL;

  if (k == NULL || k->bitrate_property == NULL)
    return FALSE;
  g_object_set (encoder, k->bitrate_property, bitrate / k->bitrate_unit, NULL);
  return TRUE;
}
