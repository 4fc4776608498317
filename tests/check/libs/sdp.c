/* Unit tests for libhq's SDP layer: parsing what Chromium and webrtcbin
 * send (fixtures under tests/check/libs/sdp/), building offers and
 * answers and reading them back with both hq_sdp_parse() and GStreamer's
 * own SDP parser, answer negotiation, re-offers, and a table of hostile
 * inputs where each must get its own error, never a crash. */
#include <string.h>
#include <glib.h>
#include <gst/gst.h>
#include <gmodule.h>
#include <gst/sdp/sdp.h>
#include <hq/hqsdp.h>
#include "sdp/local.h"

#define FP_CHROMIUM                                                            \
  "5D:7A:0B:2E:91:C4:33:8F:E6:12:A9:4B:70:DD:05:C8:"                           \
  "3E:F1:62:9A:B7:0C:48:E3:D9:21:6F:84:AA:17:5B:C2"

static gchar *
fixture (const gchar *name)
{
  g_autofree gchar *path = g_build_filename (SDP_FIXTURES, name, NULL);
  g_autoptr (GError) error = NULL;
  gchar *text = NULL;

  g_file_get_contents (path, &text, NULL, &error);
  g_assert_no_error (error);
  return text;
}

static HqSdp *
parse_fixture (HqSdpType type, const gchar *name)
{
  g_autofree gchar *text = fixture (name);
  g_autoptr (GError) error = NULL;
  HqSdp *sdp = hq_sdp_parse (type, text, -1, &error);

  g_assert_no_error (error);
  g_assert_nonnull (sdp);
  return sdp;
}

static const HqSdpMedia *
media_at (const HqSdp *sdp, guint i)
{
  g_assert_cmpuint (i, <, sdp->media->len);
  return sdp->media->pdata[i];
}

static const HqSdpCodec *
codec_at (const HqSdpMedia *m, guint i)
{
  g_assert_cmpuint (i, <, m->codecs->len);
  return m->codecs->pdata[i];
}

/* Writes @sdp, checks GStreamer's parser reads the same m-lines, and
 * returns what hq_sdp_parse() makes of the text. */
static HqSdp *
reparse (const HqSdp *sdp)
{
  g_autofree gchar *text = hq_sdp_to_text (sdp);
  g_autoptr (GError) error = NULL;
  GstSDPMessage *msg = NULL;
  HqSdp *again;

  g_assert_true (g_str_has_prefix (text, "v=0\r\n"));
  gst_sdp_message_new (&msg);
  g_assert_cmpint (
      gst_sdp_message_parse_buffer ((const guint8 *)text, strlen (text), msg),
      ==, GST_SDP_OK);
  g_assert_cmpuint (gst_sdp_message_medias_len (msg), ==, sdp->media->len);
  for (guint i = 0; i < sdp->media->len; i++) {
    const HqSdpMedia *m = sdp->media->pdata[i];
    const GstSDPMedia *gm = gst_sdp_message_get_media (msg, i);

    g_assert_cmpstr (
        gst_sdp_media_get_media (gm), ==, hq_sdp_kind_to_string (m->kind));
    g_assert_cmpuint (gst_sdp_media_get_port (gm), ==, m->port);
    g_assert_cmpstr (gst_sdp_media_get_attribute_val (gm, "mid"), ==, m->mid);
    /* GStreamer's own rtpmap/fmtp reading agrees on every codec */
    for (guint j = 0; hq_sdp_media_is_active (m) && j < m->codecs->len; j++) {
      const HqSdpCodec *c = m->codecs->pdata[j];
      GstCaps *caps = gst_sdp_media_get_caps_from_media (gm, c->pt);
      const GstStructure *s;
      gint rate = 0;

      g_assert_nonnull (caps);
      s = gst_caps_get_structure (caps, 0);
      g_assert_true (gst_structure_get_int (s, "clock-rate", &rate));
      g_assert_cmpint (rate, ==, c->clock_rate);
      g_assert_cmpint (
          g_ascii_strcasecmp (
              gst_structure_get_string (s, "encoding-name"), c->name),
          ==, 0);
      gst_caps_unref (caps);
    }
  }
  gst_sdp_message_free (msg);

  again = hq_sdp_parse (sdp->type, text, -1, &error);
  g_assert_no_error (error);
  return again;
}

/* --- parsing what browsers and webrtcbin send --- */

static void
test_parse_chromium_offer (void)
{
  g_autoptr (HqSdp) sdp = parse_fixture (HQ_SDP_OFFER, "chromium-offer.sdp");
  const HqSdpMedia *audio, *video, *app;
  const HqSdpCodec *c;
  g_autoptr (GArray) primaries = NULL;

  g_assert_cmpuint (
      sdp->session_id, ==, G_GUINT64_CONSTANT (4611731400430051336));
  g_assert_cmpuint (sdp->session_version, ==, 2);
  g_assert_true (sdp->ice_trickle);
  g_assert_true (sdp->extmap_allow_mixed);
  g_assert_cmpstr (sdp->msid_semantic, ==, "WMS 3f1c2a7e-stream");
  g_assert_cmpuint (sdp->bundle->len, ==, 3);
  g_assert_cmpstr (sdp->bundle->pdata[0], ==, "0");
  g_assert_cmpstr (sdp->bundle->pdata[2], ==, "2");
  g_assert_cmpuint (sdp->media->len, ==, 3);

  g_assert_cmpstr (hq_sdp_get_ice_ufrag (sdp), ==, "Xk2d");
  g_assert_cmpstr (hq_sdp_get_ice_pwd (sdp), ==, "Qy8vB1nR7sT4uW0zA3cE6fH9");
  g_assert_cmpstr (hq_sdp_get_fingerprint (sdp), ==, FP_CHROMIUM);
  g_assert_cmpint (hq_sdp_get_setup (sdp), ==, HQ_SDP_SETUP_ACTPASS);
  g_assert_cmpuint (hq_sdp_get_candidates (sdp)->len, ==, 0);

  audio = media_at (sdp, 0);
  g_assert_cmpint (audio->kind, ==, HQ_SDP_KIND_AUDIO);
  g_assert_cmpstr (audio->mid, ==, "0");
  g_assert_cmpuint (audio->port, ==, 9);
  g_assert_cmpint (audio->direction, ==, HQ_SDP_SENDRECV);
  g_assert_true (audio->rtcp_mux);
  g_assert_true (audio->rtcp_rsize);
  g_assert_cmpstr (audio->fingerprint_alg, ==, "sha-256");
  /* 111 63 9 0 8 13 110 126: eight codecs, none of them rtx */
  g_assert_cmpuint (audio->codecs->len, ==, 8);
  c = codec_at (audio, 0);
  g_assert_cmpuint (c->pt, ==, 111);
  g_assert_cmpstr (c->name, ==, "opus");
  g_assert_cmpuint (c->clock_rate, ==, 48000);
  g_assert_cmpuint (c->channels, ==, 2);
  g_assert_cmpstr (c->fmtp, ==, "minptime=10;useinbandfec=1");
  g_assert_cmpuint (c->rtcp_fb->len, ==, 1);
  g_assert_true (hq_sdp_codec_has_fb (c, "transport-cc"));
  g_assert_cmpint (c->rtx_pt, ==, -1);
  c = codec_at (audio, 1);
  g_assert_cmpstr (c->name, ==, "red");
  g_assert_cmpstr (c->fmtp, ==, "111/111");
  c = hq_sdp_media_find_codec (audio, 0);
  g_assert_cmpstr (c->name, ==, "PCMU");
  g_assert_cmpuint (c->clock_rate, ==, 8000);
  g_assert_cmpuint (
      hq_sdp_media_extmap_id (audio, HQ_SDP_EXT_AUDIO_LEVEL), ==, 1);
  g_assert_cmpuint (
      hq_sdp_media_extmap_id (audio, HQ_SDP_EXT_ABS_SEND_TIME), ==, 2);
  g_assert_cmpuint (hq_sdp_media_extmap_id (audio, HQ_SDP_EXT_TWCC), ==, 3);
  g_assert_cmpuint (hq_sdp_media_extmap_id (audio, HQ_SDP_EXT_MID), ==, 4);
  g_assert_cmpstr (audio->msid_stream, ==, "3f1c2a7e-stream");
  g_assert_cmpstr (audio->msid_track, ==, "9d2e-audio-track");
  g_assert_cmpuint (audio->ssrcs->len, ==, 1);
  g_assert_cmpuint (
      ((HqSdpSsrc *)audio->ssrcs->pdata[0])->ssrc, ==, 1111111111);
  g_assert_cmpstr (
      ((HqSdpSsrc *)audio->ssrcs->pdata[0])->cname, ==, "Zq4BfG1kLm7Np2Rs");
  g_assert_cmpstr (((HqSdpSsrc *)audio->ssrcs->pdata[0])->msid, ==,
      "3f1c2a7e-stream 9d2e-audio-track");

  video = media_at (sdp, 1);
  g_assert_cmpint (video->kind, ==, HQ_SDP_KIND_VIDEO);
  g_assert_cmpstr (video->mid, ==, "1");
  /* 25 formats, 12 of them rtx folded into their codecs */
  g_assert_cmpuint (video->codecs->len, ==, 13);
  c = codec_at (video, 0);
  g_assert_cmpstr (c->name, ==, "VP8");
  g_assert_cmpuint (c->clock_rate, ==, 90000);
  g_assert_cmpuint (c->channels, ==, 0);
  g_assert_cmpint (c->rtx_pt, ==, 97);
  g_assert_cmpuint (c->rtcp_fb->len, ==, 5);
  g_assert_true (hq_sdp_codec_has_fb (c, "nack pli"));
  g_assert_true (hq_sdp_codec_has_fb (c, "ccm fir"));
  g_assert_true (hq_sdp_codec_has_fb (c, "goog-remb"));
  c = hq_sdp_media_find_codec (video, 106);
  g_assert_cmpstr (c->name, ==, "H264");
  g_assert_cmpint (c->rtx_pt, ==, 107);
  {
    g_autofree gchar *plid = hq_sdp_codec_get_param (c, "profile-level-id");
    g_autofree gchar *mode = hq_sdp_codec_get_param (c, "packetization-mode");
    g_assert_cmpstr (plid, ==, "42e01f");
    g_assert_cmpstr (mode, ==, "1");
  }
  g_assert_cmpint (hq_sdp_media_find_codec (video, 116)->rtx_pt, ==, 117);
  g_assert_cmpint (hq_sdp_media_find_codec (video, 118)->rtx_pt, ==, -1);
  g_assert_null (hq_sdp_media_find_codec (video, 97));
  g_assert_cmpuint (video->extmaps->len, ==, 11);
  g_assert_cmpuint (
      hq_sdp_media_extmap_id (video, "urn:ietf:params:rtp-hdrext:toffset"), ==,
      14);
  g_assert_cmpuint (hq_sdp_media_extmap_id (video, HQ_SDP_EXT_TWCC), ==, 3);
  g_assert_cmpuint (video->fids->len, ==, 1);
  g_assert_cmpuint (
      hq_sdp_media_rtx_ssrc (video, 2222222222u), ==, 3333333333u);
  primaries = hq_sdp_media_primary_ssrcs (video);
  g_assert_cmpuint (primaries->len, ==, 1);
  g_assert_cmpuint (g_array_index (primaries, guint32, 0), ==, 2222222222u);

  app = media_at (sdp, 2);
  g_assert_cmpint (app->kind, ==, HQ_SDP_KIND_APPLICATION);
  g_assert_cmpstr (app->mid, ==, "2");
  g_assert_cmpstr (app->protocol, ==, "UDP/DTLS/SCTP");
  g_assert_cmpstr (app->app_formats, ==, "webrtc-datachannel");
  g_assert_cmpuint (app->codecs->len, ==, 0);
}

