/* Unit tests for simulcast in libhq's SDP layer: a=rid and a=simulcast in
 * an offer as Chromium writes it (three RID layers, RID and repaired-RID
 * extensions, no a=ssrc), the answer that mirrors them, our own simulcast
 * offers, the text round trip, and offers we refuse with a reason. */
#include <string.h>
#include <glib.h>
#include <gst/gst.h>
#include <hq/hqsdp.h>
#include "sdp/local.h"

/* The video m-line of a Chromium publisher with sendEncodings q, h, f
 * (Chromium 120's layout, trimmed to one codec). */
#define OFFER_HEAD                                                             \
  "v=0\r\n"                                                                    \
  "o=- 4611731400430051336 2 IN IP4 127.0.0.1\r\n"                             \
  "s=-\r\n"                                                                    \
  "t=0 0\r\n"                                                                  \
  "a=group:BUNDLE 0\r\n"                                                       \
  "a=extmap-allow-mixed\r\n"                                                   \
  "a=msid-semantic: WMS s1\r\n"                                                \
  "m=video 9 UDP/TLS/RTP/SAVPF 96 97\r\n"                                      \
  "c=IN IP4 0.0.0.0\r\n"                                                       \
  "a=rtcp:9 IN IP4 0.0.0.0\r\n"                                                \
  "a=ice-ufrag:Ab12\r\n"                                                       \
  "a=ice-pwd:abcdefghijklmnopqrstuvwx\r\n"                                     \
  "a=ice-options:trickle\r\n"                                                  \
  "a=fingerprint:sha-256 "                                                     \
  "5D:7A:0B:2E:91:C4:33:8F:E6:12:A9:4B:70:DD:05:C8:"                           \
  "3E:F1:62:9A:B7:0C:48:E3:D9:21:6F:84:AA:17:5B:C2\r\n"                        \
  "a=setup:actpass\r\n"                                                        \
  "a=mid:0\r\n"                                                                \
  "a=extmap:2 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time\r\n"  \
  "a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid\r\n"                         \
  "a=extmap:10 urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id\r\n"              \
  "a=extmap:11 urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id\r\n"     \
  "a=sendonly\r\n"                                                             \
  "a=msid:s1 t1\r\n"                                                           \
  "a=rtcp-mux\r\n"                                                             \
  "a=rtcp-rsize\r\n"                                                           \
  "a=rtpmap:96 VP8/90000\r\n"                                                  \
  "a=rtcp-fb:96 goog-remb\r\n"                                                 \
  "a=rtcp-fb:96 nack\r\n"                                                      \
  "a=rtcp-fb:96 nack pli\r\n"                                                  \
  "a=rtpmap:97 rtx/90000\r\n"                                                  \
  "a=fmtp:97 apt=96\r\n"

#define CHROMIUM_LAYERS                                                        \
  "a=rid:q send\r\n"                                                           \
  "a=rid:h send\r\n"                                                           \
  "a=rid:f send\r\n"                                                           \
  "a=simulcast:send q;h;f\r\n"

static HqSdp *
parse_ok (HqSdpType type, const gchar *text)
{
  g_autoptr (GError) error = NULL;
  HqSdp *sdp = hq_sdp_parse (type, text, -1, &error);

  g_assert_no_error (error);
  return sdp;
}

static void
test_parse_chromium_layers (void)
{
  g_autoptr (HqSdp) offer = parse_ok (HQ_SDP_OFFER, OFFER_HEAD CHROMIUM_LAYERS);
  const HqSdpMedia *m = offer->media->pdata[0];

  g_assert_true (hq_sdp_media_is_simulcast (m));
  g_assert_cmpint (m->simulcast_direction, ==, HQ_SDP_SENDONLY);
  g_assert_cmpuint (m->simulcast->len, ==, 3);
  g_assert_cmpint (hq_sdp_media_simulcast_index (m, "q"), ==, 0);
  g_assert_cmpint (hq_sdp_media_simulcast_index (m, "h"), ==, 1);
  g_assert_cmpint (hq_sdp_media_simulcast_index (m, "f"), ==, 2);
  g_assert_cmpint (hq_sdp_media_simulcast_index (m, "x"), ==, -1);
  g_assert_cmpuint (m->rids->len, ==, 3);
  g_assert_cmpint (
      hq_sdp_media_find_rid (m, "h")->direction, ==, HQ_SDP_SENDONLY);
  g_assert_null (hq_sdp_media_find_rid (m, "x"));
  g_assert_cmpuint (hq_sdp_media_extmap_id (m, HQ_SDP_EXT_RID), ==, 10);
  g_assert_cmpuint (
      hq_sdp_media_extmap_id (m, HQ_SDP_EXT_REPAIRED_RID), ==, 11);
  g_assert_cmpuint (m->ssrcs->len, ==, 0);
}

