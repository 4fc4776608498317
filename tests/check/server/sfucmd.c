/* Unit tests for the SFU's commands between threads (server/sfu/hqsfucmd.h):
 * a command owns copies of what it carries, so the caller may change or
 * free its strings and JSON the moment the call returns (under ASan a
 * command that kept a pointer into them reads freed memory); JSON crosses
 * as text and the receiving thread gets an object of its own; a command
 * handed to a worker thread is read and cleared there while the caller's
 * objects are gone. */
#include <string.h>
#include "hqsfucmd.h"
#include "hqworkers.h"

static void
test_add_track_copies (void)
{
  gchar *participant = g_strdup ("PA1");
  gchar *track = g_strdup ("MT1");
  gchar *name = g_strdup ("camera");
  HqSfuCmd cmd;

  g_assert_true (
      hq_sfu_cmd_init_add_track (&cmd, participant, track, name, "video", 2));
  participant[0] = track[0] = name[0] = 'X';
  g_free (participant);
  g_free (track);
  g_free (name);
  g_assert_cmpint (cmd.type, ==, HQ_SFU_CMD_ADD_TRACK);
  g_assert_cmpstr (cmd.u.add_track.participant_sid, ==, "PA1");
  g_assert_cmpstr (cmd.u.add_track.track_sid, ==, "MT1");
  g_assert_cmpstr (cmd.u.add_track.name, ==, "camera");
  g_assert_cmpint (cmd.u.add_track.kind, ==, HQ_SFU_CMD_KIND_VIDEO);
  g_assert_cmpint (cmd.u.add_track.priority, ==, 2);
  hq_sfu_cmd_clear (&cmd);
  g_assert_null (cmd.u.add_track.track_sid);

  /* Data tracks carry no media: no command. */
  cmd.type = HQ_SFU_CMD_DESTROY;
  g_assert_false (
      hq_sfu_cmd_init_add_track (&cmd, "PA1", "MT2", "chat", "application", 1));
  g_assert_false (hq_sfu_cmd_init_add_track (&cmd, "PA1", "MT2", "x", NULL, 1));
  g_assert_cmpint (cmd.type, ==, HQ_SFU_CMD_DESTROY);
}

static void
test_handle_carries_text (void)
{
  JsonObject *msg = json_object_new ();
  JsonObject *inner = json_object_new ();
  g_autoptr (JsonObject) again = NULL;
  HqSfuCmd cmd;

  json_object_set_string_member (msg, "type", "publish_offer");
  json_object_set_string_member (msg, "sdp", "v=0\r\n");
  json_object_set_string_member (inner, "mid", "0");
  json_object_set_object_member (msg, "track", inner);
  hq_sfu_cmd_init_handle (&cmd, "PA1", msg);
  /* The caller changes and drops its message at once. */
  json_object_set_string_member (msg, "sdp", "changed");
  json_object_set_string_member (inner, "mid", "9");
  json_object_unref (msg);

  g_assert_cmpint (cmd.type, ==, HQ_SFU_CMD_HANDLE);
  g_assert_cmpstr (cmd.u.handle.sid, ==, "PA1");
  again = hq_sfu_json_object_from_text (cmd.u.handle.text);
  g_assert_nonnull (again);
  g_assert_cmpstr (
      json_object_get_string_member (again, "type"), ==, "publish_offer");
  g_assert_cmpstr (json_object_get_string_member (again, "sdp"), ==, "v=0\r\n");
  g_assert_cmpstr (json_object_get_string_member (
                       json_object_get_object_member (again, "track"), "mid"),
      ==, "0");
  hq_sfu_cmd_clear (&cmd);
}

