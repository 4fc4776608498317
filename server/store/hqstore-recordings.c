/* The store's recordings, compositions and recording rules; see
 * hqstore.h and hqstore-sqlite.c. */
#include "hqstore-private.h"

#include <json-glib/json-glib.h>

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

/* --- rooms whose participants encrypt end to end (docs/e2ee.md) --- */

gboolean
hq_store_mark_e2ee (HqStore *store, const gchar *room_sid, GError **error)
{
  sqlite3_stmt *s = stmt (store,
      "INSERT OR IGNORE INTO e2ee_rooms (room_sid, created) VALUES (?,?)",
      error);

  if (s == NULL)
    return FALSE;
  bind_text (s, 1, room_sid);
  sqlite3_bind_int64 (s, 2, g_get_real_time () / 1000);
  return run (store, s, error);
}

gboolean
hq_store_is_e2ee (HqStore *store, const gchar *room_sid, GError **error)
{
  sqlite3_stmt *s =
      stmt (store, "SELECT room_sid FROM e2ee_rooms WHERE room_sid = ?", error);
  g_autoptr (GPtrArray) rows = NULL;

  if (s == NULL)
    return FALSE;
  bind_text (s, 1, room_sid);
  rows = collect (store, s, read_rules, g_free, error);
  return rows != NULL && rows->len > 0;
}
