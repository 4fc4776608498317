/* hqroomsink against a real hq-server:
 *
 * - Audio level: a loud and a silent publisher; every RTP packet each
 *   sends to the server carries the RFC 6464 audio level: loud with the V
 *   flag, silent (127) without.  (That the server's dominant speaker
 *   follows it is tests/room/test_room.py's test 6.)
 * - Congestion control: on, the server's REMB sets the encoder's bitrate
 *   (within max-bitrate); off, it stays at start-bitrate.
 * - Priority: a pad's priority set on a playing pipeline reaches the room
 *   (track_update), and another participant's element posts
 *   hq-track-priority-changed with the new value.  The observer is a
 *   second hqroomsink (room events come to both elements alike); a
 *   subscriber's hqroomsrc shows the priority on the track's pad. */
#include <string.h>
#include <gst/check/gstcheck.h>
#include <hq/hqrtp.h>
#include <hq/hqsdp.h>
#include "../../common/sfuclient.h"

#define DEADLINE (60 * G_USEC_PER_SEC)

/* Waits for an element message @name (about track @track_name, unless
 * NULL) on @pipeline's bus and returns its priority (newly allocated; ""
 * when it has none); fails on an error message or at the deadline. */
static gchar *
wait_track_message (
    GstElement *pipeline, const gchar *name, const gchar *track_name)
{
  GstBus *bus = gst_element_get_bus (pipeline);
  gint64 deadline = g_get_monotonic_time () + DEADLINE;
  gchar *priority = NULL;

  while (priority == NULL) {
    gint64 left = deadline - g_get_monotonic_time ();
    GstMessage *msg;
    const GstStructure *s;

    fail_unless (left > 0, "no %s for %s in time", name, track_name);
    msg = gst_bus_timed_pop_filtered (
        bus, left * GST_USECOND, GST_MESSAGE_ELEMENT | GST_MESSAGE_ERROR);
    if (msg == NULL)
      continue;
    if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ERROR) {
      GError *err = NULL;
      gst_message_parse_error (msg, &err, NULL);
      fail ("error from %s: %s", GST_OBJECT_NAME (msg->src), err->message);
    }
    s = gst_message_get_structure (msg);
    if (gst_structure_has_name (s, name)
        && (track_name == NULL
            || g_strcmp0 (
                   gst_structure_get_string (s, "track-name"), track_name)
                == 0)) {
      const gchar *p = gst_structure_get_string (s, "priority");
      priority = g_strdup (p ? p : "");
    }
    gst_message_unref (msg);
  }
  gst_object_unref (bus);
  return priority;
}

/* Plays @source ! hqroomsink as @identity in @room, with the sink's
 * properties @props (or NULL); takes @source. */
static GstElement *
launch_with (gchar *source, const gchar *url, const gchar *room,
    const gchar *identity, const gchar *props)
{
  GError *err = NULL;
  gchar *desc = g_strdup_printf (
      "%s ! hqroomsink name=s server=%s room=%s identity=%s %s", source, url,
      room, identity, props ? props : "");
  GstElement *pipeline = gst_parse_launch (desc, &err);

  fail_unless (
      pipeline != NULL && err == NULL, "%s: %s", desc, err ? err->message : "");
  g_free (desc);
  g_free (source);
  fail_unless (gst_element_set_state (pipeline, GST_STATE_PLAYING)
      != GST_STATE_CHANGE_FAILURE);
  return pipeline;
}

static GstElement *
launch (
    gchar *source, const gchar *url, const gchar *room, const gchar *identity)
{
  return launch_with (source, url, room, identity, NULL);
}

/* --- audio level --- */

/* What one publisher sends, as read off the RTP packets its hqroomsink
 * hands to the publish transport (the server drops header extensions
 * when it forwards, so no subscriber could see them). */
typedef struct
{
  GMutex lock;
  GCond cond;
  guint packets, without_level;
  guint voiced, loud; /* with the V flag; -20 dBov or louder */
  guint silent; /* level 127 without the V flag */
} Heard;

