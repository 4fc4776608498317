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
 * - Key epochs: carol leaves; alice (whose identity sorts first) draws a
 *   new epoch, bob gets it and both post the same new verification code;
 *   bob still sees alice, while every frame of the new epoch the server
 *   forwarded fails to decrypt with all carol kept (the room secret).
 * - The server's forwarding tap ($HQ_SFU_TAP, a pcap of what the SFU
 *   forwards): in an encrypted room vp8dec and opusdec make neither
 *   alice's colour nor her tone of any of it; the same tap in a room
 *   without encryption does (the control).
 *
 * Each case is its own meson test (GST_CHECKS), suite e2ee. */
#include <math.h>
#include <unistd.h>
#include <glib/gstdio.h>
#include <string.h>
#include <gst/check/gstcheck.h>
#include <gst/app/gstappsink.h>
#include <gst/app/gstappsrc.h>
#include <gst/rtp/gstrtpbuffer.h>
#include <hq/hqframecrypt.h>
#include <hq/hqtoken.h>
#include <signal.h>
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
launch_alice_with (HqTestServer *server, const gchar *secret)
{
  g_autofree gchar *with =
      secret ? g_strdup_printf ("e2ee-secret=\"%s\" ", secret) : g_strdup ("");
  g_autofree gchar *desc = g_strdup_printf (
      "hqroomsink name=s server=%s room=e2ee identity=alice %s"
      "videotestsrc is-live=true pattern=solid-color "
      "foreground-color=0xff%02x%02x%02x ! "
      "video/x-raw,width=320,height=240,framerate=15/1 ! s.video_0 "
      "audiotestsrc is-live=true wave=sine freq=%d volume=0.5 ! s.audio_0",
      server->url, with, COLOUR_R, COLOUR_G, COLOUR_B, TONE_HZ);
  GError *err = NULL;
  GstElement *pipeline = gst_parse_launch (desc, &err);

  fail_unless (pipeline && !err, "%s: %s", desc, err ? err->message : "");
  fail_unless (gst_element_set_state (pipeline, GST_STATE_PLAYING)
      != GST_STATE_CHANGE_FAILURE);
  return pipeline;
}

static GstElement *
launch_alice (HqTestServer *server)
{
  return launch_alice_with (server, SECRET);
}

static void
on_pad_added_fakesink (GstElement *src, GstPad *pad, GstElement *pipeline)
{
  GstElement *sink = gst_element_factory_make ("fakesink", NULL);
  GstPad *sinkpad = gst_element_get_static_pad (sink, "sink");

  g_object_set (sink, "sync", FALSE, "async", FALSE, NULL);
  gst_bin_add (GST_BIN (pipeline), sink);
  fail_unless (gst_pad_link (pad, sinkpad) == GST_PAD_LINK_OK);
  gst_object_unref (sinkpad);
  gst_element_sync_state_with_parent (sink);
}

/* A subscriber @identity with @secret (none when NULL); bob's media is
 * judged (seen), anyone else's goes to fakesinks. */
static GstElement *
launch_subscriber (
    HqTestServer *server, const gchar *identity, const gchar *secret)
{
  GstElement *pipeline = gst_pipeline_new (identity);
  GstElement *src = gst_element_factory_make ("hqroomsrc", "r");
  gboolean judged = g_str_equal (identity, "bob");

  fail_unless (src != NULL);
  g_object_set (
      src, "server", server->url, "room", "e2ee", "identity", identity, NULL);
  if (secret)
    g_object_set (src, "e2ee-secret", secret, NULL);
  g_signal_connect (src, "pad-added",
      judged ? G_CALLBACK (on_pad_added) : G_CALLBACK (on_pad_added_fakesink),
      pipeline);
  gst_bin_add (GST_BIN (pipeline), src);
  fail_unless (gst_element_set_state (pipeline, GST_STATE_PLAYING)
      != GST_STATE_CHANGE_FAILURE);
  return pipeline;
}

