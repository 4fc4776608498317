/* Unit tests for hq-server's store (server/store/hqstore.h) on SQLite in a
 * temporary directory: what one writes is what one reads back, also after
 * reopening; unique names conflict only among rooms in progress; chat
 * indexes count per room; history pages back without gaps; a database
 * made before a column was added gets it with its default; bans are kept
 * per room and identity, also in a database made before they existed. */
#include <glib.h>
#include <string.h>
#include <glib/gstdio.h>
#include <sqlite3.h>
#include "hqstore.h"
#include "hqtempdir.h"

typedef struct
{
  gchar *dir;
  HqStore *store;
} Fixture;

static void
setup (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;

  f->dir = g_dir_make_tmp ("hq-store-XXXXXX", &error);
  g_assert_no_error (error);
  f->store = hq_store_open (f->dir, &error);
  g_assert_no_error (error);
}

static void
teardown (Fixture *f, gconstpointer data)
{
  hq_store_close (f->store);
  hq_test_remove_dir (f->dir);
  g_free (f->dir);
}

static HqRoomRecord
room (const gchar *sid, const gchar *name, const gchar *status, gint64 t)
{
  HqRoomRecord r = {
    .sid = (gchar *)sid,
    .unique_name = (gchar *)name,
    .status = (gchar *)status,
    .type = "group",
    .max_participants = 50,
    .empty_room_timeout = 5,
    .unused_room_timeout = 5,
    .max_participant_duration = 14400,
    .waiting_room = TRUE,
    .created = t,
    .updated = t,
  };
  return r;
}

#define RM1 "RM00000000000000000000000000000001"
#define RM2 "RM00000000000000000000000000000002"
#define RM3 "RM00000000000000000000000000000003"

static void
test_room_round_trip_and_reopen (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  HqRoomRecord r = room (RM1, "consult", "in-progress", 1000);
  g_autoptr (HqRoomRecord) got = NULL;

  r.status_callback = "http://example.test/hook";
  g_assert_true (hq_store_put_room (f->store, &r, &error));
  hq_store_close (f->store);
  f->store = hq_store_open (f->dir, &error);
  g_assert_no_error (error);
  got = hq_store_get_room (f->store, RM1, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (got->unique_name, ==, "consult");
  g_assert_cmpstr (got->status_callback, ==, "http://example.test/hook");
  g_assert_null (got->end_reason);
  g_assert_true (got->waiting_room);
  g_assert_cmpint (got->created, ==, 1000);

  g_assert_null (hq_store_get_room (f->store, RM2, &error));
  g_assert_error (error, HQ_STORE_ERROR, HQ_STORE_ERROR_NOT_FOUND);
}

static void
test_unique_names_conflict_only_in_progress (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  HqRoomRecord a = room (RM1, "same", "in-progress", 1);
  HqRoomRecord b = room (RM2, "same", "in-progress", 2);
  g_autoptr (GPtrArray) live = NULL;
  g_autoptr (GPtrArray) all = NULL;

  g_assert_true (hq_store_put_room (f->store, &a, &error));
  g_assert_false (hq_store_put_room (f->store, &b, &error));
  g_assert_error (error, HQ_STORE_ERROR, HQ_STORE_ERROR_CONFLICT);
  g_clear_error (&error);

  a.status = "completed";
  g_assert_true (hq_store_put_room (f->store, &a, &error));
  g_assert_true (hq_store_put_room (f->store, &b, &error));

  live = hq_store_list_rooms (f->store, "in-progress", NULL, 10, 0, &error);
  g_assert_cmpuint (live->len, ==, 1);
  g_assert_cmpstr (((HqRoomRecord *)live->pdata[0])->sid, ==, RM2);
  /* Newest first. */
  all = hq_store_list_rooms (f->store, NULL, "same", 10, 0, &error);
  g_assert_cmpuint (all->len, ==, 2);
  g_assert_cmpstr (((HqRoomRecord *)all->pdata[0])->sid, ==, RM2);
}

static void
add_chat (HqStore *store, const gchar *room_sid, const gchar *body,
    gint64 expect_index)
{
  g_autoptr (GError) error = NULL;
  HqChatRecord msg = {
    .room_sid = (gchar *)room_sid,
    .participant_sid = "PA00000000000000000000000000000001",
    .identity = "pat",
    .body = (gchar *)body,
    .created = 5,
  };

  g_assert_true (hq_store_add_chat (store, &msg, &error));
  g_assert_no_error (error);
  g_assert_cmpint (msg.index, ==, expect_index);
}

static void
test_chat_indexes_and_history (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) newest = NULL;
  g_autoptr (GPtrArray) older = NULL;
  g_autoptr (GPtrArray) other = NULL;

  for (gint i = 1; i <= 7; i++) {
    g_autofree gchar *body = g_strdup_printf ("m%d", i);
    add_chat (f->store, RM1, body, i);
  }
  add_chat (f->store, RM3, "elsewhere", 1);

  newest = hq_store_chat_history (f->store, RM1, 0, 3, &error);
  g_assert_cmpuint (newest->len, ==, 3);
  g_assert_cmpstr (((HqChatRecord *)newest->pdata[0])->body, ==, "m5");
  g_assert_cmpstr (((HqChatRecord *)newest->pdata[2])->body, ==, "m7");
  older = hq_store_chat_history (f->store, RM1, 5, 10, &error);
  g_assert_cmpuint (older->len, ==, 4);
  g_assert_cmpint (((HqChatRecord *)older->pdata[0])->index, ==, 1);
  g_assert_cmpint (((HqChatRecord *)older->pdata[3])->index, ==, 4);
  other = hq_store_chat_history (f->store, RM3, 0, 10, &error);
  g_assert_cmpuint (other->len, ==, 1);
}

