/* Interop of libhq's SDP layer with a real Chromium (Debian's, headless).
 *
 * Chromium is driven over the DevTools protocol on --remote-debugging-pipe:
 * JSON messages separated by NUL bytes, written to its fd 3 and read from
 * its fd 4, so no WebSocket client or npm package is needed.  One page
 * runs two exchanges:
 *   - Chromium offers (audio, video, data channel); hq_sdp_parse() must
 *     read the real offer and Chromium must accept our answer;
 *   - we offer; Chromium must accept it, and we must read its answer.
 * Skips when Chromium is not installed.  Every wait has a generous
 * deadline, never a fixed sleep.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>
#include <glib.h>
#include <glib-unix.h>
#include <gio/gio.h>
#include <json-glib/json-glib.h>
#include <gst/gst.h>
#include <hq/hqsdp.h>
#include "sdp/local.h"

#define CHROMIUM "/usr/lib/chromium/chromium"
/* How long one DevTools call may take, start-up included. */
#define DEADLINE_MS 30000

typedef struct
{
  GSubprocess *proc;
  gchar *profile;
  gint to_browser; /* its fd 3 */
  gint from_browser; /* its fd 4 */
  GByteArray *pending; /* bytes read but not yet a whole message */
  guint next_id;
  gchar *session;
} Browser;

static gboolean
browser_start (Browser *b)
{
  g_autoptr (GSubprocessLauncher) launcher = g_subprocess_launcher_new (
      G_SUBPROCESS_FLAGS_STDOUT_SILENCE | G_SUBPROCESS_FLAGS_STDERR_SILENCE);
  g_autoptr (GError) error = NULL;
  g_autofree gchar *profile_arg = NULL;
  gint in[2], out[2];

  memset (b, 0, sizeof *b);
  b->profile = g_dir_make_tmp ("hq-sdp-chromium-XXXXXX", &error);
  g_assert_no_error (error);
  profile_arg = g_strconcat ("--user-data-dir=", b->profile, NULL);
  g_assert_true (g_unix_open_pipe (in, FD_CLOEXEC, NULL));
  g_assert_true (g_unix_open_pipe (out, FD_CLOEXEC, NULL));
  g_subprocess_launcher_take_fd (launcher, in[0], 3);
  g_subprocess_launcher_take_fd (launcher, out[1], 4);
  b->to_browser = in[1];
  b->from_browser = out[0];
  b->pending = g_byte_array_new ();
  b->next_id = 1;
  b->proc =
      g_subprocess_launcher_spawn (launcher, &error, CHROMIUM, "--headless=new",
          "--no-sandbox", "--disable-gpu", "--disable-background-networking",
          "--disable-component-update", "--disable-sync", "--no-first-run",
          "--remote-debugging-pipe", profile_arg, "about:blank", NULL);
  g_assert_no_error (error);
  return b->proc != NULL;
}

/* The end of the first whole message in @pending, or NULL. */
static guint8 *
message_end (GByteArray *pending)
{
  /* an empty GByteArray has no buffer: memchr must not see NULL */
  return pending->len ? memchr (pending->data, '\0', pending->len) : NULL;
}

/* Waits for the answer to call @id, skipping events; returns its
 * "result" member (a new reference).  Fails the test on a DevTools error,
 * a closed pipe or the deadline. */
static JsonNode *
browser_wait (Browser *b, guint id)
{
  gint64 deadline = g_get_monotonic_time () + DEADLINE_MS * 1000;

  for (;;) {
    guint8 *nul = message_end (b->pending);

    while (nul != NULL) {
      gsize len = nul - b->pending->data;
      g_autoptr (JsonParser) parser = json_parser_new ();
      g_autoptr (GError) error = NULL;
      JsonObject *msg;

      json_parser_load_from_data (
          parser, (const gchar *)b->pending->data, len, &error);
      g_byte_array_remove_range (b->pending, 0, len + 1);
      g_assert_no_error (error);
      msg = json_node_get_object (json_parser_get_root (parser));
      if (json_object_has_member (msg, "id")
          && json_object_get_int_member (msg, "id") == id) {
        if (json_object_has_member (msg, "error"))
          g_error ("DevTools call %u failed: %s", id,
              json_object_get_string_member (
                  json_object_get_object_member (msg, "error"), "message"));
        return json_node_copy (json_object_get_member (msg, "result"));
      }
      nul = message_end (b->pending);
    }

    {
      struct pollfd pfd = { b->from_browser, POLLIN, 0 };
      gint64 left = (deadline - g_get_monotonic_time ()) / 1000;
      guint8 chunk[65536];
      gssize n;

      if (left <= 0)
        g_error ("Chromium did not answer DevTools call %u in %d ms", id,
            DEADLINE_MS);
      if (poll (&pfd, 1, left) <= 0)
        continue;
      n = read (b->from_browser, chunk, sizeof chunk);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        g_error ("Chromium closed its DevTools pipe");
      g_byte_array_append (b->pending, chunk, n);
    }
  }
}

