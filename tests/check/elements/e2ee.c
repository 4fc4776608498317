/* End-to-end encrypted rooms (docs/e2ee.md) with a real hq-server group
 * room: alice publishes a solid colour and a 440 Hz tone through
 * hqroomsink with an e2ee-secret; bob subscribes with hqroomsrc.
 *
 * - With the same secret bob sees the colour and hears the tone.
 * - Without a secret, or with another one, bob never sees the colour nor
 *   hears the tone while the server's /metrics show it forwarded alice's
 *   packets; hqroomsrc keeps running (no error), and with a wrong secret
 *   it says why in words ("cannot decrypt video from alice: wrong or
 *   missing room secret") and counts the dropped frames in its pad stats.
 *
 * Each case is its own meson test (GST_CHECKS), suite e2ee. */
#include <math.h>
#include <string.h>
#include <gst/check/gstcheck.h>
#include <gst/app/gstappsink.h>
#include "../../common/sfuclient.h"

#define DEADLINE (120 * G_USEC_PER_SEC)
#define METRICS_TOKEN "e2ee-test-metrics-token"
#define SECRET "correct horse battery staple"
/* the colour alice sends, as RGB */
#define COLOUR_R 0xe0
#define COLOUR_G 0x40
#define COLOUR_B 0x20
#define TONE_HZ 440

typedef struct
{
  GMutex lock;
  GCond cond;
  guint video_frames, colour_frames; /* decoded; of them alice's colour */
  guint audio_buffers, tone_buffers; /* decoded; of them alice's tone */
} Seen;

static Seen seen;

/* Alice's colour: the frame's mean within a margin of what she sent. */
static gboolean
is_colour (const guint8 *rgb, gsize len)
{
  guint64 sum[3] = { 0 };
  gsize pixels = len / 3;

  if (pixels == 0)
    return FALSE;
  for (gsize i = 0; i < pixels; i++)
    for (guint c = 0; c < 3; c++)
      sum[c] += rgb[3 * i + c];
  return fabs ((gdouble)sum[0] / pixels - COLOUR_R) < 24
      && fabs ((gdouble)sum[1] / pixels - COLOUR_G) < 24
      && fabs ((gdouble)sum[2] / pixels - COLOUR_B) < 24;
}

/* Alice's tone: loud, and most of its energy at TONE_HZ (Goertzel over
 * the buffer).  Zero crossings alone are not enough: Opus decoding the
 * encrypted packets of a subscriber without the secret makes loud noise,
 * and now and then a 20 ms buffer of it crossed zero at about 440 Hz. */
static gboolean
is_tone (const gint16 *s, gsize n, gint rate)
{
  gdouble energy = 0, s1 = 0, s2 = 0, power;
  gdouble coeff = 2 * cos (2 * G_PI * TONE_HZ / rate);

  if (n < (gsize)rate / 50)
    return FALSE;
  for (gsize i = 0; i < n; i++) {
    gdouble s0 = s[i] + coeff * s1 - s2;
    energy += (gdouble)s[i] * s[i];
    s2 = s1;
    s1 = s0;
  }
  /* |X(TONE_HZ)|^2 over what a pure sine of this energy would give */
  power = s1 * s1 + s2 * s2 - coeff * s1 * s2;
  return sqrt (energy / n) > 3000 && power / (energy * n / 2) > 0.5;
}

static GstFlowReturn
on_video (GstAppSink *sink, gpointer unused)
{
  GstSample *sample = gst_app_sink_pull_sample (sink);
  GstBuffer *buf = gst_sample_get_buffer (sample);
  GstMapInfo map;
  gboolean colour = FALSE;

  if (gst_buffer_map (buf, &map, GST_MAP_READ)) {
    colour = is_colour (map.data, map.size);
    gst_buffer_unmap (buf, &map);
  }
  gst_sample_unref (sample);
  g_mutex_lock (&seen.lock);
  seen.video_frames++;
  seen.colour_frames += colour;
  g_cond_broadcast (&seen.cond);
  g_mutex_unlock (&seen.lock);
  return GST_FLOW_OK;
}

