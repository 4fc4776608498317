/* A participant on an impaired link, for the qualitymeter end-to-end test
 * (test_quality.py) and by hand:
 *
 *   hq-impaired-participant PIPELINE
 *
 * runs the gst-launch-1.0 description PIPELINE (an hqroomsink publisher,
 * an hqroomsrc ! hqqualitymeter subscriber, ...) with every media
 * transport of the process behind an impairment relay
 * (tests/common/relayhook.h), and takes commands on stdin, one a line:
 *
 *   up SPEC | down SPEC | both SPEC   set the impairment of the way to the
 *                                     server, from it, or both
 *                                     (hq_relay_impairment_parse, e.g.
 *                                     "loss=5% delay=150 rate=500k")
 *   stats                             prints "stats RELAYS UP-FORWARDED
 *                                     UP-LOST UP-QUEUE-DROPPED
 *                                     DOWN-FORWARDED DOWN-LOST"
 *
 * answering "ok" or "error: ..." to each.  Every element message whose
 * name starts with "hq-" is printed as "message STRUCTURE" (as
 * gst-launch-1.0 -m would, one a line).  It stops at the end of stdin or
 * on an error. */
#include <stdio.h>
#include <string.h>
#include <gst/gst.h>
#include "../common/relayhook.h"

typedef struct
{
  GMainLoop *loop;
  HqRelayHook *hook;
  GstElement *pipeline;
  int status;
} App;

static gboolean
on_line (GIOChannel *ch, GIOCondition cond, gpointer user_data)
{
  App *app = user_data;
  g_autofree gchar *line = NULL;
  g_autoptr (GError) error = NULL;
  HqRelayImpairment imp;
  GIOStatus st = g_io_channel_read_line (ch, &line, NULL, NULL, NULL);

  if (st == G_IO_STATUS_AGAIN)
    return G_SOURCE_CONTINUE;
  if (st != G_IO_STATUS_NORMAL || line == NULL) {
    g_main_loop_quit (app->loop);
    return G_SOURCE_REMOVE;
  }
  g_strstrip (line);
  if (g_str_equal (line, "stats")) {
    HqRelayCounters up, down;
    guint64 up_fw = hq_relay_hook_get_totals (app->hook, HQ_RELAY_A_TO_B, &up);
    guint64 down_fw =
        hq_relay_hook_get_totals (app->hook, HQ_RELAY_B_TO_A, &down);
    printf ("stats %u %" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT
            " %" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT
            "\n",
        hq_relay_hook_get_relays (app->hook), up_fw, up.lost, up.queue_dropped,
        down_fw, down.lost);
  } else if (g_str_has_prefix (line, "up ") || g_str_has_prefix (line, "down ")
      || g_str_has_prefix (line, "both ")) {
    const gchar *spec = strchr (line, ' ') + 1;
    if (!hq_relay_impairment_parse (&imp, spec, &error)) {
      printf ("error: %s\n", error->message);
    } else {
      if (line[0] != 'd')
        hq_relay_hook_set_impairment (app->hook, HQ_RELAY_A_TO_B, &imp);
      if (line[0] != 'u')
        hq_relay_hook_set_impairment (app->hook, HQ_RELAY_B_TO_A, &imp);
      printf ("ok\n");
    }
  } else if (*line) {
    printf ("error: unknown command \"%s\" (up, down, both, stats)\n", line);
  }
  fflush (stdout);
  return G_SOURCE_CONTINUE;
}

static gboolean
on_bus (GstBus *bus, GstMessage *msg, gpointer user_data)
{
  App *app = user_data;
  const GstStructure *s = gst_message_get_structure (msg);

  if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ERROR) {
    g_autoptr (GError) error = NULL;
    gst_message_parse_error (msg, &error, NULL);
    fprintf (stderr, "error: %s\n", error->message);
    app->status = 1;
    g_main_loop_quit (app->loop);
  } else if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ELEMENT && s
      && g_str_has_prefix (gst_structure_get_name (s), "hq-")) {
    g_autofree gchar *text = gst_structure_to_string (s);
    printf ("message %s\n", text);
    fflush (stdout);
  }
  return G_SOURCE_CONTINUE;
}

int
main (int argc, char **argv)
{
  App app = { 0 };
  g_autoptr (GError) error = NULL;
  GIOChannel *in;
  GstBus *bus;

  gst_init (&argc, &argv);
  if (argc != 2) {
    fprintf (stderr, "usage: hq-impaired-participant PIPELINE\n");
    return 2;
  }
  app.loop = g_main_loop_new (NULL, FALSE);
  app.hook = hq_relay_hook_install (g_main_context_default ());
  app.pipeline = gst_parse_launch (argv[1], &error);
  if (app.pipeline == NULL) {
    fprintf (stderr, "error: %s\n", error->message);
    return 1;
  }
  bus = gst_element_get_bus (app.pipeline);
  gst_bus_add_watch (bus, on_bus, &app);
  in = g_io_channel_unix_new (0);
  g_io_add_watch (in, G_IO_IN | G_IO_HUP | G_IO_ERR, on_line, &app);
  gst_element_set_state (app.pipeline, GST_STATE_PLAYING);
  g_main_loop_run (app.loop);
  gst_element_set_state (app.pipeline, GST_STATE_NULL);
  gst_bus_remove_watch (bus);
  gst_object_unref (bus);
  gst_object_unref (app.pipeline);
  g_io_channel_unref (in);
  hq_relay_hook_remove (app.hook);
  g_main_loop_unref (app.loop);
  return app.status;
}
