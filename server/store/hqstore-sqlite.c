/* The store on SQLite: one database file, <data dir>/hq-server.db, in WAL
 * mode, with one connection used from the main thread only.
 *
 * Every call runs one statement or one short transaction and returns once
 * SQLite has committed it.  With WAL and synchronous=NORMAL a committed
 * transaction is in the WAL file before the call returns, so it survives
 * the process being killed at any moment (kill -9); only a power loss can
 * take the last few commits, which synchronous=FULL would close at the cost
 * of one fsync per commit.
 *
 * Statements are prepared once and kept in a cache keyed by their text.
 *
 * This file opens and closes the database and frees the records;
 * hqstore-rooms.c, hqstore-chat.c and hqstore-recordings.c read and write
 * them with the helpers of hqstore-private.h. */
#include "hqstore-private.h"

#include <json-glib/json-glib.h>

G_DEFINE_QUARK (hq - store - error - quark, hq_store_error);

static const gchar schema[] =
    "CREATE TABLE IF NOT EXISTS rooms ("
    "  sid TEXT PRIMARY KEY, unique_name TEXT NOT NULL, status TEXT NOT NULL,"
    "  type TEXT NOT NULL, status_callback TEXT, end_reason TEXT,"
    "  max_participants INTEGER NOT NULL, empty_room_timeout INTEGER NOT NULL,"
    "  unused_room_timeout INTEGER NOT NULL,"
    "  max_participant_duration INTEGER NOT NULL,"
    "  record_participants_on_connect INTEGER NOT NULL,"
    "  waiting_room INTEGER NOT NULL, callback_sequence INTEGER NOT NULL,"
    "  created INTEGER NOT NULL, updated INTEGER NOT NULL,"
    "  ended INTEGER NOT NULL);"
    "CREATE UNIQUE INDEX IF NOT EXISTS rooms_live_name ON rooms (unique_name)"
    "  WHERE status = 'in-progress';"
    "CREATE INDEX IF NOT EXISTS rooms_created ON rooms (created);"
    "CREATE TABLE IF NOT EXISTS participants ("
    "  sid TEXT PRIMARY KEY, room_sid TEXT NOT NULL, identity TEXT NOT NULL,"
    "  status TEXT NOT NULL, role TEXT NOT NULL, end_reason TEXT,"
    "  created INTEGER NOT NULL, updated INTEGER NOT NULL,"
    "  ended INTEGER NOT NULL, name TEXT);"
    "CREATE INDEX IF NOT EXISTS participants_room ON participants "
    "  (room_sid, created);"
    "CREATE TABLE IF NOT EXISTS tracks ("
    "  sid TEXT PRIMARY KEY, room_sid TEXT NOT NULL,"
    "  participant_sid TEXT NOT NULL, name TEXT NOT NULL, kind TEXT NOT NULL,"
    "  enabled INTEGER NOT NULL, published INTEGER NOT NULL,"
    "  created INTEGER NOT NULL, updated INTEGER NOT NULL,"
    "  priority TEXT NOT NULL DEFAULT 'standard');"
    "CREATE INDEX IF NOT EXISTS tracks_participant ON tracks "
    "  (participant_sid);"
    "CREATE TABLE IF NOT EXISTS chat ("
    "  room_sid TEXT NOT NULL, idx INTEGER NOT NULL,"
    "  participant_sid TEXT NOT NULL, identity TEXT NOT NULL,"
    "  body TEXT NOT NULL, attributes TEXT, created INTEGER NOT NULL,"
    "  name TEXT, media TEXT, PRIMARY KEY (room_sid, idx));"
    "CREATE TABLE IF NOT EXISTS chat_media ("
    "  sid TEXT PRIMARY KEY, room_sid TEXT NOT NULL, identity TEXT NOT NULL,"
    "  filename TEXT, content_type TEXT NOT NULL, size INTEGER NOT NULL,"
    "  file TEXT NOT NULL, created INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS events ("
    "  sequence INTEGER PRIMARY KEY AUTOINCREMENT, room_sid TEXT NOT NULL,"
    "  event TEXT NOT NULL, participant_sid TEXT, identity TEXT,"
    "  track_sid TEXT, actor_sid TEXT, detail TEXT, created INTEGER NOT NULL);"
    "CREATE INDEX IF NOT EXISTS events_room ON events (room_sid, sequence);"
    "CREATE TABLE IF NOT EXISTS recordings ("
    "  sid TEXT PRIMARY KEY, room_sid TEXT NOT NULL,"
    "  participant_sid TEXT NOT NULL, track_sid TEXT NOT NULL,"
    "  track_name TEXT NOT NULL, type TEXT NOT NULL, status TEXT NOT NULL,"
    "  container TEXT NOT NULL, codec TEXT, file TEXT, session TEXT,"
    "  offset_ms INTEGER NOT NULL, duration INTEGER NOT NULL,"
    "  size INTEGER NOT NULL, created INTEGER NOT NULL,"
    "  updated INTEGER NOT NULL);"
    "CREATE INDEX IF NOT EXISTS recordings_room ON recordings "
    "  (room_sid, created);"
    "CREATE TABLE IF NOT EXISTS compositions ("
    "  sid TEXT PRIMARY KEY, room_sid TEXT NOT NULL, status TEXT NOT NULL,"
    "  audio_sources TEXT NOT NULL, video_layout TEXT NOT NULL,"
    "  resolution TEXT NOT NULL, format TEXT NOT NULL, status_callback TEXT,"
    "  file TEXT, error TEXT, duration INTEGER NOT NULL,"
    "  size INTEGER NOT NULL, created INTEGER NOT NULL,"
    "  updated INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS recording_rules ("
    "  room_sid TEXT PRIMARY KEY, rules TEXT NOT NULL);"
    "CREATE TABLE IF NOT EXISTS e2ee_rooms ("
    "  room_sid TEXT PRIMARY KEY, created INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS bans ("
    "  room_sid TEXT NOT NULL, identity TEXT NOT NULL, reason TEXT NOT NULL,"
    "  participant_sid TEXT, actor_sid TEXT, created INTEGER NOT NULL,"
    "  PRIMARY KEY (room_sid, identity));"
    "CREATE TABLE IF NOT EXISTS invites ("
    "  code_hash TEXT PRIMARY KEY, visit TEXT NOT NULL, role TEXT NOT NULL,"
    "  waiting_room INTEGER NOT NULL, max_uses INTEGER NOT NULL,"
    "  uses INTEGER NOT NULL, created INTEGER NOT NULL,"
    "  expires INTEGER NOT NULL);";