static GstFlowReturn
on_audio (GstAppSink *sink, gpointer unused)
{
  GstSample *sample = gst_app_sink_pull_sample (sink);
  GstBuffer *buf = gst_sample_get_buffer (sample);
  GstMapInfo map;
  gboolean tone = FALSE;

  if (gst_buffer_map (buf, &map, GST_MAP_READ)) {
    tone = is_tone ((const gint16 *)map.data, map.size / 2, 48000);
    gst_buffer_unmap (buf, &map);
  }
  gst_sample_unref (sample);
  g_mutex_lock (&seen.lock);
  seen.audio_buffers++;
  seen.tone_buffers += tone;
  g_cond_broadcast (&seen.cond);
  g_mutex_unlock (&seen.lock);
  return GST_FLOW_OK;
}

/* hqroomsrc's new pad: decoded video as RGB, audio as mono S16 in 40 ms
 * buffers, each to an appsink that judges it. */
static void
on_pad_added (GstElement *src, GstPad *pad, GstElement *pipeline)
{
  gboolean video = g_str_has_prefix (GST_PAD_NAME (pad), "video");
  const gchar *desc = video
      ? "queue ! videoconvert ! video/x-raw,format=RGB ! appsink name=sink "
        "sync=false"
      : "queue ! audioconvert ! audioresample ! "
        "audio/x-raw,format=S16LE,channels=1,rate=48000 ! "
        "audiobuffersplit output-buffer-duration=1/25 ! appsink name=sink "
        "sync=false";
  GstElement *bin = gst_parse_bin_from_description (desc, TRUE, NULL);
  GstElement *sink = gst_bin_get_by_name (GST_BIN (bin), "sink");
  GstAppSinkCallbacks cb = { .new_sample = video ? on_video : on_audio };
  GstPad *sinkpad;

  gst_app_sink_set_callbacks (GST_APP_SINK (sink), &cb, NULL, NULL);
  gst_object_unref (sink);
  gst_bin_add (GST_BIN (pipeline), bin);
  sinkpad = gst_element_get_static_pad (bin, "sink");
  fail_unless (gst_pad_link (pad, sinkpad) == GST_PAD_LINK_OK);
  gst_object_unref (sinkpad);
  gst_element_sync_state_with_parent (bin);
}

static GstElement *
launch_alice (HqTestServer *server)
{
  g_autofree gchar *desc = g_strdup_printf (
      "hqroomsink name=s server=%s room=e2ee identity=alice "
      "e2ee-secret=\"" SECRET "\" "
      "videotestsrc is-live=true pattern=solid-color "
      "foreground-color=0xff%02x%02x%02x ! "
      "video/x-raw,width=320,height=240,framerate=15/1 ! s.video_0 "
      "audiotestsrc is-live=true wave=sine freq=%d volume=0.5 ! s.audio_0",
      server->url, COLOUR_R, COLOUR_G, COLOUR_B, TONE_HZ);
  GError *err = NULL;
  GstElement *pipeline = gst_parse_launch (desc, &err);

  fail_unless (pipeline && !err, "%s: %s", desc, err ? err->message : "");
  fail_unless (gst_element_set_state (pipeline, GST_STATE_PLAYING)
      != GST_STATE_CHANGE_FAILURE);
  return pipeline;
}

/* Bob's subscriber, with @secret (none when NULL). */
static GstElement *
launch_bob (HqTestServer *server, const gchar *secret)
{
  GstElement *pipeline = gst_pipeline_new ("bob");
  GstElement *src = gst_element_factory_make ("hqroomsrc", "r");

  fail_unless (src != NULL);
  g_object_set (
      src, "server", server->url, "room", "e2ee", "identity", "bob", NULL);
  if (secret)
    g_object_set (src, "e2ee-secret", secret, NULL);
  g_signal_connect (src, "pad-added", G_CALLBACK (on_pad_added), pipeline);
  gst_bin_add (GST_BIN (pipeline), src);
  fail_unless (gst_element_set_state (pipeline, GST_STATE_PLAYING)
      != GST_STATE_CHANGE_FAILURE);
  return pipeline;
}