static GstPadProbeReturn
read_level (GstPad *pad, GstPadProbeInfo *info, gpointer user_data)
{
  Heard *heard = user_data;
  GstBuffer *buf = GST_PAD_PROBE_INFO_BUFFER (info);
  GstMapInfo map;
  HqRtpHeader h;
  HqRtpExt ext;
  gboolean voice = FALSE, found = FALSE;
  guint8 level = 0;

  if (!gst_buffer_map (buf, &map, GST_MAP_READ))
    return GST_PAD_PROBE_OK;
  if (hq_rtp_parse (map.data, map.size, &h, NULL)
      && hq_rtp_ext_find (map.data, &h,
          (guint8)hq_sdp_offer_extmap_id (HQ_SDP_EXT_AUDIO_LEVEL), &ext))
    found = hq_rtp_ext_read_audio_level (&ext, &voice, &level);
  gst_buffer_unmap (buf, &map);
  g_mutex_lock (&heard->lock);
  heard->packets++;
  heard->without_level += !found;
  heard->voiced += found && voice;
  heard->loud += found && level <= 20;
  heard->silent += found && level == 127 && !voice;
  g_cond_signal (&heard->cond);
  g_mutex_unlock (&heard->lock);
  return GST_PAD_PROBE_OK;
}

/* Plays @source into a room as @identity and reads what it sends. */
static GstElement *
launch_listened (
    gchar *source, HqTestServer *server, const gchar *identity, Heard *heard)
{
  GstElement *pipeline = launch (source, server->url, "lvl", identity);
  GstElement *sink = gst_bin_get_by_name (GST_BIN (pipeline), "s");
  GstElement *out;
  GstPad *pad;
  gint64 deadline = g_get_monotonic_time () + DEADLINE;

  /* The chain, and its RTP appsink "rtp_0", exist from the first caps. */
  while ((out = gst_bin_get_by_name (GST_BIN (sink), "rtp_0")) == NULL) {
    GstMessage *msg;
    fail_unless (
        g_get_monotonic_time () < deadline, "no chain for %s", identity);
    msg = gst_bus_timed_pop_filtered (
        GST_ELEMENT_BUS (pipeline), 100 * GST_MSECOND, GST_MESSAGE_ERROR);
    fail_unless (msg == NULL, "error from %s", identity);
  }
  pad = gst_element_get_static_pad (out, "sink");
  gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER, read_level, heard, NULL);
  gst_object_unref (pad);
  gst_object_unref (out);
  gst_object_unref (sink);
  return pipeline;
}

static void
wait_packets (Heard *heard, guint n)
{
  gint64 deadline = g_get_monotonic_time () + DEADLINE;

  g_mutex_lock (&heard->lock);
  while (heard->packets < n)
    fail_unless (g_cond_wait_until (&heard->cond, &heard->lock, deadline),
        "only %u packets", heard->packets);
  g_mutex_unlock (&heard->lock);
}

GST_START_TEST (test_audio_level_and_voice_flag)
{
  HqTestServer *server = hq_test_server_start_room ("lvl");
  Heard a = { 0 }, b = { 0 };
  GstElement *loud, *quiet;

  loud = launch_listened (
      g_strdup ("audiotestsrc is-live=true volume=0.5"), server, "loud", &a);
  quiet = launch_listened (
      g_strdup ("audiotestsrc is-live=true wave=silence"), server, "quiet", &b);
  wait_packets (&a, 50);
  wait_packets (&b, 50);
  gst_element_set_state (loud, GST_STATE_NULL);
  gst_element_set_state (quiet, GST_STATE_NULL);

  /* Every packet says how loud it is. */
  fail_unless_equals_int (a.without_level, 0);
  fail_unless_equals_int (b.without_level, 0);
  /* The tone (-9 dBov) is loud and voiced (but for the encoder's first
   * packets); silence is 127 and never voiced. */
  fail_unless (a.loud + 5 >= a.packets, "%u of %u loud", a.loud, a.packets);
  fail_unless (
      a.voiced + 5 >= a.packets, "%u of %u voiced", a.voiced, a.packets);
  fail_unless_equals_int (b.silent, b.packets);

  gst_object_unref (loud);
  gst_object_unref (quiet);
  hq_test_server_stop (server);
}

GST_END_TEST;

/* --- priority --- */

static void
on_pad_added (GstElement *element, GstPad *pad, gpointer user_data)
{
  GAsyncQueue *pads = user_data;

  g_async_queue_push (pads, gst_object_ref (pad));
}

/* An hqroomsrc subscribing to the video of room @room; its pads arrive in
 * @pads. */
static GstElement *
launch_viewer (const gchar *url, const gchar *room, GAsyncQueue *pads)
{
  gchar *desc = g_strdup_printf ("hqroomsrc name=r server=%s room=%s "
                                 "identity=viewer kinds=video ! fakesink",
      url, room);
  GError *err = NULL;
  GstElement *pipeline = gst_parse_launch (desc, &err);
  GstElement *src;

  fail_unless (
      pipeline != NULL && err == NULL, "%s: %s", desc, err ? err->message : "");
  g_free (desc);
  src = gst_bin_get_by_name (GST_BIN (pipeline), "r");
  g_signal_connect (src, "pad-added", G_CALLBACK (on_pad_added), pads);
  gst_object_unref (src);
  fail_unless (gst_element_set_state (pipeline, GST_STATE_PLAYING)
      != GST_STATE_CHANGE_FAILURE);
  return pipeline;
}