/* Bob's subscriber, with @secret (none when NULL). */
static GstElement *
launch_bob (HqTestServer *server, const gchar *secret)
{
  return launch_subscriber (server, "bob", secret);
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

/* --- key epochs --- */

/* Waits for @pipeline's hq-e2ee-epoch message of @epoch; its code
 * (newly allocated) and sender.  Fails on an error or at the deadline. */
static gchar *
wait_epoch (GstElement *pipeline, guint epoch, gchar **from)
{
  GstBus *bus = gst_element_get_bus (pipeline);
  gint64 deadline = g_get_monotonic_time () + DEADLINE;
  gchar *code = NULL;

  while (code == NULL) {
    gint64 left = deadline - g_get_monotonic_time ();
    GstMessage *msg = left > 0
        ? gst_bus_timed_pop_filtered (
            bus, left * GST_USECOND, GST_MESSAGE_ELEMENT | GST_MESSAGE_ERROR)
        : NULL;
    const GstStructure *st;
    guint e = 0;
    fail_unless (msg != NULL, "%s never reached key epoch %u",
        GST_OBJECT_NAME (pipeline), epoch);
    fail_if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ERROR, "error from %s",
        GST_OBJECT_NAME (msg->src));
    st = gst_message_get_structure (msg);
    if (gst_structure_has_name (st, "hq-e2ee-epoch")
        && gst_structure_get_uint (st, "epoch", &e) && e == epoch) {
      code = g_strdup (gst_structure_get_string (st, "code"));
      if (from)
        *from = g_strdup (gst_structure_get_string (st, "from"));
    }
    gst_message_unref (msg);
  }
  gst_object_unref (bus);
  return code;
}

/* Waits until bob saw @frames frames of alice's colour and heard @buffers
 * buffers of her tone, counted from now. */
static void
wait_bob_sees (guint frames, guint tones)
{
  gint64 deadline = g_get_monotonic_time () + DEADLINE;

  g_mutex_lock (&seen.lock);
  seen.colour_frames = seen.tone_buffers = 0;
  while (seen.colour_frames < frames || seen.tone_buffers < tones) {
    if (!g_cond_wait_until (&seen.cond, &seen.lock, deadline))
      fail ("bob saw %u frames in alice's colour and heard %u buffers of "
            "her tone",
          seen.colour_frames, seen.tone_buffers);
  }
  g_mutex_unlock (&seen.lock);
}

/* Waits until @pipeline's hqroomsrc has @n pads (it receives alice). */
static void
wait_pads (GstElement *pipeline, guint n)
{
  GstElement *src = gst_bin_get_by_name (GST_BIN (pipeline), "r");
  gint64 deadline = g_get_monotonic_time () + DEADLINE;

  while (GST_ELEMENT (src)->numsrcpads < n) {
    fail_unless (g_get_monotonic_time () < deadline, "%s has %u pads",
        GST_OBJECT_NAME (pipeline), GST_ELEMENT (src)->numsrcpads);
    g_usleep (G_USEC_PER_SEC / 20);
  }
  gst_object_unref (src);
}

/* --- the forwarding tap: a pcap of IPv4/UDP, video to port 5004 and
 * audio to 5002 (server/sfu/hqsfutap.h) --- */

typedef struct
{
  guint port;
  guint32 ssrc;
  GBytes *rtp;
} TapPacket;

static void
tap_packet_free (gpointer p)
{
  TapPacket *t = p;

  g_bytes_unref (t->rtp);
  g_free (t);
}