static HqSdp *answer_to (const HqSdp *offer, const HqSdpTrack *tracks, guint n);
static HqSdp *answer_fixture (
    const gchar *name, const HqSdpTrack *tracks, guint n);

/* A createOffer() captured from Debian's Chromium 156 by
 * tests/check/libs/sdp-chromium.c (audio, video, data channel). */
static void
test_chromium156_real_offer (void)
{
  g_autoptr (HqSdp) offer =
      parse_fixture (HQ_SDP_OFFER, "chromium156-offer-real.sdp");
  g_autoptr (HqSdp) answer =
      answer_fixture ("chromium156-offer-real.sdp", NULL, 0);
  const HqSdpMedia *video = media_at (offer, 1),
                   *answered = media_at (answer, 1);
  g_autoptr (GArray) primaries = hq_sdp_media_primary_ssrcs (video);

  g_assert_cmpuint (offer->media->len, ==, 3);
  g_assert_cmpint (hq_sdp_media_find_codec (video, 108)->rtx_pt, ==, 109);
  g_assert_cmpstr (hq_sdp_media_find_codec (video, 102)->fmtp, ==,
      "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42001f");
  g_assert_cmpstr (media_at (offer, 0)->msid_stream, ==, "-");
  g_assert_cmpuint (primaries->len, ==, 1);
  g_assert_cmpuint (
      hq_sdp_media_rtx_ssrc (video, g_array_index (primaries, guint32, 0)), !=,
      0);
  /* 102 is baseline, not constrained baseline: only VP8 and 108 remain */
  g_assert_cmpuint (answered->codecs->len, ==, 2);
  g_assert_cmpuint (codec_at (answered, 0)->pt, ==, 96);
  g_assert_cmpuint (codec_at (answered, 1)->pt, ==, 108);
  g_assert_cmpint (codec_at (answered, 1)->rtx_pt, ==, 109);
  g_assert_cmpuint (media_at (answer, 2)->port, ==, 0);
}

static void
test_parse_chromium_answer (void)
{
  g_autoptr (HqSdp) sdp = parse_fixture (HQ_SDP_ANSWER, "chromium-answer.sdp");
  const HqSdpMedia *audio = media_at (sdp, 0), *video = media_at (sdp, 1);
  const GPtrArray *cands = hq_sdp_get_candidates (sdp);

  g_assert_cmpint (sdp->type, ==, HQ_SDP_ANSWER);
  g_assert_cmpint (hq_sdp_get_setup (sdp), ==, HQ_SDP_SETUP_ACTIVE);
  g_assert_cmpstr (hq_sdp_get_ice_ufrag (sdp), ==, "Pr9T");
  g_assert_cmpstr (sdp->msid_semantic, ==, "WMS");
  g_assert_cmpuint (cands->len, ==, 2);
  g_assert_cmpstr (cands->pdata[0], ==,
      "candidate:1467250027 1 udp 2122260223 127.0.0.1 46243 typ host "
      "generation 0 network-id 1");
  g_assert_true (g_str_has_prefix (cands->pdata[1], "candidate:842163049 "));
  g_assert_true (audio->end_of_candidates);
  g_assert_false (video->end_of_candidates);
  g_assert_cmpint (audio->direction, ==, HQ_SDP_RECVONLY);
  g_assert_cmpint (video->direction, ==, HQ_SDP_SENDONLY);
  g_assert_cmpstr (video->msid_stream, ==, "-");
  g_assert_cmpstr (video->msid_track, ==, "77aa-video");
  g_assert_cmpuint (video->codecs->len, ==, 2);
  g_assert_cmpint (codec_at (video, 1)->rtx_pt, ==, 103);
  g_assert_cmpuint (hq_sdp_media_rtx_ssrc (video, 3444444444u), ==, 555555555u);
  g_assert_cmpuint (hq_sdp_media_rtx_ssrc (video, 555555555u), ==, 0);
}

static void
test_parse_webrtcbin_offer (void)
{
  g_autoptr (HqSdp) sdp = parse_fixture (HQ_SDP_OFFER, "webrtcbin-offer.sdp");
  const HqSdpMedia *video = media_at (sdp, 0), *audio = media_at (sdp, 1);

  g_assert_true (sdp->ice_trickle);
  g_assert_cmpstr (sdp->bundle->pdata[0], ==, "video0");
  g_assert_cmpstr (video->mid, ==, "video0");
  g_assert_cmpstr (audio->mid, ==, "audio1");
  g_assert_cmpstr (codec_at (audio, 0)->name, ==, "OPUS");
  g_assert_cmpuint (codec_at (audio, 0)->pt, ==, 97);
  g_assert_cmpint (codec_at (video, 0)->rtx_pt, ==, 97);
  g_assert_cmpuint (hq_sdp_media_extmap_id (video, HQ_SDP_EXT_TWCC), ==, 1);
  g_assert_cmpuint (
      hq_sdp_media_rtx_ssrc (video, 1806298574u), ==, 2963411432u);
  g_assert_cmpstr (
      ((HqSdpSsrc *)audio->ssrcs->pdata[0])->cname, ==, "user1234@host-5e1f");
  /* no a=msid in 1.22: the stream comes from a=ssrc msid */
  g_assert_null (video->msid_stream);
  g_assert_cmpstr (
      hq_sdp_get_ice_ufrag (sdp), ==, "kLcYxJ8pPjFqY0w3hzSOX1Tm2rZuAe5B");
}

static void
test_roundtrip_chromium (void)
{
  g_autoptr (HqSdp) sdp = parse_fixture (HQ_SDP_OFFER, "chromium-offer.sdp");
  g_autoptr (HqSdp) again = reparse (sdp);

  g_assert_cmpuint (again->session_id, ==, sdp->session_id);
  g_assert_cmpuint (again->bundle->len, ==, 3);
  g_assert_true (again->extmap_allow_mixed);
  g_assert_cmpstr (again->msid_semantic, ==, sdp->msid_semantic);
  for (guint i = 0; i < sdp->media->len; i++) {
    const HqSdpMedia *a = sdp->media->pdata[i], *b = again->media->pdata[i];

    g_assert_cmpstr (a->mid, ==, b->mid);
    g_assert_cmpint (a->direction, ==, b->direction);
    g_assert_cmpuint (a->codecs->len, ==, b->codecs->len);
    for (guint j = 0; j < a->codecs->len; j++) {
      const HqSdpCodec *x = a->codecs->pdata[j], *y = b->codecs->pdata[j];
      g_assert_cmpuint (x->pt, ==, y->pt);
      g_assert_cmpstr (x->fmtp, ==, y->fmtp);
      g_assert_cmpint (x->rtx_pt, ==, y->rtx_pt);
      g_assert_cmpuint (x->rtcp_fb->len, ==, y->rtcp_fb->len);
    }
    g_assert_cmpuint (a->extmaps->len, ==, b->extmaps->len);
    g_assert_cmpuint (a->ssrcs->len, ==, b->ssrcs->len);
    g_assert_cmpuint (a->fids->len, ==, b->fids->len);
    g_assert_cmpstr (a->fingerprint, ==, b->fingerprint);
    g_assert_cmpstr (a->msid_track, ==, b->msid_track);
  }
}

static void
test_roundtrip_partial_datachannel (void)
{
  /* a data channel m-line need not carry ICE credentials; one with only a
   * ufrag must still be written back as something we read */
  const gchar *text = "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n"
                      "m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\n"
                      "a=ice-ufrag:abcd\r\na=mid:d\r\n";
  g_autoptr (GError) error = NULL;
  g_autoptr (HqSdp) sdp = hq_sdp_parse (HQ_SDP_OFFER, text, -1, &error);
  g_autoptr (HqSdp) again = NULL;

  g_assert_no_error (error);
  again = reparse (sdp);
  g_assert_cmpstr (media_at (again, 0)->mid, ==, "d");
  g_assert_cmpuint (media_at (again, 0)->port, ==, 9);
}

