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
 * Statements are prepared once and kept in a cache keyed by their text. */
#include "hqstore.h"
#include "hqmetrics.h"

#include <sqlite3.h>
#include <json-glib/json-glib.h>
#include <hq/hqprotocol.h>

struct _HqStore
{
  sqlite3 *db;
  gchar *path;
  GHashTable *stmts; /* SQL text (static) -> sqlite3_stmt */
};

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
db_error (HqStore *store, const gchar *what, GError **error)
{
  g_set_error (error, HQ_STORE_ERROR, HQ_STORE_ERROR_IO, "%s in %s: %s", what,
      store->path, sqlite3_errmsg (store->db));
  return FALSE;
}

/* The cached statement for @sql, reset and unbound; NULL on error. */
static sqlite3_stmt *
stmt (HqStore *store, const gchar *sql, GError **error)
{
  sqlite3_stmt *s = g_hash_table_lookup (store->stmts, sql);

  if (s == NULL) {
    if (sqlite3_prepare_v3 (
            store->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &s, NULL)
        != SQLITE_OK) {
      db_error (store, "cannot prepare a statement", error);
      return NULL;
    }
    g_hash_table_insert (store->stmts, (gpointer)sql, s);
  }
  sqlite3_reset (s);
  sqlite3_clear_bindings (s);
  return s;
}

static void
bind_text (sqlite3_stmt *s, int i, const gchar *text)
{
  if (text == NULL)
    sqlite3_bind_null (s, i);
  else
    sqlite3_bind_text (s, i, text, -1, SQLITE_TRANSIENT);
}

static gchar *
col_text (sqlite3_stmt *s, int i)
{
  const unsigned char *t = sqlite3_column_text (s, i);

  return t ? g_strdup ((const gchar *)t) : NULL;
}

/* Runs a statement that returns no rows. */
/* Steps @s once, timed for /metrics. */
static int
step (sqlite3_stmt *s)
{
  gint64 start = g_get_monotonic_time ();
  int rc = sqlite3_step (s);

  hq_metrics_observe (HQ_HISTOGRAM_STORE_SECONDS,
      (g_get_monotonic_time () - start) / (gdouble)G_USEC_PER_SEC);
  return rc;
}

static gboolean
run (HqStore *store, sqlite3_stmt *s, GError **error)
{
  int rc = step (s);

  sqlite3_reset (s);
  if (rc == SQLITE_DONE)
    return TRUE;
  if (rc == SQLITE_CONSTRAINT) {
    g_set_error (error, HQ_STORE_ERROR, HQ_STORE_ERROR_CONFLICT,
        "the change conflicts with a stored record: %s",
        sqlite3_errmsg (store->db));
    return FALSE;
  }
  return db_error (store, "cannot write", error);
}

typedef gpointer (*RowReader) (sqlite3_stmt *s);

/* Steps @s to the end, reading each row with @read into a new array. */
static GPtrArray *
collect (HqStore *store, sqlite3_stmt *s, RowReader read, GDestroyNotify free,
    GError **error)
{
  GPtrArray *rows = g_ptr_array_new_with_free_func (free);
  gint64 start = g_get_monotonic_time ();
  int rc;

  while ((rc = sqlite3_step (s)) == SQLITE_ROW)
    g_ptr_array_add (rows, read (s));
  hq_metrics_observe (HQ_HISTOGRAM_STORE_SECONDS,
      (g_get_monotonic_time () - start) / (gdouble)G_USEC_PER_SEC);
  sqlite3_reset (s);
  if (rc != SQLITE_DONE) {
    g_ptr_array_unref (rows);
    db_error (store, "cannot read", error);
    return NULL;
  }
  return rows;
}

/* The single row of @s, or NULL with NOT_FOUND naming @what. */
static gpointer
one (HqStore *store, sqlite3_stmt *s, RowReader read, GDestroyNotify free,
    const gchar *what, const gchar *sid, GError **error)
{
  GPtrArray *rows = collect (store, s, read, free, error);
  gpointer row = NULL;

  if (rows == NULL)
    return NULL;
  if (rows->len == 0)
    g_set_error (error, HQ_STORE_ERROR, HQ_STORE_ERROR_NOT_FOUND,
        "no %s with sid %s", what, sid);
  else
    row = g_ptr_array_steal_index (rows, 0);
  g_ptr_array_unref (rows);
  return row;
}

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

/* --- rooms --- */

#define ROOM_COLUMNS                                                           \
  "sid, unique_name, status, type, status_callback, end_reason, "              \
  "max_participants, empty_room_timeout, unused_room_timeout, "                \
  "max_participant_duration, record_participants_on_connect, waiting_room, "   \
  "callback_sequence, created, updated, ended"

