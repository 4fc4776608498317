/* What hqroomsrc and hqroomsink share through their base, GstHqRoomBin,
 * as a user of gst-launch-1.0 meets it (issue 15, point 1):
 *
 * - participants: a GstValueArray, so a launch line sets
 *   `participants="<alice, bob>"` and reads back two identities.
 * - One debug category per element: a process run with
 *   GST_DEBUG=hqroomsrc:6 prints hqroomsrc lines about joining (the
 *   base's lines go to the element's category), and none of the sink's;
 *   GST_DEBUG=hqroomsink:6 the other way round.  The process is this
 *   program again (--child), started with the variable set, its stderr
 *   read as a person would read it.
 *
 * No server is needed: the element joins a port nobody listens on and
 * gives up after its reconnect-timeout. */
#include <string.h>
#include <gst/check/gstcheck.h>

static const gchar *self_path;

GST_START_TEST (test_participants_array)
{
  g_autoptr (GError) error = NULL;
  GstElement *src = gst_parse_launch (
      "hqroomsrc name=room participants=\"<alice, bob>\"", &error);
  GValue value = G_VALUE_INIT;

  fail_unless (src != NULL, "the launch line did not parse: %s",
      error ? error->message : "?");
  g_value_init (&value, GST_TYPE_ARRAY);
  g_object_get_property (G_OBJECT (src), "participants", &value);
  fail_unless_equals_int (gst_value_array_get_size (&value), 2);
  fail_unless_equals_string (
      g_value_get_string (gst_value_array_get_value (&value, 0)), "alice");
  fail_unless_equals_string (
      g_value_get_string (gst_value_array_get_value (&value, 1)), "bob");
  g_value_unset (&value);

  /* an empty array: everyone again */
  gst_util_set_object_arg (G_OBJECT (src), "participants", "<>");
  g_value_init (&value, GST_TYPE_ARRAY);
  g_object_get_property (G_OBJECT (src), "participants", &value);
  fail_unless_equals_int (gst_value_array_get_size (&value), 0);
  g_value_unset (&value);
  gst_object_unref (src);
}

GST_END_TEST;

/* The child: @factory joins a port nobody listens on, until its
 * reconnect-timeout ends it with an error (or 30 s pass). */
static int
child_main (const gchar *factory)
{
  g_autofree gchar *desc =
      g_strdup_printf ("%s name=room server=http://127.0.0.1:9 token=x room=r "
                       "reconnect-timeout=300",
          factory);
  GstElement *element = gst_parse_launch (desc, NULL);
  GstElement *pipeline = gst_pipeline_new (NULL);
  GstBus *bus;
  GstMessage *msg;

  if (element == NULL)
    return 2;
  gst_bin_add (GST_BIN (pipeline), element);
  bus = gst_element_get_bus (pipeline);
  gst_element_set_state (pipeline, GST_STATE_PLAYING);
  msg = gst_bus_timed_pop_filtered (bus, 30 * GST_SECOND, GST_MESSAGE_ERROR);
  gst_element_set_state (pipeline, GST_STATE_NULL);
  g_clear_pointer (&msg, gst_message_unref);
  gst_object_unref (bus);
  gst_object_unref (pipeline);
  return 0;
}

/* Runs the child for @factory with GST_DEBUG=@debug; its stderr. */
static gchar *
run_child (const gchar *factory, const gchar *debug)
{
  const gchar *argv[] = { self_path, "--child", factory, NULL };
  gchar **envp = g_get_environ ();
  g_autoptr (GError) error = NULL;
  gchar *err = NULL;
  gint status = 0;

  envp = g_environ_setenv (envp, "GST_DEBUG", debug, TRUE);
  envp = g_environ_setenv (envp, "GST_DEBUG_NO_COLOR", "1", TRUE);
  envp = g_environ_unsetenv (envp, "GST_DEBUG_FILE");
  fail_unless (g_spawn_sync (NULL, (gchar **)argv, envp, G_SPAWN_DEFAULT, NULL,
                   NULL, NULL, &err, &status, &error),
      "cannot run %s: %s", self_path, error ? error->message : "?");
  g_strfreev (envp);
  fail_unless (g_spawn_check_wait_status (status, NULL),
      "the child running %s failed:\n%s", factory, err);
  return err;
}

/* The lines of @log whose category is @category. */
static guint
count_lines (const gchar *log, const gchar *category, const gchar *text)
{
  g_auto (GStrv) lines = g_strsplit (log, "\n", -1);
  g_autofree gchar *field = g_strdup_printf (" %s ", category);
  guint n = 0;

  for (guint i = 0; lines[i]; i++)
    if (strstr (lines[i], field) && (!text || strstr (lines[i], text)))
      n++;
  return n;
}