static void
test_parse_bundle_only (void)
{
  /* RFC 8843: port 0 with a=bundle-only is not a removed m-line */
  const gchar *text = "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n"
                      "a=group:BUNDLE a v\r\n"
                      "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\n"
                      "a=ice-ufrag:abcd\r\na=ice-pwd:abcdefghijklmnopqrstuv\r\n"
                      "a=fingerprint:sha-256 " FP_CHROMIUM "\r\n"
                      "a=setup:actpass\r\na=mid:a\r\na=rtcp-mux\r\n"
                      "a=rtpmap:111 opus/48000/2\r\n"
                      "m=video 0 UDP/TLS/RTP/SAVPF 96\r\na=bundle-only\r\n"
                      "a=mid:v\r\na=rtcp-mux\r\na=rtpmap:96 VP8/90000\r\n";
  g_autoptr (GError) error = NULL;
  g_autoptr (HqSdp) offer = hq_sdp_parse (HQ_SDP_OFFER, text, -1, &error);
  g_autoptr (HqSdp) answer = NULL;

  g_assert_no_error (error);
  g_assert_true (hq_sdp_media_is_active (media_at (offer, 1)));
  /* it has no transport of its own: it shares the BUNDLE tag's */
  g_assert_cmpstr (media_at (offer, 1)->ice_ufrag, ==, "abcd");
  g_assert_cmpstr (media_at (offer, 1)->fingerprint, ==, FP_CHROMIUM);
  g_assert_cmpint (media_at (offer, 1)->setup, ==, HQ_SDP_SETUP_ACTPASS);
  answer = answer_to (offer, NULL, 0);
  g_assert_cmpuint (media_at (answer, 1)->port, ==, 9);
  g_assert_cmpuint (answer->bundle->len, ==, 2);
}

/* --- offers --- */

static const HqSdpTrack av_tracks[] = {
  { HQ_SDP_KIND_AUDIO, NULL, HQ_SDP_SENDRECV, "stream-a", "mic", 1001, 0 },
  { HQ_SDP_KIND_VIDEO, NULL, HQ_SDP_SENDRECV, "stream-a", "cam", 2001, 2002 },
};

static void
test_offer_build (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (HqSdp) offer =
      hq_sdp_build_offer (&local, av_tracks, 2, NULL, &error);
  g_autoptr (HqSdp) parsed = NULL;
  const HqSdpMedia *audio, *video;
  const HqSdpCodec *c;

  g_assert_no_error (error);
  parsed = reparse (offer);
  g_assert_cmpuint (parsed->session_id, ==, 42);
  g_assert_cmpuint (parsed->session_version, ==, 1);
  g_assert_true (parsed->ice_trickle);
  g_assert_cmpuint (parsed->bundle->len, ==, 2);
  g_assert_cmpstr (parsed->bundle->pdata[0], ==, "0");
  g_assert_cmpstr (parsed->bundle->pdata[1], ==, "1");
  g_assert_cmpstr (parsed->msid_semantic, ==, "WMS stream-a");
  g_assert_cmpint (hq_sdp_get_setup (parsed), ==, HQ_SDP_SETUP_ACTPASS);
  g_assert_cmpstr (hq_sdp_get_fingerprint (parsed), ==, FP_OURS);
  g_assert_cmpstr (hq_sdp_get_ice_pwd (parsed), ==, local.ice_pwd);

  audio = media_at (parsed, 0);
  g_assert_cmpstr (audio->mid, ==, "0");
  g_assert_true (audio->rtcp_mux);
  g_assert_true (audio->rtcp_rsize);
  g_assert_cmpuint (audio->codecs->len, ==, 1);
  c = codec_at (audio, 0);
  g_assert_cmpstr (c->name, ==, "opus");
  g_assert_cmpuint (c->channels, ==, 2);
  g_assert_cmpstr (c->fmtp, ==, "minptime=10;useinbandfec=1");
  g_assert_true (hq_sdp_codec_has_fb (c, "transport-cc"));
  g_assert_cmpuint (audio->extmaps->len, ==, 4);
  g_assert_cmpuint (
      hq_sdp_media_extmap_id (audio, HQ_SDP_EXT_AUDIO_LEVEL), !=, 0);
  g_assert_cmpuint (hq_sdp_media_extmap_id (audio, HQ_SDP_EXT_MID), !=, 0);
  g_assert_cmpstr (audio->msid_stream, ==, "stream-a");
  g_assert_cmpstr (audio->msid_track, ==, "mic");
  g_assert_cmpuint (audio->ssrcs->len, ==, 1);
  g_assert_cmpstr (
      ((HqSdpSsrc *)audio->ssrcs->pdata[0])->cname, ==, "hq-cname");

  video = media_at (parsed, 1);
  g_assert_cmpstr (video->mid, ==, "1");
  g_assert_cmpuint (video->codecs->len, ==, 2);
  c = hq_sdp_media_find_codec_by_name (video, "VP8");
  g_assert_nonnull (c);
  g_assert_cmpint (c->rtx_pt, >=, 96);
  for (guint i = 0; i < video->codecs->len; i++) {
    c = video->codecs->pdata[i];
    g_assert_cmpint (c->rtx_pt, >=, 0);
    g_assert_true (hq_sdp_codec_has_fb (c, "nack"));
    g_assert_true (hq_sdp_codec_has_fb (c, "nack pli"));
    g_assert_true (hq_sdp_codec_has_fb (c, "ccm fir"));
    g_assert_true (hq_sdp_codec_has_fb (c, "goog-remb"));
    g_assert_true (hq_sdp_codec_has_fb (c, "transport-cc"));
  }
  c = hq_sdp_media_find_codec_by_name (video, "H264");
  g_assert_cmpstr (c->fmtp, ==,
      "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f");
  g_assert_cmpuint (
      hq_sdp_media_extmap_id (video, HQ_SDP_EXT_AUDIO_LEVEL), ==, 0);
  g_assert_cmpuint (hq_sdp_media_extmap_id (video, HQ_SDP_EXT_TWCC), ==,
      hq_sdp_media_extmap_id (audio, HQ_SDP_EXT_TWCC));
  g_assert_cmpuint (hq_sdp_media_rtx_ssrc (video, 2001), ==, 2002);
  g_assert_cmpuint (video->ssrcs->len, ==, 2);
}

static void
test_offer_recvonly_and_mids (void)
{
  const HqSdpTrack tracks[] = {
    { HQ_SDP_KIND_VIDEO, "cam", HQ_SDP_RECVONLY, NULL, NULL, 0, 0 },
    { HQ_SDP_KIND_AUDIO, NULL, HQ_SDP_RECVONLY, NULL, NULL, 0, 0 },
  };
  g_autoptr (GError) error = NULL;
  g_autoptr (HqSdp) offer =
      hq_sdp_build_offer (&local, tracks, 2, NULL, &error);
  g_autoptr (HqSdp) parsed = NULL;

  g_assert_no_error (error);
  parsed = reparse (offer);
  g_assert_cmpstr (media_at (parsed, 0)->mid, ==, "cam");
  g_assert_cmpstr (media_at (parsed, 1)->mid, ==, "0");
  g_assert_cmpint (media_at (parsed, 0)->direction, ==, HQ_SDP_RECVONLY);
  g_assert_cmpuint (media_at (parsed, 0)->ssrcs->len, ==, 0);
  g_assert_null (media_at (parsed, 0)->msid_stream);
}

/* --- answers --- */

static HqSdp *
answer_to (const HqSdp *offer, const HqSdpTrack *tracks, guint n)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (HqSdp) answer =
      hq_sdp_build_answer (offer, &local, tracks, n, &error);

  g_assert_no_error (error);
  return reparse (answer);
}

static HqSdp *
answer_fixture (const gchar *name, const HqSdpTrack *tracks, guint n)
{
  g_autoptr (HqSdp) offer = parse_fixture (HQ_SDP_OFFER, name);

  return answer_to (offer, tracks, n);
}

static void
test_answer_chromium (void)
{
  /* the SFU's publish transport: we receive the browser's tracks */
  g_autoptr (HqSdp) answer = answer_fixture ("chromium-offer.sdp", NULL, 0);
  const HqSdpMedia *audio = media_at (answer, 0), *video = media_at (answer, 1),
                   *app = media_at (answer, 2);

  g_assert_cmpint (answer->type, ==, HQ_SDP_ANSWER);
  g_assert_cmpint (hq_sdp_get_setup (answer), ==, HQ_SDP_SETUP_PASSIVE);
  g_assert_cmpstr (hq_sdp_get_ice_ufrag (answer), ==, "hqU1");

  g_assert_cmpuint (audio->port, ==, 9);
  g_assert_cmpint (audio->direction, ==, HQ_SDP_RECVONLY);
  g_assert_cmpuint (audio->codecs->len, ==, 1);
  g_assert_cmpuint (codec_at (audio, 0)->pt, ==, 111);
  g_assert_cmpuint (audio->extmaps->len, ==, 4);
  g_assert_cmpuint (
      hq_sdp_media_extmap_id (audio, HQ_SDP_EXT_AUDIO_LEVEL), ==, 1);
  g_assert_cmpuint (audio->ssrcs->len, ==, 0);

  /* VP8 and the one constrained-baseline packetization-mode=1 H.264,
   * with the offerer's numbers */
  g_assert_cmpint (video->direction, ==, HQ_SDP_RECVONLY);
  g_assert_cmpuint (video->codecs->len, ==, 2);
  g_assert_cmpuint (codec_at (video, 0)->pt, ==, 96);
  g_assert_cmpint (codec_at (video, 0)->rtx_pt, ==, 97);
  g_assert_cmpuint (codec_at (video, 1)->pt, ==, 106);
  g_assert_cmpint (codec_at (video, 1)->rtx_pt, ==, 107);
  g_assert_cmpuint (codec_at (video, 1)->rtcp_fb->len, ==, 5);
  /* toffset, playout-delay, ... are not ours; ids kept for the rest */
  g_assert_cmpuint (video->extmaps->len, ==, 3);
  g_assert_cmpuint (
      hq_sdp_media_extmap_id (video, HQ_SDP_EXT_ABS_SEND_TIME), ==, 2);
  g_assert_cmpuint (hq_sdp_media_extmap_id (video, HQ_SDP_EXT_TWCC), ==, 3);
  g_assert_cmpuint (hq_sdp_media_extmap_id (video, HQ_SDP_EXT_MID), ==, 4);

  g_assert_cmpuint (app->port, ==, 0);
  g_assert_cmpstr (app->mid, ==, "2");
  g_assert_cmpuint (answer->bundle->len, ==, 2);
  g_assert_cmpstr (answer->bundle->pdata[0], ==, "0");
  g_assert_cmpstr (answer->bundle->pdata[1], ==, "1");
}