/* Sends a DevTools call; @params is a JSON object text or NULL. */
static JsonNode *
browser_call (Browser *b, const gchar *method, const gchar *params)
{
  guint id = b->next_id++;
  g_autofree gchar *msg = NULL;
  gsize done = 0, len;

  if (b->session != NULL)
    msg = g_strdup_printf (
        "{\"id\":%u,\"sessionId\":\"%s\",\"method\":\"%s\",\"params\":%s}", id,
        b->session, method, params ? params : "{}");
  else
    msg = g_strdup_printf ("{\"id\":%u,\"method\":\"%s\",\"params\":%s}", id,
        method, params ? params : "{}");
  len = strlen (msg) + 1; /* the NUL ends the message */
  while (done < len) {
    gssize n = write (b->to_browser, msg + done, len - done);
    if (n < 0 && errno == EINTR)
      continue;
    g_assert_cmpint (n, >, 0);
    done += n;
  }
  return browser_wait (b, id);
}

static void
browser_open_page (Browser *b)
{
  g_autoptr (JsonNode) target = NULL;
  g_autoptr (JsonNode) attached = NULL;
  g_autofree gchar *params = NULL;

  target = browser_call (b, "Target.createTarget", "{\"url\":\"about:blank\"}");
  params = g_strdup_printf ("{\"targetId\":\"%s\",\"flatten\":true}",
      json_object_get_string_member (
          json_node_get_object (target), "targetId"));
  attached = browser_call (b, "Target.attachToTarget", params);
  b->session = g_strdup (json_object_get_string_member (
      json_node_get_object (attached), "sessionId"));
}

/* Runs @script (an expression whose value is a promise of a string) in
 * the page and returns the string.  A rejected promise fails the test
 * with Chromium's message (e.g. why setRemoteDescription refused). */
static gchar *
browser_eval (Browser *b, const gchar *script)
{
  g_autoptr (JsonBuilder) jb = json_builder_new ();
  g_autoptr (JsonNode) params = NULL;
  g_autoptr (JsonNode) result = NULL;
  g_autofree gchar *text = NULL;
  JsonObject *r;

  json_builder_begin_object (jb);
  json_builder_set_member_name (jb, "expression");
  json_builder_add_string_value (jb, script);
  json_builder_set_member_name (jb, "awaitPromise");
  json_builder_add_boolean_value (jb, TRUE);
  json_builder_set_member_name (jb, "returnByValue");
  json_builder_add_boolean_value (jb, TRUE);
  json_builder_end_object (jb);
  params = json_builder_get_root (jb);
  text = json_to_string (params, FALSE);
  result = browser_call (b, "Runtime.evaluate", text);
  r = json_node_get_object (result);
  if (json_object_has_member (r, "exceptionDetails")) {
    JsonObject *ex = json_object_get_object_member (r, "exceptionDetails");
    JsonObject *exc = json_object_get_object_member (ex, "exception");
    g_error ("Chromium: %s",
        exc ? json_object_get_string_member (exc, "description")
            : json_object_get_string_member (ex, "text"));
  }
  return g_strdup (json_object_get_string_member (
      json_object_get_object_member (r, "result"), "value"));
}

static void
on_exited (GObject *proc, GAsyncResult *res, gpointer data)
{
  g_subprocess_wait_finish (G_SUBPROCESS (proc), res, NULL);
  *(gboolean *)data = TRUE;
}