/* The server's count of RTP packets forwarded to subscribers. */
static guint64
forwarded_packets (HqTestServer *server)
{
  g_autofree gchar *url = g_strdup_printf ("%s/metrics", server->url);
  g_autoptr (SoupMessage) msg = soup_message_new ("GET", url);
  g_autoptr (GBytes) body = NULL;
  const gchar *line;
  g_autofree gchar *text = NULL;

  soup_message_headers_replace (soup_message_get_request_headers (msg),
      "Authorization", "Bearer " METRICS_TOKEN);
  body = soup_session_send_and_read (server->http, msg, NULL, NULL);
  fail_unless (body && soup_message_get_status (msg) == 200, "GET /metrics: %u",
      soup_message_get_status (msg));
  text = g_strndup (g_bytes_get_data (body, NULL), g_bytes_get_size (body));
  line = strstr (text, "\nhq_sfu_forwarded_packets_total ");
  fail_unless (line != NULL, "no hq_sfu_forwarded_packets_total in /metrics");
  return g_ascii_strtoull (
      line + strlen ("\nhq_sfu_forwarded_packets_total "), NULL, 10);
}

/* Fails on an error from @pipeline; returns the text of the first warning
 * that contains @warning (when not NULL), newly allocated. */
static gchar *
drain_bus (GstElement *pipeline, const gchar *warning)
{
  GstBus *bus = gst_element_get_bus (pipeline);
  gchar *found = NULL;
  GstMessage *msg;

  while ((msg = gst_bus_pop_filtered (
              bus, GST_MESSAGE_ERROR | GST_MESSAGE_WARNING))) {
    GError *err = NULL;
    if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ERROR) {
      gst_message_parse_error (msg, &err, NULL);
      fail ("error from %s: %s", GST_OBJECT_NAME (msg->src), err->message);
    }
    gst_message_parse_warning (msg, &err, NULL);
    if (warning && !found && strstr (err->message, warning))
      found = g_strdup (err->message);
    g_error_free (err);
    gst_message_unref (msg);
  }
  gst_object_unref (bus);
  return found;
}

static HqTestServer *
start_server (void)
{
  memset (&seen, 0, sizeof seen);
  g_mutex_init (&seen.lock);
  g_cond_init (&seen.cond);
  /* the server reads it from its environment (docs/metrics.md) */
  g_setenv ("HQ_METRICS_TOKEN", METRICS_TOKEN, TRUE);
  g_unsetenv ("HQ_E2EE_SECRET");
  return hq_test_server_start_room ("e2ee");
}

static void
stop (GstElement *pipeline)
{
  gst_element_set_state (pipeline, GST_STATE_NULL);
  gst_object_unref (pipeline);
}

GST_START_TEST (test_same_secret_decodes)
{
  HqTestServer *server = start_server ();
  GstElement *alice = launch_alice (server);
  GstElement *bob = launch_bob (server, SECRET);
  gint64 deadline = g_get_monotonic_time () + DEADLINE;

  g_mutex_lock (&seen.lock);
  while (seen.colour_frames < 10 || seen.tone_buffers < 10) {
    if (!g_cond_wait_until (&seen.cond, &seen.lock, deadline))
      fail ("bob saw %u of %u frames in alice's colour and heard %u of %u "
            "buffers of her tone",
          seen.colour_frames, seen.video_frames, seen.tone_buffers,
          seen.audio_buffers);
  }
  g_mutex_unlock (&seen.lock);
  g_free (drain_bus (bob, NULL));
  g_free (drain_bus (alice, NULL));
  stop (bob);
  stop (alice);
  hq_test_server_stop (server);
}

GST_END_TEST;

/* Waits until the server forwarded @packets more packets, then checks bob
 * neither saw alice's colour nor heard her tone, and had no error. */