/* RID restrictions, a paused layer and alternatives are read, not lost. */
static void
test_parse_restrictions_paused_alternatives (void)
{
  g_autoptr (HqSdp) offer = parse_ok (HQ_SDP_OFFER,
      OFFER_HEAD "a=rid:lo send max-width=320;max-height=180\r\n"
                 "a=rid:mid send\r\n"
                 "a=rid:hi send\r\n"
                 "a=simulcast:send lo;~mid;hi,mid\r\n");
  const HqSdpMedia *m = offer->media->pdata[0];

  g_assert_cmpstr (hq_sdp_media_find_rid (m, "lo")->params, ==,
      "max-width=320;max-height=180");
  g_assert_null (hq_sdp_media_find_rid (m, "hi")->params);
  g_assert_cmpstr (m->simulcast->pdata[1], ==, "mid");
  g_assert_cmpstr (m->simulcast->pdata[2], ==, "hi");
}

/* The publish answer mirrors the layers as recv, in the offer's order,
 * and keeps the offered RID extension ids. */
static void
test_answer_mirrors_layers (void)
{
  g_autoptr (HqSdp) offer = parse_ok (HQ_SDP_OFFER, OFFER_HEAD CHROMIUM_LAYERS);
  g_autoptr (GError) error = NULL;
  g_autoptr (HqSdp) answer =
      hq_sdp_build_answer (offer, &local, NULL, 0, &error);
  g_autofree gchar *text = NULL;
  g_autoptr (HqSdp) again = NULL;
  const HqSdpMedia *m;

  g_assert_no_error (error);
  m = answer->media->pdata[0];
  g_assert_cmpint (m->direction, ==, HQ_SDP_RECVONLY);
  g_assert_cmpint (m->simulcast_direction, ==, HQ_SDP_RECVONLY);
  g_assert_cmpuint (m->simulcast->len, ==, 3);
  g_assert_cmpstr (m->simulcast->pdata[0], ==, "q");
  g_assert_cmpstr (m->simulcast->pdata[1], ==, "h");
  g_assert_cmpstr (m->simulcast->pdata[2], ==, "f");
  g_assert_cmpint (
      hq_sdp_media_find_rid (m, "f")->direction, ==, HQ_SDP_RECVONLY);
  g_assert_cmpuint (hq_sdp_media_extmap_id (m, HQ_SDP_EXT_RID), ==, 10);
  g_assert_cmpuint (
      hq_sdp_media_extmap_id (m, HQ_SDP_EXT_REPAIRED_RID), ==, 11);
  g_assert_cmpuint (hq_sdp_media_extmap_id (m, HQ_SDP_EXT_MID), ==, 4);

  text = hq_sdp_to_text (answer);
  g_assert_nonnull (strstr (text, "a=rid:q recv\r\n"));
  g_assert_nonnull (strstr (text, "a=simulcast:recv q;h;f\r\n"));
  again = parse_ok (HQ_SDP_ANSWER, text);
  m = again->media->pdata[0];
  g_assert_cmpuint (m->simulcast->len, ==, 3);
  g_assert_cmpint (m->simulcast_direction, ==, HQ_SDP_RECVONLY);
}

/* A one-layer publisher (no a=simulcast) gets no layers in the answer and
 * no RID extensions: it is answered as before simulcast existed. */
static void
test_answer_without_simulcast (void)
{
  g_autoptr (HqSdp) offer = parse_ok (HQ_SDP_OFFER, OFFER_HEAD);
  g_autoptr (GError) error = NULL;
  g_autoptr (HqSdp) answer =
      hq_sdp_build_answer (offer, &local, NULL, 0, &error);
  g_autofree gchar *text = NULL;
  const HqSdpMedia *m;

  g_assert_no_error (error);
  m = answer->media->pdata[0];
  g_assert_false (hq_sdp_media_is_simulcast (m));
  g_assert_cmpuint (m->rids->len, ==, 0);
  text = hq_sdp_to_text (answer);
  g_assert_null (strstr (text, "a=simulcast"));
  g_assert_null (strstr (text, "a=rid"));
  g_assert_cmpuint (hq_sdp_media_extmap_id (m, HQ_SDP_EXT_RID), ==, 0);
  g_assert_cmpuint (hq_sdp_media_extmap_id (m, HQ_SDP_EXT_MID), ==, 4);
}

/* Our simulcast offer (hqroomsink simulcast=true): layers, extensions,
 * no a=ssrc; it reads back the same. */