static gint
pad_priority (GstPad *pad)
{
  gint priority = -1;

  g_object_get (pad, "priority", &priority, NULL);
  return priority;
}

GST_START_TEST (test_priority_change_reaches_the_room)
{
  HqTestServer *server = hq_test_server_start_room ("prio");
  gchar *priority;
  GstElement *observer, *camera, *sink, *viewer;
  GstPad *pad, *shown;
  GAsyncQueue *pads = g_async_queue_new_full (gst_object_unref);

  observer = launch (
      g_strdup ("audiotestsrc is-live=true"), server->url, "prio", "observer");
  /* In the room first, so that it hears of the camera's track. */
  g_free (wait_track_message (observer, "hq-joined", NULL));
  camera = launch (g_strdup ("videotestsrc is-live=true ! video/x-raw,"
                             "width=160,height=120,framerate=15/1"),
      server->url, "prio", "camera");

  /* Published with the default. */
  priority = wait_track_message (observer, "hq-track-published", "video_0");
  fail_unless_equals_string (priority, "standard");
  g_free (priority);
  /* A subscriber's pad for the track says so (1: standard). */
  viewer = launch_viewer (server->url, "prio", pads);
  shown = g_async_queue_timeout_pop (pads, DEADLINE);
  fail_unless (shown != NULL, "the viewer got no pad");
  fail_unless_equals_int (pad_priority (shown), 1);

  /* Changed while playing: the room hears of it. */
  sink = gst_bin_get_by_name (GST_BIN (camera), "s");
  pad = gst_element_get_static_pad (sink, "video_0");
  fail_unless (pad != NULL);
  gst_util_set_object_arg (G_OBJECT (pad), "priority", "high");
  priority =
      wait_track_message (observer, "hq-track-priority-changed", "video_0");
  fail_unless_equals_string (priority, "high");
  g_free (priority);
  /* the pad changes with it (2: high), notified before the message */
  g_free (wait_track_message (viewer, "hq-track-priority-changed", "video_0"));
  fail_unless_equals_int (pad_priority (shown), 2);
  gst_util_set_object_arg (G_OBJECT (pad), "priority", "0");
  priority =
      wait_track_message (observer, "hq-track-priority-changed", "video_0");
  fail_unless_equals_string (priority, "low");
  g_free (priority);

  gst_object_unref (pad);
  gst_object_unref (sink);
  gst_object_unref (shown);
  gst_element_set_state (viewer, GST_STATE_NULL);
  gst_object_unref (viewer);
  g_async_queue_unref (pads);
  gst_element_set_state (camera, GST_STATE_NULL);
  gst_element_set_state (observer, GST_STATE_NULL);
  gst_object_unref (camera);
  gst_object_unref (observer);
  hq_test_server_stop (server);
}

GST_END_TEST;

/* --- congestion control --- */

/* The target bitrate of @pipeline's video encoder once it has one, and
 * once it is @want (or the deadline passed): -1 before the encoder
 * exists. */
static gint
wait_encoder_bitrate (GstElement *pipeline, gint want)
{
  gint64 deadline = g_get_monotonic_time () + DEADLINE;
  gint rate = -1;

  while (g_get_monotonic_time () < deadline) {
    GstElement *enc = gst_bin_get_by_name (GST_BIN (pipeline), "enc");

    if (enc) {
      g_object_get (enc, "target-bitrate", &rate, NULL);
      gst_object_unref (enc);
      if (rate == want)
        break;
    }
    /* a state to reach, not a time to wait: look again soon */
    g_usleep (20 * 1000);
  }
  return rate;
}

/* With congestion control on, the server's REMB sets the VP8 encoder's
 * bitrate, clamped to max-bitrate; off, it stays at start-bitrate.  With
 * nobody subscribed nothing constrains the publishers, so the server asks
 * for its ceiling (1.5 Mbit/s, docs/sfu.md), above max-bitrate here. */