static void
test_rules_and_selection (void)
{
  JsonArray *rules = json_array_new ();
  JsonObject *rule = json_object_new ();
  gchar *sids[] = { g_strdup ("MT1"), g_strdup ("MT2"), NULL };
  HqSfuCmd cmd;

  json_object_set_string_member (rule, "type", "include");
  json_object_set_boolean_member (rule, "all", TRUE);
  json_array_add_object_element (rules, rule);
  hq_sfu_cmd_init_rules (&cmd, "PA1", rules);
  json_object_set_string_member (rule, "type", "exclude");
  json_array_unref (rules);
  g_assert_cmpint (cmd.type, ==, HQ_SFU_CMD_SET_RULES);
  g_assert_nonnull (strstr (cmd.u.rules.rules_json, "\"include\""));
  g_assert_null (strstr (cmd.u.rules.rules_json, "exclude"));
  hq_sfu_cmd_clear (&cmd);

  /* No rules: every track. */
  hq_sfu_cmd_init_rules (&cmd, "PA1", NULL);
  g_assert_null (cmd.u.rules.rules_json);
  hq_sfu_cmd_clear (&cmd);

  hq_sfu_cmd_init_selection (&cmd, "PA2", (const gchar *const *)sids);
  g_free (sids[0]);
  g_free (sids[1]);
  g_assert_cmpuint (g_strv_length (cmd.u.selection.track_sids), ==, 2);
  g_assert_cmpstr (cmd.u.selection.track_sids[0], ==, "MT1");
  g_assert_cmpstr (cmd.u.selection.track_sids[1], ==, "MT2");
  hq_sfu_cmd_clear (&cmd);

  /* No selection: an empty list, never NULL. */
  hq_sfu_cmd_init_selection (&cmd, "PA2", NULL);
  g_assert_nonnull (cmd.u.selection.track_sids);
  g_assert_cmpuint (g_strv_length (cmd.u.selection.track_sids), ==, 0);
  hq_sfu_cmd_clear (&cmd);
}

static void
test_text_edge (void)
{
  g_autoptr (JsonObject) msg = json_object_new ();
  g_autofree gchar *text = NULL;
  g_autoptr (JsonObject) again = NULL;

  json_object_set_string_member (msg, "type", "ok");
  json_object_set_int_member (msg, "revision", 3);
  text = hq_sfu_json_object_to_text (msg);
  again = hq_sfu_json_object_from_text (text);
  g_assert_nonnull (again);
  g_assert_true (again != msg);
  g_assert_cmpint (json_object_get_int_member (again, "revision"), ==, 3);
  g_assert_null (hq_sfu_json_object_from_text ("[1, 2]"));
  g_assert_null (hq_sfu_json_object_from_text ("{\"type\""));
  g_assert_null (hq_sfu_json_object_from_text (NULL));
}

/* The way the SFU uses them: built on this thread, read and cleared on a
 * worker's, after the caller dropped everything it passed. */
typedef struct
{
  HqSfuCmd cmd;
  GThread *caller;
  GMutex lock;
  GCond cond;
  gboolean ran, cleared, on_worker;
  gchar *type_seen;
} Crossing;

static gboolean
worker_reads (gpointer data)
{
  Crossing *c = data;
  g_autoptr (JsonObject) msg =
      hq_sfu_json_object_from_text (c->cmd.u.handle.text);

  g_mutex_lock (&c->lock);
  c->on_worker = g_thread_self () != c->caller;
  c->type_seen = g_strdup (json_object_get_string_member (msg, "type"));
  c->ran = TRUE;
  g_mutex_unlock (&c->lock);
  return G_SOURCE_REMOVE;
}

static void
worker_clears (gpointer data)
{
  Crossing *c = data;

  hq_sfu_cmd_clear (&c->cmd);
  g_mutex_lock (&c->lock);
  c->cleared = TRUE;
  g_cond_signal (&c->cond);
  g_mutex_unlock (&c->lock);
}

static void
test_crosses_to_worker (void)
{
  HqWorkers *workers = hq_workers_new (1);
  JsonObject *msg = json_object_new ();
  Crossing c = { 0 };
  gint64 deadline = g_get_monotonic_time () + 10 * G_USEC_PER_SEC;

  g_mutex_init (&c.lock);
  g_cond_init (&c.cond);
  c.caller = g_thread_self ();
  json_object_set_string_member (msg, "type", "subscribe_answer");
  hq_sfu_cmd_init_handle (&c.cmd, "PA1", msg);
  json_object_unref (msg);
  hq_worker_invoke (hq_workers_pick (workers), worker_reads, &c, worker_clears);
  g_mutex_lock (&c.lock);
  while (!c.cleared)
    g_assert_true (g_cond_wait_until (&c.cond, &c.lock, deadline));
  g_mutex_unlock (&c.lock);
  g_assert_true (c.ran);
  g_assert_true (c.on_worker);
  g_assert_cmpstr (c.type_seen, ==, "subscribe_answer");
  g_free (c.type_seen);
  hq_workers_free (workers);
  g_mutex_clear (&c.lock);
  g_cond_clear (&c.cond);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/sfucmd/add-track-copies", test_add_track_copies);
  g_test_add_func ("/sfucmd/handle-carries-text", test_handle_carries_text);
  g_test_add_func ("/sfucmd/rules-and-selection", test_rules_and_selection);
  g_test_add_func ("/sfucmd/text-edge", test_text_edge);
  g_test_add_func ("/sfucmd/crosses-to-worker", test_crosses_to_worker);
  return g_test_run ();
}