static void
test_answer_sending (void)
{
  const HqSdpTrack tracks[] = {
    { HQ_SDP_KIND_VIDEO, "1", HQ_SDP_SENDRECV, "peer", "peer-cam", 7001, 7002 },
  };
  g_autoptr (HqSdp) answer = answer_fixture ("chromium-offer.sdp", tracks, 1);
  const HqSdpMedia *video = media_at (answer, 1);

  g_assert_cmpint (video->direction, ==, HQ_SDP_SENDRECV);
  g_assert_cmpstr (video->msid_track, ==, "peer-cam");
  g_assert_cmpuint (hq_sdp_media_rtx_ssrc (video, 7001), ==, 7002);
  g_assert_cmpint (media_at (answer, 0)->direction, ==, HQ_SDP_RECVONLY);
}

static void
test_answer_webrtcbin (void)
{
  g_autoptr (HqSdp) answer = answer_fixture ("webrtcbin-offer.sdp", NULL, 0);
  const HqSdpMedia *video = media_at (answer, 0), *audio = media_at (answer, 1);

  g_assert_cmpstr (video->mid, ==, "video0");
  g_assert_cmpuint (codec_at (video, 0)->pt, ==, 96);
  g_assert_cmpint (codec_at (video, 0)->rtx_pt, ==, 97);
  g_assert_cmpuint (hq_sdp_media_extmap_id (video, HQ_SDP_EXT_TWCC), ==, 1);
  g_assert_cmpuint (codec_at (audio, 0)->pt, ==, 97);
  g_assert_cmpint (
      g_ascii_strcasecmp (codec_at (audio, 0)->name, "opus"), ==, 0);
  g_assert_cmpstr (answer->bundle->pdata[0], ==, "video0");
}

/* A one-m-line offer with the given m-line format list and attributes. */
static HqSdp *
offer_with (const gchar *kind, const gchar *fmts, const gchar *direction,
    const gchar *attrs)
{
  g_autofree gchar *text =
      g_strdup_printf ("v=0\r\n"
                       "o=- 1 1 IN IP4 0.0.0.0\r\n"
                       "s=-\r\nt=0 0\r\n"
                       "a=group:BUNDLE m\r\n"
                       "m=%s 9 UDP/TLS/RTP/SAVPF %s\r\n"
                       "a=ice-ufrag:abcd\r\n"
                       "a=ice-pwd:abcdefghijklmnopqrstuv\r\n"
                       "a=fingerprint:sha-256 " FP_CHROMIUM "\r\n"
                       "a=setup:actpass\r\n"
                       "a=mid:m\r\na=%s\r\na=rtcp-mux\r\n"
                       "%s",
          kind, fmts, direction, attrs);
  g_autoptr (GError) error = NULL;
  HqSdp *sdp = hq_sdp_parse (HQ_SDP_OFFER, text, -1, &error);

  g_assert_no_error (error);
  return sdp;
}

static void
test_answer_h264_profiles (void)
{
  g_autoptr (HqSdp) high = offer_with ("video", "100 101", "sendrecv",
      "a=rtpmap:100 H264/90000\r\n"
      "a=fmtp:100 packetization-mode=1;profile-level-id=64001f\r\n"
      "a=rtpmap:101 H264/90000\r\n"
      "a=fmtp:101 packetization-mode=0;profile-level-id=42e01f\r\n");
  g_autoptr (HqSdp) cb = offer_with ("video", "100", "sendrecv",
      "a=rtpmap:100 H264/90000\r\n"
      "a=fmtp:100 packetization-mode=1;profile-level-id=42e034\r\n");
  g_autoptr (HqSdp) a1 = answer_to (high, NULL, 0);
  g_autoptr (HqSdp) a2 = answer_to (cb, NULL, 0);

  /* High profile, or mode 0: nothing in common, rejected, mid kept */
  g_assert_cmpuint (media_at (a1, 0)->port, ==, 0);
  g_assert_cmpstr (media_at (a1, 0)->mid, ==, "m");
  g_assert_cmpuint (a1->bundle->len, ==, 0);
  /* constrained baseline at another level: accepted with that level */
  g_assert_cmpuint (media_at (a2, 0)->port, ==, 9);
  g_assert_cmpuint (codec_at (media_at (a2, 0), 0)->pt, ==, 100);
  g_assert_true (g_str_has_suffix (
      codec_at (media_at (a2, 0), 0)->fmtp, "profile-level-id=42e034"));
}

static void
test_answer_no_common_codec (void)
{
  g_autoptr (HqSdp) offer = offer_with ("audio", "0 8", "sendrecv", "");
  g_autoptr (HqSdp) answer = answer_to (offer, NULL, 0);

  g_assert_cmpuint (media_at (answer, 0)->port, ==, 0);
  g_assert_cmpstr (media_at (answer, 0)->mid, ==, "m");
  g_assert_null (hq_sdp_transport_media (answer));
}

static void
test_answer_directions (void)
{
  static const struct
  {
    const gchar *offered;
    HqSdpDirection wish;
    HqSdpDirection expected;
  } cases[] = {
    { "sendrecv", HQ_SDP_SENDRECV, HQ_SDP_SENDRECV },
    { "sendrecv", HQ_SDP_RECVONLY, HQ_SDP_RECVONLY },
    { "sendrecv", HQ_SDP_SENDONLY, HQ_SDP_SENDONLY },
    { "sendonly", HQ_SDP_SENDRECV, HQ_SDP_RECVONLY },
    { "sendonly", HQ_SDP_SENDONLY, HQ_SDP_INACTIVE },
    { "recvonly", HQ_SDP_SENDRECV, HQ_SDP_SENDONLY },
    { "recvonly", HQ_SDP_RECVONLY, HQ_SDP_INACTIVE },
    { "inactive", HQ_SDP_SENDRECV, HQ_SDP_INACTIVE },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
    HqSdpTrack t = { HQ_SDP_KIND_AUDIO, "m", cases[i].wish, "s", "t", 5, 0 };
    g_autoptr (HqSdp) offer = offer_with (
        "audio", "111", cases[i].offered, "a=rtpmap:111 opus/48000/2\r\n");
    g_autoptr (HqSdp) answer = answer_to (offer, &t, 1);
    const HqSdpMedia *m = media_at (answer, 0);

    g_test_message ("offer %s, we want %s", cases[i].offered,
        hq_sdp_direction_to_string (cases[i].wish));
    g_assert_cmpstr (hq_sdp_direction_to_string (m->direction), ==,
        hq_sdp_direction_to_string (cases[i].expected));
    /* we announce an SSRC exactly when we send */
    g_assert_cmpuint (m->ssrcs->len, ==,
        cases[i].expected == HQ_SDP_SENDRECV
            || cases[i].expected == HQ_SDP_SENDONLY);
  }
}

static void
test_answer_setup_roles (void)
{
  g_autoptr (HqSdp) offer =
      offer_with ("audio", "111", "sendrecv", "a=rtpmap:111 opus/48000/2\r\n");
  HqSdpLocal active = local;
  g_autoptr (HqSdp) a1 = NULL;
  g_autoptr (HqSdp) a2 = NULL;
  g_autoptr (GError) error = NULL;

  active.setup = HQ_SDP_SETUP_ACTIVE;
  a1 = hq_sdp_build_answer (offer, &active, NULL, 0, &error);
  g_assert_no_error (error);
  g_assert_cmpint (hq_sdp_get_setup (a1), ==, HQ_SDP_SETUP_ACTIVE);
  /* an offerer that already took active leaves us passive */
  ((HqSdpMedia *)offer->media->pdata[0])->setup = HQ_SDP_SETUP_ACTIVE;
  a2 = hq_sdp_build_answer (offer, &active, NULL, 0, &error);
  g_assert_no_error (error);
  g_assert_cmpint (hq_sdp_get_setup (a2), ==, HQ_SDP_SETUP_PASSIVE);
}

/* --- re-offers --- */

static void
test_reoffer_add_remove_reuse (void)
{
  const HqSdpTrack second[] = {
    /* video (mid 1) is gone; audio stays; a screen share is added */
    { HQ_SDP_KIND_AUDIO, "0", HQ_SDP_SENDRECV, "s", "mic", 1001, 0 },
    { HQ_SDP_KIND_VIDEO, NULL, HQ_SDP_SENDONLY, "s", "screen", 3001, 3002 },
  };
  const HqSdpTrack third[] = {
    { HQ_SDP_KIND_AUDIO, "0", HQ_SDP_SENDRECV, "s", "mic", 1001, 0 },
    { HQ_SDP_KIND_VIDEO, "2", HQ_SDP_SENDONLY, "s", "screen", 3001, 3002 },
    { HQ_SDP_KIND_AUDIO, NULL, HQ_SDP_SENDRECV, "s", "mic2", 4001, 0 },
  };
  g_autoptr (GError) error = NULL;
  g_autoptr (HqSdp) o1 =
      hq_sdp_build_offer (&local, av_tracks, 2, NULL, &error);
  g_autoptr (HqSdp) o2 = NULL;
  g_autoptr (HqSdp) o3 = NULL;
  g_autoptr (HqSdp) p2 = NULL;
  g_autoptr (HqSdp) p3 = NULL;

  g_assert_no_error (error);
  o2 = hq_sdp_build_offer (&local, second, 2, o1, &error);
  g_assert_no_error (error);
  p2 = reparse (o2);
  g_assert_cmpuint (p2->session_id, ==, o1->session_id);
  g_assert_cmpuint (p2->session_version, ==, o1->session_version + 1);
  g_assert_cmpuint (p2->media->len, ==, 3);
  g_assert_cmpstr (media_at (p2, 0)->mid, ==, "0");
  g_assert_cmpuint (media_at (p2, 0)->port, ==, 9);
  /* the removed video keeps its place and mid, port 0 and inactive */
  g_assert_cmpstr (media_at (p2, 1)->mid, ==, "1");
  g_assert_cmpuint (media_at (p2, 1)->port, ==, 0);
  g_assert_cmpint (media_at (p2, 1)->direction, ==, HQ_SDP_INACTIVE);
  g_assert_cmpuint (media_at (p2, 1)->ssrcs->len, ==, 0);
  /* the new track is appended: slot 1 is only being removed now */
  g_assert_cmpstr (media_at (p2, 2)->mid, ==, "2");
  g_assert_cmpint (media_at (p2, 2)->direction, ==, HQ_SDP_SENDONLY);
  g_assert_cmpuint (p2->bundle->len, ==, 2);
  g_assert_cmpstr (p2->bundle->pdata[0], ==, "0");
  g_assert_cmpstr (p2->bundle->pdata[1], ==, "2");

  /* next round: a new audio track recycles the removed slot, new mid */
  o3 = hq_sdp_build_offer (&local, third, 3, o2, &error);
  g_assert_no_error (error);
  p3 = reparse (o3);
  g_assert_cmpuint (p3->session_version, ==, o1->session_version + 2);
  g_assert_cmpuint (p3->media->len, ==, 3);
  g_assert_cmpstr (media_at (p3, 1)->mid, ==, "3");
  g_assert_cmpuint (media_at (p3, 1)->port, ==, 9);
  g_assert_cmpint (media_at (p3, 1)->kind, ==, HQ_SDP_KIND_AUDIO);
  g_assert_cmpstr (media_at (p3, 1)->msid_track, ==, "mic2");
  g_assert_cmpuint (p3->bundle->len, ==, 3);
  g_assert_cmpstr (p3->bundle->pdata[0], ==, "0");
}

