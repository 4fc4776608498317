/* hqcodec: the one table of the codecs a room carries (Opus, VP8, H.264)
 * and what GStreamer needs to send, receive, decode or encode each: the
 * RTP caps (payload type and clock rate as our SDP offers them,
 * hq_sdp_default_codecs), the encoded caps, the payloader and
 * depayloader, the parser, and the encoder and decoder, chosen by rank
 * among the installed elements, with the settings that make an encoder
 * fit for real time.  One more codec, AAC, is for recording files only
 * (the audio of hqrecorder's composed MP4): rooms never carry it.
 * hqroomsink and hqroomsrc build their chains from it; hqrecorder takes
 * its encoders, parsers and decoders from it, and hq-compose its encoders
 * and decoders.
 *
 * Descriptions are gst-launch-1.0 fragments ("vp8enc name=enc ..."), for
 * gst_parse_bin_from_description; an encoder description names its
 * encoder @name, so the caller finds it again for bitrate changes. */
#ifndef __HQ_CODEC_H__
#define __HQ_CODEC_H__

#include <gst/gst.h>
#include <hq/hqsdp.h>

G_BEGIN_DECLS

typedef struct _HqCodec HqCodec;

/* Our name of @codec: "opus", "VP8", "H264" (the SDP's encoding name). */
const gchar *hq_codec_name (const HqCodec *codec);
HqSdpKind hq_codec_kind (const HqCodec *codec);
/* The name of its encoded caps ("video/x-h264"): what an element that
 * names the codec in its caps, whatever the format, has in them. */
const gchar *hq_codec_media_type (const HqCodec *codec);
/* Whether end-to-end encryption covers it: Opus and VP8 frames are
 * encrypted before the payloader, H.264 is not (docs/e2ee.md). */
gboolean hq_codec_e2ee (const HqCodec *codec);

/* The codec of an SDP/RTP encoding name, case-insensitive ("OPUS",
 * "opus", "vp8", "H264"), or NULL (also for a codec rooms do not
 * carry). */
const HqCodec *hq_codec_find (const gchar *name);
/* The codec of encoded caps named @media_type (audio/x-opus,
 * video/x-vp8, video/x-h264), or NULL (raw, or a codec rooms do not
 * carry). */
const HqCodec *hq_codec_find_by_media_type (const gchar *media_type);
/* Like hq_codec_find, and also the codecs only files hold ("AAC"). */
const HqCodec *hq_codec_find_for_files (const gchar *name);
/* FALSE for a codec only files hold (AAC): it has no payload type,
 * payloader, depayloader or parser (they are 0 and NULL). */
gboolean hq_codec_in_rooms (const HqCodec *codec);

/* Raw media of @kind, or any room codec of it, by name only
 * ("video/x-raw; video/x-vp8; video/x-h264"): the caps of a pad that
 * takes or gives any of them. */
GstCaps *hq_codec_template_caps (HqSdpKind kind);

/* The payload type and clock rate our offers give @codec. */
guint hq_codec_payload_type (const HqCodec *codec);
guint hq_codec_clock_rate (const HqCodec *codec);
/* application/x-rtp caps for @codec on payload type @pt: media,
 * encoding-name, clock-rate, payload (and encoding-params for Opus). */
GstCaps *hq_codec_rtp_caps (const HqCodec *codec, guint pt);
/* The encoded caps (audio/x-opus; video/x-h264 as byte-stream access
 * units, which the payloader takes and a muxer or decoder accepts). */
GstCaps *hq_codec_caps (const HqCodec *codec);

/* "rtpvp8pay picture-id-mode=15-bit mtu=1200 pt=96 ssrc=..." without the
 * pt and ssrc (the caller adds them): the payloader and its settings. */
const gchar *hq_codec_payloader (const HqCodec *codec);
/* The depayloader and its settings (keyframes asked for and waited on). */
const gchar *hq_codec_depayloader (const HqCodec *codec);
/* What turns depayloaded frames into a stream a muxer or another pipeline
 * takes ("opusparse", the H.264 parser with SPS/PPS at each keyframe and
 * the caps; "" for VP8). */
const gchar *hq_codec_output_parser (const HqCodec *codec);
/* The parser that aligns encoded input for the payloader or a muxer
 * ("h264parse"), or NULL. */
const gchar *hq_codec_parser (const HqCodec *codec);

/**
 * HqCodecEncoderConfig:
 * @bitrate: bit/s (0: the encoder's default)
 * @keyframe_interval: frames between keyframes (0: the encoder's default)
 * @name: the encoder element's name in the description ("enc")
 */
typedef struct
{
  guint bitrate;
  guint keyframe_interval;
  const gchar *name;
} HqCodecEncoderConfig;

/* The encoder of @codec, the highest ranked installed one whose settings
 * we know (realtime, no lookahead), else the highest ranked of the rest;
 * NULL when none is installed.  A reference. */
GstElementFactory *hq_codec_encoder_factory (const HqCodec *codec);
/* The decoder, the same way; NULL when none.  A reference. */
GstElementFactory *hq_codec_decoder_factory (const HqCodec *codec);
/* The encoder with its settings for real time, @config, and what it must
 * produce ("x264enc name=enc tune=zerolatency ... ! video/x-h264,
 * profile=constrained-baseline"); NULL with @error when none is
 * installed. */
gchar *hq_codec_encoder_description (
    const HqCodec *codec, const HqCodecEncoderConfig *config, GError **error);
/* The decoder, behind a parser where the codec needs one ("h264parse !
 * avdec_h264"), with its settings (Opus conceals lost packets); NULL with
 * @error when none is installed. */
gchar *hq_codec_decoder_description (const HqCodec *codec, GError **error);
/* Sets @encoder's bitrate (bit/s) in the unit its property takes; FALSE
 * when we do not know how. */
gboolean hq_codec_encoder_set_bitrate (GstElement *encoder, guint bitrate);

G_END_DECLS

#endif /* __HQ_CODEC_H__ */