/* --- records --- */

void
hq_room_record_free (HqRoomRecord *rec)
{
  if (rec == NULL)
    return;
  g_free (rec->sid);
  g_free (rec->unique_name);
  g_free (rec->status);
  g_free (rec->type);
  g_free (rec->status_callback);
  g_free (rec->end_reason);
  g_free (rec);
}

HqRoomRecord *
hq_room_record_copy (const HqRoomRecord *rec)
{
  HqRoomRecord *copy = g_memdup2 (rec, sizeof *rec);

  copy->sid = g_strdup (rec->sid);
  copy->unique_name = g_strdup (rec->unique_name);
  copy->status = g_strdup (rec->status);
  copy->type = g_strdup (rec->type);
  copy->status_callback = g_strdup (rec->status_callback);
  copy->end_reason = g_strdup (rec->end_reason);
  return copy;
}

void
hq_participant_record_free (HqParticipantRecord *rec)
{
  if (rec == NULL)
    return;
  g_free (rec->sid);
  g_free (rec->room_sid);
  g_free (rec->identity);
  g_free (rec->status);
  g_free (rec->role);
  g_free (rec->end_reason);
  g_free (rec->name);
  g_free (rec);
}

void
hq_ban_record_free (HqBanRecord *rec)
{
  if (rec == NULL)
    return;
  g_free (rec->room_sid);
  g_free (rec->identity);
  g_free (rec->reason);
  g_free (rec->participant_sid);
  g_free (rec->actor_sid);
  g_free (rec);
}

void
hq_invite_record_free (HqInviteRecord *rec)
{
  if (rec == NULL)
    return;
  g_free (rec->code_hash);
  g_free (rec->visit);
  g_free (rec->role);
  g_free (rec);
}

void
hq_track_record_free (HqTrackRecord *rec)
{
  if (rec == NULL)
    return;
  g_free (rec->sid);
  g_free (rec->room_sid);
  g_free (rec->participant_sid);
  g_free (rec->name);
  g_free (rec->kind);
  g_free (rec->priority);
  g_free (rec);
}

void
hq_chat_record_free (HqChatRecord *rec)
{
  if (rec == NULL)
    return;
  g_free (rec->room_sid);
  g_free (rec->participant_sid);
  g_free (rec->identity);
  g_free (rec->body);
  g_free (rec->attributes);
  g_free (rec->name);
  g_free (rec->media);
  g_free (rec);
}