/* RFC 8843: the BUNDLE tag (the first mid of the group) carries the
 * transport.  When its track goes, our re-offers keep that m-line inactive
 * with port and transport, still first in the group, and answers to them
 * too; rejecting it made Chromium start a transport nobody answers. */
static void
test_reoffer_keeps_bundle_tag (void)
{
  const HqSdpTrack only_video[] = {
    { HQ_SDP_KIND_VIDEO, "1", HQ_SDP_SENDONLY, "s", "cam", 2001, 2002 },
  };
  const HqSdpTrack video_and_audio[] = {
    { HQ_SDP_KIND_VIDEO, "1", HQ_SDP_SENDONLY, "s", "cam", 2001, 2002 },
    { HQ_SDP_KIND_AUDIO, NULL, HQ_SDP_SENDONLY, "s", "mic2", 4001, 0 },
  };
  g_autoptr (GError) error = NULL;
  g_autoptr (HqSdp) o1 =
      hq_sdp_build_offer (&local, av_tracks, 2, NULL, &error);
  g_autoptr (HqSdp) o2 = NULL;
  g_autoptr (HqSdp) o3 = NULL;
  g_autoptr (HqSdp) o4 = NULL;
  g_autoptr (HqSdp) p2 = NULL;
  g_autoptr (HqSdp) p3 = NULL;
  g_autoptr (HqSdp) p4 = NULL;
  g_autoptr (HqSdp) a2 = NULL;
  g_autofree gchar *text = NULL;
  const HqSdpMedia *tag;

  g_assert_no_error (error);
  g_assert_cmpstr (o1->bundle->pdata[0], ==, "0");
  /* the first track (mid 0, the tag) goes away */
  o2 = hq_sdp_build_offer (&local, only_video, 1, o1, &error);
  g_assert_no_error (error);
  text = hq_sdp_to_text (o2);
  g_test_message ("offer without the tag's track:\n%s", text);
  p2 = reparse (o2);
  g_assert_cmpuint (p2->media->len, ==, 2);
  tag = media_at (p2, 0);
  g_assert_cmpstr (tag->mid, ==, "0");
  g_assert_cmpint (tag->kind, ==, HQ_SDP_KIND_AUDIO);
  g_assert_cmpuint (tag->port, ==, 9);
  g_assert_cmpint (tag->direction, ==, HQ_SDP_INACTIVE);
  g_assert_cmpuint (tag->ssrcs->len, ==, 0);
  g_assert_null (tag->msid_track);
  g_assert_cmpstr (tag->ice_ufrag, ==, local.ice_ufrag);
  g_assert_nonnull (tag->fingerprint);
  g_assert_cmpint (tag->setup, ==, HQ_SDP_SETUP_ACTPASS);
  g_assert_cmpuint (p2->bundle->len, ==, 2);
  g_assert_cmpstr (p2->bundle->pdata[0], ==, "0");
  g_assert_cmpstr (p2->bundle->pdata[1], ==, "1");
  g_assert_true (hq_sdp_transport_media (p2) == tag);
  g_assert_cmpuint (media_at (p2, 1)->port, ==, 9);
  g_assert_cmpint (media_at (p2, 1)->direction, ==, HQ_SDP_SENDONLY);

  /* an answer (hqroomsrc's, the test clients') keeps the tag in place */
  a2 = answer_to (p2, NULL, 0);
  g_assert_cmpuint (media_at (a2, 0)->port, ==, 9);
  g_assert_cmpint (media_at (a2, 0)->direction, ==, HQ_SDP_INACTIVE);
  g_assert_cmpuint (a2->bundle->len, ==, 2);
  g_assert_cmpstr (a2->bundle->pdata[0], ==, "0");

  /* the kept tag is not recycled (its mid would have to change): a new
   * track is appended, and the tag stays first */
  o3 = hq_sdp_build_offer (&local, video_and_audio, 2, o2, &error);
  g_assert_no_error (error);
  p3 = reparse (o3);
  g_assert_cmpuint (p3->media->len, ==, 3);
  g_assert_cmpuint (media_at (p3, 0)->port, ==, 9);
  g_assert_cmpint (media_at (p3, 0)->direction, ==, HQ_SDP_INACTIVE);
  g_assert_cmpstr (media_at (p3, 2)->msid_track, ==, "mic2");
  g_assert_cmpuint (p3->bundle->len, ==, 3);
  g_assert_cmpstr (p3->bundle->pdata[0], ==, "0");

  /* every track gone: the group still lives, on the tag alone */
  o4 = hq_sdp_build_offer (&local, NULL, 0, o3, &error);
  g_assert_no_error (error);
  p4 = reparse (o4);
  g_assert_cmpuint (media_at (p4, 0)->port, ==, 9);
  g_assert_cmpuint (media_at (p4, 1)->port, ==, 0);
  g_assert_cmpuint (media_at (p4, 2)->port, ==, 0);
  g_assert_cmpuint (p4->bundle->len, ==, 1);
  g_assert_cmpstr (p4->bundle->pdata[0], ==, "0");
}

static void
test_reanswer_continues_session (void)
{
  g_autoptr (HqSdp) o1 = parse_fixture (HQ_SDP_OFFER, "chromium-offer.sdp");
  g_autoptr (HqSdp) a1 = answer_to (o1, NULL, 0);
  g_autoptr (HqSdp) a2 = answer_to (o1, NULL, 0);
  g_autoptr (HqSdp) again = NULL;

  hq_sdp_continue_session (a2, a1);
  again = reparse (a2);
  g_assert_cmpuint (again->session_id, ==, a1->session_id);
  g_assert_cmpuint (again->session_version, ==, a1->session_version + 1);
}

static void
test_builder_errors (void)
{
  const HqSdpTrack dup[] = {
    { HQ_SDP_KIND_AUDIO, "a", HQ_SDP_RECVONLY, NULL, NULL, 0, 0 },
    { HQ_SDP_KIND_VIDEO, "a", HQ_SDP_RECVONLY, NULL, NULL, 0, 0 },
  };
  const HqSdpTrack no_ssrc = { HQ_SDP_KIND_AUDIO, NULL, HQ_SDP_SENDRECV, "s",
    "t", 0, 0 };
  const HqSdpTrack audio_rtx = { HQ_SDP_KIND_AUDIO, NULL, HQ_SDP_SENDRECV, "s",
    "t", 1, 2 };
  const HqSdpTrack wrong_kind = { HQ_SDP_KIND_AUDIO, "1", HQ_SDP_SENDRECV, "s",
    "t", 1, 0 };
  HqSdpLocal bad = local;
  g_autoptr (HqSdp) chromium =
      parse_fixture (HQ_SDP_OFFER, "chromium-offer.sdp");
  g_autoptr (HqSdp) answer =
      parse_fixture (HQ_SDP_ANSWER, "chromium-answer.sdp");
  GError *error = NULL;

  g_assert_null (hq_sdp_build_offer (&local, dup, 2, NULL, &error));
  g_assert_error (error, HQ_SDP_ERROR, HQ_SDP_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error->message, "two tracks have mid a"));
  g_clear_error (&error);
  g_assert_null (hq_sdp_build_offer (&local, &no_ssrc, 1, NULL, &error));
  g_assert_nonnull (strstr (error->message, "needs a track id and an SSRC"));
  g_clear_error (&error);
  g_assert_null (hq_sdp_build_offer (&local, &audio_rtx, 1, NULL, &error));
  g_assert_error (error, HQ_SDP_ERROR, HQ_SDP_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  bad.fingerprint = "sha-1 00:11";
  g_assert_null (hq_sdp_build_offer (&bad, av_tracks, 2, NULL, &error));
  g_assert_nonnull (strstr (error->message, "SHA-256"));
  g_clear_error (&error);
  g_assert_null (hq_sdp_build_answer (answer, &local, NULL, 0, &error));
  g_assert_nonnull (strstr (error->message, "only an offer can be answered"));
  g_clear_error (&error);
  g_assert_null (
      hq_sdp_build_answer (chromium, &local, &wrong_kind, 1, &error));
  g_assert_nonnull (strstr (error->message, "no audio m-line with that mid"));
  g_clear_error (&error);
}

/* --- hostile input --- */

#define HEAD "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n"
#define TRANSPORT                                                              \
  "a=ice-ufrag:abcd\r\na=ice-pwd:abcdefghijklmnopqrstuv\r\n"                   \
  "a=fingerprint:sha-256 " FP_CHROMIUM "\r\na=setup:actpass\r\n"
#define AUDIO "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\n" TRANSPORT
#define OPUS "a=rtpmap:111 opus/48000/2\r\n"