static GPtrArray *
read_tap (const gchar *path)
{
  g_autofree gchar *data = NULL;
  GPtrArray *out = g_ptr_array_new_with_free_func (tap_packet_free);
  gsize len = 0, at = 24;
  guint32 magic = 0, rec[4];

  fail_unless (
      g_file_get_contents (path, &data, &len, NULL), "no tap file %s", path);
  fail_unless (len >= 24);
  memcpy (&magic, data, 4);
  fail_unless (magic == 0xa1b2c3d4, "not a pcap in this machine's order");
  while (at + 16 <= len) {
    const guint8 *pkt;
    TapPacket *t;
    memcpy (rec, data + at, 16);
    at += 16;
    fail_unless (at + rec[2] <= len && rec[2] >= 28 + 12);
    pkt = (const guint8 *)data + at;
    t = g_new0 (TapPacket, 1);
    t->port = (guint)pkt[22] << 8 | pkt[23];
    /* byte by byte: the record is not aligned */
    t->ssrc = (guint32)pkt[36] << 24 | (guint32)pkt[37] << 16
        | (guint32)pkt[38] << 8 | pkt[39];
    t->rtp = g_bytes_new (pkt + 28, rec[2] - 28);
    g_ptr_array_add (out, t);
    at += rec[2];
  }
  return out;
}

/* The SSRC of the last packet to @port: the subscriber still there. */
static guint32
last_ssrc (GPtrArray *tap, guint port)
{
  for (guint i = tap->len; i > 0; i--) {
    TapPacket *t = g_ptr_array_index (tap, i - 1);
    if (t->port == port)
      return t->ssrc;
  }
  return 0;
}

/* Pushes the packets of @ssrc to @port into a pipeline "appsrc name=src !
 * @rest" and runs it to its end; its appsink "sink" gets @cb.  Returns the
 * packets pushed. */
static guint
run_tap (GPtrArray *tap, guint port, guint32 ssrc, const gchar *rest,
    GstAppSinkCallbacks *cb, gpointer user_data)
{
  g_autofree gchar *desc =
      g_strdup_printf ("appsrc name=src format=time ! %s", rest);
  GstElement *pipeline = gst_parse_launch (desc, NULL);
  GstElement *src, *sink;
  GstCaps *caps = NULL;
  GstMessage *msg;
  GstBus *bus;
  guint pushed = 0;

  fail_unless (pipeline != NULL, "%s", desc);
  src = gst_bin_get_by_name (GST_BIN (pipeline), "src");
  sink = gst_bin_get_by_name (GST_BIN (pipeline), "sink");
  gst_app_sink_set_callbacks (GST_APP_SINK (sink), cb, user_data, NULL);
  gst_element_set_state (pipeline, GST_STATE_PLAYING);
  for (guint i = 0; i < tap->len; i++) {
    TapPacket *t = g_ptr_array_index (tap, i);
    gsize n;
    const guint8 *d = g_bytes_get_data (t->rtp, &n);
    if (t->port != port || t->ssrc != ssrc)
      continue;
    if (caps == NULL) {
      caps = gst_caps_new_simple ("application/x-rtp", "media", G_TYPE_STRING,
          port == 5004 ? "video" : "audio", "encoding-name", G_TYPE_STRING,
          port == 5004 ? "VP8" : "OPUS", "clock-rate", G_TYPE_INT,
          port == 5004 ? 90000 : 48000, "payload", G_TYPE_INT, d[1] & 0x7f,
          NULL);
      gst_app_src_set_caps (GST_APP_SRC (src), caps);
    }
    fail_unless (gst_app_src_push_buffer (
                     GST_APP_SRC (src), gst_buffer_new_memdup (d, n))
        == GST_FLOW_OK);
    pushed++;
  }
  gst_app_src_end_of_stream (GST_APP_SRC (src));
  bus = gst_element_get_bus (pipeline);
  msg = gst_bus_timed_pop_filtered (
      bus, 60 * GST_SECOND, GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
  fail_unless (
      msg != NULL, "the tap's %u packets to port %u never ended", pushed, port);
  if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ERROR) {
    GError *err = NULL;
    gst_message_parse_error (msg, &err, NULL);
    GST_INFO ("decoding the tap stopped: %s", err->message);
    g_error_free (err);
  }
  gst_message_unref (msg);
  gst_object_unref (bus);
  gst_element_set_state (pipeline, GST_STATE_NULL);
  gst_caps_replace (&caps, NULL);
  gst_object_unref (src);
  gst_object_unref (sink);
  gst_object_unref (pipeline);
  return pushed;
}