static gpointer
read_room (sqlite3_stmt *s)
{
  HqRoomRecord *r = g_new0 (HqRoomRecord, 1);

  r->sid = col_text (s, 0);
  r->unique_name = col_text (s, 1);
  r->status = col_text (s, 2);
  r->type = col_text (s, 3);
  r->status_callback = col_text (s, 4);
  r->end_reason = col_text (s, 5);
  r->max_participants = sqlite3_column_int (s, 6);
  r->empty_room_timeout = sqlite3_column_int (s, 7);
  r->unused_room_timeout = sqlite3_column_int (s, 8);
  r->max_participant_duration = sqlite3_column_int64 (s, 9);
  r->record_participants_on_connect = sqlite3_column_int (s, 10);
  r->waiting_room = sqlite3_column_int (s, 11);
  r->callback_sequence = sqlite3_column_int64 (s, 12);
  r->created = sqlite3_column_int64 (s, 13);
  r->updated = sqlite3_column_int64 (s, 14);
  r->ended = sqlite3_column_int64 (s, 15);
  return r;
}

gboolean
hq_store_put_room (HqStore *store, const HqRoomRecord *r, GError **error)
{
  sqlite3_stmt *s = stmt (store,
      /* Not INSERT OR REPLACE: that would settle a unique-name conflict
       * by deleting the other room. */
      "INSERT INTO rooms (" ROOM_COLUMNS ") VALUES "
      "(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?) ON CONFLICT (sid) DO UPDATE SET "
      "unique_name = excluded.unique_name, status = excluded.status, "
      "type = excluded.type, status_callback = excluded.status_callback, "
      "end_reason = excluded.end_reason, "
      "max_participants = excluded.max_participants, "
      "empty_room_timeout = excluded.empty_room_timeout, "
      "unused_room_timeout = excluded.unused_room_timeout, "
      "max_participant_duration = excluded.max_participant_duration, "
      "record_participants_on_connect = "
      "excluded.record_participants_on_connect, "
      "waiting_room = excluded.waiting_room, "
      "callback_sequence = excluded.callback_sequence, "
      "created = excluded.created, updated = excluded.updated, "
      "ended = excluded.ended",
      error);

  if (s == NULL)
    return FALSE;
  bind_text (s, 1, r->sid);
  bind_text (s, 2, r->unique_name);
  bind_text (s, 3, r->status);
  bind_text (s, 4, r->type);
  bind_text (s, 5, r->status_callback);
  bind_text (s, 6, r->end_reason);
  sqlite3_bind_int (s, 7, r->max_participants);
  sqlite3_bind_int (s, 8, r->empty_room_timeout);
  sqlite3_bind_int (s, 9, r->unused_room_timeout);
  sqlite3_bind_int64 (s, 10, r->max_participant_duration);
  sqlite3_bind_int (s, 11, r->record_participants_on_connect);
  sqlite3_bind_int (s, 12, r->waiting_room);
  sqlite3_bind_int64 (s, 13, r->callback_sequence);
  sqlite3_bind_int64 (s, 14, r->created);
  sqlite3_bind_int64 (s, 15, r->updated);
  sqlite3_bind_int64 (s, 16, r->ended);
  return run (store, s, error);
}

HqRoomRecord *
hq_store_get_room (HqStore *store, const gchar *sid, GError **error)
{
  sqlite3_stmt *s =
      stmt (store, "SELECT " ROOM_COLUMNS " FROM rooms WHERE sid = ?", error);

  if (s == NULL)
    return NULL;
  bind_text (s, 1, sid);
  return one (store, s, read_room, (GDestroyNotify)hq_room_record_free, "room",
      sid, error);
}

GPtrArray *
hq_store_list_rooms (HqStore *store, const gchar *status,
    const gchar *unique_name, guint limit, guint offset, GError **error)
{
  sqlite3_stmt *s = stmt (store,
      "SELECT " ROOM_COLUMNS " FROM rooms "
      "WHERE (?1 IS NULL OR status = ?1) AND (?2 IS NULL OR unique_name = ?2) "
      "ORDER BY created DESC, rowid DESC LIMIT ?3 OFFSET ?4",
      error);

  if (s == NULL)
    return NULL;
  bind_text (s, 1, status);
  bind_text (s, 2, unique_name);
  sqlite3_bind_int64 (s, 3, limit);
  sqlite3_bind_int64 (s, 4, offset);
  return collect (
      store, s, read_room, (GDestroyNotify)hq_room_record_free, error);
}

GPtrArray *
hq_store_find_rooms (HqStore *store, const HqRoomFilter *f, guint limit,
    guint offset, GError **error)
{
  sqlite3_stmt *s = stmt (store,
      "SELECT " ROOM_COLUMNS " FROM rooms "
      "WHERE (?1 IS NULL OR status = ?1) AND (?2 IS NULL OR unique_name = ?2) "
      "AND (?3 = 0 OR created >= ?3) AND (?4 = 0 OR created < ?4) "
      "ORDER BY created DESC, rowid DESC LIMIT ?5 OFFSET ?6",
      error);

  if (s == NULL)
    return NULL;
  bind_text (s, 1, f->status);
  bind_text (s, 2, f->unique_name);
  sqlite3_bind_int64 (s, 3, f->created_after);
  sqlite3_bind_int64 (s, 4, f->created_before);
  sqlite3_bind_int64 (s, 5, limit);
  sqlite3_bind_int64 (s, 6, offset);
  return collect (
      store, s, read_room, (GDestroyNotify)hq_room_record_free, error);
}

