/* Test helper for tests/room/test_room.py (test 8): an hqroomsrc whose
 * kinds property changes while it runs, which gst-launch-1.0 cannot do.
 *
 *   room-kinds SERVER ROOM IDENTITY
 *
 * Starts with kinds=audio, links every pad to a fakesink and prints
 * "pad NAME" when one appears and "decoded NAME N" for the 1st, 10th,
 * 50th... buffer on it.  A line "both" on stdin sets kinds=both; stdin
 * closing ends it (exit 0).  An error on the bus ends it with exit 1.
 * The token comes from HQ_API_KEY_SID/SECRET, as with gst-launch-1.0.
 */
#include <stdio.h>
#include <string.h>
#include <gst/gst.h>

static GMainLoop *loop;
static GstElement *pipeline, *src;
static gint status;

static void
on_handoff (GstElement *sink, GstBuffer *buffer, GstPad *pad, gpointer data)
{
  guint n = GPOINTER_TO_UINT (g_object_get_data (G_OBJECT (sink), "n")) + 1;

  g_object_set_data (G_OBJECT (sink), "n", GUINT_TO_POINTER (n));
  if (n == 1 || n == 10 || n % 50 == 0) {
    printf ("decoded %s %u\n", GST_ELEMENT_NAME (sink), n);
    fflush (stdout);
  }
}

static void
on_pad_added (GstElement *element, GstPad *pad, gpointer data)
{
  g_autofree gchar *name = gst_pad_get_name (pad);
  GstElement *sink = gst_element_factory_make ("fakesink", name);
  g_autoptr (GstPad) sinkpad = gst_element_get_static_pad (sink, "sink");

  g_object_set (sink, "sync", FALSE, "signal-handoffs", TRUE, NULL);
  g_signal_connect (sink, "handoff", G_CALLBACK (on_handoff), NULL);
  gst_bin_add (GST_BIN (pipeline), sink);
  gst_element_sync_state_with_parent (sink);
  gst_pad_link (pad, sinkpad);
  printf ("pad %s\n", name);
  fflush (stdout);
}

static gboolean
on_bus (GstBus *bus, GstMessage *msg, gpointer data)
{
  g_autoptr (GError) error = NULL;

  if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ERROR) {
    gst_message_parse_error (msg, &error, NULL);
    printf ("error %s\n", error->message);
    status = 1;
    g_main_loop_quit (loop);
  }
  return G_SOURCE_CONTINUE;
}

static gboolean
on_stdin (GIOChannel *in, GIOCondition cond, gpointer data)
{
  g_autofree gchar *line = NULL;

  if (g_io_channel_read_line (in, &line, NULL, NULL, NULL)
      != G_IO_STATUS_NORMAL) {
    g_main_loop_quit (loop);
    return G_SOURCE_REMOVE;
  }
  if (g_str_has_prefix (line, "both")) {
    gst_util_set_object_arg (G_OBJECT (src), "kinds", "both");
    printf ("kinds both\n");
    fflush (stdout);
  }
  return G_SOURCE_CONTINUE;
}

int
main (int argc, char **argv)
{
  g_autoptr (GIOChannel) in = NULL;
  g_autoptr (GstBus) bus = NULL;

  gst_init (&argc, &argv);
  if (argc != 4) {
    fprintf (stderr, "usage: %s SERVER ROOM IDENTITY\n", argv[0]);
    return 2;
  }
  pipeline = gst_pipeline_new (NULL);
  src = gst_element_factory_make ("hqroomsrc", "r");
  if (src == NULL) {
    fprintf (stderr, "no hqroomsrc element\n");
    return 2;
  }
  g_object_set (
      src, "server", argv[1], "room", argv[2], "identity", argv[3], NULL);
  gst_util_set_object_arg (G_OBJECT (src), "kinds", "audio");
  g_signal_connect (src, "pad-added", G_CALLBACK (on_pad_added), NULL);
  gst_bin_add (GST_BIN (pipeline), src);
  loop = g_main_loop_new (NULL, FALSE);
  bus = gst_element_get_bus (pipeline);
  gst_bus_add_watch (bus, on_bus, NULL);
  in = g_io_channel_unix_new (0);
  g_io_add_watch (in, G_IO_IN | G_IO_HUP, on_stdin, NULL);
  gst_element_set_state (pipeline, GST_STATE_PLAYING);
  g_main_loop_run (loop);
  gst_element_set_state (pipeline, GST_STATE_NULL);
  gst_bus_remove_watch (bus);
  gst_object_unref (pipeline);
  g_main_loop_unref (loop);
  return status;
}