/* Decodes alice's video and audio from the tap with vp8dec and opusdec,
 * as bob's subscription carried them, into `seen`; returns the packets. */
static guint
decode_tap (GPtrArray *tap)
{
  GstAppSinkCallbacks video_cb = { .new_sample = on_video };
  GstAppSinkCallbacks audio_cb = { .new_sample = on_audio };
  guint packets;

  g_mutex_lock (&seen.lock);
  seen.video_frames = seen.colour_frames = 0;
  seen.audio_buffers = seen.tone_buffers = 0;
  g_mutex_unlock (&seen.lock);
  packets = run_tap (tap, 5004, last_ssrc (tap, 5004),
      "rtpvp8depay ! vp8dec max-errors=-1 ! videoconvert ! "
      "video/x-raw,format=RGB ! appsink name=sink sync=false",
      &video_cb, NULL);
  packets += run_tap (tap, 5002, last_ssrc (tap, 5002),
      "rtpopusdepay ! opusdec max-errors=-1 ! audioconvert ! audioresample ! "
      "audio/x-raw,format=S16LE,channels=1,rate=48000 ! "
      "audiobuffersplit output-buffer-duration=1/25 ! appsink name=sink "
      "sync=false",
      &audio_cb, NULL);
  return packets;
}

static gchar *
tap_path (void)
{
  gchar *path =
      g_build_filename (g_get_tmp_dir (), "hq-e2ee-tap-XXXXXX.pcap", NULL);
  gint fd = g_mkstemp (path);

  fail_unless (fd >= 0);
  close (fd);
  g_setenv ("HQ_SFU_TAP", path, TRUE);
  return path;
}

/* What a leaver's keys make of the frames the tap holds, per key epoch:
 * frames seen and frames decrypted, epochs 0 and 1 and later. */
typedef struct
{
  HqFrameCrypt *fc;
  HqFrameMedia media;
  guint frames[2], decrypted[2];
} Leaver;

static GstFlowReturn
on_leaver_frame (GstAppSink *sink, gpointer user_data)
{
  Leaver *l = user_data;
  GstSample *sample = gst_app_sink_pull_sample (sink);
  GstBuffer *buf = gst_sample_get_buffer (sample);
  GstMapInfo map;

  if (gst_buffer_map (buf, &map, GST_MAP_READ)) {
    gsize clear = hq_frame_clear_bytes (l->media, map.data, map.size);
    guint64 kid = 0, ctr;
    if (map.size > clear
        && hq_sframe_header_parse (
            map.data + clear, map.size - clear, &kid, &ctr)) {
      g_autofree guint8 *out = g_malloc (map.size);
      guint later = (kid >> 32) > 0;
      l->frames[later]++;
      if (hq_frame_crypt_decrypt (
              l->fc, "alice", l->media, map.data, map.size, out, NULL)
          >= 0)
        l->decrypted[later]++;
    }
    gst_buffer_unmap (buf, &map);
  }
  gst_sample_unref (sample);
  return GST_FLOW_OK;
}