/* --- participants --- */

#define PARTICIPANT_COLUMNS                                                    \
  "sid, room_sid, identity, status, role, end_reason, created, updated, "      \
  "ended, name"

static gpointer
read_participant (sqlite3_stmt *s)
{
  HqParticipantRecord *p = g_new0 (HqParticipantRecord, 1);

  p->sid = col_text (s, 0);
  p->room_sid = col_text (s, 1);
  p->identity = col_text (s, 2);
  p->status = col_text (s, 3);
  p->role = col_text (s, 4);
  p->end_reason = col_text (s, 5);
  p->created = sqlite3_column_int64 (s, 6);
  p->updated = sqlite3_column_int64 (s, 7);
  p->ended = sqlite3_column_int64 (s, 8);
  p->name = col_text (s, 9);
  return p;
}

gboolean
hq_store_put_participant (
    HqStore *store, const HqParticipantRecord *p, GError **error)
{
  sqlite3_stmt *s = stmt (store,
      "INSERT OR REPLACE INTO participants (" PARTICIPANT_COLUMNS ") VALUES "
      "(?,?,?,?,?,?,?,?,?,?)",
      error);

  if (s == NULL)
    return FALSE;
  bind_text (s, 1, p->sid);
  bind_text (s, 2, p->room_sid);
  bind_text (s, 3, p->identity);
  bind_text (s, 4, p->status);
  bind_text (s, 5, p->role);
  bind_text (s, 6, p->end_reason);
  sqlite3_bind_int64 (s, 7, p->created);
  sqlite3_bind_int64 (s, 8, p->updated);
  sqlite3_bind_int64 (s, 9, p->ended);
  bind_text (s, 10, p->name);
  return run (store, s, error);
}

HqParticipantRecord *
hq_store_get_participant (
    HqStore *store, const gchar *room_sid, const gchar *sid, GError **error)
{
  sqlite3_stmt *s = stmt (store,
      "SELECT " PARTICIPANT_COLUMNS " FROM participants "
      "WHERE room_sid = ? AND sid = ?",
      error);

  if (s == NULL)
    return NULL;
  bind_text (s, 1, room_sid);
  bind_text (s, 2, sid);
  return one (store, s, read_participant,
      (GDestroyNotify)hq_participant_record_free, "participant", sid, error);
}

GPtrArray *
hq_store_list_participants (HqStore *store, const gchar *room_sid,
    const gchar *status, const gchar *identity, guint limit, guint offset,
    GError **error)
{
  sqlite3_stmt *s = stmt (store,
      "SELECT " PARTICIPANT_COLUMNS " FROM participants WHERE room_sid = ?1 "
      "AND (?2 IS NULL OR status = ?2) AND (?3 IS NULL OR identity = ?3) "
      "ORDER BY created, rowid LIMIT ?4 OFFSET ?5",
      error);

  if (s == NULL)
    return NULL;
  bind_text (s, 1, room_sid);
  bind_text (s, 2, status);
  bind_text (s, 3, identity);
  sqlite3_bind_int64 (s, 4, limit);
  sqlite3_bind_int64 (s, 5, offset);
  return collect (store, s, read_participant,
      (GDestroyNotify)hq_participant_record_free, error);
}

/* --- tracks --- */

static gpointer
read_track (sqlite3_stmt *s)
{
  HqTrackRecord *t = g_new0 (HqTrackRecord, 1);

  t->sid = col_text (s, 0);
  t->room_sid = col_text (s, 1);
  t->participant_sid = col_text (s, 2);
  t->name = col_text (s, 3);
  t->kind = col_text (s, 4);
  t->enabled = sqlite3_column_int (s, 5);
  t->published = sqlite3_column_int (s, 6);
  t->created = sqlite3_column_int64 (s, 7);
  t->updated = sqlite3_column_int64 (s, 8);
  t->priority = col_text (s, 9);
  return t;
}

gboolean
hq_store_put_track (HqStore *store, const HqTrackRecord *t, GError **error)
{
  sqlite3_stmt *s = stmt (store,
      "INSERT OR REPLACE INTO tracks (sid, room_sid, participant_sid, name, "
      "kind, enabled, published, created, updated, priority) "
      "VALUES (?,?,?,?,?,?,?,?,?,?)",
      error);

  if (s == NULL)
    return FALSE;
  bind_text (s, 1, t->sid);
  bind_text (s, 2, t->room_sid);
  bind_text (s, 3, t->participant_sid);
  bind_text (s, 4, t->name);
  bind_text (s, 5, t->kind);
  sqlite3_bind_int (s, 6, t->enabled);
  sqlite3_bind_int (s, 7, t->published);
  sqlite3_bind_int64 (s, 8, t->created);
  sqlite3_bind_int64 (s, 9, t->updated);
  bind_text (s, 10,
      t->priority ? t->priority
                  : hq_protocol_priority_name (HQ_PRIORITY_STANDARD));
  return run (store, s, error);
}