void
hq_chat_media_record_free (HqChatMediaRecord *rec)
{
  if (rec == NULL)
    return;
  g_free (rec->sid);
  g_free (rec->room_sid);
  g_free (rec->identity);
  g_free (rec->filename);
  g_free (rec->content_type);
  g_free (rec->file);
  g_free (rec);
}

void
hq_event_record_free (HqEventRecord *rec)
{
  if (rec == NULL)
    return;
  g_free (rec->room_sid);
  g_free (rec->event);
  g_free (rec->participant_sid);
  g_free (rec->identity);
  g_free (rec->track_sid);
  g_free (rec->actor_sid);
  g_free (rec->detail);
  g_free (rec);
}

void
hq_recording_record_free (HqRecordingRecord *rec)
{
  if (rec == NULL)
    return;
  g_free (rec->sid);
  g_free (rec->room_sid);
  g_free (rec->participant_sid);
  g_free (rec->track_sid);
  g_free (rec->track_name);
  g_free (rec->type);
  g_free (rec->status);
  g_free (rec->container);
  g_free (rec->codec);
  g_free (rec->file);
  g_free (rec->session);
  g_free (rec);
}

void
hq_composition_record_free (HqCompositionRecord *rec)
{
  if (rec == NULL)
    return;
  g_free (rec->sid);
  g_free (rec->room_sid);
  g_free (rec->status);
  g_free (rec->audio_sources);
  g_free (rec->video_layout);
  g_free (rec->resolution);
  g_free (rec->format);
  g_free (rec->status_callback);
  g_free (rec->file);
  g_free (rec->error);
  g_free (rec);
}

/* --- statements --- */

static gboolean
exec (HqStore *store, const gchar *sql, GError **error)
{
  char *msg = NULL;

  if (sqlite3_exec (store->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
    g_set_error (error, HQ_STORE_ERROR, HQ_STORE_ERROR_IO, "%s: %s",
        store->path, msg ? msg : "unknown error");
    sqlite3_free (msg);
    return FALSE;
  }
  return TRUE;
}

/* Columns added after a table first shipped: a data directory made by an
 * older server gets them, with their defaults, when it is opened. */
static gboolean
add_missing_columns (HqStore *store, GError **error)
{
  static const struct
  {
    const gchar *table, *column, *ddl;
  } added[] = {
    { "tracks", "priority",
        "ALTER TABLE tracks ADD COLUMN priority TEXT NOT NULL "
        "DEFAULT 'standard'" },
    { "participants", "name", "ALTER TABLE participants ADD COLUMN name TEXT" },
    { "chat", "name", "ALTER TABLE chat ADD COLUMN name TEXT" },
    { "chat", "media", "ALTER TABLE chat ADD COLUMN media TEXT" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (added); i++) {
    int rc = sqlite3_table_column_metadata (store->db, NULL, added[i].table,
        added[i].column, NULL, NULL, NULL, NULL, NULL);
    if (rc != SQLITE_OK && !exec (store, added[i].ddl, error))
      return FALSE;
  }
  return TRUE;
}

/* --- open / close --- */

static void
finalize_stmt (gpointer s)
{
  sqlite3_finalize (s);
}

HqStore *
hq_store_open (const gchar *data_dir, GError **error)
{
  HqStore *store = g_new0 (HqStore, 1);

  store->path = g_build_filename (data_dir, "hq-server.db", NULL);
  store->stmts =
      g_hash_table_new_full (g_str_hash, g_str_equal, NULL, finalize_stmt);
  if (sqlite3_open_v2 (store->path, &store->db,
          SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
          NULL)
      != SQLITE_OK) {
    db_error (store, "cannot open the database", error);
    hq_store_close (store);
    return NULL;
  }
  /* Another process (an operator's sqlite3 shell) may hold a lock briefly. */
  sqlite3_busy_timeout (store->db, 5000);
  if (!exec (store,
          "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
          "PRAGMA foreign_keys=OFF;",
          error)
      || !exec (store, schema, error) || !add_missing_columns (store, error)) {
    hq_store_close (store);
    return NULL;
  }
  return store;
}

void
hq_store_close (HqStore *store)
{
  if (store == NULL)
    return;
  g_hash_table_destroy (store->stmts);
  sqlite3_close (store->db);
  g_free (store->path);
  g_free (store);
}