GST_START_TEST (test_leaver_cannot_decrypt)
{
  g_autofree gchar *path = tap_path ();
  HqTestServer *server = start_server ();
  GstElement *alice = launch_alice (server);
  GstElement *bob = launch_bob (server, SECRET);
  GstElement *carol = launch_subscriber (server, "carol", SECRET);
  g_autofree gchar *code0 = NULL, *code_alice = NULL, *code_bob = NULL;
  g_autofree gchar *from_alice = NULL, *from_bob = NULL;
  GstAppSinkCallbacks cb = { .new_sample = on_leaver_frame };
  g_autoptr (GPtrArray) tap = NULL;
  Leaver video = { hq_frame_crypt_new (), HQ_FRAME_MEDIA_VP8 };
  Leaver audio = { hq_frame_crypt_new (), HQ_FRAME_MEDIA_OPUS };

  code0 = wait_epoch (bob, 0, NULL);
  wait_bob_sees (10, 10);
  wait_pads (carol, 2);
  /* carol leaves; the one left whose identity sorts first draws */
  stop (carol);
  code_alice = wait_epoch (alice, 1, &from_alice);
  code_bob = wait_epoch (bob, 1, &from_bob);
  fail_unless_equals_string (from_alice, "alice");
  fail_unless_equals_string (from_bob, "alice");
  fail_unless_equals_string (code_alice, code_bob);
  fail_if (g_str_equal (code0, code_bob), "the code stayed %s", code0);
  /* bob still sees and hears alice in the new epoch */
  wait_bob_sees (30, 30);
  g_free (drain_bus (bob, NULL));
  g_free (drain_bus (alice, NULL));
  stop (bob);
  stop (alice);
  hq_test_server_stop (server);
  g_unsetenv ("HQ_SFU_TAP");

  /* carol kept all she had: the room secret, which is epoch 0 */
  tap = read_tap (path);
  hq_frame_crypt_set_secret (video.fc, 0, SECRET, 0);
  hq_frame_crypt_set_secret (audio.fc, 0, SECRET, 0);
  run_tap (tap, 5004, last_ssrc (tap, 5004),
      "rtpvp8depay ! appsink name=sink sync=false", &cb, &video);
  run_tap (tap, 5002, last_ssrc (tap, 5002),
      "rtpopusdepay ! appsink name=sink sync=false", &cb, &audio);
  GST_INFO ("carol decrypts video %u of %u frames before the re-key, %u of "
            "%u after; audio %u of %u, %u of %u",
      video.decrypted[0], video.frames[0], video.decrypted[1], video.frames[1],
      audio.decrypted[0], audio.frames[0], audio.decrypted[1], audio.frames[1]);
  /* before the re-key her keys work: the check can tell */
  fail_unless (video.decrypted[0] > 0 && audio.decrypted[0] > 0);
  /* after it, nothing */
  fail_unless (video.frames[1] >= 20 && audio.frames[1] >= 20,
      "the tap holds %u video and %u audio frames of the new epoch",
      video.frames[1], audio.frames[1]);
  fail_unless_equals_int (video.decrypted[1], 0);
  fail_unless_equals_int (audio.decrypted[1], 0);
  hq_frame_crypt_unref (video.fc);
  hq_frame_crypt_unref (audio.fc);
  g_unlink (path);
}

GST_END_TEST;

/* Runs alice and bob with @secret (none: NULL) with the tap on until bob
 * saw and heard her, then decodes the tap into `seen`. */
static GPtrArray *
tap_visit (const gchar *secret, gchar **path)
{
  HqTestServer *server;
  GstElement *alice, *bob;
  GPtrArray *tap;

  *path = tap_path ();
  server = start_server ();
  alice = launch_alice_with (server, secret);
  bob = launch_bob (server, secret);
  wait_bob_sees (30, 30);
  g_free (drain_bus (bob, NULL));
  stop (bob);
  stop (alice);
  hq_test_server_stop (server);
  g_unsetenv ("HQ_SFU_TAP");
  tap = read_tap (*path);
  g_unlink (*path);
  return tap;
}

GST_START_TEST (test_tap_holds_nothing_decodable)
{
  g_autofree gchar *path = NULL;
  g_autoptr (GPtrArray) tap = tap_visit (SECRET, &path);
  guint packets = decode_tap (tap);

  g_mutex_lock (&seen.lock);
  GST_INFO ("%u packets: vp8dec made %u frames, none alice's colour? %u; "
            "opusdec %u buffers, her tone in %u",
      packets, seen.video_frames, seen.colour_frames, seen.audio_buffers,
      seen.tone_buffers);
  fail_unless (packets >= 100, "the tap holds %u packets", packets);
  fail_unless_equals_int (seen.colour_frames, 0);
  fail_unless_equals_int (seen.tone_buffers, 0);
  g_mutex_unlock (&seen.lock);
}