static void
test_events_in_order (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) events = NULL;
  const gchar *names[] = { "room-created", "participant-connected",
    "participant-removed" };
  gint64 last = 0;

  for (gsize i = 0; i < G_N_ELEMENTS (names); i++) {
    HqEventRecord e = { .room_sid = RM1,
      .event = (gchar *)names[i],
      .detail = "{\"reason\":\"x\"}",
      .created = 9 };
    g_assert_true (hq_store_add_event (f->store, &e, &error));
    g_assert_cmpint (e.sequence, >, last);
    last = e.sequence;
  }
  events = hq_store_list_events (f->store, RM1, 2, 1, &error);
  g_assert_cmpuint (events->len, ==, 2);
  g_assert_cmpstr (
      ((HqEventRecord *)events->pdata[0])->event, ==, "participant-connected");
  g_assert_cmpstr (
      ((HqEventRecord *)events->pdata[1])->detail, ==, "{\"reason\":\"x\"}");
}

/* A tracks table as hq-server wrote it before track priorities. */
static void
make_old_database (const gchar *dir)
{
  g_autofree gchar *path = g_build_filename (dir, "hq-server.db", NULL);
  sqlite3 *db;

  g_assert_cmpint (sqlite3_open (path, &db), ==, SQLITE_OK);
  g_assert_cmpint (
      sqlite3_exec (db,
          "CREATE TABLE tracks (sid TEXT PRIMARY KEY, room_sid TEXT NOT NULL,"
          " participant_sid TEXT NOT NULL, name TEXT NOT NULL, kind TEXT NOT "
          "NULL, enabled INTEGER NOT NULL, published INTEGER NOT NULL,"
          " created INTEGER NOT NULL, updated INTEGER NOT NULL);"
          "INSERT INTO tracks VALUES ('MT1', 'RM1', 'PA1', 'mic', 'audio', 1, "
          "1, 10, 10);",
          NULL, NULL, NULL),
      ==, SQLITE_OK);
  sqlite3_close (db);
}