GPtrArray *
hq_store_list_tracks (
    HqStore *store, const gchar *participant_sid, GError **error)
{
  sqlite3_stmt *s = stmt (store,
      "SELECT sid, room_sid, participant_sid, name, kind, enabled, published, "
      "created, updated, priority FROM tracks WHERE participant_sid = ? AND "
      "published "
      "ORDER BY created, rowid",
      error);

  if (s == NULL)
    return NULL;
  bind_text (s, 1, participant_sid);
  return collect (
      store, s, read_track, (GDestroyNotify)hq_track_record_free, error);
}

/* --- chat --- */

static gpointer
read_chat (sqlite3_stmt *s)
{
  HqChatRecord *c = g_new0 (HqChatRecord, 1);

  c->room_sid = col_text (s, 0);
  c->index = sqlite3_column_int64 (s, 1);
  c->participant_sid = col_text (s, 2);
  c->identity = col_text (s, 3);
  c->body = col_text (s, 4);
  c->attributes = col_text (s, 5);
  c->created = sqlite3_column_int64 (s, 6);
  c->name = col_text (s, 7);
  c->media = col_text (s, 8);
  return c;
}

gboolean
hq_store_add_chat (HqStore *store, HqChatRecord *msg, GError **error)
{
  /* One statement, so the index and the row commit together. */
  sqlite3_stmt *s = stmt (store,
      "INSERT INTO chat (room_sid, idx, participant_sid, identity, body, "
      "attributes, created, name, media) VALUES (?1, (SELECT "
      "COALESCE(MAX(idx), 0) + 1 FROM chat WHERE room_sid = ?1), ?2, ?3, ?4, "
      "?5, ?6, ?7, ?8) RETURNING idx",
      error);
  int rc;

  if (s == NULL)
    return FALSE;
  bind_text (s, 1, msg->room_sid);
  bind_text (s, 2, msg->participant_sid);
  bind_text (s, 3, msg->identity);
  bind_text (s, 4, msg->body);
  bind_text (s, 5, msg->attributes);
  sqlite3_bind_int64 (s, 6, msg->created);
  bind_text (s, 7, msg->name);
  bind_text (s, 8, msg->media);
  rc = step (s);
  if (rc == SQLITE_ROW) {
    msg->index = sqlite3_column_int64 (s, 0);
    rc = sqlite3_step (s);
  }
  sqlite3_reset (s);
  if (rc != SQLITE_DONE)
    return db_error (store, "cannot store a chat message", error);
  return TRUE;
}

GPtrArray *
hq_store_chat_history (HqStore *store, const gchar *room_sid, gint64 before,
    guint limit, GError **error)
{
  sqlite3_stmt *s = stmt (store,
      "SELECT * FROM (SELECT room_sid, idx, participant_sid, identity, body, "
      "attributes, created, name, media FROM chat WHERE room_sid = ?1 AND "
      "(?2 = 0 OR "
      "idx < "
      "?2) ORDER BY idx DESC LIMIT ?3) ORDER BY idx",
      error);

  if (s == NULL)
    return NULL;
  bind_text (s, 1, room_sid);
  sqlite3_bind_int64 (s, 2, before);
  sqlite3_bind_int64 (s, 3, limit);
  return collect (
      store, s, read_chat, (GDestroyNotify)hq_chat_record_free, error);
}

/* --- chat attachments --- */

static gpointer
read_chat_media (sqlite3_stmt *s)
{
  HqChatMediaRecord *m = g_new0 (HqChatMediaRecord, 1);

  m->sid = col_text (s, 0);
  m->room_sid = col_text (s, 1);
  m->identity = col_text (s, 2);
  m->filename = col_text (s, 3);
  m->content_type = col_text (s, 4);
  m->size = sqlite3_column_int64 (s, 5);
  m->file = col_text (s, 6);
  m->created = sqlite3_column_int64 (s, 7);
  return m;
}

gboolean
hq_store_add_chat_media (
    HqStore *store, const HqChatMediaRecord *m, GError **error)
{
  sqlite3_stmt *s = stmt (store,
      "INSERT INTO chat_media (sid, room_sid, identity, filename, "
      "content_type, size, file, created) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
      error);

  if (s == NULL)
    return FALSE;
  bind_text (s, 1, m->sid);
  bind_text (s, 2, m->room_sid);
  bind_text (s, 3, m->identity);
  bind_text (s, 4, m->filename);
  bind_text (s, 5, m->content_type);
  sqlite3_bind_int64 (s, 6, m->size);
  bind_text (s, 7, m->file);
  sqlite3_bind_int64 (s, 8, m->created);
  return run (store, s, error);
}