GST_END_TEST;

/* The control: the same tap in a room without encryption decodes. */
GST_START_TEST (test_tap_control_plain_room)
{
  g_autofree gchar *path = NULL;
  g_autoptr (GPtrArray) tap = tap_visit (NULL, &path);
  guint packets = decode_tap (tap);

  g_mutex_lock (&seen.lock);
  GST_INFO ("%u packets: %u of %u frames alice's colour, her tone in %u of "
            "%u buffers",
      packets, seen.colour_frames, seen.video_frames, seen.tone_buffers,
      seen.audio_buffers);
  fail_unless (seen.colour_frames >= 20, "%u frames in alice's colour",
      seen.colour_frames);
  fail_unless (
      seen.tone_buffers >= 20, "%u buffers of her tone", seen.tone_buffers);
  g_mutex_unlock (&seen.lock);
}

GST_END_TEST;

/* --- recording by a key holder, and no composition by the server --- */

/* Plays @file (matroska) through vp8dec or opusdec into `seen`. */
static void
play_file (const gchar *file)
{
  gboolean video = g_str_has_suffix (file, ".mkv");
  g_autofree gchar *desc = g_strdup_printf (
      "filesrc location=\"%s\" ! matroskademux ! %s ! appsink name=sink "
      "sync=false",
      file,
      video ? "vp8dec ! videoconvert ! video/x-raw,format=RGB"
            : "opusdec ! audioconvert ! audioresample ! "
              "audio/x-raw,format=S16LE,channels=1,rate=48000 ! "
              "audiobuffersplit output-buffer-duration=1/25");
  GstElement *pipeline = gst_parse_launch (desc, NULL);
  GstElement *sink = gst_bin_get_by_name (GST_BIN (pipeline), "sink");
  GstAppSinkCallbacks cb = { .new_sample = video ? on_video : on_audio };
  GstBus *bus = gst_element_get_bus (pipeline);
  GstMessage *msg;

  gst_app_sink_set_callbacks (GST_APP_SINK (sink), &cb, NULL, NULL);
  gst_element_set_state (pipeline, GST_STATE_PLAYING);
  msg = gst_bus_timed_pop_filtered (
      bus, 60 * GST_SECOND, GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
  fail_unless (msg && GST_MESSAGE_TYPE (msg) == GST_MESSAGE_EOS,
      "%s does not play to its end", file);
  gst_message_unref (msg);
  gst_object_unref (bus);
  gst_element_set_state (pipeline, GST_STATE_NULL);
  gst_object_unref (sink);
  gst_object_unref (pipeline);
}

/* hq-record as the participant @identity, its token and the room secret
 * in its environment; its stdout lines go to the file @out. */
static GSubprocess *
start_hq_record (HqTestServer *server, const gchar *identity,
    const gchar *location, const gchar *out)
{
  HqTokenGrant grant = { .identity = identity, .room = "e2ee", .ttl = 600 };
  g_autoptr (GSubprocessLauncher) l =
      g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_NONE);
  g_autoptr (GError) error = NULL;
  g_autofree gchar *token = hq_token_mint (server->key_sid, server->key_secret,
      server->account_sid, &grant, 0, &error);
  GSubprocess *proc;

  fail_unless (token != NULL);
  g_subprocess_launcher_setenv (l, "HQ_ACCESS_TOKEN", token, TRUE);
  g_subprocess_launcher_setenv (l, "HQ_E2EE_SECRET", SECRET, TRUE);
  g_subprocess_launcher_set_stdout_file_path (l, out);
  proc = g_subprocess_launcher_spawn (l, &error, g_getenv ("HQ_RECORD_BIN"),
      "--server", server->url, "--room", "e2ee", "--location", location, NULL);
  fail_unless (proc != NULL, "hq-record: %s", error ? error->message : "");
  return proc;
}

