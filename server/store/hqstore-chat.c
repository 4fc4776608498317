/* The store's chat messages and chat attachments; see hqstore.h and
 * hqstore-sqlite.c. */
#include "hqstore-private.h"

#include <json-glib/json-glib.h>

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