HqChatMediaRecord *
hq_store_get_chat_media (HqStore *store, const gchar *sid, GError **error)
{
  sqlite3_stmt *s = stmt (store,
      "SELECT sid, room_sid, identity, filename, content_type, size, file, "
      "created FROM chat_media WHERE sid = ?",
      error);

  if (s == NULL)
    return NULL;
  bind_text (s, 1, sid);
  return one (store, s, read_chat_media,
      (GDestroyNotify)hq_chat_media_record_free, "chat media", sid, error);
}

/* --- audit log --- */

static gpointer
read_event (sqlite3_stmt *s)
{
  HqEventRecord *e = g_new0 (HqEventRecord, 1);

  e->sequence = sqlite3_column_int64 (s, 0);
  e->room_sid = col_text (s, 1);
  e->event = col_text (s, 2);
  e->participant_sid = col_text (s, 3);
  e->identity = col_text (s, 4);
  e->track_sid = col_text (s, 5);
  e->actor_sid = col_text (s, 6);
  e->detail = col_text (s, 7);
  e->created = sqlite3_column_int64 (s, 8);
  return e;
}

gboolean
hq_store_add_event (HqStore *store, HqEventRecord *e, GError **error)
{
  sqlite3_stmt *s = stmt (store,
      "INSERT INTO events (room_sid, event, participant_sid, identity, "
      "track_sid, actor_sid, detail, created) VALUES (?,?,?,?,?,?,?,?)",
      error);

  if (s == NULL)
    return FALSE;
  bind_text (s, 1, e->room_sid);
  bind_text (s, 2, e->event);
  bind_text (s, 3, e->participant_sid);
  bind_text (s, 4, e->identity);
  bind_text (s, 5, e->track_sid);
  bind_text (s, 6, e->actor_sid);
  bind_text (s, 7, e->detail);
  sqlite3_bind_int64 (s, 8, e->created);
  if (!run (store, s, error))
    return FALSE;
  e->sequence = sqlite3_last_insert_rowid (store->db);
  return TRUE;
}

GPtrArray *
hq_store_list_events (HqStore *store, const gchar *room_sid, guint limit,
    guint offset, GError **error)
{
  sqlite3_stmt *s = stmt (store,
      "SELECT sequence, room_sid, event, participant_sid, identity, "
      "track_sid, actor_sid, detail, created FROM events WHERE room_sid = ? "
      "ORDER BY sequence LIMIT ? OFFSET ?",
      error);

  if (s == NULL)
    return NULL;
  bind_text (s, 1, room_sid);
  sqlite3_bind_int64 (s, 2, limit);
  sqlite3_bind_int64 (s, 3, offset);
  return collect (
      store, s, read_event, (GDestroyNotify)hq_event_record_free, error);
}

/* --- recordings --- */

#define RECORDING_COLUMNS                                                      \
  "sid, room_sid, participant_sid, track_sid, track_name, type, status, "      \
  "container, codec, file, session, offset_ms, duration, size, created, "      \
  "updated"

static gpointer
read_recording (sqlite3_stmt *s)
{
  HqRecordingRecord *r = g_new0 (HqRecordingRecord, 1);

  r->sid = col_text (s, 0);
  r->room_sid = col_text (s, 1);
  r->participant_sid = col_text (s, 2);
  r->track_sid = col_text (s, 3);
  r->track_name = col_text (s, 4);
  r->type = col_text (s, 5);
  r->status = col_text (s, 6);
  r->container = col_text (s, 7);
  r->codec = col_text (s, 8);
  r->file = col_text (s, 9);
  r->session = col_text (s, 10);
  r->offset = sqlite3_column_int64 (s, 11);
  r->duration = sqlite3_column_int64 (s, 12);
  r->size = sqlite3_column_int64 (s, 13);
  r->created = sqlite3_column_int64 (s, 14);
  r->updated = sqlite3_column_int64 (s, 15);
  return r;
}

gboolean
hq_store_put_recording (
    HqStore *store, const HqRecordingRecord *r, GError **error)
{
  sqlite3_stmt *s = stmt (store,
      "INSERT OR REPLACE INTO recordings (" RECORDING_COLUMNS ") VALUES "
      "(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
      error);

  if (s == NULL)
    return FALSE;
  bind_text (s, 1, r->sid);
  bind_text (s, 2, r->room_sid);
  bind_text (s, 3, r->participant_sid);
  bind_text (s, 4, r->track_sid);
  bind_text (s, 5, r->track_name);
  bind_text (s, 6, r->type);
  bind_text (s, 7, r->status);
  bind_text (s, 8, r->container);
  bind_text (s, 9, r->codec);
  bind_text (s, 10, r->file);
  bind_text (s, 11, r->session);
  sqlite3_bind_int64 (s, 12, r->offset);
  sqlite3_bind_int64 (s, 13, r->duration);
  sqlite3_bind_int64 (s, 14, r->size);
  sqlite3_bind_int64 (s, 15, r->created);
  sqlite3_bind_int64 (s, 16, r->updated);
  return run (store, s, error);
}

