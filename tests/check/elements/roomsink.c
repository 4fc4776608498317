/* hqroomsink's track priority while it publishes, against a real
 * hq-server: a pad's priority set on a playing pipeline reaches the room
 * (track_update), and another participant's element posts
 * hq-track-priority-changed with the new value.  The observer is a second
 * hqroomsink (room events come to both elements alike), so the test needs
 * no decoders. */
#include <string.h>
#include <gst/check/gstcheck.h>
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

/* Plays @source ! hqroomsink as @identity in room "prio"; takes @source. */
static GstElement *
launch (gchar *source, const gchar *url, const gchar *identity)
{
  GError *err = NULL;
  gchar *desc =
      g_strdup_printf ("%s ! hqroomsink name=s server=%s room=prio identity=%s",
          source, url, identity);
  GstElement *pipeline = gst_parse_launch (desc, &err);

  fail_unless (
      pipeline != NULL && err == NULL, "%s: %s", desc, err ? err->message : "");
  g_free (desc);
  g_free (source);
  fail_unless (gst_element_set_state (pipeline, GST_STATE_PLAYING)
      != GST_STATE_CHANGE_FAILURE);
  return pipeline;
}

GST_START_TEST (test_priority_change_reaches_the_room)
{
  HqTestServer *server = hq_test_server_start (
      g_getenv ("HQ_SERVER_BIN"), g_getenv ("HQ_TEST_SERVER_LOG") != NULL);
  gchar *reply, *priority;
  GstElement *observer, *camera, *sink;
  GstPad *pad;

  reply = hq_test_server_rest (
      server, "POST", "/v1/Rooms", "UniqueName=prio&Type=group");
  fail_unless (reply != NULL);
  g_free (reply);
  g_setenv ("HQ_API_KEY_SID", server->key_sid, TRUE);
  g_setenv ("HQ_API_KEY_SECRET", server->key_secret, TRUE);
  g_setenv ("HQ_ACCOUNT_SID", server->account_sid, TRUE);
  g_unsetenv ("HQ_ACCESS_TOKEN");

  observer =
      launch (g_strdup ("audiotestsrc is-live=true"), server->url, "observer");
  /* In the room first, so that it hears of the camera's track. */
  g_free (wait_track_message (observer, "hq-joined", NULL));
  camera = launch (g_strdup ("videotestsrc is-live=true ! video/x-raw,"
                             "width=160,height=120,framerate=15/1"),
      server->url, "camera");

  /* Published with the default. */
  priority = wait_track_message (observer, "hq-track-published", "video_0");
  fail_unless_equals_string (priority, "standard");
  g_free (priority);

  /* Changed while playing: the room hears of it. */
  sink = gst_bin_get_by_name (GST_BIN (camera), "s");
  pad = gst_element_get_static_pad (sink, "video_0");
  fail_unless (pad != NULL);
  gst_util_set_object_arg (G_OBJECT (pad), "priority", "high");
  priority =
      wait_track_message (observer, "hq-track-priority-changed", "video_0");
  fail_unless_equals_string (priority, "high");
  g_free (priority);
  gst_util_set_object_arg (G_OBJECT (pad), "priority", "0");
  priority =
      wait_track_message (observer, "hq-track-priority-changed", "video_0");
  fail_unless_equals_string (priority, "low");
  g_free (priority);

  gst_object_unref (pad);
  gst_object_unref (sink);
  gst_element_set_state (camera, GST_STATE_NULL);
  gst_element_set_state (observer, GST_STATE_NULL);
  gst_object_unref (camera);
  gst_object_unref (observer);
  hq_test_server_stop (server);
}

GST_END_TEST;

static Suite *
roomsink_suite (void)
{
  Suite *s = suite_create ("hqroomsink");
  TCase *tc = tcase_create ("general");

  tcase_set_timeout (tc, 180);
  suite_add_tcase (s, tc);
  if (g_getenv ("HQ_SERVER_BIN"))
    tcase_add_test (tc, test_priority_change_reaches_the_room);
  return s;
}

GST_CHECK_MAIN (roomsink);