static void
browser_stop (Browser *b)
{
  g_autoptr (GMainContext) ctx = g_main_context_new ();
  g_autoptr (GSubprocess) rm = NULL;
  gboolean exited = FALSE;
  gint64 deadline;

  /* closing our end of its pipe makes Chromium shut down cleanly */
  close (b->to_browser);
  g_main_context_push_thread_default (ctx);
  g_subprocess_wait_async (b->proc, NULL, on_exited, &exited);
  deadline = g_get_monotonic_time () + DEADLINE_MS * 1000;
  while (!exited && g_get_monotonic_time () < deadline)
    g_main_context_iteration (ctx, TRUE);
  if (!exited) {
    g_subprocess_force_exit (b->proc);
    while (!exited)
      g_main_context_iteration (ctx, TRUE);
  }
  g_main_context_pop_thread_default (ctx);
  close (b->from_browser);
  rm = g_subprocess_new (
      G_SUBPROCESS_FLAGS_NONE, NULL, "rm", "-rf", b->profile, NULL);
  if (rm != NULL)
    g_subprocess_wait (rm, NULL, NULL);
  g_object_unref (b->proc);
  g_byte_array_unref (b->pending);
  g_free (b->profile);
  g_free (b->session);
}

/* @sdp as a JavaScript string literal (JSON string syntax is one). */
static gchar *
js_string (const gchar *sdp)
{
  g_autoptr (JsonNode) node = json_node_new (JSON_NODE_VALUE);

  json_node_set_string (node, sdp);
  return json_to_string (node, FALSE);
}