static void
assert_forwarded_but_unseen (
    HqTestServer *server, GstElement *bob, guint64 packets)
{
  guint64 start = forwarded_packets (server);
  gint64 deadline = g_get_monotonic_time () + DEADLINE;

  while (forwarded_packets (server) < start + packets) {
    fail_unless (g_get_monotonic_time () < deadline,
        "the server forwarded only %" G_GUINT64_FORMAT " packets",
        forwarded_packets (server) - start);
    g_mutex_lock (&seen.lock);
    g_cond_wait_until (
        &seen.cond, &seen.lock, g_get_monotonic_time () + G_USEC_PER_SEC / 5);
    g_mutex_unlock (&seen.lock);
  }
  g_mutex_lock (&seen.lock);
  GST_INFO ("bob: %u video frames decoded, %u audio buffers", seen.video_frames,
      seen.audio_buffers);
  fail_unless_equals_int (seen.colour_frames, 0);
  fail_unless_equals_int (seen.tone_buffers, 0);
  g_mutex_unlock (&seen.lock);
}

GST_START_TEST (test_no_secret_cannot_see)
{
  HqTestServer *server = start_server ();
  GstElement *alice = launch_alice (server);
  GstElement *bob = launch_bob (server, NULL);

  /* about 5 s of alice's media: 15 video frames and 50 audio packets a
   * second */
  assert_forwarded_but_unseen (server, bob, 300);
  g_free (drain_bus (bob, NULL));
  stop (bob);
  stop (alice);
  hq_test_server_stop (server);
}

GST_END_TEST;

/* The stats of bob's video pad: frames hqframedecrypt dropped. */
static guint64
video_frames_dropped (GstElement *bob)
{
  GstElement *src = gst_bin_get_by_name (GST_BIN (bob), "r");
  guint64 dropped = 0;
  GstStructure *stats = NULL;

  for (GList *l = GST_ELEMENT (src)->srcpads; l; l = l->next)
    if (g_str_has_prefix (GST_PAD_NAME (l->data), "video"))
      g_object_get (l->data, "stats", &stats, NULL);
  if (stats) {
    gst_structure_get_uint64 (stats, "e2ee-frames-dropped", &dropped);
    gst_structure_free (stats);
  }
  gst_object_unref (src);
  return dropped;
}

GST_START_TEST (test_wrong_secret_says_why)
{
  HqTestServer *server = start_server ();
  GstElement *alice = launch_alice (server);
  GstElement *bob = launch_bob (server, "another secret");
  g_autofree gchar *video_warning = NULL, *audio_warning = NULL;

  assert_forwarded_but_unseen (server, bob, 300);
  g_mutex_lock (&seen.lock);
  fail_unless_equals_int (seen.video_frames, 0);
  g_mutex_unlock (&seen.lock);
  fail_unless (video_frames_dropped (bob) > 0);
  {
    GstBus *bus = gst_element_get_bus (bob);
    GstMessage *msg;
    while ((msg = gst_bus_pop_filtered (
                bus, GST_MESSAGE_ERROR | GST_MESSAGE_WARNING))) {
      GError *err = NULL;
      fail_if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ERROR);
      gst_message_parse_warning (msg, &err, NULL);
      if (g_str_equal (err->message,
              "cannot decrypt video from alice: wrong or missing room secret"))
        video_warning = g_strdup (err->message);
      if (g_str_equal (err->message,
              "cannot decrypt audio from alice: wrong or missing room secret"))
        audio_warning = g_strdup (err->message);
      g_error_free (err);
      gst_message_unref (msg);
    }
    gst_object_unref (bus);
  }
  fail_unless (video_warning != NULL, "no warning about alice's video");
  fail_unless (audio_warning != NULL, "no warning about alice's audio");
  stop (bob);
  stop (alice);
  hq_test_server_stop (server);
}

GST_END_TEST;

static Suite *
e2ee_suite (void)
{
  Suite *s = suite_create ("e2ee");
  TCase *tc = tcase_create ("general");

  tcase_set_timeout (tc, 230);
  suite_add_tcase (s, tc);
  if (g_getenv ("HQ_SERVER_BIN")) {
    tcase_add_test (tc, test_same_secret_decodes);
    tcase_add_test (tc, test_no_secret_cannot_see);
    tcase_add_test (tc, test_wrong_secret_says_why);
  }
  return s;
}

GST_CHECK_MAIN (e2ee);