HqRecordingRecord *
hq_store_get_recording (HqStore *store, const gchar *sid, GError **error)
{
  sqlite3_stmt *s = stmt (store,
      "SELECT " RECORDING_COLUMNS " FROM recordings WHERE sid = ?", error);

  if (s == NULL)
    return NULL;
  bind_text (s, 1, sid);
  return one (store, s, read_recording,
      (GDestroyNotify)hq_recording_record_free, "recording", sid, error);
}

GPtrArray *
hq_store_list_recordings (HqStore *store, const gchar *room_sid,
    const gchar *status, guint limit, guint offset, GError **error)
{
  sqlite3_stmt *s = stmt (store,
      "SELECT " RECORDING_COLUMNS " FROM recordings "
      "WHERE (?1 IS NULL OR room_sid = ?1) AND (?2 IS NULL OR status = ?2) "
      "ORDER BY created, rowid LIMIT ?3 OFFSET ?4",
      error);

  if (s == NULL)
    return NULL;
  bind_text (s, 1, room_sid);
  bind_text (s, 2, status);
  sqlite3_bind_int64 (s, 3, limit);
  sqlite3_bind_int64 (s, 4, offset);
  return collect (store, s, read_recording,
      (GDestroyNotify)hq_recording_record_free, error);
}

GPtrArray *
hq_store_find_recordings (HqStore *store, const HqRecordingFilter *f,
    guint limit, guint offset, GError **error)
{
  g_autofree gchar *groups = NULL;
  sqlite3_stmt *s = stmt (store,
      "SELECT " RECORDING_COLUMNS " FROM recordings "
      "WHERE (?1 IS NULL OR room_sid = ?1) AND (?2 IS NULL OR status = ?2) "
      "AND (?3 IS NULL OR track_sid = ?3) AND (?4 IS NULL OR type = ?4) "
      "AND (?5 IS NULL OR NOT EXISTS (SELECT 1 FROM json_each (?5) "
      "WHERE value != room_sid AND value != IFNULL (participant_sid, ''))) "
      "AND (?6 = 0 OR created >= ?6) AND (?7 = 0 OR created < ?7) "
      "ORDER BY created, rowid LIMIT ?8 OFFSET ?9",
      error);

  if (s == NULL)
    return NULL;
  if (f->grouping_sids && f->grouping_sids[0]) {
    g_autoptr (JsonBuilder) b = json_builder_new ();
    g_autoptr (JsonNode) root = NULL;
    json_builder_begin_array (b);
    for (guint i = 0; f->grouping_sids[i]; i++)
      json_builder_add_string_value (b, f->grouping_sids[i]);
    json_builder_end_array (b);
    root = json_builder_get_root (b);
    groups = json_to_string (root, FALSE);
  }
  bind_text (s, 1, f->room_sid);
  bind_text (s, 2, f->status);
  bind_text (s, 3, f->source_sid);
  bind_text (s, 4, f->type);
  bind_text (s, 5, groups);
  sqlite3_bind_int64 (s, 6, f->created_after);
  sqlite3_bind_int64 (s, 7, f->created_before);
  sqlite3_bind_int64 (s, 8, limit);
  sqlite3_bind_int64 (s, 9, offset);
  return collect (store, s, read_recording,
      (GDestroyNotify)hq_recording_record_free, error);
}

/* --- compositions --- */

#define COMPOSITION_COLUMNS                                                    \
  "sid, room_sid, status, audio_sources, video_layout, resolution, format, "   \
  "status_callback, file, error, duration, size, created, updated"

static gpointer
read_composition (sqlite3_stmt *s)
{
  HqCompositionRecord *c = g_new0 (HqCompositionRecord, 1);

  c->sid = col_text (s, 0);
  c->room_sid = col_text (s, 1);
  c->status = col_text (s, 2);
  c->audio_sources = col_text (s, 3);
  c->video_layout = col_text (s, 4);
  c->resolution = col_text (s, 5);
  c->format = col_text (s, 6);
  c->status_callback = col_text (s, 7);
  c->file = col_text (s, 8);
  c->error = col_text (s, 9);
  c->duration = sqlite3_column_int64 (s, 10);
  c->size = sqlite3_column_int64 (s, 11);
  c->created = sqlite3_column_int64 (s, 12);
  c->updated = sqlite3_column_int64 (s, 13);
  return c;
}