static void
test_chromium_offer_our_answer (Browser *b)
{
  g_autofree gchar *offer_text = NULL;
  g_autofree gchar *answer_text = NULL;
  g_autofree gchar *literal = NULL;
  g_autofree gchar *script = NULL;
  g_autofree gchar *state = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (HqSdp) offer = NULL;
  g_autoptr (HqSdp) answer = NULL;
  HqSdpTrack send_video = { HQ_SDP_KIND_VIDEO, NULL, HQ_SDP_SENDRECV, "hq",
    "hq-cam", 5001, 5002 };
  const HqSdpMedia *video;

  offer_text = browser_eval (b,
      "(async () => {"
      "  window.pc1 = new RTCPeerConnection({bundlePolicy: 'max-bundle'});"
      "  pc1.addTransceiver('audio');"
      "  pc1.addTransceiver('video');"
      "  pc1.createDataChannel('chat');"
      "  const offer = await pc1.createOffer();"
      "  await pc1.setLocalDescription(offer);"
      "  return offer.sdp;"
      "})()");
  g_test_message ("Chromium's offer:\n%s", offer_text);
  offer = hq_sdp_parse (HQ_SDP_OFFER, offer_text, -1, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (offer->media->len, ==, 3);
  g_assert_cmpuint (offer->bundle->len, ==, 3);
  g_assert_cmpint (hq_sdp_get_setup (offer), ==, HQ_SDP_SETUP_ACTPASS);
  g_assert_nonnull (hq_sdp_get_fingerprint (offer));
  g_assert_nonnull (hq_sdp_media_find_codec_by_name (
      g_ptr_array_index (offer->media, 0), "opus"));
  video = g_ptr_array_index (offer->media, 1);
  g_assert_cmpint (video->kind, ==, HQ_SDP_KIND_VIDEO);
  g_assert_cmpint (
      hq_sdp_media_find_codec_by_name (video, "VP8")->rtx_pt, >=, 0);
  g_assert_cmpint (((HqSdpMedia *)g_ptr_array_index (offer->media, 2))->kind,
      ==, HQ_SDP_KIND_APPLICATION);

  send_video.mid = video->mid;
  answer = hq_sdp_build_answer (offer, &local, &send_video, 1, &error);
  g_assert_no_error (error);
  answer_text = hq_sdp_to_text (answer);
  literal = js_string (answer_text);
  script = g_strdup_printf ("(async () => {"
                            "  await pc1.setRemoteDescription("
                            "      {type: 'answer', sdp: %s});"
                            "  return pc1.signalingState + ' ' +"
                            "      pc1.getTransceivers()"
                            "          .map(t => t.currentDirection).join(',');"
                            "})()",
      literal);
  state = browser_eval (b, script);
  /* we only receive audio, and send and receive video */
  g_assert_cmpstr (state, ==, "stable sendonly,sendrecv");
}

static void
test_our_offer_chromium_answer (Browser *b)
{
  const HqSdpTrack tracks[] = {
    { HQ_SDP_KIND_AUDIO, NULL, HQ_SDP_SENDRECV, "hq", "mic", 6001, 0 },
    { HQ_SDP_KIND_VIDEO, NULL, HQ_SDP_SENDONLY, "hq", "cam", 6002, 6003 },
  };
  g_autoptr (GError) error = NULL;
  g_autoptr (HqSdp) offer =
      hq_sdp_build_offer (&local, tracks, 2, NULL, &error);
  g_autofree gchar *offer_text = hq_sdp_to_text (offer);
  g_autofree gchar *literal = js_string (offer_text);
  g_autofree gchar *script = NULL;
  g_autofree gchar *answer_text = NULL;
  g_autoptr (HqSdp) answer = NULL;
  const HqSdpMedia *audio, *video;

  g_assert_no_error (error);
  script = g_strdup_printf ("(async () => {"
                            "  const pc2 = new RTCPeerConnection();"
                            "  await pc2.setRemoteDescription("
                            "      {type: 'offer', sdp: %s});"
                            "  const answer = await pc2.createAnswer();"
                            "  await pc2.setLocalDescription(answer);"
                            "  return answer.sdp;"
                            "})()",
      literal);
  answer_text = browser_eval (b, script);
  g_test_message ("Chromium's answer:\n%s", answer_text);
  answer = hq_sdp_parse (HQ_SDP_ANSWER, answer_text, -1, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (answer->media->len, ==, 2);
  g_assert_cmpint (hq_sdp_get_setup (answer), ==, HQ_SDP_SETUP_ACTIVE);
  g_assert_cmpuint (answer->bundle->len, ==, 2);
  audio = g_ptr_array_index (answer->media, 0);
  video = g_ptr_array_index (answer->media, 1);
  g_assert_cmpstr (audio->mid, ==, "0");
  g_assert_cmpuint (hq_sdp_media_find_codec_by_name (audio, "opus")->pt, ==,
      hq_sdp_media_find_codec_by_name (
          g_ptr_array_index (offer->media, 0), "opus")
          ->pt);
  /* Chromium kept our payload types and RTX for both video codecs */
  for (guint i = 0; i < video->codecs->len; i++) {
    const HqSdpCodec *c = g_ptr_array_index (video->codecs, i);
    const HqSdpCodec *ours =
        hq_sdp_media_find_codec (g_ptr_array_index (offer->media, 1), c->pt);

    g_assert_nonnull (ours);
    g_assert_cmpint (c->rtx_pt, ==, ours->rtx_pt);
  }
  g_assert_nonnull (hq_sdp_media_find_codec_by_name (video, "VP8"));
  g_assert_nonnull (hq_sdp_media_find_codec_by_name (video, "H264"));
  /* pc2 has no tracks of its own: it only receives what we send */
  g_assert_cmpint (video->direction, ==, HQ_SDP_RECVONLY);
  g_assert_cmpint (audio->direction, ==, HQ_SDP_RECVONLY);
  g_assert_cmpuint (hq_sdp_media_extmap_id (audio, HQ_SDP_EXT_AUDIO_LEVEL), ==,
      hq_sdp_media_extmap_id (
          g_ptr_array_index (offer->media, 0), HQ_SDP_EXT_AUDIO_LEVEL));
}

/* Chromium publishes three RID layers (sendEncodings, lowest first as our
 * protocol asks); we read them and answer; Chromium keeps all three
 * encodings only when the answer mirrors a=simulcast. */
static void
test_chromium_simulcast_offer_our_answer (Browser *b)
{
  g_autofree gchar *offer_text = NULL;
  g_autofree gchar *answer_text = NULL;
  g_autofree gchar *literal = NULL;
  g_autofree gchar *script = NULL;
  g_autofree gchar *state = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (HqSdp) offer = NULL;
  g_autoptr (HqSdp) answer = NULL;
  const HqSdpMedia *video;

  offer_text = browser_eval (b,
      "(async () => {"
      "  const canvas = document.createElement('canvas');"
      "  canvas.width = 1280; canvas.height = 720;"
      "  canvas.getContext('2d').fillRect(0, 0, 16, 16);"
      "  const stream = canvas.captureStream(30);"
      "  window.pc3 = new RTCPeerConnection({bundlePolicy: 'max-bundle'});"
      "  pc3.addTransceiver(stream.getVideoTracks()[0], {"
      "    direction: 'sendonly', sendEncodings: ["
      "      {rid: 'q', scaleResolutionDownBy: 4},"
      "      {rid: 'h', scaleResolutionDownBy: 2},"
      "      {rid: 'f'}]});"
      "  const offer = await pc3.createOffer();"
      "  await pc3.setLocalDescription(offer);"
      "  return offer.sdp;"
      "})()");
  g_test_message ("Chromium's simulcast offer:\n%s", offer_text);
  offer = hq_sdp_parse (HQ_SDP_OFFER, offer_text, -1, &error);
  g_assert_no_error (error);
  video = g_ptr_array_index (offer->media, 0);
  g_assert_true (hq_sdp_media_is_simulcast (video));
  g_assert_cmpint (video->simulcast_direction, ==, HQ_SDP_SENDONLY);
  g_assert_cmpuint (video->simulcast->len, ==, 3);
  g_assert_cmpstr (video->simulcast->pdata[0], ==, "q");
  g_assert_cmpstr (video->simulcast->pdata[2], ==, "f");
  g_assert_cmpuint (video->rids->len, ==, 3);
  g_assert_cmpuint (hq_sdp_media_extmap_id (video, HQ_SDP_EXT_RID), >, 0);
  g_assert_cmpuint (
      hq_sdp_media_extmap_id (video, HQ_SDP_EXT_REPAIRED_RID), >, 0);

  answer = hq_sdp_build_answer (offer, &local, NULL, 0, &error);
  g_assert_no_error (error);
  answer_text = hq_sdp_to_text (answer);
  g_test_message ("our simulcast answer:\n%s", answer_text);
  literal = js_string (answer_text);
  script = g_strdup_printf ("(async () => {"
                            "  await pc3.setRemoteDescription("
                            "      {type: 'answer', sdp: %s});"
                            "  const p = pc3.getSenders()[0].getParameters();"
                            "  return pc3.signalingState + ' ' +"
                            "      p.encodings.map(e => e.rid).join(',');"
                            "})()",
      literal);
  state = browser_eval (b, script);
  g_assert_cmpstr (state, ==, "stable q,h,f");
}

/* We offer three layers (as hqroomsink simulcast=true does); Chromium
 * takes the offer and answers with our RID extension ids.  (Chromium
 * cannot receive simulcast, so what its answer says about the layers
 * varies; the SFU is the side that answers simulcast in a room.) */
static void
test_our_simulcast_offer_chromium_answer (Browser *b)
{
  static const gchar *const rids[] = { "q", "h", "f", NULL };
  HqSdpTrack track = { HQ_SDP_KIND_VIDEO, NULL, HQ_SDP_SENDONLY, "hq", "cam", 0,
    0, rids };
  g_autoptr (GError) error = NULL;
  g_autoptr (HqSdp) offer =
      hq_sdp_build_offer (&local, &track, 1, NULL, &error);
  g_autofree gchar *offer_text = hq_sdp_to_text (offer);
  g_autofree gchar *literal = js_string (offer_text);
  g_autofree gchar *script = NULL;
  g_autofree gchar *answer_text = NULL;
  g_autoptr (HqSdp) answer = NULL;
  const HqSdpMedia *video;

  g_assert_no_error (error);
  script = g_strdup_printf ("(async () => {"
                            "  const pc4 = new RTCPeerConnection();"
                            "  await pc4.setRemoteDescription("
                            "      {type: 'offer', sdp: %s});"
                            "  const answer = await pc4.createAnswer();"
                            "  await pc4.setLocalDescription(answer);"
                            "  return answer.sdp;"
                            "})()",
      literal);
  answer_text = browser_eval (b, script);
  g_test_message ("Chromium's answer to our simulcast offer:\n%s", answer_text);
  answer = hq_sdp_parse (HQ_SDP_ANSWER, answer_text, -1, &error);
  g_assert_no_error (error);
  video = g_ptr_array_index (answer->media, 0);
  g_assert_cmpint (video->direction, ==, HQ_SDP_RECVONLY);
  g_assert_cmpuint (hq_sdp_media_extmap_id (video, HQ_SDP_EXT_RID), ==,
      hq_sdp_offer_extmap_id (HQ_SDP_EXT_RID));
}

static void
test_chromium (void)
{
  Browser b;

  if (!g_file_test (CHROMIUM, G_FILE_TEST_IS_EXECUTABLE)) {
    g_test_skip ("Chromium is not installed (" CHROMIUM ")");
    return;
  }
  browser_start (&b);
  browser_open_page (&b);
  test_chromium_offer_our_answer (&b);
  test_our_offer_chromium_answer (&b);
  test_chromium_simulcast_offer_our_answer (&b);
  test_our_simulcast_offer_chromium_answer (&b);
  browser_stop (&b);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  gst_init (NULL, NULL);
  /* a Chromium that dies must fail the test, not kill it with SIGPIPE */
  signal (SIGPIPE, SIG_IGN);

  g_test_add_func ("/sdp/chromium/offer-answer", test_chromium);
  return g_test_run ();
}