GST_START_TEST (test_congestion_control)
{
  HqTestServer *server = hq_test_server_start_room ("cc");
  GstElement *off, *on;

  /* first in the room, so it hears every REMB the other one does */
  off = launch_with (g_strdup ("videotestsrc is-live=true ! video/x-raw,"
                               "width=160,height=120,framerate=15/1"),
      server->url, "cc", "fixed",
      "congestion-control=off start-bitrate=500000 max-bitrate=1200000");
  fail_unless_equals_int (wait_encoder_bitrate (off, 500000), 500000);
  on = launch_with (g_strdup ("videotestsrc is-live=true ! video/x-raw,"
                              "width=160,height=120,framerate=15/1"),
      server->url, "cc", "adaptive",
      "congestion-control=on start-bitrate=500000 max-bitrate=1200000");
  fail_unless_equals_int (wait_encoder_bitrate (on, 1200000), 1200000);
  fail_unless_equals_int (wait_encoder_bitrate (off, 500000), 500000);

  gst_element_set_state (on, GST_STATE_NULL);
  gst_element_set_state (off, GST_STATE_NULL);
  gst_object_unref (on);
  gst_object_unref (off);
  hq_test_server_stop (server);
}

GST_END_TEST;

/* --- simulcast --- */

/* What one layer's RTP appsink saw: its SSRC, the RID and MID header
 * extensions, and the size of its first VP8 keyframe. */
typedef struct
{
  GMutex lock;
  GCond cond;
  guint packets, without_ids;
  guint32 ssrc;
  gboolean ssrcs_differ;
  gchar rid[32], mid[64];
  guint width, height;
} Layer;

/* The size in a VP8 keyframe's payload header (RFC 6386 9.1) after the
 * RFC 7741 descriptor, when @payload starts one. */
static gboolean
vp8_keyframe_size (const guint8 *p, gsize len, guint *width, guint *height)
{
  gsize off = 1;
  gboolean start, key;

  if (!hq_rtp_vp8_parse (p, len, &start, &key) || !start || !key)
    return FALSE;
  if (p[0] & 0x80) {
    guint8 x = p[off++];
    if (off < len && (x & 0x80))
      off += (p[off] & 0x80) ? 2 : 1;
    off += (x & 0x40) ? 1 : 0;
    off += (x & 0x30) ? 1 : 0;
  }
  if (off + 10 > len || p[off + 3] != 0x9d || p[off + 4] != 0x01
      || p[off + 5] != 0x2a)
    return FALSE;
  *width = (p[off + 6] | p[off + 7] << 8) & 0x3fff;
  *height = (p[off + 8] | p[off + 9] << 8) & 0x3fff;
  return TRUE;
}

static gboolean
read_layer_packet (GstBuffer **buf, guint idx, gpointer user_data)
{
  Layer *layer = user_data;
  GstMapInfo map;
  HqRtpHeader h;
  HqRtpExt ext;
  gchar rid[32] = "", mid[64] = "";
  guint width = 0, height = 0;

  if (!gst_buffer_map (*buf, &map, GST_MAP_READ))
    return TRUE;
  if (hq_rtp_parse (map.data, map.size, &h, NULL)) {
    /* RID and MID are both text, as the MID reader takes it */
    if (hq_rtp_ext_find (map.data, &h,
            (guint8)hq_sdp_offer_extmap_id (HQ_SDP_EXT_RID), &ext))
      hq_rtp_ext_read_mid (&ext, rid, sizeof (rid));
    if (hq_rtp_ext_find (map.data, &h,
            (guint8)hq_sdp_offer_extmap_id (HQ_SDP_EXT_MID), &ext))
      hq_rtp_ext_read_mid (&ext, mid, sizeof (mid));
    vp8_keyframe_size (
        map.data + h.payload_offset, h.payload_len, &width, &height);
    g_mutex_lock (&layer->lock);
    if (layer->packets++ == 0)
      layer->ssrc = h.ssrc;
    layer->ssrcs_differ |= layer->ssrc != h.ssrc;
    layer->without_ids += !*rid || !*mid;
    if (*rid)
      g_strlcpy (layer->rid, rid, sizeof (layer->rid));
    if (*mid)
      g_strlcpy (layer->mid, mid, sizeof (layer->mid));
    if (width && layer->width == 0) {
      layer->width = width;
      layer->height = height;
    }
    g_cond_signal (&layer->cond);
    g_mutex_unlock (&layer->lock);
  }
  gst_buffer_unmap (*buf, &map);
  return TRUE;
}