gboolean
hq_store_put_composition (
    HqStore *store, const HqCompositionRecord *c, GError **error)
{
  sqlite3_stmt *s = stmt (store,
      "INSERT OR REPLACE INTO compositions (" COMPOSITION_COLUMNS ") VALUES "
      "(?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
      error);

  if (s == NULL)
    return FALSE;
  bind_text (s, 1, c->sid);
  bind_text (s, 2, c->room_sid);
  bind_text (s, 3, c->status);
  bind_text (s, 4, c->audio_sources);
  bind_text (s, 5, c->video_layout);
  bind_text (s, 6, c->resolution);
  bind_text (s, 7, c->format);
  bind_text (s, 8, c->status_callback);
  bind_text (s, 9, c->file);
  bind_text (s, 10, c->error);
  sqlite3_bind_int64 (s, 11, c->duration);
  sqlite3_bind_int64 (s, 12, c->size);
  sqlite3_bind_int64 (s, 13, c->created);
  sqlite3_bind_int64 (s, 14, c->updated);
  return run (store, s, error);
}

HqCompositionRecord *
hq_store_get_composition (HqStore *store, const gchar *sid, GError **error)
{
  sqlite3_stmt *s = stmt (store,
      "SELECT " COMPOSITION_COLUMNS " FROM compositions WHERE sid = ?", error);

  if (s == NULL)
    return NULL;
  bind_text (s, 1, sid);
  return one (store, s, read_composition,
      (GDestroyNotify)hq_composition_record_free, "composition", sid, error);
}

GPtrArray *
hq_store_find_compositions (HqStore *store, const HqCompositionFilter *f,
    guint limit, guint offset, GError **error)
{
  sqlite3_stmt *s = stmt (store,
      "SELECT " COMPOSITION_COLUMNS " FROM compositions "
      "WHERE (?1 IS NULL OR room_sid = ?1) AND (?2 IS NULL OR status = ?2) "
      "AND (?3 = 0 OR created >= ?3) AND (?4 = 0 OR created < ?4) "
      "ORDER BY created, rowid LIMIT ?5 OFFSET ?6",
      error);

  if (s == NULL)
    return NULL;
  bind_text (s, 1, f->room_sid);
  bind_text (s, 2, f->status);
  sqlite3_bind_int64 (s, 3, f->created_after);
  sqlite3_bind_int64 (s, 4, f->created_before);
  sqlite3_bind_int64 (s, 5, limit);
  sqlite3_bind_int64 (s, 6, offset);
  return collect (store, s, read_composition,
      (GDestroyNotify)hq_composition_record_free, error);
}

GPtrArray *
hq_store_list_compositions (HqStore *store, const gchar *room_sid,
    const gchar *status, guint limit, guint offset, GError **error)
{
  HqCompositionFilter f = { room_sid, status, 0, 0 };

  return hq_store_find_compositions (store, &f, limit, offset, error);
}

/* --- recording rules --- */

gboolean
hq_store_put_recording_rules (
    HqStore *store, const gchar *room_sid, const gchar *rules, GError **error)
{
  sqlite3_stmt *s = stmt (store,
      "INSERT OR REPLACE INTO recording_rules (room_sid, rules) VALUES (?,?)",
      error);

  if (s == NULL)
    return FALSE;
  bind_text (s, 1, room_sid);
  bind_text (s, 2, rules);
  return run (store, s, error);
}

static gpointer
read_rules (sqlite3_stmt *s)
{
  return col_text (s, 0);
}

gchar *
hq_store_get_recording_rules (
    HqStore *store, const gchar *room_sid, GError **error)
{
  sqlite3_stmt *s = stmt (
      store, "SELECT rules FROM recording_rules WHERE room_sid = ?", error);
  g_autoptr (GPtrArray) rows = NULL;

  if (s == NULL)
    return NULL;
  bind_text (s, 1, room_sid);
  rows = collect (store, s, read_rules, g_free, error);
  if (rows == NULL || rows->len == 0)
    return NULL;
  return g_ptr_array_steal_index (rows, 0);
}

/* --- bans --- */

gboolean
hq_store_put_ban (HqStore *store, const HqBanRecord *ban, GError **error)
{
  sqlite3_stmt *s = stmt (store,
      "INSERT OR REPLACE INTO bans (room_sid, identity, reason, "
      "participant_sid, actor_sid, created) VALUES (?,?,?,?,?,?)",
      error);

  if (s == NULL)
    return FALSE;
  bind_text (s, 1, ban->room_sid);
  bind_text (s, 2, ban->identity);
  bind_text (s, 3, ban->reason);
  bind_text (s, 4, ban->participant_sid);
  bind_text (s, 5, ban->actor_sid);
  sqlite3_bind_int64 (s, 6, ban->created);
  return run (store, s, error);
}

#define BAN_COLUMNS                                                            \
  "room_sid, identity, reason, participant_sid, actor_sid, created"