/* Waits until hq-record's output @out has @n lines containing @what. */
static void
wait_output (const gchar *out, const gchar *what, guint n)
{
  gint64 deadline = g_get_monotonic_time () + DEADLINE;

  for (;;) {
    g_autofree gchar *text = NULL;
    guint found = 0;
    g_file_get_contents (out, &text, NULL, NULL);
    for (const gchar *at = text; at && (at = strstr (at, what)); at++)
      found++;
    if (found >= n)
      return;
    fail_unless (g_get_monotonic_time () < deadline,
        "hq-record said %s %u times, not %u:\n%s", what, found, n,
        text ? text : "");
    g_usleep (G_USEC_PER_SEC / 10);
  }
}

GST_START_TEST (test_record_with_secret)
{
  HqTestServer *server = start_server ();
  GstElement *alice = launch_alice (server);
  g_autoptr (GError) error = NULL;
  g_autofree gchar *dir = g_dir_make_tmp ("hq-e2ee-rec-XXXXXX", &error);
  g_autofree gchar *room = NULL, *sid = NULL, *form = NULL, *refused = NULL;
  g_autofree gchar *path = NULL;
  g_autofree gchar *out = NULL;
  g_autoptr (GSubprocess) rec = NULL;
  guint files = 0;
  const gchar *name;
  GDir *d;

  fail_unless (dir != NULL);
  out = g_strdup_printf ("%s.out", dir);
  rec = start_hq_record (server, "records", dir, out);
  wait_output (out, "\"event\":\"e2ee\",\"epoch\":0", 1);
  wait_output (out, "\"event\":\"media\"", 2);
  /* about 3 s of alice's media through the recorder */
  assert_forwarded_but_unseen (server, alice, 150);
  g_subprocess_send_signal (rec, SIGTERM);
  fail_unless (g_subprocess_wait (rec, NULL, NULL));
  fail_unless_equals_int (g_subprocess_get_exit_status (rec), 0);

  /* The files play: decrypted as they were recorded. */
  d = g_dir_open (dir, 0, NULL);
  while ((name = g_dir_read_name (d))) {
    g_autofree gchar *file = g_build_filename (dir, name, NULL);
    if (g_str_has_suffix (name, ".mkv") || g_str_has_suffix (name, ".mka")) {
      play_file (file);
      files++;
    }
    g_unlink (file);
  }
  g_dir_close (d);
  g_rmdir (dir);
  g_unlink (out);
  fail_unless_equals_int (files, 2);
  g_mutex_lock (&seen.lock);
  GST_INFO ("recorded: %u of %u frames alice's colour, her tone in %u of %u",
      seen.colour_frames, seen.video_frames, seen.tone_buffers,
      seen.audio_buffers);
  fail_unless (seen.colour_frames >= 10, "%u frames of alice's colour",
      seen.colour_frames);
  fail_unless (
      seen.tone_buffers >= 10, "%u buffers of her tone", seen.tone_buffers);
  g_mutex_unlock (&seen.lock);
  stop (alice);

  /* The server may not compose the room: it would need the media. */
  room = hq_test_server_rest (server, "GET", "/v1/Rooms/e2ee", NULL);
  fail_unless (room && strstr (room, "\"sid\":\"RM"), "%s", room);
  sid = g_strndup (strstr (room, "\"sid\":\"RM") + 7, 34);
  path = g_strdup_printf ("/v1/Rooms/%s", sid);
  g_free (hq_test_server_rest (server, "POST", path, "Status=completed"));
  form = g_strdup_printf ("RoomSid=%s&AudioSources=*", sid);
  refused = hq_test_server_rest (server, "POST", "/v1/Compositions", form);
  fail_unless (refused
          && strstr (refused,
              "was end-to-end encrypted: the "
              "server cannot decode its media"),
      "%s", refused);
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
    tcase_add_test (tc, test_leaver_cannot_decrypt);
    tcase_add_test (tc, test_tap_holds_nothing_decodable);
    tcase_add_test (tc, test_tap_control_plain_room);
    tcase_add_test (tc, test_record_with_secret);
  }
  return s;
}

GST_CHECK_MAIN (e2ee);