static void
test_our_offer (void)
{
  static const gchar *const rids[] = { "q", "h", "f", NULL };
  HqSdpTrack track = { HQ_SDP_KIND_VIDEO, NULL, HQ_SDP_SENDONLY, "hq", "cam", 0,
    0, rids };
  g_autoptr (GError) error = NULL;
  g_autoptr (HqSdp) offer =
      hq_sdp_build_offer (&local, &track, 1, NULL, &error);
  g_autofree gchar *text = NULL;
  g_autoptr (HqSdp) again = NULL;
  const HqSdpMedia *m;

  g_assert_no_error (error);
  text = hq_sdp_to_text (offer);
  g_assert_nonnull (strstr (text, "a=rid:q send\r\n"));
  g_assert_nonnull (strstr (text, "a=simulcast:send q;h;f\r\n"));
  g_assert_nonnull (strstr (
      text, "a=extmap:10 urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id\r\n"));
  g_assert_null (strstr (text, "a=ssrc"));
  again = parse_ok (HQ_SDP_OFFER, text);
  m = again->media->pdata[0];
  g_assert_cmpuint (m->simulcast->len, ==, 3);
  g_assert_cmpstr (m->msid_track, ==, "cam");

  /* an audio track cannot be simulcast */
  track.kind = HQ_SDP_KIND_AUDIO;
  g_clear_pointer (&offer, hq_sdp_free);
  offer = hq_sdp_build_offer (&local, &track, 1, NULL, &error);
  g_assert_null (offer);
  g_assert_error (error, HQ_SDP_ERROR, HQ_SDP_ERROR_INVALID_ARGUMENT);
}

/* Offers we refuse, each with its own reason. */
static void
test_hostile (void)
{
  static const struct
  {
    const gchar *lines;
    gint code;
    const gchar *says;
  } cases[] = {
    { "a=rid:q send\r\na=simulcast:send q;h\r\n", HQ_SDP_ERROR_INCONSISTENT,
        "names RID h" },
    { "a=rid:q recv\r\na=simulcast:send q\r\n", HQ_SDP_ERROR_INCONSISTENT,
        "a=rid:q says recv" },
    { "a=rid:q send\r\na=rid:q send\r\n", HQ_SDP_ERROR_INCONSISTENT,
        "described twice" },
    { "a=rid:a send\r\na=rid:b send\r\na=rid:c send\r\na=rid:d send\r\n",
        HQ_SDP_ERROR_UNSUPPORTED, "more than 3 RIDs" },
    { "a=rid:q send\r\na=simulcast:send q;q\r\n", HQ_SDP_ERROR_INCONSISTENT,
        "listed twice" },
    { "a=rid:q sideways\r\n", HQ_SDP_ERROR_SYNTAX, "not send or recv" },
    { "a=rid:way-too-long-for-a-rid send\r\n", HQ_SDP_ERROR_SYNTAX,
        "is not a RID" },
    { "a=rid:q send\r\na=simulcast:send q recv q\r\n", HQ_SDP_ERROR_UNSUPPORTED,
        "only one direction" },
    { "a=rid:q send\r\na=simulcast:send q;h;f;g\r\n", HQ_SDP_ERROR_UNSUPPORTED,
        "at most 3" },
    { "a=simulcast:send\r\n", HQ_SDP_ERROR_SYNTAX, "expected" },
    { "a=rid:q send\r\na=simulcast:send q;b@d\r\n", HQ_SDP_ERROR_SYNTAX,
        "is not a RID" },
    { "a=rid:q send\r\na=simulcast:send q\r\na=simulcast:send q\r\n",
        HQ_SDP_ERROR_INCONSISTENT, "given twice" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
    g_autofree gchar *text = g_strconcat (OFFER_HEAD, cases[i].lines, NULL);
    g_autoptr (GError) error = NULL;
    g_autoptr (HqSdp) sdp = hq_sdp_parse (HQ_SDP_OFFER, text, -1, &error);

    g_assert_null (sdp);
    g_test_message ("case %u: %s", i, error->message);
    g_assert_error (error, HQ_SDP_ERROR, cases[i].code);
    g_assert_true (g_str_has_prefix (error->message, "m-line 1 (video): "));
    g_assert_nonnull (strstr (error->message, cases[i].says));
  }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  gst_init (NULL, NULL);

  g_test_add_func ("/sdp/simulcast/parse-chromium", test_parse_chromium_layers);
  g_test_add_func ("/sdp/simulcast/parse-restrictions",
      test_parse_restrictions_paused_alternatives);
  g_test_add_func ("/sdp/simulcast/answer-mirrors", test_answer_mirrors_layers);
  g_test_add_func (
      "/sdp/simulcast/answer-one-layer", test_answer_without_simulcast);
  g_test_add_func ("/sdp/simulcast/our-offer", test_our_offer);
  g_test_add_func ("/sdp/simulcast/hostile", test_hostile);
  return g_test_run ();
}