static gpointer
read_ban (sqlite3_stmt *s)
{
  HqBanRecord *b = g_new0 (HqBanRecord, 1);

  b->room_sid = col_text (s, 0);
  b->identity = col_text (s, 1);
  b->reason = col_text (s, 2);
  b->participant_sid = col_text (s, 3);
  b->actor_sid = col_text (s, 4);
  b->created = sqlite3_column_int64 (s, 5);
  return b;
}

HqBanRecord *
hq_store_get_ban (HqStore *store, const gchar *room_sid, const gchar *identity,
    GError **error)
{
  sqlite3_stmt *s = stmt (store,
      "SELECT " BAN_COLUMNS " FROM bans WHERE room_sid = ? AND identity = ?",
      error);

  if (s == NULL)
    return NULL;
  bind_text (s, 1, room_sid);
  bind_text (s, 2, identity);
  return one (store, s, read_ban, (GDestroyNotify)hq_ban_record_free,
      "ban of identity", identity, error);
}

GPtrArray *
hq_store_list_bans (HqStore *store, const gchar *room_sid, GError **error)
{
  sqlite3_stmt *s = stmt (store,
      "SELECT " BAN_COLUMNS " FROM bans WHERE room_sid = ? "
      "ORDER BY created, rowid",
      error);

  if (s == NULL)
    return NULL;
  bind_text (s, 1, room_sid);
  return collect (
      store, s, read_ban, (GDestroyNotify)hq_ban_record_free, error);
}

gboolean
hq_store_delete_ban (HqStore *store, const gchar *room_sid,
    const gchar *identity, GError **error)
{
  sqlite3_stmt *s = stmt (
      store, "DELETE FROM bans WHERE room_sid = ? AND identity = ?", error);

  if (s == NULL)
    return FALSE;
  bind_text (s, 1, room_sid);
  bind_text (s, 2, identity);
  if (!run (store, s, error))
    return FALSE;
  if (sqlite3_changes (store->db) == 0) {
    g_set_error (error, HQ_STORE_ERROR, HQ_STORE_ERROR_NOT_FOUND,
        "identity %s is not banned from room %s", identity, room_sid);
    return FALSE;
  }
  return TRUE;
}

/* --- invites --- */

gboolean
hq_store_put_invite (
    HqStore *store, const HqInviteRecord *invite, GError **error)
{
  sqlite3_stmt *s = stmt (store,
      "INSERT INTO invites (code_hash, visit, role, waiting_room, max_uses, "
      "uses, created, expires) VALUES (?,?,?,?,?,?,?,?)",
      error);

  if (s == NULL)
    return FALSE;
  bind_text (s, 1, invite->code_hash);
  bind_text (s, 2, invite->visit);
  bind_text (s, 3, invite->role);
  sqlite3_bind_int (s, 4, invite->waiting_room);
  sqlite3_bind_int (s, 5, invite->max_uses);
  sqlite3_bind_int (s, 6, invite->uses);
  sqlite3_bind_int64 (s, 7, invite->created);
  sqlite3_bind_int64 (s, 8, invite->expires);
  return run (store, s, error);
}

static gpointer
read_invite (sqlite3_stmt *s)
{
  HqInviteRecord *i = g_new0 (HqInviteRecord, 1);

  i->code_hash = col_text (s, 0);
  i->visit = col_text (s, 1);
  i->role = col_text (s, 2);
  i->waiting_room = sqlite3_column_int (s, 3);
  i->max_uses = sqlite3_column_int (s, 4);
  i->uses = sqlite3_column_int (s, 5);
  i->created = sqlite3_column_int64 (s, 6);
  i->expires = sqlite3_column_int64 (s, 7);
  return i;
}

HqInviteRecord *
hq_store_get_invite (HqStore *store, const gchar *code_hash, GError **error)
{
  sqlite3_stmt *s = stmt (store,
      "SELECT code_hash, visit, role, waiting_room, max_uses, uses, created, "
      "expires FROM invites WHERE code_hash = ?",
      error);

  if (s == NULL)
    return NULL;
  bind_text (s, 1, code_hash);
  return one (store, s, read_invite, (GDestroyNotify)hq_invite_record_free,
      "invite", "(code)", error);
}

gboolean
hq_store_use_invite (
    HqStore *store, const gchar *code_hash, gboolean *used, GError **error)
{
  sqlite3_stmt *s = stmt (store,
      "UPDATE invites SET uses = uses + 1 WHERE code_hash = ? "
      "AND (max_uses = 0 OR uses < max_uses)",
      error);

  if (s == NULL)
    return FALSE;
  bind_text (s, 1, code_hash);
  if (!run (store, s, error))
    return FALSE;
  *used = sqlite3_changes (store->db) == 1;
  return TRUE;
}

gboolean
hq_store_prune_invites (HqStore *store, gint64 before, GError **error)
{
  sqlite3_stmt *s =
      stmt (store, "DELETE FROM invites WHERE expires < ?", error);

  if (s == NULL)
    return FALSE;
  sqlite3_bind_int64 (s, 1, before);
  return run (store, s, error);
}