GST_START_TEST (test_debug_category_per_element)
{
  g_autofree gchar *src = run_child ("hqroomsrc", "hqroomsrc:6");
  g_autofree gchar *sink = run_child ("hqroomsink", "hqroomsink:6");
  g_autofree gchar *src_quiet = run_child ("hqroomsrc", "hqroomsink:6");

  /* the base's lines about joining, in the element's category */
  fail_unless (count_lines (src, "hqroomsrc", "connecting to") > 0,
      "GST_DEBUG=hqroomsrc:6 printed no hqroomsrc line about connecting:\n%s",
      src);
  fail_unless (count_lines (src, "hqroomsrc", "<room>") > 0,
      "no hqroomsrc line names the element:\n%s", src);
  fail_unless_equals_int (count_lines (src, "hqroomsink", NULL), 0);
  fail_unless (count_lines (sink, "hqroomsink", "connecting to") > 0,
      "GST_DEBUG=hqroomsink:6 printed no hqroomsink line about "
      "connecting:\n%s",
      sink);
  fail_unless_equals_int (count_lines (sink, "hqroomsrc", NULL), 0);
  fail_unless_equals_int (count_lines (src_quiet, "hqroomsrc", NULL), 0);
}

GST_END_TEST;

/* gst-launch-1.0 sets PAUSED, then runs its main loop, and sets PLAYING
 * from the loop; it quits on an error from its bus's sync handler, and a
 * quit before the loop runs is lost.  An element that gives up before
 * then (a refused join takes milliseconds on loopback) must not leave the
 * line running for ever: going to PLAYING after it gave up fails and says
 * why again.  The application here does what gst-launch does, in an order
 * that does not depend on timing: it waits for the error in PAUSED. */
GST_START_TEST (test_playing_after_giving_up_fails)
{
  const gchar *factories[] = { "hqroomsrc", "hqroomsink" };

  for (guint i = 0; i < G_N_ELEMENTS (factories); i++) {
    g_autofree gchar *desc = g_strdup_printf (
        "%s server=http://127.0.0.1:9 token=x room=r reconnect-timeout=100",
        factories[i]);
    GstElement *element = gst_parse_launch (desc, NULL);
    GstElement *pipeline = gst_pipeline_new (NULL);
    GstBus *bus = gst_element_get_bus (pipeline);
    GstMessage *gave_up, *again;
    GError *e1 = NULL, *e2 = NULL;

    fail_unless (element != NULL);
    gst_bin_add (GST_BIN (pipeline), element);
    fail_if (gst_element_set_state (pipeline, GST_STATE_PAUSED)
        == GST_STATE_CHANGE_FAILURE);
    gave_up =
        gst_bus_timed_pop_filtered (bus, 60 * GST_SECOND, GST_MESSAGE_ERROR);
    fail_unless (gave_up != NULL, "%s did not give up", factories[i]);
    fail_unless_equals_int (gst_element_set_state (pipeline, GST_STATE_PLAYING),
        GST_STATE_CHANGE_FAILURE);
    again = gst_bus_timed_pop_filtered (bus, 0, GST_MESSAGE_ERROR);
    fail_unless (again != NULL,
        "%s failed to play without saying why on the bus", factories[i]);
    gst_message_parse_error (gave_up, &e1, NULL);
    gst_message_parse_error (again, &e2, NULL);
    fail_unless_equals_string (e2->message, e1->message);
    fail_unless (g_error_matches (e2, e1->domain, e1->code));
    g_clear_error (&e1);
    g_clear_error (&e2);
    gst_message_unref (gave_up);
    gst_message_unref (again);
    gst_element_set_state (pipeline, GST_STATE_NULL);
    gst_object_unref (bus);
    gst_object_unref (pipeline);
  }
}

GST_END_TEST;

static Suite *
roombin_suite (void)
{
  Suite *s = suite_create ("roombin");
  TCase *tc = tcase_create ("general");

  tcase_set_timeout (tc, 120);
  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_participants_array);
  tcase_add_test (tc, test_debug_category_per_element);
  tcase_add_test (tc, test_playing_after_giving_up_fails);
  return s;
}

int
main (int argc, char **argv)
{
  if (argc == 3 && !strcmp (argv[1], "--child")) {
    gst_init (NULL, NULL);
    return child_main (argv[2]);
  }
  self_path = argv[0];
  gst_check_init (&argc, &argv);
  return gst_check_run_suite (roombin_suite (), "roombin", __FILE__);
}