static void
expect_error (const gchar *text, gssize len, gint code, const gchar *message)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (HqSdp) sdp = hq_sdp_parse (HQ_SDP_OFFER, text, len, &error);

  g_assert_null (sdp);
  g_assert_nonnull (error);
  g_test_message ("got: %s", error->message);
  g_assert_error (error, HQ_SDP_ERROR, code);
  if (strstr (error->message, message) == NULL)
    g_error ("expected '%s' in '%s'", message, error->message);
}

static void
test_hostile_table (void)
{
  static const struct
  {
    const gchar *text;
    gint code;
    const gchar *message;
  } cases[] = {
    { "", HQ_SDP_ERROR_NOT_SDP, "empty" },
    { "hello world", HQ_SDP_ERROR_NOT_SDP, "no v= line" },
    { "o=- 1 1 IN IP4 0.0.0.0\r\nv=0\r\n", HQ_SDP_ERROR_NOT_SDP, "no v= line" },
    { "v=1\r\n", HQ_SDP_ERROR_UNSUPPORTED, "version 0" },
    { "v=0\r\n\x01\x02", HQ_SDP_ERROR_NOT_SDP, "byte 0x01 on line 2" },
    { "v=0\r\ns=\xff\xfe\r\n", HQ_SDP_ERROR_NOT_SDP, "not UTF-8" },
    { "v=0\r\nthis is no sdp\r\n", HQ_SDP_ERROR_SYNTAX, "line 2 is not" },
    { "v=0\r\na=x\rm=audio 9 RTP/AVP 0\r\n", HQ_SDP_ERROR_NOT_SDP,
        "carriage return" },
    { "v=0\r\ns=-\r\n", HQ_SDP_ERROR_MISSING, "no o= line" },
    { "v=0\r\no=- abc 1 IN IP4 0.0.0.0\r\n", HQ_SDP_ERROR_SYNTAX,
        "o=: session id 'abc' is not a number" },
    { "v=0\r\no=- 99999999999999999999999 1 IN IP4 0.0.0.0\r\n",
        HQ_SDP_ERROR_SYNTAX,
        "o=: session id 99999999999999999999... out of range" },
    { HEAD "m=audio\r\n", HQ_SDP_ERROR_SYNTAX,
        "m-line 1: expected 'm=<kind> <port> <protocol> <formats>'" },
    { HEAD "m=text 9 UDP/TLS/RTP/SAVPF 0\r\n", HQ_SDP_ERROR_UNSUPPORTED,
        "m-line 1: media kind 'text' not supported" },
    { HEAD "m=audio 99999 UDP/TLS/RTP/SAVPF 0\r\n", HQ_SDP_ERROR_SYNTAX,
        "m-line 1 (audio): m=: port 99999 out of range" },
    { HEAD "m=audio 9 RTP/AVP 0\r\n", HQ_SDP_ERROR_UNSUPPORTED,
        "protocol RTP/AVP not supported" },
    { HEAD "m=audio 9 UDP/TLS/RTP/SAVPF 300\r\n", HQ_SDP_ERROR_SYNTAX,
        "m-line 1 (audio): m=: payload type 300 out of range" },
    { HEAD "m=audio 9 UDP/TLS/RTP/SAVPF 0 0\r\n", HQ_SDP_ERROR_INCONSISTENT,
        "payload type 0 listed twice" },
    { HEAD AUDIO "a=mid:0\r\na=rtcp-mux\r\na=rtpmap:300 opus/48000/2\r\n",
        HQ_SDP_ERROR_SYNTAX, "a=rtpmap: payload type 300 out of range" },
    { HEAD AUDIO "a=mid:0\r\na=rtcp-mux\r\na=rtpmap:111\r\n",
        HQ_SDP_ERROR_SYNTAX, "a=rtpmap: expected '<payload type> <value>'" },
    { HEAD AUDIO "a=mid:0\r\na=rtcp-mux\r\na=rtpmap:111 opus\r\n",
        HQ_SDP_ERROR_SYNTAX, "a=rtpmap:111: expected '<name>/<clock rate>" },
    { HEAD AUDIO "a=mid:0\r\na=rtcp-mux\r\na=rtpmap:111 opus/99999999999/2\r\n",
        HQ_SDP_ERROR_SYNTAX, "a=rtpmap: clock rate 99999999999 out of range" },
    { HEAD AUDIO "a=mid:0\r\na=rtcp-mux\r\n", HQ_SDP_ERROR_MISSING,
        "m-line 1 (audio): payload type 111 has no a=rtpmap" },
    { HEAD AUDIO OPUS "a=rtcp-mux\r\n", HQ_SDP_ERROR_MISSING,
        "m-line 1 (audio): no a=mid" },
    { HEAD AUDIO OPUS "a=mid:0\r\n", HQ_SDP_ERROR_MISSING, "no a=rtcp-mux" },
    { HEAD "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=mid:0\r\na=rtcp-mux\r\n" OPUS,
        HQ_SDP_ERROR_MISSING, "no a=setup" },
    { HEAD "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=setup:actpass\r\na=mid:0\r\n"
           "a=rtcp-mux\r\n" OPUS,
        HQ_SDP_ERROR_MISSING, "no a=ice-ufrag and a=ice-pwd" },
    { HEAD AUDIO "a=fingerprint:sha-1 00:11:22:33:44:55:66:77:88:99:AA:BB:"
                 "CC:DD:EE:FF:00:11:22:33\r\n",
        HQ_SDP_ERROR_UNSUPPORTED,
        "a=fingerprint: algorithm sha-1 not supported" },
    { HEAD AUDIO "a=fingerprint:sha-256 00:11\r\n", HQ_SDP_ERROR_SYNTAX,
        "not 32 colon-separated hex bytes" },
    { HEAD AUDIO "a=fingerprint:sha-256\r\n", HQ_SDP_ERROR_SYNTAX,
        "a=fingerprint: expected" },
    { HEAD AUDIO "a=setup:holdconn\r\n", HQ_SDP_ERROR_UNSUPPORTED,
        "a=setup: 'holdconn' is not actpass" },
    { HEAD AUDIO "a=ice-ufrag:a\r\n", HQ_SDP_ERROR_SYNTAX, "a=ice-ufrag:" },
    { HEAD AUDIO "a=ice-pwd:short\r\n", HQ_SDP_ERROR_SYNTAX, "a=ice-pwd:" },
    { HEAD AUDIO "a=mid:\r\n", HQ_SDP_ERROR_SYNTAX,
        "a=mid: '' is not a token" },
    { HEAD AUDIO "a=extmap:0 urn:x\r\n", HQ_SDP_ERROR_SYNTAX,
        "a=extmap: id 0 out of range" },
    { HEAD AUDIO "a=extmap:3\r\n", HQ_SDP_ERROR_SYNTAX, "a=extmap: expected" },
    { HEAD AUDIO "a=extmap:3/sideways urn:x\r\n", HQ_SDP_ERROR_SYNTAX,
        "'sideways' is not a direction" },
    { HEAD AUDIO "a=extmap:3 urn:x\r\na=extmap:3 urn:y\r\n",
        HQ_SDP_ERROR_INCONSISTENT, "a=extmap: id 3 used twice" },
    { HEAD AUDIO "a=ssrc:4294967296 cname:x\r\n", HQ_SDP_ERROR_SYNTAX,
        "a=ssrc: 4294967296 out of range" },
    { HEAD AUDIO "a=ssrc:-1 cname:x\r\n", HQ_SDP_ERROR_SYNTAX,
        "a=ssrc: '-1' is not a number" },
    { HEAD AUDIO "a=ssrc-group:FID 1\r\n", HQ_SDP_ERROR_SYNTAX,
        "a=ssrc-group:FID: expected two SSRCs" },
    { HEAD AUDIO "a=candidate:1 1 udp 1 127.0.0.1\r\n", HQ_SDP_ERROR_SYNTAX,
        "a=candidate: expected" },
    { HEAD AUDIO "a=msid:\r\n", HQ_SDP_ERROR_SYNTAX, "a=msid: expected" },
    { HEAD AUDIO "a=rtpmap:111 opus/48000/2\r\na=rtpmap:111 opus/48000/2\r\n",
        HQ_SDP_ERROR_INCONSISTENT, "payload type 111 described twice" },
    { HEAD "m=video 9 UDP/TLS/RTP/SAVPF 96 97\r\n" TRANSPORT
           "a=mid:v\r\na=rtcp-mux\r\na=rtpmap:96 VP8/90000\r\n"
           "a=rtpmap:97 rtx/90000\r\n",
        HQ_SDP_ERROR_MISSING,
        "m-line 1 (video): rtx payload type 97 has no apt" },
    { HEAD "m=video 9 UDP/TLS/RTP/SAVPF 96 97\r\n" TRANSPORT
           "a=mid:v\r\na=rtcp-mux\r\na=rtpmap:96 VP8/90000\r\n"
           "a=rtpmap:97 rtx/90000\r\na=fmtp:97 apt=100\r\n",
        HQ_SDP_ERROR_INCONSISTENT, "apt=100 names no codec" },
    { HEAD "a=group:BUNDLE 0 9\r\n" AUDIO OPUS "a=mid:0\r\na=rtcp-mux\r\n",
        HQ_SDP_ERROR_INCONSISTENT,
        "a=group:BUNDLE names mid 9, which no m-line has" },
    { HEAD "a=group:BUNDLE 0\r\na=group:BUNDLE 1\r\n", HQ_SDP_ERROR_UNSUPPORTED,
        "only one BUNDLE group" },
    { HEAD AUDIO OPUS "a=mid:0\r\na=rtcp-mux\r\n" AUDIO OPUS
                      "a=mid:0\r\na=rtcp-mux\r\n",
        HQ_SDP_ERROR_INCONSISTENT,
        "m-line 2 (audio): mid 0 is also used by an earlier m-line" },
    { HEAD "m=video 9 UDP/TLS/RTP/SAVPF 96\r\n" TRANSPORT
           "a=rtcp-mux\r\na=rtpmap:96 VP8/90000\r\n",
        HQ_SDP_ERROR_MISSING, "m-line 1 (video): no a=mid" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
    g_test_message ("case %u", i);
    expect_error (cases[i].text, -1, cases[i].code, cases[i].message);
  }
}

static void
test_answer_must_choose_role (void)
{
  g_autofree gchar *text = fixture ("chromium-answer.sdp");
  g_auto (GStrv) parts = g_strsplit (text, "a=setup:active", -1);
  g_autofree gchar *actpass = g_strjoinv ("a=setup:actpass", parts);
  g_autoptr (GError) error = NULL;

  g_assert_cmpuint (g_strv_length (parts), ==, 3);
  /* the same text is a fine offer, but no answer */
  g_assert_null (hq_sdp_parse (HQ_SDP_ANSWER, actpass, -1, &error));
  g_assert_error (error, HQ_SDP_ERROR, HQ_SDP_ERROR_INCONSISTENT);
  g_assert_nonnull (strstr (
      error->message, "m-line 1 (audio): a=setup:actpass in an answer"));
  g_clear_error (&error);
  hq_sdp_free (hq_sdp_parse (HQ_SDP_OFFER, actpass, -1, &error));
  g_assert_no_error (error);
}

static void
test_hostile_binary (void)
{
  guint8 garbage[4096];
  GRand *rand = g_rand_new_with_seed (1234);
  const gchar nul[] = "v=0\r\no=- 1 1 IN IP4 0\0.0.0.0\r\n";

  /* NUL inside the text, with the length given */
  expect_error (
      nul, sizeof nul - 1, HQ_SDP_ERROR_NOT_SDP, "byte 0x00 on line 2");
  for (guint round = 0; round < 50; round++) {
    g_autoptr (GError) error = NULL;
    HqSdp *sdp;

    for (guint i = 0; i < sizeof garbage; i++)
      garbage[i] = g_rand_int (rand);
    sdp = hq_sdp_parse (
        HQ_SDP_OFFER, (const gchar *)garbage, sizeof garbage, &error);
    g_assert_null (sdp);
    g_assert_error (error, HQ_SDP_ERROR, HQ_SDP_ERROR_NOT_SDP);
  }
  g_rand_free (rand);
}

static void
test_hostile_truncated (void)
{
  g_autofree gchar *text = fixture ("chromium-offer.sdp");
  gsize len = strlen (text);

  /* every prefix either parses or is refused with an error: no crash, no
   * error without a message */
  for (gsize cut = 0; cut < len; cut += 7) {
    g_autoptr (GError) error = NULL;
    g_autoptr (HqSdp) sdp = hq_sdp_parse (HQ_SDP_OFFER, text, cut, &error);

    g_assert_true ((sdp == NULL) != (error == NULL));
    if (error != NULL) {
      g_assert_true (error->domain == HQ_SDP_ERROR);
      g_assert_cmpuint (strlen (error->message), >, 5);
    }
  }
}

static void
test_hostile_sizes (void)
{
  GString *many = g_string_new (HEAD);
  gchar *huge;

  for (guint i = 0; i < 10000; i++)
    g_string_append (many, "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\n");
  expect_error (many->str, many->len, HQ_SDP_ERROR_TOO_LARGE,
      "too many m-lines: more than 256");
  g_string_free (many, TRUE);

  huge = g_malloc (HQ_SDP_MAX_SIZE + 2);
  memset (huge, 'x', HQ_SDP_MAX_SIZE + 1);
  memcpy (huge, "v=0\r\ns=", 7);
  huge[HQ_SDP_MAX_SIZE + 1] = '\0';
  expect_error (huge, -1, HQ_SDP_ERROR_TOO_LARGE, "larger than");
  g_free (huge);

  many = g_string_new (HEAD AUDIO);
  for (guint i = 0; i < 1000; i++)
    g_string_append_printf (many, "a=ssrc:%u cname:x\r\n", i + 1);
  expect_error (many->str, many->len, HQ_SDP_ERROR_TOO_LARGE,
      "a=ssrc: more than 64 SSRCs");
  g_string_free (many, TRUE);

  many = g_string_new (HEAD AUDIO);
  for (guint i = 0; i < 1000; i++)
    g_string_append (many, "a=candidate:1 1 udp 1 127.0.0.1 9 typ host\r\n");
  expect_error (
      many->str, many->len, HQ_SDP_ERROR_TOO_LARGE, "more than 128 candidates");
  g_string_free (many, TRUE);
}

/* --- interop with a real webrtcbin (gst-plugins-bad 1.22) ---
 *
 * These tests reach webrtcbin through GObject only, so they build without
 * the gstreamer-webrtc headers (not in a plain Debian setup): signals by name, enum values by
 * nick, and GstWebRTCSessionDescription through a struct of the same
 * public layout ({ GstWebRTCSDPType type; GstSDPMessage *sdp; }) copied
 * into a real boxed value with g_boxed_copy(). */

typedef struct
{
  gint type;
  GstSDPMessage *sdp;
} SessionDescription;

/* Registers and returns the type @type_name of libgstwebrtc (loaded with
 * the webrtcbin plugin) by calling its @get_type function. */
static GType
webrtc_type (const gchar *type_name, const gchar *get_type)
{
  GModule *lib = g_module_open ("libgstwebrtc-1.0.so.0", G_MODULE_BIND_LAZY);
  GType (*fn) (void) = NULL;

  g_assert_nonnull (lib);
  g_assert_true (g_module_symbol (lib, get_type, (gpointer *)&fn));
  g_assert_cmpstr (g_type_name (fn ()), ==, type_name);
  g_module_close (lib);
  return g_type_from_name (type_name);
}

static gint
enum_value (const gchar *type_name, const gchar *nick)
{
  g_autofree gchar *get_type = NULL;
  GEnumClass *klass;

  /* GstWebRTCSDPType -> gst_webrtc_sdp_type_get_type */
  if (g_str_equal (type_name, "GstWebRTCSDPType"))
    get_type = g_strdup ("gst_webrtc_sdp_type_get_type");
  else if (g_str_equal (type_name, "GstWebRTCSignalingState"))
    get_type = g_strdup ("gst_webrtc_signaling_state_get_type");
  else
    get_type = g_strdup ("gst_webrtc_rtp_transceiver_direction_get_type");
  klass = g_type_class_ref (webrtc_type (type_name, get_type));
  const GEnumValue *v = g_enum_get_value_by_nick (klass, nick);

  g_assert_nonnull (v);
  g_type_class_unref (klass);
  return v->value;
}

static GstElement *
webrtcbin_new (void)
{
  GstElement *webrtc = gst_element_factory_make ("webrtcbin", NULL);

  if (webrtc == NULL)
    return NULL;
  gst_object_ref_sink (webrtc);
  g_assert_cmpint (gst_element_set_state (webrtc, GST_STATE_READY), ==,
      GST_STATE_CHANGE_SUCCESS);
  return webrtc;
}

static void
webrtcbin_free (GstElement *webrtc)
{
  gst_element_set_state (webrtc, GST_STATE_NULL);
  gst_object_unref (webrtc);
}

/* Emits @signal with @arg and waits for webrtcbin's reply (it answers from
 * its own thread).  Fails the test when the reply carries an error. */
static GstStructure *
webrtcbin_call (GstElement *webrtc, const gchar *signal, gpointer arg)
{
  GstPromise *promise = gst_promise_new ();
  const GstStructure *reply;
  GstStructure *copy = NULL;

  g_signal_emit_by_name (webrtc, signal, arg, promise);
  g_assert_cmpint (gst_promise_wait (promise), ==, GST_PROMISE_RESULT_REPLIED);
  reply = gst_promise_get_reply (promise);
  if (reply != NULL) {
    GError *error = NULL;

    if (gst_structure_has_field (reply, "error")) {
      gst_structure_get (reply, "error", G_TYPE_ERROR, &error, NULL);
      g_error ("webrtcbin %s: %s", signal, error ? error->message : "?");
    }
    copy = gst_structure_copy (reply);
  }
  gst_promise_unref (promise);
  return copy;
}

static void
webrtcbin_set_description (GstElement *webrtc, const gchar *signal,
    const gchar *type_nick, const HqSdp *sdp)
{
  g_autofree gchar *text = hq_sdp_to_text (sdp);
  GType type = g_type_from_name ("GstWebRTCSessionDescription");
  SessionDescription mine;
  gpointer desc;
  GstStructure *reply;

  gst_sdp_message_new_from_text (text, &mine.sdp);
  mine.type = enum_value ("GstWebRTCSDPType", type_nick);
  desc = g_boxed_copy (type, &mine);
  gst_sdp_message_free (mine.sdp);
  reply = webrtcbin_call (webrtc, signal, desc);
  if (reply != NULL)
    gst_structure_free (reply);
  g_boxed_free (type, desc);
}

/* Asks webrtcbin for an offer or answer, sets it as its local description
 * and returns it parsed by hq_sdp_parse(). */
static HqSdp *
webrtcbin_create (GstElement *webrtc, const gchar *what, HqSdpType type)
{
  GType desc_type = g_type_from_name ("GstWebRTCSessionDescription");
  GstStructure *reply = webrtcbin_call (
      webrtc, type == HQ_SDP_OFFER ? "create-offer" : "create-answer", NULL);
  SessionDescription *desc = NULL;
  g_autofree gchar *text = NULL;
  g_autoptr (GError) error = NULL;
  HqSdp *sdp;

  g_assert_nonnull (reply);
  g_assert_true (gst_structure_get (reply, what, desc_type, &desc, NULL));
  gst_structure_free (reply);
  text = gst_sdp_message_as_text (desc->sdp);
  reply = webrtcbin_call (webrtc, "set-local-description", desc);
  if (reply != NULL)
    gst_structure_free (reply);
  g_boxed_free (desc_type, desc);
  g_test_message ("webrtcbin's %s:\n%s", what, text);
  sdp = hq_sdp_parse (type, text, -1, &error);
  g_assert_no_error (error);
  return sdp;
}

static void
test_webrtcbin_answers_our_offer (void)
{
  GstElement *webrtc = webrtcbin_new ();
  g_autoptr (HqSdp) offer = NULL;
  g_autoptr (HqSdp) answer = NULL;
  g_autoptr (GError) error = NULL;

  if (webrtc == NULL) {
    g_test_skip ("webrtcbin (gst-plugins-bad) is not installed");
    return;
  }
  offer = hq_sdp_build_offer (&local, av_tracks, 2, NULL, &error);
  g_assert_no_error (error);
  webrtcbin_set_description (webrtc, "set-remote-description", "offer", offer);
  answer = webrtcbin_create (webrtc, "answer", HQ_SDP_ANSWER);

  g_assert_cmpuint (answer->media->len, ==, 2);
  g_assert_cmpstr (media_at (answer, 0)->mid, ==, "0");
  g_assert_cmpstr (media_at (answer, 1)->mid, ==, "1");
  g_assert_true (hq_sdp_media_is_active (media_at (answer, 0)));
  g_assert_true (hq_sdp_media_is_active (media_at (answer, 1)));
  /* it kept our payload types and took the DTLS client role */
  g_assert_cmpstr (
      hq_sdp_media_find_codec (media_at (answer, 0), 111)->name, ==, "OPUS");
  g_assert_nonnull (hq_sdp_media_find_codec (media_at (answer, 1), 96));
  g_assert_cmpint (hq_sdp_get_setup (answer), ==, HQ_SDP_SETUP_ACTIVE);
  webrtcbin_free (webrtc);
}

static void
test_webrtcbin_takes_our_answer (void)
{
  GstElement *webrtc = webrtcbin_new ();
  g_autoptr (HqSdp) offer = NULL;
  g_autoptr (HqSdp) answer = NULL;
  g_autoptr (GError) error = NULL;
  HqSdpTrack tracks[] = {
    { HQ_SDP_KIND_VIDEO, NULL, HQ_SDP_SENDRECV, "hq", "v", 9001, 9002 },
    { HQ_SDP_KIND_AUDIO, NULL, HQ_SDP_SENDRECV, "hq", "a", 9003, 0 },
  };
  GstCaps *caps;
  gpointer trans = NULL;
  gint sendrecv, state = -1;

  if (webrtc == NULL) {
    g_test_skip ("webrtcbin (gst-plugins-bad) is not installed");
    return;
  }
  sendrecv = enum_value ("GstWebRTCRTPTransceiverDirection", "sendrecv");
  caps = gst_caps_from_string ("application/x-rtp,media=video,"
                               "encoding-name=VP8,payload=96,clock-rate=90000");
  g_signal_emit_by_name (webrtc, "add-transceiver", sendrecv, caps, &trans);
  gst_caps_unref (caps);
  g_clear_object (&trans);
  caps = gst_caps_from_string ("application/x-rtp,media=audio,"
                               "encoding-name=OPUS,payload=97,clock-rate=48000,"
                               "encoding-params=(string)2");
  g_signal_emit_by_name (webrtc, "add-transceiver", sendrecv, caps, &trans);
  gst_caps_unref (caps);
  g_clear_object (&trans);

  offer = webrtcbin_create (webrtc, "offer", HQ_SDP_OFFER);
  g_assert_cmpuint (offer->media->len, ==, 2);
  g_assert_cmpint (media_at (offer, 0)->kind, ==, HQ_SDP_KIND_VIDEO);
  g_assert_cmpint (hq_sdp_get_setup (offer), ==, HQ_SDP_SETUP_ACTPASS);

  /* webrtcbin names its mids (video0, audio1); we send on both */
  tracks[0].mid = media_at (offer, 0)->mid;
  tracks[1].mid = media_at (offer, 1)->mid;
  answer = hq_sdp_build_answer (offer, &local, tracks, 2, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (codec_at (media_at (answer, 0), 0)->pt, ==, 96);
  g_assert_cmpuint (codec_at (media_at (answer, 1), 0)->pt, ==, 97);
  webrtcbin_set_description (
      webrtc, "set-remote-description", "answer", answer);
  g_object_get (webrtc, "signaling-state", &state, NULL);
  g_assert_cmpint (state, ==, enum_value ("GstWebRTCSignalingState", "stable"));
  webrtcbin_free (webrtc);
}

/* The caps of a codec of Chromium's offer come from GStreamer's own
 * reading of the m-line and are what its depayloaders take. */
static GstCaps *
codec_caps (const HqSdp *sdp, HqSdpKind kind, guint pt)
{
  for (guint i = 0; i < sdp->media->len; i++) {
    const HqSdpMedia *m = sdp->media->pdata[i];
    const HqSdpCodec *c = hq_sdp_media_find_codec (m, pt);

    if (m->kind == kind && c != NULL)
      return hq_sdp_codec_get_caps (kind, c);
  }
  g_assert_not_reached ();
  return NULL;
}

static gboolean
depayloader_takes (const gchar *factory_name, GstCaps *caps)
{
  g_autoptr (GstElement) depay = gst_element_factory_make (factory_name, NULL);
  g_autoptr (GstPad) sink = NULL;
  g_autoptr (GstCaps) templ = NULL;

  g_assert_nonnull (depay);
  sink = gst_element_get_static_pad (depay, "sink");
  templ = gst_pad_get_pad_template_caps (sink);
  return gst_caps_can_intersect (caps, templ);
}

static void
test_codec_caps (void)
{
  g_autoptr (HqSdp) sdp = parse_fixture (HQ_SDP_OFFER, "chromium-offer.sdp");
  g_autoptr (GstCaps) opus = codec_caps (sdp, HQ_SDP_KIND_AUDIO, 111);
  g_autoptr (GstCaps) vp8 = codec_caps (sdp, HQ_SDP_KIND_VIDEO, 96);
  g_autoptr (GstCaps) h264 = codec_caps (sdp, HQ_SDP_KIND_VIDEO, 102);
  g_autoptr (GstCaps) expected = NULL;
  GstStructure *s;
  gboolean fb = FALSE;

  expected = gst_caps_from_string (
      "application/x-rtp, media=audio, payload=111, clock-rate=48000, "
      "encoding-name=OPUS, encoding-params=(string)2, minptime=(string)10, "
      "useinbandfec=(string)1");
  g_assert_true (gst_caps_is_subset (opus, expected));
  g_assert_true (depayloader_takes ("rtpopusdepay", opus));
  g_assert_false (depayloader_takes ("rtpvp8depay", opus));

  gst_caps_unref (expected);
  expected = gst_caps_from_string (
      "application/x-rtp, media=video, payload=96, clock-rate=90000, "
      "encoding-name=VP8");
  g_assert_true (gst_caps_is_subset (vp8, expected));
  s = gst_caps_get_structure (vp8, 0);
  /* the offer's a=rtcp-fb:96 nack pli */
  g_assert_true (gst_structure_get_boolean (s, "rtcp-fb-nack-pli", &fb));
  g_assert_true (fb);
  g_assert_true (depayloader_takes ("rtpvp8depay", vp8));

  s = gst_caps_get_structure (h264, 0);
  g_assert_cmpstr (gst_structure_get_string (s, "encoding-name"), ==, "H264");
  g_assert_cmpstr (gst_structure_get_string (s, "packetization-mode"), ==, "1");
  /* profile-level-id 42001f, as GStreamer names it */
  g_assert_cmpstr (gst_structure_get_string (s, "profile"), ==, "baseline");
  g_assert_true (depayloader_takes ("rtph264depay", h264));
}

static void
test_error_names (void)
{
  g_assert_cmpstr (hq_sdp_error_name (HQ_SDP_ERROR_NOT_SDP), ==, "not_sdp");
  g_assert_cmpstr (
      hq_sdp_error_name (HQ_SDP_ERROR_INCONSISTENT), ==, "inconsistent");
  g_assert_cmpstr (hq_sdp_error_name (99), ==, "unknown");
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  gst_init (NULL, NULL);

  g_test_add_func ("/sdp/parse/chromium-offer", test_parse_chromium_offer);
  g_test_add_func ("/sdp/parse/chromium-answer", test_parse_chromium_answer);
  g_test_add_func ("/sdp/parse/chromium156-real", test_chromium156_real_offer);
  g_test_add_func ("/sdp/parse/webrtcbin-offer", test_parse_webrtcbin_offer);
  g_test_add_func ("/sdp/parse/roundtrip", test_roundtrip_chromium);
  g_test_add_func (
      "/sdp/parse/partial-datachannel", test_roundtrip_partial_datachannel);
  g_test_add_func ("/sdp/parse/bundle-only", test_parse_bundle_only);
  g_test_add_func ("/sdp/offer/build", test_offer_build);
  g_test_add_func ("/sdp/offer/recvonly-mids", test_offer_recvonly_and_mids);
  g_test_add_func ("/sdp/offer/reoffer", test_reoffer_add_remove_reuse);
  g_test_add_func (
      "/sdp/offer/reoffer-keeps-bundle-tag", test_reoffer_keeps_bundle_tag);
  g_test_add_func ("/sdp/offer/errors", test_builder_errors);
  g_test_add_func ("/sdp/answer/reanswer", test_reanswer_continues_session);
  g_test_add_func ("/sdp/answer/chromium", test_answer_chromium);
  g_test_add_func ("/sdp/answer/sending", test_answer_sending);
  g_test_add_func ("/sdp/answer/webrtcbin", test_answer_webrtcbin);
  g_test_add_func ("/sdp/answer/h264-profiles", test_answer_h264_profiles);
  g_test_add_func ("/sdp/answer/no-common-codec", test_answer_no_common_codec);
  g_test_add_func ("/sdp/answer/directions", test_answer_directions);
  g_test_add_func ("/sdp/answer/setup", test_answer_setup_roles);
  g_test_add_func ("/sdp/hostile/table", test_hostile_table);
  g_test_add_func ("/sdp/hostile/binary", test_hostile_binary);
  g_test_add_func ("/sdp/hostile/answer-actpass", test_answer_must_choose_role);
  g_test_add_func ("/sdp/hostile/truncated", test_hostile_truncated);
  g_test_add_func ("/sdp/hostile/sizes", test_hostile_sizes);
  g_test_add_func ("/sdp/errors/names", test_error_names);
  g_test_add_func ("/sdp/caps/codecs", test_codec_caps);
  g_test_add_func (
      "/sdp/webrtcbin/answers-our-offer", test_webrtcbin_answers_our_offer);
  g_test_add_func (
      "/sdp/webrtcbin/takes-our-answer", test_webrtcbin_takes_our_answer);
  return g_test_run ();
}