/* rtpbin hands video on as buffer lists (a frame's packets) */
static GstPadProbeReturn
read_layer (GstPad *pad, GstPadProbeInfo *info, gpointer user_data)
{
  if (info->type & GST_PAD_PROBE_TYPE_BUFFER_LIST)
    gst_buffer_list_foreach (
        GST_PAD_PROBE_INFO_BUFFER_LIST (info), read_layer_packet, user_data);
  else {
    GstBuffer *buf = GST_PAD_PROBE_INFO_BUFFER (info);
    read_layer_packet (&buf, 0, user_data);
  }
  return GST_PAD_PROBE_OK;
}

/* Three layers leave a simulcast=true pad for 1280x720 input, each with
 * its own SSRC, its RID (q, h, f) and the track's MID in every packet, and
 * keyframes of 1/4, 1/2 and full size.  No server is needed to see them:
 * the element sends while it tries to reach one. */
GST_START_TEST (test_simulcast_layers_on_the_wire)
{
  static const struct
  {
    const gchar *rid;
    guint width, height;
  } want[] = { { "q", 320, 180 }, { "h", 640, 360 }, { "f", 1280, 720 } };
  Layer layers[G_N_ELEMENTS (want)];
  GstElement *pipeline, *sink;
  gint64 deadline = g_get_monotonic_time () + DEADLINE;

  memset (layers, 0, sizeof (layers));
  pipeline = launch_with (g_strdup ("videotestsrc is-live=true ! video/x-raw,"
                                    "width=1280,height=720,framerate=15/1"),
      "http://127.0.0.1:9", "sim", "camera",
      "simulcast=true token=never-checked");
  sink = gst_bin_get_by_name (GST_BIN (pipeline), "s");
  /* the layers' RTP appsinks, one rtpbin session each */
  for (guint i = 0; i < G_N_ELEMENTS (layers); i++) {
    g_autofree gchar *name = g_strdup_printf ("rtp_%u", i);
    GstElement *out;
    GstPad *pad;

    g_mutex_init (&layers[i].lock);
    g_cond_init (&layers[i].cond);
    while ((out = gst_bin_get_by_name (GST_BIN (sink), name)) == NULL) {
      GstMessage *msg;
      fail_unless (g_get_monotonic_time () < deadline, "no %s", name);
      msg = gst_bus_timed_pop_filtered (
          GST_ELEMENT_BUS (pipeline), 100 * GST_MSECOND, GST_MESSAGE_ERROR);
      fail_unless (msg == NULL, "error before %s", name);
    }
    pad = gst_element_get_static_pad (out, "sink");
    gst_pad_add_probe (pad,
        GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_BUFFER_LIST, read_layer,
        &layers[i], NULL);
    gst_object_unref (pad);
    gst_object_unref (out);
  }
  for (guint i = 0; i < G_N_ELEMENTS (layers); i++) {
    g_mutex_lock (&layers[i].lock);
    while (layers[i].width == 0 || layers[i].packets < 20)
      fail_unless (
          g_cond_wait_until (&layers[i].cond, &layers[i].lock, deadline),
          "layer %u: %u packets, no keyframe", i, layers[i].packets);
    g_mutex_unlock (&layers[i].lock);
  }
  gst_element_set_state (pipeline, GST_STATE_NULL);
  for (guint i = 0; i < G_N_ELEMENTS (layers); i++) {
    fail_unless_equals_string (layers[i].rid, want[i].rid);
    fail_unless_equals_int (layers[i].width, want[i].width);
    fail_unless_equals_int (layers[i].height, want[i].height);
    fail_unless_equals_int (layers[i].without_ids, 0);
    fail_if (layers[i].ssrcs_differ, "layer %s changed SSRC", want[i].rid);
    fail_unless (layers[i].mid[0] != '\0');
    fail_unless_equals_string (layers[i].mid, layers[0].mid);
    for (guint j = 0; j < i; j++)
      fail_if (
          layers[i].ssrc == layers[j].ssrc, "layers %u and %u: one SSRC", i, j);
    g_mutex_clear (&layers[i].lock);
    g_cond_clear (&layers[i].cond);
  }
  gst_object_unref (sink);
  gst_object_unref (pipeline);
}

GST_END_TEST;

static Suite *
roomsink_suite (void)
{
  Suite *s = suite_create ("hqroomsink");
  TCase *tc = tcase_create ("general");

  tcase_set_timeout (tc, 180);
  suite_add_tcase (s, tc);
  if (g_getenv ("HQ_SERVER_BIN")) {
    tcase_add_test (tc, test_audio_level_and_voice_flag);
    tcase_add_test (tc, test_priority_change_reaches_the_room);
    tcase_add_test (tc, test_congestion_control);
  }
  tcase_add_test (tc, test_simulcast_layers_on_the_wire);
  return s;
}

GST_CHECK_MAIN (roomsink);