static void
test_old_tracks_get_a_priority (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree gchar *dir = g_dir_make_tmp ("hq-store-XXXXXX", &error);
  HqStore *store;
  g_autoptr (GPtrArray) tracks = NULL;
  HqTrackRecord *t;

  g_assert_no_error (error);
  make_old_database (dir);
  store = hq_store_open (dir, &error);
  g_assert_no_error (error);
  tracks = hq_store_list_tracks (store, "PA1", &error);
  g_assert_no_error (error);
  g_assert_cmpuint (tracks->len, ==, 1);
  t = tracks->pdata[0];
  g_assert_cmpstr (t->name, ==, "mic");
  g_assert_cmpstr (t->priority, ==, "standard");
  g_free (t->priority);
  t->priority = g_strdup ("high");
  g_assert_true (hq_store_put_track (store, t, &error));
  hq_store_close (store);
  /* Opening again adds nothing twice and reads what was written. */
  store = hq_store_open (dir, &error);
  g_assert_no_error (error);
  g_clear_pointer (&tracks, g_ptr_array_unref);
  tracks = hq_store_list_tracks (store, "PA1", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (((HqTrackRecord *)tracks->pdata[0])->priority, ==, "high");
  hq_store_close (store);
  hq_test_remove_dir (dir);
}

/* participants and chat as they were before display names, and no bans
 * table: a data directory of an earlier server. */
static void
make_database_before_bans (const gchar *dir)
{
  g_autofree gchar *path = g_build_filename (dir, "hq-server.db", NULL);
  sqlite3 *db;

  g_assert_cmpint (sqlite3_open (path, &db), ==, SQLITE_OK);
  g_assert_cmpint (
      sqlite3_exec (db,
          "CREATE TABLE participants (sid TEXT PRIMARY KEY, room_sid TEXT "
          "NOT NULL, identity TEXT NOT NULL, status TEXT NOT NULL, role TEXT "
          "NOT NULL, end_reason TEXT, created INTEGER NOT NULL, updated "
          "INTEGER NOT NULL, ended INTEGER NOT NULL);"
          "INSERT INTO participants VALUES ('PA1', 'RM1', 'pat', "
          "'disconnected', 'guest', 'left', 10, 20, 20);"
          "CREATE TABLE chat (room_sid TEXT NOT NULL, idx INTEGER NOT NULL,"
          " participant_sid TEXT NOT NULL, identity TEXT NOT NULL, body TEXT "
          "NOT NULL, attributes TEXT, created INTEGER NOT NULL,"
          " PRIMARY KEY (room_sid, idx));"
          "INSERT INTO chat VALUES ('RM1', 1, 'PA1', 'pat', 'hi', NULL, 15);",
          NULL, NULL, NULL),
      ==, SQLITE_OK);
  sqlite3_close (db);
}

static void
test_bans_in_an_old_database (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree gchar *dir = g_dir_make_tmp ("hq-store-XXXXXX", &error);
  HqBanRecord ban = { .room_sid = (gchar *)"RM1",
    .identity = (gchar *)"pat",
    .reason = (gchar *)"removed",
    .participant_sid = (gchar *)"PA1",
    .actor_sid = (gchar *)"PA2",
    .created = 30 };
  g_autoptr (HqParticipantRecord) p = NULL;
  g_autoptr (HqBanRecord) got = NULL;
  g_autoptr (GPtrArray) chat = NULL;
  g_autoptr (GPtrArray) bans = NULL;
  HqStore *store;

  g_assert_no_error (error);
  make_database_before_bans (dir);
  store = hq_store_open (dir, &error);
  g_assert_no_error (error);
  /* Old rows read back without a display name. */
  p = hq_store_get_participant (store, "RM1", "PA1", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (p->identity, ==, "pat");
  g_assert_null (p->name);
  chat = hq_store_chat_history (store, "RM1", 0, 10, &error);
  g_assert_no_error (error);
  g_assert_null (((HqChatRecord *)chat->pdata[0])->name);

  g_assert_null (hq_store_get_ban (store, "RM1", "pat", &error));
  g_assert_error (error, HQ_STORE_ERROR, HQ_STORE_ERROR_NOT_FOUND);
  g_clear_error (&error);
  g_assert_true (hq_store_put_ban (store, &ban, &error));
  g_assert_no_error (error);
  hq_store_close (store);

  /* Kept across a reopen, per room. */
  store = hq_store_open (dir, &error);
  g_assert_no_error (error);
  got = hq_store_get_ban (store, "RM1", "pat", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (got->reason, ==, "removed");
  g_assert_cmpstr (got->actor_sid, ==, "PA2");
  g_assert_null (hq_store_get_ban (store, "RM2", "pat", &error));
  g_clear_error (&error);
  bans = hq_store_list_bans (store, "RM1", &error);
  g_assert_no_error (error);
  g_assert_cmpuint (bans->len, ==, 1);
  g_assert_true (hq_store_delete_ban (store, "RM1", "pat", &error));
  g_assert_false (hq_store_delete_ban (store, "RM1", "pat", &error));
  g_assert_error (error, HQ_STORE_ERROR, HQ_STORE_ERROR_NOT_FOUND);
  hq_store_close (store);
  hq_test_remove_dir (dir);
}

static void
test_unwritable_dir_is_an_error (void)
{
  g_autoptr (GError) error = NULL;

  g_assert_null (hq_store_open ("/proc/no-such-dir", &error));
  g_assert_error (error, HQ_STORE_ERROR, HQ_STORE_ERROR_IO);
  g_assert_nonnull (strstr (error->message, "/proc/no-such-dir"));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add ("/store/room-round-trip-and-reopen", Fixture, NULL, setup,
      test_room_round_trip_and_reopen, teardown);
  g_test_add ("/store/unique-names", Fixture, NULL, setup,
      test_unique_names_conflict_only_in_progress, teardown);
  g_test_add ("/store/chat", Fixture, NULL, setup,
      test_chat_indexes_and_history, teardown);
  g_test_add (
      "/store/events", Fixture, NULL, setup, test_events_in_order, teardown);
  g_test_add_func ("/store/unwritable-dir", test_unwritable_dir_is_an_error);
  g_test_add_func (
      "/store/old-tracks-get-a-priority", test_old_tracks_get_a_priority);
  g_test_add_func (
      "/store/bans-in-an-old-database", test_bans_in_an_old_database);
  return g_test_run ();
}
